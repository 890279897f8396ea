"""The rows of an uploaded file, parsed lazily, with the raw cells still at hand.

A handler iterates :class:`SourceRows` like any iterator of parsed rows. A handler that
wants to go faster can also read the raw cells first (:meth:`SourceRows.raw`), fingerprint
each row, and parse only the rows it has not seen before (:meth:`SourceRows.only`):
re-importing an unchanged 100,000-row export then costs a pass over the CSV text, not
100,000 typed rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields

from revcycle.adapters.csv import CsvTable, ImportFormat, ParsedRow, RejectedRow, parse_columns

__all__ = ["SourceRows", "fingerprint"]


def fingerprint(values: tuple[str, ...]) -> str:
    """A short stable digest of a row's cells (in field order, so moved columns agree)."""
    return hashlib.blake2b("\x1f".join(values).encode(), digest_size=12).hexdigest()


@dataclass(frozen=True, eq=False)
class _Only(CsvTable):
    wanted: frozenset[int] = frozenset()

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for row_number, cells in super().__iter__():
            if row_number in self.wanted:
                yield row_number, cells


class SourceRows:
    """Iterator of the parsed rows of ``table`` read as ``fmt`` through ``layout``."""

    def __init__(self, table: CsvTable, fmt: ImportFormat, layout: Mapping[str, int]) -> None:
        self.table = table
        self.format = fmt
        self.layout = dict(layout)
        self._rows: Iterator[ParsedRow | RejectedRow] | None = None

    def __iter__(self) -> SourceRows:
        return self

    def __next__(self) -> ParsedRow | RejectedRow:
        if self._rows is None:
            self._rows = parse_columns(self.table, self.format, self.layout)
        return next(self._rows)

    def raw(self) -> Iterator[tuple[int, dict[str, str], str]]:
        """(row number, field -> cell text, fingerprint) of every row, unparsed."""
        order = sorted(self.layout.items())
        for row_number, cells in self.table:
            values = {name: cells[index] for name, index in order}
            yield row_number, values, fingerprint(tuple(values.values()))

    def only(self, row_numbers: set[int]) -> Iterator[ParsedRow | RejectedRow]:
        """The parsed rows among ``row_numbers`` only."""
        shape = {f.name: getattr(self.table, f.name) for f in fields(self.table)}
        subset = _Only(**shape, wanted=frozenset(row_numbers))
        return parse_columns(subset, self.format, self.layout)
