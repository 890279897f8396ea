"""Bad input to the X12 readers (issue 5, points 1 and 9): every refusal is an X12Error naming
the segment position, the segment id and, where there is one, the element; no other exception
escapes a reader, whatever the bytes."""

from __future__ import annotations

import contextlib
import datetime
import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revcycle.domain.npi import make_npi
from revcycle.x12 import claim837 as x
from revcycle.x12.ack999 import parse_999, write_999
from revcycle.x12.claim277 import (
    ACKNOWLEDGMENT,
    ClaimReport,
    ClaimStatusResponse,
    Envelope,
    Party,
    Status,
    StatusCode,
    parse_277,
    write_277,
)
from revcycle.x12.eligibility import (
    EligibilityInquiry,
    EligibilityRequest,
    parse_271,
    read_270,
    read_271,
    write_270,
)
from revcycle.x12.envelope import read_interchanges
from revcycle.x12.errors import X12Error
from revcycle.x12.inquiry276 import ClaimInquiry, StatusInquiry, read_276, write_276
from revcycle.x12.read837 import read_837, read_claim_set
from revcycle.x12.write837 import Routing, write_837

DAY = datetime.date(2026, 3, 2)
AT = datetime.datetime(2026, 3, 3, 8, 15)
OFFICE = x.Address("1 Main St", "Newark", "NJ", "07102")
PAYER = Party("PR", "BLUE RIVER", "87726", "PI")
US = Party("41", "RIVERBEND", "RIVERBEND", "46")
PROVIDER = Party("85", "RIVERBEND", make_npi("123456789"), "XX")
JANE = Party("IL", "DOE", "W123", "MI", first_name="JANE", kind="1")


def envelope(number: int) -> Envelope:
    return Envelope("ZZ", "BLUERIVER", "ZZ", "RIVERBEND", f"{number:09d}", str(number), AT)


def an_837() -> str:
    claim = x.Claim(
        billing_provider=x.BillingProvider(
            "Riverbend", make_npi("123456789"), "371234567", "101YM0800X", OFFICE
        ),
        subscriber=x.Subscriber(
            "Doe", "Jane", "W123", address=OFFICE, birth_date=datetime.date(1985, 2, 3), sex="F"
        ),
        payer=x.Payer("Blue River", "87726"),
        patient_control_number="RB-1001",
        total_charge_cents=15000,
        place_of_service="11",
        diagnoses=("F4110",),
        lines=(x.ServiceLine("90837", 15000, 1, DAY, (1,)),),
    )  # fmt: skip
    claim_set = x.ClaimSet(
        submitter=x.Submitter("Riverbend", "RIVERBEND", "Pat Biller", "2175551234"),
        receiver=x.Receiver("Clearinghouse", "CLEARHOUSE"),
        reference="B7",
        created_at=AT,
        claims=(claim,),
    )
    routing = Routing("ZZ", "RIVERBEND", "ZZ", "CLEARHOUSE")
    return write_837([claim_set], routing=routing, interchange_control_number=7, group_control_number=7)


def a_999() -> str:
    return write_999(
        read_interchanges(an_837())[0],
        interchange_control_number="000000101",
        group_control_number="101",
        sent_at=AT,
    )


def a_277ca() -> str:
    report = ClaimReport(
        payer=PAYER,
        information_receiver=US,
        provider=PROVIDER,
        patient=Party("QC", "DOE", "W123", "MI", first_name="JANE", kind="1"),
        trace_number="RB-1001",
        patient_control_number="RB-1001",
        statuses=(Status((StatusCode("A2", "20"),), effective_on=DAY, action="WQ", charge_cents=15000),),
        payer_claim_control_number="2026062000123",
    )
    response = ClaimStatusResponse(ACKNOWLEDGMENT, "B7", DAY, (report,), created_time="0815")
    return write_277([response], envelope(77))


def a_276() -> str:
    claim = ClaimInquiry(
        payer=PAYER,
        information_receiver=US,
        provider=Party("1P", "RIVERBEND", make_npi("123456789"), "XX"),
        subscriber=JANE,
        trace_number="T-1",
        patient_control_number="RB-1001",
        charge_cents=15000,
        service_from=DAY,
        birth_date=datetime.date(1985, 2, 3),
        sex="F",
    )
    return write_276([StatusInquiry("INQ-1", AT, (claim,))], envelope(501))


