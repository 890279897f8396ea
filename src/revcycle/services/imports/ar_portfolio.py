"""AR portfolio import: another billing system's open claims, with their balances, in bulk.

A billing company taking over a practice's receivables loads the previous system's AR aging
export: one row per open claim, or one per service line (claim id, patient, payer, date of
service, procedure, rendering provider, balance ...), tens of thousands to a million rows.
Each claim becomes a claim already with the payer (status ``accepted``), aged, assigned to a
team by the organization's assignment rules (:mod:`revcycle.services.assignment`; the
defaults of :mod:`revcycle.domain.ar_rules` until it saves its own), with an ``opening_balance`` ledger
transaction for what the payer still owes.

**Stage** streams the parsed rows into ``staged_ar_rows`` in chunks (COPY on PostgreSQL,
executemany on SQLite), computing each row's patient key, aging and team on the way, and
records every row's outcome; memory stays flat whatever the file's size. Then, set-based:

- Rows sharing a claim id are the lines of one claim when they agree on patient and payer
  and differ in date of service or procedure code (the first row heads the claim, the others
  are staged as ``line``; the claim's team is then judged on the claim's total). A row that
  repeats another exactly, repeats a line (same date and code) with other figures, or names
  another patient or payer is ``rejected``, the message naming both rows and the field.
- A claim the practice already has is compared with the file: its balance on our ledger
  (``ar:insurance`` of the claim) against the file's (the sum of its lines), and its payer,
  patient, rendering provider, dates of service and billed amount. The same is ``unchanged``;
  a difference is ``updated`` with the field-level difference (``diff``: ours, the file's).
  The file has no claim status, so status is not compared.
- The rest are ``new``. The first row of a payer the catalog does not know, or of a clinician
  the practice does not have, is ``flagged``: one flag per payer or clinician, with the count
  of the file's claims it concerns. Rows with bad values are ``rejected`` with file, row,
  column and value.

**Commit** writes everything with ``INSERT ... SELECT`` from the staged rows, never one
object per row: missing payers (by EDI payer id, then by the payer's normalised name; a new
name for a known id becomes an alias), providers (matched by normalised name through
:class:`~revcycle.services.imports.directory.Directory`; unknown ones created with a
placeholder NPI) and teams (a handful, through the ORM); clients (by patient key, first and
last name split from "Last, First" or "First Last"), a self guarantor for each, coverages
(client x payer, with the member id); the claims (with their rendering provider), their lines,
one claim event each (source ``import``); one opening balance per claim (the sum of its lines)
through :mod:`revcycle.services.ledger_bulk`; the flags; and the outcome rows' claim links. The
staged rows are then dropped: the outcome rows remain the batch's record. It runs in the
caller's transaction: any failure rolls all of it back.

Re-importing never rewrites history. The ledger is append-only, and a billing company's file
states what the other system believes: a claim whose balance differs gets an
``ar_balance_changed`` flag (the file's balance and ours, for a person to post an adjustment),
one whose other fields differ an ``ar_claim_changed`` flag listing them; the claim itself is
left as it is. Each flag's dedupe key holds the claim and the differing values, so importing
the same file again raises nothing new.

Claim numbers: the source's claim id when it fits CLM01 (17 characters); a longer one gets a
stable derived number (:func:`revcycle.domain.ar_rules.claim_number_for`) and the original is
kept in a note on the claim (the payer claim control number is the payer's ICN, not ours).

Balances: a positive balance posts ``ar:insurance +`` / ``opening_balance -``; a negative one is
a credit balance and posts reversed; a zero balance creates the claim (it is still open with
the payer, to be worked) with no ledger transaction, so the claim's balance is zero.

Audit: one row per batch, written by :mod:`revcycle.services.imports.batches` around these.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Date,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revcycle.adapters.csv import ArClaimRow, ImportFormat, ParsedRow, RejectedRow
from revcycle.adapters.csv.reading import location, quote
from revcycle.db.models import (
    Claim,
    ClaimEvent,
    ClaimLine,
    Client,
    Coverage,
    Guarantor,
    ImportBatch,
    ImportRowOutcome,
    LedgerBalance,
    Note,
    Payer,
    PayerAlias,
    Practice,
    Provider,
    StagedArRow,
    Team,
)
from revcycle.db.types import UTCDateTime, utcnow
from revcycle.domain.ar_rules import (
    CLAIM_NUMBER_MAX,
    ArClaimFacts,
    PayerKind,
    Rule,
    assign,
    effective_aging_days,
    government_kind_from_name,
)
from revcycle.domain.claim_status import ClaimStatus, EventSource
from revcycle.domain.ledger import Account, BalanceScope
from revcycle.domain.names import payer_key, person_key
from revcycle.domain.permissions import Permission
from revcycle.domain.problems import Problem
from revcycle.errors import Conflict
from revcycle.money import format_cents
from revcycle.services import assignment, ledger_bulk
from revcycle.services.actor import Actor
from revcycle.services.imports.directory import Directory, name_key
from revcycle.services.imports.flags import (
    FlagSpec,
    dedupe_key,
    existing_flag_keys,
    write_flags,
)
from revcycle.services.imports.handler import StageCounts
from revcycle.services.imports.staging import bulk_insert

__all__ = ["HANDLER", "ArPortfolioHandler", "claim_number_sql", "split_person_name"]

log = logging.getLogger(__name__)
_CHUNK = 10_000
_FLAG_CHUNK = 5_000  # existing_flag_keys asks in pieces up to this many keys
_WORK_MEM = "64MB"
_OUTCOMES = ("new", "updated", "unchanged", "flagged", "rejected")
# What a staged row is: the head of a claim to create (new), of a claim the practice has
# (unchanged / updated), a further line of the claim its claim id heads, or refused.
_NEW, _LINE, _UNCHANGED, _UPDATED, _REJECTED = "new", "line", "unchanged", "updated", "rejected"
_HEADS = (_NEW, _UNCHANGED, _UPDATED)
_STAGED_COLUMNS = (
    "practice_id",
    "batch_id",
    "row_number",
    "claim_ref",
    "patient_name",
    "patient_key",
    "payer_name",
    "payer_edi_id",
    "member_id",
    "provider_name",
    "procedure_code",
    "service_on",
    "aging_days",
    "billed_cents",
    "balance_cents",
    "team_name",
    "outcome",
)
# (field of the staged row, the column as the file calls it, the staging table's limit)
_LIMITS = (
    ("claim_ref", "Claim ID", 50),
    ("patient_name", "Patient", 200),
    ("payer_name", "Payer", 250),
    ("payer_edi_id", "Payer ID", 20),
    ("member_id", "Member ID", 40),
    ("provider_name", "Provider", 200),
    ("procedure_code", "CPT", 10),
)
# The fields two rows of one claim are compared on, as the file's columns are called.
_ROW_FIELDS = (
    ("patient_name", "Patient"),
    ("payer_name", "Payer"),
    ("payer_edi_id", "Payer ID"),
    ("member_id", "Member ID"),
    ("provider_name", "Provider"),
    ("aging_days", "Aging Days"),
    ("billed_cents", "Billed"),
    ("balance_cents", "Balance"),
)
# What settling the rows of one claim id reads of each.
_GROUP_COLUMNS = (
    "row_number",
    "claim_ref",
    "patient_key",
    "procedure_code",
    "service_on",
    "team_name",
    *(name for name, _ in _ROW_FIELDS),
)

# Work tables (per connection, gone at the end of the transaction; dropped when done).
_work = MetaData()


def _work_table(name: str, *columns: Column[Any]) -> Table:
    return Table(name, _work, *columns, prefixes=["TEMPORARY"], postgresql_on_commit="DROP")


# commit
_tmp_payers = _work_table(
    "tmp_ar_payers",
    Column("payer_name", String(250), primary_key=True),
    Column("payer_edi_id", String(20), primary_key=True),
    Column("payer_id", BigInteger, nullable=False),
)
_tmp_providers = _work_table(
    "tmp_ar_providers",
    Column("provider_name", String(200), primary_key=True),
    Column("provider_id", BigInteger, nullable=False),
)
_tmp_teams = _work_table(
    "tmp_ar_teams",
    Column("team_name", String(100), primary_key=True),
    Column("team_id", BigInteger, nullable=False),
)
_tmp_clients = _work_table(
    "tmp_ar_clients",
    Column("name_key", String(200), primary_key=True),
    Column("client_id", BigInteger, nullable=False),
)
_tmp_coverages = _work_table(
    "tmp_ar_coverages",
    Column("client_id", BigInteger, primary_key=True),
    Column("payer_id", BigInteger, primary_key=True),
    Column("coverage_id", BigInteger, nullable=False),
)
# One row per claim created: its head row, ids, the claim's balance and its first line.
_tmp_rows = _work_table(
    "tmp_ar_rows",
    Column("row_number", Integer, primary_key=True),
    Column("claim_id", BigInteger, nullable=False),
    Column("client_id", BigInteger, nullable=False),
    Column("payer_id", BigInteger, nullable=False),
    Column("coverage_id", BigInteger, nullable=False),
    Column("balance_cents", BigInteger, nullable=False),
    Column("line_billed_cents", BigInteger, nullable=False),
    Column("service_on", Date, nullable=False),
    Column("procedure_code", String(10), nullable=False),
)
# The further lines of the claims created.
_tmp_lines = _work_table(
    "tmp_ar_lines",
    Column("row_number", Integer, primary_key=True),
    Column("claim_id", BigInteger, nullable=False),
    Column("line_number", Integer, nullable=False),
)
# stage and commit: what a claim's further lines add to its head row
_tmp_line_totals = _work_table(
    "tmp_ar_line_totals",
    Column("claim_ref", String(50), primary_key=True),
    Column("lines", Integer, nullable=False),
    Column("balance_cents", BigInteger, nullable=False),
    Column("billed_cents", BigInteger, nullable=False),
    Column("unbilled_lines", Integer, nullable=False),
    Column("first_on", Date, nullable=False),
    Column("last_on", Date, nullable=False),
)
# stage and commit: the catalog payer and the practice's provider each name of the file is
# (None: unknown), for comparing claims the practice has
_tmp_payer_map = _work_table(
    "tmp_ar_payer_map",
    Column("payer_name", String(250), primary_key=True),
    Column("payer_edi_id", String(20), primary_key=True),
    Column("payer_id", BigInteger, nullable=True),
)
_tmp_provider_map = _work_table(
    "tmp_ar_provider_map",
    Column("provider_name", String(200), primary_key=True),
    Column("provider_id", BigInteger, nullable=True),
)
# stage: the rows of repeated claim ids in (claim id, row) order; what settling them decided;
# the head row of each claim with further lines
_tmp_repeated = _work_table(
    "tmp_ar_repeated",
    Column("seq", Integer, primary_key=True),
    Column("row_number", Integer, nullable=False),
)
_tmp_decisions = _work_table(
    "tmp_ar_decisions",
    Column("row_number", Integer, primary_key=True),
    Column("outcome", String(20), nullable=False),
    Column("team_name", String(100), nullable=False),
)
_tmp_heads = _work_table(
    "tmp_ar_heads",
    Column("claim_ref", String(50), primary_key=True),
    Column("row_number", Integer, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("claim_id", BigInteger, nullable=True),
)
_COMMIT_TABLES = (
    _tmp_payers,
    _tmp_providers,
    _tmp_teams,
    _tmp_clients,
    _tmp_coverages,
    _tmp_rows,
    _tmp_lines,
    _tmp_line_totals,
)
_STAGE_TABLES = (_tmp_repeated, _tmp_decisions, _tmp_line_totals, _tmp_heads)


# --- names, numbers and SQL both databases understand ----------------------------------------------


def split_person_name(name: str) -> tuple[str, str]:
    """(first, last) from "Last, First" or "First Last" (one word: a last name only)."""
    collapsed = " ".join(name.split())
    if "," in collapsed:
        last, first = collapsed.split(",", 1)
        return first.strip(), last.strip()
    first, _, last = collapsed.rpartition(" ")
    return first, last


@lru_cache(maxsize=65_536)
def _person(name: str) -> tuple[str, str]:
    """The staged form of a patient name ("Last, First") and its matching key."""
    first, last = split_person_name(name)
    return (f"{last}, {first}" if first else last), person_key(name)


def claim_number_sql(session: Session, claim_ref: Any) -> ColumnElement[str]:
    """:func:`~revcycle.domain.ar_rules.claim_number_for` in SQL (refs are staged stripped)."""
    digest = ledger_bulk.sha256_hex(session, claim_ref)
    derived = literal("AR", String) + func.upper(func.substr(digest, 1, CLAIM_NUMBER_MAX - 2))
    return case((func.length(claim_ref) <= CLAIM_NUMBER_MAX, claim_ref), else_=derived)


def _table(model: Any) -> Table:
    """A model's table: Core statements on it skip the ORM's per-row bookkeeping."""
    table: Table = model.__table__
    return table


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _empty_json(session: Session) -> ColumnElement[Any]:
    return cast(literal("{}"), JSON) if _is_postgresql(session) else literal("{}", String)


def _json_object(session: Session, *pairs: Any) -> ColumnElement[Any]:
    build = func.json_build_object if _is_postgresql(session) else func.json_object
    return build(*pairs)


def _position(session: Session, text: Any, needle: str) -> ColumnElement[int]:
    return func.strpos(text, needle) if _is_postgresql(session) else func.instr(text, needle)


def _earlier(a: Any, b: Any) -> ColumnElement[Any]:
    """The earlier of two dates, ``a`` possibly NULL (LEAST/MIN differ between the two)."""
    return case((a < b, a), else_=b)


def _later(a: Any, b: Any) -> ColumnElement[Any]:
    return case((a > b, a), else_=b)


def _billed(staged: Any) -> ColumnElement[int]:
    """A row's billed amount; a file without one bills what is still owed (never below 0)."""
    return func.coalesce(staged.billed_cents, case((staged.balance_cents > 0, staged.balance_cents), else_=0))


