"""Forecasting the next 30 days' collections from the claims open today, and checking it.

**What is learned.** For each debtor (a payer, or the patients: debtor 0) and each claim age
bucket (days since the date of service: 0-30, 31-60, 61-90, 91-120, 121-180, 181+), the
history says how many balances of that age were open at a past date, how many of them paid
something within the following 30 days, and what share of their balance those paid. The
history is a set of past snapshots (as of 30, 60, ... 180 days before the forecast date), each
followed for its 30 days, so only what was known on the forecast date is used.

**The probability of payment** of a debtor x bucket is the posterior mean of a Beta
distribution: the bucket's pooled rate over all debtors is the prior, worth
``PRIOR_WEIGHT`` claims, so a payer seen on three claims borrows most of its rate from
everyone else and a payer seen on three hundred speaks for itself.

**The range.** A seeded Monte Carlo (``DRAWS`` draws of ``random.Random(seed)``). In each draw,
each debtor x bucket group of open balances (n claims, balance B, sum of squared balances
Q) draws its probability ``p`` from that Beta, then its collections from a normal with the
binomial mean ``p * s * B`` and variance ``p (1 - p) s^2 Q`` (``s``: the paid share), kept
within ``[0, s * B]``. Summing the groups gives one possible month; the 10th, 50th and 90th
percentiles of the draws are the range. Why this and not an analytic variance: the
uncertainty about ``p`` itself (few paid claims in the history) matters as much as the luck
of which claims pay, and it does not add up in closed form across groups; drawing ``p``
makes the range widen honestly where the history is thin. The normal approximation inside a
group lets a group of 5,000 claims cost as little as a group of five; the same seed gives
the same range.

**Backtest.** A forecast made at a past date against what the ledger says was collected in
the 30 days after it, on the balances open at that date: the error of the median (in cents
and as a share of the actual), and whether the actual fell inside the 10th-90th range.

Amounts are integer cents in and out; the draws are floats, rounded to whole cents at the end
(an estimate, not a posting).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

__all__ = [
    "AGE_BUCKETS",
    "DRAWS",
    "HISTORY_SNAPSHOTS",
    "HORIZON_DAYS",
    "PATIENTS",
    "PRIOR_WEIGHT",
    "AgeBucket",
    "BacktestPoint",
    "BacktestSummary",
    "DaysToPay",
    "Forecast",
    "ForecastRange",
    "OpenGroup",
    "Outcome",
    "Rate",
    "RateTable",
    "bucket_of",
    "days_to_pay",
    "forecast",
    "learn_rates",
    "percentile",
    "summarize_backtest",
]

HORIZON_DAYS = 30  # the forecast looks this far ahead
HISTORY_SNAPSHOTS = 6  # past snapshots learned from: 30, 60, ... 180 days before the date
PRIOR_WEIGHT = 2.0  # the pooled rate counts as this many claims of a debtor's own history
DRAWS = 2000
DEFAULT_SEED = 20_260_101
PATIENTS = 0  # the debtor id of balances the patients owe


@dataclass(frozen=True)
class AgeBucket:
    label: str
    low_days: int
    high_days: int | None  # None: no upper bound


AGE_BUCKETS: tuple[AgeBucket, ...] = (
    AgeBucket("0-30", 0, 30),
    AgeBucket("31-60", 31, 60),
    AgeBucket("61-90", 61, 90),
    AgeBucket("91-120", 91, 120),
    AgeBucket("121-180", 121, 180),
    AgeBucket("181+", 181, None),
)


def bucket_of(age_days: int) -> int:
    """The index in :data:`AGE_BUCKETS` of a balance ``age_days`` after its date of service."""
    for index, bucket in enumerate(AGE_BUCKETS):
        if bucket.high_days is None or age_days <= bucket.high_days:
            return index
    raise AssertionError("the last bucket is open-ended")  # pragma: no cover


@dataclass(frozen=True)
class Outcome:
    """Balances of one debtor and age bucket open at a past date, and what their next 30 days did."""

    debtor_id: int
    bucket: int
    open_count: int
    paid_count: int  # paid something within the 30 days
    paid_balance_cents: int  # their balances at the snapshot
    collected_cents: int  # what they paid in the 30 days


@dataclass(frozen=True)
class OpenGroup:
    """Balances of one debtor and age bucket open on the forecast date."""

    debtor_id: int
    bucket: int
    count: int
    balance_cents: int
    balance_squares: int  # sum of each balance squared (cents^2): the spread within the group


@dataclass(frozen=True)
class Rate:
    """The probability that a balance of this debtor and age pays within 30 days."""

    debtor_id: int
    bucket: int
    observed: int  # balances seen open in the history
    paid: int  # of which paid within 30 days
    alpha: float
    beta: float
    paid_share: float  # of the balance, when it pays

    @property
    def probability(self) -> float:
        return self.alpha / (self.alpha + self.beta)


@dataclass(frozen=True)
class RateTable:
    rates: Mapping[tuple[int, int], Rate]
    pooled: Mapping[int, Rate]  # per bucket, all debtors together (debtor id -1)

    def rate(self, debtor_id: int, bucket: int) -> Rate:
        """The debtor's rate, or the pooled one where the debtor has no history at that age."""
        found = self.rates.get((debtor_id, bucket))
        return found if found is not None else self.pooled[bucket]


