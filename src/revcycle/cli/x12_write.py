"""`revcycle x12 837 --claims ready|ID,ID --out FILE`: write an 837P batch and record it sent.

``--claims ready`` takes every ready claim of the practice that is not queued in a batch;
``--claims 12,13`` takes those claims (ready, or the whole of one queued batch). The file is
written to ``--out`` once the batch is recorded and committed; a refused batch writes nothing and
exits 1 naming the claims. Runs as the system, or as ``--as EMAIL``; ``--json`` prints one
JSON object.
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
from revcycle.services import claim_status_inquiries, x12_batches
from revcycle.services.claims_pipeline.scrubbing import practice_today

__all__ = ["app"]


@app.command("837")
def write_837_batch(
    *,
    claims: Annotated[str, typer.Option("--claims", help="'ready', or claim ids separated by commas.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the 837P file.")],
    practice: Annotated[
        int | None, typer.Option("--practice", help="Practice id (needed when several).")
    ] = None,
    as_user: Annotated[str | None, typer.Option("--as", help="Act as this user (e-mail).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Write ready claims as an 837P batch and record them as submitted."""

    def work(session: Session) -> dict[str, Any]:
        actor = acting_as(session, as_user)
        practice_id = only_practice(session, practice)
        written = x12_batches.write_batch(
            session, actor=actor, practice_id=practice_id, claim_ids=_claim_ids(session, practice_id, claims)
        )
        return {
            "text": written.text,
            "batch_id": written.batch_id,
            "stored_file_id": written.stored_file_id,
            "file": str(out),
            "interchange_control_number": written.interchange_control_number,
            "group_control_number": written.group_control_number,
            "claims": list(written.claim_numbers),
        }

    result = run_in_transaction(work)
    out.write_text(result.pop("text"), encoding="ascii")  # once the batch is committed
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(
        f"wrote {result['file']}: {len(result['claims'])} claims, batch {result['batch_id']}, "
        f"ISA13 {result['interchange_control_number']:09d}"
    )


def _claim_ids(session: Session, practice_id: int, claims: str) -> list[int]:
    if claims.strip().lower() == "ready":
        ids = x12_batches.ready_claim_ids(session, practice_id)
        if not ids:
            raise InvalidInput("--claims ready: no ready claim waits to be sent")
        return ids
    try:
        return [int(part) for part in claims.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput("--claims: 'ready' or claim ids separated by commas") from None


# ----------------------------------------------------------------------------- 276


@app.command("276")
def write_276_inquiries(
    *,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the 276 file.")] = None,
    practice: Annotated[
        int | None, typer.Option("--practice", help="Practice id (needed when several).")
    ] = None,
    as_user: Annotated[str | None, typer.Option("--as", help="Act as this user (e-mail).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Ask payers about overdue claims: one 276 per payer, each claim's inquiry recorded.

    Without --out the file is kept (stored) but not written out; nothing due writes nothing.
    """

    def work(session: Session) -> dict[str, Any]:
        actor = acting_as(session, as_user)
        practice_id = only_practice(session, practice)
        written = claim_status_inquiries.write_status_inquiries(
            session, actor=actor, practice_id=practice_id, today=practice_today(session, practice_id)
        )
        return {
            "text": written.text,
            "stored_file_id": written.stored_file_id,
            "file": str(out) if out and written.text else None,
            "interchange_control_number": written.interchange_control_number,
            "claims": list(written.claim_numbers),
            "trace_numbers": list(written.trace_numbers),
        }

    result = run_in_transaction(work)
    text = result.pop("text")
    if out is not None and text:
        out.write_text(text, encoding="ascii")  # once the inquiries are committed
    if as_json:
        typer.echo(json.dumps(result))
        return
    if not text:
        typer.echo("no claim is due a status inquiry")
        return
    where = f"wrote {result['file']}" if result["file"] else f"stored file {result['stored_file_id']}"
    typer.echo(
        f"{where}: {len(result['claims'])} status inquiries, ISA13 {result['interchange_control_number']:09d}"
    )
