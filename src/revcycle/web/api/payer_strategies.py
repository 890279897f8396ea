"""The payer strategy and campaign API (read only; the pages make the changes).

* ``GET /api/payer-strategies``: one card per payer with open claims — open dollars and
  claims, aged dollars, collection rate (12 months), average days to resolve and denial share
  (180 days), the priority and its weighted score, and the workflow chosen for it or the
  suggested one (``suggested``: true);
* ``GET /api/campaigns``: every campaign with its measures (attempted, paid, success rate,
  days to payment, collected), all computed from notes and the ledger;
* ``GET /api/campaigns/{id}``: one campaign with its items.

Everything needs ``run_reports`` (billing and administrators). No answer names a client.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pydantic import BaseModel, Field

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import NotFound
from revcycle.services import campaigns, payer_strategies
from revcycle.web.api.resources import PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["payer strategies"])

READ = Permission.RUN_REPORTS


class PayerCardOut(BaseModel):
    payer_id: int
    payer_name: str
    payer_kind: str
    open_balance_cents: int = Field(description="insurance AR on the payer's sent, not closed claims")
    open_claims: int
    aged_balance_cents: int = Field(description="of which on claims first sent 90+ days ago")
    billed_12m_cents: int
    paid_12m_cents: int
    collection_rate: float | None = Field(description="paid_12m / billed_12m (claims served in 365 days)")
    avg_days_to_resolve: float | None = Field(description="first submission to first decision, last 180 days")
    decided: int
    denied: int
    denial_share: float | None
    priority: str = Field(description="high | medium | low")
    score_cents: int = Field(description="open dollars x (1 + lag + slowness)")
    workflow: str = Field(description="phone | email | portal | appeal | negotiation")
    suggested: bool = Field(description="true: none chosen yet, this is the figures' suggestion")
    reason: str
    chosen_at: datetime | None
    chosen_by: str


class MeasuresOut(BaseModel):
    items: int
    attempted: int
    paid: int
    paid_after_attempt: int
    success_rate: float | None = Field(description="paid_after_attempt / attempted; null when none attempted")
    median_days_to_payment: float | None
    mean_days_to_payment: float | None
    collected_cents: int


class CampaignItemOut(BaseModel):
    claim_id: int
    claim_number: str
    claim_status: str
    payer_name: str
    work_item_id: int | None
    added_on: date
    balance_at_start_cents: int
    balance_now_cents: int
    attempts: int
    first_payment_on: date | None
    paid_cents: int
    days_to_payment: int | None


class CampaignOut(BaseModel):
    id: int
    practice_id: int
    name: str
    workflow: str
    payer_id: int | None
    payer_name: str
    status: str = Field(description="active | closed")
    started_on: date
    closed_on: date | None
    measured_to: date
    balance_at_start_cents: int
    measures: MeasuresOut
    items: list[CampaignItemOut] = Field(default_factory=list)


def _today(db: DB, practice_id: int) -> date:
    practice = db.get(m.Practice, practice_id)
    if practice is None:
        raise NotFound("not found")
    return datetime.now(ZoneInfo(practice.timezone)).date()


def _card(card: payer_strategies.PayerCard) -> dict[str, Any]:
    f = card.figures
    return {
        "payer_id": card.payer_id,
        "payer_name": card.payer_name,
        "payer_kind": card.payer_kind,
        "open_balance_cents": f.open_balance_cents,
        "open_claims": f.open_claims,
        "aged_balance_cents": f.aged_balance_cents,
        "billed_12m_cents": card.billed_12m_cents,
        "paid_12m_cents": card.paid_12m_cents,
        "collection_rate": f.collection_rate,
        "avg_days_to_resolve": f.avg_days_to_resolve,
        "decided": f.decided,
        "denied": f.denied,
        "denial_share": f.denial_share,
        "priority": card.priority.value,
        "score_cents": card.score_cents,
        "workflow": card.workflow.value,
        "suggested": card.suggested,
        "reason": card.reason,
        "chosen_at": card.chosen_at,
        "chosen_by": card.chosen_by,
    }


def _campaign(report: campaigns.CampaignReport) -> dict[str, Any]:
    ms = report.measures
    return {
        "id": report.id,
        "practice_id": report.practice_id,
        "name": report.name,
        "workflow": report.workflow.value,
        "payer_id": report.payer_id,
        "payer_name": report.payer_name,
        "status": report.status,
        "started_on": report.started_on,
        "closed_on": report.closed_on,
        "measured_to": report.measured_to,
        "balance_at_start_cents": report.balance_at_start_cents,
        "measures": {
            "items": ms.items,
            "attempted": ms.attempted,
            "paid": ms.paid,
            "paid_after_attempt": ms.paid_after_attempt,
            "success_rate": ms.success_rate,
            "median_days_to_payment": ms.median_days_to_payment,
            "mean_days_to_payment": ms.mean_days_to_payment,
            "collected_cents": ms.collected_cents,
        },
        "items": [
            {
                "claim_id": row.claim_id,
                "claim_number": row.claim_number,
                "claim_status": row.claim_status,
                "payer_name": row.payer_name,
                "work_item_id": row.work_item_id,
                "added_on": row.added_on,
                "balance_at_start_cents": row.balance_at_start_cents,
                "balance_now_cents": row.balance_now_cents,
                "attempts": row.outcome.attempts,
                "first_payment_on": row.outcome.first_payment_on,
                "paid_cents": row.outcome.paid_cents,
                "days_to_payment": row.outcome.days_to_payment,
            }
            for row in report.items
        ],
    }


@router.get("/api/payer-strategies", response_model=list[PayerCardOut], **needs(READ))
def api_payer_strategies(db: DB, actor: CurrentActor, practice_id: PracticeId = None) -> list[dict[str, Any]]:
    pid = one_practice(actor, practice_id, READ)
    found = payer_strategies.cards(db, actor=actor, practice_id=pid, today=_today(db, pid))
    return [_card(card) for card in found]


@router.get("/api/campaigns", response_model=list[CampaignOut], **needs(READ))
def api_campaigns(
    db: DB, actor: CurrentActor, practice_id: PracticeId = None, status: str = ""
) -> list[dict[str, Any]]:
    pid = one_practice(actor, practice_id, READ)
    found = campaigns.list_campaigns(db, actor=actor, practice_id=pid, today=_today(db, pid), status=status)
    return [_campaign(report) for report in found]


@router.get("/api/campaigns/{campaign_id}", response_model=CampaignOut, **needs(READ))
def api_campaign(db: DB, actor: CurrentActor, campaign_id: int) -> dict[str, Any]:
    campaign = db.get(m.Campaign, campaign_id)
    if campaign is None or campaign.practice_id not in actor.practice_ids:
        raise NotFound(f"campaign {campaign_id} not found")
    report = campaigns.campaign_report(
        db, actor=actor, campaign_id=campaign_id, today=_today(db, campaign.practice_id)
    )
    return _campaign(report)
