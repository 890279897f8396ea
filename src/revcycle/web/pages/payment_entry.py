"""The payment entry page and payment batches (``post_payments``: billing, administrators).

``/payments/new`` takes a payment received outside an 835 — date, amount, payer, check number,
method, and the batch it is keyed into — in steps on one page, every step a POST of the same
form so nothing typed is lost:

1. *Find open claims*: the payer's open claims, oldest first, with billed, insurance balance
   and expected amount (and where it comes from);
2. *Propose sets* (a lump-sum check): the sets of claims adding up exactly to the amount; *Use
   this set* selects one;
3. *Allocate*: per chosen claim, per line: paid, contractual, deductible, coinsurance, copay,
   denied — prefilled from the expected amounts;
4. *Post payment*: all or nothing; if the allocations pay less than the payment, the page
   asks to confirm the rest as unapplied. The posted payment's page
   (``/payments/insurance/{id}``) shows what went where and reverses it with a reason.

``/payment-batches`` opens a batch with its control count and amount; a batch's page shows
entered against control and the difference, and closes only when both match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput
from revcycle.money import MoneyError, format_plain, parse_cents
from revcycle.services import payment_batches, payment_entry
from revcycle.services.payment_entry import ClaimAllocation, LineAllocation, LumpSumAnswer, OpenClaim
from revcycle.web.pages.main import Ctx, PageContext

router = APIRouter(include_in_schema=False)

ACTIVE = "payment_entry"
HEADER_FIELDS = ("received_on", "amount", "payer_id", "method", "reference", "batch_id", "note")
LINE_FIELDS = ("paid", "contractual", "deductible", "coinsurance", "copay", "denied")
METHOD_LABELS = {"check": "Check", "eft": "EFT", "card": "Card"}


@dataclass(frozen=True)
class LineForm:
    """One claim line's allocation as the form shows it (amounts as typed, e.g. ``90.00``)."""

    line_number: int
    values: dict[str, str]
    denial_code: str


def _require(ctx: PageContext) -> None:
    ctx.actor.require(ctx.practice.id, Permission.POST_PAYMENTS)


def _payers(ctx: PageContext) -> list[m.Payer]:
    return list(
        ctx.db.scalars(
            select(m.Payer)
            .join(m.PracticePayer, m.PracticePayer.payer_id == m.Payer.id)
            .where(m.PracticePayer.practice_id == ctx.practice.id)
            .order_by(m.Payer.name)
        )
    )


def _open_batches(ctx: PageContext) -> list[m.PaymentBatch]:
    return list(
        ctx.db.scalars(
            select(m.PaymentBatch)
            .where(m.PaymentBatch.practice_id == ctx.practice.id, m.PaymentBatch.status == "open")
            .order_by(m.PaymentBatch.id.desc())
        )
    )


# --- the entry form ------------------------------------------------------------------------


@router.get("/payments/new")
def new_payment_page(ctx: Ctx, batch_id: str = "", payer_id: str = "") -> Response:
    _require(ctx)
    header = {
        "received_on": ctx.today.isoformat(),
        "method": "check",
        "batch_id": batch_id,
        "payer_id": payer_id,
    }
    return _entry(ctx, header)


@router.post("/payments/new")
async def new_payment_step(ctx: Ctx) -> Response:
    _require(ctx)
    form = await ctx.request.form()
    header = {name: str(form.get(name, "")).strip() for name in HEADER_FIELDS}
    action = "allocate" if form.get("use") else str(form.get("action", "claims"))
    chosen = _chosen(form)
    if action == "post":
        return _post(ctx, form, header, chosen)
    try:
        if action == "propose":
            return _entry(ctx, header, chosen, proposals=_proposals(ctx, header))
        if action == "allocate":
            if not chosen:
                raise InvalidInput("claims: choose at least one claim to allocate the payment to")
            return _entry(ctx, header, chosen, allocating=True, lines=_line_forms(form, chosen))
    except InvalidInput as exc:
        return _entry(ctx, header, chosen, error=exc.detail)
    return _entry(ctx, header, chosen)


