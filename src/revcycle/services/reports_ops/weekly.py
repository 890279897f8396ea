"""Weekly reconciliation: every session of one week (Monday to Sunday, by the practice's date
of service) with its pipeline stage (:func:`revcycle.services.sessions.list_sessions`, derived
by :mod:`revcycle.domain.pipeline`), its claims and their statuses, and what needs action:
the open work items on the session or its claims (flags, follow-ups, alerts, exceptions), or,
where none is open, what its stage still waits for (a note to lock, a claim to send).
Counts per stage cover the whole week.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from revcycle.adapters.report_export import Column, ReportTable
from revcycle.db import models as m
from revcycle.domain.pipeline import STAGE_LABELS, PipelineStage
from revcycle.services.actor import Actor
from revcycle.services.reports_ops.basis import require_reports
from revcycle.services.scoping import MAX_LIMIT
from revcycle.services.sessions import SessionFilters, SessionRow, list_sessions

__all__ = [
    "STAGE_HINTS",
    "WeekClaim",
    "WeekRow",
    "WeeklyReconciliation",
    "week_of",
    "weekly_reconciliation",
    "weekly_table",
]

# What a stage still waits for when no work item says so.
STAGE_HINTS: dict[PipelineStage, str] = {
    PipelineStage.COMPLETED: "Lock the note",
    PipelineStage.DOCUMENTED: "Create the claim",
    PipelineStage.NEEDS_REVIEW: "Settle the import flag",
    PipelineStage.READY_TO_BILL: "Send the claim",
    PipelineStage.DENIED: "Work the denial",
    PipelineStage.PATIENT_BALANCE: "Collect the patient's balance",
}


@dataclass(frozen=True)
class WeekClaim:
    id: int
    number: str
    status: str
    payer_name: str


@dataclass(frozen=True)
class WeekRow:
    session: SessionRow
    claims: list[WeekClaim]
    open_items: list[str]

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.session.stage]

    @property
    def needs_action(self) -> str:
        if self.open_items:
            return "; ".join(self.open_items)
        return STAGE_HINTS.get(self.session.stage, "")


@dataclass(frozen=True)
class WeeklyReconciliation:
    monday: date
    sunday: date
    rows: list[WeekRow]
    stage_counts: dict[PipelineStage, int] = field(default_factory=dict)

    @property
    def needing_action(self) -> int:
        return sum(1 for row in self.rows if row.needs_action)

    @property
    def charge_cents(self) -> int:
        return sum(row.session.charge_cents for row in self.rows)


def week_of(day: date) -> tuple[date, date]:
    """The Monday and the Sunday of ``day``'s week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def weekly_reconciliation(db: Session, *, actor: Actor, practice_id: int, day: date) -> WeeklyReconciliation:
    """The week holding ``day``: its sessions in order of start, with claims and open work."""
    require_reports(actor, practice_id)
    monday, sunday = week_of(day)
    sessions = _week_sessions(db, actor, practice_id, monday, sunday)
    ids = [row.id for row in sessions]
    claims = _claims_by_session(db, ids)
    items = _open_items(db, practice_id, ids, claims)
    rows = [WeekRow(row, claims.get(row.id, []), items.get(row.id, [])) for row in sessions]
    counts = dict.fromkeys(PipelineStage, 0)
    for row in sessions:
        counts[row.stage] += 1
    return WeeklyReconciliation(monday, sunday, rows, counts)


def _week_sessions(
    db: Session, actor: Actor, practice_id: int, monday: date, sunday: date
) -> list[SessionRow]:
    filters = SessionFilters(since=monday, until=sunday)
    found: list[SessionRow] = []
    while True:
        page = list_sessions(
            db, actor=actor, practice_id=practice_id, filters=filters, limit=MAX_LIMIT, offset=len(found)
        )
        found.extend(page.items)
        if not page.items or len(found) >= page.total:
            break
    return sorted(found, key=lambda row: (row.starts_at, row.id))


