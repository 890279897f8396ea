"""My work queue: banners by severity, three groups, and a follow-up worked with a note that
sets its next date and moves it to On track."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services import followup
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.integration.conftest import PASSWORD, csrf_from, login
from tests.integration.followup.claims import sent_claim


@pytest.fixture
def waiting(db: Session) -> tuple[m.User, m.Claim, m.WorkItem]:
    """A billing user and a claim submitted 40 days ago, its follow-up due (30 days + 5)."""
    practice = f.make_practice(db)
    user = f.make_user(db, practice, Role.BILLING)
    user.password_hash = hash_password(PASSWORD)
    claim = sent_claim(db, practice, sent_on=date.today() - timedelta(days=40))
    followup.rebuild(db, practice_id=practice.id, today=date.today())
    item = db.scalars(select(m.WorkItem).where(m.WorkItem.claim_id == claim.id)).one()
    return user, claim, item


def _group_of(html: str, item_id: int) -> str:
    at = html.index(f'data-item-id="{item_id}"')
    return html[:at].rsplit('data-group="', 1)[1].split('"', 1)[0]


def test_a_note_with_a_date_moves_the_item_to_on_track(
    client: TestClient, db: Session, waiting: tuple[m.User, m.Claim, m.WorkItem]
) -> None:
    user, claim, item = waiting
    assert login(client, user.email).status_code == 303
    page = client.get("/work-queue")
    assert page.status_code == 200
    assert _group_of(page.text, item.id) == "now"
    assert "Needs immediate action" in page.text
    assert f"rule: {item.rule}" in page.text
    next_on = date.today() + timedelta(days=21)
    posted = client.post(
        f"/work-queue/{item.id}/note",
        data={
            "csrf_token": csrf_from(page.text),
            "body": "Called: in process, ref 55",
            "next_on": next_on.isoformat(),
        },
    )
    assert posted.status_code == 303
    after = client.get(posted.headers["location"])
    assert "Note saved" in after.text
    assert _group_of(after.text, item.id) == "on_track"
    db.expire_all()
    assert db.get(m.Claim, claim.id).next_followup_on == next_on  # type: ignore[union-attr]
    note = db.scalars(select(m.Note).where(m.Note.work_item_id == item.id)).one()
    assert (note.body, note.next_followup_on, note.author_user_id) == (
        "Called: in process, ref 55",
        next_on,
        user.id,
    )
    assert followup.rebuild(db, practice_id=claim.practice_id, today=date.today()).created == 0


def test_a_note_without_a_date_takes_the_repeat_interval(
    client: TestClient, db: Session, waiting: tuple[m.User, m.Claim, m.WorkItem]
) -> None:
    user, _claim, item = waiting
    assert login(client, user.email).status_code == 303
    page = client.get("/work-queue")
    client.post(
        f"/work-queue/{item.id}/note", data={"csrf_token": csrf_from(page.text), "body": "Left a message"}
    )
    db.expire_all()
    assert db.get(m.WorkItem, item.id).due_on == date.today() + timedelta(days=14)  # type: ignore[union-attr]


def test_an_empty_note_or_a_past_date_is_refused_and_saves_nothing(
    client: TestClient, db: Session, waiting: tuple[m.User, m.Claim, m.WorkItem]
) -> None:
    user, _claim, item = waiting
    assert login(client, user.email).status_code == 303
    token = csrf_from(client.get("/work-queue").text)
    empty = client.post(f"/work-queue/{item.id}/note", data={"csrf_token": token, "body": " "})
    assert "note: say what was done" in client.get(empty.headers["location"]).text
    past = client.post(
        f"/work-queue/{item.id}/note",
        data={"csrf_token": token, "body": "x", "next_on": date.today().isoformat()},
    )
    assert "must be after today" in client.get(past.headers["location"]).text
    bad = client.post(
        f"/work-queue/{item.id}/note", data={"csrf_token": token, "body": "x", "next_on": "soon"}
    )
    assert "is not a date" in client.get(bad.headers["location"]).text
    db.expire_all()
    assert db.scalars(select(m.Note).where(m.Note.work_item_id == item.id)).first() is None


def test_the_list_exports_as_csv_with_its_groups(
    client: TestClient, waiting: tuple[m.User, m.Claim, m.WorkItem]
) -> None:
    user, claim, item = waiting
    assert login(client, user.email).status_code == 303
    answer = client.get("/work-queue/export.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["group", "severity", "due_on", "kind", "title", "claim", "rule", "detail"]
    [row] = [r for r in rows[1:] if r[5] == claim.number]
    assert (row[0], row[3], row[6]) == ("Needs immediate action", "followup", item.rule)


def test_submit_all_ready_queues_the_electronic_claims(
    client: TestClient, db: Session, waiting: tuple[m.User, m.Claim, m.WorkItem]
) -> None:
    user, claim, _ = waiting
    ready = f.make_claim(
        db,
        f.make_session(
            db,
            db.get(m.Practice, claim.practice_id),
            db.get(m.Client, claim.client_id),  # type: ignore[arg-type]
            f.make_provider(db, db.get(m.Practice, claim.practice_id)),
        ),  # type: ignore[arg-type]
        db.get(m.Coverage, claim.coverage_id),  # type: ignore[arg-type]
        status="ready",
    )
    assert login(client, user.email).status_code == 303
    page = client.get("/work-queue")
    assert "Submit all ready (1 electronic)" in page.text
    posted = client.post("/work-queue/submit-ready", data={"csrf_token": csrf_from(page.text)})
    assert posted.status_code == 303
    assert "queued for the next electronic batch" in client.get(posted.headers["location"]).text
    db.expire_all()
    batch = db.scalars(
        select(m.SubmissionBatch).join(m.Submission).where(m.Submission.claim_id == ready.id)
    ).one()
    assert batch.status == "queued"  # the 837 is written with the next batch
    assert "Submit all ready" not in client.get("/work-queue").text


def test_groups_are_made_before_paging(
    client: TestClient, db: Session, waiting: tuple[m.User, m.Claim, m.WorkItem]
) -> None:
    """Thirty urgent items do not push the on-track ones off the page: each group shows its
    first items and its count, and "show all" pages through one group."""
    user, claim, item = waiting
    for n in range(30):
        db.add(
            m.WorkItem(
                practice_id=claim.practice_id,
                kind="alert",
                severity="critical",
                title=f"Urgent {n}",
                dedupe_key=f"test-urgent:{n}",
            )
        )
    item.due_on = date.today() + timedelta(days=30)
    item.severity = "info"
    db.flush()
    assert login(client, user.email).status_code == 303
    page = client.get("/work-queue")
    assert _group_of(page.text, item.id) == "on_track"
    assert page.text.count('data-testid="work-item"') == 25 + 1  # the first 25 urgent, and ours
    assert "Show all 30" in page.text
    one = client.get("/work-queue?group=now")
    assert 'data-group="on_track"' not in one.text
    assert one.text.count('data-testid="work-item"') == 25
    rest = client.get("/work-queue?group=now&offset=25")
    assert rest.text.count('data-testid="work-item"') == 5
    assert client.get("/work-queue?group=nonsense").status_code == 200  # every group, as if none


def test_the_sql_groups_agree_with_the_rule(db: Session) -> None:
    """queries.urgency_condition sorts items exactly as followup_rules.urgency_of does."""
    from revcycle.domain.followup_rules import urgency_of
    from revcycle.services.queries import urgency_condition

    practice = f.make_practice(db)
    today = date(2026, 4, 1)
    made = []
    for severity in ("critical", "warning", "info"):
        for due in (
            None,
            today - timedelta(days=1),
            today,
            today + timedelta(days=7),
            today + timedelta(days=8),
        ):
            row = m.WorkItem(
                practice_id=practice.id,
                kind="alert",
                severity=severity,
                title="x",
                due_on=due,
                dedupe_key=f"g:{severity}:{due}",
            )
            db.add(row)
            made.append(row)
    db.flush()
    for key in ("now", "week", "on_track"):
        found = set(
            db.scalars(
                select(m.WorkItem.id).where(
                    m.WorkItem.practice_id == practice.id, urgency_condition(key, today)
                )
            )
        )
        expected = set()
        for row in made:
            if row.due_on is None:
                group = "on_track" if row.severity == "info" else "now"
            else:
                group = str(urgency_of(row.due_on, row.severity == "critical", today))
            if group == key:
                expected.add(row.id)
        assert found == expected, key
