"""The claims API end to end: sessions marked ready, claims built and scrubbed, a warning
overridden, claims submitted in bulk (all or nothing), queued, resubmitted, the portal logs,
payer billing settings; refusals by role, by practice and for bad input."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services.claims import transition_claim
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.claims.conftest import Office
from tests.integration.world import make_login_user, password_hash


@dataclass
class Api:
    office: Office
    client: TestClient
    billing: dict[str, str]
    admin: dict[str, str]
    therapist: dict[str, str]
    portal: m.InsurancePortal
    other_claim: m.Claim
    other_payer: m.Payer


@pytest.fixture
def api(office: Office, availity: m.InsurancePortal, client: TestClient, db: Session) -> Api:
    # A filing limit long enough that March 2026 sessions stay billable whatever the date.
    office.settings.timely_filing_days = 3650
    office.user.password_hash = password_hash()
    admin = make_login_user(db, office.practice, Role.ADMIN, name="director")
    therapist = make_login_user(db, office.practice, Role.THERAPIST, name="clinician")
    other = f.make_practice(db)
    other_payer = f.make_payer(db)
    db.add(m.PracticePayer(practice_id=other.id, payer_id=other_payer.id))
    other_client = f.make_client(db, other)
    coverage = f.make_coverage(db, other_client, other_payer)
    service = f.make_session(db, other, other_client, f.make_provider(db, other))
    other_claim = f.make_claim(db, service, coverage, status="ready")
    db.flush()
    return Api(
        office,
        client,
        bearer(client, office.user.email),
        bearer(client, admin.email),
        bearer(client, therapist.email),
        availity,
        other_claim,
        other_payer,
    )


def _ready_claim_ids(api: Api, count: int = 2) -> list[int]:
    sessions = [api.office.visit(9, day=day) for day in range(2, 2 + count)]
    marked = api.client.post(
        "/api/sessions/ready", json={"session_ids": [s.id for s in sessions]}, headers=api.billing
    )
    assert marked.status_code == 200, marked.text
    built = api.client.post("/api/claims/build", headers=api.billing)
    assert built.status_code == 200, built.text
    claims = built.json()["claims"]
    assert [c["status"] for c in claims] == ["ready"] * count
    return [c["claim_id"] for c in claims]


# --- sessions to claims --------------------------------------------------------------------------


def test_sessions_are_marked_ready_and_each_refusal_says_why(api: Api) -> None:
    good = api.office.visit(9)
    unlocked = api.office.visit(11, note_status="draft")
    response = api.client.post(
        "/api/sessions/ready", json={"session_ids": [good.id, unlocked.id]}, headers=api.billing
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["marked"] == [good.id]
    assert body["refused"] == [{"session_id": unlocked.id, "reason": "the note is not locked"}]
    again = api.client.post("/api/sessions/ready", json={"session_ids": [good.id]}, headers=api.billing)
    assert again.json()["already_ready"] == [good.id]


def test_built_claims_appear_on_the_ready_list_with_route_portal_and_deadline(api: Api) -> None:
    claim_ids = _ready_claim_ids(api)
    listing = api.client.get("/api/claims/ready", headers=api.billing)
    assert listing.status_code == 200, listing.text
    body = listing.json()
    assert body["total"] == 2
    assert sorted(item["id"] for item in body["items"]) == sorted(claim_ids)
    first = body["items"][0]
    assert first["payer_name"] == "Aetna"
    assert (first["billing_route"], first["portal_id"], first["portal_name"]) == (
        "portal",
        api.portal.id,
        "Availity",
    )
    assert first["timely_filing_on"] == "2036-02-28"  # 2 March 2026 + 3650 days
    assert first["days_to_deadline"] > 0
    assert first["queued_batch_id"] is None


def test_scrub_shows_the_edits_that_ran_and_is_kept(api: Api) -> None:
    [claim_id] = _ready_claim_ids(api, 1)
    ran = api.client.post(f"/api/claims/{claim_id}/scrub", headers=api.billing)
    assert ran.status_code == 200, ran.text
    body = ran.json()
    assert [e["id"] for e in body["edits"]][:2] == ["required_fields", "npi_check_digit"]
    assert len(body["edits"]) >= 11
    assert body["edits"][0]["title"] == "Required 837P fields present"
    assert [p for p in body["problems"] if p["severity"] != "info"] == []
    assert body["clean"] is True
    latest = api.client.get(f"/api/claims/{claim_id}/scrub", headers=api.billing).json()
    assert latest["scrubbed_at"] == body["scrubbed_at"]
    [read] = api.office.db.scalars(
        select(m.AuditLog).where(m.AuditLog.action == "read", m.AuditLog.entity == "claim")
    ).all()
    assert read.client_ids == [api.office.client.id]
    scrubs = api.office.db.scalars(select(m.ClaimScrub).where(m.ClaimScrub.claim_id == claim_id)).all()
    assert len(scrubs) == 2  # once when built, once on request


def _telehealth_draft(api: Api) -> int:
    service = api.office.visit(10)
    service.place_of_service = "10"  # telehealth at home, but the line has no 95/GT modifier
    api.office.db.flush()
    api.client.post("/api/sessions/ready", json={"session_ids": [service.id]}, headers=api.billing)
    [built] = api.client.post("/api/claims/build", headers=api.billing).json()["claims"]
    assert (built["status"], built["errors"], built["open_warnings"]) == ("draft", 0, 1)
    return int(built["claim_id"])


def test_a_warning_is_overridden_with_a_reason_then_the_claim_is_made_ready(api: Api) -> None:
    claim_id = _telehealth_draft(api)
    still = api.client.post(f"/api/claims/{claim_id}/ready", headers=api.billing)
    assert still.status_code == 200
    assert (still.json()["status"], still.json()["clean"]) == ("draft", False)
    [warning] = [p for p in still.json()["problems"] if p["severity"] != "info"]
    assert (warning["code"], warning["severity"]) == ("scrub.telehealth.modifier_missing", "warning")
    body = {"problem_code": warning["code"], "where": warning["where"], "reason": "payer takes POS 10 alone"}
    overridden = api.client.post(f"/api/claims/{claim_id}/overrides", json=body, headers=api.billing)
    assert overridden.status_code == 200, overridden.text
    assert [p["overridden"] for p in overridden.json()["problems"] if p["code"] == warning["code"]] == [True]
    assert overridden.json()["overrides"][0]["reason"] == "payer takes POS 10 alone"
    audit = api.office.db.scalars(select(m.AuditLog).where(m.AuditLog.entity == "scrub_override")).one()
    assert audit.reason == "payer takes POS 10 alone"
    twice = api.client.post(f"/api/claims/{claim_id}/overrides", json=body, headers=api.billing)
    assert twice.status_code == 409
    ready = api.client.post(f"/api/claims/{claim_id}/ready", headers=api.billing)
    assert (ready.json()["status"], ready.json()["clean"]) == ("ready", True)
    assert api.client.post(f"/api/claims/{claim_id}/ready", headers=api.billing).status_code == 409


def test_an_error_is_never_overridden_and_a_reason_is_required(api: Api) -> None:
    claim_id = _telehealth_draft(api)
    claim = api.office.db.get_one(m.Claim, claim_id)
    claim.lines[0].diagnosis_pointers = ""  # the line now points at no diagnosis: an error
    api.office.db.flush()
    problems = api.client.post(f"/api/claims/{claim_id}/scrub", headers=api.billing).json()["problems"]
    error = next(p for p in problems if p["severity"] == "error")
    body = {"problem_code": error["code"], "where": error["where"], "reason": "please"}
    refused = api.client.post(f"/api/claims/{claim_id}/overrides", json=body, headers=api.billing)
    assert refused.status_code == 422
    assert "cannot be overridden" in refused.json()["detail"]
    blank = api.client.post(
        f"/api/claims/{claim_id}/overrides", json={"problem_code": error["code"]}, headers=api.billing
    )
    assert blank.status_code == 422
    assert "reason" in blank.json()["detail"]


# --- submitting ----------------------------------------------------------------------------------


def test_bulk_submission_via_a_portal_with_per_claim_references(api: Api) -> None:
    first, second = _ready_claim_ids(api)
    body = {
        "claim_ids": [first, second],
        "portal_id": api.portal.id,
        "submitted_on": "2026-03-10",
        "reference": "BATCH-9",
        "references": {str(second): "AV-2"},
    }
    response = api.client.post("/api/claims/submissions", json=body, headers=api.billing)
    assert response.status_code == 200, response.text
    rows = response.json()["submissions"]
    assert [(r["claim_id"], r["reference"], r["portal_name"], r["channel"]) for r in rows] == [
        (first, "BATCH-9", "Availity", "portal"),
        (second, "AV-2", "Availity", "portal"),
    ]
    assert rows[0]["submitted_by"] == api.office.user.email
    for claim_id in (first, second):
        claim = api.office.db.get_one(m.Claim, claim_id)
        api.office.db.refresh(claim)
        assert claim.status == "submitted"
    log = api.client.get(f"/api/claims/{second}/submissions", headers=api.billing).json()
    assert [(r["reference"], r["frequency"]) for r in log["items"]] == [("AV-2", "1")]
    assert api.client.get("/api/claims/ready", headers=api.billing).json()["total"] == 0


def test_one_claim_not_ready_refuses_the_whole_bulk_submission(api: Api) -> None:
    first, second = _ready_claim_ids(api)
    api.client.post("/api/claims/submissions", json={"claim_ids": [first]}, headers=api.billing)
    number = api.office.db.get_one(m.Claim, first).number
    response = api.client.post(
        "/api/claims/submissions", json={"claim_ids": [second, first], "reference": "X"}, headers=api.billing
    )
    assert response.status_code == 422
    assert f"claim {number} is submitted, not ready" in response.json()["detail"]
    log = api.client.get(f"/api/claims/{second}/submissions", headers=api.billing).json()
    assert log["items"] == []  # nothing half-written
    claim = api.office.db.get_one(m.Claim, second)
    api.office.db.refresh(claim)
    assert claim.status == "ready"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"submitted_on": "10/03/2026"}, "submitted_on"),
        ({"submitted_on": "2999-01-01"}, "submitted on 2999-01-01"),
        ({"reference": "R" * 81}, "reference"),
        ({"references": {"999999": "A"}}, "references"),
        ({"claim_ids": "all"}, "claim_ids"),
        ({"password": "x"}, "password"),
    ],
)
def test_bad_submission_input_is_422_naming_the_field(api: Api, body: dict[str, object], field: str) -> None:
    claim_ids = _ready_claim_ids(api, 1)
    response = api.client.post(
        "/api/claims/submissions", json={"claim_ids": claim_ids, **body}, headers=api.billing
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid"
    assert field in response.json()["detail"]
    assert api.client.get(f"/api/claims/{claim_ids[0]}/submissions", headers=api.billing).json()["total"] == 0


def test_the_practice_portal_log_filters_by_portal_channel_and_dates(api: Api) -> None:
    first, second = _ready_claim_ids(api)
    api.client.post(
        "/api/claims/submissions",
        json={"claim_ids": [first], "submitted_on": "2026-03-10", "reference": "P-1"},
        headers=api.billing,
    )
    api.client.post(
        "/api/claims/submissions",
        json={"claim_ids": [second], "channel": "paper", "submitted_on": "2026-03-12"},
        headers=api.billing,
    )

    def refs(**params: object) -> list[str]:
        response = api.client.get("/api/submissions", params=params, headers=api.billing)
        assert response.status_code == 200, response.text
        return [row["claim_number"] + "/" + row["channel"] for row in response.json()["items"]]

    numbers = {cid: api.office.db.get_one(m.Claim, cid).number for cid in (first, second)}
    assert refs() == [f"{numbers[second]}/paper", f"{numbers[first]}/portal"]  # newest first
    assert refs(portal_id=api.portal.id) == [f"{numbers[first]}/portal"]
    assert refs(channel="paper") == [f"{numbers[second]}/paper"]
    assert refs(since="2026-03-11") == [f"{numbers[second]}/paper"]
    assert refs(until="2026-03-10") == [f"{numbers[first]}/portal"]
    assert refs(limit=1, offset=1) == [f"{numbers[first]}/portal"]
    bad = api.client.get("/api/submissions", params={"channel": "fax"}, headers=api.billing)
    assert bad.status_code == 422
    assert "channel" in bad.json()["detail"]


def test_claims_are_queued_once_for_an_electronic_batch(api: Api) -> None:
    claim_ids = _ready_claim_ids(api)
    response = api.client.post("/api/claims/queue", json={"claim_ids": claim_ids}, headers=api.billing)
    assert response.status_code == 200, response.text
    batch_id = response.json()["batch_id"]
    assert (response.json()["status"], response.json()["channel"]) == ("queued", "clearinghouse")
    listing = api.client.get("/api/claims/ready", headers=api.billing).json()
    assert {item["queued_batch_id"] for item in listing["items"]} == {batch_id}
    again = api.client.post("/api/claims/queue", json={"claim_ids": claim_ids[:1]}, headers=api.billing)
    assert again.status_code == 422
    assert f"queued in batch {batch_id}" in again.json()["detail"]


def test_a_rejected_claim_is_replaced_keeping_its_lineage(api: Api) -> None:
    [claim_id] = _ready_claim_ids(api, 1)
    api.client.post(
        "/api/claims/submissions", json={"claim_ids": [claim_id], "reference": "AV-1"}, headers=api.billing
    )
    transition_claim(
        api.office.db, actor=api.office.actor, claim_id=claim_id, target="rejected", source="277CA"
    )
    no_reason = api.client.post(
        f"/api/claims/{claim_id}/resubmit",
        json={"frequency": "7", "payer_claim_control_number": "ICN-7"},
        headers=api.billing,
    )
    assert no_reason.status_code == 422
    assert "reason" in no_reason.json()["detail"]
    no_icn = api.client.post(
        f"/api/claims/{claim_id}/resubmit", json={"frequency": "8", "reason": "void it"}, headers=api.billing
    )
    assert no_icn.status_code == 422
    assert "claim control number" in no_icn.json()["detail"]
    body = {"frequency": "7", "payer_claim_control_number": "ICN-7", "reason": "units corrected"}
    response = api.client.post(f"/api/claims/{claim_id}/resubmit", json=body, headers=api.billing)
    assert response.status_code == 200, response.text
    log = api.client.get(f"/api/claims/{claim_id}/submissions", headers=api.billing).json()["items"]
    assert [(r["frequency"], r["payer_claim_control_number"]) for r in log] == [("1", ""), ("7", "ICN-7")]
    assert log[1]["previous_submission_id"] == log[0]["id"] == response.json()["previous_submission_id"]
    event = api.office.db.scalars(
        select(m.ClaimEvent).where(m.ClaimEvent.claim_id == claim_id).order_by(m.ClaimEvent.id.desc())
    ).first()
    assert event is not None
    assert event.detail.endswith(": units corrected")


# --- refusals ------------------------------------------------------------------------------------


def test_another_practices_ids_answer_404(api: Api) -> None:
    other = api.other_claim.id
    [mine] = _ready_claim_ids(api, 1)
    for method, url, body in [
        ("get", f"/api/claims/{other}/scrub", None),
        ("post", f"/api/claims/{other}/scrub", None),
        ("get", f"/api/claims/{other}/submissions", None),
        ("post", "/api/claims/submissions", {"claim_ids": [mine, other]}),
        ("post", "/api/claims/queue", {"claim_ids": [other]}),
        ("post", f"/api/claims/{other}/resubmit", {"frequency": "1", "reason": "again"}),
        ("get", f"/api/practice-payers/{api.other_payer.id}", None),
        ("get", f"/api/submissions?practice_id={api.other_claim.practice_id}", None),
    ]:
        response = api.client.request(method, url, json=body, headers=api.billing)
        assert response.status_code == 404, (url, response.text)
        assert response.json()["error"] == "not_found"
    log = api.client.get(f"/api/claims/{mine}/submissions", headers=api.billing).json()
    assert log["total"] == 0


def test_roles_without_the_permission_are_refused(api: Api) -> None:
    [claim_id] = _ready_claim_ids(api, 1)
    submit = api.client.post("/api/claims/submissions", json={"claim_ids": [claim_id]}, headers=api.therapist)
    assert submit.status_code == 403
    payer = f"/api/practice-payers/{api.office.payer.id}"
    assert api.client.post(payer, json={"appeal_days": 60}, headers=api.billing).status_code == 403
    assert api.client.get(payer, headers=api.billing).status_code == 200
    assert api.client.post("/api/claims/submissions", json={"claim_ids": [claim_id]}).status_code == 401


# --- payer billing settings ----------------------------------------------------------------------


def test_an_admin_changes_a_payers_billing_settings_audited(api: Api) -> None:
    url = f"/api/practice-payers/{api.office.payer.id}"
    before = api.client.get(url, headers=api.admin).json()
    assert (before["billing_route"], before["portal_name"]) == ("portal", "Availity")
    changes = {
        "billing_route": "clearinghouse",
        "portal_id": None,
        "timely_filing_days": 180,
        "appeal_days": 60,
        "requires_prior_auth": True,
        "supervised_billing": "incident_to",
    }
    response = api.client.post(url, json=changes, headers=api.admin)
    assert response.status_code == 200, response.text
    after = response.json()
    assert {key: after[key] for key in changes} == changes
    audit = api.office.db.scalars(select(m.AuditLog).where(m.AuditLog.entity == "practice_payer")).one()
    assert audit.before["timely_filing_days"] == 3650
    assert audit.after["timely_filing_days"] == 180
    assert audit.after["supervised_billing"] == "incident_to"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"billing_route": "fax"}, "billing_route"),
        ({"timely_filing_days": 0}, "timely_filing_days"),
        ({"appeal_days": "soon"}, "appeal_days"),
        ({"supervised_billing": "always"}, "supervised_billing"),
        ({"timely_filing_days": None}, "timely_filing_days"),
        ({"contract": 1}, "contract"),
    ],
)
def test_bad_payer_settings_are_422_naming_the_field(api: Api, body: dict[str, object], field: str) -> None:
    response = api.client.post(f"/api/practice-payers/{api.office.payer.id}", json=body, headers=api.admin)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]


def test_a_portal_of_another_practice_is_not_a_default_portal(api: Api, db: Session) -> None:
    foreign = m.InsurancePortal(practice_id=api.other_claim.practice_id, name="Elsewhere")
    db.add(foreign)
    db.flush()
    response = api.client.post(
        f"/api/practice-payers/{api.office.payer.id}", json={"portal_id": foreign.id}, headers=api.admin
    )
    assert response.status_code == 422
    assert "portal_id" in response.json()["detail"]
    assert api.office.settings.portal_id == api.portal.id


# --- the published document ----------------------------------------------------------------------


def test_openapi_documents_every_claims_route_with_its_errors(api: Api) -> None:
    document = api.client.get("/api/openapi.json").json()
    expected = {
        ("post", "/api/sessions/ready"),
        ("post", "/api/claims/build"),
        ("get", "/api/claims/ready"),
        ("get", "/api/claims/{claim_id}/scrub"),
        ("post", "/api/claims/{claim_id}/scrub"),
        ("post", "/api/claims/{claim_id}/overrides"),
        ("post", "/api/claims/{claim_id}/ready"),
        ("post", "/api/claims/submissions"),
        ("post", "/api/claims/queue"),
        ("post", "/api/claims/{claim_id}/resubmit"),
        ("get", "/api/claims/{claim_id}/submissions"),
        ("get", "/api/submissions"),
        ("get", "/api/practice-payers/{payer_id}"),
        ("post", "/api/practice-payers/{payer_id}"),
        ("get", "/api/portals"),
        ("post", "/api/portals"),
        ("post", "/api/portals/{portal_id}"),
    }
    for method, path in expected:
        operation = document["paths"][path][method]
        assert operation["summary"], path
        assert {"403", "404", "422"} <= set(operation["responses"]), path
        assert operation["x-permission"], path
