"""The CMS NCCI practitioner procedure-to-procedure (PTP) file an admin loads.

CMS publishes the practitioner PTP edits each quarter as zips, each holding one tab-delimited
text file (about two million rows in all). A few header lines (copyright, column titles)
come first, then one edit per line::

    Column 1 <tab> Column 2 <tab> * <tab> Effective Date <tab> Deletion Date <tab> Modifier <tab> Rationale
    90791      90832                     20130101               *                  0            Misuse of ...

The third column is ``*`` when the edit existed before 1996 (else empty); dates are
``YYYYMMDD``; a deletion date of ``*`` means the edit is in force; the modifier indicator
is 0 (never together), 1 (with an NCCI-associated modifier) or 9 (not applicable). The
rationale is for people and is not kept.

:func:`read_ncci_file` streams the file (the text or the zip holding it) as
:class:`~revcycle.domain.scrubber.NcciPair` values, so a loader can insert them in chunks
without holding two million rows. A wrong line does not stop the reading at once: the
reader goes on to find up to 50 wrong places, yields nothing more, and raises
:class:`~revcycle.adapters.codesets.CodeSetFileError` naming each file, line and column, so
the loader's transaction rolls back whole.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import PurePath
from typing import BinaryIO

from revcycle.adapters.codesets import CodeSetFileError
from revcycle.domain.problems import Problem
from revcycle.domain.scrubber import NcciPair

__all__ = ["COLUMNS", "parse_ncci_lines", "read_ncci_file"]

COLUMNS = (
    "Column 1",
    "Column 2",
    "prior to 1996",
    "Effective Date",
    "Deletion Date",
    "Modifier",
    "PTP Edit Rationale",
)
_MAX_HEADER_LINES = 10
_MAX_PROBLEMS = 50
# CPT (five digits, or four and a letter: category II/III, PLA) or HCPCS level II (a letter, four digits).
_PROCEDURE = re.compile(r"[0-9]{4}[0-9A-Z]|[A-Z][0-9]{4}")
_DATE = re.compile(r"[0-9]{8}")


def read_ncci_file(stream: BinaryIO, filename: str) -> Iterator[NcciPair]:
    """The edits of a CMS PTP text file, or of the one text file in a CMS zip."""
    if filename.lower().endswith(".zip") or _looks_like_zip(stream):
        yield from _read_zip(stream, filename)
        return
    text = io.TextIOWrapper(stream, encoding="cp1252", errors="replace", newline="")
    try:
        yield from parse_ncci_lines(text, source=PurePath(filename).name)
    finally:
        text.detach()  # the caller's stream stays the caller's to close


def _looks_like_zip(stream: BinaryIO) -> bool:
    start = stream.tell()
    magic = stream.read(4)
    stream.seek(start)
    return magic == b"PK\x03\x04"


def _read_zip(stream: BinaryIO, filename: str) -> Iterator[NcciPair]:
    name = PurePath(filename).name
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile:
        raise CodeSetFileError(
            [Problem("codesets.ncci.bad_zip", name, "the file is not a readable zip")]
        ) from None
    with archive:
        members = [m for m in archive.namelist() if m.lower().endswith(".txt") and not m.endswith("/")]
        if len(members) != 1:
            message = f"expected one .txt file of PTP edits in the zip, found {len(members)}"
            raise CodeSetFileError([Problem("codesets.ncci.no_text_file", name, message)])
        with archive.open(members[0]) as raw:
            text = io.TextIOWrapper(raw, encoding="cp1252", errors="replace", newline="")
            yield from parse_ncci_lines(text, source=f"{name}: {PurePath(members[0]).name}")


def parse_ncci_lines(lines: Iterable[str], *, source: str = "NCCI file") -> Iterator[NcciPair]:
    """Yield each edit; raise :class:`CodeSetFileError` at the end if any line was wrong."""
    problems: list[Problem] = []
    in_data = False
    count = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        cells = line.split("\t")
        if not in_data:
            if not _PROCEDURE.fullmatch(cells[0].strip()) and number <= _MAX_HEADER_LINES:
                continue  # a header line (copyright notice, column titles)
            in_data = True
        found = _row_problems(cells)
        for column, message in found:
            where = f"{source} line {number}, column {column} ({COLUMNS[column - 1]})"
            problems.append(Problem("codesets.ncci.bad_line", where, message))
        if len(problems) >= _MAX_PROBLEMS:
            break
        if not found and not problems:
            count += 1
            yield _pair(cells)
    if not problems and not count:
        problems.append(Problem("codesets.ncci.empty", source, "the file holds no PTP edits"))
    if problems:
        raise CodeSetFileError(problems)


def _row_problems(cells: list[str]) -> list[tuple[int, str]]:
    """(column, message) for each wrong cell; columns count from 1."""
    if len(cells) < 6:
        shape = f"the line has {len(cells)} tab-separated column{'s' if len(cells) > 1 else ''}; expected 7"
        if not _PROCEDURE.fullmatch(cells[0].strip()):
            return [(1, f"{cells[0].strip()[:40]!r} is not a CPT or HCPCS code ({shape})")]
        return [(len(cells) + 1, shape)]
    found = []
    for column in (1, 2):
        code = cells[column - 1].strip()
        if not _PROCEDURE.fullmatch(code):
            found.append((column, f"{code!r} is not a CPT or HCPCS code"))
    if cells[2].strip() not in {"", "*"}:
        found.append((3, f"expected '*' or nothing, got {cells[2].strip()!r}"))
    if _date(cells[3]) is None:
        found.append((4, f"the effective date must be a date YYYYMMDD, got {cells[3].strip()!r}"))
    if cells[4].strip() != "*" and _date(cells[4]) is None:
        found.append((5, f"the deletion date must be YYYYMMDD or '*', got {cells[4].strip()!r}"))
    if cells[5].strip() not in {"0", "1", "9"}:
        found.append((6, f"the modifier indicator must be 0, 1 or 9, got {cells[5].strip()!r}"))
    return found


def _date(text: str) -> date | None:
    text = text.strip()
    if not _DATE.fullmatch(text):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _pair(cells: list[str]) -> NcciPair:
    effective_on = _date(cells[3])
    assert effective_on is not None  # checked by _row_problems
    return NcciPair(
        column1=cells[0].strip(),
        column2=cells[1].strip(),
        effective_on=effective_on,
        deleted_on=None if cells[4].strip() == "*" else _date(cells[4]),
        modifier_indicator=cells[5].strip(),
    )
