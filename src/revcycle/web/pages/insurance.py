"""The insurance page: payers with their billing route, default portal and limits; the portals the
practice bills through.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from revcycle.services import queries
from revcycle.services.scoping import MAX_LIMIT
from revcycle.web.pages.main import Ctx

router = APIRouter(include_in_schema=False)


@router.get("/insurance")
def insurance_page(ctx: Ctx) -> Response:
    payers = queries.list_payers(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=MAX_LIMIT)
    portals = queries.list_portals(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id)
    return ctx.render("pages/insurance.html", "insurance", payers=payers, portals=portals)
