"""The demo's front desk: a few clients who owe something pay at the desk this past week.

Mostly copays ($20 to $50, or what is owed when less), by card (last four digits), check
(with its number) or cash; one client settles the whole balance and one with a small balance
pays ahead, leaving a credit. Each payment goes through
:func:`patient_payments.record_client_payment` like the desk's own, and its receipt is printed
(and so kept), as the desk hands one over every time.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.services import patient_payments
from revcycle.services.actor import Actor
from revcycle.services.patient_payments import ClientPaymentResult

__all__ = ["add_front_desk_payments"]

COPAYS_CENTS = (2000, 2500, 3000, 4000, 5000)
CARD_LAST_FOUR = ("4242", "1881", "0005", "7310", "5100", "3782")
PREPAY_CENTS = 1500  # what the client paying ahead leaves as credit
SMALL_BALANCE_CENTS = 6000  # ... when what they owe is no more than this


def add_front_desk_payments(
    session: Session, *, practice_id: int, actor: Actor, today: date, count: int = 6
) -> list[ClientPaymentResult]:
    """Record up to ``count`` desk payments (with receipts) from clients who owe something,
    dated over the week up to ``today``; returns what each paid."""
    results = []
    for number, (client_id, owed_cents) in enumerate(_owing_clients(session, practice_id, count)):
        amount = _amount(number, owed_cents)
        method, reference = _method(number)
        result = patient_payments.record_client_payment(
            session,
            actor=actor,
            client_id=client_id,
            amount_cents=amount,
            method=method,
            reference=reference,
            received_on=today - timedelta(days=number % 5),
            note="copay at check-in" if amount < owed_cents else "",
        )
        patient_payments.receipt_pdf(session, result.payment.id, actor=actor)
        results.append(result)
    return results


def _owing_clients(session: Session, practice_id: int, count: int) -> list[tuple[int, int]]:
    """(client id, patient balance) of the first clients who owe something, by id."""
    query = (
        select(m.LedgerBalance.scope_id, m.LedgerBalance.balance_cents)
        .join(m.Client, m.Client.id == m.LedgerBalance.scope_id)
        .where(
            m.LedgerBalance.practice_id == practice_id,
            m.LedgerBalance.scope == BalanceScope.CLIENT.value,
            m.LedgerBalance.account == Account.AR_PATIENT.value,
            m.LedgerBalance.balance_cents > 0,
            m.Client.practice_id == practice_id,
            m.Client.merged_into_id.is_(None),
        )
        .order_by(m.LedgerBalance.scope_id)
        .limit(count)
    )
    return [(int(client_id), int(cents)) for client_id, cents in session.execute(query)]


def _amount(number: int, owed_cents: int) -> int:
    if number == 1:  # settles the whole balance
        return owed_cents
    if number == 2 and owed_cents <= SMALL_BALANCE_CENTS:  # pays it and ahead for the next visit
        return owed_cents + PREPAY_CENTS
    return min(COPAYS_CENTS[number % len(COPAYS_CENTS)], owed_cents)


def _method(number: int) -> tuple[str, str]:
    kind = number % 3
    if kind == 0:
        return "card", CARD_LAST_FOUR[number % len(CARD_LAST_FOUR)]
    if kind == 1:
        return "check", str(1040 + number * 7)
    return "cash", ""
