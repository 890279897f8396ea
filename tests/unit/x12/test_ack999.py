"""999 acknowledgments: read the clearinghouse's verdict, write one for a file we received."""

from __future__ import annotations

import datetime

import pytest

from revcycle.x12.ack999 import (
    ElementError,
    SegmentError,
    acknowledge_group,
    claims_concerned,
    read_999,
    write_999,
)
from revcycle.x12.envelope import FunctionalGroup, Interchange, Transaction, read_interchanges
from revcycle.x12.errors import X12Error
from revcycle.x12.segments import seg
from tests.unit.x12.samples import SAMPLES, needs_samples

SENT_AT = datetime.datetime(2026, 3, 2, 9, 30)

ISA = (
    "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*RIVERBEND      "
    "*260302*0930*^*00501*000000042*0*P*:~"
)


def wrap(body: str, *, gs06: str = "7") -> str:
    count = body.count("~") + 2
    return (
        f"{ISA}GS*FA*CLEARINGHOUSE*RIVERBEND*20260302*0930*{gs06}*X*005010X231A1~"
        f"ST*999*0001*005010X231A1~{body}SE*{count}*0001~GE*1*{gs06}~IEA*1*000000042~"
    )


def claim_file() -> Interchange:
    """An 837-shaped interchange: two transaction sets, the first with two subscribers."""
    first = [
        seg("BHT", "0019", "00", "B1", "20260302", "0930", "CH"),
        seg("NM1", "41", "2", "RIVERBEND"),
        seg("HL", "1", None, "20", "1"),
        seg("NM1", "85", "2", "RIVERBEND"),
        seg("HL", "2", "1", "22", "0"),
        seg("NM1", "IL", "1", "DOE"),
        seg("CLM", "RB-1001", "150", None, None, ("11", "B", "1")),
        seg("HI", ("ABK", "F411")),
        seg("CLM", "RB-1002", "90", None, None, ("11", "B", "1")),
        seg("HL", "3", "1", "22", "0"),
        seg("NM1", "IL", "1", "ROE"),
        seg("CLM", "RB-1003", "120", None, None, ("11", "B", "1")),
    ]
    second = [seg("BHT", "0019", "00", "B2", "20260302", "0930", "CH"), seg("CLM", "RB-2001", "80")]
    group = FunctionalGroup(
        functional_id="HC",
        sender_id="RIVERBEND",
        receiver_id="CLEARINGHOUSE",
        date=SENT_AT.date(),
        time=datetime.time(9, 30),
        control_number="31",
        version="005010X222A1",
        transactions=[
            Transaction("837", "0001", "005010X222A1", first),
            Transaction("837", "0002", "005010X222A1", second),
        ],
    )
    return Interchange(
        sender_qualifier="ZZ",
        sender_id="RIVERBEND",
        receiver_qualifier="ZZ",
        receiver_id="CLEARINGHOUSE",
        date=SENT_AT.date(),
        time=datetime.time(9, 30),
        control_number="000000031",
        groups=[group],
    )


def pyx12_errors(text: str) -> list[str]:
    """pyx12's verdict on a file, as its errors (empty when the file is valid)."""
    # imported here: test_pyx12_judge reaches this module through test_eligibility
    from tests.unit.x12.test_pyx12_judge import judge

    return judge(text, strict=True)


# ----------------------------------------------------------------------------- reading


def test_an_accepted_group_reads_as_accepted() -> None:
    (ack,) = read_999(wrap("AK1*HC*31*005010X222A1~AK2*837*0001*005010X222A1~IK5*A~AK9*A*1*1*1~"))

    assert (ack.functional_id, ack.group_control_number, ack.version) == ("HC", "31", "005010X222A1")
    assert (ack.code, ack.included, ack.received, ack.accepted) == ("A", 1, 1, 1)
    (transaction,) = ack.transactions
    assert transaction.accepted
    assert transaction.control_number == "0001"
    assert transaction.meaning == "accepted"


