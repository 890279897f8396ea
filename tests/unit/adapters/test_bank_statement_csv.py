"""The bank statement CSV: tolerant headers, both date shapes, amounts to the cent, every
problem named by file, row and column."""

from __future__ import annotations

from datetime import date

import pytest

from revcycle.adapters.bank_statement_csv import BankLine, read_bank_statement


def read(text: str) -> tuple[list[BankLine], list[str]]:
    lines, problems = read_bank_statement(text.encode(), "may.csv")
    return lines, [f"{p.where}: {p.message}" for p in problems]


def test_a_signed_amount_column_with_iso_and_us_dates() -> None:
    lines, problems = read(
        "Date,Description,Amount\n"
        '2026-03-05,"HCCLAIMPMT TRN*1*1234567890*1512345678\\","$1,234.56"\n'
        "03/06/2026,SERVICE FEE,(12.00)\n"
        "3/7/2026,CASH DEPOSIT,-0.50\n"
    )
    assert problems == []
    assert [(x.row, x.posted_on, x.amount_cents, x.is_credit) for x in lines] == [
        (2, date(2026, 3, 5), 123456, True),
        (3, date(2026, 3, 6), -1200, False),
        (4, date(2026, 3, 7), -50, False),
    ]
    assert lines[0].description == "HCCLAIMPMT TRN*1*1234567890*1512345678\\"


def test_bank_export_headers_in_any_case_with_extra_columns_and_a_reference() -> None:
    lines, problems = read(
        "Details,Posting Date,MEMO,Amount,Type,Balance,Check or Slip #\n"
        "CREDIT,04/01/2026,DEPOSIT,300.00,DEPOSIT,1000.00,5512\n"
    )
    assert problems == []
    assert lines == [BankLine(2, date(2026, 4, 1), "DEPOSIT", 30000, "5512")]


def test_the_preferred_of_two_date_or_text_columns_is_taken() -> None:
    lines, problems = read(
        "Transaction Date,Posting Date,Memo,Description,Amount\n"
        "03/01/2026,03/02/2026,memo,EFT TRN*1*77,5.00\n"
    )
    assert problems == []
    assert (lines[0].posted_on, lines[0].description) == (date(2026, 3, 2), "EFT TRN*1*77")


def test_credit_and_debit_columns_make_one_signed_amount() -> None:
    lines, problems = read(
        "posting_date,description,credit,debit\n"
        "2026-04-01,EFT IN,250.10,\n"
        "2026-04-02,CHECK 101,,75.00\n"
        "2026-04-03,FEE,,-5.00\n"
    )
    assert problems == []
    assert [x.amount_cents for x in lines] == [25010, -7500, -500]


def test_blank_lines_are_skipped_and_rows_keep_their_spreadsheet_number() -> None:
    lines, problems = read("Date,Description,Amount\n\n,,\n2026-04-01,X,1.00\n")
    assert problems == []
    assert [x.row for x in lines] == [4]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("2026-04-01,X,1.005", "may.csv, row 2, column amount: '1.005' has a fraction of a cent"),
        ("2026-04-01,X,abc", "may.csv, row 2, column amount: 'abc' is not a money amount"),
        ("2026-04-01,X,", "may.csv, row 2, column amount: no amount"),
        ("04/31/2026,X,1.00", "may.csv, row 2, column date: '04/31/2026' is not a date"),
        ("2026/04/01,X,1.00", "may.csv, row 2, column date: '2026/04/01' is not a date"),
        ("04/01/26,X,1.00", "may.csv, row 2, column date: '04/01/26' is not a date"),
        (f"2026-04-01,{'x' * 201},1.00", "may.csv, row 2, column description: is longer than 200"),
    ],
)
def test_a_bad_row_is_named_by_file_row_and_column(row: str, expected: str) -> None:
    lines, problems = read(f"Date,Description,Amount\n{row}\n")
    assert lines == []
    assert len(problems) == 1
    assert problems[0].startswith(expected), problems


def test_every_bad_row_is_reported_not_only_the_first() -> None:
    _lines, problems = read("Date,Description,Amount\n2026-04-01,A,1.00\nnope,B,2.00\n2026-04-03,C,1.001\n")
    assert [p.split(":")[0] for p in problems] == [
        "may.csv, row 3, column date",
        "may.csv, row 4, column amount",
    ]


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("Description,Amount", "no date column"),
        ("Date,Amount", "no description column"),
        ("Date,Description,Balance", "no amount column"),
    ],
)
def test_a_missing_column_is_named(header: str, missing: str) -> None:
    lines, problems = read(f"{header}\n2026-04-01,X\n")
    assert lines == []
    assert problems == [f"may.csv, row 1: {missing}" + problems[0].split(missing, 1)[1]]


def test_a_duplicate_column_an_empty_file_and_bad_encoding_are_refused() -> None:
    assert read("Date,Description,date,Amount\n")[1] == ["may.csv, row 1, column 3: 'date' appears twice"]
    assert read("")[1] == ["may.csv, row 1: the file is empty; expected Date, Description, Amount"]
    assert read("Date,Description,Amount\n")[1] == ["may.csv, row 2: the file has no lines under its header"]
    _lines, problems = read_bank_statement(b"Date,Description,Amount\n\xff\n", "may.csv")
    assert [p.code for p in problems] == ["bank.encoding"]


def test_a_utf8_bom_is_ignored() -> None:
    lines, problems = read_bank_statement("\ufeffDate,Description,Amount\n2026-04-01,X,2\n".encode(), "b.csv")
    assert problems == []
    assert lines[0].amount_cents == 200
