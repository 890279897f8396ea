"""The KPI definitions: every figure is named with its formula and date basis, thresholds
colour a value on the right side, and thresholds parse as people type them."""

from __future__ import annotations

from datetime import date

import pytest

from revcycle.domain.kpis import (
    KPI_BY_KEY,
    KPIS,
    PRIMARY_KEYS,
    colour,
    crossed,
    goal_pace_cents,
    parse_threshold,
)


def test_the_seven_come_first_and_every_figure_states_formula_and_basis() -> None:
    assert PRIMARY_KEYS == (
        "sessions_this_month",
        "unbilled_sessions",
        "outstanding_claims",
        "avg_days_to_payment",
        "collections_month",
        "denial_rate",
        "oldest_unpaid_claim",
    )
    assert [k.key for k in KPIS[:7]] == list(PRIMARY_KEYS)
    for kpi in KPIS:
        assert kpi.formula
        assert kpi.basis
        assert kpi.owner_role in {"director", "billing"}
    assert "first submission" in KPI_BY_KEY["clean_claim_rate"].formula
    assert "first submission" in KPI_BY_KEY["first_pass_resolution"].formula


def test_the_practices_default_thresholds() -> None:
    defaults = {k.key: k.default_threshold for k in KPIS}
    assert defaults["unbilled_sessions"] == 10
    assert defaults["outstanding_claims"] == 500_000  # $5,000 in cents
    assert defaults["avg_days_to_payment"] == 45
    assert defaults["denial_rate"] == 5
    assert defaults["oldest_unpaid_claim"] == 90


def test_above_and_below_thresholds() -> None:
    denial, ncr = KPI_BY_KEY["denial_rate"], KPI_BY_KEY["net_collection_rate"]
    assert crossed(denial, 5.1, 5)
    assert not crossed(denial, 5.0, 5)
    assert crossed(ncr, 94.9, 95)
    assert not crossed(ncr, 95.0, 95)
    assert colour(denial, 6, 5) == "danger"
    assert colour(denial, 4, 5) == "success"
    assert colour(denial, None, 5) == "neutral"  # nothing measured
    assert colour(denial, 6, None) == "neutral"  # no threshold


def test_the_goal_pace_is_the_share_of_the_month_gone() -> None:
    assert goal_pace_cents(3_000_000, date(2026, 11, 20)) == 2_000_000  # 20 of 30 days
    assert goal_pace_cents(3_100_000, date(2026, 12, 31)) == 3_100_000


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("outstanding_claims", "$5,000", 500_000),
        ("outstanding_claims", "2500.50", 250_050),
        ("denial_rate", "7.5%", 7.5),
        ("avg_days_to_payment", " 30 ", 30),
        ("denial_rate", "", None),
    ],
)
def test_thresholds_parse_as_typed(key: str, text: str, expected: float | None) -> None:
    assert parse_threshold(KPI_BY_KEY[key], text) == expected


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("denial_rate", "lots", "denial_rate: 'lots' is not a number"),
        ("denial_rate", "120", "denial_rate: a percentage between 0 and 100"),
        ("charge_lag", "-1", "charge_lag: must be a number, zero or more"),
        ("outstanding_claims", "12.345", "outstanding_claims"),
    ],
)
def test_bad_thresholds_are_named(key: str, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_threshold(KPI_BY_KEY[key], text)
