"""Envelopes: what the writer counts and numbers, and what the reader checks and refuses."""

from __future__ import annotations

import datetime
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revcycle.x12 import (
    Delimiters,
    FunctionalGroup,
    Interchange,
    Repeated,
    Segment,
    Transaction,
    X12Error,
    format_control_number,
    read_interchanges,
    repeated,
    seg,
    write_interchange,
    write_interchanges,
)

DAY = datetime.date(2025, 3, 4)
NINE_THIRTY = datetime.time(9, 30)


def a_transaction(control_number: str = "0001", *segments: Segment) -> Transaction:
    body = list(segments) or [seg("BHT", "0019", "00", "A1", "20250304"), seg("SV1", ("HC", "90837"), "150")]
    return Transaction("837", control_number, "005010X222A1", body)


def a_group(control_number: str = "1", *transactions: Transaction) -> FunctionalGroup:
    return FunctionalGroup(
        "HC", "SUBMITTER", "RECEIVER", DAY, NINE_THIRTY, control_number, "005010X222A1",
        list(transactions) or [a_transaction()],
    )  # fmt: skip


def an_interchange(control_number: str = "000000001", *groups: FunctionalGroup) -> Interchange:
    return Interchange(
        "ZZ", "SENDER", "ZZ", "CLEARINGHOUSE", DAY, NINE_THIRTY, control_number,
        usage="T", groups=list(groups) or [a_group()],
    )  # fmt: skip


def test_the_writer_pads_the_isa_and_counts_every_trailer() -> None:
    text = write_interchange(an_interchange(), line_breaks=True)

    assert text.splitlines() == [
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*CLEARINGHOUSE  "
        "*250304*0930*^*00501*000000001*0*T*:~",
        "GS*HC*SUBMITTER*RECEIVER*20250304*0930*1*X*005010X222A1~",
        "ST*837*0001*005010X222A1~",
        "BHT*0019*00*A1*20250304~",
        "SV1*HC:90837*150~",
        "SE*4*0001~",
        "GE*1*1~",
        "IEA*1*000000001~",
    ]
    assert len(text.splitlines()[0]) == 106


def test_without_line_breaks_segments_follow_each_other() -> None:
    text = write_interchange(an_interchange())

    assert "\n" not in text
    assert text.count("~") == 8


def test_what_is_written_reads_back_the_same() -> None:
    interchange = an_interchange(
        "000000042",
        a_group("7", a_transaction("0001"), a_transaction("0002", seg("EQ", repeated("30", "1")))),
        a_group("8", a_transaction("0001")),
    )

    assert read_interchanges(write_interchange(interchange)) == [interchange]
    assert read_interchanges("\ufeff" + write_interchange(interchange, line_breaks=True)) == [interchange]


def test_several_interchanges_in_one_file() -> None:
    first, second = an_interchange("000000001"), an_interchange("000000002")
    second.delimiters = Delimiters("|", "!", "}", "\n")

    text = write_interchanges([first, second])

    assert read_interchanges(text) == [first, second]


def test_positions_count_from_the_start_of_the_file() -> None:
    text = write_interchanges([an_interchange("000000001"), an_interchange("000000002")])

    [_, second] = read_interchanges(text)

    assert second.groups[0].transactions[0].segments[0].position == 12


def test_a_ta1_stands_between_the_isa_and_the_groups() -> None:
    interchange = an_interchange()
    interchange.groups = []
    interchange.ta1 = [seg("TA1", "000000007", "250304", "0930", "A", "000")]

    text = write_interchange(interchange)

    assert "~TA1*000000007*250304*0930*A*000~IEA*0*000000001~" in text
    assert read_interchanges(text) == [interchange]


def test_an_interchange_read_keeps_its_header() -> None:
    [interchange] = read_interchanges(write_interchange(an_interchange()))

    assert (interchange.sender_id, interchange.receiver_id) == ("SENDER", "CLEARINGHOUSE")
    assert (interchange.date, interchange.time, interchange.usage) == (DAY, NINE_THIRTY, "T")
    group = interchange.groups[0]
    assert (group.functional_id, group.control_number, group.version) == ("HC", "1", "005010X222A1")
    assert group.transactions[0].implementation == "005010X222A1"


def test_format_control_number() -> None:
    assert format_control_number(42) == "000000042"
    assert format_control_number(42, width=4) == "0042"
    with pytest.raises(X12Error, match="does not fit in 9 digits"):
        format_control_number(10**9)
    with pytest.raises(X12Error):
        format_control_number(0)


# ----------------------------------------------------------------------------- reading errors

GOOD = write_interchange(an_interchange(), line_breaks=True)


