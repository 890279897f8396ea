"""837P batches from the database's claims: map, check, number, write, store, record.

:func:`claim_sets_for` turns stored claims into the plain 837P claim set the X12 writer takes
(billing entity from the practice, subscriber and patient from the coverage, rendering and
supervising providers, lines). :func:`write_batch` writes one interchange for ready claims
(or the claims of a queued batch): it checks every claim first, so a claim the payer would
reject refuses the whole batch before a control number is taken or a row written; then it
takes ISA13/GS06/ST02, writes the file, keeps it as a :class:`StoredFile` and records the
batch as sent, each claim moving to ``submitted``. It never commits.

Routing comes from ``practice.settings["x12"]`` (``submitter_id``, ``submitter_name``,
``contact_name``, ``contact_phone``, ``receiver_id``, ``receiver_name``,
``sender_qualifier``, ``receiver_qualifier``, ``usage`` T or P), each with a default.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain import scrubber as s
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.permissions import Permission
from revcycle.domain.remittance_lines import line_control_number
from revcycle.errors import InvalidInput
from revcycle.services import submissions
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import chunks, rows_by_id
from revcycle.services.claims import load_claims
from revcycle.services.claims_pipeline.scrubbing import ClaimFactsSource
from revcycle.services.stored_files import store_file
from revcycle.services.x12_control import Envelope, take_control_numbers
from revcycle.x12 import claim837 as x
from revcycle.x12.check837 import claim_set_problems
from revcycle.x12.envelope import format_control_number
from revcycle.x12.errors import X12Error
from revcycle.x12.write837 import Routing, write_837

__all__ = [
    "MAX_CLAIMS_PER_TRANSACTION",
    "RoutingSettings",
    "WrittenBatch",
    "claim_sets_for",
    "ready_claim_ids",
    "write_batch",
]

MAX_CLAIMS_PER_TRANSACTION = 5000  # the guide's recommended CLM limit per ST/SE
_QUEUED = "queued"
_FILING_INDICATORS = {"medicare": "MB", "medicaid": "MC", "bcbs": "BL", "tricare": "CH", "champva": "CH"}
_PATIENT_RELATIONSHIPS = {"spouse": "01", "01": "01", "child": "19", "19": "19"}  # else G8 (other)
_RESPONSIBILITY = {"primary": "P", "secondary": "S", "tertiary": "T"}


@dataclass(frozen=True)
class RoutingSettings:
    """The practice's X12 routing: who sends (ISA06, 1000A) and who receives (ISA08, 1000B)."""

    submitter_id: str
    submitter_name: str
    contact_name: str
    contact_phone: str
    receiver_id: str
    receiver_name: str
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    usage: str = "P"

    @classmethod
    def of(cls, practice: m.Practice) -> RoutingSettings:
        raw: Mapping[str, Any] = (practice.settings or {}).get("x12") or {}
        npi = practice.group_npi
        usage = str(raw.get("usage", "P")).upper()
        if usage not in {"T", "P"}:
            raise InvalidInput(f"x12 settings: usage {usage!r} is not T (test) or P (production)")
        return cls(
            submitter_id=str(raw.get("submitter_id") or npi or f"PRACTICE{practice.id}"),
            submitter_name=str(raw.get("submitter_name") or practice.legal_name or practice.name),
            contact_name=str(raw.get("contact_name") or "BILLING"),
            contact_phone=_digits(str(raw.get("contact_phone") or practice.phone)) or "0000000000",
            receiver_id=str(raw.get("receiver_id") or "CLEARINGHOUSE"),
            receiver_name=str(raw.get("receiver_name") or "CLEARINGHOUSE"),
            sender_qualifier=str(raw.get("sender_qualifier") or "ZZ"),
            receiver_qualifier=str(raw.get("receiver_qualifier") or "ZZ"),
            usage=usage,
        )

    def routing(self) -> Routing:
        return Routing(
            self.sender_qualifier,
            self.submitter_id,
            self.receiver_qualifier,
            self.receiver_id,
            application_sender=self.submitter_id,
            application_receiver=self.receiver_id,
            usage=self.usage,
        )


