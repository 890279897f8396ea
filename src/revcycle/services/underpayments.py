"""The underpayment work list: service lines a payer allowed below its contract.

When an 835 posts, :mod:`revcycle.services.remittance_posting` compares each paid line's
allowed amount with what the payer's contract (or fee schedule) says for the procedure on the
date of service; a line short by more than the practice's tolerance raises a work item of kind
``underpayment``, one per remittance claim and line (its dedupe key names both). A later
reversal of that payment resolves it by itself: the correction is judged anew.

This module lists them for a person to decide and records the decision:

* :func:`list_underpayments`: open by default (or resolved, or all), optionally one payer's,
  oldest first, each with the allowed amount read back from the remittance rows (the line's
  payment plus the patient's share, CAS group PR), the expected amount priced again by
  :func:`revcycle.services.contracts.expected_allowed_many` and the difference; the totals
  cover everything the filter matches, not just the page. Nothing is read from the item's
  title; when a line cannot be found again (its remittance rows gone, a payer that changed
  the procedure) the amounts are ``None`` and the title and detail still say it;
* :func:`resolve_underpayment`: ``appealed`` (an appeal was sent to the payer) or
  ``accepted`` (the practice accepts the lower amount), with an optional note; audited, once
  (a resolved item answers Conflict).

Everything needs ``post_payments`` (billing and administrators); another practice's item
answers NotFound.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.domain.remittance_lines import BilledLine, PaidLine, match_lines
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import chunks, rows_by_id
from revcycle.services.contracts import ExpectedAmount, ExpectedLine, expected_allowed_many
from revcycle.services.scoping import DEFAULT_LIMIT, clamp_limit, practice_scopes
from revcycle.services.work_items import mark_resolved

__all__ = [
    "ACTIONS",
    "KIND",
    "STATUSES",
    "UnderpaymentList",
    "UnderpaymentTotals",
    "UnderpaymentView",
    "get_underpayment",
    "list_underpayments",
    "resolve_underpayment",
]

PERMISSION = Permission.POST_PAYMENTS
KIND = "underpayment"  # remittance_posting's work item kind for these alerts
# What a person decides about an underpayment, in the words the resolution keeps.
ACTIONS = {
    "appealed": "appealed: an appeal was sent to the payer",
    "accepted": "accepted: the practice accepts the lower amount",
}
STATUSES = ("open", "resolved", "all")
NOTE_MAX = 500
_PATIENT_GROUP = "PR"


@dataclass(frozen=True)
class UnderpaymentView:
    """One underpayment as the work list shows it; amounts are ``None`` when the line could
    not be found again in its remittance rows (the title and detail still say it)."""

    id: int
    practice_id: int
    status: str
    title: str
    detail: str
    resolution: str
    created_at: datetime
    resolved_at: datetime | None
    paid_on: date | None  # the payment's date (BPR16); the alert's own date otherwise
    payer_id: int | None
    payer_name: str
    remittance_id: int | None
    trace_number: str
    claim_id: int | None
    claim_number: str
    client_id: int | None
    patient: str
    line_number: int | None
    procedure_code: str
    modifiers: str
    service_on: date | None
    allowed_cents: int | None
    expected_cents: int | None
    expected_source: str  # "contract BRH-2026", "fee schedule Blue River 2026"
    actions: tuple[str, ...]

    @property
    def difference_cents(self) -> int | None:
        """How much less the payer allowed than expected (positive: underpaid)."""
        if self.allowed_cents is None or self.expected_cents is None:
            return None
        return self.expected_cents - self.allowed_cents

    @property
    def dated_on(self) -> date:
        """The date the list shows: the payment's, else the day the alert was raised."""
        return self.paid_on or self.created_at.date()


@dataclass(frozen=True)
class UnderpaymentTotals:
    """Over every item the filter matches; the amounts over those whose line was found."""

    count: int
    allowed_cents: int
    expected_cents: int
    difference_cents: int
    unpriced: int  # items whose amounts could not be read back


@dataclass(frozen=True)
class UnderpaymentList:
    items: list[UnderpaymentView]
    total: int
    totals: UnderpaymentTotals
    payers: list[tuple[int, str]]  # (id, name) of the payers with items of this status

    @property
    def client_ids(self) -> set[int]:
        return {item.client_id for item in self.items if item.client_id}


