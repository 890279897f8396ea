"""Formats: detection from the header, typed rows from each report, and rows refused with reasons."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from revcycle.adapters.csv import (
    AppointmentRow,
    ArClaimRow,
    AttendanceRow,
    AttendanceStatus,
    ClientDemographicRow,
    ClientDetailRow,
    ClientPaymentStatus,
    CsvInputError,
    FiledClaimRow,
    ImportFormat,
    InsurancePaymentStatus,
    NoteStatus,
    ParsedRow,
    PayerRef,
    RejectedRow,
    detect_format,
    parse,
    read_csv,
)
from revcycle.domain.problems import Problem, Severity

from .conftest import DATA

SP_HEADER = (
    "Date of Service,Client,Clinician,Billing Code,Primary Insurance,Secondary Insurance,Rate per Unit,Units,"
    "Total Fee,Client Payment Status,Charge,Uninvoiced,Paid,Unpaid,Insurance Payment Status,Charge,Paid,"
    "Unpaid"
)
SP_ROW = (
    "10/06/2025 12:00,Jordan Smith,Alice Ng,90837 ,Tricare East (99727),--,160.0 ,1,160.0 ,"
    "PAID,20.0 ,0.0 ,20.0 ,0.0 ,PAID,140.0 ,140.0 ,0.0 "
)
TRICARE = PayerRef("Tricare East", "99727")


def parsed(name: str) -> list[ParsedRow | RejectedRow]:
    table = read_csv(DATA / name)
    fmt = detect_format(table)
    assert fmt is not None
    return list(parse(table, fmt))


def parse_bytes(text: str, fmt: ImportFormat | None = None, filename: str = "export.csv") -> list[Any]:
    table = read_csv(text.encode(), filename=filename)
    return list(parse(table, fmt or detect_format(table) or ImportFormat.SIMPLEPRACTICE))


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("simplepractice_appointments.csv", ImportFormat.SIMPLEPRACTICE),
        ("simplepractice_appointments_later.csv", ImportFormat.SIMPLEPRACTICE),
        ("simplepractice_cp1252_semicolon.csv", ImportFormat.SIMPLEPRACTICE),
        ("attendance.csv", ImportFormat.ATTENDANCE),
        ("ar_aging.csv", ImportFormat.AR_AGING),
        ("client_details.csv", ImportFormat.CLIENT_DETAILS),
        ("client_demographics.csv", ImportFormat.CLIENT_DEMOGRAPHICS),
        ("filed_claims.csv", ImportFormat.FILED_CLAIMS),
    ],
)
def test_format_is_detected_from_the_header(name: str, fmt: ImportFormat) -> None:
    assert detect_format(read_csv(DATA / name)) is fmt


def test_an_unknown_header_is_no_format() -> None:
    assert detect_format(read_csv(b"Name,Amount,Memo\nA,1,x\n", filename="bank.csv")) is None


def test_mapping_is_not_parsed_without_a_mapping() -> None:
    with pytest.raises(ValueError, match="apply_mapping"):
        parse(read_csv(DATA / "ar_aging.csv"), ImportFormat.MAPPING)


# --- SimplePractice appointment status export ---------------------------------------------


def test_simplepractice_export_with_its_quirks() -> None:
    rows = parsed("simplepractice_appointments.csv")
    assert all(isinstance(row, AppointmentRow) for row in rows)
    first, add_on, over, no_show, big = rows
    assert first == AppointmentRow(
        row_number=2,
        service_at=datetime(2025, 10, 6, 12, 0),
        client_name="Jordan Smith",
        clinician_name="Alice Ng",
        billing_code="90837",
        primary_payer=TRICARE,
        secondary_payer=None,
        rate_per_unit_cents=16000,
        units=1,
        total_fee_cents=16000,
        client_payment_status=ClientPaymentStatus.PAID,
        client_charge_cents=2000,
        client_uninvoiced_cents=0,
        client_paid_cents=2000,
        client_unpaid_cents=0,
        insurance_payment_status=InsurancePaymentStatus.PAID,
        insurance_charge_cents=14000,
        insurance_paid_cents=14000,
        insurance_unpaid_cents=0,
        note_status=None,
        write_off_cents=None,
    )
    # The add-on code is its own row for the same session slot.
    assert isinstance(add_on, AppointmentRow)
    assert (add_on.billing_code, add_on.service_at, add_on.is_cpt) == ("90785", first.service_at, True)
    # OVER: overpaid, the insurance's unpaid is negative; nested parentheses in the payer.
    assert isinstance(over, AppointmentRow)
    assert over.insurance_payment_status is InsurancePaymentStatus.OVER
    assert (over.insurance_paid_cents, over.insurance_unpaid_cents) == (13000, -1000)
    assert over.primary_payer == PayerRef(
        "AmeriChoice NJ Medicaid NJ Family Care (UnitedHealthcare Community Plan)", "86047"
    )
    assert over.secondary_payer == PayerRef("Horizon Blue Cross Blue Shield of New Jersey", "22099")
    assert over.client_payment_status is ClientPaymentStatus.NO_CHARGE
    # The practice's own no-show code: patient-only, no insurance, "--" amounts are 0.
    assert isinstance(no_show, AppointmentRow)
    assert (no_show.billing_code, no_show.is_cpt, no_show.client_name) == ("111", False, "Lee, Chris")
    assert no_show.primary_payer is None
    assert no_show.insurance_payment_status is None
    assert (no_show.insurance_charge_cents, no_show.client_uninvoiced_cents) == (0, 5000)
    assert isinstance(big, AppointmentRow)
    assert (big.total_fee_cents, big.insurance_unpaid_cents) == (120000, 120000)


def test_later_export_with_note_status_write_off_and_moved_columns() -> None:
    rows = parsed("simplepractice_appointments_later.csv")
    assert [type(row) for row in rows] == [AppointmentRow] * 3
    locked, paid_by_client, draft = rows
    assert isinstance(locked, AppointmentRow)
    assert isinstance(paid_by_client, AppointmentRow)
    assert isinstance(draft, AppointmentRow)
    assert (locked.note_status, locked.write_off_cents) == (NoteStatus.LOCKED, 0)
    # The insurance group now comes first; each triple still lands on its own side.
    assert (locked.insurance_charge_cents, locked.insurance_unpaid_cents) == (14000, 14000)
    assert (locked.client_charge_cents, locked.client_unpaid_cents) == (2000, 2000)
    assert paid_by_client.note_status is NoteStatus.NO_NOTE
    assert paid_by_client.insurance_payment_status is InsurancePaymentStatus.UNBILLED
    assert (paid_by_client.client_charge_cents, paid_by_client.client_paid_cents) == (12000, 10000)
    assert paid_by_client.write_off_cents == 2000
    assert (draft.note_status, draft.units, draft.total_fee_cents) == (NoteStatus.DRAFT, 2, 20000)


def test_every_encoding_variant_reads_the_same_rows() -> None:
    names = [
        "simplepractice_utf8_bom_crlf.csv",
        "simplepractice_cp1252_semicolon.csv",
        "simplepractice_tab.csv",
    ]
    results = [parsed(name) for name in names]
    assert results[0] == results[1] == results[2]
    assert [row.client_name for row in results[0] if isinstance(row, AppointmentRow)] == [
        "José Núñez",
        "Zoë Ärger",
    ]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "Total Fee",
            "12.3.4",
            '"12.3.4" is not an amount: it is not a money amount (expected e.g. 1,234.56)',
        ),
        (
            "Rate per Unit",
            "1.005",
            '"1.005" is not an amount: it has a fraction of a cent (amounts are never rounded)',
        ),
        (
            "Date of Service",
            "02/30/2025 12:00",
            '"02/30/2025 12:00" is not a date on the calendar (day is out of range for month)',
        ),
        (
            "Client Payment Status",
            "MAYBE",
            '"MAYBE" is not a client payment status (one of PAID, UNPAID, NO CHARGE, UNINVOICED)',
        ),
        ("Units", "one", '"one" is not a whole number'),
        ("Client", "--", '"--" is blank, and a value is required here'),
    ],
)
def test_a_bad_value_rejects_its_row_and_names_file_row_column_and_value(
    column: str, value: str, message: str
) -> None:
    header = SP_HEADER.split(",")
    cells = SP_ROW.split(",")
    cells[header.index(column)] = value
    text = "\n".join([SP_HEADER, SP_ROW, ",".join(cells), SP_ROW]) + "\n"
    rows = parse_bytes(text)
    assert [type(row) for row in rows] == [AppointmentRow, RejectedRow, AppointmentRow]
    rejected = rows[1]
    assert rejected.row_number == 3
    assert rejected.raw == tuple(cells)
    assert rejected.problems == (
        Problem(rejected.problems[0].code, f'export.csv row 3, column "{column}"', message),
    )
    assert rejected.problems[0].severity is Severity.ERROR


def test_every_bad_value_of_a_row_is_reported_at_once() -> None:
    cells = SP_ROW.split(",")
    cells[0], cells[8], cells[16] = "02/30/2025", "12.3.4", "1.005"
    (rejected,) = parse_bytes(f"{SP_HEADER}\n{','.join(cells)}\n")
    assert [problem.where for problem in rejected.problems] == [
        'export.csv row 2, column "Date of Service"',
        'export.csv row 2, column "Total Fee"',
        'export.csv row 2, column "Paid" (Q)',  # "Paid" repeats: the spreadsheet letter tells which
    ]


def test_a_missing_required_column_refuses_the_file_naming_column_and_header() -> None:
    header = SP_HEADER.replace(",Total Fee", "")
    table = read_csv(f"{header}\n".encode(), filename="export.csv")
    with pytest.raises(CsvInputError) as caught:
        parse(table, ImportFormat.SIMPLEPRACTICE)
    assert caught.value.column == "Total Fee"
    assert caught.value.row == 1
    assert str(caught.value).startswith(
        'export.csv row 1, column "Total Fee": is missing from the header; '
        'the header has "Date of Service", "Client",'
    )


def test_a_missing_insurance_triple_is_named_by_its_place() -> None:
    header = SP_HEADER.removesuffix(",Charge,Paid,Unpaid")
    with pytest.raises(CsvInputError) as caught:
        parse(read_csv(f"{header}\n".encode(), filename="export.csv"), ImportFormat.SIMPLEPRACTICE)
    assert caught.value.column == 'Charge (the insurance\'s, after "Insurance Payment Status")'
    assert "also \"Paid (the insurance's" in str(caught.value)


def test_forcing_a_format_on_the_wrong_file_names_what_is_missing() -> None:
    with pytest.raises(CsvInputError, match=r'^ar_aging\.csv row 1, column "Date of Service": is missing'):
        parse(read_csv(DATA / "ar_aging.csv"), ImportFormat.SIMPLEPRACTICE)


# --- AR aging / portfolio ------------------------------------------------------------------


def test_ar_aging_rows() -> None:
    rows = parsed("ar_aging.csv")
    assert rows == [
        ArClaimRow(
            2,
            "CLM-1001",
            "Dana White",
            PayerRef("Medicare Part B", "12402"),
            303366,
            date(2025, 7, 1),
            120,
            "90837",
            "Alice Ng",
            350000,
            "1EG4TE5MK73",
        ),
        ArClaimRow(
            3,
            "CLM-1002",
            "O'Brien, Sean",
            PayerRef("Blue Cross of New Jersey Horizon", "22099"),
            15000,
            date(2025, 9, 15),
            45,
            "90834",
            "Sam Rivera",
            15000,
            None,
        ),
        ArClaimRow(
            4,
            "CLM-1003",
            "Kim Tran",
            PayerRef("Self Pay"),
            -2500,
            date(2025, 10, 1),
            None,
            "90791",
            None,
            None,
            None,
        ),
    ]
    first = rows[0]
    assert isinstance(first, ArClaimRow)
    assert first.payer_name == "Medicare Part B"


@pytest.mark.parametrize(
    "header",
    [
        "ClaimID,Patient,Payer,Balance,DOS,AgingDays,CPT,Provider",
        "Claim ID,Patient Name,Payer Name,Amount Due,Date of Service,Aging Days,Procedure,Rendering Provider",
        "claim_id,patient_name,insurance,outstanding,service_date,aging_days,cpt,rendering_provider",
        "CLAIM ID,PATIENT,INSURANCE,BALANCE,SERVICE DATE,AGING DAYS,PROCEDURE,PROVIDER",
    ],
)
def test_ar_header_variants(header: str) -> None:
    text = f'{header}\nC-1,Dana White,Aetna (60054),"$3,033.66",07/01/2025,96,90837,Alice Ng\n'
    table = read_csv(text.encode(), filename="portfolio.csv")
    assert detect_format(table) is ImportFormat.AR_AGING
    assert list(parse(table, ImportFormat.AR_AGING)) == [
        ArClaimRow(
            2,
            "C-1",
            "Dana White",
            PayerRef("Aetna", "60054"),
            303366,
            date(2025, 7, 1),
            96,
            "90837",
            "Alice Ng",
        )
    ]


def test_ar_payer_id_column_wins_over_the_name() -> None:
    text = "Claim ID,Patient,Payer,Payer ID,Balance,DOS\nC-1,A,Horizon NJ Health,95956,10.00,07/01/2025\n"
    (row,) = parse_bytes(text, ImportFormat.AR_AGING)
    assert row.payer == PayerRef("Horizon NJ Health", "95956")


def test_ar_row_without_balance_or_payer_is_rejected() -> None:
    text = "ClaimID,Patient,Payer,Balance,DOS\nC-1,A,--,,07/01/2025\n"
    (rejected,) = parse_bytes(text, ImportFormat.AR_AGING, filename="portfolio.csv")
    assert isinstance(rejected, RejectedRow)
    assert [(p.where, p.message) for p in rejected.problems] == [
        ('portfolio.csv row 2, column "Payer"', '"--" is blank, and a payer is required'),
        ('portfolio.csv row 2, column "Balance"', '"" is blank, and a value is required here'),
    ]


def test_ar_file_without_a_claim_id_column_is_refused() -> None:
    table = read_csv(b"Claim,Patient,Payer,Balance,DOS\n", filename="portfolio.csv")
    with pytest.raises(CsvInputError) as caught:
        parse(table, ImportFormat.AR_AGING)
    assert str(caught.value).startswith(
        'portfolio.csv row 1, column "Claim ID": is missing from the header '
        "(accepted names: Claim ID, ClaimID, Claim Number, Claim No); the header has "
        '"Claim", "Patient", "Payer", "Balance", "DOS"'
    )


# --- the other SimplePractice reports ----------------------------------------------------------


def test_attendance_after_its_summary_line() -> None:
    rows = parsed("attendance.csv")
    assert rows == [
        AttendanceRow(
            3,
            date(2025, 10, 6),
            datetime(2025, 10, 6, 12, 0),
            "Jordan Smith",
            "Alice Ng",
            AttendanceStatus.SHOW,
            "90837",
            53,
            "Hoboken Office",
        ),
        AttendanceRow(
            4,
            date(2025, 10, 7),
            datetime(2025, 10, 7, 9, 0),
            "Maria Lopez",
            "Sam Rivera",
            AttendanceStatus.NO_SHOW,
            "90834",
            45,
            "Telehealth",
        ),
        AttendanceRow(5, date(2025, 10, 8), None, "Pat Kim", "Sam Rivera", AttendanceStatus.LATE_CANCEL),
        AttendanceRow(
            6,
            date(2025, 10, 9),
            datetime(2025, 10, 9, 14, 0),
            "Lee Chris",
            "Alice Ng",
            AttendanceStatus.CANCELED,
        ),
    ]


def test_attendance_without_summary_line_and_bad_status() -> None:
    text = (
        "date_of_service,client_name,clinician_name,appointment_status\n"
        "10/06/2025,A,B,no-show\n10/06/2025,A,B,rescheduled\n"
    )
    first, rejected = parse_bytes(text, filename="attendance.csv")
    assert first.status is AttendanceStatus.NO_SHOW
    assert rejected.problems[0].message == (
        '"rescheduled" is not an appointment status (one of show, no_show, late_cancel, canceled)'
    )


def test_client_details() -> None:
    jordan, maria, pat = parsed("client_details.csv")
    assert isinstance(jordan, ClientDetailRow)
    assert jordan.address == "12 Main St\nApt 4"
    assert (jordan.zip_code, jordan.member_id, jordan.primary_insurance) == ("07030", "TRI123456", TRICARE)
    assert jordan.added_on == date(2024, 1, 15)
    assert jordan.contact_name is None
    assert isinstance(maria, ClientDetailRow)
    assert maria.row_number == 4  # Jordan's address spans two lines
    assert (maria.client_name, maria.contact_email) == ("Lopez, Maria", "ana@example.com")
    assert isinstance(pat, ClientDetailRow)
    assert (pat.primary_insurance, pat.member_id, pat.status) == (None, None, "Inactive")


def test_client_demographics() -> None:
    jordan, maria, pat = parsed("client_demographics.csv")
    assert jordan == ClientDemographicRow(
        2,
        "Jordan Smith",
        None,
        34,
        date(1991, 4, 12),
        "Male",
        "Man",
        None,
        "Single",
        "Employed",
        "English",
        "Hoboken",
        "07030",
    )
    assert isinstance(maria, ClientDemographicRow)
    assert (maria.date_of_birth, maria.sex, maria.preferred_language) == (
        date(2010, 8, 3),
        "Female",
        "Spanish",
    )
    assert pat == ClientDemographicRow(4, "Pat Kim")


def test_filed_claims() -> None:
    rows = parsed("filed_claims.csv")
    medicaid = PayerRef("AmeriChoice NJ Medicaid NJ Family Care (UnitedHealthcare Community Plan)", "86047")
    assert rows == [
        FiledClaimRow(2, date(2025, 10, 8), "Jordan Smith", "Accepted", TRICARE, "CH-2025100801"),
        FiledClaimRow(3, date(2025, 10, 9), "Maria Lopez", "Rejected", medicaid, "CH-2025100902"),
        FiledClaimRow(
            4, date(2025, 10, 16), "Maria Lopez", "Paid", medicaid, "CH-2025101603", "2025289000123"
        ),
    ]


def test_a_filed_claim_with_a_time_keeps_it() -> None:
    text = (
        "Date Submitted,Client,Status,Payer,Clearinghouse Reference,Payer Claim\n"
        "10/08/2025 09:15 AM,A,Submitted,--,,\n"
    )
    (row,) = parse_bytes(text)
    assert (row.submitted_on, row.submitted_at, row.payer) == (
        date(2025, 10, 8),
        datetime(2025, 10, 8, 9, 15),
        None,
    )


def test_an_impossible_date_of_birth_rejects_the_row() -> None:
    text = "Client,Date of birth,Sex\nA,02/30/2001,F\n"
    (rejected,) = parse_bytes(text, filename="demographics.csv")
    assert rejected.problems[0].where == 'demographics.csv row 2, column "Date of birth"'
    assert rejected.problems[0].message.startswith('"02/30/2001" is not a date on the calendar')
