"""Submissions: each sending of a claim, the practice's portal log.

A claim is sent through its payer's billing route — a web portal, a clearinghouse batch,
SimplePractice's electronic submission, or paper — and each sending is a :class:`Submission`:
channel, portal, date and time, the references returned (portal reference, clearinghouse id,
payer claim control number), frequency and the staff member. The claim keeps its number
(CLM01) across every submission; a resubmission points at the submission it follows.

* :func:`record_submissions` — "submitted via <portal> on <date>, reference <ref>" for ready
  claims, in bulk; each claim moves to ``submitted``. All or nothing: one claim that cannot
  be recorded refuses the whole call, naming it.
* :func:`queue_for_batch` — ready claims queued for an electronic batch (a
  :class:`SubmissionBatch` in status ``queued``). The claims stay ``ready`` until the file is
  sent (the X12 issue writes and sends it); a queued claim cannot be queued or recorded again.
* :func:`resubmit_claim` — a later sending: ``1`` sent again as is (after a front-end
  rejection), ``7`` a replacement, ``8`` a void; 7 and 8 need the payer's claim control number.
* :func:`list_submissions` — a claim's submissions, oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.claim_status import ClaimStatus, EventSource, allowed_targets
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.claims import load_claim, transition_claim

__all__ = [
    "CHANNELS",
    "FREQUENCIES",
    "SubmissionRow",
    "list_submissions",
    "queue_for_batch",
    "record_submissions",
    "resubmit_claim",
]

CHANNELS = frozenset({"portal", "clearinghouse", "simplepractice", "paper"})
FREQUENCIES = {"1": "original", "7": "replacement", "8": "void"}
_QUEUED = "queued"


@dataclass(frozen=True)
class SubmissionRow:
    """One line of a claim's portal log."""

    id: int
    claim_id: int
    claim_number: str
    channel: str
    portal_name: str
    frequency: str
    submitted_at: datetime
    reference: str
    clearinghouse_reference: str
    payer_claim_control_number: str
    submitted_by: str
    batch_id: int | None
    batch_status: str
    previous_submission_id: int | None


def record_submissions(
    session: Session,
    *,
    actor: Actor,
    claim_ids: Sequence[int],
    submitted_on: date | None = None,
    reference: str = "",
    channel: str | None = None,
    portal_id: int | None = None,
) -> list[m.Submission]:
    """Record ready claims as sent (channel and portal from each payer's route unless given)."""
    claims = _load_claims(session, actor, claim_ids)
    problems = [_not_sendable(session, claim) for claim in claims]
    refused = [problem for problem in problems if problem]
    if refused:
        raise InvalidInput("nothing was recorded: " + "; ".join(refused))
    written = []
    for claim in claims:
        route, portal = _route(session, claim, channel, portal_id)
        row = _submission(
            session,
            actor,
            claim,
            channel=route,
            portal_id=portal,
            reference=reference,
            submitted_on=submitted_on,
        )
        _move_to_submitted(session, actor, claim, row, portal)
        written.append(row)
    return written


def queue_for_batch(
    session: Session, *, actor: Actor, claim_ids: Sequence[int], channel: str = "clearinghouse"
) -> m.SubmissionBatch:
    """Queue ready claims for one electronic batch; the file itself is written later."""
    _check_channel(channel)
    claims = _load_claims(session, actor, claim_ids)
    practices = {claim.practice_id for claim in claims}
    if len(practices) != 1:
        raise InvalidInput("a batch holds the claims of one practice")
    refused = [problem for problem in (_not_sendable(session, claim) for claim in claims) if problem]
    if refused:
        raise InvalidInput("nothing was queued: " + "; ".join(refused))
    batch = m.SubmissionBatch(
        practice_id=practices.pop(), channel=channel, status=_QUEUED, created_by_user_id=actor.user_id
    )
    session.add(batch)
    session.flush()
    for claim in claims:
        row = _submission(
            session, actor, claim, channel=channel, portal_id=None, reference="", submitted_on=None
        )
        row.batch_id = batch.id
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=batch.practice_id,
        action="create",
        entity="submission_batch",
        entity_id=batch.id,
        client_ids=[claim.client_id for claim in claims],
        after={"channel": channel, "status": _QUEUED, "claims": [claim.id for claim in claims]},
    )
    return batch


