"""Writing many rows with one statement, for the bulk paths (a 20,000-claim 835 posts some
400,000 rows: postings, balances, audit rows, claim events).

SQLAlchemy's executemany rebuilds each row's parameters through the compiled statement,
several microseconds a row; :func:`execute_many` compiles the statement once, turns each row
into the driver's parameters with the columns' own bind processors (what SQLAlchemy itself
would apply: a date becomes SQLite's text, a JSON value its text, a timestamp UTC), and hands
the whole list to the driver's ``executemany`` in the session's transaction. What is stored
is exactly what a Core ``session.execute(statement, rows)`` stores (tested on both
databases); it is for statements without RETURNING whose rows name every column they write
(no Python-side column defaults are applied).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from revcycle.services.bulk_reads import chunks

__all__ = ["execute_many", "insert_many"]

_CHUNK = 5000  # rows per executemany call: bounded driver-side memory


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table`` with :func:`execute_many`."""
    if rows:
        execute_many(session, insert(table), rows)


def execute_many(session: Session, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run ``statement`` once per row (dicts with the same keys, named as its parameters)
    through the driver's executemany."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, column_keys=list(rows[0]))  # type: ignore[attr-defined]
    names: list[str] = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
    convert: list[tuple[str, Callable[[Any], Any] | None]] = [
        (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
    ]
    sql = compiled.string
    for chunk in chunks(rows, _CHUNK):
        parameters: list[Any]
        if compiled.positional:
            parameters = [tuple(_converted(row, convert)) for row in chunk]
        else:
            parameters = [dict(zip(names, _converted(row, convert), strict=True)) for row in chunk]
        connection.exec_driver_sql(sql, parameters)


def _converted(
    row: Mapping[str, Any], convert: Sequence[tuple[str, Callable[[Any], Any] | None]]
) -> list[Any]:
    values = []
    for name, process in convert:
        value = row[name]
        values.append(value if process is None or value is None else process(value))
    return values
