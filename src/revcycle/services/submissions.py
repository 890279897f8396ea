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
* :func:`record_batch_sent` — a queued batch's file was sent: the batch is ``sent``, each of
  its submissions takes the time and reference, and each claim moves to ``submitted``.
* :func:`resubmit_claim` — a later sending: ``1`` sent again as is (after a front-end
  rejection), ``7`` a replacement, ``8`` a void; 7 and 8 need the payer's claim control number.
* :func:`list_submissions` — a claim's submissions, oldest first.
* :func:`list_ready_claims` — the ready list: payer, billing route, default portal, deadline.
* :func:`list_practice_submissions` — the practice's portal log, by portal, channel and dates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.claim_status import ClaimStatus, EventSource, allowed_targets
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import audit, information_requests
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import chunks
from revcycle.services.claims import ClaimMove, load_claim, load_claims, transition_claims
from revcycle.services.scoping import DEFAULT_LIMIT, Page, clamp_limit, practice_scopes, visible

__all__ = [
    "CHANNELS",
    "FREQUENCIES",
    "ReadyClaimRow",
    "SubmissionFilters",
    "SubmissionRow",
    "list_practice_submissions",
    "list_ready_claims",
    "list_submissions",
    "queue_for_batch",
    "record_batch_sent",
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
    references: Mapping[int, str] | None = None,
) -> list[m.Submission]:
    """Record ready claims as sent (channel and portal from each payer's route unless given).

    ``references`` gives a claim its own reference (claim id -> reference); the others take
    the shared ``reference``.
    """
    claims = _load_claims(session, actor, claim_ids)
    own_refs = dict(references or {})
    strays = sorted(set(own_refs) - {claim.id for claim in claims})
    if strays:
        raise InvalidInput(f"references: claim {strays[0]} is not among the claims submitted")
    for claim in claims:
        if len(own_refs.get(claim.id, reference).strip()) > 80:
            raise InvalidInput(
                f"reference: claim {claim.number}: at most 80 characters; nothing was recorded"
            )
    refused = _unsendable(session, claims)
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
            reference=own_refs.get(claim.id, reference),
            submitted_on=submitted_on,
        )
        transition_claims(session, actor=actor, moves=[_submitted_move(session, actor, claim, row, portal)])
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
    refused = _unsendable(session, claims)
    if refused:
        raise InvalidInput("nothing was queued: " + "; ".join(refused))
    batch = m.SubmissionBatch(
        practice_id=practices.pop(), channel=channel, status=_QUEUED, created_by_user_id=actor.user_id
    )
    session.add(batch)
    session.flush()
    _submissions(
        session, actor, claims, channel=channel, portal_id=None, reference="", submitted_on=None, batch=batch
    )
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


def record_batch_sent(session: Session, *, actor: Actor, batch_id: int, reference: str) -> list[m.Submission]:
    """Record a queued batch as sent (its file written): now, with ``reference`` on each claim."""
    batch = session.get_one(m.SubmissionBatch, batch_id)
    actor.require(batch.practice_id, Permission.SUBMIT_CLAIMS)
    if batch.status != _QUEUED:
        raise InvalidInput(f"batch {batch.id} is {batch.status}, not queued")
    rows = list(
        session.scalars(
            select(m.Submission).where(m.Submission.batch_id == batch.id).order_by(m.Submission.id)
        )
    )
    claims = load_claims(session, actor=actor, claim_ids=[row.claim_id for row in rows])
    now = utcnow()
    moves = []
    for row, claim in zip(rows, claims, strict=True):
        row.submitted_at, row.reference = now, reference.strip()[:80]
        row.payer_claim_control_number = (
            claim.payer_claim_control_number if row.frequency in {"7", "8"} else ""
        )
        moves.append(_submitted_move(session, actor, claim, row, None))
    transition_claims(session, actor=actor, moves=moves)
    batch.status = "sent"
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=batch.practice_id,
        action="update",
        entity="submission_batch",
        entity_id=batch.id,
        before={"status": _QUEUED},
        after={"status": "sent", "reference": reference.strip()[:80], "stored_file_id": batch.stored_file_id},
    )
    return rows


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
    reason: str = "",
) -> m.Submission:
    """Send a claim again: as is (1), as a replacement (7) or a void (8), keeping its number;
    by the channel given, else the payer's billing route, else the way it was sent last time.

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
    waiting = _waiting_text(claim, information_requests.blocking(session, [claim.id]).get(claim.id))
    if waiting:
        raise InvalidInput(waiting)
    icn = payer_claim_control_number.strip() or claim.payer_claim_control_number
    if frequency in {"7", "8"} and not icn:
        raise InvalidInput(
            f"claim {claim.number}: a {FREQUENCIES[frequency]} needs the payer's claim control number"
        )
    if channel is None and portal_id is None and _billing_route(session, claim) is None:
        channel, portal_id = previous.channel, previous.portal_id  # the way it went last time
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
        move = _submitted_move(session, actor, claim, row, portal, reason=reason)
        transition_claims(session, actor=actor, moves=[move])
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
            reason=_with_reason(_describe(session, row, portal), reason),
        )
    return row


def list_submissions(session: Session, *, actor: Actor, claim_id: int) -> list[SubmissionRow]:
    """The claim's submissions, oldest first (the portal log)."""
    claim = load_claim(session, actor=actor, claim_id=claim_id)
    actor.require(claim.practice_id, Permission.VIEW_CLAIMS)
    rows = session.execute(
        _log_select()
        .where(m.Submission.claim_id == claim.id)
        .order_by(m.Submission.submitted_at, m.Submission.id)
    )
    return [
        _log_row(row, claim.number, portal, email, batch_status) for row, portal, email, batch_status in rows
    ]


