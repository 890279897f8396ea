"""The session pipeline: where each session stands, from the appointment to the last cent.

A stage is derived from facts about the session (held? note locked? import flag open?), its
claims and the patient's balance; it is never stored, so it can never disagree with them.

================  ======================================================================
stage             when
================  ======================================================================
scheduled         the appointment has not been held (yet)
completed         held, no locked note, no claim
documented        note locked, no claim yet
needs_review      an open import flag holds it (only before the claim leaves the practice)
ready_to_bill     claim draft or ready
submitted         claim submitted, acknowledged or rejected (a rejection is rework on a
                  sent claim: the work queue raises it, the session stays "submitted")
pending           claim accepted by the payer
approved          claim adjudicated, no money posted yet
paid              claim paid or partially paid, nothing owed by the patient
patient_balance   as paid, while the patient owes; also a missed visit with a fee owed
denied            claim denied
appealing         claim appealed
not_billable      missed without a fee, self-pay once documented, every claim void
written_off       every live claim written off
================  ======================================================================

With several claims (primary and secondary), the session stands where its least advanced
open claim stands: a secondary still to bill keeps the session in ``ready_to_bill`` even
though the primary has paid. Claims that are finished (paid, written off) count only when no
claim is open; void claims are ignored unless every claim is void.

:data:`STAGE_TRANSITIONS` lists how a stage may change between two looks at the same session;
the tests walk generated histories of legal claim moves and hold every derived change to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from revcycle.domain.claim_status import OPEN_STATUSES, ClaimStatus

__all__ = [
    "MISSED_APPOINTMENT_STATUSES",
    "STAGE_COLOURS",
    "STAGE_LABELS",
    "STAGE_TRANSITIONS",
    "InvalidStageChange",
    "PipelineStage",
    "SessionFacts",
    "check_stage_change",
    "derive_stage",
    "stage_for_claim",
]


class PipelineStage(StrEnum):
    """Where a session stands in the practice's pipeline."""

    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    DOCUMENTED = "documented"
    NEEDS_REVIEW = "needs_review"
    READY_TO_BILL = "ready_to_bill"
    SUBMITTED = "submitted"
    PENDING = "pending"
    APPROVED = "approved"
    PAID = "paid"
    PATIENT_BALANCE = "patient_balance"
    DENIED = "denied"
    APPEALING = "appealing"
    NOT_BILLABLE = "not_billable"
    WRITTEN_OFF = "written_off"


G = PipelineStage

# The practice's mock-ups fix the billing colours; the rest are quiet greys and teals so the
# money stages stand out.
STAGE_COLOURS: Mapping[PipelineStage, str] = MappingProxyType(
    {
        G.SCHEDULED: "#94a3b8",
        G.COMPLETED: "#64748b",
        G.DOCUMENTED: "#14b8a6",
        G.NEEDS_REVIEW: "#0f766e",
        G.READY_TO_BILL: "#2563eb",
        G.SUBMITTED: "#9333ea",
        G.PENDING: "#eab308",
        G.APPROVED: "#4ade80",
        G.PAID: "#16a34a",
        G.PATIENT_BALANCE: "#84cc16",
        G.DENIED: "#dc2626",
        G.APPEALING: "#ea580c",
        G.NOT_BILLABLE: "#9ca3af",
        G.WRITTEN_OFF: "#374151",
    }
)

STAGE_LABELS: Mapping[PipelineStage, str] = MappingProxyType(
    {
        G.SCHEDULED: "Scheduled",
        G.COMPLETED: "Completed",
        G.DOCUMENTED: "Documented",
        G.NEEDS_REVIEW: "Needs review",
        G.READY_TO_BILL: "Ready to bill",
        G.SUBMITTED: "Submitted",
        G.PENDING: "Pending",
        G.APPROVED: "Approved",
        G.PAID: "Paid",
        G.PATIENT_BALANCE: "Patient balance",
        G.DENIED: "Denied",
        G.APPEALING: "Appealing",
        G.NOT_BILLABLE: "Not billable",
        G.WRITTEN_OFF: "Written off",
    }
)

MISSED_APPOINTMENT_STATUSES = frozenset({"no_show", "late_cancel", "canceled"})


@dataclass(frozen=True)
class SessionFacts:
    """What the pipeline needs to know about one session.

    ``appointment_status`` is the EHR's word: "scheduled", "show" or "completed",
    "no_show", "late_cancel", "canceled". ``held`` says the visit took place. ``has_fee``:
    a missed-visit fee was charged. ``claim_statuses``: every claim of the session, void
    ones included (they are ignored here unless all are void).
    """

    appointment_status: str
    held: bool
    note_locked: bool
    has_holding_flag: bool
    self_pay: bool
    has_fee: bool
    claim_statuses: tuple[ClaimStatus, ...]
    patient_balance_cents: int


