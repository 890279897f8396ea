"""Front-desk payments against the client's balance, on both databases: the money goes to the
oldest visits first and the rest to credit, in one balanced transaction; the receipt PDF says
so (read back with pypdf) and reprints the same bytes; a void is the exact reversal; bad input
is 422 naming the field with nothing written; another practice's client is 404."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger import Account, BalanceScope, negate
from revcycle.domain.ledger_events import (
    ChargeRef,
    InsuranceRef,
    charge_to_insurance,
    charge_to_patient,
    transfer_to_patient,
)
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from revcycle.services import ledger, patient_payments
from revcycle.services.actor import Actor, system_actor
from revcycle.services.demo_patient_payments import add_front_desk_payments
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.conftest import csrf_from
from tests.integration.world import make_login_user


@dataclass
class Desk:
    db: Session
    practice: m.Practice
    desk_user: m.User
    desk: Actor
    client: m.Client
    # the client's three visits, oldest first: (session, what the client owes on it)
    visits: list[tuple[m.ServiceSession, int]]
    claim: m.Claim


def _visit(
    db: Session, practice: m.Practice, client: m.Client, provider: m.Provider, day: date
) -> m.ServiceSession:
    return f.make_session(
        db, practice, client, provider, starts_at=datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
    )


@pytest.fixture
def desk(db: Session) -> Desk:
    """A client owing $30 (copay after insurance, Mar 2), $100 (self-pay, Feb 10) and $20
    (copay, Mar 9): $150 in all, the oldest being the self-pay visit."""
    practice = f.make_practice(db, name="Harbor Counseling")
    practice.phone = "973-555-0100"
    user = make_login_user(db, practice, Role.FRONT_DESK, name="front-desk")
    client = f.make_client(db, practice)
    provider = f.make_provider(db, practice)
    payer = f.make_payer(db)
    coverage = f.make_coverage(db, client, payer)
    guarantor = f.make_guarantor(db, client)
    system = system_actor("test")
    march2 = _visit(db, practice, client, provider, date(2026, 3, 2))
    feb10 = _visit(db, practice, client, provider, date(2026, 2, 10))
    march9 = _visit(db, practice, client, provider, date(2026, 3, 9))
    insurance = InsuranceRef(coverage.id, payer.id)
    claim = f.make_claim(db, march2, coverage, status="paid")
    for service, claim_id, owed in ((march2, claim.id, 3000), (march9, None, 2000)):
        ref = ChargeRef(service.charges[0].id, client.id, claim_id)
        for kind, lines in (
            ("charge", charge_to_insurance(15000, ref, insurance)),
            ("transfer_to_patient", transfer_to_patient(owed, ref, insurance, guarantor.id)),
        ):
            ledger.post_transaction(
                db,
                actor=system,
                practice_id=practice.id,
                kind=kind,
                accounting_on=service.service_on,
                lines=lines,
            )
    self_pay = ChargeRef(feb10.charges[0].id, client.id)
    ledger.post_transaction(
        db,
        actor=system,
        practice_id=practice.id,
        kind="charge",
        accounting_on=feb10.service_on,
        lines=charge_to_patient(10000, self_pay, guarantor.id),
    )
    return Desk(
        db,
        practice,
        user,
        f.actor_for(db, user),
        client,
        [(feb10, 10000), (march2, 3000), (march9, 2000)],
        claim,
    )


def _owed(desk: Desk) -> list[int]:
    items = {item.session_id: item.owed_cents for item in patient_payments.open_items(desk.db, desk.client)}
    return [items.get(service.id, 0) for service, _ in desk.visits]


def _pay(desk: Desk, amount_cents: int, method: str = "cash", reference: str = "", **kw: object):  # type: ignore[no-untyped-def]
    return patient_payments.record_client_payment(
        desk.db,
        actor=desk.desk,
        client_id=desk.client.id,
        amount_cents=amount_cents,
        method=method,
        reference=reference,
        received_on=date(2026, 3, 20),
        **kw,  # type: ignore[arg-type]
    )


def _text(content: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages)


def _payments(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(m.Payment)) or 0


# --- allocation ----------------------------------------------------------------------------


def test_a_payment_goes_to_the_oldest_visits_first(desk: Desk) -> None:
    assert [item.owed_cents for item in patient_payments.open_items(desk.db, desk.client)] == [
        10000,
        3000,
        2000,
    ]

    result = _pay(desk, 12000)

    assert [(a.session_id, a.amount_cents) for a in result.allocations] == [
        (desk.visits[0][0].id, 10000),
        (desk.visits[1][0].id, 2000),
    ]
    assert result.allocations[1].claim_id == desk.claim.id  # the copay comes off the claim too
    assert result.allocations[0].claim_id is None  # self-pay: no claim
    assert (result.credit_cents, result.balance_due_cents, result.credit_balance_cents) == (0, 3000, 0)
    assert _owed(desk) == [0, 1000, 2000]
    lines = ledger.lines_of(desk.db, result.transaction.id)
    assert sorted((str(line.account), line.amount_cents) for line in lines) == [
        ("ar:patient", -10000),
        ("ar:patient", -2000),
        ("cash", 2000),
        ("cash", 10000),
    ]
    assert {line.payment_id for line in lines} == {result.payment.id}
    assert (
        ledger.balance(desk.db, desk.practice.id, BalanceScope.CLAIM, desk.claim.id, Account.AR_PATIENT)
        == 1000
    )
    assert ledger.check_ledger(desk.db, desk.practice.id).ok
    payment = result.payment
    assert (payment.kind, payment.method, payment.amount_cents, payment.client_id) == (
        "patient",
        "cash",
        12000,
        desk.client.id,
    )
    assert payment.created_by_user_id == desk.desk_user.id
    row = desk.db.scalars(
        select(m.AuditLog).where(m.AuditLog.entity == "payment", m.AuditLog.entity_id == str(payment.id))
    ).one()
    assert row.after["applied"] == [
        [desk.visits[0][0].charges[0].id, 10000],
        [desk.visits[1][0].charges[0].id, 2000],
    ]


def test_an_overpayment_becomes_the_clients_credit(desk: Desk) -> None:
    result = _pay(desk, 20000, "card", "4242")

    assert [a.amount_cents for a in result.allocations] == [10000, 3000, 2000]
    assert (result.credit_cents, result.balance_due_cents, result.credit_balance_cents) == (5000, 0, 5000)
    assert _owed(desk) == [0, 0, 0]
    credit = [
        line for line in ledger.lines_of(desk.db, result.transaction.id) if line.account == "patient_credit"
    ]
    assert [(line.amount_cents, line.client_id, line.charge_id) for line in credit] == [
        (-5000, desk.client.id, None)
    ]
    assert ledger.check_ledger(desk.db, desk.practice.id).ok
    # Nothing left to pay: the next payment is all credit.
    again = _pay(desk, 1500)
    assert (again.allocations, again.credit_cents, again.credit_balance_cents) == ([], 1500, 6500)
    assert ledger.check_ledger(desk.db, desk.practice.id).ok


def test_the_same_key_records_one_payment(desk: Desk) -> None:
    first = _pay(desk, 2500, idempotency_key="form-1")
    again = _pay(desk, 2500, idempotency_key="form-1")
    assert again.payment.id == first.payment.id
    assert [a.amount_cents for a in again.allocations] == [2500]
    assert _payments(desk.db) == 1
    assert _owed(desk) == [7500, 3000, 2000]


# --- receipt -------------------------------------------------------------------------------


def test_the_receipt_says_what_was_paid_and_reprints_the_same(desk: Desk) -> None:
    result = _pay(desk, 20000, "card", "4242")
    later = _pay(desk, 1000)  # after the receipt's payment: not in its balances

    content = patient_payments.receipt_pdf(desk.db, result.payment.id, actor=desk.desk)

    assert content.startswith(b"%PDF")
    text = _text(content)
    assert f"Harbor Counseling {desk.practice.legal_name} 1 Main St" in text
    assert "1 Main St" in text
    assert "Newark, NJ 07102" in text
    assert "973-555-0100" in text
    assert f"Receipt no. {result.payment.id}" in text
    assert "03/20/2026" in text
    assert desk.client.display_name in text
    assert "Card ending 4242" in text
    assert "Amount paid $200.00" in text
    assert "02/10/2026" in text
    assert "03/02/2026" in text
    assert "03/09/2026" in text
    assert "$100.00" in text
    assert "$30.00" in text
    assert "$20.00" in text
    applied, after = text.split("Balance due after this payment")
    assert "Kept as credit $50.00" in applied  # what the payment paid: the visits, then credit
    assert re.match(r"\s*\$0\.00\s*Credit on account\s*\$50\.00", after)
    assert "VOIDED" not in text
    payment = desk.db.get_one(m.Payment, result.payment.id)
    assert payment.stored_file_id is not None
    stored = desk.db.get_one(m.StoredFile, payment.stored_file_id)
    assert (stored.kind, stored.direction, stored.content) == ("pdf", "out", content)
    assert patient_payments.receipt_pdf(desk.db, result.payment.id, actor=desk.desk) == content
    assert desk.db.scalar(select(func.count()).select_from(m.StoredFile)) == 1
    assert later.credit_balance_cents == 6000


def test_a_receipt_never_shows_a_card_number(desk: Desk) -> None:
    assert patient_payments.describe_method("card", "4111 1111 1111 1111") == "Card ending 1111"
    assert patient_payments.describe_method("cash", "ref 4111111111111111") == "Cash (ref ending 1111)"
    assert patient_payments.describe_method("check", "1042") == "Check no. 1042"
    for reference in ("4111111111111111", "4111-1111-1111-1111", "42"):
        with pytest.raises(InvalidInput, match=r"^reference: "):
            _pay(desk, 1000, "card", reference)
    with pytest.raises(InvalidInput, match=r"^note: looks like a card number"):
        _pay(desk, 1000, "cash", note="card 4111 1111 1111 1111")
    assert _payments(desk.db) == 0


# --- void ----------------------------------------------------------------------------------


def test_a_void_is_the_exact_reversal_and_shows(desk: Desk) -> None:
    result = _pay(desk, 20000, "check", "1042")
    first_print = patient_payments.receipt_pdf(desk.db, result.payment.id, actor=desk.desk)
    first_file = desk.db.get_one(m.Payment, result.payment.id).stored_file_id

    reversal = patient_payments.void_client_payment(
        desk.db, actor=desk.desk, payment_id=result.payment.id, reason="entered on the wrong client"
    )

    original = ledger.lines_of(desk.db, result.transaction.id)
    assert ledger.lines_of(desk.db, reversal.id) == negate(original)
    assert reversal.reverses_transaction_id == result.transaction.id
    assert _owed(desk) == [10000, 3000, 2000]
    account = patient_payments.client_account(desk.db, actor=desk.desk, client_id=desk.client.id)
    assert (account.balance_due_cents, account.credit_cents) == (15000, 0)
    assert [(p.payment.id, p.voided) for p in account.payments] == [(result.payment.id, True)]
    assert ledger.check_ledger(desk.db, desk.practice.id).ok
    text = _text(patient_payments.receipt_pdf(desk.db, result.payment.id, actor=desk.desk))
    assert "VOIDED: entered on the wrong client" in text
    assert "Check no. 1042" in text
    assert desk.db.get_one(m.StoredFile, first_file).content == first_print  # the first print is kept
    audit_row = desk.db.scalars(
        select(m.AuditLog).where(m.AuditLog.action == "void", m.AuditLog.entity_id == str(result.payment.id))
    ).one()
    assert audit_row.reason == "entered on the wrong client"
    assert audit_row.before == {"voided": False, "stored_file_id": first_file}
    with pytest.raises(Conflict, match="already voided"):
        patient_payments.void_client_payment(
            desk.db, actor=desk.desk, payment_id=result.payment.id, reason="again"
        )
    with pytest.raises(InvalidInput, match=r"^reason: "):
        patient_payments.void_client_payment(
            desk.db, actor=desk.desk, payment_id=_pay(desk, 100).payment.id, reason=" "
        )


# --- who may, and bad input ----------------------------------------------------------------


def test_only_the_desk_billing_and_admins_take_payments(desk: Desk) -> None:
    therapist = f.actor_for(desk.db, f.make_user(desk.db, desk.practice, Role.THERAPIST))
    with pytest.raises(PermissionDenied):
        patient_payments.record_client_payment(
            desk.db, actor=therapist, client_id=desk.client.id, amount_cents=100, method="cash"
        )
    billing = f.actor_for(desk.db, f.make_user(desk.db, desk.practice, Role.BILLING))
    paid = patient_payments.record_client_payment(
        desk.db, actor=billing, client_id=desk.client.id, amount_cents=100, method="cash"
    )
    assert paid.payment.received_on <= date.today() + timedelta(days=1)
    other = f.make_client(desk.db, f.make_practice(desk.db))
    with pytest.raises(NotFound):
        patient_payments.record_client_payment(
            desk.db, actor=desk.desk, client_id=other.id, amount_cents=100, method="cash"
        )


@pytest.fixture
def api(client: TestClient, desk: Desk) -> dict[str, str]:
    return bearer(client, desk.desk_user.email)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount_cents": 0, "method": "cash"}, "amount_cents"),
        ({"amount_cents": -500, "method": "cash"}, "amount_cents"),
        ({"amount_cents": 20_000_000, "method": "cash"}, "amount_cents"),
        ({"amount_cents": 500, "method": "bitcoin"}, "method"),
        ({"amount_cents": 500, "method": "check"}, "reference"),
        ({"amount_cents": 500, "method": "check", "reference": "10 42!"}, "reference"),
        ({"amount_cents": 500, "method": "card", "reference": "4111111111111111"}, "reference"),
        ({"amount_cents": 500, "method": "cash", "received_on": "2999-01-01"}, "received_on"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, api: dict[str, str], desk: Desk, body: dict[str, object], field: str
) -> None:
    answer = client.post(f"/api/clients/{desk.client.id}/payments", json=body, headers=api)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid"
    assert answer.json()["detail"].startswith(f"{field}: ")
    assert _payments(desk.db) == 0


def test_a_closed_month_is_refused_naming_the_date(
    client: TestClient, api: dict[str, str], desk: Desk
) -> None:
    ledger.close_period(desk.db, actor=system_actor("test"), practice_id=desk.practice.id, year=2026, month=2)
    body = {"amount_cents": 500, "method": "cash", "received_on": "2026-02-27"}
    answer = client.post(f"/api/clients/{desk.client.id}/payments", json=body, headers=api)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("received_on: 2026-02-27 falls in the closed month 2026-02")
    assert _payments(desk.db) == 0


def test_the_api_records_prints_and_voids(client: TestClient, api: dict[str, str], desk: Desk) -> None:
    body = {"amount_cents": 11000, "method": "check", "reference": "1042", "received_on": "2026-03-20"}
    answer = client.post(f"/api/clients/{desk.client.id}/payments", json=body, headers=api)
    assert answer.status_code == 200, answer.text
    paid = answer.json()
    assert [(a["service_on"], a["amount_cents"]) for a in paid["allocations"]] == [
        ("2026-02-10", 10000),
        ("2026-03-02", 1000),
    ]
    assert (paid["credit_cents"], paid["balance_due_cents"], paid["credit_balance_cents"]) == (0, 4000, 0)

    receipt = client.get(paid["receipt_url"], headers=api)
    assert receipt.status_code == 200
    assert receipt.headers["content-type"] == "application/pdf"
    assert "Check no. 1042" in _text(receipt.content)
    assert client.get(paid["receipt_url"], headers=api).content == receipt.content

    missing = client.post(f"/api/payments/{paid['payment_id']}/void", json={"reason": ""}, headers=api)
    assert missing.status_code == 422
    assert missing.json()["detail"].startswith("reason: ")
    voided = client.post(f"/api/payments/{paid['payment_id']}/void", json={"reason": "bounced"}, headers=api)
    assert voided.status_code == 200, voided.text
    assert voided.json()["voided"] is True
    assert _owed(desk) == [10000, 3000, 2000]
    assert (
        client.post(f"/api/payments/{paid['payment_id']}/void", json={"reason": "x"}, headers=api).status_code
        == 409
    )
    assert ledger.check_ledger(desk.db, desk.practice.id).ok


def test_another_practices_client_and_payment_are_not_found(
    client: TestClient, api: dict[str, str], desk: Desk
) -> None:
    elsewhere = f.make_practice(desk.db)
    stranger = f.make_client(desk.db, elsewhere)
    body = {"amount_cents": 500, "method": "cash"}
    assert client.post(f"/api/clients/{stranger.id}/payments", json=body, headers=api).status_code == 404
    theirs = patient_payments.record_client_payment(
        desk.db, actor=system_actor("test"), client_id=stranger.id, amount_cents=500, method="cash"
    )
    assert client.get(f"/api/payments/{theirs.payment.id}/receipt.pdf", headers=api).status_code == 404
    voiding = client.post(f"/api/payments/{theirs.payment.id}/void", json={"reason": "x"}, headers=api)
    assert voiding.status_code == 404
    assert client.get(f"/front-desk/clients/{stranger.id}/payment").status_code in {303, 401}  # not signed in


# --- the page ------------------------------------------------------------------------------


def _sign_in(client: TestClient, desk: Desk) -> str:
    from tests.integration.conftest import login

    assert login(client, desk.desk_user.email).status_code == 303
    page = client.get(f"/front-desk/clients/{desk.client.id}/payment")
    assert page.status_code == 200, page.text
    return page.text


def test_the_desk_page_takes_a_payment_and_links_the_receipt(client: TestClient, desk: Desk) -> None:
    html = _sign_in(client, desk)
    assert "$150.00" in html  # the balance due, also the suggested amount
    assert 'value="150.00"' in html
    assert html.index("Feb 10, 2026") < html.index("Mar 2, 2026") < html.index("Mar 9, 2026")
    front = client.get("/front-desk")
    assert f"/front-desk/clients/{desk.client.id}/payment" in front.text

    form = {
        "csrf_token": csrf_from(html),
        "amount": "$25.00",
        "method": "card",
        "reference": "4242",
        "received_on": "2026-03-20",
        "idempotency_key": "k-1",
    }
    posted = client.post(f"/front-desk/clients/{desk.client.id}/payment", data=form)
    assert posted.status_code == 303, posted.text
    again = client.post(f"/front-desk/clients/{desk.client.id}/payment", data=form)  # a double click
    assert again.headers["location"] == posted.headers["location"]
    assert _payments(desk.db) == 1
    done = client.get(posted.headers["location"])
    payment = desk.db.scalars(select(m.Payment)).one()
    assert f"Payment no. {payment.id} recorded: $25.00 (Card ending 4242)" in done.text
    assert "$25.00 to the visit of Feb 10, 2026 (90837)" in done.text
    assert f"/api/payments/{payment.id}/receipt.pdf" in done.text
    assert "$125.00" in done.text
    receipt = client.get(f"/api/payments/{payment.id}/receipt.pdf")  # the signed-in page session
    assert receipt.status_code == 200
    assert "Card ending 4242" in _text(receipt.content)

    void = client.post(
        f"/front-desk/payments/{payment.id}/void", data={"csrf_token": csrf_from(done.text), "reason": "test"}
    )
    assert void.status_code == 303
    voided = client.get(void.headers["location"])
    assert 'data-testid="voided"' in voided.text
    assert "$150.00" in voided.text


def test_the_desk_page_refuses_bad_input_naming_the_field(client: TestClient, desk: Desk) -> None:
    html = _sign_in(client, desk)
    base = {"csrf_token": csrf_from(html), "method": "check", "received_on": "2026-03-20"}
    fraction = client.post(f"/front-desk/clients/{desk.client.id}/payment", data={**base, "amount": "1.005"})
    assert fraction.status_code == 422
    assert "amount: &#39;1.005&#39; has a fraction of a cent" in fraction.text
    no_check = client.post(f"/front-desk/clients/{desk.client.id}/payment", data={**base, "amount": "10"})
    assert no_check.status_code == 422
    assert "reference: enter the check number" in no_check.text
    assert 'value="10"' in no_check.text  # what was typed is kept
    assert _payments(desk.db) == 0


# --- the demo's desk payments --------------------------------------------------------------


def _owing(desk: Desk, cents: int) -> m.Client:
    """Another client of the practice owing ``cents`` on a self-pay visit."""
    client = f.make_client(desk.db, desk.practice)
    visit = _visit(desk.db, desk.practice, client, f.make_provider(desk.db, desk.practice), date(2026, 3, 3))
    ledger.post_transaction(
        desk.db,
        actor=system_actor("test"),
        practice_id=desk.practice.id,
        kind="charge",
        accounting_on=visit.service_on,
        lines=charge_to_patient(
            cents, ChargeRef(visit.charges[0].id, client.id), f.make_guarantor(desk.db, client).id
        ),
    )
    return client


def test_the_demos_desk_payments_come_from_clients_who_owe(desk: Desk) -> None:
    second = _owing(desk, 3500)
    f.make_client(desk.db, desk.practice)  # owes nothing: no payment
    third = _owing(desk, 4000)

    results = add_front_desk_payments(
        desk.db, practice_id=desk.practice.id, actor=desk.desk, today=date(2026, 3, 20)
    )

    assert [(r.payment.client_id, r.payment.amount_cents, r.payment.method) for r in results] == [
        (desk.client.id, 2000, "card"),  # a copay
        (second.id, 3500, "check"),  # the whole balance
        (third.id, 5500, "cash"),  # the balance and $15 ahead
    ]
    assert [r.payment.received_on for r in results] == [
        date(2026, 3, 20),
        date(2026, 3, 19),
        date(2026, 3, 18),
    ]
    assert results[1].payment.reference == "1047"
    assert [(r.balance_due_cents, r.credit_balance_cents) for r in results] == [(13000, 0), (0, 0), (0, 1500)]
    assert all(desk.db.get_one(m.Payment, r.payment.id).stored_file_id for r in results)  # receipts kept
    assert ledger.check_ledger(desk.db, desk.practice.id).ok
