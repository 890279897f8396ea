"""Paper claims: the CMS-1500 (02/12) PDF of a claim."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["paper claims"])
