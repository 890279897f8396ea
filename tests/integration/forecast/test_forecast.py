"""The forecast, its backtest, the at-risk portfolio and the gap value on histories small
enough to work out by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from revcycle.domain.permissions import Role
from revcycle.errors import PermissionDenied
from revcycle.services import forecast as fs
from tests import factories as f
from tests.integration.forecast.history import Book, new_book

T = date(2026, 3, 31)  # the backtest's past date: its window is April 1..30


def _before(book: Book) -> dict[str, object]:
    """What was known on T: two payers' claims, one paid within a snapshot's 30 days."""
    h1 = book.claim("Acme Health", date(2026, 1, 20), 10_000)
    book.insurance_pays(h1, 10_000, date(2026, 2, 10))
    c1 = book.claim("Acme Health", date(2026, 3, 10), 10_000)
    c2 = book.claim("Beacon Care", date(2026, 2, 1), 8_000)
    return {"c1": c1, "c2": c2}


def _after(book: Book, known: dict[str, object]) -> None:
    """What happened after T: payments in and out of its 30 days, and a claim billed later."""
    c1, c2 = known["c1"], known["c2"]
    book.insurance_pays(c1, 6_000, date(2026, 4, 15))  # type: ignore[arg-type]
    book.to_patient(c1, 2_000, date(2026, 4, 15))  # type: ignore[arg-type]
    book.patient_pays(c1, 2_000, date(2026, 4, 20))  # type: ignore[arg-type]  # owed after T
    book.insurance_pays(c2, 3_000, date(2026, 5, 5))  # type: ignore[arg-type]  # after the window
    c3 = book.claim("Acme Health", date(2026, 4, 5), 5_000)
    book.insurance_pays(c3, 4_000, date(2026, 4, 25))  # billed after T


def test_a_forecast_as_of_a_past_date_reads_nothing_after_it(db: Session) -> None:
    book = new_book(db)
    known = _before(book)
    actor = f.actor_for(db, book.admin)
    then = fs.forecast(db, actor, book.practice.id, T, draws=300)
    _after(book, known)
    again = fs.forecast(db, actor, book.practice.id, T, draws=300)
    assert again == then
    assert then.total.open_balance_cents == 18_000  # c1 and c2, nothing of c3
    rows = {row.name: row for row in then.rows}
    assert rows["Acme Health"].open_by_bucket == (10_000, 0, 0, 0, 0, 0)
    assert rows["Beacon Care"].open_by_bucket == (0, 8_000, 0, 0, 0, 0)  # 58 days old on T
    # Learned: h1 was open (10 days old) on Jan 30 and paid within its 30 days; c2 was open
    # (28 days old) on March 1 and did not pay by March 31.
    acme, beacon = rows["Acme Health"].rates[0], rows["Beacon Care"].rates[0]
    assert (acme.observed, acme.paid, acme.paid_share) == (1, 1, 1.0)
    assert (beacon.observed, beacon.paid) == (1, 0)
    assert acme.probability > beacon.probability
    assert rows["Acme Health"].days_to_pay is not None
    assert rows["Acme Health"].days_to_pay.median_days == 21  # Jan 20 -> Feb 10
    assert then.through == date(2026, 4, 30)


def test_the_backtest_actual_is_the_ledgers_collections_in_the_30_days(db: Session) -> None:
    book = new_book(db)
    _after(book, _before(book))
    actor = f.actor_for(db, book.admin)
    report = fs.backtest(db, actor, book.practice.id, [T], draws=300)
    [row] = report.rows
    # On the balances open on T: Acme's $60 on c1 in April; the patient's $20 was not owed on
    # T, Beacon's $30 came May 5, c3 was billed after T.
    assert row.point.actual_cents == 6_000
    assert row.all_collections_cents == 6_000 + 2_000 + 4_000
    assert report.summary.points == (row.point,)
    assert report.summary.mean_absolute_error_cents == abs(row.point.predicted.median_cents - 6_000)


def test_at_risk_and_gap_value_worked_by_hand(db: Session) -> None:
    book = new_book(db)
    today = date(2026, 6, 30)  # at risk: service before Jan 1; rates: service Jun 30 2025 .. May 1 2026
    a1 = book.claim("Acme Health", date(2025, 12, 1), 15_000)
    book.insurance_pays(a1, 5_000, date(2026, 1, 10))
    a2 = book.claim("Acme Health", date(2026, 4, 1), 10_000)
    book.insurance_pays(a2, 8_000, date(2026, 5, 1), contractual_cents=2_000)
    b1 = book.claim("Beacon Care", date(2025, 11, 15), 20_000)
    book.to_patient(b1, 3_000, date(2025, 12, 20))
    book.insurance_pays(b1, 7_000, date(2025, 12, 20))
    book.claim("Beacon Care", date(2026, 6, 20), 9_000)
    actor = f.actor_for(db, book.admin)

    risk = fs.at_risk(db, actor, book.practice.id, today)
    assert (risk.total_cents, risk.claims, risk.ar_total_cents) == (23_000, 2, 32_000)
    assert {(r.name, r.claims, r.balance_cents) for r in risk.rows} == {
        ("Acme Health", 1, 10_000),
        ("Beacon Care", 1, 13_000),  # the patient's $30 of it too
    }
    assert risk.share == pytest.approx(23_000 / 32_000)

    gap = fs.collection_gap(db, actor, book.practice.id, today)
    rows = {r.name: r for r in gap.rows}
    acme, beacon = rows["Acme Health"], rows["Beacon Care"]
    assert (acme.charges_cents, acme.contractual_cents, acme.collected_cents) == (25_000, 2_000, 13_000)
    assert (beacon.charges_cents, beacon.contractual_cents, beacon.collected_cents) == (20_000, 0, 7_000)
    assert gap.best is not None
    assert gap.best.name == "Acme Health"
    assert beacon.open_balance_cents == 19_000
    # 19,000 x (13,000/23,000 - 7,000/20,000) = 4,089.13 cents
    assert beacon.gap_value_cents == 4_089
    assert acme.gap_value_cents == 0
    assert gap.total_gap_cents == 4_089


def test_a_therapist_may_not_run_the_forecast(db: Session) -> None:
    book = new_book(db)
    therapist = f.make_user(db, book.practice, Role.THERAPIST)
    with pytest.raises(PermissionDenied):
        fs.forecast(db, f.actor_for(db, therapist), book.practice.id, T, draws=10)
