"""Patient payments at the front desk, against the client's balance, with a PDF receipt.

* ``POST /api/clients/{client_id}/payments``: the client paid (cash, check or card); it goes to
  their open patient balances, oldest date of service first, the rest to their credit. The
  answer says where every cent went and the client's balance and credit afterwards. An
  ``idempotency_key`` makes a retried request return the first payment.
* ``GET /api/payments/{payment_id}/receipt.pdf``: the payment's receipt (kept on first print,
  so reprints are the same document).
* ``POST /api/payments/{payment_id}/void``: the exact reversal of the payment, with a reason.

Recording and voiding need ``post_patient_payments`` (front desk, billing, administrators);
the receipt ``view_client_balance`` (also a client's own). Bad input answers 422 naming the
field, and nothing is written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from revcycle.domain.permissions import Permission
from revcycle.services import patient_payments
from revcycle.services.patient_payments import ClientPaymentResult
from revcycle.web.api.resources import needs
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["patient payments"])

PDF = "application/pdf"
_PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}, "description": "the PDF"}
}


class ClientPaymentIn(BaseModel):
    amount_cents: int = Field(description="what the client paid, in cents", examples=[2500])
    method: str = Field(description="cash | check | card", examples=["card"])
    received_on: date | None = Field(None, description="default: today on the practice's calendar")
    reference: str = Field(
        "", max_length=80, description="the check number (required for a check); a card's last 4 digits"
    )
    note: str = Field("", max_length=500)
    idempotency_key: str | None = Field(
        None, max_length=100, description="the same key again returns the first payment"
    )


class AllocationOut(BaseModel):
    charge_id: int
    session_id: int
    claim_id: int | None
    service_on: date
    procedure_code: str
    amount_cents: int


class ClientPaymentOut(BaseModel):
    payment_id: int
    client_id: int
    transaction_id: int
    amount_cents: int
    method: str
    reference: str
    received_on: date
    allocations: list[AllocationOut]
    credit_cents: int = Field(description="the part of this payment kept as the client's credit")
    balance_due_cents: int = Field(description="what the client owes after this payment")
    credit_balance_cents: int = Field(description="the client's credit after this payment")
    receipt_url: str


class VoidIn(BaseModel):
    reason: str = Field(max_length=500, examples=["entered twice"])


class VoidOut(BaseModel):
    payment_id: int
    voided: bool
    reversal_transaction_id: int


def _out(result: ClientPaymentResult) -> ClientPaymentOut:
    payment = result.payment
    assert payment.client_id is not None
    return ClientPaymentOut(
        payment_id=payment.id,
        client_id=payment.client_id,
        transaction_id=result.transaction.id,
        amount_cents=payment.amount_cents,
        method=payment.method,
        reference=payment.reference,
        received_on=payment.received_on,
        allocations=[
            AllocationOut(
                charge_id=a.charge_id,
                session_id=a.session_id,
                claim_id=a.claim_id,
                service_on=a.service_on,
                procedure_code=a.procedure_code,
                amount_cents=a.amount_cents,
            )
            for a in result.allocations
        ],
        credit_cents=result.credit_cents,
        balance_due_cents=result.balance_due_cents,
        credit_balance_cents=result.credit_balance_cents,
        receipt_url=f"/api/payments/{payment.id}/receipt.pdf",
    )


@router.post(
    "/api/clients/{client_id}/payments",
    response_model=ClientPaymentOut,
    **needs(Permission.POST_PATIENT_PAYMENTS),
)
def api_record_client_payment(
    db: DB, actor: CurrentActor, client_id: int, body: ClientPaymentIn
) -> ClientPaymentOut:
    """Record a payment at the desk toward the client's balance (oldest visit first)."""
    result = patient_payments.record_client_payment(
        db,
        actor=actor,
        client_id=client_id,
        amount_cents=body.amount_cents,
        method=body.method,
        received_on=body.received_on,
        reference=body.reference,
        note=body.note,
        idempotency_key=body.idempotency_key,
    )
    return _out(result)


@router.get(
    "/api/payments/{payment_id}/receipt.pdf",
    response_class=Response,
    responses=_PDF_RESPONSE,
    **needs(Permission.VIEW_CLIENT_BALANCE),
)
def api_payment_receipt(db: DB, actor: CurrentActor, payment_id: int) -> Response:
    """The patient payment's receipt as PDF."""
    content = patient_payments.receipt_pdf(db, payment_id, actor=actor)
    return Response(
        content=content,
        media_type=PDF,
        headers={"Content-Disposition": f'inline; filename="receipt-{payment_id}.pdf"'},
    )


@router.post(
    "/api/payments/{payment_id}/void",
    response_model=VoidOut,
    **needs(Permission.POST_PATIENT_PAYMENTS),
)
def api_void_payment(db: DB, actor: CurrentActor, payment_id: int, body: VoidIn) -> VoidOut:
    """Void a patient payment: its exact reversal, with the reason."""
    reversal = patient_payments.void_client_payment(
        db, actor=actor, payment_id=payment_id, reason=body.reason
    )
    return VoidOut(payment_id=payment_id, voided=True, reversal_transaction_id=reversal.id)
