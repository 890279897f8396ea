"""Work items closed by a person (:func:`mark_resolved`: the one way a posting exception or
an underpayment is marked resolved, with who, when, the resolution, and an audit row), and
work items a job keeps in step with the data (:func:`sync_items`: the follow-up rebuild, the
appeal deadline alerts).

A job's items are known by their dedupe key. :func:`sync_items` is given the items the job
owns now and the values each key should have: a missing key's item is created, a resolved
one that is wanted again is reopened, one whose compared fields differ is updated, and an
open one no longer wanted is resolved with the job's resolution. Running it twice on the same
data changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Protocol

from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.services import audit
from revcycle.services.actor import Actor

__all__ = ["SyncCounts", "audit_sync", "mark_resolved", "sync_items"]


class SyncCounts(Protocol):
    """What a job's run counts (its own dataclass, with these fields)."""

    created: int
    updated: int
    reopened: int
    resolved: int
    unchanged: int


def sync_items(
    db: Session,
    *,
    practice_id: int,
    existing: Mapping[str, m.WorkItem],
    wanted: Mapping[str, Mapping[str, Any]],
    compared: Sequence[str],
    resolution: str,
    actor: Actor,
    counts: SyncCounts,
    new_values: Mapping[str, Any] | None = None,
) -> None:
    """Make the job's items (``existing``, by dedupe key) say what ``wanted`` says; counts what
    it did into ``counts``. ``new_values`` are set only on a created item (its kind, rule...)."""
    for key, values in wanted.items():
        item = existing.get(key)
        if item is None:
            db.add(
                m.WorkItem(
                    practice_id=practice_id, dedupe_key=key, status="open", **(new_values or {}), **values
                )
            )
            counts.created += 1
            continue
        if item.status == "resolved":
            item.status, item.resolution, item.resolved_at, item.resolved_by_user_id = "open", "", None, None
            counts.reopened += 1
        elif any(getattr(item, name) != values[name] for name in compared):
            counts.updated += 1
        else:
            counts.unchanged += 1
            continue
        for name in compared:
            setattr(item, name, values[name])
    now = utcnow()
    for key, item in existing.items():
        if key not in wanted and item.status != "resolved":
            item.status, item.resolution, item.resolved_at, item.resolved_by_user_id = (
                "resolved",
                resolution,
                now,
                actor.user_id,
            )
            counts.resolved += 1
    db.flush()


def audit_sync(
    db: Session,
    *,
    actor: Actor,
    practice_id: int,
    entity: str,
    today: date,
    counts: SyncCounts,
    reason: str,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """One audit row for a run that changed something (none for a run that changed nothing)."""
    after = {
        "created": counts.created,
        "updated": counts.updated,
        "reopened": counts.reopened,
        "resolved": counts.resolved,
        **(extra or {}),
    }
    if counts.created + counts.updated + counts.reopened + counts.resolved:
        audit.record(
            db,
            actor=actor,
            practice_id=practice_id,
            action="update",
            entity=entity,
            entity_id=today.isoformat(),
            after=after,
            reason=reason,
        )


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
