"""What one claim payment of a remittance (835 CLP) does to each of our claim lines.

The payer reports, per service line (SVC), what it paid and every adjustment (CAS) with its
group and reason; the claim itself may carry adjustments and a payment not tied to a line.
Before anything posts, each amount is given a line of ours and a disposition:

* **paid**: SVC03, the payer's money against the line (insurance AR down, cash up);
* **contractual**: a CO adjustment that is the contract (billed above the allowed amount,
  CO-45 and kin): the practice agreed not to collect it, so it is not a loss;
* **patient**: a PR adjustment moves to the patient's AR with its reason — deductible (PR-1),
  coinsurance (PR-2), copay (PR-3), anything else not covered;
* **other**: OA/PI adjustments that are neither (a prior payer's payment, OA-23);
* **denied**: the payer refused to pay it. Nothing posts: the amount stays owed by the payer
  until someone corrects, appeals or writes it off, and the denial (group, CARC, RARC) is kept.

Claim-level adjustments and a claim-level payment (CLP04 beyond the lines' SVC03, or a claim
with no SVC at all) are spread over the claim's lines in order, each line taking at most what
is still open on it, the last taking the rest; a claim-level payment that equals the claim's
interest (AMT*I) is interest income, not a payment of the charge. Every amount is an integer
number of cents and each line's parts add up to what the payer said, to the cent.

The classification of a (group, reason) is given by the caller (the shared table of
adjustment reasons), so this module stays a pure function of the remittance and the claim.
Pure: no database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from revcycle.domain.remittance_lines import BilledLine, LineMatch

__all__ = [
    "CONTRACTUAL",
    "DENIAL",
    "OTHER",
    "PATIENT",
    "Adjusted",
    "ClaimPlan",
    "Classify",
    "Disposition",
    "LinePlan",
    "plan_claim",
]


class Disposition(StrEnum):
    """How one adjustment posts."""

    CONTRACTUAL = "contractual"
    PATIENT = "patient"
    OTHER = "other"
    DENIAL = "denial"


CONTRACTUAL, PATIENT, OTHER, DENIAL = (
    Disposition.CONTRACTUAL,
    Disposition.PATIENT,
    Disposition.OTHER,
    Disposition.DENIAL,
)

# (group, reason, what the line was paid) -> (disposition, patient reason or "")
Classify = Callable[[str, str, int], tuple[Disposition, str]]


@dataclass(frozen=True)
class Adjusted:
    """One adjustment amount with what it is: a positive amount reduces what the payer owes."""

    group: str
    reason: str
    amount_cents: int
    disposition: Disposition
    patient_reason: str = ""  # deductible | coinsurance | copay | non_covered (PATIENT only)
    remarks: tuple[str, ...] = ()  # RARC
    claim_level: bool = False  # a CAS of the claim, spread to this line


@dataclass
class LinePlan:
    """Everything the remittance says about one of our claim lines."""

    line_number: int
    charge_cents: int
    paid_cents: int = 0
    allowed_cents: int | None = None  # AMT*B6, when the payer sent it
    adjustments: list[Adjusted] = field(default_factory=list)
    matched_by: str = ""  # control_number | service | claim (spread from the claim level)

    def total(self, disposition: Disposition) -> int:
        return sum(a.amount_cents for a in self.adjustments if a.disposition is disposition)

    def patient_by_reason(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for adjusted in self.adjustments:
            if adjusted.disposition is PATIENT:
                key = adjusted.patient_reason or "non_covered"
                found[key] = found.get(key, 0) + adjusted.amount_cents
        return {reason: cents for reason, cents in found.items() if cents}

    @property
    def settled_cents(self) -> int:
        """What this remittance takes off the payer's AR for the line (denials stay owed)."""
        return self.paid_cents + sum(a.amount_cents for a in self.adjustments if a.disposition is not DENIAL)


