"""The claim page's "Denials and appeals" section: a denial from a posted 835 in plain words,
its deadline and the actions open to it, the claim's appeals, and who sees them."""

from __future__ import annotations

import datetime
import re
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services import appeals
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.integration.appeals.world import TODAY, appeals_world, denied_claim
from tests.integration.conftest import PASSWORD, csrf_from, login
from tests.integration.remittance.world import World, claim_payment, line, remittance


@pytest.fixture
def w(db: Session) -> World:
    world = appeals_world(db)
    user = db.get_one(m.User, world.actor.user_id)
    user.password_hash = hash_password(PASSWORD)
    db.flush()
    return world


def _page_today(w: World) -> datetime.date:
    """The day the page works with: the practice's own today."""
    return datetime.datetime.now(ZoneInfo(w.practice.timezone)).date()


def _sign_in(client: TestClient, user: m.User) -> None:
    assert login(client, user.email).status_code == 303


def _billing(w: World) -> m.User:
    return w.db.get_one(m.User, w.actor.user_id)


def _section(html: str) -> str:
    found = re.search(r'<section class="mb-3" data-testid="claim-denials">(.*?)</section>', html, re.S)
    assert found is not None, "no Denials and appeals section"
    return found.group(1)


def _denied_with_remark(w: World, carc: str, rarc: str) -> tuple[m.Claim, m.Denial]:
    claim = w.claim(("90837", 15000))
    w.db.add(
        m.Submission(
            practice_id=w.practice.id,
            claim_id=claim.id,
            channel="clearinghouse",
            submitted_at=datetime.datetime(2026, 3, 5, 12, tzinfo=datetime.UTC),
        )
    )
    w.db.flush()
    denied = replace(line("90837", 15000, 0, ("CO", carc, 15000)), remarks=(("HE", rarc),))
    w.ingest(remittance(claim_payment(claim, denied, status="4"), method="NON", amount=0, trace="CPR0001"))
    w.db.refresh(claim)
    return claim, w.db.scalars(select(m.Denial).where(m.Denial.claim_id == claim.id)).one()


def test_a_fixable_denial_shows_its_codes_explanation_deadline_and_both_forms(
    client: TestClient, w: World
) -> None:
    claim, denial = _denied_with_remark(w, "16", "N290")
    denial.appeal_deadline_on = _page_today(w) + datetime.timedelta(days=10)
    w.db.flush()
    _sign_in(client, _billing(w))
    page = client.get(f"/claims/{claim.id}")
    assert page.status_code == 200
    section = _section(page.text)
    assert f'data-denial="{denial.id}"' in section
    assert "CO-16" in section
    assert "N290" in section
    assert "missing information or has a billing error" in section  # our explanation of CARC 16
    assert "primary id (NPI) is missing" in section  # and of the remark
    assert "Missing information" in section  # the category
    assert "$150.00" in section
    assert "Fix and resubmit" in section
    assert 'data-urgency="within_30"' in section
    assert f'action="/claims/{claim.id}/appeals"' in section
    assert f'name="denial_id" value="{denial.id}"' in section
    assert f'name="return_to" value="/claims/{claim.id}"' in section
    assert f'action="/denials/{denial.id}/corrected-claim"' in section
    assert 'data-testid="claim-appeals"' not in section  # no appeal yet


def test_an_appeal_started_from_the_claim_page_lands_on_the_appeal_and_is_listed(
    client: TestClient, w: World
) -> None:
    claim, denial = denied_claim(w, "50")
    denial.appeal_deadline_on = _page_today(w) - datetime.timedelta(days=2)
    w.db.flush()
    _sign_in(client, _billing(w))
    page = client.get(f"/claims/{claim.id}")
    section = _section(page.text)
    assert "not medically necessary" in section
    assert 'data-urgency="overdue"' in section
    assert "corrected-claim" not in section  # an appeal-first denial is not corrected
    started = client.post(
        f"/claims/{claim.id}/appeals",
        data={
            "csrf_token": csrf_from(page.text),
            "denial_id": str(denial.id),
            "return_to": f"/claims/{claim.id}",
        },
    )
    assert started.status_code == 303
    appeal = w.db.scalars(select(m.Appeal).where(m.Appeal.claim_id == claim.id)).one()
    assert started.headers["location"].startswith(f"/appeals/{appeal.id}?")
    assert f"back=%2Fclaims%2F{claim.id}" in started.headers["location"]
    landed = client.get(started.headers["location"])
    assert landed.status_code == 200
    assert "Appeal started" in landed.text
    assert f'href="/claims/{claim.id}"' in landed.text

    section = _section(client.get(f"/claims/{claim.id}").text)
    assert f'data-appeal="{appeal.id}"' in section
    assert f'href="/appeals/{appeal.id}"' in section
    assert "First-level appeal" in section
    assert "Draft" in section
    assert f"appeal #{appeal.id} in progress" in section
    assert 'data-testid="start-appeal"' not in section  # one appeal in progress at a time


