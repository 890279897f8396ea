"""Deposits and bank reconciliation: did the money the payers and patients sent reach the bank?

A deposit is a bank line (money in): imported from the bank statement CSV
(:mod:`revcycle.adapters.bank_statement_csv`) or entered by hand. A payment is money received
(an insurance EFT or check from an 835 or by hand, a patient's cash, card or check). A deposit
*matches* the payments it carries when ``payments.deposit_id`` names it, and only when their
amounts add up to the deposit's to the cent, so the reconciliation's totals always balance:

* deposits = matched deposits + unmatched deposits;
* payments = matched payments + unmatched payments (remittances received, not seen at the bank);
* matched deposits = matched payments.

Automatic matching (:func:`match_deposits`) never guesses:

1. an EFT deposit matches the insurance EFT/ACH payment whose trace number (835 TRN02) is a
   word of the deposit's description or reference and whose amount is the deposit's (a
   patient's ACH payment the same way, by its reference);
2. otherwise a deposit matches one check of exactly its amount received 0 to 7 days before it,
   or all the checks received on one day when together they make its amount (one bank deposit
   of several checks); a day's patient cash the same way (it goes to the bank together), and a
   day's patient card payments as one settlement 1 to 4 days later.

A deposit with two possible answers, or a payment two deposits could claim, is left unmatched
and listed as ambiguous with its candidates; people settle it with a manual match. Every match
and unmatch is audited.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from revcycle.adapters.bank_statement_csv import MAX_DESCRIPTION, MAX_REFERENCE, BankLine, read_bank_statement
from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.domain.problems import Problem
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.money import format_cents
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.stored_files import store_file

__all__ = [
    "MATCH_WINDOW_DAYS",
    "Ambiguity",
    "DepositView",
    "MatchOption",
    "MatchReport",
    "PaymentView",
    "Reconciliation",
    "StatementImport",
    "create_deposit",
    "default_period",
    "deposit_view",
    "get_deposit",
    "import_statement",
    "list_deposits",
    "match_deposits",
    "reconciliation",
    "set_deposit_payments",
]

PERMISSION = Permission.POST_PAYMENTS
MATCH_WINDOW_DAYS = 7  # a check is deposited 0..7 days after it was received
# Days from receipt to the bank, per pool: checks and cash 0..7; a card batch settles from the
# next day to four days later (a Friday's batch on Tuesday after a holiday Monday).
WINDOWS: dict[str, tuple[int, int]] = {
    "check": (0, MATCH_WINDOW_DAYS),
    "cash": (0, MATCH_WINDOW_DAYS),
    "card": (1, 4),
}
EFT_METHODS = frozenset({"eft", "ach"})
DEFAULT_PERIOD_DAYS = 60
MIN_TRACE_CHARS = 4  # shorter references would be found in any text
MAX_PROBLEMS_SHOWN = 20
# Words of a bank line: an 835 trace sits between '*' in "TRN*1*<trace>*<payer id>\".
_WORD = re.compile(r"[A-Z0-9][A-Z0-9-]*", re.ASCII)


# --- views -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepositView:
    id: int
    deposited_on: date
    amount_cents: int
    reference: str
    description: str


@dataclass(frozen=True)
class PaymentView:
    id: int
    kind: str
    method: str
    amount_cents: int
    received_on: date
    reference: str
    payer_name: str
    deposit_id: int | None

    @property
    def label(self) -> str:
        source = self.payer_name if self.kind == "insurance" else "patient"
        return f"{source} {self.method} {self.reference}".strip()


@dataclass(frozen=True)
class MatchOption:
    """Payments that together could be one deposit: ``rule`` says why."""

    rule: str  # trace | check | cash | card | check_day | cash_day | card_day | manual
    payment_ids: tuple[int, ...]
    amount_cents: int


@dataclass(frozen=True)
class Ambiguity:
    """A deposit left unmatched: ``reason`` in words, and what it could have been."""

    deposit_id: int
    reason: str
    options: tuple[MatchOption, ...] = ()


@dataclass
class MatchReport:
    matched: list[tuple[int, MatchOption]] = field(default_factory=list)  # (deposit id, option)
    ambiguous: list[Ambiguity] = field(default_factory=list)

    @property
    def matched_payments(self) -> int:
        return sum(len(option.payment_ids) for _, option in self.matched)


@dataclass
class StatementImport:
    """What a bank statement import did, line by line."""

    filename: str
    created: list[DepositView] = field(default_factory=list)
    debits: list[BankLine] = field(default_factory=list)  # money out: not deposits
    duplicates: list[BankLine] = field(default_factory=list)  # already recorded
    stored_file_id: int | None = None


@dataclass
class MatchedDeposit:
    deposit: DepositView
    payments: list[PaymentView]

    @property
    def difference_cents(self) -> int:
        return self.deposit.amount_cents - sum(p.amount_cents for p in self.payments)


@dataclass
class Reconciliation:
    from_on: date
    to_on: date
    matched: list[MatchedDeposit]
    unmatched_deposits: list[DepositView]
    unmatched_payments: list[PaymentView]
    ambiguous: dict[int, Ambiguity]  # by deposit id: why an unmatched deposit waits

    @property
    def matched_deposits_cents(self) -> int:
        return sum(pair.deposit.amount_cents for pair in self.matched)

    @property
    def matched_payments_cents(self) -> int:
        return sum(p.amount_cents for pair in self.matched for p in pair.payments)

    @property
    def unmatched_deposits_cents(self) -> int:
        return sum(d.amount_cents for d in self.unmatched_deposits)

    @property
    def unmatched_payments_cents(self) -> int:
        return sum(p.amount_cents for p in self.unmatched_payments)

    @property
    def deposits_cents(self) -> int:
        return self.matched_deposits_cents + self.unmatched_deposits_cents

    @property
    def payments_cents(self) -> int:
        return self.matched_payments_cents + self.unmatched_payments_cents

    @property
    def balanced(self) -> bool:
        return self.matched_deposits_cents == self.matched_payments_cents


def deposit_view(row: m.Deposit) -> DepositView:
    return DepositView(row.id, row.deposited_on, row.amount_cents, row.reference, row.description)


# --- matching, as pure functions over plain rows -------------------------------------------------


@dataclass(frozen=True)
class _Deposit:
    id: int
    on: date
    amount_cents: int
    text: str  # description and reference


@dataclass(frozen=True)
class _Payment:
    id: int
    kind: str
    method: str
    amount_cents: int
    on: date
    reference: str


def _pool(payment: _Payment) -> str | None:
    """Which bank deposits a payment can be part of by amount and date (EFTs match by trace)."""
    if payment.method == "check":
        return "check"
    if payment.kind == "patient" and payment.method in ("cash", "card"):
        return payment.method
    return None


def plan_matches(deposits: Sequence[_Deposit], payments: Sequence[_Payment]) -> MatchReport:
    """The matches that are certain, and the deposits left waiting with their candidates."""
    report = MatchReport()
    pending = _match_traces(deposits, payments, report)
    taken = {pid for _, option in report.matched for pid in option.payment_ids}
    _match_amounts(pending, [p for p in payments if p.id not in taken], report)
    return report


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.upper()))


def _match_traces(
    deposits: Sequence[_Deposit], payments: Sequence[_Payment], report: MatchReport
) -> list[_Deposit]:
    """Rule 1; returns the deposits no trace was found in (for the amount rules)."""
    by_trace: dict[str, list[_Payment]] = defaultdict(list)
    for payment in payments:
        trace = payment.reference.strip().upper()
        if payment.method in EFT_METHODS and len(trace) >= MIN_TRACE_CHARS:
            by_trace[trace].append(payment)
    found: dict[int, list[_Payment]] = {}  # deposit id -> payments whose trace it names
    pending: list[_Deposit] = []
    for deposit in deposits:
        named = [p for word in sorted(_words(deposit.text)) for p in by_trace.get(word, ())]
        if named:
            found[deposit.id] = named
        else:
            pending.append(deposit)
    claims = Counter(
        p.id
        for deposit in deposits
        for p in found.get(deposit.id, ())
        if p.amount_cents == deposit.amount_cents
    )
    for deposit in deposits:
        hits = found.get(deposit.id)
        if hits is None:
            continue
        fits = [p for p in hits if p.amount_cents == deposit.amount_cents]
        options = tuple(MatchOption("trace", (p.id,), p.amount_cents) for p in hits)
        if len(fits) == 1 and claims[fits[0].id] == 1:
            report.matched.append((deposit.id, MatchOption("trace", (fits[0].id,), fits[0].amount_cents)))
        elif not fits:
            report.ambiguous.append(
                Ambiguity(deposit.id, "the trace number is found but the amount differs", options)
            )
        elif len(fits) > 1:
            report.ambiguous.append(
                Ambiguity(deposit.id, "several payments with this trace and amount", options)
            )
        else:
            report.ambiguous.append(
                Ambiguity(deposit.id, "another deposit names the same trace and amount", options)
            )
    return pending


def _amount_options(payments: Sequence[_Payment]) -> dict[int, list[tuple[date, MatchOption]]]:
    """By amount: every day's whole pool, and each single check (a check can go to the bank
    alone; a day's cash or card payments go together)."""
    days: dict[tuple[str, date], list[_Payment]] = defaultdict(list)
    for payment in payments:
        pool = _pool(payment)
        if pool is not None and payment.amount_cents > 0:
            days[(pool, payment.on)].append(payment)
    options: dict[int, list[tuple[date, MatchOption]]] = defaultdict(list)
    for (pool, day), group in sorted(days.items()):
        for p in group if pool == "check" or len(group) == 1 else ():
            options[p.amount_cents].append((day, MatchOption(pool, (p.id,), p.amount_cents)))
        if len(group) > 1:
            total = sum(p.amount_cents for p in group)
            ids = tuple(sorted(p.id for p in group))
            options[total].append((day, MatchOption(f"{pool}_day", ids, total)))
    return options


