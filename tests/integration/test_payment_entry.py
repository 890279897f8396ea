"""Insurance payments entered by hand, on both databases: the payer's open claims with their
expected amounts, a lump-sum check matched to the claims it pays and posted per claim, the rest
recorded as unapplied only when confirmed, batches that close only when they balance, reversals
that restore every balance exactly, and bad input answered 422 naming the field.

Blue River Health's contract allows 90837 at $110.00 and 90834 at $90.00; the client's copay
is $20.00, so the payer is expected to send $90.00 and $70.00. Every test ends with the whole
ledger recomputed from its postings (``check_ledger``) and each payment's cash equal to it.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput
from revcycle.services import payment_batches, payment_entry
from revcycle.services.demo_payment_entry import add_paper_checks
from revcycle.services.ledger import check_ledger
from revcycle.services.payment_entry import ClaimAllocation, LineAllocation
from tests.integration.api_routes import bearer
from tests.integration.conftest import csrf_from, login
from tests.integration.remittance.world import World, make_world
from tests.integration.world import make_login_user

CLAIM = BalanceScope.CLAIM
RECEIVED = datetime.date(2026, 4, 14)
FEB, MAR = datetime.date(2026, 2, 2), datetime.date(2026, 3, 2)


@pytest.fixture
def w(db: Session) -> Iterator[World]:
    world = make_world(db)
    world.coverage.copay_cents = 2000
    contract = m.PayerContract(
        practice_id=world.practice.id,
        payer_id=world.payer.id,
        number="BRH-2026",
        starts_on=FEB.replace(day=1),
    )
    db.add(contract)
    db.flush()
    for code, cents in (("90837", 11000), ("90834", 9000)):
        db.add(
            m.PayerContractRate(
                practice_id=world.practice.id,
                contract_id=contract.id,
                procedure_code=code,
                allowed_cents=cents,
            )
        )
    db.flush()
    yield world
    check = check_ledger(db, world.practice.id)
    assert check.ok, check.problems()
    cash = dict(
        db.execute(
            select(m.Posting.payment_id, func.sum(m.Posting.amount_cents))
            .where(m.Posting.practice_id == world.practice.id, m.Posting.account == "cash")
            .group_by(m.Posting.payment_id)
        ).all()
    )
    undone = payment_batches.reversed_payments(db, list(cash))
    for payment in db.scalars(select(m.Payment).where(m.Payment.practice_id == world.practice.id)):
        assert cash.get(payment.id, 0) == (0 if payment.id in undone else payment.amount_cents)


def _pay(
    w: World, amount_cents: int, *claims: ClaimAllocation | m.Claim, **options: object
) -> payment_entry.InsurancePaymentResult:
    allocations = [c if isinstance(c, ClaimAllocation) else ClaimAllocation(c.id) for c in claims]
    return payment_entry.record_insurance_payment(
        w.db,
        actor=w.actor,
        practice_id=w.practice.id,
        payer_id=w.payer.id,
        amount_cents=amount_cents,
        received_on=RECEIVED,
        method=str(options.pop("method", "check")),
        reference=str(options.pop("reference", f"CHK{amount_cents}")),
        allocations=allocations,
        **options,  # type: ignore[arg-type]
    )


def _status(w: World, claim: m.Claim) -> str:
    w.db.refresh(claim)
    return claim.status


def _balances(w: World) -> dict[tuple[str, int, str], int]:
    rows = w.db.execute(
        select(
            m.LedgerBalance.scope,
            m.LedgerBalance.scope_id,
            m.LedgerBalance.account,
            m.LedgerBalance.balance_cents,
        ).where(m.LedgerBalance.practice_id == w.practice.id, m.LedgerBalance.balance_cents != 0)
    )
    return {(scope, scope_id, account): cents for scope, scope_id, account, cents in rows}


# --- expected amounts ----------------------------------------------------------------------


def test_open_claims_come_oldest_first_with_their_expected_amounts(w: World) -> None:
    march = w.claim(("90837", 15000), service_on=MAR)
    february = w.claim(("90834", 12000), service_on=FEB)
    intake = w.claim(("90791", 20000), service_on=MAR)
    w.claim(("90837", 15000), status="paid")  # the payer owes nothing more on it
    found = payment_entry.open_claims(w.db, actor=w.actor, practice_id=w.practice.id, payer_id=w.payer.id)
    assert [c.claim_id for c in found] == [february.id, march.id, intake.id]
    by_id = {c.claim_id: c for c in found}
    assert (by_id[march.id].expected_cents, by_id[march.id].source) == (9000, "contract")
    assert by_id[march.id].balance_cents == 15000
    assert "BRH-2026" in by_id[march.id].basis
    assert "less copay $20.00" in by_id[march.id].basis
    assert by_id[february.id].expected_cents == 7000
    assert (by_id[intake.id].expected_cents, by_id[intake.id].source) == (None, "none")


def test_without_a_rate_the_payers_usual_payment_for_the_code_is_expected(w: World) -> None:
    earlier = [w.claim(("90791", 20000), service_on=FEB) for _ in range(3)]
    for claim, paid in zip(earlier, (15000, 16000, 18000), strict=True):
        line = LineAllocation(1, paid_cents=paid, contractual_cents=20000 - paid)
        _pay(w, paid, ClaimAllocation(claim.id, (line,)), reference=f"H{claim.id}")
    intake = w.claim(("90791", 20000), service_on=MAR)
    [found] = payment_entry.open_claims(w.db, actor=w.actor, practice_id=w.practice.id, payer_id=w.payer.id)
    assert found.claim_id == intake.id
    assert (found.expected_cents, found.source) == (16000, "history")
    assert "median of 3" in found.basis


# --- a lump sum ----------------------------------------------------------------------------


def test_a_lump_sum_check_is_matched_to_the_claims_it_pays_and_posted(w: World) -> None:
    first = w.claim(("90837", 15000), service_on=FEB)
    second = w.claim(("90834", 12000), service_on=FEB)
    third = w.claim(("90837", 15000), service_on=MAR)
    answer = payment_entry.lump_sum_proposals(
        w.db, actor=w.actor, practice_id=w.practice.id, payer_id=w.payer.id, amount_cents=16000
    )
    assert [[c.claim_id for c in p] for p in answer.proposals] == [
        [first.id, second.id],
        [second.id, third.id],
    ]
    assert answer.note == ""
    result = _pay(w, 16000, *[ClaimAllocation(c.claim_id) for c in answer.proposals[0]])
    assert result.unapplied_cents == 0
    assert [(p.claim_id, p.paid_cents, p.status) for p in result.claims] == [
        (first.id, 9000, "paid"),
        (second.id, 7000, "paid"),
    ]
    for claim, contractual in ((first, 4000), (second, 3000)):
        assert w.balance(Account.ADJUSTMENT_CONTRACTUAL, CLAIM, claim.id) == contractual
        assert w.balance(Account.AR_INSURANCE, CLAIM, claim.id) == 0
        assert w.balance(Account.AR_PATIENT, CLAIM, claim.id) == 2000  # the copay
    assert w.balance(Account.ADJUSTMENT_CONTRACTUAL) == 4000 + 3000
    assert w.balance(Account.CASH) == 16000
    assert _status(w, third) == "accepted"
    left = payment_entry.open_claims(w.db, actor=w.actor, practice_id=w.practice.id, payer_id=w.payer.id)
    assert [c.claim_id for c in left] == [third.id]


def test_what_the_allocations_do_not_pay_is_unapplied_only_when_confirmed(w: World) -> None:
    claim = w.claim(("90837", 15000))
    with pytest.raises(InvalidInput) as refused:
        _pay(w, 20000, claim)
    assert "$110.00" in refused.value.detail
    assert "confirm_unapplied" in refused.value.detail
    assert w.db.scalar(select(func.count(m.Payment.id))) == 0
    with pytest.raises(InvalidInput, match=r"more than the payment's \$50.00 by \$40.00"):
        _pay(w, 5000, claim)
    result = _pay(w, 20000, claim, confirm_unapplied=True)
    assert result.unapplied_cents == 11000
    assert w.balance(Account.UNAPPLIED) == -11000
    assert w.balance(Account.CASH) == 20000
    unapplied = w.db.execute(
        select(m.Posting.payment_id, func.sum(m.Posting.amount_cents))
        .where(m.Posting.account == Account.UNAPPLIED.value, m.Posting.practice_id == w.practice.id)
        .group_by(m.Posting.payment_id)
    ).all()
    assert unapplied == [(result.payment.id, -11000)]


def test_a_payment_with_no_claims_at_all_is_all_unapplied(w: World) -> None:
    result = _pay(w, 4321, method="eft", reference="", confirm_unapplied=True)
    assert (result.claims, result.unapplied_cents) == ([], 4321)


def test_lines_as_the_eob_says_partly_denied(w: World) -> None:
    claim = w.claim(("90837", 15000), ("90785", 3000))
    eob = (
        LineAllocation(
            1, paid_cents=8000, contractual_cents=4000, deductible_cents=1000, coinsurance_cents=2000
        ),
        LineAllocation(2, denied_cents=3000, denial_code="CO-97"),
    )
    result = _pay(w, 8000, ClaimAllocation(claim.id, eob))
    assert result.claims[0].status == "partially_paid"
    assert w.balance(Account.AR_INSURANCE, CLAIM, claim.id) == 3000  # the denied line is still owed
    assert w.balance(Account.AR_PATIENT, CLAIM, claim.id) == 3000
    denial = w.db.scalars(select(m.Denial).where(m.Denial.claim_id == claim.id)).one()
    assert (denial.group_code, denial.carc, denial.amount_cents) == ("CO", "97", 3000)


def test_a_claim_partly_settled_before_expects_no_more_than_is_left(w: World) -> None:
    claim = w.claim(("90837", 15000))
    first = LineAllocation(1, paid_cents=5000, contractual_cents=4000, denied_cents=6000, denial_code="CO-50")
    _pay(w, 5000, ClaimAllocation(claim.id, (first,)), reference="FIRST")
    assert _status(w, claim) == "partially_paid"
    [left] = payment_entry.open_claims(w.db, actor=w.actor, practice_id=w.practice.id, payer_id=w.payer.id)
    assert (left.balance_cents, left.expected_cents) == (6000, 6000)
    [line] = payment_entry.prefilled(left).lines or ()
    assert (line.paid_cents, line.copay_cents, line.contractual_cents) == (6000, 0, 0)
    _pay(w, 6000, claim, reference="APPEAL-WON")
    assert (_status(w, claim), w.balance(Account.AR_INSURANCE, CLAIM, claim.id)) == ("paid", 0)


# --- batches -------------------------------------------------------------------------------


def test_a_batch_closes_only_when_entered_matches_its_control_totals(w: World) -> None:
    a, b, c = w.claim(("90837", 15000)), w.claim(("90834", 12000)), w.claim(("90837", 15000))
    batch = payment_batches.create_batch(
        w.db,
        actor=w.actor,
        practice_id=w.practice.id,
        name="Mail Apr 14",
        control_count=2,
        control_amount_cents=25000,
    )
    _pay(w, 9000, a, batch_id=batch.id)
    with pytest.raises(InvalidInput) as refused:
        payment_batches.close_batch(w.db, actor=w.actor, batch_id=batch.id)
    assert "1 payment and $160.00 short" in refused.value.detail
    second = _pay(w, 16000, b, c, batch_id=batch.id, reference="CHK-2")
    view = payment_batches.batch_view(w.db, actor=w.actor, batch_id=batch.id)
    assert (view.entered_count, view.entered_cents, view.balanced) == (2, 25000, True)
    # A payment reversed no longer counts: the batch is short again until it is keyed anew.
    payment_entry.reverse_payment(w.db, actor=w.actor, payment_id=second.payment.id, reason="wrong claims")
    view = payment_batches.batch_view(w.db, actor=w.actor, batch_id=batch.id)
    assert view.difference_text() == "1 payment and $160.00 short"
    _pay(w, 16000, b, c, batch_id=batch.id, reference="CHK-2")
    closed = payment_batches.close_batch(w.db, actor=w.actor, batch_id=batch.id)
    assert closed.batch.status == "closed"
    with pytest.raises(InvalidInput, match=r"^batch_id: batch Mail Apr 14 is closed"):
        _pay(w, 100, batch_id=batch.id, reference="LATE", confirm_unapplied=True)
    with pytest.raises(Conflict):
        payment_batches.close_batch(w.db, actor=w.actor, batch_id=batch.id)


def test_a_batch_entered_over_its_control_says_so(w: World) -> None:
    batch = payment_batches.create_batch(
        w.db,
        actor=w.actor,
        practice_id=w.practice.id,
        name="Tape",
        control_count=1,
        control_amount_cents=1000,
    )
    _pay(w, 1050, batch_id=batch.id, confirm_unapplied=True)
    with pytest.raises(InvalidInput, match=r"\$0.50 over$"):
        payment_batches.close_batch(w.db, actor=w.actor, batch_id=batch.id)


# --- corrections ---------------------------------------------------------------------------


def test_a_reversal_restores_every_balance_exactly_and_reopens_the_claims(w: World) -> None:
    paid, denied = w.claim(("90837", 15000)), w.claim(("90834", 12000))
    before = _balances(w)
    denial = ClaimAllocation(denied.id, (LineAllocation(1, denied_cents=12000, denial_code="CO-50"),))
    result = _pay(w, 12000, paid, denial, confirm_unapplied=True, reference="10442")
    assert (_status(w, paid), _status(w, denied)) == ("paid", "denied")
    assert _balances(w) != before
    with pytest.raises(Conflict, match="already entered as payment"):
        _pay(w, 12000, reference="10442", confirm_unapplied=True)
    done = payment_entry.reverse_payment(
        w.db, actor=w.actor, payment_id=result.payment.id, reason="keyed against the wrong claims"
    )
    assert sorted(done.claims_reopened) == sorted([paid.id, denied.id])
    assert len(done.reversal_transaction_ids) == 2  # the paid claim's and the unapplied rest's
    assert _balances(w) == before
    assert (_status(w, paid), _status(w, denied)) == ("accepted", "accepted")
    with pytest.raises(Conflict, match="already reversed"):
        payment_entry.reverse_payment(w.db, actor=w.actor, payment_id=result.payment.id, reason="again")
    audit = w.db.scalars(
        select(m.AuditLog).where(m.AuditLog.entity == "payment", m.AuditLog.action == "reverse")
    ).one()
    assert audit.reason == "keyed against the wrong claims"
    detail = payment_entry.payment_detail(w.db, actor=w.actor, payment_id=result.payment.id)
    assert detail.reversed
    assert detail.reversal_reason == "keyed against the wrong claims"
    again = _pay(w, 9000, paid, reference="10442")  # keyed again, correctly
    assert again.claims[0].status == "paid"


# --- the API -------------------------------------------------------------------------------


@pytest.fixture
def clerk(w: World, client: TestClient) -> dict[str, str]:
    user = make_login_user(w.db, w.practice, Role.BILLING, name="payments-clerk")
    return bearer(client, user.email)


def test_the_api_enters_a_lump_sum_check_and_reverses_it(
    w: World, client: TestClient, clerk: dict[str, str]
) -> None:
    first, second = w.claim(("90837", 15000), service_on=FEB), w.claim(("90834", 12000), service_on=MAR)
    listed = client.get(f"/api/payers/{w.payer.id}/open-claims", headers=clerk)
    assert listed.status_code == 200, listed.text
    assert [(c["claim_id"], c["expected_cents"], c["expected_source"]) for c in listed.json()["items"]] == [
        (first.id, 9000, "contract"),
        (second.id, 7000, "contract"),
    ]
    proposed = client.post(
        "/api/insurance-payments/lump-sum-proposals",
        headers=clerk,
        json={"payer_id": w.payer.id, "amount_cents": 16000},
    )
    assert proposed.status_code == 200, proposed.text
    [proposal] = proposed.json()["proposals"]
    assert (proposal["claim_ids"], proposal["total_cents"]) == ([first.id, second.id], 16000)
    batch = client.post(
        "/api/payment-batches",
        headers=clerk,
        json={"name": "Mail", "control_count": 1, "control_amount_cents": 16000},
    ).json()
    posted = client.post(
        "/api/insurance-payments",
        headers=clerk,
        json={
            "payer_edi_id": "BRH01",
            "amount_cents": 16000,
            "received_on": RECEIVED.isoformat(),
            "method": "check",
            "reference": "20931",
            "batch_id": batch["id"],
            "allocations": [{"claim_id": claim_id} for claim_id in proposal["claim_ids"]],
        },
    )
    assert posted.status_code == 200, posted.text
    body = posted.json()
    assert [(c["claim_id"], c["paid_cents"], c["status"]) for c in body["claims"]] == [
        (first.id, 9000, "paid"),
        (second.id, 7000, "paid"),
    ]
    shown = client.get(f"/api/payment-batches/{batch['id']}", headers=clerk).json()
    assert (shown["entered_count"], shown["entered_cents"], shown["balanced"]) == (1, 16000, True)
    closed = client.post(f"/api/payment-batches/{batch['id']}/close", headers=clerk)
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    reversed_ = client.post(
        f"/api/insurance-payments/{body['payment_id']}/reverse", headers=clerk, json={"reason": "wrong payer"}
    )
    assert reversed_.status_code == 200, reversed_.text
    assert sorted(reversed_.json()["claims_reopened"]) == [first.id, second.id]
    assert w.balance(Account.AR_INSURANCE, CLAIM, first.id) == 15000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"method": "wire"}, "method: 'wire' is not one of check, eft, card"),
        ({"reference": ""}, "reference: enter the check number"),
        ({"amount_cents": 0}, "amount_cents: must be more than zero"),
        ({"received_on": "2099-01-01"}, "received_on: 2099-01-01 is in the future"),
        ({"allocations": [{"claim_id": 0}]}, "allocations[0].claim_id: no claim 0"),
        (
            {"allocations": [{"claim_id": -1, "lines": [{"line_number": 1, "paid_cents": 20000}]}]},
            "allocations[0].lines[0]: ",
        ),
        (
            {
                "allocations": [
                    {
                        "claim_id": -1,
                        "lines": [{"line_number": 1, "denied_cents": 100, "denial_code": "CO-45"}],
                    }
                ]
            },
            "allocations[0].lines[0].denial_code: CO-45 is not a denial",
        ),
        (
            {"allocations": [{"claim_id": -1, "lines": [{"line_number": 1, "paid_cents": -5}]}]},
            "allocations[0].lines[0].paid_cents",
        ),
        ({"payer_id": 999999}, "payer_id: no payer 999999"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    w: World, client: TestClient, clerk: dict[str, str], change: dict[str, object], field: str
) -> None:
    claim = w.claim(("90837", 15000))
    body: dict[str, object] = {
        "payer_id": w.payer.id,
        "amount_cents": 9000,
        "received_on": RECEIVED.isoformat(),
        "method": "check",
        "reference": "555",
        "allocations": [{"claim_id": claim.id}],
        **copy.deepcopy(change),  # the same parameters serve both databases
    }
    for allocation in body["allocations"]:  # type: ignore[attr-defined]
        if allocation["claim_id"] == -1:
            allocation["claim_id"] = claim.id
    answer = client.post("/api/insurance-payments", headers=clerk, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid"
    assert field in answer.json()["detail"]
    assert w.db.scalar(select(func.count(m.Payment.id))) == 0
    assert _status(w, claim) == "accepted"


def test_a_batch_that_does_not_balance_answers_422_with_the_difference(
    w: World, client: TestClient, clerk: dict[str, str]
) -> None:
    batch = client.post(
        "/api/payment-batches",
        headers=clerk,
        json={"name": "Mail", "control_count": 2, "control_amount_cents": 5000},
    ).json()
    answer = client.post(f"/api/payment-batches/{batch['id']}/close", headers=clerk)
    assert answer.status_code == 422
    assert answer.json()["detail"].endswith("2 payments and $50.00 short")
    bad = client.post(
        "/api/payment-batches",
        headers=clerk,
        json={"name": "", "control_count": 1, "control_amount_cents": 1},
    )
    assert (bad.status_code, bad.json()["detail"][:5]) == (422, "name:")


# --- the pages -----------------------------------------------------------------------------


def test_the_page_asks_before_recording_the_rest_as_unapplied_and_reverses(
    w: World, client: TestClient
) -> None:
    claim = w.claim(("90837", 15000))
    user = make_login_user(w.db, w.practice, Role.BILLING, name="page-clerk")
    assert login(client, user.email).status_code == 303
    token = csrf_from(client.get("/payments/new").text)
    header = {
        "csrf_token": token,
        "received_on": RECEIVED.isoformat(),
        "amount": "100.00",
        "payer_id": str(w.payer.id),
        "method": "check",
        "reference": "3321",
    }
    shown = client.post("/payments/new", data={**header, "action": "allocate", "claim": str(claim.id)})
    assert shown.status_code == 200, shown.text
    assert f'name="l-{claim.id}-1-paid" value="90.00"' in shown.text
    lines = {
        f"l-{claim.id}-1-paid": "90.00",
        f"l-{claim.id}-1-contractual": "40.00",
        f"l-{claim.id}-1-copay": "20.00",
    }
    asked = client.post("/payments/new", data={**header, **lines, "action": "post", "claim": str(claim.id)})
    assert asked.status_code == 422
    assert "confirm that the other $10.00 is recorded as unapplied" in asked.text
    assert 'data-testid="confirm-unapplied"' in asked.text
    assert w.db.scalar(select(func.count(m.Payment.id))) == 0
    posted = client.post(
        "/payments/new",
        data={**header, **lines, "action": "post", "claim": str(claim.id), "confirm_unapplied": "1"},
    )
    assert posted.status_code == 303, posted.text
    detail = client.get(posted.headers["location"])
    assert "Payment posted." in detail.text
    assert w.balance(Account.UNAPPLIED) == -1000
    payment_id = int(posted.headers["location"].split("/")[-1].split("?")[0])
    refused = client.post(
        f"/payments/insurance/{payment_id}/reverse", data={"csrf_token": token, "reason": " "}
    )
    assert (refused.status_code, "reason: say why" in refused.text) == (422, True)
    done = client.post(
        f"/payments/insurance/{payment_id}/reverse", data={"csrf_token": token, "reason": "typo"}
    )
    assert done.status_code == 303
    assert "Reversed" in client.get(done.headers["location"]).text
    assert (_status(w, claim), w.balance(Account.UNAPPLIED)) == ("accepted", 0)


def test_the_batch_page_refuses_to_close_naming_the_difference(w: World, client: TestClient) -> None:
    user = make_login_user(w.db, w.practice, Role.BILLING, name="batch-clerk")
    assert login(client, user.email).status_code == 303
    token = csrf_from(client.get("/payment-batches").text)
    bad = client.post(
        "/payment-batches",
        data={"csrf_token": token, "name": "Tape", "control_count": "two", "control_amount": "5"},
    )
    assert (bad.status_code, "control_count: &#39;two&#39; is not a whole number" in bad.text) == (422, True)
    made = client.post(
        "/payment-batches",
        data={"csrf_token": token, "name": "Tape", "control_count": "2", "control_amount": "1,250.00"},
    )
    assert made.status_code == 303
    batch_url = made.headers["location"]
    refused = client.post(f"{batch_url}/close", data={"csrf_token": token})
    assert refused.status_code == 422
    assert "2 payments and $1,250.00 short" in refused.text
    therapist = make_login_user(w.db, w.practice, Role.THERAPIST, name="batch-therapist")
    client.cookies.clear()
    assert login(client, therapist.email).status_code == 303
    assert client.get(batch_url).status_code == 403


# --- the demo ------------------------------------------------------------------------------


def test_the_demo_keys_a_closed_batch_of_paper_checks_and_leaves_this_mornings_open(w: World) -> None:
    for day in range(1, 13):
        w.claim(("90837" if day % 2 else "90834", 15000), service_on=datetime.date(2026, 3, day))
    done = add_paper_checks(w.db, practice_id=w.practice.id, actor=w.actor, today=RECEIVED)
    assert done.closed_batch is not None
    assert done.open_batch is not None
    closed = payment_batches.batch_view(w.db, actor=w.actor, batch_id=done.closed_batch.id)
    assert (closed.batch.status, closed.balanced, closed.entered_count) == ("closed", True, 4)
    still_open = payment_batches.batch_view(w.db, actor=w.actor, batch_id=done.open_batch.id)
    assert still_open.is_open
    assert still_open.entered_count == 1
    assert still_open.difference_text().startswith("2 payments and $")
    assert all(p.method == "check" and p.reference for p in done.payments)
