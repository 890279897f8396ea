"""The coverages and charges API: client coverages with their history, authorizations and card
images; charges entered and edited by hand, and the fee a charge defaults to.

Writes are POSTs (an update is ``POST /api/coverages/{id}``, a removal
``POST /api/charges/{id}/delete``). Bad input answers 422 naming the field; a coverage
overlapping another of the same priority, or a charge whose claim was already submitted,
answers 409; another practice's ids answer 404.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.services import charges as charge_service
from revcycle.services import coverages as coverage_service
from revcycle.services import queries
from revcycle.services.claims_pipeline.pointers import decode_pointers
from revcycle.services.claims_pipeline.scrubbing import practice_today
from revcycle.services.fees import lookup_fee
from revcycle.services.scoping import get_visible
from revcycle.web.api.resources import ListOut, PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["coverages"])


# --- models ------------------------------------------------------------------------------------------


class AuthorizationOut(BaseModel):
    id: int
    number: str
    visits_allowed: int
    visits_used: int
    visits_left: int
    starts_on: date
    ends_on: date
    procedure_codes: list[str]


class CardOut(BaseModel):
    id: int
    side: str
    uploaded_at: datetime
    url: str


class CoverageChangeOut(BaseModel):
    id: int
    action: str
    authorization_id: int | None
    changes: dict[str, list[Any]] = Field(description="field -> [before, after]")
    user_id: int | None
    user_name: str | None
    created_at: datetime


class CoverageOut(BaseModel):
    id: int
    client_id: int
    payer_id: int
    payer_name: str
    member_id: str
    group_number: str
    priority: str
    relationship: str
    subscriber_first_name: str
    subscriber_last_name: str
    subscriber_date_of_birth: date | None
    subscriber_sex: str
    effective_on: date | None
    ends_on: date | None
    copay_cents: int
    authorizations: list[AuthorizationOut]
    cards: list[CardOut]
    history: list[CoverageChangeOut]


class CoverageIn(BaseModel):
    payer_id: int | None = Field(default=None, description="the payer's catalog id")
    payer_edi_id: str = Field(
        default="", max_length=20, description="or the EDI payer id printed on the card"
    )
    member_id: str = Field(max_length=40)
    group_number: str = Field(default="", max_length=40)
    priority: str = Field(default="primary", description="primary | secondary | tertiary")
    relationship: str = Field(
        default="self", description="the client is the subscriber's: self | spouse | child | other"
    )
    subscriber_first_name: str = Field(default="", max_length=100)
    subscriber_last_name: str = Field(default="", max_length=100)
    subscriber_date_of_birth: date | None = None
    subscriber_sex: str = Field(default="U", description="F | M | U")
    effective_on: date | None = None
    ends_on: date | None = None
    copay_cents: int = Field(default=0, ge=0)


class CoverageUpdateIn(BaseModel):
    """Only the fields given change."""

    payer_id: int | None = None
    member_id: str | None = Field(default=None, max_length=40)
    group_number: str | None = Field(default=None, max_length=40)
    priority: str | None = None
    relationship: str | None = None
    subscriber_first_name: str | None = Field(default=None, max_length=100)
    subscriber_last_name: str | None = Field(default=None, max_length=100)
    subscriber_date_of_birth: date | None = None
    subscriber_sex: str | None = None
    effective_on: date | None = None
    ends_on: date | None = None
    copay_cents: int | None = Field(default=None, ge=0)


class CoverageEndIn(BaseModel):
    ends_on: date = Field(description="the last covered day")


class AuthorizationIn(BaseModel):
    number: str = Field(max_length=50, description="an existing number on the coverage is updated")
    visits_allowed: int
    visits_used: int | None = Field(default=None, description="omit to keep (0 for a new one)")
    starts_on: date
    ends_on: date
    procedure_codes: list[str] = Field(default_factory=list)


class ProblemOut(BaseModel):
    code: str
    where: str
    message: str
    severity: str


class ChargeDetailOut(BaseModel):
    id: int
    session_id: int
    procedure_code: str
    modifiers: list[str]
    units: int
    minutes: int | None
    fee_cents: int
    diagnosis_codes: list[str]
    diagnosis_pointers: list[int]


class ChargeChangeOut(BaseModel):
    charge: ChargeDetailOut | None
    warnings: list[ProblemOut]
    fee_from_schedule_cents: int | None = Field(description="the fee schedule's fee for the charge, if any")
    claim_id: int | None
    claim_number: str | None
    claim_status: str | None
    scrub_problems: list[ProblemOut]
    ledger_transaction_ids: list[int]


class ChargeIn(BaseModel):
    procedure_code: str = Field(max_length=10, description="CPT or HCPCS")
    modifiers: list[str] = Field(default_factory=list, max_length=4)
    units: int | None = Field(default=None, description="at least 1 (default 1)")
    minutes: int | None = Field(default=None, description="for time-based codes")
    fee_cents: int | None = Field(default=None, description="omit for the fee schedule's fee")
    diagnosis_codes: list[str] = Field(default_factory=list, max_length=12, description="ICD-10-CM")
    diagnosis_pointers: list[int] = Field(
        default_factory=lambda: [1], description="1-4 positions in diagnosis_codes"
    )


class FeeLookupOut(BaseModel):
    procedure_code: str | None
    modifiers: str
    units: int
    fee_cents: int | None = Field(description="rate x units; null when no schedule in force prices it")
    unit_cents: int | None
    schedule_id: int | None
    schedule_name: str | None
    level: str | None = Field(description="client | payer | standard")
    detail: str


# --- conversions -----------------------------------------------------------------------------------------


def _authorization_out(row: m.Authorization) -> AuthorizationOut:
    return AuthorizationOut(
        id=row.id,
        number=row.number,
        visits_allowed=row.visits_allowed,
        visits_used=row.visits_used,
        visits_left=max(row.visits_allowed - row.visits_used, 0),
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        procedure_codes=[str(code) for code in row.procedure_codes],
    )


def _coverage_out(view: coverage_service.CoverageView, names: dict[int, str]) -> CoverageOut:
    c = view.coverage
    return CoverageOut(
        id=c.id,
        client_id=c.client_id,
        payer_id=c.payer_id,
        payer_name=view.payer_name,
        member_id=c.member_id,
        group_number=c.group_number,
        priority=c.priority,
        relationship=c.relationship_to_subscriber,
        subscriber_first_name=c.subscriber_first_name,
        subscriber_last_name=c.subscriber_last_name,
        subscriber_date_of_birth=c.subscriber_date_of_birth,
        subscriber_sex=c.subscriber_sex,
        effective_on=c.effective_on,
        ends_on=c.ends_on,
        copay_cents=c.copay_cents,
        authorizations=[_authorization_out(a) for a in view.authorizations],
        cards=[
            CardOut(
                id=card.id,
                side=card.side,
                uploaded_at=card.created_at,
                url=f"/api/coverages/{c.id}/cards/{card.id}",
            )
            for card in view.cards
        ],
        history=[
            CoverageChangeOut(
                id=h.id,
                action=h.action,
                authorization_id=h.authorization_id,
                changes=h.changes,
                user_id=h.user_id,
                user_name=names.get(h.user_id) if h.user_id else None,
                created_at=h.created_at,
            )
            for h in view.history
        ],
    )


def _one_coverage(db: DB, actor: CurrentActor, coverage: m.Coverage) -> CoverageOut:
    found = coverage_service.client_coverages(db, actor=actor, client_id=coverage.client_id)
    view = next(v for v in found.coverages if v.coverage.id == coverage.id)
    return _coverage_out(view, found.user_names)


_MAY_BE_BLANKED = frozenset({"effective_on", "ends_on", "subscriber_date_of_birth"})


def _coverage_values(body: BaseModel, *, only_given: bool) -> dict[str, Any]:
    """The body as coverage fields (only those sent, for an update)."""
    values = body.model_dump(exclude_unset=only_given)
    if "relationship" in values:
        values["relationship_to_subscriber"] = values.pop("relationship")
    blanked = [name for name, value in values.items() if value is None and name not in _MAY_BE_BLANKED]
    if only_given and blanked:
        raise InvalidInput(f"{blanked[0]}: cannot be blank")
    return values


def _charge_out(charge: m.Charge | None) -> ChargeDetailOut | None:
    if charge is None:
        return None
    return ChargeDetailOut(
        id=charge.id,
        session_id=charge.session_id,
        procedure_code=charge.procedure_code,
        modifiers=[mod for mod in charge.modifiers.split(":") if mod],
        units=charge.units,
        minutes=charge.minutes,
        fee_cents=charge.fee_cents,
        diagnosis_codes=[str(code) for code in charge.diagnosis_codes],
        diagnosis_pointers=list(decode_pointers(charge.diagnosis_pointers)),
    )


def _problem(p: Any) -> ProblemOut:
    return ProblemOut(code=p.code, where=p.where, message=p.message, severity=str(p.severity))


def _change_out(result: charge_service.ChargeResult) -> ChargeChangeOut:
    claim = result.claim
    return ChargeChangeOut(
        charge=_charge_out(result.charge),
        warnings=[_problem(p) for p in result.warnings],
        fee_from_schedule_cents=result.fee.amount_cents if result.fee else None,
        claim_id=claim.id if claim else None,
        claim_number=claim.number if claim else None,
        claim_status=claim.status if claim else None,
        scrub_problems=[_problem(p) for p in result.scrub.problems] if result.scrub else [],
        ledger_transaction_ids=result.ledger_transaction_ids,
    )


def _charge_input(body: ChargeIn) -> charge_service.ChargeInput:
    return charge_service.ChargeInput(
        procedure_code=body.procedure_code,
        modifiers=body.modifiers,
        units=body.units,
        minutes=body.minutes,
        fee_cents=body.fee_cents,
        diagnosis_codes=body.diagnosis_codes,
        diagnosis_pointers=body.diagnosis_pointers,
    )


# --- coverages ---------------------------------------------------------------------------------------------


@router.get(
    "/api/clients/{client_id}/coverages",
    response_model=ListOut[CoverageOut],
    **needs(Permission.VIEW_CLIENTS),
)
def api_client_coverages(db: DB, actor: CurrentActor, client_id: int) -> dict[str, Any]:
    """The client's coverages with their authorizations, cards and change history."""
    found = coverage_service.client_coverages(db, actor=actor, client_id=client_id)
    queries.record_client_reads(
        db, actor=actor, entity="coverage", clients=[(found.client.practice_id, found.client.id)]
    )
    items = [_coverage_out(view, found.user_names) for view in found.coverages]
    return {"items": items, "total": len(items)}


