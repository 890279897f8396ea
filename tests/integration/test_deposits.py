"""Deposits and bank reconciliation on a real database: the statement import (all or nothing,
never twice), the matching rules and their refusals to guess, manual matches (audited), the
reconciliation's totals, the API, the page and the demo's bank account."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import deposits
from revcycle.services.actor import Actor, system_actor
from revcycle.services.demo_deposits import missing_from_bank
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.conftest import login, session_csrf
from tests.integration.test_demo import TODAY, small_demo
from tests.integration.world import PASSWORD, World, build_world

MAR = date(2026, 3, 2)  # a Monday


class Books:
    """One practice with a billing person and a payer, to record payments and deposits in."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.practice = f.make_practice(db)
        self.actor = f.actor_for(db, f.make_user(db, self.practice, Role.BILLING))
        self.payer = f.make_payer(db, name="Aetna")

    def pay(
        self, cents: int, on: date, *, method: str = "eft", kind: str = "insurance", ref: str = ""
    ) -> m.Payment:
        row = m.Payment(
            practice_id=self.practice.id,
            kind=kind,
            method=method,
            amount_cents=cents,
            received_on=on,
            reference=ref,
            payer_id=self.payer.id if kind == "insurance" else None,
        )
        self.db.add(row)
        self.db.flush()
        return row

    def deposit(self, cents: int, on: date, description: str = "DEPOSIT", reference: str = "") -> m.Deposit:
        return deposits.create_deposit(
            self.db,
            actor=self.actor,
            practice_id=self.practice.id,
            deposited_on=on,
            amount_cents=cents,
            reference=reference,
            description=description,
        )

    def match(self) -> deposits.MatchReport:
        return deposits.match_deposits(self.db, actor=self.actor, practice_id=self.practice.id)

    def links(self) -> dict[int, int | None]:
        rows = self.db.execute(
            select(m.Payment.id, m.Payment.deposit_id).where(m.Payment.practice_id == self.practice.id)
        )
        return {row[0]: row[1] for row in rows}

    def count(self, model: type[m.Base]) -> int:
        column = model.practice_id  # type: ignore[attr-defined]
        return self.db.scalar(select(func.count()).where(column == self.practice.id)) or 0


@pytest.fixture
def books(db: Session) -> Books:
    return Books(db)


def audit_actions(db: Session, practice_id: int) -> list[str]:
    return list(
        db.scalars(
            select(m.AuditLog.action).where(m.AuditLog.practice_id == practice_id).order_by(m.AuditLog.seq)
        )
    )


STATEMENT = (
    b"Posting Date,Description,Amount,Balance\n"
    b'03/02/2026,"HCCLAIMPMT TRN*1*1234567890*1512345678\\","1,234.56",5000.00\n'
    b"03/03/2026,MONTHLY SERVICE FEE,(15.00),4985.00\n"
    b"2026-03-04,BRANCH CASH DEPOSIT,80.00,5065.00\n"
    b"2026-03-04,BRANCH CASH DEPOSIT,80.00,5145.00\n"
)


# --- the statement import ------------------------------------------------------------------------


def test_the_import_records_credits_skips_debits_and_never_records_a_line_twice(books: Books) -> None:
    first = deposits.import_statement(
        books.db, actor=books.actor, practice_id=books.practice.id, data=STATEMENT, filename="march.csv"
    )
    assert [(d.deposited_on, d.amount_cents, d.description) for d in first.created] == [
        (MAR, 123456, "HCCLAIMPMT TRN*1*1234567890*1512345678\\"),
        (date(2026, 3, 4), 8000, "BRANCH CASH DEPOSIT"),
        (date(2026, 3, 4), 8000, "BRANCH CASH DEPOSIT"),  # two identical lines are two deposits
    ]
    assert [(x.row, x.amount_cents) for x in first.debits] == [(3, -1500)]
    assert first.duplicates == []
    again = deposits.import_statement(
        books.db, actor=books.actor, practice_id=books.practice.id, data=STATEMENT, filename="march.csv"
    )
    assert again.created == []
    assert [x.row for x in again.duplicates] == [2, 4, 5]
    assert books.count(m.Deposit) == 3
    assert books.count(m.StoredFile) == 2  # each file kept as it came
    assert audit_actions(books.db, books.practice.id).count("deposit.import") == 2


