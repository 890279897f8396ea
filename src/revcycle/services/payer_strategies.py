"""Payer strategy cards: one per payer with open claims, computed from the claims and the ledger,
with the workflow the practice chose for it (or the one its figures suggest).

Where each figure comes from (``today`` is the practice's):

* **open dollars** — the insurance AR balance (``ar:insurance``, claim scope) of the payer's
  claims that were sent and are not closed (:data:`WORKED_STATUSES`); **open claims** counts
  those claims, **aged dollars** the part on claims first sent :data:`~revcycle.domain.
  payer_strategy.AGED_DAYS` or more days ago;
* **collection rate** — insurance payments received on the payer's claims with a date of
  service in the last 365 days (cash postings of insurance payments, less their reversals)
  ÷ those claims' billed amounts;
* **average days to resolve** and **denial share** — over the claims whose first decision
  (paid, partially paid or denied) came in the last 180 days: days from the claim's first
  submission to that decision, and the share of those decisions that were denials.

The chosen workflow is the latest :class:`~revcycle.db.models.PayerStrategy` row for the payer:
choosing again adds a row (the table is append-only), audited; choosing needs
``manage_practice``, reading the cards ``run_reports``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.ledger_events import TransactionKind
from revcycle.domain.payer_strategy import (
    AGED_DAYS,
    PayerFigures,
    Priority,
    Workflow,
    parse_workflow,
    priority_of,
    priority_score_cents,
    suggest_workflow,
)
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor

__all__ = [
    "COLLECTION_WINDOW_DAYS",
    "NOTE_MAX",
    "RESOLVE_WINDOW_DAYS",
    "WORKED_STATUSES",
    "PayerCard",
    "StrategyVersion",
    "cards",
    "choose_workflow",
    "insurance_balance_column",
    "insurance_payments",
    "strategy_history",
]

S = ClaimStatus
# Sent to the payer and not closed: what a collector works.
WORKED_STATUSES = frozenset(
    {
        S.SUBMITTED,
        S.ACKNOWLEDGED,
        S.ACCEPTED,
        S.ADJUDICATED,
        S.PARTIALLY_PAID,
        S.DENIED,
        S.APPEALED,
        S.REJECTED,
    }
)
DECISIONS = frozenset({S.PAID, S.PARTIALLY_PAID, S.DENIED})
COLLECTION_WINDOW_DAYS = 365
RESOLVE_WINDOW_DAYS = 180
NOTE_MAX = 500
_PRIORITY_ORDER = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


def insurance_payments(practice_id: int) -> Select[int | None, date, int]:
    """(claim id, accounting date, cents) of every insurance payment's cash leg on a claim, and
    of each reversal of one (negative): what payers paid, dated as the ledger dates it."""
    reversed_txn = aliased(m.LedgerTransaction)
    return (
        select(m.Posting.claim_id, m.Posting.accounting_on, m.Posting.amount_cents)
        .join(m.LedgerTransaction, m.LedgerTransaction.id == m.Posting.transaction_id)
        .outerjoin(reversed_txn, reversed_txn.id == m.LedgerTransaction.reverses_transaction_id)
        .where(
            m.Posting.practice_id == practice_id,
            m.Posting.account == Account.CASH.value,
            m.Posting.claim_id.is_not(None),
            (m.LedgerTransaction.kind == TransactionKind.INSURANCE_PAYMENT.value)
            | (
                (m.LedgerTransaction.kind == TransactionKind.REVERSAL.value)
                & (reversed_txn.kind == TransactionKind.INSURANCE_PAYMENT.value)
            ),
        )
    )


def _day(stamp: datetime, zone: ZoneInfo) -> date:
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(zone).date()


def _first_sent(practice_id: int) -> Any:
    return (
        select(m.Submission.claim_id, func.min(m.Submission.submitted_at).label("sent_at"))
        .where(m.Submission.practice_id == practice_id)
        .group_by(m.Submission.claim_id)
        .subquery()
    )


def insurance_balance_column() -> Any:
    """The claim's insurance AR balance, as a correlated scalar subquery on ``m.Claim``."""
    return (
        select(func.coalesce(func.sum(m.LedgerBalance.balance_cents), 0))
        .where(
            m.LedgerBalance.practice_id == m.Claim.practice_id,
            m.LedgerBalance.scope == BalanceScope.CLAIM.value,
            m.LedgerBalance.scope_id == m.Claim.id,
            m.LedgerBalance.account == Account.AR_INSURANCE.value,
        )
        .scalar_subquery()
    )


@dataclass
class _Tally:
    open_cents: int = 0
    open_claims: int = 0
    aged_cents: int = 0
    billed_cents: int = 0
    paid_cents: int = 0
    resolve_days: int = 0
    decided: int = 0
    denied: int = 0


