"""Timely filing: the date by which each session or claim must reach its payer.

A payer accepts a claim only within its filing limit, counted in days from the date of
service (``PracticePayer.timely_filing_days``). A claim carries its own deadline
(``claims.timely_filing_on``, set when it is built) and falls back on the limit of its payer;
a session not yet on a claim is billed to the client's primary coverage in force on its date
of service, so its deadline is that date plus that payer's limit. A session on a live claim
takes the claim's deadline. No coverage, or a payer without settings: no deadline (None).

Everything here works on many rows at once (a few queries per call, whatever the count): the
alert rules, the filing-deadline list of the alerts page and the API use it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.alert_rules import FILING_CLAIM_STATUSES
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.pipeline import PipelineStage, SessionFacts, derive_stage
from revcycle.services.sessions import HELD_STATUSES, session_facts

__all__ = [
    "Deadline",
    "HeldSession",
    "claim_deadlines",
    "deadlines_of",
    "filing_limits",
    "held_unsent_sessions",
    "payers_on",
    "session_deadlines",
    "upcoming_deadlines",
]

_CHUNK = 500
# A claim past these has gone to the payer: its sessions are no longer unbilled.
UNSENT_CLAIM_STATUSES = frozenset({ClaimStatus.DRAFT, ClaimStatus.READY})
# A claim in these is settled: no filing deadline is left to watch.
_CLOSED_CLAIM_STATUSES = frozenset(
    str(status) for status in (ClaimStatus.PAID, ClaimStatus.WRITTEN_OFF, ClaimStatus.VOID)
)


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def filing_limits(db: Session, practice_id: int) -> dict[int, int]:
    """Payer id -> the practice's filing limit in days."""
    query = select(m.PracticePayer.payer_id, m.PracticePayer.timely_filing_days).where(
        m.PracticePayer.practice_id == practice_id
    )
    return {payer_id: int(days) for payer_id, days in db.execute(query)}


def payers_on(db: Session, practice_id: int, visits: Iterable[tuple[int, int, date]]) -> dict[int, int]:
    """For (key, client_id, day) triples: key -> payer of the client's primary coverage in force
    that day (the latest to start, as claims are built); keys without one are left out."""
    wanted = list(visits)
    clients = sorted({client_id for _, client_id, _ in wanted})
    coverages: dict[int, list[tuple[date | None, date | None, int, int]]] = defaultdict(list)
    for chunk in _chunks(clients):
        query = select(
            m.Coverage.client_id,
            m.Coverage.effective_on,
            m.Coverage.ends_on,
            m.Coverage.id,
            m.Coverage.payer_id,
        ).where(
            m.Coverage.practice_id == practice_id,
            m.Coverage.client_id.in_(chunk),
            m.Coverage.priority == "primary",
        )
        for client_id, starts, ends, coverage_id, payer_id in db.execute(query):
            coverages[client_id].append((starts, ends, coverage_id, payer_id))
    found: dict[int, int] = {}
    for key, client_id, day in wanted:
        active = [
            (starts or date.min, coverage_id, payer_id)
            for starts, ends, coverage_id, payer_id in coverages.get(client_id, ())
            if (starts is None or starts <= day) and (ends is None or ends >= day)
        ]
        if active:
            found[key] = max(active)[2]
    return found


def _claims_of(
    db: Session, session_ids: Sequence[int]
) -> dict[int, list[tuple[int, str, date | None, date, int]]]:
    """Session id -> its claims: (claim id, status, own filing deadline, first date of
    service, payer id)."""
    result: dict[int, list[tuple[int, str, date | None, date, int]]] = defaultdict(list)
    for chunk in _chunks(session_ids):
        query = (
            select(
                m.Charge.session_id,
                m.Claim.id,
                m.Claim.status,
                m.Claim.timely_filing_on,
                m.Claim.service_from_on,
                m.Claim.payer_id,
            )
            .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
            .join(m.Claim, m.Claim.id == m.ClaimLine.claim_id)
            .where(m.Charge.session_id.in_(chunk))
            .distinct()
        )
        for session_id, claim_id, status, own, service_from_on, payer_id in db.execute(query):
            result[session_id].append((claim_id, status, own, service_from_on, payer_id))
    return result


