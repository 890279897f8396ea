"""Two practices with a person in every role, for the page, API and access-matrix tests.

"Own" is the practice the personas belong to; "other" is a practice none of them can see.
Every kind of row the API serves exists in both, so an id from each can fill any route's
path. In the own practice the therapist persona treats the client persona, so records there
are "own" for both; a second therapist's session with another client is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache

from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.ledger_events import ChargeRef, InsuranceRef, charge_to_insurance, transfer_to_patient
from revcycle.domain.permissions import Role
from revcycle.services import ledger
from revcycle.services.actor import system_actor
from revcycle.services.passwords import hash_password
from tests import factories as f

PASSWORD = "correct horse battery staple"


@cache
def password_hash() -> str:
    """Argon2 is slow on purpose: hash the shared test password once per run."""
    return hash_password(PASSWORD)


@dataclass
class PracticeRows:
    practice: m.Practice
    session: m.ServiceSession
    client: m.Client
    provider: m.Provider
    payer: m.Payer
    claim: m.Claim
    payment: m.Payment
    work_item: m.WorkItem
    import_batch: m.ImportBatch | None = None
    flag: m.WorkItem | None = None  # an open import flag (resolved by "acknowledge")
    mapping: m.ColumnMapping | None = None  # a saved column mapping, named after the practice
    portal: m.InsurancePortal | None = None  # the claim went through it; its scrub found a warning
    alert: m.WorkItem | None = None  # an open alert of the rules (acknowledged, then resolved)
    coverage_card: m.CoverageCard | None = None  # a scan of the claim's coverage card (a PNG)
    saved_filter: m.SavedFilter | None = None  # the client persona's own (others may not delete it)

    @property
    def ids(self) -> dict[str, int]:
        """Path parameter name -> id of a row of this practice."""
        ids = {
            "session_id": self.session.id,
            "client_id": self.client.id,
            "provider_id": self.provider.id,
            "payer_id": self.payer.id,
            "claim_id": self.claim.id,
            "payment_id": self.payment.id,
            "work_item_id": self.work_item.id,
        }
        if self.import_batch is not None:
            ids["batch_id"] = self.import_batch.id
        return ids


@dataclass
class World:
    own: PracticeRows
    other: PracticeRows
    users: dict[Role, m.User] = field(default_factory=dict)
    # A second therapist of the own practice, with a session and client of their own.
    therapist2_session: m.ServiceSession | None = None


def make_login_user(db: Session, practice: m.Practice, role: Role, *, name: str) -> m.User:
    user = f.make_user(db, practice, role, email=f"{name}.{practice.id}@example.test")
    user.full_name = name.replace("-", " ").title()
    user.password_hash = password_hash()
    db.flush()
    return user


def _practice_rows(
    db: Session, practice: m.Practice, *, therapist: m.User | None, client_user: m.User | None
) -> PracticeRows:
    payer = f.make_payer(db)
    db.add(m.PracticePayer(practice_id=practice.id, payer_id=payer.id, billing_route="clearinghouse"))
    provider = f.make_provider(db, practice, user=therapist)
    client = f.make_client(db, practice, user=client_user)
    coverage = f.make_coverage(db, client, payer)
    service = f.make_session(
        db, practice, client, provider, starts_at=datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    )
    claim = f.make_claim(db, service, coverage, status="submitted")
    db.add(
        m.ClaimEvent(
            practice_id=practice.id,
            claim_id=claim.id,
            from_status="ready",
            to_status="submitted",
            source="user",
        )
    )
    payment = m.Payment(
        practice_id=practice.id,
        kind="patient",
        method="card",
        amount_cents=2000,
        received_on=date(2026, 3, 5),
        client_id=client.id,
    )
    work_item = m.WorkItem(
        practice_id=practice.id,
        kind="followup",
        severity="warning",
        title="Follow up with payer",
        session_id=service.id,
        claim_id=claim.id,
        client_id=client.id,
    )
    db.add_all([payment, work_item])
    db.flush()
    _post_charge(db, practice, service, claim, coverage)
    batch, flag = _import_rows(db, practice, service)
    mapping = m.ColumnMapping(
        practice_id=practice.id,
        name=f"Weekly export {practice.id}",
        target_format="attendance",
        columns={
            "date_of_service": "When",
            "client_name": "Who",
            "clinician_name": "With",
            "appointment_status": "Came",
        },
    )
    db.add(mapping)
    db.flush()
    portal = _sent_via_portal(db, practice, claim)
    rows = PracticeRows(
        practice, service, client, provider, payer, claim, payment, work_item, batch, flag, mapping, portal
    )
    rows.alert = _open_alert(db, practice, service)
    rows.coverage_card = _coverage_card(db, practice, claim)
    rows.saved_filter = _saved_filter(db, practice, client_user)
    return rows


def _saved_filter(db: Session, practice: m.Practice, owner: m.User | None) -> m.SavedFilter:
    """A saved filter of the last role the matrix walks, so the others meet it before it goes."""
    owner = owner or f.make_user(db, practice, Role.CLIENT)
    row = m.SavedFilter(practice_id=practice.id, user_id=owner.id, page="sessions", name="Mine", query={})
    db.add(row)
    db.flush()
    return row


def _coverage_card(db: Session, practice: m.Practice, claim: m.Claim) -> m.CoverageCard:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    stored = m.StoredFile(
        practice_id=practice.id,
        kind="png",
        direction="in",
        filename="card.png",
        sha256="1" * 64,
        size_bytes=len(png),
        content=png,
    )
    db.add(stored)
    db.flush()
    assert claim.coverage_id is not None
    card = m.CoverageCard(
        practice_id=practice.id, coverage_id=claim.coverage_id, side="front", stored_file_id=stored.id
    )
    db.add(card)
    db.flush()
    return card


def _open_alert(db: Session, practice: m.Practice, service: m.ServiceSession) -> m.WorkItem:
    alert = m.WorkItem(
        practice_id=practice.id,
        kind="alert",
        severity="warning",
        title="Note not locked",
        rule="completed_no_note",
        owner_role="director",
        dedupe_key=f"world:alert:{service.id}",
        session_id=service.id,
        client_id=service.client_id,
    )
    db.add(alert)
    db.flush()
    return alert


def _sent_via_portal(db: Session, practice: m.Practice, claim: m.Claim) -> m.InsurancePortal:
    """A portal, the claim's first submission through it, and a scrub of the claim with a warning."""
    portal = m.InsurancePortal(
        practice_id=practice.id, name=f"Portal {practice.id}", url="https://portal.example.test"
    )
    db.add(portal)
    db.flush()
    warning = {
        "code": "scrub.telehealth.modifier_missing",
        "where": "line 1",
        "message": "place of service 10 is telehealth but the line has no 95 or GT modifier",
        "severity": "warning",
    }
    sent = m.Submission(practice_id=practice.id, claim_id=claim.id, channel="portal", portal_id=portal.id)
    scrub = m.ClaimScrub(practice_id=practice.id, claim_id=claim.id, edits=["telehealth"], problems=[warning])
    db.add_all([sent, scrub])
    db.flush()
    return portal


