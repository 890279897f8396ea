"""Property: rows written as a CSV in any dialect and encoding we accept parse back equal."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from revcycle.adapters.csv import (
    AppointmentRow,
    ArClaimRow,
    ClientPaymentStatus,
    ImportFormat,
    InsurancePaymentStatus,
    NoteStatus,
    PayerRef,
    detect_format,
    parse,
    read_csv,
)
from revcycle.money import format_cents, format_plain

# Non-ASCII letters whose Windows-1252 bytes (0xC0-0xFF) can never form a UTF-8 sequence, so
# a cp1252 file of them is not also valid UTF-8 (a file that is valid UTF-8 is read as UTF-8).
CP1252_SAFE = "éñüÉçÀ"
NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,;\t\"'.-\n" + CP1252_SAFE

names = (
    st.text(alphabet=NAME_CHARS, min_size=1, max_size=20).map(str.strip).filter(lambda s: s not in ("", "--"))
)
words = st.lists(
    st.sampled_from(["Aetna", "Blue", "Cross", "NJ", "Medicaid", "Plan", "Tricare", "East"]),
    min_size=1,
    max_size=4,
).map(" ".join)
payers = st.builds(PayerRef, words, st.one_of(st.none(), st.from_regex(r"\A[0-9]{5}\Z", fullmatch=True)))
cents = st.integers(min_value=-(10**9), max_value=10**9)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(second=0, microsecond=0)
)
dialects = st.fixed_dictionaries(
    {
        "delimiter": st.sampled_from([",", ";", "\t"]),
        "lineterminator": st.sampled_from(["\n", "\r\n"]),
        "encoding": st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
        "blank_tail": st.integers(min_value=0, max_value=3),
    }
)


def payer_text(payer: PayerRef | None) -> str:
    if payer is None:
        return "--"
    return payer.name if payer.payer_id is None else f"{payer.name} ({payer.payer_id})"


def write(header: list[str], lines: list[list[str]], dialect: dict[str, object]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer, delimiter=str(dialect["delimiter"]), lineterminator=str(dialect["lineterminator"])
    )
    writer.writerow(header)
    writer.writerows(lines)
    text = buffer.getvalue() + str(dialect["lineterminator"]) * int(str(dialect["blank_tail"]))
    return text.encode(str(dialect["encoding"]))


def amount_writer(draw: st.DrawFn) -> Callable[[int], str]:
    style = draw(st.sampled_from(["plain", "dollars", "padded"]))
    if style == "plain":
        return format_plain
    if style == "dollars":
        return format_cents
    return lambda value: format_plain(value) + " "


BASE = [
    "Date of Service",
    "Client",
    "Clinician",
    "Billing Code",
    "Primary Insurance",
    "Secondary Insurance",
    "Rate per Unit",
    "Units",
    "Total Fee",
    "Client Payment Status",
    "Charge",
    "Uninvoiced",
    "Paid",
    "Unpaid",
    "Insurance Payment Status",
    "Charge",
    "Paid",
    "Unpaid",
]
LATER = [
    "Client",
    "Date of Service",
    "Clinician",
    "Billing Code",
    "Progress Note Status",
    "Units",
    "Rate per Unit",
    "Total Fee",
    "Primary Insurance",
    "Secondary Insurance",
    "Insurance Payment Status",
    "Charge",
    "Paid",
    "Unpaid",
    "Write Off",
    "Client Payment Status",
    "Charge",
    "Uninvoiced",
    "Paid",
    "Unpaid",
]


@st.composite
def appointment_files(draw: st.DrawFn) -> tuple[bytes, list[AppointmentRow]]:
    later = draw(st.booleans())
    money = amount_writer(draw)
    count = draw(st.integers(min_value=0, max_value=6))
    rows = [
        AppointmentRow(
            row_number=0,
            service_at=draw(moments),
            client_name=draw(names),
            clinician_name=draw(names),
            billing_code=draw(st.sampled_from(["90837", "90785", "111", "H0031"])),
            primary_payer=draw(st.one_of(st.none(), payers)),
            secondary_payer=draw(st.one_of(st.none(), payers)),
            rate_per_unit_cents=draw(cents),
            units=draw(st.integers(min_value=0, max_value=10)),
            total_fee_cents=draw(cents),
            client_payment_status=draw(st.sampled_from(ClientPaymentStatus)),
            client_charge_cents=draw(cents),
            client_uninvoiced_cents=draw(cents),
            client_paid_cents=draw(cents),
            client_unpaid_cents=draw(cents),
            insurance_payment_status=draw(st.one_of(st.none(), st.sampled_from(InsurancePaymentStatus))),
            insurance_charge_cents=draw(cents),
            insurance_paid_cents=draw(cents),
            insurance_unpaid_cents=draw(cents),
            note_status=draw(st.one_of(st.none(), st.sampled_from(NoteStatus))) if later else None,
            write_off_cents=draw(cents) if later else None,
        )
        for _ in range(count)
    ]
    lines = [_appointment_cells(row, money, later) for row in rows]
    return write(LATER if later else BASE, lines, draw(dialects)), rows


def _appointment_cells(row: AppointmentRow, money: Callable[[int], str], later: bool) -> list[str]:
    cells = {
        "Date of Service": row.service_at.strftime("%m/%d/%Y %H:%M"),
        "Client": row.client_name,
        "Clinician": row.clinician_name,
        "Billing Code": row.billing_code + " ",
        "Primary Insurance": payer_text(row.primary_payer),
        "Secondary Insurance": payer_text(row.secondary_payer),
        "Rate per Unit": money(row.rate_per_unit_cents),
        "Units": str(row.units),
        "Total Fee": money(row.total_fee_cents),
        "Client Payment Status": row.client_payment_status.value,
        "Insurance Payment Status": row.insurance_payment_status or "--",
        "Progress Note Status": row.note_status or "--",
        "Write Off": money(row.write_off_cents or 0),
    }
    client = [
        money(row.client_charge_cents),
        money(row.client_uninvoiced_cents),
        money(row.client_paid_cents),
        money(row.client_unpaid_cents),
    ]
    insurance = [
        money(row.insurance_charge_cents),
        money(row.insurance_paid_cents),
        money(row.insurance_unpaid_cents),
    ]
    if later:
        head = [cells[name] for name in LATER[:11]]
        return [*head, *insurance, cells["Write Off"], cells["Client Payment Status"], *client]
    head = [cells[name] for name in BASE[:10]]
    return [*head, *client, cells["Insurance Payment Status"], *insurance]


@settings(max_examples=150, deadline=None)
@given(appointment_files())
def test_appointments_round_trip(case: tuple[bytes, list[AppointmentRow]]) -> None:
    data, expected = case
    table = read_csv(data, filename="export.csv")
    assert detect_format(table) is ImportFormat.SIMPLEPRACTICE
    got = list(parse(table, ImportFormat.SIMPLEPRACTICE))
    assert all(isinstance(row, AppointmentRow) for row in got)
    assert [_without_number(row) for row in got] == expected
    numbers = [row.row_number for row in got]
    assert numbers == sorted(numbers)
    assert all(number >= 2 for number in numbers)


def _without_number(row: object) -> object:
    assert isinstance(row, AppointmentRow | ArClaimRow)
    return type(row)(**{**{name: getattr(row, name) for name in row.__slots__}, "row_number": 0})


AR_HEADERS = st.tuples(
    st.sampled_from(["ClaimID", "Claim ID", "claim_id"]),
    st.sampled_from(["Patient", "Patient Name"]),
    st.sampled_from(["Payer", "Payer Name", "Insurance"]),
    st.sampled_from(["Balance", "Amount Due", "Outstanding"]),
    st.sampled_from(["DOS", "Date of Service", "Service Date"]),
    st.sampled_from(["AgingDays", "Aging Days"]),
    st.sampled_from(["CPT", "Procedure"]),
    st.sampled_from(["Provider", "Rendering Provider"]),
)


@st.composite
def ar_files(draw: st.DrawFn) -> tuple[bytes, list[ArClaimRow]]:
    money = amount_writer(draw)
    optional_names = st.one_of(st.none(), names)
    rows = [
        ArClaimRow(
            row_number=0,
            claim_id=draw(names),
            patient_name=draw(names),
            payer=draw(payers),
            balance_cents=draw(cents),
            service_on=draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))),
            aging_days=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=5000))),
            procedure_code=draw(st.one_of(st.none(), st.sampled_from(["90837", "H0031"]))),
            provider_name=draw(optional_names),
        )
        for _ in range(draw(st.integers(min_value=0, max_value=6)))
    ]
    iso = draw(st.booleans())
    lines = [
        [
            row.claim_id,
            row.patient_name,
            payer_text(row.payer),
            money(row.balance_cents),
            row.service_on.isoformat() if iso else row.service_on.strftime("%m/%d/%Y"),
            "" if row.aging_days is None else str(row.aging_days),
            row.procedure_code or "--",
            row.provider_name or "",
        ]
        for row in rows
    ]
    return write(list(draw(AR_HEADERS)), lines, draw(dialects)), rows


@settings(max_examples=150, deadline=None)
@given(ar_files())
def test_ar_portfolio_round_trips(case: tuple[bytes, list[ArClaimRow]]) -> None:
    data, expected = case
    table = read_csv(data, filename="portfolio.csv")
    assert detect_format(table) is ImportFormat.AR_AGING
    assert [_without_number(row) for row in parse(table, ImportFormat.AR_AGING)] == expected
