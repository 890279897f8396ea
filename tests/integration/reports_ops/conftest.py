"""The hand-built history every operations report test reads (see world.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.integration.reports_ops.world import History, build_history


@pytest.fixture
def history(db: Session) -> History:
    return build_history(db)
