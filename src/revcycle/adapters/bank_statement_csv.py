"""The bank statement CSV: the lines of a bank account's export, to reconcile deposits.

Banks name their columns in many ways; the reader takes the usual ones, in any case and order::

    Posting Date,Description,Amount,Type,Balance,Check or Slip #
    03/05/2026,"HCCLAIMPMT TRN*1*1234567890*1512345678\\",1234.56,ACH_CREDIT,9000.00,
    2026-03-06,CASH DEPOSIT,(12.00),,,

* the date: ``Posting Date`` (else ``Date`` or ``Transaction Date``; ISO
  ``2026-03-05`` or ``03/05/2026``);
* the text: ``Description`` (else ``Memo`` or ``Payee``);
* the money: one signed ``Amount`` column (``"$1,234.56"``, ``-12.00``, ``(12.00)``), or a
  ``Credit`` and a ``Debit`` column (a debit counts as money out whatever its sign);
* a reference, when the bank gives one: ``Reference``, ``Check Number``, ``Check or Slip #``.

Other columns (balance, type, category) are ignored. Amounts go through
:func:`revcycle.money.parse_cents`: a fraction of a cent is refused, never rounded. Rows are
numbered as a spreadsheet shows them (the header is row 1) and each problem names the file,
the row and the column; the caller refuses the whole file on any problem.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from revcycle.domain.problems import Problem
from revcycle.money import MoneyError, parse_cents

__all__ = ["MAX_ROWS", "BankLine", "read_bank_statement"]

MAX_ROWS = 100_000
MAX_DESCRIPTION = 200  # deposits.description
MAX_REFERENCE = 80  # deposits.reference

# Our field -> the header names that mean it, preferred first (compared lower-case, spaces
# collapsed): a file with both a Description and a Memo column takes the Description.
_ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("posting date", "posted date", "post date", "date", "transaction date", "trans date"),
    "description": ("description", "transaction description", "memo", "payee"),
    "amount": ("amount", "transaction amount"),
    "credit": ("credit", "credits", "credit amount", "deposits", "deposit"),
    "debit": ("debit", "debits", "debit amount", "withdrawals", "withdrawal"),
    "reference": ("reference", "reference number", "ref", "check number", "check or slip #", "check #"),
}
_BY_NAME = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}
_RANK = {alias: rank for aliases in _ALIASES.values() for rank, alias in enumerate(aliases)}
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


@dataclass(frozen=True)
class BankLine:
    """One line of the statement: money in (``amount_cents`` > 0) or out (< 0)."""

    row: int
    posted_on: date
    description: str
    amount_cents: int
    reference: str = ""

    @property
    def is_credit(self) -> bool:
        return self.amount_cents > 0


def read_bank_statement(data: bytes, filename: str) -> tuple[list[BankLine], list[Problem]]:
    """The statement's lines and every problem found in it (the caller refuses the file on any)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [Problem("bank.encoding", f"{filename}, byte {exc.start}", "is not UTF-8 text")]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    columns, problems = _columns(header, filename)
    if problems:
        return [], problems
    lines: list[BankLine] = []
    for number, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(lines) >= MAX_ROWS:
            return [], [
                Problem("bank.too_many", f"{filename}, row {number}", f"more than {MAX_ROWS:,} lines")
            ]
        line, row_problems = _line(record, columns, number, filename)
        problems += row_problems
        if line is not None:
            lines.append(line)
    if not lines and not problems:
        problems.append(Problem("bank.empty", f"{filename}, row 2", "the file has no lines under its header"))
    return lines, problems


def _normal(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").split())


def _columns(header: Sequence[str] | None, filename: str) -> tuple[dict[str, int], list[Problem]]:
    where = f"{filename}, row 1"
    if header is None:
        return {}, [Problem("bank.empty", where, "the file is empty; expected Date, Description, Amount")]
    names = [_normal(cell) for cell in header]
    problems = [
        Problem("bank.duplicate_column", f"{where}, column {i + 1}", f"{header[i].strip()!r} appears twice")
        for i, name in enumerate(names)
        if name in _BY_NAME and name in names[:i]
    ]
    columns: dict[str, int] = {}
    for i, name in sorted(enumerate(names), key=lambda pair: _RANK.get(pair[1], 0), reverse=True):
        field = _BY_NAME.get(name)
        if field is not None:
            columns[field] = i  # the preferred name is written last
    if "date" not in columns:
        problems.append(Problem("bank.missing_column", where, "no date column (Date or Posting Date)"))
    if "description" not in columns:
        problems.append(Problem("bank.missing_column", where, "no description column (Description or Memo)"))
    if "amount" not in columns and not {"credit", "debit"} & columns.keys():
        problems.append(
            Problem("bank.missing_column", where, "no amount column (Amount, or Credit and Debit)")
        )
    return columns, problems


def _line(
    record: Sequence[str], columns: dict[str, int], number: int, filename: str
) -> tuple[BankLine | None, list[Problem]]:
    where = f"{filename}, row {number}"

    def cell(field: str) -> str:
        i = columns.get(field)
        return record[i].strip() if i is not None and i < len(record) else ""

    problems: list[Problem] = []
    posted_on = _date(cell("date"))
    if posted_on is None:
        problems.append(
            Problem(
                "bank.bad_date",
                f"{where}, column date",
                f"{cell('date')!r} is not a date (YYYY-MM-DD or MM/DD/YYYY)",
            )
        )
    amount, amount_problems = _amount(cell, where)
    problems += amount_problems
    description, reference = cell("description"), cell("reference")
    if len(description) > MAX_DESCRIPTION:
        problems.append(
            Problem(
                "bank.too_long",
                f"{where}, column description",
                f"is longer than {MAX_DESCRIPTION} characters",
            )
        )
    if len(reference) > MAX_REFERENCE:
        problems.append(
            Problem(
                "bank.too_long", f"{where}, column reference", f"is longer than {MAX_REFERENCE} characters"
            )
        )
    if problems or posted_on is None or amount is None:
        return None, problems
    return BankLine(number, posted_on, description, amount, reference), []


def _amount(cell: Callable[[str], str], where: str) -> tuple[int | None, list[Problem]]:
    """The signed amount: the Amount column, else Credit minus Debit (a blank cell is none)."""
    fields = ("amount",) if cell("amount") else ("credit", "debit")
    if not any(cell(field) for field in fields):
        return None, [
            Problem(
                "bank.bad_amount", f"{where}, column amount", "no amount (Amount, Credit and Debit are empty)"
            )
        ]
    total = 0
    for field in fields:
        text = cell(field)
        if not text:
            continue
        try:
            cents = parse_cents(text, field=field)
        except MoneyError as exc:
            return None, [
                Problem("bank.bad_amount", f"{where}, column {field}", f"{exc.value!r} {exc.reason}")
            ]
        total += -abs(cents) if field == "debit" else cents
    return total, []


def _date(text: str) -> date | None:
    match = _US_DATE.fullmatch(text)
    try:
        if match:
            month, day, year = (int(g) for g in match.groups())
            return date(year, month, day)
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        return None
    return None
