"""Charges entered and corrected by hand: the fee schedule's default, the checks on what is
typed, the claim rebuilt and scrubbed again, the ledger corrected without editing history,
and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.ledger_events import ChargeRef, InsuranceRef, charge_to_insurance
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from revcycle.services import charges, ledger
from revcycle.services.actor import Actor
from revcycle.services.claims import transition_claim
from revcycle.services.claims_pipeline import building
from revcycle.services.fees import default_fee
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.world import make_login_user

TODAY = date(2026, 3, 20)
DOS = date(2026, 3, 2)


@dataclass
class Desk:
    db: Session
    practice: m.Practice
    user: m.User
    actor: Actor
    client: m.Client
    provider: m.Provider
    payer: m.Payer
    coverage: m.Coverage

    def visit(self, hour: int = 15, **kwargs: object) -> m.ServiceSession:
        starts = datetime(2026, 3, 2, hour, 0, tzinfo=UTC)
        return f.make_session(self.db, self.practice, self.client, self.provider, starts_at=starts, **kwargs)  # type: ignore[arg-type]

    def schedule(
        self,
        rates: dict[tuple[str, str], int],
        *,
        effective_on: date = date(2026, 1, 1),
        ends_on: date | None = None,
        payer: m.Payer | None = None,
        client: m.Client | None = None,
    ) -> m.FeeSchedule:
        schedule = m.FeeSchedule(
            practice_id=self.practice.id,
            name=f"schedule {len(rates)} {effective_on}",
            payer_id=payer.id if payer else None,
            client_id=client.id if client else None,
            effective_on=effective_on,
            ends_on=ends_on,
        )
        self.db.add(schedule)
        self.db.flush()
        for (code, modifiers), cents in rates.items():
            self.db.add(
                m.FeeScheduleRate(
                    practice_id=self.practice.id,
                    fee_schedule_id=schedule.id,
                    procedure_code=code,
                    modifiers=modifiers,
                    amount_cents=cents,
                )
            )
        self.db.flush()
        return schedule

    def fee(self, code: str = "90837", modifiers: str = "", units: int = 1) -> int | None:
        quote = default_fee(
            self.db,
            practice_id=self.practice.id,
            procedure_code=code,
            modifiers=modifiers,
            service_on=DOS,
            client_id=self.client.id,
            units=units,
        )
        return quote.amount_cents if quote else None


@pytest.fixture
def desk(db: Session) -> Desk:
    practice = f.make_practice(db)
    practice.postal_code = "071021234"
    user = f.make_user(db, practice, Role.BILLING)
    client = f.make_client(db, practice)
    client.address_line1, client.city, client.state, client.postal_code = "5 Elm St", "Newark", "NJ", "07103"
    provider = f.make_provider(db, practice)
    payer = f.make_payer(db, name="Aetna")
    db.add(m.PracticePayer(practice_id=practice.id, payer_id=payer.id, timely_filing_days=90))
    coverage = f.make_coverage(db, client, payer)
    db.flush()
    return Desk(db, practice, user, f.actor_for(db, user), client, provider, payer, coverage)


def entry(**values: object) -> charges.ChargeInput:
    base: dict[str, object] = {"procedure_code": "90834", "diagnosis_codes": ["F41.1"], "minutes": 45}
    return charges.ChargeInput(**{**base, **values})  # type: ignore[arg-type]


def _build_claim(desk: Desk, service: m.ServiceSession) -> m.Claim:
    building.mark_sessions_ready(desk.db, actor=desk.actor, session_ids=[service.id])
    [built] = building.build_claims(
        desk.db, actor=desk.actor, practice_id=desk.practice.id, session_ids=[service.id], today=TODAY
    ).claims
    return built.claim


# --- the fee schedule's default ------------------------------------------------------------------


def test_the_most_specific_schedule_in_force_wins(desk: Desk) -> None:
    desk.schedule({("90837", ""): 15000})
    assert desk.fee() == 15000
    desk.schedule({("90837", ""): 14000}, payer=desk.payer)
    assert desk.fee() == 14000
    desk.schedule({("90837", ""): 9000}, client=desk.client)
    assert desk.fee() == 9000
    # a client schedule without this code does not hide the payer's rate
    assert desk.fee("90834") is None
    desk.schedule({("90834", ""): 11000})
    assert desk.fee("90834") == 11000


def test_only_schedules_in_force_on_the_date_of_service_count(desk: Desk) -> None:
    desk.schedule({("90837", ""): 15000}, effective_on=date(2025, 1, 1), ends_on=date(2025, 12, 31))
    desk.schedule({("90837", ""): 16000}, effective_on=date(2026, 1, 1))
    desk.schedule({("90837", ""): 17000}, effective_on=date(2026, 4, 1))  # not yet
    desk.schedule({("90837", ""): 8000}, client=desk.client, ends_on=date(2026, 2, 28))  # ended
    desk.schedule({("90837", ""): 12000}, payer=desk.payer, effective_on=date(2026, 3, 3))  # a day late
    assert desk.fee() == 16000


def test_a_payer_schedule_is_the_primary_coverage_payer_on_that_date(desk: Desk) -> None:
    other = f.make_payer(desk.db)
    desk.schedule({("90837", ""): 15000})
    desk.schedule({("90837", ""): 13000}, payer=other)
    assert desk.fee() == 15000
    desk.coverage.ends_on = date(2026, 2, 28)
    new = f.make_coverage(desk.db, desk.client, other)
    new.effective_on = date(2026, 3, 1)
    desk.db.flush()
    assert desk.fee() == 13000


def test_the_rate_for_the_modifiers_is_preferred_then_the_plain_rate_times_units(desk: Desk) -> None:
    desk.schedule({("90837", ""): 15000, ("90837", "95"): 15500, ("H0004", ""): 3000})
    assert desk.fee(modifiers="95") == 15500
    assert desk.fee(modifiers="gt") == 15000
    assert desk.fee("H0004", units=4) == 12000


def test_a_charge_takes_the_schedule_fee_or_the_fee_typed_in(desk: Desk) -> None:
    desk.schedule({("90834", ""): 12000})
    service = desk.visit(note_status="draft")
    added = charges.add_charge(desk.db, actor=desk.actor, session_id=service.id, entry=entry())
    assert added.charge is not None
    assert added.charge.fee_cents == 12000
    assert added.fee is not None
    assert added.fee.level == "standard"
    typed = charges.add_charge(
        desk.db, actor=desk.actor, session_id=service.id, entry=entry(procedure_code="90785", fee_cents=2550)
    )
    assert typed.charge is not None
    assert typed.charge.fee_cents == 2550


def test_without_a_schedule_the_fee_must_be_typed(desk: Desk) -> None:
    service = desk.visit()
    with pytest.raises(InvalidInput, match=r"^fee: no fee schedule in force on 2026-03-02 prices 90834"):
        charges.add_charge(desk.db, actor=desk.actor, session_id=service.id, entry=entry())
    assert len(charges.list_charges(desk.db, service.id)) == 1


# --- what is typed -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"procedure_code": "9083"}, "procedure_code", "is not a CPT or HCPCS code"),
        ({"modifiers": ["95", "GT", "25", "59", "76"]}, "modifiers", "at most 4 modifiers"),
        ({"modifiers": ["9"]}, "modifiers", "is not a modifier"),
        ({"units": 0}, "units", "must be 1 to 999"),
        ({"minutes": 0}, "minutes", "must be 1 to 1440"),
        ({"fee_cents": 0}, "fee", "must be more than $0.00"),
        ({"diagnosis_codes": []}, "diagnosis_codes", "at least one diagnosis"),
        ({"diagnosis_codes": ["F41.1", "banana"]}, "diagnosis_codes", "is not an ICD-10-CM code"),
        (
            {"diagnosis_codes": [f"F4{n}" for n in range(10)] + ["F50", "F51", "F60"]},
            "diagnosis_codes",
            "at most 12",
        ),
        (
            {"diagnosis_pointers": [3], "diagnosis_codes": ["F41.1", "F32.1"]},
            "diagnosis_pointers",
            "3 does not point",
        ),
        (
            {"diagnosis_pointers": [1, 2, 3, 4, 5], "diagnosis_codes": ["F41.1"] * 1},
            "diagnosis_pointers",
            "1 to 4",
        ),
        ({"diagnosis_pointers": [1, 1]}, "diagnosis_pointers", "pointed at twice"),
        ({"diagnosis_pointers": []}, "diagnosis_pointers", "1 to 4"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    desk: Desk, values: dict[str, object], field: str, words: str
) -> None:
    service = desk.visit()
    with pytest.raises(InvalidInput) as refused:
        charges.add_charge(
            desk.db, actor=desk.actor, session_id=service.id, entry=entry(**{"fee_cents": 100, **values})
        )
    assert any(p.where == field and words in p.message for p in refused.value.problems), refused.value.detail
    assert refused.value.detail.startswith(f"{field}:") or f"; {field}:" in refused.value.detail


def test_codes_are_normalised_and_an_unknown_code_is_a_warning(desk: Desk) -> None:
    service = desk.visit()
    result = charges.add_charge(
        desk.db,
        actor=desk.actor,
        session_id=service.id,
        entry=entry(
            procedure_code=" 99499 ",
            modifiers=["gt", " 95"],
            fee_cents=5000,
            diagnosis_codes=["f411", "F32.1"],
            diagnosis_pointers=[2, 1],
        ),
    )
    charge = result.charge
    assert charge is not None
    assert (charge.procedure_code, charge.modifiers) == ("99499", "GT:95")
    assert charge.diagnosis_codes == ["F41.1", "F32.1"]
    assert charge.diagnosis_pointers == "21"
    assert [w.code for w in result.warnings] == ["charge.procedure_code.unknown"]
    known = charges.add_charge(
        desk.db, actor=desk.actor, session_id=service.id, entry=entry(procedure_code="90834", fee_cents=5000)
    )
    assert known.warnings == []


def test_a_session_may_not_name_more_than_twelve_diagnoses_across_its_charges(desk: Desk) -> None:
    service = desk.visit()
    service.charges[0].diagnosis_codes = [f"F4{n}" for n in range(8)]
    desk.db.flush()
    with pytest.raises(InvalidInput, match="would name 13 diagnoses"):
        charges.add_charge(
            desk.db,
            actor=desk.actor,
            session_id=service.id,
            entry=entry(fee_cents=100, diagnosis_codes=["F50", "F51", "F60", "F61", "F62"]),
        )


def test_the_same_code_and_modifiers_twice_on_a_session_is_refused(desk: Desk) -> None:
    service = desk.visit()  # has 90837
    with pytest.raises(Conflict, match="already has a charge 90837"):
        charges.add_charge(
            desk.db,
            actor=desk.actor,
            session_id=service.id,
            entry=entry(procedure_code="90837", fee_cents=100),
        )


# --- the claim ------------------------------------------------------------------------------------------


def test_a_charge_on_a_submitted_claim_is_refused_pointing_to_a_replacement(desk: Desk) -> None:
    service = desk.visit()
    claim = _build_claim(desk, service)
    assert claim.status == "ready"
    transition_claim(desk.db, actor=desk.actor, claim_id=claim.id, target="submitted", source="user")
    message = f"claim {claim.number} was submitted: correct it with a replacement claim (frequency 7)"
    charge_id = service.charges[0].id
    with pytest.raises(Conflict, match=message.replace("(", r"\(").replace(")", r"\)")):
        charges.update_charge(desk.db, actor=desk.actor, charge_id=charge_id, entry=entry(fee_cents=100))
    with pytest.raises(Conflict, match="was submitted"):
        charges.add_charge(desk.db, actor=desk.actor, session_id=service.id, entry=entry(fee_cents=100))
    with pytest.raises(Conflict, match="was submitted"):
        charges.remove_charge(desk.db, actor=desk.actor, charge_id=charge_id)
    assert desk.db.get_one(m.Charge, charge_id).fee_cents == 15000


def test_an_edit_rebuilds_and_rescrubs_the_draft_claim_keeping_its_number(desk: Desk) -> None:
    service = desk.visit()
    claim = _build_claim(desk, service)
    number, scrubs_before = claim.number, _scrubs(desk, claim)
    charge = service.charges[0]

    # 90834 with 20 minutes: below the band, an error: the ready claim goes back to draft
    result = charges.update_charge(
        desk.db,
        actor=desk.actor,
        charge_id=charge.id,
        entry=entry(fee_cents=13000, minutes=20, diagnosis_codes=["F32.1", "F41.1"], diagnosis_pointers=[2]),
        today=TODAY,
    )

    assert result.claim is not None
    assert result.claim.id == claim.id
    desk.db.refresh(claim)
    assert claim.number == number
    assert claim.status == "draft"
    assert claim.billed_cents == 13000
    assert claim.diagnosis_codes == ["F32.1", "F41.1"]
    [line] = claim.lines
    assert (line.procedure_code, line.charge_cents, line.minutes, line.diagnosis_pointers) == (
        "90834",
        13000,
        20,
        "2",
    )
    assert _scrubs(desk, claim) == scrubs_before + 1
    assert result.scrub is not None
    assert any(p.code.startswith("scrub.time_band") for p in result.scrub.errors)

    # corrected: clean again, so the draft moves to ready; a second charge joins as line 2
    charges.update_charge(
        desk.db, actor=desk.actor, charge_id=charge.id, entry=entry(fee_cents=13000), today=TODAY
    )
    charges.add_charge(
        desk.db,
        actor=desk.actor,
        session_id=service.id,
        entry=entry(procedure_code="90785", fee_cents=2000, minutes=None),
        today=TODAY,
    )
    desk.db.refresh(claim)
    assert claim.status == "ready"
    assert [(li.line_number, li.procedure_code) for li in claim.lines] == [(1, "90834"), (2, "90785")]
    assert claim.billed_cents == 15000
    statuses = desk.db.scalars(
        select(m.ClaimEvent.to_status).where(m.ClaimEvent.claim_id == claim.id).order_by(m.ClaimEvent.id)
    ).all()
    assert statuses == ["ready", "draft", "ready"]


def test_removing_the_last_charge_voids_its_draft_claim(desk: Desk) -> None:
    service = desk.visit()
    claim = _build_claim(desk, service)
    charge_id = service.charges[0].id
    charges.remove_charge(desk.db, actor=desk.actor, charge_id=charge_id, today=TODAY)
    assert desk.db.get(m.Charge, charge_id) is None
    desk.db.refresh(claim)
    assert claim.status == "void"
    assert claim.lines == []
    removed = desk.db.scalars(
        select(m.AuditLog).where(m.AuditLog.entity == "charge", m.AuditLog.action == "delete")
    ).one()
    assert removed.before is not None
    assert removed.before["procedure_code"] == "90837"


# --- the ledger ----------------------------------------------------------------------------------------


def _post_charge(desk: Desk, service: m.ServiceSession) -> m.LedgerTransaction:
    charge = service.charges[0]
    return ledger.post_transaction(
        desk.db,
        actor=desk.actor,
        practice_id=desk.practice.id,
        kind="charge",
        accounting_on=service.service_on,
        lines=charge_to_insurance(
            charge.fee_cents,
            ChargeRef(charge.id, service.client_id),
            InsuranceRef(desk.coverage.id, desk.payer.id),
        ),
    )


def _postings(desk: Desk) -> list[tuple[int, int, str, int]]:
    return [
        (p.id, p.transaction_id, p.account, p.amount_cents)
        for p in desk.db.scalars(
            select(m.Posting).where(m.Posting.practice_id == desk.practice.id).order_by(m.Posting.id)
        )
    ]


def test_a_posted_charge_is_corrected_by_reversal_and_repost_never_by_editing(desk: Desk) -> None:
    service = desk.visit()
    first = _post_charge(desk, service)
    before = _postings(desk)
    charge = service.charges[0]

    result = charges.update_charge(
        desk.db, actor=desk.actor, charge_id=charge.id, entry=entry(fee_cents=12000)
    )

    after = _postings(desk)
    assert after[: len(before)] == before  # history untouched
    assert len(result.ledger_transaction_ids) == 2
    reversal, repost = (desk.db.get_one(m.LedgerTransaction, t) for t in result.ledger_transaction_ids)
    assert first.id not in result.ledger_transaction_ids
    assert {(a, c) for _, t, a, c in after if t == reversal.id} == {
        ("ar:insurance", -15000),
        ("revenue", 15000),
    }
    assert {(a, c) for _, t, a, c in after if t == repost.id} == {
        ("ar:insurance", 12000),
        ("revenue", -12000),
    }
    assert _owed(desk, charge.id) == 12000
    assert ledger.check_ledger(desk.db, desk.practice.id).ok

    # a change that leaves the fee alone posts nothing
    same = charges.update_charge(
        desk.db, actor=desk.actor, charge_id=charge.id, entry=entry(fee_cents=12000, units=1, minutes=50)
    )
    assert same.ledger_transaction_ids == []
    # a posted charge cannot be removed: the books name it
    with pytest.raises(Conflict, match="is on the ledger"):
        charges.remove_charge(desk.db, actor=desk.actor, charge_id=charge.id)


def test_a_new_charge_of_a_session_on_the_books_is_posted_too(desk: Desk) -> None:
    service = desk.visit()
    _post_charge(desk, service)
    result = charges.add_charge(
        desk.db, actor=desk.actor, session_id=service.id, entry=entry(procedure_code="90785", fee_cents=2000)
    )
    assert result.charge is not None
    assert len(result.ledger_transaction_ids) == 1
    assert _owed(desk, result.charge.id) == 2000
    assert ledger.check_ledger(desk.db, desk.practice.id).ok
    unposted = desk.visit(16)
    plain = charges.add_charge(desk.db, actor=desk.actor, session_id=unposted.id, entry=entry(fee_cents=2000))
    assert plain.ledger_transaction_ids == []


# --- who may ---------------------------------------------------------------------------------------------


def test_only_people_who_enter_charges_may_and_other_practices_see_nothing(desk: Desk) -> None:
    service = desk.visit()
    therapist = f.actor_for(desk.db, f.make_user(desk.db, desk.practice, Role.THERAPIST))
    with pytest.raises(PermissionDenied):
        charges.add_charge(desk.db, actor=therapist, session_id=service.id, entry=entry(fee_cents=100))
    stranger_practice = f.make_practice(desk.db)
    stranger = f.actor_for(desk.db, f.make_user(desk.db, stranger_practice, Role.BILLING))
    with pytest.raises(NotFound):
        charges.update_charge(
            desk.db, actor=stranger, charge_id=service.charges[0].id, entry=entry(fee_cents=100)
        )
    audits = desk.db.scalar(select(func.count()).select_from(m.AuditLog).where(m.AuditLog.entity == "charge"))
    assert audits == 0


def _owed(desk: Desk, charge_id: int) -> int:
    return ledger.balance(desk.db, desk.practice.id, BalanceScope.CHARGE, charge_id, Account.AR_INSURANCE)


def _scrubs(desk: Desk, claim: m.Claim) -> int:
    return (
        desk.db.scalar(
            select(func.count()).select_from(m.ClaimScrub).where(m.ClaimScrub.claim_id == claim.id)
        )
        or 0
    )


# --- the API ---------------------------------------------------------------------------------------------


def test_the_api_adds_corrects_and_removes_charges(client: TestClient, desk: Desk) -> None:
    user = make_login_user(desk.db, desk.practice, Role.BILLING, name="charge-api")
    headers = bearer(client, user.email)
    desk.schedule({("90834", ""): 12000, ("90834", "95"): 12500})
    service = desk.visit(note_status="draft")

    lookup = client.get(
        "/api/fee-schedule/lookup",
        params={
            "procedure": "90834",
            "modifiers": "95",
            "client_id": desk.client.id,
            "service_on": "2026-03-02",
        },
        headers=headers,
    )
    assert lookup.status_code == 200, lookup.text
    assert (lookup.json()["fee_cents"], lookup.json()["level"]) == (12500, "standard")

    body = {"procedure_code": "90834", "modifiers": ["95"], "minutes": 45, "diagnosis_codes": ["F41.1"]}
    added = client.post(f"/api/sessions/{service.id}/charges", json=body, headers=headers)
    assert added.status_code == 200, added.text
    charge = added.json()["charge"]
    assert (charge["fee_cents"], charge["modifiers"], charge["diagnosis_pointers"]) == (12500, ["95"], [1])

    bad = client.post(
        f"/api/charges/{charge['id']}", json={**body, "diagnosis_pointers": [2]}, headers=headers
    )
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("diagnosis_pointers: 2 does not point")

    fixed = client.post(f"/api/charges/{charge['id']}", json={**body, "fee_cents": 9900}, headers=headers)
    assert fixed.status_code == 200
    assert fixed.json()["charge"]["fee_cents"] == 9900
    listed = client.get(f"/api/sessions/{service.id}/charges", headers=headers).json()
    assert [c["procedure_code"] for c in listed["items"]] == ["90837", "90834"]

    removed = client.post(f"/api/charges/{charge['id']}/delete", headers=headers)
    assert removed.status_code == 200
    assert removed.json()["charge"] is None
    assert client.get(f"/api/sessions/{service.id}/charges", headers=headers).json()["total"] == 1


def test_the_minutes_entered_with_a_charge_go_on_the_claim_it_is_built_into(desk: Desk) -> None:
    service = desk.visit()  # 90837, 55-minute session
    charges.update_charge(
        desk.db,
        actor=desk.actor,
        charge_id=service.charges[0].id,
        entry=entry(procedure_code="90837", fee_cents=15000, minutes=58),
    )
    charges.add_charge(
        desk.db, actor=desk.actor, session_id=service.id, entry=entry(fee_cents=100, minutes=40)
    )
    claim = _build_claim(desk, service)
    assert [(line.procedure_code, line.minutes) for line in claim.lines] == [("90837", 58), ("90834", 40)]
