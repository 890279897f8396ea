"""The weekly import in a real browser: upload the SimplePractice export through the drop
zone's input, read the preview counts, commit (and what it wrote), settle flags one by one in
the review queue, then a whole group of them at once. Screenshots go to test-artifacts/
(desktop and phone width).

The billing user here works for a practice of their own, so the flags this import raises do
not change the figures the shell test reads on the seeded practice's dashboard.
"""

from __future__ import annotations

import re
from pathlib import Path
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

EXPORT = Path(__file__).resolve().parents[1] / "data" / "csv" / "simplepractice_appointments.csv"
SP_HEADER = (
    "Date of Service,Client,Clinician,Billing Code,Primary Insurance,Secondary Insurance,Rate per Unit,"
    "Units,Total Fee,Client Payment Status,Charge,Uninvoiced,Paid,Unpaid,Insurance Payment Status,Charge,"
    "Paid,Unpaid,Progress Note Status"
)
EMAIL = "imports.e2e@example.test"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def importer(live_server: LiveServer) -> str:
    """A practice with a billing specialist and one payer it already bills."""
    with Session(live_server.engine) as db:
        existing = db.scalars(select(m.User).where(m.User.email == EMAIL)).first()
        if existing is None:
            practice = f.make_practice(db, name="Riverside Therapy", timezone="America/New_York")
            user = f.make_user(db, practice, Role.BILLING, email=EMAIL)
            user.full_name = "Ivy Importer"
            user.password_hash = hash_password(live_server.password)
            payer = f.make_payer(db, name="Tricare East Region")
            db.add(m.PracticePayer(practice_id=practice.id, payer_id=payer.id))
            db.commit()
    return EMAIL


def watch(page: Any) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(f"{page.url} {message.text}") if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on(
        "response",
        lambda answer: errors.append(f"{answer.status} {answer.url}") if answer.status >= 400 else None,
    )
    return errors


