"""API sign-in: a bearer token for e-mail and password, and who the token belongs to."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from revcycle.db import models
from revcycle.services import auth as auth_service
from revcycle.web.deps import DB, AppSettings, Auth, client_ip

router = APIRouter(prefix="/api", tags=["auth"])


class TokenRequest(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)
    totp_code: str | None = Field(default=None, max_length=10, description="required when TOTP is on")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 -- the OAuth scheme name, not a secret
    expires_in: int  # seconds


class ErrorBody(BaseModel):
    error: str
    detail: str


class UserOut(BaseModel):
    id: int
    email: str
    full_name: str


class RoleOut(BaseModel):
    practice_id: int
    practice_name: str
    role: str


class PracticeOut(BaseModel):
    id: int
    name: str


class MeResponse(BaseModel):
    user: UserOut
    roles: list[RoleOut]
    practices: list[PracticeOut]


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses={401: {"model": ErrorBody}, 429: {"model": ErrorBody}},
)
def issue_token(body: TokenRequest, request: Request, db: DB, settings: AppSettings) -> JSONResponse:
    """Exchange e-mail and password (and the TOTP code, when on) for a bearer token."""
    try:
        token = auth_service.issue_token(
            db,
            settings,
            email=body.email,
            password=body.password,
            totp_code=body.totp_code,
            source_ip=client_ip(request),
        )
    except auth_service.LoginFailed as exc:
        # Answered here, not raised, so that the request commits the failure count.
        return JSONResponse(
            {"error": exc.code, "detail": exc.detail},
            status_code=exc.status_code,
            headers={"WWW-Authenticate": "Bearer"},
        )
    out = TokenResponse(access_token=token, expires_in=settings.api_token_hours * 3600)
    return JSONResponse(out.model_dump())


@router.get("/me", response_model=MeResponse, responses={401: {"model": ErrorBody}})
def me(auth: Auth, db: DB) -> MeResponse:
    """The signed-in user, their role in each practice, and the practices they can see."""
    rows = db.execute(
        select(models.Membership.practice_id, models.Practice.name, models.Membership.role)
        .join(models.Practice, models.Practice.id == models.Membership.practice_id)
        .where(models.Membership.user_id == auth.user.id)
        .order_by(models.Practice.name, models.Membership.role)
    ).all()
    effective = auth.actor.roles_by_practice
    roles = [
        RoleOut(practice_id=pid, practice_name=name, role=role)
        for pid, name, role in rows
        if role in effective.get(pid, frozenset())
    ]
    practices = {pid: name for pid, name, _ in rows}
    return MeResponse(
        user=UserOut(id=auth.user.id, email=auth.user.email, full_name=auth.user.full_name),
        roles=roles,
        practices=[PracticeOut(id=pid, name=name) for pid, name in practices.items()],
    )
