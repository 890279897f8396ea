"""Charges entered and corrected by hand: a session's billable lines.

A charge is a procedure (CPT or HCPCS: five digits, four digits and F/T/U, or a letter A-V and
four digits), up to four two-character modifiers, units (at least one) or, for a time-based
code, the minutes the scrubber weighs against the code's band, a fee, and the diagnoses it
treats (ICD-10-CM, at most twelve on the claim) with one to four pointers into them. The
fee defaults from the practice's fee schedules (:mod:`revcycle.services.fees`); a fee typed
in overrides it; without either the charge is refused, naming the fee. A well-formed code
outside the shipped behavioral-health list is accepted with a warning (a typo is likelier
than a new service, but both happen).

A charge may change only while its session has no claim, or only a draft or ready one. The
claim is then rebuilt from the charges — lines, diagnoses and renumbered pointers, billed
total; same claim, same number — and scrubbed again: a ready claim that no longer scrubs
clean goes back to draft, a draft one that now does moves to ready, and a claim left with no
line is voided. Once a claim was submitted the charge is history: the correction is a
replacement claim (frequency 7).

Money. Charges reach the ledger when something posts them (today the demo posts each
session's charges on its date of service; building a claim posts nothing). Entering or
correcting a charge by hand follows the books: a charge whose session is on the ledger posts
too; a posted charge whose fee changes gets the exact negation of what it posted and a new
charge transaction at the new fee (never an edited posting); a posted charge cannot be
removed — the ledger's history names it — so it must be corrected instead.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revcycle.db import models as m
from revcycle.domain.claim_status import ClaimStatus, EventSource
from revcycle.domain.ledger import Account, PostingLine, negate
from revcycle.domain.ledger_events import (
    ChargeRef,
    InsuranceRef,
    TransactionKind,
    charge_to_insurance,
    charge_to_patient,
)
from revcycle.domain.permissions import Permission
from revcycle.domain.problems import Problem, Severity
from revcycle.domain.scrubber import TIME_BANDS
from revcycle.domain.scrubber.icd10 import icd10_code_is_well_formed, normalize_icd10
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.money import format_cents
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.claims import transition_claim
from revcycle.services.claims_pipeline.building import claim_diagnoses, claim_lines
from revcycle.services.claims_pipeline.pointers import encode_pointers
from revcycle.services.claims_pipeline.scrubbing import ScrubState, practice_today, run_scrub
from revcycle.services.fees import FeeQuote, default_fee, join_modifiers
from revcycle.services.ledger import post_transaction

__all__ = [
    "ChargeInput",
    "ChargeResult",
    "add_charge",
    "known_procedure_codes",
    "list_charges",
    "load_session_for_charges",
    "parse_pointers",
    "remove_charge",
    "update_charge",
]

MAX_MODIFIERS = 4
MAX_POINTERS = 4
MAX_DIAGNOSES = 12
MAX_UNITS = 999
MAX_MINUTES = 24 * 60
PROCEDURE = re.compile(r"\d{5}|\d{4}[FTU]|[A-V]\d{4}")
MODIFIER = re.compile(r"[0-9A-Z]{2}")
# Claims whose charges may still change; a void claim no longer holds its charges.
OPEN_FOR_CHANGE = frozenset({ClaimStatus.DRAFT.value, ClaimStatus.READY.value})


@dataclass(frozen=True)
class ChargeInput:
    """What a person types for one charge (strings as typed; checked by :func:`_checked`)."""

    procedure_code: str
    modifiers: Sequence[str] = ()
    units: int | None = None
    minutes: int | None = None
    fee_cents: int | None = None  # None: the fee schedule's
    diagnosis_codes: Sequence[str] = ()
    diagnosis_pointers: Sequence[int] = (1,)


@dataclass(frozen=True)
class _Checked:
    procedure_code: str
    modifiers: str
    units: int
    minutes: int | None
    diagnosis_codes: list[str]
    pointers: str
    warnings: list[Problem]


@dataclass
class ChargeResult:
    """A charge after a change, what the change found, and the claim it rebuilt (if any)."""

    charge: m.Charge | None
    warnings: list[Problem] = field(default_factory=list)
    fee: FeeQuote | None = None
    claim: m.Claim | None = None
    scrub: ScrubState | None = None
    ledger_transaction_ids: list[int] = field(default_factory=list)


@cache
def known_procedure_codes() -> frozenset[str]:
    """The behavioral-health procedure codes the project ships (codesets/cpt_behavioral_health)."""
    source = resources.files("revcycle.codesets").joinpath("cpt_behavioral_health/bh_procedure_codes.tsv")
    with source.open(encoding="utf-8") as handle:
        return frozenset(row["code"].strip().upper() for row in csv.DictReader(handle, delimiter="\t"))


# --- reading -------------------------------------------------------------------------------------


def load_session_for_charges(
    session: Session, *, actor: Actor, session_id: int, permission: Permission = Permission.ENTER_CHARGES
) -> m.ServiceSession:
    """The session, if the actor's practice holds it and the actor may enter charges."""
    row = session.get(m.ServiceSession, session_id)
    if row is None or not (actor.is_system or row.practice_id in actor.practice_ids):
        raise NotFound(f"session {session_id} not found")
    actor.require(row.practice_id, permission)
    return row


