"""Column types shared by the models: ids, money and UTC timestamps on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# 64-bit ids and cents on PostgreSQL; SQLite's INTEGER is already 64-bit and must stay
# plain INTEGER for rowid primary keys to autoincrement.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Cents = BigInteger().with_variant(Integer(), "sqlite")


_recording_at: ContextVar[datetime | None] = ContextVar("revcycle_recording_at", default=None)


def utcnow() -> datetime:
    """The current moment in UTC: the wall clock, or inside :func:`recording_at` its moment."""
    moment = _recording_at.get()
    return moment if moment is not None else datetime.now(UTC)


@contextmanager
def recording_at(moment: datetime) -> Iterator[None]:
    """Stamp what is written inside the block (created_at defaults, status changes, audit
    rows) with ``moment`` instead of the wall clock.

    For replaying a history whose times are known: the demo's year of work is written in a
    minute, and each event must carry the time it happened. The caller flushes inside the
    block, since column defaults are taken at flush time. Never used by the web app or jobs.
    """
    if moment.tzinfo is None:
        raise ValueError("recording_at needs an aware datetime")
    token = _recording_at.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _recording_at.reset(token)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so naive values coming back are UTC by construction.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stamp: datetime = value
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=UTC)
        return stamp.astimezone(UTC)
