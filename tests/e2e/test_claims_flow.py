"""From sessions to submitted claims in a real browser: a billing specialist checks two
billable sessions on /sessions and marks them ready (their claims are built and scrubbed
clean), opens the claims' "ready" tab, checks both and records them as submitted via the
payer's portal on a date with a reference, then opens one session and finds that submission
(portal and reference) in its timeline. Screenshots go to test-artifacts/.

The specialist works for a practice of their own (seeded here), so nothing changes the
figures the other browser tests read on the shared seeded practice.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

EMAIL = "claims.e2e@example.test"
PORTAL = "Availity E2E"
REFERENCE = "AV-E2E-4471"
# Inside the shipped ICD-10-CM releases (FY2025-FY2026); the payer's filing limit is long
# enough that these dates stay timely whatever day the test runs.
SERVICE_DAYS = (date(2026, 9, 14), date(2026, 9, 15), date(2026, 9, 16))
SUBMITTED_ON = "2026-09-21"


@pytest.fixture(scope="module")
def billable(live_server: LiveServer) -> list[int]:
    """A practice ready to bill (billing entity, a client with an address and coverage, a payer
    billed through a portal) with three sessions whose notes are locked."""
    with Session(live_server.engine) as db:
        existing = db.scalars(select(m.User).where(m.User.email == EMAIL)).first()
        if existing is not None:
            practice_id = db.scalars(
                select(m.Membership.practice_id).where(m.Membership.user_id == existing.id)
            ).one()
            return list(
                db.scalars(
                    select(m.ServiceSession.id)
                    .where(m.ServiceSession.practice_id == practice_id)
                    .order_by(m.ServiceSession.starts_at)
                )
            )
        practice = f.make_practice(db, name="Lakeside Therapy")
        practice.postal_code = "071021234"
        user = f.make_user(db, practice, Role.BILLING, email=EMAIL)
        user.full_name = "Casey Claims"
        user.password_hash = hash_password(live_server.password)
        payer = f.make_payer(db, name="Horizon E2E")
        portal = m.InsurancePortal(practice_id=practice.id, name=PORTAL, url="https://www.availity.com")
        db.add(portal)
        db.flush()
        db.add(
            m.PracticePayer(
                practice_id=practice.id,
                payer_id=payer.id,
                billing_route="portal",
                portal_id=portal.id,
                timely_filing_days=3650,
            )
        )
        provider = f.make_provider(db, practice)
        client = f.make_client(db, practice)
        client.address_line1, client.city, client.state, client.postal_code = (
            "5 Elm St",
            "Newark",
            "NJ",
            "07103",
        )
        f.make_coverage(db, client, payer)
        ids = []
        for day in SERVICE_DAYS:
            starts = datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)
            ids.append(f.make_session(db, practice, client, provider, starts_at=starts).id)
        db.commit()
        return ids


def watch(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on(
        "response",
        lambda answer: errors.append(f"{answer.status} {answer.url}") if answer.status >= 400 else None,
    )
    return errors


def test_mark_ready_bulk_submit_via_portal_and_see_it_in_the_timeline(
    browser: Any, live_server: LiveServer, billable: list[int], artifacts: Any
) -> None:
    chosen = billable[:2]
    context = browser.new_context()
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{live_server.url}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", live_server.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard")

    page.goto(f"{live_server.url}/sessions")
    for session_id in chosen:
        page.check(f"input[name=session_id][value='{session_id}']")
    page.click("[data-testid=mark-ready]")
    result = page.locator("[data-testid=ready-result]")
    result.wait_for()
    assert re.search(r"\b2\b marked ready", result.inner_text())
    assert "Claims ready to submit" in result.inner_text()
    page.screenshot(path=str(artifacts / "claims-flow-1-marked-ready.png"), full_page=True)

    page.goto(f"{live_server.url}/claims?status=ready")
    boxes = page.locator("[data-testid=claims-table] input[name=claim_id]")
    assert boxes.count() == 2
    for index in range(boxes.count()):
        boxes.nth(index).check()
    page.select_option("#portal_id", label=PORTAL)
    page.fill("#submitted_on", SUBMITTED_ON)
    page.fill("#submit-reference", REFERENCE)
    page.click("[data-testid=record-submitted]")
    page.wait_for_url(re.compile(r".*/claims\?.*done=submitted.*"))
    assert "Claims recorded as submitted." in page.locator("[data-testid=message]").inner_text()
    assert page.locator("[data-testid=claims-table] input[name=claim_id]").count() == 0
    page.screenshot(path=str(artifacts / "claims-flow-2-submitted.png"), full_page=True)

    page.goto(f"{live_server.url}/sessions/{chosen[0]}")
    timeline = page.locator("[data-testid=timeline]")
    submissions = timeline.locator("[data-kind=submission]")
    assert submissions.count() == 1
    text = submissions.inner_text()
    assert f"submitted via {PORTAL}" in text
    assert f"reference {REFERENCE}" in text
    assert timeline.locator("[data-kind=marked_ready]").count() == 1
    page.screenshot(path=str(artifacts / "claims-flow-3-timeline.png"), full_page=True)
    assert not errors, errors
    context.close()
