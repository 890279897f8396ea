"""The figures on the practice dashboard, each from a real query and each with the list
behind it: sessions per pipeline stage this month, open work by severity, and A/R from the
ledger's balance rows (credit balances shown apart, never netted silently), and the
practice-wide alerts (more than 10 unbilled sessions) with the open alerts by severity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
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
    # Open alerts about the whole practice (no session or claim), e.g. "14 sessions held and
    # not yet billed", shown as banners; and open or acknowledged alerts per severity.
    practice_alerts: tuple[m.WorkItem, ...] = ()
    open_alerts: dict[str, int] | None = None

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
        practice_alerts=tuple(
            session.scalars(
                _open_alerts(practice_id)
                .where(m.WorkItem.session_id.is_(None), m.WorkItem.claim_id.is_(None))
                .order_by(m.WorkItem.created_at)
            )
        ),
        open_alerts={
            str(severity): int(n)
            for severity, n in session.execute(
                _open_alerts(practice_id)
                .with_only_columns(m.WorkItem.severity, func.count())
                .group_by(m.WorkItem.severity)
            )
        },
    )


def _open_alerts(practice_id: int) -> Select[m.WorkItem]:
    return select(m.WorkItem).where(
        m.WorkItem.practice_id == practice_id,
        m.WorkItem.kind == "alert",
        m.WorkItem.status != "resolved",
    )
