"""What staging keeps between the preview and the commit: rows as JSON, outcomes in bulk.

A staged row is kept in its :class:`~revcycle.db.models.ImportRowOutcome` ``detail``: the
typed row the adapter read (as JSON, see :func:`row_to_json`), what committing would do with
it (``change``: new, updated or unchanged, and the field-level ``diff``), and the flags it
would raise. Commit reads the outcomes back instead of parsing the file again, so what is
committed is what the preview showed.

Outcome buckets partition the rows: ``rejected`` (bad values), ``flagged`` (the row raises a
flag a person must look at; ``detail["change"]`` still says new, updated or unchanged), then
``new``, ``updated`` and ``unchanged``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar, cast

from sqlalchemy import JSON, Column, Table, bindparam, select, update
from sqlalchemy.orm import Session

from revcycle.adapters.csv import PayerRef, RejectedRow
from revcycle.db.models import ImportBatch, ImportRowOutcome
from revcycle.services.imports.handler import StageCounts

__all__ = [
    "OUTCOMES",
    "OutcomeWriter",
    "bulk_insert",
    "counts_of",
    "iter_outcomes",
    "load_outcomes",
    "rejected_detail",
    "row_from_json",
    "row_to_json",
    "set_outcome_sessions",
    "table_of",
]

OUTCOMES = ("new", "updated", "unchanged", "flagged", "rejected")


def table_of(model: type[Any]) -> Table:
    """A model's table, for Core executemany (the ORM's bulk path costs more than the SQL)."""
    return cast(Table, model.__table__)


def bulk_insert(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows of one shape: COPY on PostgreSQL, executemany on SQLite.

    Columns the rows leave out get their Python-side default (evaluated once for the
    statement, as executemany would per row: a timestamp, an empty list).
    """
    if not rows:
        return
    table = table_of(model)
    if session.get_bind().dialect.name != "postgresql":
        for start in range(0, len(rows), _WRITE_CHUNK):
            session.execute(table.insert(), list(rows[start : start + _WRITE_CHUNK]))
        return
    session.flush()
    columns = [c for c in table.columns if not (c.primary_key and c.autoincrement)]
    defaults = {c.name: _default(c) for c in columns if c.name not in rows[0]}
    as_json = {c.name for c in columns if isinstance(c.type, JSON)}
    names = [c.name for c in columns]
    preparer = session.get_bind().dialect.identifier_preparer
    sql = f"COPY {preparer.format_table(table)} ({', '.join(preparer.quote(n) for n in names)}) FROM STDIN"
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        for row in rows:
            values = []
            for name in names:
                value = row[name] if name in row else defaults[name]
                values.append(json.dumps(value) if name in as_json and value is not None else value)
            copy.write_row(values)


def _default(column: Column[Any]) -> Any:
    default = column.default
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)  # type: ignore[attr-defined]
    return default.arg if default.is_scalar else None  # type: ignore[attr-defined]


_OUTCOMES_TABLE = table_of(ImportRowOutcome)
_WRITE_CHUNK = 5_000
R = TypeVar("R")


def _to_json(value: Any) -> Any:
    if isinstance(value, PayerRef):
        return [value.name, value.payer_id]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def row_to_json(row: Any) -> dict[str, Any]:
    """A row dataclass as JSON-ready values (PayerRef as ``[name, id]``, dates ISO)."""
    return {f.name: _to_json(getattr(row, f.name)) for f in dataclasses.fields(row)}


