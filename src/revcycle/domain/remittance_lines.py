"""Which of our claim lines each service line of a remittance (835 SVC) pays.

A payer answers a claim line by line, but not always in our order nor with our modifiers: it
may drop a modifier it does not price (95, HO), list them in another order, or change the
procedure (then SVC06 holds what we billed). The rules, for one claim, in order:

1. The line item control number we sent (837 REF*6R, echoed as 835 REF*6R): "<claim
   number>-<line number>". It names the line outright.
2. Otherwise the procedure we billed (SVC06 when the payer changed it, else SVC01) among the
   claim's lines not yet matched, as many lines matched as can be, tightest fits first: the
   same modifiers (in any order), charge and date; then modifiers dropped by the payer; then
   another charge; then another date or a modifier the payer added. A looser fit never takes
   a line a tighter one could have; an earlier match moves only so that one more line
   matches. What is left tied is truly the same service twice: the first line takes it.
3. Nothing fits: the service line is unmatched (a line mismatch for the exception queue);
   nothing is guessed.

Pure: no database. The posting service gives the claim's lines and the remittance's service
lines and posts what matched.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BilledLine",
    "LineMatch",
    "PaidLine",
    "line_control_number",
    "match_lines",
    "parse_line_control_number",
]

BY_CONTROL_NUMBER = "control_number"
BY_SERVICE = "service"


@dataclass(frozen=True)
class BilledLine:
    """One of our claim lines, as billed."""

    line_number: int
    procedure_code: str
    charge_cents: int
    modifiers: tuple[str, ...] = ()
    service_on: datetime.date | None = None


@dataclass(frozen=True)
class PaidLine:
    """One remittance service line, as far as matching needs it."""

    procedure_code: str  # what we billed: SVC06 when the payer changed the procedure, else SVC01
    charge_cents: int  # SVC02
    modifiers: tuple[str, ...] = ()
    service_on: datetime.date | None = None  # DTM*472 (or 150)
    control_number: str = ""  # REF*6R


@dataclass(frozen=True)
class LineMatch:
    """The answer for one paid line: the billed line it pays (None: unmatched) and how."""

    paid: PaidLine
    billed: BilledLine | None
    method: str = ""  # control_number | service | "" (unmatched)


def line_control_number(claim_number: str, line_number: int) -> str:
    """What the 837 sends as REF*6R for a line: the claim's number and the line's."""
    return f"{claim_number}-{line_number}"


def parse_line_control_number(claim_number: str, value: str) -> int | None:
    """The line number a REF*6R names for this claim; None when it is not one of ours for it."""
    prefix = f"{claim_number}-"
    if not value.startswith(prefix):
        return None
    number = value[len(prefix) :]
    return int(number) if number.isdigit() and not number.startswith("0") else None


def match_lines(claim_number: str, billed: Sequence[BilledLine], paid: Sequence[PaidLine]) -> list[LineMatch]:
    """Each paid line's billed line, in the paid lines' order; a billed line pays once.

    Lines naming themselves (REF*6R) are matched first. The rest are matched as many as can
    be, tightest fits first: a tier of fit at a time (same modifiers, charge and date; then
    dropped modifiers; then another charge; then another date or an added modifier), each
    tier matching what it can and moving earlier matches only to match one more line."""
    by_number = {line.line_number: line for line in billed}
    found: dict[int, LineMatch] = {}
    taken: set[int] = set()
    for index, line in enumerate(paid):  # first every line that names itself
        number = parse_line_control_number(claim_number, line.control_number)
        if number is not None and number in by_number and number not in taken:
            taken.add(number)
            found[index] = LineMatch(line, by_number[number], BY_CONTROL_NUMBER)
    left = [index for index in range(len(paid)) if index not in found]
    free = [line for line in billed if line.line_number not in taken]
    owner: dict[int, int] = {}  # billed line number -> paid index
    for tier in range(len(_TIERS)):
        for index in left:
            if index not in owner.values():
                _augment(index, paid, free, tier, owner)
    matched = {index: number for number, index in owner.items()}
    for index in left:
        number = matched.get(index)
        found[index] = (
            LineMatch(paid[index], by_number[number], BY_SERVICE)
            if number is not None
            else LineMatch(paid[index], None)
        )
    return [found[index] for index in range(len(paid))]


def _augment(
    index: int, paid: Sequence[PaidLine], free: Sequence[BilledLine], tier: int, owner: dict[int, int]
) -> bool:
    """Kuhn's augmenting path: give paid line ``index`` a billed line within ``tier`` — an
    unclaimed one if any fits, else one whose holder can move to another."""
    seen: set[int] = set()

    def give(index: int) -> bool:
        line = paid[index]
        fitting = sorted(
            (b for b in free if b.line_number not in seen and _tier(b, line) <= tier),
            key=lambda b: (b.line_number in owner, _distance(b, line)),
        )
        for billed in fitting:
            seen.add(billed.line_number)
            holder = owner.get(billed.line_number)
            if holder is None or give(holder):
                owner[billed.line_number] = index
                return True
        return False

    return give(index)


_NO_FIT = 3
_TIERS = (
    "same modifiers, charge and date",
    "modifiers dropped, same charge and date",
    "another charge",
    "another date or a modifier added",
)


def _modifier_rank(billed: BilledLine, paid: PaidLine) -> int:
    ours, theirs = set(billed.modifiers), set(paid.modifiers)
    if ours == theirs:
        return 0
    if theirs < ours:  # the payer dropped some of ours
        return 1
    if ours < theirs:  # the payer added one (e.g. a pricing modifier)
        return 2
    return _NO_FIT  # different modifiers: another service


def _tier(billed: BilledLine, paid: PaidLine) -> int:
    """How loosely a billed line fits a paid line (an index into _TIERS; beyond: no fit)."""
    if billed.procedure_code != paid.procedure_code:
        return len(_TIERS)
    rank = _modifier_rank(billed, paid)
    same_charge = billed.charge_cents == paid.charge_cents
    same_day = paid.service_on is None or billed.service_on == paid.service_on
    if rank == _NO_FIT:
        return len(_TIERS)
    if rank <= 1 and same_charge and same_day:
        return rank
    if rank <= 1 and same_day:
        return 2
    return 3


def _distance(billed: BilledLine, paid: PaidLine) -> tuple[int, int, int, int]:
    return (
        _modifier_rank(billed, paid),
        0 if billed.charge_cents == paid.charge_cents else 1,
        0 if paid.service_on is None or billed.service_on == paid.service_on else 1,
        billed.line_number,
    )
