"""Workload figures on a small hand-built team, and a rebalance applied only for the moves a
person confirmed, a stale one refused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from revcycle.db import models as m
from revcycle.domain.assignment import Move
from revcycle.domain.permissions import Role
from revcycle.errors import InvalidInput, PermissionDenied
from revcycle.services import followup, workload
from tests import factories as f
from tests.integration.assignment.conftest import TODAY, Book


def test_workload_figures_per_agent_and_team(book: Book) -> None:
    general = book.team("General")
    ana, ben = book.agent(general, "Ana"), book.agent(general, "Ben")
    # Ana: two open claims billed $150 each, balances $150 and $50 (the payer paid $100 on it).
    book.claim(served_on=TODAY - timedelta(days=20), balance_cents=15_000, team=general, user=ana)
    paid_some = book.claim(served_on=TODAY - timedelta(days=30), balance_cents=15_000, team=general, user=ana)
    book.pay(paid_some, 10_000, TODAY - timedelta(days=5))
    # Ana: a paid claim served 400 days ago: neither open nor in the 12 months.
    old = book.claim(served_on=TODAY - timedelta(days=400), balance_cents=15_000, team=general, user=ana)
    book.pay(old, 15_000, TODAY - timedelta(days=380))
    old.status = "paid"
    # Ben: one open claim, $150 balance, and a work item of his own not about a claim.
    book.claim(served_on=TODAY - timedelta(days=10), balance_cents=15_000, team=general, user=ben)
    book.db.add(
        m.WorkItem(practice_id=book.practice.id, kind="alert", title="call back", owner_user_id=ben.id)
    )
    book.db.flush()
    followup.rebuild(book.db, practice_id=book.practice.id, today=TODAY, actor=book.billing)

    load = workload.workload(book.db, actor=book.billing, practice_id=book.practice.id, today=TODAY)
    agents = {a.label: a for a in load.agents}
    a, b = agents["Ana"], agents["Ben"]
    assert (a.open_items, a.open_claims, a.open_cents, a.average_cents) == (2, 2, 20_000, 10_000)
    assert (a.billed_cents, a.paid_cents, a.collection_rate) == (30_000, 10_000, Decimal("33.3"))
    assert (b.open_items, b.open_claims, b.open_cents, b.average_cents) == (2, 1, 15_000, 15_000)
    assert (b.billed_cents, b.paid_cents, b.collection_rate) == (15_000, 0, Decimal("0.0"))
    (team,) = load.teams
    # The team: 3 follow-up items (Ben's own alert has no team), 3 open claims, $350.
    assert (team.label, team.open_items, team.open_claims, team.open_cents) == ("General", 3, 3, 35_000)
    assert team.average_cents == 11_667  # 35,000 / 3 = 11,666.67, rounded to the cent
    assert (team.billed_cents, team.paid_cents, team.collection_rate) == (45_000, 10_000, Decimal("22.2"))
    assert "÷" in load.formula


def test_someone_who_sees_only_their_own_queue_sees_only_their_own_load(book: Book) -> None:
    general = book.team("General")
    book.claim(served_on=TODAY, balance_cents=5_000, team=general, user=book.agent(general, "Ana"))
    user = f.make_user(book.db, book.practice, Role.THERAPIST)
    therapist = f.actor_for(book.db, user)
    load = workload.workload(book.db, actor=therapist, practice_id=book.practice.id, today=TODAY)
    assert load.teams == []
    assert [(a.holder_id, a.open_claims) for a in load.agents] == [(user.id, 0)]
    with pytest.raises(PermissionDenied, match="billing staff and administrators"):
        workload.rebalance_proposal(
            book.db, actor=therapist, practice_id=book.practice.id, team_id=general.id, today=TODAY
        )


def test_a_rebalance_applies_only_confirmed_moves_and_refuses_a_stale_one(book: Book) -> None:
    general = book.team("General")
    ana, ben = book.agent(general, "Ana"), book.agent(general, "Ben")
    claims = [
        book.claim(served_on=TODAY - timedelta(days=5), balance_cents=cents, team=general, user=ana)
        for cents in (40_000, 30_000, 20_000, 10_000)
    ]
    followup.rebuild(book.db, practice_id=book.practice.id, today=TODAY, actor=book.billing)
    plan = workload.rebalance_proposal(
        book.db, actor=book.billing, practice_id=book.practice.id, team_id=general.id, today=TODAY
    )
    proposal = plan.proposal
    assert proposal.before.items == 4
    assert proposal.before.cents == 100_000
    assert len(proposal.moves) >= 2
    assert proposal.after.items < proposal.before.items
    assert proposal.after.cents < proposal.before.cents
    assert {mv.to_user_id for mv in proposal.moves} == {ben.id}

    first, *others = proposal.moves
    with pytest.raises(PermissionDenied):
        workload.apply_rebalance(
            book.db, actor=book.billing, practice_id=book.practice.id, team_id=general.id, moves=[first]
        )
    moved = workload.apply_rebalance(
        book.db, actor=book.admin, practice_id=book.practice.id, team_id=general.id, moves=[first]
    )
    assert moved == 1
    holders = {
        c.id: book.db.scalar(select(m.Claim.assignee_user_id).where(m.Claim.id == c.id)) for c in claims
    }
    assert holders[first.claim_id] == ben.id
    assert all(holders[mv.claim_id] == ana.id for mv in others)  # not confirmed, not moved
    item = book.db.scalar(select(m.WorkItem).where(m.WorkItem.claim_id == first.claim_id))
    assert item is not None
    assert (item.owner_team_id, item.owner_user_id) == (general.id, ben.id)
    audit = book.db.scalar(
        select(func.count()).select_from(m.AuditLog).where(m.AuditLog.entity == "team_rebalance")
    )
    assert audit == 1

    with pytest.raises(InvalidInput, match="has moved or closed since the proposal was made"):
        workload.apply_rebalance(
            book.db,
            actor=book.admin,
            practice_id=book.practice.id,
            team_id=general.id,
            moves=[*others, first],
        )
    assert all(  # all or none: the good moves of a refused batch did not happen
        book.db.scalar(select(m.Claim.assignee_user_id).where(m.Claim.id == mv.claim_id)) == ana.id
        for mv in others
    )
    with pytest.raises(InvalidInput, match="is not in the team"):
        workload.apply_rebalance(
            book.db,
            actor=book.admin,
            practice_id=book.practice.id,
            team_id=general.id,
            moves=[Move(others[0].claim_id, 0, ana.id, book.admin.user_id or 0)],
        )
