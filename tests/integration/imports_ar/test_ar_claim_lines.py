"""A portfolio listing one row per service line: rows sharing a claim id (same patient and
payer, another procedure or date) are the lines of one claim, with one opening balance for the
claim's total; repeats and disagreeing rows are refused, naming both rows and the field."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from revcycle.db import models as m
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.services import ledger
from revcycle.services.imports.ar_portfolio import ArPortfolioHandler

from .conftest import TODAY, Portfolio, dos

HEADER = "Claim ID,Patient,Payer,Payer ID,DOS,CPT,Rendering Provider,Billed,Balance,Aging Days"
# L-1: three lines (two codes on one day, one more on another); each line alone is under
# $1,000, the claim is over it. L-2: an ordinary one-line claim.
LINES = [
    f"L-1,Ann Park,Aetna,60054,{dos(20)},90837,Dana Lee,$600.00,$450.00,20",
    f"L-2,Bob Stone,Aetna,60054,{dos(10)},90834,Dana Lee,$150.00,$150.00,10",
    f'L-1,"PARK, ANN",Aetna,60054,{dos(20)},90785,Dana Lee,$100.00,$100.00,20',
    f"L-1,Ann Park,Aetna,60054,{dos(13)},90837,Dana Lee,$600.00,$500.00,13",
]
L1_BALANCE_CENTS = 45_000 + 10_000 + 50_000


def portfolio_file(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


def _claims(p: Portfolio) -> dict[str, m.Claim]:
    rows = p.db.scalars(select(m.Claim).where(m.Claim.practice_id == p.practice.id))
    return {claim.number: claim for claim in rows}


def _outcomes(p: Portfolio, batch: m.ImportBatch) -> dict[int, m.ImportRowOutcome]:
    rows = p.db.scalars(select(m.ImportRowOutcome).where(m.ImportRowOutcome.batch_id == batch.id))
    return {row.row_number: row for row in rows}


def _claim_balance(p: Portfolio, claim: m.Claim) -> int:
    return ledger.balance(p.db, p.practice.id, BalanceScope.CLAIM, claim.id, Account.AR_INSURANCE)


def test_rows_of_one_claim_id_are_its_lines(portfolio: Portfolio) -> None:
    p = portfolio
    batch, counts = p.stage(portfolio_file(*LINES))
    assert counts["rejected"] == 0
    assert counts["new"] + counts["flagged"] == 4
    outcomes = _outcomes(p, batch)
    # The preview: the claim is worked as a whole, so its team is judged on its total.
    assert {n: o.detail["team"] for n, o in outcomes.items()} == {
        2: "Senior Agent",
        3: "General",
        4: "Senior Agent",
        5: "Senior Agent",
    }
    assert (outcomes[4].detail["line"], outcomes[4].detail["claim_row"]) == (2, 2)
    assert (outcomes[5].detail["line"], outcomes[5].detail["claim_row"]) == (3, 2)
    assert outcomes[2].detail["lines"] == 3

    written = p.commit(batch)

    assert written["claims"] == 2
    assert written["claim_lines"] == 4
    assert written["transactions"] == 2  # one opening balance per claim
    claims = _claims(p)
    claim = claims["L-1"]
    assert [(line.line_number, line.procedure_code, line.charge_cents) for line in claim.lines] == [
        (1, "90837", 60_000),
        (2, "90785", 10_000),
        (3, "90837", 60_000),
    ]
    assert [line.service_on.strftime("%m/%d/%Y") for line in claim.lines] == [dos(20), dos(20), dos(13)]
    assert claim.billed_cents == 130_000
    assert (claim.service_from_on.strftime("%m/%d/%Y"), claim.service_to_on.strftime("%m/%d/%Y")) == (
        dos(20),
        dos(13),
    )
    assert _claim_balance(p, claim) == L1_BALANCE_CENTS
    teams = dict(p.db.execute(select(m.Team.id, m.Team.name)).all())
    assert teams[claim.assignee_team_id] == "Senior Agent"
    assert teams[claims["L-2"].assignee_team_id] == "General"
    transactions = p.db.scalars(
        select(m.LedgerTransaction).where(m.LedgerTransaction.practice_id == p.practice.id)
    ).all()
    assert sorted(t.idempotency_key or "" for t in transactions) == sorted(
        f"opening-balance:claim:{c.id}" for c in claims.values()
    )
    # Every row, line or head, names its claim.
    p.db.expire_all()  # written by multi-row statements, as the batch service knows
    assert {n: o.claim_id for n, o in _outcomes(p, batch).items()} == {
        2: claim.id,
        3: claims["L-2"].id,
        4: claim.id,
        5: claim.id,
    }
    check = ledger.check_ledger(p.db, p.practice.id)
    assert check.ok, check.problems()


def test_a_line_portfolio_imported_again_is_unchanged_and_a_changed_line_updates_its_claim(
    portfolio: Portfolio,
) -> None:
    p = portfolio
    batch, _ = p.stage(portfolio_file(*LINES))
    p.commit(batch)

    again, counts = p.stage(portfolio_file(*LINES))
    assert counts == {"rows": 4, "new": 0, "updated": 0, "unchanged": 4, "flagged": 0, "rejected": 0}
    assert p.commit(again)["claim_lines"] == 0

    paid_down = [*LINES[:3], LINES[3].replace("$500.00", "$300.00")]
    changed, counts = p.stage(portfolio_file(*paid_down))
    assert (counts["updated"], counts["unchanged"]) == (3, 1)  # the claim's three rows
    head = _outcomes(p, changed)[2]
    assert head.detail["diff"] == {"balance_cents": [L1_BALANCE_CENTS, L1_BALANCE_CENTS - 20_000]}
    written = p.commit(changed)
    assert written["flags"] == 1
    assert written["claim_lines"] == 0
    assert _claim_balance(p, _claims(p)["L-1"]) == L1_BALANCE_CENTS


def _rejected(p: Portfolio, batch: m.ImportBatch) -> dict[int, dict[str, Any]]:
    return {n: o.detail for n, o in _outcomes(p, batch).items() if o.outcome == "rejected"}


def test_an_exact_duplicate_row_is_rejected_naming_both_rows(portfolio: Portfolio) -> None:
    p = portfolio
    batch, counts = p.stage(portfolio_file(LINES[0], LINES[1], LINES[0]), filename="dup.csv")
    assert counts["rejected"] == 1
    (problem,) = _rejected(p, batch)[4]["problems"]
    assert problem["code"] == "import.duplicate_row"
    assert problem["where"] == 'dup.csv row 4, column "Claim ID"'
    assert problem["message"] == 'claim "L-1": row 4 repeats row 2 exactly (a duplicate)'
    written = p.commit(batch)
    assert written["claim_lines"] == 2
    assert _claim_balance(p, _claims(p)["L-1"]) == 45_000


def test_a_repeated_line_with_other_figures_is_rejected_naming_the_field(portfolio: Portfolio) -> None:
    p = portfolio
    again = LINES[0].replace("$450.00", "$400.00")
    batch, _ = p.stage(portfolio_file(LINES[0], again), filename="twice.csv")
    (problem,) = _rejected(p, batch)[3]["problems"]
    assert problem["code"] == "import.repeated_line"
    assert problem["where"] == 'twice.csv row 3, column "Balance"'
    assert "row 2" in problem["message"]
    assert "row 3" in problem["message"]
    assert "$450.00" in problem["message"]
    assert "$400.00" in problem["message"]


def test_rows_of_one_claim_id_for_another_patient_or_payer_are_rejected(portfolio: Portfolio) -> None:
    p = portfolio
    other_patient = LINES[2].replace('"PARK, ANN"', "Zoe Quill")
    other_payer = LINES[3].replace("Aetna,60054", "Cigna,62308")
    batch, counts = p.stage(portfolio_file(LINES[0], other_patient, other_payer), filename="mixed.csv")
    assert counts["rejected"] == 2
    rejected = _rejected(p, batch)
    (patient,) = rejected[3]["problems"]
    assert patient["code"] == "import.claim_disagrees"
    assert patient["where"] == 'mixed.csv row 3, column "Patient"'
    assert patient["message"] == (
        'claim "L-1" is for patient "Park, Ann" on row 2 but "Quill, Zoe" on row 3: one claim has one patient'
    )
    (payer,) = rejected[4]["problems"]
    assert payer["where"] == 'mixed.csv row 4, column "Payer"'
    assert "Aetna (60054)" in payer["message"]
    assert "Cigna (62308)" in payer["message"]
    assert "row 2" in payer["message"]
    assert "row 4" in payer["message"]
    p.commit(batch)
    claim = _claims(p)["L-1"]
    assert len(claim.lines) == 1
    assert _claim_balance(p, claim) == 45_000


def test_claims_spread_over_many_pages_are_settled_whole(portfolio: Portfolio) -> None:
    """A page size of two rows: claims' rows straddle the pages read back from the database."""
    p = Portfolio(
        portfolio.db,
        portfolio.practice,
        portfolio.actor,
        ArPortfolioHandler(today=lambda: TODAY, page_rows=2),
    )

    def row(ref: str, code: str, days_ago: int, balance_cents: int) -> str:
        balance = f"${balance_cents // 100}.{balance_cents % 100:02d}"
        return f"{ref},Ann Park,Aetna,60054,{dos(days_ago)},{code},Dana Lee,$100.00,{balance},"

    lines = [
        ("A-1", "90837", 9, 1_000),
        ("A-3", "90837", 7, 3_000),
        ("A-1", "90785", 9, 1_100),
        ("A-2", "90834", 8, 2_000),
        ("A-3", "90785", 7, 3_100),
        ("A-1", "90837", 5, 1_200),
    ]
    # The last row repeats the second exactly.
    rows = [row(*line) for line in (*lines, lines[1])]
    batch, counts = p.stage(portfolio_file(*rows))
    assert counts["rejected"] == 1
    written = p.commit(batch)
    assert (written["claims"], written["claim_lines"], written["transactions"]) == (3, 6, 3)
    claims = _claims(p)
    assert [_claim_balance(p, claims[ref]) for ref in ("A-1", "A-2", "A-3")] == [3_300, 2_000, 6_100]
    assert [line.procedure_code for line in claims["A-1"].lines] == ["90837", "90785", "90837"]

    # Every line paid down by a dollar: each claim's total changes, nothing else does.
    changed = [row(ref, code, days_ago, cents - 100) for ref, code, days_ago, cents in lines]
    batch, counts = p.stage(portfolio_file(*changed))
    assert (counts["updated"], counts["unchanged"], counts["rejected"]) == (6, 0, 0)
    assert p.commit(batch)["flags"] == 3
    assert ledger.check_ledger(p.db, p.practice.id).ok
