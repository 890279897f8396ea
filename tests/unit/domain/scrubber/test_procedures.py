"""Time bands, add-on codes and telehealth modifiers."""

import csv
from datetime import date
from importlib import resources

import pytest

from revcycle.domain.problems import Severity
from revcycle.domain.scrubber import ClaimLine
from revcycle.domain.scrubber.procedures import (
    ADD_ON_PRIMARIES,
    TIME_BANDS,
    check_add_on_primaries,
    check_telehealth,
    check_time_bands,
    time_band_code,
)

from .claims import CONTEXT, clean_claim, codes, psychotherapy


def _lines(*lines: ClaimLine) -> list[tuple[str, str, Severity]]:
    facts = clean_claim(lines=lines)
    problems = [*check_time_bands(facts, CONTEXT), *check_add_on_primaries(facts, CONTEXT)]
    problems += check_telehealth(facts, CONTEXT)
    return [(p.code, p.where, p.severity) for p in problems]


def _line(code: str, minutes: int | None = None, **changes: object) -> ClaimLine:
    return psychotherapy(procedure_code=code, minutes=minutes, **changes)


# -- time bands --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "minutes"),
    [
        ("90832", 16),
        ("90832", 37),
        ("90834", 38),
        ("90834", 52),
        ("90837", 53),
        ("90837", 90),
        ("90846", 26),
        ("90847", 50),
        ("90837", None),  # minutes unknown: nothing to check
        ("90791", 75),  # not time-based
    ],
)
def test_minutes_inside_the_band_pass(code: str, minutes: int | None) -> None:
    assert check_time_bands(clean_claim(lines=(_line(code, minutes),)), CONTEXT) == []


@pytest.mark.parametrize(
    ("code", "minutes", "fits"),
    [
        ("90832", 15, None),
        ("90834", 37, "90832"),
        ("90837", 52, "90834"),
        ("90837", 45, "90834"),
        ("90846", 25, None),
        ("90847", 20, None),
        ("90833", 10, None),
        ("90836", 30, "90833"),
        ("90838", 50, "90836"),
    ],
)
def test_too_few_minutes_for_the_code_is_an_error(code: str, minutes: int, fits: str | None) -> None:
    facts = clean_claim(lines=(_line("99214"), _line(code, minutes)))

    [problem] = check_time_bands(facts, CONTEXT)

    assert (problem.code, problem.where, problem.severity) == (
        "scrub.time_bands.too_short",
        "line 2, SV1 procedure",
        Severity.ERROR,
    )
    assert f"the session lasted {minutes}" in problem.message
    assert (f"{fits} fits" in problem.message) if fits else ("fits" not in problem.message)


@pytest.mark.parametrize(("code", "minutes"), [("90832", 38), ("90834", 53), ("90836", 60)])
def test_more_minutes_than_the_band_is_a_warning(code: str, minutes: int) -> None:
    [problem] = check_time_bands(clean_claim(lines=(_line(code, minutes),)), CONTEXT)

    assert (problem.code, problem.severity) == ("scrub.time_bands.too_long", Severity.WARNING)


def test_the_fitting_code_stays_in_its_family() -> None:
    assert time_band_code("90837", 45) == "90834"
    assert time_band_code("90838", 20) == "90833"
    assert time_band_code("90832", 10) is None
    assert time_band_code("90846", 30) == "90846"


# -- add-on codes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("add_on", "primary"),
    [
        ("90785", "90791"),
        ("90785", "90834"),
        ("90785", "90853"),
        ("90833", "99213"),
        ("90836", "99204"),
        ("90838", "99215"),
        ("90833", "99347"),
        ("90840", "90839"),
        ("G2211", "99211"),
    ],
)
def test_an_add_on_with_its_primary_passes(add_on: str, primary: str) -> None:
    lines = (_line(primary), _line(add_on))

    assert check_add_on_primaries(clean_claim(lines=lines), CONTEXT) == []


@pytest.mark.parametrize(
    ("add_on", "other"),
    [
        ("90785", "96127"),
        ("90785", "99213"),  # E/M alone: interactive complexity needs the psychotherapy add-on
        ("90833", "90837"),
        ("90833", "99211"),
        ("90836", "90791"),
        ("90838", "90834"),
        ("90840", "90837"),
        ("G2211", "90837"),
    ],
)
def test_an_add_on_without_its_primary_is_an_error(add_on: str, other: str) -> None:
    [problem] = check_add_on_primaries(clean_claim(lines=(_line(other), _line(add_on))), CONTEXT)

    assert (problem.code, problem.where, problem.severity) == (
        "scrub.add_on_primary.missing",
        "line 2, SV1 procedure",
        Severity.ERROR,
    )
    assert add_on in problem.message


