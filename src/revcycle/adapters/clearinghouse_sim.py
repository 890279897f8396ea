"""A clearinghouse simulated on this machine: it answers our 837P files as a real one would.

Real clearinghouses live outside the machine; the demo and the tests talk to this one
instead. It reads each 837P file it receives with our own reader (as a clearinghouse parses
what it is sent), answers the file at once with a 999, and remembers every claim by its
patient control number (CLM01) so that it can later acknowledge claims with a 277CA:
accepted into the payer's system (category A2, with the payer's claim control number) or
rejected (A7 and the like, with a status code and the payer's message).

It also stands in for the payers behind it: told what a payer knows, it answers a 276 file
with a 277 (claim status) and a 270 file with a 271 (eligibility: active with the plan and
what a visit costs, inactive since a date, or refused with the payer's AAA reason).

What it sends back is real X12 text for :func:`revcycle.services.x12_ingest.ingest`, so the
files are stored, shown on the X12 page, and move the claims exactly as a clearinghouse's
would. Its own control numbers start at 1 per simulator.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from revcycle.x12.ack999 import write_999
from revcycle.x12.claim277 import (
    ACKNOWLEDGMENT,
    STATUS_RESPONSE,
    ClaimReport,
    ClaimStatusResponse,
    Envelope,
    LevelReport,
    Party,
    Status,
    StatusCode,
    write_277,
)
from revcycle.x12.claim837 import Claim, ClaimSet
from revcycle.x12.eligibility import (
    Benefit,
    EligibilityInquiry,
    EligibilityResponse,
    EligibilityResponseSet,
    Rejection,
    read_270,
    write_271,
)
from revcycle.x12.envelope import Interchange, format_control_number, read_interchanges
from revcycle.x12.errors import X12Error
from revcycle.x12.inquiry276 import ClaimInquiry, read_276
from revcycle.x12.read837 import read_claim_set

__all__ = [
    "ActiveCoverage",
    "ClaimAnswer",
    "EligibilityAnswer",
    "EligibilityRefusal",
    "InactiveCoverage",
    "SimulatedClearinghouse",
    "StatusAnswer",
]


@dataclass(frozen=True)
class ClaimAnswer:
    """What the payer said about one claim the clearinghouse forwarded.

    Accepted: category A2 (status 20, accepted for processing) with the payer's claim
    control number. Rejected: ``category`` (A7 invalid information, A3 returned, A6 missing
    information ...), the status code (list 508) and the payer's message.
    """

    patient_control_number: str
    accepted: bool
    payer_claim_control_number: str = ""
    category: str = ""
    status_code: str = ""
    message: str = ""

    def status(self, on: datetime.date, charge_cents: int) -> Status:
        if self.accepted:
            code = StatusCode("A2", self.status_code or "20")
            return Status((code,), effective_on=on, action="WQ", charge_cents=charge_cents)
        code = StatusCode(self.category or "A7", self.status_code or "21")
        return Status(
            (code,), effective_on=on, action="U", charge_cents=charge_cents, message=self.message[:264]
        )


@dataclass(frozen=True)
class StatusAnswer:
    """A payer's answer to one claim status inquiry (276): the 277's STC.

    ``category`` P1 pending (in process), F1 finalized and paid, F2 denied, A4 not found ...;
    ``status_code`` from list 508 (20 accepted for processing, 65 paid, 35 not found ...)."""

    category: str
    status_code: str = "20"
    paid_cents: int | None = None
    adjudicated_on: datetime.date | None = None
    message: str = ""


@dataclass(frozen=True)
class ActiveCoverage:
    """The payer covers the person asked about: the plan, since when (DTP*346, and DTP*347 when
    it ends), and what an in-network visit costs for the service types asked — the copay
    (EB*B, per visit), the coinsurance (EB*A, basis points: 2000 = 20%), and the deductible and
    out-of-pocket amounts remaining this year (EB*C and EB*G, period 29). None: not sent."""

    plan: str
    begins_on: datetime.date
    ends_on: datetime.date | None = None
    copay_cents: int | None = None
    coinsurance_basis_points: int | None = None
    deductible_remaining_cents: int | None = None
    out_of_pocket_remaining_cents: int | None = None
    group_number: str = ""

    def respond(self, response: EligibilityResponse, service_types: tuple[str, ...]) -> EligibilityResponse:
        lines = [Benefit("1", "IND", service_types, plan=self.plan)]
        for code, period, cents, basis_points in (
            ("B", "27", self.copay_cents, None),
            ("A", "27", None, self.coinsurance_basis_points),
            ("C", "29", self.deductible_remaining_cents, None),
            ("G", "29", self.out_of_pocket_remaining_cents, None),
        ):
            if cents is not None or basis_points is not None:
                lines.append(
                    Benefit(
                        code,
                        "IND",
                        service_types,
                        time_period=period,
                        amount_cents=cents,
                        percent_basis_points=basis_points,
                        in_network="Y",
                    )
                )
        dates = [("346", self.begins_on, self.begins_on)]
        if self.ends_on is not None:
            dates.append(("347", self.ends_on, self.ends_on))
        return replace(response, benefits=tuple(lines), dates=tuple(dates), group_number=self.group_number)


@dataclass(frozen=True)
class InactiveCoverage:
    """The payer knows the person, but the coverage ended (EB*6, DTP*347 plan end)."""

    ended_on: datetime.date
    plan: str = ""

    def respond(self, response: EligibilityResponse, service_types: tuple[str, ...]) -> EligibilityResponse:
        inactive = Benefit("6", "IND", service_types, plan=self.plan)
        return replace(response, benefits=(inactive,), dates=(("347", self.ended_on, self.ended_on),))


@dataclass(frozen=True)
class EligibilityRefusal:
    """The payer cannot answer about this person: AAA03 ``reason`` (72 invalid member id, 73
    invalid name, 75 subscriber not found, 71 birth date does not match ...) at the person's
    level, with the follow-up (AAA04: C correct and resubmit, N do not resubmit ...)."""

    reason: str
    follow_up: str = "C"

    def respond(self, response: EligibilityResponse, service_types: tuple[str, ...]) -> EligibilityResponse:
        level = "22" if response.dependent is None else "23"
        return replace(response, rejections=(Rejection(self.reason, self.follow_up, "Y", level=level),))


EligibilityAnswer = ActiveCoverage | InactiveCoverage | EligibilityRefusal


@dataclass(frozen=True)
class _Received:
    """One claim as the clearinghouse read it, with who sent it."""

    claim: Claim
    submitter: Party
    sender_qualifier: str
    sender_id: str
    trace_number: str


class SimulatedClearinghouse:
    """Receives 837P files; answers with a 999 now and 277CAs when told what the payers said."""

    def __init__(self, *, name: str = "RIVERGATE CLEARINGHOUSE", id: str = "CLEARINGHOUSE") -> None:
        self.name = name
        self.id = id
        self._claims: dict[str, _Received] = {}
        self._next_control_number = 1
        self._next_trace = 1

    @property
    def claims_received(self) -> int:
        return len(self._claims)

    def receive(self, text: str, *, at: datetime.datetime) -> str:
        """Take an 837P file; the 999 that accepts each of its transaction sets.

        A file that is not an 837P for this clearinghouse is refused with an X12Error, as a
        clearinghouse's front door would."""
        interchanges = read_interchanges(text)
        replies: list[str] = []
        for interchange in interchanges:
            if interchange.receiver_id != self.id:
                raise X12Error(
                    f"ISA08 {interchange.receiver_id!r} is not this clearinghouse ({self.id!r})",
                    segment_id="ISA",
                    element="ISA08",
                )
            for group in interchange.groups:
                for transaction in group.transactions:
                    if transaction.set_id != "837":
                        raise X12Error(
                            f"transaction set {transaction.set_id} is not an 837",
                            segment_id="ST",
                            element="ST01",
                        )
                    self._remember(interchange, read_claim_set(transaction))
            control = self._take_control_number()
            replies.append(
                write_999(
                    interchange,
                    interchange_control_number=format_control_number(control),
                    group_control_number=str(control),
                    sent_at=at,
                )
            )
        return "".join(replies)

    def _remember(self, interchange: Interchange, claim_set: ClaimSet) -> None:
        submitter = Party("41", claim_set.submitter.name, claim_set.submitter.id, "46")
        for claim in claim_set.claims:
            self._claims[claim.patient_control_number] = _Received(
                claim=claim,
                submitter=submitter,
                sender_qualifier=interchange.sender_qualifier,
                sender_id=interchange.sender_id,
                trace_number=f"CH{self._take_trace():010d}",
            )

    def acknowledge(self, answers: Iterable[ClaimAnswer], *, at: datetime.datetime) -> str:
        """A 277CA file carrying the payers' answers for claims received before.

        Claims are grouped by submitter (one interchange each), then by payer and billing
        provider as the 277CA hierarchy wants. An answer for a claim never received is an
        error: a clearinghouse cannot acknowledge what it was not sent."""
        by_sender: dict[tuple[str, str], list[tuple[_Received, ClaimAnswer]]] = {}
        for answer in answers:
            received = self._claims.get(answer.patient_control_number)
            if received is None:
                raise X12Error(f"claim {answer.patient_control_number!r} was never received")
            key = (received.sender_qualifier, received.sender_id)
            by_sender.setdefault(key, []).append((received, answer))
        if not by_sender:
            raise X12Error("a 277CA needs at least one claim")
        texts = []
        for (qualifier, sender_id), pairs in by_sender.items():
            control = self._take_control_number()
            envelope = self._envelope(qualifier, sender_id, control, at)
            texts.append(write_277([self._response(pairs, at, control)], envelope))
        return "".join(texts)

    def _response(
        self, pairs: Sequence[tuple[_Received, ClaimAnswer]], at: datetime.datetime, control: int
    ) -> ClaimStatusResponse:
        on = at.date()
        reports = sorted(
            (self._report(received, answer, on) for received, answer in pairs),
            key=lambda r: (r.payer.id, r.provider.id, r.patient_control_number),
        )
        levels = [
            LevelReport("20", payer, trace_number=str(control), dates=(("050", on), ("009", on)))
            for payer in dict.fromkeys(r.payer for r in reports)
        ]
        for receiver in dict.fromkeys(r.information_receiver for r in reports):
            mine = [r for r in reports if r.information_receiver == receiver]
            levels.append(_counted("21", receiver, f"B{control}", mine, on))
        for provider in dict.fromkeys(r.provider for r in reports):
            mine = [r for r in reports if r.provider == provider]
            levels.append(_counted("19", provider, f"P{control}", mine, on))
        return ClaimStatusResponse(
            implementation=ACKNOWLEDGMENT,
            reference=f"B{control}",
            created_on=on,
            created_time=f"{at:%H%M}",
            claims=tuple(reports),
            levels=tuple(levels),
        )

    def _report(self, received: _Received, answer: ClaimAnswer, on: datetime.date) -> ClaimReport:
        claim = received.claim
        if answer.accepted and not answer.payer_claim_control_number:
            raise X12Error(
                f"claim {claim.patient_control_number!r}: an acceptance needs the payer's claim number"
            )
        dates = [line.service_date for line in claim.lines]
        billing = claim.billing_provider
        return ClaimReport(
            payer=Party("PR", claim.payer.name, claim.payer.id, "PI"),
            information_receiver=received.submitter,
            provider=Party(
                "85",
                billing.name,
                billing.npi,
                "XX",
                first_name=billing.first_name,
                kind="1" if billing.first_name else "2",
            ),
            patient=_patient(claim),
            trace_number=claim.patient_control_number,
            patient_control_number=claim.patient_control_number,
            statuses=(answer.status(on, claim.total_charge_cents),),
            payer_claim_control_number=answer.payer_claim_control_number if answer.accepted else "",
            clearinghouse_trace_number=received.trace_number,
            service_from=min(dates),
            service_to=max(dates),
        )

    def answer_inquiries(
        self,
        text: str,
        answer: Callable[[ClaimInquiry], StatusAnswer | None],
        *,
        at: datetime.datetime,
    ) -> str:
        """The 277 answering a 276 file: ``answer`` says what the payer knows of each claim
        asked about (None: no answer yet, the claim is left out). Empty when nothing is
        answered."""
        [(qualifier, sender_id)] = _one_sender(text, "276")
        reports = [
            _status_report(asked, said, at.date())
            for inquiry in read_276(text)
            for asked in inquiry.claims
            if (said := answer(asked)) is not None
        ]
        if not reports:
            return ""
        control = self._take_control_number()
        response = ClaimStatusResponse(
            implementation=STATUS_RESPONSE,
            reference=f"S{control}",
            created_on=at.date(),
            created_time=f"{at:%H%M}",
            claims=tuple(reports),
            levels=tuple(
                LevelReport(level, party)
                for level, parties in (
                    ("20", [r.payer for r in reports]),
                    ("21", [r.information_receiver for r in reports]),
                    ("19", [r.provider for r in reports]),
                )
                for party in dict.fromkeys(parties)
            ),
        )
        envelope = self._envelope(qualifier, sender_id, control, at)
        return write_277([response], envelope)

    def answer_eligibility(
        self,
        text_270: str,
        answer: Callable[[EligibilityInquiry], EligibilityAnswer | None],
        *,
        at: datetime.datetime,
    ) -> str:
        """The 271 answering a 270 file: ``answer`` says what the payer knows of each person
        asked about (None: no answer yet, the person is left out). Each 271 echoes its 270's
        BHT03 and each person's trace (TRN*2), and answers a dependent under the subscriber.
        Empty when nothing is answered."""
        [(qualifier, sender_id)] = _one_sender(text_270, "270")
        sets = []
        for request in read_270(text_270):
            answered = tuple(
                said.respond(_echo(asked), asked.service_types)
                for asked in request.inquiries
                if (said := answer(asked)) is not None
            )
            if answered:
                sets.append(EligibilityResponseSet(request.reference, at, answered))
        if not sets:
            return ""
        control = self._take_control_number()
        envelope = self._envelope(qualifier, sender_id, control, at)
        return write_271(sets, envelope)

    def _envelope(self, qualifier: str, receiver_id: str, control: int, at: datetime.datetime) -> Envelope:
        """From this clearinghouse back to whoever sent the file, with its next control number."""
        return Envelope(
            sender_qualifier="ZZ",
            sender_id=self.id,
            receiver_qualifier=qualifier,
            receiver_id=receiver_id,
            interchange_control_number=format_control_number(control),
            group_control_number=str(control),
            sent_at=at,
        )

    def _take_control_number(self) -> int:
        number = self._next_control_number
        self._next_control_number += 1
        return number

    def _take_trace(self) -> int:
        number = self._next_trace
        self._next_trace += 1
        return number


