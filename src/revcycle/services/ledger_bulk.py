"""Set-based ledger writes: many opening-balance transactions in a few SQL statements.

:func:`~revcycle.services.ledger.post_transaction` is the one-at-a-time path: validate,
check the idempotency key, insert, upsert the balances, audit. An AR portfolio brings a
million claims at once; posting them one by one would take an hour and hold every object in
the session. :func:`post_opening_balances` writes the same rows straight from a SQL source
(one row per claim: claim, client, coverage, payer, amount), in four statements whatever the
number of claims:

1. ``INSERT INTO ledger_transactions ... SELECT``: one ``opening_balance`` transaction per
   claim, with the idempotency key ``opening-balance:claim:<claim id>`` (the database then
   refuses a second opening balance for the same claim) and the same content
   :func:`~revcycle.domain.ledger.fingerprint` gives, computed in SQL (SHA-256 over the same
   canonical JSON text: PostgreSQL's ``sha256()``, a registered function on SQLite);
2. ``INSERT INTO postings ... SELECT`` joined to those transactions by key: the two legs,
   ``ar:insurance`` (with claim, client, coverage and payer) and ``opening_balance`` (with
   claim and client), exactly the lines of :func:`~revcycle.domain.ledger_events.opening_balance`;
3. one upsert of the balance rows from the aggregated deltas (per account, claim, client and
   payer): ``INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE SET balance =
   balance + excluded.balance``, the same atomic add the one-at-a-time path does.

A negative amount is a credit balance: its legs come out reversed (``ar:insurance -``,
``opening_balance +``), the :func:`~revcycle.domain.ledger.negate` of a positive opening
balance. A zero amount has nothing to post: the source must leave such rows out.

Nothing here audits: a bulk import audits once per batch (its caller does). The checks
``post_transaction`` makes per transaction are made here for the whole set: the permission,
the accounting date outside a closed period, and balanced legs by construction.
``services.ledger.check_ledger`` recomputes everything from the postings and must agree.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from revcycle.db.models import AccountingPeriod, LedgerBalance, LedgerTransaction, Posting
from revcycle.db.types import UTCDateTime, utcnow
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.ledger_events import TransactionKind
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.services.actor import Actor
from revcycle.services.bulk_reads import table_of

__all__ = [
    "OPENING_BALANCE_KEY_PREFIX",
    "SOURCE_COLUMNS",
    "opening_balance_fingerprint_text",
    "post_opening_balances",
    "prepare_sql_functions",
    "refuse_closed_period",
    "sha256_hex",
]

OPENING_BALANCE_KEY_PREFIX = "opening-balance:claim:"
# What a source must select (labelled so): one row per claim, amount not zero.
SOURCE_COLUMNS = ("claim_id", "client_id", "coverage_id", "payer_id", "amount_cents")
_SQLITE_SHA256 = "revcycle_sha256"
_NULL = "null"


# --- SQL helpers both databases understand ------------------------------------------------------


def _sqlite_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prepare_sql_functions(session: Session) -> None:
    """Register what SQLite lacks (SHA-256) on the session's connection; PostgreSQL has it."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        driver.create_function(_SQLITE_SHA256, 1, _sqlite_sha256, deterministic=True)  # type: ignore[union-attr]


