"""Ledger events: the posting lines each everyday money event turns into.

A charge is revenue the day it is billed, owed by the payer (``ar:insurance``, per coverage)
or, for self-pay, by the patient (``ar:patient``, per guarantor). What happens next moves the
balance between those and out of AR:

=============================  ==========================================================
event                          lines (debit positive)
=============================  ==========================================================
charge billed to insurance     ar:insurance +, revenue -
charge billed to the patient   ar:patient +, revenue -
insurance payment              cash +, ar:insurance -
contractual adjustment         adjustment:contractual +, ar:insurance -  (CO-45: not a loss)
transfer to the patient        ar:patient +, ar:insurance -  (PR-1/2/3 after adjudication)
patient payment                cash +, ar:patient -
write-off                      adjustment:writeoff +, ar:patient - (or ar:insurance -)
refund owed                    ar:patient + (or ar:insurance +), refund_payable -
refund paid                    refund_payable +, cash -
opening balance                ar:insurance +, opening_balance -  (AR brought from elsewhere)
=============================  ==========================================================

A refund is two events. When someone overpaid, their AR is negative (a credit balance);
approving the refund clears that credit against ``refund_payable`` (what the practice now
owes out), and sending the money (check, card reversal) settles ``refund_payable`` from cash.
Keeping the two apart shows refunds approved but not yet sent.

Every line of an event carries the charge's ids (charge, claim, client), so balances per
charge, claim and client follow each account; AR lines also carry whose AR it is (coverage
and payer, or guarantor). Amounts given to the builders are positive; undoing an event is
the ledger's :func:`~revcycle.domain.ledger.negate`, never a negative amount here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from revcycle.domain.ledger import Account, PostingLine

__all__ = [
    "ChargeRef",
    "InsuranceRef",
    "TransactionKind",
    "charge_to_insurance",
    "charge_to_patient",
    "contractual_adjustment",
    "insurance_payment",
    "opening_balance",
    "patient_payment",
    "refund_owed",
    "refund_paid",
    "transfer_to_patient",
    "write_off",
]

Lines = tuple[PostingLine, ...]


class TransactionKind(StrEnum):
    """What a ledger transaction records (stored on the transaction)."""

    CHARGE = "charge"
    INSURANCE_PAYMENT = "insurance_payment"
    CONTRACTUAL_ADJUSTMENT = "contractual_adjustment"
    TRANSFER_TO_PATIENT = "transfer_to_patient"
    PATIENT_PAYMENT = "patient_payment"
    WRITE_OFF = "write_off"
    REFUND = "refund"
    REFUND_PAID = "refund_paid"
    OPENING_BALANCE = "opening_balance"
    REVERSAL = "reversal"
    PAYER_CORRECTION = "payer_correction"  # AR moved to the payer it really is


@dataclass(frozen=True)
class ChargeRef:
    """The charge line an event belongs to, with its claim (once billed) and client."""

    charge_id: int | None
    client_id: int
    claim_id: int | None = None


@dataclass(frozen=True)
class InsuranceRef:
    """Whose insurance AR it is: the client's coverage with one payer."""

    coverage_id: int
    payer_id: int


def _line(
    account: Account,
    amount_cents: int,
    charge: ChargeRef,
    *,
    insurance: InsuranceRef | None = None,
    guarantor_id: int | None = None,
    payment_id: int | None = None,
) -> PostingLine:
    return PostingLine(
        account=account,
        amount_cents=amount_cents,
        charge_id=charge.charge_id,
        claim_id=charge.claim_id,
        client_id=charge.client_id,
        coverage_id=insurance.coverage_id if insurance else None,
        payer_id=insurance.payer_id if insurance else None,
        guarantor_id=guarantor_id,
        payment_id=payment_id,
    )


def _positive(amount_cents: int, event: str) -> int:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise TypeError(f"{event}: amount_cents must be an int, got {amount_cents!r}")
    if amount_cents <= 0:
        raise ValueError(
            f"{event}: amount must be positive, got {amount_cents} cents "
            "(undo an event by reversing it)"
        )
    return amount_cents


def charge_to_insurance(amount_cents: int, charge: ChargeRef, insurance: InsuranceRef) -> Lines:
    """A charge billed to the payer: the payer owes it, the practice earned it."""
    amount = _positive(amount_cents, "charge")
    return (
        _line(Account.AR_INSURANCE, amount, charge, insurance=insurance),
        _line(Account.REVENUE, -amount, charge),
    )


def charge_to_patient(amount_cents: int, charge: ChargeRef, guarantor_id: int) -> Lines:
    """A self-pay charge (or a no-show fee): the guarantor owes it."""
    amount = _positive(amount_cents, "charge")
    return (
        _line(Account.AR_PATIENT, amount, charge, guarantor_id=guarantor_id),
        _line(Account.REVENUE, -amount, charge),
    )


