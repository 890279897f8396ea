"""Reading an uploaded CSV file: bytes in, a header and numbered rows of text out.

What arrives as "a CSV" is whatever the EHR or an old billing system wrote, then perhaps
re-saved by Excel: UTF-8 with or without a byte-order mark, or Windows-1252; commas,
semicolons (European Excel) or tabs; CRLF or LF; quoted cells holding commas and line
breaks; blank lines at the end. :func:`read_csv` finds out which, once, and returns a
:class:`CsvTable` that reads the rows lazily: iterating it streams the file, so memory does
not grow with the file (a path is re-opened on each iteration; ``bytes`` are already held).

Row numbers, everywhere in this package and in every message: **the line of the file on
which the row starts, counting the first line as 1**. For an ordinary export this is the row
number a spreadsheet shows (the header is row 1, the first data row is row 2, a summary line
above the header makes the header row 2). Only after a quoted cell that holds a line break do
the two differ, and then the line number is the one a text editor jumps to.

Blank lines (and rows whose cells are all empty) are skipped wherever they are. A row with
fewer cells than the header, or with more cells that are not all empty, is refused for the
whole file: it means the delimiter or the quoting is broken, and every later value would sit
under the wrong column.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

__all__ = ["CsvInputError", "CsvTable", "column_letter", "location", "read_csv"]

_CHUNK_BYTES = 1 << 20
_DELIMITERS = (",", ";", "\t")
# Signatures of files people upload by mistake instead of the CSV export.
_SIGNATURES = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"{\\rtf", "an RTF document"),
    (codecs.BOM_UTF16_LE, "UTF-16 text (save it as CSV UTF-8)"),
    (codecs.BOM_UTF16_BE, "UTF-16 text (save it as CSV UTF-8)"),
)
# A valid UTF-8 multi-byte sequence. Windows-1252 text practically never contains one
# (it would need e.g. "Ã©"), so finding one in a file that is not valid UTF-8 means the
# file mixes encodings, and guessing either way would corrupt names.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
# "230 clients", "9 clinicians", "1,204 appointments": the summary line SimplePractice
# writes above the header of some reports.
_SUMMARY_CELL = re.compile(r"\s*\$?[0-9][0-9,.]*\s+[A-Za-z][A-Za-z /-]*\s*")


class CsvInputError(ValueError):
    """A file that cannot be read as the CSV it claims to be; names file, row, column and value.

    ``str()`` reads ``export.csv row 14, column "Total Fee": "12.3.4" is not an amount``;
    parts that do not apply are left out (``export.csv: is empty``).
    """

    def __init__(
        self,
        file: str,
        row: int | None,
        column: str | None,
        value: str | None,
        message: str,
        *,
        byte_offset: int | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        self.message = message
        self.byte_offset = byte_offset
        where = location(file, row, column)
        detail = message if value is None else f"{quote(value)} {message}"
        super().__init__(f"{where}: {detail}")


def location(
    file: str, row: int | None = None, column: str | None = None, *, letter: str | None = None
) -> str:
    """``export.csv row 14, column "Total Fee"``: the ``where`` of every message.

    ``letter`` (the spreadsheet column, ``P``) is added where the header repeats a name:
    ``export.csv row 14, column "Charge" (P)``.
    """
    text = file if row is None else f"{file} row {row}"
    if column is not None:
        text = f'{text}, column "{column}"'
    return text if letter is None else f"{text} ({letter})"


def quote(value: str, *, limit: int = 60) -> str:
    """A cell's value as it appears in messages: in double quotes, long ones shortened."""
    shown = value if len(value) <= limit else value[: limit - 1] + "…"
    return f'"{shown}"'


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


