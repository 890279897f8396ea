"""/appeals, /appeals/{id}, starting from a claim, the corrected claim and /appeal-templates:
they render, act, and answer bad input with a message, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.integration.appeals.world import appeals_world, denied_claim
from tests.integration.conftest import PASSWORD, csrf_from, login
from tests.integration.remittance.world import World


@pytest.fixture
def w(db: Session) -> World:
    world = appeals_world(db)
    user = db.get_one(m.User, world.actor.user_id)
    user.password_hash = hash_password(PASSWORD)
    db.flush()
    return world


def _sign_in(client: TestClient, w: World) -> str:
    user = w.db.get_one(m.User, w.actor.user_id)
    assert login(client, user.email).status_code == 303
    page = client.get("/appeals")
    assert page.status_code == 200
    return csrf_from(page.text)


def test_the_appeals_page_lists_open_denials_and_starts_an_appeal(client: TestClient, w: World) -> None:
    claim, denial = denied_claim(w, "50")
    token = _sign_in(client, w)
    page = client.get("/appeals")
    assert f'data-denial="{denial.id}"' in page.text
    assert "Medical necessity" in page.text
    assert "not medically necessary" in page.text
    assert 'href="/appeals"' in page.text  # the nav item
    started = client.post(
        f"/claims/{claim.id}/appeals",
        data={"csrf_token": token, "denial_id": str(denial.id), "return_to": "/work-queue?group=week"},
    )
    assert started.status_code == 303
    location = started.headers["location"]
    assert location.startswith("/appeals/")
    assert "back=%2Fwork-queue" in location
    appeal = w.db.scalars(select(m.Appeal).where(m.Appeal.claim_id == claim.id)).one()
    detail = client.get(location)
    assert detail.status_code == 200
    assert "Appeal started" in detail.text
    assert 'href="/work-queue?group=week"' in detail.text  # the way back
    assert claim.number in detail.text
    assert 'data-testid="letter-preview"' in detail.text

    saved = client.post(
        f"/appeals/{appeal.id}/draft",
        data={"csrf_token": token, "argument": "GAF documented at intake.", "enclosures": "Plan\nNotes"},
    )
    assert saved.status_code == 303
    detail = client.get(saved.headers["location"])
    assert "GAF documented at intake." in detail.text
    pdf = client.get(f"/appeals/{appeal.id}/letter.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    submitted = client.post(f"/appeals/{appeal.id}/submit", data={"csrf_token": token})
    assert submitted.status_code == 303
    w.db.refresh(claim)
    assert claim.status == "appealed"
    bad = client.post(
        f"/appeals/{appeal.id}/outcome",
        data={"csrf_token": token, "outcome": "won", "recovered": "lots"},
    )
    assert bad.status_code == 422
    assert "recovered" in bad.text
    decided = client.post(
        f"/appeals/{appeal.id}/outcome",
        data={"csrf_token": token, "outcome": "won", "recovered": "150.00"},
    )
    assert decided.status_code == 303
    listing = client.get("/appeals")
    assert '<div class="fs-4 fw-semibold" data-testid="overturn-rate">100%</div>' in listing.text


def test_bad_input_answers_a_message(client: TestClient, w: World) -> None:
    claim, denial = denied_claim(w, "50")
    other, _ = denied_claim(w, "197")
    token = _sign_in(client, w)
    wrong = client.post(
        f"/claims/{other.id}/appeals", data={"csrf_token": token, "denial_id": str(denial.id)}
    )
    assert wrong.status_code == 422
    assert f"denial {denial.id} is not of claim {other.number}" in wrong.text
    junk = client.post(f"/claims/{claim.id}/appeals", data={"csrf_token": token, "denial_id": "abc"})
    assert junk.status_code == 422
    assert "denial_id" in junk.text
    outside = client.post(
        f"/claims/{claim.id}/appeals", data={"csrf_token": token, "return_to": "https://evil.example/"}
    )
    assert outside.status_code == 303
    assert "evil" not in outside.headers["location"]
    twice = client.post(f"/claims/{claim.id}/appeals", data={"csrf_token": token})
    assert twice.status_code == 409
    assert "already has an appeal in progress" in twice.text
    not_fixable = client.post(f"/denials/{denial.id}/corrected-claim", data={"csrf_token": token})
    assert not_fixable.status_code == 422
    assert "its usual action is appeal" in not_fixable.text


def test_a_fixable_denial_is_sent_corrected_from_the_page(client: TestClient, w: World) -> None:
    claim, denial = denied_claim(w, "16")
    token = _sign_in(client, w)
    assert "Send corrected claim" in client.get("/appeals").text
    sent = client.post(f"/denials/{denial.id}/corrected-claim", data={"csrf_token": token})
    assert sent.status_code == 303
    assert "Corrected claim sent" in client.get(sent.headers["location"]).text
    latest = w.db.scalars(
        select(m.Submission).where(m.Submission.claim_id == claim.id).order_by(m.Submission.id.desc())
    ).first()
    assert latest is not None
    assert (latest.frequency, latest.payer_claim_control_number) == ("7", f"ICN{claim.number}")


def test_templates_page_saves_a_version_and_refuses_an_unknown_placeholder(
    client: TestClient, w: World
) -> None:
    admin = f.make_user(w.db, w.practice, Role.ADMIN)
    admin.password_hash = hash_password(PASSWORD)
    w.db.flush()
    assert login(client, admin.email).status_code == 303
    page = client.get("/appeal-templates")
    assert page.status_code == 200
    assert "{{ claim.number }}" in page.text
    token = csrf_from(page.text)
    refused = client.post(
        "/appeal-templates",
        data={"csrf_token": token, "name": "General", "subject": "Hi", "body": "Dear {{ payer.nam }}"},
    )
    assert refused.status_code == 422
    assert "unknown placeholder {{ payer.nam }}" in refused.text
    assert "Dear {{ payer.nam }}" in refused.text  # what was typed is kept
    saved = client.post(
        "/appeal-templates",
        data={"csrf_token": token, "name": "General", "subject": "Hi", "body": "Dear {{ payer.name }}"},
    )
    assert saved.status_code == 303
    after = client.get(saved.headers["location"])
    assert "Template saved as a new version" in after.text
    assert 'data-version="2"' in after.text


def test_a_billing_user_cannot_save_a_template(client: TestClient, w: World) -> None:
    token = _sign_in(client, w)
    page = client.get("/appeal-templates")
    assert page.status_code == 200
    assert "Only an administrator changes templates" in page.text
    answer = client.post(
        "/appeal-templates", data={"csrf_token": token, "name": "X", "subject": "", "body": "Hello"}
    )
    assert answer.status_code == 403