def test_a_statement_with_one_bad_row_writes_nothing_and_names_it(books: Books) -> None:
    bad = STATEMENT + b"03/05/2026,EFT,12.345,0\n03/32/2026,EFT,1.00,0\n"
    with pytest.raises(InvalidInput) as refused:
        deposits.import_statement(
            books.db, actor=books.actor, practice_id=books.practice.id, data=bad, filename="b.csv"
        )
    detail = refused.value.detail
    assert detail.startswith("b.csv: 2 problem(s), nothing was saved")
    assert "b.csv, row 6, column amount: '12.345' has a fraction of a cent" in detail
    assert "b.csv, row 7, column date: '03/32/2026' is not a date" in detail
    assert books.count(m.Deposit) == books.count(m.StoredFile) == 0
    assert audit_actions(books.db, books.practice.id) == []


def test_a_deposit_by_hand_must_be_money_in(books: Books) -> None:
    for cents in (0, -500):
        with pytest.raises(InvalidInput, match="is not money in"):
            books.deposit(cents, MAR)
    with pytest.raises(InvalidInput, match="description: is longer than 200"):
        books.deposit(100, MAR, "x" * 201)
    row = books.deposit(100, MAR, "desk", reference="SLIP1")
    assert (row.amount_cents, row.reference) == (100, "SLIP1")
    assert audit_actions(books.db, books.practice.id) == ["deposit.create"]


# --- matching ------------------------------------------------------------------------------------


def test_an_eft_matches_the_payment_whose_trace_it_names_with_the_same_amount(books: Books) -> None:
    eft = books.pay(123456, MAR, ref="1234567890")
    same_amount_other_trace = books.pay(123456, MAR, ref="1999999999")
    ach = books.pay(5000, MAR, method="ach", ref="EFT-77")
    hit = books.deposit(123456, MAR + timedelta(days=1), "HCCLAIMPMT TRN*1*1234567890*1512345678\\")
    by_ref = books.deposit(5000, MAR, "ACH CREDIT", reference="EFT-77")
    wrong_amount = books.pay(9900, MAR, ref="5550001111")
    short = books.deposit(9800, MAR, "HCCLAIMPMT TRN*1*5550001111*1512345678\\")
    prefix_only = books.deposit(123456, MAR, "TRN*1*12345678901*X")  # a longer number is not the trace

    report = books.match()

    assert sorted((d, o.rule, o.payment_ids) for d, o in report.matched) == [
        (hit.id, "trace", (eft.id,)),
        (by_ref.id, "trace", (ach.id,)),
    ]
    links = books.links()
    assert links[eft.id] == hit.id
    assert links[ach.id] == by_ref.id
    assert links[same_amount_other_trace.id] is None
    assert links[wrong_amount.id] is None
    waiting = {a.deposit_id: a for a in report.ambiguous}
    assert waiting[short.id].reason == "the trace number is found but the amount differs"
    assert [o.payment_ids for o in waiting[short.id].options] == [(wrong_amount.id,)]
    assert prefix_only.id not in waiting  # not an EFT of ours: the amount rules found nothing either
    assert audit_actions(books.db, books.practice.id)[-2:] == ["deposit.match", "deposit.match"]


def test_a_trace_two_payments_share_is_left_for_a_person(books: Books) -> None:
    a = books.pay(1000, MAR, ref="TRACE42")
    b = books.pay(1000, MAR, ref="TRACE42")
    dep = books.deposit(1000, MAR, "TRN*1*TRACE42*9")
    report = books.match()
    assert report.matched == []
    [waiting] = report.ambiguous
    assert (waiting.deposit_id, waiting.reason) == (dep.id, "several payments with this trace and amount")
    assert books.links() == {a.id: None, b.id: None}


def test_a_check_matches_by_amount_deposited_zero_to_seven_days_after(books: Books) -> None:
    same_day = books.pay(15000, MAR, method="check", ref="1001")
    week_later = books.pay(16000, MAR, method="check", ref="1002")
    too_late = books.pay(17000, MAR, method="check", ref="1003")
    too_early = books.pay(18000, MAR, method="check", ref="1004")
    d0 = books.deposit(15000, MAR)
    d7 = books.deposit(16000, MAR + timedelta(days=7))
    d8 = books.deposit(17000, MAR + timedelta(days=8))
    d_before = books.deposit(18000, MAR - timedelta(days=1))
    report = books.match()
    assert sorted((d, o.payment_ids) for d, o in report.matched) == [
        (d0.id, (same_day.id,)),
        (d7.id, (week_later.id,)),
    ]
    links = books.links()
    assert links[too_late.id] is None
    assert links[too_early.id] is None
    assert {d8.id, d_before.id}.isdisjoint(d for d, _ in report.matched)


