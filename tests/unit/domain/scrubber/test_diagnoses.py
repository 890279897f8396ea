"""Diagnoses: billable in the release of the date of service, and pointed at by every line."""

from datetime import date

import pytest

from revcycle.domain.problems import Severity
from revcycle.domain.scrubber import Icd10Release, Icd10ReleaseSet, ScrubContext
from revcycle.domain.scrubber.diagnoses import check_diagnosis_pointers, check_icd10_codes

from .claims import CONTEXT, FY2026, POS, clean_claim, codes, psychotherapy


@pytest.mark.parametrize("code", ["F41.1", "F411", "f41.1", " F43.10 "])
def test_a_billable_code_passes_dotted_or_not(code: str) -> None:
    assert check_icd10_codes(clean_claim(diagnosis_codes=(code,)), CONTEXT) == []


def test_a_heading_is_not_billable() -> None:
    [problem] = check_icd10_codes(clean_claim(diagnosis_codes=("F41.1", "F43.1")), CONTEXT)

    assert (problem.code, problem.where, problem.severity) == (
        "scrub.icd10_valid.not_billable",
        "diagnosis 2",
        Severity.ERROR,
    )
    assert "FY2026 (test)" in problem.message


def test_an_unknown_code_is_an_error() -> None:
    [problem] = check_icd10_codes(clean_claim(diagnosis_codes=("F41.8",)), CONTEXT)

    assert (problem.code, problem.where) == ("scrub.icd10_valid.unknown", "diagnosis 1")


def test_a_code_that_is_not_shaped_like_icd10_is_an_error() -> None:
    assert codes(check_icd10_codes(clean_claim(diagnosis_codes=("296.30", "F4.11")), CONTEXT)) == [
        "scrub.icd10_valid.malformed",
        "scrub.icd10_valid.malformed",
    ]


def test_the_release_of_the_date_of_service_decides() -> None:
    # Z65.8 and F43.12 are in the test FY2026 release only.
    september = clean_claim(
        service_from_on=date(2025, 9, 30),
        lines=(psychotherapy(service_on=date(2025, 9, 30)),),
        diagnosis_codes=("Z65.8", "F43.12", "F41.1"),
    )
    october = clean_claim(service_from_on=date(2025, 10, 1), diagnosis_codes=("Z65.8", "F43.12", "F41.1"))

    assert codes(check_icd10_codes(september, CONTEXT)) == ["scrub.icd10_valid.unknown"] * 2
    assert check_icd10_codes(october, CONTEXT) == []


def test_a_claim_spanning_two_releases_is_checked_against_both() -> None:
    facts = clean_claim(
        service_from_on=date(2025, 9, 30),
        service_to_on=date(2025, 10, 1),
        lines=(psychotherapy(service_on=date(2025, 9, 30)), psychotherapy(service_on=date(2025, 10, 1))),
        diagnosis_codes=("F43.12",),
    )

    [problem] = check_icd10_codes(facts, CONTEXT)

    assert "FY2025 (test)" in problem.message


def test_no_release_for_the_date_is_a_warning_not_an_error() -> None:
    facts = clean_claim(service_from_on=date(2026, 10, 1), diagnosis_codes=("NOT.A.CODE",))
    context = ScrubContext(icd10=Icd10ReleaseSet((FY2026,)), place_of_service_codes=POS)

    problems = check_icd10_codes(facts, context)

    assert [(p.code, p.severity) for p in problems] == [
        ("scrub.icd10_valid.malformed", Severity.ERROR),
        ("scrub.icd10_valid.no_release", Severity.WARNING),
    ]
    assert "2026-10-01" in problems[1].message


def test_the_nearest_release_of_the_fiscal_year_is_used_and_noted() -> None:
    april = Icd10Release(
        "FY2026 April (test)", date(2026, 4, 1), date(2026, 9, 30), FY2026.billable, FY2026.all_codes
    )
    context = ScrubContext(icd10=Icd10ReleaseSet((april,)), place_of_service_codes=POS)
    november = clean_claim(service_from_on=date(2025, 11, 3), diagnosis_codes=("F41.1",))

    [note] = check_icd10_codes(november, context)

    assert (note.code, note.severity) == ("scrub.icd10_valid.nearest_release", Severity.INFO)
    assert "FY2026 April (test)" in note.message
    assert check_icd10_codes(clean_claim(diagnosis_codes=("F41.1",)), context) == []


def test_no_diagnosis_is_left_to_the_required_fields_edit() -> None:
    assert check_icd10_codes(clean_claim(diagnosis_codes=()), CONTEXT) == []


def test_every_line_pointing_at_a_diagnosis_passes() -> None:
    facts = clean_claim(
        diagnosis_codes=("F41.1", "F32.9", "F43.10", "Z65.8", "F43.12"),
        lines=(psychotherapy(diagnosis_pointers=(1, 2, 3, 4)), psychotherapy(diagnosis_pointers=(5,))),
    )

    assert check_diagnosis_pointers(facts, CONTEXT) == []


def test_a_line_without_a_diagnosis_is_an_error() -> None:
    facts = clean_claim(lines=(psychotherapy(), psychotherapy(procedure_code="90785", diagnosis_pointers=())))

    [problem] = check_diagnosis_pointers(facts, CONTEXT)

    assert (problem.code, problem.where, problem.severity) == (
        "scrub.diagnosis_pointers.none",
        "line 2, SV1 diagnosis pointers",
        Severity.ERROR,
    )
    assert "90785" in problem.message


def test_a_pointer_past_the_diagnoses_is_an_error() -> None:
    facts = clean_claim(lines=(psychotherapy(diagnosis_pointers=(1, 2, 0)),))

    assert codes(check_diagnosis_pointers(facts, CONTEXT)) == ["scrub.diagnosis_pointers.out_of_range"] * 2


def test_more_than_four_pointers_is_an_error() -> None:
    facts = clean_claim(
        diagnosis_codes=("F41.1", "F32.9", "F43.10", "Z65.8", "F43.12"),
        lines=(psychotherapy(diagnosis_pointers=(1, 2, 3, 4, 5)),),
    )

    assert codes(check_diagnosis_pointers(facts, CONTEXT)) == ["scrub.diagnosis_pointers.too_many"]
