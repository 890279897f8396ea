"""The life of an import batch: stage (preview), then commit or discard.

:func:`stage_import` keeps the uploaded file (hashed), reads it, settles its format (detected
from the header, forced by the caller, or a saved column mapping), and hands the rows to the
format's handler, which records what committing would do — nothing live changes. A file
that cannot be read is refused whole with a message naming file, row, column and value, and
nothing is written (the staging runs in a savepoint).

:func:`commit_import` applies a staged batch all or nothing (a savepoint again: a failure
part-way leaves no row of the batch applied) and keeps what it wrote (sessions, charges,
clients, flags ... as the format's handler counts them) on the batch, ``counts["written"]``;
:func:`discard_import` drops it. Each of the three writes one audit row for the whole batch.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from revcycle import collector
from revcycle.adapters.csv import (
    ColumnMapping as MappingSpec,
)
from revcycle.adapters.csv import (
    CsvInputError,
    CsvTable,
    ImportFormat,
    detect_format,
    guess_mapping,
    read_csv,
)
from revcycle.adapters.csv.formats import columns_of, resolve_columns
from revcycle.adapters.csv.mapping import resolve_mapping
from revcycle.db.models import ColumnMapping, ImportBatch, ImportRowOutcome, StoredFile, User
from revcycle.db.types import utcnow
from revcycle.domain.permissions import Permission
from revcycle.domain.problems import Problem
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.imports.handler import FormatHandler
from revcycle.services.imports.source import SourceRows
from revcycle.services.imports.staging import OUTCOMES
from revcycle.services.scoping import (
    DEFAULT_LIMIT,
    Page,
    clamp_limit,
    practice_scopes,
    require_row_access,
)

__all__ = [
    "HANDLERS",
    "MappingGuess",
    "MappingSuggestion",
    "SavedMapping",
    "batch_rows",
    "commit_import",
    "discard_import",
    "find_mapping",
    "get_batch",
    "get_mapping",
    "handler_for",
    "list_batches",
    "list_mappings",
    "mapping_suggestion",
    "save_mapping",
    "stage_import",
    "suggest_mapping",
    "written_counts",
]

# Built-in handlers by format, created on first use. Tests may register a handler of their
# own for a format (a fake that fails part-way, say) by setting an entry here.
HANDLERS: dict[ImportFormat, FormatHandler] = {}
# Formats a mapping may target (the AR portfolio has its own header variants).
_MAPPABLE = tuple(f for f in ImportFormat if f is not ImportFormat.MAPPING)


def _builtin(fmt: ImportFormat) -> FormatHandler:
    # Imported here: each handler module imports this package's helpers.
    if fmt is ImportFormat.SIMPLEPRACTICE:
        from revcycle.services.imports.simplepractice import SimplePracticeHandler

        return SimplePracticeHandler()
    if fmt is ImportFormat.ATTENDANCE:
        from revcycle.services.imports.attendance import AttendanceHandler

        return AttendanceHandler()
    if fmt in (ImportFormat.CLIENT_DETAILS, ImportFormat.CLIENT_DEMOGRAPHICS):
        from revcycle.services.imports.clients import ClientInfoHandler

        return ClientInfoHandler(fmt)
    if fmt is ImportFormat.FILED_CLAIMS:
        from revcycle.services.imports.filed_claims import FiledClaimsHandler

        return FiledClaimsHandler()
    if fmt is ImportFormat.AR_AGING:
        return _ar_portfolio_handler()
    raise InvalidInput(f"there is no import for the format {fmt.value!r}")


def _ar_portfolio_handler() -> FormatHandler:
    try:
        ar_portfolio = importlib.import_module("revcycle.services.imports.ar_portfolio")
    except ImportError:
        raise InvalidInput("AR portfolio import is not available yet") from None
    handler: FormatHandler | None = getattr(ar_portfolio, "HANDLER", None)
    if handler is None:
        raise InvalidInput("AR portfolio import is not available yet")
    return handler


def handler_for(fmt: ImportFormat) -> FormatHandler:
    """The handler that stages and commits files of ``fmt``."""
    if fmt is ImportFormat.AR_AGING and fmt not in HANDLERS:
        return _ar_portfolio_handler()  # never cached: it lands separately
    if fmt not in HANDLERS:
        HANDLERS[fmt] = _builtin(fmt)
    return HANDLERS[fmt]


# --- staging -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingGuess:
    """A proposed mapping of a file's header onto one format, for the user to confirm."""

    target: ImportFormat
    columns: dict[str, str]
    missing_required: list[str]


