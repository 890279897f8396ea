"""Timely filing: a payer accepts a claim only within its filing limit of the date of service.

The deadline is the first date of service plus the payer's filing limit in days (a claim
spanning several dates is bound by its earliest). Past it the payer denies the claim outright,
so that is an error; within 30 days of it the claim should go out today, a warning.
"""

from __future__ import annotations

from datetime import date, timedelta

from revcycle.domain.problems import Problem, Severity
from revcycle.domain.scrubber.context import ScrubContext
from revcycle.domain.scrubber.facts import ClaimFacts

__all__ = ["WARN_WITHIN_DAYS", "check_timely_filing", "timely_filing_deadline"]

WARN_WITHIN_DAYS = 30


def timely_filing_deadline(service_on: date, filing_limit_days: int) -> date:
    """The last day a payer with this filing limit accepts a claim for ``service_on``."""
    return service_on + timedelta(days=filing_limit_days)


def check_timely_filing(facts: ClaimFacts, context: ScrubContext) -> list[Problem]:
    """The filing deadline has not passed (and is not within 30 days)."""
    where = "timely filing deadline"
    limit_days = facts.payer.filing_limit_days
    if limit_days is None:
        payer = facts.payer.name or "the payer"
        message = f"no timely filing limit is set for {payer}; the deadline was not checked"
        return [Problem("scrub.timely_filing.no_limit", where, message, Severity.INFO)]
    deadline = timely_filing_deadline(facts.service_dates[0], limit_days)
    days_left = (deadline - facts.today).days
    if days_left < 0:
        message = f"the {limit_days}-day filing limit ended {deadline} ({_days(-days_left)} ago)"
        return [Problem("scrub.timely_filing.passed", where, message)]
    if days_left <= WARN_WITHIN_DAYS:
        when = f"in {_days(days_left)}" if days_left else "today"
        message = f"the {limit_days}-day filing limit ends {deadline}, {when}"
        return [Problem("scrub.timely_filing.near", where, message, Severity.WARNING)]
    return []


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"
