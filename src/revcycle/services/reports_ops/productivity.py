"""Provider productivity and scorecard, per clinician and month, and the compensation
calculator that pays on the same figures.

Per clinician (the session's provider; on a claim, the clinician who performed the service,
else its billing provider) and month of the date of service:

* **sessions**: sessions held (appointment ``show`` or ``completed``);
* **billable hours**: the held sessions' minutes ÷ 60: the session's own duration, else its
  charge lines' minutes, else each code's nominal minutes × units (:data:`NOMINAL_MINUTES`,
  from codesets/cpt_behavioral_health);
* **sessions per working day**: sessions ÷ the month's weekdays (Monday to Friday; the current
  month counts its weekdays up to today);
* **revenue per session**: charges on the clinician's sessions of the month (see
  :mod:`.basis`) ÷ sessions;
* **month-over-month growth**: (sessions − last month's sessions) ÷ last month's sessions;
* **portal share / electronic share**: of the clinician's claims for the month that were sent,
  the share whose first submission went through a portal / through the clearinghouse;
* **claim acceptance rate**: claims accepted on their first submission (sent once, never
  rejected, and now accepted or further: adjudicated, paid, denied, appealed) ÷ claims sent;
* **client retention**: clients the clinician saw last month who were seen by them again this
  month ÷ clients seen last month;
* **documentation speed**: the average days from the date of service to the note's lock
  (the lock's date in UTC), over the month's held sessions with a locked note; **on time** = locked
  within the compensation guide's ``on_time_days``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Date, Integer, and_, case, cast, exists, func, select
from sqlalchemy.orm import Session, aliased

from revcycle.adapters.report_export import Column, ReportTable
from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.compensation import (
    FORMULA,
    ClinicianMonth,
    CompensationParameters,
    Pay,
    compute_pay,
    parse_parameters,
)
from revcycle.domain.ledger import Account
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.reports_ops.basis import CHARGES_FORMULA, require_reports
from revcycle.services.sessions import HELD_STATUSES, month_bounds

__all__ = [
    "NOMINAL_MINUTES",
    "Compensation",
    "CompensationRow",
    "Productivity",
    "ProductivityRow",
    "compensation",
    "compensation_parameters",
    "compensation_table",
    "productivity",
    "productivity_table",
    "save_compensation_parameters",
    "seed_demo_compensation",
]

# Minutes a code stands for when neither the session nor the line says (nominal times of the
# timed psychotherapy codes; an hour for evaluations and group; 15 per unit for the HCPCS
# per-15-minute codes). Add-on and instrument codes (90785, 96127) add no time.
NOMINAL_MINUTES: dict[str, int] = {
    "90791": 60,
    "90792": 60,
    "90832": 30,
    "90834": 45,
    "90837": 60,
    "90839": 60,
    "90840": 30,
    "90846": 50,
    "90847": 50,
    "90853": 60,
    "H0004": 15,
    "H2011": 15,
    "H2014": 15,
    "H2017": 15,
}
MAX_MONTHS = 24
_ACCEPTED_OR_LATER = sorted(
    str(s)
    for s in (
        ClaimStatus.ACCEPTED,
        ClaimStatus.ADJUDICATED,
        ClaimStatus.PAID,
        ClaimStatus.PARTIALLY_PAID,
        ClaimStatus.DENIED,
        ClaimStatus.APPEALED,
    )
)
_HELD = sorted(HELD_STATUSES)
SCORECARD_NOTES = (
    "sessions: held sessions by date of service",
    "billable hours = the sessions' minutes (else their codes' minutes) ÷ 60",
    "sessions per working day = sessions ÷ weekdays of the month (up to today in the current month)",
    f"revenue per session = charges ÷ sessions; {CHARGES_FORMULA}",
    "growth = (sessions − last month's) ÷ last month's",
    "portal / electronic share = claims first sent through a portal / the clearinghouse ÷ claims sent",
    "acceptance rate = claims accepted on first submission ÷ claims sent "
    "(accepted on first submission: sent once, never rejected, accepted or further)",
    "retention = last month's clients seen again this month ÷ last month's clients",
    "documentation speed = average days from the date of service to the note's lock",
)


@dataclass(frozen=True)
class MonthFigures:
    """One clinician's raw counts for one month (everything the scorecard divides)."""

    sessions: int = 0
    minutes: int = 0
    charges_cents: int = 0
    documented: int = 0
    on_time: int = 0
    documentation_days: int = 0
    claims_sent: int = 0
    portal: int = 0
    electronic: int = 0
    accepted_first: int = 0
    last_month_clients: int = 0
    retained_clients: int = 0


