"""Background jobs: the Huey instance, the periodic schedule, and the services behind each task."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from huey import RedisHuey, SqliteHuey
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from revcycle import tasks
from revcycle.config import Settings
from revcycle.db import models as m
from revcycle.domain.ledger_events import ChargeRef, InsuranceRef, TransactionKind, charge_to_insurance
from revcycle.services import housekeeping
from revcycle.services.actor import system_actor
from revcycle.services.ledger import post_transaction
from tests import factories as f

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)


def settings_for(tmp_path: Path, **values: object) -> Settings:
    return Settings(environment="test", var_dir=tmp_path, **values)  # type: ignore[arg-type]


# --- the Huey instance --------------------------------------------------------------------


def test_huey_stores_jobs_in_sqlite_by_default(tmp_path: Path) -> None:
    huey = tasks.build_huey(settings_for(tmp_path))
    assert isinstance(huey, SqliteHuey)
    assert huey.storage.filename == str(tmp_path / "huey.db")
    assert not huey.immediate


def test_huey_uses_redis_when_a_url_is_set(tmp_path: Path) -> None:
    huey = tasks.build_huey(settings_for(tmp_path, huey_redis_url="redis://127.0.0.1:6379/15"))
    assert isinstance(huey, RedisHuey)


def test_huey_runs_inline_when_immediate(tmp_path: Path) -> None:
    assert tasks.build_huey(settings_for(tmp_path, huey_immediate=True)).immediate


def test_periodic_schedule() -> None:
    nightly = tasks.ledger_check.task_class()
    assert nightly.validate_datetime(datetime(2026, 3, 16, 7, 30))  # Huey passes naive UTC
    assert not nightly.validate_datetime(datetime(2026, 3, 16, 8, 30))
    sweeper = tasks.expire_web_sessions.task_class()
    assert sweeper.validate_datetime(datetime(2026, 3, 16, 8, 40))
    assert not sweeper.validate_datetime(datetime(2026, 3, 16, 8, 41))


# --- web sessions -------------------------------------------------------------------------


def web_session(
    db: Session, user: m.User, *, created: timedelta, seen: timedelta, version: int = 1
) -> m.WebSession:
    row = m.WebSession(
        token_hash=f"{user.id}-{created}-{seen}-{version}".ljust(64, "x")[:64],
        user_id=user.id,
        token_version=version,
        csrf_token="csrf",
        created_at=NOW - created,
        last_seen_at=NOW - seen,
    )
    db.add(row)
    db.flush()
    return row


def test_stale_web_sessions_are_ended_with_their_reason(db: Session, tmp_path: Path) -> None:
    user = f.make_user(db)
    fresh = web_session(db, user, created=timedelta(hours=1), seen=timedelta(minutes=2))
    idle = web_session(db, user, created=timedelta(hours=1), seen=timedelta(minutes=40))
    expired = web_session(db, user, created=timedelta(hours=13), seen=timedelta(minutes=1))
    revoked = web_session(db, user, created=timedelta(hours=1), seen=timedelta(minutes=1), version=0)

    ended = housekeeping.end_stale_web_sessions(db, settings_for(tmp_path), now=NOW)

    assert ended == 3
    reasons = dict(db.execute(select(m.WebSession.id, m.WebSession.ended_reason)).all())
    assert reasons[fresh.id] is None
    assert reasons[idle.id] == "idle"
    assert reasons[expired.id] == "expired"
    assert reasons[revoked.id] == "revoked"
    assert housekeeping.end_stale_web_sessions(db, settings_for(tmp_path), now=NOW) == 0


# --- the ledger check ---------------------------------------------------------------------


def post_a_charge(db: Session) -> m.Practice:
    practice = f.make_practice(db)
    payer = f.make_payer(db)
    client = f.make_client(db, practice)
    coverage = f.make_coverage(db, client, payer)
    post_transaction(
        db,
        actor=system_actor(),
        practice_id=practice.id,
        kind=TransactionKind.CHARGE,
        accounting_on=date(2026, 3, 2),
        lines=charge_to_insurance(16000, ChargeRef(None, client.id), InsuranceRef(coverage.id, payer.id)),
    )
    return practice


def alerts(db: Session, practice: m.Practice) -> list[m.WorkItem]:
    return list(db.scalars(select(m.WorkItem).where(m.WorkItem.practice_id == practice.id)))


def test_clean_books_open_no_alert(db: Session) -> None:
    practice = post_a_charge(db)
    outcomes = housekeeping.check_books(db, actor=system_actor(), now=NOW)
    mine = [o for o in outcomes if o.practice_id == practice.id]
    assert mine
    assert mine[0].problems == []
    assert alerts(db, practice) == []


def test_a_discrepancy_opens_one_critical_alert(db: Session) -> None:
    practice = post_a_charge(db)
    db.execute(
        update(m.LedgerBalance)
        .where(m.LedgerBalance.practice_id == practice.id, m.LedgerBalance.account == "revenue")
        .values(balance_cents=m.LedgerBalance.balance_cents + 1)
    )

    housekeeping.check_books(db, actor=system_actor(), now=NOW)
    housekeeping.check_books(db, actor=system_actor(), now=NOW)  # the same night, run again

    [alert] = alerts(db, practice)
    assert alert.kind == "alert"
    assert alert.severity == "critical"
    assert alert.dedupe_key == "ledger_check:2026-03-16"
    assert "revenue" in alert.detail


def test_the_ledger_check_runs_as_the_system_only(db: Session) -> None:
    from revcycle.errors import PermissionDenied
    from revcycle.services.actor import Actor

    with pytest.raises(PermissionDenied):
        housekeeping.check_books(db, actor=Actor(user_id=1), now=NOW)


# --- the tasks themselves, inline -----------------------------------------------------------


@pytest.fixture
def inline_tasks(db: Session) -> Iterator[None]:
    """The module's Huey runs tasks inline, against the test's transaction."""
    factory = sessionmaker(bind=db.connection(), join_transaction_mode="create_savepoint")
    tasks.huey.immediate = True
    tasks.use_session_factory(factory)
    try:
        yield
    finally:
        tasks.use_session_factory(None)
        tasks.huey.immediate = False


@pytest.mark.usefixtures("inline_tasks")
def test_tasks_run_inline_in_their_own_unit_of_work(db: Session) -> None:
    practice = post_a_charge(db)
    user = f.make_user(db)
    stale = web_session(db, user, created=timedelta(days=3), seen=timedelta(days=3))
    db.execute(
        update(m.LedgerBalance)
        .where(m.LedgerBalance.practice_id == practice.id, m.LedgerBalance.account == "revenue")
        .values(balance_cents=5)
    )

    # Periodic tasks keep no result in Huey: what they did is read back from the database.
    tasks.ledger_check()
    tasks.expire_web_sessions()

    db.expire_all()
    [alert] = alerts(db, practice)
    assert alert.rule == "ledger_check"
    assert db.get(m.WebSession, stale.id).ended_reason == "expired"  # type: ignore[union-attr]
