"""Coverage dates and prior authorization on the date of service."""

from dataclasses import replace
from datetime import date

import pytest

from revcycle.domain.problems import Severity
from revcycle.domain.scrubber import Authorization, Payer
from revcycle.domain.scrubber.eligibility import check_coverage_active, check_prior_authorization

from .claims import CONTEXT, SERVICE_ON, clean_claim, codes, psychotherapy

BASE = clean_claim()
NEEDS_AUTH = Payer("Magellan", "01260", requires_prior_auth=True, filing_limit_days=90)
AUTH = Authorization("MAG-7781", date(2026, 3, 1), date(2026, 8, 31), visits_allowed=12, visits_used=4)


def _coverage(effective_on: date | None, ends_on: date | None) -> list[str]:
    facts = clean_claim(coverage=replace(BASE.coverage, effective_on=effective_on, ends_on=ends_on))
    return codes(check_coverage_active(facts, CONTEXT))


@pytest.mark.parametrize(
    ("effective_on", "ends_on"),
    [(None, None), (SERVICE_ON, SERVICE_ON), (date(2026, 1, 1), None), (None, date(2026, 12, 31))],
)
def test_coverage_in_force_on_the_date_of_service_passes(
    effective_on: date | None, ends_on: date | None
) -> None:
    assert _coverage(effective_on, ends_on) == []


def test_coverage_starting_after_the_date_of_service_is_an_error() -> None:
    assert _coverage(date(2026, 5, 5), None) == ["scrub.coverage_active.not_started"]


def test_coverage_ended_before_the_date_of_service_is_an_error() -> None:
    facts = clean_claim(coverage=replace(BASE.coverage, ends_on=date(2026, 4, 30)))

    [problem] = check_coverage_active(facts, CONTEXT)

    assert (problem.code, problem.where, problem.severity) == (
        "scrub.coverage_active.ended",
        "coverage effective dates",
        Severity.ERROR,
    )
    assert "2026-04-30" in problem.message


def test_each_date_of_service_is_checked() -> None:
    facts = clean_claim(
        service_to_on=date(2026, 5, 8),
        lines=(psychotherapy(), psychotherapy(service_on=date(2026, 5, 8))),
        coverage=replace(BASE.coverage, ends_on=date(2026, 5, 6)),
    )

    assert codes(check_coverage_active(facts, CONTEXT)) == ["scrub.coverage_active.ended"]


def test_no_authorization_is_needed_when_the_payer_does_not_require_one() -> None:
    assert check_prior_authorization(clean_claim(authorization=None), CONTEXT) == []


def test_an_authorization_with_visits_left_passes() -> None:
    assert check_prior_authorization(clean_claim(payer=NEEDS_AUTH, authorization=AUTH), CONTEXT) == []


@pytest.mark.parametrize("authorization", [None, replace(AUTH, number=" ")])
def test_a_required_authorization_missing_is_an_error(authorization: Authorization | None) -> None:
    [problem] = check_prior_authorization(clean_claim(payer=NEEDS_AUTH, authorization=authorization), CONTEXT)

    assert (problem.code, problem.where, problem.severity) == (
        "scrub.prior_authorization.missing",
        "prior authorization (REF G1)",
        Severity.ERROR,
    )
    assert "Magellan" in problem.message


@pytest.mark.parametrize(
    "authorization",
    [replace(AUTH, starts_on=date(2026, 5, 5)), replace(AUTH, ends_on=date(2026, 5, 3))],
)
def test_a_date_of_service_outside_the_authorization_is_an_error(authorization: Authorization) -> None:
    problems = check_prior_authorization(clean_claim(payer=NEEDS_AUTH, authorization=authorization), CONTEXT)

    assert codes(problems) == ["scrub.prior_authorization.outside_dates"]


@pytest.mark.parametrize("used", [12, 13])
def test_an_exhausted_authorization_is_an_error(used: int) -> None:
    facts = clean_claim(payer=NEEDS_AUTH, authorization=replace(AUTH, visits_used=used))

    [problem] = check_prior_authorization(facts, CONTEXT)

    assert (problem.code, problem.severity) == ("scrub.prior_authorization.exhausted", Severity.ERROR)


def test_a_claim_taking_the_last_visit_passes_with_a_note() -> None:
    facts = clean_claim(payer=NEEDS_AUTH, authorization=replace(AUTH, visits_used=11))

    [problem] = check_prior_authorization(facts, CONTEXT)

    assert (problem.code, problem.severity) == ("scrub.prior_authorization.last_visit", Severity.INFO)


def test_a_claim_with_two_dates_needs_two_visits() -> None:
    facts = clean_claim(
        payer=NEEDS_AUTH,
        authorization=replace(AUTH, visits_used=11),
        service_to_on=date(2026, 5, 8),
        lines=(psychotherapy(), psychotherapy(service_on=date(2026, 5, 8))),
    )

    assert codes(check_prior_authorization(facts, CONTEXT)) == ["scrub.prior_authorization.exhausted"]


def test_an_authorization_without_a_visit_limit_never_runs_out() -> None:
    facts = clean_claim(payer=NEEDS_AUTH, authorization=replace(AUTH, visits_allowed=None, visits_used=99))

    assert check_prior_authorization(facts, CONTEXT) == []
