"""The life of an import batch: stage (preview), then commit or discard.

:func:`stage_import` keeps the uploaded file (hashed), reads it, settles its format (detected
from the header, forced by the caller, or a saved column mapping), and hands the rows to the
format's handler, which records what committing would do — nothing live changes. A file
that cannot be read is refused whole with a message naming file, row, column and value, and
nothing is written (the staging runs in a savepoint).

:func:`commit_import` applies a staged batch all or nothing (a savepoint again: a failure
part-way leaves no row of the batch applied); :func:`discard_import` drops it. Each of the
three writes one audit row for the whole batch.
"""

from __future__ import annotations

import gc
import hashlib
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

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
from revcycle.db.models import ColumnMapping, ImportBatch, ImportRowOutcome, StoredFile
from revcycle.db.types import utcnow
from revcycle.domain.permissions import Permission
from revcycle.domain.problems import Problem
from revcycle.errors import Conflict, InvalidInput, NotFound
from revcycle.services import audit
from revcycle.services.actor import Actor
from revcycle.services.imports.handler import FormatHandler
from revcycle.services.imports.source import SourceRows
from revcycle.services.imports.staging import OUTCOMES
from revcycle.services.scoping import DEFAULT_LIMIT, Page, clamp_limit, practice_scopes

__all__ = [
    "HANDLERS",
    "MappingGuess",
    "batch_rows",
    "commit_import",
    "discard_import",
    "get_batch",
    "get_mapping",
    "handler_for",
    "list_batches",
    "save_mapping",
    "stage_import",
    "suggest_mapping",
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


@contextmanager
def _bulk_work() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch builds or writes 100,000s of rows.

    The rows are freed by reference counting; with the collector on, its full passes over an
    ever larger heap cost about as much as the import itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- staging -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingGuess:
    """A proposed mapping of a file's header onto one format, for the user to confirm."""

    target: ImportFormat
    columns: dict[str, str]
    missing_required: list[str]


def suggest_mapping(data: bytes, *, filename: str = "upload.csv") -> list[MappingGuess]:
    """Guessed mappings of an unknown file onto each format, most complete first."""
    table = _read(data, filename)
    return _guesses(table)


def _guesses(table: CsvTable) -> list[MappingGuess]:
    guesses = []
    for target in _MAPPABLE:
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
            with _bulk_work():
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
        with _bulk_work():
            written = apply(handler, batch) or {}
        # Handlers write with multi-row statements: objects the caller holds may be stale.
        session.expire_all()
        batch.counts = {**batch.counts, "committed": target == "committed"}
        audit.record(
            session,
            actor=actor,
            practice_id=batch.practice_id,
            action="update",
            entity="import_batch",
            entity_id=batch.id,
            before={"status": "staged"},
            after={"status": target, "written": written, **batch.counts},
            reason=f"import {target}",
        )
    return batch


def commit_import(session: Session, *, actor: Actor, batch_id: int) -> ImportBatch:
    """Apply a staged batch in one go: every row of it, or (on any failure) none."""
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


def save_mapping(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    name: str,
    target: ImportFormat,
    columns: dict[str, str],
) -> ColumnMapping:
    """Save (or replace) a named mapping: target field -> source header text."""
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
