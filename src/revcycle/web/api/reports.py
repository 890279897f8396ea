"""The reports as JSON: the same figures and filters as the report pages.

* ``GET /api/reports/aging``: ``basis`` (service | submission), ``buckets`` (upper bounds,
  ``30,60,90,120``), ``group_by`` (payer | clinician | status), ``claim_ids`` (repeat to
  limit to those claims), ``limit`` (claims listed, oldest first); groups, bucket totals,
  claims and the ledger's A/R;
* ``GET /api/reports/payer-scorecard``: ``from``/``to`` (first submission dates);
* ``GET /api/reports/revenue-recognition``: ``from``/``to`` (months, ``YYYY-MM``);
* ``GET /api/reports/denials``: ``from``/``to`` (months).

Each also answers a download with ``format`` csv | xlsx | pdf. Money is integer cents,
shares fractions 0..1. Everything needs ``run_reports``; the aging report names clients, so a
request listing claims is audited.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.permissions import Permission
from revcycle.services import queries
from revcycle.services.alerts import practice_today
from revcycle.services.reports import aging as aging_report
from revcycle.services.reports import date_range, month_range
from revcycle.services.reports import denials as denial_report
from revcycle.services.reports import revenue as revenue_report
from revcycle.services.reports import scorecard as scorecard_report
from revcycle.web.api.resources import PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor
from revcycle.web.exports import report_download

router = APIRouter(tags=["reports"])

RUN = Permission.RUN_REPORTS
Text = Annotated[str, Query(max_length=200)]
From = Annotated[str, Query(alias="from", max_length=20, description="first day (or month, YYYY-MM)")]
To = Annotated[str, Query(max_length=20, description="last day (or month, YYYY-MM)")]
Format = Annotated[str, Query(max_length=10, description="csv | xlsx | pdf: a download instead of JSON")]


# --- aging --------------------------------------------------------------------------------------


class AgingGroupOut(BaseModel):
    key: str
    label: str
    claims: int
    insurance_cents: int
    patient_cents: int
    total_cents: int
    by_bucket: list[int] = Field(description="A/R per bucket, in the order of `buckets`")


class AgingClaimOut(BaseModel):
    claim_id: int
    number: str
    client_id: int
    client_name: str
    payer_name: str
    clinician: str
    status: str
    service_on: date
    submitted_on: date | None
    basis_on: date
    days: int
    bucket: int
    tone: str
    insurance_cents: int
    patient_cents: int
    total_cents: int
    next_followup_on: date | None


class AgingOut(BaseModel):
    today: date
    basis: str
    group_by: str
    buckets: list[str]
    groups: list[AgingGroupOut]
    totals: AgingGroupOut
    claims: list[AgingClaimOut]
    off_claim_cents: int = Field(description="ledger A/R not on any claim")
    ledger_ar_cents: int = Field(description="ar:insurance + ar:patient, practice-wide")


def _group(group: aging_report.AgingGroup) -> dict[str, Any]:
    return {**asdict(group), "total_cents": group.total_cents}


def _practice_today(db: DB, practice_id: int) -> date:
    practice = db.get(m.Practice, practice_id)
    assert practice is not None
    return practice_today(practice, utcnow())


@router.get("/api/reports/aging", response_model=AgingOut, **needs(RUN))
def api_aging(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    basis: Text = "",
    buckets: Text = "",
    group_by: Text = "",
    claim_ids: Annotated[list[int] | None, Query()] = None,
    limit: Annotated[int, Query(ge=0, le=100_000, description="claims listed (0: none)")] = 500,
    format: Format = "",
) -> Any:
    pid = one_practice(actor, practice_id, RUN)
    filters = aging_report.aging_filters(basis=basis, buckets=buckets, group_by=group_by, claim_ids=claim_ids)
    report = aging_report.aging_report(
        db,
        actor=actor,
        practice_id=pid,
        today=_practice_today(db, pid),
        filters=filters,
        limit=None if format else limit,
    )
    queries.record_client_reads(
        db, actor=actor, entity="aging_report", clients=[(pid, cid) for cid in sorted(report.client_ids)]
    )
    if format:
        return report_download(aging_report.aging_table(report), format)
    return {
        "today": report.today,
        "basis": filters.basis,
        "group_by": filters.group_by,
        "buckets": report.bucket_labels,
        "groups": [_group(g) for g in report.groups],
        "totals": _group(report.totals),
        "claims": [{**asdict(c), "tone": c.tone, "total_cents": c.total_cents} for c in report.claims],
        "off_claim_cents": report.off_claim_cents,
        "ledger_ar_cents": report.ledger_ar_cents,
    }


# --- payer scorecard -------------------------------------------------------------------------------


class PayerScoreOut(BaseModel):
    payer_id: int = Field(description="0 on the totals row")
    payer_name: str
    claims: int
    billed_cents: int
    paid_cents: int
    paid_claims: int
    decided_claims: int
    denied_claims: int
    underpaid_claims: int
    average_days_to_pay: float | None
    denial_rate: float | None
    collection_rate: float | None
    underpayment_rate: float | None


class ScorecardOut(BaseModel):
    from_on: date
    to_on: date
    payers: list[PayerScoreOut]
    total: PayerScoreOut
    radar: dict[str, Any] = Field(description="the radar chart's axes (0..1, 1 the best) per payer")


def _score(score: scorecard_report.PayerScore) -> dict[str, Any]:
    return {
        **asdict(score),
        "denial_rate": score.denial_rate,
        "collection_rate": score.collection_rate,
        "underpayment_rate": score.underpayment_rate,
    }


@router.get("/api/reports/payer-scorecard", response_model=ScorecardOut, **needs(RUN))
def api_scorecard(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    from_: From = "",
    to: To = "",
    format: Format = "",
) -> Any:
    pid = one_practice(actor, practice_id, RUN)
    today = _practice_today(db, pid)
    period = date_range(from_, to, today=today)
    card = scorecard_report.payer_scorecard(db, actor=actor, practice_id=pid, period=period, today=today)
    if format:
        return report_download(scorecard_report.scorecard_table(card), format)
    return {
        "from_on": period.from_on,
        "to_on": period.to_on,
        "payers": [_score(p) for p in card.payers],
        "total": _score(card.total),
        "radar": scorecard_report.radar(card),
    }


# --- revenue recognition -------------------------------------------------------------------------------


class RevenueMonthOut(BaseModel):
    month: date = Field(description="the month's first day")
    sessions_completed: int
    billed_by_service_cents: int
    billed_posted_cents: int
    paid_insurance_cents: int
    paid_patient_cents: int
    paid_cents: int


class RevenueOut(BaseModel):
    from_on: date
    to_on: date
    months: list[RevenueMonthOut]
    total: RevenueMonthOut


def _month(x: revenue_report.RevenueMonth) -> dict[str, Any]:
    return {**asdict(x), "paid_cents": x.paid_cents}


@router.get("/api/reports/revenue-recognition", response_model=RevenueOut, **needs(RUN))
def api_revenue(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    from_: From = "",
    to: To = "",
    format: Format = "",
) -> Any:
    pid = one_practice(actor, practice_id, RUN)
    today = _practice_today(db, pid)
    period = month_range(from_, to, today=today)
    report = revenue_report.revenue_recognition(db, actor=actor, practice_id=pid, period=period, today=today)
    if format:
        return report_download(revenue_report.revenue_table(report), format)
    return {
        "from_on": period.from_on,
        "to_on": period.to_on,
        "months": [_month(x) for x in report.months],
        "total": _month(report.total),
    }


# --- denial analysis ---------------------------------------------------------------------------------------


class DenialCountOut(BaseModel):
    key: str
    label: str
    denials: int
    claims: int = Field(description="distinct claims (0 on the monthly rows)")
    amount_cents: int


class DenialReasonOut(BaseModel):
    code: str = Field(description="group code - CARC")
    group_code: str
    carc: str
    explanation: str
    category: str
    denials: int
    claims: int
    amount_cents: int


class OverturnOut(BaseModel):
    won: int
    partially_won: int
    lost: int
    decided: int
    appealed_cents: int
    recovered_cents: int
    overturn_rate: float | None


class DenialsOut(BaseModel):
    from_on: date
    to_on: date
    reasons: list[DenialReasonOut]
    by_clinician: list[DenialCountOut]
    by_payer: list[DenialCountOut]
    by_month: list[DenialCountOut]
    total: DenialCountOut
    overturn: OverturnOut


@router.get("/api/reports/denials", response_model=DenialsOut, **needs(RUN))
def api_denials(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    from_: From = "",
    to: To = "",
    format: Format = "",
) -> Any:
    pid = one_practice(actor, practice_id, RUN)
    today = _practice_today(db, pid)
    period = month_range(from_, to, today=today)
    report = denial_report.denial_analysis(db, actor=actor, practice_id=pid, period=period, today=today)
    if format:
        return report_download(denial_report.denial_table(report), format)
    tally = report.overturn
    return {
        "from_on": period.from_on,
        "to_on": period.to_on,
        "reasons": [{**asdict(r), "code": r.code} for r in report.reasons],
        "by_clinician": [asdict(c) for c in report.by_clinician],
        "by_payer": [asdict(c) for c in report.by_payer],
        "by_month": [asdict(c) for c in report.by_month],
        "total": asdict(report.total),
        "overturn": {**asdict(tally), "decided": tally.decided, "overturn_rate": report.overturn_rate},
    }
