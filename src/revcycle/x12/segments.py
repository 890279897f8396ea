"""X12 segments and the tokenizer that cuts a file into them.

An X12 file is a run of segments ("CLM*A37YH556*500***11:B:1~"). Its four delimiters are not
fixed: each interchange declares them in its ISA header, which is fixed width so a reader can
find them before knowing them -- the element separator is the ISA's fourth character, the
repetition separator is ISA11 (in 4010 files ISA11 is the standards id "U" and nothing repeats),
the component separator is ISA16 and the segment terminator is the character right after it.

Elements are kept as text: a simple element is a ``str`` ("" when empty), a composite a tuple of
its components, and a repeated element a :class:`Repeated` tuple of its repetitions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from revcycle.x12.errors import X12Error

SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
ISA_LENGTH = 106  # "ISA" + 16 fixed-width elements and their separators + the terminator
# Where the element separator must stand inside a fixed-width ISA (offsets from its "I").
ISA_SEPARATOR_OFFSETS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    repetition: str = "^"  # "" when the interchange has none (4010)
    component: str = ":"
    segment: str = "~"

    def all(self) -> tuple[str, ...]:
        return tuple(d for d in (self.element, self.repetition, self.component, self.segment) if d)

    def check(self) -> None:
        """Refuse delimiters a reader could not tell apart from data or from each other."""
        named = {
            "element separator": self.element,
            "repetition separator": self.repetition,
            "component separator": self.component,
            "segment terminator": self.segment,
        }
        for name, char in named.items():
            if name == "repetition separator" and char == "":
                continue
            if len(char) != 1 or char.isalnum() or char == " ":
                raise X12Error(f"{name} {char!r} must be one character, not a letter, digit or space")
        if len(set(self.all())) != len(self.all()):
            raise X12Error(f"delimiters must all differ: {self.all()!r}")


class Repeated(tuple[str | tuple[str, ...], ...]):
    """A repeated element ("30^1^33"): each repetition a simple value or a composite."""

    __slots__ = ()


Element = str | tuple[str, ...] | Repeated


@dataclass(frozen=True, slots=True)
class Segment:
    id: str
    elements: tuple[Element, ...]
    # 1-based segment number in the file when read; 0 when built. Not part of equality, so a
    # segment read back equals the one that was written.
    position: int = field(default=0, compare=False)

    def _value(self, n: int) -> str | tuple[str, ...]:
        if n < 1 or n > len(self.elements):
            return ""
        value = self.elements[n - 1]
        if isinstance(value, Repeated):
            return value[0] if value else ""
        return value

    def element(self, n: int) -> str:
        """Element ``n`` (1-based); a composite's first component; "" when absent."""
        elements = self.elements
        if 0 < n <= len(elements):
            value = elements[n - 1]
            if type(value) is str:  # the common case, without _value's checks
                return value
        value = self._value(n)
        if isinstance(value, str):
            return value
        return value[0] if value else ""

    def component(self, n: int, k: int) -> str:
        """Component ``k`` (1-based) of element ``n``; a simple element is its own component 1."""
        value = self.composite(n)
        return value[k - 1] if 1 <= k <= len(value) else ""

    def composite(self, n: int) -> tuple[str, ...]:
        value = self._value(n)
        if isinstance(value, str):
            return (value,) if value else ()
        return value

    def repetitions(self, n: int) -> tuple[tuple[str, ...], ...]:
        """Every repetition of element ``n`` as a tuple of its components (one per repetition)."""
        if n < 1 or n > len(self.elements):
            return ()
        value = self.elements[n - 1]
        items = value if isinstance(value, Repeated) else (value,)
        return tuple(_components(item) for item in items if item not in ("", ()))

    def values(self, n: int) -> tuple[str, ...]:
        """The first component of each repetition of element ``n``: ``EB03`` "30^1" -> ("30", "1")."""
        return tuple(rep[0] for rep in self.repetitions(n) if rep)

    def name(self, n: int, k: int = 0) -> str:
        """How errors name an element: ``CLM02``, or ``SV101-2`` for a component."""
        return f"{self.id}{n:02d}" + (f"-{k}" if k else "")


