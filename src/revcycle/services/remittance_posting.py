"""Posting 835 remittances: every payment once, every claim posted or waiting with a reason.

:func:`post_remittances` takes the payments of one 835 file already read and balanced
(:mod:`revcycle.services.x12_ingest` reads, balances and records the file) and, per payment:

1. **Once.** The payment (payer, TRN trace number, amount) is recorded with a unique key: the
   same payment again (another file, or eight workers at once) is reported "already posted"
   and changes nothing; the same trace with other content is an exception, never a merge.
2. **Money in.** A :class:`~revcycle.db.models.Payment` for BPR02 (EFT or check), and every
   claim payment (CLP) kept as a :class:`~revcycle.db.models.RemittanceClaim` with its
   adjustments row by row.
3. **Match.** Each CLP finds its claim by our patient control number (CLP01), then by the
   payer's claim control number (CLP07), then by patient + date of service + billed amount
   when exactly one claim fits; its service lines find our lines
   (:mod:`revcycle.domain.remittance_lines`).
4. **Post.** A matched claim posts one ledger transaction — insurance payment, contractual
   adjustment, patient responsibility (deductible, coinsurance, copay, non-covered), other
   adjustments, claim interest — keeps each denied amount as a :class:`Denial` (CARC, RARC;
   nothing posts, the payer still owes it) and moves to paid, partially paid or denied. A
   reversal (CLP02 22) posts the exact negation of the claim payment it reverses and takes
   the claim back to accepted; its correction posts anew. PLB amounts post at the payment
   level (interest income, recoupments withheld, other).
5. **Or wait.** Whatever is not matched with confidence becomes a typed exception (a work
   item of kind ``exception``) with suggestions: unmatched claim, line mismatch, reversal
   without original, crossover to another payer, duplicate payment, status conflict,
   recoupment, interest, duplicate trace. Its money is posted to ``unapplied`` so the cash
   always equals the payment; :func:`resolve_exception` applies it in one step.

A practice may review 835s before they post (``settings["era_posting"] = "review"``): the
payment is recorded and matched, nothing posts until :func:`approve_remittance` posts the
whole payment. The posting report (:class:`PaymentReport`) says what posted and what waits.
Nothing here commits; all or nothing per file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only
from sqlalchemy.orm.attributes import set_committed_value

from revcycle import collector
from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain import adjustment_reasons
from revcycle.domain.claim_payment_plan import (
    CONTRACTUAL,
    DENIAL,
    OTHER,
    PATIENT,
    ClaimPlan,
    Disposition,
    ServiceLine,
    plan_claim,
)
from revcycle.domain.claim_status import (
    LOCKED_STATUSES,
    ClaimStatus,
    EventSource,
    InvalidTransition,
    check_transition,
    status_from_835,
)
from revcycle.domain.ledger import Account, BalanceScope, PostingLine, negate
from revcycle.domain.ledger_events import (
    ChargeRef,
    InsuranceRef,
    TransactionKind,
    contractual_adjustment,
    transfer_to_patient,
)
from revcycle.domain.permissions import Permission
from revcycle.domain.remittance_lines import BilledLine, LineMatch, PaidLine, match_lines
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.money import format_cents
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import chunks, rows_by_id, table_of
from revcycle.services.bulk_writes import execute_many, insert_many
from revcycle.services.claims import ClaimMove, transition_claims
from revcycle.services.contracts import ExpectedLine, expected_allowed_many
from revcycle.services.guarantors import guarantors_for
from revcycle.services.ledger import (
    NewTransaction,
    balance,
    lines_of,
    post_transaction_ids,
    post_transactions,
)
from revcycle.services.work_items import mark_resolved
from revcycle.x12 import remit835
from revcycle.x12.remit835 import ClaimPayment, Remittance

__all__ = [
    "EXCEPTION_TYPES",
    "ManualLine",
    "PaymentReport",
    "approve_remittance",
    "post_claim_payment",
    "post_remittances",
    "resolve_exception",
]

K = TransactionKind
S = ClaimStatus

# The exception queue's types and what each means for the person working it.
UNMATCHED = "unmatched_claim"
LINE_MISMATCH = "line_mismatch"
REVERSAL_WITHOUT_ORIGINAL = "reversal_without_original"
CROSSOVER = "crossover"
DUPLICATE_PAYMENT = "duplicate_payment"
STATUS_CONFLICT = "status_conflict"
RECOUPMENT = "recoupment"
INTEREST = "interest"
DUPLICATE_TRACE = "duplicate_trace"
POST_CHUNK = 1000  # claim payments posted (and then let go of) at a time
UNDERPAYMENT = "underpayment"  # not an exception: an alert in its own work list
DEFAULT_TOLERANCE_CENTS = 100
EXCEPTION_TYPES: dict[str, str] = {
    UNMATCHED: "No claim of ours matches this claim payment with confidence",
    LINE_MISMATCH: "The claim matched, but a service line matches none of its lines",
    REVERSAL_WITHOUT_ORIGINAL: "A reversal of a payment we never posted",
    CROSSOVER: "The payer forwarded the claim to another payer (crossover)",
    DUPLICATE_PAYMENT: "The claim is already paid: this would pay it twice",
    STATUS_CONFLICT: "The claim's status does not allow this payment to post",
    RECOUPMENT: "The payer withheld money from this payment (recoupment or forwarding balance)",
    INTEREST: "The payer paid interest",
    DUPLICATE_TRACE: "A payment with the same trace number and amount, but different content",
}
# Exceptions that need only acknowledging: the money posted (or there is none).
_INFORMATIONAL = frozenset({CROSSOVER, INTEREST})
# PLB03-1 reason codes that withhold money for an earlier overpayment.
_RECOUPMENT_REASONS = frozenset({"WO", "FB", "72", "J1", "B2", "CW"})
_INTEREST_REASONS = frozenset({"L6"})
_NOT_POSTED_STATUSES = frozenset({"25"})  # predetermination: pricing only
_FORWARDED = "23"


@dataclass
class PaymentReport:
    """What one payment (835 transaction set) did: posted, waiting, or nothing (duplicate)."""

    trace_number: str
    amount_cents: int
    payer: str
    outcome: str  # posted | review | already_posted | duplicate_trace
    remittance_id: int | None = None
    posted_claims: int = 0
    posted_paid_cents: int = 0
    denied_claims: int = 0
    reversed_claims: int = 0
    exceptions: dict[str, int] = field(default_factory=dict)
    unapplied_cents: int = 0
    provider_adjustments_cents: int = 0
    underpaid_lines: int = 0
    underpaid_cents: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "trace_number": self.trace_number,
            "amount_cents": self.amount_cents,
            "payer": self.payer,
            "outcome": self.outcome,
            "remittance_id": self.remittance_id,
            "posted_claims": self.posted_claims,
            "posted_paid_cents": self.posted_paid_cents,
            "denied_claims": self.denied_claims,
            "reversed_claims": self.reversed_claims,
            "exceptions": dict(self.exceptions),
            "unapplied_cents": self.unapplied_cents,
            "provider_adjustments_cents": self.provider_adjustments_cents,
            "underpaid_lines": self.underpaid_lines,
            "underpaid_cents": self.underpaid_cents,
        }


# --- entry points --------------------------------------------------------------------------


def post_remittances(
    db: Session,
    *,
    actor: Actor,
    practice_id: int,
    inbound: m.X12InboundFile,
    remittances: Sequence[tuple[Remittance, str]],
) -> list[PaymentReport]:
    """Record and post each (remittance, its content hash) of an inbound 835 file."""
    actor.require(practice_id, Permission.POST_PAYMENTS)
    practice = db.get(m.Practice, practice_id)
    assert practice is not None
    mode = "review" if (practice.settings or {}).get("era_posting") == "review" else "auto"
    with collector.paused():  # thousands of rows, no cycles: see revcycle.collector
        return [
            _post_one(db, actor, practice, inbound, remittance, digest=digest, position=position, mode=mode)
            for position, (remittance, digest) in enumerate(remittances)
        ]


def approve_remittance(db: Session, *, actor: Actor, remittance_id: int) -> PaymentReport:
    """Post a payment held for review, as a whole."""
    row = _remittance(db, actor, remittance_id)
    if row.status != "review":
        raise Conflict(f"remittance {row.id} is {row.status}, not waiting for review")
    model = _model_of(db, row)
    poster = _Poster(db, actor, row, model)
    report = poster.run(review=False)
    row.posted_by_user_id = actor.user_id
    audit.record(
        db,
        actor=actor,
        practice_id=row.practice_id,
        action="update",
        entity="remittance",
        entity_id=row.id,
        before={"status": "review"},
        after={"status": row.status},
        reason="reviewed 835 approved for posting",
    )
    return report


@dataclass(frozen=True)
class ManualLine:
    """What a paper EOB says about one of our claim lines: paid, and each adjustment as
    (group, reason, cents) — CO-45 contractual, PR-1/2/3 the patient's, CO-50 denied ..."""

    line_number: int
    paid_cents: int
    adjustments: tuple[tuple[str, str, int], ...] = ()


