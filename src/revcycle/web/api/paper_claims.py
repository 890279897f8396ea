"""Paper claims: the CMS-1500 (02/12) PDF of a claim, and a day's paper claims printed and recorded.

``GET /api/claims/{claim_id}/cms1500.pdf`` prints one claim (anyone who may view it; audited
as a read of the client's record). ``POST /api/claims/paper-batch`` prints ready claims into
one PDF — those named, or every ready claim whose payer's billing route is paper — keeps the
file, and records each claim submitted by paper on the date; it answers the PDF, with the
batch and the stored file named in ``X-Submission-Batch-Id`` and ``X-Stored-File-Id``. A
claim that is not ready (or no ready paper claim at all) answers 409 and nothing is written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from revcycle.domain.permissions import Permission
from revcycle.services import paper_claims
from revcycle.web.api.resources import PracticeId, needs
from revcycle.web.deps import DB, CurrentActor

router = APIRouter(tags=["paper claims"])

PDF = "application/pdf"
_PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}, "description": "the PDF"}
}


class PaperBatchIn(BaseModel):
    claim_ids: list[int] = Field(
        default_factory=list,
        max_length=500,
        description="ready claims to print; none: every ready claim whose payer bills on paper",
    )
    submitted_on: date | None = Field(default=None, description="the mailing date (default: today)")
    reference: str = Field(
        default="", max_length=80, description="a note for the portal log, e.g. a tracking no."
    )


def _pdf(content: bytes, filename: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=content,
        media_type=PDF,
        headers={"Content-Disposition": f'inline; filename="{filename}"', **(headers or {})},
    )


@router.get(
    "/api/claims/{claim_id}/cms1500.pdf",
    response_class=Response,
    responses=_PDF_RESPONSE,
    **needs(Permission.VIEW_CLAIMS),
)
def api_claim_cms1500(db: DB, actor: CurrentActor, claim_id: int) -> Response:
    """The claim on the CMS-1500 (02/12) form; more than six lines continue on more pages."""
    printed = paper_claims.claim_pdf(db, actor=actor, claim_id=claim_id)
    return _pdf(printed.content, printed.filename, {"X-Page-Count": str(printed.pages)})


@router.post(
    "/api/claims/paper-batch",
    response_class=Response,
    responses=_PDF_RESPONSE,
    **needs(Permission.SUBMIT_CLAIMS),
)
def api_paper_batch(
    db: DB, actor: CurrentActor, body: PaperBatchIn, practice_id: PracticeId = None
) -> Response:
    """Print ready claims into one PDF and record them submitted by paper on the date."""
    printed = paper_claims.print_paper_batch(
        db,
        actor=actor,
        practice_id=practice_id,
        claim_ids=body.claim_ids,
        submitted_on=body.submitted_on,
        reference=body.reference,
    )
    return _pdf(
        printed.content,
        printed.stored_file.filename,
        {
            "X-Submission-Batch-Id": str(printed.batch.id),
            "X-Stored-File-Id": str(printed.stored_file.id),
            "X-Claim-Count": str(len(printed.claims)),
            "X-Page-Count": str(printed.pages),
        },
    )
