"""The password policy and the Argon2id hashes behind it."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type

from revcycle.services.passwords import (
    MIN_LENGTH,
    check_password_policy,
    common_passwords,
    hash_password,
    verify_password,
)


def codes(password: str, email: str = "") -> set[str]:
    return {problem.code for problem in check_password_policy(password, email=email)}


def test_a_long_unusual_passphrase_is_accepted() -> None:
    assert check_password_policy("violet tractor under seven bridges", email="dana@clinic.test") == []


def test_short_passwords_are_refused() -> None:
    assert codes("Xy7!kq2#") == {"password.too_short"}
    assert "password.too_short" not in codes("x" * (MIN_LENGTH - 1) + "y")


@pytest.mark.parametrize("password", ["password1234", "Password1234", "QWERTYUIOP123", "iloveyou1234"])
def test_common_passwords_are_refused_whatever_the_case(password: str) -> None:
    assert "password.common" in codes(password)


def test_the_shipped_list_is_a_few_hundred_lowercased_entries() -> None:
    listed = common_passwords()
    assert len(listed) >= 300
    assert all(entry == entry.lower() for entry in listed)
    assert {"123456", "password", "qwerty123456", "welcome123"} <= listed


def test_a_single_repeated_character_is_refused() -> None:
    assert "password.repeated" in codes("aaaaaaaaaaaaaaaa")
    assert "password.repeated" in codes("1111111111111")


def test_the_email_name_is_refused_in_the_password() -> None:
    assert "password.contains_email" in codes("my-Jordan.Smith-2026!", email="jordan.smith@example.test")
    assert "password.contains_email" not in codes("my-jordan.smith-2026!", email="")


def test_every_problem_is_reported_at_once() -> None:
    assert codes("dana", email="dana@clinic.test") == {"password.too_short", "password.contains_email"}


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password("violet tractor under seven bridges")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "violet tractor under seven bridges") == (True, None)
    assert verify_password(hashed, "violet tractor under six bridges") == (False, None)


def test_garbage_or_empty_hashes_never_verify() -> None:
    assert verify_password("", "anything at all") == (False, None)
    assert verify_password("not-a-hash", "anything at all") == (False, None)


def test_an_outdated_hash_is_replaced_on_a_successful_check() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    old = weak.hash("violet tractor under seven bridges")
    matches, new_hash = verify_password(old, "violet tractor under seven bridges")
    assert matches
    assert new_hash is not None
    assert new_hash != old
    assert verify_password(new_hash, "violet tractor under seven bridges") == (True, None)
    assert verify_password(old, "wrong one") == (False, None)
