"""utcnow() answers the wall clock, or inside recording_at() the moment given (nested blocks
restore the outer moment); a naive moment is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from revcycle.db.types import recording_at, utcnow


def test_recording_at_stamps_the_given_moment_and_restores_the_clock() -> None:
    march = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    eastern = timezone(timedelta(hours=-5))
    with recording_at(march):
        assert utcnow() == march
        with recording_at(datetime(2026, 3, 3, 9, 0, tzinfo=eastern)):
            assert utcnow() == datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
            assert utcnow().tzinfo == UTC
        assert utcnow() == march
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=5)


def test_recording_at_refuses_a_naive_moment() -> None:
    with pytest.raises(ValueError, match="aware"), recording_at(datetime(2026, 3, 2, 14, 30)):
        pass
