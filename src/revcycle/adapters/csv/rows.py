"""The rows an import reads, one frozen dataclass per report, plus the payer reference.

These are plain values: what the file says, typed, nothing looked up. Matching them to
clients, sessions, payers and claims is the imports service's work. ``row_number`` is the
file line the row starts on (see :mod:`revcycle.adapters.csv.reading`).

Blank cells (empty or ``--``) become ``None`` for optional text, dates and payers, and
``0`` for the SimplePractice amount columns, where ``--`` means nothing was charged or paid;
a required value that is blank rejects the row. Each field notes its rule where it differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "AppointmentRow",
    "ArClaimRow",
    "AttendanceRow",
    "AttendanceStatus",
    "ClientDemographicRow",
    "ClientDetailRow",
    "ClientPaymentStatus",
    "FiledClaimRow",
    "InsurancePaymentStatus",
    "NoteStatus",
    "PayerRef",
    "is_cpt_code",
]

# A payer id as clearinghouses publish them: 3 to 10 letters and digits with at least one
# digit, so a plan type in parentheses ("Aetna (PPO)", "(HMO)") stays part of the name.
_PAYER_ID = re.compile(r"(?=[A-Za-z]*[0-9])[A-Za-z0-9]{3,10}")
_SPACES = re.compile(r"\s+")
# CPT (five digits; category II/III end in F or T) or HCPCS level II (a letter, four digits).
_CPT = re.compile(r"[0-9]{5}|[0-9]{4}[FT]|[A-Z][0-9]{4}")


class ClientPaymentStatus(StrEnum):
    PAID = "PAID"
    UNPAID = "UNPAID"
    NO_CHARGE = "NO CHARGE"
    UNINVOICED = "UNINVOICED"


class InsurancePaymentStatus(StrEnum):
    PAID = "PAID"
    UNPAID = "UNPAID"
    OVER = "OVER"  # overpaid: insurance unpaid is negative, a credit balance to review
    PENDING = "PENDING"
    UNBILLED = "UNBILLED"


class NoteStatus(StrEnum):
    LOCKED = "LOCKED"
    NO_NOTE = "NO NOTE"
    DRAFT = "DRAFT"


class AttendanceStatus(StrEnum):
    SHOW = "show"
    NO_SHOW = "no_show"
    LATE_CANCEL = "late_cancel"
    CANCELED = "canceled"


def is_cpt_code(code: str) -> bool:
    """A CPT/HCPCS code a payer can be billed for; practice codes such as ``111`` are not."""
    return _CPT.fullmatch(code.strip().upper()) is not None


@dataclass(frozen=True, slots=True)
class PayerRef:
    """A payer as exports name it: ``Tricare East (99727)`` -> name and EDI payer id."""

    name: str
    payer_id: str | None = None

    @staticmethod
    def parse(text: str) -> PayerRef | None:
        """Whitespace runs collapse; the id is the last parenthesised group if it looks like
        one; ``--`` or empty is no payer (``None``)."""
        return _parse_payer(text)


@lru_cache(maxsize=4096)
def _parse_payer(text: str) -> PayerRef | None:
    collapsed = _SPACES.sub(" ", text).strip()
    if collapsed in {"", "--"}:
        return None
    opening = _last_group_start(collapsed)
    if opening is not None:
        candidate = collapsed[opening + 1 : -1].strip()
        name = collapsed[:opening].strip()
        if name and _PAYER_ID.fullmatch(candidate):
            return PayerRef(name, candidate)
    return PayerRef(collapsed)


def _last_group_start(text: str) -> int | None:
    """Index of the "(" matching a final ")", across nested parentheses; None if unbalanced."""
    if not text.endswith(")"):
        return None
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        if text[index] == ")":
            depth += 1
        elif text[index] == "(":
            depth -= 1
            if depth == 0:
                return index
    return None


@dataclass(frozen=True, slots=True)
class AppointmentRow:
    """One line of the SimplePractice appointment status export: a session's charge.

    The client's share (``client_*``) and the insurance's (``insurance_*``) come from the two
    Charge/Paid/Unpaid column groups. Amount cells that are blank mean 0.
    ``insurance_payment_status`` is None when blank (self-pay); ``note_status`` and
    ``write_off_cents`` are None when the export has no such column (older exports), and a
    blank write-off is 0.
    """

    row_number: int
    service_at: datetime  # local time at the practice, naive
    client_name: str
    clinician_name: str
    billing_code: str  # stripped: "90837 " -> "90837"
    primary_payer: PayerRef | None
    secondary_payer: PayerRef | None
    rate_per_unit_cents: int
    units: int
    total_fee_cents: int
    client_payment_status: ClientPaymentStatus
    client_charge_cents: int
    client_uninvoiced_cents: int
    client_paid_cents: int
    client_unpaid_cents: int
    insurance_payment_status: InsurancePaymentStatus | None
    insurance_charge_cents: int
    insurance_paid_cents: int
    insurance_unpaid_cents: int  # negative when OVER
    note_status: NoteStatus | None = None
    write_off_cents: int | None = None

    @property
    def is_cpt(self) -> bool:
        """False for the practice's own codes (``111`` no-show fee): patient-only charges."""
        return is_cpt_code(self.billing_code)


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    """One appointment of the SimplePractice client attendance export.

    ``service_at`` is None when the file gives a date but no time; ``duration_minutes`` is
    known only when both start and end times are given.
    """

    row_number: int
    service_on: date
    service_at: datetime | None
    client_name: str
    clinician_name: str
    status: AttendanceStatus
    billing_code: str | None = None
    duration_minutes: int | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class ArClaimRow:
    """One open claim of an AR aging / portfolio export from another billing system.

    ``balance_cents`` may be negative (a credit balance). ``aging_days`` is None when the file
    has no aging column; the service ages from ``service_on`` then. Optional columns that are
    absent or blank give None.
    """

    row_number: int
    claim_id: str
    patient_name: str
    payer: PayerRef  # payer_id from a "Payer ID" column, else from "Name (id)", else None
    balance_cents: int
    service_on: date
    aging_days: int | None = None
    procedure_code: str | None = None
    provider_name: str | None = None
    billed_cents: int | None = None
    member_id: str | None = None

    @property
    def payer_name(self) -> str:
        return self.payer.name


