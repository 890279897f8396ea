"""Reading many rows by id, for the bulk paths (a batch of 10,000 claims, a 277CA for as many).

Ids go to the database in chunks of :data:`CHUNK` per ``IN (...)``: one statement per chunk
instead of one per row, well under SQLite's limit on bound parameters and cheap for
PostgreSQL. Rows the session already holds are reused as they are, as ``session.get`` would.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import Table, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

__all__ = ["CHUNK", "chunks", "rows_by_id", "table_of"]

CHUNK = 500

_T = TypeVar("_T")


class _Keyed(Protocol):
    id: Any


_Row = TypeVar("_Row", bound=_Keyed)


def chunks(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    """``items`` in slices of at most ``size``: ids for ``IN (...)``, rows for one INSERT."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def rows_by_id(session: Session, model: type[_Row], ids: Collection[int]) -> dict[int, _Row]:
    """Id -> row for the ids that exist (the caller decides what a missing one means)."""
    found: dict[int, _Row] = {}
    for row_id in ids:
        held = session.identity_map.get(identity_key(model, row_id))
        if held is not None:
            found[row_id] = held
    missing = sorted(set(ids) - set(found))
    [key] = inspect(model).primary_key
    for chunk in chunks(missing):
        found.update((row.id, row) for row in session.scalars(select(model).where(key.in_(chunk))))
    return found


def table_of(model: Any) -> Table:
    """A model's table: Core statements on it (one executemany) skip the ORM's per-row work."""
    table: Table = model.__table__
    return table
