"""The SimplePractice "Filed claims" report: claims billed through SimplePractice, recorded here.

Each row is one submission (a resubmission is a new row with a new clearinghouse reference).
It becomes a :class:`~revcycle.db.models.Submission` through the ``simplepractice`` channel
on the client's claim for that payer, so that sessions billed there count as billed:

1. a claim of the client for that payer that was rejected or denied is being resubmitted;
2. otherwise the client's earliest insurance session not yet on a claim, on or before the
   submission date, gets a claim shell (moved draft -> ready -> submitted, source import);
3. otherwise the row is one more submission of the client's latest claim for that payer;
4. otherwise it matches nothing and is flagged.

The report's status wording (Accepted, Rejected, Denied ...) moves the claim along the claim
status table where the table allows it. A row whose clearinghouse reference is already
recorded is unchanged.

"Paid" (or "Partially paid") is SimplePractice's word, not money: here a claim is paid only
when a payment posts against it (an 835, or one entered by hand), so that the ledger and the
claim never disagree. Such a row moves the claim only as far as the evidence goes — the payer
decided, ``adjudicated`` — and, unless the payer's payment is already recorded here, raises
an informational flag ("SimplePractice says paid; no payment recorded here") for the 835 or
the payment posting to settle.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from revcycle.adapters.csv import FiledClaimRow, ImportFormat, ParsedRow, PayerRef, RejectedRow
from revcycle.adapters.csv.reading import location
from revcycle.db.models import (
    Charge,
    Claim,
    ClaimLine,
    Coverage,
    ImportBatch,
    Posting,
    ServiceSession,
    Submission,
)
from revcycle.domain.claim_status import ClaimStatus, EventSource, allowed_targets, status_from_portal
from revcycle.domain.ledger import Account
from revcycle.domain.names import payer_key, person_key
from revcycle.domain.problems import Problem
from revcycle.services.actor import Actor
from revcycle.services.claims import transition_claim
from revcycle.services.imports.common import RowPlan, practice_zone, to_utc
from revcycle.services.imports.directory import Directory
from revcycle.services.imports.flags import FlagSpec, dedupe_key, existing_flag_keys, write_flags
from revcycle.services.imports.handler import StageCounts
from revcycle.services.imports.staging import OutcomeWriter, load_outcomes, set_outcome_sessions

__all__ = ["CHANNEL", "PAID_ELSEWHERE_TITLE", "FiledClaimsHandler", "supported_status"]

CHANNEL = "simplepractice"
_RESUBMITTABLE = frozenset({"rejected", "denied"})
# States that say money came: only a payment posted here may put a claim in them.
_MONEY_STATES = frozenset({ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID})
PAID_ELSEWHERE_TITLE = "SimplePractice says paid; no payment recorded here"


def supported_status(reported: ClaimStatus) -> ClaimStatus:
    """How far a reported status moves a claim without money posted here: a payer that paid
    has decided (adjudicated); the payment itself comes from the 835 or a posting."""
    return ClaimStatus.ADJUDICATED if reported in _MONEY_STATES else reported


@dataclass
class _Candidate:
    """A claim the file's rows may land on: existing (claim_id) or planned for a session."""

    status: str
    service_on: date
    claim_id: int | None = None
    session_id: int | None = None


