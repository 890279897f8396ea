"""Supervised and incident-to billing: whom a claim bills under, and the compliance report.

A clinician with a supervising provider on file is *supervised* (a pre-licensed associate).
When the payer credentials them on their own — an enrollment in force on the date of service,
in network, not marked ``requires_supervisor`` — their claims are billed directly like
anyone's. Otherwise the practice's setting for the payer (``PracticePayer.supervised_billing``)
decides (:func:`choose_billing`):

- ``incident_to`` or ``supervisor``: the claim bills under the supervisor, who is the
  rendering provider (``claims.provider_id``; 837P loop 2310B, CMS-1500 box 24J); the
  clinician who saw the client is kept as ``performed_by_provider_id`` and the basis as
  ``billing_basis``. The supervising provider loop (2310D) is left empty: the 837P wants it
  when the *rendering* provider is supervised, and here the rendering provider is the
  supervisor.
- ``not_allowed``: the claim stays with the clinician, the supervisor named in 2310D, and the
  scrubber's ``supervision`` edit refuses it (the payer will not pay it).

The rules themselves are the scrubber's (:mod:`revcycle.domain.scrubber.supervision`); this
module gathers the facts they need (:func:`supervision_facts`) and, for the compliance
report, runs them over every claim billed under a supervisor in a date range.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain import scrubber as s
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.money import format_plain
from revcycle.services.actor import Actor

__all__ = [
    "BillingChoice",
    "ReportRow",
    "SupervisedBillingReport",
    "choose_billing",
    "needs_supervisor",
    "report_csv",
    "supervised_billing_report",
    "supervision_facts",
]

SUPERVISED_BASES = ("incident_to", "supervisor")
REPORT_COLUMNS = (
    "claim",
    "date of service",
    "status",
    "clinician",
    "supervisor",
    "payer",
    "basis",
    "POS",
    "billed",
)


@dataclass(frozen=True)
class BillingChoice:
    """Whom a new claim bills under."""

    provider_id: int  # the rendering provider
    billing_basis: str = "direct"
    performed_by_provider_id: int | None = None
    supervising_provider_id: int | None = None  # 837P 2310D


def _enrollment(session: Session, provider_id: int, payer_id: int, day: date) -> m.ProviderEnrollment | None:
    return session.scalars(
        select(m.ProviderEnrollment)
        .where(
            m.ProviderEnrollment.provider_id == provider_id,
            m.ProviderEnrollment.payer_id == payer_id,
            m.ProviderEnrollment.effective_on <= day,
            or_(m.ProviderEnrollment.ends_on.is_(None), m.ProviderEnrollment.ends_on >= day),
        )
        .order_by(m.ProviderEnrollment.effective_on.desc(), m.ProviderEnrollment.id.desc())
    ).first()


def needs_supervisor(session: Session, provider: m.Provider, payer_id: int, day: date) -> bool:
    """True for a supervised clinician the payer does not credential on their own on ``day``."""
    if provider.supervising_provider_id is None:
        return False
    enrollment = _enrollment(session, provider.id, payer_id, day)
    return enrollment is None or not enrollment.in_network or enrollment.requires_supervisor


def payer_setting(session: Session, practice_id: int, payer_id: int) -> str:
    """The practice's supervised-billing setting for the payer (``not_allowed`` by default)."""
    setting = session.scalar(
        select(m.PracticePayer.supervised_billing).where(
            m.PracticePayer.practice_id == practice_id, m.PracticePayer.payer_id == payer_id
        )
    )
    return setting or "not_allowed"


def choose_billing(
    session: Session, *, practice_id: int, provider_id: int, payer_id: int, day: date
) -> BillingChoice:
    """Whom the clinician's claim with this payer on ``day`` bills under (see the module)."""
    clinician = session.get_one(m.Provider, provider_id)
    if not needs_supervisor(session, clinician, payer_id, day):
        return BillingChoice(provider_id)
    supervisor_id = clinician.supervising_provider_id
    setting = payer_setting(session, practice_id, payer_id)
    if setting in SUPERVISED_BASES and supervisor_id is not None:
        return BillingChoice(supervisor_id, billing_basis=setting, performed_by_provider_id=provider_id)
    return BillingChoice(provider_id, supervising_provider_id=supervisor_id)


def supervision_facts(session: Session, claim: m.Claim) -> s.Supervision | None:
    """What the scrubber's supervision edit checks; None for a claim that needs no supervisor."""
    basis = claim.billing_basis or "direct"
    clinician_id = claim.performed_by_provider_id or claim.provider_id
    if clinician_id is None:
        return None
    clinician = session.get_one(m.Provider, clinician_id)
    day = claim.service_from_on
    if basis == "direct" and not needs_supervisor(session, clinician, claim.payer_id, day):
        return None
    supervisor_id = claim.provider_id if basis != "direct" else clinician.supervising_provider_id
    supervisor = session.get(m.Provider, supervisor_id) if supervisor_id is not None else None
    setting = payer_setting(session, claim.practice_id, claim.payer_id)
    if supervisor is None:
        return s.Supervision(basis, setting, _provider(clinician), None)
    enrollment = _enrollment(session, supervisor.id, claim.payer_id, day)
    return s.Supervision(
        basis,
        setting,
        _provider(clinician),
        _provider(supervisor),
        supervisor_active=supervisor.is_active,
        supervisor_is_supervised=supervisor.supervising_provider_id is not None,
        supervisor_in_network=enrollment is not None and enrollment.in_network,
    )