def suggest_mapping(
    data: bytes, *, filename: str = "upload.csv", target: ImportFormat | None = None
) -> list[MappingGuess]:
    """Guessed mappings of an unknown file (its header row is enough) onto each format, most
    complete first, or onto ``target`` only."""
    return _guesses(_read(data, filename), _targets(target))


def _targets(target: ImportFormat | None) -> tuple[ImportFormat, ...]:
    if target is None:
        return _MAPPABLE
    if target not in _MAPPABLE:
        raise InvalidInput(f"target: {target.value!r} is not a format a mapping can read")
    return (target,)


def _guesses(table: CsvTable, targets: tuple[ImportFormat, ...] = _MAPPABLE) -> list[MappingGuess]:
    guesses = []
    for target in targets:
        guess = guess_mapping(table.header, target)
        missing = [c.label for c in columns_of(target) if c.required and c.field not in guess.columns]
        guesses.append(MappingGuess(target, dict(guess.columns), missing))
    return sorted(guesses, key=lambda g: (len(g.missing_required), -len(g.columns)))


def _read(data: bytes, filename: str) -> CsvTable:
    try:
        return read_csv(data, filename=filename)
    except CsvInputError as exc:
        raise _invalid(exc) from None


def _invalid(exc: CsvInputError) -> InvalidInput:
    where = str(exc).split(": ", 1)[0]
    return InvalidInput(str(exc), [Problem("csv.file", where, exc.message)])


def _unknown_format(table: CsvTable) -> InvalidInput:
    header = ", ".join(f'"{name}"' for name in table.header)
    best = _guesses(table)[:3]
    hints = "; ".join(
        f"{g.target.value} ({len(g.columns)} columns matched"
        + (f", missing {', '.join(g.missing_required)}" if g.missing_required else "")
        + ")"
        for g in best
    )
    return InvalidInput(
        f"{table.filename}: the format is not recognised from the header row {table.header_row} "
        f"({header}); choose a format or save a column mapping. Closest guesses: {hints}",
        [
            Problem(
                "import.unknown_format",
                f"{table.filename} row {table.header_row}",
                f"guess {g.target.value}: " + ", ".join(f"{k}={v}" for k, v in g.columns.items()),
            )
            for g in best
        ],
    )


def _rows_for(
    session: Session,
    table: CsvTable,
    practice_id: int,
    fmt: ImportFormat | None,
    mapping_name: str | None,
) -> tuple[ImportFormat, ColumnMapping | None, SourceRows]:
    try:
        if mapping_name:
            saved = _mapping_row(session, practice_id, mapping_name)
            spec = MappingSpec(saved.name, ImportFormat(saved.target_format), dict(saved.columns))
            return spec.target, saved, SourceRows(table, spec.target, resolve_mapping(table, spec))
        chosen = fmt if fmt not in (None, ImportFormat.MAPPING) else detect_format(table)
        if chosen is None:
            raise _unknown_format(table)
        return chosen, None, SourceRows(table, chosen, resolve_columns(table, chosen))
    except CsvInputError as exc:
        raise _invalid(exc) from None
    except ValueError as exc:  # a saved mapping naming fields its format lacks
        raise InvalidInput(f"{table.filename}: {exc}") from None


