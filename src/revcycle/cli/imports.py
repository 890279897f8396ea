"""`revcycle import FILE`: stage a CSV export (and commit it with --commit) from the command line.

Prints the counts (``--json``: one object with ``batch_id, format, rows, new, updated,
unchanged, flagged, rejected, committed`` and ``written``, what a commit wrote by kind of row:
sessions, charges, clients, flags ...; empty when only staged). Runs as the system, or as a user given by
``--as EMAIL`` (their role must allow entering charges). One transaction: a refused file
writes nothing and exits 1 with the reason (file, row, column, value).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from revcycle.adapters.csv import ImportFormat
from revcycle.cli.transaction import acting_as, only_practice, run_in_transaction
from revcycle.errors import InvalidInput
from revcycle.services.imports import batches

_FORMATS = {
    "auto": None,
    "simplepractice": ImportFormat.SIMPLEPRACTICE,
    "attendance": ImportFormat.ATTENDANCE,
    "ar-aging": ImportFormat.AR_AGING,
    "client-details": ImportFormat.CLIENT_DETAILS,
    "client-demographics": ImportFormat.CLIENT_DEMOGRAPHICS,
    "filed-claims": ImportFormat.FILED_CLAIMS,
}
_KEYS = ("rows", "new", "updated", "unchanged", "flagged", "rejected")


def _format(word: str) -> tuple[ImportFormat | None, str | None]:
    """``--format`` -> (format, mapping name)."""
    if word.startswith("mapping:"):
        name = word.split(":", 1)[1].strip()
        if not name:
            raise InvalidInput("--format mapping:NAME needs the mapping's name")
        return None, name
    key = word.strip().lower().replace("_", "-")
    if key not in _FORMATS:
        raise InvalidInput(f"--format {word!r} is not one of {', '.join(_FORMATS)} or mapping:NAME")
    return _FORMATS[key], None


def import_file(
    file: Annotated[Path, typer.Argument(help="The CSV file.", exists=True, dir_okay=False, readable=True)],
    *,
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="auto, simplepractice, attendance, ar-aging, client-details, "
            "client-demographics, filed-claims or mapping:NAME.",
        ),
    ] = "auto",
    practice: Annotated[
        int | None, typer.Option("--practice", help="Practice id (needed when several).")
    ] = None,
    commit: Annotated[bool, typer.Option("--commit", help="Apply the batch (default: stage only).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    as_user: Annotated[str | None, typer.Option("--as", help="Act as this user (e-mail).")] = None,
) -> None:
    """Stage a CSV export into an import batch, print its counts, and commit it with --commit."""
    data = file.read_bytes()

    def work(session: Session) -> dict[str, object]:
        fmt, mapping = _format(format_)
        actor = acting_as(session, as_user)
        batch = batches.stage_import(
            session,
            actor=actor,
            practice_id=only_practice(session, practice),
            filename=file.name,
            data=data,
            format=fmt,
            mapping_name=mapping,
        )
        if commit:
            batch = batches.commit_import(session, actor=actor, batch_id=batch.id)
        counts = batch.counts
        return {
            "batch_id": batch.id,
            "format": batch.format,
            **{key: int(counts.get(key, 0)) for key in _KEYS},
            "committed": batch.status == "committed",
            "written": batches.written_counts(batch),
        }

    result = run_in_transaction(work)
    if as_json:
        typer.echo(json.dumps(result))
        return
    counts = ", ".join(f"{key} {result[key]}" for key in _KEYS)
    written = result["written"]
    assert isinstance(written, dict)
    wrote = ", ".join(f"{n} {key.replace('_', ' ')}" for key, n in written.items() if n)
    staged = "staged (commit with --commit)"
    state = f"committed ({wrote or 'nothing new'})" if result["committed"] else staged
    typer.echo(f"import {result['batch_id']} ({result['format']}): {counts}; {state}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("import")(import_file)