def post_claim_payment(
    db: Session,
    *,
    actor: Actor,
    claim_id: int,
    payment: m.Payment,
    lines: Sequence[ManualLine],
    accounting_on: date,
) -> m.LedgerTransaction | None:
    """Post a claim's part of a payment received outside an 835 (a paper check and its EOB),
    exactly as an 835 claim payment posts: the same dispositions, denials and status move.
    Returns the ledger transaction (None when the EOB moved no money: a denial)."""
    actor.require(payment.practice_id, Permission.POST_PAYMENTS)
    claim = db.get(m.Claim, claim_id)
    if claim is None or claim.practice_id != payment.practice_id:
        raise InvalidInput(f"claim_id: claim {claim_id} is not one of this practice's claims")
    if claim.coverage_id is None:
        raise InvalidInput(f"claim {claim.number}: no coverage to post insurance money to")
    billed = {line.line_number: line for line in claim.lines}
    services = []
    for manual in lines:
        if manual.line_number not in billed:
            raise InvalidInput(f"lines: claim {claim.number} has no line {manual.line_number}")
        ours = billed[manual.line_number]
        match = LineMatch(
            PaidLine(ours.procedure_code, ours.charge_cents),
            BilledLine(ours.line_number, ours.procedure_code, ours.charge_cents),
            "manual",
        )
        services.append(ServiceLine(match, manual.paid_cents, manual.adjustments))
    plan = plan_claim(
        [BilledLine(x.line_number, x.procedure_code, x.charge_cents) for x in claim.lines],
        services,
        claim_paid_cents=sum(x.paid_cents for x in lines),
        claim_adjustments=(),
        interest_cents=0,
        classify=_classify,
    )
    paid = plan.paid_cents
    patient = sum(sum(line.patient_by_reason().values()) for line in plan.lines)
    status = "4" if not paid and not patient else "1"
    target = status_from_835(
        status,
        charge_cents=claim.billed_cents,
        paid_cents=paid,
        patient_responsibility_cents=patient,
        is_partial=plan.is_partial,
    )
    # A paper EOB need not explain every cent: what it leaves owed by the payer (paid in part,
    # no adjustment for the rest) keeps the claim partially paid, never paid.
    owed = balance(db, claim.practice_id, BalanceScope.CLAIM, claim.id, Account.AR_INSURANCE)
    if target is ClaimStatus.PAID and sum(line.settled_cents for line in plan.lines) < owed:
        target = ClaimStatus.PARTIALLY_PAID
    current = ClaimStatus(claim.status)
    if current in LOCKED_STATUSES:
        raise Conflict(f"claim {claim.number} is already paid; reverse its payment first")
    if target is not None and target != current:
        try:
            check_transition(current, target)
        except InvalidTransition as refused:
            raise InvalidInput(f"claim {claim.number}: {refused}") from None
    guarantor = guarantors_for(db, [claim.client]) if any(x.patient_by_reason() for x in plan.lines) else {}
    ledger_lines = _claim_lines(
        claim,
        [_Line.of(line) for line in claim.lines],
        plan,
        payment_id=payment.id,
        source=Account.CASH,
        guarantor_id=guarantor[claim.client_id].id if guarantor else None,
    )
    day_limit = db.scalars(
        select(m.PracticePayer.appeal_days).where(
            m.PracticePayer.practice_id == claim.practice_id, m.PracticePayer.payer_id == claim.payer_id
        )
    ).first()
    _insert(
        db,
        m.Denial,
        _denials(
            claim,
            [_Line.of(line) for line in claim.lines],
            plan,
            accounting_on + timedelta(days=day_limit or 180),
        ),
    )
    written = None
    if ledger_lines:
        spec = NewTransaction(
            K.INSURANCE_PAYMENT,
            accounting_on,
            tuple(ledger_lines),
            f"payment {payment.reference or payment.id}: claim {claim.number}",
            payment_id=payment.id,
        )
        (written,) = post_transactions(db, actor=actor, practice_id=claim.practice_id, transactions=[spec])
    if target is not None and target != current:
        detail = f"{payment.method} {payment.reference}: paid {format_cents(paid)}".strip()
        transition_claims(db, actor=actor, moves=[ClaimMove(claim.id, target, EventSource.USER, detail)])
    db.flush()
    return written


# --- one payment ---------------------------------------------------------------------------


def _post_one(
    db: Session,
    actor: Actor,
    practice: m.Practice,
    inbound: m.X12InboundFile,
    remittance: Remittance,
    *,
    digest: str,
    position: int,
    mode: str,
) -> PaymentReport:
    pay = remittance.payment
    amount = pay.signed_cents
    identifier = (remittance.trace.payer_id or remittance.payer.id or remittance.payer.name)[:80]
    report = PaymentReport(remittance.trace.number, amount, remittance.payer.name, "posted")
    row = m.Remittance(
        practice_id=practice.id,
        inbound_file_id=inbound.id,
        transaction_control_number=remittance.control_number,
        payer_id=_payer_id(db, remittance),
        payer_name=remittance.payer.name[:200],
        payer_identifier=identifier,
        trace_number=remittance.trace.number[:80],
        amount_cents=amount,
        method=pay.method,
        paid_on=pay.paid_on,
        payee_npi=remittance.payee.npi,
        payee_tax_id=remittance.payee.tax_id,
        content_sha256=digest,
        posting_mode=mode,
        summary={"position": position},
    )
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        return _already(db, actor, practice.id, row, report)
    report.remittance_id = row.id
    if amount or pay.method != "NON":
        row.payment_id = _payment(db, actor, row, inbound).id
    return _Poster(db, actor, row, remittance).run(review=mode == "review")


def _already(
    db: Session, actor: Actor, practice_id: int, row: m.Remittance, report: PaymentReport
) -> PaymentReport:
    """The same payment was recorded before: the same content is already posted; other
    content under the same trace is an exception, never a merge."""
    first = db.scalars(
        select(m.Remittance).where(
            m.Remittance.practice_id == practice_id,
            m.Remittance.payer_identifier == row.payer_identifier,
            m.Remittance.trace_number == row.trace_number,
            m.Remittance.amount_cents == row.amount_cents,
        )
    ).one()
    report.remittance_id = first.id
    if first.content_sha256 == row.content_sha256:
        report.outcome = "already_posted"
        return report
    report.outcome = "duplicate_trace"
    _raise_exception(
        db,
        actor,
        practice_id,
        DUPLICATE_TRACE,
        dedupe=f"835-trace:{first.id}:{row.content_sha256[:20]}",
        title=f"Payment {row.trace_number} ({format_cents(row.amount_cents)}) came again with other content",
        detail=(
            f"Remittance {first.id} already recorded this payer's trace {row.trace_number} for "
            f"{format_cents(row.amount_cents)}. This file's copy differs and was not posted: compare "
            "the two with the payer before posting anything by hand."
        ),
        remittance_id=first.id,
        severity="critical",
    )
    report.exceptions[DUPLICATE_TRACE] = 1
    return report


