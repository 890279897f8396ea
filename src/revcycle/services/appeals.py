"""Working a denial: appeals with their letters, the corrected-claim path, deadline alerts and
the overturn report (issue 7, point 2; the rules are in :mod:`revcycle.domain.appeals`).

* :func:`start_appeal` writes a draft for a claim (one of its denials, or the claim as a
  whole) at level 1, or at the next level after a lost or partially won appeal, with the
  amount appealed and its deadline, from the practice's latest template (two built-in ones
  are installed on first use: "General" and "Medical necessity").
* :func:`update_draft` changes its argument, enclosures or template and prints the letter
  again (:func:`render_letter`: a PDF kept as a stored file, the appeal pointing at the
  latest one).
* :func:`submit_appeal` needs the letter; the claim moves to appealed and the denials it
  covers are marked appealed. :func:`record_outcome` writes the decision: a win that
  recovers a denial's amount marks it overturned; a loss puts the claim back to denied and
  its denials back to open, so the next level (or a write-off, another issue's) can follow.
* :func:`send_corrected_claim` is the other road for a fixable denial (default action fix
  and resubmit): a replacement claim (frequency 7) carrying the payer's claim number.
* :func:`raise_deadline_alerts` keeps one work item (kind ``appeal``) per open denial to
  appeal and per draft appeal, idempotently; :func:`overturn_summary` reports the decided
  appeals per payer and per denial category.

Every change is audited; nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from revcycle.adapters.appeal_letter_pdf import Letter, render_letter_pdf
from revcycle.db import models as m
from revcycle.db.types import utcnow
from revcycle.domain import adjustment_reasons
from revcycle.domain import appeals as rules
from revcycle.domain.adjustment_reasons import DefaultAction
from revcycle.domain.appeals import AppealStatus, OverturnTally, Urgency
from revcycle.domain.claim_status import ClaimStatus, EventSource
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.permissions import Permission
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.money import format_cents
from revcycle.services import audit, work_items
from revcycle.services.actor import Actor, system_actor
from revcycle.services.claims import ClaimMove, transition_claims
from revcycle.services.ledger import balance
from revcycle.services.stored_files import store_file
from revcycle.services.submissions import resubmit_claim

__all__ = [
    "APPEAL_KIND",
    "AlertRun",
    "AppealView",
    "ClaimAppeals",
    "ClaimDenialView",
    "DenialView",
    "OverturnSummary",
    "Overview",
    "appeal_view",
    "appeals_overview",
    "claim_denials_and_appeals",
    "latest_templates",
    "letter_content",
    "list_appeals",
    "overturn_summary",
    "raise_deadline_alerts",
    "raise_deadline_alerts_everywhere",
    "record_outcome",
    "render_letter",
    "save_template",
    "seed_demo_appeals",
    "send_corrected_claim",
    "start_appeal",
    "submit_appeal",
    "template_versions",
    "update_draft",
    "withdraw_appeal",
]

APPEAL = Permission.APPEAL_DENIAL
APPEAL_KIND = "appeal"  # the work items' kind
ARGUMENT_MAX = 20_000
ENCLOSURES_MAX = 20
NOTE_MAX = 2_000
DUE_BEFORE_DAYS = 7  # a deadline alert is due a week before the payer's last day
ACTIVE = (AppealStatus.DRAFT, AppealStatus.SUBMITTED)
APPEALABLE_CLAIMS = {ClaimStatus.DENIED, ClaimStatus.PARTIALLY_PAID, ClaimStatus.APPEALED}

DEFAULT_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    (
        "General",
        "{{ appeal.level }}: claim {{ claim.number }} for {{ client.name }}",
        """{{ payer.name }}
Appeals Department

Re: {{ client.name }}, date of birth {{ client.dob }}, member id {{ client.member_id }}
Claim {{ claim.number }}, payer claim number {{ claim.payer_claim_number }}
Dates of service: {{ claim.dates_of_service }}
Billed {{ claim.billed }}, paid {{ claim.paid }}, denied {{ claim.denied }}

To the appeals reviewer:

We ask you to reconsider the claim above ({{ appeal.level }}). It was denied for these reasons:
{{ denial.codes }}

The services:
{{ claim.lines }}

{{ appeal.argument }}

We ask that the claim be reprocessed and the amount of {{ appeal.amount }} paid.

Enclosed:
{{ appeal.enclosures }}

Sincerely,

{{ practice.name }}
{{ practice.address }}
{{ practice.phone }}
NPI {{ practice.npi }}, tax id {{ practice.tax_id }}
Rendering provider: {{ provider.name }}, NPI {{ provider.npi }}""",
    ),
    (
        "Medical necessity",
        "{{ appeal.level }}, medical necessity: claim {{ claim.number }}",
        """{{ payer.name }}
Appeals Department

Re: {{ client.name }}, date of birth {{ client.dob }}, member id {{ client.member_id }}
Claim {{ claim.number }}, payer claim number {{ claim.payer_claim_number }}
Dates of service: {{ claim.dates_of_service }}

To the appeals reviewer:

The claim above was denied as not medically necessary:
{{ denial.codes }}

{{ client.name }} is in active outpatient behavioral health treatment with {{ provider.name }}. \
The services below were provided under a current treatment plan, each supported by a \
progress note documenting the symptoms, the interventions and the client's response:
{{ claim.lines }}

{{ appeal.argument }}

The treatment meets the plan's criteria for medically necessary outpatient psychotherapy. \
We ask that the denial be overturned and {{ appeal.amount }} paid.

Enclosed:
{{ appeal.enclosures }}

Sincerely,

