"""Re-importing a portfolio whose claims changed in the other system: the preview shows each
such claim as updated with its field-level difference; commit changes no claim and no balance
(the ledger is append-only, the file is only what the other system believes) and flags the
difference for a person, once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from revcycle.db import models as m
from revcycle.domain.ledger import Account, BalanceScope, PostingLine
from revcycle.domain.ledger_events import TransactionKind
from revcycle.services import ledger

from .conftest import TODAY, Portfolio, dos

HEADER = "Claim ID,Patient,Payer,Payer ID,DOS,CPT,Provider,Billed,Balance"


def portfolio_file(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


ROW_1 = f"R-1,Ann Park,Aetna,60054,{dos(30)},90837,Dana Lee,$300.00,$250.00"
ROW_2 = f"R-2,Bob Stone,Cigna,62308,{dos(40)},90834,Dana Lee,$200.00,$120.00"
ROW_3 = f"R-3,Cara Diaz,Aetna,60054,{dos(50)},90791,Sam Rivera,$220.00,$0.00"


def _outcomes(p: Portfolio, batch: m.ImportBatch) -> dict[int, m.ImportRowOutcome]:
    rows = p.db.scalars(select(m.ImportRowOutcome).where(m.ImportRowOutcome.batch_id == batch.id))
    return {row.row_number: row for row in rows}


def _claim(p: Portfolio, number: str) -> m.Claim:
    return p.db.scalars(
        select(m.Claim).where(m.Claim.practice_id == p.practice.id, m.Claim.number == number)
    ).one()


def _claim_balance(p: Portfolio, claim: m.Claim) -> int:
    return ledger.balance(p.db, p.practice.id, BalanceScope.CLAIM, claim.id, Account.AR_INSURANCE)


def _flags(p: Portfolio, rule: str) -> list[m.WorkItem]:
    return list(
        p.db.scalars(
            select(m.WorkItem)
            .where(m.WorkItem.practice_id == p.practice.id, m.WorkItem.rule == rule)
            .order_by(m.WorkItem.id)
        )
    )


def _loaded(p: Portfolio) -> None:
    batch, _ = p.stage(portfolio_file(ROW_1, ROW_2, ROW_3))
    p.commit(batch)


def test_a_changed_balance_is_updated_in_the_preview_with_both_balances(portfolio: Portfolio) -> None:
    p = portfolio
    _loaded(p)
    changed = ROW_1.replace("$250.00", "$175.50")

    batch, counts = p.stage(portfolio_file(changed, ROW_2, ROW_3))

    assert counts == {"rows": 3, "new": 0, "updated": 1, "unchanged": 2, "flagged": 0, "rejected": 0}
    outcome = _outcomes(p, batch)[2]
    assert outcome.outcome == "updated"
    assert outcome.claim_id == _claim(p, "R-1").id
    detail: dict[str, Any] = outcome.detail
    assert detail["diff"] == {"balance_cents": [25_000, 17_550]}  # [ours, the file's]
    assert [flag["rule"] for flag in detail["flags"]] == ["ar_balance_changed"]
    assert "$175.50" in detail["flags"][0]["detail"]
    assert "$250.00" in detail["flags"][0]["detail"]


def test_commit_rewrites_no_balance_and_flags_the_difference_once(portfolio: Portfolio) -> None:
    p = portfolio
    _loaded(p)
    transactions_before = p.count(m.LedgerTransaction)
    changed = portfolio_file(ROW_1.replace("$250.00", "$175.50"), ROW_2, ROW_3)
    batch, _ = p.stage(changed)

    written = p.commit(batch)

    claim = _claim(p, "R-1")
    assert _claim_balance(p, claim) == 25_000  # history is not rewritten
    assert p.count(m.LedgerTransaction) == transactions_before
    assert written["claims"] == 0
    assert written["transactions"] == 0
    assert written["flags"] == 1
    (flag,) = _flags(p, "ar_balance_changed")
    assert (flag.kind, flag.status, flag.claim_id, flag.client_id) == (
        "flag",
        "open",
        claim.id,
        claim.client_id,
    )
    assert "$175.50" in flag.detail  # the other system's balance
    assert "$250.00" in flag.detail  # ours
    assert "-$74.50" in flag.detail  # the adjustment a person would post
    assert flag.dedupe_key
    assert ledger.check_ledger(p.db, p.practice.id).ok

    # The same file again: still updated in the preview, but no second flag.
    again, counts = p.stage(changed)
    assert counts["updated"] == 1
    assert p.commit(again)["flags"] == 0
    assert len(_flags(p, "ar_balance_changed")) == 1

    # A further change is a new difference: a new flag.
    later, _ = p.stage(portfolio_file(ROW_1.replace("$250.00", "$100.00"), ROW_2, ROW_3))
    assert p.commit(later)["flags"] == 1
    assert len(_flags(p, "ar_balance_changed")) == 2
    assert _claim_balance(p, claim) == 25_000


def test_a_balance_we_adjusted_to_the_files_is_unchanged(portfolio: Portfolio) -> None:
    p = portfolio
    _loaded(p)
    claim = _claim(p, "R-1")
    # A person posted the adjustment the flag asked for: our ledger now agrees with the file.
    lines = [
        PostingLine(
            Account.AR_INSURANCE,
            -7_450,
            claim_id=claim.id,
            client_id=claim.client_id,
            coverage_id=claim.coverage_id,
            payer_id=claim.payer_id,
        ),
        PostingLine(Account.ADJUSTMENT_OTHER, 7_450, claim_id=claim.id, client_id=claim.client_id),
    ]
    ledger.post_transaction(
        p.db,
        actor=p.actor,
        practice_id=p.practice.id,
        kind=TransactionKind.CONTRACTUAL_ADJUSTMENT,
        accounting_on=TODAY,
        lines=lines,
        memo="adjusted to the AR portfolio",
    )
    _, counts = p.stage(portfolio_file(ROW_1.replace("$250.00", "$175.50"), ROW_2, ROW_3))
    assert counts["unchanged"] == 3


def test_other_changed_fields_are_recorded_and_flagged_not_applied(portfolio: Portfolio) -> None:
    p = portfolio
    _loaded(p)
    payers_before = p.db.scalar(select(func.count()).select_from(m.Payer))
    providers_before = p.count(m.Provider)
    moved = f"R-2,Bob Stone,Oscar Health,OSCR1,{dos(41)},90834,Pat Quinn,$210.00,$120.00"

    batch, counts = p.stage(portfolio_file(ROW_1, moved, ROW_3))

    assert (counts["updated"], counts["unchanged"]) == (1, 2)
    detail = _outcomes(p, batch)[3].detail
    assert detail["diff"] == {
        "payer": ["Cigna", "Oscar Health (OSCR1)"],
        "provider": ["Dana Lee", "Pat Quinn"],
        "service_on": [f"{dos(40)}", f"{dos(41)}"],
        "billed_cents": [20_000, 21_000],
    }
    assert [flag["rule"] for flag in detail["flags"]] == ["ar_claim_changed"]

    written = p.commit(batch)

    claim = _claim(p, "R-2")
    assert p.db.get_one(m.Payer, claim.payer_id).name == "Cigna"
    assert claim.billed_cents == 20_000
    assert claim.service_from_on.strftime("%m/%d/%Y") == dos(40)
    # Nothing the changed claim names is created: it is not applied.
    assert p.db.scalar(select(func.count()).select_from(m.Payer)) == payers_before
    assert p.count(m.Provider) == providers_before
    assert written["flags"] == 1
    (flag,) = _flags(p, "ar_claim_changed")
    assert flag.claim_id == claim.id
    assert "Oscar Health (OSCR1)" in flag.detail
    assert "Pat Quinn" in flag.detail


def test_another_patient_under_a_claim_id_we_have_is_a_difference(portfolio: Portfolio) -> None:
    p = portfolio
    _loaded(p)
    _, counts = p.stage(portfolio_file(ROW_1.replace("Ann Park", '"PARK, ANN"'), ROW_2, ROW_3))
    assert counts["unchanged"] == 3  # the same person, spelled otherwise
    batch, counts = p.stage(portfolio_file(ROW_1.replace("Ann Park", "Anna Parker"), ROW_2, ROW_3))
    assert counts["updated"] == 1
    assert _outcomes(p, batch)[2].detail["diff"] == {"patient": ["Park, Ann", "Parker, Anna"]}


def test_a_claim_without_a_provider_yet_gets_none_from_a_reimport(portfolio: Portfolio) -> None:
    """A file without the provider column compares no provider; one with it records the
    difference for a claim we hold without one (imported before the column was read)."""
    p = portfolio
    bare = "Claim ID,Patient,Payer,Payer ID,DOS,CPT,Billed,Balance\n"
    batch, _ = p.stage(bare + f"R-9,Ann Park,Aetna,60054,{dos(30)},90837,$300.00,$250.00\n")
    p.commit(batch)
    _, counts = p.stage(bare + f"R-9,Ann Park,Aetna,60054,{dos(30)},90837,$300.00,$250.00\n")
    assert counts["unchanged"] == 1
    batch, counts = p.stage(
        portfolio_file(f"R-9,Ann Park,Aetna,60054,{dos(30)},90837,Dana Lee,$300.00,$250.00")
    )
    assert counts["updated"] == 1
    assert _outcomes(p, batch)[2].detail["diff"] == {"provider": [None, "Dana Lee"]}
    p.commit(batch)
    assert _claim(p, "R-9").provider_id is None
