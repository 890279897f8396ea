"""The simulated clearinghouse: its 999 and 277CA answers are real X12 that our readers and
pyx12 accept, and it refuses what a clearinghouse's front door would."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from revcycle.adapters.clearinghouse_sim import ClaimAnswer, SimulatedClearinghouse, StatusAnswer
from revcycle.x12.ack999 import read_999
from revcycle.x12.claim277 import read_277
from revcycle.x12.envelope import read_interchanges
from revcycle.x12.errors import X12Error
from revcycle.x12.inquiry276 import ClaimInquiry
from revcycle.x12.write837 import Routing, write_837

from .test_ack999 import pyx12_errors
from .test_claim837 import CHILD, PARENT, a_claim, a_claim_set, write

AT = datetime.datetime(2024, 6, 1, 16, 20)


def test_a_received_file_is_answered_by_a_999_accepting_each_transaction_set() -> None:
    sent = write(a_claim("C0001"), a_claim("C0002"))
    clearinghouse = SimulatedClearinghouse()

    reply = clearinghouse.receive(sent, at=AT)

    (ack,) = read_999(reply)
    assert (ack.code, ack.accepted, ack.included) == ("A", 1, 1)
    (interchange,) = read_interchanges(reply)
    (original,) = read_interchanges(sent)
    assert (interchange.sender_id, interchange.receiver_id) == (original.receiver_id, original.sender_id)
    assert ack.group_control_number == original.groups[0].control_number
    assert clearinghouse.claims_received == 2
    assert pyx12_errors(reply) == []


def test_the_277ca_accepts_and_rejects_the_claims_it_was_told_about() -> None:
    clearinghouse = SimulatedClearinghouse()
    clearinghouse.receive(write(a_claim("C0001"), a_claim("C0002", subscriber=PARENT, patient=CHILD)), at=AT)

    text = clearinghouse.acknowledge(
        [
            ClaimAnswer("C0001", accepted=True, payer_claim_control_number="24153000123"),
            ClaimAnswer(
                "C0002", accepted=False, category="A7", status_code="33", message="SUBSCRIBER ID INVALID"
            ),
        ],
        at=AT + datetime.timedelta(days=1),
    )

    (response,) = read_277(text)
    by_number = {claim.patient_control_number: claim for claim in response.claims}
    assert by_number["C0001"].outcome == "accepted"
    assert by_number["C0001"].payer_claim_control_number == "24153000123"
    assert by_number["C0002"].outcome == "rejected"
    assert by_number["C0002"].statuses[0].message == "SUBSCRIBER ID INVALID"
    assert by_number["C0002"].patient.first_name == CHILD.first_name
    assert by_number["C0002"].patient.id == PARENT.member_id  # the member id is the subscriber's
    assert by_number["C0001"].statuses[0].charge_cents == 15000
    assert pyx12_errors(text) == []


def test_it_refuses_a_claim_it_never_received_and_a_file_meant_for_someone_else() -> None:
    clearinghouse = SimulatedClearinghouse()
    with pytest.raises(X12Error, match="never received"):
        clearinghouse.acknowledge(
            [ClaimAnswer("C0404", accepted=True, payer_claim_control_number="1")], at=AT
        )
    elsewhere = write_837(
        [a_claim_set()],
        routing=Routing("ZZ", "CALMMINDS", "ZZ", "OTHERHOUSE"),
        interchange_control_number=8,
        group_control_number=8,
    )
    with pytest.raises(X12Error, match="ISA08"):
        clearinghouse.receive(elsewhere, at=AT)
    clearinghouse.receive(write(a_claim("C0001")), at=AT)
    with pytest.raises(X12Error, match="payer's claim number"):
        clearinghouse.acknowledge([ClaimAnswer("C0001", accepted=True)], at=AT)


def test_a_276_is_answered_by_a_277_for_the_claims_the_payer_knows() -> None:
    from revcycle.x12.inquiry276 import StatusInquiry, write_276

    from .test_claim277 import x12sdk_models
    from .test_inquiry276 import ASKED_AT, ENVELOPE, SAM, inquiry

    asked = StatusInquiry(
        "INQ-501", ASKED_AT, (inquiry("RB-1001"), inquiry("RB-1002", patient=SAM), inquiry("RB-1003"))
    )
    text = write_276([asked], ENVELOPE)
    clearinghouse = SimulatedClearinghouse(id="BLUERIVER")

    def payer(claim: ClaimInquiry) -> StatusAnswer | None:
        return {
            "RB-1001": StatusAnswer("P1", "20"),
            "RB-1002": StatusAnswer("F2", "88", adjudicated_on=datetime.date(2026, 3, 30), paid_cents=0),
        }.get(claim.patient_control_number)

    reply = clearinghouse.answer_inquiries(text, payer, at=AT)

    (response,) = read_277(reply)
    assert [(c.trace_number, c.patient_control_number, c.category) for c in response.claims] == [
        ("T-RB-1001", "RB-1001", "P1"),
        ("T-RB-1002", "RB-1002", "F2"),
    ]
    assert response.claims[1].subscriber is not None  # the dependent is answered under the subscriber
    assert response.claims[1].patient.first_name == SAM.first_name
    (interchange,) = read_interchanges(reply)
    assert (interchange.sender_id, interchange.receiver_id) == ("BLUERIVER", ENVELOPE.sender_id)
    assert x12sdk_models(reply) == ["HealthCareClaimsStatusResponse"]
    assert clearinghouse.answer_inquiries(text, lambda claim: None, at=AT) == ""


def test_a_270_is_answered_by_a_271_that_summarizes_to_what_the_payer_knows() -> None:
    from revcycle.adapters.clearinghouse_sim import (
        ActiveCoverage,
        EligibilityAnswer,
        EligibilityRefusal,
        InactiveCoverage,
    )
    from revcycle.x12.eligibility import (
        EligibilityInquiry,
        EligibilityRequest,
        EligibilitySummary,
        read_271,
        summarize,
        write_270,
    )

    from .test_claim277 import x12sdk_models
    from .test_eligibility import ENVELOPE, JANE, PAYER, PROVIDER, SAM, VISIT

    def asked(trace: str, **more: Any) -> EligibilityInquiry:
        return EligibilityInquiry(
            PAYER, PROVIDER, JANE, trace, VISIT, ("30", "MH"), originator_id="1123456789", **more
        )

    request = EligibilityRequest(
        "ELG-700",
        datetime.datetime(2026, 4, 1, 7, 0),
        (
            asked("E-1", birth_date=datetime.date(1988, 5, 4), sex="F"),
            asked("E-2", dependent=SAM, birth_date=datetime.date(2014, 9, 1)),
            asked("E-3"),
            asked("E-4"),
        ),
    )
    text = write_270([request], ENVELOPE)
    gold = ActiveCoverage(
        "GOLD PPO 1500",
        begins_on=datetime.date(2026, 1, 1),
        copay_cents=3000,
        coinsurance_basis_points=2000,
        deductible_remaining_cents=72550,
        out_of_pocket_remaining_cents=395000,
        group_number="GRP77",
    )
    payer_knows: dict[str, EligibilityAnswer] = {
        "E-1": gold,
        "E-2": ActiveCoverage("GOLD PPO 1500", begins_on=datetime.date(2026, 5, 1), copay_cents=2500),
        "E-3": InactiveCoverage(ended_on=datetime.date(2026, 2, 28)),
    }
    clearinghouse = SimulatedClearinghouse(id="BLUERIVER")

    reply = clearinghouse.answer_eligibility(
        text, lambda inquiry: payer_knows.get(inquiry.trace_number), at=AT
    )

    subscriber, dependent, inactive = read_271(reply)
    assert [r.trace_number for r in (subscriber, dependent, inactive)] == ["E-1", "E-2", "E-3"]
    assert {r.trace_originator for r in (subscriber, dependent, inactive)} == {"1123456789"}
    assert summarize(subscriber, on=VISIT) == EligibilitySummary(
        status="active",
        plan_name="GOLD PPO 1500",
        copay_cents=3000,
        coinsurance_basis_points=2000,
        deductible_remaining_cents=72550,
        out_of_pocket_remaining_cents=395000,
    )
    assert (subscriber.group_number, subscriber.birth_date, subscriber.sex) == (
        "GRP77",
        datetime.date(1988, 5, 4),
        "F",
    )
    assert dependent.dependent == SAM
    assert dependent.subscriber == JANE
    assert summarize(dependent, on=VISIT).status == "inactive"  # the plan begins after the visit
    assert summarize(dependent, on=datetime.date(2026, 5, 4)).copay_cents == 2500
    assert summarize(inactive, on=VISIT).status == "inactive"
    (interchange,) = read_interchanges(reply)
    assert (interchange.sender_id, interchange.receiver_id) == ("BLUERIVER", ENVELOPE.sender_id)
    assert interchange.groups[0].transactions[0].segments[0].element(3) == "ELG-700"  # BHT03 echoed
    assert x12sdk_models(reply) == ["EligibilityBenefit"]

    refused = clearinghouse.answer_eligibility(
        text,
        lambda inquiry: (
            EligibilityRefusal("75") if inquiry.dependent is None else EligibilityRefusal("72", "N")
        ),
        at=AT,
    )
    answers = read_271(refused)
    assert [(r.trace_number, [(x.reason, x.follow_up, x.level) for x in r.rejections]) for r in answers] == [
        ("E-1", [("75", "C", "22")]),
        ("E-2", [("72", "N", "23")]),
        ("E-3", [("75", "C", "22")]),
        ("E-4", [("75", "C", "22")]),
    ]
    assert summarize(answers[0], on=VISIT).status == "error"
    assert clearinghouse.answer_eligibility(text, lambda inquiry: None, at=AT) == ""


def test_answering_eligibility_refuses_a_file_that_is_not_a_270() -> None:
    from revcycle.x12.inquiry276 import StatusInquiry, write_276

    from .test_inquiry276 import ENVELOPE, inquiry

    text_276 = write_276([StatusInquiry("INQ", AT, (inquiry("RB-1"),))], ENVELOPE)

    with pytest.raises(X12Error, match="not a 270"):
        SimulatedClearinghouse().answer_eligibility(text_276, lambda inquiry: None, at=AT)
