"""The whole core model of DESIGN.md as SQLAlchemy 2.0 mapped classes.

Tenancy: every business row carries `practice_id`, and the large tables are indexed by it
first, so the biggest installations can partition by practice without changing the code.
Money columns are integer cents (`*_cents`). Timestamps are UTC (`*_at`), calendar dates are
the practice's (`*_on`). Enumerated values are stored as short strings; the domain modules
own their vocabularies (claim_status, pipeline, permissions, ledger).

Three tables are insert-only and protected by database triggers (see migrations):
`postings`, `ledger_transactions`, `claim_events` and `audit_log`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from revcycle.db.types import BigId, Cents, UTCDateTime, utcnow
from revcycle.domain.names import person_key_of

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


def pk() -> Mapped[int]:
    return mapped_column(BigId, primary_key=True, autoincrement=True)


def fk(target: str, *, nullable: bool = False, index: bool = False, ondelete: str | None = None) -> Any:
    return mapped_column(BigId, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


def practice_fk() -> Any:
    return mapped_column(BigId, ForeignKey("practices.id"), nullable=False)


def created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


# --- tenancy and people ------------------------------------------------------------------


class Organization(Base):
    """A practice on its own, or a billing company holding many practices."""

    __tablename__ = "organizations"
    id: Mapped[int] = pk()
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="practice")  # practice | billing_company
    created_at: Mapped[datetime] = created()


class Practice(Base):
    __tablename__ = "practices"
    id: Mapped[int] = pk()
    organization_id: Mapped[int] = fk("organizations.id", index=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    # Billing entity (loop 2010AA of an 837P).
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    tax_id: Mapped[str] = mapped_column(String(20), default="")
    group_npi: Mapped[str] = mapped_column(String(10), default="")
    taxonomy_code: Mapped[str] = mapped_column(String(10), default="")
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    require_admin_totp: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created()

    organization: Mapped[Organization] = relationship()


class ServiceLocation(Base):
    __tablename__ = "service_locations"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    name: Mapped[str] = mapped_column(String(200))
    place_of_service: Mapped[str] = mapped_column(String(2), default="11")
    npi: Mapped[str] = mapped_column(String(10), default="")
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    __table_args__ = (Index(None, "practice_id"),)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = pk()
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped by a password change or disabling: revokes every session and API token.
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last time step whose code was accepted: a code is good once (no replay).
    totp_last_step: Mapped[int] = mapped_column(BigId, default=0)
    password_changed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")


class Team(Base):
    """Agents of a billing company: Senior Agent, Escalation Team, Government Specialist..."""

    __tablename__ = "teams"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    name: Mapped[str] = mapped_column(String(100))
    __table_args__ = (UniqueConstraint("practice_id", "name"),)


class Membership(Base):
    __tablename__ = "memberships"
    id: Mapped[int] = pk()
    user_id: Mapped[int] = fk("users.id", index=True)
    practice_id: Mapped[int] = practice_fk()
    role: Mapped[str] = mapped_column(String(20))  # domain.permissions.Role
    team_id: Mapped[int | None] = fk("teams.id", nullable=True)
    created_at: Mapped[datetime] = created()

    user: Mapped[User] = relationship(back_populates="memberships")
    practice: Mapped[Practice] = relationship()
    __table_args__ = (UniqueConstraint("user_id", "practice_id", "role"),)


class LoginThrottle(Base):
    """Consecutive failed logins per e-mail address, known or not (same answer for both)."""

    __tablename__ = "login_throttles"
    id: Mapped[int] = pk()
    email: Mapped[str] = mapped_column(String(254), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(nullable=True)
    last_failure_at: Mapped[datetime | None] = mapped_column(nullable=True)


class WebSession(Base):
    """A server-side login session; the cookie holds a random id whose hash is stored here."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = pk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = fk("users.id", index=True)
    token_version: Mapped[int] = mapped_column(Integer)
    csrf_token: Mapped[str] = mapped_column(String(64))
    practice_id: Mapped[int | None] = fk("practices.id", nullable=True)
    mfa_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created()
    last_seen_at: Mapped[datetime] = created()
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ended_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    source_ip: Mapped[str] = mapped_column(String(64), default="")


# --- providers, clients, payers -----------------------------------------------------------


class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    user_id: Mapped[int | None] = fk("users.id", nullable=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    credentials: Mapped[str] = mapped_column(String(40), default="")
    npi: Mapped[str] = mapped_column(String(10))
    taxonomy_code: Mapped[str] = mapped_column(String(10), default="")
    supervising_provider_id: Mapped[int | None] = fk("providers.id", nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # domain.names.person_key of the name, kept by a listener below: imports match on it.
    name_key: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created()
    __table_args__ = (
        Index(None, "practice_id", "last_name"),
        Index(None, "practice_id", "name_key"),
        UniqueConstraint("practice_id", "npi"),
    )

    @property
    def display_name(self) -> str:
        suffix = f", {self.credentials}" if self.credentials else ""
        return f"{self.first_name} {self.last_name}{suffix}"


class ProviderEnrollment(Base):
    """A provider's standing with one payer: in network or not, and when."""

    __tablename__ = "provider_enrollments"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    provider_id: Mapped[int] = fk("providers.id", index=True)
    payer_id: Mapped[int] = fk("payers.id")
    in_network: Mapped[bool] = mapped_column(Boolean, default=True)
    effective_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    requires_supervisor: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (Index(None, "practice_id", "payer_id"),)


class Client(Base):
    """A patient."""

    __tablename__ = "clients"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date | None] = mapped_column(Date, nullable=True)
    sex: Mapped[str] = mapped_column(String(1), default="U")  # F | M | U (X12 DMG03)
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    external_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)
    user_id: Mapped[int | None] = fk("users.id", nullable=True)  # portal login
    merged_into_id: Mapped[int | None] = fk("clients.id", nullable=True)
    # domain.names.person_key of the name, kept by a listener below: imports match on it.
    name_key: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created()
    __table_args__ = (
        Index(None, "practice_id", "last_name", "first_name"),
        Index(None, "practice_id", "name_key"),
    )

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Guarantor(Base):
    """Who receives statements: the client, or a parent or spouse."""

    __tablename__ = "guarantors"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    client_id: Mapped[int] = fk("clients.id", index=True)
    relationship_to_client: Mapped[str] = mapped_column(String(20), default="self")
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (Index(None, "practice_id"),)


