"""A simulated payer's remittance office: the 835 files a payer sends for what it decided.

The demo (and tests) decide what each payer does with each claim — when it pays, what it
allows, what it denies and why, when it reverses a payment and reprocesses it — and hand the
decisions here, claim by claim, as the payer's adjudication system would: this module writes
them as the payer would send them, one payment (BPR/TRN) per 835 with the payer's identification
(N1*PR, REF*2U, its contacts), our practice as payee, each claim (CLP) with its patient, its
lines (SVC with REF*6R echoing our line control numbers, DTM*472, CAS, AMT*B6 allowed) and the
provider-level adjustments (PLB: interest, recoupments). Every payment balances by construction
(BPR02 = the claims' CLP04 - the PLB amounts), and what it writes is read back by our own reader
in the tests, so the demo's money goes through the real posting.

Pure: no database; the caller gives names, numbers and amounts.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from revcycle.x12.claim277 import Envelope
from revcycle.x12.parties import Party
from revcycle.x12.remit835 import (
    Address,
    Adjustment,
    ClaimGroup,
    ClaimPayment,
    Contact,
    Payee,
    Payer,
    Payment,
    Procedure,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
    Trace,
)
from revcycle.x12.write835 import write_835

__all__ = ["DecidedClaim", "DecidedLine", "SimulatedPayer", "reversal_of"]


@dataclass(frozen=True)
class DecidedLine:
    """What the payer decided for one service line. Adjustments are (group, CARC, cents)."""

    procedure_code: str
    charge_cents: int
    paid_cents: int
    adjustments: tuple[tuple[str, str, int], ...] = ()
    modifiers: tuple[str, ...] = ()
    service_on: datetime.date | None = None
    control_number: str = ""  # our REF*6R, echoed
    remarks: tuple[str, ...] = ()  # RARC (LQ*HE)

    @property
    def allowed_cents(self) -> int:
        """Billed less the contract's write-down and what was denied: paid + the patient's."""
        return self.paid_cents + sum(cents for group, _, cents in self.adjustments if group == "PR")


@dataclass(frozen=True)
class DecidedClaim:
    """The payer's decision on one claim (CLP02: 1 processed as primary, 4 denied, 22 reversal)."""

    number: str  # our patient control number (CLM01)
    payer_claim_control_number: str
    patient: Party
    lines: tuple[DecidedLine, ...]
    status: str = "1"
    received_on: datetime.date | None = None
    filing_indicator: str = "12"  # CLP06: 12 PPO, HM HMO, MB Medicare B, MC Medicaid, CH TRICARE ...

    def payment(self) -> ClaimPayment:
        lines = tuple(_service(line) for line in self.lines)
        paid = sum(line.paid_cents for line in self.lines)
        patient = sum(cents for line in self.lines for group, _, cents in line.adjustments if group == "PR")
        return ClaimPayment(
            patient_control_number=self.number,
            status=self.status,
            charge_cents=sum(line.charge_cents for line in self.lines),
            paid_cents=paid,
            patient_responsibility_cents=patient,
            filing_indicator=self.filing_indicator,
            payer_claim_control_number=self.payer_claim_control_number,
            facility_code="11",
            frequency="1",
            patient=self.patient,
            dates=(("050", self.received_on),) if self.received_on else (),
            lines=lines,
        )


def _service(line: DecidedLine) -> ServicePayment:
    return ServicePayment(
        procedure=Procedure("HC", line.procedure_code, line.modifiers),
        charge_cents=line.charge_cents,
        paid_cents=line.paid_cents,
        dates=(("472", line.service_on),) if line.service_on else (),
        adjustments=tuple(Adjustment(group, reason, cents) for group, reason, cents in line.adjustments),
        references=(("6R", line.control_number),) if line.control_number else (),
        amounts=(("B6", line.allowed_cents),) if line.allowed_cents else (),
        remarks=tuple(("HE", code) for code in line.remarks),
    )


def reversal_of(claim: ClaimPayment) -> ClaimPayment:
    """CLP02 22: the payer takes back a payment it made, every amount negated."""
    return replace(
        claim,
        status="22",
        charge_cents=-claim.charge_cents,
        paid_cents=-claim.paid_cents,
        patient_responsibility_cents=-(claim.patient_responsibility_cents or 0),
        amounts=tuple((qualifier, -cents) for qualifier, cents in claim.amounts),
        adjustments=tuple(replace(a, amount_cents=-a.amount_cents) for a in claim.adjustments),
        lines=tuple(
            replace(
                line,
                charge_cents=-line.charge_cents,
                paid_cents=-line.paid_cents,
                adjustments=tuple(replace(a, amount_cents=-a.amount_cents) for a in line.adjustments),
                amounts=tuple((qualifier, -cents) for qualifier, cents in line.amounts),
            )
            for line in claim.lines
        ),
    )


@dataclass
class SimulatedPayer:
    """One payer's remittance office: its name, payer id (REF*2U), tax id (TRN03) and the
    interchange id it sends from; it numbers its own payments and files."""

    name: str
    payer_id: str
    tax_id: str
    sender_id: str
    files_sent: int = field(default=0)

    def remittance(
        self,
        payee: Payee,
        claims: Sequence[ClaimPayment],
        *,
        paid_on: datetime.date,
        trace_number: str,
        method: str = "ACH",
        provider_adjustments: Sequence[tuple[str, int, str]] = (),
    ) -> Remittance:
        """One payment for ``claims`` (and PLB (reason, cents, reference) amounts): by EFT
        (ACH, trace = the EFT trace) or check (CHK, trace = the check number)."""
        plb = tuple(
            ProviderAdjustment(payee.id, datetime.date(paid_on.year, 12, 31), reason, cents, reference)
            for reason, cents, reference in provider_adjustments
        )
        total = sum(claim.paid_cents for claim in claims) - sum(p.amount_cents for p in plb)
        return Remittance(
            payment=Payment(
                handling="C" if total else "I",
                amount_cents=abs(total),
                credit_debit="D" if total < 0 else "C",
                method=method if total else "NON",
                format="CCP" if method == "ACH" and total else "",
                paid_on=paid_on,
            ),
            trace=Trace(number=trace_number, payer_id=f"1{self.tax_id}"),
            payer=Payer(
                name=self.name.upper(),
                address=Address("PO BOX 14079", "", "LEXINGTON", "KY", "40512"),
                references=(("2U", self.payer_id),),
                contacts=(
                    Contact("CX", "PROVIDER SERVICES", (("TE", "8005550100"),)),
                    Contact("BL", "EDI SUPPORT", (("TE", "8005550199"),)),
                ),
            ),
            payee=payee,
            groups=(ClaimGroup("1", tuple(claims)),) if claims else (),
            provider_adjustments=plb,
        )

    def file(self, remittances: Sequence[Remittance], *, receiver_id: str, at: datetime.datetime) -> str:
        """The 835 file carrying ``remittances``, with the payer's next control numbers."""
        self.files_sent += 1
        envelope = Envelope(
            sender_qualifier="ZZ",
            sender_id=self.sender_id,
            receiver_qualifier="ZZ",
            receiver_id=receiver_id,
            interchange_control_number=f"{self.files_sent:09d}",
            group_control_number=str(self.files_sent),
            sent_at=at.replace(tzinfo=None),
        )
        return write_835(list(remittances), envelope)
