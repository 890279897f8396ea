"""An unknown payer from an AR portfolio mapped onto a catalog payer: its claims and the
insurance balance they carry move with it, by a correction transaction, balanced."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger import Account
from revcycle.services.imports import review
from revcycle.services.ledger import check_ledger
from tests import factories as f

from .conftest import Portfolio, dos


def _owed_by(db: Session, payer_id: int) -> int:
    total = db.scalar(
        select(func.sum(m.Posting.amount_cents)).where(
            m.Posting.account == Account.AR_INSURANCE.value, m.Posting.payer_id == payer_id
        )
    )
    return int(total or 0)


def test_mapping_an_unknown_ar_payer_moves_its_claims_and_their_balance(
    portfolio: Portfolio, db: Session
) -> None:
    p = portfolio
    cigna = f.make_payer(db, name="Cigna Behavioral Health", edi_payer_id="62308")
    text = (
        "Claim ID,Patient,Payer,Balance,DOS\n"
        f"C-1,Ann Park,CIGNA BH,$100.00,{dos(10)}\n"
        f"C-2,Bob Stone,CIGNA BH,$250.50,{dos(20)}\n"
        f'C-3,Cara Diaz,CIGNA BH,"-$20.00",{dos(30)}\n'
    )
    batch, _ = p.stage(text)
    p.commit(batch)
    (flag,) = list(db.scalars(select(m.WorkItem).where(m.WorkItem.rule == "unknown_payer")))
    unknown = flag.payer_id
    assert unknown is not None
    assert _owed_by(db, unknown) == 33050

    review.resolve_flag(
        db, actor=p.actor, work_item_id=flag.id, resolution="map_to_payer", value=str(cigna.id)
    )

    claims = db.scalars(select(m.Claim).where(m.Claim.practice_id == p.practice.id)).all()
    assert {c.payer_id for c in claims} == {cigna.id}
    assert _owed_by(db, unknown) == 0
    assert _owed_by(db, cigna.id) == 33050
    kinds = db.scalars(
        select(m.LedgerTransaction.kind).where(m.LedgerTransaction.practice_id == p.practice.id)
    )
    assert sorted(set(kinds)) == ["opening_balance", "payer_correction"]
    assert check_ledger(db, practice_id=p.practice.id).ok