@dataclass(frozen=True)
class ProductivityRow:
    provider_id: int
    provider_name: str
    month: date
    figures: MonthFigures
    previous_sessions: int
    working_days: int

    @property
    def sessions(self) -> int:
        return self.figures.sessions

    @property
    def billable_hours(self) -> Decimal:
        return (Decimal(self.figures.minutes) / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def sessions_per_day(self) -> Decimal | None:
        if not self.working_days:
            return None
        return (Decimal(self.sessions) / self.working_days).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def revenue_per_session_cents(self) -> int | None:
        return _per(self.figures.charges_cents, self.sessions)

    @property
    def growth(self) -> float | None:
        if not self.previous_sessions:
            return None
        return (self.sessions - self.previous_sessions) / self.previous_sessions

    @property
    def portal_share(self) -> float | None:
        return _ratio(self.figures.portal, self.figures.claims_sent)

    @property
    def electronic_share(self) -> float | None:
        return _ratio(self.figures.electronic, self.figures.claims_sent)

    @property
    def acceptance_rate(self) -> float | None:
        return _ratio(self.figures.accepted_first, self.figures.claims_sent)

    @property
    def retention(self) -> float | None:
        return _ratio(self.figures.retained_clients, self.figures.last_month_clients)

    @property
    def documentation_days(self) -> Decimal | None:
        if not self.figures.documented:
            return None
        return (Decimal(self.figures.documentation_days) / self.figures.documented).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )


@dataclass(frozen=True)
class Productivity:
    first_month: date
    last_month: date
    rows: list[ProductivityRow]
    provider_id: int | None = None

    @property
    def sessions(self) -> int:
        return sum(row.sessions for row in self.rows)

    @property
    def billable_hours(self) -> Decimal:
        return sum((row.billable_hours for row in self.rows), Decimal("0.00"))

    @property
    def charges_cents(self) -> int:
        return sum(row.figures.charges_cents for row in self.rows)

    @property
    def revenue_per_session_cents(self) -> int | None:
        return _per(self.charges_cents, self.sessions)

    def _sum(self, name: str) -> int:
        return sum(int(getattr(row.figures, name)) for row in self.rows)

    @property
    def totals(self) -> dict[str, Any]:
        sent = self._sum("claims_sent")
        documented = self._sum("documented")
        return {
            "sessions": self.sessions,
            "billable_hours": self.billable_hours,
            "charges_cents": self.charges_cents,
            "revenue_per_session_cents": self.revenue_per_session_cents,
            "portal_share": _ratio(self._sum("portal"), sent),
            "electronic_share": _ratio(self._sum("electronic"), sent),
            "acceptance_rate": _ratio(self._sum("accepted_first"), sent),
            "retention": _ratio(self._sum("retained_clients"), self._sum("last_month_clients")),
            "documentation_days": (
                (Decimal(self._sum("documentation_days")) / documented).quantize(
                    Decimal("0.1"), ROUND_HALF_UP
                )
                if documented
                else None
            ),
        }


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _per(cents: int, count: int) -> int | None:
    if not count:
        return None
    return int((Decimal(cents) / count).to_integral_value(ROUND_HALF_UP))


def months_between(first: date, last: date) -> list[date]:
    """The first days of every month from ``first``'s to ``last``'s (InvalidInput when
    reversed or longer than :data:`MAX_MONTHS`)."""
    start, end = first.replace(day=1), last.replace(day=1)
    if start > end:
        raise InvalidInput(f"since: {start:%Y-%m} is after until {end:%Y-%m}")
    months = [start]
    while months[-1] < end:
        months.append(month_bounds(months[-1])[1])
        if len(months) > MAX_MONTHS:
            raise InvalidInput(f"until: at most {MAX_MONTHS} months, please")
    return months


def working_days(month: date, today: date) -> int:
    """Weekdays (Monday to Friday) of the month, up to ``today`` when the month holds it."""
    first, following = month_bounds(month)
    last = min(following - timedelta(days=1), today)
    count, day = 0, first
    while day <= last:
        count += day.weekday() < 5
        day += timedelta(days=1)
    return count


