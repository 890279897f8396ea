"""X12 files exchanged by hand with a clearinghouse portal: upload what came back, download
what we wrote.

``POST /api/x12/files`` takes a multipart upload (``file``) of a 999 or 277CA and applies it
once (:func:`revcycle.services.x12_ingest.ingest`): 200 with what it did (``status`` "applied",
or "duplicate" for a file seen before), 422 naming segment position, segment id and element
when it cannot be read. ``POST /api/x12/validate`` reads a file through our codecs and says
what it holds, with pyx12's verdict when pyx12 is installed, storing nothing.
``POST /api/x12/batches`` writes an 837P batch of the given claims, or of every ready claim
not queued elsewhere (409 when none waits);
``GET /api/x12/batches/{batch_id}/file`` downloads the stored 837 (audited as a read of its
clients' records). Everything needs the ``submit_claims`` permission.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit, x12_batches, x12_ingest, x12_judge
from revcycle.services.actor import Actor
from revcycle.services.scoping import DEFAULT_LIMIT, practice_scopes, require_row_access
from revcycle.web.api.resources import Limit, ListOut, Offset, PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

__all__ = [
    "MAX_UPLOAD_BYTES",
    "ValidateOut",
    "inbound_files",
    "outbound_batches",
    "read_upload",
    "router",
    "validate_file",
]

router = APIRouter(tags=["x12"])

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
X12_MEDIA = "application/edi-x12"
CHANNEL = "clearinghouse"


class IngestOut(BaseModel):
    inbound_file_id: int
    status: str = Field(description='"applied", or "duplicate" for a file seen before')
    kind: str = Field(description='"999" or "277CA"')
    summary: dict[str, Any] = Field(
        description="claims acknowledged, accepted, rejected, unchanged, not applied, unmatched"
    )


class InboundFileOut(BaseModel):
    id: int
    practice_id: int
    kind: str
    filename: str
    sender_id: str
    interchange_control_number: str
    status: str
    received_at: datetime
    summary: dict[str, int] = Field(description="how many claims each outcome lists")


class BatchOut(BaseModel):
    id: int
    practice_id: int
    status: str = Field(description="sent, then the 999's verdict (accepted, rejected ...)")
    interchange_control_number: str
    group_control_number: str
    claim_count: int
    filename: str | None
    created_at: datetime
    file_url: str | None


class WriteBatchIn(BaseModel):
    claim_ids: list[int] = Field(
        default_factory=list, max_length=5000, description="claims to send; none: every ready claim"
    )


class WrittenOut(BaseModel):
    batch_id: int
    stored_file_id: int
    filename: str
    interchange_control_number: int
    group_control_number: int
    claim_numbers: list[str]
    file_url: str


class Pyx12ErrorOut(BaseModel):
    position: int | None = Field(description="1-based segment position in the file, when pyx12 says")
    segment_id: str
    element: str = Field(description='e.g. "CLM05-1"; "" when the error is not an element\'s')
    message: str


class Pyx12Out(BaseModel):
    ok: bool = Field(description="no error in the transaction sets pyx12 checked")
    checked: list[str] = Field(description='the sets it checked, e.g. "837 (005010X222A1)"')
    no_map: list[str] = Field(description="the sets pyx12 has no map for, so did not check")
    errors: list[Pyx12ErrorOut]
    stale: list[Pyx12ErrorOut] = Field(
        description="complaints from pyx12's outdated code lists (place of service 10), not counted"
    )

    @classmethod
    def of(cls, verdict: x12_judge.Pyx12Verdict) -> Pyx12Out:
        def out(error: x12_judge.Pyx12Error) -> Pyx12ErrorOut:
            return Pyx12ErrorOut(
                position=error.position,
                segment_id=error.segment_id,
                element=error.element,
                message=error.message,
            )

        return cls(
            ok=verdict.ok,
            checked=list(verdict.checked),
            no_map=list(verdict.no_map),
            errors=[out(error) for error in verdict.errors],
            stale=[out(error) for error in verdict.stale],
        )


class ValidateOut(BaseModel):
    filename: str
    interchanges: int
    transaction_sets: dict[str, int] = Field(description="count per set id and implementation")
    pyx12: Pyx12Out | None = Field(description="pyx12's verdict; null when pyx12 is not installed")


# --- shared with the page ------------------------------------------------------------------------


def read_upload(filename: str, data: bytes) -> bytes:
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"{filename}: is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if not data:
        raise InvalidInput(f"{filename}: the file is empty")
    return data


def validate_file(filename: str, data: bytes) -> ValidateOut:
    """Read the file with our readers (999, 277CA / 277, 837), then pyx12's verdict when it is
    installed; InvalidInput names where our readers find it broken."""
    interchanges = x12_ingest.read_file(filename, data)
    kinds = x12_ingest.transaction_sets(filename, interchanges)
    verdict = x12_judge.pyx12_verdict_of_file(data)
    return ValidateOut(
        filename=filename,
        interchanges=len(interchanges),
        transaction_sets=kinds,
        pyx12=Pyx12Out.of(verdict) if verdict is not None else None,
    )


def inbound_files(
    db: Session, practice_ids: list[int], *, limit: int = DEFAULT_LIMIT, offset: int = 0
) -> tuple[list[InboundFileOut], int]:
    where = m.X12InboundFile.practice_id.in_(practice_ids)
    total = db.scalar(select(func.count()).select_from(m.X12InboundFile).where(where)) or 0
    rows = db.execute(
        select(m.X12InboundFile, m.StoredFile.filename)
        .join(m.StoredFile, m.StoredFile.id == m.X12InboundFile.stored_file_id)
        .where(where)
        .order_by(m.X12InboundFile.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [_inbound_out(row, filename) for row, filename in rows], total


def _inbound_out(row: m.X12InboundFile, filename: str) -> InboundFileOut:
    kind = "277CA" if row.transaction_set == "277" and "X214" in row.implementation else row.transaction_set
    summary = {key: len(value) for key, value in (row.summary or {}).items() if isinstance(value, list)}
    return InboundFileOut(
        id=row.id,
        practice_id=row.practice_id,
        kind=kind,
        filename=filename,
        sender_id=row.sender_id,
        interchange_control_number=row.interchange_control_number,
        status=row.status,
        received_at=row.created_at,
        summary=summary,
    )


def outbound_batches(
    db: Session, practice_ids: list[int], *, limit: int = DEFAULT_LIMIT, offset: int = 0
) -> tuple[list[BatchOut], int]:
    where = (m.SubmissionBatch.practice_id.in_(practice_ids), m.SubmissionBatch.channel == CHANNEL)
    total = db.scalar(select(func.count()).select_from(m.SubmissionBatch).where(*where)) or 0
    claim_count = (
        select(func.count())
        .select_from(m.Submission)
        .where(m.Submission.batch_id == m.SubmissionBatch.id)
        .scalar_subquery()
    )
    rows = db.execute(
        select(m.SubmissionBatch, claim_count, m.StoredFile.filename)
        .outerjoin(m.StoredFile, m.StoredFile.id == m.SubmissionBatch.stored_file_id)
        .where(*where)
        .order_by(m.SubmissionBatch.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [_batch_out(batch, int(count), filename) for batch, count, filename in rows], total


def _batch_out(batch: m.SubmissionBatch, claim_count: int, filename: str | None) -> BatchOut:
    return BatchOut(
        id=batch.id,
        practice_id=batch.practice_id,
        status=batch.status,
        interchange_control_number=batch.interchange_control_number,
        group_control_number=batch.group_control_number,
        claim_count=claim_count,
        filename=filename,
        created_at=batch.created_at,
        file_url=f"/api/x12/batches/{batch.id}/file" if batch.stored_file_id else None,
    )


def write_ready_or_given(
    db: Session, actor: Actor, practice_id: int, claim_ids: list[int]
) -> x12_batches.WrittenBatch:
    ids = claim_ids or x12_batches.ready_claim_ids(db, practice_id)
    if not ids:
        raise Conflict("no ready claim waits to be sent")
    return x12_batches.write_batch(db, actor=actor, practice_id=practice_id, claim_ids=ids)


def batch_file(db: Session, actor: Actor, batch_id: int) -> tuple[str, bytes]:
    """The batch's stored 837 (name, bytes); reading it is audited as a read of its clients."""
    batch = db.get(m.SubmissionBatch, batch_id)
    if batch is None or batch.channel != CHANNEL:
        raise NotFound("not found")
    require_row_access(actor, batch.practice_id, Permission.SUBMIT_CLAIMS)
    stored = db.get(m.StoredFile, batch.stored_file_id) if batch.stored_file_id else None
    if stored is None:
        raise NotFound(f"batch {batch.id} has no file yet")
    client_ids = set(
        db.scalars(
            select(m.Claim.client_id)
            .join(m.Submission, m.Submission.claim_id == m.Claim.id)
            .where(m.Submission.batch_id == batch.id)
        )
    )
    audit.record_read(
        db,
        actor=actor,
        practice_id=batch.practice_id,
        entity="x12_batch_file",
        client_ids=client_ids,
        reason=f"download {stored.filename}",
    )
    return stored.filename, stored.content


