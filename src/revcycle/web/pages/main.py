"""The application's pages: each role's landing page, the lists and the detail views.

Routes are thin: they resolve the current practice, call a service query and render. A page
that shows client records writes one audit row per request naming the clients shown.
Pages that need a permission the user's role lacks answer the "not allowed" page; another
practice's ids answer "not found".
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.permissions import Permission, Role
from revcycle.domain.pipeline import STAGE_COLOURS, STAGE_LABELS, PipelineStage
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import audit, queries
from revcycle.services import dashboard as dashboard_service
from revcycle.services import sessions as session_queries
from revcycle.services.auth import AuthContext
from revcycle.services.scoping import DEFAULT_LIMIT, MAX_LIMIT, Page, practice_scopes
from revcycle.web.deps import DB, Auth
from revcycle.web.navigation import current_practice_id, landing_page, shell_view

router = APIRouter(include_in_schema=False)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0)]


class PageContext:
    """The signed-in user, their current practice and its local 'today'."""

    def __init__(self, request: Request, db: DB, auth: Auth) -> None:
        practice_id = current_practice_id(auth)
        practice = db.get(m.Practice, practice_id) if practice_id is not None else None
        if practice is None:
            raise NotFound("you are not a member of any practice yet; ask an administrator")
        self.request = request
        self.db = db
        self.auth: AuthContext = auth
        self.actor = auth.actor
        self.practice: m.Practice = practice
        shell_view(request, auth)  # taken now, so an error page can still show the shell

    @property
    def roles(self) -> frozenset[Role]:
        return self.actor.roles_in(self.practice.id)

    @property
    def today(self) -> date:
        return datetime.now(ZoneInfo(self.practice.timezone)).date()

    def render(self, template: str, active: str = "", **context: Any) -> Response:
        response: Response = self.request.app.state.templates.TemplateResponse(
            self.request,
            template,
            {
                "auth": self.auth,
                "csrf_token": self.auth.csrf_token,
                "active": active,
                "practice": self.practice,
                "tz": self.practice.timezone,
                **context,
            },
        )
        return response

    def audit_clients(self, entity: str, client_ids: set[int] | list[int]) -> None:
        if client_ids:
            audit.record_read(
                self.db, actor=self.actor, practice_id=self.practice.id, entity=entity, client_ids=client_ids
            )


Ctx = Annotated[PageContext, Depends(PageContext)]


def _month(value: str) -> date | None:
    """`2026-03` (the month picker's value) as the first day of that month."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC).date()
    except ValueError as exc:
        raise InvalidInput("month: expected YYYY-MM") from exc


def _query(**values: Any) -> dict[str, Any]:
    """The non-empty filters, for paging links."""
    return {key: value for key, value in values.items() if value not in (None, "", False)}


# --- landing ---------------------------------------------------------------------------------------


@router.get("/")
def home(auth: Auth) -> Response:
    practice_id = current_practice_id(auth)
    roles = auth.actor.roles_in(practice_id) if practice_id is not None else frozenset()
    return RedirectResponse(landing_page(roles), status_code=303)


@router.post("/practice")
def switch_practice(db: DB, auth: Auth, practice_id: Annotated[int, Form()]) -> Response:
    """Make another of the user's practices the current one."""
    if practice_id not in auth.actor.practice_ids or auth.web_session is None:
        raise NotFound("not found")
    auth.web_session.practice_id = practice_id
    db.flush()
    return RedirectResponse("/", status_code=303)


@router.get("/dashboard")
def dashboard(ctx: Ctx) -> Response:
    figures = dashboard_service.practice_dashboard(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, today=ctx.today
    )
    stages = [
        stage
        for stage in PipelineStage
        if stage is not PipelineStage.SCHEDULED or figures.stage_counts[stage]
    ]
    chart = {
        "labels": json.dumps([STAGE_LABELS[s] for s in stages]),
        "counts": json.dumps([figures.stage_counts[s] for s in stages]),
        "colours": json.dumps([STAGE_COLOURS[s] for s in stages]),
    }
    return ctx.render(
        "pages/dashboard.html",
        "dashboard",
        figures=figures,
        stages=stages,
        chart=chart,
        month_param=f"{figures.month:%Y-%m}",
    )


# --- sessions --------------------------------------------------------------------------------------


def _session_filters(stage: str, provider_id: int | None, month: str) -> session_queries.SessionFilters:
    try:
        chosen = PipelineStage(stage) if stage else None
    except ValueError as exc:
        raise InvalidInput(f"stage: unknown stage {stage!r}") from exc
    return session_queries.SessionFilters(stage=chosen, provider_id=provider_id, month=_month(month))


@router.get("/sessions")
def sessions_page(
    *,
    ctx: Ctx,
    stage: str = "",
    provider_id: int | None = None,
    month: str = "",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Response:
    filters = _session_filters(stage, provider_id, month)
    page = session_queries.list_sessions(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, filters=filters, limit=limit, offset=offset
    )
    ctx.audit_clients("session", {row.client_id for row in page.items})
    providers = (
        queries.list_providers(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=MAX_LIMIT)
        if (ctx.actor.scope(ctx.practice.id, Permission.VIEW_PROVIDERS) > 0)
        else Page([], 0)
    )
    return ctx.render(
        "pages/sessions.html",
        "sessions",
        page=page,
        stage=stage,
        provider_id=provider_id,
        month=month,
        providers=providers.items,
        stages=list(PipelineStage),
        limit=limit,
        offset=offset,
        query=_query(
            stage=stage, provider_id=provider_id, month=month, limit=limit if limit != DEFAULT_LIMIT else None
        ),
    )


@router.get("/sessions/{session_id}")
def session_page(ctx: Ctx, session_id: int) -> Response:
    detail = session_queries.get_session_detail(ctx.db, actor=ctx.actor, session_id=session_id)
    ctx.audit_clients("session", {detail.row.client_id})
    can_view_claims = ctx.actor.scope(ctx.practice.id, Permission.VIEW_CLAIMS) > 0
    return ctx.render(
        "pages/session_detail.html",
        "sessions",
        detail=detail,
        row=detail.row,
        can_view_claims=can_view_claims,
    )


@router.get("/my-sessions")
def my_sessions(ctx: Ctx, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> Response:
    """A therapist's own sessions, with the notes still to lock first."""
    pending = session_queries.list_sessions(
        ctx.db,
        actor=ctx.actor,
        practice_id=ctx.practice.id,
        filters=session_queries.SessionFilters(note_pending=True),
        limit=MAX_LIMIT,
    )
    page = session_queries.list_sessions(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=limit, offset=offset
    )
    ctx.audit_clients("session", {row.client_id for row in [*pending.items, *page.items]})
    return ctx.render(
        "pages/my_sessions.html",
        "my_sessions",
        pending=pending,
        page=page,
        limit=limit,
        offset=offset,
        query={},
    )


# --- claims, payments, work -------------------------------------------------------------------------


@router.get("/claims")
def claims_page(ctx: Ctx, status: str = "", limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> Response:
    page = queries.list_claims(
        ctx.db,
        actor=ctx.actor,
        practice_id=ctx.practice.id,
        status=status or None,
        limit=limit,
        offset=offset,
    )
    ctx.audit_clients("claim", {row.claim.client_id for row in page.items})
    return ctx.render(
        "pages/claims.html",
        "claims",
        page=page,
        status=status,
        statuses=[s.value for s in ClaimStatus],
        limit=limit,
        offset=offset,
        query=_query(status=status),
    )


@router.get("/claims/{claim_id}")
def claim_page(ctx: Ctx, claim_id: int) -> Response:
    detail = queries.get_claim_detail(ctx.db, actor=ctx.actor, claim_id=claim_id)
    ctx.audit_clients("claim", {detail.claim.client_id})
    return ctx.render("pages/claim_detail.html", "claims", detail=detail, claim=detail.claim)


@router.get("/payments")
def payments_page(ctx: Ctx, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> Response:
    page = queries.list_payments(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=limit, offset=offset
    )
    ctx.audit_clients("payment", {row.payment.client_id for row in page.items if row.payment.client_id})
    return ctx.render("pages/payments.html", "payments", page=page, limit=limit, offset=offset, query={})


@router.get("/work-queue")
def work_queue_page(
    ctx: Ctx, severity: str = "", limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> Response:
    page = queries.list_work_items(
        ctx.db,
        actor=ctx.actor,
        practice_id=ctx.practice.id,
        severity=severity or None,
        limit=limit,
        offset=offset,
    )
    ctx.audit_clients("work_item", {item.client_id for item in page.items if item.client_id})
    return ctx.render(
        "pages/work_queue.html",
        "work_queue",
        page=page,
        severity=severity,
        severities=queries.SEVERITY_ORDER,
        limit=limit,
        offset=offset,
        query=_query(severity=severity),
    )


# --- reports, insurance, settings, audit ------------------------------------------------------------


@router.get("/reports")
def reports_page(ctx: Ctx) -> Response:
    lines = queries.trial_balance(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id)
    return ctx.render(
        "pages/reports.html",
        "reports",
        lines=lines,
        total_debit=sum(line.debit_cents for line in lines),
        total_credit=sum(line.credit_cents for line in lines),
    )


@router.get("/settings")
def settings_page(ctx: Ctx) -> Response:
    practice_scopes(ctx.actor, Permission.MANAGE_PRACTICE, ctx.practice.id)
    members = list(
        ctx.db.execute(
            select(m.User, m.Membership.role)
            .join(m.Membership, m.Membership.user_id == m.User.id)
            .where(m.Membership.practice_id == ctx.practice.id)
            .order_by(m.User.full_name, m.User.email, m.Membership.role)
        )
    )
    return ctx.render("pages/settings.html", "settings", members=members)


@router.get("/audit")
def audit_page(
    *,
    ctx: Ctx,
    user_id: int | None = None,
    action: str = "",
    entity: str = "",
    client_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Response:
    zone = ZoneInfo(ctx.practice.timezone)
    filters = audit.AuditFilters(
        action=action or None,
        entity=entity or None,
        actor_user_id=user_id,
        client_id=client_id,
        since=datetime.combine(since, time(), zone) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(), zone) if until else None,
    )
    entries, total = audit.list_entries(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, filters=filters, limit=limit, offset=offset
    )
    users: dict[int, str] = dict(
        ctx.db.execute(
            select(m.User.id, m.User.email)
            .join(m.Membership, m.Membership.user_id == m.User.id)
            .where(m.Membership.practice_id == ctx.practice.id)
        ).all()
    )
    return ctx.render(
        "pages/audit.html",
        "audit",
        page=Page(list(entries), total),
        users=users,
        filters={
            "user_id": user_id,
            "action": action,
            "entity": entity,
            "client_id": client_id,
            "since": since,
            "until": until,
        },
        limit=limit,
        offset=offset,
        query=_query(
            user_id=user_id, action=action, entity=entity, client_id=client_id, since=since, until=until
        ),
    )


# --- front desk and the client portal ----------------------------------------------------------------


@router.get("/front-desk")
def front_desk_page(ctx: Ctx, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> Response:
    """Balances due, for the front desk to collect (no claim detail)."""
    page = queries.list_client_balances(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=limit, offset=offset
    )
    ctx.audit_clients("client_balance", {row.client.id for row in page.items})
    return ctx.render("pages/front_desk.html", "front_desk", page=page, limit=limit, offset=offset, query={})


@router.get("/my-account")
def my_account_page(ctx: Ctx) -> Response:
    """A client's own sessions and balance, read-only."""
    balances = queries.list_client_balances(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, owing_only=False, limit=MAX_LIMIT
    )
    sessions = session_queries.list_sessions(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=100)
    ctx.audit_clients(
        "client", {row.client.id for row in balances.items} | {row.client_id for row in sessions.items}
    )
    return ctx.render(
        "pages/my_account.html",
        "my_account",
        balances=balances,
        sessions=sessions,
        balance_due=sum(row.patient_balance_cents for row in balances.items),
    )