def _practice_today(session: Session, practice_id: int) -> date:
    timezone = session.scalar(select(Practice.timezone).where(Practice.id == practice_id))
    return datetime.now(ZoneInfo(timezone or "UTC")).date()


def _create_tables(session: Session, *tables: Table) -> None:
    # On a failure the caller's rollback takes them away (DDL is transactional on both).
    connection = session.connection()
    for table in tables:
        table.drop(connection, checkfirst=True)
        table.create(connection)


def _drop_tables(session: Session, *tables: Table) -> None:
    connection = session.connection()
    for table in tables:
        table.drop(connection, checkfirst=True)


def _analyze(session: Session, table: Any) -> None:
    # PostgreSQL plans the joins from statistics; fresh bulk rows have none yet.
    if _is_postgresql(session):
        session.execute(text(f"ANALYZE {table.name}"))


def _write_rows(
    session: Session, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Many plain rows into one table: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    connection = session.connection()
    names = ", ".join(columns)
    if _is_postgresql(session):
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(rows))  # noqa: S608


def _batch_rows(batch: ImportBatch, *outcomes: str) -> ColumnElement[bool]:
    condition = StagedArRow.batch_id == batch.id
    return and_(condition, StagedArRow.outcome.in_(outcomes)) if outcomes else condition


def _existing_claim(session: Session, batch: ImportBatch) -> Any:
    return select(Claim.id).where(
        Claim.practice_id == batch.practice_id,
        Claim.number == claim_number_sql(session, StagedArRow.claim_ref),
    )


def _build_line_totals(session: Session, batch: ImportBatch) -> None:
    """What each claim's further lines add to its head row (their sums and dates)."""
    s = StagedArRow.__table__.c
    rows = (
        select(
            s.claim_ref,
            func.count(),
            func.sum(s.balance_cents),
            func.sum(_billed(s)),
            func.sum(case((s.billed_cents.is_(None), 1), else_=0)),
            func.min(s.service_on),
            func.max(s.service_on),
        )
        .where(_batch_rows(batch, _LINE))
        .group_by(s.claim_ref)
    )
    columns = ["claim_ref", "lines", "balance_cents", "billed_cents", "unbilled_lines", "first_on", "last_on"]
    session.execute(_tmp_line_totals.insert().from_select(columns, rows))
    _analyze(session, _tmp_line_totals)


def _has_lines(session: Session) -> bool:
    return session.scalar(select(exists().select_from(_tmp_line_totals))) or False


# --- payers ------------------------------------------------------------------------------------------


def _payer_by_edi(session: Session, edi_id: str) -> int | None:
    if not edi_id:
        return None
    return session.scalar(select(Payer.id).where(Payer.edi_payer_id == edi_id).order_by(Payer.id).limit(1))


def _payer_by_alias(session: Session, key: str) -> int | None:
    return session.scalar(select(PayerAlias.payer_id).where(PayerAlias.normalized == key).limit(1))


def _find_payer(session: Session, name: str, edi_id: str) -> int | None:
    """The catalog payer a file's payer is (EDI id first, then name), or None."""
    found = _payer_by_edi(session, edi_id)
    return found if found is not None else _payer_by_alias(session, payer_key(name))


def _payer_for(session: Session, name: str, edi_id: str) -> tuple[int, bool]:
    """The catalog payer for a file's payer (EDI id first, then name), created if unknown."""
    key = payer_key(name)
    payer_id = _find_payer(session, name, edi_id)
    created = payer_id is None
    if payer_id is None:
        kind = government_kind_from_name(name) or PayerKind.COMMERCIAL
        payer = Payer(name=name, edi_payer_id=edi_id, kind=str(kind))
        session.add(payer)
        session.flush()
        payer_id = payer.id
    if key and _payer_by_alias(session, key) is None:
        session.add(PayerAlias(payer_id=payer_id, alias=name, normalized=key))
        session.flush()
    return payer_id, created


