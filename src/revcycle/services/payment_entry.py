"""Insurance payments received outside an 835: a paper check and its EOB, an EFT, a card.

The payment entry page takes the date, amount, payer, check number and method, then lists the
payer's **open claims** (:func:`open_claims`: submitted through denied, with money the payer
still owes), oldest first, each with its billed amount, insurance balance and **expected
amount** — what the payer should send for it, and on what basis:

* the payer's contract or fee schedule allowed amount
  (:func:`revcycle.services.contracts.expected_allowed_many`) less the usual patient share when
  it is known: the coverage's copay, else the latest active eligibility answer's copay or
  coinsurance (the deductible is not guessed);
* else what this payer usually paid for the procedure code: the median of its payments per
  charge in our ledger (``history``);
* else nothing: the claim can still be chosen by hand, but no lump sum can include it.

A check that pays several claims with no detail is matched by :func:`lump_sum_proposals`: the
sets of open claims whose expected amounts add up exactly to it (:mod:`revcycle.domain.lump_sum`).

:func:`record_insurance_payment` records the payment and its **allocations** — per chosen
claim, per line: paid, contractual, patient share (deductible, coinsurance, copay), denied —
each claim posted by :func:`revcycle.services.remittance_posting.post_claim_payment`, exactly
as an 835 claim payment posts. Allocations left out are prefilled from the expected amounts.
What they pay must add up to the payment, or the rest is recorded as **unapplied** (cash +,
unapplied −, with the payment's id) once the caller confirms it. All in the caller's unit of
work: a refused allocation leaves nothing written.

Corrections are reversals (:func:`reverse_payment`): every ledger transaction of the payment is
reversed exactly, its claims go back to accepted (a correction), and the reason is audited.
A payment that came with an 835 is corrected by the payer's own 835 reversal, not here.

Everything needs ``post_payments`` (billing, administrators).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from statistics import median_low
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from revcycle.db import models as m
from revcycle.domain import adjustment_reasons, lump_sum
from revcycle.domain.claim_status import REVERSIBLE_STATUSES, ClaimStatus, EventSource
from revcycle.domain.ledger import Account, BalanceScope, PostingLine
from revcycle.domain.ledger_events import TransactionKind
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.money import format_cents
from revcycle.services import audit, ledger, payment_batches
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import chunks
from revcycle.services.claims import ClaimMove, transition_claims
from revcycle.services.claims_pipeline.scrubbing import practice_today
from revcycle.services.contracts import (
    CONTRACT,
    ExpectedAmount,
    ExpectedLine,
    expected_allowed_many,
)
from revcycle.services.remittance_posting import ManualLine, post_claim_payment
from revcycle.services.scoping import get_visible

__all__ = [
    "METHODS",
    "OPEN_STATUSES",
    "ClaimAllocation",
    "InsurancePaymentResult",
    "LineAllocation",
    "LineExpectation",
    "LumpSumAnswer",
    "OpenClaim",
    "PaymentDetail",
    "PaymentReversal",
    "find_payer",
    "lump_sum_proposals",
    "open_claims",
    "payment_detail",
    "practices_billing",
    "prefilled",
    "record_insurance_payment",
    "reverse_payment",
]

S = ClaimStatus
METHODS = ("check", "eft", "card")
# A claim the payer may still pay: sent and not closed, with an insurance balance.
OPEN_STATUSES = (S.SUBMITTED, S.ACKNOWLEDGED, S.ACCEPTED, S.ADJUDICATED, S.PARTIALLY_PAID, S.DENIED)
MAX_AMOUNT_CENTS = 10_000_000_00  # $10 million on one check is a typing slip
MAX_OPEN_CLAIMS = 500
MAX_REASON = 500
DEFAULT_DENIAL = "CO-50"
HISTORY = "history"
FEE_SCHEDULE = "fee_schedule"
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./#-]{0,49}")
_ADJUSTMENT_CODE = re.compile(r"^(CO|PR|OA|PI)-?([A-Z]?\d{1,3})$")
_OWED = Account.AR_INSURANCE


# --- what the payer should pay -------------------------------------------------------------


@dataclass(frozen=True)
class LineExpectation:
    """One claim line with what the payer still owes on it and what it should pay."""

    line_number: int
    procedure_code: str
    modifiers: str
    charge_cents: int
    balance_cents: int  # insurance AR left on the line
    allowed_cents: int | None  # the contract's or fee schedule's, when there is one
    patient_cents: int  # the usual patient share taken off the allowed amount
    patient_reason: str  # copay | coinsurance | ""
    expected_cents: int | None  # what the payer should send for the line
    source: str  # contract | fee_schedule | history | ""
    basis: str  # where the figure comes from, in words


@dataclass(frozen=True)
class OpenClaim:
    """A claim of the payer's still owed, as the payment entry page lists it."""

    claim_id: int
    number: str
    client_id: int
    client_name: str
    service_on: date
    status: str
    billed_cents: int
    balance_cents: int  # insurance AR left on the claim
    lines: tuple[LineExpectation, ...]

    @property
    def expected_cents(self) -> int | None:
        """What the payer should send for the claim (None when a line has no expectation)."""
        amounts = [line.expected_cents for line in self.lines]
        if not amounts or any(cents is None for cents in amounts):
            return None
        return sum(cents for cents in amounts if cents is not None)

    @property
    def source(self) -> str:
        """contract | fee_schedule | history | mixed | none."""
        sources = {line.source for line in self.lines}
        if "" in sources or not sources:
            return "none"
        return sources.pop() if len(sources) == 1 else "mixed"

    @property
    def basis(self) -> str:
        return "; ".join(f"line {line.line_number}: {line.basis}" for line in self.lines)


