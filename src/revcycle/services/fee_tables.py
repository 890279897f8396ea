"""Managing fee schedules and payer contracts: versions with dates, never edited in place.

A fee schedule (the practice's standard fees, a payer's, or a client's sliding scale) and a
payer contract (its number, its dates, what the payer allows) each carry a rate table. History
is kept: a changed rate table is a *new version* — a schedule of the same name, payer and
client, or a contract of the same payer and number — starting on the day the change takes
effect; the version it replaces is ended the day before (and the new one inherits its end, if
it had one). Only the latest version of a line may be revised, and a version may be ended (or
a contract extended: a later ``ends_on``) but never ended on or after the day its successor
starts. A version with no rates yet has no history to keep: its first rates are written into
it.

Rates come as :class:`~revcycle.domain.rate_tables.RateRow` from JSON or from the rate table CSV
(``adapters.rate_table_csv``); every row is checked before anything is written and a table
with any problem is refused whole, naming each row and column.

Seeing and changing them needs ``manage_fees`` (billing and administrators); each change is
audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.adapters.rate_table_csv import read_rate_table, write_rate_table
from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.domain.problems import Problem
from revcycle.domain.rate_tables import RateRow, check_rates, modifier_key, normal_modifiers
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.coverages import find_payer

__all__ = [
    "CONTRACT",
    "SCHEDULE",
    "TableView",
    "create_contract",
    "create_schedule",
    "end_table",
    "export_rates_csv",
    "get_table",
    "import_rates_csv",
    "list_contracts",
    "list_schedules",
    "practice_payers",
    "revise_rates",
]

Kind = Literal["schedule", "contract"]
SCHEDULE: Kind = "schedule"
CONTRACT: Kind = "contract"
_NOUN = {SCHEDULE: "fee schedule", CONTRACT: "payer contract"}
_ENTITY = {SCHEDULE: "fee_schedule", CONTRACT: "payer_contract"}
MAX_NAME = 200
MAX_NUMBER = 50
MAX_PROBLEMS_SHOWN = 20


@dataclass(frozen=True)
class TableView:
    """A schedule or contract as the pages and the API show it."""

    kind: Kind
    id: int
    practice_id: int
    name: str  # a schedule's name, a contract's number
    payer_id: int | None
    payer_name: str | None
    client_id: int | None
    client_name: str | None
    starts_on: date
    ends_on: date | None
    rate_count: int
    replaced_by_id: int | None  # the next version, when one exists
    rates: tuple[RateRow, ...] = ()

    @property
    def level(self) -> str:
        if self.kind == CONTRACT:
            return "contract"
        return "client" if self.client_id else "payer" if self.payer_id else "standard"

    def in_force(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


# --- reading -----------------------------------------------------------------------------------


def practice_payers(db: Session, *, actor: Actor, practice_id: int) -> list[m.Payer]:
    """The payers the practice bills (those with settings in the practice), by name."""
    actor.require(practice_id, Permission.MANAGE_FEES)
    query = (
        select(m.Payer)
        .join(m.PracticePayer, m.PracticePayer.payer_id == m.Payer.id)
        .where(m.PracticePayer.practice_id == practice_id)
        .order_by(m.Payer.name, m.Payer.id)
    )
    return list(db.scalars(query))


def list_schedules(db: Session, *, actor: Actor, practice_id: int) -> list[TableView]:
    """The practice's fee schedules: standard, then by payer and client, newest version first."""
    actor.require(practice_id, Permission.MANAGE_FEES)
    rows = list(db.scalars(select(m.FeeSchedule).where(m.FeeSchedule.practice_id == practice_id)))
    views = _views(db, SCHEDULE, rows)
    return sorted(
        views, key=lambda v: (v.level != "standard", v.payer_name or "", v.name, -v.starts_on.toordinal())
    )


def list_contracts(db: Session, *, actor: Actor, practice_id: int) -> list[TableView]:
    """The practice's payer contracts by payer, newest version first."""
    actor.require(practice_id, Permission.MANAGE_FEES)
    rows = list(db.scalars(select(m.PayerContract).where(m.PayerContract.practice_id == practice_id)))
    views = _views(db, CONTRACT, rows)
    return sorted(views, key=lambda v: (v.payer_name or "", v.name, -v.starts_on.toordinal(), -v.id))


