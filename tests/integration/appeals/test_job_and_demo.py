"""The daily appeal-deadline job, the API's happy path and refusals, and the demo's appeals."""

from __future__ import annotations

import datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from revcycle import tasks
from revcycle.db import models as m
from revcycle.services import appeals
from revcycle.services.actor import system_actor
from revcycle.services.demo import build_demo
from tests.integration.api_routes import bearer
from tests.integration.appeals.world import appeals_world, denied_claim
from tests.integration.remittance.world import World


def test_the_job_runs_daily_and_is_idempotent(db: Session) -> None:
    job = tasks.appeal_deadlines.task_class()
    assert job.validate_datetime(datetime.datetime(2026, 3, 16, 10, 40))  # Huey passes naive UTC
    assert not job.validate_datetime(datetime.datetime(2026, 3, 16, 11, 40))
    w = appeals_world(db)
    _, denial = denied_claim(w, "50")
    factory = sessionmaker(bind=db.connection(), join_transaction_mode="create_savepoint")
    today = datetime.date(2026, 7, 1)
    assert tasks.run_appeal_deadlines(factory, today=today) >= 1
    assert tasks.run_appeal_deadlines(factory, today=today) == 0
    db.expire_all()
    item = db.scalars(select(m.WorkItem).where(m.WorkItem.dedupe_key == f"appeal:denial:{denial.id}")).one()
    assert (item.kind, item.status, item.severity) == ("appeal", "open", "warning")


def _api_world(db: Session) -> tuple[World, str]:
    w = appeals_world(db)
    from revcycle.services.passwords import hash_password
    from tests.integration.conftest import PASSWORD

    user = db.get_one(m.User, w.actor.user_id)
    user.password_hash = hash_password(PASSWORD)
    db.flush()
    return w, user.email


def test_the_api_starts_submits_and_decides(client: TestClient, db: Session) -> None:
    w, email = _api_world(db)
    claim, denial = denied_claim(w, "50")
    headers = bearer(client, email)
    started = client.post(
        f"/api/claims/{claim.id}/appeals",
        json={"denial_id": denial.id, "argument": "Records enclosed."},
        headers=headers,
    )
    assert started.status_code == 200, started.text
    body = started.json()
    assert (body["status"], body["level"], body["appealed_cents"], body["denial_code"]) == (
        "draft",
        1,
        15000,
        "CO-50",
    )
    assert body["letter_file_id"] is not None
    appeal_id = body["id"]
    submitted = client.post(
        f"/api/appeals/{appeal_id}/submit", json={"submitted_on": "2026-05-01"}, headers=headers
    )
    assert submitted.json()["status"] == "submitted"
    bad = client.post(
        f"/api/appeals/{appeal_id}/outcome",
        json={"outcome": "maybe", "decided_on": "2026-06-01"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert "outcome" in bad.json()["detail"]
    early = client.post(
        f"/api/appeals/{appeal_id}/outcome",
        json={"outcome": "won", "decided_on": "2026-04-01"},
        headers=headers,
    )
    assert early.status_code == 422
    decided = client.post(
        f"/api/appeals/{appeal_id}/outcome",
        json={"outcome": "partially_won", "decided_on": "2026-06-01", "recovered_cents": 9000},
        headers=headers,
    )
    assert decided.json()["recovered_cents"] == 9000
    again = client.post(
        f"/api/appeals/{appeal_id}/outcome",
        json={"outcome": "won", "decided_on": "2026-06-02"},
        headers=headers,
    )
    assert again.status_code == 409
    listed = client.get("/api/appeals", headers=headers).json()["items"]
    assert [(a["id"], a["status"]) for a in listed] == [(appeal_id, "partially_won")]
    assert client.get(f"/api/appeals/{appeal_id}", headers=headers).json()["claim_number"] == claim.number


def test_the_demo_gets_a_realistic_mix_of_appeals(db: Session) -> None:
    """The demo's history appeals denials (some won, some upheld) and its seeding adds the
    rest of the mix: decided appeals, drafts near their deadline with their letters, a second
    level after a loss, a corrected claim; seeding again adds nothing."""
    today = datetime.date(2026, 3, 16)
    summary = build_demo(db, seed=1, today=today, scale=0.2)
    assert summary.practice_id is not None
    pid, actor, since = summary.practice_id, system_actor("demo"), today - datetime.timedelta(days=365)
    total = appeals.overturn_summary(db, actor=actor, practice_id=pid, since=since).total
    assert total.won >= 3
    assert total.partially_won >= 1
    assert total.lost >= 2
    assert 0 < total.won + total.partially_won < total.won + total.partially_won + total.lost
    drafts = db.scalars(select(m.Appeal).where(m.Appeal.practice_id == pid, m.Appeal.status == "draft")).all()
    assert len(drafts) == 3
    assert all(d.letter_file_id is not None for d in drafts)
    assert sorted(d.level for d in drafts) == [1, 1, 2]
    corrected = db.scalar(
        select(func.count()).where(m.Denial.practice_id == pid, m.Denial.resolution == "corrected")
    )
    assert corrected is not None
    assert corrected >= 1
    alerts = db.scalar(
        select(func.count()).where(
            m.WorkItem.practice_id == pid, m.WorkItem.kind == "appeal", m.WorkItem.status == "open"
        )
    )
    assert alerts is not None
    assert alerts >= 3  # the drafts at least
    again = appeals.seed_demo_appeals(db, actor=actor, practice_id=pid, today=today)
    assert sum(again.values()) == 0
