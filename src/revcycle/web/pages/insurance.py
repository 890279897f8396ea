"""The insurance page: payers with their billing route, default portal and limits; the portals the
practice bills through.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
