"""X12 control numbers: ISA13, GS06 and ST02 unique and incrementing per sender.

A clearinghouse refuses an interchange whose control number it has already seen from the
same sender, and a 999 or 277CA names the group and transaction it answers by their numbers,
so each number is taken once, from a counter per sender and envelope level kept in
``x12_control_numbers``. The counter moves by one atomic
``UPDATE ... SET last_value = last_value + n RETURNING last_value``: two writers (two workers
sending batches) can never take the same number, on SQLite or PostgreSQL. ISA13 has nine
digits; after 999,999,999 the counter starts again at 1 (GS06 and ST02 likewise).

The caller's transaction holds the row until it commits: a batch that is rolled back gives its
numbers back, so a number is "used" exactly when the file that carries it is recorded.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.errors import InvalidInput

__all__ = ["MAX_CONTROL_NUMBER", "Envelope", "take_control_numbers"]

MAX_CONTROL_NUMBER = 999_999_999


class Envelope(StrEnum):
    """The envelope level a control number belongs to."""

    INTERCHANGE = "ISA"
    GROUP = "GS"
    TRANSACTION = "ST"


def take_control_numbers(
    db: Session, *, sender_id: str, envelope: Envelope | str, count: int = 1
) -> list[int]:
    """The next ``count`` control numbers of ``sender_id`` at that envelope level, in order."""
    level = Envelope(envelope)
    sender = sender_id.strip()
    if not sender or len(sender) > 35:
        raise InvalidInput("sender_id: 1 to 35 characters (the ISA06 / GS02 of the sender)")
    if not 1 <= count <= MAX_CONTROL_NUMBER:
        raise InvalidInput(f"count: 1 to {MAX_CONTROL_NUMBER}")
    _ensure_counter(db, sender, level)
    last = _advance(db, sender, level, count)
    if last > MAX_CONTROL_NUMBER:  # nine digits used up: start again at 1
        last = _restart(db, sender, level, count)
    return list(range(last - count + 1, last + 1))


def _ensure_counter(db: Session, sender: str, level: Envelope) -> None:
    exists = db.scalar(
        select(m.X12ControlNumber.id).where(
            m.X12ControlNumber.sender_id == sender, m.X12ControlNumber.kind == level.value
        )
    )
    if exists is not None:
        return
    try:
        with db.begin_nested():  # another writer may create it at the same moment
            db.add(m.X12ControlNumber(sender_id=sender, kind=level.value, last_value=0))
    except IntegrityError:
        pass


def _advance(db: Session, sender: str, level: Envelope, count: int) -> int:
    statement = (
        update(m.X12ControlNumber)
        .where(m.X12ControlNumber.sender_id == sender, m.X12ControlNumber.kind == level.value)
        .values(last_value=m.X12ControlNumber.last_value + count)
        .returning(m.X12ControlNumber.last_value)
        .execution_options(synchronize_session=False)
    )
    return int(db.execute(statement).scalar_one())


def _restart(db: Session, sender: str, level: Envelope, count: int) -> int:
    statement = (
        update(m.X12ControlNumber)
        .where(m.X12ControlNumber.sender_id == sender, m.X12ControlNumber.kind == level.value)
        .values(last_value=count)
        .returning(m.X12ControlNumber.last_value)
        .execution_options(synchronize_session=False)
    )
    return int(db.execute(statement).scalar_one())
