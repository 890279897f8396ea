"""/followup-rules: what applies to each payer, every version, and a form with a dry run and
a save; administrators only; a refusal names the field and keeps what was typed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.integration.conftest import PASSWORD, csrf_from, login
from tests.integration.followup.claims import sent_claim


@pytest.fixture
def office(db: Session) -> tuple[m.User, m.User, m.Payer]:
    """An admin, a billing specialist, and a payer with a claim sent 40 days ago."""
    practice = f.make_practice(db)
    admin = f.make_user(db, practice, Role.ADMIN)
    billing = f.make_user(db, practice, Role.BILLING)
    for user in (admin, billing):
        user.password_hash = hash_password(PASSWORD)
    payer = f.make_payer(db, name="Summit Mutual")
    sent_claim(db, practice, sent_on=date.today() - timedelta(days=40), payer=payer)
    return admin, billing, payer


def test_an_admin_dry_runs_then_saves_a_payers_rule(
    client: TestClient, db: Session, office: tuple[m.User, m.User, m.Payer]
) -> None:
    admin, _, payer = office
    assert login(client, admin.email).status_code == 303
    page = client.get("/followup-rules")
    assert page.status_code == 200
    assert "Summit Mutual" in page.text
    assert "built-in default" in page.text
    form = {
        "csrf_token": csrf_from(page.text),
        "scope": f"payer:{payer.id}",
        "expected_days": "50",
        "grace_days": "5",
        "repeat_days": "10",
        "escalate_after_days": "90",
        "reason": "pays slowly",
    }
    dry = client.post("/followup-rules", data={**form, "action": "dry_run"})
    assert dry.status_code == 200
    assert "1 open claim would follow this rule" in dry.text
    assert "0 would be looked at earlier, 1 later" in dry.text
    assert db.scalar(select(func.count()).select_from(m.FollowupRule)) == 0  # nothing saved
    assert 'value="50"' in dry.text  # what was typed is kept
    saved = client.post("/followup-rules", data={**form, "action": "save"})
    assert saved.status_code == 303
    after = client.get(saved.headers["location"])
    assert "Saved as a new version" in after.text
    assert f'data-scope="payer:{payer.id}" data-version="1"' in after.text
    assert f"payer {payer.id} v1" in after.text


def test_a_bad_field_is_named_and_nothing_is_saved(
    client: TestClient, db: Session, office: tuple[m.User, m.User, m.Payer]
) -> None:
    admin, _, _ = office
    assert login(client, admin.email).status_code == 303
    token = csrf_from(client.get("/followup-rules").text)
    for fields, message in (
        ({"repeat_days": "two weeks"}, "repeat_days: &#39;two weeks&#39; is not a whole number of days"),
        ({"repeat_days": "0"}, "repeat_days: between 1 and 180"),
        ({"quiet_starts_on": "2026-12-24"}, "quiet window: give both its first and its last day"),
        ({"scope": "payer:999999"}, "scope: payer 999999 does not exist"),
    ):
        answer = client.post(
            "/followup-rules", data={"csrf_token": token, "scope": "practice", "action": "save", **fields}
        )
        assert answer.status_code == 422
        assert message in answer.text
    assert db.scalar(select(func.count()).select_from(m.FollowupRule)) == 0


def test_only_administrators_see_the_rules(
    client: TestClient, office: tuple[m.User, m.User, m.Payer]
) -> None:
    _, billing, _ = office
    assert login(client, billing.email).status_code == 303
    assert client.get("/followup-rules").status_code == 403
