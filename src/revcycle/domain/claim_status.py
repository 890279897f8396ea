"""Claim status: the canonical states of a claim and the one table of allowed moves.

A claim goes ``draft -> ready -> submitted -> acknowledged -> accepted -> adjudicated`` and
ends ``paid``, ``partially_paid`` or ``denied``; ``void`` and ``written_off`` end it early.

* acknowledged: the clearinghouse took the file (999 accepted, or a 277CA receipt);
* accepted: the payer took the claim into adjudication (277CA A2, a portal's "In Process");
* adjudicated: the payer decided but no money has posted yet (277 "finalized", portal
  "Approved");
* rejected: a front-end refusal (999 or 277CA) to correct and send again;
* a reversal (835 CLP02 = 22) takes a decided claim back to accepted until its correction
  posts;
* ``paid`` is locked: leaving it needs ``correction=True`` (a reversal, or a void or
  write-off made as a correction).

Every outside vocabulary (999 AK9/IK5, 277CA and 277 STC01-1 category codes, 835 CLP02,
portal wording) is mapped to these states here and nowhere else. A mapping says which state a
message implies; whether to apply it is the caller's: a status equal to the current one is no
change, and a move the table refuses is recorded as an event, not applied (a late 999 after
the 277CA must not pull an accepted claim back to acknowledged).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "LOCKED_STATUSES",
    "OPEN_STATUSES",
    "REVERSIBLE_STATUSES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "ClaimStatus",
    "EventSource",
    "InvalidTransition",
    "allowed_targets",
    "check_transition",
    "is_reversal",
    "status_from_277",
    "status_from_277ca",
    "status_from_835",
    "status_from_999",
    "status_from_portal",
]


class ClaimStatus(StrEnum):
    """Where a claim stands with its payer."""

    DRAFT = "draft"
    READY = "ready"
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED = "accepted"
    ADJUDICATED = "adjudicated"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    APPEALED = "appealed"
    REJECTED = "rejected"
    VOID = "void"
    WRITTEN_OFF = "written_off"


class EventSource(StrEnum):
    """What caused a status change (stored on every claim event)."""

    USER = "user"
    SYSTEM = "system"
    IMPORT = "import"
    X12_999 = "999"
    X12_277CA = "277CA"
    X12_277 = "277"
    X12_835 = "835"
    PORTAL = "portal"


S = ClaimStatus

TERMINAL_STATUSES: frozenset[ClaimStatus] = frozenset({S.VOID, S.WRITTEN_OFF})
# Paid is not terminal (a reversal can reopen it) but it is locked, and it is not open work.
LOCKED_STATUSES: frozenset[ClaimStatus] = frozenset({S.PAID})
OPEN_STATUSES: frozenset[ClaimStatus] = frozenset(S) - TERMINAL_STATUSES - LOCKED_STATUSES
# States a payer's reversal (835 CLP02 = 22) takes back to accepted.
REVERSIBLE_STATUSES: frozenset[ClaimStatus] = frozenset({S.ADJUDICATED, S.PAID, S.PARTIALLY_PAID, S.DENIED})

# The payer's decision may skip steps: from any state after submitted, an 835 or 277 moves
# the claim straight to one of these.
_DECISIONS = frozenset({S.ADJUDICATED, S.PAID, S.PARTIALLY_PAID, S.DENIED})
_CLOSE = frozenset({S.VOID, S.WRITTEN_OFF})

TRANSITIONS: Mapping[ClaimStatus, frozenset[ClaimStatus]] = MappingProxyType(
    {
        S.DRAFT: frozenset({S.READY}) | _CLOSE,
        # back to draft to correct before sending
        S.READY: frozenset({S.SUBMITTED, S.DRAFT}) | _CLOSE,
        # accepted directly: portal and paper submissions get no 999, and a 277CA may
        # arrive before the 999 is read
        S.SUBMITTED: frozenset({S.ACKNOWLEDGED, S.ACCEPTED, S.REJECTED}) | _DECISIONS | _CLOSE,
        S.ACKNOWLEDGED: frozenset({S.ACCEPTED, S.REJECTED}) | _DECISIONS | _CLOSE,
        S.ACCEPTED: frozenset({S.REJECTED}) | _DECISIONS | _CLOSE,
        S.ADJUDICATED: (_DECISIONS - {S.ADJUDICATED}) | {S.ACCEPTED} | _CLOSE,
        # locked: every move out of paid needs correction=True
        S.PAID: frozenset({S.ACCEPTED}) | _CLOSE,
        # a later payment completes it; an underpayment may be appealed
        S.PARTIALLY_PAID: frozenset({S.PAID, S.APPEALED, S.ACCEPTED}) | _CLOSE,
        # a payer may reprocess a zero-paid denial without a reversal (nothing to reverse)
        S.DENIED: frozenset({S.APPEALED, S.ACCEPTED}) | (_DECISIONS - {S.DENIED}) | _CLOSE,
        S.APPEALED: frozenset({S.SUBMITTED}) | _DECISIONS | _CLOSE,
        # corrected (back to ready) or sent again as is
        S.REJECTED: frozenset({S.READY, S.SUBMITTED}) | _CLOSE,
        S.VOID: frozenset(),
        S.WRITTEN_OFF: frozenset(),
    }
)


class InvalidTransition(ValueError):
    """A status change the table refuses."""

    def __init__(self, current: ClaimStatus, target: ClaimStatus, message: str) -> None:
        self.current = current
        self.target = target
        super().__init__(message)


def allowed_targets(current: ClaimStatus, *, correction: bool = False) -> frozenset[ClaimStatus]:
    """The states a claim in ``current`` may move to."""
    if current in LOCKED_STATUSES and not correction:
        return frozenset()
    return TRANSITIONS[current]


def check_transition(current: ClaimStatus, target: ClaimStatus, *, correction: bool = False) -> None:
    """Raise :class:`InvalidTransition` unless ``current -> target`` is allowed."""
    if target in allowed_targets(current, correction=correction):
        return
    raise InvalidTransition(current, target, _refusal(current, target))


def is_reversal(current: ClaimStatus, target: ClaimStatus) -> bool:
    """True for a payer's reversal: a decided claim going back to accepted."""
    return target is S.ACCEPTED and current in REVERSIBLE_STATUSES


