"""Write an 837P (005010X222A1) from a claim set: the transaction body, then a whole file.

The body follows the implementation guide's order: BHT, submitter (1000A), receiver (1000B),
then for each run of claims the HL hierarchy — billing provider (20), subscriber and payer
(22), patient (23, only when the patient is not the subscriber) — and under the lowest level
the claims: CLM, REF, HI, the rendering (2310B), service facility (2310C) and supervising
(2310D) providers, the other payers (2320/2330A/2330B), and the lines (LX/SV1/DTP*472 with
their 2430 adjudications). A new HL opens whenever a claim's billing provider, subscriber,
payer or patient differs from the claim before it, so claims keep their order.

Every claim set passes ``check837.check_claim_set`` before a segment is written.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from revcycle.x12.check837 import check_claim_set
from revcycle.x12.claim837 import (
    ICD9_OTHER,
    ICD9_PRINCIPAL,
    ICD10_OTHER,
    PATIENT_IS_SUBSCRIBER,
    Address,
    Adjustment,
    BillingProvider,
    Claim,
    ClaimSet,
    LineAdjudication,
    OtherCoverage,
    Patient,
    ServiceLine,
    Subscriber,
)
from revcycle.x12.envelope import FunctionalGroup, Interchange, Transaction, write_interchange
from revcycle.x12.segments import Segment, seg

__all__ = [
    "IMPLEMENTATION",
    "Routing",
    "claim_set_segments",
    "claim_set_transaction",
    "format_cents",
    "write_837",
]

IMPLEMENTATION = "005010X222A1"
FUNCTIONAL_ID = "HC"


@dataclass(frozen=True)
class Routing:
    """Who the file goes from and to: the ISA ids with their qualifiers, the GS application codes."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    application_sender: str = ""
    application_receiver: str = ""
    usage: str = "P"


def write_837(
    claim_sets: Sequence[ClaimSet],
    *,
    routing: Routing,
    interchange_control_number: int,
    group_control_number: int,
    first_transaction_control_number: int = 1,
    line_breaks: bool = False,
) -> str:
    """One interchange with one functional group holding a transaction per claim set."""
    if not claim_sets:
        raise ValueError("an 837 file needs at least one claim set")
    created_at = claim_sets[0].created_at
    transactions = [
        claim_set_transaction(claim_set, control_number=first_transaction_control_number + index)
        for index, claim_set in enumerate(claim_sets)
    ]
    group = FunctionalGroup(
        functional_id=FUNCTIONAL_ID,
        sender_id=routing.application_sender or routing.sender_id,
        receiver_id=routing.application_receiver or routing.receiver_id,
        date=created_at.date(),
        time=created_at.time().replace(second=0, microsecond=0),
        control_number=str(group_control_number),
        version=IMPLEMENTATION,
        transactions=transactions,
    )
    interchange = Interchange(
        sender_qualifier=routing.sender_qualifier,
        sender_id=routing.sender_id,
        receiver_qualifier=routing.receiver_qualifier,
        receiver_id=routing.receiver_id,
        date=created_at.date(),
        time=created_at.time().replace(second=0, microsecond=0),
        control_number=f"{interchange_control_number:09d}",
        usage=routing.usage,
        groups=[group],
    )
    return write_interchange(interchange, line_breaks=line_breaks)


def claim_set_transaction(claim_set: ClaimSet, *, control_number: int) -> Transaction:
    return Transaction(
        set_id="837",
        control_number=f"{control_number:04d}",
        implementation=IMPLEMENTATION,
        segments=claim_set_segments(claim_set),
    )


def claim_set_segments(claim_set: ClaimSet) -> list[Segment]:
    """The body between ST and SE, after the writer-side checks."""
    check_claim_set(claim_set)
    return [*_header(claim_set), *_hierarchy(claim_set.claims)]


