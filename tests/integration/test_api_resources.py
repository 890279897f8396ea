"""The read API: lists with paging and totals, details, scoping, 404 across practices,
audit rows for client reads, the health check and the published OpenAPI document."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from revcycle.config import Settings
from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.web.app import create_app
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.world import World, build_world


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


def headers_for(client: TestClient, world: World, role: Role) -> dict[str, str]:
    return bearer(client, world.users[role].email)


def test_list_pages_with_limit_offset_and_total(client: TestClient, world: World, db: Session) -> None:
    practice = world.own.practice
    for _ in range(3):
        f.make_client(db, practice)
    headers = headers_for(client, world, Role.BILLING)
    everyone = client.get("/api/clients", headers=headers).json()
    total = everyone["total"]
    assert total == len(everyone["items"]) == 5  # the world's two clients and three more
    first = client.get("/api/clients", params={"limit": 2}, headers=headers).json()
    second = client.get("/api/clients", params={"limit": 2, "offset": 2}, headers=headers).json()
    last = client.get("/api/clients", params={"limit": 2, "offset": 4}, headers=headers).json()
    assert first["total"] == second["total"] == last["total"] == total
    assert [len(page["items"]) for page in (first, second, last)] == [2, 2, 1]
    ids = [c["id"] for page in (first, second, last) for c in page["items"]]
    assert sorted(ids) == sorted(c["id"] for c in everyone["items"])


@pytest.mark.parametrize("limit", [0, 501])
def test_limit_is_bounded(client: TestClient, world: World, limit: int) -> None:
    response = client.get(
        "/api/sessions", params={"limit": limit}, headers=headers_for(client, world, Role.BILLING)
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid"


def test_sessions_carry_their_derived_stage(client: TestClient, world: World) -> None:
    body = client.get("/api/sessions", headers=headers_for(client, world, Role.BILLING)).json()
    stages = {item["id"]: item["stage"] for item in body["items"]}
    assert stages[world.own.session.id] == "submitted"
    assert world.therapist2_session is not None
    assert stages[world.therapist2_session.id] == "completed"  # held, note still a draft
    only = client.get(
        "/api/sessions", params={"stage": "submitted"}, headers=headers_for(client, world, Role.BILLING)
    ).json()
    assert [item["id"] for item in only["items"]] == [world.own.session.id]
    assert only["total"] == 1


def test_therapist_sees_only_own_sessions(client: TestClient, world: World) -> None:
    assert world.therapist2_session is not None
    headers = headers_for(client, world, Role.THERAPIST)
    body = client.get("/api/sessions", headers=headers).json()
    assert [item["id"] for item in body["items"]] == [world.own.session.id]
    assert body["total"] == 1
    other = client.get(f"/api/sessions/{world.therapist2_session.id}", headers=headers)
    assert other.status_code == 404
    clients = client.get("/api/clients", headers=headers).json()
    assert [c["id"] for c in clients["items"]] == [world.own.client.id]


def test_client_sees_only_their_own_record(client: TestClient, world: World) -> None:
    headers = headers_for(client, world, Role.CLIENT)
    sessions = client.get("/api/sessions", headers=headers).json()
    assert [item["id"] for item in sessions["items"]] == [world.own.session.id]
    assert client.get("/api/claims", headers=headers).status_code == 403


def test_another_practices_ids_answer_404(client: TestClient, world: World) -> None:
    headers = headers_for(client, world, Role.ADMIN)
    for path in (
        f"/api/sessions/{world.other.session.id}",
        f"/api/clients/{world.other.client.id}",
        f"/api/claims/{world.other.claim.id}",
        f"/api/providers/{world.other.provider.id}",
        f"/api/payers/{world.other.payer.id}",
        f"/api/sessions?practice_id={world.other.practice.id}",
        "/api/sessions/999999999",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"


def test_lists_never_include_another_practice(client: TestClient, world: World) -> None:
    headers = headers_for(client, world, Role.ADMIN)
    for path, key in (
        ("/api/sessions", "client_id"),
        ("/api/claims", "client_id"),
        ("/api/payments", "client_id"),
        ("/api/work-items", "client_id"),
        ("/api/clients", "id"),
    ):
        items = client.get(path, headers=headers).json()["items"]
        assert items, path
        assert world.other.client.id not in {item[key] for item in items}, path


def test_claim_detail_has_lines_events_and_balance(client: TestClient, world: World) -> None:
    body = client.get(
        f"/api/claims/{world.own.claim.id}", headers=headers_for(client, world, Role.BILLING)
    ).json()
    assert body["number"] == world.own.claim.number
    assert [line["procedure_code"] for line in body["lines"]] == ["90837"]
    assert [event["to_status"] for event in body["events"]] == ["submitted"]
    assert body["balance_cents"] == 15000
    assert body["balances"] == {"ar:insurance": 13000, "ar:patient": 2000, "revenue": -15000}


def test_session_detail_has_charges_and_claims(client: TestClient, world: World) -> None:
    body = client.get(
        f"/api/sessions/{world.own.session.id}", headers=headers_for(client, world, Role.BILLING)
    ).json()
    assert body["stage"] == "submitted"
    assert body["patient_balance_cents"] == 2000
    assert [c["procedure_code"] for c in body["charges"]] == ["90837"]
    assert [c["number"] for c in body["claims"]] == [world.own.claim.number]


def test_payers_show_practice_settings(client: TestClient, world: World) -> None:
    headers = headers_for(client, world, Role.FRONT_DESK)
    body = client.get("/api/payers", headers=headers).json()
    assert [item["id"] for item in body["items"]] == [world.own.payer.id]
    assert body["items"][0]["settings"]["billing_route"] == "clearinghouse"
    detail = client.get(f"/api/payers/{world.own.payer.id}", headers=headers).json()
    assert [p["practice_id"] for p in detail["practices"]] == [world.own.practice.id]


def test_client_reads_write_one_audit_row_per_request(client: TestClient, world: World, db: Session) -> None:
    headers = headers_for(client, world, Role.BILLING)
    practice_id = world.own.practice.id

    def reads() -> list[m.AuditLog]:
        query = select(m.AuditLog).where(m.AuditLog.practice_id == practice_id, m.AuditLog.action == "read")
        return list(db.scalars(query.order_by(m.AuditLog.seq)))

    before = len(reads())
    client.get("/api/sessions", headers=headers)
    client.get(f"/api/clients/{world.own.client.id}", headers=headers)
    client.get("/api/providers", headers=headers)  # no client record: no row
    rows = reads()
    assert len(rows) == before + 2
    assert rows[-2].entity == "session"
    assert world.own.client.id in rows[-2].client_ids
    assert rows[-1].entity == "client"
    assert rows[-1].client_ids == [world.own.client.id]
    assert rows[-1].actor_user_id == world.users[Role.BILLING].id


def test_audit_log_is_for_admins(client: TestClient, world: World) -> None:
    admin = headers_for(client, world, Role.ADMIN)
    client.get("/api/sessions", headers=admin)
    body = client.get("/api/audit-log", params={"action": "read"}, headers=admin).json()
    assert body["total"] >= 1
    assert {item["action"] for item in body["items"]} == {"read"}
    billing = headers_for(client, world, Role.BILLING)
    assert client.get("/api/audit-log", headers=billing).status_code == 403


def test_api_needs_a_token(client: TestClient, world: World) -> None:
    response = client.get("/api/sessions")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(app_settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'revcycle.db'}")
    app = create_app(app_settings, session_factory=sessionmaker(bind=engine))
    with TestClient(app) as test_client:
        response = test_client.get("/healthz")
    engine.dispose()
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_openapi_publishes_the_resources_and_their_permissions(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert spec["paths"]["/api/sessions"]["get"]["x-permission"] == "view_sessions"
    assert "/api/claims/{claim_id}" in spec["paths"]
    assert "ClaimDetailOut" in spec["components"]["schemas"]
