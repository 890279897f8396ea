"""Alerts: the practice's rules run over its sessions and claims, raised and resolved by themselves.

An alert is a work item of kind ``alert`` with the rule that raised it, a severity, the role
that owns it (director, billing, admin) and the person it is assigned to, and a dedupe key
(``alert:<rule>:<session|claim|practice|contract>:<id>``, plus ``:<role>`` for a rule with two owners)
unique in the practice, so a rule keeps one alert per subject. The rules themselves are pure
(``domain.alert_rules``); :func:`run_alerts` gathers their facts in bulk (a few queries per
practice, whatever its size), evaluates them at an injected ``now`` and reconciles:

* a new match opens an alert;
* an open or acknowledged alert that still matches stays as it is (acknowledged stays
  acknowledged), its severity, detail and due date brought up to date; a rise in severity (a
  filing deadline a week away) takes an acknowledged alert back to open;
* an open or acknowledged alert that no longer matches is resolved ("condition cleared: ...");
* a resolved alert whose condition comes back is reopened (the same row: the key is unique).
  An alert a person resolved by hand while its condition still held stays resolved as long
  as the condition holds (their decision stands); once the condition has cleared (the
  resolution then notes it), a return reopens it.

Who an alert is assigned to: the practice's ``settings["alert_assignees"]``
(``{"director": user_id, "billing": user_id, "admin": user_id}``) when it names an active
member; else the first active member with the role: for director, the first admin whose
e-mail starts with "director", else the first admin; for billing, the first billing member,
else the first admin; for admin, the first admin.

People acknowledge or resolve an alert by hand (billing or admin), each audited. A run is
audited once, with its counts.

:func:`missing_claims` is the missing-claims check: every billable session (held, not
self-pay, insured on its date of service, note locked, no open flag holding it, a charge for
insurance) at least 7 days old that has no submission on any claim that is not void.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.alert_rules import (
    CLEARED,
    SEVERITY_RANK,
    AlertMatch,
    ClaimAlertFacts,
    ContractAlertFacts,
    OwnerRole,
    PracticeAlertFacts,
    SessionAlertFacts,
    Severity,
    evaluate,
)
from revcycle.domain.claim_status import OPEN_STATUSES, ClaimStatus
from revcycle.domain.permissions import Permission, Role
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor, system_actor
from revcycle.services.bulk_reads import table_of
from revcycle.services.queries import (
    OPEN_WORK_STATUSES,
    SEVERITY_ORDER,
    load_work_item,
    severity_rank,
    work_item_conditions,
)
from revcycle.services.scoping import DEFAULT_LIMIT, Page, clamp_limit
from revcycle.services.sessions import HELD_STATUSES, session_facts
from revcycle.services.timely_filing import HeldSession, held_unsent_sessions, payers_on

__all__ = [
    "ALERT_KIND",
    "MANAGE_ALERTS",
    "AlertRun",
    "AlertView",
    "MissingClaim",
    "acknowledge_alert",
    "alert_assignees",
    "list_alerts",
    "missing_claims",
    "practice_today",
    "resolve_alert",
    "run_alerts",
    "run_alerts_everywhere",
]

ALERT_KIND = "alert"
KEY_PREFIX = "alert:"
CLEARED_WORDS = "condition cleared"
MISSING_AFTER_DAYS = 7
# Running the rules, acknowledging and resolving: billing and administrators.
MANAGE_ALERTS = Permission.ENTER_CHARGES
_CHUNK = 500


def practice_today(practice: m.Practice, now: datetime) -> date:
    """``now`` as a date in the practice's time zone (dates of service are the practice's)."""
    return _aware(now).astimezone(ZoneInfo(practice.timezone)).date()


def _aware(stamp: datetime) -> datetime:
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def _local(stamp: datetime | None, zone: ZoneInfo) -> date | None:
    return _aware(stamp).astimezone(zone).date() if stamp is not None else None


# --- assignees --------------------------------------------------------------------------------


def alert_assignees(db: Session, practice: m.Practice) -> dict[OwnerRole, int | None]:
    """Owner role -> the user its alerts are assigned to (see the module docstring)."""
    members = db.execute(
        select(m.Membership.user_id, m.Membership.role, m.User.email)
        .join(m.User, m.User.id == m.Membership.user_id)
        .where(m.Membership.practice_id == practice.id, m.User.is_active.is_(True))
        .order_by(m.Membership.id)
    ).all()
    admins = [user_id for user_id, role, _ in members if role == Role.ADMIN]
    billers = [user_id for user_id, role, _ in members if role == Role.BILLING]
    directors = [
        user_id for user_id, role, email in members if role == Role.ADMIN and email.startswith("director")
    ]
    first_admin = admins[0] if admins else None
    chosen: dict[OwnerRole, int | None] = {
        OwnerRole.DIRECTOR: directors[0] if directors else first_admin,
        OwnerRole.BILLING: billers[0] if billers else first_admin,
        OwnerRole.ADMIN: first_admin,
    }
    configured = (practice.settings or {}).get("alert_assignees") or {}
    active = {user_id for user_id, _, _ in members}
    for role in OwnerRole:
        value = configured.get(role.value) if isinstance(configured, dict) else None
        if isinstance(value, int) and value in active:
            chosen[role] = value
    return chosen


# --- gathering the facts -----------------------------------------------------------------------


def _session_facts(held: Sequence[HeldSession], zone: ZoneInfo) -> list[SessionAlertFacts]:
    facts = []
    for h in held:
        service = h.session
        locked_on = _local(service.note_locked_at, zone) if service.note_status == "locked" else None
        if service.note_status == "locked" and locked_on is None:
            locked_on = service.service_on  # locked before the time was kept: since the visit
        facts.append(
            SessionAlertFacts(
                session_id=service.id,
                client_id=service.client_id,
                stage=h.stage,
                service_on=service.service_on,
                note_locked_on=locked_on,
                ready_on=_local(service.ready_at, zone),
                unbilled=h.unbilled,
                on_claim=h.on_claim,
                filing_deadline_on=h.deadline_on,
            )
        )
    return facts


def _claim_facts(db: Session, practice_id: int, zone: ZoneInfo) -> list[ClaimAlertFacts]:
    open_statuses = [str(s) for s in OPEN_STATUSES]
    payer_settings = {
        payer_id: (filing, appeal)
        for payer_id, filing, appeal in db.execute(
            select(
                m.PracticePayer.payer_id, m.PracticePayer.timely_filing_days, m.PracticePayer.appeal_days
            ).where(m.PracticePayer.practice_id == practice_id)
        )
    }
    in_flight = [str(ClaimStatus.SUBMITTED), str(ClaimStatus.ACKNOWLEDGED)]
    last_sent = dict(
        db.execute(
            select(m.Submission.claim_id, func.max(m.Submission.submitted_at))
            .join(m.Claim, m.Claim.id == m.Submission.claim_id)
            .where(m.Claim.practice_id == practice_id, m.Claim.status.in_(in_flight))
            .group_by(m.Submission.claim_id)
        ).all()
    )
    rows = db.execute(
        select(
            m.Claim.id,
            m.Claim.client_id,
            m.Claim.status,
            m.Claim.service_from_on,
            m.Claim.status_changed_at,
            m.Claim.timely_filing_on,
            m.Claim.payer_id,
        ).where(m.Claim.practice_id == practice_id, m.Claim.status.in_(open_statuses))
    )
    facts = []
    for claim_id, client_id, status, service_on, changed_at, own_deadline, payer_id in rows:
        filing_days, appeal_days = payer_settings.get(payer_id, (None, None))
        since = _local(_as_utc(last_sent.get(claim_id)) or changed_at, zone) or service_on
        deadline = own_deadline or (service_on + timedelta(days=filing_days) if filing_days else None)
        appeal = since + timedelta(days=appeal_days) if appeal_days and status == ClaimStatus.DENIED else None
        facts.append(
            ClaimAlertFacts(
                claim_id=claim_id,
                client_id=client_id,
                status=ClaimStatus(status),
                service_on=service_on,
                stage_since_on=since,
                filing_deadline_on=deadline,
                appeal_deadline_on=appeal,
            )
        )
    return facts


def _contract_facts(db: Session, practice_id: int) -> list[ContractAlertFacts]:
    """The practice's contracts that have an end date, each with the start of the later
    contract (same payer) that runs past it, if any."""
    rows = db.execute(
        select(
            m.PayerContract.id,
            m.PayerContract.payer_id,
            m.PayerContract.number,
            m.PayerContract.starts_on,
            m.PayerContract.ends_on,
            m.Payer.name,
        )
        .join(m.Payer, m.Payer.id == m.PayerContract.payer_id)
        .where(m.PayerContract.practice_id == practice_id)
    ).all()
    facts = []
    for contract_id, payer_id, number, starts_on, ends_on, payer_name in rows:
        if ends_on is None:
            continue
        later = [
            other.starts_on
            for other in rows
            if other.payer_id == payer_id
            and other.id != contract_id
            and other.starts_on > starts_on
            and (other.ends_on is None or other.ends_on > ends_on)
        ]
        facts.append(ContractAlertFacts(contract_id, number, payer_name, ends_on, min(later, default=None)))
    return facts


def _as_utc(stamp: Any) -> datetime | None:
    """An aggregate (max) comes back without the column's type: naive on SQLite means UTC."""
    if stamp is None:
        return None
    if isinstance(stamp, str):
        stamp = datetime.fromisoformat(stamp)
    return _aware(stamp)


