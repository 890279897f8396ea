"""The fast paths of the X12 reader agree with the careful ones they stand in for.

Reading a 20,000-claim 835 quickly takes shortcuts: a clean interchange is cut with one split
instead of one segment at a time, and amounts in their common shapes are read without Decimal.
Each shortcut hands anything unusual back to the careful path, so the answer -- the segments,
the models, or the error naming the segment, element and position -- must be the same either
way. These tests damage good files at random and compare the two.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revcycle.x12.segments import _read_clean_interchange, _read_strictly, _tokenize, tokenize
from tests.unit.x12.test_remit835 import RAW

# The sample 835 as written (line breaks after terminators), on one line, with other delimiters,
# and twice in one file (two interchanges).
ONE_LINE = RAW.replace("~\n", "~")
OTHER_DELIMITERS = ONE_LINE.replace("*", "|").replace(":", ">").replace("^", "{").replace("~", "!")
TWICE = RAW + "\r\n" + ONE_LINE.replace("000000835", "000000836")
BASES = {"lines": RAW, "one line": ONE_LINE, "other delimiters": OTHER_DELIMITERS, "twice": TWICE}
CHARS = "*|:>^{~!\n\r \t.-0123456789ABEGIST\u0663"


def outcome(read: Callable[[str], object], text: str) -> str:
    """What a reader makes of ``text``: its answer (positions included) or its error, as text."""
    try:
        return repr(read(text))
    except Exception as error:  # any difference counts, a crash included
        return f"{type(error).__name__}: {error}"


def strictly(text: str) -> object:
    return _tokenize(text, _read_strictly)


@pytest.mark.parametrize("name", sorted(BASES))
def test_a_clean_file_takes_the_fast_path_and_reads_the_same(name: str) -> None:
    text = BASES[name]
    at = text.index("GS")

    [first, *_] = tokenize(text)
    fast = _read_clean_interchange(text, at, first.delimiters, 1)

    assert fast is not None
    assert [s.id for s in fast[0][:3]] == ["GS", "ST", "BPR"]
    assert outcome(tokenize, text) == outcome(strictly, text)


def test_the_fast_path_keeps_positions_composites_and_repetitions() -> None:
    text = ONE_LINE.replace("MOA***MA01*N1", "MOA***MA01^MA02*N1")

    [chunk] = tokenize(text)

    svc = next(s for s in chunk.segments if s.id == "SVC")
    moa = next(s for s in chunk.segments if s.id == "MOA")
    assert (svc.position, svc.composite(1), svc.element(2)) == (
        35,
        ("HC", "90837", "95", "GT", "", "", "X"),
        "150",
    )
    assert moa.values(3) == ("MA01", "MA02")
    assert outcome(tokenize, text) == outcome(strictly, text)


@pytest.mark.parametrize(
    "damage",
    [
        ("~\nSE*", "\nSE*"),  # a line break where the terminator should be, before an envelope segment
        ("~\nCLP*RB-1002", "!CLP*RB-1002"),  # another character ends a segment
        ("~\nGE*", "~\nIEA~\nGE*"),  # an IEA with no elements: the strict path stops there
        ("IEA*1*000000835~\n", "IEA*1*000000835\n"),  # the last IEA without its terminator
        ("~\nGE*1*835~", "~\n  GE*1*835~  \t"),  # white space around a segment
        ("~\nNM1*QC", "~\n1M1*QC"),  # not a segment id
        ("~\nN3*12 MAIN ST", "~\nN3|12 MAIN ST"),  # another element separator
        ("~\nGE*1*835~\nIEA*1*000000835~", ""),  # no IEA at all
        ("~\nREF*1L", "~~\nREF*1L"),  # an empty segment
        ("~\nPLB*", "~\nISA*00*PLB*"),  # an ISA inside the interchange
    ],
)
def test_damage_the_fast_path_steps_aside_for_is_read_as_the_strict_path_reads_it(
    damage: tuple[str, str],
) -> None:
    old, new = damage
    assert old in RAW
    text = RAW.replace(old, new, 1)

    assert outcome(tokenize, text) == outcome(strictly, text)


@st.composite
def damaged(draw: st.DrawFn) -> str:
    """A good 835 with a few characters deleted, replaced or inserted, or cut short."""
    text = list(BASES[draw(st.sampled_from(sorted(BASES)))])
    for _ in range(draw(st.integers(1, 3))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        change = draw(st.sampled_from(["delete", "replace", "insert", "insert", "cut"]))
        if change == "delete":
            del text[at]
        elif change == "replace":
            text[at] = draw(st.sampled_from(CHARS))
        elif change == "insert":
            text.insert(at, draw(st.sampled_from(CHARS)))
        else:
            text = text[: max(at, 1)]
    return "".join(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_a_damaged_file_is_cut_into_the_same_segments_or_refused_with_the_same_error(text: str) -> None:
    assert outcome(tokenize, text) == outcome(strictly, text)


def test_many_seeded_damages_agree() -> None:
    """A wider sweep than hypothesis keeps: 1,500 damaged files, seeded so a failure replays."""
    rng = random.Random(835)
    texts = list(BASES.values())
    for _ in range(1500):
        text = rng.choice(texts)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text))
            text = text[:at] + rng.choice(CHARS) * rng.randint(0, 1) + text[at + rng.randint(0, 1) :]
        assert outcome(tokenize, text) == outcome(strictly, text), text
