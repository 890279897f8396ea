"""`revcycle ledger check|close-period` and `revcycle audit verify` against a migrated file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from revcycle.cli import build_app
from revcycle.config import get_settings
from revcycle.db.engine import make_engine
from revcycle.db.migrate import upgrade
from revcycle.domain import ledger_events as ev
from revcycle.services import ledger
from revcycle.services.actor import system_actor
from tests import factories as f


@dataclass
class Installation:
    engine: Engine
    practice_id: int


@pytest.fixture
def installation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installation]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        practice = f.make_practice(session)
        client = f.make_client(session, practice)
        coverage = f.make_coverage(session, client, f.make_payer(session))
        visit = f.make_session(session, practice, client, f.make_provider(session, practice))
        charge = ev.ChargeRef(visit.charges[0].id, client.id)
        insurance = ev.InsuranceRef(coverage.id, coverage.payer_id)
        for kind, lines in (
            ("charge", ev.charge_to_insurance(15000, charge, insurance)),
            ("insurance_payment", ev.insurance_payment(9000, charge, insurance)),
        ):
            ledger.post_transaction(
                session, actor=system_actor(), practice_id=practice.id, kind=kind,
                accounting_on=date(2026, 3, 2), lines=lines,
            )
        session.commit()
        practice_id = practice.id
    monkeypatch.setenv("REVCYCLE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield Installation(engine, practice_id)
    get_settings.cache_clear()
    engine.dispose()


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args))
    return result.exit_code, result.output


def _execute(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def test_ledger_check_passes_on_good_books(installation: Installation) -> None:
    code, output = _run("ledger", "check")
    assert code == 0, output
    assert "2 transactions, 4 postings" in output
    assert "OK" in output

    code, output = _run("ledger", "check", "--practice", str(installation.practice_id))
    assert code == 0, output
    assert f"practice {installation.practice_id}" in output


def test_ledger_check_fails_and_names_a_tampered_balance(installation: Installation) -> None:
    _execute(
        installation.engine,
        "UPDATE ledger_balances SET balance_cents = balance_cents - 100 "
        "WHERE scope = 'account' AND account = 'cash'",
    )

    code, output = _run("ledger", "check")

    assert code == 1
    assert "account 0 cash" in output
    assert "balance row says $89.00, postings sum to $90.00" in output
    assert "FAILED: 1 discrepancy" in output


def test_close_period_closes_a_month_once(installation: Installation) -> None:
    practice = str(installation.practice_id)

    code, output = _run("ledger", "close-period", "--practice", practice, "--month", "2026-02")
    assert code == 0, output
    assert "closed 2026-02 (2026-02-01 to 2026-02-28)" in output

    code, output = _run("ledger", "close-period", "--practice", practice, "--month", "2026-02")
    assert code == 1
    assert "already closed" in output

    code, output = _run("ledger", "close-period", "--practice", practice, "--month", "Feb 2026")
    assert code == 2
    assert "is not YYYY-MM" in output


def test_audit_verify_says_ok_per_practice(installation: Installation) -> None:
    code, output = _run("audit", "verify")
    assert code == 0, output
    assert f"practice {installation.practice_id}: OK" in output


def test_audit_verify_names_the_first_broken_link(installation: Installation) -> None:
    _execute(
        installation.engine,
        "DROP TRIGGER audit_log_no_update",
        "UPDATE audit_log SET reason = 'nothing happened' WHERE seq = 2",
    )

    code, output = _run("audit", "verify", "--practice", str(installation.practice_id))

    assert code == 1
    practice = installation.practice_id
    assert f"practice {practice}: BROKEN at practice {practice}, seq 2" in output
    assert "was altered" in output
