"""Requests for information: asked about one claim with a due date, answered, and holding the
claim from being sent until then; on the claim page as on the service."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import information_requests as rfi
from revcycle.services import submissions
from revcycle.services.actor import Actor
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.integration.conftest import PASSWORD, csrf_from, login
from tests.integration.followup.claims import sent_claim

TODAY = date(2026, 4, 1)


@pytest.fixture
def desk(db: Session) -> tuple[Actor, m.User, m.Claim]:
    practice = f.make_practice(db)
    user = f.make_user(db, practice, Role.BILLING)
    user.password_hash = hash_password(PASSWORD)
    claim = sent_claim(db, practice, sent_on=TODAY - timedelta(days=5), status="ready")
    return f.actor_for(db, user), user, claim


def test_an_open_request_holds_the_claim_until_answered(
    db: Session, desk: tuple[Actor, m.User, m.Claim]
) -> None:
    actor, _, claim = desk
    item = rfi.ask(
        db,
        actor=actor,
        claim_id=claim.id,
        question="Referral from the PCP",
        due_on=TODAY + timedelta(days=7),
        today=TODAY,
    )
    assert (item.kind, item.status, item.holds_billing, item.due_on) == (
        "rfi",
        "open",
        True,
        TODAY + timedelta(days=7),
    )
    with pytest.raises(
        InvalidInput, match=r"waits for an answer to a request for information .*Referral from the PCP"
    ):
        submissions.queue_for_batch(db, actor=actor, claim_ids=[claim.id])
    rfi.answer(db, actor=actor, work_item_id=item.id, text="Referral faxed, on file")
    assert item.status == "resolved"
    assert item.resolution == "Referral faxed, on file"
    assert item.resolved_by_user_id == actor.user_id
    batch = submissions.queue_for_batch(db, actor=actor, claim_ids=[claim.id])
    assert batch.status == "queued"


def test_a_resubmission_waits_too(db: Session, desk: tuple[Actor, m.User, m.Claim]) -> None:
    actor, _, claim = desk
    claim.status = "rejected"
    db.add(m.Submission(practice_id=claim.practice_id, claim_id=claim.id, channel="clearinghouse"))
    db.flush()
    rfi.ask(
        db,
        actor=actor,
        claim_id=claim.id,
        question="Corrected NPI",
        due_on=TODAY + timedelta(days=3),
        today=TODAY,
    )
    with pytest.raises(InvalidInput, match="Corrected NPI"):
        submissions.resubmit_claim(db, actor=actor, claim_id=claim.id, frequency="1")


def test_bad_requests_and_answers_are_refused_by_name(
    db: Session, desk: tuple[Actor, m.User, m.Claim]
) -> None:
    actor, _, claim = desk
    for kwargs, message in (
        ({"question": " ", "due_on": TODAY + timedelta(days=1)}, "question: say what"),
        ({"question": "x", "due_on": None}, "due_on: give the date"),
        ({"question": "x", "due_on": TODAY}, "due_on: the answer must be due after today"),
        ({"question": "x" * 201, "due_on": TODAY + timedelta(days=1)}, "question: at most 200"),
    ):
        with pytest.raises(InvalidInput, match=message):
            rfi.ask(db, actor=actor, claim_id=claim.id, today=TODAY, **kwargs)  # type: ignore[arg-type]
    item = rfi.ask(
        db, actor=actor, claim_id=claim.id, question="Notes", due_on=TODAY + timedelta(days=2), today=TODAY
    )
    with pytest.raises(InvalidInput, match="answer: say what was provided"):
        rfi.answer(db, actor=actor, work_item_id=item.id, text="")
    rfi.answer(db, actor=actor, work_item_id=item.id, text="Sent")
    with pytest.raises(InvalidInput, match="already answered"):
        rfi.answer(db, actor=actor, work_item_id=item.id, text="Again")
    stranger = f.actor_for(db, f.make_user(db, f.make_practice(db), Role.BILLING))
    with pytest.raises(NotFound):
        rfi.answer(db, actor=stranger, work_item_id=item.id, text="x")
    with pytest.raises(NotFound):
        rfi.ask(
            db, actor=stranger, claim_id=claim.id, question="x", due_on=TODAY + timedelta(days=1), today=TODAY
        )


def test_asked_and_answered_on_the_claim_page(
    client: TestClient, db: Session, desk: tuple[Actor, m.User, m.Claim]
) -> None:
    _, user, claim = desk
    assert login(client, user.email).status_code == 303
    page = client.get(f"/claims/{claim.id}")
    assert "nothing holds this claim" in page.text
    due = (date.today() + timedelta(days=5)).isoformat()
    token = csrf_from(page.text)
    asked = client.post(
        f"/claims/{claim.id}/rfi",
        data={"csrf_token": token, "question": "Signed treatment plan", "due_on": due},
    )
    assert asked.status_code == 303
    shown = client.get(asked.headers["location"])
    assert "Request sent" in shown.text
    assert "Signed treatment plan" in shown.text
    item = db.scalars(
        select(m.WorkItem).where(m.WorkItem.claim_id == claim.id, m.WorkItem.kind == "rfi")
    ).one()
    bad = client.post(
        f"/claims/{claim.id}/rfi", data={"csrf_token": token, "question": "x", "due_on": "tomorrow"}
    )
    assert bad.status_code == 422
    assert "due_on: &#39;tomorrow&#39; is not a date" in bad.text
    answered = client.post(
        f"/claims/{claim.id}/rfi/{item.id}/answer",
        data={"csrf_token": token, "answer": "Uploaded to the chart"},
    )
    assert answered.status_code == 303
    after = client.get(answered.headers["location"])
    assert "Answer recorded" in after.text
    assert "Uploaded to the chart" in after.text