def _within(rule: str, received_on: date, deposited_on: date) -> bool:
    first, last = WINDOWS[rule.removesuffix("_day")]
    return first <= (deposited_on - received_on).days <= last


def _match_amounts(deposits: Sequence[_Deposit], payments: Sequence[_Payment], report: MatchReport) -> None:
    """Rule 2, by deduction: a deposit with one possible option takes it unless another deposit
    with one possible option wants the same payments (then neither does); the payments taken
    leave the other deposits' options, which may leave them one, and so on."""
    by_amount = _amount_options(payments)
    candidates: dict[int, list[MatchOption]] = {}
    for deposit in deposits:
        fitting = [
            option
            for day, option in by_amount.get(deposit.amount_cents, ())
            if _within(option.rule, day, deposit.on)
        ]
        if fitting:
            candidates[deposit.id] = fitting
    matched: dict[int, MatchOption] = {}
    while True:
        forced = {d: opts[0] for d, opts in candidates.items() if len(opts) == 1}
        wanted = Counter(pid for option in forced.values() for pid in option.payment_ids)
        settled = {d: o for d, o in forced.items() if all(wanted[pid] == 1 for pid in o.payment_ids)}
        if not settled:
            break
        matched |= settled
        taken = {pid for option in settled.values() for pid in option.payment_ids}
        candidates = {
            d: [o for o in opts if taken.isdisjoint(o.payment_ids)]
            for d, opts in candidates.items()
            if d not in settled
        }
    for deposit in deposits:
        if deposit.id in matched:
            report.matched.append((deposit.id, matched[deposit.id]))
            continue
        left = candidates.get(deposit.id)
        if left is None:
            continue
        if not left:
            reason = "the payments that could make it went to other deposits"
        elif len(left) > 1:
            reason = "several payments could make this deposit"
        else:
            reason = "its payments could also make another deposit"
        report.ambiguous.append(Ambiguity(deposit.id, reason, tuple(left)))


