"""What the smaller SimplePractice reports share: the practice's zone, session look-ups and
the flag bookkeeping of a row (a row is ``flagged`` only when it raises a flag not raised
before, so importing the same report again is all unchanged)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db.models import Practice, ServiceSession
from revcycle.services.imports.flags import FlagSpec

__all__ = ["RowPlan", "SessionIndex", "practice_zone", "to_utc"]


def practice_zone(session: Session, practice_id: int) -> ZoneInfo:
    return ZoneInfo(session.get_one(Practice, practice_id).timezone)


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


@dataclass
class SessionIndex:
    """The practice's sessions on some dates, by (client, clinician, day) and exact start."""

    by_day: dict[tuple[int, int, date], list[tuple[int, datetime, str, int | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @classmethod
    def load(cls, session: Session, practice_id: int, first: date, last: date) -> SessionIndex:
        index = cls()
        for sid, client_id, provider_id, starts_at, on, status, minutes in session.execute(
            select(
                ServiceSession.id,
                ServiceSession.client_id,
                ServiceSession.provider_id,
                ServiceSession.starts_at,
                ServiceSession.service_on,
                ServiceSession.appointment_status,
                ServiceSession.duration_minutes,
            )
            .where(ServiceSession.practice_id == practice_id, ServiceSession.service_on.between(first, last))
            .order_by(ServiceSession.starts_at)
        ):
            index.by_day[(client_id, provider_id, on)].append((sid, starts_at, status, minutes))
        return index

    def find(
        self, client_id: int, provider_id: int, on: date, starts_at: datetime | None
    ) -> tuple[int, datetime, str, int | None] | None:
        """The session at ``starts_at``, or the only one that day when no time is given."""
        candidates = self.by_day.get((client_id, provider_id, on), [])
        if starts_at is not None:
            return next((c for c in candidates if c[1] == starts_at), None)
        return candidates[0] if len(candidates) == 1 else None


@dataclass
class RowPlan:
    """What committing one row would do."""

    row_number: int
    change: str  # new | updated | unchanged
    detail: dict[str, Any] = field(default_factory=dict)
    flags: list[FlagSpec] = field(default_factory=list)
    session_id: int | None = None
    claim_id: int | None = None

    def outcome(self, known_keys: set[str]) -> str:
        return "flagged" if any(f.key not in known_keys for f in self.flags) else self.change

    def to_detail(self) -> dict[str, Any]:
        return {"change": self.change, **self.detail, "flags": [f.to_json() for f in self.flags]}