def get_table(db: Session, *, actor: Actor, kind: Kind, table_id: int) -> TableView:
    """One schedule or contract with its rates (code, then modifiers)."""
    row = _load(db, actor, kind, table_id)
    [view] = _views(db, kind, [row])
    rates = sorted(_rate_rows(db, kind, row.id), key=lambda r: (r.procedure_code, r.modifiers))
    return _with_rates(view, rates)


def _with_rates(view: TableView, rates: Sequence[RateRow]) -> TableView:
    return TableView(**{**view.__dict__, "rates": tuple(rates)})


def _load(db: Session, actor: Actor, kind: Kind, table_id: int) -> Any:
    model: Any = m.FeeSchedule if kind == SCHEDULE else m.PayerContract
    row = db.get(model, table_id)
    if row is None:
        raise NotFound(f"{_NOUN[kind]} {table_id} not found")
    actor.require(row.practice_id, Permission.MANAGE_FEES)
    return row


def _start(row: Any) -> date:
    return row.effective_on if isinstance(row, m.FeeSchedule) else row.starts_on


def _name(row: Any) -> str:
    return row.name if isinstance(row, m.FeeSchedule) else row.number


def _views(db: Session, kind: Kind, rows: Sequence[Any]) -> list[TableView]:
    if not rows:
        return []
    payer_names = dict(db.execute(select(m.Payer.id, m.Payer.name).where(
        m.Payer.id.in_({r.payer_id for r in rows if r.payer_id is not None})
    )).all())  # fmt: skip
    client_ids = {r.client_id for r in rows if kind == SCHEDULE and r.client_id is not None}
    clients = {
        cid: f"{first} {last}"
        for cid, first, last in db.execute(
            select(m.Client.id, m.Client.first_name, m.Client.last_name).where(m.Client.id.in_(client_ids))
        )
    }
    counts = _rate_counts(db, kind, [r.id for r in rows])
    successors = _successors(db, kind, rows)
    return [
        TableView(
            kind=kind,
            id=r.id,
            practice_id=r.practice_id,
            name=_name(r),
            payer_id=r.payer_id,
            payer_name=payer_names.get(r.payer_id),
            client_id=r.client_id if kind == SCHEDULE else None,
            client_name=clients.get(r.client_id) if kind == SCHEDULE else None,
            starts_on=_start(r),
            ends_on=r.ends_on,
            rate_count=counts.get(r.id, 0),
            replaced_by_id=successors.get(r.id),
        )
        for r in rows
    ]


def _rate_model(kind: Kind) -> tuple[Any, Any, Any]:
    if kind == SCHEDULE:
        return m.FeeScheduleRate, m.FeeScheduleRate.fee_schedule_id, m.FeeScheduleRate.amount_cents
    return m.PayerContractRate, m.PayerContractRate.contract_id, m.PayerContractRate.allowed_cents


def _rate_counts(db: Session, kind: Kind, ids: list[int]) -> dict[int, int]:
    _model, parent, _amount = _rate_model(kind)
    return {
        table_id: int(n)
        for table_id, n in db.execute(select(parent, func.count()).where(parent.in_(ids)).group_by(parent))
    }


def _rate_rows(db: Session, kind: Kind, table_id: int) -> list[RateRow]:
    model, parent, amount = _rate_model(kind)
    query = select(model.procedure_code, model.modifiers, amount).where(parent == table_id).order_by(model.id)
    return [RateRow(code, mods, cents) for code, mods, cents in db.execute(query)]


def _line(db: Session, kind: Kind, row: Any) -> list[Any]:
    """Every version of the row's line (itself included), by start."""
    if kind == SCHEDULE:
        query: Any = select(m.FeeSchedule).where(
            m.FeeSchedule.practice_id == row.practice_id,
            m.FeeSchedule.name == row.name,
            _same(m.FeeSchedule.payer_id, row.payer_id),
            _same(m.FeeSchedule.client_id, row.client_id),
        )
    else:
        query = select(m.PayerContract).where(
            m.PayerContract.practice_id == row.practice_id,
            m.PayerContract.payer_id == row.payer_id,
            m.PayerContract.number == row.number,
        )
    return sorted(db.scalars(query), key=lambda r: (_start(r), r.id))


