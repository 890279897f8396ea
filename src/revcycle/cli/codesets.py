"""`revcycle codesets load-icd10|load-ncci|list`: code sets an admin loads.

* ``codesets load-icd10 FILE --name N --effective-on D --ends-on D`` loads a CMS ICD-10-CM
  order file (``icd10cm_order_YYYY.txt`` or the CMS zip holding it);
* ``codesets load-ncci FILE --name N --effective-on D [--ends-on D]`` loads a CMS NCCI
  practitioner PTP file (the text or its zip), streamed;
* ``codesets list`` lists the loaded releases.

One transaction: a file with a wrong line writes nothing and exits 1 naming file, line and
column. Runs as the system, or as ``--as EMAIL``; the load is audited in ``--practice`` (the
installation's one practice by default).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from revcycle.cli.transaction import acting_as, only_practice, run_in_transaction
from revcycle.db import models
from revcycle.errors import InvalidInput
from revcycle.services import codesets

app = typer.Typer(no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
AsUser = Annotated[str | None, typer.Option("--as", help="Act as this user (e-mail).")]
PracticeId = Annotated[int | None, typer.Option("--practice", help="Practice id (needed when several).")]
FileArg = Annotated[Path, typer.Argument(help="The CMS file, or the CMS zip holding it.")]
Name = Annotated[str, typer.Option("--name", help="The release's name, unique per kind.")]
EffectiveOn = Annotated[str, typer.Option("--effective-on", help="First date of service (YYYY-MM-DD).")]


def register(root: typer.Typer) -> None:
    """Add the ``codesets`` group to the root app."""
    root.add_typer(app, name="codesets", help="Code sets: load ICD-10-CM releases and NCCI tables.")


def _date(option: str, text: str | None) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def _required_date(option: str, text: str) -> date:
    day = _date(option, text)
    if day is None:
        raise InvalidInput(f"{option}: give a date (YYYY-MM-DD)")
    return day


def _file(path: Path) -> Path:
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    return path


def _summary(row: models.CodeSetRelease) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "effective_on": row.effective_on.isoformat(),
        "ends_on": row.ends_on.isoformat() if row.ends_on else None,
        "rows": row.row_count,
    }


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result))
        return
    until = result["ends_on"] or "open"
    typer.echo(
        f"loaded {result['kind']} release {result['name']!r} ({result['effective_on']} .. {until}): "
        f"{result['rows']} rows"
    )


@app.command("load-icd10")
def load_icd10(
    file: FileArg,
    *,
    name: Name,
    effective_on: EffectiveOn,
    ends_on: Annotated[str, typer.Option("--ends-on", help="Last date of service (YYYY-MM-DD).")],
    practice: PracticeId = None,
    as_json: AsJson = False,
    as_user: AsUser = None,
) -> None:
    """Load a CMS ICD-10-CM order file as a release in force over the dates given."""

    def work(session: Session) -> dict[str, Any]:
        actor = acting_as(session, as_user)
        row = codesets.load_icd10_release(
            session,
            actor=actor,
            practice_id=only_practice(session, practice),
            data=_file(file).read_bytes(),
            filename=file.name,
            name=name,
            effective_on=_required_date("--effective-on", effective_on),
            ends_on=_required_date("--ends-on", ends_on),
        )
        return _summary(row)

    _print(run_in_transaction(work), as_json)


@app.command("load-ncci")
def load_ncci(
    file: FileArg,
    *,
    name: Name,
    effective_on: EffectiveOn,
    ends_on: Annotated[str | None, typer.Option("--ends-on", help="Last date of service.")] = None,
    practice: PracticeId = None,
    as_json: AsJson = False,
    as_user: AsUser = None,
) -> None:
    """Load a CMS NCCI practitioner PTP file (streamed, all or nothing)."""

    def work(session: Session) -> dict[str, Any]:
        actor = acting_as(session, as_user)
        with _file(file).open("rb") as stream:
            row = codesets.load_ncci_table(
                session,
                actor=actor,
                practice_id=only_practice(session, practice),
                stream=stream,
                filename=file.name,
                name=name,
                effective_on=_required_date("--effective-on", effective_on),
                ends_on=_date("--ends-on", ends_on),
            )
        return _summary(row)

    _print(run_in_transaction(work), as_json)


@app.command("list")
def list_releases(*, practice: PracticeId = None, as_json: AsJson = False, as_user: AsUser = None) -> None:
    """List the loaded ICD-10-CM releases and NCCI tables."""

    def work(session: Session) -> list[dict[str, Any]]:
        actor = acting_as(session, as_user)
        found = codesets.list_releases(session, actor=actor, practice_id=only_practice(session, practice))
        return [
            {
                **asdict(r),
                "effective_on": r.effective_on.isoformat(),
                "ends_on": r.ends_on and r.ends_on.isoformat(),
                "loaded_at": r.loaded_at.isoformat(),
            }
            for r in found
        ]

    releases = run_in_transaction(work)
    if as_json:
        typer.echo(json.dumps({"releases": releases}))
        return
    if not releases:
        typer.echo("no code sets loaded (the shipped ICD-10-CM releases are always in use)")
    for r in releases:
        typer.echo(
            f"{r['kind']:9} {r['name']:40} {r['effective_on']} .. {r['ends_on'] or 'open':10} "
            f"{r['row_count']:>9} rows  {r['loaded_by'] or 'system'}"
        )
