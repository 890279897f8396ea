"""Signing in and staying signed in: sessions, throttling, second factor, tokens, CSRF, headers."""

from __future__ import annotations

import logging
from datetime import timedelta

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.config import Settings
from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.permissions import Role
from revcycle.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from revcycle.services import auth
from revcycle.services.actor import system_actor
from revcycle.services.passwords import hash_password
from revcycle.web.deps import SESSION_COOKIE, CurrentActor
from revcycle.web.security import LOGIN_CSRF_COOKIE
from tests.factories import actor_for, make_practice, make_user
from tests.integration.conftest import BASE_URL, PASSWORD, csrf_from, login, session_csrf

INVALID = "Invalid e-mail or password"
LOCKED = "Too many attempts; try again in 15 minutes"


def with_password(db: Session, user: m.User, password: str = PASSWORD) -> m.User:
    user.password_hash = hash_password(password)
    db.flush()
    return user


@pytest.fixture
def practice(db: Session) -> m.Practice:
    return make_practice(db)


@pytest.fixture
def biller(db: Session, practice: m.Practice) -> m.User:
    return with_password(db, make_user(db, practice, Role.BILLING))


@pytest.fixture
def admin(db: Session, practice: m.Practice) -> m.User:
    return with_password(db, make_user(db, practice, Role.ADMIN))


def web_sessions(db: Session, user: m.User) -> list[m.WebSession]:
    db.expire_all()
    return list(
        db.scalars(select(m.WebSession).where(m.WebSession.user_id == user.id).order_by(m.WebSession.id))
    )


