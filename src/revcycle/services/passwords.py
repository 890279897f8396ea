"""Passwords: Argon2id hashes and the policy a new password must meet.

The policy follows NIST SP 800-63B rather than composition rules: long enough (12+
characters), not one of the passwords attackers try first (a shipped list of well-known
ones), not the user's own e-mail name, not a single character repeated. Problems come back
as data so the form can show all of them at once.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from revcycle.domain.problems import Problem

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing megabytes of "password" is a denial of service, not a password

# argon2-cffi's RFC 9106 "low memory" profile: Argon2id, t=3, m=64 MiB, p=4.
_hasher = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, type=Type.ID)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of well-known passwords, lowercased."""
    text = files("revcycle.services").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_password_policy(password: str, *, email: str = "") -> list[Problem]:
    """Every reason the password is refused; empty when it is acceptable."""
    problems: list[Problem] = []
    lowered = password.lower()
    if len(password) < MIN_LENGTH:
        problems.append(Problem("password.too_short", "password", f"use at least {MIN_LENGTH} characters"))
    if len(password) > MAX_LENGTH:
        problems.append(Problem("password.too_long", "password", f"use at most {MAX_LENGTH} characters"))
    if lowered in common_passwords():
        problems.append(Problem("password.common", "password", "this password is too common; choose another"))
    if password and len(set(password)) == 1:
        problems.append(
            Problem("password.repeated", "password", "a single repeated character is not a password")
        )
    local_part = email.split("@", 1)[0].strip().lower()
    if len(local_part) >= 3 and local_part in lowered:
        problems.append(
            Problem("password.contains_email", "password", "do not use your e-mail name in the password")
        )
    return problems


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> tuple[bool, str | None]:
    """Whether the password matches, and a fresh hash when the stored one is outdated.

    The second value is not None only on a match whose hash was made with older
    parameters; the caller stores it.
    """
    if not password_hash:
        return False, None
    try:
        _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if _hasher.check_needs_rehash(password_hash):
        return True, _hasher.hash(password)
    return True, None


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when the e-mail is unknown, so timing does not tell."""
    return _hasher.hash("not-a-real-password-just-for-timing")