def _one_sender(text: str, set_id: str) -> set[tuple[str, str]]:
    """The file's one sender (qualifier, id); a file of other transaction sets is refused."""
    interchanges = read_interchanges(text)
    senders = {(i.sender_qualifier, i.sender_id) for i in interchanges}
    if len(senders) != 1:
        raise X12Error(f"a {set_id} file for the clearinghouse comes from one sender")
    for interchange in interchanges:
        for group in interchange.groups:
            for transaction in group.transactions:
                if transaction.set_id != set_id:
                    raise X12Error(
                        f"transaction set {transaction.set_id} is not a {set_id}",
                        segment_id="ST",
                        element="ST01",
                    )
    return senders


def _echo(asked: EligibilityInquiry) -> EligibilityResponse:
    """A 271 answer names the parties and the person as the 270 did, and echoes its trace."""
    return EligibilityResponse(
        payer=asked.payer,
        provider=asked.provider,
        subscriber=asked.subscriber,
        dependent=asked.dependent,
        trace_number=asked.trace_number,
        trace_originator=asked.originator_id,
        birth_date=asked.birth_date,
        sex=asked.sex,
    )


def _status_report(asked: ClaimInquiry, said: StatusAnswer, on: datetime.date) -> ClaimReport:
    status = Status(
        (StatusCode(said.category, said.status_code),),
        effective_on=on,
        charge_cents=asked.charge_cents,
        paid_cents=said.paid_cents,
        adjudicated_on=said.adjudicated_on,
        message=said.message,
    )
    return ClaimReport(
        payer=asked.payer,
        information_receiver=asked.information_receiver,
        provider=asked.provider,
        patient=asked.patient or asked.subscriber,
        subscriber=asked.subscriber if asked.patient is not None else None,
        trace_number=asked.trace_number,
        patient_control_number=asked.patient_control_number,
        statuses=(status,),
        payer_claim_control_number=asked.payer_claim_control_number,
        service_from=asked.service_from,
        service_to=asked.service_to or asked.service_from,
    )


