"""Operations reports as pages: ``/reports/weekly-reconciliation``,
``/reports/provider-productivity``, ``/reports/compensation``, ``/reports/payer-mix``,
``/reports/procedure-revenue`` and ``/reports/agent-performance``.

Each page is a GET form of filters, its chart, its table with totals and the formulas under
it, and downloads of the same table (``?format=csv|xlsx|pdf``). A bad filter shows the form
again with a message (422), never a 500. Everything needs ``run_reports`` (billing and
administrators); the compensation guide's parameters are changed on the calculator page by
administrators only (``manage_practice``), checked field by field and audited.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from revcycle.adapters.report_export import ReportTable
from revcycle.domain.compensation import FORMULA, MONEY_FIELDS, CompensationParameters
from revcycle.domain.permissions import Permission
from revcycle.domain.pipeline import STAGE_COLOURS, STAGE_LABELS
from revcycle.errors import InvalidInput
from revcycle.money import format_cents, format_plain
from revcycle.services.reports_ops import agents, mix, productivity, weekly
from revcycle.services.reports_ops.basis import require_reports
from revcycle.web.exports import report_download
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

ACTIVE = "reports"
PALETTE = (
    "#2563eb",
    "#16a34a",
    "#eab308",
    "#9333ea",
    "#dc2626",
    "#ea580c",
    "#0f766e",
    "#64748b",
    "#84cc16",
    "#db2777",
)


# --- filters -----------------------------------------------------------------------------------


def parse_day(value: str, field: str) -> date | None:
    """``YYYY-MM-DD`` or empty; InvalidInput naming the field otherwise."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(f"{field}: expected a date YYYY-MM-DD, got {value.strip()[:20]!r}") from exc


def parse_month(value: str, field: str) -> date | None:
    """``YYYY-MM`` (the month picker's value) or empty, as the month's first day."""
    if not value.strip():
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m").date()  # noqa: DTZ007 (a calendar month)
    except ValueError as exc:
        raise InvalidInput(f"{field}: expected a month YYYY-MM, got {value.strip()[:20]!r}") from exc


def parse_id(value: str, field: str) -> int | None:
    if not value.strip():
        return None
    if not value.strip().isdigit():
        raise InvalidInput(f"{field}: expected a number, got {value.strip()[:20]!r}")
    return int(value.strip())


def year_start(today: date) -> date:
    return today.replace(month=1, day=1)


def months_back(today: date, count: int) -> date:
    """The first day of the month ``count`` months before ``today``'s."""
    index = today.year * 12 + today.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


# --- rendering helpers -------------------------------------------------------------------------


def shown(value: Any, kind: str) -> str:
    """A table cell as people read it (the PDF's own rules)."""
    if value is None:
        return ""
    if kind == "cents":
        return format_cents(int(value))
    if kind == "share":
        return f"{float(value) * 100:.1f}%"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "days":
        return f"{float(value):,.1f}" if isinstance(value, float) else f"{value:,}"
    if isinstance(value, date):
        return f"{value:%b} {value.day}, {value.year}"
    return str(value)


def chart_json(
    kind: str, title: str, labels: list[str], values: list[Any], colours: list[str] | None = None
) -> Markup:
    """A chart's data for the page's JSON block (read by static/reports_ops.js)."""
    colours = colours or [PALETTE[i % len(PALETTE)] for i in range(len(labels))]
    payload = {"type": kind, "title": title, "labels": labels, "values": values, "colours": colours}
    text = json.dumps(payload).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 (JSON escaped above for a script block)


def _dollars(cents: int) -> float:
    return float(format_plain(cents))


def _input(name: str, label: str, kind: str, options: list[tuple[int, str]] | None = None) -> dict[str, Any]:
    """One filter of a report's GET form (``kind``: date, month or select)."""
    return {"name": name, "label": label, "kind": kind, "options": options or []}


def _respond(
    ctx: PageContext,
    template: str,
    fmt: str,
    build: Callable[[], tuple[ReportTable, dict[str, Any]]],
    form: Mapping[str, Any],
    *,
    heading: str,
    subtitle: str,
    inputs: list[dict[str, Any]],
) -> Response:
    """The report as a download (``fmt``) or as its page; a bad filter shows the form again."""
    require_reports(ctx.actor, ctx.practice.id)
    page: dict[str, Any] = {
        "heading": heading,
        "subtitle": subtitle,
        "inputs": inputs,
        "form": form,
        "shown": shown,
    }
    try:
        table, context = build()
    except InvalidInput as exc:
        return ctx.render(template, ACTIVE, status_code=exc.status_code, error=exc.detail, table=None, **page)
    if fmt:
        return report_download(table, fmt)
    shown_form = context.get("form", form)  # the filters in effect, defaults filled in
    query = {key: value for key, value in shown_form.items() if value not in (None, "")}
    downloads = {f: "?" + urlencode({**query, "format": f}) for f in ("csv", "xlsx", "pdf")}
    return ctx.render(template, ACTIVE, table=table, downloads=downloads, **{**page, **context})


