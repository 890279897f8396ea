"""Fixtures for the CSV adapter tests: the sample exports under tests/data/csv."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[3] / "data" / "csv"


@pytest.fixture
def data_dir() -> Path:
    return DATA
