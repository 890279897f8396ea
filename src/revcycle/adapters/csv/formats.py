"""The import formats: which report a file is, where each field sits, and its rows.

A format is a list of :class:`Column` (a field, the header names it goes by, whether it is
required) and a row builder. :func:`detect_format` recognises a format from the header;
:func:`parse` resolves each field to a column position, refuses the file if a required
column is missing (:class:`CsvInputError`), then yields one typed row per line, or a
:class:`RejectedRow` listing every bad value of that line, without stopping the file.

Header names match ignoring case, spaces, underscores and punctuation (``Claim ID``,
``ClaimID`` and ``claim_id`` are one name). Where a name repeats, the first column wins,
except in the SimplePractice appointment export, whose header repeats ``Charge``, ``Paid``
and ``Unpaid``: there each of those belongs to the status column before it: the group after
``Client Payment Status`` is the client's share, the group after ``Insurance Payment Status``
the insurance's, wherever the export moved them.

The attendance report (SimplePractice's client attendance export) has snake_case headers
under a summary line such as ``230 clients,9 clinicians,1204 appointments``; this package
reads it as::

    date_of_service,start_time,end_time,client_name,clinician_name,billing_code,
    service_description,location,appointment_status

(``date_of_service`` may itself carry the time; ``appointment_status`` is Show, No Show,
Late Cancel or Canceled in any case/spacing.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import TypeVar

from revcycle.domain.problems import Problem

from .reading import CsvInputError, CsvTable, column_letter, location, quote
from .rows import (
    AppointmentRow,
    ArClaimRow,
    AttendanceRow,
    AttendanceStatus,
    ClientDemographicRow,
    ClientDetailRow,
    ClientPaymentStatus,
    FiledClaimRow,
    InsurancePaymentStatus,
    NoteStatus,
    PayerRef,
)
from .values import BLANKS, CellError, parse_amount, parse_count, parse_datetime, parse_time

__all__ = [
    "Column",
    "ImportFormat",
    "ParsedRow",
    "RejectedRow",
    "columns_of",
    "detect_format",
    "match_columns",
    "normalise_name",
    "parse",
    "parse_columns",
    "resolve_columns",
]

ParsedRow = (
    AppointmentRow | AttendanceRow | ArClaimRow | ClientDetailRow | ClientDemographicRow | FiledClaimRow
)
Layout = Mapping[str, int]  # field -> 0-based column index
_E = TypeVar("_E", bound=StrEnum)
_NAME_NOISE = re.compile(r"[^a-z0-9]+")
_NO_MOMENT = (datetime.fromordinal(1), False)  # placeholder in a row already rejected


class ImportFormat(StrEnum):
    SIMPLEPRACTICE = "simplepractice"
    ATTENDANCE = "attendance"
    AR_AGING = "ar_aging"
    CLIENT_DETAILS = "client_details"
    CLIENT_DEMOGRAPHICS = "client_demographics"
    FILED_CLAIMS = "filed_claims"
    MAPPING = "mapping"  # any other CSV, read through a saved ColumnMapping (mapping.py)


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A line refused for bad values; ``problems`` names each column and value."""

    row_number: int
    problems: tuple[Problem, ...]
    raw: tuple[str, ...]


@dataclass(frozen=True)
class Column:
    """One field of a format and the header names it is found under (first = canonical)."""

    field: str
    names: tuple[str, ...]
    required: bool = True
    title: str = ""  # how messages name the column when it is missing; default names[0]

    @property
    def label(self) -> str:
        return self.title or self.names[0]


def normalise_name(name: str) -> str:
    """``"Claim ID"``, ``"claim_id"``, ``"ClaimID"`` -> ``"claimid"``."""
    return _NAME_NOISE.sub("", name.lower())


# --- reading the cells of one row -------------------------------------------------------


class _Context:
    """What every row of one file shares: its name, layout and how to name each column."""

    def __init__(self, table: CsvTable, layout: Layout) -> None:
        self.filename = table.filename
        self.layout = dict(layout)
        names = [normalise_name(name) for name in table.header]
        self.labels = {
            field: _column_label(table.header, names, index) for field, index in self.layout.items()
        }


def _column_label(header: Sequence[str], names: Sequence[str], index: int) -> tuple[str, str | None]:
    """The column's header name, with its spreadsheet letter when the name repeats."""
    letter = column_letter(index) if names.count(names[index]) > 1 else None
    return header[index], letter


