"""The SimplePractice "Client details" and "Client demographics" reports: who the client is.

The appointment export names clients and nothing more; claims need the date of birth, sex,
address and the insurance member id. These reports fill them in (a blank cell never erases
what is known), creating clients the practice has not seen yet. After the update, a client
still missing something a claim needs is flagged on the sessions that will need it, and
flags the update settles (a member id now known, details now complete) resolve themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from revcycle.adapters.csv import (
    ClientDemographicRow,
    ClientDetailRow,
    ImportFormat,
    ParsedRow,
    PayerRef,
    RejectedRow,
)
from revcycle.db.models import Charge, ClaimLine, Client, Coverage, ImportBatch, ServiceSession, WorkItem
from revcycle.db.types import utcnow
from revcycle.domain.names import person_key
from revcycle.services.actor import Actor
from revcycle.services.imports.common import RowPlan
from revcycle.services.imports.directory import Directory
from revcycle.services.imports.flags import FlagSpec, dedupe_key, existing_flag_keys, write_flags
from revcycle.services.imports.handler import StageCounts
from revcycle.services.imports.staging import OutcomeWriter, load_outcomes
from revcycle.services.queries import OPEN_WORK_STATUSES

__all__ = ["ClientInfoHandler"]

_SEX = {"female": "F", "f": "F", "woman": "F", "male": "M", "m": "M", "man": "M"}
_CLIENT_FIELDS = (
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "phone",
    "email",
    "date_of_birth",
    "sex",
)


def _wanted(row: ClientDetailRow | ClientDemographicRow) -> dict[str, Any]:
    """The client fields the row gives (blank cells give nothing)."""
    values: dict[str, Any] = {}
    if isinstance(row, ClientDetailRow):
        if row.address:
            line1, _, line2 = row.address.replace("\r", "").partition("\n")
            values["address_line1"], values["address_line2"] = (
                line1.strip()[:200],
                " ".join(line2.split())[:200],
            )
        if row.state:
            values["state"] = row.state.strip().upper()[:2]
        for name, value in (
            ("city", row.city),
            ("postal_code", row.zip_code),
            ("phone", row.phone),
            ("email", row.email),
        ):
            if value:
                values[name] = value[:100]
    else:
        if row.date_of_birth:
            values["date_of_birth"] = row.date_of_birth.isoformat()
        if row.sex:
            values["sex"] = _SEX.get(row.sex.strip().lower(), "U")
        if row.city:
            values["city"] = row.city[:100]
        if row.zip_code:
            values["postal_code"] = row.zip_code[:10]
    return values


def _payer_json(ref: PayerRef | None) -> list[str | None] | None:
    return None if ref is None else [ref.name, ref.payer_id]


class ClientInfoHandler:
    def __init__(self, fmt: ImportFormat) -> None:
        self.format = fmt

    def stage(
        self, session: Session, batch: ImportBatch, rows: Iterator[ParsedRow | RejectedRow], *, actor: Actor
    ) -> StageCounts:
        writer = OutcomeWriter(session, batch)
        directory = Directory.load(session, batch.practice_id)
        current = self._current(session, batch.practice_id)
        members = self._member_ids(session, batch.practice_id)
        known = existing_flag_keys(session, batch.practice_id)
        for row in rows:
            if isinstance(row, RejectedRow):
                writer.reject(row)
                continue
            assert isinstance(row, ClientDetailRow | ClientDemographicRow)
            plan = self._plan(row, directory, current, members)
            writer.add(row.row_number, plan.outcome(known), plan.to_detail())
        return writer.counts()

    def _current(self, session: Session, practice_id: int) -> dict[int, dict[str, Any]]:
        columns = [getattr(Client, name) for name in _CLIENT_FIELDS]
        found = {}
        for client_id, *values in session.execute(
            select(Client.id, *columns).where(Client.practice_id == practice_id)
        ):
            record = dict(zip(_CLIENT_FIELDS, values, strict=True))
            if record["date_of_birth"] is not None:
                record["date_of_birth"] = record["date_of_birth"].isoformat()
            found[client_id] = record
        return found

    def _member_ids(self, session: Session, practice_id: int) -> dict[int, str]:
        found: dict[int, str] = {}
        for client_id, member_id in session.execute(
            select(Coverage.client_id, Coverage.member_id)
            .where(Coverage.practice_id == practice_id, Coverage.priority == "primary")
            .order_by(Coverage.id)
        ):
            found.setdefault(client_id, member_id)
        return found

    def _plan(
        self,
        row: ClientDetailRow | ClientDemographicRow,
        directory: Directory,
        current: dict[int, dict[str, Any]],
        members: dict[int, str],
    ) -> RowPlan:
        wanted = _wanted(row)
        detail: dict[str, Any] = {"client": row.client_name, "set": wanted}
        member = row.member_id if isinstance(row, ClientDetailRow) else None
        if isinstance(row, ClientDetailRow) and (member or row.primary_insurance):
            detail["coverage"] = {"payer": _payer_json(row.primary_insurance), "member_id": member}
        client_id = directory.client(row.client_name)
        if client_id is None:
            return RowPlan(row.row_number, "new", detail)
        now = current.get(client_id, {})
        diff = {k: [now.get(k), v] for k, v in wanted.items() if now.get(k) != v}
        if member and members.get(client_id, "") != member:
            diff["member_id"] = [members.get(client_id) or None, member]
        detail["client_id"], detail["diff"] = client_id, diff
        return RowPlan(row.row_number, "updated" if diff else "unchanged", detail)

    def commit(self, session: Session, batch: ImportBatch, *, actor: Actor) -> dict[str, int]:
        directory = Directory.load(session, batch.practice_id)
        work = load_outcomes(session, batch, outcomes=("new", "updated", "flagged", "unchanged"))
        details = [d for _o, _r, _out, d, _s in work if "client" in d]
        new_names = [d["client"] for d in details if d["change"] == "new"]
        directory.ensure_clients(session, new_names)
        client_ids: set[int] = set()
        written = {"clients": len(set(map(person_key, new_names))), "clients_updated": 0, "coverages": 0}
        for detail in details:
            client_id = directory.clients[person_key(detail["client"])]
            client_ids.add(client_id)
            if detail["change"] == "unchanged":
                continue
            values = dict(detail["set"])
            if values:
                if "date_of_birth" in values:
                    values["date_of_birth"] = date.fromisoformat(values["date_of_birth"])
                session.execute(
                    update(Client)
                    .where(Client.id == client_id)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
                written["clients_updated"] += 1
            if "coverage" in detail:
                written["coverages"] += self._coverage(
                    session, batch.practice_id, directory, client_id, detail["coverage"]
                )
        written["flags"] = self._check_complete(session, batch.practice_id, sorted(client_ids), actor)
        return written

    def _coverage(
        self, session: Session, practice_id: int, directory: Directory, client_id: int, wanted: dict[str, Any]
    ) -> int:
        member_id = (wanted.get("member_id") or "")[:40]
        payer = wanted.get("payer")
        payer_id = directory.ensure_payer(session, PayerRef(payer[0], payer[1]))[0] if payer else None
        query = (
            select(Coverage)
            .where(Coverage.client_id == client_id)
            .order_by(Coverage.priority != "primary", Coverage.id)
        )
        if payer_id is not None:
            query = query.where(Coverage.payer_id == payer_id)
        coverage = session.scalars(query).first()
        if coverage is None:
            if payer_id is None:
                return 0
            session.add(
                Coverage(
                    practice_id=practice_id,
                    client_id=client_id,
                    payer_id=payer_id,
                    member_id=member_id,
                    priority="primary",
                )
            )
            session.flush()
            return 1
        if member_id and coverage.member_id != member_id:
            coverage.member_id = member_id
            session.flush()
        return 0

    def _check_complete(self, session: Session, practice_id: int, client_ids: list[int], actor: Actor) -> int:
        """Flag what claims still lack on the sessions that need it; settle what is now known."""
        if not client_ids:
            return 0
        clients = session.scalars(
            select(Client).where(Client.id.in_(client_ids)).execution_options(populate_existing=True)
        ).all()
        members = self._member_ids(session, practice_id)
        insured = {
            cid
            for (cid,) in session.execute(
                select(Coverage.client_id).where(Coverage.client_id.in_(client_ids))
            )
        }
        needing = self._sessions_needing_claims(session, client_ids)
        specs: list[FlagSpec] = []
        complete: list[int] = []
        for client in clients:
            missing = [
                label
                for label, lacking in (
                    ("date of birth", client.date_of_birth is None),
                    ("address", not client.address_line1),
                    ("sex", client.sex not in {"F", "M"}),
                    ("member id", client.id in insured and not members.get(client.id)),
                )
                if lacking
            ]
            if not missing:
                complete.append(client.id)
                continue
            waiting = len(needing.get(client.id, []))
            if waiting:  # one flag for the client: it holds each of their sessions
                plural = "s" if waiting != 1 else ""
                specs.append(
                    FlagSpec(
                        "missing_client_info",
                        dedupe_key("missing_client_info", person_key(client.display_name), client.id),
                        f"{client.display_name}: {', '.join(missing)} missing "
                        f"(a claim needs them; {waiting} session{plural} waiting)",
                        None,
                        client.id,
                    )
                )
        self._settle(session, practice_id, complete, members, actor)
        return write_flags(session, practice_id, specs)

    def _sessions_needing_claims(self, session: Session, client_ids: list[int]) -> dict[int, list[int]]:
        """Insurance sessions not yet on a claim, by client."""
        billed = exists().where(ClaimLine.charge_id == Charge.id)
        found: dict[int, list[int]] = {}
        for sid, client_id in session.execute(
            select(ServiceSession.id, ServiceSession.client_id)
            .join(Charge, Charge.session_id == ServiceSession.id)
            .where(
                ServiceSession.client_id.in_(client_ids),
                ServiceSession.self_pay.is_(False),
                Charge.patient_only.is_(False),
                ~billed,
            )
            .distinct()
        ):
            found.setdefault(client_id, []).append(sid)
        return found

    def _settle(
        self, session: Session, practice_id: int, complete: list[int], members: dict[int, str], actor: Actor
    ) -> None:
        with_member = [cid for cid, member in members.items() if member]
        for rule, ids in (("missing_client_info", complete), ("missing_member_id", with_member)):
            if not ids:
                continue
            session.execute(
                update(WorkItem)
                .where(
                    WorkItem.practice_id == practice_id,
                    WorkItem.rule == rule,
                    WorkItem.status.in_(OPEN_WORK_STATUSES),
                    WorkItem.client_id.in_(ids),
                )
                .values(
                    status="resolved",
                    resolution="settled by a client report import",
                    resolved_by_user_id=actor.user_id,
                    resolved_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )

    def discard(self, session: Session, batch: ImportBatch, *, actor: Actor) -> None:
        """Nothing beyond the outcome rows was staged."""