@dataclass(frozen=True)
class WrittenBatch:
    """A batch written and recorded as sent: its file, control numbers and claims."""

    batch_id: int
    stored_file_id: int
    filename: str
    text: str
    interchange_control_number: int
    group_control_number: int
    transaction_control_numbers: tuple[int, ...]
    claim_ids: tuple[int, ...]
    claim_numbers: tuple[str, ...]


def claim_sets_for(
    db: Session,
    *,
    practice_id: int,
    claim_ids: Sequence[int],
    reference: str = "",
    created_at: datetime.datetime | None = None,
) -> list[x.ClaimSet]:
    """The claims as 837P claim sets (one per transaction, at most 5000 claims each), in order."""
    practice = db.get_one(m.Practice, practice_id)
    routing = RoutingSettings.of(practice)
    claims = _claims_of_practice(db, practice_id, list(dict.fromkeys(claim_ids)))
    if not claims:
        raise InvalidInput("no claims given")
    source = ClaimFactsSource(db, claims)
    mapped = [_claim(db, source, claim) for claim in claims]
    when = created_at or utcnow()
    chunks = [
        mapped[i : i + MAX_CLAIMS_PER_TRANSACTION] for i in range(0, len(mapped), MAX_CLAIMS_PER_TRANSACTION)
    ]
    return [
        x.ClaimSet(
            submitter=x.Submitter(
                routing.submitter_name, routing.submitter_id, routing.contact_name, routing.contact_phone
            ),
            receiver=x.Receiver(routing.receiver_name, routing.receiver_id),
            reference=(reference or when.strftime("%Y%m%d%H%M%S"))[:48]
            + (f"-{n}" if len(chunks) > 1 else ""),
            created_at=when,
            claims=tuple(chunk),
        )
        for n, chunk in enumerate(chunks, start=1)
    ]


def ready_claim_ids(db: Session, practice_id: int) -> list[int]:
    """Every ready claim of the practice not queued in a batch (those go with their batch)."""
    queued = (
        select(m.Submission.claim_id)
        .join(m.SubmissionBatch, m.SubmissionBatch.id == m.Submission.batch_id)
        .where(m.SubmissionBatch.status == _QUEUED)
    )
    return list(
        db.scalars(
            select(m.Claim.id)
            .where(
                m.Claim.practice_id == practice_id,
                m.Claim.status == str(ClaimStatus.READY),
                m.Claim.id.not_in(queued),
            )
            .order_by(m.Claim.id)
        )
    )