class _Cells:
    """One row's cells read by field; a bad value is recorded as a Problem, not raised.

    Accessors return a placeholder after a problem, so a builder can read every field and
    report every bad value of the row at once; a row with problems is never used.
    """

    __slots__ = ("_context", "cells", "problems", "row_number")

    def __init__(self, context: _Context, row_number: int, cells: list[str]) -> None:
        self._context = context
        self.row_number = row_number
        self.cells = cells
        self.problems: list[Problem] = []

    def raw(self, field: str) -> str | None:
        index = self._context.layout.get(field)
        return None if index is None else self.cells[index]

    def report(self, field: str, code: str, message: str) -> None:
        name, letter = self._context.labels[field]
        where = location(self._context.filename, self.row_number, name, letter=letter)
        self.problems.append(Problem(code, where, message))

    def _required(self, field: str) -> str | None:
        text = self.raw(field)
        if text is None or text.strip() in BLANKS:
            shown = quote(text or "")
            self.report(field, "csv.required", f"{shown} is blank, and a value is required here")
            return None
        return text

    def text(self, field: str) -> str | None:
        text = self.raw(field)
        return None if text is None or text.strip() in BLANKS else text.strip()

    def required_text(self, field: str) -> str:
        text = self._required(field)
        return "" if text is None else text.strip()

    def amount(self, field: str, *, blank: int | None = 0) -> int | None:
        """Cents; a blank cell gives ``blank``, an absent column None."""
        text = self.raw(field)
        if text is None:
            return None
        if text.strip() in BLANKS:
            return blank
        try:
            return parse_amount(text)
        except CellError as exc:
            self.report(field, exc.code, exc.message)
            return 0

    def share(self, field: str) -> int:
        """A SimplePractice amount: blank is 0; the column is required, so never absent."""
        return self.amount(field) or 0

    def required_amount(self, field: str) -> int:
        text = self._required(field)
        return 0 if text is None else (self.amount(field) or 0)

    def moment(self, field: str) -> tuple[datetime, bool] | None:
        text = self.raw(field)
        if text is None or text.strip() in BLANKS:
            return None
        try:
            return parse_datetime(text)
        except CellError as exc:
            self.report(field, exc.code, exc.message)
            return None

    def required_moment(self, field: str) -> tuple[datetime, bool]:
        if self._required(field) is None:
            return _NO_MOMENT
        return self.moment(field) or _NO_MOMENT

    def date_value(self, field: str) -> date | None:
        moment = self.moment(field)
        return None if moment is None else moment[0].date()

    def required_date_value(self, field: str) -> date:
        return self.required_moment(field)[0].date()

    def time_value(self, field: str) -> time | None:
        text = self.raw(field)
        if text is None or text.strip() in BLANKS:
            return None
        try:
            return parse_time(text)
        except CellError as exc:
            self.report(field, exc.code, exc.message)
            return None

    def count(self, field: str) -> int | None:
        text = self.raw(field)
        if text is None or text.strip() in BLANKS:
            return None
        try:
            return parse_count(text)
        except CellError as exc:
            self.report(field, exc.code, exc.message)
            return None

    def required_count(self, field: str) -> int:
        if self._required(field) is None:
            return 0
        return self.count(field) or 0

    def choice(self, field: str, options: Mapping[str, _E], what: str) -> _E | None:
        text = self.raw(field)
        if text is None or text.strip() in BLANKS:
            return None
        found = options.get(_choice_key(text))
        if found is None:
            allowed = ", ".join(dict.fromkeys(options.values()))
            self.report(field, "csv.status", f"{quote(text)} is not {what} (one of {allowed})")
        return found

    def required_choice(self, field: str, options: Mapping[str, _E], what: str) -> _E:
        placeholder = next(iter(options.values()))
        if self._required(field) is None:
            return placeholder
        return self.choice(field, options, what) or placeholder

    def payer(self, field: str) -> PayerRef | None:
        text = self.raw(field)
        return None if text is None else PayerRef.parse(text)


def _choice_key(text: str) -> str:
    return " ".join(re.split(r"[\s_\-]+", text.strip().upper())).strip()


def _options(enum: type[_E], **aliases: _E) -> dict[str, _E]:
    options = {_choice_key(member.value): member for member in enum}
    options.update({_choice_key(alias): member for alias, member in aliases.items()})
    return options


