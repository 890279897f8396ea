"""The ledger: double-entry rules, with no database in sight.

Every financial event is a transaction of posting lines in integer cents that sum to zero
(debit positive, credit negative): a $150 charge billed to the primary payer is
``ar:insurance +15000, revenue -15000``; an 835 paying $90 with a $40 CO-45 and $20 PR-2 is
``cash +9000 / ar:insurance -9000``, ``adjustment:contractual +4000 / ar:insurance -4000``,
``ar:patient +2000 / ar:insurance -2000``. CO-45 is the contract, not a loss: it lives in
its own account so that net collection can leave it out.

History is appended, never edited: a correction is the exact :func:`negate` of what it
undoes, plus the right entry. Re-posting the same remittance must change nothing, so a
transaction carries an idempotency key and the :func:`fingerprint` of its content; the same
key with a different fingerprint is a conflict, not a duplicate.

Balances per account, charge, claim, client and payer are kept beside the postings;
:func:`apply_to_balances` is the reference that ``revcycle ledger check`` and the tests
recompute them with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from enum import StrEnum

from revcycle.domain.problems import Problem, has_errors
from revcycle.money import format_cents

__all__ = [
    "SCOPE_FIELDS",
    "Account",
    "BalanceKey",
    "BalanceScope",
    "Balances",
    "LedgerError",
    "PostingLine",
    "apply_to_balances",
    "balance_keys",
    "fingerprint",
    "negate",
    "require_valid",
    "validate_lines",
]


class Account(StrEnum):
    """The fixed chart of accounts."""

    AR_INSURANCE = "ar:insurance"  # per coverage: what payers owe
    AR_PATIENT = "ar:patient"  # per guarantor: what patients owe
    REVENUE = "revenue"
    CASH = "cash"
    UNAPPLIED = "unapplied"  # received, not yet allocated to a charge
    PATIENT_CREDIT = "patient_credit"  # prepayments, copays before a charge, overpayments
    ADJUSTMENT_CONTRACTUAL = "adjustment:contractual"
    ADJUSTMENT_WRITEOFF = "adjustment:writeoff"
    ADJUSTMENT_OTHER = "adjustment:other"
    INTEREST_INCOME = "interest_income"
    RECOUPMENT = "recoupment"
    REFUND_PAYABLE = "refund_payable"
    OPENING_BALANCE = "opening_balance"  # balances brought over from another system


@dataclass(frozen=True)
class PostingLine:
    """One line of a transaction: a signed amount (debit positive) on an account."""

    account: Account
    amount_cents: int
    charge_id: int | None = None
    claim_id: int | None = None
    client_id: int | None = None
    coverage_id: int | None = None
    guarantor_id: int | None = None
    payment_id: int | None = None
    payer_id: int | None = None


class LedgerError(ValueError):
    """A transaction the ledger refuses; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.where}: {p.message}" for p in self.problems))


# The ids a line on these accounts cannot do without: whose AR it is.
_REQUIRED_IDS: dict[Account, tuple[str, ...]] = {
    Account.AR_INSURANCE: ("coverage_id", "payer_id"),
    Account.AR_PATIENT: ("guarantor_id", "client_id"),
}


def validate_lines(lines: Iterable[PostingLine]) -> list[Problem]:
    """Every problem with a transaction's lines; an empty list means it may be posted."""
    lines = tuple(lines)
    if not lines:
        return [Problem("ledger.empty", "transaction", "a transaction needs posting lines")]
    problems: list[Problem] = []
    if len(lines) < 2:
        problems.append(
            Problem("ledger.single_line", "transaction", "a transaction needs at least two lines")
        )
    for number, line in enumerate(lines, start=1):
        problems.extend(_line_problems(line, number))
    if not has_errors(problems):
        problems.extend(_balance_problems(lines))
    return problems


def _line_problems(line: PostingLine, number: int) -> list[Problem]:
    amount, account = line.amount_cents, line.account
    required = _REQUIRED_IDS.get(account, ()) if isinstance(account, Account) else ()
    usual = type(amount) is int and amount and isinstance(account, Account)
    if usual and all(getattr(line, name) is not None for name in required):
        return []  # the usual line: nothing to name (an 835 checks hundreds of thousands)
    where = f"line {number}"
    # bool is an int to Python, never to the ledger.
    if isinstance(amount, bool) or not isinstance(amount, int):
        message = f"amount_cents must be an int, got {type(amount).__name__} {amount!r}"
        return [Problem("ledger.amount_type", where, message)]
    problems: list[Problem] = []
    if not isinstance(line.account, Account):
        message = f"unknown account {line.account!r}"
        problems.append(Problem("ledger.account", where, message))
    if amount == 0:
        problems.append(Problem("ledger.zero_line", where, "a posting line cannot be zero"))
    for name in _REQUIRED_IDS.get(line.account, ()):
        if getattr(line, name) is None:
            message = f"a {line.account} line must carry {name}"
            problems.append(Problem("ledger.missing_id", where, message))
    return problems


