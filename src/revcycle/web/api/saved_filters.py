"""Saved filters: each user's named filters on the lists.

``GET /api/saved-filters`` lists the caller's own (optionally of one ``page``: sessions or
claims); ``POST /api/saved-filters`` saves ``{page, name, query}`` (the same name replaces
it); ``POST /api/saved-filters/{filter_id}/delete`` deletes one of the caller's own. A
colleague's filter is never shown; deleting one answers 409 and deletes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from pydantic import BaseModel, Field

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.services import saved_filters
from revcycle.services.actor import Actor
from revcycle.web.api.resources import ListOut, PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["saved filters"])


class SavedFilterOut(BaseModel):
    id: int
    practice_id: int
    page: str
    name: str
    query: dict[str, str]
    url: str = Field(description="the list page with this filter applied")
    created_at: datetime


class SavedFilterIn(BaseModel):
    page: str = Field(description="sessions or claims")
    name: str = Field(max_length=100)
    query: dict[str, str] = Field(default_factory=dict, description="the list's filters, as its query string")


class DeletedOut(BaseModel):
    id: int
    deleted: bool


def _out(row: m.SavedFilter) -> SavedFilterOut:
    query = {str(k): str(v) for k, v in (row.query or {}).items()}
    return SavedFilterOut(
        id=row.id,
        practice_id=row.practice_id,
        page=row.page,
        name=row.name,
        query=query,
        url=f"/{row.page}?{urlencode(query)}",
        created_at=row.created_at,
    )


def _one_practice(actor: Actor, practice_id: int | None) -> int:
    return one_practice(actor, practice_id, Permission.VIEW_SESSIONS)


@router.get("/api/saved-filters", response_model=ListOut[SavedFilterOut], **needs(Permission.VIEW_SESSIONS))
def api_list_saved_filters(
    db: DB, actor: CurrentActor, practice_id: PracticeId = None, page: str | None = None
) -> dict[str, Any]:
    """The caller's own saved filters (of one ``page``, or all)."""
    items = saved_filters.list_filters(
        db, actor=actor, practice_id=_one_practice(actor, practice_id), page=page or None
    )
    return {"items": [_out(row) for row in items], "total": len(items)}


@router.post("/api/saved-filters", response_model=SavedFilterOut, **needs(Permission.VIEW_SESSIONS))
def api_save_filter(
    db: DB, actor: CurrentActor, body: SavedFilterIn, practice_id: PracticeId = None
) -> SavedFilterOut:
    """Save a filter under its name for the caller (replacing one of the same name)."""
    row = saved_filters.save_filter(
        db,
        actor=actor,
        practice_id=_one_practice(actor, practice_id),
        page=body.page,
        name=body.name,
        query=body.query,
    )
    return _out(row)


@router.post(
    "/api/saved-filters/{filter_id}/delete", response_model=DeletedOut, **needs(Permission.VIEW_SESSIONS)
)
def api_delete_saved_filter(db: DB, actor: CurrentActor, filter_id: int) -> DeletedOut:
    """Delete one of the caller's saved filters."""
    row = saved_filters.delete_filter(db, actor=actor, filter_id=filter_id)
    return DeletedOut(id=row.id, deleted=True)