def _payer_id(db: Session, remittance: Remittance) -> int | None:
    """The catalog payer: by its payer id (REF*2U, N1*PR's id) or by name (or an alias)."""
    ids = [value for qualifier, value in remittance.payer.references if qualifier == "2U"]
    ids += [remittance.payer.id] if remittance.payer.id else []
    if ids:
        found = db.scalars(select(m.Payer.id).where(m.Payer.edi_payer_id.in_(ids))).first()
        if found is not None:
            return found
    name = remittance.payer.name.strip().lower()
    found = db.scalars(select(m.Payer.id).where(func.lower(m.Payer.name) == name)).first()
    if found is None:
        found = db.scalars(
            select(m.PayerAlias.payer_id).where(m.PayerAlias.alias == remittance.payer.name)
        ).first()
    return found


def _payment(db: Session, actor: Actor, row: m.Remittance, inbound: m.X12InboundFile) -> m.Payment:
    method = {"ACH": "eft", "CHK": "check", "FWT": "wire", "BOP": "eft"}.get(row.method, "other")
    payment = m.Payment(
        practice_id=row.practice_id,
        kind="insurance",
        method=method,
        amount_cents=row.amount_cents,
        received_on=row.paid_on or utcnow().date(),
        reference=row.trace_number,
        payer_id=row.payer_id,
        stored_file_id=inbound.stored_file_id,
        created_by_user_id=actor.user_id,
    )
    db.add(payment)
    db.flush()
    return payment


# --- the poster ----------------------------------------------------------------------------


@dataclass
class _NewClaimRow:
    """A remittance claim row this posting records: kept here while posting decides, then
    inserted with what was decided (one INSERT for the chunk; no ORM object per claim
    payment); ``id`` is known from then on."""

    values: dict[str, Any]  # the columns as received
    position: int
    details: dict[str, Any]
    id: int | None = None
    state: str = "received"
    claim_id: int | None = None
    match_method: str = ""
    reverses_id: int | None = None
    ledger_transaction_id: int | None = None

    @property
    def practice_id(self) -> int:
        return int(self.values["practice_id"])


_ClaimRow = m.RemittanceClaim | _NewClaimRow


@dataclass(frozen=True)
class _Line:
    """A billed claim line as posting reads it (a plain row, not an ORM object)."""

    id: int
    claim_id: int
    charge_id: int | None
    line_number: int
    procedure_code: str
    modifiers: str
    units: int
    charge_cents: int
    service_on: date

    @classmethod
    def of(cls, line: m.ClaimLine) -> _Line:
        return cls(*(getattr(line, name) for name in _LINE_COLUMNS))


_LINE_COLUMNS = tuple(field.name for field in dataclass_fields(_Line))


@dataclass
class _Claimed:
    """One CLP with its remittance claim row and, once found, its claim and plan."""

    clp: ClaimPayment
    row: _ClaimRow
    claim: m.Claim | None = None
    plan: ClaimPlan | None = None
    lines: Sequence[_Line] = ()


@dataclass(frozen=True)
class _Paid:
    """What posting reads of its payment's row, read once (not through the ORM per claim)."""

    id: int
    trace_number: str
    payment_id: int | None
    payer_id: int | None
    payer_name: str


