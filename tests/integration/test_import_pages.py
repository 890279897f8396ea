"""The import pages, signed in as the billing persona: upload, preview, commit, the review
queue and its one-click resolutions; refusals, other practices' batches and other roles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from tests.integration.conftest import csrf_from, login
from tests.integration.world import PASSWORD, World, build_world

DATA = Path(__file__).resolve().parents[1] / "data" / "csv"
EXPORT = "simplepractice_appointments.csv"


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


@pytest.fixture
def billing(client: TestClient, world: World) -> str:
    """Signed in as the billing persona; returns the session's CSRF token."""
    assert login(client, world.users[Role.BILLING].email, PASSWORD).status_code == 303
    return csrf_from(client.get("/imports").text)


def upload(client: TestClient, token: str, name: str = EXPORT, data: bytes | None = None, **form: str):  # type: ignore[no-untyped-def]
    content = (DATA / name).read_bytes() if data is None else data
    return client.post(
        "/imports", data={"csrf_token": token, **form}, files={"file": (name, content, "text/csv")}
    )


def staged_id(client: TestClient, token: str) -> int:
    answer = upload(client, token)
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/imports/(\d+)", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found.group(1))


def chip_count(html: str, outcome: str) -> int:
    found = re.search(
        rf'data-outcome="{outcome}"[^>]*>[^<]*<span class="rc-chip-count" data-count>(\d+)<', html
    )
    assert found, outcome
    return int(found.group(1))


def open_flags(db: Session, world: World, rule: str | None = None) -> list[m.WorkItem]:
    query = select(m.WorkItem).where(
        m.WorkItem.practice_id == world.own.practice.id,
        m.WorkItem.kind == "flag",
        m.WorkItem.status == "open",
    )
    if rule:
        query = query.where(m.WorkItem.rule == rule)
    return list(db.scalars(query.order_by(m.WorkItem.id)))


def test_upload_preview_commit_and_resolve_a_flag(
    client: TestClient, world: World, billing: str, db: Session
) -> None:
    page = client.get("/imports")
    assert page.status_code == 200
    assert "data-dropzone" in page.text
    assert 'enctype="multipart/form-data"' in page.text

    batch_id = staged_id(client, billing)
    preview = client.get(f"/imports/{batch_id}")
    assert preview.status_code == 200
    assert {
        o: chip_count(preview.text, o) for o in ("new", "updated", "unchanged", "flagged", "rejected")
    } == {
        "new": 4,  # unknown payers and clinicians are flags about them, not about each row
        "updated": 0,
        "unchanged": 0,
        "flagged": 1,
        "rejected": 0,
    }
    assert "Jordan Smith" in preview.text
    assert "Insurance overpaid" in preview.text  # the reason a row is flagged
    assert "Preview only" in preview.text
    # Flags about a clinician, client or payer as a whole, counted once each.
    assert 'data-rule="unknown_clinician">Unknown clinician × 2<' in preview.text
    assert 'data-rule="missing_member_id">Insurance member id missing × 3<' in preview.text
    updated = client.get(f"/imports/{batch_id}", params={"outcome": "updated"})
    assert updated.text.count("rc-outcome-badge") == 0
    paged = client.get(f"/imports/{batch_id}", params={"outcome": "new", "limit": 2})
    assert paged.text.count("rc-outcome-badge") == 2
    assert "1–2 of 4" in paged.text
    assert client.get("/imports").text.count(f'href="/imports/{batch_id}"') == 1  # recent imports

    committed = client.post(f"/imports/{batch_id}/commit", data={"csrf_token": billing})
    assert committed.status_code == 303
    after = client.get(committed.headers["location"]).text
    summary = re.search(r"Committed: (\d+) sessions created, (\d+) updated, (\d+) flags raised", after)
    assert summary, after
    assert int(summary.group(1)) == 4
    assert int(summary.group(3)) == len(open_flags(db, world)) - 1  # the world's own flag was there before
    assert 'href="/review"' in after
    assert 'data-testid="commit"' not in after

    queue = client.get("/review")
    assert queue.status_code == 200
    over = open_flags(db, world, "insurance_over")[0]
    assert f'data-flag="{over.id}"' in queue.text
    assert "Insurance overpaid" in queue.text
    resolved = client.post(
        f"/review/{over.id}/resolve", data={"csrf_token": billing, "resolution": "acknowledge"}
    )
    assert resolved.status_code == 303
    back = client.get(resolved.headers["location"])
    assert "Done: Insurance overpaid" in back.text
    assert f'data-flag="{over.id}"' not in back.text
    db.refresh(over)
    assert over.status == "resolved"


