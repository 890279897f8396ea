"""Eligibility (270/271) for a client's coverage: ask the payer, keep what it answers.

:func:`request_eligibility` writes one 270 for a coverage (service types 30, the health
benefit plan, and MH, mental health) with a trace number of its own (TRN02), takes ISA13 and
GS06 from the practice's control-number counters, keeps the file as a :class:`StoredFile`
(kind "270", out) and records an :class:`EligibilityCheck` in status ``requested``. It never
commits.

:func:`apply_271` fills those checks from a 271 the ingest has read: each person answered is
matched to its check by the trace number the payer echoes (TRN*2); the summary of
:func:`revcycle.x12.eligibility.summarize` gives the status (active, inactive, or error with
the payer's AAA reasons), the plan, the copay, the coinsurance and the deductible and
out-of-pocket amounts remaining. Answers whose trace we never sent are listed, never guessed.

:func:`latest_checks` gives each coverage's newest check, for the client page.
"""

from __future__ import annotations

import datetime
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.scoping import get_visible
from revcycle.services.stored_files import store_file
from revcycle.services.x12_batches import RoutingSettings
from revcycle.services.x12_control import Envelope, take_control_numbers
from revcycle.x12 import eligibility as e
from revcycle.x12.claim277 import Envelope as X12Envelope
from revcycle.x12.claim277 import Party
from revcycle.x12.envelope import Interchange, Transaction, format_control_number
from revcycle.x12.errors import X12Error

__all__ = [
    "SERVICE_TYPES",
    "EligibilityRequest",
    "apply_271",
    "coverage_checks",
    "latest_checks",
    "request_eligibility",
]

SERVICE_TYPES = ("30", "MH")
REQUESTED = "requested"
_SELF = frozenset({"self", "18", ""})


@dataclass(frozen=True)
class EligibilityRequest:
    """A 270 written for a coverage: its check, its file and its text (to download)."""

    check_id: int
    coverage_id: int
    trace_number: str
    stored_file_id: int
    filename: str
    text: str


# ----------------------------------------------------------------------------- the 270


def request_eligibility(
    db: Session, *, actor: Actor, coverage_id: int, as_of: datetime.date
) -> EligibilityRequest:
    """Write a 270 asking about ``coverage_id`` on ``as_of`` and record the check as requested."""
    coverage = db.get(m.Coverage, coverage_id)
    if coverage is None or not (actor.is_system or coverage.practice_id in actor.practice_ids):
        raise NotFound(f"coverage {coverage_id} not found")
    practice_id = coverage.practice_id
    actor.require(practice_id, Permission.UPDATE_INSURANCE)
    practice = db.get_one(m.Practice, practice_id)
    client = db.get_one(m.Client, coverage.client_id)
    payer = db.get_one(m.Payer, coverage.payer_id)
    routing = RoutingSettings.of(practice)
    trace = _new_trace(db, practice_id)
    inquiry = _inquiry(practice, client, coverage, payer, trace=trace, as_of=as_of)
    when = utcnow()
    [isa] = take_control_numbers(db, sender_id=routing.submitter_id, envelope=Envelope.INTERCHANGE)
    [gs] = take_control_numbers(db, sender_id=routing.submitter_id, envelope=Envelope.GROUP)
    envelope = X12Envelope(
        sender_qualifier=routing.sender_qualifier,
        sender_id=routing.submitter_id,
        receiver_qualifier=routing.receiver_qualifier,
        receiver_id=routing.receiver_id,
        interchange_control_number=format_control_number(isa),
        group_control_number=str(gs),
        sent_at=when.replace(tzinfo=None),
        usage=routing.usage,
    )
    request = e.EligibilityRequest(
        reference=trace, created_at=when.replace(tzinfo=None), inquiries=(inquiry,)
    )
    try:
        text = e.write_270([request], envelope)
    except X12Error as exc:
        raise InvalidInput(f"no 270 was written: {exc}") from None
    filename = f"270-{format_control_number(isa)}.x12"
    stored = store_file(
        db,
        actor=actor,
        practice_id=practice_id,
        kind="270",
        direction="out",
        filename=filename,
        content=text.encode(),
    )
    check = m.EligibilityCheck(
        practice_id=practice_id,
        coverage_id=coverage.id,
        trace_number=trace,
        as_of_on=as_of,
        status=REQUESTED,
        request_file_id=stored.id,
        created_by_user_id=actor.user_id,
    )
    db.add(check)
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=practice_id,
        action="create",
        entity="eligibility_check",
        entity_id=check.id,
        client_ids=[coverage.client_id],
        after={
            "coverage_id": coverage.id,
            "trace_number": trace,
            "as_of_on": as_of,
            "status": REQUESTED,
            "request_file_id": stored.id,
            "interchange_control_number": format_control_number(isa),
        },
    )
    return EligibilityRequest(check.id, coverage.id, trace, stored.id, filename, text)


