"""Ready sessions become claims.

A biller marks sessions ready in bulk. Only a billable session may be: held (show or
completed), insured (not self-pay, a primary coverage active on the date of service), its
note locked, no open flag holding it (about the session, its client, clinician or payer: the
pipeline's own facts), and at least one charge that is not the patient's alone (a no-show fee
is never billed to insurance). Each refusal names the session and the reason; the others are
marked in the same call.

Ready sessions not yet on a claim then become claims: one per session, except that the
same-day services of one client, clinician and payer combine into one claim. The claim takes
its lines from the charges, its diagnoses from the charges (in order, each once; the lines'
pointers are renumbered into the claim's list), its place of service from the session, the
client's primary coverage active on the date of service, and its timely filing deadline from
the practice's filing limit for the payer. A supervised clinician the payer does not
credential bills under the supervisor where the payer allows it
(:func:`revcycle.services.supervision.choose_billing`). It is scrubbed as it is built: clean, it moves to
``ready``; otherwise it stays ``draft`` with its scrub to show. A session already on a (live)
claim is never claimed twice, so building again is harmless.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.claim_status import ClaimStatus, EventSource
from revcycle.domain.permissions import Permission
from revcycle.domain.pipeline import SessionFacts
from revcycle.domain.scrubber import TIME_BANDS, ScrubContext
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import chunks
from revcycle.services.claims import load_claim, transition_claim
from revcycle.services.claims_pipeline.pointers import decode_pointers, encode_pointers
from revcycle.services.claims_pipeline.scrubbing import ScrubState, run_scrub, run_scrubs
from revcycle.services.sessions import session_facts
from revcycle.services.supervision import choose_billing

__all__ = [
    "BuildResult",
    "BuiltClaim",
    "ReadyResult",
    "Refusal",
    "build_claims",
    "mark_claim_ready",
    "mark_sessions_ready",
    "primary_coverage_on",
]


@dataclass(frozen=True)
class Refusal:
    session_id: int
    reason: str

    def __str__(self) -> str:
        return f"session {self.session_id}: {self.reason}"


@dataclass(frozen=True)
class ReadyResult:
    marked: list[int]
    already_ready: list[int]
    refused: list[Refusal]


@dataclass(frozen=True)
class BuiltClaim:
    claim: m.Claim
    session_ids: list[int]
    scrub: ScrubState


@dataclass(frozen=True)
class BuildResult:
    claims: list[BuiltClaim]
    skipped: list[Refusal]


# --- marking sessions ready ----------------------------------------------------------------


def mark_sessions_ready(session: Session, *, actor: Actor, session_ids: Sequence[int]) -> ReadyResult:
    """Mark the billable sessions ready; refuse the others, each with its reason."""
    sessions = _load_sessions(session, actor, session_ids)
    facts = session_facts(session, sessions)
    claimed = _claimed_session_ids(session, [s.id for s in sessions])
    insurable = _insurable_session_ids(session, [s.id for s in sessions])
    now = utcnow()
    marked, already, refused = [], [], []
    entries: dict[int, list[audit.Entry]] = defaultdict(list)  # by practice
    for service in sessions:
        if service.ready_at is not None:
            already.append(service.id)
            continue
        reason = _unbillable_reason(
            session,
            service,
            facts[service.id],
            claimed=service.id in claimed,
            insurable=service.id in insurable,
        )
        if reason:
            refused.append(Refusal(service.id, reason))
            continue
        service.ready_at, service.ready_by_user_id = now, actor.user_id
        marked.append(service.id)
        entries[service.practice_id].append(
            audit.Entry(
                action="update",
                entity="session",
                entity_id=service.id,
                client_ids=[service.client_id],
                before={"ready_at": None},
                after={"ready_at": now.isoformat()},
                reason="marked ready to bill",
            )
        )
    for practice_id, practice_entries in entries.items():
        audit.record_many(session, actor=actor, practice_id=practice_id, entries=practice_entries)
    session.flush()
    return ReadyResult(marked, already, refused)


def _load_sessions(session: Session, actor: Actor, session_ids: Sequence[int]) -> list[m.ServiceSession]:
    wanted = list(dict.fromkeys(session_ids))
    found = {
        s.id: s for s in session.scalars(select(m.ServiceSession).where(m.ServiceSession.id.in_(wanted)))
    }
    for sid in wanted:
        row = found.get(sid)
        if row is None or not (actor.is_system or row.practice_id in actor.practice_ids):
            raise NotFound(f"session {sid} not found")
        actor.require(row.practice_id, Permission.SUBMIT_CLAIMS)
    return [found[sid] for sid in wanted]


def _unbillable_reason(
    session: Session, service: m.ServiceSession, facts: SessionFacts, *, claimed: bool, insurable: bool
) -> str:
    if claimed:
        return "already on a claim"
    if not facts.held:
        return f"the appointment is {service.appointment_status}, not held"
    if facts.self_pay:
        return "self-pay: nothing to bill to insurance"
    if not facts.note_locked:
        return "the note is not locked"
    if facts.has_holding_flag:
        return "an open flag holds it (about the session, its client, clinician or payer)"
    if not insurable:
        return "no charge to bill to insurance (only patient charges)"
    if primary_coverage_on(session, service.client_id, service.service_on) is None:
        return f"no primary coverage active on {service.service_on}"
    return ""


def primary_coverage_on(session: Session, client_id: int, day: date) -> m.Coverage | None:
    """The client's primary coverage active on ``day`` (the latest to start, if several)."""
    return session.scalars(
        select(m.Coverage)
        .where(
            m.Coverage.client_id == client_id,
            m.Coverage.priority == "primary",
            or_(m.Coverage.effective_on.is_(None), m.Coverage.effective_on <= day),
            or_(m.Coverage.ends_on.is_(None), m.Coverage.ends_on >= day),
        )
        .order_by(m.Coverage.effective_on.desc(), m.Coverage.id.desc())
    ).first()