def test_after_a_lost_appeal_the_next_level_is_offered(w: World) -> None:
    claim, denial = denied_claim(w, "50")
    first = appeals.start_appeal(w.db, actor=w.actor, claim_id=claim.id, denial_id=denial.id, today=TODAY)
    appeals.submit_appeal(w.db, actor=w.actor, appeal_id=first.id, submitted_on=TODAY)
    shown = appeals.claim_denials_and_appeals(w.db, actor=w.actor, claim_id=claim.id, today=TODAY)
    assert [d.resolution for d in shown.denials] == ["appealed"]
    assert not shown.denials[0].can_start_appeal
    appeals.record_outcome(w.db, actor=w.actor, appeal_id=first.id, outcome="lost", decided_on=TODAY)
    shown = appeals.claim_denials_and_appeals(w.db, actor=w.actor, claim_id=claim.id, today=TODAY)
    (view,) = shown.denials
    assert (view.resolution, view.can_start_appeal, view.previous_appeal_id) == ("open", True, first.id)
    assert view.start_label == "Second-level appeal"
    assert [(a.id, a.status) for a in shown.appeals] == [(first.id, "lost")]


def test_a_therapist_sees_their_own_denied_claim_without_the_section(client: TestClient, w: World) -> None:
    therapist = f.make_user(w.db, w.practice, Role.THERAPIST)
    therapist.password_hash = hash_password(PASSWORD)
    w.provider.user_id = therapist.id
    w.db.flush()
    claim, _ = denied_claim(w, "16")
    _sign_in(client, therapist)
    page = client.get(f"/claims/{claim.id}")
    assert page.status_code == 200
    assert claim.number in page.text
    assert 'data-testid="claim-denials"' not in page.text
    assert f'action="/claims/{claim.id}/appeals"' not in page.text
    assert "corrected-claim" not in page.text


def test_a_claim_without_denials_shows_no_section(client: TestClient, w: World) -> None:
    claim = w.claim(("90837", 15000))
    _sign_in(client, _billing(w))
    page = client.get(f"/claims/{claim.id}")
    assert page.status_code == 200
    assert 'data-testid="claim-denials"' not in page.text
    assert not appeals.claim_denials_and_appeals(w.db, actor=w.actor, claim_id=claim.id, today=TODAY)


def test_a_corrected_claim_sent_from_the_claim_page_comes_back_to_it(client: TestClient, w: World) -> None:
    claim, denial = _denied_with_remark(w, "16", "N290")
    claim.payer_claim_control_number = "ICN-7731"
    w.db.flush()
    _sign_in(client, _billing(w))
    token = csrf_from(client.get(f"/claims/{claim.id}").text)

    sent = client.post(
        f"/denials/{denial.id}/corrected-claim",
        data={"csrf_token": token, "return_to": f"/claims/{claim.id}"},
    )

    assert sent.status_code == 303
    assert sent.headers["location"] == f"/claims/{claim.id}?done=corrected"
    assert "Corrected claim sent" in client.get(sent.headers["location"]).text
    w.db.expire_all()
    latest = w.db.scalars(
        select(m.Submission).where(m.Submission.claim_id == claim.id).order_by(m.Submission.id)
    ).all()[-1]
    assert (latest.frequency, latest.payer_claim_control_number) == ("7", "ICN-7731")


def test_a_refused_start_from_the_claim_page_is_shown_there(client: TestClient, w: World) -> None:
    claim, denial = _denied_with_remark(w, "50", "N115")
    _sign_in(client, _billing(w))
    token = csrf_from(client.get(f"/claims/{claim.id}").text)
    form = {"csrf_token": token, "denial_id": str(denial.id), "return_to": f"/claims/{claim.id}"}
    assert client.post(f"/claims/{claim.id}/appeals", data=form).status_code == 303

    again = client.post(f"/claims/{claim.id}/appeals", data=form)

    assert again.status_code == 303
    assert again.headers["location"].startswith(f"/claims/{claim.id}?error=")
    shown = client.get(again.headers["location"])
    assert shown.status_code == 200
    assert "already" in shown.text  # the refusal, on the claim page
    assert w.db.scalar(select(func.count()).select_from(m.Appeal).where(m.Appeal.claim_id == claim.id)) == 1