def _chosen(form: FormData) -> list[int]:
    """The claims ticked, or the set a proposal's "Use this set" names (comma-separated)."""
    use = str(form.get("use", "")).strip()
    raw = use.split(",") if use else [str(v) for v in form.getlist("claim")]
    chosen: list[int] = []
    for value in raw:
        if value.strip().isdigit() and int(value) not in chosen:
            chosen.append(int(value))
    return chosen


def _post(ctx: PageContext, form: FormData, header: dict[str, str], chosen: list[int]) -> Response:
    lines = _line_forms(form, chosen)
    confirm = form.get("confirm_unapplied") == "1"
    try:
        with ctx.db.begin_nested():
            result = payment_entry.record_insurance_payment(
                ctx.db,
                actor=ctx.actor,
                practice_id=ctx.practice.id,
                payer_id=_int(header["payer_id"], "payer_id"),
                amount_cents=_cents(header["amount"], "amount"),
                received_on=_day(header["received_on"]),
                method=header["method"],
                reference=header["reference"],
                allocations=[_allocation(claim_id, lines[claim_id]) for claim_id in chosen],
                batch_id=_int(header["batch_id"], "batch_id") if header["batch_id"] else None,
                confirm_unapplied=confirm,
                note=header["note"],
            )
    except (InvalidInput, Conflict) as exc:
        unapplied = "confirm_unapplied" in exc.detail
        return _entry(
            ctx,
            header,
            chosen,
            allocating=bool(chosen),
            lines=lines,
            error=exc.detail,
            ask_unapplied=unapplied,
        )
    return RedirectResponse(f"/payments/insurance/{result.payment.id}?posted=1", status_code=303)


def _line_forms(form: FormData, chosen: list[int]) -> dict[int, list[LineForm] | None]:
    """Claim id -> its lines as typed (None: not shown yet, prefill from the expected amounts)."""
    found: dict[int, list[LineForm] | None] = {}
    for claim_id in chosen:
        numbers = sorted(
            {
                int(key.split("-")[2])
                for key in form
                if key.startswith(f"l-{claim_id}-") and key.split("-")[2].isdigit()
            }
        )
        if not numbers:
            found[claim_id] = None
            continue
        found[claim_id] = [
            LineForm(
                number,
                {name: str(form.get(f"l-{claim_id}-{number}-{name}", "")).strip() for name in LINE_FIELDS},
                str(form.get(f"l-{claim_id}-{number}-code", "")).strip() or payment_entry.DEFAULT_DENIAL,
            )
            for number in numbers
        ]
    return found


def _allocation(claim_id: int, lines: list[LineForm] | None) -> ClaimAllocation:
    if lines is None:
        return ClaimAllocation(claim_id)
    return ClaimAllocation(
        claim_id,
        tuple(
            LineAllocation(
                line.line_number,
                paid_cents=_line_cents(claim_id, line, "paid"),
                contractual_cents=_line_cents(claim_id, line, "contractual"),
                deductible_cents=_line_cents(claim_id, line, "deductible"),
                coinsurance_cents=_line_cents(claim_id, line, "coinsurance"),
                copay_cents=_line_cents(claim_id, line, "copay"),
                denied_cents=_line_cents(claim_id, line, "denied"),
                denial_code=line.denial_code,
            )
            for line in lines
        ),
    )


def _line_cents(claim_id: int, line: LineForm, name: str) -> int:
    text = line.values.get(name, "")
    return _cents(text, f"claim {claim_id} line {line.line_number} {name}") if text else 0


