"""The payer scorecard worked out by hand on the shared history: page = API = downloads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from revcycle.services.reports import DateRange
from revcycle.services.reports.scorecard import payer_scorecard, radar
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.conftest import login
from tests.integration.reports.world import History, csv_rows, pdf_text, row_starting, xlsx_rows


def _card(db: Session, h: History, days: int = 365):  # type: ignore[no-untyped-def]
    period = DateRange(h.today - timedelta(days=days - 1), h.today)
    return payer_scorecard(
        db, actor=f.actor_for(db, h.billing), practice_id=h.practice.id, period=period, today=h.today
    )


def test_each_payers_figures(db: Session, history: History) -> None:
    card = _card(db, history)
    aster, birch = card.payers
    assert (aster.payer_name, aster.claims, aster.billed_cents, aster.paid_cents) == (
        "Aster Health",
        2,
        30000,
        12000,
    )
    assert aster.average_days_to_pay == 20.0  # sent T-40, paid T-20
    assert (aster.denied_claims, aster.decided_claims, aster.denial_rate) == (0, 1, 0.0)
    assert aster.collection_rate == pytest.approx(0.4)
    assert (aster.underpaid_claims, aster.paid_claims, aster.underpayment_rate) == (1, 1, 1.0)
    # Birch: c3 denied; c4 was never submitted, so it is not in the scorecard.
    assert (birch.claims, birch.billed_cents, birch.paid_cents, birch.average_days_to_pay) == (
        1,
        15000,
        0,
        None,
    )
    assert (birch.denial_rate, birch.collection_rate, birch.underpayment_rate) == (1.0, 0.0, None)
    total = card.total
    assert (total.claims, total.billed_cents, total.paid_cents, total.denial_rate) == (3, 45000, 12000, 0.5)


def test_the_range_is_by_first_submission(db: Session, history: History) -> None:
    card = _card(db, history, days=30)  # only c1 (sent T-9)
    assert [(p.payer_name, p.claims, p.billed_cents) for p in card.payers] == [("Aster Health", 1, 10000)]


def test_radar_axes_are_normalised(db: Session, history: History) -> None:
    chart = radar(_card(db, history))
    assert chart["labels"] == ["Collection rate", "Clean of denials", "Paid in full", "Speed", "Volume"]
    aster, birch = chart["datasets"]
    assert aster["data"] == [0.4, 1.0, 0.0, 1.0, 1.0]
    assert birch["data"] == [0.0, 0.0, 0.0, 0.0, 0.5]


def test_page_api_and_downloads_agree(client: TestClient, history: History) -> None:
    assert login(client, history.billing.email).status_code == 303
    page = client.get("/reports/payer-scorecard")
    assert page.status_code == 200, page.text
    assert "Aster Health" in page.text
    assert 'data-testid="scorecard-chart"' in page.text
    assert "$450.00" in page.text
    api = client.get("/api/reports/payer-scorecard", headers=bearer(client, history.billing.email))
    assert api.status_code == 200, api.text
    body = api.json()
    assert [(p["payer_name"], p["claims"], p["paid_cents"]) for p in body["payers"]] == [
        ("Aster Health", 2, 12000),
        ("Birch Mutual", 1, 0),
    ]
    assert body["total"]["denial_rate"] == 0.5
    rows = csv_rows(client.get("/reports/payer-scorecard", params={"format": "csv"}).content)
    assert row_starting(rows, "Aster Health")[1:5] == ["2", "300.00", "120.00", "20.0"]
    assert row_starting(rows, "All payers")[2] == "450.00"
    sheet = xlsx_rows(client.get("/reports/payer-scorecard", params={"format": "xlsx"}).content)
    assert row_starting(sheet, "Birch Mutual")[1:4] == [1, 150, 0]
    assert "$450.00" in pdf_text(client.get("/reports/payer-scorecard", params={"format": "pdf"}).content)


def test_bad_dates_and_therapists_are_refused(client: TestClient, history: History) -> None:
    assert login(client, history.billing.email).status_code == 303
    bad = client.get("/reports/payer-scorecard", params={"from": "2026-13-01"})
    assert bad.status_code == 422
    assert "from" in bad.text
    backwards = client.get("/reports/payer-scorecard", params={"from": "2026-05-01", "to": "2026-04-01"})
    assert backwards.status_code == 422
    assert client.get("/reports/payer-scorecard", params={"format": "txt"}).status_code == 422
    client.cookies.clear()
    assert login(client, history.therapist.email).status_code == 303
    assert client.get("/reports/payer-scorecard").status_code == 403
    token = bearer(client, history.therapist.email)
    assert client.get("/api/reports/payer-scorecard", headers=token).status_code == 403
