"""pyx12's verdict on an X12 file: an independent judge beside our own structural checks.

Our readers (:mod:`revcycle.services.x12_ingest`) check what we need to apply a file. pyx12
checks the file against the implementation guide's maps -- required segments, code lists,
element lengths -- so ``revcycle x12 validate`` and ``POST /api/x12/validate`` show its
verdict too when it is installed. pyx12 is a development and test dependency: it is imported
lazily and the application runs without it (:func:`pyx12_verdict` then returns None).

pyx12 ships maps for some 5010 transaction sets only (837P X222A1, 999, 277CA X214, 835, 834,
820, 837I); a group it has no map for (270, 271, 276, 277 X212) is listed as unchecked
instead of stopping it, and the groups it does know in the same file are still judged.

pyx12 logs every error with the offending value, which is the file's content (PHI): its
logger is cut off from ours for good, and the errors are read from its error tree instead.
Its place-of-service list predates POS 10 (telehealth in the patient's home, CMS 2022), which
behavioral health bills every day: that one complaint is pyx12's, not the file's, and is kept
apart (``Pyx12Verdict.stale``) rather than counted.
"""

from __future__ import annotations

import importlib
import io
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from revcycle.errors import InvalidInput
from revcycle.services import x12_ingest
from revcycle.x12.errors import X12Error
from revcycle.x12.segments import ISA_LENGTH, read_isa_delimiters

__all__ = [
    "STALE_IN_PYX12",
    "Pyx12Error",
    "Pyx12Verdict",
    "pyx12_available",
    "pyx12_verdict",
    "pyx12_verdict_of_file",
]

STALE_IN_PYX12: tuple[tuple[str, str], ...] = (
    # (segment id, or "" for any; words of the message) of pyx12's known false complaints:
    # its place-of-service list predates POS 10 (telehealth in the patient's home);
    ("", "(10) is not a valid code for Place of Service Code"),
    # its 835 map counts each PLB as a new footer loop of repeat 1, though PLB repeats;
    ("PLB", "Loop FOOTER exceeded max count"),
    # it cannot build its own 999 for a set without ST03, which the 835 guide leaves unused.
    ("", "Failed to create 999 response"),
)

# pyx12 names the file it read; ours is in memory.
_IN_MEMORY = re.compile(r'"<_io\.StringIO object at 0x[0-9a-fA-F]+>"')
_MODULES = ("x12n_document", "params", "map_if", "map_index", "error_handler")
# pyx12 keeps its state in module globals and one shared logger: one document at a time.
_lock = threading.Lock()
# pyx12 parses its XML maps on every document (~0.1 s, most of a small file's time). A map
# holds no state between documents in pyx12 2.3 (the walker counts), so one parse serves all.
_maps: dict[tuple[str, str | None], Any] = {}


