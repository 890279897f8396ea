"""Appeals: asking a payer to reconsider a denied (or underpaid) claim.

An appeal is written as a **draft** (the letter, its argument and enclosures), **submitted**
to the payer, and **decided**: won (the payer pays what was appealed), partially won (some of
it) or lost. A draft or a submitted appeal may be **withdrawn** (the payer paid anyway, the
practice chose a corrected claim instead). Decisions are final: a new try is a new appeal at
the next **level** — 1 first-level (the payer's reconsideration), 2 second-level, 3 external
review (an independent reviewer) — and only after a lost or partially won one, before its
deadline.

Deadlines: a first-level appeal is due by the denial's appeal deadline (the payer's appeal
limit counted from the remittance that denied it); a next level by the previous decision's
date plus the same limit. How near a deadline is reads as overdue, within 7 days, within 30.

The overturn rate is what the practice reports on its appeals: won + partially won over the
appeals decided (withdrawn ones are not decided), with the share of the appealed money that
came back.

Letters come from editable templates in a small, safe placeholder language: ``{{ name }}``
where the name is one of :data:`PLACEHOLDERS` (no expressions, no loops, no attribute access
beyond the fixed names). A template naming anything else is reported as a :class:`Problem`
naming the placeholder when it is saved, never discovered when a letter is printed.

Pure: no database, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from types import MappingProxyType

from revcycle.domain.problems import Problem
from revcycle.money import format_cents

__all__ = [
    "DECIDED",
    "LEVELS",
    "PLACEHOLDERS",
    "AppealStatus",
    "LetterFacts",
    "LetterLine",
    "OverturnTally",
    "Urgency",
    "allowed_targets",
    "check_template",
    "deadline_for",
    "letter_values",
    "next_level_refusal",
    "render_template",
    "severity_of",
    "tally",
    "transition_refusal",
    "urgency_of",
]


class AppealStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WON = "won"
    PARTIALLY_WON = "partially_won"
    LOST = "lost"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


S = AppealStatus
DECIDED = frozenset({S.WON, S.PARTIALLY_WON, S.LOST})
_TRANSITIONS: Mapping[AppealStatus, frozenset[AppealStatus]] = MappingProxyType(
    {
        S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
        S.SUBMITTED: DECIDED | {S.WITHDRAWN},
        S.WON: frozenset(),
        S.PARTIALLY_WON: frozenset(),
        S.LOST: frozenset(),
        S.WITHDRAWN: frozenset(),
    }
)

LEVELS: Mapping[int, str] = MappingProxyType(
    {1: "First-level appeal", 2: "Second-level appeal", 3: "External review"}
)


def allowed_targets(current: AppealStatus | str) -> frozenset[AppealStatus]:
    """Where an appeal at ``current`` may go next (nothing once decided or withdrawn)."""
    return _TRANSITIONS[AppealStatus(current)]


def transition_refusal(current: AppealStatus | str, target: AppealStatus | str) -> str | None:
    """Why ``current -> target`` is refused, or None when the table allows it."""
    try:
        now, then = AppealStatus(current), AppealStatus(target)
    except ValueError:
        return f"{target!r} is not an appeal status"
    if then in _TRANSITIONS[now]:
        return None
    if not _TRANSITIONS[now]:
        return f"the appeal is {now.label.lower()}; start the next level instead"
    allowed = ", ".join(sorted(s.label.lower() for s in _TRANSITIONS[now]))
    return f"a {now.label.lower()} appeal can only become {allowed}, not {then.label.lower()}"


def next_level_refusal(
    status: AppealStatus | str, level: int, deadline_on: date | None, today: date
) -> str | None:
    """Why no next level may follow an appeal at ``status``/``level`` whose next level is due
    by ``deadline_on``, or None when one may."""
    if AppealStatus(status) not in {S.LOST, S.PARTIALLY_WON}:
        return "a next level follows only a lost or partially won appeal"
    if level >= max(LEVELS):
        return "external review is the last level"
    if deadline_on is not None and today > deadline_on:
        return f"the deadline for the next level was {deadline_on.isoformat()}"
    return None


def deadline_for(
    level: int,
    *,
    denial_deadline_on: date | None,
    previous_decided_on: date | None,
    appeal_days: int,
    started_on: date,
) -> date:
    """The last day to submit an appeal at ``level``: the denial's deadline for the first
    level (or ``started_on`` + the limit when there is no denial, an underpayment), the
    previous decision + the limit for a next level."""
    if level > 1 and previous_decided_on is not None:
        return previous_decided_on + timedelta(days=appeal_days)
    return denial_deadline_on or started_on + timedelta(days=appeal_days)


class Urgency(StrEnum):
    OVERDUE = "overdue"
    WITHIN_7 = "within_7"
    WITHIN_30 = "within_30"
    LATER = "later"

    @property
    def label(self) -> str:
        return _URGENCY_LABELS[self]


_URGENCY_LABELS = MappingProxyType(
    {
        Urgency.OVERDUE: "Overdue",
        Urgency.WITHIN_7: "Due within 7 days",
        Urgency.WITHIN_30: "Due within 30 days",
        Urgency.LATER: "On track",
    }
)


def urgency_of(deadline_on: date, today: date) -> Urgency:
    days = (deadline_on - today).days
    if days < 0:
        return Urgency.OVERDUE
    if days <= 7:
        return Urgency.WITHIN_7
    if days <= 30:
        return Urgency.WITHIN_30
    return Urgency.LATER


def severity_of(urgency: Urgency) -> str:
    """The work item's severity: critical when overdue or within a week, warning within 30."""
    if urgency in {Urgency.OVERDUE, Urgency.WITHIN_7}:
        return "critical"
    return "warning" if urgency is Urgency.WITHIN_30 else "info"


