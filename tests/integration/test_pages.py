"""The pages, signed in as each persona: landing pages, navigation per role, real figures,
scoping, audit rows for client reads, and the shell's CSP-friendly markup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.domain.pipeline import STAGE_COLOURS
from revcycle.web.templating import STATIC_DIR, stage_css
from tests.integration.conftest import login
from tests.integration.world import PASSWORD, World, build_world


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


def sign_in(client: TestClient, world: World, role: Role) -> None:
    response = login(client, world.users[role].email, PASSWORD)
    assert response.status_code == 303, response.text


def nav_keys(html: str) -> set[str]:
    return set(re.findall(r'data-nav="([a-z_]+)"', html))


def read_rows(db: Session, practice_id: int) -> list[m.AuditLog]:
    query = select(m.AuditLog).where(m.AuditLog.practice_id == practice_id, m.AuditLog.action == "read")
    return list(db.scalars(query.order_by(m.AuditLog.seq)))


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.ADMIN, "/dashboard"),
        (Role.BILLING, "/dashboard"),
        (Role.THERAPIST, "/my-sessions"),
        (Role.FRONT_DESK, "/front-desk"),
        (Role.CLIENT, "/my-account"),
    ],
)
def test_each_role_lands_on_its_page_and_it_renders(
    client: TestClient, world: World, role: Role, landing: str
) -> None:
    sign_in(client, world, role)
    home = client.get("/")
    assert home.status_code == 303
    assert home.headers["location"] == landing
    page = client.get(landing)
    assert page.status_code == 200, page.text
    assert world.own.practice.name in page.text


def test_navigation_shows_only_what_the_role_can_use(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.BILLING)
    billing = nav_keys(client.get("/dashboard").text)
    assert {"dashboard", "sessions", "claims", "payments", "work_queue", "reports", "insurance"} <= billing
    assert "settings" not in billing
    assert "audit" not in billing


def test_admin_sees_settings_and_audit(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.ADMIN)
    keys = nav_keys(client.get("/dashboard").text)
    assert {"settings", "audit"} <= keys
    settings = client.get("/settings")
    assert settings.status_code == 200
    assert world.own.practice.legal_name in settings.text
    assert world.users[Role.THERAPIST].email in settings.text


def test_client_sees_only_their_account(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.CLIENT)
    page = client.get("/my-account")
    assert nav_keys(page.text) == {"my_account"}
    assert "$20.00" in page.text  # the $20 moved to the patient in the world's ledger
    assert client.get("/dashboard").status_code == 403
    assert client.get("/claims").status_code == 403


def test_therapist_is_refused_billing_pages(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.THERAPIST)
    for path in ("/dashboard", "/reports", "/settings", "/audit", "/insurance", "/front-desk"):
        assert client.get(path).status_code == 403, path


def test_dashboard_counts_are_real_and_link_to_their_lists(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.BILLING)
    # The world's sessions are in March 2026; look at that month through the list it links to.
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert 'href="/work-queue?severity=warning"' in page.text
    assert "$150.00" in page.text  # A/R total: the $150 charge, part of it now the patient's
    listing = client.get("/sessions", params={"stage": "submitted", "month": "2026-03"})
    assert listing.status_code == 200
    assert listing.text.count("stage-badge stage-submitted") == 1


def test_dashboard_figures_follow_the_data(client: TestClient, world: World, db: Session) -> None:
    sign_in(client, world, Role.BILLING)
    before = client.get("/dashboard").text
    warning_tile = re.search(r'data-figure="work-warning">\s*<div class="rc-figure">(\d+)<', before)
    assert warning_tile is not None
    db.add(m.WorkItem(practice_id=world.own.practice.id, kind="alert", severity="warning", title="New"))
    db.flush()
    after = client.get("/dashboard").text
    again = re.search(r'data-figure="work-warning">\s*<div class="rc-figure">(\d+)<', after)
    assert again is not None
    assert int(again.group(1)) == int(warning_tile.group(1)) + 1


def test_sessions_list_filters_and_pages(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.BILLING)
    everything = client.get("/sessions")
    assert everything.status_code == 200
    assert world.own.client.display_name in everything.text
    assert world.other.client.display_name not in everything.text
    first = client.get("/sessions", params={"limit": 1})
    assert first.text.count('href="/sessions/') == 1
    assert "1–1 of 2" in first.text
    by_clinician = client.get("/sessions", params={"provider_id": world.own.provider.id})
    assert by_clinician.text.count('href="/sessions/') == 1


def test_therapist_sees_only_own_sessions_and_notes_pending(client: TestClient, world: World) -> None:
    assert world.therapist2_session is not None
    sign_in(client, world, Role.THERAPIST)
    page = client.get("/my-sessions")
    assert world.own.client.display_name in page.text
    assert world.therapist2_session.client.display_name not in page.text
    assert client.get(f"/sessions/{world.therapist2_session.id}").status_code == 404
    assert client.get(f"/sessions/{world.own.session.id}").status_code == 200


def test_session_and_claim_detail(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.BILLING)
    session_page = client.get(f"/sessions/{world.own.session.id}")
    assert session_page.status_code == 200
    assert "90837" in session_page.text
    assert world.own.claim.number in session_page.text
    claim_page = client.get(f"/claims/{world.own.claim.id}")
    assert claim_page.status_code == 200
    assert "$150.00" in claim_page.text  # what is still owed on the claim
    assert client.get(f"/claims/{world.other.claim.id}").status_code == 404
    assert client.get(f"/sessions/{world.other.session.id}").status_code == 404


def test_reports_trial_balance_balances(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.BILLING)
    page = client.get("/reports")
    assert page.status_code == 200
    debit = re.search(r'data-testid="total-debit">([^<]+)<', page.text)
    credit = re.search(r'data-testid="total-credit">([^<]+)<', page.text)
    assert debit
    assert credit
    assert debit.group(1) == credit.group(1) == "$150.00"
    assert "ar:patient" in page.text


def test_other_lists_render(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.ADMIN)
    for path in ("/claims", "/payments", "/work-queue", "/insurance", "/audit", "/front-desk"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text)
    assert world.own.payer.name in client.get("/insurance").text
    assert world.other.payer.name not in client.get("/insurance").text


def test_audit_page_filters(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.ADMIN)
    client.get(f"/sessions/{world.own.session.id}")
    admin_id = world.users[Role.ADMIN].id
    page = client.get("/audit", params={"user_id": admin_id, "action": "read", "entity": "session"})
    assert page.status_code == 200
    assert page.text.count("<tr><td>") >= 1
    none = client.get("/audit", params={"action": "read", "entity": "no-such-entity"})
    assert "No entries match." in none.text


def test_pages_showing_clients_write_one_audit_row_per_request(
    client: TestClient, world: World, db: Session
) -> None:
    sign_in(client, world, Role.BILLING)
    before = len(read_rows(db, world.own.practice.id))
    client.get("/sessions")
    rows = read_rows(db, world.own.practice.id)
    assert len(rows) == before + 1
    assert rows[-1].entity == "session"
    assert rows[-1].actor_user_id == world.users[Role.BILLING].id
    assert world.own.client.id in rows[-1].client_ids


def test_signed_out_pages_redirect_to_login(client: TestClient, world: World) -> None:
    for path in ("/", "/dashboard", "/sessions", f"/claims/{world.own.claim.id}"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login")


def test_shell_has_no_inline_script_or_style(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.ADMIN)
    for path in ("/dashboard", "/sessions", f"/claims/{world.own.claim.id}", "/audit"):
        html = client.get(path).text
        assert "style=" not in html, path
        # Scripts load from /static; a chart's data may sit in a JSON block (never executed).
        assert not re.search(r'<script(?![^>]*\b(?:src=|type="application/json"))[^>]*>', html), path
        assert "<style" not in html, path
        assert re.search(r'<meta name="csrf-token" content="[^"]+">', html)
        assert 'action="/logout"' in html


def test_stage_colours_in_app_css_are_generated_from_the_pipeline() -> None:
    css = (STATIC_DIR / "app.css").read_text()
    assert stage_css() in css, "regenerate the stage section of app.css from templating.stage_css()"
    for colour in STAGE_COLOURS.values():
        assert colour in css


def test_static_files_are_served(client: TestClient) -> None:
    for name in ("app.css", "app.js"):
        assert client.get(f"/static/{name}").status_code == 200
    assert Path(STATIC_DIR / "vendor" / "bootstrap.min.css").is_file()


def test_practice_switch_changes_the_current_practice(client: TestClient, world: World, db: Session) -> None:
    billing = world.users[Role.BILLING]
    db.add(m.Membership(user_id=billing.id, practice_id=world.other.practice.id, role="billing"))
    db.flush()
    sign_in(client, world, Role.BILLING)
    page = client.get("/dashboard")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert token
    switched = client.post(
        "/practice", data={"practice_id": world.other.practice.id, "csrf_token": token.group(1)}
    )
    assert switched.status_code == 303
    sessions = client.get("/sessions").text
    assert world.other.client.display_name in sessions
    assert world.own.client.display_name not in sessions
