"""The alerts API: the practice's alert rules, timely-filing deadlines and the missing-claims check."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["alerts"])
