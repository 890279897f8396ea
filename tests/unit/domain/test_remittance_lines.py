"""Remittance service lines find the claim lines they pay: by the line control number we sent,
else by the service, tolerant of dropped or reordered modifiers; nothing is guessed."""

from __future__ import annotations

import datetime
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from revcycle.domain.remittance_lines import (
    BilledLine,
    PaidLine,
    line_control_number,
    match_lines,
    parse_line_control_number,
)

DAY = datetime.date(2026, 3, 2)
THERAPY = BilledLine(1, "90837", 18000, ("95", "HO"), DAY)
ADD_ON = BilledLine(2, "90785", 2500, (), DAY)


def paid(billed: BilledLine, **changes: object) -> PaidLine:
    fields: dict[str, object] = {
        "procedure_code": billed.procedure_code,
        "charge_cents": billed.charge_cents,
        "modifiers": billed.modifiers,
        "service_on": billed.service_on,
    }
    fields.update(changes)
    return PaidLine(**fields)  # type: ignore[arg-type]


def test_the_line_control_number_names_the_line_outright() -> None:
    # The payer changed everything it could, but echoed REF*6R.
    line = PaidLine("90834", 1, ("GT",), None, control_number="C0042-2")
    [match] = match_lines("C0042", [THERAPY, ADD_ON], [line])
    assert (match.billed, match.method) == (ADD_ON, "control_number")


def test_another_claims_control_number_does_not_count() -> None:
    assert parse_line_control_number("C0042", "C0041-1") is None
    assert parse_line_control_number("C0042", "C0042-01") is None
    assert parse_line_control_number("C0042", line_control_number("C0042", 12)) == 12
    [match] = match_lines("C0042", [THERAPY], [paid(THERAPY, control_number="C0041-1")])
    assert (match.billed, match.method) == (THERAPY, "service")  # found by its service instead


def test_reordered_and_dropped_modifiers_still_match_in_any_order() -> None:
    lines = [paid(ADD_ON), paid(THERAPY, modifiers=("HO", "95")), paid(THERAPY, modifiers=("95",))]
    second = BilledLine(3, "90837", 18000, ("95", "HO"), DAY + datetime.timedelta(days=7))
    matches = match_lines("C0042", [THERAPY, ADD_ON, second], lines)
    assert [m.billed for m in matches] == [ADD_ON, THERAPY, second]


def test_the_same_charge_and_date_win_over_order() -> None:
    later = BilledLine(3, "90837", 18000, ("95", "HO"), DAY + datetime.timedelta(days=7))
    [match] = match_lines("C0042", [THERAPY, later], [paid(later)])
    assert match.billed == later


def test_what_fits_no_line_is_unmatched_not_guessed() -> None:
    matches = match_lines(
        "C0042",
        [THERAPY, ADD_ON],
        [
            paid(THERAPY, modifiers=("GT",)),  # other modifiers: another service
            paid(ADD_ON, procedure_code="90791"),  # a procedure we did not bill
            paid(ADD_ON),
            paid(ADD_ON),  # the add-on paid twice: the second has no line left
        ],
    )
    assert [(m.billed, m.method) for m in matches] == [
        (None, ""),
        (None, ""),
        (ADD_ON, "service"),
        (None, ""),
    ]


@st.composite
def claims(draw: st.DrawFn) -> tuple[list[BilledLine], list[PaidLine]]:
    codes = ["90837", "90834", "90785", "90791", "90846"]
    billed = [
        BilledLine(
            number,
            draw(st.sampled_from(codes)),
            draw(st.sampled_from([2500, 15000, 18000])),
            tuple(draw(st.lists(st.sampled_from(["95", "HO", "GT", "AH"]), max_size=3, unique=True))),
            DAY + datetime.timedelta(days=draw(st.integers(0, 3))),
        )
        for number in range(1, draw(st.integers(1, 8)) + 1)
    ]
    answered = []
    for line in billed:
        modifiers = list(line.modifiers)
        random.Random(draw(st.integers(0, 1000))).shuffle(modifiers)
        if modifiers and draw(st.booleans()):
            modifiers.pop()  # dropped
        answered.append(paid(line, modifiers=tuple(modifiers)))
    order = draw(st.permutations(range(len(answered))))
    return billed, [answered[i] for i in order]


@settings(max_examples=200, deadline=None)
@given(claims())
def test_every_answered_line_finds_a_line_with_the_same_service(
    claim: tuple[list[BilledLine], list[PaidLine]],
) -> None:
    billed, answered = claim
    matches = match_lines("C0042", billed, answered)
    assert all(m.billed is not None for m in matches)
    assert len({m.billed.line_number for m in matches if m.billed}) == len(billed)  # each pays once
    for m in matches:
        assert m.billed is not None
        assert (m.billed.procedure_code, m.billed.charge_cents, m.billed.service_on) == (
            m.paid.procedure_code,
            m.paid.charge_cents,
            m.paid.service_on,
        )
        assert set(m.paid.modifiers) <= set(m.billed.modifiers)
