"""Write 835 remittances (005010X221A1): what a payer sends, so the demo's payer simulator can
produce real files for the posting to read. The model is
:mod:`revcycle.x12.remit835`, the reader :mod:`revcycle.x12.read835`.

The body follows the guide's order: BPR, TRN, CUR, REF*EV, REF*F2, DTM*405, the payer (1000A:
N1*PR, N3, N4, REF, PER) and the payee (1000B: N1*PE, N3, N4, REF, RDM), then each LX group
(TS3, TS2) with its claims — CLP, CAS, the names (QC, IL, 74, 82, TT, PR, GB), MIA, MOA, REF,
DTM, PER, AMT, QTY — and their lines (SVC, DTM, CAS, REF, AMT, QTY, LQ), and last the PLBs.

Adjustments are kept flat in the model; the writer puts consecutive ones of the same group
into one CAS (six triplets at most), and consecutive provider adjustments of the same provider
and fiscal period into one PLB (six pairs at most), so what is read back equals what was
written. A remittance that does not balance is refused, naming the difference, and so is one
the guide would reject (a CR group, a claim without its patient, a payer without its
technical contact).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence

from revcycle.x12.claim277 import Envelope
from revcycle.x12.codes import ADJUSTMENT_GROUPS_835
from revcycle.x12.envelope import Transaction, write_interchange
from revcycle.x12.errors import X12Error
from revcycle.x12.parties import Party
from revcycle.x12.remit835 import (
    FUNCTIONAL_ID,
    IMPLEMENTATION,
    Address,
    Adjustment,
    ClaimGroup,
    ClaimPayment,
    Contact,
    Payee,
    Payer,
    Payment,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
    check_balanced,
)
from revcycle.x12.segments import Segment, composite, seg
from revcycle.x12.write837 import format_cents

__all__ = ["remittance_segments", "write_835"]

_PER_SEGMENT = 6  # CAS triplets, PLB pairs


def write_835(remittances: Sequence[Remittance], envelope: Envelope, *, line_breaks: bool = False) -> str:
    """A file of 835s in one functional group (ST02 0001, 0002 ...): one per payment."""
    if not remittances:
        raise X12Error("an 835 file needs at least one remittance")
    # The 835 guide leaves ST03 unused (GS08 names the implementation), unlike the 837's.
    transactions = [
        Transaction("835", f"{n:04d}", "", remittance_segments(remittance))
        for n, remittance in enumerate(remittances, start=1)
    ]
    interchange = envelope.interchange(FUNCTIONAL_ID, IMPLEMENTATION, transactions)
    return write_interchange(interchange, line_breaks=line_breaks)


def remittance_segments(remittance: Remittance) -> list[Segment]:
    """The body of one 835 (between ST and SE), after refusing one that does not balance."""
    check_balanced(remittance)
    return [*_header(remittance), *_groups(remittance.groups), *_provider_adjustments(remittance)]


def _d8(day: datetime.date | None) -> str | None:
    return day.strftime("%Y%m%d") if day else None


def _money(cents: int | None) -> str | None:
    return None if cents is None else format_cents(cents)


def _refuse(message: str, segment_id: str, element: str = "") -> X12Error:
    return X12Error(message, segment_id=segment_id, element=element)


# ----------------------------------------------------------------------------- the header


def _header(remittance: Remittance) -> Iterator[Segment]:
    yield _bpr(remittance.payment)
    trace = remittance.trace
    yield seg("TRN", trace.type or "1", trace.number, trace.payer_id, trace.originator_supplemental or None)
    if remittance.currency:
        yield seg("CUR", "PR", remittance.currency)
    if remittance.receiver_id:
        yield seg("REF", "EV", remittance.receiver_id)
    if remittance.version_id:
        yield seg("REF", "F2", remittance.version_id)
    if remittance.produced_on:
        yield seg("DTM", "405", _d8(remittance.produced_on))
    yield from _payer(remittance.payer)
    yield from _payee(remittance.payee)


def _bpr(payment: Payment) -> Segment:
    payer, payee = payment.payer_bank, payment.payee_bank
    return seg(
        "BPR",
        payment.handling,
        format_cents(payment.amount_cents),
        payment.credit_debit,
        payment.method,
        payment.format or None,
        payer.dfi_qualifier if payer else None,
        payer.routing_number if payer else None,
        payer.account_qualifier if payer else None,
        payer.account_number if payer else None,
        payment.originator_id or None,
        payment.originator_supplemental or None,
        payee.dfi_qualifier if payee else None,
        payee.routing_number if payee else None,
        payee.account_qualifier if payee else None,
        payee.account_number if payee else None,
        _d8(payment.paid_on),
    )


def _address(address: Address | None) -> Iterator[Segment]:
    if address is None:
        return
    yield seg("N3", address.line1, address.line2 or None)
    yield seg("N4", address.city, address.state or None, address.postal_code or None, address.country or None)


def _contact(contact: Contact) -> Segment:
    numbers = [value for pair in contact.numbers[:3] for value in pair]
    return seg("PER", contact.function, contact.name or None, *numbers)


def _payer(payer: Payer) -> Iterator[Segment]:
    if not any(contact.function == "BL" for contact in payer.contacts):
        raise _refuse("the payer's technical contact (PER*BL) is required by the guide", "PER", "PER01")
    yield seg("N1", "PR", payer.name, payer.id_qualifier if payer.id else None, payer.id or None)
    yield from _address(payer.address)
    for qualifier, value in payer.references:
        yield seg("REF", qualifier, value)
    for contact in payer.contacts:
        yield _contact(contact)


def _payee(payee: Payee) -> Iterator[Segment]:
    if not payee.id or not payee.id_qualifier:
        raise _refuse("the payee's NPI (XX) or tax id (FI) is required", "N1", "N104")
    yield seg("N1", "PE", payee.name, payee.id_qualifier, payee.id)
    yield from _address(payee.address)
    for qualifier, value in payee.references:
        yield seg("REF", qualifier, value)
    if payee.delivery:
        yield seg("RDM", *payee.delivery)


# ----------------------------------------------------------------------------- claims


def _groups(groups: Sequence[ClaimGroup]) -> Iterator[Segment]:
    for group in groups:
        if not group.number:
            raise _refuse("an LX group needs its header number", "LX", "LX01")
        yield seg("LX", group.number)
        if group.provider_summary:
            yield seg("TS3", *group.provider_summary)
        if group.supplemental_summary:
            yield seg("TS2", *group.supplemental_summary)
        for claim in group.claims:
            yield from _claim(claim)


def _names(claim: ClaimPayment) -> Iterator[Segment]:
    if claim.patient is None:
        raise _refuse(f"claim {claim.patient_control_number}: the patient (NM1*QC) is required", "NM1")
    named: list[tuple[str, Party | None]] = [
        ("QC", claim.patient),
        ("IL", claim.insured),
        ("74", claim.corrected_patient),
        ("82", claim.service_provider),
        ("TT", claim.crossover_carrier),
        ("PR", claim.corrected_priority_payer),
        ("GB", claim.other_subscriber),
    ]
    for entity, party in named:
        if party is not None:
            if party.entity != entity:
                raise _refuse(
                    f"claim {claim.patient_control_number}: NM1 {party.entity!r} where {entity} belongs",
                    "NM1",
                    "NM101",
                )
            yield party.segment()


def _claim(claim: ClaimPayment) -> Iterator[Segment]:
    yield seg(
        "CLP",
        claim.patient_control_number,
        claim.status,
        format_cents(claim.charge_cents),
        format_cents(claim.paid_cents),
        _money(claim.patient_responsibility_cents),
        claim.filing_indicator or None,
        claim.payer_claim_control_number or None,
        claim.facility_code or None,
        claim.frequency or None,
        None,
        claim.drg_code or None,
        claim.drg_weight or None,
        claim.discharge_fraction or None,
    )
    yield from _adjustments(claim.adjustments)
    yield from _names(claim)
    if claim.inpatient:
        yield seg("MIA", *claim.inpatient)
    if claim.outpatient is not None:
        moa = claim.outpatient
        remarks = [*moa.remarks[:5], *[None] * (5 - len(moa.remarks[:5]))]
        yield seg(
            "MOA",
            moa.reimbursement_rate or None,
            _money(moa.payable_cents),
            *remarks,
            _money(moa.esrd_cents),
            _money(moa.nonpayable_professional_cents),
        )
    yield from _pairs(claim.references, claim.dates, claim.amounts, claim.quantities, contacts=claim.contacts)
    for line in claim.lines:
        yield from _line(line)


def _pairs(
    references: Sequence[tuple[str, str]],
    dates: Sequence[tuple[str, datetime.date]],
    amounts: Sequence[tuple[str, int]],
    quantities: Sequence[tuple[str, str]],
    *,
    contacts: Sequence[Contact] = (),
) -> Iterator[Segment]:
    for qualifier, value in references:
        yield seg("REF", qualifier, value)
    for qualifier, day in dates:
        yield seg("DTM", qualifier, _d8(day))
    for contact in contacts:
        yield _contact(contact)
    for qualifier, cents in amounts:
        yield seg("AMT", qualifier, format_cents(cents))
    for qualifier, quantity in quantities:
        yield seg("QTY", qualifier, quantity)


def _line(line: ServicePayment) -> Iterator[Segment]:
    original = line.original_procedure
    yield seg(
        "SVC",
        composite(*line.procedure.composite()),
        format_cents(line.charge_cents),
        format_cents(line.paid_cents),
        line.revenue_code or None,
        line.units or None,
        composite(*original.composite()) if original else None,
        line.original_units or None,
    )
    for qualifier, day in line.dates:
        yield seg("DTM", qualifier, _d8(day))
    yield from _adjustments(line.adjustments)
    yield from _pairs(line.references, (), line.amounts, line.quantities)
    for qualifier, code in line.remarks:
        yield seg("LQ", qualifier, code)


def _adjustments(adjustments: Sequence[Adjustment]) -> Iterator[Segment]:
    """CAS segments: consecutive adjustments of one group share a segment, six at most."""
    run: list[Adjustment] = []
    for adjustment in adjustments:
        if adjustment.group not in ADJUSTMENT_GROUPS_835:
            raise _refuse(
                f"adjustment group {adjustment.group!r} cannot be written in a 5010 835 (CO, OA, PI or PR)",
                "CAS",
                "CAS01",
            )
        if run and (run[0].group != adjustment.group or len(run) == _PER_SEGMENT):
            yield _cas(run)
            run = []
        run.append(adjustment)
    if run:
        yield _cas(run)


def _cas(run: Sequence[Adjustment]) -> Segment:
    triplets = [value for a in run for value in (a.reason, format_cents(a.amount_cents), a.quantity or None)]
    return seg("CAS", run[0].group, *triplets)


# ----------------------------------------------------------------------------- the footer


def _provider_adjustments(remittance: Remittance) -> Iterator[Segment]:
    """PLB segments: consecutive adjustments of one provider and period share one, six at most."""
    run: list[ProviderAdjustment] = []
    for adjustment in remittance.provider_adjustments:
        if run and (
            (run[0].provider_id, run[0].fiscal_period_end)
            != (adjustment.provider_id, adjustment.fiscal_period_end)
            or len(run) == _PER_SEGMENT
        ):
            yield _plb(run)
            run = []
        run.append(adjustment)
    if run:
        yield _plb(run)


def _plb(run: Sequence[ProviderAdjustment]) -> Segment:
    pairs = [
        value
        for a in run
        for value in (composite(a.reason, a.reference or None), format_cents(a.amount_cents))
    ]
    return seg("PLB", run[0].provider_id, _d8(run[0].fiscal_period_end), *pairs)
