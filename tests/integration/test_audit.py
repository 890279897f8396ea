"""The audit log: appended in the caller's transaction, gap-free per practice, hash-chained,
and verify_chain names the first broken link when someone gets around the triggers.

Tamper tests pick random rows; the seed is printed (and shown on failure). Replay one with
REVCYCLE_TAMPER_SEED=<seed>.
"""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from revcycle.db import models as m
from revcycle.db.engine import unit_of_work
from revcycle.domain.permissions import Role
from revcycle.errors import NotFound, PermissionDenied
from revcycle.services import audit
from revcycle.services.actor import Actor, system_actor
from tests import factories as f

ROUNDS = 4
CHAIN_LENGTH = 12


@pytest.fixture
def rng() -> random.Random:
    seed = int(os.environ.get("REVCYCLE_TAMPER_SEED") or random.SystemRandom().randrange(2**32))
    print(f"tamper seed {seed}; replay with REVCYCLE_TAMPER_SEED={seed}")  # noqa: T201
    return random.Random(seed)


@pytest.fixture
def practice(db: Session) -> m.Practice:
    return f.make_practice(db)


def _chain(db: Session, practice: m.Practice, length: int = CHAIN_LENGTH) -> list[m.AuditLog]:
    user = f.make_user(db, practice, Role.BILLING)
    actor = f.actor_for(db, user, source_ip="10.0.0.7")
    rows = []
    for n in range(length):
        rows.append(
            audit.record(
                db,
                actor=actor if n % 2 else system_actor("import"),
                practice_id=practice.id,
                action=("create", "update", "delete")[n % 3],
                entity="claim",
                entity_id=1000 + n,
                client_ids=[n + 2, n + 1],
                before={"status": "draft", "n": n} if n % 3 else None,
                after={"status": "ready", "when": datetime(2026, 3, 2, tzinfo=UTC)},
                reason=f"step {n}",
            )
        )
    return rows


def _only_problem(db: Session, practice: m.Practice) -> tuple[str, str, str]:
    problems = audit.verify_chain(db, practice.id)
    assert len(problems) == 1, problems
    problem = problems[0]
    return problem.code, problem.where, problem.message


@contextmanager
def _tampering(db: Session) -> Iterator[None]:
    """Switch the append-only triggers off inside a savepoint that is rolled back after."""
    nested = db.begin_nested()
    if db.get_bind().dialect.name == "sqlite":
        db.execute(text("DROP TRIGGER audit_log_no_update"))
        db.execute(text("DROP TRIGGER audit_log_no_delete"))
    else:
        db.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    try:
        yield
    finally:
        nested.rollback()
        db.expire_all()


def _set_seq(db: Session, practice: m.Practice, old: int, new: int) -> None:
    db.execute(
        text("UPDATE audit_log SET seq = :new WHERE practice_id = :p AND seq = :old"),
        {"new": new, "old": old, "p": practice.id},
    )


def _shift_from(db: Session, practice: m.Practice, seq: int) -> None:
    """Make room at ``seq``: every row from there moves one down (two steps: unique seq)."""
    params = {"p": practice.id, "seq": seq}
    db.execute(
        text("UPDATE audit_log SET seq = -(seq + 1) WHERE practice_id = :p AND seq >= :seq"), params
    )
    db.execute(text("UPDATE audit_log SET seq = -seq WHERE practice_id = :p AND seq < 0"), params)


def _forge(db: Session, practice: m.Practice, seq: int, prev_hash: str, *, valid: bool) -> m.AuditLog:
    row = m.AuditLog(
        practice_id=practice.id,
        seq=seq,
        actor_user_id=None,
        action="delete",
        entity="payment",
        entity_id="666",
        client_ids=[],
        before=None,
        after=None,
        source_ip="203.0.113.9",
        reason="forged",
        created_at=datetime(2026, 3, 3, tzinfo=UTC),
        prev_hash=prev_hash,
    )
    row.hash = audit.row_hash(row) if valid else "f" * 64
    db.add(row)
    db.flush()
    return row


# --- writing -------------------------------------------------------------------------------


def test_a_fresh_chain_verifies_with_gap_free_seq(db: Session, practice: m.Practice) -> None:
    rows = _chain(db, practice)

    assert [row.seq for row in rows] == list(range(1, CHAIN_LENGTH + 1))
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(rows))
    head = db.get(m.AuditHead, practice.id)
    assert head is not None
    assert (head.seq, head.hash) == (rows[-1].seq, rows[-1].hash)
    assert audit.verify_chain(db, practice.id) == []


