"""Revenue recognition: sessions completed, billed and paid, month by month.

For each month of the range (the last 12 by default, this one included):

* **Sessions completed**: sessions held (appointment status ``show``) with their date of
  service in the month;
* **Billed (by date of service)**: the charges the ledger recognised as revenue (``revenue``
  credits, net of reversals) for charges whose session's date of service is in the month;
* **Billed (by posting date)**: the same revenue postings by their accounting date, which is
  what the ledger's books show for the month;
* **Paid**: money received, by the accounting date of its ``cash`` postings carrying a
  payment (a voided or reversed payment counts through its reversing postings, so it nets
  out; refunds sent are not receipts and are left out), insurance and patient apart by the
  payment's kind.

The totals equal the ledger's revenue and cash-receipt postings over the same dates.
Grouping is by day in SQL (at most a few hundred rows), the months are summed here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.adapters.report_export import Column, ReportTable, table_of
from revcycle.db import models as m
from revcycle.domain.ledger import Account
from revcycle.domain.ledger_events import TransactionKind
from revcycle.domain.permissions import Permission
from revcycle.services.actor import Actor
from revcycle.services.reports import DateRange, month_start, months_of
from revcycle.services.scoping import practice_scopes

__all__ = ["RevenueMonth", "RevenueReport", "revenue_recognition", "revenue_table"]


@dataclass(frozen=True)
class RevenueMonth:
    month: date  # the first day
    sessions_completed: int = 0
    billed_by_service_cents: int = 0
    billed_posted_cents: int = 0
    paid_insurance_cents: int = 0
    paid_patient_cents: int = 0

    @property
    def paid_cents(self) -> int:
        return self.paid_insurance_cents + self.paid_patient_cents

    @property
    def label(self) -> str:
        return self.month.strftime("%b %Y")


@dataclass(frozen=True)
class RevenueReport:
    period: DateRange
    today: date
    months: tuple[RevenueMonth, ...]

    @property
    def total(self) -> RevenueMonth:
        return RevenueMonth(
            self.period.from_on,
            sum(x.sessions_completed for x in self.months),
            sum(x.billed_by_service_cents for x in self.months),
            sum(x.billed_posted_cents for x in self.months),
            sum(x.paid_insurance_cents for x in self.months),
            sum(x.paid_patient_cents for x in self.months),
        )

    notes: tuple[str, ...] = (
        "Sessions completed: held sessions by date of service.",
        "Billed by date of service: revenue postings of charges whose session was in the month; "
        "billed by posting date: the same postings by accounting date.",
        "Paid: cash receipts (cash postings of payments, reversals netted, refunds left out) by "
        "accounting date; insurance and patient by the payment's kind.",
    )


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _by_month(rows: Any) -> dict[date, int]:
    out: dict[date, int] = defaultdict(int)
    for day, value in rows:
        out[month_start(_day(day))] += int(value or 0)
    return out


def revenue_recognition(
    db: Session, *, actor: Actor, practice_id: int, period: DateRange, today: date
) -> RevenueReport:
    """The months of ``period`` (see the module docstring)."""
    practice_scopes(actor, Permission.RUN_REPORTS, practice_id)
    s, p = m.ServiceSession, m.Posting
    in_range = (period.from_on, period.to_on)
    sessions = _by_month(
        db.execute(
            select(s.service_on, func.count())
            .where(
                s.practice_id == practice_id, s.appointment_status == "show", s.service_on.between(*in_range)
            )
            .group_by(s.service_on)
        )
    )
    revenue = (p.practice_id == practice_id, p.account == Account.REVENUE.value)
    by_service = _by_month(
        db.execute(
            select(s.service_on, -func.sum(p.amount_cents))
            .select_from(p)
            .join(m.Charge, m.Charge.id == p.charge_id)
            .join(s, s.id == m.Charge.session_id)
            .where(*revenue, s.service_on.between(*in_range))
            .group_by(s.service_on)
        )
    )
    posted = _by_month(
        db.execute(
            select(p.accounting_on, -func.sum(p.amount_cents))
            .where(*revenue, p.accounting_on.between(*in_range))
            .group_by(p.accounting_on)
        )
    )
    paid: dict[str, dict[date, int]] = {"insurance": {}, "patient": {}}
    for kind in paid:
        paid[kind] = _by_month(db.execute(_receipts(practice_id, in_range, kind)))
    months = tuple(
        RevenueMonth(
            month,
            sessions.get(month, 0),
            by_service.get(month, 0),
            posted.get(month, 0),
            paid["insurance"].get(month, 0),
            paid["patient"].get(month, 0),
        )
        for month in months_of(period)
    )
    return RevenueReport(period, today, months)


def _receipts(practice_id: int, in_range: tuple[date, date], kind: str) -> Any:
    """Cash postings of payments of ``kind`` by accounting date (refunds sent left out)."""
    p = m.Posting
    return (
        select(p.accounting_on, func.sum(p.amount_cents))
        .select_from(p)
        .join(m.Payment, m.Payment.id == p.payment_id)
        .join(m.LedgerTransaction, m.LedgerTransaction.id == p.transaction_id)
        .where(
            p.practice_id == practice_id,
            p.account == Account.CASH.value,
            p.accounting_on.between(*in_range),
            m.Payment.kind == kind,
            m.LedgerTransaction.kind != TransactionKind.REFUND_PAID.value,
        )
        .group_by(p.accounting_on)
    )


def revenue_table(report: RevenueReport) -> ReportTable:
    columns = (
        Column("month", "Month"),
        Column("sessions", "Sessions completed", "int"),
        Column("billed_service", "Billed (date of service)", "cents"),
        Column("billed_posted", "Billed (posting date)", "cents"),
        Column("paid_insurance", "Paid by insurance", "cents"),
        Column("paid_patient", "Paid by patients", "cents"),
        Column("paid", "Paid in all", "cents"),
    )
    return table_of(
        "Revenue recognition",
        columns,
        [_row(x, x.month.strftime("%Y-%m")) for x in report.months],
        generated_on=report.today,
        filters=[("Months", report.period.label)],
        totals=_row(report.total, "Total"),
        notes=report.notes,
    )


def _row(x: RevenueMonth, label: str) -> dict[str, Any]:
    return {
        "month": label,
        "sessions": x.sessions_completed,
        "billed_service": x.billed_by_service_cents,
        "billed_posted": x.billed_posted_cents,
        "paid_insurance": x.paid_insurance_cents,
        "paid_patient": x.paid_patient_cents,
        "paid": x.paid_cents,
    }