def test_a_days_checks_cash_and_card_batch_into_one_deposit_each(books: Books) -> None:
    checks = [books.pay(c, MAR, method="check", ref=f"C{c}") for c in (10000, 2550)]
    patient_check = books.pay(1000, MAR, method="check", kind="patient", ref="P1")
    cash = [books.pay(c, MAR, method="cash", kind="patient") for c in (2000, 3000)]
    cards = [books.pay(c, MAR, method="card", kind="patient") for c in (4000, 4000, 1500)]
    slip = books.deposit(13550, MAR + timedelta(days=2), "DEPOSIT 3 ITEMS")
    cash_dep = books.deposit(5000, MAR + timedelta(days=1), "BRANCH CASH DEPOSIT")
    card_dep = books.deposit(9500, MAR + timedelta(days=1), "MERCHANT SETTLEMENT")
    report = books.match()
    assert sorted((d, o.rule, o.payment_ids) for d, o in report.matched) == sorted(
        [
            (slip.id, "check_day", tuple(sorted([*(p.id for p in checks), patient_check.id]))),
            (cash_dep.id, "cash_day", tuple(p.id for p in cash)),
            (card_dep.id, "card_day", tuple(p.id for p in cards)),
        ]
    )
    assert report.ambiguous == []
    assert report.matched_payments == 8


def test_two_possible_answers_are_never_guessed(books: Books) -> None:
    first = books.pay(10000, MAR, method="check", ref="1")
    second = books.pay(10000, MAR + timedelta(days=1), method="check", ref="2")
    dep = books.deposit(10000, MAR + timedelta(days=2))
    report = books.match()
    assert report.matched == []
    [waiting] = report.ambiguous
    assert waiting.deposit_id == dep.id
    assert waiting.reason == "several payments could make this deposit"
    assert sorted(o.payment_ids for o in waiting.options) == [(first.id,), (second.id,)]
    assert set(books.links().values()) == {None}


def test_one_payment_two_deposits_could_take_is_left_for_a_person(books: Books) -> None:
    check = books.pay(7000, MAR, method="check", ref="9")
    a = books.deposit(7000, MAR + timedelta(days=1), "DEPOSIT A")
    b = books.deposit(7000, MAR + timedelta(days=3), "DEPOSIT B")
    report = books.match()
    assert report.matched == []
    assert sorted(x.deposit_id for x in report.ambiguous) == [a.id, b.id]
    assert {x.reason for x in report.ambiguous} == {"its payments could also make another deposit"}
    assert books.links() == {check.id: None}


def test_a_deposit_with_one_possible_answer_settles_the_next_ones(books: Books) -> None:
    """Thursday's and Friday's $30 card batches land Friday and Monday: Friday's deposit can
    only be Thursday's batch (a batch settles a day or more later), which leaves Monday's one."""
    thursday = books.pay(3000, date(2026, 3, 5), method="card", kind="patient")
    friday = books.pay(3000, date(2026, 3, 6), method="card", kind="patient")
    on_friday = books.deposit(3000, date(2026, 3, 6), "MERCHANT SETTLEMENT")
    on_monday = books.deposit(3000, date(2026, 3, 9), "MERCHANT SETTLEMENT")
    report = books.match()
    assert sorted((d, o.payment_ids) for d, o in report.matched) == [
        (on_friday.id, (thursday.id,)),
        (on_monday.id, (friday.id,)),
    ]
    assert report.ambiguous == []


def test_a_card_payment_is_never_its_own_days_deposit_nor_part_of_another_days(books: Books) -> None:
    books.pay(3000, MAR, method="card", kind="patient")
    books.pay(2000, MAR, method="card", kind="patient")
    same_day = books.deposit(5000, MAR, "MERCHANT SETTLEMENT")
    one_of_two = books.deposit(3000, MAR + timedelta(days=1), "MERCHANT SETTLEMENT")
    report = books.match()
    assert report.matched == []
    assert {a.deposit_id for a in report.ambiguous}.isdisjoint({same_day.id, one_of_two.id})


def test_matching_twice_changes_nothing(books: Books) -> None:
    books.pay(15000, MAR, method="check")
    books.deposit(15000, MAR)
    assert len(books.match().matched) == 1
    before = audit_actions(books.db, books.practice.id)
    second = books.match()
    assert (second.matched, second.ambiguous) == ([], [])
    assert audit_actions(books.db, books.practice.id) == before


