"""My work queue: what needs a look now, this week, and what is on track.

``/work-queue`` shows banners with the open items by severity, then the items in three
groups (needs immediate action, this week, on track), grouped before paging. Each follow-up
carries its quick actions, every one of which returns here and refreshes that claim's
follow-up at once (the daily rebuild would reach the same answer). A follow-up has:

* a note with the next follow-up date (the rule's repeat interval when left empty);
* "done for now": the same note in one click, "worked from the queue", at the rule's date;

and every item about a claim (a follow-up, an appeal deadline, a rejection alert ...):

* a status update (the moves the claim's status table allows by hand);
* resubmit, as is or as a replacement (frequency 7, with the payer's claim number), for a
  rejected or denied claim;
* start an appeal, for a denied or partly paid claim (on the appeals page).

Also: "submit all ready" (every ready electronic claim queued for the next batch) and the
follow-up list as CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import Response
from sqlalchemy import select

from revcycle.db import models as m
from revcycle.domain.claim_status import TERMINAL_STATUSES, ClaimStatus, allowed_targets
from revcycle.domain.followup_rules import Urgency, urgency_of
from revcycle.domain.permissions import Permission, Scope
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import campaigns, followup, queries, session_actions, submissions
from revcycle.services.appeals import APPEAL_KIND
from revcycle.services.scoping import MAX_LIMIT, Page
from revcycle.web.pages.main import Ctx, Offset, PageContext, paging_query, redirect_done

router = APIRouter(include_in_schema=False)

QUEUE_GROUP_LIMIT = 25  # items a group shows before "show all"


@router.get("/work-queue")
def work_queue_page(
    *,
    ctx: Ctx,
    severity: str = "",
    mine: bool = False,
    group: str = "",
    done: str = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = QUEUE_GROUP_LIMIT,
    offset: Offset = 0,
    error: str = "",
) -> Response:
    """My work queue: banners with the open items by severity; the items in three groups —
    needs immediate action, this week, on track — grouped before paging (each shows its first
    items and its count; ``group`` shows one, paged), each follow-up with its note form."""
    if group and group not in _GROUP_TITLES:
        group = ""
    today = ctx.today
    pages: dict[str, Page[m.WorkItem]] = {}
    for key in _GROUP_TITLES:
        if group and key != group:
            continue
        pages[key] = queries.list_work_items(
            ctx.db,
            actor=ctx.actor,
            practice_id=ctx.practice.id,
            severity=severity or None,
            owner_user_id=ctx.actor.user_id if mine else None,
            urgency=key,
            today=today,
            limit=limit,
            offset=offset if group else 0,
        )
    shown = [item for page in pages.values() for item in page.items]
    ctx.audit_clients("work_item", {item.client_id for item in shown if item.client_id})
    actions = quick_actions(ctx, shown)
    in_campaigns = campaigns.campaign_names_for_claims(ctx.db, {i.claim_id for i in shown if i.claim_id})
    return ctx.render(
        "pages/work_queue.html",
        "work_queue",
        pages=pages,
        page=pages[group] if group else None,
        group=group,
        group_titles=_GROUP_TITLES,
        counts=queries.open_work_by_severity(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id),
        severity=severity,
        severities=queries.SEVERITY_ORDER,
        mine=mine,
        notice=_QUEUE_NOTICES.get(done, ""),
        error=error,
        today=today,
        followup_kind=followup.FOLLOWUP,
        actions=actions,
        in_campaigns=in_campaigns,
        links={item.id: link for item in shown if (link := work_item_link(item))},
        ready_electronic=_ready_count(ctx),
        limit=limit,
        offset=offset,
        query=paging_query(severity=severity, mine=mine, group=group),
    )


_GROUP_TITLES = {
    str(Urgency.NOW): "Needs immediate action",
    str(Urgency.WEEK): "This week",
    str(Urgency.ON_TRACK): "On track",
}
_QUEUE_NOTICES = {
    "noted": "Note saved; the follow-up moved to its next date.",
    "worked": "Marked done for now; the follow-up comes back at the rule's next date.",
    "status": "Status updated; the claim's follow-up was refreshed.",
    "resubmitted": "Claim sent again; its follow-up now counts from today's submission.",
    "queued": "The ready claims are queued for the next electronic batch (see X12 files).",
}


def _urgency(item: m.WorkItem, today: date) -> Urgency:
    """An item's group: escalated (critical) or due, now; due within a week; later. An item
    with no date is now unless it is only information."""
    if item.due_on is None:
        return Urgency.ON_TRACK if item.severity == "info" else Urgency.NOW
    return urgency_of(item.due_on, item.severity == "critical", today)


@router.get("/work-queue/export.csv")
def work_queue_export(ctx: Ctx, mine: bool = False) -> Response:
    """The open items as CSV, in the queue's order, with their group: the follow-up list to
    work from a phone call sheet or hand to someone else."""
    items: list[m.WorkItem] = []
    offset = 0
    while True:
        page = queries.list_work_items(
            ctx.db,
            actor=ctx.actor,
            practice_id=ctx.practice.id,
            owner_user_id=ctx.actor.user_id if mine else None,
            limit=MAX_LIMIT,
            offset=offset,
        )
        items += page.items
        offset += MAX_LIMIT
        if offset >= page.total:
            break
    ctx.audit_clients("work_item", {item.client_id for item in items if item.client_id})
    claims = dict(
        ctx.db.execute(
            select(m.Claim.id, m.Claim.number).where(
                m.Claim.id.in_({i.claim_id for i in items if i.claim_id})
            )
        ).all()
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["group", "severity", "due_on", "kind", "title", "claim", "rule", "detail"])
    today = ctx.today
    for item in items:
        writer.writerow(
            [
                _GROUP_TITLES[str(_urgency(item, today))],
                item.severity,
                item.due_on.isoformat() if item.due_on else "",
                item.kind,
                item.title,
                claims.get(item.claim_id, "") if item.claim_id else "",
                item.rule,
                item.detail,
            ]
        )
    name = f"work-queue-{today.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/work-queue/submit-ready")
def work_queue_submit_ready(ctx: Ctx) -> Response:
    """Queue every ready claim billed electronically for the next batch, in one click."""
    ctx.actor.require(ctx.practice.id, Permission.SUBMIT_CLAIMS)
    ids = _electronic_ready(ctx)
    if not ids:
        return redirect_done("/work-queue", "", {"error": "no claim is ready to send electronically"})
    try:
        with ctx.db.begin_nested():
            submissions.queue_for_batch(ctx.db, actor=ctx.actor, claim_ids=ids)
    except (InvalidInput, NotFound) as exc:
        return redirect_done("/work-queue", "", {"error": exc.detail})
    return redirect_done("/work-queue", "queued", {"count": len(ids)})


def _ready_count(ctx: PageContext) -> int:
    """How many claims "submit all ready" would queue (none for a role that cannot submit)."""
    if ctx.actor.scope(ctx.practice.id, Permission.SUBMIT_CLAIMS) == Scope.NONE:
        return 0
    return len(_electronic_ready(ctx))


def _electronic_ready(ctx: PageContext) -> list[int]:
    """The practice's ready claims whose payer it bills through the clearinghouse, not
    already queued in a batch."""
    portal_payers = select(m.PracticePayer.payer_id).where(
        m.PracticePayer.practice_id == ctx.practice.id, m.PracticePayer.billing_route != "clearinghouse"
    )
    queued = (
        select(m.Submission.claim_id)
        .join(m.SubmissionBatch, m.SubmissionBatch.id == m.Submission.batch_id)
        .where(m.Submission.practice_id == ctx.practice.id, m.SubmissionBatch.status == "queued")
    )
    query = select(m.Claim.id).where(
        m.Claim.practice_id == ctx.practice.id,
        m.Claim.status == str(ClaimStatus.READY),
        m.Claim.payer_id.not_in(portal_payers),
        m.Claim.id.not_in(queued),
    )
    return list(ctx.db.scalars(query.order_by(m.Claim.id)))


@router.post("/work-queue/{item_id}/note")
def work_item_note(
    ctx: Ctx,
    item_id: int,
    body: Annotated[str, Form()] = "",
    next_on: Annotated[str, Form()] = "",
) -> Response:
    """A note on a follow-up that sets its next date (the rule's repeat interval when empty)."""
    try:
        day = date.fromisoformat(next_on) if next_on.strip() else None
    except ValueError:
        return redirect_done("/work-queue", "", {"error": f"next_on: {next_on!r} is not a date"})
    try:
        with ctx.db.begin_nested():
            followup.work_item_note(
                ctx.db, actor=ctx.actor, work_item_id=item_id, body=body, next_on=day, today=ctx.today
            )
    except (InvalidInput, NotFound) as exc:
        return redirect_done("/work-queue", "", {"error": exc.detail})
    return redirect_done("/work-queue", "noted")


def work_item_link(item: m.WorkItem) -> str:
    """Where an item is worked, beyond its claim: an appeal deadline's appeal or the appeals page."""
    if item.kind != APPEAL_KIND:
        return ""
    kind, _, number = (item.dedupe_key or "").removeprefix(f"{APPEAL_KIND}:").partition(":")
    return f"/appeals/{number}" if kind == "draft" and number.isdigit() else "/appeals"


# --- quick actions ------------------------------------------------------------------------------

# Statuses a person may set from the queue: not ready/submitted (they have their own steps),
# never void or written off (a write-off goes through approval).
_NOT_FROM_QUEUE = frozenset({ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.SUBMITTED}) | TERMINAL_STATUSES
_RESUBMITTABLE = frozenset({ClaimStatus.REJECTED, ClaimStatus.DENIED, ClaimStatus.PARTIALLY_PAID})
_APPEALABLE = frozenset({ClaimStatus.DENIED, ClaimStatus.PARTIALLY_PAID})


@dataclass(frozen=True)
class QuickActions:
    """What the queue offers on one follow-up's claim, by its status and the person's rights."""

    claim_id: int
    claim_number: str
    status: str
    targets: tuple[str, ...]
    can_resubmit: bool
    can_appeal: bool
    payer_claim_control_number: str


def quick_actions(ctx: PageContext, items: list[m.WorkItem]) -> dict[int, QuickActions]:
    """Per item shown that is about a claim (by item id), the quick actions on that claim."""
    claim_ids = {i.claim_id for i in items if i.claim_id}
    if not claim_ids:
        return {}
    claims = {c.id: c for c in ctx.db.scalars(select(m.Claim).where(m.Claim.id.in_(claim_ids)))}
    practice = ctx.practice.id
    may_submit = ctx.actor.scope(practice, Permission.SUBMIT_CLAIMS) != Scope.NONE
    may_appeal = ctx.actor.scope(practice, Permission.APPEAL_DENIAL) != Scope.NONE
    found = {}
    for item in items:
        claim = claims.get(item.claim_id or 0)
        if claim is None:
            continue
        status = ClaimStatus(claim.status)
        targets = sorted(str(t) for t in allowed_targets(status) - _NOT_FROM_QUEUE) if may_submit else []
        found[item.id] = QuickActions(
            claim.id,
            claim.number,
            str(status),
            tuple(targets),
            may_submit and status in _RESUBMITTABLE,
            may_appeal and status in _APPEALABLE,
            claim.payer_claim_control_number,
        )
    return found


def _item_claim(ctx: PageContext, item_id: int) -> int:
    """The claim of an open work item of this practice, or NotFound."""
    item = ctx.db.get(m.WorkItem, item_id)
    if item is None or item.practice_id != ctx.practice.id or item.claim_id is None:
        raise NotFound(f"work item {item_id} not found")
    if item.status == "resolved":
        raise InvalidInput(f"work item {item_id} is already resolved")
    return item.claim_id


def _act_on_claim(ctx: PageContext, item_id: int, done: str, act: Callable[[int], None]) -> Response:
    """Run a quick action on the item's claim, then refresh that claim's follow-up."""
    try:
        with ctx.db.begin_nested():
            claim_id = _item_claim(ctx, item_id)
            act(claim_id)
            followup.rebuild(ctx.db, practice_id=ctx.practice.id, today=ctx.today, claim_ids=[claim_id])
    except (InvalidInput, NotFound) as exc:
        return redirect_done("/work-queue", "", {"error": exc.detail})
    return redirect_done("/work-queue", done)


@router.post("/work-queue/{item_id}/status")
def work_item_status(
    ctx: Ctx, item_id: int, status: Annotated[str, Form()] = "", detail: Annotated[str, Form()] = ""
) -> Response:
    """Set the claim's status from what the payer said (e.g. denied on the phone)."""

    def act(claim_id: int) -> None:
        ctx.actor.require(ctx.practice.id, Permission.SUBMIT_CLAIMS)
        if status in {str(s) for s in _NOT_FROM_QUEUE}:
            raise InvalidInput(f"status: {status} is not set from the work queue")
        session_actions.change_claim_status(
            ctx.db, actor=ctx.actor, claim_id=claim_id, status=status, detail=detail
        )

    return _act_on_claim(ctx, item_id, "status", act)


@router.post("/work-queue/{item_id}/resubmit")
def work_item_resubmit(
    ctx: Ctx,
    item_id: int,
    frequency: Annotated[str, Form()] = "7",
    payer_claim_control_number: Annotated[str, Form()] = "",
) -> Response:
    """Send the claim again: as is (1) or corrected (7, with the payer's claim number)."""

    def act(claim_id: int) -> None:
        submissions.resubmit_claim(
            ctx.db,
            actor=ctx.actor,
            claim_id=claim_id,
            frequency=frequency,
            payer_claim_control_number=payer_claim_control_number,
            submitted_on=ctx.today,
            reason="resubmitted from the work queue",
        )

    return _act_on_claim(ctx, item_id, "resubmitted", act)


@router.post("/work-queue/{item_id}/done")
def work_item_done(ctx: Ctx, item_id: int) -> Response:
    """Done for now: a note that the item was worked, the next date the rule's repeat."""
    try:
        with ctx.db.begin_nested():
            followup.work_item_note(
                ctx.db,
                actor=ctx.actor,
                work_item_id=item_id,
                body="Worked from the queue; nothing more until the next follow-up.",
                next_on=None,
                today=ctx.today,
            )
    except (InvalidInput, NotFound) as exc:
        return redirect_done("/work-queue", "", {"error": exc.detail})
    return redirect_done("/work-queue", "worked")
