"""Saved filters: a person's named filters on a list page (sessions, claims).

A filter is the list's query string kept under a name, per user, practice and page; saving
the same name again replaces it. A user sees and deletes only their own: a filter is a
working habit, not shared practice data. Paging (``offset``) is never saved, and only the
filters the page knows are kept, so a saved filter cannot smuggle other parameters in.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services.actor import Actor

__all__ = ["PAGE_FIELDS", "delete_filter", "list_filters", "save_filter"]

# The filters each page reads; anything else in a saved query is dropped.
PAGE_FIELDS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "sessions": frozenset(
            {"stage", "provider_id", "payer_id", "client", "since", "until", "month", "limit"}
        ),
        "claims": frozenset(
            {"status", "client", "provider_id", "payer_id", "since", "until", "reference", "limit"}
        ),
    }
)
_PAGE_PERMISSION: Mapping[str, Permission] = MappingProxyType(
    {"sessions": Permission.VIEW_SESSIONS, "claims": Permission.VIEW_CLAIMS}
)
MAX_NAME = 100
MAX_VALUE = 200


def _check_page(page: str) -> str:
    if page not in PAGE_FIELDS:
        raise InvalidInput(f"page: {page!r} is not one of {', '.join(sorted(PAGE_FIELDS))}")
    return page


def _clean_query(page: str, query: Mapping[str, object]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for key, value in query.items():
        if key not in PAGE_FIELDS[page] or value is None:
            continue
        text = str(value).strip()
        if len(text) > MAX_VALUE:
            raise InvalidInput(f"query.{key}: at most {MAX_VALUE} characters")
        if text:
            kept[key] = text
    return kept


def save_filter(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    page: str,
    name: str,
    query: Mapping[str, object],
) -> m.SavedFilter:
    """Keep ``query`` under ``name`` for the actor on ``page`` (replacing one of that name)."""
    actor.require(practice_id, _PAGE_PERMISSION[_check_page(page)])
    if actor.user_id is None:
        raise InvalidInput("a saved filter belongs to a person; the system has none")
    name = name.strip()
    if not name:
        raise InvalidInput("name: give the filter a name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"name: at most {MAX_NAME} characters")
    cleaned = _clean_query(page, query)
    row = session.scalars(
        select(m.SavedFilter).where(
            m.SavedFilter.practice_id == practice_id,
            m.SavedFilter.user_id == actor.user_id,
            m.SavedFilter.page == page,
            m.SavedFilter.name == name,
        )
    ).one_or_none()
    if row is None:
        row = m.SavedFilter(practice_id=practice_id, user_id=actor.user_id, page=page, name=name)
        session.add(row)
    row.query = cleaned
    session.flush()
    return row


def list_filters(
    session: Session, *, actor: Actor, practice_id: int, page: str | None = None
) -> list[m.SavedFilter]:
    """The actor's own saved filters in the practice (on one page, or all), by name."""
    actor.require(
        practice_id, Permission.VIEW_SESSIONS if page is None else _PAGE_PERMISSION[_check_page(page)]
    )
    query = select(m.SavedFilter).where(
        m.SavedFilter.practice_id == practice_id, m.SavedFilter.user_id == actor.user_id
    )
    if page is not None:
        query = query.where(m.SavedFilter.page == page)
    return list(session.scalars(query.order_by(m.SavedFilter.page, m.SavedFilter.name, m.SavedFilter.id)))


def delete_filter(session: Session, *, actor: Actor, filter_id: int) -> m.SavedFilter:
    """Delete one of the actor's saved filters; a colleague's is refused, never deleted."""
    row = session.get(m.SavedFilter, filter_id)
    if row is None or not (actor.is_system or row.practice_id in actor.practice_ids):
        raise NotFound(f"saved filter {filter_id} not found")
    actor.require(row.practice_id, _PAGE_PERMISSION.get(row.page, Permission.VIEW_SESSIONS))
    if row.user_id != actor.user_id:
        raise Conflict(f"saved filter {filter_id} is another user's; only its owner may delete it")
    session.delete(row)
    session.flush()
    return row