def sign_in(page: Any, server: LiveServer, email: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#email", email)
    page.fill("#password", server.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/dashboard")


def count(page: Any, outcome: str) -> int:
    return int(page.locator(f"[data-outcome={outcome}] [data-count]").inner_text())


def test_upload_preview_commit_and_resolve(
    browser: Any, live_server: LiveServer, importer: str, artifacts: Path, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = watch(page)
    sign_in(page, live_server, importer)
    page.locator("[data-figure=flagged-items]").wait_for(state="visible")  # the dashboard tile (htmx)
    assert page.locator("[data-figure=flagged-items] .rc-figure").inner_text() == "0"
    page.get_by_role("link", name="Import CSV").click()
    page.wait_for_url("**/imports")

    page.set_input_files("[data-dropzone] input[type=file]", str(EXPORT))
    assert "simplepractice_appointments.csv" in page.locator("[data-file-name]").inner_text()
    page.screenshot(path=str(artifacts / "import-upload-desktop.png"), full_page=True)
    page.click("[data-upload-button]")
    page.wait_for_url(re.compile(r".*/imports/\d+$"))
    preview_url = page.url

    counts = {o: count(page, o) for o in ("new", "updated", "unchanged", "flagged", "rejected")}
    assert counts == {"new": 4, "updated": 0, "unchanged": 0, "flagged": 1, "rejected": 0}
    assert page.locator("[data-testid=preview-rows] tbody tr").count() == 5
    page.screenshot(path=str(artifacts / "import-preview-desktop.png"), full_page=True)
    page.locator("[data-outcome=flagged]").click()
    page.wait_for_url("**outcome=flagged")

    page.click("[data-testid=commit]")
    summary = page.locator("[data-testid=commit-summary]")
    summary.wait_for(state="visible")
    assert re.search(r"Committed: 4 sessions created, 0 updated, \d+ flags raised", summary.inner_text())
    assert "5 charges" in page.locator("[data-testid=commit-written]").inner_text()
    page.screenshot(path=str(artifacts / "import-committed-desktop.png"), full_page=True)

    summary.get_by_role("link", name="Open the review queue").click()
    page.wait_for_url("**/review")
    flags = page.locator(".rc-flag")
    before = flags.count()
    assert before > 5  # one flag per payer, clinician and client: groups of one show the flag itself
    page.screenshot(path=str(artifacts / "review-desktop.png"), full_page=True)

    over = page.locator(".rc-flag[data-flag-rule=insurance_over]")
    flag_id = over.get_attribute("data-flag")
    over.locator("[data-resolution=acknowledge]").click()
    page.locator("[data-testid=review-message]").wait_for(state="visible")
    assert "Insurance overpaid" in page.locator("[data-testid=review-message]").inner_text()
    assert page.locator(f".rc-flag[data-flag='{flag_id}']").count() == 0
    assert flags.count() == before - 1

    # An unknown payer mapped onto the practice's payer.
    tricare = page.locator(".rc-flag[data-flag-rule=unknown_payer]", has_text="Tricare East (99727)").first
    tricare.locator("select[name=value]").select_option(label="Tricare East Region")
    tricare.locator("[data-resolution=map_to_payer]").click()
    page.locator("[data-testid=review-message]", has_text="Unknown payer: Tricare").wait_for(state="visible")
    assert (
        page.locator(".rc-flag[data-flag-rule=unknown_payer]", has_text="Tricare East (99727)").count() == 0
    )

    # A week of unlocked notes is one group: its flags behind it, all settled in one click.
    week = tmp_path / "unlocked-notes.csv"
    week.write_text(
        "\n".join(
            [SP_HEADER]
            + [
                f"10/1{day}/2025 10:00,Jordan Smith,Alice Ng,90837,Tricare East (99727),--,160.0,1,160.0,"
                f"UNPAID,0,0,0,0,UNPAID,160.0,0,160.0,DRAFT"
                for day in range(3, 6)
            ]
        )
        + "\n"
    )
    page.goto(f"{live_server.url}/imports")
    page.set_input_files("[data-dropzone] input[type=file]", str(week))
    page.click("[data-upload-button]")
    page.wait_for_url(re.compile(r".*/imports/\d+$"))
    page.click("[data-testid=commit]")
    page.locator("[data-testid=commit-summary]").wait_for(state="visible")
    page.goto(f"{live_server.url}/review")
    group = page.locator(".rc-flag-group[data-group-rule=note_not_locked]")
    assert group.locator("[data-testid=group-count]").inner_text() == "3"
    assert group.locator(".rc-flag").first.is_hidden()  # behind the group until expanded
    group.locator("summary").click()
    assert group.locator(".rc-flag").count() == 3
    assert group.locator(".rc-flag").first.is_visible()
    page.screenshot(path=str(artifacts / "review-group-desktop.png"), full_page=True)
    group.locator("[data-bulk-resolution=recheck_after_next_import]").click()
    message = page.locator("[data-testid=review-message]", has_text="Done: 3 flags")
    message.wait_for(state="visible")
    assert "Recheck after next import" in message.inner_text()
    waiting = page.locator(".rc-flag-group[data-group-rule=note_not_locked]")
    assert "3 waiting for the next import" in waiting.inner_text()

    page.set_viewport_size(PHONE)
    page.reload()
    page.screenshot(path=str(artifacts / "review-phone.png"), full_page=True)
    page.goto(preview_url)
    page.screenshot(path=str(artifacts / "import-preview-phone.png"), full_page=True)
    page.goto(f"{live_server.url}/imports")
    page.screenshot(path=str(artifacts / "import-upload-phone.png"), full_page=True)
    assert not errors, errors
    context.close()


def test_a_bad_file_shows_its_message_on_the_upload_page(
    browser: Any, live_server: LiveServer, importer: str, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sign_in(page, live_server, importer)
    page.goto(f"{live_server.url}/imports")
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"%PDF-1.7 binary")
    page.set_input_files("#import-file", str(bad))
    page.click("[data-upload-button]")
    message = page.locator("[data-testid=import-error]")
    message.wait_for(state="visible")
    assert "scan.pdf: is not a CSV file" in message.inner_text()
    assert page.url.endswith("/imports")
    page.screenshot(path=str(artifacts_dir() / "import-error-phone.png"), full_page=True)
    context.close()


def artifacts_dir() -> Path:
    from tests.e2e.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
