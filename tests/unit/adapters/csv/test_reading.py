"""Reading uploads: encodings, delimiters, quoting, row numbers, and files that are not CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from revcycle.adapters.csv import CsvInputError, read_csv
from revcycle.adapters.csv.reading import column_letter

from .conftest import DATA

HEADER = "Date of Service,Client,Clinician,Billing Code"


def rows(data: bytes, filename: str = "export.csv") -> list[tuple[int, list[str]]]:
    return list(read_csv(data, filename=filename))


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter"),
    [
        ("simplepractice_appointments.csv", "utf-8", ","),
        ("simplepractice_utf8_bom_crlf.csv", "utf-8-sig", ","),
        ("simplepractice_cp1252_semicolon.csv", "cp1252", ";"),
        ("simplepractice_tab.csv", "utf-8", "\t"),
    ],
)
def test_encoding_and_delimiter_are_detected(name: str, encoding: str, delimiter: str) -> None:
    table = read_csv(DATA / name)
    assert (table.filename, table.encoding, table.delimiter) == (name, encoding, delimiter)
    assert table.header[0] == "Date of Service"  # no BOM left on the first name
    assert table.header.count("Charge") == 2  # duplicates kept verbatim


def test_the_same_rows_whatever_the_encoding_delimiter_or_line_ends() -> None:
    variants = [
        "simplepractice_utf8_bom_crlf.csv",
        "simplepractice_cp1252_semicolon.csv",
        "simplepractice_tab.csv",
    ]
    read = [list(read_csv(DATA / name)) for name in variants]
    assert read[0] == read[1] == read[2]
    assert read[0][0][1][1] == "José Núñez"
    assert read[0][1][1][1] == "Zoë Ärger"


def test_a_path_and_its_bytes_read_the_same() -> None:
    path = DATA / "simplepractice_appointments.csv"
    assert list(read_csv(path)) == list(read_csv(path.read_bytes(), filename=path.name))
    assert list(read_csv(str(path))) == list(read_csv(path))


def test_a_table_can_be_iterated_again() -> None:
    table = read_csv(DATA / "ar_aging.csv")
    assert list(table) == list(table)


def test_row_numbers_are_file_lines_and_skip_blank_lines() -> None:
    data = f"{HEADER}\n\n10/06/2025 12:00,A,B,90837\n\n\n10/07/2025 12:00,C,D,90834\n\n\n".encode()
    assert [number for number, _ in rows(data)] == [3, 6]


def test_a_quoted_line_break_moves_later_row_numbers_by_one_line() -> None:
    data = b'Client,Address\nA,"12 Main St\nApt 4"\nB,"1 Elm, Unit 2"\n'
    assert rows(data) == [(2, ["A", "12 Main St\nApt 4"]), (4, ["B", "1 Elm, Unit 2"])]


def test_crlf_inside_and_outside_quotes() -> None:
    data = b'Client,Address\r\nA,"12 Main St\r\nApt 4"\r\nB,x\r\n'
    assert rows(data) == [(2, ["A", "12 Main St\r\nApt 4"]), (4, ["B", "x"])]


def test_delimiters_inside_quotes_do_not_count_when_sniffing() -> None:
    data = b'"Last, First";"City, State";Zip\n"Lee, Chris";"Newark, NJ";07102\n'
    table = read_csv(data, filename="x.csv")
    assert table.delimiter == ";"
    assert table.header == ["Last, First", "City, State", "Zip"]


def test_header_only_is_a_file_with_no_rows() -> None:
    table = read_csv(f"{HEADER}\r\n".encode(), filename="export.csv")
    assert table.header == HEADER.split(",")
    assert list(table) == []


def test_surplus_empty_cells_are_dropped() -> None:
    assert rows(b"A,B\n1,2,,\n") == [(2, ["1", "2"])]


def test_summary_line_above_the_header_is_recognised() -> None:
    table = read_csv(DATA / "attendance.csv")
    assert table.summary is not None
    assert table.summary[0] == "230 clients"
    assert table.header_row == 2
    assert table.header[0] == "date_of_service"
    assert next(iter(table))[0] == 3


def test_a_header_that_merely_starts_with_numbers_is_not_a_summary() -> None:
    table = read_csv(b"2024 Total,Client\n1,A\n", filename="x.csv")
    assert table.summary is None
    assert table.header == ["2024 Total", "Client"]


# --- files that cannot be read -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "a ZIP archive (an Excel .xlsx workbook?)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel .xls workbook"),
        (b"\xff\xfeD\x00a\x00t\x00e\x00", "UTF-16 text (save it as CSV UTF-8)"),
    ],
)
def test_other_kinds_of_file_are_not_csv(data: bytes, kind: str) -> None:
    with pytest.raises(CsvInputError) as caught:
        read_csv(data, filename="export.csv")
    assert str(caught.value) == f"export.csv: is not a CSV file: it is {kind}"


def test_nul_bytes_mean_a_binary_file() -> None:
    with pytest.raises(CsvInputError) as caught:
        read_csv(b"Client,Clinician\nA,B\nC\x00\x01,D\n", filename="export.csv")
    assert str(caught.value) == (
        "export.csv row 3: byte 0x00 at byte offset 22 is a NUL byte: this is a binary file, not CSV text"
    )
    assert (caught.value.row, caught.value.byte_offset) == (3, 22)


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\r\n  \n", b",,,\n,,\n"])
def test_empty_file(data: bytes) -> None:
    with pytest.raises(CsvInputError, match=r"^export\.csv: is empty"):
        read_csv(data, filename="export.csv")


def test_a_byte_undefined_in_windows_1252_is_refused_with_its_row_and_offset() -> None:
    data = b"Client,Clinician\nJos\xe9,B\nX\x81Y,D\n"
    with pytest.raises(CsvInputError) as caught:
        read_csv(data, filename="export.csv")
    assert str(caught.value) == (
        "export.csv row 3: byte 0x81 at byte offset 25 is neither UTF-8 nor Windows-1252 text "
        "(save it as CSV UTF-8)"
    )


@pytest.mark.parametrize(
    "data",
    [
        "Client,Clinician\nZoë,B\n".encode() + b"Jos\xe9,D\n",  # UTF-8 first, then a stray byte
        b"Client,Clinician\nJos\xe9,D\n" + "Zoë,B\n".encode(),  # the other way round
    ],
)
def test_a_file_mixing_utf8_and_windows_1252_is_refused(data: bytes) -> None:
    with pytest.raises(CsvInputError, match="mixes encodings") as caught:
        read_csv(data, filename="export.csv")
    assert caught.value.byte_offset is not None
    assert caught.value.row in (2, 3)


def test_an_encoding_error_far_into_a_large_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    body = "".join(f"Client {n},Zoë\n" for n in range(200_000))  # several read chunks
    path.write_bytes(f"Client,Clinician\n{body}".encode() + b"Bad\xff,x\n")
    with pytest.raises(CsvInputError) as caught:
        read_csv(path)
    assert caught.value.row == 200_002
    assert str(caught.value).startswith("big.csv row 200002: byte 0xFF")


def test_a_row_with_fewer_cells_than_the_header_names_the_missing_column() -> None:
    data = f"{HEADER}\n10/06/2025 12:00,A,B,90837\n10/07/2025 12:00,C,D\n".encode()
    with pytest.raises(CsvInputError) as caught:
        rows(data)
    assert str(caught.value) == (
        'export.csv row 3, column "Billing Code": is missing: the row has 3 cells and the header 4 '
        "(a wrong delimiter, or a quote left open?)"
    )


def test_a_row_with_more_cells_than_the_header_names_the_surplus_value() -> None:
    data = f"{HEADER}\n10/06/2025 12:00,Smith, Jordan,B,90837\n".encode()
    with pytest.raises(CsvInputError) as caught:
        rows(data)
    assert str(caught.value) == (
        'export.csv row 2: "90837" is in column E, beyond the header: the row has 5 cells and the '
        "header 4 (a comma inside an unquoted cell?)"
    )


def test_a_quote_left_open_is_refused_at_its_row() -> None:
    data = b'Client,Note\nA,"never closed\nB,x\n'
    with pytest.raises(CsvInputError, match=r"^export\.csv row 2"):
        rows(data)


def test_input_error_is_a_value_error_with_its_parts() -> None:
    error = CsvInputError("export.csv", 14, "Total Fee", "12.3.4", "is not an amount")
    assert isinstance(error, ValueError)
    assert str(error) == 'export.csv row 14, column "Total Fee": "12.3.4" is not an amount'
    assert (error.file, error.row, error.column, error.value) == ("export.csv", 14, "Total Fee", "12.3.4")


@pytest.mark.parametrize(("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (702, "AAA")])
def test_column_letters(index: int, letter: str) -> None:
    assert column_letter(index) == letter


def test_text_after_a_closing_quote_is_refused() -> None:
    data = b'Client,Note\nA,"quoted"tail\n'
    with pytest.raises(CsvInputError) as caught:
        rows(data)
    assert str(caught.value).startswith("export.csv row 2: is not valid CSV")


def test_a_quote_inside_an_unquoted_cell_is_just_a_character() -> None:
    assert rows(b'Client,Clinician\nDr. "Bob" Smith,B\n') == [(2, ['Dr. "Bob" Smith', "B"])]
