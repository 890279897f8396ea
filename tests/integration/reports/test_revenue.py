"""Revenue recognition by month: figures by hand, totals equal the ledger's postings."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger import Account
from revcycle.services.reports import DateRange, month_range
from revcycle.services.reports.revenue import revenue_recognition
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.conftest import login
from tests.integration.reports.world import History, csv_rows, pdf_text, row_starting, xlsx_rows


def _report(db: Session, h: History, period: DateRange | None = None):  # type: ignore[no-untyped-def]
    period = period or month_range("", "", today=h.today)
    actor = f.actor_for(db, h.billing)
    return revenue_recognition(db, actor=actor, practice_id=h.practice.id, period=period, today=h.today)


def _ledger_sum(db: Session, h: History, account: Account, period: DateRange, *, payments: bool) -> int:
    query = select(func.coalesce(func.sum(m.Posting.amount_cents), 0)).where(
        m.Posting.practice_id == h.practice.id,
        m.Posting.account == account.value,
        m.Posting.accounting_on.between(period.from_on, period.to_on),
    )
    if payments:
        query = query.where(m.Posting.payment_id.is_not(None))
    return int(db.scalar(query) or 0)


def _month(day: date) -> date:
    return day.replace(day=1)


def test_months_and_totals_equal_the_ledger(db: Session, history: History) -> None:
    report = _report(db, history)
    assert len(report.months) == 12
    assert report.months[-1].month == _month(history.today)
    total = report.total
    assert total.sessions_completed == 4
    # c4 came over from another system as an opening balance: A/R, never this practice's revenue.
    assert total.billed_by_service_cents == total.billed_posted_cents == 45000
    assert (total.paid_insurance_cents, total.paid_patient_cents) == (12000, 1000)  # the $5 was reversed
    period = report.period
    assert total.billed_posted_cents == -_ledger_sum(db, history, Account.REVENUE, period, payments=False)
    assert total.paid_cents == _ledger_sum(db, history, Account.CASH, period, payments=True)
    by_month = {x.month: x for x in report.months}
    paid_month = by_month[_month(history.today - timedelta(days=20))]
    assert paid_month.paid_insurance_cents == 12000
    dos_c3 = by_month[_month(history.today - timedelta(days=100))]
    assert dos_c3.billed_by_service_cents >= 15000
    assert dos_c3.sessions_completed >= 1


def test_a_range_cuts_by_date_of_service_and_by_posting(db: Session, history: History) -> None:
    first = _month(history.today)
    report = _report(db, history, DateRange(first, history.today))
    in_month = sum(
        fee
        for days, fee in ((10, 10000), (45, 20000), (100, 15000))
        if history.today - timedelta(days=days) >= first
    )
    assert report.total.billed_by_service_cents == in_month


def test_page_api_and_downloads_agree(client: TestClient, history: History) -> None:
    assert login(client, history.billing.email).status_code == 303
    page = client.get("/reports/revenue-recognition")
    assert page.status_code == 200, page.text
    assert 'data-testid="revenue-chart"' in page.text
    assert "$450.00" in page.text
    api = client.get("/api/reports/revenue-recognition", headers=bearer(client, history.billing.email))
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["total"]["billed_by_service_cents"] == 45000
    assert body["total"]["paid_cents"] == 13000
    assert len(body["months"]) == 12
    rows = csv_rows(client.get("/reports/revenue-recognition", params={"format": "csv"}).content)
    assert row_starting(rows, "Total") == ["Total", "4", "450.00", "450.00", "120.00", "10.00", "130.00"]
    sheet = xlsx_rows(client.get("/reports/revenue-recognition", params={"format": "xlsx"}).content)
    assert row_starting(sheet, "Total")[1:3] == [4, 450]
    assert "$130.00" in pdf_text(client.get("/reports/revenue-recognition", params={"format": "pdf"}).content)


def test_bad_months_and_therapists_are_refused(client: TestClient, history: History) -> None:
    assert login(client, history.billing.email).status_code == 303
    bad = client.get("/reports/revenue-recognition", params={"to": "March"})
    assert bad.status_code == 422
    assert "to:" in bad.text
    api = client.get(
        "/api/reports/revenue-recognition",
        params={"from": "2020-01", "to": "2026-01"},
        headers=bearer(client, history.billing.email),
    )
    assert api.status_code == 422
    assert "three years" in api.json()["detail"]
    client.cookies.clear()
    assert login(client, history.therapist.email).status_code == 303
    assert client.get("/reports/revenue-recognition").status_code == 403
