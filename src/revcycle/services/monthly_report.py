"""The monthly report: the month's key figures as a PDF, kept and mailed to the practice's
administrators once.

Figures of month M (first to last day, the practice's dates), from the ledger:

* **Sessions**: sessions with a date of service in M (held: appointment status "show").
* **Charges**: ``revenue`` credits dated (``accounting_on``) in M.
* **Collections**: ``cash`` postings carrying a payment id dated in M, split by the payment's
  kind (insurance, patient); a reversed payment counts through its reversing postings.
* **A/R at month end**: ``ar:insurance`` + ``ar:patient`` postings dated up to the last day
  of M (credit balances net in); **aging** by days from the charge's date of service to the
  last day of M (0-30, 31-60, 61-90, 91-120, 121+), so the buckets sum to the A/R.
* **Denial rate**: claims whose first adjudication (the first claim event to adjudicated,
  paid, partially paid or denied) happened in M, denied on it / all of them.
* **Forecast**: collections expected in the 30 days after the last day of M
  (services/forecast.py), as a 10th-90th percentile range.

Sending is idempotent per practice and month: the send is recorded in the audit log
(action ``send``, entity ``monthly_report``, id ``YYYY-MM``) and a second call finds it and
sends nothing. The PDF is kept as a stored file (kind ``monthly_report``). Mail leaves after
the record is written in the caller's transaction: a transaction that fails after the send
may send again on the next run (at least once, never silently lost).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from revcycle.adapters.mail import Attachment, Mailer, MailMessage
from revcycle.adapters.monthly_report_pdf import AgingLine, MonthlyReport, render_monthly_report_pdf
from revcycle.db import models as m
from revcycle.domain.ledger import Account
from revcycle.domain.permissions import Permission, Role
from revcycle.errors import InvalidInput, NotFound
from revcycle.money import format_cents
from revcycle.services import audit
from revcycle.services import forecast as forecast_service
from revcycle.services.actor import Actor
from revcycle.services.stored_files import store_file

__all__ = [
    "AGING_BUCKETS",
    "SendOutcome",
    "build_monthly_report",
    "month_of",
    "previous_month",
    "seed_demo_monthly_report",
    "send_monthly_report",
    "send_monthly_reports_everywhere",
]

AUDIT_ENTITY = "monthly_report"
FILE_KIND = "monthly_report"
AGING_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0-30", 30),
    ("31-60", 60),
    ("61-90", 90),
    ("91-120", 120),
    ("121+", None),
)
ADJUDICATED = ("adjudicated", "paid", "partially_paid", "denied")
NOTES = (
    "Sessions: date of service in the month; held = appointment status show.",
    "Charges: revenue postings dated in the month.",
    "Collections: cash postings of payments dated in the month (insurance and patient).",
    "A/R: ar:insurance + ar:patient postings dated up to the month end; aged from the date of service.",
    "Denial rate: claims first adjudicated in the month that were denied on it / claims first adjudicated.",
    "Forecast: 10th-90th percentile of a seeded simulation from each payer's payment history by claim age.",
)

P = m.Posting


def month_of(text: str) -> date:
    """``2026-10`` as the first day of that month; InvalidInput names the expected form."""
    try:
        return datetime.strptime(text, "%Y-%m").replace(tzinfo=UTC).date()
    except ValueError:
        raise InvalidInput(f"month: {text!r} is not a month (YYYY-MM, e.g. 2026-10)") from None


def previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _sessions(db: Session, practice_id: int, month: date, end: date) -> tuple[int, int]:
    held = case((m.ServiceSession.appointment_status == "show", 1), else_=0)
    query = select(func.count(), func.coalesce(func.sum(held), 0)).where(
        m.ServiceSession.practice_id == practice_id,
        m.ServiceSession.service_on >= month,
        m.ServiceSession.service_on <= end,
    )
    total, shown = db.execute(query).one()
    return int(total), int(shown)


def _charges(db: Session, practice_id: int, month: date, end: date) -> int:
    query = select(func.coalesce(func.sum(P.amount_cents), 0)).where(
        P.practice_id == practice_id,
        P.account == Account.REVENUE.value,
        P.accounting_on >= month,
        P.accounting_on <= end,
    )
    return -int(db.scalar(query) or 0)


def _collections(db: Session, practice_id: int, month: date, end: date) -> dict[str, int]:
    query = (
        select(m.Payment.kind, func.sum(P.amount_cents))
        .join(m.Payment, m.Payment.id == P.payment_id)
        .where(
            P.practice_id == practice_id,
            P.account == Account.CASH.value,
            P.accounting_on >= month,
            P.accounting_on <= end,
        )
        .group_by(m.Payment.kind)
    )
    found = {"insurance": 0, "patient": 0}
    found.update({str(kind): int(cents) for kind, cents in db.execute(query)})
    return found


def _aging(db: Session, practice_id: int, end: date) -> list[AgingLine]:
    served = func.coalesce(m.ServiceSession.service_on, P.accounting_on)
    whens = [
        (served >= end - timedelta(days=high), index)
        for index, (_, high) in enumerate(AGING_BUCKETS)
        if high is not None
    ]
    rows = (
        select(case(*whens, else_=len(AGING_BUCKETS) - 1).label("bucket"), P.amount_cents.label("amount"))
        .outerjoin(m.Charge, m.Charge.id == P.charge_id)
        .outerjoin(m.ServiceSession, m.ServiceSession.id == m.Charge.session_id)
        .where(
            P.practice_id == practice_id,
            P.account.in_(forecast_service.AR_ACCOUNTS),
            P.accounting_on <= end,
        )
        .subquery()
    )
    sums = dict.fromkeys(range(len(AGING_BUCKETS)), 0)
    query = select(rows.c.bucket, func.sum(rows.c.amount)).group_by(rows.c.bucket)
    sums.update({int(bucket): int(cents) for bucket, cents in db.execute(query)})
    return [AgingLine(label, sums[index]) for index, (label, _) in enumerate(AGING_BUCKETS)]


def _utc_bounds(practice: m.Practice, month: date, end: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(practice.timezone)
    start = datetime.combine(month, time.min, tzinfo=zone).astimezone(UTC)
    stop = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return start, stop


def _denials(db: Session, practice: m.Practice, month: date, end: date) -> tuple[int, int]:
    """(first adjudications in the month, of which denials)."""
    first = (
        select(func.min(m.ClaimEvent.id).label("event_id"))
        .where(m.ClaimEvent.practice_id == practice.id, m.ClaimEvent.to_status.in_(ADJUDICATED))
        .group_by(m.ClaimEvent.claim_id)
        .subquery()
    )
    start, stop = _utc_bounds(practice, month, end)
    denied = case((m.ClaimEvent.to_status == "denied", 1), else_=0)
    query = (
        select(func.count(), func.coalesce(func.sum(denied), 0))
        .join(first, first.c.event_id == m.ClaimEvent.id)
        .where(m.ClaimEvent.created_at >= start, m.ClaimEvent.created_at < stop)
    )
    total, denials = db.execute(query).one()
    return int(total), int(denials)


def build_monthly_report(
    db: Session, *, actor: Actor, practice_id: int, month: date, today: date
) -> MonthlyReport:
    """The figures of ``month`` (any day of it) for one practice."""
    actor.require(practice_id, Permission.RUN_REPORTS)
    practice = db.get(m.Practice, practice_id)
    if practice is None:
        raise NotFound(f"practice {practice_id} not found")
    month = month.replace(day=1)
    end = _month_end(month)
    if end >= today:
        raise InvalidInput(f"month: {month:%Y-%m} is not over yet on {today.isoformat()}")
    total, held = _sessions(db, practice_id, month, end)
    collected = _collections(db, practice_id, month, end)
    aging = _aging(db, practice_id, end)
    adjudicated, denied = _denials(db, practice, month, end)
    predicted = forecast_service.forecast(db, actor, practice_id, end)
    return MonthlyReport(
        practice_name=practice.name,
        month=month,
        month_end=end,
        generated_on=today,
        sessions_total=total,
        sessions_held=held,
        charges_cents=_charges(db, practice_id, month, end),
        insurance_collections_cents=collected["insurance"],
        patient_collections_cents=collected["patient"],
        ar_end_cents=sum(line.amount_cents for line in aging),
        aging=tuple(aging),
        adjudicated_claims=adjudicated,
        denied_claims=denied,
        forecast_low_cents=predicted.total.low_cents,
        forecast_median_cents=predicted.total.median_cents,
        forecast_high_cents=predicted.total.high_cents,
        forecast_through=predicted.through,
        notes=NOTES,
    )


@dataclass(frozen=True)
class SendOutcome:
    practice_id: int
    month: date
    sent: bool  # False: it had been sent before (or nobody to send it to)
    recipients: tuple[str, ...]
    stored_file_id: int | None
    where: str  # what the mailer answered (an .eml path, a message id), or why nothing went
    audit_id: int | None


def _already_sent(db: Session, practice_id: int, month: date) -> m.AuditLog | None:
    query = (
        select(m.AuditLog)
        .where(
            m.AuditLog.practice_id == practice_id,
            m.AuditLog.entity == AUDIT_ENTITY,
            m.AuditLog.action == "send",
            m.AuditLog.entity_id == f"{month:%Y-%m}",
        )
        .limit(1)
    )
    return db.scalars(query).first()


def _admin_emails(db: Session, practice_id: int) -> tuple[str, ...]:
    query = (
        select(m.User.email)
        .join(m.Membership, m.Membership.user_id == m.User.id)
        .where(
            m.Membership.practice_id == practice_id,
            m.Membership.role == Role.ADMIN.value,
            m.User.is_active.is_(True),
        )
        .distinct()
        .order_by(m.User.email)
    )
    return tuple(str(email) for email in db.scalars(query))


def filename_of(practice_id: int, month: date) -> str:
    return f"monthly-report-{practice_id}-{month:%Y-%m}.pdf"


def send_monthly_report(
    db: Session, *, actor: Actor, practice_id: int, month: date, today: date, mailer: Mailer
) -> SendOutcome:
    """Build, keep and mail ``month``'s report to the practice's administrators, once."""
    actor.require(practice_id, Permission.RUN_REPORTS)
    month = month.replace(day=1)
    # One sender per practice at a time: a second job waits here, then finds the first's record.
    db.execute(select(m.Practice.id).where(m.Practice.id == practice_id).with_for_update())
    earlier = _already_sent(db, practice_id, month)
    if earlier is not None:
        after = earlier.after or {}
        return SendOutcome(
            practice_id,
            month,
            sent=False,
            recipients=tuple(after.get("to", ())),
            stored_file_id=after.get("stored_file_id"),
            where=f"already sent on {earlier.created_at:%Y-%m-%d}",
            audit_id=earlier.id,
        )
    recipients = _admin_emails(db, practice_id)
    if not recipients:
        return SendOutcome(practice_id, month, False, (), None, "no active administrator to send it to", None)
    report = build_monthly_report(db, actor=actor, practice_id=practice_id, month=month, today=today)
    pdf = render_monthly_report_pdf(report)
    name = filename_of(practice_id, month)
    stored = store_file(
        db, actor=actor, practice_id=practice_id, kind=FILE_KIND, direction="out", filename=name, content=pdf
    )
    row = audit.record(
        db,
        actor=actor,
        practice_id=practice_id,
        action="send",
        entity=AUDIT_ENTITY,
        entity_id=f"{month:%Y-%m}",
        after={"to": list(recipients), "stored_file_id": stored.id, "sha256": stored.sha256},
        reason="monthly report",
    )
    message = MailMessage(
        to=recipients,
        subject=f"{report.practice_name}: {report.title}",
        text=_body(report),
        attachments=(Attachment(name, pdf, "application/pdf"),),
    )
    where = mailer.send(message)
    return SendOutcome(practice_id, month, True, recipients, stored.id, where, row.id)


def _body(report: MonthlyReport) -> str:
    rate = "n/a" if report.denial_rate is None else f"{report.denial_rate:.1%}"
    return (
        f"{report.title} for {report.practice_name} is attached.\n\n"
        f"Charges {format_cents(report.charges_cents)}, collections "
        f"{format_cents(report.collections_cents)}, A/R at month end {format_cents(report.ar_end_cents)}, "
        f"denial rate {rate}.\n"
        f"Expected collections through {report.forecast_through.isoformat()}: "
        f"{format_cents(report.forecast_median_cents)} ({format_cents(report.forecast_low_cents)} to "
        f"{format_cents(report.forecast_high_cents)}).\n"
    )


def practice_today(practice: m.Practice, now: datetime) -> date:
    return now.astimezone(ZoneInfo(practice.timezone)).date()


def send_monthly_reports_everywhere(
    db: Session, *, actor: Actor, now: datetime, mailer: Mailer
) -> list[SendOutcome]:
    """Last month's report of every practice (each practice's own today), once each."""
    outcomes = []
    for practice in db.scalars(select(m.Practice).order_by(m.Practice.id)):
        today = practice_today(practice, now)
        outcomes.append(
            send_monthly_report(
                db,
                actor=actor,
                practice_id=practice.id,
                month=previous_month(today),
                today=today,
                mailer=mailer,
            )
        )
    return outcomes


def seed_demo_monthly_report(
    session: Session, actor: Actor, practice_id: int, today: date, *, mailer: Mailer | None = None
) -> dict[str, int]:
    """The demo: last month's report, kept and written to the outbox (var/outbox by default),
    so a newcomer finds the director's mail. Returns counts (sent, stored files)."""
    if mailer is None:
        from revcycle.adapters.mail import mailer_from_settings
        from revcycle.config import get_settings

        mailer = mailer_from_settings(get_settings())
    outcome = send_monthly_report(
        session, actor=actor, practice_id=practice_id, month=previous_month(today), today=today, mailer=mailer
    )
    return {"monthly_reports_sent": int(outcome.sent), "recipients": len(outcome.recipients)}
