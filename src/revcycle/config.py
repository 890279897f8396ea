"""Settings: one object, read from `REVCYCLE_*` environment variables, validated at start.

Nothing here runs at import time; `get_settings()` builds the object when a process starts
(the CLI, the app factory, the worker) and passes it on.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me"  # noqa: S105


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVCYCLE_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    var_dir: Path = DEFAULT_VAR_DIR
    database_url: str = ""
    secret_key: str = DEVELOPMENT_SECRET_KEY
    demo_mode: bool = False

    # Web sessions: idle timeout and absolute lifetime.
    session_idle_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=72)
    # Login throttling: after this many consecutive failures the account waits this long.
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    # API bearer tokens.
    api_token_hours: int = Field(default=24, ge=1, le=24 * 7)

    # Background jobs: Huey on SQLite by default, Redis when a URL is given.
    huey_redis_url: str = ""
    huey_immediate: bool = False

    # Approvals: manual adjustments above this amount need a second admin.
    approval_threshold_cents: int = Field(default=50_000, ge=0)

    # E-mail (adapters/mail.py): an outbox of .eml files (var/outbox by default) or SMTP; the
    # SMTP password is read from a secret file, never from the database.
    mail_backend: Literal["outbox", "smtp"] = "outbox"
    mail_outbox_dir: Path | None = None
    mail_sender: str = "revcycle@localhost"
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password_file: Path | None = None
    smtp_starttls: bool = True

    @property
    def mail_outbox_path(self) -> Path:
        return self.mail_outbox_dir or self.var_dir / "outbox"

    @model_validator(mode="after")
    def _fill_and_check(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'revcycle.db'}"
        if self.environment == "production" and self.secret_key == DEVELOPMENT_SECRET_KEY:
            raise ValueError("REVCYCLE_SECRET_KEY must be set outside development")
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("REVCYCLE_SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        """Cookies are sent over HTTPS only, everywhere but a developer's own machine."""
        return self.environment != "development"

    @property
    def huey_sqlite_path(self) -> Path:
        return self.var_dir / "huey.db"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, built once on first use (never at import)."""
    return Settings()
