"""Payer mix and revenue by procedure code, over a range of dates of service.

Payer mix, per payer (the payer of the first claim that billed each service; never billed:
"Self-pay" for a self-pay session, else "Not billed yet"):

* sessions: sessions with a charge line in the range attributed to the payer;
* charges and collections (see :mod:`.basis`) on those services, up to ``today``;
* each figure's share of the practice's total (shares add up to 100%).

Revenue by procedure code, per CPT/HCPCS code: the number of charge lines, their charges,
the collections on them and the average paid per line (collections ÷ lines, to the cent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from revcycle.adapters.report_export import Column, ReportTable, rows_of
from revcycle.db import models as m
from revcycle.domain.ledger import Account
from revcycle.services.actor import Actor
from revcycle.services.reports_ops.basis import (
    CHARGES_FORMULA,
    COLLECTIONS_FORMULA,
    charge_payer,
    check_range,
    collection_condition,
    require_reports,
)

__all__ = [
    "MixRow",
    "PayerMix",
    "ProcedureRevenue",
    "ProcedureRow",
    "payer_mix",
    "payer_mix_table",
    "procedure_revenue",
    "procedure_revenue_table",
]

NOT_BILLED = "Not billed yet"
SELF_PAY = "Self-pay"
_NOT_BILLED_KEY, _SELF_PAY_KEY = 0, -1  # services with no claim: by the session's self-pay flag
DATE_BASIS = "date basis: services with a date of service in the range; postings on them up to today"


@dataclass(frozen=True)
class MixRow:
    payer_id: int | None
    payer_name: str
    sessions: int
    charges_cents: int
    collections_cents: int
    session_share: float | None
    charge_share: float | None
    collection_share: float | None


@dataclass(frozen=True)
class PayerMix:
    since: date
    until: date
    rows: list[MixRow]
    sessions: int
    charges_cents: int
    collections_cents: int


@dataclass(frozen=True)
class ProcedureRow:
    procedure_code: str
    lines: int
    charges_cents: int
    paid_cents: int
    average_paid_cents: int | None


@dataclass(frozen=True)
class ProcedureRevenue:
    since: date
    until: date
    rows: list[ProcedureRow]
    lines: int
    charges_cents: int
    paid_cents: int

    @property
    def average_paid_cents(self) -> int | None:
        return _average(self.paid_cents, self.lines)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _average(cents: int, count: int) -> int | None:
    if not count:
        return None
    return int((Decimal(cents) / count).to_integral_value(ROUND_HALF_UP))


def _in_range(practice_id: int, since: date, until: date) -> list[ColumnElement[bool]]:
    return [
        m.Charge.practice_id == practice_id,
        m.ServiceSession.service_on >= since,
        m.ServiceSession.service_on <= until,
    ]


def _grouped(db: Session, query: Any) -> dict[Any, int]:
    return {key: int(value or 0) for key, value in db.execute(query)}


def _service_figures(
    db: Session,
    practice_id: int,
    *,
    since: date,
    until: date,
    today: date,
    key: Any,
    count: Any,
    joins: Sequence[Any],
) -> tuple[dict[Any, int], dict[Any, int], dict[Any, int]]:
    """Per ``key``: ``count`` of the services, their charges and their collections."""
    where = _in_range(practice_id, since, until)

    def base(*columns: Any) -> Any:
        query = select(key, *columns).select_from(m.Charge)
        query = query.join(m.ServiceSession, m.ServiceSession.id == m.Charge.session_id)
        for target, on in joins:
            query = query.outerjoin(target, on)
        return query

    counts = _grouped(db, base(count).where(*where).group_by(key))
    charges = _grouped(
        db,
        base(-func.sum(m.Posting.amount_cents))
        .join(m.Posting, m.Posting.charge_id == m.Charge.id)
        .where(*where, m.Posting.account == Account.REVENUE.value, m.Posting.accounting_on <= today)
        .group_by(key),
    )
    original, collected = collection_condition(today)
    paid = _grouped(
        db,
        base(func.sum(m.Posting.amount_cents))
        .join(m.Posting, m.Posting.charge_id == m.Charge.id)
        .join(m.LedgerTransaction, m.LedgerTransaction.id == m.Posting.transaction_id)
        .outerjoin(original, original.id == m.LedgerTransaction.reverses_transaction_id)
        .where(*where, collected)
        .group_by(key),
    )
    return counts, charges, paid


def payer_mix(
    db: Session, *, actor: Actor, practice_id: int, since: date, until: date, today: date
) -> PayerMix:
    """Per payer: sessions, charges and collections of the services in the range, and shares."""
    require_reports(actor, practice_id)
    check_range(since, until)
    in_range = (
        select(m.Charge.id)
        .join(m.ServiceSession, m.ServiceSession.id == m.Charge.session_id)
        .where(*_in_range(practice_id, since, until))
    )
    payer = charge_payer(practice_id, in_range)
    key = func.coalesce(
        payer.c.payer_id, case((m.ServiceSession.self_pay, _SELF_PAY_KEY), else_=_NOT_BILLED_KEY)
    )
    counts, charges, paid = _service_figures(
        db,
        practice_id,
        since=since,
        until=until,
        today=today,
        key=key,
        count=func.count(func.distinct(m.Charge.session_id)),
        joins=[(payer, payer.c.charge_id == m.Charge.id)],
    )
    ids = set(counts) | set(charges) | set(paid)
    names = dict(
        db.execute(select(m.Payer.id, m.Payer.name).where(m.Payer.id.in_([i for i in ids if i > 0]))).all()
    )
    names.update({_NOT_BILLED_KEY: NOT_BILLED, _SELF_PAY_KEY: SELF_PAY})
    totals = (sum(counts.values()), sum(charges.values()), sum(paid.values()))
    rows = [
        MixRow(
            payer_id if payer_id > 0 else None,
            names.get(payer_id, f"payer {payer_id}"),
            counts.get(payer_id, 0),
            charges.get(payer_id, 0),
            paid.get(payer_id, 0),
            _share(counts.get(payer_id, 0), totals[0]),
            _share(charges.get(payer_id, 0), totals[1]),
            _share(paid.get(payer_id, 0), totals[2]),
        )
        for payer_id in ids
    ]
    rows.sort(key=lambda row: (-row.charges_cents, row.payer_name))
    return PayerMix(since, until, rows, *totals)


def procedure_revenue(
    db: Session, *, actor: Actor, practice_id: int, since: date, until: date, today: date
) -> ProcedureRevenue:
    """Per procedure code: charge lines, charges, paid and average paid per line."""
    require_reports(actor, practice_id)
    check_range(since, until)
    key = m.Charge.procedure_code
    counts, charges, paid = _service_figures(
        db,
        practice_id,
        since=since,
        until=until,
        today=today,
        key=key,
        count=func.count(m.Charge.id),
        joins=[],
    )
    rows = [
        ProcedureRow(
            code,
            counts.get(code, 0),
            charges.get(code, 0),
            paid.get(code, 0),
            _average(paid.get(code, 0), counts.get(code, 0)),
        )
        for code in set(counts) | set(charges) | set(paid)
    ]
    rows.sort(key=lambda row: (-row.charges_cents, row.procedure_code))
    return ProcedureRevenue(
        since, until, rows, sum(counts.values()), sum(charges.values()), sum(paid.values())
    )


# --- tables for download --------------------------------------------------------------------


def _filters(since: date, until: date) -> tuple[tuple[str, str], ...]:
    return (("Dates of service", f"{since.isoformat()} to {until.isoformat()}"),)


def payer_mix_table(report: PayerMix, today: date) -> ReportTable:
    columns = (
        Column("payer_name", "Payer"),
        Column("sessions", "Sessions", "int"),
        Column("session_share", "Share of sessions", "share"),
        Column("charges_cents", "Charges", "cents"),
        Column("charge_share", "Share of charges", "share"),
        Column("collections_cents", "Collections", "cents"),
        Column("collection_share", "Share of collections", "share"),
    )
    rows = rows_of(report.rows, columns)
    totals = {
        "payer_name": "Total",
        "sessions": report.sessions,
        "session_share": 1.0 if report.sessions else None,
        "charges_cents": report.charges_cents,
        "charge_share": 1.0 if report.charges_cents else None,
        "collections_cents": report.collections_cents,
        "collection_share": 1.0 if report.collections_cents else None,
    }
    notes = (
        DATE_BASIS,
        CHARGES_FORMULA,
        COLLECTIONS_FORMULA,
        "payer = the payer of the first claim that billed the service",
    )
    return ReportTable("Payer mix", columns, rows, today, _filters(report.since, report.until), totals, notes)


def procedure_revenue_table(report: ProcedureRevenue, today: date) -> ReportTable:
    columns = (
        Column("procedure_code", "Procedure code"),
        Column("lines", "Lines", "int"),
        Column("charges_cents", "Charges", "cents"),
        Column("paid_cents", "Paid", "cents"),
        Column("average_paid_cents", "Average paid", "cents"),
    )
    rows = rows_of(report.rows, columns)
    totals = {
        "procedure_code": "Total",
        "lines": report.lines,
        "charges_cents": report.charges_cents,
        "paid_cents": report.paid_cents,
        "average_paid_cents": report.average_paid_cents,
    }
    notes = (DATE_BASIS, CHARGES_FORMULA, COLLECTIONS_FORMULA, "average paid = paid ÷ lines")
    return ReportTable(
        "Revenue by procedure code", columns, rows, today, _filters(report.since, report.until), totals, notes
    )
