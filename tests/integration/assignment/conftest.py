"""A practice with a billing team, and open claims of a chosen age, balance and payer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger import Account, PostingLine
from revcycle.domain.ledger_events import TransactionKind
from revcycle.domain.permissions import Role
from revcycle.services import ledger
from revcycle.services.actor import Actor, system_actor
from tests import factories as f

TODAY = date(2026, 6, 1)


@dataclass
class Book:
    db: Session
    practice: m.Practice
    admin: Actor
    billing: Actor
    provider: m.Provider

    def agent(self, team: m.Team | None, name: str) -> m.User:
        user = f.make_user(self.db, self.practice, Role.BILLING)
        user.full_name = name
        membership = self.db.scalar(select(m.Membership).where(m.Membership.user_id == user.id))
        assert membership is not None
        membership.team_id = team.id if team else None
        self.db.flush()
        return user

    def team(self, name: str) -> m.Team:
        team = m.Team(practice_id=self.practice.id, name=name)
        self.db.add(team)
        self.db.flush()
        return team

    def claim(
        self,
        *,
        served_on: date,
        balance_cents: int,
        payer: m.Payer | None = None,
        billed_cents: int = 15_000,
        status: str = "accepted",
        team: m.Team | None = None,
        user: m.User | None = None,
    ) -> m.Claim:
        """A claim served on ``served_on`` billed ``billed_cents`` whose insurance balance is
        ``balance_cents`` (an opening balance posted on it)."""
        client = f.make_client(self.db, self.practice)
        coverage = f.make_coverage(self.db, client, payer or f.make_payer(self.db))
        session = f.make_session(
            self.db,
            self.practice,
            client,
            self.provider,
            starts_at=datetime.combine(served_on, time(15), tzinfo=UTC),
            fee_cents=billed_cents,
        )
        claim = f.make_claim(self.db, session, coverage, status=status)
        claim.assignee_team_id = team.id if team else None
        claim.assignee_user_id = user.id if user else None
        if balance_cents:
            self._post(
                claim, TransactionKind.OPENING_BALANCE, balance_cents, Account.OPENING_BALANCE, served_on
            )
        self.db.flush()
        return claim

    def pay(self, claim: m.Claim, cents: int, on: date) -> None:
        """The payer pays ``cents`` on the claim."""
        self._post(claim, TransactionKind.INSURANCE_PAYMENT, -cents, Account.CASH, on)

    def _post(self, claim: m.Claim, kind: str, ar_cents: int, other: Account, on: date) -> None:
        ledger.post_transaction(
            self.db,
            actor=system_actor("test"),
            practice_id=self.practice.id,
            kind=kind,
            accounting_on=on,
            lines=[
                PostingLine(
                    Account.AR_INSURANCE,
                    ar_cents,
                    claim_id=claim.id,
                    client_id=claim.client_id,
                    coverage_id=claim.coverage_id,
                    payer_id=claim.payer_id,
                ),
                PostingLine(other, -ar_cents),
            ],
        )


@pytest.fixture
def book(db: Session) -> Book:
    practice = f.make_practice(db)
    admin = f.actor_for(db, f.make_user(db, practice, Role.ADMIN))
    billing = f.actor_for(db, f.make_user(db, practice, Role.BILLING))
    return Book(db, practice, admin, billing, f.make_provider(db, practice))
