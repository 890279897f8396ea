"""The practice's key figures as of a day, each from set-based queries over the ledger, the
claims and their history, each with the list behind it (see :mod:`revcycle.domain.kpis` for the
formulas and date bases).

Where the numbers come from:

* **A/R** is the ledger's: ``ar:insurance`` + ``ar:patient`` balance rows (account scope for the
  total, claim scope per claim). Outstanding claims and the oldest unpaid claim count claims
  whose balance is positive; credit balances are left out, never netted into a claim's figure.
* **Charges** are ``revenue`` postings (credits, sign flipped) by their accounting date;
  **collections** are ``cash`` postings by their accounting date: every payment received (an
  835, a hand entry, a patient payment) debits cash once, a refund sent credits it, and a
  voided payment's reversal credits it back, so the sum is "payments less refunds".
* **Insurance payments** on a claim are the cash legs of insurance payment transactions (and
  their reversals), :func:`revcycle.services.payer_strategies.insurance_payments`.
* A claim's **first decision** is its earliest claim event (by id) to adjudicated, paid,
  partially paid or denied; its **first submission** the earliest :class:`Submission`.
  Timestamps become dates in the practice's time zone.

The claims behind a figure are one subquery (:func:`claims_behind`), used both to count and to
list them: ``/claims?kpi=<key>&as_of=<day>`` shows exactly the claims counted. The unbilled
sessions are the alert rule's (``services.timely_filing.held_unsent_sessions``):
``/sessions?kpi=unbilled_sessions``.

Thresholds and the monthly collections goal are the practice's, in ``Practice.settings["kpi"]``
(``{"thresholds": {key: number | null}, "collections_goal_cents": int}``), changed by an
administrator (:func:`update_kpi_settings`, audited); a key not set there takes the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, and_, cast, func, select
from sqlalchemy.orm import Session, aliased

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.alert_rules import OwnerRole
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.kpis import (
    KPI_BY_KEY,
    KPIS,
    Kpi,
    Unit,
    colour,
    crossed,
    goal_pace_cents,
    parse_threshold,
)
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.permissions import Permission, Role
from revcycle.errors import InvalidInput, NotFound
from revcycle.money import MoneyError, format_cents, format_plain, parse_cents
from revcycle.services import audit
from revcycle.services.actor import Actor, system_actor
from revcycle.services.alerts import ALERT_KIND, alert_assignees, practice_today
from revcycle.services.payer_strategies import insurance_payments
from revcycle.services.scoping import practice_scopes
from revcycle.services.sessions import month_bounds
from revcycle.services.timely_filing import held_unsent_sessions

__all__ = [
    "CLAIM_KPIS",
    "SESSION_KPIS",
    "KpiAlertRun",
    "KpiSettings",
    "KpiValue",
    "claims_behind",
    "compute_kpis",
    "goal_text",
    "kpi_settings",
    "practice_zone",
    "raise_kpi_alerts",
    "raise_kpi_alerts_everywhere",
    "seed_demo_kpis",
    "sessions_behind",
    "threshold_fields",
    "update_kpi_settings",
]

S = ClaimStatus
AR_ACCOUNTS = (Account.AR_INSURANCE.value, Account.AR_PATIENT.value)
DECISIONS = (S.ADJUDICATED.value, S.PAID.value, S.PARTIALLY_PAID.value, S.DENIED.value)
# A payer has the claim: accepted on its way or decided since.
ACCEPTED_OR_LATER = (S.ACCEPTED.value, S.APPEALED.value, *DECISIONS)
RECENT_DAYS = 90
YEAR_DAYS = 365
STAFF_DAYS = 30
AGED_DAYS = 90
SETTINGS_KEY = "kpi"
CLAIM_KPIS = frozenset(
    {
        "outstanding_claims",
        "avg_days_to_payment",
        "denial_rate",
        "oldest_unpaid_claim",
        "days_in_ar",
        "net_collection_rate",
        "clean_claim_rate",
        "first_pass_resolution",
        "ar_over_90_share",
        "charge_lag",
        "claims_per_staff",
    }
)
SESSION_KPIS = frozenset({"unbilled_sessions"})


# --- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiSettings:
    thresholds: Mapping[str, float | None]  # every KPI's, defaults filled in
    goal_cents: int | None  # the monthly collections goal

    def threshold(self, kpi: Kpi, today: date) -> float | None:
        if kpi.key == "collections_month":
            return float(goal_pace_cents(self.goal_cents, today)) if self.goal_cents else None
        return self.thresholds.get(kpi.key)


def kpi_settings(practice: m.Practice) -> KpiSettings:
    """The practice's thresholds (defaults where not set) and its collections goal."""
    stored = (practice.settings or {}).get(SETTINGS_KEY) or {}
    chosen = stored.get("thresholds") or {}
    thresholds: dict[str, float | None] = {}
    for kpi in KPIS:
        value = chosen.get(kpi.key, kpi.default_threshold) if isinstance(chosen, dict) else None
        thresholds[kpi.key] = float(value) if isinstance(value, int | float) else None
    goal = stored.get("collections_goal_cents")
    return KpiSettings(thresholds, int(goal) if isinstance(goal, int) and goal > 0 else None)


