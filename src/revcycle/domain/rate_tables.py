"""Rate tables: a fee schedule's or a payer contract's price per procedure and modifiers.

A row is a CPT/HCPCS code, its modifiers (colon-joined, ``"95:HO"``) and an amount in cents:
the practice's fee (a fee schedule) or what the payer allows (a contract). Modifiers are an
unordered set for matching — a claim line billed ``HO:95`` is priced by the ``95:HO`` row —
so a table may not hold both, and :func:`modifier_key` is how rows and lines are compared.
A row with no modifiers is the procedure's own rate, used when no row has the line's exact
modifiers.

:func:`expected` is the rule for what a payer should allow on a line: the first table in force
on the date of service (the caller orders them: the payer's contracts, latest to start first,
then its fee schedules) with a rate for the code — the line's modifiers first, then the code's
own rate.

:func:`check_rates` finds every problem of a table at once (bad code, bad modifier, negative
amount, the same code and modifiers twice) so that a file is refused whole, naming each row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from revcycle.domain.problems import Problem

__all__ = [
    "CONTRACT",
    "FEE_SCHEDULE",
    "MAX_MODIFIERS",
    "Expected",
    "PricedTable",
    "RateRow",
    "check_rates",
    "expected",
    "is_procedure_code",
    "modifier_key",
    "normal_modifiers",
]

MAX_MODIFIERS = 4  # a claim line carries at most four (SV101-3 .. SV101-6)
# CPT (five digits; category II/III end in F or T) or HCPCS level II (a letter, four digits).
_PROCEDURE = re.compile(r"[0-9]{5}|[0-9]{4}[FT]|[A-Z][0-9]{4}")
_MODIFIER = re.compile(r"[0-9A-Z]{2}")
_SEPARATORS = re.compile(r"[\s:,;]+")


@dataclass(frozen=True)
class RateRow:
    """One row of a rate table; ``where`` says where it came from (``"row 3"``)."""

    procedure_code: str
    modifiers: str
    amount_cents: int
    where: str = ""


def is_procedure_code(code: str) -> bool:
    return _PROCEDURE.fullmatch(code) is not None


def normal_modifiers(text: str) -> str:
    """``"95 ho"``, ``"95,HO"``, ``"95:ho"`` -> ``"95:HO"`` (upper case, colon-joined, order kept)."""
    return ":".join(part.upper() for part in _SEPARATORS.split(text.strip()) if part)


def modifier_key(text: str) -> str:
    """The modifiers as a set: ``"HO:95"`` and ``"95:HO"`` both give ``"95:HO"``."""
    return ":".join(sorted(set(normal_modifiers(text).split(":")) - {""}))


def check_rates(rows: Sequence[RateRow]) -> list[Problem]:
    """Every problem of the table: each row's code, modifiers and amount, then duplicates."""
    problems: list[Problem] = []
    first_seen: dict[tuple[str, str], str] = {}
    for row in rows:
        problems += _row_problems(row)
        key = (row.procedure_code, modifier_key(row.modifiers))
        if key in first_seen:
            mods = f" with modifiers {row.modifiers}" if row.modifiers else " without modifiers"
            problems.append(
                Problem(
                    "rates.duplicate",
                    f"{row.where}, column procedure_code",
                    f"{row.procedure_code}{mods} is already priced in {first_seen[key]}",
                )
            )
        else:
            first_seen[key] = row.where
    return problems


def _row_problems(row: RateRow) -> list[Problem]:
    problems = []
    if not is_procedure_code(row.procedure_code):
        problems.append(
            Problem(
                "rates.bad_code",
                f"{row.where}, column procedure_code",
                f"{row.procedure_code!r} is not a CPT or HCPCS code (e.g. 90837, G0444)",
            )
        )
    parts = [part for part in row.modifiers.split(":") if part]
    bad = [part for part in parts if _MODIFIER.fullmatch(part) is None]
    if bad:
        problems.append(
            Problem(
                "rates.bad_modifier",
                f"{row.where}, column modifiers",
                f"{', '.join(bad)}: a modifier is two letters or digits (e.g. 95, HO)",
            )
        )
    elif len(parts) > MAX_MODIFIERS or len(set(parts)) != len(parts):
        problems.append(
            Problem(
                "rates.bad_modifier",
                f"{row.where}, column modifiers",
                f"{row.modifiers}: at most {MAX_MODIFIERS} modifiers, each once",
            )
        )
    if row.amount_cents < 0:
        problems.append(
            Problem("rates.bad_amount", f"{row.where}, column amount", "a rate may not be negative")
        )
    return problems


CONTRACT = "contract"
FEE_SCHEDULE = "fee_schedule"


@dataclass(frozen=True)
class PricedTable:
    """A contract or a fee schedule with its dates and its rates.

    ``rates``: code -> :func:`modifier_key` -> (cents, the row's modifiers as written).
    """

    source: str  # contract | fee_schedule
    id: int
    name: str  # the contract's number or the schedule's name
    starts_on: date
    ends_on: date | None
    rates: Mapping[str, Mapping[str, tuple[int, str]]]

    def in_force(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def price(self, code: str, modifiers: str) -> tuple[int, str] | None:
        """The rate for exactly these modifiers (any order), else the code's own rate."""
        by_modifiers = self.rates.get(code)
        if not by_modifiers:
            return None
        return by_modifiers.get(modifier_key(modifiers)) or by_modifiers.get("")


@dataclass(frozen=True)
class Expected:
    """What the payer should allow for a line, and the contract or schedule that says so."""

    procedure_code: str
    modifiers: str  # the line's, normalized
    units: int
    unit_cents: int
    source: str  # contract | fee_schedule
    source_id: int
    source_name: str
    rate_modifiers: str  # the row's: the line's (as the row writes them), or "" for the code's own rate

    @property
    def amount_cents(self) -> int:
        return self.unit_cents * self.units

    @property
    def cited(self) -> str:
        """``contract RCG-AETNA-2025, 90837 95:HO`` — for an underpayment alert."""
        row = f"{self.procedure_code} {self.rate_modifiers}".strip()
        kind = "contract" if self.source == CONTRACT else "fee schedule"
        return f"{kind} {self.source_name}, {row}"


def expected(
    tables: Sequence[PricedTable], *, procedure_code: str, modifiers: str, service_on: date, units: int = 1
) -> Expected | None:
    """The first table, in the order given, in force on ``service_on`` that prices the line."""
    code = procedure_code.strip().upper()
    wanted = normal_modifiers(modifiers)
    for table in tables:
        if not table.in_force(service_on):
            continue
        priced = table.price(code, wanted)
        if priced is not None:
            cents, rate_modifiers = priced
            return Expected(code, wanted, units, cents, table.source, table.id, table.name, rate_modifiers)
    return None