@dataclass(frozen=True)
class ReadyClaimRow:
    """A claim waiting to be sent, with the route its payer is billed by and its deadline."""

    claim: m.Claim
    client_name: str
    payer_name: str
    billing_route: str
    portal_id: int | None
    portal_name: str
    queued_batch_id: int | None


def list_ready_claims(
    session: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    payer_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[ReadyClaimRow]:
    """The ready list: claims in ``ready``, the nearest filing deadline first."""
    scopes = practice_scopes(actor, Permission.VIEW_CLAIMS, practice_id)
    conditions = [visible(m.Claim, actor, scopes), m.Claim.status == str(ClaimStatus.READY)]
    if payer_id is not None:
        conditions.append(m.Claim.payer_id == payer_id)
    queued = (
        select(m.Submission.claim_id, func.max(m.SubmissionBatch.id).label("batch_id"))
        .join(m.SubmissionBatch, m.SubmissionBatch.id == m.Submission.batch_id)
        .where(m.SubmissionBatch.status == _QUEUED)
        .group_by(m.Submission.claim_id)
        .subquery()
    )
    query = (
        select(m.Claim, m.Client, m.Payer.name, m.PracticePayer, m.InsurancePortal, queued.c.batch_id)
        .join(m.Client, m.Client.id == m.Claim.client_id)
        .join(m.Payer, m.Payer.id == m.Claim.payer_id)
        .outerjoin(
            m.PracticePayer,
            (m.PracticePayer.practice_id == m.Claim.practice_id)
            & (m.PracticePayer.payer_id == m.Claim.payer_id),
        )
        .outerjoin(m.InsurancePortal, m.InsurancePortal.id == m.PracticePayer.portal_id)
        .outerjoin(queued, queued.c.claim_id == m.Claim.id)
        .where(*conditions)
    )
    total = session.scalar(select(func.count()).select_from(m.Claim).where(*conditions)) or 0
    rows = session.execute(
        query.order_by(m.Claim.timely_filing_on.is_(None), m.Claim.timely_filing_on, m.Claim.id)
        .limit(clamp_limit(limit))
        .offset(offset)
    )
    items = [
        ReadyClaimRow(
            claim=claim,
            client_name=f"{client.last_name}, {client.first_name}",
            payer_name=payer_name,
            billing_route=settings.billing_route if settings else "",
            portal_id=portal.id if portal else None,
            portal_name=portal.name if portal else "",
            queued_batch_id=batch_id,
        )
        for claim, client, payer_name, settings, portal, batch_id in rows
    ]
    return Page(items, total)


@dataclass(frozen=True)
class SubmissionFilters:
    portal_id: int | None = None
    channel: str | None = None
    since: date | None = None  # submitted on or after (the practice's calendar)
    until: date | None = None  # submitted on or before
    ids: tuple[int, ...] | None = None  # these submissions only


def list_practice_submissions(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    filters: SubmissionFilters = SubmissionFilters(),
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[SubmissionRow]:
    """The practice's portal log, newest first, narrowed by portal, channel and dates."""
    scopes = practice_scopes(actor, Permission.VIEW_CLAIMS, practice_id)
    conditions = [m.Submission.practice_id == practice_id, visible(m.Claim, actor, scopes)]
    if filters.channel is not None:
        _check_channel(filters.channel)
        conditions.append(m.Submission.channel == filters.channel)
    if filters.portal_id is not None:
        conditions.append(m.Submission.portal_id == filters.portal_id)
    if filters.ids is not None:
        conditions.append(m.Submission.id.in_(filters.ids))
    zone = ZoneInfo(session.get_one(m.Practice, practice_id).timezone or "UTC")
    if filters.since is not None:
        conditions.append(m.Submission.submitted_at >= _day_start(filters.since, zone))
    if filters.until is not None:
        conditions.append(m.Submission.submitted_at < _day_start(filters.until + timedelta(days=1), zone))
    base = select(m.Submission).join(m.Claim, m.Claim.id == m.Submission.claim_id).where(*conditions)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        _log_select(m.Claim.number)
        .join(m.Claim, m.Claim.id == m.Submission.claim_id)
        .where(*conditions)
        .order_by(m.Submission.submitted_at.desc(), m.Submission.id.desc())
        .limit(clamp_limit(limit))
        .offset(offset)
    )
    return Page([_log_row(*row) for row in rows], total)


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _log_select(*columns: Any) -> Select[Any]:
    """Submissions, then ``columns``, then what the log shows of each: the portal's name, the
    sender's e-mail and the batch's status (each empty where there is none)."""
    return (
        select(m.Submission, *columns, m.InsurancePortal.name, m.User.email, m.SubmissionBatch.status)
        .outerjoin(m.InsurancePortal, m.InsurancePortal.id == m.Submission.portal_id)
        .outerjoin(m.User, m.User.id == m.Submission.submitted_by_user_id)
        .outerjoin(m.SubmissionBatch, m.SubmissionBatch.id == m.Submission.batch_id)
    )


def _log_row(
    row: m.Submission, number: str, portal: str | None, email: str | None, batch_status: str | None
) -> SubmissionRow:
    return SubmissionRow(
        id=row.id,
        claim_id=row.claim_id,
        claim_number=number,
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


# --- helpers -------------------------------------------------------------------------------


def _load_claims(session: Session, actor: Actor, claim_ids: Sequence[int]) -> list[m.Claim]:
    wanted = list(dict.fromkeys(claim_ids))
    if not wanted:
        raise InvalidInput("no claims given")
    claims = load_claims(session, actor=actor, claim_ids=wanted)
    for claim in claims:
        actor.require(claim.practice_id, Permission.SUBMIT_CLAIMS)
    return claims


def _unsendable(session: Session, claims: Sequence[m.Claim]) -> list[str]:
    """Why each claim that cannot be sent now cannot: not ready, or queued in a batch."""
    queued: dict[int, int] = {}
    for chunk in chunks([claim.id for claim in claims]):
        rows = session.execute(
            select(m.Submission.claim_id, m.SubmissionBatch.id)
            .join(m.Submission, m.Submission.batch_id == m.SubmissionBatch.id)
            .where(m.Submission.claim_id.in_(chunk), m.SubmissionBatch.status == _QUEUED)
        )
        for claim_id, batch_id in rows:
            queued.setdefault(claim_id, batch_id)
    waiting = information_requests.blocking(session, [claim.id for claim in claims])
    return [
        problem
        for claim in claims
        if (problem := _not_sendable(claim, queued.get(claim.id), waiting.get(claim.id)))
    ]


def _not_sendable(claim: m.Claim, queued_batch_id: int | None, request: m.WorkItem | None) -> str:
    if claim.status != str(ClaimStatus.READY):
        return f"claim {claim.number} is {claim.status}, not ready"
    if queued_batch_id is not None:
        return f"claim {claim.number} is queued in batch {queued_batch_id}"
    return _waiting_text(claim, request)


def _waiting_text(claim: m.Claim, request: m.WorkItem | None) -> str:
    """Why a claim waits on the practice, if it does: an open request for information."""
    if request is None:
        return ""
    due = f", due {request.due_on}" if request.due_on else ""
    return f"claim {claim.number} waits for an answer to a request for information ({request.title}{due})"


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise InvalidInput(f"channel: {channel!r} is not one of {', '.join(sorted(CHANNELS))}")


def _billing_route(session: Session, claim: m.Claim) -> m.PracticePayer | None:
    """The practice's settings for the claim's payer, when it has any."""
    return session.scalars(
        select(m.PracticePayer).where(
            m.PracticePayer.practice_id == claim.practice_id, m.PracticePayer.payer_id == claim.payer_id
        )
    ).one_or_none()


def _route(
    session: Session, claim: m.Claim, channel: str | None, portal_id: int | None
) -> tuple[str, int | None]:
    """The channel and portal: given, else the practice's billing route for the payer."""
    settings = _billing_route(session, claim)
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
    [row] = _submissions(
        session,
        actor,
        [claim],
        channel=channel,
        portal_id=portal_id,
        reference=reference,
        submitted_on=submitted_on,
    )
    return row


def _submissions(
    session: Session,
    actor: Actor,
    claims: Sequence[m.Claim],
    *,
    channel: str,
    portal_id: int | None,
    reference: str,
    submitted_on: date | None,
    batch: m.SubmissionBatch | None = None,
) -> list[m.Submission]:
    """One submission per claim (in ``batch`` when given), written with one flush."""
    if len(reference.strip()) > 80:
        raise InvalidInput("reference: at most 80 characters")
    previous = _latest_submission_ids(session, [claim.id for claim in claims])
    submitted_at = {
        practice_id: _submitted_at(session, practice_id, submitted_on)
        for practice_id in {claim.practice_id for claim in claims}
    }
    rows = [
        m.Submission(
            practice_id=claim.practice_id,
            claim_id=claim.id,
            channel=channel,
            portal_id=portal_id,
            frequency=claim.frequency or "1",
            submitted_at=submitted_at[claim.practice_id],
            reference=reference.strip(),
            submitted_by_user_id=actor.user_id,
            # a claim sent again points at its last sending
            previous_submission_id=previous.get(claim.id),
            batch_id=batch.id if batch is not None else None,
        )
        for claim in claims
    ]
    session.add_all(rows)
    session.flush()
    return rows


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
    latest = _latest_submission_ids(session, [claim_id]).get(claim_id)
    return session.get(m.Submission, latest) if latest is not None else None


def _latest_submission_ids(session: Session, claim_ids: Sequence[int]) -> dict[int, int]:
    """Claim id -> its latest submission's id (the last sent; the last written on a tie)."""
    latest: dict[int, tuple[datetime, int]] = {}
    for chunk in chunks(claim_ids):
        rows = session.execute(
            select(m.Submission.claim_id, m.Submission.submitted_at, m.Submission.id).where(
                m.Submission.claim_id.in_(chunk)
            )
        )
        for claim_id, submitted_at, submission_id in rows:
            if claim_id not in latest or (submitted_at, submission_id) > latest[claim_id]:
                latest[claim_id] = (submitted_at, submission_id)
    return {claim_id: submission_id for claim_id, (_, submission_id) in latest.items()}


def _describe(session: Session, row: m.Submission, portal_id: int | None) -> str:
    portal = session.get(m.InsurancePortal, portal_id) if portal_id else None
    via = portal.name if portal else row.channel
    zone = ZoneInfo(session.get_one(m.Practice, row.practice_id).timezone or "UTC")
    text = f"submitted via {via} on {row.submitted_at.astimezone(zone).date()}"
    if row.frequency != "1":
        text += f" ({FREQUENCIES[row.frequency]})"
    return f"{text}, reference {row.reference}" if row.reference else text


def _submitted_move(
    session: Session,
    actor: Actor,
    claim: m.Claim,
    row: m.Submission,
    portal_id: int | None,
    *,
    reason: str = "",
) -> ClaimMove:
    return ClaimMove(
        claim.id,
        ClaimStatus.SUBMITTED,
        EventSource.USER if not actor.is_system else EventSource.SYSTEM,
        _with_reason(_describe(session, row, portal_id), reason),
    )


def _with_reason(text: str, reason: str) -> str:
    return f"{text}: {reason.strip()}" if reason.strip() else text
