"""Housekeeping the worker does on a timer: end stale web sessions, check the books.

Both are plain services (a session in, rows changed, nothing committed) so that the Huey
tasks stay thin and the tests call them directly on a rolled-back transaction.

A ledger discrepancy is not fixed here: it opens one critical alert per practice and day
(the dedupe key keeps a second run from opening another) for an administrator to look at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from revcycle.config import Settings
from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.errors import PermissionDenied
from revcycle.services.actor import Actor

__all__ = ["LedgerCheckOutcome", "check_books", "end_stale_web_sessions", "open_alert"]

LEDGER_ALERT_RULE = "ledger_check"


def end_stale_web_sessions(session: Session, settings: Settings, *, now: datetime | None = None) -> int:
    """End open web sessions past their absolute lifetime or idle timeout; return how many."""
    now = now or utcnow()
    open_session = m.WebSession.ended_at.is_(None)
    expired = session.execute(
        update(m.WebSession)
        .where(open_session, m.WebSession.created_at < now - timedelta(hours=settings.session_absolute_hours))
        .values(ended_at=now, ended_reason="expired")
        .execution_options(synchronize_session=False)
    )
    idle = session.execute(
        update(m.WebSession)
        .where(
            open_session, m.WebSession.last_seen_at < now - timedelta(minutes=settings.session_idle_minutes)
        )
        .values(ended_at=now, ended_reason="idle")
        .execution_options(synchronize_session=False)
    )
    revoked = session.execute(
        update(m.WebSession)
        .where(
            open_session,
            m.WebSession.user_id.in_(
                select(m.User.id).where(
                    or_(m.User.is_active.is_(False), m.User.token_version != m.WebSession.token_version)
                )
            ),
        )
        .values(ended_at=now, ended_reason="revoked")
        .execution_options(synchronize_session=False)
    )
    return sum(result.rowcount or 0 for result in (expired, idle, revoked))  # type: ignore[attr-defined,misc]


def open_alert(
    session: Session,
    *,
    practice_id: int,
    title: str,
    detail: str,
    rule: str,
    dedupe_key: str,
    severity: str = "critical",
) -> tuple[m.WorkItem, bool]:
    """The open work item with this dedupe key, or a new alert; True when it was created."""
    existing = session.scalars(
        select(m.WorkItem).where(m.WorkItem.practice_id == practice_id, m.WorkItem.dedupe_key == dedupe_key)
    ).first()
    if existing is not None:
        return existing, False
    item = m.WorkItem(
        practice_id=practice_id,
        kind="alert",
        severity=severity,
        title=title[:200],
        detail=detail,
        rule=rule,
        dedupe_key=dedupe_key,
    )
    session.add(item)
    session.flush()
    return item, True


@dataclass(frozen=True)
class LedgerCheckOutcome:
    practice_id: int
    problems: Sequence[str]
    alert_id: int | None


def check_books(session: Session, *, actor: Actor, now: datetime | None = None) -> list[LedgerCheckOutcome]:
    """Recompute every practice's balances from its postings; alert on any difference.

    Only the system (the nightly job, the CLI) runs it: it reads every practice's books.
    """
    if not actor.is_system:
        raise PermissionDenied("the ledger check runs as the system")
    from revcycle.services.ledger import check_ledger

    now = now or utcnow()
    outcomes: list[LedgerCheckOutcome] = []
    for practice_id in session.scalars(select(m.Practice.id).order_by(m.Practice.id)):
        problems = [f"{p.where}: {p.message}" for p in check_ledger(session, practice_id).problems()]
        alert_id = None
        if problems:
            item, _ = open_alert(
                session,
                practice_id=practice_id,
                title=f"Ledger check found {len(problems)} discrepanc{'y' if len(problems) == 1 else 'ies'}",
                detail="\n".join(problems[:50]),
                rule=LEDGER_ALERT_RULE,
                dedupe_key=f"{LEDGER_ALERT_RULE}:{now.date().isoformat()}",
            )
            alert_id = item.id
        outcomes.append(LedgerCheckOutcome(practice_id, problems, alert_id))
    return outcomes
