"""The remittance API on a real database: the list with its totals and filters, a payment's
posting report as JSON, the exception queue with its suggestions, resolution (409 the second
time, 422 naming the field), review-mode approval, and another practice's ids not found."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain import adjustment_reasons
from revcycle.domain.permissions import Role
from revcycle.x12.remit835 import Party
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.remittance.world import World, claim_payment, line, make_world, plb, remittance
from tests.integration.world import PASSWORD, password_hash

STRANGER = Party(entity="QC", kind="1", name="SOMEONE", first_name="ELSE")


@pytest.fixture
def w(db: Session) -> World:
    world = make_world(db)
    user = db.get(m.User, world.actor.user_id)
    assert user is not None
    user.password_hash = password_hash()
    db.flush()
    return world


def _headers(client: TestClient, db: Session, user_id: int | None) -> dict[str, str]:
    user = db.get(m.User, user_id)
    assert user is not None
    return bearer(client, user.email, PASSWORD)


def test_the_list_the_report_and_the_queue_say_what_posted_and_what_waits(
    client: TestClient, db: Session, w: World
) -> None:
    paid, denied, lost = w.claim(("90837", 15000)), w.claim(("90834", 12000)), w.claim(("90791", 20000))
    w.ingest(
        remittance(
            claim_payment(
                paid, line("90837", 15000, 9000, ("CO", "45", 3000), ("PR", "1", 1000), ("PR", "2", 2000))
            ),
            claim_payment(denied, line("90834", 12000, 0, ("CO", "197", 12000)), status="4"),
            claim_payment(
                "NOT-OURS-9", line("90791", 20000, 5000, ("CO", "45", 15000)), icn="X9", patient=STRANGER
            ),
            plb=(plb("L6", -125),),
            trace="EFT100",
        )
    )
    w.ingest(
        remittance(
            claim_payment(w.claim(("90832", 9000)), line("90832", 9000, 7000, ("CO", "45", 2000))),
            trace="CHK200",
            method="CHK",
        )
    )
    headers = _headers(client, db, w.actor.user_id)

    listed = client.get("/api/remittances", headers=headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 2
    assert body["totals"] == {
        "count": 2,
        "amount_cents": 9000 + 5000 + 125 + 7000,
        "claim_count": 4,
        "posted_count": 3,
        "waiting_count": 1,
    }
    by_trace = {item["trace_number"]: item for item in body["items"]}
    first = by_trace["EFT100"]
    assert (first["status"], first["claim_count"], first["posted_count"], first["waiting_count"]) == (
        "exceptions",
        3,
        2,
        1,
    )
    assert [
        i["trace_number"]
        for i in client.get("/api/remittances?status=posted", headers=headers).json()["items"]
    ] == ["CHK200"]
    assert client.get("/api/remittances?payer=NOBODY", headers=headers).json()["total"] == 0
    bad = client.get("/api/remittances?status=lost", headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"] == "invalid"
    assert bad.json()["detail"].startswith("status:")

    report = client.get(f"/api/remittances/{first['id']}", headers=headers)
    assert report.status_code == 200, report.text
    detail = report.json()
    claims = {c["patient_control_number"]: c for c in detail["claims"]}
    posted = claims[paid.number]
    assert (posted["state"], posted["claim_id"], posted["claim_status"]) == ("posted", paid.id, "paid")
    assert (posted["paid_cents"], posted["contractual_cents"], posted["patient_cents"]) == (9000, 3000, 3000)
    assert posted["patient_by_reason"] == {"deductible": 1000, "coinsurance": 2000}
    (denial,) = claims[denied.number]["denials"]
    assert (denial["group"], denial["reason"], denial["amount_cents"]) == ("CO", "197", 12000)
    assert denial["explanation"] == adjustment_reasons.reason_info("197").explanation
    waiting = claims["NOT-OURS-9"]
    assert (waiting["state"], waiting["claim_id"], waiting["patient"]) == ("exception", None, "SOMEONE, ELSE")
    assert detail["unapplied_cents"] == 5000
    assert detail["provider_adjustments"] == [
        {
            "reason_code": "L6",
            "meaning": "Interest owed on late payment",
            "reference": "",
            "amount_cents": -125,
        }
    ]
    (exception,) = [e for e in detail["exceptions"] if e["type"] == "unmatched_claim"]
    assert [s["claim_id"] for s in exception["suggestions"]] == [lost.id]
    assert exception["actions"] == ["post_to_claim", "acknowledge"]

    queue = client.get("/api/posting-exceptions", headers=headers).json()
    assert queue["counts"] == {"unmatched_claim": 1, "interest": 1}
    assert queue["total"] == 2
    assert [i["type"] for i in queue["items"]] == ["unmatched_claim", "interest"]  # in the types' order
    only = client.get("/api/posting-exceptions?type=interest", headers=headers).json()
    assert [(i["type"], i["actions"]) for i in only["items"]] == [("interest", ["acknowledge"])]
    assert only["total"] == 1
    read = db.scalars(select(m.AuditLog).where(m.AuditLog.entity == "posting_exception")).all()
    assert read
    assert lost.client_id in read[-1].client_ids


def test_resolving_posts_once_and_refusals_name_the_field(client: TestClient, db: Session, w: World) -> None:
    claim = w.claim(("90837", 15000))
    w.ingest(
        remittance(
            claim_payment(
                "NOT-OURS-1", line("90837", 15000, 9000, ("CO", "45", 6000)), icn="UNKNOWN", patient=STRANGER
            )
        )
    )
    (item,) = w.exceptions()
    headers = _headers(client, db, w.actor.user_id)
    url = f"/api/posting-exceptions/{item.id}/resolve"

    unknown = client.post(url, json={"action": "post_to_claim", "claim_number": "NOPE"}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "claim_number: no claim 'NOPE' in this practice"
    wrong = client.post(url, json={"action": "apply_recoupment", "claim_id": claim.id}, headers=headers)
    assert wrong.status_code == 422
    assert wrong.json()["detail"].startswith("action:")
    invalid = client.post(url, json={"action": "shrug"}, headers=headers)
    assert invalid.status_code == 422
    db.refresh(item)
    assert item.status == "open"

    done = client.post(url, json={"action": "post_to_claim", "claim_number": claim.number}, headers=headers)
    assert done.status_code == 200, done.text
    answer = done.json()
    assert (answer["status"], answer["resolution"], answer["actions"]) == (
        "resolved",
        f"posted to claim {claim.number}",
        [],
    )
    assert (answer["claim_id"], answer["claim_number"]) == (claim.id, claim.number)
    db.refresh(claim)
    assert claim.status == "paid"
    again = client.post(url, json={"action": "acknowledge"}, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"
    listed = client.get("/api/remittances", headers=headers).json()["items"][0]
    assert (listed["status"], listed["posted_count"], listed["waiting_count"]) == ("posted", 1, 0)
    assert client.get("/api/posting-exceptions", headers=headers).json()["total"] == 0


def test_a_payment_held_for_review_posts_when_approved(client: TestClient, db: Session, w: World) -> None:
    w.practice.settings = {**w.practice.settings, "era_posting": "review"}
    db.flush()
    claim = w.claim(("90837", 15000))
    w.ingest(remittance(claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 6000)))))
    row = db.scalars(select(m.Remittance)).one()
    headers = _headers(client, db, w.actor.user_id)
    held = client.get(f"/api/remittances/{row.id}", headers=headers).json()
    assert (held["status"], held["posted_count"], held["waiting_count"]) == ("review", 0, 1)
    approved = client.post(f"/api/remittances/{row.id}/approve", headers=headers)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["outcome"], approved.json()["posted_claims"]) == ("posted", 1)
    db.refresh(claim)
    assert claim.status == "paid"
    assert client.post(f"/api/remittances/{row.id}/approve", headers=headers).status_code == 409


def test_another_practices_ids_are_not_found_and_other_roles_are_refused(
    client: TestClient, db: Session, w: World
) -> None:
    w.ingest(
        remittance(
            claim_payment(
                "NOT-OURS-1", line("90837", 15000, 9000, ("CO", "45", 6000)), icn="UNKNOWN", patient=STRANGER
            )
        )
    )
    (item,) = w.exceptions()
    stranger = f.make_user(db, f.make_practice(db), Role.BILLING)
    stranger.password_hash = password_hash()
    therapist = f.make_user(db, w.practice, Role.THERAPIST)
    therapist.password_hash = password_hash()
    db.flush()
    elsewhere = _headers(client, db, stranger.id)
    assert client.get(f"/api/remittances/{item.remittance_id}", headers=elsewhere).status_code == 404
    assert client.post(f"/api/remittances/{item.remittance_id}/approve", headers=elsewhere).status_code == 404
    resolve = client.post(
        f"/api/posting-exceptions/{item.id}/resolve", json={"action": "acknowledge"}, headers=elsewhere
    )
    assert resolve.status_code == 404
    assert client.get("/api/remittances", headers=elsewhere).json()["total"] == 0
    assert client.get(f"/api/remittances?practice_id={w.practice.id}", headers=elsewhere).status_code == 404
    treating = _headers(client, db, therapist.id)
    assert client.get("/api/remittances", headers=treating).status_code == 403
    assert client.get(f"/api/remittances/{item.remittance_id}", headers=treating).status_code == 403
    db.refresh(item)
    assert item.status == "open"


def test_an_informational_exception_on_a_posted_claim_does_not_make_it_wait(
    client: TestClient, db: Session, w: World
) -> None:
    claim = w.claim(("90837", 15000))
    medigap = Party(entity="TT", kind="2", name="MEDIGAP PLAN", id_qualifier="PI", id="MG1")
    clp = claim_payment(
        claim,
        line("90837", 15000, 9000, ("CO", "45", 4000), ("PR", "2", 2000)),
        status="19",
        crossover_carrier=medigap,
    )
    w.ingest(remittance(clp))
    headers = _headers(client, db, w.actor.user_id)
    (row,) = client.get("/api/remittances", headers=headers).json()["items"]
    assert (row["posted_count"], row["waiting_count"], row["open_exceptions"]) == (1, 0, 1)
    (item,) = client.get("/api/posting-exceptions", headers=headers).json()["items"]
    assert (item["type"], item["actions"], item["claim_number"]) == (
        "crossover",
        ["acknowledge"],
        claim.number,
    )
