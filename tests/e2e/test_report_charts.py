"""The dashboard and every report in a real browser, on a small demo practice, at a desktop's
and a phone's width: each page answers, draws every chart it has (a canvas with pixels on
it, not an empty box), fits the phone's width, and logs no error. Screenshots of each go to
test-artifacts/reports/.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from revcycle.services.demo import build_demo
from revcycle.services.demo_data import DEMO_PASSWORD
from tests.e2e.conftest import LiveServer
from tests.e2e.test_claims_flow import watch

pytestmark = pytest.mark.e2e

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# Every page with charts, and how many charts it must draw at least.
PAGES = {
    "/dashboard": 1,
    "/analytics": 1,
    "/payer-report": 0,
    "/forecast": 1,
    "/reports/aging": 1,
    "/reports/payer-scorecard": 1,
    "/reports/revenue-recognition": 1,
    "/reports/denials": 1,
    "/reports/weekly-reconciliation": 1,
    "/reports/provider-productivity": 1,
    "/reports/compensation": 0,
    "/reports/payer-mix": 1,
    "/reports/procedure-revenue": 1,
    "/reports/agent-performance": 1,
}
DRAWN = """() => Array.from(document.querySelectorAll('canvas')).map(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) return true; }
  return false;
})"""


@pytest.fixture(scope="module")
def demo_practice(live_server: LiveServer) -> str:
    """A small demo practice in the live server's database; its administrator's e-mail."""
    with Session(live_server.engine) as db:
        build_demo(db, scale=0.05, today=date.today())
        db.commit()
    return "admin@demo.test"


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_dashboard_and_every_report_draw_their_charts(
    browser: Any, live_server: LiveServer, demo_practice: str, artifacts: Path, size: str
) -> None:
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    errors = watch(page)
    page.goto(f"{live_server.url}/login")
    page.fill("#email", demo_practice)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/**")
    shots = artifacts / "reports"
    shots.mkdir(exist_ok=True)
    for path, charts in PAGES.items():
        answer = page.goto(f"{live_server.url}{path}")
        assert answer is not None
        assert answer.status == 200, f"{path}: {answer.status}"
        canvases = page.locator("canvas")
        assert canvases.count() >= charts, f"{path}: {canvases.count()} charts, expected {charts}"
        if canvases.count():
            page.wait_for_function(f"({DRAWN})().every(Boolean)", timeout=10_000)
        if size == "phone":
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= SIZES["phone"]["width"], f"{path} is {width}px wide on a phone"
        name = path.strip("/").replace("/", "-")
        page.screenshot(path=str(shots / f"{name}-{size}.png"), full_page=True)
    assert not errors, errors
    context.close()
