"""Campaigns: claims (through their follow-up work items) worked together under one workflow —
"call Aetna about everything 30+ days old" — and what that achieved, measured.

A campaign is made with a filter (a payer, a minimum age since the claim was first sent, a
minimum insurance balance, at most so many of the largest) or with explicit work item ids;
each claim joins with its insurance balance on the day it joined (``added_on``, which may be in
the past: then the claims are those that were open with their payer that day, by their status
history, and the balance is the ledger's as of that day). Items can be added and removed while
the campaign is active; closing it ends its measuring window.

Measures (:func:`campaign_report`, :func:`list_campaigns`) come only from what was recorded:
notes on the item or its claim are attempts, insurance payments in the ledger are payments
(``domain.payer_strategy.measure`` says how they combine). Nothing about the outcome is typed
in. Reading needs ``run_reports``; making and changing campaigns ``submit_claims`` (billing and
administrators).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.followup_rules import FOLLOWUP_STATUSES
from revcycle.domain.ledger import Account
from revcycle.domain.payer_strategy import (
    CampaignMeasures,
    ItemFacts,
    ItemOutcome,
    Workflow,
    measure,
    outcome_of,
    parse_workflow,
)
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit, payer_strategies
from revcycle.services.actor import Actor

__all__ = [
    "NAME_MAX",
    "CampaignFilter",
    "CampaignItemRow",
    "CampaignReport",
    "add_items",
    "campaign_names_for_claims",
    "campaign_report",
    "close_campaign",
    "create_campaign",
    "list_campaigns",
    "remove_item",
    "seed_demo_strategies",
]

NAME_MAX = 120
FOLLOWUP = "followup"
_OPEN_ITEM = ("open", "acknowledged")
_FOLLOWUP_STATUSES = sorted(str(s) for s in FOLLOWUP_STATUSES)


@dataclass(frozen=True)
class CampaignFilter:
    """Which claims join: explicit follow-up work item ids, or every open follow-up claim that
    matches the payer (if given), was first sent ``min_age_days`` or more before the day it
    joins, and owes at least ``min_balance_cents`` (1: anything), the ``limit`` largest."""

    payer_id: int | None = None
    min_age_days: int = 0
    min_balance_cents: int = 1
    work_item_ids: tuple[int, ...] = ()
    limit: int | None = None


@dataclass(frozen=True)
class _Candidate:
    claim_id: int
    work_item_id: int | None
    balance_cents: int


def _zone(db: Session, practice_id: int) -> ZoneInfo:
    practice = db.get(m.Practice, practice_id)
    if practice is None:
        raise NotFound(f"practice {practice_id} not found")
    return ZoneInfo(practice.timezone)


def _end_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)


def _balances_as_of(db: Session, practice_id: int, claim_ids: Sequence[int], day: date) -> dict[int, int]:
    """Claim id -> its insurance AR from the postings dated on or before ``day``."""
    found: dict[int, int] = {}
    for chunk in _chunks(claim_ids):
        found.update(
            (claim_id, int(cents or 0))
            for claim_id, cents in db.execute(
                select(m.Posting.claim_id, func.sum(m.Posting.amount_cents))
                .where(
                    m.Posting.practice_id == practice_id,
                    m.Posting.account == Account.AR_INSURANCE.value,
                    m.Posting.claim_id.in_(chunk),
                    m.Posting.accounting_on <= day,
                )
                .group_by(m.Posting.claim_id)
            )
            if claim_id is not None
        )
    return found


def _chunks(ids: Sequence[int], size: int = 900) -> Iterable[list[int]]:
    values = list(ids)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _statuses_as_of(
    db: Session, practice_id: int, claim_ids: Sequence[int], moment: datetime
) -> dict[int, str]:
    """Claim id -> its status just before ``moment``, from its status history."""
    found: dict[int, str] = {}
    for chunk in _chunks(claim_ids):
        rows = db.execute(
            select(m.ClaimEvent.claim_id, m.ClaimEvent.to_status)
            .where(
                m.ClaimEvent.practice_id == practice_id,
                m.ClaimEvent.claim_id.in_(chunk),
                m.ClaimEvent.created_at < moment,
            )
            .order_by(m.ClaimEvent.created_at, m.ClaimEvent.id)
        )
        found.update((claim_id, status) for claim_id, status in rows)
    return found


def _candidates(
    db: Session, *, practice_id: int, wanted: CampaignFilter, added_on: date, today: date, zone: ZoneInfo
) -> list[_Candidate]:
    if wanted.work_item_ids:
        return _explicit(db, practice_id, wanted.work_item_ids, added_on)
    sent = (
        select(m.Submission.claim_id, func.min(m.Submission.submitted_at).label("sent_at"))
        .where(m.Submission.practice_id == practice_id)
        .group_by(m.Submission.claim_id)
        .subquery()
    )
    item = (
        select(m.WorkItem.claim_id, m.WorkItem.id, m.WorkItem.status)
        .where(
            m.WorkItem.practice_id == practice_id,
            m.WorkItem.kind == FOLLOWUP,
            m.WorkItem.claim_id.is_not(None),
        )
        .subquery()
    )
    query = (
        select(m.Claim.id, sent.c.sent_at, item.c.id, item.c.status)
        .join(sent, sent.c.claim_id == m.Claim.id)
        .outerjoin(item, item.c.claim_id == m.Claim.id)
        .where(m.Claim.practice_id == practice_id, sent.c.sent_at < _end_of(added_on, zone))
    )
    if wanted.payer_id is not None:
        query = query.where(m.Claim.payer_id == wanted.payer_id)
    if added_on >= today:  # now: the claims with an open follow-up item
        query = query.where(item.c.status.in_(_OPEN_ITEM))
    rows = list(db.execute(query))
    if added_on < today:  # then: the claims that were waiting on their payer that day
        statuses = _statuses_as_of(db, practice_id, [r[0] for r in rows], _end_of(added_on, zone))
        rows = [r for r in rows if statuses.get(r[0]) in _FOLLOWUP_STATUSES]
    oldest = added_on - timedelta(days=wanted.min_age_days)
    rows = [r for r in rows if _local_day(r[1], zone) <= oldest]
    balances = _balances_as_of(db, practice_id, [r[0] for r in rows], added_on)
    found = [
        _Candidate(claim_id, item_id, balances.get(claim_id, 0))
        for claim_id, _, item_id, _ in rows
        if balances.get(claim_id, 0) >= wanted.min_balance_cents
    ]
    found.sort(key=lambda c: (-c.balance_cents, c.claim_id))
    return found[: wanted.limit] if wanted.limit else found


def _local_day(stamp: datetime, zone: ZoneInfo) -> date:
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(zone).date()


def _explicit(
    db: Session, practice_id: int, work_item_ids: Sequence[int], added_on: date
) -> list[_Candidate]:
    items = {
        item.id: item
        for item in db.scalars(
            select(m.WorkItem).where(
                m.WorkItem.practice_id == practice_id, m.WorkItem.id.in_(list(work_item_ids))
            )
        )
    }
    wrong = [
        str(i)
        for i in work_item_ids
        if i not in items
        or items[i].kind != FOLLOWUP
        or items[i].claim_id is None
        or items[i].status == "resolved"
    ]
    if wrong:
        raise InvalidInput(f"work_item_ids: not an open follow-up of this practice: {', '.join(wrong)}")
    claim_ids = [items[i].claim_id for i in dict.fromkeys(work_item_ids)]
    balances = _balances_as_of(db, practice_id, [c for c in claim_ids if c is not None], added_on)
    return [
        _Candidate(item.claim_id, item.id, balances.get(item.claim_id, 0))
        for item in (items[i] for i in dict.fromkeys(work_item_ids))
        if item.claim_id is not None
    ]


def _check_name(db: Session, practice_id: int, name: str) -> str:
    text = " ".join(name.split())
    if not text:
        raise InvalidInput("name: give the campaign a name")
    if len(text) > NAME_MAX:
        raise InvalidInput(f"name: at most {NAME_MAX} characters")
    taken = db.scalar(
        select(m.Campaign.id).where(m.Campaign.practice_id == practice_id, m.Campaign.name == text)
    )
    if taken is not None:
        raise InvalidInput(f"name: a campaign named {text!r} already exists")
    return text


def _check_workflow(workflow: str) -> Workflow:
    chosen = parse_workflow(workflow)
    if chosen is None:
        raise InvalidInput(f"workflow: {workflow!r} is not one of {', '.join(w.value for w in Workflow)}")
    return chosen


def _check_filter(wanted: CampaignFilter) -> None:
    if wanted.min_age_days < 0:
        raise InvalidInput("min_age_days: must be zero or more")
    if wanted.min_balance_cents < 0:
        raise InvalidInput("min_balance: must be zero or more")
    if wanted.limit is not None and wanted.limit < 1:
        raise InvalidInput("limit: must be at least 1")


def create_campaign(
    db: Session,
    *,
    actor: Actor,
    practice_id: int,
    name: str,
    workflow: str,
    wanted: CampaignFilter,
    today: date,
    started_on: date | None = None,
) -> tuple[m.Campaign, int]:
    """A new active campaign with the claims ``wanted`` picks, joining on ``started_on``
    (default today); returns it and how many claims joined. Audited."""
    actor.require(practice_id, Permission.SUBMIT_CLAIMS)
    zone = _zone(db, practice_id)
    text = _check_name(db, practice_id, name)
    chosen = _check_workflow(workflow)
    _check_filter(wanted)
    started = started_on or today
    if started > today:
        raise InvalidInput(f"started_on: a campaign cannot start after today ({today})")
    if wanted.payer_id is not None and db.get(m.Payer, wanted.payer_id) is None:
        raise InvalidInput(f"payer_id: no payer {wanted.payer_id}")
    campaign = m.Campaign(
        practice_id=practice_id,
        name=text,
        workflow=chosen.value,
        payer_id=wanted.payer_id,
        status="active",
        started_on=started,
        created_by_user_id=actor.user_id,
    )
    db.add(campaign)
    db.flush()
    added = _add(
        db,
        campaign,
        _candidates(db, practice_id=practice_id, wanted=wanted, added_on=started, today=today, zone=zone),
        started,
    )
    audit.record(
        db,
        actor=actor,
        practice_id=practice_id,
        action="create",
        entity="campaign",
        entity_id=campaign.id,
        after={
            "name": text,
            "workflow": chosen.value,
            "payer_id": wanted.payer_id,
            "started_on": started.isoformat(),
            "min_age_days": wanted.min_age_days,
            "min_balance_cents": wanted.min_balance_cents,
            "work_item_ids": list(wanted.work_item_ids),
            "items": added,
        },
        reason="campaign started",
    )
    return campaign, added


def _add(db: Session, campaign: m.Campaign, candidates: Sequence[_Candidate], added_on: date) -> int:
    present = set(
        db.scalars(select(m.CampaignItem.claim_id).where(m.CampaignItem.campaign_id == campaign.id))
    )
    new = [c for c in candidates if c.claim_id not in present]
    db.add_all(
        m.CampaignItem(
            campaign_id=campaign.id,
            claim_id=c.claim_id,
            work_item_id=c.work_item_id,
            added_on=added_on,
            balance_at_start_cents=c.balance_cents,
        )
        for c in new
    )
    db.flush()
    return len(new)


def _campaign(db: Session, actor: Actor, campaign_id: int, permission: Permission) -> m.Campaign:
    campaign = db.get(m.Campaign, campaign_id)
    if campaign is None or not (actor.is_system or campaign.practice_id in actor.practice_ids):
        raise NotFound(f"campaign {campaign_id} not found")
    actor.require(campaign.practice_id, permission)
    return campaign


def _active(campaign: m.Campaign) -> None:
    if campaign.status != "active":
        raise Conflict(f"campaign {campaign.name!r} is closed: nothing changes in it any more")


def add_items(
    db: Session,
    *,
    actor: Actor,
    campaign_id: int,
    wanted: CampaignFilter,
    today: date,
    added_on: date | None = None,
) -> int:
    """Add the claims ``wanted`` picks (those already in it stay as they joined); audited."""
    campaign = _campaign(db, actor, campaign_id, Permission.SUBMIT_CLAIMS)
    _active(campaign)
    _check_filter(wanted)
    day = added_on or today
    if day > today or day < campaign.started_on:
        raise InvalidInput(f"added_on: between the campaign's start ({campaign.started_on}) and today")
    zone = _zone(db, campaign.practice_id)
    added = _add(
        db,
        campaign,
        _candidates(
            db, practice_id=campaign.practice_id, wanted=wanted, added_on=day, today=today, zone=zone
        ),
        day,
    )
    audit.record(
        db,
        actor=actor,
        practice_id=campaign.practice_id,
        action="update",
        entity="campaign",
        entity_id=campaign.id,
        after={"added": added, "work_item_ids": list(wanted.work_item_ids), "added_on": day.isoformat()},
        reason="claims added to the campaign",
    )
    return added


def remove_item(db: Session, *, actor: Actor, campaign_id: int, claim_id: int) -> None:
    """Take a claim out of an active campaign (its measures no longer count it); audited."""
    campaign = _campaign(db, actor, campaign_id, Permission.SUBMIT_CLAIMS)
    _active(campaign)
    item = db.scalar(
        select(m.CampaignItem).where(
            m.CampaignItem.campaign_id == campaign.id, m.CampaignItem.claim_id == claim_id
        )
    )
    if item is None:
        raise NotFound(f"claim {claim_id} is not in campaign {campaign.name!r}")
    before = {
        "claim_id": claim_id,
        "added_on": item.added_on.isoformat(),
        "balance_at_start_cents": item.balance_at_start_cents,
    }
    db.delete(item)
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=campaign.practice_id,
        action="update",
        entity="campaign",
        entity_id=campaign.id,
        before=before,
        after={"removed_claim_id": claim_id},
        reason="claim taken out of the campaign",
    )


def close_campaign(db: Session, *, actor: Actor, campaign_id: int, today: date) -> m.Campaign:
    """Close it today: its measures stop counting what happens after; audited."""
    campaign = _campaign(db, actor, campaign_id, Permission.SUBMIT_CLAIMS)
    _active(campaign)
    campaign.status, campaign.closed_on = "closed", max(today, campaign.started_on)
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=campaign.practice_id,
        action="update",
        entity="campaign",
        entity_id=campaign.id,
        before={"status": "active"},
        after={"status": "closed", "closed_on": campaign.closed_on.isoformat()},
        reason="campaign closed",
    )
    return campaign


# --- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignItemRow:
    claim_id: int
    claim_number: str
    claim_status: str
    payer_name: str
    service_on: date
    work_item_id: int | None
    added_on: date
    balance_at_start_cents: int
    balance_now_cents: int
    outcome: ItemOutcome


@dataclass(frozen=True)
class CampaignReport:
    id: int
    practice_id: int
    name: str
    workflow: Workflow
    payer_id: int | None
    payer_name: str
    status: str
    started_on: date
    closed_on: date | None
    measured_to: date
    balance_at_start_cents: int
    measures: CampaignMeasures
    items: tuple[CampaignItemRow, ...]


def _facts(
    db: Session, campaign: m.Campaign, items: Sequence[m.CampaignItem], end: date, zone: ZoneInfo
) -> dict[int, ItemFacts]:
    claim_ids = [i.claim_id for i in items]
    by_item = {i.work_item_id: i.claim_id for i in items if i.work_item_id is not None}
    notes: dict[int, list[date]] = defaultdict(list)
    payments: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for chunk in _chunks(claim_ids):
        items_chunk = [w for w, c in by_item.items() if c in set(chunk)]
        for claim_id, work_item_id, created_at in db.execute(
            select(m.Note.claim_id, m.Note.work_item_id, m.Note.created_at).where(
                m.Note.practice_id == campaign.practice_id,
                or_(m.Note.claim_id.in_(chunk), m.Note.work_item_id.in_(items_chunk or [-1])),
                m.Note.created_at < _end_of(end, zone),
            )
        ):
            owner = claim_id if claim_id in set(chunk) else by_item.get(work_item_id or 0)
            if owner is not None:
                notes[owner].append(_local_day(created_at, zone))
        paid = payer_strategies.insurance_payments(campaign.practice_id).where(
            m.Posting.claim_id.in_(chunk), m.Posting.accounting_on <= end
        )
        for claim_id, day, cents in db.execute(paid):
            if claim_id is not None:
                payments[claim_id].append((day, int(cents)))
    return {
        i.claim_id: ItemFacts(i.added_on, tuple(notes[i.claim_id]), tuple(payments[i.claim_id]))
        for i in items
    }


def _measured_to(campaign: m.Campaign, today: date) -> date:
    return min(campaign.closed_on, today) if campaign.closed_on else today


def campaign_report(db: Session, *, actor: Actor, campaign_id: int, today: date) -> CampaignReport:
    """The campaign, its measures and one row per item (largest balance at start first)."""
    campaign = _campaign(db, actor, campaign_id, Permission.RUN_REPORTS)
    zone = _zone(db, campaign.practice_id)
    end = _measured_to(campaign, today)
    rows = list(
        db.execute(
            select(m.CampaignItem, m.Claim, m.Payer.name, payer_strategies.insurance_balance_column())
            .join(m.Claim, m.Claim.id == m.CampaignItem.claim_id)
            .join(m.Payer, m.Payer.id == m.Claim.payer_id)
            .where(m.CampaignItem.campaign_id == campaign.id)
            .order_by(m.CampaignItem.balance_at_start_cents.desc(), m.CampaignItem.claim_id)
        )
    )
    facts = _facts(db, campaign, [r[0] for r in rows], end, zone)
    items = tuple(
        CampaignItemRow(
            claim_id=claim.id,
            claim_number=claim.number,
            claim_status=claim.status,
            payer_name=payer_name,
            service_on=claim.service_from_on,
            work_item_id=item.work_item_id,
            added_on=item.added_on,
            balance_at_start_cents=item.balance_at_start_cents,
            balance_now_cents=int(balance),
            outcome=outcome_of(facts[claim.id]),
        )
        for item, claim, payer_name, balance in rows
    )
    return _report(db, campaign, end, items)


def _report(
    db: Session, campaign: m.Campaign, end: date, items: tuple[CampaignItemRow, ...]
) -> CampaignReport:
    payer = db.get(m.Payer, campaign.payer_id) if campaign.payer_id else None
    return CampaignReport(
        id=campaign.id,
        practice_id=campaign.practice_id,
        name=campaign.name,
        workflow=parse_workflow(campaign.workflow) or Workflow.PHONE,
        payer_id=campaign.payer_id,
        payer_name=payer.name if payer else "",
        status=campaign.status,
        started_on=campaign.started_on,
        closed_on=campaign.closed_on,
        measured_to=end,
        balance_at_start_cents=sum(i.balance_at_start_cents for i in items),
        measures=measure([i.outcome for i in items]),
        items=items,
    )


def list_campaigns(
    db: Session, *, actor: Actor, practice_id: int, today: date, status: str = ""
) -> list[CampaignReport]:
    """Every campaign of the practice with its measures (active first, newest first); the
    reports' ``items`` are left empty."""
    actor.require(practice_id, Permission.RUN_REPORTS)
    zone = _zone(db, practice_id)
    query = select(m.Campaign).where(m.Campaign.practice_id == practice_id)
    if status:
        query = query.where(m.Campaign.status == status)
    found = []
    for campaign in db.scalars(
        query.order_by(m.Campaign.status, m.Campaign.started_on.desc(), m.Campaign.id.desc())
    ):
        end = _measured_to(campaign, today)
        items = list(db.scalars(select(m.CampaignItem).where(m.CampaignItem.campaign_id == campaign.id)))
        facts = _facts(db, campaign, items, end, zone)
        report = _report(db, campaign, end, ())
        outcomes = [outcome_of(facts[i.claim_id]) for i in items]
        found.append(
            _replace_measures(report, measure(outcomes), sum(i.balance_at_start_cents for i in items))
        )
    return found


