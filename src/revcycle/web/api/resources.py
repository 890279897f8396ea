"""The read API: lists and details of sessions, clients, providers, payers, claims, payments,
work items and the audit log, plus the health check.

Each list takes ``limit`` (default 50, at most 500), ``offset`` and an optional
``practice_id`` (by default every practice where the caller holds the permission) and answers
``{"items": [...], "total": N}``. An id from another practice answers 404.

Every route declares the permission it needs with :func:`needs`, which puts it in the
OpenAPI document as ``x-permission``; tests/integration/test_access_matrix.py reads it from
the registered routes, so a new route is covered by the access matrix as soon as it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.domain.pipeline import STAGE_LABELS, PipelineStage
from revcycle.errors import InvalidInput
from revcycle.services import audit, queries
from revcycle.services import sessions as session_queries
from revcycle.services.actor import Actor
from revcycle.services.scoping import DEFAULT_LIMIT, MAX_LIMIT, practice_scopes
from revcycle.web.deps import DB, CurrentActor

router = APIRouter()

PERMISSION_KEY = "x-permission"

T = TypeVar("T")


def needs(permission: Permission) -> dict[str, Any]:
    """Route keyword arguments declaring the permission a route checks (read by the tests)."""
    return {"openapi_extra": {PERMISSION_KEY: permission.value}}


def one_practice(
    actor: Actor, practice_id: int | None, permission: Permission, *, ask: str = "say which one"
) -> int:
    """The practice a request acts for: the one given, or the caller's only one (``ask`` ends
    the refusal when the caller works for several)."""
    scopes = practice_scopes(actor, permission, practice_id)
    if len(scopes) > 1:
        raise InvalidInput(f"practice_id: you work for several practices; {ask}")
    return next(iter(scopes))


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size (at most 500)")]
Offset = Annotated[int, Query(ge=0, description="rows to skip")]
PracticeId = Annotated[int | None, Query(description="one practice; by default all of yours")]


class ListOut(BaseModel, Generic[T]):
    items: list[T]
    total: int


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- response models -----------------------------------------------------------------------------


class HealthOut(BaseModel):
    status: str
    database: str


class ChargeOut(Out):
    id: int
    procedure_code: str
    modifiers: str
    units: int
    fee_cents: int
    diagnosis_codes: list[str]


class ClaimEventOut(Out):
    id: int
    from_status: str | None
    to_status: str
    source: str
    detail: str
    created_at: datetime


class SessionClaimOut(BaseModel):
    id: int
    number: str
    status: str
    payer_name: str
    billed_cents: int
    events: list[ClaimEventOut]


class SessionOut(BaseModel):
    id: int
    practice_id: int
    client_id: int
    client_name: str
    provider_id: int
    provider_name: str
    starts_at: datetime
    service_on: date
    appointment_status: str
    note_status: str
    stage: PipelineStage
    stage_label: str
    charge_cents: int
    patient_balance_cents: int


class SessionDetailOut(SessionOut):
    charges: list[ChargeOut]
    claims: list[SessionClaimOut]


class ClientOut(Out):
    id: int
    practice_id: int
    first_name: str
    last_name: str
    date_of_birth: date | None
    sex: str
    city: str
    state: str
    phone: str
    email: str


class ProviderOut(Out):
    id: int
    practice_id: int
    first_name: str
    last_name: str
    credentials: str
    npi: str
    taxonomy_code: str
    is_active: bool


class PayerSettingsOut(BaseModel):
    practice_id: int
    billing_route: str
    portal_name: str | None
    timely_filing_days: int
    appeal_days: int
    expected_days_to_pay: int | None


class PayerOut(BaseModel):
    id: int
    name: str
    edi_payer_id: str
    kind: str
    settings: PayerSettingsOut


class PayerDetailOut(BaseModel):
    id: int
    name: str
    edi_payer_id: str
    kind: str
    practices: list[PayerSettingsOut]


class ClaimOut(BaseModel):
    id: int
    practice_id: int
    number: str
    client_id: int
    client_name: str
    payer_id: int
    payer_name: str
    status: str
    service_from_on: date
    service_to_on: date
    billed_cents: int
    balance_cents: int
    next_followup_on: date | None


class ClaimLineOut(Out):
    id: int
    line_number: int
    procedure_code: str
    modifiers: str
    units: int
    charge_cents: int
    service_on: date


class SubmissionOut(Out):
    id: int
    channel: str
    frequency: str
    submitted_at: datetime
    reference: str
    clearinghouse_reference: str
    payer_claim_control_number: str


class ClaimDetailOut(ClaimOut):
    provider_name: str
    frequency: str
    payer_claim_control_number: str
    lines: list[ClaimLineOut]
    submissions: list[SubmissionOut]
    events: list[ClaimEventOut]
    balances: dict[str, int]


class PaymentOut(BaseModel):
    id: int
    practice_id: int
    kind: str
    method: str
    amount_cents: int
    received_on: date
    reference: str
    payer_id: int | None
    payer_name: str
    client_id: int | None
    client_name: str


class WorkItemOut(Out):
    id: int
    practice_id: int
    kind: str
    severity: str
    status: str
    title: str
    detail: str
    due_on: date | None
    claim_id: int | None
    session_id: int | None
    client_id: int | None
    created_at: datetime


class AuditEntryOut(Out):
    id: int
    practice_id: int
    seq: int
    actor_user_id: int | None
    action: str
    entity: str
    entity_id: str
    client_ids: list[int]
    source_ip: str
    reason: str
    created_at: datetime


# --- conversions ---------------------------------------------------------------------------------


def _session_out(row: session_queries.SessionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "practice_id": row.practice_id,
        "client_id": row.client_id,
        "client_name": row.client_name,
        "provider_id": row.provider_id,
        "provider_name": row.provider_name,
        "starts_at": row.starts_at,
        "service_on": row.service_on,
        "appointment_status": row.appointment_status,
        "note_status": row.note_status,
        "stage": row.stage,
        "stage_label": STAGE_LABELS[row.stage],
        "charge_cents": row.charge_cents,
        "patient_balance_cents": row.patient_balance_cents,
    }


def _claim_out(claim: m.Claim, client_name: str, payer_name: str, balance_cents: int) -> dict[str, Any]:
    return {
        "id": claim.id,
        "practice_id": claim.practice_id,
        "number": claim.number,
        "client_id": claim.client_id,
        "client_name": client_name,
        "payer_id": claim.payer_id,
        "payer_name": payer_name,
        "status": claim.status,
        "service_from_on": claim.service_from_on,
        "service_to_on": claim.service_to_on,
        "billed_cents": claim.billed_cents,
        "balance_cents": balance_cents,
        "next_followup_on": claim.next_followup_on,
    }


def _payer_settings(row: queries.PracticePayerRow) -> PayerSettingsOut:
    return PayerSettingsOut(
        practice_id=row.settings.practice_id,
        billing_route=row.settings.billing_route,
        portal_name=row.portal.name if row.portal else None,
        timely_filing_days=row.settings.timely_filing_days,
        appeal_days=row.settings.appeal_days,
        expected_days_to_pay=row.settings.expected_days_to_pay,
    )


def _pairs(
    rows: Sequence[Any], practice: str = "practice_id", client: str = "client_id"
) -> list[tuple[int, int]]:
    pairs = [(getattr(row, practice), getattr(row, client)) for row in rows]
    return [(p, c) for p, c in pairs if c is not None]


# --- health ----------------------------------------------------------------------------------------


@router.get("/healthz", response_model=HealthOut, tags=["health"])
def healthz(request: Request) -> JSONResponse:
    """Liveness and database reachability; no sign-in needed and no data disclosed."""
    try:
        with request.app.state.session_factory() as db:
            db.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


# --- sessions --------------------------------------------------------------------------------------


@router.get(
    "/api/sessions", response_model=ListOut[SessionOut], tags=["sessions"], **needs(Permission.VIEW_SESSIONS)
)
def api_sessions(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    stage: PipelineStage | None = None,
    provider_id: int | None = None,
    client_id: int | None = None,
    month: Annotated[date | None, Query(description="any day of the month, e.g. 2026-03-01")] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    filters = session_queries.SessionFilters(
        stage=stage, provider_id=provider_id, client_id=client_id, month=month
    )
    page = session_queries.list_sessions(
        db, actor=actor, practice_id=practice_id, filters=filters, limit=limit, offset=offset
    )
    queries.record_client_reads(db, actor=actor, entity="session", clients=_pairs(page.items))
    return {"items": [_session_out(row) for row in page.items], "total": page.total}


@router.get(
    "/api/sessions/{session_id}",
    response_model=SessionDetailOut,
    tags=["sessions"],
    **needs(Permission.VIEW_SESSIONS),
)
def api_session(db: DB, actor: CurrentActor, session_id: int) -> dict[str, Any]:
    detail = session_queries.get_session_detail(db, actor=actor, session_id=session_id)
    queries.record_client_reads(db, actor=actor, entity="session", clients=_pairs([detail.row]))
    return {
        **_session_out(detail.row),
        "charges": [ChargeOut.model_validate(charge) for charge in detail.charges],
        "claims": [
            {
                "id": claim.id,
                "number": claim.number,
                "status": claim.status,
                "payer_name": claim.payer_name,
                "billed_cents": claim.billed_cents,
                "events": [ClaimEventOut.model_validate(event) for event in claim.events],
            }
            for claim in detail.claims
        ],
    }


# --- clients, providers, payers --------------------------------------------------------------------


@router.get(
    "/api/clients", response_model=ListOut[ClientOut], tags=["clients"], **needs(Permission.VIEW_CLIENTS)
)
def api_clients(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    search: str = "",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    page = queries.list_clients(
        db, actor=actor, practice_id=practice_id, search=search, limit=limit, offset=offset
    )
    queries.record_client_reads(db, actor=actor, entity="client", clients=_pairs(page.items, client="id"))
    return {"items": page.items, "total": page.total}


@router.get(
    "/api/clients/{client_id}", response_model=ClientOut, tags=["clients"], **needs(Permission.VIEW_CLIENTS)
)
def api_client(db: DB, actor: CurrentActor, client_id: int) -> m.Client:
    client = queries.get_client(db, actor=actor, client_id=client_id)
    queries.record_client_reads(db, actor=actor, entity="client", clients=[(client.practice_id, client.id)])
    return client


@router.get(
    "/api/providers",
    response_model=ListOut[ProviderOut],
    tags=["providers"],
    **needs(Permission.VIEW_PROVIDERS),
)
def api_providers(
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    page = queries.list_providers(db, actor=actor, practice_id=practice_id, limit=limit, offset=offset)
    return {"items": page.items, "total": page.total}


@router.get(
    "/api/providers/{provider_id}",
    response_model=ProviderOut,
    tags=["providers"],
    **needs(Permission.VIEW_PROVIDERS),
)
def api_provider(db: DB, actor: CurrentActor, provider_id: int) -> m.Provider:
    return queries.get_provider(db, actor=actor, provider_id=provider_id)


@router.get("/api/payers", response_model=ListOut[PayerOut], tags=["payers"], **needs(Permission.VIEW_PAYERS))
def api_payers(
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    page = queries.list_payers(db, actor=actor, practice_id=practice_id, limit=limit, offset=offset)
    items = [
        PayerOut(
            id=row.payer.id,
            name=row.payer.name,
            edi_payer_id=row.payer.edi_payer_id,
            kind=row.payer.kind,
            settings=_payer_settings(row),
        )
        for row in page.items
    ]
    return {"items": items, "total": page.total}


@router.get(
    "/api/payers/{payer_id}", response_model=PayerDetailOut, tags=["payers"], **needs(Permission.VIEW_PAYERS)
)
def api_payer(db: DB, actor: CurrentActor, payer_id: int) -> PayerDetailOut:
    payer, rows = queries.get_payer(db, actor=actor, payer_id=payer_id)
    return PayerDetailOut(
        id=payer.id,
        name=payer.name,
        edi_payer_id=payer.edi_payer_id,
        kind=payer.kind,
        practices=[_payer_settings(row) for row in rows],
    )


# --- claims, payments, work items ---------------------------------------------------------------------


@router.get("/api/claims", response_model=ListOut[ClaimOut], tags=["claims"], **needs(Permission.VIEW_CLAIMS))
def api_claims(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    status: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    page = queries.list_claims(
        db, actor=actor, practice_id=practice_id, status=status, limit=limit, offset=offset
    )
    queries.record_client_reads(
        db, actor=actor, entity="claim", clients=_pairs([row.claim for row in page.items])
    )
    items = [_claim_out(row.claim, row.client_name, row.payer_name, row.balance_cents) for row in page.items]
    return {"items": items, "total": page.total}


@router.get(
    "/api/claims/{claim_id}", response_model=ClaimDetailOut, tags=["claims"], **needs(Permission.VIEW_CLAIMS)
)
def api_claim(db: DB, actor: CurrentActor, claim_id: int) -> dict[str, Any]:
    detail = queries.get_claim_detail(db, actor=actor, claim_id=claim_id)
    claim = detail.claim
    queries.record_client_reads(
        db, actor=actor, entity="claim", clients=[(claim.practice_id, claim.client_id)]
    )
    return {
        **_claim_out(claim, detail.client_name, detail.payer_name, detail.balance_cents),
        "provider_name": detail.provider_name,
        "frequency": claim.frequency,
        "payer_claim_control_number": claim.payer_claim_control_number,
        "lines": [ClaimLineOut.model_validate(line) for line in detail.lines],
        "submissions": [SubmissionOut.model_validate(s) for s in detail.submissions],
        "events": [ClaimEventOut.model_validate(event) for event in detail.events],
        "balances": dict(detail.balances),
    }


@router.get(
    "/api/payments",
    response_model=ListOut[PaymentOut],
    tags=["payments"],
    **needs(Permission.VIEW_FINANCIALS),
)
def api_payments(
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    page = queries.list_payments(db, actor=actor, practice_id=practice_id, limit=limit, offset=offset)
    queries.record_client_reads(
        db, actor=actor, entity="payment", clients=_pairs([row.payment for row in page.items])
    )
    items = [
        PaymentOut(
            id=row.payment.id,
            practice_id=row.payment.practice_id,
            kind=row.payment.kind,
            method=row.payment.method,
            amount_cents=row.payment.amount_cents,
            received_on=row.payment.received_on,
            reference=row.payment.reference,
            payer_id=row.payment.payer_id,
            payer_name=row.payer_name,
            client_id=row.payment.client_id,
            client_name=row.client_name,
        )
        for row in page.items
    ]
    return {"items": items, "total": page.total}


@router.get(
    "/api/work-items", response_model=ListOut[WorkItemOut], tags=["work"], **needs(Permission.VIEW_WORK_QUEUE)
)
def api_work_items(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    severity: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    page = queries.list_work_items(
        db, actor=actor, practice_id=practice_id, severity=severity, limit=limit, offset=offset
    )
    queries.record_client_reads(db, actor=actor, entity="work_item", clients=_pairs(page.items))
    return {"items": page.items, "total": page.total}


def _utc(moment: datetime | None) -> datetime | None:
    """A timestamp given without a zone is read as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


# --- audit log ----------------------------------------------------------------------------------------


@router.get(
    "/api/audit-log",
    response_model=ListOut[AuditEntryOut],
    tags=["audit"],
    **needs(Permission.VIEW_AUDIT_LOG),
)
def api_audit_log(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    action: str | None = None,
    entity: str | None = None,
    user_id: int | None = None,
    client_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """One practice's log (the chain is per practice): name it when you administer several."""
    scopes = practice_scopes(actor, Permission.VIEW_AUDIT_LOG, practice_id)
    if len(scopes) > 1:
        raise InvalidInput("practice_id: you administer several practices; name one")
    filters = audit.AuditFilters(
        action=action,
        entity=entity,
        actor_user_id=user_id,
        client_id=client_id,
        since=_utc(since),
        until=_utc(until),
    )
    entries, total = audit.list_entries(
        db, actor=actor, practice_id=next(iter(scopes)), filters=filters, limit=limit, offset=offset
    )
    return {"items": entries, "total": total}
