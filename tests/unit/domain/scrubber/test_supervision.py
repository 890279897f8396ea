"""Supervised billing: each rule, failing and passing."""

from dataclasses import replace
from typing import Any

import pytest

from revcycle.domain.problems import Severity
from revcycle.domain.scrubber import SUPERVISION_RULES, ClaimFacts, Provider, Supervision
from revcycle.domain.scrubber.supervision import check_supervision

from .claims import CONTEXT, SUPERVISOR_NPI, THERAPIST_NPI, clean_claim, codes, psychotherapy

CLINICIAN = Provider("Marchetti", "Lena", THERAPIST_NPI, "101YM0800X")
SUPERVISOR = Provider("Fairbrook", "Helen", SUPERVISOR_NPI, "103T00000X")


def _claim(basis: str = "incident_to", setting: str = "incident_to", **changes: Any) -> ClaimFacts:
    supervision = replace(Supervision(basis, setting, CLINICIAN, SUPERVISOR), **changes)
    rendering = CLINICIAN if basis == "direct" else SUPERVISOR
    return clean_claim(supervision=supervision, rendering_provider=rendering)


@pytest.mark.parametrize("basis", ["incident_to", "supervisor"])
def test_a_claim_under_a_proper_supervisor_as_the_payer_allows_passes(basis: str) -> None:
    assert check_supervision(_claim(basis, basis), CONTEXT) == []


def test_a_claim_with_no_supervision_is_not_checked() -> None:
    assert check_supervision(clean_claim(), CONTEXT) == []


def test_a_payer_that_does_not_allow_supervised_billing_is_an_error() -> None:
    [problem] = check_supervision(_claim("direct", "not_allowed"), CONTEXT)

    assert (problem.code, problem.severity) == ("scrub.supervision.allowed", Severity.ERROR)
    assert "Aetna does not credential Lena Marchetti" in problem.message


def test_a_basis_other_than_the_payers_setting_is_an_error() -> None:
    assert codes(check_supervision(_claim("incident_to", "supervisor"), CONTEXT)) == [
        "scrub.supervision.basis_matches"
    ]
    assert codes(check_supervision(_claim("direct", "supervisor"), CONTEXT)) == [
        "scrub.supervision.basis_matches"
    ]


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"supervisor": None}, "supervisor_on_file"),
        ({"supervisor": replace(SUPERVISOR, npi=THERAPIST_NPI)}, "not_same_person"),
        ({"supervisor_active": False}, "supervisor_active"),
        ({"supervisor_is_supervised": True}, "supervisor_not_supervised"),
        ({"supervisor_in_network": False}, "supervisor_enrolled"),
    ],
)
def test_each_supervisor_rule_is_an_error(changes: dict[str, Any], rule: str) -> None:
    for basis in ("incident_to", "supervisor"):
        [problem] = check_supervision(_claim(basis, basis, **changes), CONTEXT)

        assert (problem.code, problem.severity) == (f"scrub.supervision.{rule}", Severity.ERROR)


@pytest.mark.parametrize("place", ["02", "10", "12"])
def test_incident_to_outside_the_office_is_an_error(place: str) -> None:
    facts = replace(_claim(), place_of_service=place)

    [problem] = check_supervision(facts, CONTEXT)

    assert problem.code == "scrub.supervision.incident_to_in_office"
    assert place in problem.message


def test_incident_to_with_one_line_outside_the_office_is_an_error() -> None:
    facts = replace(
        _claim(), lines=(psychotherapy(), psychotherapy(procedure_code="90785", place_of_service="02"))
    )

    assert codes(check_supervision(facts, CONTEXT)) == ["scrub.supervision.incident_to_in_office"]


def test_billing_under_the_supervisor_allows_telehealth() -> None:
    facts = replace(_claim("supervisor", "supervisor"), place_of_service="10")

    assert check_supervision(facts, CONTEXT) == []


def test_every_rule_is_listed_for_the_report() -> None:
    rules = {rule for rule, _ in SUPERVISION_RULES}
    found = set()
    for basis, setting, changes in [
        ("direct", "not_allowed", {}),
        ("incident_to", "supervisor", {}),
        ("incident_to", "incident_to", {"supervisor": None}),
        ("incident_to", "incident_to", {"supervisor": replace(SUPERVISOR, npi=THERAPIST_NPI)}),
        ("incident_to", "incident_to", {"supervisor_active": False, "supervisor_is_supervised": True}),
        ("incident_to", "incident_to", {"supervisor_in_network": False}),
    ]:
        found |= {
            p.code.split(".")[-1] for p in check_supervision(_claim(basis, setting, **changes), CONTEXT)
        }
    found |= {
        p.code.split(".")[-1] for p in check_supervision(replace(_claim(), place_of_service="02"), CONTEXT)
    }
    assert found == rules
