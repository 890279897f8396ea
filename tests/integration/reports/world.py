"""A small practice history the report tests work out by hand.

Today ``T`` is the practice's own date (the pages use it). Two payers (Aster, Birch), two
clinicians (P1, P2), four claims, all money posted through the ledger service:

=====  =====  ===  ======  ==========  ==================================================
claim  payer  who  DOS     submitted   money (insurance A/R / patient A/R left)
=====  =====  ===  ======  ==========  ==================================================
c1     Aster  P1   T-10    T-9         $100 charge; open: ins $100
c2     Aster  P2   T-45    T-40        $200 charge; Aster pays $120 on T-20, $50 contractual,
                                       $30 to the patient, who pays $10 on T-5 (and $5 on
                                       T-3, reversed the same day); open: patient $20;
                                       an underpayment work item
c3     Birch  P1   T-100   T-70        $150 charge; denied (CO-197 $150, CO-16 $50) on T-60,
                                       two appeals: won and lost; open: ins $150
c4     Birch  P2   T-200   never       $80 brought over as an opening balance; open: ins $80
=====  =====  ===  ======  ==========  ==================================================

Open A/R: insurance $330, patient $20, total $350. By date of service the default buckets
hold $100 | $20 | $0 | $150 | $80; by submission date $100 | $20 | $150 | $0 | $80 (c4,
never submitted, ages from its date of service).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger_events import (
    ChargeRef,
    InsuranceRef,
    TransactionKind,
    charge_to_insurance,
    contractual_adjustment,
    insurance_payment,
    opening_balance,
    patient_payment,
    transfer_to_patient,
)
from revcycle.domain.permissions import Role
from revcycle.services import ledger
from revcycle.services.actor import Actor, system_actor
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.integration.conftest import PASSWORD


@dataclass
class History:
    today: date
    practice: m.Practice
    billing: m.User
    admin: m.User
    therapist: m.User
    actor: Actor
    aster: m.Payer
    birch: m.Payer
    p1: m.Provider
    p2: m.Provider
    claims: dict[str, m.Claim] = field(default_factory=dict)


def practice_today(practice: m.Practice) -> date:
    return datetime.now(ZoneInfo(practice.timezone)).date()


def _at(practice: m.Practice, day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(practice.timezone))


def _claim(
    db: Session,
    h: History,
    payer: m.Payer,
    provider: m.Provider,
    *,
    dos: date,
    fee_cents: int,
    status: str,
    submitted: date | None,
) -> tuple[m.Claim, ChargeRef, InsuranceRef, m.Guarantor]:
    client = f.make_client(db, h.practice)
    guarantor = f.make_guarantor(db, client)
    coverage = f.make_coverage(db, client, payer)
    session = f.make_session(
        db, h.practice, client, provider, starts_at=_at(h.practice, dos), fee_cents=fee_cents
    )
    session.service_on = dos
    claim = f.make_claim(db, session, coverage, status=status)
    ref = ChargeRef(session.charges[0].id, client.id, claim.id)
    insurance = InsuranceRef(coverage.id, payer.id)
    if submitted is not None:
        db.add(
            m.Submission(
                practice_id=h.practice.id,
                claim_id=claim.id,
                channel="clearinghouse",
                submitted_at=_at(h.practice, submitted),
            )
        )
        _post(db, h, TransactionKind.CHARGE, submitted, charge_to_insurance(fee_cents, ref, insurance))
    else:
        claim.source = "ar_import"
        _post(db, h, TransactionKind.OPENING_BALANCE, dos, opening_balance(fee_cents, ref, insurance))
    db.flush()
    return claim, ref, insurance, guarantor


def _post(
    db: Session, h: History, kind: str, day: date, lines: tuple, payment_id: int | None = None
) -> m.LedgerTransaction:  # type: ignore[type-arg]
    return ledger.post_transaction(
        db,
        actor=h.actor,
        practice_id=h.practice.id,
        kind=kind,
        accounting_on=day,
        lines=lines,
        payment_id=payment_id,
    )


def _event(db: Session, claim: m.Claim, to_status: str) -> None:
    db.add(m.ClaimEvent(practice_id=claim.practice_id, claim_id=claim.id, to_status=to_status, source="835"))


def build_history(db: Session) -> History:
    practice = f.make_practice(db)
    users = {}
    for role in (Role.BILLING, Role.ADMIN, Role.THERAPIST):
        user = f.make_user(db, practice, role)
        user.password_hash = hash_password(PASSWORD)
        users[role] = user
    today = practice_today(practice)
    h = History(
        today=today,
        practice=practice,
        billing=users[Role.BILLING],
        admin=users[Role.ADMIN],
        therapist=users[Role.THERAPIST],
        actor=system_actor("report tests"),
        aster=f.make_payer(db, name="Aster Health"),
        birch=f.make_payer(db, name="Birch Mutual"),
        p1=f.make_provider(db, practice),
        p2=f.make_provider(db, practice),
    )
    t = lambda days: today - timedelta(days=days)  # noqa: E731 - a day T - n

    c1, *_ = _claim(db, h, h.aster, h.p1, dos=t(10), fee_cents=10000, status="accepted", submitted=t(9))

    c2, ref, insurance, guarantor = _claim(
        db, h, h.aster, h.p2, dos=t(45), fee_cents=20000, status="paid", submitted=t(40)
    )
    eft = m.Payment(
        practice_id=practice.id,
        kind="insurance",
        method="eft",
        amount_cents=12000,
        received_on=t(20),
        payer_id=h.aster.id,
    )
    db.add(eft)
    db.flush()
    _post(
        db,
        h,
        TransactionKind.INSURANCE_PAYMENT,
        t(20),
        insurance_payment(12000, ref, insurance, payment_id=eft.id)
        + contractual_adjustment(5000, ref, insurance)
        + transfer_to_patient(3000, ref, insurance, guarantor.id),
        payment_id=eft.id,
    )
    _event(db, c2, "paid")
    db.add(
        m.WorkItem(
            practice_id=practice.id, kind="underpayment", title="Aster paid below contract", claim_id=c2.id
        )
    )
    for amount, day in ((1000, t(5)), (500, t(3))):
        card = m.Payment(
            practice_id=practice.id,
            kind="patient",
            method="card",
            amount_cents=amount,
            received_on=day,
            client_id=c2.client_id,
            guarantor_id=guarantor.id,
        )
        db.add(card)
        db.flush()
        txn = _post(
            db,
            h,
            TransactionKind.PATIENT_PAYMENT,
            day,
            patient_payment(amount, ref, guarantor.id, payment_id=card.id),
            card.id,
        )
    ledger.reverse_transaction(
        db, actor=h.actor, transaction_id=txn.id, accounting_on=t(3), reason="card declined"
    )

    c3, *_ = _claim(db, h, h.birch, h.p1, dos=t(100), fee_cents=15000, status="denied", submitted=t(70))
    _event(db, c3, "denied")
    denied_at = _at(practice, t(60))
    db.add_all(
        [
            m.Denial(
                practice_id=practice.id,
                claim_id=c3.id,
                group_code="CO",
                carc="197",
                amount_cents=15000,
                category="authorization",
                created_at=denied_at,
            ),
            m.Denial(
                practice_id=practice.id,
                claim_id=c3.id,
                group_code="CO",
                carc="16",
                amount_cents=5000,
                category="missing_information",
                created_at=denied_at,
            ),
        ]
    )
    for status, recovered in (("won", 15000), ("lost", 0)):
        db.add(
            m.Appeal(
                practice_id=practice.id,
                claim_id=c3.id,
                status=status,
                submitted_on=t(50),
                decided_on=t(30),
                appealed_cents=15000,
                recovered_cents=recovered,
            )
        )

    c4, *_ = _claim(db, h, h.birch, h.p2, dos=t(200), fee_cents=8000, status="accepted", submitted=None)
    db.flush()
    h.claims = {"c1": c1, "c2": c2, "c3": c3, "c4": c4}
    return h


# --- reading the downloads back ------------------------------------------------------------------


def csv_rows(content: bytes) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(content.decode("utf-8"))))


def xlsx_rows(content: bytes) -> list[list[object]]:
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def pdf_text(content: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def row_starting(rows: list[list[object]], first: str) -> list[object]:
    found = [row for row in rows if row and row[0] == first]
    assert found, f"no row starting {first!r}"
    return found[0]