def a_270() -> str:
    inquiry = EligibilityInquiry(
        PAYER,
        Party("1P", "RIVERBEND", make_npi("123456789"), "XX"),
        JANE,
        "E-1",
        DAY,
        service_types=("MH", "A8"),
        originator_id="1123456789",
    )
    return write_270([EligibilityRequest("ELG-1", AT, (inquiry,))], envelope(601))


def a_271(benefits: str = "EB*1*FAM*30^MH*HM*GOLD PPO~EB*B*IND*MH*HM*GOLD PPO*27*30~") -> str:
    body = (
        "BHT*0022*11*ELG-1*20260401*0701~HL*1**20*1~NM1*PR*2*BLUE RIVER*****PI*87726~"
        "HL*2*1*21*1~NM1*1P*2*RIVERBEND*****XX*1234567893~HL*3*2*22*0~TRN*2*E-1*1123456789~"
        "NM1*IL*1*DOE*JANE****MI*W123~DTP*346*D8*20260101~" + benefits
    )
    count = body.count("~") + 2
    return (
        "ISA*00*          *00*          *ZZ*BLUERIVER      *ZZ*RIVERBEND      "
        "*260401*0701*^*00501*000000602*0*P*:~GS*HB*BLUERIVER*RIVERBEND*20260401*0701*602*X*005010X279A1~"
        f"ST*271*0001*005010X279A1~{body}SE*{count}*0001~GE*1*602~IEA*1*000000602~"
    )


def read_any(text: str) -> None:
    """Read a file through the envelope and the reader of each transaction set in it."""
    for interchange in read_interchanges(text):
        for group in interchange.groups:
            for transaction in group.transactions:
                if transaction.set_id == "999":
                    parse_999(transaction)
                elif transaction.set_id == "277":
                    parse_277(transaction, version=group.version)
                elif transaction.set_id == "271":
                    parse_271(transaction)
                elif transaction.set_id == "837":
                    read_claim_set(transaction)
    if "ST*270*" in text:
        read_270(text)
    if "ST*276*" in text:
        read_276(text)


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def refused(text: str, reader: Callable[[str], object] = read_any) -> X12Error:
    with pytest.raises(X12Error) as caught:
        reader(text)
    return caught.value


# ----------------------------------------------------------------------------- truncated files


def test_a_file_cut_in_the_middle_of_a_segment_names_the_cut_segment() -> None:
    text = a_999()
    cut = text[: text.index("AK9*") + 5]

    error = refused(cut)

    assert (error.segment_id, error.position) == ("AK9", text[: text.index("AK9*")].count("~") + 1)
    assert "no segment terminator '~'" in str(error)
    assert "truncated" in str(error)


@pytest.mark.parametrize(
    ("before", "still_open"),
    [("SE*", "ST"), ("GE*", "GS"), ("IEA*", "ISA")],
)
def test_a_file_cut_after_a_whole_segment_names_the_envelope_left_open(before: str, still_open: str) -> None:
    text = a_277ca()
    cut = text[: text.index(before)]
    opened = {"ISA": 1, "GS": 2, "ST": 3}[still_open]

    error = refused(cut)

    assert (error.position, error.segment_id) == (opened, still_open)
    assert f"the file ends after segment {cut.count('~')} without closing the {still_open}" in str(error)
    assert "truncated" in str(error)


def test_an_isa_shorter_than_106_characters_is_refused() -> None:
    error = refused(a_999()[:90])

    assert (error.position, error.segment_id) == (1, "ISA")
    assert "the ISA header is 90 characters, shorter than its fixed 106" in str(error)


def test_an_empty_file_and_binary_garbage_are_refused() -> None:
    assert "the file is empty" in str(refused(""))
    assert "the file is empty" in str(refused(" \r\n\t"))
    garbage = bytes(range(256)).decode("latin-1") * 3

    error = refused(garbage)

    assert (error.position, error.segment_id) == (1, "ISA")
    assert "expected an ISA interchange header" in str(error)


# ----------------------------------------------------------------------------- delimiters


