"""The rate table CSV: how a fee schedule or a payer contract comes in and goes out.

::

    procedure_code,modifiers,amount
    90837,,150.00
    90837,95:HO,145.00

``amount`` is dollars (``"1,234.56"``, ``"$150"``; a fraction of a cent is refused, never
rounded); ``modifiers`` is colon-joined and may be left empty (or the column left out). Rows
are numbered as a spreadsheet shows them: the header is row 1. The export writes the same
columns, so a table read back gives the same rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from revcycle.domain.problems import Problem
from revcycle.domain.rate_tables import RateRow, check_rates, normal_modifiers
from revcycle.money import MoneyError, format_plain, parse_cents

__all__ = ["COLUMNS", "MAX_ROWS", "read_rate_table", "write_rate_table"]

COLUMNS = ("procedure_code", "modifiers", "amount")
REQUIRED = frozenset({"procedure_code", "amount"})
MAX_ROWS = 50_000
MAX_PROBLEMS = 50  # enough to fix a file by; the count says how many more


def read_rate_table(data: bytes, filename: str) -> tuple[list[RateRow], list[Problem]]:
    """The file's rows and every problem found in it (the caller refuses the file on any)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [Problem("rates.encoding", f"{filename}, byte {exc.start}", "is not UTF-8 text")]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    columns, problems = _columns(header)
    if problems:
        return [], problems
    rows: list[RateRow] = []
    for number, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) >= MAX_ROWS:
            return [], [Problem("rates.too_many", f"row {number}", f"more than {MAX_ROWS:,} rates")]
        row, row_problems = _row(record, columns, number)
        problems += row_problems
        if row is not None:
            rows.append(row)
    if not rows and not problems:
        problems.append(Problem("rates.empty", "row 2", "the file has no rates under its header"))
    problems += check_rates(rows)
    return rows, problems


def _columns(header: Sequence[str] | None) -> tuple[dict[str, int], list[Problem]]:
    if header is None:
        return {}, [Problem("rates.empty", "row 1", f"the file is empty; expected {','.join(COLUMNS)}")]
    names = [cell.strip().lower() for cell in header]
    problems = [
        Problem(
            "rates.unknown_column", f"row 1, column {i + 1}", f"{name!r} is not one of {', '.join(COLUMNS)}"
        )
        for i, name in enumerate(names)
        if name not in COLUMNS
    ]
    problems += [
        Problem("rates.missing_column", "row 1", f"no {name} column")
        for name in sorted(REQUIRED - set(names))
    ]
    problems += [
        Problem("rates.duplicate_column", "row 1", f"{name} appears twice")
        for name in sorted({n for n in names if names.count(n) > 1})
    ]
    return {name: i for i, name in enumerate(names)}, problems


def _row(record: Sequence[str], columns: dict[str, int], number: int) -> tuple[RateRow | None, list[Problem]]:
    where = f"row {number}"

    def cell(name: str) -> str:
        i = columns.get(name)
        return record[i].strip() if i is not None and i < len(record) else ""

    if len(record) > len(columns):
        return None, [
            Problem("rates.extra_cells", where, f"{len(record)} cells under {len(columns)} columns")
        ]
    try:
        cents = parse_cents(cell("amount"), field="amount")
    except MoneyError as exc:
        return None, [Problem("rates.bad_amount", f"{where}, column amount", f"{exc.value!r} {exc.reason}")]
    code = cell("procedure_code").upper()
    return RateRow(code, normal_modifiers(cell("modifiers")), cents, where), []


def write_rate_table(rows: Iterable[RateRow]) -> str:
    """The CSV of a table, one row per rate, in the order given."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row.procedure_code, row.modifiers, format_plain(row.amount_cents)])
    return out.getvalue()