def test_resolving_in_place_with_htmx_and_with_a_value(
    client: TestClient, world: World, billing: str, db: Session
) -> None:
    batch_id = staged_id(client, billing)
    client.post(f"/imports/{batch_id}/commit", data={"csrf_token": billing})
    aetna = open_flags(db, world, "unknown_payer")
    tricare = next(flag for flag in aetna if "Tricare" in flag.title)
    page = client.get("/review", params={"rule": "unknown_payer"})
    assert f'<option value="{world.own.payer.id}">' in page.text  # the practice's payers to map onto

    answer = client.post(
        f"/review/{tricare.id}/resolve",
        data={"csrf_token": billing, "resolution": "map_to_payer", "value": str(world.own.payer.id)},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert "<html" not in answer.text  # a fragment, swapped into #review-list
    assert "Done: Unknown payer: Tricare East (99727)" in answer.text
    assert f'data-flag="{tricare.id}"' not in answer.text

    member = open_flags(db, world, "missing_member_id")[0]
    empty = client.post(
        f"/review/{member.id}/resolve",
        data={"csrf_token": billing, "resolution": "add_member_id", "value": ""},
    )
    assert empty.status_code == 422
    assert "give the member id" in empty.text
    saved = client.post(
        f"/review/{member.id}/resolve",
        data={"csrf_token": billing, "resolution": "add_member_id", "value": "TRI123456"},
    )
    assert saved.status_code == 303
    db.refresh(member)
    assert member.status == "resolved"
    again = client.post(
        f"/review/{member.id}/resolve", data={"csrf_token": billing, "resolution": "add_member_id"}
    )
    assert again.status_code in (409, 422)


def test_the_progress_bar_upload_gets_the_preview_address(client: TestClient, billing: str) -> None:
    answer = client.post(
        "/imports",
        files={"file": (EXPORT, (DATA / EXPORT).read_bytes(), "text/csv")},
        headers={"X-CSRF-Token": billing, "X-Requested-With": "XMLHttpRequest"},
    )
    assert answer.status_code == 200
    assert re.fullmatch(r"/imports/\d+", answer.json()["location"])


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("scan.pdf", b"%PDF-1.7 binary", "scan.pdf: is not a CSV file: it is a PDF document"),
        ("empty.csv", b"\n\n  \n", "empty.csv: is empty"),
    ],
)
def test_a_bad_file_shows_its_message(
    client: TestClient, billing: str, name: str, data: bytes, message: str
) -> None:
    answer = upload(client, billing, name, data)
    assert answer.status_code == 422
    assert message in answer.text
    assert 'data-testid="import-error"' in answer.text
    assert 'data-testid="upload-form"' in answer.text  # the user can try again on the same page


def test_a_missing_column_and_no_file_are_refused(client: TestClient, billing: str) -> None:
    header = (DATA / EXPORT).read_text().splitlines()[0].replace("Clinician,", "")
    answer = upload(client, billing, "week.csv", (header + "\n").encode(), format="simplepractice")
    assert answer.status_code == 422
    assert "week.csv row 1, column &#34;Clinician&#34;: is missing from the header" in answer.text
    nothing = client.post("/imports", data={"csrf_token": billing}, files={"file": ("", b"", "text/csv")})
    assert nothing.status_code == 422
    assert "choose a CSV file" in nothing.text


