"""Client pages: coverages with their history, authorizations and card images; charge entry."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