def _practice(actor: Actor, practice_id: int | None) -> int:
    return one_practice(actor, practice_id, Permission.SUBMIT_CLAIMS, ask="say which one this is for")


# --- routes -------------------------------------------------------------------------------------


@router.post("/api/x12/files", response_model=IngestOut, **needs(Permission.SUBMIT_CLAIMS))
async def api_upload_file(
    *,
    db: DB,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="a 999 or 277CA file")],
    practice_id: PracticeId = None,
    form_practice_id: Annotated[int | None, Form(alias="practice_id")] = None,
) -> IngestOut:
    """Apply a 999 or 277CA to the claims it answers, once per file (422 names where it breaks)."""
    practice = _practice(actor, form_practice_id if form_practice_id is not None else practice_id)
    filename = file.filename or "upload.x12"
    data = read_upload(filename, await file.read(MAX_UPLOAD_BYTES + 1))
    result = x12_ingest.ingest(db, actor=actor, practice_id=practice, filename=filename, data=data)
    return IngestOut(
        inbound_file_id=result.inbound_file_id, status=result.status, kind=result.kind, summary=result.summary
    )


@router.get("/api/x12/files", response_model=ListOut[InboundFileOut], **needs(Permission.SUBMIT_CLAIMS))
def api_list_files(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The X12 files received, newest first: kind, when, status and counts of claims by outcome."""
    practices = list(practice_scopes(actor, Permission.SUBMIT_CLAIMS, practice_id))
    items, total = inbound_files(db, practices, limit=limit, offset=offset)
    return {"items": items, "total": total}


@router.post("/api/x12/validate", response_model=ValidateOut, **needs(Permission.SUBMIT_CLAIMS))
async def api_validate_file(
    *,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="any X12 file: 999, 277CA, 277, 837")],
    practice_id: PracticeId = None,
) -> ValidateOut:
    """Check a file's structure with our readers, and give pyx12's verdict (``pyx12``, null when
    it is not installed); nothing is stored. 422 when our readers refuse the file."""
    _practice(actor, practice_id)
    filename = file.filename or "upload.x12"
    data = read_upload(filename, await file.read(MAX_UPLOAD_BYTES + 1))
    return await run_in_threadpool(validate_file, filename, data)  # pyx12 takes its time


@router.post("/api/x12/batches", response_model=WrittenOut, **needs(Permission.SUBMIT_CLAIMS))
def api_write_batch(
    db: DB, actor: CurrentActor, body: WriteBatchIn, practice_id: PracticeId = None
) -> WrittenOut:
    """Write the given (or every ready) claim as one 837P batch and record it sent; 409 when none is ready."""
    written = write_ready_or_given(db, actor, _practice(actor, practice_id), body.claim_ids)
    return WrittenOut(
        batch_id=written.batch_id,
        stored_file_id=written.stored_file_id,
        filename=written.filename,
        interchange_control_number=written.interchange_control_number,
        group_control_number=written.group_control_number,
        claim_numbers=list(written.claim_numbers),
        file_url=f"/api/x12/batches/{written.batch_id}/file",
    )


@router.get("/api/x12/batches", response_model=ListOut[BatchOut], **needs(Permission.SUBMIT_CLAIMS))
def api_list_batches(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Outbound clearinghouse batches, newest first, with control numbers, claim count and status."""
    practices = list(practice_scopes(actor, Permission.SUBMIT_CLAIMS, practice_id))
    items, total = outbound_batches(db, practices, limit=limit, offset=offset)
    return {"items": items, "total": total}


@router.get(
    "/api/x12/batches/{batch_id}/file",
    response_class=Response,
    responses={200: {"content": {X12_MEDIA: {"schema": {"type": "string", "format": "binary"}}}}},
    **needs(Permission.SUBMIT_CLAIMS),
)
def api_batch_file(db: DB, actor: CurrentActor, batch_id: int) -> Response:
    """The batch's 837 as written, to upload to the clearinghouse's portal (audited)."""
    filename, content = batch_file(db, actor, batch_id)
    return Response(
        content=content,
        media_type=X12_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
