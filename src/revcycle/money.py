"""Money as integer cents.

Every amount in Revcycle is an ``int`` of cents (``amount_cents``). Text from the outside
world ("$3,033.66", "(12.50)", "160.0 ") is parsed through :class:`~decimal.Decimal`, never
``float``, and anything that is not an exact number of cents is refused rather than rounded:
a silently rounded remittance is a ledger that no longer agrees with the payer.

Conventions:

* an ``int`` passed to :func:`parse_cents` is already cents (``1250`` is $12.50);
* a ``str`` or ``Decimal`` is dollars (``"12.50"`` and ``Decimal("12.5")`` are 1250 cents);
* accounting negatives are accepted: ``"(12.50)"``, ``"-12.50"``, ``"-$12.50"``, ``"$-12.50"``;
* thousands separators must sit every three digits (``"1,234"`` yes, ``"1,23"`` no);
* trailing zeros past the cents are fine (``"1.500"``), a non-zero sub-cent digit is not.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["MoneyError", "format_cents", "format_plain", "parse_cents"]

_CENTS_PER_DOLLAR = 100
# A PostgreSQL BIGINT holds about 9.2e18 cents; refuse anything near it before building
# a huge integer from an exponent such as "1E+999999".
_MAX_DOLLAR_DIGITS = 16

# Sign before or after the dollar sign, optional thousands groups, optional fraction.
# ASCII digits only: a stray Unicode digit in an export is garbage, not money.
_AMOUNT = re.compile(
    r"""
    (?P<sign1>[-+])?\s*
    (?P<dollar>\$)?\s*
    (?P<sign2>[-+])?\s*
    (?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?
    (?:\.(?P<fraction>[0-9]+))?
    """,
    re.VERBOSE | re.ASCII,
)


class MoneyError(ValueError):
    """An amount that is not an exact number of cents; names the field and the value."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {value!r} {reason}")


def parse_cents(value: str | int | Decimal, *, field: str = "amount") -> int:
    """Return the amount in cents; an ``int`` is taken as cents already.

    Raises :class:`MoneyError` for booleans, empty or malformed text, NaN/Infinity and
    sub-cent precision.
    """
    # bool is a subclass of int: True must never become one cent.
    if isinstance(value, bool):
        raise MoneyError(field, value, "is a boolean, not an amount")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return _decimal_to_cents(value, field=field, original=value)
    if isinstance(value, str):
        return _text_to_cents(value, field=field)
    raise MoneyError(field, value, f"has unsupported type {type(value).__name__}")


def _text_to_cents(text: str, *, field: str) -> int:
    stripped = text.strip()
    if not stripped:
        raise MoneyError(field, text, "is empty")
    negative = False
    if stripped.startswith("(") and stripped.endswith(")"):
        negative = True
        stripped = stripped[1:-1].strip()
    match = _AMOUNT.fullmatch(stripped)
    if match is None or (match["whole"] is None and match["fraction"] is None):
        raise MoneyError(field, text, "is not a money amount (expected e.g. 1,234.56)")
    signs = [s for s in (match["sign1"], match["sign2"]) if s is not None]
    if len(signs) > 1 or (negative and signs):
        raise MoneyError(field, text, "has more than one sign")
    negative = negative or signs == ["-"]
    whole = (match["whole"] or "0").replace(",", "")
    number = Decimal(f"{whole}.{match['fraction'] or '0'}")
    cents = _decimal_to_cents(number, field=field, original=text)
    return -cents if negative else cents


def _decimal_to_cents(number: Decimal, *, field: str, original: object) -> int:
    # Exact integer arithmetic on the digits: Decimal multiplication would round to the
    # context's 28 digits, which is exactly the silent rounding this module refuses.
    if not number.is_finite():
        raise MoneyError(field, original, "is not a finite number")
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite numbers have an int exponent
    significant = int("".join(map(str, digits)))
    if significant and len(digits) + exponent > _MAX_DOLLAR_DIGITS:
        raise MoneyError(field, original, "is out of range")
    shift = exponent + 2  # from the value's exponent to cents
    power: int = 10 ** abs(shift)  # int ** int is typed as Any; it is an int here
    if shift >= 0:
        cents = significant * power
    else:
        cents, sub_cent = divmod(significant, power)
        if sub_cent:
            raise MoneyError(
                field, original, "has a fraction of a cent (amounts are never rounded)"
            )
    return -cents if sign else cents


def format_cents(cents: int, *, symbol: bool = True) -> str:
    """Format for people: ``$3,033.66``, ``-$12.50``, ``$0.00`` (``symbol=False`` drops ``$``)."""
    dollars, remainder = divmod(abs(_require_int(cents)), _CENTS_PER_DOLLAR)
    sign = "-" if cents < 0 else ""
    currency = "$" if symbol else ""
    return f"{sign}{currency}{dollars:,}.{remainder:02d}"


def format_plain(cents: int) -> str:
    """Format for files (CSV, X12): ``3033.66``, ``-12.50``; no symbol, no separators."""
    dollars, remainder = divmod(abs(_require_int(cents)), _CENTS_PER_DOLLAR)
    sign = "-" if cents < 0 else ""
    return f"{sign}{dollars}.{remainder:02d}"


def _require_int(cents: object) -> int:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"cents must be an int, not {type(cents).__name__}")
    return cents