def _open_ar(db: Session, practice_id: int, today: date, zone: ZoneInfo, tally: dict[int, _Tally]) -> None:
    sent = _first_sent(practice_id)
    query = (
        select(m.Claim.payer_id, m.Claim.service_from_on, sent.c.sent_at, insurance_balance_column())
        .outerjoin(sent, sent.c.claim_id == m.Claim.id)
        .where(m.Claim.practice_id == practice_id, m.Claim.status.in_([str(s) for s in WORKED_STATUSES]))
    )
    aged_before = today - timedelta(days=AGED_DAYS)
    for payer_id, service_on, sent_at, balance in db.execute(query):
        row = tally[payer_id]
        row.open_claims += 1
        row.open_cents += int(balance)
        if (_day(sent_at, zone) if sent_at else service_on) <= aged_before:
            row.aged_cents += int(balance)


def _collection(db: Session, practice_id: int, today: date, tally: dict[int, _Tally]) -> None:
    since = today - timedelta(days=COLLECTION_WINDOW_DAYS)
    in_window = (m.Claim.practice_id == practice_id, m.Claim.service_from_on > since)
    for payer_id, billed in db.execute(
        select(m.Claim.payer_id, func.sum(m.Claim.billed_cents)).where(*in_window).group_by(m.Claim.payer_id)
    ):
        tally[payer_id].billed_cents += int(billed or 0)
    paid = insurance_payments(practice_id).subquery()
    for payer_id, cents in db.execute(
        select(m.Claim.payer_id, func.sum(paid.c.amount_cents))
        .join(m.Claim, m.Claim.id == paid.c.claim_id)
        .where(*in_window)
        .group_by(m.Claim.payer_id)
    ):
        tally[payer_id].paid_cents += int(cents or 0)


def _decisions(db: Session, practice_id: int, today: date, zone: ZoneInfo, tally: dict[int, _Tally]) -> None:
    since = datetime.combine(today - timedelta(days=RESOLVE_WINDOW_DAYS), time(), tzinfo=zone)
    sent = _first_sent(practice_id)
    query = (
        select(
            m.ClaimEvent.claim_id,
            m.Claim.payer_id,
            m.ClaimEvent.to_status,
            m.ClaimEvent.created_at,
            sent.c.sent_at,
        )
        .join(m.Claim, m.Claim.id == m.ClaimEvent.claim_id)
        .join(sent, sent.c.claim_id == m.ClaimEvent.claim_id)
        .where(
            m.ClaimEvent.practice_id == practice_id,
            m.ClaimEvent.to_status.in_([str(s) for s in DECISIONS]),
            m.ClaimEvent.created_at >= since,
        )
        .order_by(m.ClaimEvent.created_at, m.ClaimEvent.id)
    )
    seen: set[int] = set()
    for claim_id, payer_id, status, decided_at, sent_at in db.execute(query):
        if claim_id in seen:
            continue
        seen.add(claim_id)
        row = tally[payer_id]
        row.decided += 1
        row.denied += status == S.DENIED
        row.resolve_days += max((_day(decided_at, zone) - _day(sent_at, zone)).days, 0)


@dataclass(frozen=True)
class PayerCard:
    payer_id: int
    payer_name: str
    payer_kind: str
    figures: PayerFigures
    billed_12m_cents: int
    paid_12m_cents: int
    priority: Priority
    score_cents: int
    workflow: Workflow
    suggested: bool  # no workflow chosen yet: this is the figures' suggestion
    reason: str  # why it was suggested, or the note of the choice
    chosen_at: datetime | None
    chosen_by: str


def _latest_strategies(db: Session, practice_id: int) -> dict[int, tuple[m.PayerStrategy, str]]:
    rows = db.execute(
        select(m.PayerStrategy, m.User.email)
        .outerjoin(m.User, m.User.id == m.PayerStrategy.chosen_by_user_id)
        .where(m.PayerStrategy.practice_id == practice_id)
        .order_by(m.PayerStrategy.id)
    )
    return {row.payer_id: (row, email or "") for row, email in rows}


