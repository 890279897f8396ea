"""The underpayment API: service lines a payer allowed below its contract, and what the
practice decided about each.

* ``GET /api/underpayments``: open by default (``status`` open | resolved | all), ``payer_id``
  filter, ``limit``/``offset``; each with the allowed, expected and difference amounts read
  back from the remittance, and ``totals`` over everything the filters match;
* ``POST /api/underpayments/{id}/resolve``: ``{"action": "appealed" | "accepted", "note"?}``
  (409 once resolved; 422 naming the field for an unknown action).

Everything needs ``post_payments`` (billing and administrators); a list that shows clients is
audited, one row per request.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from revcycle.domain.permissions import Permission
from revcycle.services import queries
from revcycle.services import underpayments as up
from revcycle.web.api.resources import Limit, Offset, PracticeId, needs
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["underpayments"])

POST = Permission.POST_PAYMENTS


class UnderpaymentOut(BaseModel):
    id: int
    practice_id: int
    status: str = Field(description="open | acknowledged | resolved")
    title: str
    detail: str
    resolution: str
    created_at: datetime
    resolved_at: datetime | None
    dated_on: date = Field(description="the payment's date (the alert's own when the payment is unknown)")
    paid_on: date | None
    payer_id: int | None
    payer_name: str
    remittance_id: int | None
    trace_number: str
    claim_id: int | None
    claim_number: str
    client_id: int | None
    patient: str
    line_number: int | None = Field(description="the claim line the payer allowed too little for")
    procedure_code: str
    modifiers: str
    service_on: date | None
    allowed_cents: int | None = Field(description="paid + patient share (PR) on the 835's line")
    expected_cents: int | None = Field(description="what the contract or fee schedule says")
    difference_cents: int | None = Field(description="expected - allowed; none when the line is not found")
    expected_source: str
    actions: list[str]


class TotalsOut(BaseModel):
    count: int
    allowed_cents: int
    expected_cents: int
    difference_cents: int
    unpriced: int = Field(description="items whose amounts could not be read back (left out of the sums)")


class UnderpaymentListOut(BaseModel):
    items: list[UnderpaymentOut]
    total: int
    totals: TotalsOut


class ResolveIn(BaseModel):
    action: str = Field(
        max_length=30, description="appealed (an appeal was sent) | accepted (the lower amount)"
    )
    note: str = Field("", max_length=up.NOTE_MAX)


def _out(view: up.UnderpaymentView) -> dict[str, Any]:
    fields = {key: getattr(view, key) for key in UnderpaymentOut.model_fields}
    return {**fields, "actions": list(view.actions)}


@router.get("/api/underpayments", response_model=UnderpaymentListOut, **needs(POST))
def api_underpayments(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    status: str = "open",
    payer_id: int | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    page = up.list_underpayments(
        db,
        actor=actor,
        practice_id=practice_id,
        status=status,
        payer_id=payer_id,
        limit=limit,
        offset=offset,
    )
    queries.record_client_reads(
        db,
        actor=actor,
        entity="underpayment",
        clients=[(item.practice_id, item.client_id) for item in page.items if item.client_id],
    )
    totals = page.totals
    return {
        "items": [_out(item) for item in page.items],
        "total": page.total,
        "totals": {
            "count": totals.count,
            "allowed_cents": totals.allowed_cents,
            "expected_cents": totals.expected_cents,
            "difference_cents": totals.difference_cents,
            "unpriced": totals.unpriced,
        },
    }


@router.post("/api/underpayments/{work_item_id}/resolve", response_model=UnderpaymentOut, **needs(POST))
def api_resolve(db: DB, actor: CurrentActor, work_item_id: int, body: ResolveIn) -> dict[str, Any]:
    with db.begin_nested():  # a refusal leaves nothing half-written
        up.resolve_underpayment(
            db, actor=actor, work_item_id=work_item_id, action=body.action, note=body.note
        )
    return _out(up.get_underpayment(db, actor=actor, work_item_id=work_item_id))
