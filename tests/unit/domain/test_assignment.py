"""Assignment rules (first match wins, each condition, validation, the AR defaults) and the
rebalance proposal on a fixed team."""

from __future__ import annotations

import itertools

import pytest

from revcycle.domain import ar_rules
from revcycle.domain.assignment import (
    DEFAULT_RULES,
    AssignmentRule,
    ClaimFacts,
    HeldItem,
    Load,
    Spread,
    assign,
    propose_rebalance,
    validate_rules,
)
from revcycle.domain.problems import Severity, has_errors

CATCH_ALL = AssignmentRule("everything else", team_name="General")


def facts(**values: object) -> ClaimFacts:
    base: dict[str, object] = {"balance_cents": 10_000, "aging_days": 10, "payer_name": "Aetna"}
    return ClaimFacts(**{**base, **values})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "meets", "misses"),
    [
        (
            AssignmentRule("big", "T", balance_over_cents=100_000),
            facts(balance_cents=100_001),
            facts(balance_cents=100_000),
        ),
        (AssignmentRule("old", "T", aged_over_days=90), facts(aging_days=91), facts(aging_days=90)),
        (
            AssignmentRule("mcd", "T", payer_kinds=frozenset({"medicaid"})),
            facts(payer_kind="medicaid"),
            facts(payer_kind="medicare"),
        ),
        (
            AssignmentRule("gov", "T", payer_kinds=frozenset({"government"})),
            facts(payer_kind="medicare_advantage"),
            facts(payer_kind="tricare"),
        ),
        (
            AssignmentRule("gov by name", "T", payer_kinds=frozenset({"government"})),
            facts(payer_name="Novitas Solutions", payer_kind=None),
            facts(payer_name="Blue Shield", payer_kind=None),
        ),
        (AssignmentRule("payer", "T", payer_ids=frozenset({7})), facts(payer_id=7), facts(payer_id=8)),
        (
            AssignmentRule("clinician", "T", provider_ids=frozenset({3})),
            facts(provider_id=3),
            facts(provider_id=None),
        ),
        (
            AssignmentRule("practice", "T", practice_ids=frozenset({2})),
            facts(practice_id=2),
            facts(practice_id=1),
        ),
    ],
)
def test_each_condition_matches_and_misses(
    rule: AssignmentRule, meets: ClaimFacts, misses: ClaimFacts
) -> None:
    assert rule.matches(meets)
    assert not rule.matches(misses)


def test_all_stated_conditions_must_hold() -> None:
    rule = AssignmentRule("big medicaid", "T", balance_over_cents=50_000, payer_kinds=frozenset({"medicaid"}))
    assert rule.matches(facts(balance_cents=60_000, payer_kind="medicaid"))
    assert not rule.matches(facts(balance_cents=60_000, payer_kind="commercial"))
    assert not rule.matches(facts(balance_cents=40_000, payer_kind="medicaid"))


def test_first_match_wins() -> None:
    rules = (
        AssignmentRule("aged", "Escalation", aged_over_days=90),
        AssignmentRule("dana's medicaid", user_id=42, payer_kinds=frozenset({"medicaid"})),
        CATCH_ALL,
    )
    assert assign(facts(aging_days=120, payer_kind="medicaid"), rules).name == "aged"
    assert assign(facts(aging_days=10, payer_kind="medicaid"), rules).user_id == 42
    assert assign(facts(), rules).team_name == "General"


def test_the_defaults_assign_as_the_ar_engine_does() -> None:
    names = ["Aetna", "Medicare Part B", "NJ FamilyCare", "Tricare East"]
    kinds: list[str | None] = [None, "commercial", "medicare", "medicaid", "medicare_advantage", "tricare"]
    for balance, aged, name, kind in itertools.product([0, 100_000, 100_001], [0, 90, 91], names, kinds):
        ours = assign(ClaimFacts(balance, aged, name, kind)).team_name
        theirs = ar_rules.assign(ar_rules.ArClaimFacts(balance, aged, name, kind)).team
        assert ours == theirs, (balance, aged, name, kind)
    assert [r.team_name for r in DEFAULT_RULES] == [
        "Senior Agent",
        "Escalation Team",
        "Government Specialist",
        "General",
    ]


def test_conditions_round_trip_through_json() -> None:
    rule = AssignmentRule(
        "x",
        user_id=5,
        balance_over_cents=1,
        aged_over_days=2,
        payer_kinds=frozenset({"medicaid"}),
        payer_ids=frozenset({3, 1}),
        provider_ids=frozenset({9}),
        practice_ids=frozenset({4}),
    )
    assert rule.conditions()["payer_ids"] == [1, 3]
    assert AssignmentRule.from_conditions("x", rule.conditions(), user_id=5) == rule
    assert CATCH_ALL.conditions() == {}


def codes(rules: list[AssignmentRule]) -> list[tuple[str, str, Severity]]:
    return [(p.code, p.where, p.severity) for p in validate_rules(rules)]


def test_validation_needs_a_catch_all_at_the_end() -> None:
    assert codes([]) == [("assignment.no_catch_all", "rules", Severity.ERROR)]
    assert ("assignment.no_catch_all", "rules", Severity.ERROR) in codes(
        [AssignmentRule("a", "T", aged_over_days=1)]
    )
    assert validate_rules([*DEFAULT_RULES]) == []


