"""Quick actions from the work queue: done for now, a status update, a resubmission; each
refreshes the claim's follow-up at once; refusals come back as a message, nothing written."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services import followup
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.integration.conftest import PASSWORD, csrf_from, login
from tests.integration.followup.claims import sent_claim

TODAY = date.today()


@pytest.fixture
def practice(db: Session) -> m.Practice:
    return f.make_practice(db)


@pytest.fixture
def billing(client: TestClient, db: Session, practice: m.Practice) -> str:
    """A billing user signed in; the queue page's CSRF token."""
    user = f.make_user(db, practice, Role.BILLING)
    user.password_hash = hash_password(PASSWORD)
    db.flush()
    assert login(client, user.email).status_code == 303
    return csrf_from(client.get("/work-queue").text)


def _followup_item(db: Session, practice: m.Practice, *, days_ago: int = 40) -> tuple[m.Claim, m.WorkItem]:
    claim = sent_claim(db, practice, sent_on=TODAY - timedelta(days=days_ago))
    followup.rebuild(db, practice_id=practice.id, today=TODAY)
    return claim, db.scalars(select(m.WorkItem).where(m.WorkItem.claim_id == claim.id)).one()


def _item_html(html: str, item_id: int) -> str:
    start = html.index(f'data-item-id="{item_id}"')
    end = html.find('data-testid="work-item"', start)
    return html[start : end if end > 0 else len(html)]


def _group_of(html: str, item_id: int) -> str:
    at = html.index(f'data-item-id="{item_id}"')
    return html[:at].rsplit('data-group="', 1)[1].split('"', 1)[0]


def test_done_for_now_logs_the_work_and_moves_the_item_to_its_next_date(
    client: TestClient, db: Session, practice: m.Practice, billing: str
) -> None:
    claim, item = _followup_item(db, practice)
    page = client.get("/work-queue")
    assert _group_of(page.text, item.id) == "now"
    assert 'data-testid="done-form"' in _item_html(page.text, item.id)

    done = client.post(f"/work-queue/{item.id}/done", data={"csrf_token": billing})

    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert "Marked done for now" in after.text
    assert _group_of(after.text, item.id) == "on_track"
    db.expire_all()
    note = db.scalars(select(m.Note).where(m.Note.work_item_id == item.id)).one()
    assert note.next_followup_on == TODAY + timedelta(days=14)  # the default rule's repeat
    assert db.get(m.Claim, claim.id).next_followup_on == note.next_followup_on  # type: ignore[union-attr]


def test_a_status_update_from_the_phone_call_moves_the_claim_and_drops_its_follow_up(
    client: TestClient, db: Session, practice: m.Practice, billing: str
) -> None:
    claim, item = _followup_item(db, practice)
    html = _item_html(client.get("/work-queue").text, item.id)
    assert '<option value="denied">' in html
    assert '<option value="void">' not in html  # a write-off or void is not a quick action

    moved = client.post(
        f"/work-queue/{item.id}/status",
        data={"csrf_token": billing, "status": "denied", "detail": "Denied on the phone, ref 77"},
    )

    assert moved.status_code == 303
    assert "Status updated" in client.get(moved.headers["location"]).text
    db.expire_all()
    assert db.get(m.Claim, claim.id).status == "denied"  # type: ignore[union-attr]
    event = db.scalars(select(m.ClaimEvent).where(m.ClaimEvent.claim_id == claim.id)).all()[-1]
    assert (event.to_status, event.detail) == ("denied", "Denied on the phone, ref 77")
    assert db.get(m.WorkItem, item.id).status == "resolved"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("void", "is not set from the work queue"),
        ("lost", "is not a claim status"),
        ("ready", "not set from"),
    ],
)
def test_a_status_the_queue_does_not_set_is_refused_and_nothing_moves(
    client: TestClient, db: Session, practice: m.Practice, billing: str, status: str, message: str
) -> None:
    claim, item = _followup_item(db, practice)

    refused = client.post(f"/work-queue/{item.id}/status", data={"csrf_token": billing, "status": status})

    assert refused.status_code == 303
    assert message in client.get(refused.headers["location"]).text
    db.expire_all()
    assert db.get(m.Claim, claim.id).status == "accepted"  # type: ignore[union-attr]


