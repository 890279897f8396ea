"""/forecast and its API on a small hand-built history: the range, the tables, the charts'
data, a bad date answered by name, and the permission (billing and administrators)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from revcycle.domain.permissions import Role
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.integration.conftest import PASSWORD, login
from tests.integration.forecast.history import Book, new_book


@pytest.fixture
def book(db: Session) -> Book:
    """A year of claims ending today: each month one Acme claim paid within 30 days, one
    Beacon claim paid 75% after 45 days, and an old Beacon claim still open (at risk)."""
    book = new_book(db)
    today = date.today()
    book.admin.password_hash = hash_password(PASSWORD)
    db.flush()
    for months in range(1, 12):
        served = today - timedelta(days=30 * months + 5)
        acme = book.claim("Acme Health", served, 10_000)
        book.insurance_pays(acme, 8_000, served + timedelta(days=20), contractual_cents=2_000)
        beacon = book.claim("Beacon Care", served, 12_000)
        if served + timedelta(days=45) <= today:
            book.insurance_pays(beacon, 9_000, served + timedelta(days=45), contractual_cents=3_000)
    book.claim("Beacon Care", today - timedelta(days=250), 30_000)
    book.claim("Acme Health", today - timedelta(days=3), 10_000)
    return book


def _chart(html: str, name: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', html, re.S)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_the_page_shows_the_range_per_payer_backtest_risk_and_gap(client: TestClient, book: Book) -> None:
    assert login(client, book.admin.email).status_code == 303
    page = client.get("/forecast")
    assert page.status_code == 200
    html = page.text
    for testid in (
        "forecast-range",
        "backtest-error",
        "at-risk",
        "gap-value",
        "forecast-payers",
        "forecast-probabilities",
        "forecast-backtest",
        "at-risk-payers",
        "gap-payers",
        'canvas data-report-chart="bar" data-source="forecast-chart-data" data-testid="forecast-chart"',
        'data-testid="backtest-chart"',
    ):
        assert testid in html
    assert "Acme Health" in html
    assert "Beacon Care" in html
    assert "$300.00" in html  # the old Beacon claim is the at-risk portfolio
    chart = _chart(html, "forecast-chart-data")
    assert set(chart["labels"]) == {"Acme Health", "Beacon Care"}
    assert len(_chart(html, "backtest-chart-data")["labels"]) == 3
    past = client.get(f"/forecast?as_of={(date.today() - timedelta(days=60)).isoformat()}")
    assert past.status_code == 200
    assert "Back to today" in past.text


def test_a_bad_date_is_named(client: TestClient, book: Book) -> None:
    assert login(client, book.admin.email).status_code == 303
    bad = client.get("/forecast?as_of=yesterday")
    assert bad.status_code == 422
    assert "as_of: &#39;yesterday&#39; is not a date (YYYY-MM-DD)" in bad.text
    future = client.get(f"/forecast?as_of={(date.today() + timedelta(days=3)).isoformat()}")
    assert future.status_code == 422
    assert "is after today" in future.text


def test_a_therapist_is_refused(client: TestClient, db: Session, book: Book) -> None:
    therapist = f.make_user(db, book.practice, Role.THERAPIST)
    therapist.password_hash = hash_password(PASSWORD)
    db.flush()
    assert login(client, therapist.email).status_code == 303
    assert client.get("/forecast").status_code == 403
    assert client.get("/api/forecast").status_code == 403


def test_the_api_answers_the_same_figures(client: TestClient, book: Book) -> None:
    assert login(client, book.admin.email).status_code == 303
    answer = client.get("/api/forecast")
    assert answer.status_code == 200
    body = answer.json()
    expected = body["expected"]
    assert expected["low_cents"] <= expected["median_cents"] <= expected["high_cents"]
    assert {p["name"] for p in body["payers"]} == {"Acme Health", "Beacon Care"}
    assert body["at_risk"]["total_cents"] == 30_000
    assert [r["bucket"] for r in body["pooled_rates"]] == [
        "0-30",
        "31-60",
        "61-90",
        "91-120",
        "121-180",
        "181+",
    ]
    assert body["gap"]["payers"][0]["name"] == "Beacon Care"  # the slower payer has the gap
    backtest = client.get("/api/forecast/backtest")
    assert backtest.status_code == 200
    points = backtest.json()["points"]
    assert len(points) == 3
    assert all(p["actual_cents"] >= 0 for p in points)
    one = client.get(f"/api/forecast/backtest?as_of={(date.today() - timedelta(days=45)).isoformat()}")
    assert len(one.json()["points"]) == 1
    recent = client.get(f"/api/forecast/backtest?as_of={date.today().isoformat()}")
    assert recent.status_code == 422
    assert "not over" in recent.json()["detail"]
