"""The import pages: upload a CSV (drag and drop, or a plain file input), preview the staged
batch, commit or discard it; and the review queue where the flags an import raised are settled.

Routes are thin over :mod:`revcycle.services.imports`. Everything here needs the
``enter_charges`` permission; another practice's batch answers "not found". Forms post with
the session's CSRF token, so the pages work without JavaScript; ``static/imports.js`` adds
the drop zone, the upload progress bar and in-place resolution of flags (htmx).

A file whose format is not recognised is kept (under ``var_dir/uploads``, named by a random
token) while the user maps its columns, so they need not choose it again; staging it with
the saved mapping removes it.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import func, select
from starlette.datastructures import UploadFile as StarletteUpload

from revcycle.adapters.csv import ImportFormat, read_csv
from revcycle.adapters.csv.formats import columns_of
from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.money import format_cents
from revcycle.services import queries
from revcycle.services.imports import batches, review
from revcycle.services.imports.flags import FLAG_KIND, RULES
from revcycle.services.imports.staging import OUTCOMES
from revcycle.services.queries import OPEN_WORK_STATUSES
from revcycle.services.scoping import DEFAULT_LIMIT, MAX_LIMIT
from revcycle.web.api.imports import MAX_UPLOAD_BYTES
from revcycle.web.pages.main import Ctx, Limit, Offset, PageContext

router = APIRouter(include_in_schema=False)

FORMAT_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "Detect from the header"),
    (ImportFormat.SIMPLEPRACTICE.value, "SimplePractice appointments"),
    (ImportFormat.ATTENDANCE.value, "SimplePractice attendance"),
    (ImportFormat.AR_AGING.value, "AR aging / claims portfolio"),
    (ImportFormat.CLIENT_DETAILS.value, "SimplePractice client details"),
    (ImportFormat.CLIENT_DEMOGRAPHICS.value, "SimplePractice client demographics"),
    (ImportFormat.FILED_CLAIMS.value, "SimplePractice filed claims"),
)
FORMAT_LABELS = {value: text for value, text in FORMAT_CHOICES if value}
MAPPING_PREFIX = "mapping:"
UNKNOWN_FORMAT = "import.unknown_format"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_PENDING_TTL_S = 24 * 3600
OUTCOME_LABELS = {
    "new": "New",
    "updated": "Updated",
    "unchanged": "Unchanged",
    "flagged": "Flagged",
    "rejected": "Rejected",
}
RESOLUTION_LABELS = {
    "map_to_payer": "Same as payer…",
    "keep_new_payer": "Keep as a new payer",
    "keep_new_clinician": "Keep as a new clinician",
    "mark_self_pay": "Mark self-pay",
    "coverage_added": "Coverage added",
    "add_member_id": "Add member id",
    "recheck_after_next_import": "Recheck after next import",
    "acknowledge": "Acknowledge",
    "keep_one": "Keep one",
    "keep_both": "Keep both (repeat, 76)",
    "accept_fee": "Accept the fee",
    "keep_session": "Keep the session",
}
# Resolutions that need a value typed or chosen next to their button.
VALUE_RESOLUTIONS = frozenset({"map_to_payer", "add_member_id"})
# How many of a group's flags it shows expanded; the rest are a link away.
GROUP_PREVIEW = 10


def _require(ctx: PageContext) -> None:
    ctx.actor.require(ctx.practice.id, Permission.ENTER_CHARGES)


def _xhr(request: Request) -> bool:
    return request.headers.get("x-requested-with", "").lower() == "xmlhttprequest"


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


# --- the upload page -----------------------------------------------------------------------------


def _saved_mappings(ctx: PageContext) -> list[batches.SavedMapping]:
    return batches.list_mappings(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id)


@dataclass
class MappingForm:
    """The guessed column mappings of an unknown file, for the user to confirm and name."""

    token: str
    filename: str
    header: list[str]
    guesses: list[batches.MappingGuess]
    chosen: str
    # target -> (field, label, required)
    fields: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)


def _mapping_form(token: str, filename: str, data: bytes, chosen: str = "") -> MappingForm:
    header = list(read_csv(data, filename=filename).header)
    guesses = batches.suggest_mapping(data, filename=filename)
    form = MappingForm(token, filename, header, guesses, chosen or guesses[0].target.value)
    for guess in guesses:
        form.fields[guess.target.value] = [(c.field, c.label, c.required) for c in columns_of(guess.target)]
    return form


def _upload_page(
    ctx: PageContext,
    *,
    error: str = "",
    problems: list[str] | None = None,
    mapping: MappingForm | None = None,
    chosen_format: str = "",
    mapping_name: str = "",
    status_code: int = 200,
) -> Response:
    recent = batches.list_batches(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=15)
    response = ctx.render(
        "imports/upload.html",
        "imports",
        formats=FORMAT_CHOICES,
        format_labels=FORMAT_LABELS,
        saved=_saved_mappings(ctx),
        recent=recent,
        error=error,
        problems=problems or [],
        mapping=mapping,
        chosen_format=chosen_format,
        mapping_name=mapping_name,
        max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
    )
    response.status_code = status_code
    return response


@router.get("/imports")
def upload_page(ctx: Ctx) -> Response:
    _require(ctx)
    return _upload_page(ctx)


def _format_choice(word: str) -> tuple[ImportFormat | None, str | None]:
    """The format select's value: '' (detect), a format, or ``mapping:NAME``."""
    word = word.strip()
    if word.startswith(MAPPING_PREFIX):
        name = word.removeprefix(MAPPING_PREFIX).strip()
        return None, name or None
    if not word:
        return None, None
    try:
        return ImportFormat(word), None
    except ValueError:
        raise InvalidInput(f"format: {word!r} is not a format this page knows") from None


