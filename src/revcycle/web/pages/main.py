"""The application's pages: each role's landing page, the lists and the detail views.

Routes are thin: they resolve the current practice, call a service query and render. A page
that shows client records writes one audit row per request naming the clients shown.
Pages that need a permission the user's role lacks answer the "not allowed" page; another
practice's ids answer "not found".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, TypedDict
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy import select

from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.permissions import Permission, Role, Scope
from revcycle.domain.pipeline import PipelineStage
from revcycle.errors import InvalidInput, NotFound
from revcycle.money import MoneyError, format_plain, parse_cents
from revcycle.services import (
    appeals,
    audit,
    information_requests,
    kpis,
    queries,
    saved_filters,
    session_actions,
    submissions,
    timeline,
)
from revcycle.services import sessions as session_queries
from revcycle.services.auth import AuthContext
from revcycle.services.claims_pipeline import building, scrubbing
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

    def render(self, template: str, active: str = "", *, status_code: int = 200, **context: Any) -> Response:
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
            status_code=status_code,
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


def paging_query(**values: Any) -> dict[str, Any]:
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


# --- forms and filters shared by the sessions and claims pages ---------------------------------------

DONE_MESSAGES = {
    "corrected": "Corrected claim sent (a replacement, frequency 7, with the payer's claim number).",
    "status": "Status changed.",
    "payment": "Payment recorded.",
    "note": "Note added.",
    "flag": "Issue flagged: the session is held from billing until the flag is resolved.",
    "override": "Warning overridden.",
    "rescrub": "Claim scrubbed again.",
    "ready": "Claim marked ready.",
    "not_ready": "Claim scrubbed: it is not clean yet (see the scrub below).",
    "submission": "Submission recorded.",
    "resubmit": "Resubmission recorded.",
    "submitted": "Claims recorded as submitted.",
    "queued": "Claims queued for the electronic batch.",
    "rfi_asked": "Request sent: the claim waits for the answer before it can be sent.",
    "rfi_answered": "Answer recorded: the request no longer holds the claim.",
    "filter_saved": "Filter saved.",
    "filter_deleted": "Filter deleted.",
}


def _day(value: str, field: str) -> date | None:
    """A date from a form or query field (`YYYY-MM-DD`), or None when left empty."""
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{field}: expected a date as YYYY-MM-DD, got {value!r}") from exc


def _id(value: str, field: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(f"{field}: expected a number, got {value!r}")
    return int(value)


def _ids(values: list[str], field: str) -> list[int]:
    chosen = [number for number in (_id(v, field) for v in values) if number is not None]
    if not chosen:
        raise InvalidInput(f"{field}: select at least one")
    return chosen


class _Sending(TypedDict):
    """How a claim was sent, as the submission services take it."""

    submitted_on: date | None
    reference: str
    channel: str | None
    portal_id: int | None


def _sending(portal_id: str, submitted_on: str, reference: str) -> _Sending:
    """A submission form's portal, date and reference: a chosen portal means the portal channel."""
    portal = _id(portal_id, "portal_id")
    return _Sending(
        submitted_on=_day(submitted_on, "submitted_on"),
        reference=reference,
        channel="portal" if portal is not None else None,
        portal_id=portal,
    )


def _can(ctx: PageContext, permission: Permission) -> bool:
    return ctx.actor.scope(ctx.practice.id, permission) > 0


def _choices(ctx: PageContext) -> dict[str, Any]:
    """Clinicians and payers for the filter selects, where the role may list them."""
    providers = (
        queries.list_providers(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=MAX_LIMIT).items
        if _can(ctx, Permission.VIEW_PROVIDERS)
        else []
    )
    payers = (
        queries.list_payers(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=MAX_LIMIT).items
        if _can(ctx, Permission.VIEW_PAYERS)
        else []
    )
    return {"providers": providers, "payers": [(row.payer.id, row.payer.name) for row in payers]}


