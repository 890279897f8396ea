"""Ledger rules: balanced transactions, exact reversals, order-free fingerprints."""

import dataclasses
import json
import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revcycle.domain.ledger import (
    Account,
    Balances,
    BalanceScope,
    LedgerError,
    PostingLine,
    _canonical_line,
    apply_to_balances,
    balance_keys,
    fingerprint,
    negate,
    require_valid,
    validate_lines,
)
from revcycle.domain.problems import Severity
from revcycle.services.ledger import _balance_deltas

DAY = date(2024, 3, 15)


def ar_insurance(cents: int, **ids: int) -> PostingLine:
    return PostingLine(Account.AR_INSURANCE, cents, coverage_id=7, payer_id=3, **ids)


def ar_patient(cents: int, **ids: int) -> PostingLine:
    return PostingLine(Account.AR_PATIENT, cents, guarantor_id=11, client_id=5, **ids)


CHARGE_150 = (ar_insurance(15000, charge_id=1), PostingLine(Account.REVENUE, -15000, charge_id=1))
REMITTANCE = (
    PostingLine(Account.CASH, 9000, payment_id=4),
    ar_insurance(-9000, charge_id=1),
    PostingLine(Account.ADJUSTMENT_CONTRACTUAL, 4000, charge_id=1),
    ar_insurance(-4000, charge_id=1),
    ar_patient(2000, charge_id=1),
    ar_insurance(-2000, charge_id=1),
)


def codes(lines: tuple[PostingLine, ...] | list[PostingLine]) -> list[str]:
    return [problem.code for problem in validate_lines(lines)]


@pytest.mark.parametrize("lines", [CHARGE_150, REMITTANCE, negate(REMITTANCE)])
def test_the_design_examples_are_valid(lines: tuple[PostingLine, ...]) -> None:
    assert validate_lines(lines) == []
    assert require_valid(lines) == lines


def test_empty_and_single_lines_are_refused() -> None:
    assert codes([]) == ["ledger.empty"]
    assert "ledger.single_line" in codes([PostingLine(Account.CASH, 100)])


def test_imbalance_names_the_amount() -> None:
    problems = validate_lines([PostingLine(Account.CASH, 10050), PostingLine(Account.UNAPPLIED, -10000)])
    assert [p.code for p in problems] == ["ledger.unbalanced"]
    assert problems[0].severity is Severity.ERROR
    assert "debits exceed credits by $0.50" in problems[0].message


def test_zero_lines_are_refused() -> None:
    lines = [PostingLine(Account.CASH, 0), PostingLine(Account.UNAPPLIED, 0)]
    assert codes(lines) == ["ledger.zero_line", "ledger.zero_line"]


@pytest.mark.parametrize("amount", [True, 1.5, "100", None])
def test_amounts_must_be_plain_ints(amount: object) -> None:
    lines = [PostingLine(Account.CASH, amount), PostingLine(Account.UNAPPLIED, -1)]  # type: ignore[arg-type]
    assert codes(lines) == ["ledger.amount_type"]


def test_ar_lines_name_whose_ar_it_is() -> None:
    lines = [PostingLine(Account.AR_INSURANCE, 100), PostingLine(Account.AR_PATIENT, -100)]
    problems = validate_lines(lines)
    assert [p.message for p in problems] == [
        "a ar:insurance line must carry coverage_id",
        "a ar:insurance line must carry payer_id",
        "a ar:patient line must carry guarantor_id",
        "a ar:patient line must carry client_id",
    ]
    assert [p.where for p in problems] == ["line 1", "line 1", "line 2", "line 2"]


def test_require_valid_raises_with_every_problem() -> None:
    with pytest.raises(LedgerError) as caught:
        require_valid([PostingLine(Account.CASH, 5), PostingLine(Account.AR_PATIENT, -4)])
    assert [p.code for p in caught.value.problems] == [
        "ledger.missing_id",
        "ledger.missing_id",
    ]
    assert isinstance(caught.value, ValueError)


def test_fingerprint_depends_on_content() -> None:
    base = fingerprint("remittance", DAY, REMITTANCE, "ERA 123")
    assert len(base) == 64
    assert fingerprint("remittance", DAY, REMITTANCE, "ERA 123") == base
    assert fingerprint("remittance", DAY, REMITTANCE, "ERA 124") != base
    assert fingerprint("remittance", DAY, REMITTANCE, None) != base
    assert fingerprint("payment", DAY, REMITTANCE, "ERA 123") != base
    assert fingerprint("remittance", date(2024, 3, 16), REMITTANCE, "ERA 123") != base
    assert fingerprint("remittance", DAY, negate(REMITTANCE), "ERA 123") != base
    moved = (*REMITTANCE[:-1], ar_insurance(-2000, charge_id=2))
    assert fingerprint("remittance", DAY, moved, "ERA 123") != base


def test_balance_keys() -> None:
    line = PostingLine(Account.CASH, 1, charge_id=1, claim_id=2, client_id=3, payer_id=4)
    assert balance_keys(line) == [
        (BalanceScope.ACCOUNT, None),
        (BalanceScope.CHARGE, 1),
        (BalanceScope.CLAIM, 2),
        (BalanceScope.CLIENT, 3),
        (BalanceScope.PAYER, 4),
    ]
    assert balance_keys(PostingLine(Account.REVENUE, -1, coverage_id=9)) == [(BalanceScope.ACCOUNT, None)]


