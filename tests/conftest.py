"""Test fixtures shared by the whole suite.

Integration tests take the `db` fixture, which is parametrized over SQLite and PostgreSQL:
each test runs twice, each time inside a transaction that is rolled back at the end, on a
schema built by the Alembic migrations (so the migrations are tested too).

PostgreSQL is required: when it is unreachable the tests that need it fail, never skip.

Hypothesis explores new examples on every local run; under CI (``CI`` set) it replays the
same derived examples, so a red build always means a change, not a lucky draw.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from revcycle.db.engine import make_engine
from revcycle.db.migrate import upgrade

PG_SERVER_URL = os.environ.get(
    "REVCYCLE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DIALECTS = ("sqlite", "postgresql")

settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
if os.environ.get("CI"):
    settings.load_profile("ci")


def _create_pg_database() -> tuple[str, Engine]:
    name = f"revcycle_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server is required: fail loudly, never skip
        admin.dispose()
        pytest.fail(
            f"PostgreSQL is unreachable at {PG_SERVER_URL} ({exc.__class__.__name__}); "
            "the integration tests need it (`make test` starts the local server)",
            pytrace=False,
        )
    admin.dispose()
    base = PG_SERVER_URL.rsplit("/", 1)[0]
    return name, make_engine(f"{base}/{name}")


def _drop_pg_database(name: str) -> None:
    admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("sqlite") / "revcycle.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_engine() -> Iterator[Engine]:
    name, engine = _create_pg_database()
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        _drop_pg_database(name)


@pytest.fixture
def committing_postgresql_engine() -> Iterator[Engine]:
    """A database of its own for a test that commits (racing writers): what it commits must
    not stay behind in the session's database, where other tests count rows."""
    name, engine = _create_pg_database()
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        _drop_pg_database(name)


@pytest.fixture(params=DIALECTS)
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated engine, once per database."""
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back after the test.

    Code under test may commit: with `create_savepoint` its commits release savepoints
    and nothing reaches the database for the next test.
    """
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        if outer.is_active:
            outer.rollback()
        connection.close()
