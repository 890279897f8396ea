"""AR portfolio import: claims with opening balances, aged, assigned to teams; re-import,
bad rows, credit and zero balances, and all-or-nothing commit, on both databases."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ar_rules import claim_number_for
from revcycle.domain.ledger import Account, BalanceScope, fingerprint
from revcycle.domain.names import person_key
from revcycle.errors import InvalidInput
from revcycle.services import ledger
from tests import factories as f

from .conftest import TODAY, Portfolio, dos

LONG_REF = "LEGACY-BILLING-CLAIM-000000987654"

# Header variant 1: "Claim ID", "Patient Name", "Insurance", "Amount Due", "Date of Service".
HEADER_A = (
    "Claim ID,Patient Name,Insurance,Payer ID,Member ID,Date of Service,CPT,Rendering Provider,"
    "Billed Amount,Amount Due,Aging Days"
)
FILE_A = f"""{HEADER_A}
CLM-1001,"Smith, John",Aetna,60054,W123,{dos(40)},90837,Dana Lee,"$3,500.00","$3,033.66",
CLM-1002,Jane Doe,Medicare Part B,,MBI1,{dos(20)},90834,Dana Lee,$150.00,$150.00,
CLM-1003,"DOE, JANE",Blue Cross Blue Shield (22099),,B77,{dos(300)},90791,Dana Lee,$250.00,$200.00,120
CLM-1004,Bob Stone,Aetna,60054,W555,{dos(10)},90837,Dana Lee,$180.00,$80.00,
CLM-1005,Bob Stone,Aetna,60054,W555,{dos(12)},90837,Dana Lee,$180.00,($25.00),
CLM-1006,Ann Park,NJ FamilyCare,,N1,{dos(5)},90832,Dana Lee,$90.00,$0.00,
{LONG_REF},Ann Park,NJ FamilyCare,,N1,{dos(100)},90832,Dana Lee,$90.00,$90.00,
"""
FILE_A_BALANCE_CENTS = 303_366 + 15_000 + 20_000 + 8_000 - 2_500 + 0 + 9_000
TEAMS_A = {
    "CLM-1001": "Senior Agent",  # over $1,000
    "CLM-1002": "Government Specialist",  # Medicare by name
    "CLM-1003": "Escalation Team",  # the file's aging: 120 days
    "CLM-1004": "General",
    "CLM-1005": "General",  # a credit balance
    "CLM-1006": "Government Specialist",  # NJ FamilyCare is Medicaid
    claim_number_for(LONG_REF): "Escalation Team",  # 100 days since the date of service
}

# Header variant 2: "ClaimID", "Patient", "Payer Name", "Balance", "DOS", no aging column.
FILE_B = f"""ClaimID,Patient,Payer Name,Balance,DOS,Procedure,Provider
B-1,Carl Jung,Cigna (62308),"$1,000.01",{dos(3)},90837,Dana Lee
B-2,Carl Jung,Cigna (62308),$999.99,{dos(91)},90837,Dana Lee
"""


def _claims(p: Portfolio) -> dict[str, m.Claim]:
    rows = p.db.scalars(select(m.Claim).where(m.Claim.practice_id == p.practice.id))
    return {claim.number: claim for claim in rows}


def _team_names(p: Portfolio) -> dict[int, str]:
    return dict(p.db.execute(select(m.Team.id, m.Team.name).where(m.Team.practice_id == p.practice.id)).all())


def _account_balance(p: Portfolio, account: Account) -> int:
    return ledger.balance(p.db, p.practice.id, BalanceScope.ACCOUNT, None, account)


def test_portfolio_becomes_claims_with_opening_balances(portfolio: Portfolio) -> None:
    p = portfolio
    batch, counts = p.stage(FILE_A)
    # The first row of each payer and clinician new to us is flagged: Aetna and Dana Lee (row
    # 2), Medicare (3), Blue Cross (4), NJ FamilyCare (7).
    assert counts == {"rows": 7, "new": 3, "updated": 0, "unchanged": 0, "flagged": 4, "rejected": 0}
    assert p.count(m.Claim) == 0  # staging changes nothing live

    written = p.commit(batch)

    assert written["claims"] == 7
    assert written["transactions"] == 6  # the zero balance has none
    assert written["balance_cents"] == FILE_A_BALANCE_CENTS
    claims = _claims(p)
    teams = _team_names(p)
    assert {number: teams[claim.assignee_team_id] for number, claim in claims.items()} == TEAMS_A  # type: ignore[index]
    assert {claim.status for claim in claims.values()} == {"accepted"}
    assert {claim.source for claim in claims.values()} == {"ar_import"}
    assert _account_balance(p, Account.AR_INSURANCE) == FILE_A_BALANCE_CENTS
    assert _account_balance(p, Account.OPENING_BALANCE) == -FILE_A_BALANCE_CENTS
    check = ledger.check_ledger(p.db, p.practice.id)
    assert check.ok, check.problems()
    assert check.transactions == 6
    assert check.postings == 12


def test_claims_carry_lines_events_and_their_own_balances(portfolio: Portfolio) -> None:
    p = portfolio
    batch, _ = p.stage(FILE_A)
    p.commit(batch)
    claims = _claims(p)
    first = claims["CLM-1001"]
    assert first.billed_cents == 350_000
    assert first.service_from_on == first.service_to_on
    assert [(line.procedure_code, line.charge_cents) for line in first.lines] == [("90837", 350_000)]
    assert ledger.balance(p.db, p.practice.id, BalanceScope.CLAIM, first.id, Account.AR_INSURANCE) == 303_366
    credit = claims["CLM-1005"]
    assert ledger.balance(p.db, p.practice.id, BalanceScope.CLAIM, credit.id, Account.AR_INSURANCE) == -2_500
    assert credit.billed_cents == 18_000
    zero = claims["CLM-1006"]
    assert ledger.balance(p.db, p.practice.id, BalanceScope.CLAIM, zero.id, Account.AR_INSURANCE) == 0
    events = p.db.execute(
        select(m.ClaimEvent.to_status, m.ClaimEvent.source, m.ClaimEvent.detail).where(
            m.ClaimEvent.practice_id == p.practice.id
        )
    ).all()
    assert len(events) == 7
    assert {(to, source) for to, source, _ in events} == {("accepted", "import")}
    assert f"batch {batch.id}" in events[0][2]
    # Every outcome row links its claim.
    links = p.db.scalars(select(m.ImportRowOutcome.claim_id).where(m.ImportRowOutcome.batch_id == batch.id))
    assert sorted(links) == sorted(claim.id for claim in claims.values())  # type: ignore[type-var]
    # The staged rows have served their purpose.
    assert p.db.scalar(select(func.count()).where(m.StagedArRow.batch_id == batch.id)) == 0


def test_patients_payers_and_coverages_are_matched_or_created(portfolio: Portfolio, db: Session) -> None:
    p = portfolio
    aetna = f.make_payer(db, name="Aetna Health", edi_payer_id="60054")
    batch, _ = p.stage(FILE_A)
    written = p.commit(batch)
    clients = db.scalars(select(m.Client).where(m.Client.practice_id == p.practice.id)).all()
    names = sorted((client.first_name, client.last_name) for client in clients)
    assert names == [("Ann", "Park"), ("Bob", "Stone"), ("Jane", "Doe"), ("John", "Smith")]
    assert all(client.name_key == person_key(f"{client.first_name} {client.last_name}") for client in clients)
    assert written["clients"] == 4
    assert p.count(m.Guarantor) == 4
    claims = _claims(p)
    # Aetna is known by its EDI payer id; its name in this file becomes an alias.
    assert claims["CLM-1001"].payer_id == aetna.id
    alias = db.scalars(select(m.PayerAlias).where(m.PayerAlias.normalized == "aetna")).one()
    assert alias.payer_id == aetna.id
    medicare = db.get(m.Payer, claims["CLM-1002"].payer_id)
    assert medicare is not None
    assert (medicare.name, medicare.kind) == ("Medicare Part B", "medicare")
    bcbs = db.get(m.Payer, claims["CLM-1003"].payer_id)
    assert bcbs is not None
    assert (bcbs.name, bcbs.edi_payer_id) == ("Blue Cross Blue Shield", "22099")
    # Jane Doe ("Jane Doe" and "DOE, JANE") is one client with two coverages.
    jane = claims["CLM-1002"].client_id
    assert claims["CLM-1003"].client_id == jane
    assert p.count(m.Coverage) == 5  # John/Aetna, Jane/Medicare, Jane/BCBS, Bob/Aetna, Ann/FamilyCare
    coverage = db.get(m.Coverage, claims["CLM-1001"].coverage_id)
    assert coverage is not None
    assert coverage.member_id == "W123"


def test_a_long_claim_id_gets_a_short_number_and_a_note(portfolio: Portfolio, db: Session) -> None:
    p = portfolio
    batch, _ = p.stage(FILE_A)
    p.commit(batch)
    claim = _claims(p)[claim_number_for(LONG_REF)]
    assert len(claim.number) == 17
    notes = db.scalars(select(m.Note.body).where(m.Note.claim_id == claim.id)).all()
    assert len(notes) == 1
    assert LONG_REF in notes[0]


def test_aging_from_the_date_of_service_when_the_file_has_no_aging(portfolio: Portfolio) -> None:
    p = portfolio
    batch, counts = p.stage(FILE_B, filename="other-system.csv")
    assert (counts["new"], counts["flagged"]) == (1, 1)  # Cigna and Dana Lee are new to us
    detail: dict[int, dict[str, Any]] = dict(
        p.db.execute(
            select(m.ImportRowOutcome.row_number, m.ImportRowOutcome.detail).where(
                m.ImportRowOutcome.batch_id == batch.id
            )
        ).all()
    )
    assert (detail[2]["aging_days"], detail[2]["team"]) == (3, "Senior Agent")
    assert (detail[3]["aging_days"], detail[3]["team"]) == (91, "Escalation Team")
    p.commit(batch)
    teams = _team_names(p)
    assert {n: teams[c.assignee_team_id] for n, c in _claims(p).items()} == {  # type: ignore[index]
        "B-1": "Senior Agent",
        "B-2": "Escalation Team",
    }


def test_reimport_changes_nothing(portfolio: Portfolio) -> None:
    p = portfolio
    first, _ = p.stage(FILE_A)
    p.commit(first)
    before = {model: p.count(model) for model in (m.Claim, m.Client, m.Coverage, m.LedgerTransaction)}

    again, counts = p.stage(FILE_A)
    assert counts == {"rows": 7, "new": 0, "updated": 0, "unchanged": 7, "flagged": 0, "rejected": 0}
    linked = p.db.scalars(select(m.ImportRowOutcome.claim_id).where(m.ImportRowOutcome.batch_id == again.id))
    assert None not in set(linked)  # an unchanged row names the claim it matched
    written = p.commit(again)

    assert written["claims"] == 0
    assert written["transactions"] == 0
    assert {model: p.count(model) for model in before} == before
    assert ledger.check_ledger(p.db, p.practice.id).ok


def test_bad_rows_are_rejected_with_file_row_column_and_value(portfolio: Portfolio) -> None:
    p = portfolio
    text_ = (
        "Claim ID,Patient,Payer,Balance,DOS\n"
        f"G-1,Good Row,Aetna,$10.00,{dos(1)}\n"
        f"G-2,Bad Amount,Aetna,$12.3.4,{dos(1)}\n"
        "G-3,Bad Date,Aetna,$5.00,02/30/2026\n"
        f"G-1,Repeated Claim,Aetna,$7.00,{dos(2)}\n"
        f"{'X' * 51},Long Ref,Aetna,$1.00,{dos(2)}\n"
    )
    batch, counts = p.stage(text_, filename="bad.csv")
    assert (counts["new"] + counts["flagged"], counts["rejected"], counts["rows"]) == (1, 4, 5)
    rejected: dict[int, dict[str, Any]] = dict(
        p.db.execute(
            select(m.ImportRowOutcome.row_number, m.ImportRowOutcome.detail).where(
                m.ImportRowOutcome.batch_id == batch.id, m.ImportRowOutcome.outcome == "rejected"
            )
        ).all()
    )
    assert rejected[3]["problems"][0]["where"] == 'bad.csv row 3, column "Balance"'
    assert '"$12.3.4"' in rejected[3]["problems"][0]["message"]
    assert rejected[4]["problems"][0]["where"] == 'bad.csv row 4, column "DOS"'
    assert '"02/30/2026"' in rejected[4]["reason"]
    # G-1 again, for another patient: not a line of the same claim.
    assert rejected[5]["problems"][0]["code"] == "import.claim_disagrees"
    assert rejected[5]["problems"][0]["where"] == 'bad.csv row 5, column "Patient"'
    assert "row 2" in rejected[5]["reason"]
    assert "row 5" in rejected[5]["reason"]
    assert rejected[6]["problems"][0]["where"] == 'bad.csv row 6, column "Claim ID"'
    written = p.commit(batch)
    assert written["claims"] == 1


def test_transactions_fingerprint_as_the_domain_does(portfolio: Portfolio) -> None:
    p = portfolio
    batch, _ = p.stage(FILE_A)
    p.commit(batch)
    transactions = p.db.scalars(
        select(m.LedgerTransaction).where(m.LedgerTransaction.practice_id == p.practice.id)
    ).all()
    assert len(transactions) == 6
    for txn in transactions:
        lines = ledger.lines_of(p.db, txn.id)
        assert txn.kind == "opening_balance"
        assert txn.accounting_on == TODAY
        assert txn.fingerprint == fingerprint(txn.kind, txn.accounting_on, lines, txn.memo)
        assert txn.idempotency_key == f"opening-balance:claim:{lines[0].claim_id}"
    kinds = Counter(
        (str(line.account), line.amount_cents > 0)
        for txn in transactions
        for line in ledger.lines_of(p.db, txn.id)
    )
    # five debit balances, one credit balance (posted reversed)
    assert kinds == {("ar:insurance", True): 5, ("opening_balance", False): 5,
                     ("ar:insurance", False): 1, ("opening_balance", True): 1}  # fmt: skip


def _plant_fault_on_postings(db: Session) -> None:
    """A trigger that refuses every posting: the commit fails after claims, lines, events and
    ledger transactions are written."""
    if db.get_bind().dialect.name == "sqlite":
        db.execute(
            text(
                "CREATE TRIGGER planted_fault BEFORE INSERT ON postings "
                "BEGIN SELECT RAISE(ABORT, 'planted fault'); END"
            )
        )
        return
    db.execute(
        text(
            "CREATE FUNCTION planted_fault() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'planted fault'; END; $$ LANGUAGE plpgsql"
        )
    )
    db.execute(
        text(
            "CREATE TRIGGER planted_fault BEFORE INSERT ON postings "
            "FOR EACH ROW EXECUTE FUNCTION planted_fault()"
        )
    )


def _remove_fault(db: Session) -> None:
    db.execute(
        text(
            "DROP TRIGGER planted_fault" + ("" if db.get_bind().dialect.name == "sqlite" else " ON postings")
        )
    )


def test_a_fault_part_way_through_commit_leaves_nothing_applied(portfolio: Portfolio, db: Session) -> None:
    p = portfolio
    batch, _ = p.stage(FILE_A)
    payers_before = db.scalar(select(func.count()).select_from(m.Payer))
    _plant_fault_on_postings(db)

    with pytest.raises(DBAPIError, match="planted fault"), db.begin_nested():
        p.commit(batch)

    for model in (m.Claim, m.ClaimLine, m.ClaimEvent, m.Client, m.Guarantor, m.Coverage, m.Team,
                  m.LedgerTransaction, m.Posting, m.LedgerBalance, m.Note, m.Provider,
                  m.WorkItem):  # fmt: skip
        assert p.count(model) == 0, model.__name__
    assert db.scalar(select(func.count()).select_from(m.Payer)) == payers_before
    outcomes = db.execute(
        select(m.ImportRowOutcome.outcome, m.ImportRowOutcome.claim_id).where(
            m.ImportRowOutcome.batch_id == batch.id
        )
    ).all()
    assert {claim_id for _, claim_id in outcomes} == {None}
    assert db.scalar(select(func.count()).where(m.StagedArRow.batch_id == batch.id)) == 7

    # With the fault gone, the same staged batch commits whole.
    _remove_fault(db)
    assert p.commit(batch)["claims"] == 7
    assert ledger.check_ledger(db, p.practice.id).ok


def test_commit_refuses_a_closed_period(portfolio: Portfolio, db: Session) -> None:
    p = portfolio
    batch, _ = p.stage(FILE_A)
    db.add(m.AccountingPeriod(practice_id=p.practice.id, starts_on=TODAY.replace(day=1), ends_on=TODAY))
    db.flush()
    with pytest.raises(InvalidInput, match="closed period"):
        p.commit(batch)
    assert p.count(m.Claim) == 0


def test_discard_drops_the_staged_rows_and_keeps_the_outcomes(portfolio: Portfolio, db: Session) -> None:
    p = portfolio
    batch, _ = p.stage(FILE_A)
    p.handler.discard(db, batch, actor=p.actor)
    assert db.scalar(select(func.count()).where(m.StagedArRow.batch_id == batch.id)) == 0
    assert db.scalar(select(func.count()).where(m.ImportRowOutcome.batch_id == batch.id)) == 7
    assert p.commit(batch)["claims"] == 0


def test_two_practices_import_the_same_claim_ids(portfolio: Portfolio, db: Session) -> None:
    p = portfolio
    batch, _ = p.stage(FILE_A)
    p.commit(batch)
    other = f.make_practice(db)
    user = f.make_user(db, other)
    q = Portfolio(db, other, f.actor_for(db, user), p.handler)
    batch, counts = q.stage(FILE_A)
    # The payers are in the catalog now; Dana Lee is new to this practice.
    assert (counts["new"], counts["flagged"]) == (6, 1)
    q.commit(batch)
    assert q.count(m.Claim) == 7
    assert ledger.check_ledger(db).ok


def test_through_the_batch_service_with_one_audit_row_per_step(portfolio: Portfolio, db: Session) -> None:
    from revcycle.services.imports.batches import commit_import, stage_import

    p = portfolio
    batch = stage_import(
        db, actor=p.actor, practice_id=p.practice.id, filename="portfolio.csv", data=FILE_A.encode()
    )
    assert batch.format == "ar_aging"
    assert batch.counts["new"] + batch.counts["flagged"] == 7
    commit_import(db, actor=p.actor, batch_id=batch.id)
    assert p.count(m.Claim) == 7
    assert ledger.check_ledger(db, p.practice.id).ok
    audits = db.scalars(
        select(m.AuditLog.entity).where(m.AuditLog.practice_id == p.practice.id).order_by(m.AuditLog.seq)
    ).all()
    assert audits == ["import_batch", "import_batch"]
