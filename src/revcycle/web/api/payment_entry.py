"""Insurance payments entered by hand (paper checks and their EOBs, EFTs, cards) and batches.

* ``GET /api/payers/{payer_id}/open-claims``: the payer's open claims with an insurance
  balance, oldest first, each with its expected amount and where that figure comes from;
* ``POST /api/insurance-payments/lump-sum-proposals``: the sets of those claims whose expected
  amounts add up exactly to a check, best first (fewest claims, then oldest);
* ``POST /api/insurance-payments``: record the payment and post its allocations (per claim, per
  line: paid, contractual, deductible, coinsurance, copay, denied; a claim given without lines
  is allocated from its expected amounts). What is not allocated is recorded as unapplied only
  with ``confirm_unapplied``;
* ``POST /api/insurance-payments/{payment_id}/reverse``: the correction: every transaction of
  the payment reversed exactly, its claims back to accepted, with the reason;
* ``POST /api/payment-batches``: a batch with its control count and amount;
  ``GET /api/payment-batches/{batch_id}``: entered against control and the difference;
  ``POST /api/payment-batches/{batch_id}/close``: only when both match.

The routes live under ``/api/insurance-payments`` so that they never meet the patient payment
routes under ``/api/payments/{payment_id}`` (receipt, void). Everything needs
``post_payments``. Bad input answers 422 naming the field, and nothing is written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from revcycle.domain.permissions import Permission
from revcycle.errors import NotFound
from revcycle.services import payment_batches, payment_entry, queries
from revcycle.services.payment_batches import BatchView
from revcycle.services.payment_entry import ClaimAllocation, LineAllocation, OpenClaim
from revcycle.web.api.resources import ListOut, PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["insurance payments"])

POST = Permission.POST_PAYMENTS


# --- shapes --------------------------------------------------------------------------------


class ExpectedLineOut(BaseModel):
    line_number: int
    procedure_code: str
    modifiers: str
    charge_cents: int
    balance_cents: int = Field(description="insurance balance left on the line")
    allowed_cents: int | None = Field(description="the contract's or fee schedule's allowed amount")
    patient_cents: int = Field(description="the usual patient share taken off the allowed amount")
    patient_reason: str = Field(description="copay | coinsurance | empty")
    expected_cents: int | None
    source: str = Field(description="contract | fee_schedule | history | empty (no expectation)")
    basis: str


class OpenClaimOut(BaseModel):
    claim_id: int
    number: str
    client_id: int
    client_name: str
    service_on: date
    status: str
    billed_cents: int
    balance_cents: int = Field(description="insurance balance left on the claim")
    expected_cents: int | None = Field(description="what the payer should send (none: unknown)")
    expected_source: str = Field(description="contract | fee_schedule | history | mixed | none")
    basis: str
    lines: list[ExpectedLineOut]


class ProposalsIn(BaseModel):
    payer_id: int | None = None
    payer_edi_id: str = Field("", max_length=20, description="or the payer by its EDI payer id")
    amount_cents: int = Field(description="the check's amount", examples=[16000])
    limit: int = Field(5, ge=1, le=20)


class ProposalOut(BaseModel):
    claim_ids: list[int]
    total_cents: int
    claims: list[OpenClaimOut]


class ProposalsOut(BaseModel):
    amount_cents: int
    proposals: list[ProposalOut]
    candidates: int = Field(description="open claims with an expected amount that were tried")
    without_expectation: int = Field(description="open claims no proposal can include")
    note: str = Field(description="why the search stopped short, if it did")


class LineIn(BaseModel):
    line_number: int
    paid_cents: int = 0
    contractual_cents: int = 0
    deductible_cents: int = 0
    coinsurance_cents: int = 0
    copay_cents: int = 0
    denied_cents: int = 0
    denial_code: str = Field(payment_entry.DEFAULT_DENIAL, max_length=10, description="GROUP-CARC")


class AllocationIn(BaseModel):
    claim_id: int
    lines: list[LineIn] | None = Field(None, description="none: allocated from the expected amounts")


class PaymentIn(BaseModel):
    payer_id: int | None = None
    payer_edi_id: str = Field("", max_length=20, description="or the payer by its EDI payer id")
    amount_cents: int = Field(examples=[16000])
    received_on: date
    method: str = Field(description="check | eft | card", examples=["check"])
    reference: str = Field("", max_length=50, description="the check number (required for a check)")
    batch_id: int | None = Field(None, description="the open payment batch it is keyed into")
    allocations: list[AllocationIn] = Field(default_factory=list, max_length=500)
    confirm_unapplied: bool = Field(False, description="record what is not allocated as unapplied")
    note: str = Field("", max_length=500)


class PostedClaimOut(BaseModel):
    claim_id: int
    number: str
    paid_cents: int
    status: str
    transaction_id: int | None


class PaymentOut(BaseModel):
    payment_id: int
    payer_id: int
    amount_cents: int
    method: str
    reference: str
    received_on: date
    batch_id: int | None
    claims: list[PostedClaimOut]
    unapplied_cents: int


class ReverseIn(BaseModel):
    reason: str = Field(max_length=500, examples=["keyed against the wrong claims"])
    reversed_on: date | None = Field(None, description="default: today on the practice's calendar")


class ReverseOut(BaseModel):
    payment_id: int
    reversal_transaction_ids: list[int]
    claims_reopened: list[int]


class BatchIn(BaseModel):
    name: str = Field(max_length=100, examples=["Mail 2026-04-14"])
    control_count: int = Field(examples=[12])
    control_amount_cents: int = Field(examples=[384500])


class BatchPaymentOut(BaseModel):
    payment_id: int
    payer_name: str
    reference: str
    amount_cents: int
    received_on: date
    reversed: bool


class BatchOut(BaseModel):
    id: int
    name: str
    status: str
    control_count: int
    control_amount_cents: int
    entered_count: int
    entered_cents: int
    count_difference: int = Field(description="payments still to enter (negative: too many)")
    amount_difference_cents: int = Field(description="money still to enter (negative: too much)")
    balanced: bool
    payments: list[BatchPaymentOut]


def _open_claim_out(claim: OpenClaim) -> OpenClaimOut:
    return OpenClaimOut(
        claim_id=claim.claim_id,
        number=claim.number,
        client_id=claim.client_id,
        client_name=claim.client_name,
        service_on=claim.service_on,
        status=claim.status,
        billed_cents=claim.billed_cents,
        balance_cents=claim.balance_cents,
        expected_cents=claim.expected_cents,
        expected_source=claim.source,
        basis=claim.basis,
        lines=[ExpectedLineOut.model_validate(line, from_attributes=True) for line in claim.lines],
    )


def _batch_out(view: BatchView) -> BatchOut:
    batch = view.batch
    return BatchOut(
        id=batch.id,
        name=batch.name,
        status=batch.status,
        control_count=batch.control_count,
        control_amount_cents=batch.control_amount_cents,
        entered_count=view.entered_count,
        entered_cents=view.entered_cents,
        count_difference=view.count_difference,
        amount_difference_cents=view.amount_difference_cents,
        balanced=view.balanced,
        payments=[
            BatchPaymentOut(
                payment_id=row.payment.id,
                payer_name=row.payer_name,
                reference=row.payment.reference,
                amount_cents=row.payment.amount_cents,
                received_on=row.payment.received_on,
                reversed=row.reversed,
            )
            for row in view.payments
        ],
    )


def _read_clients(db: DB, actor: CurrentActor, practice_id: int, claims: list[OpenClaim]) -> None:
    queries.record_client_reads(
        db, actor=actor, entity="claim", clients=[(practice_id, claim.client_id) for claim in claims]
    )


# --- routes --------------------------------------------------------------------------------


@router.get(
    "/api/payers/{payer_id}/open-claims",
    response_model=ListOut[OpenClaimOut],
    **needs(Permission.POST_PAYMENTS),
)
def api_open_claims(
    db: DB,
    actor: CurrentActor,
    payer_id: int,
    practice_id: PracticeId = None,
    limit: int = Query(200, ge=1, le=payment_entry.MAX_OPEN_CLAIMS),
) -> dict[str, Any]:
    """The payer's open claims with an insurance balance, oldest first, with expected amounts."""
    billing = payment_entry.practices_billing(db, actor, payer_id)
    if not billing or (practice_id is not None and practice_id not in billing):
        raise NotFound("not found")
    practice = one_practice(actor, practice_id if practice_id is not None else _only(billing), POST)
    claims = payment_entry.open_claims(db, actor=actor, practice_id=practice, payer_id=payer_id, limit=limit)
    _read_clients(db, actor, practice, claims)
    return {"items": [_open_claim_out(claim) for claim in claims], "total": len(claims)}