def stage_import(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    filename: str,
    data: bytes,
    format: ImportFormat | None = None,
    mapping_name: str | None = None,
) -> ImportBatch:
    """Read ``data`` into a staged batch with every row's outcome; nothing live changes."""
    actor.require(practice_id, Permission.ENTER_CHARGES)
    filename = (filename or "upload.csv").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
    table = _read(data, filename)
    with session.begin_nested():
        fmt, mapping, rows = _rows_for(session, table, practice_id, format, mapping_name)
        handler = handler_for(fmt)
        stored = StoredFile(
            practice_id=practice_id,
            kind="csv",
            direction="in",
            filename=filename,
            sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
            content=data,
            created_by_user_id=actor.user_id,
        )
        session.add(stored)
        session.flush()
        batch = ImportBatch(
            practice_id=practice_id,
            format=fmt.value,
            filename=filename,
            mapping_id=mapping.id if mapping else None,
            stored_file_id=stored.id,
            status="staged",
            counts={},
            created_by_user_id=actor.user_id,
        )
        session.add(batch)
        session.flush()
        try:
            with collector.paused():  # 100,000s of rows, freed by reference counting
                counts = handler.stage(session, batch, rows, actor=actor)
        except CsvInputError as exc:
            raise _invalid(exc) from None
        batch.counts = {**batch.counts, **counts, "committed": False}
        audit.record(
            session,
            actor=actor,
            practice_id=practice_id,
            action="create",
            entity="import_batch",
            entity_id=batch.id,
            after={"filename": filename, "format": fmt.value, "sha256": stored.sha256, **batch.counts},
            reason="import staged",
        )
    return batch


# --- commit and discard ----------------------------------------------------------------------