# --- running the rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRun:
    practice_id: int
    ran_at: datetime
    today: date
    matched: int
    raised: int
    reopened: int
    escalated: int
    resolved: int
    open_by_severity: dict[str, int] = field(default_factory=dict)


@dataclass
class _Existing:
    id: int
    status: str
    severity: str
    detail: str
    due_on: date | None
    resolution: str


def run_alerts(db: Session, *, practice_id: int, now: datetime, actor: Actor | None = None) -> AlertRun:
    """Evaluate every rule for the practice at ``now``; open, update, resolve and reopen its
    alerts to match (see the module docstring). Never commits."""
    actor = actor or system_actor("alerts")
    actor.require(practice_id, MANAGE_ALERTS)
    practice = db.get(m.Practice, practice_id)
    if practice is None:
        raise NotFound(f"practice {practice_id} not found")
    now = _aware(now)
    zone = ZoneInfo(practice.timezone)
    today = practice_today(practice, now)
    held = held_unsent_sessions(db, practice_id)
    matches = evaluate(
        today=today,
        sessions=_session_facts(held, zone),
        claims=_claim_facts(db, practice_id, zone),
        practice=PracticeAlertFacts(practice_id, sum(1 for h in held if h.unbilled)),
        contracts=_contract_facts(db, practice_id),
    )
    counts = _reconcile(db, practice, matches, now)
    run = AlertRun(
        practice_id=practice_id,
        ran_at=now,
        today=today,
        matched=len(matches),
        open_by_severity=_open_by_severity(db, practice_id),
        **counts,
    )
    if counts["raised"] or counts["reopened"] or counts["resolved"] or counts["escalated"]:
        audit.record(
            db,
            actor=actor,
            practice_id=practice_id,
            action="update",
            entity="alert_run",
            entity_id=today.isoformat(),
            after={**counts, "matched": run.matched, "open_by_severity": run.open_by_severity},
            reason=f"alert rules run at {now.isoformat()}",
        )
    return run