def test_balances_follow_the_design_example() -> None:
    balances: Balances = {}
    apply_to_balances(balances, CHARGE_150)
    apply_to_balances(balances, REMITTANCE)
    account = BalanceScope.ACCOUNT
    # Billed, paid, adjusted and moved to the patient: nothing left on the payer.
    assert (account, None, Account.AR_INSURANCE) not in balances
    assert (BalanceScope.PAYER, 3, Account.AR_INSURANCE) not in balances
    assert balances[(account, None, Account.AR_PATIENT)] == 2000
    assert balances[(account, None, Account.CASH)] == 9000
    assert balances[(BalanceScope.CHARGE, 1, Account.REVENUE)] == -15000
    assert balances[(BalanceScope.CLIENT, 5, Account.AR_PATIENT)] == 2000
    assert sum(v for (scope, _, _), v in balances.items() if scope is account) == 0


# --- properties ---------------------------------------------------------------------------

ids = st.none() | st.integers(min_value=1, max_value=50)
amounts = st.integers(min_value=-(10**11), max_value=10**11).filter(bool)


@st.composite
def balanced_lines(draw: st.DrawFn) -> list[PostingLine]:
    """A valid transaction: some lines plus one that balances them."""
    count = draw(st.integers(min_value=1, max_value=8))
    lines = [draw(_line(draw(amounts))) for _ in range(count)]
    total = sum(line.amount_cents for line in lines)
    lines.append(draw(_line(-total if total else 1)))
    if not total:
        lines.append(draw(_line(-1)))
    return lines


def _line(amount: int) -> st.SearchStrategy[PostingLine]:
    return st.builds(
        PostingLine,
        account=st.sampled_from(Account),
        amount_cents=st.just(amount),
        charge_id=ids,
        claim_id=ids,
        client_id=st.integers(min_value=1, max_value=50),
        coverage_id=st.integers(min_value=1, max_value=50),
        guarantor_id=st.integers(min_value=1, max_value=50),
        payment_id=ids,
        payer_id=st.integers(min_value=1, max_value=50),
    )


@given(balanced_lines(), st.randoms(use_true_random=False))
def test_fingerprint_ignores_line_order(lines: list[PostingLine], rnd: random.Random) -> None:
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    assert validate_lines(lines) == []
    assert fingerprint("charge", DAY, shuffled, "m") == fingerprint("charge", DAY, lines, "m")


@given(balanced_lines())
def test_negate_is_exact(lines: list[PostingLine]) -> None:
    assert negate(negate(lines)) == tuple(lines)
    assert validate_lines(negate(lines)) == []


@given(balanced_lines(), st.integers(min_value=1, max_value=10**6), st.booleans())
def test_validate_refuses_imbalance(lines: list[PostingLine], off: int, up: bool) -> None:
    first = lines[0]
    nudged = first.amount_cents + (off if up else -off)
    if nudged == 0:
        nudged = first.amount_cents + 2 * off
    broken = [PostingLine(first.account, nudged, **_ids(first)), *lines[1:]]
    assert "ledger.unbalanced" in [p.code for p in validate_lines(broken)]
    with pytest.raises(LedgerError):
        require_valid(broken)


@given(st.lists(balanced_lines(), max_size=5), balanced_lines())
def test_balances_return_exactly_after_a_reversal(
    history: list[list[PostingLine]], lines: list[PostingLine]
) -> None:
    balances: Balances = {}
    for transaction in history:
        apply_to_balances(balances, transaction)
    before = dict(balances)
    apply_to_balances(balances, lines)
    apply_to_balances(balances, negate(lines))
    assert balances == before
    # The books sum to zero at every scope that every line shares: the account scope.
    assert sum(v for (scope, _, _), v in balances.items() if scope is BalanceScope.ACCOUNT) == 0


def _ids(line: PostingLine) -> dict[str, int | None]:
    return {
        "charge_id": line.charge_id,
        "claim_id": line.claim_id,
        "client_id": line.client_id,
        "coverage_id": line.coverage_id,
        "guarantor_id": line.guarantor_id,
        "payment_id": line.payment_id,
        "payer_id": line.payer_id,
    }


@given(
    st.builds(
        PostingLine,
        account=st.sampled_from(Account),
        amount_cents=st.integers(min_value=-(10**15), max_value=10**15),
        charge_id=ids,
        claim_id=ids,
        client_id=ids,
        coverage_id=ids,
        guarantor_id=ids,
        payment_id=st.none() | st.integers(min_value=1, max_value=2**62),
        payer_id=ids,
    )
)
def test_a_line_is_fingerprinted_as_its_canonical_json(line: PostingLine) -> None:
    """The written-out canonical line is exactly what the JSON encoder gives its fields, so
    fingerprints stored before it was written out still compare equal."""
    as_json = json.dumps(dataclasses.asdict(line), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert _canonical_line(line) == as_json


@given(st.lists(balanced_lines(), min_size=1, max_size=4))
def test_the_stored_ledger_adds_to_the_balances_the_domain_names(batches: list[list[PostingLine]]) -> None:
    """services.ledger writes its balance deltas out by hand (an 835 moves hundreds of
    thousands of lines); they are exactly the domain's balances of the same lines."""
    lines = [line for batch in batches for line in batch]
    expected: dict[tuple[BalanceScope, int | None, Account], int] = {}
    apply_to_balances(expected, lines)
    as_stored = {
        (str(scope), scope_id or 0, str(account)): cents
        for (scope, scope_id, account), cents in expected.items()
    }
    assert _balance_deltas(lines) == as_stored
