"""What the operations reports count, defined once.

* **Charges** = the credits to ``revenue`` (REVENUE postings, sign flipped) on a charge line:
  what was billed for it, net of any reversal.
* **Collections** = money received on a charge line: the ``cash`` postings of insurance and
  patient payment transactions, and of the reversals of such transactions (a voided payment
  counts through its reversing postings), up to ``today``. Money not yet applied to a charge
  (``unapplied``, provider-level adjustments) belongs to no service and is left out.
* **A service's payer** = the payer of the first claim (lowest id) that billed the charge:
  the primary's original claim; a charge never billed belongs to no payer ("self-pay /
  not billed").
* **Date basis**: the reports over a range take the services whose date of service falls in
  it (``sessions.service_on``), with every posting on them up to ``today``, so a row's
  charges and collections belong to the same services.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, func, or_, select
from sqlalchemy.orm import aliased

from revcycle.db import models as m
from revcycle.domain.ledger import Account
from revcycle.domain.ledger_events import TransactionKind
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.services.actor import Actor

__all__ = [
    "CHARGES_FORMULA",
    "COLLECTIONS_FORMULA",
    "MAX_RANGE_DAYS",
    "PAYMENT_KINDS",
    "charge_payer",
    "check_range",
    "collection_condition",
    "require_reports",
]

PAYMENT_KINDS = (str(TransactionKind.INSURANCE_PAYMENT), str(TransactionKind.PATIENT_PAYMENT))
CHARGES_FORMULA = "charges = revenue postings on the services (credits), net of reversals"
COLLECTIONS_FORMULA = (
    "collections = cash postings of insurance and patient payments on the services (and their "
    "reversals), up to today"
)
MAX_RANGE_DAYS = 366 * 3


def require_reports(actor: Actor, practice_id: int) -> None:
    """Reports are for billing staff and administrators (``run_reports``)."""
    actor.require(practice_id, Permission.RUN_REPORTS)


def check_range(since: date, until: date) -> None:
    """InvalidInput unless ``since`` <= ``until`` and the range is at most three years."""
    if since > until:
        raise InvalidInput(f"since: {since.isoformat()} is after until {until.isoformat()}")
    if (until - since).days > MAX_RANGE_DAYS:
        raise InvalidInput("until: a range of at most three years, please")


def charge_payer(practice_id: int, charge_ids: Select[Any]) -> Subquery:
    """Per charge line of the practice among ``charge_ids``: the payer of the first claim
    that billed it (``charge_id``, ``payer_id``)."""
    first = (
        select(m.ClaimLine.charge_id.label("charge_id"), func.min(m.ClaimLine.claim_id).label("claim_id"))
        .where(m.ClaimLine.practice_id == practice_id, m.ClaimLine.charge_id.in_(charge_ids))
        .group_by(m.ClaimLine.charge_id)
        .subquery()
    )
    return (
        select(first.c.charge_id, m.Claim.payer_id)
        .join(m.Claim, m.Claim.id == first.c.claim_id)
        .subquery("charge_payer")
    )


def collection_condition(today: date) -> tuple[type[m.LedgerTransaction], ColumnElement[bool]]:
    """The reversed transaction's alias (outer-join it on ``reverses_transaction_id``) and the
    WHERE condition that keeps the cash postings of payments and of their reversals."""
    original = aliased(m.LedgerTransaction)
    condition = and_(
        m.Posting.account == Account.CASH.value,
        m.Posting.accounting_on <= today,
        or_(
            m.LedgerTransaction.kind.in_(PAYMENT_KINDS),
            and_(m.LedgerTransaction.kind == str(TransactionKind.REVERSAL), original.kind.in_(PAYMENT_KINDS)),
        ),
    )
    return original, condition