def insurance_payment(
    amount_cents: int, charge: ChargeRef, insurance: InsuranceRef, *, payment_id: int | None = None
) -> Lines:
    """The payer paid part of what it owes on the charge."""
    amount = _positive(amount_cents, "insurance payment")
    return (
        _line(Account.CASH, amount, charge, payment_id=payment_id),
        _line(Account.AR_INSURANCE, -amount, charge, insurance=insurance, payment_id=payment_id),
    )


def contractual_adjustment(amount_cents: int, charge: ChargeRef, insurance: InsuranceRef) -> Lines:
    """Billed minus allowed (CO-45 and kin): the contract, not a loss."""
    amount = _positive(amount_cents, "contractual adjustment")
    return (
        _line(Account.ADJUSTMENT_CONTRACTUAL, amount, charge),
        _line(Account.AR_INSURANCE, -amount, charge, insurance=insurance),
    )


def transfer_to_patient(
    amount_cents: int, charge: ChargeRef, insurance: InsuranceRef, guarantor_id: int
) -> Lines:
    """Patient responsibility (deductible, coinsurance, copay) moves from payer to patient."""
    amount = _positive(amount_cents, "transfer to patient")
    return (
        _line(Account.AR_PATIENT, amount, charge, guarantor_id=guarantor_id),
        _line(Account.AR_INSURANCE, -amount, charge, insurance=insurance),
    )


def payer_correction(
    amount_cents: int, charge: ChargeRef, wrong: InsuranceRef, right: InsuranceRef
) -> Lines:
    """What was recorded as owed by one payer is owed by another (an unknown payer turned out
    to be a catalog payer under another name): the balance, credit or debit, moves whole."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents == 0:
        raise ValueError(f"payer correction: amount_cents must be a non-zero int, got {amount_cents!r}")
    return (
        _line(Account.AR_INSURANCE, amount_cents, charge, insurance=right),
        _line(Account.AR_INSURANCE, -amount_cents, charge, insurance=wrong),
    )


def patient_payment(
    amount_cents: int, charge: ChargeRef, guarantor_id: int, *, payment_id: int | None = None
) -> Lines:
    """The patient (or guarantor) paid toward the charge."""
    amount = _positive(amount_cents, "patient payment")
    return (
        _line(Account.CASH, amount, charge, payment_id=payment_id),
        _line(Account.AR_PATIENT, -amount, charge, guarantor_id=guarantor_id, payment_id=payment_id),
    )


def _ar_line(
    amount_cents: int,
    charge: ChargeRef,
    *,
    insurance: InsuranceRef | None,
    guarantor_id: int | None,
    event: str,
) -> PostingLine:
    """The AR side of a write-off or refund: the patient's or the payer's, exactly one."""
    if (insurance is None) == (guarantor_id is None):
        raise ValueError(f"{event}: name either the guarantor or the insurance, not both or neither")
    if insurance is not None:
        return _line(Account.AR_INSURANCE, amount_cents, charge, insurance=insurance)
    return _line(Account.AR_PATIENT, amount_cents, charge, guarantor_id=guarantor_id)


def write_off(
    amount_cents: int,
    charge: ChargeRef,
    *,
    guarantor_id: int | None = None,
    insurance: InsuranceRef | None = None,
) -> Lines:
    """An approved write-off of what the patient (or the payer) will not pay."""
    amount = _positive(amount_cents, "write-off")
    ar = _ar_line(-amount, charge, insurance=insurance, guarantor_id=guarantor_id, event="write-off")
    return (_line(Account.ADJUSTMENT_WRITEOFF, amount, charge), ar)


def refund_owed(
    amount_cents: int,
    charge: ChargeRef,
    *,
    guarantor_id: int | None = None,
    insurance: InsuranceRef | None = None,
) -> Lines:
    """An approved refund of an overpayment: the credit balance becomes a debt to pay out."""
    amount = _positive(amount_cents, "refund")
    ar = _ar_line(amount, charge, insurance=insurance, guarantor_id=guarantor_id, event="refund")
    return (ar, _line(Account.REFUND_PAYABLE, -amount, charge))


def refund_paid(amount_cents: int, charge: ChargeRef, *, payment_id: int | None = None) -> Lines:
    """The refund went out: what was payable is settled from cash."""
    amount = _positive(amount_cents, "refund paid")
    return (
        _line(Account.REFUND_PAYABLE, amount, charge),
        _line(Account.CASH, -amount, charge, payment_id=payment_id),
    )


def opening_balance(amount_cents: int, charge: ChargeRef, insurance: InsuranceRef) -> Lines:
    """A payer balance brought over from another system's AR export."""
    amount = _positive(amount_cents, "opening balance")
    return (
        _line(Account.AR_INSURANCE, amount, charge, insurance=insurance),
        _line(Account.OPENING_BALANCE, -amount, charge),
    )
