"""Settings: validated at start, secure by default outside a developer's machine."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from revcycle.config import Settings


def test_cookies_are_https_only_outside_development() -> None:
    assert Settings(environment="development").secure_cookies is False
    assert Settings(environment="test").secure_cookies is True
    assert Settings(environment="production", secret_key="x" * 40).secure_cookies is True


def test_production_refuses_the_development_secret_key() -> None:
    with pytest.raises(ValidationError, match="REVCYCLE_SECRET_KEY"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment="production", secret_key="short-but-not-default")


def test_database_defaults_to_a_sqlite_file_under_var(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(var_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'revcycle.db'}"
    assert settings.is_sqlite