# --- the reports ---------------------------------------------------------------------------------


@router.get("/reports/weekly-reconciliation")
def weekly_page(ctx: Ctx, week: str = "", format: str = "") -> Response:
    form = {"week": week}

    def build() -> tuple[ReportTable, dict[str, Any]]:
        day = parse_day(week, "week") or ctx.today
        report = weekly.weekly_reconciliation(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, day=day)
        ctx.audit_clients("weekly_reconciliation", {row.session.client_id for row in report.rows})
        stages = [(stage, n) for stage, n in report.stage_counts.items() if n]
        chart = chart_json(
            "bar",
            "Sessions by stage",
            [STAGE_LABELS[s] for s, _ in stages],
            [n for _, n in stages],
            [STAGE_COLOURS[s] for s, _ in stages],
        )
        previous, following = report.monday.toordinal() - 7, report.monday.toordinal() + 7
        return weekly.weekly_table(report, ctx.today), {
            "form": {"week": day.isoformat()},
            "report": report,
            "stages": stages,
            "chart": chart,
            "previous_week": date.fromordinal(previous).isoformat(),
            "next_week": date.fromordinal(following).isoformat(),
        }

    return _respond(
        ctx,
        "reports_ops/weekly.html",
        format,
        build,
        form,
        heading="Weekly reconciliation",
        subtitle="Every session of the week (Monday to Sunday), where it stands, and what needs action.",
        inputs=[_input("week", "Any day of the week", "date")],
    )


@router.get("/reports/provider-productivity")
def productivity_page(
    ctx: Ctx,
    since: str = "",
    until: str = "",
    provider_id: str = "",
    format: str = "",
) -> Response:
    form = {"since": since, "until": until, "provider_id": provider_id}

    def build() -> tuple[ReportTable, dict[str, Any]]:
        first = parse_month(since, "since") or months_back(ctx.today, 2)
        last = parse_month(until, "until") or ctx.today.replace(day=1)
        report = productivity.productivity(
            ctx.db,
            actor=ctx.actor,
            practice_id=ctx.practice.id,
            first_month=first,
            last_month=last,
            today=ctx.today,
            provider_id=parse_id(provider_id, "provider_id"),
        )
        by_provider: dict[str, int] = {}
        for row in report.rows:
            by_provider[row.provider_name] = by_provider.get(row.provider_name, 0) + row.sessions
        chart = chart_json("bar", "Sessions by clinician", list(by_provider), list(by_provider.values()))
        shown_form = {**form, "since": f"{first:%Y-%m}", "until": f"{last:%Y-%m}"}
        return productivity.productivity_table(report, ctx.today), {"chart": chart, "form": shown_form}

    return _respond(
        ctx,
        "reports_ops/table_report.html",
        format,
        build,
        form,
        heading="Provider productivity",
        subtitle="Each clinician's month: sessions, hours, revenue, billing channel, acceptance, retention "
        "and documentation speed.",
        inputs=[
            _input("since", "From month", "month"),
            _input("until", "To month", "month"),
            _input("provider_id", "Clinician", "select", _providers(ctx)),
        ],
    )


def _providers(ctx: PageContext) -> list[tuple[int, str]]:
    names = productivity.provider_names(ctx.db, ctx.practice.id)
    return sorted(names.items(), key=lambda item: item[1].lower())


def _range_form(first: date, last: date) -> dict[str, str]:
    return {"since": first.isoformat(), "until": last.isoformat()}


def _range_inputs() -> list[dict[str, Any]]:
    return [_input("since", "Dates of service from", "date"), _input("until", "to", "date")]


@router.get("/reports/payer-mix")
def payer_mix_page(ctx: Ctx, since: str = "", until: str = "", format: str = "") -> Response:
    form = {"since": since, "until": until}

    def build() -> tuple[ReportTable, dict[str, Any]]:
        first = parse_day(since, "since") or year_start(ctx.today)
        last = parse_day(until, "until") or ctx.today
        report = mix.payer_mix(
            ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, since=first, until=last, today=ctx.today
        )
        chart = chart_json(
            "doughnut",
            "Charges by payer",
            [row.payer_name for row in report.rows],
            [_dollars(row.charges_cents) for row in report.rows],
        )
        return mix.payer_mix_table(report, ctx.today), {"chart": chart, "form": _range_form(first, last)}

    return _respond(
        ctx,
        "reports_ops/table_report.html",
        format,
        build,
        form,
        heading="Payer mix",
        subtitle="Each payer's share of sessions, charges and collections for the dates of service chosen.",
        inputs=_range_inputs(),
    )


