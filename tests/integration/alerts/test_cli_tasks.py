"""`revcycle alerts run|list|missing-claims` on an installation, and the daily job."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from revcycle import tasks
from revcycle.cli import build_app
from revcycle.db import models as m
from tests import factories as f
from tests.integration.alerts.conftest import NOW, Clinic
from tests.integration.imports.conftest import installation

__all__ = ["installation"]


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args))
    return result.exit_code, result.output


def _sessions(engine: Engine) -> tuple[int, int]:
    """One session without a note and one never billed, both 2 March 2026, insured."""
    with Session(engine) as db:
        practice = db.scalars(select(m.Practice)).one()
        client = f.make_client(db, practice)
        provider = f.make_provider(db, practice)
        payer = f.make_payer(db)
        db.add(m.PracticePayer(practice_id=practice.id, payer_id=payer.id, timely_filing_days=90))
        f.make_coverage(db, client, payer)
        unlocked = f.make_session(
            db,
            practice,
            client,
            provider,
            starts_at=datetime(2026, 3, 2, 14, tzinfo=UTC),
            note_status="draft",
        )
        forgotten = f.make_session(
            db, practice, client, provider, starts_at=datetime(2026, 3, 2, 16, tzinfo=UTC)
        )
        db.commit()
        return unlocked.id, forgotten.id


def test_cli_runs_the_rules_lists_alerts_and_missing_claims(installation: Engine) -> None:
    unlocked, forgotten = _sessions(installation)
    code, output = _run("alerts", "run", "--at", "2026-03-20T14:00:00+00:00", "--json")
    assert code == 0, output
    [run] = json.loads(output)["runs"]
    assert run["today"] == "2026-03-20"
    assert run["raised"] >= 2  # the missing note, and documented-not-ready
    code, output = _run("alerts", "run", "--at", "2026-03-20T14:00:00+00:00", "--json")
    assert json.loads(output)["runs"][0]["raised"] == 0

    code, output = _run("alerts", "list", "--json")
    assert code == 0, output
    listed = json.loads(output)
    assert {(i["rule"], i["subject"]) for i in listed["items"]} >= {
        ("completed_no_note", f"/sessions/{unlocked}"),
        ("documented_not_ready", f"/sessions/{forgotten}"),
    }

    code, output = _run("alerts", "missing-claims", "--on", "2026-03-20", "--json")
    assert code == 0, output
    assert [row["session_id"] for row in json.loads(output)["items"]] == [forgotten]
    code, output = _run("alerts", "missing-claims", "--on", "2026-03-08")  # six days: not yet missing
    assert code == 0, output
    assert "0 missing claims on 2026-03-08" in output


def test_cli_refuses_bad_input_with_a_reason(installation: Engine) -> None:
    code, output = _run("alerts", "run", "--at", "yesterday")
    assert code == 1
    assert "--at" in output
    code, output = _run("alerts", "list", "--status", "lost")
    assert code == 1
    assert "status" in output


def test_the_daily_job_runs_every_practice(clinic: Clinic) -> None:
    clinic.office.visit(day=2, note_status="draft")
    other = f.make_practice(clinic.db)
    other_client = f.make_client(clinic.db, other)
    f.make_session(
        clinic.db,
        other,
        other_client,
        f.make_provider(clinic.db, other),
        starts_at=datetime(2026, 3, 1, 15, tzinfo=UTC),
        note_status="draft",
    )
    factory = sessionmaker(bind=clinic.db.connection(), join_transaction_mode="create_savepoint")
    assert tasks.run_alert_rules(factory, NOW) >= 2
    clinic.db.expire_all()
    practices = set(
        clinic.db.scalars(select(m.WorkItem.practice_id).where(m.WorkItem.rule == "completed_no_note"))
    )
    assert practices == {clinic.practice.id, other.id}
    assert tasks.run_alert_rules(factory, NOW) == 0
    daily = tasks.alert_rules.task_class()
    assert daily.validate_datetime(datetime(2026, 3, 16, 11, 0))
    assert not daily.validate_datetime(datetime(2026, 3, 16, 12, 0))
