"""Concurrent SQLite writers wait for each other instead of failing with "database is locked".

Each transaction starts with BEGIN IMMEDIATE, so the write lock is taken up front; a second
writer waits on the busy timeout rather than failing when it upgrades a read lock mid-way.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from revcycle.db import models as m
from revcycle.db.engine import make_engine, make_session_factory, unit_of_work
from revcycle.db.migrate import upgrade


def test_concurrent_read_then_write_transactions_all_succeed(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        session.add(m.Payer(name="Counter", edi_payer_id="0"))
    errors: list[BaseException] = []

    def bump(worker: int) -> None:
        try:
            for _ in range(10):
                with unit_of_work(factory) as session:
                    # Read, then write in the same transaction: the pattern that fails with
                    # "database is locked" under deferred transactions.
                    payer = session.scalars(select(m.Payer).where(m.Payer.name == "Counter")).one()
                    payer.edi_payer_id = str(int(payer.edi_payer_id) + 1)
                    session.add(m.Payer(name=f"w{worker}", edi_payer_id="x"))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with unit_of_work(factory) as session:
        counter = session.scalars(select(m.Payer).where(m.Payer.name == "Counter")).one()
        assert counter.edi_payer_id == "40"  # no lost update
        assert session.scalar(select(func.count()).select_from(m.Payer)) == 41
    engine.dispose()