def _balance_problems(lines: Sequence[PostingLine]) -> list[Problem]:
    total = sum(line.amount_cents for line in lines)
    if total == 0:
        return []
    side = "debits exceed credits" if total > 0 else "credits exceed debits"
    message = f"the lines do not sum to zero: {side} by {format_cents(abs(total))}"
    return [Problem("ledger.unbalanced", "transaction", message)]


def require_valid(lines: Iterable[PostingLine]) -> tuple[PostingLine, ...]:
    """Return the lines as a tuple, or raise :class:`LedgerError` with every problem."""
    lines = tuple(lines)
    problems = validate_lines(lines)
    if has_errors(problems):
        raise LedgerError(problems)
    return lines


_LINE_FIELDS = tuple(f.name for f in fields(PostingLine))
# Made once (json.dumps with arguments builds an encoder per call); the same text as
# json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _canonical_line(line: PostingLine) -> str:
    """The line's fields by name as canonical JSON (keys sorted, no spaces, ASCII): exactly
    ``_CANONICAL.encode(dataclasses.asdict(line))``, written out since an 835 fingerprints
    hundreds of thousands of lines (a test holds the two equal)."""
    return (
        f'{{"account":{_account_json(line.account)},"amount_cents":{_int_json(line.amount_cents)},'
        f'"charge_id":{_int_json(line.charge_id)},"claim_id":{_int_json(line.claim_id)},'
        f'"client_id":{_int_json(line.client_id)},"coverage_id":{_int_json(line.coverage_id)},'
        f'"guarantor_id":{_int_json(line.guarantor_id)},"payer_id":{_int_json(line.payer_id)},'
        f'"payment_id":{_int_json(line.payment_id)}}}'
    )


def _int_json(value: int | None) -> str:
    if value is None:
        return "null"
    if type(value) is not int:  # a bool or anything else: as JSON would write it
        return _CANONICAL.encode(value)
    return str(value)


_ACCOUNT_JSON: dict[str, str] = {str(account): _CANONICAL.encode(str(account)) for account in Account}


def _account_json(account: Account | str) -> str:
    return _ACCOUNT_JSON.get(account) or _CANONICAL.encode(account)


assert sorted(_LINE_FIELDS) == [
    "account",
    "amount_cents",
    "charge_id",
    "claim_id",
    "client_id",
    "coverage_id",
    "guarantor_id",
    "payer_id",
    "payment_id",
], "a new PostingLine field must be added to _canonical_line"


def fingerprint(kind: str, accounting_date: date, lines: Iterable[PostingLine], memo: str | None) -> str:
    """SHA-256 of the transaction's content, the same whatever order the lines come in."""
    canonical_lines = sorted(map(_canonical_line, lines))
    content = {
        "kind": kind,
        "accounting_date": accounting_date.isoformat(),
        "memo": memo,
        "lines": canonical_lines,
    }
    return hashlib.sha256(_CANONICAL.encode(content).encode("ascii")).hexdigest()


def negate(lines: Iterable[PostingLine]) -> tuple[PostingLine, ...]:
    """The exact reversal: same accounts and ids, opposite amounts."""
    return tuple(replace(line, amount_cents=-line.amount_cents) for line in lines)


class BalanceScope(StrEnum):
    """What a balance row is kept per."""

    ACCOUNT = "account"  # practice-wide, per account
    CHARGE = "charge"
    CLAIM = "claim"
    CLIENT = "client"
    PAYER = "payer"


BalanceKey = tuple[BalanceScope, int | None]
Balances = dict[tuple[BalanceScope, int | None, Account], int]

SCOPE_FIELDS: tuple[tuple[BalanceScope, str], ...] = (
    (BalanceScope.CHARGE, "charge_id"),
    (BalanceScope.CLAIM, "claim_id"),
    (BalanceScope.CLIENT, "client_id"),
    (BalanceScope.PAYER, "payer_id"),
)
assert {name for _, name in SCOPE_FIELDS} <= {field.name for field in fields(PostingLine)}


def balance_keys(line: PostingLine) -> list[BalanceKey]:
    """The balances one line moves: its account, plus each charge/claim/client/payer it names."""
    keys: list[BalanceKey] = [(BalanceScope.ACCOUNT, None)]
    for scope, name in SCOPE_FIELDS:
        value = getattr(line, name)
        if value is not None:
            keys.append((scope, value))
    return keys


def apply_to_balances(balances: Balances, lines: Iterable[PostingLine]) -> None:
    """Add the lines to ``balances`` in place, keyed by (scope, id, account).

    A balance that comes back to zero is removed, so applying a transaction and then its
    :func:`negate` leaves ``balances`` exactly as it was.
    """
    for line in lines:
        for scope, key_id in balance_keys(line):
            key = (scope, key_id, line.account)
            total = balances.get(key, 0) + line.amount_cents
            if total:
                balances[key] = total
            else:
                balances.pop(key, None)
