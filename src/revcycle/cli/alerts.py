"""`revcycle alerts`."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add the ``alerts`` group to the root app."""
    root.add_typer(app, name="alerts", help="Alerts: run the rules, list open alerts, missing claims.")
