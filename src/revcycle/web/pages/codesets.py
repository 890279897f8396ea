"""Admin pages for code sets (ICD-10-CM releases, NCCI tables, official CARC/RARC lists) and
the supervised billing compliance report.

``/settings/code-sets`` (``manage_practice``) lists the loaded releases and takes an
ICD-10-CM order file, an NCCI PTP file or an official CARC/RARC list through three forms
(posted with the CSRF token); a file that cannot be loaded is shown its reason (file, line,
column) and nothing is written.
``/reports/supervised-billing`` (``run_reports``) shows every claim billed under a
supervisor in a date range with each rule's result; ``?format=csv`` downloads the same.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput, RevcycleError
from revcycle.services import codesets, supervision
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

KIND_LABELS = {
    codesets.ICD10: "ICD-10-CM",
    codesets.NCCI: "NCCI PTP",
    "carc": "CARC list",
    "rarc": "RARC list",
}
MAX_CODE_LIST_BYTES = 5 * 1024 * 1024
DEFAULT_REPORT_DAYS = 90


def _page(ctx: PageContext, *, error: str = "", loaded: str = "", status_code: int = 200) -> Response:
    releases = codesets.list_releases(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id)
    return ctx.render(
        "codesets/code_sets.html",
        "settings",
        status_code=status_code,
        releases=releases,
        kind_labels=KIND_LABELS,
        error=error,
        loaded=loaded,
    )


@router.get("/settings/code-sets")
def code_sets(ctx: Ctx, loaded: str = "") -> Response:
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    return _page(ctx, loaded=loaded)


def _form_date(field: str, text: str, *, required: bool = True) -> date | None:
    if not text.strip():
        if required:
            raise InvalidInput(f"{field}: give a date")
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a date (YYYY-MM-DD)") from None


def _upload(file: UploadFile | str | None) -> StarletteUpload:
    # A form's file arrives as Starlette's UploadFile (FastAPI's is a subclass for declaring it).
    if not isinstance(file, StarletteUpload) or not file.filename:
        raise InvalidInput("file: choose the CMS file to load")
    return file


@router.post("/settings/code-sets/icd10cm")
async def load_icd10(
    ctx: Ctx,
    file: Annotated[UploadFile | str | None, File()] = None,
    name: Annotated[str, Form()] = "",
    effective_on: Annotated[str, Form()] = "",
    ends_on: Annotated[str, Form()] = "",
) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    try:
        upload = _upload(file)
        data = await upload.read()
        row = codesets.load_icd10_release(
            ctx.db,
            actor=ctx.actor,
            practice_id=ctx.practice.id,
            data=data,
            filename=upload.filename or "icd10cm_order.txt",
            name=name,
            effective_on=_form_date("effective_on", effective_on) or date.min,
            ends_on=_form_date("ends_on", ends_on) or date.max,
        )
    except RevcycleError as exc:
        return _page(ctx, error=exc.detail, status_code=exc.status_code)
    return RedirectResponse(f"/settings/code-sets?loaded={row.id}", status_code=303)


@router.post("/settings/code-sets/ncci")
def load_ncci(
    ctx: Ctx,
    file: Annotated[UploadFile | str | None, File()] = None,
    name: Annotated[str, Form()] = "",
    effective_on: Annotated[str, Form()] = "",
    ends_on: Annotated[str, Form()] = "",
) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    try:
        upload = _upload(file)
        with tempfile.TemporaryFile() as spool:
            shutil.copyfileobj(upload.file, spool)
            spool.seek(0)
            row = codesets.load_ncci_table(
                ctx.db,
                actor=ctx.actor,
                practice_id=ctx.practice.id,
                stream=spool,
                filename=upload.filename or "ptp.txt",
                name=name,
                effective_on=_form_date("effective_on", effective_on) or date.min,
                ends_on=_form_date("ends_on", ends_on, required=False),
            )
    except RevcycleError as exc:
        return _page(ctx, error=exc.detail, status_code=exc.status_code)
    return RedirectResponse(f"/settings/code-sets?loaded={row.id}", status_code=303)


@router.post("/settings/code-sets/adjustment-codes")
async def load_adjustment_codes(
    ctx: Ctx,
    file: Annotated[UploadFile | str | None, File()] = None,
    code_list: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    effective_on: Annotated[str, Form()] = "",
) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    try:
        upload = _upload(file)
        data = await upload.read(MAX_CODE_LIST_BYTES + 1)
        if len(data) > MAX_CODE_LIST_BYTES:
            raise InvalidInput(f"{upload.filename}: is larger than {MAX_CODE_LIST_BYTES // (1024 * 1024)} MB")
        row = codesets.load_adjustment_codes(
            ctx.db,
            actor=ctx.actor,
            practice_id=ctx.practice.id,
            data=data,
            filename=upload.filename or f"{code_list}.csv",
            code_list=code_list,
            name=name,
            effective_on=_form_date("effective_on", effective_on) or date.min,
        )
    except RevcycleError as exc:
        return _page(ctx, error=exc.detail, status_code=exc.status_code)
    return RedirectResponse(f"/settings/code-sets?loaded={row.id}", status_code=303)


@router.get("/reports/supervised-billing")
def supervised_billing(
    ctx: Ctx,
    from_on: Annotated[str, Query(alias="from")] = "",
    to_on: Annotated[str, Query(alias="to")] = "",
    format: str = "",
) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.RUN_REPORTS)
    error = ""
    try:
        end = _form_date("to", to_on, required=False) or ctx.today
        start = _form_date("from", from_on, required=False) or end - timedelta(days=DEFAULT_REPORT_DAYS)
        report = supervision.supervised_billing_report(
            ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, from_on=start, to_on=end
        )
    except InvalidInput as exc:
        error = exc.detail
        end = ctx.today
        start = end - timedelta(days=DEFAULT_REPORT_DAYS)
        report = supervision.supervised_billing_report(
            ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, from_on=start, to_on=end
        )
    if format == "csv" and not error:
        return Response(
            supervision.report_csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="supervised-billing-{start}-{end}.csv"'},
        )
    return ctx.render(
        "codesets/supervised_billing.html",
        "reports",
        status_code=422 if error else 200,
        report=report,
        error=error,
    )
