"""Denial analysis: why payers refuse, whose claims and which payers, month by month, and
how often an appeal turns a denial around.

The denials counted are the Denial rows posted in the range (the day the remittance that
carried them was posted, UTC). Each reason is a group code + CARC with our explanation of
the code (``domain.adjustment_reasons``) and its category; a claim with several denied lines
counts once in "claims" and every line in "denials". Amounts are the denied amounts the
payer stated. By clinician means the claim's rendering provider.

The overturn rate comes from :func:`revcycle.services.appeals.overturn_summary`: appeals
decided since the range's first day, won + partially won over decided.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.adapters.report_export import Column, ReportTable, table_of
from revcycle.db import models as m
from revcycle.domain.adjustment_reasons import DenialCategory, reason_info
from revcycle.domain.appeals import OverturnTally
from revcycle.domain.permissions import Permission
from revcycle.services import appeals
from revcycle.services.actor import Actor
from revcycle.services.reports import DateRange, day_starts, month_start, months_of, share
from revcycle.services.scoping import practice_scopes

__all__ = ["DenialAnalysis", "DenialCount", "DenialReason", "denial_analysis", "denial_table"]

TOP_REASONS = 25


@dataclass(frozen=True)
class DenialCount:
    key: str
    label: str
    denials: int
    claims: int
    amount_cents: int


@dataclass(frozen=True)
class DenialReason:
    group_code: str
    carc: str
    explanation: str
    category: str
    denials: int
    claims: int
    amount_cents: int

    @property
    def code(self) -> str:
        return f"{self.group_code}-{self.carc}"


@dataclass(frozen=True)
class DenialAnalysis:
    period: DateRange
    today: date
    reasons: tuple[DenialReason, ...]
    by_clinician: tuple[DenialCount, ...]
    by_payer: tuple[DenialCount, ...]
    by_month: tuple[DenialCount, ...]
    total: DenialCount
    overturn: OverturnTally

    @property
    def overturn_rate(self) -> float | None:
        return share(self.overturn.won + self.overturn.partially_won, self.overturn.decided)

    notes: tuple[str, ...] = (
        "Denials posted in the range (by the day posted). Claims: distinct claims with a denial.",
        "Overturn rate: appeals decided since the range's start, won or partially won / decided.",
    )


def _category_label(value: str) -> str:
    try:
        return DenialCategory(value).label
    except ValueError:
        return value


def denial_analysis(
    db: Session, *, actor: Actor, practice_id: int, period: DateRange, today: date
) -> DenialAnalysis:
    """Denials in ``period`` by reason, clinician, payer and month, and the overturn rate."""
    practice_scopes(actor, Permission.RUN_REPORTS, practice_id)
    practice = db.get(m.Practice, practice_id)
    assert practice is not None
    d = m.Denial
    base = (
        select()
        .select_from(d)
        .join(m.Claim, m.Claim.id == d.claim_id)
        .where(
            d.practice_id == practice_id,
            d.created_at >= day_starts(period.from_on, practice.timezone),
            d.created_at < day_starts(period.to_on + timedelta(days=1), practice.timezone),
        )
    )
    measures = (func.count(), func.count(func.distinct(d.claim_id)), func.sum(d.amount_cents))
    reasons = [
        DenialReason(
            group, carc, reason_info(carc).explanation, _category_label(category), n, claims, int(cents)
        )
        for group, carc, category, n, claims, cents in db.execute(
            base.with_only_columns(d.group_code, d.carc, d.category, *measures)
            .group_by(d.group_code, d.carc, d.category)
            .order_by(func.count().desc(), d.group_code, d.carc)
            .limit(TOP_REASONS)
        )
    ]
    clinicians = [
        DenialCount(str(pid or ""), f"{first} {last}" if last else "No clinician", n, claims, int(cents))
        for pid, first, last, n, claims, cents in db.execute(
            base.outerjoin(m.Provider, m.Provider.id == m.Claim.provider_id)
            .with_only_columns(m.Provider.id, m.Provider.first_name, m.Provider.last_name, *measures)
            .group_by(m.Provider.id, m.Provider.first_name, m.Provider.last_name)
            .order_by(func.count().desc(), m.Provider.last_name)
        )
    ]
    payers = [
        DenialCount(str(pid), name, n, claims, int(cents))
        for pid, name, n, claims, cents in db.execute(
            base.join(m.Payer, m.Payer.id == m.Claim.payer_id)
            .with_only_columns(m.Payer.id, m.Payer.name, *measures)
            .group_by(m.Payer.id, m.Payer.name)
            .order_by(func.count().desc(), m.Payer.name)
        )
    ]
    [(n, claims, cents)] = db.execute(base.with_only_columns(*measures)).all()
    total = DenialCount("", "All denials", int(n), int(claims), int(cents or 0))
    days = db.execute(
        base.with_only_columns(func.date(d.created_at), func.count(), func.sum(d.amount_cents)).group_by(
            func.date(d.created_at)
        )
    )
    counts: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for day, count, amount in days:
        month = month_start(day if isinstance(day, date) else date.fromisoformat(str(day)[:10]))
        counts[month][0] += int(count)
        counts[month][1] += int(amount or 0)
    by_month = tuple(
        DenialCount(month.isoformat(), month.strftime("%b %Y"), counts[month][0], 0, counts[month][1])
        for month in months_of(period)
    )
    overturn = appeals.overturn_summary(db, actor=actor, practice_id=practice_id, since=period.from_on).total
    return DenialAnalysis(
        period, today, tuple(reasons), tuple(clinicians), tuple(payers), by_month, total, overturn
    )


def denial_table(report: DenialAnalysis) -> ReportTable:
    """The top reasons as rows (the downloads' table); the rest is in the notes."""
    columns = (
        Column("code", "Reason"),
        Column("explanation", "What it means"),
        Column("category", "Category"),
        Column("denials", "Denials", "int"),
        Column("claims", "Claims", "int"),
        Column("amount", "Denied amount", "cents"),
    )
    rows = [
        {
            "code": r.code,
            "explanation": r.explanation,
            "category": r.category,
            "denials": r.denials,
            "claims": r.claims,
            "amount": r.amount_cents,
        }
        for r in report.reasons
    ]
    totals = {
        "code": "Total",
        "denials": report.total.denials,
        "claims": report.total.claims,
        "amount": report.total.amount_cents,
    }
    rate = report.overturn_rate
    overturn = (
        f"Overturn rate: {rate * 100:.1f}% of {report.overturn.decided} appeals decided"
        if rate is not None
        else "Overturn rate: no appeal decided yet"
    )
    return table_of(
        "Denial analysis",
        columns,
        rows,
        generated_on=report.today,
        filters=[("Denials posted", report.period.label)],
        totals=totals,
        notes=(
            *report.notes,
            overturn,
            *_breakdown("By payer", report.by_payer),
            *_breakdown("By clinician", report.by_clinician),
        ),
    )


def _breakdown(title: str, counts: tuple[DenialCount, ...]) -> list[str]:
    return [
        f"{title}: {c.label}: {c.denials} denials, {c.claims} claims, {c.amount_cents / 100:,.2f}"
        for c in counts
    ]


def chart_data(report: DenialAnalysis) -> dict[str, Any]:
    """Month over month: denials counted and amount, for the bar chart."""
    return {
        "labels": [c.label for c in report.by_month],
        "datasets": [{"label": "Denials", "data": [c.denials for c in report.by_month]}],
    }
