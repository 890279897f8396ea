"""Required 837P fields: one case per field, each on an otherwise clean claim."""

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from revcycle.domain.problems import Severity
from revcycle.domain.scrubber import Address, ClaimFacts, Person, Provider
from revcycle.domain.scrubber.fields import check_required_fields

from .claims import CONTEXT, PATIENT, TODAY, clean_claim, psychotherapy

MISSING = "scrub.required_fields.missing"
MALFORMED = "scrub.required_fields.malformed"

BASE = clean_claim()


def _billing(**changes: Any) -> ClaimFacts:
    return clean_claim(billing_provider=replace(BASE.billing_provider, **changes))


def _billing_address(**changes: Any) -> ClaimFacts:
    return _billing(address=replace(BASE.billing_provider.address, **changes))


def _patient(**changes: Any) -> ClaimFacts:
    patient = replace(PATIENT, **changes)
    return clean_claim(patient=patient, coverage=replace(BASE.coverage, subscriber=patient))


def _line(**changes: Any) -> ClaimFacts:
    return clean_claim(lines=(psychotherapy(**changes),))


def _where(facts: ClaimFacts) -> list[tuple[str, str, Severity]]:
    return [(p.code, p.where, p.severity) for p in check_required_fields(facts, CONTEXT)]


def test_a_clean_claim_has_every_field() -> None:
    assert check_required_fields(clean_claim(), CONTEXT) == []


def test_a_claim_for_a_dependent_names_the_subscriber() -> None:
    parent = Person("Rivera", "Luis", date(1962, 1, 2), "M")
    facts = clean_claim(
        coverage=replace(BASE.coverage, subscriber=parent, relationship_to_subscriber="child")
    )

    assert check_required_fields(facts, CONTEXT) == []


@pytest.mark.parametrize(
    ("facts", "code", "where"),
    [
        (clean_claim(claim_number=" "), MISSING, "claim number (CLM01)"),
        (clean_claim(claim_number="RC" + "0" * 16), MALFORMED, "claim number (CLM01)"),
        (clean_claim(place_of_service=""), MISSING, "place of service (CLM05)"),
        (clean_claim(service_to_on=date(2026, 5, 3)), MALFORMED, "dates of service"),
        (clean_claim(today=date(2026, 5, 3)), MALFORMED, "dates of service"),
        (_billing(name=""), MISSING, "billing provider name"),
        (_billing(npi=""), MISSING, "billing provider NPI"),
        (_billing(tax_id=""), MISSING, "billing provider tax id (EIN)"),
        (_billing(tax_id="12-34567"), MALFORMED, "billing provider tax id (EIN)"),
        (_billing(taxonomy_code="261QM0801"), MALFORMED, "billing provider taxonomy"),
        (_billing_address(line1=""), MISSING, "billing provider address line 1"),
        (_billing_address(line1="PO Box 12"), MALFORMED, "billing provider address"),
        (_billing_address(city=""), MISSING, "billing provider address city"),
        (_billing_address(state="Penn"), MALFORMED, "billing provider address state"),
        (_billing_address(postal_code="19106"), MALFORMED, "billing provider address ZIP code"),
        (
            clean_claim(rendering_provider=Provider("", "Grace", "1234567893", "101YP2500X")),
            MISSING,
            "rendering provider name",
        ),
        (
            clean_claim(rendering_provider=Provider("Okafor", "Grace", "", "101YP2500X")),
            MISSING,
            "rendering provider NPI",
        ),
        (clean_claim(supervising_provider=Provider("Lee", "Sam", "")), MISSING, "supervising provider NPI"),
        (clean_claim(coverage=replace(BASE.coverage, member_id="")), MISSING, "subscriber member id"),
        (_patient(last_name=""), MISSING, "patient last name"),
        (_patient(first_name=""), MISSING, "patient first name"),
        (_patient(date_of_birth=None), MISSING, "patient date of birth"),
        (_patient(date_of_birth=date(2026, 5, 5)), MALFORMED, "patient date of birth"),
        (_patient(sex=""), MISSING, "patient sex"),
        (_patient(sex="X"), MALFORMED, "patient sex"),
        (_patient(address=None), MISSING, "patient address"),
        (
            _patient(address=Address("12 Elm St", "Philadelphia", "PA", "1910")),
            MALFORMED,
            "patient address ZIP code",
        ),
        (clean_claim(payer=replace(BASE.payer, name="")), MISSING, "payer name"),
        (clean_claim(payer=replace(BASE.payer, payer_id="")), MISSING, "payer id"),
        (clean_claim(diagnosis_codes=()), MISSING, "diagnosis codes (HI)"),
        (clean_claim(diagnosis_codes=("F41.1", "")), MISSING, "diagnosis 2"),
        (clean_claim(diagnosis_codes=("F41.1",) * 13), MALFORMED, "diagnosis codes (HI)"),
        (clean_claim(lines=()), MISSING, "service lines"),
        (clean_claim(lines=(psychotherapy(),) * 51), MALFORMED, "service lines"),
        (_line(procedure_code=""), MISSING, "line 1, SV1 procedure"),
        (_line(procedure_code="9083"), MALFORMED, "line 1, SV1 procedure"),
        (_line(modifiers=("95", "HO", "GT", "59", "XU")), MALFORMED, "line 1, SV1 modifiers"),
        (_line(modifiers=("9",)), MALFORMED, "line 1, SV1 modifiers"),
        (_line(units=0), MALFORMED, "line 1, SV1 units"),
        (_line(charge_cents=0), MALFORMED, "line 1, SV1 charge"),
        (_line(service_on=date(2026, 5, 5)), MALFORMED, "line 1, date of service"),
    ],
)
def test_a_missing_or_malformed_field_is_an_error(facts: ClaimFacts, code: str, where: str) -> None:
    assert _where(facts) == [(code, where, Severity.ERROR)]


