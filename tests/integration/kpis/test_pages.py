"""/dashboard, /analytics, /payer-report, /api/dashboard-stats and the settings form, signed
in as the practice's people, on the hand-built practice (tests/integration/kpis/world.py).

The pages take today from the clock (the practice's date), so the figures a page must show are
computed by the service for that same day; the hand-worked values are in test_kpis.py."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services import kpis
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.conftest import csrf_from, login
from tests.integration.kpis.test_analytics import more_payers
from tests.integration.kpis.world import build_world
from tests.integration.strategies.world import History
from tests.integration.world import password_hash


@pytest.fixture
def world(db: Session) -> tuple[History, list[m.ServiceSession]]:
    built = build_world(db)
    for user in (built[0].admin, built[0].billing):
        user.password_hash = password_hash()
    db.flush()
    return built


def _today(world: History) -> date:
    return datetime.now(ZoneInfo(world.practice.timezone)).date()


def test_the_dashboard_shows_every_figure_with_its_threshold_formula_and_list(
    client: TestClient, world: tuple[History, list[m.ServiceSession]]
) -> None:
    history = world[0]
    assert login(client, history.billing.email).status_code == 303
    page = client.get("/dashboard")
    assert page.status_code == 200
    text = html.unescape(page.text)
    expected = kpis.compute_kpis(
        history.db, actor=history.actor, practice_id=history.practice.id, today=_today(history)
    )
    keys = re.findall(r'data-kpi="([a-z_0-9]+)"', page.text)
    assert keys == [value.kpi.key for value in expected]  # the seven first, then the rest
    for value in expected:
        tile = re.search(
            rf'<a class="rc-tile[^"]*"\s+href="([^"]+)" data-kpi="{value.kpi.key}" data-tone="(\w+)"', text
        )
        assert tile is not None, value.kpi.key
        assert (tile.group(1), tile.group(2)) == (value.url, value.colour)
        assert f"{value.kpi.name} = {value.kpi.formula}. Dates: {value.kpi.basis}." in text
    tones = {value.kpi.key: value.colour for value in expected}
    assert tones["denial_rate"] == "danger"  # 1 of 3 decided, over 5%
    assert tones["unbilled_sessions"] == "success"  # 3, within 10
    assert 'data-testid="aging-summary"' in page.text
    assert 'data-testid="collections-trend-chart"' in page.text
    assert '<script type="application/json" id="collections-trend-data">' in page.text
    assert 'data-testid="aging-total">$1,050.00<' in page.text
    assert 'data-bucket="121+"' in page.text


def test_a_tiles_link_lists_exactly_the_claims_it_counts(
    client: TestClient, world: tuple[History, list[m.ServiceSession]]
) -> None:
    history, unbilled = world
    assert login(client, history.billing.email).status_code == 303
    listed = client.get("/claims?kpi=denial_rate&as_of=2026-11-20")
    assert listed.status_code == 200
    shown = {key for key, claim in history.claims.items() if claim.number in listed.text}
    assert shown == {"c2", "c3", "c4"}
    oldest = client.get("/claims?kpi=oldest_unpaid_claim&as_of=2026-11-20")
    assert {key for key, claim in history.claims.items() if claim.number in oldest.text} == {"c1"}
    sessions = client.get("/sessions?kpi=unbilled_sessions")
    assert sessions.status_code == 200
    assert set(map(int, re.findall(r'href="/sessions/(\d+)"', sessions.text))) == {s.id for s in unbilled}
    refused = client.get("/claims?kpi=nonsense")
    assert refused.status_code in {400, 422}
    assert "not a figure with claims behind it" in html.unescape(refused.text)


def test_an_admin_sets_thresholds_and_goal_and_bad_input_is_a_message(
    client: TestClient, world: tuple[History, list[m.ServiceSession]]
) -> None:
    history = world[0]
    assert login(client, history.admin.email).status_code == 303
    page = client.get("/settings")
    assert 'data-testid="kpi-settings-form"' in page.text
    assert 'name="threshold_denial_rate"' in page.text
    token = csrf_from(page.text)
    saved = client.post(
        "/settings/kpis",
        data={
            "csrf_token": token,
            "collections_goal": "45,000",
            "threshold_denial_rate": "8",
            "threshold_charge_lag": "",
        },
    )
    assert saved.status_code == 303
    assert client.get(saved.headers["location"]).text.count('data-testid="kpi-saved"') == 1
    history.db.expire_all()
    chosen = kpis.kpi_settings(history.db.get_one(m.Practice, history.practice.id))
    assert (chosen.goal_cents, chosen.thresholds["denial_rate"], chosen.thresholds["charge_lag"]) == (
        4_500_000,
        8,
        None,
    )
    bad = client.post("/settings/kpis", data={"csrf_token": token, "threshold_denial_rate": "lots"})
    shown = client.get(bad.headers["location"])
    assert "denial_rate: &#39;lots&#39; is not a number" in shown.text
    history.db.expire_all()
    assert (
        kpis.kpi_settings(history.db.get_one(m.Practice, history.practice.id)).thresholds["denial_rate"] == 8
    )


def test_billing_may_not_change_thresholds(
    client: TestClient, world: tuple[History, list[m.ServiceSession]]
) -> None:
    history = world[0]
    assert login(client, history.billing.email).status_code == 303
    token = csrf_from(client.get("/dashboard").text)
    answer = client.post("/settings/kpis", data={"csrf_token": token, "threshold_denial_rate": "50"})
    assert answer.status_code == 403


def test_the_api_gives_every_kpi_with_its_threshold_formula_and_link(
    client: TestClient, world: tuple[History, list[m.ServiceSession]]
) -> None:
    history = world[0]
    headers = bearer(client, history.billing.email)
    answer = client.get("/api/dashboard-stats", headers=headers)
    assert answer.status_code == 200
    body = answer.json()
    expected = kpis.compute_kpis(
        history.db, actor=history.actor, practice_id=history.practice.id, today=_today(history)
    )
    assert [k["key"] for k in body["kpis"]] == [v.kpi.key for v in expected]
    for item, value in zip(body["kpis"], expected, strict=True):
        assert (item["value"], item["threshold"], item["crossed"], item["link"]) == (
            pytest.approx(value.value) if value.value is not None else None,
            value.threshold,
            value.crossed,
            value.url,
        )
        assert item["formula"] == value.kpi.formula
        assert item["basis"] == value.kpi.basis
    assert body["ar_total_cents"] == 105_000
    assert sum(row["balance_cents"] for row in body["aging"]) == 105_000
    assert len(body["collections_trend"]) == 12


def test_analytics_shows_the_top_five_others_and_the_concentration(
    client: TestClient, world: tuple[History, list[m.ServiceSession]]
) -> None:
    history = world[0]
    more_payers(history)
    assert login(client, history.billing.email).status_code == 303
    page = client.get("/analytics")
    assert page.status_code == 200
    assert page.text.count('data-payer="') == 6
    assert 'data-payer="others"' in page.text
    assert 'data-testid="portfolio-total">$2,650.00<' in page.text
    assert "92.5%" in page.text  # $2,450 of $2,650
    assert 'data-testid="payer-concentration-chart"' in page.text
    report = client.get("/payer-report")
    assert report.status_code == 200
    assert report.text.count('<tr data-payer="') == 7
    assert "Summit Mutual" in report.text


def test_a_therapist_is_not_shown_analytics(
    client: TestClient, db: Session, world: tuple[History, list[m.ServiceSession]]
) -> None:
    therapist = f.make_user(db, world[0].practice, Role.THERAPIST)
    therapist.password_hash = password_hash()
    db.flush()
    assert login(client, therapist.email).status_code == 303
    assert client.get("/analytics").status_code == 403
    assert client.get("/payer-report").status_code == 403