# --- the month's figures, grouped by clinician in SQL ----------------------------------------


def _days_to_lock(db: Session) -> Any:
    """Days from the date of service to the note's lock, in the database's own date math."""
    if db.get_bind().dialect.name == "postgresql":
        locked_on = cast(func.timezone("UTC", m.ServiceSession.note_locked_at), Date)
        return locked_on - m.ServiceSession.service_on
    return cast(
        func.julianday(func.date(m.ServiceSession.note_locked_at))
        - func.julianday(m.ServiceSession.service_on),
        Integer,
    )


def _rows(db: Session, query: Any) -> dict[int, tuple[int, ...]]:
    return {int(row[0]): tuple(int(v or 0) for v in row[1:]) for row in db.execute(query)}


def _month_figures(
    db: Session, practice_id: int, month: date, *, today: date, on_time_days: int, provider_id: int | None
) -> dict[int, MonthFigures]:
    first, following = month_bounds(month)
    previous = month_bounds(first - timedelta(days=1))[0]
    s = m.ServiceSession
    in_month = [s.practice_id == practice_id, s.service_on >= first, s.service_on < following]
    if provider_id is not None:
        in_month.append(s.provider_id == provider_id)
    held = [*in_month, s.appointment_status.in_(_HELD)]
    sessions = _rows(
        db,
        select(s.provider_id, func.count(), func.sum(s.duration_minutes))
        .where(*held)
        .group_by(s.provider_id),
    )
    minutes = _code_minutes(db, held)
    days = _days_to_lock(db)
    notes = _rows(
        db,
        select(
            s.provider_id,
            func.count(),
            func.sum(case((days <= on_time_days, 1), else_=0)),
            func.sum(days),
        )
        .where(*held, s.note_status == "locked", s.note_locked_at.is_not(None))
        .group_by(s.provider_id),
    )
    charges = _rows(
        db,
        select(s.provider_id, -func.sum(m.Posting.amount_cents))
        .select_from(s)
        .join(m.Charge, m.Charge.session_id == s.id)
        .join(m.Posting, m.Posting.charge_id == m.Charge.id)
        .where(*in_month, m.Posting.account == Account.REVENUE.value, m.Posting.accounting_on <= today)
        .group_by(s.provider_id),
    )
    claims = _claim_figures(db, practice_id, first, following, provider_id)
    retention = _retention(
        db, practice_id, previous, first=first, following=following, provider_id=provider_id
    )
    providers = set(sessions) | set(minutes) | set(charges) | set(claims) | set(retention) | set(notes)
    result = {}
    for pid in providers:
        count, session_minutes = sessions.get(pid, (0, 0))
        documented, on_time, documentation_days = notes.get(pid, (0, 0, 0))
        sent, portal, electronic, accepted = claims.get(pid, (0, 0, 0, 0))
        last_clients, retained = retention.get(pid, (0, 0))
        result[pid] = MonthFigures(
            sessions=count,
            minutes=session_minutes + minutes.get(pid, 0),
            charges_cents=charges.get(pid, (0,))[0],
            documented=documented,
            on_time=on_time,
            documentation_days=documentation_days,
            claims_sent=sent,
            portal=portal,
            electronic=electronic,
            accepted_first=accepted,
            last_month_clients=last_clients,
            retained_clients=retained,
        )
    return result


def _code_minutes(db: Session, held: list[Any]) -> dict[int, int]:
    """Minutes of held sessions without a duration: their lines' minutes, else the codes'."""
    s = m.ServiceSession
    query = (
        select(
            s.provider_id,
            m.Charge.procedure_code,
            func.sum(func.coalesce(m.Charge.minutes, 0)),
            func.sum(case((m.Charge.minutes.is_(None), m.Charge.units), else_=0)),
        )
        .join(m.Charge, m.Charge.session_id == s.id)
        .where(*held, s.duration_minutes.is_(None))
        .group_by(s.provider_id, m.Charge.procedure_code)
    )
    result: dict[int, int] = defaultdict(int)
    for pid, code, line_minutes, untimed_units in db.execute(query):
        result[pid] += int(line_minutes or 0) + NOMINAL_MINUTES.get(code, 0) * int(untimed_units or 0)
    return result


