"""Read an 837P (005010X222A1) back into claim sets: the writer's mirror.

The body is read in one pass. HL opens a hierarchy level (20 billing provider, 22 subscriber,
23 patient); CLM opens a claim; inside a claim, SBR opens another payer (2320), LX a line and
SVD a line adjudication (2430). Which loop an N3, N4, DMG, PRV or CAS belongs to is the loop
opened last. Claims come back flat and in file order, each with the parties above it.

Problems raise ``X12Error`` naming the segment's position, id and element.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from revcycle.x12.claim837 import (
    ICD9_PRINCIPAL,
    ICD10_PRINCIPAL,
    Address,
    Adjustment,
    BillingProvider,
    Claim,
    ClaimSet,
    LineAdjudication,
    OtherCoverage,
    Patient,
    Payer,
    Provider,
    Receiver,
    ServiceFacility,
    ServiceLine,
    Submitter,
    Subscriber,
)
from revcycle.x12.envelope import Transaction, read_interchanges, refuse_repetitions
from revcycle.x12.errors import X12Error
from revcycle.x12.segments import Segment

__all__ = ["parse_cents", "read_837", "read_claim_set"]

T = TypeVar("T")
_MONEY = re.compile(r"-?\d+(\.\d{1,2})?")


def read_837(text: str) -> list[ClaimSet]:
    """Every 837P transaction in a file (any number of interchanges and groups), in order."""
    claim_sets = []
    for interchange in read_interchanges(text):
        for group in interchange.groups:
            for transaction in group.transactions:
                if transaction.set_id != "837":
                    continue
                claim_sets.append(read_claim_set(transaction))
    return claim_sets


def read_claim_set(transaction: Transaction) -> ClaimSet:
    refuse_repetitions(transaction)
    reader = _Reader()
    for segment in transaction.segments:
        reader.read(segment)
    return reader.finish()


def parse_cents(segment: Segment, n: int) -> int:
    """An X12 decimal amount ("150", "150.5", "-12.25") as integer cents; sub-cent amounts are refused."""
    text = segment.element(n)
    if not _MONEY.fullmatch(text):
        raise _error(segment, n, f"{text!r} is not an amount with at most 2 decimals")
    return int(Decimal(text) * 100)


def _error(segment: Segment, n: int, message: str, k: int = 0) -> X12Error:
    return X12Error(
        message, position=segment.position or None, segment_id=segment.id, element=segment.name(n, k)
    )


def _date(segment: Segment, n: int) -> datetime.date:
    text = segment.element(n)
    try:
        return datetime.datetime.strptime(text, "%Y%m%d").date()  # noqa: DTZ007 - a calendar date
    except ValueError:
        raise _error(segment, n, f"{text!r} is not a CCYYMMDD date") from None


def _units(segment: Segment, n: int) -> int:
    text = segment.element(n)
    try:
        units = Decimal(text)
    except InvalidOperation:
        raise _error(segment, n, f"{text!r} is not a number of units") from None
    if units != units.to_integral_value():
        raise _error(segment, n, f"{text} units: only whole units are read")
    return int(units)


def _build(kind: Callable[..., T], fields: dict[str, Any], at: Segment) -> T:
    """A loop's dataclass from the fields read; a missing segment is named by the claim it stops."""
    try:
        return kind(**fields)
    except TypeError as error:
        missing = ", ".join(re.findall(r"'(\w+)'", str(error))) or str(error)
        name = getattr(kind, "__name__", "loop")
        raise _error(at, 1, f"the {name} loop before this segment lacks {missing}") from None


def _within(loop: dict[str, Any] | None, at: Segment, where: str) -> dict[str, Any]:
    if loop is None:
        raise X12Error(f"{at.id} outside {where}", position=at.position or None, segment_id=at.id)
    return loop


def _address(n3: Segment, n4: Segment) -> Address:
    return Address(
        line1=n3.element(1),
        line2=n3.element(2),
        city=n4.element(1),
        state=n4.element(2),
        postal_code=n4.element(3),
    )


