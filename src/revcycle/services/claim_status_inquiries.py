"""276 claim status inquiries: asking payers about claims that are overdue.

A claim the payer has (submitted, acknowledged or accepted) whose first submission is older
than the payer's expected days to pay (``PracticePayer.expected_days_to_pay``, 30 when not
set) is due an inquiry, unless an inquiry sent less than 7 days ago is still unanswered (the
payer has not had time to answer it). :func:`write_status_inquiries` writes one 276
transaction set per payer in one interchange, each claim with its own trace number (TRN02,
echoed by the 277 that answers it), keeps the file as a :class:`StoredFile` (kind "276",
out) and records a :class:`ClaimStatusInquiry` per claim. It never commits.

The full rules (follow-up intervals, payers that answer only by portal) come with the
follow-up issue.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.claims_pipeline.scrubbing import claim_facts
from revcycle.services.stored_files import store_file
from revcycle.services.x12_batches import RoutingSettings
from revcycle.services.x12_control import Envelope as Level
from revcycle.services.x12_control import take_control_numbers
from revcycle.x12.claim277 import Envelope, Party
from revcycle.x12.envelope import format_control_number
from revcycle.x12.errors import X12Error
from revcycle.x12.inquiry276 import ClaimInquiry, StatusInquiry, write_276

__all__ = [
    "DEFAULT_DAYS_TO_PAY",
    "PAYER_HAS_IT",
    "UNANSWERED_WAIT_DAYS",
    "WrittenInquiries",
    "claims_due",
    "write_status_inquiries",
]

DEFAULT_DAYS_TO_PAY = 30
UNANSWERED_WAIT_DAYS = 7
PAYER_HAS_IT = frozenset({ClaimStatus.SUBMITTED, ClaimStatus.ACKNOWLEDGED, ClaimStatus.ACCEPTED})


@dataclass(frozen=True)
class WrittenInquiries:
    """The 276 file written (``text`` empty when no claim was due) and what it asks."""

    stored_file_id: int | None
    filename: str
    text: str
    interchange_control_number: int | None
    group_control_number: int | None
    inquiry_ids: tuple[int, ...]
    claim_numbers: tuple[str, ...]
    trace_numbers: tuple[str, ...]


def claims_due(db: Session, *, practice_id: int, today: datetime.date) -> list[m.Claim]:
    """Claims the payer has, overdue by the payer's expected days to pay, not asked lately."""
    first_sent = (
        select(m.Submission.claim_id, func.min(m.Submission.submitted_at).label("first_at"))
        .where(m.Submission.practice_id == practice_id)
        .group_by(m.Submission.claim_id)
        .subquery()
    )
    rows = db.execute(
        select(m.Claim, first_sent.c.first_at, m.PracticePayer.expected_days_to_pay)
        .join(first_sent, first_sent.c.claim_id == m.Claim.id)
        .outerjoin(
            m.PracticePayer,
            (m.PracticePayer.practice_id == m.Claim.practice_id)
            & (m.PracticePayer.payer_id == m.Claim.payer_id),
        )
        .where(m.Claim.practice_id == practice_id, m.Claim.status.in_([str(s) for s in PAYER_HAS_IT]))
        .order_by(m.Claim.payer_id, m.Claim.id)
    ).all()
    waiting = _recently_asked(db, practice_id, today)
    return [
        claim for claim, first_at, days in rows if claim.id not in waiting and _overdue(first_at, days, today)
    ]


def _overdue(first_at: datetime.datetime, days: int | None, today: datetime.date) -> bool:
    days_to_pay = DEFAULT_DAYS_TO_PAY if days is None else days
    return (today - first_at.date()).days > days_to_pay


def _recently_asked(db: Session, practice_id: int, today: datetime.date) -> set[int]:
    since = datetime.datetime.combine(
        today - datetime.timedelta(days=UNANSWERED_WAIT_DAYS), datetime.time.min, tzinfo=datetime.UTC
    )
    return set(
        db.scalars(
            select(m.ClaimStatusInquiry.claim_id).where(
                m.ClaimStatusInquiry.practice_id == practice_id,
                m.ClaimStatusInquiry.answered_at.is_(None),
                m.ClaimStatusInquiry.created_at > since,
            )
        )
    )


