"""The rendering provider of each claim, matched to the practice's providers by name (or
created), and the payers and clinicians new to us, each flagged once with the claims it
concerns."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.names import payer_key, person_key
from revcycle.services.imports.flags import dedupe_key
from tests import factories as f

from .conftest import Portfolio, dos


def _provider(db: Session, practice: m.Practice, first: str, last: str) -> m.Provider:
    provider = f.make_provider(db, practice)
    provider.first_name, provider.last_name = first, last
    db.flush()
    return provider


def _claims(p: Portfolio) -> dict[str, m.Claim]:
    rows = p.db.scalars(select(m.Claim).where(m.Claim.practice_id == p.practice.id))
    return {claim.number: claim for claim in rows}


def _flags(p: Portfolio, rule: str) -> list[m.WorkItem]:
    return list(
        p.db.scalars(
            select(m.WorkItem)
            .where(m.WorkItem.practice_id == p.practice.id, m.WorkItem.rule == rule)
            .order_by(m.WorkItem.id)
        )
    )


@pytest.mark.parametrize("column", ["Provider", "Rendering Provider", "Provider Name", "rendering_provider"])
def test_the_provider_column_in_each_spelling_lands_on_the_claim(
    portfolio: Portfolio, db: Session, column: str
) -> None:
    p = portfolio
    dana = _provider(db, p.practice, "Dana", "Lee")
    text = (
        f"Claim ID,Patient,Payer,Balance,DOS,{column}\n"
        f'P-1,Ann Park,Aetna,$10.00,{dos(3)},"LEE, DANA"\n'
        f"P-2,Bob Stone,Aetna,$20.00,{dos(4)},Sam Rivera\n"
        f"P-3,Cara Diaz,Aetna,$30.00,{dos(5)},sam  rivera\n"
        f"P-4,Dan Eng,Aetna,$40.00,{dos(6)},\n"
    )
    batch, _ = p.stage(text)
    written = p.commit(batch)

    claims = _claims(p)
    assert claims["P-1"].provider_id == dana.id  # matched by normalised name
    sam = claims["P-2"].provider_id
    assert sam is not None
    assert claims["P-3"].provider_id == sam  # one new provider, however spelled
    assert claims["P-4"].provider_id is None  # no provider named
    created = db.get_one(m.Provider, sam)
    assert (created.first_name, created.last_name, created.name_key) == (
        "Sam",
        "Rivera",
        person_key("Sam Rivera"),
    )
    assert created.npi.startswith("X")  # a placeholder until someone adds the NPI
    assert written["providers"] == 1
    (flag,) = _flags(p, "unknown_clinician")
    assert flag.provider_id == sam
    assert flag.title == "Unknown clinician: Sam Rivera"
    assert "2 claims" in flag.detail
    assert flag.dedupe_key == dedupe_key("unknown_clinician", person_key("Sam Rivera"))


def test_an_unknown_clinician_is_flagged_once_per_clinician(portfolio: Portfolio) -> None:
    p = portfolio
    rows = "\n".join(f"Q-{n},Patient {n},Aetna,$10.00,{dos(n)},Pat Quinn" for n in range(1, 6))
    batch, counts = p.stage(f"Claim ID,Patient,Payer,Balance,DOS,Rendering Provider\n{rows}\n")
    # One flagged row (the clinician's first), however many claims name them.
    assert (counts["flagged"], counts["new"]) == (1, 4)
    first = p.db.scalars(
        select(m.ImportRowOutcome).where(
            m.ImportRowOutcome.batch_id == batch.id, m.ImportRowOutcome.outcome == "flagged"
        )
    ).one()
    assert first.row_number == 2
    assert {flag["rule"] for flag in first.detail["flags"]} == {"unknown_clinician", "unknown_payer"}
    p.commit(batch)
    assert len(_flags(p, "unknown_clinician")) == 1
    assert p.count(m.Provider) == 1

    # The next portfolio from the same system: the clinician is known now.
    more = f"Q-9,Patient 9,Aetna,$10.00,{dos(9)},Pat Quinn"
    batch, counts = p.stage(f"Claim ID,Patient,Payer,Balance,DOS,Rendering Provider\n{more}\n")
    assert (counts["flagged"], counts["new"]) == (0, 1)
    p.commit(batch)
    assert len(_flags(p, "unknown_clinician")) == 1
    assert p.count(m.Provider) == 1


def test_an_unknown_payer_is_flagged_once_with_its_count_of_claims(portfolio: Portfolio, db: Session) -> None:
    p = portfolio
    f.make_payer(db, name="Aetna", edi_payer_id="60054")
    text = (
        "Claim ID,Patient,Payer,Balance,DOS\n"
        f"U-1,Ann Park,Aetna (60054),$10.00,{dos(1)}\n"
        f"U-2,Bob Stone,Oscar Health (OSCR1),$20.00,{dos(2)}\n"
        f"U-3,Cara Diaz,Oscar Health (OSCR1),$30.00,{dos(3)}\n"
        f"U-4,Dan Eng,OSCAR HEALTH,$40.00,{dos(4)}\n"
        f"U-5,Eve Fox,Wellpoint Plan,$50.00,{dos(5)}\n"
    )
    batch, counts = p.stage(text)
    assert (counts["new"], counts["flagged"]) == (3, 2)  # Oscar (row 3) and Wellpoint (row 6)
    preview = {
        outcome.row_number: outcome.detail
        for outcome in db.scalars(
            select(m.ImportRowOutcome).where(
                m.ImportRowOutcome.batch_id == batch.id, m.ImportRowOutcome.outcome == "flagged"
            )
        )
    }
    assert sorted(preview) == [3, 6]
    assert "3 claims" in preview[3]["flags"][0]["detail"]  # U-2, U-3 and U-4 are one payer

    written = p.commit(batch)

    assert written["payers"] == 2
    oscar, wellpoint = _flags(p, "unknown_payer")
    claims = _claims(p)
    assert oscar.payer_id == claims["U-2"].payer_id == claims["U-4"].payer_id
    assert oscar.title == "Unknown payer: Oscar Health (OSCR1)"
    assert "3 claims" in oscar.detail
    assert oscar.dedupe_key == dedupe_key("unknown_payer", payer_key("Oscar Health"))
    assert wellpoint.payer_id == claims["U-5"].payer_id
    assert "1 claim " in wellpoint.detail
    assert written["flags"] == 2

    # Another file naming the same payers raises nothing new.
    batch, counts = p.stage(text.replace("U-", "V-"))
    assert (counts["new"], counts["flagged"]) == (5, 0)
    p.commit(batch)
    assert len(_flags(p, "unknown_payer")) == 2
    assert db.scalar(select(func.count()).select_from(m.Payer).where(m.Payer.name.like("Oscar%"))) == 1