def session_deadlines(db: Session, practice_id: int, session_ids: Sequence[int]) -> dict[int, date | None]:
    """Each session's filing deadline (None where none applies), by id: see :func:`deadlines_of`."""
    ids = list(dict.fromkeys(session_ids))
    sessions: list[m.ServiceSession] = []
    for chunk in _chunks(ids):
        sessions.extend(
            db.scalars(
                select(m.ServiceSession).where(
                    m.ServiceSession.practice_id == practice_id, m.ServiceSession.id.in_(chunk)
                )
            )
        )
    found = deadlines_of(db, sessions)
    return {sid: found.get(sid) for sid in ids}


def deadlines_of(db: Session, sessions: Sequence[m.ServiceSession]) -> dict[int, date]:
    """Each session's filing deadline, where one applies (sessions without one are left out).

    On claims: the earliest deadline of those still open (not paid, written off or void);
    none once they are all closed (every claim void: not billable). On no claim: a held,
    insured session's date of service plus the filing limit of the payer of the primary
    coverage in force that day; a missed, self-pay or uninsured session has none."""
    found: dict[int, date] = {}
    by_practice: dict[int, list[m.ServiceSession]] = defaultdict(list)
    for service in sessions:
        by_practice[service.practice_id].append(service)
    for practice_id, group in by_practice.items():
        limits = filing_limits(db, practice_id)
        claims = _claims_of(db, [s.id for s in group])
        unbilled = [
            s
            for s in group
            if not claims.get(s.id) and s.appointment_status in HELD_STATUSES and not s.self_pay
        ]
        payers = payers_on(db, practice_id, [(s.id, s.client_id, s.service_on) for s in unbilled])
        for service in group:
            if claims.get(service.id):
                open_claims = [
                    _claim_deadline(own, service_from_on, limits.get(payer_id))
                    for _, status, own, service_from_on, payer_id in claims[service.id]
                    if status not in _CLOSED_CLAIM_STATUSES
                ]
                known = [deadline for deadline in open_claims if deadline is not None]
                if known:
                    found[service.id] = min(known)
            elif service.id in payers and payers[service.id] in limits:
                found[service.id] = service.service_on + timedelta(days=limits[payers[service.id]])
    return found


def claim_deadlines(db: Session, practice_id: int, claim_ids: Sequence[int]) -> dict[int, date | None]:
    """Each claim's filing deadline: its own, else its first date of service plus its payer's limit."""
    ids = list(dict.fromkeys(claim_ids))
    limits = filing_limits(db, practice_id)
    deadlines: dict[int, date | None] = dict.fromkeys(ids)
    for chunk in _chunks(ids):
        query = select(m.Claim.id, m.Claim.timely_filing_on, m.Claim.service_from_on, m.Claim.payer_id).where(
            m.Claim.practice_id == practice_id, m.Claim.id.in_(chunk)
        )
        for claim_id, own, service_on, payer_id in db.execute(query):
            deadlines[claim_id] = _claim_deadline(own, service_on, limits.get(payer_id))
    return deadlines


def _claim_deadline(own: date | None, service_on: date, limit_days: int | None) -> date | None:
    if own is not None:
        return own
    return service_on + timedelta(days=limit_days) if limit_days is not None else None


# --- held sessions not yet sent --------------------------------------------------------------