class _Poster:
    """Posts one recorded payment: its claims, its PLBs, its exceptions, its report."""

    def __init__(self, db: Session, actor: Actor, row: m.Remittance, model: Remittance) -> None:
        self.db = db
        self.actor = actor
        self.row = row
        self.paid = _Paid(row.id, row.trace_number, row.payment_id, row.payer_id, row.payer_name)
        self.model = model
        self.pid = row.practice_id
        self.day = row.paid_on or utcnow().date()
        self.report = PaymentReport(row.trace_number, row.amount_cents, row.payer_name, "posted", row.id)
        self.transactions: list[tuple[NewTransaction, _ClaimRow | m.ProviderAdjustment | None]] = []
        self.new_rows: list[_Claimed] = []  # this chunk's claim payments whose rows wait
        self.waiting: list[tuple[_Claimed, str, str]] = []  # their exceptions, raised once inserted
        self.icns: list[tuple[m.Claim, str]] = []  # the payer's claim numbers learned
        self.moves: list[ClaimMove] = []
        self.denials: list[dict[str, Any]] = []
        self.status: dict[int, str] = {}  # a claim's status once the moves queued are made
        self.guarantors: dict[int, int] = {}  # client id -> guarantor id
        self.appeal_days: dict[int, int] = {}  # payer id -> the practice's appeal limit
        self.claims: dict[int, m.Claim] = {}  # the claims read for the chunk being posted

    def status_of(self, claim: m.Claim) -> ClaimStatus:
        return ClaimStatus(self.status.get(claim.id, claim.status))

    def move(self, claim: m.Claim, target: ClaimStatus, detail: str, *, correction: bool = False) -> None:
        self.moves.append(ClaimMove(claim.id, target, EventSource.X12_835, detail, correction))
        self.status[claim.id] = target

    def prepare(self, claimed: Sequence[_Claimed]) -> None:
        """Load at once what posting the matched claims needs: lines, guarantors, appeal limits."""
        claims = [c.claim for c in claimed if c.claim is not None]
        self.claims.update((claim.id, claim) for claim in claims)
        lines = _lines_of(self.db, claims)
        for item in claimed:
            if item.claim is not None:
                item.lines = lines.get(item.claim.id, [])
        clients = rows_by_id(self.db, m.Client, {claim.client_id for claim in claims})
        self.guarantors = {cid: g.id for cid, g in guarantors_for(self.db, list(clients.values())).items()}
        query = select(m.PracticePayer.payer_id, m.PracticePayer.appeal_days).where(
            m.PracticePayer.practice_id == self.pid
        )
        self.appeal_days = dict(self.db.execute(query).all())

    def run(self, *, review: bool) -> PaymentReport:
        """Post the payment's claims a chunk at a time — reversals first, so that a correction
        finds its claim reopened — letting go of each chunk's rows once written, so that a
        20,000-claim payment does not hold 20,000 claims and their lines in memory."""
        existing = {
            rc.position: rc
            for rc in self.db.scalars(
                select(m.RemittanceClaim).where(m.RemittanceClaim.remittance_id == self.paid.id)
            )
        }
        order = sorted(enumerate(self.model.claims), key=lambda pc: (not pc[1].is_reversal, pc[0]))
        for chunk in chunks(order, POST_CHUNK):
            claimed = self._claimed(chunk, existing)
            _match(self.db, self.pid, self.paid.payer_id, claimed)
            self.prepare(claimed)
            fresh = [
                c
                for c in claimed
                if c.row.state in ("received", "review")
                or (c.row.state == "exception" and c.row.ledger_transaction_id is None and not review)
            ]
            for item in fresh:
                self._decide(item, review=review)
            if not review:
                self._write()
                self._underpayments([c for c in fresh if c.row.state == "posted" and c.plan is not None])
            self._record_rows()  # held for review: what was decided so far
            self.claims = {}  # let go of: the session holds clean rows weakly, so they are freed
        if not review:
            self._provider_adjustments()
            self._write()
        self.row.status = "review" if review else ("exceptions" if self.report.exceptions else "posted")
        if not review:
            self.row.posted_at = utcnow()
            self.row.posted_by_user_id = self.actor.user_id
        self.report.outcome = "review" if review else "posted"
        self.row.summary = {**(self.row.summary or {}), **self.report.as_dict()}
        return self.report

    # -- the claims

    def _claimed(
        self, chunk: Sequence[tuple[int, ClaimPayment]], existing: dict[int, m.RemittanceClaim]
    ) -> list[_Claimed]:
        """The chunk's claim payments with their rows: those recorded before as they are, the
        others new (inserted once posting has decided, by :meth:`_record_rows`)."""
        result = []
        for position, clp in chunk:
            if position in existing:
                result.append(_Claimed(clp, existing[position]))
                continue
            values = _claim_values(self.row, clp, position)
            item = _Claimed(clp, _NewClaimRow(values, position, values["details"]))
            self.new_rows.append(item)
            result.append(item)
        return result

    def _record_rows(self) -> None:
        """Insert the new claim payments' rows with what was decided (many rows per INSERT,
        told apart by position), then their adjustments and the exceptions they raised."""
        fresh = [item for item in self.new_rows if isinstance(item.row, _NewClaimRow)]
        if fresh:
            rows = {}
            for item in fresh:
                row = item.row
                assert isinstance(row, _NewClaimRow)
                decided = {name: getattr(row, name) for name in _DECIDED}
                rows[row.position] = (row, {**row.values, **decided, "details": row.details})
            table = table_of(m.RemittanceClaim)
            statement = insert(table).returning(table.c.id, table.c.position)
            for rc_id, position in self.db.execute(statement, [values for _, values in rows.values()]):
                rows[position][0].id = rc_id
            self._keep_adjustments(fresh)
        self.new_rows = []
        for item, kind, why in self.waiting:
            self._exception(item, kind, why)
        self.waiting = []

    def _keep_adjustments(self, claimed: Sequence[_Claimed]) -> None:
        rows = []
        for item in claimed:
            for adjustment in item.clp.adjustments:
                rows.append(_adjustment_row(item.row, adjustment, None, ()))
            for number, line in enumerate(item.clp.lines, start=1):
                remarks = tuple(code for qualifier, code in line.remarks if qualifier == "HE")
                rows.extend(_adjustment_row(item.row, a, number, remarks) for a in line.adjustments)
        insert_many(self.db, table_of(m.RemittanceAdjustment), rows)  # never read back here

    def _decide(self, item: _Claimed, *, review: bool) -> None:
        clp, rc = item.clp, item.row
        if clp.status in _NOT_POSTED_STATUSES:
            rc.state = "skipped"
            return
        if clp.is_reversal:
            self._reverse(item, review=review)
            return
        if clp.status == _FORWARDED:
            self._wait(
                item,
                CROSSOVER,
                f"not ours to pay: the payer forwarded it to {_crossover(clp)}",
                review=review,
            )
            return
        if item.claim is None:
            suggestions = _suggestions(self.db, self.pid, clp)
            rc.details = {**rc.details, "suggestions": suggestions}
            hint = f" Suggested: {', '.join(s['number'] for s in suggestions)}." if suggestions else ""
            self._wait(
                item, UNMATCHED, f"no claim {clp.patient_control_number} of ours.{hint}", review=review
            )
            return
        claim = item.claim
        item.plan = _plan(clp, claim, item.lines)
        if item.plan.unmatched:
            codes = ", ".join(m_.paid.procedure_code for m_ in item.plan.unmatched)
            self._wait(
                item,
                LINE_MISMATCH,
                f"service line(s) {codes} match none of claim {claim.number}'s lines",
                review=review,
            )
            return
        problem = _status_problem(claim, self.status_of(claim), clp, item.plan)
        if problem is not None:
            self._wait(item, *problem, review=review)
            return
        if self.paid.payer_id is not None and claim.payer_id != self.paid.payer_id:
            self._wait(
                item,
                CROSSOVER,
                f"paid by {self.paid.payer_name}, but claim {claim.number} was billed to another payer",
                review=review,
            )
            return
        if claim.coverage_id is None:
            self._wait(
                item,
                STATUS_CONFLICT,
                f"claim {claim.number} has no coverage to post insurance money to",
                review=review,
            )
            return
        if review:
            rc.state = "review"
            return
        self._post_claim(item)

    def _post_claim(
        self, item: _Claimed, *, source: Account = Account.CASH, correction: bool = False
    ) -> None:
        claim, plan, clp, rc = item.claim, item.plan, item.clp, item.row
        assert claim is not None
        assert plan is not None
        assert claim.coverage_id is not None
        guarantor_id = self.guarantors.get(claim.client_id)
        lines = _claim_lines(
            claim, item.lines, plan, payment_id=self.paid.payment_id, source=source, guarantor_id=guarantor_id
        )
        if lines:
            kind = K.INSURANCE_PAYMENT
            memo = f"835 {self.paid.trace_number}: claim {claim.number} ({clp.status_meaning})"
            spec = NewTransaction(
                kind,
                self.day,
                tuple(lines),
                memo,
                f"835:{self.paid.id}:{rc.position}",
                payment_id=self.paid.payment_id,
            )
            self.transactions.append((spec, rc))
        deadline = self.day + timedelta(days=self.appeal_days.get(claim.payer_id, 180))
        self.denials += _denials(claim, item.lines, plan, deadline)
        target = _target(clp, plan)
        if target is not None and target != self.status_of(claim):
            detail = f"835 {self.paid.trace_number}: paid {format_cents(clp.paid_cents)}"
            self.move(claim, target, detail, correction=correction)
        if clp.status == "4" or (plan.denied_cents and not plan.paid_cents):
            self.report.denied_claims += 1
        if clp.payer_claim_control_number and not claim.payer_claim_control_number:
            self.icns.append((claim, clp.payer_claim_control_number[:50]))
        rc.state = "posted"
        self.report.posted_claims += 1
        self.report.posted_paid_cents += clp.paid_cents
        if clp.crossover_carrier is not None and clp.status in ("19", "20", "21"):
            self._exception(
                item, CROSSOVER, f"forwarded to {_crossover(clp)}: do not bill that payer yourself"
            )
        if plan.interest_cents or clp.interest_cents:
            self._exception(
                item,
                INTEREST,
                f"interest {format_cents(clp.interest_cents or plan.interest_cents)} "
                f"paid with claim {claim.number}",
            )

    def _reverse(self, item: _Claimed, *, review: bool) -> None:
        claim, rc = item.claim, item.row
        original = _original(self.db, claim, item.clp) if claim is not None else None
        if claim is None or original is None or original.ledger_transaction_id is None:
            self._wait(
                item, REVERSAL_WITHOUT_ORIGINAL, "no posted payment of this claim to reverse", review=review
            )
            return
        if review:
            rc.state = "review"
            return
        rc.reverses_id = original.id
        self._settle_alerts(original)
        # The money comes back out of this payment: a claim payment first parked in unapplied
        # and posted by hand took its cash from there, so its negation is cash again.
        undo = tuple(
            replace(line, account=Account.CASH, payment_id=self.paid.payment_id)
            if line.account in (Account.CASH, Account.UNAPPLIED)
            else line
            for line in negate(lines_of(self.db, original.ledger_transaction_id))
        )
        memo = (
            f"835 {self.paid.trace_number}: reversal of claim {claim.number} (remittance claim {original.id})"
        )
        spec = NewTransaction(
            K.INSURANCE_PAYMENT,
            self.day,
            undo,
            memo,
            f"835:{self.paid.id}:{rc.position}",
            reverses_transaction_id=original.ledger_transaction_id,
            payment_id=self.paid.payment_id,
        )
        self.transactions.append((spec, rc))
        if self.status_of(claim) != S.ACCEPTED:
            self.move(claim, S.ACCEPTED, f"835 {self.paid.trace_number}: payment reversed", correction=True)
        rc.state = "posted"
        self.report.reversed_claims += 1

    def _settle_alerts(self, original: m.RemittanceClaim) -> None:
        """An underpayment raised on a payment the payer has now reversed is settled: its
        correction is judged anew when it posts."""
        query = select(m.WorkItem).where(
            m.WorkItem.remittance_claim_id == original.id,
            m.WorkItem.kind == "underpayment",
            m.WorkItem.status != "resolved",
        )
        for alert in self.db.scalars(query):
            alert.status = "resolved"
            alert.resolution = f"the payer reversed this payment (835 {self.paid.trace_number})"
            alert.resolved_at = utcnow()
            alert.resolved_by_user_id = self.actor.user_id

    def _wait(self, item: _Claimed, kind: str, why: str, *, review: bool) -> None:
        """The claim payment waits in the exception queue; its money goes to unapplied."""
        item.row.state = "exception"
        self._exception(item, kind, why)
        paid = item.clp.paid_cents
        if paid and not review:
            line = PostingLine(Account.UNAPPLIED, -paid, payment_id=self.paid.payment_id)
            cash = PostingLine(Account.CASH, paid, payment_id=self.paid.payment_id)
            memo = (
                f"835 {self.paid.trace_number}: claim payment {item.clp.patient_control_number} "
                f"unapplied ({kind})"
            )
            spec = NewTransaction(
                K.INSURANCE_PAYMENT,
                self.day,
                (cash, line),
                memo,
                f"835:{self.paid.id}:{item.row.position}",
                payment_id=self.paid.payment_id,
            )
            self.transactions.append((spec, item.row))
            self.report.unapplied_cents += paid

    def _exception(self, item: _Claimed, kind: str, why: str) -> None:
        if item.row.id is None:  # raised once its row is inserted (it names the row)
            self.waiting.append((item, kind, why))
            return
        clp = item.clp
        self.report.exceptions[kind] = self.report.exceptions.get(kind, 0) + 1
        _raise_exception(
            self.db,
            self.actor,
            self.pid,
            kind,
            dedupe=f"835:{self.paid.id}:{item.row.position}:{kind}",
            title=f"{EXCEPTION_TYPES[kind]}: {clp.patient_control_number}, {format_cents(clp.paid_cents)}",
            detail=f"Payment {self.paid.trace_number} from {self.paid.payer_name}: {why}",
            remittance_id=self.paid.id,
            remittance_claim_id=item.row.id,
            claim_id=item.claim.id if item.claim else None,
            client_id=item.claim.client_id if item.claim else None,
            severity="info" if kind in _INFORMATIONAL else "warning",
        )

    # -- underpayments

    def _underpayments(self, posted: Sequence[_Claimed]) -> None:
        """A line allowed below what its contract (or fee schedule) says, by more than the
        practice's tolerance, raises an underpayment alert with the difference."""
        practice = self.db.get(m.Practice, self.pid)
        assert practice is not None
        tolerance = int(
            (practice.settings or {}).get("underpayment_tolerance_cents", DEFAULT_TOLERANCE_CENTS)
        )
        priced: list[tuple[_Claimed, _Line, int]] = []
        for item in posted:
            assert item.plan is not None
            if item.clp.is_reversal or item.claim is None:
                continue
            by_number = {line.line_number: line for line in item.lines}
            for plan in item.plan.lines:
                if plan.line_number in by_number and (plan.paid_cents or plan.total(PATIENT)):
                    allowed = plan.allowed_cents
                    if allowed is None:
                        allowed = plan.paid_cents + plan.total(PATIENT)
                    priced.append((item, by_number[plan.line_number], allowed))
        if not priced:
            return
        lines = [
            ExpectedLine(
                item.claim.payer_id, line.procedure_code, line.modifiers, line.service_on, line.units
            )
            for item, line, _ in priced
            if item.claim is not None
        ]
        expected = expected_allowed_many(self.db, practice_id=self.pid, lines=lines)
        for (item, line, allowed), found in zip(priced, expected, strict=True):
            if found is None or found.amount_cents - allowed <= tolerance:
                continue
            assert item.claim is not None
            short = found.amount_cents - allowed
            self.report.underpaid_lines += 1
            self.report.underpaid_cents += short
            _raise_exception(
                self.db,
                self.actor,
                self.pid,
                UNDERPAYMENT,
                kind="underpayment",
                dedupe=f"underpayment:{item.row.id}:{line.line_number}",
                title=(
                    f"Underpaid {format_cents(short)}: claim {item.claim.number} line {line.line_number} "
                    f"({line.procedure_code})"
                ),
                detail=(
                    f"{self.paid.payer_name} allowed {format_cents(allowed)} for {line.procedure_code}"
                    f"{' ' + line.modifiers if line.modifiers else ''} on {line.service_on}; the "
                    f"{found.source.replace('_', ' ')} {found.source_name} says "
                    f"{format_cents(found.amount_cents)}. "
                    f"Payment {self.paid.trace_number}."
                ),
                remittance_id=self.paid.id,
                remittance_claim_id=item.row.id,
                claim_id=item.claim.id,
                client_id=item.claim.client_id,
                severity="warning",
            )

    # -- the payment level

    def _provider_adjustments(self) -> None:
        rows = []
        for adjustment in self.model.provider_adjustments:
            row = m.ProviderAdjustment(
                practice_id=self.pid,
                remittance_id=self.paid.id,
                reason_code=adjustment.reason[:2],
                reference=adjustment.reference[:50],
                amount_cents=adjustment.amount_cents,
                fiscal_period_on=adjustment.fiscal_period_end,
            )
            rows.append((adjustment, row))
        if not rows:
            return
        self.db.add_all([row for _, row in rows])
        self.db.flush()
        for adjustment, row in rows:
            account = _plb_account(adjustment.reason)
            cents = adjustment.amount_cents  # positive: withheld from the payment
            lines = (
                PostingLine(Account.CASH, -cents, payment_id=self.paid.payment_id),
                PostingLine(account, cents, payment_id=self.paid.payment_id),
            )
            memo = f"835 {self.paid.trace_number}: PLB {adjustment.reason} {adjustment.reference}".strip()
            spec = NewTransaction(
                K.INSURANCE_PAYMENT,
                self.day,
                lines,
                memo,
                f"835:{self.paid.id}:plb:{row.id}",
                payment_id=self.paid.payment_id,
            )
            self.transactions.append((spec, row))
            self.report.provider_adjustments_cents += cents
            kind = (
                RECOUPMENT
                if adjustment.reason in _RECOUPMENT_REASONS
                else INTEREST
                if adjustment.reason in _INTEREST_REASONS
                else ""
            )
            if kind:
                self.report.exceptions[kind] = self.report.exceptions.get(kind, 0) + 1
                _raise_exception(
                    self.db,
                    self.actor,
                    self.pid,
                    kind,
                    dedupe=f"835:{self.paid.id}:plb:{row.id}",
                    title=f"{EXCEPTION_TYPES[kind]}: PLB {adjustment.reason} {format_cents(-cents)}",
                    detail=(
                        f"Payment {self.paid.trace_number} from {self.paid.payer_name}: provider-level "
                        f"adjustment {adjustment.reason} of {format_cents(cents)}"
                        + (f" for {adjustment.reference}" if adjustment.reference else "")
                    ),
                    remittance_id=self.paid.id,
                    severity="info" if kind == INTEREST else "warning",
                )

    def _write(self) -> None:
        if self.transactions:
            written = post_transaction_ids(
                self.db,
                actor=self.actor,
                practice_id=self.pid,
                transactions=[spec for spec, _ in self.transactions],
            )
            for (_, owner), txn_id in zip(self.transactions, written, strict=True):
                if owner is not None:
                    owner.ledger_transaction_id = txn_id
        self._record_rows()
        _insert(self.db, m.Denial, self.denials)
        _learn_icns(self.db, self.icns)
        self.icns = []
        if self.moves:
            transition_claims(self.db, actor=self.actor, moves=self.moves, loaded=self.claims)
        self.db.flush()
        self.transactions, self.moves, self.denials = [], [], []


