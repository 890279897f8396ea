"""The demo's money history: claims, submissions, payer answers and the ledger, by age.

Each billable session's future is planned first (dates and amounts drawn from the seed),
then played back in date order: the claim is made ready and submitted (a submission row on
the payer's billing route), the clearinghouse and payer acknowledge it, the payer decides
(835 remittance with contractual adjustment and patient responsibility, or a denial), the
client pays, denials are appealed or written off. Whatever lies after `today` has not
happened yet, so claims end up in the state their age implies: old ones paid, partially
paid, denied or appealed; recent ones submitted, acknowledged or accepted; the newest still
drafts or ready.

Status changes go through `claims.transition_claim` with the source that would cause them
(the biller, a 999, a 277CA, a 277, an 835, a portal), and money through
`ledger.post_transaction` with the `domain.ledger_events` builders. Rows with no service of
their own yet (claims and lines, submissions, payments, denials, appeals, approvals, work
items) are written through the models.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus, EventSource
from revcycle.domain.ledger import PostingLine
from revcycle.domain.ledger_events import (
    ChargeRef,
    InsuranceRef,
    TransactionKind,
    charge_to_insurance,
    charge_to_patient,
    contractual_adjustment,
    insurance_payment,
    patient_payment,
    transfer_to_patient,
    write_off,
)
from revcycle.domain.permissions import Role
from revcycle.services import demo_data as d
from revcycle.services.actor import Actor, system_actor
from revcycle.services.claims import transition_claim
from revcycle.services.ledger import post_transaction

if TYPE_CHECKING:
    from revcycle.services.demo import BuiltSession, DemoBuilder

S = ClaimStatus
K = TransactionKind
FLUSH_EVERY = 500
# The event loop lets go of the rows it has written every so many events: a session holding
# tens of thousands of objects makes every ORM-enabled UPDATE (the audit head's, for one)
# scan them all, and the build turns quadratic.
RELEASE_EVERY = 100

# (group, CARC, category, default action), weighted
DENIALS: tuple[tuple[str, str, str, str, int], ...] = (
    ("CO", "16", "missing_information", "correct_and_resubmit", 5),
    ("CO", "197", "authorization", "appeal_with_authorization", 3),
    ("CO", "50", "medical_necessity", "appeal_with_records", 3),
    ("PR", "27", "eligibility", "verify_coverage_bill_patient", 3),
    ("CO", "18", "duplicate", "verify_and_close", 2),
    ("CO", "109", "wrong_payer", "bill_correct_payer", 2),
    ("CO", "29", "timely_filing", "appeal_with_proof_of_timely_filing", 1),
)
DAYS_TO_PAY: dict[str, tuple[int, int]] = {
    "medicare": (14, 21),
    "medicaid": (24, 45),
    "tricare": (18, 35),
    "magellan": (20, 40),
}
DEFAULT_DAYS_TO_PAY = (12, 32)


@dataclass
class LinePlan:
    line: m.ClaimLine
    charge: m.Charge
    allowed_cents: int = 0
    paid_cents: int = 0
    contractual_cents: int = 0
    patient_cents: int = 0
    left_on_insurance_cents: int = 0


@dataclass
class ClaimPlan:
    built: BuiltSession
    claim: m.Claim
    lines: list[LinePlan]
    payer_key: str
    route: str
    created_on: date
    ready_on: date | None = None
    submitted_on: date | None = None
    rejected_on: date | None = None
    resubmitted_on: date | None = None
    acknowledged_on: date | None = None
    accepted_on: date | None = None
    adjudicated_on: date | None = None
    decision: str = ""  # paid | partially_paid | denied | "" (no answer yet)
    decided_on: date | None = None
    denial: tuple[str, str, str, str] | None = None
    appealed_on: date | None = None
    appeal_won_on: date | None = None
    written_off_on: date | None = None
    patient_payments: list[tuple[date, int]] = field(default_factory=list)
    patient_write_off_on: date | None = None


def build_money_history(builder: DemoBuilder, sessions: list[BuiltSession]) -> None:
    MoneyHistory(builder, sessions).run()


class MoneyHistory:
    def __init__(self, builder: DemoBuilder, sessions: list[BuiltSession]) -> None:
        self.b = builder
        self.db = builder.db
        self.rng = builder.rng
        self.today = builder.today
        self.pid = builder.practice.id
        self.sessions = sessions
        self.plans: list[ClaimPlan] = []
        self.events: list[tuple[date, int, Callable[[], object]]] = []
        self.system = system_actor("demo")
        self.billing = self._actor("billing", Role.BILLING)
        self.director = self._actor("director", Role.ADMIN)
        self.front_desk = self._actor("front_desk", Role.FRONT_DESK)
        self.batches: dict[date, m.SubmissionBatch] = {}
        self.claim_numbers: dict[str, int] = defaultdict(int)

    def _actor(self, key: str, role: Role) -> Actor:
        user = self.b.users[key]
        return Actor(user.id, {self.pid: frozenset({role})}, source_ip="127.0.0.1", label="demo")

    def run(self) -> None:
        self._plan_claims()
        self._create_claims()
        self._schedule_charges()
        for plan in self.plans:
            self._schedule_claim(plan)
        self._schedule_remittances()
        self._schedule_patient_only()
        self.events.sort(key=lambda event: (event[0], event[1]))
        for number, (_, _, action) in enumerate(self.events, start=1):
            action()
            if number % RELEASE_EVERY == 0:
                self._release()
        self._release()
        self._work_items()
        self.db.flush()

    def _release(self) -> None:
        """Write what is pending and forget the loaded rows (the ids we keep stay valid)."""
        self.db.flush()
        self.db.expunge_all()

    def _at(self, day: date, action: Callable[..., object], *args: Any) -> None:
        """Schedule ``action(*args)`` on ``day``; what falls after today has not happened."""
        if day <= self.today:
            self.events.append((day, len(self.events), partial(action, *args)))

    def _local(self, day: date, hour: int | None = None) -> datetime:
        hour = hour if hour is not None else self.rng.randint(9, 17)
        return datetime.combine(day, time(hour, self.rng.randint(0, 59)), tzinfo=self.b.tz).astimezone(UTC)

    # -- planning --

    def _plan_claims(self) -> None:
        for built in self.sessions:
            row = built.row
            billable = [c for c in built.charges if not c.patient_only]
            if (
                row.appointment_status != "show"
                or row.note_status != "locked"
                or built.plan.coverage is None
                or not billable
            ):
                continue
            created_on = row.service_on + timedelta(days=self.rng.choice((0, 1, 1, 2, 3)))
            if created_on > self.today:
                continue
            self.plans.append(self._claim_plan(built, billable, created_on))

    def _claim_plan(self, built: BuiltSession, charges: list[m.Charge], created_on: date) -> ClaimPlan:
        coverage = built.plan.coverage
        assert coverage is not None
        key = built.plan.payer_key
        settings = self.b.practice_payers[key]
        row = built.row
        self.claim_numbers[f"{row.service_on:%y%m}"] += 1
        number = f"RB{row.service_on:%y%m}-{self.claim_numbers[f'{row.service_on:%y%m}']:05d}"
        claim = m.Claim(
            practice_id=self.pid,
            number=number,
            client_id=row.client_id,
            provider_id=row.provider_id,
            payer_id=coverage.payer_id,
            coverage_id=coverage.id,
            status=S.DRAFT,
            service_from_on=row.service_on,
            service_to_on=row.service_on,
            billed_cents=sum(c.fee_cents for c in charges),
            timely_filing_on=row.service_on + timedelta(days=settings.timely_filing_days),
            source="session",
        )
        lines = [
            LinePlan(
                m.ClaimLine(
                    practice_id=self.pid,
                    line_number=n,
                    procedure_code=c.procedure_code,
                    modifiers=c.modifiers,
                    units=c.units,
                    charge_cents=c.fee_cents,
                    service_on=row.service_on,
                ),
                c,
            )
            for n, c in enumerate(charges, start=1)
        ]
        plan = ClaimPlan(built, claim, lines, key, settings.billing_route, created_on)
        self._plan_path(plan)
        return plan

    def _plan_path(self, plan: ClaimPlan) -> None:
        """Dates of everything that will happen to the claim (some after today)."""
        rng = self.rng
        seed = self.b.payer_seeds[plan.payer_key]
        plan.ready_on = plan.created_on + timedelta(days=rng.choice((0, 0, 1, 2)))
        submitted = plan.ready_on + timedelta(days=rng.choice((0, 1, 1, 2, 3)))
        plan.submitted_on = submitted
        if plan.route == "clearinghouse":
            plan.acknowledged_on = submitted
            if rng.random() < 0.04:  # a front-end rejection, corrected and sent again
                plan.rejected_on = submitted + timedelta(days=1)
                submitted = plan.rejected_on + timedelta(days=rng.randint(1, 4))
                plan.resubmitted_on = submitted
            plan.accepted_on = submitted + timedelta(days=rng.randint(1, 2))
        else:
            plan.accepted_on = submitted + timedelta(days=rng.randint(1, 5))
        if rng.random() < 0.015:
            return  # the payer never answers: a follow-up for the work queue
        low, high = DAYS_TO_PAY.get(plan.payer_key, DEFAULT_DAYS_TO_PAY)
        decided = submitted + timedelta(days=rng.randint(low, high))
        if rng.random() < 0.35:  # the payer says "approved" before the money posts
            plan.adjudicated_on = decided
            decided += timedelta(days=rng.randint(2, 7))
        plan.decided_on = decided
        roll = rng.random()
        if roll < seed.denial_rate:
            self._plan_denial(plan)
        elif roll < seed.denial_rate + 0.06:
            plan.decision = "partially_paid"
            self._plan_amounts(plan, partial=True)
        else:
            plan.decision = "paid"
            self._plan_amounts(plan, partial=False)

    def _plan_denial(self, plan: ClaimPlan) -> None:
        rng = self.rng
        plan.decision = "denied"
        choice = rng.choices(DENIALS, weights=[x[4] for x in DENIALS])[0]
        plan.denial = choice[:4]
        assert plan.decided_on is not None
        if plan.denial[1] in {"197", "50", "16"} and rng.random() < 0.6:
            plan.appealed_on = plan.decided_on + timedelta(days=rng.randint(5, 20))
            if rng.random() < 0.6:
                plan.appeal_won_on = plan.appealed_on + timedelta(days=rng.randint(21, 45))
                self._plan_amounts(plan, partial=False)
        elif rng.random() < 0.75:
            plan.written_off_on = plan.decided_on + timedelta(days=rng.randint(30, 75))

    def _plan_amounts(self, plan: ClaimPlan, *, partial: bool) -> None:
        rng = self.rng
        coverage = plan.built.plan.coverage
        assert coverage is not None
        assert plan.decided_on is not None
        rates = self.b.allowed[plan.payer_key]
        seed = self.b.payer_seeds[plan.payer_key]
        copay_left = coverage.copay_cents
        deductible = seed.kind == "commercial" and plan.decided_on.month <= 3 and rng.random() < 0.2
        for index, lp in enumerate(plan.lines):
            billed = lp.line.charge_cents
            allowed = min(billed, rates.get(lp.line.procedure_code, billed))
            if partial and index > 0:  # the add-on line is bundled (CO-97): nothing allowed
                allowed = 0
            lp.allowed_cents = allowed
            lp.contractual_cents = billed - allowed
            if deductible:
                patient = allowed
            elif copay_left:
                patient = min(copay_left, allowed)
                copay_left -= patient
            elif seed.kind in {"commercial", "medicare", "tricare"}:
                patient = allowed * 20 // 100
            else:
                patient = 0
            lp.patient_cents = patient
            lp.paid_cents = allowed - patient
            if partial and len(plan.lines) == 1:  # underpaid against the contract
                short = lp.paid_cents * rng.randint(15, 40) // 100
                lp.paid_cents -= short
                lp.left_on_insurance_cents = short
        self._plan_patient(plan)

    def _plan_patient(self, plan: ClaimPlan) -> None:
        rng = self.rng
        owed = sum(lp.patient_cents for lp in plan.lines)
        era_on = plan.appeal_won_on or plan.decided_on
        if not owed or era_on is None:
            return
        roll = rng.random()
        paid_on = era_on + timedelta(days=rng.randint(2, 40))
        if roll < 0.72:
            plan.patient_payments.append((paid_on, owed))
        elif roll < 0.86 and owed >= 200:
            part = owed // 2
            plan.patient_payments.append((paid_on, part))
            if owed - part <= 2500 and rng.random() < 0.5:
                plan.patient_write_off_on = paid_on + timedelta(days=rng.randint(60, 120))
        elif rng.random() < 0.25:
            plan.patient_write_off_on = era_on + timedelta(days=rng.randint(90, 150))

    # -- claims --

    def _create_claims(self) -> None:
        for start in range(0, len(self.plans), FLUSH_EVERY):
            chunk = self.plans[start : start + FLUSH_EVERY]
            self.b.add_and_flush([p.claim for p in chunk])
            for plan in chunk:
                for lp in plan.lines:
                    lp.line.claim_id = plan.claim.id
                    lp.line.charge_id = lp.charge.id
            self.b.add_and_flush([lp.line for p in chunk for lp in p.lines])

    def _schedule_claim(self, plan: ClaimPlan) -> None:
        p = plan
        assert p.ready_on is not None
        assert p.submitted_on is not None
        assert p.accepted_on is not None
        self._at(p.ready_on, lambda: self._move(p, S.READY, EventSource.USER, "ready to bill", self.billing))
        self._at(p.submitted_on, lambda: self._submit(p, first=True))
        if p.acknowledged_on:
            self._at(
                p.acknowledged_on, lambda: self._move(p, S.ACKNOWLEDGED, EventSource.X12_999, "999 accepted")
            )
        if p.rejected_on and p.resubmitted_on:
            self._schedule_rejection(p, p.rejected_on, p.resubmitted_on)
        self._at(p.accepted_on, lambda: self._accept(p))
        if p.adjudicated_on:
            source = EventSource.X12_277 if p.route == "clearinghouse" else EventSource.PORTAL
            self._at(
                p.adjudicated_on, lambda: self._move(p, S.ADJUDICATED, source, "finalized, payment pending")
            )
        if not p.decided_on:
            return
        if p.decision == "denied":
            self._at(p.decided_on, lambda: self._deny(p))
            if p.appealed_on:
                self._at(p.appealed_on, lambda: self._appeal(p))
            if p.written_off_on:
                self._at(p.written_off_on, lambda: self._write_off_claim(p))
        for paid_on, amount in p.patient_payments:
            self._at(paid_on, self._patient_pays, p, paid_on, amount)
        if p.patient_write_off_on:
            self._at(p.patient_write_off_on, lambda: self._write_off_patient(p))

    def _schedule_rejection(self, p: ClaimPlan, rejected_on: date, resubmitted_on: date) -> None:
        self._at(
            rejected_on, lambda: self._move(p, S.REJECTED, EventSource.X12_277CA, "A7: subscriber id invalid")
        )
        corrected_on = max(rejected_on, resubmitted_on - timedelta(days=1))
        self._at(
            corrected_on,
            lambda: self._move(p, S.READY, EventSource.USER, "member id corrected", self.billing),
        )
        self._at(resubmitted_on, lambda: self._submit(p, first=False))
        self._at(resubmitted_on, lambda: self._move(p, S.ACKNOWLEDGED, EventSource.X12_999, "999 accepted"))

    def _move(
        self,
        plan: ClaimPlan,
        target: ClaimStatus,
        source: EventSource,
        detail: str,
        actor: Actor | None = None,
    ) -> m.Claim:
        return transition_claim(
            self.db,
            actor=actor or self.system,
            claim_id=plan.claim.id,
            target=target,
            source=source,
            detail=detail,
        )

    def _submit(self, plan: ClaimPlan, *, first: bool) -> None:
        day = plan.submitted_on if first else plan.resubmitted_on
        assert day is not None
        portal = self.b.practice_payers[plan.payer_key].portal_id
        batch_id = self._batch(day).id if plan.route == "clearinghouse" else None
        reference = {
            "portal": f"WEB{self.rng.randint(10**8, 10**9 - 1)}",
            "clearinghouse": f"CH{self.rng.randint(10**9, 10**10 - 1)}",
            "simplepractice": f"SPC-{self.rng.randint(10**6, 10**7 - 1)}",
        }.get(plan.route, "")
        previous = None
        if not first:
            previous = self.db.query(m.Submission.id).filter_by(claim_id=plan.claim.id).scalar()
        submission = m.Submission(
            practice_id=self.pid,
            claim_id=plan.claim.id,
            batch_id=batch_id,
            channel=plan.route,
            portal_id=portal if plan.route == "portal" else None,
            frequency="1",
            submitted_at=self._local(day),
            reference=reference if plan.route != "clearinghouse" else "",
            clearinghouse_reference=reference if plan.route == "clearinghouse" else "",
            submitted_by_user_id=self.b.users["billing"].id,
            previous_submission_id=previous,
        )
        self.db.add(submission)
        via = {
            "portal": "payer portal",
            "clearinghouse": "clearinghouse batch",
            "simplepractice": "SimplePractice",
        }
        self._move(
            plan, S.SUBMITTED, EventSource.USER, f"sent by {via.get(plan.route, plan.route)}", self.billing
        )

    def _batch(self, day: date) -> m.SubmissionBatch:
        batch = self.batches.get(day)
        if batch is None:
            number = f"{len(self.batches) + 1:09d}"
            batch = m.SubmissionBatch(
                practice_id=self.pid,
                channel="clearinghouse",
                interchange_control_number=number,
                group_control_number=str(len(self.batches) + 1),
                status="acknowledged",
                created_by_user_id=self.b.users["billing"].id,
                created_at=self._local(day, 16),
            )
            self.b.add_and_flush([batch])
            self.batches[day] = batch
        return batch

    def _accept(self, plan: ClaimPlan) -> None:
        if plan.route == "clearinghouse":
            claim = self._move(plan, S.ACCEPTED, EventSource.X12_277CA, "277CA A2: accepted for adjudication")
        elif plan.route == "simplepractice":
            claim = self._move(plan, S.ACCEPTED, EventSource.IMPORT, "SimplePractice: received by payer")
        else:
            claim = self._move(plan, S.ACCEPTED, EventSource.PORTAL, "portal: In Process")
        claim.payer_claim_control_number = f"{plan.accepted_on:%y%j}{self.rng.randint(10**8, 10**9 - 1)}"

    def _deny(self, plan: ClaimPlan) -> None:
        assert plan.denial is not None
        assert plan.decided_on is not None
        group, carc, category, action = plan.denial
        appeal_days = self.b.practice_payers[plan.payer_key].appeal_days
        self.db.add(
            m.Denial(
                practice_id=self.pid,
                claim_id=plan.claim.id,
                group_code=group,
                carc=carc,
                amount_cents=plan.claim.billed_cents,
                category=category,
                default_action=action,
                appeal_deadline_on=plan.decided_on + timedelta(days=appeal_days),
            )
        )
        self._move(plan, S.DENIED, EventSource.X12_835, f"835: denied {group}-{carc}")

    def _appeal(self, plan: ClaimPlan) -> None:
        assert plan.appealed_on is not None
        won = plan.appeal_won_on is not None and plan.appeal_won_on <= self.today
        self.db.add(
            m.Appeal(
                practice_id=self.pid,
                claim_id=plan.claim.id,
                level=1,
                status="won" if won else "submitted",
                argument="Records and the treatment plan attached; services were medically necessary "
                "and authorized as documented.",
                submitted_on=plan.appealed_on,
                decided_on=plan.appeal_won_on if won else None,
                recovered_cents=sum(lp.paid_cents for lp in plan.lines) if won else 0,
            )
        )
        self._move(plan, S.APPEALED, EventSource.USER, "level 1 appeal sent", self.billing)

    def _write_off_claim(self, plan: ClaimPlan) -> None:
        coverage = plan.built.plan.coverage
        assert coverage is not None
        assert plan.written_off_on is not None
        insurance = InsuranceRef(coverage.id, coverage.payer_id)
        lines: list[PostingLine] = []
        for lp in plan.lines:
            lines += write_off(lp.line.charge_cents, self._ref(plan, lp), insurance=insurance)
        reason = "denial not appealable; written off after review"
        self._approval(plan, plan.claim.billed_cents, reason)
        self._post(K.WRITE_OFF, plan.written_off_on, lines, reason, actor=self.director)
        self._move(plan, S.WRITTEN_OFF, EventSource.USER, reason, self.director)

    def _approval(self, plan: ClaimPlan, amount_cents: int, reason: str) -> None:
        self.db.add(
            m.ApprovalRequest(
                practice_id=self.pid,
                kind="write_off",
                amount_cents=amount_cents,
                status="approved",
                reason=reason,
                claim_id=plan.claim.id,
                client_id=plan.claim.client_id,
                requested_by_user_id=self.b.users["billing"].id,
                decided_by_user_id=self.b.users["director"].id,
                decision_reason="approved",
            )
        )

    # -- money --

    def _ref(self, plan: ClaimPlan, lp: LinePlan) -> ChargeRef:
        return ChargeRef(lp.charge.id, plan.claim.client_id, plan.claim.id)

    def _post(
        self,
        kind: str,
        day: date,
        lines: list[PostingLine],
        memo: str,
        *,
        actor: Actor,
        payment_id: int | None = None,
    ) -> None:
        if lines:
            post_transaction(
                self.db,
                actor=actor,
                practice_id=self.pid,
                kind=kind,
                accounting_on=day,
                lines=lines,
                memo=memo,
                payment_id=payment_id,
            )

    def _schedule_charges(self) -> None:
        """Each session's charges post on its date of service: to the payer or the client."""
        claim_of = {lp.charge.id: plan.claim.id for plan in self.plans for lp in plan.lines}
        for built in self.sessions:
            if built.charges:
                self._at(built.row.service_on, self._post_charges, built, claim_of)

    def _post_charges(self, built: BuiltSession, claim_of: dict[int, int]) -> None:
        coverage = built.plan.coverage
        guarantor_id = built.plan.guarantor.id
        lines: list[PostingLine] = []
        for charge in built.charges:
            ref = ChargeRef(charge.id, built.row.client_id, claim_of.get(charge.id))
            if coverage is None or charge.patient_only:
                lines += charge_to_patient(charge.fee_cents, ref, guarantor_id)
            else:
                lines += charge_to_insurance(
                    charge.fee_cents, ref, InsuranceRef(coverage.id, coverage.payer_id)
                )
        codes = " ".join(c.procedure_code for c in built.charges)
        self._post(K.CHARGE, built.row.service_on, lines, f"charges {codes}", actor=self.billing)

    def _schedule_remittances(self) -> None:
        """One remittance (835) per payer and date: one payment (EFT or check) and one ledger
        transaction for all its claims; a claim paid nothing (all deductible) posts alone."""
        groups: dict[tuple[str, date], list[ClaimPlan]] = defaultdict(list)
        for plan in self.plans:
            era_on = plan.appeal_won_on if plan.decision == "denied" else plan.decided_on
            if era_on and era_on <= self.today and plan.decision:
                if plan.decision == "denied" and plan.appeal_won_on is None:
                    continue
                paid = sum(lp.paid_cents for lp in plan.lines)
                groups[(plan.payer_key, era_on) if paid else (f"zero:{plan.claim.id}", era_on)].append(plan)
        payments: list[tuple[date, m.Payment | None, list[ClaimPlan]]] = []
        for (key, era_on), plans in sorted(groups.items()):
            payment = None
            if not key.startswith("zero:"):
                eft = self.rng.random() < 0.9
                payment = m.Payment(
                    practice_id=self.pid,
                    kind="insurance",
                    method="eft" if eft else "check",
                    amount_cents=sum(lp.paid_cents for p in plans for lp in p.lines),
                    received_on=era_on,
                    reference=f"{'1' if eft else ''}{self.rng.randint(10**8, 10**9 - 1)}",
                    payer_id=self.b.payers[key].id,
                    created_by_user_id=self.b.users["billing"].id,
                )
            payments.append((era_on, payment, plans))
        self.b.add_and_flush([payment for _, payment, _ in payments if payment is not None])
        for era_on, payment, plans in payments:
            self._at(era_on, self._remit, era_on, payment, plans)

    def _remit(self, era_on: date, payment: m.Payment | None, plans: list[ClaimPlan]) -> None:
        payment_id = payment.id if payment else None
        lines: list[PostingLine] = []
        for plan in plans:
            coverage = plan.built.plan.coverage
            assert coverage is not None
            insurance = InsuranceRef(coverage.id, coverage.payer_id)
            for lp in plan.lines:
                ref = self._ref(plan, lp)
                if lp.paid_cents:
                    lines += insurance_payment(lp.paid_cents, ref, insurance, payment_id=payment_id)
                if lp.contractual_cents:
                    lines += contractual_adjustment(lp.contractual_cents, ref, insurance)
                if lp.patient_cents:
                    lines += transfer_to_patient(
                        lp.patient_cents, ref, insurance, plan.built.plan.guarantor.id
                    )
        memo = (
            f"835 {payment.reference}: {len(plans)} claim(s)"
            if payment
            else f"835 for {plans[0].claim.number}"
        )
        self._post(K.INSURANCE_PAYMENT, era_on, lines, memo, actor=self.billing, payment_id=payment_id)
        for plan in plans:
            if plan.decision == "denied":
                self._move(plan, S.PAID, EventSource.X12_835, "appeal decided: paid")
            else:
                target = S.PAID if plan.decision == "paid" else S.PARTIALLY_PAID
                self._move(plan, target, EventSource.X12_835, f"835 remittance, {target.replace('_', ' ')}")

    def _patient_pays(self, plan: ClaimPlan, paid_on: date, amount_cents: int) -> None:
        guarantor = plan.built.plan.guarantor
        payment = m.Payment(
            practice_id=self.pid,
            kind="patient",
            method=self.rng.choices(["card", "check", "cash", "ach"], weights=[70, 15, 5, 10])[0],
            amount_cents=amount_cents,
            received_on=paid_on,
            reference=f"PP{self.rng.randint(10**6, 10**7 - 1)}",
            client_id=plan.claim.client_id,
            guarantor_id=guarantor.id,
            created_by_user_id=self.b.users["front_desk"].id,
        )
        self.b.add_and_flush([payment])
        lines: list[PostingLine] = []
        left = amount_cents
        for lp in plan.lines:
            share = min(left, lp.patient_cents)
            if share:
                lines += patient_payment(share, self._ref(plan, lp), guarantor.id, payment_id=payment.id)
                left -= share
        self._post(
            K.PATIENT_PAYMENT, paid_on, lines, "patient payment", actor=self.front_desk, payment_id=payment.id
        )

    def _write_off_patient(self, plan: ClaimPlan) -> None:
        assert plan.patient_write_off_on is not None
        paid = sum(amount for day, amount in plan.patient_payments if day <= self.today)
        guarantor = plan.built.plan.guarantor
        lines: list[PostingLine] = []
        for lp in plan.lines:
            share = min(paid, lp.patient_cents)
            paid -= share
            left = lp.patient_cents - share
            if left:
                lines += write_off(left, self._ref(plan, lp), guarantor_id=guarantor.id)
        if lines:
            amount = sum(line.amount_cents for line in lines if line.amount_cents > 0)
            reason = "small patient balance after statements; administrative write-off"
            self._approval(plan, amount, reason)
            self._post(K.WRITE_OFF, plan.patient_write_off_on, lines, reason, actor=self.director)

    def _schedule_patient_only(self) -> None:
        """Self-pay sessions and no-show fees: the client pays at the desk, later, or never."""
        for built in self.sessions:
            if not built.charges:
                continue
            patient_charges = [c for c in built.charges if c.patient_only or built.plan.coverage is None]
            if not patient_charges:
                continue
            roll = self.rng.random()
            no_show = patient_charges[0].patient_only
            if roll < (0.5 if no_show else 0.85):
                paid_on = built.row.service_on + timedelta(days=self.rng.randint(3, 20) if no_show else 0)
                self._at(paid_on, self._desk_payment, built, patient_charges, paid_on)
            elif no_show and roll < 0.7:
                waived_on = built.row.service_on + timedelta(days=self.rng.randint(2, 10))
                self._at(waived_on, self._waive, built, patient_charges, waived_on)

    def _desk_payment(self, built: BuiltSession, charges: list[m.Charge], paid_on: date) -> None:
        guarantor = built.plan.guarantor
        payment = m.Payment(
            practice_id=self.pid,
            kind="patient",
            method="card",
            amount_cents=sum(c.fee_cents for c in charges),
            received_on=paid_on,
            reference=f"PP{self.rng.randint(10**6, 10**7 - 1)}",
            client_id=built.row.client_id,
            guarantor_id=guarantor.id,
            created_by_user_id=self.b.users["front_desk"].id,
        )
        self.b.add_and_flush([payment])
        lines: list[PostingLine] = []
        for charge in charges:
            ref = ChargeRef(charge.id, built.row.client_id)
            lines += patient_payment(charge.fee_cents, ref, guarantor.id, payment_id=payment.id)
        self._post(
            K.PATIENT_PAYMENT,
            paid_on,
            lines,
            "paid at the desk",
            actor=self.front_desk,
            payment_id=payment.id,
        )

    def _waive(self, built: BuiltSession, charges: list[m.Charge], waived_on: date) -> None:
        guarantor = built.plan.guarantor
        lines: list[PostingLine] = []
        for charge in charges:
            lines += write_off(
                charge.fee_cents, ChargeRef(charge.id, built.row.client_id), guarantor_id=guarantor.id
            )
        reason = "missed-appointment fee waived (first occurrence)"
        self.db.add(
            m.ApprovalRequest(
                practice_id=self.pid,
                kind="write_off",
                amount_cents=sum(c.fee_cents for c in charges),
                status="approved",
                reason=reason,
                client_id=built.row.client_id,
                requested_by_user_id=self.b.users["front_desk"].id,
                decided_by_user_id=self.b.users["director"].id,
                decision_reason="approved",
            )
        )
        self._post(K.WRITE_OFF, waived_on, lines, reason, actor=self.director)

    # -- the work queue --

    def _work_items(self) -> None:
        items: list[m.WorkItem] = []
        billing_id = self.b.users["billing"].id
        for built in self.sessions:
            row = built.row
            age = (self.today - row.service_on).days
            # The import raises "note not locked" itself; the demo adds the timely-filing alert.
            if row.appointment_status == "show" and row.note_status != "locked" and age > 7:
                coverage = built.plan.coverage
                if coverage is not None:
                    limit = self.b.practice_payers[built.plan.payer_key].timely_filing_days
                    deadline = row.service_on + timedelta(days=limit)
                    if (deadline - self.today).days <= 30:
                        items.append(
                            self._item(
                                "alert",
                                "critical",
                                d.WORK_ITEM_TITLES["timely_filing"],
                                "timely_filing",
                                f"timely_filing:{row.id}",
                                session_id=row.id,
                                client_id=row.client_id,
                                due_on=deadline,
                                detail=f"Bill by {deadline} or the payer will refuse it.",
                            )
                        )
        query = select(m.Claim.id, m.Claim.status).where(m.Claim.practice_id == self.pid)
        statuses: dict[int, str] = dict(self.db.execute(query).all())
        followups: list[dict[str, object]] = []
        for plan in self.plans:
            claim = plan.claim
            status = statuses[claim.id]
            age = (self.today - claim.service_from_on).days
            if status == S.ACCEPTED and age > 45:
                due = self.today + timedelta(days=self.rng.randint(0, 4))
                followups.append({"id": claim.id, "next_followup_on": due})
                items.append(
                    self._item(
                        "followup",
                        "warning",
                        d.WORK_ITEM_TITLES["no_response"],
                        "no_response",
                        f"no_response:{claim.id}",
                        claim_id=claim.id,
                        client_id=claim.client_id,
                        owner_user_id=billing_id,
                        due_on=due,
                        detail=f"Claim {claim.number} accepted {plan.accepted_on}; no payment or denial yet.",
                    )
                )
            elif status in {S.SUBMITTED, S.ACKNOWLEDGED, S.ACCEPTED}:
                # Claims in flight are due for follow-up a month after they were sent.
                sent = plan.resubmitted_on or plan.submitted_on
                assert sent is not None
                followups.append({"id": claim.id, "next_followup_on": sent + timedelta(days=30)})
            elif status == S.DENIED and plan.denial is not None and plan.decided_on is not None:
                deadline = plan.decided_on + timedelta(
                    days=self.b.practice_payers[plan.payer_key].appeal_days
                )
                items.append(
                    self._item(
                        "followup",
                        "critical" if (deadline - self.today).days < 30 else "warning",
                        d.WORK_ITEM_TITLES["denial_followup"],
                        "denial",
                        f"denial:{claim.id}",
                        claim_id=claim.id,
                        client_id=claim.client_id,
                        owner_user_id=billing_id,
                        due_on=min(deadline, self.today + timedelta(days=7)),
                        detail=f"{plan.denial[0]}-{plan.denial[1]} ({plan.denial[2].replace('_', ' ')}); "
                        f"appeal by {deadline}.",
                    )
                )
        if followups:
            self.db.execute(update(m.Claim), followups)
        self.b.add_and_flush(items)

    def _item(
        self,
        kind: str,
        severity: str,
        title: str,
        rule: str,
        dedupe_key: str,
        *,
        detail: str = "",
        **ids: object,
    ) -> m.WorkItem:
        return m.WorkItem(
            practice_id=self.pid,
            kind=kind,
            severity=severity,
            title=title,
            detail=detail,
            rule=rule,
            dedupe_key=dedupe_key,
            **ids,
        )