def test_segment_and_element_errors_are_read_with_the_claim_they_name() -> None:
    body = (
        "AK1*HC*31*005010X222A1~AK2*837*0001*005010X222A1~IK3*CLM*7*2300*8~CTX*CLM01:RB-1001~"
        "IK4*2:1*782*7*15O~IK5*R*5~AK2*837*0002~IK5*E~AK9*P*2*2*1*5~"
    )
    (ack,) = read_999(wrap(body))

    rejected, noted = ack.transactions
    assert (rejected.code, rejected.error_codes, rejected.accepted) == ("R", ("5",), False)
    assert rejected.error_texts == ("one or more segments in error",)
    (error,) = rejected.segment_errors
    assert (error.segment_id, error.position, error.loop, error.code) == ("CLM", 7, "2300", "8")
    assert error.claim_id == "RB-1001"
    assert error.meaning == "segment has data element errors"
    assert error.elements == (
        ElementError(element=2, component=1, reference_number="782", code="7", bad_value="15O"),
    )
    assert error.elements[0].meaning == "invalid code value"
    assert noted.accepted
    assert (ack.code, ack.accepted, ack.error_codes) == ("P", 1, ("5",))
    assert ack.transaction("0002") is noted
    assert ack.transaction("9999") is None


def test_unknown_codes_are_kept_as_text() -> None:
    (ack,) = read_999(wrap("AK1*HC*31~AK2*837*0001~IK3*ZZZ*4**Q9~IK5*Q~AK9*Q*1*1*0~"))

    (transaction,) = ack.transactions
    assert transaction.code == "Q"
    assert "not in our table" in transaction.meaning
    assert transaction.segment_errors[0].code == "Q9"


def test_an_ak2_that_does_not_name_a_transaction_set_is_refused() -> None:
    with pytest.raises(X12Error) as caught:
        read_999(wrap("AK1*HC*31~AK2*837~IK5*A~AK9*A*1*1*1~"))

    assert (caught.value.position, caught.value.segment_id, caught.value.element) == (5, "AK2", "AK202")


def test_an_ak2_without_its_ik5_is_refused() -> None:
    with pytest.raises(X12Error) as caught:
        read_999(wrap("AK1*HC*31~AK2*837*0001~AK9*A*1*1*1~"))

    assert (caught.value.position, caught.value.segment_id) == (6, "AK9")
    assert "expected IK5" in str(caught.value)


def test_a_999_without_ak9_and_counts_that_are_not_numbers_are_refused() -> None:
    with pytest.raises(X12Error, match="expected AK9"):
        read_999(wrap("AK1*HC*31~AK2*837*0001~IK5*A~"))
    with pytest.raises(X12Error) as caught:
        read_999(wrap("AK1*HC*31~AK9*A*one*1*1~"))
    assert caught.value.element == "AK902"


def test_another_transaction_set_is_not_a_999() -> None:
    text = wrap("AK1*HC*31~AK9*A*0*0*0~").replace("ST*999", "ST*277")

    with pytest.raises(X12Error, match="not a 999"):
        read_999(text)


# ------------------------------------------------------------ which claims an error reaches


def test_an_error_inside_a_claim_concerns_that_claim() -> None:
    sent = claim_file().groups[0].transactions[0]
    hi = SegmentError("HI", 9, "8", loop="2300")  # ST is 1: HI is the 8th body segment

    assert claims_concerned(sent, hi) == ("RB-1001",)
    assert claims_concerned(sent, SegmentError("CLM", 10, "8")) == ("RB-1002",)


def test_an_error_in_a_level_concerns_every_claim_below_it() -> None:
    sent = claim_file().groups[0].transactions[0]

    assert claims_concerned(sent, SegmentError("NM1", 12, "8")) == ("RB-1003",)
    assert claims_concerned(sent, SegmentError("NM1", 5, "8")) == ("RB-1001", "RB-1002", "RB-1003")
    assert claims_concerned(sent, SegmentError("NM1", 3, "8")) == ("RB-1001", "RB-1002", "RB-1003")
    assert claims_concerned(sent, SegmentError("NM1", 3, "8", claim_id="RB-1002")) == ("RB-1002",)


