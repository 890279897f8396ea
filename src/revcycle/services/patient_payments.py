"""Patient payments at the front desk, against the client's whole balance, with a receipt.

A client at the desk pays toward what they owe, not toward one visit: the payment goes to the
client's open patient balances (``ar:patient`` per charge), oldest date of service first, and
whatever is left becomes the client's credit (``patient_credit``, the account the session
page's payments use too). It is one ledger transaction (cash in, patient AR and credit down),
one ``Payment`` row and one audit row; :func:`record_client_payment` says where every cent
went.

Each payment prints a receipt (:func:`receipt_pdf`): the practice, the receipt number (the
payment's id), the client, the method with its reference — a check number, or a card's last
four digits, never a full card number —, the amount, what it paid and the client's balance
and credit right after it. The first print is kept as a stored file, so every reprint is the
same document.

A payment entered wrongly is voided (:func:`void_client_payment`): the exact reversal of its
transaction, with a reason, audited; nothing is edited. A voided payment shows as voided, and
its receipt is printed anew with a VOIDED banner (the first print stays among the stored
files, named in the audit row).

Permissions: recording and voiding need ``post_patient_payments`` (front desk, billing,
administrators); the account view and the receipt need ``view_client_balance`` (also a
client's own). Another practice's client or payment is "not found".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.adapters.receipt_pdf import Receipt, ReceiptLine, render_receipt_pdf
from revcycle.db import models as m
from revcycle.domain.ledger import Account, BalanceScope, PostingLine
from revcycle.domain.ledger_events import ChargeRef, TransactionKind, patient_payment
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit, ledger, queries
from revcycle.services.actor import Actor
from revcycle.services.claims_pipeline.scrubbing import practice_today
from revcycle.services.scoping import get_visible
from revcycle.services.stored_files import store_file

__all__ = [
    "METHODS",
    "Allocation",
    "ClientAccount",
    "ClientPaymentResult",
    "DeskPayment",
    "OpenItem",
    "client_account",
    "describe_method",
    "load_patient_payment",
    "open_items",
    "payment_result",
    "receipt_pdf",
    "record_client_payment",
    "void_client_payment",
]

METHODS = ("cash", "check", "card")
MAX_AMOUNT_CENTS = 10_000_000  # $100,000.00: more than that is a typing slip, not a desk payment
MAX_NOTE = 500
MAX_REASON = 500
RECENT_PAYMENTS = 20
_CHECK_NUMBER = re.compile(r"[A-Za-z0-9-]{1,20}")
_LAST_FOUR = re.compile(r"\d{4}")
# 13 to 19 digits, with or without spaces or dashes between them: a card number.
_CARD_NUMBER = re.compile(r"(?:\d[ -]?){12,18}\d")
_REVERSAL_MEMO = re.compile(r"^reversal of transaction \d+: ")


@dataclass(frozen=True)
class OpenItem:
    """A charge the client still owes on."""

    charge_id: int
    session_id: int
    claim_id: int | None
    service_on: date
    procedure_code: str
    clinician: str
    owed_cents: int


@dataclass(frozen=True)
class Allocation:
    """The part of a payment that went to one charge."""

    charge_id: int
    session_id: int
    claim_id: int | None
    service_on: date
    procedure_code: str
    amount_cents: int


@dataclass(frozen=True)
class ClientPaymentResult:
    payment: m.Payment
    transaction: m.LedgerTransaction
    allocations: list[Allocation]
    credit_cents: int  # the part of this payment kept as credit
    balance_due_cents: int  # what the client owes after it
    credit_balance_cents: int  # the client's credit after it


@dataclass(frozen=True)
class DeskPayment:
    """A patient payment as the desk lists it."""

    payment: m.Payment
    voided: bool


@dataclass(frozen=True)
class ClientAccount:
    """What the desk sees of a client: the balance, the open items and recent payments."""

    client: m.Client
    balance_due_cents: int
    credit_cents: int
    open_items: list[OpenItem]
    payments: list[DeskPayment]


# --- recording -----------------------------------------------------------------------------


def record_client_payment(
    session: Session,
    *,
    actor: Actor,
    client_id: int,
    amount_cents: int,
    method: str,
    received_on: date | None = None,
    reference: str = "",
    note: str = "",
    idempotency_key: str | None = None,
) -> ClientPaymentResult:
    """The client paid at the desk: to their open charges, oldest first; the rest is credit.

    With an ``idempotency_key`` (a form's one-time token), the same key again returns the
    payment first recorded with it and writes nothing.
    """
    client = get_visible(session, m.Client, client_id, actor, Permission.VIEW_CLIENT_BALANCE)
    actor.require(client.practice_id, Permission.POST_PATIENT_PAYMENTS)
    # One desk payment per client at a time: two at once would pay the same open charge twice
    # (and a retried request waits here for the first, then finds its key).
    session.execute(select(m.Client.id).where(m.Client.id == client.id).with_for_update())
    if idempotency_key is not None and len(idempotency_key.strip()) > 100:
        raise InvalidInput("idempotency_key: at most 100 characters")
    key = f"client-payment:{client.id}:{idempotency_key.strip()}" if idempotency_key else None
    if key is not None:
        earlier = _transaction_by_key(session, client.practice_id, key)
        if earlier is not None and earlier.payment_id is not None:
            return _result_of(session, session.get_one(m.Payment, earlier.payment_id), earlier)
    method, reference, note = _checked(amount_cents, method, reference, note)
    if client.merged_into_id is not None:
        raise InvalidInput(f"client_id: client {client.id} was merged into client {client.merged_into_id}")
    today = practice_today(session, client.practice_id)
    received_on = received_on or today
    if received_on > today:
        raise InvalidInput(f"received_on: {received_on} is in the future")
    _refuse_closed_period(session, client.practice_id, received_on)
    guarantor = _guarantor(session, client)
    payment = m.Payment(
        practice_id=client.practice_id,
        kind="patient",
        method=method,
        amount_cents=amount_cents,
        received_on=received_on,
        reference=reference,
        client_id=client.id,
        guarantor_id=guarantor.id,
        created_by_user_id=actor.user_id,
    )
    session.add(payment)
    session.flush()
    allocations, credit = _allocate(open_items(session, client), amount_cents)
    lines = _lines(client.id, guarantor.id, payment.id, allocations, credit)
    memo = f"front desk payment ({describe_method(method, reference)})" + (f": {note}" if note else "")
    transaction = ledger.post_transaction(
        session,
        actor=actor,
        practice_id=client.practice_id,
        kind=TransactionKind.PATIENT_PAYMENT,
        accounting_on=received_on,
        lines=lines,
        memo=memo,
        idempotency_key=key,
        payment_id=payment.id,
    )
    audit.record(
        session,
        actor=actor,
        practice_id=client.practice_id,
        action="create",
        entity="payment",
        entity_id=payment.id,
        client_ids=[client.id],
        after={
            "kind": "patient",
            "method": method,
            "amount_cents": amount_cents,
            "received_on": received_on.isoformat(),
            "applied": [[a.charge_id, a.amount_cents] for a in allocations],
            "credit_cents": credit,
            "transaction_id": transaction.id,
        },
        reason=note or "payment at the front desk",
    )
    due, credit_balance = _client_balances(session, client.practice_id, client.id)
    return ClientPaymentResult(payment, transaction, allocations, credit, due, credit_balance)


def _checked(amount_cents: int, method: str, reference: str, note: str) -> tuple[str, str, str]:
    """The method, reference and note as stored, or InvalidInput naming the field."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise InvalidInput(f"amount_cents: {amount_cents!r} is not a whole number of cents")
    if amount_cents <= 0:
        raise InvalidInput("amount_cents: must be more than zero")
    if amount_cents > MAX_AMOUNT_CENTS:
        raise InvalidInput("amount_cents: more than $100,000.00 is not taken at the desk")
    method = (method or "").strip().lower()
    if method not in METHODS:
        raise InvalidInput(f"method: {method!r} is not one of {', '.join(METHODS)}")
    reference = (reference or "").strip()
    if method == "check":
        if not reference:
            raise InvalidInput("reference: enter the check number")
        if not _CHECK_NUMBER.fullmatch(reference):
            raise InvalidInput("reference: a check number is up to 20 letters, digits or dashes")
    elif method == "card":
        if reference and not _LAST_FOUR.fullmatch(reference):
            raise InvalidInput("reference: give only the card's last 4 digits, never the card number")
    elif len(reference) > 80:
        raise InvalidInput("reference: at most 80 characters")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"note: at most {MAX_NOTE} characters")
    for field, text in (("reference", reference), ("note", note)):
        if _CARD_NUMBER.search(text):
            raise InvalidInput(f"{field}: looks like a card number; never write one down here")
    return method, reference, note


