"""The remittance API: 835 payments, their posting reports and the exception queue.

* ``GET /api/remittances``: payments newest first (``status``, ``payer``, ``inbound_file_id``
  filters, ``limit``/``offset``), with ``totals`` over everything the filters match;
* ``GET /api/remittances/{id}``: the posting report: each claim payment with what posted
  (paid, contractual, the patient's share by reason) and what was denied (CARC and RARC
  explained), the exceptions, the PLB amounts and what is still unapplied;
* ``POST /api/remittances/{id}/approve``: post a payment held for review, as a whole (409
  when it is not waiting for review);
* ``GET /api/posting-exceptions``: the open exceptions (``type`` filter), with the count per
  type and each one's suggestions and allowed actions;
* ``POST /api/posting-exceptions/{id}/resolve``: ``{"action": "post_to_claim" |
  "apply_recoupment" | "acknowledge", "claim_id"?, "claim_number"?, "note"?}`` (409 once
  resolved; 422 naming the field for a claim that cannot take it).

Everything needs ``post_payments`` (billing and administrators); reads that show clients are
audited, one row per request.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from revcycle.domain.permissions import Permission
from revcycle.services import queries
from revcycle.services import remittance_posting as rp
from revcycle.services import remittance_queries as rq
from revcycle.services.actor import Actor
from revcycle.web.api.resources import Limit, Offset, PracticeId, needs
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["remittances"])

POST = Permission.POST_PAYMENTS
Action = Literal["post_to_claim", "apply_recoupment", "acknowledge"]


class RemittanceOut(BaseModel):
    id: int
    practice_id: int
    paid_on: date | None
    payer_id: int | None
    payer_name: str
    trace_number: str
    method: str = Field(description="BPR04: ACH, CHK, NON, FWT, BOP")
    amount_cents: int
    status: str = Field(description="posted | exceptions | review | received")
    posting_mode: str = Field(description="auto | review")
    inbound_file_id: int
    claim_count: int
    posted_count: int
    waiting_count: int = Field(description="claims held for review or in the exception queue")
    open_exceptions: int


class TotalsOut(BaseModel):
    count: int
    amount_cents: int
    claim_count: int
    posted_count: int
    waiting_count: int


class RemittanceListOut(BaseModel):
    items: list[RemittanceOut]
    total: int
    totals: TotalsOut


class AdjustmentOut(BaseModel):
    line_number: int | None = Field(description="the service line's place in the claim; none: claim level")
    group: str
    reason: str = Field(description="CARC")
    amount_cents: int
    disposition: str = Field(description="contractual | patient | denial | other")
    patient_reason: str
    explanation: str
    remarks: list[tuple[str, str]] = Field(description="(RARC, explanation)")


class ClaimPaymentOut(BaseModel):
    id: int
    position: int
    patient_control_number: str
    status_code: str
    status_meaning: str
    state: str = Field(description="posted | exception | review | skipped | received")
    match_method: str
    claim_id: int | None
    claim_number: str
    claim_status: str
    client_id: int | None
    patient: str
    service_on: date | None
    billed_cents: int
    paid_cents: int
    contractual_cents: int
    other_cents: int
    patient_cents: int
    patient_by_reason: dict[str, int]
    denied_cents: int
    denials: list[AdjustmentOut]
    adjustments: list[AdjustmentOut]


class SuggestionOut(BaseModel):
    claim_id: int
    number: str
    score: int
    client_id: int | None
    client_name: str
    service_on: date | None
    billed_cents: int
    status: str


class ExceptionOut(BaseModel):
    id: int
    practice_id: int
    type: str
    type_label: str
    severity: str
    status: str
    title: str
    detail: str
    resolution: str
    created_at: datetime
    remittance_id: int | None
    trace_number: str
    payer_name: str
    paid_on: date | None
    remittance_claim_id: int | None
    patient_control_number: str
    patient: str
    service_on: date | None
    charge_cents: int
    paid_cents: int
    claim_id: int | None
    claim_number: str
    suggestions: list[SuggestionOut]
    actions: list[str]
    recoupment_reference: str
    recoupment_cents: int


class ProviderAdjustmentOut(BaseModel):
    reason_code: str
    meaning: str
    reference: str
    amount_cents: int = Field(description="positive: withheld from the payment; negative: added")


class RemittanceDetailOut(RemittanceOut):
    payee_npi: str
    payee_tax_id: str
    posted_at: datetime | None
    filename: str
    unapplied_cents: int
    claims: list[ClaimPaymentOut]
    exceptions: list[ExceptionOut]
    provider_adjustments: list[ProviderAdjustmentOut]


class ReportOut(BaseModel):
    trace_number: str
    amount_cents: int
    payer: str
    outcome: str
    remittance_id: int | None
    posted_claims: int
    posted_paid_cents: int
    denied_claims: int
    reversed_claims: int
    exceptions: dict[str, int]
    unapplied_cents: int
    provider_adjustments_cents: int


class ExceptionListOut(BaseModel):
    items: list[ExceptionOut]
    total: int
    counts: dict[str, int] = Field(description="open exceptions per type (before the type filter)")


class ResolveIn(BaseModel):
    action: Action
    claim_id: int | None = Field(None, description="the claim to post to or apply a recoupment to")
    claim_number: str = Field("", max_length=50, description="or the claim by its number")
    note: str = Field("", max_length=500)


def _remittance_out(row: rq.RemittanceRow) -> dict[str, Any]:
    return {
        key: getattr(row, key)
        for key in RemittanceOut.model_fields  # the list row and the detail share these
    }


def _exception_out(view: rq.ExceptionView) -> dict[str, Any]:
    return {**asdict(view), "type": view.rule, "actions": list(view.actions)}


def _audit(db: DB, actor: Actor, entity: str, practice_id: int, client_ids: set[int]) -> None:
    queries.record_client_reads(
        db, actor=actor, entity=entity, clients=[(practice_id, c) for c in client_ids]
    )


@router.get("/api/remittances", response_model=RemittanceListOut, **needs(POST))
def api_remittances(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    status: str = "",
    payer: str = "",
    inbound_file_id: int | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    page = rq.list_remittances(
        db,
        actor=actor,
        practice_id=practice_id,
        status=status,
        payer=payer,
        inbound_file_id=inbound_file_id,
        limit=limit,
        offset=offset,
    )
    return {
        "items": [_remittance_out(row) for row in page.items],
        "total": page.total,
        "totals": asdict(page.totals),
    }


def _detail_out(db: DB, actor: Actor, remittance_id: int) -> dict[str, Any]:
    detail = rq.remittance_detail(db, actor=actor, remittance_id=remittance_id)
    _audit(db, actor, "remittance", detail.row.practice_id, detail.client_ids)
    return {
        **_remittance_out(detail.row),
        "payee_npi": detail.payee_npi,
        "payee_tax_id": detail.payee_tax_id,
        "posted_at": detail.posted_at,
        "filename": detail.filename,
        "unapplied_cents": detail.unapplied_cents,
        "claims": [asdict(claim) for claim in detail.claims],
        "exceptions": [_exception_out(item) for item in detail.exceptions],
        "provider_adjustments": [asdict(p) for p in detail.provider_adjustments],
    }


@router.get("/api/remittances/{remittance_id}", response_model=RemittanceDetailOut, **needs(POST))
def api_remittance(db: DB, actor: CurrentActor, remittance_id: int) -> dict[str, Any]:
    return _detail_out(db, actor, remittance_id)


@router.post("/api/remittances/{remittance_id}/approve", response_model=ReportOut, **needs(POST))
def api_approve(db: DB, actor: CurrentActor, remittance_id: int) -> dict[str, Any]:
    report = rp.approve_remittance(db, actor=actor, remittance_id=remittance_id)
    return report.as_dict()


@router.get("/api/posting-exceptions", response_model=ExceptionListOut, **needs(POST))
def api_exceptions(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    type: str = "",
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    queue = rq.exception_queue(
        db, actor=actor, practice_id=practice_id, rule=type, limit=limit, offset=offset
    )
    by_practice: dict[int, set[int]] = {}
    for item in queue.items:
        shown = {item.client_id} | {s.client_id for s in item.suggestions}
        by_practice.setdefault(item.practice_id, set()).update(c for c in shown if c)
    for pid, clients in by_practice.items():
        _audit(db, actor, "posting_exception", pid, clients)
    return {
        "items": [_exception_out(item) for item in queue.items],
        "total": queue.total,
        "counts": queue.counts,
    }


@router.post("/api/posting-exceptions/{work_item_id}/resolve", response_model=ExceptionOut, **needs(POST))
def api_resolve(db: DB, actor: CurrentActor, work_item_id: int, body: ResolveIn) -> dict[str, Any]:
    claim_id = body.claim_id
    if body.claim_number.strip():
        current = rq.get_exception(db, actor=actor, work_item_id=work_item_id)
        claim_id = rq.claim_id_by_number(db, practice_id=current.practice_id, number=body.claim_number)
    with db.begin_nested():  # a refusal leaves nothing half-written
        rp.resolve_exception(
            db, actor=actor, work_item_id=work_item_id, action=body.action, claim_id=claim_id, note=body.note
        )
    return _exception_out(rq.get_exception(db, actor=actor, work_item_id=work_item_id))
