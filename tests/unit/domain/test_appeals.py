"""Appeals: the state table, levels, deadlines, urgency, the overturn rate, letter templates."""

from __future__ import annotations

from datetime import date

import pytest

from revcycle.domain import appeals as a

TODAY = date(2026, 6, 15)


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("draft", "submitted", True),
        ("draft", "withdrawn", True),
        ("draft", "won", False),
        ("submitted", "won", True),
        ("submitted", "partially_won", True),
        ("submitted", "lost", True),
        ("submitted", "withdrawn", True),
        ("submitted", "draft", False),
        ("won", "lost", False),
        ("lost", "submitted", False),
        ("withdrawn", "submitted", False),
    ],
)
def test_the_state_table(current: str, target: str, allowed: bool) -> None:
    assert (a.transition_refusal(current, target) is None) is allowed


def test_a_decided_appeal_points_to_the_next_level() -> None:
    assert "start the next level" in (a.transition_refusal("lost", "won") or "")
    assert "not an appeal status" in (a.transition_refusal("draft", "maybe") or "")


def test_a_next_level_only_after_a_lost_or_partial_decision_before_its_deadline() -> None:
    deadline = date(2026, 7, 1)
    assert a.next_level_refusal("lost", 1, deadline, TODAY) is None
    assert a.next_level_refusal("partially_won", 2, deadline, TODAY) is None
    assert "lost or partially won" in (a.next_level_refusal("won", 1, deadline, TODAY) or "")
    assert "lost or partially won" in (a.next_level_refusal("submitted", 1, deadline, TODAY) or "")
    assert "last level" in (a.next_level_refusal("lost", 3, deadline, TODAY) or "")
    assert "2026-07-01" in (a.next_level_refusal("lost", 1, deadline, date(2026, 7, 2)) or "")
    assert a.next_level_refusal("lost", 1, deadline, deadline) is None  # the last day still counts


def test_deadlines_on_a_fixed_calendar() -> None:
    denial_deadline = date(2026, 9, 1)
    first = a.deadline_for(
        1, denial_deadline_on=denial_deadline, previous_decided_on=None, appeal_days=90, started_on=TODAY
    )
    assert first == denial_deadline
    no_denial = a.deadline_for(
        1, denial_deadline_on=None, previous_decided_on=None, appeal_days=60, started_on=TODAY
    )
    assert no_denial == date(2026, 8, 14)
    second = a.deadline_for(
        2,
        denial_deadline_on=denial_deadline,
        previous_decided_on=date(2026, 10, 20),
        appeal_days=60,
        started_on=TODAY,
    )
    assert second == date(2026, 12, 19)


@pytest.mark.parametrize(
    ("deadline", "urgency", "severity"),
    [
        (date(2026, 6, 14), a.Urgency.OVERDUE, "critical"),
        (date(2026, 6, 15), a.Urgency.WITHIN_7, "critical"),
        (date(2026, 6, 22), a.Urgency.WITHIN_7, "critical"),
        (date(2026, 6, 23), a.Urgency.WITHIN_30, "warning"),
        (date(2026, 7, 15), a.Urgency.WITHIN_30, "warning"),
        (date(2026, 7, 16), a.Urgency.LATER, "info"),
    ],
)
def test_deadline_urgency(deadline: date, urgency: a.Urgency, severity: str) -> None:
    assert a.urgency_of(deadline, TODAY) is urgency
    assert a.severity_of(urgency) == severity


def test_the_overturn_rate_counts_won_and_partial_over_decided() -> None:
    result = a.tally(
        [
            ("won", 10000, 10000),
            ("won", 5000, 5000),
            ("won", 2000, 2000),
            ("partially_won", 10000, 4000),
            ("lost", 8000, 0),
            ("lost", 5000, 0),
            ("submitted", 9999, 0),  # not decided
            ("withdrawn", 9999, 0),
        ]
    )
    assert (result.won, result.partially_won, result.lost, result.decided) == (3, 1, 2, 6)
    assert result.overturn_percent == 67  # 4 / 6, half up
    assert result.appealed_cents == 40000
    assert result.recovered_cents == 21000
    assert result.recovered_percent == 53  # 52.5 -> 53
    assert a.tally([]).overturn_percent is None
    unknown_amount = a.tally([("won", 0, 5000), ("lost", 5000, 0)])
    assert (unknown_amount.appealed_cents, unknown_amount.recovered_percent) == (10000, 50)


FACTS = a.LetterFacts(
    today=TODAY,
    practice_name="Riverbend Counseling LLC",
    practice_address="12 Main St, Springfield, IL 62704",
    practice_phone="217-555-0100",
    practice_npi="1234567893",
    practice_tax_id="371234567",
    provider_name="Dana Reyes, LCSW",
    provider_npi="1497758544",
    client_name="Jane Doe",
    client_dob=date(1985, 2, 3),
    member_id="M1",
    payer_name="Blue River Health",
    claim_number="C000123",
    payer_claim_number="ICN555",
    service_from_on=date(2026, 3, 2),
    service_to_on=date(2026, 3, 2),
    lines=(a.LetterLine(date(2026, 3, 2), "90837", "95", 1, 15000),),
    billed_cents=15000,
    paid_cents=0,
    denied_cents=15000,
    denial_codes=(("CO-50", "Not medically necessary."),),
    denial_category="Medical necessity",
    level=1,
    appealed_cents=15000,
    argument="The treatment plan documents the need.",
    enclosures=("Treatment plan", "Progress notes"),
)


def test_a_template_renders_every_whitelisted_placeholder() -> None:
    body = " | ".join("{{ " + name + " }}" for name in a.PLACEHOLDERS)
    text, problems = a.render_template(body, a.letter_values(FACTS))
    assert problems == []
    assert "{{" not in text
    for expected in (
        "06/15/2026",
        "Jane Doe",
        "02/03/1985",
        "ICN555",
        "03/02/2026  90837 95  units 1  $150.00",
        "CO-50: Not medically necessary.",
        "First-level appeal",
        "- Treatment plan\n- Progress notes",
    ):
        assert expected in text


def test_an_unknown_placeholder_is_a_problem_naming_it() -> None:
    problems = a.check_template("Dear {{ payer.name }}, re {{ claim.numbr }} and {{client.ssn}}", "body")
    assert [p.code for p in problems] == ["appeal_template.unknown_placeholder"] * 2
    assert "{{ claim.numbr }}" in problems[0].message
    assert "{{ client.ssn }}" in problems[1].message
    assert problems[0].where == "body"
    text, found = a.render_template("Hello {{ nope }}", a.letter_values(FACTS))
    assert text == "Hello {{ nope }}"  # left as written, reported, never an exception
    assert len(found) == 1


def test_an_unclosed_placeholder_is_a_problem() -> None:
    problems = a.check_template("Dear {{ payer.name", "subject")
    assert [p.code for p in problems] == ["appeal_template.unclosed"]
