"""Paper claims: a claim printed on the CMS-1500 (02/12) form, and a day's paper mail recorded.

For payers whose billing route is paper, the biller prints the ready claims, mails them, and
records them as submitted by paper on that day. Printing is:

* :func:`claim_form` / :func:`claim_pdf` — one claim's form (a read of the client's record,
  audited as one); anyone who may view the claim may print it.
* :func:`print_paper_batch` — ready claims (the ones named, or every ready claim whose payer
  bills on paper) printed into one PDF, the PDF kept as a :class:`StoredFile` (``pdf``,
  ``out``) on a :class:`SubmissionBatch` of channel ``paper``, and each claim recorded as
  submitted by paper on the date through :func:`submissions.record_submissions` (claim ->
  submitted, its portal log). All or nothing: a claim that is not ready refuses the batch.

The boxes come from the scrubber's view of the claim (:func:`claim_facts`) plus what only the
paper form prints: the payer's kind (box 1), telephones, the clinician's credentials, the
client's other coverage (boxes 9 and 11d), the resubmission (22) and the service location (32).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from revcycle.adapters.cms1500_pdf import render_cms1500_pdf
from revcycle.db import models as m
from revcycle.domain import scrubber as s
from revcycle.domain.claim_status import ClaimStatus
from revcycle.domain.cms1500 import (
    Cms1500Form,
    OtherInsurance,
    PaperClaimFacts,
    ServiceFacility,
    cms1500_form,
)
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit, queries, submissions
from revcycle.services.actor import Actor
from revcycle.services.claims import load_claim
from revcycle.services.claims_pipeline.scrubbing import claim_facts, practice_today
from revcycle.services.scoping import get_visible, practice_scopes
from revcycle.services.stored_files import store_file

__all__ = ["PaperBatch", "PaperClaimPdf", "claim_form", "claim_pdf", "paper_claim_facts", "print_paper_batch"]

PAPER = "paper"
_PRIORITY_ORDER = {"primary": 0, "secondary": 1, "tertiary": 2}


@dataclass(frozen=True)
class PaperClaimPdf:
    """One claim's form as a PDF."""

    filename: str
    content: bytes
    pages: int


@dataclass(frozen=True)
class PaperBatch:
    """A day's paper claims: the PDF mailed, where it is kept, and the submissions recorded."""

    batch: m.SubmissionBatch
    stored_file: m.StoredFile
    claims: list[m.Claim]
    submissions: list[m.Submission]
    content: bytes
    pages: int


def claim_form(
    session: Session, *, actor: Actor, claim_id: int, signed_on: date | None = None
) -> Cms1500Form:
    """The claim's CMS-1500 boxes (no audit: see :func:`claim_pdf`)."""
    claim = get_visible(session, m.Claim, claim_id, actor, Permission.VIEW_CLAIMS)
    return _form(session, claim, signed_on)


def claim_pdf(session: Session, *, actor: Actor, claim_id: int) -> PaperClaimPdf:
    """The claim printed on the form, dated today; audited as a read of the client's record."""
    claim = get_visible(session, m.Claim, claim_id, actor, Permission.VIEW_CLAIMS)
    form = _form(session, claim, None)
    content = render_cms1500_pdf([form])
    queries.record_client_reads(
        session,
        actor=actor,
        entity="claim",
        clients=[(claim.practice_id, claim.client_id)],
        reason=f"CMS-1500 of claim {claim.number}",
    )
    return PaperClaimPdf(f"cms1500-{claim.number}.pdf", content, len(form.pages()))


def print_paper_batch(
    session: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    claim_ids: Sequence[int] = (),
    submitted_on: date | None = None,
    reference: str = "",
) -> PaperBatch:
    """Print ready claims into one PDF, keep it, and record each claim submitted by paper.

    Without ``claim_ids``: every ready claim of the practice whose payer's route is paper.
    """
    claims = _batch_claims(session, actor, practice_id, list(dict.fromkeys(claim_ids)))
    not_ready = [claim for claim in claims if claim.status != str(ClaimStatus.READY)]
    if not_ready:
        raise Conflict(
            "nothing was printed: "
            + "; ".join(f"claim {claim.number} is {claim.status}, not ready" for claim in not_ready)
        )
    practice = claims[0].practice_id
    signed_on = submitted_on or practice_today(session, practice)
    if signed_on > practice_today(session, practice):
        raise InvalidInput(f"submitted_on: {signed_on} is in the future")
    forms = [_form(session, claim, signed_on) for claim in claims]
    content = render_cms1500_pdf(forms)
    with session.begin_nested():  # the file, the batch and the submissions, or none of them
        stored = store_file(
            session,
            actor=actor,
            practice_id=practice,
            kind="pdf",
            direction="out",
            filename=f"cms1500-{signed_on.isoformat()}-{len(claims)}-claims.pdf",
            content=content,
        )
        written = submissions.record_submissions(
            session,
            actor=actor,
            claim_ids=[claim.id for claim in claims],
            submitted_on=submitted_on,
            reference=reference,
            channel=PAPER,
        )
        batch = m.SubmissionBatch(
            practice_id=practice, channel=PAPER, stored_file_id=stored.id, created_by_user_id=actor.user_id
        )
        session.add(batch)
        session.flush()
        for row in written:
            row.batch_id = batch.id
        session.flush()
        audit.record(
            session,
            actor=actor,
            practice_id=practice,
            action="create",
            entity="submission_batch",
            entity_id=batch.id,
            client_ids=sorted({claim.client_id for claim in claims}),
            after={
                "channel": PAPER,
                "claims": [claim.id for claim in claims],
                "stored_file_id": stored.id,
                "sha256": stored.sha256,
            },
            reason=f"{len(claims)} paper claim(s) printed for {signed_on}",
        )
    pages = sum(len(form.pages()) for form in forms)
    return PaperBatch(batch, stored, claims, written, content, pages)


