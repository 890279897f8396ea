"""Workload per agent and per team, and rebalancing a team's open claims among its members.

For each person (a member of the practice in a team, or anyone holding open work) and each
team of the practice:

- **open items**: open work items they own (``work_items.owner_user_id`` / ``owner_team_id``,
  not resolved);
- **open claims** and **open dollars**: the open claims assigned to them (with the payer,
  rejected or denied; see :data:`revcycle.services.assignment.WORKED_STATUSES`) and the sum of
  those claims' insurance balances (``ar:insurance`` of the claim); a team's figures count every
  claim assigned to the team, whoever in it holds it;
- **average value**: open dollars ÷ open claims (rounded to the cent);
- **collection rate** (:data:`COLLECTION_RATE_FORMULA`): of the claims assigned to them with
  a date of service in the last 12 months (the 365 days up to ``today``), the payments posted
  on those claims (insurance and patient payments on the claims' receivables, net of
  reversals) ÷ the amount billed on them.

:func:`rebalance_proposal` proposes moves inside one team
(:func:`revcycle.domain.assignment.propose_rebalance`); :func:`apply_rebalance` applies only the
moves a person confirmed, all or none, and refuses a move whose claim has moved since the
proposal was made (a stale proposal), naming the claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from revcycle.db import models as m
from revcycle.domain.assignment import HeldItem, Move, RebalanceProposal, propose_rebalance
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.ledger_events import TransactionKind
from revcycle.domain.permissions import Permission, Scope
from revcycle.errors import InvalidInput, NotFound, PermissionDenied
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.assignment import (
    WORKED_STATUSES,
    open_claims,
    organization_of,
    roster,
    rule_for,
    rules_in_force,
    sync_work_item_owners,
    user_labels,
)

__all__ = [
    "COLLECTION_RATE_FORMULA",
    "HolderLoad",
    "TeamRebalance",
    "Workload",
    "apply_rebalance",
    "rebalance_proposal",
    "workload",
]

COLLECTION_RATE_FORMULA = (
    "collection rate = payments posted on their claims with a date of service in the last 12 months "
    "÷ the amount billed on those claims"
)
_WORKED = sorted(str(status) for status in WORKED_STATUSES)
_PAYMENT_KINDS = (str(TransactionKind.INSURANCE_PAYMENT), str(TransactionKind.PATIENT_PAYMENT))
_AR_ACCOUNTS = (Account.AR_INSURANCE.value, Account.AR_PATIENT.value)


@dataclass(frozen=True)
class HolderLoad:
    """One person's or one team's load."""

    holder_id: int
    label: str
    team: str
    open_items: int
    open_claims: int
    open_cents: int
    billed_cents: int
    paid_cents: int

    @property
    def average_cents(self) -> int | None:
        if not self.open_claims:
            return None
        return int((Decimal(self.open_cents) / self.open_claims).to_integral_value(ROUND_HALF_UP))

    @property
    def collection_rate(self) -> Decimal | None:
        """Percent, one decimal; None when nothing was billed."""
        if not self.billed_cents:
            return None
        return (Decimal(100 * self.paid_cents) / self.billed_cents).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Workload:
    teams: list[HolderLoad]
    agents: list[HolderLoad]
    formula: str = COLLECTION_RATE_FORMULA


def _grouped(db: Session, query: Any) -> dict[int, tuple[int, ...]]:
    return {
        int(row[0]): tuple(int(v or 0) for v in row[1:]) for row in db.execute(query) if row[0] is not None
    }


def _figures(
    db: Session, practice_id: int, today: date, claim_col: Any, item_col: Any
) -> dict[str, dict[int, Any]]:
    """Per holder (the claim / work item column given): open items, open claims and dollars,
    billed and paid for the collection rate."""
    items = _grouped(
        db,
        select(item_col, func.count())
        .where(m.WorkItem.practice_id == practice_id, m.WorkItem.status != "resolved")
        .group_by(item_col),
    )
    balance = (
        select(m.LedgerBalance.scope_id, m.LedgerBalance.balance_cents)
        .where(
            m.LedgerBalance.practice_id == practice_id,
            m.LedgerBalance.scope == BalanceScope.CLAIM.value,
            m.LedgerBalance.account == Account.AR_INSURANCE.value,
        )
        .subquery()
    )
    held = _grouped(
        db,
        select(claim_col, func.count(), func.coalesce(func.sum(balance.c.balance_cents), 0))
        .outerjoin(balance, balance.c.scope_id == m.Claim.id)
        .where(m.Claim.practice_id == practice_id, m.Claim.status.in_(_WORKED))
        .group_by(claim_col),
    )
    recent = and_(
        m.Claim.practice_id == practice_id,
        m.Claim.service_from_on > today - timedelta(days=365),
        m.Claim.service_from_on <= today,
    )
    billed = _grouped(db, select(claim_col, func.sum(m.Claim.billed_cents)).where(recent).group_by(claim_col))
    original = aliased(m.LedgerTransaction)
    paid = _grouped(
        db,
        select(claim_col, -func.sum(m.Posting.amount_cents))
        .select_from(m.Posting)
        .join(m.Claim, m.Claim.id == m.Posting.claim_id)
        .join(m.LedgerTransaction, m.LedgerTransaction.id == m.Posting.transaction_id)
        .outerjoin(original, original.id == m.LedgerTransaction.reverses_transaction_id)
        .where(
            recent,
            m.Posting.practice_id == practice_id,
            m.Posting.account.in_(_AR_ACCOUNTS),
            m.Posting.accounting_on <= today,
            or_(
                m.LedgerTransaction.kind.in_(_PAYMENT_KINDS),
                and_(
                    m.LedgerTransaction.kind == str(TransactionKind.REVERSAL),
                    original.kind.in_(_PAYMENT_KINDS),
                ),
            ),
        )
        .group_by(claim_col),
    )
    return {"items": items, "open": held, "billed": billed, "paid": paid}


def _load(holder_id: int, label: str, team: str, figures: dict[str, dict[int, Any]]) -> HolderLoad:
    (items,) = figures["items"].get(holder_id, (0,))
    claims, cents = figures["open"].get(holder_id, (0, 0))
    (billed,) = figures["billed"].get(holder_id, (0,))
    (paid,) = figures["paid"].get(holder_id, (0,))
    return HolderLoad(holder_id, label, team, items, claims, cents, billed, paid)


def _require_everyones_queue(actor: Actor, practice_id: int) -> None:
    """The whole practice's work queue (a therapist sees only their own: not this)."""
    if actor.require(practice_id, Permission.VIEW_WORK_QUEUE) is not Scope.ALL:
        raise PermissionDenied("the workload of every agent is for billing staff and administrators")


