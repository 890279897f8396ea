"""The AR portfolio import assigns teams by the organization's saved rules (the AR engine's
defaults until it saves its own)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ar_rules import claim_number_for
from revcycle.domain.assignment import DEFAULT_RULES, AssignmentRule
from revcycle.domain.permissions import Role
from revcycle.services import assignment
from revcycle.services.imports.ar_portfolio import ArPortfolioHandler
from tests import factories as f
from tests.integration.imports_ar.conftest import TODAY, Portfolio
from tests.integration.imports_ar.test_ar_portfolio import FILE_A, LONG_REF, TEAMS_A


@pytest.fixture
def portfolio(db: Session) -> Portfolio:
    practice = f.make_practice(db)
    user = f.make_user(db, practice, Role.BILLING)
    return Portfolio(db, practice, f.actor_for(db, user), ArPortfolioHandler(today=lambda: TODAY))


def _teams(portfolio: Portfolio) -> dict[str, str]:
    rows = portfolio.db.execute(
        select(m.Claim.number, m.Team.name)
        .join(m.Team, m.Team.id == m.Claim.assignee_team_id)
        .where(m.Claim.practice_id == portfolio.practice.id)
    )
    return dict(rows.all())


def test_the_import_follows_the_saved_rules(portfolio: Portfolio) -> None:
    admin = f.actor_for(portfolio.db, f.make_user(portfolio.db, portfolio.practice, Role.ADMIN))
    medicaid_first = [
        AssignmentRule("medicaid", team_name="Medicaid Desk", payer_kinds=frozenset({"medicaid"})),
        AssignmentRule(
            "medicare to a person", user_id=admin.user_id, payer_kinds=frozenset({"medicare"})
        ),  # passed over by the import
        *DEFAULT_RULES,
    ]
    assignment.save_rules(portfolio.db, actor=admin, practice_id=portfolio.practice.id, rules=medicaid_first)
    batch, _ = portfolio.stage(FILE_A)
    portfolio.commit(batch)
    long_ref = claim_number_for(LONG_REF)  # NJ FamilyCare, 100 days: was Escalation Team
    assert _teams(portfolio) == {**TEAMS_A, "CLM-1006": "Medicaid Desk", long_ref: "Medicaid Desk"}


def test_without_saved_rules_the_import_assigns_as_before(portfolio: Portfolio) -> None:
    batch, _ = portfolio.stage(FILE_A)
    portfolio.commit(batch)
    assert _teams(portfolio) == TEAMS_A
