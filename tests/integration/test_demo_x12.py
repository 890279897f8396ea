"""The demo's clearinghouse batches are real 837P files: each stored file is valid for pyx12
and reads back into exactly the claims of its batch, with the batch's control numbers. The
simulated clearinghouse's answers are real files too: a 999 per batch and 277CAs, ingested,
which moved the claims and gave them the payer's claim control numbers.

One small build on SQLite (test_demo_claims.py checks the same build's routes and dates).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.services.demo import build_demo
from revcycle.x12.envelope import read_interchanges
from revcycle.x12.read837 import read_837
from tests.unit.x12.test_claim277 import x12sdk_models
from tests.unit.x12.test_pyx12_judge import judge

TODAY = date(2026, 10, 20)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_demo_batches_are_valid_837p_files(db: Session) -> None:
    summary = build_demo(db, seed=2, today=TODAY, scale=0.05)
    batches = db.scalars(
        select(m.SubmissionBatch)
        .where(m.SubmissionBatch.practice_id == summary.practice_id)
        .order_by(m.SubmissionBatch.id)
    ).all()
    assert batches
    for batch in batches:
        assert batch.stored_file_id is not None, f"batch {batch.id} has no file"
        stored = db.get_one(m.StoredFile, batch.stored_file_id)
        assert (stored.kind, stored.direction) == ("837", "out")
        text = stored.content.decode()
        assert judge(text) == [], f"batch {batch.id}"
        claim_numbers = db.scalars(
            select(m.Claim.number)
            .join(m.Submission, m.Submission.claim_id == m.Claim.id)
            .where(m.Submission.batch_id == batch.id)
        ).all()
        read_claims = [claim for claim_set in read_837(text) for claim in claim_set.claims]
        read = [claim.patient_control_number for claim in read_claims]
        for claim in read_claims:  # REF*6R: the claim's number and the line's, for the 835 to echo
            expected = [f"{claim.patient_control_number}-{n}" for n in range(1, len(claim.lines) + 1)]
            assert [line.control_number for line in claim.lines] == expected
        assert sorted(read) == sorted(claim_numbers)
        [interchange] = read_interchanges(text)
        assert interchange.control_number == batch.interchange_control_number
    isas = [b.interchange_control_number for b in batches]
    assert len(set(isas)) == len(isas)
    check_the_clearinghouse_answers(db, summary.practice_id, batches)


def check_the_clearinghouse_answers(
    db: Session, practice_id: int, batches: Sequence[m.SubmissionBatch]
) -> None:
    inbound = db.scalars(select(m.X12InboundFile).where(m.X12InboundFile.practice_id == practice_id)).all()
    kinds = Counter(f.transaction_set for f in inbound)
    assert kinds["999"] == len(batches)  # one 999 per file sent
    assert kinds["277"] >= 1
    assert {f.status for f in inbound} == {"applied"}
    assert {b.status for b in batches} == {"accepted"}  # by their 999s
    for f in inbound:
        text = db.get_one(m.StoredFile, f.stored_file_id).content.decode()
        if f.implementation == "005010X212":  # a 277 answering a 276: pyx12 has no map for it
            assert x12sdk_models(text) == ["HealthCareClaimsStatusResponse"], f"inbound file {f.id}"
        elif f.implementation == "005010X279A1":  # a 271: no pyx12 map either
            if "AAA*" not in text:  # x12sdk's list of AAA reasons at 2100C is wrong (tests/unit/x12)
                assert x12sdk_models(text) == ["EligibilityBenefit"], f"inbound file {f.id}"
        else:
            assert judge(text) == [], f"inbound file {f.id}"
    events = db.execute(
        select(m.ClaimEvent.claim_id, m.ClaimEvent.source, m.ClaimEvent.to_status).where(
            m.ClaimEvent.practice_id == practice_id
        )
    ).all()
    acknowledged = {c for c, source, to in events if (source, to) == ("999", "acknowledged")}
    accepted = {c for c, source, to in events if (source, to) == ("277CA", "accepted")}
    sent = set(
        db.scalars(
            select(m.Submission.claim_id).where(
                m.Submission.practice_id == practice_id, m.Submission.channel == "clearinghouse"
            )
        )
    )
    assert acknowledged == sent  # every claim sent was acknowledged by a 999 file
    assert accepted
    assert accepted <= sent
    numbers = dict(
        db.execute(
            select(m.Claim.id, m.Claim.payer_claim_control_number).where(m.Claim.id.in_(accepted))
        ).all()
    )
    assert all(numbers.values()), "a claim accepted by a 277CA keeps the payer's claim number"
    check_the_status_inquiries(db, practice_id, kinds)
    check_the_eligibility_run(db, practice_id, kinds)


def check_the_status_inquiries(db: Session, practice_id: int, kinds: Counter[str]) -> None:
    """Monday 276s for overdue claims, answered by the clearinghouse's 277 (pending, P1)."""
    inquiries = db.scalars(
        select(m.ClaimStatusInquiry).where(m.ClaimStatusInquiry.practice_id == practice_id)
    ).all()
    assert inquiries
    answered = [i for i in inquiries if i.answered_at is not None]
    assert answered
    assert {(i.category_code, i.status_code) for i in answered} == {("P1", "20")}
    assert all(i.response_file_id is not None for i in answered)
    requests = {i.request_file_id for i in inquiries}
    assert None not in requests
    for file_id in requests:
        text = db.get_one(m.StoredFile, file_id).content.decode()
        assert set(x12sdk_models(text)) == {"HealthCareClaimsStatusRequest"}  # one set per payer
    assert kinds["277"] > len({i.response_file_id for i in answered})  # the 277CAs and the 277s


def check_the_eligibility_run(db: Session, practice_id: int, kinds: Counter[str]) -> None:
    """This morning's 270s, each answered by a 271: mostly active with the plan and what a visit
    costs, a refusal for a member id the payer does not know."""
    checks = db.scalars(select(m.EligibilityCheck).where(m.EligibilityCheck.practice_id == practice_id)).all()
    assert checks
    assert kinds["271"] == len(checks)
    statuses = Counter(check.status for check in checks)
    assert statuses["active"] > statuses["error"] >= 1
    assert "requested" not in statuses
    for check in checks:
        assert check.response_file_id is not None
        if check.status == "active":
            assert check.plan_name
            assert check.copay_cents is not None or check.coinsurance_basis_points is not None
        elif check.status == "error":
            assert "72" in check.error or "member" in check.error.lower()
