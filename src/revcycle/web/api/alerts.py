"""The alerts API: the practice's alert rules, timely-filing deadlines and the missing-claims check.

* ``GET /api/alerts``: alerts (open and acknowledged by default), most severe first, filtered
  by status, severity, rule, owner role or assignee;
* ``POST /api/alerts/{work_item_id}/acknowledge`` and ``.../resolve`` (with a reason): by hand,
  audited; a second time answers 409;
* ``POST /api/alerts/run``: run the rules now (or ``at`` a given time) for one practice;
* ``GET /api/missing-claims``: billable sessions 7 or more days old never submitted;
* ``GET /api/timely-filing``: unbilled sessions and unsent claims whose filing deadline is
  within ``within_days`` (default 30) or passed.

Reading alerts needs ``view_work_queue`` (a therapist sees those about their own sessions and
claims); acting on them, running the rules and the two billing lists need billing or admin.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.permissions import Permission
from revcycle.errors import NotFound
from revcycle.services import alerts, queries, timely_filing
from revcycle.services.actor import Actor
from revcycle.services.scoping import DEFAULT_LIMIT, practice_scopes
from revcycle.web.api.resources import Limit, ListOut, Offset, PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["alerts"])

BILLING_LISTS = Permission.SUBMIT_CLAIMS


class AlertOut(BaseModel):
    id: int
    practice_id: int
    rule: str
    title: str
    detail: str
    severity: str = Field(description="critical, warning or info")
    status: str = Field(description="open, acknowledged or resolved")
    owner_role: str = Field(description="director, billing or admin: who the rule names")
    owner_user_id: int | None = Field(description="the person it is assigned to")
    assignee_name: str | None
    session_id: int | None
    claim_id: int | None
    client_id: int | None
    client_name: str | None
    subject_url: str | None = Field(description="the page of the session or claim it is about")
    due_on: date | None
    created_at: datetime
    resolution: str
    resolved_at: datetime | None


class AcknowledgeIn(BaseModel):
    note: str = Field(default="", max_length=2000)


class ResolveIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="why the alert is settled")


class AlertRunOut(BaseModel):
    practice_id: int
    ran_at: datetime
    today: date
    matched: int = Field(description="alerts the rules want open")
    raised: int
    reopened: int
    escalated: int = Field(description="acknowledged alerts back to open on a rise in severity")
    resolved: int
    open_by_severity: dict[str, int]


class MissingClaimOut(BaseModel):
    practice_id: int
    session_id: int
    client_id: int
    provider_id: int
    payer_id: int
    service_on: date
    days_waiting: int
    reason: str
    claim_id: int | None


class DeadlineOut(BaseModel):
    practice_id: int
    subject: str = Field(description="session or claim")
    id: int
    client_id: int
    payer_id: int | None
    service_on: date
    deadline_on: date
    days_left: int = Field(description="negative once passed")
    stage: str


def alert_out(view: alerts.AlertView) -> AlertOut:
    item = view.item
    return AlertOut(
        id=item.id,
        practice_id=item.practice_id,
        rule=item.rule,
        title=item.title,
        detail=item.detail,
        severity=item.severity,
        status=item.status,
        owner_role=item.owner_role,
        owner_user_id=item.owner_user_id,
        assignee_name=view.assignee_name,
        session_id=item.session_id,
        claim_id=item.claim_id,
        client_id=item.client_id,
        client_name=view.client_name,
        subject_url=view.subject_url,
        due_on=item.due_on,
        created_at=item.created_at,
        resolution=item.resolution,
        resolved_at=item.resolved_at,
    )


def _practice(db: DB, practice_id: int) -> m.Practice:
    practice = db.get(m.Practice, practice_id)
    if practice is None:
        raise NotFound("not found")
    return practice


@router.get("/api/alerts", response_model=ListOut[AlertOut], **needs(Permission.VIEW_WORK_QUEUE))
def api_alerts(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    status: Annotated[
        str, Query(description="open (with acknowledged), acknowledged, resolved or all")
    ] = "open",
    severity: Annotated[str | None, Query(description="critical, warning or info")] = None,
    rule: Annotated[str | None, Query(description="a rule id, e.g. claim_denied")] = None,
    owner_role: Annotated[str | None, Query(description="director, billing or admin")] = None,
    assignee: Annotated[int | None, Query(description="the assigned user's id")] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Alerts, most severe first, then oldest."""
    filters = alerts.AlertFilters(
        status=status, severity=severity, rule=rule, owner_role=owner_role, assignee_user_id=assignee
    )
    page = alerts.list_alerts(
        db, actor=actor, practice_id=practice_id, filters=filters, limit=limit, offset=offset
    )
    queries.record_client_reads(
        db,
        actor=actor,
        entity="work_item",
        clients=[(v.item.practice_id, v.item.client_id) for v in page.items if v.item.client_id],
    )
    return {"items": [alert_out(view) for view in page.items], "total": page.total}


