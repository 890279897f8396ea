"""The follow-up engine: every claim the payer has and has not answered gets one follow-up work
item, due when its payer's rule says (``domain.followup_rules``), kept up to date by a daily
rebuild (:func:`rebuild`, the Huey job ``followup_rebuild`` and ``revcycle followup run``).

The rebuild is idempotent: it computes what each claim's work item should say and changes only
what differs, so running it twice changes nothing. A claim that left the payer's hands (paid,
denied, written off, voided) has its item resolved; one that comes back (a reversal, a
resubmission) has it reopened. The item names the rule version that set its date ("payer 12
v3", "kind medicaid v1", "built-in default"), its due date, and why; a note that sets the
claim's next follow-up date moves it.

Rules: :func:`rules_in_force` reads the latest version of each scope; :func:`save_rule` adds
a version (an admin's change, audited, never an edit); :func:`dry_run` shows what a changed
rule would do to today's open claims without saving anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.followup_rules import (
    DEFAULT_RULE,
    FOLLOWUP_STATUSES,
    LEARN_WINDOW_DAYS,
    ClaimFollowupFacts,
    FollowupDecision,
    FollowupRule,
    QuietWindow,
    Urgency,
    decide,
    expected_days_for,
    learned_expected_days,
    urgency_of,
    validate_rule,
)
from revcycle.domain.permissions import Permission
from revcycle.domain.problems import has_errors
from revcycle.errors import InvalidInput, NotFound
from revcycle.money import format_cents
from revcycle.services import audit, work_items
from revcycle.services.actor import Actor, system_actor

__all__ = [
    "FOLLOWUP",
    "DryRun",
    "FollowupRun",
    "PayerFollowup",
    "QuietWindow",
    "RuleChange",
    "RuleVersion",
    "RulesOverview",
    "dry_run",
    "learned_days",
    "rebuild",
    "rebuild_everywhere",
    "rule_for",
    "rules_in_force",
    "rules_overview",
    "save_rule",
    "work_item_note",
]

FOLLOWUP = "followup"  # the work items' kind
_STATUSES = sorted(str(status) for status in FOLLOWUP_STATUSES)


# --- rules ---------------------------------------------------------------------------------


def _domain_rule(row: m.FollowupRule) -> FollowupRule:
    windows = tuple(
        QuietWindow(date.fromisoformat(w["starts_on"]), date.fromisoformat(w["ends_on"]), w.get("reason", ""))
        for w in row.quiet_windows or []
    )
    return FollowupRule(
        label=f"{row.scope.replace(':', ' ')} v{row.version}",
        expected_days=row.expected_days,
        grace_days=row.grace_days,
        repeat_days=row.repeat_days,
        escalate_after_days=row.escalate_after_days,
        quiet_windows=windows,
    )


def rules_in_force(db: Session, practice_id: int) -> dict[str, FollowupRule]:
    """Scope ("payer:<id>", "kind:<kind>", "practice") -> its latest version."""
    latest = (
        select(m.FollowupRule.scope, func.max(m.FollowupRule.version).label("version"))
        .where(m.FollowupRule.practice_id == practice_id)
        .group_by(m.FollowupRule.scope)
        .subquery()
    )
    query = select(m.FollowupRule).join(
        latest,
        (m.FollowupRule.scope == latest.c.scope) & (m.FollowupRule.version == latest.c.version),
    )
    return {
        row.scope: _domain_rule(row)
        for row in db.scalars(query.where(m.FollowupRule.practice_id == practice_id))
    }


def rule_for(rules: Mapping[str, FollowupRule], payer_id: int, payer_kind: str) -> FollowupRule:
    """The most specific rule: the payer's, its kind's, the practice's, the built-in default."""
    for scope in (f"payer:{payer_id}", f"kind:{payer_kind}", "practice"):
        if scope in rules:
            return rules[scope]
    return DEFAULT_RULE


