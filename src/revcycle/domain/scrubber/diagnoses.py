"""Diagnoses: valid in the ICD-10-CM release of the date of service, and pointed at.

Each service line says which diagnoses justify it (SV107 pointers 1 to 4 into the claim's
HI list); a line that points at none is a procedure without a medical reason and is denied.

A diagnosis must be a *billable* code of the release in force on the date of service: a
heading such as ``F41`` needs its further characters (``F41.1``), and a code added on
October 1 is not valid on a September claim. When no release is loaded for a date the codes
cannot be checked: a warning, which a biller may override once they have looked. When the
release used is the nearest of the same fiscal year rather than the one officially in force,
a note (info) says which was used.
"""

from __future__ import annotations

from datetime import date

from revcycle.domain.problems import Problem, Severity
from revcycle.domain.scrubber.context import ScrubContext
from revcycle.domain.scrubber.facts import ClaimFacts, line_where
from revcycle.domain.scrubber.icd10 import Icd10Release, icd10_code_is_well_formed, normalize_icd10

__all__ = ["check_diagnosis_pointers", "check_icd10_codes"]

MAX_POINTERS = 4


def check_icd10_codes(facts: ClaimFacts, context: ScrubContext) -> list[Problem]:
    """Each diagnosis is a billable code in the release in force on each date of service."""
    codes = [(number, code.strip()) for number, code in enumerate(facts.diagnosis_codes, start=1)]
    codes = [(number, code) for number, code in codes if code]
    if not codes:
        return []  # the required-fields edit reports a claim without a diagnosis
    problems = [
        Problem(
            "scrub.icd10_valid.malformed",
            f"diagnosis {number}",
            f"{code!r} is not shaped like an ICD-10-CM code (a letter, a digit, then up to five more)",
        )
        for number, code in codes
        if not icd10_code_is_well_formed(code)
    ]
    well_formed = [(number, code) for number, code in codes if icd10_code_is_well_formed(code)]
    checked: set[str] = set()
    for day in facts.service_dates:
        release = context.icd10.release_for(day)
        if release is None:
            problems.append(_no_release(day))
        elif release.name not in checked:
            checked.add(release.name)
            problems += _nearest_note(release, day)
            problems += _check_codes(release, well_formed)
    return problems


def _no_release(day: date) -> Problem:
    return Problem(
        "scrub.icd10_valid.no_release",
        "diagnosis codes (HI)",
        f"No ICD-10-CM release is loaded for the date of service {day}; the diagnosis codes were "
        "not checked (an admin can load the CMS release file for that year)",
        Severity.WARNING,
    )


def _nearest_note(release: Icd10Release, day: date) -> list[Problem]:
    if release.covers(day):
        return []
    return [
        Problem(
            "scrub.icd10_valid.nearest_release",
            "diagnosis codes (HI)",
            f"Checked against {release.name} ({release.valid_from}..{release.valid_to}), the nearest "
            f"release of the same fiscal year as {day}",
            Severity.INFO,
        )
    ]


def _check_codes(release: Icd10Release, codes: list[tuple[int, str]]) -> list[Problem]:
    problems = []
    for number, code in codes:
        undotted = normalize_icd10(code)
        if undotted in release.billable:
            continue
        if undotted in release.all_codes:
            message = f"{code} is a heading in {release.name}, not billable: it needs more characters"
            problems.append(Problem("scrub.icd10_valid.not_billable", f"diagnosis {number}", message))
        else:
            message = f"{code} is not an ICD-10-CM code in {release.name}"
            problems.append(Problem("scrub.icd10_valid.unknown", f"diagnosis {number}", message))
    return problems


def check_diagnosis_pointers(facts: ClaimFacts, context: ScrubContext) -> list[Problem]:
    """Every line points at one to four of the claim's diagnoses, and only at ones that exist."""
    count = len(facts.diagnosis_codes)
    problems = []
    for number, line in enumerate(facts.lines, start=1):
        where = line_where(number, "SV1 diagnosis pointers")
        pointers = line.diagnosis_pointers
        if not pointers:
            message = f"{line.procedure_code or 'the procedure'} points at no diagnosis"
            problems.append(Problem("scrub.diagnosis_pointers.none", where, message))
            continue
        if len(pointers) > MAX_POINTERS:
            message = f"{len(pointers)} pointers; a line points at most at {MAX_POINTERS} diagnoses"
            problems.append(Problem("scrub.diagnosis_pointers.too_many", where, message))
        problems += [
            Problem(
                "scrub.diagnosis_pointers.out_of_range",
                where,
                f"pointer {pointer} points past the claim's {count} diagnosis code(s)",
            )
            for pointer in pointers
            if not 1 <= pointer <= count
        ]
    return problems
