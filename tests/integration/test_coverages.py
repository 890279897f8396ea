"""Client coverages: overlaps refused, the insert-only change history, authorizations and their
visits, card files judged by their content, who may see and change them, and the API."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from revcycle.services import coverages
from revcycle.services.actor import Actor
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.world import make_login_user


def png_bytes(width: int = 2, height: int = 1) -> bytes:
    """A real (tiny) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@dataclass
class Front:
    db: Session
    practice: m.Practice
    actor: Actor
    client: m.Client
    payer: m.Payer
    coverage: m.Coverage

    def add(self, **values: object) -> m.Coverage:
        base: dict[str, object] = {"payer_id": self.payer.id, "member_id": "W123", "priority": "secondary"}
        return coverages.create_coverage(
            self.db, actor=self.actor, client_id=self.client.id, values={**base, **values}
        )


@pytest.fixture
def front(db: Session) -> Front:
    practice = f.make_practice(db)
    user = f.make_user(db, practice, Role.FRONT_DESK)
    client = f.make_client(db, practice)
    payer = f.make_payer(db, name="Cigna")
    coverage = f.make_coverage(db, client, payer)  # primary from 2020-01-01, open
    return Front(db, practice, f.actor_for(db, user), client, payer, coverage)


def _history(front: Front, coverage: m.Coverage) -> list[m.CoverageChange]:
    return list(
        front.db.scalars(
            select(m.CoverageChange)
            .where(m.CoverageChange.coverage_id == coverage.id)
            .order_by(m.CoverageChange.id)
        )
    )


# --- coverages -----------------------------------------------------------------------------------------


def test_a_new_coverage_is_kept_with_its_creation_in_the_history(front: Front) -> None:
    coverage = front.add(effective_on=date(2026, 1, 1), group_number=" G-7 ")
    assert (coverage.priority, coverage.group_number, coverage.relationship_to_subscriber) == (
        "secondary",
        "G-7",
        "self",
    )
    # the client is the subscriber: the subscriber's details are the client's
    assert coverage.subscriber_last_name == front.client.last_name
    assert coverage.subscriber_date_of_birth == front.client.date_of_birth
    [created] = _history(front, coverage)
    assert created.action == "created"
    assert created.changes["member_id"] == [None, "W123"]
    assert created.changes["effective_on"] == [None, "2026-01-01"]
    audit = front.db.scalars(select(m.AuditLog).where(m.AuditLog.entity == "coverage")).one()
    assert audit.client_ids == [front.client.id]


def test_an_overlapping_coverage_of_the_same_priority_is_refused_naming_the_other(front: Front) -> None:
    with pytest.raises(
        Conflict, match=rf"Cigna coverage {front.coverage.id} \(member M\d+\) is already primary"
    ):
        front.add(priority="primary", effective_on=date(2026, 1, 1))
    # once the old one ends, the new one may start the day after
    coverages.end_coverage(
        front.db, actor=front.actor, coverage_id=front.coverage.id, ends_on=date(2025, 12, 31)
    )
    new = front.add(priority="primary", effective_on=date(2026, 1, 1))
    with pytest.raises(Conflict, match=f"coverage {new.id}"):
        coverages.update_coverage(
            front.db, actor=front.actor, coverage_id=front.coverage.id, values={"ends_on": date(2026, 1, 1)}
        )
    # another priority over the same dates is fine
    assert front.add(priority="secondary").priority == "secondary"
    client_id = front.coverage.client_id
    mine = select(func.count()).select_from(m.Coverage).where(m.Coverage.client_id == client_id)
    assert front.db.scalar(mine) == 3


