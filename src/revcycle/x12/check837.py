"""Writer-side checks on a claim set: what pyx12 passes but a payer would still reject.

pyx12 judges the file's syntax against the implementation guide; it does not compute an NPI's
check digit, notice an ICD-10 code under an ICD-9 qualifier, add up the lines or balance a
secondary claim's other-payer adjudication (each line's SVD02 plus its CAS amounts is the
line's charge; a payer's AMT*D is the sum of its lines' SVD02). These checks do, before
anything is written. Every problem is collected (``claim_set_problems``);
``check_claim_set`` refuses the claim set with all of them in one ``ClaimSetRefused``.
Each problem names the claim (its CLM01) and the element, e.g. ``CLM02``.
"""

from __future__ import annotations

import re

from revcycle.domain.npi import npi_is_valid
from revcycle.x12.claim837 import (
    ICD9_OTHER,
    ICD9_PRINCIPAL,
    ICD10_PRINCIPAL,
    PATIENT_IS_SUBSCRIBER,
    Adjustment,
    Claim,
    ClaimSet,
    ServiceLine,
)
from revcycle.x12.errors import X12Error

__all__ = ["ClaimSetRefused", "check_claim_set", "claim_set_problems"]

MAX_PATIENT_CONTROL_NUMBER = 17
MAX_LINE_CONTROL_NUMBER = 50
MAX_DIAGNOSES = 12
MAX_LINES = 50
MAX_MODIFIERS = 4
MAX_POINTERS = 4
MAX_ADJUSTMENTS_PER_GROUP = 6
FREQUENCIES = frozenset({"1", "7", "8"})
_ICD10 = re.compile(r"[A-Z][0-9][0-9A-Z]{1,5}")
_ICD9 = re.compile(r"(\d{3,5}|V\d{2,4}|E\d{3,4})")


class ClaimSetRefused(X12Error):
    """The claim set cannot be written; ``problems`` lists every reason, each naming its element."""

    def __init__(self, problems: list[X12Error]) -> None:
        self.problems = problems
        first = problems[0]
        extra = f" (and {len(problems) - 1} more: " + "; ".join(map(str, problems[1:])) + ")"
        super().__init__(
            first.message + (extra if len(problems) > 1 else ""),
            segment_id=first.segment_id,
            element=first.element,
        )


def check_claim_set(claim_set: ClaimSet) -> None:
    """Refuse a claim set a payer would reject; return quietly when there is nothing to say."""
    problems = claim_set_problems(claim_set)
    if problems:
        raise ClaimSetRefused(problems)


def claim_set_problems(claim_set: ClaimSet) -> list[X12Error]:
    problems: list[X12Error] = []
    if not claim_set.claims:
        problems.append(X12Error("a claim set needs at least one claim", segment_id="CLM"))
    for claim in claim_set.claims:
        problems.extend(claim_problems(claim))
    return problems


def claim_problems(claim: Claim) -> list[X12Error]:
    """Every problem of one claim, each an ``X12Error`` naming the claim and the element."""
    found: list[tuple[str, str, str]] = []  # (segment id, element, message)
    found += _control_number_problems(claim)
    found += _npi_problems(claim)
    found += _subscriber_problems(claim)
    found += _frequency_problems(claim)
    found += _diagnosis_problems(claim)
    found += _line_problems(claim)
    found += _other_coverage_problems(claim)
    return [
        X12Error(f"claim {claim.patient_control_number!r}: {message}", segment_id=segment, element=element)
        for segment, element, message in found
    ]


Found = list[tuple[str, str, str]]


def _control_number_problems(claim: Claim) -> Found:
    number = claim.patient_control_number
    if not number:
        return [("CLM", "CLM01", "the patient control number is empty")]
    if len(number) > MAX_PATIENT_CONTROL_NUMBER:
        return [("CLM", "CLM01", f"the patient control number is {len(number)} characters, at most 17")]
    return []


