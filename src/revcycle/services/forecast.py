"""The 30-day collections forecast, its backtest, the at-risk portfolio and the value of
closing the collection-rate gap to the best payer.

Figures and their date basis (all money from the ledger's postings, integer cents):

* **Open balance** of a claim as of a date: its ``ar:insurance`` + ``ar:patient`` postings
  dated (``accounting_on``) on or before that date, per debtor: the payer on an
  ``ar:insurance`` line, the patients (debtor 0) on ``ar:patient``. Only positive balances
  are open; credit balances are left out.
* **Collections** in a window: ``cash`` postings carrying a payment id, by ``accounting_on``
  (a reversed payment counts through its reversing postings), credited to the payer for an
  insurance payment and to the patients for a patient payment.
* **Forecast** as of date T (domain/forecast.py explains the method): learned from six
  snapshots T-30, T-60, ... T-180, each followed for its 30 days (all of it dated on or before
  T: nothing after T is read), applied to the balances open at T, by age since the date of
  service. **Backtest**: the forecast at T against the collections dated T+1..T+30 on the
  balances open at T; the page also shows all collections of that window (claims billed
  later and unapplied money included) for context.
* **Days to pay**: date of service to the first insurance payment on the claim, for claims
  with service in the 365 days before T, per the claim's payer.
* **At-risk portfolio**: the open balance now (the claim balance rows) of claims whose date of
  service is more than 180 days before today, per the claim's payer.
* **Collection rate** of a payer: collections / (charges - contractual adjustments) on its
  claims with service 60 to 365 days before today (old enough to have settled). The **gap
  value** of a payer: its insurance balance now x (best payer's rate - its rate), when
  positive; the best payer is the highest rate among payers with at least
  ``BEST_PAYER_MIN_CLAIMS`` claims in the window.

Every query groups in SQL (per debtor, age bucket or payer), never loops over claims in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, case, cast, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

from revcycle.db import models as m
from revcycle.domain import forecast as fc
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.permissions import Permission
from revcycle.services import queries
from revcycle.services.actor import Actor
from revcycle.services.scoping import practice_scopes

__all__ = [
    "AT_RISK_DAYS",
    "BEST_PAYER_MIN_CLAIMS",
    "AtRisk",
    "BacktestReport",
    "ForecastReport",
    "GapReport",
    "at_risk",
    "backtest",
    "collection_gap",
    "default_backtest_dates",
    "forecast",
]

AT_RISK_DAYS = 180
BEST_PAYER_MIN_CLAIMS = 20
RATE_WINDOW_DAYS = (60, 365)  # claims with service this many days before today
DAYS_TO_PAY_WINDOW_DAYS = 365
AR_ACCOUNTS = (Account.AR_INSURANCE.value, Account.AR_PATIENT.value)
PATIENTS_NAME = "Patients"

P = m.Posting


def _require(actor: Actor, practice_id: int) -> None:
    practice_scopes(actor, Permission.RUN_REPORTS, practice_id)


# --- the ledger, as of a date ------------------------------------------------------------------


def _open_pairs(practice_id: int, as_of: date) -> Subquery:
    """(claim, debtor, balance) open on ``as_of``: AR postings dated up to it, positive sums."""
    rows = (
        select(
            P.claim_id.label("claim_id"),
            func.coalesce(P.payer_id, literal_column("0")).label("debtor"),
            P.amount_cents.label("amount"),
        )
        .where(
            P.practice_id == practice_id,
            P.account.in_(AR_ACCOUNTS),
            P.claim_id.is_not(None),
            P.accounting_on <= as_of,
        )
        .subquery()
    )
    return (
        select(rows.c.claim_id, rows.c.debtor, func.sum(rows.c.amount).label("balance"))
        .group_by(rows.c.claim_id, rows.c.debtor)
        .having(func.sum(rows.c.amount) > 0)
        .subquery()
    )


def _collections(practice_id: int, after: date, through: date) -> Select[Any]:
    """Each collection posting dated ``after`` + 1 .. ``through``: claim, debtor and amount."""
    debtor = case(
        (m.Payment.kind == "insurance", func.coalesce(m.Payment.payer_id, literal_column("0"))),
        else_=literal_column("0"),
    )
    return (
        select(P.claim_id.label("claim_id"), debtor.label("debtor"), P.amount_cents.label("amount"))
        .join(m.Payment, m.Payment.id == P.payment_id)
        .where(
            P.practice_id == practice_id,
            P.account == Account.CASH.value,
            P.accounting_on > after,
            P.accounting_on <= through,
        )
    )


def _collected_pairs(practice_id: int, after: date, through: date) -> Subquery:
    rows = _collections(practice_id, after, through).where(P.claim_id.is_not(None)).subquery()
    return (
        select(rows.c.claim_id, rows.c.debtor, func.sum(rows.c.amount).label("collected"))
        .group_by(rows.c.claim_id, rows.c.debtor)
        .subquery()
    )


def _bucket(service_on: Any, as_of: date) -> ColumnElement[int]:
    """The age bucket index of a date of service on ``as_of`` (domain AGE_BUCKETS)."""
    whens = [
        (service_on >= as_of - timedelta(days=bucket.high_days), index)
        for index, bucket in enumerate(fc.AGE_BUCKETS)
        if bucket.high_days is not None
    ]
    return case(*whens, else_=len(fc.AGE_BUCKETS) - 1)


def _outcomes(db: Session, practice_id: int, snapshot: date) -> list[fc.Outcome]:
    """The balances open at ``snapshot`` and what each paid in its next 30 days."""
    pairs = _open_pairs(practice_id, snapshot)
    paid = _collected_pairs(practice_id, snapshot, snapshot + timedelta(days=fc.HORIZON_DAYS))
    collected = func.coalesce(paid.c.collected, 0)
    rows = (
        select(
            pairs.c.debtor,
            _bucket(m.Claim.service_from_on, snapshot).label("bucket"),
            pairs.c.balance,
            case((collected > 0, collected), else_=0).label("collected"),
        )
        .join(m.Claim, m.Claim.id == pairs.c.claim_id)
        .outerjoin(paid, and_(paid.c.claim_id == pairs.c.claim_id, paid.c.debtor == pairs.c.debtor))
        .subquery()
    )
    did_pay = rows.c.collected > 0
    query = select(
        rows.c.debtor,
        rows.c.bucket,
        func.count(),
        func.sum(case((did_pay, 1), else_=0)),
        func.sum(case((did_pay, rows.c.balance), else_=0)),
        func.sum(rows.c.collected),
    ).group_by(rows.c.debtor, rows.c.bucket)
    return [
        fc.Outcome(int(d), int(b), int(n), int(k), int(bal or 0), int(col or 0))
        for d, b, n, k, bal, col in db.execute(query)
    ]


def _open_groups(db: Session, practice_id: int, as_of: date) -> list[fc.OpenGroup]:
    pairs = _open_pairs(practice_id, as_of)
    rows = (
        select(pairs.c.debtor, _bucket(m.Claim.service_from_on, as_of).label("bucket"), pairs.c.balance)
        .join(m.Claim, m.Claim.id == pairs.c.claim_id)
        .subquery()
    )
    query = select(
        rows.c.debtor,
        rows.c.bucket,
        func.count(),
        func.sum(rows.c.balance),
        func.sum(rows.c.balance * rows.c.balance),
    ).group_by(rows.c.debtor, rows.c.bucket)
    return [fc.OpenGroup(int(d), int(b), int(n), int(s), int(q)) for d, b, n, s, q in db.execute(query)]


def _days_between(db: Session, later: Any, earlier: Any) -> ColumnElement[int]:
    if db.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return cast(later - earlier, Integer)  # PostgreSQL: date - date is a whole number of days


def _days_to_pay(db: Session, practice_id: int, as_of: date) -> dict[int, fc.DaysToPay]:
    """Per payer: days from service to the first insurance payment dated up to ``as_of``."""
    first = (
        select(P.claim_id.label("claim_id"), func.min(P.accounting_on).label("paid_on"))
        .join(m.Payment, m.Payment.id == P.payment_id)
        .where(
            P.practice_id == practice_id,
            P.account == Account.CASH.value,
            P.claim_id.is_not(None),
            P.amount_cents > 0,
            P.accounting_on <= as_of,
            m.Payment.kind == "insurance",
        )
        .group_by(P.claim_id)
        .subquery()
    )
    rows = (
        select(
            m.Claim.payer_id.label("payer_id"),
            _days_between(db, first.c.paid_on, m.Claim.service_from_on).label("days"),
        )
        .join(first, first.c.claim_id == m.Claim.id)
        .where(m.Claim.service_from_on >= as_of - timedelta(days=DAYS_TO_PAY_WINDOW_DAYS))
        .subquery()
    )
    counts: dict[int, dict[int, int]] = {}
    query = select(rows.c.payer_id, rows.c.days, func.count()).group_by(rows.c.payer_id, rows.c.days)
    for payer_id, days, n in db.execute(query):
        counts.setdefault(int(payer_id), {})[int(days)] = int(n)
    return {payer_id: fc.days_to_pay(by_days) for payer_id, by_days in counts.items()}


def _payer_names(db: Session, payer_ids: set[int]) -> dict[int, str]:
    names = {fc.PATIENTS: PATIENTS_NAME}
    if payer_ids - {fc.PATIENTS}:
        query = select(m.Payer.id, m.Payer.name).where(m.Payer.id.in_(payer_ids - {fc.PATIENTS}))
        names.update({int(pid): str(name) for pid, name in db.execute(query)})
    return names


# --- the forecast ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DebtorRow:
    """One payer (or the patients) in the forecast."""

    debtor_id: int
    name: str
    predicted: fc.ForecastRange
    rates: tuple[fc.Rate, ...]  # per age bucket, the debtor's own or the pooled one
    open_by_bucket: tuple[int, ...]  # open balance per age bucket, cents
    days_to_pay: fc.DaysToPay | None  # payers only


@dataclass(frozen=True)
class ForecastReport:
    practice_id: int
    as_of: date
    through: date  # the last day forecast
    history_from: date  # the earliest snapshot learned from
    total: fc.ForecastRange
    rows: tuple[DebtorRow, ...]  # largest open balance first
    pooled: tuple[fc.Rate, ...]
    seed: int
    draws: int

    @property
    def open_by_bucket(self) -> tuple[int, ...]:
        return tuple(sum(col) for col in zip(*(r.open_by_bucket for r in self.rows), strict=True)) or (
            0,
        ) * len(fc.AGE_BUCKETS)


def _forecast(
    db: Session, practice_id: int, as_of: date, seed: int, draws: int, *, with_days: bool = True
) -> ForecastReport:
    snapshots = [as_of - timedelta(days=fc.HORIZON_DAYS * j) for j in range(1, fc.HISTORY_SNAPSHOTS + 1)]
    outcomes = [o for snapshot in snapshots for o in _outcomes(db, practice_id, snapshot)]
    rates = fc.learn_rates(outcomes)
    groups = _open_groups(db, practice_id, as_of)
    predicted = fc.forecast(groups, rates, seed=seed, draws=draws)
    days = _days_to_pay(db, practice_id, as_of) if with_days else {}
    names = _payer_names(db, set(predicted.by_debtor) | set(days))
    buckets = range(len(fc.AGE_BUCKETS))
    rows = [
        DebtorRow(
            debtor_id=debtor,
            name=names.get(debtor, f"payer {debtor}"),
            predicted=found,
            rates=tuple(rates.rate(debtor, b) for b in buckets),
            open_by_bucket=tuple(
                sum(g.balance_cents for g in groups if g.debtor_id == debtor and g.bucket == b)
                for b in buckets
            ),
            days_to_pay=days.get(debtor),
        )
        for debtor, found in predicted.by_debtor.items()
    ]
    rows.sort(key=lambda r: (-r.predicted.open_balance_cents, r.name))
    return ForecastReport(
        practice_id=practice_id,
        as_of=as_of,
        through=as_of + timedelta(days=fc.HORIZON_DAYS),
        history_from=snapshots[-1],
        total=predicted.total,
        rows=tuple(rows),
        pooled=tuple(rates.pooled[b] for b in buckets),
        seed=seed,
        draws=draws,
    )


def forecast(
    db: Session,
    actor: Actor,
    practice_id: int,
    as_of: date,
    *,
    seed: int = fc.DEFAULT_SEED,
    draws: int = fc.DRAWS,
) -> ForecastReport:
    """Collections expected in the 30 days after ``as_of`` from the balances open on it, as a
    range, per payer, with the probability table and each payer's days to pay."""
    _require(actor, practice_id)
    return _forecast(db, practice_id, as_of, seed, draws)


