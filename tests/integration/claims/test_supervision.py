"""Supervised billing: a clinician the payer does not credential bills under the supervisor
where the payer allows it, each rule is checked, and the compliance report lists the claims."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

import pytest

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import InvalidInput, PermissionDenied
from revcycle.services import supervision
from revcycle.services.claims_pipeline import building
from tests import factories as f
from tests.integration.claims.conftest import TODAY, Office

START = date(2025, 1, 1)


@dataclass
class Supervised:
    office: Office
    clinician: m.Provider
    supervisor: m.Provider

    def build(self, *, setting: str, place: str = "11", day: int = 2) -> building.BuiltClaim:
        self.office.settings.supervised_billing = setting
        service = self.office.visit(day=day)
        service.place_of_service = place
        self.office.db.flush()
        ready = building.mark_sessions_ready(
            self.office.db, actor=self.office.actor, session_ids=[service.id]
        )
        assert ready.marked == [service.id], ready.refused
        result = building.build_claims(
            self.office.db,
            actor=self.office.actor,
            practice_id=self.office.practice.id,
            session_ids=[service.id],
            today=TODAY,
        )
        [built] = result.claims
        return built


def _enroll(office: Office, provider: m.Provider, **kwargs: object) -> m.ProviderEnrollment:
    row = m.ProviderEnrollment(
        practice_id=office.practice.id,
        provider_id=provider.id,
        payer_id=office.payer.id,
        effective_on=START,
        **kwargs,
    )
    office.db.add(row)
    office.db.flush()
    return row


@pytest.fixture
def supervised(office: Office) -> Supervised:
    supervisor = f.make_provider(office.db, office.practice)
    clinician = office.provider
    clinician.supervising_provider_id = supervisor.id
    _enroll(office, supervisor, in_network=True)
    _enroll(office, clinician, in_network=True, requires_supervisor=True)
    return Supervised(office, clinician, supervisor)


def _codes(built: building.BuiltClaim) -> list[str]:
    return [p.code for p in built.scrub.errors]


@pytest.mark.parametrize("setting", ["incident_to", "supervisor"])
def test_a_supervised_clinicians_claim_bills_under_the_supervisor_where_the_payer_allows(
    supervised: Supervised, setting: str
) -> None:
    built = supervised.build(setting=setting)

    claim = built.claim
    assert (claim.provider_id, claim.performed_by_provider_id, claim.billing_basis) == (
        supervised.supervisor.id,
        supervised.clinician.id,
        setting,
    )
    assert claim.supervising_provider_id is None  # the rendering provider is the supervisor
    assert built.scrub.is_clean, built.scrub.problems
    assert claim.status == "ready"
    assert "supervision" in built.scrub.scrub.edits  # type: ignore[union-attr]


def test_a_payer_that_does_not_allow_it_keeps_the_claim_with_the_clinician_and_refuses_it(
    supervised: Supervised,
) -> None:
    built = supervised.build(setting="not_allowed")

    claim = built.claim
    assert (claim.provider_id, claim.billing_basis, claim.performed_by_provider_id) == (
        supervised.clinician.id,
        "direct",
        None,
    )
    assert claim.supervising_provider_id == supervised.supervisor.id  # named in 2310D
    assert _codes(built) == ["scrub.supervision.allowed"]
    assert "does not allow supervised billing" in built.scrub.errors[0].message
    assert claim.status == "draft"


def test_a_clinician_the_payer_credentials_bills_directly(supervised: Supervised) -> None:
    enrollment = (
        supervised.office.db.query(m.ProviderEnrollment).filter_by(provider_id=supervised.clinician.id).one()
    )
    enrollment.requires_supervisor = False

    built = supervised.build(setting="incident_to")

    assert (built.claim.provider_id, built.claim.billing_basis) == (supervised.clinician.id, "direct")
    assert built.claim.supervising_provider_id is None
    assert built.scrub.is_clean, built.scrub.problems


def test_a_clinician_with_no_enrollment_is_not_credentialed(supervised: Supervised) -> None:
    supervised.office.db.query(m.ProviderEnrollment).filter_by(provider_id=supervised.clinician.id).delete()

    built = supervised.build(setting="supervisor")

    assert (built.claim.provider_id, built.claim.billing_basis) == (supervised.supervisor.id, "supervisor")


def test_incident_to_by_telehealth_is_refused(supervised: Supervised) -> None:
    built = supervised.build(setting="incident_to", place="10")

    assert _codes(built) == ["scrub.supervision.incident_to_in_office"]
    assert built.claim.status == "draft"


def test_a_supervisor_out_of_network_inactive_or_supervised_is_refused(supervised: Supervised) -> None:
    office = supervised.office
    office.db.query(m.ProviderEnrollment).filter_by(provider_id=supervised.supervisor.id).update(
        {"in_network": False}
    )
    supervised.supervisor.is_active = False
    supervised.supervisor.supervising_provider_id = f.make_provider(office.db, office.practice).id

    built = supervised.build(setting="supervisor")

    assert sorted(_codes(built)) == [
        "scrub.supervision.supervisor_active",
        "scrub.supervision.supervisor_enrolled",
        "scrub.supervision.supervisor_not_supervised",
    ]


def test_a_changed_payer_setting_is_caught_when_the_claim_is_scrubbed_again(supervised: Supervised) -> None:
    built = supervised.build(setting="incident_to")
    supervised.office.settings.supervised_billing = "supervisor"
    built.claim.status = "draft"

    state = building.mark_claim_ready(
        supervised.office.db, actor=supervised.office.actor, claim_id=built.claim.id, today=TODAY
    )

    assert [p.code for p in state.errors] == ["scrub.supervision.basis_matches"]


def test_the_compliance_report_lists_each_claim_billed_under_a_supervisor(supervised: Supervised) -> None:
    office = supervised.office
    good = supervised.build(setting="incident_to", day=2)
    telehealth = supervised.build(setting="incident_to", place="10", day=3)
    office.settings.supervised_billing = "not_allowed"
    direct = supervised.build(setting="not_allowed", day=4)
    office.settings.supervised_billing = "incident_to"

    report = supervision.supervised_billing_report(
        office.db,
        actor=office.actor,
        practice_id=office.practice.id,
        from_on=date(2026, 3, 1),
        to_on=date(2026, 3, 31),
    )

    assert [row.claim_id for row in report.rows] == [good.claim.id, telehealth.claim.id]
    assert direct.claim.id not in {row.claim_id for row in report.rows}
    first, second = report.rows
    assert first.clinician == f"{supervised.clinician.first_name} {supervised.clinician.last_name}"
    assert first.supervisor == f"{supervised.supervisor.first_name} {supervised.supervisor.last_name}"
    assert (first.payer, first.billing_basis, first.place_of_service) == ("Aetna", "incident_to", "11")
    assert first.compliant
    assert set(first.rules.values()) == {"pass"}
    assert not second.compliant
    assert second.rules["incident_to_in_office"].startswith("incident-to billing needs")
    assert report.noncompliant == 1
    assert report.by_basis == {"incident_to": 2, "supervisor": 0}
    assert report.billed_cents == good.claim.billed_cents + telehealth.claim.billed_cents
    assert report.failures_by_rule["incident_to_in_office"] == 1

    rows = list(csv.reader(io.StringIO(supervision.report_csv(report))))
    assert rows[0][:3] == ["claim", "date of service", "status"]
    assert [r[0] for r in rows[1:]] == [good.claim.number, telehealth.claim.number, "total"]
    assert rows[-1][-1] == "1 not compliant"


def test_the_report_needs_run_reports_and_a_sensible_range(supervised: Supervised) -> None:
    office = supervised.office
    therapist = f.actor_for(office.db, f.make_user(office.db, office.practice, Role.THERAPIST))
    with pytest.raises(PermissionDenied):
        supervision.supervised_billing_report(
            office.db, actor=therapist, practice_id=office.practice.id, from_on=TODAY, to_on=TODAY
        )
    with pytest.raises(InvalidInput, match="before"):
        supervision.supervised_billing_report(
            office.db,
            actor=office.actor,
            practice_id=office.practice.id,
            from_on=TODAY,
            to_on=date(2026, 1, 1),
        )