def test_validation_finds_unreachable_rules() -> None:
    early_catch_all = codes([CATCH_ALL, AssignmentRule("old", "T", aged_over_days=1), CATCH_ALL])
    assert ("assignment.unreachable", "rule 1", Severity.ERROR) in early_catch_all
    covered = [
        AssignmentRule("big", "T", balance_over_cents=100_000),
        AssignmentRule(
            "bigger medicaid", "U", balance_over_cents=200_000, payer_kinds=frozenset({"medicaid"})
        ),
        AssignmentRule("medicaid", "V", payer_kinds=frozenset({"medicaid"})),
        AssignmentRule("government", "W", payer_kinds=frozenset({"government"})),
        AssignmentRule("medicare", "X", payer_kinds=frozenset({"medicare"})),
        CATCH_ALL,
    ]
    problems = codes(covered)
    assert ("assignment.unreachable", "rule 2", Severity.WARNING) in problems
    assert ("assignment.unreachable", "rule 5", Severity.WARNING) in problems  # government covers it
    assert not any(where in ("rule 3", "rule 4") for _, where, _ in problems)
    assert not has_errors(validate_rules(covered))


def test_validation_of_each_rule() -> None:
    rules = [
        AssignmentRule("", "T", aged_over_days=1),
        AssignmentRule("both", "T", user_id=3, aged_over_days=2),
        AssignmentRule("neither", aged_over_days=3),
        AssignmentRule("negative", "T", balance_over_cents=-1),
        AssignmentRule("odd kind", "T", payer_kinds=frozenset({"hmo"})),
        CATCH_ALL,
    ]
    found = {(code, where) for code, where, _ in codes(rules)}
    assert {
        ("assignment.name", "rule 1"),
        ("assignment.target", "rule 2"),
        ("assignment.target", "rule 3"),
        ("assignment.negative", "rule 4"),
        ("assignment.payer_kind", "rule 5"),
    } <= found


# --- rebalance ---------------------------------------------------------------------------------

ANA, BEN, CAL = 1, 2, 3


def team_items() -> list[HeldItem]:
    """Ana holds 6 claims ($4,200), Ben 2 ($300), Cal none; two wait in the team's queue."""
    ana = [
        HeldItem(i, cents, ANA)
        for i, cents in enumerate([150_000, 90_000, 80_000, 50_000, 30_000, 20_000], 1)
    ]
    ben = [HeldItem(7, 20_000, BEN), HeldItem(8, 10_000, BEN)]
    pool = [HeldItem(9, 40_000, None), HeldItem(10, 5_000, None)]
    return [*ana, *ben, *pool]


def apply(items: list[HeldItem], proposal_moves: tuple) -> dict[int, Load]:  # type: ignore[type-arg]
    holder = {i.claim_id: i.holder_user_id for i in items}
    for move in proposal_moves:
        assert holder[move.claim_id] == move.from_user_id
        holder[move.claim_id] = move.to_user_id
    loads = {u: Load() for u in (ANA, BEN, CAL)}
    for item in items:
        who = holder[item.claim_id]
        assert who is not None  # every claim ends with a member
        loads[who] = loads[who].plus(item.balance_cents)
    return loads


def test_the_rebalance_shrinks_both_spreads_and_keeps_the_totals() -> None:
    items = team_items()
    proposal = propose_rebalance([ANA, BEN, CAL], items)
    assert proposal.before == Spread(6, 420_000)
    assert proposal.unassigned_before == Load(2, 45_000)
    assert proposal.after.items < proposal.before.items
    assert proposal.after.cents < proposal.before.cents
    assert proposal.after.items <= 1
    loads = apply(items, proposal.moves)
    assert loads == dict(proposal.loads_after)
    assert sum(x.items for x in loads.values()) == 10
    assert sum(x.cents for x in loads.values()) == 495_000
    assert Spread.of(loads.values()) == proposal.after
    assert len({m.claim_id for m in proposal.moves}) == len(proposal.moves)


def test_pinned_claims_never_move_and_a_balanced_team_gets_no_moves() -> None:
    items = [HeldItem(1, 500_000, ANA, pinned=True), HeldItem(2, 1_000, ANA), HeldItem(3, 1_000, ANA)]
    proposal = propose_rebalance([ANA, BEN], items)
    assert all(m.claim_id != 1 for m in proposal.moves)
    even = [HeldItem(1, 10_000, ANA), HeldItem(2, 10_000, BEN)]
    assert propose_rebalance([ANA, BEN], even).moves == ()
    assert propose_rebalance([], items).moves == ()


def test_a_large_team_is_evened_out_quickly() -> None:
    """6,000 claims all with one of five agents: the proposal evens them to within a few
    claims and half a percent of the dollars (claims move whole), with hardly a move more than
    the 4,800 needed, and every claim ends with one member."""
    items = [HeldItem(n, 5_000 + (n * 7919) % 200_000, ANA) for n in range(6_000)]
    members = [ANA, BEN, CAL, 4, 5]
    proposal = propose_rebalance(members, items, max_moves=10_000)
    assert proposal.before == Spread(6_000, sum(i.balance_cents for i in items))
    assert proposal.after.items <= 3
    assert proposal.after.cents * 200 <= proposal.before.cents
    assert len(proposal.moves) <= 4_900
    final = {m: Load() for m in members}
    holder = {i.claim_id: ANA for i in items}
    holder.update({mv.claim_id: mv.to_user_id for mv in proposal.moves})
    for item in items:
        final[holder[item.claim_id]] = final[holder[item.claim_id]].plus(item.balance_cents)
    assert final == dict(proposal.loads_after)
