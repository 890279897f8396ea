"""One unit of work per command: build the engine from settings, run, commit, dispose.

A refused request (any RevcycleError) prints its reason and exits 1, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.config import get_settings
from revcycle.db import models
from revcycle.db.engine import engine_from_settings, make_session_factory, unit_of_work
from revcycle.errors import InvalidInput, NotFound, RevcycleError
from revcycle.services import auth
from revcycle.services.actor import Actor, system_actor

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


def acting_as(session: Session, email: str | None) -> Actor:
    """The system, or the active user with ``email`` (``--as``): whose role the command uses."""
    if email is None:
        return system_actor("cli")
    user = session.scalars(
        select(models.User).where(models.User.email == auth.normalize_email(email))
    ).one_or_none()
    if user is None or not user.is_active:
        raise NotFound(f"no active user with e-mail {email}")
    return auth.actor_for_user(session, user, source_ip="cli")


def only_practice(session: Session, practice: int | None) -> int:
    """``--practice``, or the installation's one practice."""
    if practice is not None:
        return practice
    ids = list(session.scalars(select(models.Practice.id).limit(2)))
    if len(ids) != 1:
        raise InvalidInput("--practice: give the practice id (there is not exactly one practice)")
    return ids[0]
