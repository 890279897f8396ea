"""A small hand-built money history: claims billed on their date of service and paid by hand,
every amount a real ledger posting, so each figure of the forecast can be worked out on paper."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain import ledger_events as ev
from revcycle.domain.permissions import Role
from revcycle.services import ledger
from revcycle.services.actor import Actor, system_actor
from tests import factories as f


@dataclass
class Book:
    db: Session
    practice: m.Practice
    admin: m.User
    actor: Actor
    payers: dict[str, m.Payer] = field(default_factory=dict)
    coverages: dict[str, m.Coverage] = field(default_factory=dict)
    client: m.Client | None = None
    guarantor: m.Guarantor | None = None

    def payer(self, name: str) -> m.Payer:
        if name not in self.payers:
            assert self.client is not None
            payer = f.make_payer(self.db, name=name)
            self.payers[name] = payer
            self.coverages[name] = f.make_coverage(self.db, self.client, payer)
        return self.payers[name]

    def _ref(self, claim: m.Claim) -> tuple[ev.ChargeRef, ev.InsuranceRef]:
        line = claim.lines[0]
        ref = ev.ChargeRef(charge_id=line.charge_id, client_id=claim.client_id, claim_id=claim.id)
        assert claim.coverage_id is not None
        return ref, ev.InsuranceRef(coverage_id=claim.coverage_id, payer_id=claim.payer_id)

    def _post(self, kind: str, on: date, lines: tuple[object, ...], payment_id: int | None = None) -> None:
        ledger.post_transaction(
            self.db,
            actor=self.actor,
            practice_id=self.practice.id,
            kind=kind,
            accounting_on=on,
            lines=lines,  # type: ignore[arg-type]
            payment_id=payment_id,
        )

    def claim(self, payer: str, service_on: date, fee_cents: int) -> m.Claim:
        """A claim billed to ``payer`` on its date of service (ar:insurance +fee)."""
        assert self.client is not None
        provider = f.make_provider(self.db, self.practice)
        starts = datetime(service_on.year, service_on.month, service_on.day, 15, 0, tzinfo=UTC)
        service = f.make_session(
            self.db, self.practice, self.client, provider, starts_at=starts, fee_cents=fee_cents
        )
        self.payer(payer)
        claim = f.make_claim(self.db, service, self.coverages[payer], status="submitted")
        ref, insurance = self._ref(claim)
        self._post("charge", service_on, ev.charge_to_insurance(fee_cents, ref, insurance))
        return claim

    def _payment(self, kind: str, amount_cents: int, on: date, payer_id: int | None) -> m.Payment:
        assert self.client is not None
        payment = m.Payment(
            practice_id=self.practice.id,
            kind=kind,
            method="eft" if kind == "insurance" else "card",
            amount_cents=amount_cents,
            received_on=on,
            payer_id=payer_id,
            client_id=self.client.id if kind == "patient" else None,
            guarantor_id=self.guarantor.id if kind == "patient" and self.guarantor else None,
        )
        self.db.add(payment)
        self.db.flush()
        return payment

    def insurance_pays(self, claim: m.Claim, amount_cents: int, on: date, contractual_cents: int = 0) -> None:
        ref, insurance = self._ref(claim)
        payment = self._payment("insurance", amount_cents, on, claim.payer_id)
        self._post(
            "insurance_payment",
            on,
            ev.insurance_payment(amount_cents, ref, insurance, payment_id=payment.id),
            payment.id,
        )
        if contractual_cents:
            self._post(
                "contractual_adjustment", on, ev.contractual_adjustment(contractual_cents, ref, insurance)
            )

    def to_patient(self, claim: m.Claim, amount_cents: int, on: date) -> None:
        ref, insurance = self._ref(claim)
        assert self.guarantor is not None
        self._post(
            "transfer_to_patient", on, ev.transfer_to_patient(amount_cents, ref, insurance, self.guarantor.id)
        )

    def patient_pays(self, claim: m.Claim, amount_cents: int, on: date) -> None:
        ref, _ = self._ref(claim)
        assert self.guarantor is not None
        payment = self._payment("patient", amount_cents, on, None)
        self._post(
            "patient_payment",
            on,
            ev.patient_payment(amount_cents, ref, self.guarantor.id, payment_id=payment.id),
            payment.id,
        )


def new_book(db: Session) -> Book:
    practice = f.make_practice(db)
    admin = f.make_user(db, practice, Role.ADMIN)
    book = Book(db, practice, admin, system_actor("test"))
    book.client = f.make_client(db, practice)
    book.guarantor = f.make_guarantor(db, book.client)
    return book
