"""The demo's paper checks: a stack of EOBs keyed in a batch, and this morning's mail still open.

A few of the demo's payers pay some of their open claims by paper check: each check pays one to
three claims at their expected amounts (the contract or fee schedule less the copay, or what
the payer usually pays), keyed through :func:`payment_entry.record_insurance_payment` exactly as
a biller would, allocated from the expected amounts. Last week's checks are a **closed** batch
that balances to its control totals; this morning's mail is an **open** batch with its control
totals counted and only the first check keyed, so the batch page shows what is still to enter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.services import payment_batches, payment_entry
from revcycle.services.actor import Actor
from revcycle.services.payment_entry import ClaimAllocation, OpenClaim

__all__ = ["PaperChecks", "add_paper_checks"]

CLOSED_CHECKS = 4  # checks in last week's batch (fewer when fewer claims are open)
CLAIMS_PER_CHECK = (2, 1, 3)  # the claims each check pays, in turn
OPEN_BATCH_CONTROL = 3  # checks counted in this morning's mail; one is keyed


@dataclass
class PaperChecks:
    closed_batch: m.PaymentBatch | None = None
    open_batch: m.PaymentBatch | None = None
    payments: list[m.Payment] = field(default_factory=list)


def add_paper_checks(session: Session, *, practice_id: int, actor: Actor, today: date) -> PaperChecks:
    """Key last week's paper checks into a batch and close it, and open this morning's batch
    with one check of three keyed. Returns the batches and the payments (none when no payer
    has open claims with an expected amount)."""
    checks = _checks(session, actor, practice_id, CLOSED_CHECKS + 1)
    done = PaperChecks()
    if not checks:
        return done
    closed, mail = checks[:-1] or checks, checks[-1:] if len(checks) > 1 else []
    last_week = today - timedelta(days=7)
    done.closed_batch = payment_batches.create_batch(
        session,
        actor=actor,
        practice_id=practice_id,
        name=f"Paper EOBs week of {last_week.isoformat()}",
        control_count=len(closed),
        control_amount_cents=sum(_total(claims) for _, claims in closed),
    )
    for number, check in enumerate(closed):
        day = last_week + timedelta(days=number % 5)
        done.payments.append(
            _key(session, actor, check, practice_id=practice_id, day=day, batch_id=done.closed_batch.id)
        )
    payment_batches.close_batch(session, actor=actor, batch_id=done.closed_batch.id)
    if mail:
        claims = mail[0][1]
        done.open_batch = payment_batches.create_batch(
            session,
            actor=actor,
            practice_id=practice_id,
            name=f"Mail {today.isoformat()}",
            control_count=OPEN_BATCH_CONTROL,
            control_amount_cents=_total(claims) * OPEN_BATCH_CONTROL + 12_345,
        )
        done.payments.append(
            _key(session, actor, mail[0], practice_id=practice_id, day=today, batch_id=done.open_batch.id)
        )
    return done


def _checks(
    session: Session, actor: Actor, practice_id: int, wanted: int
) -> list[tuple[int, list[OpenClaim]]]:
    """(payer id, the claims one check pays) for up to ``wanted`` checks, payers in turn."""
    payer_ids = list(
        session.scalars(
            select(m.PracticePayer.payer_id)
            .where(m.PracticePayer.practice_id == practice_id)
            .order_by(m.PracticePayer.payer_id)
        )
    )
    pools = {}
    for payer_id in payer_ids:
        claims = payment_entry.open_claims(
            session, actor=actor, practice_id=practice_id, payer_id=payer_id, limit=60
        )
        usable = [claim for claim in claims if claim.expected_cents]
        if usable:
            pools[payer_id] = usable
    checks: list[tuple[int, list[OpenClaim]]] = []
    turn = 0
    while pools and len(checks) < wanted:
        for payer_id in list(pools):
            size = CLAIMS_PER_CHECK[turn % len(CLAIMS_PER_CHECK)]
            turn += 1
            taken, pools[payer_id] = pools[payer_id][:size], pools[payer_id][size:]
            if taken:
                checks.append((payer_id, taken))
            if not pools[payer_id]:
                del pools[payer_id]
            if len(checks) == wanted:
                break
    return checks


def _total(claims: list[OpenClaim]) -> int:
    return sum(claim.expected_cents or 0 for claim in claims)


def _key(
    session: Session,
    actor: Actor,
    check: tuple[int, list[OpenClaim]],
    *,
    practice_id: int,
    day: date,
    batch_id: int,
) -> m.Payment:
    payer_id, claims = check
    result = payment_entry.record_insurance_payment(
        session,
        actor=actor,
        practice_id=practice_id,
        payer_id=payer_id,
        amount_cents=_total(claims),
        received_on=day,
        method="check",
        reference=f"{practice_id:02d}{claims[0].claim_id:06d}",
        allocations=[ClaimAllocation(claim.claim_id) for claim in claims],
        batch_id=batch_id,
        note="paper EOB",
    )
    return result.payment