@dataclass
class ClaimPlan:
    """The lines' plans, the claim's interest and whether part of it was denied."""

    lines: list[LinePlan]
    interest_cents: int = 0  # paid with the claim as interest (AMT*I), interest income
    unmatched: list[LineMatch] = field(default_factory=list)  # service lines no line of ours takes

    @property
    def paid_cents(self) -> int:
        return sum(line.paid_cents for line in self.lines)

    @property
    def denied_cents(self) -> int:
        return sum(line.total(DENIAL) for line in self.lines)

    @property
    def is_partial(self) -> bool:
        """Part denied while something else was paid or moved to the patient."""
        return self.denied_cents > 0 and any(line.paid_cents or line.total(PATIENT) for line in self.lines)


@dataclass(frozen=True)
class ServiceLine:
    """One SVC as the plan needs it: the match found, the amounts and the adjustments."""

    match: LineMatch
    paid_cents: int
    adjustments: tuple[tuple[str, str, int], ...]  # (group, reason, cents)
    remarks: tuple[str, ...] = ()
    allowed_cents: int | None = None


def plan_claim(
    billed: Sequence[BilledLine],
    service_lines: Sequence[ServiceLine],
    *,
    claim_paid_cents: int,
    claim_adjustments: Sequence[tuple[str, str, int]],
    interest_cents: int,
    classify: Classify,
) -> ClaimPlan:
    """The plan of one claim payment over our ``billed`` lines (see the module docstring)."""
    plans = {line.line_number: LinePlan(line.line_number, line.charge_cents) for line in billed}
    plan = ClaimPlan(lines=[plans[line.line_number] for line in billed])
    for service in service_lines:
        if service.match.billed is None:
            plan.unmatched.append(service.match)
            continue
        line = plans[service.match.billed.line_number]
        line.paid_cents += service.paid_cents
        line.matched_by = line.matched_by or service.match.method
        if service.allowed_cents is not None:
            line.allowed_cents = (line.allowed_cents or 0) + service.allowed_cents
        for cas in service.adjustments:
            line.adjustments.append(_adjusted(classify, cas, service.paid_cents, service.remarks))
    if plan.unmatched:
        return plan
    residual = claim_paid_cents - sum(s.paid_cents for s in service_lines)
    if residual and residual == interest_cents:
        plan.interest_cents, residual = residual, 0
    targets = [plans[s.match.billed.line_number] for s in service_lines if s.match.billed] or plan.lines
    claim_paid = sum(line.paid_cents for line in targets) + residual
    for cas in claim_adjustments:
        adjusted = _adjusted(classify, cas, claim_paid, (), claim_level=True)
        for line, share in _spread(targets, cas[2]):
            line.adjustments.append(_share(adjusted, share))
    for line, share in _spread(targets, residual):
        line.paid_cents += share
    return plan


def _adjusted(
    classify: Classify,
    cas: tuple[str, str, int],
    paid_cents: int,
    remarks: tuple[str, ...],
    *,
    claim_level: bool = False,
) -> Adjusted:
    group, reason, cents = cas
    disposition, patient_reason = classify(group, reason, paid_cents)
    return Adjusted(group, reason, cents, disposition, patient_reason, remarks, claim_level)


def _share(adjusted: Adjusted, cents: int) -> Adjusted:
    return Adjusted(
        adjusted.group,
        adjusted.reason,
        cents,
        adjusted.disposition,
        adjusted.patient_reason,
        adjusted.remarks,
        adjusted.claim_level,
    )


def _spread(lines: Sequence[LinePlan], cents: int) -> list[tuple[LinePlan, int]]:
    """``cents`` over ``lines`` in order: each takes at most what is still open on it (its
    charge less what the remittance already settled), the last takes whatever is left."""
    if not cents or not lines:
        return []
    shares: list[tuple[LinePlan, int]] = []
    left = cents
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        open_cents = max(line.charge_cents - line.settled_cents - line.total(DENIAL), 0)
        take = left if last or cents < 0 else min(left, open_cents)
        if take:
            shares.append((line, take))
            left -= take
        if not left:
            break
    return shares
