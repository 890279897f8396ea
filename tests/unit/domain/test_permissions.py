"""Permissions: the practice's table, cell by cell."""

import pytest

from revcycle.domain.permissions import (
    PERMISSIONS,
    Forbidden,
    Permission,
    Role,
    Scope,
    can,
    require,
    scope_for,
)

P = Permission
NO, OWN, ALL = Scope.NONE, Scope.OWN, Scope.ALL

ROLES = (Role.BILLING, Role.THERAPIST, Role.ADMIN, Role.FRONT_DESK, Role.CLIENT)

# Columns in ROLES order:  billing, therapist, admin, front desk, client
EXPECTED: dict[Permission, tuple[Scope, Scope, Scope, Scope, Scope]] = {
    P.ENTER_CHARGES: (ALL, NO, ALL, NO, NO),
    P.SUBMIT_CLAIMS: (ALL, NO, ALL, NO, NO),
    P.GENERATE_STATEMENTS: (ALL, NO, ALL, NO, NO),
    P.RUN_REPORTS: (ALL, NO, ALL, NO, NO),
    P.POST_PAYMENTS: (ALL, NO, ALL, NO, NO),
    P.POST_PATIENT_PAYMENTS: (ALL, NO, ALL, ALL, NO),
    P.REQUEST_REFUND: (ALL, NO, ALL, NO, NO),
    P.APPROVE_REQUESTS: (NO, NO, ALL, NO, NO),
    P.WRITE_OFF: (NO, NO, ALL, NO, NO),
    P.VIEW_FINANCIALS: (ALL, OWN, ALL, NO, OWN),
    P.MAKE_PAYMENT: (ALL, NO, ALL, ALL, OWN),
    P.APPEAL_DENIAL: (ALL, NO, ALL, NO, NO),
    P.ADD_CLAIM_NOTES: (ALL, OWN, ALL, NO, NO),
    P.VIEW_CLAIMS: (ALL, OWN, ALL, NO, NO),
    P.VIEW_SESSIONS: (ALL, OWN, ALL, NO, OWN),
    P.VIEW_CLIENTS: (ALL, OWN, ALL, ALL, OWN),
    P.VIEW_CLIENT_BALANCE: (ALL, NO, ALL, ALL, OWN),
    P.UPDATE_INSURANCE: (ALL, NO, ALL, ALL, NO),
    P.VIEW_PAYERS: (ALL, NO, ALL, ALL, NO),
    P.VIEW_PROVIDERS: (ALL, OWN, ALL, ALL, NO),
    P.VIEW_WORK_QUEUE: (ALL, OWN, ALL, NO, NO),
    P.VIEW_DASHBOARD: (ALL, NO, ALL, NO, NO),
    P.MANAGE_USERS: (NO, NO, ALL, NO, NO),
    P.MANAGE_PRACTICE: (NO, NO, ALL, NO, NO),
    P.MANAGE_FEES: (ALL, NO, ALL, NO, NO),
    P.VIEW_AUDIT_LOG: (NO, NO, ALL, NO, NO),
    P.CLOSE_PERIOD: (NO, NO, ALL, NO, NO),
}

CELLS = [
    (role, permission, row[column])
    for permission, row in EXPECTED.items()
    for column, role in enumerate(ROLES)
]


def test_the_expected_table_covers_every_permission_and_role() -> None:
    assert set(EXPECTED) == set(Permission)
    assert set(ROLES) == set(Role)
    assert set(PERMISSIONS) == set(Role)
    for role in Role:
        assert set(PERMISSIONS[role]) == set(Permission)


@pytest.mark.parametrize(("role", "permission", "scope"), CELLS)
def test_cell(role: Role, permission: Permission, scope: Scope) -> None:
    assert PERMISSIONS[role][permission] is scope
    assert scope_for([role], permission) is scope
    assert can([role], permission) is (scope > Scope.NONE)


def test_the_widest_scope_wins() -> None:
    assert scope_for([Role.THERAPIST, Role.ADMIN], P.VIEW_CLAIMS) is Scope.ALL
    assert scope_for([Role.CLIENT, Role.THERAPIST], P.VIEW_SESSIONS) is Scope.OWN
    assert scope_for([], P.VIEW_CLAIMS) is Scope.NONE


def test_only_an_admin_approves_and_writes_off() -> None:
    for role in Role:
        assert can([role], P.APPROVE_REQUESTS) is (role is Role.ADMIN)
        assert can([role], P.WRITE_OFF) is (role is Role.ADMIN)


def test_require_returns_the_scope() -> None:
    assert require([Role.THERAPIST], P.VIEW_CLAIMS) is Scope.OWN
    assert require({Role.BILLING}, P.SUBMIT_CLAIMS) is Scope.ALL


def test_require_refuses_with_a_clear_message() -> None:
    with pytest.raises(Forbidden, match="front_desk may not view claims") as caught:
        require([Role.FRONT_DESK], P.VIEW_CLAIMS)
    assert caught.value.permission is P.VIEW_CLAIMS
    assert isinstance(caught.value, PermissionError)
    with pytest.raises(Forbidden, match="no role may not write off"):
        require([], P.WRITE_OFF)


def test_roles_can_be_any_iterable_used_once() -> None:
    assert require(iter([Role.BILLING]), P.RUN_REPORTS) is Scope.ALL
