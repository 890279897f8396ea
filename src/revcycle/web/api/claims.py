"""The claims API: sessions marked ready, claims built, scrubbed, overridden, submitted, queued and
resubmitted; the portal log; practice payer billing settings and insurance portals.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["claims"])
