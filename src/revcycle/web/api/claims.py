"""The claims API: sessions marked ready, claims built, scrubbed, overridden, submitted, queued and
resubmitted; the portal log; practice payer billing settings and insurance portals.

Routes without a path id take ``practice_id`` (required only when the caller works for
several practices); an id of another practice answers 404. Bulk writes are all or nothing:
one claim that cannot be recorded refuses the call with 422 naming it, and nothing is
written. An empty list of ids does nothing and says so (``200`` with empty results).
Updates are ``POST`` (the API uses GET and POST only). Portals never hold a password: a
field that looks like one is refused; only a vault reference (the name of the password
manager's entry) is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.permissions import Permission
from revcycle.domain.scrubber import EDITS_BY_ID
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import payer_settings, portals, queries, submissions
from revcycle.services.actor import Actor
from revcycle.services.claims import load_claim
from revcycle.services.claims_pipeline import building, scrubbing
from revcycle.services.scoping import DEFAULT_LIMIT, get_visible
from revcycle.web.api.auth import ErrorBody
from revcycle.web.api.resources import Limit, ListOut, Offset, PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["claims"])

MAX_IDS = 500
Route = Literal["portal", "clearinghouse", "simplepractice", "paper"]
SupervisedBilling = Literal["not_allowed", "incident_to", "supervisor"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "not signed in"},
    403: {"model": ErrorBody, "description": "your role does not allow it"},
    404: {"model": ErrorBody, "description": "no such row in your practices"},
    422: {"model": ErrorBody, "description": "bad input; the detail names the field (or claim)"},
}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    409: {"model": ErrorBody, "description": "the claim's state does not allow it (already done)"},
}


# --- request and response models -----------------------------------------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionIdsIn(Strict):
    session_ids: list[int] = Field(max_length=MAX_IDS, description="sessions to mark ready")


class RefusalOut(BaseModel):
    session_id: int
    reason: str


class ReadyResultOut(BaseModel):
    marked: list[int]
    already_ready: list[int]
    refused: list[RefusalOut] = Field(description="sessions not marked, each with its reason")


class BuildIn(Strict):
    session_ids: list[int] | None = Field(
        default=None, max_length=MAX_IDS, description="only these ready sessions (default: every one)"
    )


class ProblemOut(BaseModel):
    code: str
    where: str
    message: str
    severity: str
    overridden: bool


class EditOut(BaseModel):
    id: str
    title: str


class OverrideOut(BaseModel):
    problem_code: str
    where: str
    reason: str
    user_id: int | None
    created_at: datetime


class ScrubOut(BaseModel):
    claim_id: int
    claim_number: str
    status: str
    scrubbed_at: datetime | None = Field(description="the latest scrub; null before the first")
    edits: list[EditOut] = Field(description="the edits that ran, in order")
    problems: list[ProblemOut]
    overrides: list[OverrideOut]
    clean: bool = Field(description="scrubbed, no error, every warning overridden")


class BuiltClaimOut(BaseModel):
    claim_id: int
    number: str
    status: str
    session_ids: list[int]
    errors: int
    open_warnings: int


class BuildOut(BaseModel):
    claims: list[BuiltClaimOut]
    skipped: list[RefusalOut]


class ReadyClaimOut(BaseModel):
    id: int
    practice_id: int
    number: str
    client_id: int
    client_name: str
    payer_id: int
    payer_name: str
    service_from_on: date
    billed_cents: int
    billing_route: str
    portal_id: int | None
    portal_name: str
    timely_filing_on: date | None = Field(description="the payer's filing deadline")
    days_to_deadline: int | None
    queued_batch_id: int | None = Field(description="queued for an electronic batch not yet sent")


class OverrideIn(Strict):
    problem_code: str = Field(min_length=1, max_length=80)
    where: str = Field(default="", max_length=120)
    reason: str = Field(min_length=1, max_length=2000)


class SubmitIn(Strict):
    claim_ids: list[int] = Field(max_length=MAX_IDS)
    channel: Route | None = Field(default=None, description="default: each payer's billing route")
    portal_id: int | None = Field(default=None, description="default: each payer's default portal")
    submitted_on: date | None = Field(default=None, description="default: today (the practice's)")
    reference: str = Field(default="", max_length=80, description="one reference shared by every claim")
    references: dict[int, Annotated[str, Field(max_length=80)]] = Field(
        default_factory=dict, description="claim id -> its own reference"
    )


class SubmissionLogOut(BaseModel):
    id: int
    claim_id: int
    claim_number: str
    channel: str
    portal_name: str
    frequency: str
    submitted_at: datetime
    reference: str
    clearinghouse_reference: str
    payer_claim_control_number: str
    submitted_by: str
    batch_id: int | None
    batch_status: str
    previous_submission_id: int | None


class SubmittedOut(BaseModel):
    submissions: list[SubmissionLogOut]


class QueueIn(Strict):
    claim_ids: list[int] = Field(max_length=MAX_IDS)
    channel: Literal["clearinghouse", "simplepractice"] = "clearinghouse"


class QueuedOut(BaseModel):
    batch_id: int | None = Field(description="null when no claims were given")
    channel: str
    status: str
    claim_ids: list[int]


class ResubmitIn(Strict):
    frequency: Literal["1", "7", "8"] = Field(description="1 again as is, 7 replacement, 8 void")
    payer_claim_control_number: str = Field(default="", max_length=50)
    reason: str = Field(min_length=1, max_length=500)
    channel: Route | None = None
    portal_id: int | None = None
    submitted_on: date | None = None
    reference: str = Field(default="", max_length=80)


class PracticePayerOut(BaseModel):
    practice_id: int
    payer_id: int
    payer_name: str
    edi_payer_id: str
    kind: str
    billing_route: str
    portal_id: int | None
    portal_name: str | None
    timely_filing_days: int
    appeal_days: int
    requires_prior_auth: bool
    supervised_billing: str
    expected_days_to_pay: int | None


class PracticePayerIn(Strict):
    billing_route: Route | None = None
    portal_id: int | None = Field(default=None, description="the default portal; null clears it")
    timely_filing_days: int | None = Field(default=None, ge=1, le=payer_settings.MAX_DAYS)
    appeal_days: int | None = Field(default=None, ge=1, le=payer_settings.MAX_DAYS)
    requires_prior_auth: bool | None = None
    supervised_billing: SupervisedBilling | None = None


class PayerRefOut(BaseModel):
    id: int
    name: str


class PortalOut(BaseModel):
    id: int
    practice_id: int
    name: str
    url: str
    billing_route: str
    login_instructions: str
    vault_reference: str = Field(description="the password manager entry; never the password")
    payers: list[PayerRefOut]


class PortalIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(default="", max_length=500, description="http or https")
    billing_route: Route = "portal"
    login_instructions: str = Field(default="", max_length=4000, description="never a password")
    vault_reference: str = Field(default="", max_length=200)


class PortalChangesIn(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=500)
    billing_route: Route | None = None
    login_instructions: str | None = Field(default=None, max_length=4000)
    vault_reference: str | None = Field(default=None, max_length=200)


# --- helpers -------------------------------------------------------------------------------------


def _one_practice(actor: Actor, practice_id: int | None, permission: Permission) -> int:
    return one_practice(actor, practice_id, permission, ask="name one")


def _in_practice(db: Session, model: type[Any], ids: Iterable[int], practice_id: int, noun: str) -> None:
    """Every id names a row of the practice; the first that does not answers 404."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return
    found = set(db.scalars(select(model.id).where(model.id.in_(wanted), model.practice_id == practice_id)))
    for row_id in wanted:
        if row_id not in found:
            raise NotFound(f"{noun} {row_id} not found")


