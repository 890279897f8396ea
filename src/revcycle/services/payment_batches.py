"""Payment batches: a stack of paper EOBs keyed against control totals, as billing services do.

Before keying a stack of checks, the biller counts them and adds them up on a tape: the
batch's **control count** and **control amount**, entered first. Each payment keyed into the
batch (:func:`revcycle.services.payment_entry.record_insurance_payment` with its ``batch_id``)
adds to what was **entered**; the batch page shows entered against control and the
difference. A batch closes only when both match to the payment and to the cent — a missed or
mistyped check shows up as the difference, named in the refusal — and a closed batch takes no
more payments. A payment reversed as a correction no longer counts as entered (it is keyed
again, correctly).

Creating and closing need ``post_payments`` and are audited. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput
from revcycle.money import format_cents
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.scoping import get_visible

__all__ = [
    "BatchPayment",
    "BatchView",
    "batch_view",
    "close_batch",
    "create_batch",
    "list_batches",
    "open_batch_for_update",
    "reversed_payments",
]

MAX_NAME = 100
MAX_CONTROL_COUNT = 10_000
MAX_CONTROL_CENTS = 100_000_000_00  # $100 million: more is a typing slip


@dataclass(frozen=True)
class BatchPayment:
    payment: m.Payment
    payer_name: str
    reversed: bool


@dataclass(frozen=True)
class BatchView:
    """A batch with what was entered into it against its control totals."""

    batch: m.PaymentBatch
    payments: list[BatchPayment]
    entered_count: int
    entered_cents: int

    @property
    def count_difference(self) -> int:
        """Payments still to enter (negative: entered too many)."""
        return self.batch.control_count - self.entered_count

    @property
    def amount_difference_cents(self) -> int:
        """Money still to enter (negative: entered too much)."""
        return self.batch.control_amount_cents - self.entered_cents

    @property
    def balanced(self) -> bool:
        return self.count_difference == 0 and self.amount_difference_cents == 0

    @property
    def is_open(self) -> bool:
        return self.batch.status == "open"

    def difference_text(self) -> str:
        """``1 payment and $266.00 short`` / ``$0.50 over`` / ``1 payment short and $5.00 over``
        / ``balanced``."""
        count, cents = self.count_difference, self.amount_difference_cents
        noun = "payment" if abs(count) == 1 else "payments"
        counted = f"{abs(count)} {noun}"
        money = format_cents(abs(cents))
        if count and cents and (count > 0) == (cents > 0):
            return f"{counted} and {money} {_side(cents)}"
        parts = [f"{counted} {_side(count)}"] if count else []
        parts += [f"{money} {_side(cents)}"] if cents else []
        return " and ".join(parts) or "balanced"


def _side(difference: int) -> str:
    return "short" if difference > 0 else "over"


def create_batch(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    name: str,
    control_count: int,
    control_amount_cents: int,
) -> m.PaymentBatch:
    """Open a batch with its control totals (the count and sum of the checks in the stack)."""
    actor.require(practice_id, Permission.POST_PAYMENTS)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name: give the batch a name (e.g. the date and the mail's source)")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"name: at most {MAX_NAME} characters")
    for field, value in (("control_count", control_count), ("control_amount_cents", control_amount_cents)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{field}: {value!r} is not a whole number")
    if not 1 <= control_count <= MAX_CONTROL_COUNT:
        raise InvalidInput(f"control_count: between 1 and {MAX_CONTROL_COUNT} payments")
    if not 1 <= control_amount_cents <= MAX_CONTROL_CENTS:
        raise InvalidInput(f"control_amount_cents: more than zero, at most {format_cents(MAX_CONTROL_CENTS)}")
    batch = m.PaymentBatch(
        practice_id=practice_id,
        name=name,
        control_count=control_count,
        control_amount_cents=control_amount_cents,
        status="open",
        created_by_user_id=actor.user_id,
    )
    session.add(batch)
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=practice_id,
        action="create",
        entity="payment_batch",
        entity_id=batch.id,
        after={"name": name, "control_count": control_count, "control_amount_cents": control_amount_cents},
    )
    return batch


def batch_view(session: Session, *, actor: Actor, batch_id: int) -> BatchView:
    """The batch, its payments and entered against control (NotFound for another practice's)."""
    batch = get_visible(session, m.PaymentBatch, batch_id, actor, Permission.POST_PAYMENTS)
    return _view(session, batch)


def list_batches(session: Session, *, actor: Actor, practice_id: int, limit: int = 50) -> list[BatchView]:
    """The practice's batches, open ones first, newest first."""
    actor.require(practice_id, Permission.POST_PAYMENTS)
    batches = session.scalars(
        select(m.PaymentBatch)
        .where(m.PaymentBatch.practice_id == practice_id)
        .order_by((m.PaymentBatch.status == "open").desc(), m.PaymentBatch.id.desc())
        .limit(limit)
    )
    return [_view(session, batch) for batch in batches]


def close_batch(session: Session, *, actor: Actor, batch_id: int) -> BatchView:
    """Close a batch whose entered payments match its control count and amount exactly."""
    get_visible(session, m.PaymentBatch, batch_id, actor, Permission.POST_PAYMENTS)
    batch = _locked(session, batch_id)
    if batch.status != "open":
        raise Conflict(f"batch {batch.name} is already closed")
    view = _view(session, batch)
    if not view.balanced:
        raise InvalidInput(
            f"batch {batch.name}: cannot close: entered {view.entered_count} for "
            f"{format_cents(view.entered_cents)} against control {batch.control_count} for "
            f"{format_cents(batch.control_amount_cents)}: {view.difference_text()}"
        )
    batch.status = "closed"
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=batch.practice_id,
        action="close",
        entity="payment_batch",
        entity_id=batch.id,
        before={"status": "open"},
        after={"status": "closed", "count": view.entered_count, "amount_cents": view.entered_cents},
    )
    return view


