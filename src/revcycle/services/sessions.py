"""Reading sessions with their pipeline stage.

The stage is derived (``domain.pipeline.derive_stage``), never stored. Its facts come from
four places — the session row, its claims (through claim lines and charges), open import
flags that hold billing, and the patient's balance on its charges — and are loaded for a
whole page of sessions in one query each, never one query per session.

A stage filter cannot be pushed into SQL (the stage is derived), so with one the matching
sessions are walked in chunks, their stages derived, and the page cut from the result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.permissions import Permission
from revcycle.domain.pipeline import PipelineStage, SessionFacts, derive_stage
from revcycle.services.actor import Actor
from revcycle.services.scoping import (
    DEFAULT_LIMIT,
    Page,
    RowSelect,
    clamp_limit,
    get_visible,
    practice_scopes,
    visible,
)

HELD_STATUSES = frozenset({"show", "completed"})
_CHUNK = 500


@dataclass(frozen=True)
class SessionFilters:
    stage: PipelineStage | None = None
    provider_id: int | None = None
    client_id: int | None = None
    month: date | None = None  # any day of the month; dates of service are the practice's
    note_pending: bool = False  # held, note not locked yet (a therapist's to-do)
    client_search: str = ""  # part of the client's first or last name
    since: date | None = None  # dates of service from (inclusive)
    until: date | None = None  # ... to (inclusive)
    payer_id: int | None = None  # a payer that covers the client (any priority)
    session_ids: tuple[int, ...] | None = None  # only these: the sessions behind a dashboard figure


@dataclass(frozen=True)
class SessionRow:
    id: int
    practice_id: int
    client_id: int
    client_name: str
    provider_id: int
    provider_name: str
    starts_at: datetime
    service_on: date
    appointment_status: str
    note_status: str
    stage: PipelineStage
    charge_cents: int
    patient_balance_cents: int
    timezone: str
    # The timely filing deadline: the earliest of its open claims', or, not billed yet, the
    # date of service plus the filing limit of the payer of its primary coverage.
    filing_deadline_on: date | None = None


@dataclass(frozen=True)
class ClaimSummary:
    id: int
    number: str
    status: str
    payer_name: str
    billed_cents: int
    events: list[m.ClaimEvent] = field(default_factory=list)


@dataclass(frozen=True)
class SessionDetail:
    row: SessionRow
    charges: list[m.Charge]
    claims: list[ClaimSummary]


def month_bounds(day: date) -> tuple[date, date]:
    """The first day of ``day``'s month and the first day of the next."""
    first = day.replace(day=1)
    following = (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )
    return first, following


def _base_query(conditions: Sequence[ColumnElement[bool]]) -> RowSelect:
    provider = aliased(m.Provider)
    client = aliased(m.Client)
    return (
        select(
            m.ServiceSession,
            client.first_name,
            client.last_name,
            provider.first_name,
            provider.last_name,
            provider.credentials,
            m.Practice.timezone,
        )
        .join(client, client.id == m.ServiceSession.client_id)
        .join(provider, provider.id == m.ServiceSession.provider_id)
        .join(m.Practice, m.Practice.id == m.ServiceSession.practice_id)
        .where(*conditions)
    )


def _conditions(actor: Actor, practice_id: int | None, filters: SessionFilters) -> list[ColumnElement[bool]]:
    scopes = practice_scopes(actor, Permission.VIEW_SESSIONS, practice_id)
    conditions: list[ColumnElement[bool]] = [visible(m.ServiceSession, actor, scopes)]
    if filters.provider_id is not None:
        conditions.append(m.ServiceSession.provider_id == filters.provider_id)
    if filters.client_id is not None:
        conditions.append(m.ServiceSession.client_id == filters.client_id)
    if filters.month is not None:
        first, following = month_bounds(filters.month)
        conditions.append(and_(m.ServiceSession.service_on >= first, m.ServiceSession.service_on < following))
    if filters.note_pending:
        conditions.append(m.ServiceSession.appointment_status.in_(HELD_STATUSES))
        conditions.append(m.ServiceSession.note_status != "locked")
    if filters.since is not None:
        conditions.append(m.ServiceSession.service_on >= filters.since)
    if filters.until is not None:
        conditions.append(m.ServiceSession.service_on <= filters.until)
    if filters.client_search.strip():
        conditions.append(m.ServiceSession.client_id.in_(client_name_matches(filters.client_search)))
    if filters.payer_id is not None:
        covered = select(m.Coverage.client_id).where(m.Coverage.payer_id == filters.payer_id)
        conditions.append(m.ServiceSession.client_id.in_(covered))
    if filters.session_ids is not None:
        conditions.append(m.ServiceSession.id.in_(filters.session_ids))
    return conditions


def client_name_matches(text: str) -> Select[int]:
    """Ids of clients whose first name, last name or "first last" contains ``text``."""
    pattern = f"%{text.strip().lower()}%"
    full = func.lower(m.Client.first_name + " " + m.Client.last_name)
    return select(m.Client.id).where(
        or_(
            func.lower(m.Client.first_name).like(pattern),
            func.lower(m.Client.last_name).like(pattern),
            full.like(pattern),
        )
    )


