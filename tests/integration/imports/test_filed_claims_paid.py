"""A filed-claims row that SimplePractice reports "Paid" records the submission and moves the
claim only as far as the evidence goes (adjudicated); money comes from a payment posted here,
so until one is, an informational flag says so."""

from __future__ import annotations

from sqlalchemy import func, select

from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus, EventSource
from revcycle.domain.ledger_events import ChargeRef, InsuranceRef, insurance_payment
from revcycle.services import ledger
from revcycle.services.actor import system_actor
from revcycle.services.claims import transition_claim
from revcycle.services.imports.filed_claims import PAID_ELSEWHERE_TITLE
from tests.integration.imports.conftest import Desk, counts_of

HEADER = "Date Submitted,Client,Status,Payer,Clearinghouse Reference,Payer Claim"
TRICARE = "Tricare East (99727)"


def _filed(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def _jordans_claim(desk: Desk) -> m.Claim:
    return desk.db.scalars(
        select(m.Claim).join(m.Client).where(m.Client.last_name == "Smith").order_by(m.Claim.id)
    ).one()


def _paid_flags(desk: Desk) -> list[m.WorkItem]:
    return [f for f in desk.flags("ledger_disagrees") if f.title == PAID_ELSEWHERE_TITLE]


def _postings_on(desk: Desk, claim: m.Claim) -> int:
    query = select(func.count()).select_from(m.Posting).where(m.Posting.claim_id == claim.id)
    return desk.db.scalar(query) or 0


def test_paid_in_simplepractice_is_adjudicated_here_and_flagged_until_a_payment_posts(desk: Desk) -> None:
    desk.load(desk.sample("simplepractice_appointments.csv"))

    batch = desk.load(_filed(f"10/08/2025,Jordan Smith,Paid,{TRICARE},CH-9001,ICN-77"))

    assert counts_of(batch)["flagged"] == 1
    claim = _jordans_claim(desk)
    assert claim.status == ClaimStatus.ADJUDICATED
    assert claim.payer_claim_control_number == "ICN-77"
    assert _postings_on(desk, claim) == 0, "no money is invented from a status"
    (submission,) = desk.db.scalars(select(m.Submission).where(m.Submission.claim_id == claim.id))
    assert (submission.channel, submission.clearinghouse_reference) == ("simplepractice", "CH-9001")
    events = desk.db.execute(
        select(m.ClaimEvent.to_status, m.ClaimEvent.detail)
        .where(m.ClaimEvent.claim_id == claim.id)
        .order_by(m.ClaimEvent.id)
    ).all()
    assert [to for to, _detail in events] == ["ready", "submitted", "adjudicated"]
    assert "no payment recorded here" in events[-1].detail
    (flag,) = _paid_flags(desk)
    assert (flag.severity, flag.holds_billing, flag.status) == ("info", False, "open")
    session = desk.db.get_one(m.ServiceSession, flag.session_id)
    assert session.client_id == claim.client_id == flag.client_id
    assert "Jordan Smith" in flag.detail
    assert "as Paid" in flag.detail
    (row,) = desk.rows(batch)
    assert row.detail["status"] == "adjudicated"
    assert row.detail["reported_status"] == "paid"

    again = desk.load(_filed(f"10/08/2025,Jordan Smith,Paid,{TRICARE},CH-9001,ICN-77"))
    assert counts_of(again)["unchanged"] == 1
    assert len(_paid_flags(desk)) == 1


def test_partially_paid_is_treated_the_same(desk: Desk) -> None:
    desk.load(desk.sample("simplepractice_appointments.csv"))

    desk.load(_filed(f"10/08/2025,Jordan Smith,Partially Paid,{TRICARE},CH-9002,--"))

    assert _jordans_claim(desk).status == ClaimStatus.ADJUDICATED
    (flag,) = _paid_flags(desk)
    assert "as Partially Paid" in flag.detail


def test_no_flag_when_the_payers_money_is_already_recorded_here(desk: Desk) -> None:
    desk.load(desk.sample("simplepractice_appointments.csv"))
    desk.load(_filed(f"10/08/2025,Jordan Smith,Accepted,{TRICARE},CH-1,--"))
    claim = _jordans_claim(desk)
    line = claim.lines[0]
    charge = desk.db.get_one(m.Charge, line.charge_id)
    ledger.post_transaction(
        desk.db,
        actor=system_actor("test"),
        practice_id=desk.practice.id,
        kind="insurance_payment",
        accounting_on=claim.service_from_on,
        lines=insurance_payment(
            14000,
            ChargeRef(charge_id=charge.id, client_id=claim.client_id, claim_id=claim.id),
            InsuranceRef(coverage_id=claim.coverage_id, payer_id=claim.payer_id),
        ),
    )

    batch = desk.load(_filed(f"10/20/2025,Jordan Smith,Paid,{TRICARE},CH-2,--"))

    assert counts_of(batch)["new"] == 1
    assert _paid_flags(desk) == []
    desk.db.refresh(claim)
    assert claim.status == ClaimStatus.ADJUDICATED  # the payment posting, not the report, says paid


def test_a_claim_already_paid_here_stays_paid_without_a_flag(desk: Desk) -> None:
    desk.load(desk.sample("simplepractice_appointments.csv"))
    desk.load(_filed(f"10/08/2025,Jordan Smith,Accepted,{TRICARE},CH-1,--"))
    claim = _jordans_claim(desk)
    transition_claim(
        desk.db, actor=desk.actor, claim_id=claim.id, target=ClaimStatus.PAID, source=EventSource.X12_835
    )

    desk.load(_filed(f"10/20/2025,Jordan Smith,Paid,{TRICARE},CH-2,--"))

    desk.db.refresh(claim)
    assert claim.status == ClaimStatus.PAID
    assert _paid_flags(desk) == []


def test_denied_and_approved_still_move_the_claim(desk: Desk) -> None:
    desk.load(desk.sample("simplepractice_appointments.csv"))

    desk.load(_filed(f"10/08/2025,Jordan Smith,Denied,{TRICARE},CH-1,--"))
    assert _jordans_claim(desk).status == ClaimStatus.DENIED
    desk.load(_filed(f"10/15/2025,Jordan Smith,Approved,{TRICARE},CH-2,--"))

    assert _jordans_claim(desk).status == ClaimStatus.ADJUDICATED
    assert _paid_flags(desk) == []
