"""Diagnosis pointers as stored on a charge or a claim line: one character per pointer.

An 837P line points at up to four of the claim's twelve diagnoses (SV107). The column holds
them as one character each, in order: ``1``-``9`` and ``A``-``C`` for 10-12 (``"12"`` is
pointers 1 and 2, ``"1A"`` is 1 and 10). Characters that are not pointers are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["decode_pointers", "encode_pointers"]

_DIGITS = "123456789ABC"


def decode_pointers(text: str) -> tuple[int, ...]:
    """``"12"`` -> ``(1, 2)``; ``"1A"`` -> ``(1, 10)``."""
    return tuple(_DIGITS.index(char) + 1 for char in text.strip().upper() if char in _DIGITS)


def encode_pointers(pointers: Iterable[int]) -> str:
    """``(1, 2)`` -> ``"12"``; pointers outside 1-12 are dropped."""
    return "".join(_DIGITS[p - 1] for p in pointers if 1 <= p <= len(_DIGITS))
