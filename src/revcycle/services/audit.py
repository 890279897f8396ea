"""The audit log: who did what, when, from where and why — append-only and hash-chained.

Every create, update or delete of billing data, and every request that reads a client's
record, appends one row in the same transaction as the change it records: if the audit write
fails, the change is rolled back with it, so nothing happens unrecorded.

Each practice has its own chain. Rows carry a gap-free ``seq`` (1, 2, 3 ...) and the
SHA-256 ``hash`` of a canonical JSON of their content plus the previous row's hash
(``prev_hash``; the first row links to 64 zeros). The practice's :class:`AuditHead` row holds
the last seq and hash; writers lock it to append (``SELECT ... FOR UPDATE`` on PostgreSQL;
SQLite serializes writers with ``BEGIN IMMEDIATE``), which makes the sequence gap-free.

The database refuses UPDATE and DELETE on the log (triggers). Should someone get around
that, :func:`verify_chain` finds the first broken link and names it: an altered row, a
deleted one, an inserted one, rows reordered, or a head that does not match the log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Row, Select, bindparam, cast, exists, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from revcycle.db.models import AuditHead, AuditLog, Practice
from revcycle.db.types import utcnow
from revcycle.domain.permissions import Permission
from revcycle.domain.problems import Problem
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import table_of
from revcycle.services.bulk_writes import insert_many

__all__ = [
    "GENESIS_HASH",
    "AuditContent",
    "AuditFilters",
    "Entry",
    "list_entries",
    "record",
    "record_many",
    "record_read",
    "row_hash",
    "verify_all",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
_VERIFY_BATCH = 2_000
# Every append locks and moves the head: the two statements are built once (building them per
# append cost more than running them).
_LOCK_HEAD = (
    select(AuditHead.seq, AuditHead.hash)
    .where(AuditHead.practice_id == bindparam("head_practice_id"))
    .with_for_update()
)
_MOVE_HEAD = (
    update(AuditHead)
    .where(AuditHead.practice_id == bindparam("head_practice_id"))
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
    # The head is never loaded as an object here: skip scanning the identity map,
    # which would cost O(objects in the session) per append.
    .execution_options(synchronize_session=False)
)


# --- writing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One audit row to append with :func:`record_many`: what :func:`record` takes, minus
    the actor and practice every row of a batch shares."""

    action: str
    entity: str
    entity_id: int | str = ""
    client_ids: Iterable[int] = ()
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    reason: str = ""


def record(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    action: str,
    entity: str,
    entity_id: int | str = "",
    client_ids: Iterable[int] = (),
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str = "",
) -> AuditLog:
    """Append one audit row for ``practice_id`` in the caller's transaction.

    ``before``/``after`` are stored as JSON; values JSON cannot hold (dates, decimals) are
    kept as their text, and the hash covers exactly what is stored.
    """
    entry = Entry(action, entity, entity_id, client_ids, before, after, reason)
    [values] = _append(session, actor, practice_id, [entry])
    row = AuditLog(**values)
    session.add(row)
    session.flush()
    return row


def record_many(session: Session, *, actor: Actor, practice_id: int, entries: Sequence[Entry]) -> int:
    """Append ``entries`` in order for ``practice_id`` under one lock of the head, with one
    INSERT per chunk of rows (no ORM objects kept); the rows are exactly those :func:`record`
    called once per entry would write. Returns the seq of the last row (the head's)."""
    rows = _append(session, actor, practice_id, entries)
    insert_many(session, table_of(AuditLog), rows)
    return int(rows[-1]["seq"]) if rows else _head_seq(session, practice_id)


def _append(
    session: Session, actor: Actor, practice_id: int, entries: Sequence[Entry]
) -> list[dict[str, Any]]:
    """Chain ``entries`` after the locked head and move the head past them: the rows' column
    values, for the caller to insert in the same transaction."""
    if not entries:
        return []
    seq, prev_hash = _lock_head(session, practice_id)
    now = utcnow()
    now_text = now.astimezone(UTC).isoformat()
    rows = []
    for entry in entries:
        seq += 1
        row = {
            "practice_id": practice_id,
            "seq": seq,
            "actor_user_id": actor.user_id,
            "action": entry.action,
            "entity": entry.entity,
            "entity_id": str(entry.entity_id),
            "client_ids": sorted({int(client_id) for client_id in entry.client_ids}),
            "before": _as_json(entry.before),
            "after": _as_json(entry.after),
            "source_ip": actor.source_ip,
            "reason": entry.reason,
            "created_at": now,
            "prev_hash": prev_hash,
        }
        prev_hash = row["hash"] = _sha256(_canonical_text(row, now_text))
        rows.append(row)
    session.execute(_MOVE_HEAD, {"head_practice_id": practice_id, "new_seq": seq, "new_hash": prev_hash})
    return rows


