"""Eight workers ingest the same 835 at once on PostgreSQL: it posts exactly once.

Each worker has its own connection and commits; the file's unique hash makes seven of them wait
for the first and then report the file a duplicate. Money, claims and exceptions are counted
after all eight have committed.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.services.ledger import check_ledger
from revcycle.services.x12_ingest import IngestResult, ingest
from revcycle.x12.write835 import write_835
from tests.integration.remittance.world import claim_payment, envelope, line, make_world, remittance

WORKERS = 8


def test_eight_concurrent_ingestions_of_one_file_post_it_once(committing_postgresql_engine: Engine) -> None:
    engine = committing_postgresql_engine
    with Session(engine, expire_on_commit=False) as db:
        world = make_world(db)
        claims = [world.claim(("90837", 15000)) for _ in range(5)]
        era = remittance(*(claim_payment(c, line("90837", 15000, 9000, ("CO", "45", 6000))) for c in claims))
        db.commit()
        practice_id, actor = world.practice.id, world.actor
    data = write_835([era], envelope(1)).encode()
    results: list[IngestResult] = []
    errors: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def worker() -> None:
        try:
            with Session(engine) as session:
                start.wait()
                result = ingest(session, actor=actor, practice_id=practice_id, filename="era.835", data=data)
                session.commit()
            results.append(result)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(r.status for r in results) == ["applied"] + ["duplicate"] * (WORKERS - 1)
    with Session(engine) as db:
        assert db.scalar(select(func.count()).select_from(m.Remittance)) == 1
        assert db.scalar(select(func.count()).select_from(m.Payment)) == 1
        assert db.scalar(select(func.count()).select_from(m.RemittanceClaim)) == 5
        cash = db.scalar(select(func.sum(m.Posting.amount_cents)).where(m.Posting.account == "cash"))
        assert cash == 5 * 9000
        statuses = db.scalars(select(m.Claim.status).where(m.Claim.id.in_([c.id for c in claims])))
        assert set(statuses) == {"paid"}
        events = db.scalar(
            select(func.count()).select_from(m.ClaimEvent).where(m.ClaimEvent.to_status == "paid")
        )
        assert events == 5
        assert check_ledger(db, practice_id).ok
