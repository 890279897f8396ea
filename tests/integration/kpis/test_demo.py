"""The dashboard's figures on a small demo practice: realistic, reconciled with the ledger and
with the lists behind them, and the pages render with their charts' data."""

from __future__ import annotations

import datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.services import analytics, dashboard, kpis, queries
from revcycle.services.actor import system_actor
from revcycle.services.demo import build_demo
from revcycle.services.demo_data import DEMO_PASSWORD
from tests.integration.api_routes import bearer
from tests.integration.conftest import login

TODAY = datetime.date(2026, 6, 15)


def test_the_demo_dashboard_reconciles_and_renders(client: TestClient, db: Session) -> None:
    summary = build_demo(db, scale=0.05, today=TODAY)
    practice_id = summary.practice_id
    assert practice_id is not None
    actor = system_actor("demo")
    goal = kpis.kpi_settings(db.get_one(m.Practice, practice_id)).goal_cents  # the demo set it
    assert goal is not None
    assert goal >= kpis.DEMO_GOAL_STEP_CENTS
    assert goal % kpis.DEMO_GOAL_STEP_CENTS == 0
    assert kpis.seed_demo_kpis(db, actor, practice_id, TODAY) == {"goal_cents": 0}  # a goal is kept
    figures = dashboard.practice_dashboard(db, actor=actor, practice_id=practice_id, today=TODAY)
    values = {v.kpi.key: v for v in figures.kpis}
    assert values["sessions_this_month"].value
    assert values["collections_month"].threshold is not None  # the seeded goal's pace
    assert sum(month.collected_cents for month in figures.trend) > 0
    assert sum(bucket.balance_cents for bucket in figures.aging) == figures.ar_total_cents
    zone = kpis.practice_zone(db, practice_id)
    for key in ("outstanding_claims", "denial_rate", "clean_claim_rate", "claims_per_staff"):
        listed = queries.list_claims(
            db,
            actor=actor,
            practice_id=practice_id,
            filters=queries.ClaimFilters(claim_ids=kpis.claims_behind(key, practice_id, TODAY, zone)),
        )
        assert str(listed.total) in values[key].detail.replace(",", ""), key
    table = analytics.payer_concentration(db, actor=actor, practice_id=practice_id)
    assert sum(row.balance_cents for row in table.rows) == table.total_cents
    assert len(table.rows) <= analytics.TOP_PAYERS + 1

    assert login(client, "director@demo.test", DEMO_PASSWORD).status_code == 303
    for path, canvas in (
        ("/dashboard", 'data-testid="collections-trend-chart"'),
        ("/analytics", 'data-testid="payer-concentration-chart"'),
        ("/payer-report", 'data-testid="payer-report"'),
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert canvas in page.text, path
    stats = client.get("/api/dashboard-stats", headers=bearer(client, "billing@demo.test", DEMO_PASSWORD))
    assert stats.status_code == 200
    assert len(stats.json()["kpis"]) == len(figures.kpis)
