"""Permissions: who may do what, in one table.

A user holds one role per practice (admin, billing, therapist, front_desk, client). Each
permission is granted to a role with a :class:`Scope`: ``ALL`` records of the practice, only
``OWN`` (a therapist's own sessions and clients, a client's own record), or ``NONE``. With
several roles the widest scope wins. Deciding which records are "own" is the caller's job
(a query filter); this module only says whether the filter applies.

The table is the practice's own; billing may *request* a refund or a write-off, only an admin
approves one (``approve_requests``), and front desk takes patient payments and sees a
client's balance due, not claim detail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum, StrEnum
from types import MappingProxyType

__all__ = [
    "PERMISSIONS",
    "Forbidden",
    "Permission",
    "Role",
    "Scope",
    "can",
    "require",
    "scope_for",
]


class Role(StrEnum):
    """A user's role in one practice."""

    ADMIN = "admin"
    BILLING = "billing"
    THERAPIST = "therapist"
    FRONT_DESK = "front_desk"
    CLIENT = "client"


class Scope(IntEnum):
    """How far a permission reaches; ordered so that ``max`` is the widest."""

    NONE = 0
    OWN = 1
    ALL = 2


class Permission(StrEnum):
    """Something a user may do or see."""

    ENTER_CHARGES = "enter_charges"
    SUBMIT_CLAIMS = "submit_claims"
    GENERATE_STATEMENTS = "generate_statements"
    RUN_REPORTS = "run_reports"
    POST_PAYMENTS = "post_payments"  # insurance payments and ERAs
    POST_PATIENT_PAYMENTS = "post_patient_payments"
    REQUEST_REFUND = "request_refund"
    APPROVE_REQUESTS = "approve_requests"  # write-offs, refunds, large adjustments
    WRITE_OFF = "write_off"
    VIEW_FINANCIALS = "view_financials"
    MAKE_PAYMENT = "make_payment"
    APPEAL_DENIAL = "appeal_denial"
    ADD_CLAIM_NOTES = "add_claim_notes"
    VIEW_CLAIMS = "view_claims"
    VIEW_SESSIONS = "view_sessions"
    VIEW_CLIENTS = "view_clients"
    VIEW_CLIENT_BALANCE = "view_client_balance"
    UPDATE_INSURANCE = "update_insurance"
    VIEW_PAYERS = "view_payers"
    VIEW_PROVIDERS = "view_providers"
    VIEW_WORK_QUEUE = "view_work_queue"
    VIEW_DASHBOARD = "view_dashboard"
    MANAGE_USERS = "manage_users"
    MANAGE_PRACTICE = "manage_practice"
    MANAGE_FEES = "manage_fees"  # fee schedules and payer contracts: see and change them
    VIEW_AUDIT_LOG = "view_audit_log"
    CLOSE_PERIOD = "close_period"


P = Permission
A, B, T, F, C = Role.ADMIN, Role.BILLING, Role.THERAPIST, Role.FRONT_DESK, Role.CLIENT
ALL, OWN = Scope.ALL, Scope.OWN

# The practice's table, one row per permission; a role not named has no access.
_GRANTS: Mapping[Permission, Mapping[Role, Scope]] = {
    P.ENTER_CHARGES: {B: ALL, A: ALL},
    P.SUBMIT_CLAIMS: {B: ALL, A: ALL},
    P.GENERATE_STATEMENTS: {B: ALL, A: ALL},
    P.RUN_REPORTS: {B: ALL, A: ALL},
    P.POST_PAYMENTS: {B: ALL, A: ALL},
    P.POST_PATIENT_PAYMENTS: {B: ALL, A: ALL, F: ALL},
    P.REQUEST_REFUND: {B: ALL, A: ALL},  # billing's request waits for an admin
    P.APPROVE_REQUESTS: {A: ALL},
    P.WRITE_OFF: {A: ALL},
    P.VIEW_FINANCIALS: {B: ALL, T: OWN, A: ALL, C: OWN},
    P.MAKE_PAYMENT: {B: ALL, A: ALL, F: ALL, C: OWN},
    P.APPEAL_DENIAL: {B: ALL, A: ALL},
    P.ADD_CLAIM_NOTES: {B: ALL, A: ALL, T: OWN},  # a therapist views and adds notes
    P.VIEW_CLAIMS: {B: ALL, A: ALL, T: OWN},
    P.VIEW_SESSIONS: {B: ALL, A: ALL, T: OWN, C: OWN},
    P.VIEW_CLIENTS: {B: ALL, A: ALL, F: ALL, T: OWN, C: OWN},
    P.VIEW_CLIENT_BALANCE: {B: ALL, A: ALL, F: ALL, C: OWN},
    P.UPDATE_INSURANCE: {B: ALL, A: ALL, F: ALL},
    P.VIEW_PAYERS: {B: ALL, A: ALL, F: ALL},
    P.VIEW_PROVIDERS: {B: ALL, A: ALL, F: ALL, T: OWN},
    P.VIEW_WORK_QUEUE: {B: ALL, A: ALL, T: OWN},
    P.VIEW_DASHBOARD: {B: ALL, A: ALL},
    P.MANAGE_USERS: {A: ALL},
    P.MANAGE_PRACTICE: {A: ALL},
    P.MANAGE_FEES: {B: ALL, A: ALL},
    P.VIEW_AUDIT_LOG: {A: ALL},
    P.CLOSE_PERIOD: {A: ALL},
}

PERMISSIONS: Mapping[Role, Mapping[Permission, Scope]] = MappingProxyType(
    {
        role: MappingProxyType(
            {permission: _GRANTS[permission].get(role, Scope.NONE) for permission in Permission}
        )
        for role in Role
    }
)


class Forbidden(PermissionError):
    """The user's roles do not grant the permission."""

    def __init__(self, roles: frozenset[Role], permission: Permission) -> None:
        self.roles = roles
        self.permission = permission
        held = ", ".join(sorted(roles)) or "no role"
        super().__init__(f"{held} may not {permission.replace('_', ' ')}")


def scope_for(roles: Iterable[Role], permission: Permission) -> Scope:
    """The widest scope any of ``roles`` has for ``permission`` (``NONE`` without roles)."""
    return max((PERMISSIONS[role][permission] for role in roles), default=Scope.NONE)


def can(roles: Iterable[Role], permission: Permission) -> bool:
    """True when some role grants ``permission`` at any scope."""
    return scope_for(roles, permission) > Scope.NONE


def require(roles: Iterable[Role], permission: Permission) -> Scope:
    """Return the scope granted, or raise :class:`Forbidden`."""
    held = frozenset(roles)
    scope = scope_for(held, permission)
    if scope is Scope.NONE:
        raise Forbidden(held, permission)
    return scope
