"""Identifiers a payer checks before anything else: NPIs and the place of service.

An NPI carries a check digit (Luhn over ``80840`` + the number, see :mod:`revcycle.domain.npi`);
a typo in one digit fails it, and the clearinghouse rejects the claim. The place of service
must be a code CMS has assigned; an unassigned one (``29``, ``35``...) is rejected too.
Absent values are the required-fields edit's business, so these edits skip them.
"""

from __future__ import annotations

from revcycle.domain.npi import npi_is_valid
from revcycle.domain.problems import Problem
from revcycle.domain.scrubber.context import ScrubContext
from revcycle.domain.scrubber.facts import ClaimFacts, line_where

__all__ = ["check_npis", "check_place_of_service"]


def check_npis(facts: ClaimFacts, context: ScrubContext) -> list[Problem]:
    """Each NPI on the claim is ten digits with the right check digit and starts with 1 or 2."""
    npis = [("billing provider NPI", facts.billing_provider.npi)]
    if facts.rendering_provider is not None:
        npis.append(("rendering provider NPI", facts.rendering_provider.npi))
    if facts.supervising_provider is not None:
        npis.append(("supervising provider NPI", facts.supervising_provider.npi))
    return [
        Problem("scrub.npi_check_digit.invalid", where, _npi_message(npi.strip()))
        for where, npi in npis
        if npi.strip() and not npi_is_valid(npi.strip())
    ]


def _npi_message(npi: str) -> str:
    if len(npi) != 10 or not (npi.isascii() and npi.isdigit()):
        return f"{npi!r} is not an NPI: an NPI is ten digits"
    if npi_is_valid(npi, require_issuable=False):
        return f"{npi} is not an NPI: issued NPIs begin with 1 or 2"
    return f"{npi} fails the NPI check digit: a digit is probably mistyped"


def check_place_of_service(facts: ClaimFacts, context: ScrubContext) -> list[Problem]:
    """The claim's and each line's place of service is a code CMS has assigned."""
    places = [("place of service (CLM05)", facts.place_of_service.strip())]
    places += [
        (line_where(number, "SV1 place of service"), line.place_of_service.strip())
        for number, line in enumerate(facts.lines, start=1)
    ]
    return [
        Problem(
            "scrub.place_of_service.unknown",
            where,
            f"{code!r} is not a CMS place-of-service code",
        )
        for where, code in places
        if code and code not in context.place_of_service_codes
    ]
