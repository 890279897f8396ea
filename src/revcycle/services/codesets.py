"""Code sets an admin loads, and the scrubber's context built from them.

Two kinds of national release are loaded into the database (they are not per practice):

- an ICD-10-CM release from the CMS order file (``icd10cm_order_YYYY.txt`` or its zip), with
  the dates of service it is in force for; its codes become :class:`Icd10ReleaseCode` rows;
- an NCCI practitioner PTP table from the CMS file (the text or its zip), with the dates
  the quarter's table is in force; its pairs become :class:`NcciEdit` rows. A full table is
  about two million rows: they are streamed from the file and inserted in chunks.

An official CARC or RARC list (X12's, not shipped) is loaded the same way from a CSV or
tab-separated copy (``adapters.adjustment_code_list``); its codes become
:class:`AdjustmentCode` rows, and :func:`official_descriptions` gives the text the newest
loaded list has for each code, beside Revcycle's own plain-language explanations. A code no
list knows is never refused anywhere: it is only shown as not on the list.

Every load is all or nothing: it runs in a savepoint, and a wrong line rolls the whole
release back and answers :class:`InvalidInput` naming file, line and column. A release's
name is unique per kind (loading the same quarter twice is a :class:`Conflict`). Loading
needs ``manage_practice`` in the practice the admin acts for, and is audited there.

:func:`scrub_context_for` gives the scrubber what a claim needs: the shipped ICD-10-CM
releases plus the loaded ones (a loaded release covering a date wins), the place-of-service
codes, and, for each NCCI table loaded, the pairs among the claim's own codes. A loaded
ICD-10-CM release is read from the database once per process (keyed by its id, name and
load time) and forgotten when a release is loaded, so every process sees a new release on
its next scrub.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any, BinaryIO

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from revcycle.adapters.adjustment_code_list import CODE_LISTS, read_adjustment_code_list
from revcycle.adapters.codesets import (
    CodeSetFileError,
    Icd10Catalog,
    place_of_service_codes,
    read_icd10_order_data,
)
from revcycle.adapters.ncci import read_ncci_file
from revcycle.db import models as m
from revcycle.domain.permissions import Permission
from revcycle.domain.scrubber import Icd10Release, NcciPair, NcciTable, ScrubContext
from revcycle.errors import Conflict, InvalidInput
from revcycle.services import audit
from revcycle.services.actor import Actor

__all__ = [
    "CODE_LISTS",
    "ICD10",
    "NCCI",
    "LoadedRelease",
    "forget_loaded_releases",
    "list_releases",
    "load_adjustment_codes",
    "load_icd10_release",
    "load_ncci_table",
    "official_descriptions",
    "scrub_context_for",
]

ICD10 = "icd10cm"
NCCI = "ncci_ptp"
CHUNK_ROWS = 10_000
MAX_NAME_CHARS = 100


@dataclass(frozen=True)
class LoadedRelease:
    """A release as the code-sets page and API show it."""

    id: int
    kind: str
    name: str
    effective_on: date
    ends_on: date | None
    row_count: int
    loaded_by: str | None
    loaded_at: datetime


# --- loading ----------------------------------------------------------------------------------


def load_icd10_release(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    data: bytes,
    filename: str,
    name: str,
    effective_on: date,
    ends_on: date,
) -> m.CodeSetRelease:
    """Load a CMS ICD-10-CM order file as a release in force ``effective_on`` .. ``ends_on``."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    name = _checked(session, ICD10, name, effective_on, ends_on)
    try:
        release = read_icd10_order_data(data, filename, name=name, valid_from=effective_on, valid_to=ends_on)
    except CodeSetFileError as error:
        raise InvalidInput(str(error), error.problems) from None
    rows = ({"code": code, "billable": code in release.billable} for code in sorted(release.all_codes))
    with session.begin_nested():
        row = _release_row(session, actor, ICD10, name, effective_on=effective_on, ends_on=ends_on)
        row.row_count = _insert_chunks(session, m.Icd10ReleaseCode, row.id, rows)
    return _finish(session, actor, practice_id, row, filename)


