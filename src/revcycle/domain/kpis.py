"""The practice's key figures (KPIs): what each one measures, over which dates, and when it
is out of bounds.

The seven the practice watches first, then the revenue-cycle measures of the industry:

========================  =========  ==========================================  ===========
key                       unit       formula (date basis)                        crossed when
========================  =========  ==========================================  ===========
sessions_this_month       count      sessions with a date of service this month  (none)
unbilled_sessions         count      held, insured, not yet sent to a payer      > 10
outstanding_claims        cents      sum of claims' positive A/R balances        > $5,000
avg_days_to_payment       days       date of service -> first insurance payment  > 45
                                     (claims first paid in the last 90 days)
collections_month         cents      cash postings this month (payments less     < goal pace
                                     refunds), against the monthly goal
denial_rate               percent    denied on first decision / claims decided   > 5 %
                                     (first decision in the last 90 days)
oldest_unpaid_claim       days       today - date of service of the oldest       > 90
                                     claim with a positive A/R balance
days_in_ar                days       A/R / (charges of the last 90 days / 90)    > 45
net_collection_rate       percent    (payments - refunds) / (charges -           < 95 %
                                     contractual adjustments), 12 months
clean_claim_rate          percent    accepted on first submission without        < 95 %
                                     correction / claims first sent (90 days)
first_pass_resolution     percent    paid or moved to patient responsibility on  < 90 %
                                     first submission / claims decided (90 days)
ar_over_90_share          percent    A/R on claims 91+ days from service /       > 20 %
                                     total A/R
charge_lag                days       date of service -> first submission         > 7
                                     (claims first sent in the last 90 days)
claims_per_staff          count      claims first sent in the last 30 days /     (none)
                                     billing staff
========================  =========  ==========================================  ===========

The collections goal is a month's target; the figure is "crossed" when the month is behind
its pace (collected so far < goal x days elapsed / days in the month), so the tile turns red
early rather than on the last day. A figure with no data (no claims decided: no denial rate)
is never crossed. Shares are kept as percentages (0-100) so thresholds read as people type
them.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType

from revcycle.money import MoneyError, parse_cents

__all__ = [
    "KPIS",
    "KPI_BY_KEY",
    "PRIMARY_KEYS",
    "Direction",
    "Kpi",
    "Unit",
    "colour",
    "crossed",
    "goal_pace_cents",
    "parse_threshold",
]


class Unit(StrEnum):
    COUNT = "count"
    CENTS = "cents"
    DAYS = "days"
    PERCENT = "percent"


class Direction(StrEnum):
    """Which side of the threshold is bad."""

    ABOVE = "above"  # crossed when the value is greater than the threshold
    BELOW = "below"  # crossed when the value is less than the threshold


@dataclass(frozen=True)
class Kpi:
    key: str
    name: str
    unit: Unit
    formula: str
    basis: str  # the dates the figure is taken over
    direction: Direction
    default_threshold: float | None  # None: no threshold (information only)
    owner_role: str  # who an alert goes to: director (practice-level) or billing (working)
    primary: bool = False  # one of the practice's seven


A, B = Direction.ABOVE, Direction.BELOW
KPIS: tuple[Kpi, ...] = (
    Kpi(
        "sessions_this_month",
        "Sessions this month",
        Unit.COUNT,
        "count of sessions with a date of service in this month (every appointment status)",
        "date of service, this calendar month",
        A,
        None,
        "director",
        primary=True,
    ),
    Kpi(
        "unbilled_sessions",
        "Unbilled sessions",
        Unit.COUNT,
        "held sessions of insured clients, not self-pay, on no claim sent to a payer",
        "every held session to date",
        A,
        10,
        "billing",
        primary=True,
    ),
    Kpi(
        "outstanding_claims",
        "Outstanding claims",
        Unit.CENTS,
        "sum of each claim's A/R balance (ar:insurance + ar:patient) where positive",
        "ledger balances now",
        A,
        500_000,
        "director",
        primary=True,
    ),
    Kpi(
        "avg_days_to_payment",
        "Average days to payment",
        Unit.DAYS,
        "mean of (first insurance payment's date - date of service) over claims first paid",
        "first payment's accounting date in the last 90 days",
        A,
        45,
        "billing",
        primary=True,
    ),
    Kpi(
        "collections_month",
        "Collections this month",
        Unit.CENTS,
        "sum of cash postings (payments received less refunds paid) against the monthly goal",
        "accounting date, this calendar month to today",
        B,
        None,
        "director",
        primary=True,
    ),
    Kpi(
        "denial_rate",
        "Denial rate",
        Unit.PERCENT,
        "claims denied on their first decision / claims with a first decision",
        "first decision (adjudicated, paid, partially paid or denied) in the last 90 days",
        A,
        5,
        "billing",
        primary=True,
    ),
    Kpi(
        "oldest_unpaid_claim",
        "Oldest unpaid claim",
        Unit.DAYS,
        "today - date of service of the oldest claim with a positive A/R balance",
        "date of service",
        A,
        90,
        "billing",
        primary=True,
    ),
    Kpi(
        "days_in_ar",
        "Days in A/R",
        Unit.DAYS,
        "A/R balance (ar:insurance + ar:patient, credits netted) / (charges of the last 90 days / 90)",
        "ledger balance now; charges by accounting date, last 90 days",
        A,
        45,
        "director",
    ),
    Kpi(
        "net_collection_rate",
        "Net collection rate",
        Unit.PERCENT,
        "(payments - refunds) / (charges - contractual adjustments)",
        "accounting date, last 12 months",
        B,
        95,
        "director",
    ),
    Kpi(
        "clean_claim_rate",
        "Clean-claim rate",
        Unit.PERCENT,
        "claims accepted on their first submission without correction (one submission, never "
        "rejected) / claims first submitted",
        "first submission in the last 90 days",
        B,
        95,
        "billing",
    ),
    Kpi(
        "first_pass_resolution",
        "First-pass resolution rate",
        Unit.PERCENT,
        "claims paid or moved to patient responsibility on their first submission (first decision "
        "not a denial, one submission) / claims with a first decision",
        "first decision in the last 90 days",
        B,
        90,
        "billing",
    ),
    Kpi(
        "ar_over_90_share",
        "A/R over 90 days",
        Unit.PERCENT,
        "A/R balance of claims 91+ days past their date of service / total A/R",
        "date of service; ledger balances now",
        A,
        20,
        "director",
    ),
    Kpi(
        "charge_lag",
        "Charge lag",
        Unit.DAYS,
        "mean of (first submission's date - date of service)",
        "first submission in the last 90 days",
        A,
        7,
        "billing",
    ),
    Kpi(
        "claims_per_staff",
        "Claims per staff member",
        Unit.COUNT,
        "claims first submitted / active billing members (administrators when none)",
        "first submission in the last 30 days",
        A,
        None,
        "director",
    ),
)
KPI_BY_KEY = MappingProxyType({kpi.key: kpi for kpi in KPIS})
PRIMARY_KEYS = tuple(kpi.key for kpi in KPIS if kpi.primary)


def crossed(kpi: Kpi, value: float | None, threshold: float | None) -> bool:
    """Whether ``value`` is on the bad side of ``threshold`` (never without both)."""
    if value is None or threshold is None:
        return False
    return value > threshold if kpi.direction is Direction.ABOVE else value < threshold


def colour(kpi: Kpi, value: float | None, threshold: float | None) -> str:
    """The tile's tone: ``danger`` when crossed, ``success`` when within a threshold,
    ``neutral`` without one (or without data)."""
    if value is None or threshold is None:
        return "neutral"
    return "danger" if crossed(kpi, value, threshold) else "success"


def goal_pace_cents(goal_cents: int, today: date) -> int:
    """What the month should have collected by ``today`` to reach ``goal_cents`` at its end."""
    days = calendar.monthrange(today.year, today.month)[1]
    return goal_cents * today.day // days


def parse_threshold(kpi: Kpi, text: str) -> float | None:
    """A threshold as typed ("45", "5.5", "5%", "$5,000" for money: kept in cents); blank ->
    None (no threshold). Raises ValueError naming the field on anything else."""
    cleaned = text.strip()
    if not cleaned:
        return None
    if kpi.unit is Unit.CENTS:
        try:
            cents = parse_cents(cleaned, field=kpi.key)
        except MoneyError as exc:
            raise ValueError(str(exc)) from exc
        if cents < 0:
            raise ValueError(f"{kpi.key}: must be zero or more")
        return float(cents)
    try:
        number = Decimal(cleaned.removesuffix("%").strip())
    except InvalidOperation as exc:
        raise ValueError(f"{kpi.key}: {cleaned!r} is not a number") from exc
    if not number.is_finite() or number < 0:
        raise ValueError(f"{kpi.key}: must be a number, zero or more")
    if kpi.unit is Unit.PERCENT and number > 100:
        raise ValueError(f"{kpi.key}: a percentage between 0 and 100")
    return float(number)