def _import_rows(
    db: Session, practice: m.Practice, service: m.ServiceSession
) -> tuple[m.ImportBatch, m.WorkItem]:
    """A staged import batch (no rows: committing it writes nothing) and an open import flag."""
    stored = m.StoredFile(
        practice_id=practice.id,
        kind="csv",
        direction="in",
        filename="week.csv",
        sha256="0" * 64,
        size_bytes=0,
        content=b"",
    )
    db.add(stored)
    db.flush()
    batch = m.ImportBatch(
        practice_id=practice.id,
        format="simplepractice",
        filename="week.csv",
        stored_file_id=stored.id,
        counts={"rows": 0, "new": 0, "updated": 0, "unchanged": 0, "flagged": 0, "rejected": 0},
    )
    flag = m.WorkItem(
        practice_id=practice.id,
        kind="flag",
        severity="warning",
        title="Date of service in the future",
        rule="future_date",
        dedupe_key=f"import:future_date:world{service.id}",
        holds_billing=True,
        session_id=service.id,
        client_id=service.client_id,
    )
    db.add_all([batch, flag])
    db.flush()
    return batch, flag


def _post_charge(
    db: Session, practice: m.Practice, service: m.ServiceSession, claim: m.Claim, coverage: m.Coverage
) -> None:
    """$150 billed to the payer, $20 of it moved to the patient: real ledger postings."""
    charge = service.charges[0]
    ref = ChargeRef(charge_id=charge.id, client_id=service.client_id, claim_id=claim.id)
    insurance = InsuranceRef(coverage_id=coverage.id, payer_id=coverage.payer_id)
    guarantor = f.make_guarantor(db, service.client)
    actor = system_actor("test")
    ledger.post_transaction(
        db,
        actor=actor,
        practice_id=practice.id,
        kind="charge",
        accounting_on=service.service_on,
        lines=charge_to_insurance(charge.fee_cents, ref, insurance),
    )
    ledger.post_transaction(
        db,
        actor=actor,
        practice_id=practice.id,
        kind="transfer_to_patient",
        accounting_on=service.service_on,
        lines=transfer_to_patient(2000, ref, insurance, guarantor.id),
    )


def build_world(db: Session) -> World:
    own_practice = f.make_practice(db)
    other_practice = f.make_practice(db)
    users = {
        role: make_login_user(db, own_practice, role, name=role.value.replace("_", "-")) for role in Role
    }
    own = _practice_rows(db, own_practice, therapist=users[Role.THERAPIST], client_user=users[Role.CLIENT])
    other = _practice_rows(db, other_practice, therapist=None, client_user=None)
    f.make_payer(db, name="Card Payer", edi_payer_id="WRLDCOV1")  # named by its EDI id (access matrix)
    therapist2 = make_login_user(db, own_practice, Role.THERAPIST, name="second-therapist")
    provider2 = f.make_provider(db, own_practice, user=therapist2)
    client2 = f.make_client(db, own_practice)
    session2 = f.make_session(
        db,
        own_practice,
        client2,
        provider2,
        starts_at=datetime(2026, 3, 3, 15, 0, tzinfo=UTC),
        note_status="draft",
    )
    return World(own=own, other=other, users=users, therapist2_session=session2)