def _refuse_closed_period(session: Session, practice_id: int, day: date) -> None:
    closed = session.scalar(
        select(m.AccountingPeriod.starts_on).where(
            m.AccountingPeriod.practice_id == practice_id,
            m.AccountingPeriod.starts_on <= day,
            m.AccountingPeriod.ends_on >= day,
        )
    )
    if closed is not None:
        raise InvalidInput(f"received_on: {day} falls in the closed month {closed:%Y-%m}; use a later date")


def _transaction_by_key(session: Session, practice_id: int, key: str) -> m.LedgerTransaction | None:
    return session.scalars(
        select(m.LedgerTransaction).where(
            m.LedgerTransaction.practice_id == practice_id, m.LedgerTransaction.idempotency_key == key
        )
    ).one_or_none()


def _guarantor(session: Session, client: m.Client) -> m.Guarantor:
    """Who pays for the client: their primary guarantor, or the client themself (made once)."""
    found = session.scalars(
        select(m.Guarantor)
        .where(m.Guarantor.client_id == client.id)
        .order_by(m.Guarantor.is_primary.desc(), m.Guarantor.id)
    ).first()
    if found is not None:
        return found
    own = m.Guarantor(
        practice_id=client.practice_id,
        client_id=client.id,
        relationship_to_client="self",
        first_name=client.first_name,
        last_name=client.last_name,
    )
    session.add(own)
    session.flush()
    return own