@dataclass(frozen=True, slots=True)
class ClientDetailRow:
    """One client of the SimplePractice "Client details" report; blanks are None."""

    row_number: int
    client_name: str
    client_type: str | None = None
    added_on: date | None = None
    primary_clinician: str | None = None
    last_appointment_on: date | None = None
    next_appointment_on: date | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None  # text: "07030" keeps its leading zero
    phone: str | None = None
    email: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    primary_insurance: PayerRef | None = None
    member_id: str | None = None  # the report's "Insurance ID"
    status: str | None = None


@dataclass(frozen=True, slots=True)
class ClientDemographicRow:
    """One client of the SimplePractice "Client demographics" report; blanks are None."""

    row_number: int
    client_name: str
    contact_name: str | None = None
    age: int | None = None
    date_of_birth: date | None = None
    sex: str | None = None  # as written ("Female", "Male", ...); claim codes are mapped later
    gender_identity: str | None = None
    race: str | None = None
    relationship_status: str | None = None
    employment_status: str | None = None
    preferred_language: str | None = None
    city: str | None = None
    zip_code: str | None = None


@dataclass(frozen=True, slots=True)
class FiledClaimRow:
    """One submission of the SimplePractice "Filed claims" report (resubmissions are new rows).

    ``status`` is SimplePractice's wording, mapped onto claim states by the domain.
    ``submitted_at`` is set only when the cell gives a time.
    """

    row_number: int
    submitted_on: date
    client_name: str
    status: str
    payer: PayerRef | None
    clearinghouse_reference: str | None = None
    payer_claim: str | None = None  # the payer's claim control number, once known
    submitted_at: datetime | None = None
