"""270 eligibility inquiries written (read back by us and by x12sdk); 271 answers summarized."""

from __future__ import annotations

import datetime

import pytest

from revcycle.x12.claim277 import Envelope, Party
from revcycle.x12.eligibility import (
    EligibilityInquiry,
    EligibilityRequest,
    EligibilitySummary,
    read_270,
    read_271,
    summarize,
    write_270,
)
from revcycle.x12.errors import X12Error
from tests.unit.x12.samples import SAMPLES, needs_samples

from .test_claim277 import x12sdk_models

PAYER = Party("PR", "BLUE RIVER HEALTH", "87726", "PI")
PROVIDER = Party("1P", "RIVERBEND COUNSELING GROUP", "1234567893", "XX")
JANE = Party("IL", "DOE", "W123456789", "MI", first_name="JANE", kind="1")
SAM = Party("03", "DOE", first_name="SAM", kind="1")
VISIT = datetime.date(2026, 4, 6)
ENVELOPE = Envelope(
    sender_qualifier="ZZ",
    sender_id="RIVERBEND",
    receiver_qualifier="ZZ",
    receiver_id="BLUERIVER",
    interchange_control_number="000000601",
    group_control_number="601",
    sent_at=datetime.datetime(2026, 4, 1, 7, 0),
)


def test_a_270_we_write_reads_back_and_is_read_by_x12sdk() -> None:
    request = EligibilityRequest(
        reference="ELG-601",
        created_at=datetime.datetime(2026, 4, 1, 7, 0),
        inquiries=(
            EligibilityInquiry(
                PAYER,
                PROVIDER,
                JANE,
                "E-1",
                VISIT,
                service_types=("MH", "A8"),
                birth_date=datetime.date(1988, 5, 4),
                sex="F",
                originator_id="1123456789",
            ),
            EligibilityInquiry(
                PAYER,
                PROVIDER,
                JANE,
                "E-2",
                VISIT,
                dependent=SAM,
                birth_date=datetime.date(2014, 9, 1),
                originator_id="1123456789",
            ),
        ),
    )

    text = write_270([request], ENVELOPE, line_breaks=True)

    (read,) = read_270(text)
    assert read == request
    assert "EQ*MH~\nEQ*A8~" in text
    assert "DTP*291*D8*20260406~" in text
    assert x12sdk_models(text) == ["EligibilityInquiry"]


def test_an_inquiry_without_service_types_is_refused() -> None:
    inquiry = EligibilityInquiry(
        PAYER, PROVIDER, JANE, "E-3", VISIT, service_types=(), originator_id="1123456789"
    )

    with pytest.raises(X12Error, match="service type"):
        write_270([EligibilityRequest("R", datetime.datetime(2026, 4, 1), (inquiry,))], ENVELOPE)


def test_an_inquiry_without_the_trace_originator_is_refused() -> None:
    inquiry = EligibilityInquiry(PAYER, PROVIDER, JANE, "E-4", VISIT)

    with pytest.raises(X12Error) as caught:
        write_270([EligibilityRequest("R", datetime.datetime(2026, 4, 1), (inquiry,))], ENVELOPE)

    assert caught.value.element == "TRN03"


def answer(*benefit_segments: str, subscriber_dates: str = "DTP*346*D8*20260101~") -> str:
    body = (
        "BHT*0022*11*ELG-601*20260401*0701~HL*1**20*1~NM1*PR*2*BLUE RIVER HEALTH*****PI*87726~"
        "HL*2*1*21*1~NM1*1P*2*RIVERBEND COUNSELING GROUP*****XX*1234567893~HL*3*2*22*0~TRN*2*E-1*1123456789~"
        "NM1*IL*1*DOE*JANE****MI*W123456789~REF*6P*GRP77~DMG*D8*19880504*F~"
        + subscriber_dates
        + "".join(benefit_segments)
    )
    count = body.count("~") + 2
    return (
        "ISA*00*          *00*          *ZZ*BLUERIVER      *ZZ*RIVERBEND      "
        "*260401*0701*^*00501*000000602*0*P*:~GS*HB*BLUERIVER*RIVERBEND*20260401*0701*602*X*005010X279A1~"
        f"ST*271*0001*005010X279A1~{body}SE*{count}*0001~GE*1*602~IEA*1*000000602~"
    )


