"""Marking sessions ready and turning ready sessions into scrubbed claims."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from revcycle.db import models as m
from revcycle.services.claims_pipeline import building
from tests.integration.claims.conftest import TODAY, Office


def _ready(office: Office, *sessions: m.ServiceSession) -> building.ReadyResult:
    return building.mark_sessions_ready(office.db, actor=office.actor, session_ids=[s.id for s in sessions])


def test_only_billable_sessions_are_marked_ready_and_each_refusal_names_its_reason(office: Office) -> None:
    good = office.visit(9)
    draft_note = office.visit(10, note_status="draft")
    no_show = office.visit(11, appointment_status="no_show")
    self_pay = office.visit(12)
    self_pay.self_pay = True
    flagged = office.visit(13)
    office.db.add(
        m.WorkItem(
            practice_id=office.practice.id,
            kind="flag",
            title="check",
            session_id=flagged.id,
            holds_billing=True,
        )
    )
    fee_only = office.visit(14)
    fee_only.charges[0].patient_only = True
    office.db.flush()

    result = _ready(office, good, draft_note, no_show, self_pay, flagged, fee_only)

    assert result.marked == [good.id]
    assert {r.session_id: r.reason for r in result.refused} == {
        draft_note.id: "the note is not locked",
        no_show.id: "the appointment is no_show, not held",
        self_pay.id: "self-pay: nothing to bill to insurance",
        flagged.id: "an open flag holds it (about the session, its client, clinician or payer)",
        fee_only.id: "no charge to bill to insurance (only patient charges)",
    }
    assert good.ready_by_user_id == office.user.id
    assert _ready(office, good).already_ready == [good.id]


def test_a_session_without_coverage_on_its_date_is_refused(office: Office) -> None:
    office.coverage.ends_on = date(2026, 2, 28)
    service = office.visit()
    [refusal] = _ready(office, service).refused
    assert str(refusal) == f"session {service.id}: no primary coverage active on 2026-03-02"


def test_a_ready_session_becomes_a_clean_ready_claim(office: Office) -> None:
    office.settings.timely_filing_days = 120
    service = office.visit()
    service.place_of_service = "11"
    charge = service.charges[0]
    charge.diagnosis_codes = ["F32.1", "F41.1"]
    charge.diagnosis_pointers = "21"
    office.db.flush()
    _ready(office, service)

    result = building.build_claims(office.db, actor=office.actor, practice_id=office.practice.id, today=TODAY)

    [built] = result.claims
    claim = built.claim
    assert built.scrub.is_clean, built.scrub.problems
    assert claim.status == "ready"
    assert claim.number == f"RC{claim.id:08d}"
    assert len(claim.number) <= 17
    assert claim.coverage_id == office.coverage.id
    assert claim.payer_id == office.payer.id
    assert claim.diagnosis_codes == ["F32.1", "F41.1"]
    assert claim.timely_filing_on == date(2026, 6, 30)
    assert claim.billed_cents == 15000
    [line] = claim.lines
    assert line.charge_id == charge.id
    assert line.diagnosis_pointers == "21"
    assert line.minutes == 55
    events = office.db.scalars(select(m.ClaimEvent).where(m.ClaimEvent.claim_id == claim.id)).all()
    assert [(e.from_status, e.to_status) for e in events] == [("draft", "ready")]

    again = building.build_claims(office.db, actor=office.actor, practice_id=office.practice.id, today=TODAY)
    assert again.claims == []
    assert office.db.scalar(select(func.count()).select_from(m.Claim)) == 1
    assert _ready(office, office.visit(16)).marked  # another session is still free to go


def test_same_day_services_of_one_client_clinician_and_payer_combine(office: Office) -> None:
    morning = office.visit(9)
    afternoon = office.visit(15, code="90846")
    other_day = office.visit(9, day=3)
    _ready(office, morning, afternoon, other_day)

    result = building.build_claims(office.db, actor=office.actor, practice_id=office.practice.id, today=TODAY)

    by_sessions = {tuple(b.session_ids): b.claim for b in result.claims}
    assert set(by_sessions) == {(morning.id, afternoon.id), (other_day.id,)}
    combined = by_sessions[(morning.id, afternoon.id)]
    assert [line.procedure_code for line in combined.lines] == ["90837", "90846"]
    assert combined.diagnosis_codes == ["F41.1"]
    assert [line.diagnosis_pointers for line in combined.lines] == ["1", "1"]
    numbers = {claim.number for claim in by_sessions.values()}
    assert len(numbers) == 2


def test_a_claim_with_errors_stays_draft_with_its_scrub(office: Office) -> None:
    office.settings.requires_prior_auth = True
    service = office.visit()
    _ready(office, service)
    [built] = building.build_claims(
        office.db, actor=office.actor, practice_id=office.practice.id, today=TODAY
    ).claims
    assert built.claim.status == "draft"
    assert [p.code for p in built.scrub.errors] == ["scrub.prior_authorization.missing"]

    office.db.add(
        m.Authorization(
            practice_id=office.practice.id,
            client_id=office.client.id,
            coverage_id=office.coverage.id,
            number="AUTH-9",
            visits_allowed=12,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
        )
    )
    office.db.flush()
    state = building.mark_claim_ready(office.db, actor=office.actor, claim_id=built.claim.id, today=TODAY)
    assert state.is_clean
    office.db.refresh(built.claim)
    assert built.claim.status == "ready"
