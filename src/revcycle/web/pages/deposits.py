"""The deposits and bank reconciliation page (``post_payments``: billing and administrators).

``/deposits`` shows, for a period (the last 60 days unless chosen), the totals that must balance
— deposits = matched + unmatched, payments = matched + unmatched, matched deposits = matched
payments — then the deposits waiting for a match (with why, and the candidates to match in one
click), the payments the bank has not shown, and the matched pairs (each can be unmatched). Its
forms import a bank statement CSV (then run the matching), enter a deposit by hand, run the
matching, and match a deposit to payments by id. A refused form or file is shown its reasons
(file, row and column) and nothing is written.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response
from starlette.datastructures import UploadFile as StarletteUpload

from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput, NotFound, RevcycleError
from revcycle.money import MoneyError, format_cents, parse_cents
from revcycle.services import deposits
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

ACTIVE = "deposits"
DEFAULT_DAYS = 60
MAX_CSV_BYTES = 10 * 1024 * 1024
FromForm = Annotated[str, Form()]


def _day(field: str, text: str, default: date) -> date:
    if not text.strip():
        return default
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a date (YYYY-MM-DD)") from None


def _period(ctx: PageContext, from_on: str, to_on: str) -> tuple[date, date]:
    last = _day("to_on", to_on, ctx.today)
    return _day("from_on", from_on, last - timedelta(days=DEFAULT_DAYS)), last


def _ids(text: str) -> list[int]:
    parts = [part for part in text.replace(",", " ").split() if part]
    try:
        return [int(part) for part in parts]
    except ValueError:
        raise InvalidInput(f"payment_ids: {text!r} is not a list of payment ids (e.g. 12, 15)") from None


def _render(
    ctx: PageContext,
    from_on: date,
    to_on: date,
    *,
    notice: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    view = deposits.reconciliation(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, from_on=from_on, to_on=to_on
    )
    return ctx.render(
        "deposits/index.html",
        ACTIVE,
        status_code=status_code,
        view=view,
        today=ctx.today,
        notice=notice,
        error=error,
    )


def _refusal(ctx: PageContext, exc: RevcycleError, from_on: date, to_on: date) -> Response:
    if isinstance(exc, NotFound) or exc.status_code == 403:
        raise exc
    return _render(ctx, from_on, to_on, error=exc.detail, status_code=exc.status_code)


def _matched_notice(report: deposits.MatchReport) -> str:
    waiting = f"; {len(report.ambiguous)} left for you to decide" if report.ambiguous else ""
    matched = f"{len(report.matched)} deposit(s) matched to {report.matched_payments} payment(s)"
    return f"Matching: {matched}{waiting}."


@router.get("/deposits")
def deposits_page(ctx: Ctx, from_on: str = "", to_on: str = "") -> Response:
    ctx.actor.require(ctx.practice.id, Permission.POST_PAYMENTS)
    first, last = _period(ctx, from_on, to_on)
    return _render(ctx, first, last)


@router.post("/deposits/import")
async def import_statement(
    *,
    ctx: Ctx,
    file: Annotated[UploadFile | str | None, File()] = None,
    from_on: FromForm = "",
    to_on: FromForm = "",
) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.POST_PAYMENTS)
    first, last = _period(ctx, from_on, to_on)
    try:
        if not isinstance(file, StarletteUpload) or not file.filename:
            raise InvalidInput("file: choose the bank statement CSV")
        data = await file.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            raise InvalidInput(f"{file.filename}: is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")
        result = deposits.import_statement(
            ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, data=data, filename=file.filename
        )
        report = deposits.match_deposits(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id)
    except RevcycleError as exc:
        return _refusal(ctx, exc, first, last)
    notice = (
        f"{result.filename}: {len(result.created)} deposit(s) recorded "
        f"({format_cents(sum(d.amount_cents for d in result.created))}); "
        f"{len(result.debits)} debit(s) and {len(result.duplicates)} line(s) already recorded skipped. "
        + _matched_notice(report)
    )
    return _render(ctx, first, last, notice=notice)


@router.post("/deposits/new")
def create_deposit(
    *,
    ctx: Ctx,
    deposited_on: FromForm = "",
    amount: FromForm = "",
    reference: FromForm = "",
    description: FromForm = "",
    from_on: FromForm = "",
    to_on: FromForm = "",
) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.POST_PAYMENTS)
    first, last = _period(ctx, from_on, to_on)
    try:
        if not deposited_on.strip():
            raise InvalidInput("deposited_on: give the date of the deposit")
        try:
            cents = parse_cents(amount, field="amount")
        except MoneyError as exc:
            raise InvalidInput(f"amount: {exc.value!r} {exc.reason}") from None
        row = deposits.create_deposit(
            ctx.db,
            actor=ctx.actor,
            practice_id=ctx.practice.id,
            deposited_on=_day("deposited_on", deposited_on, ctx.today),
            amount_cents=cents,
            reference=reference,
            description=description,
        )
    except RevcycleError as exc:
        return _refusal(ctx, exc, first, last)
    return _render(
        ctx,
        first,
        last,
        notice=f"Deposit of {format_cents(row.amount_cents)} on {row.deposited_on} recorded.",
    )


@router.post("/deposits/match")
def run_matching(*, ctx: Ctx, from_on: FromForm = "", to_on: FromForm = "") -> Response:
    ctx.actor.require(ctx.practice.id, Permission.POST_PAYMENTS)
    first, last = _period(ctx, from_on, to_on)
    try:
        report = deposits.match_deposits(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id)
    except RevcycleError as exc:
        return _refusal(ctx, exc, first, last)
    return _render(ctx, first, last, notice=_matched_notice(report))


@router.post("/deposits/{deposit_id}/match")
def match_one(
    *,
    ctx: Ctx,
    deposit_id: int,
    payment_ids: FromForm = "",
    unmatch: FromForm = "",
    from_on: FromForm = "",
    to_on: FromForm = "",
) -> Response:
    first, last = _period(ctx, from_on, to_on)
    try:
        ids = [] if unmatch else _ids(payment_ids)
        if not ids and not unmatch:
            raise InvalidInput("payment_ids: give the ids of the payments this deposit carries")
        deposits.set_deposit_payments(ctx.db, actor=ctx.actor, deposit_id=deposit_id, payment_ids=ids)
    except RevcycleError as exc:
        return _refusal(ctx, exc, first, last)
    done = (
        f"Deposit {deposit_id} unmatched."
        if unmatch
        else f"Deposit {deposit_id} matched to payment(s) {', '.join(map(str, ids))}."
    )
    return _render(ctx, first, last, notice=done)
