"""The money ledger, stored: transactions of postings, with balances kept beside them.

:func:`post_transaction` is the one way money enters the books. It refuses lines that do not
sum to zero (the domain's :func:`~revcycle.domain.ledger.validate_lines`) and dates inside a
closed month; it writes the transaction, its postings, every balance row the postings move
(per account practice-wide, and per charge, claim, client and payer) and one audit row, all
in the caller's transaction, so the books and their balances never disagree.

Re-posting the same thing must change nothing (an 835 read twice, a retried request): a
transaction may carry an idempotency key; the same key with the same content returns the
first transaction, the same key with different content is a conflict.

Nothing is edited or deleted (the database refuses it); :func:`reverse_transaction` posts
the exact negation. :func:`check_ledger` recomputes every balance from the postings with
GROUP BY queries and lists every disagreement to the cent.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, insert, literal_column, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revcycle.db.models import AccountingPeriod, LedgerBalance, LedgerTransaction, Posting
from revcycle.db.types import utcnow
from revcycle.domain.ledger import (
    SCOPE_FIELDS,
    Account,
    BalanceScope,
    PostingLine,
    fingerprint,
    negate,
    validate_lines,
)
from revcycle.domain.ledger_events import TransactionKind
from revcycle.domain.permissions import Permission
from revcycle.domain.problems import Problem, has_errors
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.money import format_cents
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import chunks, rows_by_id, table_of
from revcycle.services.bulk_writes import execute_many, insert_many

__all__ = [
    "BalanceMismatch",
    "LedgerCheck",
    "NewTransaction",
    "balance",
    "balances_for",
    "check_ledger",
    "close_period",
    "lines_of",
    "post_transaction",
    "post_transaction_ids",
    "post_transactions",
    "reverse_transaction",
]

_K = TransactionKind
# Who may post what; kinds not named here need the general posting permission.
_PERMISSION_FOR_KIND: Mapping[str, Permission] = {
    _K.CHARGE: Permission.ENTER_CHARGES,
    _K.OPENING_BALANCE: Permission.ENTER_CHARGES,
    _K.PAYER_CORRECTION: Permission.ENTER_CHARGES,
    _K.PATIENT_PAYMENT: Permission.POST_PATIENT_PAYMENTS,
    _K.WRITE_OFF: Permission.WRITE_OFF,
    _K.REFUND: Permission.APPROVE_REQUESTS,
    _K.REFUND_PAID: Permission.APPROVE_REQUESTS,
}
_ACCOUNT_SCOPE_ID = 0
# Which posting column each scope's balance is kept by (None: per account, practice-wide).
_SCOPE_COLUMNS: Mapping[BalanceScope, Any] = {
    BalanceScope.ACCOUNT: None,
    BalanceScope.CHARGE: Posting.charge_id,
    BalanceScope.CLAIM: Posting.claim_id,
    BalanceScope.CLIENT: Posting.client_id,
    BalanceScope.PAYER: Posting.payer_id,
}


# --- posting -------------------------------------------------------------------------------


def post_transaction(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    kind: str,
    accounting_on: date,
    lines: Iterable[PostingLine],
    memo: str = "",
    idempotency_key: str | None = None,
    reverses_transaction_id: int | None = None,
    payment_id: int | None = None,
) -> LedgerTransaction:
    """Post a balanced transaction (or return the first one posted with the same key)."""
    actor.require(practice_id, _PERMISSION_FOR_KIND.get(kind, Permission.POST_PAYMENTS))
    lines = tuple(lines)
    _require_balanced(lines)
    new = LedgerTransaction(
        practice_id=practice_id,
        kind=str(kind),
        accounting_on=accounting_on,
        memo=memo,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint(str(kind), accounting_on, lines, memo),
        reverses_transaction_id=reverses_transaction_id,
        payment_id=payment_id,
        created_by_user_id=actor.user_id,
    )
    if idempotency_key is not None:
        first = _find_by_key(session, practice_id, idempotency_key)
        if first is not None:
            _same_or_conflict(_Content.of(first), _Content.of(new))
            return first
    _refuse_closed_period(session, practice_id, accounting_on)
    first = _insert_transaction(session, new)
    if first is not None:  # another writer took the key meanwhile
        _same_or_conflict(_Content.of(first), _Content.of(new))
        return first
    row = _Content.of(new).row
    _insert_postings_many(session, [(row, lines)])
    _apply_balances(session, practice_id, lines)
    audit.record_many(session, actor=actor, practice_id=practice_id, entries=[_posting_entry(row, lines)])
    return new


@dataclass(frozen=True)
class NewTransaction:
    """One transaction for :func:`post_transactions`."""

    kind: str
    accounting_on: date
    lines: tuple[PostingLine, ...]
    memo: str = ""
    idempotency_key: str | None = None
    reverses_transaction_id: int | None = None
    payment_id: int | None = None


def post_transactions(
    session: Session, *, actor: Actor, practice_id: int, transactions: Sequence[NewTransaction]
) -> list[LedgerTransaction]:
    """:func:`post_transaction_ids` with the transactions as rows."""
    ids = post_transaction_ids(session, actor=actor, practice_id=practice_id, transactions=transactions)
    found = rows_by_id(session, LedgerTransaction, set(ids))
    return [found[txn_id] for txn_id in ids]


def post_transaction_ids(
    session: Session, *, actor: Actor, practice_id: int, transactions: Sequence[NewTransaction]
) -> list[int]:
    """:func:`post_transaction` for many transactions at once (an 835 of thousands of claims):
    the same rows — transactions, postings, balances, one audit row each — in a few statements,
    with no ORM objects made. Returns each transaction's id, in order.

    Each is checked as :func:`post_transaction` checks it (permission for its kind, balanced
    lines, an open period) before anything is written. A key already used returns the first
    transaction when the content is the same and is a conflict otherwise; a key taken by a
    concurrent writer in between fails the unit of work (callers serialize on something of
    their own first, as the remittance posting does on the payment)."""
    for kind in {str(t.kind) for t in transactions}:
        actor.require(practice_id, _PERMISSION_FOR_KIND.get(kind, Permission.POST_PAYMENTS))
    for day in {t.accounting_on for t in transactions}:
        _refuse_closed_period(session, practice_id, day)
    found: dict[str, _Content] = {}
    keys = [t.idempotency_key for t in transactions if t.idempotency_key is not None]
    for chunk in chunks(keys):
        query = select(LedgerTransaction).where(
            LedgerTransaction.practice_id == practice_id, LedgerTransaction.idempotency_key.in_(chunk)
        )
        found.update((txn.idempotency_key or "", _Content.of(txn)) for txn in session.scalars(query))
    now = utcnow()
    rows: list[dict[str, Any]] = []
    fresh: list[tuple[dict[str, Any], tuple[PostingLine, ...]]] = []
    order: list[_Content] = []
    for spec in transactions:
        _require_balanced(spec.lines)
        row = {
            "practice_id": practice_id,
            "kind": str(spec.kind),
            "accounting_on": spec.accounting_on,
            "memo": spec.memo,
            "idempotency_key": spec.idempotency_key,
            "fingerprint": fingerprint(str(spec.kind), spec.accounting_on, spec.lines, spec.memo),
            "reverses_transaction_id": spec.reverses_transaction_id,
            "payment_id": spec.payment_id,
            "created_by_user_id": actor.user_id,
            "created_at": now,
        }
        content = _Content.of_row(row)
        first = found.get(spec.idempotency_key) if spec.idempotency_key else None
        if first is not None:
            order.append(_same_or_conflict(first, content))
            continue
        if spec.idempotency_key is not None:
            found[spec.idempotency_key] = content
        rows.append(row)
        fresh.append((row, spec.lines))
        order.append(content)
    if rows:
        _insert_returning_ids(session, rows)
        _insert_postings_many(session, fresh)
        _apply_balances(session, practice_id, [line for _, lines in fresh for line in lines])
        audit.record_many(
            session,
            actor=actor,
            practice_id=practice_id,
            entries=[_posting_entry(row, lines) for row, lines in fresh],
        )
    return [content.id for content in order]


def _insert_returning_ids(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the transactions' rows, setting each one's "id".

    Rows told apart by their idempotency keys (an 835's are) go in batches of many rows per
    INSERT ... RETURNING, each id matched back by its key; otherwise RETURNING must come back
    in the rows' order, which SQLite can only do one row per statement."""
    table = table_of(LedgerTransaction)
    keys = [row["idempotency_key"] for row in rows]
    if None in keys:
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        for row, txn_id in zip(rows, session.scalars(statement, rows).all(), strict=True):
            row["id"] = txn_id
        return
    by_key = {row["idempotency_key"]: row for row in rows}
    statement = insert(table).returning(table.c.id, table.c.idempotency_key)
    for txn_id, key in session.execute(statement, rows):
        by_key[key]["id"] = txn_id


