"""Appeals on a denial from a real 835: the letter, submit, decide, the next level, the
corrected claim, deadline alerts and letter templates."""

from __future__ import annotations

import datetime
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, PermissionDenied
from revcycle.services import appeals
from tests import factories as f
from tests.integration.appeals.world import TODAY, appeals_world, denied_claim
from tests.integration.remittance.world import World


@pytest.fixture
def w(db: Session) -> World:
    return appeals_world(db)


def _pdf_text(db: Session, appeal: m.Appeal) -> str:
    assert appeal.letter_file_id is not None
    stored = db.get_one(m.StoredFile, appeal.letter_file_id)
    reader = PdfReader(io.BytesIO(stored.content))
    return " ".join((page.extract_text() or "") for page in reader.pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_denial_is_appealed_with_a_letter_submitted_and_won(w: World) -> None:
    claim, denial = denied_claim(w, "50")
    assert denial.appeal_deadline_on == datetime.date(2026, 7, 9)  # the 835's date + 90 days
    appeal = appeals.start_appeal(w.db, actor=w.actor, claim_id=claim.id, denial_id=denial.id, today=TODAY)
    assert (appeal.status, appeal.level, appeal.appealed_cents) == ("draft", 1, 15000)
    assert appeal.deadline_on == denial.appeal_deadline_on
    assert "Treatment plan" in appeal.enclosures  # medical necessity's usual enclosures
    text = _flat(_pdf_text(w.db, appeal))
    for expected in (
        "Riverbend Counseling LLC",
        claim.number,
        f"ICN{claim.number}",
        "Blue River Health",
        "CO-50",
        "not medically necessary",
        "$150.00",
        "05/01/2026",
    ):
        assert expected in text, expected
    first_letter = appeal.letter_file_id

    appeals.update_draft(
        w.db,
        actor=w.actor,
        appeal_id=appeal.id,
        today=TODAY,
        argument="The PHQ-9 rose from 14 to 19 over the episode.",
        enclosures=["Treatment plan", "PHQ-9 scores"],
    )
    assert appeal.letter_file_id != first_letter  # printed again
    text = _flat(_pdf_text(w.db, appeal))
    assert "The PHQ-9 rose from 14 to 19 over the episode." in text
    assert "- PHQ-9 scores" in text

    appeals.submit_appeal(
        w.db, actor=w.actor, appeal_id=appeal.id, submitted_on=TODAY, payer_reference="APL-77"
    )
    w.db.refresh(claim)
    w.db.refresh(denial)
    assert (appeal.status, appeal.payer_reference, appeal.submitted_on) == ("submitted", "APL-77", TODAY)
    assert claim.status == "appealed"
    assert denial.resolution == "appealed"

    decided = TODAY + datetime.timedelta(days=30)
    appeals.record_outcome(w.db, actor=w.actor, appeal_id=appeal.id, outcome="won", decided_on=decided)
    w.db.refresh(denial)
    assert (appeal.status, appeal.recovered_cents, appeal.decided_on) == ("won", 15000, decided)
    assert denial.resolution == "overturned"
    summary = appeals.overturn_summary(w.db, actor=w.actor, practice_id=w.practice.id, since=TODAY)
    assert summary.total.overturn_percent == 100
    assert summary.total.recovered_percent == 100
    assert [(name, t.won) for name, t in summary.by_payer] == [("Blue River Health", 1)]
    assert [(name, t.decided) for name, t in summary.by_category] == [("Medical necessity", 1)]
    audited = w.db.scalars(
        select(m.AuditLog.reason).where(m.AuditLog.entity == "appeal", m.AuditLog.entity_id == str(appeal.id))
    ).all()
    assert "appeal submitted" in audited
    assert "decision: won" in audited


def test_a_lost_appeal_goes_to_the_next_level_with_a_new_deadline(w: World) -> None:
    claim, denial = denied_claim(w, "197")
    first = appeals.start_appeal(w.db, actor=w.actor, claim_id=claim.id, today=TODAY)
    assert first.denial_id is None
    assert first.appealed_cents == 15000
    with pytest.raises(Conflict, match="already has an appeal in progress"):
        appeals.start_appeal(w.db, actor=w.actor, claim_id=claim.id, denial_id=denial.id, today=TODAY)
    with pytest.raises(InvalidInput, match="a next level follows only a lost or partially won appeal"):
        appeals.start_appeal(w.db, actor=w.actor, claim_id=claim.id, previous_appeal_id=first.id, today=TODAY)
    appeals.submit_appeal(w.db, actor=w.actor, appeal_id=first.id, submitted_on=TODAY)
    decided = datetime.date(2026, 6, 10)
    appeals.record_outcome(
        w.db, actor=w.actor, appeal_id=first.id, outcome="lost", decided_on=decided, note="upheld"
    )
    w.db.refresh(claim)
    w.db.refresh(denial)
    assert claim.status == "denied"
    assert denial.resolution == "open"
    second = appeals.start_appeal(
        w.db, actor=w.actor, claim_id=claim.id, previous_appeal_id=first.id, today=decided
    )
    assert (second.level, second.previous_appeal_id) == (2, first.id)
    assert second.deadline_on == decided + datetime.timedelta(days=90)  # the payer's appeal days
    text = _flat(_pdf_text(w.db, second))
    assert "Second-level appeal" in text
    with pytest.raises(Conflict):
        appeals.start_appeal(
            w.db, actor=w.actor, claim_id=claim.id, previous_appeal_id=first.id, today=decided
        )
    view = appeals.appeal_view(w.db, actor=w.actor, appeal_id=first.id, today=decided)
    assert view.next_appeal_id == second.id
    late = decided + datetime.timedelta(days=91)
    appeals.withdraw_appeal(w.db, actor=w.actor, appeal_id=second.id, reason="chose not to pursue")
    assert second.status == "withdrawn"
    with pytest.raises(Conflict):
        appeals.submit_appeal(w.db, actor=w.actor, appeal_id=second.id, submitted_on=late)


def test_bad_decisions_are_refused(w: World) -> None:
    claim, _ = denied_claim(w, "50")
    appeal = appeals.start_appeal(w.db, actor=w.actor, claim_id=claim.id, today=TODAY)
    with pytest.raises(Conflict, match="a draft appeal can only become"):
        appeals.record_outcome(w.db, actor=w.actor, appeal_id=appeal.id, outcome="won", decided_on=TODAY)
    appeals.submit_appeal(w.db, actor=w.actor, appeal_id=appeal.id, submitted_on=TODAY)
    with pytest.raises(InvalidInput, match="not won, partially_won or lost"):
        appeals.record_outcome(w.db, actor=w.actor, appeal_id=appeal.id, outcome="maybe", decided_on=TODAY)
    with pytest.raises(InvalidInput, match="say how much"):
        appeals.record_outcome(
            w.db, actor=w.actor, appeal_id=appeal.id, outcome="partially_won", decided_on=TODAY
        )
    with pytest.raises(Conflict, match="only a draft is edited"):
        appeals.update_draft(w.db, actor=w.actor, appeal_id=appeal.id, today=TODAY, argument="x")
    appeals.record_outcome(
        w.db,
        actor=w.actor,
        appeal_id=appeal.id,
        outcome="partially_won",
        decided_on=TODAY,
        recovered_cents=6000,
    )
    summary = appeals.overturn_summary(w.db, actor=w.actor, practice_id=w.practice.id, since=TODAY)
    assert (summary.total.partially_won, summary.total.overturn_percent, summary.total.recovered_percent) == (
        1,
        100,
        40,
    )
    paid = w.claim(("90834", 12000), status="paid")
    with pytest.raises(InvalidInput, match="only a denied or partially paid claim is appealed"):
        appeals.start_appeal(w.db, actor=w.actor, claim_id=paid.id, today=TODAY)


def test_a_fixable_denial_goes_out_as_a_corrected_claim(w: World) -> None:
    claim, denial = denied_claim(w, "16")
    assert denial.default_action == "fix_and_resubmit"
    submission = appeals.send_corrected_claim(
        w.db, actor=w.actor, denial_id=denial.id, reason="missing referring provider added"
    )
    assert submission.frequency == "7"
    assert submission.payer_claim_control_number == f"ICN{claim.number}"
    w.db.refresh(denial)
    assert denial.resolution == "corrected"
    assert denial.resolved_at is not None
    with pytest.raises(Conflict, match="already corrected"):
        appeals.send_corrected_claim(w.db, actor=w.actor, denial_id=denial.id)
    _, to_appeal = denied_claim(w, "50")
    with pytest.raises(InvalidInput, match="its usual action is appeal"):
        appeals.send_corrected_claim(w.db, actor=w.actor, denial_id=to_appeal.id)


def _alerts(db: Session, practice_id: int) -> list[tuple[str, str, str, datetime.date | None]]:
    rows = db.scalars(
        select(m.WorkItem).where(m.WorkItem.practice_id == practice_id, m.WorkItem.kind == "appeal")
    )
    return sorted((x.dedupe_key or "", x.status, x.severity, x.due_on) for x in rows)


def test_deadline_alerts_are_idempotent_and_resolved_on_submit(w: World) -> None:
    claim, denial = denied_claim(w, "50")  # due 2026-07-09
    _, fixable = denied_claim(w, "16")  # not an appeal: no alert
    today = datetime.date(2026, 7, 5)
    first = appeals.raise_deadline_alerts(w.db, practice_id=w.practice.id, today=today)
    assert first.created == 1
    items = _alerts(w.db, w.practice.id)
    assert items == [(f"appeal:denial:{denial.id}", "open", "critical", datetime.date(2026, 7, 2))]
    again = appeals.raise_deadline_alerts(w.db, practice_id=w.practice.id, today=today)
    assert again.changed == 0
    assert _alerts(w.db, w.practice.id) == items
    calmer = appeals.raise_deadline_alerts(w.db, practice_id=w.practice.id, today=datetime.date(2026, 6, 20))
    assert calmer.updated == 1
    assert _alerts(w.db, w.practice.id)[0][2] == "warning"

    appeal = appeals.start_appeal(w.db, actor=w.actor, claim_id=claim.id, denial_id=denial.id, today=today)
    appeals.raise_deadline_alerts(w.db, practice_id=w.practice.id, today=today)
    assert _alerts(w.db, w.practice.id) == [
        (f"appeal:denial:{denial.id}", "resolved", "warning", datetime.date(2026, 7, 2)),
        (f"appeal:draft:{appeal.id}", "open", "critical", datetime.date(2026, 7, 2)),
    ]
    appeals.submit_appeal(w.db, actor=w.actor, appeal_id=appeal.id, submitted_on=today)
    run = appeals.raise_deadline_alerts(w.db, practice_id=w.practice.id, today=today)
    assert run.resolved == 1
    assert {status for _, status, _, _ in _alerts(w.db, w.practice.id)} == {"resolved"}
    assert fixable.id not in {
        int(k.rsplit(":", 1)[1]) for k, *_ in _alerts(w.db, w.practice.id) if "denial" in k
    }


def test_templates_are_versioned_and_an_unknown_placeholder_is_refused(w: World) -> None:
    admin = f.actor_for(w.db, f.make_user(w.db, w.practice, Role.ADMIN))
    names = [t.name for t in appeals.latest_templates(w.db, actor=w.actor, practice_id=w.practice.id)]
    assert names == ["General", "Medical necessity"]  # built in on first use
    saved = appeals.save_template(
        w.db,
        actor=admin,
        practice_id=w.practice.id,
        name="General",
        subject="Appeal {{ claim.number }}",
        body="Dear {{ payer.name }},\n\n{{ appeal.argument }}",
    )
    assert saved.version == 2
    latest = {t.name: t for t in appeals.latest_templates(w.db, actor=w.actor, practice_id=w.practice.id)}
    assert latest["General"].id == saved.id
    versions = appeals.template_versions(w.db, actor=w.actor, practice_id=w.practice.id, name="General")
    assert [t.version for t in versions] == [2, 1]
    assert versions[1].body != saved.body  # the old version is kept as it was
    with pytest.raises(InvalidInput, match=r"body: unknown placeholder \{\{ client.ssn \}\}"):
        appeals.save_template(
            w.db, actor=admin, practice_id=w.practice.id, name="General", subject="", body="{{ client.ssn }}"
        )
    assert len(appeals.template_versions(w.db, actor=w.actor, practice_id=w.practice.id, name="General")) == 2
    with pytest.raises(PermissionDenied):
        appeals.save_template(w.db, actor=w.actor, practice_id=w.practice.id, name="X", subject="", body="Hi")

    claim, _ = denied_claim(w, "16")
    appeal = appeals.start_appeal(w.db, actor=w.actor, claim_id=claim.id, template_id=saved.id, today=TODAY)
    appeals.update_draft(w.db, actor=w.actor, appeal_id=appeal.id, today=TODAY, argument="Please pay it.")
    text = _flat(_pdf_text(w.db, appeal))
    assert f"Appeal {claim.number}" in text
    assert "Dear Blue River Health," in text
    assert "Please pay it." in text
