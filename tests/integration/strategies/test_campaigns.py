"""Campaigns on the hand-built history (tests/integration/strategies/world.py): which claims
join, with what balance, and what the campaign achieved — worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, PermissionDenied
from revcycle.services import campaigns
from revcycle.services.campaigns import CampaignFilter
from tests import factories as f
from tests.integration.strategies.world import TODAY, History, build_history

STARTED = date(2026, 10, 10)


@pytest.fixture
def history(db: Session) -> History:
    return build_history(db)


def _start(history: History, name: str = "Summit calls", **wanted: object) -> tuple[m.Campaign, int]:
    return campaigns.create_campaign(
        history.db,
        actor=history.actor,
        practice_id=history.practice.id,
        name=name,
        workflow="phone",
        wanted=CampaignFilter(**wanted),  # type: ignore[arg-type]
        today=TODAY,
        started_on=STARTED,
    )


def test_a_campaign_started_in_the_past_takes_the_claims_open_then(history: History) -> None:
    # On 10-10 a1 was paid and a2 denied; a3 (sent 10-02) and a4 were waiting on Summit.
    campaign, added = _start(history, payer_id=history.summit.id)
    assert added == 2
    report = campaigns.campaign_report(history.db, actor=history.actor, campaign_id=campaign.id, today=TODAY)
    rows = {row.claim_id: row for row in report.items}
    a3, a4 = history.claims["a3"], history.claims["a4"]
    assert set(rows) == {a3.id, a4.id}
    assert rows[a3.id].balance_at_start_cents == 30_000  # before its payment of 10-30
    assert rows[a3.id].balance_now_cents == 12_000
    assert rows[a4.id].balance_at_start_cents == 150_000
    assert rows[a4.id].work_item_id == history.work_item("a4").id
    assert report.balance_at_start_cents == 180_000


def test_min_age_and_min_balance_narrow_the_claims(history: History) -> None:
    _, old_only = _start(
        history, "Old ones", payer_id=history.summit.id, min_age_days=30
    )  # a3 was 8 days old
    _, large_only = _start(history, "Large ones", min_balance_cents=100_000)  # a4 only, any payer
    _, largest = _start(history, "Largest", limit=1)
    assert (old_only, large_only, largest) == (1, 1, 1)


def test_a_campaign_started_today_takes_the_open_follow_up_items(history: History) -> None:
    # Today only a4 and b2 wait on their payer (a3 is partially paid): one follow-up item each.
    campaign, added = campaigns.create_campaign(
        history.db,
        actor=history.actor,
        practice_id=history.practice.id,
        name="Everyone",
        workflow="email",
        wanted=CampaignFilter(),
        today=TODAY,
    )
    assert added == 2
    assert campaign.started_on == TODAY
    names = campaigns.campaign_names_for_claims(history.db, [c.id for c in history.claims.values()])
    assert names == {history.claims["a4"].id: ["Everyone"], history.claims["b2"].id: ["Everyone"]}


def test_measures_come_from_notes_and_payments_after_joining(history: History) -> None:
    campaign, _ = _start(history, payer_id=history.summit.id)
    history.note("a3", date(2026, 10, 15))  # an attempt on the claim
    history.note("a4", date(2026, 10, 5))  # before it joined: not an attempt
    history.note("a4", date(2026, 10, 20), on_work_item=True)  # an attempt on its work item
    report = campaigns.campaign_report(history.db, actor=history.actor, campaign_id=campaign.id, today=TODAY)
    measures = report.measures
    # a3 paid $180 on 10-30, 20 days after joining; a4 never paid
    assert (measures.items, measures.attempted, measures.paid, measures.paid_after_attempt) == (2, 2, 1, 1)
    assert measures.success_rate == 0.5
    assert (measures.median_days_to_payment, measures.mean_days_to_payment) == (20.0, 20.0)
    assert measures.collected_cents == 18_000
    a3 = next(row for row in report.items if row.claim_id == history.claims["a3"].id)
    assert (a3.outcome.attempts, a3.outcome.first_payment_on, a3.outcome.days_to_payment) == (
        1,
        date(2026, 10, 30),
        20,
    )
    listed = campaigns.list_campaigns(
        history.db, actor=history.actor, practice_id=history.practice.id, today=TODAY
    )
    assert [(c.name, c.measures) for c in listed] == [("Summit calls", measures)]


def test_nothing_attempted_has_no_success_rate(history: History) -> None:
    campaign, _ = _start(history, payer_id=history.summit.id)
    report = campaigns.campaign_report(history.db, actor=history.actor, campaign_id=campaign.id, today=TODAY)
    assert (report.measures.attempted, report.measures.success_rate, report.measures.paid) == (0, None, 1)


def test_a_closed_campaign_stops_measuring_and_changing(history: History) -> None:
    campaign, _ = _start(history, payer_id=history.summit.id)
    history.note("a3", date(2026, 10, 15))
    campaigns.close_campaign(
        history.db, actor=history.actor, campaign_id=campaign.id, today=date(2026, 10, 20)
    )
    # closed on 10-20: a3's payment of 10-30 came after
    report = campaigns.campaign_report(history.db, actor=history.actor, campaign_id=campaign.id, today=TODAY)
    assert (report.status, report.measured_to, report.measures.paid, report.measures.success_rate) == (
        "closed",
        date(2026, 10, 20),
        0,
        0.0,
    )
    with pytest.raises(Conflict, match="is closed"):
        campaigns.add_items(
            history.db, actor=history.actor, campaign_id=campaign.id, wanted=CampaignFilter(), today=TODAY
        )
    assert campaigns.campaign_names_for_claims(history.db, [history.claims["a3"].id]) == {}


def test_items_are_added_by_work_item_and_removed(history: History) -> None:
    campaign, _ = _start(history, payer_id=history.summit.id)
    b2_item = history.work_item("b2")
    added = campaigns.add_items(
        history.db,
        actor=history.actor,
        campaign_id=campaign.id,
        wanted=CampaignFilter(work_item_ids=(b2_item.id,)),
        today=TODAY,
    )
    assert added == 1
    campaigns.remove_item(
        history.db, actor=history.actor, campaign_id=campaign.id, claim_id=history.claims["a4"].id
    )
    report = campaigns.campaign_report(history.db, actor=history.actor, campaign_id=campaign.id, today=TODAY)
    assert {row.claim_id for row in report.items} == {history.claims["a3"].id, history.claims["b2"].id}
    b2 = next(row for row in report.items if row.claim_id == history.claims["b2"].id)
    assert (b2.added_on, b2.balance_at_start_cents) == (TODAY, 10_000)
    audited = history.db.scalar(
        select(func.count()).where(m.AuditLog.entity == "campaign", m.AuditLog.entity_id == str(campaign.id))
    )
    assert audited == 3  # started, added, removed


def test_bad_input_is_refused_by_name(history: History) -> None:
    _start(history, payer_id=history.summit.id)
    with pytest.raises(InvalidInput, match="already exists"):
        _start(history, payer_id=history.summit.id)
    with pytest.raises(InvalidInput, match="give the campaign a name"):
        _start(history, "   ")
    with pytest.raises(InvalidInput, match="'fax' is not one of"):
        campaigns.create_campaign(
            history.db,
            actor=history.actor,
            practice_id=history.practice.id,
            name="Faxes",
            workflow="fax",
            wanted=CampaignFilter(),
            today=TODAY,
        )
    resolved = history.work_item("a4")
    resolved.status = "resolved"
    with pytest.raises(InvalidInput, match=f"not an open follow-up of this practice: {resolved.id}"):
        _start(history, "Explicit", work_item_ids=(resolved.id,))
    with pytest.raises(InvalidInput, match="after today"):
        campaigns.create_campaign(
            history.db,
            actor=history.actor,
            practice_id=history.practice.id,
            name="Tomorrow",
            workflow="phone",
            wanted=CampaignFilter(),
            today=TODAY,
            started_on=date(2026, 11, 21),
        )


def test_a_therapist_cannot_start_a_campaign(history: History) -> None:
    therapist = f.actor_for(history.db, f.make_user(history.db, history.practice, Role.THERAPIST))
    with pytest.raises(PermissionDenied):
        campaigns.create_campaign(
            history.db,
            actor=therapist,
            practice_id=history.practice.id,
            name="Mine",
            workflow="phone",
            wanted=CampaignFilter(),
            today=TODAY,
        )


def test_the_demo_seeding_measures_what_the_history_says(history: History) -> None:
    counts = campaigns.seed_demo_strategies(history.db, history.actor, history.practice.id, TODAY)
    # started 10-09: only a4 was waiting on its payer (Summit) 14+ (and 21+) days after it was sent
    assert counts == {"strategies": 2, "campaigns": 2, "items": 2, "attempts": counts["attempts"]}
    notes = history.db.scalar(select(func.count()).where(m.Note.claim_id == history.claims["a4"].id))
    assert counts["attempts"] == notes
    listed = campaigns.list_campaigns(
        history.db, actor=history.actor, practice_id=history.practice.id, today=TODAY
    )
    assert {c.name for c in listed} == {"Phone sweep: Summit Mutual 14+ days", "Every payer: claims 21+ days"}
    assert all(c.measures.attempted == (notes // 2) for c in listed)
    assert history.db.scalar(select(func.count()).select_from(m.PayerStrategy)) == 2