def _claim_figures(
    db: Session, practice_id: int, first: date, following: date, provider_id: int | None
) -> dict[int, tuple[int, ...]]:
    """Per clinician: claims sent (of the month's services), first sent by portal, by the
    clearinghouse, and accepted on their first submission."""
    clinician = func.coalesce(m.Claim.performed_by_provider_id, m.Claim.provider_id)
    month_claims = select(m.Claim.id).where(
        m.Claim.practice_id == practice_id,
        m.Claim.service_from_on >= first,
        m.Claim.service_from_on < following,
    )
    sends = (
        select(
            m.Submission.claim_id.label("claim_id"),
            func.min(m.Submission.id).label("first_id"),
            func.count().label("sends"),
        )
        .where(m.Submission.practice_id == practice_id, m.Submission.claim_id.in_(month_claims))
        .group_by(m.Submission.claim_id)
        .subquery()
    )
    first_send = aliased(m.Submission)
    rejected = exists().where(
        m.ClaimEvent.claim_id == m.Claim.id, m.ClaimEvent.to_status == str(ClaimStatus.REJECTED)
    )
    accepted = and_(sends.c.sends == 1, ~rejected, m.Claim.status.in_(_ACCEPTED_OR_LATER))
    where = [
        m.Claim.practice_id == practice_id,
        m.Claim.service_from_on >= first,
        m.Claim.service_from_on < following,
        clinician.is_not(None),
    ]
    if provider_id is not None:
        where.append(clinician == provider_id)
    query = (
        select(
            clinician,
            func.count(),
            func.sum(case((first_send.channel == "portal", 1), else_=0)),
            func.sum(case((first_send.channel == "clearinghouse", 1), else_=0)),
            func.sum(case((accepted, 1), else_=0)),
        )
        .select_from(m.Claim)
        .join(sends, sends.c.claim_id == m.Claim.id)
        .join(first_send, first_send.id == sends.c.first_id)
        .where(*where)
        .group_by(clinician)
    )
    return _rows(db, query)


def _retention(
    db: Session, practice_id: int, previous: date, *, first: date, following: date, provider_id: int | None
) -> dict[int, tuple[int, ...]]:
    """Per clinician: distinct clients seen last month, and how many of them were seen again."""
    s = m.ServiceSession
    again = aliased(m.ServiceSession)
    seen_again = exists().where(
        again.practice_id == practice_id,
        again.provider_id == s.provider_id,
        again.client_id == s.client_id,
        again.appointment_status.in_(_HELD),
        again.service_on >= first,
        again.service_on < following,
    )
    where = [
        s.practice_id == practice_id,
        s.service_on >= previous,
        s.service_on < first,
        s.appointment_status.in_(_HELD),
    ]
    if provider_id is not None:
        where.append(s.provider_id == provider_id)
    query = (
        select(
            s.provider_id,
            func.count(func.distinct(s.client_id)),
            func.count(func.distinct(case((seen_again, s.client_id), else_=None))),
        )
        .where(*where)
        .group_by(s.provider_id)
    )
    return _rows(db, query)


def provider_names(db: Session, practice_id: int) -> dict[int, str]:
    found = db.execute(
        select(m.Provider.id, m.Provider.first_name, m.Provider.last_name, m.Provider.credentials).where(
            m.Provider.practice_id == practice_id
        )
    )
    return {pid: f"{first} {last}" + (f", {cred}" if cred else "") for pid, first, last, cred in found}


def productivity(
    db: Session,
    *,
    actor: Actor,
    practice_id: int,
    first_month: date,
    last_month: date,
    today: date,
    provider_id: int | None = None,
) -> Productivity:
    """The scorecard of every clinician (or one), one row per clinician and month with work."""
    require_reports(actor, practice_id)
    months = months_between(first_month, last_month)
    on_time_days = compensation_parameters(db, practice_id).on_time_days
    names = provider_names(db, practice_id)
    before = month_bounds(months[0] - timedelta(days=1))[0]
    previous = _month_figures(
        db, practice_id, before, today=today, on_time_days=on_time_days, provider_id=provider_id
    )
    rows: list[ProductivityRow] = []
    for month in months:
        figures = _month_figures(
            db, practice_id, month, today=today, on_time_days=on_time_days, provider_id=provider_id
        )
        for pid, fig in figures.items():
            prior = previous.get(pid, MonthFigures()).sessions
            rows.append(
                ProductivityRow(
                    pid, names.get(pid, f"provider {pid}"), month, fig, prior, working_days(month, today)
                )
            )
        previous = figures
    rows.sort(key=lambda row: (row.provider_name.lower(), row.provider_id, row.month))
    return Productivity(months[0], months[-1], rows, provider_id)