MENTAL_HEALTH_PLAN = (
    "EB*1*FAM*30^MH*HM*GOLD PPO 1500~",
    "EB*B*IND*MH*HM*GOLD PPO 1500*27*30~MSG*OFFICE VISIT~",
    "EB*B*IND*MH*HM*GOLD PPO 1500*27*60*****N~",
    "EB*B*IND*30*HM*GOLD PPO 1500*27*45~",
    "EB*A*IND*MH^A8*HM**27**.2****Y~",
    "EB*A*IND*MH*HM**27**0.4****N~",
    "EB*C*IND*30*HM**23*1500~",
    "EB*C*IND*30*HM**29*725.5~",
    "EB*C*FAM*30*HM**29*2100~",
    "EB*G*IND*30*HM**29*3950~",
    "EB*L~LS*2120~NM1*P3*1*JONES*MARCUS****SV*0202034~LE*2120~",
)


def test_a_271_is_summarized_for_a_mental_health_visit_in_network() -> None:
    (response,) = read_271(answer(*MENTAL_HEALTH_PLAN))

    assert response.trace_number == "E-1"
    assert response.group_number == "GRP77"
    assert response.benefits[1].messages == ("OFFICE VISIT",)
    assert response.benefits[4].service_types == ("MH", "A8")
    assert summarize(response, on=VISIT) == EligibilitySummary(
        status="active",
        plan_name="GOLD PPO 1500",
        copay_cents=3000,
        coinsurance_basis_points=2000,
        deductible_remaining_cents=72550,
        out_of_pocket_remaining_cents=395000,
    )
    out_of_network = summarize(response, on=VISIT, in_network=False)
    assert (out_of_network.copay_cents, out_of_network.coinsurance_basis_points) == (6000, 4000)
    assert summarize(response, on=VISIT, service_types=["30"]).copay_cents == 4500


def test_coverage_that_begins_after_the_visit_is_inactive_on_it() -> None:
    (response,) = read_271(answer(*MENTAL_HEALTH_PLAN, subscriber_dates="DTP*346*D8*20260501~"))

    assert summarize(response, on=VISIT).status == "inactive"
    assert summarize(response, on=datetime.date(2026, 5, 1)).status == "active"


def test_an_inactive_answer_and_a_rejection() -> None:
    (inactive,) = read_271(answer("EB*6**30~"))
    assert summarize(inactive, on=VISIT).status == "inactive"

    (rejected,) = read_271(answer("AAA*Y**75*C~"))
    summary = summarize(rejected, on=VISIT)
    assert summary.status == "error"
    assert summary.rejections == ("subscriber not found",)
    assert rejected.rejections[0].follow_up == "C"


def test_a_percent_over_one_hundred_is_refused() -> None:
    with pytest.raises(X12Error) as caught:
        read_271(answer("EB*A*IND*MH*HM**27**20~"))

    assert caught.value.element == "EB08"


@needs_samples
def test_public_270_and_271_samples_read() -> None:
    resources = SAMPLES / "LinuxForHealth-x12/src/tests/resources"
    (request,) = read_270((resources / "270_005010X279A1/dependent-health-benefit-check.270").read_text())
    (asked,) = request.inquiries
    assert asked.dependent is not None
    assert (asked.dependent.name, asked.trace_number, asked.service_types) == (
        "SMITH",
        "93175-012547",
        ("30",),
    )

    (dependent,) = read_271((resources / "271_005010X279A1/dependent-health-benefit-check.271").read_text())
    summary = summarize(dependent, on=datetime.date(2006, 5, 1))
    assert (summary.status, summary.plan_name) == ("active", "GOLD 123 PLAN")
    assert summary.copay_cents == 1000  # the in-network line (EB12 Y)
    assert dependent.dependent is not None
    assert dependent.dependent.first_name == "MARY"
