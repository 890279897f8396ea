"""The reports: ``/reports`` (an index of every report, with the trial balance) and the
aging, payer scorecard, revenue recognition and denial analysis reports.

Each report is a GET form of filters, its table with totals, its chart where it has one,
and downloads of the same table (``?format=csv|xlsx|pdf``). A bad filter or format answers
422 with a message naming it. The aging report's ticked claims can be followed up (their
next follow-up set to today: the top of the work queue) or downloaded alone, through one
POST form (so the session's CSRF token never lands in a URL).

Everything needs ``run_reports`` (billing and administrators); following claims up needs
``submit_claims`` too. The aging page lists clients, so each request audits their reads.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query
from fastapi.responses import RedirectResponse, Response

from revcycle.adapters.report_export import FORMATS
from revcycle.domain.permissions import Permission, Scope
from revcycle.errors import InvalidInput
from revcycle.services import queries
from revcycle.services.reports import aging as aging_report
from revcycle.services.reports import date_range, month_range
from revcycle.services.reports import denials as denial_report
from revcycle.services.reports import revenue as revenue_report
from revcycle.services.reports import scorecard as scorecard_report
from revcycle.web.exports import report_download
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

ACTIVE = "reports"
BUCKET_COLOURS = ("#16a34a", "#eab308", "#f97316", "#dc2626", "#991b1b")  # young to old
PAGE_CLAIMS = 300  # claims listed on the aging page; the downloads hold them all
Text = Annotated[str, Query(max_length=200)]


def _require(ctx: PageContext) -> None:
    ctx.actor.require(ctx.practice.id, Permission.RUN_REPORTS)


def _chart(data: Any) -> str:
    """Chart data as JSON for a ``<script type="application/json">`` block (``</`` escaped)."""
    return json.dumps(data).replace("</", "<\\/")


@router.get("/reports")
def reports_index(ctx: Ctx) -> Response:
    """Every report, and the trial balance (every ledger account's balance today)."""
    lines = queries.trial_balance(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id)
    return ctx.render(
        "pages/reports.html",
        ACTIVE,
        lines=lines,
        total_debit=sum(line.debit_cents for line in lines),
        total_credit=sum(line.credit_cents for line in lines),
    )


# --- aging ---------------------------------------------------------------------------------------


def _aging(
    ctx: PageContext, filters: aging_report.AgingFilters, limit: int | None
) -> aging_report.AgingReport:
    report = aging_report.aging_report(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, today=ctx.today, filters=filters, limit=limit
    )
    ctx.audit_clients("aging_report", report.client_ids)
    return report


def _aging_query(filters: aging_report.AgingFilters) -> dict[str, str]:
    return {
        "basis": filters.basis,
        "buckets": aging_report.buckets_text(filters.buckets),
        "group_by": filters.group_by,
    }


@router.get("/reports/aging")
def aging_page(
    *,
    ctx: Ctx,
    basis: Text = "",
    buckets: Text = "",
    group_by: Text = "",
    format: Text = "",
    done: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    _require(ctx)
    filters = aging_report.aging_filters(basis=basis, buckets=buckets, group_by=group_by)
    if format:
        _check_format(format)
        return report_download(aging_report.aging_table(_aging(ctx, filters, None)), format)
    report = _aging(ctx, filters, PAGE_CLAIMS)
    query = _aging_query(filters)
    return ctx.render(
        "reports/aging.html",
        ACTIVE,
        report=report,
        query=query,
        query_string=urlencode(query),
        bases=aging_report.BASES,
        groups=aging_report.GROUPS,
        notice=f"{done} claim(s) set to follow up today: they are at the top of the work queue."
        if done
        else "",
        can_follow_up=ctx.actor.scope(ctx.practice.id, Permission.SUBMIT_CLAIMS) != Scope.NONE,
        chart=_chart(
            {
                "labels": report.bucket_labels,
                "datasets": [
                    {
                        "label": "A/R ($)",
                        "data": [c / 100 for c in report.totals.by_bucket],
                        "backgroundColor": [BUCKET_COLOURS[min(i, 4)] for i in range(len(report.buckets))],
                    }
                ],
            }
        ),
    )


@router.post("/reports/aging/selected")
def aging_selected(
    *,
    ctx: Ctx,
    action: Annotated[str, Form(max_length=20)],
    claim_ids: Annotated[list[int] | None, Form()] = None,
    basis: Annotated[str, Form(max_length=20)] = "",
    buckets: Annotated[str, Form(max_length=200)] = "",
    group_by: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The ticked claims: ``action`` follow_up (then back to the report) or csv | xlsx | pdf."""
    _require(ctx)
    chosen = list(claim_ids or [])
    if not chosen:
        raise InvalidInput("claim_ids: tick at least one claim")
    filters = aging_report.aging_filters(basis=basis, buckets=buckets, group_by=group_by, claim_ids=chosen)
    if action == "follow_up":
        moved = aging_report.follow_up_claims(
            ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, claim_ids=chosen, today=ctx.today
        )
        query = {**_aging_query(filters), "done": str(moved)}
        return RedirectResponse(f"/reports/aging?{urlencode(query)}", status_code=303)
    _check_format(action, field="action")
    return report_download(aging_report.aging_table(_aging(ctx, filters, None)), action)


def _check_format(fmt: str, field: str = "format") -> None:
    if fmt not in FORMATS:
        raise InvalidInput(f"{field}: {fmt!r} is not one of {', '.join(FORMATS)}")


# --- payer scorecard ------------------------------------------------------------------------------


@router.get("/reports/payer-scorecard")
def scorecard_page(
    *,
    ctx: Ctx,
    from_: Annotated[str, Query(alias="from", max_length=20)] = "",
    to: Annotated[str, Query(max_length=20)] = "",
    format: Text = "",
) -> Response:
    _require(ctx)
    period = date_range(from_, to, today=ctx.today)
    card = scorecard_report.payer_scorecard(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, period=period, today=ctx.today
    )
    if format:
        return report_download(scorecard_report.scorecard_table(card), format)
    return ctx.render(
        "reports/scorecard.html",
        ACTIVE,
        card=card,
        period=period,
        query_string=urlencode({"from": period.from_on.isoformat(), "to": period.to_on.isoformat()}),
        chart=_chart(scorecard_report.radar(card)),
    )


# --- revenue recognition ---------------------------------------------------------------------------


@router.get("/reports/revenue-recognition")
def revenue_page(
    *,
    ctx: Ctx,
    from_: Annotated[str, Query(alias="from", max_length=20)] = "",
    to: Annotated[str, Query(max_length=20)] = "",
    format: Text = "",
) -> Response:
    _require(ctx)
    period = month_range(from_, to, today=ctx.today)
    report = revenue_report.revenue_recognition(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, period=period, today=ctx.today
    )
    if format:
        return report_download(revenue_report.revenue_table(report), format)
    months = report.months
    return ctx.render(
        "reports/revenue.html",
        ACTIVE,
        report=report,
        period=period,
        query_string=urlencode(
            {"from": period.from_on.strftime("%Y-%m"), "to": period.to_on.strftime("%Y-%m")}
        ),
        chart=_chart(
            {
                "labels": [x.label for x in months],
                "datasets": [
                    {
                        "label": "Billed (date of service)",
                        "data": [x.billed_by_service_cents / 100 for x in months],
                    },
                    {"label": "Paid", "data": [x.paid_cents / 100 for x in months]},
                ],
            }
        ),
    )


# --- denial analysis --------------------------------------------------------------------------------


@router.get("/reports/denials")
def denials_page(
    *,
    ctx: Ctx,
    from_: Annotated[str, Query(alias="from", max_length=20)] = "",
    to: Annotated[str, Query(max_length=20)] = "",
    format: Text = "",
) -> Response:
    _require(ctx)
    period = month_range(from_, to, today=ctx.today)
    report = denial_report.denial_analysis(
        ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, period=period, today=ctx.today
    )
    if format:
        return report_download(denial_report.denial_table(report), format)
    return ctx.render(
        "reports/denials.html",
        ACTIVE,
        report=report,
        period=period,
        query_string=urlencode(
            {"from": period.from_on.strftime("%Y-%m"), "to": period.to_on.strftime("%Y-%m")}
        ),
        chart=_chart(denial_report.chart_data(report)),
    )
