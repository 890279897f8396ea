"""277CA claim acknowledgments and 277 status responses: read, written, judged by pyx12."""

from __future__ import annotations

import datetime

import pytest

from revcycle.x12.claim277 import (
    ACKNOWLEDGMENT,
    STATUS_RESPONSE,
    ClaimReport,
    ClaimStatusResponse,
    Envelope,
    LevelReport,
    LineReport,
    Party,
    Status,
    StatusCode,
    read_277,
    write_277,
)
from revcycle.x12.errors import X12Error
from tests.unit.x12.samples import SAMPLES, needs_samples

from .test_ack999 import pyx12_errors

PAYER = Party("PR", "BLUE RIVER HEALTH", "87726", "PI")
CLEARINGHOUSE = Party("41", "RIVERBEND COUNSELING GROUP", "RBCG01", "46")
PROVIDER = Party("85", "RIVERBEND COUNSELING GROUP", "1234567893", "XX")
PATIENT = Party("QC", "DOE", "W123456789", "MI", first_name="JANE", kind="1")
CHILD = Party("QC", "DOE", first_name="SAM", kind="1")
SUBSCRIBER = Party("IL", "DOE", "W123456789", "MI", first_name="JANE", kind="1")
DAY = datetime.date(2026, 3, 3)
ENVELOPE = Envelope(
    sender_qualifier="ZZ",
    sender_id="BLUERIVER",
    receiver_qualifier="ZZ",
    receiver_id="RIVERBEND",
    interchange_control_number="000000077",
    group_control_number="77",
    sent_at=datetime.datetime(2026, 3, 3, 8, 15),
)


def status(category: str, code: str = "20", *, charge: int | None = 15000, **more: object) -> Status:
    return Status(codes=(StatusCode(category, code),), effective_on=DAY, charge_cents=charge, **more)  # type: ignore[arg-type]


def acknowledgment(*claims: ClaimReport) -> ClaimStatusResponse:
    return ClaimStatusResponse(
        implementation=ACKNOWLEDGMENT,
        reference="BATCH31",
        created_on=DAY,
        created_time="0815",
        claims=claims,
        levels=(
            LevelReport("20", PAYER, trace_number="77", dates=(("050", DAY), ("009", DAY))),
            LevelReport(
                "21",
                CLEARINGHOUSE,
                trace_number="BATCH31",
                statuses=(
                    Status((StatusCode("A1", "19"),), effective_on=DAY, action="WQ", charge_cents=24000),
                ),
                quantities=(("90", "1"), ("AA", "1")),
                amounts=(("YU", 15000), ("YY", 9000)),
            ),
            LevelReport(
                "19",
                PROVIDER,
                trace_number="PRV1",
                statuses=(Status((StatusCode("A1", "19"),), action="WQ", charge_cents=24000),),
            ),
        ),
    )


def claim(pcn: str, category: str, *, icn: str = "", patient: Party = PATIENT, **more: object) -> ClaimReport:
    return ClaimReport(
        payer=PAYER,
        information_receiver=CLEARINGHOUSE,
        provider=PROVIDER,
        patient=patient,
        trace_number=pcn,
        patient_control_number=pcn,
        statuses=(status(category, action="WQ" if category == "A2" else "U"),),
        payer_claim_control_number=icn,
        service_from=DAY - datetime.timedelta(days=10),
        service_to=DAY - datetime.timedelta(days=10),
        **more,  # type: ignore[arg-type]
    )


def test_a_277ca_we_write_reads_back_and_is_valid_for_pyx12() -> None:
    accepted = claim("RB-1001", "A2", icn="2026062000123", clearinghouse_trace_number="CH998")
    rejected = ClaimReport(
        **{
            **claim("RB-1002", "A7").__dict__,
            "statuses": (
                Status(
                    codes=(StatusCode("A7", "562", "85"), StatusCode("A7", "128")),
                    effective_on=DAY,
                    action="U",
                    charge_cents=9000,
                    message="NPI NOT ON FILE",
                ),
            ),
        }
    )
    response = acknowledgment(accepted, rejected)

    text = write_277([response], ENVELOPE, line_breaks=True)

    (read,) = read_277(text)
    assert read == response
    assert [c.outcome for c in read.claims] == ["accepted", "rejected"]
    assert read.claims[0].payer_claim_control_number == "2026062000123"
    assert [code.status for code in read.claims[1].statuses[0].codes] == ["562", "128"]
    assert pyx12_errors(text) == []


