"""Assignment rules of an organization: which team or person works each open claim.

The rules themselves are :mod:`revcycle.domain.assignment` (first match wins). Here they are
kept and applied:

- :func:`rules_in_force` reads the organization's latest saved version, or the AR engine's
  defaults when none was saved; :func:`rule_versions` every version, newest first.
- :func:`save_rules` writes the whole list as a new version (``assignment_rules`` rows are
  append-only: an earlier version stays readable), admins only, audited.
- :func:`dry_run` tells what the rules would change on today's open claims; :func:`apply_rules`
  changes it.

**What applying does.** For each open claim of the practice (a claim with its payer, rejected
or denied: not a draft, not paid, voided or written off) the rules give a team (by name: the
practice's team of that name, created on first use) or a person (with the person's team in the
practice, if any). A claim already agrees when it is with the rule's team — whoever in the team
holds it: a person chosen by hand or by a rebalance inside the team stays — or, for a rule
naming a person, with that person. Only claims that disagree change; their open follow-up
work items take the new owners. So applying twice changes nothing. A claim someone assigned by
hand to a person *outside* the rule's team cannot be told from a stale assignment (claims keep
no record of who set their assignee), and is reassigned: hand-assignments that should last
belong in a rule naming that person.

Facts a rule reads: the claim's insurance balance (``ar:insurance`` of the claim), its age in
days since the date of service as of ``today``, its payer's kind and id, its rendering
clinician and its practice. A rule naming a person who is not a member of the claim's practice
is skipped there (the next rule applies).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ar_rules import ArClaimFacts
from revcycle.domain.assignment import DEFAULT_RULES, AssignmentRule, ClaimFacts, validate_rules
from revcycle.domain.claim_status import OPEN_STATUSES, ClaimStatus
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.permissions import Permission
from revcycle.domain.problems import Problem, Severity, has_errors
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import audit, auth
from revcycle.services.actor import Actor

__all__ = [
    "WORKED_STATUSES",
    "ApplyResult",
    "DryRun",
    "OpenClaim",
    "Roster",
    "RuleChoices",
    "RuleSet",
    "apply_rules",
    "check_rules",
    "claim_balances",
    "dry_run",
    "import_team_for",
    "open_claims",
    "organization_of",
    "roster",
    "rule_choices",
    "rule_for",
    "rule_versions",
    "rules_in_force",
    "save_rules",
    "seed_demo_assignment",
    "sync_work_item_owners",
    "user_labels",
]

# Claims someone works: with the payer, or back from it rejected or denied.
WORKED_STATUSES = frozenset(OPEN_STATUSES) - {ClaimStatus.DRAFT, ClaimStatus.READY}
_WORKED = sorted(str(status) for status in WORKED_STATUSES)
SAMPLE_MAX = 20
FOLLOWUP = "followup"  # the follow-up engine's work items (services.followup.FOLLOWUP)


# --- the rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSet:
    """One version of an organization's rules (``version`` None: the built-in defaults)."""

    version: int | None
    rules: tuple[AssignmentRule, ...]
    created_at: datetime | None = None
    created_by: str = ""
    reason: str = ""


def organization_of(db: Session, practice_id: int) -> int:
    organization_id = db.scalar(select(m.Practice.organization_id).where(m.Practice.id == practice_id))
    if organization_id is None:
        raise NotFound(f"practice {practice_id} not found")
    return int(organization_id)


def _rule_of(row: m.AssignmentRule) -> AssignmentRule:
    return AssignmentRule.from_conditions(
        row.name, row.conditions or {}, team_name=row.team_name, user_id=row.user_id
    )


def rule_versions(db: Session, organization_id: int) -> list[RuleSet]:
    """Every saved version, newest first."""
    rows = db.scalars(
        select(m.AssignmentRule)
        .where(m.AssignmentRule.organization_id == organization_id)
        .order_by(m.AssignmentRule.version.desc(), m.AssignmentRule.position)
    ).all()
    labels = user_labels(db, {row.created_by_user_id for row in rows if row.created_by_user_id})
    grouped: dict[int, list[m.AssignmentRule]] = {}
    for row in rows:
        grouped.setdefault(row.version, []).append(row)
    return [
        RuleSet(
            version,
            tuple(_rule_of(row) for row in group),
            group[0].created_at,
            labels.get(group[0].created_by_user_id or 0, ""),
            group[0].reason,
        )
        for version, group in grouped.items()
    ]