# --- which claims ------------------------------------------------------------------------------


def _batch_claims(
    session: Session, actor: Actor, practice_id: int | None, claim_ids: list[int]
) -> list[m.Claim]:
    if claim_ids:
        claims = [load_claim(session, actor=actor, claim_id=claim_id) for claim_id in claim_ids]
        if practice_id is not None and any(claim.practice_id != practice_id for claim in claims):
            raise NotFound("claim not found in that practice")
        for claim in claims:
            actor.require(claim.practice_id, Permission.SUBMIT_CLAIMS)
        if len({claim.practice_id for claim in claims}) != 1:
            raise InvalidInput("claim_ids: a paper batch holds the claims of one practice")
        return claims
    scopes = practice_scopes(actor, Permission.SUBMIT_CLAIMS, practice_id)
    if len(scopes) != 1:
        raise InvalidInput("practice_id: you work for several practices; say which one to print for")
    [practice] = scopes
    claims = list(
        session.scalars(
            select(m.Claim)
            .join(
                m.PracticePayer,
                (m.PracticePayer.practice_id == m.Claim.practice_id)
                & (m.PracticePayer.payer_id == m.Claim.payer_id),
            )
            .join(m.Payer, m.Payer.id == m.Claim.payer_id)
            .where(
                m.Claim.practice_id == practice,
                m.Claim.status == str(ClaimStatus.READY),
                m.PracticePayer.billing_route == PAPER,
            )
            .order_by(m.Payer.name, m.Claim.number)
        )
    )
    if not claims:
        raise Conflict("no ready claim is billed on paper: nothing to print")
    return claims


# --- the facts ---------------------------------------------------------------------------------


def paper_claim_facts(session: Session, claim: m.Claim, *, signed_on: date) -> PaperClaimFacts:
    """Everything the form prints about a stored claim."""
    facts = claim_facts(session, claim, today=signed_on)
    client = session.get_one(m.Client, claim.client_id)
    practice = session.get_one(m.Practice, claim.practice_id)
    payer = session.get_one(m.Payer, claim.payer_id)
    provider = session.get(m.Provider, claim.provider_id) if claim.provider_id else None
    return PaperClaimFacts(
        claim=facts,
        payer_kind=payer.kind,
        patient_phone=client.phone,
        billing_phone=practice.phone,
        rendering_credentials=provider.credentials if provider else "",
        other_insurance=_other_insurance(session, claim, facts.patient),
        frequency=claim.frequency or "1",
        original_reference=claim.payer_claim_control_number,
        prior_authorization=claim.prior_authorization_number,
        service_facility=_service_facility(session, claim),
        signed_on=signed_on,
    )


def _form(session: Session, claim: m.Claim, signed_on: date | None) -> Cms1500Form:
    on = signed_on or practice_today(session, claim.practice_id)
    return cms1500_form(paper_claim_facts(session, claim, signed_on=on))


def _other_insurance(session: Session, claim: m.Claim, patient: s.Person) -> OtherInsurance | None:
    """The client's other coverage in force on the date of service (the next by priority)."""
    served = claim.service_from_on
    rows = session.execute(
        select(m.Coverage, m.Payer.name)
        .join(m.Payer, m.Payer.id == m.Coverage.payer_id)
        .where(
            m.Coverage.client_id == claim.client_id,
            m.Coverage.practice_id == claim.practice_id,
            m.Coverage.id != (claim.coverage_id or 0),
            or_(m.Coverage.effective_on.is_(None), m.Coverage.effective_on <= served),
            or_(m.Coverage.ends_on.is_(None), m.Coverage.ends_on >= served),
        )
    ).all()
    if not rows:
        return None
    coverage, plan_name = min(rows, key=lambda row: (_PRIORITY_ORDER.get(row[0].priority, 9), row[0].id))
    insured = patient
    if coverage.relationship_to_subscriber.strip().lower() not in {"self", "18"}:
        insured = s.Person(
            coverage.subscriber_last_name,
            coverage.subscriber_first_name,
            coverage.subscriber_date_of_birth,
            coverage.subscriber_sex,
        )
    return OtherInsurance(insured=insured, policy_number=coverage.member_id, plan_name=plan_name)


def _service_facility(session: Session, claim: m.Claim) -> ServiceFacility | None:
    """The service location of the claim's session, when it has one with an address."""
    location = session.scalars(
        select(m.ServiceLocation)
        .join(m.ServiceSession, m.ServiceSession.location_id == m.ServiceLocation.id)
        .join(m.Charge, m.Charge.session_id == m.ServiceSession.id)
        .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
        .where(m.ClaimLine.claim_id == claim.id)
        .order_by(m.ClaimLine.line_number)
        .limit(1)
    ).first()
    if location is None or not (location.address_line1 or location.city):
        return None
    address = s.Address(location.address_line1, location.city, location.state, location.postal_code)
    return ServiceFacility(location.name, address, location.npi)
