"""Claim facts: everything the scrubber looks at, gathered into one frozen value.

The claims service reads a claim, its lines, the practice's billing entity, the providers,
the client, the coverage, the payer's settings and the authorization, and hands the scrubber
one :class:`ClaimFacts`. The edits look at nothing else: no database, no clock (``today`` is
the practice's today, passed in), so a scrub can be replayed exactly.

Text fields hold what would go on the 837P as it is stored; an empty string means "not
known". Dates of service are the practice's calendar dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "ELECTRONIC_ROUTES",
    "Address",
    "Authorization",
    "BillingProvider",
    "ClaimFacts",
    "ClaimLine",
    "Coverage",
    "Payer",
    "Person",
    "Provider",
    "Supervision",
    "line_where",
]

# Billing routes that send the claim electronically (an 837P through a clearinghouse or
# SimplePractice): only these need the payer's EDI id.
ELECTRONIC_ROUTES = frozenset({"clearinghouse", "simplepractice"})


@dataclass(frozen=True)
class Address:
    """A US street address (837P N3/N4)."""

    line1: str
    city: str
    state: str  # two-letter USPS code
    postal_code: str  # "19103" or "191031234" / "19103-1234"
    line2: str = ""


@dataclass(frozen=True)
class Person:
    """The patient or the subscriber (837P 2010BA / 2010CA: NM1, DMG, N3/N4)."""

    last_name: str
    first_name: str
    date_of_birth: date | None
    sex: str  # F | M | U (DMG03)
    address: Address | None = None


@dataclass(frozen=True)
class BillingProvider:
    """The practice's billing entity (837P loop 2010AA): who gets paid."""

    name: str  # legal name (NM103)
    npi: str  # group or individual NPI (NM109)
    tax_id: str  # EIN, nine digits, a dash allowed (REF*EI)
    taxonomy_code: str  # PRV03; "" when not known
    address: Address  # a street address; ZIP+4 required


@dataclass(frozen=True)
class Provider:
    """A rendering (2310B) or supervising (2310D) provider."""

    last_name: str
    first_name: str
    npi: str
    taxonomy_code: str = ""


@dataclass(frozen=True)
class Payer:
    """The payer and the practice's settings for it."""

    name: str
    payer_id: str  # EDI payer id (2010BB NM109)
    requires_prior_auth: bool = False
    filing_limit_days: int | None = None  # timely filing: days from the date of service
    billing_route: str = "clearinghouse"  # portal | clearinghouse | simplepractice | paper

    @property
    def is_electronic(self) -> bool:
        """True when the claim goes out as an 837P (and so needs the EDI payer id)."""
        return self.billing_route.strip().lower() in ELECTRONIC_ROUTES


@dataclass(frozen=True)
class Coverage:
    """The client's coverage with the payer billed; dates ``None`` are open-ended."""

    member_id: str
    subscriber: Person
    relationship_to_subscriber: str = "self"  # "self" (or X12 "18") when the client is the subscriber
    group_number: str = ""
    effective_on: date | None = None
    ends_on: date | None = None

    @property
    def client_is_subscriber(self) -> bool:
        return self.relationship_to_subscriber.strip().lower() in {"self", "18"}


@dataclass(frozen=True)
class Authorization:
    """A prior authorization (REF*G1): its number, dates and visits.

    ``visits_used`` counts visits already used *before* this claim; the claim itself uses one
    visit per date of service.
    """

    number: str
    starts_on: date | None
    ends_on: date | None
    visits_allowed: int | None  # None: no visit limit
    visits_used: int = 0


@dataclass(frozen=True)
class Supervision:
    """A claim for a supervised clinician the payer does not credential on their own.

    ``basis`` is how the claim is billed: ``direct`` (under the clinician), ``incident_to`` or
    ``supervisor`` (under the supervisor, who is then the rendering provider).
    ``payer_setting`` is the practice's setting for the payer (``not_allowed``,
    ``incident_to`` or ``supervisor``). The supervisor's standing is as of the date of
    service; ``supervisor`` is ``None`` when none is on file.
    """

    basis: str
    payer_setting: str
    clinician: Provider
    supervisor: Provider | None
    supervisor_active: bool = True
    supervisor_is_supervised: bool = False
    supervisor_in_network: bool = True  # enrolled and in network with the payer on the date of service


@dataclass(frozen=True)
class ClaimLine:
    """One service line (837P loop 2400: SV1 and DTP*472)."""

    procedure_code: str  # CPT or HCPCS (SV101-2)
    charge_cents: int  # SV102
    units: int = 1  # SV104
    modifiers: tuple[str, ...] = ()  # SV101-3..6
    diagnosis_pointers: tuple[int, ...] = ()  # SV107, 1-based into ClaimFacts.diagnosis_codes
    minutes: int | None = None  # face-to-face minutes when known (time-based codes)
    service_on: date | None = None  # None: the claim's first date of service
    place_of_service: str = ""  # SV105; "": the claim's


@dataclass(frozen=True)
class ClaimFacts:
    """One claim as the scrubber sees it."""

    claim_number: str  # CLM01, the patient control number
    service_from_on: date
    place_of_service: str  # CLM05-1
    billing_provider: BillingProvider
    patient: Person
    coverage: Coverage
    payer: Payer
    diagnosis_codes: tuple[str, ...]  # HI, in order: pointer 1 is the first; dotted or not
    lines: tuple[ClaimLine, ...]
    today: date  # the practice's today, never read from a clock here
    service_to_on: date | None = None  # None: a single day
    rendering_provider: Provider | None = None
    supervising_provider: Provider | None = None
    authorization: Authorization | None = None
    supervision: Supervision | None = None  # None: billed by a clinician who needs no supervisor

    def line_service_on(self, line: ClaimLine) -> date:
        """The line's date of service (the claim's first date when the line has none)."""
        return line.service_on or self.service_from_on

    def line_place_of_service(self, line: ClaimLine) -> str:
        """The line's place of service (the claim's when the line has none)."""
        return line.place_of_service.strip() or self.place_of_service.strip()

    @property
    def service_dates(self) -> tuple[date, ...]:
        """Every distinct date of service, in order (the claim's first date when no lines)."""
        dates = {self.line_service_on(line) for line in self.lines} or {self.service_from_on}
        return tuple(sorted(dates))


def line_where(number: int, field: str) -> str:
    """``line 2, SV1 procedure``: where a problem on a service line is (lines count from 1)."""
    return f"line {number}, {field}"
