"""Sign-in pages: login, second factor, logout, password change and TOTP enrollment.

The routes are thin: they read the form, call `services.auth`, set or clear the cookie and
redirect. A failed login answers the form again (never an exception) so that the request
commits and the throttle counts the failure.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from revcycle.config import Settings
from revcycle.errors import InvalidInput, RevcycleError
from revcycle.services import auth as auth_service
from revcycle.services.auth import AuthContext
from revcycle.web.deps import DB, SESSION_COOKIE, AppSettings, Auth, OptionalAuth, client_ip
from revcycle.web.security import (
    LOGIN_CSRF_COOKIE,
    CsrfRefused,
    check_login_csrf,
    new_login_csrf_token,
)

router = APIRouter(tags=["sign-in"], include_in_schema=False)

FormStr = Annotated[str, Form()]


def safe_next(target: str | None) -> str:
    """Only a local path: never another site (`//evil`, `https://`, `/\\evil`)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ch in target for ch in "\\\r\n\t") or ":" in target.split("?", 1)[0]:
        return "/"
    return target


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies
    )


def _render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status_code
    )
    return response


def _login_form(
    request: Request,
    settings: Settings,
    *,
    next_url: str,
    email: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_csrf_token()
    response = _render(
        request,
        "auth/login.html",
        {
            "auth": None,
            "login_csrf_token": token,
            "csrf_token": "",
            "next_url": next_url,
            "email": email,
            "error": error,
            "title": "Sign in",
        },
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/login",
    )
    return response


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/login")
def login_page(request: Request, settings: AppSettings, auth: OptionalAuth, next: str = "/") -> Response:
    if auth is not None and auth.via == "session":
        return _redirect(safe_next(next))
    response = _login_form(request, settings, next_url=safe_next(next))
    if request.cookies.get(SESSION_COOKIE) and auth is None:
        clear_session_cookie(response, settings)  # an ended session: drop the stale cookie
    return response


@router.post("/login")
def login_submit(
    request: Request,
    *,
    db: DB,
    settings: AppSettings,
    email: FormStr = "",
    password: FormStr = "",
    csrf_token: FormStr = "",
    next: FormStr = "/",
) -> Response:
    next_url = safe_next(next)
    try:
        check_login_csrf(request, csrf_token)
    except CsrfRefused as exc:
        return _login_form(
            request, settings, next_url=next_url, email=email, error=exc.detail, status_code=403
        )
    try:
        result = auth_service.login(
            db, settings, email=email, password=password, source_ip=client_ip(request)
        )
    except auth_service.LoginFailed as exc:
        # Same words and status for unknown e-mail, wrong password and disabled user.
        return _login_form(
            request, settings, next_url=next_url, email=email, error=exc.detail, status_code=exc.status_code
        )
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        auth_service.logout(
            db, previous, reason="replaced"
        )  # one browser, one session: never reuse an old id
    if result.mfa_pending:
        target = "/login/totp?next=" + quote(next_url, safe="")
    elif result.must_enroll_totp:
        target = "/account/totp"
    else:
        target = next_url
    response = _redirect(target)
    set_session_cookie(response, settings, result.cookie_token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


# --- second factor -----------------------------------------------------------------------


def _totp_form(
    request: Request, *, csrf_token: str, next_url: str, error: str = "", status_code: int = 200
) -> Response:
    return _render(
        request,
        "auth/login_totp.html",
        {"auth": None, "csrf_token": csrf_token, "next_url": next_url, "error": error, "title": "Sign in"},
        status_code=status_code,
    )


@router.get("/login/totp")
def login_totp_page(request: Request, db: DB, settings: AppSettings, next: str = "/") -> Response:
    pending = auth_service.pending_mfa_session(db, settings, request.cookies.get(SESSION_COOKIE, ""))
    if pending is None:
        return _redirect("/login")
    return _totp_form(request, csrf_token=pending.csrf_token, next_url=safe_next(next))


@router.post("/login/totp")
def login_totp_submit(
    request: Request,
    *,
    db: DB,
    settings: AppSettings,
    code: FormStr = "",
    csrf_token: FormStr = "",
    next: FormStr = "/",
) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    next_url = safe_next(next)
    pending = auth_service.pending_mfa_session(db, settings, cookie)
    if pending is None:
        return _redirect("/login")
    if not _same(csrf_token, pending.csrf_token):
        raise CsrfRefused("the form has expired; reload the page and try again")
    try:
        context = auth_service.verify_totp(db, settings, cookie=cookie, code=code)
    except auth_service.TooManyAttempts as exc:
        response = _login_form(request, settings, next_url=next_url, error=exc.detail, status_code=429)
        clear_session_cookie(response, settings)
        return response
    except auth_service.LoginFailed as exc:
        return _totp_form(
            request, csrf_token=pending.csrf_token, next_url=next_url, error=exc.detail, status_code=401
        )
    if auth_service.must_enroll_totp(db, context.user):
        return _redirect("/account/totp")
    return _redirect(next_url)


def _same(supplied: str, expected: str) -> bool:
    return bool(supplied) and secrets.compare_digest(supplied, expected)


# --- logout ------------------------------------------------------------------------------


@router.post("/logout")
def logout(request: Request, db: DB, settings: AppSettings, auth: OptionalAuth) -> Response:
    # The CSRF dependency has already checked the token when a live session posts this.
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie and (auth is not None or auth_service.pending_mfa_session(db, settings, cookie)):
        auth_service.logout(db, cookie)
    response = _redirect("/login")
    clear_session_cookie(response, settings)
    return response


# --- account: password -------------------------------------------------------------------


def _page(
    request: Request, auth: AuthContext, template: str, status_code: int = 200, **context: Any
) -> Response:
    return _render(
        request,
        template,
        {"auth": auth, "csrf_token": auth.csrf_token, "error": "", "message": "", **context},
        status_code=status_code,
    )


@router.get("/account/password")
def password_page(request: Request, auth: Auth) -> Response:
    return _page(request, auth, "auth/password.html", title="Change password")


@router.post("/account/password")
def password_submit(
    request: Request,
    *,
    db: DB,
    settings: AppSettings,
    auth: Auth,
    current_password: FormStr = "",
    new_password: FormStr = "",
    confirm_password: FormStr = "",
) -> Response:
    if new_password != confirm_password:
        return _page(
            request,
            auth,
            "auth/password.html",
            422,
            title="Change password",
            error="The new passwords do not match.",
        )
    try:
        auth_service.set_password(
            db,
            actor=auth.actor,
            user_id=auth.user.id,
            new_password=new_password,
            current_password=current_password,
        )
    except InvalidInput as exc:
        errors = [p.message for p in exc.problems] or [exc.detail.split(": ", 1)[-1]]
        return _page(
            request,
            auth,
            "auth/password.html",
            422,
            title="Change password",
            error="; ".join(errors).capitalize() + ".",
        )
    # Every session of the user has ended; this browser gets a fresh one.
    web_session, token = auth_service.start_web_session(
        db, auth.user, source_ip=client_ip(request), mfa_verified=True
    )
    fresh = AuthContext(auth.user, auth.actor, web_session, "session")
    response = _page(
        request,
        fresh,
        "auth/password.html",
        title="Change password",
        message="Your password has been changed. Other sessions and API tokens have been signed out.",
    )
    set_session_cookie(response, settings, token)
    return response


# --- account: two-factor enrollment ------------------------------------------------------


@router.get("/account/totp")
def totp_page(request: Request, db: DB, auth: Auth) -> Response:
    if auth.user.totp_enabled:
        return _page(request, auth, "auth/totp_enroll.html", title="Two-factor sign-in", enrollment=None)
    enrollment = auth_service.begin_totp_enrollment(db, user=auth.user)
    return _page(
        request,
        auth,
        "auth/totp_enroll.html",
        title="Two-factor sign-in",
        enrollment=enrollment,
        required=auth_service.must_enroll_totp(db, auth.user),
    )


@router.post("/account/totp")
def totp_submit(request: Request, db: DB, auth: Auth, code: FormStr = "") -> Response:
    try:
        auth_service.confirm_totp_enrollment(db, actor=auth.actor, user=auth.user, code=code)
    except RevcycleError as exc:
        enrollment = (
            None if auth.user.totp_enabled else auth_service.begin_totp_enrollment(db, user=auth.user)
        )
        return _page(
            request,
            auth,
            "auth/totp_enroll.html",
            422,
            title="Two-factor sign-in",
            enrollment=enrollment,
            error=exc.detail.split(": ", 1)[-1].capitalize(),
        )
    return _page(
        request,
        auth,
        "auth/totp_enroll.html",
        title="Two-factor sign-in",
        enrollment=None,
        message="Two-factor sign-in is on. You will be asked for a code each time you sign in.",
    )
