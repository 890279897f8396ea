"""276 status inquiries for overdue claims, and the 277 answers that settle them: claims chosen by
age and their payer's expected days to pay, one 276 per payer read back by us and by x12sdk, a
277 answering each inquiry by its trace number (pending keeps the claim, finalized-denied denies
it), the same 277 twice changing nothing, and the CLI."""

from __future__ import annotations

import datetime
import json
from datetime import UTC
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from revcycle.cli import build_app
from revcycle.db import models as m
from revcycle.services import claim_status_inquiries as inquiries
from revcycle.services import eligibility
from revcycle.services.x12_ingest import ingest
from revcycle.x12.claim277 import (
    STATUS_RESPONSE,
    ClaimReport,
    ClaimStatusResponse,
    Envelope,
    LevelReport,
    Party,
    Status,
    StatusCode,
    write_277,
)
from revcycle.x12.inquiry276 import read_276
from tests import factories as f
from tests.integration.claims.conftest import Office, office
from tests.integration.imports.conftest import installation
from tests.integration.x12.test_eligibility import ACTIVE_PLAN, answer_271
from tests.unit.x12.test_claim277 import x12sdk_models

__all__ = ["installation", "office"]

TODAY = datetime.date(2026, 6, 1)
US = "CALMMINDS"
X12_SETTINGS = {"submitter_id": US, "submitter_name": "Calm Minds Billing", "receiver_id": "CLEARINGHOUSE"}


def _claim(
    office: Office, *, payer: m.Payer | None = None, status: str = "accepted", sent_days_ago: int
) -> m.Claim:
    coverage = office.coverage if payer is None else f.make_coverage(office.db, office.client, payer)
    visit = f.make_session(office.db, office.practice, office.client, office.provider)
    claim = f.make_claim(office.db, visit, coverage, status=status)
    sent_at = datetime.datetime.combine(TODAY - datetime.timedelta(days=sent_days_ago), datetime.time(9), UTC)
    for days_later in (0, 3):  # a resubmission later does not restart the clock
        office.db.add(
            m.Submission(
                practice_id=claim.practice_id,
                claim_id=claim.id,
                channel="clearinghouse",
                submitted_at=sent_at + datetime.timedelta(days=days_later),
            )
        )
    office.db.flush()
    return claim


def _asked(office: Office, claim: m.Claim, *, days_ago: int, answered: bool = False) -> None:
    office.db.add(
        m.ClaimStatusInquiry(
            practice_id=claim.practice_id,
            claim_id=claim.id,
            trace_number=f"OLD{claim.id}-{days_ago}",
            created_at=datetime.datetime.combine(
                TODAY - datetime.timedelta(days=days_ago), datetime.time(9), UTC
            ),
            answered_at=datetime.datetime.now(UTC) if answered else None,
        )
    )
    office.db.flush()


def _routed(office: Office) -> Office:
    office.practice.settings = {**(office.practice.settings or {}), "x12": X12_SETTINGS}
    office.settings.expected_days_to_pay = 45
    office.db.flush()
    return office