def test_a_rejected_claim_is_resubmitted_from_its_alert_and_followed_up_from_today(
    client: TestClient, db: Session, practice: m.Practice, billing: str
) -> None:
    claim = sent_claim(db, practice, sent_on=TODAY - timedelta(days=9), status="rejected")
    alert = m.WorkItem(
        practice_id=practice.id, kind="alert", severity="warning", title="Claim rejected", claim_id=claim.id
    )
    db.add(alert)
    db.flush()
    html = _item_html(client.get("/work-queue").text, alert.id)
    assert 'data-testid="resubmit-form"' in html
    assert 'data-testid="done-form"' not in html  # only a follow-up is "done for now"

    sent = client.post(f"/work-queue/{alert.id}/resubmit", data={"csrf_token": billing, "frequency": "1"})

    assert sent.status_code == 303
    assert "Claim sent again" in client.get(sent.headers["location"]).text
    db.expire_all()
    assert db.get(m.Claim, claim.id).status == "submitted"  # type: ignore[union-attr]
    submissions = db.scalars(select(m.Submission).where(m.Submission.claim_id == claim.id)).all()
    assert len(submissions) == 2
    assert submissions[-1].previous_submission_id == submissions[0].id
    followed = db.scalars(
        select(m.WorkItem).where(m.WorkItem.claim_id == claim.id, m.WorkItem.kind == "followup")
    ).one()
    assert followed.due_on is not None
    assert followed.due_on > TODAY  # counted from today's submission


def test_a_corrected_claim_without_the_payers_number_is_refused_and_nothing_is_sent(
    client: TestClient, db: Session, practice: m.Practice, billing: str
) -> None:
    claim = sent_claim(db, practice, sent_on=TODAY - timedelta(days=9), status="rejected")
    alert = m.WorkItem(practice_id=practice.id, kind="alert", title="Claim rejected", claim_id=claim.id)
    db.add(alert)
    db.flush()

    refused = client.post(f"/work-queue/{alert.id}/resubmit", data={"csrf_token": billing, "frequency": "7"})

    assert "needs the payer&#39;s claim control number" in client.get(refused.headers["location"]).text
    db.expire_all()
    assert (
        db.scalar(select(func.count()).select_from(m.Submission).where(m.Submission.claim_id == claim.id))
        == 1
    )


def test_another_practices_item_is_not_found_and_a_therapist_cannot_change_status(
    client: TestClient, db: Session, practice: m.Practice, billing: str
) -> None:
    other = f.make_practice(db)
    claim, item = _followup_item(db, other)

    answer = client.post(f"/work-queue/{item.id}/status", data={"csrf_token": billing, "status": "denied"})

    assert "not found" in client.get(answer.headers["location"]).text
    db.expire_all()
    assert db.get(m.Claim, claim.id).status == "accepted"  # type: ignore[union-attr]


def test_an_item_shows_its_campaigns_and_an_appeal_deadline_links_to_its_appeal(
    client: TestClient, db: Session, practice: m.Practice, billing: str
) -> None:
    claim, item = _followup_item(db, practice)
    campaign = m.Campaign(practice_id=practice.id, name="Phone sweep", workflow="phone", started_on=TODAY)
    closed = m.Campaign(
        practice_id=practice.id, name="Old sweep", workflow="email", started_on=TODAY, status="closed"
    )
    db.add_all([campaign, closed])
    db.flush()
    db.add_all(
        [
            m.CampaignItem(campaign_id=c.id, claim_id=claim.id, work_item_id=item.id, added_on=TODAY)
            for c in (campaign, closed)
        ]
    )
    denied = sent_claim(db, practice, sent_on=TODAY - timedelta(days=30), status="denied")
    deadline = m.WorkItem(
        practice_id=practice.id,
        kind="appeal",
        severity="critical",
        title="Appeal due",
        claim_id=denied.id,
        dedupe_key="appeal:draft:41",
    )
    open_denial = m.WorkItem(
        practice_id=practice.id,
        kind="appeal",
        title="Denial to appeal",
        claim_id=denied.id,
        dedupe_key="appeal:denial:9",
    )
    db.add_all([deadline, open_denial])
    db.flush()

    page = client.get("/work-queue").text

    badges = _item_html(page, item.id).split('data-testid="campaign-badge">')[1:]
    assert [b.split("<", 1)[0] for b in badges] == ["Phone sweep"]  # the closed one is not shown
    assert 'href="/appeals/41" data-testid="item-link"' in _item_html(page, deadline.id)
    assert 'href="/appeals" data-testid="item-link"' in _item_html(page, open_denial.id)
    assert f'action="/claims/{denied.id}/appeals"' in _item_html(page, deadline.id)  # start appeal