def _head_seq(session: Session, practice_id: int) -> int:
    head = _head(session, practice_id)
    return head[0] if head else 0


def record_read(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    entity: str,
    client_ids: Iterable[int],
    reason: str = "",
) -> AuditLog:
    """One row per request that reads clients' records, naming every client read."""
    return record(
        session,
        actor=actor,
        practice_id=practice_id,
        action="read",
        entity=entity,
        client_ids=client_ids,
        reason=reason,
    )


def _lock_head(session: Session, practice_id: int) -> tuple[int, str]:
    """Lock the practice's head row (creating it at genesis) and return (seq, hash)."""
    head = session.execute(_LOCK_HEAD, {"head_practice_id": practice_id}).one_or_none()
    if head is None:  # genesis: create the head (or find another writer's), then lock it
        values = {"practice_id": practice_id, "seq": 0, "hash": GENESIS_HASH}
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(AuditHead).values(**values).on_conflict_do_nothing())
        head = session.execute(_LOCK_HEAD, {"head_practice_id": practice_id}).one()
    return head.seq, head.hash


def _as_json(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The value as JSON gives it back (dates and decimals as their text, tuples as lists)."""
    if value is None:
        return None
    if all(type(key) is str and type(item) in _SCALARS for key, item in value.items()):
        return dict(value)  # already what JSON gives back: no round trip
    normalized: dict[str, Any] = json.loads(_PLAIN.encode(dict(value)))
    return normalized


_SCALARS = frozenset({str, int, bool, type(None)})  # exactly these (not str or int subclasses)


class AuditContent(Protocol):
    """What the hash covers: an :class:`AuditLog` row, or a plain row of its columns."""

    practice_id: int
    seq: int
    actor_user_id: int | None
    action: str
    entity: str
    entity_id: str
    client_ids: list[Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    source_ip: str
    reason: str
    created_at: datetime
    prev_hash: str


def row_hash(row: AuditContent, *, seq: int | None = None) -> str:
    """SHA-256 over the canonical JSON of a row's content and its ``prev_hash``.

    ``seq`` overrides the row's own (used to tell where a moved row was written).
    """
    content = {name: getattr(row, name) for name in _HASHED}
    if seq is not None:
        content["seq"] = seq
    return _content_hash(content)


_HASHED = tuple(AuditContent.__annotations__)  # the columns the hash covers


def _content_hash(content: Mapping[str, Any]) -> str:
    """:func:`row_hash` of a row's columns given as a mapping (at least those it covers)."""
    canonical = {name: content[name] for name in _HASHED}
    canonical["client_ids"] = sorted(content["client_ids"] or [])
    canonical["created_at"] = content["created_at"].astimezone(UTC).isoformat()
    return _sha256(_CANONICAL.encode(canonical))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _canonical_text(row: Mapping[str, Any], created_at: str) -> str:
    """What :func:`_content_hash` encodes for a new row (its client ids sorted, its timestamp's
    text given): the same text written out key by key, as appending thousands of rows at once
    (an 835) wants; a test holds the two equal."""
    value = _json
    return (
        f'{{"action":{value(row["action"])},"actor_user_id":{value(row["actor_user_id"])},'
        f'"after":{value(row["after"])},"before":{value(row["before"])},'
        f'"client_ids":[{",".join(map(str, row["client_ids"]))}],"created_at":{value(created_at)},'
        f'"entity":{value(row["entity"])},"entity_id":{value(row["entity_id"])},'
        f'"practice_id":{value(row["practice_id"])},"prev_hash":{value(row["prev_hash"])},'
        f'"reason":{value(row["reason"])},"seq":{value(row["seq"])},'
        f'"source_ip":{value(row["source_ip"])}}}'
    )


def _json(value: Any) -> str:
    """``_CANONICAL.encode(value)``, without making an encoder for the plain cases."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return str(encode_basestring_ascii(value))
    if kind is int:
        return str(value)
    return _CANONICAL.encode(value)


assert _HASHED == (  # _canonical_text writes these, sorted
    "practice_id",
    "seq",
    "actor_user_id",
    "action",
    "entity",
    "entity_id",
    "client_ids",
    "before",
    "after",
    "source_ip",
    "reason",
    "created_at",
    "prev_hash",
), "a column the hash covers must be written by _canonical_text"


# Made once: json.dumps with arguments builds a new encoder on every call (these write the
# same text as json.dumps(value, default=str) and json.dumps(value, sort_keys=True,
# separators=(",", ":"), ensure_ascii=True)).
_PLAIN = json.JSONEncoder(default=str)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


# --- verifying ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Link:
    """A row as the walk sees it: enough to name it and check its place in the chain."""

    id: int
    seq: int
    hash: str
    prev_hash: str
    content_ok: bool


def verify_chain(session: Session, practice_id: int) -> list[Problem]:
    """Walk the practice's log by seq; return the first broken link (empty when intact)."""
    expected_seq, prev_hash = 1, GENESIS_HASH
    previous: _Link | None = None
    for row in _rows_by_seq(session, practice_id):
        link = _Link(row.id, row.seq, row.hash, row.prev_hash, row_hash(row) == row.hash)
        if row.seq != expected_seq or not link.content_ok or row.prev_hash != prev_hash:
            return [
                _diagnose(session, practice_id, row, link=link, expected_seq=expected_seq, previous=previous)
            ]
        expected_seq, prev_hash, previous = row.seq + 1, row.hash, link
    return _check_head(session, practice_id, previous)


def verify_all(session: Session) -> dict[int, list[Problem]]:
    """:func:`verify_chain` for every practice, keyed by practice id."""
    practice_ids = session.scalars(select(Practice.id).order_by(Practice.id))
    return {practice_id: verify_chain(session, practice_id) for practice_id in practice_ids}


def _rows_by_seq(session: Session, practice_id: int) -> Iterator[Row[Any]]:
    """Stream the rows in seq order, in batches, as plain rows (as stored, never cached)."""
    last_seq = 0
    while True:
        batch = session.execute(
            select(*AuditLog.__table__.columns)
            .where(AuditLog.practice_id == practice_id, AuditLog.seq > last_seq)
            .order_by(AuditLog.seq)
            .limit(_VERIFY_BATCH)
        ).all()
        yield from batch
        if len(batch) < _VERIFY_BATCH:
            return
        last_seq = batch[-1].seq


def _problem(practice_id: int, code: str, seq: int, message: str) -> Problem:
    return Problem(f"audit.{code}", f"practice {practice_id}, seq {seq}", message)


def _diagnose(
    session: Session,
    practice_id: int,
    row: Row[Any],
    *,
    link: _Link,
    expected_seq: int,
    previous: _Link | None,
) -> Problem:
    """Name what happened at the first row that does not fit the chain."""
    name = f"row seq {row.seq} (id {row.id})"
    if row.seq > expected_seq:
        return _missing(practice_id, expected_seq, row.seq)
    if row.seq < expected_seq:  # a duplicate seq: only possible without the unique constraint
        return _problem(practice_id, "inserted", row.seq, f"{name} repeats a seq: it was inserted")
    if not link.content_ok:
        return _content_problem(session, practice_id, row, name)
    # The row is intact where it stands, but it was chained after a different row.
    before = f"row seq {previous.seq} (id {previous.id})" if previous else "the start of the log"
    return _problem(
        practice_id,
        "broken_link",
        row.seq,
        f"{name} was chained after a different row than {before}: the row before it was replaced or inserted",
    )


def _missing(practice_id: int, first: int, found: int) -> Problem:
    rows = f"row seq {first} is" if found - first == 1 else f"rows seq {first}..{found - 1} are"
    jump = f"the log jumps from seq {first - 1} to seq {found}"
    if first == 1:
        jump = f"the log starts at seq {found}"
    return _problem(practice_id, "deleted", first, f"{rows} missing (deleted): {jump}")


def _missing_tail(practice_id: int, last_seq: int, head_seq: int) -> Problem:
    first = last_seq + 1
    rows = f"row seq {first} is" if head_seq == first else f"rows seq {first}..{head_seq} are"
    message = (
        f"{rows} missing (deleted from the end): the audit head records seq {head_seq} "
        f"but the log ends at seq {last_seq}"
    )
    return _problem(practice_id, "deleted", first, message)


def _content_problem(session: Session, practice_id: int, row: Row[Any], name: str) -> Problem:
    written_as = _original_seq(session, practice_id, row)
    if written_as is not None and written_as > row.seq:
        return _problem(
            practice_id,
            "reordered",
            row.seq,
            f"{name} was written as seq {written_as}: rows were reordered",
        )
    if written_as is not None:
        inserted = _ids_between(session, practice_id, written_as, row.seq)
        return _problem(
            practice_id,
            "inserted",
            written_as,
            f"{name} was written as seq {written_as}: row(s) id {inserted} were inserted "
            f"before it at seq {written_as}..{row.seq - 1}",
        )
    if _is_newer_than_next(session, row):
        return _problem(
            practice_id,
            "inserted",
            row.seq,
            f"{name} was inserted: it is newer than the rows that follow it and fits no link",
        )
    return _problem(
        practice_id, "altered", row.seq, f"{name} was altered: its content no longer matches its hash"
    )


def _original_seq(session: Session, practice_id: int, row: Row[Any]) -> int | None:
    """The seq a moved row was written at, found from its neighbours in the chain."""
    for candidate in _candidate_seqs(session, practice_id, row):
        if candidate != row.seq and candidate > 0 and row_hash(row, seq=candidate) == row.hash:
            return candidate
    return None


def _candidate_seqs(session: Session, practice_id: int, row: Row[Any]) -> list[int]:
    in_practice = AuditLog.practice_id == practice_id
    predecessors = session.scalars(select(AuditLog.seq).where(in_practice, AuditLog.hash == row.prev_hash))
    successors = session.scalars(select(AuditLog.seq).where(in_practice, AuditLog.prev_hash == row.hash))
    candidates = [seq + 1 for seq in predecessors] + [seq - 1 for seq in successors]
    if row.prev_hash == GENESIS_HASH:
        candidates.append(1)
    head = _head(session, practice_id)
    if head is not None and head[1] == row.hash:
        candidates.append(head[0])
    return candidates


def _head(session: Session, practice_id: int) -> tuple[int, str] | None:
    """The head's (seq, hash) as stored now."""
    head = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.practice_id == practice_id)
    ).one_or_none()
    return None if head is None else (head.seq, head.hash)