@dataclass
class _Content:
    """What two postings under one idempotency key must share to be the same."""

    row: dict[str, Any]

    @classmethod
    def of(cls, txn: LedgerTransaction) -> _Content:
        return cls({column: getattr(txn, column) for column in _COLUMNS})

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> _Content:
        return cls(row)

    @property
    def id(self) -> int:
        return int(self.row["id"])


_SAME = ("fingerprint", "reverses_transaction_id", "payment_id", "idempotency_key")
_COLUMNS = ("id", "practice_id", "kind", "accounting_on", "memo", *_SAME)


def _require_balanced(lines: Sequence[PostingLine]) -> None:
    problems = validate_lines(lines)
    if has_errors(problems):
        detail = "; ".join(f"{problem.where}: {problem.message}" for problem in problems)
        raise InvalidInput(f"ledger transaction refused: {detail}", problems)


def _find_by_key(session: Session, practice_id: int, key: str) -> LedgerTransaction | None:
    return session.scalars(
        select(LedgerTransaction).where(
            LedgerTransaction.practice_id == practice_id, LedgerTransaction.idempotency_key == key
        )
    ).one_or_none()


def _same_or_conflict(first: _Content, new: _Content) -> _Content:
    if all(first.row[name] == new.row[name] for name in _SAME):
        return first
    raise Conflict(
        f"idempotency key {new.row['idempotency_key']!r} was already used by transaction "
        f"{first.row['id']} ({first.row['kind']} on {first.row['accounting_on']}) with different content"
    )


