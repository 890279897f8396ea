"""Required 837P fields: present, and shaped the way the 837P 5010 (005010X222A1) wants.

A clearinghouse refuses a file for a missing subscriber member id or a five-digit billing
ZIP long before a payer looks at the claim, so these are errors: the claim cannot be sent.
The only warnings are taxonomy codes left empty (PRV is situational; many payers want it).
The EDI payer id is needed only when the payer's billing route sends an 837P (clearinghouse,
SimplePractice); a claim keyed into a portal or printed on paper goes without one.
Whether an NPI's check digit is right is :mod:`.identifiers`' business; here it must only be
there.
"""

from __future__ import annotations

import re
from datetime import date

from revcycle.domain.problems import Problem, Severity
from revcycle.domain.scrubber.context import ScrubContext
from revcycle.domain.scrubber.facts import (
    Address,
    BillingProvider,
    ClaimFacts,
    ClaimLine,
    Person,
    Provider,
    line_where,
)

__all__ = ["check_required_fields"]

MISSING = "scrub.required_fields.missing"
MALFORMED = "scrub.required_fields.malformed"

MAX_CLAIM_NUMBER_CHARS = 17  # our CLM01 (the 837P allows 20; the practice's systems 17)
MAX_DIAGNOSES = 12  # HI: 12 diagnosis codes on an 837P
MAX_LINES = 50  # loop 2400 repeats at most 50 times
MAX_MODIFIERS = 4

_STATE = re.compile(r"[A-Z]{2}")
_ZIP5_OR_9 = re.compile(r"\d{5}(-?\d{4})?")
_ZIP9 = re.compile(r"\d{5}-?\d{4}")
_EIN = re.compile(r"\d{2}-?\d{7}")
_TAXONOMY = re.compile(r"[0-9]{3}[0-9A-Z]{6}X")
# CPT: five digits, or four digits and F/T/U (category II/III, PLA); HCPCS II: a letter and four digits.
_PROCEDURE = re.compile(r"\d{5}|\d{4}[FTU]|[A-V]\d{4}")
_MODIFIER = re.compile(r"[0-9A-Z]{2}")
_PO_BOX = re.compile(r"\bP\.?\s*O\.?\s*BOX\b|\bPOST OFFICE BOX\b", re.IGNORECASE)
_SEXES = frozenset("FMU")


def check_required_fields(facts: ClaimFacts, context: ScrubContext) -> list[Problem]:
    """Every field an 837P needs is present and well formed."""
    return [
        *_claim(facts),
        *_billing_provider(facts.billing_provider),
        *_other_provider("rendering provider", facts.rendering_provider, taxonomy=True),
        # The supervising provider's loop (2310D) has no PRV: no taxonomy to check.
        *_other_provider("supervising provider", facts.supervising_provider, taxonomy=False),
        *_subscriber(facts),
        *_person("patient", facts.patient, service_from_on=facts.service_from_on),
        *_payer(facts),
        *_diagnoses(facts),
        *_lines(facts),
    ]


def _missing(where: str, what: str) -> Problem:
    return Problem(MISSING, where, f"{what} is missing")


def _malformed(where: str, message: str) -> Problem:
    return Problem(MALFORMED, where, message)


def _blank(text: str) -> bool:
    return not text.strip()


def _claim(facts: ClaimFacts) -> list[Problem]:
    problems = []
    number = facts.claim_number.strip()
    if not number:
        problems.append(_missing("claim number (CLM01)", "The patient control number"))
    elif len(number) > MAX_CLAIM_NUMBER_CHARS:
        problems.append(
            _malformed(
                "claim number (CLM01)", f"{number!r} is longer than {MAX_CLAIM_NUMBER_CHARS} characters"
            )
        )
    if _blank(facts.place_of_service):
        problems.append(_missing("place of service (CLM05)", "The place of service"))
    last = facts.service_to_on or facts.service_from_on
    if last < facts.service_from_on:
        problems.append(
            _malformed(
                "dates of service", f"the last date {last} is before the first {facts.service_from_on}"
            )
        )
    if max(last, *facts.service_dates) > facts.today:
        problems.append(
            _malformed(
                "dates of service", f"a date of service is after today ({facts.today}): not yet billable"
            )
        )
    return problems


