"""The client page (coverages, authorizations, cards, history) and the charge entry page, signed
in through the real login form: pages render, forms work, refusals show on the page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from tests import factories as f
from tests.integration.conftest import csrf_from, login
from tests.integration.test_coverages import png_bytes
from tests.integration.world import PASSWORD, World, build_world


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


def sign_in(client: TestClient, world: World, role: Role) -> str:
    assert login(client, world.users[role].email, PASSWORD).status_code == 303
    return csrf_from(client.get(f"/clients/{world.own.client.id}").text)


def test_the_client_page_shows_coverages_and_their_forms(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.FRONT_DESK)
    page = client.get(f"/clients/{world.own.client.id}")
    assert page.status_code == 200
    assert world.own.client.display_name in page.text
    assert world.own.payer.name in page.text
    assert 'data-testid="add-coverage"' in page.text
    assert f'src="/coverages/{world.own.claim.coverage_id}/cards/{world.own.coverage_card.id}"' in page.text  # type: ignore[union-attr]
    assert client.get(f"/clients/{world.other.client.id}").status_code == 404


def test_a_therapist_sees_their_clients_coverages_without_the_forms(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.THERAPIST)
    page = client.get(f"/clients/{world.own.client.id}")
    assert page.status_code == 200
    assert 'data-testid="add-coverage"' not in page.text
    assert "Edit, end, add an authorization" not in page.text
    token = csrf_from(page.text)
    refused = client.post(
        f"/coverages/{world.own.claim.coverage_id}/end", data={"csrf_token": token, "ends_on": "2026-12-31"}
    )
    assert refused.status_code == 403


def test_coverage_forms_add_edit_authorize_upload_and_end(
    client: TestClient, world: World, db: Session
) -> None:
    token = sign_in(client, world, Role.FRONT_DESK)
    client_id = world.own.client.id
    form = {
        "csrf_token": token,
        "payer_id": str(world.own.payer.id),
        "member_id": "SEC-1",
        "priority": "secondary",
        "relationship": "self",
        "effective_on": "2026-01-01",
    }
    added = client.post(f"/clients/{client_id}/coverages", data=form)
    assert added.status_code == 303, added.text
    coverage = db.scalars(select(m.Coverage).where(m.Coverage.member_id == "SEC-1")).one()

    overlap = client.post(f"/clients/{client_id}/coverages", data={**form, "member_id": "SEC-2"})
    assert overlap.status_code == 422
    assert f"coverage {coverage.id}" in overlap.text
    assert 'data-testid="client-error"' in overlap.text
    assert db.scalars(select(m.Coverage).where(m.Coverage.member_id == "SEC-2")).first() is None

    edited = client.post(f"/coverages/{coverage.id}", data={**form, "group_number": "GRP-5"})
    assert edited.status_code == 303
    bad_dates = client.post(f"/coverages/{coverage.id}", data={**form, "ends_on": "2025-01-01"})
    assert bad_dates.status_code == 422
    assert "ends_on: 2025-01-01 is before the coverage starts" in bad_dates.text

    auth = {
        "csrf_token": token,
        "number": "PA-77",
        "visits_allowed": "8",
        "visits_used": "9",
        "starts_on": "2026-01-01",
        "ends_on": "2026-06-30",
    }
    too_many = client.post(f"/coverages/{coverage.id}/authorizations", data=auth)
    assert too_many.status_code == 422
    assert "visits_used: 9 is more than the 8 visits allowed" in too_many.text
    assert (
        client.post(f"/coverages/{coverage.id}/authorizations", data={**auth, "visits_used": "2"}).status_code
        == 303
    )

    wrong = client.post(
        f"/coverages/{coverage.id}/cards",
        data={"csrf_token": token, "side": "front"},
        files={"file": ("card.png", b"GIF89a....", "image/png")},
    )
    assert wrong.status_code == 422
    assert "is not a PNG, JPEG or PDF file" in wrong.text
    uploaded = client.post(
        f"/coverages/{coverage.id}/cards",
        data={"csrf_token": token, "side": "back"},
        files={"file": ("card.png", png_bytes(), "image/png")},
    )
    assert uploaded.status_code == 303
    card = db.scalars(select(m.CoverageCard).where(m.CoverageCard.coverage_id == coverage.id)).one()
    image = client.get(f"/coverages/{coverage.id}/cards/{card.id}")
    assert image.headers["content-type"] == "image/png"
    assert image.content == png_bytes()

    assert (
        client.post(
            f"/coverages/{coverage.id}/end", data={"csrf_token": token, "ends_on": "2026-09-30"}
        ).status_code
        == 303
    )
    page = client.get(f"/clients/{client_id}")
    assert "PA-77" in page.text
    assert "2 / 8" in page.text
    assert "Group number: — &rarr; GRP-5" in page.text
    actions = db.scalars(
        select(m.CoverageChange.action)
        .where(m.CoverageChange.coverage_id == coverage.id)
        .order_by(m.CoverageChange.id)
    ).all()
    assert actions == ["created", "updated", "authorization_added", "card_added", "ended"]


def test_a_form_without_the_csrf_token_is_refused(client: TestClient, world: World, db: Session) -> None:
    sign_in(client, world, Role.FRONT_DESK)
    response = client.post(f"/coverages/{world.own.claim.coverage_id}/end", data={"ends_on": "2026-12-31"})
    assert response.status_code == 403
    assert db.get_one(m.Coverage, world.own.claim.coverage_id).ends_on is None


# --- charge entry -----------------------------------------------------------------------------------------


def _fresh_session(db: Session, world: World) -> m.ServiceSession:
    return f.make_session(
        db,
        world.own.practice,
        world.own.client,
        world.own.provider,
        starts_at=datetime(2026, 3, 9, 15, 0, tzinfo=UTC),
        note_status="draft",
    )


def test_the_charge_page_enters_corrects_and_removes_charges(
    client: TestClient, world: World, db: Session
) -> None:
    sign_in(client, world, Role.BILLING)
    service = _fresh_session(db, world)
    page = client.get(f"/sessions/{service.id}/charges")
    assert page.status_code == 200
    token = csrf_from(page.text)
    assert "90837" in page.text

    form = {
        "csrf_token": token,
        "procedure_code": "90785",
        "modifier1": "95",
        "units": "1",
        "fee": "",
        "diagnosis_codes": "F41.1 F32.1",
        "diagnosis_pointers": "2, 1",
    }
    no_fee = client.post(f"/sessions/{service.id}/charges", data=form)
    assert no_fee.status_code == 422
    assert "fee: no fee schedule in force on 2026-03-09 prices 90785 95; enter the fee" in no_fee.text
    assert 'value="F41.1 F32.1"' in no_fee.text  # what was typed stays in the form

    bad_pointer = client.post(
        f"/sessions/{service.id}/charges", data={**form, "fee": "25.00", "diagnosis_pointers": "3"}
    )
    assert bad_pointer.status_code == 422
    assert "diagnosis_pointers: 3 does not point at a diagnosis" in bad_pointer.text

    added = client.post(f"/sessions/{service.id}/charges", data={**form, "fee": "25.00"})
    assert added.status_code == 303, added.text
    charge = db.scalars(
        select(m.Charge).where(m.Charge.session_id == service.id, m.Charge.procedure_code == "90785")
    ).one()
    assert (charge.fee_cents, charge.modifiers, charge.diagnosis_pointers) == (2500, "95", "21")

    edit_page = client.get(f"/sessions/{service.id}/charges?edit={charge.id}")
    assert f'action="/charges/{charge.id}"' in edit_page.text
    corrected = client.post(f"/charges/{charge.id}", data={**form, "fee": "30", "modifier1": ""})
    assert corrected.status_code == 303
    db.refresh(charge)
    assert (charge.fee_cents, charge.modifiers) == (3000, "")

    removed = client.post(f"/charges/{charge.id}/delete", data={"csrf_token": token})
    assert removed.status_code == 303
    assert db.scalars(select(m.Charge.id).where(m.Charge.id == charge.id)).first() is None


def test_charges_of_a_submitted_claim_are_history_on_the_page(client: TestClient, world: World) -> None:
    token = sign_in(client, world, Role.BILLING)
    page = client.get(f"/sessions/{world.own.session.id}/charges")
    assert page.status_code == 200
    assert "correct it with a replacement claim (frequency 7)" in page.text
    assert 'data-testid="charge-form"' not in page.text
    charge_id = world.own.session.charges[0].id
    refused = client.post(
        f"/charges/{charge_id}",
        data={"csrf_token": token, "procedure_code": "90834", "diagnosis_codes": "F41.1", "fee": "10"},
    )
    assert refused.status_code == 422
    assert f"claim {world.own.claim.number} was submitted" in refused.text


def test_front_desk_may_not_enter_charges(client: TestClient, world: World) -> None:
    sign_in(client, world, Role.FRONT_DESK)
    assert client.get(f"/sessions/{world.own.session.id}/charges").status_code == 403
    assert client.get(f"/sessions/{world.other.session.id}/charges").status_code == 404
