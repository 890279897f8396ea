"""`revcycle ledger check|close-period`: the books from the command line.

`check` recomputes every balance from the postings and compares, to the cent; it prints a
summary and exits 1 on any discrepancy, so cron or CI can watch it. `close-period` closes a
month: nothing new may be dated in it afterwards. Each command is one transaction, run as the
system.
"""

from __future__ import annotations

import re
from typing import Annotated

import typer

from revcycle.cli.transaction import run_in_transaction
from revcycle.services import ledger
from revcycle.services.actor import system_actor

app = typer.Typer(no_args_is_help=True)

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@app.command()
def check(
    practice: Annotated[int | None, typer.Option(help="Only this practice id.")] = None,
) -> None:
    """Recompute every balance from the postings; exit 1 on any discrepancy."""
    result = run_in_transaction(lambda session: ledger.check_ledger(session, practice))
    scope = f"practice {practice}" if practice is not None else "all practices"
    typer.echo(
        f"ledger check ({scope}): {result.transactions} transactions, {result.postings} postings, "
        f"{result.balance_rows} balance rows"
    )
    problems = result.problems()
    for problem in problems:
        typer.echo(f"  {problem.where}: {problem.message}")
    if problems:
        typer.echo(f"FAILED: {len(problems)} discrepanc{'y' if len(problems) == 1 else 'ies'}")
        raise typer.Exit(1)
    typer.echo("OK: every transaction and the books sum to zero; every balance agrees")


@app.command("close-period")
def close_period(
    practice: Annotated[int, typer.Option(help="The practice id.")],
    month: Annotated[str, typer.Option(help="The month to close, YYYY-MM.")],
) -> None:
    """Close a month: nothing new may be dated in it afterwards."""
    matched = _MONTH.fullmatch(month.strip())
    if matched is None:
        typer.echo(f"error: --month {month!r} is not YYYY-MM", err=True)
        raise typer.Exit(2)
    year, number = int(matched[1]), int(matched[2])
    period = run_in_transaction(
        lambda session: ledger.close_period(
            session, actor=system_actor("cli"), practice_id=practice, year=year, month=number
        )
    )
    span = f"{period.starts_on} to {period.ends_on}"
    typer.echo(f"closed {period.starts_on:%Y-%m} ({span}) for practice {practice}")
