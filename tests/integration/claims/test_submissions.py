"""The portal log: claims recorded as submitted, queued for a batch, resubmitted."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from revcycle.db import models as m
from revcycle.errors import InvalidInput
from revcycle.services import submissions
from revcycle.services.claims import transition_claim
from revcycle.services.claims_pipeline import building
from tests.integration.claims.conftest import TODAY, Office


def _ready_claims(office: Office, count: int = 2) -> list[m.Claim]:
    services = [office.visit(9, day=day) for day in range(2, 2 + count)]
    building.mark_sessions_ready(office.db, actor=office.actor, session_ids=[s.id for s in services])
    built = building.build_claims(office.db, actor=office.actor, practice_id=office.practice.id, today=TODAY)
    claims = [b.claim for b in built.claims]
    assert [c.status for c in claims] == ["ready"] * count
    return claims


def test_ready_claims_are_recorded_as_submitted_via_the_payers_portal(
    office: Office, availity: m.InsurancePortal
) -> None:
    claims = _ready_claims(office)
    rows = submissions.record_submissions(
        office.db,
        actor=office.actor,
        claim_ids=[c.id for c in claims],
        submitted_on=date(2026, 3, 10),
        reference="AV-123",
    )
    assert [(r.channel, r.portal_id, r.reference, r.frequency) for r in rows] == [
        ("portal", availity.id, "AV-123", "1")
    ] * 2
    for claim in claims:
        office.db.refresh(claim)
        assert claim.status == "submitted"
    event = office.db.scalars(
        select(m.ClaimEvent).where(
            m.ClaimEvent.claim_id == claims[0].id, m.ClaimEvent.to_status == "submitted"
        )
    ).one()
    assert event.detail == "submitted via Availity on 2026-03-10, reference AV-123"
    [log] = submissions.list_submissions(office.db, actor=office.actor, claim_id=claims[0].id)
    assert log.portal_name == "Availity"
    assert log.submitted_by == office.user.email
    assert log.claim_number == claims[0].number


def test_one_claim_not_ready_refuses_the_whole_call(office: Office, availity: m.InsurancePortal) -> None:
    claims = _ready_claims(office)
    submissions.record_submissions(office.db, actor=office.actor, claim_ids=[claims[0].id])
    with pytest.raises(InvalidInput, match=f"claim {claims[0].number} is submitted, not ready"):
        submissions.record_submissions(office.db, actor=office.actor, claim_ids=[c.id for c in claims])
    assert submissions.list_submissions(office.db, actor=office.actor, claim_id=claims[1].id) == []


def test_claims_queue_for_an_electronic_batch_once(office: Office) -> None:
    claims = _ready_claims(office)
    batch = submissions.queue_for_batch(office.db, actor=office.actor, claim_ids=[c.id for c in claims])
    assert batch.status == "queued"
    queued = office.db.scalars(select(m.Submission).where(m.Submission.batch_id == batch.id)).all()
    assert sorted(s.claim_id for s in queued) == sorted(c.id for c in claims)
    assert {s.channel for s in queued} == {"clearinghouse"}
    with pytest.raises(InvalidInput, match=f"queued in batch {batch.id}"):
        submissions.queue_for_batch(office.db, actor=office.actor, claim_ids=[claims[0].id])


def test_a_rejected_claim_is_replaced_keeping_its_number_and_lineage(office: Office) -> None:
    [claim] = _ready_claims(office, 1)
    [first] = submissions.record_submissions(
        office.db, actor=office.actor, claim_ids=[claim.id], channel="clearinghouse", reference="CH-1"
    )

    transition_claim(office.db, actor=office.actor, claim_id=claim.id, target="rejected", source="277CA")
    with pytest.raises(InvalidInput, match="claim control number"):
        submissions.resubmit_claim(office.db, actor=office.actor, claim_id=claim.id, frequency="7")
    second = submissions.resubmit_claim(
        office.db, actor=office.actor, claim_id=claim.id, frequency="7", payer_claim_control_number="ICN-77"
    )
    assert second.previous_submission_id == first.id
    assert second.frequency == "7"
    office.db.refresh(claim)
    assert claim.status == "submitted"
    assert claim.frequency == "7"
    assert claim.payer_claim_control_number == "ICN-77"
    number = claim.number
    log = submissions.list_submissions(office.db, actor=office.actor, claim_id=claim.id)
    assert [(r.frequency, r.claim_number) for r in log] == [("1", number), ("7", number)]


def test_a_void_of_an_accepted_claim_is_logged_and_leaves_the_status_to_the_payer(office: Office) -> None:
    [claim] = _ready_claims(office, 1)
    submissions.record_submissions(office.db, actor=office.actor, claim_ids=[claim.id], channel="paper")

    transition_claim(office.db, actor=office.actor, claim_id=claim.id, target="accepted", source="portal")
    void = submissions.resubmit_claim(
        office.db, actor=office.actor, claim_id=claim.id, frequency="8", payer_claim_control_number="ICN-8"
    )
    assert void.frequency == "8"
    assert void.channel == "clearinghouse"  # the payer's route (the default)
    office.db.refresh(claim)
    assert claim.status == "accepted"
    with pytest.raises(InvalidInput, match="not 1"):
        submissions.resubmit_claim(office.db, actor=office.actor, claim_id=claim.id, frequency="5")
