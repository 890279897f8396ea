"""The stored ledger: balanced transactions only, idempotent re-posting, closed periods,
append-only postings, balances kept beside the postings and checked against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain import ledger_events as ev
from revcycle.domain.ledger import Account, BalanceScope, PostingLine
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from revcycle.services import audit, ledger
from revcycle.services.actor import Actor, system_actor
from tests import factories as f

ON = date(2026, 3, 2)


@dataclass
class Books:
    practice: m.Practice
    charge: ev.ChargeRef
    insurance: ev.InsuranceRef
    guarantor_id: int
    billing: Actor
    admin: Actor


@pytest.fixture
def books(db: Session) -> Books:
    practice = f.make_practice(db)
    payer = f.make_payer(db)
    client = f.make_client(db, practice)
    coverage = f.make_coverage(db, client, payer)
    session = f.make_session(db, practice, client, f.make_provider(db, practice))
    claim = f.make_claim(db, session, coverage)
    return Books(
        practice=practice,
        charge=ev.ChargeRef(charge_id=session.charges[0].id, client_id=client.id, claim_id=claim.id),
        insurance=ev.InsuranceRef(coverage_id=coverage.id, payer_id=payer.id),
        guarantor_id=f.make_guarantor(db, client).id,
        billing=f.actor_for(db, f.make_user(db, practice, Role.BILLING)),
        admin=f.actor_for(db, f.make_user(db, practice, Role.ADMIN)),
    )


def _post(
    db: Session, books: Books, kind: str, lines: tuple[PostingLine, ...], **kwargs: object
) -> m.LedgerTransaction:
    options: dict[str, object] = {"actor": books.admin, "accounting_on": ON, **kwargs}
    return ledger.post_transaction(
        db, practice_id=books.practice.id, kind=kind, lines=lines, **options  # type: ignore[arg-type]
    )


PracticeRows = type[m.LedgerTransaction | m.Posting | m.LedgerBalance | m.AuditLog]


def _count(db: Session, books: Books, model: PracticeRows) -> int:
    query = select(func.count()).select_from(model).where(model.practice_id == books.practice.id)
    return db.scalar(query) or 0


def _ar(db: Session, books: Books, account: Account, scope: BalanceScope = BalanceScope.CHARGE) -> int:
    scope_id = {
        BalanceScope.ACCOUNT: None,
        BalanceScope.CHARGE: books.charge.charge_id,
        BalanceScope.CLAIM: books.charge.claim_id,
        BalanceScope.CLIENT: books.charge.client_id,
        BalanceScope.PAYER: books.insurance.payer_id,
    }[scope]
    return ledger.balance(db, books.practice.id, scope, scope_id, account)


def _bill_150(db: Session, books: Books) -> m.LedgerTransaction:
    lines = ev.charge_to_insurance(15000, books.charge, books.insurance)
    return _post(db, books, "charge", lines, actor=books.billing)


# --- posting -------------------------------------------------------------------------------


def test_a_balanced_charge_is_posted_with_its_balances_and_an_audit_row(
    db: Session, books: Books
) -> None:
    txn = _bill_150(db, books)

    postings = db.scalars(select(m.Posting).where(m.Posting.transaction_id == txn.id)).all()
    assert sorted((p.account, p.amount_cents) for p in postings) == [
        ("ar:insurance", 15000),
        ("revenue", -15000),
    ]
    assert all(p.accounting_on == ON for p in postings)
    for scope in BalanceScope:
        if scope is not BalanceScope.PAYER:
            assert _ar(db, books, Account.AR_INSURANCE, scope) == 15000
            assert _ar(db, books, Account.REVENUE, scope) == -15000
    assert _ar(db, books, Account.AR_INSURANCE, BalanceScope.PAYER) == 15000
    assert _ar(db, books, Account.REVENUE, BalanceScope.PAYER) == 0  # revenue names no payer
    rows, _ = audit.list_entries(db, actor=books.admin, practice_id=books.practice.id)
    assert [(r.entity, r.entity_id, r.client_ids) for r in rows] == [
        ("ledger_transaction", str(txn.id), [books.charge.client_id])
    ]
    assert ledger.check_ledger(db, books.practice.id).ok


def test_the_835_example_of_the_design_moves_every_balance(db: Session, books: Books) -> None:
    _bill_150(db, books)
    c, i, g = books.charge, books.insurance, books.guarantor_id
    _post(db, books, "insurance_payment", ev.insurance_payment(9000, c, i))
    _post(db, books, "contractual_adjustment", ev.contractual_adjustment(4000, c, i))
    _post(db, books, "transfer_to_patient", ev.transfer_to_patient(2000, c, i, g))

    assert _ar(db, books, Account.AR_INSURANCE) == 0
    assert _ar(db, books, Account.AR_PATIENT) == 2000
    assert _ar(db, books, Account.CASH, BalanceScope.ACCOUNT) == 9000
    assert _ar(db, books, Account.ADJUSTMENT_CONTRACTUAL, BalanceScope.CLAIM) == 4000
    by_claim = ledger.balances_for(db, books.practice.id, BalanceScope.CLAIM, [c.claim_id or 0])
    assert by_claim == {
        c.claim_id: {
            Account.REVENUE: -15000,
            Account.CASH: 9000,
            Account.ADJUSTMENT_CONTRACTUAL: 4000,
            Account.AR_PATIENT: 2000,
        }
    }
    assert ledger.check_ledger(db, books.practice.id).ok


def test_an_unbalanced_transaction_is_refused_naming_the_difference(
    db: Session, books: Books
) -> None:
    lines = (
        PostingLine(Account.CASH, 10000),
        PostingLine(Account.REVENUE, -9999),
    )
    with pytest.raises(InvalidInput, match=r"debits exceed credits by \$0\.01") as refused:
        _post(db, books, "charge", lines)

    assert [p.code for p in refused.value.problems] == ["ledger.unbalanced"]
    assert _count(db, books, m.LedgerTransaction) == 0
    assert _count(db, books, m.LedgerBalance) == 0


def test_an_ar_line_without_whose_ar_it_is_is_refused(db: Session, books: Books) -> None:
    lines = (PostingLine(Account.AR_INSURANCE, 100), PostingLine(Account.REVENUE, -100))
    with pytest.raises(InvalidInput, match="must carry coverage_id"):
        _post(db, books, "charge", lines)


def test_reposting_with_the_same_key_and_content_changes_nothing(db: Session, books: Books) -> None:
    lines = ev.charge_to_insurance(15000, books.charge, books.insurance)
    first = _post(db, books, "charge", lines, idempotency_key="835:TRN123:CLP1")
    counts = [_count(db, books, model) for model in (m.LedgerTransaction, m.Posting, m.AuditLog)]

    again = _post(db, books, "charge", tuple(reversed(lines)), idempotency_key="835:TRN123:CLP1")

    assert again.id == first.id
    assert [_count(db, books, model) for model in (m.LedgerTransaction, m.Posting, m.AuditLog)] == counts
    assert _ar(db, books, Account.AR_INSURANCE) == 15000


def test_the_same_key_with_different_content_is_a_conflict(db: Session, books: Books) -> None:
    _post(db, books, "charge", ev.charge_to_insurance(15000, books.charge, books.insurance),
          idempotency_key="k1")

    with pytest.raises(Conflict, match="idempotency key 'k1' was already used"):
        _post(db, books, "charge", ev.charge_to_insurance(15001, books.charge, books.insurance),
              idempotency_key="k1")
    assert _ar(db, books, Account.AR_INSURANCE) == 15000


# --- periods -------------------------------------------------------------------------------


def test_a_closed_period_refuses_new_entries_dated_in_it(db: Session, books: Books) -> None:
    ledger.close_period(db, actor=books.admin, practice_id=books.practice.id, year=2026, month=2)
    lines = ev.charge_to_insurance(100, books.charge, books.insurance)

    with pytest.raises(InvalidInput, match=r"2026-02-28 falls in the closed period 2026-02"):
        _post(db, books, "charge", lines, accounting_on=date(2026, 2, 28))
    _post(db, books, "charge", lines, accounting_on=date(2026, 3, 1))
    _post(db, books, "charge", lines, accounting_on=date(2026, 1, 31))
    assert _ar(db, books, Account.AR_INSURANCE) == 200


def test_a_retry_of_a_posting_made_before_the_close_still_answers_the_first(
    db: Session, books: Books
) -> None:
    lines = ev.charge_to_insurance(100, books.charge, books.insurance)
    first = _post(db, books, "charge", lines, accounting_on=date(2026, 2, 3), idempotency_key="k")
    ledger.close_period(db, actor=books.admin, practice_id=books.practice.id, year=2026, month=2)

    again = _post(db, books, "charge", lines, accounting_on=date(2026, 2, 3), idempotency_key="k")
    assert again.id == first.id


def test_closing_a_period_is_for_admins_and_happens_once(db: Session, books: Books) -> None:
    practice_id = books.practice.id
    with pytest.raises(PermissionDenied):
        ledger.close_period(db, actor=books.billing, practice_id=practice_id, year=2026, month=1)
    period = ledger.close_period(db, actor=books.admin, practice_id=practice_id, year=2024, month=2)
    assert (period.starts_on, period.ends_on) == (date(2024, 2, 1), date(2024, 2, 29))
    with pytest.raises(Conflict, match="2024-02 is already closed"):
        ledger.close_period(db, actor=books.admin, practice_id=practice_id, year=2024, month=2)
    with pytest.raises(InvalidInput, match="not a calendar month"):
        ledger.close_period(db, actor=books.admin, practice_id=practice_id, year=2024, month=13)


# --- who may post --------------------------------------------------------------------------


def test_front_desk_takes_patient_payments_but_enters_no_charges(db: Session, books: Books) -> None:
    front_desk = f.actor_for(db, f.make_user(db, books.practice, Role.FRONT_DESK))
    _post(db, books, "charge", ev.charge_to_patient(5000, books.charge, books.guarantor_id))

    _post(db, books, "patient_payment", ev.patient_payment(2000, books.charge, books.guarantor_id),
          actor=front_desk)
    with pytest.raises(PermissionDenied):
        _post(db, books, "charge", ev.charge_to_patient(5000, books.charge, books.guarantor_id),
              actor=front_desk)
    assert _ar(db, books, Account.AR_PATIENT) == 3000


def test_billing_cannot_write_off(db: Session, books: Books) -> None:
    _bill_150(db, books)
    lines = ev.write_off(100, books.charge, insurance=books.insurance)
    with pytest.raises(PermissionDenied):
        _post(db, books, "write_off", lines, actor=books.billing)
    _post(db, books, "write_off", lines, actor=system_actor("approvals"))
    assert _ar(db, books, Account.ADJUSTMENT_WRITEOFF) == 100


# --- reversals -----------------------------------------------------------------------------


def test_a_reversal_is_the_exact_negation_and_happens_once(db: Session, books: Books) -> None:
    charge = _bill_150(db, books)

    reversal = ledger.reverse_transaction(
        db, actor=books.admin, transaction_id=charge.id, accounting_on=ON, reason="billed twice"
    )

    assert reversal.reverses_transaction_id == charge.id
    assert ledger.lines_of(db, reversal.id) == tuple(
        PostingLine(line.account, -line.amount_cents, **_ids(line))
        for line in ledger.lines_of(db, charge.id)
    )
    assert _ar(db, books, Account.AR_INSURANCE) == 0
    assert _ar(db, books, Account.REVENUE, BalanceScope.ACCOUNT) == 0
    with pytest.raises(Conflict, match=f"already reversed by transaction {reversal.id}"):
        ledger.reverse_transaction(
            db, actor=books.admin, transaction_id=charge.id, accounting_on=ON, reason="again"
        )
    assert ledger.check_ledger(db, books.practice.id).ok


def _ids(line: PostingLine) -> dict[str, int | None]:
    names = ("charge_id", "claim_id", "client_id", "coverage_id", "guarantor_id", "payment_id", "payer_id")
    return {name: getattr(line, name) for name in names}


def test_a_reversal_needs_a_reason_and_a_visible_transaction(db: Session, books: Books) -> None:
    charge = _bill_150(db, books)
    stranger = f.actor_for(db, f.make_user(db, f.make_practice(db), Role.ADMIN))

    with pytest.raises(InvalidInput, match="needs a reason"):
        ledger.reverse_transaction(db, actor=books.admin, transaction_id=charge.id, accounting_on=ON,
                                   reason=" ")
    with pytest.raises(NotFound):
        ledger.reverse_transaction(db, actor=stranger, transaction_id=charge.id, accounting_on=ON,
                                   reason="mine now")
    with pytest.raises(NotFound):
        ledger.reverse_transaction(db, actor=books.admin, transaction_id=10**9, accounting_on=ON,
                                   reason="no such")


# --- history is append-only ----------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE postings SET amount_cents = amount_cents + 1",
        "DELETE FROM postings",
        "UPDATE ledger_transactions SET memo = 'edited'",
        "DELETE FROM ledger_transactions",
    ],
)
def test_the_database_refuses_to_edit_postings(db: Session, books: Books, statement: str) -> None:
    _bill_150(db, books)
    with pytest.raises(DatabaseError, match="append-only"), db.begin_nested():
        db.execute(text(statement))


# --- checking ------------------------------------------------------------------------------


def _some_history(db: Session, books: Books) -> None:
    c, i, g = books.charge, books.insurance, books.guarantor_id
    _bill_150(db, books)
    _post(db, books, "insurance_payment", ev.insurance_payment(9000, c, i))
    _post(db, books, "transfer_to_patient", ev.transfer_to_patient(6000, c, i, g))
    _post(db, books, "patient_payment", ev.patient_payment(7000, c, g))
    _post(db, books, "refund", ev.refund_owed(1000, c, guarantor_id=g))
    _post(db, books, "refund_paid", ev.refund_paid(1000, c))


def test_check_ledger_agrees_with_the_kept_balances(db: Session, books: Books) -> None:
    _some_history(db, books)

    check = ledger.check_ledger(db, books.practice.id)

    assert check.ok, check.problems()
    assert (check.transactions, check.postings) == (6, 12)
    assert check.balance_rows > 0
    assert list(check) == []
    assert _ar(db, books, Account.AR_PATIENT) == 0
    assert _ar(db, books, Account.CASH, BalanceScope.ACCOUNT) == 15000


def test_check_ledger_names_a_tampered_balance_row(db: Session, books: Books) -> None:
    _some_history(db, books)
    db.execute(
        text(
            "UPDATE ledger_balances SET balance_cents = balance_cents + 1 "
            "WHERE practice_id = :p AND scope = 'claim' AND account = 'cash'"
        ),
        {"p": books.practice.id},
    )

    check = ledger.check_ledger(db, books.practice.id)

    assert check.balance_mismatches == [
        ledger.BalanceMismatch(
            books.practice.id, "claim", books.charge.claim_id or 0, "cash", 15001, 15000
        )
    ]
    assert "balance row says $150.01, postings sum to $150.00" in str(check.balance_mismatches[0])
    assert not check.unbalanced_transactions


def test_check_ledger_names_missing_and_orphan_balance_rows(db: Session, books: Books) -> None:
    _bill_150(db, books)
    db.execute(
        text("DELETE FROM ledger_balances WHERE practice_id = :p AND scope = 'client'"),
        {"p": books.practice.id},
    )
    db.execute(
        text(
            "INSERT INTO ledger_balances (practice_id, scope, scope_id, account, balance_cents, "
            "updated_at) VALUES (:p, 'payer', 999999, 'cash', 500, CURRENT_TIMESTAMP)"
        ),
        {"p": books.practice.id},
    )

    found = {(x.scope, x.account, x.kept_cents, x.recomputed_cents)
             for x in ledger.check_ledger(db, books.practice.id).balance_mismatches}

    assert found == {
        ("client", "ar:insurance", 0, 15000),
        ("client", "revenue", 0, -15000),
        ("payer", "cash", 500, 0),
    }


def test_check_ledger_names_an_unbalanced_transaction(db: Session, books: Books) -> None:
    txn = _bill_150(db, books)
    nested = db.begin_nested()
    if db.get_bind().dialect.name == "sqlite":
        db.execute(text("DROP TRIGGER postings_no_update"))
    else:
        db.execute(text("ALTER TABLE postings DISABLE TRIGGER postings_append_only"))
    db.execute(
        text("UPDATE postings SET amount_cents = -14000 WHERE transaction_id = :t AND account = 'revenue'"),
        {"t": txn.id},
    )

    check = ledger.check_ledger(db, books.practice.id)
    nested.rollback()

    assert check.unbalanced_transactions == [(txn.id, 1000)]
    assert check.unbalanced_books == [(books.practice.id, 1000)]
    assert {(x.scope, x.account) for x in check.balance_mismatches} == {
        (scope, "revenue") for scope in ("account", "charge", "claim", "client")
    }
    assert any("instead of zero" in str(p) for p in check.problems())