def open_claims(
    session: Session, *, actor: Actor, practice_id: int, payer_id: int, limit: int = 200
) -> list[OpenClaim]:
    """The payer's open claims with an insurance balance, oldest first, with expected amounts."""
    actor.require(practice_id, Permission.POST_PAYMENTS)
    _payer(session, payer_id)
    limit = max(1, min(limit, MAX_OPEN_CLAIMS))
    owed = m.LedgerBalance
    query = (
        select(m.Claim)
        .join(
            owed,
            (owed.practice_id == m.Claim.practice_id)
            & (owed.scope == BalanceScope.CLAIM.value)
            & (owed.scope_id == m.Claim.id)
            & (owed.account == _OWED.value),
        )
        .where(
            m.Claim.practice_id == practice_id,
            m.Claim.payer_id == payer_id,
            m.Claim.status.in_([str(s) for s in OPEN_STATUSES]),
            owed.balance_cents > 0,
        )
        .order_by(m.Claim.service_from_on, m.Claim.id)
        .limit(limit)
        .options(selectinload(m.Claim.lines), selectinload(m.Claim.client))
    )
    return _expectations(session, practice_id, payer_id, list(session.scalars(query)))


def _expectations(
    session: Session, practice_id: int, payer_id: int, claims: list[m.Claim]
) -> list[OpenClaim]:
    balances = _line_balances(session, practice_id, [claim.id for claim in claims])
    lines = [line for claim in claims for line in claim.lines]
    wanted = [ExpectedLine(payer_id, x.procedure_code, x.modifiers, x.service_on, x.units) for x in lines]
    allowed = expected_allowed_many(session, practice_id=practice_id, lines=wanted)
    priced = {line.id: found for line, found in zip(lines, allowed, strict=True)}
    usual = _usual_paid(
        session, practice_id, payer_id, {x.procedure_code for x in lines if priced[x.id] is None}
    )
    shares = _patient_shares(session, practice_id, claims)
    out = []
    for claim in claims:
        kind, amount = shares.get(claim.coverage_id or 0, ("", 0))
        copay_left = amount if kind == "copay" else 0
        expectations = []
        for line in claim.lines:
            balance = balances.get((claim.id, line.charge_id), 0)
            found = priced[line.id]
            if found is None:
                expectations.append(_from_history(line, balance, usual.get(line.procedure_code)))
                continue
            patient = 0
            if kind == "copay":
                patient = min(copay_left, found.amount_cents)
                copay_left -= patient
            elif kind == "coinsurance":
                patient = (found.amount_cents * amount + 5000) // 10000  # basis points, to the cent
            expectations.append(_from_rates(line, balance, found, patient, kind if patient else ""))
        balance = sum(e.balance_cents for e in expectations)
        out.append(
            OpenClaim(
                claim.id,
                claim.number,
                claim.client_id,
                claim.client.display_name,
                claim.service_from_on,
                claim.status,
                claim.billed_cents,
                balance,
                tuple(expectations),
            )
        )
    return out


def _from_rates(
    line: m.ClaimLine, balance: int, found: ExpectedAmount, patient: int, reason: str
) -> LineExpectation:
    """The allowed amount less the usual patient share, never more than is still owed."""
    expected = min(max(found.amount_cents - patient, 0), max(balance, 0))
    basis = f"{found.cited}: {format_cents(found.amount_cents)}"
    if patient:
        basis += f" less {reason} {format_cents(patient)}"
    source = CONTRACT if found.source == CONTRACT else FEE_SCHEDULE
    return LineExpectation(
        line.line_number, line.procedure_code, line.modifiers, line.charge_cents, balance,
        found.amount_cents, patient, reason, expected, source, basis,
    )  # fmt: skip


