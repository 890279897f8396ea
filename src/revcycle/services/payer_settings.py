"""One practice's billing settings for one payer.

The payer itself is a global catalog row; what a practice decides about it lives in its
:class:`~revcycle.db.models.PracticePayer` row: the billing route (a web ``portal``, a
``clearinghouse`` batch, ``simplepractice``'s electronic submission or ``paper``), the default
portal claims are recorded against, the timely filing limit and the appeal limit (days from
the date of service and from the denial), whether the payer requires prior authorization, and
how a supervised clinician's sessions may bill (``not_allowed``, ``incident_to`` or under the
``supervisor``).

Anyone who may see payers may read them; only an admin changes them, and each change is
audited with the values before and after. A claim already built keeps the filing deadline it
was built with (history is not rewritten); new claims take the new limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.portals import ROUTES
from revcycle.services.queries import PracticePayerRow

__all__ = [
    "MAX_DAYS",
    "SETTING_FIELDS",
    "SUPERVISED_BILLING",
    "get_payer_settings",
    "update_payer_settings",
]

SUPERVISED_BILLING = ("not_allowed", "incident_to", "supervisor")
SETTING_FIELDS = (
    "billing_route",
    "portal_id",
    "timely_filing_days",
    "appeal_days",
    "requires_prior_auth",
    "supervised_billing",
)
MAX_DAYS = 3650


def get_payer_settings(
    session: Session, *, actor: Actor, payer_id: int, practice_id: int | None = None
) -> PracticePayerRow:
    """The practice's settings for the payer (``practice_id`` when several of yours bill it)."""
    row = _settings_row(session, actor, payer_id, practice_id)
    actor.require(row.practice_id, Permission.VIEW_PAYERS)
    return _with_payer(session, row)


def update_payer_settings(
    session: Session,
    *,
    actor: Actor,
    payer_id: int,
    changes: Mapping[str, Any],
    practice_id: int | None = None,
) -> PracticePayerRow:
    """Change some settings (admin); bad values are refused naming the field, nothing written."""
    row = _settings_row(session, actor, payer_id, practice_id)
    actor.require(row.practice_id, Permission.MANAGE_PRACTICE)
    clean = _checked(session, row.practice_id, changes)
    before = {key: getattr(row, key) for key in SETTING_FIELDS}
    for key, value in clean.items():
        setattr(row, key, value)
    session.flush()
    after = {key: getattr(row, key) for key in SETTING_FIELDS}
    changed = sorted(key for key in SETTING_FIELDS if before[key] != after[key])
    if changed:
        audit.record(
            session,
            actor=actor,
            practice_id=row.practice_id,
            action="update",
            entity="practice_payer",
            entity_id=row.id,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )
    return _with_payer(session, row)


def _settings_row(session: Session, actor: Actor, payer_id: int, practice_id: int | None) -> m.PracticePayer:
    query = select(m.PracticePayer).where(m.PracticePayer.payer_id == payer_id)
    if not actor.is_system:
        query = query.where(m.PracticePayer.practice_id.in_(sorted(actor.practice_ids)))
    if practice_id is not None:
        query = query.where(m.PracticePayer.practice_id == practice_id)
    rows = list(session.scalars(query.order_by(m.PracticePayer.practice_id)))
    if not rows:
        raise NotFound(f"payer {payer_id} not found")
    if len(rows) > 1:
        raise InvalidInput("practice_id: several of your practices bill this payer; name one")
    return rows[0]


def _with_payer(session: Session, row: m.PracticePayer) -> PracticePayerRow:
    portal = session.get(m.InsurancePortal, row.portal_id) if row.portal_id else None
    return PracticePayerRow(session.get_one(m.Payer, row.payer_id), row, portal)


def _checked(session: Session, practice_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(SETTING_FIELDS))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not a payer setting ({', '.join(SETTING_FIELDS)})")
    clean = dict(changes)
    if "billing_route" in clean and clean["billing_route"] not in ROUTES:
        raise InvalidInput(f"billing_route: {clean['billing_route']!r} is not one of {', '.join(ROUTES)}")
    if "supervised_billing" in clean and clean["supervised_billing"] not in SUPERVISED_BILLING:
        choices = ", ".join(SUPERVISED_BILLING)
        raise InvalidInput(f"supervised_billing: {clean['supervised_billing']!r} is not one of {choices}")
    for key in ("timely_filing_days", "appeal_days"):
        if key in clean:
            _check_days(key, clean[key])
    if "requires_prior_auth" in clean and not isinstance(clean["requires_prior_auth"], bool):
        raise InvalidInput("requires_prior_auth: true or false")
    if clean.get("portal_id") is not None:
        portal = session.get(m.InsurancePortal, clean["portal_id"])
        if portal is None or portal.practice_id != practice_id:
            raise InvalidInput(f"portal_id: the practice has no portal {clean['portal_id']}")
    return clean


def _check_days(key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise InvalidInput(f"{key}: a whole number of days from 1 to {MAX_DAYS}")
