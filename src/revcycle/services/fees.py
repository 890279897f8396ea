"""The fee a charge defaults to, from the practice's fee schedules.

A practice keeps a standard schedule, may keep one per payer and, rarely, one for a client
(a sliding-scale agreement). The most specific schedule *in force on the date of service*
that has a rate for the procedure wins: the client's, then the one of the payer of the
client's primary coverage on that date, then the standard one. Within a schedule a rate for
the procedure with exactly the charge's modifiers (in any order) is preferred to the procedure's rate with
no modifiers (a telehealth 95 may be priced apart, or not). The fee is the rate times the
units. No rate anywhere: there is no default, and the fee must be entered by hand.

Several schedules of one level in force on the same date (an old one not ended when the new
one started): the latest to start wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.domain.rate_tables import modifier_key
from revcycle.errors import NotFound
from revcycle.services.actor import Actor
from revcycle.services.claims_pipeline.building import primary_coverage_on

__all__ = ["FeeQuote", "default_fee", "join_modifiers", "lookup_fee"]

LEVELS = ("client", "payer", "standard")


@dataclass(frozen=True)
class FeeQuote:
    """A default fee and where it came from."""

    procedure_code: str
    modifiers: str  # the charge's, colon-joined
    units: int
    unit_cents: int
    schedule_id: int
    schedule_name: str
    level: str  # client | payer | standard
    rate_modifiers: str  # the rate's modifiers: the charge's, or "" for the procedure's own rate

    @property
    def amount_cents(self) -> int:
        return self.unit_cents * self.units


def join_modifiers(modifiers: Sequence[str]) -> str:
    """``["95", "gt"]`` -> ``"95:GT"`` (how charges and rates store them)."""
    return ":".join(mod.strip().upper() for mod in modifiers if mod.strip())


def _normal(modifiers: str) -> str:
    return join_modifiers(modifiers.replace(",", ":").replace(" ", ":").split(":"))


def default_fee(
    session: Session,
    *,
    practice_id: int,
    procedure_code: str,
    modifiers: str = "",
    service_on: date,
    client_id: int | None = None,
    units: int = 1,
) -> FeeQuote | None:
    """The default fee of a charge on ``service_on``, or ``None`` when no schedule prices it."""
    code = procedure_code.strip().upper()
    wanted = _normal(modifiers)
    payer_id = None
    if client_id is not None:
        coverage = primary_coverage_on(session, client_id, service_on)
        payer_id = coverage.payer_id if coverage else None
    for level in LEVELS:
        for schedule in _schedules(
            session, practice_id, level, service_on, client_id=client_id, payer_id=payer_id
        ):
            rate_cents, rate_modifiers = _rate(session, schedule.id, code, wanted)
            if rate_cents is not None:
                return FeeQuote(
                    code, wanted, units, rate_cents, schedule.id, schedule.name, level, rate_modifiers
                )
    return None


def _schedules(
    session: Session,
    practice_id: int,
    level: str,
    day: date,
    *,
    client_id: int | None,
    payer_id: int | None,
) -> list[m.FeeSchedule]:
    """The schedules of one level in force on ``day``, the latest to start first."""
    query = select(m.FeeSchedule).where(
        m.FeeSchedule.practice_id == practice_id,
        m.FeeSchedule.effective_on <= day,
        or_(m.FeeSchedule.ends_on.is_(None), m.FeeSchedule.ends_on >= day),
    )
    if level == "client":
        if client_id is None:
            return []
        query = query.where(m.FeeSchedule.client_id == client_id)
    elif level == "payer":
        if payer_id is None:
            return []
        query = query.where(m.FeeSchedule.client_id.is_(None), m.FeeSchedule.payer_id == payer_id)
    else:
        query = query.where(m.FeeSchedule.client_id.is_(None), m.FeeSchedule.payer_id.is_(None))
    return list(session.scalars(query.order_by(m.FeeSchedule.effective_on.desc(), m.FeeSchedule.id.desc())))


def _rate(session: Session, schedule_id: int, code: str, modifiers: str) -> tuple[int | None, str]:
    """The schedule's rate for the code with these modifiers, else with none."""
    # Modifiers match as a set: a charge billed HO:95 is priced by a 95:HO rate.
    rates = {
        modifier_key(rate.modifiers): rate.amount_cents
        for rate in session.scalars(
            select(m.FeeScheduleRate).where(
                m.FeeScheduleRate.fee_schedule_id == schedule_id, m.FeeScheduleRate.procedure_code == code
            )
        )
    }
    wanted = modifier_key(modifiers)
    if wanted in rates:
        return rates[wanted], modifiers
    if "" in rates:
        return rates[""], ""
    return None, ""


def lookup_fee(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    procedure_code: str,
    modifiers: str = "",
    service_on: date,
    client_id: int | None = None,
    units: int = 1,
) -> FeeQuote | None:
    """:func:`default_fee` for someone entering charges (the client must be the practice's)."""
    actor.require(practice_id, Permission.ENTER_CHARGES)
    if client_id is not None:
        client = session.get(m.Client, client_id)
        if client is None or client.practice_id != practice_id:
            raise NotFound(f"client {client_id} not found")
    return default_fee(
        session,
        practice_id=practice_id,
        procedure_code=procedure_code,
        modifiers=modifiers,
        service_on=service_on,
        client_id=client_id,
        units=units,
    )