def _insert(db: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Core INSERT of rows (the columns' defaults applied), no ORM objects."""
    if rows:
        db.execute(insert(table_of(model)), list(rows))


def _learn_icns(db: Session, learned: Sequence[tuple[m.Claim, str]]) -> None:
    """Keep the payer's claim number on claims that had none (one executemany)."""
    table = table_of(m.Claim)
    statement = (
        update(table)
        .where(table.c.id == bindparam("claim_key"))
        .values(payer_claim_control_number=bindparam("icn"))
    )
    execute_many(db, statement, [{"claim_key": claim.id, "icn": icn} for claim, icn in learned])
    for claim, icn in learned:  # what the UPDATE wrote, without reading it back
        set_committed_value(claim, "payer_claim_control_number", icn)


_DECIDED = ("state", "claim_id", "match_method", "reverses_id", "ledger_transaction_id")


# --- matching ------------------------------------------------------------------------------


def _claim_values(row: m.Remittance, clp: ClaimPayment, position: int) -> dict[str, Any]:
    """A new remittance claim row's columns, as received (posting decides the rest)."""
    patient = clp.patient
    details: dict[str, Any] = {
        "patient": {"last": patient.name, "first": patient.first_name, "id": patient.id} if patient else {},
        "from": clp.statement_from.isoformat() if clp.statement_from else None,
        "lines": [
            {
                "procedure": line.procedure.code,
                "modifiers": list(line.procedure.modifiers),
                "charge_cents": line.charge_cents,
                "paid_cents": line.paid_cents,
                "service_on": line.service_from.isoformat() if line.service_from else None,
            }
            for line in clp.lines
        ],
    }
    return {
        "practice_id": row.practice_id,
        "remittance_id": row.id,
        "position": position,
        "patient_control_number": clp.patient_control_number[:38],
        "status_code": clp.status,
        "charge_cents": clp.charge_cents,
        "paid_cents": clp.paid_cents,
        "patient_responsibility_cents": clp.patient_responsibility_cents or 0,
        "payer_claim_control_number": clp.payer_claim_control_number[:50],
        "state": "received",
        "details": details,
    }


def _adjustment_row(
    rc: _ClaimRow, adjustment: remit835.Adjustment, line_number: int | None, remarks: tuple[str, ...]
) -> dict[str, Any]:
    return {
        "practice_id": rc.practice_id,
        "remittance_claim_id": rc.id,
        "line_number": line_number,
        "claim_line_id": None,
        "group_code": adjustment.group[:2],
        "reason_code": adjustment.reason[:10],
        "amount_cents": adjustment.amount_cents,
        "quantity": adjustment.quantity[:15],
        "remarks": ",".join(remarks)[:200],
    }


def _match(db: Session, practice_id: int, payer_id: int | None, claimed: Sequence[_Claimed]) -> None:
    """Our number, then the payer's claim control number, then patient + date + billed."""
    for item in claimed:  # a row matched before (reviewed, or resolved by hand) keeps its claim
        if item.row.claim_id is not None:
            item.claim = db.get(m.Claim, item.row.claim_id)
    by_number = _claims_where(
        db, practice_id, m.Claim.number, [c.clp.patient_control_number for c in claimed if c.claim is None]
    )
    for item in claimed:
        if item.claim is None and item.clp.patient_control_number in by_number:
            _matched(item, by_number[item.clp.patient_control_number], "our_number")
    icns = [
        c.clp.payer_claim_control_number
        for c in claimed
        if c.claim is None and c.clp.payer_claim_control_number
    ]
    by_icn = _claims_where(db, practice_id, m.Claim.payer_claim_control_number, icns)
    for item in claimed:
        if item.claim is None and item.clp.payer_claim_control_number in by_icn:
            _matched(item, by_icn[item.clp.payer_claim_control_number], "payer_icn")
    for item in claimed:
        if item.claim is None and not item.clp.is_reversal:
            found = _by_patient(db, practice_id, payer_id, item.clp)
            if len(found) == 1:
                _matched(item, found[0], "patient_dos_amount")


def _matched(item: _Claimed, claim: m.Claim, method: str) -> None:
    item.claim = claim
    item.row.claim_id = claim.id
    item.row.match_method = method


_CLAIM_COLUMNS = (
    m.Claim.id,
    m.Claim.practice_id,
    m.Claim.number,
    m.Claim.status,
    m.Claim.client_id,
    m.Claim.payer_id,
    m.Claim.coverage_id,
    m.Claim.payer_claim_control_number,
)


def _claims_where(db: Session, practice_id: int, column: Any, values: Sequence[str]) -> dict[str, m.Claim]:
    """Value -> the one claim holding it; a value two claims hold is no confident match."""
    found: dict[str, m.Claim] = {}
    shared: set[str] = set()
    for chunk in chunks(sorted(set(values))):
        query = (
            select(m.Claim)
            .options(load_only(*_CLAIM_COLUMNS))  # what posting reads; the rest loads if asked
            .where(m.Claim.practice_id == practice_id, column.in_(chunk))
        )
        for claim in db.scalars(query):
            key = getattr(claim, column.key)
            if key in found:
                shared.add(key)
            found[key] = claim
    return {key: claim for key, claim in found.items() if key not in shared}


def _service_dates(clp: ClaimPayment) -> set[date]:
    days = {line.service_from for line in clp.lines if line.service_from}
    if clp.statement_from:
        days.add(clp.statement_from)
    return days


def _by_patient(db: Session, practice_id: int, payer_id: int | None, clp: ClaimPayment) -> list[m.Claim]:
    """Claims of a client with the CLP's patient name, on one of its dates, for its charge."""
    patient, days = clp.patient, _service_dates(clp)
    if patient is None or not patient.name or not days:
        return []
    query = (
        select(m.Claim)
        .join(m.Client, m.Client.id == m.Claim.client_id)
        .where(
            m.Claim.practice_id == practice_id,
            m.Claim.service_from_on.in_(days),
            m.Claim.billed_cents == clp.charge_cents,
            func.lower(m.Client.last_name) == patient.name.lower(),
        )
    )
    if patient.first_name:
        query = query.where(func.lower(m.Client.first_name) == patient.first_name.lower())
    if payer_id is not None:
        query = query.where(m.Claim.payer_id == payer_id)
    return list(db.scalars(query.limit(3)))


def _suggestions(db: Session, practice_id: int, clp: ClaimPayment) -> list[dict[str, Any]]:
    """Claims worth a look for an unmatched claim payment: the same patient name, or the same
    date and billed amount; closest first, at most five."""
    patient, days = clp.patient, _service_dates(clp)
    conditions = []
    if patient is not None and patient.name:
        conditions.append(func.lower(m.Client.last_name) == patient.name.lower())
    if days:
        conditions.append((m.Claim.service_from_on.in_(days)) & (m.Claim.billed_cents == clp.charge_cents))
    if not conditions:
        return []
    query = (
        select(m.Claim, m.Client)
        .join(m.Client, m.Client.id == m.Claim.client_id)
        .where(m.Claim.practice_id == practice_id, or_(*conditions))
        .order_by(m.Claim.service_from_on.desc())
        .limit(50)
    )
    scored = []
    for claim, client in db.execute(query):
        score = (claim.billed_cents == clp.charge_cents) + (claim.service_from_on in days) * 2
        if patient is not None:
            score += (client.last_name.lower() == patient.name.lower()) * 2
            score += client.first_name.lower() == (patient.first_name or "").lower()
        scored.append((-score, claim.id, claim))
    return [
        {"claim_id": claim.id, "number": claim.number, "score": -neg}
        for neg, _, claim in sorted(scored, key=lambda s: (s[0], s[1]))[:5]
    ]


def _lines_of(db: Session, claims: Sequence[m.Claim]) -> dict[int, list[_Line]]:
    found: dict[int, list[_Line]] = {}
    columns = [getattr(m.ClaimLine, name) for name in _LINE_COLUMNS]
    for chunk in chunks(sorted({claim.id for claim in claims})):
        query = select(*columns).where(m.ClaimLine.claim_id.in_(chunk)).order_by(m.ClaimLine.line_number)
        for values in db.execute(query):
            line = _Line(*values)
            found.setdefault(line.claim_id, []).append(line)
    return found


def _original(db: Session, claim: m.Claim, reversal: ClaimPayment) -> m.RemittanceClaim | None:
    """The posted claim payment a reversal undoes: the latest of this claim, not reversed yet,
    paying what the reversal takes back."""
    reversed_ids = select(m.RemittanceClaim.reverses_id).where(m.RemittanceClaim.reverses_id.is_not(None))
    query = (
        select(m.RemittanceClaim)
        .where(
            m.RemittanceClaim.claim_id == claim.id,
            m.RemittanceClaim.state == "posted",
            m.RemittanceClaim.status_code != remit835.REVERSAL,
            m.RemittanceClaim.paid_cents == -reversal.paid_cents,
            m.RemittanceClaim.id.not_in(reversed_ids),
        )
        .order_by(m.RemittanceClaim.id.desc())
    )
    return db.scalars(query).first()


# --- planning and posting lines ------------------------------------------------------------


def _classify(group: str, reason: str, paid_cents: int) -> tuple[Disposition, str]:
    found = adjustment_reasons.classify(group, reason, line_paid_cents=paid_cents)
    patient_reason = str(found.patient_reason) if found.patient_reason else ""
    return _DISPOSITIONS[found.disposition], patient_reason


_DISPOSITIONS = {str(found): Disposition(str(found)) for found in adjustment_reasons.Disposition}


def _plan(
    clp: ClaimPayment, claim: m.Claim, lines: Sequence[_Line], *, spread_unmatched: bool = False
) -> ClaimPlan:
    billed = [
        BilledLine(
            line.line_number,
            line.procedure_code,
            line.charge_cents,
            tuple(mod for mod in line.modifiers.split(":") if mod),
            line.service_on,
        )
        for line in lines
    ]
    paid = [
        PaidLine(
            (svc.original_procedure or svc.procedure).code,
            svc.charge_cents,
            (svc.original_procedure or svc.procedure).modifiers,
            svc.service_from,
            svc.line_control_number,
        )
        for svc in clp.lines
    ]
    services = []
    claim_level = [(a.group, a.reason, a.amount_cents) for a in clp.adjustments]
    for svc, match in zip(clp.lines, match_lines(claim.number, billed, paid), strict=True):
        if match.billed is None and spread_unmatched:
            claim_level += [(a.group, a.reason, a.amount_cents) for a in svc.adjustments]
            continue
        remarks = tuple(code for qualifier, code in svc.remarks if qualifier == "HE")
        services.append(
            ServiceLine(
                match,
                svc.paid_cents,
                tuple((a.group, a.reason, a.amount_cents) for a in svc.adjustments),
                remarks,
                svc.allowed_cents,
            )
        )
    return plan_claim(
        billed,
        services,
        claim_paid_cents=clp.paid_cents,
        claim_adjustments=claim_level,
        interest_cents=clp.interest_cents,
        classify=_classify,
    )


def _target(clp: ClaimPayment, plan: ClaimPlan) -> ClaimStatus | None:
    return status_from_835(
        clp.status,
        charge_cents=max(clp.charge_cents, 0),
        paid_cents=clp.paid_cents,
        patient_responsibility_cents=max(clp.patient_responsibility_cents or 0, 0),
        is_partial=plan.is_partial,
    )


def _status_problem(
    claim: m.Claim, current: ClaimStatus, clp: ClaimPayment, plan: ClaimPlan
) -> tuple[str, str] | None:
    """Why this claim payment cannot post to the claim as it stands, if it cannot."""
    if current in LOCKED_STATUSES:
        return DUPLICATE_PAYMENT, f"claim {claim.number} is already paid; posting this would pay it twice"
    try:
        target = _target(clp, plan)
    except ValueError as refused:  # a negative payment outside a reversal, an unknown CLP02
        return STATUS_CONFLICT, str(refused)
    if target is None or target == current:
        return None
    try:
        check_transition(current, target)
    except InvalidTransition as refused:
        return STATUS_CONFLICT, str(refused)
    return None


def _signed(lines: Iterable[PostingLine], cents: int) -> tuple[PostingLine, ...]:
    return tuple(lines) if cents > 0 else negate(lines)


def _claim_lines(
    claim: m.Claim,
    billed: Sequence[_Line],
    plan: ClaimPlan,
    *,
    payment_id: int | None,
    source: Account,
    guarantor_id: int | None,
) -> list[PostingLine]:
    """The ledger lines of one claim's plan (see :mod:`revcycle.domain.ledger_events`)."""
    assert claim.coverage_id is not None
    insurance = InsuranceRef(claim.coverage_id, claim.payer_id)
    charges = {line.line_number: line.charge_id for line in billed}
    out: list[PostingLine] = []
    for line in plan.lines:
        ref = ChargeRef(charges.get(line.line_number), claim.client_id, claim.id)
        if line.paid_cents:
            cents = abs(line.paid_cents)
            legs = (
                PostingLine(source, cents, ref.charge_id, ref.claim_id, ref.client_id, payment_id=payment_id),
                PostingLine(
                    Account.AR_INSURANCE,
                    -cents,
                    ref.charge_id,
                    ref.claim_id,
                    ref.client_id,
                    insurance.coverage_id,
                    payment_id=payment_id,
                    payer_id=insurance.payer_id,
                ),
            )
            out += _signed(legs, line.paid_cents)
        contractual = line.total(CONTRACTUAL)
        if contractual:
            out += _signed(contractual_adjustment(abs(contractual), ref, insurance), contractual)
        other = line.total(OTHER)
        if other:
            legs = (
                PostingLine(Account.ADJUSTMENT_OTHER, abs(other), ref.charge_id, ref.claim_id, ref.client_id),
                PostingLine(
                    Account.AR_INSURANCE,
                    -abs(other),
                    ref.charge_id,
                    ref.claim_id,
                    ref.client_id,
                    insurance.coverage_id,
                    payer_id=insurance.payer_id,
                ),
            )
            out += _signed(legs, other)
        for cents in line.patient_by_reason().values():
            assert guarantor_id is not None
            out += _signed(transfer_to_patient(abs(cents), ref, insurance, guarantor_id), cents)
    if plan.interest_cents:
        out += _signed(
            (
                PostingLine(
                    source,
                    abs(plan.interest_cents),
                    claim_id=claim.id,
                    client_id=claim.client_id,
                    payment_id=payment_id,
                ),
                PostingLine(
                    Account.INTEREST_INCOME,
                    -abs(plan.interest_cents),
                    claim_id=claim.id,
                    client_id=claim.client_id,
                ),
            ),
            plan.interest_cents,
        )
    return out


def _denials(
    claim: m.Claim, billed: Sequence[_Line], plan: ClaimPlan, deadline: date
) -> list[dict[str, Any]]:
    """A denial row per denied amount, with its category and default action; nothing posts."""
    line_ids = {line.line_number: line.id for line in billed}
    found = []
    for line in plan.lines:
        for adjusted in line.adjustments:
            if adjusted.disposition is not DENIAL:
                continue
            info = adjustment_reasons.classify(
                adjusted.group, adjusted.reason, line_paid_cents=line.paid_cents
            )
            found.append(
                {
                    "practice_id": claim.practice_id,
                    "claim_id": claim.id,
                    "claim_line_id": line_ids.get(line.line_number),
                    "group_code": adjusted.group,
                    "carc": adjusted.reason,
                    "rarc": ",".join(adjusted.remarks)[:40],
                    "amount_cents": adjusted.amount_cents,
                    "category": str(info.category),
                    "default_action": str(info.default_action),
                    "appeal_deadline_on": deadline,
                }
            )
    return found


def _plb_account(reason: str) -> Account:
    if reason in _INTEREST_REASONS:
        return Account.INTEREST_INCOME
    if reason in _RECOUPMENT_REASONS:
        return Account.RECOUPMENT
    return Account.ADJUSTMENT_OTHER


def _crossover(clp: ClaimPayment) -> str:
    carrier = clp.crossover_carrier
    return carrier.name or carrier.id if carrier is not None else "another payer"


# --- exceptions ----------------------------------------------------------------------------


def _raise_exception(
    db: Session,
    actor: Actor,
    practice_id: int,
    rule: str,
    *,
    dedupe: str,
    title: str,
    detail: str,
    remittance_id: int | None,
    remittance_claim_id: int | None = None,
    claim_id: int | None = None,
    client_id: int | None = None,
    severity: str = "warning",
    kind: str = "exception",
) -> m.WorkItem:
    earlier = db.scalars(
        select(m.WorkItem).where(m.WorkItem.practice_id == practice_id, m.WorkItem.dedupe_key == dedupe[:200])
    ).first()
    if earlier is not None:  # raised before (a reviewed payment re-decided, a manual post)
        return earlier
    item = m.WorkItem(
        practice_id=practice_id,
        kind=kind,
        severity=severity,
        title=title[:200],
        detail=detail,
        rule=rule,
        dedupe_key=dedupe[:200],
        owner_role="billing",
        claim_id=claim_id,
        client_id=client_id,
        remittance_id=remittance_id,
        remittance_claim_id=remittance_claim_id,
        due_on=utcnow().date(),
    )
    db.add(item)
    return item


def _remittance(db: Session, actor: Actor, remittance_id: int) -> m.Remittance:
    row = db.get(m.Remittance, remittance_id)
    if row is None or not (actor.is_system or row.practice_id in actor.practice_ids):
        raise NotFound(f"remittance {remittance_id} not found")
    actor.require(row.practice_id, Permission.POST_PAYMENTS)
    return row


def _model_of(db: Session, row: m.Remittance) -> Remittance:
    """The payment as read from its stored file (the file is the record; rows are derived)."""
    from revcycle.services.x12_ingest import remittances_of

    inbound = db.get(m.X12InboundFile, row.inbound_file_id)
    assert inbound is not None
    stored = db.get(m.StoredFile, inbound.stored_file_id)
    assert stored is not None
    for remittance, digest in remittances_of(stored.filename, stored.content):
        if digest == row.content_sha256:
            return remittance
    raise InvalidInput(f"remittance {row.id}: its payment is no longer in stored file {stored.id}")


RESOLUTIONS = ("post_to_claim", "apply_recoupment", "acknowledge")


def resolve_exception(
    db: Session,
    *,
    actor: Actor,
    work_item_id: int,
    action: str,
    claim_id: int | None = None,
    note: str = "",
) -> m.WorkItem:
    """One-click resolution of a posting exception.

    * ``post_to_claim``: post the waiting claim payment to ``claim_id`` (an unmatched claim,
      a line mismatch — the lines no line of ours took spread at the claim level —, a duplicate
      payment or status conflict posted anyway as a correction); its money leaves unapplied;
    * ``apply_recoupment``: a recoupment applied to the claim it took money back for: the
      payer's balance on that claim reopens by the amount;
    * ``acknowledge``: seen; the money stays where it is (unapplied, or posted).
    """
    item = db.get(m.WorkItem, work_item_id)
    if (
        item is None
        or item.kind != "exception"
        or not (actor.is_system or item.practice_id in actor.practice_ids)
    ):
        raise NotFound(f"posting exception {work_item_id} not found")
    actor.require(item.practice_id, Permission.POST_PAYMENTS)
    if item.status == "resolved":
        raise Conflict(f"posting exception {item.id} is already resolved: {item.resolution}")
    if action not in RESOLUTIONS:
        raise InvalidInput(f"action: {action!r} is not one of {', '.join(RESOLUTIONS)}")
    if action == "post_to_claim":
        resolution = _post_waiting(db, actor, item, claim_id)
    elif action == "apply_recoupment":
        resolution = _apply_recoupment(db, actor, item, claim_id)
    else:
        resolution = "acknowledged"
    note = note.strip()
    mark_resolved(
        db, actor=actor, item=item, resolution=f"{resolution}{': ' + note if note else ''}", action=action
    )
    _settle_remittance(db, item.remittance_id)
    db.flush()
    return item


def _claim_for(db: Session, actor: Actor, practice_id: int, claim_id: int | None) -> m.Claim:
    if claim_id is None:
        raise InvalidInput("claim_id: choose the claim to post to")
    claim = db.get(m.Claim, claim_id)
    if claim is None or claim.practice_id != practice_id:
        raise InvalidInput(f"claim_id: claim {claim_id} is not one of this practice's claims")
    return claim


def _post_waiting(db: Session, actor: Actor, item: m.WorkItem, claim_id: int | None) -> str:
    rc = db.get(m.RemittanceClaim, item.remittance_claim_id) if item.remittance_claim_id else None
    if rc is None or rc.state != "exception" or item.rule in (REVERSAL_WITHOUT_ORIGINAL, DUPLICATE_TRACE):
        raise InvalidInput(
            f"action: a {item.rule.replace('_', ' ')} cannot be posted to a claim; acknowledge it"
        )
    claim = _claim_for(db, actor, item.practice_id, claim_id or rc.claim_id)
    if claim.coverage_id is None:
        raise InvalidInput(f"claim_id: claim {claim.number} has no coverage to post insurance money to")
    row = db.get(m.Remittance, rc.remittance_id)
    assert row is not None
    model = _model_of(db, row)
    poster = _Poster(db, actor, row, model)
    waiting = _Claimed(model.claims[rc.position], rc, claim)
    poster.prepare([waiting])
    waiting.plan = _plan(waiting.clp, claim, waiting.lines, spread_unmatched=True)
    # Posting by hand over a duplicate payment or a status the table refuses is a correction.
    correction = _status_problem(claim, ClaimStatus(claim.status), waiting.clp, waiting.plan) is not None
    rc.claim_id, rc.match_method = claim.id, "manual"
    parked = rc.ledger_transaction_id is not None  # its money went to unapplied
    poster._post_claim(waiting, source=Account.UNAPPLIED if parked else Account.CASH, correction=correction)
    poster.transactions = [
        (replace(spec, idempotency_key=f"{spec.idempotency_key}:manual"), owner)
        for spec, owner in poster.transactions
    ]
    poster._write()
    return f"posted to claim {claim.number}"


def _apply_recoupment(db: Session, actor: Actor, item: m.WorkItem, claim_id: int | None) -> str:
    if item.rule != RECOUPMENT:
        raise InvalidInput("action: only a recoupment is applied to a claim")
    plb = db.scalars(
        select(m.ProviderAdjustment)
        .where(m.ProviderAdjustment.remittance_id == item.remittance_id)
        .where(m.ProviderAdjustment.reason_code.in_(_RECOUPMENT_REASONS))
        .order_by(m.ProviderAdjustment.id)
    ).first()
    if plb is None:
        raise InvalidInput("this exception has no recoupment to apply")
    if claim_id is None and plb.reference:
        claim_id = db.scalars(
            select(m.Claim.id).where(
                m.Claim.practice_id == item.practice_id,
                or_(m.Claim.number == plb.reference, m.Claim.payer_claim_control_number == plb.reference),
            )
        ).first()
    claim = _claim_for(db, actor, item.practice_id, claim_id)
    if claim.coverage_id is None:
        raise InvalidInput(f"claim_id: claim {claim.number} has no coverage")
    cents = plb.amount_cents
    legs = (
        PostingLine(
            Account.AR_INSURANCE,
            cents,
            claim_id=claim.id,
            client_id=claim.client_id,
            coverage_id=claim.coverage_id,
            payer_id=claim.payer_id,
        ),
        PostingLine(Account.RECOUPMENT, -cents, claim_id=claim.id, client_id=claim.client_id),
    )
    row = db.get(m.Remittance, item.remittance_id)
    assert row is not None
    spec = NewTransaction(
        K.INSURANCE_PAYMENT,
        row.paid_on or utcnow().date(),
        _signed(legs, cents) if cents > 0 else negate(legs),
        f"recoupment {plb.reason_code} {plb.reference} applied to claim {claim.number}",
        f"835-recoupment:{plb.id}",
        payment_id=row.payment_id,
    )
    post_transactions(db, actor=actor, practice_id=item.practice_id, transactions=[spec])
    item.claim_id = claim.id
    return f"recoupment of {format_cents(cents)} applied to claim {claim.number}"


def _settle_remittance(db: Session, remittance_id: int | None) -> None:
    """A payment whose exceptions are all resolved is posted."""
    if remittance_id is None:
        return
    row = db.get(m.Remittance, remittance_id)
    if row is None or row.status != "exceptions":
        return
    db.flush()
    waiting = db.scalar(
        select(func.count())
        .select_from(m.WorkItem)
        .where(
            m.WorkItem.remittance_id == remittance_id,
            m.WorkItem.kind == "exception",
            m.WorkItem.status != "resolved",
        )
    )
    if not waiting:
        row.status = "posted"


def exception_counts(db: Session, practice_id: int) -> Counter[str]:
    rows = db.execute(
        select(m.WorkItem.rule, func.count())
        .where(
            m.WorkItem.practice_id == practice_id,
            m.WorkItem.kind == "exception",
            m.WorkItem.status != "resolved",
        )
        .group_by(m.WorkItem.rule)
    )
    return Counter(dict(rows.all()))
