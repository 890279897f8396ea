"""run_alerts on a fixed clock: raised once, kept, resolved when the condition clears, reopened
when it returns; acknowledged and resolved by hand; assigned by role."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from revcycle.db import models as m
from revcycle.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from revcycle.services import alerts
from tests import factories as f
from tests.integration.alerts.conftest import NOW, Clinic

__all__: list[str] = []


def alerts_of(clinic: Clinic, rule: str | None = None) -> list[m.WorkItem]:
    clinic.db.expire_all()
    query = select(m.WorkItem).where(m.WorkItem.practice_id == clinic.practice.id, m.WorkItem.kind == "alert")
    if rule:
        query = query.where(m.WorkItem.rule == rule)
    return list(clinic.db.scalars(query.order_by(m.WorkItem.id)))


def run(clinic: Clinic, now: datetime = NOW) -> alerts.AlertRun:
    return alerts.run_alerts(clinic.db, practice_id=clinic.practice.id, now=now)


def test_a_session_without_a_note_raises_one_alert_for_the_director(clinic: Clinic) -> None:
    visit = clinic.office.visit(day=2, note_status="draft")  # 18 days ago
    first = run(clinic)
    assert first.raised == 1
    [alert] = alerts_of(clinic, "completed_no_note")
    assert (alert.session_id, alert.client_id, alert.owner_role) == (visit.id, visit.client_id, "director")
    assert alert.owner_user_id == clinic.director.id  # the admin whose e-mail says director
    assert (alert.status, alert.severity, alert.dedupe_key) == (
        "open",
        "warning",
        f"alert:completed_no_note:session:{visit.id}",
    )
    assert alert.created_at == NOW
    second = run(clinic)
    assert (second.raised, second.resolved, second.reopened) == (0, 0, 0)
    assert [a.id for a in alerts_of(clinic, "completed_no_note")] == [alert.id]
    assert second.open_by_severity["warning"] == 1


def test_three_days_is_not_yet_late_four_is(clinic: Clinic) -> None:
    visit = clinic.office.visit(day=17, note_status="draft")  # 3 days before the 20th
    assert run(clinic).raised == 0
    assert run(clinic, NOW + timedelta(days=1)).raised == 1
    assert alerts_of(clinic, "completed_no_note")[0].session_id == visit.id


def test_an_alert_resolves_when_its_condition_clears_and_reopens_when_it_returns(clinic: Clinic) -> None:
    visit = clinic.office.visit(day=2, note_status="draft")
    run(clinic)
    [alert] = alerts_of(clinic, "completed_no_note")

    visit.note_status, visit.note_locked_at = "locked", NOW
    clinic.db.flush()
    cleared = run(clinic)
    assert cleared.resolved == 1
    [alert] = alerts_of(clinic, "completed_no_note")
    assert alert.status == "resolved"
    assert alert.resolution == "condition cleared: the note is locked"
    assert alert.resolved_at == NOW
    assert alert.resolved_by_user_id is None

    visit.note_status = "draft"  # unlocked for an amendment
    clinic.db.flush()
    back = run(clinic, NOW + timedelta(days=1))
    assert back.reopened == 1
    [again] = alerts_of(clinic, "completed_no_note")
    assert again.id == alert.id
    assert (again.status, again.resolution, again.resolved_at) == ("open", "", None)


def test_an_acknowledged_alert_stays_acknowledged(clinic: Clinic) -> None:
    clinic.office.visit(day=2, note_status="draft")
    run(clinic)
    [alert] = alerts_of(clinic, "completed_no_note")
    alerts.acknowledge_alert(clinic.db, actor=clinic.actor(clinic.director), work_item_id=alert.id)
    run(clinic, NOW + timedelta(days=1))
    [alert] = alerts_of(clinic, "completed_no_note")
    assert alert.status == "acknowledged"
    assert "19 days" in alert.detail  # brought up to date


def test_a_filing_deadline_warns_at_30_days_and_turns_critical_at_7_reopening_an_acknowledged_alert(
    clinic: Clinic,
) -> None:
    clinic.office.settings.timely_filing_days = 40  # 2 March + 40 days = 11 April
    visit = clinic.office.visit(day=2)  # documented, not marked ready
    clinic.db.flush()
    run(clinic)
    [alert] = alerts_of(clinic, "timely_filing")
    assert (alert.session_id, alert.severity, alert.due_on, alert.owner_role) == (
        visit.id,
        "warning",
        date(2026, 4, 11),
        "billing",
    )
    assert alert.owner_user_id == clinic.biller.id
    alerts.acknowledge_alert(clinic.db, actor=clinic.actor(clinic.biller), work_item_id=alert.id)
    later = run(clinic, datetime(2026, 4, 5, 14, 0, tzinfo=UTC))  # 6 days left
    assert later.escalated == 1
    [alert] = alerts_of(clinic, "timely_filing")
    assert (alert.severity, alert.status) == ("critical", "open")


def test_a_resolution_by_hand_stands_while_the_condition_holds(clinic: Clinic) -> None:
    visit = clinic.office.visit(day=2, note_status="draft")
    run(clinic)
    [alert] = alerts_of(clinic, "completed_no_note")
    alerts.resolve_alert(
        clinic.db,
        actor=clinic.actor(clinic.admin),
        work_item_id=alert.id,
        reason="clinician on leave",
        now=NOW,
    )
    assert run(clinic).reopened == 0
    [alert] = alerts_of(clinic, "completed_no_note")
    assert (alert.status, alert.resolution, alert.resolved_by_user_id) == (
        "resolved",
        "clinician on leave",
        clinic.admin.id,
    )
    visit.note_status = "locked"
    clinic.db.flush()
    run(clinic)
    assert alerts_of(clinic, "completed_no_note")[0].resolution.endswith(
        "condition cleared: the note is locked"
    )
    visit.note_status = "draft"
    clinic.db.flush()
    assert run(clinic).reopened == 1
    assert alerts_of(clinic, "completed_no_note")[0].status == "open"


def test_acknowledge_and_resolve_by_hand_are_audited_and_refused_twice(clinic: Clinic) -> None:
    clinic.office.visit(day=2, note_status="draft")
    run(clinic)
    [alert] = alerts_of(clinic, "completed_no_note")
    actor = clinic.actor(clinic.biller)
    alerts.acknowledge_alert(clinic.db, actor=actor, work_item_id=alert.id, note="looking")
    with pytest.raises(Conflict):
        alerts.acknowledge_alert(clinic.db, actor=actor, work_item_id=alert.id)
    with pytest.raises(InvalidInput, match="reason"):
        alerts.resolve_alert(clinic.db, actor=actor, work_item_id=alert.id, reason="  ")
    alerts.resolve_alert(clinic.db, actor=actor, work_item_id=alert.id, reason="asked the clinician")
    with pytest.raises(Conflict):
        alerts.resolve_alert(clinic.db, actor=actor, work_item_id=alert.id, reason="again")
    entries = list(
        clinic.db.scalars(
            select(m.AuditLog).where(
                m.AuditLog.practice_id == clinic.practice.id,
                m.AuditLog.entity == "work_item",
                m.AuditLog.entity_id == str(alert.id),
            )
        )
    )
    assert [e.after["status"] for e in entries] == ["acknowledged", "resolved"]
    assert entries[1].reason == "asked the clinician"
    assert entries[1].actor_user_id == clinic.biller.id


def test_a_therapist_may_not_run_acknowledge_or_resolve(clinic: Clinic) -> None:
    clinic.office.visit(day=2, note_status="draft")
    run(clinic)
    [alert] = alerts_of(clinic, "completed_no_note")
    therapist = clinic.actor(clinic.therapist)
    with pytest.raises(PermissionDenied):
        alerts.run_alerts(clinic.db, practice_id=clinic.practice.id, now=NOW, actor=therapist)
    with pytest.raises(PermissionDenied):
        alerts.acknowledge_alert(clinic.db, actor=therapist, work_item_id=alert.id)
    other = f.make_user(clinic.db, f.make_practice(clinic.db))
    with pytest.raises(NotFound):
        alerts.resolve_alert(clinic.db, actor=clinic.actor(other), work_item_id=alert.id, reason="x")


def test_assignees_come_from_the_practice_settings_when_set(clinic: Clinic) -> None:
    practice = clinic.practice
    assert alerts.alert_assignees(clinic.db, practice) == {
        "director": clinic.director.id,
        "billing": clinic.biller.id,
        "admin": clinic.admin.id,
    }
    stranger = f.make_user(clinic.db)
    practice.settings = {"alert_assignees": {"director": clinic.admin.id, "billing": stranger.id}}
    clinic.db.flush()
    chosen = alerts.alert_assignees(clinic.db, practice)
    assert chosen["director"] == clinic.admin.id
    assert chosen["billing"] == clinic.biller.id  # not a member: the first biller instead
    clinic.director.is_active = False
    practice.settings = {}
    clinic.db.flush()
    assert alerts.alert_assignees(clinic.db, practice)["director"] == clinic.admin.id


def _claim(clinic: Clinic, day: int, status: str, since: datetime) -> m.Claim:
    visit = clinic.office.visit(day=day)
    claim = f.make_claim(clinic.db, visit, clinic.office.coverage, status=status)
    claim.status_changed_at = since
    clinic.db.flush()
    return claim


def test_claim_rules_submitted_without_answer_denied_and_old(clinic: Clinic) -> None:
    sent = _claim(clinic, 2, "submitted", NOW)
    clinic.db.add(
        m.Submission(
            practice_id=clinic.practice.id,
            claim_id=sent.id,
            channel="portal",
            submitted_at=NOW - timedelta(days=15),
        )
    )
    denied = _claim(clinic, 3, "denied", NOW - timedelta(days=2))
    pending = _claim(clinic, 4, "accepted", NOW - timedelta(days=10))
    clinic.db.flush()
    run(clinic)
    found = {(a.rule, a.claim_id, a.owner_role) for a in alerts_of(clinic)}
    assert ("submitted_no_response", sent.id, "billing") in found
    assert ("claim_denied", denied.id, "billing") in found
    assert ("claim_denied", denied.id, "director") in found
    assert not any(claim_id == pending.id for _, claim_id, _ in found)
    [billing_denial] = [a for a in alerts_of(clinic, "claim_denied") if a.owner_role == "billing"]
    assert billing_denial.due_on == date(2026, 3, 18) + timedelta(days=180)  # the appeal limit

    denied.status = "appealed"
    clinic.db.flush()
    run(clinic)
    assert {a.status for a in alerts_of(clinic, "claim_denied")} == {"resolved"}
    old = run(clinic, NOW + timedelta(days=80))  # 2 March + 90 days has passed
    assert old.raised >= 1
    assert {a.claim_id for a in alerts_of(clinic, "open_over_90_days")} == {sent.id, denied.id, pending.id}


def test_more_than_ten_unbilled_sessions_raise_the_practice_alert(clinic: Clinic) -> None:
    for hour in range(10):
        clinic.office.visit(hour=hour, day=18)
    run(clinic)
    assert alerts_of(clinic, "unbilled_sessions") == []
    clinic.office.visit(hour=11, day=18)
    run(clinic)
    [alert] = alerts_of(clinic, "unbilled_sessions")
    assert (alert.owner_role, alert.dedupe_key, alert.session_id) == (
        "director",
        f"alert:unbilled_sessions:practice:{clinic.practice.id}",
        None,
    )
    assert "11 sessions" in alert.detail
