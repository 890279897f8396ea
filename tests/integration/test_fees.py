"""Fee schedules and payer contracts on a real database: the expected amount (one line and in
bulk), versions through the API, CSV import refused whole or round-tripped, the pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.domain.rate_tables import RateRow
from revcycle.errors import Conflict, InvalidInput
from revcycle.services import fee_tables
from revcycle.services.actor import Actor
from revcycle.services.contracts import ExpectedLine, expected_allowed, expected_allowed_many
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.conftest import login, session_csrf
from tests.integration.world import PASSWORD, World, build_world

JAN, JUL = date(2026, 1, 1), date(2026, 7, 1)
CSV = b'procedure_code,modifiers,amount\n90837,,150.00\n90837,95:HO,"1,045.50"\n90834,,$98\n'


@pytest.fixture
def world(db: Session) -> World:
    return build_world(db)


def biller(db: Session, world: World) -> Actor:
    return f.actor_for(db, world.users[Role.BILLING])


def count(db: Session, model: type[m.Base]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def rows(*items: tuple[str, str, int]) -> list[RateRow]:
    return [RateRow(code, mods, cents) for code, mods, cents in items]


def priced_payer(db: Session, world: World) -> tuple[m.PayerContract, m.FeeSchedule]:
    """The own payer: a 2026 contract (90837 and its 95:HO rate) and an open schedule."""
    actor, practice, payer = biller(db, world), world.own.practice.id, world.own.payer.id
    contract = fee_tables.create_contract(
        db,
        actor=actor,
        practice_id=practice,
        payer_id=payer,
        number="C-2026",
        starts_on=JAN,
        ends_on=date(2026, 12, 31),
        rates=rows(("90837", "", 12000), ("90837", "HO:95", 11500)),
    )
    schedule = fee_tables.create_schedule(
        db,
        actor=actor,
        practice_id=practice,
        name="Payer fees",
        payer_id=payer,
        effective_on=date(2020, 1, 1),
        rates=rows(("90837", "", 10000), ("90834", "", 8000)),
    )
    return contract, schedule


# --- the expected amount -------------------------------------------------------------------------


def test_expected_allowed_prefers_the_contract_then_the_payer_schedule(db: Session, world: World) -> None:
    contract, schedule = priced_payer(db, world)

    def ask(code: str, modifiers: str = "", day: date = JUL) -> tuple[str, int, int] | None:
        found = expected_allowed(
            db,
            practice_id=world.own.practice.id,
            payer_id=world.own.payer.id,
            procedure_code=code,
            modifiers=modifiers,
            service_on=day,
            units=2,
        )
        return (found.source, found.source_id, found.amount_cents) if found else None

    assert ask("90837") == ("contract", contract.id, 24000)
    assert ask("90837", "95:HO") == ask("90837", "ho:95") == ("contract", contract.id, 23000)
    assert ask("90837", "GT") == ("contract", contract.id, 24000)  # the code's own rate
    assert ask("90834") == ("fee_schedule", schedule.id, 16000)  # the contract does not price it
    assert ask("90837", day=date(2027, 1, 4)) == ("fee_schedule", schedule.id, 20000)  # contract over
    assert ask("90791") is None
    other = expected_allowed(
        db,
        practice_id=world.other.practice.id,  # another practice's contract is not this one's
        payer_id=world.own.payer.id,
        procedure_code="90837",
        modifiers="",
        service_on=JUL,
    )
    assert other is None


def test_the_bulk_form_answers_as_the_single_one_in_a_few_queries(db: Session, world: World) -> None:
    priced_payer(db, world)
    payers = [world.own.payer.id, world.other.payer.id]
    lines = [
        ExpectedLine(payers[i % 2], code, mods, day, 1 + i % 3)
        for i, (code, mods, day) in enumerate(
            [("90837", "", JUL), ("90837", "HO:95", JUL), ("90834", "", JAN), ("90791", "", JUL)] * 300
        )
    ]
    single = [
        expected_allowed(
            db,
            practice_id=world.own.practice.id,
            payer_id=line.payer_id,
            procedure_code=line.procedure_code,
            modifiers=line.modifiers,
            service_on=line.service_on,
            units=line.units,
        )
        for line in lines[:8]
    ]
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        bulk = expected_allowed_many(db, practice_id=world.own.practice.id, lines=lines)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert bulk[:8] == single
    assert sum(1 for found in bulk if found is not None) == 600  # the own payer's priced lines
    assert len(statements) <= 4  # contracts, schedules, then each table's rates


# --- versions --------------------------------------------------------------------------------------


def test_a_changed_rate_table_is_a_new_version_and_history_stays(db: Session, world: World) -> None:
    contract, _ = priced_payer(db, world)
    actor = biller(db, world)
    new = fee_tables.revise_rates(
        db, actor=actor, kind="contract", table_id=contract.id, rates=rows(("90834", "", 9000)),
        effective_on=JUL, replace=False,
    )  # fmt: skip
    assert new.id != contract.id
    assert (contract.ends_on, new.starts_on, new.ends_on, new.number) == (
        date(2026, 6, 30), JUL, date(2026, 12, 31), "C-2026"
    )  # fmt: skip
    kept = fee_tables.get_table(db, actor=actor, kind="contract", table_id=contract.id)
    assert [(r.procedure_code, r.modifiers, r.amount_cents) for r in kept.rates] == [
        ("90837", "", 12000), ("90837", "HO:95", 11500)
    ]  # fmt: skip
    assert kept.replaced_by_id == new.id
    merged = fee_tables.get_table(db, actor=actor, kind="contract", table_id=new.id)
    assert {(r.procedure_code, r.amount_cents) for r in merged.rates} == {
        ("90837", 12000), ("90837", 11500), ("90834", 9000)
    }  # fmt: skip
    with pytest.raises(Conflict, match="newer version"):
        fee_tables.revise_rates(
            db, actor=actor, kind="contract", table_id=contract.id, rates=rows(("90834", "", 1)),
            effective_on=date(2026, 8, 1),
        )  # fmt: skip
    with pytest.raises(Conflict, match="end it before then"):
        fee_tables.end_table(db, actor=actor, kind="contract", table_id=contract.id, ends_on=JUL)
    settings = db.scalars(
        select(m.PracticePayer).where(
            m.PracticePayer.practice_id == world.own.practice.id,
            m.PracticePayer.payer_id == world.own.payer.id,
        )
    ).one()
    assert settings.contract_id == new.id
    audit_rows = db.scalars(
        select(m.AuditLog.action).where(
            m.AuditLog.practice_id == world.own.practice.id, m.AuditLog.entity == "payer_contract"
        )
    ).all()
    assert sorted(audit_rows) == ["create", "create", "update"]


def test_a_therapist_may_not_see_or_change_fees(db: Session, world: World) -> None:
    therapist = f.actor_for(db, world.users[Role.THERAPIST])
    with pytest.raises(Exception, match="manage fees"):
        fee_tables.list_contracts(db, actor=therapist, practice_id=world.own.practice.id)


# --- the API and CSV ------------------------------------------------------------------------------


def test_api_creates_a_contract_revises_it_from_a_csv_and_exports_the_same_file(
    client: TestClient, db: Session, world: World
) -> None:
    headers = bearer(client, world.users[Role.BILLING].email)
    created = client.post(
        "/api/payer-contracts",
        headers=headers,
        json={"payer_id": world.own.payer.id, "number": "A-1", "starts_on": "2026-01-01",
              "rates": [{"procedure_code": "90837", "amount_cents": 11000}]},
    )  # fmt: skip
    assert created.status_code == 200, created.text
    first = created.json()
    assert (first["rate_count"], first["payer_name"], first["level"]) == (1, world.own.payer.name, "contract")
    revised = client.post(
        f"/api/payer-contracts/{first['id']}/rates.csv",
        headers=headers,
        files={"file": ("aetna-2026h2.csv", CSV, "text/csv")},
        data={"effective_on": "2026-07-01"},
    )
    assert revised.status_code == 200, revised.text
    second = revised.json()
    assert second["id"] != first["id"]
    assert (second["starts_on"], second["rate_count"]) == ("2026-07-01", 3)
    assert {(r["procedure_code"], r["modifiers"], r["amount_cents"]) for r in second["rates"]} == {
        ("90837", "", 15000), ("90837", "95:HO", 104550), ("90834", "", 9800)
    }  # fmt: skip
    old = client.get(f"/api/payer-contracts/{first['id']}", headers=headers).json()
    assert (old["ends_on"], old["replaced_by_id"]) == ("2026-06-30", second["id"])
    exported = client.get(f"/api/payer-contracts/{second['id']}/rates.csv", headers=headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    # the same rows back, in the import's format, and importing the export changes nothing
    assert sorted(exported.text.splitlines()[1:]) == sorted(
        ["90837,,150.00", "90837,95:HO,1045.50", "90834,,98.00"]
    )
    again = client.post(
        f"/api/payer-contracts/{second['id']}/rates.csv",
        headers=headers,
        files={"file": ("export.csv", exported.content, "text/csv")},
        data={"effective_on": "2026-10-01"},
    ).json()
    third = client.get(f"/api/payer-contracts/{again['id']}/rates.csv", headers=headers)
    assert third.text == exported.text
    listed = client.get("/api/payer-contracts", headers=headers).json()
    assert [item["starts_on"] for item in listed["items"]] == ["2026-10-01", "2026-07-01", "2026-01-01"]


def test_a_csv_with_bad_rows_is_refused_whole_naming_row_and_column(
    client: TestClient, db: Session, world: World
) -> None:
    contract, _ = priced_payer(db, world)
    headers = bearer(client, world.users[Role.ADMIN].email)
    before = (count(db, m.PayerContract), count(db, m.PayerContractRate), count(db, m.AuditLog))
    bad = (
        b"procedure_code,modifiers,amount\n"
        b"90837,,150.00\n"
        b"9083,,150.00\n"  # row 3: not a code
        b"90834,,12.345\n"  # row 4: a fraction of a cent
        b"90834,,abc\n"  # row 5: not money
        b"90837,,151.00\n"  # row 6: 90837 again
    )
    response = client.post(
        f"/api/payer-contracts/{contract.id}/rates.csv",
        headers=headers,
        files={"file": ("bad.csv", bad, "text/csv")},
        data={"effective_on": "2026-07-01"},
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith("bad.csv: 4 problem(s), nothing was saved")
    for where in ("row 3, column procedure_code", "row 4, column amount", "row 5, column amount",
                  "row 6, column procedure_code"):  # fmt: skip
        assert where in detail
    db.expire_all()
    assert (count(db, m.PayerContract), count(db, m.PayerContractRate), count(db, m.AuditLog)) == before
    assert db.get(m.PayerContract, contract.id).ends_on == date(2026, 12, 31)  # type: ignore[union-attr]
    json_bad = client.post(
        f"/api/payer-contracts/{contract.id}/rates",
        headers=headers,
        json={
            "effective_on": "2026-07-01",
            "rates": [{"procedure_code": "90837", "modifiers": "9", "amount_cents": 1}],
        },
    )
    assert json_bad.status_code == 422
    assert "rates[0], column modifiers" in json_bad.json()["detail"]


def test_a_schedule_without_rates_takes_its_first_table_in_place(
    client: TestClient, db: Session, world: World
) -> None:
    headers = bearer(client, world.users[Role.BILLING].email)
    made = client.post(
        "/api/fee-schedules", headers=headers, json={"name": "Standard 2026", "effective_on": "2026-01-01"}
    ).json()
    assert (made["level"], made["rate_count"]) == ("standard", 0)
    filled = client.post(
        f"/api/fee-schedules/{made['id']}/rates.csv",
        headers=headers,
        files={"file": ("s.csv", CSV, "text/csv")},
    )
    assert filled.status_code == 200, filled.text
    assert (filled.json()["id"], filled.json()["rate_count"]) == (made["id"], 3)
    no_date = client.post(
        f"/api/fee-schedules/{made['id']}/rates", headers=headers,
        json={"rates": [{"procedure_code": "90837", "amount_cents": 1}]},
    )  # fmt: skip
    assert no_date.status_code == 422
    assert "effective_on" in no_date.json()["detail"]
    twin = client.post(
        "/api/fee-schedules", headers=headers, json={"name": "Standard 2026", "effective_on": "2026-03-01"}
    )
    assert twin.status_code == 409


# --- the pages -------------------------------------------------------------------------------------


def test_the_pages_list_show_and_take_a_contract_from_a_csv(
    client: TestClient, db: Session, world: World
) -> None:
    contract, schedule = priced_payer(db, world)
    assert login(client, world.users[Role.BILLING].email, PASSWORD).status_code == 303
    token = session_csrf(client, "/fees")
    page = client.get("/fees")
    assert page.status_code == 200
    assert 'data-nav="fees"' in page.text or 'href="/fees"' in page.text
    row = re.search(rf'<tr id="contract-{contract.id}".*?</tr>', page.text, re.S)
    assert row is not None
    assert "C-2026" in row.group(0)
    assert world.own.payer.name in row.group(0)
    assert f'<tr id="schedule-{schedule.id}"' in page.text
    detail = client.get(f"/fees/contracts/{contract.id}")
    assert detail.status_code == 200
    assert "$115.00" in detail.text
    assert "HO:95" in detail.text
    made = client.post(
        "/fees/contracts",
        data={
            "csrf_token": token,
            "number": "P-9",
            "payer_id": str(world.own.payer.id),
            "starts_on": "2027-01-01",
        },
        files={"file": ("p9.csv", CSV, "text/csv")},
    )
    assert made.status_code == 303, made.text
    new_id = int(made.headers["location"].split("/")[-1].split("?")[0])
    shown = client.get(made.headers["location"])
    assert "$1,045.50" in shown.text
    exported = client.get(f"/fees/contracts/{new_id}/rates.csv")
    assert exported.text.splitlines()[0] == "procedure_code,modifiers,amount"
    refused = client.post(
        f"/fees/contracts/{new_id}/rates",
        data={"csrf_token": token, "effective_on": "2027-06-01"},
        files={"file": ("bad.csv", b"procedure_code,amount\nXYZ,1\n", "text/csv")},
    )
    assert refused.status_code == 422
    assert "row 2, column procedure_code" in refused.text
    assert count(db, m.PayerContract) == 2
    ended = client.post(f"/fees/contracts/{new_id}/end", data={"csrf_token": token, "ends_on": "2027-12-31"})
    assert ended.status_code == 303
    db.expire_all()
    assert db.get(m.PayerContract, new_id).ends_on == date(2027, 12, 31)  # type: ignore[union-attr]


def test_fees_pages_are_billing_and_admin_only(client: TestClient, db: Session, world: World) -> None:
    other = m.PayerContract(
        practice_id=world.other.practice.id, payer_id=world.other.payer.id, number="X", starts_on=JAN
    )
    db.add(other)
    db.flush()
    assert login(client, world.users[Role.FRONT_DESK].email, PASSWORD).status_code == 303
    assert client.get("/fees").status_code == 403
    assert 'href="/fees"' not in client.get("/front-desk").text
    client.cookies.clear()
    assert login(client, world.users[Role.ADMIN].email, PASSWORD).status_code == 303
    assert client.get("/fees").status_code == 200
    assert client.get(f"/fees/contracts/{other.id}").status_code == 404
    assert client.get(f"/fees/contracts/{other.id}/rates.csv").status_code == 404


def test_invalid_input_is_invalid_input(db: Session, world: World) -> None:
    with pytest.raises(InvalidInput, match="ends_on"):
        fee_tables.create_schedule(
            db, actor=biller(db, world), practice_id=world.own.practice.id, name="S",
            effective_on=JUL, ends_on=JAN,
        )  # fmt: skip
