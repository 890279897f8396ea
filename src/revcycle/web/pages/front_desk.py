"""The front desk takes a client's payment (``post_patient_payments``: front desk, billing,
administrators).

``/front-desk/clients/{client_id}/payment`` shows what the client owes — the balance, their
credit and each open visit, oldest first — and takes a payment (cash, check with its number,
card with its last four digits). After posting it says where the money went and links the
PDF receipt; recent payments are listed with their receipts, and one entered wrongly is
voided with a reason (the exact reversal). Each form carries a one-time key, so a double
click records one payment. A refused form is shown again with the reason, naming the field,
and nothing is written.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput
from revcycle.money import MoneyError, format_plain, parse_cents
from revcycle.services import patient_payments
from revcycle.services.patient_payments import ClientPaymentResult
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

ACTIVE = "front_desk"
_FORM_FIELDS = ("amount", "method", "reference", "received_on", "note")


def _page(
    ctx: PageContext,
    client_id: int,
    *,
    paid: ClientPaymentResult | None = None,
    message: str = "",
    error: str = "",
    form: dict[str, str] | None = None,
) -> Response:
    ctx.actor.require(ctx.practice.id, Permission.POST_PATIENT_PAYMENTS)
    account = patient_payments.client_account(ctx.db, actor=ctx.actor, client_id=client_id)
    ctx.audit_clients("client_balance", {account.client.id})
    suggested = format_plain(account.balance_due_cents) if account.balance_due_cents > 0 else ""
    values = {"amount": suggested, "method": "card", "received_on": ctx.today.isoformat(), **(form or {})}
    return ctx.render(
        "front_desk/client_payment.html",
        ACTIVE,
        status_code=422 if error else 200,
        account=account,
        client=account.client,
        paid=paid,
        message=message,
        error=error,
        form=values,
        methods=patient_payments.METHODS,
        describe_method=patient_payments.describe_method,
        form_key=secrets.token_urlsafe(16),
        today=ctx.today,
    )


def _act(ctx: PageContext, client_id: int, form: dict[str, str], action: Callable[[], Any]) -> Any:
    """Run one write in a savepoint; on refusal nothing it wrote stays and the page says why."""
    try:
        with ctx.db.begin_nested():
            return action()
    except (InvalidInput, Conflict) as exc:
        return _page(ctx, client_id, error=exc.detail, form=form)


@router.get("/front-desk/clients/{client_id}/payment")
def client_payment_page(
    ctx: Ctx, client_id: int, paid: int | None = None, voided: int | None = None
) -> Response:
    result = None
    message = ""
    if paid is not None:
        result = patient_payments.payment_result(ctx.db, actor=ctx.actor, payment_id=paid)
        if result.payment.client_id != client_id:
            result = None
    if voided is not None:
        message = f"Payment no. {voided} voided: its amount is back on the client's balance."
    return _page(ctx, client_id, paid=result, message=message)


@router.post("/front-desk/clients/{client_id}/payment")
def take_payment(
    *,
    ctx: Ctx,
    client_id: int,
    amount: Annotated[str, Form()] = "",
    method: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
    received_on: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form()] = "",
) -> Response:
    form = dict(zip(_FORM_FIELDS, (amount, method, reference, received_on, note), strict=True))
    ctx.actor.require(ctx.practice.id, Permission.POST_PATIENT_PAYMENTS)

    def act() -> ClientPaymentResult:
        try:
            cents = parse_cents(amount.strip(), field="amount")
        except MoneyError as exc:
            raise InvalidInput(f"amount: {amount!r} {exc.reason}") from None
        return patient_payments.record_client_payment(
            ctx.db,
            actor=ctx.actor,
            client_id=client_id,
            amount_cents=cents,
            method=method,
            received_on=_day(received_on),
            reference=reference,
            note=note,
            idempotency_key=idempotency_key.strip()[:100] or None,
        )

    outcome = _act(ctx, client_id, form, act)
    if isinstance(outcome, Response):
        return outcome
    query = urlencode({"paid": outcome.payment.id})
    return RedirectResponse(f"/front-desk/clients/{client_id}/payment?{query}", status_code=303)


@router.post("/front-desk/payments/{payment_id}/void")
def void_payment(ctx: Ctx, payment_id: int, reason: Annotated[str, Form()] = "") -> Response:
    ctx.actor.require(ctx.practice.id, Permission.POST_PATIENT_PAYMENTS)
    payment = patient_payments.load_patient_payment(ctx.db, actor=ctx.actor, payment_id=payment_id)
    client_id = payment.client_id or 0

    def act() -> m.LedgerTransaction:
        return patient_payments.void_client_payment(
            ctx.db, actor=ctx.actor, payment_id=payment_id, reason=reason
        )

    outcome = _act(ctx, client_id, {}, act)
    if isinstance(outcome, Response):
        return outcome
    return RedirectResponse(f"/front-desk/clients/{client_id}/payment?voided={payment_id}", status_code=303)


def _day(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"received_on: {text!r} is not a date (YYYY-MM-DD)") from None
