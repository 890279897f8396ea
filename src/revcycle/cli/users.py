"""`revcycle user add|passwd|disable`: user accounts from the command line.

The command line acts as the system (it runs with the server's own access), and each
command is one transaction. Passwords are read from standard input (`--password-stdin`,
for scripts) or prompted twice without echo; never from an argument, which would land in
shell history and process lists. No account is ever created without being asked for.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.cli.transaction import run_in_transaction
from revcycle.db import models
from revcycle.domain.permissions import Role
from revcycle.errors import NotFound
from revcycle.services import auth
from revcycle.services.actor import system_actor

app = typer.Typer(no_args_is_help=True)


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            typer.echo("error: no password on standard input", err=True)
            raise typer.Exit(1)
        return line
    prompted: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return prompted


def _user_id(session: Session, email: str) -> int:
    user_id = session.scalars(
        select(models.User.id).where(models.User.email == auth.normalize_email(email))
    ).one_or_none()
    if user_id is None:
        raise NotFound(f"no user with e-mail {email}")
    return user_id


@app.command()
def add(
    email: str,
    name: Annotated[str, typer.Option("--name", help="Full name.")] = "",
    practice: Annotated[int | None, typer.Option("--practice", help="Practice id to join.")] = None,
    role: Annotated[Role | None, typer.Option("--role", help="Role in that practice.")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user, optionally a member of a practice with a role."""
    if (practice is None) != (role is None):
        typer.echo("error: give --practice and --role together", err=True)
        raise typer.Exit(2)
    password = _read_password(password_stdin)
    user_id = run_in_transaction(
        lambda session: (
            auth.create_user(
                session,
                actor=system_actor("cli"),
                email=email,
                full_name=name,
                password=password,
                practice_id=practice,
                role=role,
            ).id
        )
    )
    typer.echo(f"user {user_id} added: {auth.normalize_email(email)}")


@app.command()
def passwd(email: str, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password; their sessions end and API tokens stop working."""
    password = _read_password(password_stdin)

    def work(session: Session) -> None:
        auth.set_password(
            session, actor=system_actor("cli"), user_id=_user_id(session, email), new_password=password
        )

    run_in_transaction(work)
    typer.echo(f"password changed for {auth.normalize_email(email)}; their sessions have ended")


@app.command()
def disable(
    email: str,
    reason: Annotated[str, typer.Option("--reason", help="Why, for the audit log.")] = "",
) -> None:
    """Disable a user: no more sign-ins; sessions end and API tokens stop working."""

    def work(session: Session) -> None:
        auth.disable_user(session, actor=system_actor("cli"), user_id=_user_id(session, email), reason=reason)

    run_in_transaction(work)
    typer.echo(f"disabled {auth.normalize_email(email)}")
