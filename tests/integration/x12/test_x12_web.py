"""The X12 files API and page: a written batch downloaded, its 999 uploaded through the page and
the API (applied, then "duplicate"), a broken file refused naming where, the batch button, and
who may do any of it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services import x12_batches
from revcycle.x12.ack999 import write_999
from revcycle.x12.envelope import read_interchanges
from tests.integration.api_routes import bearer
from tests.integration.claims.conftest import Office, office
from tests.integration.conftest import csrf_from, login
from tests.integration.world import make_login_user, password_hash
from tests.integration.x12.test_batches import _claims, practice_routed
from tests.integration.x12.test_ingest import SENT_AT

__all__ = ["office", "practice_routed"]


@dataclass
class Web:
    office: Office
    client: TestClient
    billing: dict[str, str]
    therapist: dict[str, str]
    therapist_email: str


@pytest.fixture
def web(practice_routed: Office, client: TestClient, db: Session) -> Web:
    office = practice_routed
    office.user.password_hash = password_hash()
    therapist = make_login_user(db, office.practice, Role.THERAPIST, name="x12-therapist")
    return Web(
        office,
        client,
        bearer(client, office.user.email),
        bearer(client, therapist.email),
        therapist.email,
    )


def _written(office: Office) -> x12_batches.WrittenBatch:
    claims = _claims(office)
    return x12_batches.write_batch(
        office.db, actor=office.actor, practice_id=office.practice.id, claim_ids=[c.id for c in claims]
    )


def _ack(text: str) -> bytes:
    return write_999(
        read_interchanges(text)[0],
        interchange_control_number="000000501",
        group_control_number="501",
        sent_at=SENT_AT,
    ).encode()


def _statuses(office: Office, claim_ids: tuple[int, ...]) -> set[str]:
    office.db.expire_all()
    return set(office.db.scalars(select(m.Claim.status).where(m.Claim.id.in_(claim_ids))))


def test_api_uploads_a_999_once_then_answers_duplicate(web: Web) -> None:
    written = _written(web.office)
    files = {"file": ("ack.999", _ack(written.text), "text/plain")}
    response = web.client.post("/api/x12/files", files=files, headers=web.billing)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["kind"]) == ("applied", "999")
    assert len(body["summary"]["acknowledged"]) == 3
    assert _statuses(web.office, written.claim_ids) == {"acknowledged"}

    again = web.client.post("/api/x12/files", files=files, headers=web.billing)
    assert again.status_code == 200
    assert (again.json()["status"], again.json()["inbound_file_id"]) == ("duplicate", body["inbound_file_id"])

    listed = web.client.get("/api/x12/files", headers=web.billing).json()
    assert listed["total"] == 1
    [row] = listed["items"]
    assert (row["kind"], row["filename"], row["status"]) == ("999", "ack.999", "applied")
    assert row["summary"]["acknowledged"] == 3
    batches = web.client.get("/api/x12/batches", headers=web.billing).json()
    [batch] = batches["items"]
    assert (batch["id"], batch["claim_count"], batch["status"]) == (written.batch_id, 3, "accepted")
    assert batch["interchange_control_number"] == f"{written.interchange_control_number:09d}"


def test_a_broken_file_is_refused_naming_where_and_nothing_is_stored(web: Web) -> None:
    written = _written(web.office)
    broken = _ack(written.text).replace(b"AK1*HC*", b"AK1*HC*X", 1)
    truncated = _ack(written.text)[:-30]
    for data in (truncated, broken):
        response = web.client.post(
            "/api/x12/files", files={"file": ("bad.999", data, "text/plain")}, headers=web.billing
        )
        assert response.status_code == 422, response.text
        assert "bad.999" in response.json()["detail"]
    truncated_reply = web.client.post(
        "/api/x12/files", files={"file": ("bad.999", truncated, "text/plain")}, headers=web.billing
    )
    assert "segment" in truncated_reply.json()["detail"].lower()
    assert web.office.db.scalar(select(func.count()).select_from(m.X12InboundFile)) == 0
    assert _statuses(web.office, written.claim_ids) == {"submitted"}

    checked = web.client.post(
        "/api/x12/validate", files={"file": ("ok.837", written.text.encode())}, headers=web.billing
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["transaction_sets"] == {"837 (005010X222A1)": 1}
    refused = web.client.post(
        "/api/x12/validate", files={"file": ("bad.999", truncated)}, headers=web.billing
    )
    assert refused.status_code == 422


def test_the_batch_is_written_by_the_api_and_downloaded_audited(web: Web) -> None:
    claims = _claims(web.office)
    response = web.client.post("/api/x12/batches", json={}, headers=web.billing)
    assert response.status_code == 200, response.text
    body = response.json()
    assert sorted(body["claim_numbers"]) == sorted(c.number for c in claims)
    again = web.client.post("/api/x12/batches", json={}, headers=web.billing)
    assert again.status_code == 409

    download = web.client.get(body["file_url"], headers=web.billing)
    assert download.status_code == 200
    assert download.content.startswith(b"ISA*")
    assert body["filename"] in download.headers["content-disposition"]
    reads = web.office.db.scalar(
        select(func.count()).select_from(m.AuditLog).where(m.AuditLog.entity == "x12_batch_file")
    )
    assert reads == 1


def test_the_page_writes_a_batch_and_applies_its_999(web: Web) -> None:
    claims = _claims(web.office)
    assert login(web.client, web.office.user.email).status_code == 303
    page = web.client.get("/x12")
    assert page.status_code == 200
    assert 'href="/x12"' in page.text
    token = csrf_from(page.text)

    wrote = web.client.post("/x12/batches", data={"csrf_token": token})
    assert wrote.status_code == 200, wrote.text
    assert "3 claims written" in wrote.text
    batch = web.office.db.scalars(select(m.SubmissionBatch)).one()
    assert f"/api/x12/batches/{batch.id}/file" in wrote.text
    nothing = web.client.post("/x12/batches", data={"csrf_token": token})
    assert nothing.status_code == 409
    assert "no ready claim" in nothing.text

    text = web.client.get(f"/api/x12/batches/{batch.id}/file").text
    ack = _ack(text)
    applied = web.client.post("/x12/files", data={"csrf_token": token}, files={"file": ("ack.999", ack)})
    assert applied.status_code == 200, applied.text
    assert "ack.999 applied" in applied.text
    assert claims[0].number in applied.text
    assert _statuses(web.office, tuple(c.id for c in claims)) == {"acknowledged"}
    duplicate = web.client.post("/x12/files", data={"csrf_token": token}, files={"file": ("ack.999", ack)})
    assert "was received before" in duplicate.text

    broken = web.client.post("/x12/files", data={"csrf_token": token}, files={"file": ("bad.999", ack[:-30])})
    assert broken.status_code == 422
    assert "bad.999 was not applied" in broken.text
    assert "segment" in broken.text.lower()
    no_token = web.client.post("/x12/files", files={"file": ("ack.999", ack)})
    assert no_token.status_code == 403


def test_a_therapist_may_not_and_does_not_see_the_page(web: Web) -> None:
    written = _written(web.office)
    files = {"file": ("ack.999", _ack(written.text), "text/plain")}
    assert web.client.post("/api/x12/files", files=files, headers=web.therapist).status_code == 403
    assert web.client.get("/api/x12/files", headers=web.therapist).status_code == 403
    assert web.client.get("/api/x12/batches", headers=web.therapist).status_code == 403
    assert (
        web.client.get(f"/api/x12/batches/{written.batch_id}/file", headers=web.therapist).status_code == 403
    )
    assert web.client.post("/api/x12/batches", json={}, headers=web.therapist).status_code == 403
    assert web.client.get("/api/x12/files").status_code == 401

    assert login(web.client, web.therapist_email).status_code == 303
    landing = web.client.get("/my-sessions")
    assert landing.status_code == 200
    assert 'href="/x12"' not in landing.text
    assert web.client.get("/x12").status_code == 403