def _portals(ctx: PageContext) -> list[m.InsurancePortal]:
    if not _can(ctx, Permission.VIEW_PAYERS):
        return []
    return queries.list_portals(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id)


def _saved(ctx: PageContext, page: str) -> list[m.SavedFilter]:
    return saved_filters.list_filters(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, page=page)


def redirect_done(path: str, done: str, query: dict[str, Any] | None = None) -> Response:
    params = {**(query or {}), "done": done}
    return RedirectResponse(f"{path}?{urlencode(params)}", status_code=303)


def local_return(value: str, allowed: tuple[str, ...], default: str) -> str:
    """Where a plain form returns: ``value`` when it is one of the ``allowed`` pages (a path
    starting so, never another site), else ``default``."""
    if value.startswith(allowed) and "//" not in value:
        return value
    return default


def resolved_notice(ctx: PageContext, work_item_id: int) -> str:
    """ "Resolved: ..." for a work item of this practice that was just resolved, else nothing."""
    item = ctx.db.get(m.WorkItem, work_item_id)
    if item is None or item.practice_id != ctx.practice.id or item.status != "resolved":
        return ""
    return f"Resolved: {item.resolution}."


def _form_values(form: Any, name: str) -> list[str]:
    return [str(value) for value in form.getlist(name)]


# --- sessions --------------------------------------------------------------------------------------


def _session_filters(
    *, stage: str, provider_id: str, payer_id: str, client: str, since: str, until: str, month: str
) -> session_queries.SessionFilters:
    try:
        chosen = PipelineStage(stage) if stage else None
    except ValueError as exc:
        raise InvalidInput(f"stage: unknown stage {stage!r}") from exc
    return session_queries.SessionFilters(
        stage=chosen,
        provider_id=_id(provider_id, "provider_id"),
        payer_id=_id(payer_id, "payer_id"),
        client_search=client.strip(),
        since=_day(since, "since"),
        until=_day(until, "until"),
        month=_month(month),
    )


def _sessions_view(
    ctx: PageContext,
    params: dict[str, str],
    limit: int,
    offset: int,
    *,
    result: ReadyView | None = None,
    error: str = "",
) -> Response:
    filters = _session_filters(**{key: params.get(key, "") for key in SESSION_FILTER_KEYS if key != "kpi"})
    filters = _sessions_behind(ctx, filters, params.get("kpi", ""))
    page = session_queries.list_sessions(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, filters=filters, limit=limit, offset=offset
    )
    counts = session_queries.stage_counts(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, filters=replace(filters, stage=None)
    )
    ctx.audit_clients("session", {row.client_id for row in page.items})
    query = paging_query(**params, limit=limit if limit != DEFAULT_LIMIT else None)
    return ctx.render(
        "pages/sessions.html",
        "sessions",
        status_code=422 if error else 200,
        page=page,
        filters=params,
        stage=params.get("stage", ""),
        counts=counts,
        stages=[s for s in PipelineStage if counts[s] or s.value == params.get("stage")],
        all_stages=list(PipelineStage),
        can_mark_ready=_can(ctx, Permission.ENTER_CHARGES),
        saved=_saved(ctx, "sessions"),
        saved_query={key: value for key, value in query.items() if key != "done"},
        result=result,
        error=error,
        message=DONE_MESSAGES.get(params.get("done", ""), ""),
        limit=limit,
        offset=offset,
        query={key: value for key, value in query.items() if key != "done"},
        today=ctx.today,
        **_choices(ctx),
    )


SESSION_FILTER_KEYS = ("stage", "provider_id", "payer_id", "client", "since", "until", "month", "kpi")


def _sessions_behind(
    ctx: PageContext, filters: session_queries.SessionFilters, kpi: str
) -> session_queries.SessionFilters:
    """With ``kpi``, only the sessions a dashboard figure counts (services.kpis)."""
    if not kpi:
        return filters
    ids = kpis.sessions_behind(ctx.db, kpi, ctx.practice.id)
    return replace(filters, session_ids=tuple(ids))


