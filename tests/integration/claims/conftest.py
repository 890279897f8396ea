"""A practice ready to bill: billing entity with ZIP+4, a client with an address and a
primary coverage, a clinician, a payer with the practice's settings, and a billing specialist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services.actor import Actor
from tests import factories as f

TODAY = date(2026, 3, 20)


@dataclass
class Office:
    db: Session
    practice: m.Practice
    user: m.User
    actor: Actor
    client: m.Client
    provider: m.Provider
    payer: m.Payer
    settings: m.PracticePayer
    coverage: m.Coverage

    def visit(
        self, hour: int = 15, *, day: int = 2, code: str = "90837", **kwargs: object
    ) -> m.ServiceSession:
        starts = datetime(2026, 3, day, hour, 0, tzinfo=UTC)
        return f.make_session(
            self.db, self.practice, self.client, self.provider, starts_at=starts, code=code, **kwargs
        )  # type: ignore[arg-type]


@pytest.fixture
def office(db: Session) -> Office:
    practice = f.make_practice(db)
    practice.postal_code = "071021234"
    user = f.make_user(db, practice, Role.BILLING)
    client = f.make_client(db, practice)
    client.address_line1, client.city, client.state, client.postal_code = "5 Elm St", "Newark", "NJ", "07103"
    provider = f.make_provider(db, practice)
    payer = f.make_payer(db, name="Aetna")
    settings = m.PracticePayer(practice_id=practice.id, payer_id=payer.id, timely_filing_days=90)
    db.add(settings)
    coverage = f.make_coverage(db, client, payer)
    db.flush()
    return Office(db, practice, user, f.actor_for(db, user), client, provider, payer, settings, coverage)


@pytest.fixture
def availity(office: Office) -> m.InsurancePortal:
    """The payer's portal, made its billing route and default portal."""
    portal = m.InsurancePortal(practice_id=office.practice.id, name="Availity", url="https://availity.com")
    office.db.add(portal)
    office.db.flush()
    office.settings.billing_route = "portal"
    office.settings.portal_id = portal.id
    office.db.flush()
    return portal
