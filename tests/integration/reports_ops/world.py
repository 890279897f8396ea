"""A small hand-built history for the operations reports, with every expected number worked
out by hand in the tests.

Today is Friday 2026-03-20. Two clinicians (``p1``, ``p2``), two payers (Alpha, Beta), five
clients (c1-c3 with Alpha, c4 with Beta, c5 self-pay), two agents (A in no team, B in the team
"Senior Agent").

======  =====  ====  ===========  =====  ===========================================================
visit   day    who   client/code  fee    what happened
======  =====  ====  ===========  =====  ===========================================================
s1      02-10  p1    c1 90837     150    note locked +1 day; Alpha, clearinghouse, paid 90 (02-25);
                                         a 30 payment on 03-01 reversed on 03-02
s2      02-12  p1    c2 90834     120    locked +5 days; Alpha by portal, accepted; agent A
s3      02-11  p2    c4 90837     150    locked same day; Beta, clearinghouse, rejected once and
                                         sent again (2 sends), paid 100 (03-05); agent B
s4      03-03  p1    c1 90837     150    locked +2; Alpha, clearinghouse, accepted, 50 paid (03-10);
                                         agent A
s5      03-05  p1    c3 90832     100    no duration (30 nominal minutes); locked +4; Alpha by
                                         portal, paid 60 (03-18)
s6      03-16  p2    c4 90837     150    locked same day; Beta, clearinghouse, submitted; agent B;
                                         an open follow-up on its claim
s7      03-17  p2    c5 90834     120    self-pay, locked +1; the client paid 120 the same day; a
                                         resolved work item
s8      03-18  p1    c3 90837     150    held, note still a draft, not billed (no posting)
s9      03-19  p1    c2 --          --   no-show, no fee, no charge line
======  =====  ====  ===========  =====  ===========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger_events import (
    ChargeRef,
    InsuranceRef,
    TransactionKind,
    charge_to_insurance,
    charge_to_patient,
    insurance_payment,
    patient_payment,
)
from revcycle.domain.permissions import Role
from revcycle.services import ledger
from revcycle.services.actor import system_actor
from revcycle.services.passwords import hash_password
from tests import factories as f

TODAY = date(2026, 3, 20)
PASSWORD = "correct horse battery staple"


@dataclass
class History:
    practice: m.Practice
    admin: m.User
    billing: m.User
    therapist: m.User
    agent_a: m.User
    agent_b: m.User
    p1: m.Provider
    p2: m.Provider
    alpha: m.Payer
    beta: m.Payer
    sessions: dict[str, m.ServiceSession] = field(default_factory=dict)
    claims: dict[str, m.Claim] = field(default_factory=dict)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)


class _Builder:
    def __init__(self, db: Session, history: History) -> None:
        self.db = db
        self.h = history
        self.actor = system_actor()
        self.pid = history.practice.id

    def visit(
        self,
        name: str,
        provider: m.Provider,
        client: m.Client,
        day: date,
        code: str,
        fee_cents: int,
        *,
        locked_after_days: int | None,
        duration: int | None = 55,
        status: str = "show",
        self_pay: bool = False,
    ) -> m.ServiceSession:
        session = f.make_session(
            self.db,
            self.h.practice,
            client,
            provider,
            starts_at=_at(day),
            code=code,
            fee_cents=fee_cents,
            note_status="locked" if locked_after_days is not None else "draft",
            appointment_status=status,
        )
        session.duration_minutes = duration
        session.self_pay = self_pay
        if locked_after_days is not None:
            session.note_locked_at = _at(day + timedelta(days=locked_after_days))
        self.db.flush()
        self.h.sessions[name] = session
        return session

    def bill(
        self,
        name: str,
        coverage: m.Coverage,
        status: str,
        *,
        channel: str = "clearinghouse",
        sends: int = 1,
        rejected: bool = False,
        assignee: m.User | None = None,
    ) -> m.Claim:
        session = self.h.sessions[name]
        claim = f.make_claim(self.db, session, coverage, status=status)
        claim.assignee_user_id = assignee.id if assignee else None
        charge = session.charges[0]
        lines = charge_to_insurance(
            charge.fee_cents,
            ChargeRef(charge.id, session.client_id, claim.id),
            InsuranceRef(coverage.id, coverage.payer_id),
        )
        ledger.post_transaction(
            self.db,
            actor=self.actor,
            practice_id=self.pid,
            kind=TransactionKind.CHARGE,
            accounting_on=session.service_on,
            lines=lines,
        )
        for number in range(sends):
            self.db.add(
                m.Submission(
                    practice_id=self.pid,
                    claim_id=claim.id,
                    channel=channel,
                    submitted_at=_at(session.service_on + timedelta(days=2 + 10 * number)),
                )
            )
        if rejected:
            self.db.add(
                m.ClaimEvent(
                    practice_id=self.pid,
                    claim_id=claim.id,
                    from_status="submitted",
                    to_status="rejected",
                    source="277ca",
                )
            )
        self.db.flush()
        self.h.claims[name] = claim
        return claim

    def pay(self, name: str, coverage: m.Coverage, amount_cents: int, on: date) -> m.LedgerTransaction:
        session, claim = self.h.sessions[name], self.h.claims[name]
        payment = m.Payment(
            practice_id=self.pid,
            kind="insurance",
            method="eft",
            amount_cents=amount_cents,
            received_on=on,
            payer_id=coverage.payer_id,
        )
        self.db.add(payment)
        self.db.flush()
        charge = session.charges[0]
        lines = insurance_payment(
            amount_cents,
            ChargeRef(charge.id, session.client_id, claim.id),
            InsuranceRef(coverage.id, coverage.payer_id),
            payment_id=payment.id,
        )
        return ledger.post_transaction(
            self.db,
            actor=self.actor,
            practice_id=self.pid,
            kind=TransactionKind.INSURANCE_PAYMENT,
            accounting_on=on,
            lines=lines,
            payment_id=payment.id,
        )

    def self_pay(self, name: str, guarantor: m.Guarantor, on: date) -> None:
        session = self.h.sessions[name]
        charge = session.charges[0]
        ref = ChargeRef(charge.id, session.client_id, None)
        ledger.post_transaction(
            self.db,
            actor=self.actor,
            practice_id=self.pid,
            kind=TransactionKind.CHARGE,
            accounting_on=session.service_on,
            lines=charge_to_patient(charge.fee_cents, ref, guarantor.id),
        )
        payment = m.Payment(
            practice_id=self.pid,
            kind="patient",
            method="card",
            amount_cents=charge.fee_cents,
            received_on=on,
            client_id=session.client_id,
            guarantor_id=guarantor.id,
        )
        self.db.add(payment)
        self.db.flush()
        ledger.post_transaction(
            self.db,
            actor=self.actor,
            practice_id=self.pid,
            kind=TransactionKind.PATIENT_PAYMENT,
            accounting_on=on,
            lines=patient_payment(charge.fee_cents, ref, guarantor.id, payment_id=payment.id),
            payment_id=payment.id,
        )


def _people(db: Session, practice: m.Practice) -> tuple[m.User, ...]:
    admin = f.make_user(db, practice, Role.ADMIN)
    billing = f.make_user(db, practice, Role.BILLING)
    therapist = f.make_user(db, practice, Role.THERAPIST)
    agent_a = f.make_user(db, practice, Role.BILLING)
    agent_b = f.make_user(db, practice, Role.BILLING)
    agent_a.full_name, agent_b.full_name = "Agent Avery", "Agent Blake"
    team = m.Team(practice_id=practice.id, name="Senior Agent")
    db.add(team)
    db.flush()
    membership = db.query(m.Membership).filter_by(user_id=agent_b.id, practice_id=practice.id).one()
    membership.team_id = team.id
    hashed = hash_password(PASSWORD)
    for user in (admin, billing, therapist):
        user.password_hash = hashed
    db.flush()
    return admin, billing, therapist, agent_a, agent_b


def build_history(db: Session) -> History:
    practice = f.make_practice(db)
    admin, billing, therapist, agent_a, agent_b = _people(db, practice)
    p1, p2 = f.make_provider(db, practice), f.make_provider(db, practice)
    p1.first_name, p1.last_name, p2.first_name, p2.last_name = "Ada", "First", "Ben", "Second"
    alpha, beta = f.make_payer(db, name="Alpha Health"), f.make_payer(db, name="Beta Care")
    c1, c2, c3, c4, c5 = (f.make_client(db, practice) for _ in range(5))
    cov = {c.id: f.make_coverage(db, c, alpha) for c in (c1, c2, c3)}
    cov[c4.id] = f.make_coverage(db, c4, beta)
    h = History(practice, admin, billing, therapist, agent_a, agent_b, p1, p2, alpha, beta)
    b = _Builder(db, h)

    b.visit("s1", p1, c1, date(2026, 2, 10), "90837", 15000, locked_after_days=1)
    b.bill("s1", cov[c1.id], "paid")
    b.pay("s1", cov[c1.id], 9000, date(2026, 2, 25))
    wrong = b.pay("s1", cov[c1.id], 3000, date(2026, 3, 1))
    ledger.reverse_transaction(
        db, actor=b.actor, transaction_id=wrong.id, accounting_on=date(2026, 3, 2), reason="posted twice"
    )
    b.visit("s2", p1, c2, date(2026, 2, 12), "90834", 12000, locked_after_days=5)
    b.bill("s2", cov[c2.id], "accepted", channel="portal", assignee=agent_a)
    b.visit("s3", p2, c4, date(2026, 2, 11), "90837", 15000, locked_after_days=0)
    b.bill("s3", cov[c4.id], "paid", sends=2, rejected=True, assignee=agent_b)
    b.pay("s3", cov[c4.id], 10000, date(2026, 3, 5))

    b.visit("s4", p1, c1, date(2026, 3, 3), "90837", 15000, locked_after_days=2)
    b.bill("s4", cov[c1.id], "accepted", assignee=agent_a)
    b.pay("s4", cov[c1.id], 5000, date(2026, 3, 10))
    b.visit("s5", p1, c3, date(2026, 3, 5), "90832", 10000, locked_after_days=4, duration=None)
    b.bill("s5", cov[c3.id], "paid", channel="portal")
    b.pay("s5", cov[c3.id], 6000, date(2026, 3, 18))
    b.visit("s6", p2, c4, date(2026, 3, 16), "90837", 15000, locked_after_days=0)
    claim6 = b.bill("s6", cov[c4.id], "submitted", assignee=agent_b)
    b.visit("s7", p2, c5, date(2026, 3, 17), "90834", 12000, locked_after_days=1, self_pay=True)
    b.self_pay("s7", f.make_guarantor(db, c5), date(2026, 3, 17))
    b.visit("s8", p1, c3, date(2026, 3, 18), "90837", 15000, locked_after_days=None)
    s9 = b.visit("s9", p1, c2, date(2026, 3, 19), "90837", 0, locked_after_days=None, status="no_show")
    for charge in list(s9.charges):
        db.delete(charge)
    db.add_all(
        [
            m.WorkItem(
                practice_id=practice.id,
                kind="followup",
                title=f"Follow up claim {claim6.number}",
                claim_id=claim6.id,
                due_on=TODAY,
            ),
            m.WorkItem(
                practice_id=practice.id,
                kind="alert",
                title="Already settled",
                session_id=h.sessions["s7"].id,
                status="resolved",
            ),
        ]
    )
    db.flush()
    db.expire_all()
    return h
