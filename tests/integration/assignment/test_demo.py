"""The demo's billing floor: teams, agents, two rule versions, uneven loads to rebalance."""

from __future__ import annotations

from datetime import timedelta

from revcycle.services import assignment, workload
from revcycle.services.actor import system_actor
from tests import factories as f
from tests.integration.assignment.conftest import TODAY, Book


def test_the_demo_floor_has_uneven_loads_and_a_rebalance_to_propose(book: Book) -> None:
    medicaid = f.make_payer(book.db, kind="medicaid")
    for n in range(40):
        book.claim(
            served_on=TODAY - timedelta(days=(n * 7) % 150),
            balance_cents=[8_000, 15_000, 120_000, 30_000][n % 4],
            payer=medicaid if n % 5 == 0 else None,
        )
    actor = system_actor("demo")
    counts = assignment.seed_demo_assignment(book.db, actor, book.practice.id, TODAY)
    assert counts["teams"] == 4
    assert counts["agents_created"] == 9
    assert counts["rule_versions_saved"] == 2
    assert counts["open_claims"] == 40
    assert counts["claims_reassigned"] == 40
    assert 30 <= counts["claims_handed_to_agents"] <= 40
    in_force = assignment.rules_in_force(book.db, book.practice.organization_id)
    assert (in_force.version, in_force.rules[0].name) == (2, "Medicaid over 60 days")

    load = workload.workload(book.db, actor=book.billing, practice_id=book.practice.id, today=TODAY)
    busy = [a for a in load.agents if a.open_claims]
    assert len(busy) >= 6
    general = next(t for t in load.teams if t.label == "General")
    plan = workload.rebalance_proposal(
        book.db, actor=book.billing, practice_id=book.practice.id, team_id=general.holder_id, today=TODAY
    )
    assert plan.proposal.moves
    assert plan.proposal.after.items < plan.proposal.before.items

    again = assignment.seed_demo_assignment(book.db, actor, book.practice.id, TODAY)
    assert (again["agents_created"], again["rule_versions_saved"], again["claims_reassigned"]) == (0, 0, 0)
    assert again["claims_handed_to_agents"] == 0
