"""The payer scorecard: how each payer treats the practice's claims, over a date range.

The claims counted are those **first submitted** in the range (the practice's dates); for each
payer, over those claims:

* **Volume**: the claims and what they billed (the claims' billed amounts);
* **Average days to pay**: first submission -> the first insurance payment posted to the claim
  (the earliest money, ``cash`` or ``unapplied`` applied, of an insurance payment carrying
  the claim), over the claims paid so far;
* **Denial rate**: claims with a denial (a Denial row, any line) / claims decided (the payer
  answered: the claim reached adjudicated, paid, partially paid or denied at some point);
* **Collection rate**: insurance paid / billed, paid being the net of the money legs
  (``cash``, or ``unapplied`` when a parked payment was applied) of insurance payments
  carrying the claim (a reversal takes its payment back; interest paid on the claim counts);
* **Underpayment rate**: claims with an underpayment work item (kind ``underpayment``) /
  claims paid.

The radar chart puts each payer on five axes scaled 0..1, 1 the best: collection rate as it
is; 1 - denial rate; 1 - underpayment rate; speed = fastest payer's average days / this
payer's; volume = this payer's claims / the busiest payer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from revcycle.adapters.report_export import Column, ReportTable, table_of
from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.ledger import Account
from revcycle.domain.permissions import Permission
from revcycle.services.actor import Actor
from revcycle.services.reports import DateRange, day_starts, days_between, share
from revcycle.services.scoping import practice_scopes

__all__ = ["DECIDED", "PayerScore", "Scorecard", "payer_scorecard", "radar", "scorecard_table"]

DECIDED = (ClaimStatus.ADJUDICATED, ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID, ClaimStatus.DENIED)
RADAR_AXES = ("Collection rate", "Clean of denials", "Paid in full", "Speed", "Volume")


@dataclass(frozen=True)
class PayerScore:
    payer_id: int
    payer_name: str
    claims: int
    billed_cents: int
    paid_cents: int
    paid_claims: int
    decided_claims: int
    denied_claims: int
    underpaid_claims: int
    average_days_to_pay: float | None

    @property
    def denial_rate(self) -> float | None:
        return share(self.denied_claims, self.decided_claims)

    @property
    def collection_rate(self) -> float | None:
        return share(self.paid_cents, self.billed_cents)

    @property
    def underpayment_rate(self) -> float | None:
        return share(self.underpaid_claims, self.paid_claims)


@dataclass(frozen=True)
class Scorecard:
    period: DateRange
    today: date
    payers: tuple[PayerScore, ...]
    total: PayerScore

    notes: tuple[str, ...] = (
        "Claims first submitted in the range. Days to pay: first submission to the first "
        "insurance payment posted to the claim.",
        "Denial rate: claims with a denial / claims decided (adjudicated, paid, partially paid "
        "or denied). Collection rate: insurance paid (ledger) / billed.",
        "Underpayment rate: claims with an underpayment work item / claims paid.",
    )


def _claims_with(claim_id: Any, *conditions: Any, name: str) -> Any:
    return select(claim_id.label("claim_id")).where(*conditions).distinct().subquery(name)


def _facts(db: Session, practice_id: int, starts: Any, ends: Any) -> Any:
    """One row per claim first submitted in [starts, ends): payer, billed, paid, first paid."""
    first = (
        select(m.Submission.claim_id, func.min(m.Submission.submitted_at).label("first_at"))
        .where(m.Submission.practice_id == practice_id)
        .group_by(m.Submission.claim_id)
        .subquery("first_sub")
    )
    p = m.Posting
    paid = (
        select(
            p.claim_id,
            func.sum(p.amount_cents).label("paid"),
            func.min(case((p.amount_cents > 0, p.accounting_on))).label("first_paid_on"),
        )
        .join(m.Payment, m.Payment.id == p.payment_id)
        .where(
            p.practice_id == practice_id,
            p.account.in_([Account.CASH.value, Account.UNAPPLIED.value]),
            p.claim_id.is_not(None),
            m.Payment.kind == "insurance",
        )
        .group_by(p.claim_id)
        .subquery("paid")
    )
    claim = m.Claim
    # Distinct claim ids joined (hash joins), not correlated EXISTS per claim.
    denied = _claims_with(m.Denial.claim_id, m.Denial.practice_id == practice_id, name="denied")
    decided = _claims_with(
        m.ClaimEvent.claim_id,
        m.ClaimEvent.practice_id == practice_id,
        m.ClaimEvent.to_status.in_([str(s) for s in DECIDED]),
        name="decided",
    )
    underpaid = _claims_with(
        m.WorkItem.claim_id,
        m.WorkItem.practice_id == practice_id,
        m.WorkItem.kind == "underpayment",
        name="underpaid",
    )
    return (
        select(
            claim.id.label("claim_id"),
            claim.payer_id,
            claim.billed_cents,
            func.coalesce(paid.c.paid, 0).label("paid"),
            case(
                (func.coalesce(paid.c.paid, 0) > 0, days_between(db, paid.c.first_paid_on, first.c.first_at))
            ).label("days"),
            case((denied.c.claim_id.is_not(None), 1), else_=0).label("denied"),
            case((decided.c.claim_id.is_not(None), 1), else_=0).label("decided"),
            case((underpaid.c.claim_id.is_not(None), 1), else_=0).label("underpaid"),
        )
        .join(first, first.c.claim_id == claim.id)
        .outerjoin(paid, paid.c.claim_id == claim.id)
        .outerjoin(denied, denied.c.claim_id == claim.id)
        .outerjoin(decided, decided.c.claim_id == claim.id)
        .outerjoin(underpaid, underpaid.c.claim_id == claim.id)
        .where(claim.practice_id == practice_id, first.c.first_at >= starts, first.c.first_at < ends)
        .subquery("facts")
    )


def payer_scorecard(
    db: Session, *, actor: Actor, practice_id: int, period: DateRange, today: date
) -> Scorecard:
    """Each payer's figures over the claims first submitted in ``period`` (module docstring)."""
    practice_scopes(actor, Permission.RUN_REPORTS, practice_id)
    practice = db.get(m.Practice, practice_id)
    assert practice is not None
    starts = day_starts(period.from_on, practice.timezone)
    ends = day_starts(period.to_on + timedelta(days=1), practice.timezone)
    f = _facts(db, practice_id, starts, ends)
    is_paid = case((f.c.paid > 0, 1), else_=0)
    rows = db.execute(
        select(
            m.Payer.id,
            m.Payer.name,
            func.count(),
            func.sum(f.c.billed_cents),
            func.sum(f.c.paid),
            func.sum(is_paid),
            func.sum(f.c.decided),
            func.sum(f.c.denied),
            func.sum(case((f.c.paid > 0, f.c.underpaid), else_=0)),
            func.sum(f.c.days),
        )
        .join(m.Payer, m.Payer.id == f.c.payer_id)
        .group_by(m.Payer.id, m.Payer.name)
        .order_by(m.Payer.name)
    ).all()
    payers = tuple(_score(row) for row in rows)
    return Scorecard(period, today, payers, _total(payers))


