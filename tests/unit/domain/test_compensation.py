"""The compensation guide: each part on fixed parameters, worked by hand, and the checks."""

from __future__ import annotations

from decimal import Decimal

from revcycle.domain.compensation import (
    ClinicianMonth,
    CompensationParameters,
    compute_pay,
    parse_parameters,
)

GUIDE = CompensationParameters(
    base_cents=300_000,
    per_session_cents=2_500,
    quality_bonus_cents=50_000,
    quality_bar_percent=Decimal("90"),
    on_time_days=3,
    efficiency_target_sessions=80,
    efficiency_per_session_cents=4_000,
    revenue_share_percent=Decimal("10"),
    revenue_threshold_cents=1_200_000,
)


def test_a_busy_month_earns_every_part() -> None:
    pay = compute_pay(
        GUIDE,
        ClinicianMonth(sessions=90, documented_sessions=88, on_time_sessions=80, charges_cents=1_485_000),
    )
    assert pay.base_cents == 300_000
    assert pay.per_session_cents == 90 * 2_500  # 2,250.00
    assert (pay.quality_met, pay.quality_cents) == (True, 50_000)  # 80 / 88 = 90.9% >= 90%
    assert (pay.sessions_over_target, pay.efficiency_cents) == (10, 40_000)
    assert (pay.revenue_over_threshold_cents, pay.revenue_share_cents) == (285_000, 28_500)
    assert pay.total_cents == 643_500


def test_a_quiet_month_earns_base_and_sessions_only() -> None:
    pay = compute_pay(
        GUIDE,
        ClinicianMonth(sessions=70, documented_sessions=60, on_time_sessions=50, charges_cents=1_100_000),
    )
    assert (pay.quality_met, pay.quality_cents) == (False, 0)  # 50 / 60 = 83.3%
    assert (pay.efficiency_cents, pay.sessions_over_target) == (0, 0)
    assert (pay.revenue_share_cents, pay.revenue_over_threshold_cents) == (0, 0)
    assert pay.total_cents == 300_000 + 175_000


def test_the_bar_is_inclusive_and_no_documentation_earns_no_quality_bonus() -> None:
    exactly = compute_pay(
        GUIDE, ClinicianMonth(sessions=10, documented_sessions=10, on_time_sessions=9, charges_cents=0)
    )
    assert exactly.quality_met  # 9 / 10 = 90% meets a 90% bar
    nothing = compute_pay(
        GUIDE, ClinicianMonth(sessions=0, documented_sessions=0, on_time_sessions=0, charges_cents=0)
    )
    assert (nothing.quality_met, nothing.total_cents) == (False, 300_000)


def test_revenue_share_rounds_half_up_to_the_cent() -> None:
    guide = CompensationParameters(revenue_share_percent=Decimal("12.5"), revenue_threshold_cents=0)
    pay = compute_pay(
        guide, ClinicianMonth(sessions=1, documented_sessions=1, on_time_sessions=1, charges_cents=1_004)
    )
    assert pay.revenue_share_cents == 126  # 12.5% of 10.04 = 1.255 -> 1.26


def test_parameters_round_trip_through_settings_and_form() -> None:
    stored, problems = parse_parameters(GUIDE.to_settings())
    assert problems == []
    assert stored == GUIDE
    typed, problems = parse_parameters(
        {
            "base_cents": "3,000.00",
            "per_session_cents": "25",
            "quality_bar_percent": "90%",
            "on_time_days": "3",
        }
    )
    assert problems == []
    assert typed is not None
    assert (typed.base_cents, typed.per_session_cents) == (300_000, 2_500)
    assert typed.revenue_share_percent == Decimal("0")  # missing: the default


def test_every_wrong_field_is_named_at_once() -> None:
    parsed, problems = parse_parameters(
        {
            "base_cents": "3,000.005",
            "per_session_cents": "-5",
            "quality_bar_percent": "120",
            "revenue_share_percent": "ten",
            "on_time_days": "2.5",
            "efficiency_target_sessions": True,
        }
    )
    assert parsed is None
    assert [p.where for p in problems] == [
        "base_cents",
        "per_session_cents",
        "quality_bar_percent",
        "on_time_days",
        "efficiency_target_sessions",
        "revenue_share_percent",
    ]
    assert "fraction of a cent" in problems[0].message
