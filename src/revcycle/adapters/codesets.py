"""Code sets: the public files shipped in ``revcycle/codesets/``, and CMS files an admin loads.

Shipped (see ``revcycle/codesets/*/SOURCES.md`` for origin and licence, all public domain):

- ICD-10-CM FY2025 (the CMS order file's content), officially in force for dates of service
  2024-10-01 .. 2025-09-30;
- ICD-10-CM FY2026 as of its April 1, 2026 update, officially in force 2026-04-01 ..
  2026-09-30. The FY2026 October 2025 release is not shipped, so dates of service
  2025-10-01 .. 2026-03-31 are checked against the April update, the nearest release of the
  same fiscal year (:func:`revcycle.domain.scrubber.icd10.choose_release`); the scrubber says
  so with an info note. The April update only adds and revises a handful of codes.
- the CMS place-of-service codes.

Nothing is read at import time. A release is read the first time a date of service needs it
and cached for the life of the process (``load_icd10_release``); :class:`Icd10Catalog` is what
the scrubber's context holds. Dates of service after FY2026 (or before FY2025) have no
release until an admin loads the CMS file for that year (:func:`read_icd10_order_file`), and
the scrubber warns instead of checking.

The CMS ``icd10cm_order_YYYY.txt`` file is fixed width (1-based columns): order number 1-5,
code 7-13 (undotted, left-justified), billable flag 15 (1 = valid on a claim, 0 = a
heading), short description 17-76, long description from 78.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gzip
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TextIO

from revcycle.domain.problems import Problem
from revcycle.domain.scrubber.context import ScrubContext
from revcycle.domain.scrubber.icd10 import (
    Icd10Release,
    choose_release,
    fiscal_year_window,
    icd10_code_is_well_formed,
)

__all__ = [
    "SHIPPED_ICD10_RELEASES",
    "CodeSetFileError",
    "Icd10Catalog",
    "ShippedIcd10Release",
    "load_icd10_release",
    "parse_icd10_order_file",
    "place_of_service_codes",
    "read_icd10_order_data",
    "read_icd10_order_file",
    "shipped_scrub_context",
]

_PACKAGE = "revcycle.codesets"
_MAX_PROBLEMS = 50  # a file that is wrong throughout says so; the first 50 places are enough


@dataclass(frozen=True)
class ShippedIcd10Release:
    """A release file shipped in ``revcycle/codesets/``, known by its dates before it is read."""

    name: str
    valid_from: date
    valid_to: date
    resource: str  # path under revcycle/codesets: a gzipped TSV with ``code`` and ``billable`` columns


SHIPPED_ICD10_RELEASES: tuple[ShippedIcd10Release, ...] = (
    ShippedIcd10Release(
        "ICD-10-CM FY2025",
        date(2024, 10, 1),
        date(2025, 9, 30),
        "icd10cm/icd10cm_fy2025_order.tsv.gz",
    ),
    ShippedIcd10Release(
        "ICD-10-CM FY2026 (April 1, 2026 update)",
        date(2026, 4, 1),
        date(2026, 9, 30),
        "icd10cm/icd10cm_2026_april_all_codes.tsv.gz",
    ),
)


@functools.cache
def load_icd10_release(shipped: ShippedIcd10Release) -> Icd10Release:
    """Read a shipped release (once per process; about a tenth of a second each)."""
    billable: set[str] = set()
    every: set[str] = set()
    with _open_text(shipped.resource) as text:
        header = next(text).rstrip("\n").split("\t")
        code_column, billable_column = header.index("code"), header.index("billable")
        for line in text:
            cells = line.split("\t", billable_column + 1)
            code = cells[code_column]
            every.add(code)
            if cells[billable_column] == "1":
                billable.add(code)
    return Icd10Release(
        shipped.name, shipped.valid_from, shipped.valid_to, frozenset(billable), frozenset(every)
    )


@contextlib.contextmanager
def _open_text(resource: str) -> Iterator[TextIO]:
    with resources.files(_PACKAGE).joinpath(resource).open("rb") as raw:
        stream = gzip.GzipFile(fileobj=raw) if resource.endswith(".gz") else raw
        with io.TextIOWrapper(stream, encoding="utf-8", newline="") as text:
            yield text


class Icd10Catalog:
    """The ICD-10-CM releases known to the process: the shipped ones plus any an admin loaded.

    ``release_for(day)`` chooses by date (see :func:`choose_release`) and reads a shipped
    release only when a date first needs it. A loaded release covering a date wins over every
    shipped one for that date.
    """

    def __init__(
        self,
        loaded: Iterable[Icd10Release] = (),
        shipped: Sequence[ShippedIcd10Release] = SHIPPED_ICD10_RELEASES,
    ) -> None:
        self._windows: tuple[ShippedIcd10Release | Icd10Release, ...] = (*shipped, *loaded)

    def release_for(self, day: date) -> Icd10Release | None:
        loaded = [w for w in self._windows if isinstance(w, Icd10Release) and w.covers(day)]
        if loaded:  # a release an admin loaded wins over a shipped one for the dates it covers
            return choose_release(loaded, day)
        chosen = choose_release(self._windows, day)
        if isinstance(chosen, ShippedIcd10Release):
            return load_icd10_release(chosen)
        return chosen

    def with_release(self, release: Icd10Release) -> Icd10Catalog:
        """A catalog that also knows ``release`` (one an admin loaded)."""
        shipped = [w for w in self._windows if isinstance(w, ShippedIcd10Release)]
        loaded = [w for w in self._windows if isinstance(w, Icd10Release)]
        return Icd10Catalog([*loaded, release], shipped)

    @property
    def release_names(self) -> tuple[str, ...]:
        """Names of every release known, in order (nothing is read)."""
        return tuple(window.name for window in self._windows)


@functools.cache
def place_of_service_codes() -> dict[str, str]:
    """The CMS place-of-service codes and their names (``{"02": "Telehealth Provided ..."}``)."""
    with _open_text("place_of_service/place_of_service.tsv") as text:
        return {row["code"]: row["name"] for row in csv.DictReader(text, delimiter="\t")}


def shipped_scrub_context(loaded_icd10: Iterable[Icd10Release] = ()) -> ScrubContext:
    """The scrubber's context from the shipped code sets (plus releases an admin loaded)."""
    return ScrubContext(
        icd10=Icd10Catalog(loaded_icd10),
        place_of_service_codes=frozenset(place_of_service_codes()),
    )


