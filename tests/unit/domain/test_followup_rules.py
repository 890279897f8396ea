"""The follow-up rules on a fixed calendar (no clock is read)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.followup_rules import (
    KIND_EXPECTED_DAYS,
    ClaimFollowupFacts,
    FollowupRule,
    QuietWindow,
    Urgency,
    decide,
    expected_days_for,
    learned_expected_days,
    urgency_of,
    validate_rule,
)

SENT = date(2026, 3, 2)
RULE = FollowupRule(label="payer 1 v1", grace_days=5, repeat_days=14, escalate_after_days=60)


def facts(status: ClaimStatus = ClaimStatus.SUBMITTED, next_on: date | None = None) -> ClaimFollowupFacts:
    return ClaimFollowupFacts(1, status, SENT, next_on)


def test_the_first_follow_up_is_submission_plus_expected_days_plus_grace() -> None:
    found = decide(facts(), RULE, 20, today=date(2026, 3, 10))
    assert found is not None
    assert found.due_on == date(2026, 3, 27)  # 2 March + 20 + 5
    assert not found.escalated
    assert "expected paid in 20 days" in found.reason


def test_a_payer_that_pays_in_20_days_is_followed_up_on_day_25() -> None:
    found = decide(facts(), RULE, 20, today=SENT)
    assert found is not None
    assert (found.due_on - SENT).days == 25


def test_a_note_sets_the_next_date() -> None:
    found = decide(facts(next_on=date(2026, 4, 20)), RULE, 20, today=date(2026, 4, 1))
    assert found is not None
    assert found.due_on == date(2026, 4, 20)
    assert "next follow-up set for 2026-04-20" in found.reason


def test_a_date_in_a_quiet_window_moves_past_it_even_into_the_next_one() -> None:
    windows = (
        QuietWindow(date(2026, 3, 26), date(2026, 3, 28), "system maintenance"),
        QuietWindow(date(2026, 3, 29), date(2026, 3, 30)),
    )
    rule = FollowupRule(label="quiet", quiet_windows=windows)
    found = decide(facts(), rule, 20, today=date(2026, 3, 10))
    assert found is not None
    assert found.due_on == date(2026, 3, 31)
    assert "quiet window" in found.reason


def test_escalation_after_n_days_whatever_the_date_says() -> None:
    later = date(2026, 6, 1)
    found = decide(facts(next_on=date(2026, 7, 1)), RULE, 20, today=SENT + timedelta(days=60))
    assert found is not None
    assert found.escalated
    assert urgency_of(found.due_on, found.escalated, SENT + timedelta(days=60)) is Urgency.NOW
    not_yet = decide(facts(next_on=later), RULE, 20, today=SENT + timedelta(days=59))
    assert not_yet is not None
    assert not not_yet.escalated


@pytest.mark.parametrize(
    "status", [ClaimStatus.PAID, ClaimStatus.DENIED, ClaimStatus.DRAFT, ClaimStatus.VOID]
)
def test_claims_not_waiting_on_the_payer_need_no_follow_up(status: ClaimStatus) -> None:
    assert decide(facts(status), RULE, 20, today=SENT) is None


def test_the_groups_of_a_queue() -> None:
    today = date(2026, 4, 1)
    assert urgency_of(today, False, today) is Urgency.NOW
    assert urgency_of(today - timedelta(days=3), False, today) is Urgency.NOW
    assert urgency_of(today + timedelta(days=7), False, today) is Urgency.WEEK
    assert urgency_of(today + timedelta(days=8), False, today) is Urgency.ON_TRACK
    assert urgency_of(today + timedelta(days=30), True, today) is Urgency.NOW


def test_expected_days_are_learned_from_ten_payments_at_the_80th_percentile() -> None:
    assert learned_expected_days([20] * 9) is None
    history = [12, 15, 18, 18, 20, 21, 22, 25, 30, 60]
    assert learned_expected_days(history) == 25  # nearest rank: the 8th of 10
    assert learned_expected_days([*history, 40, 41]) == 40  # 12 values: rank ceil(9.6) = 10


def test_where_the_expected_days_come_from() -> None:
    assert expected_days_for(FollowupRule("x", expected_days=40), 25, "medicaid") == (40, "configured")
    assert expected_days_for(FollowupRule("x"), 25, "medicaid") == (25, "learned")
    assert expected_days_for(FollowupRule("x"), None, "medicaid") == (
        KIND_EXPECTED_DAYS["medicaid"],
        "usual for medicaid",
    )


def test_a_rule_an_admin_writes_is_checked() -> None:
    assert validate_rule(RULE) == []
    bad = FollowupRule(
        "bad",
        expected_days=0,
        grace_days=-1,
        repeat_days=0,
        escalate_after_days=0,
        quiet_windows=(QuietWindow(date(2026, 3, 5), date(2026, 3, 1)),),
    )
    assert [p.where for p in validate_rule(bad)] == [
        "expected_days",
        "grace_days",
        "repeat_days",
        "escalate_after_days",
        "quiet_windows[1]",
    ]
