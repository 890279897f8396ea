"""The practice's compensation guide: what a clinician earns for one month.

A clinician's month pay has five parts, each shown on its own so the clinician can check it:

=====================  ==================================================================
part                   rule
=====================  ==================================================================
base                   a fixed amount for the month
per-session bonus      per_session × sessions held in the month
quality bonus          a fixed amount when the share of the month's documented sessions
                       whose note was locked within ``on_time_days`` of the date of service
                       is at least ``quality_bar_percent`` (no documented session: no bonus)
efficiency bonus       efficiency_per_session × sessions above ``efficiency_target_sessions``
revenue share          ``revenue_share_percent`` of the month's charges above
                       ``revenue_threshold`` (nothing below it), rounded half up to the cent
=====================  ==================================================================

total = base + per-session bonus + quality bonus + efficiency bonus + revenue share.

Worked example (the guide's own): base $3,000.00, $25.00 per session, a $500.00 quality bonus
at a 90% bar with notes locked within 3 days, $40.00 per session above 80 sessions, and 10% of
charges above $12,000.00. A month of 90 sessions (88 documented, 80 on time: 90.9%) and
$14,850.00 of charges earns::

    base                3,000.00
    per-session   90 × 25.00 = 2,250.00
    quality       90.9% >= 90%  →  500.00
    efficiency    (90 - 80) × 40.00 = 400.00
    revenue share 10% × (14,850.00 - 12,000.00) = 285.00
    total               6,435.00

With 70 sessions (60 documented, 50 on time: 83.3%) and $11,000.00 of charges: base 3,000.00 +
per-session 1,750.00 + quality 0 (83.3% < 90%) + efficiency 0 (below 80) + revenue share 0
(below the threshold) = 4,750.00.

Parameters come from the practice's settings (``Practice.settings["compensation"]``), set by an
administrator; :func:`parse_parameters` checks every field at once and answers
:class:`~revcycle.domain.problems.Problem` rows naming each field that is wrong. Money is
integer cents: stored settings hold cents (int), a form sends dollars as text ("3,000.00").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from revcycle.money import MoneyError, format_cents, parse_cents

from .problems import Problem

__all__ = [
    "FORMULA",
    "MONEY_FIELDS",
    "PERCENT_FIELDS",
    "ClinicianMonth",
    "CompensationParameters",
    "Pay",
    "compute_pay",
    "parse_parameters",
]

FORMULA = (
    "total = base + per_session × sessions + quality bonus (when notes locked within the on-time days "
    "÷ documented sessions ≥ the quality bar) + efficiency_per_session × max(0, sessions − target) "
    "+ revenue share % × max(0, charges − threshold)"
)

MONEY_FIELDS = (
    "base_cents",
    "per_session_cents",
    "quality_bonus_cents",
    "efficiency_per_session_cents",
    "revenue_threshold_cents",
)
PERCENT_FIELDS = ("quality_bar_percent", "revenue_share_percent")
COUNT_FIELDS = ("on_time_days", "efficiency_target_sessions")
_MAX_CENTS = 100_000_000  # $1,000,000.00: nobody's monthly pay part is above this
_MAX_COUNT = 10_000
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class CompensationParameters:
    """The guide's numbers; every amount in cents, every percent 0..100."""

    base_cents: int = 0
    per_session_cents: int = 0
    quality_bonus_cents: int = 0
    quality_bar_percent: Decimal = Decimal("90")
    on_time_days: int = 3
    efficiency_target_sessions: int = 0
    efficiency_per_session_cents: int = 0
    revenue_share_percent: Decimal = Decimal("0")
    revenue_threshold_cents: int = 0

    def to_settings(self) -> dict[str, Any]:
        """The JSON kept in ``Practice.settings["compensation"]`` (percents as text)."""
        values = asdict(self)
        return {key: str(value) if isinstance(value, Decimal) else value for key, value in values.items()}


@dataclass(frozen=True)
class ClinicianMonth:
    """What one clinician did in one month (the facts the guide pays on)."""

    sessions: int
    documented_sessions: int  # sessions whose note is locked
    on_time_sessions: int  # ... locked within on_time_days of the date of service
    charges_cents: int

    @property
    def on_time_share(self) -> Decimal | None:
        if not self.documented_sessions:
            return None
        return Decimal(self.on_time_sessions) / Decimal(self.documented_sessions)