def _replace_measures(
    report: CampaignReport, measures: CampaignMeasures, balance_cents: int
) -> CampaignReport:
    return replace(report, measures=measures, balance_at_start_cents=balance_cents)


def campaign_names_for_claims(
    db: Session, claim_ids: Iterable[int], *, active_only: bool = True
) -> dict[int, list[str]]:
    """Claim id -> the names of the (active) campaigns it is in, for the work queue."""
    found: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(list(claim_ids)):
        query = (
            select(m.CampaignItem.claim_id, m.Campaign.name)
            .join(m.Campaign, m.Campaign.id == m.CampaignItem.campaign_id)
            .where(m.CampaignItem.claim_id.in_(chunk))
            .order_by(m.Campaign.name)
        )
        if active_only:
            query = query.where(m.Campaign.status == "active")
        for claim_id, name in db.execute(query):
            found[claim_id].append(name)
    return dict(found)


# --- the demo ------------------------------------------------------------------------------

_DEMO_NOTES = {
    Workflow.PHONE: "Called {payer} provider line: claim on file, in process; asked for a decision date.",
    Workflow.EMAIL: "E-mailed {payer} provider relations asking for the claim's status.",
    Workflow.PORTAL: "Checked {payer} portal: claim pending review; sent a message on it.",
    Workflow.APPEAL: "Sent {payer} a reconsideration request with the session note attached.",
    Workflow.NEGOTIATION: "Spoke with {payer} about the aged balance; they agreed to reprocess.",
}


