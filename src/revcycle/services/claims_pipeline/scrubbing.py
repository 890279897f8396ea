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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import inspect, select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from revcycle.db import models as m
from revcycle.domain import scrubber as s
from revcycle.domain.permissions import Permission
from revcycle.domain.problems import Problem, Severity
from revcycle.errors import Conflict, InvalidInput
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import chunks, rows_by_id
from revcycle.services.claims import load_claim
from revcycle.services.claims_pipeline.pointers import decode_pointers
from revcycle.services.codesets import scrub_context_for
from revcycle.services.supervision import supervision_facts

__all__ = [
    "ClaimFactsSource",
    "ScrubState",
    "claim_facts",
    "override_warning",
    "practice_today",
    "run_scrubs",
    "scrub_claim",
    "scrub_state",
    "scrub_states",
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
    return ClaimFactsSource(session, [claim]).facts(claim, today=today)


class ClaimFactsSource:
    """What :func:`claim_facts` reads, for many claims at once: each kind of row (lines,
    practices, clients, coverages, payers and the practice's settings for them, providers,
    authorizations) loaded with one ``IN`` query per chunk of ids, rows the session already
    holds reused. A batch of 10,000 claims costs a few dozen queries, not several per claim.
    """

    def __init__(self, session: Session, claims: Sequence[m.Claim]) -> None:
        self._session = session
        _load_lines(session, claims)
        self._practices = _rows(session, m.Practice, {c.practice_id for c in claims})
        self._clients = _rows(session, m.Client, {c.client_id for c in claims})
        self._coverages = _rows(session, m.Coverage, {c.coverage_id for c in claims if c.coverage_id})
        self._payers = _rows(session, m.Payer, {c.payer_id for c in claims})
        self._settings = _practice_payers(session, claims)
        people = {c.provider_id for c in claims} | {c.supervising_provider_id for c in claims}
        people |= {c.performed_by_provider_id for c in claims}  # what supervision_facts reads
        self._providers = _rows(session, m.Provider, {i for i in people if i is not None})
        self._authorizations = _authorizations(session, self._coverages)

    def facts(self, claim: m.Claim, *, today: date) -> s.ClaimFacts:
        """The scrubber's view of one of the claims."""
        patient = _person_of_client(self._clients[claim.client_id])
        coverage = self._coverages.get(claim.coverage_id) if claim.coverage_id else None
        return s.ClaimFacts(
            claim_number=claim.number,
            service_from_on=claim.service_from_on,
            service_to_on=claim.service_to_on,
            place_of_service=claim.place_of_service,
            billing_provider=_billing_provider(self._practices[claim.practice_id]),
            patient=patient,
            coverage=_coverage(coverage, patient),
            payer=_payer(
                self._payers[claim.payer_id], self._settings.get((claim.practice_id, claim.payer_id))
            ),
            diagnosis_codes=tuple(str(code) for code in claim.diagnosis_codes),
            lines=tuple(_line(line) for line in claim.lines),
            today=today,
            rendering_provider=self._provider(claim.provider_id),
            supervising_provider=self._provider(claim.supervising_provider_id),
            authorization=_authorization(
                claim, self._authorizations.get(coverage.id, []) if coverage else None
            ),
            supervision=supervision_facts(self._session, claim),
        )

    def _provider(self, provider_id: int | None) -> s.Provider | None:
        if provider_id is None:
            return None
        row = self._providers[provider_id]
        return s.Provider(row.last_name, row.first_name, row.npi, row.taxonomy_code)


_Row = TypeVar("_Row", m.Practice, m.Client, m.Coverage, m.Payer, m.Provider)


def _rows(session: Session, model: type[_Row], ids: set[int]) -> dict[int, _Row]:
    """Rows by id; a missing id is an error, as ``session.get_one`` makes it."""
    found = rows_by_id(session, model, ids)
    if len(found) != len(ids):
        absent = sorted(ids - set(found))[0]
        raise NoResultFound(f"no {model.__name__} {absent}")
    return found


def _load_lines(session: Session, claims: Sequence[m.Claim]) -> None:
    """Fill ``claim.lines`` (ordered by line number) where it is not loaded yet."""
    unloaded = {c.id: c for c in claims if "lines" in inspect(c).unloaded}
    lines: dict[int, list[m.ClaimLine]] = {claim_id: [] for claim_id in unloaded}
    for chunk in chunks(list(unloaded)):
        query = select(m.ClaimLine).where(m.ClaimLine.claim_id.in_(chunk)).order_by(m.ClaimLine.line_number)
        for line in session.scalars(query):
            lines[line.claim_id].append(line)
    for claim_id, claim in unloaded.items():
        set_committed_value(claim, "lines", lines[claim_id])


def _practice_payers(session: Session, claims: Sequence[m.Claim]) -> dict[tuple[int, int], m.PracticePayer]:
    """(practice id, payer id) -> the practice's settings for the payer, where it has any."""
    wanted = {(c.practice_id, c.payer_id) for c in claims}
    found: dict[tuple[int, int], m.PracticePayer] = {}
    for practice_id in {practice_id for practice_id, _ in wanted}:
        payer_ids = sorted(payer_id for p, payer_id in wanted if p == practice_id)
        for chunk in chunks(payer_ids):
            query = select(m.PracticePayer).where(
                m.PracticePayer.practice_id == practice_id, m.PracticePayer.payer_id.in_(chunk)
            )
            found.update(((row.practice_id, row.payer_id), row) for row in session.scalars(query))
    return found


def _authorizations(session: Session, coverages: dict[int, m.Coverage]) -> dict[int, list[m.Authorization]]:
    """Coverage id -> its authorizations, the latest to start first (then the latest written)."""
    found: dict[int, list[m.Authorization]] = {}
    for chunk in chunks(sorted(coverages)):
        query = select(m.Authorization).where(m.Authorization.coverage_id.in_(chunk))
        for row in session.scalars(query):
            found.setdefault(row.coverage_id, []).append(row)
    for rows in found.values():
        rows.sort(key=lambda row: (row.starts_on, row.id), reverse=True)
    return found


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


def _payer(payer: m.Payer, settings: m.PracticePayer | None) -> s.Payer:
    return s.Payer(
        name=payer.name,
        payer_id=payer.edi_payer_id,
        requires_prior_auth=settings.requires_prior_auth if settings else False,
        filing_limit_days=settings.timely_filing_days if settings else None,
        billing_route=settings.billing_route if settings else "clearinghouse",
    )


def _authorization(
    claim: m.Claim, authorizations: Sequence[m.Authorization] | None
) -> s.Authorization | None:
    """The claim's authorization among its coverage's (latest to start first): the one whose
    number it carries, else the one running on the date of service."""
    if authorizations is None:  # no coverage
        return None
    if claim.prior_authorization_number:
        matching = [a for a in authorizations if a.number == claim.prior_authorization_number]
    else:
        day = claim.service_from_on
        matching = [a for a in authorizations if a.starts_on <= day <= a.ends_on]
    if not matching:
        return None
    row = matching[0]
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
    [state] = run_scrubs(session, actor=actor, claims=[claim], today=today, context=context)
    return state


def run_scrubs(
    session: Session,
    *,
    actor: Actor,
    claims: Sequence[m.Claim],
    today: date | None = None,
    context: s.ScrubContext | None = None,
) -> list[ScrubState]:
    """:func:`run_scrub` for many claims: their facts read together (:class:`ClaimFactsSource`),
    the runs kept in the claims' order with one flush, each claim's state returned in order."""
    if not claims:
        return []
    source = ClaimFactsSource(session, claims)
    todays: dict[int, date] = {}
    for claim in claims:
        day = today or todays.get(claim.practice_id) or practice_today(session, claim.practice_id)
        todays[claim.practice_id] = day
        result = s.scrub(source.facts(claim, today=day), context or scrub_context_for(session, claim))
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
    states = scrub_states(session, [claim.id for claim in claims])
    return [states[claim.id] for claim in claims]


def scrub_state(session: Session, claim_id: int) -> ScrubState:
    """The claim's latest scrub (``None`` before the first) and its overrides."""
    return scrub_states(session, [claim_id])[claim_id]


def scrub_states(session: Session, claim_ids: Sequence[int]) -> dict[int, ScrubState]:
    """:func:`scrub_state` for many claims, a query per kind of row and chunk."""
    latest: dict[int, m.ClaimScrub] = {}
    overridden: dict[int, set[tuple[str, str]]] = {claim_id: set() for claim_id in claim_ids}
    for chunk in chunks(sorted(set(claim_ids))):
        runs = session.scalars(
            select(m.ClaimScrub)
            .where(m.ClaimScrub.claim_id.in_(chunk))
            .order_by(m.ClaimScrub.claim_id, m.ClaimScrub.ran_at.desc(), m.ClaimScrub.id.desc())
        )
        for run in runs:
            latest.setdefault(run.claim_id, run)
        accepted = session.execute(
            select(m.ScrubOverride.claim_id, m.ScrubOverride.problem_code, m.ScrubOverride.where).where(
                m.ScrubOverride.claim_id.in_(chunk)
            )
        )
        for claim_id, code, where in accepted:
            overridden[claim_id].add((code, where))
    return {
        claim_id: ScrubState(
            latest.get(claim_id),
            tuple(_problem_from_json(row) for row in latest[claim_id].problems) if claim_id in latest else (),
            frozenset(overridden[claim_id]),
        )
        for claim_id in claim_ids
    }


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