def api_token(client: TestClient, email: str, password: str = PASSWORD) -> str:
    answer = client.post("/api/auth/token", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_sent_to_login(response, path: str = "/account/password") -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + path.replace("/", "%2F")


# --- login and logout --------------------------------------------------------------------


def test_login_sets_a_safe_cookie_and_logout_ends_the_session(
    client: TestClient, db: Session, biller: m.User
) -> None:
    answer = login(client, biller.email, next_url="/claims?status=denied")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/claims?status=denied"
    cookie = answer.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie
    assert "; secure" in cookie.lower()  # HTTPS only outside development
    assert client.get("/account/password").status_code == 200
    assert client.get("/api/me").json()["user"]["email"] == biller.email

    token = session_csrf(client)
    assert client.post("/logout", data={"csrf_token": token}).headers["location"] == "/login"
    assert_sent_to_login(client.get("/account/password"))
    [ended] = web_sessions(db, biller)
    assert ended.ended_reason == "logout"


def test_signing_in_again_replaces_the_old_session(client: TestClient, db: Session, biller: m.User) -> None:
    login(client, biller.email)
    first = client.cookies[SESSION_COOKIE]
    assert client.get("/login").status_code == 303  # already signed in: no form
    client.cookies.set(LOGIN_CSRF_COOKIE, "double-submitted")  # as a second tab's form would
    answer = client.post(
        "/login", data={"email": biller.email, "password": PASSWORD, "csrf_token": "double-submitted"}
    )
    assert answer.status_code == 303
    assert client.cookies[SESSION_COOKIE] != first
    assert [s.ended_reason for s in web_sessions(db, biller)] == ["replaced", None]


def test_the_cookie_stores_only_a_hash(client: TestClient, db: Session, biller: m.User) -> None:
    login(client, biller.email)
    raw = client.cookies[SESSION_COOKIE]
    [stored] = web_sessions(db, biller)
    assert stored.token_hash == auth.hash_token(raw)
    assert raw not in stored.token_hash


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_login_redirects_only_to_local_paths(client: TestClient, biller: m.User, target: str) -> None:
    assert login(client, biller.email, next_url=target).headers["location"] == "/"


def test_a_signed_in_user_visiting_login_goes_on(client: TestClient, biller: m.User) -> None:
    login(client, biller.email)
    answer = client.get("/login", params={"next": "/work"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/work"


def test_wrong_password_and_unknown_user_answer_the_same(client: TestClient, biller: m.User) -> None:
    wrong = login(client, biller.email, "not the right password")
    unknown = login(client, "nobody@example.test", "not the right password")
    assert wrong.status_code == unknown.status_code == 401
    assert INVALID in wrong.text
    assert wrong.text.replace(biller.email, "E") == unknown.text.replace("nobody@example.test", "E")
    assert SESSION_COOKIE not in client.cookies


def test_a_disabled_user_gets_the_same_answer(client: TestClient, db: Session, biller: m.User) -> None:
    biller.is_active = False
    db.flush()
    answer = login(client, biller.email)
    assert answer.status_code == 401
    assert INVALID in answer.text


def test_the_login_form_needs_its_csrf_cookie(client: TestClient, biller: m.User) -> None:
    answer = client.post("/login", data={"email": biller.email, "password": PASSWORD, "csrf_token": "forged"})
    assert answer.status_code == 403
    assert SESSION_COOKIE not in client.cookies


# --- throttling --------------------------------------------------------------------------


@pytest.mark.parametrize("known", [True, False])
def test_five_failures_lock_the_address_for_fifteen_minutes(
    client: TestClient, db: Session, app_settings: Settings, biller: m.User, known: bool
) -> None:
    email = biller.email if known else "ghost@example.test"
    answers = [login(client, email, f"wrong password {n}") for n in range(5)]
    assert [a.status_code for a in answers[:4]] == [401] * 4
    assert all(INVALID in a.text for a in answers[:4])
    assert LOCKED in answers[4].text
    # Locked: even the right password is refused, with the same words for everyone.
    assert LOCKED in login(client, email).text
    assert SESSION_COOKIE not in client.cookies

    db.expire_all()
    throttle = db.scalars(select(m.LoginThrottle).where(m.LoginThrottle.email == email)).one()
    assert throttle.locked_until is not None
    later = throttle.locked_until + timedelta(seconds=1)
    if known:
        result = auth.login(db, app_settings, email=email, password=PASSWORD, source_ip="", now=later)
        assert result.user.id == biller.id
    else:
        with pytest.raises(auth.LoginFailed, match=INVALID):
            auth.login(db, app_settings, email=email, password=PASSWORD, source_ip="", now=later)


def test_failures_spread_beyond_the_window_do_not_lock(
    db: Session, app_settings: Settings, biller: m.User
) -> None:
    start = utcnow()
    for n in range(8):
        with pytest.raises(auth.LoginFailed) as failure:
            auth.login(
                db,
                app_settings,
                email=biller.email,
                password="nope",
                source_ip="",
                now=start + timedelta(minutes=16 * n),
            )
        assert not isinstance(failure.value, auth.TooManyAttempts)


def test_a_success_resets_the_count(db: Session, app_settings: Settings, biller: m.User) -> None:
    now = utcnow()
    for _ in range(4):
        with pytest.raises(auth.LoginFailed):
            auth.login(db, app_settings, email=biller.email, password="nope", source_ip="", now=now)
    auth.login(db, app_settings, email=biller.email.upper(), password=PASSWORD, source_ip="", now=now)
    with pytest.raises(auth.LoginFailed) as failure:
        auth.login(db, app_settings, email=biller.email, password="nope", source_ip="", now=now)
    assert not isinstance(failure.value, auth.TooManyAttempts)


# --- session lifetime --------------------------------------------------------------------


def test_an_idle_session_ends(client: TestClient, db: Session, biller: m.User) -> None:
    login(client, biller.email)
    [live] = web_sessions(db, biller)
    live.last_seen_at = utcnow() - timedelta(minutes=16)
    db.flush()
    assert_sent_to_login(client.get("/account/password"))
    client.get("/login")  # the sign-in page records the end and drops the cookie
    assert web_sessions(db, biller)[0].ended_reason == "idle"
    assert SESSION_COOKIE not in client.cookies


def test_activity_keeps_a_session_alive(client: TestClient, db: Session, biller: m.User) -> None:
    login(client, biller.email)
    [live] = web_sessions(db, biller)
    live.last_seen_at = utcnow() - timedelta(minutes=14)
    db.flush()
    assert client.get("/account/password").status_code == 200
    assert utcnow() - web_sessions(db, biller)[0].last_seen_at < timedelta(minutes=1)


def test_a_session_ends_after_its_absolute_lifetime(client: TestClient, db: Session, biller: m.User) -> None:
    login(client, biller.email)
    [live] = web_sessions(db, biller)
    live.created_at = utcnow() - timedelta(hours=12, minutes=1)
    live.last_seen_at = utcnow()
    db.flush()
    assert_sent_to_login(client.get("/account/password"))
    client.get("/login")
    assert web_sessions(db, biller)[0].ended_reason == "expired"


def test_htmx_requests_are_told_to_navigate_to_login(client: TestClient) -> None:
    answer = client.get("/account/password", headers={"HX-Request": "true"})
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"] == "/login?next=%2Faccount%2Fpassword"


# --- password change and disabling revoke everything ---------------------------------------


def test_changing_the_password_ends_other_sessions_and_revokes_tokens(
    app: FastAPI, db: Session, biller: m.User
) -> None:
    here = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    elsewhere = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    login(here, biller.email)
    login(elsewhere, biller.email)
    token = api_token(here, biller.email)
    assert here.get("/api/me", headers=bearer(token)).status_code == 200

    new_password = "plum orchard at midnight"
    answer = here.post(
        "/account/password",
        data={
            "csrf_token": session_csrf(here),
            "current_password": PASSWORD,
            "new_password": new_password,
            "confirm_password": new_password,
        },
    )
    assert answer.status_code == 200
    assert "Your password has been changed" in answer.text

    assert here.get("/account/password").status_code == 200  # this browser got a fresh session
    assert_sent_to_login(elsewhere.get("/account/password"))
    revoked = here.get("/api/me", headers=bearer(token))
    assert revoked.status_code == 401
    assert revoked.json()["error"] == "not_authenticated"
    reasons = [s.ended_reason for s in web_sessions(db, biller)]
    assert reasons == ["password_changed", "password_changed", None]
    assert login(elsewhere, biller.email, new_password).status_code == 303


def test_a_password_change_needs_the_current_password_and_a_good_new_one(
    client: TestClient, biller: m.User
) -> None:
    login(client, biller.email)
    token = session_csrf(client)
    wrong = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "guess",
            "new_password": "plum orchard at midnight",
            "confirm_password": "plum orchard at midnight",
        },
    )
    assert wrong.status_code == 422
    assert "current password is not correct" in wrong.text
    weak = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "password1234",
            "confirm_password": "password1234",
        },
    )
    assert weak.status_code == 422
    assert "too common" in weak.text
    assert client.get("/account/password").status_code == 200  # nothing was revoked


