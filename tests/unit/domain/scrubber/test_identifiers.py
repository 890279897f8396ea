"""NPI check digits and place-of-service codes."""

from dataclasses import replace

import pytest

from revcycle.domain.scrubber import Provider
from revcycle.domain.scrubber.identifiers import check_npis, check_place_of_service

from .claims import CONTEXT, SUPERVISOR_NPI, clean_claim, psychotherapy

BASE = clean_claim()

# (npi, words the message uses)
BAD_NPIS = [
    ("1234567890", "check digit"),
    ("9876543213", "begin with 1 or 2"),
    ("123456789", "ten digits"),
    ("12345A7893", "ten digits"),
]


def test_valid_npis_pass() -> None:
    facts = clean_claim(supervising_provider=Provider("Lee", "Sam", SUPERVISOR_NPI))

    assert check_npis(facts, CONTEXT) == []


def test_a_missing_npi_is_left_to_the_required_fields_edit() -> None:
    assert check_npis(clean_claim(rendering_provider=Provider("Okafor", "Grace", "")), CONTEXT) == []


@pytest.mark.parametrize(("npi", "reason"), BAD_NPIS)
def test_a_bad_billing_npi_is_an_error(npi: str, reason: str) -> None:
    facts = clean_claim(billing_provider=replace(BASE.billing_provider, npi=npi))

    [problem] = check_npis(facts, CONTEXT)

    assert (problem.code, problem.where, problem.severity) == (
        "scrub.npi_check_digit.invalid",
        "billing provider NPI",
        "error",
    )
    assert reason in problem.message


def test_rendering_and_supervising_npis_are_checked_too() -> None:
    facts = clean_claim(
        rendering_provider=Provider("Okafor", "Grace", "1234567890", "101YP2500X"),
        supervising_provider=Provider("Lee", "Sam", "1234567891"),
    )

    assert [p.where for p in check_npis(facts, CONTEXT)] == [
        "rendering provider NPI",
        "supervising provider NPI",
    ]


def test_a_cms_place_of_service_passes() -> None:
    facts = clean_claim(place_of_service="02", lines=(psychotherapy(place_of_service="10"),))

    assert check_place_of_service(facts, CONTEXT) == []


def test_an_unassigned_place_of_service_is_an_error() -> None:
    facts = clean_claim(place_of_service="29", lines=(psychotherapy(place_of_service="35"),))

    problems = check_place_of_service(facts, CONTEXT)

    assert [(p.code, p.where) for p in problems] == [
        ("scrub.place_of_service.unknown", "place of service (CLM05)"),
        ("scrub.place_of_service.unknown", "line 1, SV1 place of service"),
    ]
    assert all(p.severity == "error" for p in problems)
