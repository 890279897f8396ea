"""The demo's claims pipeline: billable sessions flow to claims through the services and go out
through each payer's billing route; the ~3% deliberately never submitted are exactly what the
missing-claims check finds.

One small build on SQLite (the whole-practice test in test_demo.py builds on both databases).
Its calendar ends three weeks into October 2026, past the last shipped ICD-10-CM release, so
the newest claims carry the "no release loaded" warning the billing login overrides.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.services.alerts import ALERT_KIND, missing_claims
from revcycle.services.demo import DemoSummary, build_demo
from revcycle.services.demo_data import PORTAL_REFERENCES, PORTALS
from revcycle.services.sessions import HELD_STATUSES, session_facts

TODAY = date(2026, 10, 20)
LAST_RELEASE_ENDS = date(2026, 9, 30)
ZONE = ZoneInfo("America/New_York")
ROUTES = {"portal", "clearinghouse", "simplepractice", "paper"}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_demo_claims_flow(db: Session) -> None:
    """One build, checked from every side."""
    summary = build_demo(db, seed=2, today=TODAY, scale=0.05)
    check_missing_claims(db, summary)
    check_left_behind_stages(db, summary)
    check_routes(db, summary)
    check_dates(db, summary)
    check_claim_history(db, summary)
    check_overrides(db, summary)
    check_summary_and_alerts(db, summary)


def billable_older_than_a_week(db: Session, practice_id: int) -> set[int]:
    """Held, insured, note locked, an insurance charge, no open flag holding it, and its date of
    service at least a week ago: counted here from the rows, not from the demo's own lists."""
    insurable = select(m.Charge.session_id).where(m.Charge.patient_only.is_(False))
    sessions = db.scalars(
        select(m.ServiceSession).where(
            m.ServiceSession.practice_id == practice_id,
            m.ServiceSession.appointment_status.in_(HELD_STATUSES),
            m.ServiceSession.self_pay.is_(False),
            m.ServiceSession.note_status == "locked",
            m.ServiceSession.service_on <= TODAY - timedelta(days=7),
            m.ServiceSession.id.in_(insurable),
        )
    ).all()
    facts = session_facts(db, sessions)
    return {s.id for s in sessions if not facts[s.id].has_holding_flag}


def submitted_sessions(db: Session, practice_id: int) -> set[int]:
    query = (
        select(m.Charge.session_id)
        .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
        .join(m.Submission, m.Submission.claim_id == m.ClaimLine.claim_id)
        .where(m.Submission.practice_id == practice_id)
    )
    return set(db.scalars(query))


def check_missing_claims(db: Session, summary: DemoSummary) -> None:
    pid = summary.practice_id
    assert pid is not None
    assert summary.held_back == {}  # nothing refused, every claim scrubbed clean (or overridden)
    left_behind = set(summary.never_submitted)
    assert left_behind
    found = {missing.session_id for missing in missing_claims(db, practice_id=pid, today=TODAY)}
    assert found == left_behind
    billable = billable_older_than_a_week(db, pid)
    assert left_behind <= billable
    # Every other billable session older than a week went out.
    assert billable - submitted_sessions(db, pid) == left_behind
    share = len(left_behind) / len(billable)
    assert 0.02 <= share <= 0.04, (len(left_behind), len(billable))


def check_left_behind_stages(db: Session, summary: DemoSummary) -> None:
    """Documented (never marked ready), ready (no claim) or built (a claim never sent)."""
    assert set(summary.never_submitted.values()) <= {"documented", "ready", "built"}
    for session_id, stage in summary.never_submitted.items():
        row = db.get_one(m.ServiceSession, session_id)
        statuses = db.scalars(
            select(m.Claim.status)
            .join(m.ClaimLine, m.ClaimLine.claim_id == m.Claim.id)
            .join(m.Charge, m.Charge.id == m.ClaimLine.charge_id)
            .where(m.Charge.session_id == session_id)
        ).all()
        if stage == "documented":
            assert row.ready_at is None
            assert not statuses
        elif stage == "ready":
            assert row.ready_at is not None
            assert not statuses
        else:
            assert row.ready_at is not None
            assert statuses
            assert set(statuses) <= {"draft", "ready"}


def check_routes(db: Session, summary: DemoSummary) -> None:
    """Each payer's claims went out through its billing route (and its portal)."""
    pid = summary.practice_id
    settings = {
        pp.payer_id: pp
        for pp in db.scalars(select(m.PracticePayer).where(m.PracticePayer.practice_id == pid))
    }
    assert {pp.billing_route for pp in settings.values()} >= ROUTES  # at least one payer per route
    portals = {
        p.id: p.name
        for p in db.scalars(select(m.InsurancePortal).where(m.InsurancePortal.practice_id == pid))
    }
    prefixes = {seed.name: PORTAL_REFERENCES[seed.key][0] for seed in PORTALS}
    rows = db.execute(
        select(m.Submission, m.Claim.payer_id)
        .join(m.Claim, m.Claim.id == m.Submission.claim_id)
        .where(m.Submission.practice_id == pid, m.Submission.previous_submission_id.is_(None))
    ).all()
    assert rows
    seen: Counter[str] = Counter()
    for submission, payer_id in rows:
        payer = settings[payer_id]
        assert submission.channel == payer.billing_route
        seen[submission.channel] += 1
        if submission.channel == "portal":
            assert submission.portal_id is not None
            assert submission.portal_id == payer.portal_id
            assert submission.reference.startswith(prefixes[portals[submission.portal_id]])
        elif submission.channel == "clearinghouse":
            assert submission.batch_id is not None
            assert submission.clearinghouse_reference.startswith("CH")
        elif submission.channel == "simplepractice":
            assert submission.reference.startswith("SPC-")
        assert submission.submitted_by_user_id is not None
    assert dict(seen) == summary.submitted_by_route
    assert len(seen) >= 2
    batches = db.scalars(select(m.SubmissionBatch).where(m.SubmissionBatch.practice_id == pid)).all()
    assert batches
    assert all(b.status != "queued" and b.interchange_control_number for b in batches)


