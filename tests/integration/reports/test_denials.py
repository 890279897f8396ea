"""Denial analysis by hand: reasons with our words, by payer and clinician, by month, the
overturn rate from the appeals service; page = API = downloads."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from revcycle.services.reports import month_range
from revcycle.services.reports.denials import denial_analysis
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.conftest import login
from tests.integration.reports.world import History, csv_rows, pdf_text, row_starting, xlsx_rows


def _report(db: Session, h: History):  # type: ignore[no-untyped-def]
    period = month_range("", "", today=h.today)
    actor = f.actor_for(db, h.billing)
    return denial_analysis(db, actor=actor, practice_id=h.practice.id, period=period, today=h.today)


def test_reasons_payers_clinicians_months_and_overturns(db: Session, history: History) -> None:
    report = _report(db, history)
    assert [(r.code, r.category, r.denials, r.claims, r.amount_cents) for r in report.reasons] == [
        ("CO-16", "Missing information", 1, 1, 5000),
        ("CO-197", "Authorization", 1, 1, 15000),
    ]
    assert "authoriz" in report.reasons[1].explanation.lower()
    assert (report.total.denials, report.total.claims, report.total.amount_cents) == (2, 1, 20000)
    assert [(c.label, c.denials, c.claims) for c in report.by_payer] == [("Birch Mutual", 2, 1)]
    assert [(c.key, c.denials) for c in report.by_clinician] == [(str(history.p1.id), 2)]
    month = (history.today - timedelta(days=60)).replace(day=1)
    counted = {c.key: (c.denials, c.amount_cents) for c in report.by_month if c.denials}
    assert counted == {month.isoformat(): (2, 20000)}
    assert len(report.by_month) == 12
    assert (report.overturn.won, report.overturn.lost, report.overturn_rate) == (1, 1, 0.5)


def test_page_api_and_downloads_agree(client: TestClient, history: History) -> None:
    assert login(client, history.billing.email).status_code == 303
    page = client.get("/reports/denials")
    assert page.status_code == 200, page.text
    assert 'data-testid="denials-chart"' in page.text
    assert 'data-testid="overturn-rate">50.0%<' in page.text
    assert 'data-testid="denials-amount">$200.00<' in page.text
    api = client.get("/api/reports/denials", headers=bearer(client, history.billing.email))
    assert api.status_code == 200, api.text
    body = api.json()
    assert [r["code"] for r in body["reasons"]] == ["CO-16", "CO-197"]
    assert body["total"] == {
        "key": "",
        "label": "All denials",
        "denials": 2,
        "claims": 1,
        "amount_cents": 20000,
    }
    assert body["overturn"]["overturn_rate"] == 0.5
    rows = csv_rows(client.get("/reports/denials", params={"format": "csv"}).content)
    assert row_starting(rows, "CO-197")[3:] == ["1", "1", "150.00"]
    assert row_starting(rows, "Total")[3:] == ["2", "1", "200.00"]
    sheet = xlsx_rows(client.get("/reports/denials", params={"format": "xlsx"}).content)
    assert row_starting(sheet, "Total")[3:6] == [2, 1, 200]
    text = pdf_text(client.get("/reports/denials", params={"format": "pdf"}).content)
    assert "$200.00" in text
    assert "Overturn rate: 50.0%" in text


def test_bad_input_and_therapists_are_refused(client: TestClient, history: History) -> None:
    assert login(client, history.billing.email).status_code == 303
    assert client.get("/reports/denials", params={"from": "xx"}).status_code == 422
    assert client.get("/reports/denials", params={"format": "doc"}).status_code == 422
    client.cookies.clear()
    assert login(client, history.therapist.email).status_code == 303
    assert client.get("/reports/denials").status_code == 403
    assert (
        client.get("/api/reports/denials", headers=bearer(client, history.therapist.email)).status_code == 403
    )