def _read_upload(file: StarletteUpload | str | None) -> tuple[str, bytes]:
    if not isinstance(file, StarletteUpload) or not file.filename:
        raise InvalidInput("file: choose a CSV file to upload")
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"{file.filename}: is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    return file.filename, data


def _staged(request: Request, batch: m.ImportBatch) -> Response:
    location = f"/imports/{batch.id}"
    if _xhr(request):  # the progress-bar upload navigates itself
        return JSONResponse({"location": location, "batch_id": batch.id})
    return RedirectResponse(location, status_code=303)


@router.post("/imports")
def upload(
    ctx: Ctx,
    file: Annotated[UploadFile | str | None, File()] = None,
    format: Annotated[str, Form()] = "",
) -> Response:
    """Stage an upload and show its preview; a file that cannot be read is shown its reason."""
    _require(ctx)
    filename, data = "", b""
    try:
        filename, data = _read_upload(file)
        fmt, mapping_name = _format_choice(format)
        batch = batches.stage_import(
            ctx.db,
            actor=ctx.actor,
            practice_id=ctx.practice.id,
            filename=filename,
            data=data,
            format=fmt,
            mapping_name=mapping_name,
        )
    except InvalidInput as exc:
        form = None
        if data and any(p.code == UNKNOWN_FORMAT for p in exc.problems):
            token = _keep_pending(ctx, data)
            form = _mapping_form(token, filename, data)
        return _upload_page(
            ctx, error=exc.detail, mapping=form, chosen_format=format, status_code=exc.status_code
        )
    return _staged(ctx.request, batch)


# --- files waiting for a column mapping ---------------------------------------------------------


