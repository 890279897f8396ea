"""What a person does from a session's page: change its status, record a patient payment, add
a note, flag an issue; and move one of its claims to a valid next status.

Each is a verb taking the database session and the actor; each checks the actor's permission
in the session's practice, refuses bad input naming the field (writing nothing), and leaves
an audit row. None commits.

Status changes are limited to those that keep the billing history true:

* the appointment (show, no_show, late_cancel, canceled) may change only while the session
  is neither marked ready nor on a live claim — after that the claim's history depends on it;
* the note goes forward only: none -> draft -> locked (a locked note is final here; an
  amendment happens in the EHR and comes back through its export), and only a held visit
  is documented;
* a claim moves along the status table (``domain.claim_status``) through
  :func:`~revcycle.services.claims.transition_claim`; sending it is recorded as a submission
  (the portal log), and making it ready goes through the scrubber, so neither is offered here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain.claim_status import ClaimStatus, EventSource, allowed_targets
from revcycle.domain.ledger import Account, BalanceScope, PostingLine
from revcycle.domain.ledger_events import ChargeRef, TransactionKind, patient_payment
from revcycle.domain.permissions import Permission
from revcycle.errors import InvalidInput
from revcycle.services import audit, ledger
from revcycle.services.actor import Actor
from revcycle.services.claims import load_claim, transition_claim
from revcycle.services.claims_pipeline.scrubbing import practice_today
from revcycle.services.guarantors import guarantors_for
from revcycle.services.scoping import get_visible

__all__ = [
    "APPOINTMENT_STATUSES",
    "MANUAL_FLAG_RULE",
    "PAYMENT_METHODS",
    "add_note",
    "appointment_targets",
    "change_appointment_status",
    "change_claim_status",
    "change_note_status",
    "claim_targets",
    "flag_issue",
    "note_targets",
    "record_patient_payment",
]

APPOINTMENT_STATUSES = ("show", "no_show", "late_cancel", "canceled")
NOTE_FORWARD = {"none": ("draft", "locked"), "draft": ("locked",), "locked": ()}
PAYMENT_METHODS = ("card", "cash", "check", "ach")
MANUAL_FLAG_RULE = "manual"
MAX_NOTE = 5000
# Moves offered elsewhere: sending is a submission, making ready a scrub.
_NOT_BY_HAND = frozenset({ClaimStatus.SUBMITTED, ClaimStatus.READY})
_CLOSED = (str(ClaimStatus.VOID),)


def _load(session: Session, actor: Actor, session_id: int, permission: Permission) -> m.ServiceSession:
    found = get_visible(session, m.ServiceSession, session_id, actor, Permission.VIEW_SESSIONS)
    actor.require(found.practice_id, permission)
    return found


def _live_claim_ids(session: Session, session_id: int) -> list[int]:
    query = (
        select(m.Claim.id)
        .join(m.ClaimLine, m.ClaimLine.claim_id == m.Claim.id)
        .join(m.Charge, m.Charge.id == m.ClaimLine.charge_id)
        .where(m.Charge.session_id == session_id, m.Claim.status.not_in(_CLOSED))
        .distinct()
    )
    return list(session.scalars(query))


def _audit(
    session: Session,
    actor: Actor,
    *,
    row: m.ServiceSession,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str,
) -> None:
    audit.record(
        session,
        actor=actor,
        practice_id=row.practice_id,
        action="update",
        entity="session",
        entity_id=row.id,
        client_ids=[row.client_id],
        before=before,
        after=after,
        reason=reason,
    )


# --- status --------------------------------------------------------------------------------


def appointment_targets(session: Session, row: m.ServiceSession) -> list[str]:
    """The appointment statuses the session may change to now (none once it is billed)."""
    if row.ready_at is not None or _live_claim_ids(session, row.id):
        return []
    current = "show" if row.appointment_status == "completed" else row.appointment_status
    return [status for status in APPOINTMENT_STATUSES if status != current]


def note_targets(row: m.ServiceSession) -> list[str]:
    if row.appointment_status not in {"show", "completed"}:
        return []
    return list(NOTE_FORWARD.get(row.note_status, ()))


def change_appointment_status(
    session: Session, *, actor: Actor, session_id: int, status: str
) -> m.ServiceSession:
    row = _load(session, actor, session_id, Permission.ENTER_CHARGES)
    if status not in APPOINTMENT_STATUSES:
        raise InvalidInput(f"appointment_status: {status!r} is not one of {', '.join(APPOINTMENT_STATUSES)}")
    allowed = appointment_targets(session, row)
    if status not in allowed:
        if row.ready_at is not None or _live_claim_ids(session, row.id):
            raise InvalidInput(
                "appointment_status: the session is marked ready or billed; its appointment stays as it is"
            )
        raise InvalidInput(f"appointment_status: the appointment is already {row.appointment_status}")
    before = row.appointment_status
    row.appointment_status = status
    session.flush()
    _audit(
        session,
        actor,
        row=row,
        before={"appointment_status": before},
        after={"appointment_status": status},
        reason="status changed by hand",
    )
    return row


def change_note_status(session: Session, *, actor: Actor, session_id: int, status: str) -> m.ServiceSession:
    row = _load(session, actor, session_id, Permission.ENTER_CHARGES)
    if status not in NOTE_FORWARD:
        raise InvalidInput(f"note_status: {status!r} is not one of none, draft, locked")
    if status not in note_targets(row):
        if row.appointment_status not in {"show", "completed"}:
            raise InvalidInput(
                f"note_status: the appointment is {row.appointment_status}; only a held visit is documented"
            )
        raise InvalidInput(f"note_status: a {row.note_status} note cannot become {status}")
    before = row.note_status
    row.note_status = status
    if status == "locked":
        row.note_locked_at = utcnow()
    session.flush()
    _audit(
        session,
        actor,
        row=row,
        before={"note_status": before},
        after={"note_status": status},
        reason="note status changed by hand",
    )
    return row


def claim_targets(claim: m.Claim) -> list[str]:
    """The claim statuses a person may choose by hand now, in the table's order."""
    allowed = allowed_targets(ClaimStatus(claim.status)) - _NOT_BY_HAND
    return [str(status) for status in ClaimStatus if status in allowed]


