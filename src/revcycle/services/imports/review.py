"""The review queue: open import flags with their sessions, and their one-click resolutions.

Each rule in :data:`~revcycle.services.imports.flags.RULES` lists the resolutions a person
may choose. Some only close the flag (acknowledge, keep one of two duplicates); others
change billing data as they do so — mark the session self-pay, map an unknown payer onto an
existing one (the name becomes an alias, coverages move), record a member id, keep both of
two duplicate charges (the second as a repeat procedure, modifier 76). "Recheck after next
import" leaves the flag acknowledged (still holding billing) until the EHR's next export
settles it, as the note status comes from the EHR, not from here. Every resolution is
audited.

Resolving a flag about a payer or a clinician resolves that payer's or clinician's other open
flags too: one decision, not one per session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.names import payer_key
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.imports.flags import FLAG_KIND, RULES
from revcycle.services.imports.simplepractice import DUPLICATE_MODIFIER
from revcycle.services.queries import OPEN_WORK_STATUSES
from revcycle.services.scoping import DEFAULT_LIMIT, Page, clamp_limit, practice_scopes, visible

__all__ = ["FlagView", "merge_clients", "resolve_flag", "review_queue"]

# Rules whose flags are about one payer or clinician (grouped by title), not one session.
_GROUPED_RULES = frozenset({"unknown_payer", "unknown_clinician"})


@dataclass(frozen=True)
class FlagView:
    """An open flag as the review queue shows it."""

    item: m.WorkItem
    resolutions: tuple[str, ...]
    starts_at: datetime | None
    client_name: str | None
    provider_name: str | None


def review_queue(
    session: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    rule: str | None = None,
    session_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[FlagView]:
    """Open (and acknowledged) import flags, the ones that hold billing first."""
    scopes = practice_scopes(actor, Permission.VIEW_WORK_QUEUE, practice_id)
    conditions: list[ColumnElement[bool]] = [
        visible(m.WorkItem, actor, scopes),
        m.WorkItem.kind == FLAG_KIND,
        m.WorkItem.status.in_(OPEN_WORK_STATUSES),
    ]
    if rule:
        conditions.append(m.WorkItem.rule == rule)
    if session_id is not None:
        conditions.append(m.WorkItem.session_id == session_id)
    total = session.scalar(select(func.count()).select_from(m.WorkItem).where(*conditions)) or 0
    query = (
        select(
            m.WorkItem,
            m.ServiceSession.starts_at,
            m.Client.first_name,
            m.Client.last_name,
            m.Provider.first_name,
            m.Provider.last_name,
        )
        .outerjoin(m.ServiceSession, m.ServiceSession.id == m.WorkItem.session_id)
        .outerjoin(m.Client, m.Client.id == m.WorkItem.client_id)
        .outerjoin(m.Provider, m.Provider.id == m.ServiceSession.provider_id)
        .where(*conditions)
        .order_by(m.WorkItem.holds_billing.desc(), m.ServiceSession.starts_at, m.WorkItem.id)
        .limit(clamp_limit(limit))
        .offset(max(offset, 0))
    )
    items = [
        FlagView(
            item=item,
            resolutions=RULES[item.rule].resolutions if item.rule in RULES else ("acknowledge",),
            starts_at=starts_at,
            client_name=f"{cf} {cl}" if cl is not None else None,
            provider_name=f"{pf} {pl}" if pl is not None else None,
        )
        for item, starts_at, cf, cl, pf, pl in session.execute(query)
    ]
    return Page(items, total)


# --- resolving -----------------------------------------------------------------------------


def _load_flag(session: Session, actor: Actor, work_item_id: int) -> m.WorkItem:
    item = session.get(m.WorkItem, work_item_id, populate_existing=True)
    if item is None or not (actor.is_system or item.practice_id in actor.practice_ids):
        raise NotFound(f"work item {work_item_id} not found")
    return item


def resolve_flag(
    session: Session,
    *,
    actor: Actor,
    work_item_id: int,
    resolution: str,
    note: str = "",
    value: str = "",
) -> m.WorkItem:
    """Settle an import flag with one of its rule's resolutions (``value``: a payer id for
    ``map_to_payer``, the member id for ``add_member_id``)."""
    item = _load_flag(session, actor, work_item_id)
    actor.require(item.practice_id, Permission.ENTER_CHARGES)
    if item.kind != FLAG_KIND or item.rule not in RULES:
        raise InvalidInput(f"work item {item.id} is not an import flag")
    allowed = RULES[item.rule].resolutions
    if resolution not in allowed:
        raise InvalidInput(
            f"resolution: {resolution!r} does not settle a {item.rule} flag (choose {', '.join(allowed)})"
        )
    if item.status == "resolved":
        raise Conflict(f"flag {item.id} is already resolved ({item.resolution})")
    before = {"status": item.status, "resolution": item.resolution}
    effect = _EFFECTS.get(resolution, _no_effect)(session, actor, item, value)
    text = resolution + (f": {note.strip()}" if note.strip() else "")
    status = "acknowledged" if resolution == "recheck_after_next_import" else "resolved"
    siblings = _settle(session, actor, item, status, text)
    audit.record(
        session,
        actor=actor,
        practice_id=item.practice_id,
        action="update",
        entity="work_item",
        entity_id=item.id,
        client_ids=[item.client_id] if item.client_id else [],
        before=before,
        after={"status": status, "resolution": text, "effect": effect, "also_settled": siblings},
        reason=note,
    )
    return item


def _settle(session: Session, actor: Actor, item: m.WorkItem, status: str, text: str) -> list[int]:
    now = utcnow() if status == "resolved" else None
    values: dict[str, Any] = {
        "status": status,
        "resolution": text,
        "resolved_by_user_id": actor.user_id,
        "resolved_at": now,
    }
    condition: ColumnElement[bool] = m.WorkItem.id == item.id
    siblings: list[int] = []
    if item.rule in _GROUPED_RULES:
        siblings = list(
            session.scalars(
                select(m.WorkItem.id).where(
                    m.WorkItem.practice_id == item.practice_id,
                    m.WorkItem.rule == item.rule,
                    m.WorkItem.title == item.title,
                    m.WorkItem.status.in_(OPEN_WORK_STATUSES),
                    m.WorkItem.id != item.id,
                )
            )
        )
        condition = m.WorkItem.id.in_([item.id, *siblings])
    session.execute(
        update(m.WorkItem).where(condition).values(**values).execution_options(synchronize_session=False)
    )
    session.refresh(item)
    return siblings


def _no_effect(session: Session, actor: Actor, item: m.WorkItem, value: str) -> dict[str, Any]:
    return {}


def _mark_self_pay(session: Session, actor: Actor, item: m.WorkItem, value: str) -> dict[str, Any]:
    service = _session_of(session, item)
    service.self_pay = True
    session.flush()
    return {"session_id": service.id, "self_pay": True}


def _session_of(session: Session, item: m.WorkItem) -> m.ServiceSession:
    if item.session_id is None:
        raise InvalidInput(f"flag {item.id} is not about a session")
    return session.get_one(m.ServiceSession, item.session_id)


def _add_member_id(session: Session, actor: Actor, item: m.WorkItem, value: str) -> dict[str, Any]:
    member_id = value.strip()
    if not member_id or len(member_id) > 40:
        raise InvalidInput("value: give the member id (1 to 40 characters)")
    client_id = item.client_id or _session_of(session, item).client_id
    coverage = session.scalars(
        select(m.Coverage)
        .where(m.Coverage.client_id == client_id, m.Coverage.member_id == "")
        .order_by(m.Coverage.priority != "primary", m.Coverage.id)
    ).first()
    if coverage is None:
        raise InvalidInput(f"the client of flag {item.id} has no coverage without a member id")
    coverage.member_id = member_id
    session.flush()
    _resolve_client_flags(session, actor, item, "missing_member_id", f"add_member_id: {member_id}")
    return {"coverage_id": coverage.id, "member_id": member_id}


def _resolve_client_flags(session: Session, actor: Actor, item: m.WorkItem, rule: str, text: str) -> None:
    if item.client_id is None:
        return
    session.execute(
        update(m.WorkItem)
        .where(
            m.WorkItem.practice_id == item.practice_id,
            m.WorkItem.client_id == item.client_id,
            m.WorkItem.rule == rule,
            m.WorkItem.status.in_(OPEN_WORK_STATUSES),
            m.WorkItem.id != item.id,
        )
        .values(status="resolved", resolution=text, resolved_by_user_id=actor.user_id, resolved_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _map_to_payer(session: Session, actor: Actor, item: m.WorkItem, value: str) -> dict[str, Any]:
    if not value.strip().isdigit():
        raise InvalidInput("value: give the id of the payer this name stands for")
    target = session.get(m.Payer, int(value))
    if target is None:
        raise InvalidInput(f"value: there is no payer {value}")
    name = item.title.split(": ", 1)[-1]
    bare = name.rsplit(" (", 1)[0] if name.endswith(")") else name
    alias = session.scalars(
        select(m.PayerAlias).where(m.PayerAlias.normalized == payer_key(bare))
    ).one_or_none()
    if alias is None:
        raise InvalidInput(f"flag {item.id}: the payer {name!r} is no longer in the catalog")
    unknown_id = alias.payer_id
    alias.payer_id = target.id
    moved = session.execute(
        update(m.Coverage)
        .where(m.Coverage.practice_id == item.practice_id, m.Coverage.payer_id == unknown_id)
        .values(payer_id=target.id)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return {
        "alias": bare,
        "from_payer_id": unknown_id,
        "to_payer_id": target.id,
        "coverages_moved": moved.rowcount,  # type: ignore[attr-defined]
    }


def _keep_both(session: Session, actor: Actor, item: m.WorkItem, value: str) -> dict[str, Any]:
    """The second of two identical rows becomes its own charge (a repeat procedure)."""
    service = _session_of(session, item)
    outcomes = session.scalars(
        select(m.ImportRowOutcome).where(
            m.ImportRowOutcome.session_id == service.id, m.ImportRowOutcome.outcome == "flagged"
        )
    )
    row = next(
        (
            o.detail["row"]
            for o in outcomes
            if o.detail.get("change") == "duplicate"
            and any(flag.get("key") == item.dedupe_key for flag in o.detail.get("flags", []))
        ),
        None,
    )
    if row is None:
        raise InvalidInput(f"flag {item.id}: the duplicate row is no longer known")
    exists = session.scalar(
        select(m.Charge.id).where(
            m.Charge.session_id == service.id,
            m.Charge.procedure_code == row["code"],
            m.Charge.modifiers == DUPLICATE_MODIFIER,
        )
    )
    if exists is not None:
        raise Conflict(f"session {service.id} already has a repeat {row['code']} charge")
    session.execute(
        insert(m.Charge),
        [
            {
                "practice_id": item.practice_id,
                "session_id": service.id,
                "procedure_code": row["code"],
                "modifiers": DUPLICATE_MODIFIER,
                "units": row["units"] or 1,
                "fee_cents": row["fee_cents"],
                "source_snapshot": row,
            }
        ],
    )
    return {"session_id": service.id, "code": row["code"], "modifiers": DUPLICATE_MODIFIER}


_EFFECTS = {
    "mark_self_pay": _mark_self_pay,
    "add_member_id": _add_member_id,
    "map_to_payer": _map_to_payer,
    "keep_both": _keep_both,
}


# --- merging clients -----------------------------------------------------------------------


def merge_clients(session: Session, *, actor: Actor, keep_id: int, merge_id: int) -> m.Client:
    """Two clients that are one person: move the second's records onto the first, keep the
    second as a pointer (``merged_into_id``) so later imports under its name land right."""
    if keep_id == merge_id:
        raise InvalidInput("merge: a client cannot be merged into itself")
    keep, merge = session.get(m.Client, keep_id), session.get(m.Client, merge_id)
    for client, given in ((keep, keep_id), (merge, merge_id)):
        if client is None or not (actor.is_system or client.practice_id in actor.practice_ids):
            raise NotFound(f"client {given} not found")
    assert keep is not None
    assert merge is not None
    actor.require(keep.practice_id, Permission.ENTER_CHARGES)
    if keep.practice_id != merge.practice_id:
        raise InvalidInput("merge: the clients belong to different practices")
    if merge.merged_into_id is not None or keep.merged_into_id is not None:
        raise Conflict("merge: one of the clients was already merged")
    kept = select(m.ServiceSession.provider_id, m.ServiceSession.starts_at).where(
        m.ServiceSession.client_id == keep.id
    )
    clash = session.execute(
        select(m.ServiceSession.id, m.ServiceSession.starts_at).where(
            m.ServiceSession.client_id == merge.id,
            tuple_(m.ServiceSession.provider_id, m.ServiceSession.starts_at).in_(kept),
        )
    ).first()
    if clash is not None:
        raise Conflict(
            f"merge: both clients have a session with the same clinician at {clash.starts_at:%m/%d/%Y %H:%M} "
            f"UTC (session {clash.id}); resolve that duplicate first"
        )
    moved: dict[str, int] = {}
    for model in (
        m.ServiceSession,
        m.Coverage,
        m.Guarantor,
        m.Claim,
        m.WorkItem,
        m.Payment,
        m.Statement,
        m.PaymentPlan,
        m.Authorization,
    ):
        result = session.execute(
            update(model)
            .where(model.client_id == merge.id)
            .values(client_id=keep.id)
            .execution_options(synchronize_session=False)
        )
        moved[model.__tablename__] = result.rowcount  # type: ignore[attr-defined]
    merge.merged_into_id = keep.id
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=keep.practice_id,
        action="update",
        entity="client",
        entity_id=merge.id,
        client_ids=[keep.id, merge.id],
        before={"merged_into_id": None},
        after={"merged_into_id": keep.id, "moved": moved},
        reason="clients merged",
    )
    return keep