# --- the overturn rate --------------------------------------------------------------------


@dataclass(frozen=True)
class OverturnTally:
    """Decided appeals counted: won + partially won over decided is the overturn rate."""

    won: int = 0
    partially_won: int = 0
    lost: int = 0
    appealed_cents: int = 0  # of the decided appeals
    recovered_cents: int = 0

    @property
    def decided(self) -> int:
        return self.won + self.partially_won + self.lost

    @property
    def overturn_percent(self) -> int | None:
        """Whole percent, half up; None before anything is decided."""
        return _percent(self.won + self.partially_won, self.decided)

    @property
    def recovered_percent(self) -> int | None:
        """The share of the appealed money that came back, whole percent."""
        return _percent(self.recovered_cents, self.appealed_cents)


def _percent(part: int, whole: int) -> int | None:
    if whole <= 0:
        return None
    return int((Decimal(100 * part) / Decimal(whole)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def tally(decisions: Iterable[tuple[str, int, int]]) -> OverturnTally:
    """The tally of (status, appealed cents, recovered cents); undecided ones are skipped."""
    counts = {S.WON: 0, S.PARTIALLY_WON: 0, S.LOST: 0}
    appealed = recovered = 0
    for status, appealed_cents, recovered_cents in decisions:
        decided = AppealStatus(status)
        if decided not in counts:
            continue
        counts[decided] += 1
        # An appeal recorded without its amount (or paid more, with interest) counts as
        # having asked for what it got: the share never passes 100%.
        appealed += max(appealed_cents, recovered_cents)
        recovered += recovered_cents
    return OverturnTally(counts[S.WON], counts[S.PARTIALLY_WON], counts[S.LOST], appealed, recovered)


# --- letter templates ---------------------------------------------------------------------

PLACEHOLDERS: Mapping[str, str] = MappingProxyType(
    {
        "today": "today's date",
        "practice.name": "the practice's legal name",
        "practice.address": "the practice's address",
        "practice.phone": "the practice's phone",
        "practice.npi": "the group NPI",
        "practice.tax_id": "the tax id",
        "provider.name": "the rendering provider, with credentials",
        "provider.npi": "the rendering provider's NPI",
        "client.name": "the client's name",
        "client.dob": "the client's date of birth",
        "client.member_id": "the member id on the coverage",
        "payer.name": "the payer",
        "claim.number": "our claim number (CLM01)",
        "claim.payer_claim_number": "the payer's claim control number",
        "claim.dates_of_service": "the dates of service",
        "claim.lines": "the service lines: date, code, modifiers, units, charge",
        "claim.billed": "the billed amount",
        "claim.paid": "what the payer paid",
        "claim.denied": "the amount denied",
        "denial.codes": "each denial code with its plain-language explanation",
        "denial.category": "the denial's category",
        "appeal.level": "the appeal's level (first-level appeal, second-level, external review)",
        "appeal.amount": "the amount appealed",
        "appeal.argument": "the argument written for this appeal",
        "appeal.enclosures": "the enclosures, one a line",
    }
)

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def check_template(text: str, where: str) -> list[Problem]:
    """Every unknown or malformed placeholder in ``text`` (``where``: "body", "subject")."""
    problems = [
        Problem(
            "appeal_template.unknown_placeholder",
            where,
            f"unknown placeholder {{{{ {name} }}}}; use one of: {', '.join(PLACEHOLDERS)}",
        )
        for name in (match.group(1).strip() for match in _PLACEHOLDER.finditer(text))
        if name not in PLACEHOLDERS
    ]
    rest = _PLACEHOLDER.sub("", text)
    if "{{" in rest or "}}" in rest:
        problems.append(
            Problem("appeal_template.unclosed", where, "a placeholder is not closed: write {{ name }}")
        )
    return problems


def render_template(text: str, values: Mapping[str, str]) -> tuple[str, list[Problem]]:
    """``text`` with each placeholder replaced by its value; an unknown one is left as written
    and reported (the letter still renders, the template is the thing to fix)."""
    problems = check_template(text, "template")

    def value(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        return values.get(name, "") if name in PLACEHOLDERS else match.group(0)

    return _PLACEHOLDER.sub(value, text), problems


@dataclass(frozen=True)
class LetterLine:
    service_on: date
    procedure_code: str
    modifiers: str
    units: int
    charge_cents: int


@dataclass(frozen=True)
class LetterFacts:
    """What an appeal letter may say, as plain values (the service gathers them)."""

    today: date
    practice_name: str
    practice_address: str
    practice_phone: str
    practice_npi: str
    practice_tax_id: str
    provider_name: str
    provider_npi: str
    client_name: str
    client_dob: date | None
    member_id: str
    payer_name: str
    claim_number: str
    payer_claim_number: str
    service_from_on: date
    service_to_on: date
    lines: tuple[LetterLine, ...]
    billed_cents: int
    paid_cents: int
    denied_cents: int
    denial_codes: tuple[tuple[str, str], ...]  # ("CO-50", explanation)
    denial_category: str
    level: int
    appealed_cents: int
    argument: str
    enclosures: tuple[str, ...]


def _day(value: date | None) -> str:
    return f"{value:%m/%d/%Y}" if value else ""


def letter_values(facts: LetterFacts) -> dict[str, str]:
    """The value of every placeholder for one letter."""
    dates = _day(facts.service_from_on)
    if facts.service_to_on != facts.service_from_on:
        dates += f" to {_day(facts.service_to_on)}"
    lines = "\n".join(
        f"{_day(x.service_on)}  {x.procedure_code}{(' ' + x.modifiers) if x.modifiers else ''}"
        f"  units {x.units}  {format_cents(x.charge_cents)}"
        for x in facts.lines
    )
    return {
        "today": _day(facts.today),
        "practice.name": facts.practice_name,
        "practice.address": facts.practice_address,
        "practice.phone": facts.practice_phone,
        "practice.npi": facts.practice_npi,
        "practice.tax_id": facts.practice_tax_id,
        "provider.name": facts.provider_name,
        "provider.npi": facts.provider_npi,
        "client.name": facts.client_name,
        "client.dob": _day(facts.client_dob),
        "client.member_id": facts.member_id,
        "payer.name": facts.payer_name,
        "claim.number": facts.claim_number,
        "claim.payer_claim_number": facts.payer_claim_number,
        "claim.dates_of_service": dates,
        "claim.lines": lines,
        "claim.billed": format_cents(facts.billed_cents),
        "claim.paid": format_cents(facts.paid_cents),
        "claim.denied": format_cents(facts.denied_cents),
        "denial.codes": "\n".join(f"{code}: {text}" for code, text in facts.denial_codes),
        "denial.category": facts.denial_category,
        "appeal.level": LEVELS.get(facts.level, f"level {facts.level}"),
        "appeal.amount": format_cents(facts.appealed_cents),
        "appeal.argument": facts.argument,
        "appeal.enclosures": "\n".join(f"- {item}" for item in facts.enclosures),
    }