def _from_json(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    if kind is PayerRef:
        return PayerRef(value[0], value[1])
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    return value


def row_from_json(cls: type[R], data: Mapping[str, Any]) -> R:
    """The row dataclass back from :func:`row_to_json`."""
    hints = typing.get_type_hints(cls)
    values = {f.name: _from_json(hints[f.name], data.get(f.name)) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**values)


def rejected_detail(row: RejectedRow) -> dict[str, Any]:
    return {
        "problems": [{"code": p.code, "where": p.where, "message": p.message} for p in row.problems],
        "reason": "; ".join(f"{p.where}: {p.message}" for p in row.problems),
    }


class OutcomeWriter:
    """Collects a batch's row outcomes and writes them in a few multi-row INSERTs."""

    def __init__(self, session: Session, batch: ImportBatch) -> None:
        self.session = session
        self.batch = batch
        self.tally: Counter[str] = Counter()
        self._pending: list[dict[str, Any]] = []

    def add(
        self,
        row_number: int,
        outcome: str,
        detail: dict[str, Any] | None = None,
        *,
        session_id: int | None = None,
        claim_id: int | None = None,
    ) -> None:
        self.tally[outcome] += 1
        self._pending.append(
            {
                "practice_id": self.batch.practice_id,
                "batch_id": self.batch.id,
                "row_number": row_number,
                "outcome": outcome,
                "detail": detail or {},
                "session_id": session_id,
                "claim_id": claim_id,
            }
        )
        if len(self._pending) >= _WRITE_CHUNK:
            self.flush()

    def reject(self, row: RejectedRow) -> None:
        self.add(row.row_number, "rejected", rejected_detail(row))

    def flush(self) -> None:
        if self._pending:
            bulk_insert(self.session, ImportRowOutcome, self._pending)
            self._pending = []

    def counts(self) -> StageCounts:
        self.flush()
        return counts_of(self.tally)


def counts_of(tally: Mapping[str, int]) -> StageCounts:
    return StageCounts(
        rows=sum(tally.get(outcome, 0) for outcome in OUTCOMES),
        new=tally.get("new", 0),
        updated=tally.get("updated", 0),
        unchanged=tally.get("unchanged", 0),
        flagged=tally.get("flagged", 0),
        rejected=tally.get("rejected", 0),
    )


def load_outcomes(
    session: Session, batch: ImportBatch, *, outcomes: Sequence[str] | None = None
) -> list[tuple[int, int, str, dict[str, Any], int | None]]:
    """(id, row_number, outcome, detail, session_id) of the batch's rows, in file order."""
    query = select(
        ImportRowOutcome.id,
        ImportRowOutcome.row_number,
        ImportRowOutcome.outcome,
        ImportRowOutcome.detail,
        ImportRowOutcome.session_id,
    ).where(ImportRowOutcome.batch_id == batch.id)
    if outcomes is not None:
        query = query.where(ImportRowOutcome.outcome.in_(list(outcomes)))
    rows = session.execute(query.order_by(ImportRowOutcome.row_number, ImportRowOutcome.id))
    return [cast(tuple[int, int, str, dict[str, Any], int | None], tuple(row)) for row in rows]


def iter_outcomes(
    session: Session, batch: ImportBatch, *, outcomes: Sequence[str], chunk: int = 10_000
) -> Iterator[list[tuple[int, int, str, dict[str, Any], int | None]]]:
    """The batch's outcome rows as :func:`load_outcomes` gives them, ``chunk`` at a time in
    the order they were staged (by id): a commit holds one chunk in memory, not the file."""
    after = 0
    while True:
        rows = session.execute(
            select(
                ImportRowOutcome.id,
                ImportRowOutcome.row_number,
                ImportRowOutcome.outcome,
                ImportRowOutcome.detail,
                ImportRowOutcome.session_id,
            )
            .where(
                ImportRowOutcome.batch_id == batch.id,
                ImportRowOutcome.outcome.in_(list(outcomes)),
                ImportRowOutcome.id > after,
            )
            .order_by(ImportRowOutcome.id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        yield [cast(tuple[int, int, str, dict[str, Any], int | None], tuple(row)) for row in rows]
        after = rows[-1][0]


def set_outcome_sessions(session: Session, links: Iterable[tuple[int, int | None, int | None]]) -> None:
    """Link outcome rows (id, session_id, claim_id) to what commit wrote, by primary key.

    PostgreSQL: COPY into a temporary table, then one UPDATE ... FROM; SQLite: executemany.
    """
    rows = list(links)
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _set_links_by_copy(session, rows)
        return
    table = _OUTCOMES_TABLE
    statement = (
        update(table)
        .where(table.c.id == bindparam("outcome_id"))
        .values(session_id=bindparam("new_session_id"), claim_id=bindparam("new_claim_id"))
    )
    values = [
        {"outcome_id": outcome_id, "new_session_id": session_id, "new_claim_id": claim_id}
        for outcome_id, session_id, claim_id in rows
    ]
    for start in range(0, len(values), _WRITE_CHUNK):
        session.execute(statement, values[start : start + _WRITE_CHUNK])


def _set_links_by_copy(session: Session, rows: list[tuple[int, int | None, int | None]]) -> None:
    session.flush()
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(
            "CREATE TEMPORARY TABLE import_links (outcome_id bigint, session_id bigint, claim_id bigint)"
        )
        with cursor.copy("COPY import_links (outcome_id, session_id, claim_id) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            "UPDATE import_row_outcomes AS o SET session_id = l.session_id, claim_id = l.claim_id "
            "FROM import_links AS l WHERE o.id = l.outcome_id"
        )
        cursor.execute("DROP TABLE import_links")