{{ practice.name }}
{{ practice.address }}
{{ practice.phone }}
NPI {{ practice.npi }}, tax id {{ practice.tax_id }}""",
    ),
)
DEFAULT_ENCLOSURES: dict[str, tuple[str, ...]] = {
    "medical_necessity": ("Treatment plan", "Progress notes for the dates of service", "Initial assessment"),
    "authorization": ("Authorization on file or request for retroactive authorization", "Progress notes"),
    "timely_filing": ("Proof of timely filing: clearinghouse acceptance report",),
}


# --- templates -----------------------------------------------------------------------------


def _latest_query(practice_id: int) -> Select[m.AppealLetterTemplate]:
    newest = (
        select(m.AppealLetterTemplate.name, func.max(m.AppealLetterTemplate.version).label("version"))
        .where(m.AppealLetterTemplate.practice_id == practice_id)
        .group_by(m.AppealLetterTemplate.name)
        .subquery()
    )
    return (
        select(m.AppealLetterTemplate)
        .join(
            newest,
            (newest.c.name == m.AppealLetterTemplate.name)
            & (newest.c.version == m.AppealLetterTemplate.version),
        )
        .where(m.AppealLetterTemplate.practice_id == practice_id)
        .order_by(m.AppealLetterTemplate.name)
    )


def _install_defaults(db: Session, actor: Actor, practice_id: int) -> None:
    """The built-in templates, the first time a practice needs one."""
    exists = db.scalar(
        select(m.AppealLetterTemplate.id).where(m.AppealLetterTemplate.practice_id == practice_id).limit(1)
    )
    if exists is not None:
        return
    for name, subject, body in DEFAULT_TEMPLATES:
        db.add(
            m.AppealLetterTemplate(
                practice_id=practice_id,
                name=name,
                version=1,
                subject=subject,
                body=body,
                created_by_user_id=actor.user_id,
            )
        )
    db.flush()


def latest_templates(db: Session, *, actor: Actor, practice_id: int) -> list[m.AppealLetterTemplate]:
    """The latest version of each template, by name (the built-in ones on first use)."""
    actor.require(practice_id, APPEAL)
    _install_defaults(db, actor, practice_id)
    return list(db.scalars(_latest_query(practice_id)))


def template_versions(
    db: Session, *, actor: Actor, practice_id: int, name: str
) -> list[m.AppealLetterTemplate]:
    """Every version of one template, newest first."""
    actor.require(practice_id, APPEAL)
    query = select(m.AppealLetterTemplate).where(
        m.AppealLetterTemplate.practice_id == practice_id, m.AppealLetterTemplate.name == name
    )
    return list(db.scalars(query.order_by(m.AppealLetterTemplate.version.desc())))


def save_template(
    db: Session,
    *,
    actor: Actor,
    practice_id: int,
    name: str,
    subject: str,
    body: str,
    level: int | None = None,
) -> m.AppealLetterTemplate:
    """A new version of template ``name`` (version 1 when new); an unknown placeholder is
    refused with a message naming it, and nothing is saved."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    name, body = name.strip(), body.strip()
    if not name or len(name) > 100:
        raise InvalidInput("name: give the template a name of at most 100 characters")
    if not body:
        raise InvalidInput("body: the letter needs a body")
    if len(subject) > 200:
        raise InvalidInput("subject: at most 200 characters")
    if level is not None and level not in rules.LEVELS:
        raise InvalidInput(f"level: {level} is not 1, 2 or 3")
    problems = rules.check_template(subject, "subject") + rules.check_template(body, "body")
    if problems:
        raise InvalidInput("; ".join(f"{p.where}: {p.message}" for p in problems))
    _install_defaults(db, actor, practice_id)
    current = db.scalar(
        select(func.max(m.AppealLetterTemplate.version)).where(
            m.AppealLetterTemplate.practice_id == practice_id, m.AppealLetterTemplate.name == name
        )
    )
    row = m.AppealLetterTemplate(
        practice_id=practice_id,
        name=name,
        version=(current or 0) + 1,
        level=level,
        subject=subject.strip(),
        body=body,
        created_by_user_id=actor.user_id,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        practice_id=practice_id,
        action="create",
        entity="appeal_letter_template",
        entity_id=row.id,
        after={"name": name, "version": row.version, "level": level},
    )
    return row


def _template(
    db: Session, practice_id: int, template_id: int | None, category: str
) -> m.AppealLetterTemplate:
    if template_id is not None:
        row = db.get(m.AppealLetterTemplate, template_id)
        if row is None or row.practice_id != practice_id:
            raise InvalidInput(f"template_id: template {template_id} does not exist")
        return row
    latest = {row.name: row for row in db.scalars(_latest_query(practice_id))}
    wanted = "Medical necessity" if category == "medical_necessity" else "General"
    return latest.get(wanted) or next(iter(latest.values()))


# --- loading -------------------------------------------------------------------------------


_Row = TypeVar("_Row", m.Appeal, m.Claim, m.Denial)


def _appeal(db: Session, actor: Actor, appeal_id: int) -> m.Appeal:
    return _practice_row(
        db, actor, db.get(m.Appeal, appeal_id, populate_existing=True), f"appeal {appeal_id}"
    )


def _claim(db: Session, actor: Actor, claim_id: int) -> m.Claim:
    return _practice_row(db, actor, db.get(m.Claim, claim_id), f"claim {claim_id}")


def _denial(db: Session, actor: Actor, denial_id: int) -> m.Denial:
    return _practice_row(db, actor, db.get(m.Denial, denial_id), f"denial {denial_id}")


def _practice_row(db: Session, actor: Actor, row: _Row | None, what: str) -> _Row:
    """``row`` when the actor works in its practice and may appeal there, else NotFound."""
    if row is None or not (actor.is_system or row.practice_id in actor.practice_ids):
        raise NotFound(f"{what} not found")
    actor.require(row.practice_id, APPEAL)
    return row


def _appeal_days(db: Session, claim: m.Claim) -> int:
    days = db.scalar(
        select(m.PracticePayer.appeal_days).where(
            m.PracticePayer.practice_id == claim.practice_id, m.PracticePayer.payer_id == claim.payer_id
        )
    )
    return days or 180


def _covered_denials(db: Session, appeal: m.Appeal) -> list[m.Denial]:
    """The denials an appeal covers: its own, or every denial of its claim."""
    if appeal.denial_id is not None:
        return [db.get_one(m.Denial, appeal.denial_id)]
    query = select(m.Denial).where(m.Denial.claim_id == appeal.claim_id).order_by(m.Denial.id)
    return list(db.scalars(query))


def _snapshot(appeal: m.Appeal) -> dict[str, object]:
    return {
        "status": appeal.status,
        "level": appeal.level,
        "appealed_cents": appeal.appealed_cents,
        "recovered_cents": appeal.recovered_cents,
        "deadline_on": appeal.deadline_on,
        "template_id": appeal.template_id,
        "letter_file_id": appeal.letter_file_id,
    }


def _audit(
    db: Session, actor: Actor, appeal: m.Appeal, action: str, *, before: dict[str, object] | None, reason: str
) -> None:
    claim = db.get_one(m.Claim, appeal.claim_id)
    audit.record(
        db,
        actor=actor,
        practice_id=appeal.practice_id,
        action=action,
        entity="appeal",
        entity_id=appeal.id,
        client_ids=[claim.client_id],
        before=before,
        after=_snapshot(appeal),
        reason=reason,
    )


# --- starting and editing ------------------------------------------------------------------


