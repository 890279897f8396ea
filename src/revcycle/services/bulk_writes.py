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
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from revcycle.services.bulk_reads import chunks

__all__ = ["execute_many", "insert_many"]

_CHUNK = 5000  # rows per executemany call: bounded driver-side memory


def insert_many(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
    *,
    columns: Sequence[str] | None = None,
) -> None:
    """INSERT ``rows`` into ``table`` with :func:`execute_many`: dicts with the same keys, or
    value tuples in the order of ``columns`` (no dict made per row)."""
    if rows:
        execute_many(session, insert(table), rows, columns=columns or list(rows[0]))


def execute_many(
    session: Session,
    statement: Executable,
    rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
    *,
    columns: Sequence[str] | None = None,
) -> None:
    """Run ``statement`` once per row through the driver's executemany. Rows are dicts with
    the same keys, named as its parameters, or value tuples in the order of ``columns``;
    ``columns`` also names an INSERT's columns when the statement names none."""
    if not rows:
        return
    keyed = isinstance(rows[0], Mapping)
    if not keyed and columns is None:
        raise ValueError("rows given as tuples need their columns named")
    connection = session.connection()
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, column_keys=columns)  # type: ignore[attr-defined]
    names: list[str] = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
    convert = [
        (index, process)
        for index, name in enumerate(names)
        if (process := _processor(compiled.binds[name].type, dialect)) is not None
    ]
    keys: list[Any] = names if keyed else [list(columns or ()).index(name) for name in names]
    values_of: Callable[[Any], tuple[Any, ...]] = (
        itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))
    )
    sql = compiled.string
    for chunk in chunks(rows, _CHUNK):
        parameters: list[Any] = [_converted(values_of(row), convert) for row in chunk]
        if not compiled.positional:
            parameters = [dict(zip(names, values, strict=True)) for values in parameters]
        connection.exec_driver_sql(sql, parameters)


def _processor(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """The column's bind processor; for dates and timestamps, remembering each value's result
    (a bulk write stamps thousands of rows with the same few)."""
    process: Callable[[Any], Any] | None = column_type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    try:  # a TypeDecorator (UTC timestamps) says what it stores through its implementation
        python_type = getattr(column_type, "impl_instance", column_type).python_type
    except NotImplementedError:
        return process
    if python_type not in (date, datetime):
        return process
    seen: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        if value not in seen:
            seen[value] = process(value)
        return seen[value]

    return remembered


def _converted(values: tuple[Any, ...], convert: Sequence[tuple[int, Callable[[Any], Any]]]) -> Any:
    """A row's values (in the statement's order) with the processed columns' turned into what
    the driver takes; a row with nothing to turn stays the tuple it is."""
    if not convert:
        return values
    out = list(values)
    for index, process in convert:  # None too, as SQLAlchemy does (a JSON column's None is 'null')
        out[index] = process(out[index])
    return tuple(out)
