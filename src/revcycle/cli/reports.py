"""`revcycle reports monthly [--practice ID] [--month YYYY-MM] [--today DATE] [--json]`.

Builds the month's report (by default last month, of the practice's today), keeps the PDF
and mails it to the practice's administrators through the configured mailer (the outbox,
var/outbox, unless REVCYCLE_MAIL_BACKEND=smtp). Once per practice and month: a second run
says when it was sent and sends nothing. Runs as the system, or as ``--as EMAIL``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from revcycle.adapters.mail import mailer_from_settings
from revcycle.cli.transaction import acting_as, only_practice, run_in_transaction
from revcycle.config import get_settings
from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import monthly_report

app = typer.Typer(no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add the ``reports`` group to the root app."""
    root.add_typer(app, name="reports", help="Reports: the monthly report.")


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--today: {text!r} is not a date (YYYY-MM-DD)") from None


@app.command("monthly")
def monthly(
    *,
    practice: Annotated[
        int | None, typer.Option("--practice", help="Practice id (needed when several).")
    ] = None,
    month: Annotated[str | None, typer.Option("--month", help="YYYY-MM (default: last month).")] = None,
    today: Annotated[
        str | None, typer.Option("--today", help="The practice's date (default: today).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    as_user: Annotated[str | None, typer.Option("--as", help="Act as this user (e-mail).")] = None,
) -> None:
    """Build the monthly report PDF, keep it and mail it to the administrators (once)."""
    mailer = mailer_from_settings(get_settings())

    def work(session: Session) -> dict[str, Any]:
        actor = acting_as(session, as_user)
        practice_id = only_practice(session, practice)
        found = session.get(m.Practice, practice_id)
        if found is None:
            raise NotFound(f"practice {practice_id} not found")
        day = _day(today) or monthly_report.practice_today(found, utcnow())
        chosen = monthly_report.month_of(month) if month else monthly_report.previous_month(day)
        outcome = monthly_report.send_monthly_report(
            session, actor=actor, practice_id=practice_id, month=chosen, today=day, mailer=mailer
        )
        return {
            "practice_id": outcome.practice_id,
            "month": f"{outcome.month:%Y-%m}",
            "sent": outcome.sent,
            "recipients": list(outcome.recipients),
            "stored_file_id": outcome.stored_file_id,
            "where": outcome.where,
        }

    result = run_in_transaction(work)
    if as_json:
        typer.echo(json.dumps(result))
        return
    if result["sent"]:
        typer.echo(
            f"practice {result['practice_id']}, {result['month']}: sent to {', '.join(result['recipients'])} "
            f"({result['where']})"
        )
    else:
        typer.echo(f"practice {result['practice_id']}, {result['month']}: not sent: {result['where']}")