def _scrub_out(db: Session, claim: m.Claim, state: scrubbing.ScrubState) -> ScrubOut:
    overrides = list(
        db.scalars(
            select(m.ScrubOverride).where(m.ScrubOverride.claim_id == claim.id).order_by(m.ScrubOverride.id)
        )
    )
    edits = [str(edit_id) for edit_id in state.scrub.edits] if state.scrub else []
    return ScrubOut(
        claim_id=claim.id,
        claim_number=claim.number,
        status=claim.status,
        scrubbed_at=state.scrub.ran_at if state.scrub else None,
        edits=[
            EditOut(id=edit_id, title=EDITS_BY_ID[edit_id].title if edit_id in EDITS_BY_ID else edit_id)
            for edit_id in edits
        ],
        problems=[
            ProblemOut(
                code=p.code,
                where=p.where,
                message=p.message,
                severity=str(p.severity),
                overridden=(p.code, p.where) in state.overridden,
            )
            for p in state.problems
        ],
        overrides=[
            OverrideOut(
                problem_code=o.problem_code,
                where=o.where,
                reason=o.reason,
                user_id=o.user_id,
                created_at=o.created_at,
            )
            for o in overrides
        ],
        clean=state.is_clean,
    )


def _claim_for_read(db: Session, actor: Actor, claim_id: int) -> m.Claim:
    """A claim the caller may view, the read of its client audited."""
    claim = get_visible(db, m.Claim, claim_id, actor, Permission.VIEW_CLAIMS)
    queries.record_client_reads(
        db, actor=actor, entity="claim", clients=[(claim.practice_id, claim.client_id)]
    )
    return claim