def learn_rates(outcomes: Iterable[Outcome]) -> RateTable:
    """The probability table from the history (several snapshots of one key add up)."""
    totals: dict[tuple[int, int], list[int]] = {}
    for o in outcomes:
        row = totals.setdefault((o.debtor_id, o.bucket), [0, 0, 0, 0])
        row[0] += o.open_count
        row[1] += o.paid_count
        row[2] += o.paid_balance_cents
        row[3] += o.collected_cents
    everyone = [0, 0, 0, 0]
    by_bucket = {index: [0, 0, 0, 0] for index in range(len(AGE_BUCKETS))}
    for (_, bucket), row in totals.items():
        for target in (by_bucket[bucket], everyone):
            for i, value in enumerate(row):
                target[i] += value
    overall_share = _share(everyone[3], everyone[2], 1.0)
    pooled = {
        bucket: Rate(
            -1,
            bucket,
            row[0],
            row[1],
            row[1] + 1.0,  # a flat prior under the pool: a bucket nobody has seen is a coin toss
            row[0] - row[1] + 1.0,
            _share(row[3], row[2], overall_share),
        )
        for bucket, row in by_bucket.items()
    }
    rates = {}
    for (debtor, bucket), row in totals.items():
        prior = pooled[bucket]
        p0 = prior.probability
        rates[debtor, bucket] = Rate(
            debtor,
            bucket,
            row[0],
            row[1],
            row[1] + PRIOR_WEIGHT * p0,
            row[0] - row[1] + PRIOR_WEIGHT * (1 - p0),
            _share(row[3], row[2], prior.paid_share),
        )
    return RateTable(rates, pooled)


def _share(collected_cents: int, balance_cents: int, fallback: float) -> float:
    if balance_cents <= 0:
        return fallback
    return min(1.0, max(0.0, collected_cents / balance_cents))


@dataclass(frozen=True)
class ForecastRange:
    low_cents: int  # 10th percentile
    median_cents: int
    high_cents: int  # 90th percentile
    mean_cents: int
    open_balance_cents: int


