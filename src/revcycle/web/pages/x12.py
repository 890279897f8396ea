"""The X12 files page: files exchanged by hand with a clearinghouse portal.

Upload a 999, 277CA or 835 that came back (shown what it did: applied, duplicate, or refused with
the reason naming where the file breaks, never an error page; an 835 links to each payment's
posting report), check any X12 file without
storing it (our readers, then pyx12's verdict when it is installed), see the files received,
the 837P batches written with their 999 status and a download link, and write a batch of
every ready claim. Everything needs ``submit_claims``; forms post with the session's CSRF token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response
from starlette.datastructures import UploadFile as StarletteUpload

from revcycle.domain.permissions import Permission
from revcycle.errors import RevcycleError
from revcycle.services import x12_ingest
from revcycle.web.api.x12 import (
    MAX_UPLOAD_BYTES,
    ValidateOut,
    inbound_files,
    outbound_batches,
    read_upload,
    validate_file,
    write_ready_or_given,
)
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

LISTED = 25


def _require(ctx: PageContext) -> None:
    ctx.actor.require(ctx.practice.id, Permission.SUBMIT_CLAIMS)


def _page(
    ctx: PageContext,
    *,
    result: x12_ingest.IngestResult | None = None,
    filename: str = "",
    error: str = "",
    written: str = "",
    validation: ValidateOut | None = None,
    refused: str = "",
    status_code: int = 200,
) -> Response:
    files, files_total = inbound_files(ctx.db, [ctx.practice.id], limit=LISTED)
    batches, batches_total = outbound_batches(ctx.db, [ctx.practice.id], limit=LISTED)
    return ctx.render(
        "x12/files.html",
        "x12",
        result=result,
        filename=filename,
        error=error,
        written=written,
        validation=validation,
        refused=refused,
        files=files,
        files_total=files_total,
        batches=batches,
        batches_total=batches_total,
        max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        status_code=status_code,
    )


@router.get("/x12")
def x12_page(ctx: Ctx) -> Response:
    _require(ctx)
    return _page(ctx)


@router.post("/x12/files")
def upload(ctx: Ctx, file: Annotated[UploadFile | str | None, File()] = None) -> Response:
    """Apply an uploaded 999, 277CA or 835; a file that cannot be applied is shown its reason."""
    _require(ctx)
    if not isinstance(file, StarletteUpload) or not file.filename:
        return _page(ctx, error="Choose a 999, 277CA or 835 file to upload.", status_code=422)
    filename = file.filename
    try:
        data = read_upload(filename, file.file.read(MAX_UPLOAD_BYTES + 1))
        with ctx.db.begin_nested():  # a refusal leaves nothing behind
            result = x12_ingest.ingest(
                ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, filename=filename, data=data
            )
    except RevcycleError as refused:
        return _page(ctx, filename=filename, error=refused.detail, status_code=refused.status_code)
    return _page(ctx, result=result, filename=filename)


@router.post("/x12/validate")
def validate(ctx: Ctx, file: Annotated[UploadFile | str | None, File()] = None) -> Response:
    """Check any X12 file with our readers and pyx12 (when installed); nothing is stored."""
    _require(ctx)
    if not isinstance(file, StarletteUpload) or not file.filename:
        return _page(ctx, refused="Choose an X12 file to check.", status_code=422)
    filename = file.filename
    try:
        validation = validate_file(filename, read_upload(filename, file.file.read(MAX_UPLOAD_BYTES + 1)))
    except RevcycleError as refused:
        return _page(ctx, filename=filename, refused=refused.detail, status_code=refused.status_code)
    return _page(ctx, filename=filename, validation=validation)


@router.post("/x12/batches")
def write_batch(ctx: Ctx) -> Response:
    """Write every ready claim as one 837P batch; nothing ready (or a refusal) is shown, not raised."""
    _require(ctx)
    try:
        with ctx.db.begin_nested():
            written = write_ready_or_given(ctx.db, ctx.actor, ctx.practice.id, [])
    except RevcycleError as refused:
        return _page(ctx, error=refused.detail, status_code=refused.status_code)
    count = len(written.claim_ids)
    return _page(
        ctx,
        written=f"{written.filename}: {count} claim{'s' if count != 1 else ''} written and recorded as sent.",
    )