def _same(column: Any, value: int | None) -> Any:
    return column.is_(None) if value is None else column == value


def _successors(db: Session, kind: Kind, rows: Sequence[Any]) -> dict[int, int]:
    """Row id -> the next version of its line (the earliest to start after it)."""
    found: dict[int, int] = {}
    seen: set[int] = set()
    for row in rows:
        if row.id in seen:
            continue
        line = _line(db, kind, row)
        seen.update(r.id for r in line)
        for earlier, later in pairwise(line):
            found[earlier.id] = later.id
    return found


# --- creating ----------------------------------------------------------------------------------


def _checked(rates: Sequence[RateRow], source: str) -> list[RateRow]:
    rows = [
        RateRow(
            r.procedure_code.strip().upper(),
            normal_modifiers(r.modifiers),
            r.amount_cents,
            r.where or f"rate {i}",
        )
        for i, r in enumerate(rates, start=1)
    ]
    _refuse(check_rates(rows), source)
    return rows


def _refuse(problems: Sequence[Problem], source: str) -> None:
    if not problems:
        return
    shown = "; ".join(f"{p.where}: {p.message}" for p in problems[:MAX_PROBLEMS_SHOWN])
    more = f" (and {len(problems) - MAX_PROBLEMS_SHOWN} more)" if len(problems) > MAX_PROBLEMS_SHOWN else ""
    raise InvalidInput(f"{source}: {len(problems)} problem(s), nothing was saved: {shown}{more}", problems)


def _dates(starts_on: date, ends_on: date | None, start_field: str) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput(f"ends_on: {ends_on} is before {start_field} {starts_on}")


def create_schedule(
    db: Session,
    *,
    actor: Actor,
    practice_id: int,
    name: str,
    effective_on: date,
    ends_on: date | None = None,
    payer_id: int | None = None,
    payer_edi_id: str = "",
    client_id: int | None = None,
    rates: Sequence[RateRow] = (),
    source: str = "rates",
) -> m.FeeSchedule:
    """A new fee schedule (standard; a payer's; or a client's) with its rate table."""
    actor.require(practice_id, Permission.MANAGE_FEES)
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"name: give the schedule a name (at most {MAX_NAME} characters)")
    _dates(effective_on, ends_on, "effective_on")
    if payer_id is not None or payer_edi_id.strip():
        payer_id = find_payer(db, practice_id=practice_id, payer_id=payer_id, payer_edi_id=payer_edi_id).id
    client_ids: list[int] = []
    if client_id is not None:
        client = db.get(m.Client, client_id)
        if client is None or client.practice_id != practice_id:
            raise InvalidInput(f"client_id: {client_id} is not one of the practice's clients")
        client_ids = [client_id]
    rows = _checked(rates, source)
    schedule = m.FeeSchedule(
        practice_id=practice_id,
        name=name,
        payer_id=payer_id,
        client_id=client_id,
        effective_on=effective_on,
        ends_on=ends_on,
    )
    if _line(db, SCHEDULE, schedule):
        raise Conflict(f"a fee schedule named {name!r} exists for the same payer and client; revise it")
    db.add(schedule)
    db.flush()
    _write_rates(db, SCHEDULE, schedule, rows)
    _audit(db, actor, SCHEDULE, schedule, action="create", before=None, rates=rows, client_ids=client_ids)
    return schedule


