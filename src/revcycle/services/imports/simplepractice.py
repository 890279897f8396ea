"""The SimplePractice appointment status export: sessions and their charges, matched.

A session is practice + client + clinician + date and time of service (the practice's local
time, stored as UTC ``starts_at``); each row's billing code is one of its charges, so an
add-on code on its own row joins the same session. A charge remembers what the export last
said about it (``source_snapshot``): a row equal to it is unchanged and costs nothing but a
dictionary look-up, a row that differs updates the charge and records the field-level
difference, and a code that changed for the same slot updates the charge rather than
creating a session. Practice codes that are not CPT (``111``, a no-show fee) are
patient-only charges.

Staging plans every row in memory against the practice's clients, clinicians, payers,
sessions, charges, fee schedules and ledger balances, loaded once per batch; commit writes
clients, clinicians, payers and aliases, coverages, sessions, charges and flags with
multi-row statements. A session an earlier export listed and a later export covering the
same dates lacks is flagged, never deleted.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Text, bindparam, cast, select, update
from sqlalchemy.orm import Session

from revcycle.adapters.csv import (
    AppointmentRow,
    ImportFormat,
    InsurancePaymentStatus,
    NoteStatus,
    ParsedRow,
    PayerRef,
    RejectedRow,
)
from revcycle.adapters.csv.rows import is_cpt_code
from revcycle.adapters.csv.values import CellError, parse_datetime
from revcycle.db.models import (
    Charge,
    Coverage,
    FeeSchedule,
    FeeScheduleRate,
    ImportBatch,
    ImportRowOutcome,
    LedgerBalance,
    Practice,
    ServiceLocation,
    ServiceSession,
    WorkItem,
)
from revcycle.db.types import utcnow
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.names import payer_key, person_key
from revcycle.money import format_cents
from revcycle.services.actor import Actor
from revcycle.services.imports.directory import Directory, name_key, split_name
from revcycle.services.imports.flags import (
    FlagSpec,
    dedupe_key,
    duration_problem,
    existing_flag_keys,
    write_flags,
)
from revcycle.services.imports.handler import StageCounts
from revcycle.services.imports.source import SourceRows
from revcycle.services.imports.staging import (
    OutcomeWriter,
    bulk_insert,
    iter_outcomes,
    set_outcome_sessions,
    table_of,
)

__all__ = ["SOURCE", "SimplePracticeHandler", "snapshot_of"]

SOURCE = "simplepractice"
DUPLICATE_MODIFIER = "76"  # repeat procedure: the second of two identical charges kept as two
_CHUNK = 5_000
_NOTE_STATUS = {NoteStatus.LOCKED: "locked", NoteStatus.DRAFT: "draft", NoteStatus.NO_NOTE: "none"}

Slot = tuple[str, str, str]  # client key, clinician key, starts_at (UTC, ISO)


def snapshot_of(row: AppointmentRow) -> dict[str, Any]:
    """What a charge remembers of its row: every field but the row number, JSON-ready."""
    return {
        "service_at": row.service_at.isoformat(),
        "client": row.client_name,
        "clinician": row.clinician_name,
        "code": row.billing_code,
        "primary": _payer_json(row.primary_payer),
        "secondary": _payer_json(row.secondary_payer),
        "rate_cents": row.rate_per_unit_cents,
        "units": row.units,
        "fee_cents": row.total_fee_cents,
        "client_status": row.client_payment_status.value,
        "client_charge_cents": row.client_charge_cents,
        "client_uninvoiced_cents": row.client_uninvoiced_cents,
        "client_paid_cents": row.client_paid_cents,
        "client_unpaid_cents": row.client_unpaid_cents,
        "insurance_status": row.insurance_payment_status.value if row.insurance_payment_status else None,
        "insurance_charge_cents": row.insurance_charge_cents,
        "insurance_paid_cents": row.insurance_paid_cents,
        "insurance_unpaid_cents": row.insurance_unpaid_cents,
        "note_status": row.note_status.value if row.note_status else None,
        "write_off_cents": row.write_off_cents,
    }


def _payer_json(ref: PayerRef | None) -> list[str | None] | None:
    return None if ref is None else [ref.name, ref.payer_id]


def _payer_ref(value: list[str | None] | None) -> PayerRef | None:
    return None if value is None else PayerRef(str(value[0]), value[1])


def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """Field-level differences; the raw fingerprint is bookkeeping, not a field."""
    return {
        key: [old.get(key), new.get(key)]
        for key in new.keys() | old.keys()
        if key != "raw" and old.get(key) != new.get(key)
    }


# --- what the database holds for the file's dates ------------------------------------------


@dataclass
class _ExistingCharge:
    id: int
    code: str
    modifiers: str
    snapshot_text: str  # the stored JSON as text: equal text is an unchanged row, no decoding
    used: bool = False

    def differences(self, snapshot: dict[str, Any], text: str) -> dict[str, list[Any]]:
        if text == self.snapshot_text:
            return {}
        return _diff(json.loads(self.snapshot_text or "{}"), snapshot)


@dataclass
class _ExistingSession:
    id: int
    note_status: str
    self_pay: bool
    duration_minutes: int | None
    charges: list[_ExistingCharge] = field(default_factory=list)


@dataclass
class _Known:
    """Everything staging compares rows with: the practice's directory, coverages, flags and
    fee schedules for the whole batch, and the sessions and ledger balances of one window
    of dates at a time (:meth:`load_window`), so memory follows the window, not the file."""

    practice: Practice
    zone: ZoneInfo
    today: date
    directory: Directory
    coverages: dict[tuple[int, int], str]  # (client, payer) -> member id
    flag_keys: set[str]
    fees: dict[int | None, list[tuple[date, date | None, dict[str, int]]]]  # payer (None: standard)
    sessions: dict[tuple[int, int, datetime], _ExistingSession] = field(default_factory=dict)
    ledger: dict[int, dict[str, int]] = field(default_factory=dict)  # charge -> account -> balance

    @classmethod
    def load(cls, session: Session, batch: ImportBatch) -> _Known:
        practice = session.get_one(Practice, batch.practice_id)
        zone = ZoneInfo(practice.timezone)
        return cls(
            practice=practice,
            zone=zone,
            # "In the future" means after the day the file was uploaded, in the practice's zone.
            today=(batch.created_at or utcnow()).astimezone(zone).date(),
            directory=Directory.load(session, practice.id),
            coverages=_coverages(session, practice.id),
            flag_keys=existing_flag_keys(session, practice.id),
            fees=_fee_schedules(session, practice.id),
        )

    def load_window(self, session: Session, first: date, last: date) -> None:
        """The sessions, charges and charge balances of the dates ``first``..``last``."""
        practice_id = self.practice.id
        self.sessions = {}
        by_id: dict[int, _ExistingSession] = {}
        for sid, client_id, provider_id, starts_at, note, self_pay, minutes in session.execute(
            select(
                ServiceSession.id,
                ServiceSession.client_id,
                ServiceSession.provider_id,
                ServiceSession.starts_at,
                ServiceSession.note_status,
                ServiceSession.self_pay,
                ServiceSession.duration_minutes,
            ).where(ServiceSession.practice_id == practice_id, ServiceSession.service_on.between(first, last))
        ):
            found = _ExistingSession(sid, note, self_pay, minutes)
            self.sessions[(client_id, provider_id, starts_at)] = found
            by_id[sid] = found
        for cid, sid, code, modifiers, snapshot in session.execute(
            select(
                Charge.id,
                Charge.session_id,
                Charge.procedure_code,
                Charge.modifiers,
                cast(Charge.source_snapshot, Text),
            )
            .join(ServiceSession, ServiceSession.id == Charge.session_id)
            .where(ServiceSession.practice_id == practice_id, ServiceSession.service_on.between(first, last))
            .order_by(Charge.session_id, Charge.modifiers, Charge.id)
        ):
            by_id[sid].charges.append(_ExistingCharge(cid, code, modifiers, snapshot or ""))
        self.ledger = _charge_balances(session, practice_id, first, last)

    def claim_charges(self, charge_ids: set[int]) -> None:
        """Charges the quick pass matched already: no other row may take them."""
        for found in self.sessions.values():
            for charge in found.charges:
                if charge.id in charge_ids:
                    charge.used = True

    def fee_for(self, payer_id: int | None, code: str, on: date) -> int | None:
        for owner in (payer_id, None) if payer_id is not None else (None,):
            for starts, ends, rates in self.fees.get(owner, []):
                if starts <= on and (ends is None or on <= ends) and code in rates:
                    return rates[code]
        return None


def _coverages(session: Session, practice_id: int) -> dict[tuple[int, int], str]:
    found: dict[tuple[int, int], str] = {}
    for client_id, payer_id, member_id in session.execute(
        select(Coverage.client_id, Coverage.payer_id, Coverage.member_id).where(
            Coverage.practice_id == practice_id
        )
    ):
        if member_id or (client_id, payer_id) not in found:
            found[(client_id, payer_id)] = member_id
    return found


def _charge_balances(
    session: Session, practice_id: int, first: date, last: date
) -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = defaultdict(dict)
    query = (
        select(LedgerBalance.scope_id, LedgerBalance.account, LedgerBalance.balance_cents)
        .join(Charge, Charge.id == LedgerBalance.scope_id)
        .join(ServiceSession, ServiceSession.id == Charge.session_id)
        .where(
            LedgerBalance.practice_id == practice_id,
            LedgerBalance.scope == BalanceScope.CHARGE.value,
            ServiceSession.practice_id == practice_id,
            ServiceSession.service_on.between(first, last),
        )
    )
    for charge_id, account, cents in session.execute(query):
        found[charge_id][account] = cents
    return dict(found)


def _fee_schedules(
    session: Session, practice_id: int
) -> dict[int | None, list[tuple[date, date | None, dict[str, int]]]]:
    rates: dict[int, dict[str, int]] = defaultdict(dict)
    for schedule_id, code, cents in session.execute(
        select(
            FeeScheduleRate.fee_schedule_id, FeeScheduleRate.procedure_code, FeeScheduleRate.amount_cents
        ).where(FeeScheduleRate.practice_id == practice_id, FeeScheduleRate.modifiers == "")
    ):
        rates[schedule_id][code] = cents
    found: dict[int | None, list[tuple[date, date | None, dict[str, int]]]] = defaultdict(list)
    for schedule_id, payer_id, starts, ends in session.execute(
        select(FeeSchedule.id, FeeSchedule.payer_id, FeeSchedule.effective_on, FeeSchedule.ends_on)
        .where(FeeSchedule.practice_id == practice_id, FeeSchedule.client_id.is_(None))
        .order_by(FeeSchedule.effective_on.desc())
    ):
        found[payer_id].append((starts, ends, rates.get(schedule_id, {})))
    return dict(found)


# --- planning one file ----------------------------------------------------------------------


@dataclass
class _Plan:
    row: AppointmentRow
    slot: Slot
    starts_at: datetime
    change: str  # new | updated | unchanged | duplicate
    snapshot: dict[str, Any]
    session_id: int | None = None
    charge_id: int | None = None
    modifiers: str = ""
    diff: dict[str, list[Any]] = field(default_factory=dict)
    flags: list[FlagSpec] = field(default_factory=list)
    repeat: int = 0  # earlier rows of the file with the same slot and code

    @property
    def has_new_flag(self) -> bool:
        """A new flag about this row's session (one about its client, clinician or payer as
        a whole is counted once per batch, not against every row that shares it)."""
        return any(flag.extra.get("new") and flag.extra.get("scope") is None for flag in self.flags)


class _Planner:
    def __init__(
        self, known: _Known, fingerprints: dict[int, str] | None = None, quick_charges: set[int] | None = None
    ) -> None:
        self.known = known
        self.fingerprints = fingerprints or {}
        self.quick_charges = quick_charges or set()  # charges the quick pass matched already
        self.seen_codes: dict[tuple[Slot, str], int] = defaultdict(int)
        # Keys of flags about a client, clinician or payer already raised in this batch.
        self.raised: set[str] = set()
        self.new_subject_flags: Counter[str] = Counter()

    def slot_of(self, row: AppointmentRow) -> tuple[Slot, datetime]:
        starts_at = row.service_at.replace(tzinfo=self.known.zone).astimezone(UTC)
        return (name_key(row.client_name), name_key(row.clinician_name), starts_at.isoformat()), starts_at

    def plan(self, rows: Sequence[AppointmentRow]) -> list[_Plan]:
        by_slot: dict[Slot, list[tuple[AppointmentRow, datetime]]] = defaultdict(list)
        for row in rows:
            slot, starts_at = self.slot_of(row)
            by_slot[slot].append((row, starts_at))
        plans: list[_Plan] = []
        for slot, slot_rows in by_slot.items():
            plans.extend(self._plan_slot(slot, slot_rows))
        plans.sort(key=lambda p: p.row.row_number)
        return plans

    def _existing(self, row: AppointmentRow, starts_at: datetime) -> _ExistingSession | None:
        client_id = self.known.directory.client(row.client_name)
        provider_id = self.known.directory.provider(row.clinician_name)
        if client_id is None or provider_id is None:
            return None
        return self.known.sessions.get((client_id, provider_id, starts_at))

    def _plan_slot(self, slot: Slot, rows: list[tuple[AppointmentRow, datetime]]) -> list[_Plan]:
        existing = self._existing(*rows[0])
        charges = existing.charges if existing else []
        codes_in_file = {row.billing_code for row, _ in rows}
        plans: list[_Plan] = []
        pending: list[_Plan] = []
        for row, starts_at in rows:
            snapshot = snapshot_of(row)
            if row.row_number in self.fingerprints:
                snapshot["raw"] = self.fingerprints[row.row_number]
            text = json.dumps(snapshot)
            plan = _Plan(row, slot, starts_at, "new", snapshot, session_id=existing.id if existing else None)
            repeat = self.seen_codes[(slot, row.billing_code)]
            self.seen_codes[(slot, row.billing_code)] += 1
            match = next((c for c in charges if not c.used and c.code == row.billing_code), None)
            if match is not None:
                match.used = True
                plan.charge_id, plan.modifiers = match.id, match.modifiers
                plan.diff = match.differences(snapshot, text)
                plan.change = "updated" if plan.diff else "unchanged"
            elif repeat:
                plan.change = "duplicate"
            else:
                pending.append(plan)
            plan.repeat = repeat
            plans.append(plan)
        # A code that changed for the same slot: the left-over charge takes the new code.
        leftovers = [c for c in charges if not c.used and c.code not in codes_in_file]
        for plan, charge in zip(pending, leftovers, strict=False):
            charge.used = True
            plan.charge_id, plan.modifiers, plan.change = charge.id, charge.modifiers, "updated"
            plan.diff = charge.differences(plan.snapshot, json.dumps(plan.snapshot)) or {
                "code": [charge.code, plan.row.billing_code]
            }
        for plan in plans:
            if plan.change == "unchanged":
                # The row is what it was: only what changed here since can raise a new flag.
                plan.flags = self._outside_flags(plan)
            else:
                plan.flags = self._flags(plan, existing, repeat=plan.repeat)
        return plans

    def _outside_flags(self, plan: _Plan) -> list[FlagSpec]:
        """Flags an unchanged row may newly raise: the fee schedule or the ledger moved."""
        flags = []
        if self.known.fees and plan.row.primary_payer is not None:
            payer_id = self.known.directory.payer(plan.row.primary_payer).payer_id
            flags.extend(self._fee_flags(plan, payer_id))
        elif self.known.fees:
            flags.extend(self._fee_flags(plan, None))
        if plan.charge_id in self.known.ledger:
            flags.extend(self._ledger_flags(plan))
        return flags

    @staticmethod
    def _when(row: AppointmentRow) -> str:
        return f"{row.client_name} with {row.clinician_name} on {row.service_at:%m/%d/%Y %H:%M}"

    def _fee_flags(self, plan: _Plan, payer_id: int | None) -> list[FlagSpec]:
        row = plan.row
        scheduled = self.known.fee_for(payer_id, row.billing_code, row.service_at.date())
        if scheduled is None or scheduled == row.rate_per_unit_cents:
            return []
        detail = (
            f"{row.billing_code} at {format_cents(row.rate_per_unit_cents)}, the fee schedule says "
            f"{format_cents(scheduled)}: {self._when(row)}"
        )
        return [self._flag(plan, "fee_differs", detail, row.billing_code, row.rate_per_unit_cents)]

    def _ledger_flags(self, plan: _Plan) -> list[FlagSpec]:
        disagreement = self._ledger_disagreement(plan)
        if not disagreement:
            return []
        detail = f"{disagreement}: {self._when(plan.row)}"
        return [self._flag(plan, "ledger_disagrees", detail, plan.row.billing_code, disagreement)]

    # --- flags ------------------------------------------------------------------------------

    def _flag(self, plan: _Plan, rule: str, detail: str, *key_parts: object, title: str = "") -> FlagSpec:
        key = dedupe_key(rule, *plan.slot, *key_parts)
        return FlagSpec(rule, key, detail, extra={"new": key not in self.known.flag_keys}, title=title)

    def _subject_flag(
        self, rule: str, scope: str, detail: str, *key_parts: object, title: str, **extra: Any
    ) -> FlagSpec:
        """A flag about a client, clinician or payer: one per subject, whatever the rows."""
        key = dedupe_key(rule, *key_parts)
        new = key not in self.known.flag_keys and key not in self.raised
        if new:
            self.raised.add(key)
            self.new_subject_flags[rule] += 1
        return FlagSpec(rule, key, detail, extra={"new": new, "scope": scope, **extra}, title=title)

    def _flags(self, plan: _Plan, existing: _ExistingSession | None, *, repeat: int) -> list[FlagSpec]:
        row, known, flags = plan.row, self.known, []
        directory = known.directory
        when = self._when(row)
        billable = row.is_cpt
        payer_ids: dict[str, int | None] = {}
        for label, ref in (("primary", row.primary_payer), ("secondary", row.secondary_payer)):
            if ref is None:
                continue
            match = directory.payer(ref)
            payer_ids[label] = match.payer_id
            if match.payer_id is None:
                name = f"{ref.name} ({ref.payer_id})" if ref.payer_id else ref.name
                flags.append(
                    self._subject_flag(
                        "unknown_payer",
                        "payer",
                        f"payer {name} is not in the catalog (first seen as {label} payer: {when}); "
                        "map it to a catalog payer or keep it as a new one",
                        payer_key(ref.name),
                        title=f"Unknown payer: {name}",
                        payer=[ref.name, ref.payer_id],
                    )
                )
        if directory.provider(row.clinician_name) is None:
            flags.append(
                self._subject_flag(
                    "unknown_clinician",
                    "clinician",
                    f"clinician {row.clinician_name} is new: add their NPI (first seen: {when})",
                    name_key(row.clinician_name),
                    title=f"Unknown clinician: {row.clinician_name}",
                )
            )
        if billable and row.primary_payer is None and not (existing and existing.self_pay):
            flags.append(self._flag(plan, "no_insurance", f"{row.billing_code} has no insurance: {when}"))
        if billable and row.primary_payer is not None:
            client_id = directory.client(row.client_name)
            payer_id = payer_ids.get("primary")
            member = known.coverages.get((client_id, payer_id)) if client_id and payer_id else None
            if not member:
                flags.append(
                    self._subject_flag(
                        "missing_member_id",
                        "client",
                        f"{row.client_name} has no member id for {row.primary_payer.name} "
                        f"(first seen: {when})",
                        name_key(row.client_name),
                        payer_key(row.primary_payer.name),
                        title="",  # the rule's own: one group in the review queue
                    )
                )
        if row.note_status is not None and row.note_status is not NoteStatus.LOCKED:
            flags.append(
                self._flag(plan, "note_not_locked", f"progress note is {row.note_status.value}: {when}")
            )
        problem = duration_problem(row.billing_code, existing.duration_minutes if existing else None)
        if problem:
            flags.append(self._flag(plan, "duration_out_of_band", f"{problem}: {when}", row.billing_code))
        if repeat:
            flags.append(
                self._flag(
                    plan,
                    "possible_duplicate",
                    f"{row.billing_code} appears {repeat + 1} times: {when}",
                    row.billing_code,
                    repeat,
                )
            )
        flags.extend(self._fee_flags(plan, payer_ids.get("primary")))
        if row.insurance_payment_status is InsurancePaymentStatus.OVER or row.insurance_unpaid_cents < 0:
            flags.append(
                self._flag(
                    plan,
                    "insurance_over",
                    f"insurance overpaid {format_cents(-row.insurance_unpaid_cents)} "
                    f"on {row.billing_code}: {when}",
                    row.billing_code,
                )
            )
        if row.service_at.date() > known.today:
            flags.append(self._flag(plan, "future_date", f"date of service is in the future: {when}"))
        if billable and row.secondary_payer is not None:
            flags.append(
                self._flag(plan, "secondary_insurance", f"secondary {row.secondary_payer.name}: {when}")
            )
        flags.extend(self._ledger_flags(plan))
        return flags

    def _ledger_disagreement(self, plan: _Plan) -> str | None:
        balances = self.known.ledger.get(plan.charge_id) if plan.charge_id else None
        if balances is None:
            return None  # the ledger knows nothing of this charge yet: nothing to compare
        row, parts = plan.row, []
        insurance = balances.get(Account.AR_INSURANCE.value, 0)
        patient = balances.get(Account.AR_PATIENT.value, 0)
        if row.insurance_unpaid_cents != insurance:
            parts.append(
                f"insurance unpaid {format_cents(row.insurance_unpaid_cents)} in SimplePractice, "
                f"{format_cents(insurance)} here"
            )
        if row.client_unpaid_cents != patient:
            parts.append(
                f"client unpaid {format_cents(row.client_unpaid_cents)} in SimplePractice, "
                f"{format_cents(patient)} here"
            )
        return "; ".join(parts) or None


# --- the quick pass and the windows: memory follows a window of dates, not the file --------


_WINDOW_ROWS = 20_000  # rows parsed and planned together (whole days: a slot never splits)


class _RowIndex:
    """One pass over the raw cells: each row's fingerprint and date of service, unparsed.

    The quick pass settles every row whose fingerprint a charge was last written from
    (unchanged, at the cost of a dictionary look-up); the rest are parsed and planned a
    window of whole days at a time. Rows repeated within the file, charges the ledger knows
    (their figures are compared) and practices with fee schedules take the full path.
    """

    def __init__(self, source: SourceRows) -> None:
        self.source = source
        self.fingerprints: dict[int, str] = {}
        self.day_of: dict[int, date | None] = {}  # None: no readable date (parsing rejects it)
        for row_number, values, fp in source.raw():
            self.fingerprints[row_number] = fp
            try:
                self.day_of[row_number] = parse_datetime(values.get("service_at", ""))[0].date()
            except CellError:
                self.day_of[row_number] = None
        self.days = sorted({day for day in self.day_of.values() if day is not None})
        self.hits: dict[int, int] = {}  # row number -> session id
        self.hit_charges: set[int] = set()

    def settle(self, session: Session, batch: ImportBatch, writer: OutcomeWriter) -> None:
        """Record the rows a charge's fingerprint vouches for as unchanged."""
        if not self.days:
            return
        repeats = Counter(self.fingerprints.values())
        first, last = self.days[0] - timedelta(days=1), self.days[-1] + timedelta(days=1)
        known = self._known(session, batch, first, last)
        for row_number, fp in self.fingerprints.items():
            found = known.get(fp)
            if found is not None and repeats[fp] == 1:
                charge_id, session_id = found
                self.hits[row_number] = session_id
                self.hit_charges.add(charge_id)
                writer.add(row_number, "unchanged", {"change": "unchanged"}, session_id=session_id)

    def windows(self) -> Iterator[tuple[date | None, date | None, set[int]]]:
        """(first day, last day, row numbers) of the rows left, whole days, in date order."""
        by_day: dict[date | None, list[int]] = defaultdict(list)
        for row_number, day in self.day_of.items():
            if row_number not in self.hits:
                by_day[day].append(row_number)
        if None in by_day:  # unreadable dates: parsing rejects them, with the reason
            yield None, None, set(by_day.pop(None))
        rows: set[int] = set()
        first: date | None = None
        last: date | None = None
        for day in sorted(d for d in by_day if d is not None):
            if rows and len(rows) + len(by_day[day]) > _WINDOW_ROWS:
                yield first, last, rows
                rows, first = set(), None
            first = first or day
            last = day
            rows.update(by_day[day])
        if rows:
            yield first, last, rows

    @staticmethod
    def _known(session: Session, batch: ImportBatch, first: date, last: date) -> dict[str, tuple[int, int]]:
        """Fingerprint -> (charge, session) for the dates, when the quick pass may trust it."""
        practice_id = batch.practice_id
        if session.scalar(select(FeeSchedule.id).where(FeeSchedule.practice_id == practice_id).limit(1)):
            return {}
        in_ledger = set(_charge_balances(session, practice_id, first, last))
        found: dict[str, tuple[int, int]] = {}
        doubled: set[str] = set()
        for charge_id, session_id, fp in session.execute(
            select(Charge.id, Charge.session_id, Charge.source_snapshot["raw"].as_string())
            .join(ServiceSession, ServiceSession.id == Charge.session_id)
            .where(ServiceSession.practice_id == practice_id, ServiceSession.service_on.between(first, last))
        ):
            if fp is None or charge_id in in_ledger:
                continue
            if fp in found:
                doubled.add(fp)
            found[fp] = (charge_id, session_id)
        for fp in doubled:
            del found[fp]
        return found


