"""Files exchanged by hand with a clearinghouse portal, in a real browser: a billing specialist
writes the ready claims as an 837P batch on /x12 and downloads it; the clearinghouse (our
simulator, standing in for the portal) answers with a 999 and a 277CA, which the specialist
uploads on the same page: the batch is acknowledged, one claim accepted with the payer's
claim number and one rejected with the reason; uploading the 999 again changes nothing and
says so. Screenshots go to test-artifacts/.

The specialist works for a practice of their own (seeded here).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.adapters.clearinghouse_sim import ClaimAnswer, SimulatedClearinghouse
from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.e2e.conftest import LiveServer
from tests.e2e.test_claims_flow import watch

pytestmark = pytest.mark.e2e

EMAIL = "x12.e2e@example.test"
ICN = "26330000123"


@pytest.fixture(scope="module")
def ready_claims(live_server: LiveServer) -> list[str]:
    """A practice billing a payer through the clearinghouse, with two ready claims."""
    with Session(live_server.engine) as db:
        practice = f.make_practice(db, name="Riverside X12")
        practice.postal_code = "071021234"
        user = f.make_user(db, practice, Role.BILLING, email=EMAIL)
        user.full_name = "Robin Remit"
        user.password_hash = hash_password(live_server.password)
        payer = f.make_payer(db, name="Meridian E2E")
        db.add(m.PracticePayer(practice_id=practice.id, payer_id=payer.id, billing_route="clearinghouse"))
        provider = f.make_provider(db, practice)
        client = f.make_client(db, practice)
        client.address_line1, client.city, client.state, client.postal_code = (
            "5 Elm St",
            "Newark",
            "NJ",
            "07103",
        )
        coverage = f.make_coverage(db, client, payer)
        numbers = []
        for day in (14, 15):
            visit = f.make_session(
                db, practice, client, provider, starts_at=datetime(2026, 9, day, 15, tzinfo=UTC)
            )
            claim = f.make_claim(db, visit, coverage, status="ready")
            claim.diagnosis_codes = ["F41.1"]
            claim.lines[0].diagnosis_pointers = "1"
            numbers.append(claim.number)
        db.commit()
        return numbers


def upload(page: Any, path: Path) -> str:
    page.set_input_files("#x12-file", str(path))
    page.click("form[action='/x12/files'] button[type=submit]")
    page.wait_for_load_state()
    feedback: str = page.locator("#x12-feedback").inner_text()
    return feedback


def test_write_download_and_answer_a_batch_by_hand(
    browser: Any, live_server: LiveServer, ready_claims: list[str], artifacts: Path, tmp_path: Path
) -> None:
    accepted, rejected = ready_claims
    page = browser.new_context(accept_downloads=True).new_page()
    errors = watch(page)
    page.goto(f"{live_server.url}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", live_server.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard")

    page.goto(f"{live_server.url}/x12")
    page.click("form[action='/x12/batches'] button[type=submit]")
    written = page.locator("[data-testid=x12-written]")
    written.wait_for()
    assert re.search(r"2 claims written and recorded as sent", written.inner_text())
    with page.expect_download() as download_info:
        page.locator("[data-testid=x12-batches] a[download]").first.click()
    sent = download_info.value.path().read_text(encoding="utf-8")
    assert f"CLM*{accepted}*" in sent
    assert f"CLM*{rejected}*" in sent
    page.screenshot(path=str(artifacts / "x12-1-batch-written.png"), full_page=True)

    clearinghouse = SimulatedClearinghouse()
    now = datetime(2026, 9, 21, 16, 20)
    ack = tmp_path / "answer.999"
    ack.write_text(clearinghouse.receive(sent, at=now))
    acknowledgment = tmp_path / "answer.277"
    acknowledgment.write_text(
        clearinghouse.acknowledge(
            [
                ClaimAnswer(accepted, accepted=True, payer_claim_control_number=ICN),
                ClaimAnswer(
                    rejected, accepted=False, category="A7", status_code="33", message="MEMBER NOT FOUND"
                ),
            ],
            at=now.replace(day=22),
        )
    )

    feedback = upload(page, ack)
    assert "answer.999 applied (999)" in feedback
    assert "acknowledged: 2" in feedback
    feedback = upload(page, acknowledgment)
    assert "answer.277 applied (277CA)" in feedback
    assert "accepted: 1" in feedback
    assert "rejected: 1" in feedback
    assert "MEMBER NOT FOUND" in feedback
    page.screenshot(path=str(artifacts / "x12-2-answers-applied.png"), full_page=True)
    files = page.locator("[data-testid=x12-files]").inner_text()
    assert "answer.999" in files
    assert "answer.277" in files

    feedback = upload(page, ack)
    assert "answer.999 was received before" in feedback

    with Session(live_server.engine) as db:
        claims = {c.number: c for c in db.scalars(select(m.Claim).where(m.Claim.number.in_(ready_claims)))}
    assert (claims[accepted].status, claims[accepted].payer_claim_control_number) == ("accepted", ICN)
    assert claims[rejected].status == "rejected"
    assert errors == []
