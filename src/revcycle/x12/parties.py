"""Parties and the HL hierarchy that holds them, shared by the 276/277 and 270/271 codecs.

These transaction sets name who is involved level by level: an HL segment opens a level
(HL01 its number, HL02 its parent's, HL03 what it is — 20 payer, 21 information receiver, 19
provider, 22 subscriber, 23 dependent, PT patient — and HL04 whether levels hang below it), and
the first NM1 under it names the level's party. A claim or a question further down belongs to
every party above it, which a reader finds by walking up the parents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from revcycle.x12.errors import X12Error
from revcycle.x12.segments import Segment, seg

__all__ = ["Hierarchy", "Level", "Party", "parent_level"]


@dataclass(frozen=True)
class Party:
    """A name segment (NM1): who a level or a claim is about."""

    entity: str  # NM101: PR payer, 41 receiver, 85/1P provider, IL subscriber, QC patient
    name: str  # NM103: last name or organization name
    id: str = ""  # NM109
    id_qualifier: str = ""  # NM108: PI payer id, 46 ETIN, XX NPI, MI member id ...
    first_name: str = ""  # NM104
    middle_name: str = ""  # NM105
    kind: str = "2"  # NM102: 1 person, 2 organization

    def segment(self) -> Segment:
        return seg(
            "NM1",
            self.entity,
            self.kind,
            self.name,
            self.first_name or None,
            self.middle_name or None,
            None,
            None,
            self.id_qualifier if self.id else None,
            self.id or None,
        )

    @classmethod
    def read(cls, nm1: Segment) -> Party:
        return cls(
            entity=nm1.element(1),
            kind=nm1.element(2),
            name=nm1.element(3),
            first_name=nm1.element(4),
            middle_name=nm1.element(5),
            id_qualifier=nm1.element(8),
            id=nm1.element(9),
        )


# ----------------------------------------------------------------------------- writing


class Hierarchy:
    """Numbers HL levels as a writer opens them: 1, 2, 3 ... in file order."""

    def __init__(self) -> None:
        self.count = 0

    def hl(self, parent: str, level: str, has_children: bool | None) -> tuple[str, Segment]:
        """The new level's number and its HL; ``has_children`` None leaves HL04 out."""
        self.count += 1
        child = None if has_children is None else "1" if has_children else "0"
        return str(self.count), seg("HL", str(self.count), parent or None, level, child)


# ----------------------------------------------------------------------------- reading


@dataclass
class Level:
    """One HL level while reading: what it is, its parent, and the party its first NM1 names."""

    hl: Segment
    level: str  # HL03
    parent: Level | None
    party: Party | None = None

    def find(self, level: str) -> Level | None:
        """This level or the nearest one above it that is ``level``."""
        node: Level | None = self
        while node is not None and node.level != level:
            node = node.parent
        return node

    def name(self, nm1: Segment) -> None:
        """Take the level's party from its first NM1 (later ones name others: a PCP, a plan)."""
        if self.party is None:
            self.party = Party.read(nm1)


L = TypeVar("L", bound=Level)


def parent_level(hl: Segment, levels: Mapping[str, L]) -> L | None:
    """The level HL02 names (None for a top level); an HL02 naming no earlier level is refused."""
    parent_id = hl.element(2)
    if not parent_id:
        return None
    parent = levels.get(parent_id)
    if parent is None:
        raise X12Error(
            f"parent level {parent_id!r} is not an earlier HL",
            position=hl.position,
            segment_id=hl.id,
            element=hl.name(2),
        )
    return parent
