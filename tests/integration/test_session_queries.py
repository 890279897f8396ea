"""services.sessions: stages derived in bulk (no query per session) and scoped by actor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.domain.pipeline import PipelineStage
from revcycle.services.sessions import SessionFilters, list_sessions, stage_counts
from tests import factories as f


@contextmanager
def counting(db: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    connection = db.connection()

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", count)


def _sessions(db: Session, how_many: int) -> tuple[Any, Any]:
    practice = f.make_practice(db)
    billing = f.make_user(db, practice, Role.BILLING)
    provider = f.make_provider(db, practice)
    payer = f.make_payer(db)
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    for index in range(how_many):
        client = f.make_client(db, practice)
        session = f.make_session(db, practice, client, provider, starts_at=start + timedelta(hours=index))
        if index % 2:
            f.make_claim(db, session, f.make_coverage(db, client, payer), status="submitted")
    return practice, f.actor_for(db, billing)


def test_a_page_of_sessions_costs_the_same_queries_whatever_its_size(db: Session) -> None:
    small_practice, small_actor = _sessions(db, 2)
    large_practice, large_actor = _sessions(db, 20)
    with counting(db) as small:
        list_sessions(db, actor=small_actor, practice_id=small_practice.id, limit=50)
    with counting(db) as large:
        page = list_sessions(db, actor=large_actor, practice_id=large_practice.id, limit=50)
    assert len(page.items) == 20
    assert len(large) == len(small)


def test_stages_are_derived_and_counted(db: Session) -> None:
    practice, actor = _sessions(db, 4)
    counts = stage_counts(db, actor=actor, practice_id=practice.id)
    assert counts[PipelineStage.SUBMITTED] == 2
    assert counts[PipelineStage.DOCUMENTED] == 2
    only = list_sessions(
        db,
        actor=actor,
        practice_id=practice.id,
        filters=SessionFilters(stage=PipelineStage.SUBMITTED),
        limit=1,
    )
    assert only.total == 2
    assert len(only.items) == 1
    assert only.items[0].stage is PipelineStage.SUBMITTED


def test_each_session_carries_its_filing_deadline(db: Session) -> None:
    practice = f.make_practice(db)
    actor = f.actor_for(db, f.make_user(db, practice, Role.BILLING))
    provider = f.make_provider(db, practice)
    payer = f.make_payer(db)
    db.add(m.PracticePayer(practice_id=practice.id, payer_id=payer.id, timely_filing_days=90))
    insured, uninsured = f.make_client(db, practice), f.make_client(db, practice)
    coverage = f.make_coverage(db, insured, payer)
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    unbilled = f.make_session(db, practice, insured, provider, starts_at=start)
    billed = f.make_session(db, practice, insured, provider, starts_at=start + timedelta(days=1))
    claim = f.make_claim(db, billed, coverage, status="submitted")
    claim.timely_filing_on = date(2026, 5, 1)
    nobody = f.make_session(db, practice, uninsured, provider, starts_at=start + timedelta(days=2))
    db.flush()
    rows = {row.id: row for row in list_sessions(db, actor=actor, practice_id=practice.id).items}
    assert rows[unbilled.id].filing_deadline_on == date(2026, 5, 31)
    assert rows[billed.id].filing_deadline_on == date(2026, 5, 1)
    assert rows[nobody.id].filing_deadline_on is None
    by_payer = list_sessions(
        db, actor=actor, practice_id=practice.id, filters=SessionFilters(payer_id=payer.id)
    )
    assert {row.id for row in by_payer.items} == {unbilled.id, billed.id}


def test_no_filing_deadline_for_missed_self_pay_or_settled_sessions(db: Session) -> None:
    practice = f.make_practice(db)
    actor = f.actor_for(db, f.make_user(db, practice, Role.BILLING))
    provider = f.make_provider(db, practice)
    payer = f.make_payer(db)
    db.add(m.PracticePayer(practice_id=practice.id, payer_id=payer.id, timely_filing_days=90))
    client = f.make_client(db, practice)
    coverage = f.make_coverage(db, client, payer)
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

    def visit(days: int, **kwargs: Any) -> m.ServiceSession:
        starts_at = start + timedelta(days=days)
        return f.make_session(db, practice, client, provider, starts_at=starts_at, **kwargs)

    late_cancel = visit(0, appointment_status="late_cancel")
    self_pay = visit(1)
    self_pay.self_pay = True
    paid = visit(2)
    f.make_claim(db, paid, coverage, status="paid")
    denied = visit(3)
    denied_claim = f.make_claim(db, denied, coverage, status="denied")
    denied_claim.timely_filing_on = None  # falls back on the payer's limit from the claim's date
    voided = visit(4)
    f.make_claim(db, voided, coverage, status="void")
    db.flush()
    rows = {row.id: row for row in list_sessions(db, actor=actor, practice_id=practice.id).items}
    assert rows[late_cancel.id].filing_deadline_on is None
    assert rows[self_pay.id].filing_deadline_on is None
    assert rows[paid.id].filing_deadline_on is None
    assert rows[denied.id].filing_deadline_on == date(2026, 3, 5) + timedelta(days=90)
    assert rows[voided.id].filing_deadline_on is None  # every claim void: not billable