@dataclass(frozen=True)
class BacktestRow:
    point: fc.BacktestPoint
    all_collections_cents: int  # every collection of the window, for context


@dataclass(frozen=True)
class BacktestReport:
    rows: tuple[BacktestRow, ...]
    summary: fc.BacktestSummary


def actual_collections(db: Session, practice_id: int, as_of: date) -> int:
    """Collected in the 30 days after ``as_of`` on the balances open on it (by their debtor)."""
    pairs = _open_pairs(practice_id, as_of)
    paid = _collected_pairs(practice_id, as_of, as_of + timedelta(days=fc.HORIZON_DAYS))
    query = select(func.coalesce(func.sum(paid.c.collected), 0)).join_from(
        pairs, paid, and_(paid.c.claim_id == pairs.c.claim_id, paid.c.debtor == pairs.c.debtor)
    )
    return int(db.scalar(query) or 0)


def all_collections(db: Session, practice_id: int, after: date, through: date) -> int:
    """Every collection dated ``after`` + 1 .. ``through`` (unapplied money included)."""
    rows = _collections(practice_id, after, through).subquery()
    return int(db.scalar(select(func.coalesce(func.sum(rows.c.amount), 0))) or 0)


def default_backtest_dates(today: date) -> list[date]:
    """Three past dates whose 30 days have all passed: 90, 60 and 30 days ago."""
    return [today - timedelta(days=days) for days in (90, 60, 30)]