def write_batch(db: Session, *, actor: Actor, practice_id: int, claim_ids: Sequence[int]) -> WrittenBatch:
    """Write ready (or queued) claims as one 837P interchange and record it as sent; all or nothing."""
    actor.require(practice_id, Permission.SUBMIT_CLAIMS)
    claims = load_claims(db, actor=actor, claim_ids=claim_ids)
    if not claims:
        raise InvalidInput("no claims given")
    queued_batch = _queued_batch(db, practice_id, claims)
    practice = db.get_one(m.Practice, practice_id)
    routing = RoutingSettings.of(practice)
    when = utcnow()
    claim_sets = claim_sets_for(
        db, practice_id=practice_id, claim_ids=[c.id for c in claims], created_at=when
    )
    problems = [problem for claim_set in claim_sets for problem in claim_set_problems(claim_set)]
    if problems:
        raise InvalidInput("nothing was written: " + "; ".join(_describe(problem) for problem in problems))
    batch = queued_batch or submissions.queue_for_batch(
        db, actor=actor, claim_ids=[c.id for c in claims], channel="clearinghouse"
    )
    [isa] = take_control_numbers(db, sender_id=routing.submitter_id, envelope=Envelope.INTERCHANGE)
    [gs] = take_control_numbers(db, sender_id=routing.submitter_id, envelope=Envelope.GROUP)
    sts = take_control_numbers(
        db, sender_id=routing.submitter_id, envelope=Envelope.TRANSACTION, count=len(claim_sets)
    )
    try:
        text = write_837(
            claim_sets,
            routing=routing.routing(),
            interchange_control_number=isa,
            group_control_number=gs,
            first_transaction_control_number=sts[0],
        )
    except X12Error as exc:  # the writer's own checks: the same refusal as above
        raise InvalidInput(f"nothing was written: {exc}") from None
    filename = f"837P-{format_control_number(isa)}.x12"
    stored = store_file(
        db,
        actor=actor,
        practice_id=practice_id,
        kind="837",
        direction="out",
        filename=filename,
        content=text.encode(),
    )
    batch.interchange_control_number = format_control_number(isa)
    batch.group_control_number = str(gs)
    batch.stored_file_id = stored.id
    submissions.record_batch_sent(
        db, actor=actor, batch_id=batch.id, reference=f"ISA13 {format_control_number(isa)} GS06 {gs}"
    )
    return WrittenBatch(
        batch_id=batch.id,
        stored_file_id=stored.id,
        filename=filename,
        text=text,
        interchange_control_number=isa,
        group_control_number=gs,
        transaction_control_numbers=tuple(sts),
        claim_ids=tuple(c.id for c in claims),
        claim_numbers=tuple(c.number for c in claims),
    )


# --- the batch -----------------------------------------------------------------------------


def _queued_batch(db: Session, practice_id: int, claims: Sequence[m.Claim]) -> m.SubmissionBatch | None:
    """The queued batch holding exactly these claims, or None when none of them is queued.

    Every claim must be ready; claims queued in a batch are sent with their whole batch.
    """
    refused = [
        f"claim {claim.number} is {claim.status}, not ready"
        for claim in claims
        if claim.practice_id != practice_id or claim.status != str(ClaimStatus.READY)
    ]
    if refused:
        raise InvalidInput("nothing was written: " + "; ".join(refused))
    rows = [
        row
        for chunk in chunks([c.id for c in claims])
        for row in db.execute(
            select(m.Submission.claim_id, m.SubmissionBatch)
            .join(m.SubmissionBatch, m.SubmissionBatch.id == m.Submission.batch_id)
            .where(m.Submission.claim_id.in_(chunk), m.SubmissionBatch.status == _QUEUED)
        )
    ]
    batches = {batch.id: batch for _, batch in rows}
    if not batches:
        return None
    if len(batches) > 1 or len({claim_id for claim_id, _ in rows}) != len(claims):
        raise InvalidInput(
            "nothing was written: the claims are not all queued in one batch; send each batch whole"
        )
    [batch] = batches.values()
    members = set(db.scalars(select(m.Submission.claim_id).where(m.Submission.batch_id == batch.id)))
    if members != {c.id for c in claims}:
        raise InvalidInput(f"nothing was written: batch {batch.id} holds other claims too; send it whole")
    return batch


# --- mapping a claim -----------------------------------------------------------------------


def _claims_of_practice(db: Session, practice_id: int, claim_ids: Sequence[int]) -> list[m.Claim]:
    """The claims in the order given (the session's own where it holds them), by chunks."""
    found = rows_by_id(db, m.Claim, claim_ids)
    for claim_id in claim_ids:
        claim = found.get(claim_id)
        if claim is None or claim.practice_id != practice_id:
            raise InvalidInput(f"claim {claim_id} is not a claim of practice {practice_id}")
    return [found[claim_id] for claim_id in claim_ids]


