"""Saved column mappings: listed with who saved them and when, fetched by name, saved (created
or replaced, audited) and guessed from an uploaded header — through the service and the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.adapters.csv import ImportFormat
from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import InvalidInput, NotFound, PermissionDenied
from revcycle.services.imports import batches
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.imports.conftest import Desk
from tests.integration.world import make_login_user

ATTENDANCE = {
    "date_of_service": "Visit Date",
    "client_name": "Patient",
    "clinician_name": "Therapist",
    "appointment_status": "Attended",
}
HEADER = b"Visit Date,Patient,Therapist,Attended,Room\n"


def _save(desk: Desk, name: str = "Clinic visits", columns: dict[str, str] | None = None) -> m.ColumnMapping:
    return batches.save_mapping(
        desk.db,
        actor=desk.actor,
        practice_id=desk.practice.id,
        name=name,
        target=ImportFormat.ATTENDANCE,
        columns=columns or ATTENDANCE,
    )


def _audit_rows(desk: Desk, mapping: m.ColumnMapping) -> list[m.AuditLog]:
    return list(
        desk.db.scalars(
            select(m.AuditLog)
            .where(m.AuditLog.entity == "column_mapping", m.AuditLog.entity_id == str(mapping.id))
            .order_by(m.AuditLog.seq)
        )
    )


def test_a_practices_mappings_are_listed_with_who_saved_them_and_when(desk: Desk, db: Session) -> None:
    _save(desk, "Zeta export")
    _save(desk, "Alpha export")
    other = f.make_practice(db)
    batches.save_mapping(
        db,
        actor=f.actor_for(db, f.make_user(db, other, Role.BILLING)),
        practice_id=other.id,
        name="Not yours",
        target=ImportFormat.ATTENDANCE,
        columns=ATTENDANCE,
    )

    listed = batches.list_mappings(desk.db, actor=desk.actor)

    assert [saved.name for saved in listed] == ["Alpha export", "Zeta export"]
    first = listed[0]
    assert (first.practice_id, first.target, first.columns) == (desk.practice.id, "attendance", ATTENDANCE)
    assert first.saved_by_user_id == desk.user.id
    assert first.saved_by == desk.user.full_name
    assert first.saved_at is not None


def test_replacing_a_mapping_keeps_one_row_records_the_replacer_and_audits_both(
    desk: Desk, db: Session
) -> None:
    first = _save(desk)
    colleague = f.make_user(db, desk.practice, Role.BILLING)
    replaced = batches.save_mapping(
        db,
        actor=f.actor_for(db, colleague),
        practice_id=desk.practice.id,
        name="Clinic visits",
        target=ImportFormat.ATTENDANCE,
        columns={**ATTENDANCE, "location": "Room"},
    )

    assert replaced.id == first.id
    found = batches.find_mapping(desk.db, actor=desk.actor, name="Clinic visits")
    assert found.columns["location"] == "Room"
    assert found.saved_by_user_id == colleague.id
    create, update = _audit_rows(desk, replaced)
    assert (create.action, update.action) == ("create", "update")
    assert update.before is not None
    assert update.before["columns"] == ATTENDANCE
    assert update.actor_user_id == colleague.id


def test_finding_a_mapping_by_name_is_scoped_to_the_actors_practices(desk: Desk, db: Session) -> None:
    other = f.make_practice(db)
    other_desk = f.actor_for(db, f.make_user(db, other, Role.BILLING))
    batches.save_mapping(
        db,
        actor=other_desk,
        practice_id=other.id,
        name="Theirs",
        target=ImportFormat.ATTENDANCE,
        columns=ATTENDANCE,
    )
    with pytest.raises(NotFound):
        batches.find_mapping(desk.db, actor=desk.actor, name="Theirs")
    with pytest.raises(NotFound):
        batches.find_mapping(desk.db, actor=desk.actor, name="Theirs", practice_id=other.id)
    _save(desk, "Ours")
    therapist = f.actor_for(db, f.make_user(db, desk.practice, Role.THERAPIST))
    with pytest.raises(PermissionDenied):
        batches.find_mapping(db, actor=therapist, name="Ours")
    with pytest.raises(PermissionDenied):
        batches.list_mappings(db, actor=therapist)


def test_the_suggestion_guesses_from_the_header_alone_and_names_the_saved_mappings_that_fit(
    desk: Desk,
) -> None:
    _save(desk, "Clinic visits")
    _save(desk, "Another source", {**ATTENDANCE, "client_name": "Client"})

    found = batches.mapping_suggestion(
        desk.db, actor=desk.actor, data=HEADER, filename="visits.csv", target=ImportFormat.ATTENDANCE
    )

    assert found.header == ["Visit Date", "Patient", "Therapist", "Attended", "Room"]
    (guess,) = found.guesses
    assert guess.target is ImportFormat.ATTENDANCE
    assert guess.columns["client_name"] == "Patient"
    assert [saved.name for saved in found.saved] == ["Clinic visits"]
    every = batches.mapping_suggestion(desk.db, actor=desk.actor, data=HEADER)
    assert len(every.guesses) > 1
    with pytest.raises(InvalidInput, match="not a format a mapping can read"):
        batches.mapping_suggestion(desk.db, actor=desk.actor, data=HEADER, target=ImportFormat.MAPPING)


# --- the API ------------------------------------------------------------------------------------


@pytest.fixture
def billing(client: TestClient, db: Session) -> tuple[m.Practice, m.User, dict[str, str]]:
    practice = f.make_practice(db)
    user = make_login_user(db, practice, Role.BILLING, name="mapping-desk")
    return practice, user, bearer(client, user.email)


def test_save_list_get_and_replace_a_mapping_through_the_api(
    client: TestClient, billing, db: Session
) -> None:  # type: ignore[no-untyped-def]
    practice, user, headers = billing
    body = {"name": "Clinic visits / weekly", "target": "attendance", "columns": ATTENDANCE}

    saved = client.post("/api/import-mappings", headers=headers, json=body)

    assert saved.status_code == 200, saved.text
    assert saved.json()["name"] == "Clinic visits / weekly"
    assert saved.json()["saved_by_user_id"] == user.id
    assert saved.json()["columns"] == ATTENDANCE
    listed = client.get("/api/import-mappings", headers=headers).json()
    assert listed["total"] == 1
    assert listed["items"][0]["target"] == "attendance"
    one = client.get("/api/import-mappings/Clinic visits / weekly", headers=headers)
    assert one.status_code == 200, one.text
    assert one.json()["id"] == saved.json()["id"]

    body["columns"] = {**ATTENDANCE, "location": "Room"}
    replaced = client.post(f"/api/import-mappings?practice_id={practice.id}", headers=headers, json=body)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["id"] == saved.json()["id"]
    assert replaced.json()["columns"]["location"] == "Room"
    actions = db.scalars(
        select(m.AuditLog.action)
        .where(m.AuditLog.entity == "column_mapping", m.AuditLog.entity_id == str(saved.json()["id"]))
        .order_by(m.AuditLog.seq)
    ).all()
    assert actions == ["create", "update"]
    assert client.get("/api/import-mappings/Nothing like it", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"name": "x", "target": "auto", "columns": ATTENDANCE}, "target: name the format"),
        ({"name": "x", "target": "excel", "columns": ATTENDANCE}, "'excel' is not one of"),
        (
            {"name": "x", "target": "attendance", "columns": {"client_name": "Patient"}},
            "say which column holds",
        ),
        (
            {"name": "x", "target": "attendance", "columns": {**ATTENDANCE, "colour": "C"}},
            "has no field colour",
        ),
        ({"name": " ", "target": "attendance", "columns": ATTENDANCE}, "mapping name"),
    ],
)
def test_a_bad_mapping_answers_422_and_saves_nothing(  # type: ignore[no-untyped-def]
    client: TestClient, billing, db: Session, body: dict[str, object], expected: str
) -> None:
    _practice, _user, headers = billing
    answer = client.post("/api/import-mappings", headers=headers, json=body)
    assert answer.status_code == 422, answer.text
    assert expected in answer.json()["detail"]
    assert client.get("/api/import-mappings", headers=headers).json()["total"] == 0


def test_the_suggest_route_guesses_a_mapping_for_an_uploaded_header(client: TestClient, billing) -> None:  # type: ignore[no-untyped-def]
    _practice, _user, headers = billing
    answer = client.post(
        "/api/import-mappings/suggest",
        headers=headers,
        data={"target": "attendance"},
        files={"file": ("visits.csv", HEADER, "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["header"][:2] == ["Visit Date", "Patient"]
    (guess,) = found["guesses"]
    assert guess["target"] == "attendance"
    assert guess["columns"]["client_name"] == "Patient"
    assert guess["missing_required"] == []
    assert found["saved"] == []

    # Save the guess, and the next file from that source is told which mapping fits it.
    saved = client.post(
        "/api/import-mappings",
        headers=headers,
        json={"name": "Clinic visits", "target": "attendance", "columns": guess["columns"]},
    )
    assert saved.status_code == 200, saved.text
    again = client.post("/api/import-mappings/suggest", headers=headers, files={"file": ("v2.csv", HEADER)})
    assert [s["name"] for s in again.json()["saved"]] == ["Clinic visits"]
    assert len(again.json()["guesses"]) > 1

    empty = client.post("/api/import-mappings/suggest", headers=headers, files={"file": ("e.csv", b"")})
    assert empty.status_code == 422
    assert empty.json()["detail"].startswith("e.csv: is empty")
