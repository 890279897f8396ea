"""Every report reconciles with the ledger on the demo's data (issue 8, point 5): aging buckets
(by date of service and by submission) and the dashboard's aging sum to total A/R; revenue
recognition's totals equal the ledger's charges and cash receipts; the payer scorecard's and
the denial analysis' counts equal the claims and denials behind them. The figures are
recomputed here from the postings and rows directly, not through the reports' own code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger import Account
from revcycle.domain.ledger_events import TransactionKind
from revcycle.services import dashboard
from revcycle.services.actor import system_actor
from revcycle.services.demo import build_demo
from revcycle.services.reports import DateRange
from revcycle.services.reports.aging import aging_filters, aging_report
from revcycle.services.reports.denials import denial_analysis
from revcycle.services.reports.revenue import revenue_recognition
from revcycle.services.reports.scorecard import payer_scorecard

TODAY = date(2026, 3, 16)
EVER = DateRange(date(2024, 1, 1), TODAY)


def _postings(db: Session, practice_id: int, *accounts: Account) -> int:
    query = select(func.coalesce(func.sum(m.Posting.amount_cents), 0)).where(
        m.Posting.practice_id == practice_id, m.Posting.account.in_([a.value for a in accounts])
    )
    return int(db.scalar(query) or 0)


def test_every_report_reconciles_with_the_ledger_on_the_demo(db: Session) -> None:
    summary = build_demo(db, seed=3, today=TODAY, scale=0.05)
    pid = summary.practice_id
    assert pid is not None
    actor = system_actor("reconcile")
    ar = _postings(db, pid, Account.AR_INSURANCE, Account.AR_PATIENT)
    assert ar > 0

    for basis in ("service", "submission"):
        aging = aging_report(
            db, actor=actor, practice_id=pid, today=TODAY, filters=aging_filters(basis=basis)
        )
        assert aging.ledger_ar_cents == ar
        assert sum(aging.totals.by_bucket) == aging.totals.total_cents
        # the rows ("not on a claim" among them) make the total
        assert sum(g.total_cents for g in aging.groups) == aging.totals.total_cents
        assert aging.totals.total_cents + aging.off_claim_cents == ar, basis

    rows = dashboard.aging_summary(db, practice_id=pid, today=TODAY)
    assert sum(row.balance_cents for row in rows) == ar

    revenue = revenue_recognition(db, actor=actor, practice_id=pid, period=EVER, today=TODAY)
    assert revenue.total.billed_posted_cents == -_postings(db, pid, Account.REVENUE)
    receipts = db.scalar(
        select(func.coalesce(func.sum(m.Posting.amount_cents), 0))
        .join(m.LedgerTransaction, m.LedgerTransaction.id == m.Posting.transaction_id)
        .where(
            m.Posting.practice_id == pid,
            m.Posting.account == Account.CASH.value,
            m.LedgerTransaction.kind != TransactionKind.REFUND_PAID.value,
        )
    )
    assert revenue.total.paid_cents == receipts
    assert revenue.total.paid_insurance_cents > 0
    assert revenue.total.paid_patient_cents > 0
    held = db.scalar(
        select(func.count()).where(
            m.ServiceSession.practice_id == pid, m.ServiceSession.appointment_status == "show"
        )
    )
    assert revenue.total.sessions_completed == held

    scorecard = payer_scorecard(db, actor=actor, practice_id=pid, period=EVER, today=TODAY)
    first_sent = (
        select(m.Submission.claim_id, func.min(m.Submission.submitted_at).label("at"))
        .where(m.Submission.practice_id == pid)
        .group_by(m.Submission.claim_id)
        .subquery()
    )
    since = datetime.combine(EVER.from_on, datetime.min.time(), tzinfo=UTC)
    sent_claims = db.execute(
        select(func.count(), func.coalesce(func.sum(m.Claim.billed_cents), 0))
        .join(first_sent, first_sent.c.claim_id == m.Claim.id)
        .where(first_sent.c.at >= since)
    ).one()
    assert (scorecard.total.claims, scorecard.total.billed_cents) == tuple(sent_claims)
    assert sum(p.claims for p in scorecard.payers) == scorecard.total.claims
    assert scorecard.total.denied_claims <= scorecard.total.decided_claims <= scorecard.total.claims

    denials = denial_analysis(db, actor=actor, practice_id=pid, period=EVER, today=TODAY + timedelta(days=1))
    posted = db.scalar(select(func.count()).where(m.Denial.practice_id == pid))
    assert denials.total.denials == posted
    assert sum(r.denials for r in denials.reasons) == posted
    assert sum(p.denials for p in denials.by_payer) == posted