def _decide(
    session: Session,
    *,
    actor: Actor,
    batch_id: int,
    target: str,
    apply: Callable[[FormatHandler, ImportBatch], dict[str, int] | None],
) -> ImportBatch:
    batch = _load(session, actor, batch_id)
    actor.require(batch.practice_id, Permission.ENTER_CHARGES)
    if batch.status != "staged":
        raise Conflict(f"import {batch.id} ({batch.filename}) is already {batch.status}")
    handler = handler_for(ImportFormat(batch.format))
    with session.begin_nested():
        # Compare-and-set: two people committing the same batch at once apply it once.
        claimed = session.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch.id, ImportBatch.status == "staged")
            .values(status=target, decided_by_user_id=actor.user_id, decided_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 0:  # type: ignore[attr-defined]
            raise Conflict(f"import {batch.id} ({batch.filename}) changed meanwhile; reload it")
        session.expire(batch, ["status", "decided_by_user_id", "decided_at"])
        with collector.paused():  # 100,000s of rows, freed by reference counting
            written = apply(handler, batch) or {}
        # Handlers write with multi-row statements: objects the caller holds may be stale.
        session.expire_all()
        decided: dict[str, Any] = {"committed": target == "committed"}
        if target == "committed":
            decided["written"] = {str(key): int(n) for key, n in written.items()}
        batch.counts = {**batch.counts, **decided}
        audit.record(
            session,
            actor=actor,
            practice_id=batch.practice_id,
            action="update",
            entity="import_batch",
            entity_id=batch.id,
            before={"status": "staged"},
            after={"status": target, **batch.counts},
            reason=f"import {target}",
        )
    return batch


def commit_import(session: Session, *, actor: Actor, batch_id: int) -> ImportBatch:
    """Apply a staged batch in one go: every row of it, or (on any failure) none.

    Returns the committed batch; what the commit wrote — the handler's counts of sessions,
    charges, clients, flags ... created or changed — is :func:`written_counts` of it.
    """
    return _decide(
        session,
        actor=actor,
        batch_id=batch_id,
        target="committed",
        apply=lambda handler, batch: handler.commit(session, batch, actor=actor),
    )


def discard_import(session: Session, *, actor: Actor, batch_id: int) -> ImportBatch:
    """Drop a staged batch; its file and row outcomes stay for the record."""

    def drop(handler: FormatHandler, batch: ImportBatch) -> None:
        handler.discard(session, batch, actor=actor)

    return _decide(session, actor=actor, batch_id=batch_id, target="discarded", apply=drop)


def written_counts(batch: ImportBatch) -> dict[str, int]:
    """What committing ``batch`` wrote, by kind of row (empty until it is committed)."""
    written = (batch.counts or {}).get("written") or {}
    return {str(key): int(n) for key, n in written.items()}


# --- reading ---------------------------------------------------------------------------------


def _load(session: Session, actor: Actor, batch_id: int) -> ImportBatch:
    batch = session.get(ImportBatch, batch_id, populate_existing=True)
    if batch is None or not (actor.is_system or batch.practice_id in actor.practice_ids):
        raise NotFound(f"import {batch_id} not found")
    return batch


def get_batch(session: Session, *, actor: Actor, batch_id: int) -> ImportBatch:
    batch = _load(session, actor, batch_id)
    actor.require(batch.practice_id, Permission.ENTER_CHARGES)
    return batch


def list_batches(
    session: Session,
    *,
    actor: Actor,
    practice_id: int | None = None,
    status: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[ImportBatch]:
    """The batches of the actor's practices (or one), newest first."""
    scopes = practice_scopes(actor, Permission.ENTER_CHARGES, practice_id)
    conditions: list[ColumnElement[bool]] = [ImportBatch.practice_id.in_(list(scopes))]
    if status:
        conditions.append(ImportBatch.status == status)
    total = session.scalar(select(func.count()).select_from(ImportBatch).where(*conditions)) or 0
    items = session.scalars(
        select(ImportBatch)
        .where(*conditions)
        .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
        .limit(clamp_limit(limit))
        .offset(max(offset, 0))
    )
    return Page(list(items), total)


def batch_rows(
    session: Session,
    *,
    actor: Actor,
    batch_id: int,
    outcome: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[ImportRowOutcome]:
    """The preview: the batch's row outcomes in file order, optionally one outcome only."""
    batch = get_batch(session, actor=actor, batch_id=batch_id)
    conditions: list[ColumnElement[bool]] = [ImportRowOutcome.batch_id == batch.id]
    if outcome:
        if outcome not in OUTCOMES:
            raise InvalidInput(f"outcome: {outcome!r} is not one of {', '.join(OUTCOMES)}")
        conditions.append(ImportRowOutcome.outcome == outcome)
    total = session.scalar(select(func.count()).select_from(ImportRowOutcome).where(*conditions)) or 0
    items = session.scalars(
        select(ImportRowOutcome)
        .where(*conditions)
        .order_by(ImportRowOutcome.row_number, ImportRowOutcome.id)
        .limit(clamp_limit(limit))
        .offset(max(offset, 0))
    )
    return Page(list(items), total)


# --- saved column mappings -----------------------------------------------------------------


def _mapping_row(session: Session, practice_id: int, name: str) -> ColumnMapping:
    found = session.scalars(
        select(ColumnMapping).where(ColumnMapping.practice_id == practice_id, ColumnMapping.name == name)
    ).one_or_none()
    if found is None:
        raise InvalidInput(f'there is no saved column mapping named "{name}"')
    return found


def get_mapping(session: Session, *, actor: Actor, practice_id: int, name: str) -> ColumnMapping:
    actor.require(practice_id, Permission.ENTER_CHARGES)
    return _mapping_row(session, practice_id, name)


@dataclass(frozen=True)
class SavedMapping:
    """A practice's saved column mapping as lists show it: what it maps, who saved it, when."""

    id: int
    practice_id: int
    name: str
    target: str
    columns: dict[str, str]
    saved_by_user_id: int | None
    saved_by: str | None
    saved_at: datetime


def _saved_mappings(session: Session, conditions: list[ColumnElement[bool]]) -> list[SavedMapping]:
    query = (
        select(ColumnMapping, User.full_name)
        .outerjoin(User, User.id == ColumnMapping.created_by_user_id)
        .where(*conditions)
        .order_by(ColumnMapping.name, ColumnMapping.practice_id)
    )
    return [
        SavedMapping(
            id=row.id,
            practice_id=row.practice_id,
            name=row.name,
            target=row.target_format,
            columns={str(k): str(v) for k, v in (row.columns or {}).items()},
            saved_by_user_id=row.created_by_user_id,
            saved_by=full_name,
            saved_at=row.created_at,
        )
        for row, full_name in session.execute(query)
    ]


def list_mappings(session: Session, *, actor: Actor, practice_id: int | None = None) -> list[SavedMapping]:
    """The saved column mappings of the actor's practices (or one), by name."""
    scopes = practice_scopes(actor, Permission.ENTER_CHARGES, practice_id)
    return _saved_mappings(session, [ColumnMapping.practice_id.in_(list(scopes))])


def find_mapping(
    session: Session, *, actor: Actor, name: str, practice_id: int | None = None
) -> SavedMapping:
    """One saved mapping by name, in ``practice_id`` or the one of the actor's practices that
    has it. As for a row by id: NotFound when none of theirs has it, then PermissionDenied
    without the permission to import there."""
    conditions: list[ColumnElement[bool]] = [ColumnMapping.name == name.strip()]
    if practice_id is not None:
        require_row_access(actor, practice_id, Permission.ENTER_CHARGES)
        conditions.append(ColumnMapping.practice_id == practice_id)
    elif not actor.is_system:
        conditions.append(ColumnMapping.practice_id.in_(sorted(actor.practice_ids)))
    found = _saved_mappings(session, conditions)
    if not found:
        raise NotFound(f'there is no saved column mapping named "{name.strip()}"')
    if len(found) > 1:
        raise InvalidInput(f'practice_id: several of your practices have a mapping named "{name.strip()}"')
    actor.require(found[0].practice_id, Permission.ENTER_CHARGES)
    return found[0]


@dataclass(frozen=True)
class MappingSuggestion:
    """What an uploaded header could be: guessed mappings, and the saved ones that fit it."""

    filename: str
    header: list[str]
    guesses: list[MappingGuess]
    saved: list[SavedMapping]


def mapping_suggestion(
    session: Session,
    *,
    actor: Actor,
    data: bytes,
    filename: str = "upload.csv",
    target: ImportFormat | None = None,
    practice_id: int | None = None,
) -> MappingSuggestion:
    """Guess how a file's header (the file, or only its header row) maps onto ``target`` (or
    onto every format), and name the practice's saved mappings whose columns it has."""
    scopes = practice_scopes(actor, Permission.ENTER_CHARGES, practice_id)
    table = _read(data, filename)
    guesses = _guesses(table, _targets(target))
    header = list(table.header)
    present = set(header)
    saved = [
        mapping
        for mapping in _saved_mappings(session, [ColumnMapping.practice_id.in_(list(scopes))])
        if (target is None or mapping.target == target.value) and set(mapping.columns.values()) <= present
    ]
    return MappingSuggestion(filename, header, guesses, saved)


def save_mapping(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    name: str,
    target: ImportFormat,
    columns: dict[str, str],
) -> ColumnMapping:
    """Save (or replace) a named mapping: target field -> source header text.

    A replaced mapping is saved anew: its author and time become the replacer's and now (the
    audit log keeps what it was before).
    """
    actor.require(practice_id, Permission.ENTER_CHARGES)
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("mapping name: give 1 to 100 characters")
    if target not in _MAPPABLE:
        raise InvalidInput(f"mapping target: {target.value!r} is not a format a mapping can read")
    fields = {c.field: c for c in columns_of(target)}
    unknown = sorted(set(columns) - set(fields))
    if unknown:
        raise InvalidInput(f"mapping {name!r}: {target.value} has no field {', '.join(unknown)}")
    unmapped = [c.label for c in fields.values() if c.required and c.field not in columns]
    if unmapped:
        raise InvalidInput(f"mapping {name!r}: say which column holds {', '.join(unmapped)}")
    existing = session.scalars(
        select(ColumnMapping).where(ColumnMapping.practice_id == practice_id, ColumnMapping.name == name)
    ).one_or_none()
    before = None if existing is None else {"target": existing.target_format, "columns": existing.columns}
    if existing is None:
        existing = ColumnMapping(practice_id=practice_id, name=name, created_by_user_id=actor.user_id)
        session.add(existing)
    else:
        existing.created_by_user_id = actor.user_id
        existing.created_at = utcnow()
    existing.target_format = target.value
    existing.columns = dict(columns)
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=practice_id,
        action="create" if before is None else "update",
        entity="column_mapping",
        entity_id=existing.id,
        before=before,
        after={"name": name, "target": target.value, "columns": dict(columns)},
    )
    return existing
