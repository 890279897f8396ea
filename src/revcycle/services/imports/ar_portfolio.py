"""AR portfolio import: another billing system's open claims, with their balances, in bulk.

A billing company taking over a practice's receivables loads the previous system's AR aging
export: one row per open claim (claim id, patient, payer, date of service, balance ...), tens
of thousands to a million rows. Each row becomes a claim already with the payer (status
``accepted``), aged, assigned to a team by the rules of :mod:`revcycle.domain.ar_rules`, with
an ``opening_balance`` ledger transaction for what the payer still owes.

**Stage** streams the parsed rows into ``staged_ar_rows`` in chunks (COPY on PostgreSQL,
executemany on SQLite), computing each row's patient key, aging and team on the way, and
records every row's outcome; memory stays flat whatever the file's size. Then, set-based:
a claim id repeated in the file is rejected (the AR export must list one row per claim); a
claim id the practice already has is ``unchanged`` (a re-import changes nothing); the rest are
``new``. Rows with bad values are ``rejected`` with file, row, column and value.

**Commit** writes everything with ``INSERT ... SELECT`` from the staged rows, never one
object per row: missing payers (by EDI payer id, then by the payer's normalised name; a new
name for a known id becomes an alias) and teams (a handful, through the ORM); clients (by
patient key, first and last name split from "Last, First" or "First Last"), a self guarantor
for each, coverages (client x payer, with the member id); the claims, one line each, one
claim event each (source ``import``); the opening balances through
:mod:`revcycle.services.ledger_bulk`; and the outcome rows' claim links. The staged rows are
then dropped: the outcome rows remain the batch's record. It runs in the caller's
transaction: any failure rolls all of it back.

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
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
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
    Note,
    Payer,
    PayerAlias,
    Practice,
    StagedArRow,
    Team,
)
from revcycle.db.types import UTCDateTime, utcnow
from revcycle.domain.ar_rules import (
    CLAIM_NUMBER_MAX,
    DEFAULT_RULES,
    ArClaimFacts,
    PayerKind,
    Rule,
    assign,
    effective_aging_days,
    government_kind_from_name,
)
from revcycle.domain.claim_status import ClaimStatus, EventSource
from revcycle.domain.names import payer_key, person_key
from revcycle.domain.permissions import Permission
from revcycle.domain.problems import Problem
from revcycle.errors import Conflict
from revcycle.services import ledger_bulk
from revcycle.services.actor import Actor
from revcycle.services.imports.handler import StageCounts

__all__ = ["HANDLER", "ArPortfolioHandler", "claim_number_sql", "split_person_name"]

log = logging.getLogger(__name__)
_CHUNK = 10_000
_WORK_MEM = "64MB"
_OUTCOMES = ("new", "updated", "unchanged", "flagged", "rejected")
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

# Work tables of one commit (per connection, gone at the end of the transaction).
_work = MetaData()
_tmp_payers = Table(
    "tmp_ar_payers",
    _work,
    Column("payer_name", String(250), primary_key=True),
    Column("payer_edi_id", String(20), primary_key=True),
    Column("payer_id", BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_tmp_teams = Table(
    "tmp_ar_teams",
    _work,
    Column("team_name", String(100), primary_key=True),
    Column("team_id", BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_tmp_clients = Table(
    "tmp_ar_clients",
    _work,
    Column("name_key", String(200), primary_key=True),
    Column("client_id", BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_tmp_coverages = Table(
    "tmp_ar_coverages",
    _work,
    Column("client_id", BigInteger, primary_key=True),
    Column("payer_id", BigInteger, primary_key=True),
    Column("coverage_id", BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_tmp_rows = Table(
    "tmp_ar_rows",
    _work,
    Column("row_number", Integer, primary_key=True),
    Column("claim_id", BigInteger, nullable=False),
    Column("client_id", BigInteger, nullable=False),
    Column("payer_id", BigInteger, nullable=False),
    Column("coverage_id", BigInteger, nullable=False),
    Column("balance_cents", BigInteger, nullable=False),
    Column("billed_cents", BigInteger, nullable=False),
    Column("service_on", Date, nullable=False),
    Column("procedure_code", String(10), nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_WORK_TABLES = (_tmp_payers, _tmp_teams, _tmp_clients, _tmp_coverages, _tmp_rows)


# --- names and numbers ---------------------------------------------------------------------------


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


def _position(session: Session, text: Any, needle: str) -> ColumnElement[int]:
    return func.strpos(text, needle) if _is_postgresql(session) else func.instr(text, needle)


def _practice_today(session: Session, practice_id: int) -> date:
    timezone = session.scalar(select(Practice.timezone).where(Practice.id == practice_id))
    return datetime.now(ZoneInfo(timezone or "UTC")).date()


# --- the handler ------------------------------------------------------------------------------------


class ArPortfolioHandler:
    """Stages and commits AR aging / portfolio files (see the module's docstring)."""

    format = ImportFormat.AR_AGING

    def __init__(
        self, *, rules: Sequence[Rule] = DEFAULT_RULES, today: Callable[[], date] | None = None
    ) -> None:
        self.rules = tuple(rules)
        self._clock = today

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
        writer = _StageWriter(session, batch, self.rules, self.today(session, batch.practice_id))
        started = time.perf_counter()
        for row in rows:
            writer.add(row)
        writer.flush()
        if _is_postgresql(session):
            session.execute(text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
            session.execute(text("ANALYZE staged_ar_rows"))
        log.debug("import %s: staged rows written in %.2f s", batch.id, time.perf_counter() - started)
        for step in (_reject_repeated_claims, _mark_existing_claims, _insert_outcomes):
            started = time.perf_counter()
            step(session, batch)
            log.debug("import %s: %s took %.2f s", batch.id, step.__name__, time.perf_counter() - started)
        return _counts(session, batch)

    # -- commit --

    def commit(self, session: Session, batch: ImportBatch, *, actor: Actor) -> dict[str, int]:
        practice_id = batch.practice_id
        actor.require(practice_id, Permission.ENTER_CHARGES)
        accounting_on = self.today(session, practice_id)
        ledger_bulk.refuse_closed_period(session, practice_id, accounting_on)
        ledger_bulk.prepare_sql_functions(session)
        return _Commit(session, batch, actor, accounting_on).run()

    # -- discard --

    def discard(self, session: Session, batch: ImportBatch, *, actor: Actor) -> None:
        actor.require(batch.practice_id, Permission.ENTER_CHARGES)
        session.execute(delete(StagedArRow).where(StagedArRow.batch_id == batch.id))


HANDLER = ArPortfolioHandler()


# --- staging ------------------------------------------------------------------------------------


class _StageWriter:
    """Turns parsed rows into staged rows and rejected outcomes, written a chunk at a time."""

    def __init__(self, session: Session, batch: ImportBatch, rules: Sequence[Rule], today: date) -> None:
        self.session = session
        self.batch = batch
        self.rules = rules
        self.today = today
        self.staged: list[tuple[Any, ...]] = []
        self.rejected: list[dict[str, Any]] = []
        self._kinds: dict[tuple[str, str], str | None] = {}
        self._copy = _is_postgresql(session)

    def add(self, row: ParsedRow | RejectedRow) -> None:
        if isinstance(row, RejectedRow):
            self._reject(row.row_number, row.problems)
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
            "provider_name": row.provider_name or "",
            "procedure_code": (row.procedure_code or "").upper(),
        }
        problems = self._too_long(row.row_number, values)
        if problems:
            self._reject(row.row_number, problems)
            return
        aging = effective_aging_days(row.aging_days, row.service_on, self.today)
        kind = self._payer_kind(values["payer_name"], values["payer_edi_id"])
        facts = ArClaimFacts(row.balance_cents, aging, values["payer_name"], kind)
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
                assign(facts, self.rules).team,
                "new",
            )
        )

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
            kind = None
            if edi_id:
                kind = self.session.scalar(
                    select(Payer.kind).where(Payer.edi_payer_id == edi_id).order_by(Payer.id).limit(1)
                )
            if kind is None:
                kind = self.session.scalar(
                    select(Payer.kind)
                    .join(PayerAlias, PayerAlias.payer_id == Payer.id)
                    .where(PayerAlias.normalized == payer_key(name))
                    .limit(1)
                )
            self._kinds[key] = kind
        return self._kinds[key]

    def _reject(self, row_number: int, problems: Sequence[Problem]) -> None:
        detail = {
            "problems": [{"code": p.code, "where": p.where, "message": p.message} for p in problems],
            "reason": "; ".join(f"{p.where}: {p.message}" for p in problems),
        }
        self.rejected.append(
            {
                "practice_id": self.batch.practice_id,
                "batch_id": self.batch.id,
                "row_number": row_number,
                "outcome": "rejected",
                "detail": detail,
            }
        )

    def flush(self) -> None:
        if self.staged:
            self._write_staged(self.staged)
            self.staged = []
        if self.rejected:
            self.session.execute(insert(ImportRowOutcome), self.rejected)
            self.rejected = []

    def _write_staged(self, rows: list[tuple[Any, ...]]) -> None:
        connection = self.session.connection()
        names = ", ".join(_STAGED_COLUMNS)
        if self._copy:
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f"COPY staged_ar_rows ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" for _ in _STAGED_COLUMNS)
        connection.exec_driver_sql(f"INSERT INTO staged_ar_rows ({names}) VALUES ({marks})", rows)  # noqa: S608


