"""AR portfolio rules: how old a claim is, and which team works it.

A billing company takes over another system's open claims (an "AR portfolio") and spreads
them over its agents' queues. Two pieces of domain knowledge decide where each claim goes:

- **Aging**: days since the date of service, grouped into buckets (defaults 0-30, 31-60,
  61-90, 91-120, 121+). An AR export that states its own aging column wins over the date of
  service: that is the figure the previous billing system worked by.
- **Assignment rules**, evaluated in priority order, first match wins. The AR engine's
  defaults: a balance over $1,000 goes to the Senior Agent team (the money is worth a senior's
  time); a claim aged over 90 days to the Escalation Team (timely filing and appeal windows are
  closing); a Medicare or Medicaid payer to the Government Specialist (their own rules,
  portals and appeal levels); everything else to General.

Rules are data (:class:`Rule`), so that a practice can edit them later without code. A rule
names the conditions it needs; a rule with no condition matches every claim and ends the list.

Government payers are known by the catalog's payer kind; when the kind is unknown (a payer
seen for the first time in the file), by name: "Medicare", "Medicaid", the Medicare
Administrative Contractors that pay Part B claims (Novitas, Noridian, Palmetto GBA ...), and
the state Medicaid programs' own names (Medi-Cal, NJ FamilyCare, MassHealth, TennCare ...).
Medicare Advantage plans count as Medicare (CMS rules apply to them); TRICARE does not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from revcycle.domain.names import payer_key
from revcycle.domain.problems import Problem

__all__ = [
    "CLAIM_NUMBER_MAX",
    "DEFAULT_BUCKETS",
    "DEFAULT_RULES",
    "AgingBucket",
    "ArClaimFacts",
    "PayerKind",
    "Rule",
    "aging_bucket",
    "aging_days",
    "assign",
    "claim_number_for",
    "effective_aging_days",
    "government_kind_from_name",
    "is_government_payer",
    "validate_rules",
]

# CLM01, the patient control number: at most 17 characters reach the payer intact.
CLAIM_NUMBER_MAX = 17
_DERIVED_PREFIX = "AR"


class PayerKind(StrEnum):
    COMMERCIAL = "commercial"
    MEDICARE = "medicare"
    MEDICAID = "medicaid"
    MEDICARE_ADVANTAGE = "medicare_advantage"
    TRICARE = "tricare"
    SELF_PAY = "self_pay"


GOVERNMENT_KINDS = frozenset({PayerKind.MEDICARE, PayerKind.MEDICAID, PayerKind.MEDICARE_ADVANTAGE})

# Whole words (or runs of words) of a payer_key that name a government program.
_MEDICARE_WORDS = (
    "medicare",
    "novitas",
    "noridian",
    "palmetto gba",
    "national government services",
    "wps government health administrators",
    "cgs administrators",
    "first coast service options",
)
_MEDICAID_WORDS = (
    "medicaid",
    "medi cal",
    "medical assistance",
    "familycare",
    "family care",
    "masshealth",
    "tenncare",
    "soonercare",
    "badgercare",
    "mainecare",
    "kancare",
    "husky health",
    "apple health",
    "ahcccs",
    "health first colorado",
    "hoosier healthwise",
    "healthy louisiana",
    "dr dynasaur",
    "denali kidcare",
    "community plan",
    "chip",
)


# --- aging ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgingBucket:
    """Days from ``min_days`` to ``max_days`` inclusive; ``max_days`` None is open-ended."""

    min_days: int
    max_days: int | None

    @property
    def label(self) -> str:
        return f"{self.min_days}+" if self.max_days is None else f"{self.min_days}-{self.max_days}"

    def holds(self, days: int) -> bool:
        return days >= self.min_days and (self.max_days is None or days <= self.max_days)


DEFAULT_BUCKETS: tuple[AgingBucket, ...] = (
    AgingBucket(0, 30),
    AgingBucket(31, 60),
    AgingBucket(61, 90),
    AgingBucket(91, 120),
    AgingBucket(121, None),
)


def aging_days(service_on: date, today: date) -> int:
    """Days since the date of service; a date in the future counts as 0 days old."""
    return max((today - service_on).days, 0)


def effective_aging_days(stated_days: int | None, service_on: date, today: date) -> int:
    """The file's own aging when it states one, else the days since the date of service."""
    return stated_days if stated_days is not None else aging_days(service_on, today)


