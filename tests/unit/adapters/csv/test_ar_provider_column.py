"""The AR aging export's rendering provider: every spelling of its header, and a blank cell."""

from __future__ import annotations

from datetime import date

import pytest

from revcycle.adapters.csv import ArClaimRow, ImportFormat, PayerRef, detect_format, parse, read_csv


def _rows(header: str, *lines: str) -> list[object]:
    text = "\n".join((header, *lines)) + "\n"
    table = read_csv(text.encode(), filename="portfolio.csv")
    assert detect_format(table) is ImportFormat.AR_AGING
    return list(parse(table, ImportFormat.AR_AGING))


@pytest.mark.parametrize(
    "column",
    [
        "Provider",
        "Rendering Provider",
        "Provider Name",
        "rendering_provider",
        "RENDERING PROVIDER",
        "RenderingProvider",
        "Rendering Provider Name",
    ],
)
def test_each_spelling_of_the_provider_column_is_read(column: str) -> None:
    (row,) = _rows(
        f"Claim ID,Patient,Payer,Balance,DOS,{column}", 'C-1,Ann Park,Aetna,$10.00,07/01/2025,"Lee, Dana"'
    )
    assert row == ArClaimRow(
        2, "C-1", "Ann Park", PayerRef("Aetna"), 1000, date(2025, 7, 1), provider_name="Lee, Dana"
    )


def test_a_blank_or_absent_provider_is_none() -> None:
    rows = _rows(
        "Claim ID,Patient,Payer,Balance,DOS,Rendering Provider",
        "C-1,Ann Park,Aetna,$10.00,07/01/2025,",
        "C-2,Bob Stone,Aetna,$10.00,07/01/2025,--",
    )
    assert [row.provider_name for row in rows if isinstance(row, ArClaimRow)] == [None, None]
    (row,) = _rows("Claim ID,Patient,Payer,Balance,DOS", "C-1,Ann Park,Aetna,$10.00,07/01/2025")
    assert isinstance(row, ArClaimRow)
    assert row.provider_name is None


def test_the_first_provider_column_wins_over_a_billing_provider() -> None:
    (row,) = _rows(
        "Claim ID,Patient,Payer,Balance,DOS,Billing Provider,Rendering Provider",
        "C-1,Ann Park,Aetna,$10.00,07/01/2025,Harbor Group LLC,Dana Lee",
    )
    assert isinstance(row, ArClaimRow)
    assert row.provider_name == "Dana Lee"
