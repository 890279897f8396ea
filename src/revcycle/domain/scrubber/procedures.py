"""Procedure-code rules for behavioral health: time bands, add-on codes, telehealth.

Time bands. Psychotherapy codes are chosen by face-to-face minutes (CPT time rule: a unit of
time is reached once the midpoint is passed): 90832 for 16-37 minutes, 90834 for 38-52,
90837 for 53 or more; the same bands hold for the add-ons billed with an E/M visit (90833,
90836, 90838), and family psychotherapy (90846/90847) needs 26 minutes. Fewer minutes than
the band is an error (the record does not support the code); more than the band is only a
warning (the code undersells the session, which is allowed but usually a mistake).

Add-on codes are never billed alone: each needs one of its primary codes on the same claim
and date of service (CMS NCCI add-on code edits). 90785 (interactive complexity) goes with a
diagnostic evaluation, psychotherapy or group psychotherapy, never with crisis psychotherapy;
90833/90836/90838 with an E/M visit; 90840 with 90839; G2211 with an office E/M visit.

Telehealth. Modifier 95 (or the older GT) says the service was given by real-time video;
the place of service must then be 02 (telehealth, patient not at home) or 10 (telehealth in
the patient's home). The reverse (POS 02/10 with no telehealth modifier) is accepted by some
payers (Medicare since 2024) and refused by others: a warning. Audio-only services carry 93
(or FQ for Medicare) and count as telehealth for that warning.

The tables here are the domain's; the import flags (services/imports/flags.py) keep a copy of
``TIME_BANDS`` that could import this one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from types import MappingProxyType

from revcycle.domain.problems import Problem, Severity
from revcycle.domain.scrubber.context import ScrubContext
from revcycle.domain.scrubber.facts import ClaimFacts, ClaimLine, line_where

__all__ = [
    "ADD_ON_NEVER_WITH",
    "ADD_ON_PRIMARIES",
    "EM_WITH_PSYCHOTHERAPY",
    "OFFICE_EM",
    "TELEHEALTH_MODIFIERS",
    "TELEHEALTH_PLACES_OF_SERVICE",
    "TIME_BANDS",
    "check_add_on_primaries",
    "check_telehealth",
    "check_time_bands",
    "time_band_code",
]


def _codes(*ranges: tuple[int, int]) -> frozenset[str]:
    return frozenset(str(code) for low, high in ranges for code in range(low, high + 1))


# Minutes (inclusive) each time-based code needs; None: no upper limit.
TIME_BANDS: Mapping[str, tuple[int, int | None]] = MappingProxyType(
    {
        "90832": (16, 37),
        "90833": (16, 37),
        "90834": (38, 52),
        "90836": (38, 52),
        "90837": (53, None),
        "90838": (53, None),
        "90846": (26, None),
        "90847": (26, None),
    }
)

# Office or other outpatient E/M visits (new 99202-99205, established 99211-99215).
OFFICE_EM = _codes((99202, 99205), (99211, 99215))
# E/M visits a psychotherapy add-on may accompany: the CPT instructions for 90833 (office,
# hospital, consultations, emergency department, nursing facility, home or residence), less
# 99211, a nurse visit CMS does not pair with psychotherapy.
EM_WITH_PSYCHOTHERAPY = _codes(
    (99202, 99205),
    (99212, 99215),
    (99221, 99223),
    (99231, 99239),
    (99242, 99245),
    (99252, 99255),
    (99281, 99285),
    (99304, 99310),
    (99315, 99316),
    (99341, 99350),
)

ADD_ON_PRIMARIES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "90785": frozenset({"90791", "90792", "90832", "90833", "90834", "90836", "90837", "90838", "90853"}),
        "90833": EM_WITH_PSYCHOTHERAPY,
        "90836": EM_WITH_PSYCHOTHERAPY,
        "90838": EM_WITH_PSYCHOTHERAPY,
        "90840": frozenset({"90839"}),
        "G2211": OFFICE_EM,
    }
)
# Codes an add-on may not be billed with on the same day, whatever else is there.
ADD_ON_NEVER_WITH: Mapping[str, frozenset[str]] = MappingProxyType({"90785": frozenset({"90839", "90840"})})

TELEHEALTH_MODIFIERS = frozenset({"95", "GT"})  # real-time audio and video
_AUDIO_ONLY_MODIFIERS = frozenset({"93", "FQ"})
TELEHEALTH_PLACES_OF_SERVICE = frozenset({"02", "10"})
_ANY_TELEHEALTH_MODIFIER = TELEHEALTH_MODIFIERS | _AUDIO_ONLY_MODIFIERS


def time_band_code(code: str, minutes: int) -> str | None:
    """The code of ``code``'s family whose band holds ``minutes`` (90834 for 45 minutes of 90837)."""
    family = _TIME_FAMILIES.get(code, (code,))
    for candidate in family:
        low, high = TIME_BANDS[candidate]
        if low <= minutes and (high is None or minutes <= high):
            return candidate
    return None


