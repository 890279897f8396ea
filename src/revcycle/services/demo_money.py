"""The demo's money history: claims, submissions, payer answers and the ledger, by age.

First the billing login works the claims pipeline day by day through the real services (a
:class:`ClaimFlow`): billable sessions are marked ready a few days after their note is
locked (``mark_sessions_ready``), become claims scrubbed as they are built
(``build_claims``; a warning the practice accepts is overridden with its reason, and the
claim made ready), and go out through each payer's billing route a day or two later: entered
on the payer's portal with the portal's reference, sent through SimplePractice or on paper
(``record_submissions``), or queued for the day's clearinghouse batch (``queue_for_batch``)
and recorded as sent with the clearinghouse's reference. Every billable session older than a
week goes out, except about 3% deliberately left behind (never marked ready, ready but never
built, or built and never sent), chosen by the seed and listed in the summary, so the
missing-claims check has exactly those to find.

Then each submitted claim's future is planned (dates and amounts drawn from the seed) and
played back in date order: the clearinghouse and payer acknowledge it, the payer decides
(835 remittance with contractual adjustment and patient responsibility, or a denial), the
client pays, denials are appealed or written off. Whatever lies after `today` has not
happened yet, so claims end up in the state their age implies: old ones paid, partially
paid, denied or appealed; recent ones submitted, acknowledged or accepted; the newest still
drafts or ready.

Status changes go through `claims.transition_claim` with the source that would cause them
(the biller, an 835, a portal), money through `ledger.post_transaction` with the
`domain.ledger_events` builders. Clearinghouse claims travel as real files: each day's batch is
an 837P written by `x12_batches.write_batch` and handed to a simulated clearinghouse
(`adapters.clearinghouse_sim`), whose 999 (that afternoon) and 277CA files (the mornings after:
accepted with the payer's claim number, or rejected — corrected, made ready and sent again in
a file of its own) are ingested by `x12_ingest.ingest` as the billing login would. Rows with no
service of their own yet (payments, denials, appeals, approvals, work items) are written
through the models.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from revcycle.adapters.clearinghouse_sim import (
    ActiveCoverage,
    ClaimAnswer,
    EligibilityAnswer,
    EligibilityRefusal,
    InactiveCoverage,
    SimulatedClearinghouse,
    StatusAnswer,
)
from revcycle.adapters.payer_sim import DecidedClaim, DecidedLine, SimulatedPayer
from revcycle.adapters.payer_sim import reversal_of as payer_sim_reversal
from revcycle.db import models as m
from revcycle.db.types import recording_at
from revcycle.domain.claim_status import ClaimStatus, EventSource
from revcycle.domain.ledger import PostingLine
from revcycle.domain.ledger_events import (
    ChargeRef,
    InsuranceRef,
    TransactionKind,
    charge_to_insurance,
    charge_to_patient,
    patient_payment,
    write_off,
)
from revcycle.domain.permissions import Role
from revcycle.domain.remittance_lines import line_control_number
from revcycle.services import demo_data as d
from revcycle.services.actor import Actor, system_actor
from revcycle.services.claim_status_inquiries import write_status_inquiries
from revcycle.services.claims import transition_claim
from revcycle.services.claims_pipeline.building import build_claims, mark_claim_ready, mark_sessions_ready
from revcycle.services.claims_pipeline.scrubbing import ScrubState, override_warning
from revcycle.services.eligibility import request_eligibility
from revcycle.services.ledger import post_transaction
from revcycle.services.sessions import session_facts
from revcycle.services.submissions import queue_for_batch, record_submissions
from revcycle.services.x12_batches import RoutingSettings, write_batch
from revcycle.services.x12_ingest import ingest
from revcycle.x12.inquiry276 import ClaimInquiry
from revcycle.x12.parties import Party
from revcycle.x12.remit835 import Address, ClaimPayment, Payee

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
# The payers' 835s: this share of payments by check (the rest by EFT), this share of paid
# claims allowed below the contract (half of them reprocessed later), this many payments
# withholding an earlier overpayment, and this many carrying a claim of the practice's old
# billing system (an unmatched claim for the exception queue). Medicare and Medicaid add
# interest (PLB L6) to claims paid later than the prompt-pay limit.
CHECK_SHARE = 0.08
# CLP06 by the payer's kind (the 835's own list: no CI there, a commercial PPO is 12).
FILING_INDICATORS = {"medicare": "MB", "medicaid": "MC", "medicare_advantage": "16", "tricare": "CH"}
UNDERPAID_SHARE = 0.03
RECOUPMENTS = 2
STRAY_CLAIMS = 1
PROMPT_PAY_DAYS = 30
# Every billable session goes out within this many days of its date of service...
SUBMITTED_WITHIN_DAYS = 6
# ... except this share of those older than a week, left behind on purpose (weighted stages).
NEVER_SUBMITTED_SHARE = 0.03
# Weeks of Monday 276 status inquiries before today (claims older than that are settled).
STATUS_INQUIRY_WEEKS = 26
# This morning's eligibility run covers the clients seen in this many days (their next visit
# is coming); about one answer in this many is a refusal for a mistyped member id.
ELIGIBILITY_SEEN_WITHIN_DAYS = 21
ELIGIBILITY_REFUSED_ONE_IN = 40
NEVER_SUBMITTED_STAGES: tuple[tuple[str, int], ...] = (("documented", 4), ("ready", 3), ("built", 3))


PLAN_NAMES = {
    "commercial": "CHOICE PPO",
    "medicare": "MEDICARE PART B",
    "medicare_advantage": "MEDICARE ADVANTAGE HMO",
    "medicaid": "MEDICAID MANAGED CARE",
    "tricare": "TRICARE SELECT",
}


@dataclass
class LinePlan:
    line: m.ClaimLine
    charge: m.Charge
    allowed_cents: int = 0
    paid_cents: int = 0
    contractual_cents: int = 0
    patient_cents: int = 0
    patient_carc: str = ""  # PR-1 deductible, PR-2 coinsurance, PR-3 copay
    denied: tuple[str, int] | None = None  # (CARC, cents) the payer refused on this line
    underpaid_cents: int = 0  # allowed below the contract by this much (a CO-45 too large)


@dataclass
class ClaimPlan:
    built: BuiltSession
    claim: m.Claim
    lines: list[LinePlan]
    payer_key: str
    route: str
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
    appeal_id: int | None = None  # the level 1 appeal, once sent
    written_off_on: date | None = None
    patient_payments: list[tuple[date, int]] = field(default_factory=list)
    patient_write_off_on: date | None = None
    corrected_on: date | None = None  # the payer reversed its payment and paid it again


# Days a payer takes to decide a level 1 appeal it upholds.
APPEAL_DECISION_DAYS = 45


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
        self.day = builder.today  # the day of the event being played
        self.system = system_actor("demo")
        self.billing = self._actor("billing", Role.BILLING)
        self.director = self._actor("director", Role.ADMIN)
        self.front_desk = self._actor("front_desk", Role.FRONT_DESK)
        routing = RoutingSettings.of(builder.practice)
        self.clearinghouse = SimulatedClearinghouse(name=routing.receiver_name, id=routing.receiver_id)
        # The clearinghouse's 277CA answers, by the morning they arrive.
        self.answers: dict[date, list[tuple[ClaimPlan, bool]]] = defaultdict(list)
        self.received_files = 0
        self.payer_offices: dict[str, SimulatedPayer] = {}

    def _actor(self, key: str, role: Role) -> Actor:
        user = self.b.users[key]
        return Actor(user.id, {self.pid: frozenset({role})}, source_ip="127.0.0.1", label="demo")

    def run(self) -> None:
        flow = ClaimFlow(self)
        flow.run()
        self._plan_claims(flow.billed())
        self._schedule_charges()
        for plan in self.plans:
            self._schedule_claim(plan)
        for day, answers in sorted(self.answers.items()):
            self._at(day, self._claim_acknowledgments, day, answers)
        monday = self.today - timedelta(days=self.today.weekday() + 7 * STATUS_INQUIRY_WEEKS)
        while monday <= self.today:  # Monday mornings: ask about overdue claims (276)
            self._at(monday, self._status_inquiries, monday)
            monday += timedelta(days=7)
        self._schedule_remittances()
        self._schedule_patient_only()
        self.events.sort(key=lambda event: (event[0], event[1]))
        minute_of_day: dict[date, int] = defaultdict(int)
        for number, (day, _, action) in enumerate(self.events, start=1):
            self.day = day
            minute_of_day[day] += 1  # the day's events from 9:00 on, a minute apart, in order
            with self.recording(day, 9, minute_of_day[day]):
                action()
            if number % RELEASE_EVERY == 0:
                self._release()
        self._release()
        self._work_items()
        self._eligibility_checks()
        self.db.flush()

    @contextmanager
    def recording(self, day: date, hour: int, minute: int = 0) -> Iterator[None]:
        """Write what happens inside the block as having happened on ``day`` at that local
        time: the services stamp rows, status changes and audit entries with the current
        moment, and the demo's year of work is written in a minute."""
        local = datetime.combine(day, time(hour), tzinfo=self.b.tz) + timedelta(minutes=minute)
        with recording_at(local.astimezone(UTC)):
            yield
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

    def _plan_claims(self, billed: list[SessionBilling]) -> None:
        """A plan for each claim the flow built; the submitted ones get their future."""
        ids = [sb.claim_id for sb in billed if sb.claim_id is not None]
        claims: dict[int, m.Claim] = {}
        lines: dict[int, list[m.ClaimLine]] = defaultdict(list)
        for start in range(0, len(ids), FLUSH_EVERY):
            chunk = ids[start : start + FLUSH_EVERY]
            claims.update((c.id, c) for c in self.db.scalars(select(m.Claim).where(m.Claim.id.in_(chunk))))
            query = (
                select(m.ClaimLine).where(m.ClaimLine.claim_id.in_(chunk)).order_by(m.ClaimLine.line_number)
            )
            for line in self.db.scalars(query):
                lines[line.claim_id].append(line)
        for sb in billed:
            if sb.claim_id is None:
                continue
            charges = {c.id: c for c in sb.built.charges}
            key = sb.built.plan.payer_key
            plan = ClaimPlan(
                sb.built,
                claims[sb.claim_id],
                [LinePlan(line, charges[line.charge_id or 0]) for line in lines[sb.claim_id]],
                key,
                self.b.practice_payers[key].billing_route,
                ready_on=sb.ready_on,
                submitted_on=sb.submitted_on,
            )
            if plan.submitted_on is not None:
                self._plan_path(plan)
            self.plans.append(plan)

    def _plan_path(self, plan: ClaimPlan) -> None:
        """Dates of everything that will happen to the claim (some after today)."""
        rng = self.rng
        seed = self.b.payer_seeds[plan.payer_key]
        submitted = plan.submitted_on
        assert submitted is not None
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
        # Now and then a payer allows less than its contract says (an underpayment alert),
        # and reprocesses it some weeks later (a reversal and a corrected payment).
        underpaid = plan.decision == "paid" and rng.random() < UNDERPAID_SHARE
        for index, lp in enumerate(plan.lines):
            billed = lp.line.charge_cents
            allowed = min(billed, rates.get(lp.line.procedure_code, billed))
            if partial and index > 0:  # the add-on line is bundled (CO-97): denied whole
                lp.denied = ("97", billed)
                continue
            lp.allowed_cents = allowed
            lp.contractual_cents = billed - allowed
            if deductible:
                patient, lp.patient_carc = allowed, "1"
            elif copay_left:
                patient, lp.patient_carc = min(copay_left, allowed), "3"
                copay_left -= patient
            elif seed.kind in {"commercial", "medicare", "tricare"}:
                patient, lp.patient_carc = allowed * 20 // 100, "2"
            else:
                patient = 0
            lp.patient_cents = patient
            lp.paid_cents = allowed - patient
            if partial and len(plan.lines) == 1:  # the payer cut the level of service (CO-150)
                short = lp.paid_cents * rng.randint(15, 40) // 100
                lp.paid_cents -= short
                lp.denied = ("150", short)
            if underpaid and lp.paid_cents > 1000 and index == 0:
                lp.underpaid_cents = allowed * rng.randint(6, 12) // 100
        if underpaid and plan.decided_on and rng.random() < 0.5:
            plan.corrected_on = plan.decided_on + timedelta(days=rng.randint(14, 35))
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

    def _schedule_claim(self, plan: ClaimPlan) -> None:
        p = plan
        if p.submitted_on is None:
            return  # built and not sent yet (or on purpose never)
        assert p.accepted_on is not None
        if p.route == "clearinghouse":
            # The batch's 999 came back the afternoon it was sent (ClaimFlow); the payers'
            # answers come in the clearinghouse's 277CA files.
            if p.rejected_on and p.resubmitted_on:
                self.answers[p.rejected_on].append((p, False))
                self._at(p.resubmitted_on, lambda: self._resubmit(p))
            self.answers[p.accepted_on].append((p, True))
        else:
            self._at(p.accepted_on, lambda: self._accept(p))
        if p.adjudicated_on:
            source = EventSource.X12_277 if p.route == "clearinghouse" else EventSource.PORTAL
            self._at(
                p.adjudicated_on, lambda: self._move(p, S.ADJUDICATED, source, "finalized, payment pending")
            )
        if not p.decided_on:
            return
        if p.decision == "denied":  # the denial itself comes in the payer's 835 that day
            if p.appealed_on:
                self._at(p.appealed_on, lambda: self._appeal(p))
                upheld_on = p.appealed_on + timedelta(days=APPEAL_DECISION_DAYS)
                if p.appeal_won_on is None:  # the payer upholds its denial
                    self._at(upheld_on, lambda: self._appeal_lost(p, upheld_on))
            if p.written_off_on:
                self._at(p.written_off_on, lambda: self._write_off_claim(p))
        for paid_on, amount in p.patient_payments:
            self._at(paid_on, self._patient_pays, p, paid_on, amount)
        if p.patient_write_off_on:
            self._at(p.patient_write_off_on, lambda: self._write_off_patient(p))

    def _claim_acknowledgments(self, day: date, answers: list[tuple[ClaimPlan, bool]]) -> None:
        """The morning's 277CA from the clearinghouse, ingested as the billing login would:
        accepted claims get the payer's claim control number, rejected ones the reason."""
        replies = [
            ClaimAnswer(
                plan.claim.number,
                accepted=True,
                payer_claim_control_number=f"{day:%y%j}{self.rng.randint(10**8, 10**9 - 1)}",
            )
            if accepted
            else ClaimAnswer(
                plan.claim.number,
                accepted=False,
                category="A7",
                status_code="33",
                message="SUBSCRIBER AND SUBSCRIBER ID NOT FOUND",
            )
            for plan, accepted in answers
        ]
        text = self.clearinghouse.acknowledge(replies, at=self._local(day, 8))
        self.receive_file("277CA", day, text)

    def _status_inquiries(self, day: date) -> None:
        """The weekly 276 for claims past their payer's expected days to pay, answered by the
        clearinghouse's real-time 277 a few minutes later: still in process (P1) for what the
        payer has not decided yet; a claim already decided or finalized is not answered and
        will be asked about again."""
        written = write_status_inquiries(self.db, actor=self.billing, practice_id=self.pid, today=day)
        if not written.text:
            return
        plans = {plan.claim.number: plan for plan in self.plans}

        def payer(asked: ClaimInquiry) -> StatusAnswer | None:
            plan = plans.get(asked.patient_control_number)
            if plan is None:
                return None
            decided = plan.adjudicated_on or plan.decided_on
            if decided is not None and decided <= day:
                return None
            return StatusAnswer("P1", "20", message="CLAIM IS IN PROCESS")

        answered_at = self._local(day, 9) + timedelta(minutes=5)
        with recording_at(answered_at):
            reply = self.clearinghouse.answer_inquiries(written.text, payer, at=answered_at)
            if reply:
                self.receive_file("277", day, reply)

    def _eligibility_checks(self) -> None:
        """This morning's real-time 270/271 run for the clients seen lately: each primary
        coverage asked about as of today, answered by the clearinghouse (active with the plan,
        copay, coinsurance and deductible left; inactive when the coverage has ended; now and
        then refused for a member id the payer does not know), and the 271 ingested."""
        since = self.today - timedelta(days=ELIGIBILITY_SEEN_WITHIN_DAYS)
        seen = {b.row.client_id for b in self.sessions if b.row.service_on >= since}
        coverages = self.db.scalars(
            select(m.Coverage)
            .join(m.Payer, m.Payer.id == m.Coverage.payer_id)
            .where(
                m.Payer.edi_payer_id != "",  # a payer the clearinghouse reaches
                m.Coverage.practice_id == self.pid,
                m.Coverage.priority == "primary",
                m.Coverage.member_id != "",  # a card on file to ask about
                m.Coverage.client_id.in_(seen),
            )
            .order_by(m.Coverage.id)
        ).all()
        kinds = {self.b.payers[key].id: seed.kind for key, seed in self.b.payer_seeds.items()}
        for number, coverage in enumerate(coverages):
            said = self._payer_knows(coverage, kinds.get(coverage.payer_id, "commercial"), number)
            asked_at = self._local(self.today, 7)
            with recording_at(asked_at):
                request = request_eligibility(
                    self.db, actor=self.front_desk, coverage_id=coverage.id, as_of=self.today
                )
            answered_at = asked_at + timedelta(seconds=20)
            reply = self.clearinghouse.answer_eligibility(
                request.text, partial(_always, said), at=answered_at
            )
            with recording_at(answered_at):
                self.receive_file("271", self.today, reply)

    def _payer_knows(self, coverage: m.Coverage, kind: str, number: int) -> EligibilityAnswer:
        if coverage.ends_on is not None and coverage.ends_on < self.today:
            return InactiveCoverage(ended_on=coverage.ends_on)
        if number % ELIGIBILITY_REFUSED_ONE_IN == 2:
            return EligibilityRefusal("72")  # invalid/missing member id: the front desk checks the card
        rng = self.rng
        begins = coverage.effective_on or self.today.replace(month=1, day=1)
        commercial = kind in {"commercial", "medicare_advantage"}
        return ActiveCoverage(
            plan=PLAN_NAMES.get(kind, "PPO"),
            begins_on=begins,
            copay_cents=coverage.copay_cents or None,
            coinsurance_basis_points=2000
            if kind in {"commercial", "medicare", "tricare"} and not coverage.copay_cents
            else None,
            deductible_remaining_cents=rng.choice((0, 0, 25_000, 50_000, 120_000)) if commercial else None,
            out_of_pocket_remaining_cents=rng.choice((150_000, 310_000, 480_000)) if commercial else None,
            group_number=coverage.group_number,
        )

    def receive_file(self, kind: str, day: date, text: str) -> None:
        """Ingest a file the clearinghouse sent (a 999 or 277CA), through the X12 service."""
        self.received_files += 1
        name = f"{kind}-{day:%Y%m%d}-{self.received_files:05d}.x12"
        ingest(self.db, actor=self.billing, practice_id=self.pid, filename=name, data=text.encode())

    def send_batch(self, day: date, claim_ids: list[int], *, hour: int) -> None:
        """Send claims in an 837P file (``x12_batches.write_batch``: control numbers taken, the
        file stored, the batch recorded as sent and each claim moved to submitted), hand it to
        the clearinghouse, and ingest the 999 it answers with twenty minutes later."""
        sent_at = self._local(day, hour)
        with recording_at(sent_at):
            written = write_batch(self.db, actor=self.billing, practice_id=self.pid, claim_ids=claim_ids)
            rows = self.db.scalars(
                select(m.Submission).where(m.Submission.batch_id == written.batch_id)
            ).all()
            for row in rows:
                row.clearinghouse_reference = f"CH{self.rng.randint(10**9, 10**10 - 1)}"
            self.db.flush()
        answered_at = sent_at + timedelta(minutes=20)
        reply = self.clearinghouse.receive(written.text, at=answered_at)
        with recording_at(answered_at):
            self.receive_file("999", day, reply)

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

    def _resubmit(self, plan: ClaimPlan) -> None:
        """The member id corrected from the client's card, the claim is made ready again and
        goes out as is (frequency 1) in an afternoon file of its own, keeping its number."""
        assert plan.resubmitted_on is not None
        # In the afternoon; today's before the demo's noon.
        hour = 10 if plan.resubmitted_on == self.today else 16
        with recording_at(self._local(plan.resubmitted_on, hour - 1)):
            self._move(
                plan, S.READY, EventSource.USER, "member id corrected from the insurance card", self.billing
            )
        self.send_batch(plan.resubmitted_on, [plan.claim.id], hour=hour)

    def _accept(self, plan: ClaimPlan) -> None:
        """A claim sent outside the clearinghouse is received by the payer (277CAs do that for
        the clearinghouse's)."""
        if plan.route == "simplepractice":
            claim = self._move(plan, S.ACCEPTED, EventSource.IMPORT, "SimplePractice: received by payer")
        else:
            claim = self._move(plan, S.ACCEPTED, EventSource.PORTAL, "portal: In Process")
        claim.payer_claim_control_number = f"{plan.accepted_on:%y%j}{self.rng.randint(10**8, 10**9 - 1)}"

    def _appeal(self, plan: ClaimPlan) -> None:
        """The level 1 appeal of the claim's denial (posted from the 835 that day), sent by
        billing before its deadline; won when the plan says so (the payer then pays)."""
        assert plan.appealed_on is not None
        won = plan.appeal_won_on is not None and plan.appeal_won_on <= self.today
        self.db.flush()
        denials = list(self.db.scalars(select(m.Denial).where(m.Denial.claim_id == plan.claim.id)))
        for denial in denials:
            denial.resolution = "overturned" if won else "appealed"
        recovered = sum(lp.paid_cents for lp in plan.lines) if won else 0
        appeal = m.Appeal(
            practice_id=self.pid,
            claim_id=plan.claim.id,
            denial_id=denials[0].id if denials else None,
            level=1,
            status="won" if won else "submitted",
            argument="Records and the treatment plan attached; services were medically necessary "
            "and authorized as documented.",
            appealed_cents=sum(d.amount_cents for d in denials) or recovered,
            deadline_on=min((d.appeal_deadline_on for d in denials if d.appeal_deadline_on), default=None),
            enclosures=["Progress notes", "Treatment plan"],
            submitted_on=plan.appealed_on,
            decided_on=plan.appeal_won_on if won else None,
            recovered_cents=recovered,
            created_by_user_id=self.billing.user_id,
        )
        self.db.add(appeal)
        self.db.flush()  # before the move: it reloads what it touches
        plan.appeal_id = appeal.id  # by id: the history commits in batches and lets go of rows
        self._move(plan, S.APPEALED, EventSource.USER, "level 1 appeal sent", self.billing)

    def _appeal_lost(self, plan: ClaimPlan, upheld_on: date) -> None:
        """The payer upheld its denial: the appeal is lost and the claim is denied again (a
        second level, a write-off or the client's bill is the next person's decision)."""
        appeal = self.db.get_one(m.Appeal, plan.appeal_id)
        appeal.status, appeal.decided_on = "lost", upheld_on
        appeal.outcome_note = "Payer upheld the denial on review."
        for denial in self.db.scalars(select(m.Denial).where(m.Denial.claim_id == plan.claim.id)):
            denial.resolution = "open"
        self.db.flush()  # before the move: it reloads what it touches
        self._move(plan, S.DENIED, EventSource.USER, "level 1 appeal upheld by the payer", self.billing)

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
        """The day's charges post on their date of service in one daily charge batch (one
        ledger transaction): each charge to its payer or its client."""
        claim_of = {lp.charge.id: plan.claim.id for plan in self.plans for lp in plan.lines}
        by_day: dict[date, list[BuiltSession]] = defaultdict(list)
        for built in self.sessions:
            if built.charges:
                by_day[built.row.service_on].append(built)
        for day, sessions in sorted(by_day.items()):
            self._at(day, self._post_charges, day, sessions, claim_of)

    def _post_charges(self, day: date, sessions: list[BuiltSession], claim_of: dict[int, int]) -> None:
        lines: list[PostingLine] = []
        for built in sessions:
            coverage = built.plan.coverage
            guarantor_id = built.plan.guarantor.id
            for charge in built.charges:
                ref = ChargeRef(charge.id, built.row.client_id, claim_of.get(charge.id))
                if coverage is None or charge.patient_only:
                    lines += charge_to_patient(charge.fee_cents, ref, guarantor_id)
                else:
                    lines += charge_to_insurance(
                        charge.fee_cents, ref, InsuranceRef(coverage.id, coverage.payer_id)
                    )
        count = sum(len(built.charges) for built in sessions)
        memo = f"charges of {day}: {count} charge(s), {len(sessions)} session(s)"
        self._post(K.CHARGE, day, lines, memo, actor=self.billing)

    def _schedule_remittances(self) -> None:
        """The payers' 835s: one payment per payer and day (EFT, or now and then a check) for
        the claims it decided that day — paid, partially paid, denied — and for appeals it
        lost; a reprocessed claim comes back later as a reversal and its corrected payment.
        Each is written as the payer would send it and ingested through the real posting."""
        groups: dict[tuple[str, date], list[tuple[ClaimPlan, str]]] = defaultdict(list)
        for plan in self.plans:
            if not plan.decision or plan.decided_on is None:
                continue
            groups[(plan.payer_key, plan.decided_on)].append((plan, "decided"))
            if plan.appeal_won_on is not None:
                groups[(plan.payer_key, plan.appeal_won_on)].append((plan, "appeal_won"))
            if plan.corrected_on is not None:
                groups[(plan.payer_key, plan.corrected_on)].append((plan, "corrected"))
        recent = sorted(g for g in groups if self.today - timedelta(days=60) <= g[1] <= self.today)
        recoupments = set(self.rng.sample(recent, k=min(RECOUPMENTS, len(recent))))
        strays = set(self.rng.sample(recent, k=min(STRAY_CLAIMS, len(recent))))
        for (key, era_on), decided in sorted(groups.items()):
            extras = {"recoupment": (key, era_on) in recoupments, "stray": (key, era_on) in strays}
            self._at(era_on, self._remit, era_on, key, decided, extras)

    def _payer_office(self, key: str) -> SimulatedPayer:
        office = self.payer_offices.get(key)
        if office is None:
            seed = self.b.payer_seeds[key]
            tax_id = f"{int(hashlib.sha256(key.encode()).hexdigest(), 16) % 10**9:09d}"
            office = SimulatedPayer(seed.name, seed.edi_payer_id, tax_id, f"ERA{seed.edi_payer_id}"[:15])
            self.payer_offices[key] = office
        return office

    def _payee(self) -> Payee:
        practice = self.b.practice
        return Payee(
            name=practice.legal_name.upper(),
            id=practice.group_npi,
            id_qualifier="XX",
            address=Address(
                practice.address_line1.upper(),
                "",
                practice.city.upper(),
                practice.state,
                practice.postal_code,
            ),
            references=(("TJ", practice.tax_id.replace("-", "")),),
        )

    def _decided(self, plan: ClaimPlan, why: str) -> ClaimPayment:
        """What the payer says about the claim: the decision, or the appeal's payment, or the
        first (underpaid) payment of a claim it reprocesses (``why`` "underpaid")."""
        coverage = plan.built.plan.coverage
        client = plan.built.plan.client
        assert coverage is not None
        denied = plan.decision == "denied" and why == "decided"
        lines = []
        for lp in plan.lines:
            line = lp.line
            if denied:
                assert plan.denial is not None
                adjustments: list[tuple[str, str, int]] = [("CO", plan.denial[1], line.charge_cents)]
                paid = 0
            else:
                short = lp.underpaid_cents if why == "underpaid" else 0
                adjustments = (
                    [("CO", "45", lp.contractual_cents + short)] if lp.contractual_cents + short else []
                )
                if lp.patient_cents:
                    adjustments.append(("PR", lp.patient_carc or "2", lp.patient_cents))
                if lp.denied is not None:
                    adjustments.append(("CO", *lp.denied))
                paid = lp.paid_cents - short
            lines.append(
                DecidedLine(
                    line.procedure_code,
                    line.charge_cents,
                    paid,
                    tuple(adjustments),
                    tuple(mod for mod in line.modifiers.split(":") if mod),
                    line.service_on,
                    line_control_number(plan.claim.number, line.line_number),
                )
            )
        return DecidedClaim(
            plan.claim.number,
            plan.claim.payer_claim_control_number
            or f"{plan.accepted_on or self.today:%y%j}{plan.claim.id:09d}",
            Party(
                "QC", client.last_name.upper(), coverage.member_id, "MI", client.first_name.upper(), kind="1"
            ),
            tuple(lines),
            status="4" if denied else "1",
            received_on=plan.accepted_on,
            filing_indicator=FILING_INDICATORS.get(self.b.payer_seeds[plan.payer_key].kind, "12"),
        ).payment()

    def _remit(
        self, era_on: date, key: str, decided: list[tuple[ClaimPlan, str]], extras: dict[str, bool]
    ) -> None:
        claims: list[ClaimPayment] = []
        for plan, why in decided:
            if why == "corrected":  # the underpaid payment taken back, the contract paid
                claims += [payer_sim_reversal(self._decided(plan, "underpaid")), self._decided(plan, "paid")]
            elif plan.corrected_on is not None and why == "decided":
                claims.append(self._decided(plan, "underpaid"))
            else:
                claims.append(self._decided(plan, why))
        if extras["stray"]:  # a claim of the practice's old billing system, not one of ours
            stray = claims[0]
            claims.append(
                replace(
                    stray,
                    patient_control_number=f"SP{self.rng.randint(10**6, 10**7 - 1)}",
                    payer_claim_control_number=f"OLD{self.rng.randint(10**7, 10**8 - 1)}",
                    patient=Party(
                        "QC", "HARGROVE", f"W{self.rng.randint(10**8, 10**9 - 1)}", "MI", "ELLIS", kind="1"
                    ),
                )
            )
        plb: list[tuple[str, int, str]] = []
        paid = sum(claim.paid_cents for claim in claims)
        if extras["recoupment"] and paid > 8000:  # an earlier overpayment withheld
            earlier = next(
                (
                    p
                    for p in self.plans
                    if p.payer_key == key and p.decision == "paid" and p.decided_on and p.decided_on < era_on
                ),
                None,
            )
            if earlier is not None:
                plb.append(
                    (
                        "WO",
                        min(paid // 3, self.rng.randint(2500, 6000)),
                        earlier.claim.payer_claim_control_number or earlier.claim.number,
                    )
                )
        seed = self.b.payer_seeds[key]
        late = [
            plan
            for plan, _ in decided
            if plan.submitted_on and (era_on - plan.submitted_on).days > PROMPT_PAY_DAYS
        ]
        if late and seed.kind in {"medicare", "medicaid"} and paid:  # prompt-pay interest
            plb.append(("L6", -max(1, paid * len(late) // (len(decided) * 400)), ""))
        check = self.rng.random() < CHECK_SHARE
        trace = (
            f"{self.rng.randint(10**6, 10**7 - 1)}" if check else f"{self.rng.randint(10**14, 10**15 - 1)}"
        )
        office = self._payer_office(key)
        remittance = office.remittance(
            self._payee(),
            claims,
            paid_on=era_on,
            trace_number=trace,
            method="CHK" if check else "ACH",
            provider_adjustments=plb,
        )
        routing = RoutingSettings.of(self.b.practice)
        text = office.file([remittance], receiver_id=routing.submitter_id, at=self._local(era_on, 7))
        self.receive_file("835", era_on, text)

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
        # Alerts (timely filing, stages overdue, sessions never billed) are the alert rules'
        # own: the demo runs them at the end of the build.
        query = select(m.Claim.id, m.Claim.status).where(m.Claim.practice_id == self.pid)
        statuses: dict[int, str] = dict(self.db.execute(query).all())
        # Claims waiting on their payer get their follow-ups from the follow-up engine
        # (services.followup), which the demo runs at the end of the build.
        for plan in self.plans:
            claim = plan.claim
            status = statuses[claim.id]
            if status == S.DENIED and plan.denial is not None and plan.decided_on is not None:
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


# --- the claims pipeline -------------------------------------------------------------------


@dataclass
class SessionBilling:
    """One billable session's way to a claim: when it is marked ready and sent (``None``: not
    by today), the stage it is deliberately left at, and the claim it became."""

    built: BuiltSession
    ready_on: date | None
    submitted_on: date | None
    left_at: str = ""  # documented | ready | built: deliberately never submitted
    claim_id: int | None = None
    clean: bool = False


class ClaimFlow:
    """The billing login's days: sessions marked ready, claims built and scrubbed, claims sent
    through each payer's route, all through the services, in date order."""

    def __init__(self, history: MoneyHistory) -> None:
        self.h = history
        self.db = history.db
        self.rng = history.rng
        self.today = history.today
        self.summary = history.b.summary
        self.billing = history.billing
        self.plans: list[SessionBilling] = []
        self.batches = 0

    def run(self) -> None:
        self.plans = [self._dates(b) for b in self._billable()]
        self._leave_some_behind()
        ready: dict[date, list[SessionBilling]] = defaultdict(list)
        sent: dict[date, list[SessionBilling]] = defaultdict(list)
        for sb in self.plans:
            if sb.ready_on is not None:
                ready[sb.ready_on].append(sb)
            if sb.submitted_on is not None:
                sent[sb.submitted_on].append(sb)
        for day in sorted(set(ready) | set(sent)):
            with self.h.recording(day, 10):  # the billing login's morning: ready and built
                self._mark_ready(day, ready.get(day, []))
            with self.h.recording(day, self._send_hour(day)):  # portals, then the batch
                self._send(day, sent.get(day, []))
            self.h._release()
        self.summary.never_submitted = {sb.built.row.id: sb.left_at for sb in self.plans if sb.left_at}

    def billed(self) -> list[SessionBilling]:
        return [sb for sb in self.plans if sb.claim_id is not None]

    # -- which sessions, when --

    def _billable(self) -> list[BuiltSession]:
        """Held, insured, note locked, an insurance charge, and no open flag holding it (those
        wait in the review queue)."""
        candidates = [
            b
            for b in self.h.sessions
            if b.row.appointment_status == "show"
            and b.row.note_status == "locked"
            and b.row.note_locked_at is not None
            and b.plan.coverage is not None
            and not b.row.self_pay
            and any(not c.patient_only for c in b.charges)
        ]
        facts = session_facts(self.db, [b.row for b in candidates])
        return [b for b in candidates if not facts[b.row.id].has_holding_flag]

    def _dates(self, built: BuiltSession) -> SessionBilling:
        """Ready a few days after the note is locked, on a weekday; sent a day or two later,
        within a week of the date of service. What falls after today has not happened."""
        row = built.row
        locked = _utc(row.note_locked_at).astimezone(self.h.b.tz).date()  # type: ignore[arg-type]
        ready_on = _weekday(locked + timedelta(days=self.rng.choice((0, 1, 1, 2))))
        submitted_on = _weekday(ready_on + timedelta(days=self.rng.choice((1, 1, 2))))
        latest = row.service_on + timedelta(days=SUBMITTED_WITHIN_DAYS)
        if submitted_on > latest:
            submitted_on = latest
            ready_on = max(locked, min(ready_on, latest - timedelta(days=1)))
        # Nothing is marked ready before the weekly export brought the session in (at eight);
        # a session a week old goes out by this morning at the latest (the missing-claims
        # check looks at 7 days, and the demo's "now" is noon).
        imported_on = _utc(row.created_at).astimezone(self.h.b.tz).date()
        ready_on = max(ready_on, imported_on)
        submitted_on = max(submitted_on, ready_on)
        week_old = row.service_on <= self.today - timedelta(days=7)
        if week_old:
            submitted_on = min(submitted_on, self.today)
            ready_on = min(ready_on, submitted_on)
        if ready_on > self.today:
            return SessionBilling(built, None, None)
        sent = submitted_on < self.today or (week_old and submitted_on == self.today)
        return SessionBilling(built, ready_on, submitted_on if sent else None)

    def _leave_some_behind(self) -> None:
        """About 3% of the billable sessions older than a week, never submitted on purpose."""
        older = [sb for sb in self.plans if (self.today - sb.built.row.service_on).days > 7]
        if not older:
            return
        count = max(1, round(len(older) * NEVER_SUBMITTED_SHARE))
        stages = [stage for stage, _ in NEVER_SUBMITTED_STAGES]
        weights = [weight for _, weight in NEVER_SUBMITTED_STAGES]
        for sb in self.rng.sample(older, count):
            sb.left_at = self.rng.choices(stages, weights=weights)[0]
            sb.submitted_on = None
            if sb.left_at == "documented":
                sb.ready_on = None

    # -- a day's work --

    def _mark_ready(self, day: date, plans: list[SessionBilling]) -> None:
        if not plans:
            return
        by_id = {sb.built.row.id: sb for sb in plans}
        result = mark_sessions_ready(self.db, actor=self.billing, session_ids=list(by_id))
        for refusal in result.refused:  # none expected: the demo marks only billable sessions
            self.summary.held_back[refusal.session_id] = refusal.reason
            by_id[refusal.session_id].submitted_on = None
        self.summary.sessions_marked_ready += len(result.marked)
        to_build = [sid for sid in result.marked if by_id[sid].left_at != "ready"]
        if not to_build:
            return
        built = build_claims(
            self.db, actor=self.billing, practice_id=self.h.pid, session_ids=to_build, today=day
        )
        for claim in built.claims:
            state = (
                claim.scrub
                if claim.scrub.is_clean
                else self._accept_warnings(claim.claim.id, claim.scrub, day)
            )
            if not state.is_clean:  # a draft a person must correct: say why
                held = state.errors or state.open_warnings
                for sid in claim.session_ids:
                    self.summary.held_back[sid] = held[0].message if held else "not scrubbed"
            for sid in claim.session_ids:
                by_id[sid].claim_id = claim.claim.id
                by_id[sid].clean = state.is_clean
            self.summary.claims_built += 1

    def _accept_warnings(self, claim_id: int, state: ScrubState, day: date) -> ScrubState:
        """Override the warnings the practice accepts (a reason each, audited), then scrub again."""
        if state.errors or any(p.code not in d.OVERRIDE_REASONS for p in state.open_warnings):
            return state  # left a draft for a person to correct
        for problem in state.open_warnings:
            override_warning(
                self.db,
                actor=self.billing,
                claim_id=claim_id,
                problem_code=problem.code,
                where=problem.where,
                reason=d.OVERRIDE_REASONS[problem.code],
            )
            self.summary.scrub_overrides += 1
        return mark_claim_ready(self.db, actor=self.billing, claim_id=claim_id, today=day)

    def _send(self, day: date, plans: list[SessionBilling]) -> None:
        sendable = [sb for sb in plans if sb.claim_id is not None and sb.clean]
        for sb in plans:
            if sb not in sendable:
                sb.submitted_on = None
        batch: list[int] = []
        references: dict[int, str] = {}
        for sb in sendable:
            assert sb.claim_id is not None
            route = self.h.b.practice_payers[sb.built.plan.payer_key].billing_route
            if route == "clearinghouse":
                batch.append(sb.claim_id)
            else:
                references[sb.claim_id] = self._reference(route, sb.built.plan.payer_key)
                self._count(route)
        if references:  # one bulk action on the ready list: each claim with its own reference
            with recording_at(self.h._local(day, self._send_hour(day, self.rng.randint(11, 14)))):
                record_submissions(
                    self.db,
                    actor=self.billing,
                    claim_ids=list(references),
                    submitted_on=day,
                    references=references,
                )
                self.db.flush()
        if batch:
            self._send_batch(day, batch)

    def _send_hour(self, day: date, hour: int = 14) -> int:
        """Claims go out after the morning's marking, mostly in the afternoon; today's before the
        demo's noon."""
        return 10 if day == self.today else hour

    def _reference(self, route: str, payer_key: str) -> str:
        """What the portal, SimplePractice or the mail room hands back for one claim."""
        if route == "portal":
            portal = self.h.b.payer_seeds[payer_key].portal
            assert portal is not None
            prefix, digits = d.PORTAL_REFERENCES[portal]
            return f"{prefix}{self.rng.randint(10 ** (digits - 1), 10**digits - 1)}"
        if route == "simplepractice":
            return f"SPC-{self.rng.randint(10**6, 10**7 - 1)}"
        return "CMS-1500 mailed"

    def _send_batch(self, day: date, claim_ids: list[int]) -> None:
        """Queue the day's clearinghouse claims, then send the file at four in the afternoon."""
        with self.h.recording(day, self._send_hour(day, 15)):
            queue_for_batch(self.db, actor=self.billing, claim_ids=claim_ids)
        self.batches += 1
        self.h.send_batch(day, claim_ids, hour=self._send_hour(day, 16))
        for _ in claim_ids:  # first sendings (a correction sent again is not counted twice)
            self._count("clearinghouse")

    def _count(self, route: str) -> None:
        self.summary.submitted_by_route[route] = self.summary.submitted_by_route.get(route, 0) + 1


def _always(said: EligibilityAnswer, asked: object) -> EligibilityAnswer:
    """The answer the payer gives, whatever is asked (one person per 270 here)."""
    return said


def _weekday(day: date) -> date:
    """The day, or the Monday after it when it falls on a weekend."""
    return day + timedelta(days=max(0, 7 - day.weekday())) if day.weekday() >= 5 else day


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
