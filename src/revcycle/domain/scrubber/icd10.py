"""ICD-10-CM releases: which diagnosis codes a claim may carry on a given date of service.

ICD-10-CM changes every fiscal year (October 1 to September 30) and sometimes again on
April 1. A claim's diagnoses are checked against the release *in force on the date of
service*, not today's: a code deleted on October 1 is still right on a September claim.

A release holds every code (categories and subcategories included) and the billable ones:
only a billable code (a leaf of the tabular list, e.g. ``F41.1``) may go on a claim; a
category such as ``F41`` is a heading that needs more characters. Codes are kept undotted and
upper-case (``F411``); :func:`normalize_icd10` accepts ``f41.1`` as well.

Which release covers a date (:func:`choose_release`): one whose official window covers it
(the newest-starting one if several do, so an admin-loaded update wins); failing that, the
nearest release of the same fiscal year, since within a year only the April update changes
the set. A date of another fiscal year has no release: the scrubber warns instead of
guessing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

__all__ = [
    "Icd10Release",
    "Icd10ReleaseSet",
    "Icd10Releases",
    "ReleaseWindow",
    "choose_release",
    "fiscal_year_of",
    "fiscal_year_window",
    "icd10_code_is_well_formed",
    "normalize_icd10",
]

# Undotted: a letter, a digit, then 1 to 5 of letters/digits (3 to 7 characters in all).
_WELL_FORMED = re.compile(r"[A-Z][0-9][0-9A-Z]{1,5}")


def normalize_icd10(code: str) -> str:
    """``" f41.1 "`` -> ``"F411"``: the form releases store."""
    return code.strip().upper().replace(".", "")


def icd10_code_is_well_formed(code: str) -> bool:
    """True for the shape of an ICD-10-CM code (dotted or not); says nothing of existence."""
    text = code.strip().upper()
    if "." in text and text.index(".") != 3:
        return False
    return _WELL_FORMED.fullmatch(text.replace(".", "")) is not None


def fiscal_year_of(day: date) -> int:
    """The federal fiscal year a date falls in: FY2026 runs 2025-10-01 .. 2026-09-30."""
    return day.year + 1 if day.month >= 10 else day.year


def fiscal_year_window(fiscal_year: int) -> tuple[date, date]:
    """First and last day of a fiscal year."""
    return date(fiscal_year - 1, 10, 1), date(fiscal_year, 9, 30)


@dataclass(frozen=True)
class Icd10Release:
    """One ICD-10-CM release and the dates of service it is officially in force for."""

    name: str
    valid_from: date
    valid_to: date
    billable: frozenset[str]
    all_codes: frozenset[str]

    def covers(self, day: date) -> bool:
        """True when the release is officially in force on ``day``."""
        return self.valid_from <= day <= self.valid_to

    def contains(self, code: str) -> bool:
        """True for any code of the release, billable or a heading (dotted input accepted)."""
        return normalize_icd10(code) in self.all_codes

    def is_billable(self, code: str) -> bool:
        """True for a code that may go on a claim (dotted input accepted)."""
        return normalize_icd10(code) in self.billable

    def __repr__(self) -> str:  # the code sets are large; keep reprs (and test output) short
        return (
            f"Icd10Release({self.name!r}, {self.valid_from}..{self.valid_to}, "
            f"{len(self.billable)} billable of {len(self.all_codes)})"
        )


class ReleaseWindow(Protocol):
    """Anything with an official window of dates: a release, or a note of one not yet loaded."""

    @property
    def valid_from(self) -> date: ...

    @property
    def valid_to(self) -> date: ...


W = TypeVar("W", bound=ReleaseWindow)


def choose_release(windows: Sequence[W], day: date) -> W | None:
    """The release for ``day``: covering it, else the nearest of its fiscal year, else None.

    Among several covering ``day`` the one starting latest wins, and among equals the last in
    ``windows``, so a release loaded later replaces a shipped one with the same dates.
    """
    covering = [(w.valid_from, index) for index, w in enumerate(windows) if _covers(w, day)]
    if covering:
        return windows[max(covering)[1]]
    year = fiscal_year_of(day)
    same_year = [
        (_distance_days(w, day), -index)
        for index, w in enumerate(windows)
        if fiscal_year_of(w.valid_from) == year or fiscal_year_of(w.valid_to) == year
    ]
    if same_year:
        return windows[-min(same_year)[1]]
    return None


class Icd10Releases(Protocol):
    """What the scrubber asks of the code sets: the release for a date of service."""

    def release_for(self, day: date) -> Icd10Release | None: ...


@dataclass(frozen=True)
class Icd10ReleaseSet:
    """Releases already in memory (tests, or releases an admin loaded), chosen by date."""

    releases: tuple[Icd10Release, ...]

    def release_for(self, day: date) -> Icd10Release | None:
        return choose_release(self.releases, day)


def _covers(window: ReleaseWindow, day: date) -> bool:
    return window.valid_from <= day <= window.valid_to


def _distance_days(window: ReleaseWindow, day: date) -> int:
    if day < window.valid_from:
        return (window.valid_from - day).days
    return max(0, (day - window.valid_to).days)