def _batch_rows(batch: ImportBatch, *outcomes: str) -> ColumnElement[bool]:
    condition = StagedArRow.batch_id == batch.id
    return and_(condition, StagedArRow.outcome.in_(outcomes)) if outcomes else condition


def _reject_repeated_claims(session: Session, batch: ImportBatch) -> None:
    """A claim id on more than one row: the first stays, the others are rejected."""
    firsts = (
        select(StagedArRow.claim_ref, func.min(StagedArRow.row_number).label("first_row"))
        .where(_batch_rows(batch))
        .group_by(StagedArRow.claim_ref)
        .having(func.count() > 1)
        .subquery()
    )
    repeated = session.execute(
        select(StagedArRow.row_number, StagedArRow.claim_ref, firsts.c.first_row)
        .join(firsts, firsts.c.claim_ref == StagedArRow.claim_ref)
        .where(_batch_rows(batch), StagedArRow.row_number > firsts.c.first_row)
        .order_by(StagedArRow.row_number)
    ).all()
    if not repeated:
        return
    writer = _StageWriter(session, batch, (), date.min)
    for row_number, claim_ref, first_row in repeated:
        where = location(batch.filename, row_number, "Claim ID")
        message = f"{quote(claim_ref)} is already on row {first_row}: the file must list each claim once"
        writer._reject(row_number, [Problem("import.repeated_claim", where, message)])
        if len(writer.rejected) >= _CHUNK:
            writer.flush()
    writer.flush()
    numbers = [row_number for row_number, _, _ in repeated]
    for start in range(0, len(numbers), _CHUNK):
        session.execute(
            update(StagedArRow)
            .where(_batch_rows(batch), StagedArRow.row_number.in_(numbers[start : start + _CHUNK]))
            .values(outcome="rejected")
            .execution_options(synchronize_session=False)
        )


