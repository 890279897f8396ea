"""The page shell in a real browser: sign in, land on the dashboard, and be signed out
when idle. Screenshots go to test-artifacts/ (desktop and phone width)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from revcycle.db import models as m
from revcycle.db.types import utcnow
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def sign_in(page: Any, server: LiveServer) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#email", server.billing_email)
    page.fill("#password", server.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/dashboard")


def test_billing_signs_in_and_lands_on_the_dashboard(
    browser: Any, live_server: LiveServer, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on(
        "response",
        lambda answer: errors.append(f"{answer.status} {answer.url}") if answer.status >= 400 else None,
    )
    sign_in(page, live_server)
    nav = page.locator("[data-testid=main-nav]")
    for label in ("Dashboard", "Sessions", "Claims", "Payments", "Work queue", "Reports", "Insurance"):
        assert nav.get_by_role("link", name=label).is_visible(), label
    assert nav.get_by_role("link", name="Settings").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # the bar fits
    nav.locator("[data-nav-group=Money]").click()
    assert nav.get_by_role("link", name="Remittances").is_visible()
    page.keyboard.press("Escape")
    submitted = page.locator("[data-stage=submitted] [data-count]")
    assert submitted.inner_text() == "2"
    badge = page.locator("[data-stage=submitted] .stage-badge")
    assert badge.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(147, 51, 234)"  # #9333ea
    assert page.locator("[data-figure=work-critical] .rc-figure").inner_text() == "1"
    page.locator("canvas[data-chart]").wait_for(state="visible")
    assert page.evaluate("window.Chart.getChart(document.querySelector('canvas[data-chart]')) !== undefined")
    page.screenshot(path=str(artifacts / "dashboard-desktop.png"), full_page=True)
    assert not errors, errors  # CSP violations and script errors show up here

    page.set_viewport_size(PHONE)
    page.reload()
    assert not nav.get_by_role("link", name="Sessions").is_visible()  # collapsed behind the toggler
    page.screenshot(path=str(artifacts / "dashboard-phone.png"), full_page=True)
    page.click(".navbar-toggler")
    page.locator("#rc-nav.show:not(.collapsing)").wait_for(state="visible")
    assert nav.get_by_role("link", name="Sessions").is_visible()
    page.screenshot(path=str(artifacts / "menu-phone.png"))

    page.locator("[data-stage=submitted]").click()
    page.wait_for_url("**/sessions?stage=submitted*")
    assert page.locator("[data-testid=sessions-table] tbody tr").count() == 2
    page.screenshot(path=str(artifacts / "sessions-phone.png"), full_page=True)
    context.close()


def test_an_idle_session_is_signed_out(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live_server)
    with live_server.engine.begin() as connection:
        connection.execute(
            update(m.WebSession)
            .where(m.WebSession.ended_at.is_(None))
            .values(last_seen_at=utcnow() - timedelta(minutes=16))
        )
    page.reload()
    page.wait_for_url("**/login**")
    assert page.locator("#password").is_visible()
    context.close()