def _claimed_session_ids(session: Session, ids: Sequence[int]) -> set[int]:
    """Sessions with a charge on a claim that is not void."""
    if not ids:
        return set()
    query = (
        select(m.Charge.session_id)
        .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
        .join(m.Claim, m.Claim.id == m.ClaimLine.claim_id)
        .where(m.Charge.session_id.in_(ids), m.Claim.status != str(ClaimStatus.VOID))
    )
    return set(session.scalars(query))


def _insurable_session_ids(session: Session, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    query = select(m.Charge.session_id).where(m.Charge.session_id.in_(ids), m.Charge.patient_only.is_(False))
    return set(session.scalars(query))


# --- building claims -----------------------------------------------------------------------


def build_claims(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    session_ids: Sequence[int] | None = None,
    today: date | None = None,
    context: ScrubContext | None = None,
) -> BuildResult:
    """Turn the practice's ready sessions (or those of ``session_ids``) not yet on a claim into
    claims, scrubbed as they are built."""
    actor.require(practice_id, Permission.SUBMIT_CLAIMS)
    query = select(m.ServiceSession).where(
        m.ServiceSession.practice_id == practice_id, m.ServiceSession.ready_at.is_not(None)
    )
    if session_ids is not None:
        query = query.where(m.ServiceSession.id.in_(list(session_ids)))
    ready = list(session.scalars(query.order_by(m.ServiceSession.starts_at, m.ServiceSession.id)))
    claimed = _claimed_session_ids(session, [s.id for s in ready])
    groups: dict[tuple[int, int, int, date], list[tuple[m.ServiceSession, m.Coverage]]] = defaultdict(list)
    skipped = []
    for service in ready:
        if service.id in claimed:
            continue
        coverage = primary_coverage_on(session, service.client_id, service.service_on)
        if coverage is None:
            skipped.append(Refusal(service.id, f"no primary coverage active on {service.service_on}"))
            continue
        key = (service.client_id, service.provider_id, coverage.payer_id, service.service_on)
        groups[key].append((service, coverage))
    built = _build_all(session, actor, list(groups.values()), today=today, context=context)
    return BuildResult(built, skipped)


def _build_all(
    session: Session,
    actor: Actor,
    groups: list[list[tuple[m.ServiceSession, m.Coverage]]],
    *,
    today: date | None,
    context: ScrubContext | None,
) -> list[BuiltClaim]:
    """Build the groups' claims together: what they read loaded once (charges, the practice's
    payer settings, authorizations), the claims and their lines inserted with a flush each,
    scrubbed together; then, claim by claim, the audit row and the move to ready, so the log
    reads as if each claim had been built on its own."""
    if not groups:
        return []
    charges = _insurance_charges_by_session(
        session, [service for members in groups for service, _ in members]
    )
    settings = _payer_settings(session, groups)
    authorizations = _authorizations_by_coverage(session, [members[0][1] for members in groups])
    drafts = []
    for members in groups:
        services = [service for service, _ in members]
        claim_charges = [(charge, service) for service in services for charge in charges.get(service.id, [])]
        first, coverage = members[0]
        diagnoses = claim_diagnoses(claim_charges)
        draft = _new_claim(
            session,
            members,
            charges=claim_charges,
            diagnoses=diagnoses,
            settings=settings.get((first.practice_id, coverage.payer_id)),
            authorization_number=_authorization_number(authorizations.get(coverage.id, []), first.service_on),
        )
        session.add(draft)
        drafts.append((draft, services, claim_charges, diagnoses))
    session.flush()
    for claim, _, claim_charges, diagnoses in drafts:
        claim.number = claim_number(claim.id)
        session.add_all(claim_lines(claim, claim_charges, diagnoses))
    session.flush()
    claims = [claim for claim, _, _, _ in drafts]
    states = run_scrubs(session, actor=actor, claims=claims, today=today, context=context)
    built = []
    for (claim, services, _, _), state in zip(drafts, states, strict=True):
        audit.record(
            session,
            actor=actor,
            practice_id=claim.practice_id,
            action="create",
            entity="claim",
            entity_id=claim.id,
            client_ids=[claim.client_id],
            after={
                "number": claim.number,
                "sessions": [s.id for s in services],
                "billed_cents": claim.billed_cents,
            },
        )
        if state.is_clean:
            _to_ready(session, actor, claim)
        built.append(BuiltClaim(claim, [s.id for s in services], state))
    return built


def _new_claim(
    session: Session,
    members: list[tuple[m.ServiceSession, m.Coverage]],
    *,
    charges: list[tuple[m.Charge, m.ServiceSession]],
    diagnoses: list[str],
    settings: m.PracticePayer | None,
    authorization_number: str,
) -> m.Claim:
    """A draft claim for one group of same-day sessions (not added to the session)."""
    first, coverage = members[0]
    billing = choose_billing(
        session,
        practice_id=first.practice_id,
        provider_id=first.provider_id,
        payer_id=coverage.payer_id,
        day=first.service_on,
    )
    return m.Claim(
        practice_id=first.practice_id,
        number=uuid.uuid4().hex[:17],  # replaced by the numbered one once the id exists
        client_id=first.client_id,
        provider_id=billing.provider_id,
        billing_basis=billing.billing_basis,
        performed_by_provider_id=billing.performed_by_provider_id,
        payer_id=coverage.payer_id,
        coverage_id=coverage.id,
        status=str(ClaimStatus.DRAFT),
        service_from_on=first.service_on,
        service_to_on=first.service_on,
        billed_cents=sum(charge.fee_cents for charge, _ in charges),
        timely_filing_on=first.service_on + timedelta(days=settings.timely_filing_days) if settings else None,
        place_of_service=first.place_of_service,
        diagnosis_codes=diagnoses,
        prior_authorization_number=authorization_number,
        supervising_provider_id=billing.supervising_provider_id,
        source="session",
    )


def claim_number(claim_id: int) -> str:
    """CLM01: ``RC`` and the claim's id, unique in the practice, at most 17 characters."""
    return f"RC{claim_id:08d}"


def _insurance_charges_by_session(
    session: Session, services: Sequence[m.ServiceSession]
) -> dict[int, list[m.Charge]]:
    """Each session's charges billed to insurance, in the order they were entered."""
    found: dict[int, list[m.Charge]] = defaultdict(list)
    for chunk in chunks(sorted({s.id for s in services})):
        rows = session.scalars(
            select(m.Charge)
            .where(m.Charge.session_id.in_(chunk), m.Charge.patient_only.is_(False))
            .order_by(m.Charge.id)
        )
        for charge in rows:
            found[charge.session_id].append(charge)
    return found


def _payer_settings(
    session: Session, groups: Sequence[Sequence[tuple[m.ServiceSession, m.Coverage]]]
) -> dict[tuple[int, int], m.PracticePayer]:
    """The practice's settings for each payer the groups bill, by (practice, payer)."""
    wanted = {(members[0][0].practice_id, members[0][1].payer_id) for members in groups}
    found: dict[tuple[int, int], m.PracticePayer] = {}
    for practice_id in {practice_id for practice_id, _ in wanted}:
        payer_ids = sorted(payer_id for p, payer_id in wanted if p == practice_id)
        rows = session.scalars(
            select(m.PracticePayer).where(
                m.PracticePayer.practice_id == practice_id, m.PracticePayer.payer_id.in_(payer_ids)
            )
        )
        found.update(((row.practice_id, row.payer_id), row) for row in rows)
    return found


def _authorizations_by_coverage(
    session: Session, coverages: Sequence[m.Coverage]
) -> dict[int, list[m.Authorization]]:
    """The coverages' authorizations, latest start first (then latest id)."""
    found: dict[int, list[m.Authorization]] = defaultdict(list)
    for chunk in chunks(sorted({c.id for c in coverages})):
        rows = session.scalars(
            select(m.Authorization)
            .where(m.Authorization.coverage_id.in_(chunk))
            .order_by(m.Authorization.starts_on.desc(), m.Authorization.id.desc())
        )
        for row in rows:
            found[row.coverage_id].append(row)
    return found


def claim_diagnoses(charges: Sequence[tuple[m.Charge, m.ServiceSession]]) -> list[str]:
    """The claim's diagnoses: every charge's codes, normalized, first seen first, once each."""
    codes: list[str] = []
    for charge, _ in charges:
        for code in charge.diagnosis_codes:
            text = str(code).strip().upper()
            if text and text not in codes:
                codes.append(text)
    return codes


def claim_lines(
    claim: m.Claim, charges: Sequence[tuple[m.Charge, m.ServiceSession]], diagnoses: list[str]
) -> list[m.ClaimLine]:
    """One line a charge, numbered in order, its pointers into the claim's ``diagnoses`` (built
    with a claim and rebuilt when its charges change, services.charges)."""
    return [
        _line(claim, number, charge, service, diagnoses=diagnoses, charges=charges)
        for number, (charge, service) in enumerate(charges, start=1)
    ]


def _line(
    claim: m.Claim,
    number: int,
    charge: m.Charge,
    service: m.ServiceSession,
    *,
    diagnoses: list[str],
    charges: Sequence[tuple[m.Charge, m.ServiceSession]],
) -> m.ClaimLine:
    own = [str(code).strip().upper() for code in charge.diagnosis_codes]
    pointers = [
        diagnoses.index(own[p - 1]) + 1
        for p in decode_pointers(charge.diagnosis_pointers)
        if p <= len(own) and own[p - 1]
    ]
    return m.ClaimLine(
        practice_id=claim.practice_id,
        claim_id=claim.id,
        charge_id=charge.id,
        line_number=number,
        procedure_code=charge.procedure_code,
        modifiers=charge.modifiers,
        units=charge.units,
        charge_cents=charge.fee_cents,
        service_on=service.service_on,
        diagnosis_pointers=encode_pointers(pointers),
        minutes=_minutes(charge, service, charges),
    )


def _minutes(
    charge: m.Charge, service: m.ServiceSession, charges: Sequence[tuple[m.Charge, m.ServiceSession]]
) -> int | None:
    """The session's minutes for its one time-based code (with two, whose minutes are whose
    is not known: left for a person to enter)."""
    if charge.minutes is not None:  # entered with the charge (services.charges)
        return charge.minutes
    if charge.procedure_code not in TIME_BANDS:
        return None
    timed = [c for c, s in charges if s.id == service.id and c.procedure_code in TIME_BANDS]
    return service.duration_minutes if len(timed) == 1 else None


def _authorization_number(authorizations: Sequence[m.Authorization], day: date) -> str:
    """The number of the latest-starting authorization in force on ``day`` (``""``: none)."""
    for row in authorizations:
        if row.starts_on <= day <= row.ends_on:
            return row.number or ""
    return ""


def _to_ready(session: Session, actor: Actor, claim: m.Claim) -> None:
    source = EventSource.SYSTEM if actor.is_system else EventSource.USER
    transition_claim(
        session,
        actor=actor,
        claim_id=claim.id,
        target=ClaimStatus.READY,
        source=source,
        detail="scrubbed clean",
    )


def mark_claim_ready(
    session: Session,
    *,
    actor: Actor,
    claim_id: int,
    today: date | None = None,
    context: ScrubContext | None = None,
) -> ScrubState:
    """Scrub a draft claim again (after a correction or an override) and move it to ready when
    clean; the scrub is returned either way."""
    claim = load_claim(session, actor=actor, claim_id=claim_id)
    actor.require(claim.practice_id, Permission.SUBMIT_CLAIMS)
    if claim.status != str(ClaimStatus.DRAFT):
        raise InvalidInput(f"claim {claim.number} is {claim.status}; only a draft claim is made ready")
    state = run_scrub(session, actor=actor, claim=claim, today=today, context=context)
    if state.is_clean:
        _to_ready(session, actor, claim)
    return state
