"""Who is asking: users, logins, web sessions, second factors and API tokens.

Web sessions are server-side rows: the cookie holds a random token, the table only its
SHA-256, so a copy of the database opens no session. Each session and each API token carries
the user's ``token_version``; changing the password or disabling the user bumps it, which
ends every session and revokes every token at once.

Logins are throttled per e-mail address, known or not, and both answer the same words, so
the login form does not tell which addresses have accounts. Unknown addresses are checked
against a dummy hash so that timing does not tell either.

A user with TOTP enabled starts with a session marked ``mfa_pending`` that authenticates
nothing until the code is verified. An admin of a practice that requires TOTP and has not
enrolled holds no admin rights there (the other roles stay) until enrollment is confirmed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt
import pyotp
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revcycle.config import Settings
from revcycle.db import models
from revcycle.db.types import utcnow
from revcycle.domain.permissions import Permission, Role
from revcycle.domain.problems import has_errors
from revcycle.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.passwords import (
    check_password_policy,
    dummy_hash,
    hash_password,
    verify_password,
)

__all__ = [
    "INVALID_LOGIN",
    "TOO_MANY_ATTEMPTS",
    "AuthContext",
    "LoginFailed",
    "LoginResult",
    "TooManyAttempts",
    "TotpEnrollment",
    "actor_for_user",
    "authenticate_bearer",
    "authenticate_cookie",
    "begin_totp_enrollment",
    "confirm_totp_enrollment",
    "create_user",
    "disable_user",
    "hash_token",
    "issue_token",
    "login",
    "logout",
    "must_enroll_totp",
    "pending_mfa_session",
    "set_password",
    "start_web_session",
    "verify_totp",
]

INVALID_LOGIN = "Invalid e-mail or password"
TOO_MANY_ATTEMPTS = "Too many attempts; try again in {minutes} minutes"
TOTP_ISSUER = "Revcycle"
JWT_ALGORITHM = "HS256"
# Writing last_seen_at on every request costs a write per page; a minute of slack is harmless
# against a 15-minute idle timeout.
TOUCH_INTERVAL = timedelta(seconds=60)


class LoginFailed(NotAuthenticated):
    """Wrong e-mail, wrong password, disabled user or bad code: one answer for all."""

    code = "login_failed"


class TooManyAttempts(LoginFailed):
    code = "too_many_attempts"
    status_code = 429


@dataclass(frozen=True)
class AuthContext:
    user: models.User
    actor: Actor
    web_session: models.WebSession | None
    via: Literal["session", "token"]

    @property
    def csrf_token(self) -> str:
        return self.web_session.csrf_token if self.web_session else ""


@dataclass(frozen=True)
class LoginResult:
    user: models.User
    web_session: models.WebSession
    cookie_token: str  # the raw token for the cookie; only its hash is stored
    mfa_pending: bool
    must_enroll_totp: bool


@dataclass(frozen=True)
class TotpEnrollment:
    secret: str
    uri: str  # otpauth:// for authenticator apps


# --- identity ----------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _user_by_email(session: Session, email: str) -> models.User | None:
    return session.scalars(
        select(models.User).where(models.User.email == normalize_email(email))
    ).one_or_none()


def _totp_practice_ids(session: Session, user: models.User) -> set[int]:
    """Practices where the user is an admin and the practice requires admins to use TOTP."""
    rows = session.execute(
        select(models.Membership.practice_id)
        .join(models.Practice, models.Practice.id == models.Membership.practice_id)
        .where(
            models.Membership.user_id == user.id,
            models.Membership.role == Role.ADMIN.value,
            models.Practice.require_admin_totp.is_(True),
        )
    )
    return {practice_id for (practice_id,) in rows}


def must_enroll_totp(session: Session, user: models.User) -> bool:
    return not user.totp_enabled and bool(_totp_practice_ids(session, user))


def actor_for_user(session: Session, user: models.User, source_ip: str) -> Actor:
    """The user's roles per practice, from memberships.

    Admin rights in a practice that requires TOTP are withheld until the user enrolls.
    """
    withheld = set() if user.totp_enabled else _totp_practice_ids(session, user)
    roles: dict[int, set[Role]] = {}
    memberships = session.scalars(select(models.Membership).where(models.Membership.user_id == user.id))
    for membership in memberships:
        held = roles.setdefault(membership.practice_id, set())
        role = Role(membership.role)
        if not (role is Role.ADMIN and membership.practice_id in withheld):
            held.add(role)
    return Actor(
        user_id=user.id,
        roles_by_practice={p: frozenset(r) for p, r in roles.items()},
        source_ip=source_ip,
        label=user.email,
    )


# --- user management ---------------------------------------------------------------------


def _require_manager(
    session: Session, actor: Actor, user: models.User | None, practice_id: int | None
) -> list[int]:
    """The practices in which the actor manages this user (or the new user's practice).

    The system manages everyone. An admin manages the users of the practices they
    administer; a user outside those practices does not exist for them.
    """
    if practice_id is not None:
        if not actor.is_system:
            actor.require(practice_id, Permission.MANAGE_USERS)
        return [practice_id]
    if user is None:
        return []
    member_of = sorted(
        set(
            session.scalars(select(models.Membership.practice_id).where(models.Membership.user_id == user.id))
        )
    )
    if actor.is_system:
        return member_of
    shared = [pid for pid in member_of if pid in actor.practice_ids]
    if not shared:
        raise NotFound("user not found")
    for pid in shared:
        actor.require(pid, Permission.MANAGE_USERS)
    return shared


def _refuse_weak(password: str, email: str) -> None:
    problems = check_password_policy(password, email=email)
    if has_errors(problems):
        raise InvalidInput("password: " + "; ".join(p.message for p in problems), problems)


def create_user(
    session: Session,
    *,
    actor: Actor,
    email: str,
    full_name: str,
    password: str,
    practice_id: int | None = None,
    role: Role | str | None = None,
    team_id: int | None = None,
) -> models.User:
    """A new user, optionally a member of one practice with one role.

    Admins of that practice only; a user without a practice only by the system (CLI).
    """
    if practice_id is None and not actor.is_system:
        raise PermissionDenied("only an administrator of a practice may add users to it")
    if (practice_id is None) != (role is None):
        raise InvalidInput("role: give a practice and a role together")
    practice_ids = _require_manager(session, actor, None, practice_id)
    email = normalize_email(email)
    if "@" not in email or len(email) > 254:
        raise InvalidInput(f"email: not an e-mail address: {email!r}")
    if _user_by_email(session, email) is not None:
        raise Conflict(f"a user with e-mail {email} already exists")
    _refuse_weak(password, email)
    user = models.User(
        email=email,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        password_changed_at=utcnow(),
    )
    session.add(user)
    session.flush()
    if practice_id is not None and role is not None:
        _add_membership(session, user, practice_id, role, team_id)
    _audit_user(
        session,
        actor,
        practice_ids,
        user,
        "create",
        after={"email": email, "full_name": user.full_name, "role": str(role)},
    )
    return user


def _audit_user(
    session: Session,
    actor: Actor,
    practice_ids: Iterable[int],
    user: models.User,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    """A change to a user account, audited in every practice the user belongs to."""
    for practice_id in practice_ids:
        audit.record(
            session,
            actor=actor,
            practice_id=practice_id,
            action=action,
            entity="user",
            entity_id=user.id,
            before=before,
            after=after,
            reason=reason,
        )


def _add_membership(
    session: Session, user: models.User, practice_id: int, role: Role | str, team_id: int | None
) -> None:
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"role: unknown role {role!r}; one of {', '.join(Role)}") from None
    if session.get(models.Practice, practice_id) is None:
        raise NotFound(f"practice {practice_id} not found")
    if team_id is not None:
        team = session.get(models.Team, team_id)
        if team is None or team.practice_id != practice_id:
            raise InvalidInput(f"team_id: no team {team_id} in this practice")
    session.add(models.Membership(user_id=user.id, practice_id=practice_id, role=role.value, team_id=team_id))
    session.flush()


def _end_all_sessions(session: Session, user: models.User, reason: str, now: datetime) -> None:
    session.execute(
        update(models.WebSession)
        .where(models.WebSession.user_id == user.id, models.WebSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
        .execution_options(synchronize_session="fetch")
    )


def _revoke_credentials(session: Session, user: models.User, reason: str) -> None:
    """Every session and API token of the user stops working."""
    user.token_version += 1
    _end_all_sessions(session, user, reason, utcnow())
    session.flush()


def set_password(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    new_password: str,
    current_password: str | None = None,
) -> models.User:
    """A new password; ends all the user's sessions and revokes their API tokens.

    Users change their own by giving the current one; an admin (or the system) sets
    another user's without it.
    """
    user = session.get(models.User, user_id)
    if user is None:
        raise NotFound("user not found")
    own = actor.user_id == user.id and not actor.is_system
    if own:
        matches, _ = verify_password(user.password_hash, current_password or "")
        if not matches:
            raise InvalidInput("current_password: the current password is not correct")
        practice_ids = sorted(actor.practice_ids)
    else:
        practice_ids = _require_manager(session, actor, user, None)
    _refuse_weak(new_password, user.email)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    _revoke_credentials(session, user, "password_changed")
    _audit_user(session, actor, practice_ids, user, "update", after={"password": "changed"})
    return user


def disable_user(session: Session, *, actor: Actor, user_id: int, reason: str = "") -> models.User:
    """The user can no longer sign in; sessions end and API tokens stop working."""
    user = session.get(models.User, user_id)
    if user is None:
        raise NotFound("user not found")
    if actor.user_id == user.id and not actor.is_system:
        raise InvalidInput("user: you cannot disable your own account")
    practice_ids = _require_manager(session, actor, user, None)
    was_active = user.is_active
    user.is_active = False
    _revoke_credentials(session, user, "disabled")
    _audit_user(
        session,
        actor,
        practice_ids,
        user,
        "update",
        before={"is_active": was_active},
        after={"is_active": False},
        reason=reason,
    )
    return user


# --- login and throttling ----------------------------------------------------------------


def _throttle(session: Session, email: str) -> models.LoginThrottle:
    row = session.scalars(
        select(models.LoginThrottle).where(models.LoginThrottle.email == email)
    ).one_or_none()
    if row is not None:
        return row
    try:
        with session.begin_nested():  # a concurrent first failure may insert the same e-mail
            row = models.LoginThrottle(email=email, failures=0)
            session.add(row)
    except IntegrityError:
        row = session.scalars(select(models.LoginThrottle).where(models.LoginThrottle.email == email)).one()
    return row


def _locked_message(settings: Settings) -> str:
    return TOO_MANY_ATTEMPTS.format(minutes=settings.login_lockout_minutes)


def _check_not_locked(session: Session, settings: Settings, email: str, now: datetime) -> None:
    row = session.scalars(
        select(models.LoginThrottle).where(models.LoginThrottle.email == email)
    ).one_or_none()
    if row is not None and row.locked_until is not None and now < row.locked_until:
        raise TooManyAttempts(_locked_message(settings))


def _record_failure(session: Session, settings: Settings, email: str, now: datetime) -> LoginFailed:
    """Count one failure; the error to raise (a lockout once the limit is reached)."""
    row = _throttle(session, email)
    window = timedelta(minutes=settings.login_lockout_minutes)
    if row.last_failure_at is None or now - row.last_failure_at > window:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= settings.login_max_failures:
        row.failures = 0
        row.locked_until = now + window
        session.flush()
        return TooManyAttempts(_locked_message(settings))
    session.flush()
    return LoginFailed(INVALID_LOGIN)


def _clear_failures(session: Session, email: str) -> None:
    row = session.scalars(
        select(models.LoginThrottle).where(models.LoginThrottle.email == email)
    ).one_or_none()
    if row is not None:
        session.delete(row)
        session.flush()


def _check_password(
    session: Session, settings: Settings, email: str, password: str, now: datetime
) -> models.User:
    """The user whose password this is, or a LoginFailed (counted against the e-mail)."""
    email = normalize_email(email)
    _check_not_locked(session, settings, email, now)
    user = _user_by_email(session, email)
    if user is None or not user.password_hash:
        verify_password(dummy_hash(), password)  # the same work as a real check
        raise _record_failure(session, settings, email, now)
    matches, new_hash = verify_password(user.password_hash, password)
    if not matches or not user.is_active:
        raise _record_failure(session, settings, email, now)
    if new_hash is not None:
        user.password_hash = new_hash
    _clear_failures(session, email)
    return user


def login(
    session: Session,
    settings: Settings,
    *,
    email: str,
    password: str,
    source_ip: str,
    now: datetime | None = None,
) -> LoginResult:
    """Check the password and start a web session.

    Raises LoginFailed (or TooManyAttempts). The failure count is written to the session:
    the caller must commit it even though the login failed (catch the error, answer, and
    let the unit of work commit), or the throttle never counts.
    """
    now = now or utcnow()
    user = _check_password(session, settings, email, password, now)
    web_session, token = start_web_session(session, user, source_ip=source_ip, now=now)
    return LoginResult(
        user=user,
        web_session=web_session,
        cookie_token=token,
        mfa_pending=web_session.mfa_pending,
        must_enroll_totp=must_enroll_totp(session, user),
    )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_web_session(
    session: Session,
    user: models.User,
    *,
    source_ip: str,
    now: datetime | None = None,
    mfa_verified: bool = False,
) -> tuple[models.WebSession, str]:
    """A new session row and the raw cookie token (shown once, stored hashed).

    `mfa_verified` carries a second factor already given in this browser (a password
    change replaces the session and must not ask for the code again).
    """
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    first_practice = session.scalars(
        select(models.Membership.practice_id)
        .where(models.Membership.user_id == user.id)
        .order_by(models.Membership.practice_id)
        .limit(1)
    ).first()
    web_session = models.WebSession(
        token_hash=hash_token(token),
        user_id=user.id,
        token_version=user.token_version,
        csrf_token=secrets.token_urlsafe(32),
        practice_id=first_practice,
        mfa_pending=user.totp_enabled and not mfa_verified,
        created_at=now,
        last_seen_at=now,
        source_ip=source_ip[:64],
    )
    session.add(web_session)
    session.flush()
    return web_session, token


def _open_session(session: Session, cookie: str) -> models.WebSession | None:
    if not cookie:
        return None
    return session.scalars(
        select(models.WebSession).where(
            models.WebSession.token_hash == hash_token(cookie), models.WebSession.ended_at.is_(None)
        )
    ).one_or_none()


def _end_reason(
    settings: Settings, web_session: models.WebSession, user: models.User | None, now: datetime
) -> str | None:
    if user is None or not user.is_active:
        return "disabled"
    if web_session.token_version != user.token_version:
        return "revoked"
    if now - web_session.created_at > timedelta(hours=settings.session_absolute_hours):
        return "expired"
    if now - web_session.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        return "idle"
    return None


def _live_session(
    session: Session, settings: Settings, cookie: str, now: datetime
) -> tuple[models.WebSession, models.User] | None:
    """The open session behind the cookie, ended here (with its reason) when it is stale."""
    web_session = _open_session(session, cookie)
    if web_session is None:
        return None
    user = session.get(models.User, web_session.user_id)
    reason = _end_reason(settings, web_session, user, now)
    if reason is not None or user is None:
        web_session.ended_at = now
        web_session.ended_reason = reason
        session.flush()
        return None
    return web_session, user


def authenticate_cookie(
    session: Session,
    settings: Settings,
    cookie: str,
    *,
    source_ip: str,
    now: datetime | None = None,
) -> AuthContext | None:
    """Who holds this session cookie, or None (no session, ended, stale, or second factor due)."""
    now = now or utcnow()
    live = _live_session(session, settings, cookie, now)
    if live is None:
        return None
    web_session, user = live
    if web_session.mfa_pending:
        return None
    if now - web_session.last_seen_at >= TOUCH_INTERVAL:
        web_session.last_seen_at = now
        session.flush()
    return AuthContext(user, actor_for_user(session, user, source_ip), web_session, "session")


def pending_mfa_session(
    session: Session, settings: Settings, cookie: str, *, now: datetime | None = None
) -> models.WebSession | None:
    """The live session behind the cookie that still waits for its second factor."""
    live = _live_session(session, settings, cookie, now or utcnow())
    if live is None or not live[0].mfa_pending:
        return None
    return live[0]


def logout(session: Session, cookie: str, *, now: datetime | None = None, reason: str = "logout") -> None:
    web_session = _open_session(session, cookie)
    if web_session is not None:
        web_session.ended_at = now or utcnow()
        web_session.ended_reason = reason
        session.flush()


# --- second factor (TOTP) -----------------------------------------------------------------


def _accept_totp(user: models.User, code: str, now: datetime) -> bool:
    """True once per code: the code must match a time step later than the last accepted.

    One step either side forgives a phone clock that is 30 seconds off; remembering the
    step makes an overheard code useless for a second sign-in within its window.
    """
    code = code.strip().replace(" ", "")
    if not user.totp_secret or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if step > (user.totp_last_step or 0) and hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False


def verify_totp(
    session: Session,
    settings: Settings,
    *,
    cookie: str,
    code: str,
    now: datetime | None = None,
) -> AuthContext:
    """Complete a login waiting for its second factor.

    Wrong codes count against the e-mail like wrong passwords; at the limit the pending
    session ends and the address is locked.
    """
    now = now or utcnow()
    web_session = pending_mfa_session(session, settings, cookie, now=now)
    if web_session is None:
        raise NotAuthenticated("sign in first")
    user = session.get(models.User, web_session.user_id)
    assert user is not None
    _check_not_locked(session, settings, user.email, now)
    if not _accept_totp(user, code, now):
        error = _record_failure(session, settings, user.email, now)
        if isinstance(error, TooManyAttempts):
            web_session.ended_at = now
            web_session.ended_reason = "mfa_failed"
            session.flush()
            raise error
        raise LoginFailed("That code is not correct; try the current one")
    _clear_failures(session, user.email)
    web_session.mfa_pending = False
    web_session.last_seen_at = now
    session.flush()
    return AuthContext(user, actor_for_user(session, user, web_session.source_ip), web_session, "session")


def begin_totp_enrollment(session: Session, *, user: models.User) -> TotpEnrollment:
    """A new secret for the user's authenticator app; not in force until confirmed."""
    if user.totp_enabled:
        raise Conflict("two-factor sign-in is already set up")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        session.flush()
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)
    return TotpEnrollment(secret=user.totp_secret, uri=uri)


