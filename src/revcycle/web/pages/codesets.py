"""Admin pages for code sets (ICD-10-CM releases, NCCI tables) and the supervised billing
compliance report.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
