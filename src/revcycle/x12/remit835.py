"""The 835 health care claim payment/advice (005010X221A1): the electronic remittance advice
(ERA) a payer sends with — or about — a payment, read and balanced. The writer is
:mod:`revcycle.x12.write835`.

One 835 transaction set is one payment. Its header says how the money moves (BPR: the amount,
credit or debit, ACH / check / no payment, the banks, the date) and how to find it at the bank
(TRN: the check or EFT trace number and the payer's id), then who pays (1000A, N1*PR) and who
is paid (1000B, N1*PE: the practice by NPI or tax id). The detail is a run of LX groups, each
holding claim payments (CLP): our patient control number (CLM01), the payer's status for the
claim (CLP02: processed as primary ... 22 reversal of an earlier payment), the charge, the
amount paid and the patient's share, the adjustments (CAS: a group — CO contractual, PR the
patient's, OA other, PI payer-initiated — with reason codes and amounts), the people named,
and the service lines (SVC) with their own adjustments and remark codes (LQ). The footer's
PLB segments adjust the payment as a whole: interest added, an earlier overpayment recovered,
a balance forwarded to another remittance.

An 835's money must balance three ways before any of it posts (:func:`balance_problems`):

* each line: the charge (SVC02) minus the line's adjustments is what the line paid (SVC03);
* each claim: the charge (CLP03) minus the claim's and its lines' adjustments is what the
  claim paid (CLP04) — a positive adjustment reduces the payment, a negative one adds to it;
* the payment: the claims paid (sum of CLP04) minus the provider-level adjustments (sum of
  PLB amounts) is the money moved (BPR02).

A reversal (CLP02 = 22) carries the negated amounts of the payment it takes back and balances
by the same rules. Adjustment reasons (CARC) and remark codes (RARC) are X12's lists, not
shipped: they are kept as text, and an unknown one is never refused. So are REF, AMT, QTY and
DTM qualifiers the guide does not name, kept as (qualifier, value) pairs in file order.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from revcycle.money import format_plain
from revcycle.x12.claim277 import element_error, read_cents, read_date
from revcycle.x12.codes import CLAIM_STATUSES, describe
from revcycle.x12.envelope import Transaction, read_interchanges, refuse_repetitions
from revcycle.x12.errors import X12Error
from revcycle.x12.parties import Party
from revcycle.x12.segments import Segment

__all__ = [
    "FUNCTIONAL_ID",
    "IMPLEMENTATION",
    "Address",
    "Adjustment",
    "BankAccount",
    "ClaimGroup",
    "ClaimPayment",
    "Contact",
    "OutpatientAdjudication",
    "Party",
    "Payee",
    "Payer",
    "Payment",
    "Procedure",
    "ProviderAdjustment",
    "Remittance",
    "ServicePayment",
    "Trace",
    "balance_problems",
    "check_balanced",
    "parse_835",
    "read_835",
]

IMPLEMENTATION = "005010X221A1"
FUNCTIONAL_ID = "HP"
REVERSAL = "22"
V = TypeVar("V")
D = TypeVar("D")

# ----------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Adjustment:
    """One CAS reason/amount/quantity triplet with its group (a CAS segment holds up to six)."""

    group: str  # CAS01: CO, PR, OA, PI (CR read from 4010-minded payers)
    reason: str  # CARC, kept as text
    amount_cents: int  # positive reduces the payment, negative adds to it
    quantity: str = ""  # units adjusted, as sent


@dataclass(frozen=True)
class BankAccount:
    """A bank and account in the BPR: the payer's (BPR06-09) or the payee's (BPR12-15)."""

    routing_number: str  # DFI id
    account_number: str
    dfi_qualifier: str = "01"  # 01 ABA transit routing number, 04 Canadian bank branch
    account_qualifier: str = "DA"  # DA demand deposit; the payee's may be SG savings


@dataclass(frozen=True)
class Payment:
    """BPR: the money itself."""

    handling: str  # BPR01: C payment with remittance, I remittance only, H notification only ...
    amount_cents: int  # BPR02: the money moved (0 for a remittance without payment)
    credit_debit: str  # BPR03: C credit (to the payee), D debit
    method: str  # BPR04: ACH, CHK check, NON no payment, FWT federal wire, BOP financial institution option
    paid_on: datetime.date  # BPR16: the check date or the EFT effective date
    format: str = ""  # BPR05: CCP, CTX (ACH only)
    payer_bank: BankAccount | None = None
    originator_id: str = ""  # BPR10: the payer's originating company id (1 + EIN)
    originator_supplemental: str = ""  # BPR11
    payee_bank: BankAccount | None = None


@dataclass(frozen=True)
class Trace:
    """TRN: finds the payment at the bank — the check number or the EFT trace number."""

    number: str  # TRN02
    payer_id: str  # TRN03: 1 + the payer's EIN, usually
    type: str = "1"  # TRN01: 1 current transaction trace numbers
    originator_supplemental: str = ""  # TRN04


@dataclass(frozen=True)
class Address:
    """N3/N4."""

    line1: str
    line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True)
class Contact:
    """PER: a contact function (CX claims, BL technical, IC web site), a name, and
    (qualifier, number) pairs: TE telephone, EM e-mail, FX fax, EX extension, UR web address."""

    function: str
    name: str = ""
    numbers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Payer:
    """1000A: who pays."""

    name: str  # N102
    id: str = ""  # N104 (N103 XV: the CMS plan id)
    id_qualifier: str = ""
    address: Address | None = None
    references: tuple[tuple[str, str], ...] = ()  # REF: 2U payer id, EO submitter id, HI, NF NAIC code
    contacts: tuple[Contact, ...] = ()  # PER CX, BL (required by the guide), IC


@dataclass(frozen=True)
class Payee:
    """1000B: who is paid — the practice, by NPI (N103 XX) or tax id (FI)."""

    name: str
    id: str
    id_qualifier: str  # XX NPI, FI federal tax id, XV CMS plan id
    address: Address | None = None
    references: tuple[tuple[str, str], ...] = ()  # REF: TJ tax id (beside an NPI), PQ, 0B, D3
    delivery: tuple[str, ...] = ()  # RDM: how the remittance is delivered, as read

    @property
    def npi(self) -> str:
        return self.id if self.id_qualifier == "XX" else ""

    @property
    def tax_id(self) -> str:
        if self.id_qualifier == "FI":
            return self.id
        return next((value for qualifier, value in self.references if qualifier == "TJ"), "")


@dataclass(frozen=True)
class Procedure:
    """SVC01 (or SVC06): qualifier (HC CPT/HCPCS, AD dental, NU revenue code, N4 NDC ...),
    code, up to four modifiers and a description."""

    qualifier: str
    code: str
    modifiers: tuple[str, ...] = ()
    description: str = ""

    def composite(self) -> tuple[str, ...]:
        modifiers = (*self.modifiers, "", "", "", "")[:4] if self.description else self.modifiers
        parts = [self.qualifier, self.code, *modifiers, self.description]
        while parts and not parts[-1]:
            parts.pop()
        return tuple(parts)


@dataclass(frozen=True)
class OutpatientAdjudication:
    """MOA: Medicare-style outpatient adjudication details."""

    reimbursement_rate: str = ""  # MOA01, a percentage as sent
    payable_cents: int | None = None  # MOA02: HCPCS payable amount
    remarks: tuple[str, ...] = ()  # MOA03, MOA04, MOA05, MOA06, MOA07: RARC
    esrd_cents: int | None = None  # MOA08: end-stage renal disease payment
    nonpayable_professional_cents: int | None = None  # MOA09


@dataclass(frozen=True)
class ServicePayment:
    """2110: one service line as the payer paid it."""

    procedure: Procedure  # SVC01, as the payer adjudicated it
    charge_cents: int  # SVC02
    paid_cents: int  # SVC03
    revenue_code: str = ""  # SVC04 (institutional)
    units: str = ""  # SVC05: units paid ("" means 1)
    original_procedure: Procedure | None = None  # SVC06: what we billed, when the payer changed it
    original_units: str = ""  # SVC07: units billed, when they differ
    dates: tuple[tuple[str, datetime.date], ...] = ()  # DTM: 472 service date, 150 from, 151 to
    adjustments: tuple[Adjustment, ...] = ()
    references: tuple[tuple[str, str], ...] = ()  # REF: 6R our line control number, LU, 1S, APC ...
    amounts: tuple[tuple[str, int], ...] = ()  # AMT: B6 allowed, KH late filing reduction ...
    quantities: tuple[tuple[str, str], ...] = ()  # QTY
    remarks: tuple[tuple[str, str], ...] = ()  # LQ: (HE, RARC) or (RX, NCPDP reject code)
    position: int = field(default=0, compare=False)  # of its SVC in the file, when read

    @property
    def service_from(self) -> datetime.date | None:
        return _first(self.dates, ("472", "150"))

    @property
    def service_to(self) -> datetime.date | None:
        return _first(self.dates, ("472", "151"))

    @property
    def line_control_number(self) -> str:
        """REF*6R: the line item control number we sent in the 837 (REF*6R there)."""
        return _value(self.references, "6R", "")

    @property
    def allowed_cents(self) -> int | None:
        return _value(self.amounts, "B6", None)


@dataclass(frozen=True)
class ClaimPayment:
    """2100: one claim as the payer processed it."""

    patient_control_number: str  # CLP01: our CLM01
    status: str  # CLP02, see codes.CLAIM_STATUSES
    charge_cents: int  # CLP03
    paid_cents: int  # CLP04
    patient_responsibility_cents: int | None = None  # CLP05
    filing_indicator: str = (
        ""  # CLP06: 12..17 Medicare secondary, CI commercial, MB Medicare B, MC Medicaid ...
    )
    payer_claim_control_number: str = ""  # CLP07: for corrections (frequency 7/8) and status inquiries
    facility_code: str = ""  # CLP08: place of service (professional) or type of bill
    frequency: str = ""  # CLP09: claim frequency code
    drg_code: str = ""  # CLP11
    drg_weight: str = ""  # CLP12
    discharge_fraction: str = ""  # CLP13
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    patient: Party | None = None  # NM1*QC (required by the guide)
    insured: Party | None = None  # NM1*IL, when the insured is not the patient
    corrected_patient: Party | None = None  # NM1*74: the name or member id the payer has on file
    service_provider: Party | None = None  # NM1*82: the rendering provider
    crossover_carrier: Party | None = None  # NM1*TT: the payer the claim was forwarded to
    corrected_priority_payer: Party | None = None  # NM1*PR: who should have been billed first
    other_subscriber: Party | None = None  # NM1*GB
    inpatient: tuple[str, ...] = ()  # MIA01..MIA24, as read (inpatient only)
    outpatient: OutpatientAdjudication | None = None  # MOA
    references: tuple[
        tuple[str, str], ...
    ] = ()  # REF: 1L group, 28, 6P, EA medical record, F8 original ref ...
    dates: tuple[
        tuple[str, datetime.date], ...
    ] = ()  # DTM: 232/233 statement, 036 coverage ends, 050 received
    contacts: tuple[Contact, ...] = ()  # PER*CX
    amounts: tuple[
        tuple[str, int], ...
    ] = ()  # AMT: AU coverage, D8 discount, F5 patient paid, I interest ...
    quantities: tuple[tuple[str, str], ...] = ()  # QTY
    lines: tuple[ServicePayment, ...] = ()
    position: int = field(default=0, compare=False)  # of its CLP in the file, when read

    @property
    def status_meaning(self) -> str:
        return describe(CLAIM_STATUSES, self.status)

    @property
    def is_reversal(self) -> bool:
        return self.status == REVERSAL

    @property
    def statement_from(self) -> datetime.date | None:
        return _first(self.dates, ("232",))

    @property
    def statement_to(self) -> datetime.date | None:
        return _first(self.dates, ("233",))

    @property
    def received_on(self) -> datetime.date | None:
        return _first(self.dates, ("050",))

    @property
    def coverage_expires_on(self) -> datetime.date | None:
        return _first(self.dates, ("036",))

    @property
    def interest_cents(self) -> int:
        return _value(self.amounts, "I", 0)


@dataclass(frozen=True)
class ClaimGroup:
    """2000: an LX header number and its claims, with the provider summaries (TS3/TS2) kept as
    read — institutional payers total their claims per provider and fiscal period there."""

    number: str  # LX01
    claims: tuple[ClaimPayment, ...] = ()
    provider_summary: tuple[str, ...] = ()  # TS301..
    supplemental_summary: tuple[str, ...] = ()  # TS201..


@dataclass(frozen=True)
class ProviderAdjustment:
    """One PLB reason/amount pair with the provider and fiscal period of its segment (a PLB
    holds up to six). A positive amount reduces the payment, a negative one adds to it."""

    provider_id: str  # PLB01: usually the payee's NPI
    fiscal_period_end: datetime.date  # PLB02
    reason: str  # PLB03-1: WO, L6 interest, FB forwarding balance, 72, CS, J1, WU ...
    amount_cents: int  # PLB04
    reference: str = ""  # PLB03-2: the claim or account the adjustment is about
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Remittance:
    """One 835 transaction set: one payment and what it pays."""

    payment: Payment
    trace: Trace
    payer: Payer
    payee: Payee
    groups: tuple[ClaimGroup, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    currency: str = ""  # CUR02, when not US dollars
    receiver_id: str = ""  # REF*EV
    version_id: str = ""  # REF*F2: the payer's adjudication system version
    produced_on: datetime.date | None = None  # DTM*405
    control_number: str = field(default="", compare=False)  # ST02
    position: int = field(default=0, compare=False)  # of its BPR in the file, when read

    @property
    def claims(self) -> tuple[ClaimPayment, ...]:
        return tuple(claim for group in self.groups for claim in group.claims)


def _first(dates: tuple[tuple[str, datetime.date], ...], qualifiers: tuple[str, ...]) -> datetime.date | None:
    return next((day for qualifier, day in dates if qualifier in qualifiers), None)


def _value(pairs: Iterable[tuple[str, V]], qualifier: str, default: D) -> V | D:
    return next((value for q, value in pairs if q == qualifier), default)


# ----------------------------------------------------------------------------- balancing


def _dollars(cents: int) -> str:
    return format_plain(cents)


def _off(expected: int, found: int) -> str:
    return f"off by {_dollars(abs(found - expected))}"


def balance_problems(remittance: Remittance) -> list[X12Error]:
    """Every way ``remittance`` fails to balance — its lines, its claims, the payment — each
    naming the segment, the element and the difference in dollars. Empty when it balances."""
    problems: list[X12Error] = []
    claims_paid = 0
    for claim in remittance.claims:
        problems.extend(_claim_problems(claim))
        claims_paid += claim.paid_cents
    provider_adjusted = sum(a.amount_cents for a in remittance.provider_adjustments)
    expected = claims_paid - provider_adjusted
    if expected != remittance.payment.amount_cents:
        problems.append(
            X12Error(
                f"payment {remittance.trace.number}: claims paid {_dollars(claims_paid)} - provider "
                f"adjustments {_dollars(provider_adjusted)} = {_dollars(expected)}, BPR02 "
                f"{_dollars(remittance.payment.amount_cents)}: "
                f"{_off(expected, remittance.payment.amount_cents)}",
                position=remittance.position or None,
                segment_id="BPR",
                element="BPR02",
            )
        )
    return problems


def _claim_problems(claim: ClaimPayment) -> list[X12Error]:
    problems: list[X12Error] = []
    line_adjusted = 0
    for number, line in enumerate(claim.lines, start=1):
        adjusted = sum(a.amount_cents for a in line.adjustments)
        line_adjusted += adjusted
        expected = line.charge_cents - adjusted
        if expected != line.paid_cents:
            code = ":".join(line.procedure.composite()[:2])
            problems.append(
                X12Error(
                    f"claim {claim.patient_control_number} line {number} ({code}): charge "
                    f"{_dollars(line.charge_cents)} - adjustments {_dollars(adjusted)} = "
                    f"{_dollars(expected)}, paid {_dollars(line.paid_cents)}: "
                    f"{_off(expected, line.paid_cents)}",
                    position=line.position or None,
                    segment_id="SVC",
                    element="SVC03",
                )
            )
    adjusted = sum(a.amount_cents for a in claim.adjustments) + line_adjusted
    expected = claim.charge_cents - adjusted
    if expected != claim.paid_cents:
        problems.append(
            X12Error(
                f"claim {claim.patient_control_number}: charge {_dollars(claim.charge_cents)} - "
                f"adjustments {_dollars(adjusted)} = {_dollars(expected)}, paid "
                f"{_dollars(claim.paid_cents)}: {_off(expected, claim.paid_cents)}",
                position=claim.position or None,
                segment_id="CLP",
                element="CLP04",
            )
        )
    return problems


def check_balanced(remittance: Remittance) -> None:
    """Raise one :class:`X12Error` listing every balancing problem (placed at the first)."""
    problems = balance_problems(remittance)
    if not problems:
        return
    first = problems[0]
    listed = "; ".join(str(problem) for problem in problems)
    raise X12Error(
        f"the payment does not balance ({len(problems)} problem{'s' if len(problems) > 1 else ''}): {listed}",
        position=first.position,
        segment_id=first.segment_id,
        element=first.element,
    )


# ----------------------------------------------------------------------------- reading


def read_835(text: str) -> list[Remittance]:
    """Every 835 in a file, in order: one :class:`Remittance` per transaction set (payment).

    Reading does not balance; call :func:`check_balanced` (or :func:`balance_problems`)
    before posting."""
    remittances = []
    for interchange in read_interchanges(text):
        for group in interchange.groups:
            for transaction in group.transactions:
                remittances.append(parse_835(transaction, version=group.version))
    return remittances


def parse_835(transaction: Transaction, *, version: str = "") -> Remittance:
    """One 835 transaction set's body as a :class:`Remittance`."""
    if transaction.set_id != "835":
        raise X12Error(
            f"transaction set {transaction.set_id!r} is not an 835",
            position=transaction.position,
            segment_id="ST",
            element="ST01",
        )
    implementation = transaction.implementation or version
    if implementation and not implementation.startswith("005010X221"):
        where = "ST03" if transaction.implementation else "GS08"
        raise X12Error(
            f"implementation {implementation!r} ({where}) is not the 5010 835 ({IMPLEMENTATION})",
            position=transaction.position,
            segment_id="ST",
            element="ST03",
        )
    refuse_repetitions(transaction)
    return _Reader(transaction).read()


