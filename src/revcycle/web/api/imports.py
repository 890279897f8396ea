"""The imports API: upload a CSV into a staged batch, preview its rows, commit or discard it,
keep the practice's saved column mappings, and work the review queue of the flags imports
raise.

``POST /api/imports`` takes a multipart upload (``file``, optional ``format`` — auto,
simplepractice, attendance, ar_aging, client_details, client_demographics, filed_claims — or
``mapping`` (a saved column mapping's name), and ``practice_id`` when the caller works for
several practices). A file that cannot be imported answers 422 ``{"error", "detail"}`` naming
file, row, column and value; an unknown format also lists guessed mappings in ``problems``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel, Field

from revcycle.adapters.csv import ImportFormat
from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.services import queries
from revcycle.services.actor import Actor
from revcycle.services.imports import batches, review
from revcycle.services.imports.flags import RULES
from revcycle.services.scoping import DEFAULT_LIMIT
from revcycle.web.api.resources import Limit, ListOut, Offset, PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["imports"])

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
_FORMAT_WORDS = {"auto": None, "ar-aging": ImportFormat.AR_AGING, **{f.value: f for f in ImportFormat}}


class BatchOut(BaseModel):
    id: int
    practice_id: int
    format: str
    filename: str
    status: str
    committed: bool
    rows: int
    new: int
    updated: int
    unchanged: int
    flagged: int
    rejected: int
    missing_sessions: int
    written: dict[str, int] = Field(
        description="what committing wrote, by kind of row (sessions, charges, clients, flags ...); "
        "empty until committed"
    )
    covers_from_on: str | None
    covers_to_on: str | None
    created_at: datetime
    decided_at: datetime | None
    rows_url: str


class RowOut(BaseModel):
    id: int
    row_number: int
    outcome: str
    detail: dict[str, Any]
    session_id: int | None
    claim_id: int | None


class FlagOut(BaseModel):
    id: int
    practice_id: int
    rule: str
    title: str
    detail: str
    severity: str
    status: str
    holds_billing: bool
    session_id: int | None
    client_id: int | None
    provider_id: int | None
    payer_id: int | None
    client_name: str | None
    provider_name: str | None
    payer_name: str | None
    starts_at: datetime | None
    resolutions: list[str]


class GroupOut(BaseModel):
    practice_id: int
    rule: str
    title: str
    subject: str | None = Field(description="the payer, clinician ... the title names, if any")
    count: int
    waiting: int = Field(description="acknowledged, waiting for the next import")
    severity: str
    holds_billing: bool
    resolutions: list[str]
    bulk_resolutions: list[str] = Field(description="resolutions that settle the whole group at once")
    flags_url: str


class GroupResolveIn(BaseModel):
    rule: str = Field(max_length=60)
    title: str = Field(max_length=200)
    resolution: str = Field(max_length=60)
    note: str = Field(default="", max_length=2000)


class GroupResolvedOut(BaseModel):
    rule: str
    title: str
    resolution: str
    resolved: int
    work_item_ids: list[int]


class MappingOut(BaseModel):
    id: int
    practice_id: int
    name: str
    target: str
    columns: dict[str, str] = Field(description="target field -> the source file's column header")
    saved_by_user_id: int | None
    saved_by: str | None
    saved_at: datetime


class MappingIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    target: str = Field(max_length=40, description="the format the mapped file is read as")
    columns: dict[str, str] = Field(description="target field -> the source file's column header")


class GuessOut(BaseModel):
    target: str
    columns: dict[str, str]
    missing_required: list[str]


class SuggestionOut(BaseModel):
    filename: str
    header: list[str]
    guesses: list[GuessOut] = Field(description="guessed mappings, most complete first")
    saved: list[MappingOut] = Field(description="saved mappings whose columns this header has")


class ResolveIn(BaseModel):
    resolution: str = Field(max_length=60)
    note: str = Field(default="", max_length=2000)
    value: str = Field(
        default="", max_length=100, description="payer id (map_to_payer), member id (add_member_id)"
    )


def batch_out(batch: m.ImportBatch) -> BatchOut:
    counts = batch.counts or {}
    return BatchOut(
        id=batch.id,
        practice_id=batch.practice_id,
        format=batch.format,
        filename=batch.filename,
        status=batch.status,
        committed=batch.status == "committed",
        rows=counts.get("rows", 0),
        new=counts.get("new", 0),
        updated=counts.get("updated", 0),
        unchanged=counts.get("unchanged", 0),
        flagged=counts.get("flagged", 0),
        rejected=counts.get("rejected", 0),
        missing_sessions=counts.get("missing_sessions", 0),
        written=batches.written_counts(batch),
        covers_from_on=batch.covers_from_on.isoformat() if batch.covers_from_on else None,
        covers_to_on=batch.covers_to_on.isoformat() if batch.covers_to_on else None,
        created_at=batch.created_at,
        decided_at=batch.decided_at,
        rows_url=f"/api/imports/{batch.id}/rows",
    )


def _format(word: str | None) -> ImportFormat | None:
    if word is None or not word.strip():
        return None
    key = word.strip().lower()
    if key not in _FORMAT_WORDS:
        raise InvalidInput(f"format: {word!r} is not one of {', '.join(sorted(_FORMAT_WORDS))}")
    return _FORMAT_WORDS[key]


def _target(word: str | None) -> ImportFormat | None:
    target = _format(word)
    if word and word.strip() and target is None:  # "auto"
        raise InvalidInput("target: name the format the file is to be read as")
    return target


def _one_practice(actor: Actor, practice_id: int | None) -> int:
    return one_practice(actor, practice_id, Permission.ENTER_CHARGES, ask="say which one this file is for")


@router.post("/api/imports", response_model=BatchOut, **needs(Permission.ENTER_CHARGES))
async def api_stage_import(
    *,
    db: DB,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="the CSV export")],
    format: Annotated[str | None, Form(description="auto (default) or a format name")] = None,
    mapping: Annotated[str | None, Form(description="a saved column mapping's name")] = None,
    practice_id: PracticeId = None,
    form_practice_id: Annotated[int | None, Form(alias="practice_id")] = None,
) -> BatchOut:
    """Stage an upload: parse, match and preview; nothing live changes until commit."""
    practice = _one_practice(actor, form_practice_id if form_practice_id is not None else practice_id)
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"{file.filename}: is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    batch = batches.stage_import(
        db,
        actor=actor,
        practice_id=practice,
        filename=file.filename or "upload.csv",
        data=data,
        format=_format(format),
        mapping_name=mapping.strip() if mapping and mapping.strip() else None,
    )
    return batch_out(batch)


# --- saved column mappings ----------------------------------------------------------------------


def _mapping_out(saved: batches.SavedMapping) -> MappingOut:
    return MappingOut.model_validate(saved, from_attributes=True)


@router.get("/api/import-mappings", response_model=ListOut[MappingOut], **needs(Permission.ENTER_CHARGES))
def api_list_mappings(db: DB, actor: CurrentActor, practice_id: PracticeId = None) -> dict[str, Any]:
    """The saved column mappings (name, target format, columns, who saved it and when)."""
    items = batches.list_mappings(db, actor=actor, practice_id=practice_id)
    return {"items": [_mapping_out(saved) for saved in items], "total": len(items)}


@router.post("/api/import-mappings/suggest", response_model=SuggestionOut, **needs(Permission.ENTER_CHARGES))
async def api_suggest_mapping(
    *,
    db: DB,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="the CSV, or only its header row")],
    target: Annotated[str | None, Form(description="a format to guess for (default: every one)")] = None,
    practice_id: PracticeId = None,
) -> SuggestionOut:
    """Guess which column holds what for a file of a new source; nothing is saved."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"{file.filename}: is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    found = batches.mapping_suggestion(
        db,
        actor=actor,
        data=data,
        filename=file.filename or "upload.csv",
        target=_target(target),
        practice_id=practice_id,
    )
    return SuggestionOut(
        filename=found.filename,
        header=found.header,
        guesses=[
            GuessOut(target=g.target.value, columns=g.columns, missing_required=g.missing_required)
            for g in found.guesses
        ],
        saved=[_mapping_out(saved) for saved in found.saved],
    )


