"""The insurance page: payers with their billing route, default portal and limits; the portals the
practice bills through.

Everyone who may see payers sees both tables; an admin also gets the forms: add a portal,
change a portal, change a payer's route, default portal and limits. A refused form comes back
with its message and the values typed (422), never a 500; a saved one redirects to the page
with a note of what changed. Portals never hold a password, only a vault reference.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response

from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput
from revcycle.services import payer_settings, portals, queries
from revcycle.services.scoping import MAX_LIMIT
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

ROUTE_LABELS = {
    "portal": "Portal",
    "clearinghouse": "Clearinghouse",
    "simplepractice": "SimplePractice",
    "paper": "Paper (CMS-1500)",
}
SUPERVISED_LABELS = {
    "not_allowed": "Not allowed",
    "incident_to": "Incident-to",
    "supervisor": "Under the supervisor",
}
_SAVED = {
    "portal_added": "Portal added.",
    "portal_saved": "Portal saved.",
    "payer_saved": "Payer settings saved.",
}

Text = Annotated[str, Form(max_length=4000)]


def _is_admin(ctx: PageContext) -> bool:
    return ctx.actor.scope(ctx.practice.id, Permission.MANAGE_PRACTICE) > 0


def _page(
    ctx: PageContext,
    *,
    saved: str = "",
    error: str = "",
    form: str = "",
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    payers = queries.list_payers(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, limit=MAX_LIMIT)
    rows = portals.list_portals(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id)
    return ctx.render(
        "pages/insurance.html",
        "insurance",
        status_code=status_code,
        payers=payers,
        portals=rows,
        is_admin=_is_admin(ctx),
        route_labels=ROUTE_LABELS,
        supervised_labels=SUPERVISED_LABELS,
        saved=_SAVED.get(saved, ""),
        error=error,
        form=form,
        values=values or {},
    )


def _done(what: str, anchor: str) -> Response:
    return RedirectResponse(f"/insurance?{urlencode({'saved': what})}#{anchor}", status_code=303)


@router.get("/insurance")
def insurance_page(ctx: Ctx, saved: str = "") -> Response:
    return _page(ctx, saved=saved)


def _portal_form(
    *,
    name: Annotated[str, Form(max_length=200)] = "",
    url: Annotated[str, Form(max_length=500)] = "",
    billing_route: Annotated[str, Form(max_length=30)] = "portal",
    login_instructions: Text = "",
    vault_reference: Annotated[str, Form(max_length=200)] = "",
) -> dict[str, str]:
    """A portal's form, as the portal services take its values."""
    return {
        "name": name,
        "url": url,
        "billing_route": billing_route,
        "login_instructions": login_instructions,
        "vault_reference": vault_reference,
    }


PortalForm = Annotated[dict[str, str], Depends(_portal_form)]


@router.post("/insurance/portals")
def add_portal(ctx: Ctx, values: PortalForm) -> Response:
    """Add a portal (admin)."""
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    try:
        with ctx.db.begin_nested():
            portals.create_portal(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, values=values)
    except (InvalidInput, Conflict) as exc:
        return _page(ctx, error=exc.detail, form="new-portal", values=values, status_code=exc.status_code)
    return _done("portal_added", "portals")


@router.post("/insurance/portals/{portal_id}")
def change_portal(ctx: Ctx, portal_id: int, values: PortalForm) -> Response:
    """Change a portal of the current practice (admin)."""
    portals.get_portal(ctx.db, actor=ctx.actor, portal_id=portal_id)  # another practice's: 404
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    try:
        with ctx.db.begin_nested():
            portals.update_portal(ctx.db, actor=ctx.actor, portal_id=portal_id, changes=values)
    except (InvalidInput, Conflict) as exc:
        form = f"portal-{portal_id}"
        return _page(ctx, error=exc.detail, form=form, values=values, status_code=exc.status_code)
    return _done("portal_saved", f"portal-{portal_id}")


def _days(field: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput(f"{field}: a whole number of days") from None


@router.post("/insurance/payers/{payer_id}")
def change_payer(
    *,
    ctx: Ctx,
    payer_id: int,
    billing_route: Annotated[str, Form(max_length=30)],
    portal_id: Annotated[str, Form(max_length=20)] = "",
    timely_filing_days: Annotated[str, Form(max_length=10)] = "",
    appeal_days: Annotated[str, Form(max_length=10)] = "",
    requires_prior_auth: Annotated[str, Form(max_length=10)] = "",
    supervised_billing: Annotated[str, Form(max_length=20)] = "not_allowed",
) -> Response:
    """Change the practice's billing settings for one payer (admin)."""
    payer_settings.get_payer_settings(ctx.db, actor=ctx.actor, payer_id=payer_id, practice_id=ctx.practice.id)
    ctx.actor.require(ctx.practice.id, Permission.MANAGE_PRACTICE)
    values: dict[str, Any] = {
        "billing_route": billing_route,
        "portal_id": portal_id,
        "timely_filing_days": timely_filing_days,
        "appeal_days": appeal_days,
        "requires_prior_auth": bool(requires_prior_auth),
        "supervised_billing": supervised_billing,
    }
    try:
        changes = {
            **values,
            "portal_id": int(portal_id) if portal_id.strip() else None,
            "timely_filing_days": _days("timely_filing_days", timely_filing_days),
            "appeal_days": _days("appeal_days", appeal_days),
        }
        with ctx.db.begin_nested():
            payer_settings.update_payer_settings(
                ctx.db, actor=ctx.actor, payer_id=payer_id, changes=changes, practice_id=ctx.practice.id
            )
    except ValueError:
        return _page(
            ctx, error="portal_id: choose a portal from the list", form=f"payer-{payer_id}", status_code=422
        )
    except InvalidInput as exc:
        return _page(ctx, error=exc.detail, form=f"payer-{payer_id}", values=values, status_code=422)
    return _done("payer_saved", f"payer-{payer_id}")
