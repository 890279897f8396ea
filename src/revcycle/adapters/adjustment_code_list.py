"""Reading an official CARC or RARC code list file.

X12 maintains the Claim Adjustment Reason Codes and the Remittance Advice Remark Codes and
publishes them (with each code's start, last-modified and stop dates); the lists are X12's
and do not ship with Revcycle. An admin who holds a copy loads it as a CSV or tab-separated
file with a header row. The columns are found by their header, whatever their order:

* the code: ``Code``, ``CARC``, ``RARC``, ``Reason Code`` or ``Remark Code``;
* its text: ``Description``, ``Reason``, ``Remark`` or ``Text``;
* optionally the dates it is in force: ``Start`` / ``Start Date`` / ``Effective Date`` and
  ``Stop`` / ``Stop Date`` / ``Deactivation Date`` / ``End Date`` (MM/DD/YYYY or YYYY-MM-DD);
  other columns (``Last Modified`` ...) are ignored.

A file with any wrong line is refused whole: :class:`CodeSetFileError` names the file, line
and column of each problem (up to :data:`MAX_PROBLEMS`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from revcycle.adapters.codesets import CodeSetFileError
from revcycle.domain.problems import Problem

__all__ = ["CODE_LISTS", "AdjustmentCodeEntry", "read_adjustment_code_list"]

CODE_LISTS = ("carc", "rarc")
MAX_PROBLEMS = 50
MAX_CODE_CHARS = 10
_CODE = re.compile(r"^[A-Z0-9]{1,10}$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

_HEADERS = {
    "code": ("code", "carc", "rarc", "reason code", "remark code", "carc code", "rarc code"),
    "description": ("description", "reason", "remark", "text", "code description"),
    "starts_on": ("start", "start date", "effective date", "effective"),
    "ends_on": ("stop", "stop date", "deactivation date", "end date", "deactivated"),
}


@dataclass(frozen=True)
class AdjustmentCodeEntry:
    code: str
    description: str
    starts_on: date | None
    ends_on: date | None


def read_adjustment_code_list(data: bytes, filename: str) -> list[AdjustmentCodeEntry]:
    """Every code of the file, in file order; refuses the whole file on any problem."""
    text = _decode(data)
    rows = list(csv.reader(io.StringIO(text), dialect=_dialect(text)))
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
    if not rows:
        raise CodeSetFileError([Problem("code_list.empty", filename, "the file is empty")])
    columns = _columns(rows[0], filename)
    problems: list[Problem] = []
    entries: list[AdjustmentCodeEntry] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        entry = _entry(row, columns, f"{filename} line {number}", problems)
        if entry is None:
            continue
        if entry.code in seen:
            problems.append(
                Problem(
                    "code_list.duplicate",
                    f"{filename} line {number}, column {columns['code'] + 1}",
                    f"code {entry.code} is already on line {seen[entry.code]}",
                )
            )
            continue
        seen[entry.code] = number
        entries.append(entry)
        if len(problems) >= MAX_PROBLEMS:
            break
    if not problems and not entries:
        problems.append(Problem("code_list.no_codes", filename, "the file has a header but no codes"))
    if problems:
        raise CodeSetFileError(problems[:MAX_PROBLEMS])
    return entries


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _dialect(text: str) -> type[csv.Dialect]:
    first_line = text.split("\n", 1)[0]
    return csv.excel_tab if first_line.count("\t") > first_line.count(",") else csv.excel


def _columns(header: Sequence[str], filename: str) -> dict[str, int]:
    names = [" ".join(cell.strip().lower().replace("_", " ").split()) for cell in header]
    found: dict[str, int] = {}
    for key, aliases in _HEADERS.items():
        for index, name in enumerate(names):
            if name in aliases:
                found[key] = index
                break
    missing = [key for key in ("code", "description") if key not in found]
    if missing:
        wanted = " and ".join(f"a {key} column ({', '.join(_HEADERS[key][:3])} ...)" for key in missing)
        raise CodeSetFileError(
            [Problem("code_list.header", f"{filename} line 1", f"the header needs {wanted}")]
        )
    return found


def _cell(row: Sequence[str], columns: dict[str, int], key: str) -> str:
    index = columns.get(key)
    return row[index].strip() if index is not None and index < len(row) else ""


def _entry(
    row: Sequence[str], columns: dict[str, int], where: str, problems: list[Problem]
) -> AdjustmentCodeEntry | None:
    code = _cell(row, columns, "code").upper()
    description = " ".join(_cell(row, columns, "description").split())
    before = len(problems)
    if not _CODE.match(code):
        got = f"got {code!r}" if code else "the code is missing"
        message = f"a code is 1 to {MAX_CODE_CHARS} letters or digits; {got}"
        problems.append(Problem("code_list.code", f"{where}, column {columns['code'] + 1}", message))
    if not description:
        problems.append(
            Problem(
                "code_list.description", f"{where}, column {columns['description'] + 1}", "no description"
            )
        )
    starts_on = _date(row, columns, "starts_on", where, problems)
    ends_on = _date(row, columns, "ends_on", where, problems)
    if starts_on and ends_on and ends_on < starts_on:
        problems.append(
            Problem(
                "code_list.dates",
                f"{where}, column {columns['ends_on'] + 1}",
                "the stop date is before the start",
            )
        )
    if len(problems) > before:
        return None
    return AdjustmentCodeEntry(code, description, starts_on, ends_on)


def _date(
    row: Sequence[str], columns: dict[str, int], key: str, where: str, problems: list[Problem]
) -> date | None:
    text = _cell(row, columns, key)
    if not text:
        return None
    us_date = _US_DATE.match(text)
    try:
        if us_date:
            month, day, year = (int(part) for part in us_date.groups())
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        pass
    message = f"{text!r} is not a date (MM/DD/YYYY or YYYY-MM-DD)"
    problems.append(Problem("code_list.date", f"{where}, column {columns[key] + 1}", message))
    return None