_CLAIM_STAGES: Mapping[ClaimStatus, PipelineStage] = MappingProxyType(
    {
        ClaimStatus.DRAFT: G.READY_TO_BILL,
        ClaimStatus.READY: G.READY_TO_BILL,
        ClaimStatus.SUBMITTED: G.SUBMITTED,
        ClaimStatus.ACKNOWLEDGED: G.SUBMITTED,
        ClaimStatus.REJECTED: G.SUBMITTED,
        ClaimStatus.ACCEPTED: G.PENDING,
        ClaimStatus.ADJUDICATED: G.APPROVED,
        ClaimStatus.PAID: G.PAID,
        ClaimStatus.PARTIALLY_PAID: G.PAID,
        ClaimStatus.DENIED: G.DENIED,
        ClaimStatus.APPEALED: G.APPEALING,
        ClaimStatus.VOID: G.NOT_BILLABLE,
        ClaimStatus.WRITTEN_OFF: G.WRITTEN_OFF,
    }
)

# How far along a claim's stage is, to pick the least advanced open claim.
_PROGRESS: Mapping[PipelineStage, int] = MappingProxyType(
    {
        G.READY_TO_BILL: 0,
        G.SUBMITTED: 1,
        G.PENDING: 2,
        G.APPROVED: 3,
        G.DENIED: 4,
        G.APPEALING: 5,
        G.PAID: 6,
        G.WRITTEN_OFF: 7,
    }
)

# An import flag holds a session only until its claim leaves the practice.
_REVIEWABLE = frozenset({G.COMPLETED, G.DOCUMENTED, G.READY_TO_BILL})


def stage_for_claim(status: ClaimStatus, *, patient_balance_cents: int = 0) -> PipelineStage:
    """The stage one claim alone would put its session in."""
    stage = _CLAIM_STAGES[status]
    return _with_balance(stage, patient_balance_cents)


def derive_stage(facts: SessionFacts) -> PipelineStage:
    """The session's pipeline stage (see the module's table)."""
    if not facts.held:
        return _unheld_stage(facts)
    stage = _held_stage(facts)
    if facts.has_holding_flag and stage in _REVIEWABLE:
        return G.NEEDS_REVIEW
    return stage


def _unheld_stage(facts: SessionFacts) -> PipelineStage:
    if facts.appointment_status not in MISSED_APPOINTMENT_STATUSES:
        return G.SCHEDULED
    if not facts.has_fee:
        return G.NOT_BILLABLE
    # A missed-visit fee is the patient's to pay, never a claim.
    return _with_balance(G.PAID, facts.patient_balance_cents)


def _held_stage(facts: SessionFacts) -> PipelineStage:
    live = [status for status in facts.claim_statuses if status is not ClaimStatus.VOID]
    if live:
        return _claims_stage(live, facts.patient_balance_cents)
    if facts.claim_statuses:
        return G.NOT_BILLABLE  # every claim void
    if not facts.note_locked:
        return G.COMPLETED
    return G.NOT_BILLABLE if facts.self_pay else G.DOCUMENTED


def _claims_stage(live: Sequence[ClaimStatus], patient_balance_cents: int) -> PipelineStage:
    open_claims = [status for status in live if status in OPEN_STATUSES]
    candidates = open_claims or live  # finished claims count only when none is open
    stage = min((_CLAIM_STAGES[status] for status in candidates), key=_PROGRESS.__getitem__)
    return _with_balance(stage, patient_balance_cents)


def _with_balance(stage: PipelineStage, patient_balance_cents: int) -> PipelineStage:
    if stage is G.PAID and patient_balance_cents > 0:
        return G.PATIENT_BALANCE
    return stage


# --- how a stage may change ---------------------------------------------------------------
_PAID_LIKE = frozenset({G.PAID, G.PATIENT_BALANCE})
_CLOSE = frozenset({G.NOT_BILLABLE, G.WRITTEN_OFF})  # a claim voided or written off
# A missed visit: not billable, or a fee the patient owes.
_CLOSE_MISSED = frozenset({G.NOT_BILLABLE, G.PATIENT_BALANCE})
# A payer's decision may skip steps.
_DECISIONS = frozenset({G.APPROVED, G.DENIED}) | _PAID_LIKE


def _forward(stage: PipelineStage) -> frozenset[PipelineStage]:
    later = {other for other, rank in _PROGRESS.items() if rank > _PROGRESS[stage]}
    return frozenset(later | ({G.PATIENT_BALANCE} if G.PAID in later else set()))