@dataclass(frozen=True)
class Pyx12Error:
    """One complaint: where pyx12 says it is (1-based segment position in the file, segment id,
    element such as ``CLM05-1``) when it says so, and its message."""

    message: str
    position: int | None = None
    segment_id: str = ""
    element: str = ""

    def __str__(self) -> str:
        where = f"segment {self.position}" if self.position is not None else ""
        if self.segment_id:
            where = f"{where} ({self.segment_id})" if where else self.segment_id
        if self.element:
            where = f"{where}, {self.element}" if where else self.element
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class Pyx12Verdict:
    """What pyx12 checked ("837 (005010X222A1)"), what it could not ("pyx12 has no map for
    270 (005010X279A1)"), its errors and the stale complaints set aside."""

    checked: tuple[str, ...] = ()
    no_map: tuple[str, ...] = ()
    errors: tuple[Pyx12Error, ...] = ()
    stale: tuple[Pyx12Error, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.errors


def _modules() -> dict[str, Any] | None:
    try:
        return {name: importlib.import_module(f"pyx12.{name}") for name in _MODULES}
    except ImportError:
        return None


def pyx12_available() -> bool:
    return _modules() is not None


def pyx12_verdict(text: str) -> Pyx12Verdict | None:
    """pyx12's verdict on an X12 file; None when pyx12 is not installed."""
    pyx12 = _modules()
    if pyx12 is None:
        return None
    text = text.removeprefix("\ufeff")
    with _lock:
        _silence_logger()
        index = _map_index(pyx12)
        try:
            interchanges = _split(text)
        except X12Error:
            # Not readable enough to see its groups: pyx12 judges it whole and says why.
            return _verdict(_judge(pyx12, text), checked=(), no_map=())
        checked, no_map, kept = _sort_groups(interchanges, index)
        if not checked:
            return Pyx12Verdict(no_map=no_map)
        if len(kept) == sum(len(ic.segments) for ic in interchanges):
            return _verdict(_judge(pyx12, text), checked=checked, no_map=no_map)
        filtered, positions = _without_unmapped(interchanges, kept)
        return _verdict(_judge(pyx12, filtered, positions), checked=checked, no_map=no_map)


def pyx12_verdict_of_file(data: bytes) -> Pyx12Verdict | None:
    """pyx12's verdict on a file's bytes, decoded as our readers decode them."""
    try:
        text = x12_ingest.decode(data)
    except InvalidInput:  # a BOM before bytes that are not UTF-8: pyx12 is shown what they say
        text = data.decode("utf-8", errors="replace")
    return pyx12_verdict(text)


def _verdict(found: list[Pyx12Error], *, checked: tuple[str, ...], no_map: tuple[str, ...]) -> Pyx12Verdict:
    stale = [
        error
        for error in found
        if any(
            words in error.message and segment_id in ("", error.segment_id)
            for segment_id, words in STALE_IN_PYX12
        )
    ]
    errors = [error for error in found if error not in stale]
    return Pyx12Verdict(checked=checked, no_map=no_map, errors=tuple(errors), stale=tuple(stale))


# --- cutting the file into groups, to tell pyx12's maps from its gaps -----------------------------


@dataclass(frozen=True)
class _Raw:
    position: int  # 1-based in the file
    text: str  # without its terminator
    elements: list[str]  # [id, e1, e2, ...]

    @property
    def id(self) -> str:
        return self.elements[0]

    def element(self, n: int) -> str:
        return self.elements[n].strip() if n < len(self.elements) else ""


@dataclass(frozen=True)
class _Interchange:
    terminator: str
    segments: list[_Raw]


def _split(text: str) -> list[_Interchange]:
    """The file's segments per interchange, raw; X12Error when even its ISA cannot be read."""
    found: list[_Interchange] = []
    position, at = 0, len(text) - len(text.lstrip())
    while at < len(text):
        position += 1
        delimiters = read_isa_delimiters(text, at, position)
        isa = text[at : at + ISA_LENGTH - 1]
        segments = [_Raw(position, isa, isa.split(delimiters.element))]
        at += ISA_LENGTH
        while at < len(text) and segments[-1].id != "IEA":
            end = text.find(delimiters.segment, at)
            end = len(text) if end < 0 else end
            raw = text[at:end].strip()
            at = end + 1
            if raw:
                position += 1
                segments.append(_Raw(position, raw, raw.split(delimiters.element)))
        found.append(_Interchange(delimiters.segment, segments))
        at += len(text[at:]) - len(text[at:].lstrip())
    return found


def _sort_groups(
    interchanges: list[_Interchange], index: Any
) -> tuple[tuple[str, ...], tuple[str, ...], list[int]]:
    """The transaction sets pyx12 can check, the ones it cannot, and the positions to keep."""
    checked: list[str] = []
    no_map: list[str] = []
    kept: list[int] = []
    for interchange in interchanges:
        version = interchange.segments[0].element(12)  # ISA12
        mapped, vriic = True, ""
        for segment in interchange.segments:
            if segment.id == "GS":
                fic, vriic = segment.element(1), segment.element(8)
                mapped = index.get_filename(version, vriic, fic) is not None
            elif segment.id == "ST":
                label = f"{segment.element(1)} ({segment.element(3) or vriic})"
                listed = checked if mapped else no_map
                listed.append(label if mapped else f"pyx12 has no map for {label}")
            if mapped or segment.id in ("ISA", "IEA"):
                kept.append(segment.position)
            if segment.id == "GE":
                mapped = True
    return tuple(dict.fromkeys(checked)), tuple(dict.fromkeys(no_map)), kept


def _without_unmapped(interchanges: list[_Interchange], kept: list[int]) -> tuple[str, list[int]]:
    """The file without the groups pyx12 has no map for (IEA01 recounted), and each kept
    segment's position in the original file."""
    keep = set(kept)
    parts: list[str] = []
    positions: list[int] = []
    for interchange in interchanges:
        segments = [segment for segment in interchange.segments if segment.position in keep]
        groups = sum(segment.id == "GS" for segment in segments)
        if not groups:
            continue
        for segment in segments:
            raw = segment.text
            if segment.id == "IEA":
                separator = interchange.segments[0].text[3]
                raw = separator.join([segment.id, str(groups), *segment.elements[2:]])
            parts.append(raw + interchange.terminator)
            positions.append(segment.position)
    return "".join(parts), positions


# --- running pyx12 ---------------------------------------------------------------------------------


def _silence_logger() -> None:
    """pyx12's log lines carry the file's values: they never reach our handlers."""
    logger = logging.getLogger("pyx12")
    logger.propagate = False
    logger.setLevel(logging.ERROR)
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())


