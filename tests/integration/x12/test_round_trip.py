"""The whole exchange on both databases: ready claims written as an 837P batch, the
clearinghouse's 999 for that batch acknowledges them, and the payer's 277CA accepts two
(their claim control numbers stored) and rejects one with its reason."""

from __future__ import annotations

from sqlalchemy import select

from revcycle.db import models as m
from revcycle.services import x12_batches
from revcycle.services.x12_ingest import ingest
from revcycle.x12.ack999 import write_999
from revcycle.x12.envelope import read_interchanges
from tests.integration.claims.conftest import Office, office
from tests.integration.x12.test_batches import _claims, practice_routed
from tests.integration.x12.test_ingest import SENT_AT, a_277ca, a_report

__all__ = ["office", "practice_routed"]


def test_a_written_batch_is_acknowledged_then_accepted_or_rejected(practice_routed: Office) -> None:
    office = practice_routed
    claims = _claims(office)
    written = x12_batches.write_batch(
        office.db, actor=office.actor, practice_id=office.practice.id, claim_ids=[c.id for c in claims]
    )
    ack = write_999(
        read_interchanges(written.text)[0],
        interchange_control_number="000000501",
        group_control_number="501",
        sent_at=SENT_AT,
    )
    result = ingest(
        office.db, actor=office.actor, practice_id=office.practice.id, filename="ack.999", data=ack.encode()
    )
    assert result.kind == "999"
    office.db.expire_all()
    assert {c.status for c in claims} == {"acknowledged"}

    first, second, third = (c.number for c in claims)
    rejected = a_report(third, "A7", code="562", message="NPI NOT ON FILE")
    report = a_277ca(a_report(first, "A2", icn="PAYER-1"), a_report(second, "A2", icn="PAYER-2"), rejected)
    result = ingest(
        office.db, actor=office.actor, practice_id=office.practice.id, filename="payer.277", data=report
    )
    assert result.kind == "277CA"
    office.db.expire_all()
    by_number = {c.number: c for c in claims}
    assert (by_number[first].status, by_number[first].payer_claim_control_number) == ("accepted", "PAYER-1")
    assert (by_number[second].status, by_number[second].payer_claim_control_number) == ("accepted", "PAYER-2")
    assert by_number[third].status == "rejected"
    detail = office.db.scalars(
        select(m.ClaimEvent.detail).where(
            m.ClaimEvent.claim_id == by_number[third].id, m.ClaimEvent.to_status == "rejected"
        )
    ).one()
    assert "NPI NOT ON FILE" in detail
    batch = office.db.get_one(m.SubmissionBatch, written.batch_id)
    assert batch.status == "accepted"
