"""What each import format provides to the two-phase import (stage, then commit or discard).

`services.imports.batches` owns the batch's life: it stores the raw file (hashed), reads and
detects the format, creates the `ImportBatch`, and then hands the parsed rows to the format's
handler. A handler:

- `stage`: matches every row against what exists and records what committing would do, in
  `ImportRowOutcome` rows (and typed staging rows where a format needs them for set-based
  writes) — nothing live changes. It returns the counts.
- `commit`: applies the staged batch in the caller's transaction (all or nothing).
- `discard`: drops whatever the handler staged besides the outcome rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, TypedDict

from sqlalchemy.orm import Session

from revcycle.adapters.csv.formats import ImportFormat, ParsedRow, RejectedRow
from revcycle.db.models import ImportBatch
from revcycle.services.actor import Actor


class StageCounts(TypedDict):
    rows: int
    new: int
    updated: int
    unchanged: int
    flagged: int
    rejected: int


class FormatHandler(Protocol):
    format: ImportFormat

    def stage(
        self,
        session: Session,
        batch: ImportBatch,
        rows: Iterator[ParsedRow | RejectedRow],
        *,
        actor: Actor,
    ) -> StageCounts: ...

    def commit(self, session: Session, batch: ImportBatch, *, actor: Actor) -> dict[str, int]: ...

    def discard(self, session: Session, batch: ImportBatch, *, actor: Actor) -> None: ...
