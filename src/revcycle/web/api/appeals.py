"""The appeals API (issue 7, point 2; see :mod:`revcycle.services.appeals`).

* ``GET /api/appeals``: the practice's appeals (``status`` filter), nearest deadline first;
* ``GET /api/appeals/{id}``: one appeal;
* ``POST /api/claims/{claim_id}/appeals``: start a draft (``denial_id``, ``previous_appeal_id``
  for the next level, ``template_id``, ``argument``); its letter is printed;
* ``POST /api/appeals/{id}/submit``: ``{"submitted_on"?, "payer_reference"?}``; the claim
  moves to appealed;
* ``POST /api/appeals/{id}/outcome``: ``{"outcome": "won" | "partially_won" | "lost",
  "decided_on", "recovered_cents"?, "note"?}``.

Everything needs ``appeal_denial`` (billing and administrators); reads naming clients are
audited, one row per request. A refusal answers 409 (the state does not allow it) or 422
(naming the field), never a 500.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import NotFound
from revcycle.services import appeals, queries
from revcycle.services.actor import Actor
from revcycle.web.api.resources import PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["appeals"])

APPEAL = Permission.APPEAL_DENIAL


class AppealOut(BaseModel):
    id: int
    claim_id: int
    claim_number: str
    client_id: int
    payer_name: str
    denial_id: int | None
    denial_code: str
    level: int = Field(description="1 first-level, 2 second-level, 3 external review")
    status: str = Field(description="draft | submitted | won | partially_won | lost | withdrawn")
    appealed_cents: int
    recovered_cents: int
    deadline_on: date | None
    urgency: str | None = Field(description="overdue | within_7 | within_30 | later (open appeals)")
    submitted_on: date | None
    decided_on: date | None
    argument: str
    enclosures: list[str]
    template_id: int | None
    letter_file_id: int | None
    payer_reference: str
    outcome_note: str
    previous_appeal_id: int | None
    next_appeal_id: int | None


class AppealListOut(BaseModel):
    items: list[AppealOut]


class StartIn(BaseModel):
    denial_id: int | None = None
    previous_appeal_id: int | None = Field(None, description="the lost or partially won appeal this follows")
    template_id: int | None = None
    argument: str = Field("", max_length=appeals.ARGUMENT_MAX)


class SubmitIn(BaseModel):
    submitted_on: date | None = Field(None, description="the practice's today by default")
    payer_reference: str = Field("", max_length=60)


class OutcomeIn(BaseModel):
    outcome: str = Field(max_length=20, description="won | partially_won | lost")
    decided_on: date
    recovered_cents: int | None = Field(None, description="won: the amount appealed by default")
    note: str = Field("", max_length=appeals.NOTE_MAX)


def _out(view: appeals.AppealView) -> dict[str, Any]:
    fields = {key: getattr(view, key) for key in AppealOut.model_fields if hasattr(view, key)}
    return {
        **fields,
        "urgency": str(view.urgency) if view.urgency else None,
        "enclosures": list(view.enclosures),
    }


def _today(db: Session, practice_id: int) -> date:
    practice = db.get_one(m.Practice, practice_id)
    return datetime.now(ZoneInfo(practice.timezone)).date()


def _one(db: Session, actor: Actor, appeal_id: int) -> dict[str, Any]:
    row = db.get(m.Appeal, appeal_id)
    if row is None:
        raise NotFound(f"appeal {appeal_id} not found")
    view = appeals.appeal_view(db, actor=actor, appeal_id=appeal_id, today=_today(db, row.practice_id))
    queries.record_client_reads(db, actor=actor, entity="appeal", clients=[(row.practice_id, view.client_id)])
    return _out(view)


@router.get("/api/appeals", response_model=AppealListOut, **needs(APPEAL))
def api_appeals(
    *, db: DB, actor: CurrentActor, practice_id: PracticeId = None, status: str = ""
) -> dict[str, Any]:
    pid = one_practice(actor, practice_id, APPEAL)
    views = appeals.list_appeals(db, actor=actor, practice_id=pid, today=_today(db, pid), status=status)
    queries.record_client_reads(db, actor=actor, entity="appeal", clients=[(pid, v.client_id) for v in views])
    return {"items": [_out(v) for v in views]}


@router.get("/api/appeals/{appeal_id}", response_model=AppealOut, **needs(APPEAL))
def api_appeal(db: DB, actor: CurrentActor, appeal_id: int) -> dict[str, Any]:
    return _one(db, actor, appeal_id)


@router.post("/api/claims/{claim_id}/appeals", response_model=AppealOut, **needs(APPEAL))
def api_start(db: DB, actor: CurrentActor, claim_id: int, body: StartIn) -> dict[str, Any]:
    claim = db.get(m.Claim, claim_id)
    today = _today(db, claim.practice_id) if claim is not None else date.min
    with db.begin_nested():  # a refusal leaves nothing half-written
        appeal = appeals.start_appeal(
            db,
            actor=actor,
            claim_id=claim_id,
            today=today,
            denial_id=body.denial_id,
            previous_appeal_id=body.previous_appeal_id,
            template_id=body.template_id,
            argument=body.argument,
        )
    return _one(db, actor, appeal.id)


@router.post("/api/appeals/{appeal_id}/submit", response_model=AppealOut, **needs(APPEAL))
def api_submit(db: DB, actor: CurrentActor, appeal_id: int, body: SubmitIn) -> dict[str, Any]:
    row = db.get(m.Appeal, appeal_id)
    today = _today(db, row.practice_id) if row is not None else date.min
    with db.begin_nested():
        appeals.submit_appeal(
            db,
            actor=actor,
            appeal_id=appeal_id,
            submitted_on=body.submitted_on or today,
            payer_reference=body.payer_reference,
        )
    return _one(db, actor, appeal_id)


@router.post("/api/appeals/{appeal_id}/outcome", response_model=AppealOut, **needs(APPEAL))
def api_outcome(db: DB, actor: CurrentActor, appeal_id: int, body: OutcomeIn) -> dict[str, Any]:
    with db.begin_nested():
        appeals.record_outcome(
            db,
            actor=actor,
            appeal_id=appeal_id,
            outcome=body.outcome,
            decided_on=body.decided_on,
            recovered_cents=body.recovered_cents,
            note=body.note,
        )
    return _one(db, actor, appeal_id)
