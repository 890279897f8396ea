"""The alerts page: open alerts by severity and owner, timely-filing deadlines, missing claims.

Three tabs on one page (``?tab=alerts|missing|deadlines``). Alerts are grouped by severity,
each with its owner role, assignee, the session or claim it is about and its age; billing and
admins acknowledge or resolve them (with a reason) and run the rules now. The missing-claims
check and the filing deadlines are billing lists (billing and admins). Forms post with the
session's CSRF token and come back with a message; a refused action re-renders the page with
the reason, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput
from revcycle.services import alerts, timely_filing
from revcycle.services.queries import SEVERITY_ORDER
from revcycle.services.scoping import MAX_LIMIT
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

TABS = ("alerts", "missing", "deadlines")
DONE_MESSAGES = {
    "acknowledged": "Alert acknowledged.",
    "resolved": "Alert resolved.",
}


def _can(ctx: PageContext, permission: Permission) -> bool:
    return ctx.actor.scope(ctx.practice.id, permission) > 0


def _names(ctx: PageContext, model: type[Any], ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    if model is m.Payer:
        return dict(ctx.db.execute(select(m.Payer.id, m.Payer.name).where(m.Payer.id.in_(wanted))).all())
    rows = ctx.db.execute(
        select(model.id, model.first_name, model.last_name).where(
            model.id.in_(wanted), model.practice_id == ctx.practice.id
        )
    )
    return {row_id: f"{first} {last}" for row_id, first, last in rows}


def _alerts_context(ctx: PageContext) -> dict[str, Any]:
    page = alerts.list_alerts(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=MAX_LIMIT)
    grouped = {
        severity: [v for v in page.items if v.item.severity == severity] for severity in SEVERITY_ORDER
    }
    ctx.audit_clients("work_item", {v.item.client_id for v in page.items if v.item.client_id})
    return {"grouped": grouped, "total": page.total, "shown": len(page.items)}


def _missing_context(ctx: PageContext) -> dict[str, Any]:
    rows = alerts.missing_claims(ctx.db, practice_id=ctx.practice.id, today=ctx.today)
    ctx.audit_clients("missing_claim", {row.client_id for row in rows})
    return {
        "missing": rows,
        "clients": _names(ctx, m.Client, (r.client_id for r in rows)),
        "providers": _names(ctx, m.Provider, (r.provider_id for r in rows)),
        "payers": _names(ctx, m.Payer, (r.payer_id for r in rows)),
    }


def _deadlines_context(ctx: PageContext, within_days: int) -> dict[str, Any]:
    rows = timely_filing.upcoming_deadlines(
        ctx.db, practice_id=ctx.practice.id, today=ctx.today, within_days=within_days
    )
    ctx.audit_clients("filing_deadline", {row.client_id for row in rows})
    return {
        "deadlines": rows,
        "within_days": within_days,
        "clients": _names(ctx, m.Client, (r.client_id for r in rows)),
        "payers": _names(ctx, m.Payer, (r.payer_id for r in rows if r.payer_id is not None)),
    }


def _render(
    ctx: PageContext,
    tab: str,
    *,
    done: str = "",
    error: str = "",
    within_days: int = 30,
    status_code: int = 200,
) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.VIEW_WORK_QUEUE)
    billing = _can(ctx, Permission.SUBMIT_CLAIMS)
    if tab not in TABS or (tab != "alerts" and not billing):
        tab = "alerts"
    context: dict[str, Any] = {
        "tab": tab,
        "can_manage": _can(ctx, alerts.MANAGE_ALERTS),
        "billing_lists": billing,
        "today": ctx.today,
        "message": DONE_MESSAGES.get(done) or (done if done.startswith("Rules run") else ""),
        "error": error,
    }
    if tab == "alerts":
        context.update(_alerts_context(ctx))
    elif tab == "missing":
        context.update(_missing_context(ctx))
    else:
        context.update(_deadlines_context(ctx, within_days))
    response = ctx.render("alerts/alerts.html", "alerts", **context)
    response.status_code = status_code
    return response


@router.get("/alerts")
def alerts_page(ctx: Ctx, tab: str = "alerts", done: str = "", within_days: int = 30) -> Response:
    return _render(ctx, tab, done=done, within_days=max(0, min(within_days, 3650)))


def _act(ctx: PageContext, action: str, work: Any) -> Response:
    try:
        with ctx.db.begin_nested():
            work()
    except (InvalidInput, Conflict) as exc:
        return _render(ctx, "alerts", error=exc.detail, status_code=exc.status_code)
    return RedirectResponse("/alerts?" + urlencode({"done": action}), status_code=303)


@router.post("/alerts/run")
def run_rules(ctx: Ctx) -> Response:
    """Run the rules for the current practice now."""
    run = alerts.run_alerts(ctx.db, practice_id=ctx.practice.id, now=utcnow(), actor=ctx.actor)
    text = f"Rules run: {run.raised} raised, {run.reopened} reopened, {run.resolved} resolved."
    return RedirectResponse("/alerts?" + urlencode({"done": text}), status_code=303)


@router.post("/alerts/{work_item_id}/acknowledge")
def acknowledge(ctx: Ctx, work_item_id: int) -> Response:
    return _act(
        ctx,
        "acknowledged",
        lambda: alerts.acknowledge_alert(ctx.db, actor=ctx.actor, work_item_id=work_item_id),
    )


@router.post("/alerts/{work_item_id}/resolve")
def resolve(ctx: Ctx, work_item_id: int, reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    return _act(
        ctx,
        "resolved",
        lambda: alerts.resolve_alert(ctx.db, actor=ctx.actor, work_item_id=work_item_id, reason=reason),
    )
