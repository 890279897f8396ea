"""`revcycle demo`: build the demo practice (demo mode only) and print how to sign in."""

from __future__ import annotations

import typer

from revcycle.adapters.mail import mailer_from_settings
from revcycle.config import Settings, get_settings
from revcycle.db.engine import engine_from_settings, make_session_factory, unit_of_work
from revcycle.services.demo import build_demo
from revcycle.services.demo_data import DEMO_LOGINS, DEMO_PASSWORD

ADDRESS = "http://127.0.0.1:8000"

SeedOption = typer.Option(7, "--seed", help="Random seed: the same seed builds the same practice.")
IfEmptyOption = typer.Option(False, "--if-empty", help="Do nothing when any practice exists.")
ScaleOption = typer.Option(1.0, "--scale", min=0.01, max=10.0, help="Shrink or grow clients and sessions.")


def demo_allowed(settings: Settings) -> bool:
    """Demo data (with its published passwords) never lands in production by accident."""
    return settings.environment != "production" or settings.demo_mode


def demo(seed: int = SeedOption, if_empty: bool = IfEmptyOption, scale: float = ScaleOption) -> None:
    """Build the demo practice "Riverbend Counseling Group" with a year of history."""
    settings = get_settings()
    if not demo_allowed(settings):
        typer.echo(
            "refused: REVCYCLE_ENVIRONMENT is production; set REVCYCLE_DEMO_MODE=1 to allow demo data",
            err=True,
        )
        raise typer.Exit(code=2)
    engine = engine_from_settings(settings)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            summary = build_demo(
                session, seed=seed, scale=scale, if_empty=if_empty, mailer=mailer_from_settings(settings)
            )
    finally:
        engine.dispose()
    for line in summary.lines():
        typer.echo(line)
    typer.echo("")
    typer.echo(f"Open {ADDRESS} and sign in with any of these (password {DEMO_PASSWORD}):")
    for login in DEMO_LOGINS:
        typer.echo(f"  {login.role:<11} {login.email}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("demo")(demo)
