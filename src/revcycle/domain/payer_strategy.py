"""Payer strategies and campaigns: how each payer's open claims are worked, and whether it pays off.

A *payer card* sums up one payer's open insurance AR from plain figures (open dollars, the
share of billed dollars it paid over the last year, how long it takes to answer, how often it
denies) and ranks it with a *priority*; the practice then chooses a *workflow* for it — phone,
e-mail, portal, appeal or negotiation. Until one is chosen the card shows a *suggestion*
(:func:`suggest_workflow`).

Priority (:func:`priority_of`): the open dollars, weighted by how far the payer lags the
practice::

    lag       = max(0, practice rate - payer rate) / practice rate        (0 .. 1)
    slowness  = max(0, payer days - TARGET_DAYS) / TARGET_DAYS, at most 1  (0 .. 1)
    score     = open cents x (1 + lag + slowness)                         (1x .. 3x)

    high   when score >= HIGH_SCORE_CENTS   ($5,000)
    medium when score >= MEDIUM_SCORE_CENTS ($1,000)
    low    otherwise

A payer with no payment history yet is given half a lag (0.5): unknown is not reassuring.

A *campaign* groups claims (through their follow-up work items) under one workflow; what it
achieved is measured from what happened to each claim after it joined, never typed in
(:func:`measure`): an item was *attempted* when a note was written on it or its claim on or
after the day it joined; it was *paid* when its claim received an insurance payment dated
after that day. The *success rate* is attempted items that were paid / attempted items (none
when nothing was attempted); *days to payment* runs from the day an item joined to its first
payment, over the paid items (median and mean).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from statistics import mean, median

__all__ = [
    "AGED_DAYS",
    "APPEAL_DENIAL_SHARE",
    "HIGH_SCORE_CENTS",
    "MEDIUM_SCORE_CENTS",
    "NEGOTIATION_AGED_CENTS",
    "TARGET_DAYS",
    "CampaignMeasures",
    "ItemFacts",
    "ItemOutcome",
    "PayerFigures",
    "Priority",
    "Suggestion",
    "Workflow",
    "measure",
    "outcome_of",
    "parse_workflow",
    "priority_of",
    "priority_score_cents",
    "suggest_workflow",
]

TARGET_DAYS = 30  # a payer answering within a month is not slow
HIGH_SCORE_CENTS = 500_000
MEDIUM_SCORE_CENTS = 100_000
UNKNOWN_LAG = 0.5

APPEAL_DENIAL_SHARE = 0.25  # a quarter of its decisions denied: appeal
APPEAL_MIN_DECIDED = 4  # ... out of at least this many decisions
AGED_DAYS = 90  # sent this long ago and still open: aged
NEGOTIATION_AGED_CENTS = 200_000  # $2,000 or more aged with one payer: negotiate
SLOW_DAYS = 45  # answering slower than this while paying: call them


class Workflow(StrEnum):
    """How a payer's claims are worked."""

    PHONE = "phone"
    EMAIL = "email"
    PORTAL = "portal"
    APPEAL = "appeal"
    NEGOTIATION = "negotiation"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Workflow.PHONE: "Phone",
    Workflow.EMAIL: "E-mail",
    Workflow.PORTAL: "Portal",
    Workflow.APPEAL: "Appeal",
    Workflow.NEGOTIATION: "Negotiation",
}


def parse_workflow(text: str) -> Workflow | None:
    """The workflow named by ``text`` (case and spaces ignored), or None."""
    try:
        return Workflow(text.strip().lower())
    except ValueError:
        return None


class Priority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class PayerFigures:
    """What the claims say about one payer (see the services for where each comes from)."""

    open_balance_cents: int
    open_claims: int
    collection_rate: float | None  # paid / billed over the last 12 months; None: nothing billed
    avg_days_to_resolve: float | None  # None: nothing decided lately
    decided: int  # claims decided (paid or denied) lately
    denied: int  # of which denied
    aged_balance_cents: int = 0  # open balance on claims sent AGED_DAYS or more ago
    billing_route: str = ""  # portal | clearinghouse | simplepractice | paper

    @property
    def denial_share(self) -> float | None:
        return self.denied / self.decided if self.decided else None