@dataclass(frozen=True)
class RuleChange:
    """A new version of a rule, as an admin writes it."""

    scope: str  # "payer:<id>", "kind:<kind>" or "practice"
    expected_days: int | None = None
    grace_days: int = 5
    repeat_days: int = 14
    escalate_after_days: int = 60
    quiet_windows: tuple[QuietWindow, ...] = ()
    reason: str = ""

    def as_rule(self, label: str) -> FollowupRule:
        return FollowupRule(
            label=label,
            expected_days=self.expected_days,
            grace_days=self.grace_days,
            repeat_days=self.repeat_days,
            escalate_after_days=self.escalate_after_days,
            quiet_windows=self.quiet_windows,
        )


def _check_scope(db: Session, scope: str) -> int | None:
    """The payer id a scope names (None for kinds and the practice); InvalidInput otherwise."""
    if scope == "practice" or (scope.startswith("kind:") and scope[5:].strip()):
        return None
    if scope.startswith("payer:") and scope[6:].isdigit():
        payer_id = int(scope[6:])
        if db.get(m.Payer, payer_id) is None:
            raise InvalidInput(f"scope: payer {payer_id} does not exist")
        return payer_id
    raise InvalidInput(f"scope: {scope!r} is not payer:<id>, kind:<kind> or practice")


