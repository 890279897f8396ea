"""Payer strategies and campaigns: ``/payer-strategies``, ``/campaigns``, ``/campaigns/{id}``.

``/payer-strategies`` shows one card per payer with open claims (figures computed from the
claims and the ledger, a priority badge, the workflow chosen for it or the one its figures
suggest), a small form to choose the workflow (administrators: a new version each time) and
one to start a campaign on that payer. ``/campaigns`` lists every campaign with what it
achieved (measured, never typed in) and a form to start one; ``/campaigns/{id}`` shows its
items with their balance at start, attempts and payments, and lets billing add follow-up
items by id, take one out, or close it.

Reading needs ``run_reports``; choosing a workflow ``manage_practice``; campaigns
``submit_claims``. A refusal (unknown workflow, empty or taken name, a closed campaign)
answers the page again with the message and what was typed, never a 500. No page names a
client, so nothing here writes a read audit row.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from revcycle.domain.payer_strategy import Workflow
from revcycle.domain.permissions import Permission, Scope
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.money import MoneyError, parse_cents
from revcycle.services import campaigns, payer_strategies
from revcycle.services.campaigns import CampaignFilter
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

ACTIVE = "payer_strategies"
WORKFLOWS = [(w.value, w.label) for w in Workflow]
PRIORITY_BADGES = {"high": "text-bg-danger", "medium": "text-bg-warning", "low": "text-bg-secondary"}
_NOTICES = {
    "chosen": "Workflow chosen: saved as a new version.",
    "created": "Campaign started.",
    "added": "Claims added to the campaign.",
    "removed": "Claim taken out of the campaign.",
    "closed": "Campaign closed: its measures stop here.",
}
Text = Annotated[str, Form(max_length=500)]


def _may(ctx: PageContext, permission: Permission) -> bool:
    return ctx.actor.scope(ctx.practice.id, permission) != Scope.NONE


def _common(ctx: PageContext) -> dict[str, Any]:
    return {
        "workflows": WORKFLOWS,
        "badges": PRIORITY_BADGES,
        "may_choose": _may(ctx, Permission.MANAGE_PRACTICE),
        "may_campaign": _may(ctx, Permission.SUBMIT_CLAIMS),
    }


# --- the cards -------------------------------------------------------------------------------


def _cards_page(ctx: PageContext, *, status_code: int = 200, **extra: Any) -> Response:
    found = payer_strategies.cards(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, today=ctx.today)
    return ctx.render(
        "strategies/cards.html",
        ACTIVE,
        cards=found,
        open_cents=sum(c.figures.open_balance_cents for c in found),
        status_code=status_code,
        **_common(ctx),
        **extra,
    )


@router.get("/payer-strategies")
def cards_page(ctx: Ctx, done: str = "") -> Response:
    ctx.actor.require(ctx.practice.id, Permission.RUN_REPORTS)
    return _cards_page(ctx, notice=_NOTICES.get(done, ""))


@router.post("/payer-strategies/{payer_id}/workflow")
def choose(
    ctx: Ctx, payer_id: int, workflow: Annotated[str, Form(max_length=30)], note: Text = ""
) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    try:
        with ctx.db.begin_nested():
            payer_strategies.choose_workflow(
                ctx.db,
                actor=ctx.actor,
                practice_id=ctx.practice.id,
                payer_id=payer_id,
                workflow=workflow,
                note=note,
            )
    except (InvalidInput, NotFound) as exc:
        return _cards_page(ctx, error=exc.detail, error_payer=payer_id, status_code=422)
    return RedirectResponse(
        f"/payer-strategies?{urlencode({'done': 'chosen'})}#payer-{payer_id}", status_code=303
    )


# --- campaigns -------------------------------------------------------------------------------


def _int(text: str, field: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(f"{field}: {value!r} is not a whole number")
    return int(value)


def _ids(text: str) -> tuple[int, ...]:
    parts = [p for p in text.replace(",", " ").split() if p]
    wrong = [p for p in parts if not p.isdigit()]
    if wrong:
        raise InvalidInput(f"work_item_ids: {', '.join(wrong)} is not a work item number")
    return tuple(int(p) for p in parts)


def _filter(form: dict[str, str]) -> CampaignFilter:
    balance = form.get("min_balance", "").strip()
    try:
        min_balance = parse_cents(balance, field="min_balance") if balance else 1
    except MoneyError as exc:
        raise InvalidInput(str(exc)) from None
    return CampaignFilter(
        payer_id=_int(form.get("payer_id", ""), "payer_id"),
        min_age_days=_int(form.get("min_age_days", ""), "min_age_days") or 0,
        min_balance_cents=min_balance,
        work_item_ids=_ids(form.get("work_item_ids", "")),
    )


def _campaigns_page(
    ctx: PageContext, form: dict[str, str], *, status_code: int = 200, **extra: Any
) -> Response:
    found = campaigns.list_campaigns(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, today=ctx.today)
    cards = payer_strategies.cards(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, today=ctx.today)
    return ctx.render(
        "strategies/campaigns.html",
        ACTIVE,
        campaigns=found,
        payers=[(c.payer_id, c.payer_name) for c in sorted(cards, key=lambda c: c.payer_name)],
        form=form,
        status_code=status_code,
        **_common(ctx),
        **extra,
    )


@router.get("/campaigns")
def campaigns_page(ctx: Ctx, done: str = "") -> Response:
    ctx.actor.require(ctx.practice.id, Permission.RUN_REPORTS)
    return _campaigns_page(ctx, {"workflow": "phone"}, notice=_NOTICES.get(done, ""))


async def _form(ctx: PageContext) -> dict[str, str]:
    raw = await ctx.request.form()
    return {key: str(value)[:2000] for key, value in raw.items() if key != "csrf_token"}


@router.post("/campaigns")
async def create(ctx: Ctx) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.SUBMIT_CLAIMS)
    form = await _form(ctx)
    try:
        with ctx.db.begin_nested():
            campaign, _ = campaigns.create_campaign(
                ctx.db,
                actor=ctx.actor,
                practice_id=ctx.practice.id,
                name=form.get("name", ""),
                workflow=form.get("workflow", ""),
                wanted=_filter(form),
                today=ctx.today,
            )
    except InvalidInput as exc:
        if form.get("from") == "cards":
            return _cards_page(ctx, error=exc.detail, error_payer=_payer_of(form), status_code=422)
        return _campaigns_page(ctx, form, error=exc.detail, status_code=422)
    return RedirectResponse(f"/campaigns/{campaign.id}?{urlencode({'done': 'created'})}", status_code=303)


def _payer_of(form: dict[str, str]) -> int | None:
    text = form.get("payer_id", "").strip()
    return int(text) if text.isdigit() else None


def _campaign_page(ctx: PageContext, campaign_id: int, *, status_code: int = 200, **extra: Any) -> Response:
    report = campaigns.campaign_report(ctx.db, actor=ctx.actor, campaign_id=campaign_id, today=ctx.today)
    if report.practice_id != ctx.practice.id:
        raise NotFound(f"campaign {campaign_id} not found")
    return ctx.render(
        "strategies/campaign.html", ACTIVE, report=report, status_code=status_code, **_common(ctx), **extra
    )


@router.get("/campaigns/{campaign_id}")
def campaign_page(ctx: Ctx, campaign_id: int, done: str = "") -> Response:
    ctx.actor.require(ctx.practice.id, Permission.RUN_REPORTS)
    return _campaign_page(ctx, campaign_id, notice=_NOTICES.get(done, ""))


def _done(campaign_id: int, what: str) -> Response:
    return RedirectResponse(f"/campaigns/{campaign_id}?{urlencode({'done': what})}", status_code=303)


@router.post("/campaigns/{campaign_id}/items")
def add(ctx: Ctx, campaign_id: int, work_item_ids: Annotated[str, Form(max_length=2000)] = "") -> Response:
    ctx.actor.require(ctx.practice.id, Permission.SUBMIT_CLAIMS)
    try:
        ids = _ids(work_item_ids)
        if not ids:
            raise InvalidInput("work_item_ids: give the follow-up work item numbers to add")
        with ctx.db.begin_nested():
            campaigns.add_items(
                ctx.db,
                actor=ctx.actor,
                campaign_id=campaign_id,
                wanted=CampaignFilter(work_item_ids=ids),
                today=ctx.today,
            )
    except (InvalidInput, Conflict) as exc:
        return _campaign_page(
            ctx, campaign_id, error=exc.detail, typed=work_item_ids, status_code=exc.status_code
        )
    return _done(campaign_id, "added")


@router.post("/campaigns/{campaign_id}/items/{claim_id}/remove")
def remove(ctx: Ctx, campaign_id: int, claim_id: int) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.SUBMIT_CLAIMS)
    try:
        with ctx.db.begin_nested():
            campaigns.remove_item(ctx.db, actor=ctx.actor, campaign_id=campaign_id, claim_id=claim_id)
    except Conflict as exc:
        return _campaign_page(ctx, campaign_id, error=exc.detail, status_code=exc.status_code)
    return _done(campaign_id, "removed")


@router.post("/campaigns/{campaign_id}/close")
def close(ctx: Ctx, campaign_id: int) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.SUBMIT_CLAIMS)
    try:
        with ctx.db.begin_nested():
            campaigns.close_campaign(ctx.db, actor=ctx.actor, campaign_id=campaign_id, today=ctx.today)
    except Conflict as exc:
        return _campaign_page(ctx, campaign_id, error=exc.detail, status_code=exc.status_code)
    return _done(campaign_id, "closed")