@dataclass(frozen=True, eq=False)
class CsvTable:
    """A CSV file whose encoding, delimiter and header are known; iterate for the rows.

    Iterating yields ``(row_number, cells)`` for every non-blank row after the header, with
    exactly ``len(header)`` cells (surplus empty trailing cells are dropped). ``summary``
    holds the cells of a summary line found above the header (``230 clients,...``), if any.
    """

    filename: str
    encoding: str
    delimiter: str
    header: list[str]
    header_row: int
    summary: tuple[str, ...] | None
    source: Path | bytes = field(repr=False)

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        width = len(self.header)
        for row_number, cells in _records(self):
            if row_number <= self.header_row:
                continue
            yield row_number, (cells if len(cells) == width else self._fit(row_number, cells))

    def _fit(self, row_number: int, cells: list[str]) -> list[str]:
        width = len(self.header)
        if len(cells) > width and not any(cells[width:]):
            return cells[:width]
        if len(cells) < width:
            missing = self.header[len(cells)]
            raise CsvInputError(
                self.filename,
                row_number,
                missing,
                None,
                f"is missing: the row has {len(cells)} cells and the header {width} "
                "(a wrong delimiter, or a quote left open?)",
            )
        surplus = next(index for index in range(width, len(cells)) if cells[index])
        raise CsvInputError(
            self.filename,
            row_number,
            None,
            cells[surplus],
            f"is in column {column_letter(surplus)}, beyond the header: the row has {len(cells)} "
            f"cells and the header {width} (a comma inside an unquoted cell?)",
        )


def read_csv(source: str | os.PathLike[str] | bytes, *, filename: str | None = None) -> CsvTable:
    """Open a CSV file (a path, or the bytes of an upload) and read its header.

    Reads the whole file once to settle the encoding (so a bad byte near the end is refused
    before any row is used), then only the header. Raises :class:`CsvInputError` for a file
    that is not CSV text, is empty, or mixes encodings.
    """
    data: Path | bytes = source if isinstance(source, bytes) else Path(source)
    name = filename or (data.name if isinstance(data, Path) else "upload.csv")
    encoding = _detect_encoding(data, name)
    first_line = _first_line(data, encoding)
    delimiter = _sniff_delimiter(first_line)
    partial = CsvTable(name, encoding, delimiter, [], 0, None, data)
    header_row, header, summary = _find_header(partial)
    return CsvTable(name, encoding, delimiter, header, header_row, summary, data)


def _open_binary(source: Path | bytes) -> BinaryIO:
    return io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")


def _records(table: CsvTable) -> Iterator[tuple[int, list[str]]]:
    """Every non-blank record of the file (header included) with the line it starts on."""
    with _open_binary(table.source) as binary:
        text = io.TextIOWrapper(binary, encoding=table.encoding, newline="")
        reader = csv.reader(text, delimiter=table.delimiter, strict=True)
        line = 0
        try:
            for cells in reader:
                start, line = line + 1, reader.line_num
                if any(cells):
                    yield start, cells
        except csv.Error as exc:
            raise CsvInputError(table.filename, line + 1, None, None, f"is not valid CSV: {exc}") from exc


def _find_header(table: CsvTable) -> tuple[int, list[str], tuple[str, ...] | None]:
    records = _records(table)
    first = next(records, None)
    if first is None:
        raise CsvInputError(table.filename, None, None, None, "is empty: it has no header row")
    row_number, cells = first
    if _is_summary(cells):
        second = next(records, None)
        if second is not None:
            return second[0], second[1], tuple(cells)
    return row_number, cells, None


def _is_summary(cells: list[str]) -> bool:
    filled = [cell for cell in cells if cell.strip()]
    return len(filled) >= 2 and all(_SUMMARY_CELL.fullmatch(cell) for cell in filled)