_CLIENT_STATUSES = _options(ClientPaymentStatus)
_INSURANCE_STATUSES = _options(InsurancePaymentStatus, OVERPAID=InsurancePaymentStatus.OVER)
_NOTE_STATUSES = _options(NoteStatus)
_ATTENDANCE_STATUSES = _options(
    AttendanceStatus,
    SHOWED=AttendanceStatus.SHOW,
    ATTENDED=AttendanceStatus.SHOW,
    NOSHOW=AttendanceStatus.NO_SHOW,
    LATE_CANCELED=AttendanceStatus.LATE_CANCEL,
    LATE_CANCELLED=AttendanceStatus.LATE_CANCEL,
    LATE_CANCELLATION=AttendanceStatus.LATE_CANCEL,
    CANCELLED=AttendanceStatus.CANCELED,
    CLIENT_CANCELED=AttendanceStatus.CANCELED,
    CLIENT_CANCELLED=AttendanceStatus.CANCELED,
    CLINICIAN_CANCELED=AttendanceStatus.CANCELED,
    CLINICIAN_CANCELLED=AttendanceStatus.CANCELED,
)


# --- the row builders -------------------------------------------------------------------


def _appointment(c: _Cells) -> AppointmentRow:
    return AppointmentRow(
        row_number=c.row_number,
        service_at=c.required_moment("service_at")[0],
        client_name=c.required_text("client_name"),
        clinician_name=c.required_text("clinician_name"),
        billing_code=c.required_text("billing_code"),
        primary_payer=c.payer("primary_payer"),
        secondary_payer=c.payer("secondary_payer"),
        rate_per_unit_cents=c.share("rate_per_unit"),
        units=c.required_count("units"),
        total_fee_cents=c.share("total_fee"),
        client_payment_status=c.required_choice(
            "client_payment_status", _CLIENT_STATUSES, "a client payment status"
        ),
        client_charge_cents=c.share("client_charge"),
        client_uninvoiced_cents=c.share("client_uninvoiced"),
        client_paid_cents=c.share("client_paid"),
        client_unpaid_cents=c.share("client_unpaid"),
        insurance_payment_status=c.choice(
            "insurance_payment_status", _INSURANCE_STATUSES, "an insurance payment status"
        ),
        insurance_charge_cents=c.share("insurance_charge"),
        insurance_paid_cents=c.share("insurance_paid"),
        insurance_unpaid_cents=c.share("insurance_unpaid"),
        note_status=c.choice("note_status", _NOTE_STATUSES, "a progress note status"),
        write_off_cents=c.amount("write_off"),
    )


def _attendance(c: _Cells) -> AttendanceRow:
    moment, has_time = c.required_moment("date_of_service")
    start, end = c.time_value("start_time"), c.time_value("end_time")
    service_at = datetime.combine(moment.date(), start) if start else (moment if has_time else None)
    return AttendanceRow(
        row_number=c.row_number,
        service_on=moment.date(),
        service_at=service_at,
        client_name=c.required_text("client_name"),
        clinician_name=c.required_text("clinician_name"),
        status=c.required_choice("appointment_status", _ATTENDANCE_STATUSES, "an appointment status"),
        billing_code=c.text("billing_code"),
        duration_minutes=_duration_minutes(c, start, end),
        location=c.text("location"),
    )


def _duration_minutes(c: _Cells, start: time | None, end: time | None) -> int | None:
    if start is None or end is None:
        return None
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    if minutes < 0:
        c.report("end_time", "csv.time", f"{quote(c.raw('end_time') or '')} is before the start time")
        return None
    return minutes


def _ar_claim(c: _Cells) -> ArClaimRow:
    payer = c.payer("payer")
    if payer is None:
        c.report("payer", "csv.required", f"{quote(c.raw('payer') or '')} is blank, and a payer is required")
        payer = PayerRef("")
    payer_id = c.text("payer_id")
    return ArClaimRow(
        row_number=c.row_number,
        claim_id=c.required_text("claim_id"),
        patient_name=c.required_text("patient_name"),
        payer=PayerRef(payer.name, payer_id) if payer_id else payer,
        balance_cents=c.required_amount("balance"),
        service_on=c.required_date_value("service_on"),
        aging_days=c.count("aging_days"),
        procedure_code=c.text("procedure_code"),
        provider_name=c.text("provider_name"),
        billed_cents=c.amount("billed", blank=None),
        member_id=c.text("member_id"),
    )


