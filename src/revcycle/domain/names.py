"""Matching keys for names that arrive spelled many ways.

An EHR export says "Jane O'Neil", an AR file says "O'NEIL, JANE", a payer list says
"Horizon  Blue Cross (22099)". People are matched on a key that ignores case, punctuation,
spacing and word order ("Last, First" and "First Last" agree); payers on a key that ignores
case, punctuation and spacing but keeps word order.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^a-z0-9]+")


def _ascii_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return [word for word in _NOT_WORD.split(folded.lower().replace("'", "")) if word]


def person_key(name: str) -> str:
    """`"O'Neil, Jane"` and `"jane  oneil"` -> `"jane oneil"` (sorted words)."""
    return " ".join(sorted(_ascii_words(name)))


def person_key_of(first_name: str, last_name: str) -> str:
    return person_key(f"{first_name} {last_name}")


def payer_key(name: str) -> str:
    """`"Horizon  Blue-Cross"` -> `"horizon blue cross"` (order kept)."""
    return " ".join(_ascii_words(name))
