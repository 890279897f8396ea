"""The simulated clearinghouse: its 999 and 277CA answers are real X12 that our readers and
pyx12 accept, and it refuses what a clearinghouse's front door would."""

from __future__ import annotations

import datetime

import pytest

from revcycle.adapters.clearinghouse_sim import ClaimAnswer, SimulatedClearinghouse
from revcycle.x12.ack999 import read_999
from revcycle.x12.claim277 import read_277
from revcycle.x12.envelope import read_interchanges
from revcycle.x12.errors import X12Error
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