def save_rule(db: Session, *, actor: Actor, practice_id: int, change: RuleChange) -> m.FollowupRule:
    """Add the next version of a scope's rule (admins only), audited."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    payer_id = _check_scope(db, change.scope)
    problems = validate_rule(change.as_rule(change.scope))
    if has_errors(problems):
        raise InvalidInput("; ".join(f"{p.where}: {p.message}" for p in problems), problems)
    current = db.scalar(
        select(func.max(m.FollowupRule.version)).where(
            m.FollowupRule.practice_id == practice_id, m.FollowupRule.scope == change.scope
        )
    )
    row = m.FollowupRule(
        practice_id=practice_id,
        scope=change.scope,
        payer_id=payer_id,
        payer_kind=change.scope[5:] if change.scope.startswith("kind:") else "",
        version=(current or 0) + 1,
        expected_days=change.expected_days,
        grace_days=change.grace_days,
        repeat_days=change.repeat_days,
        escalate_after_days=change.escalate_after_days,
        quiet_windows=[
            {"starts_on": w.starts_on.isoformat(), "ends_on": w.ends_on.isoformat(), "reason": w.reason}
            for w in change.quiet_windows
        ],
        reason=change.reason,
        created_by_user_id=actor.user_id,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=practice_id,
        action="create",
        entity="followup_rule",
        entity_id=row.id,
        after={
            "scope": row.scope,
            "version": row.version,
            "expected_days": row.expected_days,
            "grace_days": row.grace_days,
            "repeat_days": row.repeat_days,
            "escalate_after_days": row.escalate_after_days,
            "quiet_windows": row.quiet_windows,
        },
        reason=change.reason,
    )
    return row


# --- what the claims say -------------------------------------------------------------------


def learned_days(db: Session, practice_id: int, today: date) -> dict[int, int | None]:
    """Payer id -> its learned expected days to pay (:func:`learned_expected_days` over the
    claims paid in the last 180 days: from their first submission to the day they were paid)."""
    since = datetime.combine(today - timedelta(days=LEARN_WINDOW_DAYS), datetime.min.time(), tzinfo=UTC)
    paid = (
        select(m.ClaimEvent.claim_id, func.min(m.ClaimEvent.created_at).label("paid_at"))
        .where(
            m.ClaimEvent.practice_id == practice_id,
            m.ClaimEvent.to_status == str(ClaimStatus.PAID),
            m.ClaimEvent.created_at >= since,
        )
        .group_by(m.ClaimEvent.claim_id)
        .subquery()
    )
    sent = (
        select(m.Submission.claim_id, func.min(m.Submission.submitted_at).label("sent_at"))
        .where(m.Submission.practice_id == practice_id)
        .group_by(m.Submission.claim_id)
        .subquery()
    )
    query = (
        select(m.Claim.payer_id, sent.c.sent_at, paid.c.paid_at)
        .join(paid, paid.c.claim_id == m.Claim.id)
        .join(sent, sent.c.claim_id == m.Claim.id)
        .where(m.Claim.practice_id == practice_id)
    )
    days: dict[int, list[int]] = defaultdict(list)
    for payer_id, sent_at, paid_at in db.execute(query):
        days[payer_id].append(max((_day_of(paid_at) - _day_of(sent_at)).days, 0))
    return {payer_id: learned_expected_days(values) for payer_id, values in days.items()}


def _day_of(stamp: datetime | date) -> date:
    return stamp.date() if isinstance(stamp, datetime) else stamp


@dataclass(frozen=True)
class _OpenClaim:
    facts: ClaimFollowupFacts
    number: str
    client_id: int
    payer_id: int
    payer_name: str
    payer_kind: str
    billed_cents: int
    owner_user_id: int | None
    owner_team_id: int | None


def _open_claims(db: Session, practice_id: int, claim_ids: Collection[int] | None = None) -> list[_OpenClaim]:
    sent = (
        select(m.Submission.claim_id, func.max(m.Submission.submitted_at).label("sent_at"))
        .where(m.Submission.practice_id == practice_id)
        .group_by(m.Submission.claim_id)
        .subquery()
    )
    query = (
        select(m.Claim, m.Payer.name, m.Payer.kind, sent.c.sent_at)
        .join(m.Payer, m.Payer.id == m.Claim.payer_id)
        .outerjoin(sent, sent.c.claim_id == m.Claim.id)
        .where(m.Claim.practice_id == practice_id, m.Claim.status.in_(_STATUSES))
        .order_by(m.Claim.id)
    )
    if claim_ids is not None:
        query = query.where(m.Claim.id.in_(list(claim_ids)))
    found = []
    for claim, payer_name, payer_kind, sent_at in db.execute(query):
        submitted_on = _day_of(sent_at or claim.status_changed_at)
        next_on = (
            claim.next_followup_on
            if claim.next_followup_on and claim.next_followup_on >= submitted_on
            else None
        )
        facts = ClaimFollowupFacts(claim.id, ClaimStatus(claim.status), submitted_on, next_on)
        found.append(
            _OpenClaim(
                facts,
                claim.number,
                claim.client_id,
                claim.payer_id,
                payer_name,
                payer_kind,
                claim.billed_cents,
                claim.assignee_user_id,
                claim.assignee_team_id,
            )
        )
    return found


@dataclass(frozen=True)
class _Wanted:
    """What one claim's follow-up item should say."""

    claim: _OpenClaim
    decision: FollowupDecision
    rule: FollowupRule
    expected_days: int
    source: str

    def values(self, today: date) -> dict[str, Any]:
        urgency = urgency_of(self.decision.due_on, self.decision.escalated, today)
        severity = {Urgency.NOW: "critical" if self.decision.escalated else "warning"}.get(urgency, "info")
        claim = self.claim
        return {
            "kind": FOLLOWUP,
            "severity": severity,
            "title": (
                f"Follow up claim {claim.number} with {claim.payer_name} "
                f"({format_cents(claim.billed_cents)}, {claim.facts.status})"
            ),
            "detail": f"{self.decision.reason}. Expected days to pay: {self.expected_days} ({self.source}).",
            "rule": self.rule.label[:60],
            "due_on": self.decision.due_on,
            "claim_id": claim.facts.claim_id,
            "client_id": claim.client_id,
            "payer_id": claim.payer_id,
            "owner_user_id": claim.owner_user_id,
            "owner_team_id": claim.owner_team_id,
        }