@router.get("/reports/procedure-revenue")
def procedure_revenue_page(ctx: Ctx, since: str = "", until: str = "", format: str = "") -> Response:
    form = {"since": since, "until": until}

    def build() -> tuple[ReportTable, dict[str, Any]]:
        first = parse_day(since, "since") or year_start(ctx.today)
        last = parse_day(until, "until") or ctx.today
        report = mix.procedure_revenue(
            ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, since=first, until=last, today=ctx.today
        )
        chart = chart_json(
            "bar",
            "Charges and paid by procedure code",
            [row.procedure_code for row in report.rows],
            [_dollars(row.charges_cents) for row in report.rows],
        )
        return mix.procedure_revenue_table(report, ctx.today), {
            "chart": chart,
            "form": _range_form(first, last),
        }

    return _respond(
        ctx,
        "reports_ops/table_report.html",
        format,
        build,
        form,
        heading="Revenue by procedure code",
        subtitle="Per CPT/HCPCS code: lines, charges, paid and the average paid per line.",
        inputs=_range_inputs(),
    )


@router.get("/reports/agent-performance")
def agent_performance_page(ctx: Ctx, format: str = "") -> Response:
    def build() -> tuple[ReportTable, dict[str, Any]]:
        report = agents.agent_performance(
            ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, today=ctx.today
        )
        chart = chart_json(
            "doughnut",
            "Portfolio by agent",
            [row.name for row in report.rows],
            [_dollars(row.portfolio_cents) for row in report.rows],
        )
        return agents.agent_performance_table(report, ctx.today), {"chart": chart}

    return _respond(
        ctx,
        "reports_ops/table_report.html",
        format,
        build,
        {},
        heading="Agent performance",
        subtitle="Each agent's portfolio of open claims, its average claim and their collection rate.",
        inputs=[],
    )


# --- the compensation calculator ----------------------------------------------------------------


def _parameter_form(parameters: CompensationParameters) -> dict[str, str]:
    """The guide's values as the form shows them (dollars for money)."""
    values = parameters.to_settings()
    return {key: format_plain(value) if key in MONEY_FIELDS else str(value) for key, value in values.items()}


def _compensation_context(
    ctx: PageContext, month: str, provider_id: str
) -> tuple[ReportTable, dict[str, Any]]:
    first = parse_month(month, "month") or ctx.today.replace(day=1)
    report = productivity.compensation(
        ctx.db,
        actor=ctx.actor,
        practice_id=ctx.practice.id,
        month=first,
        today=ctx.today,
        provider_id=parse_id(provider_id, "provider_id"),
    )
    can_edit = ctx.actor.scope(ctx.practice.id, Permission.MANAGE_PRACTICE) > 0
    return productivity.compensation_table(report, ctx.today), {
        "report": report,
        "formula": FORMULA,
        "can_edit": can_edit,
        "parameters": _parameter_form(report.parameters),
        "providers": _providers(ctx),
    }


@router.get("/reports/compensation")
def compensation_page(
    ctx: Ctx,
    month: str = "",
    provider_id: str = "",
    saved: str = "",
    format: str = "",
) -> Response:
    form = {"month": month, "provider_id": provider_id}

    def build() -> tuple[ReportTable, dict[str, Any]]:
        table, context = _compensation_context(ctx, month, provider_id)
        shown_form = {**form, "month": f"{context['report'].month:%Y-%m}"}
        return table, {
            **context,
            "form": shown_form,
            "notice": "The compensation guide was saved." if saved else "",
        }

    return _respond(
        ctx,
        "reports_ops/compensation.html",
        format,
        build,
        form,
        heading="Compensation calculator",
        subtitle="Each clinician's month under the practice's compensation guide, part by part.",
        inputs=[
            _input("month", "Month", "month"),
            _input("provider_id", "Clinician", "select", _providers(ctx)),
        ],
    )


@router.post("/reports/compensation/settings")
async def save_compensation(ctx: Ctx) -> Response:
    """Save the guide's parameters (administrators): back to the calculator, or the form again
    with every wrong field named (422) and what was typed kept."""
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    submitted = await ctx.request.form()
    raw = {key: str(submitted.get(key, "")) for key in CompensationParameters.__dataclass_fields__}
    reason = str(submitted.get("reason", ""))[:500]
    try:
        with ctx.db.begin_nested():
            productivity.save_compensation_parameters(
                ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, raw=raw, reason=reason
            )
    except InvalidInput as exc:
        table, context = _compensation_context(ctx, "", "")
        problems = {p.where: p.message for p in exc.problems}
        context.update(parameters=raw, problems=problems, settings_error=exc.detail)
        return ctx.render(
            "reports_ops/compensation.html",
            ACTIVE,
            status_code=exc.status_code,
            table=table,
            form={},
            shown=shown,
            downloads={},
            heading="Compensation calculator",
            subtitle="The guide was not saved: correct the fields named below.",
            inputs=[],
            **context,
        )
    month = str(submitted.get("month", ""))
    shown_month = parse_month(month, "month") if re.fullmatch(r"\d{4}-\d{2}", month) else None
    query = {"month": f"{shown_month:%Y-%m}"} if shown_month else {}
    return RedirectResponse(f"/reports/compensation?{urlencode({**query, 'saved': 1})}", status_code=303)