def _claim_for_write(db: Session, actor: Actor, claim_id: int, permission: Permission) -> m.Claim:
    claim = load_claim(db, actor=actor, claim_id=claim_id)
    actor.require(claim.practice_id, permission)
    return claim


def _log_out(rows: Sequence[submissions.SubmissionRow]) -> list[SubmissionLogOut]:
    return [SubmissionLogOut.model_validate(row, from_attributes=True) for row in rows]


def _claim_log(db: Session, actor: Actor, claim: m.Claim, ids: Iterable[int]) -> list[SubmissionLogOut]:
    wanted = set(ids)
    rows = submissions.list_submissions(db, actor=actor, claim_id=claim.id)
    return _log_out([row for row in rows if row.id in wanted])


def _payer_out(row: queries.PracticePayerRow) -> PracticePayerOut:
    settings = row.settings
    return PracticePayerOut(
        practice_id=settings.practice_id,
        payer_id=row.payer.id,
        payer_name=row.payer.name,
        edi_payer_id=row.payer.edi_payer_id,
        kind=row.payer.kind,
        billing_route=settings.billing_route,
        portal_id=settings.portal_id,
        portal_name=row.portal.name if row.portal else None,
        timely_filing_days=settings.timely_filing_days,
        appeal_days=settings.appeal_days,
        requires_prior_auth=settings.requires_prior_auth,
        supervised_billing=settings.supervised_billing,
        expected_days_to_pay=settings.expected_days_to_pay,
    )


def _portal_out(row: portals.PortalRow) -> PortalOut:
    portal = row.portal
    return PortalOut(
        id=portal.id,
        practice_id=portal.practice_id,
        name=portal.name,
        url=portal.url,
        billing_route=portal.billing_route,
        login_instructions=portal.login_instructions,
        vault_reference=portal.vault_reference,
        payers=[PayerRefOut(id=pid, name=name) for pid, name in row.payers],
    )


# --- sessions to claims --------------------------------------------------------------------------