def test_disabling_a_user_ends_sessions_and_revokes_tokens(
    client: TestClient, db: Session, admin: m.User, biller: m.User
) -> None:
    login(client, biller.email)
    token = api_token(client, biller.email)
    auth.disable_user(db, actor=actor_for(db, admin), user_id=biller.id, reason="left the practice")
    db.flush()
    assert_sent_to_login(client.get("/account/password"))
    assert client.get("/api/me", headers=bearer(token)).status_code == 401
    assert [s.ended_reason for s in web_sessions(db, biller)] == ["disabled"]
    assert login(client, biller.email).status_code == 401


def test_only_admins_of_the_users_practice_manage_users(
    db: Session, practice: m.Practice, admin: m.User, biller: m.User
) -> None:
    other_admin = make_user(db, make_practice(db), Role.ADMIN)
    with pytest.raises(NotFound):
        auth.disable_user(db, actor=actor_for(db, other_admin), user_id=biller.id)
    with pytest.raises(PermissionDenied):
        auth.disable_user(db, actor=actor_for(db, biller), user_id=admin.id)
    with pytest.raises(NotFound):
        auth.set_password(
            db, actor=actor_for(db, other_admin), user_id=biller.id, new_password="plum orchard at midnight"
        )


def test_create_user_checks_role_policy_and_duplicates(
    db: Session, practice: m.Practice, admin: m.User, biller: m.User
) -> None:
    made = auth.create_user(
        db,
        actor=actor_for(db, admin),
        email=" New.Person@Example.test ",
        full_name="New Person",
        password="plum orchard at midnight",
        practice_id=practice.id,
        role="therapist",
    )
    assert made.email == "new.person@example.test"
    assert made.password_hash.startswith("$argon2id$")
    assert auth.actor_for_user(db, made, "").roles_in(practice.id) == {Role.THERAPIST}
    with pytest.raises(Conflict):
        auth.create_user(
            db,
            actor=actor_for(db, admin),
            email="new.person@example.test",
            full_name="",
            password="plum orchard at midnight",
            practice_id=practice.id,
            role="billing",
        )
    with pytest.raises(InvalidInput) as weak:
        auth.create_user(
            db,
            actor=actor_for(db, admin),
            email="x@example.test",
            full_name="",
            password="short",
            practice_id=practice.id,
            role="billing",
        )
    assert {p.code for p in weak.value.problems} == {"password.too_short"}
    with pytest.raises(PermissionDenied):
        auth.create_user(
            db,
            actor=actor_for(db, biller),
            email="y@example.test",
            full_name="",
            password="plum orchard at midnight",
            practice_id=practice.id,
            role="billing",
        )
    with pytest.raises(PermissionDenied):
        auth.create_user(
            db,
            actor=actor_for(db, admin),
            email="z@example.test",
            full_name="",
            password="plum orchard at midnight",
        )
    loner = auth.create_user(
        db,
        actor=system_actor("cli"),
        email="z@example.test",
        full_name="",
        password="plum orchard at midnight",
    )
    assert auth.actor_for_user(db, loner, "").practice_ids == frozenset()