def _counted(
    level: str, party: Party, trace: str, reports: Sequence[ClaimReport], on: datetime.date
) -> LevelReport:
    """A receiver or provider level: received (A1:19) with the claims' total charge, and the
    count and amount accepted (AMT*YU) and rejected (AMT*YY)."""
    accepted = [r for r in reports if r.outcome == "accepted"]
    rejected = [r for r in reports if r.outcome != "accepted"]

    def total(of: Sequence[ClaimReport]) -> int:
        return sum(r.statuses[0].charge_cents or 0 for r in of)

    # The receiver level counts with QTY*90/AA, the provider level with QTY*QA/QC; the
    # provider's status has no date (STC02 not used there).
    counted = ("90", "AA") if level == "21" else ("QA", "QC")
    quantities = [(q, str(len(of))) for q, of in zip(counted, (accepted, rejected), strict=True) if of]
    amounts = [(a, total(of)) for a, of in (("YU", accepted), ("YY", rejected)) if of]
    return LevelReport(
        level,
        party,
        trace_number=trace,
        statuses=(
            Status(
                (StatusCode("A1", "19"),),
                effective_on=on if level == "21" else None,
                action="WQ",
                charge_cents=total(reports),
            ),
        ),
        quantities=tuple(quantities),
        amounts=tuple(amounts),
    )


def _patient(claim: Claim) -> Party:
    """The claim's patient as a 277CA names it: the member id is the subscriber's."""
    person = claim.patient or claim.subscriber
    return Party(
        "QC",
        person.last_name,
        claim.subscriber.member_id,
        "MI",
        first_name=person.first_name,
        middle_name=person.middle_name,
        kind="1",
    )
