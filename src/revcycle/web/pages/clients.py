"""Client pages: coverages with their history, authorizations and card images; charge entry.

``/clients/{client_id}`` shows the client card, each coverage (priority, dates, the
authorizations with visits used of allowed, card thumbnails) and its change history, with the
forms to add, edit and end a coverage, add or update an authorization and upload a card for
people who may update insurance. ``/sessions/{session_id}/charges`` lists a session's charges
with the entry and correction form (a blank fee is the fee schedule's, shown beside it).

Forms post with the session's CSRF token and work without JavaScript. A refused change
shows the page again with the message naming the field (never a 500), and what it tried is
rolled back to a savepoint, so nothing half-written is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import or_, select
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput, NotFound, RevcycleError
from revcycle.money import format_plain, parse_cents
from revcycle.services import charges as charge_service
from revcycle.services import coverages as coverage_service
from revcycle.services import eligibility as eligibility_service
from revcycle.services.claims_pipeline.pointers import decode_pointers
from revcycle.services.claims_pipeline.scrubbing import practice_today
from revcycle.services.fees import default_fee
from revcycle.services.sessions import get_session_detail
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

T = TypeVar("T")


def _can(ctx: PageContext, permission: Permission) -> bool:
    return ctx.actor.scope(ctx.practice.id, permission) > 0


def _attempt(ctx: PageContext, change: Callable[[], T]) -> tuple[T | None, str]:
    """Run a change inside a savepoint: on a refusal nothing of it stays, and the message shows."""
    try:
        with ctx.db.begin_nested():
            return change(), ""
    except RevcycleError as refused:
        if refused.status_code in {401, 403, 404}:
            raise
        return None, refused.detail


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _date(form: FormData, name: str) -> date | None:
    text = _text(form, name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None


def _int(form: FormData, name: str) -> int | None:
    text = _text(form, name)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{name}: {text!r} is not a whole number") from None


def _cents(form: FormData, name: str) -> int | None:
    text = _text(form, name)
    return parse_cents(text, field=name) if text else None


# --- the client page -------------------------------------------------------------------------------


def _client_page(ctx: PageContext, client_id: int, *, error: str = "", status_code: int = 200) -> Response:
    found = coverage_service.client_coverages(ctx.db, actor=ctx.actor, client_id=client_id)
    ctx.audit_clients("coverage", {found.client.id})
    response = ctx.render(
        "clients/detail.html",
        "clients",
        client=found.client,
        coverages=found.coverages,
        eligibility=eligibility_service.latest_checks(ctx.db, [v.coverage.id for v in found.coverages]),
        user_names=found.user_names,
        payers=_payer_choices(ctx, found.coverages),
        can_edit=_can(ctx, Permission.UPDATE_INSURANCE),
        priorities=coverage_service.PRIORITIES,
        relationships=coverage_service.RELATIONSHIPS,
        error=error,
        notice=ctx.request.query_params.get("saved", ""),
    )
    response.status_code = status_code
    return response


def _payer_choices(ctx: PageContext, views: list[coverage_service.CoverageView]) -> list[tuple[int, str]]:
    """The payers the practice bills (its payer settings) and those of the client's coverages."""
    ids = select(m.PracticePayer.payer_id).where(m.PracticePayer.practice_id == ctx.practice.id)
    own = [view.coverage.payer_id for view in views]
    rows = ctx.db.execute(
        select(m.Payer.id, m.Payer.name)
        .where(or_(m.Payer.id.in_(ids), m.Payer.id.in_(own)))
        .order_by(m.Payer.name)
    )
    return [(payer_id, name) for payer_id, name in rows]


@router.get("/clients/{client_id}")
def client_page(ctx: Ctx, client_id: int) -> Response:
    return _client_page(ctx, client_id)


def _after(ctx: PageContext, client_id: int, outcome: tuple[Any, str], saved: str) -> Response:
    _, error = outcome
    if error:
        return _client_page(ctx, client_id, error=error, status_code=422)
    return RedirectResponse(f"/clients/{client_id}?saved={saved}", status_code=303)


def _coverage_form(form: FormData, *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "member_id": _text(form, "member_id"),
        "group_number": _text(form, "group_number"),
        "priority": _text(form, "priority") or "primary",
        "relationship_to_subscriber": _text(form, "relationship") or "self",
        "subscriber_first_name": _text(form, "subscriber_first_name"),
        "subscriber_last_name": _text(form, "subscriber_last_name"),
        "subscriber_date_of_birth": _date(form, "subscriber_date_of_birth"),
        "subscriber_sex": _text(form, "subscriber_sex") or "U",
        "effective_on": _date(form, "effective_on"),
        "ends_on": _date(form, "ends_on"),
    }
    payer_id = _int(form, "payer_id")
    if creating or payer_id is not None:
        values["payer_id"] = payer_id
    return values


