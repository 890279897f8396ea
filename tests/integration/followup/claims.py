"""Claims the payer has and has not answered, sent on a given day (the follow-up tests')."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from revcycle.db import models as m
from tests import factories as f


def sent_claim(
    db: Session,
    practice: m.Practice,
    *,
    sent_on: date,
    payer: m.Payer | None = None,
    client: m.Client | None = None,
    status: str = "accepted",
) -> m.Claim:
    """A claim of ``practice`` (a new client and payer unless given) at ``status``, its one
    submission made on ``sent_on``."""
    client = client or f.make_client(db, practice)
    coverage = f.make_coverage(db, client, payer or f.make_payer(db))
    session = f.make_session(db, practice, client, f.make_provider(db, practice))
    claim = f.make_claim(db, session, coverage, status=status)
    db.add(
        m.Submission(
            practice_id=practice.id,
            claim_id=claim.id,
            channel="clearinghouse",
            submitted_at=datetime.combine(sent_on, time(12), tzinfo=UTC),
        )
    )
    db.flush()
    return claim
