"""From exceptions to answers: JSON for /api/, pages (or a sign-in redirect) for the rest.

The API always answers ``{"error": code, "detail": text}``; bad input is a 4xx that names
the field, never a 500. An unexpected error answers 500 without a traceback and is logged
with its type and stack frames only: exception messages can quote row values (PHI), so
they are not logged.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import escape
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revcycle.errors import InvalidInput, NotAuthenticated, RevcycleError

__all__ = ["ErrorPageMiddleware", "install_error_handlers", "is_api_path", "login_redirect"]

log = logging.getLogger("revcycle.web")

HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}
TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    422: "Please check the input",
    429: "Too many attempts",
    500: "Something went wrong",
}
INTERNAL_DETAIL = "Something went wrong on our side. It has been logged; please try again."


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def login_redirect(request: Request) -> Response:
    """Send a page request to the sign-in form, coming back here afterwards."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    location = "/login?next=" + quote(target, safe="")
    if request.headers.get("hx-request"):
        # HTMX would swap the login page into a fragment; ask it to navigate instead.
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def _json(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail, **extra}, status_code=status, headers=headers)


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    """The HTML error page; plain markup when the templates cannot render (no base yet)."""
    title = TITLES.get(status, "Error")
    templates = getattr(request.app.state, "templates", None)
    if templates is not None:
        try:
            return templates.TemplateResponse(  # type: ignore[no-any-return]
                request,
                "errors/error.html",
                {
                    "status_code": status,
                    "title": title,
                    "detail": detail,
                    "auth": getattr(request.state, "auth", None),
                },
                status_code=status,
            )
        except Exception:  # a broken error page must not hide the original error
            log.exception("error page template failed")
    body = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"</head><body><main><h1>{escape(title)}</h1><p>{escape(detail)}</p>"
        "<p><a href='/'>Back to Revcycle</a></p></main></body></html>"
    )
    return HTMLResponse(body, status_code=status)


async def _revcycle_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RevcycleError)
    if is_api_path(request.url.path):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidInput) and exc.problems:
            extra["problems"] = [
                {"code": p.code, "where": p.where, "message": p.message} for p in exc.problems
            ]
        return _json(exc.status_code, exc.code, exc.detail, headers, **extra)
    if isinstance(exc, NotAuthenticated) and exc.status_code == 401:
        return login_redirect(request)
    return error_page(request, exc.status_code, exc.detail)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc]
    if len(parts) > 1 and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    return ".".join(parts) or "request"


def validation_detail(exc: RequestValidationError) -> str:
    return "; ".join(f"{_field(err.get('loc', ()))}: {err.get('msg', 'invalid')}" for err in exc.errors())


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    detail = validation_detail(exc)
    if is_api_path(request.url.path):
        return _json(422, "invalid", detail)
    return error_page(request, 422, detail)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = HTTP_CODES.get(status, "error")
    detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    if status == 404:
        detail = "not found"
    headers = dict(exc.headers) if exc.headers else None
    if is_api_path(request.url.path) or status in {405, 413, 415}:
        return _json(status, code, detail, headers)
    if status == 401:
        return login_redirect(request)
    response = error_page(request, status, detail)
    if headers:
        response.headers.update(headers)
    return response


class ErrorPageMiddleware:
    """Turns any unhandled exception into a 500 answer without a traceback.

    It sits inside the security-headers middleware, so even a 500 carries the headers
    (Starlette's own last-resort handler runs outside every middleware).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            path = scope.get("path", "")
            # Type and frames only: messages may quote patient data.
            log.error(
                "unhandled %s on %s %s\n%s",
                type(exc).__name__,
                scope.get("method", ""),
                path,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            if started:
                raise
            request = Request(scope)
            response: Response
            if is_api_path(path):
                response = _json(500, "internal", INTERNAL_DETAIL)
            else:
                response = error_page(request, 500, INTERNAL_DETAIL)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RevcycleError, _revcycle_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(ErrorPageMiddleware)