def test_each_practice_has_its_own_chain(db: Session) -> None:
    first, second = f.make_practice(db), f.make_practice(db)
    actor = system_actor()
    for _ in range(3):
        for practice in (first, second):
            audit.record(db, actor=actor, practice_id=practice.id, action="update", entity="x")

    for practice in (first, second):
        seqs = db.scalars(select(m.AuditLog.seq).where(m.AuditLog.practice_id == practice.id))
        assert sorted(seqs) == [1, 2, 3]
    assert audit.verify_all(db)[first.id] == []
    assert audit.verify_all(db)[second.id] == []


def test_a_row_records_who_from_where_and_why(db: Session, practice: m.Practice) -> None:
    user = f.make_user(db, practice, Role.ADMIN)
    actor = f.actor_for(db, user, source_ip="192.0.2.4")

    row = audit.record(
        db,
        actor=actor,
        practice_id=practice.id,
        action="update",
        entity="client",
        entity_id=42,
        client_ids=[9, 3, 9],
        before={"phone": "555"},
        after={"phone": "556", "dob": datetime(1990, 1, 1, tzinfo=UTC).date()},
        reason="client called",
    )
    db.expire(row)

    assert (row.actor_user_id, row.source_ip, row.reason) == (user.id, "192.0.2.4", "client called")
    assert row.entity_id == "42"
    assert row.client_ids == [3, 9]
    assert row.after == {"phone": "556", "dob": "1990-01-01"}
    assert audit.row_hash(row) == row.hash


def test_a_read_is_one_row_naming_every_client(db: Session, practice: m.Practice) -> None:
    row = audit.record_read(
        db, actor=system_actor(), practice_id=practice.id, entity="client_list", client_ids=[5, 2]
    )

    assert (row.action, row.entity, row.client_ids) == ("read", "client_list", [2, 5])
    assert audit.verify_chain(db, practice.id) == []


def test_a_failing_audit_write_rolls_back_the_change_it_records(
    db: Session, practice: m.Practice
) -> None:
    client = f.make_client(db, practice)
    _refuse_audit_inserts(db)
    factory = sessionmaker(bind=db.connection(), join_transaction_mode="create_savepoint")

    def change_and_record(uow: Session) -> None:
        uow.get_one(m.Client, client.id).phone = "555-0100"
        uow.add(m.Note(practice_id=practice.id, body="called the client"))
        uow.flush()
        audit.record(
            uow, actor=system_actor(), practice_id=practice.id, action="update", entity="client",
            entity_id=client.id, client_ids=[client.id], after={"phone": "555-0100"},
        )

    with pytest.raises(DatabaseError, match="audit write refused"), unit_of_work(factory) as uow:
        change_and_record(uow)

    db.expire_all()
    assert db.get_one(m.Client, client.id).phone == ""
    assert db.scalars(select(m.Note).where(m.Note.practice_id == practice.id)).all() == []


def _refuse_audit_inserts(db: Session) -> None:
    if db.get_bind().dialect.name == "sqlite":
        db.execute(
            text(
                "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit write refused'); END"
            )
        )
        return
    db.execute(
        text(
            "CREATE FUNCTION test_refuse_audit() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit write refused'; END; $$ LANGUAGE plpgsql"
        )
    )
    db.execute(
        text(
            "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()"
        )
    )


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_to_edit_the_log(
    db: Session, practice: m.Practice, statement: str
) -> None:
    _chain(db, practice, 2)
    with pytest.raises(DatabaseError, match="append-only"), db.begin_nested():
        db.execute(text(statement))


# --- tampering -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [("reason", "'nothing to see'"), ("entity_id", "'999'"), ("action", "'read'"),
     ("client_ids", "'[]'"), ("source_ip", "'127.0.0.1'")],
)
def test_an_edited_row_is_named(
    db: Session, practice: m.Practice, rng: random.Random, column: str, value: str
) -> None:
    rows = _chain(db, practice)
    for _ in range(ROUNDS):
        target = rng.choice(rows)
        seq, row_id = target.seq, target.id
        with _tampering(db):
            db.execute(
                text(f"UPDATE audit_log SET {column} = {value} WHERE id = :id"), {"id": row_id}
            )
            code, where, message = _only_problem(db, practice)
        assert code == "audit.altered"
        assert where == f"practice {practice.id}, seq {seq}"
        assert f"row seq {seq} (id {row_id}) was altered" in message
    assert audit.verify_chain(db, practice.id) == []


def test_a_deleted_row_is_named(db: Session, practice: m.Practice, rng: random.Random) -> None:
    rows = _chain(db, practice)
    for _ in range(ROUNDS):
        seq = rng.randint(1, CHAIN_LENGTH)
        with _tampering(db):
            db.execute(
                text("DELETE FROM audit_log WHERE practice_id = :p AND seq = :seq"),
                {"p": practice.id, "seq": seq},
            )
            code, where, message = _only_problem(db, practice)
        assert code == "audit.deleted", message
        assert where == f"practice {practice.id}, seq {seq}"
        assert f"row seq {seq} is missing (deleted" in message
    assert len(rows) == CHAIN_LENGTH