def list_charges(session: Session, session_id: int) -> list[m.Charge]:
    return list(
        session.scalars(select(m.Charge).where(m.Charge.session_id == session_id).order_by(m.Charge.id))
    )


def _load_charge(session: Session, actor: Actor, charge_id: int) -> tuple[m.Charge, m.ServiceSession]:
    charge = session.get(m.Charge, charge_id)
    if charge is None or not (actor.is_system or charge.practice_id in actor.practice_ids):
        raise NotFound(f"charge {charge_id} not found")
    actor.require(charge.practice_id, Permission.ENTER_CHARGES)
    return charge, session.get_one(m.ServiceSession, charge.session_id)


# --- checking what was typed ---------------------------------------------------------------------


def _checked(entry: ChargeInput) -> _Checked:
    """The entry normalised, or InvalidInput naming every bad field."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    code = (entry.procedure_code or "").strip().upper()
    if not PROCEDURE.fullmatch(code):
        problems.append(
            _error(
                "procedure_code",
                f"{code or 'blank'} is not a CPT or HCPCS code (five digits, four digits and F/T/U, "
                "or a letter A-V and four digits)",
            )
        )
    elif code not in known_procedure_codes():
        warnings.append(
            Problem(
                "charge.procedure_code.unknown",
                "procedure_code",
                f"{code} is not among the behavioral-health codes we know; check it",
                Severity.WARNING,
            )
        )
    modifiers = [mod.strip().upper() for mod in entry.modifiers if mod and mod.strip()]
    if len(modifiers) > MAX_MODIFIERS:
        problems.append(_error("modifiers", f"at most {MAX_MODIFIERS} modifiers, got {len(modifiers)}"))
    problems += [
        _error("modifiers", f"{mod!r} is not a modifier (two letters or digits)")
        for mod in modifiers
        if not MODIFIER.fullmatch(mod)
    ]
    if len(set(modifiers)) != len(modifiers):
        problems.append(_error("modifiers", "a modifier is repeated"))
    units = 1 if entry.units is None else entry.units
    if not 1 <= units <= MAX_UNITS:
        problems.append(_error("units", f"must be 1 to {MAX_UNITS}, got {units}"))
    if entry.minutes is not None and not 1 <= entry.minutes <= MAX_MINUTES:
        problems.append(_error("minutes", f"must be 1 to {MAX_MINUTES}, got {entry.minutes}"))
    if code in TIME_BANDS and entry.minutes is None:
        warnings.append(
            Problem(
                "charge.minutes.missing",
                "minutes",
                f"{code} is time-based: enter the minutes (else the session's length is used)",
                Severity.WARNING,
            )
        )
    if entry.fee_cents is not None and entry.fee_cents <= 0:
        problems.append(_error("fee", f"must be more than $0.00, got {format_cents(entry.fee_cents)}"))
    diagnoses, diagnosis_problems = _diagnoses(entry.diagnosis_codes)
    problems += diagnosis_problems
    pointers, pointer_problems = _pointers(entry.diagnosis_pointers, len(diagnoses))
    problems += pointer_problems
    if problems:
        raise InvalidInput("; ".join(f"{p.where}: {p.message}" for p in problems), problems)
    return _Checked(code, join_modifiers(modifiers), units, entry.minutes, diagnoses, pointers, warnings)


def _error(where: str, message: str) -> Problem:
    return Problem(f"charge.{where}.invalid", where, message, Severity.ERROR)


def _dotted(code: str) -> str:
    bare = normalize_icd10(code)
    return f"{bare[:3]}.{bare[3:]}" if len(bare) > 3 else bare


def _diagnoses(codes: Sequence[str]) -> tuple[list[str], list[Problem]]:
    problems: list[Problem] = []
    found: list[str] = []
    for text in codes:
        if not text or not text.strip():
            continue
        if not icd10_code_is_well_formed(text):
            problems.append(_error("diagnosis_codes", f"{text.strip()!r} is not an ICD-10-CM code"))
            continue
        dotted = _dotted(text)
        if dotted in found:
            problems.append(_error("diagnosis_codes", f"{dotted} is listed twice"))
        found.append(dotted)
    if not found and not problems:
        problems.append(_error("diagnosis_codes", "enter at least one diagnosis (ICD-10-CM)"))
    if len(found) > MAX_DIAGNOSES:
        problems.append(_error("diagnosis_codes", f"at most {MAX_DIAGNOSES} diagnoses, got {len(found)}"))
    return found, problems


def _pointers(pointers: Sequence[int], diagnoses: int) -> tuple[str, list[Problem]]:
    chosen = list(pointers)
    problems: list[Problem] = []
    if not 1 <= len(chosen) <= MAX_POINTERS:
        problems.append(
            _error("diagnosis_pointers", f"point at 1 to {MAX_POINTERS} diagnoses, got {len(chosen)}")
        )
    if len(set(chosen)) != len(chosen):
        problems.append(_error("diagnosis_pointers", "a diagnosis is pointed at twice"))
    problems += [
        _error("diagnosis_pointers", f"{p} does not point at a diagnosis (there are {diagnoses})")
        for p in chosen
        if diagnoses and not 1 <= p <= diagnoses
    ]
    return encode_pointers(chosen), problems


def parse_pointers(text: str) -> list[int]:
    """``"1, 2"`` (as a form or the CLI types them) as pointers; anything else is refused."""
    parts = [part for part in re.split(r"[\s,;]+", text.strip()) if part]
    try:
        return [int(part) for part in parts]
    except ValueError:
        raise InvalidInput(f"diagnosis_pointers: {text!r} is not a list of numbers such as 1, 2") from None


# --- the claim a change touches ------------------------------------------------------------------


def _live_claims(session: Session, session_id: int) -> list[m.Claim]:
    """The session's claims that are not void."""
    claim_ids = (
        select(m.ClaimLine.claim_id)
        .join(m.Charge, m.Charge.id == m.ClaimLine.charge_id)
        .where(m.Charge.session_id == session_id)
    )
    return list(
        session.scalars(
            select(m.Claim)
            .where(m.Claim.id.in_(claim_ids), m.Claim.status != ClaimStatus.VOID.value)
            .order_by(m.Claim.id)
        )
    )


