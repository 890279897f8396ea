"""Fee schedules and payer contracts pages (``manage_fees``: billing and administrators).

``/fees`` lists the practice's fee schedules and contracts — every version with its dates, the
one in force today marked — and takes a new schedule or contract (its rates from a rate table
CSV, or added later). ``/fees/schedules/{id}`` and ``/fees/contracts/{id}`` show a version's
rates, end it (or extend a contract), take a changed rate table as a CSV (a new version from
the date given; the old one ends the day before) and export the table as the same CSV. A
refused form or file is shown its reasons (row and column) and nothing is written.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from revcycle.domain.permissions import Permission
from revcycle.domain.rate_tables import RateRow
from revcycle.errors import InvalidInput, NotFound, RevcycleError
from revcycle.services import fee_tables
from revcycle.services.fee_tables import CONTRACT, SCHEDULE, Kind
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

KINDS: dict[str, Kind] = {"schedules": SCHEDULE, "contracts": CONTRACT}
SEGMENT = {kind: segment for segment, kind in KINDS.items()}
MAX_CSV_BYTES = 5 * 1024 * 1024
ACTIVE = "fees"


def _kind(segment: str) -> Kind:
    kind = KINDS.get(segment)
    if kind is None:
        raise NotFound("not found")
    return kind


def _form_date(field: str, text: str, *, required: bool = True) -> date | None:
    if not text.strip():
        if required:
            raise InvalidInput(f"{field}: give a date")
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a date (YYYY-MM-DD)") from None


def _form_id(field: str, text: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not an id") from None


async def _file_rates(file: UploadFile | str | None, *, required: bool) -> tuple[list[RateRow], str]:
    """The rates of an uploaded rate table CSV (none when no file was chosen and none needed)."""
    if not isinstance(file, StarletteUpload) or not file.filename:
        if required:
            raise InvalidInput("file: choose the rate table CSV")
        return [], "rates"
    data = await file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput(f"{file.filename}: is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")
    return fee_tables.read_rates_csv(data, file.filename), file.filename


def _index(ctx: PageContext, *, error: str = "", form: str = "", status_code: int = 200) -> Response:
    practice_id = ctx.practice.id
    return ctx.render(
        "fees/index.html",
        ACTIVE,
        status_code=status_code,
        schedules=fee_tables.list_schedules(ctx.db, actor=ctx.actor, practice_id=practice_id),
        contracts=fee_tables.list_contracts(ctx.db, actor=ctx.actor, practice_id=practice_id),
        payers=fee_tables.practice_payers(ctx.db, actor=ctx.actor, practice_id=practice_id),
        today=ctx.today,
        error=error,
        form=form,
    )


@router.get("/fees")
def fees(ctx: Ctx) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_FEES)
    return _index(ctx)


@router.post("/fees/schedules")
async def create_schedule(
    *,
    ctx: Ctx,
    name: Annotated[str, Form()] = "",
    payer_id: Annotated[str, Form()] = "",
    effective_on: Annotated[str, Form()] = "",
    ends_on: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | str | None, File()] = None,
) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_FEES)
    try:
        rates, source = await _file_rates(file, required=False)
        row = fee_tables.create_schedule(
            ctx.db,
            actor=ctx.actor,
            practice_id=ctx.practice.id,
            name=name,
            payer_id=_form_id("payer_id", payer_id),
            effective_on=_form_date("effective_on", effective_on) or date.min,
            ends_on=_form_date("ends_on", ends_on, required=False),
            rates=rates,
            source=source,
        )
    except RevcycleError as exc:
        return _index(ctx, error=exc.detail, form="schedule", status_code=exc.status_code)
    return RedirectResponse(f"/fees/schedules/{row.id}?saved=1", status_code=303)


@router.post("/fees/contracts")
async def create_contract(
    *,
    ctx: Ctx,
    number: Annotated[str, Form()] = "",
    payer_id: Annotated[str, Form()] = "",
    starts_on: Annotated[str, Form()] = "",
    ends_on: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | str | None, File()] = None,
) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_FEES)
    try:
        rates, source = await _file_rates(file, required=False)
        payer = _form_id("payer_id", payer_id)
        if payer is None:
            raise InvalidInput("payer_id: choose the payer")
        row = fee_tables.create_contract(
            ctx.db,
            actor=ctx.actor,
            practice_id=ctx.practice.id,
            payer_id=payer,
            number=number,
            starts_on=_form_date("starts_on", starts_on) or date.min,
            ends_on=_form_date("ends_on", ends_on, required=False),
            rates=rates,
            source=source,
        )
    except RevcycleError as exc:
        return _index(ctx, error=exc.detail, form="contract", status_code=exc.status_code)
    return RedirectResponse(f"/fees/contracts/{row.id}?saved=1", status_code=303)


def _table(
    ctx: PageContext, kind: Kind, table_id: int, *, error: str = "", saved: str = "", status_code: int = 200
) -> Response:
    view = fee_tables.get_table(ctx.db, actor=ctx.actor, kind=kind, table_id=table_id)
    if view.practice_id != ctx.practice.id:
        raise NotFound("not found")  # another of the user's practices: switch to it first
    return ctx.render(
        "fees/table.html",
        ACTIVE,
        status_code=status_code,
        table=view,
        segment=SEGMENT[kind],
        noun="fee schedule" if kind == SCHEDULE else "payer contract",
        today=ctx.today,
        error=error,
        saved=saved,
    )


@router.get("/fees/{segment}/{table_id}")
def table(ctx: Ctx, segment: str, table_id: int, saved: str = "") -> Response:
    return _table(ctx, _kind(segment), table_id, saved=saved)


@router.get("/fees/{segment}/{table_id}/rates.csv")
def export_rates(ctx: Ctx, segment: str, table_id: int) -> Response:
    filename, text = fee_tables.export_rates_csv(
        ctx.db, actor=ctx.actor, kind=_kind(segment), table_id=table_id
    )
    return Response(
        text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.post("/fees/{segment}/{table_id}/end")
def end(ctx: Ctx, segment: str, table_id: int, ends_on: Annotated[str, Form()] = "") -> Response:
    kind = _kind(segment)
    try:
        day = _form_date("ends_on", ends_on) or date.max
        fee_tables.end_table(ctx.db, actor=ctx.actor, kind=kind, table_id=table_id, ends_on=day)
    except RevcycleError as exc:
        if isinstance(exc, NotFound) or exc.status_code == 403:
            raise
        return _table(ctx, kind, table_id, error=exc.detail, status_code=exc.status_code)
    return RedirectResponse(f"/fees/{segment}/{table_id}?saved=1", status_code=303)


@router.post("/fees/{segment}/{table_id}/rates")
async def revise(
    *,
    ctx: Ctx,
    segment: str,
    table_id: int,
    effective_on: Annotated[str, Form()] = "",
    mode: Annotated[str, Form()] = "replace",
    file: Annotated[UploadFile | str | None, File()] = None,
) -> Response:
    kind = _kind(segment)
    try:
        fee_tables.get_table(ctx.db, actor=ctx.actor, kind=kind, table_id=table_id)  # 404/403 first
        rates, source = await _file_rates(file, required=True)
        row = fee_tables.revise_rates(
            ctx.db,
            actor=ctx.actor,
            kind=kind,
            table_id=table_id,
            rates=rates,
            effective_on=_form_date("effective_on", effective_on, required=False),
            replace=mode != "add",
            source=source,
        )
    except RevcycleError as exc:
        if isinstance(exc, NotFound) or exc.status_code == 403:
            raise
        return _table(ctx, kind, table_id, error=exc.detail, status_code=exc.status_code)
    return RedirectResponse(f"/fees/{segment}/{row.id}?saved=1", status_code=303)
