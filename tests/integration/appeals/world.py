"""A denied claim from a real 835 (the remittance tests' world), ready to appeal or correct."""

from __future__ import annotations

import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from tests.integration.remittance.world import World, claim_payment, line, make_world, remittance

TODAY = datetime.date(2026, 5, 1)
_traces = iter(range(1, 10_000))


def appeals_world(db: Session) -> World:
    w = make_world(db)
    practice = w.practice
    practice.legal_name, practice.phone = "Riverbend Counseling LLC", "217-555-0100"
    practice.address_line1, practice.city, practice.state, practice.postal_code = (
        "12 Main St",
        "Springfield",
        "IL",
        "62704",
    )
    db.flush()
    return w


def denied_claim(w: World, carc: str = "50", *, charge: int = 15000) -> tuple[m.Claim, m.Denial]:
    """A claim sent to the payer, then denied in full with ``CO-<carc>`` by a posted 835."""
    claim = w.claim(("90837", charge))
    w.db.add(
        m.Submission(
            practice_id=w.practice.id,
            claim_id=claim.id,
            channel="clearinghouse",
            submitted_at=datetime.datetime(2026, 3, 5, 12, tzinfo=datetime.UTC),
        )
    )
    w.db.flush()
    denied = line("90837", charge, 0, ("CO", carc, charge))
    clp = claim_payment(claim, denied, status="4")
    w.ingest(remittance(clp, method="NON", amount=0, trace=f"DEN{next(_traces):05d}"))
    w.db.refresh(claim)
    denial = w.db.scalars(select(m.Denial).where(m.Denial.claim_id == claim.id)).one()
    return claim, denial
