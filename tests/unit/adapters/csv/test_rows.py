"""Values inside rows: payers as exports name them, billable codes, amounts, dates."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revcycle.adapters.csv import PayerRef
from revcycle.adapters.csv.rows import is_cpt_code
from revcycle.adapters.csv.values import CellError, parse_amount, parse_count, parse_datetime, parse_time
from revcycle.money import MoneyError, parse_cents


@pytest.mark.parametrize(
    ("text", "payer"),
    [
        ("Tricare East (99727)", PayerRef("Tricare East", "99727")),
        (
            "AmeriChoice NJ  Medicaid  NJ Family Care (UnitedHealthcare Community Plan) (86047)",
            PayerRef("AmeriChoice NJ Medicaid NJ Family Care (UnitedHealthcare Community Plan)", "86047"),
        ),
        (
            "  Horizon Blue Cross Blue Shield of New Jersey (22099) ",
            PayerRef("Horizon Blue Cross Blue Shield of New Jersey", "22099"),
        ),
        ("Medicare Part B ( 12402 )", PayerRef("Medicare Part B", "12402")),
        ("Optum (SX107)", PayerRef("Optum", "SX107")),
        ("Aetna (PPO)", PayerRef("Aetna (PPO)")),  # a plan type, not an id
        ("Cigna", PayerRef("Cigna")),
        ("Plan (UnitedHealthcare Community Plan)", PayerRef("Plan (UnitedHealthcare Community Plan)")),
        ("Odd (12)", PayerRef("Odd (12)")),  # too short for an id
        ("Unbalanced 12345)", PayerRef("Unbalanced 12345)")),
        ("(99727)", PayerRef("(99727)")),  # an id with no name is only a name
    ],
)
def test_payer_name_and_id(text: str, payer: PayerRef) -> None:
    assert PayerRef.parse(text) == payer


@pytest.mark.parametrize("text", ["--", "", "   ", " -- "])
def test_no_payer(text: str) -> None:
    assert PayerRef.parse(text) is None


@pytest.mark.parametrize(
    ("code", "billable"),
    [
        ("90837", True),
        ("90837 ", True),
        ("90785", True),
        ("H0031", True),
        ("h2019", True),
        ("0591T", True),
        ("111", False),
        ("NOSHOW", False),
        ("9083", False),
        ("908377", False),
        ("", False),
    ],
)
def test_billable_codes(code: str, billable: bool) -> None:
    assert is_cpt_code(code) is billable


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("$3,033.66", 303366),
        ("160.0 ", 16000),
        ("(12.00)", -1200),
        ("-10.0 ", -1000),
        ("0", 0),
        ("$1,200.00", 120000),
    ],
)
def test_amounts(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12.3.4", '"12.3.4" is not an amount: it is not a money amount (expected e.g. 1,234.56)'),
        ("1.005", '"1.005" is not an amount: it has a fraction of a cent (amounts are never rounded)'),
        ("1,23", '"1,23" is not an amount: it is not a money amount (expected e.g. 1,234.56)'),
    ],
)
def test_impossible_amounts(text: str, message: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_amount(text)
    assert caught.value.message == message


amount_text = st.one_of(
    st.from_regex(r"\A *-?\$?[0-9]{1,3}(,[0-9]{3}){0,5}(\.[0-9]{0,4})? *\Z", fullmatch=True),
    st.from_regex(r"\A-?\$?[0-9]{1,20}(\.[0-9]{1,3})?\Z", fullmatch=True),
    st.text(alphabet="0123456789$,.-() ", max_size=14),
)


@given(amount_text)
def test_the_fast_path_agrees_with_parse_cents(text: str) -> None:
    try:
        expected: int | None = parse_cents(text)
    except MoneyError:
        expected = None
    try:
        got: int | None = parse_amount(text)
    except CellError:
        got = None
    assert got == expected


@pytest.mark.parametrize(
    ("text", "moment", "has_time"),
    [
        ("10/06/2025 12:00", datetime(2025, 10, 6, 12, 0), True),
        ("10/6/2025 9:05", datetime(2025, 10, 6, 9, 5), True),
        ("10/06/2025 12:00 AM", datetime(2025, 10, 6, 0, 0), True),
        ("10/06/2025 1:30 pm", datetime(2025, 10, 6, 13, 30), True),
        ("10/06/2025 14:00:30", datetime(2025, 10, 6, 14, 0, 30), True),
        ("10/06/2025", datetime(2025, 10, 6), False),
        ("2025-10-06", datetime(2025, 10, 6), False),
        ("2025-10-06T08:15", datetime(2025, 10, 6, 8, 15), True),
        (" 02/29/2024 ", datetime(2024, 2, 29), False),
    ],
)
def test_dates(text: str, moment: datetime, has_time: bool) -> None:
    assert parse_datetime(text) == (moment, has_time)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("02/30/2025", '"02/30/2025" is not a date on the calendar (day is out of range for month)'),
        ("13/01/2025", '"13/01/2025" is not a date on the calendar (month must be in 1..12)'),
        ("10/06/2025 25:00", '"10/06/2025 25:00" is not a date on the calendar (hour must be in 0..23)'),
        ("10/06/25", '"10/06/25" is not a date (expected MM/DD/YYYY or MM/DD/YYYY HH:MM)'),
        ("next week", '"next week" is not a date (expected MM/DD/YYYY or MM/DD/YYYY HH:MM)'),
        ("10/06/2025 13:00 PM", '"10/06/2025 13:00 PM" is not a time of day (hour 13 with PM)'),
    ],
)
def test_impossible_dates(text: str, message: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_datetime(text)
    assert caught.value.message == message
    assert caught.value.code == "csv.date"


def test_times_and_counts() -> None:
    assert parse_time("12:53 PM") == time(12, 53)
    assert parse_time("9:00") == time(9, 0)
    assert parse_count(" 2 ") == 2
    assert parse_count("1.0") == 1
    with pytest.raises(CellError, match=r'"1\.5" is not a whole number'):
        parse_count("1.5")
    with pytest.raises(CellError, match='"-1" is not a whole number'):
        parse_count("-1")
