"""`revcycle user ...` against a real (SQLite file) database."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from revcycle.cli import build_app
from revcycle.db import models as m
from revcycle.services.passwords import verify_password
from tests.factories import make_practice

PASSWORD = "plum orchard at midnight"


def run(*args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), ["user", *args], input=stdin)
    return result.exit_code, result.output


def test_add_passwd_disable(cli_engine: Engine) -> None:
    with Session(cli_engine) as db, db.begin():
        practice_id = make_practice(db).id
    code, out = run(
        "add",
        "Dana@Example.test",
        "--name",
        "Dana Reyes",
        "--practice",
        str(practice_id),
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0, out
    assert "dana@example.test" in out

    code, _ = run("passwd", "dana@example.test", stdin="another fine passphrase\nanother fine passphrase\n")
    assert code == 0
    code, _ = run("disable", "dana@example.test", "--reason", "left the practice")
    assert code == 0

    with Session(cli_engine) as db:
        user = db.scalars(select(m.User).where(m.User.email == "dana@example.test")).one()
        assert verify_password(user.password_hash, "another fine passphrase")[0]
        assert not user.is_active
        assert user.token_version == 3
        [membership] = user.memberships
        assert (membership.practice_id, membership.role) == (practice_id, "admin")
        actions = db.scalars(select(m.AuditLog.action).where(m.AuditLog.practice_id == practice_id)).all()
        assert list(actions) == ["create", "update", "update"]


def test_refusals_exit_non_zero_with_the_reason(cli_engine: Engine) -> None:
    assert run("add", "x@example.test", "--password-stdin", stdin="short\n") == (
        1,
        "error: password: use at least 12 characters\n",
    )
    assert run("disable", "nobody@example.test")[0] == 1
    assert run("add", "y@example.test", "--role", "billing")[0] == 2
    with Session(cli_engine) as db:
        assert db.scalars(select(m.User)).all() == []