def update_kpi_settings(
    db: Session, *, actor: Actor, practice_id: int, thresholds: Mapping[str, str], goal: str
) -> KpiSettings:
    """Set the thresholds (as typed, by KPI key; blank: no threshold) and the monthly
    collections goal (dollars; blank: none). Administrators only; every problem is named at
    once; audited with the before and after."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    practice = db.get(m.Practice, practice_id)
    if practice is None:
        raise NotFound("practice not found")
    problems: list[str] = []
    parsed: dict[str, float | None] = {}
    for key, text in thresholds.items():
        kpi = KPI_BY_KEY.get(key)
        if kpi is None or kpi.key == "collections_month":
            problems.append(f"{key}: not a KPI with a threshold")
            continue
        try:
            parsed[key] = parse_threshold(kpi, text)
        except ValueError as exc:
            problems.append(str(exc))
    goal_cents = _goal(goal, problems)
    if problems:
        raise InvalidInput("; ".join(problems))
    before = dict((practice.settings or {}).get(SETTINGS_KEY) or {})
    after = {
        "thresholds": {**(before.get("thresholds") or {}), **parsed},
        "collections_goal_cents": goal_cents,
    }
    practice.settings = {**(practice.settings or {}), SETTINGS_KEY: after}  # a new dict: saved
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=practice_id,
        action="update",
        entity="practice_kpi_settings",
        entity_id=practice_id,
        before=before,
        after=after,
        reason="KPI thresholds and collections goal",
    )
    return kpi_settings(practice)


def threshold_fields(practice: m.Practice) -> list[tuple[Kpi, str]]:
    """Each KPI that takes a threshold with its current one as a person types it (dollars for
    money, blank for none), for the settings form."""
    chosen = kpi_settings(practice)
    fields = []
    for kpi in KPIS:
        if kpi.key == "collections_month":
            continue
        value = chosen.thresholds.get(kpi.key)
        if value is None:
            text = ""
        elif kpi.unit is Unit.CENTS:
            text = format_plain(round(value))
        else:
            text = f"{value:g}"
        fields.append((kpi, text))
    return fields


def goal_text(practice: m.Practice) -> str:
    goal = kpi_settings(practice).goal_cents
    return format_plain(goal) if goal else ""


def _goal(text: str, problems: list[str]) -> int | None:
    if not text.strip():
        return None
    try:
        cents = parse_cents(text.strip().replace(",", ""), field="collections_goal")
    except MoneyError as exc:
        problems.append(str(exc))
        return None
    if cents <= 0:
        problems.append("collections_goal: must be more than zero")
        return None
    return cents


# --- the figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiValue:
    kpi: Kpi
    value: float | None  # None: no data (nothing to divide by)
    threshold: float | None
    url: str  # the list behind the figure
    detail: str = ""  # e.g. "1 of 3 claims"

    @property
    def crossed(self) -> bool:
        return crossed(self.kpi, self.value, self.threshold)

    @property
    def colour(self) -> str:
        return colour(self.kpi, self.value, self.threshold)

    @property
    def display(self) -> str:
        return _display(self.kpi.unit, self.value)

    @property
    def threshold_display(self) -> str:
        return _display(self.kpi.unit, self.threshold) if self.threshold is not None else ""


def _display(unit: Unit, value: float | None) -> str:
    if value is None:
        return "—"
    if unit is Unit.CENTS:
        return format_cents(round(value))
    if unit is Unit.PERCENT:
        return f"{value:.1f}%"
    if unit is Unit.DAYS:
        return f"{value:.1f} days"
    return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"


def practice_zone(db: Session, practice_id: int) -> ZoneInfo:
    practice = db.get(m.Practice, practice_id)
    if practice is None:
        raise NotFound("practice not found")
    return ZoneInfo(practice.timezone)


def compute_kpis(db: Session, *, actor: Actor, practice_id: int, today: date) -> list[KpiValue]:
    """Every KPI of the practice as of ``today`` (its local date), in the order of
    :data:`~revcycle.domain.kpis.KPIS`."""
    practice_scopes(actor, Permission.VIEW_DASHBOARD, practice_id)
    practice = db.get(m.Practice, practice_id)
    if practice is None:
        raise NotFound("practice not found")
    figures = _Figures(db, practice_id, today, ZoneInfo(practice.timezone))
    chosen = kpi_settings(practice)
    values = []
    for kpi in KPIS:
        value, detail = getattr(figures, kpi.key)()
        values.append(KpiValue(kpi, value, chosen.threshold(kpi, today), _url(kpi.key, today), detail))
    return values


def _url(key: str, today: date) -> str:
    if key == "sessions_this_month":
        return f"/sessions?month={today:%Y-%m}"
    if key in SESSION_KPIS:
        return f"/sessions?kpi={key}"
    if key == "collections_month":
        return "/payments"
    return f"/claims?kpi={key}&as_of={today.isoformat()}"


def _rate(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class _Figures:
    """One method per KPI key: (value, detail)."""

    def __init__(self, db: Session, practice_id: int, today: date, zone: ZoneInfo) -> None:
        self.db, self.practice_id, self.today, self.zone = db, practice_id, today, zone

    def _count(self, key: str) -> int:
        ids = claims_behind(key, self.practice_id, self.today, self.zone).subquery()
        return int(self.db.scalar(select(func.count()).select_from(ids)) or 0)

    def sessions_this_month(self) -> tuple[float | None, str]:
        first, following = month_bounds(self.today)
        n = self.db.scalar(
            select(func.count()).where(
                m.ServiceSession.practice_id == self.practice_id,
                m.ServiceSession.service_on >= first,
                m.ServiceSession.service_on < following,
            )
        )
        return float(n or 0), f"{self.today:%B %Y}"

    def unbilled_sessions(self) -> tuple[float | None, str]:
        return float(len(sessions_behind(self.db, "unbilled_sessions", self.practice_id))), ""

    def outstanding_claims(self) -> tuple[float | None, str]:
        balances = _claim_balances(self.practice_id).subquery()
        n, total = self.db.execute(
            select(func.count(), func.coalesce(func.sum(balances.c.balance_cents), 0)).where(
                balances.c.balance_cents > 0
            )
        ).one()
        return float(total), _plural(int(n), "claim")

    def avg_days_to_payment(self) -> tuple[float | None, str]:
        first, last = _window(self.today, RECENT_DAYS)
        paid = _first_paid(self.practice_id, first).subquery()
        # Each paid claim's first submission, read per claim through the submissions' claim
        # index: grouping every submission instead made PostgreSQL rerun the grouping per paid
        # claim (quadratic; bench/reports_bench.py).
        sent_at = (
            select(func.min(m.Submission.submitted_at))
            .where(m.Submission.claim_id == paid.c.claim_id)
            .correlate(paid)
            .scalar_subquery()
        )
        local_sent = _local_day(self.db, sent_at, self.zone)
        query = (
            select(func.count(), func.avg(_days_between(self.db, paid.c.paid_on, m.Claim.service_from_on)))
            .select_from(m.Claim)
            .join(paid, paid.c.claim_id == m.Claim.id)
            .where(paid.c.paid_on >= first, paid.c.paid_on <= last)
        )
        if local_sent is not None:  # PostgreSQL: the local date of the submission in SQL
            query = query.add_columns(func.avg(_days_between(self.db, paid.c.paid_on, local_sent)))
        counted = self.db.execute(query).one()
        n, from_service = int(counted[0]), counted[1]
        if not n:
            return None, "no claims paid"
        if local_sent is not None:
            from_sent = float(counted[2]) if counted[2] is not None else None
        else:
            days = [
                (paid_on - _day(sent_on, self.zone)).days
                for paid_on, sent_on in self.db.execute(
                    select(paid.c.paid_on, sent_at).where(paid.c.paid_on >= first, paid.c.paid_on <= last)
                )
                if sent_on is not None
            ]
            from_sent = fmean(days) if days else None
        extra = f"; {from_sent:.1f} from first submission" if from_sent is not None else ""
        return float(from_service), f"{_plural(n, 'claim')}{extra}"

    def collections_month(self) -> tuple[float | None, str]:
        first = self.today.replace(day=1)
        return float(_cash_between(self.db, self.practice_id, first, self.today)), ""

    def denial_rate(self) -> tuple[float | None, str]:
        decided = _first_decisions(self.practice_id, self.today, self.zone).subquery()
        total, denied = self.db.execute(
            select(func.count(), func.count().filter(decided.c.to_status == S.DENIED.value)).select_from(
                decided
            )
        ).one()
        return _rate(int(denied), int(total)), f"{denied} of {_plural(int(total), 'claim')} decided"

    def oldest_unpaid_claim(self) -> tuple[float | None, str]:
        balances = _claim_balances(self.practice_id).subquery()
        oldest = self.db.scalar(
            select(func.min(m.Claim.service_from_on))
            .join(balances, balances.c.claim_id == m.Claim.id)
            .where(balances.c.balance_cents > 0)
        )
        if oldest is None:
            return None, "no unpaid claims"
        return float((self.today - oldest).days), f"served {oldest.isoformat()}"

    def days_in_ar(self) -> tuple[float | None, str]:
        ar = _ar_total(self.db, self.practice_id)
        first, last = _window(self.today, RECENT_DAYS)
        charges = _charges_between(self.db, self.practice_id, first, last)
        if charges <= 0:
            return None, "no charges in 90 days"
        return ar / (charges / RECENT_DAYS), f"A/R {format_cents(ar)}; 90-day charges {format_cents(charges)}"

    def net_collection_rate(self) -> tuple[float | None, str]:
        first, last = _window(self.today, YEAR_DAYS)
        cash = _cash_between(self.db, self.practice_id, first, last)
        charges = _charges_between(self.db, self.practice_id, first, last)
        contractual = _sum_account(self.db, self.practice_id, Account.ADJUSTMENT_CONTRACTUAL, first, last)
        base = charges - contractual
        value = 100.0 * cash / base if base > 0 else None
        return value, f"{format_cents(cash)} of {format_cents(base)}"

    def clean_claim_rate(self) -> tuple[float | None, str]:
        total = self._count("clean_claim_rate")
        clean = _clean_claims(self.practice_id, self.today, self.zone).subquery()
        n = int(self.db.scalar(select(func.count()).select_from(clean)) or 0)
        return _rate(n, total), f"{n} of {_plural(total, 'claim')} sent"

    def first_pass_resolution(self) -> tuple[float | None, str]:
        decided = _first_decisions(self.practice_id, self.today, self.zone).subquery()
        sent = (
            _first_sent(self.practice_id)
            .where(m.Submission.claim_id.in_(select(decided.c.claim_id)))
            .subquery()
        )
        total, resolved = self.db.execute(
            select(
                func.count(),
                func.count().filter(and_(decided.c.to_status != S.DENIED.value, sent.c.sends == 1)),
            )
            .select_from(decided)
            .outerjoin(sent, sent.c.claim_id == decided.c.claim_id)
        ).one()
        return _rate(int(resolved), int(total)), f"{resolved} of {_plural(int(total), 'claim')} decided"

    def ar_over_90_share(self) -> tuple[float | None, str]:
        ar = _ar_total(self.db, self.practice_id)
        balances = _claim_balances(self.practice_id).subquery()
        aged = self.db.scalar(
            select(func.coalesce(func.sum(balances.c.balance_cents), 0))
            .join(m.Claim, m.Claim.id == balances.c.claim_id)
            .where(m.Claim.service_from_on <= self.today - timedelta(days=AGED_DAYS + 1))
        )
        value = 100.0 * int(aged or 0) / ar if ar > 0 else None
        return value, f"{format_cents(int(aged or 0))} of {format_cents(ar)}"

    def charge_lag(self) -> tuple[float | None, str]:
        start, end = _bounds(self.today, RECENT_DAYS, self.zone)
        sent = _first_sent(self.practice_id, start).subquery()
        window = (sent.c.sent_at >= start, sent.c.sent_at < end)
        local_sent = _local_day(self.db, sent.c.sent_at, self.zone)
        if local_sent is not None:  # PostgreSQL: averaged in SQL
            n, mean = self.db.execute(
                select(func.count(), func.avg(_days_between(self.db, local_sent, m.Claim.service_from_on)))
                .select_from(m.Claim)
                .join(sent, sent.c.claim_id == m.Claim.id)
                .where(*window)
            ).one()
            lag = float(mean) if n else None
        else:
            rows = self.db.execute(
                select(m.Claim.service_from_on, sent.c.sent_at)
                .join(sent, sent.c.claim_id == m.Claim.id)
                .where(*window)
            ).all()
            n = len(rows)
            lag = (
                fmean((_day(sent_at, self.zone) - service_on).days for service_on, sent_at in rows)
                if rows
                else None
            )
        if lag is None:
            return None, "no claims sent"
        return lag, _plural(int(n), "claim")

    def claims_per_staff(self) -> tuple[float | None, str]:
        n = self._count("claims_per_staff")
        staff = _billing_staff(self.db, self.practice_id)
        value = n / staff if staff else None
        return value, f"{_plural(n, 'claim')} / {_plural(staff, 'person')}".replace("persons", "people")


# --- building blocks ---------------------------------------------------------------------------


def _window(today: date, days: int) -> tuple[date, date]:
    """The ``days`` days ending with ``today`` (inclusive)."""
    return today - timedelta(days=days - 1), today


def _bounds(today: date, days: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The same window as instants: from the first day's local midnight to the next day's."""
    first, last = _window(today, days)
    return (
        datetime.combine(first, time(), tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time(), tzinfo=zone),
    )


