"""Insurance portals: the payer web sites a practice bills through.

A portal has a name, its address (http or https only), the billing route it stands for, the
practice's login instructions and a *vault reference* — the name of the password-manager
entry where the practice keeps the login. Revcycle never stores a password: text that looks
like a credential (``password: hunter2``, ``pwd=...``, a URL with ``user:secret@``) is refused
with a message naming the field, so a secret is never written even by accident. The payers a
portal serves are the practice payer settings pointing at it (``PracticePayer.portal_id``).

* :func:`list_portals` — the practice's portals with the payers each serves.
* :func:`create_portal` / :func:`update_portal` — admin only, audited.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.scoping import practice_scopes

__all__ = [
    "PORTAL_FIELDS",
    "ROUTES",
    "PortalRow",
    "create_portal",
    "get_portal",
    "list_portals",
    "update_portal",
]

ROUTES = ("portal", "clearinghouse", "simplepractice", "paper")
PORTAL_FIELDS = ("name", "url", "billing_route", "login_instructions", "vault_reference")
_LIMITS = {"name": 200, "url": 500, "billing_route": 30, "login_instructions": 4000, "vault_reference": 200}
# A secret written after a credential word: "password: x", "pwd=x", "passcode - x", "api key: x".
_CREDENTIAL = re.compile(
    r"\b(pass\s*word|passwd|pwd|pass\s*code|passphrase|secret|api[\s_-]*key)\b\s*(?:is\s*)?[:=\-]\s*\S",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PortalRow:
    """A portal with the payers it serves in its practice."""

    portal: m.InsurancePortal
    payers: list[tuple[int, str]]  # (payer id, name)


def list_portals(session: Session, *, actor: Actor, practice_id: int | None = None) -> list[PortalRow]:
    """The portals of the actor's practices (or of one), each with the payers it serves."""
    scopes = practice_scopes(actor, Permission.VIEW_PAYERS, practice_id)
    portals = list(
        session.scalars(
            select(m.InsurancePortal)
            .where(m.InsurancePortal.practice_id.in_(list(scopes)))
            .order_by(m.InsurancePortal.practice_id, m.InsurancePortal.name)
        )
    )
    served = _payers_served(session, [portal.id for portal in portals])
    return [PortalRow(portal, served.get(portal.id, [])) for portal in portals]


def get_portal(session: Session, *, actor: Actor, portal_id: int) -> PortalRow:
    """One portal; another practice's answers NotFound."""
    portal = session.get(m.InsurancePortal, portal_id)
    if portal is None or not (actor.is_system or portal.practice_id in actor.practice_ids):
        raise NotFound(f"portal {portal_id} not found")
    actor.require(portal.practice_id, Permission.VIEW_PAYERS)
    return PortalRow(portal, _payers_served(session, [portal.id]).get(portal.id, []))


def create_portal(
    session: Session, *, actor: Actor, practice_id: int, values: Mapping[str, Any]
) -> m.InsurancePortal:
    """Add a portal to the practice (admin); refused with the field named when a value is bad."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    clean = _checked({"billing_route": "portal", **values})
    if not clean.get("name"):
        raise InvalidInput("name: a portal needs a name")
    _refuse_duplicate(session, practice_id, clean["name"], None)
    portal = m.InsurancePortal(practice_id=practice_id, **clean)
    session.add(portal)
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=practice_id,
        action="create",
        entity="insurance_portal",
        entity_id=portal.id,
        after=_shown(portal),
    )
    return portal


def update_portal(
    session: Session, *, actor: Actor, portal_id: int, changes: Mapping[str, Any]
) -> m.InsurancePortal:
    """Change some of a portal's fields (admin), audited with the values before and after."""
    portal = session.get(m.InsurancePortal, portal_id)
    if portal is None or not (actor.is_system or portal.practice_id in actor.practice_ids):
        raise NotFound(f"portal {portal_id} not found")
    actor.require(portal.practice_id, Permission.MANAGE_PRACTICE)
    clean = _checked(changes)
    if "name" in clean and not clean["name"]:
        raise InvalidInput("name: a portal needs a name")
    if "name" in clean:
        _refuse_duplicate(session, portal.practice_id, clean["name"], portal.id)
    before = _shown(portal)
    for key, value in clean.items():
        setattr(portal, key, value)
    session.flush()
    after = _shown(portal)
    changed = {key for key in after if after[key] != before[key]}
    if changed:
        audit.record(
            session,
            actor=actor,
            practice_id=portal.practice_id,
            action="update",
            entity="insurance_portal",
            entity_id=portal.id,
            before={key: before[key] for key in sorted(changed)},
            after={key: after[key] for key in sorted(changed)},
        )
    return portal


# --- checks --------------------------------------------------------------------------------


def _checked(values: Mapping[str, Any]) -> dict[str, str]:
    unknown = sorted(set(values) - set(PORTAL_FIELDS))
    if unknown:
        # "password" and the like land here: there is no field to keep them in.
        raise InvalidInput(
            f"{unknown[0]}: not a portal field; a portal keeps only a vault reference, never a password"
        )
    clean: dict[str, str] = {}
    for key, value in values.items():
        text = "" if value is None else str(value).strip()
        if len(text) > _LIMITS[key]:
            raise InvalidInput(f"{key}: at most {_LIMITS[key]} characters")
        clean[key] = text
    if "url" in clean:
        _check_url(clean["url"])
    if "billing_route" in clean and clean["billing_route"] not in ROUTES:
        raise InvalidInput(f"billing_route: {clean['billing_route']!r} is not one of {', '.join(ROUTES)}")
    for key in ("login_instructions", "vault_reference", "name"):
        if key in clean and _CREDENTIAL.search(clean[key]):
            raise InvalidInput(
                f"{key}: looks like it holds a password or other secret; keep the secret in the "
                "practice's password manager and give its entry as the vault reference"
            )
    return clean


def _check_url(url: str) -> None:
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidInput(f"url: {url!r} is not an http or https address")
    if parts.username or parts.password:
        raise InvalidInput("url: must not carry a user name or password; use the vault reference")


def _refuse_duplicate(session: Session, practice_id: int, name: str, own_id: int | None) -> None:
    query = select(m.InsurancePortal.id).where(
        m.InsurancePortal.practice_id == practice_id, m.InsurancePortal.name == name
    )
    found = session.scalars(query).first()
    if found is not None and found != own_id:
        raise Conflict(f"name: the practice already has a portal named {name!r}")


def _payers_served(session: Session, portal_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    if not portal_ids:
        return {}
    rows = session.execute(
        select(m.PracticePayer.portal_id, m.Payer.id, m.Payer.name)
        .join(m.Payer, m.Payer.id == m.PracticePayer.payer_id)
        .where(m.PracticePayer.portal_id.in_(portal_ids))
        .order_by(m.Payer.name, m.Payer.id)
    )
    served: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for portal_id, payer_id, name in rows:
        if portal_id is not None:
            served[portal_id].append((payer_id, name))
    return dict(served)


def _shown(portal: m.InsurancePortal) -> dict[str, str]:
    return {key: getattr(portal, key) for key in PORTAL_FIELDS}