def start_appeal(
    db: Session,
    *,
    actor: Actor,
    claim_id: int,
    today: date,
    denial_id: int | None = None,
    previous_appeal_id: int | None = None,
    template_id: int | None = None,
    argument: str = "",
) -> m.Appeal:
    """A draft appeal of the claim (one of its denials, or the whole claim), with its letter.

    With ``previous_appeal_id`` it is the next level after that lost or partially won appeal,
    due by its decision + the payer's appeal limit; otherwise level 1, due by the denial's
    deadline. A claim holds at most one draft or submitted appeal per denial."""
    claim = _claim(db, actor, claim_id)
    if ClaimStatus(claim.status) not in APPEALABLE_CLAIMS:
        raise InvalidInput(
            f"claim {claim.number} is {claim.status}; only a denied or partially paid claim is appealed"
        )
    previous = _previous(db, actor, claim, previous_appeal_id, today)
    if previous is not None and denial_id is None:
        denial_id = previous.denial_id
    denial = _denial(db, actor, denial_id) if denial_id is not None else None
    if denial is not None and denial.claim_id != claim.id:
        raise InvalidInput(f"denial_id: denial {denial.id} is not of claim {claim.number}")
    _refuse_second_active(db, claim, denial)
    _install_defaults(db, actor, claim.practice_id)
    denials = (
        [denial]
        if denial is not None
        else list(db.scalars(select(m.Denial).where(m.Denial.claim_id == claim.id)))
    )
    level = previous.level + 1 if previous is not None else 1
    appeal = m.Appeal(
        practice_id=claim.practice_id,
        claim_id=claim.id,
        denial_id=denial.id if denial is not None else None,
        level=level,
        status=str(AppealStatus.DRAFT),
        argument=_checked_argument(argument),
        appealed_cents=_appealed_cents(db, claim, denials, previous),
        deadline_on=rules.deadline_for(
            level,
            denial_deadline_on=min(
                (d.appeal_deadline_on for d in denials if d.appeal_deadline_on), default=None
            ),
            previous_decided_on=previous.decided_on if previous is not None else None,
            appeal_days=_appeal_days(db, claim),
            started_on=today,
        ),
        template_id=_template(db, claim.practice_id, template_id, denials[0].category if denials else "").id,
        enclosures=list(DEFAULT_ENCLOSURES.get(denials[0].category if denials else "", ())),
        previous_appeal_id=previous.id if previous is not None else None,
        created_by_user_id=actor.user_id,
    )
    db.add(appeal)
    db.flush()
    _audit(
        db,
        actor,
        appeal,
        "create",
        before=None,
        reason=f"{rules.LEVELS[level]} started for claim {claim.number}",
    )
    render_letter(db, actor=actor, appeal_id=appeal.id, today=today)
    return appeal


def _previous(
    db: Session, actor: Actor, claim: m.Claim, previous_id: int | None, today: date
) -> m.Appeal | None:
    if previous_id is None:
        return None
    previous = _appeal(db, actor, previous_id)
    if previous.claim_id != claim.id:
        raise InvalidInput(f"previous_appeal_id: appeal {previous_id} is not of claim {claim.number}")
    next_deadline = (
        previous.decided_on + timedelta(days=_appeal_days(db, claim))
        if previous.decided_on is not None
        else None
    )
    refusal = rules.next_level_refusal(previous.status, previous.level, next_deadline, today)
    if refusal:
        raise InvalidInput(f"appeal {previous.id}: {refusal}")
    taken = db.scalar(select(m.Appeal.id).where(m.Appeal.previous_appeal_id == previous.id).limit(1))
    if taken is not None:
        raise Conflict(f"appeal {previous.id} already has its next level: appeal {taken}")
    return previous


def _refuse_second_active(db: Session, claim: m.Claim, denial: m.Denial | None) -> None:
    query = select(m.Appeal.id).where(
        m.Appeal.claim_id == claim.id, m.Appeal.status.in_([str(s) for s in ACTIVE])
    )
    if denial is not None:
        query = query.where((m.Appeal.denial_id == denial.id) | m.Appeal.denial_id.is_(None))
    active = db.scalar(query.limit(1))
    if active is not None:
        raise Conflict(f"claim {claim.number} already has an appeal in progress: appeal {active}")


def _appealed_cents(
    db: Session, claim: m.Claim, denials: Sequence[m.Denial], previous: m.Appeal | None
) -> int:
    if previous is not None:
        return max(previous.appealed_cents - previous.recovered_cents, 0)
    if denials:
        return sum(d.amount_cents for d in denials)
    return max(balance(db, claim.practice_id, BalanceScope.CLAIM, claim.id, Account.AR_INSURANCE), 0)


def _checked_argument(argument: str) -> str:
    if len(argument) > ARGUMENT_MAX:
        raise InvalidInput(f"argument: at most {ARGUMENT_MAX} characters")
    return argument.strip()


def _checked_enclosures(enclosures: Iterable[str]) -> list[str]:
    items = [item.strip()[:200] for item in enclosures if item.strip()]
    if len(items) > ENCLOSURES_MAX:
        raise InvalidInput(f"enclosures: at most {ENCLOSURES_MAX}")
    return items


def update_draft(
    db: Session,
    *,
    actor: Actor,
    appeal_id: int,
    today: date,
    argument: str | None = None,
    enclosures: Sequence[str] | None = None,
    template_id: int | None = None,
    payer_reference: str | None = None,
) -> m.Appeal:
    """Change a draft's argument, enclosures, template or the payer's reference, and print
    its letter again."""
    appeal = _appeal(db, actor, appeal_id)
    if appeal.status != AppealStatus.DRAFT:
        raise Conflict(f"appeal {appeal.id} is {appeal.status}; only a draft is edited")
    before = {**_snapshot(appeal), "argument": appeal.argument, "enclosures": list(appeal.enclosures)}
    if argument is not None:
        appeal.argument = _checked_argument(argument)
    if enclosures is not None:
        appeal.enclosures = _checked_enclosures(enclosures)
    if template_id is not None:
        appeal.template_id = _template(db, appeal.practice_id, template_id, "").id
    if payer_reference is not None:
        appeal.payer_reference = payer_reference.strip()[:60]
    db.flush()
    render_letter(db, actor=actor, appeal_id=appeal.id, today=today)
    _audit(db, actor, appeal, "update", before=before, reason="draft edited")
    return appeal


# --- the letter ----------------------------------------------------------------------------


def _facts(db: Session, appeal: m.Appeal, today: date) -> rules.LetterFacts:
    claim = db.get_one(m.Claim, appeal.claim_id)
    practice = db.get_one(m.Practice, appeal.practice_id)
    provider = db.get(m.Provider, claim.provider_id) if claim.provider_id else None
    coverage = db.get(m.Coverage, claim.coverage_id) if claim.coverage_id else None
    denials = _covered_denials(db, appeal)
    paid = _paid_cents(db, claim.id)
    category = adjustment_reasons.DenialCategory(denials[0].category).label if denials else ""
    return rules.LetterFacts(
        today=today,
        practice_name=practice.legal_name or practice.name,
        practice_address=", ".join(_address(practice)),
        practice_phone=practice.phone,
        practice_npi=practice.group_npi,
        practice_tax_id=practice.tax_id,
        provider_name=_provider_name(provider),
        provider_npi=provider.npi if provider is not None else "",
        client_name=f"{claim.client.first_name} {claim.client.last_name}",
        client_dob=claim.client.date_of_birth,
        member_id=coverage.member_id if coverage is not None else "",
        payer_name=claim.payer.name,
        claim_number=claim.number,
        payer_claim_number=claim.payer_claim_control_number,
        service_from_on=claim.service_from_on,
        service_to_on=claim.service_to_on,
        lines=tuple(
            rules.LetterLine(x.service_on, x.procedure_code, x.modifiers, x.units, x.charge_cents)
            for x in claim.lines
        ),
        billed_cents=claim.billed_cents,
        paid_cents=int(paid or 0),
        denied_cents=sum(d.amount_cents for d in denials),
        denial_codes=tuple(_code_lines(denials)),
        denial_category=category,
        level=appeal.level,
        appealed_cents=appeal.appealed_cents,
        argument=appeal.argument,
        enclosures=tuple(appeal.enclosures),
    )


