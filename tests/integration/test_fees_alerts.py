"""The contract expiry alert through run_alerts: raised 60 days ahead for the admin, critical at
14, resolved when the contract is renewed or extended, linked to the contract's page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.domain.rate_tables import RateRow
from revcycle.services import alerts, fee_tables
from revcycle.services.actor import Actor
from tests import factories as f
from tests.integration.world import World, build_world

# 10:00 in New York on Friday 20 March 2026: the practice's "today" is 2026-03-20.
NOW = datetime(2026, 3, 20, 14, 0, tzinfo=UTC)
TODAY = date(2026, 3, 20)


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


def admin(db: Session, world: World) -> Actor:
    return f.actor_for(db, world.users[Role.ADMIN])


def contract_alerts(db: Session, world: World) -> list[m.WorkItem]:
    db.expire_all()
    return list(
        db.scalars(
            select(m.WorkItem)
            .where(m.WorkItem.practice_id == world.own.practice.id, m.WorkItem.rule == "contract_expiring")
            .order_by(m.WorkItem.id)
        )
    )


def run(db: Session, world: World, now: datetime = NOW) -> alerts.AlertRun:
    return alerts.run_alerts(db, practice_id=world.own.practice.id, now=now)


def ending_contract(db: Session, world: World, ends_on: date) -> m.PayerContract:
    return fee_tables.create_contract(
        db,
        actor=admin(db, world),
        practice_id=world.own.practice.id,
        payer_id=world.own.payer.id,
        number="AET-2025",
        starts_on=date(2025, 1, 1),
        ends_on=ends_on,
        rates=[RateRow("90837", "", 12000)],
    )


def test_a_contract_ending_in_45_days_warns_the_admin_then_turns_critical(db: Session, world: World) -> None:
    contract = ending_contract(db, world, TODAY + timedelta(days=45))
    run(db, world)
    [alert] = contract_alerts(db, world)
    assert (alert.severity, alert.status, alert.owner_role, alert.due_on) == (
        "warning", "open", "admin", date(2026, 5, 4)
    )  # fmt: skip
    assert alert.detail == f"contract AET-2025 with {world.own.payer.name} ends on 2026-05-04 (in 45 days)"
    assert alert.dedupe_key == f"alert:contract_expiring:contract:{contract.id}"
    assert (alert.session_id, alert.claim_id, alert.client_id) == (None, None, None)
    run(db, world, NOW + timedelta(days=32))  # 13 days left
    [again] = contract_alerts(db, world)
    assert (again.id, again.severity) == (alert.id, "critical")
    assert again.detail.endswith("ends on 2026-05-04 (in 13 days)")
    view = alerts.list_alerts(db, actor=admin(db, world), practice_id=world.own.practice.id)
    [shown] = [v for v in view.items if v.item.id == alert.id]
    assert shown.subject_url == f"/fees/contracts/{contract.id}"


def test_not_before_60_days(db: Session, world: World) -> None:
    ending_contract(db, world, TODAY + timedelta(days=61))
    run(db, world)
    assert contract_alerts(db, world) == []
    run(db, world, NOW + timedelta(days=1))
    assert [a.severity for a in contract_alerts(db, world)] == ["warning"]


def test_a_renewal_starting_the_next_day_resolves_it(db: Session, world: World) -> None:
    contract = ending_contract(db, world, TODAY + timedelta(days=30))
    run(db, world)
    assert [a.status for a in contract_alerts(db, world)] == ["open"]
    fee_tables.create_contract(
        db,
        actor=admin(db, world),
        practice_id=world.own.practice.id,
        payer_id=world.own.payer.id,
        number="AET-2026",
        starts_on=contract.ends_on + timedelta(days=1),  # type: ignore[operator]
    )
    run(db, world)
    [alert] = contract_alerts(db, world)
    assert (alert.status, alert.resolution) == ("resolved", "condition cleared: renewed, extended or ended")


def test_a_renewal_after_a_gap_keeps_it_and_says_when(db: Session, world: World) -> None:
    ending_contract(db, world, TODAY + timedelta(days=30))
    fee_tables.create_contract(
        db,
        actor=admin(db, world),
        practice_id=world.own.practice.id,
        payer_id=world.own.payer.id,
        number="AET-2026",
        starts_on=TODAY + timedelta(days=40),
    )
    run(db, world)
    [alert] = contract_alerts(db, world)
    assert alert.status == "open"
    assert alert.detail.endswith("; the next starts on 2026-04-29")


def test_extending_the_contract_resolves_it(db: Session, world: World) -> None:
    contract = ending_contract(db, world, TODAY + timedelta(days=10))
    run(db, world)
    assert contract_alerts(db, world)[0].severity == "critical"
    fee_tables.end_table(
        db, actor=admin(db, world), kind="contract", table_id=contract.id, ends_on=date(2027, 12, 31)
    )
    run(db, world)
    assert [a.status for a in contract_alerts(db, world)] == ["resolved"]


def test_another_practices_contract_raises_nothing_here(db: Session, world: World) -> None:
    db.add(
        m.PayerContract(
            practice_id=world.other.practice.id,
            payer_id=world.other.payer.id,
            number="OTHER",
            starts_on=date(2025, 1, 1),
            ends_on=TODAY + timedelta(days=5),
        )
    )
    db.flush()
    run(db, world)
    assert contract_alerts(db, world) == []