def _only(practice_ids: list[int]) -> int | None:
    return practice_ids[0] if len(practice_ids) == 1 else None


@router.post(
    "/api/insurance-payments/lump-sum-proposals",
    response_model=ProposalsOut,
    **needs(Permission.POST_PAYMENTS),
)
def api_lump_sum_proposals(
    db: DB, actor: CurrentActor, body: ProposalsIn, practice_id: PracticeId = None
) -> ProposalsOut:
    """The sets of the payer's open claims whose expected amounts add up exactly to the check."""
    practice = one_practice(actor, practice_id, POST)
    payer_id = payment_entry.find_payer(db, payer_id=body.payer_id, edi_payer_id=body.payer_edi_id)
    answer = payment_entry.lump_sum_proposals(
        db,
        actor=actor,
        practice_id=practice,
        payer_id=payer_id,
        amount_cents=body.amount_cents,
        limit=body.limit,
    )
    shown = [claim for proposal in answer.proposals for claim in proposal]
    _read_clients(db, actor, practice, shown)
    return ProposalsOut(
        amount_cents=answer.amount_cents,
        proposals=[
            ProposalOut(
                claim_ids=[claim.claim_id for claim in proposal],
                total_cents=sum(claim.expected_cents or 0 for claim in proposal),
                claims=[_open_claim_out(claim) for claim in proposal],
            )
            for proposal in answer.proposals
        ],
        candidates=answer.candidates,
        without_expectation=answer.without_expectation,
        note=answer.note,
    )