def _refuse_closed_period(session: Session, practice_id: int, accounting_on: date) -> None:
    period = session.scalars(
        select(AccountingPeriod).where(
            AccountingPeriod.practice_id == practice_id,
            AccountingPeriod.starts_on <= accounting_on,
            AccountingPeriod.ends_on >= accounting_on,
        )
    ).first()
    if period is not None:
        raise InvalidInput(
            f"accounting date {accounting_on} falls in the closed period "
            f"{period.starts_on:%Y-%m} ({period.starts_on} to {period.ends_on}); "
            "date the entry in an open period"
        )


def _insert_transaction(session: Session, new: LedgerTransaction) -> LedgerTransaction | None:
    """Insert the transaction row; if its idempotency key was taken meanwhile, the first."""
    if new.idempotency_key is None:
        session.add(new)
        session.flush()
        return None
    try:
        with session.begin_nested():
            session.add(new)
            session.flush()
    except IntegrityError:
        first = _find_by_key(session, new.practice_id, new.idempotency_key)
        if first is None:
            raise
        return first
    return None


def _insert_postings_many(
    session: Session, written: Sequence[tuple[Mapping[str, Any], Sequence[PostingLine]]]
) -> None:
    """Each written transaction's (its row's values) postings, through the driver's executemany."""
    created_at = utcnow()
    rows = [
        (
            txn["practice_id"],
            txn["id"],
            str(line.account),
            line.amount_cents,
            line.charge_id,
            line.claim_id,
            line.client_id,
            line.coverage_id,
            line.guarantor_id,
            line.payment_id if line.payment_id is not None else txn["payment_id"],
            line.payer_id,
            txn["accounting_on"],
            created_at,
        )
        for txn, lines in written
        for line in lines
    ]
    insert_many(session, table_of(Posting), rows, columns=_POSTING_COLUMNS)


