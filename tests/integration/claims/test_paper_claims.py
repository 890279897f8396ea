"""Paper claims: a stored claim printed on the CMS-1500 (02/12) form and read back from the PDF;
the API (who may print, another practice's claim); a paper batch printed, kept and recorded
as submitted by paper, all or nothing."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict
from revcycle.services import paper_claims
from revcycle.services.claims_pipeline import building
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.claims.conftest import TODAY, Office
from tests.integration.world import make_login_user, password_hash

MAILED_ON = date(2026, 3, 21)
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


def _pages(content: bytes) -> list[str]:
    """The text of each page, spaces squeezed."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages]


def _ready_claims(office: Office, *hours: int, day: int = 2) -> list[m.Claim]:
    """Sessions at these hours of one day marked ready and built into claims (same day: one claim)."""
    services = [office.visit(hour, day=day) for hour in hours]
    building.mark_sessions_ready(office.db, actor=office.actor, session_ids=[s.id for s in services])
    built = building.build_claims(
        office.db,
        actor=office.actor,
        practice_id=office.practice.id,
        session_ids=[s.id for s in services],
        today=TODAY,
    )
    claims = [b.claim for b in built.claims]
    assert [c.status for c in claims] == ["ready"] * len(claims), list(built.claims)
    return claims


@pytest.fixture
def paper_office(office: Office) -> Office:
    office.settings.billing_route = "paper"
    office.practice.phone = "973-555-0100"
    office.client.phone = "(973) 555-0142"
    office.coverage.group_number = "GRP-42"
    office.db.flush()
    return office


# --- the form read back from the PDF -----------------------------------------------------------


def test_the_pdf_carries_the_claims_key_boxes(paper_office: Office) -> None:
    office = paper_office
    [claim] = _ready_claims(office, 15)
    printed = paper_claims.claim_pdf(office.db, actor=office.actor, claim_id=claim.id)
    assert printed.content.startswith(b"%PDF")
    assert printed.filename == f"cms1500-{claim.number}.pdf"
    [text] = _pages(printed.content)
    client, provider = office.client, office.provider
    assert f"{client.last_name.upper()}, {client.first_name.upper()}" in text  # 2 and 4
    assert office.coverage.member_id in text  # 1a
    assert "GRP-42" in text  # 11
    assert "(973) 555-0142" in text  # 5
    assert provider.npi in text  # 24J
    assert office.practice.group_npi in text  # 33a
    assert office.practice.tax_id.replace("-", "") in text  # 25
    assert "90837" in text  # 24D
    assert "F411" in text  # 21 A
    assert "150 00" in text  # 24F and 28
    assert claim.number in text  # 26
    assert "AETNA" in text  # the carrier block and 11c
    assert "HEALTH INSURANCE CLAIM FORM" in text
    assert "SIGNATURE ON FILE" in text
    assert printed.pages == 1


def test_the_pdf_view_is_audited_as_a_read_of_the_clients_record(paper_office: Office) -> None:
    office = paper_office
    [claim] = _ready_claims(office, 15)
    paper_claims.claim_pdf(office.db, actor=office.actor, claim_id=claim.id)
    row = office.db.scalars(
        select(m.AuditLog)
        .where(m.AuditLog.practice_id == office.practice.id, m.AuditLog.action == "read")
        .order_by(m.AuditLog.id.desc())
    ).first()
    assert row is not None
    assert row.entity == "claim"
    assert row.actor_user_id == office.user.id
    assert office.client.id in row.client_ids
    assert claim.number in row.reason


def test_eight_lines_continue_on_a_second_page_with_the_total_on_the_last(paper_office: Office) -> None:
    office = paper_office
    [claim] = _ready_claims(office, *range(8, 16))
    assert len(claim.lines) == 8
    printed = paper_claims.claim_pdf(office.db, actor=office.actor, claim_id=claim.id)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "cms1500-two-pages.pdf").write_bytes(printed.content)  # to look at
    first, second = _pages(printed.content)
    assert printed.pages == 2
    assert "PAGE 1 OF 2" in first
    assert "CONTINUED" in first
    assert "1200 00" not in first
    assert "PAGE 2 OF 2" in second
    assert "1200 00" in second  # eight lines of $150
    assert first.count("90837") == 6
    assert second.count("90837") == 2
    assert claim.number in first
    assert claim.number in second


