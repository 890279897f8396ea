"""Saved filters: each user's own, on the pages and through the API (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput
from revcycle.services import saved_filters
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.conftest import csrf_from, login
from tests.integration.world import PASSWORD, World, build_world


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


def test_service_keeps_known_fields_replaces_by_name_and_isolates_users(db: Session) -> None:
    practice = f.make_practice(db)
    alice = f.actor_for(db, f.make_user(db, practice, Role.BILLING))
    bob = f.actor_for(db, f.make_user(db, practice, Role.BILLING))
    first = saved_filters.save_filter(
        db,
        actor=alice,
        practice_id=practice.id,
        page="claims",
        name="Denied Aetna",
        query={"status": "denied", "offset": "50", "evil": "x", "payer_id": 3},
    )
    assert first.query == {"status": "denied", "payer_id": "3"}
    again = saved_filters.save_filter(
        db, actor=alice, practice_id=practice.id, page="claims", name="Denied Aetna", query={"status": "paid"}
    )
    assert again.id == first.id
    assert again.query == {"status": "paid"}
    assert [r.name for r in saved_filters.list_filters(db, actor=alice, practice_id=practice.id)] == [
        "Denied Aetna"
    ]
    assert saved_filters.list_filters(db, actor=bob, practice_id=practice.id) == []
    with pytest.raises(Conflict):
        saved_filters.delete_filter(db, actor=bob, filter_id=first.id)
    with pytest.raises(InvalidInput, match="name: give the filter a name"):
        saved_filters.save_filter(db, actor=alice, practice_id=practice.id, page="claims", name=" ", query={})
    with pytest.raises(InvalidInput, match="page:"):
        saved_filters.save_filter(
            db, actor=alice, practice_id=practice.id, page="payments", name="x", query={}
        )
    saved_filters.delete_filter(db, actor=alice, filter_id=first.id)
    assert db.get(m.SavedFilter, first.id) is None


def _sign_in(client: TestClient, user: m.User) -> str:
    assert login(client, user.email, PASSWORD).status_code == 303
    return csrf_from(client.get("/claims").text)


def test_pages_save_show_and_delete_only_the_users_own(client: TestClient, world: World, db: Session) -> None:
    billing, admin = world.users[Role.BILLING], world.users[Role.ADMIN]
    csrf = _sign_in(client, billing)
    saved = client.post(
        "/saved-filters",
        data={
            "csrf_token": csrf,
            "page": "claims",
            "name": "Old denials",
            "status": "denied",
            "since": "2026-01-01",
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"].startswith("/claims?")
    assert "status=denied" in saved.headers["location"]
    page = client.get("/claims").text
    assert 'data-saved-filter="Old denials"' in page
    link = re.search(r'href="/claims\?([^"]+)" data-saved-filter="Old denials"', page)
    assert link is not None
    assert sorted(link.group(1).split("&amp;")) == ["since=2026-01-01", "status=denied"]
    unnamed = client.post("/saved-filters", data={"csrf_token": csrf, "page": "sessions", "name": ""})
    assert unnamed.status_code == 422
    assert "name: give the filter a name" in unnamed.text
    row = db.scalars(select(m.SavedFilter).where(m.SavedFilter.user_id == billing.id)).one()

    client.post("/logout", data={"csrf_token": csrf})
    csrf = _sign_in(client, admin)
    assert 'data-saved-filter="Old denials"' not in client.get("/claims").text
    refused = client.post(f"/saved-filters/{row.id}/delete", data={"csrf_token": csrf})
    assert refused.status_code == 409
    assert db.get(m.SavedFilter, row.id) is not None


def test_api_lists_saves_and_deletes_own_filters(client: TestClient, world: World, db: Session) -> None:
    billing = bearer(client, world.users[Role.BILLING].email)
    admin = bearer(client, world.users[Role.ADMIN].email)
    made = client.post(
        "/api/saved-filters",
        headers=billing,
        json={"page": "sessions", "name": "Needs review", "query": {"stage": "needs_review"}},
    )
    assert made.status_code == 200, made.text
    body = made.json()
    assert body["url"] == "/sessions?stage=needs_review"
    mine = client.get("/api/saved-filters", headers=billing).json()
    assert [item["name"] for item in mine["items"]] == ["Needs review"]
    theirs = client.get("/api/saved-filters", headers=admin).json()
    assert "Needs review" not in [item["name"] for item in theirs["items"]]
    assert client.post(f"/api/saved-filters/{body['id']}/delete", headers=admin).status_code == 409
    bad = client.post("/api/saved-filters", headers=billing, json={"page": "nowhere", "name": "x"})
    assert bad.status_code == 422
    assert bad.json()["error"] == "invalid"
    gone = client.post(f"/api/saved-filters/{body['id']}/delete", headers=billing)
    assert gone.json() == {"id": body["id"], "deleted": True}
    other = client.get(f"/api/saved-filters?practice_id={world.other.practice.id}", headers=billing)
    assert other.status_code == 404