def _open_claim(session: Session, service: m.ServiceSession) -> m.Claim | None:
    """The session's draft or ready claim, or None; refused once a claim was submitted."""
    claims = _live_claims(session, service.id)
    for claim in claims:
        if claim.status not in OPEN_FOR_CHANGE:
            raise Conflict(
                f"claim {claim.number} was submitted: correct it with a replacement claim (frequency 7)"
            )
    return claims[0] if claims else None


def _rebuild_claim(
    session: Session, actor: Actor, claim: m.Claim, service: m.ServiceSession, *, today: date | None
) -> ScrubState | None:
    """Lines, diagnoses and billed total again from the charges; scrubbed; status follows."""
    session.flush()
    session_ids = set(
        session.scalars(
            select(m.Charge.session_id)
            .join(m.ClaimLine, m.ClaimLine.charge_id == m.Charge.id)
            .where(m.ClaimLine.claim_id == claim.id)
        )
    ) | {service.id}
    services = list(
        session.scalars(
            select(m.ServiceSession)
            .where(m.ServiceSession.id.in_(session_ids))
            .order_by(m.ServiceSession.starts_at, m.ServiceSession.id)
        )
    )
    order = {s.id: n for n, s in enumerate(services)}
    by_id = {s.id: s for s in services}
    charges = sorted(
        session.scalars(
            select(m.Charge).where(m.Charge.session_id.in_(session_ids), m.Charge.patient_only.is_(False))
        ),
        key=lambda c: (order[c.session_id], c.id),
    )
    before = {"billed_cents": claim.billed_cents, "lines": len(claim.lines)}
    _delete_lines(session, m.ClaimLine.claim_id == claim.id)
    session.expire(claim, ["lines"])
    if not charges:
        _move(session, actor, claim, ClaimStatus.VOID, "its charges were removed")
        return None
    pairs = [(charge, by_id[charge.session_id]) for charge in charges]
    diagnoses = claim_diagnoses(pairs)
    session.add_all(claim_lines(claim, pairs, diagnoses))
    claim.diagnosis_codes = diagnoses
    claim.billed_cents = sum(charge.fee_cents for charge in charges)
    session.flush()
    session.refresh(claim, ["lines"])
    audit.record(
        session,
        actor=actor,
        practice_id=claim.practice_id,
        action="update",
        entity="claim",
        entity_id=claim.id,
        client_ids=[claim.client_id],
        before=before,
        after={"billed_cents": claim.billed_cents, "lines": len(charges)},
        reason="rebuilt from its charges after a charge was changed by hand",
    )
    state = run_scrub(session, actor=actor, claim=claim, today=today)
    if claim.status == ClaimStatus.READY.value and not state.is_clean:
        _move(session, actor, claim, ClaimStatus.DRAFT, "a charge changed and the scrub found problems")
    elif claim.status == ClaimStatus.DRAFT.value and state.is_clean:
        _move(session, actor, claim, ClaimStatus.READY, "scrubbed clean after a charge was changed")
    return state