def _allocate(items: Sequence[OpenItem], amount_cents: int) -> tuple[list[Allocation], int]:
    """The amount spread over the open items in order; what is left over is credit."""
    allocations: list[Allocation] = []
    left = amount_cents
    for item in items:
        if left == 0:
            break
        share = min(left, item.owed_cents)
        allocations.append(
            Allocation(
                item.charge_id, item.session_id, item.claim_id, item.service_on, item.procedure_code, share
            )
        )
        left -= share
    return allocations, left


def _lines(
    client_id: int, guarantor_id: int, payment_id: int, allocations: Sequence[Allocation], credit_cents: int
) -> list[PostingLine]:
    lines: list[PostingLine] = []
    for a in allocations:
        ref = ChargeRef(a.charge_id, client_id, a.claim_id)
        lines += patient_payment(a.amount_cents, ref, guarantor_id, payment_id=payment_id)
    if credit_cents:  # the client's, not any one visit's
        lines += [
            PostingLine(Account.CASH, credit_cents, client_id=client_id, payment_id=payment_id),
            PostingLine(Account.PATIENT_CREDIT, -credit_cents, client_id=client_id, payment_id=payment_id),
        ]
    return lines


# --- what the client owes ------------------------------------------------------------------


def open_items(session: Session, client: m.Client) -> list[OpenItem]:
    """The client's charges with a patient balance, oldest date of service first.

    The balance per charge is the kept ``ar:patient`` balance; the claim a payment is posted
    against is the one holding most of that balance in the postings (none for self-pay).
    """
    owed = m.LedgerBalance
    query = (
        select(
            m.Charge.id,
            m.Charge.session_id,
            m.ServiceSession.service_on,
            m.Charge.procedure_code,
            m.Provider.first_name,
            m.Provider.last_name,
            owed.balance_cents,
        )
        .join(m.ServiceSession, m.ServiceSession.id == m.Charge.session_id)
        .join(m.Provider, m.Provider.id == m.ServiceSession.provider_id)
        .join(
            owed,
            (owed.practice_id == client.practice_id)
            & (owed.scope == BalanceScope.CHARGE.value)
            & (owed.scope_id == m.Charge.id)
            & (owed.account == Account.AR_PATIENT.value),
        )
        .where(
            m.ServiceSession.practice_id == client.practice_id,
            m.ServiceSession.client_id == client.id,
            owed.balance_cents > 0,
        )
        .order_by(m.ServiceSession.service_on, m.ServiceSession.starts_at, m.Charge.id)
    )
    rows = list(session.execute(query))
    claims = _claims_holding(session, client, [row[0] for row in rows])
    return [
        OpenItem(
            charge_id, session_id, claims.get(charge_id), service_on, code, f"{first} {last}", int(cents)
        )
        for charge_id, session_id, service_on, code, first, last, cents in rows
    ]


