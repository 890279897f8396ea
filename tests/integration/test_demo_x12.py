"""The demo's clearinghouse batches are real 837P files: each stored file is valid for pyx12
and reads back into exactly the claims of its batch, with the batch's control numbers.

One small build on SQLite (test_demo_claims.py checks the same build's routes and dates).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.services.demo import build_demo
from revcycle.x12.envelope import read_interchanges
from revcycle.x12.read837 import read_837
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
        read = [claim.patient_control_number for claim_set in read_837(text) for claim in claim_set.claims]
        assert sorted(read) == sorted(claim_numbers)
        [interchange] = read_interchanges(text)
        assert interchange.control_number == batch.interchange_control_number
    isas = [b.interchange_control_number for b in batches]
    assert len(set(isas)) == len(isas)
