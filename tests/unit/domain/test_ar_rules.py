from __future__ import annotations

from datetime import date

import pytest

from revcycle.domain.ar_rules import (
    DEFAULT_RULES,
    ArClaimFacts,
    PayerKind,
    Rule,
    aging_bucket,
    aging_days,
    assign,
    claim_number_for,
    effective_aging_days,
    government_kind_from_name,
    is_government_payer,
    validate_rules,
)

TODAY = date(2026, 6, 30)


@pytest.mark.parametrize(
    ("days", "label"),
    [
        (0, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "91-120"),
        (120, "91-120"),
        (121, "121+"),
        (4000, "121+"),
        (-3, "0-30"),
    ],
)
def test_aging_buckets_have_inclusive_edges(days: int, label: str) -> None:
    assert aging_bucket(days).label == label


def test_aging_counts_days_since_service_and_never_negative() -> None:
    assert aging_days(date(2026, 6, 1), TODAY) == 29
    assert aging_days(date(2026, 7, 4), TODAY) == 0


def test_a_stated_aging_wins_over_the_date_of_service() -> None:
    assert effective_aging_days(12, date(2025, 1, 1), TODAY) == 12
    assert effective_aging_days(None, date(2026, 6, 20), TODAY) == 10


def _facts(
    balance: int = 10_000, days: int = 10, payer: str = "Aetna", kind: str | None = None
) -> ArClaimFacts:
    return ArClaimFacts(balance_cents=balance, aging_days=days, payer_name=payer, payer_kind=kind)


@pytest.mark.parametrize(
    ("facts", "team"),
    [
        (_facts(balance=100_001), "Senior Agent"),
        (_facts(balance=100_000), "General"),  # over $1,000, not at it
        (_facts(balance=250_000, days=200, payer="Medicare Part B"), "Senior Agent"),  # priority
        (_facts(days=91), "Escalation Team"),
        (_facts(days=90), "General"),
        (_facts(days=150, payer="NJ Medicaid"), "Escalation Team"),
        (_facts(payer="Novitas Solutions JL"), "Government Specialist"),
        (
            _facts(payer="AmeriChoice NJ  Medicaid  NJ Family Care (UnitedHealthcare Community Plan)"),
            "Government Specialist",
        ),
        (_facts(payer="Medi-Cal"), "Government Specialist"),
        (_facts(payer="Blue Cross", kind="medicaid"), "Government Specialist"),
        (_facts(payer="Medicare Supplement by Aetna", kind="commercial"), "General"),  # kind wins
        (_facts(payer="Tricare East"), "General"),
        (_facts(balance=-50_000), "General"),  # a credit balance is not a high balance
    ],
)
def test_default_rules_in_priority_order(facts: ArClaimFacts, team: str) -> None:
    assert assign(facts).team == team


def test_government_by_name_needs_whole_words() -> None:
    assert government_kind_from_name("Medicare") is PayerKind.MEDICARE
    assert government_kind_from_name("MassHealth") is PayerKind.MEDICAID
    assert government_kind_from_name("Medical Mutual of Ohio") is None
    assert government_kind_from_name("Chipotle Employee Plan") is None
    assert is_government_payer("medicare_advantage", "Humana Gold")
    assert not is_government_payer("tricare", "Tricare West")


def test_rules_are_data_that_can_be_reordered() -> None:
    rules = (DEFAULT_RULES[2], DEFAULT_RULES[0], DEFAULT_RULES[1], DEFAULT_RULES[3])
    facts = _facts(balance=500_000, payer="Medicare")
    assert assign(facts, rules).team == "Government Specialist"
    assert validate_rules(rules) == []


def test_rule_lists_must_end_with_a_catch_all() -> None:
    rules = (Rule("big", "Senior Agent", balance_over_cents=1), Rule("all", "General"), Rule("x", "X"))
    codes = [problem.code for problem in validate_rules(rules)]
    assert codes == ["ar_rules.unreachable"]
    assert [p.code for p in validate_rules(rules[:1])] == ["ar_rules.no_catch_all"]
    with pytest.raises(ValueError, match="catch-all"):
        assign(_facts(balance=0), rules[:1])


def test_claim_numbers_fit_clm01() -> None:
    assert claim_number_for(" CLM-000123 ") == "CLM-000123"
    assert claim_number_for("A" * 17) == "A" * 17
    long_ref = "EPIC-2024-000000012345-01"
    derived = claim_number_for(long_ref)
    assert len(derived) == 17
    assert derived.startswith("AR")
    assert derived == claim_number_for(long_ref)
    assert derived != claim_number_for(long_ref + "2")
