"""Posting 835s: what posts, what waits, and what never posts twice.

Every test ends with the whole ledger recomputed from its postings (``check_ledger``) and the
cash of each payment equal to what the payer sent (BPR02), whatever waited in the queue.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.errors import Conflict, InvalidInput
from revcycle.services import remittance_posting as rp
from revcycle.services.ledger import check_ledger
from revcycle.services.x12_ingest import ingest
from revcycle.x12.remit835 import Party
from revcycle.x12.write835 import write_835
from tests.integration.remittance.world import (
    SESSION_ON,
    World,
    claim_payment,
    envelope,
    line,
    make_world,
    plb,
    remittance,
    reversal_of,
)

CLAIM = BalanceScope.CLAIM


@pytest.fixture
def w(db: Session) -> Iterator[World]:
    world = make_world(db)
    yield world
    check = check_ledger(db, world.practice.id)
    assert check.ok, check.problems()
    cash_by_payment = dict(
        db.execute(
            select(m.Posting.payment_id, func.sum(m.Posting.amount_cents))
            .where(m.Posting.practice_id == world.practice.id, m.Posting.account == "cash")
            .group_by(m.Posting.payment_id)
        ).all()
    )
    for payment in db.scalars(select(m.Payment).where(m.Payment.practice_id == world.practice.id)):
        assert cash_by_payment.get(payment.id, 0) == payment.amount_cents, payment.reference


def _status(w: World, claim: m.Claim) -> str:
    w.db.refresh(claim)
    return claim.status


def test_a_paid_claim_posts_payment_contractual_and_copay(w: World) -> None:
    claim = w.claim(("90837", 15000))
    clp = claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 4000), ("PR", "3", 2000)))
    result = w.ingest(remittance(clp))
    assert result.status == "applied"
    assert result.summary["payments"][0]["posted_claims"] == 1
    assert _status(w, claim) == "paid"
    assert w.balance(Account.AR_INSURANCE, CLAIM, claim.id) == 0
    assert w.balance(Account.AR_PATIENT, CLAIM, claim.id) == 2000
    assert w.balance(Account.ADJUSTMENT_CONTRACTUAL) == 4000
    assert w.balance(Account.CASH) == 9000
    rc = w.db.scalars(select(m.RemittanceClaim).where(m.RemittanceClaim.claim_id == claim.id)).one()
    assert (rc.state, rc.match_method) == ("posted", "our_number")
    kept = w.db.scalars(
        select(m.RemittanceAdjustment).where(m.RemittanceAdjustment.remittance_claim_id == rc.id)
    )
    assert sorted((a.group_code, a.reason_code, a.amount_cents) for a in kept) == [
        ("CO", "45", 4000),
        ("PR", "3", 2000),
    ]
    assert claim.payer_claim_control_number == f"ICN{claim.number}"
    payment = w.db.scalars(select(m.Payment).where(m.Payment.reference == "EFT0001")).one()
    assert (payment.kind, payment.method, payment.amount_cents, payment.payer_id) == (
        "insurance",
        "eft",
        9000,
        w.payer.id,
    )


def test_a_denial_keeps_its_codes_and_posts_nothing(w: World) -> None:
    claim = w.claim(("90837", 15000))
    denied = line("90837", 15000, 0, ("CO", "50", 15000))
    w.ingest(remittance(claim_payment(claim, denied, status="4"), method="NON", amount=0))
    assert _status(w, claim) == "denied"
    assert w.balance(Account.AR_INSURANCE, CLAIM, claim.id) == 15000  # still owed: appeal or correct
    denial = w.db.scalars(select(m.Denial).where(m.Denial.claim_id == claim.id)).one()
    assert (denial.group_code, denial.carc, denial.amount_cents) == ("CO", "50", 15000)
    assert denial.category == "medical_necessity"
    assert denial.appeal_deadline_on is not None
    assert (denial.appeal_deadline_on - w.db.scalars(select(m.Remittance.paid_on)).one()).days == 90


def test_one_line_paid_one_denied_is_partially_paid(w: World) -> None:
    claim = w.claim(("90837", 15000), ("90785", 3000))
    clp = claim_payment(
        claim,
        line("90837", 15000, 11000, ("CO", "45", 4000), control=f"{claim.number}-1"),
        line("90785", 3000, 0, ("CO", "197", 3000), control=f"{claim.number}-2"),
    )
    w.ingest(remittance(clp))
    assert _status(w, claim) == "partially_paid"
    assert w.balance(Account.AR_INSURANCE, CLAIM, claim.id) == 3000
    denial = w.db.scalars(select(m.Denial).where(m.Denial.claim_id == claim.id)).one()
    assert denial.claim_line_id == claim.lines[1].id
    assert denial.category == "authorization"


def test_lines_match_with_modifiers_dropped_and_reordered(w: World) -> None:
    claim = w.claim(("90785", 3000), ("90837", 15000))
    clp = claim_payment(
        claim, line("90837", 15000, 10000, ("CO", "45", 5000)), line("90785", 3000, 2000, ("CO", "45", 1000))
    )
    w.ingest(remittance(clp))
    assert _status(w, claim) == "paid"
    charges = {cl.procedure_code: cl.charge_id for cl in claim.lines}
    assert w.balance(Account.AR_INSURANCE, BalanceScope.CHARGE, charges["90837"]) == 0
    assert w.balance(Account.AR_INSURANCE, BalanceScope.CHARGE, charges["90785"]) == 0


def test_deductible_and_coinsurance_move_to_the_patient(w: World) -> None:
    claim = w.claim(("90834", 12000))
    w.ingest(
        remittance(claim_payment(claim, line("90834", 12000, 0, ("CO", "45", 2000), ("PR", "1", 10000))))
    )
    assert _status(w, claim) == "paid"  # the payer's part is settled: all of it is the client's
    assert w.balance(Account.AR_PATIENT, CLAIM, claim.id) == 10000


def test_the_same_file_twice_posts_once(w: World) -> None:
    claim = w.claim(("90837", 15000))
    era = remittance(claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 6000))))
    first = w.ingest(era, name="a.835")
    again = w.ingest(era, name="b.835")  # a new interchange number: another file, the same payment
    assert first.status == "applied"
    assert again.summary["payments"][0]["outcome"] == "already_posted"
    assert w.db.scalar(select(func.count()).select_from(m.Remittance)) == 1
    assert w.balance(Account.CASH) == 9000


def test_the_same_trace_with_other_content_is_an_exception(w: World) -> None:
    one, two = w.claim(("90837", 15000)), w.claim(("90837", 15000))
    w.ingest(remittance(claim_payment(one, line("90837", 15000, 9000, ("CO", "45", 6000)))))
    other = remittance(claim_payment(two, line("90837", 15000, 9000, ("CO", "45", 6000))))
    result = w.ingest(other)
    assert result.summary["payments"][0]["outcome"] == "duplicate_trace"
    assert _status(w, two) == "accepted"  # never merged
    (item,) = w.exceptions()
    assert item.rule == rp.DUPLICATE_TRACE
    assert item.severity == "critical"


def test_an_unmatched_claim_waits_with_suggestions_and_posts_in_one_click(w: World) -> None:
    claim = w.claim(("90837", 15000))
    clp = claim_payment(
        "NOT-OURS-1",
        line("90837", 15000, 9000, ("CO", "45", 6000)),
        icn="UNKNOWN",
        patient=Party(entity="QC", kind="1", name="SOMEONE", first_name="ELSE"),
    )
    w.ingest(remittance(clp))
    (item,) = w.exceptions()
    assert item.rule == rp.UNMATCHED
    rc = w.db.get(m.RemittanceClaim, item.remittance_claim_id)
    assert rc is not None
    assert [s["claim_id"] for s in rc.details["suggestions"]] == [claim.id]  # same day and amount
    assert w.balance(Account.UNAPPLIED) == -9000
    rp.resolve_exception(w.db, actor=w.actor, work_item_id=item.id, action="post_to_claim", claim_id=claim.id)
    assert item.status == "resolved"
    assert _status(w, claim) == "paid"
    assert w.balance(Account.UNAPPLIED) == 0
    assert w.balance(Account.AR_INSURANCE, CLAIM, claim.id) == 0
    assert w.db.get(m.Remittance, rc.remittance_id).status == "posted"  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        rp.resolve_exception(w.db, actor=w.actor, work_item_id=item.id, action="acknowledge")


def test_matching_falls_back_to_the_payers_number_then_patient_date_and_amount(w: World) -> None:
    by_icn, by_patient = w.claim(("90837", 15000)), w.claim(("90834", 12000))
    by_icn.payer_claim_control_number = "PAYER-77"
    w.db.flush()
    client = w.db.get(m.Client, by_patient.client_id)
    assert client is not None
    who = Party(entity="QC", kind="1", name=client.last_name.upper(), first_name=client.first_name.upper())
    w.ingest(
        remittance(
            claim_payment("X1", line("90837", 15000, 9000, ("CO", "45", 6000)), icn="PAYER-77"),
            claim_payment("X2", line("90834", 12000, 8000, ("CO", "45", 4000)), icn="NEW", patient=who),
        )
    )
    methods = dict(w.db.execute(select(m.RemittanceClaim.claim_id, m.RemittanceClaim.match_method)).all())
    assert methods == {by_icn.id: "payer_icn", by_patient.id: "patient_dos_amount"}
    assert _status(w, by_icn) == _status(w, by_patient) == "paid"


def test_a_line_mismatch_waits_and_posts_spread_when_resolved(w: World) -> None:
    claim = w.claim(("90837", 15000))
    clp = claim_payment(claim, line("90834", 15000, 9000, ("CO", "45", 6000)))  # a code we never billed
    w.ingest(remittance(clp))
    (item,) = w.exceptions()
    assert item.rule == rp.LINE_MISMATCH
    assert item.claim_id == claim.id
    assert _status(w, claim) == "accepted"
    rp.resolve_exception(w.db, actor=w.actor, work_item_id=item.id, action="post_to_claim")
    assert _status(w, claim) == "paid"
    assert w.balance(Account.AR_INSURANCE, CLAIM, claim.id) == 0


def test_a_reversal_negates_exactly_and_its_correction_posts_anew(w: World) -> None:
    claim = w.claim(("90837", 15000))
    original = claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 4000), ("PR", "3", 2000)))
    w.ingest(remittance(original, trace="EFT0001"))
    corrected = claim_payment(claim, line("90837", 15000, 11000, ("CO", "45", 4000)))
    w.ingest(remittance(reversal_of(original), corrected, trace="EFT0002"))
    assert _status(w, claim) == "paid"
    assert w.balance(Account.CASH) == 11000
    assert w.balance(Account.AR_PATIENT, CLAIM, claim.id) == 0  # the copay taken back
    assert w.balance(Account.AR_INSURANCE, CLAIM, claim.id) == 0
    reversal = w.db.scalars(select(m.RemittanceClaim).where(m.RemittanceClaim.status_code == "22")).one()
    first = w.db.get(m.RemittanceClaim, reversal.reverses_id)
    assert first is not None
    txn = w.db.get(m.LedgerTransaction, reversal.ledger_transaction_id)
    assert txn is not None
    assert txn.reverses_transaction_id == first.ledger_transaction_id
    events = [
        e.to_status
        for e in w.db.scalars(
            select(m.ClaimEvent).where(m.ClaimEvent.claim_id == claim.id).order_by(m.ClaimEvent.id)
        )
    ]
    assert events[-2:] == ["accepted", "paid"]


def test_a_reversal_without_its_original_waits(w: World) -> None:
    claim = w.claim(("90837", 15000))
    never = claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 6000)))
    w.ingest(remittance(reversal_of(never)))
    (item,) = w.exceptions()
    assert item.rule == rp.REVERSAL_WITHOUT_ORIGINAL
    assert _status(w, claim) == "accepted"


def test_a_second_payment_of_a_paid_claim_is_a_duplicate_payment(w: World) -> None:
    claim = w.claim(("90837", 15000))
    w.ingest(remittance(claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 6000))), trace="T1"))
    w.ingest(remittance(claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 6000))), trace="T2"))
    (item,) = w.exceptions()
    assert item.rule == rp.DUPLICATE_PAYMENT
    assert w.balance(Account.UNAPPLIED) == -9000
    assert w.balance(Account.AR_INSURANCE, CLAIM, claim.id) == 0


def test_plb_interest_and_recoupment_post_at_the_payment_level(w: World) -> None:
    claim, overpaid = w.claim(("90837", 15000)), w.claim(("90834", 12000))
    w.ingest(remittance(claim_payment(overpaid, line("90834", 12000, 12000)), trace="T0"))
    era = remittance(
        claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 6000))),
        plb=(plb("L6", -250), plb("WO", 4000, overpaid.number)),
        trace="T1",
    )
    assert era.payment.amount_cents == 9000 + 250 - 4000
    w.ingest(era)
    assert w.balance(Account.INTEREST_INCOME) == -250
    assert w.balance(Account.RECOUPMENT) == 4000
    kinds = sorted(item.rule for item in w.exceptions())
    assert kinds == [rp.INTEREST, rp.RECOUPMENT]
    recoupment = next(item for item in w.exceptions() if item.rule == rp.RECOUPMENT)
    rp.resolve_exception(w.db, actor=w.actor, work_item_id=recoupment.id, action="apply_recoupment")
    assert w.balance(Account.RECOUPMENT) == 0
    assert w.balance(Account.AR_INSURANCE, CLAIM, overpaid.id) == 4000  # the payer's again to settle


def test_a_crossover_posts_and_says_so(w: World) -> None:
    claim = w.claim(("90837", 15000))
    medigap = Party(entity="TT", kind="2", name="MEDIGAP PLAN", id_qualifier="PI", id="MG1")
    clp = claim_payment(
        claim,
        line("90837", 15000, 9000, ("CO", "45", 4000), ("PR", "2", 2000)),
        status="19",
        crossover_carrier=medigap,
    )
    w.ingest(remittance(clp))
    assert _status(w, claim) == "paid"
    (item,) = w.exceptions()
    assert (item.rule, item.severity) == (rp.CROSSOVER, "info")
    assert "MEDIGAP PLAN" in item.detail


def test_a_payment_that_does_not_balance_is_refused_whole(w: World) -> None:
    claim = w.claim(("90837", 15000))
    era = remittance(claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 6000))))
    text = write_835([era], envelope(900)).replace("BPR*C*90*C", "BPR*C*91*C")
    with pytest.raises(InvalidInput, match=r"bad\.835: payment EFT0001 .*does not balance.*off by 1\.00"):
        ingest(w.db, actor=w.actor, practice_id=w.practice.id, filename="bad.835", data=text.encode())
    assert w.db.scalar(select(func.count()).select_from(m.X12InboundFile)) == 0
    assert _status(w, claim) == "accepted"


def test_review_mode_posts_nothing_until_the_payment_is_approved(w: World) -> None:
    w.practice.settings = {**w.practice.settings, "era_posting": "review"}
    w.db.flush()
    claim = w.claim(("90837", 15000))
    result = w.ingest(remittance(claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 6000)))))
    assert result.summary["payments"][0]["outcome"] == "review"
    assert _status(w, claim) == "accepted"
    assert w.balance(Account.CASH) == 0
    row = w.db.scalars(select(m.Remittance)).one()
    rp.approve_remittance(w.db, actor=w.actor, remittance_id=row.id)
    assert row.status == "posted"
    assert _status(w, claim) == "paid"
    assert w.balance(Account.CASH) == 9000
    with pytest.raises(Conflict):
        rp.approve_remittance(w.db, actor=w.actor, remittance_id=row.id)


def test_several_payments_in_one_file(w: World) -> None:
    one, two = w.claim(("90837", 15000)), w.claim(("90834", 12000), service_on=SESSION_ON)
    result = w.ingest(
        remittance(claim_payment(one, line("90837", 15000, 9000, ("CO", "45", 6000))), trace="A1"),
        remittance(
            claim_payment(two, line("90834", 12000, 8000, ("CO", "45", 4000))), trace="A2", method="CHK"
        ),
    )
    assert [p["outcome"] for p in result.summary["payments"]] == ["posted", "posted"]
    methods = sorted(w.db.scalars(select(m.Payment.method)))
    assert methods == ["check", "eft"]


def test_a_paper_eob_posts_like_an_835(w: World) -> None:
    claim, denied = w.claim(("90837", 15000)), w.claim(("90834", 12000))
    check = m.Payment(
        practice_id=w.practice.id,
        kind="insurance",
        method="check",
        amount_cents=9000,
        received_on=SESSION_ON,
        reference="CHK 10442",
        payer_id=w.payer.id,
    )
    w.db.add(check)
    w.db.flush()
    eob = [rp.ManualLine(1, 9000, (("CO", "45", 4000), ("PR", "2", 2000)))]
    txn = rp.post_claim_payment(
        w.db, actor=w.actor, claim_id=claim.id, payment=check, lines=eob, accounting_on=SESSION_ON
    )
    assert txn is not None
    assert _status(w, claim) == "paid"
    assert w.balance(Account.AR_PATIENT, CLAIM, claim.id) == 2000
    nothing = rp.post_claim_payment(
        w.db,
        actor=w.actor,
        claim_id=denied.id,
        payment=check,
        lines=[rp.ManualLine(1, 0, (("CO", "29", 12000),))],
        accounting_on=SESSION_ON,
    )
    assert nothing is None
    assert _status(w, denied) == "denied"
    assert (
        w.db.scalars(select(m.Denial.category).where(m.Denial.claim_id == denied.id)).one() == "timely_filing"
    )
    with pytest.raises(Conflict):
        rp.post_claim_payment(
            w.db, actor=w.actor, claim_id=claim.id, payment=check, lines=eob, accounting_on=SESSION_ON
        )


def test_a_line_allowed_below_the_contract_raises_an_underpayment(w: World) -> None:
    w.contract("BRH-2026", {"90837": 11000, "90834": 9000})
    w.db.flush()
    short, fair, within = w.claim(("90837", 15000)), w.claim(("90834", 12000)), w.claim(("90837", 15000))
    result = w.ingest(
        remittance(
            claim_payment(
                short, line("90837", 15000, 7500, ("CO", "45", 5500), ("PR", "3", 2000))
            ),  # allowed 95.00
            claim_payment(
                fair, line("90834", 12000, 7000, ("CO", "45", 3000), ("PR", "3", 2000))
            ),  # allowed 90.00
            claim_payment(
                within, line("90837", 15000, 8950, ("CO", "45", 4050), ("PR", "3", 2000))
            ),  # 0.50 short
        )
    )
    payment = result.summary["payments"][0]
    assert (payment["underpaid_lines"], payment["underpaid_cents"]) == (1, 1500)
    (alert,) = w.db.scalars(select(m.WorkItem).where(m.WorkItem.kind == "underpayment"))
    assert alert.claim_id == short.id
    assert "$15.00" in alert.title
    assert "BRH-2026" in alert.detail
    assert not w.exceptions()


def test_a_reversed_underpayment_settles_its_alert_and_the_correction_is_judged_anew(w: World) -> None:
    w.contract("BRH-2026", {"90837": 11000})
    claim = w.claim(("90837", 15000))
    short = claim_payment(claim, line("90837", 15000, 7500, ("CO", "45", 5500), ("PR", "3", 2000)))
    w.ingest(remittance(short, trace="T1"))
    (alert,) = w.db.scalars(select(m.WorkItem).where(m.WorkItem.kind == "underpayment"))
    fixed = claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 4000), ("PR", "3", 2000)))
    w.ingest(remittance(reversal_of(short), fixed, trace="T2"))
    assert alert.status == "resolved"
    assert "reversed" in alert.resolution
    assert (
        w.db.scalar(select(func.count()).select_from(m.WorkItem).where(m.WorkItem.kind == "underpayment"))
        == 1
    )
    assert _status(w, claim) == "paid"


def test_a_paper_eob_paying_in_part_without_a_reason_leaves_the_claim_partially_paid(w: World) -> None:
    claim = w.claim(("90837", 15000))
    check = m.Payment(
        practice_id=w.practice.id,
        kind="insurance",
        method="check",
        amount_cents=5000,
        received_on=SESSION_ON,
        reference="CHK 1",
        payer_id=w.payer.id,
    )
    w.db.add(check)
    w.db.flush()
    rp.post_claim_payment(
        w.db,
        actor=w.actor,
        claim_id=claim.id,
        payment=check,
        lines=[rp.ManualLine(1, 5000)],
        accounting_on=SESSION_ON,
    )
    assert _status(w, claim) == "partially_paid"
    assert w.balance(Account.AR_INSURANCE, CLAIM, claim.id) == 10000


@pytest.mark.parametrize(
    ("clp02", "outcome"),
    [("1", "paid"), ("2", "paid"), ("3", "paid"), ("19", "paid"), ("20", "paid"), ("21", "paid")],
)
def test_every_processed_status_posts(w: World, clp02: str, outcome: str) -> None:
    claim = w.claim(("90837", 15000))
    w.ingest(
        remittance(
            claim_payment(
                claim, line("90837", 15000, 9000, ("CO", "45", 4000), ("PR", "2", 2000)), status=clp02
            )
        )
    )
    assert _status(w, claim) == outcome
    assert w.balance(Account.AR_INSURANCE, CLAIM, claim.id) == 0


def test_a_claim_forwarded_as_not_ours_waits_as_a_crossover(w: World) -> None:
    claim = w.claim(("90837", 15000))
    w.ingest(
        remittance(
            claim_payment(claim, line("90837", 15000, 0, ("OA", "109", 15000)), status="23"), method="NON"
        )
    )
    (item,) = w.exceptions()
    assert item.rule == rp.CROSSOVER
    assert _status(w, claim) == "accepted"
    assert w.balance(Account.AR_INSURANCE, CLAIM, claim.id) == 15000


def test_a_predetermination_posts_nothing(w: World) -> None:
    claim = w.claim(("90837", 15000))
    w.ingest(
        remittance(
            claim_payment(claim, line("90837", 15000, 0, ("OA", "101", 15000)), status="25"), method="NON"
        )
    )
    rc = w.db.scalars(select(m.RemittanceClaim)).one()
    assert rc.state == "skipped"
    assert not w.exceptions()
    assert _status(w, claim) == "accepted"


def test_money_for_a_claim_not_yet_sent_is_a_status_conflict(w: World) -> None:
    claim = w.claim(("90837", 15000), status="ready")
    w.ingest(remittance(claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 6000)))))
    (item,) = w.exceptions()
    assert item.rule == rp.STATUS_CONFLICT
    assert "ready" in item.detail
    assert w.balance(Account.UNAPPLIED) == -9000
    rp.resolve_exception(
        w.db, actor=w.actor, work_item_id=item.id, action="acknowledge", note="asked the payer"
    )
    assert item.resolution == "acknowledged: asked the payer"
    assert w.balance(Account.UNAPPLIED) == -9000  # still waiting to be applied


def test_an_unknown_resolution_is_refused_by_name(w: World) -> None:
    claim = w.claim(("90837", 15000), status="ready")
    w.ingest(remittance(claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 6000)))))
    (item,) = w.exceptions()
    with pytest.raises(InvalidInput, match="action: 'merge'"):
        rp.resolve_exception(w.db, actor=w.actor, work_item_id=item.id, action="merge")


def test_a_large_payment_posts_chunk_by_chunk_reversals_first(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rp, "POST_CHUNK", 2)
    claims = [w.claim(("90837", 15000)) for _ in range(5)]
    ids = [c.id for c in claims]
    paid = [claim_payment(c, line("90837", 15000, 9000, ("CO", "45", 6000))) for c in claims]
    w.ingest(remittance(*paid, trace="T1"))
    corrected = claim_payment(claims[0], line("90837", 15000, 11000, ("CO", "45", 4000)))
    others = [
        claim_payment(w.claim(("90834", 12000)), line("90834", 12000, 8000, ("CO", "45", 4000)))
        for _ in range(3)
    ]
    w.ingest(remittance(corrected, *others, reversal_of(paid[0]), trace="T2"))  # the reversal comes last
    statuses = dict(w.db.execute(select(m.Claim.id, m.Claim.status).where(m.Claim.id.in_(ids))).all())
    assert set(statuses.values()) == {"paid"}
    assert w.balance(Account.CASH) == 5 * 9000 + (11000 - 9000) + 3 * 8000
    assert not w.exceptions()
