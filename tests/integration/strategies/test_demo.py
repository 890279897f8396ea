"""The demo's strategies and campaigns, seeded on a small demo practice: the measures come out
of the demo's own payments and the seeded attempts."""

from __future__ import annotations

import datetime

from sqlalchemy.orm import Session

from revcycle.services import campaigns, payer_strategies
from revcycle.services.actor import system_actor
from revcycle.services.demo import build_demo

TODAY = datetime.date(2026, 6, 15)


def test_the_demo_gets_chosen_workflows_and_two_measured_campaigns(db: Session) -> None:
    summary = build_demo(db, scale=0.05, today=TODAY)
    actor = system_actor("demo")
    practice_id = summary.practice_id
    assert practice_id is not None
    cards = payer_strategies.cards(db, actor=actor, practice_id=practice_id, today=TODAY)
    listed = campaigns.list_campaigns(db, actor=actor, practice_id=practice_id, today=TODAY)
    assert summary.campaigns == 2
    assert sum(1 for card in cards if not card.suggested) == 3
    assert len(listed) == 2
    for report in listed:
        assert report.started_on == TODAY - datetime.timedelta(days=42)
        assert report.measures.attempted > 0
        assert report.measures.attempted <= report.measures.items
        assert report.measures.paid > 0
        assert report.measures.success_rate is not None
        assert 0 < report.measures.success_rate <= 1
        assert report.measures.median_days_to_payment is not None
    # seeding twice adds no campaign
    again = campaigns.seed_demo_strategies(db, actor, practice_id, TODAY)
    assert again["campaigns"] == 0
