"""Timely filing: date of service + the payer's limit; passed is an error, 30 days or less a warning."""

from dataclasses import replace
from datetime import date

import pytest

from revcycle.domain.problems import Severity
from revcycle.domain.scrubber import timely_filing_deadline
from revcycle.domain.scrubber.filing import check_timely_filing

from .claims import CONTEXT, SERVICE_ON, clean_claim, psychotherapy

BASE = clean_claim()  # 2026-05-04, 90 days: the deadline is 2026-08-02


def _filing(today: date, limit_days: int | None = 90) -> list[tuple[str, Severity]]:
    facts = clean_claim(today=today, payer=replace(BASE.payer, filing_limit_days=limit_days))
    return [(p.code, p.severity) for p in check_timely_filing(facts, CONTEXT)]


def test_the_deadline_is_the_date_of_service_plus_the_limit() -> None:
    assert timely_filing_deadline(SERVICE_ON, 90) == date(2026, 8, 2)
    assert timely_filing_deadline(date(2025, 12, 31), 365) == date(2026, 12, 31)


@pytest.mark.parametrize("today", [SERVICE_ON, date(2026, 7, 2)])
def test_more_than_30_days_left_passes(today: date) -> None:
    assert _filing(today) == []


@pytest.mark.parametrize("today", [date(2026, 7, 3), date(2026, 8, 1), date(2026, 8, 2)])
def test_30_days_or_fewer_left_is_a_warning(today: date) -> None:
    assert _filing(today) == [("scrub.timely_filing.near", Severity.WARNING)]


@pytest.mark.parametrize("today", [date(2026, 8, 3), date(2027, 1, 1)])
def test_a_passed_deadline_is_an_error(today: date) -> None:
    assert _filing(today) == [("scrub.timely_filing.passed", Severity.ERROR)]


def test_the_message_names_the_deadline() -> None:
    [problem] = check_timely_filing(clean_claim(today=date(2026, 8, 10)), CONTEXT)

    assert problem.where == "timely filing deadline"
    assert "2026-08-02 (8 days ago)" in problem.message


def test_the_earliest_date_of_service_binds() -> None:
    facts = clean_claim(
        service_from_on=date(2026, 5, 1),
        service_to_on=date(2026, 5, 4),
        lines=(psychotherapy(service_on=date(2026, 5, 4)), psychotherapy(service_on=date(2026, 5, 1))),
        today=date(2026, 7, 29),
    )

    assert "ends 2026-07-30, in 1 day" in check_timely_filing(facts, CONTEXT)[0].message


def test_no_limit_set_is_noted_not_checked() -> None:
    assert _filing(date(2030, 1, 1), None) == [("scrub.timely_filing.no_limit", Severity.INFO)]