def _existing_claim(session: Session, batch: ImportBatch) -> Any:
    return select(Claim.id).where(
        Claim.practice_id == batch.practice_id,
        Claim.number == claim_number_sql(session, StagedArRow.claim_ref),
    )


def _mark_existing_claims(session: Session, batch: ImportBatch) -> None:
    """Re-importing a claim the practice already has changes nothing: ``unchanged``."""
    session.execute(
        update(StagedArRow)
        .where(_batch_rows(batch, "new"), exists(_existing_claim(session, batch)))
        .values(outcome="unchanged")
        .execution_options(synchronize_session=False)
    )


def _insert_outcomes(session: Session, batch: ImportBatch) -> None:
    """One outcome row per staged row (new or unchanged), with what the preview shows."""
    s = StagedArRow
    build = func.json_build_object if _is_postgresql(session) else func.json_object
    detail = build(
        "claim", s.claim_ref,
        "patient", s.patient_name,
        "payer", s.payer_name,
        "balance_cents", s.balance_cents,
        "aging_days", s.aging_days,
        "team", s.team_name,
    )  # fmt: skip
    existing = _existing_claim(session, batch).scalar_subquery()
    rows = (
        select(
            s.practice_id,
            s.batch_id,
            s.row_number,
            s.outcome,
            detail,
            case((s.outcome == "unchanged", existing), else_=None),
        )
        .where(_batch_rows(batch, "new", "unchanged"))
        .order_by(s.row_number)
    )
    columns = ["practice_id", "batch_id", "row_number", "outcome", "detail", "claim_id"]
    session.execute(insert(_table(ImportRowOutcome)).from_select(columns, rows))


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

    def __init__(self, session: Session, batch: ImportBatch, actor: Actor, accounting_on: date) -> None:
        self.session = session
        self.batch = batch
        self.practice_id = batch.practice_id
        self.actor = actor
        self.accounting_on = accounting_on
        self.now = utcnow()
        self.written: dict[str, int] = {}

    def _execute(self, statement: Any) -> int:
        # SQLAlchemy keeps an INSERT's row count only when asked to.
        result = self.session.execute(statement.execution_options(preserve_rowcount=True))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def run(self) -> dict[str, int]:
        steps = (
            self._create_work_tables,
            self._payers,
            self._teams,
            self._clients,
            self._coverages,
            self._claims,
            self._claim_details,
            self._opening_balances,
            self._link_outcomes,
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

    def _drop_staged_rows(self) -> None:
        self._execute(delete(StagedArRow).where(StagedArRow.batch_id == self.batch.id))

    # work tables

    def _create_work_tables(self) -> None:
        # On a failure the caller's rollback takes them away (DDL is transactional on both).
        connection = self.session.connection()
        if _is_postgresql(self.session):
            # Hash joins and aggregates over a million rows, in memory (this transaction only).
            self.session.execute(text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
        for table in _WORK_TABLES:
            table.drop(connection, checkfirst=True)
            table.create(connection)
        self._analyze(StagedArRow.__table__)

    def _drop_work_tables(self) -> None:
        connection = self.session.connection()
        for table in _WORK_TABLES:
            table.drop(connection)

    def _analyze(self, table: Any) -> None:
        # PostgreSQL plans the joins from statistics; fresh bulk rows have none yet.
        if _is_postgresql(self.session):
            self.session.execute(text(f"ANALYZE {table.name}"))

    # reference rows: payers and teams (few, through the ORM), clients and coverages (set-based)

    def _new_rows(self) -> ColumnElement[bool]:
        return _batch_rows(self.batch, "new")

    def _payers(self) -> None:
        pairs = self.session.execute(
            select(StagedArRow.payer_name, StagedArRow.payer_edi_id).where(self._new_rows()).distinct()
        ).all()
        created = 0
        mapping = []
        for name, edi_id in pairs:
            payer_id, new = _payer_for(self.session, name, edi_id)
            created += new
            mapping.append({"payer_name": name, "payer_edi_id": edi_id, "payer_id": payer_id})
        if mapping:
            self.session.execute(_tmp_payers.insert(), mapping)
        self.written["payers"] = created

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
        before = self.session.scalar(select(func.coalesce(func.max(Claim.id), 0))) or 0
        billed = func.coalesce(s.billed_cents, case((s.balance_cents > 0, s.balance_cents), else_=0))
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
        )
        now = literal(self.now, UTCDateTime())
        rows = (
            select(
                literal(self.practice_id, BigInteger),
                claim_number_sql(self.session, s.claim_ref),
                _tmp_clients.c.client_id,
                _tmp_payers.c.payer_id,
                _tmp_coverages.c.coverage_id,
                literal("1", String),
                literal("", String),
                literal(str(ClaimStatus.ACCEPTED), String),
                now,
                s.service_on,
                s.service_on,
                billed,
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
        self._rows_with_claims(before)

    def _rows_with_claims(self, claims_before: int) -> None:
        s = StagedArRow.__table__.c
        claims = Claim.__table__.c
        rows = (
            select(
                s.row_number,
                claims.id,
                claims.client_id,
                claims.payer_id,
                claims.coverage_id,
                s.balance_cents,
                claims.billed_cents,
                s.service_on,
                s.procedure_code,
            )
            .select_from(
                StagedArRow.__table__.join(
                    Claim.__table__,
                    and_(
                        claims.practice_id == self.practice_id,
                        claims.number == claim_number_sql(self.session, s.claim_ref),
                        claims.id > claims_before,
                    ),
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
            "billed_cents",
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
        lines = select(
            practice,
            t.claim_id,
            literal(1, Integer),
            t.procedure_code,
            literal("", String),
            literal(1, Integer),
            t.billed_cents,
            t.service_on,
        )
        self._execute(
            insert(_table(ClaimLine)).from_select(
                [
                    "practice_id",
                    "claim_id",
                    "line_number",
                    "procedure_code",
                    "modifiers",
                    "units",
                    "charge_cents",
                    "service_on",
                ],
                lines,
            )
        )
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

    # money and links

    def _opening_balances(self) -> None:
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
        self._execute(
            update(ImportRowOutcome)
            .where(
                ImportRowOutcome.batch_id == self.batch.id,
                ImportRowOutcome.row_number == _tmp_rows.c.row_number,
            )
            .values(claim_id=_tmp_rows.c.claim_id)
            .execution_options(synchronize_session=False)
        )


def _payer_for(session: Session, name: str, edi_id: str) -> tuple[int, bool]:
    """The catalog payer for a file's payer (EDI id first, then name), created if unknown."""
    key = payer_key(name)
    payer_id = None
    if edi_id:
        payer_id = session.scalar(
            select(Payer.id).where(Payer.edi_payer_id == edi_id).order_by(Payer.id).limit(1)
        )
    if payer_id is None:
        payer_id = session.scalar(select(PayerAlias.payer_id).where(PayerAlias.normalized == key))
    created = payer_id is None
    if payer_id is None:
        kind = government_kind_from_name(name) or PayerKind.COMMERCIAL
        payer = Payer(name=name, edi_payer_id=edi_id, kind=str(kind))
        session.add(payer)
        session.flush()
        payer_id = payer.id
    if key and session.scalar(select(PayerAlias.id).where(PayerAlias.normalized == key)) is None:
        session.add(PayerAlias(payer_id=payer_id, alias=name, normalized=key))
        session.flush()
    return payer_id, created
