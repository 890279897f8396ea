"""A small hand-built practice for the KPI tests (every date fixed; today is 2026-11-20).

Lakeside bills two payers; each claim's charge is in the ledger on its date of service, its
status history in the claim events, its payments and contractual adjustments real postings.

=====  ======  ==========  ==========  ======  ==========================================  =======
claim  payer   service     sent        billed  what happened                               balance
=====  ======  ==========  ==========  ======  ==========================================  =======
c1     Summit  2026-07-01  2026-07-03  $500    accepted, never answered                    $500
c2     Summit  2026-09-10  2026-09-12  $200    paid $150 on 10-12, $50 contractual         -
c3     Summit  2026-10-05  2026-10-07  $300    denied 10-20                                $300
c4     Harbor  2026-10-20  2026-10-22  $100    paid $80 on 11-10, $20 contractual          -
c5     Harbor  2026-11-02  2026-11-04  $100    accepted                                    $100
c6     Summit  2026-11-09  2026-11-16  $150    rejected 11-17, sent again 11-18, accepted  $150
=====  ======  ==========  ==========  ======  ==========================================  =======

Also in November: three held sessions of insured clients on no claim (unbilled: 11-03, 11-05,
11-06) and one cancelled session (11-12). One billing specialist and one administrator.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger_events import ChargeRef, InsuranceRef, contractual_adjustment
from revcycle.domain.permissions import Role
from revcycle.services.ledger import post_transaction
from tests import factories as f
from tests.integration.strategies.world import History, at

TODAY = date(2026, 11, 20)


def adjust(world: History, key: str, cents: int, on: date) -> None:
    claim = world.claims[key]
    assert claim.coverage_id is not None
    post_transaction(
        world.db,
        actor=world.actor,
        practice_id=world.practice.id,
        kind="contractual_adjustment",
        accounting_on=on,
        lines=contractual_adjustment(
            cents,
            ChargeRef(claim.lines[0].charge_id, claim.client_id, claim.id),
            InsuranceRef(claim.coverage_id, claim.payer_id),
        ),
    )


def held_session(world: History, on: date, *, status: str = "show", insured: bool = True) -> m.ServiceSession:
    client = f.make_client(world.db, world.practice)
    if insured:
        f.make_coverage(world.db, client, world.summit)
    return f.make_session(
        world.db,
        world.practice,
        client,
        f.make_provider(world.db, world.practice),
        starts_at=datetime.combine(on, time(15), tzinfo=UTC),
        appointment_status=status,
    )


def build_world(db: Session) -> tuple[History, list[m.ServiceSession]]:
    practice = f.make_practice(db, name="Lakeside Counseling")
    admin = f.make_user(db, practice, Role.ADMIN)
    billing = f.make_user(db, practice, Role.BILLING)
    summit = f.make_payer(db, name="Summit Mutual")
    harbor = f.make_payer(db, name="Harbor Health")
    world = History(db, practice, admin, billing, f.actor_for(db, admin), summit, harbor)
    world.claim("c1", summit, service_on=date(2026, 7, 1), sent_on=date(2026, 7, 3), billed_cents=50_000)
    world.claim("c2", summit, service_on=date(2026, 9, 10), sent_on=date(2026, 9, 12), billed_cents=20_000)
    world.pay("c2", 15_000, date(2026, 10, 12), "paid")
    adjust(world, "c2", 5_000, date(2026, 10, 12))
    world.claim("c3", summit, service_on=date(2026, 10, 5), sent_on=date(2026, 10, 7), billed_cents=30_000)
    world.event(world.claims["c3"], "denied", date(2026, 10, 20))
    world.claim("c4", harbor, service_on=date(2026, 10, 20), sent_on=date(2026, 10, 22), billed_cents=10_000)
    world.pay("c4", 8_000, date(2026, 11, 10), "paid")
    adjust(world, "c4", 2_000, date(2026, 11, 10))
    world.claim("c5", harbor, service_on=date(2026, 11, 2), sent_on=date(2026, 11, 4), billed_cents=10_000)
    c6 = world.claim(
        "c6", summit, service_on=date(2026, 11, 9), sent_on=date(2026, 11, 16), billed_cents=15_000
    )
    world.event(c6, "rejected", date(2026, 11, 17))
    db.add(
        m.Submission(
            practice_id=practice.id,
            claim_id=c6.id,
            channel="clearinghouse",
            submitted_at=at(date(2026, 11, 18)),
        )
    )
    world.event(c6, "submitted", date(2026, 11, 18))
    world.event(c6, "accepted", date(2026, 11, 18))
    unbilled = [held_session(world, date(2026, 11, day)) for day in (3, 5, 6)]
    held_session(world, date(2026, 11, 12), status="canceled", insured=False)
    return world, unbilled