def _claim(db: Session, source: ClaimFactsSource, claim: m.Claim) -> x.Claim:
    facts = source.facts(claim, today=claim.service_from_on)
    coverage = db.get(m.Coverage, claim.coverage_id) if claim.coverage_id else None
    payer = db.get_one(m.Payer, claim.payer_id)
    billing = _billing_provider(facts.billing_provider)
    subscriber, patient = _subscriber_and_patient(facts, coverage, payer)
    rendering = facts.rendering_provider
    return x.Claim(
        billing_provider=billing,
        subscriber=subscriber,
        payer=x.Payer(payer.name, payer.edi_payer_id),
        patient_control_number=claim.number,
        total_charge_cents=claim.billed_cents,
        place_of_service=claim.place_of_service,
        diagnoses=tuple(_icd(code) for code in facts.diagnosis_codes),
        lines=tuple(_line(facts, line, number) for number, line in enumerate(facts.lines, start=1)),
        patient=patient,
        frequency=claim.frequency or "1",
        prior_authorization=claim.prior_authorization_number
        or (facts.authorization.number if facts.authorization else ""),
        payer_claim_control_number=claim.payer_claim_control_number if claim.frequency in {"7", "8"} else "",
        rendering=_provider(rendering) if rendering and rendering.npi != billing.npi else None,
        supervising=_provider(facts.supervising_provider) if facts.supervising_provider else None,
    )


def _address(address: s.Address) -> x.Address:
    return x.Address(
        line1=address.line1,
        line2=address.line2,
        city=address.city,
        state=address.state,
        postal_code=_digits(address.postal_code),
    )


def _billing_provider(provider: s.BillingProvider) -> x.BillingProvider:
    return x.BillingProvider(
        name=provider.name,
        npi=provider.npi,
        ein=_digits(provider.tax_id),
        taxonomy=provider.taxonomy_code,
        address=_address(provider.address),
    )


def _subscriber_and_patient(
    facts: s.ClaimFacts, coverage: m.Coverage | None, payer: m.Payer
) -> tuple[x.Subscriber, x.Patient | None]:
    person = facts.coverage.subscriber
    is_self = facts.coverage.client_is_subscriber
    subscriber = x.Subscriber(
        last_name=person.last_name,
        first_name=person.first_name,
        member_id=facts.coverage.member_id,
        responsibility=_RESPONSIBILITY.get(coverage.priority if coverage else "primary", "P"),
        relationship=x.PATIENT_IS_SUBSCRIBER if is_self else "",
        group_number=facts.coverage.group_number,
        filing_indicator=_FILING_INDICATORS.get(payer.kind.strip().lower(), "CI"),
        address=_address(person.address) if is_self and person.address else None,
        birth_date=person.date_of_birth,
        sex=person.sex if person.sex in {"F", "M", "U"} else "U",
    )
    if is_self:
        return subscriber, None
    client = facts.patient
    if client.address is None or client.date_of_birth is None:
        raise InvalidInput(f"claim {facts.claim_number}: the patient's address and date of birth are needed")
    relationship = facts.coverage.relationship_to_subscriber.strip().lower()
    patient = x.Patient(
        last_name=client.last_name,
        first_name=client.first_name,
        relationship=_PATIENT_RELATIONSHIPS.get(relationship, "G8"),
        birth_date=client.date_of_birth,
        sex=client.sex if client.sex in {"F", "M", "U"} else "U",
        address=_address(client.address),
    )
    return subscriber, patient


def _provider(provider: s.Provider) -> x.Provider:
    return x.Provider(provider.last_name, provider.first_name, provider.npi, provider.taxonomy_code)


def _line(facts: s.ClaimFacts, line: s.ClaimLine, number: int) -> x.ServiceLine:
    return x.ServiceLine(
        control_number=line_control_number(facts.claim_number, number),
        procedure_code=line.procedure_code,
        charge_cents=line.charge_cents,
        units=line.units,
        service_date=facts.line_service_on(line),
        diagnosis_pointers=line.diagnosis_pointers or (1,),
        modifiers=line.modifiers,
        place_of_service=line.place_of_service,
    )


def _describe(problem: X12Error) -> str:
    """The checker's message (it names the claim), then the element it concerns."""
    where = problem.element or problem.segment_id
    return f"{problem.message} ({where})" if where else problem.message


def _icd(code: str) -> str:
    return code.replace(".", "").strip().upper()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)
