"""Assignment rules and workload pages.

``/assignment-rules``: the organization's rules in force (first match wins), editable as an
ordered list — each rule a card with its position (to reorder), name, conditions and target
(a team by name, or a person), a remove box, and a blank card to add one — with a dry run on
today's open claims before saving, a save (a new version, never an edit), an "apply now", and
every earlier version. Anyone who sees the whole work queue may look; saving and applying need
``manage_practice``.

``/workload``: per team and per agent, open items, open claims, open dollars, average value and
collection rate (its formula stated on the page); ``?team=<id>`` shows that team's proposed
rebalance with a box per move, and posting it applies the ticked moves only
(``manage_practice``). A refusal (a bad field, a stale proposal) is a message, never a 500.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from revcycle.domain.assignment import PAYER_KIND_CHOICES, AssignmentRule, Move
from revcycle.domain.permissions import Permission, Scope
from revcycle.errors import InvalidInput
from revcycle.money import MoneyError, format_plain, parse_cents
from revcycle.services import assignment, workload
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

RULES_ACTIVE = "assignment_rules"
WORKLOAD_ACTIVE = "workload"
_ROW_FIELD = re.compile(r"^r(\d+)_")
_LISTS = ("kinds", "payers", "providers", "practices")
_NOTICES = {
    "saved": "Saved as a new version. Apply the rules to reassign today's open claims.",
    "applied": "The rules were applied.",
    "rebalanced": "The ticked moves were applied.",
}


def _can_manage(ctx: PageContext) -> bool:
    return ctx.actor.scope(ctx.practice.id, Permission.MANAGE_PRACTICE) is not Scope.NONE


# --- the rules form --------------------------------------------------------------------------


def _row_of(rule: AssignmentRule, position: int) -> dict[str, Any]:
    return {
        "position": str(position),
        "name": rule.name,
        "team": rule.team_name if rule.user_id is None else "",
        "user": str(rule.user_id) if rule.user_id is not None else "",
        "balance_over": format_plain(rule.balance_over_cents) if rule.balance_over_cents is not None else "",
        "aged_over_days": str(rule.aged_over_days) if rule.aged_over_days is not None else "",
        "kinds": sorted(rule.payer_kinds),
        "payers": [str(i) for i in sorted(rule.payer_ids)],
        "providers": [str(i) for i in sorted(rule.provider_ids)],
        "practices": [str(i) for i in sorted(rule.practice_ids)],
        "remove": False,
    }


def _blank_row(position: int) -> dict[str, Any]:
    return {**_row_of(AssignmentRule(""), position), "position": str(position)}


def _rows_from(form: FormData) -> list[dict[str, Any]]:
    """The cards as typed (kept to show again on a refusal)."""
    indexes = sorted({int(found.group(1)) for key in form if (found := _ROW_FIELD.match(key))})
    rows = []
    for i in indexes:
        row: dict[str, Any] = {
            name: str(form.get(f"r{i}_{name}", "")).strip()
            for name in ("position", "name", "team", "user", "balance_over", "aged_over_days")
        }
        row.update({name: [str(v) for v in form.getlist(f"r{i}_{name}")] for name in _LISTS})
        row["remove"] = bool(form.get(f"r{i}_remove"))
        rows.append(row)
    return rows


def _is_blank(row: dict[str, Any]) -> bool:
    return not any(row[k] for k in ("name", "team", "user", "balance_over", "aged_over_days", *_LISTS))


def _whole(text: str, where: str, field: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"{where}: {field} {text!r} is not a whole number of days")
    return int(text)


def _ids(values: list[str], where: str, field: str) -> frozenset[int]:
    if not all(v.isdigit() for v in values):
        raise InvalidInput(f"{where}: {field} must be ids")
    return frozenset(int(v) for v in values)


def _rule_from(row: dict[str, Any], where: str) -> AssignmentRule:
    try:
        balance = parse_cents(row["balance_over"], field="balance over") if row["balance_over"] else None
    except MoneyError as exc:
        raise InvalidInput(f"{where}: {exc}") from None
    user = row["user"]
    if user and not user.isdigit():
        raise InvalidInput(f"{where}: choose a person from the list")
    return AssignmentRule(
        name=row["name"],
        team_name=row["team"] if not user else "",
        user_id=int(user) if user else None,
        balance_over_cents=balance,
        aged_over_days=_whole(row["aged_over_days"], where, "aged over"),
        payer_kinds=frozenset(row["kinds"]),
        payer_ids=_ids(row["payers"], where, "payers"),
        provider_ids=_ids(row["providers"], where, "clinicians"),
        practice_ids=_ids(row["practices"], where, "practices"),
    )


def _ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cards to keep, in the order their positions give (ties keep the form's order)."""
    kept = [(n, row) for n, row in enumerate(rows) if not row["remove"] and not _is_blank(row)]
    for _, row in kept:
        if row["position"] and not row["position"].isdigit():
            raise InvalidInput(f"position {row['position']!r} is not a whole number")
    return [row for _, row in sorted(kept, key=lambda x: (int(x[1]["position"] or 10_000), x[0]))]


