"""A real server and a real browser.

The server is uvicorn in a subprocess on a free localhost port, over a fresh SQLite file
migrated by Alembic and seeded with a practice, a billing persona and some sessions. The
browser is Debian's chromium driven by Playwright; when it is missing the tests fail (they
never skip) and say how to install it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.db.engine import make_engine
from revcycle.db.migrate import upgrade
from revcycle.domain.ledger_events import ChargeRef, InsuranceRef, charge_to_insurance
from revcycle.domain.permissions import Role
from revcycle.services import ledger
from revcycle.services.actor import system_actor
from revcycle.services.passwords import hash_password
from tests import factories as f

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery staple"
BILLING_EMAIL = "billing.e2e@example.test"


@dataclass(frozen=True)
class LiveServer:
    url: str
    engine: Engine
    practice_name: str
    billing_email: str
    password: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _seed(engine: Engine) -> str:
    """A practice, a billing persona and sessions across the pipeline this month."""
    with Session(engine) as db:
        practice = f.make_practice(db, name="Harbor Counseling")
        billing = f.make_user(db, practice, Role.BILLING, email=BILLING_EMAIL)
        billing.full_name = "Bailey Billing"
        billing.password_hash = hash_password(PASSWORD)
        payer = f.make_payer(db, name="Aetna")
        db.add(m.PracticePayer(practice_id=practice.id, payer_id=payer.id))
        provider = f.make_provider(db, practice)
        today = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0)
        for index, status in enumerate(["draft", "submitted", "submitted", "accepted", "denied", None]):
            client = f.make_client(db, practice)
            coverage = f.make_coverage(db, client, payer)
            # Spread over the first days of this month so every session is "this month".
            starts_at = today.replace(day=1) + timedelta(hours=index)
            service = f.make_session(db, practice, client, provider, starts_at=starts_at)
            if status is None:
                continue
            claim = f.make_claim(db, service, coverage, status=status)
            ref = ChargeRef(charge_id=service.charges[0].id, client_id=client.id, claim_id=claim.id)
            ledger.post_transaction(
                db,
                actor=system_actor("e2e seed"),
                practice_id=practice.id,
                kind="charge",
                accounting_on=service.service_on,
                lines=charge_to_insurance(15000, ref, InsuranceRef(coverage.id, payer.id)),
            )
        db.add(
            m.WorkItem(
                practice_id=practice.id, kind="alert", severity="critical", title="Timely filing in 5 days"
            )
        )
        db.commit()
        return practice.name


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url}/healthz within {timeout_s}s")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    var_dir = tmp_path_factory.mktemp("e2e-var")
    database_url = f"sqlite:///{var_dir / 'revcycle.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    practice_name = _seed(engine)
    port = _free_port()
    env = {
        **os.environ,
        "REVCYCLE_DATABASE_URL": database_url,
        "REVCYCLE_ENVIRONMENT": "test",
        "REVCYCLE_VAR_DIR": str(var_dir),
        "REVCYCLE_SECRET_KEY": "e2e-secret-key-that-is-long-enough-for-hs256",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "revcycle.web.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield LiveServer(url, engine, practice_name, BILLING_EMAIL, PASSWORD)
    finally:
        process.terminate()
        process.wait(timeout=10)
        engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(`apt-get install -y chromium`, or `make chromium`)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
