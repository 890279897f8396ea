"""Appeals pages: working denials (``/appeals``), one appeal (``/appeals/{id}``) and the letter
templates (``/appeal-templates``).

``/appeals`` lists the open denials to work (category, the code in plain words, amount, the
appeal deadline with its urgency badge, the usual action: start an appeal or send a corrected
claim), the appeals by status and the last 12 months' overturn rate. ``/appeals/{id}`` edits
a draft (template, argument, enclosures), previews the letter and downloads its PDF, submits
it, records the payer's decision and starts the next level. ``POST /claims/{id}/appeals``
starts one (the work queue's "start appeal" quick action; a local ``return_to`` becomes the
appeal page's way back). Everything needs ``appeal_denial`` (billing, administrators); saving
a template needs ``manage_practice``. A refusal is shown as a message, never a 500; pages that
name clients audit the read.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from revcycle.domain import appeals as rules
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.money import MoneyError, parse_cents
from revcycle.services import appeals
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

ACTIVE = "appeals"
_NOTICES = {
    "started": "Appeal started: the letter is printed from the template. Edit it, then submit.",
    "saved": "Draft saved; the letter was printed again.",
    "submitted": "Appeal submitted: the claim is now appealed.",
    "decided": "Decision recorded.",
    "withdrawn": "Appeal withdrawn.",
    "corrected": "Corrected claim sent (frequency 7, with the payer's claim number).",
    "template": "Template saved as a new version.",
}
OUTCOMES = {"won": "Won", "partially_won": "Partially won", "lost": "Lost"}
Text = Annotated[str, Form(max_length=appeals.ARGUMENT_MAX)]
Short = Annotated[str, Form(max_length=200)]


def _require(ctx: PageContext) -> None:
    ctx.actor.require(ctx.practice.id, Permission.APPEAL_DENIAL)


def _local(path: str) -> str:
    """``path`` when it is a path on this site (never another site), else ""."""
    ok = path.startswith("/") and not path.startswith("//") and "\\" not in path and "\n" not in path
    return path if ok else ""


def _back_to(return_to: str, query: dict[str, str]) -> Response | None:
    """A redirect to the local page the form came from, with ``query`` added; None without one."""
    path = _local(return_to)
    if not path:
        return None
    joiner = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{joiner}{urlencode(query)}", status_code=303)


def _overview(ctx: PageContext, *, notice: str = "", error: str = "", status_code: int = 200) -> Response:
    overview = appeals.appeals_overview(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, today=ctx.today)
    ctx.audit_clients("appeal", overview.client_ids)
    return ctx.render(
        "appeals/list.html",
        ACTIVE,
        overview=overview,
        levels=rules.LEVELS,
        notice=notice,
        error=error,
        status_code=status_code,
    )


@router.get("/appeals")
def appeals_page(ctx: Ctx, done: str = "") -> Response:
    _require(ctx)
    return _overview(ctx, notice=_NOTICES.get(done, ""))


def _detail(
    ctx: PageContext,
    appeal_id: int,
    *,
    notice: str = "",
    error: str = "",
    back: str = "",
    status_code: int = 200,
) -> Response:
    view = appeals.appeal_view(ctx.db, actor=ctx.actor, appeal_id=appeal_id, today=ctx.today)
    ctx.audit_clients("appeal", [view.client_id])
    letter = appeals.letter_content(ctx.db, actor=ctx.actor, appeal_id=appeal_id, today=ctx.today)
    templates = appeals.latest_templates(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id)
    return ctx.render(
        "appeals/detail.html",
        ACTIVE,
        a=view,
        letter=letter,
        templates=templates,
        outcomes=OUTCOMES,
        notice=notice,
        error=error,
        back=_local(back),
        today=ctx.today,
        status_code=status_code,
    )


@router.get("/appeals/{appeal_id}")
def appeal_page(ctx: Ctx, appeal_id: int, done: str = "", back: str = "") -> Response:
    _require(ctx)
    return _detail(ctx, appeal_id, notice=_NOTICES.get(done, ""), back=back)


@router.get("/appeals/{appeal_id}/letter.pdf")
def letter_pdf(ctx: Ctx, appeal_id: int, inline: bool = False) -> Response:
    _require(ctx)
    filename, content = appeals.letter_pdf(ctx.db, actor=ctx.actor, appeal_id=appeal_id)
    disposition = "inline" if inline else "attachment"
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )


def _to_appeal(appeal_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/appeals/{appeal_id}?{urlencode({'done': done})}", status_code=303)


def _optional_int(text: str, name: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"{name}: {text!r} is not a number")
    return int(text)


def _day(text: str, name: str, default: date) -> date:
    if not text.strip():
        return default
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{name}: {text!r} is not a date") from None


@router.post("/claims/{claim_id}/appeals")
def start(
    *,
    ctx: Ctx,
    claim_id: int,
    denial_id: Short = "",
    previous_appeal_id: Short = "",
    return_to: Short = "",
) -> Response:
    """Start a draft (the work queue's quick action); lands on the appeal page."""
    _require(ctx)
    try:
        with ctx.db.begin_nested():
            appeal = appeals.start_appeal(
                ctx.db,
                actor=ctx.actor,
                claim_id=claim_id,
                denial_id=_optional_int(denial_id, "denial_id"),
                previous_appeal_id=_optional_int(previous_appeal_id, "previous_appeal_id"),
                today=ctx.today,
            )
    except (InvalidInput, Conflict) as exc:
        back = _back_to(return_to, {"error": exc.detail})
        return back or _overview(ctx, error=exc.detail, status_code=exc.status_code)
    query = {"done": "started", **({"back": _local(return_to)} if _local(return_to) else {})}
    return RedirectResponse(f"/appeals/{appeal.id}?{urlencode(query)}", status_code=303)


@router.post("/appeals/{appeal_id}/draft")
def save_draft(
    *,
    ctx: Ctx,
    appeal_id: int,
    argument: Text = "",
    enclosures: Annotated[str, Form(max_length=5000)] = "",
    template_id: Short = "",
    payer_reference: Short = "",
) -> Response:
    _require(ctx)
    try:
        with ctx.db.begin_nested():
            appeals.update_draft(
                ctx.db,
                actor=ctx.actor,
                appeal_id=appeal_id,
                today=ctx.today,
                argument=argument,
                enclosures=enclosures.splitlines(),
                template_id=_optional_int(template_id, "template_id"),
                payer_reference=payer_reference,
            )
    except (InvalidInput, Conflict) as exc:
        return _detail(ctx, appeal_id, error=exc.detail, status_code=exc.status_code)
    return _to_appeal(appeal_id, "saved")


@router.post("/appeals/{appeal_id}/submit")
def submit(*, ctx: Ctx, appeal_id: int, submitted_on: Short = "", payer_reference: Short = "") -> Response:
    _require(ctx)
    try:
        with ctx.db.begin_nested():
            appeals.submit_appeal(
                ctx.db,
                actor=ctx.actor,
                appeal_id=appeal_id,
                submitted_on=_day(submitted_on, "submitted_on", ctx.today),
                payer_reference=payer_reference,
            )
    except (InvalidInput, Conflict) as exc:
        return _detail(ctx, appeal_id, error=exc.detail, status_code=exc.status_code)
    return _to_appeal(appeal_id, "submitted")


@router.post("/appeals/{appeal_id}/outcome")
def outcome(
    *,
    ctx: Ctx,
    appeal_id: int,
    outcome: Short = "",
    recovered: Short = "",
    decided_on: Short = "",
    note: Annotated[str, Form(max_length=appeals.NOTE_MAX)] = "",
) -> Response:
    _require(ctx)
    try:
        cents = _cents(recovered)
        with ctx.db.begin_nested():
            appeals.record_outcome(
                ctx.db,
                actor=ctx.actor,
                appeal_id=appeal_id,
                outcome=outcome,
                decided_on=_day(decided_on, "decided_on", ctx.today),
                recovered_cents=cents,
                note=note,
            )
    except (InvalidInput, Conflict) as exc:
        return _detail(ctx, appeal_id, error=exc.detail, status_code=exc.status_code)
    return _to_appeal(appeal_id, "decided")


def _cents(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        return parse_cents(text, field="recovered")
    except MoneyError as exc:
        raise InvalidInput(str(exc)) from None


@router.post("/appeals/{appeal_id}/withdraw")
def withdraw(*, ctx: Ctx, appeal_id: int, reason: Short = "") -> Response:
    _require(ctx)
    try:
        with ctx.db.begin_nested():
            appeals.withdraw_appeal(ctx.db, actor=ctx.actor, appeal_id=appeal_id, reason=reason)
    except (InvalidInput, Conflict) as exc:
        return _detail(ctx, appeal_id, error=exc.detail, status_code=exc.status_code)
    return _to_appeal(appeal_id, "withdrawn")


@router.post("/denials/{denial_id}/corrected-claim")
def corrected_claim(*, ctx: Ctx, denial_id: int, reason: Short = "", return_to: Short = "") -> Response:
    """Send the denial's claim corrected; back to the page it came from (claim page or here)."""
    _require(ctx)
    try:
        with ctx.db.begin_nested():
            appeals.send_corrected_claim(ctx.db, actor=ctx.actor, denial_id=denial_id, reason=reason)
    except (InvalidInput, Conflict, NotFound) as exc:
        back = _back_to(return_to, {"error": exc.detail})
        return back or _overview(ctx, error=exc.detail, status_code=exc.status_code)
    return _back_to(return_to, {"done": "corrected"}) or RedirectResponse(
        "/appeals?done=corrected", status_code=303
    )


# --- templates -----------------------------------------------------------------------------


def _templates(ctx: PageContext, form: dict[str, str], **extra: Any) -> Response:
    latest = appeals.latest_templates(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id)
    name = form.get("name") or (latest[0].name if latest else "")
    versions = appeals.template_versions(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, name=name)
    if not form.get("body") and versions:
        form = {"name": name, "subject": versions[0].subject, "body": versions[0].body}
    can_edit = ctx.actor.scope(ctx.practice.id, Permission.MANAGE_PRACTICE) > 0
    return ctx.render(
        "appeals/templates.html",
        ACTIVE,
        latest=latest,
        versions=versions,
        form=form,
        placeholders=rules.PLACEHOLDERS,
        can_edit=can_edit,
        status_code=extra.pop("status_code", 200),
        **extra,
    )


@router.get("/appeal-templates")
def templates_page(ctx: Ctx, name: str = "", done: str = "") -> Response:
    _require(ctx)
    return _templates(ctx, {"name": name}, notice=_NOTICES.get(done, ""))


@router.post("/appeal-templates")
def save_template(
    *,
    ctx: Ctx,
    name: Short = "",
    subject: Short = "",
    body: Annotated[str, Form(max_length=50_000)] = "",
) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    form = {"name": name, "subject": subject, "body": body}
    try:
        with ctx.db.begin_nested():
            appeals.save_template(
                ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, name=name, subject=subject, body=body
            )
    except InvalidInput as exc:
        return _templates(ctx, form, error=exc.detail, status_code=exc.status_code)
    return RedirectResponse(f"/appeal-templates?{urlencode({'name': name.strip(), 'done': 'template'})}", 303)
