"""Scrubbing a stored claim: its rows gathered into the scrubber's facts, the edits run, the
run kept (:class:`ClaimScrub`), and warnings overridden with a reason.

The scrubber itself is pure (:mod:`revcycle.domain.scrubber`); this module reads what it
needs — the practice's billing entity, the rendering and supervising providers, the client as
patient, the coverage and its subscriber, the payer with the practice's settings for it
(prior authorization required? filing limit?), the authorization in force on the date of
service, the lines and the diagnoses — and stores every run, so a claim shows which edits ran
and what they found.

A claim is *clean* when its latest scrub has no error and each of its warnings has been
overridden by a person with a reason (a :class:`ScrubOverride` and an audit row). Errors
cannot be overridden: the claim must be corrected and scrubbed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain import scrubber as s
from revcycle.domain.permissions import Permission
from revcycle.domain.problems import Problem, Severity
from revcycle.errors import Conflict, InvalidInput
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.claims import load_claim
from revcycle.services.claims_pipeline.pointers import decode_pointers
from revcycle.services.codesets import scrub_context_for
from revcycle.services.supervision import supervision_facts

__all__ = [
    "ScrubState",
    "claim_facts",
    "override_warning",
    "practice_today",
    "scrub_claim",
    "scrub_state",
]


@dataclass(frozen=True)
class ScrubState:
    """A claim's latest scrub and what people accepted of it."""

    scrub: m.ClaimScrub | None
    problems: tuple[Problem, ...]
    overridden: frozenset[tuple[str, str]]  # (problem code, where)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def open_warnings(self) -> tuple[Problem, ...]:
        """Warnings nobody has overridden yet."""
        return tuple(
            p
            for p in self.problems
            if p.severity is Severity.WARNING and (p.code, p.where) not in self.overridden
        )

    @property
    def is_clean(self) -> bool:
        """Scrubbed, no error, every warning overridden."""
        return self.scrub is not None and not self.errors and not self.open_warnings


def practice_today(session: Session, practice_id: int) -> date:
    """Today on the practice's calendar."""
    zone = session.get_one(m.Practice, practice_id).timezone
    return datetime.now(ZoneInfo(zone or "UTC")).date()


# --- facts -------------------------------------------------------------------------------


def claim_facts(session: Session, claim: m.Claim, *, today: date) -> s.ClaimFacts:
    """The scrubber's view of a stored claim."""
    practice = session.get_one(m.Practice, claim.practice_id)
    client = session.get_one(m.Client, claim.client_id)
    patient = _person_of_client(client)
    coverage = session.get(m.Coverage, claim.coverage_id) if claim.coverage_id else None
    lines = tuple(_line(line) for line in claim.lines)
    return s.ClaimFacts(
        claim_number=claim.number,
        service_from_on=claim.service_from_on,
        service_to_on=claim.service_to_on,
        place_of_service=claim.place_of_service,
        billing_provider=_billing_provider(practice),
        patient=patient,
        coverage=_coverage(coverage, patient),
        payer=_payer(session, claim),
        diagnosis_codes=tuple(str(code) for code in claim.diagnosis_codes),
        lines=lines,
        today=today,
        rendering_provider=_provider(session, claim.provider_id),
        supervising_provider=_provider(session, claim.supervising_provider_id),
        authorization=_authorization(session, claim, coverage),
        supervision=supervision_facts(session, claim),
    )


def _billing_provider(practice: m.Practice) -> s.BillingProvider:
    return s.BillingProvider(
        name=practice.legal_name or practice.name,
        npi=practice.group_npi,
        tax_id=practice.tax_id,
        taxonomy_code=practice.taxonomy_code,
        address=s.Address(
            line1=practice.address_line1,
            line2=practice.address_line2,
            city=practice.city,
            state=practice.state,
            postal_code=practice.postal_code,
        ),
    )


def _person_of_client(client: m.Client) -> s.Person:
    address = None
    if client.address_line1 or client.city or client.postal_code:
        address = s.Address(
            line1=client.address_line1,
            line2=client.address_line2,
            city=client.city,
            state=client.state,
            postal_code=client.postal_code,
        )
    return s.Person(client.last_name, client.first_name, client.date_of_birth, client.sex, address)


def _coverage(coverage: m.Coverage | None, patient: s.Person) -> s.Coverage:
    if coverage is None:  # the required-fields edit reports the missing member id
        return s.Coverage(member_id="", subscriber=patient)
    relationship = coverage.relationship_to_subscriber or "self"
    subscriber = patient
    if relationship.strip().lower() not in {"self", "18"}:
        subscriber = s.Person(
            coverage.subscriber_last_name,
            coverage.subscriber_first_name,
            coverage.subscriber_date_of_birth,
            coverage.subscriber_sex,
        )
    return s.Coverage(
        member_id=coverage.member_id,
        subscriber=subscriber,
        relationship_to_subscriber=relationship,
        group_number=coverage.group_number,
        effective_on=coverage.effective_on,
        ends_on=coverage.ends_on,
    )


def _payer(session: Session, claim: m.Claim) -> s.Payer:
    payer = session.get_one(m.Payer, claim.payer_id)
    settings = _practice_payer(session, claim.practice_id, claim.payer_id)
    return s.Payer(
        name=payer.name,
        payer_id=payer.edi_payer_id,
        requires_prior_auth=settings.requires_prior_auth if settings else False,
        filing_limit_days=settings.timely_filing_days if settings else None,
        billing_route=settings.billing_route if settings else "clearinghouse",
    )


def _practice_payer(session: Session, practice_id: int, payer_id: int) -> m.PracticePayer | None:
    return session.scalars(
        select(m.PracticePayer).where(
            m.PracticePayer.practice_id == practice_id, m.PracticePayer.payer_id == payer_id
        )
    ).one_or_none()


