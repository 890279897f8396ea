"""The demo practice (scale 0.2): every operations report renders with sensible numbers, and
the per-service reports reconcile with the ledger."""

from __future__ import annotations

import io
import json
import re
from datetime import date

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.services.actor import system_actor
from revcycle.services.demo import build_demo
from revcycle.services.demo_data import DEMO_PASSWORD
from revcycle.services.reports_ops import mix, productivity
from tests.integration.conftest import login

TODAY = date(2026, 3, 16)


def _revenue_on_services(db: Session, practice_id: int, since: date, until: date) -> int:
    """The ledger's own sum: revenue credits on charges with a date of service in the range."""
    total = db.scalar(
        select(-func.sum(m.Posting.amount_cents))
        .join(m.Charge, m.Charge.id == m.Posting.charge_id)
        .join(m.ServiceSession, m.ServiceSession.id == m.Charge.session_id)
        .where(
            m.Posting.practice_id == practice_id,
            m.Posting.account == "revenue",
            m.ServiceSession.service_on >= since,
            m.ServiceSession.service_on <= until,
        )
    )
    return int(total or 0)


def test_the_demo_renders_every_operations_report(db: Session, client: TestClient) -> None:
    summary = build_demo(db, seed=3, today=TODAY, scale=0.2)
    assert summary.practice_id is not None
    pid = summary.practice_id
    seeded = productivity.seed_demo_compensation(db, system_actor(), pid, TODAY)
    assert seeded["guides"] == 1
    assert seeded["clinicians_paid"] >= 5
    assert seeded["total_cents"] > seeded["clinicians_paid"] * 350_000  # base plus bonuses

    actor = system_actor()
    since = date(2026, 1, 1)
    payer_mix = mix.payer_mix(db, actor=actor, practice_id=pid, since=since, until=TODAY, today=TODAY)
    codes = mix.procedure_revenue(db, actor=actor, practice_id=pid, since=since, until=TODAY, today=TODAY)
    ledger_total = _revenue_on_services(db, pid, since, TODAY)
    assert payer_mix.charges_cents == codes.charges_cents == ledger_total > 0
    assert 0 < payer_mix.collections_cents == codes.paid_cents < payer_mix.charges_cents
    assert len(payer_mix.rows) >= 4
    assert sum(row.charge_share or 0 for row in payer_mix.rows) == pytest.approx(1.0)

    assert login(client, "billing@demo.test", DEMO_PASSWORD).status_code == 303
    week = client.get("/reports/weekly-reconciliation?week=2026-03-11")  # the last whole week
    assert week.status_code == 200
    assert int(re.search(r'data-sessions="(\d+)"', week.text).group(1)) > 0  # type: ignore[union-attr]
    scorecard = client.get("/api/reports/provider-productivity?since=2026-01&until=2026-02").json()
    assert len(scorecard["items"]) >= 10  # several clinicians, two months
    for item in scorecard["items"]:
        if item["sessions"] >= 3:
            assert 5_000 <= item["revenue_per_session_cents"] <= 40_000
            assert 0 < item["billable_hours"] <= item["sessions"] * 2
    for path in (
        "/reports/provider-productivity?since=2026-01&until=2026-02",
        "/reports/compensation?month=2026-02",
        f"/reports/payer-mix?since=2026-01-01&until={TODAY.isoformat()}",
        f"/reports/procedure-revenue?since=2026-01-01&until={TODAY.isoformat()}",
        "/reports/agent-performance",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        workbook = openpyxl.load_workbook(
            io.BytesIO(client.get(f"{path}{'&' if '?' in path else '?'}format=xlsx").content)
        )
        assert workbook.active is not None
        assert workbook.active.max_row > 5, path
        chart = re.search(r'id="report-chart-data">(.*?)</script>', page.text, re.S)
        if "compensation" not in path:
            assert chart is not None, path
            assert sum(json.loads(chart.group(1))["values"]) > 0, path
    agents = client.get("/api/reports/agent-performance").json()
    assert agents["portfolio_cents"] > 0
    assert len(agents["items"]) >= 3
    pay = client.get("/api/reports/compensation?month=2026-02").json()
    assert pay["parameters"]["base_cents"] == 350_000
    assert all(item["total_cents"] >= 350_000 for item in pay["items"])