def test_a_component_separator_equal_to_the_element_separator_names_isa16() -> None:
    text = a_999()
    isa = text[:106]

    error = refused(isa[:104] + "*" + isa[105] + text[106:])

    assert (error.position, error.segment_id, error.element) == (1, "ISA", "ISA16")
    assert "wrong or inconsistent delimiters: the component separator '*' (ISA16) is also the element" in str(
        error
    )


def test_a_segment_terminator_equal_to_the_component_separator_is_refused() -> None:
    text = a_999()

    error = refused(text[:105] + ":" + text[106:].replace("~", ":"))

    assert (error.position, error.segment_id, error.element) == (1, "ISA", "ISA16")
    assert "the segment terminator ':' (the character after ISA16) is also the component separator" in str(
        error
    )


@pytest.mark.parametrize("other", ["!", "\n", "|"])
def test_a_segment_terminator_that_changes_mid_file_is_inconsistent_delimiters_not_truncation(
    other: str,
) -> None:
    text = a_277ca()
    se_at = text.index("~SE*")
    changed = text[:se_at] + text[se_at:].replace("~", other)
    position = text[: se_at + 1].count("~")  # the segment that lost its "~"

    error = refused(changed)

    assert "truncated" not in str(error)
    assert error.position == position
    assert f"wrong or inconsistent delimiters: {other!r} ends a segment before this SE" in str(error)
    assert "declared the segment terminator '~'" in str(error)


def test_a_body_segment_ended_by_another_terminator_is_caught_by_the_segment_count() -> None:
    text = a_999()
    ik5 = text.index("~IK5*")

    error = refused(text[:ik5] + "!" + text[ik5 + 1 :])  # AK2 and IK5 now read as one segment

    assert (error.segment_id, error.element) == ("SE", "SE01")
    assert error.position == text[: text.index("~SE*")].count("~") + 1


def test_an_element_separator_that_changes_mid_file_is_named() -> None:
    text = a_999()

    error = refused(edit(text, "~AK9*", "~AK9|").replace("AK9|A*", "AK9|A|"))

    assert error.segment_id == "AK9"
    assert error.position == text[: text.index("AK9*")].count("~") + 1
    assert "wrong or inconsistent delimiters: '|' follows the segment id" in str(error)


@pytest.mark.parametrize(
    ("make", "old", "new", "segment_id", "element"),
    [
        (an_837, "*Doe*Jane*", "*Doe^Roe*Jane*", "NM1", "NM103"),
        (a_999, "AK1*HC*7", "AK1*HC*7^8", "AK1", "AK102"),
        (a_277ca, "*2026062000123~", "*2026062000123^99~", "REF", "REF02"),
        (a_276, "REF*EJ*RB-1001", "REF*EJ*RB-1001^RB-1002", "REF", "REF02"),
        (a_270, "TRN*1*E-1", "TRN*1*E-1^E-2", "TRN", "TRN02"),
        (a_271, "DTP*346*D8*20260101", "DTP*346*D8^RD8*20260101", "DTP", "DTP02"),
    ],
)
def test_the_repetition_separator_in_an_element_that_does_not_repeat_is_refused(
    make: Callable[[], str], old: str, new: str, segment_id: str, element: str
) -> None:
    text = edit(make(), old, new)

    error = refused(text)

    assert (error.segment_id, error.element) == (segment_id, element)
    assert error.position == text[: text.index(new)].count("~") + 1
    assert "the repetition separator (ISA11) stands in an element that does not repeat" in str(error)


def test_the_elements_that_do_repeat_still_read() -> None:
    (response,) = read_271(a_271())
    (request,) = read_270(a_270())

    assert response.benefits[0].service_types == ("30", "MH")
    assert request.inquiries[0].service_types == ("MH", "A8")


# ----------------------------------------------------------------------------- counts and control numbers


