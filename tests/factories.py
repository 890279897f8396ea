"""Factory functions for the things tests talk about: a practice, a payer, a client, a session.

They write rows directly (fast, explicit) and flush so ids exist; they never commit.
Services under test are called through their own functions, never replaced.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.npi import make_npi
from revcycle.domain.permissions import Role
from revcycle.services.actor import Actor

_counter = itertools.count(1)


def _n() -> int:
    return next(_counter)


def make_practice(db: Session, *, name: str = "", timezone: str = "America/New_York") -> m.Practice:
    n = _n()
    org = m.Organization(name=name or f"Org {n}")
    practice = m.Practice(
        organization=org,
        name=name or f"Practice {n}",
        timezone=timezone,
        legal_name=f"Practice {n} LLC",
        tax_id=f"{10 + n % 89:02d}-{1000000 + n:07d}",
        group_npi=make_npi(f"1{n:08d}"[:9]),
        taxonomy_code="101YM0800X",
        address_line1="1 Main St",
        city="Newark",
        state="NJ",
        postal_code="07102",
    )
    db.add(practice)
    db.flush()
    return practice


def make_user(
    db: Session, practice: m.Practice | None = None, role: Role | str = Role.BILLING, *, email: str = ""
) -> m.User:
    n = _n()
    user = m.User(email=email or f"user{n}-{role}@example.test", full_name=f"User {n}")
    db.add(user)
    db.flush()
    if practice is not None:
        db.add(m.Membership(user_id=user.id, practice_id=practice.id, role=str(role)))
        db.flush()
    return user


def actor_for(db: Session, user: m.User, source_ip: str = "127.0.0.1") -> Actor:
    roles: dict[int, set[Role]] = {}
    for membership in db.query(m.Membership).filter_by(user_id=user.id):
        roles.setdefault(membership.practice_id, set()).add(Role(membership.role))
    return Actor(user.id, {p: frozenset(r) for p, r in roles.items()}, source_ip=source_ip)


def make_payer(db: Session, *, name: str = "", kind: str = "commercial", edi_payer_id: str = "") -> m.Payer:
    n = _n()
    payer = m.Payer(name=name or f"Payer {n}", kind=kind, edi_payer_id=edi_payer_id or f"{60000 + n}")
    db.add(payer)
    db.flush()
    return payer


def make_provider(db: Session, practice: m.Practice, *, user: m.User | None = None) -> m.Provider:
    n = _n()
    provider = m.Provider(
        practice_id=practice.id,
        user_id=user.id if user else None,
        first_name=f"Dana{n}",
        last_name=f"Clinician{n}",
        credentials="LCSW",
        npi=make_npi(f"1{n + 50000000:08d}"[:9]),
        taxonomy_code="1041C0700X",
    )
    db.add(provider)
    db.flush()
    return provider


def make_client(db: Session, practice: m.Practice, *, user: m.User | None = None) -> m.Client:
    n = _n()
    client = m.Client(
        practice_id=practice.id,
        first_name=f"Alex{n}",
        last_name=f"Client{n}",
        date_of_birth=date(1985, 1, 1) + timedelta(days=n),
        sex="F",
        user_id=user.id if user else None,
    )
    db.add(client)
    db.flush()
    return client


def make_guarantor(db: Session, client: m.Client) -> m.Guarantor:
    guarantor = m.Guarantor(
        practice_id=client.practice_id,
        client_id=client.id,
        first_name=client.first_name,
        last_name=client.last_name,
    )
    db.add(guarantor)
    db.flush()
    return guarantor


def make_coverage(db: Session, client: m.Client, payer: m.Payer, *, priority: str = "primary") -> m.Coverage:
    coverage = m.Coverage(
        practice_id=client.practice_id,
        client_id=client.id,
        payer_id=payer.id,
        member_id=f"M{_n():08d}",
        priority=priority,
        effective_on=date(2020, 1, 1),
    )
    db.add(coverage)
    db.flush()
    return coverage


def make_session(
    db: Session,
    practice: m.Practice,
    client: m.Client,
    provider: m.Provider,
    *,
    starts_at: datetime | None = None,
    code: str = "90837",
    fee_cents: int = 15000,
    note_status: str = "locked",
    appointment_status: str = "show",
) -> m.ServiceSession:
    starts_at = starts_at or datetime(2026, 3, 2, 15, 0, tzinfo=UTC) + timedelta(minutes=_n())
    session = m.ServiceSession(
        practice_id=practice.id,
        client_id=client.id,
        provider_id=provider.id,
        starts_at=starts_at,
        service_on=starts_at.date(),
        duration_minutes=55,
        appointment_status=appointment_status,
        note_status=note_status,
    )
    db.add(session)
    db.flush()
    db.add(
        m.Charge(
            practice_id=practice.id,
            session_id=session.id,
            procedure_code=code,
            fee_cents=fee_cents,
            diagnosis_codes=["F41.1"],
        )
    )
    db.flush()
    return session


def make_claim(
    db: Session,
    session: m.ServiceSession,
    coverage: m.Coverage,
    *,
    status: str = "draft",
) -> m.Claim:
    charges = list(session.charges)
    claim = m.Claim(
        practice_id=session.practice_id,
        number=f"C{_n():08d}",
        client_id=session.client_id,
        provider_id=session.provider_id,
        payer_id=coverage.payer_id,
        coverage_id=coverage.id,
        status=status,
        service_from_on=session.service_on,
        service_to_on=session.service_on,
        billed_cents=sum(c.fee_cents for c in charges),
    )
    db.add(claim)
    db.flush()
    for number, charge in enumerate(charges, start=1):
        db.add(
            m.ClaimLine(
                practice_id=claim.practice_id,
                claim_id=claim.id,
                charge_id=charge.id,
                line_number=number,
                procedure_code=charge.procedure_code,
                units=charge.units,
                charge_cents=charge.fee_cents,
                service_on=session.service_on,
            )
        )
    db.flush()
    return claim
