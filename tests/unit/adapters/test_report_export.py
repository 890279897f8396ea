"""A report table written three ways: the same cells in CSV, xlsx (read back with openpyxl)
and PDF (its text read back with pypdf), money from integer cents."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest
from pypdf import PdfReader

from revcycle.adapters.report_export import Column, media_type, render, table_of

TABLE = table_of(
    "Aging by payer",
    [
        Column("payer", "Payer"),
        Column("claims", "Claims", "int"),
        Column("balance_cents", "Balance", "cents"),
        Column("share", "Share", "share"),
        Column("oldest_on", "Oldest service", "date"),
    ],
    [
        {
            "payer": "Aetna",
            "claims": 12,
            "balance_cents": 123450,
            "share": 0.75,
            "oldest_on": date(2026, 1, 5),
        },
        {"payer": "Cigna, Inc.", "claims": 3, "balance_cents": 41150, "share": 0.25, "oldest_on": None},
    ],
    generated_on=date(2026, 11, 26),
    filters=[("As of", "2026-11-26"), ("Basis", "date of service")],
    totals={"payer": "Total", "claims": 15, "balance_cents": 164600, "share": 1.0},
    notes=["Balance: the payer's open insurance A/R on the claim, from the ledger."],
    tones=["bucket-1", "bucket-4"],
)


def test_csv_has_the_header_rows_and_totals_as_numbers() -> None:
    rows = list(csv.reader(io.StringIO(render(TABLE, "csv").decode())))

    assert rows == [
        ["Payer", "Claims", "Balance", "Share", "Oldest service"],
        ["Aetna", "12", "1234.50", "0.7500", "2026-01-05"],
        ["Cigna, Inc.", "3", "411.50", "0.2500", ""],
        ["Total", "15", "1646.00", "1.0000", ""],
    ]


def test_xlsx_keeps_numbers_as_numbers_with_their_formats() -> None:
    book = openpyxl.load_workbook(io.BytesIO(render(TABLE, "xlsx")))
    sheet = book.active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]

    assert values[0][0] == "Aging by payer"
    assert values[2][:2] == ["As of", "2026-11-26"]
    header = values.index(["Payer", "Claims", "Balance", "Share", "Oldest service"])
    assert values[header + 1][:4] == ["Aetna", 12, 1234.5, 0.75]
    assert values[header + 1][4].date() == date(2026, 1, 5)
    assert values[header + 3][:4] == ["Total", 15, 1646, 1]
    assert sheet.cell(header + 2, 3).number_format == "$#,##0.00"
    assert sheet.cell(header + 2, 4).number_format == "0.0%"


def test_pdf_prints_title_filters_money_and_notes() -> None:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(render(TABLE, "pdf"))).pages)

    for expected in (
        "Aging by payer",
        "Basis: date of service",
        "$1,234.50",
        "75.0%",
        "$1,646.00",
        "from the ledger",
    ):
        assert expected in text


def test_an_unknown_format_is_refused_and_names_are_safe() -> None:
    with pytest.raises(ValueError, match="'docx' is not one of csv, xlsx, pdf"):
        render(TABLE, "docx")
    assert TABLE.filename_stem == "aging-by-payer-2026-11-26"
    assert media_type("xlsx").endswith("spreadsheetml.sheet")