@router.post(
    "/api/clients/{client_id}/coverages", response_model=CoverageOut, **needs(Permission.UPDATE_INSURANCE)
)
def api_create_coverage(db: DB, actor: CurrentActor, client_id: int, body: CoverageIn) -> CoverageOut:
    """Add a coverage; refused (409) when it overlaps another of the same priority."""
    values = _coverage_values(body, only_given=False)
    coverage = coverage_service.create_coverage(db, actor=actor, client_id=client_id, values=values)
    return _one_coverage(db, actor, coverage)


@router.post("/api/coverages/{coverage_id}", response_model=CoverageOut, **needs(Permission.UPDATE_INSURANCE))
def api_update_coverage(db: DB, actor: CurrentActor, coverage_id: int, body: CoverageUpdateIn) -> CoverageOut:
    """Change the fields given; each change is kept in the coverage's history."""
    coverage = coverage_service.update_coverage(
        db, actor=actor, coverage_id=coverage_id, values=_coverage_values(body, only_given=True)
    )
    return _one_coverage(db, actor, coverage)


@router.post(
    "/api/coverages/{coverage_id}/end", response_model=CoverageOut, **needs(Permission.UPDATE_INSURANCE)
)
def api_end_coverage(db: DB, actor: CurrentActor, coverage_id: int, body: CoverageEndIn) -> CoverageOut:
    coverage = coverage_service.end_coverage(db, actor=actor, coverage_id=coverage_id, ends_on=body.ends_on)
    return _one_coverage(db, actor, coverage)