def list_sessions(
    session: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    filters: SessionFilters | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[SessionRow]:
    """A page of the sessions the actor may see, newest first, each with its stage."""
    filters = filters or SessionFilters()
    limit, offset = clamp_limit(limit), max(offset, 0)
    conditions = _conditions(actor, practice_id, filters)
    ordered = _base_query(conditions).order_by(m.ServiceSession.starts_at.desc(), m.ServiceSession.id.desc())
    if filters.stage is None:
        total = session.scalar(select(func.count()).select_from(m.ServiceSession).where(*conditions)) or 0
        rows = list(session.execute(ordered.limit(limit).offset(offset)))
        return Page(_to_rows(session, rows), total)
    matching = [row for row in _walk(session, ordered) if row.stage == filters.stage]
    return Page(matching[offset : offset + limit], len(matching))


def stage_counts(
    session: Session, *, actor: Actor, practice_id: int | None = None, filters: SessionFilters | None = None
) -> dict[PipelineStage, int]:
    """How many visible sessions stand at each stage (every stage present, zeros included)."""
    counts = dict.fromkeys(PipelineStage, 0)
    conditions = _conditions(actor, practice_id, filters or SessionFilters())
    for row in _walk(session, _base_query(conditions).order_by(m.ServiceSession.id)):
        counts[row.stage] += 1
    return counts


def _walk(session: Session, query: RowSelect) -> Iterator[SessionRow]:
    """Every row of the query with its stage, loaded a chunk at a time."""
    offset = 0
    while True:
        rows = list(session.execute(query.limit(_CHUNK).offset(offset)))
        yield from _to_rows(session, rows)
        if len(rows) < _CHUNK:
            return
        offset += _CHUNK


def get_session_detail(session: Session, *, actor: Actor, session_id: int) -> SessionDetail:
    """One session with its charges, its claims and their events (NotFound when not visible)."""
    found = get_visible(session, m.ServiceSession, session_id, actor, Permission.VIEW_SESSIONS)
    rows = list(session.execute(_base_query([m.ServiceSession.id == found.id])))
    row = _to_rows(session, rows)[0]
    charges = list(
        session.scalars(select(m.Charge).where(m.Charge.session_id == found.id).order_by(m.Charge.id))
    )
    return SessionDetail(row, charges, _claims_of(session, found.id))


def _claims_of(session: Session, session_id: int) -> list[ClaimSummary]:
    claim_ids = (
        select(m.ClaimLine.claim_id)
        .join(m.Charge, m.Charge.id == m.ClaimLine.charge_id)
        .where(m.Charge.session_id == session_id)
    )
    claims = list(
        session.execute(
            select(m.Claim, m.Payer.name)
            .join(m.Payer, m.Payer.id == m.Claim.payer_id)
            .where(m.Claim.id.in_(claim_ids))
            .order_by(m.Claim.id)
        )
    )
    events: dict[int, list[m.ClaimEvent]] = defaultdict(list)
    for event in session.scalars(
        select(m.ClaimEvent)
        .where(m.ClaimEvent.claim_id.in_([claim.id for claim, _ in claims]))
        .order_by(m.ClaimEvent.created_at, m.ClaimEvent.id)
    ):
        events[event.claim_id].append(event)
    return [
        ClaimSummary(claim.id, claim.number, claim.status, payer_name, claim.billed_cents, events[claim.id])
        for claim, payer_name in claims
    ]


# --- facts in bulk ---------------------------------------------------------------------------


def _to_rows(session: Session, rows: Sequence[Any]) -> list[SessionRow]:
    sessions: list[m.ServiceSession] = [row[0] for row in rows]
    facts = session_facts(session, sessions)
    charges = _charge_totals(session, [s.id for s in sessions])
    deadlines = filing_deadlines(session, sessions)
    result = []
    for row in rows:
        service, client_first, client_last, provider_first, provider_last, credentials, timezone = row
        suffix = f", {credentials}" if credentials else ""
        result.append(
            SessionRow(
                id=service.id,
                practice_id=service.practice_id,
                client_id=service.client_id,
                client_name=f"{client_first} {client_last}",
                provider_id=service.provider_id,
                provider_name=f"{provider_first} {provider_last}{suffix}",
                starts_at=service.starts_at,
                service_on=service.service_on,
                appointment_status=service.appointment_status,
                note_status=service.note_status,
                stage=derive_stage(facts[service.id]),
                charge_cents=charges.get(service.id, 0),
                patient_balance_cents=facts[service.id].patient_balance_cents,
                timezone=timezone,
                filing_deadline_on=deadlines.get(service.id),
            )
        )
    return result


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def session_facts(session: Session, sessions: Iterable[m.ServiceSession]) -> dict[int, SessionFacts]:
    """The pipeline facts of many sessions, in four queries per chunk of sessions."""
    by_id = {s.id: s for s in sessions}
    ids = list(by_id)
    claims = _claim_statuses(session, ids)
    flagged = _held_by_flags(session, by_id.values())
    balances = _patient_balances(session, ids)
    fees = _has_fee(session, ids)
    return {
        sid: SessionFacts(
            appointment_status=s.appointment_status,
            held=s.appointment_status in HELD_STATUSES,
            note_locked=s.note_status == "locked",
            has_holding_flag=sid in flagged,
            self_pay=s.self_pay,
            has_fee=sid in fees,
            claim_statuses=tuple(claims.get(sid, ())),
            patient_balance_cents=balances.get(sid, 0),
        )
        for sid, s in by_id.items()
    }


def _claim_statuses(session: Session, ids: Sequence[int]) -> Mapping[int, list[ClaimStatus]]:
    result: dict[int, list[ClaimStatus]] = defaultdict(list)
    for chunk in _chunks(ids):
        query = (
            select(m.Charge.session_id, m.Claim.id, m.Claim.status)
            .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
            .join(m.Claim, m.Claim.id == m.ClaimLine.claim_id)
            .where(m.Charge.session_id.in_(chunk))
            .distinct()
        )
        for session_id, _claim_id, status in session.execute(query):
            result[session_id].append(ClaimStatus(status))
    return result


def _held_by_flags(session: Session, sessions: Iterable[m.ServiceSession]) -> set[int]:
    """Sessions an open holding flag stops: one about the session itself, or one about its
    client, its clinician or a payer covering its client as a whole (no session: a missing
    member id, an unknown clinician, an unknown payer)."""
    listed = list(sessions)
    ids = [s.id for s in listed]
    held: set[int] = set()
    for chunk in _chunks(ids):
        query = select(m.WorkItem.session_id).where(
            m.WorkItem.session_id.in_(chunk),
            m.WorkItem.holds_billing.is_(True),
            m.WorkItem.status != "resolved",
        )
        held.update(sid for sid in session.scalars(query) if sid is not None)
    practices = {s.practice_id for s in listed}
    if not practices:
        return held
    whole = session.execute(
        select(m.WorkItem.client_id, m.WorkItem.provider_id, m.WorkItem.payer_id).where(
            m.WorkItem.practice_id.in_(practices),
            m.WorkItem.session_id.is_(None),
            m.WorkItem.claim_id.is_(None),
            m.WorkItem.holds_billing.is_(True),
            m.WorkItem.status != "resolved",
            or_(
                m.WorkItem.client_id.is_not(None),
                m.WorkItem.provider_id.is_not(None),
                m.WorkItem.payer_id.is_not(None),
            ),
        )
    ).all()
    clients = {client for client, _, _ in whole if client is not None}
    providers = {provider for _, provider, _ in whole if provider is not None}
    payers = {payer for _, _, payer in whole if payer is not None}
    if payers:
        clients.update(
            session.scalars(
                select(m.Coverage.client_id).where(
                    m.Coverage.practice_id.in_(practices), m.Coverage.payer_id.in_(payers)
                )
            )
        )
    held.update(s.id for s in listed if s.client_id in clients or s.provider_id in providers)
    return held


def _patient_balances(session: Session, ids: Sequence[int]) -> dict[int, int]:
    """What the patient owes on each session's charges, from the per-charge balance rows."""
    balances: dict[int, int] = {}
    for chunk in _chunks(ids):
        query = (
            select(m.Charge.session_id, func.sum(m.LedgerBalance.balance_cents))
            .join(
                m.LedgerBalance,
                and_(
                    m.LedgerBalance.scope == BalanceScope.CHARGE.value,
                    m.LedgerBalance.scope_id == m.Charge.id,
                    m.LedgerBalance.practice_id == m.Charge.practice_id,
                ),
            )
            .where(m.Charge.session_id.in_(chunk), m.LedgerBalance.account == Account.AR_PATIENT.value)
            .group_by(m.Charge.session_id)
        )
        balances.update({sid: int(total or 0) for sid, total in session.execute(query)})
    return balances


def _has_fee(session: Session, ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(ids):
        query = select(m.Charge.session_id).where(m.Charge.session_id.in_(chunk), m.Charge.fee_cents > 0)
        found.update(session.scalars(query))
    return found


def _charge_totals(session: Session, ids: Sequence[int]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for chunk in _chunks(ids):
        query = (
            select(m.Charge.session_id, func.sum(m.Charge.fee_cents))
            .where(m.Charge.session_id.in_(chunk))
            .group_by(m.Charge.session_id)
        )
        totals.update({sid: int(total or 0) for sid, total in session.execute(query)})
    return totals


def filing_deadlines(session: Session, sessions: Sequence[m.ServiceSession]) -> dict[int, date]:
    """Each session's timely filing deadline, where one applies (services.timely_filing)."""
    from revcycle.services.timely_filing import deadlines_of  # it builds on this module

    return deadlines_of(session, sessions)
