"""277 claim status: the 277CA claim acknowledgment (005010X214) and the 277 status response
(005010X212), read and written.

Both are a hierarchy of HL levels: the payer (information source, HL03 = 20), the information
receiver (21: the clearinghouse or the practice that sent the claims), the provider (19: the
billing provider), then the claim's person — in a 277CA the patient (PT); in a 277 the
subscriber (22) and, when the patient is someone else, the dependent (23). Under the person
level each claim starts with a TRN and carries one or more STC statuses:

* STC01 (and STC10, STC11) is a composite: the category code (A2 accepted, A7 rejected for
  invalid information, F1 finalized/payment, P1 pending ...), the status code (list 508,
  thousands of them, kept as text) and the entity the status is about;
* STC02 the date of the status, STC03 an action code, STC04 the claim's charge, STC05 the
  amount paid, STC06 the adjudication date, STC08/STC09 the check date and number, STC12 text.

A 277CA names each claim by its patient control number in TRN02 (our CLM01) and gives the
payer's claim control number (REF*1K) when the payer took the claim; we keep it for later
corrections (frequency 7/8) and status inquiries. A 277 answers a 276: TRN02 echoes the
inquiry's trace number and REF*EJ repeats the patient control number. Statuses may also come
for the receiver and provider levels (a 277CA counts the claims accepted and rejected there,
QTY*90/QTY*AA and AMT*YU/AMT*YY) and for service lines (SVC).

The small value readers here (amounts, dates, times) and :class:`Envelope` serve the 276 and
270/271 codecs too; parties and the HL hierarchy are in :mod:`revcycle.x12.parties`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from revcycle.x12.codes import StcCategory, StcOutcome, stc_category
from revcycle.x12.envelope import (
    FunctionalGroup,
    Interchange,
    Transaction,
    read_interchanges,
    refuse_repetitions,
    write_interchange,
)
from revcycle.x12.errors import X12Error
from revcycle.x12.parties import Hierarchy, Level, Party, parent_level
from revcycle.x12.segments import Segment, composite, seg
from revcycle.x12.write837 import format_cents

__all__ = [
    "ACKNOWLEDGMENT",
    "STATUS_RESPONSE",
    "ClaimReport",
    "ClaimStatusResponse",
    "Envelope",
    "LevelReport",
    "LineReport",
    "Party",
    "Status",
    "StatusCode",
    "parse_277",
    "read_277",
    "response_segments",
    "write_277",
]

ACKNOWLEDGMENT = "005010X214"  # 277CA
STATUS_RESPONSE = "005010X212"  # 277 answering a 276
FUNCTIONAL_ID = "HN"
K = TypeVar("K")
T = TypeVar("T")
_CLAIM_LEVELS = frozenset({"22", "23", "PT"})


# ----------------------------------------------------------------------------- values


def element_error(segment: Segment, n: int, message: str, k: int = 0) -> X12Error:
    """An error naming element ``n`` (component ``k``) of ``segment``."""
    return X12Error(message, position=segment.position, segment_id=segment.id, element=segment.name(n, k))


_AMOUNT = re.compile(r"-?(\d+\.?\d*|\.\d+)")


def read_cents(segment: Segment, n: int) -> int | None:
    """An X12 decimal amount (element ``n``) as integer cents; None when empty; sub-cents refused."""
    text = segment.element(n)
    if not text:
        return None
    if not _AMOUNT.fullmatch(text):
        raise element_error(segment, n, f"{text!r} is not an amount")
    try:
        cents = Decimal(text) * 100
    except InvalidOperation:  # pragma: no cover - the pattern already refused it
        raise element_error(segment, n, f"{text!r} is not an amount") from None
    if cents != cents.to_integral_value():
        raise element_error(segment, n, f"{text!r} has a fraction of a cent")
    return int(cents)


def read_date(segment: Segment, n: int, text: str | None = None) -> datetime.date | None:
    """A CCYYMMDD date (element ``n``, or ``text`` taken from it); None when empty."""
    value = segment.element(n) if text is None else text
    if not value:
        return None
    try:
        if len(value) == 8 and value.isdigit():
            return datetime.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        pass
    raise element_error(segment, n, f"{value!r} is not a CCYYMMDD date")


def read_time(segment: Segment, n: int) -> datetime.time:
    """An HHMM time (element ``n``; seconds and their fractions, when sent, are dropped)."""
    value = segment.element(n)
    if value.isdigit() and 4 <= len(value) <= 8:
        try:
            return datetime.time(int(value[:2]), int(value[2:4]))
        except ValueError:
            pass
    raise element_error(segment, n, f"{value!r} is not an HHMM time")


def read_created(bht: Segment) -> datetime.datetime:
    """When a transaction set was made: BHT04 (date, required) and BHT05 (time)."""
    day = read_date(bht, 4)
    if day is None:
        raise element_error(bht, 4, "the creation date is required")
    return datetime.datetime.combine(day, read_time(bht, 5))


def read_period(dtp: Segment) -> tuple[datetime.date | None, datetime.date | None]:
    """DTP03 as (from, to): D8 is one day, RD8 a range "CCYYMMDD-CCYYMMDD"."""
    qualifier, value = dtp.element(2), dtp.element(3)
    if qualifier == "RD8":
        start, _, end = value.partition("-")
        return read_date(dtp, 3, start), read_date(dtp, 3, end)
    if qualifier == "D8":
        day = read_date(dtp, 3)
        return day, day
    raise element_error(dtp, 2, f"date format {qualifier!r} is not D8 or RD8")


def period_segment(qualifier: str, start: datetime.date, end: datetime.date | None = None) -> Segment:
    """DTP with D8 for one day, RD8 for a range."""
    if end is None or end == start:
        return seg("DTP", qualifier, "D8", _d8(start))
    return seg("DTP", qualifier, "RD8", f"{_d8(start)}-{_d8(end)}")


def _d8(day: datetime.date | None) -> str | None:
    return day.strftime("%Y%m%d") if day else None


def _money(cents: int | None) -> str | None:
    return None if cents is None else format_cents(cents)


# ----------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class StatusCode:
    """One status composite (STC01, STC10 or STC11)."""

    category: str  # STC0x-1, list 507 (checked)
    status: str = ""  # STC0x-2, list 508 (kept as text)
    entity: str = ""  # STC0x-3: who the status is about (41, 85, QC, PR ...)

    @property
    def category_info(self) -> StcCategory:
        return stc_category(self.category)

    @property
    def outcome(self) -> StcOutcome:
        return self.category_info.outcome


@dataclass(frozen=True)
class Status:
    """One STC segment."""

    codes: tuple[StatusCode, ...]
    effective_on: datetime.date | None = None  # STC02
    action: str = ""  # STC03: WQ accepted, U rejected (277CA)
    charge_cents: int | None = None  # STC04
    paid_cents: int | None = None  # STC05
    adjudicated_on: datetime.date | None = None  # STC06
    payment_method: str = ""  # STC07: ACH, CHK, NON
    check_on: datetime.date | None = None  # STC08
    check_number: str = ""  # STC09
    message: str = ""  # STC12

    @property
    def category(self) -> str:
        return self.codes[0].category

    @property
    def outcome(self) -> StcOutcome:
        return self.codes[0].outcome


@dataclass(frozen=True)
class LineReport:
    """2220: one service line's status."""

    procedure: tuple[str, ...]  # SVC01: qualifier, code, modifiers ("HC", "90837", "95")
    charge_cents: int | None = None  # SVC02
    paid_cents: int | None = None  # SVC03
    units: str = ""  # SVC07
    statuses: tuple[Status, ...] = ()
    line_control_number: str = ""  # REF*FJ
    service_from: datetime.date | None = None
    service_to: datetime.date | None = None