@router.post(
    "/api/sessions/ready",
    response_model=ReadyResultOut,
    summary="Mark sessions ready to bill",
    responses=_ERRORS,
    **needs(Permission.ENTER_CHARGES),
)
def api_mark_sessions_ready(
    db: DB, actor: CurrentActor, body: SessionIdsIn, practice_id: PracticeId = None
) -> ReadyResultOut:
    """Mark the billable sessions ready (held, insured, note locked, no open flag); the others
    are listed in ``refused`` with their reason."""
    practice = _one_practice(actor, practice_id, Permission.ENTER_CHARGES)
    _in_practice(db, m.ServiceSession, body.session_ids, practice, "session")
    result = building.mark_sessions_ready(db, actor=actor, session_ids=body.session_ids)
    return ReadyResultOut(
        marked=result.marked,
        already_ready=result.already_ready,
        refused=[RefusalOut(session_id=r.session_id, reason=r.reason) for r in result.refused],
    )


@router.post(
    "/api/claims/build",
    response_model=BuildOut,
    summary="Build claims from ready sessions",
    responses=_ERRORS,
    **needs(Permission.ENTER_CHARGES),
)
def api_build_claims(
    db: DB, actor: CurrentActor, body: BuildIn | None = None, practice_id: PracticeId = None
) -> BuildOut:
    """Ready sessions not yet on a claim become claims (same-day services of one client,
    clinician and payer combine), each scrubbed as built: clean ones move to ready."""
    practice = _one_practice(actor, practice_id, Permission.ENTER_CHARGES)
    session_ids = body.session_ids if body else None
    if session_ids is not None:
        _in_practice(db, m.ServiceSession, session_ids, practice, "session")
    result = building.build_claims(db, actor=actor, practice_id=practice, session_ids=session_ids)
    return BuildOut(
        claims=[
            BuiltClaimOut(
                claim_id=built.claim.id,
                number=built.claim.number,
                status=built.claim.status,
                session_ids=built.session_ids,
                errors=len(built.scrub.errors),
                open_warnings=len(built.scrub.open_warnings),
            )
            for built in result.claims
        ],
        skipped=[RefusalOut(session_id=r.session_id, reason=r.reason) for r in result.skipped],
    )


