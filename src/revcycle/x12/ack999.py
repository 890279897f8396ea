"""999 implementation acknowledgments (005010X231A1): did the clearinghouse take our file?

A 999 answers one functional group we sent (AK1 names it by GS01 and GS06). For each
transaction set in it an AK2 names the set (ST01, ST02) and its IK5 says accepted (A),
accepted with errors noted (E) or rejected (R, and the rarer M, W, X). Between them, IK3
segments point at a segment in our transaction set — by its id and its position counted from
the ST, which is 1 — with the loop and an error code, and IK4 segments narrow it to an element
with the value found. AK9 closes with the group's verdict (A, E, R, or P when some sets were
rejected and others not) and the counts of sets included, received and accepted.

An 837 transaction set holds many claims, so a rejection reaches every claim in it;
:func:`claims_concerned` finds which claims one IK3 is about, from the 837 we sent.

We also write 999s (the clearinghouse simulator and the tests need them):
:func:`acknowledge_group` decides the codes for a received group, and :func:`write_999`
wraps the acknowledgment in its own envelope, sent back from the receiver to the sender.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from revcycle.x12.codes import (
    GROUP_SYNTAX_ERRORS,
    IK3_SEGMENT_ERRORS,
    IK4_ELEMENT_ERRORS,
    IK5_AK9_CODES,
    TRANSACTION_SYNTAX_ERRORS,
    describe,
)
from revcycle.x12.envelope import (
    FunctionalGroup,
    Interchange,
    Transaction,
    read_interchanges,
    refuse_repetitions,
    write_interchange,
)
from revcycle.x12.errors import X12Error
from revcycle.x12.segments import Segment, composite, seg

__all__ = [
    "IMPLEMENTATION",
    "Ack999",
    "ElementError",
    "SegmentError",
    "TransactionAck",
    "ack_segments",
    "acknowledge_group",
    "claims_concerned",
    "parse_999",
    "read_999",
    "write_999",
]

IMPLEMENTATION = "005010X231A1"
FUNCTIONAL_ID = "FA"
_ACCEPTED = frozenset({"A", "E"})


@dataclass(frozen=True)
class ElementError:
    """IK4: one element of the segment in error, and what is wrong with it."""

    element: int  # IK401-1: position in the segment
    code: str  # IK403
    component: int | None = None  # IK401-2
    repetition: int | None = None  # IK401-3
    reference_number: str = ""  # IK402: the data element dictionary number
    bad_value: str = ""  # IK404: a copy of what was sent

    @property
    def meaning(self) -> str:
        return describe(IK4_ELEMENT_ERRORS, self.code)


@dataclass(frozen=True)
class SegmentError:
    """IK3 (with its CTX and IK4s): one segment of our transaction set in error."""

    segment_id: str  # IK301
    position: int  # IK302: from the ST, which is 1
    code: str  # IK304
    loop: str = ""  # IK303, e.g. "2300"
    claim_id: str = ""  # CTX*CLM01:<patient control number>, when the acknowledger names it
    elements: tuple[ElementError, ...] = ()

    @property
    def meaning(self) -> str:
        return describe(IK3_SEGMENT_ERRORS, self.code)


@dataclass(frozen=True)
class TransactionAck:
    """AK2 .. IK5: the verdict on one transaction set we sent."""

    set_id: str  # AK201
    control_number: str  # AK202: our ST02
    code: str  # IK501: A, E, R, M, W, X (kept as sent when unknown)
    implementation: str = ""  # AK203
    error_codes: tuple[str, ...] = ()  # IK502..IK506
    segment_errors: tuple[SegmentError, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.code in _ACCEPTED

    @property
    def meaning(self) -> str:
        return describe(IK5_AK9_CODES, self.code)

    @property
    def error_texts(self) -> tuple[str, ...]:
        return tuple(describe(TRANSACTION_SYNTAX_ERRORS, code) for code in self.error_codes)


@dataclass(frozen=True)
class Ack999:
    """One 999 transaction set: the acknowledgment of one functional group."""

    functional_id: str  # AK101: GS01 of the group acknowledged, "HC" for 837s
    group_control_number: str  # AK102: its GS06
    code: str  # AK901: A, E, P, R ...
    included: int  # AK902: transaction sets in the group
    received: int  # AK903
    accepted: int  # AK904
    version: str = ""  # AK103: its GS08
    transactions: tuple[TransactionAck, ...] = ()
    error_codes: tuple[str, ...] = ()  # AK905..AK909
    control_number: str = field(default="", compare=False)  # this 999's ST02

    @property
    def meaning(self) -> str:
        return describe(IK5_AK9_CODES, self.code)

    @property
    def error_texts(self) -> tuple[str, ...]:
        return tuple(describe(GROUP_SYNTAX_ERRORS, code) for code in self.error_codes)

    def transaction(self, control_number: str) -> TransactionAck | None:
        """The verdict on our transaction set ``control_number`` (ST02), if the 999 gives one."""
        return next((t for t in self.transactions if t.control_number == control_number), None)


# ----------------------------------------------------------------------------- reading


def read_999(text: str) -> list[Ack999]:
    """Every 999 in a file, in order; anything else in it is refused."""
    acks: list[Ack999] = []
    for interchange in read_interchanges(text):
        for group in interchange.groups:
            acks.extend(parse_999(transaction) for transaction in group.transactions)
    return acks


def parse_999(transaction: Transaction) -> Ack999:
    """One 999 transaction set, its structure checked (AK1 first, an IK5 closing every AK2,
    AK9 last); unknown codes are kept as text."""
    if transaction.set_id != "999":
        raise X12Error(
            f"transaction set {transaction.set_id!r} is not a 999",
            position=transaction.position,
            segment_id="ST",
            element="ST01",
        )
    refuse_repetitions(transaction)
    return _Parser(transaction).parse()


def _error(segment: Segment, n: int, message: str) -> X12Error:
    return X12Error(message, position=segment.position, segment_id=segment.id, element=segment.name(n))


def _required(segment: Segment, n: int, what: str) -> str:
    value = segment.element(n)
    if not value:
        raise _error(segment, n, f"{what} is required")
    return value


def _number(segment: Segment, n: int, what: str) -> int:
    value = segment.element(n)
    if not value.isdigit():
        raise _error(segment, n, f"{what} must be a whole number, not {value!r}")
    return int(value)


def _optional_number(segment: Segment, n: int, k: int) -> int | None:
    value = segment.component(n, k)
    if not value:
        return None
    if not value.isdigit():
        raise X12Error(
            f"{value!r} must be a whole number",
            position=segment.position,
            segment_id=segment.id,
            element=segment.name(n, k),
        )
    return int(value)


def _codes(segment: Segment, first: int, last: int) -> tuple[str, ...]:
    return tuple(code for code in (segment.element(n) for n in range(first, last + 1)) if code)


class _Parser:
    """Walks a 999 body: AK1, then AK2 [IK3 [CTX] [IK4 [CTX]]...] IK5 for each set, then AK9."""

    def __init__(self, transaction: Transaction) -> None:
        self.transaction = transaction
        self.segments = transaction.segments
        self.at = 0

    def _peek(self) -> Segment | None:
        return self.segments[self.at] if self.at < len(self.segments) else None

    def _take(self, segment_id: str, after: str) -> Segment:
        segment = self._peek()
        if segment is None or segment.id != segment_id:
            found = f"{segment.id} at segment {segment.position}" if segment else "the end of the set"
            raise X12Error(
                f"expected {segment_id} after {after}, found {found}",
                position=segment.position if segment else None,
                segment_id=segment.id if segment else segment_id,
            )
        self.at += 1
        return segment

    def parse(self) -> Ack999:
        ak1 = self._take("AK1", "ST")
        transactions = []
        while (segment := self._peek()) is not None and segment.id == "AK2":
            transactions.append(self._transaction())
        ak9 = self._take("AK9", "the last AK2 loop" if transactions else "AK1")
        if (extra := self._peek()) is not None:
            raise X12Error("nothing may follow AK9 in a 999", position=extra.position, segment_id=extra.id)
        return Ack999(
            functional_id=_required(ak1, 1, "the acknowledged group's functional id"),
            group_control_number=_required(ak1, 2, "the acknowledged group's control number"),
            version=ak1.element(3),
            code=_required(ak9, 1, "the group acknowledgment code"),
            included=_number(ak9, 2, "the number of transaction sets included"),
            received=_number(ak9, 3, "the number of transaction sets received"),
            accepted=_number(ak9, 4, "the number of transaction sets accepted"),
            transactions=tuple(transactions),
            error_codes=_codes(ak9, 5, 9),
            control_number=self.transaction.control_number,
        )

    def _transaction(self) -> TransactionAck:
        ak2 = self._take("AK2", "AK1")
        set_id = _required(ak2, 1, "the acknowledged transaction set's id (ST01)")
        control_number = _required(ak2, 2, "the acknowledged transaction set's control number (ST02)")
        errors = []
        while (segment := self._peek()) is not None and segment.id == "IK3":
            errors.append(self._segment_error())
        ik5 = self._take("IK5", f"the AK2 of segment {ak2.position}")
        return TransactionAck(
            set_id=set_id,
            control_number=control_number,
            implementation=ak2.element(3),
            code=_required(ik5, 1, "the transaction set acknowledgment code"),
            error_codes=_codes(ik5, 2, 6),
            segment_errors=tuple(errors),
        )

    def _segment_error(self) -> SegmentError:
        ik3 = self._take("IK3", "AK2")
        claim_id = self._contexts()
        elements = []
        while (segment := self._peek()) is not None and segment.id == "IK4":
            self.at += 1
            elements.append(self._element_error(segment))
            claim_id = self._contexts() or claim_id
        return SegmentError(
            segment_id=_required(ik3, 1, "the id of the segment in error"),
            position=_number(ik3, 2, "the position of the segment in error"),
            loop=ik3.element(3),
            code=_required(ik3, 4, "the segment error code"),
            claim_id=claim_id,
            elements=tuple(elements),
        )

    def _contexts(self) -> str:
        """Skip the CTX segments here; the claim id one names (CTX*CLM01:<id>), if any."""
        claim_id = ""
        while (segment := self._peek()) is not None and segment.id == "CTX":
            self.at += 1
            if segment.component(1, 1) == "CLM01":
                claim_id = segment.component(1, 2)
        return claim_id

    @staticmethod
    def _element_error(ik4: Segment) -> ElementError:
        element = _optional_number(ik4, 1, 1)
        if element is None:
            raise _error(ik4, 1, "the position of the element in error is required")
        return ElementError(
            element=element,
            component=_optional_number(ik4, 1, 2),
            repetition=_optional_number(ik4, 1, 3),
            reference_number=ik4.element(2),
            code=_required(ik4, 3, "the element error code"),
            bad_value=ik4.element(4),
        )


# ----------------------------------------------------------------- which claims an error hits


def claims_concerned(sent: Transaction, error: SegmentError) -> tuple[str, ...]:
    """The patient control numbers (CLM01) of the claims in the 837 ``sent`` that one IK3 is about.

    A segment inside a claim (from its CLM to the next HL or CLM) concerns that claim; a
    segment of a hierarchical level (a billing provider, subscriber or patient) concerns every
    claim below it; one before the first HL (submitter, receiver) concerns all. A CTX naming
    the claim wins."""
    if error.claim_id:
        return (error.claim_id,)
    levels = list(_levels(sent))
    claim = _claim_at(sent, error.position)
    if claim:
        return (claim,)
    level = next((lv for lv in reversed(levels) if lv.position <= error.position), None)
    if level is None:
        return tuple(c for lv in levels for c in lv.claims)
    below = _descendants(levels, level.id)
    return tuple(c for lv in levels if lv.id in below for c in lv.claims)


@dataclass
class _Level:
    id: str
    parent: str
    position: int  # of its HL, counted from the ST (1)
    claims: list[str] = field(default_factory=list)


def _levels(sent: Transaction) -> Iterator[_Level]:
    current: _Level | None = None
    for index, segment in enumerate(sent.segments):
        if segment.id == "HL":
            if current:
                yield current
            current = _Level(segment.element(1), segment.element(2), index + 2)
        elif segment.id == "CLM" and current:
            current.claims.append(segment.element(1))
    if current:
        yield current


def _claim_at(sent: Transaction, position: int) -> str:
    """CLM01 of the claim whose segments include ``position`` ("" when none does)."""
    claim = ""
    for segment in sent.segments[: max(position - 1, 0)]:  # the body starts at position 2
        if segment.id == "HL":
            claim = ""
        elif segment.id == "CLM":
            claim = segment.element(1)
    return claim


def _descendants(levels: Sequence[_Level], root: str) -> set[str]:
    found = {root}
    for level in levels:  # an HL's parent always comes before it
        if level.parent in found:
            found.add(level.id)
    return found


# ----------------------------------------------------------------------------- writing


def acknowledge_group(
    group: FunctionalGroup,
    *,
    errors: Mapping[str, Sequence[SegmentError]] | None = None,
    rejected: Collection[str] = (),
) -> Ack999:
    """The 999 verdict on a received group: each transaction set (by ST02) in ``rejected`` is
    rejected (R), one with ``errors`` but not rejected is accepted with errors (E), the rest are
    accepted (A); the group is A, E, R or P accordingly."""
    errors = errors or {}
    unknown = (set(errors) | set(rejected)) - {t.control_number for t in group.transactions}
    if unknown:
        raise X12Error(f"no transaction set {sorted(unknown)!r} in group {group.control_number}")
    acks = tuple(_acknowledge(t, errors.get(t.control_number, ()), rejected) for t in group.transactions)
    accepted = sum(1 for ack in acks if ack.accepted)
    return Ack999(
        functional_id=group.functional_id,
        group_control_number=group.control_number,
        version=group.version,
        code=_group_code(acks),
        included=len(acks),
        received=len(acks),
        accepted=accepted,
        transactions=acks,
        error_codes=() if accepted else ("5",) if acks else ("1",),
    )


def _acknowledge(
    transaction: Transaction, errors: Sequence[SegmentError], rejected: Collection[str]
) -> TransactionAck:
    is_rejected = transaction.control_number in rejected
    code = "R" if is_rejected else "E" if errors else "A"
    return TransactionAck(
        set_id=transaction.set_id,
        control_number=transaction.control_number,
        implementation=transaction.implementation,
        code=code,
        error_codes=("5",) if code != "A" and errors else ("I5",) if is_rejected else (),
        segment_errors=tuple(errors),
    )


def _group_code(acks: Sequence[TransactionAck]) -> str:
    accepted = [ack for ack in acks if ack.accepted]
    if not accepted:
        return "R"
    if len(accepted) < len(acks):
        return "P"
    return "E" if any(ack.code == "E" for ack in acks) else "A"


def ack_segments(ack: Ack999) -> list[Segment]:
    """The 999 body (between ST and SE) for an acknowledgment."""
    body = [seg("AK1", ack.functional_id, ack.group_control_number, ack.version or None)]
    for transaction in ack.transactions:
        body.extend(_transaction_segments(transaction))
    body.append(
        seg("AK9", ack.code, str(ack.included), str(ack.received), str(ack.accepted), *ack.error_codes[:5])
    )
    return body


def _transaction_segments(ack: TransactionAck) -> Iterator[Segment]:
    yield seg("AK2", ack.set_id, ack.control_number, ack.implementation or None)
    for error in ack.segment_errors:
        yield seg("IK3", error.segment_id, str(error.position), error.loop or None, error.code)
        if error.claim_id:
            yield seg("CTX", composite("CLM01", error.claim_id))
        for element in error.elements:
            yield seg(
                "IK4",
                composite(str(element.element), _text(element.component), _text(element.repetition)),
                element.reference_number or None,
                element.code,
                element.bad_value or None,
            )
    yield seg("IK5", ack.code, *ack.error_codes[:5])


def _text(number: int | None) -> str | None:
    return None if number is None else str(number)


def write_999(
    received: Interchange,
    *,
    interchange_control_number: str,
    group_control_number: str,
    sent_at: datetime.datetime,
    errors: Mapping[str, Sequence[SegmentError]] | None = None,
    rejected: Collection[str] = (),
    line_breaks: bool = False,
) -> str:
    """A 999 file answering every group of ``received``, sent back from its receiver to its
    sender: one 999 transaction set per group (ST02 0001, 0002 ...). ``errors`` and
    ``rejected`` name transaction sets by ST02, as in :func:`acknowledge_group`."""
    sent = {t.control_number for g in received.groups for t in g.transactions}
    if unknown := (set(errors or {}) | set(rejected)) - sent:
        raise X12Error(f"no transaction set {sorted(unknown)!r} in interchange {received.control_number}")
    transactions = [
        Transaction(
            set_id="999",
            control_number=f"{number:04d}",
            implementation=IMPLEMENTATION,
            segments=ack_segments(_for_group(group, errors, rejected)),
        )
        for number, group in enumerate(received.groups, start=1)
    ]
    first = received.groups[0] if received.groups else None
    reply = Interchange(
        sender_qualifier=received.receiver_qualifier,
        sender_id=received.receiver_id,
        receiver_qualifier=received.sender_qualifier,
        receiver_id=received.sender_id,
        date=sent_at.date(),
        time=sent_at.time().replace(second=0, microsecond=0),
        control_number=interchange_control_number,
        usage=received.usage,
        groups=[
            FunctionalGroup(
                functional_id=FUNCTIONAL_ID,
                sender_id=first.receiver_id if first else received.receiver_id,
                receiver_id=first.sender_id if first else received.sender_id,
                date=sent_at.date(),
                time=sent_at.time().replace(second=0, microsecond=0),
                control_number=group_control_number,
                version=IMPLEMENTATION,
                transactions=transactions,
            )
        ],
    )
    return write_interchange(reply, line_breaks=line_breaks)


def _for_group(
    group: FunctionalGroup,
    errors: Mapping[str, Sequence[SegmentError]] | None,
    rejected: Collection[str],
) -> Ack999:
    # The same ST02 may appear in several groups; each group is told only about its own sets.
    mine = {t.control_number for t in group.transactions}
    return acknowledge_group(
        group,
        errors={k: v for k, v in (errors or {}).items() if k in mine},
        rejected=[r for r in rejected if r in mine],
    )