def workload(db: Session, *, actor: Actor, practice_id: int, today: date) -> Workload:
    """Every team of the practice, and every agent (a member in a team, or anyone holding open
    claims or items), with their figures (see the module docstring). Someone who sees only
    their own work queue (a therapist) gets only their own row."""
    scope = actor.require(practice_id, Permission.VIEW_WORK_QUEUE)
    place = roster(db, practice_id)
    by_user = _figures(db, practice_id, today, m.Claim.assignee_user_id, m.WorkItem.owner_user_id)
    if scope is not Scope.ALL:
        user_ids = {actor.user_id} if actor.user_id is not None else set()
        teams = []
    else:
        by_team = _figures(db, practice_id, today, m.Claim.assignee_team_id, m.WorkItem.owner_team_id)
        teams = [_load(team_id, name, name, by_team) for name, team_id in sorted(place.team_ids.items())]
        holding = set(by_user["items"]) | set(by_user["open"])
        user_ids = {uid for uid, team in place.user_team.items() if team is not None} | holding
    labels = user_labels(db, user_ids)
    agents = [
        _load(
            uid,
            labels.get(uid, f"user {uid}"),
            place.team_names.get(place.user_team.get(uid) or 0, ""),
            by_user,
        )
        for uid in user_ids
    ]
    agents.sort(key=lambda a: (a.team or "~", a.label.lower(), a.holder_id))
    return Workload(teams, agents)


