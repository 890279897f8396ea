"""NPI: the National Provider Identifier and its check digit.

An NPI is ten digits: nine assigned by CMS and a Luhn check digit. The Luhn sum is taken as
if the number were prefixed with ``80840`` (the ISO card-issuer prefix for US health), so the
check digit is the standard Luhn digit of ``"80840" + first_nine``; the prefix always adds 24
to the sum. Issued NPIs begin with 1 or 2, so a number may pass the check digit and still not
be an NPI a payer will accept (``9876543213``).
"""

from __future__ import annotations

__all__ = ["make_npi", "npi_check_digit", "npi_is_valid"]

_PREFIX = "80840"
_ISSUABLE_FIRST_DIGITS = frozenset("12")


def npi_check_digit(first_nine: str) -> int:
    """The check digit for the first nine digits of an NPI."""
    if len(first_nine) != 9 or not _is_ascii_digits(first_nine):
        raise ValueError(f"an NPI's first nine digits must be 9 digits, got {first_nine!r}")
    return _luhn_check_digit(_PREFIX + first_nine)


def npi_is_valid(npi: str, *, require_issuable: bool = True) -> bool:
    """True for ten digits with the right check digit (and, by default, starting 1 or 2)."""
    if len(npi) != 10 or not _is_ascii_digits(npi):
        return False
    if require_issuable and npi[0] not in _ISSUABLE_FIRST_DIGITS:
        return False
    return npi_check_digit(npi[:9]) == int(npi[9])


def make_npi(first_nine: str) -> str:
    """Append the check digit: ``make_npi("123456789") == "1234567893"`` (fixtures, demos)."""
    return first_nine + str(npi_check_digit(first_nine))


def _luhn_check_digit(payload: str) -> int:
    # Double every second digit starting from the rightmost of the payload: once the check
    # digit is appended, those are the digits in even positions from the right.
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