@dataclass(frozen=True)
class ClaimReport:
    """The status of one claim (2200D, or 2200E for a dependent)."""

    payer: Party
    information_receiver: Party
    provider: Party
    patient: Party  # the person the claim is for
    trace_number: str  # TRN02
    patient_control_number: str  # our CLM01: TRN02 in a 277CA, REF*EJ in a 277
    statuses: tuple[Status, ...]
    subscriber: Party | None = None  # a 277's subscriber when the patient is a dependent
    payer_claim_control_number: str = ""  # REF*1K
    clearinghouse_trace_number: str = ""  # REF*D9
    bill_type: str = ""  # REF*BLT
    references: tuple[tuple[str, str], ...] = ()  # other REFs, as read
    service_from: datetime.date | None = None  # DTP*472
    service_to: datetime.date | None = None
    lines: tuple[LineReport, ...] = ()
    position: int = field(default=0, compare=False)  # of its TRN in the file

    @property
    def category(self) -> str:
        """The claim's first category code (STC01-1 of its first STC): what moves the claim."""
        return self.statuses[0].category

    @property
    def outcome(self) -> StcOutcome:
        return self.statuses[0].outcome


@dataclass(frozen=True)
class LevelReport:
    """The payer (20), information receiver (21) or provider (19) level with its statuses."""

    level: str
    party: Party
    trace_number: str = ""  # TRN02
    statuses: tuple[Status, ...] = ()
    quantities: tuple[tuple[str, str], ...] = ()  # QTY: 90 accepted, AA rejected (counts)
    amounts: tuple[tuple[str, int], ...] = ()  # AMT: YU accepted, YY rejected (cents)
    dates: tuple[tuple[str, datetime.date], ...] = ()  # DTP: 050 received, 009 processed


