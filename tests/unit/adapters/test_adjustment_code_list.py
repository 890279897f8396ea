"""Reading an official CARC/RARC list: columns found by header, dates in either layout, and
a wrong line refusing the whole file with its line and column."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from revcycle.adapters.adjustment_code_list import AdjustmentCodeEntry, read_adjustment_code_list
from revcycle.adapters.codesets import CodeSetFileError

DATA = Path(__file__).resolve().parents[2] / "data" / "codesets"


def test_a_csv_list_is_read_with_its_dates() -> None:
    entries = read_adjustment_code_list((DATA / "carc_list_synthetic.csv").read_bytes(), "carc.csv")

    assert [e.code for e in entries] == ["16", "50", "97", "D1", "ZZ9"]
    assert entries[3] == AdjustmentCodeEntry(
        "D1", "Synthetic wording: a retired code kept for old claims.", date(1995, 1, 1), date(2007, 2, 1)
    )
    assert entries[4].starts_on == date(2026, 1, 1)
    assert entries[4].ends_on is None


def test_a_tab_separated_list_in_another_column_order_is_read() -> None:
    entries = read_adjustment_code_list((DATA / "rarc_list_synthetic.tsv").read_bytes(), "rarc.tsv")

    assert [(e.code, e.starts_on) for e in entries] == [
        ("N20", date(2001, 1, 1)),
        ("MA999", date(2026, 1, 1)),
    ]


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("Code,Description\n16,ok\n,missing code\n", "x.csv line 3, column 1", "the code is missing"),
        ("Code,Description\n16,\n", "x.csv line 2, column 2", "no description"),
        ("Code,Description,Start\n16,ok,31/12/2020\n", "x.csv line 2, column 3", "is not a date"),
        ("Code,Description\n16,ok\n16,again\n", "x.csv line 3, column 1", "already on line 2"),
        (
            "Code,Description,Start,Stop\n16,ok,2020-01-02,2020-01-01\n",
            "x.csv line 2, column 4",
            "before the start",
        ),
        ("Number,Words\n16,ok\n", "x.csv line 1", "the header needs a code column"),
        ("Code,Description\n", "x.csv", "no codes"),
        ("", "x.csv", "empty"),
    ],
)
def test_a_wrong_line_refuses_the_file_naming_line_and_column(text: str, where: str, message: str) -> None:
    with pytest.raises(CodeSetFileError) as caught:
        read_adjustment_code_list(text.encode(), "x.csv")

    assert caught.value.problems[0].where == where
    assert message in caught.value.problems[0].message
