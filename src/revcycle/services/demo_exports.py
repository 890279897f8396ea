"""The demo's SimplePractice exports: the files a practice downloads and uploads each week.

The demo practice does not write its clients and sessions through the models: it writes them
as SimplePractice would export them and loads them through the import
(``services.imports``), so the demo exercises the same path as a real practice's Monday.
Three files are written here, byte for byte as SimplePractice writes them:

- the "Client details" report (identity, address, phone, e-mail, primary insurance and its
  member id in ``Insurance ID``) and the "Client demographics" report (date of birth, sex);
- the client attendance export (a summary line, then snake_case columns): whether each
  appointment was a show, a no-show or a late cancel, with start and end times;
- the appointment status export, one per week, in the older layout (the 18 columns with the
  Charge/Paid/Unpaid names twice) or the later one (``Progress Note Status`` and ``Write-off``
  added, the insurance and client groups swapped). Values carry the export's quirks: dates as
  ``10/06/2025 12:00``, codes with a trailing space (``90837 ``), amounts as ``160.0 ``,
  ``--`` for nothing, payers as ``Name (payer id)``.

Everything here is plain data in, bytes out: the builder decides what the rows say.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

__all__ = [
    "APPOINTMENT_HEADER",
    "APPOINTMENT_HEADER_LATER",
    "ATTENDANCE_HEADER",
    "CLIENT_DEMOGRAPHICS_HEADER",
    "CLIENT_DETAILS_HEADER",
    "AppointmentLine",
    "AttendanceLine",
    "ClientLine",
    "amount",
    "appointment_export",
    "attendance_export",
    "client_demographics_report",
    "client_details_report",
]

NONE = "--"


def _columns(header: str) -> list[str]:
    """A header as SimplePractice writes it, verbatim, split into its column names."""
    return header.split(",")


APPOINTMENT_HEADER = _columns(
    "Date of Service,Client,Clinician,Billing Code,Primary Insurance,Secondary Insurance,Rate per Unit,"
    "Units,Total Fee,Client Payment Status,Charge,Uninvoiced,Paid,Unpaid,Insurance Payment Status,"
    "Charge,Paid,Unpaid"
)
APPOINTMENT_HEADER_LATER = _columns(
    "Date of Service,Client,Clinician,Billing Code,Progress Note Status,Units,Rate per Unit,Total Fee,"
    "Primary Insurance,Secondary Insurance,Insurance Payment Status,Charge,Paid,Unpaid,"
    "Client Payment Status,Charge,Uninvoiced,Paid,Unpaid,Write-off"
)
CLIENT_DETAILS_HEADER = _columns(
    "Client,Client type,Date added,Primary clinician,Last appointment,Next appointment,Address,City,"
    "State,ZIP,Phone number,Email,Contact name,Contact phone,Contact email,Primary insurance,"
    "Insurance ID,Status"
)
CLIENT_DEMOGRAPHICS_HEADER = _columns(
    "Client,Contact,Age,Date of birth,Sex,Gender identity,Race,Relationship status,Employment status,"
    "Preferred language,City,ZIP"
)

ATTENDANCE_HEADER = _columns(
    "date_of_service,start_time,end_time,client_name,clinician_name,billing_code,service_description,"
    "location,appointment_status"
)
_ATTENDANCE_LABELS = {"show": "Show", "no_show": "No Show", "late_cancel": "Late Cancel"}
_DESCRIPTIONS = {
    "90791": "Psychiatric Diagnostic Evaluation",
    "90832": "Psychotherapy 30 min",
    "90834": "Psychotherapy 45 min",
    "90837": "Psychotherapy 60 min",
    "90839": "Psychotherapy for crisis",
    "90846": "Family psychotherapy without patient",
    "90847": "Family psychotherapy with patient",
    "90853": "Group psychotherapy",
}


def amount(cents: int | None) -> str:
    """``16000`` -> ``"160.0 "`` (SimplePractice's one decimal and trailing space)."""
    if cents is None:
        return NONE
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    decimals = f"{part // 10}" if part % 10 == 0 else f"{part:02d}"
    return f"{sign}{whole}.{decimals} "


def _day(value: date | None) -> str:
    return f"{value:%m/%d/%Y}" if value else NONE


def _text(value: str | None) -> str:
    return value if value else NONE


@dataclass(frozen=True)
class ClientLine:
    """One client as both client reports show them."""

    name: str
    minor: bool
    added_on: date
    primary_clinician: str
    last_appointment_on: date | None
    next_appointment_on: date | None
    address: str
    city: str
    state: str
    zip_code: str
    phone: str
    email: str
    contact_name: str
    contact_phone: str
    contact_email: str
    primary_insurance: str | None  # "Name (payer id)"
    member_id: str | None
    active: bool
    date_of_birth: date
    age: int
    sex: str  # F | M


@dataclass(frozen=True)
class AppointmentLine:
    """One charge of one appointment, as the appointment status export lists it."""

    service_at: datetime  # local, naive
    client: str
    clinician: str
    code: str
    primary: str | None  # "Name (payer id)" or None
    secondary: str | None
    fee_cents: int
    units: int
    client_status: str  # PAID | UNPAID | NO CHARGE | UNINVOICED
    client_charge_cents: int
    client_uninvoiced_cents: int
    client_paid_cents: int
    client_unpaid_cents: int
    insurance_status: str | None  # PAID | UNPAID | OVER | PENDING | UNBILLED, None for self-pay
    insurance_charge_cents: int
    insurance_paid_cents: int
    insurance_unpaid_cents: int
    note_status: str | None  # LOCKED | DRAFT | NO NOTE; None when the appointment has no note


@dataclass(frozen=True)
class AttendanceLine:
    """One appointment of the client attendance export."""

    starts_at: datetime  # local, naive
    minutes: int
    client: str
    clinician: str
    code: str
    location: str
    status: str  # show | no_show | late_cancel


def _write(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def client_details_report(clients: Sequence[ClientLine]) -> bytes:
    rows = [
        [
            c.name,
            "Minor" if c.minor else "Adult",
            _day(c.added_on),
            c.primary_clinician,
            _day(c.last_appointment_on),
            _day(c.next_appointment_on),
            c.address,
            c.city,
            c.state,
            c.zip_code,
            _text(c.phone),
            _text(c.email),
            _text(c.contact_name),
            _text(c.contact_phone),
            _text(c.contact_email),
            _text(c.primary_insurance),
            _text(c.member_id),
            "Active" if c.active else "Inactive",
        ]
        for c in clients
    ]
    return _write(CLIENT_DETAILS_HEADER, rows)


def client_demographics_report(clients: Sequence[ClientLine]) -> bytes:
    rows = [
        [
            c.name,
            _text(c.contact_name),
            str(c.age),
            _day(c.date_of_birth),
            "Female" if c.sex == "F" else "Male",
            NONE,
            NONE,
            NONE,
            "Student" if c.minor else NONE,
            "English",
            c.city,
            c.zip_code,
        ]
        for c in clients
    ]
    return _write(CLIENT_DEMOGRAPHICS_HEADER, rows)


def _code(code: str) -> str:
    """CPT codes come out with a trailing space; the practice's own codes (``111``) do not."""
    return f"{code} " if code.isdigit() and len(code) == 5 else code


def appointment_export(lines: Sequence[AppointmentLine], *, later: bool) -> bytes:
    """The appointment status export, in the older layout or (``later``) the newer one."""
    rows = []
    for a in lines:
        insured = a.insurance_status is not None
        insurance = [
            _text(a.insurance_status),
            amount(a.insurance_charge_cents) if insured else NONE,
            amount(a.insurance_paid_cents) if insured else NONE,
            amount(a.insurance_unpaid_cents) if insured else NONE,
        ]
        client = [
            a.client_status,
            amount(a.client_charge_cents),
            amount(a.client_uninvoiced_cents),
            amount(a.client_paid_cents),
            amount(a.client_unpaid_cents),
        ]
        when = f"{a.service_at:%m/%d/%Y %H:%M}"
        fee, total = amount(a.fee_cents), amount(a.fee_cents * a.units)
        if later:
            rows.append(
                [
                    when,
                    a.client,
                    a.clinician,
                    _code(a.code),
                    _text(a.note_status),
                    str(a.units),
                    fee,
                    total,
                    _text(a.primary),
                    _text(a.secondary),
                    *insurance,
                    *client,
                    NONE,
                ]
            )
        else:
            rows.append(
                [
                    when,
                    a.client,
                    a.clinician,
                    _code(a.code),
                    _text(a.primary),
                    _text(a.secondary),
                    fee,
                    str(a.units),
                    total,
                    *client,
                    *insurance,
                ]
            )
    return _write(APPOINTMENT_HEADER_LATER if later else APPOINTMENT_HEADER, rows)


def _clock(moment: datetime) -> str:
    return f"{moment:%I:%M %p}".lstrip("0")


def attendance_export(lines: Sequence[AttendanceLine]) -> bytes:
    """The client attendance export: a summary line, then one row per appointment."""
    rows = [
        [
            f"{a.starts_at:%m/%d/%Y}",
            _clock(a.starts_at),
            _clock(a.starts_at + timedelta(minutes=a.minutes)),
            a.client,
            a.clinician,
            a.code,
            _DESCRIPTIONS.get(a.code, "Appointment fee"),
            a.location,
            _ATTENDANCE_LABELS[a.status],
        ]
        for a in lines
    ]
    summary = [
        f"{len({a.client for a in lines})} clients",
        f"{len({a.clinician for a in lines})} clinicians",
        f"{len(lines)} appointments",
        f"{sum(a.status == 'no_show' for a in lines)} no shows",
        f"{sum(a.status == 'late_cancel' for a in lines)} late cancels",
    ]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(summary)
    writer.writerow(ATTENDANCE_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