_POSTING_COLUMNS = (
    "practice_id",
    "transaction_id",
    "account",
    "amount_cents",
    "charge_id",
    "claim_id",
    "client_id",
    "coverage_id",
    "guarantor_id",
    "payment_id",
    "payer_id",
    "accounting_on",
    "created_at",
)


_SCOPE_TEXT = {scope: str(scope) for scope in BalanceScope}


def _balance_deltas(lines: Iterable[PostingLine]) -> dict[tuple[str, int, str], int]:
    """What the lines add to each balance (scope, scope id, account): per account, and per
    each charge, claim, client and payer a line names (:func:`balance_keys`, written out for
    an 835's hundreds of thousands of lines; a test holds the two equal)."""
    deltas: dict[tuple[str, int, str], int] = defaultdict(int)
    account_scope = _SCOPE_TEXT[BalanceScope.ACCOUNT]
    for line in lines:
        account, amount = str(line.account), line.amount_cents
        deltas[(account_scope, _ACCOUNT_SCOPE_ID, account)] += amount
        for scope, name in _SCOPED_BY:
            scope_id = getattr(line, name)
            if scope_id is not None:
                deltas[(scope, scope_id, account)] += amount
    return {key: delta for key, delta in deltas.items() if delta}


_SCOPED_BY = tuple((_SCOPE_TEXT[scope], name) for scope, name in SCOPE_FIELDS)


def _apply_balances(session: Session, practice_id: int, lines: Iterable[PostingLine]) -> None:
    """Add each delta to its balance row with an atomic upsert (one executemany).

    ``INSERT ... ON CONFLICT DO UPDATE SET balance = balance + delta`` is atomic on both
    databases; rows are touched in sorted order so that concurrent writers lock them in the
    same order and cannot deadlock.
    """
    deltas = _balance_deltas(lines)
    if not deltas:
        return
    now = utcnow()
    rows = [
        {
            "practice_id": practice_id,
            "scope": scope,
            "scope_id": scope_id,
            "account": account,
            "balance_cents": delta,
            "updated_at": now,
        }
        for (scope, scope_id, account), delta in sorted(deltas.items())
    ]
    upsert_into = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = upsert_into(LedgerBalance)
    upsert = statement.on_conflict_do_update(
        index_elements=["practice_id", "scope", "scope_id", "account"],
        set_={
            "balance_cents": LedgerBalance.balance_cents + statement.excluded.balance_cents,
            "updated_at": statement.excluded.updated_at,
        },
    )
    execute_many(session, upsert, rows, columns=list(rows[0]))


def _posting_entry(txn: Mapping[str, Any], lines: Sequence[PostingLine]) -> audit.Entry:
    """The audit row of a written transaction (its row's values)."""
    after = {
        "kind": txn["kind"],
        "accounting_on": txn["accounting_on"].isoformat(),
        "debits_cents": sum(line.amount_cents for line in lines if line.amount_cents > 0),
        "lines": [[str(line.account), line.amount_cents] for line in lines],
        "reverses_transaction_id": txn["reverses_transaction_id"],
        "idempotency_key": txn["idempotency_key"],
    }
    return audit.Entry(
        action="create",
        entity="ledger_transaction",
        entity_id=txn["id"],
        client_ids={line.client_id for line in lines if line.client_id is not None},
        after=after,
        reason=txn["memo"],
    )


# --- reversing -----------------------------------------------------------------------------


