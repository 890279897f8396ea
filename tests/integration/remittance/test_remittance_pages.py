"""The remittance pages on a real database: the list with its counts, totals, filters and
paging; a payment's posting report; the exception queue resolved in one click (htmx and plain
forms), refusals shown in place; review mode from the settings page to "Approve and post";
an 835 uploaded on /x12 linking to its report; another practice's payment not found."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain import adjustment_reasons
from revcycle.domain.permissions import Role
from revcycle.x12.remit835 import Party
from revcycle.x12.write835 import write_835
from tests import factories as f
from tests.integration.conftest import login, session_csrf
from tests.integration.remittance.world import (
    World,
    claim_payment,
    envelope,
    line,
    make_world,
    plb,
    remittance,
)
from tests.integration.world import PASSWORD, password_hash

HTMX = {"HX-Request": "true"}
STRANGER = Party(entity="QC", kind="1", name="SOMEONE", first_name="ELSE")


@pytest.fixture
def w(db: Session) -> World:
    world = make_world(db)
    user = db.get(m.User, world.actor.user_id)
    assert user is not None
    user.password_hash = password_hash()
    db.flush()
    return world


def _sign_in(client: TestClient, db: Session, user_id: int | None) -> str:
    user = db.get(m.User, user_id)
    assert user is not None
    assert login(client, user.email, PASSWORD).status_code == 303
    return session_csrf(client)


def _unmatched(w: World, *, trace: str = "EFT0002") -> tuple[m.Claim, m.WorkItem]:
    """A claim of ours and a payment for it under a number and name we do not know."""
    claim = w.claim(("90837", 15000))
    clp = claim_payment(
        "NOT-OURS-1", line("90837", 15000, 9000, ("CO", "45", 6000)), icn="UNKNOWN", patient=STRANGER
    )
    w.ingest(remittance(clp, trace=trace))
    (item,) = [i for i in w.exceptions() if i.status != "resolved"]
    return claim, item


def _row(html: str, remittance_id: int) -> str:
    found = re.search(rf'<tr data-remittance="{remittance_id}">(.*?)</tr>', html, re.S)
    assert found, f"no row for remittance {remittance_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_the_list_shows_each_payment_with_its_counts_filters_and_totals(
    client: TestClient, db: Session, w: World
) -> None:
    paid = w.claim(("90837", 15000))
    w.ingest(remittance(claim_payment(paid, line("90837", 15000, 9000, ("CO", "45", 6000))), trace="EFT0001"))
    _unmatched(w, trace="CHK0002")
    first, second = db.scalars(select(m.Remittance).order_by(m.Remittance.id)).all()
    _sign_in(client, db, w.actor.user_id)

    page = client.get("/remittances")
    assert page.status_code == 200, page.text
    assert _row(page.text, first.id).split() == [
        "Apr",
        "10,",
        "2026",
        "BLUE",
        "RIVER",
        "HEALTH",
        "EFT0001",
        "ACH",
        "$90.00",
        "1",
        "1",
        "0",
        "Posted",
    ]
    assert "CHK0002" in _row(page.text, second.id)
    assert _row(page.text, second.id).endswith("$90.00 1 0 1 Exceptions 1 open")
    totals = re.search(r'<tfoot data-testid="remittance-totals">(.*?)</tfoot>', page.text, re.S)
    assert totals is not None
    assert re.sub(r"<[^>]+>|\s+", " ", totals.group(1)).split() == ["2", "payments", "$180.00", "2", "1", "1"]
    assert 'href="/posting-exceptions"' in page.text
    assert "Posting exceptions (1)" in page.text

    only = client.get("/remittances", params={"status": "exceptions"})
    assert f'data-remittance="{second.id}"' in only.text
    assert f'data-remittance="{first.id}"' not in only.text
    assert "1 payment" in only.text
    nobody = client.get("/remittances", params={"payer": "NO SUCH PAYER"})
    assert "No remittance matches these filters" in nobody.text
    paged = client.get("/remittances", params={"limit": 1})
    assert paged.text.count("<tr data-remittance=") == 1
    assert "1–1 of 2" in paged.text
    assert f'data-remittance="{second.id}"' in paged.text  # the same paid date: latest first
    refused = client.get("/remittances", params={"status": "lost"})
    assert refused.status_code == 422
    assert "status" in refused.text


def test_the_posting_report_says_what_posted_what_was_denied_and_what_waits(
    client: TestClient, db: Session, w: World
) -> None:
    paid = w.claim(("90837", 15000))
    denied = w.claim(("90834", 12000))
    claim = w.claim(("90791", 20000))
    era = remittance(
        claim_payment(paid, line("90837", 15000, 9000, ("CO", "45", 4000), ("PR", "3", 2000))),
        claim_payment(
            denied,
            replace(line("90834", 12000, 0, ("CO", "50", 12000)), remarks=(("HE", "N20"),)),
            status="4",
        ),
        claim_payment(
            "NOT-OURS-9", line("90791", 20000, 5000, ("CO", "45", 15000)), icn="X9", patient=STRANGER
        ),
        plb=(plb("L6", -125),),
    )
    w.ingest(era, name="blue-river.835")
    row = db.scalars(select(m.Remittance)).one()
    assert row.status == "exceptions"
    _sign_in(client, db, w.actor.user_id)

    page = client.get(f"/remittances/{row.id}")
    assert page.status_code == 200, page.text
    text = re.sub(r"\s+", " ", page.text)
    posted = text.split('data-testid="posted-claims"')[1].split('data-testid="waiting-claims"')[0]
    assert f">{paid.number}</a>" in posted
    assert f">{denied.number}</a>" in posted
    assert "Copay $20.00" in posted
    assert "<strong>CO-50</strong> $120.00: " + adjustment_reasons.reason_info("50").explanation in posted
    assert "N20: " + adjustment_reasons.remark_info("N20").explanation in posted
    waiting = text.split('data-testid="waiting-claims"')[1].split('data-testid="provider-adjustments"')[0]
    assert "NOT-OURS-9" in waiting
    assert "No claim of ours matches" in waiting or "Unmatched" in waiting
    assert f'data-claim="{claim.id}"' in waiting  # the suggestion: same day, same amount
    assert 'data-cents="5000"' in text.split('data-testid="unapplied"')[1][:200]  # the unmatched $50
    assert "Interest owed on late payment" in text
    assert "+$1.25" in text
    assert f'href="/remittances/{row.id}/file"' in text
    assert "blue-river.835" in text
    read = db.scalars(
        select(m.AuditLog).where(m.AuditLog.entity == "remittance", m.AuditLog.action == "read")
    ).all()
    assert read
    assert w.client.id in read[-1].client_ids

    raw = client.get(f"/remittances/{row.id}/file")
    assert raw.status_code == 200
    assert raw.content.startswith(b"ISA")
    assert 'filename="blue-river.835"' in raw.headers["content-disposition"]


def test_a_click_posts_the_waiting_payment_to_the_suggested_claim_and_it_leaves_the_queue(
    client: TestClient, db: Session, w: World
) -> None:
    claim, item = _unmatched(w)
    csrf = _sign_in(client, db, w.actor.user_id)
    queue = client.get("/posting-exceptions")
    assert queue.status_code == 200, queue.text
    assert 'data-group="unmatched_claim"' in queue.text
    assert f'data-exception="{item.id}"' in queue.text
    assert f"Post to claim {claim.number}" in queue.text

    answer = client.post(
        f"/posting-exceptions/{item.id}/resolve",
        data={"csrf_token": csrf, "action": "post_to_claim", "claim_id": claim.id},
        headers=HTMX,
    )
    assert answer.status_code == 200, answer.text
    assert answer.text.lstrip().startswith('<div id="exception-queue"')  # the partial, not a page
    assert f'data-exception="{item.id}"' not in answer.text
    assert f"Resolved: posted to claim {claim.number}" in answer.text
    db.refresh(claim)
    db.refresh(item)
    assert (claim.status, item.status) == ("paid", "resolved")
    assert 'data-testid="exception-queue-empty"' in client.get("/posting-exceptions").text

    again = client.post(
        f"/posting-exceptions/{item.id}/resolve", data={"csrf_token": csrf, "action": "acknowledge"}
    )
    assert again.status_code == 409
    assert "already resolved" in again.text


def test_a_refusal_is_shown_on_the_item_and_nothing_is_written(
    client: TestClient, db: Session, w: World
) -> None:
    claim, item = _unmatched(w)
    csrf = _sign_in(client, db, w.actor.user_id)
    typed = client.post(
        f"/posting-exceptions/{item.id}/resolve",
        data={"csrf_token": csrf, "action": "post_to_claim", "claim_number": "NOPE-1"},
        headers=HTMX,
    )
    assert typed.status_code == 200
    shown = typed.text.split(f'data-exception="{item.id}"')[1]
    assert "claim_number: no claim &#39;NOPE-1&#39; in this practice" in shown.split("</form>")[0]
    wrong = client.post(
        f"/posting-exceptions/{item.id}/resolve",
        data={"csrf_token": csrf, "action": "apply_recoupment"},
    )
    assert wrong.status_code == 422
    assert "only a recoupment is applied to a claim" in wrong.text
    db.refresh(item)
    db.refresh(claim)
    assert (item.status, claim.status) == ("open", "accepted")

    by_number = client.post(
        f"/posting-exceptions/{item.id}/resolve",
        data={
            "csrf_token": csrf,
            "action": "post_to_claim",
            "claim_number": claim.number,
            "back": "/evil.test",
        },
    )
    assert by_number.status_code == 303
    assert by_number.headers["location"] == f"/posting-exceptions?done={item.id}"
    assert f"Resolved: posted to claim {claim.number}" in client.get(by_number.headers["location"]).text


def test_a_recoupment_is_applied_to_the_claim_it_names(client: TestClient, db: Session, w: World) -> None:
    overpaid, claim = w.claim(("90834", 12000)), w.claim(("90837", 15000))
    w.ingest(remittance(claim_payment(overpaid, line("90834", 12000, 12000)), trace="T0"))
    w.ingest(
        remittance(
            claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 6000))),
            plb=(plb("WO", 4000, overpaid.number),),
            trace="T1",
        )
    )
    (item,) = [i for i in w.exceptions() if i.status != "resolved"]
    csrf = _sign_in(client, db, w.actor.user_id)
    queue = client.get("/posting-exceptions?type=recoupment").text
    shown = queue.split(f'data-exception="{item.id}"')[1]
    assert "Withheld $40.00 for " + overpaid.number in shown
    assert f'name="claim_number" maxlength="50" value="{overpaid.number}"' in shown
    assert 'data-action="post_to_claim"' not in shown
    answer = client.post(
        f"/posting-exceptions/{item.id}/resolve",
        data={
            "csrf_token": csrf,
            "action": "apply_recoupment",
            "claim_number": overpaid.number,
            "type": "recoupment",
        },
        headers=HTMX,
    )
    assert answer.status_code == 200
    assert f"Resolved: recoupment of $40.00 applied to claim {overpaid.number}." in answer.text
    assert 'data-testid="exception-queue-empty"' in answer.text
    db.refresh(item)
    assert item.claim_id == overpaid.id


def test_acknowledging_with_a_note_from_the_report_comes_back_to_it(
    client: TestClient, db: Session, w: World
) -> None:
    _, item = _unmatched(w)
    csrf = _sign_in(client, db, w.actor.user_id)
    back = f"/remittances/{item.remittance_id}"
    answer = client.post(
        f"/posting-exceptions/{item.id}/resolve",
        data={"csrf_token": csrf, "action": "acknowledge", "note": "payer will reprocess", "back": back},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == back
    db.refresh(item)
    assert (item.status, item.resolution) == ("resolved", "acknowledged: payer will reprocess")
    report = client.get(back).text
    assert "acknowledged: payer will reprocess" in report
    assert 'data-action="acknowledge"' not in report  # nothing left to do


def test_review_mode_is_chosen_in_settings_and_the_payment_posts_on_approval(
    client: TestClient, db: Session, w: World
) -> None:
    admin = f.make_user(db, w.practice, Role.ADMIN)
    admin.password_hash = password_hash()
    db.flush()
    csrf = _sign_in(client, db, admin.id)
    assert 'id="era-auto" value="auto" checked' in client.get("/settings").text
    saved = client.post("/settings/era-posting", data={"csrf_token": csrf, "era_posting": "review"})
    assert saved.status_code == 303
    assert "835 posting saved" in client.get(saved.headers["location"]).text
    db.refresh(w.practice)
    assert w.practice.settings["era_posting"] == "review"
    change = db.scalars(select(m.AuditLog).where(m.AuditLog.entity == "practice")).all()[-1]
    assert (change.before, change.after) == ({"era_posting": "auto"}, {"era_posting": "review"})
    bad = client.post("/settings/era-posting", data={"csrf_token": csrf, "era_posting": "sometimes"})
    assert bad.status_code == 422

    claim = w.claim(("90837", 15000))
    w.ingest(remittance(claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 6000)))))
    row = db.scalars(select(m.Remittance)).one()
    assert row.status == "review"
    page = client.get(f"/remittances/{row.id}")
    assert 'data-testid="approve"' in page.text
    assert "Nothing of this payment has posted yet" in page.text
    assert "review before posting" in client.get("/remittances").text
    approved = client.post(f"/remittances/{row.id}/approve", data={"csrf_token": csrf})
    assert approved.status_code == 303
    assert "Approved: the payment is posted." in client.get(approved.headers["location"]).text
    db.refresh(claim)
    assert claim.status == "paid"
    twice = client.post(f"/remittances/{row.id}/approve", data={"csrf_token": csrf})
    assert twice.status_code == 409
    assert "not waiting for review" in twice.text


def test_an_835_uploaded_on_the_x12_page_links_to_its_posting_report(
    client: TestClient, db: Session, w: World
) -> None:
    claim = w.claim(("90837", 15000))
    era = remittance(claim_payment(claim, line("90837", 15000, 9000, ("CO", "45", 6000))), trace="EFT777")
    data = write_835([era], envelope(4242)).encode()
    csrf = _sign_in(client, db, w.actor.user_id)
    answer = client.post(
        "/x12/files", data={"csrf_token": csrf}, files={"file": ("era.835", data, "text/plain")}
    )
    assert answer.status_code == 200, answer.text
    row = db.scalars(select(m.Remittance)).one()
    assert f'href="/remittances/{row.id}" data-testid="posting-report-link"' in answer.text
    assert "Payment EFT777 ($90.00) from BLUE RIVER HEALTH: Posted, 1 claim(s) posted" in answer.text
    assert f'href="/remittances?file={row.inbound_file_id}"' in answer.text
    listed = client.get(f"/remittances?file={row.inbound_file_id}")
    assert f'data-remittance="{row.id}"' in listed.text


def test_another_practices_payment_and_exception_are_not_found(
    client: TestClient, db: Session, w: World
) -> None:
    _, item = _unmatched(w)
    elsewhere = f.make_practice(db)
    stranger = f.make_user(db, elsewhere, Role.BILLING)
    stranger.password_hash = password_hash()
    db.flush()
    csrf = _sign_in(client, db, stranger.id)
    assert client.get(f"/remittances/{item.remittance_id}").status_code == 404
    assert client.get(f"/remittances/{item.remittance_id}/file").status_code == 404
    resolve = client.post(
        f"/posting-exceptions/{item.id}/resolve", data={"csrf_token": csrf, "action": "acknowledge"}
    )
    assert resolve.status_code == 404
    assert 'data-testid="exception-queue-empty"' in client.get("/posting-exceptions").text
    assert "BLUE RIVER" not in client.get("/remittances").text


def test_roles_without_post_payments_are_refused(client: TestClient, db: Session, w: World) -> None:
    therapist = f.make_user(db, w.practice, Role.THERAPIST)
    therapist.password_hash = password_hash()
    db.flush()
    _sign_in(client, db, therapist.id)
    for path in ("/remittances", "/posting-exceptions"):
        assert client.get(path).status_code == 403
