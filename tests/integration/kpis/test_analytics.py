"""The AR engine's payer table (top five by open balance, "Others", total, concentration) and
the payer report, worked out by hand on tests/integration/kpis/world.py."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from revcycle.domain.permissions import Role
from revcycle.errors import PermissionDenied
from revcycle.services import analytics
from tests import factories as f
from tests.integration.kpis.world import TODAY, build_world
from tests.integration.strategies.world import History


def more_payers(world: History) -> None:
    """Five more payers, each with one claim never answered: $100, $200, $300, $400, $600."""
    for n, cents in enumerate((10_000, 20_000, 30_000, 40_000, 60_000), start=1):
        payer = f.make_payer(world.db, name=f"Payer {n}")
        world.claim(
            f"p{n}", payer, service_on=date(2026, 10, n), sent_on=date(2026, 10, n + 1), billed_cents=cents
        )


@pytest.fixture
def world(db: Session) -> History:
    return build_world(db)[0]


def test_the_top_five_then_others_then_the_total(world: History) -> None:
    more_payers(world)
    table = analytics.payer_concentration(world.db, actor=world.actor, practice_id=world.practice.id)
    rows = [(row.payer_name, row.balance_cents, row.claims) for row in table.rows]
    # Summit: c1 $500 + c3 $300 + c6 $150; Harbor's c5 $100 and Payer 1's $100 are the others.
    assert rows == [
        ("Summit Mutual", 95_000, 3),
        ("Payer 5", 60_000, 1),
        ("Payer 4", 40_000, 1),
        ("Payer 3", 30_000, 1),
        ("Payer 2", 20_000, 1),
        ("Others", 20_000, 2),
    ]
    assert (table.total_cents, table.total_claims) == (265_000, 9)
    assert table.top_cents == 245_000
    assert table.concentration_share == pytest.approx(100 * 245_000 / 265_000)


def test_with_five_payers_or_fewer_there_is_no_others_row(world: History) -> None:
    table = analytics.payer_concentration(world.db, actor=world.actor, practice_id=world.practice.id)
    assert [(row.payer_name, row.balance_cents) for row in table.rows] == [
        ("Summit Mutual", 95_000),
        ("Harbor Health", 10_000),
    ]
    assert table.concentration_share == pytest.approx(100.0)


def test_the_payer_report(world: History) -> None:
    rows = {
        row.payer_name: row
        for row in analytics.payer_report(
            world.db, actor=world.actor, practice_id=world.practice.id, today=TODAY
        )
    }
    summit, harbor = rows["Summit Mutual"], rows["Harbor Health"]
    assert (summit.balance_cents, summit.claims) == (95_000, 3)
    # Served since 2025-11-21: c1, c2, c3, c6 billed $1,150; paid: c2's $150.
    assert (summit.billed_12m_cents, summit.paid_12m_cents) == (115_000, 15_000)
    assert summit.collection_rate == pytest.approx(100 * 15_000 / 115_000)
    assert summit.avg_days_to_pay == pytest.approx(32.0)  # c2: 09-10 -> 10-12
    assert (harbor.balance_cents, harbor.billed_12m_cents, harbor.paid_12m_cents) == (10_000, 20_000, 8_000)
    assert harbor.avg_days_to_pay == pytest.approx(21.0)  # c4: 10-20 -> 11-10
    assert list(rows) == ["Summit Mutual", "Harbor Health"]  # largest balance first


def test_a_therapist_may_not_read_them(world: History) -> None:
    therapist = f.actor_for(world.db, f.make_user(world.db, world.practice, Role.THERAPIST))
    with pytest.raises(PermissionDenied):
        analytics.payer_concentration(world.db, actor=therapist, practice_id=world.practice.id)
