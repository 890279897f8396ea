"""The eligibility API: ask a coverage's payer (a 270 is written and returned to send), and
read the coverage's checks with what the 271 said.

``POST /api/coverages/{coverage_id}/eligibility`` writes the 270 (the caller sends it through
the clearinghouse; the 271 comes back through the X12 ingest). ``GET`` the same path lists the
coverage's checks, newest first. Another practice's coverage answers 404.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.services import eligibility as eligibility_service
from revcycle.services import queries
from revcycle.services.claims_pipeline.scrubbing import practice_today
from revcycle.web.api.resources import ListOut, needs
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["eligibility"])


class EligibilityIn(BaseModel):
    as_of: date | None = Field(default=None, description="the date asked about (default: today)")


class EligibilityRequestOut(BaseModel):
    check_id: int
    coverage_id: int
    trace_number: str
    stored_file_id: int
    filename: str
    text: str = Field(description="the 270 to send")


class EligibilityCheckOut(BaseModel):
    id: int
    coverage_id: int
    trace_number: str
    as_of_on: date
    status: str = Field(description="requested | active | inactive | error")
    plan_name: str
    copay_cents: int | None
    coinsurance_basis_points: int | None = Field(description="2000 = 20%")
    deductible_remaining_cents: int | None
    out_of_pocket_remaining_cents: int | None
    error: str
    details: dict[str, Any]
    requested_at: datetime
    answered_at: datetime | None


def _check_out(row: m.EligibilityCheck) -> EligibilityCheckOut:
    return EligibilityCheckOut(
        id=row.id,
        coverage_id=row.coverage_id,
        trace_number=row.trace_number,
        as_of_on=row.as_of_on,
        status=row.status,
        plan_name=row.plan_name,
        copay_cents=row.copay_cents,
        coinsurance_basis_points=row.coinsurance_basis_points,
        deductible_remaining_cents=row.deductible_remaining_cents,
        out_of_pocket_remaining_cents=row.out_of_pocket_remaining_cents,
        error=row.error,
        details=row.details or {},
        requested_at=row.created_at,
        answered_at=row.answered_at,
    )


@router.get(
    "/api/coverages/{coverage_id}/eligibility",
    response_model=ListOut[EligibilityCheckOut],
    **needs(Permission.VIEW_CLIENTS),
)
def api_coverage_eligibility(db: DB, actor: CurrentActor, coverage_id: int) -> dict[str, Any]:
    """The coverage's eligibility checks, newest first."""
    rows = eligibility_service.coverage_checks(db, actor=actor, coverage_id=coverage_id)
    coverage = db.get_one(m.Coverage, coverage_id)
    queries.record_client_reads(
        db, actor=actor, entity="eligibility_check", clients=[(coverage.practice_id, coverage.client_id)]
    )
    items = [_check_out(row) for row in rows]
    return {"items": items, "total": len(items)}


@router.post(
    "/api/coverages/{coverage_id}/eligibility",
    response_model=EligibilityRequestOut,
    **needs(Permission.UPDATE_INSURANCE),
)
def api_request_eligibility(
    db: DB, actor: CurrentActor, coverage_id: int, body: EligibilityIn | None = None
) -> EligibilityRequestOut:
    """Write a 270 asking whether the coverage is active on ``as_of`` (default today)."""
    as_of = body.as_of if body else None
    coverage = db.get(m.Coverage, coverage_id)
    if as_of is None and coverage is not None:
        as_of = practice_today(db, coverage.practice_id)
    written = eligibility_service.request_eligibility(
        db, actor=actor, coverage_id=coverage_id, as_of=as_of or date(1900, 1, 1)
    )
    return EligibilityRequestOut(
        check_id=written.check_id,
        coverage_id=written.coverage_id,
        trace_number=written.trace_number,
        stored_file_id=written.stored_file_id,
        filename=written.filename,
        text=written.text,
    )
