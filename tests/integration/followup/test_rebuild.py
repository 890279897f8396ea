"""The follow-up engine on a fixed calendar: one work item per claim waiting on its payer,
due when the payer's rule says, rebuilt idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.followup_rules import KIND_EXPECTED_DAYS, QuietWindow
from revcycle.domain.permissions import Role
from revcycle.errors import InvalidInput, PermissionDenied
from revcycle.services import followup
from revcycle.services.actor import Actor
from tests import factories as f
from tests.integration.followup.claims import sent_claim

TODAY = date(2026, 4, 1)


@dataclass
class Book:
    db: Session
    practice: m.Practice
    admin: Actor
    billing: Actor
    provider: m.Provider
    client: m.Client

    def payer(self, kind: str = "commercial") -> m.Payer:
        return f.make_payer(self.db, kind=kind)

    def claim(self, payer: m.Payer, *, sent_on: date, status: str = "submitted") -> m.Claim:
        return sent_claim(
            self.db, self.practice, sent_on=sent_on, payer=payer, client=self.client, status=status
        )

    def paid_history(self, payer: m.Payer, days: list[int], *, paid_on: date) -> None:
        """Claims of ``payer`` paid on ``paid_on``, each ``days`` after its submission."""
        for waited in days:
            claim = self.claim(payer, sent_on=paid_on - timedelta(days=waited), status="paid")
            self.db.add(
                m.ClaimEvent(
                    practice_id=self.practice.id,
                    claim_id=claim.id,
                    from_status="accepted",
                    to_status="paid",
                    source="835",
                    created_at=datetime.combine(paid_on, time(12), tzinfo=UTC),
                )
            )
        self.db.flush()

    def items(self) -> dict[int, m.WorkItem]:
        query = select(m.WorkItem).where(
            m.WorkItem.practice_id == self.practice.id, m.WorkItem.kind == followup.FOLLOWUP
        )
        return {item.claim_id or 0: item for item in self.db.scalars(query)}

    def rebuild(self, today: date = TODAY) -> followup.FollowupRun:
        return followup.rebuild(self.db, practice_id=self.practice.id, today=today, actor=self.billing)


@pytest.fixture
def book(db: Session) -> Book:
    practice = f.make_practice(db)
    admin = f.actor_for(db, f.make_user(db, practice, Role.ADMIN))
    billing = f.actor_for(db, f.make_user(db, practice, Role.BILLING))
    return Book(db, practice, admin, billing, f.make_provider(db, practice), f.make_client(db, practice))


def test_each_claim_waiting_on_its_payer_gets_one_item_due_by_the_rule(book: Book) -> None:
    payer = book.payer("medicaid")
    waiting = book.claim(payer, sent_on=date(2026, 3, 1))
    book.claim(payer, sent_on=date(2026, 3, 1), status="paid")
    book.claim(payer, sent_on=date(2026, 3, 1), status="draft")
    run = book.rebuild()
    assert (run.created, run.updated, run.resolved) == (1, 0, 0)
    (item,) = book.items().values()
    assert item.claim_id == waiting.id
    expected = KIND_EXPECTED_DAYS["medicaid"]  # nothing learned yet, no rule written
    assert item.due_on == date(2026, 3, 1) + timedelta(days=expected + 5)
    assert item.rule == "built-in default"
    assert "usual for medicaid" in item.detail
    assert item.status == "open"


def test_rebuilding_twice_changes_nothing(book: Book) -> None:
    payer = book.payer()
    for day in (1, 5, 20):
        book.claim(payer, sent_on=date(2026, 3, day))
    first = book.rebuild()
    assert first.created == 3
    before = {cid: (i.due_on, i.severity, i.title, i.detail, i.rule) for cid, i in book.items().items()}
    audits = book.db.scalar(select(func.count()).select_from(m.AuditLog))
    again = book.rebuild()
    assert again.changed == 0
    assert again.unchanged == 3
    assert {
        cid: (i.due_on, i.severity, i.title, i.detail, i.rule) for cid, i in book.items().items()
    } == before
    assert book.db.scalar(select(func.count()).select_from(m.AuditLog)) == audits  # no run recorded


def test_a_claim_paid_drops_out_and_one_reversed_comes_back(book: Book) -> None:
    claim = book.claim(book.payer(), sent_on=date(2026, 3, 1))
    book.rebuild()
    claim.status = "paid"
    book.db.flush()
    run = book.rebuild(TODAY + timedelta(days=1))
    assert run.resolved == 1
    assert book.items()[claim.id].status == "resolved"
    claim.status = "accepted"
    book.db.flush()
    back = book.rebuild(TODAY + timedelta(days=2))
    assert back.reopened == 1
    assert book.items()[claim.id].status == "open"


def test_the_payers_rule_applies_and_the_item_names_its_version(book: Book) -> None:
    payer = book.payer()
    claim = book.claim(payer, sent_on=date(2026, 3, 1))
    scope = f"payer:{payer.id}"
    followup.save_rule(
        book.db,
        actor=book.admin,
        practice_id=book.practice.id,
        change=followup.RuleChange(scope, expected_days=20, grace_days=5),
    )
    book.rebuild()
    assert book.items()[claim.id].due_on == date(2026, 3, 26)  # pays in 20 days: a look on day 25
    assert book.items()[claim.id].rule == f"payer {payer.id} v1"
    followup.save_rule(
        book.db,
        actor=book.admin,
        practice_id=book.practice.id,
        change=followup.RuleChange(scope, expected_days=40, grace_days=2, reason="slower lately"),
    )
    run = book.rebuild()
    assert run.updated == 1
    assert book.items()[claim.id].due_on == date(2026, 4, 12)
    assert book.items()[claim.id].rule == f"payer {payer.id} v2"
    versions = book.db.scalars(select(m.FollowupRule.version).where(m.FollowupRule.scope == scope))
    assert sorted(versions) == [1, 2]  # a change is a new version, never an edit


def test_a_kind_default_applies_to_payers_without_their_own(book: Book) -> None:
    medicare = book.payer("medicare")
    claim = book.claim(medicare, sent_on=date(2026, 3, 1))
    followup.save_rule(
        book.db,
        actor=book.admin,
        practice_id=book.practice.id,
        change=followup.RuleChange("kind:medicare", expected_days=14, grace_days=3),
    )
    book.rebuild()
    assert book.items()[claim.id].due_on == date(2026, 3, 18)
    assert book.items()[claim.id].rule == "kind medicare v1"


def test_expected_days_are_learned_from_the_payers_payments(book: Book) -> None:
    payer = book.payer()
    book.paid_history(payer, [10, 12, 14, 15, 16, 18, 18, 19, 22, 30], paid_on=date(2026, 3, 20))
    claim = book.claim(payer, sent_on=date(2026, 3, 1))
    book.rebuild()
    item = book.items()[claim.id]
    assert item.due_on == date(2026, 3, 1) + timedelta(days=19 + 5)  # the 8th of 10 sorted
    assert "19 (learned)" in item.detail


def test_nine_payments_are_not_enough_to_learn_from(book: Book) -> None:
    payer = book.payer()
    book.paid_history(payer, [10] * 9, paid_on=date(2026, 3, 20))
    claim = book.claim(payer, sent_on=date(2026, 3, 1))
    book.rebuild()
    assert book.items()[claim.id].due_on == date(2026, 3, 1) + timedelta(
        days=KIND_EXPECTED_DAYS["commercial"] + 5
    )


def test_payments_older_than_180_days_are_not_learned_from(book: Book) -> None:
    payer = book.payer()
    book.paid_history(payer, [10] * 10, paid_on=TODAY - timedelta(days=181))
    claim = book.claim(payer, sent_on=date(2026, 3, 1))
    book.rebuild()
    assert "(usual for commercial)" in book.items()[claim.id].detail


def test_a_quiet_window_and_escalation(book: Book) -> None:
    payer = book.payer()
    old = book.claim(payer, sent_on=TODAY - timedelta(days=61))
    quiet = book.claim(payer, sent_on=date(2026, 3, 1))
    window = QuietWindow(date(2026, 3, 25), date(2026, 3, 27), "portal maintenance")
    followup.save_rule(
        book.db,
        actor=book.admin,
        practice_id=book.practice.id,
        change=followup.RuleChange(f"payer:{payer.id}", expected_days=20, quiet_windows=(window,)),
    )
    book.rebuild()
    items = book.items()
    assert items[quiet.id].due_on == date(2026, 3, 28)
    assert "portal maintenance" in items[quiet.id].detail
    assert items[old.id].severity == "critical"
    assert "escalates after 60" in items[old.id].detail


def test_a_note_date_moves_the_item(book: Book) -> None:
    claim = book.claim(book.payer(), sent_on=date(2026, 3, 1))
    book.rebuild()
    claim.next_followup_on = date(2026, 4, 20)
    book.db.flush()
    assert book.rebuild().updated == 1
    assert book.items()[claim.id].due_on == date(2026, 4, 20)
    assert book.items()[claim.id].severity == "info"


def test_rules_are_an_admins_and_are_checked(book: Book) -> None:
    with pytest.raises(PermissionDenied):
        followup.save_rule(
            book.db, actor=book.billing, practice_id=book.practice.id, change=followup.RuleChange("practice")
        )
    with pytest.raises(InvalidInput, match="repeat_days"):
        followup.save_rule(
            book.db,
            actor=book.admin,
            practice_id=book.practice.id,
            change=followup.RuleChange("practice", repeat_days=0),
        )
    with pytest.raises(InvalidInput, match="scope"):
        followup.save_rule(
            book.db,
            actor=book.admin,
            practice_id=book.practice.id,
            change=followup.RuleChange("payer:999999"),
        )


def test_a_dry_run_shows_what_a_change_would_do_and_saves_nothing(book: Book) -> None:
    payer, other = book.payer(), book.payer()
    mine = [book.claim(payer, sent_on=date(2026, 3, d)) for d in (1, 10)]
    book.claim(other, sent_on=date(2026, 3, 1))
    book.rebuild()
    before = {cid: i.due_on for cid, i in book.items().items()}
    found = followup.dry_run(
        book.db,
        actor=book.admin,
        practice_id=book.practice.id,
        today=TODAY,
        change=followup.RuleChange(f"payer:{payer.id}", expected_days=10, grace_days=0),
    )
    assert found.claims == 2  # the other payer's claim is not touched
    assert found.moved_earlier == 2
    assert {row.claim_id for row in found.examples} == {c.id for c in mine}
    assert found.then_needing_action == 2
    assert book.db.scalar(select(func.count()).select_from(m.FollowupRule)) == 0
    assert {cid: i.due_on for cid, i in book.items().items()} == before


def test_follow_ups_raised_by_others_are_left_alone(book: Book) -> None:
    """A denial's follow-up (or one a person made) is not the engine's to resolve."""
    claim = book.claim(book.payer(), sent_on=date(2026, 3, 1), status="denied")
    theirs = m.WorkItem(
        practice_id=book.practice.id,
        kind=followup.FOLLOWUP,
        title="Appeal the denial",
        rule="denial",
        dedupe_key=f"denial:{claim.id}",
        claim_id=claim.id,
    )
    book.db.add(theirs)
    book.db.flush()
    run = book.rebuild()
    assert run.resolved == 0
    assert book.db.get(m.WorkItem, theirs.id).status == "open"  # type: ignore[union-attr]