def test_several_deleted_rows_are_named_as_a_range(db: Session, practice: m.Practice) -> None:
    _chain(db, practice)
    with _tampering(db):
        db.execute(
            text("DELETE FROM audit_log WHERE practice_id = :p AND seq IN (4, 5, 6)"),
            {"p": practice.id},
        )
        code, _, message = _only_problem(db, practice)
    assert code == "audit.deleted"
    assert "rows seq 4..6 are missing (deleted): the log jumps from seq 3 to seq 7" in message


@pytest.mark.parametrize("valid_hash", [True, False], ids=["forged-hash", "garbage-hash"])
def test_an_inserted_row_is_named(
    db: Session, practice: m.Practice, rng: random.Random, valid_hash: bool
) -> None:
    rows = _chain(db, practice)
    for _ in range(ROUNDS):
        seq = rng.randint(1, CHAIN_LENGTH)
        prev_hash = rows[seq - 2].hash if seq > 1 else audit.GENESIS_HASH
        with _tampering(db):
            _shift_from(db, practice, seq)
            forged = _forge(db, practice, seq, prev_hash, valid=valid_hash)
            code, _, message = _only_problem(db, practice)
        assert code == "audit.inserted", message
        assert str(forged.id) in message
        assert f"seq {seq}" in message


def test_a_row_appended_behind_the_heads_back_is_named(db: Session, practice: m.Practice) -> None:
    rows = _chain(db, practice)
    with _tampering(db):
        _forge(db, practice, CHAIN_LENGTH + 1, rows[-1].hash, valid=True)
        code, _, message = _only_problem(db, practice)
    assert code == "audit.inserted"
    assert f"rows seq {CHAIN_LENGTH + 1}..{CHAIN_LENGTH + 1} were inserted" in message


def test_swapped_rows_are_named(db: Session, practice: m.Practice, rng: random.Random) -> None:
    rows = _chain(db, practice)
    for _ in range(ROUNDS):
        first, second = sorted(rng.sample(range(1, CHAIN_LENGTH + 1), 2))
        moved_id = rows[second - 1].id
        with _tampering(db):
            _set_seq(db, practice, first, -1)
            _set_seq(db, practice, second, first)
            _set_seq(db, practice, -1, second)
            code, where, message = _only_problem(db, practice)
        assert code == "audit.reordered", message
        assert where == f"practice {practice.id}, seq {first}"
        assert f"row seq {first} (id {moved_id}) was written as seq {second}" in message


def test_a_head_that_does_not_match_the_log_is_named(db: Session, practice: m.Practice) -> None:
    _chain(db, practice, 3)
    db.execute(
        text("UPDATE audit_heads SET hash = :h WHERE practice_id = :p"),
        {"h": "a" * 64, "p": practice.id},
    )
    code, _, message = _only_problem(db, practice)
    assert code == "audit.head_mismatch"
    assert "last row seq 3" in message


# --- reading -------------------------------------------------------------------------------


def _admin(db: Session, practice: m.Practice) -> Actor:
    return f.actor_for(db, f.make_user(db, practice, Role.ADMIN))


def test_the_admin_page_lists_newest_first_with_a_total(db: Session, practice: m.Practice) -> None:
    _chain(db, practice)

    rows, total = audit.list_entries(db, actor=_admin(db, practice), practice_id=practice.id, limit=5)

    assert total == CHAIN_LENGTH
    assert [row.seq for row in rows] == [12, 11, 10, 9, 8]


def test_the_admin_page_filters(db: Session, practice: m.Practice) -> None:
    _chain(db, practice)
    admin = _admin(db, practice)

    def seqs(**filters: object) -> list[int]:
        rows, total = audit.list_entries(
            db, actor=admin, practice_id=practice.id, filters=audit.AuditFilters(**filters)
        )
        assert total == len(rows)
        return sorted(row.seq for row in rows)

    assert seqs(action="delete") == [3, 6, 9, 12]
    assert seqs(entity_id="1004") == [5]
    assert seqs(client_id=3) == [2, 3]
    assert seqs(entity="payment") == []
    assert seqs(since=datetime.now(UTC) + timedelta(days=1)) == []
    assert seqs(until=datetime.now(UTC) + timedelta(days=1)) == list(range(1, CHAIN_LENGTH + 1))


def test_only_an_admin_of_the_practice_reads_the_log(db: Session, practice: m.Practice) -> None:
    billing = f.actor_for(db, f.make_user(db, practice, Role.BILLING))
    stranger = _admin(db, f.make_practice(db))

    with pytest.raises(PermissionDenied):
        audit.list_entries(db, actor=billing, practice_id=practice.id)
    with pytest.raises(NotFound):
        audit.list_entries(db, actor=stranger, practice_id=practice.id)
