"""270/271 eligibility (005010X279A1): is this coverage active, and what will the visit cost?

A 270 asks a payer (the information source, HL 20) on behalf of a provider (the information
receiver, HL 21) about a subscriber (22) and, when the patient is someone else, a dependent
(23): TRN*1 is our trace number, DTP*291 the date asked about, and each EQ a service type —
30 (the health benefit plan) or, for a behavioral-health practice, MH (mental health) and A8
(outpatient psychiatric).

The 271 answers with the same hierarchy, TRN*2 echoing our trace, and under each person a
list of benefit lines (EB): EB01 says what the line is (1 active coverage, 6 inactive, A
coinsurance, B copay, C deductible, G out of pocket ...), EB02 whose coverage (IND, FAM),
EB03 the service types, EB05 the plan's name, EB06 the period (23 calendar year, 29
remaining, 27 visit), EB07 an amount, EB08 a percent as a fraction (0.2 = 20%), EB12 whether
it is in network (Y) or not (N). An AAA segment at any level is a refusal: "subscriber not
found", "provider not on file" ...

:func:`write_271` writes the answer (the simulated clearinghouse answers our 270s with it);
what :func:`read_271` gives back is what was written.

:func:`summarize` boils a 271 down to what the coverage page shows: active or inactive on a
date, the plan, the copay, the coinsurance (basis points: 2000 = 20%), the deductible and
out-of-pocket amounts remaining, in integer cents.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from revcycle.x12.claim277 import (
    Envelope,
    consecutive_runs,
    element_error,
    period_segment,
    read_cents,
    read_created,
    read_date,
    read_period,
)
from revcycle.x12.claim837 import Address
from revcycle.x12.codes import AAA_REJECT_REASONS, EB01_CODES, describe
from revcycle.x12.envelope import Transaction, read_interchanges, refuse_repetitions
from revcycle.x12.errors import X12Error
from revcycle.x12.parties import Hierarchy, Level, Party, parent_level
from revcycle.x12.segments import Segment, repeated, seg
from revcycle.x12.write837 import format_cents

__all__ = [
    "IMPLEMENTATION",
    "Benefit",
    "EligibilityInquiry",
    "EligibilityRequest",
    "EligibilityResponse",
    "EligibilityResponseSet",
    "EligibilitySummary",
    "Rejection",
    "parse_271",
    "read_270",
    "read_271",
    "request_segments",
    "response_segments",
    "summarize",
    "write_270",
    "write_271",
]

IMPLEMENTATION = "005010X279A1"
MENTAL_HEALTH = ("MH", "A8")  # mental health; psychiatric, outpatient
_ACTIVE = frozenset({"1", "2", "3", "4", "5"})
_INACTIVE = frozenset({"6", "7", "8"})


# ----------------------------------------------------------------------------- 270


@dataclass(frozen=True)
class EligibilityInquiry:
    """One person asked about."""

    payer: Party  # PR, with its payer id (PI)
    provider: Party  # 1P: the information receiver, with its NPI (XX)
    subscriber: Party  # IL, with the member id (MI)
    trace_number: str  # TRN02
    as_of: datetime.date  # DTP*291
    service_types: tuple[str, ...] = ("30",)  # one EQ each
    dependent: Party | None = None  # 03: the patient, when not the subscriber
    birth_date: datetime.date | None = None  # DMG of the patient
    sex: str = ""  # DMG03: F, M
    originator_id: str = ""  # TRN03: "1" + the provider's EIN, 10 characters (required to write)
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class EligibilityRequest:
    """One 270 transaction set."""

    reference: str  # BHT03
    created_at: datetime.datetime  # BHT04, BHT05
    inquiries: tuple[EligibilityInquiry, ...]
    control_number: str = field(default="", compare=False)


def write_270(
    requests: Sequence[EligibilityRequest], envelope: Envelope, *, line_breaks: bool = False
) -> str:
    bodies = [request_segments(request) for request in requests]
    return envelope.write("270", "HS", IMPLEMENTATION, bodies, line_breaks=line_breaks)


def request_segments(request: EligibilityRequest) -> list[Segment]:
    """The body of one 270 (between ST and SE)."""
    if not request.inquiries:
        raise X12Error("a 270 asks about at least one person", segment_id="TRN")
    created = request.created_at
    bht = seg("BHT", "0022", "13", request.reference, created.strftime("%Y%m%d"), created.strftime("%H%M"))
    return [bht, *_Hierarchy().segments(request.inquiries)]


class _Hierarchy:
    def __init__(self) -> None:
        self._hl = Hierarchy().hl

    def segments(self, inquiries: Sequence[EligibilityInquiry]) -> Iterator[Segment]:
        for payer, by_payer in consecutive_runs(inquiries, lambda i: i.payer):
            payer_id, hl = self._hl("", "20", True)
            yield from (hl, replace(payer, entity="PR").segment())
            for provider, by_provider in consecutive_runs(by_payer, lambda i: i.provider):
                provider_id, hl = self._hl(payer_id, "21", True)
                yield from (hl, replace(provider, entity="1P").segment())
                for inquiry in by_provider:  # one subscriber level per question keeps TRNs apart
                    yield from self._person(provider_id, inquiry)

    def _person(self, parent: str, inquiry: EligibilityInquiry) -> Iterator[Segment]:
        dependent = inquiry.dependent is not None
        subscriber_id, hl = self._hl(parent, "22", dependent)
        yield hl
        if not dependent:
            yield from _asked(inquiry, replace(inquiry.subscriber, entity="IL"))
            return
        yield replace(inquiry.subscriber, entity="IL").segment()
        assert inquiry.dependent is not None
        _, hl = self._hl(subscriber_id, "23", False)
        yield hl
        yield from _asked(inquiry, replace(inquiry.dependent, entity="03", id="", id_qualifier=""))


def _asked(inquiry: EligibilityInquiry, person: Party) -> Iterator[Segment]:
    """The patient's TRN, name, demographics, date and service types."""
    if not inquiry.originator_id:
        raise X12Error(
            f'inquiry {inquiry.trace_number}: the trace\'s originator id ("1" + EIN) is required',
            segment_id="TRN",
            element="TRN03",
        )
    yield seg("TRN", "1", inquiry.trace_number, inquiry.originator_id or None)
    yield person.segment()
    if inquiry.birth_date:
        yield seg("DMG", "D8", inquiry.birth_date.strftime("%Y%m%d"), inquiry.sex or None)
    yield seg("DTP", "291", "D8", inquiry.as_of.strftime("%Y%m%d"))
    if not inquiry.service_types:
        raise X12Error(
            "an eligibility inquiry names at least one service type", segment_id="EQ", element="EQ01"
        )
    for service_type in inquiry.service_types:
        yield seg("EQ", service_type)