# --- reading the practice's rows --------------------------------------------------------------


def _unmatched_rows(db: Session, practice_id: int) -> tuple[list[_Deposit], list[_Payment]]:
    matched = select(m.Payment.deposit_id).where(
        m.Payment.practice_id == practice_id, m.Payment.deposit_id.is_not(None)
    )
    deposits = [
        _Deposit(row.id, row.deposited_on, row.amount_cents, f"{row.description} {row.reference}")
        for row in db.execute(
            select(
                m.Deposit.id,
                m.Deposit.deposited_on,
                m.Deposit.amount_cents,
                m.Deposit.description,
                m.Deposit.reference,
            )
            .where(
                m.Deposit.practice_id == practice_id, m.Deposit.id.not_in(matched), m.Deposit.amount_cents > 0
            )
            .order_by(m.Deposit.deposited_on, m.Deposit.id)
        )
    ]
    payments = [
        _Payment(row.id, row.kind, row.method, row.amount_cents, row.received_on, row.reference)
        for row in db.execute(
            select(
                m.Payment.id,
                m.Payment.kind,
                m.Payment.method,
                m.Payment.amount_cents,
                m.Payment.received_on,
                m.Payment.reference,
            )
            .where(
                m.Payment.practice_id == practice_id,
                m.Payment.deposit_id.is_(None),
                m.Payment.amount_cents > 0,
            )
            .order_by(m.Payment.received_on, m.Payment.id)
        )
    ]
    return deposits, payments