def test_overdue_claims_are_asked_about_once_per_payer(office: Office) -> None:
    _routed(office)
    other = f.make_payer(office.db, name="Cigna")  # no practice settings: 30 days
    due_a = _claim(office, sent_days_ago=46)
    _claim(office, sent_days_ago=40)  # within the payer's 45 days
    due_b = _claim(office, payer=other, sent_days_ago=31, status="submitted")
    _claim(office, payer=other, sent_days_ago=29)
    _claim(office, payer=other, sent_days_ago=90, status="denied")  # the payer has decided
    asked_lately = _claim(office, sent_days_ago=60)
    _asked(office, asked_lately, days_ago=3)
    asked_long_ago = _claim(office, sent_days_ago=60)
    _asked(office, asked_long_ago, days_ago=10)
    answered_lately = _claim(office, payer=other, sent_days_ago=60)
    _asked(office, answered_lately, days_ago=2, answered=True)

    written = inquiries.write_status_inquiries(
        office.db, actor=office.actor, practice_id=office.practice.id, today=TODAY
    )

    expected = sorted([due_a, asked_long_ago, due_b, answered_lately], key=lambda c: (c.payer_id, c.id))
    assert written.claim_numbers == tuple(c.number for c in expected)
    assert len(set(written.trace_numbers)) == 4
    read = read_276(written.text)
    assert [[c.payer.id for c in t.claims] for t in read] == [
        [office.payer.edi_payer_id] * 2,
        [other.edi_payer_id] * 2,
    ]
    assert [c.trace_number for t in read for c in t.claims] == list(written.trace_numbers)
    assert [c.patient_control_number for t in read for c in t.claims] == list(written.claim_numbers)
    assert x12sdk_models(written.text) == ["HealthCareClaimsStatusRequest"] * 2
    stored = office.db.get_one(m.StoredFile, written.stored_file_id)
    assert (stored.kind, stored.direction, stored.content.decode()) == ("276", "out", written.text)
    rows = office.db.scalars(
        select(m.ClaimStatusInquiry).where(m.ClaimStatusInquiry.id.in_(written.inquiry_ids))
    ).all()
    assert {r.request_file_id for r in rows} == {stored.id}
    audited = office.db.scalars(select(m.AuditLog).where(m.AuditLog.entity == "claim_status_inquiry")).all()
    assert len(audited) == 4

    again = inquiries.write_status_inquiries(
        office.db, actor=office.actor, practice_id=office.practice.id, today=TODAY
    )
    assert again.claim_numbers == ()  # each was asked just now


PAYER = Party("PR", "AETNA", "", "PI")
RECEIVER = Party("41", "CALM MINDS", US, "46")
PROVIDER = Party("1P", "CALM MINDS", "1234567893", "XX")
PATIENT = Party("QC", "DOE", "W1", "MI", first_name="JANE", kind="1")


def _report(trace: str, number: str, category: str, code: str, *, icn: str = "") -> ClaimReport:
    return ClaimReport(
        payer=PAYER,
        information_receiver=RECEIVER,
        provider=PROVIDER,
        patient=PATIENT,
        trace_number=trace,
        patient_control_number=number,
        statuses=(Status((StatusCode(category, code),), effective_on=TODAY),),
        payer_claim_control_number=icn,
        service_from=TODAY,
        service_to=TODAY,
    )


def a_277(*reports: ClaimReport) -> bytes:
    response = ClaimStatusResponse(
        STATUS_RESPONSE,
        "ANSWER1",
        TODAY,
        reports,
        levels=tuple(LevelReport(lv, p) for lv, p in (("20", PAYER), ("21", RECEIVER), ("19", PROVIDER))),
        created_time="0815",
    )
    envelope = Envelope(
        "ZZ", "CLEARINGHOUSE", "ZZ", US, "000000901", "901", datetime.datetime(2026, 6, 1, 8, 15)
    )
    return write_277([response], envelope).encode()