# --- manual matches ------------------------------------------------------------------------------


def test_a_manual_match_must_add_up_and_is_audited_as_is_the_unmatch(db: Session, books: Books) -> None:
    a = books.pay(10000, MAR, method="check", ref="1")
    b = books.pay(10000, MAR + timedelta(days=1), method="check", ref="2")
    c = books.pay(500, MAR, method="cash", kind="patient")
    dep = books.deposit(10500, MAR + timedelta(days=2))
    with pytest.raises(InvalidInput, match=r"add up to \$200.00, the deposit is \$105.00"):
        deposits.set_deposit_payments(db, actor=books.actor, deposit_id=dep.id, payment_ids=[a.id, b.id])
    with pytest.raises(InvalidInput, match="no payment 999999"):
        deposits.set_deposit_payments(db, actor=books.actor, deposit_id=dep.id, payment_ids=[a.id, 999999])
    assert set(books.links().values()) == {None}

    done = deposits.set_deposit_payments(
        db,
        actor=books.actor,
        deposit_id=dep.id,
        payment_ids=[b.id, c.id],
        reason="slip says check 2 and cash",
    )
    assert done == sorted([b.id, c.id])
    assert books.links() == {a.id: None, b.id: dep.id, c.id: dep.id}
    entry = db.scalars(
        select(m.AuditLog).where(m.AuditLog.practice_id == books.practice.id).order_by(m.AuditLog.seq.desc())
    ).first()
    assert entry is not None
    assert (entry.action, entry.entity, entry.entity_id) == ("deposit.match", "deposit", str(dep.id))
    assert entry.before == {"payment_ids": []}
    assert entry.after == {"payment_ids": sorted([b.id, c.id])}
    assert entry.reason == "slip says check 2 and cash"

    other = books.deposit(10000, MAR + timedelta(days=2), "OTHER")
    with pytest.raises(Conflict, match="already matched to another deposit"):
        deposits.set_deposit_payments(db, actor=books.actor, deposit_id=other.id, payment_ids=[b.id])

    assert deposits.set_deposit_payments(db, actor=books.actor, deposit_id=dep.id, payment_ids=[]) == []
    assert set(books.links().values()) == {None}
    assert audit_actions(db, books.practice.id)[-1] == "deposit.unmatch"


def test_another_practices_deposit_does_not_exist_for_you(db: Session, books: Books) -> None:
    stranger = Books(db)
    theirs = stranger.deposit(100, MAR)
    with pytest.raises(NotFound):
        deposits.set_deposit_payments(db, actor=books.actor, deposit_id=theirs.id, payment_ids=[])
    with pytest.raises(NotFound):
        deposits.get_deposit(db, actor=books.actor, deposit_id=theirs.id)


# --- reconciliation ------------------------------------------------------------------------------


def test_the_reconciliation_balances_to_the_cent(books: Books) -> None:
    eft = books.pay(123456, MAR, ref="1234567890")
    books.pay(30001, MAR, ref="1777777777")  # remittance the bank never shows
    late_check = books.pay(4500, date(2026, 2, 27), method="check")  # received in February
    books.pay(0, MAR, ref="ZERO0000")  # an 835 that moved no money: not listed
    books.deposit(123456, MAR, "HCCLAIMPMT TRN*1*1234567890*1\\")
    books.deposit(4500, MAR + timedelta(days=1), "DEPOSIT")
    books.deposit(42, date(2026, 3, 31), "INTEREST PAYMENT")
    books.deposit(999, date(2026, 4, 1), "APRIL")  # outside the period
    books.match()

    view = deposits.reconciliation(
        books.db, actor=books.actor, practice_id=books.practice.id, from_on=MAR, to_on=date(2026, 3, 31)
    )

    assert [(p.deposit.amount_cents, [x.id for x in p.payments]) for p in view.matched] == [
        (123456, [eft.id]),
        (4500, [late_check.id]),  # counted with its deposit's period
    ]
    assert [d.amount_cents for d in view.unmatched_deposits] == [42]
    assert [p.amount_cents for p in view.unmatched_payments] == [30001]
    assert view.matched_deposits_cents == view.matched_payments_cents == 127956
    assert view.deposits_cents == 127998 == view.matched_deposits_cents + view.unmatched_deposits_cents
    assert view.payments_cents == 157957 == view.matched_payments_cents + view.unmatched_payments_cents
    assert view.balanced
    with pytest.raises(InvalidInput, match="to_on: 2026-03-01 is before from_on 2026-03-02"):
        deposits.reconciliation(
            books.db, actor=books.actor, practice_id=books.practice.id, from_on=MAR, to_on=date(2026, 3, 1)
        )