def read_270(text: str) -> list[EligibilityRequest]:
    """Every 270 in a file (tests, and the clearinghouse simulator that answers them)."""
    return [
        _read_request(transaction)
        for interchange in read_interchanges(text)
        for group in interchange.groups
        for transaction in group.transactions
    ]


def _read_request(transaction: Transaction) -> EligibilityRequest:
    if transaction.set_id != "270":
        raise X12Error(
            f"transaction set {transaction.set_id!r} is not a 270",
            position=transaction.position,
            segment_id="ST",
            element="ST01",
        )
    refuse_repetitions(transaction, frozenset({("EQ", 1)}))
    bht = _bht(transaction)
    people = list(_people(transaction.segments[1:]))
    asked = [
        person
        for person in people
        if person.level == "23" or (person.level == "22" and not any(p.parent is person for p in people))
    ]
    inquiries = [_inquiry(person) for person in asked]
    return EligibilityRequest(
        reference=bht.element(3),
        created_at=read_created(bht),
        inquiries=tuple(inquiries),
        control_number=transaction.control_number,
    )


def _inquiry(person: _Person) -> EligibilityInquiry:
    trn = person.trn
    if trn is None:
        raise X12Error(
            "the inquiry's trace number (TRN) is missing", position=person.hl.position, segment_id="HL"
        )
    dtp = next((s for s in person.segments if s.id == "DTP" and s.element(1) == "291"), None)
    as_of = read_period(dtp)[0] if dtp else None
    if as_of is None:
        raise X12Error("the date asked about (DTP*291) is missing", position=trn.position, segment_id="TRN")
    dmg = next((s for s in person.segments if s.id == "DMG"), None)
    return EligibilityInquiry(
        payer=person.required_party("20"),
        provider=person.required_party("21"),
        subscriber=person.required_party("22"),
        dependent=person.own_party if person.level == "23" else None,
        trace_number=trn.element(2),
        originator_id=trn.element(3),
        as_of=as_of,
        service_types=tuple(v for s in person.segments if s.id == "EQ" for v in s.values(1)),
        birth_date=read_date(dmg, 2) if dmg else None,
        sex=dmg.element(3) if dmg else "",
        position=trn.position,
    )


