"""Reports: aging, payer scorecard, revenue recognition and denial analysis.

Each report module is a verb over a session and an actor (``aging_report``,
``payer_scorecard``, ``revenue_recognition``, ``denial_analysis``) answering plain
dataclasses, plus a ``*_table`` function laying the same figures out as a
:class:`~revcycle.adapters.report_export.ReportTable` for the CSV, xlsx and PDF downloads.
Every figure is set-based SQL (GROUP BY in the database), so the reports stay fast on a
practice with a million sessions; money comes from the ledger's postings and balance rows.

This module holds what they share: reading a date range or a month range from a request
(refused with a message naming the field), the months of a range, and the instant a local
date starts in the practice's time zone (submissions are timestamps, dates of service are
the practice's dates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, cast, func
from sqlalchemy.orm import Session

from revcycle.errors import InvalidInput

__all__ = [
    "DateRange",
    "date_range",
    "day_starts",
    "days_between",
    "month_range",
    "month_start",
    "months_of",
    "next_month",
    "parse_date",
    "parse_month",
    "share",
]

MAX_RANGE_DAYS = 3 * 366  # a report over more than three years is refused, not run for minutes


@dataclass(frozen=True)
class DateRange:
    """From ``from_on`` to ``to_on``, both included."""

    from_on: date
    to_on: date

    @property
    def label(self) -> str:
        return f"{self.from_on.isoformat()} to {self.to_on.isoformat()}"


def parse_date(value: str, field: str) -> date | None:
    """``YYYY-MM-DD`` or empty (None); InvalidInput naming ``field`` otherwise."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a date (YYYY-MM-DD)") from None


def parse_month(value: str, field: str) -> date | None:
    """``YYYY-MM`` (or a full date) as the first of that month; empty is None."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if len(text) == 7:
            return datetime.strptime(text, "%Y-%m").replace(tzinfo=UTC).date()
        return date.fromisoformat(text).replace(day=1)
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a month (YYYY-MM)") from None


def _checked(from_on: date, to_on: date) -> DateRange:
    if to_on < from_on:
        raise InvalidInput(f"to: {to_on} is before from ({from_on})")
    if (to_on - from_on).days > MAX_RANGE_DAYS:
        raise InvalidInput("to: a report covers at most three years; narrow the dates")
    return DateRange(from_on, to_on)


def date_range(from_text: str, to_text: str, *, today: date, default_days: int = 365) -> DateRange:
    """The dates a report covers: as given, else the ``default_days`` ending today."""
    to_on = parse_date(to_text, "to") or today
    from_on = parse_date(from_text, "from") or to_on - timedelta(days=default_days - 1)
    return _checked(from_on, to_on)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_range(from_text: str, to_text: str, *, today: date, default_months: int = 12) -> DateRange:
    """Whole months: from the first of ``from`` to the last day of ``to`` (default: the last
    ``default_months`` months, this one included)."""
    last = parse_month(to_text, "to") or month_start(today)
    first = parse_month(from_text, "from")
    if first is None:
        first = last
        for _ in range(default_months - 1):
            first = month_start(first - timedelta(days=1))
    return _checked(first, next_month(last) - timedelta(days=1))


def months_of(period: DateRange) -> list[date]:
    """The first day of each month the range touches, in order."""
    months, month = [], month_start(period.from_on)
    while month <= period.to_on:
        months.append(month)
        month = next_month(month)
    return months


def day_starts(day: date, timezone: str) -> datetime:
    """The instant (UTC) the practice's local ``day`` begins: timestamps compared with it
    fall on that local date or later."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def days_between(db: Session, later_on: Any, earlier_at: Any) -> Any:
    """SQL for the whole days from a timestamp's (UTC) date to a date, on either database."""
    if db.get_bind().dialect.name == "postgresql":
        return later_on - cast(func.timezone("UTC", earlier_at), Date)
    return func.julianday(later_on) - func.julianday(func.date(earlier_at))


def share(part: int, whole: int) -> float | None:
    """``part / whole`` as a fraction 0..1, None when there is nothing to divide by."""
    return part / whole if whole else None
