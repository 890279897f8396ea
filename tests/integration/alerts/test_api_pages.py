"""The alerts API and the /alerts page, signed in as the clinic's people."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from revcycle.db import models as m
from tests.integration.alerts.conftest import NOW, Clinic
from tests.integration.api_routes import bearer
from tests.integration.conftest import csrf_from, login
from tests.integration.world import PASSWORD, password_hash

__all__: list[str] = []


def _with_passwords(clinic: Clinic) -> None:
    for user in (clinic.biller, clinic.admin, clinic.director, clinic.therapist):
        user.password_hash = password_hash()
    clinic.db.flush()


def _setup(clinic: Clinic) -> tuple[int, int]:
    """A session 18 days old without a note (an alert once the rules run) and one never billed."""
    _with_passwords(clinic)
    unlocked = clinic.office.visit(hour=8, day=2, note_status="draft")
    forgotten = clinic.office.visit(hour=9, day=2)
    return unlocked.id, forgotten.id


def test_api_runs_lists_acknowledges_and_resolves(client: TestClient, clinic: Clinic) -> None:
    unlocked, _ = _setup(clinic)
    billing = bearer(client, clinic.biller.email)
    pid = clinic.practice.id
    run = client.post(f"/api/alerts/run?practice_id={pid}&at=2026-03-20T14:00:00Z", headers=billing)
    assert run.status_code == 200, run.text
    assert run.json()["raised"] >= 1
    assert run.json()["today"] == "2026-03-20"

    listed = client.get(f"/api/alerts?practice_id={pid}&rule=completed_no_note", headers=billing)
    assert listed.status_code == 200
    [alert] = listed.json()["items"]
    assert (alert["session_id"], alert["owner_role"], alert["owner_user_id"]) == (
        unlocked,
        "director",
        clinic.director.id,
    )
    assert alert["subject_url"] == f"/sessions/{unlocked}"
    assert alert["assignee_name"] == clinic.director.full_name
    by_owner = client.get(f"/api/alerts?practice_id={pid}&owner_role=billing", headers=billing).json()
    assert all(item["owner_role"] == "billing" for item in by_owner["items"])
    assert client.get(f"/api/alerts?severity=urgent&practice_id={pid}", headers=billing).status_code == 422

    ack = client.post(f"/api/alerts/{alert['id']}/acknowledge", headers=billing, json={"note": "on it"})
    assert ack.status_code == 200
    assert ack.json()["status"] == "acknowledged"
    assert client.post(f"/api/alerts/{alert['id']}/acknowledge", headers=billing).status_code == 409
    empty = client.post(f"/api/alerts/{alert['id']}/resolve", headers=billing, json={"reason": ""})
    assert empty.status_code == 422
    done = client.post(
        f"/api/alerts/{alert['id']}/resolve", headers=billing, json={"reason": "clinician told"}
    )
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["resolution"]) == ("resolved", "clinician told")
    resolved = client.get(f"/api/alerts?practice_id={pid}&status=resolved", headers=billing).json()
    assert [item["id"] for item in resolved["items"]] == [alert["id"]]


def test_a_therapist_sees_alerts_about_their_sessions_but_cannot_run_or_act(
    client: TestClient, clinic: Clinic
) -> None:
    _setup(clinic)
    clinic.office.provider.user_id = clinic.therapist.id
    clinic.db.flush()
    billing = bearer(client, clinic.biller.email)
    assert client.post("/api/alerts/run?at=2026-03-20T14:00:00Z", headers=billing).status_code == 200
    therapist = bearer(client, clinic.therapist.email)
    assert client.post("/api/alerts/run", headers=therapist).status_code == 403
    seen = client.get("/api/alerts", headers=therapist)
    assert seen.status_code == 200
    assert {item["rule"] for item in seen.json()["items"]} >= {"completed_no_note"}
    assert (
        client.post(f"/api/alerts/{seen.json()['items'][0]['id']}/acknowledge", headers=therapist).status_code
        == 403
    )
    assert client.get("/api/missing-claims", headers=therapist).status_code == 403


def test_api_missing_claims_and_filing_deadlines(client: TestClient, clinic: Clinic) -> None:
    unlocked, forgotten = _setup(clinic)
    clinic.office.settings.timely_filing_days = 40
    clinic.db.flush()
    billing = bearer(client, clinic.biller.email)
    missing = client.get("/api/missing-claims?today=2026-03-20", headers=billing)
    assert missing.status_code == 200
    assert [(row["session_id"], row["days_waiting"]) for row in missing.json()["items"]] == [(forgotten, 18)]
    deadlines = client.get("/api/timely-filing?today=2026-03-20&within_days=30", headers=billing)
    assert deadlines.status_code == 200
    assert {(row["subject"], row["id"], row["days_left"]) for row in deadlines.json()["items"]} == {
        ("session", forgotten, 22),
        ("session", unlocked, 22),  # the unlocked one is unbilled too
    }
    assert client.get("/api/timely-filing?within_days=-1", headers=billing).status_code == 422


def _page_sign_in(client: TestClient, email: str) -> None:
    assert login(client, email, PASSWORD).status_code == 303


def test_alerts_page_groups_by_severity_and_acts_with_csrf(client: TestClient, clinic: Clinic) -> None:
    unlocked, forgotten = _setup(clinic)
    _page_sign_in(client, clinic.biller.email)
    page = client.get("/alerts")
    assert page.status_code == 200
    assert "No open alerts." in page.text
    assert 'href="/alerts"' in page.text  # in the navigation

    token = csrf_from(page.text)
    ran = client.post("/alerts/run", data={"csrf_token": token})
    assert ran.status_code == 303
    page = client.get(ran.headers["location"])
    assert "Rules run:" in page.text
    assert 'data-testid="alerts-warning"' in page.text
    assert f'href="/sessions/{unlocked}"' in page.text
    alert_id = clinic.db.scalars(
        select(m.WorkItem.id).where(m.WorkItem.rule == "completed_no_note", m.WorkItem.session_id == unlocked)
    ).one()
    assert f'data-alert="{alert_id}"' in page.text

    acked = client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": token})
    assert acked.status_code == 303
    assert "Alert acknowledged." in client.get(acked.headers["location"]).text
    again = client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": token})
    assert again.status_code == 409
    assert "only an open alert is acknowledged" in again.text
    no_reason = client.post(f"/alerts/{alert_id}/resolve", data={"csrf_token": token, "reason": ""})
    assert no_reason.status_code == 422
    assert "reason" in no_reason.text
    assert client.post(f"/alerts/{alert_id}/resolve", data={"reason": "x"}).status_code == 403  # no CSRF
    done = client.post(f"/alerts/{alert_id}/resolve", data={"csrf_token": token, "reason": "asked"})
    assert done.status_code == 303
    clinic.db.expire_all()
    assert clinic.db.get(m.WorkItem, alert_id).status == "resolved"  # type: ignore[union-attr]

    missing = client.get("/alerts?tab=missing")
    assert 'data-testid="missing-claims"' in missing.text
    assert f'data-session="{forgotten}"' in missing.text
    deadlines = client.get("/alerts?tab=deadlines&within_days=3650")
    assert 'data-testid="filing-deadlines"' in deadlines.text
    assert f'data-session="{forgotten}"' in deadlines.text


def test_a_therapist_sees_the_page_without_actions_or_billing_lists(
    client: TestClient, clinic: Clinic
) -> None:
    _setup(clinic)
    _page_sign_in(client, clinic.therapist.email)
    page = client.get("/alerts?tab=missing")
    assert page.status_code == 200
    assert "Run the rules now" not in page.text
    assert "Missing claims" not in page.text
    token = csrf_from(page.text)
    assert client.post("/alerts/run", data={"csrf_token": token}).status_code == 403


def test_the_dashboard_shows_the_unbilled_sessions_alert_and_alert_counts(
    client: TestClient, clinic: Clinic
) -> None:
    from revcycle.services import alerts

    _with_passwords(clinic)
    for hour in range(11):
        clinic.office.visit(hour=hour, day=18)
    alerts.run_alerts(clinic.db, practice_id=clinic.practice.id, now=NOW)
    assert login(client, clinic.director.email, PASSWORD).status_code == 303
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "11 sessions held and not yet billed" in page.text
    assert 'data-testid="practice-alert"' in page.text
    open_alerts = clinic.db.scalars(
        select(m.WorkItem).where(
            m.WorkItem.practice_id == clinic.practice.id,
            m.WorkItem.kind == "alert",
            m.WorkItem.status == "open",
            m.WorkItem.severity == "warning",
        )
    ).all()
    tile = page.text.split('data-figure="alerts-warning"')[1].split("</a>")[0]
    assert f'<div class="rc-figure">{len(open_alerts)}</div>' in tile