@router.post("/api/import-mappings", response_model=MappingOut, **needs(Permission.ENTER_CHARGES))
def api_save_mapping(
    db: DB, actor: CurrentActor, body: MappingIn, practice_id: PracticeId = None
) -> MappingOut:
    """Save a mapping under its name, replacing one of the same name (audited)."""
    target = _target(body.target)
    if target is None:
        raise InvalidInput("target: name the format the file is to be read as")
    practice = _one_practice(actor, practice_id)
    saved = batches.save_mapping(
        db, actor=actor, practice_id=practice, name=body.name, target=target, columns=body.columns
    )
    return _mapping_out(batches.find_mapping(db, actor=actor, name=saved.name, practice_id=practice))


@router.get("/api/import-mappings/{name:path}", response_model=MappingOut, **needs(Permission.ENTER_CHARGES))
def api_get_mapping(db: DB, actor: CurrentActor, name: str, practice_id: PracticeId = None) -> MappingOut:
    """One saved mapping by name (``practice_id`` when several of your practices have it)."""
    return _mapping_out(batches.find_mapping(db, actor=actor, name=name, practice_id=practice_id))


# --- batches --------------------------------------------------------------------------------------


@router.get("/api/imports", response_model=ListOut[BatchOut], **needs(Permission.ENTER_CHARGES))
def api_list_imports(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    status: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    page = batches.list_batches(
        db, actor=actor, practice_id=practice_id, status=status, limit=limit, offset=offset
    )
    return {"items": [batch_out(b) for b in page.items], "total": page.total}


@router.get("/api/imports/{batch_id}", response_model=BatchOut, **needs(Permission.ENTER_CHARGES))
def api_get_import(db: DB, actor: CurrentActor, batch_id: int) -> BatchOut:
    return batch_out(batches.get_batch(db, actor=actor, batch_id=batch_id))


@router.get("/api/imports/{batch_id}/rows", response_model=ListOut[RowOut], **needs(Permission.ENTER_CHARGES))
def api_import_rows(
    *,
    db: DB,
    actor: CurrentActor,
    batch_id: int,
    outcome: Annotated[str | None, Query(description="new, updated, unchanged, flagged or rejected")] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The preview: each row's outcome with its reasons and field-level differences."""
    page = batches.batch_rows(db, actor=actor, batch_id=batch_id, outcome=outcome, limit=limit, offset=offset)
    session_ids = [row.session_id for row in page.items if row.session_id is not None]
    if session_ids:
        clients = db.execute(
            m.ServiceSession.__table__.select()
            .with_only_columns(m.ServiceSession.practice_id, m.ServiceSession.client_id)
            .where(m.ServiceSession.id.in_(session_ids))
        ).all()
        queries.record_client_reads(
            db, actor=actor, entity="import_row", clients=[(p, c) for p, c in clients]
        )
    return {
        "items": [RowOut.model_validate(row, from_attributes=True) for row in page.items],
        "total": page.total,
    }


@router.post("/api/imports/{batch_id}/commit", response_model=BatchOut, **needs(Permission.ENTER_CHARGES))
def api_commit_import(db: DB, actor: CurrentActor, batch_id: int) -> BatchOut:
    """Apply the staged batch, all rows or none; ``written`` says what it wrote."""
    return batch_out(batches.commit_import(db, actor=actor, batch_id=batch_id))


@router.post("/api/imports/{batch_id}/discard", response_model=BatchOut, **needs(Permission.ENTER_CHARGES))
def api_discard_import(db: DB, actor: CurrentActor, batch_id: int) -> BatchOut:
    return batch_out(batches.discard_import(db, actor=actor, batch_id=batch_id))


def _flag_out(view: review.FlagView) -> FlagOut:
    item = view.item
    return FlagOut(
        id=item.id,
        practice_id=item.practice_id,
        rule=item.rule,
        title=item.title,
        detail=item.detail,
        severity=item.severity,
        status=item.status,
        holds_billing=item.holds_billing,
        session_id=item.session_id,
        client_id=item.client_id,
        provider_id=item.provider_id,
        payer_id=item.payer_id,
        client_name=view.client_name,
        provider_name=view.provider_name,
        payer_name=view.payer_name,
        starts_at=view.starts_at,
        resolutions=list(view.resolutions),
    )


@router.get(
    "/api/review", response_model=ListOut[FlagOut], tags=["work"], **needs(Permission.VIEW_WORK_QUEUE)
)
def api_review_queue(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    rule: str | None = None,
    title: Annotated[str | None, Query(description="one group's title (with rule)")] = None,
    session_id: int | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Open import flags, those holding billing first, with their one-click resolutions."""
    page = review.review_queue(
        db,
        actor=actor,
        practice_id=practice_id,
        rule=rule,
        title=title,
        session_id=session_id,
        limit=limit,
        offset=offset,
    )
    queries.record_client_reads(
        db,
        actor=actor,
        entity="work_item",
        clients=[(v.item.practice_id, v.item.client_id) for v in page.items if v.item.client_id],
    )
    return {"items": [_flag_out(v) for v in page.items], "total": page.total}


@router.post(
    "/api/review/{work_item_id}/resolve",
    response_model=FlagOut,
    tags=["work"],
    **needs(Permission.ENTER_CHARGES),
)
def api_resolve_flag(db: DB, actor: CurrentActor, work_item_id: int, body: ResolveIn) -> FlagOut:
    item = review.resolve_flag(
        db,
        actor=actor,
        work_item_id=work_item_id,
        resolution=body.resolution,
        note=body.note,
        value=body.value,
    )
    resolutions = RULES[item.rule].resolutions if item.rule in RULES else ()
    return _flag_out(review.FlagView(item, resolutions, None, None, None))


# Registered after the single-flag routes: the access matrix walks routes in this order, and a
# group's resolution would leave the single resolution nothing to settle.
def _group_out(group: review.FlagGroup) -> GroupOut:
    query = urlencode({"practice_id": group.practice_id, "rule": group.rule, "title": group.title})
    return GroupOut(
        practice_id=group.practice_id,
        rule=group.rule,
        title=group.title,
        subject=group.subject,
        count=group.count,
        waiting=group.waiting,
        severity=group.severity,
        holds_billing=group.holds_billing,
        resolutions=list(group.resolutions),
        bulk_resolutions=list(group.bulk_resolutions),
        flags_url=f"/api/review?{query}",
    )


@router.get(
    "/api/review-groups", response_model=ListOut[GroupOut], tags=["work"], **needs(Permission.VIEW_WORK_QUEUE)
)
def api_review_groups(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    rule: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The review queue one row per group of open flags (rule, and the subject a title names),
    with the count; ``flags_url`` lists a group's flags."""
    page = review.review_groups(
        db, actor=actor, practice_id=practice_id, rule=rule, limit=limit, offset=offset
    )
    return {"items": [_group_out(group) for group in page.items], "total": page.total}


@router.post(
    "/api/review-groups/resolve",
    response_model=GroupResolvedOut,
    tags=["work"],
    **needs(Permission.ENTER_CHARGES),
)
def api_resolve_group(
    db: DB, actor: CurrentActor, body: GroupResolveIn, practice_id: PracticeId = None
) -> GroupResolvedOut:
    """Settle every open flag of a group with one bulk resolution (each audited on its own)."""
    practice = _one_practice(actor, practice_id)
    settled = review.resolve_group(
        db,
        actor=actor,
        practice_id=practice,
        rule=body.rule,
        title=body.title,
        resolution=body.resolution,
        note=body.note,
    )
    return GroupResolvedOut(
        rule=body.rule,
        title=body.title,
        resolution=body.resolution,
        resolved=len(settled),
        work_item_ids=[item.id for item in settled],
    )