def _link(db: Session, deposit_id: int, payment_ids: Sequence[int], *, practice_id: int) -> None:
    """Point the payments at the deposit; each must still be unmatched (else someone else won)."""
    result = db.execute(
        update(m.Payment)
        .where(
            m.Payment.practice_id == practice_id,
            m.Payment.id.in_(payment_ids),
            m.Payment.deposit_id.is_(None),
        )
        .values(deposit_id=deposit_id)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != len(set(payment_ids)):  # type: ignore[attr-defined]
        raise Conflict(f"deposit {deposit_id}: a payment was matched meanwhile; run matching again")


def _client_ids(db: Session, payment_ids: Iterable[int]) -> list[int]:
    ids = list(payment_ids)
    if not ids:
        return []
    found = db.scalars(
        select(m.Payment.client_id).where(m.Payment.id.in_(ids), m.Payment.client_id.is_not(None))
    )
    return sorted({cid for cid in found if cid is not None})


# --- use cases ----------------------------------------------------------------------------------


def match_deposits(db: Session, *, actor: Actor, practice_id: int) -> MatchReport:
    """Match every unmatched deposit of the practice that has one certain answer (audited)."""
    actor.require(practice_id, PERMISSION)
    deposits, payments = _unmatched_rows(db, practice_id)
    report = plan_matches(deposits, payments)
    for deposit_id, option in report.matched:
        _link(db, deposit_id, option.payment_ids, practice_id=practice_id)
    if report.matched:
        audit.record_many(
            db,
            actor=actor,
            practice_id=practice_id,
            entries=[
                audit.Entry(
                    "deposit.match",
                    "deposit",
                    deposit_id,
                    client_ids=_client_ids(db, option.payment_ids),
                    after={"payment_ids": list(option.payment_ids), "rule": option.rule},
                    reason="automatic matching",
                )
                for deposit_id, option in report.matched
            ],
        )
    return report


def _deposit(db: Session, actor: Actor, deposit_id: int) -> m.Deposit:
    row = db.get(m.Deposit, deposit_id)
    if row is None or (not actor.is_system and row.practice_id not in actor.practice_ids):
        raise NotFound("deposit not found")
    actor.require(row.practice_id, PERMISSION)
    return row


def get_deposit(db: Session, *, actor: Actor, deposit_id: int) -> DepositView:
    """One deposit (NotFound for another practice's)."""
    return deposit_view(_deposit(db, actor, deposit_id))


def set_deposit_payments(
    db: Session, *, actor: Actor, deposit_id: int, payment_ids: Sequence[int], reason: str = ""
) -> list[int]:
    """Match the deposit to exactly these payments (none: unmatch it); returns the ids now on it.

    The payments must be the practice's, not on another deposit, and add up to the deposit.
    """
    deposit = _deposit(db, actor, deposit_id)
    wanted = sorted(set(payment_ids))
    before = sorted(db.scalars(select(m.Payment.id).where(m.Payment.deposit_id == deposit.id)))
    if wanted == before:
        return before
    rows = list(
        db.scalars(
            select(m.Payment).where(m.Payment.id.in_(wanted), m.Payment.practice_id == deposit.practice_id)
        )
    )
    missing = sorted(set(wanted) - {row.id for row in rows})
    if missing:
        raise InvalidInput(f"payment_ids: no payment {', '.join(map(str, missing))} in this practice")
    elsewhere = sorted(row.id for row in rows if row.deposit_id not in (None, deposit.id))
    if elsewhere:
        raise Conflict(f"payment_ids: {', '.join(map(str, elsewhere))} already matched to another deposit")
    total = sum(row.amount_cents for row in rows)
    if wanted and total != deposit.amount_cents:
        raise InvalidInput(
            f"payment_ids: the payments add up to {format_cents(total)}, "
            f"the deposit is {format_cents(deposit.amount_cents)}"
        )
    db.execute(
        update(m.Payment)
        .where(m.Payment.deposit_id == deposit.id, m.Payment.id.not_in(wanted))
        .values(deposit_id=None)
        .execution_options(synchronize_session="fetch")
    )
    _link(db, deposit.id, [pid for pid in wanted if pid not in before], practice_id=deposit.practice_id)
    audit.record(
        db,
        actor=actor,
        practice_id=deposit.practice_id,
        action="deposit.match" if wanted else "deposit.unmatch",
        entity="deposit",
        entity_id=deposit.id,
        client_ids=_client_ids(db, set(before) | set(wanted)),
        before={"payment_ids": before},
        after={"payment_ids": wanted},
        reason=reason or "by hand",
    )
    return wanted


def _check_text(field_name: str, value: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{field_name}: is longer than {limit} characters")
    return value


def create_deposit(
    db: Session,
    *,
    actor: Actor,
    practice_id: int,
    deposited_on: date,
    amount_cents: int,
    reference: str = "",
    description: str = "",
) -> m.Deposit:
    """A deposit entered by hand (money in: the amount is positive)."""
    actor.require(practice_id, PERMISSION)
    if isinstance(amount_cents, bool) or amount_cents <= 0:
        raise InvalidInput(f"amount_cents: {amount_cents} is not money in (a deposit is more than $0.00)")
    row = m.Deposit(
        practice_id=practice_id,
        deposited_on=deposited_on,
        amount_cents=amount_cents,
        reference=_check_text("reference", reference, MAX_REFERENCE),
        description=_check_text("description", description, MAX_DESCRIPTION),
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=practice_id,
        action="deposit.create",
        entity="deposit",
        entity_id=row.id,
        after={"deposited_on": deposited_on, "amount_cents": amount_cents, "reference": row.reference},
        reason="entered by hand",
    )
    return row


def _refuse(problems: Sequence[Problem], filename: str) -> None:
    if not problems:
        return
    shown = "; ".join(f"{p.where}: {p.message}" for p in problems[:MAX_PROBLEMS_SHOWN])
    more = f" (and {len(problems) - MAX_PROBLEMS_SHOWN} more)" if len(problems) > MAX_PROBLEMS_SHOWN else ""
    raise InvalidInput(f"{filename}: {len(problems)} problem(s), nothing was saved: {shown}{more}", problems)


def import_statement(
    db: Session, *, actor: Actor, practice_id: int, data: bytes, filename: str
) -> StatementImport:
    """The statement's credits as deposits, all or nothing; debits and lines already recorded
    (same date, amount and description) are skipped and listed. The file is kept."""
    actor.require(practice_id, PERMISSION)
    lines, problems = read_bank_statement(data, filename)
    _refuse(problems, filename)
    result = StatementImport(filename)
    credits = [line for line in lines if line.is_credit]
    result.debits = [line for line in lines if not line.is_credit]
    fresh = _not_yet_recorded(db, practice_id, credits, result)
    stored = store_file(
        db,
        actor=actor,
        practice_id=practice_id,
        kind="bank_csv",
        direction="in",
        filename=filename,
        content=data,
    )
    result.stored_file_id = stored.id
    rows = [
        m.Deposit(
            practice_id=practice_id,
            deposited_on=line.posted_on,
            amount_cents=line.amount_cents,
            reference=line.reference,
            description=line.description,
        )
        for line in fresh
    ]
    db.add_all(rows)
    db.flush()
    result.created = [deposit_view(row) for row in rows]
    audit.record(
        db,
        actor=actor,
        practice_id=practice_id,
        action="deposit.import",
        entity="stored_file",
        entity_id=stored.id,
        after={
            "filename": filename,
            "deposits": len(rows),
            "amount_cents": sum(row.amount_cents for row in rows),
            "debits_skipped": len(result.debits),
            "duplicates_skipped": len(result.duplicates),
        },
        reason="bank statement import",
    )
    return result


def _not_yet_recorded(
    db: Session, practice_id: int, credits: Sequence[BankLine], result: StatementImport
) -> list[BankLine]:
    """Credits beyond those already recorded: a key seen twice in the file and once in the
    database imports once more, so re-importing a statement adds nothing."""
    if not credits:
        return []
    first, last = min(line.posted_on for line in credits), max(line.posted_on for line in credits)
    recorded = Counter(
        (row.deposited_on, row.amount_cents, row.description)
        for row in db.execute(
            select(m.Deposit.deposited_on, m.Deposit.amount_cents, m.Deposit.description).where(
                m.Deposit.practice_id == practice_id,
                m.Deposit.deposited_on >= first,
                m.Deposit.deposited_on <= last,
            )
        )
    )
    fresh: list[BankLine] = []
    for line in credits:
        key = (line.posted_on, line.amount_cents, line.description)
        if recorded[key] > 0:
            recorded[key] -= 1
            result.duplicates.append(line)
        else:
            fresh.append(line)
    return fresh


def list_deposits(
    db: Session, *, actor: Actor, practice_id: int, from_on: date | None = None, to_on: date | None = None
) -> list[tuple[DepositView, list[int]]]:
    """The practice's deposits (newest first), each with the ids of the payments it matches."""
    actor.require(practice_id, PERMISSION)
    query = select(m.Deposit).where(m.Deposit.practice_id == practice_id)
    if from_on is not None:
        query = query.where(m.Deposit.deposited_on >= from_on)
    if to_on is not None:
        query = query.where(m.Deposit.deposited_on <= to_on)
    rows = list(db.scalars(query.order_by(m.Deposit.deposited_on.desc(), m.Deposit.id.desc())))
    links = _payments_of(db, [row.id for row in rows])
    return [(deposit_view(row), [p.id for p in links.get(row.id, [])]) for row in rows]


_PAYMENT_COLUMNS = (
    m.Payment.id,
    m.Payment.kind,
    m.Payment.method,
    m.Payment.amount_cents,
    m.Payment.received_on,
    m.Payment.reference,
    m.Payer.name,
    m.Payment.deposit_id,
)


def _payment_view(row: Any) -> PaymentView:  # a row of _PAYMENT_COLUMNS
    pid, kind, method, amount, received_on, reference, payer_name, deposit_id = row
    return PaymentView(pid, kind, method, amount, received_on, reference, payer_name or "", deposit_id)


def _payments_of(db: Session, deposit_ids: Sequence[int]) -> dict[int, list[PaymentView]]:
    out: dict[int, list[PaymentView]] = defaultdict(list)
    for start in range(0, len(deposit_ids), 1000):
        chunk = deposit_ids[start : start + 1000]
        query = (
            select(*_PAYMENT_COLUMNS)
            .outerjoin(m.Payer, m.Payer.id == m.Payment.payer_id)
            .where(m.Payment.deposit_id.in_(chunk))
            .order_by(m.Payment.received_on, m.Payment.id)
        )
        for row in db.execute(query):
            view = _payment_view(row)
            assert view.deposit_id is not None
            out[view.deposit_id].append(view)
    return out


def default_period(db: Session, practice_id: int) -> tuple[date, date]:
    """The last :data:`DEFAULT_PERIOD_DAYS` days up to the practice's today."""
    practice = db.get(m.Practice, practice_id)
    zone = ZoneInfo(practice.timezone) if practice is not None else UTC
    today = datetime.now(zone).date()
    return today - timedelta(days=DEFAULT_PERIOD_DAYS), today


def reconciliation(
    db: Session, *, actor: Actor, practice_id: int, from_on: date | None = None, to_on: date | None = None
) -> Reconciliation:
    """Deposits dated and payments received from ``from_on`` to ``to_on`` (by default the last
    60 days up to the practice's today), matched or not.

    A matched pair belongs to its deposit's date (a check received on the 30th and deposited on
    the 2nd is in the 2nd's period), so its payments count with it whatever their own date.
    Payments of $0.00 (an 835 that moved no money) are left out: nothing reaches the bank.
    """
    actor.require(practice_id, PERMISSION)
    first, last = default_period(db, practice_id)
    to_on = to_on or last
    from_on = from_on or (to_on - (last - first))
    if to_on < from_on:
        raise InvalidInput(f"to_on: {to_on} is before from_on {from_on}")
    deposits = [
        deposit_view(row)
        for row in db.scalars(
            select(m.Deposit)
            .where(
                m.Deposit.practice_id == practice_id,
                m.Deposit.deposited_on >= from_on,
                m.Deposit.deposited_on <= to_on,
            )
            .order_by(m.Deposit.deposited_on, m.Deposit.id)
        )
    ]
    links = _payments_of(db, [d.id for d in deposits])
    unmatched_payments = [
        _payment_view(row)
        for row in db.execute(
            select(*_PAYMENT_COLUMNS)
            .outerjoin(m.Payer, m.Payer.id == m.Payment.payer_id)
            .where(
                m.Payment.practice_id == practice_id,
                m.Payment.deposit_id.is_(None),
                m.Payment.received_on >= from_on,
                m.Payment.received_on <= to_on,
                m.Payment.amount_cents != 0,
            )
            .order_by(m.Payment.received_on, m.Payment.id)
        )
    ]
    unmatched_deposits = [d for d in deposits if d.id not in links]
    waiting = {a.deposit_id: a for a in _pending_ambiguities(db, practice_id, unmatched_deposits)}
    return Reconciliation(
        from_on=from_on,
        to_on=to_on,
        matched=[MatchedDeposit(d, links[d.id]) for d in deposits if d.id in links],
        unmatched_deposits=unmatched_deposits,
        unmatched_payments=unmatched_payments,
        ambiguous=waiting,
    )


def _pending_ambiguities(db: Session, practice_id: int, shown: Sequence[DepositView]) -> list[Ambiguity]:
    """Why each shown unmatched deposit waits (a dry run of the matching), with candidates;
    one that matching would now settle shows that one option."""
    if not shown:
        return []
    deposits, payments = _unmatched_rows(db, practice_id)
    report = plan_matches(deposits, payments)
    ids = {d.id for d in shown}
    found = [a for a in report.ambiguous if a.deposit_id in ids]
    found += [
        Ambiguity(deposit_id, "matching would settle it", (option,))
        for deposit_id, option in report.matched
        if deposit_id in ids
    ]
    return found
