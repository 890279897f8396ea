"""The fee schedules and payer contracts API.

* ``GET /api/fee-schedules``, ``GET /api/payer-contracts``: the practice's versions (newest
  first per line), each with its dates, rate count and the version that replaced it;
* ``GET .../{id}``: one version with its rates; ``GET .../{id}/rates.csv``: the same as the
  rate table CSV (``procedure_code,modifiers,amount``);
* ``POST /api/fee-schedules``, ``POST /api/payer-contracts``: a new one with its rates;
* ``POST .../{id}/end``: end it on ``ends_on`` (a contract given a later date is extended);
* ``POST .../{id}/rates`` (JSON) and ``POST .../{id}/rates.csv`` (multipart ``file``): the rate
  table changed from ``effective_on``: a new version, the old one ended the day before
  (``mode=replace``: exactly these rates; ``add``: the old rates plus these). A file with any
  bad row answers 422 naming each row and column, and nothing is written.

All of it needs ``manage_fees`` (billing and administrators).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from revcycle.domain.permissions import Permission
from revcycle.domain.rate_tables import RateRow
from revcycle.errors import InvalidInput
from revcycle.services import fee_tables
from revcycle.services.actor import Actor
from revcycle.services.fee_tables import CONTRACT, SCHEDULE, Kind, TableView
from revcycle.web.api.resources import ListOut, PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["fees"])

MANAGE = Permission.MANAGE_FEES
MAX_CSV_BYTES = 5 * 1024 * 1024
Mode = Literal["replace", "add"]


class RateIn(BaseModel):
    procedure_code: str = Field(max_length=10, examples=["90837"])
    modifiers: str = Field("", max_length=20, description="colon-joined, e.g. 95:HO")
    amount_cents: int = Field(ge=0)


class RateOut(RateIn):
    pass


class TableOut(BaseModel):
    id: int
    kind: str = Field(description="schedule | contract")
    level: str = Field(description="standard | payer | client | contract")
    name: str = Field(description="a schedule's name, a contract's number")
    payer_id: int | None
    payer_name: str | None
    client_id: int | None
    starts_on: date
    ends_on: date | None
    rate_count: int
    replaced_by_id: int | None = Field(description="the next version of the same line, if any")


class TableDetailOut(TableOut):
    rates: list[RateOut]


class ScheduleIn(BaseModel):
    name: str = Field(max_length=200)
    payer_id: int | None = Field(None, description="a payer's schedule; none for the standard one")
    payer_edi_id: str = Field("", max_length=20, description="or the payer by its EDI payer id")
    client_id: int | None = Field(None, description="a client's (sliding-scale) schedule")
    effective_on: date
    ends_on: date | None = None
    rates: list[RateIn] = Field(default_factory=list, max_length=50_000)


class ContractIn(BaseModel):
    payer_id: int | None = None
    payer_edi_id: str = Field("", max_length=20, description="or the payer by its EDI payer id")
    number: str = Field(max_length=50)
    starts_on: date
    ends_on: date | None = None
    rates: list[RateIn] = Field(default_factory=list, max_length=50_000)


class EndIn(BaseModel):
    ends_on: date


class RatesIn(BaseModel):
    effective_on: date | None = Field(
        None, description="from when the changed table applies (not needed for a version without rates)"
    )
    mode: Mode = "replace"
    rates: list[RateIn] = Field(max_length=50_000)


def _out(view: TableView) -> TableOut:
    return TableOut(
        id=view.id,
        kind=view.kind,
        level=view.level,
        name=view.name,
        payer_id=view.payer_id,
        payer_name=view.payer_name,
        client_id=view.client_id,
        starts_on=view.starts_on,
        ends_on=view.ends_on,
        rate_count=view.rate_count,
        replaced_by_id=view.replaced_by_id,
    )


def _detail(db: DB, actor: Actor, kind: Kind, table_id: int) -> TableDetailOut:
    view = fee_tables.get_table(db, actor=actor, kind=kind, table_id=table_id)
    rates = [
        RateOut(procedure_code=r.procedure_code, modifiers=r.modifiers, amount_cents=r.amount_cents)
        for r in view.rates
    ]
    return TableDetailOut(**_out(view).model_dump(), rates=rates)


def _rows(rates: list[RateIn]) -> list[RateRow]:
    return [
        RateRow(r.procedure_code, r.modifiers, r.amount_cents, f"rates[{i}]") for i, r in enumerate(rates)
    ]


def _csv(filename: str, text: str) -> Response:
    return Response(
        text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


async def _upload(file: UploadFile) -> tuple[bytes, str]:
    data = await file.read(MAX_CSV_BYTES + 1)
    name = file.filename or "rates.csv"
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput(f"{name}: is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")
    return data, name


CsvFile = Annotated[UploadFile, File(description="procedure_code,modifiers,amount")]
EffectiveForm = Annotated[date | None, Form(description="from when the changed table applies")]
ModeForm = Annotated[Mode, Form(description="replace (default) or add")]


# --- fee schedules -----------------------------------------------------------------------------


@router.get("/api/fee-schedules", response_model=ListOut[TableOut], **needs(MANAGE))
def api_list_schedules(db: DB, actor: CurrentActor, practice_id: PracticeId = None) -> dict[str, Any]:
    practice = one_practice(actor, practice_id, MANAGE)
    items = [_out(v) for v in fee_tables.list_schedules(db, actor=actor, practice_id=practice)]
    return {"items": items, "total": len(items)}


@router.post("/api/fee-schedules", response_model=TableDetailOut, **needs(MANAGE))
def api_create_schedule(
    db: DB, actor: CurrentActor, body: ScheduleIn, practice_id: PracticeId = None
) -> TableDetailOut:
    practice = one_practice(actor, practice_id, MANAGE)
    row = fee_tables.create_schedule(
        db,
        actor=actor,
        practice_id=practice,
        name=body.name,
        payer_id=body.payer_id,
        payer_edi_id=body.payer_edi_id,
        client_id=body.client_id,
        effective_on=body.effective_on,
        ends_on=body.ends_on,
        rates=_rows(body.rates),
    )
    return _detail(db, actor, SCHEDULE, row.id)


# --- payer contracts ----------------------------------------------------------------------------


@router.get("/api/payer-contracts", response_model=ListOut[TableOut], **needs(MANAGE))
def api_list_contracts(db: DB, actor: CurrentActor, practice_id: PracticeId = None) -> dict[str, Any]:
    practice = one_practice(actor, practice_id, MANAGE)
    items = [_out(v) for v in fee_tables.list_contracts(db, actor=actor, practice_id=practice)]
    return {"items": items, "total": len(items)}


@router.post("/api/payer-contracts", response_model=TableDetailOut, **needs(MANAGE))
def api_create_contract(
    db: DB, actor: CurrentActor, body: ContractIn, practice_id: PracticeId = None
) -> TableDetailOut:
    practice = one_practice(actor, practice_id, MANAGE)
    row = fee_tables.create_contract(
        db,
        actor=actor,
        practice_id=practice,
        payer_id=body.payer_id,
        payer_edi_id=body.payer_edi_id,
        number=body.number,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        rates=_rows(body.rates),
    )
    return _detail(db, actor, CONTRACT, row.id)


# --- one version of either: detail, end or extend, revise rates, CSV out and in -----------------


def _table_routes(prefix: str, kind: Kind) -> None:
    """The same five routes for fee schedules and payer contracts, under ``prefix``."""

    @router.get(
        f"{prefix}/{{table_id}}", response_model=TableDetailOut, name=f"{kind}_detail", **needs(MANAGE)
    )
    def detail(db: DB, actor: CurrentActor, table_id: int) -> TableDetailOut:
        return _detail(db, actor, kind, table_id)

    @router.post(
        f"{prefix}/{{table_id}}/end", response_model=TableDetailOut, name=f"{kind}_end", **needs(MANAGE)
    )
    def end(db: DB, actor: CurrentActor, table_id: int, body: EndIn) -> TableDetailOut:
        fee_tables.end_table(db, actor=actor, kind=kind, table_id=table_id, ends_on=body.ends_on)
        return _detail(db, actor, kind, table_id)

    @router.post(
        f"{prefix}/{{table_id}}/rates", response_model=TableDetailOut, name=f"{kind}_revise", **needs(MANAGE)
    )
    def revise(db: DB, actor: CurrentActor, table_id: int, body: RatesIn) -> TableDetailOut:
        row = fee_tables.revise_rates(
            db,
            actor=actor,
            kind=kind,
            table_id=table_id,
            rates=_rows(body.rates),
            effective_on=body.effective_on,
            replace=body.mode == "replace",
        )
        return _detail(db, actor, kind, row.id)

    @router.get(
        f"{prefix}/{{table_id}}/rates.csv",
        responses={200: {"content": {"text/csv": {}}}},
        name=f"{kind}_export",
        **needs(MANAGE),
    )
    def export(db: DB, actor: CurrentActor, table_id: int) -> Response:
        return _csv(*fee_tables.export_rates_csv(db, actor=actor, kind=kind, table_id=table_id))

    @router.post(
        f"{prefix}/{{table_id}}/rates.csv",
        response_model=TableDetailOut,
        name=f"{kind}_import",
        **needs(MANAGE),
    )
    async def import_csv(
        *,
        db: DB,
        actor: CurrentActor,
        table_id: int,
        file: CsvFile,
        effective_on: EffectiveForm = None,
        mode: ModeForm = "replace",
    ) -> TableDetailOut:
        data, name = await _upload(file)
        row = fee_tables.import_rates_csv(
            db,
            actor=actor,
            kind=kind,
            table_id=table_id,
            data=data,
            filename=name,
            effective_on=effective_on,
            replace=mode == "replace",
        )
        return _detail(db, actor, kind, row.id)


_table_routes("/api/fee-schedules", SCHEDULE)
_table_routes("/api/payer-contracts", CONTRACT)