def _wanted(
    db: Session,
    practice_id: int,
    today: date,
    rules: Mapping[str, FollowupRule],
    claim_ids: Collection[int] | None = None,
) -> list[_Wanted]:
    learned = learned_days(db, practice_id, today)
    wanted = []
    for claim in _open_claims(db, practice_id, claim_ids):
        rule = rule_for(rules, claim.payer_id, claim.payer_kind)
        expected, source = expected_days_for(rule, learned.get(claim.payer_id), claim.payer_kind)
        decision = decide(claim.facts, rule, expected, today)
        if decision is not None:
            wanted.append(_Wanted(claim, decision, rule, expected, source))
    return wanted


# --- the rebuild ---------------------------------------------------------------------------


@dataclass
class FollowupRun:
    """What one rebuild did."""

    practice_id: int
    today: date
    created: int = 0
    updated: int = 0
    reopened: int = 0
    resolved: int = 0
    unchanged: int = 0
    by_urgency: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.reopened + self.resolved


_COMPARED = (
    "severity",
    "title",
    "detail",
    "rule",
    "due_on",
    "client_id",
    "payer_id",
    "owner_user_id",
    "owner_team_id",
)


def rebuild(
    db: Session,
    *,
    practice_id: int,
    today: date,
    actor: Actor | None = None,
    claim_ids: Collection[int] | None = None,
) -> FollowupRun:
    """Make the practice's follow-up items match its open claims as of ``today`` (see the
    module docstring); idempotent. Never commits. ``claim_ids`` limits it to those claims
    (a quick action on one claim refreshes its item at once)."""
    actor = actor or system_actor("followup")
    actor.require(practice_id, Permission.SUBMIT_CLAIMS)
    if db.get(m.Practice, practice_id) is None:
        raise NotFound(f"practice {practice_id} not found")
    run = FollowupRun(practice_id, today)
    wanted = {
        f"{FOLLOWUP}:{w.claim.facts.claim_id}": w
        for w in _wanted(db, practice_id, today, rules_in_force(db, practice_id), claim_ids)
    }
    items = select(m.WorkItem).where(
        m.WorkItem.practice_id == practice_id,
        m.WorkItem.kind == FOLLOWUP,
        m.WorkItem.dedupe_key.like(f"{FOLLOWUP}:%"),  # its own, not a denial's or a person's
    )
    if claim_ids is not None:
        items = items.where(m.WorkItem.claim_id.in_(list(claim_ids)))
    existing = {item.dedupe_key or "": item for item in db.scalars(items)}
    for want in wanted.values():
        group = urgency_of(want.decision.due_on, want.decision.escalated, today)
        run.by_urgency[group] = run.by_urgency.get(group, 0) + 1
    work_items.sync_items(
        db,
        practice_id=practice_id,
        existing=existing,
        wanted={key: want.values(today) for key, want in wanted.items()},
        compared=_COMPARED,
        resolution="the claim is no longer waiting on the payer",
        actor=actor,
        counts=run,
    )
    work_items.audit_sync(
        db,
        actor=actor,
        practice_id=practice_id,
        entity="followup_run",
        today=today,
        counts=run,
        reason=f"follow-up rebuild for {today}",
        extra={"by_urgency": run.by_urgency},
    )
    return run


def rebuild_everywhere(db: Session, *, today: date, actor: Actor | None = None) -> list[FollowupRun]:
    """:func:`rebuild` for every practice (the daily job)."""
    practice_ids = list(db.scalars(select(m.Practice.id).order_by(m.Practice.id)))
    return [rebuild(db, practice_id=pid, today=today, actor=actor) for pid in practice_ids]


# --- the dry run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DryRunClaim:
    claim_id: int
    number: str
    payer_name: str
    due_now: date | None
    due_then: date | None
    urgency_now: str
    urgency_then: str