def _provider(session: Session, provider_id: int | None) -> s.Provider | None:
    if provider_id is None:
        return None
    row = session.get_one(m.Provider, provider_id)
    return s.Provider(row.last_name, row.first_name, row.npi, row.taxonomy_code)


def _authorization(session: Session, claim: m.Claim, coverage: m.Coverage | None) -> s.Authorization | None:
    """The claim's authorization: the one whose number it carries, else the coverage's
    authorization running on the date of service (the latest to start)."""
    if coverage is None:
        return None
    query = select(m.Authorization).where(m.Authorization.coverage_id == coverage.id)
    if claim.prior_authorization_number:
        query = query.where(m.Authorization.number == claim.prior_authorization_number)
    else:
        query = query.where(
            m.Authorization.starts_on <= claim.service_from_on,
            m.Authorization.ends_on >= claim.service_from_on,
        )
    row = session.scalars(query.order_by(m.Authorization.starts_on.desc(), m.Authorization.id.desc())).first()
    if row is None:
        return None
    return s.Authorization(row.number, row.starts_on, row.ends_on, row.visits_allowed, row.visits_used)


def _line(line: m.ClaimLine) -> s.ClaimLine:
    return s.ClaimLine(
        procedure_code=line.procedure_code,
        charge_cents=line.charge_cents,
        units=line.units,
        modifiers=tuple(mod for mod in line.modifiers.split(":") if mod),
        diagnosis_pointers=decode_pointers(line.diagnosis_pointers),
        minutes=line.minutes,
        service_on=line.service_on,
    )


# --- running and overriding ----------------------------------------------------------------


def scrub_claim(
    session: Session,
    *,
    actor: Actor,
    claim_id: int,
    today: date | None = None,
    context: s.ScrubContext | None = None,
) -> ScrubState:
    """Run every edit over the claim as stored, keep the run, and return the claim's state."""
    claim = load_claim(session, actor=actor, claim_id=claim_id)
    actor.require(claim.practice_id, Permission.SUBMIT_CLAIMS)
    return run_scrub(session, actor=actor, claim=claim, today=today, context=context)


def run_scrub(
    session: Session,
    *,
    actor: Actor,
    claim: m.Claim,
    today: date | None = None,
    context: s.ScrubContext | None = None,
) -> ScrubState:
    """:func:`scrub_claim` for a claim already loaded and checked (the builder's path)."""
    today = today or practice_today(session, claim.practice_id)
    context = context or scrub_context_for(session, claim)
    result = s.scrub(claim_facts(session, claim, today=today), context)
    session.add(
        m.ClaimScrub(
            practice_id=claim.practice_id,
            claim_id=claim.id,
            edits=list(result.edit_ids),
            problems=[_problem_json(problem) for problem in result.problems],
            has_errors=result.has_errors,
            ran_by_user_id=actor.user_id,
        )
    )
    session.flush()
    return scrub_state(session, claim.id)


def scrub_state(session: Session, claim_id: int) -> ScrubState:
    """The claim's latest scrub (``None`` before the first) and its overrides."""
    latest = session.scalars(
        select(m.ClaimScrub)
        .where(m.ClaimScrub.claim_id == claim_id)
        .order_by(m.ClaimScrub.ran_at.desc(), m.ClaimScrub.id.desc())
        .limit(1)
    ).first()
    overridden = frozenset(
        (code, where)
        for code, where in session.execute(
            select(m.ScrubOverride.problem_code, m.ScrubOverride.where).where(
                m.ScrubOverride.claim_id == claim_id
            )
        )
    )
    problems = tuple(_problem_from_json(row) for row in latest.problems) if latest else ()
    return ScrubState(latest, problems, overridden)


def override_warning(
    session: Session,
    *,
    actor: Actor,
    claim_id: int,
    problem_code: str,
    where: str,
    reason: str,
) -> m.ScrubOverride:
    """Accept one warning of the claim's latest scrub, for a reason (audited).

    Only a warning the latest scrub found may be overridden; an error never.
    """
    claim = load_claim(session, actor=actor, claim_id=claim_id)
    actor.require(claim.practice_id, Permission.SUBMIT_CLAIMS)
    if not reason.strip():
        raise InvalidInput("reason: say why the warning may be overridden")
    state = scrub_state(session, claim.id)
    found = [p for p in state.problems if p.code == problem_code and p.where == where]
    if not found:
        raise InvalidInput(f"claim {claim.number}: its latest scrub has no {problem_code} at {where!r}")
    if found[0].severity is Severity.ERROR:
        raise InvalidInput(
            f"claim {claim.number}: {problem_code} at {where!r} is an error; correct the claim, "
            "errors cannot be overridden"
        )
    if (problem_code, where) in state.overridden:
        raise Conflict(f"claim {claim.number}: {problem_code} at {where!r} is already overridden")
    row = m.ScrubOverride(
        practice_id=claim.practice_id,
        claim_id=claim.id,
        problem_code=problem_code,
        where=where,
        reason=reason.strip(),
        user_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=claim.practice_id,
        action="create",
        entity="scrub_override",
        entity_id=row.id,
        client_ids=[claim.client_id],
        after={"claim_id": claim.id, "problem_code": problem_code, "where": where},
        reason=row.reason,
    )
    return row


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "code": problem.code,
        "where": problem.where,
        "message": problem.message,
        "severity": str(problem.severity),
    }


def _problem_from_json(row: dict[str, Any]) -> Problem:
    return Problem(row["code"], row["where"], row["message"], Severity(row["severity"]))
