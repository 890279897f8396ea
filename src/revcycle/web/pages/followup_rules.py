"""The follow-up rules page: ``/followup-rules`` (administrators).

What applies to each payer now (its rule version, the expected days to pay and where they
come from: configured, learned from its payments, or the usual figure for its kind), every
version of every rule (a change is a new version, never an edit, with who, when and why), and
a form to write the next version of a payer's, a payer kind's or the practice's rule. The form
has a dry run — what the changed rule would do to today's open claims, nothing saved — and a
save. A refusal names the field and keeps what was typed; never a 500.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.services import followup
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

ACTIVE = "followup_rules"
_NUMBERS = {"grace_days": 5, "repeat_days": 14, "escalate_after_days": 60}
_NOTICES = {"saved": "Saved as a new version; the follow-ups follow it from the next rebuild."}


def _render(ctx: PageContext, form: dict[str, str], **extra: Any) -> Response:
    overview = followup.rules_overview(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, today=ctx.today)
    return ctx.render(
        "followup/rules.html",
        ACTIVE,
        overview=overview,
        form=form,
        status_code=extra.pop("status_code", 200),
        **extra,
    )


def _blank_form() -> dict[str, str]:
    return {"scope": "practice", "expected_days": "", **{k: str(v) for k, v in _NUMBERS.items()}}


@router.get("/followup-rules")
def rules_page(ctx: Ctx, done: str = "") -> Response:
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    return _render(ctx, _blank_form(), notice=_NOTICES.get(done, ""))


def _int(form: dict[str, str], name: str, *, empty: int | None) -> int | None:
    text = form.get(name, "").strip()
    if not text:
        return empty
    if not text.isdigit():
        raise InvalidInput(f"{name}: {text!r} is not a whole number of days")
    return int(text)


def _day(form: dict[str, str], name: str) -> date | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name}: {text!r} is not a date") from None


def _change(form: dict[str, str]) -> followup.RuleChange:
    """The rule the form describes; InvalidInput names the first field that is wrong."""
    starts, ends = _day(form, "quiet_starts_on"), _day(form, "quiet_ends_on")
    if (starts is None) != (ends is None):
        raise InvalidInput("quiet window: give both its first and its last day, or neither")
    windows = (
        (followup.QuietWindow(starts, ends, form.get("quiet_reason", "").strip()),) if starts and ends else ()
    )
    numbers = {name: _int(form, name, empty=default) for name, default in _NUMBERS.items()}
    return followup.RuleChange(
        scope=form.get("scope", "").strip(),
        expected_days=_int(form, "expected_days", empty=None),
        grace_days=numbers["grace_days"] or 0,
        repeat_days=numbers["repeat_days"] or 0,
        escalate_after_days=numbers["escalate_after_days"] or 0,
        quiet_windows=windows,
        reason=form.get("reason", "").strip(),
    )


@router.post("/followup-rules")
async def write_rule(ctx: Ctx) -> Response:
    """``action=dry_run`` shows what the rule would change; ``action=save`` adds the version."""
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    raw = await ctx.request.form()
    form = {key: str(value) for key, value in raw.items() if key != "csrf_token"}
    action = form.pop("action", "dry_run")
    try:
        change = _change(form)
        if action == "save":
            with ctx.db.begin_nested():
                followup.save_rule(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, change=change)
            return RedirectResponse(f"/followup-rules?{urlencode({'done': 'saved'})}", status_code=303)
        preview = followup.dry_run(
            ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, change=change, today=ctx.today
        )
    except InvalidInput as exc:
        return _render(ctx, form, error=exc.detail, status_code=422)
    return _render(ctx, form, preview=preview)