class Payer(Base):
    """The global payer catalog (not per practice)."""

    __tablename__ = "payers"
    id: Mapped[int] = pk()
    name: Mapped[str] = mapped_column(String(200))
    edi_payer_id: Mapped[str] = mapped_column(String(20), default="", index=True)
    kind: Mapped[str] = mapped_column(String(30), default="commercial")
    created_at: Mapped[datetime] = created()

    aliases: Mapped[list[PayerAlias]] = relationship(back_populates="payer")


class PayerAlias(Base):
    __tablename__ = "payer_aliases"
    id: Mapped[int] = pk()
    payer_id: Mapped[int] = fk("payers.id", index=True)
    alias: Mapped[str] = mapped_column(String(250))
    normalized: Mapped[str] = mapped_column(String(250), unique=True)

    payer: Mapped[Payer] = relationship(back_populates="aliases")


class InsurancePortal(Base):
    """A payer web portal the practice bills through (never holds a password)."""

    __tablename__ = "insurance_portals"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500), default="")
    billing_route: Mapped[str] = mapped_column(String(30), default="portal")
    login_instructions: Mapped[str] = mapped_column(Text, default="")
    # Where the practice keeps the login (a password manager entry's name), never the secret.
    vault_reference: Mapped[str] = mapped_column(String(200), default="")
    __table_args__ = (UniqueConstraint("practice_id", "name"),)


class PracticePayer(Base):
    """One practice's settings for one payer."""

    __tablename__ = "practice_payers"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    payer_id: Mapped[int] = fk("payers.id")
    # portal | clearinghouse | simplepractice | paper
    billing_route: Mapped[str] = mapped_column(String(30), default="clearinghouse")
    portal_id: Mapped[int | None] = fk("insurance_portals.id", nullable=True)
    timely_filing_days: Mapped[int] = mapped_column(Integer, default=90)
    appeal_days: Mapped[int] = mapped_column(Integer, default=180)
    expected_days_to_pay: Mapped[int | None] = mapped_column(Integer, nullable=True)
    followup_rule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requires_prior_auth: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether a supervised clinician's sessions may bill under the supervising provider:
    # not_allowed | incident_to (Medicare-style, in the office) | supervisor (commercial plans
    # that credential the supervisor, not the pre-licensed clinician).
    supervised_billing: Mapped[str] = mapped_column(String(20), default="not_allowed")
    contract_id: Mapped[int | None] = fk("payer_contracts.id", nullable=True)
    __table_args__ = (UniqueConstraint("practice_id", "payer_id"),)


class Coverage(Base):
    """A client's insurance with one payer, at a priority, over dates."""

    __tablename__ = "coverages"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    client_id: Mapped[int] = fk("clients.id", index=True)
    payer_id: Mapped[int] = fk("payers.id")
    member_id: Mapped[str] = mapped_column(String(40))
    group_number: Mapped[str] = mapped_column(String(40), default="")
    priority: Mapped[str] = mapped_column(String(10), default="primary")  # primary|secondary|tertiary
    relationship_to_subscriber: Mapped[str] = mapped_column(String(10), default="self")
    subscriber_first_name: Mapped[str] = mapped_column(String(100), default="")
    subscriber_last_name: Mapped[str] = mapped_column(String(100), default="")
    subscriber_date_of_birth: Mapped[date | None] = mapped_column(Date, nullable=True)
    subscriber_sex: Mapped[str] = mapped_column(String(1), default="U")
    effective_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    copay_cents: Mapped[int] = mapped_column(Cents, default=0)
    __table_args__ = (Index(None, "practice_id", "payer_id"),)


class CoverageChange(Base):
    """One change to a coverage or one of its authorizations: who, when, what. Insert-only."""

    __tablename__ = "coverage_changes"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    coverage_id: Mapped[int] = fk("coverages.id", index=True)
    authorization_id: Mapped[int | None] = fk("authorizations.id", nullable=True)
    # created | updated | ended | card_added | authorization_added | authorization_updated
    action: Mapped[str] = mapped_column(String(30))
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)  # field -> [before, after]
    user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()


class CoverageCard(Base):
    """A scanned insurance card (front or back), kept as a stored file."""

    __tablename__ = "coverage_cards"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    coverage_id: Mapped[int] = fk("coverages.id", index=True)
    side: Mapped[str] = mapped_column(String(5))  # front | back
    stored_file_id: Mapped[int] = fk("stored_files.id")
    uploaded_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()


class Authorization(Base):
    """A prior authorization: visits allowed and used over dates."""

    __tablename__ = "authorizations"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    client_id: Mapped[int] = fk("clients.id", index=True)
    coverage_id: Mapped[int] = fk("coverages.id")
    number: Mapped[str] = mapped_column(String(50))
    visits_allowed: Mapped[int] = mapped_column(Integer)
    visits_used: Mapped[int] = mapped_column(Integer, default=0)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    procedure_codes: Mapped[list[Any]] = mapped_column(default=list)
    __table_args__ = (Index(None, "practice_id"),)


class FeeSchedule(Base):
    """Standard -> payer -> client rates; the most specific schedule in force wins."""

    __tablename__ = "fee_schedules"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    name: Mapped[str] = mapped_column(String(200))
    payer_id: Mapped[int | None] = fk("payers.id", nullable=True)
    client_id: Mapped[int | None] = fk("clients.id", nullable=True)
    effective_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    __table_args__ = (Index(None, "practice_id"),)


class FeeScheduleRate(Base):
    __tablename__ = "fee_schedule_rates"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    fee_schedule_id: Mapped[int] = fk("fee_schedules.id", index=True)
    procedure_code: Mapped[str] = mapped_column(String(10))
    modifiers: Mapped[str] = mapped_column(String(20), default="")
    amount_cents: Mapped[int] = mapped_column(Cents)
    __table_args__ = (UniqueConstraint("fee_schedule_id", "procedure_code", "modifiers"),)


class PayerContract(Base):
    __tablename__ = "payer_contracts"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    payer_id: Mapped[int] = fk("payers.id")
    number: Mapped[str] = mapped_column(String(50))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    __table_args__ = (Index(None, "practice_id", "payer_id"),)


