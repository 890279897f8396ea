"""A follow-up worked from the queue in a real browser at a phone's width: the billing
specialist sees a claim the payer has not answered under "Needs immediate action", logs a note
with the next follow-up date, and sees it move to "On track". Screenshots go to test-artifacts/.

The specialist works for a practice of their own (seeded here), so nothing changes what the
other browser tests read.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services import followup
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.e2e.conftest import LiveServer
from tests.e2e.test_claims_flow import watch
from tests.integration.followup.claims import sent_claim

pytestmark = pytest.mark.e2e

EMAIL = "queue.e2e@example.test"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def overdue_item(live_server: LiveServer) -> tuple[int, int]:
    """A practice whose claim was sent 45 days ago and never answered: (claim id, item id)."""
    with Session(live_server.engine, expire_on_commit=False) as db:
        practice = f.make_practice(db, name="Hillside Follow-ups")
        user = f.make_user(db, practice, Role.BILLING, email=EMAIL)
        user.full_name, user.password_hash = "Quinn Queue", hash_password(live_server.password)
        payer = f.make_payer(db, name="Summit Mutual")
        claim = sent_claim(db, practice, sent_on=date.today() - timedelta(days=45), payer=payer)
        followup.rebuild(db, practice_id=practice.id, today=date.today())
        item = db.scalars(select(m.WorkItem).where(m.WorkItem.claim_id == claim.id)).one()
        db.commit()
        return claim.id, item.id


def test_a_follow_up_is_worked_with_a_note_and_moves_to_on_track(
    browser: Any, live_server: LiveServer, overdue_item: tuple[int, int], artifacts: Path
) -> None:
    claim_id, item_id = overdue_item
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{live_server.url}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", live_server.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/**")

    page.goto(f"{live_server.url}/work-queue")
    item = page.locator(f"[data-group=now] [data-item-id='{item_id}']")
    assert item.count() == 1
    assert "Summit Mutual" in item.inner_text()
    assert page.locator("[data-testid=queue-banners] [data-severity=warning]").inner_text().endswith("1")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "queue-1-needs-action-phone.png"), full_page=True)

    item.locator("summary", has_text="Log a note").click()
    next_on = date.today() + timedelta(days=21)
    item.locator("textarea[name=body]").fill("Called Summit Mutual: in process, reference 4471")
    item.locator("input[name=next_on]").fill(next_on.isoformat())
    item.get_by_role("button", name="Save note").click()
    page.locator("[data-testid=queue-notice]").wait_for()
    moved = page.locator(f"[data-group=on_track] [data-item-id='{item_id}']")
    assert moved.count() == 1
    assert page.locator(f"[data-group=now] [data-item-id='{item_id}']").count() == 0
    page.screenshot(path=str(artifacts / "queue-2-on-track-phone.png"), full_page=True)

    with Session(live_server.engine) as db:
        claim = db.get(m.Claim, claim_id)
        assert claim is not None
        assert claim.next_followup_on == next_on
    assert not errors, errors
    context.close()