def _new_trace(db: Session, practice_id: int) -> str:
    """A trace number no check of the practice has used (TRN02: up to 50 characters)."""
    while True:
        trace = secrets.token_hex(8).upper()
        taken = db.scalar(
            select(m.EligibilityCheck.id).where(
                m.EligibilityCheck.practice_id == practice_id, m.EligibilityCheck.trace_number == trace
            )
        )
        if taken is None:
            return trace


def _inquiry(
    practice: m.Practice,
    client: m.Client,
    coverage: m.Coverage,
    payer: m.Payer,
    *,
    trace: str,
    as_of: datetime.date,
) -> e.EligibilityInquiry:
    missing = [
        label
        for label, value in (
            ("the practice's group NPI", practice.group_npi),
            ("the practice's tax id", _digits(practice.tax_id)),
            ("the payer's EDI payer id", payer.edi_payer_id),
            ("the coverage's member id", coverage.member_id.strip()),
        )
        if not value
    ]
    if missing:
        raise InvalidInput("no 270 was written: " + ", ".join(missing) + " needed")
    is_self = coverage.relationship_to_subscriber.strip().lower() in _SELF
    if is_self:
        subscriber = Party(
            "IL", client.last_name, coverage.member_id.strip(), "MI", client.first_name, kind="1"
        )
        dependent = None
    else:
        if not coverage.subscriber_last_name:
            raise InvalidInput("no 270 was written: the subscriber's name is needed")
        subscriber = Party(
            "IL",
            coverage.subscriber_last_name,
            coverage.member_id.strip(),
            "MI",
            coverage.subscriber_first_name,
            kind="1",
        )
        dependent = Party("03", client.last_name, first_name=client.first_name, kind="1")
    return e.EligibilityInquiry(
        payer=Party("PR", payer.name, payer.edi_payer_id, "PI"),
        provider=Party("1P", practice.legal_name or practice.name, practice.group_npi, "XX"),
        subscriber=subscriber,
        dependent=dependent,
        trace_number=trace,
        originator_id="1" + _digits(practice.tax_id)[:9],
        as_of=as_of,
        service_types=SERVICE_TYPES,
        birth_date=client.date_of_birth,
        sex=client.sex if client.sex in {"F", "M"} else "",
    )


# ----------------------------------------------------------------------------- the 271


def apply_271(
    db: Session,
    *,
    actor: Actor,
    practice_id: int,
    inbound_file: m.X12InboundFile,
    interchanges: Sequence[Interchange],
) -> dict[str, Any]:
    """Fill the checks a 271 answers (the summary for the ingest result); never commits.

    ``inbound_file`` must be flushed (it has an id): each answered check points at it.
    Returns ``answered`` (check id, coverage id, trace, status), ``unmatched`` (answers whose
    trace number is none of ours, with the payer's reasons) and ``already_answered``.
    """
    actor.require(practice_id, Permission.UPDATE_INSURANCE)
    if inbound_file.practice_id != practice_id:
        raise InvalidInput("the inbound file belongs to another practice")
    responses = [
        # a refusal at the payer or provider level names no person and echoes no TRN; our 270's
        # BHT03 is its trace number, which the 271 echoes in its own BHT03
        (
            response,
            response.trace_number.strip() or (_reference(transaction) if not response.subscriber else ""),
        )
        for interchange in interchanges
        for group in interchange.groups
        for transaction in group.transactions
        if transaction.set_id == "271"
        for response in e.parse_271(transaction)
    ]
    answered: list[dict[str, Any]] = []
    unmatched: list[dict[str, Any]] = []
    already: list[dict[str, Any]] = []
    now = utcnow()
    for response, trace in responses:
        check = _check_by_trace(db, practice_id, trace) if trace else None
        if check is None:
            unmatched.append({"trace_number": trace, "rejections": [_reason(r) for r in response.rejections]})
            continue
        if check.status != REQUESTED:
            already.append({"check_id": check.id, "trace_number": trace, "status": check.status})
            continue
        _fill(check, response, inbound_file_id=inbound_file.id, answered_at=now)
        coverage = db.get_one(m.Coverage, check.coverage_id)
        audit.record(
            db,
            actor=actor,
            practice_id=practice_id,
            action="update",
            entity="eligibility_check",
            entity_id=check.id,
            client_ids=[coverage.client_id],
            before={"status": REQUESTED},
            after={
                "status": check.status,
                "response_file_id": inbound_file.id,
                "copay_cents": check.copay_cents,
                "coinsurance_basis_points": check.coinsurance_basis_points,
                "deductible_remaining_cents": check.deductible_remaining_cents,
                "out_of_pocket_remaining_cents": check.out_of_pocket_remaining_cents,
            },
        )
        answered.append(
            {
                "check_id": check.id,
                "coverage_id": check.coverage_id,
                "trace_number": trace,
                "status": check.status,
            }
        )
    db.flush()
    return {"answered": answered, "unmatched": unmatched, "already_answered": already}