@router.post(
    "/api/coverages/{coverage_id}/authorizations",
    response_model=AuthorizationOut,
    **needs(Permission.UPDATE_INSURANCE),
)
def api_save_authorization(
    db: DB, actor: CurrentActor, coverage_id: int, body: AuthorizationIn
) -> AuthorizationOut:
    """Add a prior authorization, or update the coverage's one with the same number."""
    row = coverage_service.save_authorization(
        db,
        actor=actor,
        coverage_id=coverage_id,
        entry=coverage_service.AuthorizationInput(
            number=body.number,
            visits_allowed=body.visits_allowed,
            visits_used=body.visits_used,
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            procedure_codes=body.procedure_codes,
        ),
    )
    return _authorization_out(row)


@router.post(
    "/api/coverages/{coverage_id}/cards", response_model=CardOut, **needs(Permission.UPDATE_INSURANCE)
)
def api_add_card(
    db: DB,
    actor: CurrentActor,
    coverage_id: int,
    file: Annotated[UploadFile | str | None, File(description="PNG, JPEG or PDF, at most 5 MB")] = None,
    side: Annotated[str, Form(description="front | back")] = "front",
) -> CardOut:
    """Upload a scan of the card (multipart: ``file`` and ``side``)."""
    data, filename = b"", ""
    if not isinstance(file, str) and file is not None:
        data = file.file.read(coverage_service.MAX_CARD_BYTES + 1)
        filename = file.filename or "card"
    card = coverage_service.add_card(
        db, actor=actor, coverage_id=coverage_id, side=side, filename=filename, data=data
    )
    return CardOut(
        id=card.id,
        side=card.side,
        uploaded_at=card.created_at,
        url=f"/api/coverages/{coverage_id}/cards/{card.id}",
    )