@dataclass(frozen=True)
class ClaimStatusResponse:
    """One 277 transaction set."""

    implementation: str  # ACKNOWLEDGMENT (277CA) or STATUS_RESPONSE (277)
    reference: str  # BHT03
    created_on: datetime.date  # BHT04
    claims: tuple[ClaimReport, ...]
    levels: tuple[LevelReport, ...] = ()
    created_time: str = ""  # BHT05, HHMM (required when writing)
    control_number: str = field(default="", compare=False)  # ST02

    @property
    def is_acknowledgment(self) -> bool:
        return self.implementation.startswith(ACKNOWLEDGMENT)


# ----------------------------------------------------------------------------- reading


def read_277(text: str) -> list[ClaimStatusResponse]:
    """Every 277 transaction set in a file (277CA or 277), in order."""
    return [
        parse_277(transaction, version=group.version)
        for interchange in read_interchanges(text)
        for group in interchange.groups
        for transaction in group.transactions
    ]


def parse_277(transaction: Transaction, *, version: str = "") -> ClaimStatusResponse:
    if transaction.set_id != "277":
        raise X12Error(
            f"transaction set {transaction.set_id!r} is not a 277",
            position=transaction.position,
            segment_id="ST",
            element="ST01",
        )
    implementation = transaction.implementation or version
    if not implementation.startswith((ACKNOWLEDGMENT, STATUS_RESPONSE)):
        raise X12Error(
            f"implementation {implementation!r} is neither a 277CA ({ACKNOWLEDGMENT}) nor a 277 "
            f"({STATUS_RESPONSE})",
            position=transaction.position,
            segment_id="ST",
            element="ST03",
        )
    refuse_repetitions(transaction)
    return _Reader(transaction, implementation).read()


@dataclass
class _Node(Level):
    """An HL level while reading, with the report of its own statuses and its claims counted."""

    report: LevelReport | None = None
    claims: int = 0


@dataclass
class _ClaimDraft:
    node: _Node
    trn: Segment
    statuses: list[Status] = field(default_factory=list)
    refs: list[tuple[str, str]] = field(default_factory=list)
    service: tuple[datetime.date | None, datetime.date | None] = (None, None)
    lines: list[LineReport] = field(default_factory=list)