_PSYCHOTHERAPY = ("90832", "90834", "90837")
_PSYCHOTHERAPY_WITH_EM = ("90833", "90836", "90838")
_TIME_FAMILIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {code: family for family in (_PSYCHOTHERAPY, _PSYCHOTHERAPY_WITH_EM) for code in family}
)


def check_time_bands(facts: ClaimFacts, context: ScrubContext) -> list[Problem]:
    """A time-based psychotherapy code's minutes fall in its band (when the minutes are known)."""
    problems = []
    for number, line in enumerate(facts.lines, start=1):
        code = line.procedure_code.strip()
        band = TIME_BANDS.get(code)
        if band is None or line.minutes is None:
            continue
        low, high = band
        where = line_where(number, "SV1 procedure")
        if line.minutes < low:
            problems.append(
                Problem("scrub.time_bands.too_short", where, _band_message(code, line.minutes, band))
            )
        elif high is not None and line.minutes > high:
            message = _band_message(code, line.minutes, band) + " (the code undersells the session)"
            problems.append(Problem("scrub.time_bands.too_long", where, message, Severity.WARNING))
    return problems


def _band_message(code: str, minutes: int, band: tuple[int, int | None]) -> str:
    low, high = band
    allowed = f"{low}-{high}" if high is not None else f"{low} or more"
    message = f"{code} needs {allowed} minutes; the session lasted {minutes}"
    fitting = time_band_code(code, minutes)
    if fitting is not None and fitting != code:
        message += f": {fitting} fits"
    return message


def check_add_on_primaries(facts: ClaimFacts, context: ScrubContext) -> list[Problem]:
    """Each add-on code has one of its primary codes on the same claim and date of service."""
    problems = []
    for number, line in enumerate(facts.lines, start=1):
        code = line.procedure_code.strip()
        primaries = ADD_ON_PRIMARIES.get(code)
        if primaries is None:
            continue
        same_day = _codes_on(facts, facts.line_service_on(line), skip=line)
        where = line_where(number, "SV1 procedure")
        if not same_day & primaries:
            message = f"add-on code {code} needs its primary ({_describe(primaries)}) on the same day"
            problems.append(Problem("scrub.add_on_primary.missing", where, message))
        conflicts = same_day & ADD_ON_NEVER_WITH.get(code, frozenset())
        if conflicts:
            message = f"{code} may not be billed with {_describe(conflicts)} on the same day"
            problems.append(Problem("scrub.add_on_primary.not_allowed_with", where, message))
    return problems


def _codes_on(facts: ClaimFacts, day: date, *, skip: ClaimLine) -> frozenset[str]:
    return frozenset(
        line.procedure_code.strip()
        for line in facts.lines
        if line is not skip and facts.line_service_on(line) == day
    )


def _describe(codes: Iterable[str]) -> str:
    ordered = sorted(codes)
    if len(ordered) <= 4:
        return ", ".join(ordered)
    return f"{', '.join(ordered[:3])} ... {ordered[-1]}"


def check_telehealth(facts: ClaimFacts, context: ScrubContext) -> list[Problem]:
    """95/GT only with POS 02 or 10; POS 02 or 10 without a telehealth modifier is a warning."""
    problems = []
    for number, line in enumerate(facts.lines, start=1):
        modifiers = {modifier.strip().upper() for modifier in line.modifiers}
        place = facts.line_place_of_service(line)
        telehealth = sorted(modifiers & TELEHEALTH_MODIFIERS)
        where = line_where(number, "SV1 modifiers")
        if telehealth and place not in TELEHEALTH_PLACES_OF_SERVICE:
            message = (
                f"modifier {'/'.join(telehealth)} marks a telehealth service but the place of service "
                f"is {place or 'missing'}; telehealth is POS 02 or 10"
            )
            problems.append(Problem("scrub.telehealth.place_of_service", where, message))
        elif place in TELEHEALTH_PLACES_OF_SERVICE and not modifiers & _ANY_TELEHEALTH_MODIFIER:
            message = (
                f"place of service {place} is telehealth but the line has no 95 or GT modifier; "
                "many payers deny it without one"
            )
            problems.append(Problem("scrub.telehealth.modifier_missing", where, message, Severity.WARNING))
    return problems
