"""The AR engine's payer analytics: who owes the portfolio, and how each payer pays.

* **Payer concentration** (``/analytics``): each payer's open balance — the positive
  ``ar:insurance`` balances (claim scope, the ledger's) of its claims — with the number of those
  claims; the five largest by balance, the rest combined as "Others"; the portfolio total (every
  payer's open balance) and the concentration share = top five / total.
* **Payer report** (``/payer-report``): per payer, the same open balance and claims, and
  - **collection rate**: insurance payments received on the payer's claims with a date of
    service in the last 365 days (cash legs of insurance payments, less their reversals:
    :func:`revcycle.services.payer_strategies.insurance_payments`) / those claims' billed
    amounts — the payer strategy cards' definition;
  - **average days to pay**: date of service to the claim's first insurance payment (its
    accounting date), over the payer's claims first paid in the last 365 days — the
    dashboard's "average days to payment" over a year instead of 90 days.

All figures are GROUP BY queries (one per measure, whatever the portfolio's size); reading
needs ``run_reports``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.permissions import Permission
from revcycle.services.actor import Actor
from revcycle.services.payer_strategies import insurance_payments
from revcycle.services.scoping import practice_scopes

__all__ = [
    "OTHERS",
    "TOP_PAYERS",
    "Concentration",
    "PayerBalance",
    "PayerReportRow",
    "payer_concentration",
    "payer_report",
]

TOP_PAYERS = 5
OTHERS = "Others"
YEAR_DAYS = 365


@dataclass(frozen=True)
class PayerBalance:
    payer_id: int | None  # None for "Others"
    payer_name: str
    balance_cents: int
    claims: int

    def share(self, total_cents: int) -> float | None:
        return 100.0 * self.balance_cents / total_cents if total_cents else None


@dataclass(frozen=True)
class Concentration:
    rows: tuple[PayerBalance, ...]  # the top five, then "Others" when there are more payers
    total_cents: int
    total_claims: int

    @property
    def top_cents(self) -> int:
        return sum(row.balance_cents for row in self.rows if row.payer_id is not None)

    @property
    def concentration_share(self) -> float | None:
        """Top five payers' open balance / the portfolio's, as a percentage."""
        return 100.0 * self.top_cents / self.total_cents if self.total_cents else None


@dataclass(frozen=True)
class PayerReportRow:
    payer_id: int
    payer_name: str
    balance_cents: int
    claims: int
    billed_12m_cents: int
    paid_12m_cents: int
    paid_claims: int  # claims first paid in the last 365 days
    avg_days_to_pay: float | None

    @property
    def collection_rate(self) -> float | None:
        return 100.0 * self.paid_12m_cents / self.billed_12m_cents if self.billed_12m_cents else None


def _open_balances(db: Session, practice_id: int) -> list[tuple[int, str, int, int]]:
    """(payer id, name, open balance, claims) per payer with a positive balance, largest first."""
    balances = (
        select(
            m.LedgerBalance.scope_id.label("claim_id"),
            func.sum(m.LedgerBalance.balance_cents).label("balance_cents"),
        )
        .where(
            m.LedgerBalance.practice_id == practice_id,
            m.LedgerBalance.scope == BalanceScope.CLAIM.value,
            m.LedgerBalance.account == Account.AR_INSURANCE.value,
        )
        .group_by(m.LedgerBalance.scope_id)
        .subquery()
    )
    rows = db.execute(
        select(m.Claim.payer_id, m.Payer.name, func.sum(balances.c.balance_cents), func.count())
        .join(balances, balances.c.claim_id == m.Claim.id)
        .join(m.Payer, m.Payer.id == m.Claim.payer_id)
        .where(m.Claim.practice_id == practice_id, balances.c.balance_cents > 0)
        .group_by(m.Claim.payer_id, m.Payer.name)
    ).all()
    found = [(int(pid), str(name), int(cents or 0), int(n)) for pid, name, cents, n in rows]
    return sorted(found, key=lambda row: (-row[2], row[1], row[0]))


def payer_concentration(
    db: Session, *, actor: Actor, practice_id: int, top: int = TOP_PAYERS
) -> Concentration:
    """The top ``top`` payers by open balance, the rest as "Others", and the total."""
    practice_scopes(actor, Permission.RUN_REPORTS, practice_id)
    found = _open_balances(db, practice_id)
    rows = [PayerBalance(pid, name, cents, n) for pid, name, cents, n in found[:top]]
    rest = found[top:]
    if rest:
        rows.append(PayerBalance(None, OTHERS, sum(r[2] for r in rest), sum(r[3] for r in rest)))
    return Concentration(tuple(rows), sum(r[2] for r in found), sum(r[3] for r in found))


def _days_between(db: Session, later: Any, earlier: Any) -> Any:
    """``later - earlier`` in days, as SQL (PostgreSQL subtracts dates; SQLite needs julianday)."""
    if db.get_bind().dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return later - earlier


def payer_report(db: Session, *, actor: Actor, practice_id: int, today: date) -> list[PayerReportRow]:
    """One row per payer with an open balance or activity in the last 365 days, largest
    balance first (see the module docstring for each figure)."""
    practice_scopes(actor, Permission.RUN_REPORTS, practice_id)
    since = today - timedelta(days=YEAR_DAYS)
    names: dict[int, str] = {}
    figures: dict[int, dict[str, Any]] = defaultdict(dict)
    for pid, name, cents, n in _open_balances(db, practice_id):
        names[pid] = name
        figures[pid].update(balance=cents, claims=n)
    in_window = (m.Claim.practice_id == practice_id, m.Claim.service_from_on > since)
    for pid, name, billed in db.execute(
        select(m.Claim.payer_id, m.Payer.name, func.sum(m.Claim.billed_cents))
        .join(m.Payer, m.Payer.id == m.Claim.payer_id)
        .where(*in_window)
        .group_by(m.Claim.payer_id, m.Payer.name)
    ):
        names[pid] = name
        figures[pid]["billed"] = int(billed or 0)
    paid = insurance_payments(practice_id).subquery()
    for pid, cents in db.execute(
        select(m.Claim.payer_id, func.sum(paid.c.amount_cents))
        .join(m.Claim, m.Claim.id == paid.c.claim_id)
        .where(*in_window)
        .group_by(m.Claim.payer_id)
    ):
        figures[pid]["paid"] = int(cents or 0)
    first = (
        select(paid.c.claim_id, func.min(paid.c.accounting_on).label("paid_on"))
        .where(paid.c.amount_cents > 0)
        .group_by(paid.c.claim_id)
        .subquery()
    )
    days = _days_between(db, first.c.paid_on, m.Claim.service_from_on)
    for pid, n, mean in db.execute(
        select(m.Claim.payer_id, func.count(), func.avg(days))
        .join(first, first.c.claim_id == m.Claim.id)
        .where(m.Claim.practice_id == practice_id, first.c.paid_on > since, first.c.paid_on <= today)
        .group_by(m.Claim.payer_id)
    ):
        figures[pid].update(paid_claims=int(n), avg_days=float(mean) if mean is not None else None)
    rows = [
        PayerReportRow(
            payer_id=pid,
            payer_name=names.get(pid) or _name(db, pid),
            balance_cents=values.get("balance", 0),
            claims=values.get("claims", 0),
            billed_12m_cents=values.get("billed", 0),
            paid_12m_cents=values.get("paid", 0),
            paid_claims=values.get("paid_claims", 0),
            avg_days_to_pay=values.get("avg_days"),
        )
        for pid, values in figures.items()
    ]
    return sorted(rows, key=lambda row: (-row.balance_cents, row.payer_name, row.payer_id))


def _name(db: Session, payer_id: int) -> str:
    return str(db.scalar(select(m.Payer.name).where(m.Payer.id == payer_id)) or f"payer {payer_id}")