def seed_demo_strategies(db: Session, actor: Actor, practice_id: int, today: date) -> dict[str, int]:
    """For the demo: workflows chosen for the three highest-priority payers, and two campaigns
    started six weeks before ``today`` from the claims waiting on their payer then — a phone
    sweep of the payer that owed the most on claims sent 14+ days before, and an e-mail round
    on every payer's claims sent 21+ days before (the 40 largest each) — with a note (an
    attempt, dated in the past) on about four items in five, written before the claim's
    payment when it was paid. What they achieved is whatever the demo's payments say; seeding
    again adds no campaign. Returns counts."""
    zone = _zone(db, practice_id)
    chosen = 0
    found = payer_strategies.cards(db, actor=actor, practice_id=practice_id, today=today)
    for card in found[:3]:
        payer_strategies.choose_workflow(
            db,
            actor=actor,
            practice_id=practice_id,
            payer_id=card.payer_id,
            workflow=card.workflow.value,
            note=f"Chosen from the figures ({card.reason}).",
        )
        chosen += 1
    started = today - timedelta(days=42)
    then = _candidates(
        db,
        practice_id=practice_id,
        wanted=CampaignFilter(min_age_days=14),
        added_on=started,
        today=today,
        zone=zone,
    )
    payer_of = dict(
        db.execute(
            select(m.Claim.id, m.Claim.payer_id).where(m.Claim.id.in_([c.claim_id for c in then]))
        ).all()
    )
    per_payer: dict[int, int] = defaultdict(int)
    for candidate in then:
        per_payer[payer_of[candidate.claim_id]] += candidate.balance_cents
    plans: list[tuple[str, Workflow, CampaignFilter]] = []
    if per_payer:
        payer_id = max(per_payer, key=lambda pid: (per_payer[pid], -pid))
        payer = db.get_one(m.Payer, payer_id)
        plans.append(
            (
                f"Phone sweep: {payer.name} 14+ days",
                Workflow.PHONE,
                CampaignFilter(payer_id=payer_id, min_age_days=14, limit=40),
            )
        )
    plans.append(("Every payer: claims 21+ days", Workflow.EMAIL, CampaignFilter(min_age_days=21, limit=40)))
    campaigns = items = attempts = 0
    for name, workflow, wanted in plans:
        if db.scalar(
            select(m.Campaign.id).where(m.Campaign.practice_id == practice_id, m.Campaign.name == name)
        ):
            continue
        campaign, added = create_campaign(
            db,
            actor=actor,
            practice_id=practice_id,
            name=name,
            workflow=workflow.value,
            wanted=wanted,
            today=today,
            started_on=started,
        )
        campaigns += 1
        items += added
        attempts += _demo_attempts(
            db, actor=actor, campaign=campaign, workflow=workflow, today=today, zone=zone
        )
    return {"strategies": chosen, "campaigns": campaigns, "items": items, "attempts": attempts}


