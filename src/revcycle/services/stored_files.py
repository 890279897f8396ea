"""Keeping a raw file, in or out: its content with its hash and size (``StoredFile``)."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.services.actor import Actor

__all__ = ["store_file"]


def store_file(
    db: Session, *, actor: Actor, practice_id: int, kind: str, direction: str, filename: str, content: bytes
) -> m.StoredFile:
    """Store ``content`` for ``practice_id`` (``direction`` "in" or "out") and flush, so it has an id."""
    stored = m.StoredFile(
        practice_id=practice_id,
        kind=kind,
        direction=direction,
        filename=filename[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        content=content,
        created_by_user_id=actor.user_id,
    )
    db.add(stored)
    db.flush()
    return stored
