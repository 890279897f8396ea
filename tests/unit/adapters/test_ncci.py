"""The CMS NCCI PTP file: read as text or from its zip; wrong lines named by line and column."""

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest

from revcycle.adapters.codesets import CodeSetFileError
from revcycle.adapters.ncci import parse_ncci_lines, read_ncci_file
from revcycle.domain.scrubber import NcciPair

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "ncci" / "ptp_practitioner_synthetic.txt"
HEADER = [
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date\tModifier\tRationale"
]


def _read(lines: list[str]) -> list[NcciPair]:
    return list(parse_ncci_lines(HEADER + lines, source="ptp.txt"))


def _error(lines: list[str]) -> CodeSetFileError:
    with pytest.raises(CodeSetFileError) as caught:
        _read(lines)
    return caught.value


def test_the_sample_file_reads_every_edit_after_its_header() -> None:
    with SAMPLE.open("rb") as stream:
        pairs = list(read_ncci_file(stream, SAMPLE.name))

    assert len(pairs) == 8
    assert pairs[0] == NcciPair("90791", "90785", date(2013, 1, 1), None, "1")
    assert pairs[5] == NcciPair("90846", "90832", date(2014, 1, 1), date(2015, 12, 31), "1")
    assert [p.modifier_indicator for p in pairs] == ["1", "0", "1", "0", "0", "1", "9", "1"]


def test_the_zip_holding_the_text_file_reads_the_same() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ccipra-v321r0-f1.TXT", SAMPLE.read_bytes())
        archive.writestr("Disclaimer.pdf", b"%PDF-1.4")
    buffer.seek(0)

    pairs = list(read_ncci_file(buffer, "ccipra-v321r0-f1.zip"))

    with SAMPLE.open("rb") as stream:
        assert pairs == list(read_ncci_file(stream, SAMPLE.name))


def test_a_zip_without_exactly_one_text_file_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", b"")
        archive.writestr("b.txt", b"")
    buffer.seek(0)

    with pytest.raises(CodeSetFileError, match=r"edits\.zip: expected one \.txt file .* found 2"):
        list(read_ncci_file(buffer, "edits.zip"))


def test_a_broken_zip_is_refused() -> None:
    with pytest.raises(CodeSetFileError, match="not a readable zip"):
        list(read_ncci_file(io.BytesIO(b"PK\x03\x04 not really"), "edits.zip"))


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("9079\t90832\t\t20130101\t*\t0\tx", 1, "'9079' is not a CPT or HCPCS code"),
        ("90791\t9083A1\t\t20130101\t*\t0\tx", 2, "not a CPT or HCPCS code"),
        ("90791\t90832\tx\t20130101\t*\t0\tx", 3, "expected '*' or nothing"),
        ("90791\t90832\t\t2013-01-01\t*\t0\tx", 4, "effective date must be a date YYYYMMDD"),
        ("90791\t90832\t\t20130231\t*\t0\tx", 4, "effective date"),
        ("90791\t90832\t\t20130101\tnever\t0\tx", 5, "deletion date must be YYYYMMDD or '*'"),
        ("90791\t90832\t\t20130101\t*\t2\tx", 6, "modifier indicator must be 0, 1 or 9, got '2'"),
        ("90791,90832,,20130101,*,0,x", 1, "(the line has 1 tab-separated column; expected 7)"),
        ("90791\t90832\t\t20130101", 5, "the line has 4 tab-separated columns; expected 7"),
    ],
)
def test_a_wrong_line_is_named_by_line_and_column(line: str, column: int, words: str) -> None:
    error = _error(["90791\t90785\t\t20130101\t*\t1\tok", line])

    [problem] = error.problems
    assert problem.where.startswith(f"ptp.txt line 3, column {column} (")
    assert words in problem.message
    assert str(error).startswith(f"ptp.txt line 3, column {column}")


def test_every_wrong_place_is_reported_and_nothing_is_yielded_after_the_first() -> None:
    lines = [
        "90791\t90785\t\t20130101\t*\t1\tok",
        "bad",
        "90791\t90832\t\t2013\t*\t7\tx",
        "90792\t90791\t\t20130101\t*\t0\t",
    ]
    yielded: list[NcciPair] = []

    with pytest.raises(CodeSetFileError) as caught:
        yielded.extend(parse_ncci_lines(HEADER + lines, source="ptp.txt"))

    assert [p.where.split(" (")[0] for p in caught.value.problems] == [
        "ptp.txt line 3, column 1",
        "ptp.txt line 4, column 4",
        "ptp.txt line 4, column 6",
    ]
    assert len(yielded) == 1


def test_a_file_that_is_not_a_ptp_table_is_refused_at_its_first_line_past_the_header() -> None:
    text = [f"name,value,{n}" for n in range(20)]

    with pytest.raises(CodeSetFileError, match=r"ptp\.txt line 11, column 1 \(Column 1\)"):
        list(parse_ncci_lines(text, source="ptp.txt"))


def test_a_file_with_only_a_header_holds_no_edits() -> None:
    with pytest.raises(CodeSetFileError, match="holds no PTP edits"):
        _read([])
