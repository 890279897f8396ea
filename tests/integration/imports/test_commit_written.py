"""A commit says what it wrote — to the service's caller, the API, the command line and the
preview page — from the handler's own counts, not read back from the audit log."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from revcycle.cli import build_app
from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services.imports import batches
from tests.integration.api_routes import bearer
from tests.integration.conftest import csrf_from, login
from tests.integration.imports.conftest import DATA, Desk, sp_file, sp_row
from tests.integration.world import PASSWORD, build_world

EXPORT = DATA / "simplepractice_appointments.csv"


def _flag_count(db: Session, practice_id: int) -> int:
    query = select(func.count()).select_from(m.WorkItem).where(m.WorkItem.practice_id == practice_id)
    return db.scalar(query) or 0


def test_commit_import_returns_what_the_handler_wrote(desk: Desk) -> None:
    staged = desk.stage(EXPORT.read_bytes())
    assert batches.written_counts(staged) == {}

    committed = desk.commit(staged)

    written = batches.written_counts(committed)
    assert written["sessions"] == desk.count(m.ServiceSession) == 4
    assert written["charges"] == desk.count(m.Charge) == 5
    assert written["clients"] == desk.count(m.Client)
    assert written["flags"] == _flag_count(desk.db, desk.practice.id) > 0
    assert committed.counts["written"] == written
    # The audit row keeps the same figures (for the record), beside the batch's counts.
    entry = desk.db.scalars(
        select(m.AuditLog)
        .where(m.AuditLog.entity == "import_batch", m.AuditLog.entity_id == str(committed.id))
        .order_by(m.AuditLog.seq.desc())
    ).first()
    assert entry is not None
    assert entry.after is not None
    assert entry.after["written"] == written


def test_a_second_commit_of_the_same_export_writes_nothing_new(desk: Desk) -> None:
    desk.load(EXPORT.read_bytes())
    again = desk.load(EXPORT.read_bytes())
    assert again.counts["unchanged"] == 5
    assert not any(batches.written_counts(again).get(key) for key in ("sessions", "charges", "flags"))


def test_a_discarded_batch_wrote_nothing(desk: Desk) -> None:
    staged = desk.stage(sp_file(sp_row()))
    discarded = batches.discard_import(desk.db, actor=desk.actor, batch_id=staged.id)
    assert batches.written_counts(discarded) == {}
    assert "written" not in discarded.counts


def test_the_api_commit_answers_with_what_it_wrote(client: TestClient, db: Session) -> None:
    world = build_world(db)
    headers = bearer(client, world.users[Role.BILLING].email)
    upload = client.post("/api/imports", headers=headers, files={"file": ("week.csv", EXPORT.read_bytes())})
    assert upload.status_code == 200, upload.text
    assert upload.json()["written"] == {}

    committed = client.post(f"/api/imports/{upload.json()['id']}/commit", headers=headers)

    assert committed.status_code == 200, committed.text
    written = committed.json()["written"]
    assert written["sessions"] == 4
    assert written["charges"] == 5
    assert written["flags"] >= 1
    again = client.get(f"/api/imports/{upload.json()['id']}", headers=headers).json()
    assert again["written"] == written


def test_cli_json_has_a_written_key_beside_the_counts(installation: Engine) -> None:
    result = CliRunner().invoke(
        build_app(), ["import", str(EXPORT), "--json", "--commit", "--as", "desk@example.test"]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    counts = {"batch_id", "format", "rows", "new", "updated", "unchanged", "flagged", "rejected", "committed"}
    assert set(answer) == counts | {"written"}
    assert answer["written"]["sessions"] == 4
    assert answer["written"]["charges"] == 5

    staged = CliRunner().invoke(build_app(), ["import", str(EXPORT), "--json"])
    assert staged.exit_code == 0, staged.output
    assert json.loads(staged.output)["written"] == {}

    plain = CliRunner().invoke(build_app(), ["import", str(EXPORT), "--commit"])
    assert plain.exit_code == 0, plain.output
    assert plain.output.rstrip().endswith("rejected 0; committed (nothing new)")


def test_the_preview_page_shows_what_the_commit_wrote(client: TestClient, db: Session) -> None:
    world = build_world(db)
    assert login(client, world.users[Role.BILLING].email, PASSWORD).status_code == 303
    token = csrf_from(client.get("/imports").text)
    files = {"file": ("week.csv", EXPORT.read_bytes())}
    staged = client.post("/imports", data={"csrf_token": token}, files=files)
    assert staged.status_code == 303, staged.text
    batch_id = int(staged.headers["location"].rsplit("/", 1)[1])

    committed = client.post(f"/imports/{batch_id}/commit", data={"csrf_token": token})

    page = client.get(committed.headers["location"]).text
    shown = dict(re.findall(r'data-written="([^"]+)">(\d+) ', page))
    assert shown["sessions"] == "4"
    assert shown["charges"] == "5"
    batch = db.get_one(m.ImportBatch, batch_id)
    assert int(shown["flags"]) == batches.written_counts(batch)["flags"]
    assert re.search(r"Committed: 4 sessions created, 0 updated, \d+ flags raised", page)