def test_secondary_coverage_and_a_subscriber_who_is_not_the_patient(paper_office: Office) -> None:
    office = paper_office
    office.coverage.relationship_to_subscriber = "child"
    office.coverage.subscriber_first_name, office.coverage.subscriber_last_name = "Marisol", "Quintero"
    office.coverage.subscriber_date_of_birth, office.coverage.subscriber_sex = date(1984, 7, 2), "F"
    other_payer = f.make_payer(office.db, name="Horizon Blue")
    secondary = f.make_coverage(office.db, office.client, other_payer, priority="secondary")
    [claim] = _ready_claims(office, 15)
    form = paper_claims.claim_form(office.db, actor=office.actor, claim_id=claim.id, signed_on=MAILED_ON)
    assert form.box4_insured_name == "QUINTERO, MARISOL"
    assert form.box6_relationship == "child"
    assert form.box11a_insured_birth == "07 02 1984"
    assert form.box9a_other_policy == secondary.member_id
    assert form.box9d_other_plan_name == "HORIZON BLUE"
    assert form.box11d_another_plan is True
    assert form.box12_date == "03 21 26"


# --- the API -------------------------------------------------------------------------------------


@dataclass
class PaperApi:
    office: Office
    client: TestClient
    billing: dict[str, str]
    front_desk: dict[str, str]
    therapist: dict[str, str]
    other_claim: m.Claim


@pytest.fixture
def api(paper_office: Office, client: TestClient, db: Session) -> PaperApi:
    office = paper_office
    office.user.password_hash = password_hash()
    front_desk = make_login_user(db, office.practice, Role.FRONT_DESK, name="front")
    therapist = make_login_user(db, office.practice, Role.THERAPIST, name="other-clinician")
    f.make_provider(db, office.practice, user=therapist)  # treats none of the office's clients
    other = f.make_practice(db)
    other_payer = f.make_payer(db)
    db.add(m.PracticePayer(practice_id=other.id, payer_id=other_payer.id, billing_route="paper"))
    other_client = f.make_client(db, other)
    coverage = f.make_coverage(db, other_client, other_payer)
    service = f.make_session(db, other, other_client, f.make_provider(db, other))
    other_claim = f.make_claim(db, service, coverage, status="ready")
    db.flush()
    return PaperApi(
        office,
        client,
        bearer(client, office.user.email),
        bearer(client, front_desk.email),
        bearer(client, therapist.email),
        other_claim,
    )


def test_api_prints_a_claim_as_pdf(api: PaperApi) -> None:
    [claim] = _ready_claims(api.office, 15)
    response = api.client.get(f"/api/claims/{claim.id}/cms1500.pdf", headers=api.billing)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="cms1500-{claim.number}.pdf"' in response.headers["content-disposition"]
    [text] = _pages(response.content)
    assert claim.number in text
    assert api.office.coverage.member_id in text


def test_api_refuses_other_practices_other_clients_and_roles_without_view_claims(api: PaperApi) -> None:
    [claim] = _ready_claims(api.office, 15)
    other = api.client.get(f"/api/claims/{api.other_claim.id}/cms1500.pdf", headers=api.billing)
    assert other.status_code == 404
    assert other.json()["error"] == "not_found"
    # front desk sees balances, not claims
    front_desk = api.client.get(f"/api/claims/{claim.id}/cms1500.pdf", headers=api.front_desk)
    assert front_desk.status_code == 403
    assert front_desk.json()["error"] == "forbidden"
    # a therapist who does not treat this client: not theirs, and its existence is not disclosed
    therapist = api.client.get(f"/api/claims/{claim.id}/cms1500.pdf", headers=api.therapist)
    assert therapist.status_code == 404
    assert api.client.get(f"/api/claims/{claim.id}/cms1500.pdf").status_code == 401


def test_the_treating_therapist_may_print_their_own_clients_claim(api: PaperApi, db: Session) -> None:
    treating = make_login_user(db, api.office.practice, Role.THERAPIST, name="treating")
    api.office.provider.user_id = treating.id
    db.flush()
    [claim] = _ready_claims(api.office, 15)
    response = api.client.get(
        f"/api/claims/{claim.id}/cms1500.pdf", headers=bearer(api.client, treating.email)
    )
    assert response.status_code == 200, response.text