# --- the API and the page ------------------------------------------------------------------------


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


def test_the_api_imports_matches_and_reconciles(client: TestClient, db: Session, world: World) -> None:
    api = bearer(client, world.users[Role.BILLING].email)
    pid = world.own.practice.id
    payment = m.Payment(
        practice_id=pid,
        kind="insurance",
        method="eft",
        amount_cents=123456,
        received_on=MAR,
        reference="1234567890",
    )
    db.add(payment)
    db.flush()

    imported = client.post(
        "/api/deposits/import", files={"file": ("march.csv", STATEMENT, "text/csv")}, headers=api
    )
    assert imported.status_code == 200, imported.text
    body = imported.json()
    assert [d["amount_cents"] for d in body["created"]] == [123456, 8000, 8000]
    assert [x["row"] for x in body["debits_skipped"]] == [3]

    bad = client.post(
        "/api/deposits/import", files={"file": ("b.csv", b"Date,Description,Amount\nx,y,1\n")}, headers=api
    )
    assert bad.status_code == 422
    assert "b.csv, row 2, column date" in bad.json()["detail"]

    made = client.post(
        "/api/deposits",
        json={"deposited_on": "2026-03-06", "amount_cents": 2000, "reference": "S1"},
        headers=api,
    )
    assert made.status_code == 200, made.text
    assert (
        client.post(
            "/api/deposits", json={"deposited_on": "2026-03-06", "amount_cents": 0}, headers=api
        ).status_code
        == 422
    )

    matched = client.post("/api/deposits/match", headers=api)
    assert matched.status_code == 200, matched.text
    eft_deposit = body["created"][0]["id"]
    # the world's $20.00 card payment (2026-03-05) makes the hand-entered $20.00 deposit
    assert sorted((x["deposit_id"], x["payment_ids"]) for x in matched.json()["matched"]) == sorted(
        [(eft_deposit, [payment.id]), (made.json()["id"], [world.own.payment.id])]
    )

    undo = client.post(f"/api/deposits/{eft_deposit}/match", json={"payment_ids": []}, headers=api)
    assert undo.status_code == 200
    assert undo.json()["payment_ids"] == []
    redo = client.post(f"/api/deposits/{eft_deposit}/match", json={"payment_ids": [payment.id]}, headers=api)
    assert redo.json()["payment_ids"] == [payment.id]
    wrong = client.post(
        f"/api/deposits/{made.json()['id']}/match", json={"payment_ids": [payment.id]}, headers=api
    )
    assert wrong.status_code == 409

    listed = client.get("/api/deposits", params={"from_on": "2026-03-01", "to_on": "2026-03-31"}, headers=api)
    assert listed.json()["total"] == 4

    rec = client.get(
        "/api/reconciliation", params={"from_on": "2026-03-01", "to_on": "2026-03-31"}, headers=api
    )
    assert rec.status_code == 200, rec.text
    totals = rec.json()["totals"]
    assert totals["matched_deposits_cents"] == totals["matched_payments_cents"] == 125456
    assert (
        totals["deposits_cents"]
        == totals["matched_deposits_cents"] + totals["unmatched_deposits_cents"]
        == 141456
    )
    assert totals["payments_cents"] == totals["matched_payments_cents"] + totals["unmatched_payments_cents"]
    desk = bearer(client, world.users[Role.FRONT_DESK].email)
    assert (
        client.get(
            "/api/reconciliation", params={"from_on": "2026-03-01", "to_on": "2026-03-31"}, headers=desk
        ).status_code
        == 403
    )