def lines_of(session: Session, transaction_id: int) -> tuple[PostingLine, ...]:
    """A stored transaction's postings as domain lines, in the order they were written."""
    postings = session.scalars(
        select(Posting).where(Posting.transaction_id == transaction_id).order_by(Posting.id)
    )
    return tuple(
        PostingLine(
            account=Account(posting.account),
            amount_cents=posting.amount_cents,
            charge_id=posting.charge_id,
            claim_id=posting.claim_id,
            client_id=posting.client_id,
            coverage_id=posting.coverage_id,
            guarantor_id=posting.guarantor_id,
            payment_id=posting.payment_id,
            payer_id=posting.payer_id,
        )
        for posting in postings
    )


def reverse_transaction(
    session: Session, *, actor: Actor, transaction_id: int, accounting_on: date, reason: str
) -> LedgerTransaction:
    """Post the exact negation of a transaction, linked to it; a transaction reverses once."""
    original = session.get(LedgerTransaction, transaction_id)
    if original is None or not _visible_to(actor, original.practice_id):
        raise NotFound(f"ledger transaction {transaction_id} not found")
    actor.require(original.practice_id, _PERMISSION_FOR_KIND.get(original.kind, Permission.POST_PAYMENTS))
    if not reason.strip():
        raise InvalidInput("a reversal needs a reason")
    earlier = session.scalars(
        select(LedgerTransaction.id).where(LedgerTransaction.reverses_transaction_id == transaction_id)
    ).first()
    if earlier is not None:
        raise Conflict(f"transaction {transaction_id} was already reversed by transaction {earlier}")
    return post_transaction(
        session,
        actor=actor,
        practice_id=original.practice_id,
        kind=original.kind if original.kind in _PERMISSION_FOR_KIND else _K.REVERSAL,
        accounting_on=accounting_on,
        lines=negate(lines_of(session, transaction_id)),
        memo=f"reversal of transaction {transaction_id}: {reason.strip()}",
        # The key makes two concurrent reversals of the same transaction collide.
        idempotency_key=f"reversal-of:{transaction_id}",
        reverses_transaction_id=transaction_id,
        payment_id=original.payment_id,
    )


def _visible_to(actor: Actor, practice_id: int) -> bool:
    return actor.is_system or practice_id in actor.practice_ids


# --- periods -------------------------------------------------------------------------------


def close_period(
    session: Session, *, actor: Actor, practice_id: int, year: int, month: int
) -> AccountingPeriod:
    """Close a calendar month: nothing new may be dated in it afterwards."""
    actor.require(practice_id, Permission.CLOSE_PERIOD)
    if not 1 <= month <= 12 or not 1900 <= year <= 9999:
        raise InvalidInput(f"month: {year}-{month:02d} is not a calendar month")
    starts_on = date(year, month, 1)
    ends_on = date(year, month, calendar.monthrange(year, month)[1])
    existing = session.scalars(
        select(AccountingPeriod).where(
            AccountingPeriod.practice_id == practice_id, AccountingPeriod.starts_on == starts_on
        )
    ).first()
    if existing is not None:
        raise Conflict(f"the period {starts_on:%Y-%m} is already closed")
    period = AccountingPeriod(
        practice_id=practice_id, starts_on=starts_on, ends_on=ends_on, closed_by_user_id=actor.user_id
    )
    session.add(period)
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=practice_id,
        action="close",
        entity="accounting_period",
        entity_id=period.id,
        after={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
    )
    return period


# --- balances ------------------------------------------------------------------------------


def balance(
    session: Session, practice_id: int, scope: BalanceScope, scope_id: int | None, account: Account
) -> int:
    """One kept balance in cents (0 when nothing was ever posted to it)."""
    value = session.scalar(
        select(LedgerBalance.balance_cents).where(
            LedgerBalance.practice_id == practice_id,
            LedgerBalance.scope == str(scope),
            LedgerBalance.scope_id == (scope_id or _ACCOUNT_SCOPE_ID),
            LedgerBalance.account == str(account),
        )
    )
    return value or 0


