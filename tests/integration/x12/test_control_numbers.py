"""Control numbers per sender and envelope level: consecutive, independent, restarting after
nine digits, given back by a rollback, and never the same for two racing writers."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.errors import InvalidInput
from revcycle.services.x12_control import MAX_CONTROL_NUMBER, Envelope, take_control_numbers


def test_numbers_follow_on_per_sender_and_level(db: Session) -> None:
    assert take_control_numbers(db, sender_id="RIVERBEND", envelope=Envelope.INTERCHANGE) == [1]
    assert take_control_numbers(db, sender_id="RIVERBEND", envelope="ISA") == [2]
    st = Envelope.TRANSACTION
    assert take_control_numbers(db, sender_id="RIVERBEND", envelope=st, count=3) == [1, 2, 3]
    assert take_control_numbers(db, sender_id="RIVERBEND", envelope=st, count=2) == [4, 5]
    assert take_control_numbers(db, sender_id="OTHERCLINIC", envelope=Envelope.INTERCHANGE) == [1]
    assert take_control_numbers(db, sender_id="RIVERBEND", envelope=Envelope.GROUP) == [1]


def test_after_nine_digits_the_counter_starts_again(db: Session) -> None:
    take_control_numbers(db, sender_id="WRAP", envelope=Envelope.INTERCHANGE)
    db.execute(
        update(m.X12ControlNumber)
        .where(m.X12ControlNumber.sender_id == "WRAP")
        .values(last_value=MAX_CONTROL_NUMBER - 1)
    )
    assert take_control_numbers(db, sender_id="WRAP", envelope=Envelope.INTERCHANGE) == [MAX_CONTROL_NUMBER]
    assert take_control_numbers(db, sender_id="WRAP", envelope=Envelope.INTERCHANGE, count=2) == [1, 2]


def test_a_rolled_back_batch_gives_its_numbers_back(db: Session) -> None:
    take_control_numbers(db, sender_id="ROLLBACK", envelope=Envelope.INTERCHANGE)
    savepoint = db.begin_nested()
    assert take_control_numbers(db, sender_id="ROLLBACK", envelope=Envelope.INTERCHANGE) == [2]
    savepoint.rollback()
    assert take_control_numbers(db, sender_id="ROLLBACK", envelope=Envelope.INTERCHANGE) == [2]


@pytest.mark.parametrize(("sender", "count"), [("", 1), ("X" * 36, 1), ("OK", 0)])
def test_bad_requests_are_refused(db: Session, sender: str, count: int) -> None:
    with pytest.raises(InvalidInput):
        take_control_numbers(db, sender_id=sender, envelope=Envelope.INTERCHANGE, count=count)


def test_racing_writers_never_take_the_same_number(committing_postgresql_engine: Engine) -> None:
    engine = committing_postgresql_engine
    taken: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer() -> None:
        try:
            for _ in range(20):
                with Session(engine) as session:
                    numbers = take_control_numbers(session, sender_id="RACE", envelope=Envelope.INTERCHANGE)
                    session.commit()
                with lock:
                    taken.extend(numbers)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(taken) == list(range(1, 81))
