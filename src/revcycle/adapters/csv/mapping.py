"""Column mappings: reading any other CSV as one of the known formats.

The first upload from a new source asks the user which column holds each field of the
target format; :func:`guess_mapping` proposes an answer from the header names, the user
corrects it, and the saved :class:`ColumnMapping` is reused by name for later files (storing
it is the database's business). :func:`apply_mapping` then reads the file with the target
format's own row builder, so values, blanks and messages follow the same rules.

A mapping names source columns by their header text. Where a header repeats a name,
``"Charge#2"`` is its second column of that name (``"Charge"`` alone is the first).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from .formats import (
    Column,
    ImportFormat,
    ParsedRow,
    RejectedRow,
    columns_of,
    match_columns,
    normalise_name,
    parse_columns,
)
from .reading import CsvInputError, CsvTable, quote

__all__ = ["ColumnMapping", "apply_mapping", "guess_mapping", "resolve_mapping"]

_GUESS_THRESHOLD = 0.75
_OCCURRENCE = re.compile(r"(?P<name>.*)#(?P<occurrence>[0-9]+)")
# Other names people give a field, beyond the ones the formats themselves accept.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "service_at": ("date", "appointment date", "session date", "date of service", "dos"),
    "service_on": ("date", "service date", "date of service", "from date"),
    "date_of_service": ("date", "appointment date", "session date"),
    "client_name": ("patient", "patient name", "client name", "name", "full name"),
    "patient_name": ("client", "client name", "name", "patient full name"),
    "clinician_name": ("therapist", "provider", "clinician name", "rendering provider"),
    "provider_name": ("clinician", "therapist", "rendering"),
    "billing_code": ("cpt", "cpt code", "procedure code", "service code", "code"),
    "procedure_code": ("billing code", "service code", "code"),
    "primary_payer": ("insurance", "payer", "primary payer", "insurance company"),
    "payer": ("primary insurance", "insurance company", "carrier", "plan"),
    "balance": ("ar balance", "open balance", "insurance balance", "remaining"),
    "billed": ("billed amount", "charge", "fee", "total fee"),
    "total_fee": ("fee", "charge", "amount", "billed"),
    "claim_id": ("claim", "claim #", "claim number", "account", "encounter id", "invoice"),
    "member_id": ("member", "subscriber id", "policy id", "insurance id"),
    "aging_days": ("days", "age", "days outstanding", "days in ar"),
    "appointment_status": ("status", "attendance"),
    "date_of_birth": ("dob", "birth date", "birthdate"),
}


@dataclass(frozen=True)
class ColumnMapping:
    """A saved answer to "which column holds each field": target field -> source header."""

    name: str
    target: ImportFormat
    columns: Mapping[str, str] = field(default_factory=dict)


def guess_mapping(header: Sequence[str], target: ImportFormat, *, name: str = "") -> ColumnMapping:
    """A first guess for the user to confirm: each field to its most similar header name.

    Exact names (as the target format accepts them) win; then close names and synonyms,
    each source column used at most once. Fields with no plausible column are left out.
    """
    columns = columns_of(target)
    chosen = match_columns(header, target)
    scored = sorted(
        (
            (score, -field_index, -index, column.field, index)
            for field_index, column in enumerate(columns)
            for index, header_name in enumerate(header)
            if column.field not in chosen and (score := _similarity(header_name, column)) >= _GUESS_THRESHOLD
        ),
        reverse=True,
    )
    for _score, _field_order, _index_order, field_name, index in scored:
        if field_name not in chosen and index not in chosen.values():
            chosen[field_name] = index
    ordered = {
        column.field: _reference(header, chosen[column.field]) for column in columns if column.field in chosen
    }
    return ColumnMapping(name=name, target=target, columns=ordered)


def _similarity(header_name: str, column: Column) -> float:
    source = normalise_name(header_name)
    if not source:
        return 0.0
    if source in {normalise_name(name) for name in column.names}:
        return 1.0
    candidates = {normalise_name(name) for name in (*_SYNONYMS.get(column.field, ()), column.field)}
    best = 0.0
    for candidate in candidates:
        if candidate == source:
            best = max(best, 0.95)
        elif min(len(candidate), len(source)) >= 4 and (candidate in source or source in candidate):
            best = max(best, 0.8)
        else:
            best = max(best, SequenceMatcher(None, source, candidate).ratio())
    return best


def _reference(header: Sequence[str], index: int) -> str:
    """How a mapping names column ``index``: its header, with ``#n`` if the name repeats."""
    occurrence = header[:index].count(header[index]) + 1
    return header[index] if occurrence == 1 else f"{header[index]}#{occurrence}"


def resolve_mapping(table: CsvTable, mapping: ColumnMapping) -> dict[str, int]:
    """Each mapped field's column index in this file; refuses a file that lacks one.

    Raises ``ValueError`` for a mapping naming fields the target does not have (a broken
    saved mapping) and :class:`CsvInputError` when the file lacks a mapped column or the
    mapping leaves a required field unmapped.
    """
    columns = {column.field: column for column in columns_of(mapping.target)}
    unknown = sorted(set(mapping.columns) - set(columns))
    if unknown:
        raise ValueError(f"mapping {mapping.name!r}: {mapping.target} has no field {', '.join(unknown)}")
    unmapped = [
        column.label for column in columns.values() if column.required and column.field not in mapping.columns
    ]
    if unmapped:
        raise CsvInputError(
            table.filename,
            table.header_row,
            None,
            None,
            f'mapping "{mapping.name}" does not say which column holds {", ".join(unmapped)}',
        )
    return {
        field_name: _find(table, mapping, field_name, source)
        for field_name, source in mapping.columns.items()
    }


def _find(table: CsvTable, mapping: ColumnMapping, field_name: str, source: str) -> int:
    name, occurrence = source, 1
    match = _OCCURRENCE.fullmatch(source)
    if match is not None and source not in table.header:
        name, occurrence = match["name"], int(match["occurrence"])
    for exact in (True, False):
        wanted = name if exact else normalise_name(name)
        found = [
            i
            for i, header in enumerate(table.header)
            if (header if exact else normalise_name(header)) == wanted
        ]
        if len(found) >= occurrence:
            return found[occurrence - 1]
    header = ", ".join(quote(cell) for cell in table.header)
    raise CsvInputError(
        table.filename,
        table.header_row,
        source,
        None,
        f'is missing from the header (mapping "{mapping.name}" reads {field_name} from it); '
        f"the header has {header}",
    )


def apply_mapping(table: CsvTable, mapping: ColumnMapping) -> Iterator[ParsedRow | RejectedRow]:
    """The file's rows read as ``mapping.target``; refuses now if a mapped column is missing."""
    return parse_columns(table, mapping.target, resolve_mapping(table, mapping))
