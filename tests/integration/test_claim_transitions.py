"""Claim status changes: the table decides, a compare-and-set saves, events and audit rows
record every change, and two writers racing on one claim cannot both win."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus, EventSource
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from revcycle.services import audit
from revcycle.services.actor import Actor, system_actor
from revcycle.services.claims import transition_claim
from tests import factories as f

S = ClaimStatus


def _claim(db: Session, status: str = "draft") -> m.Claim:
    practice = f.make_practice(db)
    client = f.make_client(db, practice)
    coverage = f.make_coverage(db, client, f.make_payer(db))
    session = f.make_session(db, practice, client, f.make_provider(db, practice))
    return f.make_claim(db, session, coverage, status=status)


def _billing(db: Session, claim: m.Claim) -> Actor:
    return f.actor_for(db, f.make_user(db, db.get_one(m.Practice, claim.practice_id), Role.BILLING))


def _events(db: Session, claim: m.Claim) -> list[tuple[str | None, str, str]]:
    rows = db.scalars(select(m.ClaimEvent).where(m.ClaimEvent.claim_id == claim.id).order_by(m.ClaimEvent.id))
    return [(e.from_status, e.to_status, e.source) for e in rows]


def _audit_rows(db: Session, claim: m.Claim) -> int:
    query = select(func.count()).where(
        m.AuditLog.practice_id == claim.practice_id, m.AuditLog.entity == "claim"
    )
    return db.scalar(query) or 0


def test_the_allowed_path_to_paid_writes_one_event_per_step(db: Session) -> None:
    claim = _claim(db)
    actor = _billing(db, claim)
    path = [
        (S.READY, EventSource.USER),
        (S.SUBMITTED, EventSource.USER),
        (S.ACKNOWLEDGED, EventSource.X12_999),
        (S.ACCEPTED, EventSource.X12_277CA),
        (S.PAID, EventSource.X12_835),
    ]
    before = claim.status_changed_at

    for target, source in path:
        moved = transition_claim(db, actor=actor, claim_id=claim.id, target=target, source=source,
                                 detail=f"to {target}")
        assert moved.status == target

    assert _events(db, claim) == [
        ("draft", "ready", "user"),
        ("ready", "submitted", "user"),
        ("submitted", "acknowledged", "999"),
        ("acknowledged", "accepted", "277CA"),
        ("accepted", "paid", "835"),
    ]
    event = db.scalars(select(m.ClaimEvent).where(m.ClaimEvent.claim_id == claim.id)).first()
    assert event is not None
    assert (event.actor_user_id, event.detail) == (actor.user_id, "to ready")
    assert claim.status_changed_at > before
    assert _audit_rows(db, claim) == len(path)
    assert audit.verify_chain(db, claim.practice_id) == []


def test_a_payer_decision_may_skip_steps(db: Session) -> None:
    claim = _claim(db, "submitted")
    transition_claim(db, actor=system_actor("835"), claim_id=claim.id, target="denied", source="835")
    assert claim.status == "denied"


def test_a_refused_transition_writes_nothing(db: Session) -> None:
    claim = _claim(db)
    actor = _billing(db, claim)

    with pytest.raises(InvalidInput, match="cannot go from draft to paid; from draft it may go to"):
        transition_claim(db, actor=actor, claim_id=claim.id, target=S.PAID, source=EventSource.USER)

    db.expire_all()
    assert db.get_one(m.Claim, claim.id).status == "draft"
    assert _events(db, claim) == []
    assert _audit_rows(db, claim) == 0


def test_paid_is_locked_except_by_a_correction(db: Session) -> None:
    claim = _claim(db, "paid")
    actor = _billing(db, claim)

    with pytest.raises(InvalidInput, match="locked except by a correction"):
        transition_claim(db, actor=actor, claim_id=claim.id, target=S.ACCEPTED, source="835")
    transition_claim(db, actor=actor, claim_id=claim.id, target=S.ACCEPTED, source="835",
                     detail="CLP02 22", correction=True)

    assert _events(db, claim) == [("paid", "accepted", "835")]


def test_unknown_words_are_refused_clearly(db: Session) -> None:
    claim = _claim(db)
    actor = _billing(db, claim)
    with pytest.raises(InvalidInput, match="'sent' is not a claim status"):
        transition_claim(db, actor=actor, claim_id=claim.id, target="sent", source="user")
    with pytest.raises(InvalidInput, match="'fax' is not a claim event source"):
        transition_claim(db, actor=actor, claim_id=claim.id, target="ready", source="fax")


def test_another_practices_claim_does_not_exist_for_the_actor(db: Session) -> None:
    claim = _claim(db)
    stranger = f.actor_for(db, f.make_user(db, f.make_practice(db), Role.ADMIN))
    therapist = f.actor_for(
        db, f.make_user(db, db.get_one(m.Practice, claim.practice_id), Role.THERAPIST)
    )

    with pytest.raises(NotFound, match=f"claim {claim.id} not found"):
        transition_claim(db, actor=stranger, claim_id=claim.id, target="ready", source="user")
    with pytest.raises(NotFound):
        transition_claim(db, actor=system_actor(), claim_id=10**9, target="ready", source="user")
    with pytest.raises(PermissionDenied):
        transition_claim(db, actor=therapist, claim_id=claim.id, target="ready", source="user")


# --- a real race, on PostgreSQL ----------------------------------------------------------


def _committed_claim(engine: Engine) -> int:
    """A claim committed in 'submitted' (events and audit rows stay in the throwaway database)."""
    with Session(engine) as session:
        claim = _claim(session, "submitted")
        session.commit()
        return claim.id


def _wait_until_blocked(engine: Engine, timeout_s: float = 10.0) -> None:
    """Until some other connection of this database waits on a lock."""
    deadline = time.monotonic() + timeout_s
    with engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if waiting:
                return
            watcher.rollback()
            time.sleep(0.02)
    raise AssertionError("the second writer never blocked on the claim row")


def test_two_writers_racing_on_one_claim_exactly_one_wins(committing_postgresql_engine: Engine) -> None:
    engine = committing_postgresql_engine
    claim_id = _committed_claim(engine)
    first_updated = threading.Event()
    outcomes: dict[str, object] = {}

    def writer(name: str, target: ClaimStatus, before_commit: Callable[[], None]) -> None:
        with Session(engine) as session:
            try:
                transition_claim(session, actor=system_actor(name), claim_id=claim_id,
                                 target=target, source=EventSource.X12_277CA)
                before_commit()
                session.commit()
                outcomes[name] = "won"
            except (Conflict, InvalidInput) as refused:
                session.rollback()
                outcomes[name] = refused

    def first_waits_for_second() -> None:
        first_updated.set()
        _wait_until_blocked(engine)  # the second has read 'submitted' and waits on our row

    first = threading.Thread(target=writer, args=("first", S.ACCEPTED, first_waits_for_second))
    first.start()
    assert first_updated.wait(10)
    second = threading.Thread(target=writer, args=("second", S.REJECTED, lambda: None))
    second.start()
    first.join(20)
    second.join(20)

    assert outcomes["first"] == "won"
    assert isinstance(outcomes["second"], Conflict), outcomes
    assert "changed meanwhile" in str(outcomes["second"])
    with Session(engine) as session:
        assert session.get_one(m.Claim, claim_id).status == "accepted"
        events = session.scalars(select(m.ClaimEvent.to_status).where(m.ClaimEvent.claim_id == claim_id))
        assert list(events) == ["accepted"]
