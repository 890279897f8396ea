"""The expected amount a payer should allow, rate table checks and the contract expiry alert,
on a fixed calendar."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from revcycle.adapters.rate_table_csv import read_rate_table, write_rate_table
from revcycle.domain.alert_rules import ContractAlertFacts, contract_expiring, evaluate
from revcycle.domain.rate_tables import (
    CONTRACT,
    FEE_SCHEDULE,
    PricedTable,
    RateRow,
    check_rates,
    expected,
    modifier_key,
)

JAN, JUL, DEC = date(2026, 1, 1), date(2026, 7, 1), date(2026, 12, 31)


def table(
    source: str, table_id: int, starts_on: date, ends_on: date | None, rates: dict[tuple[str, str], int]
) -> PricedTable:
    by_code: dict[str, dict[str, tuple[int, str]]] = {}
    for (code, modifiers), cents in rates.items():
        by_code.setdefault(code, {})[modifier_key(modifiers)] = (cents, modifiers)
    return PricedTable(source, table_id, f"{source}-{table_id}", starts_on, ends_on, by_code)


CONTRACT_2026 = table(CONTRACT, 1, JAN, DEC, {("90837", ""): 12000, ("90837", "95:HO"): 11500})
SCHEDULE = table(FEE_SCHEDULE, 2, date(2020, 1, 1), None, {("90837", ""): 10000, ("90834", ""): 8000})


def test_the_contract_in_force_wins_over_the_payer_schedule() -> None:
    found = expected([CONTRACT_2026, SCHEDULE], procedure_code="90837", modifiers="", service_on=JUL)
    assert found is not None
    assert (found.source, found.source_id, found.amount_cents) == (CONTRACT, 1, 12000)
    assert found.cited == "contract contract-1, 90837"


def test_a_code_the_contract_does_not_price_falls_to_the_schedule() -> None:
    found = expected([CONTRACT_2026, SCHEDULE], procedure_code="90834", modifiers="", service_on=JUL)
    assert found is not None
    assert (found.source, found.amount_cents) == (FEE_SCHEDULE, 8000)
    assert found.cited == "fee schedule fee_schedule-2, 90834"


@pytest.mark.parametrize("modifiers", ["95:HO", "HO:95", "ho 95", "95,ho"])
def test_modifiers_match_in_any_order(modifiers: str) -> None:
    found = expected([CONTRACT_2026], procedure_code="90837", modifiers=modifiers, service_on=JUL)
    assert found is not None
    assert (found.unit_cents, found.rate_modifiers) == (11500, "95:HO")


def test_other_modifiers_take_the_codes_own_rate() -> None:
    found = expected([CONTRACT_2026], procedure_code="90837", modifiers="GT", service_on=JUL)
    assert found is not None
    assert (found.unit_cents, found.rate_modifiers, found.modifiers) == (12000, "", "GT")
    partial = expected([CONTRACT_2026], procedure_code="90837", modifiers="95", service_on=JUL)
    assert partial is not None
    assert partial.unit_cents == 12000  # a subset of the row's modifiers is not the row


@pytest.mark.parametrize(
    ("day", "source"),
    [(date(2025, 12, 31), FEE_SCHEDULE), (JAN, CONTRACT), (DEC, CONTRACT), (date(2027, 1, 1), FEE_SCHEDULE)],
)
def test_the_contract_counts_on_its_dates_only(day: date, source: str) -> None:
    found = expected([CONTRACT_2026, SCHEDULE], procedure_code="90837", modifiers="", service_on=day)
    assert found is not None
    assert found.source == source


def test_the_first_table_given_in_force_wins_and_units_multiply() -> None:
    renewal = table(CONTRACT, 3, JUL, None, {("90837", ""): 13000})
    found = expected(
        [renewal, CONTRACT_2026, SCHEDULE], procedure_code="90837", modifiers="", service_on=JUL, units=2
    )
    assert found is not None
    assert (found.source_id, found.unit_cents, found.amount_cents) == (3, 13000, 26000)
    before = expected(
        [renewal, CONTRACT_2026], procedure_code="90837", modifiers="", service_on=date(2026, 6, 30)
    )
    assert before is not None
    assert before.source_id == 1


def test_nothing_expected_without_a_table_pricing_the_code() -> None:
    assert expected([CONTRACT_2026, SCHEDULE], procedure_code="90791", modifiers="", service_on=JUL) is None
    assert expected([], procedure_code="90837", modifiers="", service_on=JUL) is None
    assert (
        expected([CONTRACT_2026], procedure_code="90837", modifiers="", service_on=date(2027, 2, 1)) is None
    )


def test_check_rates_names_each_bad_row_and_column() -> None:
    problems = check_rates(
        [
            RateRow("90837", "", 100, "row 2"),
            RateRow("9083", "", 100, "row 3"),
            RateRow("90834", "9", 100, "row 4"),
            RateRow("90834", "", -1, "row 5"),
            RateRow("90837", "HO:95", 100, "row 6"),
            RateRow("90837", "95:HO", 100, "row 7"),
        ]
    )
    assert [(p.code, p.where) for p in problems] == [
        ("rates.bad_code", "row 3, column procedure_code"),
        ("rates.bad_modifier", "row 4, column modifiers"),
        ("rates.bad_amount", "row 5, column amount"),
        ("rates.duplicate", "row 7, column procedure_code"),
    ]
    assert "row 6" in problems[-1].message


def test_the_csv_reads_back_what_it_writes() -> None:
    rows = [RateRow("90837", "", 15000), RateRow("90837", "95:HO", 14550), RateRow("G0444", "", 1)]
    text = write_rate_table(rows)
    assert text.splitlines()[:2] == ["procedure_code,modifiers,amount", "90837,,150.00"]
    back, problems = read_rate_table(text.encode(), "rates.csv")
    assert problems == []
    assert [(r.procedure_code, r.modifiers, r.amount_cents) for r in back] == [
        (r.procedure_code, r.modifiers, r.amount_cents) for r in rows
    ]


def test_a_bad_csv_is_refused_row_by_row() -> None:
    data = b"procedure_code,modifiers,amount\n90837,,150\n90834,,12.345\nXX,,10\n90837,,$1\n"
    rows, problems = read_rate_table(data, "rates.csv")
    assert [(p.code, p.where) for p in problems] == [
        ("rates.bad_amount", "row 3, column amount"),
        ("rates.bad_code", "row 4, column procedure_code"),
        ("rates.duplicate", "row 5, column procedure_code"),
    ]
    assert len(rows) == 3  # parsed, but the caller refuses the file
    _, header = read_rate_table(b"code,amount\n90837,1\n", "rates.csv")
    assert {p.code for p in header} == {"rates.unknown_column", "rates.missing_column"}
    _, binary = read_rate_table(b"\xff\xfe\x00", "rates.csv")
    assert binary[0].code == "rates.encoding"


# --- the contract expiry alert ------------------------------------------------------------------

TODAY = date(2026, 3, 20)


def ending(days: int, next_in: int | None = None) -> ContractAlertFacts:
    ends_on = TODAY + timedelta(days=days)
    next_on = ends_on + timedelta(days=next_in) if next_in is not None else None
    return ContractAlertFacts(7, "RCG-7", "Aetna", ends_on, next_on)


@pytest.mark.parametrize(
    ("days", "severity"),
    [(61, None), (60, "warning"), (15, "warning"), (14, "critical"), (0, "critical"), (-1, None)],
)
def test_a_contract_ending_within_60_days_warns_within_14_is_critical(
    days: int, severity: str | None
) -> None:
    finding = contract_expiring(ending(days), TODAY)
    assert (finding.severity if finding else None) == severity
    if finding is not None:
        assert finding.due_on == TODAY + timedelta(days=days)
        assert finding.detail.startswith(f"contract RCG-7 with Aetna ends on {TODAY + timedelta(days=days)}")


def test_a_renewal_starting_by_the_day_after_clears_it_a_gap_does_not() -> None:
    assert contract_expiring(ending(30, next_in=1), TODAY) is None
    assert contract_expiring(ending(30, next_in=-20), TODAY) is None  # renewed early
    gap = contract_expiring(ending(30, next_in=5), TODAY)
    assert gap is not None
    assert "the next starts on 2026-04-24" in gap.detail


def test_evaluate_raises_one_admin_alert_per_contract() -> None:
    matches = evaluate(today=TODAY, contracts=[ending(10), ending(90)])
    assert [(x.rule, x.subject, x.subject_id, x.owner_role, x.dedupe_key) for x in matches] == [
        ("contract_expiring", "contract", 7, "admin", "alert:contract_expiring:contract:7")
    ]