def rules_in_force(db: Session, organization_id: int) -> RuleSet:
    """The latest saved version, or the AR engine's defaults."""
    latest = db.scalar(
        select(func.max(m.AssignmentRule.version)).where(m.AssignmentRule.organization_id == organization_id)
    )
    if latest is None:
        return RuleSet(None, DEFAULT_RULES)
    rows = db.scalars(
        select(m.AssignmentRule)
        .where(m.AssignmentRule.organization_id == organization_id, m.AssignmentRule.version == latest)
        .order_by(m.AssignmentRule.position)
    ).all()
    first = rows[0]
    label = user_labels(db, [first.created_by_user_id] if first.created_by_user_id else [])
    return RuleSet(
        latest,
        tuple(_rule_of(row) for row in rows),
        first.created_at,
        label.get(first.created_by_user_id or 0, ""),
        first.reason,
    )


def user_labels(db: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """User id -> full name (or e-mail)."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = db.execute(select(m.User.id, m.User.full_name, m.User.email).where(m.User.id.in_(ids)))
    return {uid: name or email for uid, name, email in rows}


def check_rules(db: Session, organization_id: int, rules: Sequence[AssignmentRule]) -> list[Problem]:
    """:func:`~revcycle.domain.assignment.validate_rules`, and what only the database knows:
    a person, payer, clinician or practice a rule names must exist (people, clinicians and
    practices in the organization); a team not there yet is a warning (created on first use)."""
    problems = validate_rules(rules)
    practices = set(db.scalars(select(m.Practice.id).where(m.Practice.organization_id == organization_id)))
    members = set(
        db.scalars(select(m.Membership.user_id).where(m.Membership.practice_id.in_(practices or {0})))
    )
    teams = set(db.scalars(select(m.Team.name).where(m.Team.practice_id.in_(practices or {0}))))
    wanted_payers = {pid for rule in rules for pid in rule.payer_ids}
    payers = (
        set(db.scalars(select(m.Payer.id).where(m.Payer.id.in_(wanted_payers)))) if wanted_payers else set()
    )
    wanted_providers = {pid for rule in rules for pid in rule.provider_ids}
    providers = (
        set(
            db.scalars(
                select(m.Provider.id).where(
                    m.Provider.id.in_(wanted_providers), m.Provider.practice_id.in_(practices or {0})
                )
            )
        )
        if wanted_providers
        else set()
    )
    for number, rule in enumerate(rules, start=1):
        where = f"rule {number}"
        if rule.user_id is not None and rule.user_id not in members:
            problems.append(Problem("assignment.user", where, f"user {rule.user_id} does not work here"))
        name = rule.team_name.strip()
        if name and rule.user_id is None and name not in teams:
            message = f"there is no team {name!r} yet: it will be created in each practice that needs it"
            problems.append(Problem("assignment.new_team", where, message, Severity.WARNING))
        for label, unknown in (
            ("payer", rule.payer_ids - payers),
            ("clinician", rule.provider_ids - providers),
            ("practice", rule.practice_ids - practices),
        ):
            if unknown:
                ids = ", ".join(str(i) for i in sorted(unknown))
                problems.append(Problem(f"assignment.{label}", where, f"no {label} {ids} here"))
    return problems


def _refuse(problems: Sequence[Problem]) -> None:
    if has_errors(problems):
        errors = [p for p in problems if p.severity is Severity.ERROR]
        raise InvalidInput("; ".join(f"{p.where}: {p.message}" for p in errors), problems)


def save_rules(
    db: Session, *, actor: Actor, practice_id: int, rules: Sequence[AssignmentRule], reason: str = ""
) -> RuleSet:
    """Write ``rules`` as the organization's next version (admins of the acting practice),
    audited; refused (InvalidInput naming the rule) when a check finds an error."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    organization_id = organization_of(db, practice_id)
    rules = [replace(rule, name=rule.name.strip(), team_name=rule.team_name.strip()) for rule in rules]
    _refuse(check_rules(db, organization_id, rules))
    current = db.scalar(
        select(func.max(m.AssignmentRule.version)).where(m.AssignmentRule.organization_id == organization_id)
    )
    version = (current or 0) + 1
    for position, rule in enumerate(rules, start=1):
        db.add(
            m.AssignmentRule(
                organization_id=organization_id,
                version=version,
                position=position,
                name=rule.name,
                conditions=rule.conditions(),
                team_name=rule.team_name if rule.user_id is None else "",
                user_id=rule.user_id,
                reason=reason,
                created_by_user_id=actor.user_id,
            )
        )
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=practice_id,
        action="create",
        entity="assignment_rules",
        entity_id=f"{organization_id}:v{version}",
        after={
            "version": version,
            "rules": [{"name": r.name, "target": r.target, "conditions": r.conditions()} for r in rules],
        },
        reason=reason,
    )
    return rules_in_force(db, organization_id)