def sha256_hex(session: Session, text: ColumnElement[Any]) -> ColumnElement[str]:
    """Lower-case hex SHA-256 of a text expression's UTF-8 bytes, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.encode(func.sha256(func.convert_to(text, "UTF8")), "hex")
    return getattr(func, _SQLITE_SHA256)(text)  # type: ignore[no-any-return]


def _text(value: ColumnElement[Any]) -> ColumnElement[str]:
    return cast(value, String)


def _concat(*parts: str | ColumnElement[Any]) -> ColumnElement[str]:
    expression: ColumnElement[str] = literal("", String)
    for part in parts:
        expression = expression + (literal(part, String) if isinstance(part, str) else _text(part))
    return expression


# --- the fingerprint, as domain.ledger.fingerprint writes it --------------------------------------


def _line_json(
    account: Account, *, amount: Any, claim: Any, client: Any, coverage: Any, payer: Any
) -> list[Any]:
    """asdict(PostingLine) dumped with sorted keys, as pieces (text or SQL expressions).

    Inside the transaction's JSON the line is itself a JSON string, so its quotes appear
    escaped (``\\"``): that is the text built here.
    """
    q = '\\"'

    def key(name: str) -> str:
        return f"{q}{name}{q}:"

    return [
        "{" + key("account") + q + str(account) + q + "," + key("amount_cents"),
        amount,
        "," + key("charge_id") + _NULL + "," + key("claim_id"),
        claim,
        "," + key("client_id"),
        client,
        "," + key("coverage_id"),
        *([coverage] if coverage is not None else [_NULL]),
        "," + key("guarantor_id") + _NULL + "," + key("payer_id"),
        *([payer] if payer is not None else [_NULL]),
        "," + key("payment_id") + _NULL + "}",
    ]


def opening_balance_fingerprint_text(
    accounting_on: date, memo: str, *, claim: Any, client: Any, coverage: Any, payer: Any, amount: Any
) -> list[Any]:
    """The canonical text :func:`~revcycle.domain.ledger.fingerprint` hashes, in pieces.

    Its lines sort as text, and ``{"account":"ar:insurance"`` sorts before
    ``{"account":"opening_balance"`` whatever the amounts, so the order is fixed.
    """
    ar = _line_json(
        Account.AR_INSURANCE, amount=amount, claim=claim, client=client, coverage=coverage, payer=payer
    )
    negated = -amount if isinstance(amount, int) else literal_column("0") - amount
    opening = _line_json(
        Account.OPENING_BALANCE, amount=negated, claim=claim, client=client, coverage=None, payer=None
    )
    head = json.dumps(accounting_on.isoformat())
    return [
        '{"accounting_date":' + head + ',"kind":"' + str(TransactionKind.OPENING_BALANCE) + '","lines":["',
        *ar,
        '","',
        *opening,
        '"],"memo":' + json.dumps(memo, ensure_ascii=True) + "}",
    ]


# --- checks ------------------------------------------------------------------------------------


def refuse_closed_period(session: Session, practice_id: int, accounting_on: date) -> None:
    """Nothing new may be dated inside a closed month."""
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


# --- posting -------------------------------------------------------------------------------------


def post_opening_balances(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    accounting_on: date,
    source: Select[Any],
    memo: str,
) -> int:
    """Post one opening-balance transaction per source row, set-based; returns how many.

    ``source`` selects :data:`SOURCE_COLUMNS` (labelled so), one row per claim of
    ``practice_id``, ``amount_cents`` not zero (negative: a credit balance). A claim that
    already has an opening balance makes the whole call fail (its idempotency key is taken).
    """
    actor.require(practice_id, Permission.ENTER_CHARGES)
    refuse_closed_period(session, practice_id, accounting_on)
    prepare_sql_functions(session)
    src = source.subquery("src")
    now = utcnow()
    created = _insert_transactions(
        session, src, practice_id=practice_id, accounting_on=accounting_on, memo=memo, actor=actor, now=now
    )
    if created:
        if session.get_bind().dialect.name == "postgresql":
            # The postings join the new transactions by key: plan it from fresh statistics.
            session.execute(text("ANALYZE ledger_transactions"))
        _insert_postings(session, src, practice_id, accounting_on, now)
        _upsert_balances(session, src, practice_id, now)
    return created


def _key(claim_id: Any) -> ColumnElement[str]:
    return _concat(OPENING_BALANCE_KEY_PREFIX, claim_id)


def _insert_transactions(
    session: Session, src: Any, *, practice_id: int, accounting_on: date, memo: str, actor: Actor, now: Any
) -> int:
    c = src.c
    pieces = opening_balance_fingerprint_text(
        accounting_on,
        memo,
        claim=c.claim_id,
        client=c.client_id,
        coverage=c.coverage_id,
        payer=c.payer_id,
        amount=c.amount_cents,
    )
    rows = select(
        literal(practice_id, BigInteger),
        literal(str(TransactionKind.OPENING_BALANCE), String),
        literal(accounting_on, Date),
        literal(memo, String),
        _key(c.claim_id),
        sha256_hex(session, _concat(*pieces)),
        literal(actor.user_id, BigInteger),
        literal(now, UTCDateTime()),
    ).order_by(c.claim_id)
    columns = [
        "practice_id",
        "kind",
        "accounting_on",
        "memo",
        "idempotency_key",
        "fingerprint",
        "created_by_user_id",
        "created_at",
    ]
    statement = insert(table_of(LedgerTransaction)).from_select(columns, rows)
    result = session.execute(statement.execution_options(preserve_rowcount=True))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _legs() -> Any:
    """The two legs of every opening balance: (account, sign)."""
    ar = select(
        literal(str(Account.AR_INSURANCE), String).label("account"), literal(1, Integer).label("sign")
    )
    opening = select(
        literal(str(Account.OPENING_BALANCE), String).label("account"), literal(-1, Integer).label("sign")
    )
    return union_all(ar, opening).subquery("legs")


def _insert_postings(session: Session, src: Any, practice_id: int, accounting_on: date, now: Any) -> None:
    c = src.c
    txn = LedgerTransaction.__table__.alias("txn")
    legs = _legs()
    on_ar = legs.c.sign == 1
    rows = (
        select(
            literal(practice_id, BigInteger),
            txn.c.id,
            legs.c.account,
            legs.c.sign * c.amount_cents,
            c.claim_id,
            c.client_id,
            case((on_ar, c.coverage_id), else_=None),
            case((on_ar, c.payer_id), else_=None),
            literal(accounting_on, Date),
            literal(now, UTCDateTime()),
        )
        .select_from(src)
        .join(txn, and_(txn.c.practice_id == practice_id, txn.c.idempotency_key == _key(c.claim_id)))
        .join(legs, true())
        .order_by(txn.c.id, legs.c.sign.desc())
    )
    columns = [
        "practice_id",
        "transaction_id",
        "account",
        "amount_cents",
        "claim_id",
        "client_id",
        "coverage_id",
        "payer_id",
        "accounting_on",
        "created_at",
    ]
    session.execute(insert(table_of(Posting)).from_select(columns, rows))


def _deltas(src: Any, practice_id: int) -> Any:
    """(scope, scope_id, account, delta) for every balance the opening balances move."""
    c = src.c
    ar, opening = str(Account.AR_INSURANCE), str(Account.OPENING_BALANCE)
    total = func.sum(c.amount_cents)

    def per(scope: BalanceScope, scope_id: Any, account: str, sign: int, *group: Any) -> Select[Any]:
        query = select(
            literal(str(scope), String).label("scope"),
            scope_id.label("scope_id"),
            literal(account, String).label("account"),
            (total * sign).label("delta"),
        )
        return query.group_by(*group) if group else query

    account_id = literal(0, BigInteger)
    return union_all(
        per(BalanceScope.ACCOUNT, account_id, ar, 1),
        per(BalanceScope.ACCOUNT, account_id, opening, -1),
        per(BalanceScope.CLAIM, c.claim_id, ar, 1, c.claim_id),
        per(BalanceScope.CLAIM, c.claim_id, opening, -1, c.claim_id),
        per(BalanceScope.CLIENT, c.client_id, ar, 1, c.client_id),
        per(BalanceScope.CLIENT, c.client_id, opening, -1, c.client_id),
        per(BalanceScope.PAYER, c.payer_id, ar, 1, c.payer_id),
    ).subquery("deltas")


def _upsert_balances(session: Session, src: Any, practice_id: int, now: Any) -> None:
    deltas = _deltas(src, practice_id)
    rows = (
        select(
            literal(practice_id, BigInteger),
            deltas.c.scope,
            deltas.c.scope_id,
            deltas.c.account,
            deltas.c.delta,
            literal(now, UTCDateTime()),
        )
        # WHERE also settles SQLite's parse of "SELECT ... ON CONFLICT" (not a join's ON).
        .where(deltas.c.delta != 0)
        # Sorted, as the one-at-a-time path does: concurrent writers lock rows in one order.
        .order_by(deltas.c.scope, deltas.c.scope_id, deltas.c.account)
    )
    columns = ["practice_id", "scope", "scope_id", "account", "balance_cents", "updated_at"]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(LedgerBalance).from_select(columns, rows)
    upsert = statement.on_conflict_do_update(
        index_elements=["practice_id", "scope", "scope_id", "account"],
        set_={
            "balance_cents": LedgerBalance.balance_cents + statement.excluded.balance_cents,
            "updated_at": statement.excluded.updated_at,
        },
    )
    session.execute(upsert)
