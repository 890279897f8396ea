"""The tokenizer: delimiters from each ISA, segments and their elements, what it refuses."""

from __future__ import annotations

import pytest

from revcycle.x12 import Delimiters, Repeated, Segment, X12Error, composite, repeated, seg, tokenize

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*250304*0930*^*00501*000000001*0*P*:~"
)
TAIL = (
    "GS*HC*S*R*20250304*0930*1*X*005010X222A1~ST*837*0001~SV1*HC:90837:95*150~SE*3*0001~"
    "GE*1*1~IEA*1*000000001~"
)


def test_the_isa_declares_all_four_delimiters() -> None:
    text = ISA.replace("*", "|").replace(":~", "}\n") + TAIL.replace("*", "|").replace(":", "}").replace(
        "~", "\n"
    )

    [chunk] = tokenize(text)

    assert chunk.delimiters == Delimiters(element="|", repetition="^", component="}", segment="\n")
    assert chunk.segments[3] == seg("SV1", ("HC", "90837", "95"), "150")


def test_segments_keep_their_position_in_the_file() -> None:
    [chunk] = tokenize(ISA + TAIL)

    assert [(s.position, s.id) for s in chunk.segments] == [
        (1, "ISA"), (2, "GS"), (3, "ST"), (4, "SV1"), (5, "SE"), (6, "GE"), (7, "IEA"),
    ]  # fmt: skip


def test_a_bom_line_breaks_and_crlf_after_terminators_are_tolerated() -> None:
    text = "\ufeff" + ISA + "\r\n" + TAIL.replace("~", "~\r\n")

    [chunk] = tokenize(text)

    assert [s.id for s in chunk.segments] == ["ISA", "GS", "ST", "SV1", "SE", "GE", "IEA"]


def test_a_4010_isa11_is_the_standards_id_and_nothing_repeats() -> None:
    text = ISA.replace("*^*00501*", "*U*00401*") + TAIL.replace("90837", "90837^x")

    [chunk] = tokenize(text)

    assert chunk.delimiters.repetition == ""
    assert chunk.segments[3].component(1, 2) == "90837^x"


def test_a_repeated_element_splits_into_its_repetitions() -> None:
    [chunk] = tokenize(ISA + TAIL.replace("SV1*HC:90837:95*150", "EB*1*IND*30^1^33:A"))

    eb = chunk.segments[3]
    assert eb.elements[2] == Repeated(("30", "1", ("33", "A")))
    assert eb.element(3) == "30"
    assert eb.values(3) == ("30", "1", "33")
    assert eb.repetitions(3) == (("30",), ("1",), ("33", "A"))


def test_element_component_and_composite_read_one_based_and_absent_as_empty() -> None:
    segment = seg("CLM", "A37", "150", None, None, ("11", "B", "1"))

    assert segment.element(1) == "A37"
    assert segment.element(5) == "11"
    assert segment.component(5, 3) == "1"
    assert segment.component(5, 4) == ""
    assert segment.component(1, 1) == "A37"
    assert segment.composite(5) == ("11", "B", "1")
    assert segment.composite(3) == ()
    assert segment.element(9) == ""
    assert segment.element(0) == ""
    assert segment.name(5, 3) == "CLM05-3"


def test_the_builder_trims_trailing_empties_and_normalizes_composites() -> None:
    assert seg("NM1", "85", "2", "X", None, "", None) == Segment("NM1", ("85", "2", "X"))
    assert seg("SV1", ("HC", "90837", None, ""), "1") == Segment("SV1", (("HC", "90837"), "1"))
    assert seg("SV1", ("HC",)) == Segment("SV1", ("HC",))
    assert composite("HC", "90837", "", None) == ("HC", "90837")
    assert repeated("30") == "30"
    assert repeated("30", "1") == Repeated(("30", "1"))
    assert repeated(None, "") == ""


def test_position_is_not_part_of_equality() -> None:
    assert Segment("REF", ("F8", "X"), position=12) == seg("REF", "F8", "X")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("   \n", "the file is empty"),
        ("GS*HC*S*R~", r"segment 1 \(ISA\): expected an ISA interchange header"),
        (ISA[:80], r"segment 1 \(ISA\): the ISA header is 80 characters, shorter than its fixed 106"),
        (ISA.replace("SENDER         ", "SENDER", 1) + TAIL, r"segment 1 \(ISA\), ISA06: not fixed width"),
        (ISA.replace("*000000001*", "*00000001**", 1) + TAIL, r"segment 1 \(ISA\), ISA13: not fixed width"),
        (ISA.replace("*^*", "*:*") + TAIL, r"segment 1 \(ISA\), ISA16: wrong or inconsistent delimiters"),
        (ISA[:-2] + "**" + TAIL, r"segment 1 \(ISA\), ISA16: wrong or inconsistent delimiters"),
        (ISA[:-2] + "A~" + TAIL, r"segment 1 \(ISA\), ISA16: wrong or inconsistent delimiters"),
        (ISA + "GS*HC*S*R~st*837~", r"segment 3: 'st\*837' does not start with a segment id"),
        (ISA + "GS*HC*S*R~ST*837*0001", r"segment 3 \(ST\): no segment terminator '~'.*truncated"),
    ],
)
def test_what_the_tokenizer_refuses_names_where(text: str, expected: str) -> None:
    with pytest.raises(X12Error, match=expected):
        tokenize(text)


def test_a_last_iea_missing_only_its_terminator_is_read() -> None:
    [chunk] = tokenize(ISA + TAIL.removesuffix("~") + "\n")

    assert chunk.segments[-1] == seg("IEA", "1", "000000001")


def test_each_interchange_brings_its_own_delimiters() -> None:
    second = (ISA + TAIL).replace("*", "|").replace("~", "!")

    first_chunk, second_chunk = tokenize(ISA + TAIL + "\n" + second)

    assert first_chunk.delimiters.element == "*"
    assert second_chunk.delimiters == Delimiters("|", "^", ":", "!")
    assert second_chunk.segments[0].position == 8
    assert second_chunk.segments[3] == seg("SV1", ("HC", "90837", "95"), "150")
