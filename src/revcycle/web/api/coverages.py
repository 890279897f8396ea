"""The coverages and charges API: client coverages with their history, authorizations and card
images; charges entered and edited by hand.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["coverages"])
