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

The queue is read in groups (:func:`review_groups`): one row per rule, or per rule and
subject where a flag's title names one ("Unknown payer: X"), with how many flags it holds.
Forty "note not locked" flags are one line, and one click settles them all
(:func:`resolve_group`) for the resolutions that make sense in bulk (:data:`BULK_RESOLUTIONS`):
each flag still gets its own resolution and audit entry, all in one transaction.
:func:`resolve_flags` does the same for any list of flags (the demo's routine reviewing).

A flag about a client, a clinician or a payer as a whole has no session: the queue shows the
client, clinician or payer it is about instead of a session's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, insert, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.ledger import Account, PostingLine
from revcycle.domain.ledger_events import ChargeRef, InsuranceRef, TransactionKind, payer_correction
from revcycle.domain.names import payer_key
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.imports.flags import FLAG_KIND, RULES
from revcycle.services.imports.simplepractice import DUPLICATE_MODIFIER
from revcycle.services.ledger import post_transaction
from revcycle.services.queries import OPEN_WORK_STATUSES, load_work_item, work_item_conditions
from revcycle.services.scoping import DEFAULT_LIMIT, Page, clamp_limit

__all__ = [
    "BULK_RESOLUTIONS",
    "FlagGroup",
    "FlagView",
    "group_flags",
    "merge_clients",
    "resolve_flag",
    "resolve_flags",
    "resolve_group",
    "review_groups",
    "review_queue",
]

# Rules whose flags are about one payer or clinician (grouped by title), not one session.
_GROUPED_RULES = frozenset({"unknown_payer", "unknown_clinician"})
# Resolutions that need no value and decide nothing per flag: safe to apply to a whole group.
BULK_RESOLUTIONS = frozenset(
    {"acknowledge", "recheck_after_next_import", "keep_new_clinician", "keep_new_payer", "accept_fee"}
)
_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class FlagView:
    """An open flag as the review queue shows it."""

    item: m.WorkItem
    resolutions: tuple[str, ...]
    starts_at: datetime | None
    client_name: str | None
    provider_name: str | None
    payer_name: str | None = None

    @property
    def about(self) -> str:
        """What the flag is about, for a flag without a session: its client, clinician or payer."""
        return " · ".join(name for name in (self.client_name, self.provider_name, self.payer_name) if name)


def _resolutions_of(rule: str) -> tuple[str, ...]:
    return RULES[rule].resolutions if rule in RULES else ("acknowledge",)


def _flag_conditions(
    actor: Actor, practice_id: int | None, rule: str | None, title: str | None
) -> list[ColumnElement[bool]]:
    conditions = [
        *work_item_conditions(actor, practice_id, FLAG_KIND),
        m.WorkItem.status.in_(OPEN_WORK_STATUSES),
    ]
    if rule:
        conditions.append(m.WorkItem.rule == rule)
    if title:
        conditions.append(m.WorkItem.title == title)
    return conditions


def review_queue(
    session: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    rule: str | None = None,
    title: str | None = None,
    session_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[FlagView]:
    """Open (and acknowledged) import flags, the ones that hold billing first; ``rule`` and
    ``title`` narrow it to one group of :func:`review_groups`."""
    conditions = _flag_conditions(actor, practice_id, rule, title)
    if session_id is not None:
        conditions.append(m.WorkItem.session_id == session_id)
    total = session.scalar(select(func.count()).select_from(m.WorkItem).where(*conditions)) or 0
    return Page(_views(session, conditions, limit=clamp_limit(limit), offset=max(offset, 0)), total)


# Holding flags first; within them, flags about a whole client, clinician or payer (no session)
# before those about one session, sessions by time.
_QUEUE_ORDER = (
    m.WorkItem.holds_billing.desc(),
    m.ServiceSession.starts_at.asc().nulls_first(),
    m.WorkItem.id,
)


def _views(
    session: Session, conditions: list[ColumnElement[bool]], *, limit: int | None = None, offset: int = 0
) -> list[FlagView]:
    # A flag about a clinician names them itself; one about a session, through the session.
    provider = aliased(m.Provider)
    client_id = func.coalesce(m.WorkItem.client_id, m.ServiceSession.client_id)
    provider_id = func.coalesce(m.WorkItem.provider_id, m.ServiceSession.provider_id)
    query = (
        select(
            m.WorkItem,
            m.ServiceSession.starts_at,
            m.Client.first_name,
            m.Client.last_name,
            provider.first_name,
            provider.last_name,
            m.Payer.name,
        )
        .outerjoin(m.ServiceSession, m.ServiceSession.id == m.WorkItem.session_id)
        .outerjoin(m.Client, m.Client.id == client_id)
        .outerjoin(provider, provider.id == provider_id)
        .outerjoin(m.Payer, m.Payer.id == m.WorkItem.payer_id)
        .where(*conditions)
        .order_by(*_QUEUE_ORDER)
        .limit(limit)
        .offset(offset)
    )
    return [
        FlagView(
            item=item,
            resolutions=_resolutions_of(item.rule),
            starts_at=starts_at,
            client_name=f"{cf} {cl}" if cl is not None else None,
            provider_name=f"{pf} {pl}" if pl is not None else None,
            payer_name=payer,
        )
        for item, starts_at, cf, cl, pf, pl, payer in session.execute(query)
    ]


# --- groups ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagGroup:
    """Open flags of one rule and title: a rule's own title, or one naming a subject."""

    practice_id: int
    rule: str
    title: str
    count: int
    waiting: int  # acknowledged: waiting for the next import to settle them
    holds_billing: bool
    severity: str
    resolutions: tuple[str, ...]

    @property
    def bulk_resolutions(self) -> tuple[str, ...]:
        """The rule's resolutions that may settle the whole group at once (and have flags
        left to settle: those waiting for the next import need no second recheck)."""
        return tuple(r for r in self.resolutions if r in BULK_RESOLUTIONS and self.bulk_count(r))

    def bulk_count(self, resolution: str) -> int:
        """How many flags settling the group with ``resolution`` would touch."""
        return self.count - self.waiting if resolution == "recheck_after_next_import" else self.count

    @property
    def subject(self) -> str | None:
        """The payer, clinician ... a title like "Unknown payer: X" names, if any."""
        rule = RULES.get(self.rule)
        if rule is None or self.title == rule.title or ": " not in self.title:
            return None
        return self.title.split(": ", 1)[1]


def review_groups(
    session: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    rule: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[FlagGroup]:
    """The review queue one row per group of open flags (rule, title), with how many each
    holds; groups holding billing first, then the largest."""
    conditions = _flag_conditions(actor, practice_id, rule, None)
    count = func.count().label("n")
    holds = func.max(case((m.WorkItem.holds_billing, 1), else_=0)).label("holds")
    waiting = func.sum(case((m.WorkItem.status == "acknowledged", 1), else_=0)).label("waiting")
    grouped = (
        select(m.WorkItem.practice_id, m.WorkItem.rule, m.WorkItem.title, count, holds, waiting)
        .where(*conditions)
        .group_by(m.WorkItem.practice_id, m.WorkItem.rule, m.WorkItem.title)
    )
    total = session.scalar(select(func.count()).select_from(grouped.subquery())) or 0
    query = (
        grouped.order_by(
            holds.desc(), count.desc(), m.WorkItem.rule, m.WorkItem.title, m.WorkItem.practice_id
        )
        .limit(clamp_limit(limit))
        .offset(max(offset, 0))
    )
    items = [
        FlagGroup(
            practice_id=pid,
            rule=rule_name,
            title=title,
            count=int(n),
            waiting=int(acknowledged or 0),
            holds_billing=bool(held),
            severity=RULES[rule_name].severity if rule_name in RULES else "info",
            resolutions=_resolutions_of(rule_name),
        )
        for pid, rule_name, title, n, held, acknowledged in session.execute(query)
    ]
    return Page(items, total)


def group_flags(
    session: Session, *, actor: Actor, groups: list[FlagGroup], per_group: int = 10
) -> dict[tuple[int, str, str], list[FlagView]]:
    """The first ``per_group`` flags of each group (by practice, rule and title), in queue
    order: what a group shows when it is expanded. Two queries for all the groups."""
    if not groups:
        return {}
    practices = sorted({g.practice_id for g in groups})
    conditions = [
        *_flag_conditions(actor, practices[0] if len(practices) == 1 else None, None, None),
        m.WorkItem.practice_id.in_(practices),
        m.WorkItem.rule.in_(sorted({g.rule for g in groups})),
        m.WorkItem.title.in_(sorted({g.title for g in groups})),
    ]
    place = (
        func.row_number()
        .over(partition_by=(m.WorkItem.practice_id, m.WorkItem.rule, m.WorkItem.title), order_by=_QUEUE_ORDER)
        .label("place")
    )
    ranked = (
        select(m.WorkItem.id, place)
        .outerjoin(m.ServiceSession, m.ServiceSession.id == m.WorkItem.session_id)
        .where(*conditions)
        .subquery()
    )
    first = select(ranked.c.id).where(ranked.c.place <= per_group)
    wanted = {(g.practice_id, g.rule, g.title) for g in groups}
    found: dict[tuple[int, str, str], list[FlagView]] = {key: [] for key in wanted}
    for view in _views(session, [m.WorkItem.id.in_(first)]):
        key = (view.item.practice_id, view.item.rule, view.item.title)
        if key in found:
            found[key].append(view)
    return found


# --- resolving -----------------------------------------------------------------------------


def resolve_flag(
    session: Session,
    *,
    actor: Actor,
    work_item_id: int,
    resolution: str,
    note: str = "",
    value: str = "",
    settle_siblings: bool = True,
) -> m.WorkItem:
    """Settle an import flag with one of its rule's resolutions (``value``: a payer id for
    ``map_to_payer``, the member id for ``add_member_id``). A flag about a payer or clinician
    settles that subject's other open flags too, unless ``settle_siblings`` is off (when each
    of them is being settled on its own, as a group is)."""
    item = load_work_item(session, actor, work_item_id)
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
    siblings = _settle(session, actor, item, status, text, with_siblings=settle_siblings)
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


def _settle(
    session: Session, actor: Actor, item: m.WorkItem, status: str, text: str, *, with_siblings: bool
) -> list[int]:
    now = utcnow() if status == "resolved" else None
    values: dict[str, Any] = {
        "status": status,
        "resolution": text,
        "resolved_by_user_id": actor.user_id,
        "resolved_at": now,
    }
    condition: ColumnElement[bool] = m.WorkItem.id == item.id
    siblings: list[int] = []
    if with_siblings and item.rule in _GROUPED_RULES:
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


def resolve_flags(
    session: Session,
    *,
    actor: Actor,
    work_item_ids: list[int],
    resolution: str,
    note: str = "",
) -> list[m.WorkItem]:
    """Settle several flags with one resolution, each on its own (its own resolution text and
    audit entry, as if a person had clicked it), all or none: a flag that refuses the
    resolution refuses the lot."""
    settled = []
    with session.begin_nested():
        for work_item_id in work_item_ids:
            settled.append(
                resolve_flag(
                    session,
                    actor=actor,
                    work_item_id=work_item_id,
                    resolution=resolution,
                    note=note,
                    settle_siblings=False,
                )
            )
    return settled


def resolve_group(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    rule: str,
    title: str,
    resolution: str,
    note: str = "",
) -> list[m.WorkItem]:
    """Settle every open flag of one group of the queue (``rule`` and ``title``) with a
    resolution that makes sense in bulk; each flag is resolved and audited on its own."""
    actor.require(practice_id, Permission.ENTER_CHARGES)
    if rule not in RULES:
        raise InvalidInput(f"rule: {rule!r} is not an import flag rule")
    allowed = [r for r in RULES[rule].resolutions if r in BULK_RESOLUTIONS]
    if resolution not in allowed:
        choices = ", ".join(allowed) if allowed else "none: settle them one by one"
        raise InvalidInput(
            f"resolution: {resolution!r} cannot settle a group of {rule} flags at once (choose {choices})"
        )
    # Rechecking leaves a flag acknowledged: those already waiting need nothing more.
    statuses = ("open",) if resolution == "recheck_after_next_import" else OPEN_WORK_STATUSES
    ids = list(
        session.scalars(
            select(m.WorkItem.id)
            .where(
                m.WorkItem.practice_id == practice_id,
                m.WorkItem.kind == FLAG_KIND,
                m.WorkItem.rule == rule,
                m.WorkItem.title == title,
                m.WorkItem.status.in_(statuses),
            )
            .order_by(m.WorkItem.id)
        )
    )
    if not ids:
        raise Conflict(f'no open flags left in "{title}"; someone may have settled them meanwhile')
    return resolve_flags(session, actor=actor, work_item_ids=ids, resolution=resolution, note=note)


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
    # Claims an AR portfolio import opened under the unknown payer go with it, and what the
    # ledger says they owe moves by a correction transaction (history is never edited).
    claims = session.execute(
        update(m.Claim)
        .where(m.Claim.practice_id == item.practice_id, m.Claim.payer_id == unknown_id)
        .values(payer_id=target.id)
        .execution_options(synchronize_session=False)
    )
    moved_cents = _move_payer_balances(session, actor, item.practice_id, unknown_id, target.id)
    session.flush()
    return {
        "alias": bare,
        "from_payer_id": unknown_id,
        "to_payer_id": target.id,
        "coverages_moved": moved.rowcount,  # type: ignore[attr-defined]
        "claims_moved": claims.rowcount,  # type: ignore[attr-defined]
        "balance_moved_cents": moved_cents,
    }


def _move_payer_balances(session: Session, actor: Actor, practice_id: int, wrong: int, right: int) -> int:
    """Post one payer-correction transaction moving every open insurance balance recorded
    under ``wrong`` to ``right`` (per claim, charge and coverage); returns the sum moved."""
    owed = session.execute(
        select(
            m.Posting.claim_id,
            m.Posting.charge_id,
            m.Posting.client_id,
            m.Posting.coverage_id,
            func.sum(m.Posting.amount_cents),
        )
        .where(
            m.Posting.practice_id == practice_id,
            m.Posting.account == Account.AR_INSURANCE.value,
            m.Posting.payer_id == wrong,
            m.Posting.coverage_id.is_not(None),  # always so on ar:insurance (the ledger checks)
        )
        .group_by(m.Posting.claim_id, m.Posting.charge_id, m.Posting.client_id, m.Posting.coverage_id)
        .having(func.sum(m.Posting.amount_cents) != 0)
    ).all()
    lines: list[PostingLine] = []
    for claim_id, charge_id, client_id, coverage_id, cents in owed:
        assert coverage_id is not None  # required on ar:insurance (the ledger checks)
        assert client_id is not None
        ref = ChargeRef(charge_id=charge_id, client_id=client_id, claim_id=claim_id)
        lines.extend(
            payer_correction(
                int(cents), ref, InsuranceRef(coverage_id, wrong), InsuranceRef(coverage_id, right)
            )
        )
    if lines:
        post_transaction(
            session,
            actor=actor,
            practice_id=practice_id,
            kind=TransactionKind.PAYER_CORRECTION,
            accounting_on=utcnow().date(),
            lines=lines,
            memo=f"unknown payer {wrong} is payer {right}",
        )
    return sum(int(cents) for *_ids, cents in owed)


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
