"""Follow-up rules: when a claim the payer has and has not answered needs a person's look.

Most billing offices chase claims from an aging report that starts at 60 days. Here each payer
has its own rule, because payers differ: one that pays in 20 days is worth a look on day 25,
one that takes 40 should not be chased on day 25.

A rule (:class:`FollowupRule`) belongs to one payer, or is the default of a payer kind
(commercial, Medicare, Medicaid ...), or the practice's default; the most specific one that
exists applies. It says:

- **expected days to pay**: a number configured, or (when left empty) learned from that
  payer's own claims — the 80th percentile of the days from submission to payment over the
  last 180 days, once at least 10 claims were paid in that window (:func:`learned_expected_days`);
  until then the payer kind's usual figure (:data:`KIND_EXPECTED_DAYS`);
- **grace**: days past the expected payment date before anyone looks; the first follow-up is
  due on submission + expected days + grace;
- **repeat**: once worked, the next look comes this many days later (a note may name another
  date; a note always sets one, and this is its default);
- **escalation**: a claim still open this many days after submission needs immediate action
  whatever its next date says;
- **quiet windows**: dates the payer is known not to answer (its maintenance, a holiday
  closure); a follow-up due inside one moves to the day after it ends.

Rules are versioned (a change is a new version; the work items name the version that raised
them) and every function here is pure: the service gathers facts and passes "today".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType

from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.problems import Problem

__all__ = [
    "DEFAULT_RULE",
    "FOLLOWUP_STATUSES",
    "KIND_EXPECTED_DAYS",
    "LEARN_MIN_PAID",
    "LEARN_PERCENTILE",
    "LEARN_WINDOW_DAYS",
    "ClaimFollowupFacts",
    "FollowupDecision",
    "FollowupRule",
    "QuietWindow",
    "Urgency",
    "decide",
    "expected_days_for",
    "learned_expected_days",
    "urgency_of",
    "validate_rule",
]

S = ClaimStatus
# With the payer and not answered for good: a silent claim here is worth a look.
FOLLOWUP_STATUSES: frozenset[ClaimStatus] = frozenset(
    {S.SUBMITTED, S.ACKNOWLEDGED, S.ACCEPTED, S.ADJUDICATED, S.APPEALED}
)
LEARN_MIN_PAID = 10
LEARN_WINDOW_DAYS = 180
LEARN_PERCENTILE = 80
# What a payer of each kind usually takes to pay a clean electronic claim, until its own
# payments say otherwise: Medicare pays after its 14-day floor, state Medicaid programs are
# slower, commercial plans in between.
KIND_EXPECTED_DAYS: Mapping[str, int] = MappingProxyType(
    {"medicare": 21, "medicaid": 35, "commercial": 30, "tricare": 30, "workers_comp": 45, "other": 30}
)
FALLBACK_EXPECTED_DAYS = 30
WEEK = 7


@dataclass(frozen=True)
class QuietWindow:
    """Days a payer is known not to answer (inclusive)."""

    starts_on: date
    ends_on: date
    reason: str = ""


@dataclass(frozen=True)
class FollowupRule:
    """One version of a payer's (or a payer kind's, or the practice's) follow-up rule."""

    label: str  # what the work items name: "payer 12 v3", "medicaid default v1", "built-in default"
    expected_days: int | None = None  # None: learned from the payer's payments
    grace_days: int = 5
    repeat_days: int = 14
    escalate_after_days: int = 60
    quiet_windows: tuple[QuietWindow, ...] = field(default=())


DEFAULT_RULE = FollowupRule(label="built-in default")