# --- what the rules give each open claim --------------------------------------------------------


def claim_balances(db: Session, practice_id: int, claim_ids: Iterable[int]) -> dict[int, int]:
    """Claim id -> its insurance balance in cents (claims with none are left out)."""
    ids = list(claim_ids)
    found: dict[int, int] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        rows = db.execute(
            select(m.LedgerBalance.scope_id, m.LedgerBalance.balance_cents).where(
                m.LedgerBalance.practice_id == practice_id,
                m.LedgerBalance.scope == BalanceScope.CLAIM.value,
                m.LedgerBalance.account == Account.AR_INSURANCE.value,
                m.LedgerBalance.scope_id.in_(chunk),
            )
        )
        found.update({int(cid): int(cents) for cid, cents in rows})
    return found


@dataclass(frozen=True)
class OpenClaim:
    claim_id: int
    number: str
    facts: ClaimFacts
    team_id: int | None
    user_id: int | None


def open_claims(db: Session, practice_id: int, today: date) -> list[OpenClaim]:
    query = (
        select(
            m.Claim.id,
            m.Claim.number,
            m.Claim.service_from_on,
            m.Claim.payer_id,
            m.Claim.provider_id,
            m.Claim.assignee_team_id,
            m.Claim.assignee_user_id,
            m.Payer.name,
            m.Payer.kind,
        )
        .join(m.Payer, m.Payer.id == m.Claim.payer_id)
        .where(m.Claim.practice_id == practice_id, m.Claim.status.in_(_WORKED))
        .order_by(m.Claim.id)
    )
    rows = db.execute(query).all()
    balances = claim_balances(db, practice_id, [row[0] for row in rows])
    return [
        OpenClaim(
            cid,
            number,
            ClaimFacts(
                balance_cents=balances.get(cid, 0),
                aging_days=max((today - service_on).days, 0),
                payer_name=payer_name,
                payer_kind=payer_kind or None,
                payer_id=payer_id,
                provider_id=provider_id,
                practice_id=practice_id,
            ),
            team_id,
            user_id,
        )
        for cid, number, service_on, payer_id, provider_id, team_id, user_id, payer_name, payer_kind in rows
    ]


@dataclass(frozen=True)
class Roster:
    """The practice's teams and people, as the rules need them."""

    team_ids: dict[str, int]
    team_names: dict[int, str]
    members: set[int]
    user_team: dict[int, int | None]  # a member's team here (their first membership with one)


def roster(db: Session, practice_id: int) -> Roster:
    """The practice's teams (by name and id) and its members with their team."""
    teams = {
        name: int(team_id)
        for name, team_id in db.execute(
            select(m.Team.name, m.Team.id).where(m.Team.practice_id == practice_id)
        )
    }
    user_team: dict[int, int | None] = {}
    for user_id, team_id in db.execute(
        select(m.Membership.user_id, m.Membership.team_id)
        .where(m.Membership.practice_id == practice_id)
        .order_by(m.Membership.id)
    ):
        if user_team.get(user_id) is None:
            user_team[user_id] = team_id
    return Roster(teams, {v: k for k, v in teams.items()}, set(user_team), user_team)


@dataclass(frozen=True)
class _Change:
    claim: OpenClaim
    rule: AssignmentRule
    team_name: str | None  # the team wanted (None: a person with no team here)
    user_id: int | None


def rule_for(facts: ClaimFacts, rules: Sequence[AssignmentRule], place: Roster) -> AssignmentRule | None:
    for rule in rules:
        if rule.user_id is not None and rule.user_id not in place.members:
            continue  # a person who does not work in this practice
        if rule.matches(facts):
            return rule
    return None