def _refusal(current: ClaimStatus, target: ClaimStatus) -> str:
    start = f"a claim cannot go from {current} to {target}"
    if current == target:
        return f"{start}; it is already {current}"
    if current in TERMINAL_STATUSES:
        return f"{start}; {current} is final"
    if current in LOCKED_STATUSES and target in TRANSITIONS[current]:
        return f"{start} without a correction; {current} is locked except by a correction"
    if current in LOCKED_STATUSES:
        return f"{start}; {current} is locked except by a correction"
    choices = ", ".join(sorted(TRANSITIONS[current]))
    return f"{start}; from {current} it may go to {choices}"


# --- 999 implementation acknowledgment --------------------------------------------------
# AK9-01 (functional group) and IK5-01 (one transaction set) share these codes.
# "P" (partially accepted) exists only at the group level: it means some transaction sets
# were rejected, so it says nothing about one claim. We refuse it rather than guess; read
# the IK5 of the claim's own transaction set instead.
_FROM_999: Mapping[str, ClaimStatus] = MappingProxyType(
    {
        "A": S.ACKNOWLEDGED,  # accepted
        "E": S.ACKNOWLEDGED,  # accepted, but errors were noted
        "R": S.REJECTED,  # rejected
        "M": S.REJECTED,  # rejected, message authentication code failed
        "W": S.REJECTED,  # rejected, assurance failed validity tests
        "X": S.REJECTED,  # rejected, content could not be analyzed after decryption
    }
)


def status_from_999(ak9_code: str) -> ClaimStatus:
    """The claim status a 999 acknowledgment code (IK5-01 or AK9-01) implies."""
    code = _normalize_code(ak9_code)
    if code == "P":
        raise ValueError(
            "999 code 'P' (partially accepted) applies to the functional group, not to one "
            "claim; use the IK5-01 code of the claim's transaction set"
        )
    try:
        return _FROM_999[code]
    except KeyError:
        raise ValueError(f"unknown 999 acknowledgment code {ak9_code!r}") from None


# --- 277CA and 277: STC01-1, the Claim Status Category Code ------------------------------
# (external code list 507, maintained by the X12 code committee)
#   A0 forwarded to another entity           A1 received (not yet accepted)
#   A2 accepted into the adjudication system A3 returned as unprocessable
#   A4 not found                             A5 split claim (accepted, split by the payer)
#   A6 rejected for missing information      A7 rejected for invalid information
#   A8 rejected for a relational field in error
#   DR01-DR08 data reporting (encounters; nothing to do with payment)
#   D0 data search unsuccessful; E0-E4 response not possible (an error about the inquiry)
#   F0 finalized                             F1 finalized/payment (paid; money not posted yet)
#   F2 finalized/denial                      F3 finalized/revised (F3F forwarded, F3N not)
#   F4 finalized, no payment forthcoming     F5 finalized/cannot process
#   P0-P5 pending (in adjudication, payer review, waiting for information, system hold)
#   R0-R16, RQ requests for additional information
# None means "no status change": the message is informative or asks for something, and
# asking is a work item, not a state.
_FROM_277CA: Mapping[str, ClaimStatus | None] = MappingProxyType(
    {
        "A0": S.ACKNOWLEDGED,  # passed on towards the payer: still only acknowledged
        "A1": S.ACKNOWLEDGED,
        "A2": S.ACCEPTED,
        "A3": S.REJECTED,
        "A4": S.REJECTED,  # the payer cannot find it: it must be sent again
        "A5": S.ACCEPTED,
        "A6": S.REJECTED,
        "A7": S.REJECTED,
        "A8": S.REJECTED,
    }
)