class PayerContractRate(Base):
    __tablename__ = "payer_contract_rates"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    contract_id: Mapped[int] = fk("payer_contracts.id", index=True)
    procedure_code: Mapped[str] = mapped_column(String(10))
    modifiers: Mapped[str] = mapped_column(String(20), default="")
    allowed_cents: Mapped[int] = mapped_column(Cents)
    __table_args__ = (UniqueConstraint("contract_id", "procedure_code", "modifiers"),)


# --- sessions, claims ---------------------------------------------------------------------


class ServiceSession(Base):
    """One appointment; identified by client + clinician + start time."""

    __tablename__ = "sessions"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    client_id: Mapped[int] = fk("clients.id")
    provider_id: Mapped[int] = fk("providers.id")
    location_id: Mapped[int | None] = fk("service_locations.id", nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    service_on: Mapped[date] = mapped_column(Date)  # the practice's local date of service
    duration_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    place_of_service: Mapped[str] = mapped_column(String(2), default="11")
    # scheduled | show | no_show | late_cancel | canceled
    appointment_status: Mapped[str] = mapped_column(String(20), default="scheduled")
    note_status: Mapped[str] = mapped_column(String(20), default="none")  # none|draft|locked
    note_locked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    self_pay: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(30), default="manual")
    external_id: Mapped[str] = mapped_column(String(80), default="")
    # The first import batch whose file listed this session (the outcome rows of each batch
    # say which sessions its file listed; a later export covering the same dates without it
    # raises a flag: deleted or moved in the EHR?).
    last_seen_batch_id: Mapped[int | None] = fk("import_batches.id", nullable=True)
    # Marked ready to bill (every flag settled, scrubbed clean or overridden) and by whom.
    ready_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ready_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()

    charges: Mapped[list[Charge]] = relationship(back_populates="session")
    client: Mapped[Client] = relationship()
    provider: Mapped[Provider] = relationship()
    __table_args__ = (
        UniqueConstraint("practice_id", "client_id", "provider_id", "starts_at"),
        Index(None, "practice_id", "service_on"),
        Index(None, "practice_id", "provider_id", "service_on"),
    )


class Charge(Base):
    """A billable line of a session (CPT/HCPCS + modifiers + units)."""

    __tablename__ = "charges"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    session_id: Mapped[int] = fk("sessions.id", index=True)
    procedure_code: Mapped[str] = mapped_column(String(10))
    modifiers: Mapped[str] = mapped_column(String(20), default="")  # "95:GT" colon-joined
    units: Mapped[int] = mapped_column(Integer, default=1)
    fee_cents: Mapped[int] = mapped_column(Cents)
    diagnosis_codes: Mapped[list[Any]] = mapped_column(default=list)
    diagnosis_pointers: Mapped[str] = mapped_column(String(8), default="1")
    minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)  # timed codes
    patient_only: Mapped[bool] = mapped_column(Boolean, default=False)  # e.g. a no-show fee
    # What the source system last reported for this charge (statuses, paid/unpaid figures),
    # compared on every re-import to tell unchanged rows from updated ones.
    source_snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created()

    session: Mapped[ServiceSession] = relationship(back_populates="charges")
    __table_args__ = (
        UniqueConstraint("session_id", "procedure_code", "modifiers"),
        Index(None, "practice_id"),
    )


class Claim(Base):
    __tablename__ = "claims"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    number: Mapped[str] = mapped_column(String(17))  # CLM01, stable across resubmissions
    client_id: Mapped[int] = fk("clients.id")
    provider_id: Mapped[int | None] = fk("providers.id", nullable=True)
    payer_id: Mapped[int] = fk("payers.id")
    coverage_id: Mapped[int | None] = fk("coverages.id", nullable=True)
    frequency: Mapped[str] = mapped_column(String(1), default="1")  # 1 original, 7, 8
    payer_claim_control_number: Mapped[str] = mapped_column(String(50), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    status_changed_at: Mapped[datetime] = created()
    service_from_on: Mapped[date] = mapped_column(Date)
    service_to_on: Mapped[date] = mapped_column(Date)
    billed_cents: Mapped[int] = mapped_column(Cents, default=0)
    timely_filing_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_followup_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    assignee_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    assignee_team_id: Mapped[int | None] = fk("teams.id", nullable=True)
    original_claim_id: Mapped[int | None] = fk("claims.id", nullable=True)
    place_of_service: Mapped[str] = mapped_column(String(2), default="11")
    diagnosis_codes: Mapped[list[Any]] = mapped_column(default=list)  # up to 12, in HI order
    prior_authorization_number: Mapped[str] = mapped_column(String(50), default="")
    supervising_provider_id: Mapped[int | None] = fk("providers.id", nullable=True)
    # direct | incident_to | supervisor: on the last two, provider_id is the supervising
    # provider the claim bills under and performed_by_provider_id the clinician who saw the
    # client (kept for the compliance report).
    billing_basis: Mapped[str] = mapped_column(String(20), default="direct")
    performed_by_provider_id: Mapped[int | None] = fk("providers.id", nullable=True)
    source: Mapped[str] = mapped_column(String(30), default="session")
    created_at: Mapped[datetime] = created()

    lines: Mapped[list[ClaimLine]] = relationship(back_populates="claim", order_by="ClaimLine.line_number")
    client: Mapped[Client] = relationship()
    payer: Mapped[Payer] = relationship()
    __table_args__ = (
        UniqueConstraint("practice_id", "number"),
        Index(None, "practice_id", "status"),
        Index(None, "practice_id", "payer_id"),
        Index(None, "practice_id", "client_id"),
        Index(None, "practice_id", "next_followup_on"),
    )


class ClaimLine(Base):
    __tablename__ = "claim_lines"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    claim_id: Mapped[int] = fk("claims.id", index=True)
    charge_id: Mapped[int | None] = fk("charges.id", nullable=True, index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    procedure_code: Mapped[str] = mapped_column(String(10))
    modifiers: Mapped[str] = mapped_column(String(20), default="")
    units: Mapped[int] = mapped_column(Integer, default=1)
    charge_cents: Mapped[int] = mapped_column(Cents)
    service_on: Mapped[date] = mapped_column(Date)
    diagnosis_pointers: Mapped[str] = mapped_column(String(8), default="1")  # "1", "12", ...
    minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)

    claim: Mapped[Claim] = relationship(back_populates="lines")
    __table_args__ = (UniqueConstraint("claim_id", "line_number"),)


class SubmissionBatch(Base):
    """One outbound file or portal session covering several submissions."""

    __tablename__ = "submission_batches"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    channel: Mapped[str] = mapped_column(String(30))
    interchange_control_number: Mapped[str] = mapped_column(String(9), default="")
    group_control_number: Mapped[str] = mapped_column(String(9), default="")
    stored_file_id: Mapped[int | None] = fk("stored_files.id", nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="recorded")
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index(None, "practice_id"),)