def run_alerts_everywhere(db: Session, *, now: datetime, actor: Actor | None = None) -> list[AlertRun]:
    """Run the rules for every practice (the daily job)."""
    practice_ids = list(db.scalars(select(m.Practice.id).order_by(m.Practice.id)))
    return [run_alerts(db, practice_id=pid, now=now, actor=actor) for pid in practice_ids]


def _existing_alerts(db: Session, practice_id: int) -> dict[str, _Existing]:
    query = select(
        m.WorkItem.dedupe_key,
        m.WorkItem.id,
        m.WorkItem.status,
        m.WorkItem.severity,
        m.WorkItem.detail,
        m.WorkItem.due_on,
        m.WorkItem.resolution,
    ).where(
        m.WorkItem.practice_id == practice_id,
        m.WorkItem.kind == ALERT_KIND,
        m.WorkItem.dedupe_key.like(f"{KEY_PREFIX}%"),
    )
    return {
        str(key): _Existing(item_id, status, severity, detail, due_on, resolution)
        for key, item_id, status, severity, detail, due_on, resolution in db.execute(query)
    }


def _was_cleared(resolution: str) -> bool:
    return resolution.startswith(CLEARED_WORDS) or f"; {CLEARED_WORDS}" in resolution


def _subject_of(key: str) -> tuple[str, str]:
    """(rule, subject kind) of a dedupe key ``alert:<rule>:<subject>:<id>[:<role>]``."""
    parts = key.split(":")
    return parts[1], parts[2] if len(parts) > 2 else ""


def _cleared_text(key: str) -> str:
    words = CLEARED.get(_subject_of(key), "")
    return f"{CLEARED_WORDS}: {words}" if words else CLEARED_WORDS


