"""The code sets API: ICD-10-CM releases and NCCI procedure-to-procedure tables an admin loads;
the supervised billing compliance report.

``GET /api/code-sets`` lists the loaded releases. ``POST /api/code-sets/icd10cm`` and
``POST /api/code-sets/ncci`` take a multipart upload (``file``, ``name``, ``effective_on``,
``ends_on``; for NCCI ``ends_on`` is optional). A release is national, not per practice;
loading one needs ``manage_practice`` in the practice the admin acts for (``practice_id``
when they have several), where it is audited. A file that cannot be loaded answers 422
naming file, line and column, and nothing is written; a name already loaded answers 409.

``GET /api/reports/supervised-billing`` lists every claim billed under a supervisor with a
date of service in ``from`` .. ``to`` (default: the last 90 days), each rule's result and
the totals; ``format=csv`` answers the same as a CSV file.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.services import codesets, supervision
from revcycle.services.actor import Actor
from revcycle.services.claims_pipeline.scrubbing import practice_today
from revcycle.web.api.resources import ListOut, PracticeId, needs, one_practice
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["code sets"])

MAX_ICD10_BYTES = 50 * 1024 * 1024
MAX_CODE_LIST_BYTES = 5 * 1024 * 1024  # the CARC list is about 300 codes, the RARC list about 1,000
DEFAULT_REPORT_DAYS = 90


class ReleaseOut(BaseModel):
    id: int
    kind: str = Field(description="icd10cm | ncci_ptp")
    name: str
    effective_on: date
    ends_on: date | None
    rows: int = Field(description="codes (ICD-10-CM) or PTP pairs (NCCI) loaded")
    loaded_by: str | None
    loaded_at: datetime


class RuleOut(BaseModel):
    id: str
    title: str


class ReportRowOut(BaseModel):
    claim_id: int
    claim_number: str
    service_on: date
    status: str
    clinician: str
    supervisor: str
    payer: str
    billing_basis: str
    place_of_service: str
    billed_cents: int
    compliant: bool
    rules: dict[str, str] = Field(description="rule id -> 'pass' or why it failed")


class ReportTotalsOut(BaseModel):
    claims: int
    billed_cents: int
    noncompliant: int
    by_basis: dict[str, int]
    failures_by_rule: dict[str, int]


class ReportOut(BaseModel):
    practice_id: int
    from_on: date
    to_on: date
    rules: list[RuleOut]
    items: list[ReportRowOut]
    totals: ReportTotalsOut


def release_out(release: codesets.LoadedRelease) -> ReleaseOut:
    return ReleaseOut(
        id=release.id,
        kind=release.kind,
        name=release.name,
        effective_on=release.effective_on,
        ends_on=release.ends_on,
        rows=release.row_count,
        loaded_by=release.loaded_by,
        loaded_at=release.loaded_at,
    )


@router.get("/api/code-sets", response_model=ListOut[ReleaseOut], **needs(Permission.MANAGE_PRACTICE))
def api_list_code_sets(db: DB, actor: CurrentActor, practice_id: PracticeId = None) -> dict[str, Any]:
    """The ICD-10-CM releases and NCCI tables loaded (the shipped ICD-10-CM releases are not listed)."""
    practice = one_practice(actor, practice_id, Permission.MANAGE_PRACTICE)
    items = [release_out(r) for r in codesets.list_releases(db, actor=actor, practice_id=practice)]
    return {"items": items, "total": len(items)}


FileField = Annotated[UploadFile, File(description="the CMS file, or the CMS zip holding it")]
NameField = Annotated[str, Form(max_length=100, description="e.g. 'ICD-10-CM FY2027', '2026Q4 practitioner'")]
EffectiveField = Annotated[date, Form(description="first date of service the release is in force")]


@router.post("/api/code-sets/icd10cm", response_model=ReleaseOut, **needs(Permission.MANAGE_PRACTICE))
async def api_load_icd10(
    *,
    db: DB,
    actor: CurrentActor,
    file: FileField,
    name: NameField,
    effective_on: EffectiveField,
    ends_on: Annotated[date, Form(description="last date of service it is in force")],
    practice_id: PracticeId = None,
) -> ReleaseOut:
    """Load a CMS ICD-10-CM order file (icd10cm_order_YYYY.txt, or the zip holding it)."""
    practice = one_practice(actor, practice_id, Permission.MANAGE_PRACTICE)
    data = await file.read(MAX_ICD10_BYTES + 1)
    if len(data) > MAX_ICD10_BYTES:
        raise InvalidInput(f"{file.filename}: is larger than {MAX_ICD10_BYTES // (1024 * 1024)} MB")
    row = codesets.load_icd10_release(
        db,
        actor=actor,
        practice_id=practice,
        data=data,
        filename=file.filename or "icd10cm_order.txt",
        name=name,
        effective_on=effective_on,
        ends_on=ends_on,
    )
    return _loaded(db, actor, practice, row.id)


@router.post("/api/code-sets/ncci", response_model=ReleaseOut, **needs(Permission.MANAGE_PRACTICE))
def api_load_ncci(
    *,
    db: DB,
    actor: CurrentActor,
    file: FileField,
    name: NameField,
    effective_on: EffectiveField,
    ends_on: Annotated[date | None, Form(description="last date of service (open when absent)")] = None,
    practice_id: PracticeId = None,
) -> ReleaseOut:
    """Load a CMS NCCI practitioner PTP file (the text, or the CMS zip holding it), streamed."""
    practice = one_practice(actor, practice_id, Permission.MANAGE_PRACTICE)
    # The upload is spooled to disk by the server; copy it to a seekable file of our own (a zip
    # is read from its end) without holding millions of rows in memory.
    with tempfile.TemporaryFile() as spool:
        shutil.copyfileobj(file.file, spool)
        spool.seek(0)
        row = codesets.load_ncci_table(
            db,
            actor=actor,
            practice_id=practice,
            stream=spool,
            filename=file.filename or "ptp.txt",
            name=name,
            effective_on=effective_on,
            ends_on=ends_on,
        )
    return _loaded(db, actor, practice, row.id)


@router.post(
    "/api/code-sets/adjustment-codes", response_model=ReleaseOut, **needs(Permission.MANAGE_PRACTICE)
)
async def api_load_adjustment_codes(
    *,
    db: DB,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="the official list as CSV or tab-separated text")],
    code_list: Annotated[str, Form(description="carc or rarc")],
    name: Annotated[str, Form(max_length=100, description="e.g. 'CARC 2026-11'")],
    effective_on: Annotated[date, Form(description="the list's publication date")],
    practice_id: PracticeId = None,
) -> ReleaseOut:
    """Load an official CARC or RARC code list (X12's; a header row names code and description)."""
    practice = one_practice(actor, practice_id, Permission.MANAGE_PRACTICE)
    data = await file.read(MAX_CODE_LIST_BYTES + 1)
    if len(data) > MAX_CODE_LIST_BYTES:
        raise InvalidInput(f"{file.filename}: is larger than {MAX_CODE_LIST_BYTES // (1024 * 1024)} MB")
    row = codesets.load_adjustment_codes(
        db,
        actor=actor,
        practice_id=practice,
        data=data,
        filename=file.filename or f"{code_list}.csv",
        code_list=code_list,
        name=name,
        effective_on=effective_on,
    )
    return _loaded(db, actor, practice, row.id)


def _loaded(db: DB, actor: Actor, practice_id: int, release_id: int) -> ReleaseOut:
    [release] = [
        r for r in codesets.list_releases(db, actor=actor, practice_id=practice_id) if r.id == release_id
    ]
    return release_out(release)


@router.get(
    "/api/reports/supervised-billing",
    response_model=ReportOut,
    responses={200: {"content": {"text/csv": {}}}},
    **needs(Permission.RUN_REPORTS),
)
def api_supervised_billing_report(
    *,
    db: DB,
    actor: CurrentActor,
    practice_id: PracticeId = None,
    from_on: Annotated[date | None, Query(alias="from", description="first date of service")] = None,
    to_on: Annotated[
        date | None, Query(alias="to", description="last date of service (default today)")
    ] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",
) -> Any:
    """Claims billed under a supervisor (incident-to or supervisor billing), each rule checked."""
    practice = one_practice(actor, practice_id, Permission.RUN_REPORTS)
    to_on = to_on or practice_today(db, practice)
    from_on = from_on or to_on - timedelta(days=DEFAULT_REPORT_DAYS)
    report = supervision.supervised_billing_report(
        db, actor=actor, practice_id=practice, from_on=from_on, to_on=to_on
    )
    if format == "csv":
        filename = f"supervised-billing-{from_on}-{to_on}.csv"
        return Response(
            supervision.report_csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return report_out(report)


def report_out(report: supervision.SupervisedBillingReport) -> ReportOut:
    return ReportOut(
        practice_id=report.practice_id,
        from_on=report.from_on,
        to_on=report.to_on,
        rules=[RuleOut(id=rule, title=title) for rule, title in report.rule_titles.items()],
        items=[
            ReportRowOut(
                claim_id=row.claim_id,
                claim_number=row.claim_number,
                service_on=row.service_on,
                status=row.status,
                clinician=row.clinician,
                supervisor=row.supervisor,
                payer=row.payer,
                billing_basis=row.billing_basis,
                place_of_service=row.place_of_service,
                billed_cents=row.billed_cents,
                compliant=row.compliant,
                rules=row.rules,
            )
            for row in report.rows
        ],
        totals=ReportTotalsOut(
            claims=len(report.rows),
            billed_cents=report.billed_cents,
            noncompliant=report.noncompliant,
            by_basis=report.by_basis,
            failures_by_rule=report.failures_by_rule,
        ),
    )