class Submission(Base):
    """One sending of a claim: the practice's portal log."""

    __tablename__ = "submissions"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    claim_id: Mapped[int] = fk("claims.id", index=True)
    batch_id: Mapped[int | None] = fk("submission_batches.id", nullable=True)
    channel: Mapped[str] = mapped_column(String(30))  # portal|clearinghouse|simplepractice|paper
    portal_id: Mapped[int | None] = fk("insurance_portals.id", nullable=True)
    frequency: Mapped[str] = mapped_column(String(1), default="1")
    submitted_at: Mapped[datetime] = created()
    reference: Mapped[str] = mapped_column(String(80), default="")
    clearinghouse_reference: Mapped[str] = mapped_column(String(80), default="")
    payer_claim_control_number: Mapped[str] = mapped_column(String(50), default="")
    submitted_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    previous_submission_id: Mapped[int | None] = fk("submissions.id", nullable=True)
    __table_args__ = (Index(None, "practice_id", "submitted_at"),)


class ClaimScrub(Base):
    """One run of the scrubber over a claim: which edits ran and what they found."""

    __tablename__ = "claim_scrubs"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    claim_id: Mapped[int] = fk("claims.id", index=True)
    edits: Mapped[list[Any]] = mapped_column(default=list)  # edit ids, in the order they ran
    problems: Mapped[list[Any]] = mapped_column(default=list)  # {code, where, message, severity}
    has_errors: Mapped[bool] = mapped_column(Boolean, default=False)
    ran_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    ran_at: Mapped[datetime] = created()


class ScrubOverride(Base):
    """A warning a person accepted for a claim, with their reason (also audited)."""

    __tablename__ = "scrub_overrides"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    claim_id: Mapped[int] = fk("claims.id", index=True)
    problem_code: Mapped[str] = mapped_column(String(80))
    where: Mapped[str] = mapped_column(String(120), default="")
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("claim_id", "problem_code", "where"),)


class CodeSetRelease(Base):
    """A national code set release an admin loaded (not per practice): an ICD-10-CM order
    file or a CMS NCCI procedure-to-procedure table, with the dates it is in force."""

    __tablename__ = "code_set_releases"
    id: Mapped[int] = pk()
    kind: Mapped[str] = mapped_column(String(20))  # icd10cm | ncci_ptp | carc | rarc
    name: Mapped[str] = mapped_column(String(100))
    effective_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    stored_file_id: Mapped[int | None] = fk("stored_files.id", nullable=True)
    loaded_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("kind", "name"),)


class Icd10ReleaseCode(Base):
    """One code of a loaded ICD-10-CM release; header codes are kept, not billable."""

    __tablename__ = "icd10_release_codes"
    id: Mapped[int] = pk()
    release_id: Mapped[int] = fk("code_set_releases.id")
    code: Mapped[str] = mapped_column(String(8))  # without the dot
    billable: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (UniqueConstraint("release_id", "code"),)


class NcciEdit(Base):
    """One NCCI procedure-to-procedure pair: column 2 is not paid with column 1 on the same
    day, unless a modifier is allowed (indicator 1) and present."""

    __tablename__ = "ncci_edits"
    id: Mapped[int] = pk()
    release_id: Mapped[int] = fk("code_set_releases.id", index=True)
    column1_code: Mapped[str] = mapped_column(String(10))
    column2_code: Mapped[str] = mapped_column(String(10))
    effective_on: Mapped[date] = mapped_column(Date)
    deleted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    modifier_indicator: Mapped[str] = mapped_column(String(1))  # 0 never | 1 allowed | 9 n/a
    __table_args__ = (Index(None, "column1_code", "column2_code"),)


class X12ControlNumber(Base):
    """The last control number one sender used, per envelope level (ISA13, GS06, ST02):
    incremented under a row lock, so two writers never send the same number."""

    __tablename__ = "x12_control_numbers"
    id: Mapped[int] = pk()
    sender_id: Mapped[str] = mapped_column(String(35))  # ISA06 (and GS02) of the sender
    kind: Mapped[str] = mapped_column(String(3))  # ISA | GS | ST
    last_value: Mapped[int] = mapped_column(BigId, default=0)
    __table_args__ = (UniqueConstraint("sender_id", "kind"),)


class X12InboundFile(Base):
    """An X12 file received (999, 277CA, 277, 271, 835): kept raw and applied exactly once."""

    __tablename__ = "x12_inbound_files"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    stored_file_id: Mapped[int] = fk("stored_files.id")
    sha256: Mapped[str] = mapped_column(String(64))
    transaction_set: Mapped[str] = mapped_column(String(6))  # 999 | 277 | 271 | 835 ...
    implementation: Mapped[str] = mapped_column(String(20), default="")  # GS08, e.g. 005010X214
    sender_id: Mapped[str] = mapped_column(String(35), default="")
    interchange_control_number: Mapped[str] = mapped_column(String(9), default="")
    status: Mapped[str] = mapped_column(String(20), default="received")  # received|applied|refused
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    received_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("practice_id", "sha256"),)