def _rules_from(rows: list[dict[str, Any]]) -> list[AssignmentRule]:
    return [_rule_from(row, f"rule {n}") for n, row in enumerate(_ordered(rows), start=1)]


def _render_rules(ctx: PageContext, rows: list[dict[str, Any]] | None = None, **extra: Any) -> Response:
    organization_id = ctx.practice.organization_id
    in_force = assignment.rules_in_force(ctx.db, organization_id)
    if rows is None:
        rows = [_row_of(rule, n) for n, rule in enumerate(in_force.rules, start=1)]
        rows.append(_blank_row(len(rows) + 1))
    choices = assignment.rule_choices(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, rules=in_force.rules
    )
    people = dict(choices.people)
    return ctx.render(
        "assignment/rules.html",
        RULES_ACTIVE,
        in_force=in_force,
        versions=assignment.rule_versions(ctx.db, organization_id),
        rows=rows,
        choices=choices,
        people=people,
        kinds=PAYER_KIND_CHOICES,
        can_manage=_can_manage(ctx),
        status_code=extra.pop("status_code", 200),
        **extra,
    )


@router.get("/assignment-rules")
def rules_page(ctx: Ctx, done: str = "") -> Response:
    # Billing reads the rules its queue follows; a therapist's own queue does not need them.
    ctx.actor.require(ctx.practice.id, Permission.SUBMIT_CLAIMS)
    return _render_rules(ctx, notice=_NOTICES.get(done, ""))


@router.post("/assignment-rules")
async def write_rules(ctx: Ctx) -> Response:
    """``action``: ``dry_run`` (what the typed rules would change), ``save`` (a new version),
    ``apply`` (the rules in force, on today's open claims)."""
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    form = await ctx.request.form()
    action = str(form.get("action", "dry_run"))
    rows = _rows_from(form)
    reason = str(form.get("reason", "")).strip()
    try:
        if action == "apply":
            with ctx.db.begin_nested():
                result = assignment.apply_rules(
                    ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, today=ctx.today
                )
            return _render_rules(ctx, applied=result, notice=_NOTICES["applied"])
        rules = _rules_from(rows)
        if action == "save":
            with ctx.db.begin_nested():
                assignment.save_rules(
                    ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, rules=rules, reason=reason
                )
            return RedirectResponse(f"/assignment-rules?{urlencode({'done': 'saved'})}", status_code=303)
        problems = assignment.check_rules(ctx.db, ctx.practice.organization_id, rules)
        preview = assignment.dry_run(
            ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, today=ctx.today, rules=rules
        )
    except InvalidInput as exc:
        return _render_rules(ctx, rows, error=exc.detail, reason=reason, status_code=422)
    except ValueError as exc:  # no rule matched a claim: the list has no catch-all
        return _render_rules(ctx, rows, error=str(exc), reason=reason, status_code=422)
    return _render_rules(ctx, rows, preview=preview, problems=problems, reason=reason)


# --- workload ----------------------------------------------------------------------------------


def _render_workload(ctx: PageContext, team: int | None, **extra: Any) -> Response:
    load = workload.workload(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, today=ctx.today)
    plan = None
    if team is not None:
        plan = workload.rebalance_proposal(
            ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, team_id=team, today=ctx.today
        )
    return ctx.render(
        "assignment/workload.html",
        WORKLOAD_ACTIVE,
        load=load,
        plan=plan,
        can_manage=_can_manage(ctx),
        status_code=extra.pop("status_code", 200),
        **extra,
    )


@router.get("/workload")
def workload_page(ctx: Ctx, team: int | None = None, done: str = "") -> Response:
    return _render_workload(ctx, team, notice=_NOTICES.get(done, ""))


def _move(value: str) -> Move:
    """A ticked box: ``claim:from:to`` (from empty: the team's own queue)."""
    parts = value.split(":")
    if (
        len(parts) != 3
        or not parts[0].isdigit()
        or not parts[2].isdigit()
        or not (parts[1].isdigit() or not parts[1])
    ):
        raise InvalidInput(f"move {value!r} is not claim:from:to")
    return Move(int(parts[0]), 0, int(parts[1]) if parts[1] else None, int(parts[2]))


@router.post("/workload/rebalance")
async def apply_rebalance(ctx: Ctx) -> Response:
    """Apply the ticked moves of a team's proposal (all or none)."""
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    form = await ctx.request.form()
    team_text = str(form.get("team_id", ""))
    team = int(team_text) if team_text.isdigit() else None
    try:
        if team is None:
            raise InvalidInput("team_id: which team's proposal is this?")
        moves = [_move(str(value)) for value in form.getlist("move")]
        with ctx.db.begin_nested():
            workload.apply_rebalance(
                ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, team_id=team, moves=moves
            )
    except InvalidInput as exc:
        return _render_workload(ctx, team, error=exc.detail, status_code=422)
    return RedirectResponse(f"/workload?{urlencode({'done': 'rebalanced', 'team': team})}", status_code=303)