def _billing_provider(provider: BillingProvider) -> list[Problem]:
    problems = []
    if _blank(provider.name):
        problems.append(_missing("billing provider name", "The billing provider's name"))
    if _blank(provider.npi):
        problems.append(_missing("billing provider NPI", "The billing provider's NPI"))
    if _blank(provider.tax_id):
        problems.append(_missing("billing provider tax id (EIN)", "The billing provider's EIN"))
    elif not _EIN.fullmatch(provider.tax_id.strip()):
        problems.append(
            _malformed("billing provider tax id (EIN)", f"{provider.tax_id!r} is not a nine-digit EIN")
        )
    problems += _taxonomy("billing provider taxonomy", provider.taxonomy_code)
    problems += _address("billing provider address", provider.address, billing=True)
    return problems


def _other_provider(role: str, provider: Provider | None, *, taxonomy: bool) -> list[Problem]:
    if provider is None:
        return []
    problems = []
    if _blank(provider.last_name):
        problems.append(_missing(f"{role} name", f"The {role}'s last name"))
    if _blank(provider.npi):
        problems.append(_missing(f"{role} NPI", f"The {role}'s NPI"))
    if taxonomy:
        problems += _taxonomy(f"{role} taxonomy", provider.taxonomy_code)
    return problems


def _taxonomy(where: str, code: str) -> list[Problem]:
    if _blank(code):
        return [
            Problem(
                MISSING,
                where,
                "No taxonomy code: many payers refuse a behavioral-health claim without one",
                Severity.WARNING,
            )
        ]
    if not _TAXONOMY.fullmatch(code.strip()):
        return [_malformed(where, f"{code!r} is not a taxonomy code (ten characters ending in X)")]
    return []


def _address(where: str, address: Address | None, *, billing: bool = False) -> list[Problem]:
    if address is None:
        return [_missing(where, "The address")]
    problems = []
    if _blank(address.line1):
        problems.append(_missing(f"{where} line 1", "The street address"))
    elif billing and _PO_BOX.search(f"{address.line1} {address.line2}"):
        problems.append(
            _malformed(where, "the billing provider's address must be a street address, not a PO box")
        )
    if _blank(address.city):
        problems.append(_missing(f"{where} city", "The city"))
    if _blank(address.state):
        problems.append(_missing(f"{where} state", "The state"))
    elif not _STATE.fullmatch(address.state.strip()):
        problems.append(_malformed(f"{where} state", f"{address.state!r} is not a two-letter state code"))
    postal = address.postal_code.strip()
    if not postal:
        problems.append(_missing(f"{where} ZIP code", "The ZIP code"))
    elif billing and not _ZIP9.fullmatch(postal):
        problems.append(
            _malformed(
                f"{where} ZIP code", f"{postal!r}: the billing provider's ZIP needs all nine digits (ZIP+4)"
            )
        )
    elif not _ZIP5_OR_9.fullmatch(postal):
        problems.append(_malformed(f"{where} ZIP code", f"{postal!r} is not a five- or nine-digit ZIP code"))
    return problems


def _person(role: str, person: Person, *, service_from_on: date) -> list[Problem]:
    problems = []
    if _blank(person.last_name):
        problems.append(_missing(f"{role} last name", f"The {role}'s last name"))
    if _blank(person.first_name):
        problems.append(_missing(f"{role} first name", f"The {role}'s first name"))
    if person.date_of_birth is None:
        problems.append(_missing(f"{role} date of birth", f"The {role}'s date of birth"))
    elif person.date_of_birth > service_from_on:
        problems.append(
            _malformed(f"{role} date of birth", f"{person.date_of_birth} is after the date of service")
        )
    if _blank(person.sex):
        problems.append(_missing(f"{role} sex", f"The {role}'s sex (F, M or U)"))
    elif person.sex.strip().upper() not in _SEXES:
        problems.append(_malformed(f"{role} sex", f"{person.sex!r} is not F, M or U"))
    problems += _address(f"{role} address", person.address)
    return problems


