"""837P batches from stored claims: written, judged by pyx12, read back, numbered and recorded."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from revcycle.cli import build_app
from revcycle.db import models as m
from revcycle.errors import InvalidInput
from revcycle.services import submissions, x12_batches
from revcycle.x12.read837 import read_837
from tests import factories as f
from tests.integration.claims.conftest import Office, office
from tests.integration.imports.conftest import installation
from tests.unit.x12.test_pyx12_judge import judge

__all__ = ["installation", "office"]

X12_SETTINGS = {
    "submitter_id": "CALMMINDS",
    "submitter_name": "Calm Minds Billing",
    "contact_name": "Billing Desk",
    "contact_phone": "9735550100",
    "receiver_id": "CLEARINGHOUSE",
    "receiver_name": "Clearinghouse Inc",
    "usage": "T",
}


def _ready_claim(
    db: Session,
    practice: m.Practice,
    client: m.Client,
    provider: m.Provider,
    coverage: m.Coverage,
    *,
    day: int = 2,
    frequency: str = "1",
    icn: str = "",
) -> m.Claim:
    visit = f.make_session(
        db, practice, client, provider, starts_at=datetime(2026, 3, day, 15, tzinfo=UTC), fee_cents=15050
    )
    claim = f.make_claim(db, visit, coverage, status="ready")
    claim.diagnosis_codes = ["F41.1", "F32.A"]
    claim.frequency, claim.payer_claim_control_number = frequency, icn
    claim.prior_authorization_number = "AUTH-1" if day == 3 else ""
    line = claim.lines[0]
    line.modifiers, line.diagnosis_pointers = "95", "12"
    db.flush()
    return claim


def _dependent(office: Office) -> tuple[m.Client, m.Coverage]:
    child = f.make_client(office.db, office.practice)
    child.address_line1, child.city, child.state, child.postal_code = "5 Elm St", "Newark", "NJ", "07103"
    coverage = f.make_coverage(office.db, child, office.payer)
    coverage.relationship_to_subscriber = "child"
    coverage.subscriber_first_name, coverage.subscriber_last_name = "Pat", "Parent"
    coverage.subscriber_date_of_birth, coverage.subscriber_sex = date(1980, 5, 5), "M"
    office.db.flush()
    return child, coverage


@pytest.fixture
def practice_routed(office: Office) -> Office:
    office.practice.settings = {**(office.practice.settings or {}), "x12": X12_SETTINGS}
    office.db.flush()
    return office


def _claims(office: Office) -> list[m.Claim]:
    child, child_coverage = _dependent(office)
    return [
        _ready_claim(office.db, office.practice, office.client, office.provider, office.coverage, day=2),
        _ready_claim(office.db, office.practice, child, office.provider, child_coverage, day=3),
        _ready_claim(
            office.db,
            office.practice,
            office.client,
            office.provider,
            office.coverage,
            day=4,
            frequency="7",
            icn="ICN20260001",
        ),
    ]


def test_a_batch_of_ready_claims_is_written_judged_read_back_and_recorded(practice_routed: Office) -> None:
    office = practice_routed
    claims = _claims(office)
    written = x12_batches.write_batch(
        office.db, actor=office.actor, practice_id=office.practice.id, claim_ids=[c.id for c in claims]
    )

    assert judge(written.text) == []
    [claim_set] = read_837(written.text)
    assert [(c.patient_control_number, c.total_charge_cents) for c in claim_set.claims] == [
        (c.number, 15050) for c in claims
    ]
    self_claim, child_claim, replacement = claim_set.claims
    assert self_claim.subscriber.relationship == "18"
    assert self_claim.patient is None
    assert child_claim.patient is not None
    assert child_claim.patient.relationship == "19"
    assert child_claim.subscriber.last_name == "Parent"
    assert child_claim.prior_authorization == "AUTH-1"
    assert self_claim.rendering is not None
    assert self_claim.rendering.npi == office.provider.npi
    assert (replacement.frequency, replacement.payer_claim_control_number) == ("7", "ICN20260001")
    assert self_claim.lines[0].modifiers == ("95",)
    assert self_claim.lines[0].diagnosis_pointers == (1, 2)
    assert self_claim.diagnoses == ("F411", "F32A")

    batch = office.db.get_one(m.SubmissionBatch, written.batch_id)
    assert (batch.status, batch.channel) == ("sent", "clearinghouse")
    assert batch.interchange_control_number == f"{written.interchange_control_number:09d}"
    stored = office.db.get_one(m.StoredFile, batch.stored_file_id)
    assert (stored.kind, stored.direction) == ("837", "out")
    assert stored.content.decode() == written.text
    rows = office.db.scalars(select(m.Submission).where(m.Submission.batch_id == batch.id)).all()
    reference = f"ISA13 {written.interchange_control_number:09d} GS06 {written.group_control_number}"
    assert {(r.channel, r.reference) for r in rows} == {("clearinghouse", reference)}
    assert {r.payer_claim_control_number for r in rows} == {"", "ICN20260001"}
    for claim in claims:
        office.db.refresh(claim)
        assert claim.status == "submitted"


def test_control_numbers_follow_on_across_batches(practice_routed: Office) -> None:
    office = practice_routed
    first, second, _ = _claims(office)
    one = x12_batches.write_batch(
        office.db, actor=office.actor, practice_id=office.practice.id, claim_ids=[first.id]
    )
    two = x12_batches.write_batch(
        office.db, actor=office.actor, practice_id=office.practice.id, claim_ids=[second.id]
    )
    assert two.interchange_control_number == one.interchange_control_number + 1
    assert two.group_control_number == one.group_control_number + 1
    assert two.transaction_control_numbers[0] == one.transaction_control_numbers[-1] + 1
    assert "ISA*00*          *00*          *ZZ*CALMMINDS      *ZZ*CLEARINGHOUSE  *" in two.text
    assert judge(two.text) == []


def test_a_queued_batch_is_sent_whole(practice_routed: Office) -> None:
    office = practice_routed
    claims = _claims(office)[:2]
    queued = submissions.queue_for_batch(office.db, actor=office.actor, claim_ids=[c.id for c in claims])
    with pytest.raises(InvalidInput, match="holds other claims"):
        x12_batches.write_batch(
            office.db, actor=office.actor, practice_id=office.practice.id, claim_ids=[claims[0].id]
        )
    written = x12_batches.write_batch(
        office.db, actor=office.actor, practice_id=office.practice.id, claim_ids=[c.id for c in claims]
    )
    assert written.batch_id == queued.id
    assert office.db.get_one(m.SubmissionBatch, queued.id).status == "sent"


def test_a_claim_with_a_bad_npi_refuses_the_batch_and_nothing_is_written(practice_routed: Office) -> None:
    office = practice_routed
    claims = _claims(office)
    stranger = f.make_provider(office.db, office.practice)
    stranger.npi = "1234567890"  # fails the NPI check digit
    claims[1].provider_id = stranger.id
    office.db.flush()
    counts = _counts(office.db)
    refusal = (
        f"^nothing was written: claim '{claims[1].number}': rendering provider NPI .*check digit \\(NM109\\)$"
    )
    with pytest.raises(InvalidInput, match=refusal):
        x12_batches.write_batch(
            office.db, actor=office.actor, practice_id=office.practice.id, claim_ids=[c.id for c in claims]
        )
    assert _counts(office.db) == counts
    for claim in claims:
        office.db.refresh(claim)
        assert claim.status == "ready"


def test_a_claim_not_ready_refuses_the_batch(practice_routed: Office) -> None:
    office = practice_routed
    claims = _claims(office)
    claims[1].status = "draft"
    office.db.flush()
    with pytest.raises(InvalidInput, match=f"claim {claims[1].number} is draft, not ready"):
        x12_batches.write_batch(
            office.db, actor=office.actor, practice_id=office.practice.id, claim_ids=[c.id for c in claims]
        )


def _counts(db: Session) -> tuple[int, ...]:
    return tuple(
        db.scalar(select(func.count()).select_from(model)) or 0
        for model in (m.StoredFile, m.SubmissionBatch, m.Submission, m.X12ControlNumber)
    )


def test_the_cli_writes_the_ready_claims_to_a_file(installation: Engine, tmp_path: Path) -> None:
    with Session(installation) as db:
        practice = db.scalars(select(m.Practice)).one()
        practice.postal_code = "071021234"
        practice.settings = {"x12": X12_SETTINGS}
        client = f.make_client(db, practice)
        client.address_line1, client.city, client.state, client.postal_code = (
            "5 Elm St",
            "Newark",
            "NJ",
            "07103",
        )
        provider = f.make_provider(db, practice)
        payer = f.make_payer(db, name="Aetna")
        coverage = f.make_coverage(db, client, payer)
        claim = _ready_claim(db, practice, client, provider, coverage)
        number = claim.number
        db.commit()
    out = tmp_path / "batch.837"

    result = CliRunner().invoke(
        build_app(),
        ["x12", "837", "--claims", "ready", "--out", str(out), "--as", "desk@example.test", "--json"],
    )

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["claims"] == [number]
    assert judge(out.read_text()) == []
    with Session(installation) as db:
        assert db.scalars(select(m.Claim.status).where(m.Claim.number == number)).one() == "submitted"
    again = CliRunner().invoke(build_app(), ["x12", "837", "--claims", "ready", "--out", str(out)])
    assert again.exit_code == 1
    assert "no ready claim" in again.output