def cards(db: Session, *, actor: Actor, practice_id: int, today: date) -> list[PayerCard]:
    """One card per payer with open claims, highest priority (then score) first."""
    actor.require(practice_id, Permission.RUN_REPORTS)
    practice = db.get(m.Practice, practice_id)
    if practice is None:
        raise NotFound(f"practice {practice_id} not found")
    zone = ZoneInfo(practice.timezone)
    tally: dict[int, _Tally] = defaultdict(_Tally)
    _open_ar(db, practice_id, today, zone, tally)
    _collection(db, practice_id, today, tally)
    _decisions(db, practice_id, today, zone, tally)
    open_payers = [pid for pid, row in tally.items() if row.open_claims]
    if not open_payers:
        return []
    billed = sum(row.billed_cents for row in tally.values())
    practice_rate = sum(row.paid_cents for row in tally.values()) / billed if billed else None
    payers = {p.id: p for p in db.scalars(select(m.Payer).where(m.Payer.id.in_(open_payers)))}
    routes = dict(
        db.execute(
            select(m.PracticePayer.payer_id, m.PracticePayer.billing_route).where(
                m.PracticePayer.practice_id == practice_id, m.PracticePayer.payer_id.in_(open_payers)
            )
        ).all()
    )
    chosen = _latest_strategies(db, practice_id)
    found = [
        _card(payers[pid], tally[pid], routes.get(pid, ""), practice_rate, chosen.get(pid))
        for pid in open_payers
    ]
    return sorted(found, key=lambda c: (_PRIORITY_ORDER[c.priority], -c.score_cents, c.payer_name))


def _card(
    payer: m.Payer,
    row: _Tally,
    route: str,
    practice_rate: float | None,
    chosen: tuple[m.PayerStrategy, str] | None,
) -> PayerCard:
    figures = PayerFigures(
        open_balance_cents=row.open_cents,
        open_claims=row.open_claims,
        collection_rate=row.paid_cents / row.billed_cents if row.billed_cents else None,
        avg_days_to_resolve=row.resolve_days / row.decided if row.decided else None,
        decided=row.decided,
        denied=row.denied,
        aged_balance_cents=row.aged_cents,
        billing_route=route,
    )
    strategy, by = chosen if chosen else (None, "")
    workflow = parse_workflow(strategy.workflow) if strategy else None
    suggestion = suggest_workflow(figures)
    return PayerCard(
        payer_id=payer.id,
        payer_name=payer.name,
        payer_kind=payer.kind,
        figures=figures,
        billed_12m_cents=row.billed_cents,
        paid_12m_cents=row.paid_cents,
        priority=priority_of(figures, practice_rate),
        score_cents=priority_score_cents(figures, practice_rate),
        workflow=workflow or suggestion.workflow,
        suggested=workflow is None,
        reason=(strategy.note if strategy and workflow else suggestion.reason),
        chosen_at=strategy.created_at if strategy and workflow else None,
        chosen_by=by if workflow else "",
    )


# --- choosing ----------------------------------------------------------------------------------


def choose_workflow(
    db: Session, *, actor: Actor, practice_id: int, payer_id: int, workflow: str, note: str = ""
) -> m.PayerStrategy:
    """Add the practice's next choice of workflow for the payer (a new row), audited."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    chosen = parse_workflow(workflow)
    if chosen is None:
        names = ", ".join(w.value for w in Workflow)
        raise InvalidInput(f"workflow: {workflow!r} is not one of {names}")
    text = note.strip()
    if len(text) > NOTE_MAX:
        raise InvalidInput(f"note: at most {NOTE_MAX} characters")
    if db.get(m.Payer, payer_id) is None:
        raise NotFound(f"payer {payer_id} not found")
    previous = _latest_strategies(db, practice_id).get(payer_id)
    row = m.PayerStrategy(
        practice_id=practice_id,
        payer_id=payer_id,
        workflow=chosen.value,
        note=text,
        chosen_by_user_id=actor.user_id,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=practice_id,
        action="create",
        entity="payer_strategy",
        entity_id=row.id,
        before={"workflow": previous[0].workflow} if previous else None,
        after={"payer_id": payer_id, "workflow": chosen.value, "note": text},
        reason="payer workflow chosen",
    )
    return row


@dataclass(frozen=True)
class StrategyVersion:
    workflow: str
    note: str
    chosen_at: datetime
    chosen_by: str


def strategy_history(
    db: Session, *, actor: Actor, practice_id: int, payer_ids: Iterable[int] | None = None
) -> dict[int, list[StrategyVersion]]:
    """Payer id -> every workflow chosen for it, newest first."""
    actor.require(practice_id, Permission.RUN_REPORTS)
    query = (
        select(m.PayerStrategy, m.User.email)
        .outerjoin(m.User, m.User.id == m.PayerStrategy.chosen_by_user_id)
        .where(m.PayerStrategy.practice_id == practice_id)
        .order_by(m.PayerStrategy.id.desc())
    )
    if payer_ids is not None:
        query = query.where(m.PayerStrategy.payer_id.in_(list(payer_ids)))
    history: dict[int, list[StrategyVersion]] = defaultdict(list)
    for row, email in db.execute(query):
        history[row.payer_id].append(StrategyVersion(row.workflow, row.note, row.created_at, email or ""))
    return dict(history)