def _client_of_coverage(ctx: PageContext, coverage_id: int) -> int:
    coverage = ctx.db.get(m.Coverage, coverage_id)
    if coverage is None or coverage.practice_id != ctx.practice.id:
        raise NotFound("not found")
    return coverage.client_id


@router.post("/clients/{client_id}/coverages")
async def add_coverage(ctx: Ctx, client_id: int) -> Response:
    form = await ctx.request.form()

    def change() -> m.Coverage:
        values = _coverage_form(form, creating=True)
        return coverage_service.create_coverage(ctx.db, actor=ctx.actor, client_id=client_id, values=values)

    return _after(ctx, client_id, _attempt(ctx, change), "coverage")


@router.post("/coverages/{coverage_id}")
async def edit_coverage(ctx: Ctx, coverage_id: int) -> Response:
    client_id = _client_of_coverage(ctx, coverage_id)
    form = await ctx.request.form()

    def change() -> m.Coverage:
        values = _coverage_form(form, creating=False)
        return coverage_service.update_coverage(
            ctx.db, actor=ctx.actor, coverage_id=coverage_id, values=values
        )

    return _after(ctx, client_id, _attempt(ctx, change), "coverage")


@router.post("/coverages/{coverage_id}/end")
async def end_coverage(ctx: Ctx, coverage_id: int) -> Response:
    client_id = _client_of_coverage(ctx, coverage_id)
    form = await ctx.request.form()

    def change() -> m.Coverage:
        ends_on = _date(form, "ends_on")
        if ends_on is None:
            raise InvalidInput("ends_on: enter the last covered day")
        return coverage_service.end_coverage(
            ctx.db, actor=ctx.actor, coverage_id=coverage_id, ends_on=ends_on
        )

    return _after(ctx, client_id, _attempt(ctx, change), "ended")


@router.post("/coverages/{coverage_id}/authorizations")
async def save_authorization(ctx: Ctx, coverage_id: int) -> Response:
    client_id = _client_of_coverage(ctx, coverage_id)
    form = await ctx.request.form()

    def change() -> m.Authorization:
        starts_on, ends_on = _date(form, "starts_on"), _date(form, "ends_on")
        allowed = _int(form, "visits_allowed")
        if starts_on is None or ends_on is None:
            raise InvalidInput("starts_on: enter the authorization's first and last day")
        if allowed is None:
            raise InvalidInput("visits_allowed: enter the visits allowed")
        entry = coverage_service.AuthorizationInput(
            number=_text(form, "number"),
            visits_allowed=allowed,
            visits_used=_int(form, "visits_used"),
            starts_on=starts_on,
            ends_on=ends_on,
            procedure_codes=_text(form, "procedure_codes").replace(",", " ").split(),
        )
        return coverage_service.save_authorization(
            ctx.db, actor=ctx.actor, coverage_id=coverage_id, entry=entry
        )

    return _after(ctx, client_id, _attempt(ctx, change), "authorization")


@router.post("/coverages/{coverage_id}/cards")
def upload_card(
    ctx: Ctx,
    coverage_id: int,
    file: Annotated[UploadFile | str | None, File()] = None,
    side: Annotated[str, Form()] = "front",
) -> Response:
    client_id = _client_of_coverage(ctx, coverage_id)

    def change() -> m.CoverageCard:
        if not isinstance(file, StarletteUpload) or not file.filename:
            raise InvalidInput("file: choose the card's image or PDF")
        data = file.file.read(coverage_service.MAX_CARD_BYTES + 1)
        return coverage_service.add_card(
            ctx.db, actor=ctx.actor, coverage_id=coverage_id, side=side, filename=file.filename, data=data
        )

    return _after(ctx, client_id, _attempt(ctx, change), "card")


@router.post("/coverages/{coverage_id}/eligibility")
async def check_eligibility(ctx: Ctx, coverage_id: int) -> Response:
    """Write a 270 for the coverage and hand it over as a download (to send to the payer)."""
    client_id = _client_of_coverage(ctx, coverage_id)
    form = await ctx.request.form()

    def change() -> eligibility_service.EligibilityRequest:
        as_of = _date(form, "as_of") or practice_today(ctx.db, ctx.practice.id)
        return eligibility_service.request_eligibility(
            ctx.db, actor=ctx.actor, coverage_id=coverage_id, as_of=as_of
        )

    written, error = _attempt(ctx, change)
    if written is None:
        return _client_page(ctx, client_id, error=error, status_code=422)
    return Response(
        written.text,
        media_type="application/edi-x12",
        headers={"Content-Disposition": f'attachment; filename="{written.filename}"'},
    )


@router.get("/coverages/{coverage_id}/cards/{card_id}")
def card_file(ctx: Ctx, coverage_id: int, card_id: int) -> Response:
    found = coverage_service.get_card(ctx.db, actor=ctx.actor, coverage_id=coverage_id, card_id=card_id)
    return Response(found.content, media_type=found.media_type)


# --- charge entry ----------------------------------------------------------------------------------------


