from __future__ import annotations

from datetime import date

import pytest

from revcycle.domain.payer_strategy import (
    ItemFacts,
    PayerFigures,
    Priority,
    Workflow,
    measure,
    outcome_of,
    parse_workflow,
    priority_of,
    priority_score_cents,
    suggest_workflow,
)

JOINED = date(2026, 10, 1)


def figures(**changes: object) -> PayerFigures:
    values: dict[str, object] = {
        "open_balance_cents": 100_000,
        "open_claims": 5,
        "collection_rate": 0.6,
        "avg_days_to_resolve": 20.0,
        "decided": 10,
        "denied": 1,
        "aged_balance_cents": 0,
        "billing_route": "clearinghouse",
    }
    values.update(changes)
    return PayerFigures(**values)  # type: ignore[arg-type]


# --- priority ----------------------------------------------------------------------------------


def test_a_payer_at_the_practice_rate_and_fast_scores_its_open_dollars() -> None:
    assert priority_score_cents(figures(), practice_rate=0.6) == 100_000
    assert priority_of(figures(), practice_rate=0.6) is Priority.MEDIUM


def test_lag_and_slowness_weigh_the_open_dollars() -> None:
    # rate 0.3 against 0.6: lag 0.5; 45 days: slowness (45-30)/30 = 0.5 -> x2
    slow = figures(collection_rate=0.3, avg_days_to_resolve=45.0)
    assert priority_score_cents(slow, practice_rate=0.6) == 200_000


def test_lag_and_slowness_are_capped_so_the_weight_is_at_most_three() -> None:
    worst = figures(collection_rate=0.0, avg_days_to_resolve=400.0)
    assert priority_score_cents(worst, practice_rate=0.6) == 300_000


def test_a_payer_with_no_history_gets_half_a_lag() -> None:
    unknown = figures(collection_rate=None, avg_days_to_resolve=None)
    assert priority_score_cents(unknown, practice_rate=0.6) == 150_000


@pytest.mark.parametrize(
    ("open_cents", "expected"),
    [
        (500_000, Priority.HIGH),
        (499_999, Priority.MEDIUM),
        (100_000, Priority.MEDIUM),
        (99_999, Priority.LOW),
        (0, Priority.LOW),
    ],
)
def test_priority_thresholds(open_cents: int, expected: Priority) -> None:
    assert priority_of(figures(open_balance_cents=open_cents), practice_rate=0.6) is expected


def test_a_lagging_payer_moves_up_a_band() -> None:
    assert priority_of(figures(open_balance_cents=300_000), practice_rate=0.6) is Priority.MEDIUM
    lagging = figures(open_balance_cents=300_000, collection_rate=0.2, avg_days_to_resolve=60.0)
    assert priority_of(lagging, practice_rate=0.6) is Priority.HIGH


# --- suggestions -------------------------------------------------------------------------------


def test_a_payer_denying_a_quarter_of_its_decisions_is_appealed() -> None:
    suggestion = suggest_workflow(figures(decided=8, denied=2))
    assert suggestion.workflow is Workflow.APPEAL
    assert "25%" in suggestion.reason


def test_too_few_decisions_do_not_make_an_appeal() -> None:
    assert suggest_workflow(figures(decided=3, denied=3)).workflow is Workflow.EMAIL


def test_large_aged_balances_are_negotiated() -> None:
    assert suggest_workflow(figures(aged_balance_cents=200_000)).workflow is Workflow.NEGOTIATION
    assert suggest_workflow(figures(aged_balance_cents=199_999)).workflow is Workflow.EMAIL


def test_denials_come_before_aged_balances() -> None:
    both = figures(decided=4, denied=2, aged_balance_cents=900_000)
    assert suggest_workflow(both).workflow is Workflow.APPEAL


def test_a_portal_route_payer_is_worked_on_its_portal() -> None:
    assert suggest_workflow(figures(billing_route="portal")).workflow is Workflow.PORTAL


def test_slow_but_paying_is_called_and_slow_and_not_paying_is_not() -> None:
    assert suggest_workflow(figures(avg_days_to_resolve=46.0)).workflow is Workflow.PHONE
    assert suggest_workflow(figures(avg_days_to_resolve=45.0)).workflow is Workflow.EMAIL
    assert suggest_workflow(figures(avg_days_to_resolve=60.0, collection_rate=0.0)).workflow is Workflow.EMAIL


def test_workflow_names_are_parsed_leniently_and_unknown_ones_refused() -> None:
    assert parse_workflow(" Phone ") is Workflow.PHONE
    assert parse_workflow("fax") is None
    assert Workflow.EMAIL.label == "E-mail"


# --- campaign measures -------------------------------------------------------------------------


def test_a_note_on_the_day_it_joined_is_an_attempt_and_one_before_is_not() -> None:
    before = outcome_of(ItemFacts(JOINED, note_days=(date(2026, 9, 30),)))
    same_day = outcome_of(ItemFacts(JOINED, note_days=(JOINED, date(2026, 10, 3))))
    assert (before.attempted, same_day.attempts) == (False, 2)


def test_only_payments_after_the_day_it_joined_count() -> None:
    outcome = outcome_of(
        ItemFacts(
            JOINED, payments=((JOINED, 5_000), (date(2026, 10, 11), 7_000), (date(2026, 10, 20), 1_000))
        )
    )
    assert outcome.first_payment_on == date(2026, 10, 11)
    assert (outcome.paid_cents, outcome.days_to_payment) == (8_000, 10)


def test_a_payment_reversed_whole_is_not_a_payment() -> None:
    outcome = outcome_of(
        ItemFacts(JOINED, payments=((date(2026, 10, 5), 7_000), (date(2026, 10, 6), -7_000)))
    )
    assert not outcome.paid
    assert outcome.paid_cents == 0


def test_success_rate_and_days_to_payment_on_fixed_facts() -> None:
    outcomes = [
        outcome_of(ItemFacts(JOINED, (date(2026, 10, 2),), ((date(2026, 10, 5), 10_000),))),  # 4 days
        outcome_of(ItemFacts(JOINED, (date(2026, 10, 2),), ((date(2026, 10, 21), 5_000),))),  # 20 days
        outcome_of(ItemFacts(JOINED, (date(2026, 10, 3),))),  # attempted, not paid
        outcome_of(ItemFacts(JOINED, (), ((date(2026, 10, 9), 2_500),))),  # paid, never attempted: 8 days
        outcome_of(ItemFacts(JOINED)),
    ]
    result = measure(outcomes)
    assert (result.items, result.attempted, result.paid, result.paid_after_attempt) == (5, 3, 3, 2)
    assert result.success_rate == pytest.approx(2 / 3)
    assert result.median_days_to_payment == 8.0
    assert result.mean_days_to_payment == pytest.approx(32 / 3)
    assert result.collected_cents == 17_500


def test_nothing_attempted_has_no_success_rate() -> None:
    result = measure([outcome_of(ItemFacts(JOINED)), outcome_of(ItemFacts(JOINED))])
    assert result.attempted == 0
    assert result.success_rate is None
    assert result.median_days_to_payment is None
    assert measure([]).success_rate is None
