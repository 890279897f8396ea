"""The assignment and workload API (read only).

* ``GET /api/assignment-rules``: the rules in force for the practice's organization (first
  match wins; ``version`` null means the built-in AR defaults) and every saved version;
* ``GET /api/workload``: per team and per agent, open items, open claims, open dollars,
  average value and collection rate (``formula`` states how it is computed).

Both need ``view_work_queue`` over the whole practice (billing staff and administrators).
Saving rules, applying them and rebalancing are done on the pages.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.permissions import Permission
from revcycle.services import assignment, workload
from revcycle.services.alerts import practice_today
from revcycle.web.api.resources import PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["assignment"])

VIEW = Permission.VIEW_WORK_QUEUE


class RuleOut(BaseModel):
    position: int
    name: str
    team_name: str = Field(description="the team (by name, in the claim's practice); empty when a person")
    user_id: int | None
    user_name: str
    conditions: dict[str, Any] = Field(
        description="balance_over_cents, aged_over_days, payer_kinds, payer_ids, provider_ids, practice_ids"
    )


class RuleSetOut(BaseModel):
    version: int | None = Field(description="null: the built-in AR defaults")
    created_at: datetime | None
    created_by: str
    reason: str
    rules: list[RuleOut]


class RulesOut(BaseModel):
    organization_id: int
    in_force: RuleSetOut
    versions: list[RuleSetOut]


class LoadOut(BaseModel):
    id: int
    name: str
    team: str
    open_items: int
    open_claims: int
    open_cents: int
    average_cents: int | None
    billed_cents: int = Field(description="billed on their claims served in the last 12 months")
    paid_cents: int = Field(description="payments posted on those claims")
    collection_rate_percent: Decimal | None


class WorkloadOut(BaseModel):
    practice_id: int
    formula: str
    teams: list[LoadOut]
    agents: list[LoadOut]


def _set(ruleset: assignment.RuleSet, people: dict[int, str]) -> dict[str, Any]:
    return {
        "version": ruleset.version,
        "created_at": ruleset.created_at,
        "created_by": ruleset.created_by,
        "reason": ruleset.reason,
        "rules": assignment.describe(ruleset.rules, people),
    }


@router.get("/api/assignment-rules", response_model=RulesOut, **needs(Permission.SUBMIT_CLAIMS))
def api_rules(db: DB, actor: CurrentActor, practice_id: PracticeId = None) -> dict[str, Any]:
    pid = one_practice(actor, practice_id, Permission.SUBMIT_CLAIMS)
    organization_id = assignment.organization_of(db, pid)
    in_force = assignment.rules_in_force(db, organization_id)
    versions = assignment.rule_versions(db, organization_id)
    named = {r.user_id for s in (in_force, *versions) for r in s.rules if r.user_id is not None}
    people = assignment.user_labels(db, named)
    return {
        "organization_id": organization_id,
        "in_force": _set(in_force, people),
        "versions": [_set(v, people) for v in versions],
    }


def _load(row: workload.HolderLoad) -> dict[str, Any]:
    return {
        "id": row.holder_id,
        "name": row.label,
        "team": row.team,
        "open_items": row.open_items,
        "open_claims": row.open_claims,
        "open_cents": row.open_cents,
        "average_cents": row.average_cents,
        "billed_cents": row.billed_cents,
        "paid_cents": row.paid_cents,
        "collection_rate_percent": row.collection_rate,
    }


@router.get("/api/workload", response_model=WorkloadOut, **needs(VIEW))
def api_workload(db: DB, actor: CurrentActor, practice_id: PracticeId = None) -> dict[str, Any]:
    pid = one_practice(actor, practice_id, VIEW)
    practice = db.get(m.Practice, pid)
    assert practice is not None  # one_practice found it among the caller's
    load = workload.workload(db, actor=actor, practice_id=pid, today=practice_today(practice, utcnow()))
    return {
        "practice_id": pid,
        "formula": load.formula,
        "teams": [_load(t) for t in load.teams],
        "agents": [_load(a) for a in load.agents],
    }