def _delete_lines(session: Session, condition: Any) -> None:
    """Claim lines deleted through the ORM and flushed before any new line is added (a bulk
    DELETE would leave them in the identity map, where SQLite's reused ids collide)."""
    for line in session.scalars(select(m.ClaimLine).where(condition)):
        session.delete(line)
    session.flush()


def _move(session: Session, actor: Actor, claim: m.Claim, target: ClaimStatus, detail: str) -> None:
    """Move the claim rebuilt from its charges, as the system or the user changing them."""
    source = EventSource.SYSTEM if actor.is_system else EventSource.USER
    transition_claim(session, actor=actor, claim_id=claim.id, target=target, source=source, detail=detail)


def _claim_diagnoses_fit(
    session: Session, service: m.ServiceSession, charge_id: int | None, codes: list[str]
) -> None:
    """The claim holds at most twelve diagnoses: the session's charges together must fit."""
    together = list(codes)
    for other in list_charges(session, service.id):
        if other.id == charge_id or other.patient_only:
            continue
        together += [str(code).strip().upper() for code in other.diagnosis_codes]
    distinct = list(dict.fromkeys(code for code in together if code))
    if len(distinct) > MAX_DIAGNOSES:
        raise InvalidInput(
            f"diagnosis_codes: the session's charges would name {len(distinct)} diagnoses; "
            f"a claim holds at most {MAX_DIAGNOSES}"
        )


# --- the ledger ------------------------------------------------------------------------------------


def _posted_lines(session: Session, charge_ids: Sequence[int]) -> list[PostingLine]:
    """What charge transactions put on the books for these charges, netted per account and ids."""
    if not charge_ids:
        return []
    totals: dict[tuple[Any, ...], int] = defaultdict(int)
    rows = session.execute(
        select(m.Posting)
        .join(m.LedgerTransaction, m.LedgerTransaction.id == m.Posting.transaction_id)
        .where(
            m.Posting.charge_id.in_(list(charge_ids)),
            m.LedgerTransaction.kind == TransactionKind.CHARGE.value,
        )
        .order_by(m.Posting.id)
    ).scalars()
    for p in rows:
        key = (p.account, p.charge_id, p.claim_id, p.client_id, p.coverage_id, p.guarantor_id, p.payer_id)
        totals[key] += p.amount_cents
    return [
        PostingLine(
            account=Account(account),
            amount_cents=cents,
            charge_id=charge_id,
            claim_id=claim_id,
            client_id=client_id,
            coverage_id=coverage_id,
            guarantor_id=guarantor_id,
            payer_id=payer_id,
        )
        for (
            account,
            charge_id,
            claim_id,
            client_id,
            coverage_id,
            guarantor_id,
            payer_id,
        ), cents in totals.items()
        if cents
    ]


