"""A small hand-built history for the payer strategy and campaign tests (all dates fixed).

Riverbend bills two payers. Summit Mutual (clearinghouse) was sent five claims, Harbor Health
(billed through its portal) two; each claim's charge is in the ledger on its date of service,
its status history is in the claim events, and its payments are real ledger postings
(``insurance_payment``), as an 835 or a hand entry would post them.

=====  ======  ==========  ==========  ========  ===================================  ==========
claim  payer   service     sent        billed    what happened                        open
=====  ======  ==========  ==========  ========  ===================================  ==========
a1     Summit  2026-08-01  2026-08-03  $200      paid $120 on 09-02 (paid)            -
a2     Summit  2026-09-01  2026-09-03  $200      denied 10-03                         $200
a3     Summit  2026-10-01  2026-10-02  $300      paid $180 on 10-30 (partially paid)  $120
a4     Summit  2026-06-01  2026-06-03  $1,500    accepted, never answered             $1,500
b1     Harbor  2026-09-01  2026-09-02  $100      paid $80 on 10-02 (paid)             -
b2     Harbor  2026-10-15  2026-10-16  $100      accepted                             $100
=====  ======  ==========  ==========  ========  ===================================  ==========
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger_events import ChargeRef, InsuranceRef, charge_to_insurance, insurance_payment
from revcycle.domain.permissions import Role
from revcycle.services import followup
from revcycle.services.actor import Actor
from revcycle.services.ledger import post_transaction
from tests import factories as f

TODAY = date(2026, 11, 20)


def at(day: date) -> datetime:
    return datetime.combine(day, time(16), tzinfo=UTC)  # late morning in New York


@dataclass
class History:
    db: Session
    practice: m.Practice
    admin: m.User
    billing: m.User
    actor: Actor
    summit: m.Payer
    harbor: m.Payer
    claims: dict[str, m.Claim] = field(default_factory=dict)

    def claim(
        self, key: str, payer: m.Payer, *, service_on: date, sent_on: date, billed_cents: int
    ) -> m.Claim:
        client = f.make_client(self.db, self.practice)
        coverage = f.make_coverage(self.db, client, payer)
        start = datetime.combine(service_on, time(14), tzinfo=UTC)
        session = f.make_session(
            self.db,
            self.practice,
            client,
            f.make_provider(self.db, self.practice),
            starts_at=start,
            fee_cents=billed_cents,
        )
        claim = f.make_claim(self.db, session, coverage, status="submitted")
        line = claim.lines[0]
        post_transaction(
            self.db,
            actor=self.actor,
            practice_id=self.practice.id,
            kind="charge",
            accounting_on=service_on,
            lines=charge_to_insurance(
                billed_cents,
                ChargeRef(line.charge_id, claim.client_id, claim.id),
                InsuranceRef(coverage.id, payer.id),
            ),
        )
        self.db.add(
            m.Submission(
                practice_id=self.practice.id,
                claim_id=claim.id,
                channel="clearinghouse",
                submitted_at=at(sent_on),
            )
        )
        self.event(claim, "submitted", sent_on)
        self.event(claim, "accepted", sent_on)
        self.claims[key] = claim
        return claim

    def event(self, claim: m.Claim, status: str, on: date) -> None:
        self.db.add(
            m.ClaimEvent(
                practice_id=self.practice.id,
                claim_id=claim.id,
                from_status=claim.status,
                to_status=status,
                source="user",
                created_at=at(on),
            )
        )
        claim.status = status
        self.db.flush()

    def pay(self, key: str, cents: int, on: date, status: str) -> None:
        claim = self.claims[key]
        line = claim.lines[0]
        assert claim.coverage_id is not None
        post_transaction(
            self.db,
            actor=self.actor,
            practice_id=self.practice.id,
            kind="insurance_payment",
            accounting_on=on,
            lines=insurance_payment(
                cents,
                ChargeRef(line.charge_id, claim.client_id, claim.id),
                InsuranceRef(claim.coverage_id, claim.payer_id),
            ),
        )
        self.event(claim, status, on)

    def note(self, key: str, on: date, *, on_work_item: bool = False) -> None:
        claim = self.claims[key]
        item = self.work_item(key) if on_work_item else None
        self.db.add(
            m.Note(
                practice_id=self.practice.id,
                author_user_id=self.billing.id,
                body="Called the payer",
                claim_id=None if item else claim.id,
                work_item_id=item.id if item else None,
                created_at=at(on),
            )
        )
        self.db.flush()

    def work_item(self, key: str) -> m.WorkItem:
        return (
            self.db.query(m.WorkItem)
            .filter_by(practice_id=self.practice.id, dedupe_key=f"followup:{self.claims[key].id}")
            .one()
        )


def build_history(db: Session) -> History:
    practice = f.make_practice(db)
    admin = f.make_user(db, practice, Role.ADMIN)
    billing = f.make_user(db, practice, Role.BILLING)
    summit = f.make_payer(db, name="Summit Mutual")
    harbor = f.make_payer(db, name="Harbor Health")
    db.add(m.PracticePayer(practice_id=practice.id, payer_id=harbor.id, billing_route="portal"))
    world = History(db, practice, admin, billing, f.actor_for(db, admin), summit, harbor)
    world.claim("a1", summit, service_on=date(2026, 8, 1), sent_on=date(2026, 8, 3), billed_cents=20_000)
    world.pay("a1", 12_000, date(2026, 9, 2), "paid")
    world.claim("a2", summit, service_on=date(2026, 9, 1), sent_on=date(2026, 9, 3), billed_cents=20_000)
    world.event(world.claims["a2"], "denied", date(2026, 10, 3))
    world.claim("a3", summit, service_on=date(2026, 10, 1), sent_on=date(2026, 10, 2), billed_cents=30_000)
    world.pay("a3", 18_000, date(2026, 10, 30), "partially_paid")
    world.claim("a4", summit, service_on=date(2026, 6, 1), sent_on=date(2026, 6, 3), billed_cents=150_000)
    world.claim("b1", harbor, service_on=date(2026, 9, 1), sent_on=date(2026, 9, 2), billed_cents=10_000)
    world.pay("b1", 8_000, date(2026, 10, 2), "paid")
    world.claim("b2", harbor, service_on=date(2026, 10, 15), sent_on=date(2026, 10, 16), billed_cents=10_000)
    followup.rebuild(db, practice_id=practice.id, today=TODAY, actor=world.actor)
    return world
