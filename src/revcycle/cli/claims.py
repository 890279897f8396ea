"""`revcycle claims ready|submit|list`: the claim pipeline for scripted use.

* ``claims ready SESSION_ID...`` marks the sessions ready (refusals name the session and the
  reason) and turns the practice's ready sessions into claims, scrubbed as built.
* ``claims submit CLAIM_ID... [--portal NAME] [--channel C] [--on DATE] [--reference REF]``
  records ready claims as submitted; ``--batch`` queues them for an electronic batch instead.
* ``claims list [--status S]`` lists the practice's claims.

``--json`` prints one JSON object. Runs as the system, or as ``--as EMAIL``. One
transaction: a refused request writes nothing and exits 1 with the reason.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.cli.transaction import acting_as, only_practice, run_in_transaction
from revcycle.db import models
from revcycle.errors import InvalidInput, NotFound
from revcycle.services import queries, submissions
from revcycle.services.claims_pipeline import building

app = typer.Typer(no_args_is_help=True, help="Claims: ready, submit, list.")

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
AsUser = Annotated[str | None, typer.Option("--as", help="Act as this user (e-mail).")]
PracticeId = Annotated[int | None, typer.Option("--practice", help="Practice id (needed when several).")]


@app.command("ready")
def ready(
    session_ids: Annotated[list[int], typer.Argument(help="Session ids to mark ready.")],
    *,
    practice: PracticeId = None,
    as_json: AsJson = False,
    as_user: AsUser = None,
) -> None:
    """Mark sessions ready to bill and build their claims."""

    def work(session: Session) -> dict[str, Any]:
        actor = acting_as(session, as_user)
        marked = building.mark_sessions_ready(session, actor=actor, session_ids=session_ids)
        built = building.build_claims(session, actor=actor, practice_id=only_practice(session, practice))
        return {
            "marked": marked.marked,
            "already_ready": marked.already_ready,
            "refused": [{"session_id": r.session_id, "reason": r.reason} for r in marked.refused],
            "claims": [
                {
                    "id": b.claim.id,
                    "number": b.claim.number,
                    "status": b.claim.status,
                    "sessions": b.session_ids,
                    "problems": [
                        {"code": p.code, "where": p.where, "message": p.message, "severity": str(p.severity)}
                        for p in b.scrub.problems
                    ],
                }
                for b in built.claims
            ],
            "skipped": [{"session_id": r.session_id, "reason": r.reason} for r in built.skipped],
        }

    result = run_in_transaction(work)
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"marked ready: {len(result['marked'])}, already ready: {len(result['already_ready'])}")
    for refusal in result["refused"] + result["skipped"]:
        typer.echo(f"  session {refusal['session_id']}: {refusal['reason']}")
    for claim in result["claims"]:
        typer.echo(f"claim {claim['number']}: {claim['status']} ({len(claim['problems'])} problems)")


@app.command("submit")
def submit(
    claim_ids: Annotated[list[int], typer.Argument(help="Claim ids (ready).")],
    *,
    portal: Annotated[str | None, typer.Option("--portal", help="Portal name (channel portal).")] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="portal, clearinghouse, simplepractice or paper.")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="Date submitted, YYYY-MM-DD (default today).")
    ] = None,
    reference: Annotated[str, typer.Option("--reference", help="Reference the portal returned.")] = "",
    batch: Annotated[bool, typer.Option("--batch", help="Queue for an electronic batch instead.")] = False,
    as_json: AsJson = False,
    as_user: AsUser = None,
) -> None:
    """Record ready claims as submitted (or queue them for a batch)."""

    def work(session: Session) -> dict[str, Any]:
        actor = acting_as(session, as_user)
        if batch:
            queued = submissions.queue_for_batch(
                session, actor=actor, claim_ids=claim_ids, channel=channel or "clearinghouse"
            )
            return {"batch_id": queued.id, "status": queued.status, "claims": claim_ids, "submissions": []}
        portal_id = _portal_id(session, claim_ids, portal)
        rows = submissions.record_submissions(
            session,
            actor=actor,
            claim_ids=claim_ids,
            submitted_on=_date(on),
            reference=reference,
            channel="portal" if portal and not channel else channel,
            portal_id=portal_id,
        )
        return {
            "batch_id": None,
            "status": "submitted",
            "claims": claim_ids,
            "submissions": [
                {"id": r.id, "claim_id": r.claim_id, "channel": r.channel, "reference": r.reference}
                for r in rows
            ],
        }

    result = run_in_transaction(work)
    if as_json:
        typer.echo(json.dumps(result))
    elif result["batch_id"] is not None:
        typer.echo(f"queued {len(result['claims'])} claims in batch {result['batch_id']}")
    else:
        typer.echo(f"submitted {len(result['submissions'])} claims")


@app.command("list")
def list_claims(
    *,
    status: Annotated[str | None, typer.Option("--status", help="Only claims in this status.")] = None,
    practice: PracticeId = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    as_json: AsJson = False,
    as_user: AsUser = None,
) -> None:
    """List claims, newest date of service first."""

    def work(session: Session) -> dict[str, Any]:
        actor = acting_as(session, as_user)
        page = queries.list_claims(
            session, actor=actor, practice_id=only_practice(session, practice), status=status, limit=limit
        )
        return {
            "total": page.total,
            "claims": [
                {
                    "id": row.claim.id,
                    "number": row.claim.number,
                    "status": row.claim.status,
                    "client": row.client_name,
                    "payer": row.payer_name,
                    "service_on": row.claim.service_from_on.isoformat(),
                    "billed_cents": row.claim.billed_cents,
                }
                for row in page.items
            ],
        }

    result = run_in_transaction(work)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for claim in result["claims"]:
        typer.echo(f"{claim['number']}  {claim['status']:<12} {claim['service_on']}  {claim['payer']}")
    typer.echo(f"{result['total']} claims")


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--on {text!r}: give a date as YYYY-MM-DD") from None


def _portal_id(session: Session, claim_ids: list[int], name: str | None) -> int | None:
    if name is None:
        return None
    practice_ids = select(models.Claim.practice_id).where(models.Claim.id.in_(claim_ids))
    found = session.scalars(
        select(models.InsurancePortal.id).where(
            models.InsurancePortal.name == name, models.InsurancePortal.practice_id.in_(practice_ids)
        )
    ).first()
    if found is None:
        raise NotFound(f"--portal {name!r}: no such portal")
    return found


def register(root: typer.Typer) -> None:
    """Add the ``claims`` group to the root app."""
    root.add_typer(app, name="claims", help="Claims: ready, submit, list.")