def _charges_page(
    ctx: PageContext,
    session_id: int,
    *,
    error: str = "",
    warnings: list[str] | None = None,
    typed: dict[str, str] | None = None,
    editing: int | None = None,
    status_code: int = 200,
) -> Response:
    charge_service.load_session_for_charges(ctx.db, actor=ctx.actor, session_id=session_id)
    detail = get_session_detail(ctx.db, actor=ctx.actor, session_id=session_id)
    ctx.audit_clients("charge", {detail.row.client_id})
    service = ctx.db.get_one(m.ServiceSession, session_id)
    rows = []
    for charge in detail.charges:
        quote = default_fee(
            ctx.db,
            practice_id=service.practice_id,
            procedure_code=charge.procedure_code,
            modifiers=charge.modifiers,
            service_on=service.service_on,
            client_id=service.client_id,
            units=charge.units,
        )
        rows.append(
            {
                "charge": charge,
                "modifiers": [mod for mod in charge.modifiers.split(":") if mod],
                "pointers": ", ".join(str(p) for p in decode_pointers(charge.diagnosis_pointers)),
                "schedule_cents": quote.amount_cents if quote else None,
                "fee_plain": format_plain(charge.fee_cents),
            }
        )
    locked = next(
        (c for c in detail.claims if c.status not in charge_service.OPEN_FOR_CHANGE and c.status != "void"),
        None,
    )
    response = ctx.render(
        "charges/session_charges.html",
        "sessions",
        row=detail.row,
        rows=rows,
        claims=detail.claims,
        locked=locked,
        error=error,
        warnings=warnings or [],
        typed=typed or {},
        editing=editing,
        notice=ctx.request.query_params.get("saved", ""),
    )
    response.status_code = status_code
    return response


@router.get("/sessions/{session_id}/charges")
def charges_page(ctx: Ctx, session_id: int, edit: int | None = None) -> Response:
    return _charges_page(ctx, session_id, editing=edit)


def _charge_entry(form: FormData) -> charge_service.ChargeInput:
    modifiers = [_text(form, f"modifier{n}") for n in range(1, 5)]
    return charge_service.ChargeInput(
        procedure_code=_text(form, "procedure_code"),
        modifiers=[mod for mod in modifiers if mod],
        units=_int(form, "units"),
        minutes=_int(form, "minutes"),
        fee_cents=_cents(form, "fee"),
        diagnosis_codes=_text(form, "diagnosis_codes").replace(",", " ").split(),
        diagnosis_pointers=charge_service.parse_pointers(_text(form, "diagnosis_pointers") or "1"),
    )


def _typed(form: FormData) -> dict[str, str]:
    return {str(key): value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}


def _after_charge(
    ctx: PageContext,
    session_id: int,
    form: FormData,
    outcome: tuple[charge_service.ChargeResult | None, str],
    *,
    editing: int | None = None,
) -> Response:
    result, error = outcome
    if error or result is None:
        return _charges_page(
            ctx, session_id, error=error, typed=_typed(form), editing=editing, status_code=422
        )
    if result.warnings:
        warnings = [f"{w.where}: {w.message}" for w in result.warnings]
        return _charges_page(ctx, session_id, warnings=warnings)
    return RedirectResponse(f"/sessions/{session_id}/charges?saved=1", status_code=303)


@router.post("/sessions/{session_id}/charges")
async def add_charge(ctx: Ctx, session_id: int) -> Response:
    form = await ctx.request.form()

    def change() -> charge_service.ChargeResult:
        entry = _charge_entry(form)
        return charge_service.add_charge(ctx.db, actor=ctx.actor, session_id=session_id, entry=entry)

    return _after_charge(ctx, session_id, form, _attempt(ctx, change))


def _session_of_charge(ctx: PageContext, charge_id: int) -> int:
    charge = ctx.db.get(m.Charge, charge_id)
    if charge is None or charge.practice_id != ctx.practice.id:
        raise NotFound("not found")
    return charge.session_id


@router.post("/charges/{charge_id}")
async def edit_charge(ctx: Ctx, charge_id: int) -> Response:
    session_id = _session_of_charge(ctx, charge_id)
    form = await ctx.request.form()

    def change() -> charge_service.ChargeResult:
        entry = _charge_entry(form)
        return charge_service.update_charge(ctx.db, actor=ctx.actor, charge_id=charge_id, entry=entry)

    return _after_charge(ctx, session_id, form, _attempt(ctx, change), editing=charge_id)


@router.post("/charges/{charge_id}/delete")
async def remove_charge(ctx: Ctx, charge_id: int) -> Response:
    session_id = _session_of_charge(ctx, charge_id)
    await ctx.request.form()

    def change() -> charge_service.ChargeResult:
        return charge_service.remove_charge(ctx.db, actor=ctx.actor, charge_id=charge_id)

    _, error = _attempt(ctx, change)
    if error:
        return _charges_page(ctx, session_id, error=error, status_code=409)
    return RedirectResponse(f"/sessions/{session_id}/charges?saved=removed", status_code=303)