def load_ncci_table(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    stream: BinaryIO,
    filename: str,
    name: str,
    effective_on: date,
    ends_on: date | None = None,
) -> m.CodeSetRelease:
    """Load a CMS NCCI practitioner PTP file (text or zip), streamed and inserted in chunks."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    name = _checked(session, NCCI, name, effective_on, ends_on)
    rows = (
        {
            "column1_code": pair.column1,
            "column2_code": pair.column2,
            "effective_on": pair.effective_on,
            "deleted_on": pair.deleted_on,
            "modifier_indicator": pair.modifier_indicator,
        }
        for pair in read_ncci_file(stream, filename)
    )
    try:
        with session.begin_nested():
            row = _release_row(session, actor, NCCI, name, effective_on=effective_on, ends_on=ends_on)
            row.row_count = _insert_chunks(session, m.NcciEdit, row.id, rows)
    except CodeSetFileError as error:
        raise InvalidInput(str(error), error.problems) from None
    return _finish(session, actor, practice_id, row, filename)


def load_adjustment_codes(
    session: Session,
    *,
    actor: Actor,
    practice_id: int,
    data: bytes,
    filename: str,
    code_list: str,
    name: str,
    effective_on: date,
) -> m.CodeSetRelease:
    """Load an official CARC or RARC list (``code_list`` "carc" or "rarc") as a release."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    if code_list not in CODE_LISTS:
        raise InvalidInput(f"code_list: {code_list!r} is not carc or rarc")
    name = _checked(session, code_list, name, effective_on, None)
    try:
        entries = read_adjustment_code_list(data, filename)
    except CodeSetFileError as error:
        raise InvalidInput(str(error), error.problems) from None
    rows = (
        {
            "code_list": code_list,
            "code": entry.code,
            "description": entry.description,
            "starts_on": entry.starts_on,
            "ends_on": entry.ends_on,
        }
        for entry in entries
    )
    with session.begin_nested():
        row = _release_row(session, actor, code_list, name, effective_on=effective_on, ends_on=None)
        row.row_count = _insert_chunks(session, m.AdjustmentCode, row.id, rows)
    return _finish(session, actor, practice_id, row, filename)


def official_descriptions(session: Session, code_list: str, codes: Iterable[str]) -> dict[str, str]:
    """The newest loaded list's description of each code it has (codes it lacks are absent);
    a code past its stop date says so."""
    wanted = sorted({code.strip().upper() for code in codes if code.strip()})
    if not wanted:
        return {}
    query = (
        select(m.AdjustmentCode.code, m.AdjustmentCode.description, m.AdjustmentCode.ends_on)
        .join(m.CodeSetRelease, m.CodeSetRelease.id == m.AdjustmentCode.release_id)
        .where(m.AdjustmentCode.code_list == code_list, m.AdjustmentCode.code.in_(wanted))
        .order_by(m.CodeSetRelease.effective_on, m.CodeSetRelease.id)
    )
    found: dict[str, str] = {}
    for code, description, ends_on in session.execute(query):  # newest release last, so it wins
        found[code] = f"{description} (stopped {ends_on.isoformat()})" if ends_on else description
    return found


def _checked(session: Session, kind: str, name: str, effective_on: date, ends_on: date | None) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("name: give the release a name (for example 2026Q4 practitioner)")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"name: at most {MAX_NAME_CHARS} characters")
    if ends_on is not None and ends_on < effective_on:
        raise InvalidInput(f"ends_on: {ends_on} is before effective_on {effective_on}")
    taken = session.scalar(
        select(m.CodeSetRelease.id).where(m.CodeSetRelease.kind == kind, m.CodeSetRelease.name == name)
    )
    if taken is not None:
        raise Conflict(f"name: a {kind} release named {name!r} is already loaded")
    return name


def _release_row(
    session: Session, actor: Actor, kind: str, name: str, *, effective_on: date, ends_on: date | None
) -> m.CodeSetRelease:
    row = m.CodeSetRelease(
        kind=kind, name=name, effective_on=effective_on, ends_on=ends_on, loaded_by_user_id=actor.user_id
    )
    session.add(row)
    session.flush()
    return row


def _insert_chunks(session: Session, model: Any, release_id: int, rows: Iterable[dict[str, Any]]) -> int:
    """Insert rows in chunks (an executemany each); the count inserted."""
    count = 0
    iterator: Iterator[dict[str, Any]] = iter(rows)
    while chunk := [{**row, "release_id": release_id} for row in islice(iterator, CHUNK_ROWS)]:
        session.execute(insert(model), chunk)
        count += len(chunk)
    return count