# --- CSRF --------------------------------------------------------------------------------


def test_a_cookie_authenticated_post_without_the_token_is_refused(
    client: TestClient, db: Session, biller: m.User
) -> None:
    login(client, biller.email)
    form = {
        "current_password": PASSWORD,
        "new_password": "plum orchard at midnight",
        "confirm_password": "plum orchard at midnight",
    }
    refused = client.post("/account/password", data=form)
    assert refused.status_code == 403
    assert "did not come from this site" in refused.text
    assert client.post("/account/password", data={**form, "csrf_token": "forged"}).status_code == 403
    assert client.post("/logout").status_code == 403
    assert web_sessions(db, biller)[0].ended_at is None  # neither went through

    by_header = client.post("/account/password", data=form, headers={"X-CSRF-Token": session_csrf(client)})
    assert by_header.status_code == 200


def test_every_route_is_protected_and_bearer_tokens_are_exempt(
    app: FastAPI, client: TestClient, biller: m.User
) -> None:
    @app.post("/api/echo")  # any route, added by anyone, gets the check
    def echo(actor: CurrentActor) -> dict[str, int | None]:
        return {"user_id": actor.user_id}

    token = api_token(client, biller.email)
    login(client, biller.email)
    refused = client.post("/api/echo", json={})
    assert refused.status_code == 403
    assert refused.json()["error"] == "csrf"
    assert client.post("/api/echo", headers={"X-CSRF-Token": session_csrf(client)}).status_code == 200
    client.cookies.clear()
    assert client.post("/api/echo", headers=bearer(token)).json() == {"user_id": biller.id}


# --- API tokens --------------------------------------------------------------------------


def test_a_token_names_the_user_roles_and_practices(
    client: TestClient, practice: m.Practice, biller: m.User
) -> None:
    answer = client.post("/api/auth/token", json={"email": biller.email, "password": PASSWORD})
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 24 * 3600
    me = client.get("/api/me", headers=bearer(body["access_token"])).json()
    assert me == {
        "user": {"id": biller.id, "email": biller.email, "full_name": biller.full_name},
        "roles": [{"practice_id": practice.id, "practice_name": practice.name, "role": "billing"}],
        "practices": [{"id": practice.id, "name": practice.name}],
    }


