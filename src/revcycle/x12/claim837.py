"""The professional claim set an 837P (005010X222A1) carries, as plain values.

An 837P is a batch of professional claims sent to a clearinghouse or payer. Its body is a
hierarchy: the billing provider (HL level 20), under it each subscriber with the payer
(level 22), under the subscriber the patient when the patient is someone else (level 23),
and under the lowest level the claims (CLM) with their service lines (LX/SV1).

Here the claim set is flat: every claim names its billing provider, subscriber, payer and
patient, and the writer opens a new HL level whenever one of them changes from the claim
before. Reading a file back therefore gives the same claims in the same order.

Money is integer cents (``charge_cents``); the writer formats it as X12 decimals ("150",
"150.5"). Diagnosis codes are ICD-10-CM without the dot ("F4310").
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

__all__ = [
    "Address",
    "Adjustment",
    "BillingProvider",
    "Claim",
    "ClaimSet",
    "LineAdjudication",
    "OtherCoverage",
    "Patient",
    "Payer",
    "Provider",
    "Receiver",
    "ServiceFacility",
    "ServiceLine",
    "Submitter",
    "Subscriber",
]

PATIENT_IS_SUBSCRIBER = "18"
"""SBR02 when the patient is the subscriber: then there is no patient loop (2000C)."""

ICD10_PRINCIPAL = "ABK"
ICD10_OTHER = "ABF"
ICD9_PRINCIPAL = "BK"
ICD9_OTHER = "BF"


@dataclass(frozen=True)
class Address:
    """N3/N4: street lines, city, state and ZIP (a billing provider's ZIP has 9 digits)."""

    line1: str
    city: str
    state: str
    postal_code: str
    line2: str = ""


@dataclass(frozen=True)
class Submitter:
    """1000A: who sends the file (NM1*41, id qualified by 46) and its contact (PER*IC, phone)."""

    name: str
    id: str
    contact_name: str
    phone: str


@dataclass(frozen=True)
class Receiver:
    """1000B: the clearinghouse or payer receiving the file (NM1*40)."""

    name: str
    id: str


@dataclass(frozen=True)
class BillingProvider:
    """2010AA: the billing entity. A person when ``first_name`` is given, else an organization.

    ``pay_to`` is the 2010AB pay-to address, written only when payments go somewhere else.
    """

    name: str
    npi: str
    ein: str
    taxonomy: str
    address: Address
    first_name: str = ""
    pay_to: Address | None = None


@dataclass(frozen=True)
class Subscriber:
    """2000B/2010BA: the insured member.

    ``responsibility`` is SBR01 (P primary, S secondary, T tertiary) — which payer this claim
    goes to. ``relationship`` is SBR02: "18" when the patient is the subscriber (no patient
    loop), "" when the claim's patient is someone else (then the claim has a ``patient``).
    """

    last_name: str
    first_name: str
    member_id: str
    responsibility: str = "P"
    relationship: str = PATIENT_IS_SUBSCRIBER
    group_number: str = ""
    filing_indicator: str = "CI"
    middle_name: str = ""
    address: Address | None = None
    birth_date: datetime.date | None = None
    sex: str = ""


@dataclass(frozen=True)
class Payer:
    """2010BB: the payer this claim is sent to (NM1*PR, payer id qualified by PI)."""

    name: str
    id: str


@dataclass(frozen=True)
class Patient:
    """2000C/2010CA: the patient when not the subscriber; ``relationship`` is PAT01 (19 child ...)."""

    last_name: str
    first_name: str
    relationship: str
    birth_date: datetime.date
    sex: str
    address: Address
    middle_name: str = ""


@dataclass(frozen=True)
class Provider:
    """A person by NPI: the rendering (2310B, with a taxonomy) or supervising (2310D) provider."""

    last_name: str
    first_name: str
    npi: str
    taxonomy: str = ""


@dataclass(frozen=True)
class ServiceFacility:
    """2310C: where the service was given, when not the billing provider's address."""

    name: str
    address: Address
    npi: str = ""


@dataclass(frozen=True)
class Adjustment:
    """One CAS triplet: group (CO, PR, OA, PI, CR), reason (CARC) and amount in cents."""

    group: str
    reason: str
    amount_cents: int


@dataclass(frozen=True)
class LineAdjudication:
    """2430: how another payer adjudicated one line (SVD, CAS, DTP*573 from its 835).

    ``payer_id`` is SVD01 and matches the other coverage's ``payer_id``.
    """

    payer_id: str
    paid_cents: int
    procedure_code: str
    units: int
    adjudicated_on: datetime.date
    modifiers: tuple[str, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()


@dataclass(frozen=True)
class OtherCoverage:
    """2320/2330A/2330B: another payer on the claim (on a secondary claim, the primary).

    ``responsibility`` and ``relationship`` are that payer's SBR01/SBR02; ``paid_cents`` is
    AMT*D (what it paid, when it adjudicated); ``adjustments`` its claim-level CAS.
    """

    responsibility: str
    relationship: str
    subscriber_last_name: str
    subscriber_first_name: str
    member_id: str
    payer_name: str
    payer_id: str
    group_number: str = ""
    filing_indicator: str = "CI"
    paid_cents: int | None = None
    adjustments: tuple[Adjustment, ...] = ()


@dataclass(frozen=True)
class ServiceLine:
    """2400: LX/SV1/DTP*472 — a procedure with up to 4 modifiers, its charge, units and pointers.

    ``diagnosis_pointers`` are 1-based positions in the claim's ``diagnoses`` (1 to 4 of
    them); ``place_of_service`` is written (SV105) only when it differs from the claim's.
    ``control_number`` is REF*6R, the line item control number a payer echoes in its 835 (we
    send the claim's number and the line's: "C00001234-2"), so payments find their line.
    """

    procedure_code: str
    charge_cents: int
    units: int
    service_date: datetime.date
    diagnosis_pointers: tuple[int, ...]
    modifiers: tuple[str, ...] = ()
    place_of_service: str = ""
    adjudications: tuple[LineAdjudication, ...] = ()
    control_number: str = ""


@dataclass(frozen=True)
class Claim:
    """2300: one claim (CLM) with everything above it in the hierarchy.

    ``patient_control_number`` (CLM01) is the claim's number, at most 17 characters, kept
    across resubmissions. ``frequency`` is CLM05-3: 1 original, 7 replacement, 8 void; 7 and 8
    need the payer's claim control number (REF*F8). ``diagnoses`` are written under
    ``diagnosis_qualifier`` ("ABK"/"ABF" for ICD-10; "BK" asks for ICD-9 and is refused).
    """

    billing_provider: BillingProvider
    subscriber: Subscriber
    payer: Payer
    patient_control_number: str
    total_charge_cents: int
    place_of_service: str
    diagnoses: tuple[str, ...]
    lines: tuple[ServiceLine, ...]
    patient: Patient | None = None
    frequency: str = "1"
    diagnosis_qualifier: str = ICD10_PRINCIPAL
    prior_authorization: str = ""
    payer_claim_control_number: str = ""
    rendering: Provider | None = None
    supervising: Provider | None = None
    service_facility: ServiceFacility | None = None
    other_coverages: tuple[OtherCoverage, ...] = ()
    provider_signature: str = "Y"
    assignment: str = "A"
    benefits_assigned: str = "Y"
    release_of_information: str = "Y"


@dataclass(frozen=True)
class ClaimSet:
    """One 837P transaction: submitter, receiver, the BHT reference and time, and the claims."""

    submitter: Submitter
    receiver: Receiver
    reference: str
    created_at: datetime.datetime
    claims: tuple[Claim, ...] = field(default_factory=tuple)