def _provider(row: m.Provider) -> s.Provider:
    return s.Provider(row.last_name, row.first_name, row.npi, row.taxonomy_code)


# --- the compliance report ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    """One claim billed under a supervisor, and each rule's result ("pass" or why not)."""

    claim_id: int
    claim_number: str
    service_on: date
    status: str
    clinician: str
    supervisor: str
    payer: str
    billing_basis: str
    place_of_service: str
    billed_cents: int
    rules: dict[str, str]

    @property
    def compliant(self) -> bool:
        return all(result == "pass" for result in self.rules.values())


@dataclass(frozen=True)
class SupervisedBillingReport:
    practice_id: int
    from_on: date
    to_on: date
    rows: list[ReportRow]
    rule_titles: dict[str, str] = field(default_factory=lambda: dict(s.SUPERVISION_RULES))

    @property
    def billed_cents(self) -> int:
        return sum(row.billed_cents for row in self.rows)

    @property
    def by_basis(self) -> dict[str, int]:
        return {
            basis: sum(1 for row in self.rows if row.billing_basis == basis) for basis in SUPERVISED_BASES
        }

    @property
    def noncompliant(self) -> int:
        return sum(1 for row in self.rows if not row.compliant)

    @property
    def failures_by_rule(self) -> dict[str, int]:
        return {rule: sum(1 for row in self.rows if row.rules[rule] != "pass") for rule in self.rule_titles}


def supervised_billing_report(
    session: Session, *, actor: Actor, practice_id: int, from_on: date, to_on: date
) -> SupervisedBillingReport:
    """Every claim billed under a supervisor with a date of service in the range, rules checked."""
    actor.require(practice_id, Permission.RUN_REPORTS)
    if to_on < from_on:
        raise InvalidInput(f"to: {to_on} is before from {from_on}")
    claims = session.scalars(
        select(m.Claim)
        .where(
            m.Claim.practice_id == practice_id,
            m.Claim.billing_basis.in_(SUPERVISED_BASES),
            m.Claim.service_from_on >= from_on,
            m.Claim.service_from_on <= to_on,
        )
        .order_by(m.Claim.service_from_on, m.Claim.id)
    )
    return SupervisedBillingReport(practice_id, from_on, to_on, [_row(session, claim) for claim in claims])


def _row(session: Session, claim: m.Claim) -> ReportRow:
    facts = supervision_facts(session, claim)
    payer = session.get_one(m.Payer, claim.payer_id)
    found: dict[str, str] = {}
    if facts is not None:
        for problem in s.supervision_problems(facts, [claim.place_of_service], payer_name=payer.name):
            found.setdefault(problem.code.rsplit(".", 1)[-1], problem.message)
    clinician = facts.clinician if facts else None
    supervisor = facts.supervisor if facts else None
    return ReportRow(
        claim_id=claim.id,
        claim_number=claim.number,
        service_on=claim.service_from_on,
        status=claim.status,
        clinician=_name(clinician),
        supervisor=_name(supervisor),
        payer=payer.name,
        billing_basis=claim.billing_basis,
        place_of_service=claim.place_of_service,
        billed_cents=claim.billed_cents,
        rules={rule: found.get(rule, "pass") for rule, _ in s.SUPERVISION_RULES},
    )


def _name(provider: s.Provider | None) -> str:
    if provider is None:
        return ""
    return f"{provider.first_name} {provider.last_name}".strip()


def report_csv(report: SupervisedBillingReport) -> str:
    """The report as CSV: one line per claim, a column per rule, then a totals line."""
    out = io.StringIO()
    writer = csv.writer(out)
    rules = list(report.rule_titles)
    writer.writerow([*REPORT_COLUMNS, *rules, "compliant"])
    for row in report.rows:
        writer.writerow(
            [
                row.claim_number,
                row.service_on.isoformat(),
                row.status,
                row.clinician,
                row.supervisor,
                row.payer,
                row.billing_basis,
                row.place_of_service,
                format_plain(row.billed_cents),
            ]
            + [row.rules[rule] for rule in rules]
            + ["yes" if row.compliant else "no"]
        )
    failures = report.failures_by_rule
    writer.writerow(
        ["total", "", "", "", "", "", f"{len(report.rows)} claims", "", format_plain(report.billed_cents)]
        + [f"{failures[rule]} failed" for rule in rules]
        + [f"{report.noncompliant} not compliant"]
    )
    return out.getvalue()