def _npi_problems(claim: Claim) -> Found:
    named = [("NM1", "NM109", "billing provider", claim.billing_provider.npi)]
    if claim.rendering:
        named.append(("NM1", "NM109", "rendering provider", claim.rendering.npi))
    if claim.supervising:
        named.append(("NM1", "NM109", "supervising provider", claim.supervising.npi))
    if claim.service_facility and claim.service_facility.npi:
        named.append(("NM1", "NM109", "service facility", claim.service_facility.npi))
    return [
        (segment, element, f"{who} NPI {npi!r} fails its check digit")
        for segment, element, who, npi in named
        if not npi_is_valid(npi)
    ]


def _subscriber_problems(claim: Claim) -> Found:
    relationship = claim.subscriber.relationship
    if relationship == PATIENT_IS_SUBSCRIBER and claim.patient is not None:
        return [("SBR", "SBR02", "SBR02 says the patient is the subscriber (18) but a patient loop is given")]
    if relationship != PATIENT_IS_SUBSCRIBER and claim.patient is None:
        return [
            (
                "SBR",
                "SBR02",
                f"SBR02 {relationship!r} says the patient is not the subscriber: a patient is needed",
            )
        ]
    if relationship not in {PATIENT_IS_SUBSCRIBER, ""}:
        return [
            (
                "SBR",
                "SBR02",
                f"SBR02 is 18 or empty (the patient's relationship goes in PAT01), not {relationship!r}",
            )
        ]
    if relationship == PATIENT_IS_SUBSCRIBER:
        # 2010BA: the subscriber's address and demographics are required when they are the patient.
        if claim.subscriber.address is None:
            return [("N3", "N301", "the subscriber is the patient: their address (N3/N4) is needed")]
        if claim.subscriber.birth_date is None or claim.subscriber.sex not in {"M", "F", "U"}:
            return [("DMG", "DMG02", "the subscriber is the patient: birth date and sex (DMG) are needed")]
    if claim.subscriber.responsibility not in {"P", "S", "T"}:
        return [
            ("SBR", "SBR01", f"payer responsibility {claim.subscriber.responsibility!r} is not P, S or T")
        ]
    return []


def _frequency_problems(claim: Claim) -> Found:
    if claim.frequency not in FREQUENCIES:
        return [("CLM", "CLM05-3", f"frequency {claim.frequency!r} is not 1, 7 or 8")]
    if claim.frequency in {"7", "8"} and not claim.payer_claim_control_number:
        return [
            ("REF", "REF02", f"frequency {claim.frequency} needs the payer's claim control number (REF*F8)")
        ]
    return []


def _diagnosis_problems(claim: Claim) -> Found:
    found: Found = []
    count = len(claim.diagnoses)
    if not 1 <= count <= MAX_DIAGNOSES:
        found.append(("HI", "HI01-2", f"{count} diagnoses; a claim has 1 to 12"))
    if claim.diagnosis_qualifier not in {ICD10_PRINCIPAL, ICD9_PRINCIPAL}:
        found.append(("HI", "HI01-1", f"diagnosis qualifier {claim.diagnosis_qualifier!r} is not ABK"))
    icd9 = claim.diagnosis_qualifier == ICD9_PRINCIPAL
    for index, code in enumerate(claim.diagnoses, start=1):
        element = f"HI{(index - 1) % 12 + 1:02d}-2"
        if icd9 and _ICD10.fullmatch(code) and not _ICD9.fullmatch(code):
            qualifier = ICD9_PRINCIPAL if index == 1 else ICD9_OTHER
            found.append(("HI", element, f"ICD-10 code {code!r} under the ICD-9 qualifier {qualifier}"))
        elif not icd9 and not _ICD10.fullmatch(code):
            found.append(("HI", element, f"{code!r} is not an ICD-10-CM code (letters and digits, no dot)"))
    return found


