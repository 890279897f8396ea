"""Every report's table, written as CSV, Excel (xlsx) or PDF.

A report service answers a :class:`ReportTable` of plain values: a title, the filters it was
run with (printed on the PDF and the first rows of the workbook, so a printed page says what
it shows), typed columns and rows, and an optional totals row. This adapter lays the same
table out three ways:

* CSV: one header row, then the rows and the totals; money as dollars with two decimals
  (``1234.50``), dates ISO, shares as decimals (``0.125``): what a spreadsheet reads as numbers;
* xlsx (XlsxWriter): the same, money and shares as numbers with a currency or percent format,
  the header frozen, each column as wide as its longest value;
* PDF (WeasyPrint): a landscape Letter page of the table with its title, filters and the day
  it was made, money as ``$1,234.50``, rows coloured by their ``tone`` when a report gives one
  (the aging report colours rows by bucket).

Money is integer cents throughout; only the rendering turns it into dollars.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

import jinja2

from revcycle.money import format_cents

__all__ = [
    "FORMATS",
    "Column",
    "ReportTable",
    "media_type",
    "render",
    "rows_of",
    "table_of",
    "to_csv",
    "to_pdf",
    "to_xlsx",
]

ColumnKind = Literal["text", "cents", "int", "share", "days", "date"]
FORMATS = ("csv", "xlsx", "pdf")
_MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class Column:
    """One column: the row key it reads, its heading and how its values are written."""

    key: str
    label: str
    kind: ColumnKind = "text"


@dataclass(frozen=True)
class ReportTable:
    """A report as rows of plain values (cents as int, shares as float 0..1, dates as date)."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]
    generated_on: date
    filters: tuple[tuple[str, str], ...] = ()
    totals: Mapping[str, Any] | None = None
    notes: tuple[str, ...] = ()  # formulas and date bases, printed under the table
    tones: tuple[str, ...] = field(default=())  # per row: "" or a tone name (e.g. "bucket-3")

    @property
    def filename_stem(self) -> str:
        words = "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")
        return f"{'-'.join(w for w in words.split('-') if w)}-{self.generated_on.isoformat()}"


def media_type(fmt: str) -> str:
    return _MEDIA_TYPES[fmt]


def render(table: ReportTable, fmt: str) -> bytes:
    """The table in ``fmt`` (csv, xlsx or pdf); ValueError for another format."""
    if fmt == "csv":
        return to_csv(table)
    if fmt == "xlsx":
        return to_xlsx(table)
    if fmt == "pdf":
        return to_pdf(table)
    raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")


# --- CSV ------------------------------------------------------------------------------------


def _plain(value: Any, kind: ColumnKind) -> str:
    if value is None:
        return ""
    if kind == "cents":
        return str((Decimal(int(value)) / 100).quantize(Decimal("0.01")))
    if kind == "share":
        return f"{float(value):.4f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def to_csv(table: ReportTable) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.label for c in table.columns])
    for row in _rows_and_totals(table):
        writer.writerow([_plain(row.get(c.key), c.kind) for c in table.columns])
    return out.getvalue().encode("utf-8")


def _rows_and_totals(table: ReportTable) -> list[Mapping[str, Any]]:
    return [*table.rows, *([table.totals] if table.totals is not None else [])]


# --- xlsx -----------------------------------------------------------------------------------


def to_xlsx(table: ReportTable) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "default_date_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet(table.title[:31])
    bold = book.add_format({"bold": True})
    formats = {
        "cents": book.add_format({"num_format": "$#,##0.00"}),
        "share": book.add_format({"num_format": "0.0%"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
    }
    sheet.write(0, 0, table.title, bold)
    sheet.write(1, 0, f"Made {table.generated_on.isoformat()}")
    for offset, (name, shown) in enumerate(table.filters):
        sheet.write(2 + offset, 0, name)
        sheet.write(2 + offset, 1, shown)
    header_row = 3 + len(table.filters)
    widths = [len(c.label) for c in table.columns]
    for index, column in enumerate(table.columns):
        sheet.write(header_row, index, column.label, bold)
    for number, row in enumerate(_rows_and_totals(table), start=header_row + 1):
        for index, column in enumerate(table.columns):
            value = row.get(column.key)
            _write_cell(sheet, (number, index), value, column.kind, formats)
            widths[index] = max(widths[index], len(_plain(value, column.kind)) + 2)
    for index, width in enumerate(widths):
        sheet.set_column(index, index, min(width + 1, 60))
    sheet.freeze_panes(header_row + 1, 0)
    for offset, note in enumerate(table.notes, start=header_row + 2 + len(table.rows) + 1):
        sheet.write(offset, 0, note)
    book.close()
    return buffer.getvalue()


def _write_cell(
    sheet: Any, cell: tuple[int, int], value: Any, kind: ColumnKind, formats: Mapping[str, Any]
) -> None:
    row, col = cell
    if value is None:
        sheet.write_blank(row, col, None)
    elif kind == "cents":
        sheet.write_number(row, col, int(value) / 100, formats["cents"])
    elif kind == "share":
        sheet.write_number(row, col, float(value), formats["share"])
    elif kind in ("int", "days"):
        sheet.write_number(row, col, value)
    elif kind == "date" and isinstance(value, date):
        sheet.write_datetime(row, col, value, formats["date"])
    else:
        sheet.write_string(row, col, str(value))


# --- PDF ------------------------------------------------------------------------------------


def _shown(value: Any, kind: ColumnKind) -> str:
    if value is None:
        return ""
    if kind == "cents":
        return format_cents(int(value))
    if kind == "share":
        return f"{float(value) * 100:.1f}%"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "days":
        return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


@cache
def _environment() -> jinja2.Environment:
    loader = jinja2.FunctionLoader(
        lambda name: resources.files("revcycle.adapters").joinpath("templates", name).read_text("utf-8")
    )
    environment = jinja2.Environment(loader=loader, autoescape=True)
    environment.filters["shown"] = _shown
    return environment


def render_html(table: ReportTable) -> str:
    template = _environment().get_template("report_table.html")
    tones = table.tones or ("",) * len(table.rows)
    return template.render(table=table, rows=list(zip(table.rows, tones, strict=True)))


def to_pdf(table: ReportTable) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_html(table)).write_pdf()
    return pdf


def table_of(
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    *,
    generated_on: date,
    filters: Sequence[tuple[str, str]] = (),
    totals: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    tones: Sequence[str] = (),
) -> ReportTable:
    """A :class:`ReportTable` from sequences (tuples made here)."""
    return ReportTable(
        title, tuple(columns), tuple(rows), generated_on, tuple(filters), totals, tuple(notes), tuple(tones)
    )


def rows_of(items: Sequence[Any], columns: Sequence[Column]) -> tuple[dict[str, Any], ...]:
    """Table rows read from objects whose attributes are named as the columns' keys."""
    return tuple({column.key: getattr(item, column.key) for column in columns} for item in items)
