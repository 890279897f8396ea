"""The daily job (a Huey periodic task) and `revcycle followup run` rebuild the follow-ups."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from revcycle import tasks
from revcycle.cli import build_app
from revcycle.db import models as m
from revcycle.domain.assignment import AssignmentRule
from revcycle.domain.permissions import Role
from revcycle.services import assignment, followup
from tests import factories as f
from tests.integration.followup.claims import sent_claim


def waiting_claim(db: Session, sent_on: date) -> m.Claim:
    return sent_claim(db, f.make_practice(db), sent_on=sent_on)


def test_the_job_runs_daily_before_the_practice_opens() -> None:
    job = tasks.followup_rebuild.task_class()
    assert job.validate_datetime(datetime(2026, 3, 16, 10, 30))  # Huey passes naive UTC
    assert not job.validate_datetime(datetime(2026, 3, 16, 11, 30))


def test_the_job_rebuilds_every_practice_in_its_own_unit_of_work(db: Session) -> None:
    claim = waiting_claim(db, date(2026, 3, 1))
    factory = sessionmaker(bind=db.connection(), join_transaction_mode="create_savepoint")
    assert tasks.run_followup_rebuild(factory, today=date(2026, 4, 1)) >= 1
    assert tasks.run_followup_rebuild(factory, today=date(2026, 4, 1)) == 0  # idempotent
    db.expire_all()
    item = db.scalars(select(m.WorkItem).where(m.WorkItem.claim_id == claim.id)).one()
    assert (item.kind, item.status) == (followup.FOLLOWUP, "open")


def test_the_job_assigns_by_saved_rules_first_and_leaves_other_practices_alone(db: Session) -> None:
    """A practice whose organization saved rules has its new claims assigned before the
    rebuild, so the follow-up lands in the person's queue; one that never saved rules keeps
    its claims unassigned (the defaults assign only at an AR import)."""
    ruled = waiting_claim(db, date(2026, 3, 1))
    agent = f.make_user(db, db.get_one(m.Practice, ruled.practice_id), Role.BILLING)
    admin = f.actor_for(db, f.make_user(db, db.get_one(m.Practice, ruled.practice_id), Role.ADMIN))
    assignment.save_rules(
        db, actor=admin, practice_id=ruled.practice_id, rules=[AssignmentRule("everything", user_id=agent.id)]
    )
    unruled = waiting_claim(db, date(2026, 3, 1))
    factory = sessionmaker(bind=db.connection(), join_transaction_mode="create_savepoint")

    tasks.run_followup_rebuild(factory, today=date(2026, 4, 1))

    db.expire_all()
    items = {
        i.claim_id: i for i in db.scalars(select(m.WorkItem).where(m.WorkItem.kind == followup.FOLLOWUP))
    }
    assert (db.get_one(m.Claim, ruled.id).assignee_user_id, items[ruled.id].owner_user_id) == (
        agent.id,
        agent.id,
    )
    assert db.get_one(m.Claim, unruled.id).assignee_user_id is None
    assert db.get_one(m.Claim, unruled.id).assignee_team_id is None
    assert items[unruled.id].owner_user_id is None


def test_the_command_rebuilds_and_says_what_it_did(cli_engine: Engine) -> None:
    with Session(cli_engine) as db, db.begin():
        claim = waiting_claim(db, date(2026, 3, 1))
        practice_id = claim.practice_id
    args = ["followup", "run", "--practice", str(practice_id), "--today", "2026-04-01", "--json"]
    first = CliRunner().invoke(build_app(), args)
    assert first.exit_code == 0, first.output
    [run] = json.loads(first.output)["runs"]
    assert (run["created"], run["by_urgency"]) == (1, {"week": 1})  # due 5 April: 30 days + 5
    again = CliRunner().invoke(build_app(), args)
    assert json.loads(again.output)["runs"][0]["unchanged"] == 1
    plain = CliRunner().invoke(build_app(), ["followup", "run", "--today", "2026-04-01"])
    assert "0 created" in plain.output
    assert "1 unchanged" in plain.output


def test_a_bad_date_is_refused_by_name(cli_engine: Engine) -> None:
    result = CliRunner().invoke(build_app(), ["followup", "run", "--today", "April 1"])
    assert result.exit_code == 1
    assert "--today: 'April 1' is not a date" in result.output