def _client_detail(c: _Cells) -> ClientDetailRow:
    return ClientDetailRow(
        row_number=c.row_number,
        client_name=c.required_text("client_name"),
        client_type=c.text("client_type"),
        added_on=c.date_value("added_on"),
        primary_clinician=c.text("primary_clinician"),
        last_appointment_on=c.date_value("last_appointment_on"),
        next_appointment_on=c.date_value("next_appointment_on"),
        address=c.text("address"),
        city=c.text("city"),
        state=c.text("state"),
        zip_code=c.text("zip_code"),
        phone=c.text("phone"),
        email=c.text("email"),
        contact_name=c.text("contact_name"),
        contact_phone=c.text("contact_phone"),
        contact_email=c.text("contact_email"),
        primary_insurance=c.payer("primary_insurance"),
        member_id=c.text("member_id"),
        status=c.text("status"),
    )


def _client_demographic(c: _Cells) -> ClientDemographicRow:
    return ClientDemographicRow(
        row_number=c.row_number,
        client_name=c.required_text("client_name"),
        contact_name=c.text("contact_name"),
        age=c.count("age"),
        date_of_birth=c.date_value("date_of_birth"),
        sex=c.text("sex"),
        gender_identity=c.text("gender_identity"),
        race=c.text("race"),
        relationship_status=c.text("relationship_status"),
        employment_status=c.text("employment_status"),
        preferred_language=c.text("preferred_language"),
        city=c.text("city"),
        zip_code=c.text("zip_code"),
    )


def _filed_claim(c: _Cells) -> FiledClaimRow:
    moment, has_time = c.required_moment("submitted_on")
    return FiledClaimRow(
        row_number=c.row_number,
        submitted_on=moment.date(),
        client_name=c.required_text("client_name"),
        status=c.required_text("status"),
        payer=c.payer("payer"),
        clearinghouse_reference=c.text("clearinghouse_reference"),
        payer_claim=c.text("payer_claim"),
        submitted_at=moment if has_time else None,
    )


# --- the formats ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Format:
    columns: tuple[Column, ...]
    build: Callable[[_Cells], ParsedRow]
    layout: Callable[[Sequence[str], tuple[Column, ...]], dict[str, int]]


def _layout_by_name(header: Sequence[str], columns: tuple[Column, ...]) -> dict[str, int]:
    first_index: dict[str, int] = {}
    for index, name in enumerate(header):
        first_index.setdefault(normalise_name(name), index)
    layout: dict[str, int] = {}
    for column in columns:
        found = [first_index[key] for key in map(normalise_name, column.names) if key in first_index]
        if found:
            layout[column.field] = found[0]
    return layout


_SHARE_FIELDS = frozenset({"charge", "uninvoiced", "paid", "unpaid"})
_SHARE_SECTIONS = {"clientpaymentstatus": "client", "insurancepaymentstatus": "insurance"}
_POSITIONAL_FIELDS = frozenset(
    f"{section}_{share}"
    for section in _SHARE_SECTIONS.values()
    for share in (*_SHARE_FIELDS, "payment_status")
)


def _simplepractice_layout(header: Sequence[str], columns: tuple[Column, ...]) -> dict[str, int]:
    """By name and position: Charge/Paid/Unpaid belong to the status column before them."""
    layout = _layout_by_name(header, tuple(c for c in columns if c.field not in _POSITIONAL_FIELDS))
    known = {column.field for column in columns}
    section: str | None = None
    for index, name in enumerate(header):
        key = normalise_name(name)
        if key in _SHARE_SECTIONS:
            section = _SHARE_SECTIONS[key]
            layout.setdefault(f"{section}_payment_status", index)
        elif key in _SHARE_FIELDS and section is not None and f"{section}_{key}" in known:
            layout.setdefault(f"{section}_{key}", index)
    return layout


def _share(field: str, name: str, status: str) -> Column:
    owner = field.split("_", 1)[0]
    return Column(field, (name,), title=f'{name} (the {owner}\'s, after "{status}")')


