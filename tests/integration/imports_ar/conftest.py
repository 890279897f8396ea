"""An AR portfolio file in the shapes other billing systems write, and the handler driven
directly: read, parse, stage into a batch, commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.adapters.csv import ImportFormat, parse, read_csv
from revcycle.db import models as m
from revcycle.domain.permissions import Role
from revcycle.services.actor import Actor
from revcycle.services.imports.ar_portfolio import ArPortfolioHandler
from revcycle.services.imports.handler import StageCounts
from tests import factories as f

TODAY = date(2026, 6, 30)


def dos(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).strftime("%m/%d/%Y")


@dataclass
class Portfolio:
    db: Session
    practice: m.Practice
    actor: Actor
    handler: ArPortfolioHandler

    def stage(self, text: str, filename: str = "portfolio.csv") -> tuple[m.ImportBatch, StageCounts]:
        batch = m.ImportBatch(practice_id=self.practice.id, format="ar_aging", filename=filename)
        self.db.add(batch)
        self.db.flush()
        table = read_csv(text.encode("utf-8"), filename=filename)
        counts = self.handler.stage(self.db, batch, parse(table, ImportFormat.AR_AGING), actor=self.actor)
        return batch, counts

    def commit(self, batch: m.ImportBatch) -> dict[str, int]:
        return self.handler.commit(self.db, batch, actor=self.actor)

    def count(self, model: type[m.Base]) -> int:
        column = model.practice_id  # type: ignore[attr-defined]
        return self.db.scalar(select(func.count()).select_from(model).where(column == self.practice.id)) or 0


@pytest.fixture
def portfolio(db: Session) -> Portfolio:
    practice = f.make_practice(db)
    user = f.make_user(db, practice, Role.BILLING)
    return Portfolio(db, practice, f.actor_for(db, user), ArPortfolioHandler(today=lambda: TODAY))
