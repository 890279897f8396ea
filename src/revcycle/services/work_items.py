"""Work items closed by a person: the one way a posting exception or an underpayment is
marked resolved, with who, when, the resolution, and an audit row of the change."""

from __future__ import annotations

from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.services import audit
from revcycle.services.actor import Actor

__all__ = ["mark_resolved"]


def mark_resolved(
    db: Session, *, actor: Actor, item: m.WorkItem, resolution: str, action: str, reason: str = ""
) -> m.WorkItem:
    """Resolve ``item`` as ``resolution`` (the caller has checked it may), audited."""
    before = {"status": item.status, "resolution": item.resolution}
    item.status = "resolved"
    item.resolution = resolution
    item.resolved_by_user_id = actor.user_id
    item.resolved_at = utcnow()
    audit.record(
        db,
        actor=actor,
        practice_id=item.practice_id,
        action="update",
        entity="work_item",
        entity_id=item.id,
        client_ids=[item.client_id] if item.client_id else [],
        before=before,
        after={"status": "resolved", "resolution": item.resolution, "action": action},
        reason=reason,
    )
    db.flush()
    return item
