"""Lump-sum proposals: the sets of open claims whose expected amounts add up to the check,
exactly, fewest claims first, then oldest; bounded, and saying so when it stops short."""

from __future__ import annotations

from itertools import combinations, count

from hypothesis import given, settings
from hypothesis import strategies as st

from revcycle.domain.lump_sum import MAX_CANDIDATES, propose

# Six claims of a payer, oldest first: (claim id, expected cents).
OPEN = [(101, 9000), (102, 7000), (103, 9000), (104, 11000), (105, 2000), (106, 16000)]


def _brute_force(check: int, candidates: list[tuple[int, int]], limit: int) -> list[tuple[int, ...]]:
    """Every subset, ranked by size then by positions: the reference ranking."""
    found = []
    for size in range(1, len(candidates) + 1):
        for chosen in combinations(range(len(candidates)), size):
            if sum(candidates[p][1] for p in chosen) == check:
                found.append(tuple(candidates[p][0] for p in chosen))
    return found[:limit]


def test_a_known_check_finds_the_fewest_then_the_oldest_claims() -> None:
    found = propose(18000, OPEN)
    assert found.sets == [(101, 103), (102, 104), (105, 106), (101, 102, 105), (102, 103, 105)]
    assert found.complete


def test_one_claim_that_matches_alone_comes_first() -> None:
    assert propose(16000, OPEN, limit=2).sets == [(106,), (101, 102)]


def test_nothing_adds_up() -> None:
    found = propose(1234, OPEN)
    assert found.sets == []
    assert found.complete  # known for sure, not given up


def test_claims_without_an_expected_amount_are_left_out_and_ids_count_once() -> None:
    found = propose(9000, [(1, 0), (2, -500), (3, 9000), (3, 4500), (4, 4500)])
    assert found.sets == [(3,)]


def test_more_than_the_cap_tries_only_the_oldest_and_says_so() -> None:
    many = [(n, 5000) for n in range(1, MAX_CANDIDATES + 11)]
    many.append((999, 123))  # the only way to make 51.23 is beyond the cap
    found = propose(5123, many)
    assert found.sets == []
    assert f"only the oldest {MAX_CANDIDATES}" in found.gave_up
    assert found.candidates_tried == MAX_CANDIDATES


def test_a_search_out_of_time_says_so_and_keeps_what_it_found() -> None:
    ticks = count()

    def clock() -> float:  # each look at the clock is one second later
        return float(next(ticks))

    # 40 distinct amounts and a check reachable only by many of them: a long search.
    candidates = [(n, 1000 + 7 * n) for n in range(1, 41)]
    check = sum(cents for _, cents in candidates[:11])
    found = propose(check, candidates, budget_s=0.5, clock=clock)
    assert "stopped after 0.5 s" in found.gave_up
    assert all(sum(dict(candidates)[c] for c in chosen) == check for chosen in found.sets)


def test_the_largest_sets_are_bounded() -> None:
    candidates = [(n, 100) for n in range(1, 21)]
    found = propose(1500, candidates, max_claims=12)
    assert found.sets == []
    assert "more than 12 claims" in found.gave_up


amounts = st.lists(st.integers(min_value=1, max_value=40_000), min_size=0, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    amounts=amounts,
    pick=st.lists(st.integers(min_value=0, max_value=11), max_size=5),
    limit=st.integers(1, 6),
)
def test_every_proposal_sums_exactly_and_the_ranking_is_the_brute_forces(
    amounts: list[int], pick: list[int], limit: int
) -> None:
    candidates = [(1000 + n, cents) for n, cents in enumerate(amounts)]
    chosen = {p for p in pick if p < len(amounts)}
    check = sum(amounts[p] for p in chosen) or 1
    found = propose(check, candidates, limit=limit)
    expected = dict(candidates)
    for claim_ids in found.sets:
        assert sum(expected[c] for c in claim_ids) == check
        assert len(set(claim_ids)) == len(claim_ids)
    assert found.sets == _brute_force(check, candidates, limit)
    assert found.complete