class _Reader:
    def __init__(self, transaction: Transaction, implementation: str) -> None:
        self.transaction = transaction
        self.acknowledgment = implementation.startswith(ACKNOWLEDGMENT)
        self.implementation = implementation
        self.nodes: dict[str, _Node] = {}
        self.node: _Node | None = None
        self.levels: list[LevelReport] = []
        self.claims: list[ClaimReport] = []
        self.claim: _ClaimDraft | None = None
        self.line: LineReport | None = None

    def read(self) -> ClaimStatusResponse:
        segments = self.transaction.segments
        if not segments or segments[0].id != "BHT":
            found = segments[0] if segments else None
            raise X12Error(
                "a 277 starts with BHT",
                position=found.position if found else self.transaction.position,
                segment_id=found.id if found else "BHT",
            )
        bht = segments[0]
        for segment in segments[1:]:
            self._step(segment)
        self._leave_level()
        return ClaimStatusResponse(
            implementation=self.implementation,
            reference=bht.element(3),
            created_on=read_date(bht, 4) or _missing(bht, 4, "the creation date"),
            created_time=bht.element(5),
            claims=tuple(self.claims),
            levels=tuple(self.levels),
            control_number=self.transaction.control_number,
        )

    def _step(self, segment: Segment) -> None:
        handler = getattr(self, f"_on_{segment.id.lower()}", None)
        if segment.id != "HL" and self.node is None:
            raise X12Error("segment before the first HL", position=segment.position, segment_id=segment.id)
        if handler is not None:
            handler(segment)

    def _leave_level(self) -> None:
        self._close_claim()
        self._check_claim_level_has_trn()
        self._close_level()

    def _on_hl(self, hl: Segment) -> None:
        self._leave_level()
        self.node = _Node(hl, hl.element(3), parent_level(hl, self.nodes))
        self.nodes[hl.element(1)] = self.node

    def _on_nm1(self, nm1: Segment) -> None:
        assert self.node is not None
        self.node.name(nm1)

    def _on_trn(self, trn: Segment) -> None:
        assert self.node is not None
        if self.node.level in _CLAIM_LEVELS:
            self._close_claim()
            if not trn.element(2):
                raise element_error(trn, 2, "the claim's trace number is required")
            self.claim = _ClaimDraft(self.node, trn)
        else:
            self._update_level(trace_number=trn.element(2))

    def _on_stc(self, stc: Segment) -> None:
        assert self.node is not None
        status = _read_status(stc)
        if self.line is not None:
            self.line = replace(self.line, statuses=(*self.line.statuses, status))
        elif self.claim is not None:
            self.claim.statuses.append(status)
        elif self.node.level in _CLAIM_LEVELS:
            raise X12Error(
                "a claim status (STC) before the claim's TRN", position=stc.position, segment_id="STC"
            )
        else:
            self._update_level(statuses=(*self._level().statuses, status))

    def _on_ref(self, ref: Segment) -> None:
        if self.line is not None:
            if ref.element(1) == "FJ":
                self.line = replace(self.line, line_control_number=ref.element(2))
        elif self.claim is not None:
            self.claim.refs.append((ref.element(1), ref.element(2)))

    def _on_dtp(self, dtp: Segment) -> None:
        if self.line is not None and dtp.element(1) == "472":
            start, end = read_period(dtp)
            self.line = replace(self.line, service_from=start, service_to=end)
        elif self.claim is not None and dtp.element(1) == "472":
            self.claim.service = read_period(dtp)
        elif self.claim is None and self.node is not None and self.node.level not in _CLAIM_LEVELS:
            day = read_period(dtp)[0]
            if day is not None:
                self._update_level(dates=(*self._level().dates, (dtp.element(1), day)))

    def _on_qty(self, qty: Segment) -> None:
        if self.claim is None and self.node is not None and self.node.level not in _CLAIM_LEVELS:
            self._update_level(quantities=(*self._level().quantities, (qty.element(1), qty.element(2))))

    def _on_amt(self, amt: Segment) -> None:
        if self.claim is None and self.node is not None and self.node.level not in _CLAIM_LEVELS:
            cents = read_cents(amt, 2)
            if cents is not None:
                self._update_level(amounts=(*self._level().amounts, (amt.element(1), cents)))

    def _on_svc(self, svc: Segment) -> None:
        if self.claim is None:
            raise X12Error("a service line (SVC) outside a claim", position=svc.position, segment_id="SVC")
        self._close_line()
        self.line = LineReport(
            procedure=svc.composite(1),
            charge_cents=read_cents(svc, 2),
            paid_cents=read_cents(svc, 3),
            units=svc.element(7),
        )

    # -- levels

    def _level(self) -> LevelReport:
        assert self.node is not None
        if self.node.report is None:
            party = self.node.party or Party(entity="", name="")
            self.node.report = LevelReport(level=self.node.level, party=party)
        return self.node.report

    def _update_level(self, **changes: object) -> None:
        assert self.node is not None
        self.node.report = replace(self._level(), **changes)  # type: ignore[arg-type]

    def _close_level(self) -> None:
        node = self.node
        if node is None or node.level in _CLAIM_LEVELS:
            return
        report = node.report or LevelReport(level=node.level, party=Party(entity="", name=""))
        if node.party is not None:
            report = replace(report, party=node.party)
        node.report = report
        self.levels.append(report)

    # -- claims

    def _close_line(self) -> None:
        if self.line is not None and self.claim is not None:
            self.claim.lines.append(self.line)
        self.line = None

    def _close_claim(self) -> None:
        self._close_line()
        draft, self.claim = self.claim, None
        if draft is None:
            return
        if not draft.statuses:
            raise X12Error("a claim without a status (STC)", position=draft.trn.position, segment_id="TRN")
        self.claims.append(self._claim(draft))
        draft.node.claims += 1

    def _check_claim_level_has_trn(self) -> None:
        node = self.node
        if node is None or node.level not in _CLAIM_LEVELS:
            return
        if node.level == "22" and node.hl.element(4) == "1":
            return  # a subscriber with dependents: the claims sit under the dependents
        if not node.claims:
            raise X12Error(
                "a claim level without a claim: TRN (the claim's trace number) is missing",
                position=node.hl.position,
                segment_id="HL",
            )

    def _claim(self, draft: _ClaimDraft) -> ClaimReport:
        refs = dict(draft.refs)
        named = {"1K", "D9", "BLT"} | (set() if self.acknowledgment else {"EJ"})
        node = draft.node
        trace = draft.trn.element(2)
        subscriber = node.find("22") if node.level == "23" else None
        return ClaimReport(
            payer=self._party(node, "20"),
            information_receiver=self._party(node, "21"),
            provider=self._party(node, "19"),
            patient=node.party or Party(entity="", name=""),
            subscriber=subscriber.party if subscriber else None,
            trace_number=trace,
            patient_control_number=trace if self.acknowledgment else refs.get("EJ", ""),
            statuses=tuple(draft.statuses),
            payer_claim_control_number=refs.get("1K", ""),
            clearinghouse_trace_number=refs.get("D9", ""),
            bill_type=refs.get("BLT", ""),
            references=tuple((q, v) for q, v in draft.refs if q not in named),
            service_from=draft.service[0],
            service_to=draft.service[1],
            lines=tuple(draft.lines),
            position=draft.trn.position,
        )

    @staticmethod
    def _party(node: Level, level: str) -> Party:
        found = node.find(level)
        if found is None or found.party is None:
            raise X12Error(
                f"the claim's HL has no level {level} above it", position=node.hl.position, segment_id="HL"
            )
        return found.party


