"""`revcycle followup run`: rebuild the follow-up work items from the payers' rules.

* ``followup run [--practice ID] [--today DATE]`` rebuilds every practice's follow-ups (or
  one's) as of today (the practice's date, UTC when run by the system) or ``--today``, and
  prints what was created, updated, reopened and resolved; running it twice changes nothing.

``--json`` prints one JSON object. Runs as the system, or as ``--as EMAIL``. One transaction:
a refused request writes nothing and exits 1 with the reason.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from revcycle.cli.transaction import acting_as, run_in_transaction
from revcycle.db.types import utcnow
from revcycle.errors import InvalidInput
from revcycle.services import followup

app = typer.Typer(no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add the ``followup`` group to the root app."""
    root.add_typer(
        app, name="followup", help="Follow-ups: rebuild each claim's next look from its payer's rule."
    )


def _today(text: str | None) -> date:
    if text is None:
        return utcnow().date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--today: {text!r} is not a date (YYYY-MM-DD)") from None


def _out(run: followup.FollowupRun) -> dict[str, Any]:
    return {
        "practice_id": run.practice_id,
        "today": run.today.isoformat(),
        "created": run.created,
        "updated": run.updated,
        "reopened": run.reopened,
        "resolved": run.resolved,
        "unchanged": run.unchanged,
        "by_urgency": run.by_urgency,
    }


@app.command("run")
def run(
    *,
    practice: Annotated[
        int | None, typer.Option("--practice", help="Practice id (all when omitted).")
    ] = None,
    today: Annotated[
        str | None, typer.Option("--today", help="Rebuild as of this date (YYYY-MM-DD).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    as_user: Annotated[str | None, typer.Option("--as", help="Act as this user (e-mail).")] = None,
) -> None:
    """Rebuild the follow-up work items (idempotent)."""

    def work(session: Session) -> list[dict[str, Any]]:
        actor = acting_as(session, as_user)
        day = _today(today)
        if practice is None:
            return [_out(r) for r in followup.rebuild_everywhere(session, today=day, actor=actor)]
        return [_out(followup.rebuild(session, practice_id=practice, today=day, actor=actor))]

    runs = run_in_transaction(work)
    if as_json:
        typer.echo(json.dumps({"runs": runs}))
        return
    for r in runs:
        groups = (
            ", ".join(f"{n} {u.replace('_', ' ')}" for u, n in sorted(r["by_urgency"].items())) or "none open"
        )
        typer.echo(
            f"practice {r['practice_id']} on {r['today']}: {r['created']} created, {r['updated']} updated, "
            f"{r['reopened']} reopened, {r['resolved']} resolved, {r['unchanged']} unchanged; {groups}"
        )