def _line_problems(claim: Claim) -> Found:
    found: Found = []
    if not 1 <= len(claim.lines) <= MAX_LINES:
        found.append(("LX", "LX01", f"{len(claim.lines)} service lines; a claim has 1 to 50"))
    total = sum(line.charge_cents for line in claim.lines)
    if total != claim.total_charge_cents:
        found.append(
            (
                "CLM",
                "CLM02",
                f"claim total {_money(claim.total_charge_cents)} differs from the lines' {_money(total)}",
            )
        )
    for number, line in enumerate(claim.lines, start=1):
        found += [(s, e, f"line {number}: {m}") for s, e, m in _one_line_problems(claim, line)]
    return found


def _one_line_problems(claim: Claim, line: ServiceLine) -> Found:
    found: Found = []
    if len(line.modifiers) > MAX_MODIFIERS:
        found.append(("SV1", "SV101-3", f"{len(line.modifiers)} modifiers, at most 4"))
    if len(line.control_number) > MAX_LINE_CONTROL_NUMBER:
        found.append(("REF", "REF02", f"line control number {line.control_number!r}: at most 50 characters"))
    if not 1 <= len(line.diagnosis_pointers) <= MAX_POINTERS:
        found.append(("SV1", "SV107-1", f"{len(line.diagnosis_pointers)} diagnosis pointers; 1 to 4"))
    for pointer in line.diagnosis_pointers:
        if not 1 <= pointer <= len(claim.diagnoses):
            found.append(
                ("SV1", "SV107", f"diagnosis pointer {pointer} is out of range (1 to {len(claim.diagnoses)})")
            )
    if line.units < 1:
        found.append(("SV1", "SV104", f"units {line.units}; at least 1"))
    if line.charge_cents < 0:
        found.append(("SV1", "SV102", "a negative charge"))
    for adjudication in line.adjudications:
        found += _adjustment_problems("CAS", adjudication.adjustments)
    return found


def _other_coverage_problems(claim: Claim) -> Found:
    found: Found = []
    for coverage in claim.other_coverages:
        found += _adjustment_problems("CAS", coverage.adjustments)
    payer_ids = {coverage.payer_id for coverage in claim.other_coverages}
    paid_on_lines: dict[str, int] = {}
    for number, line in enumerate(claim.lines, start=1):
        for adjudication in line.adjudications:
            if adjudication.payer_id not in payer_ids:
                found.append(
                    ("SVD", "SVD01", f"line adjudicated by {adjudication.payer_id!r}, not an other payer")
                )
            paid_on_lines[adjudication.payer_id] = paid_on_lines.get(adjudication.payer_id, 0) + (
                adjudication.paid_cents
            )
            adjusted = sum(adjustment.amount_cents for adjustment in adjudication.adjustments)
            if adjudication.paid_cents + adjusted != line.charge_cents:
                found.append(
                    (
                        "SVD",
                        "SVD02",
                        f"line {number}: {adjudication.payer_id!r} paid {_money(adjudication.paid_cents)}"
                        f" and adjusted {_money(adjusted)}, which does not balance to the charge"
                        f" {_money(line.charge_cents)}",
                    )
                )
    for coverage in claim.other_coverages:
        on_lines = paid_on_lines.get(coverage.payer_id)
        if on_lines is not None and coverage.paid_cents is not None and coverage.paid_cents != on_lines:
            found.append(
                (
                    "AMT",
                    "AMT02",
                    f"{coverage.payer_id!r} paid {_money(coverage.paid_cents)} on the claim (AMT*D) but "
                    f"{_money(on_lines)} on its lines (SVD02)",
                )
            )
    return found


def _adjustment_problems(segment: str, adjustments: tuple[Adjustment, ...]) -> Found:
    counts: dict[str, int] = {}
    for adjustment in adjustments:
        counts[adjustment.group] = counts.get(adjustment.group, 0) + 1
    return [
        (segment, "CAS01", f"{count} adjustments in group {group}; one CAS segment holds at most 6")
        for group, count in counts.items()
        if count > MAX_ADJUSTMENTS_PER_GROUP
    ]


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}" if cents >= 0 else "-" + _money(-cents)