class _Reader:
    def __init__(self) -> None:
        self.claims: list[Claim] = []
        self.header: dict[str, Any] = {}
        # the parties of the claims being read
        self.billing: dict[str, Any] = {}
        self.subscriber: dict[str, Any] = {}
        self.payer: Payer | None = None
        self.patient: dict[str, Any] | None = None
        # the claim being read and its open loops
        self.claim: dict[str, Any] | None = None
        self.lines: list[ServiceLine] = []
        self.coverages: list[OtherCoverage] = []
        self.coverage: dict[str, Any] | None = None
        self.line: dict[str, Any] | None = None
        self.adjudication: dict[str, Any] | None = None
        self.loop = "header"  # which loop N3/N4/DMG/PRV/CAS belong to
        self.n3: Segment | None = None
        self.facility_name = ""
        self.facility_npi = ""
        self.at = Segment("ST", ())  # the segment being read, for errors raised on closing a loop

    # ---------------------------------------------------------------- dispatch

    def read(self, segment: Segment) -> None:
        self.at = segment
        handler = getattr(self, f"_{segment.id.lower()}", None)
        if handler is None:
            raise X12Error(
                "this 837P reader does not know the segment",
                position=segment.position or None,
                segment_id=segment.id,
            )
        handler(segment)

    def finish(self) -> ClaimSet:
        self._close_claim()
        missing = [name for name in ("reference", "submitter", "receiver") if name not in self.header]
        if missing:
            raise X12Error(f"the 837 has no {', '.join(missing)} (BHT, NM1*41, NM1*40)")
        return ClaimSet(claims=tuple(self.claims), **self.header)

    # ---------------------------------------------------------------- header

    def _bht(self, s: Segment) -> None:
        time_text = s.element(5)
        day = _date(s, 4)
        try:
            # HHMM, HHMMSS or HHMMSSDD (decimal seconds, dropped)
            layout = "%H%M%S" if len(time_text) >= 6 else "%H%M"
            clock = datetime.datetime.strptime(time_text[:6], layout).time()  # noqa: DTZ007
        except ValueError:
            raise _error(s, 5, f"{time_text!r} is not an HHMM time") from None
        self.header["reference"] = s.element(3)
        self.header["created_at"] = datetime.datetime.combine(day, clock)

    def _per(self, s: Segment) -> None:
        if self.loop == "submitter":
            self.header["submitter"] = replace(
                self.header["submitter"], contact_name=s.element(2), phone=s.element(4)
            )

    # ---------------------------------------------------------------- hierarchy

    def _hl(self, s: Segment) -> None:
        self._close_claim()
        level = s.element(3)
        if level == "20":
            self.billing = {"taxonomy": ""}  # PRV*BI is situational
            self.loop = "billing"
        elif level == "22":
            self.subscriber, self.payer, self.patient = {}, None, None
            self.loop = "subscriber"
        elif level == "23":
            self.patient = {}
            self.loop = "patient"
        else:
            raise _error(s, 3, f"HL level {level!r} is not 20, 22 or 23")

    def _prv(self, s: Segment) -> None:
        if self.loop == "billing":
            self.billing["taxonomy"] = s.element(3)
        elif self.loop == "rendering" and self.claim is not None:
            self.claim["rendering"] = replace(self.claim["rendering"], taxonomy=s.element(3))

    def _ref(self, s: Segment) -> None:
        qualifier, value = s.element(1), s.element(2)
        if self.loop == "line" and self.line is not None and self.adjudication is None and qualifier == "6R":
            self.line["control_number"] = value
        elif self.loop == "billing" and qualifier == "EI":
            self.billing["ein"] = value
        elif self.claim is not None and qualifier == "G1":
            self.claim["prior_authorization"] = value
        elif self.claim is not None and qualifier == "F8":
            self.claim["payer_claim_control_number"] = value

    def _sbr(self, s: Segment) -> None:
        fields = {
            "responsibility": s.element(1),
            "relationship": s.element(2),
            "group_number": s.element(3),
            "filing_indicator": s.element(9),
        }
        if self.claim is None:
            self.subscriber.update(fields)
        else:
            self._close_coverage()
            self.coverage = fields
            self.loop = "other"

    def _pat(self, s: Segment) -> None:
        _within(self.patient, s, "a patient loop (HL*23)")["relationship"] = s.element(1)

    def _nm1(self, s: Segment) -> None:
        entity = s.element(1)
        last, first, middle, npi = s.element(3), s.element(4), s.element(5), s.element(9)
        if entity == "41":
            self.header["submitter"] = Submitter(name=last, id=npi, contact_name="", phone="")
            self.loop = "submitter"
        elif entity == "40":
            self.header["receiver"] = Receiver(name=last, id=npi)
            self.loop = "receiver"
        elif entity == "85":
            self.billing.update(name=last, first_name=first, npi=npi)
        elif entity == "87":
            self.loop = "pay_to"
        elif entity == "IL" and self.coverage is not None:
            self.coverage.update(subscriber_last_name=last, subscriber_first_name=first, member_id=npi)
        elif entity == "IL":
            self.subscriber.update(last_name=last, first_name=first, middle_name=middle, member_id=npi)
        elif entity == "PR" and self.coverage is not None:
            self.coverage.update(payer_name=last, payer_id=npi)
        elif entity == "PR":
            self.payer = Payer(name=last, id=npi)
            self.loop = "payer"
        elif entity == "QC":
            _within(self.patient, s, "a patient loop (HL*23)").update(
                last_name=last, first_name=first, middle_name=middle
            )
        elif entity in {"82", "DQ"}:
            role = "rendering" if entity == "82" else "supervising"
            _within(self.claim, s, "a claim")[role] = Provider(last_name=last, first_name=first, npi=npi)
            self.loop = role
        elif entity == "77":
            self.facility_name, self.facility_npi = last, npi
            self.loop = "facility"
        else:
            raise _error(s, 1, f"entity {entity!r} is not one this 837P reader knows")

    def _n3(self, s: Segment) -> None:
        self.n3 = s

    def _n4(self, s: Segment) -> None:
        if self.n3 is None:
            raise _error(s, 1, "N4 without the N3 before it")
        address = _address(self.n3, s)
        self.n3 = None
        if self.loop == "billing":
            self.billing["address"] = address
        elif self.loop == "pay_to":
            self.billing["pay_to"] = address
        elif self.loop == "subscriber":
            self.subscriber["address"] = address
        elif self.loop == "patient":
            _within(self.patient, s, "a patient loop (HL*23)")["address"] = address
        elif self.loop == "facility" and self.claim is not None:
            self.claim["service_facility"] = ServiceFacility(self.facility_name, address, self.facility_npi)

    def _dmg(self, s: Segment) -> None:
        fields = {"birth_date": _date(s, 2), "sex": s.element(3)}
        if self.loop == "patient":
            _within(self.patient, s, "a patient loop (HL*23)").update(fields)
        else:
            self.subscriber.update(fields)

    # ---------------------------------------------------------------- claim

    def _clm(self, s: Segment) -> None:
        self._close_claim()
        self.claim = {
            "billing_provider": _build(BillingProvider, self.billing, s),
            "subscriber": _build(Subscriber, self.subscriber, s),
            "payer": self._payer(s),
            "patient": _build(Patient, self.patient, s) if self.patient is not None else None,
            "patient_control_number": s.element(1),
            "total_charge_cents": parse_cents(s, 2),
            "place_of_service": s.component(5, 1),
            "frequency": s.component(5, 3),
            "provider_signature": s.element(6),
            "assignment": s.element(7),
            "benefits_assigned": s.element(8),
            "release_of_information": s.element(9),
        }
        self.loop = "claim"

    def _payer(self, s: Segment) -> Payer:
        if self.payer is None:
            raise _error(s, 1, "a claim before its payer (NM1*PR)")
        return self.payer

    def _hi(self, s: Segment) -> None:
        claim = _within(self.claim, s, "a claim")
        codes = [s.composite(n) for n in range(1, len(s.elements) + 1)]
        first = codes[0][0] if codes and codes[0] else ""
        if first not in {ICD10_PRINCIPAL, ICD9_PRINCIPAL}:
            raise _error(s, 1, f"the principal diagnosis qualifier {first!r} is not ABK", 1)
        claim["diagnosis_qualifier"] = first
        claim["diagnoses"] = tuple(code[1] for code in codes if len(code) > 1)

    def _cas(self, s: Segment) -> None:
        group = s.element(1)
        adjustments = tuple(
            Adjustment(group=group, reason=s.element(n), amount_cents=parse_cents(s, n + 1))
            for n in range(2, len(s.elements) + 1, 3)
            if s.element(n)
        )
        target = self.adjudication if self.adjudication is not None else self.coverage
        if target is None:
            raise _error(s, 1, "CAS outside an other payer (2320) or a line adjudication (2430)")
        target["adjustments"] = target.get("adjustments", ()) + adjustments

    def _amt(self, s: Segment) -> None:
        if self.coverage is not None and s.element(1) == "D":
            self.coverage["paid_cents"] = parse_cents(s, 2)

    def _oi(self, s: Segment) -> None:
        """OI repeats the claim's assignment and release; nothing new to read."""

    # ---------------------------------------------------------------- lines

    def _lx(self, s: Segment) -> None:
        self._close_line()
        self._close_coverage()
        self.line = {}
        self.loop = "line"

    def _sv1(self, s: Segment) -> None:
        procedure = s.composite(1)
        _within(self.line, s, "a service line (LX)").update(
            procedure_code=procedure[1] if len(procedure) > 1 else "",
            modifiers=tuple(procedure[2:]),
            charge_cents=parse_cents(s, 2),
            units=_units(s, 4),
            place_of_service=s.element(5),
            diagnosis_pointers=tuple(self._pointer(s, text) for text in s.composite(7)),
        )

    def _pointer(self, s: Segment, text: str) -> int:
        if not text.isdigit():
            raise _error(s, 7, f"diagnosis pointer {text!r} is not a number")
        return int(text)

    def _dtp(self, s: Segment) -> None:
        qualifier = s.element(1)
        if qualifier == "472" and self.line is not None:
            self.line["service_date"] = _date(s, 3)
        elif qualifier == "573" and self.adjudication is not None:
            self.adjudication["adjudicated_on"] = _date(s, 3)

    def _svd(self, s: Segment) -> None:
        self._close_adjudication()
        procedure = s.composite(3)
        self.adjudication = {
            "payer_id": s.element(1),
            "paid_cents": parse_cents(s, 2),
            "procedure_code": procedure[1] if len(procedure) > 1 else "",
            "modifiers": tuple(procedure[2:]),
            "units": _units(s, 5),
        }

    # ---------------------------------------------------------------- closing loops

    def _close_adjudication(self) -> None:
        if self.adjudication is not None and self.line is not None:
            adjudication = _build(LineAdjudication, self.adjudication, self.at)
            self.line["adjudications"] = (*self.line.get("adjudications", ()), adjudication)
        self.adjudication = None

    def _close_line(self) -> None:
        self._close_adjudication()
        if self.line is not None:
            self.lines.append(_build(ServiceLine, self.line, self.at))
        self.line = None

    def _close_coverage(self) -> None:
        if self.coverage is not None:
            self.coverages.append(_build(OtherCoverage, self.coverage, self.at))
        self.coverage = None

    def _close_claim(self) -> None:
        self._close_line()
        self._close_coverage()
        if self.claim is not None:
            fields = {**self.claim, "lines": tuple(self.lines), "other_coverages": tuple(self.coverages)}
            self.claims.append(_build(Claim, fields, self.at))
        self.claim = None
        self.lines, self.coverages = [], []