def _from_history(line: m.ClaimLine, balance: int, usual: tuple[int, int] | None) -> LineExpectation:
    """What the payer usually paid for the code, or no expectation at all."""
    if usual is None:
        basis = "no contract, fee schedule or payment history for this code"
        expected, source = None, ""
    else:
        cents, count = usual
        basis = f"usually paid {format_cents(cents)} for {line.procedure_code} (median of {count})"
        expected, source = min(cents * line.units, max(balance, 0)), HISTORY
    return LineExpectation(
        line.line_number, line.procedure_code, line.modifiers, line.charge_cents, balance,
        None, 0, "", expected, source, basis,
    )  # fmt: skip


def _line_balances(
    session: Session, practice_id: int, claim_ids: Sequence[int]
) -> dict[tuple[int, int | None], int]:
    """(claim id, charge id) -> the insurance AR left on that line, from the postings."""
    found: dict[tuple[int, int | None], int] = {}
    for chunk in chunks(list(claim_ids)):
        query = (
            select(m.Posting.claim_id, m.Posting.charge_id, func.sum(m.Posting.amount_cents))
            .where(
                m.Posting.practice_id == practice_id,
                m.Posting.claim_id.in_(chunk),
                m.Posting.account == _OWED.value,
            )
            .group_by(m.Posting.claim_id, m.Posting.charge_id)
        )
        for claim_id, charge_id, cents in session.execute(query):
            if claim_id is not None:
                found[(int(claim_id), charge_id)] = int(cents or 0)
    return found


