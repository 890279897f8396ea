"""services.bulk_writes stores exactly what SQLAlchemy's Core executemany stores, on both
databases: dates, UTC timestamps, JSON (None as JSON null), NULLs, ints and text, from dict
rows or from value tuples in a named column order."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import bindparam

from revcycle.db import models as m
from revcycle.services.bulk_reads import table_of
from revcycle.services.bulk_writes import execute_many, insert_many
from tests import factories as f

WHEN = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def _rows(practice_id: int, user_id: int, start: int) -> list[dict[str, object]]:
    return [
        {
            "practice_id": practice_id,
            "seq": start + n,
            "actor_user_id": user_id if n % 2 else None,
            "action": "create",
            "entity": "thing",
            "entity_id": str(n),
            "client_ids": [3, 1, 2][: n % 4],
            "before": None if n % 2 else {"status": "ready", "n": n, "é": [1, None, "x"]},
            "after": {"status": "paid", "on": "2026-03-04", "ok": n % 3 == 0},
            "source_ip": "",
            "reason": f"row {n} — ünïcode",
            "created_at": WHEN,
            "prev_hash": "0" * 64,
            "hash": f"{n:064d}",
        }
        for n in range(6)
    ]


_READ = ("seq", "actor_user_id", "entity_id", "client_ids", "before", "after", "reason", "created_at")


def _stored(db: Session, seqs: range) -> list[tuple[object, ...]]:
    table = table_of(m.AuditLog)
    columns = [table.c[name] for name in _READ]
    query = select(*columns).where(table.c.seq.in_(list(seqs))).order_by(table.c.seq)
    return [tuple(row) for row in db.execute(query)]


def _raw_json(db: Session, seqs: range) -> list[tuple[object, ...]]:
    """The JSON columns as the database holds them: NULL or a JSON null tells apart."""
    table = table_of(m.AuditLog)
    query = select(table.c.seq, table.c.before.is_(None)).where(table.c.seq.in_(list(seqs)))
    return [(seq - seqs.start, is_null) for seq, is_null in db.execute(query.order_by(table.c.seq))]


@pytest.mark.parametrize("shape", ["dicts", "tuples"])
def test_rows_are_stored_as_core_stores_them(db: Session, shape: str) -> None:
    practice = f.make_practice(db)
    user = f.make_user(db, practice)
    table = table_of(m.AuditLog)
    core, raw = _rows(practice.id, user.id, 1000), _rows(practice.id, user.id, 2000)
    db.execute(insert(table), core)
    if shape == "dicts":
        insert_many(db, table, raw)
    else:
        columns = list(raw[0])
        insert_many(db, table, [tuple(row[c] for c in columns) for row in raw], columns=columns)
    as_core = _stored(db, range(1000, 1006))
    as_raw = _stored(db, range(2000, 2006))
    assert [r[1:] for r in as_raw] == [r[1:] for r in as_core]
    assert _raw_json(db, range(2000, 2006)) == _raw_json(db, range(1000, 1006))
    assert as_raw[0][-1] == WHEN


def test_an_update_with_named_parameters(db: Session) -> None:
    payers = [f.make_payer(db) for _ in range(3)]
    table = table_of(m.Payer)
    statement = update(table).where(table.c.id == bindparam("payer_key")).values(name=bindparam("new"))
    execute_many(db, statement, [{"payer_key": p.id, "new": f"Payer Ünï {p.id}"} for p in payers])
    ids = [p.id for p in payers]
    stored = db.execute(select(table.c.id, table.c.name).where(table.c.id.in_(ids))).all()
    assert sorted(tuple(row) for row in stored) == sorted((p.id, f"Payer Ünï {p.id}") for p in payers)


def test_tuples_need_their_columns(db: Session) -> None:
    with pytest.raises(ValueError, match="columns"):
        execute_many(db, insert(table_of(m.AuditLog)), [(1, 2)])


def test_a_date_column_round_trips(db: Session) -> None:
    practice = f.make_practice(db)
    table = table_of(m.AccountingPeriod)
    insert_many(
        db,
        table,
        [
            {
                "practice_id": practice.id,
                "starts_on": date(2026, 1, 1),
                "ends_on": date(2026, 1, 31),
                "closed_at": WHEN,
                "closed_by_user_id": None,
            }
        ],
    )
    stored = db.execute(select(table.c.starts_on, table.c.ends_on, table.c.closed_at)).one()
    assert tuple(stored) == (date(2026, 1, 1), date(2026, 1, 31), WHEN)