class _Collect(logging.Handler):
    """ERROR records pyx12 logs outside its error tree (a file it cannot read at all)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.module != "error_handler":  # those are in the tree, with their places
            self.messages.append(_IN_MEMORY.sub("the file", record.getMessage()))


_index: list[Any] = []


def _map_index(pyx12: dict[str, Any]) -> Any:
    if not _index:
        _index.append(pyx12["map_index"].map_index())
    return _index[0]


def _judge(pyx12: dict[str, Any], text: str, positions: list[int] | None = None) -> list[Pyx12Error]:
    """pyx12's errors on ``text``; ``positions`` maps its segment numbers back to the file's."""
    map_if, error_handler = pyx12["map_if"], pyx12["error_handler"]
    load_map_file, make_handler = map_if.load_map_file, error_handler.err_handler
    trees: list[Any] = []

    def load_map_once(map_file: str, param: Any, map_path: str | None = None) -> Any:
        key = (map_file, map_path)
        if key not in _maps:
            _maps[key] = load_map_file(map_file, param, map_path)
        return _maps[key]

    def keep_tree() -> Any:
        trees.append(make_handler())
        return trees[-1]

    logger = logging.getLogger("pyx12")
    collect = _Collect()
    logger.addHandler(collect)
    map_if.load_map_file, error_handler.err_handler = load_map_once, keep_tree
    stopped = ""
    try:
        valid = pyx12["x12n_document"].x12n_document(
            param=pyx12["params"].params(), src_file=io.StringIO(text), fd_997=io.StringIO(), fd_html=None
        )
    except Exception as error:  # pyx12 raises what it likes on a broken file
        valid, stopped = False, f"pyx12 stopped reading the file: {error}"
    finally:
        map_if.load_map_file, error_handler.err_handler = load_map_file, make_handler
        logger.removeHandler(collect)
    found = sorted(_tree_errors(trees[0]) if trees else [], key=lambda e: e.position or 0)
    found = [_placed(error, positions) for error in found]
    found += [Pyx12Error(message) for message in collect.messages]
    if stopped:
        found.append(Pyx12Error(stopped))
    if not valid and not found:
        found.append(Pyx12Error("pyx12 found the file invalid without saying why"))
    return found


def _placed(error: Pyx12Error, positions: list[int] | None) -> Pyx12Error:
    if positions is None or error.position is None or not 0 < error.position <= len(positions):
        return error
    return Pyx12Error(error.message, positions[error.position - 1], error.segment_id, error.element)


def _tree_errors(root: Any) -> Iterator[Pyx12Error]:
    """Walk pyx12's error tree: interchange, group and transaction errors, then segments'."""
    for isa in root.children:
        yield from _loop_errors(isa, "ISA", isa.cur_line_isa)
        for gs in isa.children:
            yield from _loop_errors(gs, "GS", gs.cur_line_gs)
            for st in gs.children:
                yield from _loop_errors(st, "ST", st.cur_line_st)
                for segment in st.children:
                    yield from _segment_errors(segment)


def _loop_errors(node: Any, segment_id: str, position: int) -> Iterator[Pyx12Error]:
    for entry in node.errors:
        yield Pyx12Error(str(entry[1]), position, segment_id)
    for element in getattr(node, "elements", []):
        yield from _element_errors(element, segment_id, position)


def _segment_errors(segment: Any) -> Iterator[Pyx12Error]:
    for _code, message, value in segment.errors:
        yield Pyx12Error(_with_value(message, value), segment.cur_line, segment.seg_id)
    for element in segment.elements:
        yield from _element_errors(element, segment.seg_id, segment.cur_line)


def _element_errors(element: Any, segment_id: str, position: int) -> Iterator[Pyx12Error]:
    name = f"{segment_id}{int(element.ele_pos):02d}"
    if element.subele_pos:
        name += f"-{int(element.subele_pos)}"
    for _code, message, value in element.errors:
        yield Pyx12Error(_with_value(message, value), position, segment_id, name)


def _with_value(message: str, value: object) -> str:
    if value in (None, "") or f"({value})" in message:
        return str(message)
    return f"{message} ({value})"
