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
from dataclasses import MISSING, dataclass, fields

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revcycle.x12 import X12Error
from revcycle.x12.claim277 import read_cents
from revcycle.x12.envelope import read_interchanges
from revcycle.x12.read835 import _PLACED, _amount, _may_repeat, _placed_without_init, parse_835, read_835
from revcycle.x12.remit835 import ClaimPayment, Procedure, ServicePayment
from revcycle.x12.segments import _read_clean_interchange, _read_strictly, _tokenize, seg, tokenize
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


# ----------------------------------------------------------------------------- the 835 reader


def test_claims_and_lines_are_the_objects_their_init_would_make() -> None:
    [remittance] = read_835(TWICE.split("\r\n")[0])
    claims = [claim for group in remittance.groups for claim in group.claims]
    lines = [line for claim in claims for line in claim.lines]

    assert (len(claims), len(lines)) == (4, 2)
    for made in (*claims, *lines):
        built = type(made)(**vars(made))
        assert made == built
        assert repr(made) == repr(built)
        assert list(vars(made).items()) == list(vars(built).items())
        assert hash(made) == hash(built)
    assert claims[0].lines[0].procedure == Procedure("HC", "90837", ("95", "GT"), "X")


def test_the_reader_builds_claims_and_lines_without_their_init_only_while_that_is_safe() -> None:
    """The claim and line drafts fill every field without a default; a field added to the
    models without one (or a __post_init__) must be read here first."""
    required = {
        kind.__name__: {f.name for f in fields(kind) if f.default is MISSING}
        for kind in (ClaimPayment, ServicePayment)
    }

    assert required == {
        "ClaimPayment": {"patient_control_number", "status", "charge_cents", "paid_cents"},
        "ServicePayment": {"procedure", "charge_cents", "paid_cents"},
    }
    assert {ClaimPayment, ServicePayment} == _PLACED
    assert not _placed_without_init(Checked)
    assert not _placed_without_init(int)


@dataclass(frozen=True)
class Checked:
    amount_cents: int

    def __post_init__(self) -> None:
        assert self.amount_cents >= 0


def test_shared_values_are_read_where_each_segment_stands() -> None:
    """Values read once and shared (amounts, dates, adjustments) still refuse at the segment
    where a bad one first stands, and a good one repeated is the same everywhere."""
    text = ONE_LINE.replace("CAS*CO*50*150~", "CAS*CO*50*150~CAS*CO*45*42**253*-2*1~")
    text = text.replace("SE*61*", "SE*62*")

    [remittance] = read_835(text)
    first, second = remittance.groups[0].claims[0].lines[0], remittance.groups[0].claims[1].lines[0]
    assert second.adjustments[-2:] == first.adjustments[:2]
    assert first.adjustments[0] is second.adjustments[-2]

    bad = text.replace("CAS*CO*45*42**253*-2*1~", "CAS*CO*45*42**253*-2.001*1~")
    with pytest.raises(X12Error) as error:
        read_835(bad)
    assert str(error.value) == "segment 37 (CAS), CAS06: '-2.001' has a fraction of a cent"


AMOUNT_CHARS = "0123456789.-+ e,\u0663"


@settings(max_examples=400, deadline=None)
@given(st.text(AMOUNT_CHARS, max_size=9) | st.from_regex(r"-?\d{1,6}(\.\d{0,4})?", fullmatch=True))
def test_an_amount_read_directly_is_what_read_cents_makes_of_it(text: str) -> None:
    segment = seg("AMT", "B6", text) if text else seg("AMT", "B6")

    assert outcome(lambda _: _amount(segment, 2), text) == outcome(lambda _: read_cents(segment, 2), text)


@pytest.mark.parametrize(
    ("text", "position"),
    [
        # the sample is 65 segments: in the second interchange, its REF*6R stands at 65 + 39
        (ONE_LINE.replace("MOA***MA01*N1", "MOA***MA01^MA02*N1"), 25),
        (TWICE.replace("REF*6R*1~", "REF*6R*1^2~").replace("REF*6R*1^2~", "REF*6R*1~", 1), 65 + 39),
        (
            ONE_LINE + OTHER_DELIMITERS.replace("000000835", "000000836").replace("MA01|N1", "MA01{MA02|N1"),
            65 + 25,
        ),
    ],
)
def test_read_835_still_refuses_a_repetition_wherever_it_stands(text: str, position: int) -> None:
    with pytest.raises(X12Error) as error:
        read_835(text)

    assert error.value.position == position
    assert "the repetition separator (ISA11) stands in an element that does not repeat" in str(error.value)


def test_repetitions_are_looked_for_only_where_a_separator_stands_outside_the_isa() -> None:
    isa_only = ONE_LINE.replace("*ZZ*BLUERIVER      *", "*ZZ*BLUE^RIVER     *")

    assert not _may_repeat(TWICE, read_interchanges(TWICE))
    assert not _may_repeat(OTHER_DELIMITERS, read_interchanges(OTHER_DELIMITERS))
    assert _may_repeat(isa_only, read_interchanges(isa_only))  # looked for, though none is found
    assert read_835(isa_only)[0].payer == read_835(ONE_LINE)[0].payer


def test_parse_835_leaves_the_transaction_it_is_given_whole() -> None:
    """read_835 frees each segment once read (it alone holds them); parse_835's caller may not."""
    [interchange] = read_interchanges(ONE_LINE)
    [transaction] = interchange.groups[0].transactions
    before = list(transaction.segments)

    remittance = parse_835(transaction, version=interchange.groups[0].version)

    assert transaction.segments == before
    assert remittance == read_835(ONE_LINE)[0]
    assert len(before) == 59