def test_every_update_records_each_field_before_and_after(front: Front) -> None:
    coverages.update_coverage(
        front.db,
        actor=front.actor,
        coverage_id=front.coverage.id,
        values={
            "member_id": "NEW-9",
            "group_number": "",
            "relationship_to_subscriber": "Child",
            "subscriber_first_name": "Pat",
            "subscriber_last_name": "Parent",
            "subscriber_sex": "m",
        },
    )
    coverages.update_coverage(
        front.db, actor=front.actor, coverage_id=front.coverage.id, values={"member_id": "NEW-9"}
    )
    coverages.end_coverage(
        front.db, actor=front.actor, coverage_id=front.coverage.id, ends_on=date(2026, 6, 30)
    )
    changes = _history(front, front.coverage)
    assert [c.action for c in changes] == ["updated", "ended"]  # the no-op update wrote nothing
    updated, ended = changes
    assert updated.changes["member_id"][1] == "NEW-9"
    assert updated.changes["relationship_to_subscriber"] == ["self", "child"]
    assert updated.changes["subscriber_sex"] == ["U", "M"]
    assert "group_number" not in updated.changes  # it was blank already
    assert ended.changes == {"ends_on": [None, "2026-06-30"]}
    assert updated.user_id == front.actor.user_id


def test_history_rows_are_never_rewritten(front: Front) -> None:
    coverages.update_coverage(
        front.db, actor=front.actor, coverage_id=front.coverage.id, values={"member_id": "A1"}
    )
    coverages.update_coverage(
        front.db, actor=front.actor, coverage_id=front.coverage.id, values={"member_id": "B2"}
    )
    first, second = _history(front, front.coverage)
    assert first.changes["member_id"][1] == "A1"
    assert second.changes["member_id"] == ["A1", "B2"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ends_on": date(2019, 12, 31)}, r"^ends_on: 2019-12-31 is before the coverage starts"),
        ({"priority": "quaternary"}, r"^priority: 'quaternary' is not one of primary"),
        ({"relationship_to_subscriber": "cousin"}, r"^relationship: 'cousin' is not one of self"),
        (
            {"relationship_to_subscriber": "spouse"},
            r"^subscriber: .* enter the subscriber's first and last name",
        ),
        ({"member_id": "  "}, r"^member_id: enter the member id"),
        ({"subscriber_sex": "Q"}, r"^subscriber sex: 'Q' is not one of F, M, U"),
        ({"colour": "blue"}, r"^colour: not a coverage field"),
    ],
)
def test_bad_coverage_input_names_the_field_and_changes_nothing(
    front: Front, values: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        coverages.update_coverage(front.db, actor=front.actor, coverage_id=front.coverage.id, values=values)
    assert _history(front, front.coverage) == []


def test_a_payer_may_be_named_by_its_edi_id(front: Front) -> None:
    f.make_payer(front.db, edi_payer_id="62308")
    coverage = coverages.create_coverage(
        front.db,
        actor=front.actor,
        client_id=front.client.id,
        values={"payer_edi_id": "62308", "member_id": "X", "priority": "tertiary"},
    )
    assert front.db.get_one(m.Payer, coverage.payer_id).edi_payer_id == "62308"
    with pytest.raises(InvalidInput, match="payer_edi_id: no payer with EDI payer id 'NOPE'"):
        front.add(payer_id=None, payer_edi_id="NOPE")


# --- authorizations --------------------------------------------------------------------------------


def _auth(**values: object) -> coverages.AuthorizationInput:
    base: dict[str, object] = {
        "number": "PA-1",
        "visits_allowed": 12,
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2026, 6, 30),
    }
    return coverages.AuthorizationInput(**{**base, **values})  # type: ignore[arg-type]


def test_an_authorization_is_added_then_updated_by_its_number(front: Front) -> None:
    added = coverages.save_authorization(
        front.db,
        actor=front.actor,
        coverage_id=front.coverage.id,
        entry=_auth(procedure_codes=["90837", " 90834"]),
    )
    assert (added.visits_used, added.procedure_codes, added.client_id) == (
        0,
        ["90837", "90834"],
        front.client.id,
    )
    same = coverages.save_authorization(
        front.db, actor=front.actor, coverage_id=front.coverage.id, entry=_auth(visits_used=5)
    )
    assert same.id == added.id
    assert same.visits_used == 5
    added_row, updated_row = _history(front, front.coverage)
    assert (added_row.action, added_row.authorization_id) == ("authorization_added", added.id)
    assert updated_row.action == "authorization_updated"
    assert updated_row.changes == {"visits_used": [0, 5], "procedure_codes": [["90837", "90834"], []]}