def change_claim_status(
    session: Session, *, actor: Actor, claim_id: int, status: str, detail: str = ""
) -> m.Claim:
    """Move a claim by hand to a valid next status (recorded as the user's claim event)."""
    claim = load_claim(session, actor=actor, claim_id=claim_id)
    get_visible(session, m.Claim, claim.id, actor, Permission.VIEW_CLAIMS)
    try:
        target = ClaimStatus(status)
    except ValueError:
        raise InvalidInput(f"status: {status!r} is not a claim status") from None
    if target in _NOT_BY_HAND:
        how = (
            "record a submission"
            if target is ClaimStatus.SUBMITTED
            else "use Mark ready (it scrubs the claim)"
        )
        raise InvalidInput(f"status: to make claim {claim.number} {target}, {how}")
    return transition_claim(
        session, actor=actor, claim_id=claim.id, target=target, source=EventSource.USER, detail=detail.strip()
    )


# --- notes and flags -----------------------------------------------------------------------


def add_note(
    session: Session,
    *,
    actor: Actor,
    body: str,
    session_id: int | None = None,
    claim_id: int | None = None,
    next_followup_on: date | None = None,
) -> m.Note:
    """A note on a session or a claim (a claim's note may set its next follow-up date)."""
    if (session_id is None) == (claim_id is None):
        raise InvalidInput("a note is about one session or one claim")
    body = body.strip()
    if not body:
        raise InvalidInput("body: write the note")
    if len(body) > MAX_NOTE:
        raise InvalidInput(f"body: at most {MAX_NOTE} characters")
    if session_id is not None:
        about: m.ServiceSession | m.Claim = get_visible(
            session, m.ServiceSession, session_id, actor, Permission.VIEW_SESSIONS
        )
    else:
        about = get_visible(session, m.Claim, claim_id or 0, actor, Permission.VIEW_CLAIMS)
    actor.require(about.practice_id, Permission.ADD_CLAIM_NOTES)
    note = m.Note(
        practice_id=about.practice_id,
        author_user_id=actor.user_id,
        body=body,
        session_id=session_id,
        claim_id=claim_id,
        next_followup_on=next_followup_on,
    )
    session.add(note)
    if isinstance(about, m.Claim) and next_followup_on is not None:
        about.next_followup_on = next_followup_on
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=about.practice_id,
        action="create",
        entity="note",
        entity_id=note.id,
        client_ids=[about.client_id],
        after={"session_id": session_id, "claim_id": claim_id, "length": len(body)},
    )
    return note


def flag_issue(
    session: Session, *, actor: Actor, session_id: int, title: str, detail: str = ""
) -> m.WorkItem:
    """Raise a flag on the session by hand; like an import flag, it holds its billing until
    someone resolves it."""
    row = _load(session, actor, session_id, Permission.ENTER_CHARGES)
    title = title.strip()
    if not title:
        raise InvalidInput("title: say what the issue is")
    if len(title) > 200:
        raise InvalidInput("title: at most 200 characters")
    item = m.WorkItem(
        practice_id=row.practice_id,
        kind="flag",
        severity="warning",
        title=title,
        detail=detail.strip(),
        rule=MANUAL_FLAG_RULE,
        holds_billing=True,
        owner_user_id=actor.user_id,
        session_id=row.id,
        client_id=row.client_id,
    )
    session.add(item)
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=row.practice_id,
        action="create",
        entity="work_item",
        entity_id=item.id,
        client_ids=[row.client_id],
        after={"kind": "flag", "rule": MANUAL_FLAG_RULE, "session_id": row.id, "holds_billing": True},
    )
    return item