def _required(segment: Segment, n: int, what: str) -> str:
    value = segment.element(n)
    if not value:
        raise element_error(segment, n, f"{what} is required")
    return value


def _cents(segment: Segment, n: int, what: str) -> int:
    cents = read_cents(segment, n)
    if cents is None:
        raise element_error(segment, n, f"{what} is required")
    return cents


def _day(segment: Segment, n: int, what: str) -> datetime.date:
    day = read_date(segment, n)
    if day is None:
        raise element_error(segment, n, f"{what} is required")
    return day


def _texts(segment: Segment) -> tuple[str, ...]:
    return tuple(segment.element(n) for n in range(1, len(segment.elements) + 1))


def _procedure(segment: Segment, n: int) -> Procedure:
    parts = segment.composite(n)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise element_error(segment, n, "the procedure needs a qualifier and a code", 1 if parts else 0)
    modifiers = list(parts[2:6])
    while modifiers and not modifiers[-1]:
        modifiers.pop()
    return Procedure(parts[0], parts[1], tuple(modifiers), parts[6] if len(parts) > 6 else "")


def _adjustments(cas: Segment) -> list[Adjustment]:
    group = _required(cas, 1, "the adjustment group code")
    found = []
    for n in range(2, 20, 3):
        reason = cas.element(n)
        if not reason:
            if cas.element(n + 1):
                raise element_error(cas, n, "an adjustment amount without its reason code")
            continue
        cents = _cents(cas, n + 1, f"the amount for reason {reason}")
        found.append(Adjustment(group, reason, cents, cas.element(n + 2)))
    if not found:
        raise element_error(cas, 2, "a CAS without any reason code")
    return found