def edit(old: str, new: str, text: str = GOOD) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            edit("SE*4*0001", "SE*5*0001"),
            "segment 6 (SE), SE01: the number of segments from ST to SE is 4, not '5'",
        ),
        (
            edit("SE*4*0001", "SE*4*0002"),
            "segment 6 (SE), SE02: control number '0002' differs from ST02 '0001'",
        ),
        (edit("GE*1*1", "GE*2*1"), "segment 7 (GE), GE01: the number of transaction sets in the group is 1"),
        (edit("GE*1*1", "GE*1*2"), "segment 7 (GE), GE02: control number '2' differs from GS06 '1'"),
        (
            edit("IEA*1*", "IEA*3*"),
            "segment 8 (IEA), IEA01: the number of functional groups in the interchange",
        ),
        (
            edit("IEA*1*000000001", "IEA*1*000000009"),
            "segment 8 (IEA), IEA02: control number '000000009' differs",
        ),
        (
            edit("IEA*1*000000001~\n", ""),
            "segment 1 (ISA): the file ends after segment 7 without closing the ISA",
        ),
        (
            edit("GE*1*1~\nIEA*1*000000001~\n", ""),
            "segment 2 (GS): the file ends after segment 6 without closing",
        ),
        (
            edit("SE*4*0001~\n", ""),
            "segment 6 (GE): GE before the SE of the transaction set begun at segment 3",
        ),
        (edit("GE*1*1~\n", ""), "segment 7 (IEA): IEA before the GS of segment 2 was closed"),
        (edit("ST*837", "BHT*0019~\nST*837"), "segment 3 (BHT): segment outside a transaction set"),
        (edit("GE*1*1~\n", "GE*1*1~\nNM1*41~\n"), "segment 8 (NM1): segment outside a transaction set"),
        (
            edit("ST*837", "GS*HC*S*R*20250304*0930*2*X*V~\nST*837"),
            "segment 3 (GS): GS before the GE of the group",
        ),
        (edit("BHT", "GS*HC*S*R*20250304*0930*2*X*V~\nBHT"), "segment 4 (GS): GS inside the transaction set"),
        (
            edit("BHT", "ST*837*0002~\nBHT"),
            "segment 4 (ST): ST before the SE of the transaction set begun at",
        ),
        (edit("GS*HC", "ST*837*0009~\nGS*HC"), "segment 2 (ST): ST outside a functional group"),
        (edit("GE*1*1~\n", "GE*1*1~\nSE*2*0001~\n"), "segment 8 (SE): SE without an ST"),
        (edit("GE*1*1~\n", "GE*1*1~\nGE*0*1~\n"), "segment 8 (GE): GE without a GS"),
        (edit("IEA", "ISA*00~\nIEA"), "segment 8 (ISA): a new ISA before the IEA"),
        (edit("*0930*1*X", "*0960*1*X"), "segment 2 (GS), GS05: '0960' is not a time"),
        (edit("*20250304*", "*20250230*"), "segment 2 (GS), GS04: '20250230' is not a date"),
        (edit("*250304*", "*251304*"), "segment 1 (ISA), ISA09: '251304' is not a date"),
        (
            edit("*000000001*", "*00000000A*"),
            "segment 1 (ISA), ISA13: interchange control number '00000000A'",
        ),
        (edit("*0930*1*X", "*0930*A*X"), "segment 2 (GS), GS06: group control number must be digits"),
        (edit("ST*837*0001", "ST**0001"), "segment 3 (ST), ST01: required element is empty"),
    ],
)
def test_what_the_reader_refuses_names_position_segment_and_element(text: str, expected: str) -> None:
    with pytest.raises(X12Error, match=re.escape(expected)):
        read_interchanges(text)


def test_control_numbers_must_not_repeat_within_their_envelope() -> None:
    twice_st = an_interchange("000000001", a_group("1", a_transaction("0001"), a_transaction("0001")))
    twice_gs = an_interchange("000000001", a_group("5"), a_group("5"))

    with pytest.raises(
        X12Error, match=re.escape("segment 7 (ST), ST02: transaction set control number '0001'")
    ):
        read_interchanges(write_interchange(twice_st))
    with pytest.raises(X12Error, match=re.escape("segment 8 (GS), GS06: group control number '5' repeats")):
        read_interchanges(write_interchange(twice_gs))


def test_an_error_carries_its_parts() -> None:
    with pytest.raises(X12Error) as caught:
        read_interchanges(edit("SE*4*0001", "SE*5*0001"))

    assert (caught.value.position, caught.value.segment_id, caught.value.element) == (6, "SE", "SE01")


# ----------------------------------------------------------------------------- writing errors


def test_the_writer_refuses_a_delimiter_inside_data_naming_the_element() -> None:
    interchange = an_interchange(
        "000000001", a_group("1", a_transaction("0001", seg("NM1", "IL", "1", "O*BRIEN")))
    )

    with pytest.raises(
        X12Error, match=re.escape("segment 4 (NM1), NM103: 'O*BRIEN' contains the delimiter '*'")
    ):
        write_interchange(interchange)


