"""Payer cards computed from the hand-built history (tests/integration/strategies/world.py),
each figure worked out by hand below, and the workflow choice kept as versions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.payer_strategy import Priority, Workflow
from revcycle.errors import InvalidInput, PermissionDenied
from revcycle.services import payer_strategies
from tests import factories as f
from tests.integration.strategies.world import TODAY, History, build_history


@pytest.fixture
def history(db: Session) -> History:
    return build_history(db)


def _cards(history: History) -> dict[str, payer_strategies.PayerCard]:
    found = payer_strategies.cards(
        history.db, actor=history.actor, practice_id=history.practice.id, today=TODAY
    )
    return {card.payer_name: card for card in found}


def test_each_payers_card_is_computed_from_its_claims(history: History) -> None:
    cards = _cards(history)
    assert list(cards) == ["Summit Mutual", "Harbor Health"]  # medium before low
    summit = cards["Summit Mutual"].figures
    # open: a2 denied $200 + a3 partially paid $300 - $180 + a4 $1,500 (sent 06-03: aged)
    assert (summit.open_claims, summit.open_balance_cents, summit.aged_balance_cents) == (3, 182_000, 150_000)
    # paid $120 + $180 on billed $200 + $200 + $300 + $1,500
    assert summit.collection_rate == pytest.approx(30_000 / 220_000)
    # decided lately: a1 paid 30 days after sending, a2 denied after 30, a3 partly paid after 28
    assert (summit.decided, summit.denied) == (3, 1)
    assert summit.avg_days_to_resolve == pytest.approx(88 / 3)
    assert summit.denial_share == pytest.approx(1 / 3)
    harbor = cards["Harbor Health"].figures
    assert (harbor.open_claims, harbor.open_balance_cents, harbor.aged_balance_cents) == (1, 10_000, 0)
    assert harbor.collection_rate == pytest.approx(0.4)
    assert (harbor.decided, harbor.denied, harbor.avg_days_to_resolve) == (1, 0, 30.0)


def test_priority_weighs_the_open_dollars_by_the_lag_behind_the_practice(history: History) -> None:
    cards = _cards(history)
    practice_rate = (30_000 + 8_000) / (220_000 + 20_000)
    lag = (practice_rate - 30_000 / 220_000) / practice_rate  # Summit is not slow: no slowness
    summit = cards["Summit Mutual"]
    assert summit.score_cents == round(182_000 * (1 + lag))
    assert summit.priority is Priority.MEDIUM  # $1,000 .. $5,000 weighted
    harbor = cards["Harbor Health"]
    assert (harbor.score_cents, harbor.priority) == (10_000, Priority.LOW)  # pays better than the practice


def test_with_nothing_chosen_the_card_shows_a_suggestion(history: History) -> None:
    cards = _cards(history)
    harbor = cards["Harbor Health"]
    assert (harbor.workflow, harbor.suggested) == (Workflow.PORTAL, True)
    assert harbor.reason == "billed through its portal"
    summit = cards["Summit Mutual"]  # one denial in three decisions is too few to appeal
    assert (summit.workflow, summit.suggested) == (Workflow.EMAIL, True)


def test_choosing_a_workflow_adds_a_version_and_the_latest_applies(history: History) -> None:
    db, practice_id, payer_id = history.db, history.practice.id, history.summit.id
    for workflow, note in (("phone", "they answer the phone"), ("appeal", "denials keep coming")):
        payer_strategies.choose_workflow(
            db, actor=history.actor, practice_id=practice_id, payer_id=payer_id, workflow=workflow, note=note
        )
    summit = _cards(history)["Summit Mutual"]
    assert (summit.workflow, summit.suggested, summit.reason) == (
        Workflow.APPEAL,
        False,
        "denials keep coming",
    )
    assert summit.chosen_by == history.admin.email
    versions = payer_strategies.strategy_history(db, actor=history.actor, practice_id=practice_id)[payer_id]
    assert [v.workflow for v in versions] == ["appeal", "phone"]
    audited = db.scalar(
        select(func.count()).where(
            m.AuditLog.practice_id == practice_id, m.AuditLog.entity == "payer_strategy"
        )
    )
    assert audited == 2


def test_a_chosen_version_cannot_be_edited_in_the_database(history: History) -> None:
    row = payer_strategies.choose_workflow(
        history.db,
        actor=history.actor,
        practice_id=history.practice.id,
        payer_id=history.summit.id,
        workflow="phone",
    )
    with pytest.raises(DBAPIError), history.db.begin_nested():
        history.db.execute(
            text("UPDATE payer_strategies SET workflow = 'email' WHERE id = :id"), {"id": row.id}
        )


def test_an_unknown_workflow_is_refused_by_name(history: History) -> None:
    with pytest.raises(InvalidInput, match="'fax' is not one of phone, email, portal, appeal, negotiation"):
        payer_strategies.choose_workflow(
            history.db,
            actor=history.actor,
            practice_id=history.practice.id,
            payer_id=history.summit.id,
            workflow="fax",
        )


def test_billing_reads_the_cards_but_only_an_admin_chooses(history: History) -> None:
    billing = f.actor_for(history.db, history.billing)
    assert payer_strategies.cards(history.db, actor=billing, practice_id=history.practice.id, today=TODAY)
    with pytest.raises(PermissionDenied):
        payer_strategies.choose_workflow(
            history.db,
            actor=billing,
            practice_id=history.practice.id,
            payer_id=history.summit.id,
            workflow="phone",
        )


def test_a_practice_with_no_open_claims_has_no_cards(db: Session) -> None:
    practice = f.make_practice(db)
    actor = f.actor_for(db, f.make_user(db, practice))
    assert payer_strategies.cards(db, actor=actor, practice_id=practice.id, today=TODAY) == []