class Remittance(Base):
    """One 835 transaction set: one payment (BPR/TRN) and the claims it pays, adjusts or denies.

    The same payment — payer, trace number (TRN02) and amount — is recorded once (the unique
    constraint makes eight concurrent ingestions of one file post it exactly once); a second
    835 with that trace and other content is an exception, never a merge. ``status``:
    received (read and balanced), review (waiting for the whole batch to be approved),
    posted (every claim posted), exceptions (posted where confident, the rest in the
    exception queue).
    """

    __tablename__ = "remittances"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    inbound_file_id: Mapped[int] = fk("x12_inbound_files.id", index=True)
    transaction_control_number: Mapped[str] = mapped_column(String(9), default="")  # ST02
    payer_id: Mapped[int | None] = fk("payers.id", nullable=True)
    payer_name: Mapped[str] = mapped_column(String(200), default="")  # N1*PR
    payer_identifier: Mapped[str] = mapped_column(String(80))  # TRN03 (or N1*PR's id)
    trace_number: Mapped[str] = mapped_column(String(80))  # TRN02: the EFT trace or check number
    amount_cents: Mapped[int] = mapped_column(Cents)  # BPR02, negative for a debit
    method: Mapped[str] = mapped_column(String(5), default="")  # BPR04: ACH CHK NON FWT BOP
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # BPR16
    payee_npi: Mapped[str] = mapped_column(String(20), default="")
    payee_tax_id: Mapped[str] = mapped_column(String(20), default="")
    content_sha256: Mapped[str] = mapped_column(String(64))  # of the transaction set's segments
    status: Mapped[str] = mapped_column(String(20), default="received")
    posting_mode: Mapped[str] = mapped_column(String(10), default="auto")  # auto | review
    payment_id: Mapped[int | None] = fk("payments.id", nullable=True)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    posted_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (
        UniqueConstraint("practice_id", "payer_identifier", "trace_number", "amount_cents"),
        Index(None, "practice_id", "status"),
    )


class RemittanceClaim(Base):
    """One CLP of a remittance: what the payer said about one claim, and how it was posted.

    ``claim_id`` is the claim it matched (``match_method``: our patient control number, the
    payer's claim control number, patient + date of service + billed amount, or by hand);
    ``state``: posted, exception (waiting in the queue), review, skipped (nothing to post).
    ``details`` keeps the CLP as read (names, dates, references, lines), so the exception
    queue can show and suggest without reading the file again.
    """

    __tablename__ = "remittance_claims"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    remittance_id: Mapped[int] = fk("remittances.id", index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # of its CLP in the file
    patient_control_number: Mapped[str] = mapped_column(String(38))  # CLP01
    status_code: Mapped[str] = mapped_column(String(2))  # CLP02
    charge_cents: Mapped[int] = mapped_column(Cents)  # CLP03
    paid_cents: Mapped[int] = mapped_column(Cents)  # CLP04
    patient_responsibility_cents: Mapped[int] = mapped_column(Cents, default=0)  # CLP05
    payer_claim_control_number: Mapped[str] = mapped_column(String(50), default="")  # CLP07
    claim_id: Mapped[int | None] = fk("claims.id", nullable=True, index=True)
    match_method: Mapped[str] = mapped_column(String(20), default="")
    state: Mapped[str] = mapped_column(String(15), default="received")
    reverses_id: Mapped[int | None] = fk("remittance_claims.id", nullable=True)
    ledger_transaction_id: Mapped[int | None] = fk("ledger_transactions.id", nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index(None, "practice_id", "patient_control_number"),)


class RemittanceAdjustment(Base):
    """One CAS triplet of a remittance claim, at claim level or for one of its service lines
    (``line_number`` the SVC's place in the CLP, ``claim_line_id`` the line it matched):
    kept row by row for denial and underpayment reports. CARC and RARC are X12's lists,
    stored as text, never refused when unknown; ``remarks`` are the line's LQ codes."""

    __tablename__ = "remittance_adjustments"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    remittance_claim_id: Mapped[int] = fk("remittance_claims.id", index=True)
    line_number: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: claim level
    claim_line_id: Mapped[int | None] = fk("claim_lines.id", nullable=True)
    group_code: Mapped[str] = mapped_column(String(2))  # CO PR OA PI CR
    reason_code: Mapped[str] = mapped_column(String(10))  # CARC
    amount_cents: Mapped[int] = mapped_column(Cents)
    quantity: Mapped[str] = mapped_column(String(15), default="")
    remarks: Mapped[str] = mapped_column(String(200), default="")  # RARC (LQ*HE), comma-joined
    __table_args__ = (Index(None, "practice_id", "group_code", "reason_code"),)


class ProviderAdjustment(Base):
    """One PLB amount of a remittance: interest, a forwarding balance, a recoupment ... posted
    at the payment level (BPR02 = the claims' CLP04 - the PLB amounts)."""

    __tablename__ = "provider_adjustments"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    remittance_id: Mapped[int] = fk("remittances.id", index=True)
    reason_code: Mapped[str] = mapped_column(String(2))  # PLB03-1: L6 interest, WO, FB, 72 ...
    reference: Mapped[str] = mapped_column(String(50), default="")  # PLB03-2
    amount_cents: Mapped[int] = mapped_column(Cents)
    fiscal_period_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # PLB02
    ledger_transaction_id: Mapped[int | None] = fk("ledger_transactions.id", nullable=True)


class ClaimStatusInquiry(Base):
    """A 276 claim status inquiry and the 277 answer it got."""

    __tablename__ = "claim_status_inquiries"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    claim_id: Mapped[int] = fk("claims.id", index=True)
    trace_number: Mapped[str] = mapped_column(String(50))  # TRN02, echoed by the 277
    request_file_id: Mapped[int | None] = fk("stored_files.id", nullable=True)
    response_file_id: Mapped[int | None] = fk("x12_inbound_files.id", nullable=True)
    category_code: Mapped[str] = mapped_column(String(5), default="")  # STC01-1, e.g. A1, F1, P1
    status_code: Mapped[str] = mapped_column(String(5), default="")  # STC01-2
    status_effective_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("practice_id", "trace_number"),)


class EligibilityCheck(Base):
    """A 270 eligibility inquiry for a coverage and what the 271 said."""

    __tablename__ = "eligibility_checks"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    coverage_id: Mapped[int] = fk("coverages.id", index=True)
    trace_number: Mapped[str] = mapped_column(String(50))
    as_of_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="requested")  # requested|active|inactive|error
    plan_name: Mapped[str] = mapped_column(String(200), default="")
    copay_cents: Mapped[int | None] = mapped_column(Cents, nullable=True)
    coinsurance_basis_points: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 2000 = 20%
    deductible_remaining_cents: Mapped[int | None] = mapped_column(Cents, nullable=True)
    out_of_pocket_remaining_cents: Mapped[int | None] = mapped_column(Cents, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # every benefit (EB) line read
    error: Mapped[str] = mapped_column(Text, default="")
    request_file_id: Mapped[int | None] = fk("stored_files.id", nullable=True)
    response_file_id: Mapped[int | None] = fk("x12_inbound_files.id", nullable=True)
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("practice_id", "trace_number"),)


