"""The code sets API: ICD-10-CM releases and NCCI procedure-to-procedure tables an admin loads; the
supervised billing compliance report.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["code sets"])
