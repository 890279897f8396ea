"""A practice with claims waiting for money, and 835 files paying them (written with our writer).

Blue River Health (payer id BRH01) owes Riverbend Counseling for sessions already accepted;
each test writes the payer's 835 for what it wants to happen and ingests it as the clearinghouse
would deliver it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger import Account, BalanceScope, PostingLine
from revcycle.domain.ledger_events import ChargeRef, InsuranceRef, charge_to_insurance
from revcycle.domain.permissions import Role
from revcycle.services.actor import Actor
from revcycle.services.ledger import balance, post_transaction
from revcycle.services.x12_ingest import IngestResult, ingest
from revcycle.x12.claim277 import Envelope
from revcycle.x12.remit835 import (
    Address,
    Adjustment,
    ClaimGroup,
    ClaimPayment,
    Contact,
    Party,
    Payee,
    Payer,
    Payment,
    Procedure,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
    Trace,
)
from revcycle.x12.write835 import write_835
from tests import factories as f

PAID_ON = datetime.date(2026, 4, 10)
SESSION_ON = datetime.date(2026, 3, 2)
PAYER_ID = "BRH01"
_files = count(1)


@dataclass
class World:
    db: Session
    practice: m.Practice
    actor: Actor
    payer: m.Payer
    client: m.Client
    coverage: m.Coverage
    provider: m.Provider
    claims: list[m.Claim] = field(default_factory=list)

    def claim(
        self,
        *codes: tuple[str, int],
        status: str = "accepted",
        service_on: datetime.date = SESSION_ON,
        client: m.Client | None = None,
    ) -> m.Claim:
        """A claim with one line per (procedure, charge), at ``status``."""
        client = client or self.client
        coverage = self.coverage if client is self.client else f.make_coverage(self.db, client, self.payer)
        start = datetime.datetime.combine(service_on, datetime.time(8), tzinfo=datetime.UTC)
        start += datetime.timedelta(minutes=len(self.claims) * 60)
        session = f.make_session(
            self.db,
            self.practice,
            client,
            self.provider,
            starts_at=start,
            code=codes[0][0],
            fee_cents=codes[0][1],
        )
        for code, cents in codes[1:]:
            self.db.add(
                m.Charge(
                    practice_id=self.practice.id,
                    session_id=session.id,
                    procedure_code=code,
                    fee_cents=cents,
                    diagnosis_codes=["F41.1"],
                )
            )
        self.db.flush()
        self.db.refresh(session)
        claim = f.make_claim(self.db, session, coverage, status=status)
        lines: list[PostingLine] = []
        for claim_line in claim.lines:
            ref = ChargeRef(claim_line.charge_id, claim.client_id, claim.id)
            lines += charge_to_insurance(
                claim_line.charge_cents, ref, InsuranceRef(coverage.id, self.payer.id)
            )
        post_transaction(
            self.db,
            actor=self.actor,
            practice_id=self.practice.id,
            kind="charge",
            accounting_on=service_on,
            lines=lines,
        )
        self.claims.append(claim)
        return claim

    def contract(self, number: str, rates: dict[str, int]) -> m.PayerContract:
        """A payer contract from the start of the sessions' year: code -> allowed cents."""
        contract = m.PayerContract(
            practice_id=self.practice.id,
            payer_id=self.payer.id,
            number=number,
            starts_on=SESSION_ON.replace(month=1, day=1),
        )
        self.db.add(contract)
        self.db.flush()
        self.db.add_all(
            m.PayerContractRate(
                practice_id=self.practice.id,
                contract_id=contract.id,
                procedure_code=code,
                allowed_cents=cents,
            )
            for code, cents in rates.items()
        )
        self.db.flush()
        return contract

    def ingest(self, *remittances: Remittance, name: str = "") -> IngestResult:
        text = write_835(list(remittances), envelope(next(_files)))
        return ingest(
            self.db,
            actor=self.actor,
            practice_id=self.practice.id,
            filename=name or "era.835",
            data=text.encode(),
        )

    def balance(
        self, account: Account, scope: BalanceScope = BalanceScope.ACCOUNT, scope_id: int | None = None
    ) -> int:
        return balance(self.db, self.practice.id, scope, scope_id, account)

    def exceptions(self) -> list[m.WorkItem]:
        query = select(m.WorkItem).where(
            m.WorkItem.practice_id == self.practice.id, m.WorkItem.kind == "exception"
        )
        return list(self.db.scalars(query.order_by(m.WorkItem.id)))


