"""The forecast method on synthetic histories whose answer is known."""

from __future__ import annotations

from datetime import date

import pytest

from revcycle.domain.forecast import (
    AGE_BUCKETS,
    BacktestPoint,
    ForecastRange,
    OpenGroup,
    Outcome,
    bucket_of,
    days_to_pay,
    forecast,
    learn_rates,
    percentile,
    summarize_backtest,
)

PAYER = 7


def _history(observed: int, paid: int, share: float = 0.8, bucket: int = 1) -> list[Outcome]:
    balance = 10_000 * paid
    return [Outcome(PAYER, bucket, observed, paid, balance, round(balance * share))]


def _open(claims: int = 100, balance_cents: int = 10_000, bucket: int = 1) -> list[OpenGroup]:
    return [OpenGroup(PAYER, bucket, claims, claims * balance_cents, claims * balance_cents**2)]


def test_buckets_follow_the_age_in_days() -> None:
    assert [bucket_of(d) for d in (0, 30, 31, 60, 61, 90, 91, 120, 121, 180, 181, 900)] == [
        0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5,
    ]  # fmt: skip
    assert len(AGE_BUCKETS) == 6


def test_a_well_known_payer_gives_the_expected_amount() -> None:
    # Half of 2,000 balances paid within 30 days, 80% of what they owed: 100 claims of $100
    # open now should bring about 100 x $100 x 0.5 x 0.8 = $4,000.
    rates = learn_rates(_history(2000, 1000))
    rate = rates.rate(PAYER, 1)
    assert rate.probability == pytest.approx(0.5, abs=0.001)
    assert rate.paid_share == pytest.approx(0.8)
    result = forecast(_open(), rates, seed=1)
    assert result.total.median_cents == pytest.approx(400_000, rel=0.02)
    assert result.total.low_cents < result.total.median_cents < result.total.high_cents
    assert result.total.open_balance_cents == 1_000_000
    assert result.by_debtor[PAYER] == result.total


def test_the_range_stays_within_what_is_owed() -> None:
    rates = learn_rates(_history(500, 500, share=1.0))
    result = forecast(_open(claims=3), rates, seed=3)
    assert 0 <= result.total.low_cents <= result.total.high_cents <= 30_000


def test_the_range_widens_with_fewer_paid_claims() -> None:
    many = forecast(_open(), learn_rates(_history(400, 200)), seed=5)
    few = forecast(_open(), learn_rates(_history(8, 4)), seed=5)
    width_many = many.total.high_cents - many.total.low_cents
    width_few = few.total.high_cents - few.total.low_cents
    assert width_few > 2 * width_many


def test_a_payer_without_history_at_that_age_borrows_the_pooled_rate() -> None:
    others = [Outcome(99, 2, 1000, 100, 1_000_000, 1_000_000)]
    rates = learn_rates(others)
    assert rates.rate(PAYER, 2).probability == pytest.approx(0.1, abs=0.01)
    assert rates.rate(PAYER, 0).probability == pytest.approx(0.5)  # nobody seen: a coin toss
    # A payer seen on few claims is pulled toward the pool: 2 of 2 paid is not a certainty
    # but (2 + 2 x 0.1) / (2 + 2) = 0.55 (the pool, flat prior: 103 / 1004).
    thin = learn_rates([*others, Outcome(PAYER, 2, 2, 2, 20_000, 20_000)])
    assert thin.rate(PAYER, 2).probability == pytest.approx((2 + 2 * 103 / 1004) / 4)


def test_the_same_seed_gives_the_same_range() -> None:
    rates = learn_rates(_history(50, 20))
    assert forecast(_open(), rates, seed=11) == forecast(_open(), rates, seed=11)
    assert forecast(_open(), rates, seed=11).total != forecast(_open(), rates, seed=12).total


def test_days_to_pay_percentiles_and_histogram() -> None:
    summary = days_to_pay({10: 1, 20: 2, 40: 1, 200: 1})
    assert summary.count == 5
    assert summary.median_days == 20
    assert summary.histogram == (3, 1, 0, 0, 0, 1)
    assert days_to_pay({}).median_days is None


def test_percentile_interpolates() -> None:
    assert percentile([0.0, 10.0], 0.5) == 5.0
    assert percentile([4.0], 0.9) == 4.0


def test_backtest_errors() -> None:
    predicted = ForecastRange(8_000, 10_000, 12_000, 10_000, 50_000)
    over = BacktestPoint(date(2026, 1, 1), predicted, 8_000)
    outside = BacktestPoint(date(2026, 2, 1), predicted, 20_000)
    assert over.error_cents == 2_000
    assert over.percentage_error == pytest.approx(0.25)
    assert over.inside_range
    assert not outside.inside_range
    assert outside.error_cents == -10_000
    summary = summarize_backtest([over, outside])
    assert summary.mean_absolute_error_cents == 6_000
    assert summary.mean_percentage_error == pytest.approx((0.25 + 0.5) / 2)
    assert summary.inside_share == 0.5
    nothing = BacktestPoint(date(2026, 3, 1), predicted, 0)
    assert nothing.percentage_error is None