def _day(stamp: datetime, zone: ZoneInfo) -> date:
    if isinstance(stamp, str):
        stamp = datetime.fromisoformat(stamp)
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(zone).date()


def _days_between(db: Session, later: Any, earlier: Any) -> Any:
    """``later - earlier`` in days, in SQL (PostgreSQL subtracts dates; SQLite needs julianday)."""
    if db.get_bind().dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return later - earlier


def _local_day(db: Session, stamp: Any, zone: ZoneInfo) -> Any | None:
    """A timestamp's date in the practice's zone, in SQL on PostgreSQL; None on SQLite, which
    keeps no zones (the caller converts in Python there)."""
    if db.get_bind().dialect.name != "postgresql":
        return None
    return cast(func.timezone(zone.key, stamp), Date)


def _claim_balances(practice_id: int) -> Any:
    """(claim id, A/R balance) of every claim with a balance row."""
    return (
        select(
            m.LedgerBalance.scope_id.label("claim_id"),
            func.sum(m.LedgerBalance.balance_cents).label("balance_cents"),
        )
        .where(
            m.LedgerBalance.practice_id == practice_id,
            m.LedgerBalance.scope == BalanceScope.CLAIM.value,
            m.LedgerBalance.account.in_(AR_ACCOUNTS),
        )
        .group_by(m.LedgerBalance.scope_id)
    )