def format_cents(cents: int) -> str:
    """X12 decimal: 15000 -> "150", 15050 -> "150.5", 15025 -> "150.25", -500 -> "-5"."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    if fraction == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:02d}".rstrip("0")


def _date(day: datetime.date) -> str:
    return day.strftime("%Y%m%d")


def _header(claim_set: ClaimSet) -> list[Segment]:
    created = claim_set.created_at
    time = created.strftime("%H%M%S" if created.second else "%H%M")
    submitter, receiver = claim_set.submitter, claim_set.receiver
    return [
        seg("BHT", "0019", "00", claim_set.reference, _date(created.date()), time, "CH"),
        seg("NM1", "41", "2", submitter.name, None, None, None, None, "46", submitter.id),
        seg("PER", "IC", submitter.contact_name, "TE", submitter.phone),
        seg("NM1", "40", "2", receiver.name, None, None, None, None, "46", receiver.id),
    ]


class _Numbering:
    """HL01 numbers, handed out in order."""

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> str:
        self.last += 1
        return str(self.last)


MAX_CLAIMS_PER_LEVEL = 100
"""Loop 2300 repeats at most 100 times under one subscriber or patient level."""


def _hierarchy(claims: Sequence[Claim]) -> Iterator[Segment]:
    numbers = _Numbering()
    last_billing: object = None
    last_subscriber: object = None
    last_patient: object = None
    billing_hl = subscriber_hl = ""
    under_level = 0  # claims written under the current lowest level
    for claim in claims:
        # Each level's key includes the levels above it: a new billing provider opens a new
        # subscriber level even for the same subscriber. A full level opens another one for
        # the same people.
        billing = claim.billing_provider
        subscriber = (billing, claim.subscriber, claim.payer)
        patient = (subscriber, claim.patient)
        new_subscriber = subscriber != last_subscriber or under_level == MAX_CLAIMS_PER_LEVEL
        new_level = new_subscriber or patient != last_patient
        if billing != last_billing:
            billing_hl = numbers.next()
            yield from _billing_provider(billing_hl, billing)
        if new_subscriber:
            subscriber_hl = numbers.next()
            yield from _subscriber(subscriber_hl, billing_hl, claim)
        if new_level and claim.patient is not None:
            yield from _patient(numbers.next(), subscriber_hl, claim.patient)
        under_level = 1 if new_level else under_level + 1
        yield from _claim(claim)
        last_billing, last_subscriber, last_patient = billing, subscriber, patient


def _name(
    entity: str, kind: str, last: str, first: str = "", middle: str = "", *, qualifier: str = "", id: str = ""
) -> Segment:
    return seg("NM1", entity, kind, last, first, middle, None, None, qualifier or None, id or None)


def _address(address: Address) -> list[Segment]:
    return [
        seg("N3", address.line1, address.line2),
        seg("N4", address.city, address.state, address.postal_code),
    ]


def _billing_provider(hl: str, provider: BillingProvider) -> Iterator[Segment]:
    yield seg("HL", hl, None, "20", "1")
    if provider.taxonomy:
        yield seg("PRV", "BI", "PXC", provider.taxonomy)
    kind = "1" if provider.first_name else "2"
    yield _name("85", kind, provider.name, provider.first_name, qualifier="XX", id=provider.npi)
    yield from _address(provider.address)
    yield seg("REF", "EI", provider.ein)
    if provider.pay_to is not None:
        yield seg("NM1", "87", "2")
        yield from _address(provider.pay_to)


def _subscriber(hl: str, parent: str, claim: Claim) -> Iterator[Segment]:
    subscriber: Subscriber = claim.subscriber
    has_patient = "0" if subscriber.relationship == PATIENT_IS_SUBSCRIBER else "1"
    yield seg("HL", hl, parent, "22", has_patient)
    yield seg(
        "SBR",
        subscriber.responsibility,
        subscriber.relationship,
        subscriber.group_number,
        None,
        None,
        None,
        None,
        None,
        subscriber.filing_indicator,
    )
    yield _name(
        "IL",
        "1",
        subscriber.last_name,
        subscriber.first_name,
        subscriber.middle_name,
        qualifier="MI",
        id=subscriber.member_id,
    )
    if subscriber.address is not None:
        yield from _address(subscriber.address)
    if subscriber.birth_date is not None:
        yield seg("DMG", "D8", _date(subscriber.birth_date), subscriber.sex)
    yield _name("PR", "2", claim.payer.name, qualifier="PI", id=claim.payer.id)


def _patient(hl: str, parent: str, patient: Patient) -> Iterator[Segment]:
    yield seg("HL", hl, parent, "23", "0")
    yield seg("PAT", patient.relationship)
    yield _name("QC", "1", patient.last_name, patient.first_name, patient.middle_name)
    yield from _address(patient.address)
    yield seg("DMG", "D8", _date(patient.birth_date), patient.sex)


def _claim(claim: Claim) -> Iterator[Segment]:
    yield seg(
        "CLM",
        claim.patient_control_number,
        format_cents(claim.total_charge_cents),
        None,
        None,
        (claim.place_of_service, "B", claim.frequency),
        claim.provider_signature,
        claim.assignment,
        claim.benefits_assigned,
        claim.release_of_information,
    )
    if claim.prior_authorization:
        yield seg("REF", "G1", claim.prior_authorization)
    if claim.payer_claim_control_number:
        yield seg("REF", "F8", claim.payer_claim_control_number)
    yield _diagnoses(claim)
    if claim.rendering is not None:
        rendering = claim.rendering
        yield _name("82", "1", rendering.last_name, rendering.first_name, qualifier="XX", id=rendering.npi)
        if rendering.taxonomy:
            yield seg("PRV", "PE", "PXC", rendering.taxonomy)
    if claim.service_facility is not None:
        facility = claim.service_facility
        yield _name("77", "2", facility.name, qualifier="XX" if facility.npi else "", id=facility.npi)
        yield from _address(facility.address)
    if claim.supervising is not None:
        supervising = claim.supervising
        yield _name(
            "DQ", "1", supervising.last_name, supervising.first_name, qualifier="XX", id=supervising.npi
        )
    for coverage in claim.other_coverages:
        yield from _other_coverage(claim, coverage)
    for number, line in enumerate(claim.lines, start=1):
        yield from _line(claim, number, line)


def _diagnoses(claim: Claim) -> Segment:
    icd9 = claim.diagnosis_qualifier == ICD9_PRINCIPAL
    other = ICD9_OTHER if icd9 else ICD10_OTHER
    qualifiers = [claim.diagnosis_qualifier] + [other] * (len(claim.diagnoses) - 1)
    return seg(
        "HI", *[(qualifier, code) for qualifier, code in zip(qualifiers, claim.diagnoses, strict=True)]
    )


def _adjustments(adjustments: Sequence[Adjustment]) -> Iterator[Segment]:
    """One CAS per group code (in order of first appearance), up to six reason/amount pairs each."""
    groups: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        groups.setdefault(adjustment.group, []).append(adjustment)
    for group, members in groups.items():
        elements: list[str | None] = [group]
        for adjustment in members:
            elements += [adjustment.reason, format_cents(adjustment.amount_cents), None]
        yield seg("CAS", *elements)


def _other_coverage(claim: Claim, coverage: OtherCoverage) -> Iterator[Segment]:
    yield seg(
        "SBR",
        coverage.responsibility,
        coverage.relationship,
        coverage.group_number,
        None,
        None,
        None,
        None,
        None,
        coverage.filing_indicator,
    )
    yield from _adjustments(coverage.adjustments)
    if coverage.paid_cents is not None:
        yield seg("AMT", "D", format_cents(coverage.paid_cents))
    yield seg("OI", None, None, claim.benefits_assigned, None, None, claim.release_of_information)
    yield _name(
        "IL",
        "1",
        coverage.subscriber_last_name,
        coverage.subscriber_first_name,
        qualifier="MI",
        id=coverage.member_id,
    )
    yield _name("PR", "2", coverage.payer_name, qualifier="PI", id=coverage.payer_id)


def _procedure(code: str, modifiers: Sequence[str]) -> tuple[str, ...]:
    return ("HC", code, *modifiers)


def _line(claim: Claim, number: int, line: ServiceLine) -> Iterator[Segment]:
    yield seg("LX", str(number))
    place = line.place_of_service if line.place_of_service != claim.place_of_service else ""
    yield seg(
        "SV1",
        _procedure(line.procedure_code, line.modifiers),
        format_cents(line.charge_cents),
        "UN",
        str(line.units),
        place,
        None,
        tuple(str(pointer) for pointer in line.diagnosis_pointers),
    )
    yield seg("DTP", "472", "D8", _date(line.service_date))
    if line.control_number:
        yield seg("REF", "6R", line.control_number)
    for adjudication in line.adjudications:
        yield from _line_adjudication(adjudication)


def _line_adjudication(adjudication: LineAdjudication) -> Iterator[Segment]:
    yield seg(
        "SVD",
        adjudication.payer_id,
        format_cents(adjudication.paid_cents),
        _procedure(adjudication.procedure_code, adjudication.modifiers),
        None,
        str(adjudication.units),
    )
    yield from _adjustments(adjudication.adjustments)
    yield seg("DTP", "573", "D8", _date(adjudication.adjudicated_on))