def _reference(transaction: Transaction) -> str:
    bht = transaction.segments[0] if transaction.segments else None
    return bht.element(3).strip() if bht is not None and bht.id == "BHT" else ""


def _check_by_trace(db: Session, practice_id: int, trace: str) -> m.EligibilityCheck | None:
    return db.scalars(
        select(m.EligibilityCheck).where(
            m.EligibilityCheck.practice_id == practice_id, m.EligibilityCheck.trace_number == trace
        )
    ).one_or_none()


def _fill(
    check: m.EligibilityCheck,
    response: e.EligibilityResponse,
    *,
    inbound_file_id: int,
    answered_at: datetime.datetime,
) -> None:
    summary = e.summarize(response, on=check.as_of_on, service_types=(*e.MENTAL_HEALTH, "30"))
    status = summary.status
    error = "; ".join(_reason(r) for r in response.rejections)
    if status == "unknown":
        status, error = "error", error or "the response says neither active nor inactive"
    check.status = status
    check.plan_name = summary.plan_name[:200]
    check.copay_cents = summary.copay_cents
    check.coinsurance_basis_points = summary.coinsurance_basis_points
    check.deductible_remaining_cents = summary.deductible_remaining_cents
    check.out_of_pocket_remaining_cents = summary.out_of_pocket_remaining_cents
    check.error = error
    check.details = {
        "benefits": [_benefit(b) for b in response.benefits],
        "rejections": [_reason(r) for r in response.rejections],
        "plan_number": response.plan_number,
        "group_number": response.group_number,
    }
    check.response_file_id = inbound_file_id
    check.answered_at = answered_at


def _reason(rejection: e.Rejection) -> str:
    return f"{rejection.reason}: {rejection.meaning}"


def _benefit(benefit: e.Benefit) -> dict[str, Any]:
    return {
        "code": benefit.code,
        "meaning": benefit.meaning,
        "coverage_level": benefit.coverage_level,
        "service_types": list(benefit.service_types),
        "insurance_type": benefit.insurance_type,
        "plan": benefit.plan,
        "time_period": benefit.time_period,
        "amount_cents": benefit.amount_cents,
        "percent_basis_points": benefit.percent_basis_points,
        "in_network": benefit.in_network,
        "authorization_required": benefit.authorization_required,
        "messages": list(benefit.messages),
    }


# ----------------------------------------------------------------------------- reading


def latest_checks(db: Session, coverage_ids: Iterable[int]) -> dict[int, m.EligibilityCheck]:
    """Each coverage's newest eligibility check (coverages never checked are absent)."""
    ids = list(dict.fromkeys(coverage_ids))
    if not ids:
        return {}
    newest = (
        select(func.max(m.EligibilityCheck.id))
        .where(m.EligibilityCheck.coverage_id.in_(ids))
        .group_by(m.EligibilityCheck.coverage_id)
    )
    rows = db.scalars(select(m.EligibilityCheck).where(m.EligibilityCheck.id.in_(newest)))
    return {row.coverage_id: row for row in rows}


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def coverage_checks(db: Session, *, actor: Actor, coverage_id: int) -> list[m.EligibilityCheck]:
    """The coverage's eligibility checks, newest first (for whoever may see its client)."""
    coverage = db.get(m.Coverage, coverage_id)
    if coverage is None or not (actor.is_system or coverage.practice_id in actor.practice_ids):
        raise NotFound(f"coverage {coverage_id} not found")
    get_visible(db, m.Client, coverage.client_id, actor, Permission.VIEW_CLIENTS)
    return list(
        db.scalars(
            select(m.EligibilityCheck)
            .where(m.EligibilityCheck.coverage_id == coverage.id)
            .order_by(m.EligibilityCheck.id.desc())
        )
    )