def _wanted(rule: AssignmentRule, place: Roster) -> tuple[str | None, int | None]:
    if rule.user_id is None:
        return rule.team_name, None
    team_id = place.user_team.get(rule.user_id)
    return (place.team_names[team_id] if team_id is not None else None), rule.user_id


def _changes(
    claims: Sequence[OpenClaim], rules: Sequence[AssignmentRule], place: Roster
) -> tuple[list[_Change], Counter[str]]:
    """The claims whose assignment disagrees with the rules, and how many claims each rule's
    target would hold."""
    changes, targets = [], Counter[str]()
    for claim in claims:
        rule = rule_for(claim.facts, rules, place)
        if rule is None:
            continue
        targets[rule.target] += 1
        team_name, user_id = _wanted(rule, place)
        current_team = place.team_names.get(claim.team_id or 0)
        agrees = (
            claim.user_id == user_id and current_team == team_name if user_id else current_team == team_name
        )
        if not agrees:
            changes.append(_Change(claim, rule, team_name, user_id))
    return changes, targets


# --- dry run and apply ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MoveSample:
    claim_id: int
    number: str
    before: str
    after: str
    rule: str


@dataclass(frozen=True)
class DryRun:
    """What applying ``rules`` would do today, nothing saved."""

    open_claims: int
    would_change: int
    by_target: list[tuple[str, int, int]]  # (team or person, holds now, would hold)
    sample: list[MoveSample] = field(default_factory=list)


def _holder_label(team_name: str | None, user_id: int | None, people: Mapping[int, str]) -> str:
    if user_id is not None:
        person = people.get(user_id, f"user {user_id}")
        return f"{person} ({team_name})" if team_name else person
    return team_name or "nobody"


def _target_label(target: str, people: Mapping[int, str]) -> str:
    kind, _, value = target.partition(":")
    return people.get(int(value), f"user {value}") if kind == "user" else value


def dry_run(
    db: Session,
    *,
    actor: Actor,
    practice_id: int,
    today: date,
    rules: Sequence[AssignmentRule] | None = None,
) -> DryRun:
    """What the rules (those given, else those in force) would change on today's open claims."""
    actor.require(practice_id, Permission.VIEW_WORK_QUEUE)
    rules = tuple(rules) if rules is not None else rules_in_force(db, organization_of(db, practice_id)).rules
    place = roster(db, practice_id)
    claims = open_claims(db, practice_id, today)
    changes, targets = _changes(claims, rules, place)
    people = user_labels(
        db, {c.user_id for c in claims if c.user_id} | {r.user_id for r in rules if r.user_id}
    )
    named = {r.user_id for r in rules if r.user_id is not None}
    now: Counter[str] = Counter()
    for claim in claims:
        now[_holder_target(claim, place, named)] += 1
    labels = sorted(set(now) | set(targets))
    return DryRun(
        open_claims=len(claims),
        would_change=len(changes),
        by_target=[(_target_label(t, people), now.get(t, 0), targets.get(t, 0)) for t in labels],
        sample=[
            MoveSample(
                c.claim.claim_id,
                c.claim.number,
                _holder_label(place.team_names.get(c.claim.team_id or 0), c.claim.user_id, people),
                _holder_label(c.team_name, c.user_id, people),
                c.rule.name,
            )
            for c in changes[:SAMPLE_MAX]
        ],
    )


def _holder_target(claim: OpenClaim, place: Roster, named: set[int]) -> str:
    """The claim's holder in the form of a rule's target: a person a rule names, else its
    team (or nobody)."""
    if claim.user_id in named:
        return f"user:{claim.user_id}"
    team = place.team_names.get(claim.team_id or 0)
    return f"team:{team}" if team else "team:(no team)"


@dataclass(frozen=True)
class ApplyResult:
    version: int | None
    open_claims: int
    changed: int
    work_items_updated: int
    teams_created: list[str]

    @property
    def unchanged(self) -> int:
        return self.open_claims - self.changed


