"""The revenue dashboard: ``/dashboard``.

The practice's seven figures first, each against its threshold (red when crossed), then the
revenue-cycle measures (days in A/R, net collection rate, clean-claim and first-pass resolution
rates, A/R over 90 days, charge lag, claims per staff member); every tile states its formula
and date basis on hover and links to the sessions or claims it counts (services.kpis). Then
A/R, alerts, open work and the sessions of the month by stage; below, the aging summary, the
last ten payments and the 12-month collections trend (Chart.js, its data in a JSON block).

Needs ``view_dashboard`` (billing and administrators). The payments named write one audit row
naming their clients. ``POST /settings/kpis`` (administrators, from the settings page) sets the
thresholds and the monthly collections goal.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from revcycle.domain.pipeline import STAGE_COLOURS, STAGE_LABELS, PipelineStage
from revcycle.errors import InvalidInput
from revcycle.services import dashboard as dashboard_service
from revcycle.services import kpis
from revcycle.web.pages.main import Ctx

router = APIRouter(include_in_schema=False)

THRESHOLD_FIELD = "threshold_"  # the settings form's field for a KPI's threshold: threshold_<key>


def trend_chart(figures: dashboard_service.Dashboard) -> dict[str, object]:
    """The collections trend chart's data (cents), for its JSON block (``tojson``)."""
    return {
        "type": "bar",
        "title": "Collections by month",
        "labels": [f"{row.month:%b %Y}" for row in figures.trend],
        "values_cents": [row.collected_cents for row in figures.trend],
        "colour": "#198754",
    }


@router.get("/dashboard")
def dashboard(ctx: Ctx) -> Response:
    figures = dashboard_service.practice_dashboard(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, today=ctx.today
    )
    ctx.audit_clients(
        "payment", {row.payment.client_id for row in figures.last_payments if row.payment.client_id}
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
        trend=trend_chart(figures),
        month_param=f"{figures.month:%Y-%m}",
        today=ctx.today,
    )


@router.post("/settings/kpis")
async def save_kpi_settings(ctx: Ctx) -> Response:
    """The KPI thresholds and the monthly collections goal (administrators); a refusal comes
    back to the settings page with its message, nothing saved."""
    form = await ctx.request.form()
    thresholds = {
        name.removeprefix(THRESHOLD_FIELD): str(value)
        for name, value in form.items()
        if name.startswith(THRESHOLD_FIELD)
    }
    try:
        with ctx.db.begin_nested():
            kpis.update_kpi_settings(
                ctx.db,
                actor=ctx.actor,
                practice_id=ctx.practice.id,
                thresholds=thresholds,
                goal=str(form.get("collections_goal", "")),
            )
    except InvalidInput as exc:
        return RedirectResponse(
            f"/settings?{urlencode({'kpi_error': exc.detail[:400]})}#kpis", status_code=303
        )
    return RedirectResponse("/settings?saved=kpis#kpis", status_code=303)