_SIMPLEPRACTICE = (
    Column("service_at", ("Date of Service",)),
    Column("client_name", ("Client",)),
    Column("clinician_name", ("Clinician",)),
    Column("billing_code", ("Billing Code",)),
    Column("primary_payer", ("Primary Insurance",)),
    Column("secondary_payer", ("Secondary Insurance",)),
    Column("rate_per_unit", ("Rate per Unit",)),
    Column("units", ("Units",)),
    Column("total_fee", ("Total Fee",)),
    Column("client_payment_status", ("Client Payment Status",)),
    _share("client_charge", "Charge", "Client Payment Status"),
    _share("client_uninvoiced", "Uninvoiced", "Client Payment Status"),
    _share("client_paid", "Paid", "Client Payment Status"),
    _share("client_unpaid", "Unpaid", "Client Payment Status"),
    Column("insurance_payment_status", ("Insurance Payment Status",)),
    _share("insurance_charge", "Charge", "Insurance Payment Status"),
    _share("insurance_paid", "Paid", "Insurance Payment Status"),
    _share("insurance_unpaid", "Unpaid", "Insurance Payment Status"),
    Column("note_status", ("Progress Note Status", "Note Status"), required=False),
    Column("write_off", ("Write Off", "Write-off", "Writeoff"), required=False),
)
_ATTENDANCE = (
    Column("date_of_service", ("date_of_service",)),
    Column("start_time", ("start_time",), required=False),
    Column("end_time", ("end_time",), required=False),
    Column("client_name", ("client_name",)),
    Column("clinician_name", ("clinician_name",)),
    Column("billing_code", ("billing_code", "service_code"), required=False),
    Column("location", ("location",), required=False),
    Column("appointment_status", ("appointment_status", "attendance_status")),
)
_AR_AGING = (
    Column("claim_id", ("Claim ID", "ClaimID", "Claim Number", "Claim No")),
    Column("patient_name", ("Patient", "Patient Name")),
    Column("payer", ("Payer", "Payer Name", "Insurance", "Insurance Name")),
    Column("balance", ("Balance", "Amount Due", "Outstanding", "Balance Due")),
    Column("service_on", ("DOS", "Date of Service", "Service Date")),
    Column("aging_days", ("Aging Days", "Age Days", "Days Aged"), required=False),
    Column("procedure_code", ("CPT", "Procedure", "Procedure Code", "CPT Code"), required=False),
    Column(
        "provider_name",
        ("Provider", "Rendering Provider", "Provider Name", "Rendering Provider Name"),
        required=False,
    ),
    Column("billed", ("Billed", "Billed Amount", "Charges", "Charge Amount", "Total Charge"), required=False),
    Column("member_id", ("Member ID", "Subscriber ID", "Insurance ID", "Policy Number"), required=False),
    Column("payer_id", ("Payer ID", "EDI Payer ID"), required=False),
)
_CLIENT_DETAILS = (
    Column("client_name", ("Client",)),
    Column("client_type", ("Client type",), required=False),
    Column("added_on", ("Date added",), required=False),
    Column("primary_clinician", ("Primary clinician",), required=False),
    Column("last_appointment_on", ("Last appointment",), required=False),
    Column("next_appointment_on", ("Next appointment",), required=False),
    Column("address", ("Address",), required=False),
    Column("city", ("City",), required=False),
    Column("state", ("State",), required=False),
    Column("zip_code", ("ZIP", "Zip code"), required=False),
    Column("phone", ("Phone number", "Phone"), required=False),
    Column("email", ("Email",), required=False),
    Column("contact_name", ("Contact name",), required=False),
    Column("contact_phone", ("Contact phone",), required=False),
    Column("contact_email", ("Contact email",), required=False),
    Column("primary_insurance", ("Primary insurance",), required=False),
    Column("member_id", ("Insurance ID",), required=False),
    Column("status", ("Status",), required=False),
)
_CLIENT_DEMOGRAPHICS = (
    Column("client_name", ("Client",)),
    Column("contact_name", ("Contact",), required=False),
    Column("age", ("Age",), required=False),
    Column("date_of_birth", ("Date of birth", "DOB"), required=False),
    Column("sex", ("Sex",), required=False),
    Column("gender_identity", ("Gender identity",), required=False),
    Column("race", ("Race",), required=False),
    Column("relationship_status", ("Relationship status",), required=False),
    Column("employment_status", ("Employment status",), required=False),
    Column("preferred_language", ("Preferred language",), required=False),
    Column("city", ("City",), required=False),
    Column("zip_code", ("ZIP", "Zip code"), required=False),
)
_FILED_CLAIMS = (
    Column("submitted_on", ("Date Submitted",)),
    Column("client_name", ("Client",)),
    Column("status", ("Status",)),
    Column("payer", ("Payer",)),
    Column("clearinghouse_reference", ("Clearinghouse Reference",), required=False),
    Column("payer_claim", ("Payer Claim",), required=False),
)

