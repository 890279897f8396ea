"""A session's (or a claim's) whole history as one list, oldest first.

Nothing here is stored twice: every entry is read from the table that recorded it — the
session row (created, imported, note locked, marked ready), the import outcome rows, flags
and other work items (raised, resolved), claims (built), scrub runs and their overrides,
claim events (each status change), submissions (the portal log), ledger transactions
(charges, payments, adjustments, with the part of their amount that touches these charges)
and notes. Each becomes a :class:`TimelineEntry` of one ``kind``, so a page can show them
in one list and a test can ask for them by kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.money import format_cents
from revcycle.services.actor import Actor
from revcycle.services.scoping import get_visible
from revcycle.services.submissions import FREQUENCIES

__all__ = ["KINDS", "TimelineEntry", "claim_timeline", "session_timeline"]

KINDS = (
    "session_created",
    "imported",
    "note_locked",
    "flag_raised",
    "flag_resolved",
    "marked_ready",
    "claim_built",
    "scrubbed",
    "override",
    "status_change",
    "submission",
    "ledger",
    "note",
)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # one of KINDS
    title: str
    detail: str = ""
    by: str = ""  # the person, where one acted
    claim_id: int | None = None
    claim_number: str = ""


@dataclass(frozen=True)
class _Scope:
    session_ids: list[int]
    claims: dict[int, str]  # id -> number
    charge_ids: list[int]


def session_timeline(session: Session, *, actor: Actor, session_id: int) -> list[TimelineEntry]:
    """Everything that happened to a session and its claims, in time order."""
    found = get_visible(session, m.ServiceSession, session_id, actor, Permission.VIEW_SESSIONS)
    charge_ids = list(session.scalars(select(m.Charge.id).where(m.Charge.session_id == found.id)))
    claims = _claims_of_charges(session, charge_ids)
    return _timeline(session, _Scope([found.id], claims, charge_ids))


def claim_timeline(session: Session, *, actor: Actor, claim_id: int) -> list[TimelineEntry]:
    """Everything that happened to a claim and the sessions it bills, in time order."""
    claim = get_visible(session, m.Claim, claim_id, actor, Permission.VIEW_CLAIMS)
    charge_ids = [
        cid
        for cid in session.scalars(select(m.ClaimLine.charge_id).where(m.ClaimLine.claim_id == claim.id))
        if cid is not None
    ]
    session_ids = sorted(
        set(session.scalars(select(m.Charge.session_id).where(m.Charge.id.in_(charge_ids))))
        if charge_ids
        else set()
    )
    return _timeline(session, _Scope(session_ids, {claim.id: claim.number}, charge_ids))


def _claims_of_charges(session: Session, charge_ids: Sequence[int]) -> dict[int, str]:
    if not charge_ids:
        return {}
    query = (
        select(m.Claim.id, m.Claim.number)
        .join(m.ClaimLine, m.ClaimLine.claim_id == m.Claim.id)
        .where(m.ClaimLine.charge_id.in_(list(charge_ids)))
        .distinct()
    )
    return {int(claim_id): str(number) for claim_id, number in session.execute(query)}


def _timeline(session: Session, scope: _Scope) -> list[TimelineEntry]:
    names = _UserNames(session)
    entries: list[TimelineEntry] = []
    entries += _session_entries(session, scope, names)
    entries += _work_item_entries(session, scope, names)
    entries += _claim_entries(session, scope, names)
    entries += _ledger_entries(session, scope, names)
    entries += _note_entries(session, scope, names)
    order = {kind: index for index, kind in enumerate(KINDS)}
    return sorted(entries, key=lambda e: (e.at, order.get(e.kind, 99)))


class _UserNames:
    """Who someone is, as the page shows it (full name, else e-mail), looked up once each."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._names: dict[int, str] = {}

    def __call__(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        if user_id not in self._names:
            user = self._session.get(m.User, user_id)
            self._names[user_id] = (user.full_name or user.email) if user else f"user {user_id}"
        return self._names[user_id]


# --- the session itself --------------------------------------------------------------------


def _session_entries(session: Session, scope: _Scope, names: _UserNames) -> list[TimelineEntry]:
    entries = []
    rows = session.scalars(select(m.ServiceSession).where(m.ServiceSession.id.in_(scope.session_ids)))
    for row in rows:
        entries.append(
            TimelineEntry(row.created_at, "session_created", "Session created", f"source: {row.source}")
        )
        if row.note_locked_at is not None:
            entries.append(TimelineEntry(row.note_locked_at, "note_locked", "Note locked"))
        if row.ready_at is not None:
            entries.append(
                TimelineEntry(
                    row.ready_at, "marked_ready", "Marked ready to bill", by=names(row.ready_by_user_id)
                )
            )
    outcomes = session.execute(
        select(m.ImportRowOutcome, m.ImportBatch)
        .join(m.ImportBatch, m.ImportBatch.id == m.ImportRowOutcome.batch_id)
        .where(m.ImportRowOutcome.session_id.in_(scope.session_ids), m.ImportBatch.status == "committed")
    )
    for outcome, batch in outcomes:
        entries.append(
            TimelineEntry(
                batch.decided_at or batch.created_at,
                "imported",
                f"Imported: {outcome.outcome}",
                f"batch {batch.id} ({batch.filename}), row {outcome.row_number}",
                by=names(batch.decided_by_user_id or batch.created_by_user_id),
            )
        )
    return entries


def _work_item_entries(session: Session, scope: _Scope, names: _UserNames) -> list[TimelineEntry]:
    about = [m.WorkItem.session_id.in_(scope.session_ids)]
    if scope.claims:
        about.append(m.WorkItem.claim_id.in_(list(scope.claims)))
    entries = []
    for item in session.scalars(select(m.WorkItem).where(or_(*about)).order_by(m.WorkItem.id)):
        what = "Flag" if item.kind == "flag" else item.kind.replace("_", " ").capitalize()
        held = " (holds billing)" if item.holds_billing else ""
        entries.append(
            TimelineEntry(
                item.created_at,
                "flag_raised",
                f"{what} raised: {item.title}",
                f"{item.severity}{held}" + (f" — {item.detail}" if item.detail else ""),
                claim_id=item.claim_id,
                claim_number=scope.claims.get(item.claim_id or 0, ""),
            )
        )
        if item.resolved_at is not None:
            entries.append(
                TimelineEntry(
                    item.resolved_at,
                    "flag_resolved",
                    f"{what} resolved: {item.title}",
                    item.resolution,
                    by=names(item.resolved_by_user_id),
                )
            )
    return entries


# --- claims --------------------------------------------------------------------------------


def _claim_entries(session: Session, scope: _Scope, names: _UserNames) -> list[TimelineEntry]:
    if not scope.claims:
        return []
    ids = list(scope.claims)
    entries: list[TimelineEntry] = []
    for claim in session.scalars(select(m.Claim).where(m.Claim.id.in_(ids))):
        entries.append(
            TimelineEntry(
                claim.created_at,
                "claim_built",
                f"Claim {claim.number} built",
                f"billed {format_cents(claim.billed_cents)}",
                claim_id=claim.id,
                claim_number=claim.number,
            )
        )
    entries += _scrub_entries(session, scope, names)
    for event in session.scalars(select(m.ClaimEvent).where(m.ClaimEvent.claim_id.in_(ids))):
        before = (event.from_status or "new").replace("_", " ")
        entries.append(
            TimelineEntry(
                event.created_at,
                "status_change",
                f"Claim {scope.claims[event.claim_id]}: {before} → {event.to_status.replace('_', ' ')}",
                f"{event.source}" + (f" — {event.detail}" if event.detail else ""),
                by=names(event.actor_user_id),
                claim_id=event.claim_id,
                claim_number=scope.claims[event.claim_id],
            )
        )
    entries += _submission_entries(session, scope, names)
    return entries


def _scrub_entries(session: Session, scope: _Scope, names: _UserNames) -> list[TimelineEntry]:
    ids = list(scope.claims)
    entries = []
    for scrub in session.scalars(select(m.ClaimScrub).where(m.ClaimScrub.claim_id.in_(ids))):
        errors = sum(1 for p in scrub.problems if p.get("severity") == "error")
        warnings = sum(1 for p in scrub.problems if p.get("severity") == "warning")
        result = f"{errors} error(s), {warnings} warning(s)" if errors or warnings else "clean"
        codes = ", ".join(str(p.get("code", "")) for p in scrub.problems)
        entries.append(
            TimelineEntry(
                scrub.ran_at,
                "scrubbed",
                f"Claim {scope.claims[scrub.claim_id]} scrubbed: {result}",
                f"{len(scrub.edits)} edits ran" + (f"; {codes}" if codes else ""),
                by=names(scrub.ran_by_user_id),
                claim_id=scrub.claim_id,
                claim_number=scope.claims[scrub.claim_id],
            )
        )
    for override in session.scalars(select(m.ScrubOverride).where(m.ScrubOverride.claim_id.in_(ids))):
        entries.append(
            TimelineEntry(
                override.created_at,
                "override",
                f"Warning overridden: {override.problem_code}",
                f"{override.where}: {override.reason}",
                by=names(override.user_id),
                claim_id=override.claim_id,
                claim_number=scope.claims[override.claim_id],
            )
        )
    return entries


def _submission_entries(session: Session, scope: _Scope, names: _UserNames) -> list[TimelineEntry]:
    query = (
        select(m.Submission, m.InsurancePortal.name)
        .outerjoin(m.InsurancePortal, m.InsurancePortal.id == m.Submission.portal_id)
        .where(m.Submission.claim_id.in_(list(scope.claims)))
    )
    entries = []
    for row, portal in session.execute(query):
        via = portal or row.channel
        frequency = FREQUENCIES.get(row.frequency, row.frequency)
        parts = [f"channel {row.channel}"]
        if portal:
            parts.append(f"portal {portal}")
        if row.reference:
            parts.append(f"reference {row.reference}")
        if row.clearinghouse_reference:
            parts.append(f"clearinghouse id {row.clearinghouse_reference}")
        if row.payer_claim_control_number:
            parts.append(f"payer ICN {row.payer_claim_control_number}")
        if row.batch_id is not None:
            parts.append(f"batch {row.batch_id}")
        entries.append(
            TimelineEntry(
                row.submitted_at,
                "submission",
                f"Claim {scope.claims[row.claim_id]} submitted via {via} ({frequency})",
                ", ".join(parts),
                by=names(row.submitted_by_user_id),
                claim_id=row.claim_id,
                claim_number=scope.claims[row.claim_id],
            )
        )
    return entries


# --- money and notes -----------------------------------------------------------------------


def _ledger_entries(session: Session, scope: _Scope, names: _UserNames) -> list[TimelineEntry]:
    touching = []
    if scope.charge_ids:
        touching.append(m.Posting.charge_id.in_(scope.charge_ids))
    if scope.claims:
        touching.append(m.Posting.claim_id.in_(list(scope.claims)))
    if not touching:
        return []
    postings = session.execute(
        select(m.Posting, m.LedgerTransaction)
        .join(m.LedgerTransaction, m.LedgerTransaction.id == m.Posting.transaction_id)
        .where(or_(*touching))
        .order_by(m.LedgerTransaction.id, m.Posting.id)
    )
    by_transaction: dict[int, tuple[m.LedgerTransaction, list[m.Posting]]] = {}
    for posting, transaction in postings:
        by_transaction.setdefault(transaction.id, (transaction, []))[1].append(posting)
    return [
        TimelineEntry(
            transaction.created_at,
            "ledger",
            f"{transaction.kind.replace('_', ' ').capitalize()}: {format_cents(_moved(lines))}",
            _ledger_detail(transaction, lines),
            by=names(transaction.created_by_user_id),
        )
        for transaction, lines in by_transaction.values()
    ]


def _moved(lines: Iterable[m.Posting]) -> int:
    """How much the transaction moved on these charges: the sum of its debits here."""
    return sum(line.amount_cents for line in lines if line.amount_cents > 0)


def _ledger_detail(transaction: m.LedgerTransaction, lines: Sequence[m.Posting]) -> str:
    legs = ", ".join(f"{line.account} {format_cents(line.amount_cents)}" for line in lines)
    memo = f"{transaction.memo} — " if transaction.memo else ""
    return f"{memo}{legs} (dated {transaction.accounting_on.isoformat()})"


def _note_entries(session: Session, scope: _Scope, names: _UserNames) -> list[TimelineEntry]:
    about = [m.Note.session_id.in_(scope.session_ids)]
    if scope.claims:
        about.append(m.Note.claim_id.in_(list(scope.claims)))
    return [
        TimelineEntry(
            note.created_at,
            "note",
            "Note",
            note.body,
            by=names(note.author_user_id),
            claim_id=note.claim_id,
            claim_number=scope.claims.get(note.claim_id or 0, ""),
        )
        for note in session.scalars(select(m.Note).where(or_(*about)).order_by(m.Note.id))
    ]