def resubmit_claim(
    session: Session,
    *,
    actor: Actor,
    claim_id: int,
    frequency: str,
    submitted_on: date | None = None,
    reference: str = "",
    channel: str | None = None,
    portal_id: int | None = None,
    payer_claim_control_number: str = "",
) -> m.Submission:
    """Send a claim again: as is (1), as a replacement (7) or a void (8), keeping its number.

    The claim moves to ``submitted`` where the status table allows it (from rejected or
    appealed); a replacement or void of a claim the payer already holds leaves its status to
    the payer's answer.
    """
    if frequency not in FREQUENCIES:
        raise InvalidInput(f"frequency: {frequency!r} is not 1 (original), 7 (replacement) or 8 (void)")
    [claim] = _load_claims(session, actor, [claim_id])
    previous = _latest_submission(session, claim.id)
    if previous is None or claim.status in {ClaimStatus.DRAFT, ClaimStatus.READY}:
        raise InvalidInput(f"claim {claim.number} has not been sent; record its first submission instead")
    if ClaimStatus(claim.status) in {ClaimStatus.VOID, ClaimStatus.WRITTEN_OFF}:
        raise InvalidInput(f"claim {claim.number} is {claim.status}; it cannot be sent again")
    icn = payer_claim_control_number.strip() or claim.payer_claim_control_number
    if frequency in {"7", "8"} and not icn:
        raise InvalidInput(
            f"claim {claim.number}: a {FREQUENCIES[frequency]} needs the payer's claim control number"
        )
    route, portal = _route(session, claim, channel, portal_id)
    row = _submission(
        session, actor, claim, channel=route, portal_id=portal, reference=reference, submitted_on=submitted_on
    )
    row.frequency, row.previous_submission_id, row.payer_claim_control_number = frequency, previous.id, icn
    claim.frequency = frequency
    if icn:
        claim.payer_claim_control_number = icn
    session.flush()
    if ClaimStatus.SUBMITTED in allowed_targets(ClaimStatus(claim.status)):
        _move_to_submitted(session, actor, claim, row, portal)
    else:
        audit.record(
            session,
            actor=actor,
            practice_id=claim.practice_id,
            action="create",
            entity="submission",
            entity_id=row.id,
            client_ids=[claim.client_id],
            after={"claim_id": claim.id, "frequency": frequency, "previous_submission_id": previous.id},
            reason=_describe(session, row, portal),
        )
    return row


def list_submissions(session: Session, *, actor: Actor, claim_id: int) -> list[SubmissionRow]:
    """The claim's submissions, oldest first (the portal log)."""
    claim = load_claim(session, actor=actor, claim_id=claim_id)
    actor.require(claim.practice_id, Permission.VIEW_CLAIMS)
    rows = session.execute(
        select(m.Submission, m.InsurancePortal.name, m.User.email, m.SubmissionBatch.status)
        .outerjoin(m.InsurancePortal, m.InsurancePortal.id == m.Submission.portal_id)
        .outerjoin(m.User, m.User.id == m.Submission.submitted_by_user_id)
        .outerjoin(m.SubmissionBatch, m.SubmissionBatch.id == m.Submission.batch_id)
        .where(m.Submission.claim_id == claim.id)
        .order_by(m.Submission.submitted_at, m.Submission.id)
    )
    return [
        SubmissionRow(
            id=row.id,
            claim_id=claim.id,
            claim_number=claim.number,
            channel=row.channel,
            portal_name=portal or "",
            frequency=row.frequency,
            submitted_at=row.submitted_at,
            reference=row.reference,
            clearinghouse_reference=row.clearinghouse_reference,
            payer_claim_control_number=row.payer_claim_control_number,
            submitted_by=email or "",
            batch_id=row.batch_id,
            batch_status=batch_status or "",
            previous_submission_id=row.previous_submission_id,
        )
        for row, portal, email, batch_status in rows
    ]


# --- helpers -------------------------------------------------------------------------------


def _load_claims(session: Session, actor: Actor, claim_ids: Sequence[int]) -> list[m.Claim]:
    wanted = list(dict.fromkeys(claim_ids))
    if not wanted:
        raise InvalidInput("no claims given")
    claims = [load_claim(session, actor=actor, claim_id=claim_id) for claim_id in wanted]
    for claim in claims:
        actor.require(claim.practice_id, Permission.SUBMIT_CLAIMS)
    return claims