_FLOW: dict[PipelineStage, frozenset[PipelineStage]] = {
    # held (already documented when the EHR export first reports it), or missed
    G.SCHEDULED: frozenset({G.COMPLETED, G.DOCUMENTED}) | _CLOSE_MISSED,
    # the note locked, or a claim drafted the same day; a self-pay visit documented
    G.COMPLETED: frozenset({G.DOCUMENTED, G.READY_TO_BILL, G.NOT_BILLABLE}),
    # a note unlocked again for an amendment goes back to completed
    G.DOCUMENTED: frozenset({G.COMPLETED, G.READY_TO_BILL, G.NOT_BILLABLE}),
    # the flag resolved: back where the session would stand (and see _with_review)
    G.NEEDS_REVIEW: frozenset({G.COMPLETED, G.DOCUMENTED, G.READY_TO_BILL}),
    # Once billed, a session may always move forward (a payer's decision may skip steps,
    # and a claim closing shows a more advanced claim of the session); the moves back are
    # listed one by one.
    G.READY_TO_BILL: _forward(G.READY_TO_BILL) | _CLOSE,
    # a rejection corrected goes back to ready to bill
    G.SUBMITTED: _forward(G.SUBMITTED) | {G.READY_TO_BILL} | _CLOSE,
    # rejected after acceptance (277CA) shows as submitted again
    G.PENDING: _forward(G.PENDING) | {G.SUBMITTED} | _CLOSE,
    # a reversal of the decision goes back to pending
    G.APPROVED: _forward(G.APPROVED) | {G.PENDING} | _CLOSE,
    # reprocessed by the payer on its own, or reversed
    G.DENIED: _forward(G.DENIED) | {G.APPROVED, G.PENDING} | _CLOSE,
    # the appeal sent as a claim, decided, or another claim of the session reversed
    G.APPEALING: _forward(G.APPEALING) | {G.SUBMITTED, G.APPROVED, G.DENIED, G.PENDING} | _CLOSE,
    # the patient's balance opens and closes; a secondary claim reopens billing; an
    # underpayment is appealed; a reversal (correction only) goes back to pending
    G.PAID: frozenset({G.PATIENT_BALANCE, G.READY_TO_BILL, G.APPEALING, G.PENDING}) | _CLOSE,
    G.PATIENT_BALANCE: frozenset({G.PAID, G.READY_TO_BILL, G.APPEALING, G.PENDING}) | _CLOSE,
    # a replacement claim after a void, a missed-visit fee charged later, a self-pay note
    # unlocked for an amendment (or the visit found billable after all)
    G.NOT_BILLABLE: frozenset({G.READY_TO_BILL, G.PATIENT_BALANCE, G.DOCUMENTED, G.COMPLETED}),
    G.WRITTEN_OFF: frozenset(),
}


def _with_review(
    flow: Mapping[PipelineStage, frozenset[PipelineStage]],
) -> dict[PipelineStage, frozenset[PipelineStage]]:
    # An import flag may open on a session in completed, documented or ready_to_bill, and
    # wherever a session may come to one of those, an open flag shows it as needs_review.
    # While held for review, the session may become whatever the held-back stage could
    # (sent included: closing a secondary claim shows the primary's stage).
    held_back = frozenset().union(*(flow[stage] for stage in _REVIEWABLE))
    table = {
        stage: targets | {G.NEEDS_REVIEW} if stage in _REVIEWABLE or targets & _REVIEWABLE else targets
        for stage, targets in flow.items()
    }
    table[G.NEEDS_REVIEW] = flow[G.NEEDS_REVIEW] | held_back - {G.NEEDS_REVIEW}
    return table


STAGE_TRANSITIONS: Mapping[PipelineStage, frozenset[PipelineStage]] = MappingProxyType(_with_review(_FLOW))

# Money received is locked: only a correction (a payer's reversal) takes it back to pending.
_CORRECTION_ONLY = frozenset({(G.PAID, G.PENDING), (G.PATIENT_BALANCE, G.PENDING)})


class InvalidStageChange(ValueError):
    """A change of derived stage that no legal history produces."""

    def __init__(self, before: PipelineStage, after: PipelineStage, message: str) -> None:
        self.before = before
        self.after = after
        super().__init__(message)


def check_stage_change(before: PipelineStage, after: PipelineStage, *, correction: bool = False) -> None:
    """Raise :class:`InvalidStageChange` unless a session may go from ``before`` to ``after``.

    No change (``before == after``) is always fine: a stage is derived, looking twice at the
    same session is not a transition.
    """
    if before == after:
        return
    start = f"a session cannot go from {before} to {after}"
    if after not in STAGE_TRANSITIONS[before]:
        raise InvalidStageChange(before, after, f"{start}; no billing history leads there")
    if (before, after) in _CORRECTION_ONLY and not correction:
        raise InvalidStageChange(
            before, after, f"{start} without a correction; {before} is locked except by a correction"
        )