def _reconcile(db: Session, practice: m.Practice, matches: list[AlertMatch], now: datetime) -> dict[str, int]:
    existing = _existing_alerts(db, practice.id)
    assignees = alert_assignees(db, practice)
    wanted = {match.dedupe_key: match for match in matches}
    new_rows: list[dict[str, Any]] = []
    counts = Counter({"raised": 0, "reopened": 0, "escalated": 0, "resolved": 0})
    for key, match in wanted.items():
        found = existing.get(key)
        if found is None:
            new_rows.append(_new_alert(practice.id, match, assignees, now))
            counts["raised"] += 1
        elif found.status == "resolved":
            if _was_cleared(found.resolution):
                _update(db, found.id, _reopen_values(match))
                counts["reopened"] += 1
        elif _changed(found, match):
            values = _refresh_values(match)
            if found.status == "acknowledged" and _more_severe(match.finding.severity, found.severity):
                values["status"] = "open"
                counts["escalated"] += 1
            _update(db, found.id, values)
    for start in range(0, len(new_rows), _CHUNK):
        db.execute(insert(table_of(m.WorkItem)), new_rows[start : start + _CHUNK])
    counts["resolved"] = _clear(db, existing, wanted, now)
    return dict(counts)


def _new_alert(
    practice_id: int, match: AlertMatch, assignees: dict[OwnerRole, int | None], now: datetime
) -> dict[str, Any]:
    finding = match.finding
    return {
        "practice_id": practice_id,
        "kind": ALERT_KIND,
        "severity": str(finding.severity),
        "status": "open",
        "title": match.title,
        "detail": finding.detail,
        "rule": match.rule,
        "dedupe_key": match.dedupe_key,
        "holds_billing": False,
        "owner_role": str(match.owner_role),
        "owner_user_id": assignees.get(match.owner_role),
        "due_on": finding.due_on,
        "session_id": match.subject_id if match.subject == "session" else None,
        "claim_id": match.subject_id if match.subject == "claim" else None,
        "client_id": match.client_id,
        "resolution": "",
        "created_at": now,
    }


def _changed(found: _Existing, match: AlertMatch) -> bool:
    finding = match.finding
    return (found.severity, found.detail, found.due_on) != (
        str(finding.severity),
        finding.detail,
        finding.due_on,
    )


def _more_severe(new: Severity, old: str) -> bool:
    try:
        return SEVERITY_RANK[new] < SEVERITY_RANK[Severity(old)]
    except ValueError:
        return False


def _refresh_values(match: AlertMatch) -> dict[str, Any]:
    finding = match.finding
    return {"severity": str(finding.severity), "detail": finding.detail, "due_on": finding.due_on}


def _reopen_values(match: AlertMatch) -> dict[str, Any]:
    return {
        **_refresh_values(match),
        "status": "open",
        "resolution": "",
        "resolved_at": None,
        "resolved_by_user_id": None,
    }