def _missing(segment: Segment, n: int, what: str) -> datetime.date:
    raise element_error(segment, n, f"{what} is required")


def _read_status(stc: Segment) -> Status:
    codes = tuple(_read_code(stc, n) for n in (1, 10, 11) if stc.composite(n))
    if not codes:
        raise element_error(stc, 1, "the status (STC01) is required")
    return Status(
        codes=codes,
        effective_on=read_date(stc, 2),
        action=stc.element(3),
        charge_cents=read_cents(stc, 4),
        paid_cents=read_cents(stc, 5),
        adjudicated_on=read_date(stc, 6),
        payment_method=stc.element(7),
        check_on=read_date(stc, 8),
        check_number=stc.element(9),
        message=stc.element(12),
    )


def _read_code(stc: Segment, n: int) -> StatusCode:
    code = StatusCode(stc.component(n, 1), stc.component(n, 2), stc.component(n, 3))
    try:
        stc_category(code.category)
    except KeyError:
        raise element_error(stc, n, f"unknown claim status category code {code.category!r}", 1) from None
    return code


# ----------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class Envelope:
    """Who a file goes from and to, and its control numbers."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    interchange_control_number: str
    group_control_number: str
    sent_at: datetime.datetime
    usage: str = "P"

    def interchange(self, functional_id: str, version: str, transactions: list[Transaction]) -> Interchange:
        when = self.sent_at.replace(second=0, microsecond=0)
        return Interchange(
            sender_qualifier=self.sender_qualifier,
            sender_id=self.sender_id,
            receiver_qualifier=self.receiver_qualifier,
            receiver_id=self.receiver_id,
            date=when.date(),
            time=when.time(),
            control_number=self.interchange_control_number,
            usage=self.usage,
            groups=[
                FunctionalGroup(
                    functional_id=functional_id,
                    sender_id=self.sender_id,
                    receiver_id=self.receiver_id,
                    date=when.date(),
                    time=when.time(),
                    control_number=self.group_control_number,
                    version=version,
                    transactions=transactions,
                )
            ],
        )

    def write(
        self,
        set_id: str,
        functional_id: str,
        implementation: str,
        bodies: Sequence[list[Segment]],
        *,
        line_breaks: bool = False,
    ) -> str:
        """A file of one group of ``set_id`` transaction sets with these bodies (ST02 0001, 0002 ...)."""
        transactions = [
            Transaction(set_id, f"{n:04d}", implementation, body) for n, body in enumerate(bodies, start=1)
        ]
        interchange = self.interchange(functional_id, implementation, transactions)
        return write_interchange(interchange, line_breaks=line_breaks)


def write_277(
    responses: Sequence[ClaimStatusResponse], envelope: Envelope, *, line_breaks: bool = False
) -> str:
    """A file of 277s (all 277CA or all 277) in one group; ST02 0001, 0002 ..."""
    versions = {r.implementation for r in responses}
    if len(versions) != 1:
        raise X12Error(f"one file holds one kind of 277, not {sorted(versions)!r}")
    bodies = [response_segments(response) for response in responses]
    return envelope.write("277", FUNCTIONAL_ID, versions.pop(), bodies, line_breaks=line_breaks)


def response_segments(response: ClaimStatusResponse) -> list[Segment]:
    """The body of one 277 (between ST and SE)."""
    if not response.created_time:
        raise X12Error("the creation time is required", segment_id="BHT", element="BHT05")
    purpose = "TH" if response.is_acknowledgment else "DG"
    structure = "0085" if response.is_acknowledgment else "0010"
    bht = seg(
        "BHT",
        structure,
        "08",
        response.reference,
        _d8(response.created_on),
        response.created_time or None,
        purpose,
    )
    return [bht, *_Writer(response).segments()]


class _Writer:
    def __init__(self, response: ClaimStatusResponse) -> None:
        self.response = response
        self.acknowledgment = response.is_acknowledgment
        self._hl = Hierarchy().hl

    def _level(self, level: str, party: Party) -> LevelReport:
        for report in self.response.levels:
            if report.level == level and report.party == party:
                return report
        return LevelReport(level=level, party=party)

    def segments(self) -> Iterator[Segment]:
        for payer, by_payer in consecutive_runs(self.response.claims, lambda c: c.payer):
            payer_id, hl = self._hl("", "20", True)
            yield hl
            yield from self._level_segments(self._level("20", payer))
            for receiver, by_receiver in consecutive_runs(by_payer, lambda c: c.information_receiver):
                receiver_id, hl = self._hl(payer_id, "21", True)
                yield hl
                yield from self._level_segments(self._level("21", receiver))
                for provider, by_provider in consecutive_runs(by_receiver, lambda c: c.provider):
                    provider_id, hl = self._hl(receiver_id, "19", True)
                    yield hl
                    yield from self._level_segments(self._level("19", provider))
                    yield from self._people(provider_id, by_provider)

    def _level_segments(self, report: LevelReport) -> Iterator[Segment]:
        entity = {"20": "PR", "21": "41", "19": "85" if self.acknowledgment else "1P"}[report.level]
        yield replace(report.party, entity=entity).segment()
        if report.trace_number:
            yield seg("TRN", "1" if report.level in ("20", "19") else "2", report.trace_number)
        for qualifier, day in report.dates:
            yield seg("DTP", qualifier, "D8", _d8(day))
        for status in report.statuses:
            yield _status_segment(status)
        for qualifier, quantity in report.quantities:
            yield seg("QTY", qualifier, quantity)
        for qualifier, cents in report.amounts:
            yield seg("AMT", qualifier, format_cents(cents))

    def _people(self, parent: str, claims: Sequence[ClaimReport]) -> Iterator[Segment]:
        if self.acknowledgment:
            for claim in claims:
                _, hl = self._hl(parent, "PT", None)
                yield hl
                yield replace(claim.patient, entity="QC").segment()
                yield from self._claim(claim)
            return
        # The subscriber's own claims and their dependents' claims go under separate HL 22s.
        for (subscriber, dependents), by_subscriber in consecutive_runs(
            claims, lambda c: (c.subscriber or c.patient, c.subscriber is not None)
        ):
            subscriber_id, hl = self._hl(parent, "22", dependents)
            yield hl
            yield replace(subscriber, entity="IL").segment()  # the guide fixes who each level names
            if dependents:
                for patient, by_patient in consecutive_runs(by_subscriber, lambda c: c.patient):
                    _, hl = self._hl(subscriber_id, "23", None)
                    yield hl
                    yield replace(patient, entity="QC").segment()
                    for claim in by_patient:
                        yield from self._claim(claim)
            else:
                for claim in by_subscriber:
                    yield from self._claim(claim)

    def _claim(self, claim: ClaimReport) -> Iterator[Segment]:
        yield seg("TRN", "2", claim.patient_control_number if self.acknowledgment else claim.trace_number)
        for status in claim.statuses:
            yield _status_segment(status)
        if claim.payer_claim_control_number:
            yield seg("REF", "1K", claim.payer_claim_control_number)
        if claim.clearinghouse_trace_number and self.acknowledgment:
            yield seg("REF", "D9", claim.clearinghouse_trace_number)
        if claim.bill_type:
            yield seg("REF", "BLT", claim.bill_type)
        for qualifier, value in claim.references:
            yield seg("REF", qualifier, value)
        if claim.patient_control_number and not self.acknowledgment:
            yield seg("REF", "EJ", claim.patient_control_number)
        if claim.clearinghouse_trace_number and not self.acknowledgment:
            yield seg("REF", "D9", claim.clearinghouse_trace_number)
        if claim.service_from:
            yield period_segment("472", claim.service_from, claim.service_to)
        for line in claim.lines:
            yield from _line_segments(line)


def _line_segments(line: LineReport) -> Iterator[Segment]:
    yield seg(
        "SVC",
        composite(*line.procedure),
        _money(line.charge_cents),
        _money(line.paid_cents),
        None,
        None,
        None,
        line.units or None,
    )
    for status in line.statuses:
        yield _status_segment(status)
    if line.line_control_number:
        yield seg("REF", "FJ", line.line_control_number)
    if line.service_from:
        yield period_segment("472", line.service_from, line.service_to)


def _status_segment(status: Status) -> Segment:
    codes = [composite(c.category, c.status, c.entity) for c in status.codes]
    return seg(
        "STC",
        codes[0],
        _d8(status.effective_on),
        status.action or None,
        _money(status.charge_cents),
        _money(status.paid_cents),
        _d8(status.adjudicated_on),
        status.payment_method or None,
        _d8(status.check_on),
        status.check_number or None,
        codes[1] if len(codes) > 1 else None,
        codes[2] if len(codes) > 2 else None,
        status.message or None,
    )


def consecutive_runs(items: Sequence[T], key: Callable[[T], K]) -> Iterator[tuple[K, list[T]]]:
    """Consecutive items with the same key, in order (a new HL opens when the key changes)."""
    run: list[T] = []
    current: K | None = None
    for item in items:
        value = key(item)
        if run and value != current:
            yield current, run  # type: ignore[misc]
            run = []
        current = value
        run.append(item)
    if run:
        yield current, run  # type: ignore[misc]