def test_an_unknown_format_is_mapped_saved_and_staged(
    client: TestClient, world: World, billing: str, db: Session
) -> None:
    data = b"Name,Born,Gender\nJo Smith,01/02/1990,F\n"
    answer = upload(client, billing, "people.csv", data)
    assert answer.status_code == 422
    assert "the format is not recognised" in answer.text
    assert 'data-testid="mapping-form"' in answer.text
    assert re.search(r'<option value="Name" selected>Name</option>', answer.text)  # the guess
    token = re.search(r'name="token" value="([^"]+)"', answer.text)
    assert token
    unnamed = client.post(
        "/imports/mapping",
        data={
            "csrf_token": billing,
            "token": token.group(1),
            "filename": "people.csv",
            "target": "client_demographics",
            "name": "",
        },
    )
    assert unnamed.status_code == 422
    assert "mapping name" in unnamed.text
    staged = client.post(
        "/imports/mapping",
        data={
            "csrf_token": billing,
            "token": token.group(1),
            "filename": "people.csv",
            "target": "client_demographics",
            "name": "People list",
            "col:client_demographics:client_name": "Name",
            "col:client_details:client_name": "Born",  # another target's fields are ignored
        },
    )
    assert staged.status_code == 303, staged.text
    mapping = db.scalars(
        select(m.ColumnMapping).where(
            m.ColumnMapping.practice_id == world.own.practice.id, m.ColumnMapping.name == "People list"
        )
    ).one()
    assert mapping.columns == {"client_name": "Name"}
    assert 'value="mapping:People list"' in client.get("/imports").text
    again = upload(client, billing, "people.csv", data, format="mapping:People list")
    assert again.status_code == 303
    expired = client.post(
        "/imports/mapping",
        data={"csrf_token": billing, "token": token.group(1), "target": "client_demographics", "name": "x"},
    )
    assert expired.status_code == 422
    assert "upload it again" in expired.text


def test_discard_leaves_nothing_applied(client: TestClient, world: World, billing: str, db: Session) -> None:
    batch_id = staged_id(client, billing)
    before = len(open_flags(db, world))
    answer = client.post(f"/imports/{batch_id}/discard", data={"csrf_token": billing})
    assert answer.status_code == 303
    page = client.get(f"/imports/{batch_id}").text
    assert "Discarded." in page
    assert len(open_flags(db, world)) == before
    assert client.post(f"/imports/{batch_id}/commit", data={"csrf_token": billing}).status_code == 409


def test_another_practices_batch_and_flag_are_not_found(
    client: TestClient, world: World, billing: str
) -> None:
    assert world.other.import_batch is not None
    assert world.other.flag is not None
    other = world.other.import_batch.id
    assert client.get(f"/imports/{other}").status_code == 404
    assert client.post(f"/imports/{other}/commit", data={"csrf_token": billing}).status_code == 404
    assert client.post(f"/imports/{other}/discard", data={"csrf_token": billing}).status_code == 404
    resolve = client.post(
        f"/review/{world.other.flag.id}/resolve", data={"csrf_token": billing, "resolution": "acknowledge"}
    )
    assert resolve.status_code == 404


def test_writes_need_the_csrf_token(client: TestClient, world: World, billing: str) -> None:
    assert world.own.import_batch is not None
    assert client.post(f"/imports/{world.own.import_batch.id}/commit").status_code == 403
    assert upload(client, "wrong-token").status_code == 403


@pytest.mark.parametrize("role", [Role.THERAPIST, Role.FRONT_DESK, Role.CLIENT])
def test_roles_without_enter_charges_are_not_allowed(client: TestClient, world: World, role: Role) -> None:
    assert login(client, world.users[role].email, PASSWORD).status_code == 303
    assert world.own.import_batch is not None
    assert world.own.flag is not None
    for path in ("/imports", "/review", f"/imports/{world.own.import_batch.id}"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Not allowed" in answer.text
    token = csrf_from(client.get("/account/password").text)
    assert upload(client, token).status_code == 403
    resolve = client.post(
        f"/review/{world.own.flag.id}/resolve", data={"csrf_token": token, "resolution": "acknowledge"}
    )
    assert resolve.status_code == 403
    assert 'data-nav="imports"' not in client.get("/account/password").text


def test_billing_sees_the_menu_entry_and_the_dashboard_tile(
    client: TestClient, world: World, billing: str
) -> None:
    dashboard = client.get("/dashboard").text
    assert 'data-nav="imports"' in dashboard
    assert 'href="/imports"' in dashboard
    assert 'hx-get="/review/summary"' in dashboard
    tile = client.get("/review/summary")
    assert tile.status_code == 200
    assert re.search(r'<div class="rc-figure">1</div>', tile.text)  # the world's one open flag


def test_import_pages_have_no_inline_script_or_style(client: TestClient, world: World, billing: str) -> None:
    batch_id = staged_id(client, billing)
    for path in ("/imports", f"/imports/{batch_id}", "/review"):
        html = client.get(path).text
        assert "style=" not in html, path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
    assert client.get("/static/imports.js").status_code == 200
