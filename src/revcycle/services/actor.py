"""Who is acting: a user with roles per practice, or the system (jobs, demo, migrations).

Every service takes an actor; access is checked against the one permission table in
`domain.permissions`. An id that belongs to a practice the actor is not a member of answers
NotFound, never Forbidden, so that existence is not disclosed across practices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from revcycle.domain.permissions import Permission, Role, Scope, scope_for
from revcycle.errors import NotFound, PermissionDenied


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    roles_by_practice: Mapping[int, frozenset[Role]] = field(default_factory=dict)
    source_ip: str = ""
    label: str = ""
    is_system: bool = False

    @property
    def practice_ids(self) -> frozenset[int]:
        return frozenset(self.roles_by_practice)

    def roles_in(self, practice_id: int) -> frozenset[Role]:
        return self.roles_by_practice.get(practice_id, frozenset())

    def scope(self, practice_id: int, permission: Permission) -> Scope:
        if self.is_system:
            return Scope.ALL
        return scope_for(self.roles_in(practice_id), permission)

    def require(self, practice_id: int, permission: Permission) -> Scope:
        """The actor's scope for the permission in this practice, or an error.

        Not a member: NotFound (the practice's data does not exist for them). A member
        without the permission: PermissionDenied.
        """
        if not self.is_system and practice_id not in self.roles_by_practice:
            raise NotFound("not found")
        granted = self.scope(practice_id, permission)
        if granted == Scope.NONE:
            raise PermissionDenied(f"your role does not allow: {permission.value.replace('_', ' ')}")
        return granted

    def with_ip(self, source_ip: str) -> Actor:
        return Actor(self.user_id, self.roles_by_practice, source_ip, self.label, self.is_system)


def system_actor(label: str = "system") -> Actor:
    return Actor(user_id=None, label=label, is_system=True)