def _subscriber(facts: ClaimFacts) -> list[Problem]:
    # When the client is the subscriber the patient's details fill the subscriber loop and
    # are checked as the patient's; otherwise the subscriber needs a name of their own.
    coverage = facts.coverage
    problems = []
    if _blank(coverage.member_id):
        problems.append(_missing("subscriber member id", "The subscriber's member id"))
    if not coverage.client_is_subscriber:
        if _blank(coverage.subscriber.last_name):
            problems.append(_missing("subscriber last name", "The subscriber's last name"))
        if _blank(coverage.subscriber.first_name):
            problems.append(_missing("subscriber first name", "The subscriber's first name"))
    return problems


def _payer(facts: ClaimFacts) -> list[Problem]:
    problems = []
    if _blank(facts.payer.name):
        problems.append(_missing("payer name", "The payer's name"))
    # Only an 837P carries the payer id; a portal or paper claim names the payer in words.
    if facts.payer.is_electronic and _blank(facts.payer.payer_id):
        route = facts.payer.billing_route
        problems.append(
            _missing("payer id", f"The EDI payer id of {facts.payer.name or 'the payer'} (billed by {route})")
        )
    return problems


def _diagnoses(facts: ClaimFacts) -> list[Problem]:
    codes = facts.diagnosis_codes
    if not any(code.strip() for code in codes):
        return [_missing("diagnosis codes (HI)", "A diagnosis code")]
    problems = []
    if len(codes) > MAX_DIAGNOSES:
        problems.append(
            _malformed(
                "diagnosis codes (HI)",
                f"{len(codes)} diagnosis codes; an 837P carries at most {MAX_DIAGNOSES}",
            )
        )
    for number, code in enumerate(codes, start=1):
        if _blank(code):
            problems.append(_missing(f"diagnosis {number}", "The diagnosis code"))
    return problems


def _lines(facts: ClaimFacts) -> list[Problem]:
    if not facts.lines:
        return [_missing("service lines", "A service line")]
    problems = []
    if len(facts.lines) > MAX_LINES:
        problems.append(
            _malformed(
                "service lines", f"{len(facts.lines)} service lines; an 837P carries at most {MAX_LINES}"
            )
        )
    for number, line in enumerate(facts.lines, start=1):
        problems += _line(facts, number, line)
    return problems


def _line(facts: ClaimFacts, number: int, line: ClaimLine) -> list[Problem]:
    problems = []
    code = line.procedure_code.strip()
    if not code:
        problems.append(_missing(line_where(number, "SV1 procedure"), "The procedure code"))
    elif not _PROCEDURE.fullmatch(code):
        problems.append(
            _malformed(line_where(number, "SV1 procedure"), f"{code!r} is not a CPT or HCPCS code")
        )
    if len(line.modifiers) > MAX_MODIFIERS:
        problems.append(
            _malformed(
                line_where(number, "SV1 modifiers"),
                f"{len(line.modifiers)} modifiers; at most {MAX_MODIFIERS}",
            )
        )
    problems += [
        _malformed(line_where(number, "SV1 modifiers"), f"{modifier!r} is not a two-character modifier")
        for modifier in line.modifiers
        if not _MODIFIER.fullmatch(modifier.strip())
    ]
    if line.units < 1:
        problems.append(_malformed(line_where(number, "SV1 units"), f"{line.units} units; at least 1"))
    if line.charge_cents <= 0:
        problems.append(_malformed(line_where(number, "SV1 charge"), "the charge must be more than $0.00"))
    service_on = facts.line_service_on(line)
    last = facts.service_to_on or facts.service_from_on
    if facts.service_from_on <= last and not facts.service_from_on <= service_on <= last:
        problems.append(
            _malformed(
                line_where(number, "date of service"),
                f"{service_on} is outside the claim's dates {facts.service_from_on}..{last}",
            )
        )
    return problems
