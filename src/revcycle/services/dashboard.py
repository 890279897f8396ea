"""The figures on the practice dashboard, each from a real query and each with the list
behind it: the practice's KPIs with their thresholds (services.kpis), sessions per pipeline
stage this month, open work by severity, A/R from the ledger's balance rows, the
practice-wide alerts (more than 10 unbilled sessions, KPIs past their thresholds) with the open
alerts by severity, and below them:

* the **aging summary**: each claim's A/R balance (``ar:insurance`` + ``ar:patient``, claim
  scope, credits included so the buckets sum to the total) by days from its date of service to
  ``today`` in buckets 0-30, 31-60, 61-90, 91-120, 121+; A/R on no claim (a no-show fee, a
  self-pay charge) in its own row; the rows sum to the ledger's A/R total;
* the **last ten payments** received (by received date);
* the **collections trend**: cash postings (payments less refunds) by accounting month, the 12
  months ending with ``today``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.permissions import Permission
from revcycle.domain.pipeline import PipelineStage
from revcycle.services import queries
from revcycle.services.actor import Actor
from revcycle.services.kpis import AR_ACCOUNTS, KPI_ALERT_RULE, KpiValue, compute_kpis
from revcycle.services.scoping import practice_scopes
from revcycle.services.sessions import SessionFilters, stage_counts


@dataclass(frozen=True)
class AgingBucket:
    label: str  # "0-30", ..., "121+", or "not on a claim"
    balance_cents: int
    claims: int
    url: str = ""


@dataclass(frozen=True)
class MonthTotal:
    month: date  # its first day
    collected_cents: int


# (label, first day, last day) of each bucket, in days from the date of service.
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("121+", 121, None),
)
NO_CLAIM = "not on a claim"


@dataclass(frozen=True)
class Dashboard:
    month: date  # the first day of the month shown
    stage_counts: dict[PipelineStage, int]
    open_work: dict[str, int]  # severity -> open items
    ar_insurance_cents: int
    ar_patient_cents: int
    # Open alerts about the whole practice (no session or claim), e.g. "14 sessions held and
    # not yet billed", shown as banners; and open or acknowledged alerts per severity.
    practice_alerts: tuple[m.WorkItem, ...] = ()
    open_alerts: dict[str, int] | None = None
    kpis: tuple[KpiValue, ...] = ()
    aging: tuple[AgingBucket, ...] = ()
    last_payments: tuple[queries.PaymentRow, ...] = ()
    trend: tuple[MonthTotal, ...] = field(default=())

    @property
    def primary_kpis(self) -> tuple[KpiValue, ...]:
        return tuple(value for value in self.kpis if value.kpi.primary)

    @property
    def other_kpis(self) -> tuple[KpiValue, ...]:
        return tuple(value for value in self.kpis if not value.kpi.primary)

    @property
    def ar_total_cents(self) -> int:
        return self.ar_insurance_cents + self.ar_patient_cents

    @property
    def sessions_this_month(self) -> int:
        return sum(self.stage_counts.values())


def practice_dashboard(session: Session, *, actor: Actor, practice_id: int, today: date) -> Dashboard:
    """The dashboard of one practice for the month of ``today`` (the practice's date)."""
    practice_scopes(actor, Permission.VIEW_DASHBOARD, practice_id)
    month = today.replace(day=1)
    counts = stage_counts(session, actor=actor, practice_id=practice_id, filters=SessionFilters(month=month))
    work = queries.open_work_by_severity(session, actor=actor, practice_id=practice_id)
    ar = queries.account_balances(
        session, practice_id=practice_id, accounts=(Account.AR_INSURANCE, Account.AR_PATIENT)
    )
    return Dashboard(
        kpis=tuple(compute_kpis(session, actor=actor, practice_id=practice_id, today=today)),
        aging=aging_summary(session, practice_id=practice_id, today=today),
        last_payments=tuple(
            queries.list_payments(session, actor=actor, practice_id=practice_id, limit=10).items
        ),
        trend=collections_trend(session, practice_id=practice_id, today=today),
        month=month,
        stage_counts=counts,
        open_work=work,
        ar_insurance_cents=ar[Account.AR_INSURANCE.value],
        ar_patient_cents=ar[Account.AR_PATIENT.value],
        practice_alerts=tuple(
            session.scalars(
                _open_alerts(practice_id)
                .where(m.WorkItem.session_id.is_(None), m.WorkItem.claim_id.is_(None))
                .where(m.WorkItem.rule != KPI_ALERT_RULE)  # a red tile says it already
                .order_by(m.WorkItem.created_at)
            )
        ),
        open_alerts={
            str(severity): int(n)
            for severity, n in session.execute(
                _open_alerts(practice_id)
                .with_only_columns(m.WorkItem.severity, func.count())
                .group_by(m.WorkItem.severity)
            )
        },
    )


def _open_alerts(practice_id: int) -> Select[m.WorkItem]:
    return select(m.WorkItem).where(
        m.WorkItem.practice_id == practice_id,
        m.WorkItem.kind == "alert",
        m.WorkItem.status != "resolved",
    )


def aging_summary(session: Session, *, practice_id: int, today: date) -> tuple[AgingBucket, ...]:
    """Claims' A/R by days since their date of service (see the module docstring); the rows
    sum to the ledger's A/R total."""
    balances = (
        select(
            m.LedgerBalance.scope_id.label("claim_id"),
            func.sum(m.LedgerBalance.balance_cents).label("balance_cents"),
        )
        .where(
            m.LedgerBalance.practice_id == practice_id,
            m.LedgerBalance.scope == BalanceScope.CLAIM.value,
            m.LedgerBalance.account.in_(AR_ACCOUNTS),
        )
        .group_by(m.LedgerBalance.scope_id)
        .subquery()
    )
    bucket = case(
        *(
            (m.Claim.service_from_on >= today - timedelta(days=last), index)
            for index, (_, _, last) in enumerate(AGING_BUCKETS)
            if last is not None
        ),
        else_=len(AGING_BUCKETS) - 1,
    ).label("bucket")
    rows = session.execute(
        select(bucket, func.count(), func.sum(balances.c.balance_cents))
        .join(balances, balances.c.claim_id == m.Claim.id)
        .where(m.Claim.practice_id == practice_id, balances.c.balance_cents != 0)
        .group_by(bucket)
    ).all()
    found = {int(index): (int(n), int(cents or 0)) for index, n, cents in rows}
    result = []
    for index, (label, first, last) in enumerate(AGING_BUCKETS):
        n, cents = found.get(index, (0, 0))
        since = f"&since={today - timedelta(days=last)}" if last is not None else ""
        url = f"/claims?kpi=aging&as_of={today}&until={today - timedelta(days=first)}{since}"
        result.append(AgingBucket(label, cents, n, url))
    total = queries.account_balances(
        session, practice_id=practice_id, accounts=(Account.AR_INSURANCE, Account.AR_PATIENT)
    )
    rest = sum(total.values()) - sum(row.balance_cents for row in result)
    if rest:
        result.append(AgingBucket(NO_CLAIM, rest, 0))
    return tuple(result)


def collections_trend(session: Session, *, practice_id: int, today: date) -> tuple[MonthTotal, ...]:
    """Cash postings (payments less refunds) per accounting month, the 12 months to ``today``."""
    months = [_month_back(today.replace(day=1), back) for back in range(11, -1, -1)]
    totals = dict.fromkeys(months, 0)
    for day, cents in session.execute(
        select(m.Posting.accounting_on, func.sum(m.Posting.amount_cents))
        .where(
            m.Posting.practice_id == practice_id,
            m.Posting.account == Account.CASH.value,
            m.Posting.accounting_on >= months[0],
            m.Posting.accounting_on <= today,
        )
        .group_by(m.Posting.accounting_on)
    ):
        totals[day.replace(day=1)] += int(cents or 0)
    return tuple(MonthTotal(month, cents) for month, cents in totals.items())


def _month_back(first: date, back: int) -> date:
    index = first.year * 12 + first.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)
