"""Eligibility for a coverage: a 270 written (read back by us and by x12sdk), the 271 answering
it applied to the check (active with amounts, inactive, refused), answers we never asked for
listed; the client page and the API show the latest check."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from revcycle.adapters.clearinghouse_sim import (
    ActiveCoverage,
    EligibilityAnswer,
    EligibilityRefusal,
    InactiveCoverage,
    SimulatedClearinghouse,
)
from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import InvalidInput, NotFound, PermissionDenied
from revcycle.services import eligibility
from revcycle.services.x12_ingest import ingest
from revcycle.x12.eligibility import read_270
from revcycle.x12.envelope import read_interchanges
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.claims.conftest import Office, office
from tests.integration.conftest import csrf_from, login
from tests.integration.world import make_login_user
from tests.unit.x12.test_claim277 import x12sdk_models

__all__ = ["office"]

VISIT = datetime.date(2026, 4, 6)
X12_SETTINGS = {"submitter_id": "CALMMINDS", "receiver_id": "CLEARINGHOUSE", "usage": "T"}


@pytest.fixture
def routed(office: Office) -> Office:
    office.practice.settings = {**(office.practice.settings or {}), "x12": X12_SETTINGS}
    office.db.flush()
    return office


def _dependent(office: Office) -> m.Coverage:
    child = f.make_client(office.db, office.practice)
    coverage = f.make_coverage(office.db, child, office.payer)
    coverage.relationship_to_subscriber = "child"
    coverage.subscriber_first_name, coverage.subscriber_last_name = "Pat", "Parent"
    office.db.flush()
    return coverage


def answer_271(
    trace: str, *segments: str, subscriber_dates: str = "DTP*346*D8*20260101~", dependent: bool = False
) -> str:
    person = f"TRN*2*{trace}*1123456789~NM1*IL*1*DOE*JANE****MI*W1~"
    if dependent:
        person = f"NM1*IL*1*PARENT*PAT****MI*W1~HL*4*3*23*0~TRN*2*{trace}*1123456789~NM1*03*1*DOE*SAM~"
    body = (
        "BHT*0022*11*R1*20260401*0701~HL*1**20*1~NM1*PR*2*AETNA*****PI*60001~"
        f"HL*2*1*21*1~NM1*1P*2*PRACTICE LLC*****XX*1234567893~HL*3*2*22*{int(dependent)}~"
        + person
        + subscriber_dates
        + "".join(segments)
    )
    return _interchange(body)


def payer_refusal_271(reference: str, reason: str) -> str:
    """The payer could not answer at all: no person, no TRN, only our BHT03 echoed."""
    return _interchange(
        f"BHT*0022*11*{reference}*20260401*0701~HL*1**20*0~NM1*PR*2*AETNA*****PI*60001~AAA*Y**{reason}*R~"
    )


def _interchange(body: str) -> str:
    count = body.count("~") + 2
    return (
        "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*CALMMINDS      "
        "*260401*0701*^*00501*000000602*0*P*:~GS*HB*CLEARINGHOUSE*CALMMINDS*20260401*0701*602*X*005010X279A1~"
        f"ST*271*0001*005010X279A1~{body}SE*{count}*0001~GE*1*602~IEA*1*000000602~"
    )


ACTIVE_PLAN = (
    "EB*1*FAM*30^MH*HM*GOLD PPO 1500~",
    "EB*B*IND*MH*HM*GOLD PPO 1500*27*30~",
    "EB*A*IND*MH*HM**27**.2****Y~",
    "EB*C*IND*30*HM**29*725.5~",
    "EB*G*IND*30*HM**29*3950~",
)


def _apply(office: Office, text: str) -> dict[str, object]:
    data = text.encode()
    sha = hashlib.sha256(data).hexdigest()
    stored = m.StoredFile(
        practice_id=office.practice.id,
        kind="271",
        direction="in",
        filename="271.x12",
        sha256=sha,
        size_bytes=len(data),
        content=data,
    )
    office.db.add(stored)
    office.db.flush()
    inbound = m.X12InboundFile(
        practice_id=office.practice.id, stored_file_id=stored.id, sha256=sha, transaction_set="271"
    )
    office.db.add(inbound)
    office.db.flush()
    return eligibility.apply_271(
        office.db,
        actor=office.actor,
        practice_id=office.practice.id,
        inbound_file=inbound,
        interchanges=read_interchanges(text),
    )


def test_a_270_for_the_subscriber_is_written_stored_and_read_back(routed: Office) -> None:
    office = routed
    written = eligibility.request_eligibility(
        office.db, actor=office.actor, coverage_id=office.coverage.id, as_of=VISIT
    )

    [request] = read_270(written.text)
    [inquiry] = request.inquiries
    assert inquiry.trace_number == written.trace_number
    assert inquiry.subscriber.id == office.coverage.member_id
    assert inquiry.subscriber.name == office.client.last_name
    assert inquiry.dependent is None
    assert inquiry.service_types == ("30", "MH")
    assert inquiry.as_of == VISIT
    assert inquiry.payer.id == office.payer.edi_payer_id
    assert x12sdk_models(written.text) == ["EligibilityInquiry"]
    check = office.db.get_one(m.EligibilityCheck, written.check_id)
    assert (check.status, check.coverage_id, check.as_of_on) == ("requested", office.coverage.id, VISIT)
    stored = office.db.get_one(m.StoredFile, written.stored_file_id)
    assert (stored.kind, stored.direction, stored.content) == ("270", "out", written.text.encode())
    audited = office.db.scalar(
        select(func.count())
        .select_from(m.AuditLog)
        .where(m.AuditLog.entity == "eligibility_check", m.AuditLog.entity_id == str(check.id))
    )
    assert audited == 1


def test_a_270_for_a_dependent_names_the_subscriber_and_the_patient(routed: Office) -> None:
    office = routed
    coverage = _dependent(office)
    first = eligibility.request_eligibility(
        office.db, actor=office.actor, coverage_id=coverage.id, as_of=VISIT
    )
    second = eligibility.request_eligibility(
        office.db, actor=office.actor, coverage_id=coverage.id, as_of=VISIT
    )

    [request] = read_270(first.text)
    [inquiry] = request.inquiries
    assert inquiry.subscriber.name == "Parent"
    assert inquiry.dependent is not None
    assert inquiry.dependent.entity == "03"
    assert x12sdk_models(first.text) == ["EligibilityInquiry"]
    assert first.trace_number != second.trace_number
    assert first.filename != second.filename  # a control number each


def test_an_active_271_fills_the_check(routed: Office) -> None:
    office = routed
    written = eligibility.request_eligibility(
        office.db, actor=office.actor, coverage_id=office.coverage.id, as_of=VISIT
    )

    summary = _apply(office, answer_271(written.trace_number, *ACTIVE_PLAN))

    check = office.db.get_one(m.EligibilityCheck, written.check_id)
    assert summary["answered"] == [
        {
            "check_id": check.id,
            "coverage_id": office.coverage.id,
            "trace_number": written.trace_number,
            "status": "active",
        }
    ]
    assert summary["unmatched"] == []
    assert check.status == "active"
    assert check.plan_name == "GOLD PPO 1500"
    assert check.copay_cents == 3000
    assert check.coinsurance_basis_points == 2000
    assert check.deductible_remaining_cents == 72550
    assert check.out_of_pocket_remaining_cents == 395000
    assert [b["code"] for b in check.details["benefits"]] == ["1", "B", "A", "C", "G"]
    assert check.answered_at is not None
    assert check.response_file_id is not None
    assert eligibility.latest_checks(office.db, [office.coverage.id]) == {office.coverage.id: check}

    again = _apply(office, answer_271(written.trace_number, *ACTIVE_PLAN) + "\n")
    assert again["already_answered"] == [
        {"check_id": check.id, "trace_number": written.trace_number, "status": "active"}
    ]


def test_an_inactive_271_and_a_refusal(routed: Office) -> None:
    office = routed
    inactive = eligibility.request_eligibility(
        office.db, actor=office.actor, coverage_id=office.coverage.id, as_of=VISIT
    )
    refused = eligibility.request_eligibility(
        office.db, actor=office.actor, coverage_id=office.coverage.id, as_of=VISIT
    )

    _apply(office, answer_271(inactive.trace_number, "EB*6*IND*30~"))
    _apply(office, answer_271(refused.trace_number, "AAA*Y**72*C~", subscriber_dates=""))

    first = office.db.get_one(m.EligibilityCheck, inactive.check_id)
    second = office.db.get_one(m.EligibilityCheck, refused.check_id)
    assert (first.status, first.error) == ("inactive", "")
    assert second.status == "error"
    assert second.error.startswith("72: ")
    assert second.details["rejections"] == [second.error]
    assert eligibility.latest_checks(office.db, [office.coverage.id]) == {office.coverage.id: second}


def test_a_dependent_is_answered_under_its_own_level(routed: Office) -> None:
    office = routed
    coverage = _dependent(office)
    written = eligibility.request_eligibility(
        office.db, actor=office.actor, coverage_id=coverage.id, as_of=VISIT
    )

    summary = _apply(office, answer_271(written.trace_number, *ACTIVE_PLAN, dependent=True))

    check = office.db.get_one(m.EligibilityCheck, written.check_id)
    assert [a["check_id"] for a in summary["answered"]] == [check.id]  # type: ignore[attr-defined]
    assert (check.status, check.copay_cents) == ("active", 3000)


def test_a_refusal_by_the_payer_itself_is_matched_by_the_echoed_reference(routed: Office) -> None:
    office = routed
    written = eligibility.request_eligibility(
        office.db, actor=office.actor, coverage_id=office.coverage.id, as_of=VISIT
    )

    summary = _apply(office, payer_refusal_271(written.trace_number, "42"))

    check = office.db.get_one(m.EligibilityCheck, written.check_id)
    assert summary["unmatched"] == []
    assert check.status == "error"
    assert check.error.startswith("42: ")


def test_an_answer_to_a_trace_we_never_sent_is_listed(routed: Office) -> None:
    office = routed

    summary = _apply(office, answer_271("NOTOURS", "AAA*Y**75*C~", subscriber_dates=""))

    assert summary["answered"] == []
    [unmatched] = summary["unmatched"]  # type: ignore[misc]
    assert unmatched["trace_number"] == "NOTOURS"
    assert [reason[:4] for reason in unmatched["rejections"]] == ["75: "]


def test_requests_are_refused_without_permission_or_identifiers(routed: Office) -> None:
    office = routed
    therapist = f.make_user(office.db, office.practice, Role.THERAPIST)
    with pytest.raises(PermissionDenied):
        eligibility.request_eligibility(
            office.db, actor=f.actor_for(office.db, therapist), coverage_id=office.coverage.id, as_of=VISIT
        )
    stranger = f.make_user(office.db, f.make_practice(office.db), Role.BILLING)
    with pytest.raises(NotFound):
        eligibility.request_eligibility(
            office.db, actor=f.actor_for(office.db, stranger), coverage_id=office.coverage.id, as_of=VISIT
        )
    office.payer.edi_payer_id = ""
    office.db.flush()
    with pytest.raises(InvalidInput, match="payer id"):
        eligibility.request_eligibility(
            office.db, actor=office.actor, coverage_id=office.coverage.id, as_of=VISIT
        )


def test_the_api_requests_and_lists_checks(client: TestClient, routed: Office) -> None:
    office = routed
    biller = make_login_user(office.db, office.practice, Role.BILLING, name="elig-biller")
    therapist = make_login_user(office.db, office.practice, Role.THERAPIST, name="elig-therapist")
    stranger = make_login_user(office.db, f.make_practice(office.db), Role.BILLING, name="elig-stranger")
    url = f"/api/coverages/{office.coverage.id}/eligibility"

    made = client.post(url, headers=bearer(client, biller.email), json={"as_of": "2026-04-06"})
    assert made.status_code == 200, made.text
    assert made.json()["text"].startswith("ISA*")
    listed = client.get(url, headers=bearer(client, biller.email))
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert (item["id"], item["status"], item["as_of_on"]) == (
        made.json()["check_id"],
        "requested",
        "2026-04-06",
    )

    assert client.post(url, headers=bearer(client, therapist.email), json={}).status_code == 403
    assert client.get(url, headers=bearer(client, stranger.email)).status_code == 404
    assert client.post(url, headers=bearer(client, stranger.email), json={}).status_code == 404


def test_the_client_page_checks_eligibility_and_shows_the_latest(client: TestClient, routed: Office) -> None:
    office = routed
    biller = make_login_user(office.db, office.practice, Role.BILLING, name="elig-page")
    assert login(client, biller.email).status_code == 303
    page_url = f"/clients/{office.client.id}"
    page = client.get(page_url)
    assert page.status_code == 200
    assert "Never checked." in page.text
    token = csrf_from(page.text)

    download = client.post(
        f"/coverages/{office.coverage.id}/eligibility", data={"csrf_token": token, "as_of": "2026-04-06"}
    )
    assert download.status_code == 200, download.text
    assert download.headers["content-disposition"].startswith('attachment; filename="270-')
    [request] = read_270(download.text)
    trace = request.inquiries[0].trace_number
    assert "awaiting the 271" in client.get(page_url).text

    _apply(office, answer_271(trace, *ACTIVE_PLAN))
    shown = client.get(page_url).text
    section = shown.split(f'data-testid="eligibility-{office.coverage.id}"')[1].split("Authorizations")[0]
    assert "Active" in section
    assert "GOLD PPO 1500" in section
    assert "$30.00" in section
    assert "20%" in section


def test_a_271_file_ingested_fills_the_check(routed: Office) -> None:
    office = routed
    written = eligibility.request_eligibility(
        office.db, actor=office.actor, coverage_id=office.coverage.id, as_of=VISIT
    )
    data = answer_271(written.trace_number, *ACTIVE_PLAN).encode()

    result = ingest(
        office.db, actor=office.actor, practice_id=office.practice.id, filename="a.271", data=data
    )

    check = office.db.get_one(m.EligibilityCheck, written.check_id)
    assert (result.status, result.kind) == ("applied", "271")
    assert [a["check_id"] for a in result.summary["answered"]] == [check.id]
    assert (check.status, check.response_file_id) == ("active", result.inbound_file_id)
    again = ingest(office.db, actor=office.actor, practice_id=office.practice.id, filename="a.271", data=data)
    assert again.status == "duplicate"


def test_the_simulated_clearinghouse_answers_our_270s_and_the_checks_and_client_page_show_it(
    client: TestClient, routed: Office
) -> None:
    office = routed
    coverage = office.coverage
    kid_coverage = _dependent(office)
    asked = [
        eligibility.request_eligibility(office.db, actor=office.actor, coverage_id=cov.id, as_of=VISIT)
        for cov in (coverage, kid_coverage, coverage)
    ]
    refused, kid, active = asked  # the coverage's newest check is the active answer
    payer_knows: dict[str, EligibilityAnswer] = {
        active.trace_number: ActiveCoverage(
            "SILVER HMO 3000",
            begins_on=datetime.date(2026, 1, 1),
            copay_cents=2500,
            coinsurance_basis_points=1500,
            deductible_remaining_cents=120000,
            out_of_pocket_remaining_cents=450000,
        ),
        kid.trace_number: InactiveCoverage(ended_on=datetime.date(2026, 3, 31)),
        refused.trace_number: EligibilityRefusal("75"),
    }
    clearinghouse = SimulatedClearinghouse()

    reply = clearinghouse.answer_eligibility(
        "".join(a.text for a in asked),
        lambda inquiry: payer_knows.get(inquiry.trace_number),
        at=datetime.datetime(2026, 4, 1, 7, 5),
    )
    result = ingest(
        office.db, actor=office.actor, practice_id=office.practice.id, filename="a.271", data=reply.encode()
    )

    assert (result.status, result.kind) == ("applied", "271")
    assert sorted(a["check_id"] for a in result.summary["answered"]) == sorted(a.check_id for a in asked)
    checks = [office.db.get_one(m.EligibilityCheck, a.check_id) for a in asked]
    not_found, inactive, found = checks
    assert (found.status, found.plan_name) == ("active", "SILVER HMO 3000")
    assert (found.copay_cents, found.coinsurance_basis_points) == (2500, 1500)
    assert (found.deductible_remaining_cents, found.out_of_pocket_remaining_cents) == (120000, 450000)
    assert (inactive.status, inactive.coverage_id) == ("inactive", kid_coverage.id)
    assert (not_found.status, not_found.plan_name, not_found.copay_cents) == ("error", "", None)
    assert not_found.error == "75: subscriber not found"
    assert {c.response_file_id for c in checks} == {result.inbound_file_id}
    (interchange,) = read_interchanges(reply)
    assert (interchange.sender_id, interchange.receiver_id) == ("CLEARINGHOUSE", "CALMMINDS")
    assert [t.segments[0].element(3) for t in interchange.groups[0].transactions] == [
        a.trace_number for a in asked
    ]  # one 271 for each 270, its BHT03 echoed

    biller = make_login_user(office.db, office.practice, Role.BILLING, name="elig-sim")
    assert login(client, biller.email).status_code == 303
    shown = client.get(f"/clients/{office.client.id}").text
    section = shown.split(f'data-testid="eligibility-{coverage.id}"')[1].split("Authorizations")[0]
    assert "Active" in section
    assert "SILVER HMO 3000" in section
    assert "$25.00" in section
    assert "15%" in section
    assert "$1,200.00" in section
    kid_page = client.get(f"/clients/{kid_coverage.client_id}").text
    kid_section = kid_page.split(f'data-testid="eligibility-{kid_coverage.id}"')[1].split("Authorizations")[0]
    assert "Inactive" in kid_section
    assert "Copay" not in kid_section