def _ar_total(db: Session, practice_id: int) -> int:
    return int(
        db.scalar(
            select(func.coalesce(func.sum(m.LedgerBalance.balance_cents), 0)).where(
                m.LedgerBalance.practice_id == practice_id,
                m.LedgerBalance.scope == BalanceScope.ACCOUNT.value,
                m.LedgerBalance.account.in_(AR_ACCOUNTS),
            )
        )
        or 0
    )


def _sum_account(db: Session, practice_id: int, account: Account, first: date, last: date) -> int:
    return int(
        db.scalar(
            select(func.coalesce(func.sum(m.Posting.amount_cents), 0)).where(
                m.Posting.practice_id == practice_id,
                m.Posting.account == account.value,
                m.Posting.accounting_on >= first,
                m.Posting.accounting_on <= last,
            )
        )
        or 0
    )


def _cash_between(db: Session, practice_id: int, first: date, last: date) -> int:
    """Collections: cash postings dated ``first``..``last`` (payments less refunds)."""
    return _sum_account(db, practice_id, Account.CASH, first, last)


def _charges_between(db: Session, practice_id: int, first: date, last: date) -> int:
    """Charges: revenue postings (credits) dated ``first``..``last``, as a positive amount."""
    return -_sum_account(db, practice_id, Account.REVENUE, first, last)


