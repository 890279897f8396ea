"""``GET /api/dashboard-stats``: the revenue dashboard's figures as JSON.

Every KPI (services.kpis) with its value, threshold, whether it is crossed, its formula, date
basis and the link to the sessions or claims behind it; the A/R aging summary from the ledger
and the 12-month collections trend. Needs ``view_dashboard`` (billing and administrators). No
answer names a client.
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
from revcycle.services import dashboard as dashboard_service
from revcycle.services import kpis
from revcycle.web.api.resources import PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["dashboard"])


class KpiOut(BaseModel):
    key: str
    name: str
    primary: bool = Field(description="one of the practice's seven figures")
    unit: str = Field(description="count | cents | days | percent (0-100)")
    value: float | None = Field(description="null when there is nothing to measure")
    display: str
    threshold: float | None = Field(description="in the figure's unit; null: no threshold set")
    direction: str = Field(
        description="above: crossed when the value is above the threshold; below: under it"
    )
    crossed: bool
    colour: str = Field(description="danger | success | neutral")
    formula: str
    basis: str = Field(description="the dates the figure is taken over")
    detail: str
    link: str = Field(description="the page listing the sessions or claims behind the figure")


class AgingOut(BaseModel):
    bucket: str
    balance_cents: int
    claims: int


class MonthOut(BaseModel):
    month: date
    collected_cents: int


class DashboardStatsOut(BaseModel):
    practice_id: int
    as_of: date
    ar_total_cents: int
    kpis: list[KpiOut]
    aging: list[AgingOut]
    collections_trend: list[MonthOut]


def kpi_out(value: kpis.KpiValue) -> dict[str, Any]:
    kpi = value.kpi
    return {
        "key": kpi.key,
        "name": kpi.name,
        "primary": kpi.primary,
        "unit": kpi.unit.value,
        "value": value.value,
        "display": value.display,
        "threshold": value.threshold,
        "direction": kpi.direction.value,
        "crossed": value.crossed,
        "colour": value.colour,
        "formula": kpi.formula,
        "basis": kpi.basis,
        "detail": value.detail,
        "link": value.url,
    }


@router.get("/api/dashboard-stats", response_model=DashboardStatsOut, **needs(Permission.VIEW_DASHBOARD))
def dashboard_stats(db: DB, actor: CurrentActor, practice_id: PracticeId = None) -> dict[str, Any]:
    chosen = one_practice(actor, practice_id, Permission.VIEW_DASHBOARD)
    practice = db.get(m.Practice, chosen)
    if practice is None:
        raise NotFound("not found")
    today = datetime.now(ZoneInfo(practice.timezone)).date()
    figures = dashboard_service.practice_dashboard(db, actor=actor, practice_id=chosen, today=today)
    return {
        "practice_id": chosen,
        "as_of": today,
        "ar_total_cents": figures.ar_total_cents,
        "kpis": [kpi_out(value) for value in figures.kpis],
        "aging": [
            {"bucket": b.label, "balance_cents": b.balance_cents, "claims": b.claims} for b in figures.aging
        ],
        "collections_trend": [
            {"month": t.month, "collected_cents": t.collected_cents} for t in figures.trend
        ],
    }
