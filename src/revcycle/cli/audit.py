"""`revcycle audit verify`: walk each practice's hash chain and name the first broken link.

Prints OK per practice, or the first broken link (an altered, deleted, inserted or reordered
row, or a head that does not match); exits 1 when any chain is broken.
"""

from __future__ import annotations

from typing import Annotated

import typer

from revcycle.config import get_settings
from revcycle.db.engine import engine_from_settings, make_session_factory, unit_of_work
from revcycle.domain.problems import Problem
from revcycle.services import audit

app = typer.Typer(no_args_is_help=True)


@app.command()
def verify(
    practice: Annotated[int | None, typer.Option(help="Only this practice id.")] = None,
) -> None:
    """Verify the audit log's hash chain; exit 1 when broken."""
    engine = engine_from_settings(get_settings())
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            if practice is None:
                results = audit.verify_all(session)
            else:
                results = {practice: audit.verify_chain(session, practice)}
    finally:
        engine.dispose()
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