def create_contract(
    db: Session,
    *,
    actor: Actor,
    practice_id: int,
    payer_id: int | None,
    number: str,
    starts_on: date,
    ends_on: date | None = None,
    payer_edi_id: str = "",
    rates: Sequence[RateRow] = (),
    source: str = "rates",
) -> m.PayerContract:
    """A new payer contract with what the payer allows per procedure."""
    actor.require(practice_id, Permission.MANAGE_FEES)
    number = number.strip()
    if not number or len(number) > MAX_NUMBER:
        raise InvalidInput(f"number: give the contract number (at most {MAX_NUMBER} characters)")
    _dates(starts_on, ends_on, "starts_on")
    payer = find_payer(db, practice_id=practice_id, payer_id=payer_id, payer_edi_id=payer_edi_id)
    rows = _checked(rates, source)
    contract = m.PayerContract(
        practice_id=practice_id, payer_id=payer.id, number=number, starts_on=starts_on, ends_on=ends_on
    )
    if _line(db, CONTRACT, contract):
        raise Conflict(f"contract {number} exists for this payer; revise or extend it")
    db.add(contract)
    db.flush()
    _write_rates(db, CONTRACT, contract, rows)
    _point_settings_at(db, contract)
    _audit(db, actor, CONTRACT, contract, action="create", before=None, rates=rows)
    return contract


def _point_settings_at(db: Session, contract: m.PayerContract) -> None:
    """The payer's settings name the contract that started last (the one to renew)."""
    settings = db.scalars(
        select(m.PracticePayer).where(
            m.PracticePayer.practice_id == contract.practice_id, m.PracticePayer.payer_id == contract.payer_id
        )
    ).first()
    if settings is None:
        return
    current = db.get(m.PayerContract, settings.contract_id) if settings.contract_id else None
    if current is None or current.starts_on <= contract.starts_on:
        settings.contract_id = contract.id


def _write_rates(db: Session, kind: Kind, row: Any, rates: Sequence[RateRow]) -> None:
    model, parent, amount = _rate_model(kind)
    db.add_all(
        model(
            practice_id=row.practice_id,
            **{parent.key: row.id, amount.key: rate.amount_cents},
            procedure_code=rate.procedure_code,
            modifiers=rate.modifiers,
        )
        for rate in rates
    )
    db.flush()


def _audit(
    db: Session,
    actor: Actor,
    kind: Kind,
    row: Any,
    *,
    action: str,
    before: dict[str, Any] | None,
    rates: Sequence[RateRow] | None,
    client_ids: Sequence[int] = (),
    reason: str = "",
) -> None:
    after: dict[str, Any] = {
        "name": _name(row),
        "payer_id": row.payer_id,
        "starts_on": _start(row),
        "ends_on": row.ends_on,
    }
    if rates is not None:
        after["rates"] = len(rates)
    audit.record(
        db,
        actor=actor,
        practice_id=row.practice_id,
        action=action,
        entity=_ENTITY[kind],
        entity_id=row.id,
        client_ids=client_ids,
        before=before,
        after=after,
        reason=reason,
    )


# --- ending, extending, revising --------------------------------------------------------------


def end_table(db: Session, *, actor: Actor, kind: Kind, table_id: int, ends_on: date) -> Any:
    """End a version on ``ends_on`` (a contract given a later date is extended)."""
    row = _load(db, actor, kind, table_id)
    _dates(_start(row), ends_on, "its start")
    successor = _successor(db, kind, row)
    if successor is not None and ends_on >= _start(successor):
        raise Conflict(
            f"{_NOUN[kind]} {table_id} is replaced from {_start(successor)} by version {successor.id}; "
            f"end it before then"
        )
    before = {"ends_on": row.ends_on}
    row.ends_on = ends_on
    db.flush()
    extended = before["ends_on"] is not None and ends_on > before["ends_on"]
    _audit(
        db,
        actor,
        kind,
        row,
        action="update",
        before=before,
        rates=None,
        reason="extended" if extended else "ended",
    )
    return row


def _successor(db: Session, kind: Kind, row: Any) -> Any:
    later = [r for r in _line(db, kind, row) if (_start(r), r.id) > (_start(row), row.id)]
    return later[0] if later else None


