"""Security headers on every response, and CSRF protection for cookie-authenticated writes.

Headers: a strict Content-Security-Policy (no inline script or style anywhere; HTMX and
Bootstrap load from /static), no sniffing, no framing, same-origin referrers, and
``Cache-Control: no-store`` on every page and API answer because they carry PHI. Only
/static may be cached.

CSRF: a write (POST, PUT, PATCH, DELETE) authenticated by the session cookie must carry the
session's token, in the form field ``csrf_token`` or the ``X-CSRF-Token`` header (HTMX sends
the header from ``hx-headers`` on <body>). Requests with a bearer token are exempt: a
browser never adds one on its own. The login form has no session yet; it uses a
double-submit cookie (:data:`LOGIN_CSRF_COOKIE`), checked by the login route.

:func:`install_security_headers` also makes :func:`csrf_protect` a dependency of every route
included after it, so no router can forget it.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revcycle.errors import RevcycleError
from revcycle.services.auth import AuthContext
from revcycle.web.deps import optional_auth

__all__ = [
    "CSRF_FORM_FIELD",
    "CSRF_HEADER",
    "LOGIN_CSRF_COOKIE",
    "CsrfRefused",
    "SecurityHeadersMiddleware",
    "check_login_csrf",
    "csrf_protect",
    "install_security_headers",
    "new_login_csrf_token",
    "security_headers_for",
]

CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOGIN_CSRF_COOKIE = "revcycle_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Routes that check their own token (no session exists yet when they are posted).
SELF_CHECKED_PATHS = frozenset({"/login", "/login/totp", "/api/auth/token"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'self'"
)
# FastAPI's Swagger UI is an inline script loading from a CDN; only /api/docs gets this.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)
STATIC_PREFIX = "/static/"


class CsrfRefused(RevcycleError):
    code = "csrf"
    status_code = 403


def security_headers_for(path: str) -> dict[str, str]:
    """The headers every response to this path carries."""
    headers = {
        "content-security-policy": (
            DOCS_CONTENT_SECURITY_POLICY if path == "/api/docs" else CONTENT_SECURITY_POLICY
        ),
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
        "x-frame-options": "DENY",
        "cross-origin-opener-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if not path.startswith(STATIC_PREFIX):
        headers["cache-control"] = "no-store"
        headers["pragma"] = "no-cache"
    return headers


class SecurityHeadersMiddleware:
    """Pure ASGI: sets the headers on the response start, whatever produced the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers_for(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _supplied_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # Starlette caches it; the route reads the same form
        value = form.get(CSRF_FORM_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def csrf_protect(request: Request, auth: Annotated[AuthContext | None, Depends(optional_auth)]) -> None:
    """Refuse a cookie-authenticated write that does not carry the session's CSRF token."""
    if request.method in SAFE_METHODS or request.url.path in SELF_CHECKED_PATHS:
        return
    if auth is None or auth.via != "session" or auth.web_session is None:
        return  # bearer token (exempt) or anonymous (the route's own auth refuses it)
    supplied = await _supplied_token(request)
    if not supplied or not secrets.compare_digest(supplied, auth.web_session.csrf_token):
        raise CsrfRefused("the form has expired or did not come from this site; reload and try again")


def new_login_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def check_login_csrf(request: Request, supplied: str) -> None:
    """The double-submit check for forms posted before a session exists."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not supplied or not secrets.compare_digest(expected, supplied):
        raise CsrfRefused("the sign-in form has expired; reload the page and try again")


def install_security_headers(app: FastAPI) -> None:
    """Headers on every response, and CSRF checks on every route included from now on."""
    app.add_middleware(SecurityHeadersMiddleware)
    app.router.dependencies.append(Depends(csrf_protect))