def _demo_attempts(
    db: Session, *, actor: Actor, campaign: m.Campaign, workflow: Workflow, today: date, zone: ZoneInfo
) -> int:
    rows = list(
        db.execute(
            select(m.CampaignItem, m.Payer.name)
            .join(m.Claim, m.Claim.id == m.CampaignItem.claim_id)
            .join(m.Payer, m.Payer.id == m.Claim.payer_id)
            .where(m.CampaignItem.campaign_id == campaign.id)
        )
    )
    facts = _facts(db, campaign, [r[0] for r in rows], today, zone)
    written = 0
    for item, payer_name in rows:
        if item.claim_id % 5 == 0:  # about one in five never got worked
            continue
        day = item.added_on + timedelta(days=1 + item.claim_id % 9)
        first_paid = outcome_of(facts[item.claim_id]).first_payment_on
        if first_paid is not None:
            day = min(day, first_paid - timedelta(days=1))
        day = max(day, item.added_on)
        if day >= today:
            continue
        db.add(
            m.Note(
                practice_id=campaign.practice_id,
                author_user_id=actor.user_id,
                body=_DEMO_NOTES[workflow].format(payer=payer_name),
                claim_id=item.claim_id,
                work_item_id=item.work_item_id,
                created_at=datetime.combine(day, time(10, 30), tzinfo=zone).astimezone(UTC),
            )
        )
        written += 1
    db.flush()
    return written