def _first_sent(practice_id: int, since: datetime | None = None) -> Any:
    """Per claim: its first submission's instant and how many submissions it has; with
    ``since``, only claims sent at or after it (a claim first sent in a window was sent in it:
    the index on (practice, submitted_at) narrows the grouping to the recent claims)."""
    query = (
        select(
            m.Submission.claim_id,
            func.min(m.Submission.submitted_at).label("sent_at"),
            func.count().label("sends"),
        )
        .where(m.Submission.practice_id == practice_id)
        .group_by(m.Submission.claim_id)
    )
    if since is not None:
        recent = aliased(m.Submission)
        query = query.where(
            m.Submission.claim_id.in_(
                select(recent.claim_id).where(recent.practice_id == practice_id, recent.submitted_at >= since)
            )
        )
    return query


def _first_paid(practice_id: int, since: date | None = None) -> Any:
    """Per claim: the accounting date of its first insurance payment; with ``since``, only
    claims paid on or after it."""
    paid = insurance_payments(practice_id).subquery()
    query = (
        select(paid.c.claim_id, func.min(paid.c.accounting_on).label("paid_on"))
        .where(paid.c.amount_cents > 0)
        .group_by(paid.c.claim_id)
    )
    if since is not None:
        recent = insurance_payments(practice_id).subquery()
        query = query.where(
            paid.c.claim_id.in_(select(recent.c.claim_id).where(recent.c.accounting_on >= since))
        )
    return query


