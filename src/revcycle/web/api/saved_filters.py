"""Saved filters: each user's named filters on the lists."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["saved filters"])