def revise_rates(
    db: Session,
    *,
    actor: Actor,
    kind: Kind,
    table_id: int,
    rates: Sequence[RateRow],
    effective_on: date | None,
    replace: bool = True,
    source: str = "rates",
) -> Any:
    """The version's rate table changed from ``effective_on``: a new version with ``rates``
    (``replace``) or with its rates plus these (a code and modifiers given again takes the new
    amount). A version without rates takes them in place. Returns the version holding them."""
    row = _load(db, actor, kind, table_id)
    rows = _checked(rates, source)
    if not rows:
        raise InvalidInput(f"{source}: no rates given")
    if _successor(db, kind, row) is not None:
        raise Conflict(f"{_NOUN[kind]} {table_id} has a newer version; revise the latest")
    current = _rate_rows(db, kind, row.id)
    if not current and effective_on in (None, _start(row)):
        _write_rates(db, kind, row, rows)
        _audit(db, actor, kind, row, action="update", before={"rates": 0}, rates=rows, reason="first rates")
        return row
    if effective_on is None:
        raise InvalidInput("effective_on: a changed rate table is a new version; say from when it applies")
    if effective_on <= _start(row):
        raise InvalidInput(f"effective_on: {effective_on} must be after the version's start {_start(row)}")
    if not replace:
        rows = _merged(current, rows)
    return _new_version(db, actor, kind, row, effective_on=effective_on, rates=rows)


def _merged(current: Sequence[RateRow], changes: Sequence[RateRow]) -> list[RateRow]:
    changed = {(r.procedure_code, modifier_key(r.modifiers)): r for r in changes}
    kept = [r for r in current if (r.procedure_code, modifier_key(r.modifiers)) not in changed]
    return [*kept, *changes]


def _new_version(
    db: Session, actor: Actor, kind: Kind, row: Any, *, effective_on: date, rates: list[RateRow]
) -> Any:
    old_end = row.ends_on
    new_end = old_end if old_end is not None and old_end >= effective_on else None
    if old_end is None or old_end >= effective_on:
        before = {"ends_on": old_end}
        row.ends_on = effective_on - timedelta(days=1)
        _audit(
            db,
            actor,
            kind,
            row,
            action="update",
            before=before,
            rates=None,
            reason=f"replaced from {effective_on}",
        )
    if kind == SCHEDULE:
        new: Any = m.FeeSchedule(
            practice_id=row.practice_id,
            name=row.name,
            payer_id=row.payer_id,
            client_id=row.client_id,
            effective_on=effective_on,
            ends_on=new_end,
        )
    else:
        new = m.PayerContract(
            practice_id=row.practice_id,
            payer_id=row.payer_id,
            number=row.number,
            starts_on=effective_on,
            ends_on=new_end,
        )
    db.add(new)
    db.flush()
    _write_rates(db, kind, new, rates)
    if kind == CONTRACT:
        _point_settings_at(db, new)
    client_ids = [row.client_id] if kind == SCHEDULE and row.client_id else []
    _audit(
        db,
        actor,
        kind,
        new,
        action="create",
        before=None,
        rates=rates,
        client_ids=client_ids,
        reason=f"new version of {row.id}",
    )
    return new


# --- CSV -------------------------------------------------------------------------------------


def read_rates_csv(data: bytes, filename: str) -> list[RateRow]:
    """The file's rates, or :class:`InvalidInput` naming every problem (row and column)."""
    rows, problems = read_rate_table(data, filename)
    _refuse(problems, filename)
    return rows


def import_rates_csv(
    db: Session,
    *,
    actor: Actor,
    kind: Kind,
    table_id: int,
    data: bytes,
    filename: str,
    effective_on: date | None,
    replace: bool = True,
) -> Any:
    """:func:`revise_rates` from a rate table CSV; a file with any bad row writes nothing."""
    _load(db, actor, kind, table_id)  # not found / not allowed before the file is judged
    rates = read_rates_csv(data, filename)
    return revise_rates(
        db,
        actor=actor,
        kind=kind,
        table_id=table_id,
        rates=rates,
        effective_on=effective_on,
        replace=replace,
        source=filename,
    )


def export_rates_csv(db: Session, *, actor: Actor, kind: Kind, table_id: int) -> tuple[str, str]:
    """(file name, CSV text) of a version's rate table, in the import's format."""
    view = get_table(db, actor=actor, kind=kind, table_id=table_id)
    slug = "".join(ch if ch.isalnum() else "-" for ch in view.name.lower()).strip("-") or kind
    return f"{slug}-{view.starts_on}.csv", write_rate_table(view.rates)
