"""X12 envelopes: interchanges (ISA/IEA) hold functional groups (GS/GE) that hold transaction
sets (ST/SE). The trailers repeat the header's control number and count what they close --
IEA01 the groups, GE01 the transaction sets, SE01 the segments from ST to SE inclusive -- so a
reader can tell a truncated or spliced file from a whole one. Reading checks every count and
control number; writing computes them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter

from revcycle.x12.errors import X12Error
from revcycle.x12.segments import SEGMENT_ID, Chunk, Delimiters, Element, Repeated, Segment, seg, tokenize

ENVELOPE_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE", "TA1"})
_ELEMENTS = attrgetter("elements")
_ID = attrgetter("id")


@dataclass
class Transaction:
    set_id: str  # ST01: "837", "999", "277", "276", "270", "271", "835"
    control_number: str  # ST02
    implementation: str  # ST03, e.g. "005010X222A1"; "" when absent (4010)
    segments: list[Segment]  # the body, between ST and SE (exclusive)
    position: int = field(default=0, compare=False)  # of its ST in the file, when read


@dataclass
class FunctionalGroup:
    functional_id: str  # GS01: HC (837), FA (999), HN (277CA/277), HR (276), HS (270), HB (271), HP (835)
    sender_id: str  # GS02
    receiver_id: str  # GS03
    date: datetime.date  # GS04 (CCYYMMDD)
    time: datetime.time  # GS05 (HHMM)
    control_number: str  # GS06
    version: str  # GS08, e.g. "005010X222A1"
    transactions: list[Transaction]


@dataclass
class Interchange:
    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06, unpadded
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08, unpadded
    date: datetime.date  # ISA09 (YYMMDD)
    time: datetime.time  # ISA10 (HHMM)
    control_number: str  # ISA13, 9 digits
    usage: str = "P"  # ISA15: P production, T test
    ack_requested: str = "0"  # ISA14
    delimiters: Delimiters = field(default_factory=Delimiters)
    groups: list[FunctionalGroup] = field(default_factory=list)
    # TA1 interchange acknowledgments, which stand between the ISA and the first GS.
    ta1: list[Segment] = field(default_factory=list)


def format_control_number(n: int, width: int = 9) -> str:
    """A control number as the envelope writes it: ``format_control_number(42)`` -> "000000042"."""
    if not 0 < n < 10**width:
        raise X12Error(f"control number {n} does not fit in {width} digits")
    return str(n).zfill(width)


def check_isa13(value: str, *, position: int | None = None) -> str:
    if len(value) != 9 or not value.isdigit():
        raise X12Error(
            f"interchange control number {value!r} must be 9 digits",
            position=position,
            segment_id="ISA",
            element="ISA13",
        )
    return value


# ----------------------------------------------------------------------------- reading


def refuse_repetitions(
    transaction: Transaction, repeatable: frozenset[tuple[str, int]] = frozenset()
) -> None:
    """Refuse a repetition (ISA11 between values) in any element but the ``repeatable`` ones
    ((segment id, element number), e.g. a 271's ("EB", 3)): a reader taking the first
    repetition of an element that does not repeat would silently drop the rest."""
    segments = transaction.segments
    kinds = set(map(type, chain.from_iterable(map(_ELEMENTS, segments))))
    if not any(issubclass(kind, Repeated) for kind in kinds):
        return  # the common case, seen without a Python loop over every element
    for segment in segments:
        for n, value in enumerate(segment.elements, start=1):
            if isinstance(value, Repeated) and (segment.id, n) not in repeatable:
                raise X12Error(
                    f"the repetition separator (ISA11) stands in an element that does not repeat "
                    f"in a {transaction.set_id} transaction set",
                    position=segment.position,
                    segment_id=segment.id,
                    element=segment.name(n),
                )


def read_interchanges(text: str) -> list[Interchange]:
    """Every interchange in ``text``, with counts and control numbers checked.

    Raises :class:`X12Error` naming the position, segment id and element of the first problem."""
    return [_Reader(chunk).read() for chunk in tokenize(text)]


def _date(value: str, segment: Segment, n: int) -> datetime.date:
    formats = {6: "%y%m%d", 8: "%Y%m%d"}
    try:
        if value.isdigit() and len(value) in formats:
            return datetime.datetime.strptime(value, formats[len(value)]).date()  # noqa: DTZ007
    except ValueError:
        pass
    raise X12Error(
        f"{value!r} is not a date", position=segment.position, segment_id=segment.id, element=segment.name(n)
    )


def _time(value: str, segment: Segment, n: int) -> datetime.time:
    if value.isdigit() and len(value) in (4, 6, 7, 8):
        try:
            return datetime.time(int(value[0:2]), int(value[2:4]), int(value[4:6] or 0))
        except ValueError:
            pass
    raise X12Error(
        f"{value!r} is not a time", position=segment.position, segment_id=segment.id, element=segment.name(n)
    )


def _count(segment: Segment, n: int, expected: int, what: str) -> None:
    value = segment.element(n)
    if not value.isdigit() or int(value) != expected:
        raise X12Error(
            f"{what} is {expected}, not {value!r}",
            position=segment.position,
            segment_id=segment.id,
            element=segment.name(n),
        )


def _same(segment: Segment, n: int, expected: str, header: Segment, header_n: int) -> None:
    value = segment.element(n)
    if value != expected:
        raise X12Error(
            f"control number {value!r} differs from {header.name(header_n)} {expected!r} "
            f"(segment {header.position})",
            position=segment.position,
            segment_id=segment.id,
            element=segment.name(n),
        )


def _take_body(segments: list[Segment], ids: list[str], start: int, body: list[Segment]) -> int:
    """Append to ``body`` the segments from ``start`` up to the next envelope segment (the
    one :meth:`_Reader._step` must see); return that one's index. ``ids`` are the segments'
    ids: the body usually runs to the next SE, found and checked without a Python loop."""
    try:
        end = ids.index("SE", start)
    except ValueError:
        end = len(ids)
    if not ENVELOPE_IDS.isdisjoint(ids[start:end]):
        end = start
        while segments[end].id not in ENVELOPE_IDS:
            end += 1
    body.extend(segments[start:end])
    return end


def _error(segment: Segment, message: str) -> X12Error:
    return X12Error(message, position=segment.position, segment_id=segment.id)


class _Reader:
    """Walks one interchange's segments, opening and closing envelopes as it meets them."""

    def __init__(self, chunk: Chunk) -> None:
        self.chunk = chunk
        self.isa = chunk.segments[0]
        self.gs: Segment | None = None
        self.st: Segment | None = None
        self.group: FunctionalGroup | None = None
        self.transaction: Transaction | None = None

    def read(self) -> Interchange:
        interchange = self._interchange()
        segments = self.chunk.segments
        ids = list(map(_ID, segments))
        index = 1
        while index < len(segments):
            segment = segments[index]
            if segment.id == "IEA":
                self._close_interchange(segment, interchange)
                return interchange
            if self.transaction is not None and segment.id not in ENVELOPE_IDS:
                index = _take_body(segments, ids, index, self.transaction.segments)
                continue
            self._step(segment, interchange)
            index += 1
        last = self.chunk.segments[-1]
        open_header = self.st or self.gs or self.isa
        raise X12Error(
            f"the file ends after segment {last.position} without closing the {open_header.id} "
            f"of segment {open_header.position}: truncated (no IEA)",
            position=open_header.position,
            segment_id=open_header.id,
        )

    def _step(self, segment: Segment, interchange: Interchange) -> None:
        if segment.id == "ISA":
            raise _error(
                segment, f"a new ISA before the IEA of the interchange at segment {self.isa.position}"
            )
        if segment.id == "TA1" and self.gs is None:
            if interchange.groups:
                raise _error(segment, "TA1 after a functional group: it belongs right after the ISA")
            interchange.ta1.append(segment)
        elif segment.id == "GS":
            self._open_group(segment)
        elif segment.id == "ST":
            self._open_transaction(segment)
        elif segment.id == "SE":
            self._close_transaction(segment)
        elif segment.id == "GE":
            self._close_group(segment, interchange)
        elif self.transaction is None:
            where = "a functional group" if self.gs else "any functional group"
            raise _error(segment, f"segment outside a transaction set (between ST and SE) in {where}")
        else:
            self.transaction.segments.append(segment)

    def _interchange(self) -> Interchange:
        isa = self.isa
        elements = [str(e) for e in isa.elements]
        control_number = check_isa13(elements[12], position=isa.position)
        return Interchange(
            sender_qualifier=elements[4],
            sender_id=elements[5].rstrip(),
            receiver_qualifier=elements[6],
            receiver_id=elements[7].rstrip(),
            date=_date(elements[8], isa, 9),
            time=_time(elements[9], isa, 10),
            control_number=control_number,
            usage=elements[14],
            ack_requested=elements[13],
            delimiters=self.chunk.delimiters,
        )

    def _open_group(self, gs: Segment) -> None:
        if self.st is not None:
            raise _error(gs, f"GS inside the transaction set begun at segment {self.st.position} (no SE)")
        if self.gs is not None:
            raise _error(gs, f"GS before the GE of the group begun at segment {self.gs.position}")
        if not gs.element(6).isdigit():
            raise X12Error(
                "group control number must be digits", position=gs.position, segment_id="GS", element="GS06"
            )
        self.gs = gs
        self.group = FunctionalGroup(
            functional_id=gs.element(1),
            sender_id=gs.element(2),
            receiver_id=gs.element(3),
            date=_date(gs.element(4), gs, 4),
            time=_time(gs.element(5), gs, 5),
            control_number=gs.element(6),
            version=gs.element(8),
            transactions=[],
        )

    def _close_group(self, ge: Segment, interchange: Interchange) -> None:
        if self.st is not None:
            raise _error(ge, f"GE before the SE of the transaction set begun at segment {self.st.position}")
        if self.gs is None or self.group is None:
            raise _error(ge, "GE without a GS")
        _count(ge, 1, len(self.group.transactions), "the number of transaction sets in the group")
        _same(ge, 2, self.group.control_number, self.gs, 6)
        if any(g.control_number == self.group.control_number for g in interchange.groups):
            raise X12Error(
                f"group control number {self.group.control_number!r} repeats in this interchange",
                position=self.gs.position,
                segment_id="GS",
                element="GS06",
            )
        interchange.groups.append(self.group)
        self.gs, self.group = None, None

    def _open_transaction(self, st: Segment) -> None:
        if self.group is None:
            raise _error(st, "ST outside a functional group (no GS before it)")
        if self.st is not None:
            raise _error(st, f"ST before the SE of the transaction set begun at segment {self.st.position}")
        if not st.element(1) or not st.element(2):
            missing = "ST01" if not st.element(1) else "ST02"
            raise X12Error(
                "required element is empty", position=st.position, segment_id="ST", element=missing
            )
        if any(t.control_number == st.element(2) for t in self.group.transactions):
            raise X12Error(
                f"transaction set control number {st.element(2)!r} repeats in this group",
                position=st.position,
                segment_id="ST",
                element="ST02",
            )
        self.st = st
        self.transaction = Transaction(st.element(1), st.element(2), st.element(3), [], st.position)

    def _close_transaction(self, se: Segment) -> None:
        if self.st is None or self.transaction is None or self.group is None:
            raise _error(se, "SE without an ST")
        _count(se, 1, len(self.transaction.segments) + 2, "the number of segments from ST to SE")
        _same(se, 2, self.transaction.control_number, self.st, 2)
        self.group.transactions.append(self.transaction)
        self.st, self.transaction = None, None

    def _close_interchange(self, iea: Segment, interchange: Interchange) -> None:
        open_header = self.st or self.gs
        if open_header is not None:
            raise _error(iea, f"IEA before the {open_header.id} of segment {open_header.position} was closed")
        _count(iea, 1, len(interchange.groups), "the number of functional groups in the interchange")
        _same(iea, 2, interchange.control_number, self.isa, 13)


# ----------------------------------------------------------------------------- writing


def write_interchange(interchange: Interchange, *, line_breaks: bool = False) -> str:
    """The interchange as X12 text, with fixed-width ISA and trailers counted and numbered."""
    return _Writer(interchange.delimiters, line_breaks).interchange(interchange, 0)


def write_interchanges(interchanges: list[Interchange], *, line_breaks: bool = False) -> str:
    """Several interchanges in one file; positions in errors count from the file's start."""
    parts, position = [], 0
    for interchange in interchanges:
        writer = _Writer(interchange.delimiters, line_breaks)
        parts.append(writer.interchange(interchange, position))
        position = writer.position
    return "".join(parts)


class _Writer:
    def __init__(self, delimiters: Delimiters, line_breaks: bool) -> None:
        try:
            delimiters.check()
        except X12Error as error:
            raise X12Error(f"cannot write with these delimiters: {error.message}") from None
        if not delimiters.repetition:
            raise X12Error("a 5010 interchange needs a repetition separator (ISA11)")
        self.delimiters = delimiters
        breaks = line_breaks and not delimiters.segment.isspace()
        self.end = delimiters.segment + ("\n" if breaks else "")
        self.position = 0
        self.out: list[str] = []

    def interchange(self, interchange: Interchange, start: int) -> str:
        self.position = start
        self._isa(interchange)
        for segment in interchange.ta1:
            self._emit(segment)
        for group in interchange.groups:
            self._group(group)
        self._emit(seg("IEA", str(len(interchange.groups)), interchange.control_number))
        return "".join(self.out)

    def _isa(self, ic: Interchange) -> None:
        self.position += 1
        d = self.delimiters
        if ic.ack_requested not in ("0", "1"):
            raise self._isa_error(
                "ISA14", f"acknowledgment requested must be 0 or 1, not {ic.ack_requested!r}"
            )
        if ic.usage not in ("P", "T"):
            raise self._isa_error("ISA15", f"usage must be P (production) or T (test), not {ic.usage!r}")
        fields = [
            "00",
            " " * 10,
            "00",
            " " * 10,
            self._fixed(ic.sender_qualifier, 2, "ISA05"),
            self._fixed(ic.sender_id, 15, "ISA06"),
            self._fixed(ic.receiver_qualifier, 2, "ISA07"),
            self._fixed(ic.receiver_id, 15, "ISA08"),
            ic.date.strftime("%y%m%d"),
            ic.time.strftime("%H%M"),
            d.repetition,
            "00501",
            check_isa13(ic.control_number, position=self.position),
            ic.ack_requested,
            ic.usage,
            d.component,
        ]
        self.out.append("ISA" + d.element + d.element.join(fields) + self.end)

    def _isa_error(self, element: str, message: str) -> X12Error:
        return X12Error(message, position=self.position, segment_id="ISA", element=element)

    def _fixed(self, value: str, width: int, element: str) -> str:
        if not value or len(value) > width:
            raise self._isa_error(element, f"{value!r} must be 1 to {width} characters")
        self._clean(value, "ISA", element)
        return value.ljust(width)

    def _group(self, group: FunctionalGroup) -> None:
        if not (group.control_number.isdigit() and len(group.control_number) <= 9):
            raise X12Error(
                f"group control number {group.control_number!r} must be 1 to 9 digits",
                position=self.position + 1,
                segment_id="GS",
                element="GS06",
            )
        self._emit(
            seg(
                "GS",
                group.functional_id,
                group.sender_id,
                group.receiver_id,
                group.date.strftime("%Y%m%d"),
                group.time.strftime("%H%M"),
                group.control_number,
                "X",
                group.version,
            )
        )
        for transaction in group.transactions:
            self._transaction(transaction)
        self._emit(seg("GE", str(len(group.transactions)), group.control_number))

    def _transaction(self, transaction: Transaction) -> None:
        if not 4 <= len(transaction.control_number) <= 9:
            raise X12Error(
                f"transaction set control number {transaction.control_number!r} must be 4 to 9 characters",
                position=self.position + 1,
                segment_id="ST",
                element="ST02",
            )
        self._emit(
            seg("ST", transaction.set_id, transaction.control_number, transaction.implementation or None)
        )
        for segment in transaction.segments:
            if segment.id in ENVELOPE_IDS:
                raise X12Error(
                    "an envelope segment inside a transaction body",
                    position=self.position + 1,
                    segment_id=segment.id,
                )
            self._emit(segment)
        self._emit(seg("SE", str(len(transaction.segments) + 2), transaction.control_number))

    def _emit(self, segment: Segment) -> None:
        self.position += 1
        if not SEGMENT_ID.fullmatch(segment.id):
            raise X12Error(f"{segment.id!r} cannot be written as a segment id", position=self.position)
        d = self.delimiters
        texts = [self._element(segment, n, value) for n, value in enumerate(segment.elements, start=1)]
        self.out.append(d.element.join([segment.id, *texts]) + self.end)

    def _element(self, segment: Segment, n: int, value: Element) -> str:
        d = self.delimiters
        if isinstance(value, Repeated):
            return d.repetition.join(self._element(segment, n, item) for item in value)
        if isinstance(value, str):
            return self._clean(value, segment.id, segment.name(n))
        return d.component.join(
            self._clean(part, segment.id, segment.name(n, k)) for k, part in enumerate(value, start=1)
        )

    def _clean(self, value: str, segment_id: str, element: str) -> str:
        for char in self.delimiters.all():
            if char in value:
                raise X12Error(
                    f"{value!r} contains the delimiter {char!r}",
                    position=self.position,
                    segment_id=segment_id,
                    element=element,
                )
        return value
