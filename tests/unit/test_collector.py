"""revcycle.collector.paused: the cycle collector is off inside, restored after, and what the
block made is counted as old, never lost and never kept frozen."""

from __future__ import annotations

import gc
import weakref

import pytest

from revcycle import collector


class _Node:
    def __init__(self) -> None:
        self.other: object = None


def test_the_collector_is_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing left frozen


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_it_is_restored_on_error() -> None:
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_what_the_block_made_is_old_and_a_cycle_is_still_collected() -> None:
    with collector.paused():
        first, second = _Node(), _Node()
        first.other, second.other = second, first  # a reference cycle
        alive = _Node()
        watch = weakref.ref(first)
    assert gc.get_count()[0] < 100  # the young count starts again: no pass over the block's objects
    del first, second
    assert watch() is not None  # only the cycle keeps it: young passes no longer see it
    gc.collect(0)
    assert watch() is not None
    gc.collect()  # a full pass still does
    assert watch() is None
    assert isinstance(alive, _Node)


def test_objects_frozen_by_someone_else_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector.paused():
            _Node()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