class ClaimEvent(Base):
    """Every status change of a claim. Insert-only."""

    __tablename__ = "claim_events"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    claim_id: Mapped[int] = fk("claims.id", index=True)
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    actor_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = created()


# --- money ---------------------------------------------------------------------------------


class LedgerTransaction(Base):
    """A balanced set of postings. Insert-only; corrections are new transactions."""

    __tablename__ = "ledger_transactions"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    kind: Mapped[str] = mapped_column(String(40))
    accounting_on: Mapped[date] = mapped_column(Date)
    memo: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    reverses_transaction_id: Mapped[int | None] = fk("ledger_transactions.id", nullable=True)
    payment_id: Mapped[int | None] = fk("payments.id", nullable=True)
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()

    postings: Mapped[list[Posting]] = relationship(back_populates="transaction")
    __table_args__ = (
        UniqueConstraint("practice_id", "idempotency_key"),
        Index(None, "practice_id", "accounting_on"),
    )


class Posting(Base):
    """One leg of a transaction (debit positive). Insert-only."""

    __tablename__ = "postings"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    transaction_id: Mapped[int] = fk("ledger_transactions.id", index=True)
    account: Mapped[str] = mapped_column(String(40))
    amount_cents: Mapped[int] = mapped_column(Cents)
    charge_id: Mapped[int | None] = fk("charges.id", nullable=True)
    claim_id: Mapped[int | None] = fk("claims.id", nullable=True)
    client_id: Mapped[int | None] = fk("clients.id", nullable=True)
    coverage_id: Mapped[int | None] = fk("coverages.id", nullable=True)
    guarantor_id: Mapped[int | None] = fk("guarantors.id", nullable=True)
    payment_id: Mapped[int | None] = fk("payments.id", nullable=True)
    payer_id: Mapped[int | None] = fk("payers.id", nullable=True)
    accounting_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = created()

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="postings")
    __table_args__ = (
        Index(None, "practice_id", "account", "accounting_on"),
        Index(None, "practice_id", "claim_id"),
        Index(None, "practice_id", "client_id"),
    )


class LedgerBalance(Base):
    """A running balance kept beside the postings, per scope (account, charge, claim, client,
    payer) and account, updated in the same transaction as the postings it sums."""

    __tablename__ = "ledger_balances"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    scope: Mapped[str] = mapped_column(String(10))
    scope_id: Mapped[int] = mapped_column(BigId, default=0)  # 0 for the account scope
    account: Mapped[str] = mapped_column(String(40))
    balance_cents: Mapped[int] = mapped_column(Cents, default=0)
    updated_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("practice_id", "scope", "scope_id", "account"),)


class AccountingPeriod(Base):
    """A closed month: nothing new may be dated in it."""

    __tablename__ = "accounting_periods"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime] = created()
    closed_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    __table_args__ = (UniqueConstraint("practice_id", "starts_on"),)


class PaymentBatch(Base):
    __tablename__ = "payment_batches"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    name: Mapped[str] = mapped_column(String(100), default="")
    control_count: Mapped[int] = mapped_column(Integer, default=0)
    control_amount_cents: Mapped[int] = mapped_column(Cents, default=0)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index(None, "practice_id"),)


class Deposit(Base):
    """A bank line, to reconcile payments against."""

    __tablename__ = "deposits"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    deposited_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(Cents)
    reference: Mapped[str] = mapped_column(String(80), default="")
    description: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index(None, "practice_id", "deposited_on"),)


class Payment(Base):
    """Money received: an insurance EFT/check (835 or by hand) or a patient payment."""

    __tablename__ = "payments"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    kind: Mapped[str] = mapped_column(String(20))  # insurance | patient
    method: Mapped[str] = mapped_column(String(20))  # eft | check | card | cash | ach
    amount_cents: Mapped[int] = mapped_column(Cents)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(80), default="")  # trace or check number
    payer_id: Mapped[int | None] = fk("payers.id", nullable=True)
    client_id: Mapped[int | None] = fk("clients.id", nullable=True)
    guarantor_id: Mapped[int | None] = fk("guarantors.id", nullable=True)
    batch_id: Mapped[int | None] = fk("payment_batches.id", nullable=True)
    deposit_id: Mapped[int | None] = fk("deposits.id", nullable=True)
    stored_file_id: Mapped[int | None] = fk("stored_files.id", nullable=True)
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index(None, "practice_id", "received_on"),)


class StoredFile(Base):
    """Every raw file in or out, kept with its hash (content encrypted at rest)."""

    __tablename__ = "stored_files"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    kind: Mapped[str] = mapped_column(String(20))  # csv | 835 | 837 | 999 | 277CA | pdf ...
    direction: Mapped[str] = mapped_column(String(10))  # in | out
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigId)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    retain_until_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index(None, "practice_id", "sha256"),)


class ImportBatch(Base):
    __tablename__ = "import_batches"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    format: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255), default="")
    mapping_id: Mapped[int | None] = fk("column_mappings.id", nullable=True)
    # The dates of service the file covers (for "missing from a later export" flags).
    covers_from_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    covers_to_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    stored_file_id: Mapped[int | None] = fk("stored_files.id", nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="staged")  # staged|committed|discarded
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    decided_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    __table_args__ = (Index(None, "practice_id", "created_at"),)


class ImportRowOutcome(Base):
    __tablename__ = "import_row_outcomes"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    batch_id: Mapped[int] = fk("import_batches.id", index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))  # new|updated|unchanged|flagged|rejected
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    session_id: Mapped[int | None] = fk("sessions.id", nullable=True)
    claim_id: Mapped[int | None] = fk("claims.id", nullable=True)


class ColumnMapping(Base):
    """A saved column mapping for a CSV source we have no built-in format for, reused by name."""

    __tablename__ = "column_mappings"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    name: Mapped[str] = mapped_column(String(100))
    target_format: Mapped[str] = mapped_column(String(40))
    columns: Mapped[dict[str, Any]] = mapped_column(default=dict)  # target field -> source header
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("practice_id", "name"),)