def _contact(per: Segment) -> Contact:
    numbers = tuple(
        (per.element(n), per.element(n + 1)) for n in (3, 5, 7) if per.element(n) or per.element(n + 1)
    )
    return Contact(_required(per, 1, "the contact function"), per.element(2), numbers)


def _plb(plb: Segment) -> list[ProviderAdjustment]:
    provider = _required(plb, 1, "the provider id")
    period = _day(plb, 2, "the fiscal period date")
    found = []
    for n in range(3, 15, 2):
        reason = plb.component(n, 1)
        if not reason:
            if plb.element(n + 1):
                raise element_error(plb, n, "an adjustment amount without its reason code", 1)
            continue
        cents = _cents(plb, n + 1, f"the amount for reason {reason}")
        found.append(ProviderAdjustment(provider, period, reason, cents, plb.component(n, 2), plb.position))
    if not found:
        raise element_error(plb, 3, "a PLB without any adjustment", 1)
    return found


_CLAIM_NAMES = {
    "QC": "patient",
    "IL": "insured",
    "74": "corrected_patient",
    "82": "service_provider",
    "TT": "crossover_carrier",
    "PR": "corrected_priority_payer",
    "GB": "other_subscriber",
}


class _PartyDraft:
    def __init__(self, n1: Segment) -> None:
        self.n1 = n1
        self.address: Address | None = None
        self.line: tuple[str, str] | None = None
        self.references: list[tuple[str, str]] = []
        self.contacts: list[Contact] = []
        self.delivery: tuple[str, ...] = ()

    def payer(self) -> Payer:
        n1 = self.n1
        return Payer(
            name=n1.element(2),
            id=n1.element(4),
            id_qualifier=n1.element(3),
            address=self.address,
            references=tuple(self.references),
            contacts=tuple(self.contacts),
        )

    def payee(self) -> Payee:
        n1 = self.n1
        return Payee(
            name=n1.element(2),
            id=n1.element(4),
            id_qualifier=n1.element(3),
            address=self.address,
            references=tuple(self.references),
            delivery=self.delivery,
        )