@router.get(
    "/api/claims/ready",
    response_model=ListOut[ReadyClaimOut],
    summary="The ready list",
    responses=_ERRORS,
    **needs(Permission.VIEW_CLAIMS),
)
def api_ready_claims(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    payer_id: int | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Claims ready to send, the nearest filing deadline first, with each payer's billing
    route and default portal."""
    page = submissions.list_ready_claims(
        db, actor=actor, practice_id=practice_id, payer_id=payer_id, limit=limit, offset=offset
    )
    queries.record_client_reads(
        db,
        actor=actor,
        entity="claim",
        clients=[(r.claim.practice_id, r.claim.client_id) for r in page.items],
    )
    today = {pid: scrubbing.practice_today(db, pid) for pid in {r.claim.practice_id for r in page.items}}
    items = [
        ReadyClaimOut(
            id=row.claim.id,
            practice_id=row.claim.practice_id,
            number=row.claim.number,
            client_id=row.claim.client_id,
            client_name=row.client_name,
            payer_id=row.claim.payer_id,
            payer_name=row.payer_name,
            service_from_on=row.claim.service_from_on,
            billed_cents=row.claim.billed_cents,
            billing_route=row.billing_route,
            portal_id=row.portal_id,
            portal_name=row.portal_name,
            timely_filing_on=row.claim.timely_filing_on,
            days_to_deadline=(row.claim.timely_filing_on - today[row.claim.practice_id]).days
            if row.claim.timely_filing_on
            else None,
            queued_batch_id=row.queued_batch_id,
        )
        for row in page.items
    ]
    return {"items": items, "total": page.total}


# --- scrubbing -----------------------------------------------------------------------------------


@router.get(
    "/api/claims/{claim_id}/scrub",
    response_model=ScrubOut,
    summary="The claim's latest scrub",
    responses=_ERRORS,
    **needs(Permission.VIEW_CLAIMS),
)
def api_latest_scrub(db: DB, actor: CurrentActor, claim_id: int) -> ScrubOut:
    """The edits that ran, the problems found (each marked when overridden) and the overrides."""
    claim = _claim_for_read(db, actor, claim_id)
    return _scrub_out(db, claim, scrubbing.scrub_state(db, claim.id))


@router.post(
    "/api/claims/{claim_id}/overrides",
    response_model=ScrubOut,
    summary="Override a scrub warning",
    responses=_WRITE_ERRORS,
    **needs(Permission.SUBMIT_CLAIMS),
)
def api_override_warning(db: DB, actor: CurrentActor, claim_id: int, body: OverrideIn) -> ScrubOut:
    """Accept one warning of the latest scrub for a reason (audited); an error is refused (422),
    a warning already overridden answers 409."""
    claim = _claim_for_write(db, actor, claim_id, Permission.SUBMIT_CLAIMS)
    scrubbing.override_warning(
        db,
        actor=actor,
        claim_id=claim.id,
        problem_code=body.problem_code,
        where=body.where,
        reason=body.reason,
    )
    return _scrub_out(db, claim, scrubbing.scrub_state(db, claim.id))


@router.post(
    "/api/claims/{claim_id}/scrub",
    response_model=ScrubOut,
    summary="Scrub the claim again",
    responses=_ERRORS,
    **needs(Permission.ENTER_CHARGES),
)
def api_scrub_claim(db: DB, actor: CurrentActor, claim_id: int) -> ScrubOut:
    """Run every edit over the claim as stored now and keep the run."""
    claim = _claim_for_write(db, actor, claim_id, Permission.ENTER_CHARGES)
    state = scrubbing.scrub_claim(db, actor=actor, claim_id=claim.id)
    return _scrub_out(db, claim, state)


@router.post(
    "/api/claims/{claim_id}/ready",
    response_model=ScrubOut,
    summary="Make a draft claim ready",
    responses=_WRITE_ERRORS,
    **needs(Permission.ENTER_CHARGES),
)
def api_mark_claim_ready(db: DB, actor: CurrentActor, claim_id: int) -> ScrubOut:
    """Scrub a draft claim again and move it to ready when clean (no error, every warning
    overridden); the scrub is returned either way. A claim past draft answers 409."""
    claim = _claim_for_write(db, actor, claim_id, Permission.ENTER_CHARGES)
    if claim.status != str(ClaimStatus.DRAFT):
        raise Conflict(f"claim {claim.number} is {claim.status}; only a draft claim is made ready")
    state = building.mark_claim_ready(db, actor=actor, claim_id=claim.id)
    db.refresh(claim)
    return _scrub_out(db, claim, state)


# --- submitting ----------------------------------------------------------------------------------


@router.post(
    "/api/claims/submissions",
    response_model=SubmittedOut,
    summary="Record claims as submitted",
    responses=_ERRORS,
    **needs(Permission.SUBMIT_CLAIMS),
)
def api_record_submissions(
    db: DB, actor: CurrentActor, body: SubmitIn, practice_id: PracticeId = None
) -> SubmittedOut:
    """ "Submitted via <portal> on <date>, reference <ref>" for ready claims, all or nothing:
    a claim that is not ready (or queued) refuses the whole call with 422 naming it."""
    practice = _one_practice(actor, practice_id, Permission.SUBMIT_CLAIMS)
    _in_practice(db, m.Claim, body.claim_ids, practice, "claim")
    if body.portal_id is not None:
        _in_practice(db, m.InsurancePortal, [body.portal_id], practice, "portal")
    if not body.claim_ids:
        return SubmittedOut(submissions=[])
    rows = submissions.record_submissions(
        db,
        actor=actor,
        claim_ids=body.claim_ids,
        submitted_on=body.submitted_on,
        reference=body.reference,
        channel=body.channel,
        portal_id=body.portal_id,
        references=body.references,
    )
    only = submissions.SubmissionFilters(ids=tuple(row.id for row in rows))
    log = submissions.list_practice_submissions(
        db, actor=actor, practice_id=practice, filters=only, limit=len(rows)
    )
    by_id = {row.id: row for row in log.items}
    return SubmittedOut(submissions=_log_out([by_id[row.id] for row in rows]))


@router.post(
    "/api/claims/queue",
    response_model=QueuedOut,
    summary="Queue claims for an electronic batch",
    responses=_ERRORS,
    **needs(Permission.SUBMIT_CLAIMS),
)
def api_queue_claims(db: DB, actor: CurrentActor, body: QueueIn, practice_id: PracticeId = None) -> QueuedOut:
    """Ready claims queued for one batch (the file itself is written when the batch is sent);
    all or nothing, and a claim is never queued twice."""
    practice = _one_practice(actor, practice_id, Permission.SUBMIT_CLAIMS)
    _in_practice(db, m.Claim, body.claim_ids, practice, "claim")
    if not body.claim_ids:
        return QueuedOut(batch_id=None, channel=body.channel, status="", claim_ids=[])
    batch = submissions.queue_for_batch(db, actor=actor, claim_ids=body.claim_ids, channel=body.channel)
    return QueuedOut(
        batch_id=batch.id,
        channel=batch.channel,
        status=batch.status,
        claim_ids=list(dict.fromkeys(body.claim_ids)),
    )


@router.post(
    "/api/claims/{claim_id}/resubmit",
    response_model=SubmissionLogOut,
    summary="Resubmit, replace or void a claim",
    responses=_ERRORS,
    **needs(Permission.SUBMIT_CLAIMS),
)
def api_resubmit_claim(db: DB, actor: CurrentActor, claim_id: int, body: ResubmitIn) -> SubmissionLogOut:
    """A later sending of a claim already sent, keeping its number and pointing at the
    submission it follows; 7 (replacement) and 8 (void) need the payer's claim control number."""
    claim = _claim_for_write(db, actor, claim_id, Permission.SUBMIT_CLAIMS)
    if body.portal_id is not None:
        _in_practice(db, m.InsurancePortal, [body.portal_id], claim.practice_id, "portal")
    row = submissions.resubmit_claim(
        db,
        actor=actor,
        claim_id=claim.id,
        frequency=body.frequency,
        submitted_on=body.submitted_on,
        reference=body.reference,
        channel=body.channel,
        portal_id=body.portal_id,
        payer_claim_control_number=body.payer_claim_control_number,
        reason=body.reason,
    )
    return _claim_log(db, actor, claim, [row.id])[0]


@router.get(
    "/api/claims/{claim_id}/submissions",
    response_model=ListOut[SubmissionLogOut],
    summary="The claim's portal log",
    responses=_ERRORS,
    **needs(Permission.VIEW_CLAIMS),
)
def api_claim_submissions(db: DB, actor: CurrentActor, claim_id: int) -> dict[str, Any]:
    """Every sending of the claim, oldest first, with the submission each resubmission follows."""
    claim = _claim_for_read(db, actor, claim_id)
    rows = _log_out(submissions.list_submissions(db, actor=actor, claim_id=claim.id))
    return {"items": rows, "total": len(rows)}


@router.get(
    "/api/submissions",
    response_model=ListOut[SubmissionLogOut],
    summary="The practice's portal log",
    responses=_ERRORS,
    **needs(Permission.VIEW_CLAIMS),
)
def api_submissions(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    portal_id: int | None = None,
    channel: Route | None = None,
    since: Annotated[date | None, Query(description="submitted on or after")] = None,
    until: Annotated[date | None, Query(description="submitted on or before")] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Every submission of the practice, newest first."""
    practice = _one_practice(actor, practice_id, Permission.VIEW_CLAIMS)
    if since and until and since > until:
        raise InvalidInput("since: after until")
    filters = submissions.SubmissionFilters(portal_id=portal_id, channel=channel, since=since, until=until)
    page = submissions.list_practice_submissions(
        db, actor=actor, practice_id=practice, filters=filters, limit=limit, offset=offset
    )
    return {"items": _log_out(page.items), "total": page.total}


# --- payer billing settings ----------------------------------------------------------------------


@router.get(
    "/api/practice-payers/{payer_id}",
    response_model=PracticePayerOut,
    summary="A payer's billing settings",
    tags=["payers"],
    responses=_ERRORS,
    **needs(Permission.VIEW_PAYERS),
)
def api_payer_settings(
    db: DB, actor: CurrentActor, payer_id: int, practice_id: PracticeId = None
) -> PracticePayerOut:
    """Billing route, default portal, filing and appeal limits, prior authorization and
    supervised billing, as the practice set them for the payer."""
    row = payer_settings.get_payer_settings(db, actor=actor, payer_id=payer_id, practice_id=practice_id)
    return _payer_out(row)


@router.post(
    "/api/practice-payers/{payer_id}",
    response_model=PracticePayerOut,
    summary="Change a payer's billing settings",
    tags=["payers"],
    responses=_ERRORS,
    **needs(Permission.MANAGE_PRACTICE),
)
def api_update_payer_settings(
    db: DB, actor: CurrentActor, payer_id: int, body: PracticePayerIn, practice_id: PracticeId = None
) -> PracticePayerOut:
    """Change the fields given (admin only, audited); a field left out keeps its value."""
    changes = body.model_dump(exclude_unset=True)
    for key in (
        "billing_route",
        "timely_filing_days",
        "appeal_days",
        "requires_prior_auth",
        "supervised_billing",
    ):
        if key in changes and changes[key] is None:
            raise InvalidInput(f"{key}: may not be null")
    row = payer_settings.update_payer_settings(
        db, actor=actor, payer_id=payer_id, changes=changes, practice_id=practice_id
    )
    return _payer_out(row)


# --- insurance portals ---------------------------------------------------------------------------


@router.get(
    "/api/portals",
    response_model=ListOut[PortalOut],
    summary="Insurance portals",
    tags=["payers"],
    responses=_ERRORS,
    **needs(Permission.VIEW_PAYERS),
)
def api_portals(db: DB, actor: CurrentActor, practice_id: PracticeId = None) -> dict[str, Any]:
    """The practice's portals with the payers each serves; never a password."""
    rows = portals.list_portals(db, actor=actor, practice_id=practice_id)
    return {"items": [_portal_out(row) for row in rows], "total": len(rows)}


@router.post(
    "/api/portals",
    response_model=PortalOut,
    summary="Add an insurance portal",
    tags=["payers"],
    responses=_WRITE_ERRORS,
    **needs(Permission.MANAGE_PRACTICE),
)
def api_create_portal(
    db: DB, actor: CurrentActor, body: PortalIn, practice_id: PracticeId = None
) -> PortalOut:
    """Admin only, audited. A field that looks like a password is refused (422); keep the
    login in the password manager and give its entry as ``vault_reference``. A name the
    practice already uses answers 409."""
    practice = _one_practice(actor, practice_id, Permission.MANAGE_PRACTICE)
    portal = portals.create_portal(db, actor=actor, practice_id=practice, values=body.model_dump())
    return _portal_out(portals.get_portal(db, actor=actor, portal_id=portal.id))


@router.post(
    "/api/portals/{portal_id}",
    response_model=PortalOut,
    summary="Change an insurance portal",
    tags=["payers"],
    responses=_WRITE_ERRORS,
    **needs(Permission.MANAGE_PRACTICE),
)
def api_update_portal(db: DB, actor: CurrentActor, portal_id: int, body: PortalChangesIn) -> PortalOut:
    """Change the fields given (admin only, audited with before and after)."""
    changes = body.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if value is None:
            raise InvalidInput(f"{key}: may not be null")
    portal = portals.update_portal(db, actor=actor, portal_id=portal_id, changes=changes)
    return _portal_out(portals.get_portal(db, actor=actor, portal_id=portal.id))
