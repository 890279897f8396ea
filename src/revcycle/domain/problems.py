"""Problems: errors as data.

Where many things can be wrong at once (a claim scrub, an import row, an X12 file, a ledger
transaction), a validator returns every :class:`Problem` it finds instead of raising on the
first. The caller decides what to refuse: errors block, warnings are shown, info is kept.

``code`` is stable and machine-readable (``"ledger.unbalanced"``), ``where`` points at the
place (``"row 12, column dos"``, ``"CLM02"``, ``"line 3"``), ``message`` is for people.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Problem", "Severity", "has_errors"]


class Severity(StrEnum):
    """How much a problem matters: only errors refuse the input."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth knowing) about an input."""

    code: str
    where: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message} [{self.code}]"


def has_errors(problems: Iterable[Problem]) -> bool:
    """True when any problem is an error (warnings and info do not block)."""
    return any(problem.severity is Severity.ERROR for problem in problems)