_FORMATS: dict[ImportFormat, _Format] = {
    ImportFormat.SIMPLEPRACTICE: _Format(_SIMPLEPRACTICE, _appointment, _simplepractice_layout),
    ImportFormat.ATTENDANCE: _Format(_ATTENDANCE, _attendance, _layout_by_name),
    ImportFormat.AR_AGING: _Format(_AR_AGING, _ar_claim, _layout_by_name),
    ImportFormat.CLIENT_DETAILS: _Format(_CLIENT_DETAILS, _client_detail, _layout_by_name),
    ImportFormat.CLIENT_DEMOGRAPHICS: _Format(_CLIENT_DEMOGRAPHICS, _client_demographic, _layout_by_name),
    ImportFormat.FILED_CLAIMS: _Format(_FILED_CLAIMS, _filed_claim, _layout_by_name),
}

# Header names (normalised) that together identify a format, checked in this order.
_SIGNATURES: tuple[tuple[ImportFormat, frozenset[str]], ...] = (
    (
        ImportFormat.ATTENDANCE,
        frozenset({"dateofservice", "clientname", "clinicianname", "appointmentstatus"}),
    ),
    (
        ImportFormat.SIMPLEPRACTICE,
        frozenset({"dateofservice", "client", "clinician", "billingcode", "clientpaymentstatus"}),
    ),
    (ImportFormat.FILED_CLAIMS, frozenset({"datesubmitted", "client", "payer", "clearinghousereference"})),
    (ImportFormat.CLIENT_DEMOGRAPHICS, frozenset({"client", "dateofbirth", "sex"})),
    (ImportFormat.CLIENT_DETAILS, frozenset({"client", "clienttype", "insuranceid"})),
)


def columns_of(fmt: ImportFormat) -> tuple[Column, ...]:
    """The fields of a format (what a mapping may target), required ones flagged."""
    return _spec(fmt).columns


def detect_format(table: CsvTable) -> ImportFormat | None:
    """The format the header identifies, or None (the file then needs a column mapping)."""
    names = {normalise_name(name) for name in table.header}
    for fmt, signature in _SIGNATURES:
        if signature <= names:
            return fmt
    if _any_name(names, _AR_AGING[0]) and _any_name(names, _AR_AGING[3]):
        return ImportFormat.AR_AGING
    return None


def _any_name(names: set[str], column: Column) -> bool:
    return any(normalise_name(name) in names for name in column.names)


def match_columns(header: Sequence[str], fmt: ImportFormat) -> dict[str, int]:
    """Each field's column index found by the format's own header names (none required)."""
    spec = _spec(fmt)
    return spec.layout(header, spec.columns)


def resolve_columns(table: CsvTable, fmt: ImportFormat) -> dict[str, int]:
    """Each field's column index in this file; a missing required column refuses the file."""
    layout = match_columns(table.header, fmt)
    missing = [column for column in columns_of(fmt) if column.required and column.field not in layout]
    if missing:
        raise _missing_columns(table, missing)
    return layout


def _missing_columns(table: CsvTable, missing: Sequence[Column]) -> CsvInputError:
    first = missing[0]
    accepted = f" (accepted names: {', '.join(first.names)})" if len(first.names) > 1 else ""
    others = "".join(f', also "{column.label}"' for column in missing[1:])
    found = ", ".join(quote(name) for name in table.header) or "nothing"
    return CsvInputError(
        table.filename,
        table.header_row,
        first.label,
        None,
        f"is missing from the header{accepted}{others}; the header has {found}",
    )


def parse(table: CsvTable, fmt: ImportFormat) -> Iterator[ParsedRow | RejectedRow]:
    """The rows of a file in a known format, lazily; refuses now if a required column is missing."""
    return parse_columns(table, fmt, resolve_columns(table, fmt))


def parse_columns(table: CsvTable, fmt: ImportFormat, layout: Layout) -> Iterator[ParsedRow | RejectedRow]:
    """The rows read with an explicit field -> column index layout (what a mapping gives)."""
    build = _spec(fmt).build
    context = _Context(table, layout)
    return _rows(table, context, build)


def _rows(
    table: CsvTable, context: _Context, build: Callable[[_Cells], ParsedRow]
) -> Iterator[ParsedRow | RejectedRow]:
    for row_number, cells in table:
        reading = _Cells(context, row_number, cells)
        row = build(reading)
        if reading.problems:
            yield RejectedRow(row_number, tuple(reading.problems), tuple(cells))
        else:
            yield row


def _spec(fmt: ImportFormat) -> _Format:
    if fmt is ImportFormat.MAPPING:
        raise ValueError("a mapping import is read with mapping.apply_mapping(table, mapping)")
    return _FORMATS[fmt]