# --- the handler ---------------------------------------------------------------------------------


def _outcome(plan: _Plan) -> str:
    if plan.has_new_flag:
        return "flagged"
    # A duplicate already flagged by an earlier import waits for its person: nothing new.
    return "unchanged" if plan.change == "duplicate" else plan.change


def _detail(plan: _Plan) -> dict[str, Any]:
    if plan.change == "unchanged" and not plan.has_new_flag:
        return {"change": "unchanged"}
    detail: dict[str, Any] = {
        "change": plan.change,
        "slot": [plan.row.client_name, plan.row.clinician_name, plan.starts_at.isoformat()],
        "row": plan.snapshot,
        "flags": [flag.to_json() for flag in plan.flags],
    }
    if plan.charge_id is not None:
        detail["charge_id"] = plan.charge_id
    if plan.diff:
        detail["diff"] = plan.diff
    return detail


@dataclass
class _Staging:
    session: Session
    known: _Known
    planner: _Planner
    writer: OutcomeWriter
    seen: set[int]  # sessions the file lists


class SimplePracticeHandler:
    format = ImportFormat.SIMPLEPRACTICE

    def stage(
        self, session: Session, batch: ImportBatch, rows: Iterator[ParsedRow | RejectedRow], *, actor: Actor
    ) -> StageCounts:
        writer = OutcomeWriter(session, batch)
        known = _Known.load(session, batch)
        if isinstance(rows, SourceRows):
            index = _RowIndex(rows)
            index.settle(session, batch, writer)
            planner = _Planner(known, index.fingerprints, index.hit_charges)
            seen = set(index.hits.values())
            staging = _Staging(session, known, planner, writer, seen)
            for first, last, wanted in index.windows():
                self._stage_window(staging, rows.only(wanted), first, last)
            days = index.days
        else:  # rows from elsewhere (a test's list): one window
            planner = _Planner(known)
            seen = set()
            listed = list(rows)
            days = sorted({r.service_at.date() for r in listed if isinstance(r, AppointmentRow)})
            first, last = (days[0], days[-1]) if days else (None, None)
            self._stage_window(_Staging(session, known, planner, writer, seen), iter(listed), first, last)
        if days:
            batch.covers_from_on, batch.covers_to_on = days[0], days[-1]
        counts = writer.counts()
        extra: dict[str, Any] = {"new_flags_about": dict(planner.new_subject_flags)}
        if days:
            extra["missing_sessions"] = len(self._missing_sessions(session, batch, seen))
        batch.counts = {**batch.counts, **extra}
        return counts

    @staticmethod
    def _stage_window(
        staging: _Staging, rows: Iterator[ParsedRow | RejectedRow], first: date | None, last: date | None
    ) -> None:
        """Parse, match and record one window of dates: nothing of it outlives the call."""
        session, known, planner, writer, seen = (
            staging.session,
            staging.known,
            staging.planner,
            staging.writer,
            staging.seen,
        )
        parsed: list[AppointmentRow] = []
        for row in rows:
            if isinstance(row, RejectedRow):
                writer.reject(row)
            elif isinstance(row, AppointmentRow):
                parsed.append(row)
        if not parsed or first is None or last is None:
            return
        known.load_window(session, first - timedelta(days=1), last + timedelta(days=1))
        known.claim_charges(planner.quick_charges)
        for plan in planner.plan(parsed):
            writer.add(plan.row.row_number, _outcome(plan), _detail(plan), session_id=plan.session_id)
            if plan.session_id is not None:
                seen.add(plan.session_id)

    def _missing_sessions(self, session: Session, batch: ImportBatch, seen: set[int]) -> list[int]:
        """Sessions an earlier export listed, in this file's dates, that this file lacks."""
        ids = session.scalars(
            select(ServiceSession.id).where(
                ServiceSession.practice_id == batch.practice_id,
                ServiceSession.source == SOURCE,
                ServiceSession.last_seen_batch_id.is_not(None),
                ServiceSession.last_seen_batch_id != batch.id,
                ServiceSession.service_on.between(batch.covers_from_on, batch.covers_to_on),
            )
        )
        return [sid for sid in ids if sid not in seen]

    def discard(self, session: Session, batch: ImportBatch, *, actor: Actor) -> None:
        """Nothing beyond the outcome rows was staged."""

    # --- commit ----------------------------------------------------------------------------

    def commit(self, session: Session, batch: ImportBatch, *, actor: Actor) -> dict[str, int]:
        """Apply the staged rows a chunk at a time (all in the caller's transaction)."""
        practice = session.get_one(Practice, batch.practice_id)
        directory = Directory.load(session, practice.id)
        context = _CommitContext(practice, directory, _default_location(session, practice), batch.created_at)
        written: dict[str, int] = defaultdict(int)
        for work in iter_outcomes(session, batch, outcomes=("new", "updated", "flagged"), chunk=_CHUNK * 2):
            rows = [(oid, detail) for oid, _n, _o, detail, _s in work if "row" in detail]
            self.commit_rows(session, context, rows, written)
        self.mark_seen(session, batch, written)
        return dict(written)

    def commit_rows(
        self,
        session: Session,
        context: _CommitContext,
        rows: list[tuple[int, dict[str, Any]]],
        written: dict[str, int],
    ) -> None:
        practice, directory = context.practice, context.directory
        payers = self.write_people_and_payers(session, directory, rows, written)
        for _, detail in rows:
            detail["_ids"] = _slot_ids(directory, detail)
        slots = self.write_sessions(session, context, rows, written)
        self.write_coverages(
            session, practice_id=practice.id, directory=directory, rows=rows, payers=payers, written=written
        )
        self.write_charges(session, practice.id, rows, slots, written)
        self.write_flags(
            session,
            practice_id=practice.id,
            directory=directory,
            rows=rows,
            slots=slots,
            payers=payers,
            written=written,
        )
        set_outcome_sessions(
            session,
            [(oid, slots[_slot_key(detail)], None) for oid, detail in rows if _slot_key(detail) in slots],
        )

    def write_people_and_payers(
        self,
        session: Session,
        directory: Directory,
        rows: list[tuple[int, dict[str, Any]]],
        written: dict[str, int],
    ) -> dict[tuple[str, str | None], int]:
        before = (len(directory.clients), len(directory.providers))
        directory.ensure_clients(session, dict.fromkeys(d["row"]["client"] for _, d in rows))
        directory.ensure_providers(session, dict.fromkeys(d["row"]["clinician"] for _, d in rows))
        written["clients"] += len(directory.clients) - before[0]
        written["providers"] += len(directory.providers) - before[1]
        payers: dict[tuple[str, str | None], int] = {}
        for _, detail in rows:
            for label in ("primary", "secondary"):
                ref = _payer_ref(detail["row"][label])
                if ref is not None and (ref.name, ref.payer_id) not in payers:
                    payer_id, created = directory.ensure_payer(session, ref)
                    payers[(ref.name, ref.payer_id)] = payer_id
                    written["payers"] += created
        return payers

    def write_sessions(
        self,
        session: Session,
        context: _CommitContext,
        rows: list[tuple[int, dict[str, Any]]],
        written: dict[str, int],
    ) -> dict[tuple[int, int, str], int]:
        practice, directory = context.practice, context.directory
        zone = ZoneInfo(practice.timezone)
        location_id, place = context.location
        wanted: dict[tuple[int, int, str], dict[str, Any]] = {}
        for _, detail in rows:
            key = _slot_ids(directory, detail)
            note = detail["row"]["note_status"]
            values = wanted.setdefault(key, {"note": None})
            if note is not None:
                values["note"] = _NOTE_STATUS[NoteStatus(note)]
        starts = [datetime.fromisoformat(k[2]) for k in wanted]
        if not starts:
            return {}
        existing: dict[tuple[int, int, str], int] = {}
        for sid, client_id, provider_id, starts_at in session.execute(
            select(
                ServiceSession.id,
                ServiceSession.client_id,
                ServiceSession.provider_id,
                ServiceSession.starts_at,
            ).where(
                ServiceSession.practice_id == practice.id,
                ServiceSession.starts_at.between(min(starts), max(starts)),
            )
        ):
            existing[(client_id, provider_id, starts_at.isoformat())] = sid
        before = set(existing)
        new_rows = []
        for key, values in wanted.items():
            if key in existing:
                continue
            starts_at = datetime.fromisoformat(key[2])
            new_rows.append(
                {
                    "practice_id": practice.id,
                    "client_id": key[0],
                    "provider_id": key[1],
                    "starts_at": starts_at,
                    "service_on": starts_at.astimezone(zone).date(),
                    "location_id": location_id,
                    "place_of_service": place,
                    "appointment_status": "show",
                    "note_status": values["note"] or "none",
                    # Locked no later than the upload that first said so.
                    "note_locked_at": context.seen_at if values["note"] == "locked" else None,
                    "source": SOURCE,
                }
            )
        bulk_insert(session, ServiceSession, new_rows)
        if new_rows:  # their ids, in one query rather than one RETURNING per row
            existing.update(self._session_ids(session, practice.id, starts))
        written["sessions"] += len(new_rows)
        # New sessions were written with their note status; only the others may have moved.
        notes = {existing[k]: v["note"] for k, v in wanted.items() if v["note"] and k in before}
        self.update_notes(session, practice.id, notes, context.seen_at)
        return {(k[0], k[1], k[2]): existing[k] for k in wanted}

    def _session_ids(
        self, session: Session, practice_id: int, starts: list[datetime]
    ) -> dict[tuple[int, int, str], int]:
        query = select(
            ServiceSession.id, ServiceSession.client_id, ServiceSession.provider_id, ServiceSession.starts_at
        ).where(
            ServiceSession.practice_id == practice_id,
            ServiceSession.starts_at.between(min(starts), max(starts)),
        )
        return {(c, p, at.isoformat()): sid for sid, c, p, at in session.execute(query)}

    def update_notes(
        self, session: Session, practice_id: int, notes: dict[int, str], seen_at: datetime
    ) -> None:
        """What the EHR says of each session's progress note, one UPDATE per status."""
        by_status: dict[str, list[int]] = defaultdict(list)
        for sid, status in notes.items():
            by_status[status].append(sid)
        for status, ids in by_status.items():
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                session.execute(
                    update(ServiceSession)
                    .where(ServiceSession.id.in_(chunk), ServiceSession.note_status != status)
                    .values(note_status=status)
                    .execution_options(synchronize_session=False)
                )
                if status == "locked":
                    session.execute(
                        update(ServiceSession)
                        .where(ServiceSession.id.in_(chunk), ServiceSession.note_locked_at.is_(None))
                        .values(note_locked_at=seen_at)
                        .execution_options(synchronize_session=False)
                    )
        self.resolve_locked_notes(session, practice_id, by_status.get("locked", []))

    def resolve_locked_notes(self, session: Session, practice_id: int, session_ids: list[int]) -> None:
        """The EHR now says the note is locked: its "note not locked" flags resolve themselves."""
        for start in range(0, len(session_ids), 1000):
            session.execute(
                update(WorkItem)
                .where(
                    WorkItem.practice_id == practice_id,
                    WorkItem.rule == "note_not_locked",
                    WorkItem.status != "resolved",
                    WorkItem.session_id.in_(session_ids[start : start + 1000]),
                )
                .values(
                    status="resolved", resolution="note locked (seen in a later import)", resolved_at=utcnow()
                )
                .execution_options(synchronize_session=False)
            )

    def write_coverages(
        self,
        session: Session,
        *,
        practice_id: int,
        directory: Directory,
        rows: list[tuple[int, dict[str, Any]]],
        payers: dict[tuple[str, str | None], int],
        written: dict[str, int],
    ) -> None:
        have = {
            (client_id, payer_id)
            for client_id, payer_id in session.execute(
                select(Coverage.client_id, Coverage.payer_id).where(Coverage.practice_id == practice_id)
            )
        }
        new_rows = []
        for _, detail in rows:
            client_id = directory.clients[person_key(detail["row"]["client"])]
            for priority in ("primary", "secondary"):
                ref = _payer_ref(detail["row"][priority])
                if ref is None:
                    continue
                payer_id = payers[(ref.name, ref.payer_id)]
                if (client_id, payer_id) not in have:
                    have.add((client_id, payer_id))
                    # The export names no subscriber: the client is their own until the
                    # client details say otherwise; the member id is flagged as missing.
                    first, last = split_name(detail["row"]["client"])
                    new_rows.append(
                        {
                            "practice_id": practice_id,
                            "client_id": client_id,
                            "payer_id": payer_id,
                            "member_id": "",
                            "priority": priority,
                            "relationship_to_subscriber": "self",
                            "subscriber_first_name": first,
                            "subscriber_last_name": last,
                        }
                    )
        if new_rows:
            bulk_insert(session, Coverage, new_rows)
        written["coverages"] += len(new_rows)

    def write_charges(
        self,
        session: Session,
        practice_id: int,
        rows: list[tuple[int, dict[str, Any]]],
        slots: dict[tuple[int, int, str], int],
        written: dict[str, int],
    ) -> None:
        new_rows, changed = [], []
        for _, detail in rows:
            snapshot = detail["row"]
            values = {
                "procedure_code": snapshot["code"][:10],
                "units": snapshot["units"] or 1,
                "fee_cents": snapshot["fee_cents"],
                "patient_only": not is_cpt_code(snapshot["code"]),
                "source_snapshot": snapshot,
            }
            if detail["change"] == "new":
                new_rows.append(
                    {"practice_id": practice_id, "session_id": slots[_slot_key(detail)], **values}
                )
            elif detail["change"] == "updated":
                changed.append({"charge_id": detail["charge_id"], **values})
        bulk_insert(session, Charge, new_rows)
        charges = table_of(Charge)
        by_id = update(charges).where(charges.c.id == bindparam("charge_id"))
        for start in range(0, len(changed), _CHUNK):
            session.execute(by_id, changed[start : start + _CHUNK])
        written["charges"] += len(new_rows)
        written["charges_updated"] += len(changed)

    def write_flags(
        self,
        session: Session,
        *,
        practice_id: int,
        directory: Directory,
        rows: list[tuple[int, dict[str, Any]]],
        slots: dict[tuple[int, int, str], int],
        payers: dict[tuple[str, str | None], int],
        written: dict[str, int],
    ) -> None:
        specs: list[FlagSpec] = []
        for _, detail in rows:
            session_id = slots.get(_slot_key(detail))
            client_id = directory.clients.get(person_key(detail["row"]["client"]))
            for data in detail.get("flags", []):
                spec = FlagSpec.from_json(data, session_id=session_id, client_id=client_id)
                scope = data.get("scope")
                if scope is not None:  # about the client, clinician or payer: no session
                    spec.session_id = None
                if scope in {"clinician", "payer"}:
                    spec.client_id = None
                if scope == "clinician":
                    spec.provider_id = directory.providers.get(person_key(detail["row"]["clinician"]))
                elif scope == "payer":
                    name, payer_id = data["payer"]
                    spec.payer_id = payers.get((name, payer_id))
                specs.append(spec)
        written["flags"] += write_flags(session, practice_id, specs)

    def mark_seen(self, session: Session, batch: ImportBatch, written: dict[str, int]) -> None:
        """Sessions the file lists for the first time get this batch as ``last_seen_batch_id``
        (an export has listed them); earlier ones in the file's dates it lacks are flagged.

        Which sessions a file listed is in its outcome rows; rewriting the column on every
        session of every re-import would cost a 100,000-row UPDATE for nothing that changed.
        """
        seen = select(ImportRowOutcome.session_id).where(
            ImportRowOutcome.batch_id == batch.id, ImportRowOutcome.session_id.is_not(None)
        )
        session.execute(
            update(ServiceSession)
            .where(ServiceSession.id.in_(seen.scalar_subquery()), ServiceSession.last_seen_batch_id.is_(None))
            .values(last_seen_batch_id=batch.id)
            .execution_options(synchronize_session=False)
        )
        if batch.covers_from_on is None or batch.covers_to_on is None:
            return
        missing = session.execute(
            select(
                ServiceSession.id,
                ServiceSession.client_id,
                ServiceSession.provider_id,
                ServiceSession.starts_at,
            ).where(
                ServiceSession.practice_id == batch.practice_id,
                ServiceSession.source == SOURCE,
                ServiceSession.last_seen_batch_id.is_not(None),
                ServiceSession.last_seen_batch_id != batch.id,
                ServiceSession.service_on.between(batch.covers_from_on, batch.covers_to_on),
                ServiceSession.id.not_in(seen.scalar_subquery()),
            )
        ).all()
        specs = [
            FlagSpec(
                "missing_from_export",
                dedupe_key("missing_from_export", sid),
                f"session of {starts_at:%m/%d/%Y %H:%M} UTC was in an earlier export but not in "
                f"{batch.filename},"
                f" which covers {batch.covers_from_on:%m/%d/%Y}-{batch.covers_to_on:%m/%d/%Y}",
                sid,
                client_id,
            )
            for sid, client_id, _provider_id, starts_at in missing
        ]
        written["flags"] += write_flags(session, batch.practice_id, specs)