def test_visits_used_may_not_pass_the_visits_allowed(front: Front) -> None:
    coverages.save_authorization(front.db, actor=front.actor, coverage_id=front.coverage.id, entry=_auth())
    with pytest.raises(InvalidInput, match=r"^visits_used: 13 is more than the 12 visits allowed"):
        coverages.save_authorization(
            front.db, actor=front.actor, coverage_id=front.coverage.id, entry=_auth(visits_used=13)
        )
    with pytest.raises(InvalidInput, match=r"^visits_used: 5 is more than the 4 visits allowed"):
        coverages.save_authorization(
            front.db,
            actor=front.actor,
            coverage_id=front.coverage.id,
            entry=_auth(number="PA-2", visits_allowed=4, visits_used=5),
        )
    with pytest.raises(InvalidInput, match=r"^ends_on: 2025-12-31 is before the authorization starts"):
        coverages.save_authorization(
            front.db,
            actor=front.actor,
            coverage_id=front.coverage.id,
            entry=_auth(ends_on=date(2025, 12, 31)),
        )


# --- cards -----------------------------------------------------------------------------------------------


def test_a_card_is_judged_by_its_content_and_served_back(front: Front) -> None:
    image = png_bytes()
    card = coverages.add_card(
        front.db,
        actor=front.actor,
        coverage_id=front.coverage.id,
        side="Front",
        filename="C:\\scans\\card.jpg",
        data=image,
    )
    stored = front.db.get_one(m.StoredFile, card.stored_file_id)
    assert (card.side, stored.kind, stored.filename, stored.size_bytes) == (
        "front",
        "png",
        "card.jpg",
        len(image),
    )
    served = coverages.get_card(front.db, actor=front.actor, coverage_id=front.coverage.id, card_id=card.id)
    assert (served.media_type, served.content) == ("image/png", image)
    assert _history(front, front.coverage)[-1].changes == {
        "side": [None, "front"],
        "file": [None, "card.jpg"],
    }


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"MZ\x90\x00 not an image", "card.png", "is not a PNG, JPEG or PDF file"),
        (b"", "card.png", "is empty"),
        (b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024), "card.pdf", "is larger than 5 MB"),
    ],
)
def test_a_bad_card_file_is_refused(front: Front, data: bytes, filename: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=f"^file: {filename} {message}"):
        coverages.add_card(
            front.db,
            actor=front.actor,
            coverage_id=front.coverage.id,
            side="back",
            filename=filename,
            data=data,
        )
    assert front.db.scalar(select(func.count()).select_from(m.CoverageCard)) == 0