def productivity_table(report: Productivity, today: date) -> ReportTable:
    columns = (
        Column("provider", "Clinician"),
        Column("month", "Month"),
        Column("sessions", "Sessions", "int"),
        Column("billable_hours", "Billable hours", "days"),
        Column("sessions_per_day", "Sessions per working day", "days"),
        Column("charges_cents", "Charges", "cents"),
        Column("revenue_per_session_cents", "Revenue per session", "cents"),
        Column("growth", "Growth", "share"),
        Column("portal_share", "Portal share", "share"),
        Column("electronic_share", "Electronic share", "share"),
        Column("acceptance_rate", "Acceptance rate", "share"),
        Column("retention", "Retention", "share"),
        Column("documentation_days", "Days to lock note", "days"),
    )
    rows = tuple(
        {
            "provider": row.provider_name,
            "month": f"{row.month:%Y-%m}",
            "sessions": row.sessions,
            "billable_hours": float(row.billable_hours),
            "sessions_per_day": _float(row.sessions_per_day),
            "charges_cents": row.figures.charges_cents,
            "revenue_per_session_cents": row.revenue_per_session_cents,
            "growth": row.growth,
            "portal_share": row.portal_share,
            "electronic_share": row.electronic_share,
            "acceptance_rate": row.acceptance_rate,
            "retention": row.retention,
            "documentation_days": _float(row.documentation_days),
        }
        for row in report.rows
    )
    totals = {"provider": "Total", "month": "", **report.totals}
    totals["billable_hours"] = float(report.billable_hours)
    totals["documentation_days"] = _float(totals["documentation_days"])
    months = f"{report.first_month:%Y-%m} to {report.last_month:%Y-%m}"
    return ReportTable(
        "Provider productivity", columns, rows, today, (("Months", months),), totals, SCORECARD_NOTES
    )


# --- compensation ----------------------------------------------------------------------------

SETTINGS_KEY = "compensation"


def compensation_parameters(db: Session, practice_id: int) -> CompensationParameters:
    """The practice's guide (its defaults until an administrator sets one)."""
    practice = db.get(m.Practice, practice_id)
    stored = (practice.settings or {}).get(SETTINGS_KEY) if practice is not None else None
    if not isinstance(stored, dict):
        return CompensationParameters()
    parameters, _problems = parse_parameters(stored)  # saved only after checking: always valid
    return parameters or CompensationParameters()


