"""`revcycle codesets`."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add the ``codesets`` group to the root app."""
    root.add_typer(app, name="codesets", help="Code sets: load ICD-10-CM releases and NCCI tables.")
