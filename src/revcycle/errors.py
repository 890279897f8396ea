"""Errors that cross layers. Each carries a short machine code and a human detail;
the web layer turns them into `{"error": code, "detail": text}` with the status below."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from revcycle.domain.problems import Problem


class RevcycleError(Exception):
    code: ClassVar[str] = "bad_request"
    status_code: ClassVar[int] = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(RevcycleError):
    """Also what another practice's ids answer: existence is not disclosed."""

    code = "not_found"
    status_code = 404


class PermissionDenied(RevcycleError):
    code = "forbidden"
    status_code = 403


class NotAuthenticated(RevcycleError):
    code = "not_authenticated"
    status_code = 401


class Conflict(RevcycleError):
    code = "conflict"
    status_code = 409


class InvalidInput(RevcycleError):
    """Bad input: the detail names the file, row or segment and field."""

    code = "invalid"
    status_code = 422

    def __init__(self, detail: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(detail)
        self.problems = list(problems)