def _update(db: Session, work_item_id: int, values: dict[str, Any]) -> None:
    db.execute(
        update(m.WorkItem)
        .where(m.WorkItem.id == work_item_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _clear(db: Session, existing: dict[str, _Existing], wanted: dict[str, AlertMatch], now: datetime) -> int:
    """Resolve open alerts whose condition no longer holds (grouped by their resolution text);
    note on hand-resolved ones that their condition has cleared, so a return reopens them."""
    to_resolve: dict[str, list[int]] = {}
    resolved = 0
    for key, found in existing.items():
        if key in wanted:
            continue
        text = _cleared_text(key)
        if found.status in OPEN_WORK_STATUSES:
            to_resolve.setdefault(text, []).append(found.id)
        elif not _was_cleared(found.resolution):
            _update(db, found.id, {"resolution": f"{found.resolution}; {text}"[:2000]})
    for text, ids in to_resolve.items():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            db.execute(
                update(m.WorkItem)
                .where(m.WorkItem.id.in_(chunk), m.WorkItem.status.in_(OPEN_WORK_STATUSES))
                .values(status="resolved", resolution=text, resolved_at=now, resolved_by_user_id=None)
                .execution_options(synchronize_session=False)
            )
            resolved += len(chunk)
    return resolved


def _open_by_severity(db: Session, practice_id: int) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    query = (
        select(m.WorkItem.severity, func.count())
        .where(
            m.WorkItem.practice_id == practice_id,
            m.WorkItem.kind == ALERT_KIND,
            m.WorkItem.status.in_(OPEN_WORK_STATUSES),
        )
        .group_by(m.WorkItem.severity)
    )
    counts.update({severity: int(n) for severity, n in db.execute(query)})
    return counts


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertView:
    item: m.WorkItem
    client_name: str | None
    assignee_name: str | None

    @property
    def subject_url(self) -> str | None:
        if self.item.rule == "contract_expiring" and self.item.dedupe_key:
            return f"/fees/contracts/{self.item.dedupe_key.split(':')[3]}"
        if self.item.claim_id is not None:
            return f"/claims/{self.item.claim_id}"
        if self.item.session_id is not None:
            return f"/sessions/{self.item.session_id}"
        return None


@dataclass(frozen=True)
class AlertFilters:
    status: str | None = None  # open (open and acknowledged), acknowledged, resolved, all
    severity: str | None = None
    rule: str | None = None
    owner_role: str | None = None
    assignee_user_id: int | None = None


_STATUS_WORDS = {"open", "acknowledged", "resolved", "all"}


def _alert_conditions(
    actor: Actor, practice_id: int | None, filters: AlertFilters
) -> list[ColumnElement[bool]]:
    conditions = work_item_conditions(actor, practice_id, ALERT_KIND)
    status = filters.status or "open"
    if status not in _STATUS_WORDS:
        raise InvalidInput(f"status: {status!r} is not one of {', '.join(sorted(_STATUS_WORDS))}")
    if status == "open":
        conditions.append(m.WorkItem.status.in_(OPEN_WORK_STATUSES))
    elif status != "all":
        conditions.append(m.WorkItem.status == status)
    if filters.severity:
        if filters.severity not in SEVERITY_ORDER:
            raise InvalidInput(f"severity: {filters.severity!r} is not one of {', '.join(SEVERITY_ORDER)}")
        conditions.append(m.WorkItem.severity == filters.severity)
    if filters.rule:
        conditions.append(m.WorkItem.rule == filters.rule)
    if filters.owner_role:
        if filters.owner_role not in {r.value for r in OwnerRole}:
            raise InvalidInput(f"owner_role: {filters.owner_role!r} is not director, billing or admin")
        conditions.append(m.WorkItem.owner_role == filters.owner_role)
    if filters.assignee_user_id is not None:
        conditions.append(m.WorkItem.owner_user_id == filters.assignee_user_id)
    return conditions


def list_alerts(
    db: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    filters: AlertFilters | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[AlertView]:
    """Alerts the actor may see, most severe first, then oldest."""
    conditions = _alert_conditions(actor, practice_id, filters or AlertFilters())
    total = db.scalar(select(func.count()).select_from(m.WorkItem).where(*conditions)) or 0
    assignee = aliased(m.User)
    query = (
        select(m.WorkItem, m.Client.first_name, m.Client.last_name, assignee.full_name, assignee.email)
        .outerjoin(m.Client, m.Client.id == m.WorkItem.client_id)
        .outerjoin(assignee, assignee.id == m.WorkItem.owner_user_id)
        .where(*conditions)
        .order_by(severity_rank(), m.WorkItem.created_at, m.WorkItem.id)
        .limit(clamp_limit(limit))
        .offset(max(offset, 0))
    )
    items = [
        AlertView(
            item,
            f"{first} {last}" if last is not None else None,
            (full_name or email) if email is not None else None,
        )
        for item, first, last, full_name, email in db.execute(query)
    ]
    return Page(items, total)


# --- by hand -----------------------------------------------------------------------------------


def _load_alert(db: Session, actor: Actor, work_item_id: int) -> m.WorkItem:
    item = load_work_item(db, actor, work_item_id, kind=ALERT_KIND, noun="alert")
    actor.require(item.practice_id, MANAGE_ALERTS)
    return item


def acknowledge_alert(db: Session, *, actor: Actor, work_item_id: int, note: str = "") -> m.WorkItem:
    """Mark an open alert seen: it stays on the list (and is still resolved when its condition
    clears). Acknowledging twice, or a resolved alert, is refused (409)."""
    item = _load_alert(db, actor, work_item_id)
    if item.status != "open":
        raise Conflict(f"alert {item.id} is {item.status}; only an open alert is acknowledged")
    before = {"status": item.status}
    item.status = "acknowledged"
    db.flush()
    _audit(db, actor, item, before, note.strip())
    return item


def resolve_alert(
    db: Session, *, actor: Actor, work_item_id: int, reason: str, now: datetime | None = None
) -> m.WorkItem:
    """Resolve an alert by hand, with a reason. While its condition still holds it stays
    resolved; if the condition clears and comes back, the rules reopen it."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("reason: say why the alert is resolved")
    item = _load_alert(db, actor, work_item_id)
    if item.status == "resolved":
        raise Conflict(f"alert {item.id} is already resolved ({item.resolution})")
    before = {"status": item.status, "resolution": item.resolution}
    item.status = "resolved"
    item.resolution = reason[:2000]
    item.resolved_by_user_id = actor.user_id
    item.resolved_at = _aware(now) if now is not None else utcnow()
    db.flush()
    _audit(db, actor, item, before, reason)
    return item


def _audit(db: Session, actor: Actor, item: m.WorkItem, before: dict[str, Any], reason: str) -> None:
    audit.record(
        db,
        actor=actor,
        practice_id=item.practice_id,
        action="update",
        entity="work_item",
        entity_id=item.id,
        client_ids=[item.client_id] if item.client_id else [],
        before=before,
        after={"status": item.status, "resolution": item.resolution, "rule": item.rule},
        reason=reason,
    )


# --- the missing-claims check ----------------------------------------------------------------


@dataclass(frozen=True)
class MissingClaim:
    """A billable session never submitted, ``days_waiting`` days after its date of service."""

    session_id: int
    client_id: int
    provider_id: int
    payer_id: int
    service_on: date
    days_waiting: int
    reason: str
    claim_id: int | None = None  # the claim it sits on unsent, if any


def missing_claims(db: Session, *, practice_id: int, today: date) -> list[MissingClaim]:
    """Every billable session of the practice whose date of service is 7 or more days before
    ``today`` with no submission on any claim that is not void; oldest first."""
    cutoff = today - timedelta(days=MISSING_AFTER_DAYS)
    submitted = (
        select(m.Charge.session_id)
        .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
        .join(m.Claim, m.Claim.id == m.ClaimLine.claim_id)
        .join(m.Submission, m.Submission.claim_id == m.Claim.id)
        .where(m.Claim.practice_id == practice_id, m.Claim.status != str(ClaimStatus.VOID))
    )
    insurable = select(m.Charge.session_id).where(
        m.Charge.practice_id == practice_id, m.Charge.patient_only.is_(False)
    )
    query = select(m.ServiceSession).where(
        m.ServiceSession.practice_id == practice_id,
        m.ServiceSession.appointment_status.in_(HELD_STATUSES),
        m.ServiceSession.self_pay.is_(False),
        m.ServiceSession.note_status == "locked",
        m.ServiceSession.service_on <= cutoff,
        m.ServiceSession.id.in_(insurable),
        m.ServiceSession.id.not_in(submitted),
    )
    sessions = list(db.scalars(query.order_by(m.ServiceSession.service_on, m.ServiceSession.id)))
    facts = session_facts(db, sessions)
    payers = payers_on(db, practice_id, [(s.id, s.client_id, s.service_on) for s in sessions])
    claims = _unsent_claims(db, [s.id for s in sessions])
    found = []
    for service in sessions:
        if facts[service.id].has_holding_flag or service.id not in payers:
            continue
        claim = claims.get(service.id)
        found.append(
            MissingClaim(
                session_id=service.id,
                client_id=service.client_id,
                provider_id=service.provider_id,
                payer_id=payers[service.id],
                service_on=service.service_on,
                days_waiting=(today - service.service_on).days,
                reason=_missing_reason(facts[service.id].claim_statuses, claim),
                claim_id=claim[0] if claim else None,
            )
        )
    return found


def _unsent_claims(db: Session, session_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """Session id -> a live claim it is on (id, status), the latest."""
    result: dict[int, tuple[int, str]] = {}
    for start in range(0, len(session_ids), _CHUNK):
        chunk = session_ids[start : start + _CHUNK]
        query = (
            select(m.Charge.session_id, m.Claim.id, m.Claim.status)
            .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
            .join(m.Claim, m.Claim.id == m.ClaimLine.claim_id)
            .where(m.Charge.session_id.in_(chunk), m.Claim.status != str(ClaimStatus.VOID))
            .order_by(m.Claim.id)
        )
        for session_id, claim_id, status in db.execute(query):
            result[session_id] = (claim_id, status)
    return result


def _missing_reason(statuses: Sequence[ClaimStatus], claim: tuple[int, str] | None) -> str:
    if claim is not None:
        status = claim[1]
        if status == ClaimStatus.DRAFT:
            return "claim built but not clean (draft), never submitted"
        if status == ClaimStatus.READY:
            return "claim ready (or queued for a batch), never submitted"
        return f"claim {status} with no submission recorded"
    if statuses:
        return "its claims were voided and none replaced them"
    return "never put on a claim"