# --- rebalancing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamRebalance:
    team_id: int
    team_name: str
    proposal: RebalanceProposal
    people: dict[int, str]
    claim_numbers: dict[int, str]


def _team(db: Session, practice_id: int, team_id: int) -> m.Team:
    team = db.get(m.Team, team_id)
    if team is None or team.practice_id != practice_id:
        raise NotFound(f"team {team_id} not found")
    return team


def _members(db: Session, practice_id: int, team_id: int) -> list[int]:
    return sorted(
        set(
            db.scalars(
                select(m.Membership.user_id).where(
                    m.Membership.practice_id == practice_id, m.Membership.team_id == team_id
                )
            )
        )
    )


def rebalance_proposal(
    db: Session, *, actor: Actor, practice_id: int, team_id: int, today: date
) -> TeamRebalance:
    """Moves that even out the team members' open claims and dollars; nothing applied. A claim
    the rules in force give to its holder by name is pinned (never moved)."""
    _require_everyones_queue(actor, practice_id)
    team = _team(db, practice_id, team_id)
    rules = rules_in_force(db, organization_of(db, practice_id)).rules
    place = roster(db, practice_id)
    claims = [c for c in open_claims(db, practice_id, today) if c.team_id == team_id]
    items = []
    for claim in claims:
        rule = rule_for(claim.facts, rules, place)
        pinned = rule is not None and rule.user_id is not None and rule.user_id == claim.user_id
        items.append(HeldItem(claim.claim_id, claim.facts.balance_cents, claim.user_id, pinned))
    members = _members(db, practice_id, team_id)
    proposal = propose_rebalance(members, items)
    people = user_labels(db, set(members) | {c.user_id for c in claims if c.user_id})
    return TeamRebalance(team.id, team.name, proposal, people, {c.claim_id: c.number for c in claims})


def apply_rebalance(
    db: Session, *, actor: Actor, practice_id: int, team_id: int, moves: Sequence[Move], reason: str = ""
) -> int:
    """Apply the confirmed ``moves`` (each: claim, the holder it had in the proposal, the member
    it goes to), all or none; audited. Refused when a claim is no longer open in the team or
    no longer with the holder the proposal saw (propose again), or the new holder is not a
    member of the team. Returns how many claims moved."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    team = _team(db, practice_id, team_id)
    if not moves:
        raise InvalidInput("moves: tick at least one proposed move to apply")
    members = set(_members(db, practice_id, team_id))
    claim_ids = [move.claim_id for move in moves]
    if len(set(claim_ids)) != len(claim_ids):
        raise InvalidInput("moves: a claim is named twice")
    claims = {
        c.id: c
        for c in db.scalars(
            select(m.Claim).where(m.Claim.id.in_(claim_ids), m.Claim.practice_id == practice_id)
        )
    }
    for move in moves:
        claim = claims.get(move.claim_id)
        if claim is None:
            raise NotFound(f"claim {move.claim_id} not found")
        if move.to_user_id not in members:
            raise InvalidInput(f"claim {claim.number}: user {move.to_user_id} is not in the team {team.name}")
        if (
            claim.status not in _WORKED
            or claim.assignee_team_id != team_id
            or claim.assignee_user_id != move.from_user_id
        ):
            raise InvalidInput(
                f"claim {claim.number} has moved or closed since the proposal was made; "
                "nothing was applied — propose the rebalance again"
            )
    for move in moves:
        claims[move.claim_id].assignee_user_id = move.to_user_id
    db.flush()
    sync_work_item_owners(db, practice_id, {move.claim_id: (team_id, move.to_user_id) for move in moves})
    audit.record(
        db,
        actor=actor,
        practice_id=practice_id,
        action="update",
        entity="team_rebalance",
        entity_id=team_id,
        after={
            "team": team.name,
            "moves": [
                {"claim_id": mv.claim_id, "from": mv.from_user_id, "to": mv.to_user_id} for mv in moves
            ],
        },
        reason=reason or f"rebalance of {team.name}: {len(moves)} claim(s) moved",
    )
    return len(moves)
