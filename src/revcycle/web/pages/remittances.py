"""The remittance pages: every 835 payment, its posting report, and the exception queue.

* ``/remittances``: payments newest first with their claims, how many posted and how many
  wait, filtered by status and payer, with a totals row over everything the filter matches;
* ``/remittances/{id}``: the posting report (what posted, what was denied and why, what
  waits, PLB amounts, money still unapplied, the raw file); a payment held for review has an
  "Approve and post" button;
* ``/posting-exceptions``: the open exceptions grouped by type, each with one-click
  resolutions (post to a suggested claim or one typed in, apply a recoupment, acknowledge
  with a note). With htmx the queue is swapped in place; a refusal is shown on the item,
  never a 500;
* ``POST /settings/era-posting``: the practice's choice, automatic or review before posting
  (administrators; audited).

Everything needs ``post_payments`` (billing and administrators). Pages that show clients
write one audit row per request naming them; forms post with the session's CSRF token.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query
from fastapi.responses import RedirectResponse, Response

from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput
from revcycle.services import audit
from revcycle.services import remittance_posting as rp
from revcycle.services import remittance_queries as rq
from revcycle.services.scoping import DEFAULT_LIMIT, MAX_LIMIT
from revcycle.web.pages.main import Ctx, PageContext, local_return, resolved_notice

router = APIRouter(include_in_schema=False)

ACTIVE = "remittances"
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0)]
ACTION_LABELS = {
    "post_to_claim": "Post to claim",
    "apply_recoupment": "Apply to claim",
    "acknowledge": "Acknowledge",
}


def _require(ctx: PageContext) -> None:
    ctx.actor.require(ctx.practice.id, Permission.POST_PAYMENTS)


def _htmx(ctx: PageContext) -> bool:
    return ctx.request.headers.get("hx-request") == "true"


def _query(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "")}


# --- the list ----------------------------------------------------------------------------------


@router.get("/remittances")
def remittances_page(
    *,
    ctx: Ctx,
    status: str = "",
    payer: str = "",
    file: int | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Response:
    _require(ctx)
    page = rq.list_remittances(
        ctx.db,
        actor=ctx.actor,
        practice_id=ctx.practice.id,
        status=status,
        payer=payer,
        inbound_file_id=file,
        limit=limit,
        offset=offset,
    )
    waiting = rq.exception_queue(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=1).total
    return ctx.render(
        "remittances/list.html",
        ACTIVE,
        page=page,
        status=status,
        payer=payer,
        file=file,
        statuses=rq.STATUSES,
        waiting=waiting,
        mode=rq.era_posting_mode(ctx.practice),
        can_set_mode=ctx.actor.scope(ctx.practice.id, Permission.MANAGE_PRACTICE) > 0,
        limit=limit,
        offset=offset,
        query=_query(status=status, payer=payer, file=file),
    )


# --- one payment ---------------------------------------------------------------------------------


def _detail(
    ctx: PageContext, remittance_id: int, *, notice: str = "", error: str = "", status_code: int = 200
) -> Response:
    _require(ctx)
    detail = rq.remittance_detail(ctx.db, actor=ctx.actor, remittance_id=remittance_id)
    ctx.audit_clients("remittance", detail.client_ids)
    return ctx.render(
        "remittances/detail.html",
        ACTIVE,
        status_code=status_code,
        detail=detail,
        notice=notice,
        error=error,
        labels=ACTION_LABELS,
        back=f"/remittances/{remittance_id}",
    )


@router.get("/remittances/{remittance_id}")
def remittance_page(ctx: Ctx, remittance_id: int, approved: int = 0) -> Response:
    return _detail(ctx, remittance_id, notice="Approved: the payment is posted." if approved else "")


@router.get("/remittances/{remittance_id}/file")
def remittance_file(ctx: Ctx, remittance_id: int) -> Response:
    """The raw 835 the payment came in (audited as a read of the clients it pays)."""
    _require(ctx)
    filename, content, clients = rq.remittance_file(ctx.db, actor=ctx.actor, remittance_id=remittance_id)
    audit.record_read(
        ctx.db,
        actor=ctx.actor,
        practice_id=ctx.practice.id,
        entity="remittance_file",
        client_ids=clients,
        reason=f"download {filename}",
    )
    safe = "".join(ch for ch in filename if ch.isalnum() or ch in "._-") or "remittance.835"
    return Response(
        content,
        media_type="application/edi-x12",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


@router.post("/remittances/{remittance_id}/approve")
def approve(ctx: Ctx, remittance_id: int) -> Response:
    """Post a payment held for review, as a whole."""
    _require(ctx)
    rq.get_remittance(ctx.db, actor=ctx.actor, remittance_id=remittance_id)
    try:
        with ctx.db.begin_nested():
            rp.approve_remittance(ctx.db, actor=ctx.actor, remittance_id=remittance_id)
    except (InvalidInput, Conflict) as exc:
        return _detail(ctx, remittance_id, error=exc.detail, status_code=exc.status_code)
    return RedirectResponse(f"/remittances/{remittance_id}?approved=1", status_code=303)


# --- the exception queue -------------------------------------------------------------------------


def _queue_context(
    ctx: PageContext,
    rule: str,
    limit: int,
    offset: int,
    *,
    notice: str = "",
    error: str = "",
    error_item: int | None = None,
) -> dict[str, Any]:
    queue = rq.exception_queue(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, rule=rule, limit=limit, offset=offset
    )
    ctx.audit_clients("posting_exception", queue.client_ids)
    return {
        "queue": queue,
        "page": queue,  # for the pager: items and total
        "rule": rule,
        "types": rp.EXCEPTION_TYPES,
        "labels": ACTION_LABELS,
        "notice": notice,
        "error": error,
        "error_item": error_item,
        "limit": limit,
        "offset": offset,
        "query": _query(type=rule),
        "back": "/posting-exceptions" + (f"?{urlencode({'type': rule})}" if rule else ""),
    }


@router.get("/posting-exceptions")
def exceptions_page(
    *, ctx: Ctx, type: str = "", done: int | None = None, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> Response:
    _require(ctx)
    notice = resolved_notice(ctx, done) if done else ""
    return ctx.render(
        "remittances/exceptions.html", ACTIVE, **_queue_context(ctx, type, limit, offset, notice=notice)
    )


@router.post("/posting-exceptions/{work_item_id}/resolve")
def resolve(
    *,
    ctx: Ctx,
    work_item_id: int,
    action: Annotated[str, Form(max_length=30)],
    claim_id: Annotated[int | None, Form()] = None,
    claim_number: Annotated[str, Form(max_length=50)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    type: Annotated[str, Form(max_length=60)] = "",
    back: Annotated[str, Form(max_length=200)] = "",
    limit: Limit = DEFAULT_LIMIT,
    offset: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    """One click: htmx gets the refreshed queue, a plain form is sent back where it came from."""
    _require(ctx)
    try:
        if claim_number.strip():
            claim_id = rq.claim_id_by_number(ctx.db, practice_id=ctx.practice.id, number=claim_number)
        with ctx.db.begin_nested():  # a refusal leaves nothing half-written
            item = rp.resolve_exception(
                ctx.db,
                actor=ctx.actor,
                work_item_id=work_item_id,
                action=action,
                claim_id=claim_id,
                note=note,
            )
    except (InvalidInput, Conflict) as exc:
        context = _queue_context(ctx, type, limit, offset, error=exc.detail, error_item=work_item_id)
        if _htmx(ctx):  # htmx swaps only a 2xx answer: the refusal is shown in place
            return ctx.render("remittances/_queue.html", **context)
        came_from = back.removeprefix("/remittances/")
        if back.startswith("/remittances/") and came_from.isdigit():
            return _detail(ctx, int(came_from), error=exc.detail, status_code=exc.status_code)
        return ctx.render("remittances/exceptions.html", ACTIVE, status_code=exc.status_code, **context)
    if _htmx(ctx):
        context = _queue_context(ctx, type, limit, offset, notice=f"Resolved: {item.resolution}.")
        return ctx.render("remittances/_queue.html", **context)
    target = local_return(back, ("/posting-exceptions", "/remittances/"), "/posting-exceptions")
    if target.startswith("/posting-exceptions"):
        target += ("&" if "?" in target else "?") + urlencode({"done": item.id})
    return RedirectResponse(target, status_code=303)


# --- the practice's posting mode -----------------------------------------------------------------


@router.post("/settings/era-posting")
def set_era_posting(ctx: Ctx, era_posting: Annotated[str, Form(max_length=10)]) -> Response:
    rq.set_era_posting(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, mode=era_posting)
    return RedirectResponse("/settings?saved=era_posting", status_code=303)