def _first_decisions(practice_id: int, today: date, zone: ZoneInfo) -> Any:
    """(claim id, status) of each claim's first decision, where that came in the last 90 days."""
    start, end = _bounds(today, RECENT_DAYS, zone)
    recent = aliased(m.ClaimEvent)  # a first decision in the window is a decision in it
    decided_lately = select(recent.claim_id).where(
        recent.practice_id == practice_id, recent.to_status.in_(DECISIONS), recent.created_at >= start
    )
    first = (
        select(m.ClaimEvent.claim_id, func.min(m.ClaimEvent.id).label("event_id"))
        .where(
            m.ClaimEvent.practice_id == practice_id,
            m.ClaimEvent.to_status.in_(DECISIONS),
            m.ClaimEvent.claim_id.in_(decided_lately),
        )
        .group_by(m.ClaimEvent.claim_id)
        .subquery()
    )
    return (
        select(first.c.claim_id, m.ClaimEvent.to_status)
        .join(m.ClaimEvent, m.ClaimEvent.id == first.c.event_id)
        .where(m.ClaimEvent.created_at >= start, m.ClaimEvent.created_at < end)
    )


def _sent_in(practice_id: int, today: date, zone: ZoneInfo, days: int) -> Any:
    start, end = _bounds(today, days, zone)
    sent = _first_sent(practice_id, start).subquery()
    return select(sent.c.claim_id).where(sent.c.sent_at >= start, sent.c.sent_at < end)


def _clean_claims(practice_id: int, today: date, zone: ZoneInfo) -> Any:
    """Of the claims first sent in the last 90 days: one submission, never rejected, and a
    payer has it (accepted, or decided since)."""
    start, end = _bounds(today, RECENT_DAYS, zone)
    sent = _first_sent(practice_id, start).subquery()

    def reached(statuses: tuple[str, ...]) -> ColumnElement[bool]:
        found: ColumnElement[bool] = sent.c.claim_id.in_(
            select(m.ClaimEvent.claim_id).where(
                m.ClaimEvent.practice_id == practice_id, m.ClaimEvent.to_status.in_(statuses)
            )
        )
        return found

    return select(sent.c.claim_id).where(
        sent.c.sent_at >= start,
        sent.c.sent_at < end,
        sent.c.sends == 1,
        ~reached((S.REJECTED.value,)),
        reached(ACCEPTED_OR_LATER),
    )


def claims_behind(key: str, practice_id: int, today: date, zone: ZoneInfo) -> Any:
    """The ids of the claims a claim KPI counts (for a rate: the claims it is taken over)."""
    balances = _claim_balances(practice_id).subquery()
    if key in ("outstanding_claims", "days_in_ar"):
        return select(balances.c.claim_id).where(balances.c.balance_cents > 0)
    if key == "insurance_open":  # what payers owe: positive ar:insurance (services.analytics)
        return (
            select(m.LedgerBalance.scope_id)
            .where(
                m.LedgerBalance.practice_id == practice_id,
                m.LedgerBalance.scope == BalanceScope.CLAIM.value,
                m.LedgerBalance.account == Account.AR_INSURANCE.value,
            )
            .group_by(m.LedgerBalance.scope_id)
            .having(func.sum(m.LedgerBalance.balance_cents) > 0)
        )
    if key == "aging":  # every claim with an A/R balance, credits included (the aging summary)
        return select(balances.c.claim_id).where(balances.c.balance_cents != 0)
    if key == "oldest_unpaid_claim":
        oldest = (
            select(func.min(m.Claim.service_from_on))
            .join(balances, balances.c.claim_id == m.Claim.id)
            .where(balances.c.balance_cents > 0)
            .scalar_subquery()
        )
        return (
            select(m.Claim.id)
            .join(balances, balances.c.claim_id == m.Claim.id)
            .where(balances.c.balance_cents > 0, m.Claim.service_from_on == oldest)
        )
    if key == "ar_over_90_share":
        return (
            select(m.Claim.id)
            .join(balances, balances.c.claim_id == m.Claim.id)
            .where(
                balances.c.balance_cents != 0,
                m.Claim.service_from_on <= today - timedelta(days=AGED_DAYS + 1),
            )
        )
    if key == "avg_days_to_payment":
        first, last = _window(today, RECENT_DAYS)
        paid = _first_paid(practice_id, first).subquery()
        return select(paid.c.claim_id).where(paid.c.paid_on >= first, paid.c.paid_on <= last)
    if key in ("denial_rate", "first_pass_resolution"):
        return select(_first_decisions(practice_id, today, zone).subquery().c.claim_id)
    if key in ("clean_claim_rate", "charge_lag"):
        return _sent_in(practice_id, today, zone, RECENT_DAYS)
    if key == "claims_per_staff":
        return _sent_in(practice_id, today, zone, STAFF_DAYS)
    if key == "net_collection_rate":
        first, last = _window(today, YEAR_DAYS)
        return (
            select(m.Posting.claim_id)
            .where(
                m.Posting.practice_id == practice_id,
                m.Posting.account == Account.REVENUE.value,
                m.Posting.claim_id.is_not(None),
                m.Posting.accounting_on >= first,
                m.Posting.accounting_on <= last,
            )
            .distinct()
        )
    raise InvalidInput(f"kpi: {key!r} is not a figure with claims behind it")