def test_jpeg_and_pdf_are_recognised() -> None:
    assert coverages.sniff_card(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "jpeg"
    assert coverages.sniff_card(b"%PDF-1.4\n") == "pdf"
    assert coverages.sniff_card(b"GIF89a") is None


# --- who may ---------------------------------------------------------------------------------------------


def test_who_may_change_and_see_coverages(front: Front) -> None:
    card = coverages.add_card(
        front.db,
        actor=front.actor,
        coverage_id=front.coverage.id,
        side="front",
        filename="c.png",
        data=png_bytes(),
    )
    therapist_user = f.make_user(front.db, front.practice, Role.THERAPIST)
    therapist = f.actor_for(front.db, therapist_user)
    with pytest.raises(PermissionDenied):
        coverages.update_coverage(
            front.db, actor=therapist, coverage_id=front.coverage.id, values={"member_id": "Z"}
        )
    # a therapist sees only the clients they treat
    with pytest.raises(NotFound):
        coverages.get_card(front.db, actor=therapist, coverage_id=front.coverage.id, card_id=card.id)
    provider = f.make_provider(front.db, front.practice, user=therapist_user)
    f.make_session(front.db, front.practice, front.client, provider)
    assert coverages.get_card(
        front.db, actor=therapist, coverage_id=front.coverage.id, card_id=card.id
    ).content
    stranger = f.actor_for(front.db, f.make_user(front.db, f.make_practice(front.db), Role.ADMIN))
    with pytest.raises(NotFound):
        coverages.client_coverages(front.db, actor=stranger, client_id=front.client.id)
    with pytest.raises(NotFound):
        coverages.end_coverage(
            front.db, actor=stranger, coverage_id=front.coverage.id, ends_on=date(2026, 1, 1)
        )
    with pytest.raises(NotFound):
        coverages.get_card(front.db, actor=front.actor, coverage_id=front.coverage.id + 999, card_id=card.id)


# --- the API -----------------------------------------------------------------------------------------------


def test_the_api_keeps_coverages_authorizations_and_cards(client: TestClient, front: Front) -> None:
    user = make_login_user(front.db, front.practice, Role.FRONT_DESK, name="cov-api")
    headers = bearer(client, user.email)
    base = f"/api/clients/{front.client.id}/coverages"
    created = client.post(
        base,
        json={
            "payer_id": front.payer.id,
            "member_id": "S-1",
            "priority": "secondary",
            "relationship": "spouse",
            "subscriber_first_name": "Sam",
            "subscriber_last_name": "Spouse",
            "effective_on": "2026-01-01",
        },
        headers=headers,
    )
    assert created.status_code == 200, created.text
    coverage_id = created.json()["id"]
    assert created.json()["relationship"] == "spouse"

    overlap = client.post(
        base, json={"payer_id": front.payer.id, "member_id": "S-2", "priority": "secondary"}, headers=headers
    )
    assert overlap.status_code == 409
    assert f"coverage {coverage_id}" in overlap.json()["detail"]

    bad = client.post(f"/api/coverages/{coverage_id}", json={"ends_on": "2025-01-01"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("ends_on:")
    assert (
        client.post(f"/api/coverages/{coverage_id}", json={"member_id": None}, headers=headers).status_code
        == 422
    )
    updated = client.post(f"/api/coverages/{coverage_id}", json={"group_number": "G-2"}, headers=headers)
    assert updated.json()["group_number"] == "G-2"

    auth = client.post(
        f"/api/coverages/{coverage_id}/authorizations",
        json={
            "number": "PA-9",
            "visits_allowed": 10,
            "visits_used": 3,
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
        headers=headers,
    )
    assert auth.status_code == 200, auth.text
    assert auth.json()["visits_left"] == 7
    too_many = client.post(
        f"/api/coverages/{coverage_id}/authorizations",
        json={
            "number": "PA-9",
            "visits_allowed": 10,
            "visits_used": 11,
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
        headers=headers,
    )
    assert too_many.status_code == 422

    not_image = client.post(
        f"/api/coverages/{coverage_id}/cards",
        files={"file": ("card.png", b"<html>", "image/png")},
        data={"side": "front"},
        headers=headers,
    )
    assert not_image.status_code == 422
    uploaded = client.post(
        f"/api/coverages/{coverage_id}/cards",
        files={"file": ("card.bin", png_bytes(), "application/octet-stream")},
        data={"side": "back"},
        headers=headers,
    )
    assert uploaded.status_code == 200, uploaded.text
    served = client.get(uploaded.json()["url"], headers=headers)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.content == png_bytes()

    ended = client.post(f"/api/coverages/{coverage_id}/end", json={"ends_on": "2026-09-30"}, headers=headers)
    assert ended.json()["ends_on"] == "2026-09-30"

    listed = client.get(base, headers=headers).json()
    [mine] = [c for c in listed["items"] if c["id"] == coverage_id]
    assert [h["action"] for h in mine["history"]] == [
        "ended",
        "card_added",
        "authorization_added",
        "updated",
        "created",
    ]
    assert mine["history"][0]["user_name"] == "Cov Api"
    assert [a["number"] for a in mine["authorizations"]] == ["PA-9"]
    assert [c["side"] for c in mine["cards"]] == ["back"]
