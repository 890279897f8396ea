"""Cell text to typed values: amounts, dates, counts, payers, blanks.

Each converter takes the cell exactly as read and either returns a value or raises
:class:`CellError` whose message quotes the cell (``"02/30/2025" is not a date on the
calendar``); the format layer adds the file, row and column. Exports write ``--`` where
there is nothing, so ``--`` and empty text are the same "blank" everywhere.

Amounts go through :func:`revcycle.money.parse_cents` (never float); dates are US
``MM/DD/YYYY`` (optionally with ``HH:MM[:SS]`` and AM/PM) or ISO ``YYYY-MM-DD``. Two-digit
years are refused: ``01/02/55`` could be a birth year or a typo, and a wrong guess is silent.
Results are cached by text, because a million-row portfolio repeats the same few thousand
dates and amounts.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache

from revcycle.money import MoneyError, parse_cents

from .reading import quote

__all__ = [
    "BLANKS",
    "CellError",
    "is_blank",
    "parse_amount",
    "parse_count",
    "parse_date",
    "parse_datetime",
    "parse_time",
]

BLANKS = frozenset({"", "--"})  # what a stripped blank cell reads
_CACHE_SIZE = 1 << 16
_US_DATE = re.compile(
    r"(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?)?"
)
_ISO_DATE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[ T](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
)
_PLAIN_AMOUNT = re.compile(
    r" *(?P<sign>-?)\$?(?P<whole>[0-9]{1,3}(?:,[0-9]{3}){1,4}|[0-9]{1,15})(?:\.(?P<cents>[0-9]{1,2}))? *",
    re.ASCII,
)
_COUNT = re.compile(r"(?P<whole>[0-9]+)(?:\.0*)?")


class CellError(ValueError):
    """One cell's value is unusable; ``message`` quotes the value, ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_blank(text: str) -> bool:
    """Empty, spaces only, or the ``--`` exports write for "none"."""
    return text.strip() in BLANKS


@lru_cache(maxsize=_CACHE_SIZE)
def parse_amount(text: str) -> int:
    """Cents from ``"$3,033.66"``, ``"160.0 "``, ``"(12.00)"``; refuses sub-cent precision."""
    # The usual "1,234.56" is read directly (the same result as parse_cents, tested);
    # parse_cents settles everything else, including every refusal.
    plain = _PLAIN_AMOUNT.fullmatch(text)
    if plain is not None:
        cents = int(plain["whole"].replace(",", "")) * 100 + int((plain["cents"] or "0").ljust(2, "0"))
        return -cents if plain["sign"] else cents
    try:
        return parse_cents(text)
    except MoneyError as exc:
        raise CellError("csv.amount", f"{quote(text)} is not an amount: it {exc.reason}") from exc


@lru_cache(maxsize=_CACHE_SIZE)
def parse_datetime(text: str) -> tuple[datetime, bool]:
    """A local (naive) date and time; the flag says whether the cell gave a time at all."""
    stripped = text.strip()
    match = _US_DATE.fullmatch(stripped) or _ISO_DATE.fullmatch(stripped)
    if match is None:
        raise CellError("csv.date", f"{quote(text)} is not a date (expected MM/DD/YYYY or MM/DD/YYYY HH:MM)")
    parts = match.groupdict()
    hour = _hour(text, parts["hour"], parts.get("ampm"))
    try:
        value = datetime(  # noqa: DTZ001 - local time of service, the practice's zone applies later
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            hour,
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
        )
    except ValueError as exc:
        raise CellError("csv.date", f"{quote(text)} is not a date on the calendar ({exc})") from exc
    return value, parts["hour"] is not None


def parse_date(text: str) -> date:
    """A calendar date; a time after it (``10/06/2025 12:00``) is allowed and dropped."""
    return parse_datetime(text)[0].date()


def _hour(text: str, hour_text: str | None, ampm: str | None) -> int:
    if hour_text is None:
        return 0
    hour = int(hour_text)
    if ampm is None:
        return hour
    if not 1 <= hour <= 12:
        raise CellError("csv.date", f"{quote(text)} is not a time of day (hour {hour} with {ampm})")
    return hour % 12 + (12 if ampm.upper() == "PM" else 0)


def parse_count(text: str) -> int:
    """A whole number such as units or aging days: ``2``, ``2.0``; never negative."""
    match = _COUNT.fullmatch(text.strip())
    if match is None:
        raise CellError("csv.number", f"{quote(text)} is not a whole number")
    return int(match["whole"])


_TIME = re.compile(r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?")


@lru_cache(maxsize=4096)
def parse_time(text: str) -> time:
    """A time of day: ``14:30``, ``2:30 PM``, ``14:30:00``."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise CellError("csv.time", f"{quote(text)} is not a time of day (expected HH:MM or H:MM AM)")
    hour = _hour(text, match["hour"], match["ampm"])
    try:
        return time(hour, int(match["minute"]), int(match["second"] or 0))
    except ValueError as exc:
        raise CellError("csv.time", f"{quote(text)} is not a time of day ({exc})") from exc