# --- the list ------------------------------------------------------------------------------------


def list_underpayments(
    db: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    status: str = "open",
    payer_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> UnderpaymentList:
    """Underpayments oldest first (``status`` open, resolved or all; ``payer_id`` the claim's
    payer), a page of them and the totals of all that match."""
    status = status or "open"
    if status not in STATUSES:
        raise InvalidInput(f"status: {status!r} is not one of {', '.join(STATUSES)}")
    practices = sorted(practice_scopes(actor, PERMISSION, practice_id))
    where = _where(practices, status)
    payers = _payers(db, where)
    if payer_id is not None:
        where.append(m.WorkItem.claim_id.in_(select(m.Claim.id).where(m.Claim.payer_id == payer_id)))
    # Every match is priced for the totals (a few queries, whatever the count); the page is
    # a slice of them.
    items = list(db.scalars(select(m.WorkItem).where(*where).order_by(m.WorkItem.id)))
    views = _views(db, items)
    totals = UnderpaymentTotals(
        count=len(views),
        allowed_cents=sum(v.allowed_cents or 0 for v in views if v.difference_cents is not None),
        expected_cents=sum(v.expected_cents or 0 for v in views if v.difference_cents is not None),
        difference_cents=sum(v.difference_cents or 0 for v in views),
        unpriced=sum(1 for v in views if v.difference_cents is None),
    )
    start = max(offset, 0)
    page = views[start : start + clamp_limit(limit)]
    return UnderpaymentList(page, len(views), totals, payers)


def _where(practices: list[int], status: str) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [m.WorkItem.practice_id.in_(practices), m.WorkItem.kind == KIND]
    if status == "open":
        where.append(m.WorkItem.status != "resolved")
    elif status == "resolved":
        where.append(m.WorkItem.status == "resolved")
    return where


def _payers(db: Session, where: list[ColumnElement[bool]]) -> list[tuple[int, str]]:
    rows = db.execute(
        select(m.Payer.id, m.Payer.name)
        .join(m.Claim, m.Claim.payer_id == m.Payer.id)
        .join(m.WorkItem, m.WorkItem.claim_id == m.Claim.id)
        .where(*where)
        .group_by(m.Payer.id, m.Payer.name)
        .order_by(func.lower(m.Payer.name))
    ).all()
    return [(int(pid), str(name)) for pid, name in rows]


def get_underpayment(db: Session, *, actor: Actor, work_item_id: int) -> UnderpaymentView:
    """One underpayment (open or resolved) as the list shows it."""
    item = _item(db, actor, work_item_id)
    (view,) = _views(db, [item])
    return view


def _item(db: Session, actor: Actor, work_item_id: int) -> m.WorkItem:
    item = db.get(m.WorkItem, work_item_id)
    if item is None or item.kind != KIND or not (actor.is_system or item.practice_id in actor.practice_ids):
        raise NotFound(f"underpayment {work_item_id} not found")
    actor.require(item.practice_id, PERMISSION)
    return item


# --- reading the amounts back --------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    """What the remittance rows say about one item's line."""

    line: m.ClaimLine | None
    allowed_cents: int | None


@dataclass(frozen=True)
class _Rows:
    """The rows the items point to, read once for all of them."""

    claims: dict[int, m.Claim]
    remittances: dict[int, m.Remittance]
    payer_names: dict[int, str]
    client_names: dict[int, str]


def _views(db: Session, items: Sequence[m.WorkItem]) -> list[UnderpaymentView]:
    if not items:
        return []
    claims = rows_by_id(db, m.Claim, {i.claim_id for i in items if i.claim_id})
    remittances = rows_by_id(db, m.Remittance, {i.remittance_id for i in items if i.remittance_id})
    claim_rows = rows_by_id(
        db, m.RemittanceClaim, {i.remittance_claim_id for i in items if i.remittance_claim_id}
    )
    lines = _claim_lines(db, {c.id for c in claims.values()})
    patient_share = _patient_share(db, set(claim_rows))
    found = {item.id: _found(item, claims, claim_rows, lines, patient_share) for item in items}
    priced = [
        (item.id, claims[item.claim_id], line)
        for item in items
        if item.claim_id in claims and (line := found[item.id].line) is not None
    ]
    expected = _expected(db, items, priced)
    by_item: dict[int, ExpectedAmount | None] = {
        item_id: amount for (item_id, _, _), amount in zip(priced, expected, strict=True)
    }
    rows = _Rows(
        claims,
        remittances,
        _payer_names(db, {c.payer_id for c in claims.values()}),
        _client_names(db, {c.client_id for c in claims.values()}),
    )
    return [_view(item, rows, found[item.id], by_item.get(item.id)) for item in items]


def _expected(
    db: Session, items: Sequence[m.WorkItem], priced: list[tuple[int, m.Claim, m.ClaimLine]]
) -> list[ExpectedAmount | None]:
    """The expected amount of each priced line, from its own practice's contracts and
    schedules (an actor in several practices lists them together)."""
    practice_of = {item.id: item.practice_id for item in items}
    by_practice: dict[int, list[int]] = defaultdict(list)
    for index, (item_id, _, _) in enumerate(priced):
        by_practice[practice_of[item_id]].append(index)
    out: list[ExpectedAmount | None] = [None] * len(priced)
    for pid, indexes in by_practice.items():
        lines = [
            ExpectedLine(claim.payer_id, line.procedure_code, line.modifiers, line.service_on, line.units)
            for _, claim, line in (priced[i] for i in indexes)
        ]
        for index, amount in zip(
            indexes, expected_allowed_many(db, practice_id=pid, lines=lines), strict=True
        ):
            out[index] = amount
    return out


def _claim_lines(db: Session, claim_ids: set[int]) -> dict[int, list[m.ClaimLine]]:
    out: dict[int, list[m.ClaimLine]] = defaultdict(list)
    for chunk in chunks(sorted(claim_ids)):
        for line in db.scalars(
            select(m.ClaimLine).where(m.ClaimLine.claim_id.in_(chunk)).order_by(m.ClaimLine.line_number)
        ):
            out[line.claim_id].append(line)
    return out


def _patient_share(db: Session, claim_row_ids: set[int]) -> dict[tuple[int, int], int]:
    """(remittance claim, SVC position from 1) -> the line's patient share (CAS group PR)."""
    ra = m.RemittanceAdjustment
    out: dict[tuple[int, int], int] = {}
    for chunk in chunks(sorted(claim_row_ids)):
        rows = db.execute(
            select(ra.remittance_claim_id, ra.line_number, func.sum(ra.amount_cents))
            .where(
                ra.remittance_claim_id.in_(chunk),
                ra.line_number.is_not(None),
                ra.group_code == _PATIENT_GROUP,
            )
            .group_by(ra.remittance_claim_id, ra.line_number)
        )
        out.update({(rc_id, number): int(cents) for rc_id, number, cents in rows if number is not None})
    return out


def _line_number(item: m.WorkItem) -> int | None:
    """The claim line the alert is about: the posting's dedupe key is
    ``underpayment:<remittance claim id>:<claim line number>`` (its one structured record)."""
    parts = (item.dedupe_key or "").split(":")
    if len(parts) == 3 and parts[0] == KIND and parts[2].isdigit():
        return int(parts[2])
    return None


def _found(
    item: m.WorkItem,
    claims: dict[int, m.Claim],
    claim_rows: dict[int, m.RemittanceClaim],
    lines: dict[int, list[m.ClaimLine]],
    patient_share: dict[tuple[int, int], int],
) -> _Found:
    claim = claims.get(item.claim_id or 0)
    number = _line_number(item)
    billed = lines.get(claim.id, []) if claim is not None else []
    line = next((x for x in billed if x.line_number == number), None)
    rc = claim_rows.get(item.remittance_claim_id or 0)
    if claim is None or line is None or rc is None:
        return _Found(line, None)
    index = _svc_index(claim, billed, line, rc)
    if index is None:
        return _Found(line, None)
    paid = (rc.details or {}).get("lines") or []
    return _Found(line, int(paid[index].get("paid_cents") or 0) + patient_share.get((rc.id, index + 1), 0))


def _svc_index(
    claim: m.Claim, billed: Sequence[m.ClaimLine], line: m.ClaimLine, rc: m.RemittanceClaim
) -> int | None:
    """Which of the CLP's service lines paid ``line``: matched again as the posting matched
    them (the CLP's lines as kept in ``details``)."""
    paid: list[PaidLine] = []
    for kept in (rc.details or {}).get("lines") or []:
        if not isinstance(kept, dict):
            return None
        paid.append(
            PaidLine(
                str(kept.get("procedure") or ""),
                int(kept.get("charge_cents") or 0),
                tuple(str(mod) for mod in kept.get("modifiers") or ()),
                _date(kept.get("service_on")),
            )
        )
    ours = [
        BilledLine(
            x.line_number,
            x.procedure_code,
            x.charge_cents,
            tuple(mod for mod in x.modifiers.split(":") if mod),
            x.service_on,
        )
        for x in billed
    ]
    for index, match in enumerate(match_lines(claim.number, ours, paid)):
        if match.billed is not None and match.billed.line_number == line.line_number:
            return index
    return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _view(item: m.WorkItem, rows: _Rows, found: _Found, expected: ExpectedAmount | None) -> UnderpaymentView:
    claim = rows.claims.get(item.claim_id or 0)
    remittance = rows.remittances.get(item.remittance_id or 0)
    line = found.line
    payer_id = claim.payer_id if claim is not None else (remittance.payer_id if remittance else None)
    payer_name = rows.payer_names.get(payer_id or 0) or (remittance.payer_name if remittance else "")
    source = f"{expected.source.replace('_', ' ')} {expected.source_name}".strip() if expected else ""
    return UnderpaymentView(
        id=item.id,
        practice_id=item.practice_id,
        status=item.status,
        title=item.title,
        detail=item.detail,
        resolution=item.resolution,
        created_at=item.created_at,
        resolved_at=item.resolved_at,
        paid_on=remittance.paid_on if remittance is not None else None,
        payer_id=payer_id,
        payer_name=payer_name,
        remittance_id=item.remittance_id,
        trace_number=remittance.trace_number if remittance is not None else "",
        claim_id=claim.id if claim is not None else None,
        claim_number=claim.number if claim is not None else "",
        client_id=claim.client_id if claim is not None else item.client_id,
        patient=rows.client_names.get(claim.client_id, "") if claim is not None else "",
        line_number=line.line_number if line is not None else None,
        procedure_code=line.procedure_code if line is not None else "",
        modifiers=line.modifiers if line is not None else "",
        service_on=line.service_on if line is not None else None,
        allowed_cents=found.allowed_cents,
        expected_cents=expected.amount_cents
        if expected is not None and found.allowed_cents is not None
        else None,
        expected_source=source,
        actions=tuple(ACTIONS) if item.status != "resolved" else (),
    )


def _payer_names(db: Session, ids: set[int]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i)
    if not wanted:
        return {}
    rows = db.execute(select(m.Payer.id, m.Payer.name).where(m.Payer.id.in_(wanted)))
    return {int(payer_id): str(name) for payer_id, name in rows.all()}


def _client_names(db: Session, ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for chunk in chunks(sorted(i for i in ids if i)):
        rows = db.execute(
            select(m.Client.id, m.Client.first_name, m.Client.last_name).where(m.Client.id.in_(chunk))
        )
        out.update({cid: f"{first} {last}".strip() for cid, first, last in rows})
    return out


# --- the decision --------------------------------------------------------------------------------


def resolve_underpayment(
    db: Session, *, actor: Actor, work_item_id: int, action: str, note: str = ""
) -> m.WorkItem:
    """Record what the practice did about an underpayment: ``appealed`` or ``accepted``,
    with an optional note (audited; once — a resolved item answers Conflict)."""
    item = _item(db, actor, work_item_id)
    if item.status == "resolved":
        raise Conflict(f"underpayment {item.id} is already resolved: {item.resolution}")
    if action not in ACTIONS:
        raise InvalidInput(f"action: {action!r} is not one of {', '.join(ACTIONS)}")
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise InvalidInput(f"note: at most {NOTE_MAX} characters (got {len(note)})")
    resolution = f"{ACTIONS[action]}{'. Note: ' + note if note else ''}"
    mark_resolved(
        db, actor=actor, item=item, resolution=resolution, action=action, reason=f"underpayment {action}"
    )
    return item