def _finish(
    session: Session, actor: Actor, practice_id: int, row: m.CodeSetRelease, filename: str
) -> m.CodeSetRelease:
    session.flush()
    audit.record(
        session,
        actor=actor,
        practice_id=practice_id,
        action="create",
        entity="code_set_release",
        entity_id=row.id,
        after={
            "kind": row.kind,
            "name": row.name,
            "effective_on": row.effective_on,
            "ends_on": row.ends_on,
            "rows": row.row_count,
            "file": filename,
        },
    )
    forget_loaded_releases()
    return row


def list_releases(session: Session, *, actor: Actor, practice_id: int) -> list[LoadedRelease]:
    """Every loaded release, newest first, with who loaded it."""
    actor.require(practice_id, Permission.MANAGE_PRACTICE)
    query = (
        select(m.CodeSetRelease, m.User.email)
        .outerjoin(m.User, m.User.id == m.CodeSetRelease.loaded_by_user_id)
        .order_by(m.CodeSetRelease.kind, m.CodeSetRelease.effective_on.desc(), m.CodeSetRelease.id.desc())
    )
    return [
        LoadedRelease(
            row.id, row.kind, row.name, row.effective_on, row.ends_on, row.row_count, email, row.created_at
        )
        for row, email in session.execute(query)
    ]


# --- the scrubber's context -----------------------------------------------------------------------

_cache_lock = threading.Lock()
_loaded_icd10: dict[tuple[int, str, datetime], Icd10Release] = {}


def forget_loaded_releases() -> None:
    """Drop the loaded releases this process read (a release was loaded)."""
    with _cache_lock:
        _loaded_icd10.clear()


def scrub_context_for(session: Session, claim: m.Claim) -> ScrubContext:
    """Shipped and loaded code sets, and the NCCI pairs among the claim's codes."""
    codes = sorted({line.procedure_code.strip() for line in claim.lines})
    return ScrubContext(
        icd10=Icd10Catalog(_icd10_releases(session)),
        place_of_service_codes=frozenset(place_of_service_codes()),
        ncci_tables=_ncci_tables(session, codes),
    )


def _icd10_releases(session: Session) -> list[Icd10Release]:
    rows = session.scalars(
        select(m.CodeSetRelease).where(m.CodeSetRelease.kind == ICD10).order_by(m.CodeSetRelease.id)
    )
    return [_icd10_release(session, row) for row in rows]


def _icd10_release(session: Session, row: m.CodeSetRelease) -> Icd10Release:
    key = (row.id, row.name, row.created_at)
    with _cache_lock:
        cached = _loaded_icd10.get(key)
    if cached is not None:
        return cached
    every, billable = set(), set()
    query = select(m.Icd10ReleaseCode.code, m.Icd10ReleaseCode.billable).where(
        m.Icd10ReleaseCode.release_id == row.id
    )
    for code, is_billable in session.execute(query):
        every.add(code)
        if is_billable:
            billable.add(code)
    ends_on = row.ends_on or date.max
    release = Icd10Release(row.name, row.effective_on, ends_on, frozenset(billable), frozenset(every))
    with _cache_lock:
        _loaded_icd10[key] = release
    return release


def _ncci_tables(session: Session, codes: list[str]) -> tuple[NcciTable, ...]:
    releases = list(session.scalars(select(m.CodeSetRelease).where(m.CodeSetRelease.kind == NCCI)))
    if not releases:
        return ()
    pairs: dict[int, list[NcciPair]] = {row.id: [] for row in releases}
    if len(codes) > 1:
        query = select(m.NcciEdit).where(
            m.NcciEdit.release_id.in_(list(pairs)),
            m.NcciEdit.column1_code.in_(codes),
            m.NcciEdit.column2_code.in_(codes),
        )
        for edit in session.scalars(query):
            pairs[edit.release_id].append(
                NcciPair(
                    edit.column1_code,
                    edit.column2_code,
                    edit.effective_on,
                    edit.deleted_on,
                    edit.modifier_indicator,
                )
            )
    return tuple(NcciTable(row.name, row.effective_on, row.ends_on, tuple(pairs[row.id])) for row in releases)