def sessions_behind(db: Session, key: str, practice_id: int) -> list[int]:
    """The ids of the sessions a session KPI counts: the unbilled sessions, as the alert rule
    "more than 10 unbilled sessions" counts them."""
    if key != "unbilled_sessions":
        raise InvalidInput(f"kpi: {key!r} is not a figure with sessions behind it")
    return [held.session.id for held in held_unsent_sessions(db, practice_id) if held.unbilled]


def _billing_staff(db: Session, practice_id: int) -> int:
    """Active billing members; the administrators when the practice has none."""
    counts = {
        str(role): int(n)
        for role, n in db.execute(
            select(m.Membership.role, func.count(func.distinct(m.Membership.user_id)))
            .join(m.User, m.User.id == m.Membership.user_id)
            .where(m.Membership.practice_id == practice_id, m.User.is_active.is_(True))
            .group_by(m.Membership.role)
        )
    }
    return int(counts.get(Role.BILLING.value, 0) or counts.get(Role.ADMIN.value, 0))


# --- alerts ----------------------------------------------------------------------------------------

KPI_ALERT_RULE = "kpi_threshold"
# Figures an alert rule already watches (domain.alert_rules "unbilled_sessions", more than 10
# held sessions not billed, owned by the director): no second alert for them.
OWN_ALERT_RULE = frozenset({"unbilled_sessions"})
KPI_KEY_PREFIX = "kpi:"
CLEARED_WORDS = "condition cleared"


@dataclass(frozen=True)
class KpiAlertRun:
    practice_id: int
    today: date
    crossed: tuple[str, ...]  # the keys past their threshold
    raised: int = 0
    reopened: int = 0
    resolved: int = 0


def raise_kpi_alerts(
    db: Session, practice_id: int, today: date, *, actor: Actor | None = None, now: datetime | None = None
) -> KpiAlertRun:
    """One alert per KPI past its threshold, except those an alert rule already watches
    (:data:`OWN_ALERT_RULE`) (work item of kind ``alert``, dedupe key
    ``kpi:<key>``, owner role from the KPI: director for the practice-level figures, billing for
    the working ones), its detail kept up to date; resolved ("condition cleared") once the figure
    is back within its threshold and reopened if it crosses again. An alert a person resolved by
    hand while the figure was still crossed stays resolved until the figure has cleared. Running
    twice changes nothing the second time. Never commits; audited once when something changed."""
    actor = actor or system_actor("kpi_alerts")
    stamp = now or utcnow()
    values = compute_kpis(db, actor=actor, practice_id=practice_id, today=today)
    practice = db.get(m.Practice, practice_id)
    assert practice is not None  # compute_kpis found it
    assignees = alert_assignees(db, practice)
    existing = {
        str(item.dedupe_key): item
        for item in db.scalars(
            select(m.WorkItem).where(
                m.WorkItem.practice_id == practice_id,
                m.WorkItem.kind == ALERT_KIND,
                m.WorkItem.dedupe_key.like(f"{KPI_KEY_PREFIX}%"),
            )
        )
    }
    counts = {"raised": 0, "reopened": 0, "resolved": 0}
    for value in values:
        if value.kpi.key in OWN_ALERT_RULE:
            continue
        found = existing.get(KPI_KEY_PREFIX + value.kpi.key)
        if value.crossed:
            _keep_open(db, practice_id, value=value, found=found, assignees=assignees, counts=counts)
        elif found is not None:
            _clear(found, stamp, counts)
    db.flush()
    crossed = tuple(v.kpi.key for v in values if v.crossed and v.kpi.key not in OWN_ALERT_RULE)
    run = KpiAlertRun(practice_id, today, crossed, **counts)
    if any(counts.values()):
        audit.record(
            db,
            actor=actor,
            practice_id=practice_id,
            action="update",
            entity="kpi_alert_run",
            entity_id=today.isoformat(),
            after={**counts, "crossed": list(run.crossed)},
            reason=f"KPI thresholds checked as of {today.isoformat()}",
        )
    return run