def balances_for(
    session: Session,
    practice_id: int,
    scope: BalanceScope,
    scope_ids: Iterable[int] | None = None,
    accounts: Iterable[Account] | None = None,
) -> dict[int, dict[Account, int]]:
    """Non-zero kept balances by scope id, then account (all ids of the scope when None)."""
    query = select(LedgerBalance.scope_id, LedgerBalance.account, LedgerBalance.balance_cents).where(
        LedgerBalance.practice_id == practice_id,
        LedgerBalance.scope == str(scope),
        LedgerBalance.balance_cents != 0,
    )
    if scope_ids is not None:
        query = query.where(LedgerBalance.scope_id.in_(list(scope_ids)))
    if accounts is not None:
        query = query.where(LedgerBalance.account.in_([str(account) for account in accounts]))
    found: dict[int, dict[Account, int]] = defaultdict(dict)
    for scope_id, account, cents in session.execute(query):
        found[scope_id][Account(account)] = cents
    return dict(found)


# --- checking ------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class BalanceMismatch:
    """A kept balance that disagrees with the sum of its postings."""

    practice_id: int
    scope: str
    scope_id: int
    account: str
    kept_cents: int
    recomputed_cents: int

    def __str__(self) -> str:
        return (
            f"practice {self.practice_id}: {self.scope} {self.scope_id} {self.account}: "
            f"balance row says {format_cents(self.kept_cents)}, "
            f"postings sum to {format_cents(self.recomputed_cents)}"
        )


@dataclass
class LedgerCheck:
    """What `revcycle ledger check` found: empty lists mean the books are right."""

    transactions: int = 0
    postings: int = 0
    balance_rows: int = 0
    unbalanced_transactions: list[tuple[int, int]] = field(default_factory=list)  # (id, sum)
    unbalanced_books: list[tuple[int, int]] = field(default_factory=list)  # (practice, sum)
    balance_mismatches: list[BalanceMismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.unbalanced_transactions or self.unbalanced_books or self.balance_mismatches)

    def __iter__(self) -> Iterator[Problem]:
        """Iterating a check yields its problems (nothing when the books are right)."""
        return iter(self.problems())

    def problems(self) -> list[Problem]:
        found = [
            Problem("ledger.unbalanced", f"transaction {txn_id}", _sum_message(total))
            for txn_id, total in self.unbalanced_transactions
        ]
        found += [
            Problem("ledger.books_unbalanced", f"practice {practice_id}", _sum_message(total))
            for practice_id, total in self.unbalanced_books
        ]
        found += [
            Problem("ledger.balance_mismatch", f"{m.scope} {m.scope_id} {m.account}", str(m))
            for m in self.balance_mismatches
        ]
        return found


def _sum_message(total: int) -> str:
    return f"postings sum to {format_cents(total)} instead of zero"


def check_ledger(session: Session, practice_id: int | None = None) -> LedgerCheck:
    """Recompute every balance from the postings and compare; check every sum is zero."""
    result = LedgerCheck(
        transactions=_count(session, LedgerTransaction.practice_id, practice_id),
        postings=_count(session, Posting.practice_id, practice_id),
        balance_rows=_count(session, LedgerBalance.practice_id, practice_id),
    )
    result.unbalanced_transactions = _unbalanced_transactions(session, practice_id)
    result.unbalanced_books = _unbalanced_books(session, practice_id)
    for scope in BalanceScope:
        result.balance_mismatches += _mismatches(session, scope, practice_id)
    result.balance_mismatches += _unknown_scopes(session, practice_id)
    return result


def _in_practice(column: Any, practice_id: int | None) -> ColumnElement[bool]:
    return column == practice_id if practice_id is not None else true()


def _count(session: Session, column: Any, practice_id: int | None) -> int:
    query = select(func.count()).select_from(column.table).where(_in_practice(column, practice_id))
    return session.scalar(query) or 0