def priority_score_cents(figures: PayerFigures, practice_rate: float | None) -> int:
    """The open dollars weighted by lag and slowness (module docstring), in cents."""
    if figures.collection_rate is None or not practice_rate:
        lag = UNKNOWN_LAG
    else:
        lag = max(0.0, practice_rate - figures.collection_rate) / practice_rate
    days = figures.avg_days_to_resolve
    slowness = 0.0 if days is None else min(1.0, max(0.0, days - TARGET_DAYS) / TARGET_DAYS)
    return round(max(figures.open_balance_cents, 0) * (1 + min(lag, 1.0) + slowness))


def priority_of(figures: PayerFigures, practice_rate: float | None) -> Priority:
    score = priority_score_cents(figures, practice_rate)
    if score >= HIGH_SCORE_CENTS:
        return Priority.HIGH
    if score >= MEDIUM_SCORE_CENTS:
        return Priority.MEDIUM
    return Priority.LOW


@dataclass(frozen=True)
class Suggestion:
    workflow: Workflow
    reason: str


def suggest_workflow(figures: PayerFigures) -> Suggestion:
    """The workflow the figures point to, first rule that applies:

    1. denies a quarter or more of at least 4 decisions -> appeal;
    2. $2,000 or more open on claims sent 90+ days ago -> negotiation;
    3. billed through its portal -> portal (status and messages are there);
    4. slower than 45 days but paying -> phone;
    5. otherwise -> e-mail (a written nudge is enough).
    """
    share = figures.denial_share
    if share is not None and figures.decided >= APPEAL_MIN_DECIDED and share >= APPEAL_DENIAL_SHARE:
        return Suggestion(Workflow.APPEAL, f"denies {share:.0%} of its decisions")
    if figures.aged_balance_cents >= NEGOTIATION_AGED_CENTS:
        return Suggestion(Workflow.NEGOTIATION, f"large balances open {AGED_DAYS}+ days")
    if figures.billing_route == "portal":
        return Suggestion(Workflow.PORTAL, "billed through its portal")
    days = figures.avg_days_to_resolve
    if days is not None and days > SLOW_DAYS and (figures.collection_rate or 0) > 0:
        return Suggestion(Workflow.PHONE, f"slow ({days:.0f} days) but paying")
    return Suggestion(Workflow.EMAIL, "pays on time: a written reminder is enough")


# --- campaigns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFacts:
    """What happened to one campaign item's claim: the days notes were written on it (or its
    work item) and the insurance payments received (day, cents), all dates in the practice's
    time zone, up to the end of the measuring window."""

    added_on: date
    note_days: tuple[date, ...] = ()
    payments: tuple[tuple[date, int], ...] = ()


@dataclass(frozen=True)
class ItemOutcome:
    attempts: int
    first_payment_on: date | None
    paid_cents: int  # received after joining
    days_to_payment: int | None

    @property
    def attempted(self) -> bool:
        return self.attempts > 0

    @property
    def paid(self) -> bool:
        return self.first_payment_on is not None


def outcome_of(facts: ItemFacts) -> ItemOutcome:
    """Attempts on or after the day the item joined; payments dated after it."""
    attempts = sum(1 for day in facts.note_days if day >= facts.added_on)
    after = sorted((day, cents) for day, cents in facts.payments if day > facts.added_on)
    paid_cents = sum(cents for _, cents in after)
    positive = [day for day, cents in after if cents > 0]
    first = positive[0] if positive and paid_cents > 0 else None
    days = (first - facts.added_on).days if first else None
    return ItemOutcome(attempts, first, paid_cents if first else 0, days)


@dataclass(frozen=True)
class CampaignMeasures:
    items: int
    attempted: int
    paid: int  # items whose claim received a payment after joining (attempted or not)
    paid_after_attempt: int
    collected_cents: int
    median_days_to_payment: float | None
    mean_days_to_payment: float | None

    @property
    def success_rate(self) -> float | None:
        """Attempted items that were paid / attempted items; None when nothing was attempted."""
        return self.paid_after_attempt / self.attempted if self.attempted else None


def measure(outcomes: Sequence[ItemOutcome]) -> CampaignMeasures:
    days = [o.days_to_payment for o in outcomes if o.days_to_payment is not None]
    return CampaignMeasures(
        items=len(outcomes),
        attempted=sum(1 for o in outcomes if o.attempted),
        paid=sum(1 for o in outcomes if o.paid),
        paid_after_attempt=sum(1 for o in outcomes if o.attempted and o.paid),
        collected_cents=sum(o.paid_cents for o in outcomes),
        median_days_to_payment=float(median(days)) if days else None,
        mean_days_to_payment=float(mean(days)) if days else None,
    )