@router.post("/api/insurance-payments", response_model=PaymentOut, **needs(Permission.POST_PAYMENTS))
def api_record_insurance_payment(
    db: DB, actor: CurrentActor, body: PaymentIn, practice_id: PracticeId = None
) -> PaymentOut:
    """Record an insurance payment and post its allocations, all or nothing."""
    practice = one_practice(actor, practice_id, POST)
    payer_id = payment_entry.find_payer(db, payer_id=body.payer_id, edi_payer_id=body.payer_edi_id)
    allocations = [
        ClaimAllocation(
            a.claim_id,
            tuple(LineAllocation(**line.model_dump()) for line in a.lines) if a.lines is not None else None,
        )
        for a in body.allocations
    ]
    result = payment_entry.record_insurance_payment(
        db,
        actor=actor,
        practice_id=practice,
        payer_id=payer_id,
        amount_cents=body.amount_cents,
        received_on=body.received_on,
        method=body.method,
        reference=body.reference,
        allocations=allocations,
        batch_id=body.batch_id,
        confirm_unapplied=body.confirm_unapplied,
        note=body.note,
    )
    payment = result.payment
    return PaymentOut(
        payment_id=payment.id,
        payer_id=payer_id,
        amount_cents=payment.amount_cents,
        method=payment.method,
        reference=payment.reference,
        received_on=payment.received_on,
        batch_id=payment.batch_id,
        claims=[PostedClaimOut.model_validate(p, from_attributes=True) for p in result.claims],
        unapplied_cents=result.unapplied_cents,
    )


@router.post(
    "/api/insurance-payments/{payment_id}/reverse",
    response_model=ReverseOut,
    **needs(Permission.POST_PAYMENTS),
)
def api_reverse_insurance_payment(
    db: DB, actor: CurrentActor, payment_id: int, body: ReverseIn
) -> ReverseOut:
    """Reverse a hand-entered insurance payment exactly; its claims go back to accepted."""
    done = payment_entry.reverse_payment(
        db, actor=actor, payment_id=payment_id, reason=body.reason, reversed_on=body.reversed_on
    )
    return ReverseOut(
        payment_id=payment_id,
        reversal_transaction_ids=done.reversal_transaction_ids,
        claims_reopened=done.claims_reopened,
    )


@router.post("/api/payment-batches", response_model=BatchOut, **needs(Permission.POST_PAYMENTS))
def api_create_batch(db: DB, actor: CurrentActor, body: BatchIn, practice_id: PracticeId = None) -> BatchOut:
    """Open a payment batch with its control count and amount (entered before the payments)."""
    practice = one_practice(actor, practice_id, POST)
    batch = payment_batches.create_batch(
        db,
        actor=actor,
        practice_id=practice,
        name=body.name,
        control_count=body.control_count,
        control_amount_cents=body.control_amount_cents,
    )
    return _batch_out(payment_batches.batch_view(db, actor=actor, batch_id=batch.id))


@router.get("/api/payment-batches/{batch_id}", response_model=BatchOut, **needs(Permission.POST_PAYMENTS))
def api_batch(db: DB, actor: CurrentActor, batch_id: int) -> BatchOut:
    """The batch: entered against control, the difference, and its payments."""
    return _batch_out(payment_batches.batch_view(db, actor=actor, batch_id=batch_id))


@router.post(
    "/api/payment-batches/{batch_id}/close", response_model=BatchOut, **needs(Permission.POST_PAYMENTS)
)
def api_close_batch(db: DB, actor: CurrentActor, batch_id: int) -> BatchOut:
    """Close the batch: refused (422, naming the difference) until entered matches control."""
    return _batch_out(payment_batches.close_batch(db, actor=actor, batch_id=batch_id))
