"""`revcycle x12 ingest|validate` (see cli/x12.py).

* ``x12 ingest FILE [--practice ID] [--as EMAIL] [--json]`` stores a 999 or 277CA file and
  applies it to the practice's claims, once: the same file again says "duplicate".
* ``x12 validate FILE [--no-pyx12]`` reads a file through our codecs and says what it holds,
  or where it is broken, then gives pyx12's verdict when pyx12 is installed (errors by segment
  and element; the transaction sets it has no map for); it writes nothing. It exits 1 when
  either finds an error.

A refused file exits 1 with the reason (file, segment position, segment id, element).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from revcycle.cli.transaction import acting_as, only_practice, run_in_transaction
from revcycle.cli.x12 import app
from revcycle.errors import InvalidInput
from revcycle.services import x12_ingest, x12_judge

__all__ = ["app"]

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
AsUser = Annotated[str | None, typer.Option("--as", help="Act as this user (e-mail).")]
PracticeId = Annotated[int | None, typer.Option("--practice", help="Practice id (needed when several).")]
NoPyx12 = Annotated[bool, typer.Option("--no-pyx12", help="Skip pyx12's verdict (our checks only).")]
FileArg = Annotated[Path, typer.Argument(help="The X12 file.", exists=True, dir_okay=False, readable=True)]


@app.command("ingest")
def ingest(
    file: FileArg, *, practice: PracticeId = None, as_user: AsUser = None, as_json: AsJson = False
) -> None:
    """Store a 999, 277CA, 277 or 271 file and apply it to what it answers."""
    data = file.read_bytes()

    def work(session: Session) -> dict[str, Any]:
        actor = acting_as(session, as_user)
        result = x12_ingest.ingest(
            session,
            actor=actor,
            practice_id=only_practice(session, practice),
            filename=file.name,
            data=data,
        )
        return {
            "file_id": result.inbound_file_id,
            "status": result.status,
            "kind": result.kind,
            "summary": result.summary,
        }

    result = run_in_transaction(work)
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"{file.name}: {result['kind']} {result['status']} (inbound file {result['file_id']})")
    for key, rows in result["summary"].items():
        for row in rows if isinstance(rows, list) else []:
            typer.echo(f"  {key.replace('_', ' ')}: {_describe(row)}")


def _describe(row: object) -> str:
    """One line of a summary list (claims, inquiries or eligibility answers), whatever its keys."""
    if isinstance(row, dict):
        return ", ".join(f"{key} {value}" for key, value in row.items() if value not in (None, ""))
    return str(row)


@app.command("validate")
def validate(file: FileArg, *, no_pyx12: NoPyx12 = False) -> None:
    """Check a file's structure with our readers (999, 277CA, 277, 837), then pyx12's verdict
    when it is installed; writes nothing. Exits 1 when either finds an error."""
    data = file.read_bytes()
    failed = False
    try:
        interchanges = x12_ingest.read_file(file.name, data)
        kinds = x12_ingest.transaction_sets(file.name, interchanges)
    except InvalidInput as refused:
        typer.echo(f"error: {refused.detail}", err=True)
        failed = True
    else:
        count = sum(kinds.values())
        listed = ", ".join(f"{n} x {kind}" for kind, n in sorted(kinds.items()))
        typer.echo(
            f"{file.name}: OK, {len(interchanges)} interchange(s), {count} transaction set(s): {listed}"
        )
    if not no_pyx12 and not _echo_pyx12(x12_judge.pyx12_verdict_of_file(data)):
        failed = True
    if failed:
        raise typer.Exit(1)


def _echo_pyx12(verdict: x12_judge.Pyx12Verdict | None) -> bool:
    """Print pyx12's verdict; False when it found errors."""
    if verdict is None:
        typer.echo("pyx12 not installed: structural checks only")
        return True
    checked = ", ".join(verdict.checked)
    if verdict.checked and verdict.ok:
        typer.echo(f"pyx12: OK, checked {checked}")
    elif not verdict.ok:
        found = len(verdict.errors)
        typer.echo(f"pyx12: {found} error{'s' if found != 1 else ''}" + (f" in {checked}" if checked else ""))
        for error in verdict.errors:
            typer.echo(f"  {error}")
    for unchecked in verdict.no_map:
        typer.echo(unchecked)
    for stale in verdict.stale:
        typer.echo(f"  not counted (pyx12's code list predates it): {stale}")
    return verdict.ok