# ----------------------------------------------------------------------------- writing


def test_a_999_we_write_reads_back_as_the_acknowledgment_we_meant() -> None:
    received = claim_file()
    errors = {
        "0001": [
            SegmentError(
                "CLM",
                7,
                "8",
                loop="2300",
                claim_id="RB-1001",
                elements=(ElementError(2, "7", reference_number="782", bad_value="15O"),),
            )
        ]
    }

    text = write_999(
        received,
        interchange_control_number="000000900",
        group_control_number="900",
        sent_at=SENT_AT,
        errors=errors,
        rejected={"0001"},
    )

    (ack,) = read_999(text)
    assert ack == acknowledge_group(received.groups[0], errors=errors, rejected={"0001"})
    assert (ack.code, ack.accepted) == ("P", 1)
    assert [t.code for t in ack.transactions] == ["R", "A"]
    (interchange,) = read_interchanges(text)
    assert (interchange.sender_id, interchange.receiver_id) == ("CLEARINGHOUSE", "RIVERBEND")
    assert interchange.groups[0].functional_id == "FA"


@pytest.mark.parametrize(
    ("rejected", "errors", "group_code"),
    [
        (set(), {}, "A"),
        (set(), {"0002": [SegmentError("CLM", 3, "8")]}, "E"),
        ({"0001"}, {}, "P"),
        ({"0001", "0002"}, {}, "R"),
    ],
)
def test_the_999s_we_write_are_valid_for_pyx12(
    rejected: set[str], errors: dict[str, list[SegmentError]], group_code: str
) -> None:
    text = write_999(
        claim_file(),
        interchange_control_number="000000901",
        group_control_number="901",
        sent_at=SENT_AT,
        errors=errors,
        rejected=rejected,
        line_breaks=True,
    )

    assert read_999(text)[0].code == group_code
    assert pyx12_errors(text) == []


def test_an_acknowledgment_for_a_set_we_never_received_is_refused() -> None:
    with pytest.raises(X12Error, match="no transaction set"):
        write_999(
            claim_file(),
            interchange_control_number="000000902",
            group_control_number="902",
            sent_at=SENT_AT,
            rejected={"0009"},
        )


# ------------------------------------------------------------------------ shared samples

INTELIGENZ = "Inteligenz-X12Parser/tests/OopFactory.X12.Tests.Unit/Parsing/_SampleEdiFiles"


@needs_samples
def test_public_999_samples_read() -> None:
    wisconsin = SAMPLES / INTELIGENZ / "Acknowledgments/_999/DHS_Wisconsin_Sample.txt"
    (ack,) = read_999(wisconsin.read_text(encoding="utf-8-sig"))

    assert (ack.code, ack.included, ack.received, ack.accepted) == ("P", 3, 3, 1)
    assert [t.code for t in ack.transactions] == ["A", "R", "R"]
    assert ack.transactions[1].segment_errors[0].claim_id == "123456789"
    assert ack.transactions[1].segment_errors[0].elements[0].element == 2
    assert ack.transactions[2].segment_errors[0].claim_id == "987654321"

    several = read_999((SAMPLES / "azoner-pyx12/pyx12/tests/834_lui_id_5010.999.txt").read_text())
    assert [a.control_number for a in several] == ["0001", "0002", "0003", "0004"]
    rejected = SAMPLES / "imsweb-x12-parser/src/test/resources/837_5010/x12_999_rejected.txt"
    (ack,) = read_999(rejected.read_text())
    assert (ack.code, ack.transactions[0].segment_errors[0].segment_id) == ("R", "NM")


@needs_samples
def test_a_public_999_with_a_time_that_is_no_time_is_refused_naming_it() -> None:
    accepted = SAMPLES / "imsweb-x12-parser/src/test/resources/837_5010/x12_999_accepted.txt"

    with pytest.raises(X12Error) as caught:
        read_999(accepted.read_text())  # GS05 "102497": 97 seconds

    assert (caught.value.position, caught.value.element) == (2, "GS05")