def _pending_dir(ctx: PageContext) -> Path:
    folder = Path(ctx.request.app.state.settings.var_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _pending_path(ctx: PageContext, token: str) -> Path:
    if not _TOKEN.match(token):
        raise InvalidInput("the uploaded file has expired; upload it again")
    return _pending_dir(ctx) / f"{ctx.practice.id}-{ctx.actor.user_id}-{token}.csv"


def _keep_pending(ctx: PageContext, data: bytes) -> str:
    folder = _pending_dir(ctx)
    cutoff = time.time() - _PENDING_TTL_S
    for old in folder.glob("*.csv"):  # uploads nobody mapped within a day
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    _pending_path(ctx, token).write_bytes(data)
    return token


def _load_pending(ctx: PageContext, token: str) -> bytes:
    path = _pending_path(ctx, token)
    if not path.is_file():
        raise InvalidInput("the uploaded file has expired; upload it again")
    return path.read_bytes()


@router.post("/imports/mapping")
async def save_mapping_and_stage(ctx: Ctx) -> Response:
    """Save the confirmed column mapping by name, then stage the waiting file with it."""
    _require(ctx)
    form = await ctx.request.form()
    token = str(form.get("token", ""))
    filename = str(form.get("filename", "upload.csv"))
    target_word = str(form.get("target", ""))
    name = str(form.get("name", "")).strip()
    data = b""
    try:
        data = _load_pending(ctx, token)
        try:
            target = ImportFormat(target_word)
        except ValueError:
            raise InvalidInput(f"target: {target_word!r} is not a format a mapping can read") from None
        prefix = f"col:{target.value}:"
        columns = {
            str(key).removeprefix(prefix): str(value)
            for key, value in form.multi_items()
            if str(key).startswith(prefix) and str(value)
        }
        batches.save_mapping(
            ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, name=name, target=target, columns=columns
        )
        batch = batches.stage_import(
            ctx.db,
            actor=ctx.actor,
            practice_id=ctx.practice.id,
            filename=filename,
            data=data,
            mapping_name=name,
        )
    except InvalidInput as exc:
        mapping = _mapping_form(token, filename, data, target_word) if data else None
        return _upload_page(
            ctx, error=exc.detail, mapping=mapping, mapping_name=name, status_code=exc.status_code
        )
    _pending_path(ctx, token).unlink(missing_ok=True)
    return _staged(ctx.request, batch)


# --- the preview ----------------------------------------------------------------------------------


@dataclass
class RowView:
    """One staged row as the preview shows it."""

    number: int
    outcome: str
    change: str
    what: list[str]
    diff: list[tuple[str, str, str]]
    reasons: list[str]
    session_id: int | None


def _shown(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return " ".join(str(v) for v in value if v) or "—"
    if key.endswith("_cents") and isinstance(value, int):
        return format_cents(value)
    if isinstance(value, str) and key.endswith("_at"):
        try:
            return f"{datetime.fromisoformat(value):%m/%d/%Y %H:%M}"
        except ValueError:
            return value
    return str(value)


# What a row is about, in the order shown: the first of each group found in the row.
_WHAT_KEYS = (
    ("client", "patient"),
    ("clinician",),
    ("service_at", "submitted_on"),
    ("code",),
    ("claim", "reference"),
    ("payer",),
    ("balance_cents",),
)


def _row_view(row: m.ImportRowOutcome) -> RowView:
    detail = row.detail or {}
    source: dict[str, Any] = {**detail, **(detail.get("row") or {})}
    what = []
    for keys in _WHAT_KEYS:
        for key in keys:
            if source.get(key) not in (None, ""):
                what.append(_shown(key, source[key]))
                break
    diff = [
        (key.replace("_", " "), _shown(key, pair[0]), _shown(key, pair[1]))
        for key, pair in sorted((detail.get("diff") or {}).items())
        if isinstance(pair, list) and len(pair) == 2
    ]
    reasons = [f"{p.get('where', '')}: {p.get('message', '')}" for p in detail.get("problems", [])]
    if not reasons and detail.get("reason"):
        reasons.append(str(detail["reason"]))
    for flag in detail.get("flags", []):
        title = RULES[flag["rule"]].title if flag.get("rule") in RULES else str(flag.get("rule", ""))
        reasons.append(f"{flag.get('title') or title}: {flag.get('detail', '')}")
    return RowView(
        number=row.row_number,
        outcome=row.outcome,
        change=str(detail.get("change", "")),
        what=what,
        diff=diff,
        reasons=reasons,
        session_id=row.session_id,
    )


def commit_summary(batch: m.ImportBatch, written: dict[str, int]) -> str:
    """``Committed: N sessions created, M updated, K flags raised`` (or what the format wrote)."""
    flags = written.get("flags", 0)
    if batch.format == ImportFormat.SIMPLEPRACTICE.value:
        created = written.get("sessions", 0)
        updated = written.get("charges_updated", 0)
        return f"Committed: {created} sessions created, {updated} updated, {flags} flags raised"
    others = [f"{n} {key.replace('_', ' ')}" for key, n in written.items() if n and key != "flags"]
    return "Committed: " + ", ".join([*others, f"{flags} flags raised"])


def written_lines(written: dict[str, int]) -> list[tuple[str, str]]:
    """(what, how many) for each kind of row a commit wrote; amounts in cents as money."""
    return [
        (key.removesuffix("_cents").replace("_", " "), format_cents(n) if key.endswith("_cents") else str(n))
        for key, n in written.items()
    ]


def _batch_client_ids(ctx: PageContext, rows: list[m.ImportRowOutcome]) -> set[int]:
    session_ids = {row.session_id for row in rows if row.session_id is not None}
    if not session_ids:
        return set()
    return set(ctx.db.scalars(select(m.ServiceSession.client_id).where(m.ServiceSession.id.in_(session_ids))))


@router.get("/imports/{batch_id}")
def preview_page(
    *,
    ctx: Ctx,
    batch_id: int,
    outcome: str = "",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Response:
    _require(ctx)
    batch = batches.get_batch(ctx.db, actor=ctx.actor, batch_id=batch_id)
    if batch.practice_id != ctx.practice.id:
        raise NotFound(f"import {batch_id} not found")
    if outcome and outcome not in OUTCOMES:
        raise InvalidInput(f"outcome: {outcome!r} is not one of {', '.join(OUTCOMES)}")
    page = batches.batch_rows(
        ctx.db, actor=ctx.actor, batch_id=batch.id, outcome=outcome or None, limit=limit, offset=offset
    )
    ctx.audit_clients("import_row", _batch_client_ids(ctx, page.items))
    counts = batch.counts or {}
    written = batches.written_counts(batch)
    return ctx.render(
        "imports/preview.html",
        "imports",
        batch=batch,
        format_label=FORMAT_LABELS.get(batch.format, batch.format),
        counts={o: int(counts.get(o, 0)) for o in OUTCOMES},
        total_rows=int(counts.get("rows", 0)),
        missing_sessions=int(counts.get("missing_sessions", 0)),
        subject_flags=_subject_flags(counts),
        outcome_labels=OUTCOME_LABELS,
        outcome=outcome,
        rows=[_row_view(row) for row in page.items],
        page=page,
        limit=limit,
        offset=offset,
        query={"outcome": outcome} if outcome else {},
        summary=commit_summary(batch, written) if batch.status == "committed" else "",
        written=written_lines(written),
    )


@router.post("/imports/{batch_id}/commit")
def commit(ctx: Ctx, batch_id: int) -> Response:
    _require(ctx)
    batches.commit_import(ctx.db, actor=ctx.actor, batch_id=batch_id)
    return RedirectResponse(f"/imports/{batch_id}", status_code=303)


@router.post("/imports/{batch_id}/discard")
def discard(ctx: Ctx, batch_id: int) -> Response:
    _require(ctx)
    batches.discard_import(ctx.db, actor=ctx.actor, batch_id=batch_id)
    return RedirectResponse(f"/imports/{batch_id}", status_code=303)


# --- the review queue -------------------------------------------------------------------------------


def _subject_flags(counts: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(rule, title, how many) of the flags the file raises about clinicians, clients and
    payers as a whole: counted once each, not against every row that names them."""
    about = counts.get("new_flags_about") or {}
    return [(rule, RULES[rule].title, int(n)) for rule, n in sorted(about.items()) if n and rule in RULES]


def _rule_counts(ctx: PageContext) -> list[tuple[str, str, int]]:
    """(rule, title, open flags) for the filter chips, rules in their catalogue order."""
    counted: dict[str, int] = dict(
        ctx.db.execute(
            select(m.WorkItem.rule, func.count())
            .where(
                m.WorkItem.practice_id == ctx.practice.id,
                m.WorkItem.kind == FLAG_KIND,
                m.WorkItem.status.in_(OPEN_WORK_STATUSES),
            )
            .group_by(m.WorkItem.rule)
        ).all()
    )
    return [(rule, spec.title, counted[rule]) for rule, spec in RULES.items() if counted.get(rule)]


def _payer_choices(ctx: PageContext, views: list[review.FlagView]) -> list[tuple[int, str]]:
    if not any("map_to_payer" in view.resolutions for view in views):
        return []
    rows = queries.list_payers(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=MAX_LIMIT)
    return [(row.payer.id, row.payer.name) for row in rows.items]


def _resolved_message(ctx: PageContext, resolved: int | None) -> str:
    if resolved is None:
        return ""
    item = ctx.db.get(m.WorkItem, resolved)
    if item is None or item.practice_id != ctx.practice.id or item.kind != FLAG_KIND or not item.resolution:
        return ""
    how = item.resolution.split(":", 1)[0]
    return f"Done: {item.title} — {RESOLUTION_LABELS.get(how, how).rstrip('…')}."


@dataclass(frozen=True)
class BulkDone:
    """What a "resolve all in this group" did, for the message after it."""

    count: int
    title: str
    resolution: str

    @property
    def message(self) -> str:
        flags = "flag" if self.count == 1 else "flags"
        how = RESOLUTION_LABELS.get(self.resolution, self.resolution)
        return f"Done: {self.count} {flags} “{self.title}” — {how}."


@dataclass(frozen=True)
class GroupView:
    """A group of the review queue with the flags it shows when expanded."""

    group: review.FlagGroup
    flags: list[review.FlagView]

    @property
    def query(self) -> dict[str, str]:
        return {"rule": self.group.rule, "title": self.group.title}


def _group(ctx: PageContext, rule: str, title: str) -> review.FlagGroup | None:
    groups = review.review_groups(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, rule=rule, limit=MAX_LIMIT
    )
    return next((g for g in groups.items if g.title == title), None)


def _review_context(
    ctx: PageContext,
    rule: str,
    limit: int,
    offset: int,
    *,
    resolved: int | None,
    title: str = "",
    bulk: BulkDone | None = None,
    error: str = "",
) -> dict[str, Any]:
    """The queue in groups; with a ``title`` (one group), that group's flags one by one."""
    if title:
        page: Any = review.review_queue(
            ctx.db,
            actor=ctx.actor,
            practice_id=ctx.practice.id,
            rule=rule or None,
            title=title,
            limit=limit,
            offset=offset,
        )
        views: list[review.FlagView] = page.items
        groups: list[GroupView] = []
        group = _group(ctx, rule, title) if rule else None
    else:
        page = review.review_groups(
            ctx.db,
            actor=ctx.actor,
            practice_id=ctx.practice.id,
            rule=rule or None,
            limit=limit,
            offset=offset,
        )
        members = review.group_flags(ctx.db, actor=ctx.actor, groups=page.items, per_group=GROUP_PREVIEW)
        groups = [GroupView(g, members.get((g.practice_id, g.rule, g.title), [])) for g in page.items]
        views = [view for g in groups for view in g.flags]
        group = None
    if offset and not page.items and page.total:  # the last one on a later page was resolved
        return _review_context(
            ctx,
            rule,
            limit,
            (page.total - 1) // limit * limit,
            resolved=resolved,
            title=title,
            bulk=bulk,
            error=error,
        )
    ctx.audit_clients("work_item", {v.item.client_id for v in views if v.item.client_id})
    query = {key: value for key, value in (("rule", rule), ("title", title)) if value}
    return {
        "page": page,
        "views": views,
        "groups": groups,
        "group": group,
        "grouped": not title,
        "rule": rule,
        "title": title,
        "rules": _rule_counts(ctx),
        "payers": _payer_choices(ctx, views),
        "labels": RESOLUTION_LABELS,
        "value_resolutions": VALUE_RESOLUTIONS,
        "message": bulk.message if bulk else _resolved_message(ctx, resolved),
        "error": error,
        "limit": limit,
        "offset": offset,
        "query": query,
    }


@router.get("/review")
def review_page(
    *,
    ctx: Ctx,
    rule: str = "",
    title: Annotated[str, Query(max_length=200)] = "",
    resolved: int | None = None,
    done: Annotated[int | None, Query(ge=0)] = None,
    how: Annotated[str, Query(max_length=60)] = "",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Response:
    """The review queue: groups of open flags (``rule`` narrows them to one rule's), or one
    group's flags (``rule`` and ``title``); ``done``/``how`` report a group just resolved."""
    _require(ctx)
    bulk = BulkDone(done, title, how) if done is not None and how else None
    context = _review_context(
        ctx, rule, limit, offset, resolved=resolved, title="" if bulk else title, bulk=bulk
    )
    return ctx.render("imports/review.html", "imports", **context)


@router.get("/review/summary")
def review_summary(ctx: Ctx) -> Response:
    """The dashboard's "Flagged items" tile (loaded by htmx)."""
    if ctx.actor.scope(ctx.practice.id, Permission.ENTER_CHARGES) == 0:
        return Response(status_code=204)
    page = review.review_queue(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=1)
    return ctx.render("imports/_flag_tile.html", count=page.total)


@router.post("/review/{work_item_id}/resolve")
def resolve(
    *,
    ctx: Ctx,
    work_item_id: int,
    resolution: Annotated[str, Form(max_length=60)],
    value: Annotated[str, Form(max_length=100)] = "",
    rule: Annotated[str, Form(max_length=60)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    offset: Annotated[int, Form(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response:
    """Settle one flag; htmx swaps the refreshed list in, a plain form is redirected back."""
    _require(ctx)
    try:
        with ctx.db.begin_nested():
            review.resolve_flag(
                ctx.db, actor=ctx.actor, work_item_id=work_item_id, resolution=resolution, value=value
            )
    except (InvalidInput, Conflict) as exc:
        context = _review_context(ctx, rule, limit, offset, resolved=None, title=title, error=exc.detail)
        return _refused(ctx, context, exc)
    if _htmx(ctx.request):
        context = _review_context(ctx, rule, limit, offset, resolved=work_item_id, title=title)
        return ctx.render("imports/_review_list.html", **context)
    back = {"resolved": work_item_id, "rule": rule, "title": title, "offset": offset}
    return RedirectResponse("/review?" + urlencode({k: v for k, v in back.items() if v}), status_code=303)


def _refused(ctx: PageContext, context: dict[str, Any], exc: InvalidInput | Conflict) -> Response:
    if _htmx(ctx.request):
        return ctx.render("imports/_review_list.html", **context)
    response = ctx.render("imports/review.html", "imports", **context)
    response.status_code = exc.status_code
    return response


@router.post("/review/resolve-group")
def resolve_group(
    *,
    ctx: Ctx,
    rule: Annotated[str, Form(max_length=60)],
    title: Annotated[str, Form(max_length=200)],
    resolution: Annotated[str, Form(max_length=60)],
    back_rule: Annotated[str, Form(max_length=60)] = "",
    offset: Annotated[int, Form(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response:
    """Settle every flag of one group at once (each resolved and audited on its own)."""
    _require(ctx)
    try:
        settled = review.resolve_group(
            ctx.db,
            actor=ctx.actor,
            practice_id=ctx.practice.id,
            rule=rule,
            title=title,
            resolution=resolution,
        )
    except (InvalidInput, Conflict) as exc:
        context = _review_context(ctx, back_rule, limit, offset, resolved=None, error=exc.detail)
        return _refused(ctx, context, exc)
    bulk = BulkDone(len(settled), title, resolution)
    if _htmx(ctx.request):
        context = _review_context(ctx, back_rule, limit, offset, resolved=None, bulk=bulk)
        return ctx.render("imports/_review_list.html", **context)
    back = {"rule": back_rule, "title": title, "done": bulk.count, "how": resolution, "offset": offset}
    return RedirectResponse("/review?" + urlencode({k: v for k, v in back.items() if v}), status_code=303)
