"""Claim status changes: checked against the one transition table, saved by compare-and-set.

A claim's status moves only along :data:`~revcycle.domain.claim_status.TRANSITIONS`; a move
the table refuses is bad input and writes nothing. Two people (or a person and an incoming
835) may act on the same claim at once, so the change is saved with
``UPDATE claims SET status = :target WHERE id = :id AND status = :expected``: if the row
count is zero, someone else moved the claim between our read and our write, and we refuse
with a conflict instead of overwriting their decision.

Every change appends a :class:`ClaimEvent` (from, to, source, who, when, detail) and an
audit row, in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from revcycle.db.models import Claim, ClaimEvent
from revcycle.db.types import utcnow
from revcycle.domain.claim_status import ClaimStatus, EventSource, InvalidTransition, check_transition
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor

__all__ = ["load_claim", "transition_claim"]


def load_claim(session: Session, *, actor: Actor, claim_id: int) -> Claim:
    """The claim as stored now, if the actor may see its practice; NotFound otherwise."""
    claim = session.scalars(
        select(Claim).where(Claim.id == claim_id).execution_options(populate_existing=True)
    ).one_or_none()
    if claim is None or not (actor.is_system or claim.practice_id in actor.practice_ids):
        raise NotFound(f"claim {claim_id} not found")
    return claim


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
    claim = load_claim(session, actor=actor, claim_id=claim_id)
    actor.require(claim.practice_id, Permission.SUBMIT_CLAIMS)
    target, source = _parse(target, source)
    current = ClaimStatus(claim.status)
    try:
        check_transition(current, target, correction=correction)
    except InvalidTransition as refused:
        raise InvalidInput(f"claim {claim.number}: {refused}") from None
    now = utcnow()
    _compare_and_set(session, claim, current, target, now)
    session.add(
        ClaimEvent(
            practice_id=claim.practice_id,
            claim_id=claim.id,
            from_status=str(current),
            to_status=str(target),
            source=str(source),
            actor_user_id=actor.user_id,
            detail=detail,
            created_at=now,
        )
    )
    audit.record(
        session,
        actor=actor,
        practice_id=claim.practice_id,
        action="update",
        entity="claim",
        entity_id=claim.id,
        client_ids=[claim.client_id],
        before={"status": str(current)},
        after={"status": str(target), "source": str(source), "correction": correction},
        reason=detail,
    )
    return claim


def _parse(target: ClaimStatus | str, source: EventSource | str) -> tuple[ClaimStatus, EventSource]:
    try:
        status = ClaimStatus(target)
    except ValueError:
        raise InvalidInput(f"status: {target!r} is not a claim status") from None
    try:
        return status, EventSource(source)
    except ValueError:
        raise InvalidInput(f"source: {source!r} is not a claim event source") from None


def _compare_and_set(
    session: Session, claim: Claim, expected: ClaimStatus, target: ClaimStatus, now: datetime
) -> None:
    result = session.execute(
        update(Claim)
        .where(Claim.id == claim.id, Claim.status == str(expected))
        .values(status=str(target), status_changed_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict(
            f"claim {claim.number} changed meanwhile (it is no longer {expected}); "
            "reload it and try again"
        )
    session.expire(claim, ["status", "status_changed_at"])