def test_a_277_answers_the_inquiries_it_names(office: Office) -> None:
    _routed(office)
    pending = _claim(office, sent_days_ago=50)
    denied = _claim(office, sent_days_ago=50)
    by_number = _claim(office, sent_days_ago=50, status="acknowledged")
    written = inquiries.write_status_inquiries(
        office.db, actor=office.actor, practice_id=office.practice.id, today=TODAY
    )
    traces = dict(zip(written.claim_numbers, written.trace_numbers, strict=True))
    data = a_277(
        _report(traces[pending.number], pending.number, "P1", "20"),
        _report(traces[denied.number], denied.number, "F2", "88", icn="ICN77"),
        _report("THEIRS9", by_number.number, "F1", "65"),
        _report("NOBODY1", "C999", "P1", "20"),
    )

    result = ingest(
        office.db, actor=office.actor, practice_id=office.practice.id, filename="a.277", data=data
    )

    assert (result.status, result.kind) == ("applied", "277")
    for claim in (pending, denied, by_number):
        office.db.refresh(claim)
    assert (pending.status, denied.status, by_number.status) == ("accepted", "denied", "adjudicated")
    assert denied.payer_claim_control_number == "ICN77"
    assert result.summary["unchanged"] == [pending.number]
    assert [u["trace"] for u in result.summary["unmatched"]] == ["NOBODY1"]
    rows = {
        r.claim_id: r
        for r in office.db.scalars(
            select(m.ClaimStatusInquiry).where(m.ClaimStatusInquiry.id.in_(written.inquiry_ids))
        )
    }
    answers = {c: (r.category_code, r.status_code, r.status_effective_on) for c, r in rows.items()}
    assert answers == {
        pending.id: ("P1", "20", TODAY),
        denied.id: ("F2", "88", TODAY),
        by_number.id: ("F1", "65", TODAY),
    }
    assert {r.response_file_id for r in rows.values()} == {result.inbound_file_id}

    again = ingest(office.db, actor=office.actor, practice_id=office.practice.id, filename="a.277", data=data)
    assert (again.status, again.kind, again.inbound_file_id) == ("duplicate", "277", result.inbound_file_id)


def test_a_finalized_answer_the_table_refuses_is_listed_not_applied(office: Office) -> None:
    _routed(office)
    claim = _claim(office, sent_days_ago=50)
    written = inquiries.write_status_inquiries(
        office.db, actor=office.actor, practice_id=office.practice.id, today=TODAY
    )
    claim.status = "void"  # closed while the inquiry was out
    office.db.flush()

    result = ingest(
        office.db,
        actor=office.actor,
        practice_id=office.practice.id,
        filename="b.277",
        data=a_277(_report(written.trace_numbers[0], claim.number, "F2", "88")),
    )

    assert [n["claim"] for n in result.summary["not_applied"]] == [claim.number]
    office.db.refresh(claim)
    assert claim.status == "void"


def test_the_cli_writes_the_inquiries(installation: Engine, tmp_path: Path) -> None:
    with Session(installation) as session:
        practice = session.scalars(select(m.Practice)).one()
        practice.settings = {"x12": X12_SETTINGS}
        client = f.make_client(session, practice)
        provider = f.make_provider(session, practice)
        coverage = f.make_coverage(session, client, f.make_payer(session))
        claim = f.make_claim(
            session, f.make_session(session, practice, client, provider), coverage, status="accepted"
        )
        session.add(
            m.Submission(
                practice_id=practice.id,
                claim_id=claim.id,
                channel="clearinghouse",
                submitted_at=datetime.datetime(2020, 1, 2, tzinfo=UTC),
            )
        )
        session.commit()
        number = claim.number
    out = tmp_path / "status.276"
    runner = CliRunner()

    first = runner.invoke(
        build_app(), ["x12", "276", "--out", str(out), "--as", "desk@example.test", "--json"]
    )
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["claims"] == [number]
    assert [c.patient_control_number for t in read_276(out.read_text()) for c in t.claims] == [number]

    second = runner.invoke(build_app(), ["x12", "276"])
    assert second.exit_code == 0, second.output
    assert "no claim is due" in second.output


def test_a_271_is_ingested_through_the_eligibility_service(office: Office) -> None:
    _routed(office)
    written = eligibility.request_eligibility(
        office.db, actor=office.actor, coverage_id=office.coverage.id, as_of=TODAY
    )
    data = answer_271(written.trace_number, *ACTIVE_PLAN).encode()

    result = ingest(
        office.db, actor=office.actor, practice_id=office.practice.id, filename="e.271", data=data
    )

    assert (result.status, result.kind) == ("applied", "271")
    assert [a["trace_number"] for a in result.summary["answered"]] == [written.trace_number]
    check = office.db.get_one(m.EligibilityCheck, written.check_id)
    assert (check.status, check.response_file_id) == ("active", result.inbound_file_id)
    again = ingest(office.db, actor=office.actor, practice_id=office.practice.id, filename="e.271", data=data)
    assert (again.status, again.kind, again.summary) == ("duplicate", "271", result.summary)
