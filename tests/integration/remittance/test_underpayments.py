"""The underpayment work list on a real database: the lines a posted 835 allowed below the
payer's contract, with their amounts read back from the remittance rows and priced again, the
total difference, the payer and status filters; resolving (appealed / accepted) once, audited,
409 the second time, 422 for an unknown action; a reversal settling its alert; another
practice's item not found; the page with its one-click resolutions (htmx and plain forms)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import underpayments as up
from tests import factories as f
from tests.integration.api_routes import bearer
from tests.integration.conftest import login, session_csrf
from tests.integration.remittance.world import (
    SESSION_ON,
    World,
    claim_payment,
    line,
    make_world,
    remittance,
    reversal_of,
)
from tests.integration.world import PASSWORD, password_hash

HTMX = {"HX-Request": "true"}


@pytest.fixture
def w(db: Session) -> World:
    world = make_world(db)
    user = db.get(m.User, world.actor.user_id)
    assert user is not None
    user.password_hash = password_hash()
    contract = m.PayerContract(
        practice_id=world.practice.id,
        payer_id=world.payer.id,
        number="BRH-2026",
        starts_on=SESSION_ON.replace(month=1, day=1),
    )
    db.add(contract)
    db.flush()
    for code, cents in (("90837", 11000), ("90834", 9000)):
        db.add(
            m.PayerContractRate(
                practice_id=world.practice.id,
                contract_id=contract.id,
                procedure_code=code,
                allowed_cents=cents,
            )
        )
    db.flush()
    return world


def _posted(w: World) -> tuple[m.Claim, m.Claim, m.Claim]:
    """One 835: a claim allowed $95.00 for a $110.00 90837; a two-line claim whose 90834
    (billed first, paid second) was allowed $80.00 for $90.00; a claim paid as contracted."""
    short = w.claim(("90837", 15000))
    two_lines = w.claim(("90834", 12000), ("90837", 15000))
    fair = w.claim(("90837", 15000))
    w.ingest(
        remittance(
            claim_payment(short, line("90837", 15000, 7500, ("CO", "45", 5500), ("PR", "3", 2000))),
            claim_payment(
                two_lines,
                line("90837", 15000, 9000, ("CO", "45", 4000), ("PR", "3", 2000)),
                line("90834", 12000, 6000, ("CO", "45", 4000), ("PR", "3", 2000)),
            ),
            claim_payment(fair, line("90837", 15000, 9000, ("CO", "45", 4000), ("PR", "3", 2000))),
            trace="EFT0900",
        )
    )
    return short, two_lines, fair


def _headers(client: TestClient, db: Session, user_id: int | None) -> dict[str, str]:
    user = db.get(m.User, user_id)
    assert user is not None
    return bearer(client, user.email, PASSWORD)


def _sign_in(client: TestClient, db: Session, user_id: int | None) -> str:
    user = db.get(m.User, user_id)
    assert user is not None
    assert login(client, user.email, PASSWORD).status_code == 303
    return session_csrf(client)


def _text(html: str, item_id: int) -> str:
    found = re.search(
        rf'<div class="list-group-item" id="underpayment-{item_id}"[^>]*>(.*?)<form', html, re.S
    )
    assert found, f"no row for underpayment {item_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_the_list_reads_each_line_back_from_the_835_with_the_total_difference(db: Session, w: World) -> None:
    short, two_lines, _ = _posted(w)

    page = up.list_underpayments(db, actor=w.actor, practice_id=w.practice.id)

    assert [(i.claim_id, i.line_number, i.procedure_code) for i in page.items] == [
        (short.id, 1, "90837"),
        (two_lines.id, 1, "90834"),
    ]
    assert [(i.allowed_cents, i.expected_cents, i.difference_cents) for i in page.items] == [
        (9500, 11000, 1500),
        (8000, 9000, 1000),
    ]
    first = page.items[0]
    assert (first.payer_name, first.trace_number, first.paid_on.isoformat() if first.paid_on else "") == (
        "Blue River Health",
        "EFT0900",
        "2026-04-10",
    )
    assert first.expected_source == "contract BRH-2026"
    assert first.actions == ("appealed", "accepted")
    assert page.totals == up.UnderpaymentTotals(
        count=2, allowed_cents=17500, expected_cents=20000, difference_cents=2500, unpriced=0
    )
    assert page.payers == [(w.payer.id, "Blue River Health")]
    one = up.list_underpayments(db, actor=w.actor, practice_id=w.practice.id, limit=1, offset=1)
    assert [i.claim_id for i in one.items] == [two_lines.id]
    assert (one.total, one.totals.difference_cents) == (2, 2500)  # the totals cover every match
    other = f.make_payer(db, name="Elsewhere Mutual")
    none = up.list_underpayments(db, actor=w.actor, practice_id=w.practice.id, payer_id=other.id)
    assert (none.items, none.totals.count, none.totals.difference_cents) == ([], 0, 0)
    mine = up.list_underpayments(db, actor=w.actor, practice_id=w.practice.id, payer_id=w.payer.id)
    assert mine.totals.difference_cents == 2500
    with pytest.raises(InvalidInput, match=r"^status:"):
        up.list_underpayments(db, actor=w.actor, practice_id=w.practice.id, status="lost")


def test_resolving_is_audited_once_and_leaves_the_open_list(db: Session, w: World) -> None:
    short, two_lines, _ = _posted(w)
    first, second = up.list_underpayments(db, actor=w.actor, practice_id=w.practice.id).items

    done = up.resolve_underpayment(
        db, actor=w.actor, work_item_id=first.id, action="appealed", note=" ref A-17 "
    )
    up.resolve_underpayment(db, actor=w.actor, work_item_id=second.id, action="accepted")

    assert (done.status, done.resolution) == (
        "resolved",
        "appealed: an appeal was sent to the payer. Note: ref A-17",
    )
    assert done.resolved_by_user_id == w.actor.user_id
    audit = db.scalars(
        select(m.AuditLog).where(m.AuditLog.entity == "work_item", m.AuditLog.entity_id == str(first.id))
    ).one()
    assert audit.after is not None
    assert (audit.after["action"], audit.after["status"]) == ("appealed", "resolved")
    assert up.list_underpayments(db, actor=w.actor, practice_id=w.practice.id).totals.count == 0
    resolved = up.list_underpayments(db, actor=w.actor, practice_id=w.practice.id, status="resolved")
    assert [(i.claim_id, i.actions) for i in resolved.items] == [(short.id, ()), (two_lines.id, ())]
    assert resolved.items[1].resolution == "accepted: the practice accepts the lower amount"
    with pytest.raises(Conflict):
        up.resolve_underpayment(db, actor=w.actor, work_item_id=first.id, action="accepted")


def test_a_reversal_settles_the_alert_and_its_list_entry(db: Session, w: World) -> None:
    claim = w.claim(("90837", 15000))
    short = claim_payment(claim, line("90837", 15000, 7500, ("CO", "45", 5500), ("PR", "3", 2000)))
    w.ingest(remittance(short, trace="T1"))
    assert up.list_underpayments(db, actor=w.actor, practice_id=w.practice.id).totals.difference_cents == 1500
    w.ingest(remittance(reversal_of(short), trace="T2"))

    assert up.list_underpayments(db, actor=w.actor, practice_id=w.practice.id).total == 0
    (settled,) = up.list_underpayments(db, actor=w.actor, practice_id=w.practice.id, status="all").items
    assert settled.status == "resolved"
    assert "reversed" in settled.resolution


def test_the_api_lists_resolves_once_and_refuses_what_it_should(
    client: TestClient, db: Session, w: World
) -> None:
    short, _, _ = _posted(w)
    headers = _headers(client, db, w.actor.user_id)

    listed = client.get("/api/underpayments", headers=headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 2
    assert body["totals"] == {
        "count": 2,
        "allowed_cents": 17500,
        "expected_cents": 20000,
        "difference_cents": 2500,
        "unpriced": 0,
    }
    first = body["items"][0]
    assert (first["claim_id"], first["procedure_code"], first["difference_cents"], first["dated_on"]) == (
        short.id,
        "90837",
        1500,
        "2026-04-10",
    )
    url = f"/api/underpayments/{first['id']}/resolve"

    unknown = client.post(url, json={"action": "ignored"}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "action: 'ignored' is not one of appealed, accepted"
    done = client.post(url, json={"action": "accepted", "note": "small plan"}, headers=headers)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["resolution"], done.json()["actions"]) == (
        "resolved",
        "accepted: the practice accepts the lower amount. Note: small plan",
        [],
    )
    again = client.post(url, json={"action": "appealed"}, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"
    after = client.get("/api/underpayments", headers=headers).json()
    assert (after["total"], after["totals"]["difference_cents"]) == (1, 1000)
    everything = client.get("/api/underpayments", params={"status": "all"}, headers=headers).json()
    assert everything["totals"]["difference_cents"] == 2500

    stranger = f.make_user(db, f.make_practice(db), Role.BILLING)
    stranger.password_hash = password_hash()
    therapist = f.make_user(db, w.practice, Role.THERAPIST)
    therapist.password_hash = password_hash()
    db.flush()
    elsewhere = _headers(client, db, stranger.id)
    second = body["items"][1]["id"]
    refused = client.post(
        f"/api/underpayments/{second}/resolve", json={"action": "accepted"}, headers=elsewhere
    )
    assert refused.status_code == 404
    assert client.get("/api/underpayments", headers=elsewhere).json()["total"] == 0
    assert client.get(f"/api/underpayments?practice_id={w.practice.id}", headers=elsewhere).status_code == 404
    treating = _headers(client, db, therapist.id)
    assert client.get("/api/underpayments", headers=treating).status_code == 403
    with pytest.raises(NotFound):
        up.get_underpayment(db, actor=w.actor, work_item_id=10**9)
    item = db.get(m.WorkItem, second)
    assert item is not None
    assert item.status == "open"


def test_the_page_shows_the_amounts_and_resolves_in_one_click(
    client: TestClient, db: Session, w: World
) -> None:
    short, two_lines, _ = _posted(w)
    first, second = up.list_underpayments(db, actor=w.actor, practice_id=w.practice.id).items
    csrf = _sign_in(client, db, w.actor.user_id)

    page = client.get("/underpayments")
    assert page.status_code == 200, page.text
    assert _text(page.text, first.id).split()[:8] == [
        "Apr",
        "10,",
        "2026",
        "·",
        "Blue",
        "River",
        "Health",
        "·",
    ]
    row = _text(page.text, first.id)
    assert f"Claim {short.number} · 90837" in row
    assert "Allowed $95.00 Expected $110.00 Difference $15.00" in row
    assert f'href="/claims/{two_lines.id}"' in page.text
    assert 'data-difference="2500"' in page.text
    assert "$25.00" in page.text
    assert 'data-nav="underpayments"' in page.text  # the navigation entry

    swapped = client.post(
        f"/underpayments/{first.id}/resolve",
        data={"csrf_token": csrf, "action": "appealed", "note": "sent by fax"},
        headers=HTMX,
    )
    assert swapped.status_code == 200, swapped.text
    assert 'id="underpayment-list"' in swapped.text
    assert "Resolved: appealed: an appeal was sent to the payer. Note: sent by fax." in swapped.text
    assert f'id="underpayment-{first.id}"' not in swapped.text
    assert 'data-difference="1000"' in swapped.text

    refused = client.post(
        f"/underpayments/{first.id}/resolve", data={"csrf_token": csrf, "action": "accepted"}, headers=HTMX
    )
    assert refused.status_code == 200
    assert "is already resolved" in refused.text
    bad = client.post(f"/underpayments/{second.id}/resolve", data={"csrf_token": csrf, "action": "shrug"})
    assert bad.status_code == 422
    assert "action: &#39;shrug&#39; is not one of appealed, accepted" in bad.text

    plain = client.post(
        f"/underpayments/{second.id}/resolve",
        data={"csrf_token": csrf, "action": "accepted", "back": "https://evil.test/"},
        follow_redirects=False,
    )
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/underpayments?done={second.id}"
    landed = client.get(plain.headers["location"])
    assert "Resolved: accepted: the practice accepts the lower amount." in landed.text
    assert "No open underpayment" in landed.text
    resolved = client.get("/underpayments", params={"status": "resolved"})
    assert resolved.text.count('class="list-group-item"') == 2


def test_an_item_whose_line_cannot_be_found_shows_its_title_and_detail(
    client: TestClient, db: Session, w: World
) -> None:
    claim = w.claim(("90837", 15000))
    item = m.WorkItem(
        practice_id=w.practice.id,
        kind="underpayment",
        rule="underpayment",
        severity="warning",
        title=f"Underpaid $12.00: claim {claim.number} line 1 (90837)",
        detail="Blue River Health allowed $98.00 for 90837 on 2026-03-02.",
        dedupe_key="underpayment:by-hand",
        claim_id=claim.id,
        client_id=claim.client_id,
    )
    db.add(item)
    db.flush()
    _sign_in(client, db, w.actor.user_id)

    page = up.list_underpayments(db, actor=w.actor, practice_id=w.practice.id)
    assert (page.items[0].difference_cents, page.totals.unpriced, page.totals.difference_cents) == (
        None,
        1,
        0,
    )
    html = client.get("/underpayments").text
    assert "Blue River Health allowed $98.00" in html
    assert f"Underpaid $12.00: claim {claim.number}" in html