def test_token_requests_are_throttled_like_logins(client: TestClient, biller: m.User) -> None:
    answers = [
        client.post("/api/auth/token", json={"email": biller.email, "password": "nope"}) for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    assert answers[0].json() == {"error": "login_failed", "detail": INVALID}
    assert answers[4].json()["detail"] == LOCKED


def test_an_expired_token_is_refused(
    client: TestClient, db: Session, app_settings: Settings, biller: m.User
) -> None:
    token = auth.issue_token(
        db,
        app_settings,
        email=biller.email,
        password=PASSWORD,
        source_ip="",
        now=utcnow() - timedelta(hours=25),
    )
    with pytest.raises(NotAuthenticated, match="expired"):
        auth.authenticate_bearer(db, app_settings, token, source_ip="")
    answer = client.get("/api/me", headers=bearer(token))
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "not_authenticated",
        "detail": "the token has expired; request a new one",
    }
    assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
def test_a_malformed_token_is_refused(client: TestClient, token: str) -> None:
    answer = client.get("/api/me", headers=bearer(token))
    assert answer.status_code == 401
    assert answer.json()["error"] == "not_authenticated"


def test_a_token_signed_with_another_key_is_refused(
    db: Session, app_settings: Settings, biller: m.User
) -> None:
    other = app_settings.model_copy(update={"secret_key": "another-secret-key-entirely-0123456789"})
    token = auth.issue_token(db, other, email=biller.email, password=PASSWORD, source_ip="")
    with pytest.raises(NotAuthenticated, match="not valid"):
        auth.authenticate_bearer(db, app_settings, token, source_ip="")


def test_without_credentials_the_api_answers_401_json(client: TestClient) -> None:
    answer = client.get("/api/me")
    assert answer.status_code == 401
    assert answer.json()["error"] == "not_authenticated"


# --- API errors --------------------------------------------------------------------------


def test_api_errors_are_json_naming_the_field(client: TestClient) -> None:
    invalid = client.post("/api/auth/token", json={"email": "a@example.test"})
    assert invalid.status_code == 422
    assert invalid.json() == {"error": "invalid", "detail": "password: Field required"}
    missing = client.get("/api/no-such-thing")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "not found"}
    wrong_method = client.get("/api/auth/token")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"