def make_world(db: Session) -> World:
    practice = f.make_practice(db)
    user = f.make_user(db, practice, Role.BILLING)
    payer = f.make_payer(db, name="Blue River Health", edi_payer_id=PAYER_ID)
    db.add(m.PracticePayer(practice_id=practice.id, payer_id=payer.id, appeal_days=90))
    client = f.make_client(db, practice)
    coverage = f.make_coverage(db, client, payer)
    provider = f.make_provider(db, practice)
    return World(db, practice, f.actor_for(db, user), payer, client, coverage, provider)


def envelope(number: int) -> Envelope:
    return Envelope(
        sender_qualifier="ZZ",
        sender_id="BLUERIVER",
        receiver_qualifier="ZZ",
        receiver_id="RIVERBEND",
        interchange_control_number=f"{number:09d}",
        group_control_number=str(number),
        sent_at=datetime.datetime(2026, 4, 10, 6, 30),
    )


def line(
    code: str,
    charge: int,
    paid: int,
    *adjustments: tuple[str, str, int],
    control: str = "",
    modifiers: tuple[str, ...] = (),
    service_on: datetime.date = SESSION_ON,
) -> ServicePayment:
    return ServicePayment(
        procedure=Procedure("HC", code, modifiers),
        charge_cents=charge,
        paid_cents=paid,
        dates=(("472", service_on),),
        adjustments=tuple(Adjustment(g, r, c) for g, r, c in adjustments),
        references=(("6R", control),) if control else (),
    )


def claim_payment(
    claim: m.Claim | str,
    *lines: ServicePayment,
    status: str = "1",
    icn: str = "",
    patient: Party | None = None,
    **changes: object,
) -> ClaimPayment:
    number = claim if isinstance(claim, str) else claim.number
    charge = sum(x.charge_cents for x in lines)
    paid = sum(x.paid_cents for x in lines)
    patient_share = sum(a.amount_cents for x in lines for a in x.adjustments if a.group == "PR")
    payment = ClaimPayment(
        patient_control_number=number,
        status=status,
        charge_cents=charge,
        paid_cents=paid,
        patient_responsibility_cents=patient_share,
        filing_indicator="12",
        payer_claim_control_number=icn or f"ICN{number}",
        facility_code="11",
        frequency="1",
        patient=patient
        or Party(entity="QC", kind="1", name="DOE", first_name="JANE", id_qualifier="MI", id="M1"),
        lines=lines,
    )
    return replace(payment, **changes)  # type: ignore[arg-type]


def reversal_of(payment: ClaimPayment) -> ClaimPayment:
    """CLP02 22: every amount of the original, negated."""
    return replace(
        payment,
        status="22",
        charge_cents=-payment.charge_cents,
        paid_cents=-payment.paid_cents,
        patient_responsibility_cents=-(payment.patient_responsibility_cents or 0),
        lines=tuple(
            replace(
                x,
                charge_cents=-x.charge_cents,
                paid_cents=-x.paid_cents,
                adjustments=tuple(replace(a, amount_cents=-a.amount_cents) for a in x.adjustments),
            )
            for x in payment.lines
        ),
    )


def remittance(
    *claims: ClaimPayment,
    trace: str = "EFT0001",
    plb: tuple[ProviderAdjustment, ...] = (),
    method: str = "ACH",
    amount: int | None = None,
) -> Remittance:
    total = sum(c.paid_cents for c in claims) - sum(p.amount_cents for p in plb)
    total = total if amount is None else amount
    return Remittance(
        payment=Payment(
            handling="I" if method == "NON" else "C",
            amount_cents=abs(total),
            credit_debit="D" if total < 0 else "C",
            method=method,
            paid_on=PAID_ON,
        ),
        trace=Trace(number=trace, payer_id="1123456789"),
        payer=Payer(
            name="BLUE RIVER HEALTH",
            address=Address("PO BOX 100", "", "SPRINGFIELD", "IL", "62701"),
            references=(("2U", PAYER_ID),),
            contacts=(Contact("BL", "EDI SUPPORT", (("TE", "8005550199"),)),),
        ),
        payee=Payee(
            name="RIVERBEND COUNSELING",
            id="1234567893",
            id_qualifier="XX",
            address=Address("12 MAIN ST", "", "SPRINGFIELD", "IL", "62704"),
        ),
        groups=(ClaimGroup("1", claims),) if claims else (),
        provider_adjustments=plb,
    )


def plb(reason: str, cents: int, reference: str = "") -> ProviderAdjustment:
    return ProviderAdjustment("1234567893", datetime.date(2026, 12, 31), reason, cents, reference)
