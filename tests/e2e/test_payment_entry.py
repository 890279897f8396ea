"""Keying a paper check in a real browser: the biller opens a batch with its control totals,
enters a $180.00 check from Cedar Health that pays two claims without saying which, asks for
the sets of open claims adding up to it, uses the first (the two oldest), posts it allocated
from the expected amounts, and closes the batch, which now balances. Screenshots go to
test-artifacts/.

The biller works for a practice of their own (seeded here), so nothing changes the figures the
other browser tests read on the shared seeded practice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger_events import ChargeRef, InsuranceRef, charge_to_insurance
from revcycle.domain.permissions import Role
from revcycle.services import ledger
from revcycle.services.actor import system_actor
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.e2e.conftest import LiveServer
from tests.e2e.test_claims_flow import watch

pytestmark = pytest.mark.e2e

EMAIL = "checks.e2e@example.test"
DAYS = (date(2026, 2, 2), date(2026, 2, 9), date(2026, 3, 2))


@pytest.fixture(scope="module")
def open_claims(live_server: LiveServer) -> tuple[int, list[int]]:
    """Cedar Health owes three claims of $150.00; its contract allows $110.00 and each client's
    copay is $20.00, so $90.00 is expected on each. Returns (payer id, claim ids oldest first)."""
    with Session(live_server.engine, expire_on_commit=False) as db:
        found = db.scalars(select(m.Payer).where(m.Payer.name == "Cedar Health")).first()
        if found is not None:
            ids = db.scalars(select(m.Claim.id).where(m.Claim.payer_id == found.id).order_by(m.Claim.id))
            return found.id, list(ids)
        practice = f.make_practice(db, name="Cedar Grove Counseling")
        user = f.make_user(db, practice, Role.BILLING, email=EMAIL)
        user.full_name = "Casey Checks"
        user.password_hash = hash_password(live_server.password)
        payer = f.make_payer(db, name="Cedar Health")
        db.add(m.PracticePayer(practice_id=practice.id, payer_id=payer.id))
        contract = m.PayerContract(
            practice_id=practice.id, payer_id=payer.id, number="CH-2026", starts_on=date(2026, 1, 1)
        )
        db.add(contract)
        db.flush()
        db.add(
            m.PayerContractRate(
                practice_id=practice.id, contract_id=contract.id, procedure_code="90837", allowed_cents=11000
            )
        )
        provider = f.make_provider(db, practice)
        claim_ids = []
        for day in DAYS:
            client = f.make_client(db, practice)
            coverage = f.make_coverage(db, client, payer)
            coverage.copay_cents = 2000
            starts = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
            service = f.make_session(
                db, practice, client, provider, starts_at=starts, code="90837", fee_cents=15000
            )
            claim = f.make_claim(db, service, coverage, status="accepted")
            ref = ChargeRef(service.charges[0].id, client.id, claim.id)
            ledger.post_transaction(
                db,
                actor=system_actor("e2e seed"),
                practice_id=practice.id,
                kind="charge",
                accounting_on=day,
                lines=charge_to_insurance(15000, ref, InsuranceRef(coverage.id, payer.id)),
            )
            claim_ids.append(claim.id)
        db.commit()
        return payer.id, claim_ids


def test_a_check_for_two_claims_is_matched_posted_and_its_batch_closed(
    browser: Any, live_server: LiveServer, open_claims: tuple[int, list[int]], artifacts: Any
) -> None:
    payer_id, (oldest, second, newest) = open_claims
    context = browser.new_context()
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{live_server.url}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", live_server.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard")

    page.click("[data-nav-group=Money]")  # the money pages sit under one menu
    page.click("nav >> text=Payment entry")
    page.wait_for_url("**/payments/new")
    page.click("text=Payment batches")
    page.fill("#name", "Mail from Cedar")
    page.fill("#control_count", "1")
    page.fill("#control_amount", "180.00")
    page.click("[data-testid=open-batch]")
    page.wait_for_url("**/payment-batches/*")
    assert "1 payment and $180.00 short" in page.locator("[data-testid=difference]").inner_text()
    page.click("text=Enter a payment into this batch")

    page.wait_for_url("**/payments/new?batch_id=*")
    page.fill("#amount", "180.00")
    page.select_option("#payer_id", str(payer_id))
    page.fill("#reference", "77001")
    page.click("[data-testid=propose]")
    proposals = page.locator("[data-testid=proposal]")
    proposals.first.wait_for()
    assert proposals.count() == 3  # any two of the three claims make $180.00
    rows = page.locator("[data-testid=open-claims] tbody tr")
    assert rows.count() == 3
    assert "$90.00" in rows.nth(0).inner_text()
    assert "Contract" in rows.nth(0).inner_text()
    page.screenshot(path=str(artifacts / "payment-entry-proposals.png"), full_page=True)

    proposals.first.locator("[data-testid=use-proposal]").click()
    page.locator("[data-testid=allocations]").wait_for()
    assert page.input_value(f"[data-testid=line-{oldest}-1-paid]") == "90.00"
    assert page.input_value(f"[data-testid=line-{oldest}-1-contractual]") == "40.00"
    assert page.input_value(f"[data-testid=line-{second}-1-copay]") == "20.00"
    page.screenshot(path=str(artifacts / "payment-entry-allocations.png"), full_page=True)
    page.click("[data-testid=post-payment]")

    page.wait_for_url("**/payments/insurance/*?posted=1")
    assert "Payment posted." in page.locator("[data-testid=message]").inner_text()
    paid = page.locator("[data-testid=paid-claims] tbody tr")
    assert paid.count() == 2
    assert "$90.00" in paid.nth(0).inner_text()
    assert "Paid" in paid.nth(0).inner_text()
    assert page.locator("[data-testid=unapplied] .rc-figure").inner_text() == "$0.00"
    page.screenshot(path=str(artifacts / "payment-entry-posted.png"), full_page=True)

    page.click("text=Batch Mail from Cedar")
    page.wait_for_url("**/payment-batches/*")
    page.click("[data-testid=close-batch]")
    page.wait_for_url("**/payment-batches/*?closed=1")
    assert "Balanced" in page.locator("[data-testid=difference]").inner_text()
    assert "Closed" in page.locator(".rc-subtitle").inner_text()
    assert not errors, errors
    context.close()

    with Session(live_server.engine) as db:
        statuses = dict(
            db.execute(select(m.Claim.id, m.Claim.status).where(m.Claim.payer_id == payer_id)).all()
        )
        assert statuses == {oldest: "paid", second: "paid", newest: "accepted"}
        cash = db.scalar(
            select(func.sum(m.Posting.amount_cents))
            .join(m.Payment, m.Payment.id == m.Posting.payment_id)
            .where(m.Posting.account == "cash", m.Payment.reference == "77001")
        )
        assert cash == 18000