class _PlannedPayers:
    """What :func:`_payer_for` will do at commit, without writing: the catalog payer of each of
    the file's payers, in file order, or a planned one (a negative id) commit will create."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_edi: dict[str, int] = {}
        self.by_key: dict[str, int] = {}
        self._next = -1

    def __call__(self, name: str, edi_id: str) -> tuple[int, bool]:
        key = payer_key(name)
        found = _payer_by_edi(self.session, edi_id)
        if found is None and edi_id:
            found = self.by_edi.get(edi_id)
        alias = _payer_by_alias(self.session, key)
        if found is None:
            found = alias if alias is not None else self.by_key.get(key)
        created = found is None
        if found is None:
            found, self._next = self._next, self._next - 1
            if edi_id:
                self.by_edi[edi_id] = found
        if key and alias is None:
            self.by_key.setdefault(key, found)
        return found, created


def _payer_shown(name: str, edi_id: str) -> str:
    return f"{name} ({edi_id})" if edi_id else name


def _claims_phrase(count: int) -> str:
    return f"{count:,} claim{'' if count == 1 else 's'}"


# --- flags about a payer or a clinician: once each, with the claims they concern --------------------


@dataclass
class _Subject:
    """A payer or clinician of the file that is new to us, and the file's claims it concerns."""

    rule: str
    name: str
    key: str
    first_row: int
    claims: int
    subject_id: int | None = None

    def flag(self, batch: ImportBatch) -> FlagSpec:
        where = f"{_claims_phrase(self.claims)} in the AR portfolio {batch.filename} (import {batch.id})"
        if self.rule == "unknown_payer":
            return FlagSpec(
                self.rule,
                dedupe_key(self.rule, self.key),
                f"payer {self.name} is not in the catalog: {where}, first on row {self.first_row}; "
                "map it to a catalog payer or keep it as a new one",
                title=f"Unknown payer: {self.name}",
                extra={"claims": self.claims},
                payer_id=self.subject_id,
            )
        return FlagSpec(
            self.rule,
            dedupe_key(self.rule, self.key),
            f"clinician {self.name} is new: add their NPI ({where}, first on row {self.first_row})",
            title=f"Unknown clinician: {self.name}",
            extra={"claims": self.claims},
            provider_id=self.subject_id,
        )


def _new_payers(
    session: Session, batch: ImportBatch, resolve: Callable[[str, str], tuple[int, bool]]
) -> tuple[list[dict[str, Any]], list[_Subject]]:
    """Each payer of the new claims resolved in file order (its catalog id), and the ones
    resolving created: one subject per created payer, however many names led to it."""
    s = StagedArRow
    first = func.min(s.row_number)
    pairs = session.execute(
        select(s.payer_name, s.payer_edi_id, func.count(), first)
        .where(_batch_rows(batch, _NEW))
        .group_by(s.payer_name, s.payer_edi_id)
        .order_by(first)
    ).all()
    mapping: list[dict[str, Any]] = []
    created: dict[int, _Subject] = {}
    for name, edi_id, claims, first_row in pairs:
        payer_id, new = resolve(name, edi_id)
        mapping.append({"payer_name": name, "payer_edi_id": edi_id, "payer_id": payer_id})
        if new:
            shown = _payer_shown(name, edi_id)
            created[payer_id] = _Subject("unknown_payer", shown, payer_key(name), first_row, 0, payer_id)
        if payer_id in created:
            created[payer_id].claims += claims
    return mapping, list(created.values())


def _new_clinicians(session: Session, batch: ImportBatch, directory: Directory) -> list[_Subject]:
    """The rendering providers of the new claims the practice does not have, once per person
    (``Dana Lee`` and ``LEE, DANA`` are one), in file order."""
    s = StagedArRow
    first = func.min(s.row_number)
    names = session.execute(
        select(s.provider_name, func.count(), first)
        .where(_batch_rows(batch, _NEW), s.provider_name != "")
        .group_by(s.provider_name)
        .order_by(first)
    ).all()
    unknown: dict[str, _Subject] = {}
    for name, claims, first_row in names:
        key = name_key(name)
        if key in unknown:
            unknown[key].claims += claims
        elif key and directory.provider(name) is None:
            unknown[key] = _Subject("unknown_clinician", name, key, first_row, claims)
    return list(unknown.values())


# --- claims the practice has, against the file ------------------------------------------------------


@dataclass
class _ClaimChange:
    """A claim the practice has, which the file describes differently: ``diff`` maps each
    differing field to [ours, the file's]."""

    row_number: int
    claim_id: int
    client_id: int
    number: str
    patient: str
    payer: str
    diff: dict[str, list[Any]]
    detail: dict[str, Any]

    def flags(self, batch: ImportBatch) -> list[FlagSpec]:
        """What a person must look at: the balance (post an adjustment?), the other fields."""
        source = f"the AR portfolio {batch.filename} (import {batch.id})"
        about = f"claim {self.number} ({self.patient}, {self.payer})"
        flags = []
        if "balance_cents" in self.diff:
            ours, theirs = self.diff["balance_cents"]
            flags.append(
                FlagSpec(
                    "ar_balance_changed",
                    dedupe_key("ar_balance_changed", self.number, theirs, ours),
                    f"{about}: {source} says {format_cents(theirs)} is owed; our ledger says "
                    f"{format_cents(ours)}. Nothing was changed: if the file is right, post an "
                    f"adjustment of {format_cents(theirs - ours)}.",
                    title=f"Balance differs from the AR file: claim {self.number}",
                    extra={"ours_cents": ours, "theirs_cents": theirs},
                )
            )
        others = {k: v for k, v in self.diff.items() if k != "balance_cents"}
        if others:
            listed = "; ".join(
                f"{k.replace('_', ' ')}: ours {_shown(k, v[0])}, the file's {_shown(k, v[1])}"
                for k, v in others.items()
            )
            flags.append(
                FlagSpec(
                    "ar_claim_changed",
                    dedupe_key(
                        "ar_claim_changed", self.number, *sorted(f"{k}={v[1]}" for k, v in others.items())
                    ),
                    f"{about} differs from {source}: {listed}. Nothing was changed.",
                    title=f"Claim differs from the AR file: claim {self.number}",
                    extra={"diff": others},
                )
            )
        return flags


def _shown(field: str, value: Any) -> str:
    if value is None or value == "":
        return "none"
    return format_cents(value) if field.endswith("_cents") else str(value)


def _dated(value: date | str | None) -> str:
    if value is None:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return day.strftime("%m/%d/%Y")


def _dates_shown(first: date | str, last: date | str) -> str:
    shown = _dated(first)
    return shown if _dated(last) == shown else f"{shown} - {_dated(last)}"