def test_a_277_status_response_we_write_reads_back_and_is_valid_for_pyx12() -> None:
    paid = ClaimReport(
        payer=PAYER,
        information_receiver=CLEARINGHOUSE,
        provider=Party("1P", "RIVERBEND COUNSELING GROUP", "1234567893", "XX"),
        patient=SUBSCRIBER,
        trace_number="TRC-1",
        patient_control_number="RB-1001",
        statuses=(
            Status(
                codes=(StatusCode("F1", "65"),),
                effective_on=DAY,
                charge_cents=15000,
                paid_cents=9000,
                adjudicated_on=DAY,
                payment_method="ACH",
                check_on=DAY,
                check_number="EFT555",
            ),
        ),
        payer_claim_control_number="2026062000123",
        service_from=DAY,
        service_to=DAY + datetime.timedelta(days=2),
        lines=(
            LineReport(
                procedure=("HC", "90837", "95"),
                charge_cents=15000,
                paid_cents=9000,
                units="1",
                statuses=(Status((StatusCode("F1", "65"),), effective_on=DAY),),
                line_control_number="L1",
                service_from=DAY,
                service_to=DAY,
            ),
        ),
    )
    child = ClaimReport(
        **{
            **paid.__dict__,
            "patient": CHILD,
            "subscriber": SUBSCRIBER,
            "trace_number": "TRC-2",
            "patient_control_number": "RB-1002",
            "statuses": (status("P1", "20"),),
            "lines": (),
            "payer_claim_control_number": "",
        }
    )
    response = ClaimStatusResponse(STATUS_RESPONSE, "INQ7", DAY, (paid, child), created_time="0815")
    response = ClaimStatusResponse(
        **{
            **response.__dict__,
            "levels": tuple(
                LevelReport(lv, p) for lv, p in (("20", PAYER), ("21", CLEARINGHOUSE), ("19", paid.provider))
            ),
        }
    )

    text = write_277([response], ENVELOPE)

    (read,) = read_277(text)
    assert read == response
    assert [c.outcome for c in read.claims] == ["finalized_paid", "pending"]
    assert read.claims[1].subscriber == SUBSCRIBER
    assert x12sdk_models(text) == ["HealthCareClaimsStatusResponse"]  # pyx12 has no 277 X212 map


def body(claim_segments: str) -> str:
    segments = (
        "BHT*0085*08*B1*20260303*0815*TH~HL*1**20*1~NM1*PR*2*PAYER*****PI*1~HL*2*1*21*1~"
        "NM1*41*2*US*****46*2~HL*3*2*19*1~NM1*85*2*US*****XX*1234567893~HL*4*3*PT~"
        "NM1*QC*1*DOE*JANE~" + claim_segments
    )
    count = segments.count("~") + 2
    return (
        "ISA*00*          *00*          *ZZ*BLUERIVER      *ZZ*RIVERBEND      "
        "*260303*0815*^*00501*000000077*0*P*:~"
        f"GS*HN*BLUERIVER*RIVERBEND*20260303*0815*77*X*005010X214~ST*277*0001*005010X214~{segments}"
        f"SE*{count}*0001~GE*1*77~IEA*1*000000077~"
    )


def x12sdk_models(text: str) -> list[str]:
    """The transaction set models x12sdk reads from ``text`` (it raises on what it cannot read)."""
    from x12sdk.io import X12ModelReader

    with X12ModelReader(text) as reader:
        return [type(model).__name__ for model in reader.models()]


def test_a_277ca_claim_without_trn_is_refused() -> None:
    with pytest.raises(X12Error) as caught:
        read_277(body("STC*A2:20*20260303*WQ*150~"))

    assert (caught.value.position, caught.value.segment_id) == (13, "STC")


def test_a_claim_level_with_nothing_under_it_is_refused() -> None:
    with pytest.raises(X12Error, match="TRN"):
        read_277(body("REF*1K*123~"))


def test_an_unknown_status_category_is_refused_and_an_unknown_status_code_kept() -> None:
    with pytest.raises(X12Error) as caught:
        read_277(body("TRN*2*RB-1~STC*Z9:20*20260303*WQ*150~"))
    assert (caught.value.position, caught.value.element) == (14, "STC01-1")

    (response,) = read_277(body("TRN*2*RB-1~STC*A2:99999*20260303*WQ*150~"))
    assert response.claims[0].statuses[0].codes[0].status == "99999"


def test_amounts_with_a_fraction_of_a_cent_are_refused() -> None:
    with pytest.raises(X12Error) as caught:
        read_277(body("TRN*2*RB-1~STC*A2:20*20260303*WQ*150.005~"))

    assert caught.value.element == "STC04"


@needs_samples
def test_public_277ca_and_277_samples_read() -> None:
    resources = SAMPLES / "imsweb-x12-parser/src/test/resources/277_5010"
    (accepted,) = read_277((resources / "x12_277CA_accepted.txt").read_text())
    (claim_report,) = accepted.claims
    assert (claim_report.patient_control_number, claim_report.category) == ("5781", "A2")
    assert claim_report.payer_claim_control_number == "1107000000014420"
    receiver = next(lv for lv in accepted.levels if lv.level == "21")
    assert receiver.quantities == (("90", "1"),)
    assert receiver.amounts == (("YU", 12500),)

    (rejected,) = read_277((resources / "x12_277CA_rejected.txt").read_text())
    assert rejected.claims[0].outcome == "rejected"
    assert rejected.claims[0].statuses[0].codes[0] == StatusCode("A7", "562", "85")

    linux = SAMPLES / "LinuxForHealth-x12/src/tests/resources/277_005010X212/claim-level-status.277"
    (response,) = read_277(linux.read_text())
    assert [c.category for c in response.claims] == ["P3", "F0", "F2"]
    assert [c.patient_control_number for c in response.claims] == ["SM123456", "J0234567", "MA345678"]
    dependent = response.claims[2]
    assert dependent.subscriber is not None
    assert dependent.subscriber.name == "MANN"
    assert dependent.lines[0].procedure == ("HC", "99203")
    assert dependent.lines[0].statuses[0].category == "F2"


def test_every_category_we_accept_has_a_claim_status_in_the_domain_table() -> None:
    from revcycle.domain.claim_status import status_from_277, status_from_277ca
    from revcycle.x12.codes import STC_CATEGORIES, stc_category

    for code in STC_CATEGORIES:
        status_from_277(code)  # raises for a code the domain does not know
        if code.startswith("A"):
            status_from_277ca(code)
    assert stc_category(" a2 ").outcome == "accepted"
    with pytest.raises(KeyError, match="Z9"):
        stc_category("Z9")
