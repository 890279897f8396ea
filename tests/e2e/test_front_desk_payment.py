"""Paying at the front desk in a real browser, at a phone's width: the front desk opens the
client from the balances list, sees the two open visits, takes a $60 card payment (last four
digits only), is told where it went, and opens the receipt PDF, which names the client, the
card's last four digits, the amount and the balance left. Screenshots go to test-artifacts/.

The front desk works for a practice of their own (seeded here), so nothing changes the
figures the other browser tests read on the shared seeded practice.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger_events import ChargeRef, charge_to_patient
from revcycle.domain.permissions import Role
from revcycle.services import ledger
from revcycle.services.actor import system_actor
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.e2e.conftest import LiveServer
from tests.e2e.test_claims_flow import watch

pytestmark = pytest.mark.e2e

EMAIL = "desk.e2e@example.test"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def owing_client(live_server: LiveServer) -> m.Client:
    """A client owing $45 (Jan 12) and $40 (Feb 9) on two self-pay visits."""
    with Session(live_server.engine, expire_on_commit=False) as db:
        found = db.scalars(select(m.Client).where(m.Client.last_name == "Deskpayer")).first()
        if found is not None:
            return found
        practice = f.make_practice(db, name="Bayview Family Therapy")
        user = f.make_user(db, practice, Role.FRONT_DESK, email=EMAIL)
        user.full_name = "Frankie Frontdesk"
        user.password_hash = hash_password(live_server.password)
        provider = f.make_provider(db, practice)
        client = f.make_client(db, practice)
        client.first_name, client.last_name = "Robin", "Deskpayer"
        guarantor = f.make_guarantor(db, client)
        for day, cents in ((date(2026, 1, 12), 4500), (date(2026, 2, 9), 4000)):
            starts = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
            service = f.make_session(db, practice, client, provider, starts_at=starts, fee_cents=cents)
            ledger.post_transaction(
                db,
                actor=system_actor("e2e seed"),
                practice_id=practice.id,
                kind="charge",
                accounting_on=day,
                lines=charge_to_patient(cents, ChargeRef(service.charges[0].id, client.id), guarantor.id),
            )
        db.commit()
        return client


def test_the_front_desk_takes_a_card_payment_and_opens_the_receipt(
    browser: Any, live_server: LiveServer, owing_client: m.Client, artifacts: Any
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{live_server.url}/login")
    page.fill("#email", EMAIL)
    page.fill("#password", live_server.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/front-desk")

    page.click("text=Robin Deskpayer")
    page.wait_for_url(f"**/front-desk/clients/{owing_client.id}/payment")
    assert page.locator("[data-testid=balance-due]").inner_text().startswith("$85.00")
    rows = page.locator("[data-testid=open-items] tbody tr")
    assert rows.count() == 2
    assert "Jan 12, 2026" in rows.nth(0).inner_text()
    # Phone first: nothing wider than the screen (wide tables scroll inside their box).
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "front-desk-payment-form.png"), full_page=True)

    page.fill("#amount", "60.00")
    page.select_option("#method", "card")
    page.fill("#reference", "4242")
    page.click("[data-testid=take-payment]")
    paid = page.locator("[data-testid=paid]")
    paid.wait_for()
    text = paid.inner_text()
    assert "recorded: $60.00 (Card ending 4242)" in text
    assert "$45.00 to the visit of Jan 12, 2026" in text
    assert "$15.00 to the visit of Feb 9, 2026" in text
    assert page.locator("[data-testid=balance-due]").inner_text().startswith("$25.00")
    page.screenshot(path=str(artifacts / "front-desk-payment-done.png"), full_page=True)

    link = page.locator("[data-testid=receipt-link]")
    href = link.get_attribute("href")
    assert href is not None
    with context.expect_page() as opened:
        link.click()
    receipt_tab = opened.value
    answer = context.request.get(f"{live_server.url}{href}")  # the same signed-in session
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    words = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(answer.body())).pages)
    assert "Bayview Family Therapy" in words
    assert "Received from Robin Deskpayer" in words
    assert "Card ending 4242" in words
    assert "Amount paid $60.00" in words
    assert re.search(r"Balance due after this payment\s*\$25\.00\s*Credit on account\s*\$0\.00", words)
    receipt_tab.close()
    assert not errors, errors
    context.close()