def _claims_by_session(db: Session, ids: Sequence[int]) -> dict[int, list[WeekClaim]]:
    result: dict[int, list[WeekClaim]] = defaultdict(list)
    for start in range(0, len(ids), MAX_LIMIT):
        query = (
            select(m.Charge.session_id, m.Claim.id, m.Claim.number, m.Claim.status, m.Payer.name)
            .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
            .join(m.Claim, m.Claim.id == m.ClaimLine.claim_id)
            .join(m.Payer, m.Payer.id == m.Claim.payer_id)
            .where(m.Charge.session_id.in_(ids[start : start + MAX_LIMIT]))
            .distinct()
            .order_by(m.Charge.session_id, m.Claim.id)
        )
        for session_id, claim_id, number, status, payer in db.execute(query):
            result[session_id].append(WeekClaim(claim_id, number, status, payer))
    return result


def _open_items(
    db: Session, practice_id: int, ids: Sequence[int], claims: dict[int, list[WeekClaim]]
) -> dict[int, list[str]]:
    """Titles of the open work items on each session or on one of its claims."""
    session_of_claim = {claim.id: sid for sid, listed in claims.items() for claim in listed}
    result: dict[int, list[str]] = defaultdict(list)
    claim_ids = list(session_of_claim)
    listed = set(ids)
    for start in range(0, max(len(ids), len(claim_ids)), MAX_LIMIT):
        query = (
            select(m.WorkItem.id, m.WorkItem.session_id, m.WorkItem.claim_id, m.WorkItem.title)
            .where(
                m.WorkItem.practice_id == practice_id,
                m.WorkItem.status != "resolved",
                or_(
                    m.WorkItem.session_id.in_(ids[start : start + MAX_LIMIT]),
                    m.WorkItem.claim_id.in_(claim_ids[start : start + MAX_LIMIT]),
                ),
            )
            .order_by(m.WorkItem.id)
        )
        for _item_id, session_id, claim_id, title in db.execute(query):
            owner = session_id if session_id in listed else session_of_claim.get(claim_id or 0)
            if owner is not None and title not in result[owner]:
                result[owner].append(title)
    return result


def weekly_table(report: WeeklyReconciliation, today: date) -> ReportTable:
    columns = (
        Column("service_on", "Date of service", "date"),
        Column("client", "Client"),
        Column("clinician", "Clinician"),
        Column("appointment", "Appointment"),
        Column("note", "Note"),
        Column("stage", "Stage"),
        Column("claims", "Claims"),
        Column("charge_cents", "Charges", "cents"),
        Column("needs_action", "Needs action"),
    )
    rows = tuple(
        {
            "service_on": row.session.service_on,
            "client": row.session.client_name,
            "clinician": row.session.provider_name,
            "appointment": row.session.appointment_status,
            "note": row.session.note_status,
            "stage": row.stage_label,
            "claims": ", ".join(f"{c.number} {c.status} ({c.payer_name})" for c in row.claims),
            "charge_cents": row.session.charge_cents,
            "needs_action": row.needs_action,
        }
        for row in report.rows
    )
    totals = {
        "service_on": None,
        "client": f"{len(report.rows)} sessions",
        "stage": "; ".join(f"{STAGE_LABELS[s]} {n}" for s, n in report.stage_counts.items() if n),
        "charge_cents": report.charge_cents,
        "needs_action": f"{report.needing_action} need action",
    }
    tones = tuple("bucket-2" if row.needs_action else "" for row in report.rows)  # amber
    notes = (
        "stage: derived from the session, its claims and the ledger (the session pipeline)",
        "needs action: the open work items on the session or its claims, else what the stage waits for",
    )
    week = f"{report.monday.isoformat()} to {report.sunday.isoformat()}"
    return ReportTable("Weekly reconciliation", columns, rows, today, (("Week", week),), totals, notes, tones)