class StagedArRow(Base):
    """One staged row of an AR portfolio file, typed, so that commit can write claims,
    ledger transactions and balances set-based (INSERT ... SELECT) rather than row by row."""

    __tablename__ = "staged_ar_rows"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    batch_id: Mapped[int] = fk("import_batches.id")
    row_number: Mapped[int] = mapped_column(Integer)
    claim_ref: Mapped[str] = mapped_column(String(50))
    patient_name: Mapped[str] = mapped_column(String(200))
    patient_key: Mapped[str] = mapped_column(String(200))
    payer_name: Mapped[str] = mapped_column(String(250))
    payer_edi_id: Mapped[str] = mapped_column(String(20), default="")
    member_id: Mapped[str] = mapped_column(String(40), default="")
    provider_name: Mapped[str] = mapped_column(String(200), default="")
    procedure_code: Mapped[str] = mapped_column(String(10), default="")
    service_on: Mapped[date] = mapped_column(Date)
    aging_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    billed_cents: Mapped[int | None] = mapped_column(Cents, nullable=True)
    balance_cents: Mapped[int] = mapped_column(Cents)
    team_name: Mapped[str] = mapped_column(String(100), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="new")
    __table_args__ = (Index(None, "batch_id", "row_number"),)


# --- work ----------------------------------------------------------------------------------


class WorkItem(Base):
    """Everything a person must look at: import flags, alerts, follow-ups, posting
    exceptions, requests for information."""

    __tablename__ = "work_items"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    kind: Mapped[str] = mapped_column(String(30))  # flag|alert|followup|exception|rfi
    severity: Mapped[str] = mapped_column(String(10), default="info")  # critical|warning|info
    status: Mapped[str] = mapped_column(String(15), default="open")  # open|acknowledged|resolved
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[str] = mapped_column(String(60), default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    holds_billing: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    owner_team_id: Mapped[int | None] = fk("teams.id", nullable=True)
    # The role an alert rule names as owner (director | billing | admin); owner_user_id is
    # the person it is assigned to.
    owner_role: Mapped[str] = mapped_column(String(20), default="")
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    claim_id: Mapped[int | None] = fk("claims.id", nullable=True)
    session_id: Mapped[int | None] = fk("sessions.id", nullable=True)
    client_id: Mapped[int | None] = fk("clients.id", nullable=True)
    # A flag about a clinician rather than one session (unknown clinician: holds all theirs).
    provider_id: Mapped[int | None] = fk("providers.id", nullable=True)
    # A flag about a payer (unknown payer: holds the sessions of clients it covers).
    payer_id: Mapped[int | None] = fk("payers.id", nullable=True)
    # A posting exception: the remittance claim waiting (or the payment, for a PLB).
    remittance_id: Mapped[int | None] = fk("remittances.id", nullable=True)
    remittance_claim_id: Mapped[int | None] = fk("remittance_claims.id", nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")
    resolved_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (
        UniqueConstraint("practice_id", "dedupe_key"),
        Index(None, "practice_id", "status", "due_on"),
        Index(None, "practice_id", "session_id"),
    )


class FollowupRule(Base):
    """One version of a follow-up rule (see ``domain.followup_rules``): of one payer
    (``scope`` "payer:<id>"), of a payer kind ("kind:<kind>") or the practice's default
    ("practice"). A change is a new version; the latest version of the most specific scope
    applies, and the work items name the version that raised them."""

    __tablename__ = "followup_rules"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    scope: Mapped[str] = mapped_column(String(60))
    payer_id: Mapped[int | None] = fk("payers.id", nullable=True)
    payer_kind: Mapped[str] = mapped_column(String(30), default="")
    version: Mapped[int] = mapped_column(Integer)
    expected_days: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: learned
    grace_days: Mapped[int] = mapped_column(Integer, default=5)
    repeat_days: Mapped[int] = mapped_column(Integer, default=14)
    escalate_after_days: Mapped[int] = mapped_column(Integer, default=60)
    # [{"starts_on": "2026-12-24", "ends_on": "2026-12-26", "reason": "..."}]
    quiet_windows: Mapped[list[Any]] = mapped_column(default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("practice_id", "scope", "version"),)


class SavedFilter(Base):
    """A person's named filter on one list (sessions, claims, ...), as its query string."""

    __tablename__ = "saved_filters"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    user_id: Mapped[int] = fk("users.id")
    page: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("practice_id", "user_id", "page", "name"),)


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    author_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    body: Mapped[str] = mapped_column(Text)
    claim_id: Mapped[int | None] = fk("claims.id", nullable=True, index=True)
    session_id: Mapped[int | None] = fk("sessions.id", nullable=True)
    work_item_id: Mapped[int | None] = fk("work_items.id", nullable=True)
    next_followup_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index(None, "practice_id"),)


class Denial(Base):
    __tablename__ = "denials"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    claim_id: Mapped[int] = fk("claims.id", index=True)
    claim_line_id: Mapped[int | None] = fk("claim_lines.id", nullable=True)
    group_code: Mapped[str] = mapped_column(String(2))
    carc: Mapped[str] = mapped_column(String(10))
    rarc: Mapped[str] = mapped_column(String(40), default="")
    amount_cents: Mapped[int] = mapped_column(Cents)
    category: Mapped[str] = mapped_column(String(40), default="other")
    default_action: Mapped[str] = mapped_column(String(40), default="")
    appeal_deadline_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # What was done about it: open | corrected (a replacement claim went out) | appealed |
    # written_off | billed_patient | overturned (paid after all). The posting writes "open".
    resolution: Mapped[str] = mapped_column(String(20), default="open")
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index(None, "practice_id", "category"),)


class AdjustmentCode(Base):
    """One code of an official CARC or RARC list an admin imported (X12's lists are not
    shipped): its description and the dates it is in force. Codes stay text; a code no list
    knows is still accepted everywhere."""

    __tablename__ = "adjustment_codes"
    id: Mapped[int] = pk()
    release_id: Mapped[int] = fk("code_set_releases.id", index=True)
    code_list: Mapped[str] = mapped_column(String(4))  # carc | rarc
    code: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    __table_args__ = (UniqueConstraint("release_id", "code"), Index(None, "code_list", "code"))


class AppealLetterTemplate(Base):
    """One version of an editable appeal letter: a change is a new version, never an edit;
    the latest version of a name is the one offered, and each appeal keeps the version it
    was written from."""

    __tablename__ = "appeal_letter_templates"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: any level
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("practice_id", "name", "version"),)