def confirm_totp_enrollment(session: Session, *, actor: Actor, user: models.User, code: str) -> models.User:
    """Turn TOTP on once the user proves their app shows the right codes."""
    if user.totp_enabled:
        raise Conflict("two-factor sign-in is already set up")
    if not _accept_totp(user, code, utcnow()):
        raise InvalidInput("code: that code is not correct; check the time on your phone and try again")
    user.totp_enabled = True
    session.flush()
    _audit_user(session, actor, sorted(actor.practice_ids), user, "update", after={"totp_enabled": True})
    return user


# --- API tokens --------------------------------------------------------------------------


def issue_token(
    session: Session,
    settings: Settings,
    *,
    email: str,
    password: str,
    source_ip: str,
    totp_code: str | None = None,
    now: datetime | None = None,
) -> str:
    """A bearer token (JWT, HS256) for the API, valid `api_token_hours`.

    Users with TOTP must give the current code as well. Like `login`, failures are
    written to the session and must be committed by the caller.
    """
    now = now or utcnow()
    user = _check_password(session, settings, email, password, now)
    if user.totp_enabled and not _accept_totp(user, totp_code or "", now):
        error = _record_failure(session, settings, user.email, now)
        if isinstance(error, TooManyAttempts):
            raise error
        raise LoginFailed("a valid one-time code (totp_code) is required for this account")
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "ver": user.token_version,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=settings.api_token_hours)).timestamp()),
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM)


def authenticate_bearer(session: Session, settings: Settings, token: str, *, source_ip: str) -> AuthContext:
    """The user behind a bearer token; NotAuthenticated when bad, expired or revoked."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "ver", "iat", "exp", "jti"]},
        )
        user_id = int(claims["sub"])
        version = int(claims["ver"])
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("the token has expired; request a new one") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise NotAuthenticated("the token is not valid") from None
    user = session.get(models.User, user_id)
    if user is None or not user.is_active or user.token_version != version:
        raise NotAuthenticated("the token has been revoked; request a new one")
    return AuthContext(user, actor_for_user(session, user, source_ip), None, "token")
