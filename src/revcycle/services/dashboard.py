"""The figures on the practice dashboard, each from a real query and each with the list
behind it: sessions per pipeline stage this month, open work by severity, and A/R from the
ledger's balance rows (credit balances shown apart, never netted silently)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from revcycle.domain.ledger import Account
from revcycle.domain.permissions import Permission
from revcycle.domain.pipeline import PipelineStage
from revcycle.services import queries
from revcycle.services.actor import Actor
from revcycle.services.scoping import practice_scopes
from revcycle.services.sessions import SessionFilters, stage_counts


@dataclass(frozen=True)
class Dashboard:
    month: date  # the first day of the month shown
    stage_counts: dict[PipelineStage, int]
    open_work: dict[str, int]  # severity -> open items
    ar_insurance_cents: int
    ar_patient_cents: int

    @property
    def ar_total_cents(self) -> int:
        return self.ar_insurance_cents + self.ar_patient_cents

    @property
    def sessions_this_month(self) -> int:
        return sum(self.stage_counts.values())


def practice_dashboard(session: Session, *, actor: Actor, practice_id: int, today: date) -> Dashboard:
    """The dashboard of one practice for the month of ``today`` (the practice's date)."""
    practice_scopes(actor, Permission.VIEW_DASHBOARD, practice_id)
    month = today.replace(day=1)
    counts = stage_counts(session, actor=actor, practice_id=practice_id, filters=SessionFilters(month=month))
    work = queries.open_work_by_severity(session, actor=actor, practice_id=practice_id)
    ar = queries.account_balances(
        session, practice_id=practice_id, accounts=(Account.AR_INSURANCE, Account.AR_PATIENT)
    )
    return Dashboard(
        month=month,
        stage_counts=counts,
        open_work=work,
        ar_insurance_cents=ar[Account.AR_INSURANCE.value],
        ar_patient_cents=ar[Account.AR_PATIENT.value],
    )
