"""Pausing Python's cycle collector around bulk work.

Reading a 20,000-claim 835 or posting it makes millions of small objects and no reference
cycles worth collecting; the collector's repeated passes over everything still alive (the
whole parsed file while it posts) cost a third of the time and grow with the file. Bulk paths
pause it for their duration; it is restored as it was, even on error, and its next pass
collects whatever cycles were made meanwhile.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused"]


@contextmanager
def paused() -> Iterator[None]:
    """Pause the cycle collector for the ``with`` block (reference counting goes on)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            _age_survivors()
            gc.enable()


def _age_survivors() -> None:
    """Count what the block made and kept as old, as it would have become had the collector
    run: otherwise the first allocation after resuming starts a young-generation pass over
    every object the block allocated (a parsed 835: a million objects, a tenth of a second).

    Freezing moves every tracked object to the permanent generation and resets the young
    count; unfreezing puts them all in the oldest generation, which full passes still
    collect. Skipped when something else keeps objects frozen (not to thaw them)."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
