"""The NCCI PTP edit: a column 2 code billed with its column 1 code on the same day."""

from dataclasses import replace
from datetime import date

import pytest

from revcycle.domain.problems import Severity
from revcycle.domain.scrubber import ClaimFacts, NcciPair, NcciTable, ScrubContext
from revcycle.domain.scrubber.ncci import check_ncci_ptp, choose_table

from .claims import CONTEXT, SERVICE_ON, clean_claim, codes, psychotherapy

# 90791 (diagnostic evaluation) is column 1, 90837 (psychotherapy) column 2 in these tests.
DIAGNOSTIC = psychotherapy(procedure_code="90791", minutes=None)


def _context(*pairs: NcciPair, start: date = date(2026, 4, 1), end: date | None = None) -> ScrubContext:
    return replace(CONTEXT, ncci_tables=(NcciTable("2026Q2 (test)", start, end, pairs),))


def _pair(
    indicator: str, *, effective_on: date = date(2020, 1, 1), deleted_on: date | None = None
) -> NcciPair:
    return NcciPair("90791", "90837", effective_on, deleted_on, indicator)


def _claim(*modifiers: str) -> ClaimFacts:
    return clean_claim(lines=(DIAGNOSTIC, psychotherapy(modifiers=modifiers)))


def test_indicator_0_is_an_error_on_the_column_2_line_whatever_the_modifiers() -> None:
    for facts in (_claim(), _claim("59"), _claim("XU")):
        [problem] = check_ncci_ptp(facts, _context(_pair("0")))

        assert (problem.code, problem.where, problem.severity) == (
            "scrub.ncci_ptp.never_together",
            "line 2, SV1 procedure",
            Severity.ERROR,
        )
        assert "90837" in problem.message
        assert "90791" in problem.message


def test_indicator_1_without_a_modifier_is_an_error() -> None:
    [problem] = check_ncci_ptp(_claim(), _context(_pair("1")))

    assert (problem.code, problem.where) == ("scrub.ncci_ptp.modifier_needed", "line 2, SV1 procedure")
    assert "59" in problem.message


@pytest.mark.parametrize("modifier", ["59", "XE", "XS", "XP", "XU", "xu", "25"])
def test_indicator_1_with_an_ncci_modifier_on_column_2_passes(modifier: str) -> None:
    assert check_ncci_ptp(_claim(modifier), _context(_pair("1"))) == []


def test_indicator_1_with_an_unrelated_modifier_is_still_an_error() -> None:
    problems = check_ncci_ptp(_claim("95", "HO"), _context(_pair("1")))

    assert codes(problems) == ["scrub.ncci_ptp.modifier_needed"]


def test_the_modifier_on_the_column_1_line_does_not_count() -> None:
    facts = clean_claim(lines=(replace(DIAGNOSTIC, modifiers=("59",)), psychotherapy()))

    assert codes(check_ncci_ptp(facts, _context(_pair("1")))) == ["scrub.ncci_ptp.modifier_needed"]


def test_indicator_9_never_applies() -> None:
    assert check_ncci_ptp(_claim(), _context(_pair("9"))) == []


def test_a_deleted_pair_applies_through_its_deletion_date_only() -> None:
    pair = _pair("0", deleted_on=SERVICE_ON)
    later = _pair("0", deleted_on=SERVICE_ON.replace(day=SERVICE_ON.day - 1))

    assert codes(check_ncci_ptp(_claim(), _context(pair))) == ["scrub.ncci_ptp.never_together"]
    assert check_ncci_ptp(_claim(), _context(later)) == []


def test_a_pair_not_yet_effective_does_not_apply() -> None:
    pair = _pair("0", effective_on=SERVICE_ON.replace(day=SERVICE_ON.day + 1))

    assert check_ncci_ptp(_claim(), _context(pair)) == []


def test_the_pair_is_ordered_column_1_then_column_2() -> None:
    reversed_pair = NcciPair("90837", "90791", date(2020, 1, 1), None, "0")

    [problem] = check_ncci_ptp(_claim(), _context(reversed_pair))

    assert problem.where == "line 1, SV1 procedure"  # 90791 is the column 2 code here


def test_codes_on_different_days_are_not_a_pair() -> None:
    other_day = date(2026, 5, 5)
    facts = clean_claim(
        service_to_on=other_day,
        lines=(DIAGNOSTIC, psychotherapy(service_on=other_day)),
        today=date(2026, 5, 11),
    )

    assert check_ncci_ptp(facts, _context(_pair("0"))) == []


def test_no_table_loaded_is_a_note_not_a_warning() -> None:
    [problem] = check_ncci_ptp(_claim(), replace(CONTEXT, ncci_tables=()))

    assert (problem.code, problem.severity) == ("scrub.ncci_ptp.no_table", Severity.INFO)


def test_a_date_no_table_covers_is_checked_against_the_newest_with_a_note() -> None:
    context = _context(_pair("0"), start=date(2026, 7, 1), end=date(2026, 9, 30))

    problems = check_ncci_ptp(_claim(), context)

    assert codes(problems) == ["scrub.ncci_ptp.other_table", "scrub.ncci_ptp.never_together"]
    assert problems[0].severity is Severity.INFO


def test_the_table_in_force_on_the_date_is_chosen_over_a_newer_one() -> None:
    q2 = NcciTable("Q2", date(2026, 4, 1), date(2026, 6, 30))
    q3 = NcciTable("Q3", date(2026, 7, 1), None)

    assert choose_table((q3, q2), date(2026, 5, 4)) is q2
    assert choose_table((q2, q3), date(2026, 8, 1)) is q3
    assert choose_table((q2,), date(2026, 8, 1)) is q2
    assert choose_table((), date(2026, 8, 1)) is None