def _new_charge_lines(
    amount_cents: int, ref: ChargeRef, posted: Sequence[PostingLine]
) -> tuple[PostingLine, ...]:
    """The charge at ``amount_cents``, owed by whoever owed the posted one."""
    for line in posted:
        if line.account is Account.AR_INSURANCE and line.coverage_id and line.payer_id:
            return charge_to_insurance(amount_cents, ref, InsuranceRef(line.coverage_id, line.payer_id))
        if line.account is Account.AR_PATIENT and line.guarantor_id:
            return charge_to_patient(amount_cents, ref, line.guarantor_id)
    return ()


def _post(session: Session, actor: Actor, practice_id: int, lines: Sequence[PostingLine], memo: str) -> int:
    txn = post_transaction(
        session,
        actor=actor,
        practice_id=practice_id,
        kind=TransactionKind.CHARGE,
        accounting_on=practice_today(session, practice_id),
        lines=lines,
        memo=memo,
    )
    return txn.id


def _post_new_charge(
    session: Session, actor: Actor, charge: m.Charge, service: m.ServiceSession
) -> list[int]:
    """A new charge of a session whose charges are on the books goes on the books too."""
    others = [c.id for c in list_charges(session, service.id) if c.id != charge.id]
    posted = _posted_lines(session, others)
    ref = ChargeRef(charge.id, service.client_id, _claim_id_of(posted))
    lines = _new_charge_lines(charge.fee_cents, ref, posted)
    if not lines:
        return []
    return [
        _post(session, actor, charge.practice_id, lines, f"charge {charge.procedure_code} entered by hand")
    ]


def _repost_charge(
    session: Session, actor: Actor, charge: m.Charge, service: m.ServiceSession, old_fee_cents: int
) -> list[int]:
    """A posted charge whose fee changed: the exact negation of what it posted, then the new fee."""
    posted = _posted_lines(session, [charge.id])
    if not posted or charge.fee_cents == old_fee_cents:
        return []
    ref = ChargeRef(charge.id, service.client_id, _claim_id_of(posted))
    new_lines = _new_charge_lines(charge.fee_cents, ref, posted)
    change = f"{format_cents(old_fee_cents)} -> {format_cents(charge.fee_cents)}"
    reversal = _post(
        session,
        actor,
        charge.practice_id,
        negate(posted),
        f"charge {charge.id} corrected ({change}): reversal",
    )
    return [
        reversal,
        _post(session, actor, charge.practice_id, new_lines, f"charge {charge.id} corrected ({change})"),
    ]


def _claim_id_of(posted: Sequence[PostingLine]) -> int | None:
    return next((line.claim_id for line in posted if line.claim_id), None)


# --- the three changes -----------------------------------------------------------------------------


def _fee(
    session: Session, service: m.ServiceSession, checked: _Checked, fee_cents: int | None
) -> tuple[int, FeeQuote | None]:
    quote = default_fee(
        session,
        practice_id=service.practice_id,
        procedure_code=checked.procedure_code,
        modifiers=checked.modifiers,
        service_on=service.service_on,
        client_id=service.client_id,
        units=checked.units,
    )
    if fee_cents is not None:
        return fee_cents, quote
    if quote is None:
        raise InvalidInput(
            f"fee: no fee schedule in force on {service.service_on} prices {checked.procedure_code}"
            f"{' ' + checked.modifiers if checked.modifiers else ''}; enter the fee"
        )
    return quote.amount_cents, quote


def _refuse_duplicate(
    session: Session, service: m.ServiceSession, checked: _Checked, charge_id: int | None
) -> None:
    for other in list_charges(session, service.id):
        if other.id != charge_id and (other.procedure_code, other.modifiers) == (
            checked.procedure_code,
            checked.modifiers,
        ):
            shown = f"{checked.procedure_code}{' ' + checked.modifiers if checked.modifiers else ''}"
            raise Conflict(f"the session already has a charge {shown} (charge {other.id}): edit that one")


def _snapshot(charge: m.Charge) -> dict[str, Any]:
    return {
        "procedure_code": charge.procedure_code,
        "modifiers": charge.modifiers,
        "units": charge.units,
        "minutes": charge.minutes,
        "fee_cents": charge.fee_cents,
        "diagnosis_codes": list(charge.diagnosis_codes),
        "diagnosis_pointers": charge.diagnosis_pointers,
    }