@dataclass(frozen=True)
class DryRun:
    """What a changed rule would do to today's open claims (nothing is saved)."""

    scope: str
    claims: int
    moved_earlier: int
    moved_later: int
    now_needing_action: int
    then_needing_action: int
    examples: tuple[DryRunClaim, ...]


def dry_run(db: Session, *, actor: Actor, practice_id: int, change: RuleChange, today: date) -> DryRun:
    """Today's open claims under the current rules and under ``change``, compared."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    _check_scope(db, change.scope)
    problems = validate_rule(change.as_rule(change.scope))
    if has_errors(problems):
        raise InvalidInput("; ".join(f"{p.where}: {p.message}" for p in problems), problems)
    current = rules_in_force(db, practice_id)
    changed = {**current, change.scope: change.as_rule(f"{change.scope} (draft)")}
    before = {w.claim.facts.claim_id: w for w in _wanted(db, practice_id, today, current)}
    after = {w.claim.facts.claim_id: w for w in _wanted(db, practice_id, today, changed)}
    touched = [
        claim_id for claim_id in sorted(after) if before[claim_id].rule.label != after[claim_id].rule.label
    ]
    rows = []
    earlier = later = 0
    for claim_id in touched:
        old, new = before[claim_id], after[claim_id]
        earlier += new.decision.due_on < old.decision.due_on
        later += new.decision.due_on > old.decision.due_on
        rows.append(
            DryRunClaim(
                claim_id,
                new.claim.number,
                new.claim.payer_name,
                old.decision.due_on,
                new.decision.due_on,
                urgency_of(old.decision.due_on, old.decision.escalated, today),
                urgency_of(new.decision.due_on, new.decision.escalated, today),
            )
        )
    return DryRun(
        scope=change.scope,
        claims=len(touched),
        moved_earlier=earlier,
        moved_later=later,
        now_needing_action=sum(r.urgency_now == Urgency.NOW for r in rows),
        then_needing_action=sum(r.urgency_then == Urgency.NOW for r in rows),
        examples=tuple(rows[:50]),
    )


def open_claims_count(db: Session, practice_id: int) -> int:
    """How many claims are waiting on their payer (for pages)."""
    return int(
        db.scalar(
            select(func.count()).where(m.Claim.practice_id == practice_id, m.Claim.status.in_(_STATUSES))
        )
        or 0
    )


# --- working an item -----------------------------------------------------------------------


def work_item_note(
    db: Session, *, actor: Actor, work_item_id: int, body: str, next_on: date | None, today: date
) -> m.WorkItem:
    """A note on a follow-up item's claim that always sets the next follow-up: ``next_on``, or
    today + its rule's repeat interval. The item moves there at once (the daily rebuild reads
    the same date from the claim), audited."""
    item = db.get(m.WorkItem, work_item_id)
    if item is None or not (actor.is_system or item.practice_id in actor.practice_ids):
        raise NotFound(f"work item {work_item_id} not found")
    actor.require(item.practice_id, Permission.ADD_CLAIM_NOTES)
    if item.kind != FOLLOWUP or item.claim_id is None or item.status == "resolved":
        raise InvalidInput("work item: only an open follow-up takes a note with a next date")
    text = body.strip()
    if not text:
        raise InvalidInput("note: say what was done (who was called, what they said)")
    claim = db.get(m.Claim, item.claim_id)
    assert claim is not None
    payer = db.get(m.Payer, claim.payer_id)
    rule = rule_for(rules_in_force(db, item.practice_id), claim.payer_id, payer.kind if payer else "")
    day = next_on or today + timedelta(days=rule.repeat_days)
    if day <= today:
        raise InvalidInput(f"next_on: the next follow-up must be after today ({today})")
    before = {"due_on": item.due_on.isoformat() if item.due_on else None, "severity": item.severity}
    db.add(
        m.Note(
            practice_id=item.practice_id,
            author_user_id=actor.user_id,
            body=text,
            claim_id=claim.id,
            work_item_id=item.id,
            next_followup_on=day,
        )
    )
    claim.next_followup_on = day
    item.due_on = day
    item.status = "open"
    if item.severity != "critical":  # an escalated claim stays escalated
        item.severity = "info"
    item.detail = f"next follow-up set for {day} by a note: {text[:200]}"
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=item.practice_id,
        action="update",
        entity="work_item",
        entity_id=item.id,
        client_ids=[claim.client_id],
        before=before,
        after={"due_on": day.isoformat(), "severity": item.severity, "note": True},
        reason="follow-up worked: note with next date",
    )
    return item


# --- the rules page ------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleVersion:
    scope: str
    scope_label: str
    version: int
    expected_days: int | None
    grace_days: int
    repeat_days: int
    escalate_after_days: int
    quiet_windows: tuple[QuietWindow, ...]
    reason: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class PayerFollowup:
    payer_id: int
    name: str
    kind: str
    open_claims: int
    learned_days: int | None
    rule_label: str
    expected_days: int
    source: str


@dataclass(frozen=True)
class RulesOverview:
    versions: tuple[RuleVersion, ...]  # newest first within each scope, scopes by name
    payers: tuple[PayerFollowup, ...]
    kinds: tuple[str, ...]


def rules_overview(db: Session, *, actor: Actor, practice_id: int, today: date) -> RulesOverview:
    """Every version of the practice's rules, and per payer with claims: what applies now."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    payers = {p.id: p for p in db.scalars(select(m.Payer).order_by(m.Payer.name))}
    users = dict(db.execute(select(m.User.id, m.User.full_name)).all())
    rows = db.scalars(
        select(m.FollowupRule)
        .where(m.FollowupRule.practice_id == practice_id)
        .order_by(m.FollowupRule.scope, m.FollowupRule.version.desc())
    )
    versions = []
    for row in rows:
        rule = _domain_rule(row)
        versions.append(
            RuleVersion(
                scope=row.scope,
                scope_label=_scope_label(row.scope, payers),
                version=row.version,
                expected_days=row.expected_days,
                grace_days=row.grace_days,
                repeat_days=row.repeat_days,
                escalate_after_days=row.escalate_after_days,
                quiet_windows=rule.quiet_windows,
                reason=row.reason,
                created_at=row.created_at,
                created_by=users.get(row.created_by_user_id, "") if row.created_by_user_id else "",
            )
        )
    open_by_payer = dict(
        db.execute(
            select(m.Claim.payer_id, func.count())
            .where(m.Claim.practice_id == practice_id, m.Claim.status.in_(_STATUSES))
            .group_by(m.Claim.payer_id)
        ).all()
    )
    billed = set(db.scalars(select(m.Claim.payer_id).where(m.Claim.practice_id == practice_id).distinct()))
    rules = rules_in_force(db, practice_id)
    learned = learned_days(db, practice_id, today)
    summary = []
    for payer_id in sorted(billed, key=lambda pid: payers[pid].name.lower()):
        payer = payers[payer_id]
        rule = rule_for(rules, payer_id, payer.kind)
        expected, source = expected_days_for(rule, learned.get(payer_id), payer.kind)
        summary.append(
            PayerFollowup(
                payer_id,
                payer.name,
                payer.kind,
                int(open_by_payer.get(payer_id, 0)),
                learned.get(payer_id),
                rule.label,
                expected,
                source,
            )
        )
    kinds = tuple(sorted({p.kind for p in payers.values()} | {"commercial", "medicare", "medicaid"}))
    return RulesOverview(tuple(versions), tuple(summary), kinds)


def _scope_label(scope: str, payers: Mapping[int, m.Payer]) -> str:
    if scope.startswith("payer:") and scope[6:].isdigit() and int(scope[6:]) in payers:
        return payers[int(scope[6:])].name
    if scope.startswith("kind:"):
        return f"Every {scope[5:]} payer"
    return "The practice's default"
