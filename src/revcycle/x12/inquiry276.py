"""276 claim status inquiries (005010X212): "where is this claim?", asked of a payer.

A 276 walks the same HL hierarchy as the 277 that answers it: the payer (20), the information
receiver who asks (21: us or our clearinghouse), the provider (19), the subscriber (22) and,
when the patient is a dependent, the patient (23). Each claim asked about is a 2200 loop:

* TRN*1 — our trace number, echoed by the 277's TRN*2 so the answer finds its question;
* REF*1K — the payer's claim control number, when the payer gave one (277CA or 835);
* REF*EJ — the patient control number: our CLM01;
* AMT*T3 — the claim's total charge (the guide's qualifier; older habits write T1);
* DTP*472 — the date or dates of service.

:func:`write_276` writes a batch of inquiries; :func:`read_276` reads one back (tests, and the
clearinghouse simulator that answers them).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from revcycle.x12.claim277 import (
    STATUS_RESPONSE,
    Envelope,
    consecutive_runs,
    element_error,
    period_segment,
    read_cents,
    read_created,
    read_date,
    read_period,
)
from revcycle.x12.envelope import Transaction, read_interchanges, refuse_repetitions
from revcycle.x12.errors import X12Error
from revcycle.x12.parties import Hierarchy, Level, Party, parent_level
from revcycle.x12.segments import Segment, seg
from revcycle.x12.write837 import format_cents

__all__ = ["IMPLEMENTATION", "ClaimInquiry", "StatusInquiry", "inquiry_segments", "read_276", "write_276"]

IMPLEMENTATION = STATUS_RESPONSE  # 005010X212: the 276 and its 277 share one guide
FUNCTIONAL_ID = "HR"


@dataclass(frozen=True)
class ClaimInquiry:
    """One claim asked about."""

    payer: Party  # PR, with its payer id (PI)
    information_receiver: Party  # 41: who asks, with its ETIN (46)
    provider: Party  # 1P: the billing provider, with its NPI (XX)
    subscriber: Party  # IL, with the member id (MI)
    trace_number: str  # TRN02
    patient_control_number: str  # REF*EJ: our CLM01
    charge_cents: int  # AMT*T3
    service_from: datetime.date  # DTP*472
    service_to: datetime.date | None = None
    patient: Party | None = None  # QC: a dependent; None when the subscriber is the patient
    payer_claim_control_number: str = ""  # REF*1K
    birth_date: datetime.date | None = None  # DMG02 of the patient
    sex: str = ""  # DMG03: F, M, U
    bill_type: str = ""  # REF*BLT (institutional claims only)
    position: int = field(default=0, compare=False)  # of its TRN, when read


@dataclass(frozen=True)
class StatusInquiry:
    """One 276 transaction set."""

    reference: str  # BHT03
    created_at: datetime.datetime  # BHT04, BHT05
    claims: tuple[ClaimInquiry, ...]
    control_number: str = field(default="", compare=False)  # ST02


# ----------------------------------------------------------------------------- writing


def write_276(inquiries: Sequence[StatusInquiry], envelope: Envelope, *, line_breaks: bool = False) -> str:
    """A file of 276s in one group (ST02 0001, 0002 ...)."""
    bodies = [inquiry_segments(inquiry) for inquiry in inquiries]
    return envelope.write("276", FUNCTIONAL_ID, IMPLEMENTATION, bodies, line_breaks=line_breaks)


def inquiry_segments(inquiry: StatusInquiry) -> list[Segment]:
    """The body of one 276 (between ST and SE)."""
    if not inquiry.claims:
        raise X12Error("a 276 asks about at least one claim", segment_id="TRN")
    created = inquiry.created_at
    bht = seg("BHT", "0010", "13", inquiry.reference, created.strftime("%Y%m%d"), created.strftime("%H%M"))
    return [bht, *_Hierarchy().segments(inquiry.claims)]


class _Hierarchy:
    def __init__(self) -> None:
        self._hl = Hierarchy().hl

    def segments(self, claims: Sequence[ClaimInquiry]) -> Iterator[Segment]:
        for payer, by_payer in consecutive_runs(claims, lambda c: c.payer):
            payer_id, hl = self._hl("", "20", True)
            yield from (hl, replace(payer, entity="PR").segment())
            for receiver, by_receiver in consecutive_runs(by_payer, lambda c: c.information_receiver):
                receiver_id, hl = self._hl(payer_id, "21", True)
                yield from (hl, replace(receiver, entity="41").segment())
                for provider, by_provider in consecutive_runs(by_receiver, lambda c: c.provider):
                    provider_id, hl = self._hl(receiver_id, "19", True)
                    yield from (hl, replace(provider, entity="1P").segment())
                    yield from self._subscribers(provider_id, by_provider)

    def _subscribers(self, parent: str, claims: Sequence[ClaimInquiry]) -> Iterator[Segment]:
        # The subscriber's own claims and their dependents' claims go under separate HL 22s.
        # A level's DMG is its person's, so a different birth date or sex opens a new level.
        for _, group in consecutive_runs(claims, _subscriber_key):
            first = group[0]
            dependents = first.patient is not None
            subscriber_id, hl = self._hl(parent, "22", dependents)
            yield hl
            if not dependents:
                yield from _demographics(first)
            yield replace(first.subscriber, entity="IL").segment()
            if not dependents:
                for claim in group:
                    yield from _claim(claim)
                continue
            for _, by_patient in consecutive_runs(group, _patient_key):
                yield from self._dependent(subscriber_id, by_patient)

    def _dependent(self, parent: str, claims: Sequence[ClaimInquiry]) -> Iterator[Segment]:
        first = claims[0]
        if first.patient is None or first.birth_date is None:
            raise X12Error(
                f"claim {first.patient_control_number}: a dependent's birth date is required",
                segment_id="DMG",
                element="DMG02",
            )
        _, hl = self._hl(parent, "23", None)
        yield hl
        yield from _demographics(first)
        yield replace(first.patient, entity="QC").segment()
        for claim in claims:
            yield from _claim(claim)


def _subscriber_key(claim: ClaimInquiry) -> tuple[object, ...]:
    if claim.patient is None:
        return (claim.subscriber, False, claim.birth_date, claim.sex)
    return (claim.subscriber, True)


def _patient_key(claim: ClaimInquiry) -> tuple[object, ...]:
    return (claim.patient, claim.birth_date, claim.sex)


def _demographics(claim: ClaimInquiry) -> Iterator[Segment]:
    if claim.sex not in ("", "F", "M"):
        raise X12Error(
            f"claim {claim.patient_control_number}: sex {claim.sex!r} is not F or M",
            segment_id="DMG",
            element="DMG03",
        )
    if claim.birth_date:
        yield seg("DMG", "D8", claim.birth_date.strftime("%Y%m%d"), claim.sex or None)


def _claim(claim: ClaimInquiry) -> Iterator[Segment]:
    yield seg("TRN", "1", claim.trace_number)
    if claim.payer_claim_control_number:
        yield seg("REF", "1K", claim.payer_claim_control_number)
    if claim.bill_type:
        yield seg("REF", "BLT", claim.bill_type)
    yield seg("REF", "EJ", claim.patient_control_number)
    yield seg("AMT", "T3", format_cents(claim.charge_cents))
    yield period_segment("472", claim.service_from, claim.service_to)


# ----------------------------------------------------------------------------- reading


def read_276(text: str) -> list[StatusInquiry]:
    """Every 276 in a file, in order."""
    return [
        _Reader(transaction).read()
        for interchange in read_interchanges(text)
        for group in interchange.groups
        for transaction in group.transactions
    ]


@dataclass
class _Level(Level):
    dmg: Segment | None = None  # the level's person's demographics


@dataclass
class _Draft:
    trn: Segment
    refs: dict[str, str] = field(default_factory=dict)
    charge_cents: int | None = None
    service: tuple[datetime.date | None, datetime.date | None] = (None, None)


class _Reader:
    def __init__(self, transaction: Transaction) -> None:
        if transaction.set_id != "276":
            raise X12Error(
                f"transaction set {transaction.set_id!r} is not a 276",
                position=transaction.position,
                segment_id="ST",
                element="ST01",
            )
        refuse_repetitions(transaction)
        self.transaction = transaction
        self.levels: dict[str, _Level] = {}
        self.level: _Level | None = None
        self.claims: list[ClaimInquiry] = []
        self.claim: _Draft | None = None

    def read(self) -> StatusInquiry:
        segments = self.transaction.segments
        if not segments or segments[0].id != "BHT":
            raise X12Error("a 276 starts with BHT", position=self.transaction.position, segment_id="BHT")
        bht = segments[0]
        for segment in segments[1:]:
            self._step(segment)
        self._close_claim()
        return StatusInquiry(
            reference=bht.element(3),
            created_at=read_created(bht),
            claims=tuple(self.claims),
            control_number=self.transaction.control_number,
        )

    def _step(self, segment: Segment) -> None:
        if segment.id == "HL":
            self._close_claim()
            self.level = _Level(segment, segment.element(3), parent_level(segment, self.levels))
            self.levels[segment.element(1)] = self.level
            return
        if self.level is None:
            raise X12Error("segment before the first HL", position=segment.position, segment_id=segment.id)
        if segment.id == "NM1":
            self.level.name(segment)
        elif segment.id == "DMG":
            self.level.dmg = segment
        elif segment.id == "TRN":
            self._open_claim(segment)
        elif self.claim is not None:
            self._claim_detail(segment)

    def _open_claim(self, trn: Segment) -> None:
        self._close_claim()
        assert self.level is not None
        if self.level.level not in ("22", "23"):
            raise X12Error(
                "a claim (TRN) outside a subscriber or patient level", position=trn.position, segment_id="TRN"
            )
        if not trn.element(2):
            raise element_error(trn, 2, "the trace number is required")
        self.claim = _Draft(trn)

    def _claim_detail(self, segment: Segment) -> None:
        assert self.claim is not None
        if segment.id == "REF":
            self.claim.refs[segment.element(1)] = segment.element(2)
        elif segment.id == "AMT" and segment.element(1) in ("T3", "T1"):
            self.claim.charge_cents = read_cents(segment, 2)
        elif segment.id == "DTP" and segment.element(1) == "472":
            self.claim.service = read_period(segment)

    def _close_claim(self) -> None:
        draft, self.claim = self.claim, None
        if draft is None or self.level is None:
            return
        trn, refs = draft.trn, draft.refs
        start, end = draft.service
        if not refs.get("EJ"):
            raise X12Error(
                "the patient control number (REF*EJ) is required", position=trn.position, segment_id="TRN"
            )
        if start is None:
            raise X12Error(
                "the date of service (DTP*472) is required", position=trn.position, segment_id="TRN"
            )
        level = self.level
        dependent = level.level == "23"
        self.claims.append(
            ClaimInquiry(
                payer=self._party(level, "20"),
                information_receiver=self._party(level, "21"),
                provider=self._party(level, "19"),
                subscriber=self._party(level, "22"),
                patient=level.party if dependent else None,
                trace_number=trn.element(2),
                patient_control_number=refs["EJ"],
                payer_claim_control_number=refs.get("1K", ""),
                bill_type=refs.get("BLT", ""),
                charge_cents=draft.charge_cents or 0,
                service_from=start,
                service_to=end if end != start else None,  # D8: one day
                birth_date=read_date(level.dmg, 2) if level.dmg else None,
                sex=level.dmg.element(3) if level.dmg else "",
                position=trn.position,
            )
        )

    @staticmethod
    def _party(level: Level, code: str) -> Party:
        found = level.find(code)
        if found is None or found.party is None:
            raise X12Error(f"the claim has no level {code} (with its NM1) above it", segment_id="HL")
        return found.party