def _proposals(ctx: PageContext, header: dict[str, str]) -> LumpSumAnswer:
    answer = payment_entry.lump_sum_proposals(
        ctx.db,
        actor=ctx.actor,
        practice_id=ctx.practice.id,
        payer_id=_int(header["payer_id"], "payer_id"),
        amount_cents=_cents(header["amount"], "amount"),
    )
    ctx.audit_clients("claim", {claim.client_id for proposal in answer.proposals for claim in proposal})
    return answer


def _entry(
    ctx: PageContext,
    header: dict[str, str],
    chosen: list[int] | None = None,
    *,
    proposals: LumpSumAnswer | None = None,
    allocating: bool = False,
    lines: dict[int, list[LineForm] | None] | None = None,
    error: str = "",
    ask_unapplied: bool = False,
) -> Response:
    chosen = chosen or []
    claims: list[OpenClaim] = []
    payer_id = header.get("payer_id", "")
    if payer_id.isdigit():
        try:
            claims = payment_entry.open_claims(
                ctx.db, actor=ctx.actor, practice_id=ctx.practice.id, payer_id=int(payer_id)
            )
        except InvalidInput as exc:
            error = error or exc.detail
    ctx.audit_clients("claim", {claim.client_id for claim in claims})
    by_id = {claim.claim_id: claim for claim in claims}
    selected = [by_id[claim_id] for claim_id in chosen if claim_id in by_id]
    forms = {claim.claim_id: _form_lines(claim, (lines or {}).get(claim.claim_id)) for claim in selected}
    return ctx.render(
        "payment_entry/new.html",
        ACTIVE,
        status_code=422 if error else 200,
        header=header,
        payers=_payers(ctx),
        batches=_open_batches(ctx),
        methods=payment_entry.METHODS,
        method_labels=METHOD_LABELS,
        claims=claims,
        chosen=set(chosen),
        proposals=proposals,
        allocating=allocating and bool(selected),
        selected=selected,
        forms=forms,
        line_fields=LINE_FIELDS,
        error=error,
        ask_unapplied=ask_unapplied,
        today=ctx.today,
    )


def _form_lines(claim: OpenClaim, typed: list[LineForm] | None) -> list[LineForm]:
    """The lines as typed, else prefilled from the claim's expected amounts."""
    if typed is not None:
        return typed
    prefill = payment_entry.prefilled(claim).lines or ()
    return [
        LineForm(
            line.line_number,
            {
                "paid": _plain(line.paid_cents),
                "contractual": _plain(line.contractual_cents),
                "deductible": _plain(line.deductible_cents),
                "coinsurance": _plain(line.coinsurance_cents),
                "copay": _plain(line.copay_cents),
                "denied": _plain(line.denied_cents),
            },
            line.denial_code,
        )
        for line in prefill
    ]


def _plain(cents: int) -> str:
    return format_plain(cents) if cents else ""


# --- a posted payment ----------------------------------------------------------------------


@router.get("/payments/insurance/{payment_id}")
def insurance_payment_page(ctx: Ctx, payment_id: int, posted: int = 0, reversed: int = 0) -> Response:
    _require(ctx)
    return _detail(ctx, payment_id, message=_message(posted, reversed))


def _message(posted: int, reversed_: int) -> str:
    if reversed_:
        return "Payment reversed: every posting of it is undone and its claims are back to accepted."
    return "Payment posted." if posted else ""


def _detail(ctx: PageContext, payment_id: int, *, message: str = "", error: str = "") -> Response:
    detail = payment_entry.payment_detail(ctx.db, actor=ctx.actor, payment_id=payment_id)
    ctx.audit_clients("payment", _client_ids(ctx, detail))
    return ctx.render(
        "payment_entry/detail.html",
        ACTIVE,
        status_code=422 if error else 200,
        detail=detail,
        method_labels=METHOD_LABELS,
        message=message,
        error=error,
    )


def _client_ids(ctx: PageContext, detail: payment_entry.PaymentDetail) -> set[int]:
    ids = [c.claim_id for c in detail.claims]
    if not ids:
        return set()
    return set(ctx.db.scalars(select(m.Claim.client_id).where(m.Claim.id.in_(ids))))