def _detect_encoding(source: Path | bytes, filename: str) -> str:
    """utf-8-sig (with BOM), utf-8, or cp1252; refuse binaries and mixed or broken bytes."""
    with _open_binary(source) as binary:
        head = binary.read(8)
        _refuse_binary_signature(head, filename)
        has_bom = head.startswith(codecs.BOM_UTF8)
        binary.seek(len(codecs.BOM_UTF8) if has_bom else 0)
        scan = _EncodingScan(filename, first_offset=binary.tell())
        for piece in _line_aligned_pieces(binary):
            scan.feed(piece)
    if not scan.has_content:
        raise CsvInputError(filename, None, None, None, "is empty")
    if scan.is_utf8:
        return "utf-8-sig" if has_bom else "utf-8"
    return "cp1252"


def _refuse_binary_signature(head: bytes, filename: str) -> None:
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            raise CsvInputError(filename, None, None, None, f"is not a CSV file: it is {kind}")


def _line_aligned_pieces(binary: BinaryIO) -> Iterator[bytes]:
    # Cut at b"\n", which is never part of a multi-byte character in UTF-8 or cp1252, so
    # each piece decodes on its own and error offsets are exact.
    carry = b""
    while chunk := binary.read(_CHUNK_BYTES):
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
        carry = data[cut:]
    if carry:
        yield carry


class _EncodingScan:
    """Follows the file piece by piece: still UTF-8, or cp1252 since some byte offset."""

    def __init__(self, filename: str, *, first_offset: int) -> None:
        self.filename = filename
        self.offset = first_offset
        self.line = 1
        self.is_utf8 = True
        self.saw_utf8_sequence = False
        self.first_bad_utf8: tuple[int, int, int] | None = None
        self.has_content = False

    def feed(self, piece: bytes) -> None:
        if b"\0" in piece:
            self._fail(piece, piece.index(b"\0"), "is a NUL byte: this is a binary file, not CSV text")
        self.has_content = self.has_content or bool(piece.strip())
        if self.is_utf8:
            self._feed_utf8(piece)
        else:
            self._feed_cp1252(piece, 0)
        self.offset += len(piece)
        self.line += piece.count(b"\n")

    def _feed_utf8(self, piece: bytes) -> None:
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.first_bad_utf8 = (
                self.offset + exc.start,
                self.line + piece.count(b"\n", 0, exc.start),
                piece[exc.start],
            )
            self.saw_utf8_sequence = self.saw_utf8_sequence or _has_high_bytes(piece[: exc.start])
            self.is_utf8 = False
            self._feed_cp1252(piece, exc.start)
            return
        self.saw_utf8_sequence = self.saw_utf8_sequence or _has_high_bytes(piece)

    def _feed_cp1252(self, piece: bytes, start: int) -> None:
        try:
            piece.decode("cp1252")
        except UnicodeDecodeError as exc:
            self._fail(piece, exc.start, "is neither UTF-8 nor Windows-1252 text (save it as CSV UTF-8)")
        if self.saw_utf8_sequence or _UTF8_SEQUENCE.search(piece, start):
            assert self.first_bad_utf8 is not None
            offset, line, byte = self.first_bad_utf8
            raise CsvInputError(
                self.filename,
                line,
                None,
                None,
                f"byte 0x{byte:02X} at byte offset {offset} is not UTF-8, but other characters "
                "are: the file mixes encodings (save it again as CSV UTF-8)",
                byte_offset=offset,
            )

    def _fail(self, piece: bytes, index: int, reason: str) -> None:
        offset = self.offset + index
        line = self.line + piece.count(b"\n", 0, index)
        raise CsvInputError(
            self.filename,
            line,
            None,
            None,
            f"byte 0x{piece[index]:02X} at byte offset {offset} {reason}",
            byte_offset=offset,
        )


def _has_high_bytes(data: bytes) -> bool:
    return not data.isascii()


def _first_line(source: Path | bytes, encoding: str) -> str:
    with _open_binary(source) as binary:
        text = io.TextIOWrapper(binary, encoding=encoding, newline="")
        for line in text:
            if line.strip():
                return line
    return ""


def _sniff_delimiter(line: str) -> str:
    """The delimiter used most often outside quotes in the header line; comma on a tie."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