def test_an_add_on_alone_is_an_error() -> None:
    assert codes(check_add_on_primaries(clean_claim(lines=(_line("90833"),)), CONTEXT)) == [
        "scrub.add_on_primary.missing"
    ]


def test_the_primary_must_be_on_the_same_date_of_service() -> None:
    facts = clean_claim(
        service_to_on=date(2026, 5, 5),
        lines=(_line("99213"), _line("90833", service_on=date(2026, 5, 5))),
    )

    assert codes(check_add_on_primaries(facts, CONTEXT)) == ["scrub.add_on_primary.missing"]


def test_interactive_complexity_is_never_billed_with_crisis_psychotherapy() -> None:
    lines = (_line("90834"), _line("90839"), _line("90785"))

    assert _lines(*lines) == [
        ("scrub.add_on_primary.not_allowed_with", "line 3, SV1 procedure", Severity.ERROR)
    ]


# -- telehealth --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("place", "modifiers"),
    [("11", ()), ("11", ("HO",)), ("02", ("95",)), ("10", ("GT",)), ("10", ("93",)), ("10", ("FQ", "HO"))],
)
def test_telehealth_modifiers_agreeing_with_the_place_pass(place: str, modifiers: tuple[str, ...]) -> None:
    facts = clean_claim(place_of_service=place, lines=(psychotherapy(modifiers=modifiers),))

    assert check_telehealth(facts, CONTEXT) == []


@pytest.mark.parametrize(("place", "modifier"), [("11", "95"), ("11", "GT"), ("53", "95"), ("", "gt")])
def test_a_telehealth_modifier_outside_pos_02_or_10_is_an_error(place: str, modifier: str) -> None:
    facts = clean_claim(place_of_service=place, lines=(psychotherapy(modifiers=(modifier,)),))

    [problem] = check_telehealth(facts, CONTEXT)

    assert (problem.code, problem.where, problem.severity) == (
        "scrub.telehealth.place_of_service",
        "line 1, SV1 modifiers",
        Severity.ERROR,
    )


@pytest.mark.parametrize("place", ["02", "10"])
def test_pos_02_or_10_without_a_telehealth_modifier_is_a_warning(place: str) -> None:
    facts = clean_claim(place_of_service=place, lines=(psychotherapy(modifiers=("HO",)),))

    assert codes(check_telehealth(facts, CONTEXT)) == ["scrub.telehealth.modifier_missing"]
    assert check_telehealth(facts, CONTEXT)[0].severity == Severity.WARNING


def test_a_line_place_of_service_overrides_the_claims() -> None:
    facts = clean_claim(
        place_of_service="11",
        lines=(psychotherapy(), psychotherapy(place_of_service="10", modifiers=("95",))),
    )

    assert check_telehealth(facts, CONTEXT) == []


# -- the shipped table agrees ------------------------------------------------------------


def _shipped_procedure_codes() -> dict[str, dict[str, str]]:
    text = resources.files("revcycle.codesets").joinpath("cpt_behavioral_health/bh_procedure_codes.tsv")
    with text.open(encoding="utf-8", newline="") as file:
        return {row["code"]: row for row in csv.DictReader(file, delimiter="\t")}


def test_the_time_bands_agree_with_the_shipped_procedure_table() -> None:
    shipped = _shipped_procedure_codes()

    for code, (low, high) in TIME_BANDS.items():
        band = shipped[code]["time_minutes"].split(" ")[0]
        assert band == (f"{low}-{high}" if high is not None else f"{low}+"), code


def test_every_shipped_add_on_is_known_with_at_least_its_primaries() -> None:
    shipped = _shipped_procedure_codes()

    for code, row in shipped.items():
        if row["add_on"] != "Y":
            continue
        listed = set()
        for part in row["primary_codes"].split("|"):
            low, _, high = part.partition("-")
            listed |= {str(n) for n in range(int(low), int(high or low) + 1)}
        assert listed <= ADD_ON_PRIMARIES[code], code