def validate_rule(rule: FollowupRule) -> list[Problem]:
    """What is wrong with a rule an admin wrote (nothing: it may be saved)."""
    problems = []
    if rule.expected_days is not None and not 1 <= rule.expected_days <= 365:
        problems.append(
            Problem("followup.expected_days", "expected_days", "between 1 and 365, or empty to learn")
        )
    if not 0 <= rule.grace_days <= 90:
        problems.append(Problem("followup.grace_days", "grace_days", "between 0 and 90"))
    if not 1 <= rule.repeat_days <= 180:
        problems.append(Problem("followup.repeat_days", "repeat_days", "between 1 and 180"))
    if not 1 <= rule.escalate_after_days <= 730:
        problems.append(Problem("followup.escalate_after_days", "escalate_after_days", "between 1 and 730"))
    for number, window in enumerate(rule.quiet_windows, start=1):
        if window.ends_on < window.starts_on:
            where = f"quiet_windows[{number}]"
            problems.append(Problem("followup.quiet_window", where, "ends before it starts"))
        elif (window.ends_on - window.starts_on).days > 31:
            where = f"quiet_windows[{number}]"
            problems.append(Problem("followup.quiet_window", where, "longer than 31 days"))
    return problems


def learned_expected_days(days_to_pay: Sequence[int]) -> int | None:
    """The 80th percentile (nearest rank) of a payer's days from submission to payment, once
    there are at least :data:`LEARN_MIN_PAID` of them; None before."""
    if len(days_to_pay) < LEARN_MIN_PAID:
        return None
    ordered = sorted(days_to_pay)
    rank = math.ceil(LEARN_PERCENTILE / 100 * len(ordered))
    return max(ordered[rank - 1], 1)


def expected_days_for(rule: FollowupRule, learned: int | None, payer_kind: str) -> tuple[int, str]:
    """The expected days to pay a rule works with, and where the figure comes from."""
    if rule.expected_days is not None:
        return rule.expected_days, "configured"
    if learned is not None:
        return learned, "learned"
    return KIND_EXPECTED_DAYS.get(payer_kind, FALLBACK_EXPECTED_DAYS), f"usual for {payer_kind or 'a payer'}"


@dataclass(frozen=True)
class ClaimFollowupFacts:
    """What the rule needs to know about one open claim."""

    claim_id: int
    status: ClaimStatus
    submitted_on: date  # its latest submission
    next_followup_on: date | None = None  # set by the last note worked on it, if any


@dataclass(frozen=True)
class FollowupDecision:
    """When the claim next needs a look, and why."""

    due_on: date
    escalated: bool
    reason: str


def decide(
    facts: ClaimFollowupFacts, rule: FollowupRule, expected_days: int, today: date
) -> FollowupDecision | None:
    """The claim's next follow-up under ``rule`` (None: it is not the payer's to answer)."""
    if facts.status not in FOLLOWUP_STATUSES:
        return None
    first = facts.submitted_on + timedelta(days=expected_days + rule.grace_days)
    if facts.next_followup_on is not None:
        due, why = facts.next_followup_on, f"next follow-up set for {facts.next_followup_on}"
    else:
        due = first
        why = (
            f"submitted {facts.submitted_on}; expected paid in {expected_days} days, "
            f"+{rule.grace_days} days' grace"
        )
    due, moved = _out_of_quiet(due, rule.quiet_windows)
    if moved is not None:
        why += f"; moved past the payer's quiet window {moved.starts_on}–{moved.ends_on}" + (
            f" ({moved.reason})" if moved.reason else ""
        )
    age = (today - facts.submitted_on).days
    escalated = age >= rule.escalate_after_days
    if escalated:
        why += f"; open {age} days since submission (escalates after {rule.escalate_after_days})"
    return FollowupDecision(due, escalated, why)


def _out_of_quiet(day: date, windows: Sequence[QuietWindow]) -> tuple[date, QuietWindow | None]:
    """``day``, or the day after the quiet window it falls in (windows may follow each other)."""
    moved = None
    changed = True
    while changed:
        changed = False
        for window in windows:
            if window.starts_on <= day <= window.ends_on:
                day, moved, changed = window.ends_on + timedelta(days=1), window, True
    return day, moved


class Urgency(StrEnum):
    """The three groups of a work queue."""

    NOW = "now"  # needs immediate action: due today or before, or escalated
    WEEK = "week"  # due within the coming week
    ON_TRACK = "on_track"  # later


def urgency_of(due_on: date | None, escalated: bool, today: date) -> Urgency:
    if escalated or (due_on is not None and due_on <= today):
        return Urgency.NOW
    if due_on is not None and due_on <= today + timedelta(days=WEEK):
        return Urgency.WEEK
    return Urgency.ON_TRACK