def _claims_holding(session: Session, client: m.Client, charge_ids: Sequence[int]) -> dict[int, int | None]:
    if not charge_ids:
        return {}
    total = func.sum(m.Posting.amount_cents)
    query = (
        select(m.Posting.charge_id, m.Posting.claim_id, total)
        .where(
            m.Posting.practice_id == client.practice_id,
            m.Posting.client_id == client.id,
            m.Posting.account == Account.AR_PATIENT.value,
            m.Posting.charge_id.in_(list(charge_ids)),
        )
        .group_by(m.Posting.charge_id, m.Posting.claim_id)
    )
    best: dict[int, tuple[int, int | None]] = {}
    for charge_id, claim_id, cents in session.execute(query):
        if charge_id is not None and int(cents) > best.get(charge_id, (0, None))[0]:
            best[charge_id] = (int(cents), claim_id)
    return {charge_id: claim_id for charge_id, (_, claim_id) in best.items()}


def _client_balances(session: Session, practice_id: int, client_id: int) -> tuple[int, int]:
    """(balance due, credit) of the client from the kept balances."""
    kept = ledger.balances_for(
        session, practice_id, BalanceScope.CLIENT, [client_id], [Account.AR_PATIENT, Account.PATIENT_CREDIT]
    ).get(client_id, {})
    return kept.get(Account.AR_PATIENT, 0), -kept.get(Account.PATIENT_CREDIT, 0)


def client_account(session: Session, *, actor: Actor, client_id: int) -> ClientAccount:
    """The client's balance, open items and recent patient payments (the caller audits the read)."""
    client = get_visible(session, m.Client, client_id, actor, Permission.VIEW_CLIENT_BALANCE)
    due, credit = _client_balances(session, client.practice_id, client.id)
    payments = list(
        session.scalars(
            select(m.Payment)
            .where(
                m.Payment.practice_id == client.practice_id,
                m.Payment.client_id == client.id,
                m.Payment.kind == "patient",
            )
            .order_by(m.Payment.received_on.desc(), m.Payment.id.desc())
            .limit(RECENT_PAYMENTS)
        )
    )
    voided = _voided(session, [p.id for p in payments])
    return ClientAccount(
        client, due, credit, open_items(session, client), [DeskPayment(p, p.id in voided) for p in payments]
    )


# --- voiding -------------------------------------------------------------------------------


def void_client_payment(
    session: Session, *, actor: Actor, payment_id: int, reason: str, voided_on: date | None = None
) -> m.LedgerTransaction:
    """Void a patient payment: the exact reversal of its transaction, with the reason, audited."""
    payment = _patient_payment(session, actor, payment_id)
    actor.require(payment.practice_id, Permission.POST_PATIENT_PAYMENTS)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason: say why the payment is voided")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason: at most {MAX_REASON} characters")
    original = _posted(session, payment.id)
    if original is None:
        raise Conflict(f"payment {payment.id} has nothing posted to reverse")
    if _voided(session, [payment.id]):
        raise Conflict(f"payment {payment.id} is already voided")
    voided_on = voided_on or practice_today(session, payment.practice_id)
    _refuse_closed_period(session, payment.practice_id, voided_on)
    reversal = ledger.reverse_transaction(
        session, actor=actor, transaction_id=original.id, accounting_on=voided_on, reason=reason
    )
    receipt_before = payment.stored_file_id
    payment.stored_file_id = None  # the next print says VOIDED; the first stays stored
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=payment.practice_id,
        action="void",
        entity="payment",
        entity_id=payment.id,
        client_ids=[payment.client_id] if payment.client_id else [],
        before={"voided": False, "stored_file_id": receipt_before},
        after={"voided": True, "reversal_transaction_id": reversal.id, "stored_file_id": None},
        reason=reason,
    )
    return reversal


def load_patient_payment(session: Session, *, actor: Actor, payment_id: int) -> m.Payment:
    """A patient payment the actor may see (its client's balance), or NotFound."""
    return _patient_payment(session, actor, payment_id)


