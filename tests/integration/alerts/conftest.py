"""A practice ready to bill (the claims tests' ``office``) with its people: a director and an
administrator (admins), a biller and a therapist; and a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services.actor import Actor
from tests import factories as f
from tests.integration.claims.conftest import Office, office

__all__ = ["NOW", "Clinic", "clinic", "office"]

# 10:00 in New York on Friday 20 March 2026: the practice's "today" is 2026-03-20.
NOW = datetime(2026, 3, 20, 14, 0, tzinfo=UTC)


@dataclass
class Clinic:
    office: Office
    admin: m.User
    director: m.User
    therapist: m.User

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.office.db

    @property
    def practice(self) -> m.Practice:
        return self.office.practice

    @property
    def biller(self) -> m.User:
        return self.office.user

    def actor(self, user: m.User) -> Actor:
        return f.actor_for(self.db, user)


@pytest.fixture
def clinic(office: Office) -> Clinic:
    db = office.db
    admin = f.make_user(db, office.practice, Role.ADMIN, email=f"admin{office.practice.id}@example.test")
    director = f.make_user(
        db, office.practice, Role.ADMIN, email=f"director{office.practice.id}@example.test"
    )
    therapist = f.make_user(db, office.practice, Role.THERAPIST)
    return Clinic(office, admin, director, therapist)
