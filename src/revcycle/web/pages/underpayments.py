"""The underpayment work list: ``/underpayments``.

One row per underpayment (open by default; resolved or all on request), oldest first: the
payment's date, the payer, the claim (a link to it), the procedure, what the payer allowed,
what its contract or fee schedule says and the difference, with the total difference of all
that match at the top and a payer filter. Each open row has two one-click resolutions with an
optional note: "Appeal sent" and "Accept lower amount". With htmx the list is swapped in
place after a resolution; a refusal is shown on the row, never a 500.

Everything needs ``post_payments`` (billing and administrators). The page names clients, so
each request writes one audit row naming them; forms post with the session's CSRF token.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query
from fastapi.responses import RedirectResponse, Response

from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput
from revcycle.services import underpayments as up
from revcycle.services.scoping import DEFAULT_LIMIT, MAX_LIMIT
from revcycle.web.pages.main import Ctx, PageContext, local_return, resolved_notice

router = APIRouter(include_in_schema=False)

ACTIVE = "underpayments"
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0)]
ACTION_LABELS = {"appealed": "Appeal sent", "accepted": "Accept lower amount"}
STATUS_LABELS = {"open": "Open", "resolved": "Resolved", "all": "All"}


def _require(ctx: PageContext) -> None:
    ctx.actor.require(ctx.practice.id, Permission.POST_PAYMENTS)


def _htmx(ctx: PageContext) -> bool:
    return ctx.request.headers.get("hx-request") == "true"


def _filters(status: str, payer_id: int | None) -> dict[str, Any]:
    values = {"status": status if status != "open" else "", "payer_id": payer_id}
    return {key: value for key, value in values.items() if value not in (None, "")}


def _context(
    ctx: PageContext,
    status: str,
    payer_id: int | None,
    limit: int,
    offset: int,
    *,
    notice: str = "",
    error: str = "",
    error_item: int | None = None,
) -> dict[str, Any]:
    page = up.list_underpayments(
        ctx.db,
        actor=ctx.actor,
        practice_id=ctx.practice.id,
        status=status,
        payer_id=payer_id,
        limit=limit,
        offset=offset,
    )
    ctx.audit_clients("underpayment", page.client_ids)
    query = _filters(status, payer_id)
    return {
        "page": page,
        "status": status or "open",
        "payer_id": payer_id,
        "statuses": STATUS_LABELS,
        "labels": ACTION_LABELS,
        "notice": notice,
        "error": error,
        "error_item": error_item,
        "limit": limit,
        "offset": offset,
        "query": query,
        "back": "/underpayments" + (f"?{urlencode(query)}" if query else ""),
    }


@router.get("/underpayments")
def underpayments_page(
    *,
    ctx: Ctx,
    status: str = "open",
    payer_id: int | None = None,
    done: int | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Response:
    _require(ctx)
    notice = resolved_notice(ctx, done) if done else ""
    context = _context(ctx, status, payer_id, limit, offset, notice=notice)
    return ctx.render("underpayments/list.html", ACTIVE, **context)


@router.post("/underpayments/{work_item_id}/resolve")
def resolve(
    *,
    ctx: Ctx,
    work_item_id: int,
    action: Annotated[str, Form(max_length=30)],
    note: Annotated[str, Form(max_length=up.NOTE_MAX)] = "",
    status: Annotated[str, Form(max_length=10)] = "open",
    payer_id: Annotated[int | None, Form()] = None,
    back: Annotated[str, Form(max_length=200)] = "",
    limit: Limit = DEFAULT_LIMIT,
    offset: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    """One click: htmx gets the refreshed list, a plain form is sent back where it came from."""
    _require(ctx)
    try:
        with ctx.db.begin_nested():  # a refusal leaves nothing half-written
            item = up.resolve_underpayment(
                ctx.db, actor=ctx.actor, work_item_id=work_item_id, action=action, note=note
            )
    except (InvalidInput, Conflict) as exc:
        context = _context(ctx, status, payer_id, limit, offset, error=exc.detail, error_item=work_item_id)
        if _htmx(ctx):  # htmx swaps only a 2xx answer: the refusal is shown in place
            return ctx.render("underpayments/_list.html", **context)
        return ctx.render("underpayments/list.html", ACTIVE, status_code=exc.status_code, **context)
    if _htmx(ctx):
        context = _context(ctx, status, payer_id, limit, offset, notice=f"Resolved: {item.resolution}.")
        return ctx.render("underpayments/_list.html", **context)
    target = local_return(back, ("/underpayments",), "/underpayments")
    target += ("&" if "?" in target else "?") + urlencode({"done": item.id})
    return RedirectResponse(target, status_code=303)