def backtest(
    db: Session,
    actor: Actor,
    practice_id: int,
    as_of_dates: Sequence[date],
    *,
    seed: int = fc.DEFAULT_SEED,
    draws: int = fc.DRAWS,
) -> BacktestReport:
    """Each date's forecast against what the ledger says was collected in its 30 days."""
    _require(actor, practice_id)
    rows = []
    for as_of in sorted(as_of_dates):
        made = _forecast(db, practice_id, as_of, seed, draws, with_days=False)
        point = fc.BacktestPoint(as_of, made.total, actual_collections(db, practice_id, as_of))
        window = all_collections(db, practice_id, as_of, made.through)
        rows.append(BacktestRow(point, window))
    return BacktestReport(tuple(rows), fc.summarize_backtest([r.point for r in rows]))


# --- at risk and the collection-rate gap ----------------------------------------------------------


@dataclass(frozen=True)
class PayerAmount:
    payer_id: int
    name: str
    claims: int
    balance_cents: int


@dataclass(frozen=True)
class AtRisk:
    today: date
    cutoff_on: date  # claims with service before this day
    total_cents: int
    claims: int
    ar_total_cents: int
    rows: tuple[PayerAmount, ...]

    @property
    def share(self) -> float | None:
        return self.total_cents / self.ar_total_cents if self.ar_total_cents > 0 else None