def apply_saved_rules_everywhere(db: Session, *, today: date, actor: Actor) -> list[ApplyResult]:
    """:func:`apply_rules` in every practice whose organization saved rules (the daily job,
    before the follow-up rebuild, so new claims reach a person's queue the day they go out).
    A practice that never saved rules is left alone: the defaults assign only at an import."""
    saved = select(m.AssignmentRule.organization_id).distinct()
    practice_ids = db.scalars(
        select(m.Practice.id).where(m.Practice.organization_id.in_(saved)).order_by(m.Practice.id)
    ).all()
    return [apply_rules(db, actor=actor, practice_id=pid, today=today) for pid in practice_ids]


def _team_id(db: Session, practice_id: int, name: str, place: Roster, created: list[str]) -> int:
    if name not in place.team_ids:
        team = m.Team(practice_id=practice_id, name=name)
        db.add(team)
        db.flush()
        place.team_ids[name] = team.id
        place.team_names[team.id] = name
        created.append(name)
    return place.team_ids[name]


def apply_rules(db: Session, *, actor: Actor, practice_id: int, today: date) -> ApplyResult:
    """Assign the practice's open claims by the rules in force (see the module docstring);
    idempotent; audited when something changed. Never commits."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    ruleset = rules_in_force(db, organization_of(db, practice_id))
    place = roster(db, practice_id)
    claims = open_claims(db, practice_id, today)
    changes, _ = _changes(claims, ruleset.rules, place)
    created: list[str] = []
    moved: dict[int, tuple[int | None, int | None]] = {}
    for change in changes:
        team_id = _team_id(db, practice_id, change.team_name, place, created) if change.team_name else None
        moved[change.claim.claim_id] = (team_id, change.user_id)
    for start in range(0, len(changes), 1000):
        ids = [c.claim.claim_id for c in changes[start : start + 1000]]
        for claim in db.scalars(select(m.Claim).where(m.Claim.id.in_(ids))):
            claim.assignee_team_id, claim.assignee_user_id = moved[claim.id]
    db.flush()
    items = sync_work_item_owners(db, practice_id, moved)
    result = ApplyResult(ruleset.version, len(claims), len(changes), items, created)
    if changes:
        audit.record(
            db,
            actor=actor,
            practice_id=practice_id,
            action="update",
            entity="assignment_run",
            entity_id=today.isoformat(),
            after={
                "version": ruleset.version,
                "open_claims": result.open_claims,
                "changed": result.changed,
                "work_items_updated": items,
                "teams_created": created,
                "by_rule": dict(Counter(c.rule.name for c in changes)),
            },
            reason=f"assignment rules {_version_label(ruleset.version)} applied",
        )
    return result


def _version_label(version: int | None) -> str:
    return f"v{version}" if version is not None else "(the defaults)"


def sync_work_item_owners(
    db: Session, practice_id: int, owners: Mapping[int, tuple[int | None, int | None]]
) -> int:
    """Give the open follow-up work items of these claims (claim id -> (team id, user id)) the
    claims' owners; returns how many items changed."""
    changed = 0
    ids = list(owners)
    for start in range(0, len(ids), 1000):
        query = select(m.WorkItem).where(
            m.WorkItem.practice_id == practice_id,
            m.WorkItem.kind == FOLLOWUP,
            m.WorkItem.status != "resolved",
            m.WorkItem.claim_id.in_(ids[start : start + 1000]),
        )
        for item in db.scalars(query):
            team_id, user_id = owners[item.claim_id or 0]
            if (item.owner_team_id, item.owner_user_id) != (team_id, user_id):
                item.owner_team_id, item.owner_user_id = team_id, user_id
                changed += 1
    db.flush()
    return changed


def describe(rules: Sequence[AssignmentRule], people: Mapping[int, str]) -> list[dict[str, Any]]:
    """Rules as plain dicts (for the API and the page)."""
    return [
        {
            "position": n,
            "name": r.name,
            "team_name": r.team_name if r.user_id is None else "",
            "user_id": r.user_id,
            "user_name": people.get(r.user_id, "") if r.user_id is not None else "",
            "conditions": r.conditions(),
        }
        for n, r in enumerate(rules, start=1)
    ]


@dataclass(frozen=True)
class RuleChoices:
    """What a rule may name, for the rules form: (id, label) pairs and team names."""

    payers: list[tuple[int, str]]
    providers: list[tuple[int, str]]
    practices: list[tuple[int, str]]
    people: list[tuple[int, str]]
    teams: list[str]