@dataclass
class _CommitContext:
    practice: Practice
    directory: Directory
    location: tuple[int | None, str]  # where new sessions took place (id, place of service)
    seen_at: datetime  # when the export was uploaded: a note it calls locked was locked by then


def _default_location(session: Session, practice: Practice) -> tuple[int | None, str]:
    """The practice's default service location (settings ``default_location_id``, else its
    first): the appointment export does not say where a session took place."""
    query = select(ServiceLocation.id, ServiceLocation.place_of_service).where(
        ServiceLocation.practice_id == practice.id
    )
    chosen = practice.settings.get("default_location_id")
    if chosen is not None:
        found = session.execute(query.where(ServiceLocation.id == chosen)).first()
        if found is not None:
            return found[0], found[1]
    first = session.execute(query.order_by(ServiceLocation.id).limit(1)).first()
    return (first[0], first[1]) if first is not None else (None, "11")


def _slot_ids(directory: Directory, detail: dict[str, Any]) -> tuple[int, int, str]:
    client, clinician, starts_at = detail["slot"]
    return directory.clients[person_key(client)], directory.providers[person_key(clinician)], starts_at


def _slot_key(detail: dict[str, Any]) -> tuple[int, int, str]:
    ids: tuple[int, int, str] = detail["_ids"]
    return ids
