"""The operations reports' pages and API on the hand-built history: filters, totals, charts,
downloads read back (csv, openpyxl, pypdf), the API agreeing with the page, bad input answered
with a message, therapists refused, and the compensation guide edited by administrators only."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from tests.integration.conftest import csrf_from, login
from tests.integration.reports_ops.world import History

PAGES = {
    "/reports/weekly-reconciliation?week=2026-03-18": "/api/reports/weekly-reconciliation?week=2026-03-18",
    "/reports/provider-productivity?since=2026-02&until=2026-03": (
        "/api/reports/provider-productivity?since=2026-02&until=2026-03"
    ),
    "/reports/compensation?month=2026-03": "/api/reports/compensation?month=2026-03",
    "/reports/payer-mix?since=2026-02-01&until=2026-03-20": (
        "/api/reports/payer-mix?since=2026-02-01&until=2026-03-20"
    ),
    "/reports/procedure-revenue?since=2026-02-01&until=2026-03-20": (
        "/api/reports/procedure-revenue?since=2026-02-01&until=2026-03-20"
    ),
    "/reports/agent-performance": "/api/reports/agent-performance",
}
CHARTED = [path for path in PAGES if "compensation" not in path]


def _csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


def _chart(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="report-chart-data">(.*?)</script>', html, re.S)
    assert found, "no chart data on the page"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


@pytest.fixture
def billing(client: TestClient, history: History) -> TestClient:
    assert login(client, history.billing.email).status_code == 303
    return client


@pytest.mark.parametrize("path", list(PAGES))
def test_every_report_renders_with_its_table_and_downloads(billing: TestClient, path: str) -> None:
    page = billing.get(path)
    assert page.status_code == 200, page.text
    assert 'data-testid="report-totals"' in page.text
    assert 'data-testid="report-downloads"' in page.text
    if path in CHARTED:
        assert 'data-testid="report-chart"' in page.text
        assert _chart(page.text)["values"]
    joiner = "&" if "?" in path else "?"
    rows = _csv(billing.get(f"{path}{joiner}format=csv").content)
    assert rows
    book = openpyxl.load_workbook(io.BytesIO(billing.get(f"{path}{joiner}format=xlsx").content))
    assert book.active is not None
    assert book.active.max_row >= len(rows)
    pdf = PdfReader(io.BytesIO(billing.get(f"{path}{joiner}format=pdf").content))
    assert (
        "Total" in "".join(p.extract_text() for p in pdf.pages) or "sessions" in pdf.pages[0].extract_text()
    )


def test_payer_mix_page_csv_and_api_agree(billing: TestClient) -> None:
    path = "/reports/payer-mix?since=2026-02-01&until=2026-03-20"
    page = billing.get(path)
    assert "Alpha Health" in page.text
    assert "$520.00" in page.text
    assert "$940.00" in page.text  # the total
    chart = _chart(page.text)
    assert chart["type"] == "doughnut"
    assert dict(zip(chart["labels"], chart["values"], strict=True))["Alpha Health"] == 520.0
    rows = {row["Payer"]: row for row in _csv(billing.get(path + "&format=csv").content)}
    assert (rows["Alpha Health"]["Charges"], rows["Alpha Health"]["Collections"]) == ("520.00", "200.00")
    assert rows["Total"]["Sessions"] == "8"
    api = billing.get(PAGES[path]).json()
    by_name = {item["payer_name"]: item for item in api["items"]}
    for name, row in rows.items():
        if name == "Total":
            continue
        assert f"{by_name[name]['charges_cents'] / 100:.2f}" == row["Charges"]
        assert str(by_name[name]["sessions"]) == row["Sessions"]
    assert (api["charges_cents"], api["collections_cents"]) == (94000, 42000)
    workbook = openpyxl.load_workbook(io.BytesIO(billing.get(path + "&format=xlsx").content))
    sheet = workbook.active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    alpha = next(v for v in values if v[0] == "Alpha Health")
    assert alpha[:4] == ["Alpha Health", 4, 0.5, 520.0]
    text = PdfReader(io.BytesIO(billing.get(path + "&format=pdf").content)).pages[0].extract_text()
    assert "Payer mix" in text
    assert "$520.00" in text


def test_weekly_page_and_api_agree(billing: TestClient, history: History, db: Session) -> None:
    page = billing.get("/reports/weekly-reconciliation?week=2026-03-18")
    assert 'data-sessions="4"' in page.text
    assert 'data-needing-action="2"' in page.text
    assert "Lock the note" in page.text
    assert f"/claims/{history.claims['s6'].id}" in page.text
    assert "?week=2026-03-09" in page.text  # the previous week
    api = billing.get("/api/reports/weekly-reconciliation?week=2026-03-22").json()  # a Sunday: same week
    assert [item["session_id"] for item in api["items"]] == [
        history.sessions[name].id for name in ("s6", "s7", "s8", "s9")
    ]
    assert {k: v for k, v in api["stage_counts"].items() if v} == {
        "submitted": 1,
        "not_billable": 2,
        "completed": 1,
    }
    assert api["needing_action"] == 2
    reads = db.scalars(select(m.AuditLog).where(m.AuditLog.entity == "weekly_reconciliation")).all()
    assert len(reads) == 2  # the page and the API each audited the clients they showed


def test_productivity_and_compensation_api_equal_their_csv(billing: TestClient, history: History) -> None:
    path = "/reports/provider-productivity?since=2026-02&until=2026-03"
    rows = _csv(billing.get(path + "&format=csv").content)
    api = billing.get(PAGES[path]).json()
    assert len(rows) == len(api["items"]) + 1  # and the totals
    for row, item in zip(rows, api["items"], strict=False):
        assert (row["Clinician"], row["Month"], row["Sessions"]) == (
            item["provider_name"],
            item["month"],
            str(item["sessions"]),
        )
        assert row["Charges"] == f"{item['charges_cents'] / 100:.2f}"
    assert rows[-1]["Sessions"] == "8"
    one = billing.get(
        f"/api/reports/provider-productivity?since=2026-03&until=2026-03&provider_id={history.p1.id}"
    )
    assert [(i["sessions"], i["retained_clients"], i["last_month_clients"]) for i in one.json()["items"]] == [
        (3, 1, 2)
    ]
    comp = billing.get("/api/reports/compensation?month=2026-03").json()
    assert "revenue share" in comp["formula"]
    comp_rows = _csv(billing.get("/reports/compensation?month=2026-03&format=csv").content)
    assert [r["Total"] for r in comp_rows[:-1]] == [f"{i['total_cents'] / 100:.2f}" for i in comp["items"]]


def test_agent_performance_page_and_api(billing: TestClient) -> None:
    page = billing.get("/reports/agent-performance")
    chart = _chart(page.text)
    assert chart["type"] == "doughnut"
    assert dict(zip(chart["labels"], chart["values"], strict=True)) == {
        "Agent Avery": 220.0,
        "Agent Blake": 150.0,
    }
    api = billing.get("/api/reports/agent-performance").json()
    assert [(i["name"], i["portfolio_cents"], i["claims"]) for i in api["items"]] == [
        ("Agent Avery", 22000, 2),
        ("Agent Blake", 15000, 1),
    ]
    assert api["portfolio_cents"] == 37000


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/reports/payer-mix?since=2026-02-30", "since"),
        ("/reports/payer-mix?since=2026-03-20&until=2026-03-01", "since"),
        ("/reports/procedure-revenue?until=soon", "until"),
        ("/reports/provider-productivity?since=2026-13", "since"),
        ("/reports/provider-productivity?provider_id=abc", "provider_id"),
        ("/reports/weekly-reconciliation?week=yesterday", "week"),
        ("/reports/compensation?month=2026-3-1", "month"),
        ("/reports/agent-performance?format=docx", "format"),
    ],
)
def test_bad_filters_answer_a_message_not_a_500(billing: TestClient, path: str, field: str) -> None:
    answer = billing.get(path)
    assert answer.status_code == 422
    assert f"{field}:" in answer.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/reports/payer-mix?since=2026-02-30",
        "/api/reports/procedure-revenue?since=2026-03-20&until=2026-03-01",
        "/api/reports/provider-productivity?since=2026-13",
        "/api/reports/weekly-reconciliation?week=nope",
        "/api/reports/compensation?month=march",
        "/api/reports/agent-performance?format=doc",
    ],
)
def test_bad_api_input_answers_422_with_a_detail(billing: TestClient, path: str) -> None:
    answer = billing.get(path)
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid"


@pytest.mark.parametrize("path", [*PAGES, *PAGES.values()])
def test_therapists_are_refused(client: TestClient, history: History, path: str) -> None:
    assert login(client, history.therapist.email).status_code == 303
    assert client.get(path).status_code == 403


def _guide(**changes: str) -> dict[str, str]:
    return {
        "base_cents": "1,000.00",
        "per_session_cents": "10.00",
        "quality_bonus_cents": "200.00",
        "quality_bar_percent": "90",
        "on_time_days": "3",
        "efficiency_target_sessions": "2",
        "efficiency_per_session_cents": "5.00",
        "revenue_share_percent": "10",
        "revenue_threshold_cents": "200.00",
        "reason": "the 2026 guide",
        **changes,
    }


def test_the_guide_is_edited_on_the_calculator_page_by_administrators(
    client: TestClient, history: History, db: Session
) -> None:
    assert login(client, history.billing.email).status_code == 303
    page = client.get("/reports/compensation?month=2026-03")
    assert 'data-testid="compensation-settings"' not in page.text  # billing reads, never edits
    assert 'data-testid="compensation-formula"' in page.text
    refused = client.post(
        "/reports/compensation/settings", data={**_guide(), "csrf_token": csrf_from(page.text)}
    )
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})

    assert login(client, history.admin.email).status_code == 303
    page = client.get("/reports/compensation?month=2026-03")
    assert 'data-testid="compensation-settings"' in page.text
    token = csrf_from(page.text)
    bad = client.post(
        "/reports/compensation/settings",
        data={**_guide(quality_bar_percent="120", base_cents="12.345"), "csrf_token": token},
    )
    assert bad.status_code == 422
    assert "must be a percent between 0 and 100" in bad.text
    assert "fraction of a cent" in bad.text
    assert 'value="120"' in bad.text  # what was typed is kept
    assert (db.get(m.Practice, history.practice.id) or history.practice).settings.get("compensation") is None
    assert 'name="month" value="2026-03"' in page.text  # the form comes back to the month shown
    saved = client.post(
        "/reports/compensation/settings", data={**_guide(), "month": "2026-03", "csrf_token": token}
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/reports/compensation?month=2026-03&saved=1"
    shown = client.get(saved.headers["location"])
    assert "The compensation guide was saved." in shown.text
    assert "$1,040.00" in shown.text  # Ada: 1,000 + 30 + 0 + 5 + 5
    assert "$1,227.00" in shown.text  # Ben: 1,000 + 20 + 200 + 0 + 7
    audit_row = db.scalars(select(m.AuditLog).where(m.AuditLog.entity == "compensation_guide")).one()
    assert audit_row.reason == "the 2026 guide"


def test_the_reports_index_links_every_operations_report(billing: TestClient) -> None:
    index = billing.get("/reports")
    assert index.status_code == 200
    for path in PAGES:
        assert f'href="{path.split("?")[0]}"' in index.text