_FROM_277_FINALIZED: Mapping[str, ClaimStatus] = MappingProxyType(
    {
        "F0": S.ADJUDICATED,
        "F1": S.ADJUDICATED,  # paid by the payer, but money posts only from the 835
        "F2": S.DENIED,
        "F3": S.ADJUDICATED,
        "F3F": S.ADJUDICATED,
        "F3N": S.ADJUDICATED,
        "F4": S.ADJUDICATED,  # decided, nothing forthcoming: the 835 tells denied or PR
        "F5": S.REJECTED,  # the payer could not process it: correct and send again
    }
)

_PENDING_277 = frozenset({"P0", "P1", "P2", "P3", "P4", "P5"})
# Category codes that never change a status (see the list above).
_NO_CHANGE = re.compile(r"DR0[1-8]|D0|E[0-4]|R[0-9]{1,2}|RQ")


def status_from_277ca(category_code: str) -> ClaimStatus | None:
    """The claim status a 277CA claim-level STC01-1 implies (``None``: no change)."""
    code = _normalize_code(category_code)
    if code in _FROM_277CA:
        return _FROM_277CA[code]
    if _NO_CHANGE.fullmatch(code):
        return None
    raise ValueError(f"unknown 277CA claim status category code {category_code!r}")


def status_from_277(category_code: str) -> ClaimStatus | None:
    """The claim status a 277 (status response) STC01-1 implies (``None``: no change)."""
    code = _normalize_code(category_code)
    if code in _FROM_277_FINALIZED:
        return _FROM_277_FINALIZED[code]
    if code in _PENDING_277:
        return S.ACCEPTED  # pending means the payer has it in adjudication
    return status_from_277ca(code)


# --- 835 CLP02, the claim status code of a remittance -----------------------------------
_PROCESSED_835 = frozenset({"1", "2", "3", "19", "20", "21"})  # as primary/secondary/tertiary
_FROM_835_FIXED: Mapping[str, ClaimStatus | None] = MappingProxyType(
    {
        "4": S.DENIED,
        "22": S.ACCEPTED,  # reversal of a previous payment: back to accepted
        "23": S.ADJUDICATED,  # not our claim, forwarded to another payer
        "25": None,  # predetermination pricing only: no payment, no change
    }
)


def status_from_835(
    clp02: str,
    *,
    charge_cents: int,
    paid_cents: int,
    patient_responsibility_cents: int,
    is_partial: bool = False,
) -> ClaimStatus | None:
    """The claim status an 835 claim payment (CLP) implies (``None``: no change).

    For the "processed" codes (1, 2, 3, 19, 20, 21):

    * nothing paid and nothing moved to the patient on a non-zero charge -> denied
      (payers often report a full denial with CLP02 = 1);
    * otherwise paid, or partially_paid when ``is_partial``. The caller sets
      ``is_partial`` when part of the charge was denied (an adjustment that is neither
      contractual, CO-45 and kin, nor patient responsibility) — that split needs the CAS
      reason codes, which the caller has and this table does not.

    Paid means the payer's part is settled, including when all of it went to the patient
    (paid 0, PR > 0): the claim is then paid and the session shows a patient balance.
    """
    code = clp02.strip()
    for name, cents in (
        ("charge_cents", charge_cents),
        ("patient_responsibility_cents", patient_responsibility_cents),
    ):
        if cents < 0:
            raise ValueError(f"835 CLP02 {code}: {name} must not be negative, got {cents}")
    if code in _FROM_835_FIXED:
        return _FROM_835_FIXED[code]
    if code not in _PROCESSED_835:
        raise ValueError(f"unknown 835 claim status code (CLP02) {clp02!r}")
    if paid_cents < 0:
        raise ValueError(
            f"835 CLP02 {code}: a negative payment ({paid_cents} cents) is only valid "
            "in a reversal (CLP02 22)"
        )
    if paid_cents == 0 and patient_responsibility_cents == 0 and charge_cents > 0:
        return S.DENIED
    return S.PARTIALLY_PAID if is_partial else S.PAID


# --- payer portals ----------------------------------------------------------------------
_FROM_PORTAL: Mapping[str, ClaimStatus] = MappingProxyType(
    {
        "adjudicated": S.ADJUDICATED,
        "processed": S.ADJUDICATED,
        "finalized": S.ADJUDICATED,
        "approved": S.ADJUDICATED,
        "paid": S.PAID,
        "partially paid": S.PARTIALLY_PAID,
        "denied": S.DENIED,
        "rejected": S.REJECTED,
        "received": S.ACKNOWLEDGED,
        "acknowledged": S.ACKNOWLEDGED,
        "accepted": S.ACCEPTED,
        "in process": S.ACCEPTED,
        "pending": S.ACCEPTED,
        "submitted": S.SUBMITTED,
    }
)


def status_from_portal(text: str) -> ClaimStatus:
    """The claim status a payer portal's wording implies ("In  Process" -> accepted)."""
    words = " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()
    try:
        return _FROM_PORTAL[words]
    except KeyError:
        raise ValueError(f"unknown portal claim status {text!r}") from None


def _normalize_code(code: str) -> str:
    return code.strip().upper()
