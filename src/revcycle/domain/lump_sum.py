"""Lump-sum checks: which open claims a check pays, when the payer sent no EOB lines.

A payer's paper check often pays several claims at once with nothing but the total on it.
Each open claim has an expected amount (its contract or fee schedule allowed amount less the
usual patient share, or what the payer usually pays for the code); :func:`propose` finds the
sets of claims whose expected amounts add up **exactly** to the check, best first:

1. fewest claims first (a check for three claims is likelier than one for seven);
2. then the oldest claims first: candidates come oldest first, and sets of the same size are
   ordered by their positions in that list, compared position by position (the set holding
   the oldest claim wins; on a tie, the next oldest decides).

Subset sum is NP-hard, so the search is bounded and says when it stopped short:

* at most :data:`MAX_CANDIDATES` (200) candidates, the oldest ones; the rest are not tried;
* at most :data:`MAX_CLAIMS` (12) claims in one set;
* at most ``budget_s`` seconds (default :data:`BUDGET_S`, 2 s) of searching.

Before searching, a bitset over the cents (one Python integer, for checks up to
:data:`BITSET_MAX_CENTS`) answers whether any set at all sums to the check, so "nothing adds
up" is usually known at once and for sure. The search itself goes set size by set size, in
order (which is exactly the ranking above), and cuts every branch whose remaining amount lies
outside what the claims left could still add up to (the sum of the fewest smallest to the
most largest); the last claim of a set is looked up by amount rather than tried one by one;
and a dead end is remembered — (claims still to pick, amount still to make) found nothing from
some claim on, so it finds nothing from any later one, and an amount that led nowhere at one
level is not tried again there — which is what makes a payer's many equal amounts cheap.

Pure: no database, no clock but the monotonic one that bounds the search.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from math import gcd

__all__ = [
    "BITSET_MAX_CENTS",
    "BUDGET_S",
    "MAX_CANDIDATES",
    "MAX_CLAIMS",
    "Proposals",
    "propose",
]

MAX_CANDIDATES = 200
MAX_CLAIMS = 12
BUDGET_S = 2.0
BITSET_MAX_CENTS = 20_000_000  # $200,000.00: a bitset of 2.5 MB, built in well under a second
_CHECK_CLOCK_EVERY = 2048  # search steps between two looks at the clock
_MAX_REMEMBERED = 1_000_000  # dead ends remembered (about 100 MB at most)


@dataclass(frozen=True)
class Proposals:
    """The sets found (each a tuple of claim ids, oldest first), best first, and whether the
    search was complete: ``gave_up`` says why it stopped short ("" when it did not)."""

    sets: list[tuple[int, ...]] = field(default_factory=list)
    gave_up: str = ""
    candidates_tried: int = 0

    @property
    def complete(self) -> bool:
        return not self.gave_up


class _OutOfTime(Exception):
    pass


def propose(
    check_cents: int,
    candidates: Sequence[tuple[int, int]],
    *,
    limit: int = 5,
    max_claims: int = MAX_CLAIMS,
    budget_s: float = BUDGET_S,
    clock: Callable[[], float] = time.monotonic,
) -> Proposals:
    """The first ``limit`` sets of ``candidates`` ((claim id, expected cents), oldest first)
    whose expected amounts add up exactly to ``check_cents``, best first (module docstring).

    Candidates with no positive expected amount are left out (they cannot be told apart by
    amount); a claim id given twice counts once (its first amount).
    """
    if check_cents <= 0 or limit <= 0:
        return Proposals()
    usable = _usable(candidates)
    notes: list[str] = []
    if len(usable) > MAX_CANDIDATES:
        notes.append(
            f"only the oldest {MAX_CANDIDATES} of {len(usable)} claims were tried; "
            "choose claims by hand or narrow the list"
        )
        usable = usable[:MAX_CANDIDATES]
    ids = [claim_id for claim_id, _ in usable]
    amounts = [cents for _, cents in usable]
    if not _reachable(check_cents, amounts):
        return Proposals([], "; ".join(notes), len(usable))
    search = _Search(check_cents, amounts, clock() + budget_s, clock)
    found: list[tuple[int, ...]] = []
    try:
        for size in range(1, min(max_claims, len(amounts)) + 1):
            for positions in search.sets_of(size):
                found.append(tuple(ids[p] for p in positions))
                if len(found) == limit:
                    return Proposals(found, "; ".join(notes), len(usable))
        if len(amounts) > max_claims:
            notes.append(f"sets of more than {max_claims} claims were not tried")
    except _OutOfTime:
        notes.append(f"stopped after {budget_s:g} s; sets of more claims may exist")
    return Proposals(found, "; ".join(notes), len(usable))


def _usable(candidates: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    seen: set[int] = set()
    usable = []
    for claim_id, cents in candidates:
        if claim_id in seen or cents <= 0:
            continue
        seen.add(claim_id)
        usable.append((claim_id, cents))
    return usable


def _reachable(check_cents: int, amounts: Sequence[int]) -> bool:
    """False only when no set of the amounts sums to the check (for sure); True otherwise."""
    if not amounts or sum(amounts) < check_cents:
        return False
    divisor = 0
    for cents in amounts:
        divisor = gcd(divisor, cents)
    if check_cents % divisor:
        return False
    if check_cents > BITSET_MAX_CENTS:
        return True  # too large to decide up front: let the bounded search try
    scale = divisor  # every sum is a multiple of the gcd: count in units of it
    target = check_cents // scale
    mask = (1 << (target + 1)) - 1
    sums = 1  # bit s set: some set of the amounts seen so far sums to s units
    for cents in amounts:
        sums |= (sums << (cents // scale)) & mask
        if sums >> target & 1:
            return True
    return False


class _Search:
    """Sets of a given size in lexicographic order of positions, with bounds that cut."""

    def __init__(
        self, target: int, amounts: Sequence[int], deadline: float, clock: Callable[[], float]
    ) -> None:
        self.target = target
        self.amounts = list(amounts)
        self.deadline = deadline
        self.clock = clock
        self.steps = 0
        self.yielded = 0
        self.dead: dict[tuple[int, int], int] = {}  # (picks, left) -> a start that found nothing
        count = len(self.amounts)
        # low[i][k] / high[i][k]: the least / most that k amounts from position i on add up to.
        self.low: list[list[int]] = []
        self.high: list[list[int]] = []
        for start in range(count + 1):
            rest = sorted(self.amounts[start:])
            self.low.append([0, *accumulate(rest)])
            self.high.append([0, *accumulate(reversed(rest))])
        # amount -> the positions holding it, ascending: the last claim of a set, by lookup.
        self.where: dict[int, list[int]] = defaultdict(list)
        for position, cents in enumerate(self.amounts):
            self.where[cents].append(position)

    def sets_of(self, size: int) -> Iterator[tuple[int, ...]]:
        if self._fits(0, size, self.target):
            yield from self._extend((), 0, size, self.target)

    def _fits(self, start: int, picks: int, left: int) -> bool:
        available = len(self.amounts) - start
        if picks > available:
            return False
        return self.low[start][picks] <= left <= self.high[start][picks]

    def _extend(
        self, chosen: tuple[int, ...], start: int, picks: int, left: int
    ) -> Iterator[tuple[int, ...]]:
        """The sets completing ``chosen`` with ``picks`` amounts from ``start`` on adding up to
        ``left``, in order. A (picks, left) that found nothing from some start finds nothing
        from any later one (fewer claims to choose from): it is remembered and not tried again."""
        self._tick()
        if start >= self.dead.get((picks, left), len(self.amounts) + 1):
            return
        before = self.yielded
        if picks == 1:
            positions = self.where.get(left, [])
            for position in positions[bisect_left(positions, start) :]:
                self.yielded += 1
                yield (*chosen, position)
        else:
            failed: set[int] = set()  # amounts tried at this level that led nowhere
            for position in range(start, len(self.amounts) - picks + 1):
                # As the start moves on, the least k amounts only grow and the most only shrink.
                if not self._fits(position, picks, left):
                    break
                cents = self.amounts[position]
                rest = left - cents
                if cents in failed or not self._fits(position + 1, picks - 1, rest):
                    continue
                mark = self.yielded
                yield from self._extend((*chosen, position), position + 1, picks - 1, rest)
                if self.yielded == mark:
                    failed.add(cents)  # the same amount later has fewer claims after it
        if self.yielded == before and len(self.dead) < _MAX_REMEMBERED:
            self.dead[(picks, left)] = min(start, self.dead.get((picks, left), start))

    def _tick(self) -> None:
        self.steps += 1
        if self.steps % _CHECK_CLOCK_EVERY == 0 and self.clock() > self.deadline:
            raise _OutOfTime
