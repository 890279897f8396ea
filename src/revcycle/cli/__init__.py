"""The `revcycle` command line: thin wrappers over services, one sub-command group per area."""

from __future__ import annotations

import typer

from revcycle.cli import (
    alerts,
    audit,
    claims,
    codesets,
    db,
    demo,
    followup,
    imports,
    ledger,
    reports,
    serve,
    users,
    x12,
)


def build_app() -> typer.Typer:
    app = typer.Typer(no_args_is_help=True, add_completion=False, help="Revcycle revenue cycle.")
    app.add_typer(db.app, name="db", help="Database schema.")
    app.add_typer(users.app, name="user", help="User accounts.")
    app.add_typer(ledger.app, name="ledger", help="The money ledger.")
    app.add_typer(audit.app, name="audit", help="The audit log.")
    demo.register(app)
    imports.register(app)
    claims.register(app)
    alerts.register(app)
    followup.register(app)
    codesets.register(app)
    x12.register(app)
    reports.register(app)
    serve.register(app)
    return app


def main() -> None:
    build_app()()