def _score(row: Any) -> PayerScore:
    payer_id, name, claims, billed, paid, paid_claims, decided, denied, underpaid, days = row
    paid_claims = int(paid_claims or 0)
    return PayerScore(
        payer_id=payer_id,
        payer_name=name,
        claims=int(claims),
        billed_cents=int(billed or 0),
        paid_cents=int(paid or 0),
        paid_claims=paid_claims,
        decided_claims=int(decided or 0),
        denied_claims=int(denied or 0),
        underpaid_claims=int(underpaid or 0),
        average_days_to_pay=float(days) / paid_claims if paid_claims and days is not None else None,
    )


def _total(payers: tuple[PayerScore, ...]) -> PayerScore:
    paid_claims = sum(p.paid_claims for p in payers)
    day_sum = sum((p.average_days_to_pay or 0) * p.paid_claims for p in payers)
    return PayerScore(
        payer_id=0,
        payer_name="All payers",
        claims=sum(p.claims for p in payers),
        billed_cents=sum(p.billed_cents for p in payers),
        paid_cents=sum(p.paid_cents for p in payers),
        paid_claims=paid_claims,
        decided_claims=sum(p.decided_claims for p in payers),
        denied_claims=sum(p.denied_claims for p in payers),
        underpaid_claims=sum(p.underpaid_claims for p in payers),
        average_days_to_pay=day_sum / paid_claims if paid_claims else None,
    )


def radar(card: Scorecard) -> dict[str, Any]:
    """The radar chart's data: each payer's five axes scaled 0..1, 1 the best (docstring)."""
    fastest = min((p.average_days_to_pay for p in card.payers if p.average_days_to_pay), default=None)
    busiest = max((p.claims for p in card.payers), default=0)
    datasets = []
    for payer in card.payers:
        days = payer.average_days_to_pay
        values = [
            payer.collection_rate,
            None if payer.denial_rate is None else 1 - payer.denial_rate,
            None if payer.underpayment_rate is None else 1 - payer.underpayment_rate,
            None if not days or not fastest else fastest / days,
            share(payer.claims, busiest),
        ]
        datasets.append({"label": payer.payer_name, "data": [_axis(v) for v in values]})
    return {"labels": list(RADAR_AXES), "datasets": datasets}


def _axis(value: float | None) -> float:
    return round(min(max(value or 0.0, 0.0), 1.0), 4)


def scorecard_table(card: Scorecard) -> ReportTable:
    columns = (
        Column("payer", "Payer"),
        Column("claims", "Claims", "int"),
        Column("billed", "Billed", "cents"),
        Column("paid", "Paid", "cents"),
        Column("days", "Avg days to pay", "days"),
        Column("denial_rate", "Denial rate", "share"),
        Column("collection_rate", "Collection rate", "share"),
        Column("underpayment_rate", "Underpayment rate", "share"),
        Column("decided", "Decided", "int"),
        Column("denied", "Denied", "int"),
        Column("paid_claims", "Paid claims", "int"),
        Column("underpaid", "Underpaid", "int"),
    )
    return table_of(
        "Payer scorecard",
        columns,
        [_row(p) for p in card.payers],
        generated_on=card.today,
        filters=[("First submitted", card.period.label)],
        totals=_row(card.total),
        notes=card.notes,
    )


def _row(p: PayerScore) -> dict[str, Any]:
    return {
        "payer": p.payer_name,
        "claims": p.claims,
        "billed": p.billed_cents,
        "paid": p.paid_cents,
        "days": None if p.average_days_to_pay is None else round(p.average_days_to_pay, 1),
        "denial_rate": p.denial_rate,
        "collection_rate": p.collection_rate,
        "underpayment_rate": p.underpayment_rate,
        "decided": p.decided_claims,
        "denied": p.denied_claims,
        "paid_claims": p.paid_claims,
        "underpaid": p.underpaid_claims,
    }
