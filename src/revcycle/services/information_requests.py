"""Requests for information to the practice: what billing needs before a claim can go on.

A denial for missing information, an appeal that needs the clinical notes, a payer asking for
the referral: billing asks the practice (a clinician, the director) a question about one claim,
with a due date. The request is a work item (kind ``rfi``) in the queue until it is answered;
its answer is kept as the item's resolution, with who answered and when.

An open request **blocks the claim's next step**: the claim cannot be sent (submitted,
resubmitted, queued in a batch) until every request on it is answered — the submission names
the request and its due date. Payer events (999, 277CA, 835) still apply: they are the payer's,
not a step of ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import chunks
from revcycle.services.work_items import mark_resolved

__all__ = ["RFI", "answer", "ask", "blocking", "requests_for"]

RFI = "rfi"  # the work items' kind
QUESTION_MAX = 200


def ask(
    db: Session,
    *,
    actor: Actor,
    claim_id: int,
    question: str,
    due_on: date | None,
    today: date,
    detail: str = "",
    owner_user_id: int | None = None,
) -> m.WorkItem:
    """Ask the practice ``question`` about a claim, due ``due_on`` (after today)."""
    claim = db.get(m.Claim, claim_id)
    if claim is None or not (actor.is_system or claim.practice_id in actor.practice_ids):
        raise NotFound(f"claim {claim_id} not found")
    actor.require(claim.practice_id, Permission.ADD_CLAIM_NOTES)
    text = question.strip()
    if not text:
        raise InvalidInput("question: say what the practice must provide")
    if len(text) > QUESTION_MAX:
        raise InvalidInput(f"question: at most {QUESTION_MAX} characters (put the rest in the detail)")
    if due_on is None:
        raise InvalidInput("due_on: give the date the answer is needed by")
    if due_on <= today:
        raise InvalidInput(f"due_on: the answer must be due after today ({today})")
    if (
        owner_user_id is not None
        and db.scalar(
            select(m.Membership.id).where(
                m.Membership.user_id == owner_user_id, m.Membership.practice_id == claim.practice_id
            )
        )
        is None
    ):
        raise InvalidInput(f"owner_user_id: user {owner_user_id} does not work for this practice")
    asked = db.scalar(
        select(func.count()).where(m.WorkItem.practice_id == claim.practice_id, m.WorkItem.kind == RFI)
    )
    item = m.WorkItem(
        practice_id=claim.practice_id,
        kind=RFI,
        severity="warning",
        status="open",
        title=f"Claim {claim.number}: {text}",
        detail=detail.strip(),
        rule="request_for_information",
        dedupe_key=f"{RFI}:{claim.id}:{(asked or 0) + 1}",
        holds_billing=True,
        owner_user_id=owner_user_id,
        due_on=due_on,
        claim_id=claim.id,
        client_id=claim.client_id,
    )
    db.add(item)
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=claim.practice_id,
        action="create",
        entity="work_item",
        entity_id=item.id,
        client_ids=[claim.client_id],
        after={"kind": RFI, "claim_id": claim.id, "question": text, "due_on": due_on.isoformat()},
        reason="request for information",
    )
    return item


def answer(db: Session, *, actor: Actor, work_item_id: int, text: str) -> m.WorkItem:
    """Record the practice's answer: the request is resolved and no longer blocks its claim."""
    item = db.get(m.WorkItem, work_item_id)
    if item is None or item.kind != RFI or not (actor.is_system or item.practice_id in actor.practice_ids):
        raise NotFound(f"request for information {work_item_id} not found")
    actor.require(item.practice_id, Permission.ADD_CLAIM_NOTES)
    if item.status == "resolved":
        raise InvalidInput(f"request {work_item_id} was already answered")
    reply = text.strip()
    if not reply:
        raise InvalidInput("answer: say what was provided (or why it cannot be)")
    return mark_resolved(db, actor=actor, item=item, resolution=reply, action="answered")


def requests_for(db: Session, claim_id: int) -> list[m.WorkItem]:
    """A claim's requests, open first, newest first."""
    query = (
        select(m.WorkItem)
        .where(m.WorkItem.claim_id == claim_id, m.WorkItem.kind == RFI)
        .order_by((m.WorkItem.status == "resolved"), m.WorkItem.id.desc())
    )
    return list(db.scalars(query))


def blocking(db: Session, claim_ids: Sequence[int]) -> dict[int, m.WorkItem]:
    """Claim id -> its earliest-due open request, for the claims that have one."""
    found: dict[int, m.WorkItem] = {}
    for chunk in chunks(sorted(set(claim_ids))):
        query = (
            select(m.WorkItem)
            .where(m.WorkItem.claim_id.in_(chunk), m.WorkItem.kind == RFI, m.WorkItem.status != "resolved")
            .order_by(m.WorkItem.due_on, m.WorkItem.id)
        )
        for item in db.scalars(query):
            found.setdefault(item.claim_id or 0, item)
    return found
