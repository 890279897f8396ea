"""Walking the routes the app registered, and signing in to the API, for the API tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.integration.world import PASSWORD


def _walk(routes: Sequence[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # FastAPI keeps included routers nested
        if included is not None:
            yield from _walk(included.routes)


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every JSON route the app serves (/api/... and /healthz), however it was included."""
    return [
        route for route in _walk(app.routes) if route.path.startswith("/api/") or route.path == "/healthz"
    ]


def bearer(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