def _unbalanced_transactions(session: Session, practice_id: int | None) -> list[tuple[int, int]]:
    total = func.coalesce(func.sum(Posting.amount_cents), 0)
    query = (
        select(LedgerTransaction.id, total)
        .outerjoin(Posting, Posting.transaction_id == LedgerTransaction.id)
        .where(_in_practice(LedgerTransaction.practice_id, practice_id))
        .group_by(LedgerTransaction.id)
        # a transaction without postings is as wrong as an unbalanced one
        .having((total != 0) | (func.count(Posting.id) == 0))
        .order_by(LedgerTransaction.id)
    )
    return [(txn_id, int(cents)) for txn_id, cents in session.execute(query)]


def _unbalanced_books(session: Session, practice_id: int | None) -> list[tuple[int, int]]:
    total = func.sum(Posting.amount_cents)
    query = (
        select(Posting.practice_id, total)
        .where(_in_practice(Posting.practice_id, practice_id))
        .group_by(Posting.practice_id)
        .having(total != 0)
    )
    return [(practice, int(cents)) for practice, cents in session.execute(query)]


def _recomputed(scope: BalanceScope, practice_id: int | None) -> Select[Any]:
    """The sum of postings per (practice, scope id, account) for one scope."""
    column = _SCOPE_COLUMNS[scope]
    total = func.sum(Posting.amount_cents).label("total")
    if column is None:
        scope_id: Any = literal_column(str(_ACCOUNT_SCOPE_ID))
        query = select(Posting.practice_id, scope_id.label("scope_id"), Posting.account, total)
        query = query.group_by(Posting.practice_id, Posting.account)
    else:
        query = select(Posting.practice_id, column.label("scope_id"), Posting.account, total)
        query = query.where(column.is_not(None)).group_by(Posting.practice_id, column, Posting.account)
    return query.where(_in_practice(Posting.practice_id, practice_id))


def _mismatches(session: Session, scope: BalanceScope, practice_id: int | None) -> list[BalanceMismatch]:
    sums = _recomputed(scope, practice_id).subquery("sums")
    kept = LedgerBalance
    joined = and_(
        kept.practice_id == sums.c.practice_id,
        kept.scope == str(scope),
        kept.scope_id == sums.c.scope_id,
        kept.account == sums.c.account,
    )
    # Sums without a matching row (or with a different one) ...
    missing_or_wrong = (
        select(sums.c.practice_id, sums.c.scope_id, sums.c.account, kept.balance_cents, sums.c.total)
        .outerjoin(kept, joined)
        .where(func.coalesce(kept.balance_cents, 0) != sums.c.total)
    )
    # ... and rows holding money no posting accounts for.
    orphans = (
        select(kept.practice_id, kept.scope_id, kept.account, kept.balance_cents, sums.c.total)
        .outerjoin(sums, joined)
        .where(
            kept.scope == str(scope),
            kept.balance_cents != 0,
            sums.c.total.is_(None),
            _in_practice(kept.practice_id, practice_id),
        )
    )
    found = [*session.execute(missing_or_wrong), *session.execute(orphans)]
    return sorted(
        BalanceMismatch(practice, str(scope), scope_id, account, kept_cents or 0, int(total or 0))
        for practice, scope_id, account, kept_cents, total in found
    )


def _unknown_scopes(session: Session, practice_id: int | None) -> list[BalanceMismatch]:
    query = select(
        LedgerBalance.practice_id,
        LedgerBalance.scope,
        LedgerBalance.scope_id,
        LedgerBalance.account,
        LedgerBalance.balance_cents,
    ).where(
        LedgerBalance.scope.not_in([str(scope) for scope in BalanceScope]),
        LedgerBalance.balance_cents != 0,
        _in_practice(LedgerBalance.practice_id, practice_id),
    )
    return [BalanceMismatch(p, s, i, a, cents, 0) for p, s, i, a, cents in session.execute(query)]
