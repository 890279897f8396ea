"""Money parsing and formatting: exact cents in, exact cents out, never a rounded guess."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revcycle.money import MoneyError, format_cents, format_plain, parse_cents

BOUND = 10**11
any_cents = st.integers(min_value=-BOUND, max_value=BOUND)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("$3,033.66", 303366),
        ("3033.66", 303366),
        ("(12.50)", -1250),
        ("($12.50)", -1250),
        ("-12.5", -1250),
        ("160.0 ", 16000),
        ("  160  ", 16000),
        ("-$5.00", -500),
        ("$-5.00", -500),
        ("+5", 500),
        ("1,234", 123400),
        ("12,345,678.90", 1234567890),
        ("0", 0),
        ("0.00", 0),
        ("-0.00", 0),
        (".5", 50),
        ("$0.01", 1),
        ("1.500", 150),
        ("$ 12.00", 1200),
        ("007.25", 725),
    ],
)
def test_parse_accepts_the_ways_amounts_are_written(text: str, cents: int) -> None:
    assert parse_cents(text) == cents


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        (1250, 1250),
        (-3, -3),
        (0, 0),
        (Decimal("12.5"), 1250),
        (Decimal("-0.01"), -1),
        (Decimal("1E+2"), 10000),
        (Decimal("3033.660"), 303366),
    ],
)
def test_parse_takes_ints_as_cents_and_decimals_as_dollars(
    value: int | Decimal, cents: int
) -> None:
    assert parse_cents(value) == cents


@pytest.mark.parametrize(
    "value",
    [
        "1.005",
        "0.001",
        "12.3.4",
        "abc",
        "1,23",
        "1234,567",
        ",123",
        "1,2345",
        "",
        "   ",
        "$",
        "-",
        "()",
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "1e5",
        "--5",
        "-$-5",
        "(-5)",
        "5-",
        "12 34",
        "5.",
        "\u0661\u0662",  # Arabic-Indic digits
        "12.5O",
        "1" * 40,
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("1.005"),
        Decimal("1E+999999"),
        True,
        False,
    ],
)
def test_parse_refuses_anything_that_is_not_exact_cents(value: str | int | Decimal) -> None:
    with pytest.raises(MoneyError):
        parse_cents(value)


def test_parse_refuses_float_and_other_types() -> None:
    with pytest.raises(MoneyError, match="unsupported type float"):
        parse_cents(1.5)  # type: ignore[arg-type]


def test_error_names_the_field_and_the_value() -> None:
    with pytest.raises(MoneyError) as caught:
        parse_cents("1.005", field="CLP04")
    assert caught.value.field == "CLP04"
    assert caught.value.value == "1.005"
    assert "CLP04" in str(caught.value)
    assert "'1.005'" in str(caught.value)
    assert "fraction of a cent" in str(caught.value)


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="amount: 'abc'"):
        parse_cents("abc")


@pytest.mark.parametrize(
    ("cents", "people", "plain"),
    [
        (303366, "$3,033.66", "3033.66"),
        (-1250, "-$12.50", "-12.50"),
        (0, "$0.00", "0.00"),
        (1, "$0.01", "0.01"),
        (-1, "-$0.01", "-0.01"),
        (100000000, "$1,000,000.00", "1000000.00"),
    ],
)
def test_format(cents: int, people: str, plain: str) -> None:
    assert format_cents(cents) == people
    assert format_plain(cents) == plain


def test_format_without_symbol() -> None:
    assert format_cents(-123456, symbol=False) == "-1,234.56"


@pytest.mark.parametrize("bad", [True, 1.5, "12"])
def test_format_refuses_non_int(bad: object) -> None:
    with pytest.raises(TypeError):
        format_cents(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_plain(bad)  # type: ignore[arg-type]


@given(any_cents)
def test_format_cents_round_trips(cents: int) -> None:
    assert parse_cents(format_cents(cents)) == cents
    assert parse_cents(format_cents(cents, symbol=False)) == cents


@given(any_cents)
def test_format_plain_round_trips(cents: int) -> None:
    assert parse_cents(format_plain(cents)) == cents
    assert parse_cents(Decimal(format_plain(cents))) == cents


@given(any_cents)
def test_parenthesised_is_the_negative(cents: int) -> None:
    assert parse_cents(f"({format_cents(abs(cents))})") == -abs(cents)