def aging_bucket(days: int, buckets: Sequence[AgingBucket] = DEFAULT_BUCKETS) -> AgingBucket:
    """The bucket holding ``days`` (negative days fall in the first bucket)."""
    for bucket in buckets:
        if bucket.holds(max(days, 0)):
            return bucket
    raise ValueError(f"no aging bucket holds {days} days")


# --- government payers -----------------------------------------------------------------------


def _has_words(key: str, phrases: Sequence[str]) -> bool:
    padded = f" {key} "
    return any(f" {phrase} " in padded for phrase in phrases)


def government_kind_from_name(payer_name: str) -> PayerKind | None:
    """Medicare or Medicaid when the name says so, else None (nothing can be told)."""
    key = payer_key(payer_name)
    if _has_words(key, _MEDICARE_WORDS):
        return PayerKind.MEDICARE
    if _has_words(key, _MEDICAID_WORDS):
        return PayerKind.MEDICAID
    return None


def is_government_payer(payer_kind: str | None, payer_name: str) -> bool:
    """Medicare, Medicaid or Medicare Advantage: by the catalog's kind, else by name."""
    if payer_kind is not None:
        return payer_kind in GOVERNMENT_KINDS
    return government_kind_from_name(payer_name) is not None


# --- assignment --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArClaimFacts:
    """What the rules look at: one open claim's balance, age and payer."""

    balance_cents: int
    aging_days: int
    payer_name: str
    payer_kind: str | None = None  # None: not in the catalog yet, judge by name


@dataclass(frozen=True)
class Rule:
    """Claims meeting every stated condition go to ``team``. No condition: every claim."""

    name: str
    team: str
    balance_over_cents: int | None = None
    aged_over_days: int | None = None
    government_payer: bool | None = None

    @property
    def is_catch_all(self) -> bool:
        return (
            self.balance_over_cents is None and self.aged_over_days is None and self.government_payer is None
        )

    def matches(self, facts: ArClaimFacts) -> bool:
        if self.balance_over_cents is not None and not facts.balance_cents > self.balance_over_cents:
            return False
        if self.aged_over_days is not None and not facts.aging_days > self.aged_over_days:
            return False
        if self.government_payer is not None:
            government = is_government_payer(facts.payer_kind, facts.payer_name)
            if government != self.government_payer:
                return False
        return True


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("high balance", "Senior Agent", balance_over_cents=100_000),
    Rule("aged", "Escalation Team", aged_over_days=90),
    Rule("government payer", "Government Specialist", government_payer=True),
    Rule("everything else", "General"),
)


def validate_rules(rules: Sequence[Rule]) -> list[Problem]:
    """Problems with a rule list: it must end with a catch-all, and nothing may follow one."""
    problems: list[Problem] = []
    if not rules or not rules[-1].is_catch_all:
        problems.append(
            Problem("ar_rules.no_catch_all", "rules", "the last rule must match every claim (no conditions)")
        )
    for number, rule in enumerate(rules[:-1], start=1):
        if rule.is_catch_all:
            message = f"rule {rule.name!r} matches every claim, so the rules after it never apply"
            problems.append(Problem("ar_rules.unreachable", f"rule {number}", message))
        if not rule.team.strip():
            problems.append(Problem("ar_rules.team", f"rule {number}", "a rule needs a team"))
    return problems


def assign(facts: ArClaimFacts, rules: Sequence[Rule] = DEFAULT_RULES) -> Rule:
    """The first rule (in priority order) the claim meets."""
    for rule in rules:
        if rule.matches(facts):
            return rule
    raise ValueError("no assignment rule matched; the rules must end with a catch-all")


# --- claim numbers ----------------------------------------------------------------------------


def claim_number_for(source_ref: str) -> str:
    """Our claim number (CLM01, <= 17 characters) for another system's claim id.

    A reference that fits is kept as it is (stripped), so the payer still knows the claim by
    it. A longer one becomes ``AR`` + the first 15 hex digits of its SHA-256, uppercased:
    stable across re-imports, and the original is kept in a note on the claim. The same
    expression is computed in SQL by the import (see services.imports.ar_portfolio).
    """
    ref = source_ref.strip()
    if len(ref) <= CLAIM_NUMBER_MAX:
        return ref
    digest = hashlib.sha256(ref.encode("utf-8")).hexdigest()
    return _DERIVED_PREFIX + digest[: CLAIM_NUMBER_MAX - len(_DERIVED_PREFIX)].upper()
