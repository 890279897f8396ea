"""KPI thresholds and goal in the practice's settings, and the alerts a crossed figure raises:
once, to the KPI's owner, resolved when back within, reopened when crossed again."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from revcycle import tasks
from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import InvalidInput, PermissionDenied
from revcycle.services import kpis
from tests import factories as f
from tests.integration.kpis.world import TODAY, build_world
from tests.integration.strategies.world import History


@pytest.fixture
def world(db: Session) -> History:
    return build_world(db)[0]


def _alerts(world: History) -> dict[str, m.WorkItem]:
    items = world.db.scalars(
        select(m.WorkItem).where(
            m.WorkItem.practice_id == world.practice.id, m.WorkItem.dedupe_key.like("kpi:%")
        )
    )
    return {str(item.dedupe_key): item for item in items}


def _set(world: History, goal: str = "", **thresholds: str) -> kpis.KpiSettings:
    return kpis.update_kpi_settings(
        world.db, actor=world.actor, practice_id=world.practice.id, thresholds=thresholds, goal=goal
    )


def test_settings_change_thresholds_and_goal_and_are_audited(world: History) -> None:
    chosen = _set(world, goal="3,000", unbilled_sessions="2", denial_rate="50")
    assert chosen.goal_cents == 300_000
    assert chosen.thresholds["unbilled_sessions"] == 2
    assert chosen.thresholds["days_in_ar"] == 45  # untouched: the default
    values = {
        v.kpi.key: v
        for v in kpis.compute_kpis(world.db, actor=world.actor, practice_id=world.practice.id, today=TODAY)
    }
    assert values["unbilled_sessions"].crossed  # 3 > 2
    assert not values["denial_rate"].crossed  # 33.3% < 50%
    assert values["collections_month"].threshold == 200_000  # 20 of 30 days of $3,000
    assert values["collections_month"].crossed  # $80 collected
    audit_row = world.db.scalars(select(m.AuditLog).where(m.AuditLog.entity == "practice_kpi_settings")).one()
    assert audit_row.after["collections_goal_cents"] == 300_000


def test_bad_settings_are_refused_whole_and_only_admins_may_change_them(world: History) -> None:
    with pytest.raises(InvalidInput, match="denial_rate: 'many' is not a number; collections_goal"):
        _set(world, goal="lots", denial_rate="many", charge_lag="3")
    assert kpis.kpi_settings(world.practice).thresholds["charge_lag"] == 7  # nothing saved
    biller = f.actor_for(world.db, world.billing)
    with pytest.raises(PermissionDenied):
        kpis.update_kpi_settings(
            world.db, actor=biller, practice_id=world.practice.id, thresholds={}, goal="100"
        )


def test_a_crossed_figure_raises_one_alert_to_its_owner_and_running_again_changes_nothing(
    world: History,
) -> None:
    first = kpis.raise_kpi_alerts(world.db, world.practice.id, TODAY)
    assert first.raised == 7  # the seven crossed in test_kpis
    alerts = _alerts(world)
    denial = alerts["kpi:denial_rate"]
    assert (denial.kind, denial.status, denial.owner_role) == ("alert", "open", "billing")
    assert denial.owner_user_id == world.billing.id
    assert "33.3%" in denial.detail
    assert alerts["kpi:days_in_ar"].owner_role == "director"
    assert alerts["kpi:days_in_ar"].owner_user_id == world.admin.id
    again = kpis.raise_kpi_alerts(world.db, world.practice.id, TODAY)
    assert (again.raised, again.reopened, again.resolved) == (0, 0, 0)
    count = world.db.scalar(
        select(func.count()).select_from(m.WorkItem).where(m.WorkItem.dedupe_key.like("kpi:%"))
    )
    assert count == 7


def test_back_within_resolves_and_crossing_again_reopens(world: History) -> None:
    kpis.raise_kpi_alerts(world.db, world.practice.id, TODAY)
    _set(world, denial_rate="50")
    run = kpis.raise_kpi_alerts(world.db, world.practice.id, TODAY)
    assert (run.resolved, run.raised) == (1, 0)
    denial = _alerts(world)["kpi:denial_rate"]
    assert denial.status == "resolved"
    assert denial.resolution.startswith("condition cleared")
    _set(world, denial_rate="10")
    run = kpis.raise_kpi_alerts(world.db, world.practice.id, TODAY)
    assert (run.reopened, run.raised, run.resolved) == (1, 0, 0)
    assert _alerts(world)["kpi:denial_rate"].status == "open"


def test_an_alert_resolved_by_hand_while_crossed_stays_resolved(world: History) -> None:
    kpis.raise_kpi_alerts(world.db, world.practice.id, TODAY)
    denial = _alerts(world)["kpi:denial_rate"]
    denial.status, denial.resolution = "resolved", "known: one payer's bad week"
    world.db.flush()
    run = kpis.raise_kpi_alerts(world.db, world.practice.id, TODAY)
    assert run.reopened == 0
    assert _alerts(world)["kpi:denial_rate"].status == "resolved"


def test_the_daily_job_checks_every_practice(db: Session, world: History) -> None:
    assert tasks.kpi_alerts.task_class().validate_datetime(datetime(2026, 11, 20, 11, 10))
    factory = sessionmaker(bind=db.connection(), join_transaction_mode="create_savepoint")
    now = datetime(2026, 11, 20, 16, tzinfo=UTC)
    assert tasks.run_kpi_alerts(factory, now=now) >= 7
    assert tasks.run_kpi_alerts(factory, now=now) == 0  # idempotent
    db.expire_all()
    assert "kpi:denial_rate" in _alerts(world)
    assert date(2026, 11, 20) == TODAY


def test_a_practice_without_billers_assigns_working_alerts_to_an_admin(db: Session) -> None:
    practice = f.make_practice(db)
    admin = f.make_user(db, practice, Role.ADMIN)
    kpis.update_kpi_settings(
        db, actor=f.actor_for(db, admin), practice_id=practice.id, thresholds={}, goal="1000"
    )
    run = kpis.raise_kpi_alerts(db, practice.id, TODAY)
    assert run.crossed == ("collections_month",)  # nothing collected against the goal
    item = db.scalars(select(m.WorkItem).where(m.WorkItem.practice_id == practice.id)).one()
    assert (item.owner_role, item.owner_user_id) == ("director", admin.id)


def test_unbilled_sessions_keep_their_own_alert_rule(world: History) -> None:
    _set(world, unbilled_sessions="2")
    run = kpis.raise_kpi_alerts(world.db, world.practice.id, TODAY)
    assert "unbilled_sessions" not in run.crossed  # the alert rule "unbilled_sessions" owns it
    assert "kpi:unbilled_sessions" not in _alerts(world)


def test_the_demo_goal_is_a_tenth_above_the_last_three_months(world: History) -> None:
    # August to October collected $150 (c2): $50 a month, +10%, rounded up to $500.
    assert kpis.seed_demo_kpis(world.db, world.actor, world.practice.id, TODAY) == {"goal_cents": 50_000}
    assert kpis.kpi_settings(world.practice).goal_cents == 50_000
    assert kpis.seed_demo_kpis(world.db, world.actor, world.practice.id, TODAY) == {"goal_cents": 0}