@dataclass(frozen=True)
class Pay:
    """One month's pay, part by part."""

    base_cents: int
    per_session_cents: int
    quality_cents: int
    efficiency_cents: int
    revenue_share_cents: int
    quality_met: bool
    sessions_over_target: int
    revenue_over_threshold_cents: int

    @property
    def total_cents(self) -> int:
        return (
            self.base_cents
            + self.per_session_cents
            + self.quality_cents
            + self.efficiency_cents
            + self.revenue_share_cents
        )


def compute_pay(parameters: CompensationParameters, month: ClinicianMonth) -> Pay:
    """The month's pay under the guide (see the module's table and worked examples)."""
    share = month.on_time_share
    quality_met = share is not None and share * _HUNDRED >= parameters.quality_bar_percent
    over_target = max(0, month.sessions - parameters.efficiency_target_sessions)
    over_threshold = max(0, month.charges_cents - parameters.revenue_threshold_cents)
    revenue_share = (Decimal(over_threshold) * parameters.revenue_share_percent / _HUNDRED).to_integral_value(
        ROUND_HALF_UP
    )
    return Pay(
        base_cents=parameters.base_cents,
        per_session_cents=parameters.per_session_cents * month.sessions,
        quality_cents=parameters.quality_bonus_cents if quality_met else 0,
        efficiency_cents=parameters.efficiency_per_session_cents * over_target,
        revenue_share_cents=int(revenue_share),
        quality_met=quality_met,
        sessions_over_target=over_target,
        revenue_over_threshold_cents=over_threshold,
    )


# --- parsing and checking -------------------------------------------------------------------


def parse_parameters(raw: Mapping[str, Any]) -> tuple[CompensationParameters | None, list[Problem]]:
    """Parameters from stored settings or a form; every wrong field is named, none is guessed.

    Money fields take cents (an int, as stored) or dollars as text ("3,000.00", as typed);
    percents take a number 0..100 ("90", "12.5"); counts a whole number 0..10,000. A missing
    field takes the default.
    """
    defaults = CompensationParameters()
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for spec in fields(CompensationParameters):
        name = spec.name
        given = raw.get(name)
        if given is None or (isinstance(given, str) and not given.strip()):
            values[name] = getattr(defaults, name)
            continue
        value, problem = _parse_field(name, given)
        if problem is not None:
            problems.append(problem)
        else:
            values[name] = value
    if problems:
        return None, problems
    return CompensationParameters(**values), []


def _parse_field(name: str, given: Any) -> tuple[Any, Problem | None]:
    if name in MONEY_FIELDS:
        return _money(name, given)
    if name in PERCENT_FIELDS:
        return _percent(name, given)
    return _count(name, given)


def _problem(name: str, message: str) -> Problem:
    return Problem(f"compensation.{name}", name, message)


def _money(name: str, given: Any) -> tuple[int | None, Problem | None]:
    try:
        cents = parse_cents(given, field=name)
    except MoneyError as exc:
        return None, _problem(name, f"{exc.value!r} {exc.reason}")
    if not 0 <= cents <= _MAX_CENTS:
        return None, _problem(name, f"must be between $0.00 and {format_cents(_MAX_CENTS)}")
    return cents, None


def _percent(name: str, given: Any) -> tuple[Decimal | None, Problem | None]:
    text = str(given).strip().removesuffix("%").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, _problem(name, f"{given!r} is not a percent (expected e.g. 90 or 12.5)")
    if not value.is_finite() or not 0 <= value <= _HUNDRED:
        return None, _problem(name, "must be a percent between 0 and 100")
    return value, None


def _count(name: str, given: Any) -> tuple[int | None, Problem | None]:
    if isinstance(given, bool):
        return None, _problem(name, "must be a whole number")
    try:
        value = int(str(given).strip())
    except ValueError:
        return None, _problem(name, f"{given!r} is not a whole number")
    if not 0 <= value <= _MAX_COUNT:
        return None, _problem(name, f"must be between 0 and {_MAX_COUNT:,}")
    return value, None