def test_a_subscriber_other_than_the_patient_needs_a_name() -> None:
    nameless = Person("", "", None, "U")
    facts = clean_claim(
        coverage=replace(BASE.coverage, subscriber=nameless, relationship_to_subscriber="spouse")
    )

    assert _where(facts) == [
        (MISSING, "subscriber last name", Severity.ERROR),
        (MISSING, "subscriber first name", Severity.ERROR),
    ]


def test_a_missing_taxonomy_is_a_warning() -> None:
    facts = replace(_billing(taxonomy_code=""), rendering_provider=Provider("Okafor", "Grace", "1234567893"))

    assert _where(facts) == [
        (MISSING, "billing provider taxonomy", Severity.WARNING),
        (MISSING, "rendering provider taxonomy", Severity.WARNING),
    ]


def test_the_patient_zip_may_have_five_or_nine_digits() -> None:
    for postal in ("19103", "191031234", "19103-1234"):
        facts = _patient(address=replace(PATIENT.address, postal_code=postal))  # type: ignore[arg-type]
        assert _where(facts) == [], postal


def test_a_span_of_dates_with_lines_inside_it_is_fine() -> None:
    facts = clean_claim(
        service_to_on=date(2026, 5, 6),
        lines=(psychotherapy(), psychotherapy(service_on=date(2026, 5, 6))),
        today=TODAY,
    )

    assert _where(facts) == []


@pytest.mark.parametrize("route", ["clearinghouse", "simplepractice"])
def test_an_electronic_route_needs_the_edi_payer_id(route: str) -> None:
    facts = clean_claim(payer=replace(BASE.payer, payer_id="", billing_route=route))

    [problem] = check_required_fields(facts, CONTEXT)

    assert (problem.code, problem.where) == (MISSING, "payer id")
    assert route in problem.message


@pytest.mark.parametrize("route", ["portal", "paper"])
def test_a_portal_or_paper_claim_goes_without_the_edi_payer_id(route: str) -> None:
    facts = clean_claim(payer=replace(BASE.payer, payer_id="", billing_route=route))

    assert check_required_fields(facts, CONTEXT) == []
