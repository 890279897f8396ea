"""One unit of work per command: build the engine from settings, run, commit, dispose.

A refused request (any RevcycleError) prints its reason and exits 1, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from sqlalchemy.orm import Session

from revcycle.config import get_settings
from revcycle.db.engine import engine_from_settings, make_session_factory, unit_of_work
from revcycle.errors import RevcycleError

T = TypeVar("T")


def run_in_transaction(work: Callable[[Session], T]) -> T:
    engine = engine_from_settings(get_settings())
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            return work(session)
    except RevcycleError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