def open_batch_for_update(session: Session, *, practice_id: int, batch_id: int) -> m.PaymentBatch:
    """The open batch a payment is keyed into, locked until the unit of work ends (so two
    clerks cannot key into a batch being closed); InvalidInput naming ``batch_id`` otherwise."""
    batch = _locked(session, batch_id)
    if batch.practice_id != practice_id:
        raise InvalidInput(f"batch_id: no payment batch {batch_id} in this practice")
    if batch.status != "open":
        raise InvalidInput(f"batch_id: batch {batch.name} is closed; it takes no more payments")
    return batch


def reversed_payments(session: Session, payment_ids: Iterable[int]) -> set[int]:
    """Which of the payments were reversed (a transaction of theirs undoes another)."""
    ids = list(payment_ids)
    if not ids:
        return set()
    query = select(m.LedgerTransaction.payment_id).where(
        m.LedgerTransaction.payment_id.in_(ids), m.LedgerTransaction.reverses_transaction_id.is_not(None)
    )
    return {int(pid) for pid in session.scalars(query) if pid is not None}


def _locked(session: Session, batch_id: int) -> m.PaymentBatch:
    batch = session.scalars(
        select(m.PaymentBatch)
        .where(m.PaymentBatch.id == batch_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if batch is None:
        raise InvalidInput(f"batch_id: no payment batch {batch_id}")
    return batch


def _view(session: Session, batch: m.PaymentBatch) -> BatchView:
    rows = session.execute(
        select(m.Payment, func.coalesce(m.Payer.name, ""))
        .outerjoin(m.Payer, m.Payer.id == m.Payment.payer_id)
        .where(m.Payment.practice_id == batch.practice_id, m.Payment.batch_id == batch.id)
        .order_by(m.Payment.id)
    ).all()
    undone = reversed_payments(session, [payment.id for payment, _ in rows])
    payments = [BatchPayment(payment, name, payment.id in undone) for payment, name in rows]
    counted = [p.payment for p in payments if not p.reversed]
    return BatchView(batch, payments, len(counted), sum(p.amount_cents for p in counted))