def rule_choices(
    db: Session, *, actor: Actor, practice_id: int, rules: Sequence[AssignmentRule] = ()
) -> RuleChoices:
    """The organization's practices, clinicians, people (not clients) and team names, and the
    payers of the practice's claims (plus any a rule already names)."""
    actor.require(practice_id, Permission.VIEW_WORK_QUEUE)
    organization_id = organization_of(db, practice_id)
    practices = db.execute(
        select(m.Practice.id, m.Practice.name)
        .where(m.Practice.organization_id == organization_id)
        .order_by(m.Practice.name)
    ).all()
    ids = [pid for pid, _ in practices]
    providers = db.execute(
        select(m.Provider.id, m.Provider.first_name, m.Provider.last_name)
        .where(m.Provider.practice_id.in_(ids))
        .order_by(m.Provider.last_name, m.Provider.first_name)
    ).all()
    people = db.execute(
        select(m.User.id, m.User.full_name, m.User.email)
        .join(m.Membership, m.Membership.user_id == m.User.id)
        .where(m.Membership.practice_id.in_(ids), m.Membership.role != "client", m.User.is_active.is_(True))
        .distinct()
    ).all()
    named = {pid for rule in rules for pid in rule.payer_ids}
    payer_ids = set(db.scalars(select(m.Claim.payer_id).where(m.Claim.practice_id == practice_id).distinct()))
    payers = db.execute(
        select(m.Payer.id, m.Payer.name).where(m.Payer.id.in_(payer_ids | named)).order_by(m.Payer.name)
    ).all()
    teams = sorted(set(db.scalars(select(m.Team.name).where(m.Team.practice_id.in_(ids)))))
    return RuleChoices(
        payers=[(pid, name) for pid, name in payers],
        providers=[(pid, f"{first} {last}") for pid, first, last in providers],
        practices=[(pid, name) for pid, name in practices],
        people=sorted(((uid, name or email) for uid, name, email in people), key=lambda p: p[1].lower()),
        teams=teams,
    )


def import_team_for(db: Session, practice_id: int) -> Callable[[ArClaimFacts], str]:
    """The team the AR portfolio import gives a claim of the file, by the organization's rules
    in force (the defaults when none was saved: the import's behaviour then is the AR engine's).

    At import time a claim's payer and clinician may not exist yet, so rules naming payers or
    clinicians do not match there, and rules naming a person are passed over (the import
    assigns teams); apply the rules after the import to settle those claims."""
    rules = [
        rule for rule in rules_in_force(db, organization_of(db, practice_id)).rules if rule.user_id is None
    ]

    def team_for(facts: ArClaimFacts) -> str:
        claim = ClaimFacts(
            facts.balance_cents, facts.aging_days, facts.payer_name, facts.payer_kind, practice_id=practice_id
        )
        found = next((rule for rule in rules if rule.matches(claim)), DEFAULT_RULES[-1])
        return found.team_name

    return team_for


# --- the demo ----------------------------------------------------------------------------------

# (team, agents): a billing company's floor, its generalists busiest.
DEMO_AGENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Senior Agent", ("Dana Whitcomb", "Eli Marsh")),
    ("Escalation Team", ("Harper Quinn", "Imani Brooks")),
    ("Government Specialist", ("Nia Obi", "Ola Brandt")),
    ("General", ("Sam Reyes", "Tomas Ilunga", "Wen Park")),
)
DEMO_LEAD_TEAM = "General"
# How a team's claims were handed out before rules and rebalancing: the first agent took the
# most (uneven, for the rebalance to even out); one claim in eight still waits in the team's queue.
_DEMO_SHARES = (6, 3, 1)


def _demo_rules() -> list[AssignmentRule]:
    medicaid = AssignmentRule(
        "Medicaid over 60 days",
        team_name="Government Specialist",
        aged_over_days=60,
        payer_kinds=frozenset({"medicaid"}),
    )
    return [medicaid, *DEFAULT_RULES]


def _join_team(db: Session, practice_id: int, user_id: int, team_id: int) -> None:
    """Put a person's billing membership of the practice on a team."""
    membership = db.scalar(
        select(m.Membership).where(
            m.Membership.user_id == user_id,
            m.Membership.practice_id == practice_id,
            m.Membership.role == "billing",
        )
    )
    if membership is not None and membership.team_id != team_id:
        membership.team_id = team_id
        db.flush()