def raise_kpi_alerts_everywhere(
    db: Session, *, now: datetime, actor: Actor | None = None
) -> list[KpiAlertRun]:
    """Every practice's KPI alerts, each as of its own local date (the daily job)."""
    return [
        raise_kpi_alerts(db, practice.id, practice_today(practice, now), actor=actor, now=now)
        for practice in db.scalars(select(m.Practice).order_by(m.Practice.id))
    ]


def _alert_detail(value: KpiValue) -> str:
    detail = f"{value.kpi.name} is {value.display}; threshold {value.threshold_display}"
    return (
        f"{detail} ({value.detail}). {value.kpi.formula}."
        if value.detail
        else f"{detail}. {value.kpi.formula}."
    )


def _keep_open(
    db: Session,
    practice_id: int,
    *,
    value: KpiValue,
    found: m.WorkItem | None,
    assignees: Mapping[OwnerRole, int | None],
    counts: dict[str, int],
) -> None:
    detail = _alert_detail(value)
    if found is None:
        role = OwnerRole(value.kpi.owner_role)
        db.add(
            m.WorkItem(
                practice_id=practice_id,
                kind=ALERT_KIND,
                severity="warning",
                status="open",
                title=f"{value.kpi.name} past its threshold",
                detail=detail,
                rule=KPI_ALERT_RULE,
                dedupe_key=KPI_KEY_PREFIX + value.kpi.key,
                owner_role=role.value,
                owner_user_id=assignees.get(role),
            )
        )
        counts["raised"] += 1
        return
    if found.status == "resolved":
        if not _was_cleared(found.resolution):
            return  # resolved by hand while crossed: the person's decision stands
        found.status, found.resolution, found.resolved_at, found.resolved_by_user_id = "open", "", None, None
        counts["reopened"] += 1
    if found.detail != detail:
        found.detail = detail


def _was_cleared(resolution: str) -> bool:
    return resolution.startswith(CLEARED_WORDS) or f"; {CLEARED_WORDS}" in resolution


def _clear(found: m.WorkItem, stamp: datetime, counts: dict[str, int]) -> None:
    words = f"{CLEARED_WORDS}: back within its threshold"
    if found.status != "resolved":
        found.status, found.resolution, found.resolved_at = "resolved", words, stamp
        found.resolved_by_user_id = None
        counts["resolved"] += 1
    elif not _was_cleared(found.resolution):
        found.resolution = f"{found.resolution}; {words}"[:2000]


# --- the demo ------------------------------------------------------------------------------------

DEMO_GOAL_STEP_CENTS = 50_000  # goals are set in round $500s


def seed_demo_kpis(session: Session, actor: Actor, practice_id: int, today: date) -> dict[str, int]:
    """Give the demo practice a monthly collections goal: 10% above what it collected on average
    over its last three full months (cash postings), rounded up to $500; the thresholds keep
    their defaults. Idempotent: a practice that has a goal keeps it. Returns what it set."""
    practice = session.get(m.Practice, practice_id)
    if practice is None:
        raise NotFound("practice not found")
    if kpi_settings(practice).goal_cents:
        return {"goal_cents": 0}
    first = today.replace(day=1)
    start = (first - timedelta(days=1)).replace(day=1)
    start = ((start - timedelta(days=1)).replace(day=1) - timedelta(days=1)).replace(day=1)
    average = _cash_between(session, practice_id, start, first - timedelta(days=1)) // 3
    step = DEMO_GOAL_STEP_CENTS
    goal = max(step, -(-(average * 11 // 10) // step) * step)
    update_kpi_settings(session, actor=actor, practice_id=practice_id, thresholds={}, goal=format_plain(goal))
    return {"goal_cents": goal}
