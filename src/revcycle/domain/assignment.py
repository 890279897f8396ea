"""Assignment rules and workload rebalancing: who works which open claim.

A billing company's agents work the open claims in their queues. **Assignment rules** say whose
queue a claim lands in: an ordered list, *first match wins*. A rule names the conditions a
claim must meet — every stated one — and a target, either a team (by name; each practice has
its own team of that name) or one person:

- ``balance_over_cents``: the claim's insurance balance is more than this;
- ``aged_over_days``: the claim is older (days since the date of service) than this;
- ``payer_kinds``: the payer's kind is one of these (``commercial``, ``medicare``, ``medicaid``,
  ``medicare_advantage``, ``tricare``, ``self_pay``); ``government`` is shorthand for Medicare,
  Medicaid and Medicare Advantage. A payer whose kind is not known yet is judged by its name
  (:func:`revcycle.domain.ar_rules.government_kind_from_name`), as the AR engine does;
- ``payer_ids``, ``provider_ids`` (the claim's clinician), ``practice_ids``: one of these.

A rule with no condition matches every claim, so the list must end with one and nothing may
follow it. With no saved list, the AR engine's defaults apply (:data:`DEFAULT_RULES`, the same
rules as :data:`revcycle.domain.ar_rules.DEFAULT_RULES` in this form), so an organization that
never edits its rules sees the AR import's assignment unchanged.

**Rebalancing** evens out the load of a team's members (see :func:`propose_rebalance`): it
proposes moves of claims from one member to another, and hands out the claims waiting in the
team's own queue (assigned to the team but to nobody in it). It only proposes: a person
confirms the moves to apply.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from revcycle.domain.ar_rules import DEFAULT_RULES as AR_DEFAULT_RULES
from revcycle.domain.ar_rules import GOVERNMENT_KINDS, PayerKind, government_kind_from_name
from revcycle.domain.ar_rules import Rule as ArRule
from revcycle.domain.problems import Problem, Severity

__all__ = [
    "DEFAULT_RULES",
    "GOVERNMENT",
    "PAYER_KIND_CHOICES",
    "AssignmentRule",
    "ClaimFacts",
    "HeldItem",
    "Load",
    "Move",
    "RebalanceProposal",
    "Spread",
    "assign",
    "from_ar_rule",
    "propose_rebalance",
    "validate_rules",
]

GOVERNMENT = "government"
PAYER_KIND_CHOICES: tuple[str, ...] = (GOVERNMENT, *(str(kind) for kind in PayerKind))
_GOVERNMENT_KINDS = frozenset(str(kind) for kind in GOVERNMENT_KINDS)
NAME_MAX = 100


@dataclass(frozen=True)
class ClaimFacts:
    """What the rules look at: one open claim."""

    balance_cents: int
    aging_days: int
    payer_name: str = ""
    payer_kind: str | None = None  # None: the payer is not in the catalog yet, judge by name
    payer_id: int | None = None
    provider_id: int | None = None
    practice_id: int | None = None

    @property
    def kind(self) -> str | None:
        """The payer's kind, or what its name tells (Medicare, Medicaid), or None."""
        if self.payer_kind is not None:
            return self.payer_kind
        found = government_kind_from_name(self.payer_name)
        return str(found) if found is not None else None