@pytest.mark.parametrize(
    ("old", "new", "segment_id", "element", "message"),
    [
        ("SE*", "SE*9", "SE", "SE01", "the number of segments from ST to SE is"),
        ("GE*1*", "GE*2*", "GE", "GE01", "the number of transaction sets in the group is 1, not '2'"),
        (
            "IEA*1*",
            "IEA*0*",
            "IEA",
            "IEA01",
            "the number of functional groups in the interchange is 1, not '0'",
        ),
        ("*0001~GE", "*0002~GE", "SE", "SE02", "control number '0002' differs from ST02 '0001'"),
        ("GE*1*77", "GE*1*78", "GE", "GE02", "control number '78' differs from GS06 '77'"),
        ("IEA*1*000000077", "IEA*1*000000078", "IEA", "IEA02", "differs from ISA13 '000000077'"),
    ],
)
def test_counts_and_control_numbers_that_do_not_match_are_named(
    old: str, new: str, segment_id: str, element: str, message: str
) -> None:
    text = edit(a_277ca(), old, new)

    error = refused(text)

    assert (error.segment_id, error.element) == (segment_id, element)
    assert error.position == text[: text.index(new)].count("~") + 1
    assert message in str(error)


# ----------------------------------------------------------------------------- readers


def test_a_reader_given_another_transaction_set_names_st01_and_its_position() -> None:
    error = refused(
        a_277ca(), lambda text: [parse_999(t) for t in read_interchanges(text)[0].groups[0].transactions]
    )

    assert (error.position, error.segment_id, error.element) == (3, "ST", "ST01")
    assert "transaction set '277' is not a 999" in str(error)


@pytest.mark.parametrize(("make", "reader"), [(a_270, read_270), (a_276, read_276)])
@pytest.mark.parametrize("time", ["0860", "2500", "09", "ABCD"])
def test_a_creation_time_that_is_no_time_is_named_not_a_crash(
    make: Callable[[], str], reader: Callable[[str], object], time: str
) -> None:
    text = make()
    bht_time = re.search(r"BHT\*[^~]*\*\d{8}\*(\d{4})", text)
    assert bht_time is not None
    changed = text[: bht_time.start(1)] + time + text[bht_time.end(1) :]

    error = refused(changed, reader)

    assert (error.position, error.segment_id, error.element) == (4, "BHT", "BHT05")
    assert f"{time!r} is not an HHMM time" in str(error)


def test_a_reader_given_a_set_without_its_bht_names_the_st() -> None:
    text = a_276()
    start, end = text.index("BHT*"), text.index("~HL*")
    count = re.search(r"~SE\*(\d+)\*", text)
    assert count is not None
    changed = text[:start] + text[end + 1 :]
    changed = changed.replace(count.group(0), f"~SE*{int(count.group(1)) - 1}*")

    error = refused(changed, read_276)

    assert (error.position, error.segment_id) == (3, "BHT")
    assert "a 276 starts with BHT" in str(error)


def test_an_837_claim_without_diagnoses_is_named_not_a_crash() -> None:
    text = an_837()
    hi = re.search(r"HI\*[^~]*~", text)
    assert hi is not None
    count = re.search(r"~SE\*(\d+)\*", text)
    assert count is not None
    changed = text.replace(hi.group(0), "").replace(count.group(0), f"~SE*{int(count.group(1)) - 1}*")

    error = refused(changed, read_837)

    assert "the Claim loop before this segment lacks diagnoses" in str(error)
    assert error.position


# ----------------------------------------------------------------------------- any bytes at all

BASES = {"837": an_837(), "999": a_999(), "277CA": a_277ca(), "276": a_276(), "270": a_270(), "271": a_271()}
CHARS = "*:^~|!\n 0123456789ABISEGT"


@st.composite
def damaged(draw: st.DrawFn) -> str:
    """A good file with a few characters deleted, replaced or inserted, or cut short."""
    text = list(BASES[draw(st.sampled_from(sorted(BASES)))])
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        change = draw(st.sampled_from(["delete", "replace", "insert", "cut"]))
        if change == "delete":
            del text[at]
        elif change == "replace":
            text[at] = draw(st.sampled_from(CHARS))
        elif change == "insert":
            text.insert(at, draw(st.sampled_from(CHARS)))
        else:
            text = text[:at]
    return "".join(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_a_damaged_file_is_read_or_refused_with_an_x12_error_never_a_crash(text: str) -> None:
    with contextlib.suppress(X12Error):
        read_any(text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_are_refused_with_an_x12_error(data: bytes) -> None:
    with pytest.raises(X12Error):
        read_any(data.decode("latin-1"))
