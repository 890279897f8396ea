"""Read 835 remittances (005010X221A1) into :class:`revcycle.x12.remit835.Remittance`.

The reader walks one transaction set's segments in order, each going to the loop open when it
comes: the header (BPR, TRN, CUR, REF*EV/F2, DTM*405), the payer (N1*PR ...) and payee (N1*PE
...) loops, the LX groups with their claims (CLP and what follows it) and lines (SVC and what
follows it), then the PLBs. A segment where the guide has no place for it is refused, naming
its position; a qualifier the guide does not list is kept as text. Reading does not balance:
call :func:`revcycle.x12.remit835.check_balanced` (or ``balance_problems``) before posting.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import MISSING, fields
from typing import Any, TypeVar

from revcycle import collector
from revcycle.x12.claim277 import element_error, read_cents, read_date
from revcycle.x12.envelope import Interchange, Transaction, read_interchanges, refuse_repetitions
from revcycle.x12.errors import X12Error
from revcycle.x12.parties import Party
from revcycle.x12.remit835 import (
    IMPLEMENTATION,
    Address,
    Adjustment,
    BankAccount,
    ClaimGroup,
    ClaimPayment,
    Contact,
    OutpatientAdjudication,
    Payee,
    Payer,
    Payment,
    Procedure,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
    Trace,
)
from revcycle.x12.segments import Element, Segment

__all__ = ["parse_835", "read_835"]

T = TypeVar("T")
V = TypeVar("V")


def read_835(text: str) -> list[Remittance]:
    """Every 835 in a file, in order: one :class:`Remittance` per transaction set (payment)."""
    with collector.paused():  # millions of small objects, no cycles
        interchanges = read_interchanges(text)
        repeats = _may_repeat(text, interchanges)
        return [
            _parse(transaction, version=group.version, repeats=repeats, owned=True)
            for interchange in interchanges
            for group in interchange.groups
            for transaction in group.transactions
        ]


def _may_repeat(text: str, interchanges: list[Interchange]) -> bool:
    """Whether any element read from ``text`` may be a repetition: only when an interchange's
    repetition separator (ISA11) stands somewhere else than in the ISAs that declare it. When
    it does not, looking for repetitions element by element would find none."""
    declared = Counter(ic.delimiters.repetition for ic in interchanges if ic.delimiters.repetition)
    return any(text.count(char) > isa_count for char, isa_count in declared.items())


def parse_835(transaction: Transaction, *, version: str = "", release: bool = False) -> Remittance:
    """One 835 transaction set's body as a :class:`Remittance`. With ``release``, the caller
    gives the transaction up: it is emptied of its segments as they are read, each freed once
    read (a 20,000-claim payment then never holds its segments and its model at once)."""
    return _parse(transaction, version=version, repeats=True, owned=release)


def _parse(transaction: Transaction, *, version: str, repeats: bool, owned: bool) -> Remittance:
    """:func:`parse_835`; ``repeats`` False when no element of the transaction can be a
    repetition (see :func:`_may_repeat`), ``owned`` when nothing else holds the transaction,
    which is then emptied of its segments as they are read (each freed once read)."""
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
    if repeats:
        refuse_repetitions(transaction)
    return _Reader(transaction, owned=owned).read()


def _required(segment: Segment, n: int, what: str) -> str:
    value = segment.element(n)
    if not value:
        raise element_error(segment, n, f"{what} is required")
    return value


def _amount(segment: Segment, n: int) -> int | None:
    """Element ``n`` as cents, the common shapes ("150", "-90.5", "1137.50") read directly and
    anything else (and every refusal) left to :func:`read_cents`: an 835 is mostly amounts."""
    text = segment.element(n)
    whole, _, fraction = text.partition(".")
    digits = whole[1:] if whole.startswith("-") else whole
    if digits.isdigit() and digits.isascii() and len(fraction) <= 2 and (fraction.isdigit() or not fraction):
        cents = int(digits) * 100 + int(fraction.ljust(2, "0"))
        return -cents if whole.startswith("-") else cents
    return read_cents(segment, n)


def _cents(segment: Segment, n: int, what: str) -> int:
    cents = _amount(segment, n)
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


_EMPTY = ("",) * 16


def _first(segment: Segment, count: int) -> tuple[str, ...]:
    """Elements 1 to ``count`` (at most 16) as :meth:`Segment.element` reads each: "" when
    absent, a composite's first component. Simple elements, the common case, are taken as they
    stand -- ``str.join`` accepts them all only when none is a composite."""
    head = segment.elements[:count]
    try:
        "".join(head)  # type: ignore[arg-type]
    except TypeError:
        return tuple(segment.element(n) for n in range(1, count + 1))
    if len(head) < count:
        head += _EMPTY[: count - len(head)]
    return head  # type: ignore[return-value]  # every element a str, as join found


def _procedure(segment: Segment, n: int) -> Procedure:
    parts = segment.composite(n)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise element_error(segment, n, "the procedure needs a qualifier and a code", 1 if parts else 0)
    modifiers = list(parts[2:6])
    while modifiers and not modifiers[-1]:
        modifiers.pop()
    return Procedure(parts[0], parts[1], tuple(modifiers), parts[6] if len(parts) > 6 else "")


def _adjustments(cas: Segment) -> tuple[Adjustment, ...]:
    group = _required(cas, 1, "the adjustment group code")
    found = []
    for n in range(2, max(len(cas.elements), 2) + 1, 3):
        reason = cas.element(n)
        if not reason:
            if cas.element(n + 1):
                raise element_error(cas, n, "an adjustment amount without its reason code")
            continue
        cents = _cents(cas, n + 1, f"the amount for reason {reason}")
        found.append(Adjustment(group, reason, cents, cas.element(n + 2)))
    if not found:
        raise element_error(cas, 2, "a CAS without any reason code")
    return tuple(found)


def _taken(segments: list[Segment]) -> Iterator[Segment]:
    """``segments`` in order, each removed from the list as it is given: a 20,000-claim file's
    200,000 segments are freed as their claims are read rather than all at the end, so they
    and the claims read from them are not all held at once."""
    segments.reverse()
    take = segments.pop
    while segments:
        yield take()


def _remember(made: dict[tuple[Element, ...], V], segment: Segment, make: Callable[[Segment], V]) -> V:
    """``make(segment)``, kept in ``made`` under the segment's elements: the parts of a claim
    that are a pure function of their segment's elements are read once per file and shared
    (each is immutable and never empty, so a reader tries ``made.get(...) or _remember(...)``)."""
    value = made[segment.elements] = make(segment)
    return value


def _dated(dtm: Segment) -> tuple[str, datetime.date]:
    """DTM: (qualifier, date)."""
    return (_required(dtm, 1, "the date qualifier"), _day(dtm, 2, "the date"))


def _amount_pair(amt: Segment) -> tuple[str, int]:
    """AMT: (qualifier, cents)."""
    qualifier = _required(amt, 1, "the amount qualifier")
    return (qualifier, _cents(amt, 2, f"the AMT*{qualifier} amount"))


_Service = tuple[Procedure, int, int, str, str, Procedure | None, str]


def _service(svc: Segment) -> _Service:
    """SVC: the procedure, charge, payment, revenue code, units, original procedure and units."""
    return (
        _procedure(svc, 1),
        _cents(svc, 2, "the line charge"),
        _cents(svc, 3, "the line payment"),
        svc.element(4),
        svc.element(5),
        _procedure(svc, 6) if svc.composite(6) else None,
        svc.element(7),
    )


def _contact(per: Segment) -> Contact:
    numbers = tuple(
        (per.element(n), per.element(n + 1)) for n in (3, 5, 7) if per.element(n) or per.element(n + 1)
    )
    return Contact(_required(per, 1, "the contact function"), per.element(2), numbers)


def _plb(plb: Segment) -> list[ProviderAdjustment]:
    provider = _required(plb, 1, "the provider id")
    period = _day(plb, 2, "the fiscal period date")
    found = []
    for n in range(3, max(len(plb.elements), 3) + 1, 2):
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

    def __init__(self, transaction: Transaction, *, owned: bool = False) -> None:
        self.transaction = transaction
        self.owned = owned
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
        # What a segment's elements make does not depend on where it stands, and an 835 repeats
        # itself (the same amounts, adjustments, dates and procedures claim after claim): each
        # value is read once per file and the (immutable) result shared.
        self.cents: dict[str, int] = {}
        self.dates: dict[tuple[Element, ...], tuple[str, datetime.date]] = {}
        self.adjustments: dict[tuple[Element, ...], tuple[Adjustment, ...]] = {}
        self.names: dict[tuple[Element, ...], Party] = {}
        self.amounts: dict[tuple[Element, ...], tuple[str, int]] = {}
        self.services: dict[tuple[Element, ...], _Service] = {}

    def _handlers(self) -> dict[str, Callable[[Segment], None]]:
        """Each segment id's handler (made per read, not kept: bound methods held by the reader
        would make a reference cycle, keeping every segment alive until a collection)."""
        return {
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
        handlers = self._handlers()
        for segment in _taken(segments) if self.owned else segments:
            handler = handlers.get(segment.id)
            if handler is None:
                raise self._unexpected(segment)
            handler(segment)
        self._close_group()
        return self._remittance()

    def _amount_in(self, segment: Segment, n: int, text: str) -> int | None:
        """Element ``n`` (its ``text``) as :func:`_amount` reads it, read once per distinct text."""
        cents = self.cents.get(text)
        if cents is None:
            cents = _amount(segment, n)
            if cents is not None:
                self.cents[text] = cents
        return cents

    def _cents_in(self, segment: Segment, n: int, text: str, what: str) -> int:
        """Element ``n`` (its ``text``) as :func:`_cents` reads it, read once per distinct text."""
        cents = self.cents.get(text)
        if cents is None:
            cents = self.cents[text] = _cents(segment, n, what)
        return cents

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
        qualifier, value = _first(ref, 2)
        if not qualifier:
            raise element_error(ref, 1, "the reference qualifier is required")
        pair = (qualifier, value)
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
        pair = self.dates.get(dtm.elements) or _remember(self.dates, dtm, _dated)
        qualifier = pair[0]
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
        (
            patient,
            status,
            charge,
            paid,
            responsibility,
            filing,
            payer_number,
            facility,
            frequency,
            _,
            drg,
            weight,
            fraction,
        ) = _first(clp, 13)
        if not patient:
            raise element_error(clp, 1, "the patient control number is required")
        if not status:
            raise element_error(clp, 2, "the claim status code is required")
        claim = _CLAIM_DRAFT.copy()  # every field in order, at its default
        claim["patient_control_number"] = patient
        claim["status"] = status
        claim["charge_cents"] = self._cents_in(clp, 3, charge, "the claim charge")
        claim["paid_cents"] = self._cents_in(clp, 4, paid, "the claim payment")
        claim["patient_responsibility_cents"] = self._amount_in(clp, 5, responsibility)
        claim["filing_indicator"] = filing
        claim["payer_claim_control_number"] = payer_number
        claim["facility_code"] = facility
        claim["frequency"] = frequency
        claim["drg_code"] = drg
        claim["drg_weight"] = weight
        claim["discharge_fraction"] = fraction
        for name in _CLAIM_LISTS:
            claim[name] = []
        claim["position"] = clp.position
        self.claim = claim

    def _close_line(self) -> None:
        line, self.line = self.line, None
        if line is not None:
            assert self.claim is not None
            self.claim["lines"].append(_build(ServicePayment, line, _LINE_LISTS))

    def _close_claim(self) -> None:
        self._close_line()
        claim, self.claim = self.claim, None
        if claim is not None:
            assert self.group is not None
            self.group["claims"].append(_build(ClaimPayment, claim, _CLAIM_LISTS))

    def _cas(self, cas: Segment) -> None:
        target = self.line if self.line is not None else self.claim
        if target is None or self.plb:
            raise self._unexpected(cas)
        target["adjustments"].extend(
            self.adjustments.get(cas.elements) or _remember(self.adjustments, cas, _adjustments)
        )

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
        if claim[name] is not None:
            raise element_error(nm1, 1, f"a second NM1*{nm1.element(1)} in the claim")
        claim[name] = self.names.get(nm1.elements) or _remember(self.names, nm1, Party.read)

    def _mia(self, mia: Segment) -> None:
        self._claim_only(mia)["inpatient"] = _texts(mia)

    def _moa(self, moa: Segment) -> None:
        self._claim_only(moa)["outpatient"] = OutpatientAdjudication(
            reimbursement_rate=moa.element(1),
            payable_cents=_amount(moa, 2),
            remarks=tuple(moa.element(n) for n in range(3, 8) if moa.element(n)),
            esrd_cents=_amount(moa, 8),
            nonpayable_professional_cents=_amount(moa, 9),
        )

    def _amt(self, amt: Segment) -> None:
        target = self.line if self.line is not None else self.claim
        if target is None or self.plb:
            raise self._unexpected(amt)
        target["amounts"].append(self.amounts.get(amt.elements) or _remember(self.amounts, amt, _amount_pair))

    def _qty(self, qty: Segment) -> None:
        target = self.line if self.line is not None else self.claim
        if target is None or self.plb:
            raise self._unexpected(qty)
        target["quantities"].append((_required(qty, 1, "the quantity qualifier"), qty.element(2)))

    def _svc(self, svc: Segment) -> None:
        if self.claim is None or self.plb:
            raise self._unexpected(svc, "a service line (SVC) outside a claim")
        self._close_line()
        service = self.services.get(svc.elements) or _remember(self.services, svc, _service)
        procedure, charge, paid, revenue_code, units, original, original_units = service
        self.line = {
            "procedure": procedure,
            "charge_cents": charge,
            "paid_cents": paid,
            "revenue_code": revenue_code,
            "units": units,
            "original_procedure": original,
            "original_units": original_units,
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


# ----------------------------------------------------------------------------- building the models
#
# A claim's draft is a dict of every ClaimPayment field, in field order (a line's likewise),
# whose lists become tuples when it closes. A frozen dataclass's __init__ sets each of its 29
# fields through object.__setattr__, which makes building the claims and lines of a large file
# a quarter of its reading; a draft that already holds every field is put in place as the
# instance's attributes instead -- the same object __init__ would make (equal, same repr, same
# attributes in the same order). Only for plain frozen dataclasses: one with a __post_init__,
# slots or a default factory is built by its __init__.

_CLAIM_LISTS = ("adjustments", "references", "dates", "contacts", "amounts", "quantities", "lines")
_LINE_LISTS = ("dates", "adjustments", "references", "amounts", "quantities", "remarks")


def _placed_without_init(kind: type) -> bool:
    """Whether ``kind``'s __init__ does nothing but set each field: then a draft holding every
    field can be placed as the instance's attributes."""
    params = getattr(kind, "__dataclass_params__", None)
    return (
        params is not None
        and params.frozen
        and params.init
        and not hasattr(kind, "__post_init__")
        and "__slots__" not in vars(kind)
        and all(f.default_factory is MISSING and f.init for f in fields(kind))
    )


def _draft(kind: type) -> dict[str, Any]:
    """Every field of ``kind`` in order, at its default (None for the ones without)."""
    return {f.name: None if f.default is MISSING else f.default for f in fields(kind)}


_CLAIM_DRAFT = _draft(ClaimPayment)
_PLACED = frozenset(kind for kind in (ClaimPayment, ServicePayment) if _placed_without_init(kind))
_new = object.__new__


def _build(kind: type[T], draft: dict[str, Any], lists: tuple[str, ...]) -> T:
    """A frozen claim or line from its draft (every field, in field order): lists become tuples."""
    for name in lists:
        draft[name] = tuple(draft[name])
    if kind in _PLACED:
        made = _new(kind)
        made.__dict__.update(draft)
        return made
    return kind(**draft)