# --- patient payments ----------------------------------------------------------------------


def record_patient_payment(
    session: Session,
    *,
    actor: Actor,
    session_id: int,
    amount_cents: int,
    method: str,
    received_on: date | None = None,
    reference: str = "",
) -> m.Payment:
    """The patient paid toward this session: cash in, their balance on its charges down.

    The amount goes to what the patient owes on the session's charges, first charge first;
    anything beyond that is kept as the patient's credit (``patient_credit``), never lost.
    """
    row = _load(session, actor, session_id, Permission.POST_PATIENT_PAYMENTS)
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise InvalidInput("amount: must be more than zero")
    if method not in PAYMENT_METHODS:
        raise InvalidInput(f"method: {method!r} is not one of {', '.join(PAYMENT_METHODS)}")
    if len(reference.strip()) > 80:
        raise InvalidInput("reference: at most 80 characters")
    today = practice_today(session, row.practice_id)
    received_on = received_on or today
    if received_on > today:
        raise InvalidInput(f"received_on: {received_on} is in the future")
    charges = list(
        session.scalars(select(m.Charge).where(m.Charge.session_id == row.id).order_by(m.Charge.id))
    )
    if not charges:
        raise InvalidInput("the session has no charge to pay toward")
    guarantor = _guarantor(session, row.client)
    payment = m.Payment(
        practice_id=row.practice_id,
        kind="patient",
        method=method,
        amount_cents=amount_cents,
        received_on=received_on,
        reference=reference.strip(),
        client_id=row.client_id,
        guarantor_id=guarantor.id,
        created_by_user_id=actor.user_id,
    )
    session.add(payment)
    session.flush()
    lines = _payment_lines(
        session, row, charges, guarantor_id=guarantor.id, payment_id=payment.id, amount_cents=amount_cents
    )
    ledger.post_transaction(
        session,
        actor=actor,
        practice_id=row.practice_id,
        kind=TransactionKind.PATIENT_PAYMENT,
        accounting_on=received_on,
        lines=lines,
        memo=f"patient payment ({method})",
        payment_id=payment.id,
    )
    audit.record(
        session,
        actor=actor,
        practice_id=row.practice_id,
        action="create",
        entity="payment",
        entity_id=payment.id,
        client_ids=[row.client_id],
        after={"kind": "patient", "method": method, "amount_cents": amount_cents, "session_id": row.id},
    )
    return payment


def _guarantor(session: Session, client: m.Client) -> m.Guarantor:
    """Who pays for the client: their primary guarantor, or the client themself."""
    return guarantors_for(session, [client])[client.id]


def _patient_owes(session: Session, practice_id: int, charge_ids: list[int]) -> dict[int, int]:
    query = select(m.LedgerBalance.scope_id, m.LedgerBalance.balance_cents).where(
        m.LedgerBalance.practice_id == practice_id,
        m.LedgerBalance.scope == BalanceScope.CHARGE.value,
        m.LedgerBalance.scope_id.in_(charge_ids),
        m.LedgerBalance.account == Account.AR_PATIENT.value,
    )
    return {int(charge_id): int(cents) for charge_id, cents in session.execute(query)}


def _payment_lines(
    session: Session,
    row: m.ServiceSession,
    charges: list[m.Charge],
    *,
    guarantor_id: int,
    payment_id: int,
    amount_cents: int,
) -> list[PostingLine]:
    owes = _patient_owes(session, row.practice_id, [c.id for c in charges])
    claims = _claim_of_charges(session, [c.id for c in charges])
    lines: list[PostingLine] = []
    left = amount_cents
    for charge in charges:
        share = min(left, max(owes.get(charge.id, 0), 0))
        if share:
            ref = ChargeRef(charge.id, row.client_id, claims.get(charge.id))
            lines += patient_payment(share, ref, guarantor_id, payment_id=payment_id)
            left -= share
    if left:  # kept on the first charge, so the credit shows where it was paid
        first = charges[0].id
        lines += [
            PostingLine(Account.CASH, left, charge_id=first, client_id=row.client_id, payment_id=payment_id),
            PostingLine(
                Account.PATIENT_CREDIT, -left, charge_id=first, client_id=row.client_id, payment_id=payment_id
            ),
        ]
    return lines


def _claim_of_charges(session: Session, charge_ids: list[int]) -> dict[int, int]:
    query = (
        select(m.ClaimLine.charge_id, m.ClaimLine.claim_id)
        .join(m.Claim, m.Claim.id == m.ClaimLine.claim_id)
        .where(m.ClaimLine.charge_id.in_(charge_ids), m.Claim.status.not_in(_CLOSED))
        .order_by(m.ClaimLine.claim_id)
    )
    return {int(charge_id): int(claim_id) for charge_id, claim_id in session.execute(query) if charge_id}