class _Comparison:
    """The claims the practice has that the batch's heads (of one staged outcome) describe
    differently, a page at a time (no cursor stays open between pages, so the caller may write).

    The differences are computed in SQL; the work tables it needs (line totals) must exist.
    """

    def __init__(
        self,
        session: Session,
        batch: ImportBatch,
        outcome: str,
        directory: Callable[[], Directory],
        page_rows: int,
    ) -> None:
        self.session = session
        self.batch = batch
        self.outcome = outcome
        self._directory = directory
        self.page_rows = page_rows

    def pages(self) -> Iterator[list[_ClaimChange]]:
        _create_tables(self.session, _tmp_payer_map, _tmp_provider_map)
        self._map_payers()
        self._map_providers()
        query, after = self._query(), 0
        while True:
            rows = self.session.execute(query, {"after": after}).all()
            if not rows:
                break
            after = rows[-1].row_number
            yield [change for change in map(self._change, rows) if change.diff]
        _drop_tables(self.session, _tmp_payer_map, _tmp_provider_map)

    def _heads(self) -> ColumnElement[bool]:
        return _batch_rows(self.batch, self.outcome)

    def _map_payers(self) -> None:
        s = StagedArRow
        pairs = self.session.execute(
            select(s.payer_name, s.payer_edi_id).where(self._heads()).distinct()
        ).all()
        rows = [
            {"payer_name": name, "payer_edi_id": edi_id, "payer_id": _find_payer(self.session, name, edi_id)}
            for name, edi_id in pairs
        ]
        if rows:
            self.session.execute(_tmp_payer_map.insert(), rows)

    def _map_providers(self) -> None:
        s = StagedArRow
        names = self.session.scalars(
            select(s.provider_name).where(self._heads(), s.provider_name != "").distinct()
        ).all()
        if names:
            directory = self._directory()
            rows = [{"provider_name": name, "provider_id": directory.provider(name)} for name in names]
            self.session.execute(_tmp_provider_map.insert(), rows)

    def _query(self) -> Any:
        s = StagedArRow.__table__.c
        c = Claim.__table__.c
        lt, pm, vm = _tmp_line_totals.c, _tmp_payer_map.c, _tmp_provider_map.c
        balance, payer, client = LedgerBalance.__table__, Payer.__table__, Client.__table__
        provider = Provider.__table__
        practice_id = self.batch.practice_id
        theirs = s.balance_cents + func.coalesce(lt.balance_cents, 0)
        ours = func.coalesce(balance.c.balance_cents, 0)
        first_on = _earlier(lt.first_on, s.service_on)
        last_on = _later(lt.last_on, s.service_on)
        billed = s.billed_cents + func.coalesce(lt.billed_cents, 0)
        known = Client.__table__.alias("known_as").c
        same_patient = exists().where(
            known.practice_id == practice_id,
            known.name_key == s.patient_key,
            or_(known.id == c.client_id, known.merged_into_id == c.client_id),
        )
        differs = {
            "balance_differs": theirs != ours,
            "payer_differs": pm.payer_id.is_distinct_from(c.payer_id),
            "patient_differs": ~same_patient,
            "provider_differs": and_(
                s.provider_name != "",
                or_(vm.provider_id.is_(None), vm.provider_id.is_distinct_from(c.provider_id)),
            ),
            "dates_differ": or_(first_on != c.service_from_on, last_on != c.service_to_on),
            "billed_differs": and_(
                s.billed_cents.is_not(None),
                func.coalesce(lt.unbilled_lines, 0) == 0,
                billed != c.billed_cents,
            ),
        }
        source = (
            StagedArRow.__table__.join(
                Claim.__table__,
                and_(c.practice_id == practice_id, c.number == claim_number_sql(self.session, s.claim_ref)),
            )
            .join(payer, payer.c.id == c.payer_id)
            .join(client, client.c.id == c.client_id)
            .outerjoin(provider, provider.c.id == c.provider_id)
            .outerjoin(_tmp_line_totals, lt.claim_ref == s.claim_ref)
            .outerjoin(
                balance,
                and_(
                    balance.c.practice_id == practice_id,
                    balance.c.scope == str(BalanceScope.CLAIM),
                    balance.c.scope_id == c.id,
                    balance.c.account == str(Account.AR_INSURANCE),
                ),
            )
            .outerjoin(_tmp_payer_map, and_(pm.payer_name == s.payer_name, pm.payer_edi_id == s.payer_edi_id))
            .outerjoin(_tmp_provider_map, vm.provider_name == s.provider_name)
        )
        return (
            select(
                s.row_number,
                s.claim_ref,
                s.patient_name,
                s.payer_name,
                s.payer_edi_id,
                s.provider_name,
                s.procedure_code,
                s.aging_days,
                s.team_name,
                c.id.label("claim_id"),
                c.number,
                c.client_id,
                c.service_from_on,
                c.service_to_on,
                c.billed_cents.label("our_billed"),
                payer.c.name.label("our_payer"),
                client.c.first_name.label("client_first"),
                client.c.last_name.label("client_last"),
                provider.c.first_name.label("provider_first"),
                provider.c.last_name.label("provider_last"),
                theirs.label("their_balance"),
                ours.label("our_balance"),
                first_on.label("first_on"),
                last_on.label("last_on"),
                billed.label("their_billed"),
                *(condition.label(name) for name, condition in differs.items()),
            )
            .select_from(source)
            .where(self._heads(), s.row_number > bindparam("after", type_=Integer), or_(*differs.values()))
            .order_by(s.row_number)
            .limit(self.page_rows)
        )

    def _change(self, row: Row[Any]) -> _ClaimChange:
        ours_patient = f"{row.client_last}, {row.client_first}" if row.client_first else row.client_last
        ours_provider = f"{row.provider_first} {row.provider_last}" if row.provider_last is not None else None
        theirs_payer = _payer_shown(row.payer_name, row.payer_edi_id)
        diff: dict[str, list[Any]] = {}
        if row.balance_differs:
            diff["balance_cents"] = [int(row.our_balance), int(row.their_balance)]
        if row.payer_differs:
            diff["payer"] = [row.our_payer, theirs_payer]
        if row.patient_differs:
            diff["patient"] = [ours_patient, row.patient_name]
        if row.provider_differs:
            diff["provider"] = [ours_provider, row.provider_name]
        if row.dates_differ:
            diff["service_on"] = [
                _dates_shown(row.service_from_on, row.service_to_on),
                _dates_shown(row.first_on, row.last_on),
            ]
        if row.billed_differs:
            diff["billed_cents"] = [int(row.our_billed), int(row.their_billed)]
        detail = {
            "claim": row.claim_ref,
            "patient": row.patient_name,
            "payer": row.payer_name,
            "clinician": row.provider_name,
            "code": row.procedure_code,
            "balance_cents": int(row.their_balance),
            "aging_days": row.aging_days,
            "team": row.team_name,
        }
        return _ClaimChange(
            row.row_number, row.claim_id, row.client_id, row.number, ours_patient, row.our_payer, diff, detail
        )


def _write_claim_flags(
    session: Session, practice_id: int, changes: Sequence[_ClaimChange], batch: ImportBatch
) -> int:
    """The flags of changed claims whose dedupe key is new, with their claim and client;
    returns how many."""
    written = 0
    for start in range(0, len(changes), _FLAG_CHUNK):
        specs = []
        for change in changes[start : start + _FLAG_CHUNK]:
            for flag in change.flags(batch):
                flag.claim_id, flag.client_id, flag.session_id = change.claim_id, change.client_id, None
                specs.append(flag)
        written += write_flags(session, practice_id, specs)
    return written


# --- the handler ------------------------------------------------------------------------------------


