"""The collections forecast: ``/forecast``.

What the balances open on a date (today by default, ``?as_of=`` for a past one) should bring
in the next 30 days, as a range, per payer, with a chart; the probability of payment by claim
age per payer and each payer's days to pay; the backtest (forecasts made 90, 60 and 30 days
before that date against what the ledger says was then collected) with its error; the
at-risk portfolio (service over 180 days ago) and the value of closing each payer's
collection-rate gap to the best payer (both as of today).

Needs ``run_reports`` (billing and administrators). No client is named, so nothing is audited
as a read. A bad date answers a page naming it, never a 500.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from revcycle.domain import forecast as fc
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.services import forecast as fs
from revcycle.web.pages.main import Ctx

router = APIRouter(include_in_schema=False)

ACTIVE = "reports"


def _as_of(text: str, today: date) -> date:
    if not text:
        return today
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"as_of: {text!r} is not a date (YYYY-MM-DD)") from None
    if day > today:
        raise InvalidInput(f"as_of: {day.isoformat()} is after today ({today.isoformat()})")
    return day


def _chart(data: Any) -> str:
    """Chart data as JSON for a ``<script type="application/json">`` block (``</`` escaped)."""
    return json.dumps(data).replace("</", "<\\/")


def _dollars(cents: int) -> float:
    return round(cents / 100, 2)  # the chart's axis only; tables show exact cents


def _payer_chart(report: fs.ForecastReport) -> str:
    rows = report.rows
    return _chart(
        {
            "labels": [r.name for r in rows],
            "datasets": [
                {"label": "10th percentile", "data": [_dollars(r.predicted.low_cents) for r in rows]},
                {"label": "Median", "data": [_dollars(r.predicted.median_cents) for r in rows]},
                {"label": "90th percentile", "data": [_dollars(r.predicted.high_cents) for r in rows]},
            ],
        }
    )


def _backtest_chart(report: fs.BacktestReport) -> str:
    rows = report.rows
    return _chart(
        {
            "labels": [r.point.as_of.isoformat() for r in rows],
            "datasets": [
                {
                    "label": "Forecast (median)",
                    "data": [_dollars(r.point.predicted.median_cents) for r in rows],
                },
                {"label": "Collected", "data": [_dollars(r.point.actual_cents) for r in rows]},
            ],
        }
    )


@router.get("/forecast")
def forecast_page(ctx: Ctx, as_of: Annotated[str, Query(max_length=20)] = "") -> Response:
    ctx.actor.require(ctx.practice.id, Permission.RUN_REPORTS)
    today = ctx.today
    day = _as_of(as_of, today)
    pid = ctx.practice.id
    report = fs.forecast(ctx.db, ctx.actor, pid, day)
    backtest = fs.backtest(ctx.db, ctx.actor, pid, fs.default_backtest_dates(day))
    return ctx.render(
        "forecast/forecast.html",
        ACTIVE,
        today=today,
        as_of=day,
        first_day=day + timedelta(days=1),
        report=report,
        backtest=backtest,
        risk=fs.at_risk(ctx.db, ctx.actor, pid, today),
        gap=fs.collection_gap(ctx.db, ctx.actor, pid, today),
        buckets=fc.AGE_BUCKETS,
        payer_chart=_payer_chart(report),
        backtest_chart=_backtest_chart(backtest),
        at_risk_days=fs.AT_RISK_DAYS,
        best_min_claims=fs.BEST_PAYER_MIN_CLAIMS,
    )
