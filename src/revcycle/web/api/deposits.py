"""The deposits and bank reconciliation API.

* ``GET /api/deposits``: the practice's deposits (newest first, ``from_on``/``to_on`` to narrow),
  each with the ids of the payments it matches;
* ``POST /api/deposits``: one deposit entered by hand;
* ``POST /api/deposits/import``: a bank statement CSV (multipart ``file``): its credits become
  deposits, all or nothing (a bad row answers 422 naming the file, row and column); debits and
  lines already recorded are skipped and listed;
* ``POST /api/deposits/match``: match every deposit that has one certain answer; the answer
  lists what matched and what waits (ambiguous) with its candidates;
* ``POST /api/deposits/{deposit_id}/match``: match the deposit to exactly ``payment_ids`` (they
  must add up to it; an empty list unmatches it), audited;
* ``GET /api/reconciliation``: matched pairs, unmatched deposits and unmatched payments from
  ``from_on`` to ``to_on`` (by default the last 60 days), with totals that balance to the cent.

All of it needs ``post_payments`` (billing and administrators).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel, Field

from revcycle.adapters.bank_statement_csv import MAX_DESCRIPTION, MAX_REFERENCE, BankLine
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.services import deposits
from revcycle.web.api.resources import ListOut, PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["deposits"])

POST = Permission.POST_PAYMENTS
MAX_CSV_BYTES = 10 * 1024 * 1024


class DepositOut(BaseModel):
    id: int
    deposited_on: date
    amount_cents: int
    reference: str
    description: str
    payment_ids: list[int] = Field(description="the payments it matches (none: unmatched)")


class DepositIn(BaseModel):
    deposited_on: date
    amount_cents: int = Field(gt=0)
    reference: str = Field("", max_length=MAX_REFERENCE)
    description: str = Field("", max_length=MAX_DESCRIPTION)


class LineOut(BaseModel):
    row: int
    posted_on: date
    description: str
    amount_cents: int


class ImportOut(BaseModel):
    filename: str
    created: list[DepositOut]
    debits_skipped: list[LineOut]
    duplicates_skipped: list[LineOut]


class OptionOut(BaseModel):
    rule: str
    payment_ids: list[int]
    amount_cents: int


class MatchedOut(BaseModel):
    deposit_id: int
    rule: str
    payment_ids: list[int]


class AmbiguousOut(BaseModel):
    deposit_id: int
    reason: str
    candidates: list[OptionOut]


class MatchOut(BaseModel):
    matched: list[MatchedOut]
    ambiguous: list[AmbiguousOut]


class MatchIn(BaseModel):
    payment_ids: list[int] = Field(max_length=1000, description="exactly these; [] unmatches")
    reason: str = Field("", max_length=200)


class PaymentOut(BaseModel):
    id: int
    kind: str
    method: str
    amount_cents: int
    received_on: date
    reference: str
    payer_name: str


class PairOut(BaseModel):
    deposit: DepositOut
    payments: list[PaymentOut]


class TotalsOut(BaseModel):
    deposits_cents: int
    matched_deposits_cents: int
    unmatched_deposits_cents: int
    payments_cents: int
    matched_payments_cents: int
    unmatched_payments_cents: int


class ReconciliationOut(BaseModel):
    from_on: date
    to_on: date
    totals: TotalsOut
    matched: list[PairOut]
    unmatched_deposits: list[DepositOut]
    unmatched_payments: list[PaymentOut]
    ambiguous: list[AmbiguousOut]


def _deposit_out(view: deposits.DepositView, payment_ids: list[int]) -> DepositOut:
    return DepositOut(
        id=view.id,
        deposited_on=view.deposited_on,
        amount_cents=view.amount_cents,
        reference=view.reference,
        description=view.description,
        payment_ids=payment_ids,
    )


def _line_out(line: BankLine) -> LineOut:
    return LineOut(
        row=line.row, posted_on=line.posted_on, description=line.description, amount_cents=line.amount_cents
    )


def _payment_out(view: deposits.PaymentView) -> PaymentOut:
    return PaymentOut(
        id=view.id,
        kind=view.kind,
        method=view.method,
        amount_cents=view.amount_cents,
        received_on=view.received_on,
        reference=view.reference,
        payer_name=view.payer_name,
    )


def _ambiguous_out(item: deposits.Ambiguity) -> AmbiguousOut:
    return AmbiguousOut(
        deposit_id=item.deposit_id,
        reason=item.reason,
        candidates=[
            OptionOut(rule=o.rule, payment_ids=list(o.payment_ids), amount_cents=o.amount_cents)
            for o in item.options
        ],
    )


FromOn = Annotated[date | None, Query(description="first day (default: all)")]
ToOn = Annotated[date | None, Query(description="last day (default: all)")]


@router.get("/api/deposits", response_model=ListOut[DepositOut], **needs(POST))
def api_list_deposits(
    db: DB, actor: CurrentActor, practice_id: PracticeId = None, from_on: FromOn = None, to_on: ToOn = None
) -> dict[str, Any]:
    practice = one_practice(actor, practice_id, POST)
    found = deposits.list_deposits(db, actor=actor, practice_id=practice, from_on=from_on, to_on=to_on)
    items = [_deposit_out(view, ids) for view, ids in found]
    return {"items": items, "total": len(items)}


@router.post("/api/deposits", response_model=DepositOut, **needs(POST))
def api_create_deposit(
    db: DB, actor: CurrentActor, body: DepositIn, practice_id: PracticeId = None
) -> DepositOut:
    practice = one_practice(actor, practice_id, POST)
    row = deposits.create_deposit(
        db,
        actor=actor,
        practice_id=practice,
        deposited_on=body.deposited_on,
        amount_cents=body.amount_cents,
        reference=body.reference,
        description=body.description,
    )
    return _deposit_out(deposits.deposit_view(row), [])


@router.post("/api/deposits/import", response_model=ImportOut, **needs(POST))
async def api_import_statement(
    db: DB,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="the bank statement CSV: date, description, amount")],
    practice_id: PracticeId = None,
) -> ImportOut:
    practice = one_practice(actor, practice_id, POST)
    data = await file.read(MAX_CSV_BYTES + 1)
    name = file.filename or "statement.csv"
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput(f"{name}: is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")
    result = deposits.import_statement(db, actor=actor, practice_id=practice, data=data, filename=name)
    return ImportOut(
        filename=result.filename,
        created=[_deposit_out(view, []) for view in result.created],
        debits_skipped=[_line_out(line) for line in result.debits],
        duplicates_skipped=[_line_out(line) for line in result.duplicates],
    )


@router.post("/api/deposits/match", response_model=MatchOut, **needs(POST))
def api_match_deposits(db: DB, actor: CurrentActor, practice_id: PracticeId = None) -> MatchOut:
    practice = one_practice(actor, practice_id, POST)
    report = deposits.match_deposits(db, actor=actor, practice_id=practice)
    return MatchOut(
        matched=[
            MatchedOut(deposit_id=deposit_id, rule=option.rule, payment_ids=list(option.payment_ids))
            for deposit_id, option in report.matched
        ],
        ambiguous=[_ambiguous_out(item) for item in report.ambiguous],
    )


@router.post("/api/deposits/{deposit_id}/match", response_model=DepositOut, **needs(POST))
def api_match_one(db: DB, actor: CurrentActor, deposit_id: int, body: MatchIn) -> DepositOut:
    ids = deposits.set_deposit_payments(
        db, actor=actor, deposit_id=deposit_id, payment_ids=body.payment_ids, reason=body.reason
    )
    return _deposit_out(deposits.get_deposit(db, actor=actor, deposit_id=deposit_id), ids)


@router.get("/api/reconciliation", response_model=ReconciliationOut, **needs(POST))
def api_reconciliation(
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    from_on: Annotated[date | None, Query(description="first day (default: 60 days before to_on)")] = None,
    to_on: Annotated[date | None, Query(description="last day (default: the practice's today)")] = None,
) -> ReconciliationOut:
    practice = one_practice(actor, practice_id, POST)
    view = deposits.reconciliation(db, actor=actor, practice_id=practice, from_on=from_on, to_on=to_on)
    return ReconciliationOut(
        from_on=view.from_on,
        to_on=view.to_on,
        totals=TotalsOut(
            deposits_cents=view.deposits_cents,
            matched_deposits_cents=view.matched_deposits_cents,
            unmatched_deposits_cents=view.unmatched_deposits_cents,
            payments_cents=view.payments_cents,
            matched_payments_cents=view.matched_payments_cents,
            unmatched_payments_cents=view.unmatched_payments_cents,
        ),
        matched=[
            PairOut(
                deposit=_deposit_out(pair.deposit, [p.id for p in pair.payments]),
                payments=[_payment_out(p) for p in pair.payments],
            )
            for pair in view.matched
        ],
        unmatched_deposits=[_deposit_out(d, []) for d in view.unmatched_deposits],
        unmatched_payments=[_payment_out(p) for p in view.unmatched_payments],
        ambiguous=[_ambiguous_out(a) for a in view.ambiguous.values()],
    )
