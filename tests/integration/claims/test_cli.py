"""`revcycle claims ready|submit|list` round trip on an installation (a SQLite file)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from revcycle.cli import build_app
from revcycle.db import models as m
from tests import factories as f
from tests.integration.imports.conftest import installation

__all__ = ["installation"]


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args))
    return result.exit_code, result.output


def _billable_sessions(engine: Engine) -> list[int]:
    with Session(engine) as db:
        practice = db.scalars(select(m.Practice)).one()
        practice.postal_code = "071021234"
        client = f.make_client(db, practice)
        client.address_line1, client.city, client.state, client.postal_code = (
            "5 Elm St",
            "Newark",
            "NJ",
            "07103",
        )
        provider = f.make_provider(db, practice)
        payer = f.make_payer(db, name="Aetna")
        portal = m.InsurancePortal(practice_id=practice.id, name="Availity")
        db.add(portal)
        db.flush()
        db.add(
            m.PracticePayer(
                practice_id=practice.id,
                payer_id=payer.id,
                billing_route="portal",
                portal_id=portal.id,
                timely_filing_days=3650,
            )
        )
        f.make_coverage(db, client, payer)
        # in a shipped ICD-10-CM release (FY2026), with a filing limit long enough to stay open
        start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
        good = f.make_session(db, practice, client, provider, starts_at=start)
        draft = f.make_session(
            db, practice, client, provider, starts_at=start - timedelta(days=1), note_status="draft"
        )
        db.commit()
        return [good.id, draft.id]


def test_cli_marks_ready_submits_via_a_portal_and_lists(installation: Engine) -> None:
    good, draft = _billable_sessions(installation)
    code, output = _run("claims", "ready", str(good), str(draft), "--json", "--as", "desk@example.test")
    assert code == 0, output
    ready = json.loads(output)
    assert ready["marked"] == [good]
    assert ready["refused"] == [{"session_id": draft, "reason": "the note is not locked"}]
    [claim] = ready["claims"]
    assert claim["status"] == "ready", claim["problems"]

    code, output = _run(
        "claims", "submit", str(claim["id"]), "--portal", "Availity", "--reference", "AV-9", "--json"
    )
    assert code == 0, output
    assert json.loads(output)["submissions"][0]["channel"] == "portal"

    code, output = _run("claims", "list", "--status", "submitted", "--json")
    assert code == 0, output
    listed = json.loads(output)
    assert listed["total"] == 1
    assert listed["claims"][0]["number"] == claim["number"]

    code, output = _run("claims", "submit", str(claim["id"]))
    assert code == 1
    assert "is submitted, not ready" in output