# -- the CMS order file an admin loads -------------------------------------------------------


class CodeSetFileError(ValueError):
    """A code-set file that cannot be loaded; ``problems`` name each line and column.

    ``str()`` reads ``icd10cm_order_2027.txt line 14, column 15: the billable flag must be
    0 or 1, got 'x' (and 3 more problems)``.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"{first.where}: {first.message}{suffix}")


_ORDER_FILE_NAME = re.compile(r"icd10cm_order_(\d{4})", re.IGNORECASE)


def read_icd10_order_file(
    path: Path,
    *,
    name: str | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> Icd10Release:
    """Read a CMS ``icd10cm_order_YYYY.txt`` (or the CMS zip that holds one) into a release.

    Without dates the fiscal year is taken from the file name (``icd10cm_order_2027.txt``:
    2026-10-01 .. 2027-09-30). CMS names the April update's file the same way, so give its
    ``valid_from`` (April 1) when loading one.
    """
    return read_icd10_order_data(
        path.read_bytes(), path.name, name=name, valid_from=valid_from, valid_to=valid_to
    )


def read_icd10_order_data(
    data: bytes,
    filename: str,
    *,
    name: str | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> Icd10Release:
    """:func:`read_icd10_order_file` for a file already in memory (an upload)."""
    source = Path(filename).name
    if source.lower().endswith(".zip") or data[:4] == b"PK\x03\x04":
        source, data = _order_file_in_zip(source, data)
    year_match = _ORDER_FILE_NAME.search(source)
    if valid_from is None or valid_to is None:
        if year_match is None:
            problem = Problem(
                "codesets.icd10.no_dates",
                source,
                "the file name does not say the fiscal year (icd10cm_order_YYYY.txt); give the dates",
            )
            raise CodeSetFileError([problem])
        start, end = fiscal_year_window(int(year_match.group(1)))
        valid_from, valid_to = valid_from or start, valid_to or end
    if name is None:
        name = f"ICD-10-CM FY{year_match.group(1)} ({source})" if year_match else f"ICD-10-CM ({source})"
    return parse_icd10_order_file(
        _decode(data).splitlines(), name=name, valid_from=valid_from, valid_to=valid_to, source=source
    )


def _order_file_in_zip(source: str, data: bytes) -> tuple[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise CodeSetFileError([Problem("codesets.icd10.bad_zip", source, "not a readable zip")]) from None
    with archive:
        members = [m for m in archive.namelist() if _ORDER_FILE_NAME.search(Path(m).name)]
        members = [m for m in members if m.lower().endswith(".txt")]
        if len(members) != 1:
            problem = Problem(
                "codesets.icd10.no_order_file",
                source,
                f"expected one icd10cm_order_YYYY.txt in the zip, found {len(members)}",
            )
            raise CodeSetFileError([problem])
        return Path(members[0]).name, archive.read(members[0])


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # older CMS files are Windows text


def parse_icd10_order_file(
    lines: Iterable[str],
    *,
    name: str,
    valid_from: date,
    valid_to: date,
    source: str = "order file",
) -> Icd10Release:
    """Parse the lines of a CMS order file; raise :class:`CodeSetFileError` naming line and column."""
    problems: list[Problem] = []
    billable: set[str] = set()
    first_seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        found = _order_line_problems(line)
        code = line[6:13].strip()
        if not found and code in first_seen:
            found = [(7, f"code {code} repeats line {first_seen[code]}")]
        for column, message in found:
            problems.append(
                Problem("codesets.icd10.bad_line", f"{source} line {number}, column {column}", message)
            )
        if found:
            if len(problems) >= _MAX_PROBLEMS:
                break
            continue
        first_seen[code] = number
        if line[14] == "1":
            billable.add(code)
    if not problems and not first_seen:
        problems.append(Problem("codesets.icd10.empty", source, "the file holds no codes"))
    if not problems and not billable:
        problems.append(
            Problem("codesets.icd10.no_billable", source, "no code is flagged billable (column 15)")
        )
    if problems:
        raise CodeSetFileError(problems)
    return Icd10Release(name, valid_from, valid_to, frozenset(billable), frozenset(first_seen))


def _order_line_problems(line: str) -> list[tuple[int, str]]:
    """(column, message) for each fixed-width field that is wrong; columns count from 1."""
    if len(line) < 17:
        return [(len(line) + 1, f"the line ends after {len(line)} characters; expected at least 17")]
    found = []
    order = line[0:5]
    if not (order.isascii() and order.isdigit()):
        found.append((1, f"the order number must be five digits, got {order!r}"))
    for column in (6, 14, 16):
        if line[column - 1] != " ":
            found.append((column, f"expected a space, got {line[column - 1]!r}: the columns are shifted"))
    code = line[6:13].strip()
    if line[6] == " ":
        found.append((7, "the code must start in column 7: the columns are shifted"))
    elif not icd10_code_is_well_formed(code) or "." in code or code != code.upper():
        found.append((7, f"{code!r} is not an undotted ICD-10-CM code"))
    if line[14] not in "01":
        found.append((15, f"the billable flag must be 0 or 1, got {line[14]!r}"))
    if not line[16:76].strip():
        found.append((17, "the short description is empty"))
    return found
