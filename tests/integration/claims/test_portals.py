"""Insurance portals as a service and through the API: created and changed by an admin (audited),
listed with the payers they serve, never holding a password."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from revcycle.services import portals
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.claims.conftest import Office
from tests.integration.world import make_login_user


@pytest.fixture
def admin(office: Office) -> Office:
    user = make_login_user(office.db, office.practice, Role.ADMIN, name="director")
    office.user, office.actor = user, f.actor_for(office.db, user)
    return office


def _create(office: Office, **values: str) -> m.InsurancePortal:
    return portals.create_portal(
        office.db, actor=office.actor, practice_id=office.practice.id, values={"name": "Availity", **values}
    )


def test_a_portal_is_listed_with_the_payers_it_serves(admin: Office) -> None:
    portal = _create(admin, url="https://www.availity.com", vault_reference="1Password: Availity")
    admin.settings.portal_id = portal.id
    other = f.make_payer(admin.db, name="Cigna")
    admin.db.add(m.PracticePayer(practice_id=admin.practice.id, payer_id=other.id, portal_id=portal.id))
    _create(admin, name="Optum")
    admin.db.flush()
    rows = portals.list_portals(admin.db, actor=admin.actor, practice_id=admin.practice.id)
    assert [(r.portal.name, [name for _, name in r.payers]) for r in rows] == [
        ("Availity", ["Aetna", "Cigna"]),
        ("Optum", []),
    ]
    audit = admin.db.scalars(select(m.AuditLog).where(m.AuditLog.entity == "insurance_portal")).all()
    assert [a.action for a in audit] == ["create", "create"]


@pytest.mark.parametrize(
    "instructions",
    [
        "Password: Spring2026!",
        "user billing@clinic, pwd=hunter2",
        "the passcode is - 4471",
        "API key: abc123",
    ],
)
def test_login_instructions_that_hold_a_secret_are_refused(admin: Office, instructions: str) -> None:
    with pytest.raises(InvalidInput, match="login_instructions: looks like it holds a password"):
        _create(admin, login_instructions=instructions)
    assert admin.db.scalars(select(m.InsurancePortal)).all() == []


def test_login_instructions_without_a_secret_are_kept(admin: Office) -> None:
    text = "Sign in as the office; the password is in the vault. Reset the password yearly."
    portal = _create(admin, login_instructions=text, vault_reference="Bitwarden: Billing/Availity")
    assert portal.login_instructions == text


def test_there_is_nowhere_to_keep_a_password(admin: Office) -> None:
    columns = {column.key for column in inspect(m.InsurancePortal).columns}
    assert not {c for c in columns if "pass" in c or "secret" in c}
    with pytest.raises(InvalidInput, match="password: not a portal field"):
        _create(admin, password="hunter2")
    with pytest.raises(InvalidInput, match="vault_reference: looks like"):
        _create(admin, vault_reference="secret: hunter2")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://availity.com", "url: 'ftp://availity.com' is not an http or https address"),
        ("availity.com", "is not an http or https address"),
        ("https://", "is not an http or https address"),
        ("https://me:pw@availity.com", "must not carry a user name or password"),
    ],
)
def test_a_portal_address_is_http_or_https(admin: Office, url: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        _create(admin, url=url)


def test_changes_are_checked_and_audited_with_before_and_after(admin: Office) -> None:
    portal = _create(admin, url="https://availity.com")
    _create(admin, name="Optum")
    with pytest.raises(Conflict, match="already has a portal named 'Optum'"):
        portals.update_portal(admin.db, actor=admin.actor, portal_id=portal.id, changes={"name": "Optum"})
    with pytest.raises(InvalidInput, match="billing_route"):
        portals.update_portal(
            admin.db, actor=admin.actor, portal_id=portal.id, changes={"billing_route": "fax"}
        )
    portals.update_portal(
        admin.db, actor=admin.actor, portal_id=portal.id, changes={"billing_route": "simplepractice"}
    )
    update = admin.db.scalars(
        select(m.AuditLog).where(m.AuditLog.entity == "insurance_portal", m.AuditLog.action == "update")
    ).one()
    assert (update.before, update.after) == ({"billing_route": "portal"}, {"billing_route": "simplepractice"})


def test_only_an_admin_of_the_practice_manages_portals(office: Office, admin: Office, db: Session) -> None:
    billing = f.actor_for(db, f.make_user(db, admin.practice, Role.BILLING))
    with pytest.raises(PermissionDenied):
        portals.create_portal(db, actor=billing, practice_id=admin.practice.id, values={"name": "X"})
    portal = _create(admin)
    stranger = f.actor_for(db, f.make_user(db, f.make_practice(db), Role.ADMIN))
    with pytest.raises(NotFound):
        portals.update_portal(db, actor=stranger, portal_id=portal.id, changes={"name": "Mine"})
    with pytest.raises(NotFound):
        portals.create_portal(db, actor=stranger, practice_id=admin.practice.id, values={"name": "Mine"})


def test_the_portals_api(admin: Office, client: TestClient) -> None:
    headers = bearer(client, admin.user.email)
    created = client.post(
        "/api/portals",
        json={
            "name": "Availity",
            "url": "https://www.availity.com",
            "vault_reference": "1Password: Availity",
        },
        headers=headers,
    )
    assert created.status_code == 200, created.text
    portal_id = created.json()["id"]
    changed = client.post(f"/api/portals/{portal_id}", json={"billing_route": "paper"}, headers=headers)
    assert changed.json()["billing_route"] == "paper"
    listing = client.get("/api/portals", headers=headers).json()
    assert [(p["name"], p["vault_reference"]) for p in listing["items"]] == [
        ("Availity", "1Password: Availity")
    ]
    assert "password" not in listing["items"][0]
    refused = client.post("/api/portals", json={"name": "Optum", "password": "hunter2"}, headers=headers)
    assert refused.status_code == 422
    assert "password" in refused.json()["detail"]
    secret = client.post(
        "/api/portals", json={"name": "Optum", "login_instructions": "pwd: hunter2"}, headers=headers
    )
    assert secret.status_code == 422
    assert "login_instructions" in secret.json()["detail"]
    bad_url = client.post(f"/api/portals/{portal_id}", json={"url": "gopher://x"}, headers=headers)
    assert bad_url.status_code == 422
    assert "url" in bad_url.json()["detail"]
    assert client.post("/api/portals", json={"name": "Availity"}, headers=headers).status_code == 409
    assert client.post("/api/portals/999999", json={"name": "X"}, headers=headers).status_code == 404