@router.post("/api/alerts/{work_item_id}/acknowledge", response_model=AlertOut, **needs(alerts.MANAGE_ALERTS))
def api_acknowledge_alert(
    db: DB, actor: CurrentActor, work_item_id: int, body: AcknowledgeIn | None = None
) -> AlertOut:
    """Mark an open alert seen (it stays listed until its condition clears or someone resolves it)."""
    item = alerts.acknowledge_alert(
        db, actor=actor, work_item_id=work_item_id, note=body.note if body else ""
    )
    return alert_out(alerts.AlertView(item, None, None))


@router.post("/api/alerts/{work_item_id}/resolve", response_model=AlertOut, **needs(alerts.MANAGE_ALERTS))
def api_resolve_alert(db: DB, actor: CurrentActor, work_item_id: int, body: ResolveIn) -> AlertOut:
    """Resolve an alert by hand with a reason (audited)."""
    item = alerts.resolve_alert(db, actor=actor, work_item_id=work_item_id, reason=body.reason)
    return alert_out(alerts.AlertView(item, None, None))


@router.post("/api/alerts/run", response_model=AlertRunOut, **needs(alerts.MANAGE_ALERTS))
def api_run_alerts(
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    at: Annotated[datetime | None, Query(description="evaluate as of this time (default: now)")] = None,
) -> AlertRunOut:
    """Run every alert rule for one practice now: raise, update, resolve and reopen its alerts."""
    practice = one_practice(actor, practice_id, alerts.MANAGE_ALERTS)
    run = alerts.run_alerts(db, practice_id=practice, now=at or utcnow(), actor=actor)
    return AlertRunOut.model_validate(run, from_attributes=True)


def _practices(db: DB, actor: Actor, practice_id: int | None) -> list[m.Practice]:
    return [_practice(db, pid) for pid in practice_scopes(actor, BILLING_LISTS, practice_id)]


@router.get(
    "/api/missing-claims", response_model=ListOut[MissingClaimOut], tags=["alerts"], **needs(BILLING_LISTS)
)
def api_missing_claims(
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    today: Annotated[
        date | None, Query(description="the practice's date to check on (default: today)")
    ] = None,
) -> dict[str, Any]:
    """Every billable session 7 or more days past its date of service with no submission on a
    claim that is not void, oldest first."""
    items: list[MissingClaimOut] = []
    for practice in _practices(db, actor, practice_id):
        day = today or alerts.practice_today(practice, utcnow())
        items += [
            MissingClaimOut(practice_id=practice.id, **vars(row))
            for row in alerts.missing_claims(db, practice_id=practice.id, today=day)
        ]
    queries.record_client_reads(
        db, actor=actor, entity="missing_claim", clients=[(i.practice_id, i.client_id) for i in items]
    )
    return {"items": items, "total": len(items)}


@router.get(
    "/api/timely-filing", response_model=ListOut[DeadlineOut], tags=["alerts"], **needs(BILLING_LISTS)
)
def api_timely_filing(
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    within_days: Annotated[int, Query(ge=0, le=3650, description="deadlines this many days ahead")] = 30,
    today: Annotated[date | None, Query(description="the practice's date (default: today)")] = None,
) -> dict[str, Any]:
    """Unbilled sessions and claims the payer does not have whose filing deadline is within
    ``within_days`` or passed, soonest first."""
    items: list[DeadlineOut] = []
    for practice in _practices(db, actor, practice_id):
        day = today or alerts.practice_today(practice, utcnow())
        items += [
            DeadlineOut(practice_id=practice.id, **vars(row))
            for row in timely_filing.upcoming_deadlines(
                db, practice_id=practice.id, today=day, within_days=within_days
            )
        ]
    queries.record_client_reads(
        db, actor=actor, entity="filing_deadline", clients=[(i.practice_id, i.client_id) for i in items]
    )
    return {"items": items, "total": len(items)}
