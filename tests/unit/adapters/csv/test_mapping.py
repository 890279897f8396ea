"""Column mappings: guesses for a new source, and files read through a saved mapping."""

from __future__ import annotations

from datetime import date

import pytest

from revcycle.adapters.csv import (
    ArClaimRow,
    ColumnMapping,
    CsvInputError,
    ImportFormat,
    PayerRef,
    RejectedRow,
    apply_mapping,
    guess_mapping,
    parse,
    read_csv,
)

from .conftest import DATA

OTHER_SYSTEM = (
    "Acct #,Encounter ID,Pt Name,Carrier,Open Balance,From Date,Days Outstanding,Rendering,Notes\n"
    'A-9,E-100,Dana White,Aetna (60054),"$3,033.66",07/01/2025,96,Alice Ng,call back\n'
    "A-9,E-101,Dana White,Aetna (60054),12.3.4,07/08/2025,89,Alice Ng,\n"
)


def test_guess_for_a_portfolio_from_another_system() -> None:
    table = read_csv(OTHER_SYSTEM.encode(), filename="other.csv")
    mapping = guess_mapping(table.header, ImportFormat.AR_AGING, name="Other AR")
    assert mapping == ColumnMapping(
        "Other AR",
        ImportFormat.AR_AGING,
        {
            "claim_id": "Encounter ID",
            "patient_name": "Pt Name",
            "payer": "Carrier",
            "balance": "Open Balance",
            "service_on": "From Date",
            "aging_days": "Days Outstanding",
            "provider_name": "Rendering",
        },
    )


def test_a_saved_mapping_reads_rows_and_names_the_source_columns() -> None:
    table = read_csv(OTHER_SYSTEM.encode(), filename="other.csv")
    mapping = guess_mapping(table.header, ImportFormat.AR_AGING, name="Other AR")
    good, bad = apply_mapping(table, mapping)
    assert good == ArClaimRow(
        2, "E-100", "Dana White", PayerRef("Aetna", "60054"), 303366, date(2025, 7, 1), 96, None, "Alice Ng"
    )
    assert isinstance(bad, RejectedRow)
    assert [(p.where, p.message) for p in bad.problems] == [
        (
            'other.csv row 3, column "Open Balance"',
            '"12.3.4" is not an amount: it is not a money amount (expected e.g. 1,234.56)',
        )
    ]


def test_a_guess_on_a_simplepractice_header_tells_the_repeated_columns_apart() -> None:
    table = read_csv(DATA / "simplepractice_appointments_later.csv")
    mapping = guess_mapping(table.header, ImportFormat.SIMPLEPRACTICE, name="sp")
    assert mapping.columns["insurance_charge"] == "Charge"  # the insurance group comes first here
    assert mapping.columns["client_charge"] == "Charge#2"
    assert mapping.columns["write_off"] == "Write-off"
    assert list(apply_mapping(table, mapping)) == list(parse(table, ImportFormat.SIMPLEPRACTICE))


def test_header_names_match_loosely_but_a_missing_one_refuses_the_file() -> None:
    mapping = ColumnMapping(
        "Other AR",
        ImportFormat.AR_AGING,
        {
            "claim_id": "encounter_id",
            "patient_name": "Patient",
            "payer": "Carrier",
            "balance": "Open Balance",
            "service_on": "From Date",
        },
    )
    table = read_csv(OTHER_SYSTEM.encode(), filename="other.csv")
    with pytest.raises(CsvInputError) as caught:
        apply_mapping(table, mapping)
    assert caught.value.column == "Patient"
    assert str(caught.value).startswith(
        'other.csv row 1, column "Patient": is missing from the header (mapping "Other AR" reads '
        'patient_name from it); the header has "Acct #", "Encounter ID",'
    )


def test_a_mapping_that_leaves_a_required_field_unmapped_is_refused() -> None:
    mapping = ColumnMapping("thin", ImportFormat.AR_AGING, {"claim_id": "Encounter ID"})
    with pytest.raises(CsvInputError) as caught:
        apply_mapping(read_csv(OTHER_SYSTEM.encode(), filename="other.csv"), mapping)
    assert str(caught.value) == (
        'other.csv row 1: mapping "thin" does not say which column holds Patient, Payer, Balance, DOS'
    )


def test_a_mapping_to_fields_the_target_lacks_is_a_broken_mapping() -> None:
    mapping = ColumnMapping("broken", ImportFormat.AR_AGING, {"claim_id": "Encounter ID", "colour": "Notes"})
    with pytest.raises(ValueError, match="has no field colour"):
        apply_mapping(read_csv(OTHER_SYSTEM.encode(), filename="other.csv"), mapping)


def test_a_mapping_cannot_target_mapping() -> None:
    with pytest.raises(ValueError, match="apply_mapping"):
        guess_mapping(["A"], ImportFormat.MAPPING)