def save_compensation_parameters(
    db: Session, *, actor: Actor, practice_id: int, raw: dict[str, Any], reason: str = ""
) -> CompensationParameters:
    """Check and store the guide's parameters (administrators only); InvalidInput naming every
    wrong field, nothing stored; audited with the values before and after."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    parameters, problems = parse_parameters(raw)
    if parameters is None:
        detail = "; ".join(f"{p.where}: {p.message}" for p in problems)
        raise InvalidInput(detail, problems)
    practice = db.get(m.Practice, practice_id)
    assert practice is not None  # the actor is a member
    before = (practice.settings or {}).get(SETTINGS_KEY)
    practice.settings = {**(practice.settings or {}), SETTINGS_KEY: parameters.to_settings()}
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=practice_id,
        action="update",
        entity="compensation_guide",
        entity_id=practice_id,
        before=before if isinstance(before, dict) else None,
        after=parameters.to_settings(),
        reason=reason,
    )
    return parameters


# The demo practice's guide: a full-time clinician there sees 60-90 clients a month and
# bills $9,000-$14,000 (at scale 1), so some earn each bonus and some do not.
DEMO_GUIDE: dict[str, Any] = {
    "base_cents": 350_000,
    "per_session_cents": 2_000,
    "quality_bonus_cents": 30_000,
    "quality_bar_percent": "90",
    "on_time_days": 3,
    "efficiency_target_sessions": 60,
    "efficiency_per_session_cents": 1_500,
    "revenue_share_percent": "5",
    "revenue_threshold_cents": 800_000,
}


def seed_demo_compensation(db: Session, actor: Actor, practice_id: int, today: date) -> dict[str, int]:
    """Give the demo practice its compensation guide (as an administrator would, audited) and
    count what the calculator pays for last month: ``{"guides": 1, "clinicians_paid": n,
    "total_cents": t}``. ``today`` picks the month counted."""
    save_compensation_parameters(
        db,
        actor=actor,
        practice_id=practice_id,
        raw=DEMO_GUIDE,
        reason="demo: the practice's compensation guide",
    )
    last_month = month_bounds(today.replace(day=1) - timedelta(days=1))[0]
    paid = compensation(db, actor=actor, practice_id=practice_id, month=last_month, today=today)
    return {"guides": 1, "clinicians_paid": len(paid.rows), "total_cents": paid.total_cents}


@dataclass(frozen=True)
class CompensationRow:
    provider_id: int
    provider_name: str
    month: ClinicianMonth
    pay: Pay


@dataclass(frozen=True)
class Compensation:
    month: date
    parameters: CompensationParameters
    rows: list[CompensationRow]
    formula: str = FORMULA

    @property
    def total_cents(self) -> int:
        return sum(row.pay.total_cents for row in self.rows)


def compensation(
    db: Session, *, actor: Actor, practice_id: int, month: date, today: date, provider_id: int | None = None
) -> Compensation:
    """Each clinician's pay for ``month`` under the practice's guide, part by part."""
    require_reports(actor, practice_id)
    parameters = compensation_parameters(db, practice_id)
    first = month.replace(day=1)
    figures = _month_figures(
        db, practice_id, first, today=today, on_time_days=parameters.on_time_days, provider_id=provider_id
    )
    names = provider_names(db, practice_id)
    rows = []
    for pid, fig in figures.items():
        if not fig.sessions and not fig.charges_cents:
            continue
        facts = ClinicianMonth(fig.sessions, fig.documented, fig.on_time, fig.charges_cents)
        rows.append(
            CompensationRow(pid, names.get(pid, f"provider {pid}"), facts, compute_pay(parameters, facts))
        )
    rows.sort(key=lambda row: (row.provider_name.lower(), row.provider_id))
    return Compensation(first, parameters, rows)


def compensation_table(report: Compensation, today: date) -> ReportTable:
    columns = (
        Column("provider", "Clinician"),
        Column("sessions", "Sessions", "int"),
        Column("on_time", "Notes on time", "share"),
        Column("charges_cents", "Charges", "cents"),
        Column("base_cents", "Base", "cents"),
        Column("per_session_cents", "Per-session bonus", "cents"),
        Column("quality_cents", "Quality bonus", "cents"),
        Column("efficiency_cents", "Efficiency bonus", "cents"),
        Column("revenue_share_cents", "Revenue share", "cents"),
        Column("total_cents", "Total", "cents"),
    )
    rows = tuple(_pay_row(row) for row in report.rows)
    parts = (
        "base_cents",
        "per_session_cents",
        "quality_cents",
        "efficiency_cents",
        "revenue_share_cents",
        "total_cents",
    )
    totals: dict[str, Any] = {"provider": "Total", "sessions": sum(r.month.sessions for r in report.rows)}
    totals["charges_cents"] = sum(r.month.charges_cents for r in report.rows)
    for part in parts:
        totals[part] = sum(int(row[part]) for row in rows)
    return ReportTable(
        "Compensation", columns, rows, today, (("Month", f"{report.month:%Y-%m}"),), totals, (report.formula,)
    )


def _pay_row(row: CompensationRow) -> dict[str, Any]:
    share = row.month.on_time_share
    return {
        "provider": row.provider_name,
        "sessions": row.month.sessions,
        "on_time": float(share) if share is not None else None,
        "charges_cents": row.month.charges_cents,
        "base_cents": row.pay.base_cents,
        "per_session_cents": row.pay.per_session_cents,
        "quality_cents": row.pay.quality_cents,
        "efficiency_cents": row.pay.efficiency_cents,
        "revenue_share_cents": row.pay.revenue_share_cents,
        "total_cents": row.pay.total_cents,
    }
