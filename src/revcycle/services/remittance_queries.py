"""Reading 835 remittances for the pages and the API: the list of payments, one payment's
posting report, and the exception queue.

What posted and what waits is written by :mod:`revcycle.services.remittance_posting`; this
module only reads it back, in the words a billing specialist uses:

* :func:`list_remittances`: every payment newest first (paid date, payer, trace, method,
  amount, claims, how many posted and how many wait), filtered by status or payer, with the
  totals of everything the filter matches (not just the page);
* :func:`remittance_detail`: the posting report of one payment: each claim payment with what
  posted (paid, contractual, the patient's share by reason, other) and what was denied (CARC
  and remark codes explained by :mod:`revcycle.domain.adjustment_reasons`), the exceptions it
  raised with their suggestions, its provider-level (PLB) amounts and the money still
  unapplied;
* :func:`exception_queue`: the open posting exceptions grouped by type, each with what can be
  done about it (post to a suggested claim, apply a recoupment, acknowledge).

Everything needs ``post_payments`` (billing and administrators): a remittance is a whole
payment, not one client's record, so there is no "own" reading of it. An id from another
practice answers NotFound. The one write here is :func:`set_era_posting`, the practice's
choice between posting 835s at once and reviewing them first (audited).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain import adjustment_reasons
from revcycle.domain.adjustment_reasons import Disposition
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import audit, codesets
from revcycle.services import remittance_posting as rp
from revcycle.services.actor import Actor
from revcycle.services.scoping import DEFAULT_LIMIT, clamp_limit, practice_scopes, require_row_access
from revcycle.services.x12_ingest import remittances_of
from revcycle.x12.codes import CLAIM_STATUSES, describe

__all__ = [
    "ERA_POSTING_MODES",
    "EXCEPTION_KIND",
    "STATUSES",
    "AdjustmentView",
    "ClaimPaymentView",
    "ExceptionGroup",
    "ExceptionQueue",
    "ExceptionView",
    "ProviderAdjustmentView",
    "RemittanceDetail",
    "RemittanceList",
    "RemittanceRow",
    "RemittanceTotals",
    "SuggestionView",
    "claim_id_by_number",
    "era_posting_mode",
    "exception_queue",
    "list_remittances",
    "remittance_detail",
    "set_era_posting",
]

PERMISSION = Permission.POST_PAYMENTS
EXCEPTION_KIND = "exception"
# A remittance's status (remittance_posting): every claim posted, some waiting in the queue,
# held for review before anything posts, or read and not yet posted.
STATUSES = ("posted", "exceptions", "review", "received")
ERA_POSTING_MODES = {
    "auto": "Automatic: post each 835 as it arrives",
    "review": "Review before posting: hold each 835 until someone approves it",
}
# Waiting: a claim payment held for review, or not posted with an open exception on it (an
# informational exception on a posted claim, crossover or interest, does not make it wait).
# PLB03-1: why the payer adjusted the payment as a whole (the common ones, in our words).
PLB_REASONS = {
    "L6": "Interest owed on late payment",
    "WO": "Overpayment recovery (withheld from this payment)",
    "FB": "Forwarding balance (carried from or to another payment)",
    "72": "Authorized return (money the practice sent back)",
    "J1": "Nonreimbursable amount",
    "B2": "Rebate",
    "CS": "Adjustment",
    "CW": "Client-specific withholding",
    "50": "Late filing reduction",
    "90": "Early payment allowance",
    "AP": "Acceleration of benefits",
    "IR": "IRS withholding",
    "LE": "Levy",
    "WU": "Unspecified recovery",
}
_SUGGESTED_ACTIONS_NOT_POSTABLE = (rp.REVERSAL_WITHOUT_ORIGINAL, rp.DUPLICATE_TRACE)
# PLB03-1 codes remittance_posting treats as a recoupment (its private _RECOUPMENT_REASONS).
_RECOUPMENT_REASONS = frozenset({"WO", "FB", "72", "J1", "B2", "CW"})


# --- what the pages show ---------------------------------------------------------------------


@dataclass(frozen=True)
class RemittanceRow:
    """One payment (835 transaction set) in the list."""

    id: int
    practice_id: int
    paid_on: date | None
    payer_id: int | None
    payer_name: str
    trace_number: str
    method: str
    amount_cents: int
    status: str
    posting_mode: str
    inbound_file_id: int
    created_at: datetime
    claim_count: int = 0
    posted_count: int = 0
    waiting_count: int = 0
    open_exceptions: int = 0


@dataclass(frozen=True)
class RemittanceTotals:
    count: int = 0
    amount_cents: int = 0
    claim_count: int = 0
    posted_count: int = 0
    waiting_count: int = 0


@dataclass(frozen=True)
class RemittanceList:
    items: list[RemittanceRow]
    total: int
    totals: RemittanceTotals
    payers: list[str] = field(default_factory=list)  # the payer names to filter by


@dataclass(frozen=True)
class AdjustmentView:
    """One CAS amount of a claim payment and what it did."""

    line_number: int | None  # None: claim level
    group: str
    reason: str
    amount_cents: int
    disposition: str  # contractual | patient | denial | other
    patient_reason: str  # deductible | coinsurance | copay | non_covered | paid_to_patient | ""
    explanation: str
    remarks: tuple[tuple[str, str], ...] = ()  # (RARC, explanation)
    official: str = ""  # the loaded official CARC list's text, when one is loaded


@dataclass(frozen=True)
class ClaimPaymentView:
    """One CLP of a payment: what the payer said, the claim it matched, what posted."""

    id: int
    position: int
    patient_control_number: str
    status_code: str
    status_meaning: str
    state: str  # posted | exception | review | skipped | received
    match_method: str
    patient: str  # the client's name when matched, else the name on the 835
    service_on: date | None
    billed_cents: int
    paid_cents: int
    contractual_cents: int
    other_cents: int
    patient_cents: int
    patient_by_reason: dict[str, int]
    denied_cents: int
    denials: list[AdjustmentView]
    adjustments: list[AdjustmentView]
    claim_id: int | None = None
    claim_number: str = ""
    claim_status: str = ""
    client_id: int | None = None
    payer_claim_control_number: str = ""


@dataclass(frozen=True)
class SuggestionView:
    claim_id: int
    number: str
    score: int
    client_id: int | None = None
    client_name: str = ""
    service_on: date | None = None
    billed_cents: int = 0
    status: str = ""


@dataclass(frozen=True)
class ExceptionView:
    """One posting exception and the one-click resolutions it allows."""

    id: int
    practice_id: int
    rule: str
    type_label: str
    severity: str
    status: str
    title: str
    detail: str
    resolution: str
    created_at: datetime
    remittance_id: int | None
    trace_number: str = ""
    payer_name: str = ""
    paid_on: date | None = None
    remittance_claim_id: int | None = None
    patient_control_number: str = ""
    patient: str = ""
    service_on: date | None = None
    charge_cents: int = 0
    paid_cents: int = 0
    claim_id: int | None = None  # the claim it matched (a line mismatch, a duplicate payment ...)
    claim_number: str = ""
    client_id: int | None = None
    suggestions: list[SuggestionView] = field(default_factory=list)
    actions: tuple[str, ...] = ("acknowledge",)  # remittance_posting.RESOLUTIONS it allows
    recoupment_reference: str = ""
    recoupment_cents: int = 0


@dataclass(frozen=True)
class ExceptionGroup:
    rule: str
    label: str
    count: int
    items: list[ExceptionView]


@dataclass(frozen=True)
class ExceptionQueue:
    groups: list[ExceptionGroup]
    total: int
    counts: dict[str, int]  # rule -> open count, every type (before the type filter)

    @property
    def items(self) -> list[ExceptionView]:
        return [item for group in self.groups for item in group.items]

    @property
    def client_ids(self) -> set[int]:
        shown = {item.client_id for item in self.items if item.client_id}
        return shown | _suggested_clients(self.items)


@dataclass(frozen=True)
class ProviderAdjustmentView:
    reason_code: str
    meaning: str
    reference: str
    amount_cents: int  # positive: withheld from the payment; negative: added (interest)


@dataclass(frozen=True)
class RemittanceDetail:
    row: RemittanceRow
    payee_npi: str
    payee_tax_id: str
    posted_at: datetime | None
    filename: str
    claims: list[ClaimPaymentView]
    exceptions: list[ExceptionView]
    provider_adjustments: list[ProviderAdjustmentView]
    unapplied_cents: int  # money of this payment still waiting in unapplied
    summary: dict[str, Any]

    @property
    def client_ids(self) -> set[int]:
        shown = {claim.client_id for claim in self.claims if claim.client_id}
        shown |= {item.client_id for item in self.exceptions if item.client_id}
        return shown | _suggested_clients(self.exceptions)

    def total(self, name: str) -> int:
        """The sum of one amount (``paid_cents``, ``contractual_cents`` ...) over the claims."""
        return sum(int(getattr(claim, name)) for claim in self.claims)


def _suggested_clients(items: Iterable[ExceptionView]) -> set[int]:
    return {s.client_id for item in items for s in item.suggestions if s.client_id}


# --- the list --------------------------------------------------------------------------------


def list_remittances(
    db: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    status: str = "",
    payer: str = "",
    inbound_file_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> RemittanceList:
    """Payments newest first (paid date, then arrival), with the totals of all that match."""
    if status and status not in STATUSES:
        raise InvalidInput(f"status: {status!r} is not one of {', '.join(STATUSES)}")
    practices = sorted(practice_scopes(actor, PERMISSION, practice_id))
    where: list[ColumnElement[bool]] = [m.Remittance.practice_id.in_(practices)]
    if status:
        where.append(m.Remittance.status == status)
    if payer:
        where.append(m.Remittance.payer_name == payer)
    if inbound_file_id is not None:
        where.append(m.Remittance.inbound_file_id == inbound_file_id)
    count, amount = db.execute(
        select(func.count(), func.coalesce(func.sum(m.Remittance.amount_cents), 0)).where(*where)
    ).one()
    rows = db.scalars(
        select(m.Remittance)
        .where(*where)
        .order_by(m.Remittance.paid_on.desc().nulls_last(), m.Remittance.id.desc())
        .limit(clamp_limit(limit))
        .offset(max(offset, 0))
    ).all()
    matching = select(m.Remittance.id).where(*where).scalar_subquery()
    claims, posted, waiting = _claim_totals(db, m.RemittanceClaim.remittance_id.in_(matching))
    totals = RemittanceTotals(int(count), int(amount), claims, posted, waiting)
    payers = db.scalars(
        select(m.Remittance.payer_name)
        .where(m.Remittance.practice_id.in_(practices))
        .distinct()
        .order_by(m.Remittance.payer_name)
    ).all()
    return RemittanceList(_rows(db, rows), int(count), totals, list(payers))


def _claim_totals(db: Session, condition: ColumnElement[bool]) -> tuple[int, int, int]:
    rc = m.RemittanceClaim
    claims, posted, review = db.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((rc.state == "posted", 1), else_=0)), 0),
            func.coalesce(func.sum(case((rc.state == "review", 1), else_=0)), 0),
        ).where(condition)
    ).one()
    open_claims = db.scalar(
        select(func.count(func.distinct(m.WorkItem.remittance_claim_id)))
        .join(rc, rc.id == m.WorkItem.remittance_claim_id)
        .where(condition, rc.state == "exception", *_open_exception())
    )
    return int(claims), int(posted), int(review) + int(open_claims or 0)


def _open_exception() -> tuple[ColumnElement[bool], ...]:
    return (m.WorkItem.kind == EXCEPTION_KIND, m.WorkItem.status != "resolved")


def _rows(db: Session, remittances: Sequence[m.Remittance]) -> list[RemittanceRow]:
    """Rows with their claim counts, read for the whole page at once."""
    ids = [row.id for row in remittances]
    if not ids:
        return []
    rc = m.RemittanceClaim
    counts = {
        remittance_id: (int(total), int(posted or 0), int(review or 0))
        for remittance_id, total, posted, review in db.execute(
            select(
                rc.remittance_id,
                func.count(),
                func.sum(case((rc.state == "posted", 1), else_=0)),
                func.sum(case((rc.state == "review", 1), else_=0)),
            )
            .where(rc.remittance_id.in_(ids))
            .group_by(rc.remittance_id)
        )
    }
    waiting_claims = dict(
        db.execute(
            select(m.WorkItem.remittance_id, func.count(func.distinct(m.WorkItem.remittance_claim_id)))
            .join(rc, rc.id == m.WorkItem.remittance_claim_id)
            .where(m.WorkItem.remittance_id.in_(ids), rc.state == "exception", *_open_exception())
            .group_by(m.WorkItem.remittance_id)
        ).all()
    )
    open_items = dict(
        db.execute(
            select(m.WorkItem.remittance_id, func.count())
            .where(m.WorkItem.remittance_id.in_(ids), *_open_exception())
            .group_by(m.WorkItem.remittance_id)
        ).all()
    )
    out = []
    for row in remittances:
        total, posted, review = counts.get(row.id, (0, 0, 0))
        out.append(
            _row(
                row,
                claim_count=total,
                posted_count=posted,
                waiting_count=review + int(waiting_claims.get(row.id, 0)),
                open_exceptions=int(open_items.get(row.id, 0)),
            )
        )
    return out


def _row(row: m.Remittance, **counts: int) -> RemittanceRow:
    return RemittanceRow(
        id=row.id,
        practice_id=row.practice_id,
        paid_on=row.paid_on,
        payer_id=row.payer_id,
        payer_name=row.payer_name,
        trace_number=row.trace_number,
        method=row.method,
        amount_cents=row.amount_cents,
        status=row.status,
        posting_mode=row.posting_mode,
        inbound_file_id=row.inbound_file_id,
        created_at=row.created_at,
        **counts,
    )


# --- one payment's posting report --------------------------------------------------------------


def get_remittance(db: Session, *, actor: Actor, remittance_id: int) -> m.Remittance:
    """One remittance the actor may read (NotFound for another practice's)."""
    row = db.get(m.Remittance, remittance_id)
    if row is None:
        raise NotFound(f"remittance {remittance_id} not found")
    require_row_access(actor, row.practice_id, PERMISSION)
    return row


def remittance_detail(db: Session, *, actor: Actor, remittance_id: int) -> RemittanceDetail:
    """The posting report: what posted, what waits, the PLB amounts, what is unapplied."""
    row = get_remittance(db, actor=actor, remittance_id=remittance_id)
    (listed,) = _rows(db, [row])
    inbound = db.get(m.X12InboundFile, row.inbound_file_id)
    stored = db.get(m.StoredFile, inbound.stored_file_id) if inbound is not None else None
    claim_rows = list(
        db.scalars(
            select(m.RemittanceClaim)
            .where(m.RemittanceClaim.remittance_id == row.id)
            .order_by(m.RemittanceClaim.position)
        )
    )
    items = list(
        db.scalars(
            select(m.WorkItem)
            .where(m.WorkItem.remittance_id == row.id, m.WorkItem.kind == EXCEPTION_KIND)
            .order_by(m.WorkItem.id)
        )
    )
    unapplied = 0
    if row.payment_id is not None:
        unapplied = -int(
            db.scalar(
                select(func.coalesce(func.sum(m.Posting.amount_cents), 0)).where(
                    m.Posting.practice_id == row.practice_id,
                    m.Posting.payment_id == row.payment_id,
                    m.Posting.account == "unapplied",
                )
            )
            or 0
        )
    return RemittanceDetail(
        row=listed,
        payee_npi=row.payee_npi,
        payee_tax_id=row.payee_tax_id,
        posted_at=row.posted_at,
        filename=stored.filename if stored is not None else "",
        claims=_claim_views(db, claim_rows),
        exceptions=_exception_views(db, items),
        provider_adjustments=_provider_adjustments(db, row, stored),
        unapplied_cents=unapplied,
        summary=dict(row.summary or {}),
    )


def remittance_file(db: Session, *, actor: Actor, remittance_id: int) -> tuple[str, bytes, set[int]]:
    """The raw 835 file a payment came in (name, bytes, the clients it names, for the audit)."""
    row = get_remittance(db, actor=actor, remittance_id=remittance_id)
    inbound = db.get(m.X12InboundFile, row.inbound_file_id)
    stored = db.get(m.StoredFile, inbound.stored_file_id) if inbound is not None else None
    if stored is None:
        raise NotFound(f"remittance {row.id} has no stored file")
    clients = set(
        db.scalars(
            select(m.Claim.client_id)
            .join(m.RemittanceClaim, m.RemittanceClaim.claim_id == m.Claim.id)
            .join(m.Remittance, m.Remittance.id == m.RemittanceClaim.remittance_id)
            .where(m.Remittance.inbound_file_id == row.inbound_file_id)
        )
    )
    return stored.filename, stored.content, clients


def _claim_views(db: Session, rows: Sequence[m.RemittanceClaim]) -> list[ClaimPaymentView]:
    claims = _claims(db, {rc.claim_id for rc in rows if rc.claim_id})
    names = _client_names(db, {claim.client_id for claim in claims.values()})
    adjustments: dict[int, list[m.RemittanceAdjustment]] = defaultdict(list)
    if rows:
        for adjustment in db.scalars(
            select(m.RemittanceAdjustment)
            .where(m.RemittanceAdjustment.remittance_claim_id.in_([rc.id for rc in rows]))
            .order_by(m.RemittanceAdjustment.id)
        ):
            adjustments[adjustment.remittance_claim_id].append(adjustment)
    every = [a for found in adjustments.values() for a in found]
    official = _OfficialText(
        codesets.official_descriptions(db, "carc", (a.reason_code for a in every)),
        codesets.official_descriptions(db, "rarc", (c for a in every for c in (a.remarks or "").split(","))),
    )
    return [_claim_view(rc, claims.get(rc.claim_id or 0), names, adjustments[rc.id], official) for rc in rows]


@dataclass(frozen=True)
class _OfficialText:
    """The official CARC and RARC lists' descriptions of the codes in view (when loaded)."""

    carc: Mapping[str, str]
    rarc: Mapping[str, str]


def _claim_view(
    rc: m.RemittanceClaim,
    claim: m.Claim | None,
    names: dict[int, str],
    rows: Sequence[m.RemittanceAdjustment],
    official: _OfficialText,
) -> ClaimPaymentView:
    details = rc.details or {}
    lines = details.get("lines") or []
    views = [_adjustment_view(a, _line_paid(rc, lines, a.line_number), official) for a in rows]
    by_reason: dict[str, int] = defaultdict(int)
    for view in views:
        if view.disposition == Disposition.PATIENT:
            by_reason[view.patient_reason] += view.amount_cents
    denials = [view for view in views if view.disposition == Disposition.DENIAL]
    return ClaimPaymentView(
        id=rc.id,
        position=rc.position,
        patient_control_number=rc.patient_control_number,
        status_code=rc.status_code,
        status_meaning=describe(CLAIM_STATUSES, rc.status_code),
        state=rc.state,
        match_method=rc.match_method,
        patient=names.get(claim.client_id, "") if claim is not None else _patient_on_835(details),
        service_on=claim.service_from_on if claim is not None else _service_on(details),
        billed_cents=rc.charge_cents,
        paid_cents=rc.paid_cents,
        contractual_cents=_sum(views, Disposition.CONTRACTUAL),
        other_cents=_sum(views, Disposition.OTHER),
        patient_cents=_sum(views, Disposition.PATIENT),
        patient_by_reason=dict(by_reason),
        denied_cents=_sum(views, Disposition.DENIAL),
        denials=denials,
        adjustments=views,
        claim_id=claim.id if claim is not None else None,
        claim_number=claim.number if claim is not None else "",
        claim_status=claim.status if claim is not None else "",
        client_id=claim.client_id if claim is not None else None,
        payer_claim_control_number=rc.payer_claim_control_number,
    )


def _line_paid(rc: m.RemittanceClaim, lines: list[Any], line_number: int | None) -> int:
    """What the payer paid on the adjustment's line (the claim, for a claim-level one)."""
    if line_number is not None and 0 < line_number <= len(lines):
        return int(lines[line_number - 1].get("paid_cents") or 0)
    return rc.paid_cents


def _adjustment_view(
    row: m.RemittanceAdjustment, line_paid_cents: int, official: _OfficialText
) -> AdjustmentView:
    found = adjustment_reasons.classify(row.group_code, row.reason_code, line_paid_cents=line_paid_cents)
    remarks = tuple(_remark(code, official) for code in (row.remarks or "").split(",") if code)
    return AdjustmentView(
        line_number=row.line_number,
        group=row.group_code,
        reason=row.reason_code,
        amount_cents=row.amount_cents,
        disposition=str(found.disposition),
        patient_reason=str(found.patient_reason) if found.patient_reason else "",
        explanation=found.reason.explanation,
        remarks=remarks,
        official=official.carc.get(found.carc, ""),
    )


def _remark(code: str, official: _OfficialText) -> tuple[str, str]:
    """Our explanation of a remark code; for one we do not explain, the official list's text."""
    info = adjustment_reasons.remark_info(code)
    if not info.known and info.code in official.rarc:
        return code, official.rarc[info.code]
    return code, info.explanation


def _sum(views: Iterable[AdjustmentView], disposition: Disposition) -> int:
    return sum(view.amount_cents for view in views if view.disposition == disposition)


def _patient_on_835(details: dict[str, Any]) -> str:
    patient = details.get("patient") or {}
    last, first = str(patient.get("last") or ""), str(patient.get("first") or "")
    return f"{last}, {first}" if last and first else last or first


def _service_on(details: dict[str, Any]) -> date | None:
    days = [line.get("service_on") for line in details.get("lines") or [] if line.get("service_on")]
    text = details.get("from") or (min(days) if days else None)
    return date.fromisoformat(text) if text else None


def _provider_adjustments(
    db: Session, row: m.Remittance, stored: m.StoredFile | None
) -> list[ProviderAdjustmentView]:
    """The PLB amounts posted; a payment held for review shows them from its file (they are
    recorded when it posts)."""
    rows = list(
        db.scalars(
            select(m.ProviderAdjustment)
            .where(m.ProviderAdjustment.remittance_id == row.id)
            .order_by(m.ProviderAdjustment.id)
        )
    )
    if rows or stored is None or row.status != "review":
        return [_plb_view(r.reason_code, r.reference, r.amount_cents) for r in rows]
    for remittance, digest in remittances_of(stored.filename, stored.content):
        if digest == row.content_sha256:
            return [
                _plb_view(plb.reason, plb.reference, plb.amount_cents)
                for plb in remittance.provider_adjustments
            ]
    return []


def _plb_view(reason: str, reference: str, cents: int) -> ProviderAdjustmentView:
    meaning = PLB_REASONS.get(reason, f"Provider-level adjustment {reason}")
    return ProviderAdjustmentView(reason, meaning, reference, cents)


# --- the exception queue -------------------------------------------------------------------------


def exception_queue(
    db: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    rule: str = "",
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> ExceptionQueue:
    """Open posting exceptions, grouped by type (the order of ``EXCEPTION_TYPES``), oldest
    first in each; ``rule`` narrows to one type, ``limit``/``offset`` page through them."""
    if rule and rule not in rp.EXCEPTION_TYPES:
        raise InvalidInput(f"type: {rule!r} is not one of {', '.join(rp.EXCEPTION_TYPES)}")
    practices = sorted(practice_scopes(actor, PERMISSION, practice_id))
    where = [m.WorkItem.practice_id.in_(practices), *_open_exception()]
    counts = dict(
        db.execute(select(m.WorkItem.rule, func.count()).where(*where).group_by(m.WorkItem.rule)).all()
    )
    if rule:
        where.append(m.WorkItem.rule == rule)
    order = case({name: index for index, name in enumerate(rp.EXCEPTION_TYPES)}, value=m.WorkItem.rule)
    items = list(
        db.scalars(
            select(m.WorkItem)
            .where(*where)
            .order_by(order, m.WorkItem.id)
            .limit(clamp_limit(limit))
            .offset(max(offset, 0))
        )
    )
    views = _exception_views(db, items)
    groups = []
    for name, label in rp.EXCEPTION_TYPES.items():
        shown = [view for view in views if view.rule == name]
        if shown:
            groups.append(ExceptionGroup(name, label, int(counts.get(name, 0)), shown))
    total = sum(int(n) for r, n in counts.items() if not rule or r == rule)
    return ExceptionQueue(groups, total, {str(r): int(n) for r, n in counts.items()})


def get_exception(db: Session, *, actor: Actor, work_item_id: int) -> ExceptionView:
    """One posting exception (open or resolved) as the queue shows it."""
    item = db.get(m.WorkItem, work_item_id)
    if item is None or item.kind != EXCEPTION_KIND:
        raise NotFound(f"posting exception {work_item_id} not found")
    require_row_access(actor, item.practice_id, PERMISSION)
    (view,) = _exception_views(db, [item])
    return view


def _exception_views(db: Session, items: Sequence[m.WorkItem]) -> list[ExceptionView]:
    if not items:
        return []
    remittances = {
        row.id: row
        for row in db.scalars(
            select(m.Remittance).where(
                m.Remittance.id.in_({i.remittance_id for i in items if i.remittance_id})
            )
        )
    }
    claim_rows = {
        row.id: row
        for row in db.scalars(
            select(m.RemittanceClaim).where(
                m.RemittanceClaim.id.in_({i.remittance_claim_id for i in items if i.remittance_claim_id})
            )
        )
    }
    suggested: dict[int, list[dict[str, Any]]] = {
        rc_id: [s for s in (rc.details or {}).get("suggestions") or [] if isinstance(s, dict)]
        for rc_id, rc in claim_rows.items()
    }
    wanted = {int(s["claim_id"]) for found in suggested.values() for s in found if "claim_id" in s}
    wanted |= {i.claim_id for i in items if i.claim_id}
    wanted |= {rc.claim_id for rc in claim_rows.values() if rc.claim_id}
    claims = _claims(db, wanted)
    names = _client_names(db, {claim.client_id for claim in claims.values()})
    recoupments = _recoupments(db, [i for i in items if i.rule == rp.RECOUPMENT])
    views = []
    for item in items:
        remittance = remittances.get(item.remittance_id or 0)
        rc = claim_rows.get(item.remittance_claim_id or 0)
        claim = claims.get(item.claim_id or (rc.claim_id if rc is not None else None) or 0)
        details = (rc.details or {}) if rc is not None else {}
        found = suggested.get(rc.id, []) if rc is not None else []
        suggestions = [
            _suggestion(s, claims.get(int(s["claim_id"])), names) for s in found if "claim_id" in s
        ]
        plb = recoupments.get(item.id)
        views.append(
            ExceptionView(
                id=item.id,
                practice_id=item.practice_id,
                rule=item.rule,
                type_label=rp.EXCEPTION_TYPES.get(item.rule, item.rule.replace("_", " ")),
                severity=item.severity,
                status=item.status,
                title=item.title,
                detail=item.detail,
                resolution=item.resolution,
                created_at=item.created_at,
                remittance_id=item.remittance_id,
                trace_number=remittance.trace_number if remittance is not None else "",
                payer_name=remittance.payer_name if remittance is not None else "",
                paid_on=remittance.paid_on if remittance is not None else None,
                remittance_claim_id=item.remittance_claim_id,
                patient_control_number=rc.patient_control_number if rc is not None else "",
                patient=names.get(claim.client_id, "") if claim is not None else _patient_on_835(details),
                service_on=_service_on(details) if rc is not None else None,
                charge_cents=rc.charge_cents if rc is not None else 0,
                paid_cents=rc.paid_cents if rc is not None else 0,
                claim_id=claim.id if claim is not None else None,
                claim_number=claim.number if claim is not None else "",
                client_id=claim.client_id if claim is not None else None,
                suggestions=suggestions,
                actions=_actions(item, rc),
                recoupment_reference=plb.reference if plb is not None else "",
                recoupment_cents=plb.amount_cents if plb is not None else 0,
            )
        )
    return views


def _actions(item: m.WorkItem, rc: m.RemittanceClaim | None) -> tuple[str, ...]:
    """The resolutions :func:`remittance_posting.resolve_exception` accepts for this item."""
    if item.status == "resolved":
        return ()
    if item.rule == rp.RECOUPMENT:
        return ("apply_recoupment", "acknowledge")
    if rc is not None and rc.state == "exception" and item.rule not in _SUGGESTED_ACTIONS_NOT_POSTABLE:
        return ("post_to_claim", "acknowledge")
    return ("acknowledge",)


def _suggestion(found: dict[str, Any], claim: m.Claim | None, names: dict[int, str]) -> SuggestionView:
    return SuggestionView(
        claim_id=int(found["claim_id"]),
        number=str(found.get("number") or (claim.number if claim is not None else "")),
        score=int(found.get("score") or 0),
        client_id=claim.client_id if claim is not None else None,
        client_name=names.get(claim.client_id, "") if claim is not None else "",
        service_on=claim.service_from_on if claim is not None else None,
        billed_cents=claim.billed_cents if claim is not None else 0,
        status=claim.status if claim is not None else "",
    )


def _recoupments(db: Session, items: Sequence[m.WorkItem]) -> dict[int, m.ProviderAdjustment]:
    """The PLB each recoupment exception is about (the payment's first recoupment PLB)."""
    ids = {item.remittance_id for item in items if item.remittance_id}
    if not ids:
        return {}
    first: dict[int, m.ProviderAdjustment] = {}
    for plb in db.scalars(
        select(m.ProviderAdjustment)
        .where(m.ProviderAdjustment.remittance_id.in_(ids))
        .order_by(m.ProviderAdjustment.id)
    ):
        if plb.reason_code in _RECOUPMENT_REASONS:
            first.setdefault(plb.remittance_id, plb)
    return {item.id: first[item.remittance_id] for item in items if item.remittance_id in first}


def _claims(db: Session, ids: set[int]) -> dict[int, m.Claim]:
    wanted = sorted(i for i in ids if i)
    if not wanted:
        return {}
    return {claim.id: claim for claim in db.scalars(select(m.Claim).where(m.Claim.id.in_(wanted)))}


def _client_names(db: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.execute(
        select(m.Client.id, m.Client.first_name, m.Client.last_name).where(m.Client.id.in_(sorted(ids)))
    )
    return {client_id: f"{first} {last}".strip() for client_id, first, last in rows}


def claim_id_by_number(db: Session, *, practice_id: int, number: str) -> int:
    """The claim a person typed (our claim number or the payer's), in one practice."""
    wanted = number.strip()
    if not wanted:
        raise InvalidInput("claim_number: type the claim number to post to")
    found = db.scalars(
        select(m.Claim.id)
        .where(m.Claim.practice_id == practice_id, m.Claim.number == wanted)
        .order_by(m.Claim.id)
    ).first()
    if found is None:
        found = db.scalars(
            select(m.Claim.id).where(
                m.Claim.practice_id == practice_id, m.Claim.payer_claim_control_number == wanted
            )
        ).first()
    if found is None:
        raise InvalidInput(f"claim_number: no claim {wanted!r} in this practice")
    return int(found)


# --- the practice's posting mode -----------------------------------------------------------------


def era_posting_mode(practice: m.Practice) -> str:
    return "review" if (practice.settings or {}).get("era_posting") == "review" else "auto"


def set_era_posting(db: Session, *, actor: Actor, practice_id: int, mode: str) -> m.Practice:
    """Post 835s automatically or hold each for review (``practice.settings["era_posting"]``);
    audited. Payments already received keep the mode they came in under."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    if mode not in ERA_POSTING_MODES:
        raise InvalidInput(f"era_posting: {mode!r} is not one of {', '.join(ERA_POSTING_MODES)}")
    practice = db.get(m.Practice, practice_id)
    if practice is None:
        raise NotFound("not found")
    before = era_posting_mode(practice)
    if before != mode:
        practice.settings = {**(practice.settings or {}), "era_posting": mode}
        audit.record(
            db,
            actor=actor,
            practice_id=practice_id,
            action="update",
            entity="practice",
            entity_id=practice_id,
            before={"era_posting": before},
            after={"era_posting": mode},
            reason="835 posting mode",
        )
        db.flush()
    return practice
