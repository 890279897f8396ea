"""An admin loads X12's official CARC and RARC lists (which do not ship): all or nothing, by
name once; the remittance report then shows the list's wording beside our own, a code we do
not explain gets the list's text, and a code neither knows is still accepted and posted."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, PermissionDenied
from revcycle.services import codesets
from revcycle.services.actor import Actor
from tests import factories as f
from tests.integration.conftest import login, session_csrf
from tests.integration.remittance.world import World, claim_payment, line, make_world, remittance
from tests.integration.world import PASSWORD, password_hash

DATA = Path(__file__).resolve().parents[2] / "data" / "codesets"
CARC_FILE = DATA / "carc_list_synthetic.csv"
RARC_FILE = DATA / "rarc_list_synthetic.tsv"


@pytest.fixture
def w(db: Session) -> World:
    return make_world(db)


def _admin(w: World) -> Actor:
    return f.actor_for(w.db, f.make_user(w.db, w.practice, Role.ADMIN))


def _load(
    w: World, code_list: str, data: bytes, name: str, *, on: date = date(2026, 11, 1)
) -> m.CodeSetRelease:
    return codesets.load_adjustment_codes(
        w.db,
        actor=_admin(w),
        practice_id=w.practice.id,
        data=data,
        filename=f"{code_list}.csv",
        code_list=code_list,
        name=name,
        effective_on=on,
    )


def _codes(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(m.AdjustmentCode)) or 0


def test_both_lists_load_and_give_their_wording(w: World) -> None:
    carc = _load(w, "carc", CARC_FILE.read_bytes(), "CARC 2026-11")
    rarc = _load(w, "rarc", RARC_FILE.read_bytes(), "RARC 2026-11")

    assert (carc.kind, carc.row_count, rarc.kind, rarc.row_count) == ("carc", 5, "rarc", 2)
    found = codesets.official_descriptions(w.db, "carc", ["50", " d1 ", "999", ""])
    assert found == {
        "50": "Synthetic wording: the payer does not deem these services medically necessary.",
        "D1": "Synthetic wording: a retired code kept for old claims. (stopped 2007-02-01)",
    }
    assert codesets.official_descriptions(w.db, "rarc", ["N20", "50"]).keys() == {"N20"}
    audit = w.db.scalars(select(m.AuditLog).where(m.AuditLog.entity == "code_set_release")).all()
    assert [a.after["kind"] for a in audit] == ["carc", "rarc"]


def test_the_newest_list_wins(w: World) -> None:
    _load(w, "carc", CARC_FILE.read_bytes(), "CARC 2026-05", on=date(2026, 5, 1))
    _load(w, "carc", b"Code,Description\n50,Newer wording.\n", "CARC 2026-11", on=date(2026, 11, 1))

    assert codesets.official_descriptions(w.db, "carc", ["50", "16"]) == {
        "50": "Newer wording.",
        "16": "Synthetic wording: the claim lacks information needed to adjudicate it.",
    }


def test_a_wrong_file_writes_nothing_and_names_line_and_column(w: World) -> None:
    data = CARC_FILE.read_bytes() + b"17,,01/01/1995,,\n"

    with pytest.raises(InvalidInput, match=r"carc\.csv line 7, column 2: no description"):
        _load(w, "carc", data, "CARC bad")

    assert _codes(w.db) == 0
    assert w.db.scalar(select(func.count()).select_from(m.CodeSetRelease)) == 0


def test_a_name_loads_once_and_only_admins_load(w: World) -> None:
    _load(w, "carc", CARC_FILE.read_bytes(), "CARC 2026-11")
    with pytest.raises(Conflict, match="already loaded"):
        _load(w, "carc", CARC_FILE.read_bytes(), "CARC 2026-11")
    with pytest.raises(InvalidInput, match="not carc or rarc"):
        _load(w, "icd", CARC_FILE.read_bytes(), "other")
    with pytest.raises(PermissionDenied):
        codesets.load_adjustment_codes(
            w.db,
            actor=w.actor,  # billing
            practice_id=w.practice.id,
            data=CARC_FILE.read_bytes(),
            filename="carc.csv",
            code_list="carc",
            name="CARC by billing",
            effective_on=date(2026, 11, 1),
        )
    assert _codes(w.db) == 5


def test_the_remittance_report_shows_the_official_wording_and_unknown_codes_still_post(
    client: TestClient, db: Session, w: World
) -> None:
    _load(w, "carc", CARC_FILE.read_bytes(), "CARC 2026-11")
    _load(w, "rarc", RARC_FILE.read_bytes(), "RARC 2026-11")
    denied = w.claim(("90834", 12000))
    odd = w.claim(("90837", 15000))
    w.ingest(
        remittance(
            claim_payment(
                denied,
                replace(line("90834", 12000, 0, ("CO", "50", 12000)), remarks=(("HE", "MA999"),)),
                status="4",
            ),
            claim_payment(odd, line("90837", 15000, 0, ("CO", "ZZ8", 15000)), status="4"),
        )
    )
    row = db.scalars(select(m.Remittance)).one()
    user = db.get(m.User, w.actor.user_id)
    assert user is not None
    user.password_hash = password_hash()
    db.flush()
    assert login(client, user.email, PASSWORD).status_code == 303

    page = client.get(f"/remittances/{row.id}")

    assert page.status_code == 200, page.text
    assert "X12: Synthetic wording: the payer does not deem these services medically necessary." in page.text
    assert "MA999: Synthetic wording: a remark Revcycle does not explain." in page.text
    assert 'data-official="ZZ8"' not in page.text  # on no list: shown as ours alone
    denials = db.scalars(select(m.Denial).order_by(m.Denial.id)).all()
    assert [(d.carc, d.amount_cents) for d in denials] == [("50", 12000), ("ZZ8", 15000)]


def test_the_settings_page_loads_a_list_and_shows_a_bad_one_its_reason(
    client: TestClient, db: Session
) -> None:
    practice = f.make_practice(db)
    admin = f.make_user(db, practice, Role.ADMIN)
    admin.password_hash = password_hash()
    db.flush()
    assert login(client, admin.email, PASSWORD).status_code == 303
    token = session_csrf(client)

    bad = client.post(
        "/settings/code-sets/adjustment-codes",
        data={"csrf_token": token, "code_list": "carc", "name": "CARC x", "effective_on": "2026-11-01"},
        files={"file": ("carc.csv", b"Number,Words\n1,x\n", "text/csv")},
    )
    assert bad.status_code == 422
    assert "carc.csv line 1: the header needs a code column" in bad.text
    good = client.post(
        "/settings/code-sets/adjustment-codes",
        data={"csrf_token": token, "code_list": "rarc", "name": "RARC 2026-11", "effective_on": "2026-11-01"},
        files={"file": ("rarc.tsv", RARC_FILE.read_bytes(), "text/tab-separated-values")},
        follow_redirects=True,
    )
    assert good.status_code == 200
    assert "RARC list" in good.text
    assert "RARC 2026-11" in good.text
    assert _codes(db) == 2
