"""Which rows a read may show: the actor's practices, narrowed to their own records where the
permission table grants only ``OWN``.

"Own" is decided here, once, for every read query:

* a therapist's own sessions and claims are those of providers whose ``user_id`` is theirs,
  and their own clients are the clients of those sessions;
* a client's own records are the client rows whose ``user_id`` is theirs (a portal login may
  be linked to the same person in several practices).

A read names a practice or covers every practice where the actor holds the permission. An
id from a practice the actor is not a member of answers NotFound, so existence is not
disclosed; a member without the permission gets PermissionDenied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Permission, Scope
from revcycle.errors import NotFound, PermissionDenied
from revcycle.services.actor import Actor

T = TypeVar("T")

# A SELECT of any row shape (SQLAlchemy 2.1 types a Select by its columns).
RowSelect = Select[*tuple[Any, ...]]

MAX_LIMIT = 500
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and how many rows match in all."""

    items: list[T]
    total: int


def clamp_limit(limit: int) -> int:
    return max(1, min(limit, MAX_LIMIT))


def practice_scopes(actor: Actor, permission: Permission, practice_id: int | None = None) -> dict[int, Scope]:
    """The practices a read covers, each with the actor's scope for ``permission``.

    With ``practice_id``: that practice only (NotFound when not a member, PermissionDenied
    without the permission). Without: every practice where the actor holds it, or
    PermissionDenied when there is none.
    """
    if practice_id is not None:
        return {practice_id: actor.require(practice_id, permission)}
    scopes = {pid: actor.scope(pid, permission) for pid in sorted(actor.practice_ids)}
    granted = {pid: scope for pid, scope in scopes.items() if scope > Scope.NONE}
    if not granted:
        raise PermissionDenied(f"your role does not allow: {permission.value.replace('_', ' ')}")
    return granted


def require_row_access(actor: Actor, practice_id: int, permission: Permission) -> Scope:
    """The scope for reading one row of ``practice_id``; NotFound for other practices."""
    if not actor.is_system and practice_id not in actor.practice_ids:
        raise NotFound("not found")
    return actor.require(practice_id, permission)


# --- what "own" means, per kind of row -------------------------------------------------------


def own_provider_ids(actor: Actor) -> Select[int]:
    return select(m.Provider.id).where(m.Provider.user_id == actor.user_id)


def own_client_record_ids(actor: Actor) -> Select[int]:
    """The client rows that are the actor themself (a portal login)."""
    return select(m.Client.id).where(m.Client.user_id == actor.user_id)


def own_client_ids(actor: Actor) -> Select[int]:
    """Clients the actor may see: themself, and the clients of their own sessions."""
    treated = select(m.ServiceSession.client_id).where(
        m.ServiceSession.provider_id.in_(own_provider_ids(actor))
    )
    return own_client_record_ids(actor).union(treated)  # type: ignore[return-value]


def own_session_condition(actor: Actor) -> ColumnElement[bool]:
    return or_(
        m.ServiceSession.provider_id.in_(own_provider_ids(actor)),
        m.ServiceSession.client_id.in_(own_client_record_ids(actor)),
    )


def own_claim_condition(actor: Actor) -> ColumnElement[bool]:
    return or_(
        m.Claim.provider_id.in_(own_provider_ids(actor)),
        m.Claim.client_id.in_(own_client_record_ids(actor)),
    )


def own_client_condition(actor: Actor) -> ColumnElement[bool]:
    return m.Client.id.in_(own_client_ids(actor))


def own_provider_condition(actor: Actor) -> ColumnElement[bool]:
    return m.Provider.user_id == actor.user_id


def own_payment_condition(actor: Actor) -> ColumnElement[bool]:
    return m.Payment.client_id.in_(own_client_ids(actor))


def own_work_item_condition(actor: Actor) -> ColumnElement[bool]:
    own_sessions = select(m.ServiceSession.id).where(own_session_condition(actor))
    own_claims = select(m.Claim.id).where(own_claim_condition(actor))
    return or_(
        m.WorkItem.owner_user_id == actor.user_id,
        m.WorkItem.session_id.in_(own_sessions),
        m.WorkItem.claim_id.in_(own_claims),
        m.WorkItem.provider_id.in_(select(m.Provider.id).where(own_provider_condition(actor))),
    )


OWN_CONDITIONS: Mapping[type[Any], Any] = {
    m.ServiceSession: own_session_condition,
    m.Claim: own_claim_condition,
    m.Client: own_client_condition,
    m.Provider: own_provider_condition,
    m.Payment: own_payment_condition,
    m.WorkItem: own_work_item_condition,
}


def visible(model: type[Any], actor: Actor, scopes: Mapping[int, Scope]) -> ColumnElement[bool]:
    """The WHERE condition for rows of ``model`` the actor may read in ``scopes``' practices."""
    everything = [pid for pid, scope in scopes.items() if scope == Scope.ALL]
    own_only = [pid for pid, scope in scopes.items() if scope == Scope.OWN]
    parts: list[ColumnElement[bool]] = []
    if everything:
        parts.append(model.practice_id.in_(everything))
    if own_only:
        own = OWN_CONDITIONS.get(model)
        condition = own(actor) if own is not None and actor.user_id is not None else false()
        parts.append(model.practice_id.in_(own_only) & condition)
    return or_(*parts) if parts else false()


def is_own(session: Session, model: type[Any], row_id: int, actor: Actor) -> bool:
    """Whether one row is the actor's own (for a detail read under an ``OWN`` scope)."""
    own = OWN_CONDITIONS.get(model)
    if own is None or actor.user_id is None:
        return False
    found = session.scalar(select(model.id).where(model.id == row_id, own(actor)))
    return found is not None


def get_visible(session: Session, model: type[T], row_id: int, actor: Actor, permission: Permission) -> T:
    """One row by id, or NotFound when it is another practice's or not the actor's own."""
    row = session.get(model, row_id)
    if row is None:
        raise NotFound("not found")
    practice_id: int = row.practice_id  # type: ignore[attr-defined]
    scope = require_row_access(actor, practice_id, permission)
    if scope == Scope.OWN and not is_own(session, model, row_id, actor):
        raise NotFound("not found")
    return row