class _Reader:
    """Walks one 835 body: the header, the payer and payee loops, the LX groups with their
    claims and lines, then the PLBs. Each segment goes to the loop open when it comes."""

    def __init__(self, transaction: Transaction) -> None:
        self.transaction = transaction
        self.header: dict[str, Any] = {}
        self.bpr: Segment | None = None
        self.payer: _PartyDraft | None = None
        self.payee: _PartyDraft | None = None
        self.party: _PartyDraft | None = None
        self.groups: list[ClaimGroup] = []
        self.group: dict[str, Any] | None = None
        self.claim: dict[str, Any] | None = None
        self.line: dict[str, Any] | None = None
        self.plb: list[ProviderAdjustment] = []
        self.handlers: dict[str, Callable[[Segment], None]] = {
            "BPR": self._bpr,
            "TRN": self._trn,
            "CUR": self._cur,
            "REF": self._ref,
            "DTM": self._dtm,
            "N1": self._n1,
            "N3": self._n3,
            "N4": self._n4,
            "PER": self._per,
            "RDM": self._rdm,
            "LX": self._lx,
            "TS3": self._ts3,
            "TS2": self._ts2,
            "CLP": self._clp,
            "CAS": self._cas,
            "NM1": self._nm1,
            "MIA": self._mia,
            "MOA": self._moa,
            "AMT": self._amt,
            "QTY": self._qty,
            "SVC": self._svc,
            "LQ": self._lq,
            "PLB": self._plb,
        }

    def read(self) -> Remittance:
        segments = self.transaction.segments
        if not segments or segments[0].id != "BPR":
            found = segments[0] if segments else None
            raise X12Error(
                "an 835 starts with BPR (the payment)",
                position=found.position if found else self.transaction.position,
                segment_id=found.id if found else "BPR",
            )
        for segment in segments:
            handler = self.handlers.get(segment.id)
            if handler is None:
                raise self._unexpected(segment)
            handler(segment)
        self._close_group()
        return self._remittance()

    def _unexpected(self, segment: Segment, why: str = "") -> X12Error:
        where = {
            "line": "a service line",
            "claim": "a claim",
            "group": "an LX group",
            "footer": "the PLBs",
        }.get(self._where(), "the header")
        return X12Error(
            why or f"a {segment.id} segment does not belong in {where} of an 835",
            position=segment.position,
            segment_id=segment.id,
        )

    def _where(self) -> str:
        if self.plb:
            return "footer"
        if self.line is not None:
            return "line"
        if self.claim is not None:
            return "claim"
        if self.group is not None:
            return "group"
        return "header"

    def _in_header(self, segment: Segment) -> None:
        if self.group is not None or self.plb or self.payer is not None:
            raise self._unexpected(segment)

    def _remittance(self) -> Remittance:
        bpr = self.bpr
        assert bpr is not None
        if "trace" not in self.header:
            raise X12Error("the 835 has no TRN (trace number)", position=bpr.position, segment_id="TRN")
        if self.payer is None or self.payee is None:
            missing = "payer (N1*PR)" if self.payer is None else "payee (N1*PE)"
            raise X12Error(f"the 835 has no {missing}", position=bpr.position, segment_id="N1")
        return Remittance(
            payment=self._payment(bpr),
            trace=self.header["trace"],
            payer=self.payer.payer(),
            payee=self.payee.payee(),
            groups=tuple(self.groups),
            provider_adjustments=tuple(self.plb),
            currency=self.header.get("currency", ""),
            receiver_id=self.header.get("EV", ""),
            version_id=self.header.get("F2", ""),
            produced_on=self.header.get("produced_on"),
            control_number=self.transaction.control_number,
            position=bpr.position,
        )

    # -- the header

    def _bpr(self, bpr: Segment) -> None:
        if self.bpr is not None:
            raise self._unexpected(bpr, "a second BPR: one 835 is one payment")
        self.bpr = bpr

    @staticmethod
    def _payment(bpr: Segment) -> Payment:
        payer_bank = payee_bank = None
        if bpr.element(7) or bpr.element(9):
            payer_bank = BankAccount(bpr.element(7), bpr.element(9), bpr.element(6), bpr.element(8))
        if bpr.element(13) or bpr.element(15):
            payee_bank = BankAccount(bpr.element(13), bpr.element(15), bpr.element(12), bpr.element(14))
        return Payment(
            handling=_required(bpr, 1, "the transaction handling code"),
            amount_cents=_cents(bpr, 2, "the payment amount"),
            credit_debit=_required(bpr, 3, "the credit/debit flag"),
            method=_required(bpr, 4, "the payment method"),
            paid_on=_day(bpr, 16, "the payment date"),
            format=bpr.element(5),
            payer_bank=payer_bank,
            originator_id=bpr.element(10),
            originator_supplemental=bpr.element(11),
            payee_bank=payee_bank,
        )

    def _trn(self, trn: Segment) -> None:
        self._in_header(trn)
        if "trace" in self.header:
            raise self._unexpected(trn, "a second TRN in the header")
        self.header["trace"] = Trace(
            number=_required(trn, 2, "the check or EFT trace number"),
            payer_id=trn.element(3),
            type=trn.element(1),
            originator_supplemental=trn.element(4),
        )

    def _cur(self, cur: Segment) -> None:
        self._in_header(cur)
        self.header["currency"] = _required(cur, 2, "the currency code")

    def _ref(self, ref: Segment) -> None:
        pair = (_required(ref, 1, "the reference qualifier"), ref.element(2))
        where = self._where()
        if where == "line":
            assert self.line is not None
            self.line["references"].append(pair)
        elif where == "claim":
            assert self.claim is not None
            self.claim["references"].append(pair)
        elif self.party is not None and where == "header":
            self.party.references.append(pair)
        elif where == "header" and pair[0] in ("EV", "F2"):
            self._in_header(ref)
            self.header[pair[0]] = pair[1]
        else:
            raise self._unexpected(ref, f"REF*{pair[0]} does not belong here in an 835")

    def _dtm(self, dtm: Segment) -> None:
        qualifier = _required(dtm, 1, "the date qualifier")
        pair = (qualifier, _day(dtm, 2, "the date"))
        where = self._where()
        if where == "line":
            assert self.line is not None
            self.line["dates"].append(pair)
        elif where == "claim":
            assert self.claim is not None
            self.claim["dates"].append(pair)
        elif where == "header" and qualifier == "405":
            self._in_header(dtm)
            self.header["produced_on"] = pair[1]
        else:
            raise self._unexpected(dtm, f"DTM*{qualifier} does not belong here in an 835")

    # -- payer and payee

    def _n1(self, n1: Segment) -> None:
        if self._where() != "header":
            raise self._unexpected(n1)
        entity = n1.element(1)
        if entity == "PR" and self.payer is None and self.payee is None:
            self.payer = self.party = _PartyDraft(n1)
        elif entity == "PE" and self.payer is not None and self.payee is None:
            self.payee = self.party = _PartyDraft(n1)
        else:
            raise X12Error(
                f"N1*{entity} out of place: an 835 names the payer (N1*PR), then the payee (N1*PE)",
                position=n1.position,
                segment_id="N1",
                element="N101",
            )

    def _party_for(self, segment: Segment) -> _PartyDraft:
        if self.party is None or self._where() != "header":
            raise self._unexpected(segment)
        return self.party

    def _n3(self, n3: Segment) -> None:
        party = self._party_for(n3)
        party.line = (_required(n3, 1, "the address line"), n3.element(2))
        party.address = Address(*party.line)

    def _n4(self, n4: Segment) -> None:
        party = self._party_for(n4)
        line1, line2 = party.line or ("", "")
        party.address = Address(line1, line2, n4.element(1), n4.element(2), n4.element(3), n4.element(4))

    def _per(self, per: Segment) -> None:
        if self._where() == "claim":
            assert self.claim is not None
            self.claim["contacts"].append(_contact(per))
        elif self.party is not None and self.party is self.payer and self._where() == "header":
            self.party.contacts.append(_contact(per))
        else:
            raise self._unexpected(per)

    def _rdm(self, rdm: Segment) -> None:
        party = self._party_for(rdm)
        if party is not self.payee:
            raise self._unexpected(rdm, "RDM (remittance delivery method) belongs to the payee (1000B)")
        party.delivery = _texts(rdm)

    # -- groups and claims

    def _lx(self, lx: Segment) -> None:
        if self.plb:
            raise self._unexpected(lx)
        self._close_group()
        self.party = None
        self.group = {"number": _required(lx, 1, "the header number"), "claims": [], "ts3": (), "ts2": ()}

    def _ts3(self, ts3: Segment) -> None:
        if self._where() != "group":
            raise self._unexpected(ts3, "TS3 belongs right after its LX")
        assert self.group is not None
        self.group["ts3"] = _texts(ts3)

    def _ts2(self, ts2: Segment) -> None:
        if self._where() != "group":
            raise self._unexpected(ts2, "TS2 belongs right after its LX and TS3")
        assert self.group is not None
        self.group["ts2"] = _texts(ts2)

    def _close_group(self) -> None:
        self._close_claim()
        group, self.group = self.group, None
        if group is not None:
            self.groups.append(
                ClaimGroup(group["number"], tuple(group["claims"]), group["ts3"], group["ts2"])
            )

    def _clp(self, clp: Segment) -> None:
        if self.plb:
            raise self._unexpected(clp)
        self._close_claim()
        if self.group is None:
            # A claim with no LX before it: some payers leave the LX out; keep it in a group
            # without a number rather than refuse a payment over a header the guide allows to skip.
            self.party = None
            self.group = {"number": "", "claims": [], "ts3": (), "ts2": ()}
        self.claim = {
            "patient_control_number": _required(clp, 1, "the patient control number"),
            "status": _required(clp, 2, "the claim status code"),
            "charge_cents": _cents(clp, 3, "the claim charge"),
            "paid_cents": _cents(clp, 4, "the claim payment"),
            "patient_responsibility_cents": read_cents(clp, 5),
            "filing_indicator": clp.element(6),
            "payer_claim_control_number": clp.element(7),
            "facility_code": clp.element(8),
            "frequency": clp.element(9),
            "drg_code": clp.element(11),
            "drg_weight": clp.element(12),
            "discharge_fraction": clp.element(13),
            "adjustments": [],
            "references": [],
            "dates": [],
            "contacts": [],
            "amounts": [],
            "quantities": [],
            "lines": [],
            "position": clp.position,
        }

    def _close_line(self) -> None:
        line, self.line = self.line, None
        if line is not None:
            assert self.claim is not None
            self.claim["lines"].append(_build(ServicePayment, line))

    def _close_claim(self) -> None:
        self._close_line()
        claim, self.claim = self.claim, None
        if claim is not None:
            assert self.group is not None
            self.group["claims"].append(_build(ClaimPayment, claim))

    def _cas(self, cas: Segment) -> None:
        target = self.line if self.line is not None else self.claim
        if target is None or self.plb:
            raise self._unexpected(cas)
        target["adjustments"].extend(_adjustments(cas))

    def _claim_only(self, segment: Segment) -> dict[str, Any]:
        if self._where() != "claim":
            raise self._unexpected(segment, f"{segment.id} belongs to a claim, before its service lines")
        assert self.claim is not None
        return self.claim

    def _nm1(self, nm1: Segment) -> None:
        claim = self._claim_only(nm1)
        name = _CLAIM_NAMES.get(nm1.element(1))
        if name is None:
            raise element_error(nm1, 1, f"NM1*{nm1.element(1)} is not a name an 835 claim carries")
        if name in claim:
            raise element_error(nm1, 1, f"a second NM1*{nm1.element(1)} in the claim")
        claim[name] = Party.read(nm1)

    def _mia(self, mia: Segment) -> None:
        self._claim_only(mia)["inpatient"] = _texts(mia)

    def _moa(self, moa: Segment) -> None:
        self._claim_only(moa)["outpatient"] = OutpatientAdjudication(
            reimbursement_rate=moa.element(1),
            payable_cents=read_cents(moa, 2),
            remarks=tuple(moa.element(n) for n in range(3, 8) if moa.element(n)),
            esrd_cents=read_cents(moa, 8),
            nonpayable_professional_cents=read_cents(moa, 9),
        )

    def _amt(self, amt: Segment) -> None:
        target = self.line if self.line is not None else self.claim
        if target is None or self.plb:
            raise self._unexpected(amt)
        qualifier = _required(amt, 1, "the amount qualifier")
        target["amounts"].append((qualifier, _cents(amt, 2, f"the AMT*{qualifier} amount")))

    def _qty(self, qty: Segment) -> None:
        target = self.line if self.line is not None else self.claim
        if target is None or self.plb:
            raise self._unexpected(qty)
        target["quantities"].append((_required(qty, 1, "the quantity qualifier"), qty.element(2)))

    def _svc(self, svc: Segment) -> None:
        if self.claim is None or self.plb:
            raise self._unexpected(svc, "a service line (SVC) outside a claim")
        self._close_line()
        self.line = {
            "procedure": _procedure(svc, 1),
            "charge_cents": _cents(svc, 2, "the line charge"),
            "paid_cents": _cents(svc, 3, "the line payment"),
            "revenue_code": svc.element(4),
            "units": svc.element(5),
            "original_procedure": _procedure(svc, 6) if svc.composite(6) else None,
            "original_units": svc.element(7),
            "dates": [],
            "adjustments": [],
            "references": [],
            "amounts": [],
            "quantities": [],
            "remarks": [],
            "position": svc.position,
        }

    def _lq(self, lq: Segment) -> None:
        if self.line is None or self.plb:
            raise self._unexpected(lq, "LQ (remark code) belongs to a service line")
        self.line["remarks"].append((_required(lq, 1, "the remark qualifier"), lq.element(2)))

    def _plb(self, plb: Segment) -> None:
        self._close_group()
        self.party = None
        self.plb.extend(_plb(plb))


def _build(kind: Callable[..., Any], fields: dict[str, Any]) -> Any:
    """A frozen claim or line from its draft: lists become tuples."""
    return kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})