def add_charge(
    session: Session, *, actor: Actor, session_id: int, entry: ChargeInput, today: date | None = None
) -> ChargeResult:
    """A new charge on the session; its draft or ready claim is rebuilt and scrubbed."""
    service = load_session_for_charges(session, actor=actor, session_id=session_id)
    claim = _open_claim(session, service)
    checked = _checked(entry)
    _refuse_duplicate(session, service, checked, None)
    _claim_diagnoses_fit(session, service, None, checked.diagnosis_codes)
    fee_cents, quote = _fee(session, service, checked, entry.fee_cents)
    charge = m.Charge(
        practice_id=service.practice_id,
        session_id=service.id,
        procedure_code=checked.procedure_code,
        modifiers=checked.modifiers,
        units=checked.units,
        minutes=checked.minutes,
        fee_cents=fee_cents,
        diagnosis_codes=checked.diagnosis_codes,
        diagnosis_pointers=checked.pointers,
        source_snapshot={"entered_by_hand": True},
    )
    session.add(charge)
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=service.practice_id,
        action="create",
        entity="charge",
        entity_id=charge.id,
        client_ids=[service.client_id],
        after={**_snapshot(charge), "session_id": service.id, "fee_from_schedule": entry.fee_cents is None},
    )
    result = ChargeResult(charge, checked.warnings, quote, claim)
    result.ledger_transaction_ids = _post_new_charge(session, actor, charge, service)
    if claim is not None:
        result.scrub = _rebuild_claim(session, actor, claim, service, today=today)
    return result


def update_charge(
    session: Session, *, actor: Actor, charge_id: int, entry: ChargeInput, today: date | None = None
) -> ChargeResult:
    """Correct a charge (every field as typed again; a blank fee means the schedule's)."""
    charge, service = _load_charge(session, actor, charge_id)
    claim = _open_claim(session, service)
    checked = _checked(entry)
    _refuse_duplicate(session, service, checked, charge.id)
    _claim_diagnoses_fit(session, service, charge.id, checked.diagnosis_codes)
    fee_cents, quote = _fee(session, service, checked, entry.fee_cents)
    before = _snapshot(charge)
    charge.procedure_code, charge.modifiers = checked.procedure_code, checked.modifiers
    charge.units, charge.minutes, charge.fee_cents = checked.units, checked.minutes, fee_cents
    charge.diagnosis_codes, charge.diagnosis_pointers = checked.diagnosis_codes, checked.pointers
    session.flush()
    after = _snapshot(charge)
    changed = {key for key in after if after[key] != before[key]}
    result = ChargeResult(charge, checked.warnings, quote, claim)
    if not changed:
        return result
    audit.record(
        session,
        actor=actor,
        practice_id=charge.practice_id,
        action="update",
        entity="charge",
        entity_id=charge.id,
        client_ids=[service.client_id],
        before={key: before[key] for key in sorted(changed)},
        after={key: after[key] for key in sorted(changed)},
    )
    result.ledger_transaction_ids = _repost_charge(session, actor, charge, service, before["fee_cents"])
    if claim is not None:
        result.scrub = _rebuild_claim(session, actor, claim, service, today=today)
    return result


def remove_charge(
    session: Session, *, actor: Actor, charge_id: int, today: date | None = None
) -> ChargeResult:
    """Remove a charge never posted to the ledger; its claim is rebuilt (voided if emptied)."""
    charge, service = _load_charge(session, actor, charge_id)
    claim = _open_claim(session, service)
    if _posted_lines(session, [charge.id]) or session.scalar(
        select(m.Posting.id).where(m.Posting.charge_id == charge.id).limit(1)
    ):
        raise Conflict(
            f"charge {charge.id} ({charge.procedure_code}) is on the ledger: correct it instead of "
            "removing it (the books keep its history)"
        )
    before = _snapshot(charge)
    _delete_lines(session, m.ClaimLine.charge_id == charge.id)
    session.delete(charge)
    session.flush()
    session.expire(service, ["charges"])
    audit.record(
        session,
        actor=actor,
        practice_id=service.practice_id,
        action="delete",
        entity="charge",
        entity_id=charge_id,
        client_ids=[service.client_id],
        before={**before, "session_id": service.id},
    )
    result = ChargeResult(None, [], None, claim)
    if claim is not None:
        result.scrub = _rebuild_claim(session, actor, claim, service, today=today)
    return result