def _expanded(kinds: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for kind in kinds:
        out |= _GOVERNMENT_KINDS if kind == GOVERNMENT else {kind}
    return frozenset(out)


@dataclass(frozen=True)
class AssignmentRule:
    """Claims meeting every stated condition go to ``team_name`` or to the person ``user_id``."""

    name: str
    team_name: str = ""
    user_id: int | None = None
    balance_over_cents: int | None = None
    aged_over_days: int | None = None
    payer_kinds: frozenset[str] = frozenset()
    payer_ids: frozenset[int] = frozenset()
    provider_ids: frozenset[int] = frozenset()
    practice_ids: frozenset[int] = frozenset()

    @property
    def is_catch_all(self) -> bool:
        return not self.conditions()

    @property
    def target(self) -> str:
        return f"user:{self.user_id}" if self.user_id is not None else f"team:{self.team_name}"

    def conditions(self) -> dict[str, Any]:
        """The stated conditions as JSON (what ``assignment_rules.conditions`` stores)."""
        out: dict[str, Any] = {}
        if self.balance_over_cents is not None:
            out["balance_over_cents"] = self.balance_over_cents
        if self.aged_over_days is not None:
            out["aged_over_days"] = self.aged_over_days
        for name in ("payer_kinds", "payer_ids", "provider_ids", "practice_ids"):
            values = getattr(self, name)
            if values:
                out[name] = sorted(values)
        return out

    @classmethod
    def from_conditions(
        cls,
        name: str,
        conditions: Mapping[str, Any],
        *,
        team_name: str = "",
        user_id: int | None = None,
    ) -> AssignmentRule:
        """The rule a stored row describes (unknown keys are ignored)."""

        def ints(key: str) -> frozenset[int]:
            return frozenset(int(value) for value in conditions.get(key) or ())

        balance, aged = conditions.get("balance_over_cents"), conditions.get("aged_over_days")
        return cls(
            name=name,
            team_name=team_name,
            user_id=user_id,
            balance_over_cents=int(balance) if balance is not None else None,
            aged_over_days=int(aged) if aged is not None else None,
            payer_kinds=frozenset(str(kind) for kind in conditions.get("payer_kinds") or ()),
            payer_ids=ints("payer_ids"),
            provider_ids=ints("provider_ids"),
            practice_ids=ints("practice_ids"),
        )

    def matches(self, facts: ClaimFacts) -> bool:
        if self.balance_over_cents is not None and not facts.balance_cents > self.balance_over_cents:
            return False
        if self.aged_over_days is not None and not facts.aging_days > self.aged_over_days:
            return False
        if self.payer_kinds and facts.kind not in _expanded(self.payer_kinds):
            return False
        if self.payer_ids and facts.payer_id not in self.payer_ids:
            return False
        if self.provider_ids and facts.provider_id not in self.provider_ids:
            return False
        return not (self.practice_ids and facts.practice_id not in self.practice_ids)

    def covers(self, other: AssignmentRule) -> bool:
        """True when every claim ``other`` matches, this rule matches too (so ``other``,
        placed after this one, is never reached)."""
        if self.balance_over_cents is not None and (
            other.balance_over_cents is None or other.balance_over_cents < self.balance_over_cents
        ):
            return False
        if self.aged_over_days is not None and (
            other.aged_over_days is None or other.aged_over_days < self.aged_over_days
        ):
            return False
        if self.payer_kinds and not (
            other.payer_kinds and _expanded(other.payer_kinds) <= _expanded(self.payer_kinds)
        ):
            return False
        return all(
            not getattr(self, name) or (getattr(other, name) and getattr(other, name) <= getattr(self, name))
            for name in ("payer_ids", "provider_ids", "practice_ids")
        )


def from_ar_rule(rule: ArRule) -> AssignmentRule:
    """An AR engine rule in this form (its government test is the ``government`` kind)."""
    return AssignmentRule(
        name=rule.name,
        team_name=rule.team,
        balance_over_cents=rule.balance_over_cents,
        aged_over_days=rule.aged_over_days,
        payer_kinds=frozenset({GOVERNMENT}) if rule.government_payer else frozenset(),
    )


# The AR engine's defaults (> $1,000 Senior Agent, > 90 days Escalation Team, government payer
# Government Specialist, else General). ``government_payer=False`` is not expressible, and the
# AR defaults do not use it.
DEFAULT_RULES: tuple[AssignmentRule, ...] = tuple(from_ar_rule(rule) for rule in AR_DEFAULT_RULES)


def assign(facts: ClaimFacts, rules: Sequence[AssignmentRule] = DEFAULT_RULES) -> AssignmentRule:
    """The first rule (in order) the claim meets."""
    for rule in rules:
        if rule.matches(facts):
            return rule
    raise ValueError("no assignment rule matched; the rules must end with a catch-all")


def _rule_problems(rule: AssignmentRule, where: str) -> list[Problem]:
    problems = []
    if not rule.name.strip():
        problems.append(Problem("assignment.name", where, "a rule needs a name"))
    elif len(rule.name) > NAME_MAX:
        problems.append(Problem("assignment.name", where, f"a rule's name is at most {NAME_MAX} characters"))
    has_team, has_user = bool(rule.team_name.strip()), rule.user_id is not None
    if has_team == has_user:
        problems.append(Problem("assignment.target", where, "a rule assigns to one team or one person"))
    if len(rule.team_name) > NAME_MAX:
        problems.append(
            Problem("assignment.target", where, f"a team's name is at most {NAME_MAX} characters")
        )
    for name in ("balance_over_cents", "aged_over_days"):
        value = getattr(rule, name)
        if value is not None and value < 0:
            problems.append(Problem("assignment.negative", where, f"{name} cannot be negative"))
    unknown = sorted(set(rule.payer_kinds) - set(PAYER_KIND_CHOICES))
    if unknown:
        message = f"unknown payer kind {', '.join(unknown)} (one of {', '.join(PAYER_KIND_CHOICES)})"
        problems.append(Problem("assignment.payer_kind", where, message))
    return problems


def validate_rules(rules: Sequence[AssignmentRule]) -> list[Problem]:
    """Problems with a rule list: each rule's own (name, one target, sane numbers, known payer
    kinds); it must end with a catch-all; a rule an earlier one covers is never reached (an
    error for a catch-all before the end, a warning otherwise). Whether a named team or person
    exists is the service's to tell."""
    problems: list[Problem] = []
    if not rules or not rules[-1].is_catch_all:
        message = "the last rule must match every claim (no conditions)"
        problems.append(Problem("assignment.no_catch_all", "rules", message))
    for number, rule in enumerate(rules, start=1):
        where = f"rule {number}"
        problems += _rule_problems(rule, where)
        if rule.is_catch_all and number < len(rules):
            message = f"rule {rule.name!r} matches every claim, so the rules after it never apply"
            problems.append(Problem("assignment.unreachable", where, message))
            continue
        earlier = next((e for e, prior in enumerate(rules[: number - 1], 1) if prior.covers(rule)), None)
        if earlier is not None and not rules[earlier - 1].is_catch_all:
            message = f"rule {earlier} already takes every claim this rule would, so it never applies"
            problems.append(Problem("assignment.unreachable", where, message, Severity.WARNING))
    return problems


# --- rebalancing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldItem:
    """One open claim in a team's queue: who holds it (None: the team's own queue, nobody
    in it yet) and its balance. ``pinned``: a rule names the holder, never move it."""

    claim_id: int
    balance_cents: int
    holder_user_id: int | None
    pinned: bool = False


@dataclass(frozen=True)
class Move:
    claim_id: int
    balance_cents: int
    from_user_id: int | None
    to_user_id: int


@dataclass(frozen=True)
class Load:
    items: int = 0
    cents: int = 0

    def plus(self, cents: int, sign: int = 1) -> Load:
        return Load(self.items + sign, self.cents + sign * cents)


@dataclass(frozen=True)
class Spread:
    """The gap between the most and the least loaded member, in items and in dollars."""

    items: int
    cents: int

    @classmethod
    def of(cls, loads: Iterable[Load]) -> Spread:
        loads = list(loads)
        if not loads:
            return cls(0, 0)
        return cls(
            max(x.items for x in loads) - min(x.items for x in loads),
            max(x.cents for x in loads) - min(x.cents for x in loads),
        )


@dataclass(frozen=True)
class RebalanceProposal:
    moves: tuple[Move, ...]
    before: Spread
    after: Spread
    loads_before: Mapping[int, Load] = field(default_factory=dict)
    loads_after: Mapping[int, Load] = field(default_factory=dict)
    unassigned_before: Load = Load()


def _score(load: Load, total: Load) -> Fraction:
    """A member's share of the team's items plus its share of the dollars."""
    return Fraction(load.items, max(total.items, 1)) + Fraction(load.cents, max(total.cents, 1))


def propose_rebalance(
    member_ids: Sequence[int], items: Sequence[HeldItem], *, max_moves: int = 500
) -> RebalanceProposal:
    """Moves that even out the members' open items and dollars (greedy, nothing applied).

    1. Claims in the team's own queue (held by nobody, or by someone no longer in the team)
       are handed out, largest balance first, each to the member with the smallest load —
       a load being the member's share of the team's items plus its share of its dollars.
    2. Then, repeatedly, the claim whose move lowers the team's imbalance the most (the sum
       of the squares of each member's share of the items and of the dollars, see
       :func:`_change`) moves from a member with the most items or dollars to one with the
       fewest; it stops when no move lowers it (or after ``max_moves`` steps).

    Pinned claims (a rule names their holder) never move. A claim moved twice is one move,
    from where it was to where it ends. Greedy is not optimal, but each step shrinks the
    imbalance, so it ends, and the totals are kept: every claim ends with exactly one member.
    """
    members = sorted(set(member_ids))
    if not members:
        return RebalanceProposal((), Spread(0, 0), Spread(0, 0))
    loads = {member: Load() for member in members}
    holder: dict[int, int | None] = {}
    pool = Load()
    for item in items:
        held_by_member = item.holder_user_id in loads
        holder[item.claim_id] = item.holder_user_id if held_by_member else None
        if held_by_member:
            loads[item.holder_user_id] = loads[item.holder_user_id].plus(item.balance_cents)  # type: ignore[index]
        elif not item.pinned:
            pool = pool.plus(item.balance_cents)
    before, loads_before = Spread.of(loads.values()), dict(loads)
    total = Load(
        sum(x.items for x in loads.values()) + pool.items, sum(x.cents for x in loads.values()) + pool.cents
    )
    for item in sorted(items, key=lambda i: (-i.balance_cents, i.claim_id)):
        if holder[item.claim_id] is None and not item.pinned:
            lightest = min(members, key=lambda u: (_score(loads[u], total), u))
            loads[lightest] = loads[lightest].plus(item.balance_cents)
            holder[item.claim_id] = lightest
    movable: dict[int, list[tuple[int, int]]] = {member: [] for member in members}
    for item in items:
        who = holder[item.claim_id]
        if who is not None and not item.pinned:
            movable[who].append((item.balance_cents, item.claim_id))
    for held in movable.values():
        held.sort()
    for _ in range(max_moves):
        if not _improve(loads, holder, movable, total):
            break
    moves = tuple(
        Move(item.claim_id, item.balance_cents, item.holder_user_id, holder[item.claim_id])  # type: ignore[arg-type]
        for item in sorted(items, key=lambda i: i.claim_id)
        if holder[item.claim_id] is not None and holder[item.claim_id] != item.holder_user_id
    )
    return RebalanceProposal(moves, before, Spread.of(loads.values()), loads_before, dict(loads), pool)


def _change(giver: Load, taker: Load, balance_cents: int, total: Load) -> int:
    """How a move changes the team's imbalance, scaled to an integer (negative: better).

    The imbalance is the sum over members of the squares of their share of the items and of
    their share of the dollars; moving a claim of ``b`` from ``G`` to ``T`` changes it by
    ``(2 - 2 (nG - nT)) / N² + (2b² - 2b (cG - cT)) / C²``, here times ``N² C²``."""
    items_squared, cents_squared = max(total.items, 1) ** 2, max(abs(total.cents), 1) ** 2
    items = (2 - 2 * (giver.items - taker.items)) * cents_squared
    cents = (2 * balance_cents**2 - 2 * balance_cents * (giver.cents - taker.cents)) * items_squared
    return items + cents


def _improve(
    loads: dict[int, Load],
    holder: dict[int, int | None],
    movable: dict[int, list[tuple[int, int]]],
    total: Load,
) -> bool:
    """One greedy step (see :func:`propose_rebalance`); False when no move helps.

    Givers are the members with the most items or the most dollars, takers those with the
    fewest. Between one giver and one taker the dollar part of :func:`_change` is convex in the
    claim's balance ``b``, least at ``b = (cG - cT) / 2``, and the item part is the same for
    every claim: so the best claim to move is one of the two whose balances sit either side
    of that point, found by bisection in the giver's claims sorted by balance."""
    by_items = sorted(loads, key=lambda u: (loads[u].items, u))
    by_cents = sorted(loads, key=lambda u: (loads[u].cents, u))
    givers = {*by_items[-2:], *by_cents[-2:]}
    takers = {*by_items[:2], *by_cents[:2]}
    best: tuple[int, int, int, int] | None = None
    for giver in sorted(givers):
        candidates = movable[giver]
        for taker in sorted(takers - {giver}):
            middle = Fraction(loads[giver].cents - loads[taker].cents, 2)
            at = bisect_left(candidates, (middle, -1))
            for index in {max(at - 1, 0), min(at, len(candidates) - 1)} if candidates else ():
                change = _change(loads[giver], loads[taker], candidates[index][0], total)
                if change < 0 and (best is None or (change, giver, taker, index) < best):
                    best = (change, giver, taker, index)
    if best is None:
        return False
    _, giver, taker, index = best
    balance_cents, claim_id = movable[giver].pop(index)
    loads[giver] = loads[giver].plus(balance_cents, -1)
    loads[taker] = loads[taker].plus(balance_cents)
    insort(movable[taker], (balance_cents, claim_id))
    holder[claim_id] = taker
    return True