def check_dates(db: Session, summary: DemoSummary) -> None:
    """Marked ready once the weekly export brought the session in and on or after the note was
    locked, sent after, by today's morning at the latest, within a week."""
    rows = db.execute(
        select(m.ServiceSession, m.Submission.submitted_at)
        .join(m.Charge, m.Charge.session_id == m.ServiceSession.id)
        .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
        .join(m.Submission, m.Submission.claim_id == m.ClaimLine.claim_id)
        .where(
            m.ServiceSession.practice_id == summary.practice_id, m.Submission.previous_submission_id.is_(None)
        )
    ).all()
    assert rows
    for service, submitted_at in rows:
        assert service.ready_at is not None
        assert service.note_locked_at is not None
        assert as_utc(service.created_at) < as_utc(service.ready_at) < as_utc(submitted_at)
        ready_on, sent_on = local_day(service.ready_at), local_day(submitted_at)
        assert local_day(service.note_locked_at) <= ready_on <= sent_on <= TODAY
        assert sent_on <= service.service_on + timedelta(days=7)
        if sent_on == TODAY:  # before the demo's noon
            assert submitted_at.astimezone(ZONE).hour < 12


def check_claim_history(db: Session, summary: DemoSummary) -> None:
    """A claim's last status change is dated on the demo's calendar (so overdue stages look
    overdue): never after today, and a claim still in flight changed status when it was sent."""
    pid = summary.practice_id
    last_sent = dict(
        db.execute(
            select(m.Submission.claim_id, func.max(m.Submission.submitted_at))
            .where(m.Submission.practice_id == pid)
            .group_by(m.Submission.claim_id)
        ).all()
    )
    claims = db.execute(
        select(m.Claim.id, m.Claim.status, m.Claim.status_changed_at).where(m.Claim.practice_id == pid)
    ).all()
    changed = [(claim_id, status, at) for claim_id, status, at in claims if at is not None]
    assert changed
    assert all(local_day(at) <= TODAY for _, _, at in changed)
    in_flight = [(claim_id, at) for claim_id, status, at in changed if status == "submitted"]
    for claim_id, at in in_flight:
        assert at == as_utc(last_sent[claim_id])
    old = [at for claim_id, status, at in changed if status == "paid"]
    assert min(local_day(at) for at in old) < TODAY - timedelta(days=90)
    # Every status change is dated when it happened, not when the demo was built: nothing
    # after today, a year of history, and no claim sent before it was ready.
    events = db.execute(
        select(m.ClaimEvent.claim_id, m.ClaimEvent.to_status, m.ClaimEvent.created_at).where(
            m.ClaimEvent.practice_id == pid
        )
    ).all()
    assert all(local_day(at) <= TODAY for _, _, at in events)
    assert min(local_day(at) for _, _, at in events) < TODAY - timedelta(days=300)
    first: dict[tuple[int, str], datetime] = {}
    for claim_id, status, at in events:
        first[(claim_id, status)] = min(at, first.get((claim_id, status), at))
    sent = [(claim_id, at) for (claim_id, status), at in first.items() if status == "submitted"]
    assert sent
    assert all(first[(claim_id, "ready")] <= at for claim_id, at in sent if (claim_id, "ready") in first)


def as_utc(moment: datetime) -> datetime:
    """An aggregate comes back without the column's type: naive on SQLite means UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


def check_overrides(db: Session, summary: DemoSummary) -> None:
    """Claims past the last shipped ICD-10-CM release: the warning overridden with a reason,
    by the billing login, audited; the claim then ready and sent like the others."""
    pid = summary.practice_id
    late = db.scalars(
        select(m.Claim.id).where(m.Claim.practice_id == pid, m.Claim.service_from_on > LAST_RELEASE_ENDS)
    ).all()
    assert late
    overrides = db.scalars(select(m.ScrubOverride).where(m.ScrubOverride.practice_id == pid)).all()
    assert summary.scrub_overrides == len(overrides)
    assert {o.claim_id for o in overrides} == set(late)
    billing = db.scalars(select(m.User.id).where(m.User.email == "billing@demo.test")).one()
    assert all(o.problem_code == "scrub.icd10_valid.no_release" and o.reason for o in overrides)
    assert all(o.user_id == billing for o in overrides)
    audited = db.scalar(
        select(func.count()).where(
            m.AuditLog.practice_id == pid,
            m.AuditLog.entity == "scrub_override",
            m.AuditLog.actor_user_id == billing,
        )
    )
    assert audited == len(overrides)
    statuses = db.scalars(select(m.Claim.status).where(m.Claim.id.in_(late))).all()
    assert "draft" not in statuses


def check_summary_and_alerts(db: Session, summary: DemoSummary) -> None:
    pid = summary.practice_id
    line = summary.flow_line()
    assert f"{len(summary.never_submitted)} billable sessions deliberately never submitted" in line
    assert summary.sessions_marked_ready >= summary.claims_built > 0
    assert line in summary.lines()
    # The alert rules ran at the end of the build: the sessions left behind are on the page.
    alerts = db.execute(
        select(m.WorkItem.rule, m.WorkItem.session_id).where(
            m.WorkItem.practice_id == pid, m.WorkItem.kind == ALERT_KIND, m.WorkItem.status == "open"
        )
    ).all()
    assert alerts
    alerted_sessions = {session_id for _, session_id in alerts if session_id is not None}
    assert alerted_sessions & set(summary.never_submitted)