@router.post("/payments/insurance/{payment_id}/reverse")
def reverse_insurance_payment(ctx: Ctx, payment_id: int, reason: Annotated[str, Form()] = "") -> Response:
    _require(ctx)
    try:
        with ctx.db.begin_nested():
            payment_entry.reverse_payment(ctx.db, actor=ctx.actor, payment_id=payment_id, reason=reason)
    except (InvalidInput, Conflict) as exc:
        return _detail(ctx, payment_id, error=exc.detail)
    return RedirectResponse(f"/payments/insurance/{payment_id}?reversed=1", status_code=303)


# --- batches -------------------------------------------------------------------------------


@router.get("/payment-batches")
def batches_page(ctx: Ctx) -> Response:
    _require(ctx)
    return _batches(ctx)


def _batches(ctx: PageContext, *, error: str = "", form: dict[str, str] | None = None) -> Response:
    views = payment_batches.list_batches(ctx.db, actor=ctx.actor, practice_id=ctx.practice.id)
    return ctx.render(
        "payment_entry/batches.html",
        ACTIVE,
        status_code=422 if error else 200,
        views=views,
        error=error,
        form=form or {"name": f"Mail {ctx.today.isoformat()}"},
    )


@router.post("/payment-batches")
def create_batch(
    *,
    ctx: Ctx,
    name: Annotated[str, Form()] = "",
    control_count: Annotated[str, Form()] = "",
    control_amount: Annotated[str, Form()] = "",
) -> Response:
    _require(ctx)
    form = {"name": name, "control_count": control_count, "control_amount": control_amount}
    try:
        with ctx.db.begin_nested():
            batch = payment_batches.create_batch(
                ctx.db,
                actor=ctx.actor,
                practice_id=ctx.practice.id,
                name=name,
                control_count=_int(control_count, "control_count"),
                control_amount_cents=_cents(control_amount, "control_amount"),
            )
    except InvalidInput as exc:
        return _batches(ctx, error=exc.detail, form=form)
    return RedirectResponse(f"/payment-batches/{batch.id}", status_code=303)


@router.get("/payment-batches/{batch_id}")
def batch_page(ctx: Ctx, batch_id: int, closed: int = 0) -> Response:
    _require(ctx)
    return _batch(ctx, batch_id, message="Batch closed: it balances to its control totals." if closed else "")


def _batch(ctx: PageContext, batch_id: int, *, message: str = "", error: str = "") -> Response:
    view = payment_batches.batch_view(ctx.db, actor=ctx.actor, batch_id=batch_id)
    return ctx.render(
        "payment_entry/batch.html",
        ACTIVE,
        status_code=422 if error else 200,
        view=view,
        message=message,
        error=error,
    )


@router.post("/payment-batches/{batch_id}/close")
def close_batch(ctx: Ctx, batch_id: int) -> Response:
    _require(ctx)
    try:
        with ctx.db.begin_nested():
            payment_batches.close_batch(ctx.db, actor=ctx.actor, batch_id=batch_id)
    except (InvalidInput, Conflict) as exc:
        return _batch(ctx, batch_id, error=exc.detail)
    return RedirectResponse(f"/payment-batches/{batch_id}?closed=1", status_code=303)


# --- reading the form ----------------------------------------------------------------------


def _cents(text: str, field: str) -> int:
    try:
        return parse_cents(text.strip(), field=field)
    except MoneyError as exc:
        raise InvalidInput(f"{field}: {text!r} {exc.reason}") from None


def _int(text: str, field: str) -> int:
    text = (text or "").strip()
    if not text.isdigit():
        raise InvalidInput(f"{field}: {text!r} is not a whole number" if text else f"{field}: required")
    return int(text)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"received_on: {text!r} is not a date (YYYY-MM-DD)") from None
