"""The practice's monthly report, printed as PDF for the director.

The service gathers the month's key figures into a :class:`MonthlyReport` of plain values
(sessions, charges, collections, A/R at month end and its aging, the denial rate, the next
30 days' forecast, each with its formula); this adapter lays them out on one Letter page
(``adapters/templates/monthly_report.html``) rendered by WeasyPrint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

import jinja2

from revcycle.money import format_cents

__all__ = ["AgingLine", "MonthlyReport", "render_monthly_report_html", "render_monthly_report_pdf"]


@dataclass(frozen=True)
class AgingLine:
    label: str  # "0-30"
    amount_cents: int


@dataclass(frozen=True)
class MonthlyReport:
    practice_name: str
    month: date  # the first day of the month reported
    month_end: date
    generated_on: date
    sessions_total: int
    sessions_held: int
    charges_cents: int
    insurance_collections_cents: int
    patient_collections_cents: int
    ar_end_cents: int
    aging: tuple[AgingLine, ...]
    adjudicated_claims: int
    denied_claims: int
    forecast_low_cents: int
    forecast_median_cents: int
    forecast_high_cents: int
    forecast_through: date
    notes: tuple[str, ...] = ()  # each figure's formula and date basis

    @property
    def collections_cents(self) -> int:
        return self.insurance_collections_cents + self.patient_collections_cents

    @property
    def denial_rate(self) -> float | None:
        return self.denied_claims / self.adjudicated_claims if self.adjudicated_claims else None

    @property
    def title(self) -> str:
        return f"Monthly report, {self.month:%B %Y}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


@cache
def _environment() -> jinja2.Environment:
    folder = resources.files("revcycle.adapters") / "templates"
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["money"] = format_cents
    environment.filters["share"] = _share
    return environment


def render_monthly_report_html(report: MonthlyReport) -> str:
    return _environment().get_template("monthly_report.html").render(r=report)


def render_monthly_report_pdf(report: MonthlyReport) -> bytes:
    import weasyprint  # deferred: loading Pango costs start-up time every command would pay

    pdf: bytes = weasyprint.HTML(string=render_monthly_report_html(report)).write_pdf()
    return pdf
