"""/payer-strategies, /campaigns and /campaigns/{id}: cards, choosing a workflow, starting,
changing and closing a campaign through the pages; a refusal answers the page with the
message, never a 500. (The pages' "today" is the wall clock's: these tests assert nothing
that depends on it.)"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services.passwords import hash_password
from tests import factories as f
from tests.integration.conftest import PASSWORD, csrf_from, login
from tests.integration.strategies.world import History, build_history


@pytest.fixture
def history(db: Session) -> History:
    world = build_history(db)
    for user in (world.admin, world.billing):
        user.password_hash = hash_password(PASSWORD)
    db.flush()
    return world


def _card(html: str, payer_id: int) -> str:
    match = re.search(
        rf'<div class="card h-100[^"]*" id="payer-{payer_id}".*?</form>\s*</details>', html, re.S
    )
    assert match, f"no card for payer {payer_id}"
    return match.group(0)


def test_billing_sees_a_card_per_payer_and_may_start_campaigns_but_not_choose(
    client: TestClient, history: History
) -> None:
    login(client, history.billing.email)
    page = client.get("/payer-strategies")
    assert page.status_code == 200
    harbor = _card(page.text, history.harbor.id)
    assert "Harbor Health" in harbor
    assert 'data-workflow="portal"' in harbor
    assert 'data-suggested="true"' in harbor
    assert "suggested: billed through its portal" in harbor
    assert "Summit Mutual" in page.text
    assert 'data-testid="choose-form"' not in page.text  # choosing is for administrators
    assert 'data-testid="campaign-form"' in page.text
    assert 'href="/payer-strategies"' in page.text  # in the navigation


def test_an_admin_chooses_a_workflow_and_a_bad_one_is_refused(client: TestClient, history: History) -> None:
    login(client, history.admin.email)
    page = client.get("/payer-strategies")
    token = csrf_from(page.text)
    url = f"/payer-strategies/{history.harbor.id}/workflow"
    refused = client.post(url, data={"csrf_token": token, "workflow": "fax"})
    assert refused.status_code == 422
    assert "&#39;fax&#39; is not one of phone, email, portal, appeal, negotiation" in refused.text
    chosen = client.post(url, data={"csrf_token": token, "workflow": "phone", "note": "they pick up"})
    assert chosen.status_code == 303
    after = client.get(chosen.headers["location"])
    harbor = _card(after.text, history.harbor.id)
    assert 'data-workflow="phone"' in harbor
    assert 'data-suggested="false"' in harbor
    assert f"chosen by {history.admin.email}" in harbor
    assert "they pick up" in harbor
    assert "Workflow chosen" in after.text


def test_a_campaign_is_started_changed_and_closed_through_the_pages(
    client: TestClient, db: Session, history: History
) -> None:
    login(client, history.billing.email)
    listing = client.get("/campaigns")
    assert listing.status_code == 200
    assert 'data-testid="campaigns-empty"' in listing.text
    token = csrf_from(listing.text)
    form = {
        "csrf_token": token,
        "name": "Everyone",
        "workflow": "email",
        "min_age_days": "",
        "min_balance": "",
    }
    started = client.post("/campaigns", data=form)
    assert started.status_code == 303
    page = client.get(started.headers["location"])
    assert page.status_code == 200
    a4, b2 = history.claims["a4"], history.claims["b2"]
    assert f'data-claim="{a4.id}"' in page.text
    assert f'data-claim="{b2.id}"' in page.text
    assert 'data-items="2"' in page.text
    campaign_id = int(started.headers["location"].split("/")[2].split("?")[0])

    again = client.post("/campaigns", data=form)
    assert again.status_code == 422
    assert "a campaign named &#39;Everyone&#39; already exists" in again.text
    assert 'value="Everyone"' in again.text  # what was typed is kept
    nameless = client.post("/campaigns", data={**form, "name": "  "})
    assert (nameless.status_code, "give the campaign a name" in nameless.text) == (422, True)
    bad_money = client.post("/campaigns", data={**form, "name": "Big", "min_balance": "lots"})
    assert bad_money.status_code == 422

    bad_ids = client.post(
        f"/campaigns/{campaign_id}/items", data={"csrf_token": token, "work_item_ids": "x1"}
    )
    assert (bad_ids.status_code, "x1 is not a work item number" in bad_ids.text) == (422, True)
    removed = client.post(f"/campaigns/{campaign_id}/items/{b2.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    assert f'data-claim="{b2.id}"' not in client.get(removed.headers["location"]).text
    readded = client.post(
        f"/campaigns/{campaign_id}/items",
        data={"csrf_token": token, "work_item_ids": str(history.work_item("b2").id)},
    )
    assert readded.status_code == 303
    closed = client.post(f"/campaigns/{campaign_id}/close", data={"csrf_token": token})
    assert closed.status_code == 303
    assert db.scalar(select(m.Campaign.status).where(m.Campaign.id == campaign_id)) == "closed"
    twice = client.post(f"/campaigns/{campaign_id}/close", data={"csrf_token": token})
    assert twice.status_code == 409
    assert "is closed" in twice.text
    listed = client.get("/campaigns")
    assert f'data-campaign="{campaign_id}"' in listed.text
    assert "Closed" in listed.text


def test_a_campaign_started_from_a_payers_card(client: TestClient, history: History) -> None:
    login(client, history.billing.email)
    token = csrf_from(client.get("/payer-strategies").text)
    form = {
        "csrf_token": token,
        "from": "cards",
        "payer_id": str(history.summit.id),
        "workflow": "email",
        "name": "Summit by e-mail",
        "min_age_days": "0",
    }
    started = client.post("/campaigns", data=form)
    assert started.status_code == 303
    page = client.get(started.headers["location"])
    assert "Summit Mutual" in page.text
    assert f'data-claim="{history.claims["a4"].id}"' in page.text
    refused = client.post("/campaigns", data={**form, "min_age_days": "soon"})
    assert refused.status_code == 422
    assert "min_age_days: &#39;soon&#39; is not a whole number" in refused.text
    assert 'data-testid="strategy-cards"' in refused.text  # answered on the cards page


def test_the_api_reads_cards_and_campaigns(client: TestClient, history: History) -> None:
    login(client, history.billing.email)
    token = csrf_from(client.get("/campaigns").text)
    client.post("/campaigns", data={"csrf_token": token, "name": "All", "workflow": "phone"})
    cards = client.get("/api/payer-strategies")
    assert cards.status_code == 200
    by_name = {card["payer_name"]: card for card in cards.json()}
    assert by_name["Harbor Health"]["workflow"] == "portal"
    assert by_name["Summit Mutual"]["open_balance_cents"] == 182_000
    listed = client.get("/api/campaigns").json()
    assert [c["name"] for c in listed] == ["All"]
    one = client.get(f"/api/campaigns/{listed[0]['id']}").json()
    assert {item["claim_id"] for item in one["items"]} == {history.claims["a4"].id, history.claims["b2"].id}
    assert client.get("/api/campaigns/999999").status_code == 404


def test_a_therapist_is_not_shown_the_strategies(client: TestClient, db: Session, history: History) -> None:
    therapist = f.make_user(db, history.practice, Role.THERAPIST)
    therapist.password_hash = hash_password(PASSWORD)
    db.flush()
    login(client, therapist.email)
    assert client.get("/payer-strategies").status_code == 403
    assert client.get("/campaigns").status_code == 403


def test_a_practice_with_nothing_open_shows_an_empty_page(client: TestClient, db: Session) -> None:
    practice = f.make_practice(db)
    admin = f.make_user(db, practice, Role.ADMIN)
    admin.password_hash = hash_password(PASSWORD)
    db.flush()
    login(client, admin.email)
    page = client.get("/payer-strategies")
    assert page.status_code == 200
    assert 'data-testid="strategy-empty"' in page.text
    unknown = client.post(
        "/payer-strategies/999999/workflow", data={"csrf_token": csrf_from(page.text), "workflow": "phone"}
    )
    assert unknown.status_code == 422
    assert "payer 999999 not found" in unknown.text
