"""Who pays a client's share: the primary guarantor, or the client themself."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.services.bulk_reads import chunks

__all__ = ["guarantors_for"]


def guarantors_for(session: Session, clients: Sequence[m.Client]) -> dict[int, m.Guarantor]:
    """Client id -> the guarantor their patient balance is owed by: the primary one (then the
    first recorded); a client with none is their own guarantor, recorded now."""
    found: dict[int, m.Guarantor] = {}
    for chunk in chunks(list({client.id for client in clients})):
        query = (
            select(m.Guarantor)
            .where(m.Guarantor.client_id.in_(chunk))
            .order_by(m.Guarantor.client_id, m.Guarantor.is_primary.desc(), m.Guarantor.id)
        )
        for guarantor in session.scalars(query):
            found.setdefault(guarantor.client_id, guarantor)
    missing = {client.id: client for client in clients if client.id not in found}
    for client in missing.values():
        found[client.id] = m.Guarantor(
            practice_id=client.practice_id,
            client_id=client.id,
            relationship_to_client="self",
            first_name=client.first_name,
            last_name=client.last_name,
        )
    if missing:
        session.add_all([found[client_id] for client_id in missing])
        session.flush()
    return found
