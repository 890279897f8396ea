"""The demo's bank account: the statements that show its payments arriving, imported and matched.

Each payment the demo received turns into the bank line a real account would show:

* an insurance EFT lands the same or the next business day as an ACH credit whose text carries
  the 835's trace (``HCCLAIMPMT TRN*1*<trace>*1<payer id>\\``);
* the checks received on one day (insurance and patient) go to the bank together one to three
  business days later, as one deposit of their sum;
* each day's patient cash is deposited the next business day; each day's card payments settle
  as one batch the next business day; a patient's ACH payment lands with its reference.

Two insurance remittances never reach the bank (an EFT and a check, when the demo has them),
lines dated after today have not happened yet, and the bank pays a little interest — so the
reconciliation page has unmatched items on both sides. The lines are written as one statement
CSV per month (with a few debits, skipped on import) and go through the same import and
matching as a practice's own file.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.money import format_plain
from revcycle.services.actor import Actor
from revcycle.services.deposits import MatchReport, import_statement, match_deposits

__all__ = ["DemoDeposits", "add_bank_deposits"]


@dataclass
class DemoDeposits:
    statements: int = 0
    deposits: int = 0
    missing_payment_ids: tuple[int, ...] = ()
    report: MatchReport | None = None


@dataclass(frozen=True)
class _Line:
    on: date
    description: str
    amount_cents: int
    reference: str = ""


def _business_day(day: date, after: int = 0) -> date:
    """``after`` business days after ``day`` (a weekend day first moves to Monday)."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    for _ in range(after):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return day


def add_bank_deposits(
    session: Session, *, practice_id: int, actor: Actor, today: date, seed: int = 7
) -> DemoDeposits:
    """Import the practice's bank statements up to ``today`` and match them (in the caller's
    transaction; audited as the actor's imports and matching)."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible demo data, not secrets
    payments = _payments(session, practice_id, today)
    missing = missing_from_bank(payments)
    lines = _lines(session, [p for p in payments if p.id not in missing], rng)
    lines += _interest(today)
    result = DemoDeposits(missing_payment_ids=tuple(sorted(missing)))
    months: dict[tuple[int, int], list[_Line]] = defaultdict(list)
    for line in lines:
        if line.on <= today:
            months[(line.on.year, line.on.month)].append(line)
    for (year, month), month_lines in sorted(months.items()):
        data = _statement(month_lines + _debits(year, month, today))
        imported = import_statement(
            session,
            actor=actor,
            practice_id=practice_id,
            data=data,
            filename=f"statement-{year}-{month:02d}.csv",
        )
        result.statements += 1
        result.deposits += len(imported.created)
    result.report = match_deposits(session, actor=actor, practice_id=practice_id)
    return result


def _payments(session: Session, practice_id: int, today: date) -> list[m.Payment]:
    return list(
        session.scalars(
            select(m.Payment)
            .where(
                m.Payment.practice_id == practice_id,
                m.Payment.received_on <= today,
                m.Payment.deposit_id.is_(None),
                m.Payment.amount_cents > 0,
            )
            .order_by(m.Payment.received_on, m.Payment.id)
        )
    )


def missing_from_bank(payments: list[m.Payment]) -> set[int]:
    """An EFT and a check of the last weeks that the bank never shows."""
    found: set[int] = set()
    for method in ("eft", "check"):
        recent = [p for p in payments if p.kind == "insurance" and p.method == method]
        if len(recent) >= 3:
            found.add(recent[-3].id)
    return found


def _lines(session: Session, payments: list[m.Payment], rng: random.Random) -> list[_Line]:
    payers = {row[0]: row[1] for row in session.execute(select(m.Payer.id, m.Payer.edi_payer_id))}
    lines: list[_Line] = []
    days: dict[tuple[str, date], list[m.Payment]] = defaultdict(list)
    for p in payments:
        if p.method in ("eft", "ach"):
            on = _business_day(p.received_on, rng.choice((0, 1, 1)))
            if p.kind == "insurance":
                payer_id = payers.get(p.payer_id or 0, "") or "9999999999"
                text = f"ACH CREDIT HCCLAIMPMT TRN*1*{p.reference}*1{payer_id}\\"
            else:
                text = f"ONLINE PAYMENT {p.reference}"
            lines.append(_Line(on, text, p.amount_cents))
        elif p.method in ("check", "cash", "card"):
            days[(p.method, p.received_on)].append(p)
    for n, ((method, day), group) in enumerate(sorted(days.items())):
        total = sum(p.amount_cents for p in group)
        if method == "check":
            on = _business_day(day, rng.choice((1, 1, 2, 3)))
            lines.append(_Line(on, f"DEPOSIT {len(group)} ITEM(S)", total, f"SLIP{10000 + n}"))
        elif method == "cash":
            lines.append(_Line(_business_day(day, 1), "BRANCH CASH DEPOSIT", total, f"SLIP{10000 + n}"))
        else:
            lines.append(_Line(_business_day(day, 1), f"MERCHANT SETTLEMENT BATCH {day:%m%d}", total))
    return lines


def _interest(today: date) -> list[_Line]:
    last_month_end = today.replace(day=1) - timedelta(days=1)
    return [_Line(last_month_end, "INTEREST PAYMENT", 42)]


def _debits(year: int, month: int, today: date) -> list[_Line]:
    """A month's money out: on the statement, skipped by the import."""
    fee_on = date(year, month, 1)
    payroll_on = _business_day(date(year, month, 15))
    return [
        line
        for line in (_Line(fee_on, "MONTHLY SERVICE FEE", -1500), _Line(payroll_on, "PAYROLL", -2_450_000))
        if line.on <= today
    ]


def _statement(lines: list[_Line]) -> bytes:
    """The month as the bank exports it: newest first, with columns we ignore."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Details", "Posting Date", "Description", "Amount", "Type", "Check or Slip #"])
    for line in sorted(lines, key=lambda x: (x.on, x.description), reverse=True):
        kind = "CREDIT" if line.amount_cents > 0 else "DEBIT"
        writer.writerow(
            [
                kind,
                f"{line.on:%m/%d/%Y}",
                line.description,
                format_plain(line.amount_cents),
                kind,
                line.reference,
            ]
        )
    return out.getvalue().encode()