def test_the_writer_names_a_component_holding_a_delimiter() -> None:
    interchange = an_interchange(
        "000000001", a_group("1", a_transaction("0001", seg("SV1", ("HC", "908~37"))))
    )

    with pytest.raises(
        X12Error, match=re.escape("segment 4 (SV1), SV101-2: '908~37' contains the delimiter '~'")
    ):
        write_interchange(interchange)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"sender_id": "A" * 16}, "segment 1 (ISA), ISA06: 'AAAAAAAAAAAAAAAA' must be 1 to 15 characters"),
        ({"receiver_qualifier": "ZZZ"}, "segment 1 (ISA), ISA07: 'ZZZ' must be 1 to 2 characters"),
        (
            {"control_number": "12"},
            "segment 1 (ISA), ISA13: interchange control number '12' must be 9 digits",
        ),
        ({"usage": "X"}, "segment 1 (ISA), ISA15: usage must be P (production) or T (test)"),
        ({"ack_requested": "2"}, "segment 1 (ISA), ISA14: acknowledgment requested must be 0 or 1"),
        ({"sender_id": "A:B"}, "segment 1 (ISA), ISA06: 'A:B' contains the delimiter ':'"),
        ({"delimiters": Delimiters("*", "*", ":", "~")}, "cannot write with these delimiters"),
        ({"delimiters": Delimiters("*", "", ":", "~")}, "needs a repetition separator (ISA11)"),
    ],
)
def test_the_writer_refuses_a_bad_header(change: dict[str, object], expected: str) -> None:
    interchange = an_interchange()
    for name, value in change.items():
        setattr(interchange, name, value)

    with pytest.raises(X12Error, match=re.escape(expected)):
        write_interchange(interchange)


def test_the_writer_refuses_bad_group_and_transaction_control_numbers() -> None:
    with pytest.raises(X12Error, match=re.escape("segment 2 (GS), GS06: group control number 'G1'")):
        write_interchange(an_interchange("000000001", a_group("G1")))
    with pytest.raises(X12Error, match=re.escape("segment 3 (ST), ST02: transaction set control number '1'")):
        write_interchange(an_interchange("000000001", a_group("1", a_transaction("1"))))


# ----------------------------------------------------------------------------- round trips

DELIMITER_CHARS = "*|^:~!}{>+`\n"
TEXT = st.text(alphabet="ABCXYZ0123456789 .-*|^:~!}{>+`\n/&", min_size=0, max_size=8)


@st.composite
def delimiters(draw: st.DrawFn) -> Delimiters:
    chars = draw(st.permutations(DELIMITER_CHARS))
    return Delimiters(element=chars[0], repetition=chars[1], component=chars[2], segment=chars[3])


def clean(value: str, d: Delimiters) -> str:
    return "".join(c for c in value if c not in d.all()).strip() or "X"


@st.composite
def segments(draw: st.DrawFn, d: Delimiters) -> Segment:
    seg_id = draw(st.sampled_from(["NM1", "CLM", "SV1", "HI", "EB", "REF", "N3"]))
    elements: list[str | tuple[str, ...] | Repeated | None] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["simple", "empty", "composite", "repeated"]))
        words = [clean(draw(TEXT), d) for _ in range(3)]
        if kind == "simple":
            elements.append(words[0])
        elif kind == "empty":
            elements.append(None)
        elif kind == "composite":
            elements.append((words[0], draw(st.sampled_from(["", words[1]])), words[2]))
        else:
            elements.append(Repeated((words[0], (words[1], words[2]))))
    return seg(seg_id, *elements)


@st.composite
def interchanges(draw: st.DrawFn) -> Interchange:
    d = draw(delimiters())
    groups = []
    for g in range(draw(st.integers(0, 2))):
        transactions = [
            Transaction("837", f"{t + 1:04d}", "005010X222A1", draw(st.lists(segments(d), max_size=5)))
            for t in range(draw(st.integers(1, 3)))
        ]
        groups.append(a_group(str(g + 1), *transactions))
    interchange = an_interchange(format_control_number(draw(st.integers(1, 999_999_999))))
    interchange.delimiters, interchange.groups = d, groups
    return interchange


@settings(max_examples=150, deadline=None)
@given(interchanges(), st.booleans())
def test_random_segments_with_random_delimiters_round_trip(
    interchange: Interchange, line_breaks: bool
) -> None:
    text = write_interchange(interchange, line_breaks=line_breaks)

    assert read_interchanges(text) == [interchange]


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        (seg("SE", "3", "0001"), "segment 4 (SE): an envelope segment"),
        (seg("clm", "A1"), "segment 4: 'clm' cannot be written"),
    ],
)
def test_the_writer_refuses_what_could_not_be_read_back(segment: Segment, expected: str) -> None:
    interchange = an_interchange("000000001", a_group("1", a_transaction("0001", segment)))

    with pytest.raises(X12Error, match=re.escape(expected)):
        write_interchange(interchange)
