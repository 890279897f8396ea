"""NCCI procedure-to-procedure (PTP) edits: pairs of codes not paid together on one day.

CMS's National Correct Coding Initiative publishes, each quarter, pairs of procedure codes
that one practitioner may not bill for the same patient on the same date of service. The
column 1 code is paid; the column 2 code is denied, unless the pair's modifier indicator
allows it and the claim shows why the two services were distinct:

- indicator ``0``: never billed together, whatever the modifiers;
- indicator ``1``: billed together only with an NCCI-associated modifier (59 or the more
  precise XE, XS, XP, XU for behavioral health; anatomic and global-surgery modifiers for
  other specialties) on the column 2 line;
- indicator ``9``: the edit does not apply (it was deleted back to its start).

Each pair has its own effective date and, once CMS removes it, a deletion date; a pair is in
force from its effective date through its deletion date (CMS deletes an edit at the end of a
quarter, and the date is that quarter's last day). Commercial payers largely follow the
Medicare practitioner table.

No table ships with Revcycle (the file is large and changes quarterly): an admin loads the
CMS file. The scrubber stays pure: the claims service passes, for each loaded table, only
the pairs among the codes on the claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import permutations
from typing import TYPE_CHECKING

from revcycle.domain.problems import Problem, Severity
from revcycle.domain.scrubber.facts import ClaimFacts, ClaimLine, line_where

if TYPE_CHECKING:  # the context holds the tables: imported for the annotations only
    from revcycle.domain.scrubber.context import ScrubContext

__all__ = [
    "MODIFIER_INDICATORS",
    "NCCI_ASSOCIATED_MODIFIERS",
    "NcciPair",
    "NcciTable",
    "check_ncci_ptp",
    "choose_table",
]

MODIFIER_INDICATORS = frozenset({"0", "1", "9"})

# CMS's list of NCCI PTP-associated modifiers: anatomic, global surgery, and the others.
NCCI_ASSOCIATED_MODIFIERS = frozenset(
    {"E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9"}
    | {"LC", "LD", "LM", "RC", "RI", "LT", "RT", "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7"}
    | {"T8", "T9", "24", "25", "57", "58", "78", "79", "27", "59", "91", "XE", "XS", "XP", "XU"}
)


@dataclass(frozen=True)
class NcciPair:
    """One PTP edit: ``column2`` is not paid with ``column1`` on the same day."""

    column1: str
    column2: str
    effective_on: date
    deleted_on: date | None  # the last day the edit applies; None: still in force
    modifier_indicator: str  # "0" | "1" | "9"

    def in_force(self, day: date) -> bool:
        """True when the edit applies to a date of service (indicator 9 never does)."""
        if self.modifier_indicator == "9":
            return False
        return self.effective_on <= day and (self.deleted_on is None or day <= self.deleted_on)


@dataclass(frozen=True)
class NcciTable:
    """A loaded PTP table (one quarter's file), or the part of it a claim needs."""

    name: str
    effective_on: date
    ends_on: date | None
    pairs: tuple[NcciPair, ...] = ()
    _by_codes: Mapping[tuple[str, str], tuple[NcciPair, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], list[NcciPair]] = {}
        for pair in self.pairs:
            index.setdefault((pair.column1, pair.column2), []).append(pair)
        object.__setattr__(self, "_by_codes", {key: tuple(found) for key, found in index.items()})

    def covers(self, day: date) -> bool:
        return self.effective_on <= day and (self.ends_on is None or day <= self.ends_on)

    def pair_for(self, column1: str, column2: str, day: date) -> NcciPair | None:
        """The edit in force on ``day`` for the two codes in this order, if any."""
        for pair in self._by_codes.get((column1, column2), ()):
            if pair.in_force(day):
                return pair
        return None


def choose_table(tables: Sequence[NcciTable], day: date) -> NcciTable | None:
    """The table for ``day``: the latest-starting one in force then, else the latest loaded.

    A newer quarter's file still carries older edits with their dates, so a date no table
    covers is checked against the newest one (and the scrubber says so).
    """
    if not tables:
        return None
    covering = [table for table in tables if table.covers(day)]
    return max(covering or tables, key=lambda table: table.effective_on)


def check_ncci_ptp(facts: ClaimFacts, context: ScrubContext) -> list[Problem]:
    """No column 2 code is billed with its column 1 code on the same day, unless allowed."""
    where = "procedure codes (SV1)"
    if not context.ncci_tables:
        message = "no NCCI table loaded: procedure pairs were not checked (an admin can load the CMS file)"
        return [Problem("scrub.ncci_ptp.no_table", where, message, Severity.INFO)]
    problems: list[Problem] = []
    for day in facts.service_dates:
        table = choose_table(context.ncci_tables, day)
        assert table is not None
        if not table.covers(day):
            message = f"checked against {table.name}, which is not in force on the date of service {day}"
            problems.append(Problem("scrub.ncci_ptp.other_table", where, message, Severity.INFO))
        lines = [
            (n, line) for n, line in enumerate(facts.lines, start=1) if facts.line_service_on(line) == day
        ]
        problems += _pairs_of_day(table, lines, day)
    return problems


def _pairs_of_day(table: NcciTable, lines: Iterable[tuple[int, ClaimLine]], day: date) -> list[Problem]:
    problems = []
    for (_, first), (number, second) in permutations(lines, 2):
        column1, column2 = first.procedure_code.strip(), second.procedure_code.strip()
        pair = table.pair_for(column1, column2, day)
        if pair is None:
            continue
        where = line_where(number, "SV1 procedure")
        if pair.modifier_indicator == "0":
            message = (
                f"{column2} is not paid with {column1} on the same day (NCCI PTP edit, {table.name}); "
                "no modifier allows the pair: remove one of them"
            )
            problems.append(Problem("scrub.ncci_ptp.never_together", where, message))
        elif not {m.strip().upper() for m in second.modifiers} & NCCI_ASSOCIATED_MODIFIERS:
            message = (
                f"{column2} is bundled into {column1} on the same day (NCCI PTP edit, {table.name}); "
                "when the service was distinct, add 59 or XE/XS/XP/XU to this line"
            )
            problems.append(Problem("scrub.ncci_ptp.modifier_needed", where, message))
    return problems
