"""Claim status changes: checked against the one transition table, saved by compare-and-set.

A claim's status moves only along :data:`~revcycle.domain.claim_status.TRANSITIONS`; a move
the table refuses is bad input and writes nothing. Two people (or a person and an incoming
835) may act on the same claim at once, so the change is saved with
``UPDATE claims SET status = :target WHERE id = :id AND status = :expected``: if the row
count is zero, someone else moved the claim between our read and our write, and we refuse
with a conflict instead of overwriting their decision.

Every change appends a :class:`ClaimEvent` (from, to, source, who, when, detail) and an
audit row, in the caller's transaction.

:func:`transition_claims` moves many claims at once — a batch sent, a 999 or a 277CA of
thousands of claims — with a few statements per chunk of claims instead of several per
claim: claims loaded with ``IN`` queries, one compare-and-set ``UPDATE`` per (from, to) pair
and chunk, the events inserted together, and the audit rows appended under one lock of the
practice's audit head. It writes exactly what :func:`transition_claim` once per move would,
and refuses (writing nothing) where any of those calls would.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from revcycle.db.models import Claim, ClaimEvent
from revcycle.db.types import utcnow
from revcycle.domain.claim_status import ClaimStatus, EventSource, InvalidTransition, check_transition
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import chunks, table_of
from revcycle.services.bulk_writes import insert_many

__all__ = [
    "ClaimMove",
    "load_claim",
    "load_claims",
    "transition_claim",
    "transition_claims",
]


@dataclass(frozen=True)
class ClaimMove:
    """One status change to make: the claim, where to, and why."""

    claim_id: int
    target: ClaimStatus | str
    source: EventSource | str
    detail: str = ""
    correction: bool = False


def load_claim(session: Session, *, actor: Actor, claim_id: int) -> Claim:
    """The claim as stored now, if the actor may see its practice; NotFound otherwise."""
    return load_claims(session, actor=actor, claim_ids=[claim_id])[0]


def load_claims(session: Session, *, actor: Actor, claim_ids: Sequence[int]) -> list[Claim]:
    """:func:`load_claim` for many claims (in the order given, each once), by chunks of ids."""
    wanted = list(dict.fromkeys(claim_ids))
    found: dict[int, Claim] = {}
    for chunk in chunks(wanted):
        query = select(Claim).where(Claim.id.in_(chunk)).execution_options(populate_existing=True)
        found.update((claim.id, claim) for claim in session.scalars(query))
    for claim_id in wanted:
        claim = found.get(claim_id)
        if claim is None or not (actor.is_system or claim.practice_id in actor.practice_ids):
            raise NotFound(f"claim {claim_id} not found")
    return [found[claim_id] for claim_id in wanted]


def transition_claim(
    session: Session,
    *,
    actor: Actor,
    claim_id: int,
    target: ClaimStatus | str,
    source: EventSource | str,
    detail: str = "",
    correction: bool = False,
) -> Claim:
    """Move a claim to ``target``, recording why (``source``, ``detail``) and who."""
    move = ClaimMove(claim_id, target, source, detail, correction)
    return transition_claims(session, actor=actor, moves=[move])[0]


@dataclass(frozen=True)
class _Checked:
    """A move checked against the table: the claim, from where, to where."""

    claim: Claim
    current: ClaimStatus
    target: ClaimStatus
    source: EventSource
    move: ClaimMove


def transition_claims(
    session: Session, *, actor: Actor, moves: Sequence[ClaimMove], loaded: Mapping[int, Claim] | None = None
) -> list[Claim]:
    """Make ``moves`` in order (a claim may move more than once, each move from where the
    previous left it); all or nothing. Returns each move's claim.

    ``loaded``: claims the caller read in this same transaction (an 835's posting, thousands
    at a time), taken as they are instead of read again; the compare-and-set still refuses a
    claim someone else moved meanwhile."""
    if not moves:
        return []
    held = loaded or {}
    claims = {move.claim_id: held[move.claim_id] for move in moves if move.claim_id in held}
    for claim in claims.values():
        if not (actor.is_system or claim.practice_id in actor.practice_ids):
            raise NotFound(f"claim {claim.id} not found")
    missing = [move.claim_id for move in moves if move.claim_id not in claims]
    claims.update((claim.id, claim) for claim in load_claims(session, actor=actor, claim_ids=missing))
    checked = _check(actor, claims, moves)
    now = utcnow()
    _compare_and_set(session, checked, now)
    _insert_events(session, actor, checked, now)
    for practice_id, entries in _audit_entries(checked).items():
        audit.record_many(session, actor=actor, practice_id=practice_id, entries=entries)
    return [claims[move.claim_id] for move in moves]


def _check(actor: Actor, claims: dict[int, Claim], moves: Sequence[ClaimMove]) -> list[_Checked]:
    status = {claim_id: ClaimStatus(claim.status) for claim_id, claim in claims.items()}
    checked = []
    for move in moves:
        claim = claims[move.claim_id]
        actor.require(claim.practice_id, Permission.SUBMIT_CLAIMS)
        target, source = _parse(move.target, move.source)
        current = status[claim.id]
        try:
            check_transition(current, target, correction=move.correction)
        except InvalidTransition as refused:
            raise InvalidInput(f"claim {claim.number}: {refused}") from None
        checked.append(_Checked(claim, current, target, source, move))
        status[claim.id] = target
    return checked


def _parse(target: ClaimStatus | str, source: EventSource | str) -> tuple[ClaimStatus, EventSource]:
    try:
        status = ClaimStatus(target)
    except ValueError:
        raise InvalidInput(f"status: {target!r} is not a claim status") from None
    try:
        return status, EventSource(source)
    except ValueError:
        raise InvalidInput(f"source: {source!r} is not a claim event source") from None


def _compare_and_set(session: Session, checked: Sequence[_Checked], now: datetime) -> None:
    """One ``UPDATE ... WHERE id IN (...) AND status = :expected`` per (from, to) and chunk;
    a claim that moved more than once goes from its first status to its last."""
    first: dict[int, _Checked] = {}
    last: dict[int, ClaimStatus] = {}
    for item in checked:
        first.setdefault(item.claim.id, item)
        last[item.claim.id] = item.target
    by_pair: dict[tuple[ClaimStatus, ClaimStatus], list[int]] = defaultdict(list)
    for claim_id, item in first.items():
        by_pair[(item.current, last[claim_id])].append(claim_id)
    for (expected, target), claim_ids in by_pair.items():
        for chunk in chunks(claim_ids):
            result = session.execute(
                update(Claim)
                .where(Claim.id.in_(chunk), Claim.status == str(expected))
                .values(status=str(target), status_changed_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != len(chunk):  # type: ignore[attr-defined]
                _refuse_changed(session, [first[claim_id].claim for claim_id in chunk], expected, target)
    for claim_id, item in first.items():  # what the UPDATE wrote, without reading it back
        set_committed_value(item.claim, "status", str(last[claim_id]))
        set_committed_value(item.claim, "status_changed_at", now)


def _refuse_changed(
    session: Session, claims: Sequence[Claim], expected: ClaimStatus, target: ClaimStatus
) -> None:
    """Name the first claim someone else moved between our read and our write."""
    moved = set(
        session.scalars(
            select(Claim.id).where(Claim.id.in_([c.id for c in claims]), Claim.status != str(target))
        )
    )
    claim = next((c for c in claims if c.id in moved), claims[0])
    raise Conflict(
        f"claim {claim.number} changed meanwhile (it is no longer {expected}); reload it and try again"
    )


def _insert_events(session: Session, actor: Actor, checked: Sequence[_Checked], now: datetime) -> None:
    rows: list[dict[str, Any]] = [
        {
            "practice_id": item.claim.practice_id,
            "claim_id": item.claim.id,
            "from_status": str(item.current),
            "to_status": str(item.target),
            "source": str(item.source),
            "actor_user_id": actor.user_id,
            "detail": item.move.detail,
            "created_at": now,
        }
        for item in checked
    ]
    insert_many(session, table_of(ClaimEvent), rows)


def _audit_entries(checked: Sequence[_Checked]) -> dict[int, list[audit.Entry]]:
    entries: dict[int, list[audit.Entry]] = defaultdict(list)
    for item in checked:
        entries[item.claim.practice_id].append(
            audit.Entry(
                action="update",
                entity="claim",
                entity_id=item.claim.id,
                client_ids=[item.claim.client_id],
                before={"status": str(item.current)},
                after={
                    "status": str(item.target),
                    "source": str(item.source),
                    "correction": item.move.correction,
                },
                reason=item.move.detail,
            )
        )
    return entries