# ----------------------------------------------------------------------------- 271


@dataclass(frozen=True)
class Rejection:
    """AAA: the payer could not answer (part of) the question."""

    reason: str  # AAA03, list 901
    follow_up: str = ""  # AAA04: C correct and resubmit, N do not resubmit, R resubmit, ...
    valid_request: str = ""  # AAA01: Y or N
    level: str = ""  # the HL level it came with: 20 payer, 21 provider, 22/23 person, EB line
    position: int = field(default=0, compare=False)

    @property
    def meaning(self) -> str:
        return describe(AAA_REJECT_REASONS, self.reason)


@dataclass(frozen=True)
class Benefit:
    """One EB line with the DTP and MSG segments that follow it."""

    code: str  # EB01
    coverage_level: str = ""  # EB02: IND, FAM ...
    service_types: tuple[str, ...] = ()  # EB03 (repeated)
    insurance_type: str = ""  # EB04
    plan: str = ""  # EB05
    time_period: str = ""  # EB06: 23 calendar year, 29 remaining, 27 visit ...
    amount_cents: int | None = None  # EB07
    percent_basis_points: int | None = None  # EB08: "0.2" -> 2000
    quantity_qualifier: str = ""  # EB09
    quantity: str = ""  # EB10
    authorization_required: str = ""  # EB11: Y, N, U
    in_network: str = ""  # EB12: Y in network, N out of network, W either, U unknown
    dates: tuple[tuple[str, datetime.date | None, datetime.date | None], ...] = ()
    messages: tuple[str, ...] = ()
    position: int = field(default=0, compare=False)

    @property
    def meaning(self) -> str:
        return describe(EB01_CODES, self.code)


