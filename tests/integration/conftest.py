"""The web app over the test's rolled-back connection, and a real sign-in.

`app` is built by the real factory with a session factory bound to the `db` fixture's
connection (savepoints), so each request's commit stays inside the test's transaction and the
test sees what the request wrote (and vice versa). `client` does not follow redirects, so
tests can assert them; `login(client, email, password)` posts the real login form with its
CSRF token and returns the response (a 303 on success).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from revcycle.config import Settings, get_settings
from revcycle.db.engine import make_engine
from revcycle.db.migrate import upgrade
from revcycle.web.app import create_app

PASSWORD = "correct horse battery staple"
BASE_URL = "https://testserver"
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture
def app_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        var_dir=tmp_path_factory.mktemp("var"),
        database_url="sqlite://",  # unused: the app gets the test's session factory
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
    )


@pytest.fixture
def app(app_settings: Settings, db: Session) -> FastAPI:
    factory = sessionmaker(
        bind=db.get_bind(),
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
    )
    return create_app(app_settings, session_factory=factory)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as test_client:
        yield test_client


def csrf_from(html: str) -> str:
    """The CSRF token a page carries (the base template's meta tag, or a form field)."""
    found = _CSRF_META.search(html) or _CSRF_INPUT.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD, *, next_url: str = "/"):  # type: ignore[no-untyped-def]
    """Sign in through the real form: GET /login for the token, POST it back."""
    page = client.get("/login")
    assert page.status_code == 200, page.text
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text), "next": next_url},
    )


def session_csrf(client: TestClient, path: str = "/account/password") -> str:
    """The signed-in session's CSRF token, read from a page that carries it."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_from(page.text)


@pytest.fixture
def cli_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A migrated SQLite file the `revcycle` commands use (REVCYCLE_DATABASE_URL), for
    tests that run the command line against their own database."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("REVCYCLE_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()
    get_settings.cache_clear()
