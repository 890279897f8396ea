"""The insurance page: payers with route, portal and limits, portals with the payers they serve;
an admin's forms (add and change a portal, change a payer's settings) with CSRF, refusals shown
on the page, never a password stored."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from tests.integration.conftest import login, session_csrf
from tests.integration.world import PASSWORD, World, build_world


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


def signed_in(client: TestClient, world: World, role: Role) -> str:
    assert login(client, world.users[role].email, PASSWORD).status_code == 303
    return session_csrf(client, "/insurance" if role != Role.THERAPIST else "/account/password")


def _settings(db: Session, world: World) -> m.PracticePayer:
    return db.scalars(
        select(m.PracticePayer).where(
            m.PracticePayer.practice_id == world.own.practice.id,
            m.PracticePayer.payer_id == world.own.payer.id,
        )
    ).one()


def test_the_page_shows_payers_and_portals_of_the_practice_only(
    client: TestClient, world: World, db: Session
) -> None:
    assert world.own.portal is not None
    _settings(db, world).portal_id = world.own.portal.id
    world.own.portal.vault_reference = "1Password: Billing/Portal"
    db.flush()
    signed_in(client, world, Role.BILLING)
    page = client.get("/insurance")
    assert page.status_code == 200
    payer_row = re.search(rf'<tr id="payer-{world.own.payer.id}".*?</tr>', page.text, re.S)
    assert payer_row is not None
    assert "Clearinghouse" in payer_row.group(0)
    assert f"Portal {world.own.practice.id}" in payer_row.group(0)
    assert "90 days" in payer_row.group(0)
    portal_row = re.search(rf'<tr id="portal-{world.own.portal.id}".*?</tr>', page.text, re.S)
    assert portal_row is not None
    assert 'href="https://portal.example.test"' in portal_row.group(0)
    assert world.own.payer.name in portal_row.group(0)  # the payer it serves
    assert "1Password: Billing/Portal" in portal_row.group(0)
    assert world.other.payer.name not in page.text
    assert f"Portal {world.other.practice.id}" not in page.text
    assert 'action="/insurance/portals"' not in page.text  # billing sees no admin forms


def test_an_admin_adds_and_changes_a_portal(client: TestClient, world: World, db: Session) -> None:
    token = signed_in(client, world, Role.ADMIN)
    form = {
        "csrf_token": token,
        "name": "Availity",
        "url": "https://www.availity.com",
        "billing_route": "portal",
        "login_instructions": "Office account; second factor on the front desk phone",
        "vault_reference": "1Password: Availity",
    }
    added = client.post("/insurance/portals", data=form)
    assert added.status_code == 303, added.text
    assert added.headers["location"].startswith("/insurance?saved=portal_added")
    portal = db.scalars(
        select(m.InsurancePortal).where(
            m.InsurancePortal.practice_id == world.own.practice.id, m.InsurancePortal.name == "Availity"
        )
    ).one()
    assert portal.vault_reference == "1Password: Availity"
    page = client.get(added.headers["location"])
    assert "Portal added." in page.text
    changed = client.post(
        f"/insurance/portals/{portal.id}", data={**form, "url": "https://apps.availity.com"}
    )
    assert changed.status_code == 303
    db.refresh(portal)
    assert portal.url == "https://apps.availity.com"
    audit = db.scalars(
        select(m.AuditLog).where(m.AuditLog.entity == "insurance_portal", m.AuditLog.action == "update")
    ).one()
    assert audit.after == {"url": "https://apps.availity.com"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("login_instructions", "user billing, password: Spring2026!", "login_instructions: looks like"),
        ("url", "javascript:alert(1)", "url: "),
        ("url", "https://billing:hunter2@availity.com", "url: must not carry"),
        ("billing_route", "fax", "billing_route: "),
        ("name", "", "name: "),
    ],
)
def test_a_refused_portal_form_shows_why_and_stores_nothing(
    client: TestClient, world: World, db: Session, field: str, value: str, message: str
) -> None:
    token = signed_in(client, world, Role.ADMIN)
    form = {"csrf_token": token, "name": "Optum", "url": "https://provider.optum.com", field: value}
    response = client.post("/insurance/portals", data=form)
    assert response.status_code == 422
    assert 'data-testid="insurance-error"' in response.text
    assert message in response.text
    assert db.scalars(
        select(m.InsurancePortal).where(m.InsurancePortal.practice_id == world.own.practice.id)
    ).all() == [world.own.portal]
    assert "Spring2026!" not in str(
        db.scalars(select(m.AuditLog.after).where(m.AuditLog.practice_id == world.own.practice.id)).all()
    )


def test_a_duplicate_portal_name_is_refused_on_the_page(client: TestClient, world: World) -> None:
    token = signed_in(client, world, Role.ADMIN)
    name = f"Portal {world.own.practice.id}"
    response = client.post("/insurance/portals", data={"csrf_token": token, "name": name})
    assert response.status_code == 409
    assert "already has a portal named" in response.text


def test_an_admin_changes_a_payers_route_portal_and_limits(
    client: TestClient, world: World, db: Session
) -> None:
    assert world.own.portal is not None
    token = signed_in(client, world, Role.ADMIN)
    form = {
        "csrf_token": token,
        "billing_route": "portal",
        "portal_id": str(world.own.portal.id),
        "timely_filing_days": "180",
        "appeal_days": "60",
        "requires_prior_auth": "1",
        "supervised_billing": "supervisor",
    }
    response = client.post(f"/insurance/payers/{world.own.payer.id}", data=form)
    assert response.status_code == 303, response.text
    settings = _settings(db, world)
    db.refresh(settings)
    assert (settings.billing_route, settings.portal_id) == ("portal", world.own.portal.id)
    assert (settings.timely_filing_days, settings.appeal_days) == (180, 60)
    assert settings.requires_prior_auth is True
    assert settings.supervised_billing == "supervisor"
    page = client.get(response.headers["location"]).text
    assert "Payer settings saved." in page
    assert "Under the supervisor" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timely_filing_days", "ninety", "timely_filing_days: a whole number"),
        ("appeal_days", "0", "appeal_days: a whole number of days from 1"),
        ("billing_route", "fax", "billing_route: "),
        ("supervised_billing", "always", "supervised_billing: "),
        ("portal_id", "999999", "portal_id: the practice has no portal"),
        ("portal_id", "first", "portal_id: choose a portal"),
    ],
)
def test_a_refused_payer_form_shows_why_and_changes_nothing(
    client: TestClient, world: World, db: Session, field: str, value: str, message: str
) -> None:
    token = signed_in(client, world, Role.ADMIN)
    form = {
        "csrf_token": token,
        "billing_route": "paper",
        "timely_filing_days": "365",
        "appeal_days": "90",
        "supervised_billing": "not_allowed",
        field: value,
    }
    response = client.post(f"/insurance/payers/{world.own.payer.id}", data=form)
    assert response.status_code == 422
    assert message in response.text
    settings = _settings(db, world)
    db.refresh(settings)
    assert (settings.billing_route, settings.timely_filing_days) == ("clearinghouse", 90)


def test_only_an_admin_may_change_and_only_their_own_practice(client: TestClient, world: World) -> None:
    token = signed_in(client, world, Role.BILLING)
    form = {"csrf_token": token, "billing_route": "paper", "timely_filing_days": "90", "appeal_days": "90"}
    assert client.post(f"/insurance/payers/{world.own.payer.id}", data=form).status_code == 403
    assert client.post("/insurance/portals", data={"csrf_token": token, "name": "X"}).status_code == 403
    client.cookies.clear()
    token = signed_in(client, world, Role.ADMIN)
    assert world.other.portal is not None
    other_portal = client.post(
        f"/insurance/portals/{world.other.portal.id}", data={"csrf_token": token, "name": "Y"}
    )
    assert other_portal.status_code == 404
    other_payer = client.post(f"/insurance/payers/{world.other.payer.id}", data={**form, "csrf_token": token})
    assert other_payer.status_code == 404
    without_token = client.post("/insurance/portals", data={"name": "Z"})
    assert without_token.status_code == 403