@dataclass(frozen=True)
class EligibilityResponse:
    """What a 271 says about one person (or, when it names nobody, only its refusals)."""

    payer: Party | None
    provider: Party | None
    subscriber: Party | None
    trace_number: str = ""  # TRN02 under the person: our 270's trace number
    dependent: Party | None = None
    benefits: tuple[Benefit, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    dates: tuple[tuple[str, datetime.date | None, datetime.date | None], ...] = ()  # 346, 347, 291, 307 ...
    plan_number: str = ""  # REF*18
    group_number: str = ""  # REF*6P
    trace_originator: str = ""  # TRN03 under the person: the 270's originator ("1" + EIN) echoed
    address: Address | None = None  # N3/N4 of the person, when the payer sends it
    birth_date: datetime.date | None = None  # DMG02
    sex: str = ""  # DMG03


@dataclass(frozen=True)
class EligibilityResponseSet:
    """One 271 transaction set: its BHT (BHT03 echoes the 270's) and the people it answers."""

    reference: str  # BHT03
    created_at: datetime.datetime  # BHT04, BHT05
    responses: tuple[EligibilityResponse, ...]
    control_number: str = field(default="", compare=False)


def read_271(text: str) -> list[EligibilityResponse]:
    """Every person answered about in every 271 in the file, in order."""
    return [
        response
        for interchange in read_interchanges(text)
        for group in interchange.groups
        for transaction in group.transactions
        for response in parse_271(transaction)
    ]


def parse_271(transaction: Transaction) -> list[EligibilityResponse]:
    if transaction.set_id != "271":
        raise X12Error(
            f"transaction set {transaction.set_id!r} is not a 271",
            position=transaction.position,
            segment_id="ST",
            element="ST01",
        )
    refuse_repetitions(transaction, frozenset({("EB", 3)}))
    _bht(transaction)
    people = list(_people(transaction.segments[1:]))

    def answered(person: _Person) -> bool:
        if person.level == "23":
            return True
        # a subscriber with dependents is answered about only when it has lines of its own
        has_children = any(p.parent is person for p in people)
        own = any(s.id in ("EB", "AAA") for s in person.segments)
        return person.level == "22" and (own or not has_children)

    def refusal_only(person: _Person) -> bool:
        """A payer or provider level with nothing under it answers only with its refusals."""
        childless = not any(other.parent is person for other in people)
        return person.level in ("20", "21") and childless and bool(person.all_rejections())

    responses = []
    for person in people:  # in file order
        if answered(person):
            responses.append(_response(person))
        elif refusal_only(person):
            responses.append(
                EligibilityResponse(
                    payer=person.party_of("20"),
                    provider=person.own_party if person.level == "21" else None,
                    subscriber=None,
                    rejections=tuple(person.all_rejections()),
                )
            )
    return responses


def _response(person: _Person) -> EligibilityResponse:
    own = [s for s in person.segments if not person.in_benefit(s)]
    refs = {s.element(1): s.element(2) for s in own if s.id == "REF"}
    dates = tuple((s.element(1), *read_period(s)) for s in own if s.id == "DTP")
    first = {s.id: s for s in reversed(own)}  # each segment id's first occurrence
    trn, dmg = person.trn, first.get("DMG")
    return EligibilityResponse(
        payer=person.party_of("20"),
        provider=person.party_of("21"),
        subscriber=person.party_of("22"),
        dependent=person.own_party if person.level == "23" else None,
        trace_number=person.trn.element(2) if person.trn else "",
        benefits=tuple(_benefits(person)),
        rejections=tuple(person.all_rejections()),
        dates=dates,
        plan_number=refs.get("18", ""),
        group_number=refs.get("6P", ""),
        trace_originator=trn.element(3) if trn else "",
        address=_address(first.get("N3"), first.get("N4")),
        birth_date=read_date(dmg, 2) if dmg else None,
        sex=dmg.element(3) if dmg else "",
    )


def _address(n3: Segment | None, n4: Segment | None) -> Address | None:
    if n3 is None:
        return None
    city, state, postal_code = (n4.element(n) if n4 else "" for n in (1, 2, 3))
    return Address(n3.element(1), city, state, postal_code, line2=n3.element(2))


def _benefits(person: _Person) -> Iterator[Benefit]:
    current: Benefit | None = None
    inside_ls = False
    for segment in person.segments:
        if segment.id == "EB":
            if current:
                yield current
            current, inside_ls = _benefit(segment), False
        elif current is None:
            continue
        elif segment.id == "LS":
            inside_ls = True
        elif segment.id == "LE":
            inside_ls = False
        elif inside_ls:
            continue
        elif segment.id == "DTP":
            current = replace(current, dates=(*current.dates, (segment.element(1), *read_period(segment))))
        elif segment.id == "MSG":
            current = replace(current, messages=(*current.messages, segment.element(1)))
    if current:
        yield current


def _benefit(eb: Segment) -> Benefit:
    if not eb.element(1):
        raise element_error(eb, 1, "the benefit code is required")
    return Benefit(
        code=eb.element(1),
        coverage_level=eb.element(2),
        service_types=eb.values(3),
        insurance_type=eb.element(4),
        plan=eb.element(5),
        time_period=eb.element(6),
        amount_cents=read_cents(eb, 7),
        percent_basis_points=_basis_points(eb, 8),
        quantity_qualifier=eb.element(9),
        quantity=eb.element(10),
        authorization_required=eb.element(11),
        in_network=eb.element(12),
        position=eb.position,
    )


def _basis_points(segment: Segment, n: int) -> int | None:
    text = segment.element(n)
    if not text:
        return None
    try:
        value = Decimal(text) * 10000
    except ArithmeticError:
        raise element_error(segment, n, f"{text!r} is not a percent") from None
    if value != value.to_integral_value() or not 0 <= value <= 10000:
        raise element_error(segment, n, f"{text!r} is not a fraction between 0 and 1 in basis points")
    return int(value)


# ----------------------------------------------------------------------------- writing the 271

_PERSON_LEVELS = frozenset({"22", "23"})


def write_271(
    sets: Sequence[EligibilityResponseSet], envelope: Envelope, *, line_breaks: bool = False
) -> str:
    """A file of 271s in one group (functional id HB); ST02 0001, 0002 ...

    Each response stands under its own subscriber level (and dependent level, when it names a
    dependent), so every person keeps its own TRN. Responses in a row with the same payer (and
    the same payer-level refusals) share a payer level, and likewise for the provider. A
    refusal is written at the level it names (Rejection.level: 20, 21, the person's 22 or 23,
    or EB — inside the last benefit line); an empty level means the person's own. Reading the
    file back gives the responses written when their refusals are listed top down, as the
    reader lists them."""
    bodies = [response_segments(response_set) for response_set in sets]
    return envelope.write("271", "HB", IMPLEMENTATION, bodies, line_breaks=line_breaks)


def response_segments(response_set: EligibilityResponseSet) -> list[Segment]:
    """The body of one 271 (between ST and SE)."""
    if not response_set.responses:
        raise X12Error("a 271 answers at least one inquiry", segment_id="HL")
    created = response_set.created_at
    bht = seg("BHT", "0022", "11", response_set.reference, f"{created:%Y%m%d}", f"{created:%H%M}")
    return [bht, *_Answers().segments(response_set.responses)]


class _Answers:
    def __init__(self) -> None:
        self._hl = Hierarchy().hl

    def segments(self, responses: Sequence[EligibilityResponse]) -> Iterator[Segment]:
        numbered = list(enumerate(responses))
        for _, by_payer in consecutive_runs(numbered, lambda n: _level_key(n, "20")):
            first = by_payer[0][1]
            payer = _required(first.payer, "the payer (NM1*PR)", first)
            payer_id, hl = self._hl("", "20", first.subscriber is not None or first.provider is not None)
            yield from (hl, payer.segment(), *_refusals(first, "20"))
            for _, by_provider in consecutive_runs(by_payer, lambda n: _level_key(n, "21")):
                yield from self._receiver(payer_id, [response for _, response in by_provider])

    def _receiver(self, parent: str, responses: Sequence[EligibilityResponse]) -> Iterator[Segment]:
        first = responses[0]
        if first.provider is None:  # only a payer's refusal names no receiver
            if first.subscriber is not None:
                raise _error(first, "the information receiver (NM1*1P) is required", "NM1")
            _check_levels(first, {"20"})
            return
        provider_id, hl = self._hl(parent, "21", first.subscriber is not None)
        yield from (hl, first.provider.segment(), *_refusals(first, "21"))
        if first.subscriber is None:
            _check_levels(first, {"20", "21"})
            return
        for response in responses:
            yield from self._person(provider_id, response)

    def _person(self, parent: str, response: EligibilityResponse) -> Iterator[Segment]:
        subscriber = _required(response.subscriber, "the subscriber (NM1*IL)", response)
        if response.dependent is None:
            _check_levels(response, {"20", "21", "22", "EB"})
            _, hl = self._hl(parent, "22", False)
            yield hl
            yield from _answered(response, subscriber, "22")
            return
        _check_levels(response, {"20", "21", "23", "EB"})
        subscriber_id, hl = self._hl(parent, "22", True)
        yield from (hl, subscriber.segment())
        _, hl = self._hl(subscriber_id, "23", False)
        yield hl
        yield from _answered(response, response.dependent, "23")


def _level_key(numbered: tuple[int, EligibilityResponse], level: str) -> tuple[object, ...]:
    """Responses in a row share a payer (provider) level when these keys are equal; a refusal
    naming nobody below the level keeps a level of its own (one with people under it would
    answer for them)."""
    n, response = numbered
    party = response.payer if level == "20" else response.provider
    alone = response.subscriber is None and (level == "21" or response.provider is None)
    return (party, tuple(_at(response, level)), n if alone else -1)


def _answered(response: EligibilityResponse, person: Party, level: str) -> Iterator[Segment]:
    """Loops 2000C/D and 2100C/D: the trace, the name, ids, address, refusals, demographics,
    dates, then each benefit line (2110C/D)."""
    if response.trace_number:
        if not response.trace_originator:
            raise _error(response, "the trace's originator id (TRN03) is required", "TRN", "TRN03")
        yield seg("TRN", "2", response.trace_number, response.trace_originator)
    yield person.segment()
    for qualifier, value in (("18", response.plan_number), ("6P", response.group_number)):
        if value:
            yield seg("REF", qualifier, value)
    if response.address is not None:
        address = response.address
        yield seg("N3", address.line1, address.line2 or None)
        yield seg("N4", address.city, address.state, address.postal_code)
    yield from _refusals(response, level)
    if response.birth_date or response.sex:
        birth = response.birth_date
        yield seg("DMG", "D8" if birth else None, f"{birth:%Y%m%d}" if birth else None, response.sex or None)
    yield from (_period(response, *dated) for dated in response.dates)
    benefits = response.benefits
    if _at(response, "EB") and not benefits:
        raise _error(response, "a refusal of a benefit line (level EB) needs a benefit line", "AAA")
    for n, benefit in enumerate(benefits, start=1):
        yield from _benefit_segments(response, benefit, last=n == len(benefits))


def _benefit_segments(response: EligibilityResponse, benefit: Benefit, *, last: bool) -> Iterator[Segment]:
    if not benefit.code:
        raise _error(response, "a benefit line needs its code", "EB", "EB01")
    amount = None if benefit.amount_cents is None else format_cents(benefit.amount_cents)
    yield seg(
        "EB",
        benefit.code,
        benefit.coverage_level,
        repeated(*benefit.service_types),
        benefit.insurance_type,
        benefit.plan,
        benefit.time_period,
        amount,
        _fraction(response, benefit.percent_basis_points),
        benefit.quantity_qualifier,
        benefit.quantity,
        benefit.authorization_required,
        benefit.in_network,
    )
    yield from (_period(response, *dated) for dated in benefit.dates)
    if last:
        yield from _refusals(response, "EB")
    yield from (seg("MSG", message) for message in benefit.messages)


def _fraction(response: EligibilityResponse, basis_points: int | None) -> str | None:
    """EB08: 2000 basis points -> "0.2"."""
    if basis_points is None:
        return None
    if not 0 <= basis_points <= 10000:
        raise _error(response, f"{basis_points} basis points is not a percent", "EB", "EB08")
    return f"{(Decimal(basis_points) / 10000).normalize():f}"


def _period(
    response: EligibilityResponse, qualifier: str, start: datetime.date | None, end: datetime.date | None
) -> Segment:
    if start is None:
        raise _error(response, f"date {qualifier} has no day", "DTP", "DTP03")
    return period_segment(qualifier, start, end)


def _at(response: EligibilityResponse, level: str) -> list[Rejection]:
    """The response's refusals written at ``level`` (an empty level is the person's own)."""
    own = "23" if response.dependent is not None else "22" if response.subscriber is not None else ""
    return [r for r in response.rejections if (r.level or own) == level]


def _refusals(response: EligibilityResponse, level: str) -> Iterator[Segment]:
    for rejection in _at(response, level):
        yield seg("AAA", rejection.valid_request or "Y", None, rejection.reason, rejection.follow_up or "C")


def _check_levels(response: EligibilityResponse, levels: set[str]) -> None:
    own = "23" if response.dependent is not None else "22" if response.subscriber is not None else ""
    for rejection in response.rejections:
        level = rejection.level or own
        if level not in levels:
            raise _error(
                response,
                f"a refusal at level {level or '(none)'} cannot be written in this answer"
                f" (its levels: {', '.join(sorted(levels))})",
                "AAA",
            )


def _required(party: Party | None, what: str, response: EligibilityResponse) -> Party:
    if party is None:
        raise _error(response, f"{what} is required", "NM1")
    return party


def _error(response: EligibilityResponse, message: str, segment_id: str, element: str = "") -> X12Error:
    about = f"answer {response.trace_number}: " if response.trace_number else ""
    return X12Error(about + message, segment_id=segment_id, element=element)


# ----------------------------------------------------------------------------- the walk


@dataclass(eq=False)
class _Person(Level):
    """One HL level and its segments (up to the next HL)."""

    segments: list[Segment] = field(default_factory=list)

    @property
    def trn(self) -> Segment | None:
        """Our trace echoed (TRN*2) before one the payer or clearinghouse added (TRN*1)."""
        traces = [s for s in self.segments if s.id == "TRN"]
        return next((s for s in traces if s.element(1) == "2"), traces[0] if traces else None)

    @property
    def own_party(self) -> Party | None:
        return self.party

    def party_of(self, level: str) -> Party | None:
        found = self.find(level)
        return found.party if found else None

    def required_party(self, level: str) -> Party:
        found = self.party_of(level)
        if found is None:
            raise X12Error(f"no level {level} with its NM1 above", position=self.hl.position, segment_id="HL")
        return found

    def in_benefit(self, segment: Segment) -> bool:
        first_eb = next((s.position for s in self.segments if s.id == "EB"), None)
        return first_eb is not None and segment.position > first_eb

    def rejections(self) -> list[Rejection]:
        found = []
        for segment in self.segments:
            if segment.id == "AAA":
                level = "EB" if self.in_benefit(segment) else self.level
                found.append(_rejection(segment, level))
        return found

    def all_rejections(self) -> list[Rejection]:
        chain: list[_Person] = []
        node: Level | None = self
        while isinstance(node, _Person):
            chain.insert(0, node)
            node = node.parent
        return [r for person in chain for r in person.rejections()]


def _rejection(aaa: Segment, level: str) -> Rejection:
    if not aaa.element(3):
        raise element_error(aaa, 3, "the reject reason is required")
    return Rejection(
        reason=aaa.element(3),
        follow_up=aaa.element(4),
        valid_request=aaa.element(1),
        level=level,
        position=aaa.position,
    )


def _people(segments: Sequence[Segment]) -> Iterator[_Person]:
    levels: dict[str, _Person] = {}
    current: _Person | None = None
    for segment in segments:
        if segment.id == "HL":
            if current:
                yield current
            current = _Person(segment, segment.element(3), parent_level(segment, levels))
            levels[segment.element(1)] = current
        elif current is None:
            raise X12Error("segment before the first HL", position=segment.position, segment_id=segment.id)
        else:
            if segment.id == "NM1":
                current.name(segment)  # the first NM1 is the level's
            current.segments.append(segment)
    if current:
        yield current


def _bht(transaction: Transaction) -> Segment:
    if not transaction.segments or transaction.segments[0].id != "BHT":
        raise X12Error(
            f"a {transaction.set_id} starts with BHT", position=transaction.position, segment_id="BHT"
        )
    return transaction.segments[0]


# ----------------------------------------------------------------------------- summary

EligibilityStatus = Literal["active", "inactive", "unknown", "error"]
_BEGINS = frozenset({"346", "348", "356"})
_ENDS = frozenset({"347", "349", "357"})
_RANGES = frozenset({"291", "292", "307"})


@dataclass(frozen=True)
class EligibilitySummary:
    """What the coverage page shows after an eligibility check."""

    status: EligibilityStatus
    plan_name: str = ""
    copay_cents: int | None = None
    coinsurance_basis_points: int | None = None  # 2000 = 20%
    deductible_remaining_cents: int | None = None
    out_of_pocket_remaining_cents: int | None = None
    rejections: tuple[str, ...] = ()  # each refusal's meaning


def summarize(
    response: EligibilityResponse,
    *,
    on: datetime.date,
    service_types: Sequence[str] = (*MENTAL_HEALTH, "30"),
    in_network: bool = True,
) -> EligibilitySummary:
    """The response as of ``on`` for the service types asked about (earlier ones preferred) and
    the network the provider is in. Amounts the payer did not send stay None."""
    rejections = tuple(r.meaning for r in response.rejections)
    if not response.benefits:
        return EligibilitySummary("error" if rejections else "unknown", rejections=rejections)
    pick = _Picker(response.benefits, service_types, in_network)
    active = pick.best(_ACTIVE)
    return EligibilitySummary(
        status=_status(response, on),
        plan_name=(active.plan if active else "") or _first_plan(response) or response.plan_number,
        copay_cents=_amount(pick.best({"B"})),
        coinsurance_basis_points=_percent(pick.best({"A"})),
        deductible_remaining_cents=_amount(pick.best({"C"}, period="29")),
        out_of_pocket_remaining_cents=_amount(pick.best({"G"}, period="29")),
        rejections=rejections,
    )


def _status(response: EligibilityResponse, on: datetime.date) -> EligibilityStatus:
    codes = {b.code for b in response.benefits}
    if codes & _ACTIVE:
        return "active" if _covers(response.dates, on) else "inactive"
    if codes & _INACTIVE:
        return "inactive"
    return "unknown"


def _covers(
    dates: Sequence[tuple[str, datetime.date | None, datetime.date | None]], on: datetime.date
) -> bool:
    for qualifier, start, end in dates:
        if qualifier in _BEGINS and start and on < start:
            return False
        if qualifier in _ENDS and start and on > start:
            return False
        if qualifier in _RANGES and start and end and not start <= on <= end:
            return False
    return True


def _first_plan(response: EligibilityResponse) -> str:
    return next((b.plan for b in response.benefits if b.plan), "")


def _amount(benefit: Benefit | None) -> int | None:
    return benefit.amount_cents if benefit else None


def _percent(benefit: Benefit | None) -> int | None:
    return benefit.percent_basis_points if benefit else None


class _Picker:
    """Chooses the benefit line that best fits the visit: the service type asked about first,
    the provider's network, the individual's own amounts before the family's."""

    def __init__(self, benefits: Sequence[Benefit], service_types: Sequence[str], in_network: bool) -> None:
        self.benefits = benefits
        self.service_types = list(service_types)
        self.network_order = ("Y", "W", "", "U", "N") if in_network else ("N", "W", "", "U", "Y")

    def best(self, codes: set[str] | frozenset[str], *, period: str = "") -> Benefit | None:
        fitting = [
            b
            for b in self.benefits
            if b.code in codes
            and (not period or b.time_period == period)
            and self._service_rank(b) is not None
        ]
        return min(fitting, key=self._rank, default=None)

    def _service_rank(self, benefit: Benefit) -> int | None:
        if not benefit.service_types:
            return len(self.service_types)  # a line for every service: after the specific ones
        ranks = [self.service_types.index(t) for t in benefit.service_types if t in self.service_types]
        return min(ranks) if ranks else None

    def _rank(self, benefit: Benefit) -> tuple[int, int, int, int]:
        network = benefit.in_network if benefit.in_network in self.network_order else ""
        level = 0 if benefit.coverage_level in ("IND", "") else 1
        return (self._service_rank(benefit) or 0, self.network_order.index(network), level, benefit.position)
