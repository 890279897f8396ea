"""Eligibility on the date of service: the coverage was active and, where the payer wants
one, a prior authorization covered the visit.

A coverage's dates are the client's plan dates as the practice knows them (``None`` is
open-ended). Some payers pay for a behavioral-health visit only under a prior authorization:
a number, the dates it runs and the visits it allows. ``visits_used`` counts the visits used
before this claim, and the claim uses one visit per date of service, so an authorization
whose last visit this claim takes is fine (noted, so someone asks for a renewal) and one
already used up is an error.
"""

from __future__ import annotations

from revcycle.domain.problems import Problem, Severity
from revcycle.domain.scrubber.context import ScrubContext
from revcycle.domain.scrubber.facts import ClaimFacts

__all__ = ["check_coverage_active", "check_prior_authorization"]


def check_coverage_active(facts: ClaimFacts, context: ScrubContext) -> list[Problem]:
    """Every date of service falls within the coverage's effective dates."""
    coverage = facts.coverage
    problems = []
    for day in facts.service_dates:
        if coverage.effective_on is not None and day < coverage.effective_on:
            message = f"the coverage starts {coverage.effective_on}, after the date of service {day}"
            problems.append(Problem("scrub.coverage_active.not_started", "coverage effective dates", message))
        elif coverage.ends_on is not None and day > coverage.ends_on:
            message = f"the coverage ended {coverage.ends_on}, before the date of service {day}"
            problems.append(Problem("scrub.coverage_active.ended", "coverage effective dates", message))
    return problems


def check_prior_authorization(facts: ClaimFacts, context: ScrubContext) -> list[Problem]:
    """When the payer requires it, an authorization covers each date of service with visits left."""
    if not facts.payer.requires_prior_auth:
        return []
    where = "prior authorization (REF G1)"
    auth = facts.authorization
    if auth is None or not auth.number.strip():
        message = f"{facts.payer.name or 'the payer'} requires prior authorization and the claim has none"
        return [Problem("scrub.prior_authorization.missing", where, message)]
    problems = []
    for day in facts.service_dates:
        if (auth.starts_on is not None and day < auth.starts_on) or (
            auth.ends_on is not None and day > auth.ends_on
        ):
            message = (
                f"authorization {auth.number} runs {auth.starts_on or '...'} to {auth.ends_on or '...'}; "
                f"the date of service {day} is outside it"
            )
            problems.append(Problem("scrub.prior_authorization.outside_dates", where, message))
    if auth.visits_allowed is not None:
        needed = len(facts.service_dates)
        remaining = auth.visits_allowed - auth.visits_used
        if remaining < needed:
            message = (
                f"authorization {auth.number} allows {auth.visits_allowed} visits and {auth.visits_used} "
                f"are used; this claim needs {needed}"
            )
            problems.append(Problem("scrub.prior_authorization.exhausted", where, message))
        elif remaining == needed:
            message = f"this claim uses the last visit of authorization {auth.number}: ask for a renewal"
            problems.append(Problem("scrub.prior_authorization.last_visit", where, message, Severity.INFO))
    return problems