def test_the_page_shows_the_totals_and_imports_a_statement(
    client: TestClient, db: Session, world: World
) -> None:
    pid = world.own.practice.id
    db.add(
        m.Payment(
            practice_id=pid,
            kind="insurance",
            method="eft",
            amount_cents=123456,
            received_on=MAR,
            reference="1234567890",
        )
    )
    db.flush()
    assert login(client, world.users[Role.BILLING].email, PASSWORD).status_code == 303
    token = session_csrf(client, "/deposits")
    page = client.get("/deposits", params={"from_on": "2026-03-01", "to_on": "2026-03-31"})
    assert page.status_code == 200
    assert 'href="/deposits"' in page.text
    assert "Every deposit of the period is matched." in page.text
    period = {"from_on": "2026-03-01", "to_on": "2026-03-31"}
    done = client.post(
        "/deposits/import",
        data={"csrf_token": token, **period},
        files={"file": ("march.csv", STATEMENT, "text/csv")},
    )
    assert done.status_code == 200, done.text
    assert (
        "march.csv: 3 deposit(s) recorded ($1,394.56); 1 debit(s) and 0 line(s) already recorded skipped."
        in done.text
    )
    assert "Matching: 1 deposit(s) matched to 1 payment(s)" in done.text
    assert 'data-cents="139456"' in done.text  # deposited: 1,234.56 + 80 + 80
    refused = client.post(
        "/deposits/import",
        data={"csrf_token": token, **period},
        files={"file": ("bad.csv", b"Date,Description,Amount\n2026-03-01,x,1.001\n", "text/csv")},
    )
    assert refused.status_code == 422
    assert "bad.csv, row 2, column amount" in refused.text
    cash = db.scalars(
        select(m.Deposit).where(m.Deposit.practice_id == pid, m.Deposit.amount_cents == 8000)
    ).first()
    assert cash is not None
    hand = client.post(
        f"/deposits/{cash.id}/match",
        data={"csrf_token": token, "payment_ids": str(world.own.payment.id), **period},
    )
    assert hand.status_code == 422
    assert "add up to $20.00, the deposit is $80.00" in hand.text
    assert (
        client.post(
            "/deposits/new",
            data={"csrf_token": token, "deposited_on": "2026-03-06", "amount": "20", **period},
        ).status_code
        == 200
    )
    ran = client.post("/deposits/match", data={"csrf_token": token, **period})
    assert "Matching: 1 deposit(s) matched to 1 payment(s)" in ran.text
    client.cookies.clear()
    assert login(client, world.users[Role.FRONT_DESK].email, PASSWORD).status_code == 303
    assert client.get("/deposits").status_code == 403


# --- the demo ------------------------------------------------------------------------------------


def test_the_demos_bank_account_reconciles_with_two_remittances_missing(db: Session) -> None:
    summary = small_demo(db)  # the demo imports its bank statements and matches them itself
    pid = summary.practice_id
    assert pid is not None
    actor: Actor = system_actor("demo")
    statements = db.scalar(
        select(func.count())
        .select_from(m.StoredFile)
        .where(m.StoredFile.practice_id == pid, m.StoredFile.kind == "bank_csv")
    )
    assert statements is not None
    assert statements >= 12
    received = db.scalars(
        select(m.Payment)
        .where(m.Payment.practice_id == pid, m.Payment.received_on <= TODAY, m.Payment.amount_cents > 0)
        .order_by(m.Payment.received_on, m.Payment.id)
    ).all()
    missing = missing_from_bank(list(received))  # what the demo left out of the bank
    assert len(missing) == 2

    view = deposits.reconciliation(db, actor=actor, practice_id=pid, from_on=date(2025, 1, 1), to_on=TODAY)
    unmatched = {p.id for p in view.unmatched_payments}
    assert missing <= unmatched
    assert view.balanced
    assert view.deposits_cents == view.matched_deposits_cents + view.unmatched_deposits_cents
    assert view.payments_cents == view.matched_payments_cents + view.unmatched_payments_cents
    # every matched deposit carries exactly its payments' sum, recomputed from the rows
    for pair in view.matched:
        assert pair.deposit.amount_cents == sum(p.amount_cents for p in pair.payments)
    # most of the money is matched; the interest line waits with nothing to match it
    assert view.matched_payments_cents > 0.85 * view.payments_cents
    # every EFT the bank has had time to show is matched by its trace, but the one left out
    settled = TODAY - timedelta(days=4)
    late_efts = {
        p.id
        for p in view.unmatched_payments
        if p.method == "eft" and p.kind == "insurance" and p.received_on < settled
    }
    assert late_efts <= missing
    assert any(d.description == "INTEREST PAYMENT" for d in view.unmatched_deposits)
    again = deposits.match_deposits(db, actor=actor, practice_id=pid)
    assert again.matched == []  # what waits is ambiguous, and stays so
    assert {a.deposit_id for a in again.ambiguous} == set(view.ambiguous) - {
        d for d, a in view.ambiguous.items() if a.reason == "matching would settle it"
    }