def _patient_payment(session: Session, actor: Actor, payment_id: int) -> m.Payment:
    payment = get_visible(session, m.Payment, payment_id, actor, Permission.VIEW_CLIENT_BALANCE)
    if payment.kind != "patient" or payment.client_id is None:
        raise NotFound("not found")
    return payment


def _posted(session: Session, payment_id: int) -> m.LedgerTransaction | None:
    """The payment's own transaction (not a reversal of it)."""
    return session.scalars(
        select(m.LedgerTransaction)
        .where(
            m.LedgerTransaction.payment_id == payment_id,
            m.LedgerTransaction.reverses_transaction_id.is_(None),
        )
        .order_by(m.LedgerTransaction.id)
    ).first()


def _voided(session: Session, payment_ids: Iterable[int]) -> set[int]:
    ids = list(payment_ids)
    if not ids:
        return set()
    query = select(m.LedgerTransaction.payment_id).where(
        m.LedgerTransaction.payment_id.in_(ids), m.LedgerTransaction.reverses_transaction_id.is_not(None)
    )
    return {int(pid) for pid in session.scalars(query) if pid is not None}


# --- the receipt ---------------------------------------------------------------------------


def receipt_pdf(session: Session, payment_id: int, *, actor: Actor) -> bytes:
    """The payment's receipt as PDF: the stored print when there is one, else printed and kept."""
    payment = _patient_payment(session, actor, payment_id)
    assert payment.client_id is not None  # a patient payment names its client
    queries.record_client_reads(
        session,
        actor=actor,
        entity="payment",
        clients=[(payment.practice_id, payment.client_id)],
        reason=f"receipt of payment {payment.id}",
    )
    if payment.stored_file_id is not None:
        return session.get_one(m.StoredFile, payment.stored_file_id).content
    content = render_receipt_pdf(_receipt(session, payment))
    stored = store_file(
        session,
        actor=actor,
        practice_id=payment.practice_id,
        kind="pdf",
        direction="out",
        filename=f"receipt-{payment.id}.pdf",
        content=content,
    )
    payment.stored_file_id = stored.id
    session.flush()
    return content


def describe_method(method: str, reference: str) -> str:
    """The method as a receipt says it, never with a full card number."""
    reference = _CARD_NUMBER.sub(lambda found: "ending " + re.sub(r"\D", "", found.group())[-4:], reference)
    if method == "card":
        digits = re.sub(r"\D", "", reference)
        return f"Card ending {digits[-4:]}" if len(digits) >= 4 else "Card"
    if method == "check":
        return f"Check no. {reference}" if reference else "Check"
    label = {"cash": "Cash", "ach": "Bank transfer (ACH)", "eft": "Electronic transfer"}.get(
        method, method.title()
    )
    return f"{label} ({reference})" if reference else label


def _receipt(session: Session, payment: m.Payment) -> Receipt:
    practice = session.get_one(m.Practice, payment.practice_id)
    client = session.get_one(m.Client, payment.client_id)
    posted = _posted(session, payment.id)
    reversal = _reversal_of(session, posted.id) if posted is not None else None
    if posted is not None:
        due, credit = _balances_as_of(session, payment.practice_id, client.id, posted.id)
    else:
        due, credit = _client_balances(session, payment.practice_id, client.id)
    staff = session.get(m.User, payment.created_by_user_id) if payment.created_by_user_id else None
    return Receipt(
        practice_name=practice.name,
        practice_address=_address(practice),
        practice_phone=practice.phone,
        number=str(payment.id),
        received_on=payment.received_on,
        client_name=client.display_name,
        method=describe_method(payment.method, payment.reference),
        amount_cents=payment.amount_cents,
        lines=tuple(_receipt_lines(session, posted.id)) if posted is not None else (),
        balance_due_cents=due,
        credit_cents=credit,
        received_by=(staff.full_name or "") if staff is not None else "",
        voided=reversal is not None,
        void_reason=_REVERSAL_MEMO.sub("", reversal.memo) if reversal is not None else "",
    )


