"""The alerts page: open alerts by severity and owner, timely-filing deadlines, missing claims."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