def _ids_between(session: Session, practice_id: int, first: int, moved_to: int) -> list[int]:
    return list(
        session.scalars(
            select(AuditLog.id)
            .where(AuditLog.practice_id == practice_id, AuditLog.seq.between(first, moved_to - 1))
            .order_by(AuditLog.seq)
        )
    )


def _is_newer_than_next(session: Session, row: Row[Any]) -> bool:
    """Ids grow as rows are appended: a row with a larger id than a later seq came later."""
    next_id = session.scalar(
        select(func.min(AuditLog.id)).where(AuditLog.practice_id == row.practice_id, AuditLog.seq > row.seq)
    )
    return next_id is not None and next_id < row.id


def _check_head(session: Session, practice_id: int, last: _Link | None) -> list[Problem]:
    head = _head(session, practice_id)
    last_seq, last_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    if head is None:
        if last is None:
            return []
        message = f"the log has {last_seq} row(s) but no audit head"
        return [_problem(practice_id, "head_mismatch", last_seq, message)]
    head_seq, head_hash = head
    if head_seq > last_seq:
        return [_missing_tail(practice_id, last_seq, head_seq)]
    if head_seq < last_seq:
        message = (
            f"rows seq {head_seq + 1}..{last_seq} were inserted after the last row the audit "
            f"head records (seq {head_seq})"
        )
        return [_problem(practice_id, "inserted", head_seq + 1, message)]
    if head_hash != last_hash:
        message = f"the last row seq {last_seq} does not match the hash the audit head records"
        return [_problem(practice_id, "head_mismatch", last_seq, message)]
    return []


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What the admin page narrows the log by; every field is optional."""

    action: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    actor_user_id: int | None = None
    client_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_entries(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    filters: AuditFilters | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[AuditLog], int]:
    """A page of the practice's log, newest first, and the total that matches."""
    actor.require(practice_id, Permission.VIEW_AUDIT_LOG)
    dialect = session.get_bind().dialect.name
    conditions = _conditions(practice_id, filters or AuditFilters(), dialect)
    total = session.scalar(select(func.count()).select_from(AuditLog).where(*conditions)) or 0
    query: Select[Any] = (
        select(AuditLog).where(*conditions).order_by(AuditLog.seq.desc()).limit(limit).offset(offset)
    )
    return list(session.scalars(query)), total


def _conditions(practice_id: int, filters: AuditFilters, dialect: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [AuditLog.practice_id == practice_id]
    equal = {
        AuditLog.action: filters.action,
        AuditLog.entity: filters.entity,
        AuditLog.entity_id: filters.entity_id,
        AuditLog.actor_user_id: filters.actor_user_id,
    }
    conditions.extend(column == value for column, value in equal.items() if value is not None)
    if filters.since is not None:
        conditions.append(AuditLog.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(AuditLog.created_at < filters.until)
    if filters.client_id is not None:
        conditions.append(_names_client(filters.client_id, dialect))
    return conditions


def _names_client(client_id: int, dialect: str) -> ColumnElement[bool]:
    """Rows whose JSON ``client_ids`` list contains the client."""
    if dialect == "postgresql":
        return cast(AuditLog.client_ids, JSONB).contains([client_id])
    each = func.json_each(AuditLog.client_ids).table_valued("value")
    return exists().select_from(each).where(each.c.value == client_id)