def _usual_paid(
    session: Session, practice_id: int, payer_id: int, codes: Iterable[str]
) -> dict[str, tuple[int, int]]:
    """Code -> (the median the payer paid per unit for one charge of it, how many charges)."""
    codes = sorted(set(codes))
    if not codes:
        return {}
    paid = func.sum(m.Posting.amount_cents)
    query = (
        select(m.Charge.procedure_code, m.Charge.units, paid)
        .join(m.Charge, m.Charge.id == m.Posting.charge_id)
        .join(m.Claim, m.Claim.id == m.Posting.claim_id)
        .join(m.LedgerTransaction, m.LedgerTransaction.id == m.Posting.transaction_id)
        .where(
            m.Posting.practice_id == practice_id,
            m.Posting.account == Account.CASH.value,
            m.LedgerTransaction.kind == TransactionKind.INSURANCE_PAYMENT.value,
            m.Claim.payer_id == payer_id,
            m.Charge.procedure_code.in_(codes),
        )
        .group_by(m.Posting.charge_id, m.Charge.procedure_code, m.Charge.units)
    )
    per_code: dict[str, list[int]] = defaultdict(list)
    for code, units, cents in session.execute(query):
        if cents and cents > 0:
            per_code[code].append(int(cents) // max(int(units or 1), 1))
    return {code: (median_low(values), len(values)) for code, values in per_code.items()}


def _patient_shares(
    session: Session, practice_id: int, claims: Sequence[m.Claim]
) -> dict[int, tuple[str, int]]:
    """Coverage id -> ("copay", cents) or ("coinsurance", basis points), when known: the
    coverage's copay, else the latest active eligibility answer's copay, else its coinsurance."""
    coverage_ids = sorted({claim.coverage_id for claim in claims if claim.coverage_id is not None})
    found: dict[int, tuple[str, int]] = {}
    for chunk in chunks(coverage_ids):
        for coverage_id, copay in session.execute(
            select(m.Coverage.id, m.Coverage.copay_cents).where(m.Coverage.id.in_(chunk))
        ):
            if copay:
                found[coverage_id] = ("copay", int(copay))
        checks = session.scalars(
            select(m.EligibilityCheck)
            .where(
                m.EligibilityCheck.practice_id == practice_id,
                m.EligibilityCheck.coverage_id.in_(chunk),
                m.EligibilityCheck.status == "active",
            )
            .order_by(m.EligibilityCheck.as_of_on.desc(), m.EligibilityCheck.id.desc())
        )
        for check in checks:
            if check.coverage_id in found:
                continue
            if check.copay_cents:
                found[check.coverage_id] = ("copay", check.copay_cents)
            elif check.coinsurance_basis_points:
                found[check.coverage_id] = ("coinsurance", check.coinsurance_basis_points)
    return found


# --- lump sums -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LumpSumAnswer:
    """The proposals for a check, each a set of open claims, and what the search said."""

    amount_cents: int
    proposals: list[list[OpenClaim]]
    candidates: int  # open claims with an expected amount that were considered
    without_expectation: int  # open claims no proposal can include
    note: str  # why the search stopped short, if it did


def lump_sum_proposals(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    payer_id: int,
    amount_cents: int,
    limit: int = 5,
) -> LumpSumAnswer:
    """The sets of the payer's open claims whose expected amounts add up exactly to the check."""
    _amount(amount_cents)
    claims = open_claims(
        session, actor=actor, practice_id=practice_id, payer_id=payer_id, limit=MAX_OPEN_CLAIMS
    )
    known = [(claim.claim_id, claim.expected_cents) for claim in claims if claim.expected_cents]
    found = lump_sum.propose(amount_cents, [(cid, cents) for cid, cents in known if cents], limit=limit)
    by_id = {claim.claim_id: claim for claim in claims}
    return LumpSumAnswer(
        amount_cents,
        [[by_id[claim_id] for claim_id in chosen] for chosen in found.sets],
        found.candidates_tried,
        len(claims) - len(known),
        found.gave_up,
    )


# --- recording -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LineAllocation:
    """What the payment does to one claim line (cents; the parts of what the payer owes)."""

    line_number: int
    paid_cents: int = 0
    contractual_cents: int = 0  # CO-45
    deductible_cents: int = 0  # PR-1
    coinsurance_cents: int = 0  # PR-2
    copay_cents: int = 0  # PR-3
    denied_cents: int = 0  # kept as a denial; the payer still owes it
    denial_code: str = DEFAULT_DENIAL  # group-CARC, e.g. CO-50, CO-29

    @property
    def settled_cents(self) -> int:
        return (
            self.paid_cents
            + self.contractual_cents
            + self.deductible_cents
            + self.coinsurance_cents
            + self.copay_cents
        )


@dataclass(frozen=True)
class ClaimAllocation:
    """One claim's part of the payment; no lines: prefilled from its expected amounts."""

    claim_id: int
    lines: tuple[LineAllocation, ...] | None = None


@dataclass(frozen=True)
class PostedClaim:
    claim_id: int
    number: str
    paid_cents: int
    status: str
    transaction_id: int | None


@dataclass(frozen=True)
class InsurancePaymentResult:
    payment: m.Payment
    claims: list[PostedClaim]
    unapplied_cents: int
    unapplied_transaction_id: int | None = None


def prefilled(claim: OpenClaim) -> ClaimAllocation:
    """The allocation a claim's expected amounts suggest: the expected amount paid, the usual
    patient share as its reason, the rest of the line's balance contractual — never more than
    the payer still owes on the line (a claim partly settled before keeps what is left)."""
    lines = []
    for line in claim.lines:
        owed = max(line.balance_cents, 0)
        if line.expected_cents is None:
            lines.append(LineAllocation(line.line_number))
            continue
        paid = min(line.expected_cents, owed)
        patient = min(line.patient_cents, owed - paid)
        lines.append(
            LineAllocation(
                line.line_number,
                paid_cents=paid,
                contractual_cents=owed - paid - patient,
                copay_cents=patient if line.patient_reason == "copay" else 0,
                coinsurance_cents=patient if line.patient_reason == "coinsurance" else 0,
            )
        )
    return ClaimAllocation(claim.claim_id, tuple(lines))


def record_insurance_payment(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    payer_id: int,
    amount_cents: int,
    received_on: date,
    method: str,
    reference: str = "",
    allocations: Sequence[ClaimAllocation] = (),
    batch_id: int | None = None,
    confirm_unapplied: bool = False,
    note: str = "",
) -> InsurancePaymentResult:
    """Record an insurance payment and post its allocations (module docstring)."""
    actor.require(practice_id, Permission.POST_PAYMENTS)
    payer = _payer(session, payer_id)
    _amount(amount_cents)
    method, reference = _method(method, reference)
    today = practice_today(session, practice_id)
    if received_on > today:
        raise InvalidInput(f"received_on: {received_on} is in the future")
    if len(note) > MAX_REASON:
        raise InvalidInput(f"note: at most {MAX_REASON} characters")
    # One hand-entered payment at a time per practice (low volume): the same check keyed by two
    # clerks at once is then found by the second, and batches are counted as they close.
    session.execute(select(m.Practice.id).where(m.Practice.id == practice_id).with_for_update())
    _refuse_duplicate(session, practice_id, payer, reference, method)
    batch = (
        payment_batches.open_batch_for_update(session, practice_id=practice_id, batch_id=batch_id)
        if batch_id is not None
        else None
    )
    plans = _plans(session, practice_id, payer_id, allocations)
    paid_total = sum(line.paid_cents for _, lines in plans for line in lines)
    rest = amount_cents - paid_total
    if rest < 0:
        raise InvalidInput(
            f"allocations: they pay {format_cents(paid_total)}, more than the payment's "
            f"{format_cents(amount_cents)} by {format_cents(-rest)}"
        )
    if rest > 0 and not confirm_unapplied:
        raise InvalidInput(
            f"allocations: they pay {format_cents(paid_total)} of the payment's "
            f"{format_cents(amount_cents)}; confirm that the other {format_cents(rest)} is recorded "
            "as unapplied (confirm_unapplied), or allocate it"
        )
    payment = m.Payment(
        practice_id=practice_id,
        kind="insurance",
        method=method,
        amount_cents=amount_cents,
        received_on=received_on,
        reference=reference,
        payer_id=payer.id,
        batch_id=batch.id if batch is not None else None,
        created_by_user_id=actor.user_id,
    )
    session.add(payment)
    session.flush()
    posted = [_post(session, actor, payment, plan, index) for index, plan in enumerate(plans)]
    unapplied_txn = _unapplied(session, actor, payment, rest) if rest else None
    audit.record(
        session,
        actor=actor,
        practice_id=practice_id,
        action="create",
        entity="payment",
        entity_id=payment.id,
        client_ids=sorted({claim.client_id for claim, _ in plans}),
        after={
            "kind": "insurance",
            "method": method,
            "reference": reference,
            "amount_cents": amount_cents,
            "received_on": received_on.isoformat(),
            "payer_id": payer.id,
            "batch_id": payment.batch_id,
            "claims": [p.claim_id for p in posted],
            "paid": {str(p.claim_id): p.paid_cents for p in posted},
            "unapplied_cents": rest,
        },
        reason=note or "insurance payment entered by hand",
    )
    return InsurancePaymentResult(payment, posted, rest, unapplied_txn.id if unapplied_txn else None)


def _payer(session: Session, payer_id: int) -> m.Payer:
    payer = session.get(m.Payer, payer_id) if isinstance(payer_id, int) else None
    if payer is None:
        raise InvalidInput(f"payer_id: no payer {payer_id!r}")
    return payer


def find_payer(session: Session, *, payer_id: int | None = None, edi_payer_id: str = "") -> int:
    """The payer named by its id or its EDI payer id (InvalidInput naming the field)."""
    if payer_id is not None:
        return _payer(session, payer_id).id
    edi = (edi_payer_id or "").strip()
    if not edi:
        raise InvalidInput("payer_id: say which payer sent the payment")
    found = session.scalars(
        select(m.Payer.id).where(m.Payer.edi_payer_id == edi).order_by(m.Payer.id)
    ).first()
    if found is None:
        raise InvalidInput(f"payer_edi_id: no payer with EDI payer id {edi!r}")
    return found


def practices_billing(session: Session, actor: Actor, payer_id: int) -> list[int]:
    """The actor's practices that bill the payer (its settings row), for a route naming it."""
    rows = session.scalars(select(m.PracticePayer.practice_id).where(m.PracticePayer.payer_id == payer_id))
    return sorted(pid for pid in rows if actor.is_system or pid in actor.practice_ids)


def _amount(amount_cents: int) -> None:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise InvalidInput(f"amount_cents: {amount_cents!r} is not a whole number of cents")
    if amount_cents <= 0:
        raise InvalidInput("amount_cents: must be more than zero")
    if amount_cents > MAX_AMOUNT_CENTS:
        raise InvalidInput(f"amount_cents: more than {format_cents(MAX_AMOUNT_CENTS)} is a typing slip")


def _method(method: str, reference: str) -> tuple[str, str]:
    method = (method or "").strip().lower()
    if method not in METHODS:
        raise InvalidInput(f"method: {method!r} is not one of {', '.join(METHODS)}")
    reference = (reference or "").strip()
    if method == "check" and not reference:
        raise InvalidInput("reference: enter the check number")
    if reference and not _REFERENCE.fullmatch(reference):
        raise InvalidInput("reference: up to 50 letters, digits, spaces and . / # -")
    if method == "card" and len(re.sub(r"\D", "", reference)) > 4:
        raise InvalidInput("reference: for a card give only its last 4 digits, never the card number")
    return method, reference


def _refuse_duplicate(
    session: Session, practice_id: int, payer: m.Payer, reference: str, method: str
) -> None:
    """The same check (payer + number) entered twice is a slip, unless the first was reversed."""
    if not reference:
        return
    earlier = list(
        session.scalars(
            select(m.Payment.id).where(
                m.Payment.practice_id == practice_id,
                m.Payment.kind == "insurance",
                m.Payment.payer_id == payer.id,
                m.Payment.method == method,
                m.Payment.reference == reference,
            )
        )
    )
    live = set(earlier) - payment_batches.reversed_payments(session, earlier)
    if live:
        raise Conflict(
            f"reference: {method} {reference} from {payer.name} is already entered as payment "
            f"{min(live)}; reverse that one first if it was wrong"
        )


def _plans(
    session: Session, practice_id: int, payer_id: int, allocations: Sequence[ClaimAllocation]
) -> list[tuple[m.Claim, tuple[LineAllocation, ...]]]:
    """Each allocation checked against its claim (and prefilled when it has no lines)."""
    ids = [allocation.claim_id for allocation in allocations]
    seen: set[int] = set()
    for index, claim_id in enumerate(ids):
        if claim_id in seen:
            raise InvalidInput(f"allocations[{index}].claim_id: claim {claim_id} is allocated twice")
        seen.add(claim_id)
    claims: dict[int, m.Claim] = {}
    for chunk in chunks(ids):
        query = (
            select(m.Claim)
            .where(m.Claim.id.in_(chunk), m.Claim.practice_id == practice_id)
            .options(selectinload(m.Claim.lines), selectinload(m.Claim.client))
        )
        claims.update((claim.id, claim) for claim in session.scalars(query))
    for index, claim_id in enumerate(ids):
        claim = claims.get(claim_id)
        where = f"allocations[{index}].claim_id"
        if claim is None:
            raise InvalidInput(f"{where}: no claim {claim_id} in this practice")
        if claim.payer_id != payer_id:
            raise InvalidInput(f"{where}: claim {claim.number} is billed to another payer")
        if claim.status not in OPEN_STATUSES:
            raise InvalidInput(
                f"{where}: claim {claim.number} is {claim.status}; the payer owes nothing on it"
            )
    expected = {
        claim.claim_id: claim
        for claim in _expectations(session, practice_id, payer_id, [claims[i] for i in ids])
    }
    plans = []
    for index, allocation in enumerate(allocations):
        claim = claims[allocation.claim_id]
        lines = allocation.lines
        if lines is None:
            lines = prefilled(expected[claim.id]).lines or ()
        _check_lines(index, claim, lines, expected[claim.id])
        plans.append((claim, lines))
    return plans


def _check_lines(index: int, claim: m.Claim, lines: tuple[LineAllocation, ...], expected: OpenClaim) -> None:
    owed = {line.line_number: line.balance_cents for line in expected.lines}
    numbers: set[int] = set()
    for position, line in enumerate(lines):
        where = f"allocations[{index}].lines[{position}]"
        if line.line_number not in owed:
            raise InvalidInput(f"{where}.line_number: claim {claim.number} has no line {line.line_number}")
        if line.line_number in numbers:
            raise InvalidInput(f"{where}.line_number: line {line.line_number} is allocated twice")
        numbers.add(line.line_number)
        for name in (
            "paid_cents",
            "contractual_cents",
            "deductible_cents",
            "coinsurance_cents",
            "copay_cents",
            "denied_cents",
        ):
            value = getattr(line, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(f"{where}.{name}: {value!r} is not a whole, non-negative number of cents")
        if line.denied_cents:
            _denial(where, line)
        total = line.settled_cents + line.denied_cents
        if total > owed[line.line_number]:
            raise InvalidInput(
                f"{where}: claim {claim.number} line {line.line_number}: paid and adjusted "
                f"{format_cents(total)}, more than the {format_cents(owed[line.line_number])} "
                "the payer owes on it"
            )


def _denial(where: str, line: LineAllocation) -> tuple[str, str]:
    found = _ADJUSTMENT_CODE.match((line.denial_code or "").strip().upper())
    if found is None:
        raise InvalidInput(f"{where}.denial_code: {line.denial_code!r} is not GROUP-CARC (e.g. CO-50)")
    group, reason = found.group(1), found.group(2)
    kind = adjustment_reasons.classify(group, reason, line_paid_cents=line.paid_cents).disposition
    if kind != adjustment_reasons.Disposition.DENIAL:
        raise InvalidInput(f"{where}.denial_code: {group}-{reason} is not a denial ({kind})")
    return group, reason


def _manual(line: LineAllocation) -> ManualLine:
    adjustments = [
        ("CO", "45", line.contractual_cents),
        ("PR", "1", line.deductible_cents),
        ("PR", "2", line.coinsurance_cents),
        ("PR", "3", line.copay_cents),
    ]
    if line.denied_cents:
        group, reason = _denial("", line)
        adjustments.append((group, reason, line.denied_cents))
    return ManualLine(line.line_number, line.paid_cents, tuple(a for a in adjustments if a[2]))


def _post(
    session: Session,
    actor: Actor,
    payment: m.Payment,
    plan: tuple[m.Claim, tuple[LineAllocation, ...]],
    index: int,
) -> PostedClaim:
    claim, lines = plan
    manual = [_manual(line) for line in lines if line.settled_cents or line.denied_cents]
    if not manual:
        raise InvalidInput(f"allocations[{index}]: claim {claim.number}: nothing paid, adjusted or denied")
    try:
        txn = post_claim_payment(
            session,
            actor=actor,
            claim_id=claim.id,
            payment=payment,
            lines=manual,
            accounting_on=payment.received_on,
        )
    except (InvalidInput, Conflict) as refused:
        raise InvalidInput(f"allocations[{index}] (claim {claim.number}): {refused.detail}") from None
    session.refresh(claim)
    return PostedClaim(
        claim.id,
        claim.number,
        sum(line.paid_cents for line in lines),
        claim.status,
        txn.id if txn else None,
    )


def _unapplied(session: Session, actor: Actor, payment: m.Payment, cents: int) -> m.LedgerTransaction:
    lines = (
        PostingLine(Account.CASH, cents, payment_id=payment.id),
        PostingLine(Account.UNAPPLIED, -cents, payment_id=payment.id),
    )
    spec = ledger.NewTransaction(
        TransactionKind.INSURANCE_PAYMENT,
        payment.received_on,
        lines,
        f"payment {payment.reference or payment.id}: {format_cents(cents)} unapplied",
        payment_id=payment.id,
    )
    (written,) = ledger.post_transactions(
        session, actor=actor, practice_id=payment.practice_id, transactions=[spec]
    )
    return written


# --- reading one back ----------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentClaimLine:
    claim_id: int
    number: str
    client_name: str
    status: str
    paid_cents: int


@dataclass(frozen=True)
class PaymentDetail:
    payment: m.Payment
    payer_name: str
    batch: m.PaymentBatch | None
    claims: list[PaymentClaimLine]
    unapplied_cents: int
    reversed: bool
    reversal_reason: str = ""
    transactions: list[int] = field(default_factory=list)


def payment_detail(session: Session, *, actor: Actor, payment_id: int) -> PaymentDetail:
    """An insurance payment with what it paid per claim, its unapplied rest and whether it was
    reversed (NotFound for another practice's, or a patient payment)."""
    payment = _insurance_payment(session, actor, payment_id)
    own = _own_transactions(session, payment.id)
    postings = session.execute(
        select(m.Posting.account, m.Posting.claim_id, func.sum(m.Posting.amount_cents))
        .where(m.Posting.transaction_id.in_([t.id for t in own] or [0]))
        .where(m.Posting.account.in_([Account.CASH.value, Account.UNAPPLIED.value]))
        .group_by(m.Posting.account, m.Posting.claim_id)
    ).all()
    paid = {int(cid): int(c) for account, cid, c in postings if account == Account.CASH.value and cid}
    unapplied = -sum(int(c) for account, _, c in postings if account == Account.UNAPPLIED.value)
    claim_ids = sorted(set(paid) | set(_claims_of(session, payment)))
    claims = (
        list(
            session.scalars(
                select(m.Claim).where(m.Claim.id.in_(claim_ids)).options(selectinload(m.Claim.client))
            )
        )
        if claim_ids
        else []
    )
    reversal = session.scalars(
        select(m.LedgerTransaction)
        .where(
            m.LedgerTransaction.payment_id == payment.id,
            m.LedgerTransaction.reverses_transaction_id.is_not(None),
        )
        .order_by(m.LedgerTransaction.id)
    ).first()
    payer = session.get(m.Payer, payment.payer_id) if payment.payer_id else None
    return PaymentDetail(
        payment,
        payer.name if payer else "",
        session.get(m.PaymentBatch, payment.batch_id) if payment.batch_id else None,
        [
            PaymentClaimLine(c.id, c.number, c.client.display_name, c.status, paid.get(c.id, 0))
            for c in sorted(claims, key=lambda c: c.id)
        ],
        unapplied,
        reversal is not None,
        reversal.memo.split(": ", 1)[-1] if reversal is not None else "",
        [t.id for t in own],
    )


def _insurance_payment(session: Session, actor: Actor, payment_id: int) -> m.Payment:
    payment = get_visible(session, m.Payment, payment_id, actor, Permission.POST_PAYMENTS)
    if payment.kind != "insurance":
        raise NotFound("not found")
    return payment


def _own_transactions(session: Session, payment_id: int) -> list[m.LedgerTransaction]:
    return list(
        session.scalars(
            select(m.LedgerTransaction)
            .where(
                m.LedgerTransaction.payment_id == payment_id,
                m.LedgerTransaction.reverses_transaction_id.is_(None),
            )
            .order_by(m.LedgerTransaction.id)
        )
    )


def _claims_of(session: Session, payment: m.Payment) -> list[int]:
    """The claims the payment was allocated to, as its audit row recorded them (a claim whose
    part was all denied moved no money, so no posting names it)."""
    row = session.scalars(
        select(m.AuditLog).where(
            m.AuditLog.practice_id == payment.practice_id,
            m.AuditLog.entity == "payment",
            m.AuditLog.entity_id == str(payment.id),
            m.AuditLog.action == "create",
        )
    ).first()
    after: dict[str, Any] = (row.after or {}) if row is not None else {}
    return [int(claim_id) for claim_id in after.get("claims", [])]


# --- corrections ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentReversal:
    payment: m.Payment
    reversal_transaction_ids: list[int]
    claims_reopened: list[int]


def reverse_payment(
    session: Session, *, actor: Actor, payment_id: int, reason: str, reversed_on: date | None = None
) -> PaymentReversal:
    """Correct a payment entered by hand: reverse every transaction of it exactly and take its
    claims back to accepted (a correction), audited with the reason."""
    payment = _insurance_payment(session, actor, payment_id)
    actor.require(payment.practice_id, Permission.POST_PAYMENTS)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason: say why the payment is reversed")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason: at most {MAX_REASON} characters")
    came_with_835 = session.scalars(
        select(m.Remittance.id).where(m.Remittance.payment_id == payment.id)
    ).first()
    if came_with_835 is not None:
        raise Conflict(f"payment {payment.id} came with an 835; the payer's 835 reversal corrects it")
    # One reversal at a time: lock the payment's row until the unit of work ends.
    session.execute(select(m.Payment.id).where(m.Payment.id == payment.id).with_for_update())
    if payment_batches.reversed_payments(session, [payment.id]):
        raise Conflict(f"payment {payment.id} is already reversed")
    own = _own_transactions(session, payment.id)
    if not own:
        raise Conflict(f"payment {payment.id} has nothing posted to reverse")
    day = reversed_on or practice_today(session, payment.practice_id)
    reversals = [
        ledger.reverse_transaction(
            session, actor=actor, transaction_id=t.id, accounting_on=day, reason=reason
        )
        for t in own
    ]
    claim_ids = sorted(
        set(_claims_of(session, payment))
        | {
            cid
            for cid in session.scalars(
                select(m.Posting.claim_id).where(m.Posting.transaction_id.in_([t.id for t in own]))
            )
            if cid is not None
        }
    )
    claims = list(session.scalars(select(m.Claim).where(m.Claim.id.in_(claim_ids)))) if claim_ids else []
    moves = [
        ClaimMove(
            claim.id,
            S.ACCEPTED,
            EventSource.USER,
            f"payment {payment.id} ({payment.method} {payment.reference}) reversed: {reason}"[:500],
            correction=True,
        )
        for claim in claims
        if ClaimStatus(claim.status) in REVERSIBLE_STATUSES
    ]
    transition_claims(session, actor=actor, moves=moves)
    audit.record(
        session,
        actor=actor,
        practice_id=payment.practice_id,
        action="reverse",
        entity="payment",
        entity_id=payment.id,
        client_ids=sorted({claim.client_id for claim in claims}),
        before={"reversed": False},
        after={
            "reversed": True,
            "reversal_transaction_ids": [r.id for r in reversals],
            "claims_reopened": [move.claim_id for move in moves],
            "reversed_on": day.isoformat(),
        },
        reason=reason,
    )
    return PaymentReversal(payment, [r.id for r in reversals], [move.claim_id for move in moves])
