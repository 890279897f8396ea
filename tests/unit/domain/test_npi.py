"""NPI check digit, against the shared test vectors (see the header of the TSV)."""

import csv
from pathlib import Path

import pytest

from revcycle.domain.npi import make_npi, npi_check_digit, npi_is_valid

VECTORS = Path(__file__).parents[2] / "data" / "npi_test_vectors.tsv"


def _vectors() -> list[tuple[str, str, str]]:
    with VECTORS.open(newline="", encoding="utf-8") as file:
        lines = [line for line in file if not line.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t"))
    return [(row["npi"], row["expected"], row["reason"]) for row in rows]


def test_all_vectors_are_read() -> None:
    assert len(_vectors()) == 17


@pytest.mark.parametrize(("npi", "expected", "reason"), _vectors())
def test_vector(npi: str, expected: str, reason: str) -> None:
    if expected == "valid":
        assert npi_is_valid(npi), reason
        assert make_npi(npi[:9]) == npi
        assert npi_check_digit(npi[:9]) == int(npi[9])
    elif expected == "checksum_valid_not_issuable":
        assert not npi_is_valid(npi), reason
        assert npi_is_valid(npi, require_issuable=False)
        assert make_npi(npi[:9]) == npi
    else:
        assert expected == "invalid"
        assert not npi_is_valid(npi), reason
        assert not npi_is_valid(npi, require_issuable=False), reason


def test_the_cms_worked_example() -> None:
    assert npi_check_digit("123456789") == 3


@pytest.mark.parametrize("bad", ["12345678", "1234567890", "12345678a", "", "\u0661" * 9])
def test_check_digit_refuses_anything_but_nine_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="nine digits"):
        npi_check_digit(bad)


def test_non_ascii_digits_are_not_an_npi() -> None:
    assert not npi_is_valid("\u0661" * 10)
