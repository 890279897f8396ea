"""/assignment-rules and /workload in the browser's terms: the list edited, dry run, save,
apply, version history; workload tables, a proposed rebalance with ticked moves; refusals
are messages; the API answers the same figures."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.integration.assignment.conftest import Book
from tests.integration.conftest import PASSWORD, csrf_from, login


def person(book: Book, role: Role, team: m.Team | None = None, name: str = "") -> m.User:
    user = book.agent(team, name or f"{role} person")
    membership = book.db.scalar(select(m.Membership).where(m.Membership.user_id == user.id))
    assert membership is not None
    membership.role = str(role)
    user.password_hash = hash_password(PASSWORD)
    book.db.flush()
    return user


def rules_form(token: str, *rows: dict[str, str | list[str]], action: str) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {"csrf_token": token, "action": action, "reason": "page test"}
    for i, row in enumerate(rows):
        data.update({f"r{i}_{key}": value for key, value in row.items()})
    return data


def test_an_admin_edits_dry_runs_saves_and_applies_the_rules(
    client: TestClient, db: Session, book: Book
) -> None:
    admin = person(book, Role.ADMIN)
    medicaid = f.make_payer(db, kind="medicaid", name="State Medicaid")
    today = date.today()
    claim = book.claim(served_on=today - timedelta(days=5), balance_cents=5_000, payer=medicaid)
    assert login(client, admin.email).status_code == 303
    page = client.get("/assignment-rules")
    assert page.status_code == 200
    assert "the built-in defaults" in page.text
    assert page.text.count('data-testid="rule-card"') == 5  # the four defaults and a blank one
    token = csrf_from(page.text)
    rows = (
        {"position": "2", "name": "everything else", "team": "General"},
        {"position": "1", "name": "medicaid", "team": "Government Specialist", "kinds": ["medicaid"]},
        {"position": "3", "name": "old rule", "team": "X", "aged_over_days": "9", "remove": "1"},
        {"position": "4", "name": ""},
    )
    dry = client.post("/assignment-rules", data=rules_form(token, *rows, action="dry_run"))
    assert dry.status_code == 200, dry.text
    assert "1 of 1 open claim would change hands" in dry.text
    assert "Nothing was saved" in dry.text
    assert db.scalar(select(func.count()).select_from(m.AssignmentRule)) == 0
    saved = client.post("/assignment-rules", data=rules_form(token, *rows, action="save"))
    assert saved.status_code == 303
    after = client.get(saved.headers["location"])
    assert "Saved as a new version" in after.text
    assert 'data-version="1"' in after.text
    assert "medicaid: payer kind Medicaid → Government Specialist" in after.text
    assert "everything else: every claim → General" in after.text
    names = db.scalars(select(m.AssignmentRule.name).order_by(m.AssignmentRule.position)).all()
    assert names == ["medicaid", "everything else"]  # reordered, the removed one gone
    applied = client.post("/assignment-rules", data={"csrf_token": token, "action": "apply"})
    assert applied.status_code == 200
    assert "1 reassigned" in applied.text
    db.refresh(claim)
    assert (
        db.scalar(select(m.Team.name).where(m.Team.id == claim.assignee_team_id)) == "Government Specialist"
    )


def test_bad_rules_are_named_and_what_was_typed_is_kept(client: TestClient, db: Session, book: Book) -> None:
    admin = person(book, Role.ADMIN)
    assert login(client, admin.email).status_code == 303
    token = csrf_from(client.get("/assignment-rules").text)
    for rows, message in (
        (({"name": "old", "team": "T", "aged_over_days": "9"},), "the last rule must match every claim"),
        (
            ({"name": "big", "team": "T", "balance_over": "lots"}, {"name": "rest", "team": "G"}),
            "rule 1: balance over",
        ),
        (
            ({"name": "old", "team": "T", "aged_over_days": "nine"}, {"name": "rest", "team": "G"}),
            "not a whole number",
        ),
        (({"name": "nobody"},), "a rule assigns to one team or one person"),
    ):
        answer = client.post("/assignment-rules", data=rules_form(token, *rows, action="save"))
        assert answer.status_code == 422, answer.text
        assert message in answer.text
        assert f'value="{rows[0]["name"]}"' in answer.text
    assert db.scalar(select(func.count()).select_from(m.AssignmentRule)) == 0


def test_billing_may_look_but_not_save(client: TestClient, book: Book) -> None:
    billing = person(book, Role.BILLING)
    assert login(client, billing.email).status_code == 303
    page = client.get("/assignment-rules")
    assert page.status_code == 200
    assert "Only an administrator can change or apply the rules" in page.text
    token = csrf_from(page.text)
    refused = client.post("/assignment-rules", data={"csrf_token": token, "action": "apply"})
    assert refused.status_code == 403
    assert client.get("/workload").status_code == 200


def test_a_therapist_sees_neither_the_rules_nor_anyone_elses_workload(client: TestClient, book: Book) -> None:
    therapist = person(book, Role.THERAPIST)
    assert login(client, therapist.email).status_code == 303
    assert client.get("/assignment-rules").status_code == 403
    workload = client.get("/workload")
    assert workload.status_code == 200
    assert "propose rebalance" not in workload.text.lower()


def test_workload_page_proposes_and_applies_only_ticked_moves(
    client: TestClient, db: Session, book: Book
) -> None:
    admin = person(book, Role.ADMIN)
    general = book.team("General")
    ana, ben = person(book, Role.BILLING, general, "Ana"), person(book, Role.BILLING, general, "Ben")
    today = date.today()
    claims = [
        book.claim(served_on=today - timedelta(days=3), balance_cents=c, team=general, user=ana)
        for c in (30_000, 20_000, 10_000, 5_000)
    ]
    assert login(client, admin.email).status_code == 303
    page = client.get("/workload")
    assert page.status_code == 200
    assert "collection rate = payments posted" in page.text.lower()
    assert f'data-agent="{ana.id}"' in page.text
    assert "$650.00" in page.text
    proposal = client.get(f"/workload?team={general.id}")
    assert proposal.status_code == 200
    assert 'data-testid="moves"' in proposal.text
    token = csrf_from(proposal.text)
    ticked = f"{claims[0].id}:{ana.id}:{ben.id}"
    assert f'value="{ticked}"' in proposal.text
    done = client.post(
        "/workload/rebalance", data={"csrf_token": token, "team_id": str(general.id), "move": ticked}
    )
    assert done.status_code == 303
    holders = [db.scalar(select(m.Claim.assignee_user_id).where(m.Claim.id == c.id)) for c in claims]
    assert holders == [ben.id, ana.id, ana.id, ana.id]
    stale = client.post(
        "/workload/rebalance", data={"csrf_token": token, "team_id": str(general.id), "move": ticked}
    )
    assert stale.status_code == 422
    assert "has moved or closed since the proposal was made" in stale.text
    nothing = client.post("/workload/rebalance", data={"csrf_token": token, "team_id": str(general.id)})
    assert nothing.status_code == 422
    assert "tick at least one" in nothing.text
    garbled = client.post("/workload/rebalance", data={"csrf_token": token, "team_id": "x", "move": "a:b"})
    assert garbled.status_code == 422

    api = client.get("/api/workload")
    assert api.status_code == 200
    agents = {a["name"]: a for a in api.json()["agents"]}
    assert (agents["Ana"]["open_claims"], agents["Ana"]["open_cents"]) == (3, 35_000)
    rules = client.get("/api/assignment-rules").json()
    assert rules["in_force"]["version"] is None
    assert [r["team_name"] for r in rules["in_force"]["rules"]][-1] == "General"
