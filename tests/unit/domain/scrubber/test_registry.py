"""The registry lists every edit once; scrub runs them all and reports which ran."""

from dataclasses import replace

from revcycle.domain.problems import Problem, Severity
from revcycle.domain.scrubber import EDITS, EDITS_BY_ID, Edit, scrub

from .claims import CONTEXT, clean_claim, codes, psychotherapy

EXPECTED_IDS = [
    "required_fields",
    "npi_check_digit",
    "place_of_service",
    "icd10_valid",
    "diagnosis_pointers",
    "time_bands",
    "add_on_primary",
    "telehealth",
    "ncci_ptp",
    "supervision",
    "prior_authorization",
    "coverage_active",
    "timely_filing",
]


def test_the_registry_lists_every_edit_once_with_a_title() -> None:
    assert [edit.id for edit in EDITS] == EXPECTED_IDS
    assert set(EDITS_BY_ID) == set(EXPECTED_IDS)
    assert all(edit.title and edit.title[0].isupper() for edit in EDITS)


def test_a_clean_claim_passes_every_edit() -> None:
    result = scrub(clean_claim(), CONTEXT)

    assert result.problems == ()
    assert result.edit_ids == tuple(EXPECTED_IDS)
    assert not result.has_errors


def test_scrub_collects_every_problem_in_edit_order() -> None:
    facts = clean_claim(
        claim_number="",
        lines=(psychotherapy(minutes=45, diagnosis_pointers=()),),
        today=clean_claim().service_from_on.replace(month=7, day=25),
    )

    result = scrub(facts, CONTEXT)

    assert codes(result.problems) == [
        "scrub.required_fields.missing",
        "scrub.diagnosis_pointers.none",
        "scrub.time_bands.too_short",
        "scrub.timely_filing.near",
    ]
    assert result.has_errors
    assert codes(result.warnings) == ["scrub.timely_filing.near"]
    assert len(result.errors) == 3


def test_every_problem_code_names_its_edit() -> None:
    facts = clean_claim(
        billing_provider=replace(clean_claim().billing_provider, npi="1234567890"),
        place_of_service="29",
        diagnosis_codes=("F41",),
    )

    for problem in scrub(facts, CONTEXT).problems:
        edit_id = problem.code.split(".")[1]
        assert edit_id in EDITS_BY_ID, problem


def test_scrub_runs_only_the_edits_given() -> None:
    def always(facts: object, context: object) -> list[Problem]:
        return [Problem("scrub.test.always", "claim", "always", Severity.INFO)]

    only = (Edit("always", "Always says something", always),)

    result = scrub(clean_claim(), CONTEXT, only)

    assert result.edit_ids == ("always",)
    assert codes(result.problems) == ["scrub.test.always"]
    assert not result.has_errors
