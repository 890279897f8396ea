"""Operations reports through the API: the same rows as the pages, as JSON, or the same table
as a download with ``format=csv|xlsx|pdf``.

* ``GET /api/reports/weekly-reconciliation?week=YYYY-MM-DD`` (any day of the week; default
  this week): the week's sessions with stage, claims and what needs action; counts per stage;
* ``GET /api/reports/provider-productivity?since=YYYY-MM&until=YYYY-MM&provider_id=``;
* ``GET /api/reports/compensation?month=YYYY-MM&provider_id=``: each part of each clinician's
  pay under the practice's guide, and the guide;
* ``GET /api/reports/payer-mix?since=&until=`` and ``/api/reports/procedure-revenue`` (dates
  of service, default this year);
* ``GET /api/reports/agent-performance``.

Everything needs ``run_reports`` (billing and administrators). Bad input answers 422 naming
the field. The weekly reconciliation names clients: each request writes one audit row.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from revcycle.adapters.report_export import ReportTable
from revcycle.db import models as m
from revcycle.domain.compensation import FORMULA
from revcycle.domain.permissions import Permission
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.reports_ops import agents, mix, productivity, weekly
from revcycle.web.api.resources import PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor
from revcycle.web.exports import report_download
from revcycle.web.pages.reports_ops import months_back, parse_month, year_start

router = APIRouter(tags=["reports"])

REPORTS = Permission.RUN_REPORTS
Format = Annotated[str, Query(description="csv | xlsx | pdf for a download; empty for JSON")]
MonthText = Annotated[str, Query(description="a month, YYYY-MM")]


def _practice_and_today(db: Session, actor: Actor, practice_id: int | None) -> tuple[int, date]:
    pid = one_practice(actor, practice_id, REPORTS)
    zone = db.get_one(m.Practice, pid).timezone
    return pid, datetime.now(ZoneInfo(zone or "UTC")).date()


def _answer(table: ReportTable, fmt: str, body: dict[str, Any]) -> Any:
    return report_download(table, fmt) if fmt else body


# --- weekly reconciliation ----------------------------------------------------------------------


class WeekClaimOut(BaseModel):
    id: int
    number: str
    status: str
    payer_name: str


class WeekRowOut(BaseModel):
    session_id: int
    service_on: date
    client_id: int
    client_name: str
    provider_id: int
    provider_name: str
    appointment_status: str
    note_status: str
    stage: str
    charge_cents: int
    claims: list[WeekClaimOut]
    open_items: list[str] = Field(description="titles of the open work items on the session or its claims")
    needs_action: str


class WeeklyOut(BaseModel):
    monday: date
    sunday: date
    items: list[WeekRowOut]
    stage_counts: dict[str, int]
    needing_action: int
    charge_cents: int


@router.get(
    "/api/reports/weekly-reconciliation",
    response_model=None,
    responses={200: {"model": WeeklyOut}},
    **needs(REPORTS),
)
def api_weekly(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    week: Annotated[date | None, Query(description="any day of the week (default: this week)")] = None,
    format: Format = "",
) -> Any:
    pid, today = _practice_and_today(db, actor, practice_id)
    report = weekly.weekly_reconciliation(db, actor=actor, practice_id=pid, day=week or today)
    clients = {row.session.client_id for row in report.rows}
    if clients:
        audit.record_read(
            db, actor=actor, practice_id=pid, entity="weekly_reconciliation", client_ids=clients
        )
    body = WeeklyOut(
        monday=report.monday,
        sunday=report.sunday,
        items=[
            WeekRowOut(
                session_id=row.session.id,
                service_on=row.session.service_on,
                client_id=row.session.client_id,
                client_name=row.session.client_name,
                provider_id=row.session.provider_id,
                provider_name=row.session.provider_name,
                appointment_status=row.session.appointment_status,
                note_status=row.session.note_status,
                stage=str(row.session.stage),
                charge_cents=row.session.charge_cents,
                claims=[WeekClaimOut(**vars(claim)) for claim in row.claims],
                open_items=row.open_items,
                needs_action=row.needs_action,
            )
            for row in report.rows
        ],
        stage_counts={str(stage): count for stage, count in report.stage_counts.items()},
        needing_action=report.needing_action,
        charge_cents=report.charge_cents,
    )
    return _answer(weekly.weekly_table(report, today), format, body.model_dump(mode="json"))


# --- provider productivity -------------------------------------------------------------------------


class ProductivityRowOut(BaseModel):
    provider_id: int
    provider_name: str
    month: str = Field(description="YYYY-MM")
    sessions: int
    billable_hours: float
    working_days: int
    sessions_per_day: float | None
    charges_cents: int
    revenue_per_session_cents: int | None
    previous_sessions: int
    growth: float | None
    claims_sent: int
    portal_share: float | None
    electronic_share: float | None
    acceptance_rate: float | None
    last_month_clients: int
    retained_clients: int
    retention: float | None
    documented_sessions: int
    documentation_days: float | None = Field(description="average days from service to note lock")


class ProductivityOut(BaseModel):
    since: str
    until: str
    items: list[ProductivityRowOut]
    totals: dict[str, float | int | None]
    notes: list[str]


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


@router.get(
    "/api/reports/provider-productivity",
    response_model=None,
    responses={200: {"model": ProductivityOut}},
    **needs(REPORTS),
)
def api_productivity(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    since: MonthText = "",
    until: MonthText = "",
    provider_id: int | None = None,
    format: Format = "",
) -> Any:
    pid, today = _practice_and_today(db, actor, practice_id)
    report = productivity.productivity(
        db,
        actor=actor,
        practice_id=pid,
        first_month=parse_month(since, "since") or months_back(today, 2),
        last_month=parse_month(until, "until") or today.replace(day=1),
        today=today,
        provider_id=provider_id,
    )
    items = [
        ProductivityRowOut(
            provider_id=row.provider_id,
            provider_name=row.provider_name,
            month=f"{row.month:%Y-%m}",
            sessions=row.sessions,
            billable_hours=float(row.billable_hours),
            working_days=row.working_days,
            sessions_per_day=_float(row.sessions_per_day),
            charges_cents=row.figures.charges_cents,
            revenue_per_session_cents=row.revenue_per_session_cents,
            previous_sessions=row.previous_sessions,
            growth=row.growth,
            claims_sent=row.figures.claims_sent,
            portal_share=row.portal_share,
            electronic_share=row.electronic_share,
            acceptance_rate=row.acceptance_rate,
            last_month_clients=row.figures.last_month_clients,
            retained_clients=row.figures.retained_clients,
            retention=row.retention,
            documented_sessions=row.figures.documented,
            documentation_days=_float(row.documentation_days),
        )
        for row in report.rows
    ]
    totals = {key: _float(value) if key != "sessions" else value for key, value in report.totals.items()}
    totals["charges_cents"] = report.charges_cents
    totals["revenue_per_session_cents"] = report.revenue_per_session_cents
    body = ProductivityOut(
        since=f"{report.first_month:%Y-%m}",
        until=f"{report.last_month:%Y-%m}",
        items=items,
        totals=totals,
        notes=list(productivity.SCORECARD_NOTES),
    )
    return _answer(productivity.productivity_table(report, today), format, body.model_dump(mode="json"))


# --- compensation --------------------------------------------------------------------------------


class PayOut(BaseModel):
    provider_id: int
    provider_name: str
    sessions: int
    documented_sessions: int
    on_time_sessions: int
    charges_cents: int
    base_cents: int
    per_session_cents: int
    quality_cents: int
    quality_met: bool
    efficiency_cents: int
    sessions_over_target: int
    revenue_share_cents: int
    revenue_over_threshold_cents: int
    total_cents: int


class CompensationOut(BaseModel):
    month: str
    formula: str
    parameters: dict[str, Any]
    items: list[PayOut]
    total_cents: int


@router.get(
    "/api/reports/compensation",
    response_model=None,
    responses={200: {"model": CompensationOut}},
    **needs(REPORTS),
)
def api_compensation(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    month: MonthText = "",
    provider_id: int | None = None,
    format: Format = "",
) -> Any:
    pid, today = _practice_and_today(db, actor, practice_id)
    first = parse_month(month, "month") or today.replace(day=1)
    report = productivity.compensation(
        db, actor=actor, practice_id=pid, month=first, today=today, provider_id=provider_id
    )
    items = [
        PayOut(
            provider_id=row.provider_id,
            provider_name=row.provider_name,
            sessions=row.month.sessions,
            documented_sessions=row.month.documented_sessions,
            on_time_sessions=row.month.on_time_sessions,
            charges_cents=row.month.charges_cents,
            base_cents=row.pay.base_cents,
            per_session_cents=row.pay.per_session_cents,
            quality_cents=row.pay.quality_cents,
            quality_met=row.pay.quality_met,
            efficiency_cents=row.pay.efficiency_cents,
            sessions_over_target=row.pay.sessions_over_target,
            revenue_share_cents=row.pay.revenue_share_cents,
            revenue_over_threshold_cents=row.pay.revenue_over_threshold_cents,
            total_cents=row.pay.total_cents,
        )
        for row in report.rows
    ]
    body = CompensationOut(
        month=f"{report.month:%Y-%m}",
        formula=FORMULA,
        parameters=report.parameters.to_settings(),
        items=items,
        total_cents=report.total_cents,
    )
    return _answer(productivity.compensation_table(report, today), format, body.model_dump(mode="json"))


# --- payer mix and procedure revenue ---------------------------------------------------------------


class MixRowOut(BaseModel):
    payer_id: int | None = Field(description="none: services never billed to a payer")
    payer_name: str
    sessions: int
    charges_cents: int
    collections_cents: int
    session_share: float | None
    charge_share: float | None
    collection_share: float | None


class PayerMixOut(BaseModel):
    since: date
    until: date
    items: list[MixRowOut]
    sessions: int
    charges_cents: int
    collections_cents: int


def _range(since: date | None, until: date | None, today: date) -> tuple[date, date]:
    return since or year_start(today), until or today


@router.get(
    "/api/reports/payer-mix", response_model=None, responses={200: {"model": PayerMixOut}}, **needs(REPORTS)
)
def api_payer_mix(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    since: Annotated[date | None, Query(description="dates of service from (default: 1 January)")] = None,
    until: Annotated[date | None, Query(description="dates of service to (default: today)")] = None,
    format: Format = "",
) -> Any:
    pid, today = _practice_and_today(db, actor, practice_id)
    first, last = _range(since, until, today)
    report = mix.payer_mix(db, actor=actor, practice_id=pid, since=first, until=last, today=today)
    body = PayerMixOut(
        since=report.since,
        until=report.until,
        items=[MixRowOut(**vars(row)) for row in report.rows],
        sessions=report.sessions,
        charges_cents=report.charges_cents,
        collections_cents=report.collections_cents,
    )
    return _answer(mix.payer_mix_table(report, today), format, body.model_dump(mode="json"))


class ProcedureRowOut(BaseModel):
    procedure_code: str
    lines: int
    charges_cents: int
    paid_cents: int
    average_paid_cents: int | None


class ProcedureRevenueOut(BaseModel):
    since: date
    until: date
    items: list[ProcedureRowOut]
    lines: int
    charges_cents: int
    paid_cents: int
    average_paid_cents: int | None


@router.get(
    "/api/reports/procedure-revenue",
    response_model=None,
    responses={200: {"model": ProcedureRevenueOut}},
    **needs(REPORTS),
)
def api_procedure_revenue(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    since: Annotated[date | None, Query(description="dates of service from (default: 1 January)")] = None,
    until: Annotated[date | None, Query(description="dates of service to (default: today)")] = None,
    format: Format = "",
) -> Any:
    pid, today = _practice_and_today(db, actor, practice_id)
    first, last = _range(since, until, today)
    report = mix.procedure_revenue(db, actor=actor, practice_id=pid, since=first, until=last, today=today)
    body = ProcedureRevenueOut(
        since=report.since,
        until=report.until,
        items=[ProcedureRowOut(**vars(row)) for row in report.rows],
        lines=report.lines,
        charges_cents=report.charges_cents,
        paid_cents=report.paid_cents,
        average_paid_cents=report.average_paid_cents,
    )
    return _answer(mix.procedure_revenue_table(report, today), format, body.model_dump(mode="json"))


# --- agent performance ---------------------------------------------------------------------------


class AgentRowOut(BaseModel):
    user_id: int
    name: str
    team: str
    portfolio_cents: int = Field(description="insurance A/R balance of their open claims")
    claims: int
    average_claim_cents: int | None
    billed_cents: int = Field(description="billed on their claims, services in the last 12 months")
    paid_cents: int = Field(description="payments posted on those claims")
    collection_rate: float | None
    portfolio_share: float | None


class AgentPerformanceOut(BaseModel):
    items: list[AgentRowOut]
    portfolio_cents: int
    claims: int
    billed_cents: int
    paid_cents: int
    collection_rate: float | None
    average_claim_cents: int | None


@router.get(
    "/api/reports/agent-performance",
    response_model=None,
    responses={200: {"model": AgentPerformanceOut}},
    **needs(REPORTS),
)
def api_agent_performance(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    format: Format = "",
) -> Any:
    pid, today = _practice_and_today(db, actor, practice_id)
    report = agents.agent_performance(db, actor=actor, practice_id=pid, today=today)
    body = AgentPerformanceOut(
        items=[AgentRowOut(**vars(row)) for row in report.rows],
        portfolio_cents=report.portfolio_cents,
        claims=report.claims,
        billed_cents=report.billed_cents,
        paid_cents=report.paid_cents,
        collection_rate=report.collection_rate,
        average_claim_cents=report.average_claim_cents,
    )
    return _answer(agents.agent_performance_table(report, today), format, body.model_dump(mode="json"))