@dataclass(frozen=True)
class HeldSession:
    """A held session that has not gone to a payer, with what the alert rules need."""

    session: m.ServiceSession
    facts: SessionFacts
    payer_id: int | None  # the primary coverage's on the date of service
    deadline_on: date | None

    @property
    def stage(self) -> PipelineStage:
        return derive_stage(self.facts)

    @property
    def on_claim(self) -> bool:
        return any(status is not ClaimStatus.VOID for status in self.facts.claim_statuses)

    @property
    def unbilled(self) -> bool:
        """Insured, not self-pay, and not submitted: on no claim, or only on draft/ready ones."""
        statuses = self.facts.claim_statuses
        live = [status for status in statuses if status is not ClaimStatus.VOID]
        if statuses and not live:
            return False  # every claim void: not billable
        return self.payer_id is not None and not self.facts.self_pay


def held_unsent_sessions(db: Session, practice_id: int) -> list[HeldSession]:
    """Held sessions with no claim that went to a payer (none, or draft/ready only), except
    self-pay sessions whose note is locked (nothing left to do for them)."""
    # NOT EXISTS, not NOT IN: at a million sessions PostgreSQL cannot hash the sent sessions
    # in work_mem and rescans them per session (bench/reports_bench.py).
    sent = (
        select(m.Charge.id)
        .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
        .join(m.Claim, m.Claim.id == m.ClaimLine.claim_id)
        .where(
            m.Charge.session_id == m.ServiceSession.id,
            m.Claim.practice_id == practice_id,
            m.Claim.status.not_in([str(s) for s in (*UNSENT_CLAIM_STATUSES, ClaimStatus.VOID)]),
        )
    )
    query = select(m.ServiceSession).where(
        m.ServiceSession.practice_id == practice_id,
        m.ServiceSession.appointment_status.in_(HELD_STATUSES),
        ~sent.exists(),
        (m.ServiceSession.self_pay.is_(False)) | (m.ServiceSession.note_status != "locked"),
    )
    sessions = list(db.scalars(query.order_by(m.ServiceSession.id)))
    facts = session_facts(db, sessions)
    payers = payers_on(db, practice_id, [(s.id, s.client_id, s.service_on) for s in sessions])
    deadlines = session_deadlines(db, practice_id, [s.id for s in sessions])
    return [HeldSession(s, facts[s.id], payers.get(s.id), deadlines.get(s.id)) for s in sessions]


# --- the list of deadlines coming up ---------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """A session or claim that must reach its payer by ``deadline_on``."""

    subject: str  # session | claim
    id: int
    client_id: int
    payer_id: int | None
    service_on: date
    deadline_on: date
    days_left: int
    stage: str  # the session's pipeline stage, or the claim's status


def upcoming_deadlines(
    db: Session, *, practice_id: int, today: date, within_days: int = 30
) -> list[Deadline]:
    """Unbilled sessions (not on a claim) and claims the payer does not have (draft, ready,
    rejected) whose filing deadline is within ``within_days`` of ``today`` or passed; soonest first."""
    horizon = today + timedelta(days=within_days)
    found = [
        Deadline(
            "session",
            h.session.id,
            h.session.client_id,
            h.payer_id,
            h.session.service_on,
            h.deadline_on,
            (h.deadline_on - today).days,
            str(h.stage),
        )
        for h in held_unsent_sessions(db, practice_id)
        if h.unbilled and not h.on_claim and h.deadline_on is not None and h.deadline_on <= horizon
    ]
    limits = filing_limits(db, practice_id)
    query = select(
        m.Claim.id,
        m.Claim.client_id,
        m.Claim.payer_id,
        m.Claim.service_from_on,
        m.Claim.timely_filing_on,
        m.Claim.status,
    ).where(m.Claim.practice_id == practice_id, m.Claim.status.in_([str(s) for s in FILING_CLAIM_STATUSES]))
    for claim_id, client_id, payer_id, service_on, own, status in db.execute(query):
        deadline = _claim_deadline(own, service_on, limits.get(payer_id))
        if deadline is not None and deadline <= horizon:
            found.append(
                Deadline(
                    "claim",
                    claim_id,
                    client_id,
                    payer_id,
                    service_on,
                    deadline,
                    (deadline - today).days,
                    status,
                )
            )
    return sorted(found, key=lambda d: (d.deadline_on, d.subject, d.id))