def write_status_inquiries(
    db: Session,
    *,
    actor: Actor,
    practice_id: int,
    today: datetime.date,
    claim_ids: Sequence[int] | None = None,
) -> WrittenInquiries:
    """Write one 276 per payer for the claims due (or the claims named, which the payer must
    have; the age rules are for choosing, not for refusing) and record each inquiry."""
    actor.require(practice_id, Permission.SUBMIT_CLAIMS)
    claims = (
        claims_due(db, practice_id=practice_id, today=today)
        if claim_ids is None
        else _named(db, practice_id, claim_ids)
    )
    if not claims:
        return WrittenInquiries(None, "", "", None, None, (), (), ())
    practice = db.get_one(m.Practice, practice_id)
    routing = RoutingSettings.of(practice)
    when = utcnow()
    inquiries = [_new_inquiry(db, actor, claim) for claim in claims]
    by_payer: dict[int, list[ClaimInquiry]] = {}
    for claim, inquiry in zip(claims, inquiries, strict=True):
        by_payer.setdefault(claim.payer_id, []).append(_claim_inquiry(db, claim, inquiry, routing, today))
    [isa] = take_control_numbers(db, sender_id=routing.submitter_id, envelope=Level.INTERCHANGE)
    [gs] = take_control_numbers(db, sender_id=routing.submitter_id, envelope=Level.GROUP)
    envelope = Envelope(
        routing.sender_qualifier,
        routing.submitter_id,
        routing.receiver_qualifier,
        routing.receiver_id,
        format_control_number(isa),
        str(gs),
        when,
        routing.usage,
    )
    transactions = [
        StatusInquiry(f"276-{format_control_number(isa)}-{n}", when, tuple(asked))
        for n, asked in enumerate(by_payer.values(), start=1)
    ]
    try:
        text = write_276(transactions, envelope)
    except X12Error as error:
        raise InvalidInput(f"nothing was written: {error}") from None
    filename = f"276-{format_control_number(isa)}.x12"
    stored = store_file(
        db,
        actor=actor,
        practice_id=practice_id,
        kind="276",
        direction="out",
        filename=filename,
        content=text.encode(),
    )
    for claim, inquiry in zip(claims, inquiries, strict=True):
        inquiry.request_file_id = stored.id
        _audit(db, actor, claim, inquiry)
    db.flush()
    return WrittenInquiries(
        stored_file_id=stored.id,
        filename=filename,
        text=text,
        interchange_control_number=isa,
        group_control_number=gs,
        inquiry_ids=tuple(i.id for i in inquiries),
        claim_numbers=tuple(c.number for c in claims),
        trace_numbers=tuple(i.trace_number for i in inquiries),
    )


def _named(db: Session, practice_id: int, claim_ids: Sequence[int]) -> list[m.Claim]:
    claims = [db.get(m.Claim, claim_id) for claim_id in dict.fromkeys(claim_ids)]
    refused = [
        f"claim {claim_id} is not a claim of practice {practice_id}"
        for claim_id, claim in zip(dict.fromkeys(claim_ids), claims, strict=True)
        if claim is None or claim.practice_id != practice_id
    ]
    found = [claim for claim in claims if claim is not None and claim.practice_id == practice_id]
    refused += [
        f"claim {claim.number} is {claim.status}; only a claim the payer has can be asked about"
        for claim in found
        if claim.status not in PAYER_HAS_IT
    ]
    if refused:
        raise InvalidInput("nothing was written: " + "; ".join(refused))
    return sorted(found, key=lambda claim: (claim.payer_id, claim.id))


def _new_inquiry(db: Session, actor: Actor, claim: m.Claim) -> m.ClaimStatusInquiry:
    asked_before = db.scalar(
        select(func.count())
        .select_from(m.ClaimStatusInquiry)
        .where(m.ClaimStatusInquiry.claim_id == claim.id)
    )
    inquiry = m.ClaimStatusInquiry(
        practice_id=claim.practice_id,
        claim_id=claim.id,
        trace_number=f"RC{claim.id}-{(asked_before or 0) + 1}",
        created_by_user_id=actor.user_id,
    )
    db.add(inquiry)
    db.flush()
    return inquiry


def _person(entity: str, last_name: str, first_name: str, member_id: str = "") -> Party:
    return Party(entity, last_name, member_id, "MI" if member_id else "", first_name=first_name, kind="1")


def _claim_inquiry(
    db: Session,
    claim: m.Claim,
    inquiry: m.ClaimStatusInquiry,
    routing: RoutingSettings,
    today: datetime.date,
) -> ClaimInquiry:
    facts = claim_facts(db, claim, today=today)
    payer = db.get_one(m.Payer, claim.payer_id)
    subscriber = facts.coverage.subscriber
    is_self = facts.coverage.client_is_subscriber
    person = subscriber if is_self else facts.patient
    return ClaimInquiry(
        payer=Party("PR", payer.name, payer.edi_payer_id, "PI"),
        information_receiver=Party("41", routing.submitter_name, routing.submitter_id, "46"),
        provider=Party("1P", facts.billing_provider.name, facts.billing_provider.npi, "XX"),
        subscriber=_person("IL", subscriber.last_name, subscriber.first_name, facts.coverage.member_id),
        trace_number=inquiry.trace_number,
        patient_control_number=claim.number,
        charge_cents=claim.billed_cents,
        service_from=claim.service_from_on,
        service_to=claim.service_to_on if claim.service_to_on != claim.service_from_on else None,
        patient=None if is_self else _person("QC", person.last_name, person.first_name),
        payer_claim_control_number=claim.payer_claim_control_number,
        birth_date=person.date_of_birth,
        sex=person.sex if person.sex in {"F", "M"} else "",
    )


def _audit(db: Session, actor: Actor, claim: m.Claim, inquiry: m.ClaimStatusInquiry) -> None:
    audit.record(
        db,
        actor=actor,
        practice_id=claim.practice_id,
        action="create",
        entity="claim_status_inquiry",
        entity_id=inquiry.id,
        client_ids=[claim.client_id],
        after={
            "claim_id": claim.id,
            "trace_number": inquiry.trace_number,
            "request_file_id": inquiry.request_file_id,
        },
    )