class FiledClaimsHandler:
    format = ImportFormat.FILED_CLAIMS

    def stage(
        self, session: Session, batch: ImportBatch, rows: Iterator[ParsedRow | RejectedRow], *, actor: Actor
    ) -> StageCounts:
        writer = OutcomeWriter(session, batch)
        directory = Directory.load(session, batch.practice_id)
        known_refs = self._known_references(session, batch.practice_id)
        known_flags = existing_flag_keys(session, batch.practice_id)
        claims: dict[tuple[int, int], list[_Candidate]] = {}
        planned_sessions: set[int] = set()
        for row in rows:
            if isinstance(row, RejectedRow):
                writer.reject(row)
                continue
            assert isinstance(row, FiledClaimRow)
            try:
                target = status_from_portal(row.status)
            except ValueError:
                where = location(batch.filename, row.row_number, "Status")
                writer.reject(
                    RejectedRow(
                        row.row_number,
                        (
                            Problem(
                                "csv.status",
                                where,
                                f'"{row.status}" is not a claim status SimplePractice reports',
                            ),
                        ),
                        (),
                    )
                )
                continue
            plan = self._plan(
                session,
                batch=batch,
                row=row,
                target=target,
                directory=directory,
                known_refs=known_refs,
                claims=claims,
                planned_sessions=planned_sessions,
            )
            writer.add(
                row.row_number,
                plan.outcome(known_flags),
                plan.to_detail(),
                session_id=plan.session_id,
                claim_id=plan.claim_id,
            )
        return writer.counts()

    def _known_references(self, session: Session, practice_id: int) -> dict[str, int]:
        query = select(Submission.clearinghouse_reference, Submission.claim_id).where(
            Submission.practice_id == practice_id,
            Submission.channel == CHANNEL,
            Submission.clearinghouse_reference != "",
        )
        return dict(session.execute(query).all())

    def _plan(
        self,
        session: Session,
        *,
        batch: ImportBatch,
        row: FiledClaimRow,
        target: ClaimStatus,
        directory: Directory,
        known_refs: dict[str, int],
        claims: dict[tuple[int, int], list[_Candidate]],
        planned_sessions: set[int],
    ) -> RowPlan:
        moved_to = supported_status(target)
        base: dict[str, Any] = {
            "client": row.client_name,
            "payer": [row.payer.name, row.payer.payer_id] if row.payer else None,
            "status": moved_to.value,
            "submitted_on": row.submitted_on.isoformat(),
            "submitted_at": row.submitted_at.isoformat() if row.submitted_at else None,
            "reference": row.clearinghouse_reference or "",
            "payer_claim": row.payer_claim or "",
        }
        if row.clearinghouse_reference and row.clearinghouse_reference in known_refs:
            return RowPlan(row.row_number, "unchanged", {}, claim_id=known_refs[row.clearinghouse_reference])
        client_id = directory.client(row.client_name)
        payer_id = directory.payer(row.payer).payer_id if row.payer else None
        if client_id is None or payer_id is None:
            return self._unmatched(row, base, "the client or the payer is unknown")
        candidates = claims.setdefault((client_id, payer_id), self._claims(session, client_id, payer_id))
        chosen = next(
            (c for c in candidates if c.status in _RESUBMITTABLE and c.service_on <= row.submitted_on), None
        )
        if chosen is None:
            sid = self._unbilled_session(session, client_id, row.payer, row.submitted_on, planned_sessions)
            if sid is not None:
                planned_sessions.add(sid[0])
                chosen = _Candidate("submitted", sid[1], session_id=sid[0])
                candidates.append(chosen)
                base["new_claim_for_session"] = sid[0]
        if chosen is None and candidates:
            chosen = max(candidates, key=lambda c: c.service_on)
        if chosen is None:
            return self._unmatched(row, base, "no session or claim of this client for this payer")
        base["claim_id"], base["session_id"] = chosen.claim_id, chosen.session_id
        flags: list[FlagSpec] = []
        if target is not moved_to:
            base["reported_status"] = target.value
            if not self._payer_paid(session, chosen):
                flags.append(self._paid_elsewhere(row, target))
        chosen.status = moved_to.value
        return RowPlan(
            row.row_number, "new", base, flags, session_id=chosen.session_id, claim_id=chosen.claim_id
        )

    def _payer_paid(self, session: Session, chosen: _Candidate) -> bool:
        """Whether the payer's money for this claim is already recorded here: the claim was
        paid by a posting, or cash came in against what the payer owed on it."""
        if chosen.claim_id is None:  # a claim made by this file has no payment yet
            return False
        if chosen.status in {s.value for s in _MONEY_STATES}:
            return True
        cash = aliased(Posting)
        received = session.scalar(
            select(Posting.id)
            .join(cash, cash.transaction_id == Posting.transaction_id)
            .where(
                Posting.claim_id == chosen.claim_id,
                Posting.account == Account.AR_INSURANCE.value,
                Posting.amount_cents < 0,
                cash.account == Account.CASH.value,
                cash.amount_cents > 0,
            )
            .limit(1)
        )
        return received is not None

    def _paid_elsewhere(self, row: FiledClaimRow, reported: ClaimStatus) -> FlagSpec:
        key = dedupe_key(
            "ledger_disagrees",
            "filed_claim_paid",
            person_key(row.client_name),
            row.submitted_on,
            row.clearinghouse_reference or row.row_number,
        )
        payer = row.payer.name if row.payer else "no payer"
        detail = (
            f"SimplePractice reports the claim filed {row.submitted_on:%m/%d/%Y} for {row.client_name} "
            f"({payer}) as {row.status.strip()}; no payment from the payer is recorded here, so the "
            f"claim is {ClaimStatus.ADJUDICATED} (decided, not paid) until the 835 or the payment is posted"
        )
        return FlagSpec(
            "ledger_disagrees", key, detail, extra={"reported": reported.value}, title=PAID_ELSEWHERE_TITLE
        )

    def _unmatched(self, row: FiledClaimRow, base: dict[str, Any], why: str) -> RowPlan:
        key = dedupe_key(
            "filed_claim_unmatched",
            person_key(row.client_name),
            row.submitted_on,
            row.clearinghouse_reference or row.row_number,
        )
        payer = row.payer.name if row.payer else "no payer"
        flag = FlagSpec(
            "filed_claim_unmatched",
            key,
            f"claim filed {row.submitted_on:%m/%d/%Y} for {row.client_name} ({payer}): {why}",
        )
        return RowPlan(row.row_number, "unchanged", {**base, "reason": why}, [flag])

    def _claims(self, session: Session, client_id: int, payer_id: int) -> list[_Candidate]:
        return [
            _Candidate(status, service_on, claim_id=claim_id)
            for claim_id, status, service_on in session.execute(
                select(Claim.id, Claim.status, Claim.service_from_on)
                .where(Claim.client_id == client_id, Claim.payer_id == payer_id)
                .order_by(Claim.service_from_on, Claim.id)
            )
        ]

    def _unbilled_session(
        self, session: Session, client_id: int, payer: PayerRef | None, on: date, planned: set[int]
    ) -> tuple[int, date] | None:
        billed = exists().where(ClaimLine.charge_id == Charge.id)
        rows = session.execute(
            select(ServiceSession.id, ServiceSession.service_on, Charge.source_snapshot)
            .join(Charge, Charge.session_id == ServiceSession.id)
            .where(
                ServiceSession.client_id == client_id,
                ServiceSession.service_on <= on,
                Charge.patient_only.is_(False),
                ~billed,
            )
            .order_by(ServiceSession.starts_at)
        )
        for sid, service_on, snapshot in rows:
            if sid in planned:
                continue
            primary = (snapshot or {}).get("primary")
            if payer is None or primary is None or _same_payer(payer, primary):
                return sid, service_on
        return None

    # --- commit ------------------------------------------------------------------------------

    def commit(self, session: Session, batch: ImportBatch, *, actor: Actor) -> dict[str, int]:
        directory = Directory.load(session, batch.practice_id)
        zone = practice_zone(session, batch.practice_id)
        written = {"claims": 0, "submissions": 0, "flags": 0}
        created: dict[int, int] = {}  # session id -> claim id made in this commit
        links: list[tuple[int, int | None, int | None]] = []
        specs: list[FlagSpec] = []
        for outcome_id, row_number, _outcome, detail, session_id in load_outcomes(
            session, batch, outcomes=("new", "flagged")
        ):
            flag_session = detail.get("session_id") or self._session_of_claim(session, detail.get("claim_id"))
            specs.extend(
                FlagSpec.from_json(
                    f, session_id=flag_session, client_id=directory.client(detail.get("client", ""))
                )
                for f in detail.get("flags", [])
            )
            if "status" not in detail or (
                detail.get("claim_id") is None and detail.get("session_id") is None
            ):
                continue
            claim_id = detail.get("claim_id")
            if claim_id is None:
                sid = detail["session_id"]
                if sid not in created:
                    created[sid] = self._claim_shell(
                        session,
                        batch=batch,
                        actor=actor,
                        directory=directory,
                        session_id=sid,
                        detail=detail,
                        row_number=row_number,
                    )
                    written["claims"] += 1
                claim_id = created[sid]
            self._submit(session, actor, claim_id, detail, zone)
            written["submissions"] += 1
            links.append((outcome_id, session_id, claim_id))
        set_outcome_sessions(session, links)
        written["flags"] = write_flags(session, batch.practice_id, specs)
        return written

    def _session_of_claim(self, session: Session, claim_id: int | None) -> int | None:
        if claim_id is None:
            return None
        return session.scalar(
            select(Charge.session_id)
            .join(ClaimLine, ClaimLine.charge_id == Charge.id)
            .where(ClaimLine.claim_id == claim_id)
            .order_by(ClaimLine.line_number)
            .limit(1)
        )

    def _claim_shell(
        self,
        session: Session,
        *,
        batch: ImportBatch,
        actor: Actor,
        directory: Directory,
        session_id: int,
        detail: dict[str, Any],
        row_number: int,
    ) -> int:
        service = session.get_one(ServiceSession, session_id)
        payer_id = directory.ensure_payer(session, PayerRef(detail["payer"][0], detail["payer"][1]))[0]
        coverage_id = session.scalar(
            select(Coverage.id)
            .where(Coverage.client_id == service.client_id, Coverage.payer_id == payer_id)
            .order_by(Coverage.priority != "primary", Coverage.id)
        )
        billed = exists().where(ClaimLine.charge_id == Charge.id)
        charges = session.scalars(
            select(Charge)
            .where(Charge.session_id == service.id, Charge.patient_only.is_(False), ~billed)
            .order_by(Charge.id)
        ).all()
        claim = Claim(
            practice_id=service.practice_id,
            number=f"SP{batch.id}-{row_number}"[:17],
            client_id=service.client_id,
            provider_id=service.provider_id,
            payer_id=payer_id,
            coverage_id=coverage_id,
            status=ClaimStatus.DRAFT.value,
            service_from_on=service.service_on,
            service_to_on=service.service_on,
            billed_cents=sum(c.fee_cents for c in charges),
            source=CHANNEL,
        )
        session.add(claim)
        session.flush()
        session.add_all(
            ClaimLine(
                practice_id=claim.practice_id,
                claim_id=claim.id,
                charge_id=charge.id,
                line_number=number,
                procedure_code=charge.procedure_code,
                modifiers=charge.modifiers,
                units=charge.units,
                charge_cents=charge.fee_cents,
                service_on=service.service_on,
            )
            for number, charge in enumerate(charges, start=1)
        )
        session.flush()
        for step in (ClaimStatus.READY, ClaimStatus.SUBMITTED):
            transition_claim(
                session,
                actor=actor,
                claim_id=claim.id,
                target=step,
                source=EventSource.IMPORT,
                detail="filed in SimplePractice",
            )
        return claim.id

    def _submit(
        self, session: Session, actor: Actor, claim_id: int, detail: dict[str, Any], zone: Any
    ) -> None:
        claim = session.get_one(Claim, claim_id)
        previous = session.scalar(
            select(Submission.id)
            .where(Submission.claim_id == claim_id)
            .order_by(Submission.submitted_at.desc())
            .limit(1)
        )
        at = (
            datetime.fromisoformat(detail["submitted_at"])
            if detail.get("submitted_at")
            else datetime.combine(date.fromisoformat(detail["submitted_on"]), time(12))
        )
        session.add(
            Submission(
                practice_id=claim.practice_id,
                claim_id=claim.id,
                channel=CHANNEL,
                frequency=claim.frequency,
                submitted_at=to_utc(at, zone),
                reference=detail["reference"][:80],
                clearinghouse_reference=detail["reference"][:80],
                payer_claim_control_number=detail["payer_claim"][:50],
                submitted_by_user_id=actor.user_id,
                previous_submission_id=previous,
            )
        )
        if detail["payer_claim"]:
            claim.payer_claim_control_number = detail["payer_claim"][:50]
        session.flush()
        why = "SimplePractice filed claims report"
        if detail.get("reported_status"):
            why += f": {detail['reported_status']} there, no payment recorded here yet"
        self._move(session, actor, claim, ClaimStatus(detail["status"]), why)

    def _move(self, session: Session, actor: Actor, claim: Claim, target: ClaimStatus, why: str) -> None:
        """Along the table: a resubmitted claim goes back to submitted first."""
        current = ClaimStatus(claim.status)
        steps = []
        if (
            current.value in _RESUBMITTABLE
            and target is not current
            and ClaimStatus.SUBMITTED in allowed_targets(current)
        ):
            steps.append(ClaimStatus.SUBMITTED)
            current = ClaimStatus.SUBMITTED
        if target is not current and target in allowed_targets(current):
            steps.append(target)
        for step in steps:
            transition_claim(
                session,
                actor=actor,
                claim_id=claim.id,
                target=step,
                source=EventSource.IMPORT,
                detail=why,
            )

    def discard(self, session: Session, batch: ImportBatch, *, actor: Actor) -> None:
        """Nothing beyond the outcome rows was staged."""


def _same_payer(ref: PayerRef, snapshot_payer: list[Any]) -> bool:
    name, payer_id = snapshot_payer[0], snapshot_payer[1]
    if ref.payer_id and payer_id:
        return bool(ref.payer_id.upper() == str(payer_id).upper())
    return payer_key(ref.name) == payer_key(str(name))
