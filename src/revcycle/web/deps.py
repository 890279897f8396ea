"""Request dependencies: the unit of work and who is asking.

One database session per request; it commits once when the route returns (before the
response is sent, `scope="function"`) and rolls back on any error, so an audit row and the
change it records land together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from revcycle.config import Settings
from revcycle.errors import NotAuthenticated
from revcycle.services.actor import Actor
from revcycle.services.auth import AuthContext, authenticate_bearer, authenticate_cookie

SESSION_COOKIE = "revcycle_session"


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _unit_of_work(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DB = Annotated[Session, Depends(_unit_of_work, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def optional_auth(request: Request, db: DB, settings: AppSettings) -> AuthContext | None:
    """The caller's identity from a bearer token (API) or the session cookie (pages)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return authenticate_bearer(db, settings, header[7:].strip(), source_ip=client_ip(request))
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return authenticate_cookie(db, settings, cookie, source_ip=client_ip(request))
    return None


OptionalAuth = Annotated[AuthContext | None, Depends(optional_auth)]


def require_auth(request: Request, auth: OptionalAuth) -> AuthContext:
    if auth is None:
        raise NotAuthenticated("sign in first")
    request.state.auth = auth
    return auth


Auth = Annotated[AuthContext, Depends(require_auth)]


def require_actor(auth: Auth) -> Actor:
    return auth.actor


CurrentActor = Annotated[Actor, Depends(require_actor)]
