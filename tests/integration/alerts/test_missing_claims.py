"""The missing-claims check: billable sessions 7 or more days old never submitted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from revcycle.db import models as m
from revcycle.services import alerts, timely_filing
from tests import factories as f
from tests.integration.alerts.conftest import Clinic

TODAY = date(2026, 3, 20)

__all__: list[str] = []


def _submit(clinic: Clinic, visit: m.ServiceSession, status: str = "submitted") -> m.Claim:
    claim = f.make_claim(clinic.db, visit, clinic.office.coverage, status=status)
    clinic.db.add(
        m.Submission(
            practice_id=clinic.practice.id,
            claim_id=claim.id,
            channel="portal",
            submitted_at=datetime(2026, 3, 4, 12, 0, tzinfo=UTC),
        )
    )
    clinic.db.flush()
    return claim


def test_missing_claims_lists_exactly_the_billable_sessions_never_submitted(clinic: Clinic) -> None:
    visit = clinic.office.visit
    db = clinic.db
    forgotten = visit(hour=8, day=2)
    seven_days = visit(hour=8, day=13)
    six_days = visit(hour=8, day=14)
    self_pay = visit(hour=9, day=2)
    self_pay.self_pay = True
    unlocked = visit(hour=10, day=2, note_status="draft")
    no_show = visit(hour=11, day=2, appointment_status="no_show")
    flagged = visit(hour=12, day=2)
    db.add(
        m.WorkItem(
            practice_id=clinic.practice.id,
            kind="flag",
            title="Duplicate",
            rule="duplicate",
            holds_billing=True,
            session_id=flagged.id,
            client_id=flagged.client_id,
        )
    )
    submitted = visit(hour=13, day=2)
    _submit(clinic, submitted)
    voided = visit(hour=14, day=2)
    _submit(clinic, voided, status="void")
    drafted = visit(hour=16, day=2)
    draft_claim = f.make_claim(db, drafted, clinic.office.coverage, status="ready")
    uninsured_client = f.make_client(db, clinic.practice)
    uninsured = f.make_session(
        db,
        clinic.practice,
        uninsured_client,
        clinic.office.provider,
        starts_at=datetime(2026, 3, 2, 17, 0, tzinfo=UTC),
    )
    db.flush()

    found = {
        row.session_id: row for row in alerts.missing_claims(db, practice_id=clinic.practice.id, today=TODAY)
    }
    assert set(found) == {forgotten.id, seven_days.id, voided.id, drafted.id}
    assert not {
        six_days.id,
        self_pay.id,
        unlocked.id,
        no_show.id,
        flagged.id,
        submitted.id,
        uninsured.id,
    } & set(found)
    row = found[forgotten.id]
    assert (row.client_id, row.provider_id, row.payer_id, row.service_on, row.days_waiting) == (
        forgotten.client_id,
        forgotten.provider_id,
        clinic.office.payer.id,
        date(2026, 3, 2),
        18,
    )
    assert row.reason == "never put on a claim"
    assert found[seven_days.id].days_waiting == 7
    assert found[voided.id].reason == "its claims were voided and none replaced them"
    assert (found[drafted.id].claim_id, found[drafted.id].reason) == (
        draft_claim.id,
        "claim ready (or queued for a batch), never submitted",
    )


def test_deadlines_of_sessions_and_claims(clinic: Clinic) -> None:
    db = clinic.db
    on_its_own = clinic.office.visit(hour=8, day=2)
    on_a_claim = clinic.office.visit(hour=9, day=2)
    claim = f.make_claim(db, on_a_claim, clinic.office.coverage, status="ready")
    claim.timely_filing_on = date(2026, 4, 1)
    stranger = f.make_session(
        db,
        clinic.practice,
        f.make_client(db, clinic.practice),
        clinic.office.provider,
        starts_at=datetime(2026, 3, 2, 17, 0, tzinfo=UTC),
    )
    db.flush()
    deadlines = timely_filing.session_deadlines(
        db, clinic.practice.id, [on_its_own.id, on_a_claim.id, stranger.id]
    )
    assert deadlines == {
        on_its_own.id: date(2026, 3, 2) + timedelta(days=90),
        on_a_claim.id: date(2026, 4, 1),
        stranger.id: None,  # no coverage: no payer, no limit
    }
    assert timely_filing.claim_deadlines(db, clinic.practice.id, [claim.id]) == {claim.id: date(2026, 4, 1)}
    upcoming = timely_filing.upcoming_deadlines(
        db, practice_id=clinic.practice.id, today=TODAY, within_days=30
    )
    assert [(d.subject, d.id, d.days_left) for d in upcoming] == [("claim", claim.id, 12)]
    later = timely_filing.upcoming_deadlines(db, practice_id=clinic.practice.id, today=TODAY, within_days=90)
    assert [(d.subject, d.id) for d in later] == [("claim", claim.id), ("session", on_its_own.id)]
