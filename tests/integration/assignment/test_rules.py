"""Assignment rules kept as versions and applied to open claims: idempotent, the follow-up
items' owners follow, a person inside the rule's team keeps the claim."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from revcycle.db import models as m
from revcycle.domain.assignment import DEFAULT_RULES, AssignmentRule
from revcycle.errors import InvalidInput, PermissionDenied
from revcycle.services import assignment, followup
from tests import factories as f
from tests.integration.assignment.conftest import TODAY, Book

GENERAL = AssignmentRule("everything else", team_name="General")


def team_of(book: Book, claim: m.Claim) -> str | None:
    book.db.refresh(claim)
    return book.db.scalar(select(m.Team.name).where(m.Team.id == claim.assignee_team_id))


def test_no_saved_version_means_the_ar_defaults(book: Book) -> None:
    ruleset = assignment.rules_in_force(book.db, book.practice.organization_id)
    assert ruleset.version is None
    assert ruleset.rules == DEFAULT_RULES


def test_saving_writes_whole_new_versions_and_keeps_the_old(book: Book) -> None:
    org = book.practice.organization_id
    first = assignment.save_rules(
        book.db, actor=book.admin, practice_id=book.practice.id, rules=list(DEFAULT_RULES), reason="start"
    )
    medicaid = AssignmentRule(
        "medicaid", team_name="Government Specialist", payer_kinds=frozenset({"medicaid"})
    )
    second = assignment.save_rules(
        book.db,
        actor=book.admin,
        practice_id=book.practice.id,
        rules=[medicaid, GENERAL],
        reason="medicaid first",
    )
    assert (first.version, second.version) == (1, 2)
    assert assignment.rules_in_force(book.db, org).rules == (medicaid, GENERAL)
    versions = assignment.rule_versions(book.db, org)
    assert [v.version for v in versions] == [2, 1]
    assert versions[1].rules == DEFAULT_RULES  # the old version is still readable
    assert versions[0].reason == "medicaid first"
    assert book.db.scalar(select(func.count()).select_from(m.AssignmentRule)) == 6
    audits = book.db.scalars(
        select(m.AuditLog.entity_id).where(m.AuditLog.entity == "assignment_rules")
    ).all()
    assert sorted(audits) == [f"{org}:v1", f"{org}:v2"]
    with pytest.raises(DatabaseError, match="append-only"), book.db.begin_nested():
        book.db.execute(text("UPDATE assignment_rules SET team_name = 'edited'"))


def test_saving_is_refused_for_bad_rules_and_for_non_admins(book: Book) -> None:
    pid = book.practice.id
    with pytest.raises(PermissionDenied):
        assignment.save_rules(book.db, actor=book.billing, practice_id=pid, rules=list(DEFAULT_RULES))
    with pytest.raises(InvalidInput, match="the last rule must match every claim"):
        assignment.save_rules(
            book.db, actor=book.admin, practice_id=pid, rules=[AssignmentRule("old", "T", aged_over_days=9)]
        )
    stranger = f.make_user(book.db)  # works for no practice of this organization
    with pytest.raises(InvalidInput, match=f"rule 1: user {stranger.id} does not work here"):
        assignment.save_rules(
            book.db,
            actor=book.admin,
            practice_id=pid,
            rules=[AssignmentRule("x", user_id=stranger.id), GENERAL],
        )
    with pytest.raises(InvalidInput, match="rule 1: no payer 999999 here"):
        assignment.save_rules(
            book.db,
            actor=book.admin,
            practice_id=pid,
            rules=[AssignmentRule("x", "T", payer_ids=frozenset({999999})), GENERAL],
        )
    assert book.db.scalar(select(func.count()).select_from(m.AssignmentRule)) == 0


def test_apply_assigns_by_the_defaults_twice_idempotently_and_items_follow(book: Book) -> None:
    medicaid = f.make_payer(book.db, kind="medicaid")
    big = book.claim(served_on=TODAY - timedelta(days=10), balance_cents=150_000)
    old = book.claim(served_on=TODAY - timedelta(days=120), balance_cents=20_000)
    gov = book.claim(served_on=TODAY - timedelta(days=10), balance_cents=20_000, payer=medicaid)
    plain = book.claim(served_on=TODAY - timedelta(days=10), balance_cents=20_000)
    book.claim(served_on=TODAY - timedelta(days=10), balance_cents=20_000, status="paid")  # not open
    followup.rebuild(book.db, practice_id=book.practice.id, today=TODAY, actor=book.billing)

    preview = assignment.dry_run(book.db, actor=book.billing, practice_id=book.practice.id, today=TODAY)
    assert (preview.open_claims, preview.would_change) == (4, 4)
    assert ("Senior Agent", 0, 1) in preview.by_target
    assert {s.after for s in preview.sample} == {
        "Senior Agent",
        "Escalation Team",
        "Government Specialist",
        "General",
    }

    run = assignment.apply_rules(book.db, actor=book.admin, practice_id=book.practice.id, today=TODAY)
    assert (run.open_claims, run.changed, run.work_items_updated) == (4, 4, 4)
    assert sorted(run.teams_created) == sorted(
        ["Senior Agent", "Escalation Team", "Government Specialist", "General"]
    )
    assert [team_of(book, c) for c in (big, old, gov, plain)] == [
        "Senior Agent",
        "Escalation Team",
        "Government Specialist",
        "General",
    ]
    items = {i.claim_id: i for i in book.db.scalars(select(m.WorkItem).where(m.WorkItem.kind == "followup"))}
    assert {cid: items[cid].owner_team_id for cid in items} == {
        c.id: c.assignee_team_id for c in (big, old, gov, plain)
    }
    audits = book.db.scalar(
        select(func.count()).select_from(m.AuditLog).where(m.AuditLog.entity == "assignment_run")
    )
    again = assignment.apply_rules(book.db, actor=book.admin, practice_id=book.practice.id, today=TODAY)
    assert (again.changed, again.work_items_updated, again.teams_created) == (0, 0, [])
    after = book.db.scalar(
        select(func.count()).select_from(m.AuditLog).where(m.AuditLog.entity == "assignment_run")
    )
    assert after == audits == 1
    assert (
        followup.rebuild(book.db, practice_id=book.practice.id, today=TODAY, actor=book.billing).changed == 0
    )


def test_a_person_in_the_rules_team_keeps_the_claim_and_a_rule_naming_a_person_wins(book: Book) -> None:
    general = book.team("General")
    gov_team = book.team("Government Specialist")
    kept_by = book.agent(general, "Kim")
    specialist = book.agent(gov_team, "Lee")
    medicaid = f.make_payer(book.db, kind="medicaid")
    held = book.claim(served_on=TODAY, balance_cents=1_000, team=general, user=kept_by)
    elsewhere = book.claim(served_on=TODAY, balance_cents=1_000, team=gov_team, user=specialist)
    gov = book.claim(served_on=TODAY, balance_cents=1_000, payer=medicaid)
    followup.rebuild(book.db, practice_id=book.practice.id, today=TODAY, actor=book.billing)
    assignment.save_rules(
        book.db,
        actor=book.admin,
        practice_id=book.practice.id,
        rules=[
            AssignmentRule("Lee's medicaid", user_id=specialist.id, payer_kinds=frozenset({"medicaid"})),
            GENERAL,
        ],
    )
    run = assignment.apply_rules(book.db, actor=book.admin, practice_id=book.practice.id, today=TODAY)
    assert run.changed == 2  # `held` agrees already: Kim is in General
    for claim in (held, elsewhere, gov):
        book.db.refresh(claim)
    assert (held.assignee_team_id, held.assignee_user_id) == (general.id, kept_by.id)
    assert (elsewhere.assignee_team_id, elsewhere.assignee_user_id) == (general.id, None)
    assert (gov.assignee_team_id, gov.assignee_user_id) == (gov_team.id, specialist.id)
    item = book.db.scalar(select(m.WorkItem).where(m.WorkItem.claim_id == gov.id))
    assert item is not None
    assert (item.owner_team_id, item.owner_user_id) == (gov_team.id, specialist.id)
    assert (
        assignment.apply_rules(book.db, actor=book.admin, practice_id=book.practice.id, today=TODAY).changed
        == 0
    )


def test_applying_needs_an_admin(book: Book) -> None:
    with pytest.raises(PermissionDenied):
        assignment.apply_rules(book.db, actor=book.billing, practice_id=book.practice.id, today=TODAY)