def test_an_unexpected_error_answers_500_without_details(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError(" ".join(["Jane", "Doe", "DOB", "1980-01-01"]))  # a value, as PHI would be

    @app.get("/boom")
    def boom_page() -> None:
        raise RuntimeError(" ".join(["Jane", "Doe", "DOB", "1980-01-01"]))  # a value, as PHI would be

    client = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    with caplog.at_level(logging.ERROR, logger="revcycle.web"):
        api = client.get("/api/boom")
        page = client.get("/boom")
    assert api.status_code == 500
    assert api.json()["error"] == "internal"
    assert page.status_code == 500
    assert "text/html" in page.headers["content-type"]
    for answer in (api, page):
        assert "Jane Doe" not in answer.text
        assert "Traceback" not in answer.text
        assert answer.headers["cache-control"] == "no-store"
        assert "content-security-policy" in answer.headers
    assert "RuntimeError" in caplog.text
    assert "Jane Doe" not in caplog.text


# --- second factor -----------------------------------------------------------------------


def test_totp_is_asked_after_the_password(client: TestClient, db: Session, biller: m.User) -> None:
    secret = pyotp.random_base32()
    biller.totp_secret = secret
    biller.totp_enabled = True
    db.flush()
    answer = login(client, biller.email, next_url="/work")
    assert answer.headers["location"] == "/login/totp?next=%2Fwork"
    assert_sent_to_login(client.get("/account/password"))  # the password alone opens nothing
    assert client.get("/api/me").status_code == 401

    form = client.get("/login/totp")
    assert form.status_code == 200
    token = csrf_from(form.text)
    wrong = client.post("/login/totp", data={"code": "000000", "csrf_token": token, "next": "/work"})
    assert wrong.status_code == 401
    assert client.post("/login/totp", data={"code": pyotp.TOTP(secret).now()}).status_code == 403
    right = client.post(
        "/login/totp", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token, "next": "/work"}
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/work"
    assert client.get("/account/password").status_code == 200


def test_wrong_codes_lock_like_wrong_passwords(client: TestClient, db: Session, biller: m.User) -> None:
    biller.totp_secret = pyotp.random_base32()
    biller.totp_enabled = True
    db.flush()
    login(client, biller.email)
    token = csrf_from(client.get("/login/totp").text)
    answers = [client.post("/login/totp", data={"code": "000000", "csrf_token": token}) for _ in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    assert LOCKED in answers[4].text
    assert web_sessions(db, biller)[0].ended_reason == "mfa_failed"
    assert LOCKED in login(client, biller.email).text


def test_api_tokens_need_the_code_when_totp_is_on(client: TestClient, db: Session, biller: m.User) -> None:
    secret = pyotp.random_base32()
    biller.totp_secret = secret
    biller.totp_enabled = True
    db.flush()
    refused = client.post("/api/auth/token", json={"email": biller.email, "password": PASSWORD})
    assert refused.status_code == 401
    assert "totp_code" in refused.json()["detail"]
    code = pyotp.TOTP(secret).now()
    assert (
        client.post(
            "/api/auth/token", json={"email": biller.email, "password": PASSWORD, "totp_code": code}
        ).status_code
        == 200
    )


def test_a_totp_code_is_accepted_only_once(client: TestClient, db: Session, biller: m.User) -> None:
    secret = pyotp.random_base32()
    biller.totp_secret = secret
    biller.totp_enabled = True
    db.flush()
    body = {"email": biller.email, "password": PASSWORD, "totp_code": pyotp.TOTP(secret).now()}
    assert client.post("/api/auth/token", json=body).status_code == 200
    replayed = client.post("/api/auth/token", json=body)
    assert replayed.status_code == 401
    assert "totp_code" in replayed.json()["detail"]


def test_admins_must_enroll_when_the_practice_requires_it(
    client: TestClient, db: Session, practice: m.Practice, admin: m.User
) -> None:
    practice.require_admin_totp = True
    db.flush()
    answer = login(client, admin.email)
    assert answer.headers["location"] == "/account/totp"
    assert client.get("/api/me").json()["roles"] == []  # admin rights wait for enrollment

    page = client.get("/account/totp")
    assert "requires administrators" in page.text
    db.expire_all()
    secret = db.get(m.User, admin.id).totp_secret  # type: ignore[union-attr]
    assert secret
    assert secret in page.text
    assert f"otpauth://totp/Revcycle:{admin.email.replace('@', '%40')}" in page.text
    token = csrf_from(page.text)
    assert client.post("/account/totp", data={"code": "000000", "csrf_token": token}).status_code == 422
    done = client.post("/account/totp", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert done.status_code == 200
    assert "Two-factor sign-in is on" in done.text
    assert [r["role"] for r in client.get("/api/me").json()["roles"]] == ["admin"]

    client.post("/logout", data={"csrf_token": token})
    assert login(client, admin.email).headers["location"].startswith("/login/totp")


# --- headers -----------------------------------------------------------------------------


def test_pages_and_api_answers_carry_security_headers(client: TestClient, biller: m.User) -> None:
    login(client, biller.email)
    for answer in (client.get("/account/password"), client.get("/api/me"), client.get("/login")):
        assert answer.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self';")
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["cache-control"] == "no-store"


def test_static_assets_may_be_cached(client: TestClient) -> None:
    asset = client.get("/static/vendor/htmx.min.js")
    assert asset.status_code == 200
    assert asset.headers.get("cache-control") != "no-store"
    assert asset.headers["x-content-type-options"] == "nosniff"


def test_sign_in_pages_have_no_inline_script(client: TestClient) -> None:
    page = client.get("/login").text
    assert "<script>" not in page
    assert " onclick=" not in page