class Appeal(Base):
    """An appeal of a denied (or underpaid) claim: draft -> submitted -> won | partially_won
    | lost (or withdrawn), at a level (1 first, 2 second, 3 external review)."""

    __tablename__ = "appeals"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    claim_id: Mapped[int] = fk("claims.id", index=True)
    denial_id: Mapped[int | None] = fk("denials.id", nullable=True)
    level: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    argument: Mapped[str] = mapped_column(Text, default="")
    submitted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    recovered_cents: Mapped[int] = mapped_column(Cents, default=0)
    letter_file_id: Mapped[int | None] = fk("stored_files.id", nullable=True)
    # The amount appealed, the date the payer's appeal limit ends, the letter's template
    # version, the enclosures listed in the letter, the payer's appeal reference and what the
    # decision said.
    appealed_cents: Mapped[int] = mapped_column(Cents, default=0)
    deadline_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    template_id: Mapped[int | None] = fk("appeal_letter_templates.id", nullable=True)
    enclosures: Mapped[list[Any]] = mapped_column(default=list)
    payer_reference: Mapped[str] = mapped_column(String(60), default="")
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    previous_appeal_id: Mapped[int | None] = fk("appeals.id", nullable=True)
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index(None, "practice_id", "status"),)


class AssignmentRule(Base):
    """One rule of a version of an organization's assignment rules (first match wins): the
    conditions it needs (balance over, aged over, payer kind, payer, clinician, practice) and
    the team (by name, in the claim's practice) or person it assigns to. Saving the rules
    writes a whole new version; the latest version applies."""

    __tablename__ = "assignment_rules"
    id: Mapped[int] = pk()
    organization_id: Mapped[int] = fk("organizations.id")
    version: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    team_name: Mapped[str] = mapped_column(String(100), default="")
    user_id: Mapped[int | None] = fk("users.id", nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("organization_id", "version", "position"),)


class PayerStrategy(Base):
    """The workflow a practice chose for working one payer's open claims (phone, e-mail,
    portal, appeal, negotiation); a change is a new row, the latest applies."""

    __tablename__ = "payer_strategies"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    payer_id: Mapped[int] = fk("payers.id")
    workflow: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    chosen_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index(None, "practice_id", "payer_id"),)


class Campaign(Base):
    """Work items grouped under one workflow (e.g. "call Aetna about 60+ day claims"); its
    success rate and days to payment are measured from what happened to its claims."""

    __tablename__ = "campaigns"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    name: Mapped[str] = mapped_column(String(120))
    workflow: Mapped[str] = mapped_column(String(20))
    payer_id: Mapped[int | None] = fk("payers.id", nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | closed
    started_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("practice_id", "name"),)


class CampaignItem(Base):
    """A claim (through its work item) in a campaign, from the day it joined, with its
    insurance balance then."""

    __tablename__ = "campaign_items"
    id: Mapped[int] = pk()
    campaign_id: Mapped[int] = fk("campaigns.id", index=True)
    claim_id: Mapped[int] = fk("claims.id", index=True)
    work_item_id: Mapped[int | None] = fk("work_items.id", nullable=True)
    added_on: Mapped[date] = mapped_column(Date)
    balance_at_start_cents: Mapped[int] = mapped_column(Cents, default=0)
    created_at: Mapped[datetime] = created()
    __table_args__ = (UniqueConstraint("campaign_id", "claim_id"),)


class Statement(Base):
    __tablename__ = "statements"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    client_id: Mapped[int] = fk("clients.id", index=True)
    guarantor_id: Mapped[int | None] = fk("guarantors.id", nullable=True)
    kind: Mapped[str] = mapped_column(String(20), default="statement")  # statement | letter
    statement_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    amount_due_cents: Mapped[int] = mapped_column(Cents)
    delivery: Mapped[str] = mapped_column(String(10), default="email")  # email | mail
    stored_file_id: Mapped[int | None] = fk("stored_files.id", nullable=True)
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index(None, "practice_id", "statement_on"),)


class PaymentPlan(Base):
    __tablename__ = "payment_plans"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    client_id: Mapped[int] = fk("clients.id", index=True)
    guarantor_id: Mapped[int | None] = fk("guarantors.id", nullable=True)
    total_cents: Mapped[int] = mapped_column(Cents)
    instalment_cents: Mapped[int] = mapped_column(Cents)
    interval_days: Mapped[int] = mapped_column(Integer, default=30)
    starts_on: Mapped[date] = mapped_column(Date)
    autopay: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = created()
    __table_args__ = (Index(None, "practice_id"),)


class ApprovalRequest(Base):
    """Write-offs, refunds and large adjustments wait here for an admin other than the requester."""

    __tablename__ = "approval_requests"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    kind: Mapped[str] = mapped_column(String(20))  # write_off | refund | adjustment
    amount_cents: Mapped[int] = mapped_column(Cents)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    claim_id: Mapped[int | None] = fk("claims.id", nullable=True)
    client_id: Mapped[int | None] = fk("clients.id", nullable=True)
    requested_by_user_id: Mapped[int] = fk("users.id")
    decided_by_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = created()
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    __table_args__ = (Index(None, "practice_id", "status"),)


class AuditLog(Base):
    """Append-only, hash-chained per practice with a gap-free sequence."""

    __tablename__ = "audit_log"
    id: Mapped[int] = pk()
    practice_id: Mapped[int] = practice_fk()
    seq: Mapped[int] = mapped_column(BigId)
    actor_user_id: Mapped[int | None] = fk("users.id", nullable=True)
    action: Mapped[str] = mapped_column(String(20))  # create | update | delete | read | login ...
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(40), default="")
    client_ids: Mapped[list[Any]] = mapped_column(default=list)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    source_ip: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = created()
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("practice_id", "seq"), Index(None, "practice_id", "created_at"))


class AuditHead(Base):
    """The last sequence number and hash per practice: the row writers lock to append."""

    __tablename__ = "audit_heads"
    practice_id: Mapped[int] = mapped_column(BigId, ForeignKey("practices.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, default=0)
    hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(Client, "before_insert")
@event.listens_for(Client, "before_update")
@event.listens_for(Provider, "before_insert")
@event.listens_for(Provider, "before_update")
def _keep_name_key(_mapper: Any, _connection: Any, target: Client | Provider) -> None:
    target.name_key = person_key_of(target.first_name, target.last_name)