class ArPortfolioHandler:
    """Stages and commits AR aging / portfolio files (see the module's docstring)."""

    format = ImportFormat.AR_AGING

    def __init__(
        self,
        *,
        rules: Sequence[Rule] | None = None,
        today: Callable[[], date] | None = None,
        page_rows: int = _CHUNK,
    ) -> None:
        # None: the organization's saved assignment rules (services.assignment), else the defaults.
        self.rules = tuple(rules) if rules is not None else None
        self._clock = today
        # How many rows the Python side of stage and commit holds at once.
        self.page_rows = page_rows

    def today(self, session: Session, practice_id: int) -> date:
        return self._clock() if self._clock else _practice_today(session, practice_id)

    # -- stage --

    def stage(
        self,
        session: Session,
        batch: ImportBatch,
        rows: Iterator[ParsedRow | RejectedRow],
        *,
        actor: Actor,
    ) -> StageCounts:
        actor.require(batch.practice_id, Permission.ENTER_CHARGES)
        ledger_bulk.prepare_sql_functions(session)
        team_for = (
            assignment.import_team_for(session, batch.practice_id)
            if self.rules is None
            else _team_by(self.rules)
        )
        writer = _StageWriter(session, batch, team_for, self.today(session, batch.practice_id))
        started = time.perf_counter()
        for row in rows:
            writer.add(row)
        writer.flush()
        if _is_postgresql(session):
            session.execute(text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
            session.execute(text("ANALYZE staged_ar_rows"))
        log.debug("import %s: staged rows written in %.2f s", batch.id, time.perf_counter() - started)
        _Settle(session, batch, writer, self.page_rows).run()
        return _counts(session, batch)

    # -- commit --

    def commit(self, session: Session, batch: ImportBatch, *, actor: Actor) -> dict[str, int]:
        practice_id = batch.practice_id
        actor.require(practice_id, Permission.ENTER_CHARGES)
        accounting_on = self.today(session, practice_id)
        ledger_bulk.refuse_closed_period(session, practice_id, accounting_on)
        ledger_bulk.prepare_sql_functions(session)
        return _Commit(session, batch, actor, accounting_on, self.page_rows).run()

    # -- discard --

    def discard(self, session: Session, batch: ImportBatch, *, actor: Actor) -> None:
        actor.require(batch.practice_id, Permission.ENTER_CHARGES)
        session.execute(delete(StagedArRow).where(StagedArRow.batch_id == batch.id))


HANDLER = ArPortfolioHandler()


def _team_by(rules: Sequence[Rule]) -> Callable[[ArClaimFacts], str]:
    return lambda facts: assign(facts, rules).team


# --- staging ------------------------------------------------------------------------------------


class _StageWriter:
    """Turns parsed rows into staged rows and rejected outcomes, written a chunk at a time."""

    def __init__(
        self, session: Session, batch: ImportBatch, team_for: Callable[[ArClaimFacts], str], today: date
    ) -> None:
        self.session = session
        self.batch = batch
        self.team_for = team_for
        self.today = today
        self.staged: list[tuple[Any, ...]] = []
        self.rejected: list[dict[str, Any]] = []
        self._kinds: dict[tuple[str, str], str | None] = {}
        self._copy = _is_postgresql(session)

    def add(self, row: ParsedRow | RejectedRow) -> None:
        if isinstance(row, RejectedRow):
            self.reject(row.row_number, row.problems)
        elif isinstance(row, ArClaimRow):
            self._stage(row)
        else:
            raise TypeError(f"an AR portfolio import got a {type(row).__name__}")
        if len(self.staged) >= _CHUNK or len(self.rejected) >= _CHUNK:
            self.flush()

    def _stage(self, row: ArClaimRow) -> None:
        patient_name, patient_key = _person(row.patient_name)
        values = {
            "claim_ref": row.claim_id.strip(),
            "patient_name": patient_name,
            "payer_name": row.payer.name,
            "payer_edi_id": row.payer.payer_id or "",
            "member_id": row.member_id or "",
            "provider_name": " ".join((row.provider_name or "").split()),
            "procedure_code": (row.procedure_code or "").upper(),
        }
        problems = self._too_long(row.row_number, values)
        if problems:
            self.reject(row.row_number, problems)
            return
        aging = effective_aging_days(row.aging_days, row.service_on, self.today)
        self.staged.append(
            (
                self.batch.practice_id,
                self.batch.id,
                row.row_number,
                values["claim_ref"],
                values["patient_name"],
                patient_key,
                values["payer_name"],
                values["payer_edi_id"],
                values["member_id"],
                values["provider_name"],
                values["procedure_code"],
                # COPY takes the date; sqlite3's own date adapter is deprecated: ISO text.
                row.service_on if self._copy else row.service_on.isoformat(),
                aging,
                row.billed_cents,
                row.balance_cents,
                self.team(row.balance_cents, aging, values["payer_name"], values["payer_edi_id"]),
                _NEW,
            )
        )

    def team(self, balance_cents: int, aging_days: int, payer_name: str, payer_edi_id: str) -> str:
        """The team the rules give a claim of this balance, age and payer."""
        kind = self._payer_kind(payer_name, payer_edi_id)
        return self.team_for(ArClaimFacts(balance_cents, aging_days, payer_name, kind))

    def _too_long(self, row_number: int, values: dict[str, str]) -> list[Problem]:
        return [
            Problem(
                "csv.too_long",
                location(self.batch.filename, row_number, column),
                f"{quote(values[field])} is longer than {limit} characters",
            )
            for field, column, limit in _LIMITS
            if len(values[field]) > limit
        ]

    def _payer_kind(self, name: str, edi_id: str) -> str | None:
        """The catalog's kind for this payer, or None when the catalog does not know it."""
        key = (name, edi_id)
        if key not in self._kinds:
            payer_id = _find_payer(self.session, name, edi_id)
            self._kinds[key] = (
                None
                if payer_id is None
                else self.session.scalar(select(Payer.kind).where(Payer.id == payer_id))
            )
        return self._kinds[key]

    def reject(self, row_number: int, problems: Sequence[Problem]) -> None:
        detail = {
            "problems": [{"code": p.code, "where": p.where, "message": p.message} for p in problems],
            "reason": "; ".join(f"{p.where}: {p.message}" for p in problems),
        }
        self.rejected.append(
            {
                "practice_id": self.batch.practice_id,
                "batch_id": self.batch.id,
                "row_number": row_number,
                "outcome": _REJECTED,
                "detail": detail,
            }
        )

    def flush(self) -> None:
        if self.staged:
            _write_rows(self.session, "staged_ar_rows", _STAGED_COLUMNS, self.staged)
            self.staged = []
        if self.rejected:
            self.session.execute(insert(ImportRowOutcome), self.rejected)
            self.rejected = []


class _Settle:
    """After the rows are staged: lines into claims, claims we have against the file, and
    every row's outcome (see the module's docstring); each step set-based."""

    def __init__(self, session: Session, batch: ImportBatch, writer: _StageWriter, page_rows: int) -> None:
        self.session = session
        self.batch = batch
        self.writer = writer
        self.page_rows = page_rows
        self._loaded: Directory | None = None

    def run(self) -> None:
        _create_tables(self.session, *_STAGE_TABLES)
        steps = (
            self._settle_repeated_claims,
            self._line_totals,
            self._mark_existing_claims,
            self._compare_existing_claims,
            self._insert_outcomes,
            self._flag_new_subjects,
        )
        for step in steps:
            started = time.perf_counter()
            step()
            log.debug(
                "import %s: %s took %.2f s", self.batch.id, step.__name__, time.perf_counter() - started
            )
        _drop_tables(self.session, *_STAGE_TABLES)

    def _directory(self) -> Directory:
        if self._loaded is None:
            self._loaded = Directory.load(self.session, self.batch.practice_id)
        return self._loaded

    # -- one claim id on several rows --

    def _settle_repeated_claims(self) -> None:
        """Rows sharing a claim id: lines of one claim, or rejected (see the module's docstring)."""
        s = StagedArRow
        repeated = (
            select(s.claim_ref).where(_batch_rows(self.batch)).group_by(s.claim_ref).having(func.count() > 1)
        )
        order = func.row_number().over(order_by=(s.claim_ref, s.row_number))
        found = self.session.execute(
            _tmp_repeated.insert()
            .from_select(
                ["seq", "row_number"],
                select(order, s.row_number).where(_batch_rows(self.batch), s.claim_ref.in_(repeated)),
            )
            .execution_options(preserve_rowcount=True)
        )
        if not found.rowcount:  # type: ignore[attr-defined]
            return
        decisions: list[tuple[int, str, str]] = []
        for rows in self._repeated_groups():
            decisions.extend(self._settle_claim(rows))
            if len(decisions) >= self.page_rows:
                self._record(decisions)
                decisions = []
        self._record(decisions)
        self.writer.flush()
        d = _tmp_decisions.c
        self.session.execute(
            update(StagedArRow)
            .where(_batch_rows(self.batch), StagedArRow.row_number == d.row_number)
            .values(outcome=d.outcome, team_name=d.team_name)
            .execution_options(synchronize_session=False)
        )

    def _record(self, decisions: list[tuple[int, str, str]]) -> None:
        _write_rows(self.session, _tmp_decisions.name, ("row_number", "outcome", "team_name"), decisions)

    def _repeated_groups(self) -> Iterator[list[Row[Any]]]:
        """The rows of each repeated claim id, in file order, read a page at a time."""
        s = StagedArRow.__table__.c
        r = _tmp_repeated.c
        page = (
            select(r.seq, *(s[name] for name in _GROUP_COLUMNS))
            .select_from(
                _tmp_repeated.join(
                    StagedArRow.__table__, and_(s.batch_id == self.batch.id, s.row_number == r.row_number)
                )
            )
            .where(r.seq > bindparam("after", type_=Integer))
            .order_by(r.seq)
            .limit(self.page_rows)
        )
        pending: list[Row[Any]] = []
        after = 0
        while rows := self.session.execute(page, {"after": after}).all():
            after = rows[-1].seq
            for row in rows:
                if pending and row.claim_ref != pending[0].claim_ref:
                    yield pending
                    pending = []
                pending.append(row)
        if pending:
            yield pending

    def _settle_claim(self, rows: list[Row[Any]]) -> list[tuple[int, str, str]]:
        """One claim id's rows: the first heads the claim; each other is a line or rejected."""
        head, decisions = rows[0], []
        lines = {(head.service_on, head.procedure_code): head}
        for row in rows[1:]:
            problem = self._disagreement(head, row) or self._repeat(lines, row)
            if problem is not None:
                self.writer.reject(row.row_number, [problem])
                decisions.append((row.row_number, _REJECTED, row.team_name))
                continue
            lines[(row.service_on, row.procedure_code)] = row
            decisions.append((row.row_number, _LINE, row.team_name))
        if len(lines) > 1:
            # The claim is worked as a whole: its team is judged on its total.
            team = self.writer.team(
                sum(line.balance_cents for line in lines.values()),
                max(line.aging_days for line in lines.values()),
                head.payer_name,
                head.payer_edi_id,
            )
            decisions = [(n, outcome, team if outcome == _LINE else own) for n, outcome, own in decisions]
            if team != head.team_name:
                decisions.append((head.row_number, _NEW, team))
        return decisions

    def _disagreement(self, head: Row[Any], row: Row[Any]) -> Problem | None:
        """A problem when ``row`` names another patient or payer than the claim's first row."""
        ref = quote(head.claim_ref)
        if row.patient_key != head.patient_key:
            column, ours, theirs, what = "Patient", head.patient_name, row.patient_name, "patient"
        elif (payer_key(row.payer_name), row.payer_edi_id) != (payer_key(head.payer_name), head.payer_edi_id):
            column, what = "Payer", "payer"
            ours = _payer_shown(head.payer_name, head.payer_edi_id)
            theirs = _payer_shown(row.payer_name, row.payer_edi_id)
        else:
            return None
        return Problem(
            "import.claim_disagrees",
            location(self.batch.filename, row.row_number, column),
            f"claim {ref} is for {what} {quote(ours)} on row {head.row_number} but {quote(theirs)} on "
            f"row {row.row_number}: one claim has one {what}",
        )

    def _repeat(self, lines: dict[tuple[Any, str], Row[Any]], row: Row[Any]) -> Problem | None:
        """A problem when ``row`` repeats a line (same date of service and code) already read."""
        other = lines.get((row.service_on, row.procedure_code))
        if other is None:
            return None
        ref, filename = quote(row.claim_ref), self.batch.filename
        differing = [(f, column) for f, column in _ROW_FIELDS if getattr(row, f) != getattr(other, f)]
        if not differing:
            return Problem(
                "import.duplicate_row",
                location(filename, row.row_number, "Claim ID"),
                f"claim {ref}: row {row.row_number} repeats row {other.row_number} exactly (a duplicate)",
            )
        name, column = differing[0]
        line = f"{row.procedure_code or 'line'} on {_dated(row.service_on)}"
        return Problem(
            "import.repeated_line",
            location(filename, row.row_number, column),
            f"claim {ref} has its {line} on row {other.row_number} and again on row {row.row_number} "
            f"with another {column} ({_row_value(name, getattr(other, name))} on row {other.row_number}, "
            f"{_row_value(name, getattr(row, name))} on row {row.row_number}); which one is right?",
        )

    # -- claims we have --

    def _line_totals(self) -> None:
        _build_line_totals(self.session, self.batch)

    def _mark_existing_claims(self) -> None:
        """A head whose claim the practice has is ``unchanged`` until compared."""
        self.session.execute(
            update(StagedArRow)
            .where(_batch_rows(self.batch, _NEW), exists(_existing_claim(self.session, self.batch)))
            .values(outcome=_UNCHANGED)
            .execution_options(synchronize_session=False)
        )

    def _compare_existing_claims(self) -> None:
        """Claims the file describes otherwise than we have them are ``updated``, with the
        field-level difference and the flags commit will raise."""
        comparison = _Comparison(self.session, self.batch, _UNCHANGED, self._directory, self.page_rows)
        for changes in comparison.pages():
            if not changes:
                continue
            numbers = [change.row_number for change in changes]
            self.session.execute(
                update(StagedArRow)
                .where(_batch_rows(self.batch), StagedArRow.row_number.in_(numbers))
                .values(outcome=_UPDATED)
                .execution_options(synchronize_session=False)
            )
            rows = [
                {
                    "practice_id": self.batch.practice_id,
                    "batch_id": self.batch.id,
                    "row_number": change.row_number,
                    "outcome": _UPDATED,
                    "detail": {
                        "change": _UPDATED,
                        **change.detail,
                        "diff": change.diff,
                        "flags": [flag.to_json() for flag in change.flags(self.batch)],
                    },
                    "claim_id": change.claim_id,
                    "session_id": None,
                }
                for change in changes
            ]
            bulk_insert(self.session, ImportRowOutcome, rows)

    # -- outcomes --

    def _insert_outcomes(self) -> None:
        """One outcome row per staged head (new or unchanged: updated ones have theirs) and
        per further line (the outcome of its claim), with what the preview shows."""
        s = StagedArRow.__table__.c
        lt = _tmp_line_totals.c
        detail = _json_object(
            self.session,
            "claim", s.claim_ref,
            "patient", s.patient_name,
            "payer", s.payer_name,
            "clinician", s.provider_name,
            "code", s.procedure_code,
            "balance_cents", s.balance_cents,
            "aging_days", s.aging_days,
            "team", s.team_name,
            "lines", 1 + func.coalesce(lt.lines, 0),
        )  # fmt: skip
        existing = _existing_claim(self.session, self.batch).scalar_subquery()
        heads = (
            select(
                s.practice_id,
                s.batch_id,
                s.row_number,
                s.outcome,
                detail,
                case((s.outcome == _UNCHANGED, existing), else_=None),
            )
            .select_from(StagedArRow.__table__.outerjoin(_tmp_line_totals, lt.claim_ref == s.claim_ref))
            .where(_batch_rows(self.batch, _NEW, _UNCHANGED))
            .order_by(s.row_number)
        )
        columns = ["practice_id", "batch_id", "row_number", "outcome", "detail", "claim_id"]
        self.session.execute(insert(_table(ImportRowOutcome)).from_select(columns, heads))
        if _has_lines(self.session):
            self._insert_line_outcomes(columns)

    def _insert_line_outcomes(self, columns: list[str]) -> None:
        s = StagedArRow.__table__.c
        h = _tmp_heads.c
        existing = _existing_claim(self.session, self.batch).scalar_subquery()
        claim_refs = select(_tmp_line_totals.c.claim_ref)
        heads = select(
            s.claim_ref, s.row_number, s.outcome, case((s.outcome != _NEW, existing), else_=None)
        ).where(_batch_rows(self.batch, *_HEADS), s.claim_ref.in_(claim_refs))
        self.session.execute(
            _tmp_heads.insert().from_select(["claim_ref", "row_number", "outcome", "claim_id"], heads)
        )
        line_number = 1 + func.row_number().over(partition_by=s.claim_ref, order_by=s.row_number)
        detail = _json_object(
            self.session,
            "claim", s.claim_ref,
            "patient", s.patient_name,
            "payer", s.payer_name,
            "clinician", s.provider_name,
            "code", s.procedure_code,
            "balance_cents", s.balance_cents,
            "aging_days", s.aging_days,
            "team", s.team_name,
            "line", line_number,
            "claim_row", h.row_number,
        )  # fmt: skip
        lines = (
            select(s.practice_id, s.batch_id, s.row_number, h.outcome, detail, h.claim_id)
            .select_from(StagedArRow.__table__.join(_tmp_heads, h.claim_ref == s.claim_ref))
            .where(_batch_rows(self.batch, _LINE))
            .order_by(s.row_number)
        )
        self.session.execute(insert(_table(ImportRowOutcome)).from_select(columns, lines))

    def _flag_new_subjects(self) -> None:
        """The first row of each payer or clinician new to us is ``flagged`` with the flag
        commit will raise (one per payer or clinician, naming how many claims it concerns)."""
        _, payers = _new_payers(self.session, self.batch, _PlannedPayers(self.session))
        subjects = payers + _new_clinicians(self.session, self.batch, self._directory())
        if not subjects:
            return
        flags = [(subject.first_row, subject.flag(self.batch)) for subject in subjects]
        known = existing_flag_keys(self.session, self.batch.practice_id, (flag.key for _, flag in flags))
        by_row: dict[int, list[FlagSpec]] = {}
        for row_number, flag in flags:
            if flag.key not in known:
                by_row.setdefault(row_number, []).append(flag)
        outcomes = self.session.scalars(
            select(ImportRowOutcome).where(
                ImportRowOutcome.batch_id == self.batch.id, ImportRowOutcome.row_number.in_(list(by_row))
            )
        )
        for outcome in outcomes:
            raised = [flag.to_json() for flag in by_row[outcome.row_number]]
            outcome.detail = {**outcome.detail, "flags": [*outcome.detail.get("flags", []), *raised]}
            if outcome.outcome == _NEW:
                outcome.outcome = "flagged"
        self.session.flush()


def _row_value(field: str, value: Any) -> str:
    if field.endswith("_cents") and isinstance(value, int):
        return format_cents(value)
    return quote("" if value is None else str(value))


def _counts(session: Session, batch: ImportBatch) -> StageCounts:
    tally = dict(
        session.execute(
            select(ImportRowOutcome.outcome, func.count())
            .where(ImportRowOutcome.batch_id == batch.id)
            .group_by(ImportRowOutcome.outcome)
        ).all()
    )
    return StageCounts(
        rows=sum(tally.get(outcome, 0) for outcome in _OUTCOMES),
        new=tally.get("new", 0),
        updated=tally.get("updated", 0),
        unchanged=tally.get("unchanged", 0),
        flagged=tally.get("flagged", 0),
        rejected=tally.get("rejected", 0),
    )


# --- commit --------------------------------------------------------------------------------------


class _Commit:
    """One batch's commit: each step one set-based statement (the ORM only for a few rows)."""

    def __init__(
        self, session: Session, batch: ImportBatch, actor: Actor, accounting_on: date, page_rows: int
    ) -> None:
        self.session = session
        self.page_rows = page_rows
        self.batch = batch
        self.practice_id = batch.practice_id
        self.actor = actor
        self.accounting_on = accounting_on
        self.now = utcnow()
        self.written: dict[str, int] = {"flags": 0}
        self.subjects: list[_Subject] = []
        self.claims_before = 0
        self._loaded: Directory | None = None

    def _execute(self, statement: Any) -> int:
        # SQLAlchemy keeps an INSERT's row count only when asked to.
        result = self.session.execute(statement.execution_options(preserve_rowcount=True))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def run(self) -> dict[str, int]:
        steps = (
            self._create_work_tables,
            self._flag_changed_claims,
            self._payers,
            self._providers,
            self._teams,
            self._clients,
            self._coverages,
            self._claims,
            self._claim_details,
            self._opening_balances,
            self._link_outcomes,
            self._flag_new_subjects,
            self._drop_staged_rows,
            self._drop_work_tables,
        )
        for step in steps:
            started = time.perf_counter()
            step()
            log.debug(
                "import %s: %s took %.2f s", self.batch.id, step.__name__, time.perf_counter() - started
            )
        return self.written

    def _directory(self) -> Directory:
        if self._loaded is None:
            self._loaded = Directory.load(self.session, self.practice_id)
        return self._loaded

    def _drop_staged_rows(self) -> None:
        self._execute(delete(StagedArRow).where(StagedArRow.batch_id == self.batch.id))

    # work tables

    def _create_work_tables(self) -> None:
        if _is_postgresql(self.session):
            # Hash joins and aggregates over a million rows, in memory (this transaction only).
            self.session.execute(text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
        _create_tables(self.session, *_COMMIT_TABLES)
        self._analyze(StagedArRow.__table__)
        _build_line_totals(self.session, self.batch)

    def _drop_work_tables(self) -> None:
        _drop_tables(self.session, *_COMMIT_TABLES)

    def _analyze(self, table: Any) -> None:
        _analyze(self.session, table)

    # claims we have: never rewritten, flagged where the file says otherwise

    def _flag_changed_claims(self) -> None:
        comparison = _Comparison(self.session, self.batch, _UPDATED, self._directory, self.page_rows)
        for changes in comparison.pages():
            self.written["flags"] += _write_claim_flags(self.session, self.practice_id, changes, self.batch)

    # reference rows: payers, providers and teams (few, through the ORM), clients and coverages
    # (set-based)

    def _new_rows(self) -> ColumnElement[bool]:
        return _batch_rows(self.batch, _NEW)

    def _payers(self) -> None:
        mapping, created = _new_payers(
            self.session, self.batch, lambda name, edi_id: _payer_for(self.session, name, edi_id)
        )
        if mapping:
            self.session.execute(_tmp_payers.insert(), mapping)
        self.written["payers"] = len(created)
        self.subjects.extend(created)

    def _providers(self) -> None:
        directory = self._directory()
        unknown = _new_clinicians(self.session, self.batch, directory)
        directory.ensure_providers(self.session, [subject.name for subject in unknown])
        for subject in unknown:
            subject.subject_id = directory.provider(subject.name)
        names = self.session.scalars(
            select(StagedArRow.provider_name)
            .where(self._new_rows(), StagedArRow.provider_name != "")
            .distinct()
        ).all()
        mapping = [{"provider_name": name, "provider_id": directory.provider(name)} for name in names]
        mapping = [row for row in mapping if row["provider_id"] is not None]
        if mapping:
            self.session.execute(_tmp_providers.insert(), mapping)
        self.written["providers"] = len(unknown)
        self.subjects.extend(unknown)

    def _teams(self) -> None:
        names = self.session.scalars(select(StagedArRow.team_name).where(self._new_rows()).distinct()).all()
        existing = dict(
            self.session.execute(
                select(Team.name, Team.id).where(Team.practice_id == self.practice_id, Team.name.in_(names))
            ).all()
        )
        for name in names:
            if name not in existing:
                team = Team(practice_id=self.practice_id, name=name)
                self.session.add(team)
                self.session.flush()
                existing[name] = team.id
        if names:
            self.session.execute(
                _tmp_teams.insert(), [{"team_name": name, "team_id": existing[name]} for name in names]
            )

    def _clients(self) -> None:
        s = StagedArRow
        # Each new patient is written as the file first spells them.
        firsts = (
            select(func.min(s.row_number).label("first_row"))
            .where(self._new_rows())
            .group_by(s.patient_key)
            .subquery("firsts")
        )
        people = (
            select(s.patient_key, s.patient_name.label("name"))
            .join(firsts, firsts.c.first_row == s.row_number)
            .where(s.batch_id == self.batch.id)
            .subquery("people")
        )
        comma = _position(self.session, people.c.name, ",")
        last = case((comma > 0, func.substr(people.c.name, 1, comma - 1)), else_=people.c.name)
        first = case((comma > 0, func.substr(people.c.name, comma + 2)), else_=literal(""))
        known = exists().where(
            Client.practice_id == self.practice_id,
            Client.name_key == people.c.patient_key,
            Client.merged_into_id.is_(None),
        )
        blank = literal("", String)
        rows = select(
            literal(self.practice_id, BigInteger),
            first,
            last,
            literal("U", String),
            blank,
            blank,
            blank,
            blank,
            blank,
            blank,
            blank,
            _empty_json(self.session),
            people.c.patient_key,
            literal(self.now, UTCDateTime()),
        ).where(~known)
        columns = [
            "practice_id",
            "first_name",
            "last_name",
            "sex",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "phone",
            "email",
            "external_ids",
            "name_key",
            "created_at",
        ]
        self.written["clients"] = self._execute(insert(_table(Client)).from_select(columns, rows))
        self._analyze(_table(Client))
        keys = select(s.patient_key).where(self._new_rows()).distinct().subquery("keys")
        found = (
            select(keys.c.patient_key, func.min(Client.id))
            .join(
                Client,
                and_(
                    Client.practice_id == self.practice_id,
                    Client.name_key == keys.c.patient_key,
                    Client.merged_into_id.is_(None),
                ),
            )
            .group_by(keys.c.patient_key)
        )
        self._execute(_tmp_clients.insert().from_select(["name_key", "client_id"], found))
        self._analyze(_tmp_clients)
        self._guarantors()

    def _guarantors(self) -> None:
        c = Client.__table__.c
        has_one = exists().where(Guarantor.client_id == _tmp_clients.c.client_id)
        rows = (
            select(
                literal(self.practice_id, BigInteger),
                c.id,
                literal("self", String),
                c.first_name,
                c.last_name,
                c.address_line1,
                c.city,
                c.state,
                c.postal_code,
                c.phone,
                c.email,
                literal(True, Boolean),
            )
            .select_from(_tmp_clients.join(Client.__table__, c.id == _tmp_clients.c.client_id))
            .where(~has_one)
        )
        columns = [
            "practice_id",
            "client_id",
            "relationship_to_client",
            "first_name",
            "last_name",
            "address_line1",
            "city",
            "state",
            "postal_code",
            "phone",
            "email",
            "is_primary",
        ]
        self.written["guarantors"] = self._execute(insert(_table(Guarantor)).from_select(columns, rows))

    def _staged_with_ids(self) -> Any:
        s = StagedArRow.__table__
        return s.join(_tmp_clients, _tmp_clients.c.name_key == s.c.patient_key).join(
            _tmp_payers,
            and_(_tmp_payers.c.payer_name == s.c.payer_name, _tmp_payers.c.payer_edi_id == s.c.payer_edi_id),
        )

    def _coverages(self) -> None:
        s = StagedArRow.__table__.c
        client_id, payer_id = _tmp_clients.c.client_id, _tmp_payers.c.payer_id
        known = exists().where(
            Coverage.practice_id == self.practice_id,
            Coverage.client_id == client_id,
            Coverage.payer_id == payer_id,
        )
        blank = literal("", String)
        rows = (
            select(
                literal(self.practice_id, BigInteger),
                client_id,
                payer_id,
                func.max(s.member_id),
                blank,
                literal("primary", String),
                literal("self", String),
                blank,
                blank,
                literal("U", String),
                literal(0, BigInteger),
            )
            .select_from(self._staged_with_ids())
            .where(self._new_rows(), ~known)
            .group_by(client_id, payer_id)
        )
        columns = [
            "practice_id",
            "client_id",
            "payer_id",
            "member_id",
            "group_number",
            "priority",
            "relationship_to_subscriber",
            "subscriber_first_name",
            "subscriber_last_name",
            "subscriber_sex",
            "copay_cents",
        ]
        self.written["coverages"] = self._execute(insert(_table(Coverage)).from_select(columns, rows))
        self._analyze(_table(Coverage))
        found = (
            select(Coverage.client_id, Coverage.payer_id, func.min(Coverage.id))
            .where(
                Coverage.practice_id == self.practice_id,
                Coverage.client_id.in_(select(_tmp_clients.c.client_id)),
            )
            .group_by(Coverage.client_id, Coverage.payer_id)
        )
        self._execute(_tmp_coverages.insert().from_select(["client_id", "payer_id", "coverage_id"], found))
        self._analyze(_tmp_coverages)

    # claims

    def _claims(self) -> None:
        s = StagedArRow.__table__.c
        lt = _tmp_line_totals.c
        self.claims_before = self.session.scalar(select(func.coalesce(func.max(Claim.id), 0))) or 0
        source = (
            self._staged_with_ids()
            .join(
                _tmp_coverages,
                and_(
                    _tmp_coverages.c.client_id == _tmp_clients.c.client_id,
                    _tmp_coverages.c.payer_id == _tmp_payers.c.payer_id,
                ),
            )
            .join(_tmp_teams, _tmp_teams.c.team_name == s.team_name)
            .outerjoin(_tmp_providers, _tmp_providers.c.provider_name == s.provider_name)
            .outerjoin(_tmp_line_totals, lt.claim_ref == s.claim_ref)
        )
        now = literal(self.now, UTCDateTime())
        rows = (
            select(
                literal(self.practice_id, BigInteger),
                claim_number_sql(self.session, s.claim_ref),
                _tmp_clients.c.client_id,
                _tmp_providers.c.provider_id,
                _tmp_payers.c.payer_id,
                _tmp_coverages.c.coverage_id,
                literal("1", String),
                literal("", String),
                literal(str(ClaimStatus.ACCEPTED), String),
                now,
                _earlier(lt.first_on, s.service_on),
                _later(lt.last_on, s.service_on),
                _billed(s) + func.coalesce(lt.billed_cents, 0),
                literal(self.accounting_on, Date),
                _tmp_teams.c.team_id,
                literal("ar_import", String),
                now,
            )
            .select_from(source)
            .where(self._new_rows())
            .order_by(s.row_number)
        )
        columns = [
            "practice_id",
            "number",
            "client_id",
            "provider_id",
            "payer_id",
            "coverage_id",
            "frequency",
            "payer_claim_control_number",
            "status",
            "status_changed_at",
            "service_from_on",
            "service_to_on",
            "billed_cents",
            "next_followup_on",
            "assignee_team_id",
            "source",
            "created_at",
        ]
        try:
            with self.session.begin_nested():
                self.written["claims"] = self._execute(insert(_table(Claim)).from_select(columns, rows))
        except IntegrityError:
            raise Conflict(
                f"import {self.batch.id} ({self.batch.filename}): some of its claims were created "
                "meanwhile (by another import?); stage the file again"
            ) from None
        self._analyze(_table(Claim))
        self._rows_with_claims()

    def _new_claim(self, claim_ref: Any) -> ColumnElement[bool]:
        """Join condition: the claim this commit created for a staged row's claim id."""
        claims = Claim.__table__.c
        return and_(
            claims.practice_id == self.practice_id,
            claims.number == claim_number_sql(self.session, claim_ref),
            claims.id > self.claims_before,
        )

    def _rows_with_claims(self) -> None:
        s = StagedArRow.__table__.c
        claims = Claim.__table__.c
        lt = _tmp_line_totals.c
        rows = (
            select(
                s.row_number,
                claims.id,
                claims.client_id,
                claims.payer_id,
                claims.coverage_id,
                s.balance_cents + func.coalesce(lt.balance_cents, 0),
                _billed(s),
                s.service_on,
                s.procedure_code,
            )
            .select_from(
                StagedArRow.__table__.join(Claim.__table__, self._new_claim(s.claim_ref)).outerjoin(
                    _tmp_line_totals, lt.claim_ref == s.claim_ref
                )
            )
            .where(self._new_rows())
        )
        columns = [
            "row_number",
            "claim_id",
            "client_id",
            "payer_id",
            "coverage_id",
            "balance_cents",
            "line_billed_cents",
            "service_on",
            "procedure_code",
        ]
        found = self._execute(_tmp_rows.insert().from_select(columns, rows))
        if found != self.written["claims"]:  # pragma: no cover - a broken invariant, not input
            raise RuntimeError(f"{self.written['claims']} claims created but {found} found again")
        self._analyze(_tmp_rows)

    def _claim_details(self) -> None:
        t = _tmp_rows.c
        practice = literal(self.practice_id, BigInteger)
        line_columns = [
            "practice_id",
            "claim_id",
            "line_number",
            "procedure_code",
            "modifiers",
            "units",
            "charge_cents",
            "service_on",
        ]
        first_lines = select(
            practice,
            t.claim_id,
            literal(1, Integer),
            t.procedure_code,
            literal("", String),
            literal(1, Integer),
            t.line_billed_cents,
            t.service_on,
        )
        self.written["claim_lines"] = self._execute(
            insert(_table(ClaimLine)).from_select(line_columns, first_lines)
        )
        if _has_lines(self.session):
            self.written["claim_lines"] += self._further_lines(line_columns)
        detail = f"opening balance from AR portfolio batch {self.batch.id}"
        events = select(
            practice,
            t.claim_id,
            literal(str(ClaimStatus.ACCEPTED), String),
            literal(str(EventSource.IMPORT), String),
            literal(self.actor.user_id, BigInteger),
            literal(detail, String),
            literal(self.now, UTCDateTime()),
        )
        self._execute(
            insert(_table(ClaimEvent)).from_select(
                ["practice_id", "claim_id", "to_status", "source", "actor_user_id", "detail", "created_at"],
                events,
            )
        )
        self._long_reference_notes()

    def _further_lines(self, line_columns: list[str]) -> int:
        """Lines 2, 3 ... of the claims created, in file order."""
        s = StagedArRow.__table__.c
        line_number = 1 + func.row_number().over(partition_by=s.claim_ref, order_by=s.row_number)
        claims = Claim.__table__.c
        found = (
            select(s.row_number, claims.id, line_number)
            .select_from(StagedArRow.__table__.join(Claim.__table__, self._new_claim(s.claim_ref)))
            .where(_batch_rows(self.batch, _LINE))
        )
        self._execute(_tmp_lines.insert().from_select(["row_number", "claim_id", "line_number"], found))
        self._analyze(_tmp_lines)
        lines = select(
            literal(self.practice_id, BigInteger),
            _tmp_lines.c.claim_id,
            _tmp_lines.c.line_number,
            s.procedure_code,
            literal("", String),
            literal(1, Integer),
            _billed(s),
            s.service_on,
        ).select_from(
            _tmp_lines.join(
                StagedArRow.__table__,
                and_(s.batch_id == self.batch.id, s.row_number == _tmp_lines.c.row_number),
            )
        )
        return self._execute(insert(_table(ClaimLine)).from_select(line_columns, lines))

    def _long_reference_notes(self) -> None:
        s = StagedArRow.__table__.c
        prefix = f"Claim ID in the AR portfolio file {self.batch.filename!r} (import {self.batch.id}): "
        notes = (
            select(
                literal(self.practice_id, BigInteger),
                literal(self.actor.user_id, BigInteger),
                literal(prefix, String) + s.claim_ref,
                _tmp_rows.c.claim_id,
                literal(self.now, UTCDateTime()),
            )
            .select_from(StagedArRow.__table__.join(_tmp_rows, _tmp_rows.c.row_number == s.row_number))
            .where(self._new_rows(), func.length(s.claim_ref) > CLAIM_NUMBER_MAX)
        )
        self.written["notes"] = self._execute(
            insert(_table(Note)).from_select(
                ["practice_id", "author_user_id", "body", "claim_id", "created_at"], notes
            )
        )

    # money, links and flags

    def _opening_balances(self) -> None:
        """One opening balance per claim: the sum of its lines' balances."""
        t = _tmp_rows.c
        source = select(
            t.claim_id.label("claim_id"),
            t.client_id.label("client_id"),
            t.coverage_id.label("coverage_id"),
            t.payer_id.label("payer_id"),
            t.balance_cents.label("amount_cents"),
        ).where(t.balance_cents != 0)
        self.written["transactions"] = ledger_bulk.post_opening_balances(
            self.session,
            actor=self.actor,
            practice_id=self.practice_id,
            accounting_on=self.accounting_on,
            source=source,
            memo=f"opening balance from AR portfolio import {self.batch.id}",
        )
        total = self.session.scalar(select(func.coalesce(func.sum(t.balance_cents), 0)))
        self.written["balance_cents"] = int(total or 0)

    def _link_outcomes(self) -> None:
        for links in (_tmp_rows, _tmp_lines):
            self._execute(
                update(ImportRowOutcome)
                .where(
                    ImportRowOutcome.batch_id == self.batch.id,
                    ImportRowOutcome.row_number == links.c.row_number,
                )
                .values(claim_id=links.c.claim_id)
                .execution_options(synchronize_session=False)
            )

    def _flag_new_subjects(self) -> None:
        flags = [subject.flag(self.batch) for subject in self.subjects]
        self.written["flags"] += write_flags(self.session, self.practice_id, flags)