def _not_sendable(session: Session, claim: m.Claim) -> str:
    if claim.status != str(ClaimStatus.READY):
        return f"claim {claim.number} is {claim.status}, not ready"
    queued = session.scalars(
        select(m.SubmissionBatch.id)
        .join(m.Submission, m.Submission.batch_id == m.SubmissionBatch.id)
        .where(m.Submission.claim_id == claim.id, m.SubmissionBatch.status == _QUEUED)
    ).first()
    if queued is not None:
        return f"claim {claim.number} is queued in batch {queued}"
    return ""


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise InvalidInput(f"channel: {channel!r} is not one of {', '.join(sorted(CHANNELS))}")


def _route(
    session: Session, claim: m.Claim, channel: str | None, portal_id: int | None
) -> tuple[str, int | None]:
    """The channel and portal: given, else the practice's billing route for the payer."""
    settings = session.scalars(
        select(m.PracticePayer).where(
            m.PracticePayer.practice_id == claim.practice_id, m.PracticePayer.payer_id == claim.payer_id
        )
    ).one_or_none()
    if portal_id is not None:
        portal = session.get(m.InsurancePortal, portal_id)
        if portal is None or portal.practice_id != claim.practice_id:
            raise NotFound(f"portal {portal_id} not found")
    route = channel or (settings.billing_route if settings else "")
    if not route:
        raise InvalidInput(f"claim {claim.number}: no billing route is set for its payer; give the channel")
    _check_channel(route)
    if route == "portal" and portal_id is None:
        portal_id = settings.portal_id if settings else None
    return route, portal_id if route == "portal" else None


def _submission(
    session: Session,
    actor: Actor,
    claim: m.Claim,
    *,
    channel: str,
    portal_id: int | None,
    reference: str,
    submitted_on: date | None,
) -> m.Submission:
    if len(reference.strip()) > 80:
        raise InvalidInput("reference: at most 80 characters")
    row = m.Submission(
        practice_id=claim.practice_id,
        claim_id=claim.id,
        channel=channel,
        portal_id=portal_id,
        frequency=claim.frequency or "1",
        submitted_at=_submitted_at(session, claim.practice_id, submitted_on),
        reference=reference.strip(),
        submitted_by_user_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    return row


def _submitted_at(session: Session, practice_id: int, submitted_on: date | None) -> datetime:
    """Now, or the start of the given day on the practice's calendar when it is not today."""
    now = utcnow()
    if submitted_on is None:
        return now
    zone = ZoneInfo(session.get_one(m.Practice, practice_id).timezone or "UTC")
    if now.astimezone(zone).date() == submitted_on:
        return now
    if submitted_on > now.astimezone(zone).date():
        raise InvalidInput(f"submitted on {submitted_on}: a date in the future")
    return datetime.combine(submitted_on, time(), zone).astimezone(UTC)


def _latest_submission(session: Session, claim_id: int) -> m.Submission | None:
    return session.scalars(
        select(m.Submission)
        .where(m.Submission.claim_id == claim_id)
        .order_by(m.Submission.submitted_at.desc(), m.Submission.id.desc())
    ).first()


def _describe(session: Session, row: m.Submission, portal_id: int | None) -> str:
    portal = session.get(m.InsurancePortal, portal_id) if portal_id else None
    via = portal.name if portal else row.channel
    zone = ZoneInfo(session.get_one(m.Practice, row.practice_id).timezone or "UTC")
    text = f"submitted via {via} on {row.submitted_at.astimezone(zone).date()}"
    if row.frequency != "1":
        text += f" ({FREQUENCIES[row.frequency]})"
    return f"{text}, reference {row.reference}" if row.reference else text


def _move_to_submitted(
    session: Session, actor: Actor, claim: m.Claim, row: m.Submission, portal_id: int | None
) -> None:
    transition_claim(
        session,
        actor=actor,
        claim_id=claim.id,
        target=ClaimStatus.SUBMITTED,
        source=EventSource.USER if not actor.is_system else EventSource.SYSTEM,
        detail=_describe(session, row, portal_id),
    )
