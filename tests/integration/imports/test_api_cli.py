"""Round trips through the JSON API and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from revcycle.cli import build_app
from revcycle.db import models as m
from revcycle.domain.permissions import Role
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.imports.conftest import DATA, sp_file, sp_row
from tests.integration.world import make_login_user


@pytest.fixture
def billing(client: TestClient, db: Session) -> tuple[m.Practice, dict[str, str]]:
    practice = f.make_practice(db)
    user = make_login_user(db, practice, Role.BILLING, name="billing-desk")
    return practice, bearer(client, user.email)


def test_upload_preview_commit_and_resolve_through_the_api(client: TestClient, billing, db: Session) -> None:  # type: ignore[no-untyped-def]
    practice, headers = billing
    upload = client.post(
        "/api/imports",
        headers=headers,
        files={"file": ("week.csv", (DATA / "simplepractice_appointments.csv").read_bytes(), "text/csv")},
    )
    assert upload.status_code == 200, upload.text
    batch = upload.json()
    assert {key: batch[key] for key in ("format", "status", "rows", "flagged", "committed")} == {
        "format": "simplepractice",
        "status": "staged",
        "rows": 5,
        "flagged": 1,
        "committed": False,
    }
    assert batch["rows_url"] == f"/api/imports/{batch['id']}/rows"

    rows = client.get(f"{batch['rows_url']}?outcome=new&limit=2", headers=headers).json()
    assert rows["total"] == 4
    assert len(rows["items"]) == 2
    flagged = client.get(f"{batch['rows_url']}?outcome=flagged", headers=headers).json()
    assert [flag["rule"] for flag in flagged["items"][0]["detail"]["flags"]][-2:] == [
        "insurance_over",
        "secondary_insurance",
    ]

    committed = client.post(f"/api/imports/{batch['id']}/commit", headers=headers)
    assert committed.status_code == 200, committed.text
    assert committed.json()["committed"] is True
    assert client.post(f"/api/imports/{batch['id']}/commit", headers=headers).status_code == 409
    assert client.get(f"/api/imports/{batch['id']}", headers=headers).json()["status"] == "committed"
    listed = client.get(f"/api/imports?practice_id={practice.id}", headers=headers).json()
    assert [b["id"] for b in listed["items"]] == [batch["id"]]

    queue = client.get("/api/review?rule=insurance_over", headers=headers).json()
    (flag,) = queue["items"]
    assert flag["resolutions"] == ["acknowledge"]
    assert flag["client_name"] == "Maria Lopez"
    resolved = client.post(
        f"/api/review/{flag['id']}/resolve",
        headers=headers,
        json={"resolution": "acknowledge", "note": "refund asked"},
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    wrong = client.post(f"/api/review/{flag['id']}/resolve", headers=headers, json={"resolution": "nope"})
    assert wrong.status_code == 422
    assert wrong.json()["error"] == "invalid"


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("scan.pdf", b"%PDF-1.4 ...", "scan.pdf: is not a CSV file: it is a PDF document"),
        ("empty.csv", b"", "empty.csv: is empty"),
        ("other.csv", b"Visit,Who\n1,2\n", "other.csv: the format is not recognised"),
        (
            "ragged.csv",
            sp_file(sp_row(), "03/03/2026,Jo"),
            'ragged.csv row 3, column "Clinician": is missing',
        ),
    ],
)
def test_bad_uploads_answer_422_naming_the_file_and_write_nothing(  # type: ignore[no-untyped-def]
    client: TestClient, billing, db: Session, filename: str, content: bytes, expected: str
) -> None:
    _practice, headers = billing
    before = db.scalar(select(func.count()).select_from(m.ImportBatch))
    response = client.post("/api/imports", headers=headers, files={"file": (filename, content, "text/csv")})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid"
    assert body["detail"].startswith(expected)
    assert db.scalar(select(func.count()).select_from(m.ImportBatch)) == before


def test_an_unknown_format_name_and_a_missing_file_answer_422(client: TestClient, billing) -> None:  # type: ignore[no-untyped-def]
    _practice, headers = billing
    data = {"format": "excel"}
    response = client.post("/api/imports", headers=headers, data=data, files={"file": ("a.csv", b"a\n1\n")})
    assert response.status_code == 422
    assert "format: 'excel' is not one of" in response.json()["detail"]
    assert client.post("/api/imports", headers=headers).status_code == 422


# --- the command line ---------------------------------------------------------------------------


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args))
    return result.exit_code, result.output


def test_cli_import_prints_counts_as_json_and_commits(installation: Engine) -> None:
    sample = str(DATA / "simplepractice_appointments.csv")
    code, output = _run("import", sample, "--json", "--commit", "--as", "desk@example.test")
    assert code == 0, output
    result = json.loads(output)
    assert set(result) == {
        "batch_id",
        "format",
        "rows",
        "new",
        "updated",
        "unchanged",
        "flagged",
        "rejected",
        "committed",
        "written",
    }
    assert (result["format"], result["rows"], result["flagged"], result["committed"]) == (
        "simplepractice",
        5,
        1,
        True,
    )

    code, output = _run("import", sample, "--format", "simplepractice")
    assert code == 0, output
    assert "unchanged 5" in output
    assert "staged" in output
    with Session(installation) as session:
        assert session.scalar(select(func.count()).select_from(m.ServiceSession)) == 4
        batch = session.scalars(select(m.ImportBatch).order_by(m.ImportBatch.id.desc())).first()
        assert batch is not None
        assert batch.status == "staged"


def test_cli_refuses_bad_files_and_formats_with_exit_1(installation: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    code, output = _run("import", str(bad))
    assert code == 1
    assert "bad.csv: is empty" in output
    code, output = _run("import", str(DATA / "attendance.csv"), "--format", "mapping:missing")
    assert code == 1
    assert 'no saved column mapping named "missing"' in output
