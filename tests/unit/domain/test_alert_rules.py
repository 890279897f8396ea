"""The alert rules on a fixed calendar: each rule fires one day past its limit, not on it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from revcycle.domain.alert_rules import (
    ClaimAlertFacts,
    OwnerRole,
    PracticeAlertFacts,
    SessionAlertFacts,
    Severity,
    evaluate,
    filing_severity,
)
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.pipeline import PipelineStage

TODAY = date(2026, 3, 20)
G = PipelineStage
S = ClaimStatus


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def session(stage: PipelineStage = G.COMPLETED, **values: object) -> SessionAlertFacts:
    base: dict[str, object] = {"session_id": 1, "client_id": 7, "stage": stage, "service_on": ago(1)}
    return SessionAlertFacts(**{**base, **values})  # type: ignore[arg-type]


def claim(status: ClaimStatus, **values: object) -> ClaimAlertFacts:
    base: dict[str, object] = {
        "claim_id": 5,
        "client_id": 7,
        "status": status,
        "service_on": ago(1),
        "stage_since_on": ago(1),
    }
    return ClaimAlertFacts(**{**base, **values})  # type: ignore[arg-type]


def rules_for_session(facts: SessionAlertFacts) -> set[str]:
    return {match.rule for match in evaluate(today=TODAY, sessions=[facts])}


def rules_for_claim(facts: ClaimAlertFacts) -> set[str]:
    return {match.rule for match in evaluate(today=TODAY, claims=[facts])}


# --- sessions ----------------------------------------------------------------------------------


def test_completed_without_a_note_fires_after_three_days_for_the_director() -> None:
    assert "completed_no_note" not in rules_for_session(session(service_on=ago(3)))
    [match] = evaluate(today=TODAY, sessions=[session(service_on=ago(4))])
    assert (match.rule, match.owner_role, match.finding.severity) == (
        "completed_no_note",
        OwnerRole.DIRECTOR,
        Severity.WARNING,
    )
    assert match.dedupe_key == "alert:completed_no_note:session:1"
    assert "4 days" in match.finding.detail


def test_completed_rule_ignores_a_documented_session() -> None:
    assert "completed_no_note" not in rules_for_session(
        session(G.DOCUMENTED, service_on=ago(10), note_locked_on=ago(1))
    )


def test_documented_not_ready_counts_from_the_note_lock() -> None:
    five = session(G.DOCUMENTED, service_on=ago(30), note_locked_on=ago(5))
    six = session(G.DOCUMENTED, service_on=ago(30), note_locked_on=ago(6))
    assert "documented_not_ready" not in rules_for_session(five)
    [match] = evaluate(today=TODAY, sessions=[six])
    assert (match.rule, match.owner_role) == ("documented_not_ready", OwnerRole.BILLING)


def test_documented_and_marked_ready_is_the_ready_rule_not_the_documented_one() -> None:
    facts = session(G.DOCUMENTED, service_on=ago(30), note_locked_on=ago(20), ready_on=ago(8))
    assert rules_for_session(facts) == {"ready_not_submitted"}


def test_ready_to_bill_fires_after_seven_days() -> None:
    assert "ready_not_submitted" not in rules_for_session(session(G.READY_TO_BILL, ready_on=ago(7)))
    assert "ready_not_submitted" in rules_for_session(session(G.READY_TO_BILL, ready_on=ago(8)))


def test_needs_review_raises_no_stage_alert() -> None:
    facts = session(G.NEEDS_REVIEW, service_on=ago(40), note_locked_on=ago(30), ready_on=ago(30))
    assert rules_for_session(facts) == set()


# --- claims ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "rule", "limit", "owner"),
    [
        (S.SUBMITTED, "submitted_no_response", 14, OwnerRole.BILLING),
        (S.ACKNOWLEDGED, "submitted_no_response", 14, OwnerRole.BILLING),
        (S.ACCEPTED, "pending_too_long", 30, OwnerRole.BILLING),
        (S.ADJUDICATED, "approved_unpaid", 45, OwnerRole.ADMIN),
        (S.APPEALED, "appealing_too_long", 60, OwnerRole.BILLING),
    ],
)
def test_a_claim_stuck_at_a_stage_fires_one_day_past_the_limit(
    status: ClaimStatus, rule: str, limit: int, owner: OwnerRole
) -> None:
    assert rule not in rules_for_claim(claim(status, stage_since_on=ago(limit)))
    matches = evaluate(today=TODAY, claims=[claim(status, stage_since_on=ago(limit + 1))])
    [match] = [m for m in matches if m.rule == rule]
    assert match.owner_role == owner
    assert match.finding.severity == Severity.WARNING


def test_stage_limits_apply_only_to_their_own_status() -> None:
    assert rules_for_claim(claim(S.ACCEPTED, stage_since_on=ago(20))) == set()
    assert rules_for_claim(claim(S.SUBMITTED, stage_since_on=ago(20))) == {"submitted_no_response"}


def test_any_denial_raises_one_alert_for_billing_and_one_for_the_director() -> None:
    denied = claim(S.DENIED, stage_since_on=ago(0), appeal_deadline_on=TODAY + timedelta(days=180))
    matches = evaluate(today=TODAY, claims=[denied])
    assert {(m.rule, m.owner_role) for m in matches} == {
        ("claim_denied", OwnerRole.BILLING),
        ("claim_denied", OwnerRole.DIRECTOR),
    }
    assert {m.dedupe_key for m in matches} == {
        "alert:claim_denied:claim:5:billing",
        "alert:claim_denied:claim:5:director",
    }
    assert all(m.finding.severity == Severity.CRITICAL for m in matches)
    assert all(m.finding.due_on == TODAY + timedelta(days=180) for m in matches)
    assert rules_for_claim(claim(S.PAID)) == set()


def test_any_open_claim_over_ninety_days_since_service_is_critical_for_admin() -> None:
    assert "open_over_90_days" not in rules_for_claim(claim(S.ACCEPTED, service_on=ago(90)))
    [match] = [
        m
        for m in evaluate(today=TODAY, claims=[claim(S.ACCEPTED, service_on=ago(91))])
        if m.rule == "open_over_90_days"
    ]
    assert (match.owner_role, match.finding.severity) == (OwnerRole.ADMIN, Severity.CRITICAL)
    # Paid claims are not open work.
    assert "open_over_90_days" not in rules_for_claim(claim(S.PAID, service_on=ago(200)))


# --- timely filing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_left", "severity"),
    [
        (31, None),
        (30, Severity.WARNING),
        (8, Severity.WARNING),
        (7, Severity.CRITICAL),
        (-1, Severity.CRITICAL),
    ],
)
def test_filing_severity_by_days_left(days_left: int, severity: Severity | None) -> None:
    assert filing_severity(TODAY + timedelta(days=days_left), TODAY) == severity


def test_an_unbilled_session_carries_its_filing_deadline() -> None:
    deadline = TODAY + timedelta(days=7)
    facts = session(G.DOCUMENTED, note_locked_on=ago(1), unbilled=True, filing_deadline_on=deadline)
    [match] = evaluate(today=TODAY, sessions=[facts])
    assert (match.rule, match.finding.severity, match.finding.due_on) == (
        "timely_filing",
        Severity.CRITICAL,
        deadline,
    )
    assert match.dedupe_key == "alert:timely_filing:session:1"


def test_a_session_on_a_claim_or_not_insured_leaves_filing_to_the_claim() -> None:
    deadline = TODAY + timedelta(days=3)
    on_claim = session(G.READY_TO_BILL, unbilled=True, on_claim=True, filing_deadline_on=deadline)
    uninsured = session(G.DOCUMENTED, note_locked_on=ago(1), unbilled=False, filing_deadline_on=deadline)
    assert "timely_filing" not in rules_for_session(on_claim)
    assert "timely_filing" not in rules_for_session(uninsured)


def test_a_claim_filing_deadline_matters_until_the_payer_has_it() -> None:
    past = TODAY - timedelta(days=1)
    [match] = evaluate(today=TODAY, claims=[claim(S.READY, filing_deadline_on=past)])
    assert match.rule == "timely_filing"
    assert "passed" in match.finding.detail
    assert "timely_filing" in rules_for_claim(claim(S.REJECTED, filing_deadline_on=past))
    assert "timely_filing" not in rules_for_claim(claim(S.ACCEPTED, filing_deadline_on=past))


# --- the practice ------------------------------------------------------------------------------


def test_more_than_ten_unbilled_sessions_raises_the_practice_alert() -> None:
    assert evaluate(today=TODAY, practice=PracticeAlertFacts(3, 10)) == []
    [match] = evaluate(today=TODAY, practice=PracticeAlertFacts(3, 11))
    assert (match.rule, match.owner_role, match.dedupe_key) == (
        "unbilled_sessions",
        OwnerRole.DIRECTOR,
        "alert:unbilled_sessions:practice:3",
    )
    assert "11 sessions" in match.finding.detail