def _address(practice: m.Practice) -> tuple[str, ...]:
    postal = practice.postal_code
    if len(postal) == 9 and postal.isdigit():
        postal = f"{postal[:5]}-{postal[5:]}"
    city = ", ".join(part for part in (practice.city, f"{practice.state} {postal}".strip()) if part)
    legal = practice.legal_name if practice.legal_name != practice.name else ""
    return tuple(line for line in (legal, practice.address_line1, practice.address_line2, city) if line)


def _reversal_of(session: Session, transaction_id: int) -> m.LedgerTransaction | None:
    return session.scalars(
        select(m.LedgerTransaction).where(m.LedgerTransaction.reverses_transaction_id == transaction_id)
    ).first()


def _receipt_lines(session: Session, transaction_id: int) -> list[ReceiptLine]:
    """What the transaction paid: each charge's share (by date of service), then the credit."""
    query = (
        select(
            m.Posting.account,
            m.Posting.amount_cents,
            m.ServiceSession.service_on,
            m.Charge.procedure_code,
            m.Provider.first_name,
            m.Provider.last_name,
        )
        .outerjoin(m.Charge, m.Charge.id == m.Posting.charge_id)
        .outerjoin(m.ServiceSession, m.ServiceSession.id == m.Charge.session_id)
        .outerjoin(m.Provider, m.Provider.id == m.ServiceSession.provider_id)
        .where(
            m.Posting.transaction_id == transaction_id,
            m.Posting.account.in_([Account.AR_PATIENT.value, Account.PATIENT_CREDIT.value]),
        )
        .order_by(m.Posting.id)
    )
    visits: list[ReceiptLine] = []
    credit = 0
    for account, cents, service_on, code, first, last in session.execute(query):
        if account == Account.PATIENT_CREDIT.value:
            credit -= int(cents)
        elif code is not None:
            visits.append(ReceiptLine(service_on, f"Visit {code} with {first} {last}", -int(cents)))
        else:
            visits.append(ReceiptLine(None, "Balance", -int(cents)))
    if credit:
        visits.append(ReceiptLine(None, "Kept as credit", credit))
    return visits


def _balances_as_of(
    session: Session, practice_id: int, client_id: int, transaction_id: int
) -> tuple[int, int]:
    """(balance due, credit) of the client right after this transaction: the postings up to it."""
    query = (
        select(m.Posting.account, func.sum(m.Posting.amount_cents))
        .where(
            m.Posting.practice_id == practice_id,
            m.Posting.client_id == client_id,
            m.Posting.transaction_id <= transaction_id,
            m.Posting.account.in_([Account.AR_PATIENT.value, Account.PATIENT_CREDIT.value]),
        )
        .group_by(m.Posting.account)
    )
    sums: dict[str, int] = defaultdict(int)
    for account, cents in session.execute(query):
        sums[account] = int(cents or 0)
    return sums[Account.AR_PATIENT.value], -sums[Account.PATIENT_CREDIT.value]


# --- results -------------------------------------------------------------------------------


def payment_result(session: Session, *, actor: Actor, payment_id: int) -> ClientPaymentResult:
    """A recorded patient payment: where it went, and the client's balance and credit now."""
    payment = _patient_payment(session, actor, payment_id)
    posted = _posted(session, payment.id)
    if posted is None:
        raise NotFound(f"payment {payment.id} has nothing posted")
    return _result_of(session, payment, posted)


def _result_of(session: Session, payment: m.Payment, transaction: m.LedgerTransaction) -> ClientPaymentResult:
    """The result of a payment already recorded (a repeated request with the same key)."""
    query = (
        select(m.Posting.claim_id, m.Posting.amount_cents, m.ServiceSession, m.Charge)
        .join(m.Charge, m.Charge.id == m.Posting.charge_id)
        .join(m.ServiceSession, m.ServiceSession.id == m.Charge.session_id)
        .where(m.Posting.transaction_id == transaction.id, m.Posting.account == Account.AR_PATIENT.value)
        .order_by(m.Posting.id)
    )
    allocations = [
        Allocation(charge.id, visit.id, claim_id, visit.service_on, charge.procedure_code, -int(cents))
        for claim_id, cents, visit, charge in session.execute(query)
    ]
    credit = payment.amount_cents - sum(a.amount_cents for a in allocations)
    assert payment.client_id is not None
    due, credit_balance = _client_balances(session, payment.practice_id, payment.client_id)
    return ClientPaymentResult(payment, transaction, allocations, credit, due, credit_balance)
