"""Agent performance: per agent (a user holding claims, ``Claim.assignee_user_id``; their team
from ``Membership.team_id``), the figures :func:`revcycle.services.workload.workload` already
computes, read as a report:

* portfolio = open A/R dollars of their claims (the ``ar:insurance`` balance of their open
  claims: with the payer, rejected or denied);
* claims = how many such open claims they hold; average claim value = portfolio ÷ claims;
* collection rate = payments posted on their claims with a date of service in the last 12
  months ÷ the amount billed on those claims (:data:`workload.COLLECTION_RATE_FORMULA`);
* each agent's share of the whole portfolio (the doughnut).

Agents holding nothing (no open claim, nothing billed in the last 12 months) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from revcycle.adapters.report_export import Column, ReportTable
from revcycle.services.actor import Actor
from revcycle.services.reports_ops.basis import require_reports
from revcycle.services.workload import COLLECTION_RATE_FORMULA, workload

__all__ = ["AgentPerformance", "AgentRow", "agent_performance", "agent_performance_table"]

PORTFOLIO_FORMULA = "portfolio = the insurance A/R balance of the agent's open claims (today)"


@dataclass(frozen=True)
class AgentRow:
    user_id: int
    name: str
    team: str
    portfolio_cents: int
    claims: int
    average_claim_cents: int | None
    billed_cents: int
    paid_cents: int
    collection_rate: float | None
    portfolio_share: float | None


@dataclass(frozen=True)
class AgentPerformance:
    rows: list[AgentRow]
    portfolio_cents: int
    claims: int
    billed_cents: int
    paid_cents: int

    @property
    def collection_rate(self) -> float | None:
        return self.paid_cents / self.billed_cents if self.billed_cents else None

    @property
    def average_claim_cents(self) -> int | None:
        if not self.claims:
            return None
        return int((Decimal(self.portfolio_cents) / self.claims).to_integral_value(ROUND_HALF_UP))


def agent_performance(db: Session, *, actor: Actor, practice_id: int, today: date) -> AgentPerformance:
    """Every agent holding claims, largest portfolio first."""
    require_reports(actor, practice_id)
    load = workload(db, actor=actor, practice_id=practice_id, today=today)
    agents = [a for a in load.agents if a.open_claims or a.billed_cents]
    portfolio = sum(a.open_cents for a in agents)
    rows = [
        AgentRow(
            user_id=a.holder_id,
            name=a.label,
            team=a.team,
            portfolio_cents=a.open_cents,
            claims=a.open_claims,
            average_claim_cents=a.average_cents,
            billed_cents=a.billed_cents,
            paid_cents=a.paid_cents,
            collection_rate=a.paid_cents / a.billed_cents if a.billed_cents else None,
            portfolio_share=a.open_cents / portfolio if portfolio else None,
        )
        for a in agents
    ]
    rows.sort(key=lambda row: (-row.portfolio_cents, row.name.lower(), row.user_id))
    return AgentPerformance(
        rows,
        portfolio,
        sum(a.open_claims for a in agents),
        sum(a.billed_cents for a in agents),
        sum(a.paid_cents for a in agents),
    )


def agent_performance_table(report: AgentPerformance, today: date) -> ReportTable:
    columns = (
        Column("name", "Agent"),
        Column("team", "Team"),
        Column("portfolio_cents", "Portfolio", "cents"),
        Column("portfolio_share", "Share of portfolio", "share"),
        Column("claims", "Open claims", "int"),
        Column("average_claim_cents", "Average claim", "cents"),
        Column("billed_cents", "Billed (12 months)", "cents"),
        Column("paid_cents", "Paid (12 months)", "cents"),
        Column("collection_rate", "Collection rate", "share"),
    )
    rows = tuple(
        {
            "name": r.name,
            "team": r.team,
            "portfolio_cents": r.portfolio_cents,
            "portfolio_share": r.portfolio_share,
            "claims": r.claims,
            "average_claim_cents": r.average_claim_cents,
            "billed_cents": r.billed_cents,
            "paid_cents": r.paid_cents,
            "collection_rate": r.collection_rate,
        }
        for r in report.rows
    )
    totals = {
        "name": "Total",
        "team": "",
        "portfolio_cents": report.portfolio_cents,
        "portfolio_share": 1.0 if report.portfolio_cents else None,
        "claims": report.claims,
        "average_claim_cents": report.average_claim_cents,
        "billed_cents": report.billed_cents,
        "paid_cents": report.paid_cents,
        "collection_rate": report.collection_rate,
    }
    notes = (PORTFOLIO_FORMULA, "average claim = portfolio ÷ open claims", COLLECTION_RATE_FORMULA)
    return ReportTable(
        "Agent performance", columns, rows, today, (("As of", today.isoformat()),), totals, notes
    )