@router.get(
    "/api/coverages/{coverage_id}/cards/{card_id}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "application/pdf": {}}}},
    **needs(Permission.VIEW_CLIENTS),
)
def api_card(db: DB, actor: CurrentActor, coverage_id: int, card_id: int) -> Response:
    """The card's file, as uploaded (for people who may see the client)."""
    found = coverage_service.get_card(db, actor=actor, coverage_id=coverage_id, card_id=card_id)
    return Response(
        found.content,
        media_type=found.media_type,
        headers={"Content-Disposition": f'inline; filename="card-{found.card.id}-{found.card.side}"'},
    )


# --- charges ------------------------------------------------------------------------------------------


@router.get(
    "/api/sessions/{session_id}/charges",
    response_model=ListOut[ChargeDetailOut],
    tags=["charges"],
    **needs(Permission.VIEW_SESSIONS),
)
def api_session_charges(db: DB, actor: CurrentActor, session_id: int) -> dict[str, Any]:
    service = get_visible(db, m.ServiceSession, session_id, actor, Permission.VIEW_SESSIONS)
    queries.record_client_reads(
        db, actor=actor, entity="charge", clients=[(service.practice_id, service.client_id)]
    )
    items = [_charge_out(charge) for charge in charge_service.list_charges(db, service.id)]
    return {"items": items, "total": len(items)}


@router.post(
    "/api/sessions/{session_id}/charges",
    response_model=ChargeChangeOut,
    tags=["charges"],
    **needs(Permission.ENTER_CHARGES),
)
def api_add_charge(db: DB, actor: CurrentActor, session_id: int, body: ChargeIn) -> ChargeChangeOut:
    """Add a charge; a blank fee comes from the fee schedule. The session's draft or ready claim
    is rebuilt and scrubbed; a submitted one refuses (409)."""
    result = charge_service.add_charge(db, actor=actor, session_id=session_id, entry=_charge_input(body))
    return _change_out(result)


@router.post(
    "/api/charges/{charge_id}",
    response_model=ChargeChangeOut,
    tags=["charges"],
    **needs(Permission.ENTER_CHARGES),
)
def api_update_charge(db: DB, actor: CurrentActor, charge_id: int, body: ChargeIn) -> ChargeChangeOut:
    """Correct a charge (send every field; a blank fee means the schedule's)."""
    result = charge_service.update_charge(db, actor=actor, charge_id=charge_id, entry=_charge_input(body))
    return _change_out(result)


@router.post(
    "/api/charges/{charge_id}/delete",
    response_model=ChargeChangeOut,
    tags=["charges"],
    **needs(Permission.ENTER_CHARGES),
)
def api_remove_charge(db: DB, actor: CurrentActor, charge_id: int) -> ChargeChangeOut:
    """Remove a charge that was never posted to the ledger."""
    return _change_out(charge_service.remove_charge(db, actor=actor, charge_id=charge_id))


@router.get(
    "/api/fee-schedule/lookup",
    response_model=FeeLookupOut,
    tags=["charges"],
    **needs(Permission.ENTER_CHARGES),
)
def api_fee_lookup(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    procedure: Annotated[str, Query(max_length=10, description="CPT or HCPCS")] = "",
    modifiers: Annotated[str, Query(description="e.g. 95 or 95:GT")] = "",
    client_id: int | None = None,
    service_on: date | None = None,
    units: Annotated[int, Query(ge=1, le=999)] = 1,
) -> FeeLookupOut:
    """The fee a charge defaults to: the most specific schedule in force on the date of service
    (client, then the payer of the client's primary coverage, then standard)."""
    chosen = one_practice(actor, practice_id, Permission.ENTER_CHARGES, ask="name one")
    code = procedure.strip().upper()
    empty = FeeLookupOut(
        procedure_code=code or None,
        modifiers=modifiers,
        units=units,
        fee_cents=None,
        unit_cents=None,
        schedule_id=None,
        schedule_name=None,
        level=None,
        detail="name a procedure",
    )
    if not code:
        return empty
    quote = lookup_fee(
        db,
        actor=actor,
        practice_id=chosen,
        procedure_code=code,
        modifiers=modifiers,
        service_on=service_on or practice_today(db, chosen),
        client_id=client_id,
        units=units,
    )
    if quote is None:
        return empty.model_copy(update={"detail": "no fee schedule in force prices it: enter the fee"})
    return FeeLookupOut(
        procedure_code=quote.procedure_code,
        modifiers=quote.modifiers,
        units=quote.units,
        fee_cents=quote.amount_cents,
        unit_cents=quote.unit_cents,
        schedule_id=quote.schedule_id,
        schedule_name=quote.schedule_name,
        level=quote.level,
        detail=f"from the {quote.level} schedule {quote.schedule_name}",
    )