@router.get("/sessions")
def sessions_page(
    *,
    ctx: Ctx,
    stage: str = "",
    provider_id: str = "",
    payer_id: str = "",
    client: str = "",
    since: str = "",
    until: str = "",
    month: str = "",
    kpi: str = "",
    done: str = "",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Response:
    params = paging_query(
        stage=stage,
        provider_id=provider_id,
        payer_id=payer_id,
        client=client,
        since=since,
        until=until,
        month=month,
        kpi=kpi,
        done=done,
    )
    return _sessions_view(ctx, params, limit, offset)


@dataclass(frozen=True)
class ReadyView:
    """What "Mark ready" did, for the message on the list."""

    marked: int
    already: int
    refused: list[str]
    claims_ready: list[str]
    claims_draft: list[str]
    skipped: list[str]


@router.post("/sessions/ready")
async def mark_ready(ctx: Ctx) -> Response:
    """Mark the checked sessions ready and build their claims; show what was refused and why."""
    ctx.actor.require(ctx.practice.id, Permission.ENTER_CHARGES)
    form = await ctx.request.form()
    params = {key: str(form.get(key, "")) for key in SESSION_FILTER_KEYS if form.get(key)}
    try:
        with ctx.db.begin_nested():
            ids = _ids(_form_values(form, "session_id"), "session_id")
            ready = building.mark_sessions_ready(ctx.db, actor=ctx.actor, session_ids=ids)
            to_build = ready.marked + ready.already_ready
            built = (
                building.build_claims(
                    ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, session_ids=to_build
                )
                if to_build
                else building.BuildResult([], [])
            )
    except InvalidInput as exc:
        return _sessions_view(ctx, params, DEFAULT_LIMIT, 0, error=exc.detail)
    result = ReadyView(
        marked=len(ready.marked),
        already=len(ready.already_ready),
        refused=[str(refusal) for refusal in ready.refused],
        claims_ready=[b.claim.number for b in built.claims if b.claim.status == ClaimStatus.READY],
        claims_draft=[b.claim.number for b in built.claims if b.claim.status != ClaimStatus.READY],
        skipped=[str(refusal) for refusal in built.skipped],
    )
    return _sessions_view(ctx, params, DEFAULT_LIMIT, 0, result=result)


def _session_view(ctx: PageContext, session_id: int, *, message: str = "", error: str = "") -> Response:
    detail = session_queries.get_session_detail(ctx.db, actor=ctx.actor, session_id=session_id)
    service = ctx.db.get_one(m.ServiceSession, session_id)
    ctx.audit_clients("session", {detail.row.client_id})
    claims = [ctx.db.get_one(m.Claim, summary.id) for summary in detail.claims]
    can_enter = _can(ctx, Permission.ENTER_CHARGES)
    return ctx.render(
        "pages/session_detail.html",
        "sessions",
        status_code=422 if error else 200,
        detail=detail,
        row=detail.row,
        client=service.client,
        provider=service.provider,
        supervisor=ctx.db.get(m.Provider, service.provider.supervising_provider_id)
        if service.provider.supervising_provider_id
        else None,
        coverages=_coverages(ctx, service.client_id),
        claims={claim.id: claim for claim in claims},
        timeline=timeline.session_timeline(ctx.db, actor=ctx.actor, session_id=session_id),
        can_view_claims=_can(ctx, Permission.VIEW_CLAIMS),
        can_view_client=_can(ctx, Permission.VIEW_CLIENTS),
        can_enter=can_enter,
        can_pay=_can(ctx, Permission.POST_PATIENT_PAYMENTS),
        can_note=_can(ctx, Permission.ADD_CLAIM_NOTES),
        can_submit=_can(ctx, Permission.SUBMIT_CLAIMS),
        appointment_targets=session_actions.appointment_targets(ctx.db, service) if can_enter else [],
        note_targets=session_actions.note_targets(service) if can_enter else [],
        claim_targets={claim.id: session_actions.claim_targets(claim) for claim in claims},
        methods=session_actions.PAYMENT_METHODS,
        message=message,
        error=error,
        today=ctx.today,
    )


def _coverages(ctx: PageContext, client_id: int) -> list[tuple[m.Coverage, str]]:
    rows = ctx.db.execute(
        select(m.Coverage, m.Payer.name)
        .join(m.Payer, m.Payer.id == m.Coverage.payer_id)
        .where(m.Coverage.client_id == client_id)
        .order_by(m.Coverage.priority, m.Coverage.effective_on.desc())
    )
    return [(coverage, name) for coverage, name in rows]


@router.get("/sessions/{session_id}")
def session_page(ctx: Ctx, session_id: int, done: str = "") -> Response:
    return _session_view(ctx, session_id, message=DONE_MESSAGES.get(done, ""))


def _session_action(ctx: PageContext, session_id: int, done: str, action: Callable[[], object]) -> Response:
    """Run one action in a savepoint: on bad input nothing it wrote stays, and the page says why."""
    session_queries.get_session_detail(ctx.db, actor=ctx.actor, session_id=session_id)  # 404 first
    try:
        with ctx.db.begin_nested():
            action()
    except InvalidInput as exc:
        return _session_view(ctx, session_id, error=exc.detail)
    return redirect_done(f"/sessions/{session_id}", done)


@router.post("/sessions/{session_id}/status")
def session_status(ctx: Ctx, session_id: int, target: Annotated[str, Form()] = "") -> Response:
    """``appointment:<status>``, ``note:<status>`` or ``claim:<id>:<status>``."""

    def act() -> object:
        kind, _, rest = target.partition(":")
        if kind == "appointment":
            return session_actions.change_appointment_status(
                ctx.db, actor=ctx.actor, session_id=session_id, status=rest
            )
        if kind == "note":
            return session_actions.change_note_status(
                ctx.db, actor=ctx.actor, session_id=session_id, status=rest
            )
        if kind == "claim":
            claim_id, _, status = rest.partition(":")
            claim_number = _id(claim_id, "target")
            if claim_number is None or claim_number not in _session_claim_ids(ctx, session_id):
                raise InvalidInput("target: that claim is not one of this session's")
            return session_actions.change_claim_status(
                ctx.db,
                actor=ctx.actor,
                claim_id=claim_number,
                status=status,
                detail="changed on the session page",
            )
        raise InvalidInput("target: choose the status to change to")

    return _session_action(ctx, session_id, "status", act)


def _session_claim_ids(ctx: PageContext, session_id: int) -> set[int]:
    detail = session_queries.get_session_detail(ctx.db, actor=ctx.actor, session_id=session_id)
    return {claim.id for claim in detail.claims}


@router.post("/sessions/{session_id}/payment")
def session_payment(
    *,
    ctx: Ctx,
    session_id: int,
    amount: Annotated[str, Form()] = "",
    method: Annotated[str, Form()] = "card",
    received_on: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
) -> Response:
    def act() -> object:
        try:
            cents = parse_cents(amount, field="amount")
        except MoneyError as exc:
            raise InvalidInput(f"amount: {amount!r} {exc.reason}") from None
        return session_actions.record_patient_payment(
            ctx.db,
            actor=ctx.actor,
            session_id=session_id,
            amount_cents=cents,
            method=method,
            received_on=_day(received_on, "received_on"),
            reference=reference,
        )

    return _session_action(ctx, session_id, "payment", act)


@router.post("/sessions/{session_id}/notes")
def session_note(ctx: Ctx, session_id: int, body: Annotated[str, Form()] = "") -> Response:
    def act() -> object:
        return session_actions.add_note(ctx.db, actor=ctx.actor, session_id=session_id, body=body)

    return _session_action(ctx, session_id, "note", act)


@router.post("/sessions/{session_id}/flag")
def session_flag(
    ctx: Ctx, session_id: int, title: Annotated[str, Form()] = "", detail: Annotated[str, Form()] = ""
) -> Response:
    def act() -> object:
        return session_actions.flag_issue(
            ctx.db, actor=ctx.actor, session_id=session_id, title=title, detail=detail
        )

    return _session_action(ctx, session_id, "flag", act)


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


# --- claims: the tracker -----------------------------------------------------------------------------

CLAIM_FILTER_KEYS = (
    "status",
    "client",
    "provider_id",
    "payer_id",
    "since",
    "until",
    "reference",
    "kpi",
    "as_of",
)
CSV_COLUMNS = (
    "claim",
    "client",
    "clinician",
    "payer",
    "service_date",
    "status",
    "days_outstanding",
    "channel",
    "portal",
    "billed",
    "balance",
    "follow_up",
    "timely_filing",
)


def _claim_params(
    *,
    status: str = "",
    client: str = "",
    provider_id: str = "",
    payer_id: str = "",
    since: str = "",
    until: str = "",
    reference: str = "",
    kpi: str = "",
    as_of: str = "",
) -> dict[str, str]:
    """The tracker's filters as the query string gives them (the non-empty ones)."""
    return paging_query(
        status=status,
        client=client,
        provider_id=provider_id,
        payer_id=payer_id,
        since=since,
        until=until,
        reference=reference,
        kpi=kpi,
        as_of=as_of,
    )


ClaimParams = Annotated[dict[str, str], Depends(_claim_params)]


def _claim_filters(params: dict[str, str]) -> queries.ClaimFilters:
    status = params.get("status", "")
    if status and status not in {s.value for s in ClaimStatus}:
        raise InvalidInput(f"status: {status!r} is not a claim status")
    return queries.ClaimFilters(
        status=status or None,
        client_search=params.get("client", "").strip(),
        provider_id=_id(params.get("provider_id", ""), "provider_id"),
        payer_id=_id(params.get("payer_id", ""), "payer_id"),
        since=_day(params.get("since", ""), "since"),
        until=_day(params.get("until", ""), "until"),
        reference=params.get("reference", "").strip(),
    )


def _claims_behind(ctx: PageContext, params: dict[str, str]) -> queries.ClaimFilters:
    """The tracker's filters; with ``kpi`` (and ``as_of``, the day the figure was taken),
    only the claims that dashboard figure counts (services.kpis)."""
    filters = _claim_filters(params)
    kpi = params.get("kpi", "")
    if not kpi:
        return filters
    as_of = _day(params.get("as_of", ""), "as_of") or ctx.today
    ids = kpis.claims_behind(kpi, ctx.practice.id, as_of, ZoneInfo(ctx.practice.timezone))
    return replace(filters, claim_ids=ids)


def _claims_view(
    ctx: PageContext, params: dict[str, str], limit: int, offset: int, *, error: str = ""
) -> Response:
    filters = _claims_behind(ctx, params)
    page = queries.list_claims(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, filters=filters, limit=limit, offset=offset
    )
    counts = queries.claim_status_counts(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, filters=filters
    )
    ctx.audit_clients("claim", {row.claim.client_id for row in page.items})
    filter_query = {key: value for key, value in params.items() if key in CLAIM_FILTER_KEYS and value}
    query = paging_query(**filter_query, limit=limit if limit != DEFAULT_LIMIT else None)
    tab_query = {key: value for key, value in filter_query.items() if key != "status"}
    return ctx.render(
        "pages/claims.html",
        "claims",
        status_code=422 if error else 200,
        page=page,
        filters=params,
        status=params.get("status", ""),
        counts=counts,
        total=sum(counts.values()),
        statuses=[s.value for s in ClaimStatus],
        tab_query=tab_query,
        csv_query=urlencode(filter_query),
        can_submit=_can(ctx, Permission.SUBMIT_CLAIMS),
        portals=_portals(ctx),
        saved=_saved(ctx, "claims"),
        saved_query=query,
        error=error,
        message=DONE_MESSAGES.get(params.get("done", ""), ""),
        today=ctx.today,
        limit=limit,
        offset=offset,
        query=query,
        **_choices(ctx),
    )


@router.get("/claims")
def claims_page(
    *, ctx: Ctx, filters: ClaimParams, done: str = "", limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> Response:
    return _claims_view(ctx, paging_query(**filters, done=done), limit, offset)


def csv_cell(value: object) -> str:
    """A cell as text, with formulas defused: a spreadsheet must not run what a cell holds."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def claim_csv_row(row: queries.ClaimRow, today: date) -> list[str]:
    claim = row.claim
    values: list[object] = [
        claim.number,
        row.client_name,
        row.provider_name,
        row.payer_name,
        claim.service_from_on.isoformat(),
        claim.status,
        row.days_outstanding(today),
        row.last_channel,
        row.last_portal,
        format_plain(claim.billed_cents),
        format_plain(row.balance_cents),
        claim.next_followup_on.isoformat() if claim.next_followup_on else "",
        claim.timely_filing_on.isoformat() if claim.timely_filing_on else "",
    ]
    return [csv_cell(value) for value in values]


@router.get("/claims.csv")
def claims_csv(ctx: Ctx, params: ClaimParams) -> Response:
    """Exactly the claims of the tracker's current view (every page), as CSV, streamed."""
    filters = _claims_behind(ctx, params)
    ctx.audit_clients(
        "claim_export",
        queries.claim_client_ids(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, filters=filters),
    )
    factory = ctx.request.app.state.session_factory
    actor, practice_id, today = ctx.actor, ctx.practice.id, ctx.today

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        with factory() as reading:
            for chunk in queries.iter_claims(reading, actor=actor, practice_id=practice_id, filters=filters):
                for row in chunk:
                    writer.writerow(claim_csv_row(row, today))
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    name = f"claims-{params.get('status') or 'all'}-{today.isoformat()}.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/claims/submit")
async def bulk_submit(ctx: Ctx) -> Response:
    """Record the checked ready claims as submitted via a portal on a date, with a reference;
    or queue them for the electronic batch (``action=queue``)."""
    ctx.actor.require(ctx.practice.id, Permission.SUBMIT_CLAIMS)
    form = await ctx.request.form()
    params = {key: str(form.get(key, "")) for key in CLAIM_FILTER_KEYS if form.get(key)}
    action = str(form.get("action", "submit"))
    try:
        with ctx.db.begin_nested():
            ids = _ids(_form_values(form, "claim_id"), "claim_id")
            if action == "queue":
                submissions.queue_for_batch(ctx.db, actor=ctx.actor, claim_ids=ids)
            else:
                sending = _sending(
                    str(form.get("portal_id", "")),
                    str(form.get("submitted_on", "")),
                    str(form.get("submission_reference", "")),
                )
                submissions.record_submissions(ctx.db, actor=ctx.actor, claim_ids=ids, **sending)
    except (InvalidInput, NotFound) as exc:
        return _claims_view(ctx, params, DEFAULT_LIMIT, 0, error=exc.detail)
    return redirect_done("/claims", "queued" if action == "queue" else "submitted", params)


# --- claims: one claim ------------------------------------------------------------------------------


def _claim_view(
    ctx: PageContext, claim_id: int, *, message: str = "", error: str = "", status_code: int | None = None
) -> Response:
    detail = queries.get_claim_detail(ctx.db, actor=ctx.actor, claim_id=claim_id)
    ctx.audit_clients("claim", {detail.claim.client_id})
    claim = detail.claim
    return ctx.render(
        "pages/claim_detail.html",
        "claims",
        status_code=status_code or (422 if error else 200),
        detail=detail,
        claim=claim,
        scrub=scrubbing.scrub_state(ctx.db, claim.id),
        overrides=list(
            ctx.db.scalars(
                select(m.ScrubOverride)
                .where(m.ScrubOverride.claim_id == claim.id)
                .order_by(m.ScrubOverride.id)
            )
        ),
        portal_log=submissions.list_submissions(ctx.db, actor=ctx.actor, claim_id=claim.id),
        timeline=timeline.claim_timeline(ctx.db, actor=ctx.actor, claim_id=claim.id),
        portals=_portals(ctx),
        claim_targets=session_actions.claim_targets(claim),
        can_submit=_can(ctx, Permission.SUBMIT_CLAIMS),
        requests=information_requests.requests_for(ctx.db, claim.id),
        can_ask=_can(ctx, Permission.ADD_CLAIM_NOTES),
        frequencies=submissions.FREQUENCIES,
        denials_and_appeals=appeals.claim_denials_and_appeals(
            ctx.db, actor=ctx.actor, claim_id=claim.id, today=ctx.today
        )
        if ctx.actor.scope(claim.practice_id, Permission.APPEAL_DENIAL) != Scope.NONE
        else None,
        message=message,
        error=error,
        today=ctx.today,
    )


@router.get("/claims/{claim_id}")
def claim_page(
    ctx: Ctx, claim_id: int, done: str = "", error: Annotated[str, Query(max_length=500)] = ""
) -> Response:
    """One claim; ``error`` is a refusal of an action posted elsewhere that returned here."""
    return _claim_view(ctx, claim_id, message=DONE_MESSAGES.get(done, ""), error=error, status_code=200)


def _claim_action(ctx: PageContext, claim_id: int, done: str, action: Callable[[], str | None]) -> Response:
    queries.get_claim_detail(ctx.db, actor=ctx.actor, claim_id=claim_id)  # 404 before anything
    try:
        with ctx.db.begin_nested():
            outcome = action()
    except InvalidInput as exc:
        return _claim_view(ctx, claim_id, error=exc.detail)
    return redirect_done(f"/claims/{claim_id}", outcome or done)


@router.post("/claims/{claim_id}/override")
def claim_override(
    *,
    ctx: Ctx,
    claim_id: int,
    problem: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """``problem`` is ``<code>|<where>`` of a warning of the latest scrub."""

    def act() -> None:
        code, _, where = problem.partition("|")
        scrubbing.override_warning(
            ctx.db, actor=ctx.actor, claim_id=claim_id, problem_code=code, where=where, reason=reason
        )

    return _claim_action(ctx, claim_id, "override", act)


@router.post("/claims/{claim_id}/rfi")
def claim_request_information(
    *,
    ctx: Ctx,
    claim_id: int,
    question: Annotated[str, Form(max_length=400)] = "",
    due_on: Annotated[str, Form(max_length=20)] = "",
    detail: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Ask the practice for what the claim needs; it is held from sending until answered."""

    def act() -> None:
        try:
            day = date.fromisoformat(due_on) if due_on.strip() else None
        except ValueError:
            raise InvalidInput(f"due_on: {due_on!r} is not a date") from None
        information_requests.ask(
            ctx.db,
            actor=ctx.actor,
            claim_id=claim_id,
            question=question,
            due_on=day,
            today=ctx.today,
            detail=detail,
        )

    return _claim_action(ctx, claim_id, "rfi_asked", act)


@router.post("/claims/{claim_id}/rfi/{item_id}/answer")
def claim_answer_request(
    *, ctx: Ctx, claim_id: int, item_id: int, answer: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    def act() -> None:
        information_requests.answer(ctx.db, actor=ctx.actor, work_item_id=item_id, text=answer)

    return _claim_action(ctx, claim_id, "rfi_answered", act)


@router.post("/claims/{claim_id}/rescrub")
def claim_rescrub(ctx: Ctx, claim_id: int) -> Response:
    def act() -> None:
        scrubbing.scrub_claim(ctx.db, actor=ctx.actor, claim_id=claim_id)

    return _claim_action(ctx, claim_id, "rescrub", act)


@router.post("/claims/{claim_id}/ready")
def claim_ready(ctx: Ctx, claim_id: int) -> Response:
    def act() -> str:
        state = building.mark_claim_ready(ctx.db, actor=ctx.actor, claim_id=claim_id)
        return "ready" if state.is_clean else "not_ready"

    return _claim_action(ctx, claim_id, "ready", act)


@router.post("/claims/{claim_id}/status")
def claim_status(
    ctx: Ctx, claim_id: int, status: Annotated[str, Form()] = "", detail: Annotated[str, Form()] = ""
) -> Response:
    def act() -> None:
        session_actions.change_claim_status(
            ctx.db, actor=ctx.actor, claim_id=claim_id, status=status, detail=detail
        )

    return _claim_action(ctx, claim_id, "status", act)


@router.post("/claims/{claim_id}/submission")
def claim_submission(
    *,
    ctx: Ctx,
    claim_id: int,
    portal_id: Annotated[str, Form()] = "",
    submitted_on: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
) -> Response:
    def act() -> None:
        sending = _sending(portal_id, submitted_on, reference)
        submissions.record_submissions(ctx.db, actor=ctx.actor, claim_ids=[claim_id], **sending)

    return _claim_action(ctx, claim_id, "submission", act)


@router.post("/claims/{claim_id}/resubmit")
def claim_resubmit(
    *,
    ctx: Ctx,
    claim_id: int,
    frequency: Annotated[str, Form()] = "7",
    payer_claim_control_number: Annotated[str, Form()] = "",
    portal_id: Annotated[str, Form()] = "",
    submitted_on: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
) -> Response:
    def act() -> None:
        submissions.resubmit_claim(
            ctx.db,
            actor=ctx.actor,
            claim_id=claim_id,
            frequency=frequency,
            payer_claim_control_number=payer_claim_control_number,
            **_sending(portal_id, submitted_on, reference),
        )

    return _claim_action(ctx, claim_id, "resubmit", act)


# --- saved filters ----------------------------------------------------------------------------------


@router.post("/saved-filters")
async def save_filter(ctx: Ctx) -> Response:
    """Save the list's current filters under a name (for the signed-in user only)."""
    form = await ctx.request.form()
    page = str(form.get("page", ""))
    if page not in saved_filters.PAGE_FIELDS:
        raise InvalidInput(f"page: {page!r} has no saved filters")
    query = {key: str(form.get(key, "")) for key in saved_filters.PAGE_FIELDS[page] if form.get(key)}
    try:
        with ctx.db.begin_nested():
            saved_filters.save_filter(
                ctx.db,
                actor=ctx.actor,
                practice_id=ctx.practice.id,
                page=page,
                name=str(form.get("name", "")),
                query=query,
            )
    except InvalidInput as exc:
        if page == "claims":
            return _claims_view(ctx, query, DEFAULT_LIMIT, 0, error=exc.detail)
        return _sessions_view(ctx, query, DEFAULT_LIMIT, 0, error=exc.detail)
    return redirect_done(f"/{page}", "filter_saved", query)


@router.post("/saved-filters/{filter_id}/delete")
def delete_saved_filter(ctx: Ctx, filter_id: int) -> Response:
    row = saved_filters.delete_filter(ctx.db, actor=ctx.actor, filter_id=filter_id)
    return redirect_done(f"/{row.page}", "filter_deleted")


# --- payments, work -------------------------------------------------------------------------------


@router.get("/payments")
def payments_page(ctx: Ctx, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> Response:
    page = queries.list_payments(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=limit, offset=offset
    )
    ctx.audit_clients("payment", {row.payment.client_id for row in page.items if row.payment.client_id})
    return ctx.render("pages/payments.html", "payments", page=page, limit=limit, offset=offset, query={})


# --- reports, insurance, settings, audit ------------------------------------------------------------


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
    return ctx.render(
        "pages/settings.html",
        "settings",
        members=members,
        kpi_fields=kpis.threshold_fields(ctx.practice),
        kpi_goal=kpis.goal_text(ctx.practice),
    )


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
        query=paging_query(
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
