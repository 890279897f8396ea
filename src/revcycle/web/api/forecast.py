"""The forecast API: the next 30 days' collections as a range, and its backtest.

* ``GET /api/forecast?practice_id&as_of``: the range (10th, 50th, 90th percentile) of what
  the balances open on ``as_of`` (default: the practice's today) should bring in the 30 days
  after it, per payer (and the patients), the probability table by claim age, each payer's
  days to pay; with the at-risk portfolio (service over 180 days ago) and the value of
  closing the collection-rate gap to the best payer, both as of today;
* ``GET /api/forecast/backtest?practice_id&as_of=...``: forecasts made at past dates (default
  90, 60 and 30 days ago; at most 12) against what the ledger says was collected in the 30
  days after each, with the error of the median and whether the actual fell in the range.

Both need ``run_reports`` (billing and administrators). services/forecast.py states each
figure's formula and date basis; domain/forecast.py the method.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain import forecast as fc
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import forecast as fs
from revcycle.services.alerts import practice_today
from revcycle.web.api.resources import PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["forecast"])

REPORTS = Permission.RUN_REPORTS
MAX_BACKTEST_DATES = 12


class RangeOut(BaseModel):
    low_cents: int = Field(description="10th percentile")
    median_cents: int
    high_cents: int = Field(description="90th percentile")
    mean_cents: int
    open_balance_cents: int


class RateOut(BaseModel):
    bucket: str = Field(description="age since the date of service, in days")
    observed: int = Field(description="balances of this age seen open in the history")
    paid: int = Field(description="of which paid something within 30 days")
    probability: float = Field(description="posterior mean, pooled prior")
    paid_share: float = Field(description="share of the balance paid, when it pays")


class DaysToPayOut(BaseModel):
    count: int
    p25_days: int | None
    median_days: int | None
    p75_days: int | None
    p90_days: int | None
    histogram: list[int] = Field(description="claims per age bucket")


class PayerForecastOut(BaseModel):
    payer_id: int | None = Field(description="none for the patients")
    name: str
    expected: RangeOut
    open_by_bucket_cents: list[int]
    rates: list[RateOut]
    days_to_pay: DaysToPayOut | None


class PayerAmountOut(BaseModel):
    payer_id: int
    name: str
    claims: int
    balance_cents: int


class AtRiskOut(BaseModel):
    today: date
    service_before: date
    total_cents: int
    claims: int
    ar_total_cents: int
    share: float | None
    payers: list[PayerAmountOut]


class PayerRateOut(BaseModel):
    payer_id: int
    name: str
    claims: int
    charges_cents: int
    contractual_cents: int
    collected_cents: int
    collection_rate: float | None = Field(description="collected / (charges - contractual)")
    open_balance_cents: int = Field(description="the payer's ar:insurance balance now")
    gap_value_cents: int = Field(description="open balance x (best rate - its rate), when positive")


class GapOut(BaseModel):
    service_from: date
    service_through: date
    best_payer_id: int | None
    best_rate: float | None
    total_gap_cents: int
    payers: list[PayerRateOut]


class ForecastOut(BaseModel):
    practice_id: int
    as_of: date
    through: date
    history_from: date
    seed: int
    draws: int
    expected: RangeOut
    payers: list[PayerForecastOut]
    pooled_rates: list[RateOut]
    at_risk: AtRiskOut
    gap: GapOut


class BacktestPointOut(BaseModel):
    as_of: date
    through: date
    predicted: RangeOut
    actual_cents: int = Field(description="collected in the 30 days on the balances open on as_of")
    all_collections_cents: int = Field(description="every collection of the window, for context")
    error_cents: int = Field(description="median - actual")
    absolute_error_cents: int
    percentage_error: float | None
    inside_range: bool


class BacktestOut(BaseModel):
    practice_id: int
    points: list[BacktestPointOut]
    mean_absolute_error_cents: int
    mean_percentage_error: float | None
    inside_share: float | None


def _range(r: fc.ForecastRange) -> dict[str, int]:
    return {
        "low_cents": r.low_cents,
        "median_cents": r.median_cents,
        "high_cents": r.high_cents,
        "mean_cents": r.mean_cents,
        "open_balance_cents": r.open_balance_cents,
    }


def _rate(rate: fc.Rate) -> dict[str, Any]:
    return {
        "bucket": fc.AGE_BUCKETS[rate.bucket].label,
        "observed": rate.observed,
        "paid": rate.paid,
        "probability": rate.probability,
        "paid_share": rate.paid_share,
    }


def _payer(row: fs.DebtorRow) -> dict[str, Any]:
    days = row.days_to_pay
    return {
        "payer_id": row.debtor_id or None,
        "name": row.name,
        "expected": _range(row.predicted),
        "open_by_bucket_cents": list(row.open_by_bucket),
        "rates": [_rate(r) for r in row.rates],
        "days_to_pay": None if days is None else {**days.__dict__, "histogram": list(days.histogram)},
    }


def _today(db: DB, practice_id: int) -> date:
    practice = db.get(m.Practice, practice_id)
    if practice is None:
        raise NotFound(f"practice {practice_id} not found")
    return practice_today(practice, utcnow())


def _past(day: date, today: date, name: str) -> date:
    if day > today:
        raise InvalidInput(f"{name}: {day.isoformat()} is after today ({today.isoformat()})")
    return day


def at_risk_out(risk: fs.AtRisk) -> dict[str, Any]:
    return {
        "today": risk.today,
        "service_before": risk.cutoff_on,
        "total_cents": risk.total_cents,
        "claims": risk.claims,
        "ar_total_cents": risk.ar_total_cents,
        "share": risk.share,
        "payers": [r.__dict__ for r in risk.rows],
    }


def gap_out(gap: fs.GapReport) -> dict[str, Any]:
    return {
        "service_from": gap.window_from,
        "service_through": gap.window_through,
        "best_payer_id": gap.best.payer_id if gap.best else None,
        "best_rate": gap.best.rate if gap.best else None,
        "total_gap_cents": gap.total_gap_cents,
        "payers": [{**r.__dict__, "collection_rate": r.rate} for r in gap.rows],
    }


@router.get("/api/forecast", response_model=ForecastOut, **needs(REPORTS))
def api_forecast(
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    as_of: Annotated[date | None, Query(description="forecast from this date (default: today)")] = None,
) -> dict[str, Any]:
    pid = one_practice(actor, practice_id, REPORTS)
    today = _today(db, pid)
    report = fs.forecast(db, actor, pid, _past(as_of or today, today, "as_of"))
    return {
        "practice_id": pid,
        "as_of": report.as_of,
        "through": report.through,
        "history_from": report.history_from,
        "seed": report.seed,
        "draws": report.draws,
        "expected": _range(report.total),
        "payers": [_payer(row) for row in report.rows],
        "pooled_rates": [_rate(r) for r in report.pooled],
        "at_risk": at_risk_out(fs.at_risk(db, actor, pid, today)),
        "gap": gap_out(fs.collection_gap(db, actor, pid, today)),
    }


@router.get("/api/forecast/backtest", response_model=BacktestOut, **needs(REPORTS))
def api_backtest(
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    as_of: Annotated[
        list[date] | None, Query(description="past dates (repeat the parameter); default 90, 60, 30 days ago")
    ] = None,
) -> dict[str, Any]:
    pid = one_practice(actor, practice_id, REPORTS)
    today = _today(db, pid)
    dates = as_of or fs.default_backtest_dates(today)
    if len(dates) > MAX_BACKTEST_DATES:
        raise InvalidInput(f"as_of: at most {MAX_BACKTEST_DATES} dates")
    latest = today - timedelta(days=fc.HORIZON_DAYS)
    for day in dates:
        if day > latest:
            raise InvalidInput(f"as_of: {day.isoformat()} is less than 30 days ago; its month is not over")
    report = fs.backtest(db, actor, pid, dates)
    return {
        "practice_id": pid,
        "points": [
            {
                "as_of": row.point.as_of,
                "through": row.point.as_of + timedelta(days=fc.HORIZON_DAYS),
                "predicted": _range(row.point.predicted),
                "actual_cents": row.point.actual_cents,
                "all_collections_cents": row.all_collections_cents,
                "error_cents": row.point.error_cents,
                "absolute_error_cents": row.point.absolute_error_cents,
                "percentage_error": row.point.percentage_error,
                "inside_range": row.point.inside_range,
            }
            for row in report.rows
        ],
        "mean_absolute_error_cents": report.summary.mean_absolute_error_cents,
        "mean_percentage_error": report.summary.mean_percentage_error,
        "inside_share": report.summary.inside_share,
    }
