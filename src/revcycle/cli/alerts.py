"""`revcycle alerts run|list|missing-claims`.

* ``alerts run [--practice ID] [--at ISO-DATETIME]`` runs the alert rules (every practice
  without ``--practice``), as of now or ``--at``, and prints what was raised, reopened and
  resolved;
* ``alerts list [--practice ID] [--status S] [--severity S]`` lists the practice's alerts;
* ``alerts missing-claims [--practice ID] [--on DATE]`` lists billable sessions never
  submitted 7 or more days after their date of service.

``--json`` prints one JSON object. Runs as the system, or as ``--as EMAIL``. One transaction:
a refused request writes nothing and exits 1 with the reason.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from revcycle.cli.transaction import acting_as, only_practice, run_in_transaction
from revcycle.db import models
from revcycle.db.types import utcnow
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import alerts

app = typer.Typer(no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
AsUser = Annotated[str | None, typer.Option("--as", help="Act as this user (e-mail).")]
PracticeId = Annotated[int | None, typer.Option("--practice", help="Practice id (needed when several).")]


def register(root: typer.Typer) -> None:
    """Add the ``alerts`` group to the root app."""
    root.add_typer(app, name="alerts", help="Alerts: run the rules, list open alerts, missing claims.")


def _moment(text: str | None) -> datetime:
    if text is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--at: {text!r} is not an ISO date and time (2026-03-20T09:00)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--on: {text!r} is not a date (YYYY-MM-DD)") from None


def _run_out(run: alerts.AlertRun) -> dict[str, Any]:
    out = asdict(run)
    out["ran_at"], out["today"] = run.ran_at.isoformat(), run.today.isoformat()
    return out


@app.command("run")
def run(
    *,
    practice: PracticeId = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Evaluate as of this ISO date-time (UTC if no zone).")
    ] = None,
    as_json: AsJson = False,
    as_user: AsUser = None,
) -> None:
    """Run the alert rules: raise, update, resolve and reopen alerts."""

    def work(session: Session) -> list[dict[str, Any]]:
        actor = acting_as(session, as_user)
        now = _moment(at)
        if practice is None:
            return [_run_out(r) for r in alerts.run_alerts_everywhere(session, now=now, actor=actor)]
        return [_run_out(alerts.run_alerts(session, practice_id=practice, now=now, actor=actor))]

    runs = run_in_transaction(work)
    if as_json:
        typer.echo(json.dumps({"runs": runs}))
        return
    for r in runs:
        severities = ", ".join(f"{n} {s}" for s, n in r["open_by_severity"].items())
        typer.echo(
            f"practice {r['practice_id']} on {r['today']}: {r['raised']} raised, {r['reopened']} reopened, "
            f"{r['escalated']} escalated, {r['resolved']} resolved; open: {severities}"
        )


@app.command("list")
def list_alerts(
    *,
    practice: PracticeId = None,
    status: Annotated[str, typer.Option("--status", help="open, acknowledged, resolved or all.")] = "open",
    severity: Annotated[str | None, typer.Option("--severity", help="critical, warning or info.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    as_json: AsJson = False,
    as_user: AsUser = None,
) -> None:
    """List the practice's alerts, most severe first."""

    def work(session: Session) -> dict[str, Any]:
        actor = acting_as(session, as_user)
        page = alerts.list_alerts(
            session,
            actor=actor,
            practice_id=only_practice(session, practice),
            filters=alerts.AlertFilters(status=status, severity=severity),
            limit=limit,
        )
        items = [
            {
                "id": v.item.id,
                "rule": v.item.rule,
                "severity": v.item.severity,
                "status": v.item.status,
                "owner_role": v.item.owner_role,
                "assignee": v.assignee_name,
                "title": v.item.title,
                "detail": v.item.detail,
                "subject": v.subject_url,
                "due_on": v.item.due_on.isoformat() if v.item.due_on else None,
            }
            for v in page.items
        ]
        return {"items": items, "total": page.total}

    result = run_in_transaction(work)
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"{result['total']} alerts")
    for item in result["items"]:
        typer.echo(
            f"  #{item['id']} {item['severity']:8} {item['status']:12} {item['title']} "
            f"({item['owner_role']}): {item['detail']} {item['subject'] or ''}"
        )


@app.command("missing-claims")
def missing_claims(
    *,
    practice: PracticeId = None,
    on: Annotated[
        str | None, typer.Option("--on", help="The practice's date to check (default today).")
    ] = None,
    as_json: AsJson = False,
    as_user: AsUser = None,
) -> None:
    """Billable sessions 7 or more days old never submitted."""

    def work(session: Session) -> dict[str, Any]:
        actor = acting_as(session, as_user)
        practice_id = only_practice(session, practice)
        actor.require(practice_id, Permission.SUBMIT_CLAIMS)
        found = session.get(models.Practice, practice_id)
        if found is None:
            raise NotFound(f"practice {practice_id} not found")
        day = _day(on) or alerts.practice_today(found, utcnow())
        rows = alerts.missing_claims(session, practice_id=practice_id, today=day)
        items = [{**asdict(row), "service_on": row.service_on.isoformat()} for row in rows]
        return {"today": day.isoformat(), "items": items, "total": len(items)}

    result = run_in_transaction(work)
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"{result['total']} missing claims on {result['today']}")
    for row in result["items"]:
        typer.echo(
            f"  session {row['session_id']} of {row['service_on']} "
            f"({row['days_waiting']} days): {row['reason']}"
        )