def _paid_cents(db: Session, claim_id: int) -> int:
    """What the payer's posted remittances paid on the claim."""
    paid = db.scalar(
        select(func.coalesce(func.sum(m.RemittanceClaim.paid_cents), 0)).where(
            m.RemittanceClaim.claim_id == claim_id, m.RemittanceClaim.state == "posted"
        )
    )
    return int(paid or 0)


def _code_lines(denials: Sequence[m.Denial]) -> Iterable[tuple[str, str]]:
    seen: set[str] = set()
    for denial in denials:
        key = f"{denial.group_code}-{denial.carc}"
        if key not in seen:
            seen.add(key)
            yield key, adjustment_reasons.reason_info(denial.carc).explanation
        for remark in filter(None, denial.rarc.split(",")):
            if remark not in seen:
                seen.add(remark)
                yield remark, adjustment_reasons.remark_info(remark).explanation


def _address(practice: m.Practice) -> tuple[str, ...]:
    city = " ".join(
        filter(None, [f"{practice.city}," if practice.city else "", practice.state, practice.postal_code])
    )
    return tuple(filter(None, [practice.address_line1, practice.address_line2, city.strip()]))


def _provider_name(provider: m.Provider | None) -> str:
    if provider is None:
        return ""
    name = f"{provider.first_name} {provider.last_name}"
    return f"{name}, {provider.credentials}" if provider.credentials else name


def letter_content(db: Session, *, actor: Actor, appeal_id: int, today: date) -> Letter:
    """The letter as it would print today (the page's preview)."""
    appeal = _appeal(db, actor, appeal_id)
    practice = db.get_one(m.Practice, appeal.practice_id)
    template = db.get_one(m.AppealLetterTemplate, appeal.template_id) if appeal.template_id else None
    if template is None:
        template = _template(db, appeal.practice_id, None, "")
    values = rules.letter_values(_facts(db, appeal, today))
    subject, _ = rules.render_template(template.subject, values)
    body, _ = rules.render_template(template.body, values)
    return Letter(
        practice_name=practice.legal_name or practice.name,
        practice_address=_address(practice),
        practice_phone=practice.phone,
        dated=values["today"],
        subject=subject,
        body=body,
    )


def render_letter(db: Session, *, actor: Actor, appeal_id: int, today: date) -> m.StoredFile:
    """Print the appeal's letter as PDF, keep it as a stored file and point the appeal at it."""
    letter = letter_content(db, actor=actor, appeal_id=appeal_id, today=today)
    appeal = db.get_one(m.Appeal, appeal_id)
    claim = db.get_one(m.Claim, appeal.claim_id)
    stored = store_file(
        db,
        actor=actor,
        practice_id=appeal.practice_id,
        kind="pdf",
        direction="out",
        filename=f"appeal-{appeal.id}-level{appeal.level}-{claim.number}.pdf",
        content=render_letter_pdf(letter),
    )
    appeal.letter_file_id = stored.id
    db.flush()
    return stored


# --- submitting and deciding ---------------------------------------------------------------


