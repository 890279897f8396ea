"""An 835 whose claim we cannot match, worked in a real browser at a phone's width: the billing
specialist uploads the payer's 835 on /x12 and follows the link to its posting report, which
says the claim payment waits; on /posting-exceptions the payment is suggested for our claim of
the same day and amount, one click posts it there, the item leaves the queue and the claim is
paid. Screenshots go to test-artifacts/.

The specialist works for a practice of their own (seeded here), so nothing changes what the
other browser tests read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.services.passwords import hash_password
from revcycle.x12.remit835 import Party
from revcycle.x12.write835 import write_835
from tests.e2e.conftest import LiveServer
from tests.e2e.test_claims_flow import watch
from tests.integration.remittance.world import claim_payment, envelope, line, make_world, remittance

pytestmark = pytest.mark.e2e

EMAIL = "remit.e2e@example.test"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def waiting_claim(live_server: LiveServer) -> tuple[int, str]:
    """A practice with an accepted $150 claim (id, number) a payer will pay under a number and
    a name we do not know."""
    with Session(live_server.engine, expire_on_commit=False) as db:
        world = make_world(db)
        world.practice.name = "Lakeside Remittances"
        user = db.get(m.User, world.actor.user_id)
        assert user is not None
        user.email, user.full_name = EMAIL, "Riley Remit"
        user.password_hash = hash_password(live_server.password)
        claim = world.claim(("90837", 15000))
        db.commit()
        return claim.id, claim.number


def test_an_unmatched_claim_payment_is_posted_from_the_queue_in_one_click(
    browser: Any, live_server: LiveServer, waiting_claim: tuple[int, str], artifacts: Path, tmp_path: Path
) -> None:
    claim_id, number = waiting_claim
    stranger = Party(entity="QC", kind="1", name="DOE", first_name="J", id_qualifier="MI", id="X1")
    era = remittance(
        claim_payment(
            "PAYER-REF-77", line("90837", 15000, 9000, ("CO", "45", 6000)), icn="77", patient=stranger
        ),
        trace="EFT-E2E-1",
    )
    path = tmp_path / "lakeside.835"
    path.write_text(write_835([era], envelope(7001)))

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{live_server.url}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", live_server.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard")

    page.goto(f"{live_server.url}/x12")
    page.set_input_files("#x12-file", str(path))
    page.click("form[action='/x12/files'] button[type=submit]")
    page.wait_for_load_state()
    payments = page.locator("[data-testid=x12-payments]").inner_text()
    assert "Payment EFT-E2E-1 ($90.00)" in payments
    assert "1 waiting in the exception queue" in payments
    page.click("[data-testid=posting-report-link]")
    page.wait_for_url("**/remittances/*")
    waiting = page.locator("[data-testid=waiting-claims]").inner_text()
    assert "PAYER-REF-77" in waiting
    assert page.locator("[data-testid=unapplied] .rc-figure").inner_text() == "$90.00"
    page.screenshot(path=str(artifacts / "remittance-1-report.png"), full_page=True)

    page.goto(f"{live_server.url}/posting-exceptions")
    item = page.locator("[data-exception-type=unmatched_claim]")
    assert item.count() == 1
    # Phone first: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "remittance-2-queue-phone.png"), full_page=True)
    button = item.locator(f"button[data-action=post_to_claim][data-claim='{claim_id}']")
    assert button.inner_text() == f"Post to claim {number}"
    button.click()
    notice = page.locator("[data-testid=exception-notice]")
    notice.wait_for()
    assert f"Resolved: posted to claim {number}." in notice.inner_text()
    assert page.locator("[data-exception-type=unmatched_claim]").count() == 0
    assert page.locator("[data-testid=exception-queue-empty]").is_visible()
    assert page.url == f"{live_server.url}/posting-exceptions"  # swapped in place by htmx
    page.screenshot(path=str(artifacts / "remittance-3-posted.png"), full_page=True)

    with Session(live_server.engine) as db:
        claim = db.get(m.Claim, claim_id)
        assert claim is not None
        assert claim.status == "paid"
        row = db.scalars(select(m.Remittance).where(m.Remittance.trace_number == "EFT-E2E-1")).one()
        assert row.status == "posted"
    page.goto(f"{live_server.url}/remittances/{row.id}")
    assert page.locator("[data-testid=unapplied] .rc-figure").inner_text() == "$0.00"
    assert number in page.locator("[data-testid=posted-claims]").inner_text()
    assert not errors, errors
    context.close()
