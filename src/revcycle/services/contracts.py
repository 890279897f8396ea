"""The expected amount: what a payer should allow for a procedure on a date of service.

Remittance posting compares each line's allowed amount with it (an underpayment alert cites
where the expectation came from), and a lump-sum check is allocated by it. The rules, in order:

1. the payer's contract in force on the date of service (``starts_on`` .. ``ends_on``): its
   rate for the code with exactly the line's modifiers — in any order, ``HO:95`` is priced by
   a ``95:HO`` row —, else the code's own rate (no modifiers);
2. else the payer's fee schedule in force on that date (a schedule naming the payer and no
   client), by the same modifier rule;
3. else nothing is expected (``None``): no guess from the practice's standard fees, which are
   what it charges, not what a payer allows.

Several contracts (or schedules) in force on one date — a renewal begun before the old one was
ended —: the latest to start is tried first, then the older ones. The amount is the rate times
the units.

:func:`expected_allowed_many` answers for many lines at once (a 20,000-claim 835): one query
per table per chunk of payers and contracts, then everything in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.domain.rate_tables import (
    CONTRACT,
    FEE_SCHEDULE,
    Expected,
    PricedTable,
    expected,
    modifier_key,
    normal_modifiers,
)
from revcycle.errors import InvalidInput
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import CHUNK, chunks

__all__ = [
    "CONTRACT",
    "FEE_SCHEDULE",
    "ExpectedAmount",
    "ExpectedLine",
    "expected_allowed",
    "expected_allowed_many",
    "lookup_expected",
]

ExpectedAmount = Expected  # what the posting and the pages get back


@dataclass(frozen=True)
class ExpectedLine:
    """A line to price: the payer, the procedure with its modifiers, the date of service."""

    payer_id: int
    procedure_code: str
    modifiers: str
    service_on: date
    units: int = 1


def expected_allowed(
    db: Session,
    *,
    practice_id: int,
    payer_id: int,
    procedure_code: str,
    modifiers: str,
    service_on: date,
    units: int = 1,
) -> ExpectedAmount | None:
    """The payer's expected allowed amount for the line (see the module docstring), or None."""
    line = ExpectedLine(payer_id, procedure_code, modifiers, service_on, units)
    [found] = expected_allowed_many(db, practice_id=practice_id, lines=[line])
    return found


def expected_allowed_many(
    db: Session, *, practice_id: int, lines: Sequence[ExpectedLine]
) -> list[ExpectedAmount | None]:
    """:func:`expected_allowed` for each line, in order, from a few queries in all."""
    codes = {line.procedure_code.strip().upper() for line in lines}
    tables = _tables(db, practice_id, sorted({line.payer_id for line in lines}), codes)
    return [_expected(tables.get(line.payer_id, ()), line) for line in lines]


def _expected(tables: Sequence[PricedTable], line: ExpectedLine) -> Expected | None:
    return expected(
        tables,
        procedure_code=line.procedure_code,
        modifiers=line.modifiers,
        service_on=line.service_on,
        units=line.units,
    )


def _tables(
    db: Session, practice_id: int, payer_ids: list[int], codes: set[str]
) -> dict[int, list[PricedTable]]:
    """Payer id -> its contracts (latest to start first), then its schedules (likewise)."""
    contracts: list[Any] = []
    schedules: list[Any] = []
    for chunk in chunks(payer_ids):
        contracts += db.execute(
            select(m.PayerContract.id, m.PayerContract.payer_id, m.PayerContract.number,
                   m.PayerContract.starts_on, m.PayerContract.ends_on)
            .where(m.PayerContract.practice_id == practice_id, m.PayerContract.payer_id.in_(chunk))
        ).all()  # fmt: skip
        schedules += db.execute(
            select(m.FeeSchedule.id, m.FeeSchedule.payer_id, m.FeeSchedule.name,
                   m.FeeSchedule.effective_on, m.FeeSchedule.ends_on)
            .where(
                m.FeeSchedule.practice_id == practice_id,
                m.FeeSchedule.payer_id.in_(chunk),
                m.FeeSchedule.client_id.is_(None),
            )
        ).all()  # fmt: skip
    contract_rates = _rates(db, m.PayerContractRate, [row.id for row in contracts], codes)
    schedule_rates = _rates(db, m.FeeScheduleRate, [row.id for row in schedules], codes)
    by_payer: dict[int, list[PricedTable]] = defaultdict(list)
    for rows, source, rates in (
        (contracts, CONTRACT, contract_rates),
        (schedules, FEE_SCHEDULE, schedule_rates),
    ):
        for table_id, payer_id, name, starts_on, ends_on in sorted(
            rows, key=lambda r: (r[3], r[0]), reverse=True
        ):
            by_payer[payer_id].append(
                PricedTable(source, table_id, name, starts_on, ends_on, rates[table_id])
            )
    return by_payer


def _rates(
    db: Session,
    model: type[m.PayerContractRate] | type[m.FeeScheduleRate],
    table_ids: list[int],
    codes: set[str],
) -> dict[int, dict[str, dict[str, tuple[int, str]]]]:
    """Table id -> code -> modifier set -> (cents, the row's modifiers), for these codes."""
    if model is m.PayerContractRate:
        parent, amount = m.PayerContractRate.contract_id, m.PayerContractRate.allowed_cents
    else:
        parent, amount = m.FeeScheduleRate.fee_schedule_id, m.FeeScheduleRate.amount_cents
    found: dict[int, dict[str, dict[str, tuple[int, str]]]] = defaultdict(lambda: defaultdict(dict))
    for chunk in chunks(table_ids):
        query = select(parent, model.procedure_code, model.modifiers, amount).where(parent.in_(chunk))
        if len(codes) <= CHUNK:
            query = query.where(model.procedure_code.in_(sorted(codes)))
        for table_id, code, modifiers, cents in db.execute(query):
            found[table_id][code][modifier_key(modifiers)] = (cents, normal_modifiers(modifiers))
    return found


def lookup_expected(
    db: Session,
    *,
    actor: Actor,
    practice_id: int,
    payer_id: int,
    procedure_code: str,
    modifiers: str = "",
    service_on: date,
    units: int = 1,
) -> ExpectedAmount | None:
    """:func:`expected_allowed` for someone who manages fees (the payer must exist)."""
    actor.require(practice_id, Permission.MANAGE_FEES)
    if units < 1:
        raise InvalidInput("units: at least 1")
    if db.get(m.Payer, payer_id) is None:
        raise InvalidInput(f"payer_id: no payer {payer_id}")
    return expected_allowed(
        db,
        practice_id=practice_id,
        payer_id=payer_id,
        procedure_code=procedure_code,
        modifiers=modifiers,
        service_on=service_on,
        units=units,
    )
