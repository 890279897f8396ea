"""`revcycle db upgrade`: apply the migrations to REVCYCLE_DATABASE_URL."""

from __future__ import annotations

import typer

from revcycle.config import get_settings
from revcycle.db.engine import engine_from_settings
from revcycle.db.migrate import upgrade as upgrade_schema

app = typer.Typer(no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    engine = engine_from_settings(get_settings())
    upgrade_schema(engine, revision)
    engine.dispose()
    typer.echo(f"database at {revision}")