def test_paper_batch_prints_keeps_and_records_every_ready_paper_claim(api: PaperApi, db: Session) -> None:
    office = api.office
    claims = _ready_claims(office, 9, day=2) + _ready_claims(office, 9, day=3)
    response = api.client.post(
        "/api/claims/paper-batch",
        json={"submitted_on": MAILED_ON.isoformat(), "reference": "USPS 9400"},
        headers=api.billing,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-claim-count"] == "2"
    pages = _pages(response.content)
    assert len(pages) == 2
    assert [claim.number in page for claim, page in zip(claims, pages, strict=True)] == [True, True]
    batch = db.get_one(m.SubmissionBatch, int(response.headers["x-submission-batch-id"]))
    assert (batch.channel, batch.practice_id) == ("paper", office.practice.id)
    stored = db.get_one(m.StoredFile, batch.stored_file_id)
    assert int(response.headers["x-stored-file-id"]) == stored.id
    assert (stored.kind, stored.direction) == ("pdf", "out")
    assert stored.sha256 == hashlib.sha256(response.content).hexdigest()
    assert bytes(stored.content) == response.content
    for claim in claims:
        db.refresh(claim)
        assert claim.status == "submitted"
        [sent] = db.scalars(select(m.Submission).where(m.Submission.claim_id == claim.id)).all()
        assert (sent.channel, sent.batch_id, sent.reference) == ("paper", batch.id, "USPS 9400")
        event = db.scalars(
            select(m.ClaimEvent).where(
                m.ClaimEvent.claim_id == claim.id, m.ClaimEvent.to_status == "submitted"
            )
        ).one()
        assert event.detail == "submitted via paper on 2026-03-21, reference USPS 9400"
    audit = db.scalars(
        select(m.AuditLog).where(
            m.AuditLog.entity == "submission_batch", m.AuditLog.entity_id == str(batch.id)
        )
    ).one()
    assert sorted(audit.client_ids) == [office.client.id]
    # printed and recorded: nothing left to print
    again = api.client.post("/api/claims/paper-batch", json={}, headers=api.billing)
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"


def test_paper_batch_of_named_claims_leaves_the_others(api: PaperApi, db: Session) -> None:
    first, second = _ready_claims(api.office, 9, day=2) + _ready_claims(api.office, 9, day=3)
    response = api.client.post(
        "/api/claims/paper-batch", json={"claim_ids": [second.id]}, headers=api.billing
    )
    assert response.status_code == 200, response.text
    db.refresh(first)
    db.refresh(second)
    assert (first.status, second.status) == ("ready", "submitted")


def test_paper_batch_refusals(api: PaperApi, db: Session) -> None:
    [claim] = _ready_claims(api.office, 15)
    office_practice = api.office.practice.id
    other_practice = api.other_claim.practice_id
    assert api.client.post("/api/claims/paper-batch", json={}, headers=api.front_desk).status_code == 403
    elsewhere = api.client.post(
        f"/api/claims/paper-batch?practice_id={other_practice}", json={}, headers=api.billing
    )
    assert elsewhere.status_code == 404
    named = api.client.post(
        "/api/claims/paper-batch", json={"claim_ids": [api.other_claim.id]}, headers=api.billing
    )
    assert named.status_code == 404
    future = api.client.post(
        "/api/claims/paper-batch",
        json={"claim_ids": [claim.id], "submitted_on": "2999-01-01"},
        headers=api.billing,
    )
    assert future.status_code == 422
    assert "submitted_on" in future.json()["detail"]
    bad = api.client.post("/api/claims/paper-batch", json={"claim_ids": "all"}, headers=api.billing)
    assert bad.status_code == 422
    db.refresh(claim)
    assert claim.status == "ready"
    assert _paper_rows(db, office_practice) == (0, 0, 0)


def test_one_claim_not_ready_refuses_the_whole_batch_and_writes_nothing(paper_office: Office) -> None:
    office = paper_office
    ready, sent = _ready_claims(office, 9, day=2) + _ready_claims(office, 9, day=3)
    paper_claims.print_paper_batch(office.db, actor=office.actor, claim_ids=[sent.id], submitted_on=MAILED_ON)
    before = _paper_rows(office.db, office.practice.id)
    assert before == (1, 1, 1)
    with pytest.raises(Conflict, match=f"claim {sent.number} is submitted, not ready"):
        paper_claims.print_paper_batch(office.db, actor=office.actor, claim_ids=[ready.id, sent.id])
    assert _paper_rows(office.db, office.practice.id) == before
    office.db.refresh(ready)
    assert ready.status == "ready"


def _paper_rows(db: Session, practice_id: int) -> tuple[int, int, int]:
    """(stored PDFs, paper batches, paper submissions) of the practice."""
    files = db.scalar(
        select(func.count())
        .select_from(m.StoredFile)
        .where(m.StoredFile.practice_id == practice_id, m.StoredFile.kind == "pdf")
    )
    batches = db.scalar(
        select(func.count())
        .select_from(m.SubmissionBatch)
        .where(m.SubmissionBatch.practice_id == practice_id, m.SubmissionBatch.channel == "paper")
    )
    sent = db.scalar(
        select(func.count())
        .select_from(m.Submission)
        .where(m.Submission.practice_id == practice_id, m.Submission.channel == "paper")
    )
    return (files or 0, batches or 0, sent or 0)
