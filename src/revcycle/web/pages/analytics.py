"""The AR engine's analytics pages: ``/analytics`` and ``/payer-report``.

``/analytics``: the portfolio by payer — the five payers owed most (open insurance balance from
the ledger, with their claim counts), the rest as "Others", the portfolio total and the
concentration share (top five / total), drawn as a doughnut; links to the payer strategies and
the payer report. ``/payer-report``: per payer, open balance and claims, collection rate and
average days to pay (services.analytics states each formula). Both need ``run_reports``
(billing and administrators); neither names a client.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from revcycle.domain.permissions import Permission
from revcycle.services import analytics
from revcycle.web.pages.main import Ctx

router = APIRouter(include_in_schema=False)

COLOURS = ("#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#adb5bd")


def concentration_chart(concentration: analytics.Concentration) -> dict[str, object]:
    """The doughnut's data (cents), for its JSON block (``tojson``)."""
    return {
        "type": "doughnut",
        "title": "Open balance by payer",
        "labels": [row.payer_name for row in concentration.rows],
        "values_cents": [row.balance_cents for row in concentration.rows],
        "colours": list(COLOURS[: len(concentration.rows)]),
    }


@router.get("/analytics")
def analytics_page(ctx: Ctx) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.RUN_REPORTS)
    concentration = analytics.payer_concentration(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id)
    return ctx.render(
        "analytics/analytics.html",
        "analytics",
        concentration=concentration,
        chart=concentration_chart(concentration),
        today=ctx.today,
    )


@router.get("/payer-report")
def payer_report_page(ctx: Ctx) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.RUN_REPORTS)
    rows = analytics.payer_report(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, today=ctx.today)
    return ctx.render(
        "analytics/payer_report.html",
        "analytics",
        rows=rows,
        total_cents=sum(row.balance_cents for row in rows),
        total_claims=sum(row.claims for row in rows),
        today=ctx.today,
    )