def _demo_agent(db: Session, actor: Actor, practice_id: int, name: str, team_id: int) -> tuple[int, bool]:
    """The agent's user id (created, or given a membership here), and whether it was created."""
    email = f"{name.lower().replace(' ', '.')}@agents.demo.test"
    user = db.scalar(select(m.User).where(m.User.email == email))
    if user is None:
        user = auth.create_user(
            db,
            actor=actor,
            email=email,
            full_name=name,
            password=secrets.token_urlsafe(24),  # agents of the demo's floor do not sign in
            practice_id=practice_id,
            role="billing",
            team_id=team_id,
        )
        return user.id, True
    membership = db.scalar(
        select(m.Membership).where(m.Membership.user_id == user.id, m.Membership.practice_id == practice_id)
    )
    if membership is None:
        db.add(m.Membership(user_id=user.id, practice_id=practice_id, role="billing", team_id=team_id))
        db.flush()
    return user.id, False


def seed_demo_assignment(
    db: Session, actor: Actor, practice_id: int, today: date, *, lead_user_id: int | None = None
) -> dict[str, int]:
    """The demo's billing floor: four teams and nine agents, two rule versions (the AR defaults,
    then "Medicaid over 60 days to the Government Specialist team" first), the rules applied to
    the open claims, and each team's claims handed out unevenly (6:3:1 by claim id, one in eight
    left in the team's queue) so the workload page has a rebalance to propose. ``lead_user_id``
    (the practice's own billing specialist) joins the General team first and so holds the most
    of it. Running it again creates nothing new and changes nothing. Never commits."""
    place = roster(db, practice_id)
    created: list[str] = []
    members: dict[int, list[int]] = {}
    agents_created = 0
    for team_name, names in DEMO_AGENTS:
        team_id = _team_id(db, practice_id, team_name, place, created)
        members[team_id] = []
        if lead_user_id is not None and team_name == DEMO_LEAD_TEAM:
            _join_team(db, practice_id, lead_user_id, team_id)
            members[team_id].append(lead_user_id)
        for name in names:
            user_id, new = _demo_agent(db, actor, practice_id, name, team_id)
            members[team_id].append(user_id)
            agents_created += new
    organization_id = organization_of(db, practice_id)
    versions = 0
    if rules_in_force(db, organization_id).version is None:
        save_rules(
            db, actor=actor, practice_id=practice_id, rules=DEFAULT_RULES, reason="the AR engine's defaults"
        )
        save_rules(
            db,
            actor=actor,
            practice_id=practice_id,
            rules=_demo_rules(),
            reason="old Medicaid claims need the specialists' portal access",
        )
        versions = 2
    run = apply_rules(db, actor=actor, practice_id=practice_id, today=today)
    handed = _demo_hand_out(db, practice_id, members)
    return {
        "teams": len(DEMO_AGENTS),
        "teams_created": len(created),
        "agents_created": agents_created,
        "rule_versions_saved": versions,
        "open_claims": run.open_claims,
        "claims_reassigned": run.changed,
        "claims_handed_to_agents": handed,
    }


def _demo_hand_out(db: Session, practice_id: int, members: Mapping[int, list[int]]) -> int:
    """Give each team's unheld open claims to its agents unevenly (see seed_demo_assignment)."""
    owners: dict[int, tuple[int | None, int | None]] = {}
    for team_id, user_ids in members.items():
        shares = [uid for uid, share in zip(user_ids, _DEMO_SHARES, strict=False) for _ in range(share)]
        query = (
            select(m.Claim)
            .where(
                m.Claim.practice_id == practice_id,
                m.Claim.assignee_team_id == team_id,
                m.Claim.assignee_user_id.is_(None),
                m.Claim.status.in_(_WORKED),
            )
            .order_by(m.Claim.id)
        )
        for claim in db.scalars(query):
            if claim.id % 8 == 7:
                continue  # still in the team's own queue
            claim.assignee_user_id = shares[claim.id % len(shares)]
            owners[claim.id] = (team_id, claim.assignee_user_id)
    db.flush()
    sync_work_item_owners(db, practice_id, owners)
    return len(owners)