def at_risk(db: Session, actor: Actor, practice_id: int, today: date) -> AtRisk:
    """Open A/R now on claims whose date of service is more than 180 days before ``today``."""
    _require(actor, practice_id)
    cutoff = today - timedelta(days=AT_RISK_DAYS)
    per_claim = (
        select(
            m.LedgerBalance.scope_id.label("claim_id"),
            func.sum(m.LedgerBalance.balance_cents).label("balance"),
        )
        .where(
            m.LedgerBalance.practice_id == practice_id,
            m.LedgerBalance.scope == BalanceScope.CLAIM.value,
            m.LedgerBalance.account.in_(AR_ACCOUNTS),
        )
        .group_by(m.LedgerBalance.scope_id)
        .having(func.sum(m.LedgerBalance.balance_cents) > 0)
        .subquery()
    )
    query = (
        select(m.Claim.payer_id, func.count(), func.sum(per_claim.c.balance))
        .join(per_claim, per_claim.c.claim_id == m.Claim.id)
        .where(m.Claim.practice_id == practice_id, m.Claim.service_from_on < cutoff)
        .group_by(m.Claim.payer_id)
    )
    found = [(int(p), int(n), int(s)) for p, n, s in db.execute(query)]
    names = _payer_names(db, {p for p, _, _ in found})
    rows = sorted(
        (PayerAmount(p, names.get(p, f"payer {p}"), n, s) for p, n, s in found),
        key=lambda r: (-r.balance_cents, r.name),
    )
    ar = queries.account_balances(
        db, practice_id=practice_id, accounts=(Account.AR_INSURANCE, Account.AR_PATIENT)
    )
    return AtRisk(
        today=today,
        cutoff_on=cutoff,
        total_cents=sum(r.balance_cents for r in rows),
        claims=sum(r.claims for r in rows),
        ar_total_cents=sum(ar.values()),
        rows=tuple(rows),
    )