@dataclass(frozen=True)
class Forecast:
    total: ForecastRange
    by_debtor: Mapping[int, ForecastRange]
    seed: int
    draws: int


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (``q`` in 0..1) of sorted values."""
    if not sorted_values:
        return 0.0
    position = q * (len(sorted_values) - 1)
    below = math.floor(position)
    above = min(below + 1, len(sorted_values) - 1)
    weight = position - below
    return sorted_values[below] * (1 - weight) + sorted_values[above] * weight


def _range(draws: list[float], open_balance_cents: int) -> ForecastRange:
    ordered = sorted(draws)
    mean = sum(ordered) / len(ordered) if ordered else 0.0
    return ForecastRange(
        low_cents=round(percentile(ordered, 0.10)),
        median_cents=round(percentile(ordered, 0.50)),
        high_cents=round(percentile(ordered, 0.90)),
        mean_cents=round(mean),
        open_balance_cents=open_balance_cents,
    )


def _draw_group(rng: random.Random, group: OpenGroup, rate: Rate) -> float:
    if group.count <= 0 or group.balance_cents <= 0:
        return 0.0
    p = rng.betavariate(rate.alpha, rate.beta)
    share = rate.paid_share
    ceiling = share * group.balance_cents
    mean = p * ceiling
    sd = math.sqrt(max(0.0, p * (1 - p) * share * share * group.balance_squares))
    return min(ceiling, max(0.0, rng.gauss(mean, sd)))


def forecast(
    groups: Sequence[OpenGroup], rates: RateTable, *, seed: int = DEFAULT_SEED, draws: int = DRAWS
) -> Forecast:
    """The next 30 days' collections from the open balances: a range per debtor and in total."""
    rng = random.Random(seed)  # noqa: S311 -- a reproducible simulation, not a secret
    ordered = sorted(groups, key=lambda g: (g.debtor_id, g.bucket))
    debtors = sorted({g.debtor_id for g in ordered})
    per_debtor: dict[int, list[float]] = {debtor: [] for debtor in debtors}
    totals: list[float] = []
    for _ in range(draws):
        month: dict[int, float] = dict.fromkeys(debtors, 0.0)
        for group in ordered:
            month[group.debtor_id] += _draw_group(rng, group, rates.rate(group.debtor_id, group.bucket))
        for debtor, amount in month.items():
            per_debtor[debtor].append(amount)
        totals.append(sum(month.values()))
    balance = {d: sum(g.balance_cents for g in ordered if g.debtor_id == d) for d in debtors}
    return Forecast(
        total=_range(totals, sum(balance.values())),
        by_debtor={debtor: _range(values, balance[debtor]) for debtor, values in per_debtor.items()},
        seed=seed,
        draws=draws,
    )


@dataclass(frozen=True)
class DaysToPay:
    """How long a debtor took from the date of service to its first payment."""

    count: int
    p25_days: int | None
    median_days: int | None
    p75_days: int | None
    p90_days: int | None
    histogram: tuple[int, ...] = field(default=())  # claims per AGE_BUCKETS bucket


def days_to_pay(counts: Mapping[int, int]) -> DaysToPay:
    """The distribution from ``{days: claims}`` (days from service to the first payment)."""
    histogram = [0] * len(AGE_BUCKETS)
    values: list[int] = []
    for days, n in sorted(counts.items()):
        histogram[bucket_of(max(0, days))] += n
        values.extend([days] * n)
    if not values:
        return DaysToPay(0, None, None, None, None, tuple(histogram))
    p25, median, p75, p90 = (round(percentile(values, q)) for q in (0.25, 0.5, 0.75, 0.9))
    return DaysToPay(len(values), p25, median, p75, p90, tuple(histogram))


@dataclass(frozen=True)
class BacktestPoint:
    """A forecast made at ``as_of`` and what was collected in the 30 days after it."""

    as_of: date
    predicted: ForecastRange
    actual_cents: int

    @property
    def error_cents(self) -> int:
        """Median minus actual: positive when the forecast was too high."""
        return self.predicted.median_cents - self.actual_cents

    @property
    def absolute_error_cents(self) -> int:
        return abs(self.error_cents)

    @property
    def percentage_error(self) -> float | None:
        """|median - actual| / actual; None when nothing was collected."""
        return self.absolute_error_cents / self.actual_cents if self.actual_cents else None

    @property
    def inside_range(self) -> bool:
        return self.predicted.low_cents <= self.actual_cents <= self.predicted.high_cents


@dataclass(frozen=True)
class BacktestSummary:
    points: tuple[BacktestPoint, ...]
    mean_absolute_error_cents: int
    mean_percentage_error: float | None  # MAPE over the points with an actual
    inside_share: float | None  # how often the actual fell inside the 10th-90th range


def summarize_backtest(points: Sequence[BacktestPoint]) -> BacktestSummary:
    if not points:
        return BacktestSummary((), 0, None, None)
    shares = [p.percentage_error for p in points if p.percentage_error is not None]
    return BacktestSummary(
        points=tuple(points),
        mean_absolute_error_cents=round(sum(p.absolute_error_cents for p in points) / len(points)),
        mean_percentage_error=sum(shares) / len(shares) if shares else None,
        inside_share=sum(1 for p in points if p.inside_range) / len(points),
    )