def _move(db: Session, appeal: m.Appeal, target: AppealStatus, **values: object) -> None:
    """``UPDATE ... WHERE status = :expected``: someone else's move in between is a conflict."""
    refusal = rules.transition_refusal(appeal.status, target)
    if refusal:
        raise Conflict(f"appeal {appeal.id}: {refusal}")
    done = db.execute(
        update(m.Appeal)
        .where(m.Appeal.id == appeal.id, m.Appeal.status == appeal.status)
        .values(status=str(target), **values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"appeal {appeal.id} was changed meanwhile; reload it")
    db.refresh(appeal)


def submit_appeal(
    db: Session, *, actor: Actor, appeal_id: int, submitted_on: date, payer_reference: str = ""
) -> m.Appeal:
    """Record that the appeal was sent: the claim moves to appealed and its denials are appealed."""
    appeal = _appeal(db, actor, appeal_id)
    if appeal.letter_file_id is None:
        raise InvalidInput(f"appeal {appeal.id}: print the letter before submitting")
    before = _snapshot(appeal)
    _move(
        db,
        appeal,
        AppealStatus.SUBMITTED,
        submitted_on=submitted_on,
        payer_reference=payer_reference.strip()[:60] or appeal.payer_reference,
    )
    claim = db.get_one(m.Claim, appeal.claim_id)
    if claim.status != ClaimStatus.APPEALED:
        detail = f"{rules.LEVELS[appeal.level].lower()} sent (appeal {appeal.id})"
        transition_claims(
            db, actor=actor, moves=[ClaimMove(claim.id, ClaimStatus.APPEALED, EventSource.USER, detail)]
        )
    for denial in _covered_denials(db, appeal):
        if denial.resolution == "open":
            denial.resolution, denial.resolved_at = "appealed", utcnow()
    db.flush()
    _audit(db, actor, appeal, "update", before=before, reason="appeal submitted")
    return appeal


def record_outcome(
    db: Session,
    *,
    actor: Actor,
    appeal_id: int,
    outcome: str,
    decided_on: date,
    recovered_cents: int | None = None,
    note: str = "",
) -> m.Appeal:
    """The payer's decision: won, partially won or lost (see the module docstring)."""
    appeal = _appeal(db, actor, appeal_id)
    try:
        target = AppealStatus(outcome)
    except ValueError:
        raise InvalidInput(f"outcome: {outcome!r} is not won, partially_won or lost") from None
    if target not in rules.DECIDED:
        raise InvalidInput(f"outcome: {outcome!r} is not won, partially_won or lost")
    recovered = _recovered(appeal, target, recovered_cents)
    if len(note) > NOTE_MAX:
        raise InvalidInput(f"note: at most {NOTE_MAX} characters")
    if appeal.submitted_on is not None and decided_on < appeal.submitted_on:
        raise InvalidInput(
            f"decided_on: {decided_on} is before the appeal was submitted ({appeal.submitted_on})"
        )
    before = _snapshot(appeal)
    _move(db, appeal, target, decided_on=decided_on, recovered_cents=recovered, outcome_note=note.strip())
    _settle_denials(db, appeal, target, recovered)
    claim = db.get_one(m.Claim, appeal.claim_id)
    if target is AppealStatus.LOST and claim.status == ClaimStatus.APPEALED:
        # The payer upheld its decision: the claim is back where the remittance left it.
        back = ClaimStatus.PARTIALLY_PAID if _paid_cents(db, claim.id) > 0 else ClaimStatus.DENIED
        detail = f"{rules.LEVELS[appeal.level].lower()} lost (appeal {appeal.id})"
        transition_claims(db, actor=actor, moves=[ClaimMove(claim.id, back, EventSource.USER, detail)])
    _audit(db, actor, appeal, "update", before=before, reason=f"decision: {target.label.lower()}")
    return appeal


def _recovered(appeal: m.Appeal, target: AppealStatus, recovered_cents: int | None) -> int:
    if target is AppealStatus.LOST:
        if recovered_cents:
            raise InvalidInput("recovered_cents: a lost appeal recovers nothing; record it as partially won")
        return 0
    if recovered_cents is None:
        if target is AppealStatus.PARTIALLY_WON:
            raise InvalidInput("recovered_cents: say how much the payer agreed to pay")
        return appeal.appealed_cents
    if recovered_cents < 0:
        raise InvalidInput("recovered_cents: cannot be negative")
    if target is AppealStatus.PARTIALLY_WON and recovered_cents == 0:
        raise InvalidInput("recovered_cents: a partial win recovers something; record nothing as lost")
    return recovered_cents


def _settle_denials(db: Session, appeal: m.Appeal, target: AppealStatus, recovered: int) -> None:
    """A win that covers a denial overturns it (oldest first); a loss reopens the denials."""
    left = recovered
    for denial in _covered_denials(db, appeal):
        if denial.resolution not in {"open", "appealed"}:
            continue
        if target is AppealStatus.LOST:
            denial.resolution, denial.resolved_at = "open", None
        elif left >= denial.amount_cents:
            left -= denial.amount_cents
            denial.resolution, denial.resolved_at = "overturned", utcnow()
    db.flush()


def withdraw_appeal(db: Session, *, actor: Actor, appeal_id: int, reason: str = "") -> m.Appeal:
    """Withdraw a draft or a submitted appeal; its denials open again."""
    appeal = _appeal(db, actor, appeal_id)
    was = appeal.status
    before = _snapshot(appeal)
    _move(db, appeal, AppealStatus.WITHDRAWN, outcome_note=reason.strip()[:NOTE_MAX])
    if was == AppealStatus.SUBMITTED:
        for denial in _covered_denials(db, appeal):
            if denial.resolution == "appealed":
                denial.resolution, denial.resolved_at = "open", None
        db.flush()
    _audit(db, actor, appeal, "update", before=before, reason=reason or "appeal withdrawn")
    return appeal


# --- the corrected claim -------------------------------------------------------------------


def _action_label(denial: m.Denial) -> str:
    return adjustment_reasons.DefaultAction(denial.default_action or "none").label.lower()


def send_corrected_claim(db: Session, *, actor: Actor, denial_id: int, reason: str = "") -> m.Submission:
    """For a fixable denial: send the claim again as a replacement (frequency 7) with the
    payer's claim control number; its fixable open denials are marked corrected."""
    denial = _denial(db, actor, denial_id)
    if denial.default_action != adjustment_reasons.DefaultAction.FIX_AND_RESUBMIT:
        raise InvalidInput(
            f"denial {denial.id} ({denial.group_code}-{denial.carc}) is not fixed by a corrected claim; "
            f"its usual action is {_action_label(denial)}"
        )
    if denial.resolution != "open":
        raise Conflict(f"denial {denial.id} is already {denial.resolution}")
    claim = db.get_one(m.Claim, denial.claim_id)
    if not claim.payer_claim_control_number:
        raise InvalidInput(
            f"claim {claim.number}: the payer's claim number is not known; a replacement needs it"
        )
    text = reason.strip() or f"corrected claim for {denial.group_code}-{denial.carc}"
    submission = resubmit_claim(
        db,
        actor=actor,
        claim_id=claim.id,
        frequency="7",
        payer_claim_control_number=claim.payer_claim_control_number,
        reason=text,
    )
    now = utcnow()
    fixed = db.scalars(
        select(m.Denial).where(
            m.Denial.claim_id == claim.id,
            m.Denial.resolution == "open",
            m.Denial.default_action == str(adjustment_reasons.DefaultAction.FIX_AND_RESUBMIT),
        )
    )
    for row in fixed:
        row.resolution, row.resolved_at = "corrected", now
        audit.record(
            db,
            actor=actor,
            practice_id=row.practice_id,
            action="update",
            entity="denial",
            entity_id=row.id,
            client_ids=[claim.client_id],
            before={"resolution": "open"},
            after={"resolution": "corrected", "submission_id": submission.id},
            reason=text,
        )
    db.flush()
    return submission


# --- deadline alerts -----------------------------------------------------------------------


@dataclass
class AlertRun:
    practice_id: int
    created: int = 0
    updated: int = 0
    reopened: int = 0
    resolved: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.reopened + self.resolved


_COMPARED = ("severity", "title", "detail", "due_on", "claim_id", "client_id", "payer_id")


def _wanted_alerts(db: Session, practice_id: int, today: date) -> dict[str, dict[str, object]]:
    wanted: dict[str, dict[str, object]] = {}
    active_denials = set(
        db.scalars(
            select(m.Appeal.denial_id).where(
                m.Appeal.practice_id == practice_id, m.Appeal.status.in_([str(s) for s in ACTIVE])
            )
        )
    )
    claims_appealed = set(
        db.scalars(
            select(m.Appeal.claim_id).where(
                m.Appeal.practice_id == practice_id,
                m.Appeal.status.in_([str(s) for s in ACTIVE]),
                m.Appeal.denial_id.is_(None),
            )
        )
    )
    denials = db.execute(
        select(m.Denial, m.Claim)
        .join(m.Claim, m.Claim.id == m.Denial.claim_id)
        .where(
            m.Denial.practice_id == practice_id,
            m.Denial.resolution == "open",
            m.Denial.default_action == str(adjustment_reasons.DefaultAction.APPEAL),
            m.Denial.appeal_deadline_on.is_not(None),
            m.Claim.status.in_([str(s) for s in APPEALABLE_CLAIMS]),
        )
    ).all()
    for denial, claim in denials:
        if denial.id in active_denials or claim.id in claims_appealed:
            continue
        assert denial.appeal_deadline_on is not None
        wanted[f"{APPEAL_KIND}:denial:{denial.id}"] = _alert_values(
            claim,
            denial.appeal_deadline_on,
            today,
            f"Appeal by {denial.appeal_deadline_on:%m/%d/%Y}: "
            f"{denial.group_code}-{denial.carc} on claim {claim.number}",
            f"{adjustment_reasons.DenialCategory(denial.category).label} denial of "
            f"{format_cents(denial.amount_cents)}; start the appeal from /appeals.",
        )
    drafts = db.execute(
        select(m.Appeal, m.Claim)
        .join(m.Claim, m.Claim.id == m.Appeal.claim_id)
        .where(m.Appeal.practice_id == practice_id, m.Appeal.status == str(AppealStatus.DRAFT))
    ).all()
    for appeal, claim in drafts:
        if appeal.deadline_on is None:
            continue
        wanted[f"{APPEAL_KIND}:draft:{appeal.id}"] = _alert_values(
            claim,
            appeal.deadline_on,
            today,
            f"Submit appeal {appeal.id} by {appeal.deadline_on:%m/%d/%Y}: claim {claim.number}",
            f"{rules.LEVELS[appeal.level]} drafted, not yet sent; /appeals/{appeal.id}",
        )
    return wanted


def _alert_values(
    claim: m.Claim, deadline_on: date, today: date, title: str, detail: str
) -> dict[str, object]:
    urgency = rules.urgency_of(deadline_on, today)
    return {
        "severity": rules.severity_of(urgency),
        "title": title[:200],
        "detail": detail,
        "due_on": deadline_on - timedelta(days=DUE_BEFORE_DAYS),
        "claim_id": claim.id,
        "client_id": claim.client_id,
        "payer_id": claim.payer_id,
    }


def raise_deadline_alerts(
    db: Session, *, practice_id: int, today: date, actor: Actor | None = None
) -> AlertRun:
    """One open work item per open denial to appeal and per draft appeal, due a week before
    its deadline (critical when overdue or within 7 days, warning within 30); the others
    resolved. Idempotent: a second run on the same day changes nothing."""
    actor = actor or system_actor("appeals")
    actor.require(practice_id, APPEAL)
    run = AlertRun(practice_id)
    wanted = _wanted_alerts(db, practice_id, today)
    existing = {
        item.dedupe_key or "": item
        for item in db.scalars(
            select(m.WorkItem).where(
                m.WorkItem.practice_id == practice_id,
                m.WorkItem.kind == APPEAL_KIND,
                m.WorkItem.dedupe_key.like(f"{APPEAL_KIND}:%"),
            )
        )
    }
    work_items.sync_items(
        db,
        practice_id=practice_id,
        existing=existing,
        wanted=wanted,
        compared=_COMPARED,
        resolution="appeal submitted or decided, or the denial resolved",
        actor=actor,
        counts=run,
        new_values={"kind": APPEAL_KIND, "rule": "appeal_deadline", "owner_role": "billing"},
    )
    work_items.audit_sync(
        db,
        actor=actor,
        practice_id=practice_id,
        entity="appeal_deadline_run",
        today=today,
        counts=run,
        reason=f"appeal deadline alerts for {today}",
    )
    return run


def raise_deadline_alerts_everywhere(
    db: Session, *, today: date, actor: Actor | None = None
) -> list[AlertRun]:
    """:func:`raise_deadline_alerts` for every practice (the daily job)."""
    practice_ids = list(db.scalars(select(m.Practice.id).order_by(m.Practice.id)))
    return [raise_deadline_alerts(db, practice_id=pid, today=today, actor=actor) for pid in practice_ids]


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverturnSummary:
    since: date
    total: OverturnTally
    by_payer: tuple[tuple[str, OverturnTally], ...]
    by_category: tuple[tuple[str, OverturnTally], ...]


def overturn_summary(db: Session, *, actor: Actor, practice_id: int, since: date) -> OverturnSummary:
    """The appeals decided since ``since``: in all, per payer and per denial category."""
    actor.require(practice_id, APPEAL)
    rows = db.execute(
        select(
            m.Appeal.status,
            m.Appeal.appealed_cents,
            m.Appeal.recovered_cents,
            m.Payer.name,
            m.Denial.category,
        )
        .join(m.Claim, m.Claim.id == m.Appeal.claim_id)
        .join(m.Payer, m.Payer.id == m.Claim.payer_id)
        .outerjoin(m.Denial, m.Denial.id == m.Appeal.denial_id)
        .where(
            m.Appeal.practice_id == practice_id,
            m.Appeal.status.in_([str(s) for s in rules.DECIDED]),
            m.Appeal.decided_on >= since,
        )
    ).all()
    by_payer: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    by_category: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for status, appealed, recovered, payer, category in rows:
        by_payer[payer].append((status, appealed, recovered))
        label = adjustment_reasons.DenialCategory(category).label if category else "Whole claim"
        by_category[label].append((status, appealed, recovered))
    return OverturnSummary(
        since=since,
        total=rules.tally((s, a, r) for s, a, r, _, _ in rows),
        by_payer=tuple((name, rules.tally(v)) for name, v in sorted(by_payer.items())),
        by_category=tuple((name, rules.tally(v)) for name, v in sorted(by_category.items())),
    )


@dataclass(frozen=True)
class DenialView:
    id: int
    claim_id: int
    claim_number: str
    client_id: int
    client_name: str
    payer_name: str
    code: str
    explanation: str
    category: str
    amount_cents: int
    deadline_on: date | None
    urgency: Urgency | None
    default_action: str
    action_label: str
    claim_status: str


@dataclass(frozen=True)
class AppealView:
    id: int
    claim_id: int
    claim_number: str
    client_id: int
    client_name: str
    payer_name: str
    denial_id: int | None
    denial_code: str
    level: int
    level_label: str
    status: str
    status_label: str
    appealed_cents: int
    recovered_cents: int
    deadline_on: date | None
    urgency: Urgency | None
    submitted_on: date | None
    decided_on: date | None
    argument: str
    enclosures: tuple[str, ...]
    template_id: int | None
    letter_file_id: int | None
    payer_reference: str
    outcome_note: str
    previous_appeal_id: int | None
    next_appeal_id: int | None
    next_level_refusal: str | None
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Overview:
    denials: tuple[DenialView, ...]
    appeals: dict[str, list[AppealView]] = field(default_factory=dict)
    tally: OverturnTally = field(default_factory=OverturnTally)
    since: date | None = None

    @property
    def client_ids(self) -> set[int]:
        ids = {d.client_id for d in self.denials}
        return ids | {a.client_id for group in self.appeals.values() for a in group}


def _appeal_views(db: Session, appeals: Sequence[m.Appeal], today: date) -> list[AppealView]:
    if not appeals:
        return []
    claims = {
        c.id: c for c in db.scalars(select(m.Claim).where(m.Claim.id.in_({a.claim_id for a in appeals})))
    }
    denial_ids = {a.denial_id for a in appeals if a.denial_id}
    denials = (
        {d.id: d for d in db.scalars(select(m.Denial).where(m.Denial.id.in_(denial_ids)))}
        if denial_ids
        else {}
    )
    nexts = dict(
        db.execute(
            select(m.Appeal.previous_appeal_id, m.Appeal.id).where(
                m.Appeal.previous_appeal_id.in_([a.id for a in appeals])
            )
        ).all()
    )
    views = []
    for a in appeals:
        claim = claims[a.claim_id]
        denial = denials.get(a.denial_id) if a.denial_id else None
        days = _appeal_days(db, claim)
        next_deadline = a.decided_on + timedelta(days=days) if a.decided_on else None
        status = AppealStatus(a.status)
        views.append(
            AppealView(
                id=a.id,
                claim_id=claim.id,
                claim_number=claim.number,
                client_id=claim.client_id,
                client_name=f"{claim.client.first_name} {claim.client.last_name}",
                payer_name=claim.payer.name,
                denial_id=a.denial_id,
                denial_code=f"{denial.group_code}-{denial.carc}" if denial else "",
                level=a.level,
                level_label=rules.LEVELS.get(a.level, str(a.level)),
                status=a.status,
                status_label=status.label,
                appealed_cents=a.appealed_cents,
                recovered_cents=a.recovered_cents,
                deadline_on=a.deadline_on,
                urgency=rules.urgency_of(a.deadline_on, today)
                if a.deadline_on and status in ACTIVE
                else None,
                submitted_on=a.submitted_on,
                decided_on=a.decided_on,
                argument=a.argument,
                enclosures=tuple(a.enclosures),
                template_id=a.template_id,
                letter_file_id=a.letter_file_id,
                payer_reference=a.payer_reference,
                outcome_note=a.outcome_note,
                previous_appeal_id=a.previous_appeal_id,
                next_appeal_id=nexts.get(a.id),
                next_level_refusal=None
                if a.id not in nexts
                and rules.next_level_refusal(status, a.level, next_deadline, today) is None
                else "no next level",
                actions=tuple(str(s) for s in rules.allowed_targets(status)),
            )
        )
    return views


def appeal_view(db: Session, *, actor: Actor, appeal_id: int, today: date) -> AppealView:
    return _appeal_views(db, [_appeal(db, actor, appeal_id)], today)[0]


def list_appeals(
    db: Session, *, actor: Actor, practice_id: int, today: date, status: str = "", limit: int = 200
) -> list[AppealView]:
    actor.require(practice_id, APPEAL)
    query = select(m.Appeal).where(m.Appeal.practice_id == practice_id)
    if status:
        if status not in {str(s) for s in AppealStatus}:
            raise InvalidInput(f"status: {status!r} is not an appeal status")
        query = query.where(m.Appeal.status == status)
    rows = list(db.scalars(query.order_by(m.Appeal.deadline_on, m.Appeal.id.desc()).limit(limit)))
    return _appeal_views(db, rows, today)


def open_denials(
    db: Session, *, actor: Actor, practice_id: int, today: date, limit: int = 200
) -> list[DenialView]:
    """Open denials of claims still denied or partially paid, nearest deadline first."""
    actor.require(practice_id, APPEAL)
    rows = db.execute(
        select(m.Denial, m.Claim)
        .join(m.Claim, m.Claim.id == m.Denial.claim_id)
        .where(
            m.Denial.practice_id == practice_id,
            m.Denial.resolution == "open",
            m.Claim.status.in_([str(ClaimStatus.DENIED), str(ClaimStatus.PARTIALLY_PAID)]),
        )
        .order_by(m.Denial.appeal_deadline_on, m.Denial.id)
        .limit(limit)
    ).all()
    views = []
    for denial, claim in rows:
        action = adjustment_reasons.DefaultAction(denial.default_action or "none")
        views.append(
            DenialView(
                id=denial.id,
                claim_id=claim.id,
                claim_number=claim.number,
                client_id=claim.client_id,
                client_name=f"{claim.client.first_name} {claim.client.last_name}",
                payer_name=claim.payer.name,
                code=f"{denial.group_code}-{denial.carc}" + (f" ({denial.rarc})" if denial.rarc else ""),
                explanation=adjustment_reasons.reason_info(denial.carc).explanation,
                category=adjustment_reasons.DenialCategory(denial.category).label,
                amount_cents=denial.amount_cents,
                deadline_on=denial.appeal_deadline_on,
                urgency=rules.urgency_of(denial.appeal_deadline_on, today)
                if denial.appeal_deadline_on
                else None,
                default_action=str(action),
                action_label=action.label,
                claim_status=claim.status,
            )
        )
    return views


def appeals_overview(db: Session, *, actor: Actor, practice_id: int, today: date) -> Overview:
    """The page's picture: open denials, appeals by status, the last 12 months' overturn rate."""
    since = today - timedelta(days=365)
    grouped: dict[str, list[AppealView]] = {str(s): [] for s in AppealStatus}
    for view in list_appeals(db, actor=actor, practice_id=practice_id, today=today):
        grouped[view.status].append(view)
    summary = overturn_summary(db, actor=actor, practice_id=practice_id, since=since)
    return Overview(
        denials=tuple(open_denials(db, actor=actor, practice_id=practice_id, today=today)),
        appeals=grouped,
        tally=summary.total,
        since=since,
    )


@dataclass(frozen=True)
class ClaimDenialView:
    """One denial as the claim page shows it, with what may be done about it now."""

    id: int
    code: str  # "CO-50"
    remarks: tuple[tuple[str, str], ...]  # (RARC, what it means)
    explanation: str
    category: str
    amount_cents: int
    default_action: str
    action_label: str
    deadline_on: date | None
    urgency: Urgency | None  # only while the denial is open
    resolution: str
    appeal_in_progress_id: int | None
    can_start_appeal: bool
    start_label: str  # "First-level appeal", or the next level after a lost one
    previous_appeal_id: int | None  # the lost appeal a next level follows
    can_correct: bool
    correct_blocker: str  # why a fixable open denial cannot be corrected yet, else ""


@dataclass(frozen=True)
class ClaimAppeals:
    """A claim's denials and appeals (the claim page's section); false when it has neither."""

    denials: tuple[ClaimDenialView, ...]
    appeals: tuple[AppealView, ...]

    def __bool__(self) -> bool:
        return bool(self.denials or self.appeals)


def claim_denials_and_appeals(db: Session, *, actor: Actor, claim_id: int, today: date) -> ClaimAppeals:
    """The claim's denials (oldest first) with the actions open to each, and its appeals.

    An open denial may be appealed when no appeal of it (or of the whole claim) is in
    progress and the claim is denied or partially paid; after a lost appeal the next level
    follows it, and once no next level may follow, none is offered. A fixable open denial
    may be sent corrected once the payer's claim number is known."""
    claim = _claim(db, actor, claim_id)
    denials = list(db.scalars(select(m.Denial).where(m.Denial.claim_id == claim.id).order_by(m.Denial.id)))
    rows = list(db.scalars(select(m.Appeal).where(m.Appeal.claim_id == claim.id).order_by(m.Appeal.id)))
    appeals = _appeal_views(db, rows, today)
    appealable = ClaimStatus(claim.status) in APPEALABLE_CLAIMS
    return ClaimAppeals(
        denials=tuple(_claim_denial_view(d, claim, appeals, appealable, today) for d in denials),
        appeals=tuple(appeals),
    )


def _claim_denial_view(
    denial: m.Denial, claim: m.Claim, appeals: Sequence[AppealView], appealable: bool, today: date
) -> ClaimDenialView:
    action = adjustment_reasons.DefaultAction(denial.default_action or "none")
    is_open = denial.resolution == "open"
    covering = [a for a in appeals if a.denial_id in (denial.id, None)]
    in_progress = next((a.id for a in covering if AppealStatus(a.status) in ACTIVE), None)
    last = next((a for a in reversed(covering) if a.status != AppealStatus.WITHDRAWN), None)
    follows = last if last is not None and last.status == AppealStatus.LOST else None
    fixable = is_open and action is adjustment_reasons.DefaultAction.FIX_AND_RESUBMIT
    blocker = "" if claim.payer_claim_control_number else "the payer's claim number is not known yet"
    return ClaimDenialView(
        id=denial.id,
        code=f"{denial.group_code}-{denial.carc}",
        remarks=tuple(
            (code, adjustment_reasons.remark_info(code).explanation)
            for code in (part.strip() for part in denial.rarc.split(","))
            if code
        ),
        explanation=adjustment_reasons.reason_info(denial.carc).explanation,
        category=adjustment_reasons.DenialCategory(denial.category).label,
        amount_cents=denial.amount_cents,
        default_action=str(action),
        action_label=action.label,
        deadline_on=denial.appeal_deadline_on,
        urgency=rules.urgency_of(denial.appeal_deadline_on, today)
        if is_open and denial.appeal_deadline_on
        else None,
        resolution=denial.resolution,
        appeal_in_progress_id=in_progress,
        can_start_appeal=is_open
        and appealable
        and in_progress is None
        and (follows is None or follows.next_level_refusal is None),
        start_label=rules.LEVELS.get(follows.level + 1 if follows else 1, "Appeal"),
        previous_appeal_id=follows.id if follows is not None else None,
        can_correct=fixable and not blocker,
        correct_blocker=blocker if fixable else "",
    )


def letter_pdf(db: Session, *, actor: Actor, appeal_id: int) -> tuple[str, bytes]:
    """The appeal's latest printed letter: file name and bytes."""
    appeal = _appeal(db, actor, appeal_id)
    if appeal.letter_file_id is None:
        raise NotFound(f"appeal {appeal.id} has no letter yet")
    stored = db.get_one(m.StoredFile, appeal.letter_file_id)
    return stored.filename, stored.content


# --- the demo ------------------------------------------------------------------------------


def seed_demo_appeals(db: Session, *, actor: Actor, practice_id: int, today: date) -> dict[str, int]:
    """On the demo's posted denials not yet worked: appeals decided in the past (won, won,
    lost, won, partially won, lost: a real overturn rate), the first lost one taken to level 2
    as a draft, two drafts on the denials nearest their deadline, and one corrected claim for
    a fixable denial. Fewer when the demo is small. Returns what it made. Once only: a
    practice with a draft appeal already is left as it is."""
    counts = {"won": 0, "partially_won": 0, "lost": 0, "drafts": 0, "next_level": 0, "corrected": 0}
    drafted = select(m.Appeal.id).where(m.Appeal.practice_id == practice_id, m.Appeal.status == "draft")
    if db.scalar(drafted.limit(1)) is not None:
        return counts
    denials = _demo_denials(db, practice_id, DefaultAction.APPEAL)
    upcoming = sorted((d for d in denials if (d.appeal_deadline_on or today) >= today), key=_deadline)
    drafts = upcoming[: min(2, len(denials) // 2)]
    # The newest denials old enough to have been appealed and decided (a month or so each),
    # so a lost one can still go to the next level.
    decided = [d for d in denials if d not in drafts and _denied_on(db, d) + timedelta(days=40) < today][-6:]
    for outcome, denial in zip(("won", "won", "lost", "won", "partially_won", "lost"), decided, strict=False):
        appeal = _demo_decided(db, actor, denial, outcome, today)
        if appeal is None:
            continue
        counts[outcome] += 1
        if outcome == "lost" and not counts["next_level"]:
            try:  # refused before anything is written when the next level's deadline has passed
                start_appeal(
                    db, actor=actor, claim_id=denial.claim_id, previous_appeal_id=appeal.id, today=today
                )
            except InvalidInput:
                continue
            counts["next_level"] += 1
    for denial in drafts:
        appeal = start_appeal(db, actor=actor, claim_id=denial.claim_id, denial_id=denial.id, today=today)
        update_draft(db, actor=actor, appeal_id=appeal.id, today=today, argument=_DEMO_ARGUMENT)
        counts["drafts"] += 1
    fixable = [d for d in _demo_denials(db, practice_id, DefaultAction.FIX_AND_RESUBMIT) if d.claim_id]
    for denial in fixable[:1]:
        send_corrected_claim(db, actor=actor, denial_id=denial.id, reason="diagnosis pointer corrected")
        counts["corrected"] += 1
    raise_deadline_alerts(db, practice_id=practice_id, today=today, actor=actor)
    return counts


_DEMO_ARGUMENT = (
    "The progress notes document the symptoms, the interventions and the client's response at "
    "each session, under a current treatment plan signed by the client."
)
_DEMO_NOTES = {
    "won": "Overturned on review of the records.",
    "partially_won": "Paid at the reduced rate for the add-on code.",
    "lost": "Upheld: documentation judged insufficient.",
}


def _deadline(denial: m.Denial) -> date:
    return denial.appeal_deadline_on or date.max


def _denied_on(db: Session, denial: m.Denial) -> date:
    """The remittance's date: the deadline less the payer's appeal limit."""
    return _deadline(denial) - timedelta(days=_appeal_days(db, db.get_one(m.Claim, denial.claim_id)))


def _demo_denials(db: Session, practice_id: int, action: DefaultAction) -> list[m.Denial]:
    """Open denials of denied or partially paid claims with no appeal yet, one per claim,
    oldest first (a fixable one needs the payer's claim number)."""
    query = (
        select(m.Denial)
        .join(m.Claim, m.Claim.id == m.Denial.claim_id)
        .where(
            m.Denial.practice_id == practice_id,
            m.Denial.resolution == "open",
            m.Denial.default_action == str(action),
            m.Claim.status.in_([str(ClaimStatus.DENIED), str(ClaimStatus.PARTIALLY_PAID)]),
            ~select(m.Appeal.id).where(m.Appeal.claim_id == m.Denial.claim_id).exists(),
        )
        .order_by(m.Denial.created_at, m.Denial.id)
    )
    if action is DefaultAction.FIX_AND_RESUBMIT:
        query = query.where(m.Claim.payer_claim_control_number != "")
    found: dict[int, m.Denial] = {}
    for denial in db.scalars(query):
        found.setdefault(denial.claim_id, denial)
    return list(found.values())


def _demo_decided(db: Session, actor: Actor, denial: m.Denial, outcome: str, today: date) -> m.Appeal | None:
    """An appeal sent a few days after the denial arrived and decided about a month later
    (before ``today``); None when the denial is too recent to have been decided."""
    claim = db.get_one(m.Claim, denial.claim_id)
    submitted_on = _denied_on(db, denial) + timedelta(days=6)
    decided_on = min(submitted_on + timedelta(days=32), today - timedelta(days=1))
    if decided_on <= submitted_on:
        return None
    appeal = start_appeal(db, actor=actor, claim_id=claim.id, denial_id=denial.id, today=submitted_on)
    update_draft(db, actor=actor, appeal_id=appeal.id, today=submitted_on, argument=_DEMO_ARGUMENT)
    submit_appeal(db, actor=actor, appeal_id=appeal.id, submitted_on=submitted_on)
    recovered = appeal.appealed_cents * 6 // 10 if outcome == "partially_won" else None
    record_outcome(
        db,
        actor=actor,
        appeal_id=appeal.id,
        outcome=outcome,
        decided_on=decided_on,
        recovered_cents=recovered,
        note=_DEMO_NOTES[outcome],
    )
    return appeal