@dataclass(frozen=True)
class PayerRate:
    payer_id: int
    name: str
    claims: int
    charges_cents: int
    contractual_cents: int
    collected_cents: int
    open_balance_cents: int  # the payer's ar:insurance balance now
    gap_value_cents: int

    @property
    def rate(self) -> float | None:
        base = self.charges_cents - self.contractual_cents
        return self.collected_cents / base if base > 0 else None


@dataclass(frozen=True)
class GapReport:
    window_from: date
    window_through: date
    best: PayerRate | None
    rows: tuple[PayerRate, ...]  # largest gap value first

    @property
    def total_gap_cents(self) -> int:
        return sum(r.gap_value_cents for r in self.rows)


def _payer_money(db: Session, practice_id: int, window_from: date, window_through: date) -> list[Any]:
    revenue = case((P.account == Account.REVENUE.value, -P.amount_cents), else_=0)
    contractual = case((P.account == Account.ADJUSTMENT_CONTRACTUAL.value, P.amount_cents), else_=0)
    cash = case((and_(P.account == Account.CASH.value, P.payment_id.is_not(None)), P.amount_cents), else_=0)
    rows = (
        select(
            m.Claim.payer_id.label("payer_id"),
            m.Claim.id.label("claim_id"),
            revenue.label("revenue"),
            contractual.label("contractual"),
            cash.label("cash"),
        )
        .join(P, and_(P.claim_id == m.Claim.id, P.practice_id == practice_id))
        .where(
            m.Claim.practice_id == practice_id,
            m.Claim.service_from_on >= window_from,
            m.Claim.service_from_on <= window_through,
        )
        .subquery()
    )
    query = select(
        rows.c.payer_id,
        func.count(func.distinct(rows.c.claim_id)),
        func.sum(rows.c.revenue),
        func.sum(rows.c.contractual),
        func.sum(rows.c.cash),
    ).group_by(rows.c.payer_id)
    return list(db.execute(query))


def collection_gap(db: Session, actor: Actor, practice_id: int, today: date) -> GapReport:
    """Each payer's collection rate against the best payer's, and what closing it is worth."""
    _require(actor, practice_id)
    window_from = today - timedelta(days=RATE_WINDOW_DAYS[1])
    window_through = today - timedelta(days=RATE_WINDOW_DAYS[0])
    money = _payer_money(db, practice_id, window_from, window_through)
    balance_rows = select(m.LedgerBalance.scope_id, m.LedgerBalance.balance_cents).where(
        m.LedgerBalance.practice_id == practice_id,
        m.LedgerBalance.scope == BalanceScope.PAYER.value,
        m.LedgerBalance.account == Account.AR_INSURANCE.value,
    )
    balances = {int(payer_id): int(cents) for payer_id, cents in db.execute(balance_rows)}
    names = _payer_names(db, {int(row[0]) for row in money})
    base = [
        PayerRate(
            int(p),
            names.get(int(p), f"payer {p}"),
            int(n),
            int(r),
            int(c),
            int(k),
            balances.get(int(p), 0),
            0,
        )
        for p, n, r, c, k in money
    ]
    rated = [r for r in base if r.rate is not None]
    eligible = [r for r in rated if r.claims >= BEST_PAYER_MIN_CLAIMS] or rated
    best = max(eligible, key=lambda r: (r.rate or 0.0, r.claims), default=None)
    rows = [_with_gap(r, best) for r in base]
    rows.sort(key=lambda r: (-r.gap_value_cents, r.name))
    return GapReport(window_from, window_through, best, tuple(rows))


def _with_gap(row: PayerRate, best: PayerRate | None) -> PayerRate:
    if best is None or best.rate is None or row.rate is None or row.open_balance_cents <= 0:
        return row
    # Exact fractions, rounded once to the cent: money never goes through a float.
    gap = _exact_rate(best) - _exact_rate(row)
    return replace(row, gap_value_cents=max(0, round(row.open_balance_cents * gap)))


def _exact_rate(row: PayerRate) -> Fraction:
    return Fraction(row.collected_cents, row.charges_cents - row.contractual_cents)
