"""`revcycle audit verify`: walk each practice's hash chain and name the first broken link.

Prints OK per practice, or the first broken link (an altered, deleted, inserted or reordered
row, or a head that does not match); exits 1 when any chain is broken.
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session

from revcycle.cli.transaction import run_in_transaction
from revcycle.domain.problems import Problem
from revcycle.services import audit

app = typer.Typer(no_args_is_help=True)


@app.command()
def verify(
    practice: Annotated[int | None, typer.Option(help="Only this practice id.")] = None,
) -> None:
    """Verify the audit log's hash chain; exit 1 when broken."""
    def verify_chains(session: Session) -> dict[int, list[Problem]]:
        if practice is None:
            return audit.verify_all(session)
        return {practice: audit.verify_chain(session, practice)}

    results = run_in_transaction(verify_chains)
    broken = {pid: problems for pid, problems in results.items() if problems}
    for practice_id, problems in sorted(results.items()):
        typer.echo(_line(practice_id, problems))
    if not results:
        typer.echo("no practices")
    if broken:
        raise typer.Exit(1)


def _line(practice_id: int, problems: list[Problem]) -> str:
    if not problems:
        return f"practice {practice_id}: OK"
    first = problems[0]
    return f"practice {practice_id}: BROKEN at {first.where}: {first.message} [{first.code}]"
