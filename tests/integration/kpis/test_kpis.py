"""Every KPI on the hand-built practice (tests/integration/kpis/world.py), worked out by hand,
and the list behind each figure lists exactly what it counts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.services import kpis, queries
from revcycle.services import sessions as session_queries
from revcycle.services.kpis import KpiValue
from tests.integration.kpis.world import TODAY, build_world
from tests.integration.strategies.world import History


@pytest.fixture
def world(db: Session) -> tuple[History, list[m.ServiceSession]]:
    return build_world(db)


def _figures(world: History) -> dict[str, KpiValue]:
    values = kpis.compute_kpis(world.db, actor=world.actor, practice_id=world.practice.id, today=TODAY)
    return {value.kpi.key: value for value in values}


def test_each_figure_matches_the_hand_count(world: tuple[History, list[m.ServiceSession]]) -> None:
    figures = _figures(world[0])
    # November: c5, c6, three unbilled sessions and a cancelled one.
    assert figures["sessions_this_month"].value == 6
    assert figures["unbilled_sessions"].value == 3
    # c1 $500 + c3 $300 + c5 $100 + c6 $150 (c2 and c4 are settled).
    assert figures["outstanding_claims"].value == 105_000
    assert figures["outstanding_claims"].detail == "4 claims"
    # First paid in the 90 days to 11-20: c2 (09-10 -> 10-12: 32 days), c4 (10-20 -> 11-10: 21).
    assert figures["avg_days_to_payment"].value == pytest.approx(26.5)
    assert "24.5 from first submission" in figures["avg_days_to_payment"].detail  # 30 and 19
    assert figures["collections_month"].value == 8_000  # c4's $80 on 11-10
    # First decisions in 90 days: c2 paid, c3 denied, c4 paid.
    assert figures["denial_rate"].value == pytest.approx(100 / 3)
    assert figures["oldest_unpaid_claim"].value == 142  # c1, served 07-01
    # A/R $1,050 / (charges 08-23..11-20: $200 + $300 + $100 + $100 + $150 = $850 / 90).
    assert figures["days_in_ar"].value == pytest.approx(105_000 / (85_000 / 90))
    # 12 months: cash $230 / (charges $1,350 - contractual $70).
    assert figures["net_collection_rate"].value == pytest.approx(100 * 23_000 / 128_000)
    # First sent in 90 days: c2..c6; c6 was rejected and sent twice.
    assert figures["clean_claim_rate"].value == pytest.approx(80.0)
    assert figures["first_pass_resolution"].value == pytest.approx(200 / 3)  # c2, c4 of c2-c4
    assert figures["ar_over_90_share"].value == pytest.approx(100 * 50_000 / 105_000)  # c1
    assert figures["charge_lag"].value == pytest.approx(3.0)  # 2, 2, 2, 2 and 7 days
    assert figures["claims_per_staff"].value == pytest.approx(3.0)  # c4, c5, c6 / one biller


def test_thresholds_colour_the_crossed_figures(world: tuple[History, list[m.ServiceSession]]) -> None:
    figures = _figures(world[0])
    crossed = {key for key, value in figures.items() if value.crossed}
    assert crossed == {
        "denial_rate",
        "oldest_unpaid_claim",
        "days_in_ar",
        "net_collection_rate",
        "clean_claim_rate",
        "first_pass_resolution",
        "ar_over_90_share",
    }
    assert figures["denial_rate"].colour == "danger"
    assert figures["unbilled_sessions"].colour == "success"  # 3, not over 10
    assert figures["charge_lag"].colour == "success"
    assert figures["sessions_this_month"].colour == "neutral"  # no threshold
    assert figures["collections_month"].threshold is None  # no goal set yet


CLAIMS_BEHIND = {
    "outstanding_claims": {"c1", "c3", "c5", "c6"},
    "days_in_ar": {"c1", "c3", "c5", "c6"},
    "oldest_unpaid_claim": {"c1"},
    "ar_over_90_share": {"c1"},
    "avg_days_to_payment": {"c2", "c4"},
    "denial_rate": {"c2", "c3", "c4"},
    "first_pass_resolution": {"c2", "c3", "c4"},
    "clean_claim_rate": {"c2", "c3", "c4", "c5", "c6"},
    "charge_lag": {"c2", "c3", "c4", "c5", "c6"},
    "claims_per_staff": {"c4", "c5", "c6"},
    "net_collection_rate": {"c1", "c2", "c3", "c4", "c5", "c6"},
}


@pytest.mark.parametrize("key", sorted(CLAIMS_BEHIND))
def test_the_claims_list_behind_a_figure_is_what_it_counts(
    world: tuple[History, list[m.ServiceSession]], key: str
) -> None:
    history = world[0]
    zone = kpis.practice_zone(history.db, history.practice.id)
    filters = queries.ClaimFilters(claim_ids=kpis.claims_behind(key, history.practice.id, TODAY, zone))
    page = queries.list_claims(
        history.db, actor=history.actor, practice_id=history.practice.id, filters=filters, limit=100
    )
    numbers = {claim.id: name for name, claim in history.claims.items()}
    assert {numbers[row.claim.id] for row in page.items} == CLAIMS_BEHIND[key]


def test_the_sessions_behind_unbilled_are_the_three(world: tuple[History, list[m.ServiceSession]]) -> None:
    history, unbilled = world
    ids = kpis.sessions_behind(history.db, "unbilled_sessions", history.practice.id)
    page = session_queries.list_sessions(
        history.db,
        actor=history.actor,
        practice_id=history.practice.id,
        filters=session_queries.SessionFilters(session_ids=tuple(ids)),
    )
    assert {row.id for row in page.items} == {s.id for s in unbilled}
    month = session_queries.list_sessions(
        history.db,
        actor=history.actor,
        practice_id=history.practice.id,
        filters=session_queries.SessionFilters(month=TODAY),
    )
    assert month.total == 6
    assert history.db.scalar(select(m.Practice.id).where(m.Practice.id == history.practice.id))


def test_a_submission_late_in_the_evening_counts_on_the_practices_date(db: Session) -> None:
    """Sent 2026-11-12 03:00 UTC is 11-11 at 22:00 in New York: a lag of 1 day from 11-10,
    not 2 (PostgreSQL takes the local date in SQL, SQLite in Python: both must agree)."""
    history, _ = build_world(db)
    late = history.claim(
        "late", history.harbor, service_on=date(2026, 11, 10), sent_on=date(2026, 11, 11), billed_cents=5_000
    )
    submission = db.scalars(select(m.Submission).where(m.Submission.claim_id == late.id)).one()
    submission.submitted_at = datetime(2026, 11, 12, 3, tzinfo=UTC)
    db.flush()
    figures = _figures(history)
    assert figures["charge_lag"].value == pytest.approx((2 + 2 + 2 + 2 + 7 + 1) / 6)