def _components(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def _normal(value: str | tuple[str, ...] | None) -> str | tuple[str, ...]:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    parts = [part or "" for part in value]
    while parts and parts[-1] == "":
        parts.pop()
    if len(parts) <= 1:
        return parts[0] if parts else ""
    return tuple(parts)


def composite(*components: str | None) -> str | tuple[str, ...]:
    """A composite element, trailing empty components trimmed ("HC", "90837") -> ("HC", "90837")."""
    return _normal(tuple(c or "" for c in components))


def repeated(*items: str | tuple[str, ...] | None) -> Element:
    """A repeated element; one repetition is just that value, none is ""."""
    kept = [_normal(item) for item in items]
    kept = [item for item in kept if item != ""]
    if len(kept) <= 1:
        return kept[0] if kept else ""
    return Repeated(kept)


def seg(id: str, *elements: Element | None) -> Segment:
    """Build a segment: None -> "", composites normalized, trailing empty elements trimmed."""
    values: list[Element] = []
    for element in elements:
        if isinstance(element, Repeated):
            values.append(repeated(*element))
        else:
            values.append(_normal(element))
    while values and values[-1] == "":
        values.pop()
    return Segment(id, tuple(values))


# ----------------------------------------------------------------------------- reading


def read_isa_delimiters(text: str, start: int, position: int) -> Delimiters:
    """The delimiters an ISA at ``text[start]`` declares, after checking it is fixed width."""
    header = text[start : start + ISA_LENGTH]
    if not header.startswith("ISA"):
        raise X12Error(
            f"expected an ISA interchange header, found {header[:20]!r}", position=position, segment_id="ISA"
        )
    if len(header) < ISA_LENGTH:
        raise X12Error(
            f"the ISA header is {len(header)} characters, shorter than its fixed {ISA_LENGTH}",
            position=position,
            segment_id="ISA",
        )
    element = header[3]
    for number, offset in enumerate(ISA_SEPARATOR_OFFSETS, start=1):
        value = header[offset + 1 : offset + 1 + ISA_WIDTHS[number - 1]]
        # ISA16 is itself a delimiter: a clash there is reported as one, below.
        if header[offset] != element or (number < 16 and element in value):
            raise X12Error(
                f"not fixed width: ISA{number:02d} should be {ISA_WIDTHS[number - 1]} characters "
                f"after the element separator {element!r} at column {offset + 1}",
                position=position,
                segment_id="ISA",
                element=f"ISA{number:02d}",
            )
    isa11, isa12 = header[82], header[84:89]
    repetition = "" if isa11.isalnum() or isa12 < "00501" else isa11
    delimiters = Delimiters(
        element=element, repetition=repetition, component=header[104], segment=header[105]
    )
    _check_isa_delimiters(delimiters, position)
    return delimiters


# Where each delimiter stands in the ISA, as errors name it.
_DELIMITER_PLACES = (
    ("element", "element separator", "", "the ISA's fourth character"),
    ("repetition", "repetition separator", "ISA11", "ISA11"),
    ("component", "component separator", "ISA16", "ISA16"),
    ("segment", "segment terminator", "ISA16", "the character after ISA16"),
)


def _check_isa_delimiters(delimiters: Delimiters, position: int) -> None:
    """Refuse delimiters a reader could not tell apart, naming the ISA element that declares the
    later of two that clash (ISA16 for the component separator or the terminator after it)."""
    seen: list[tuple[str, str]] = []
    for attribute, name, element, place in _DELIMITER_PLACES:
        char = getattr(delimiters, attribute)
        if attribute == "repetition" and char == "":
            continue
        if len(char) != 1 or char.isalnum() or char == " ":
            raise X12Error(
                f"wrong or inconsistent delimiters: the {name} {char!r} ({place}) must be one "
                "character, not a letter, digit or space",
                position=position,
                segment_id="ISA",
                element=element,
            )
        for other_char, other_name in seen:
            if char == other_char:
                raise X12Error(
                    f"wrong or inconsistent delimiters: the {name} {char!r} ({place}) is also the "
                    f"{other_name}",
                    position=position,
                    segment_id="ISA",
                    element=element,
                )
        seen.append((char, f"{name} ({place})"))


def split_element(text: str, delimiters: Delimiters) -> Element:
    if delimiters.repetition and delimiters.repetition in text:
        return Repeated(_split_components(part, delimiters) for part in text.split(delimiters.repetition))
    return _split_components(text, delimiters)


def _split_components(text: str, delimiters: Delimiters) -> str | tuple[str, ...]:
    if delimiters.component in text:
        return tuple(text.split(delimiters.component))
    return text


def _parse_segment(text: str, delimiters: Delimiters, position: int) -> Segment:
    parts = text.split(delimiters.element)
    segment_id = parts[0]
    if not SEGMENT_ID.fullmatch(segment_id):
        _refuse_another_element_separator(text, delimiters, position)
        raise X12Error(f"{text[:20]!r} does not start with a segment id", position=position)
    if segment_id == "ISA":
        return Segment("ISA", tuple(parts[1:]), position)
    return Segment(segment_id, tuple(split_element(part, delimiters) for part in parts[1:]), position)


def _refuse_another_element_separator(text: str, delimiters: Delimiters, position: int) -> None:
    """A segment id followed by another separator than the ISA's: the file changed delimiters."""
    found = re.match(r"([A-Z][A-Z0-9]{1,2})([^A-Za-z0-9 ])", text)
    if found is None or found.group(2) == delimiters.element:
        return
    raise X12Error(
        f"wrong or inconsistent delimiters: {found.group(2)!r} follows the segment id, but the ISA "
        f"declared the element separator {delimiters.element!r}",
        position=position,
        segment_id=found.group(1),
    )


@functools.cache
def _envelope_start(delimiters: Delimiters) -> re.Pattern[str]:
    """An envelope segment (ISA, GS, ST, SE, GE, IEA) starting right after a character that is
    none of the declared delimiters: where a file ends segments with another terminator. The
    shapes after each id are strict (digits where digits stand) so that data cannot match."""
    e = re.escape(delimiters.element)
    others = re.escape("".join(delimiters.all()))
    return re.compile(
        rf"([^A-Za-z0-9 {others}])"
        rf"(ISA{e}\d\d{e}|GS{e}[A-Z]{{2}}{e}|ST{e}\d{{3}}{e}|SE{e}\d+{e}|GE{e}\d+{e}\d|IEA{e}\d+{e}\d)"
    )


def _refuse_another_terminator(text: str, delimiters: Delimiters, position: int, isa: int) -> None:
    """Refuse ``text`` (one segment, or what is left of the file) when an envelope segment
    starts inside it after another terminator than the one the ISA declared."""
    found = _envelope_start(delimiters).search(text)
    if found is None:
        return
    segment_id = found.group(2).split(delimiters.element, 1)[0]
    raise X12Error(
        f"wrong or inconsistent delimiters: {found.group(1)!r} ends a segment before this {segment_id}, "
        f"but the ISA at segment {isa} declared the segment terminator {delimiters.segment!r}",
        position=position,
        segment_id=text.split(delimiters.element, 1)[0][:3],
    )


@dataclass(frozen=True)
class Chunk:
    """One interchange's segments as cut by the tokenizer, from its ISA to its IEA (if any)."""

    delimiters: Delimiters
    segments: list[Segment]


def _skip_blank(text: str, at: int, keep: str = "") -> int:
    while at < len(text) and text[at].isspace() and text[at] not in keep:
        at += 1
    return at


def tokenize(text: str) -> list[Chunk]:
    """Cut a file into interchanges of segments, each with the delimiters its ISA declares.

    A UTF-8 BOM and line breaks (or other white space) after terminators are tolerated."""
    return _tokenize(text, _read_until_iea)


def _tokenize(text: str, read_until_iea: Callable[[str, int, Delimiters, list[Segment]], int]) -> list[Chunk]:
    """:func:`tokenize`, each interchange's segments after its ISA cut by ``read_until_iea``
    (the fast path with its fallback, or -- to test that they agree -- the strict one alone)."""
    text = text.removeprefix("\ufeff")
    chunks: list[Chunk] = []
    position, at = 0, _skip_blank(text, 0)
    if at >= len(text):
        raise X12Error("the file is empty: an X12 file starts with an ISA header")
    while at < len(text):
        position += 1
        delimiters = read_isa_delimiters(text, at, position)
        segments = [_parse_segment(text[at : at + ISA_LENGTH - 1], delimiters, position)]
        at = _skip_blank(text, at + ISA_LENGTH, keep=delimiters.segment)
        at = read_until_iea(text, at, delimiters, segments)
        position = segments[-1].position
        chunks.append(Chunk(delimiters, segments))
    return chunks


def _read_until_iea(text: str, at: int, delimiters: Delimiters, segments: list[Segment]) -> int:
    """Append the segments from ``at`` up to and including an IEA; return the offset after it.

    A whole, clean interchange is cut in one pass (:func:`_read_clean_interchange`); anything
    else -- no IEA, a bad segment id, a terminator that changes -- is read segment by segment
    (:func:`_read_strictly`), which names the first problem where it stands."""
    clean = _read_clean_interchange(text, at, delimiters, segments[-1].position)
    if clean is None:
        return _read_strictly(text, at, delimiters, segments)
    read, at = clean
    segments.extend(read)
    return at


def _read_strictly(text: str, at: int, delimiters: Delimiters, segments: list[Segment]) -> int:
    """:func:`_read_until_iea` one segment at a time, each checked before the next is cut."""
    terminator = delimiters.segment
    position = segments[-1].position
    while at < len(text):
        position += 1
        end = text.find(terminator, at)
        if end < 0 and text[at:].rstrip().startswith("IEA" + delimiters.element):
            end = len(text.rstrip())  # a last IEA without its terminator: nothing is missing but the "~"
        if end < 0:
            _refuse_another_terminator(text[at:], delimiters, position, segments[0].position)
            raise X12Error(
                f"no segment terminator {terminator!r} after {text[at : at + 20]!r}: the file is truncated",
                position=position,
                segment_id=text[at:].split(delimiters.element, 1)[0][:3],
            )
        _refuse_another_terminator(text[at:end], delimiters, position, segments[0].position)
        segment = _parse_segment(text[at:end], delimiters, position)
        segments.append(segment)
        at = _skip_blank(text, end + 1, keep=terminator)
        if segment.id == "IEA":
            break
    return at


# ----------------------------------------------------------------------------- the fast path
#
# A 20,000-claim 835 is 200,000 segments: cutting them one ``find`` and one regex search at a
# time costs more than reading them. A clean interchange is cut with one ``str.split`` and
# checked where envelope ids stand; the first sign of trouble hands the interchange back to
# :func:`_read_strictly`, so every refusal still comes from that one careful path.
#
# A frozen dataclass's __init__ sets each field through object.__setattr__; setting Segment's
# three slots directly makes the same object in about half the time.

_new_segment = object.__new__
_set_id = Segment.__dict__["id"].__set__
_set_elements = Segment.__dict__["elements"].__set__
_set_position = Segment.__dict__["position"].__set__


def _read_clean_interchange(
    text: str, at: int, delimiters: Delimiters, position: int
) -> tuple[list[Segment], int] | None:
    """The segments from ``at`` through the first IEA and the offset after it, numbered from
    ``position + 1``; None when the interchange is not plainly whole and clean."""
    terminator, separator = delimiters.segment, delimiters.element
    iea = _find_iea(text, at, terminator, separator)
    end = text.find(terminator, iea) if iea >= 0 else -1
    if end < 0:
        return None
    region = text[at:end]
    if not _only_blank_before_envelopes(region, delimiters):
        return None
    pieces = region.split(terminator)
    del region
    segments = _cut_segments(pieces, delimiters, position)
    if segments is None:
        return None
    return segments, _skip_blank(text, end + 1, keep=terminator)


def _find_iea(text: str, at: int, terminator: str, separator: str) -> int:
    """Where the first segment that starts "IEA" and the element separator stands, or -1."""
    key = "IEA" + separator
    found = text.find(key, at)
    while found >= 0:
        before = found - 1
        while before >= at and text[before] != terminator and text[before].isspace():
            before -= 1
        if before < at or text[before] == terminator:
            return found
        found = text.find(key, found + 1)
    return -1


def _only_blank_before_envelopes(region: str, delimiters: Delimiters) -> bool:
    """Whether every envelope segment :func:`_refuse_another_terminator` finds in ``region`` is
    only preceded by the white space (a line break) that follows a terminator, which reading
    strips before looking: then no segment of the region holds another terminator.

    Every such match has an envelope id and the element separator right after its first
    character, so only those places are tried (``str.find`` is much faster than a search)."""
    pattern, terminator = _envelope_start(delimiters), delimiters.segment
    for segment_id in ("ISA", "GS", "ST", "SE", "GE", "IEA"):
        key = segment_id + delimiters.element
        at = region.find(key, 1)
        while at >= 0:
            if pattern.match(region, at - 1):
                previous = region.rfind(terminator, 0, at - 1)
                if not region[previous + 1 : at].isspace():
                    return False
            at = region.find(key, at + 1)
    return True


def _cut_segments(pieces: list[str], delimiters: Delimiters, position: int) -> list[Segment] | None:
    """Segments from the text between terminators, as :func:`_parse_segment` makes them, the
    first numbered ``position + 1``; None when one has no valid segment id or an IEA comes
    before the last. ``pieces`` is emptied as it is read."""
    separator, component, repetition = delimiters.element, delimiters.component, delimiters.repetition
    plain_ids: set[str] = set()  # valid ids read as any segment is (not ISA or IEA)
    segments: list[Segment] = []
    append = segments.append
    last = position + len(pieces)
    pieces.reverse()  # taken from the end, each piece is freed once cut
    take = pieces.pop
    for number in range(position + 1, last + 1):
        piece = take().lstrip()
        parts = piece.split(separator)
        segment_id = parts[0]
        if segment_id not in plain_ids:
            if not SEGMENT_ID.fullmatch(segment_id) or (segment_id == "IEA" and number != last):
                return None
            if segment_id == "ISA":
                append(Segment("ISA", tuple(parts[1:]), number))
                continue
            if segment_id != "IEA":
                plain_ids.add(segment_id)
        del parts[0]
        if repetition and repetition in piece:
            elements: tuple[Element, ...] = tuple([split_element(part, delimiters) for part in parts])
        elif component in piece:
            elements = tuple([tuple(part.split(component)) if component in part else part for part in parts])
        else:
            elements = tuple(parts)
        segment = _new_segment(Segment)
        _set_id(segment, segment_id)
        _set_elements(segment, elements)
        _set_position(segment, number)
        append(segment)
    return segments
