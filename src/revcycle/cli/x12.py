"""`revcycle x12`: 837P batches out, acknowledgments and responses in, structural checks.

The commands live beside this module (``x12_write`` writes batches, ``x12_read`` ingests and
validates files) and attach themselves to :data:`app`.
"""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add the ``x12`` group (and its commands) to the root app."""
    from revcycle.cli import x12_read, x12_write  # noqa: F401  (they attach their commands)

    root.add_typer(app, name="x12", help="X12 files: write 837P batches, ingest 999/277CA/277/271, validate.")
