"""The 835 health care claim payment/advice (005010X221A1): the electronic remittance advice
(ERA) a payer sends with — or about — a payment: the model and its balancing.

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

The reader is :mod:`revcycle.x12.read835`, the writer :mod:`revcycle.x12.write835` (as the
837's model, reader and writer are claim837, read837 and write837).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from revcycle.money import format_plain
from revcycle.x12.codes import CLAIM_STATUSES, describe
from revcycle.x12.errors import X12Error
from revcycle.x12.parties import Party

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

    @property
    def signed_cents(self) -> int:
        """BPR02 as the payee sees it: a debit (the payer taking money back) is negative."""
        return -self.amount_cents if self.credit_debit == "D" else self.amount_cents


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
    if expected != remittance.payment.signed_cents:
        problems.append(
            X12Error(
                f"payment {remittance.trace.number}: claims paid {_dollars(claims_paid)} - provider "
                f"adjustments {_dollars(provider_adjusted)} = {_dollars(expected)}, BPR02 "
                f"{_dollars(remittance.payment.signed_cents)}: "
                f"{_off(expected, remittance.payment.signed_cents)}",
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
