"""The SimplePractice client attendance export: show, no-show or late cancel per appointment.

Each row names a client, a clinician and a date (with a time when the export gives one) and
updates the matching session's appointment status — and its duration, when start and end
times are given, which is what the psychotherapy codes' time bands are checked against. A
row that matches no imported session is flagged (informational) rather than creating one:
sessions come from the appointment export, which carries the charges.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from revcycle.adapters.csv import AttendanceRow, AttendanceStatus, ImportFormat, ParsedRow, RejectedRow
from revcycle.db.models import Charge, ImportBatch, ServiceSession
from revcycle.domain.names import person_key
from revcycle.services.actor import Actor
from revcycle.services.imports.common import RowPlan, SessionIndex, practice_zone, to_utc
from revcycle.services.imports.directory import Directory
from revcycle.services.imports.flags import (
    FlagSpec,
    dedupe_key,
    duration_problem,
    existing_flag_keys,
    write_flags,
)
from revcycle.services.imports.handler import StageCounts
from revcycle.services.imports.staging import OutcomeWriter, load_outcomes

__all__ = ["AttendanceHandler"]

_STATUS = {
    AttendanceStatus.SHOW: "show",
    AttendanceStatus.NO_SHOW: "no_show",
    AttendanceStatus.LATE_CANCEL: "late_cancel",
    AttendanceStatus.CANCELED: "canceled",
}


class AttendanceHandler:
    format = ImportFormat.ATTENDANCE

    def stage(
        self, session: Session, batch: ImportBatch, rows: Iterator[ParsedRow | RejectedRow], *, actor: Actor
    ) -> StageCounts:
        writer = OutcomeWriter(session, batch)
        parsed = []
        for row in rows:
            if isinstance(row, RejectedRow):
                writer.reject(row)
            elif isinstance(row, AttendanceRow):
                parsed.append(row)
        if not parsed:
            return writer.counts()
        zone = practice_zone(session, batch.practice_id)
        first = min(r.service_on for r in parsed)
        last = max(r.service_on for r in parsed)
        batch.covers_from_on, batch.covers_to_on = first, last
        directory = Directory.load(session, batch.practice_id)
        index = SessionIndex.load(
            session, batch.practice_id, first - timedelta(days=1), last + timedelta(days=1)
        )
        codes = self._codes(session, batch.practice_id, index)
        known = existing_flag_keys(session, batch.practice_id)
        for row in parsed:
            plan = self._plan(row, directory, index, codes, zone)
            writer.add(row.row_number, plan.outcome(known), plan.to_detail(), session_id=plan.session_id)
        return writer.counts()

    def _codes(self, session: Session, practice_id: int, index: SessionIndex) -> dict[int, list[str]]:
        ids = [entry[0] for entries in index.by_day.values() for entry in entries]
        codes: dict[int, list[str]] = {}
        for start in range(0, len(ids), 1000):
            for sid, code in session.execute(
                select(Charge.session_id, Charge.procedure_code).where(
                    Charge.session_id.in_(ids[start : start + 1000])
                )
            ):
                codes.setdefault(sid, []).append(code)
        return codes

    def _plan(
        self,
        row: AttendanceRow,
        directory: Directory,
        index: SessionIndex,
        codes: dict[int, list[str]],
        zone: Any,
    ) -> RowPlan:
        client_id = directory.client(row.client_name)
        provider_id = directory.provider(row.clinician_name)
        starts_at = to_utc(row.service_at, zone) if row.service_at else None
        found = (
            index.find(client_id, provider_id, row.service_on, starts_at)
            if client_id and provider_id
            else None
        )
        when = f"{row.client_name} with {row.clinician_name} on {row.service_on:%m/%d/%Y}"
        if found is None:
            key = dedupe_key(
                "attendance_unmatched",
                person_key(row.client_name),
                person_key(row.clinician_name),
                row.service_at or row.service_on,
            )
            flag = FlagSpec(
                "attendance_unmatched", key, f"{when} ({row.status.value}) matches no imported session"
            )
            return RowPlan(row.row_number, "unchanged", {"reason": "no matching session"}, [flag])
        sid, session_start, status, minutes = found
        wanted = {"appointment_status": _STATUS[row.status]}
        if row.duration_minutes is not None:
            wanted["duration_minutes"] = row.duration_minutes  # type: ignore[assignment]
        current = {"appointment_status": status, "duration_minutes": minutes}
        diff = {k: [current[k], v] for k, v in wanted.items() if current[k] != v}
        flags = []
        for code in codes.get(sid, []):
            problem = duration_problem(code, row.duration_minutes)
            if problem:
                key = dedupe_key(
                    "duration_out_of_band",
                    person_key(row.client_name),
                    person_key(row.clinician_name),
                    session_start.isoformat(),
                    code,
                )
                flags.append(FlagSpec("duration_out_of_band", key, f"{problem}: {when}", sid))
        return RowPlan(
            row.row_number, "updated" if diff else "unchanged", {"set": wanted, "diff": diff}, flags, sid
        )

    def commit(self, session: Session, batch: ImportBatch, *, actor: Actor) -> dict[str, int]:
        changes: list[dict[str, Any]] = []
        specs: list[FlagSpec] = []
        for _oid, _row, _outcome, detail, session_id in load_outcomes(
            session, batch, outcomes=("updated", "flagged")
        ):
            if session_id is not None and detail.get("diff"):
                changes.append({"id": session_id, **detail["set"]})
            specs.extend(
                FlagSpec.from_json(f, session_id=session_id, client_id=None) for f in detail.get("flags", [])
            )
        if changes:
            session.execute(update(ServiceSession), changes)
        client_of = dict(
            session.execute(
                select(ServiceSession.id, ServiceSession.client_id).where(
                    ServiceSession.id.in_([s.session_id for s in specs if s.session_id])
                )
            ).all()
        )
        for spec in specs:
            spec.client_id = client_of.get(spec.session_id) if spec.session_id else None
        return {"sessions_updated": len(changes), "flags": write_flags(session, batch.practice_id, specs)}

    def discard(self, session: Session, batch: ImportBatch, *, actor: Actor) -> None:
        """Nothing beyond the outcome rows was staged."""
