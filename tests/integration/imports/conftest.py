"""Fixtures for the import tests: a practice with a billing specialist, the sample exports,
small helpers to write crafted SimplePractice exports and count what an import wrote, and an
installation (a SQLite file the command line is pointed at)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from revcycle.config import get_settings
from revcycle.db import models as m
from revcycle.db.engine import make_engine
from revcycle.db.migrate import upgrade
from revcycle.db.models import ImportBatch
from revcycle.domain.permissions import Role
from revcycle.services.actor import Actor
from revcycle.services.imports import batches
from tests import factories as f

DATA = Path(__file__).resolve().parents[2] / "data" / "csv"
SP_HEADER = (
    "Date of Service,Client,Clinician,Billing Code,Primary Insurance,Secondary Insurance,Rate per Unit,"
    "Units,Total Fee,Client Payment Status,Charge,Uninvoiced,Paid,Unpaid,Insurance Payment Status,Charge,"
    "Paid,Unpaid,Progress Note Status"
)
# The tables an import writes to, for "nothing was written" checks.
WRITTEN_TABLES = (
    m.Client,
    m.Provider,
    m.Payer,
    m.PayerAlias,
    m.Coverage,
    m.ServiceSession,
    m.Charge,
    m.WorkItem,
    m.Claim,
    m.Submission,
    m.ImportBatch,
    m.ImportRowOutcome,
    m.StoredFile,
    m.AuditLog,
)


def sp_row(
    when: str = "03/02/2026 10:00",
    client: str = "Jordan Smith",
    clinician: str = "Alice Ng",
    code: str = "90837",
    primary: str = "Tricare East (99727)",
    secondary: str = "--",
    fee: str = "160.00",
    client_status: str = "UNPAID",
    client_figures: str = "0,0,0,0",
    insurance_status: str = "UNPAID",
    insurance_figures: str | None = None,
    note: str = "LOCKED",
) -> str:
    """One appointment export line (fee = rate = total, one unit)."""
    insurance = insurance_figures if insurance_figures is not None else f"{fee},0,{fee}"
    return (
        f'{when},"{client}",{clinician},{code},"{primary}","{secondary}",{fee},1,{fee},{client_status},'
        f"{client_figures},{insurance_status},{insurance},{note}"
    )


def sp_file(*rows: str) -> bytes:
    return ("\n".join([SP_HEADER, *rows]) + "\n").encode()


@dataclass
class Desk:
    """A practice and its billing specialist, with shortcuts to the import service."""

    db: Session
    practice: m.Practice
    user: m.User
    actor: Actor

    def stage(self, data: bytes, filename: str = "export.csv", **kwargs: object) -> ImportBatch:
        return batches.stage_import(
            self.db, actor=self.actor, practice_id=self.practice.id, filename=filename, data=data, **kwargs
        )  # type: ignore[arg-type]

    def commit(self, batch: ImportBatch) -> ImportBatch:
        return batches.commit_import(self.db, actor=self.actor, batch_id=batch.id)

    def load(self, data: bytes, filename: str = "export.csv", **kwargs: object) -> ImportBatch:
        return self.commit(self.stage(data, filename, **kwargs))

    def sample(self, name: str) -> bytes:
        return (DATA / name).read_bytes()

    def rows(self, batch: ImportBatch, outcome: str | None = None) -> list[m.ImportRowOutcome]:
        return list(
            batches.batch_rows(self.db, actor=self.actor, batch_id=batch.id, outcome=outcome, limit=500).items
        )

    def flags(
        self, rule: str | None = None, *, status: Sequence[str] = ("open", "acknowledged")
    ) -> list[m.WorkItem]:
        query = select(m.WorkItem).where(
            m.WorkItem.practice_id == self.practice.id,
            m.WorkItem.kind == "flag",
            m.WorkItem.status.in_(status),
        )
        if rule:
            query = query.where(m.WorkItem.rule == rule)
        return list(self.db.scalars(query.order_by(m.WorkItem.id)))

    def count(self, model: type[m.Base]) -> int:
        return self.db.scalar(select(func.count()).select_from(model)) or 0

    def counts(self) -> dict[str, int]:
        return {model.__tablename__: self.count(model) for model in WRITTEN_TABLES}


def counts_of(batch: ImportBatch) -> dict[str, int]:
    return {key: batch.counts[key] for key in ("rows", "new", "updated", "unchanged", "flagged", "rejected")}


@pytest.fixture
def desk(db: Session) -> Desk:
    practice = f.make_practice(db, timezone="America/New_York")
    user = f.make_user(db, practice, Role.BILLING)
    return Desk(db, practice, user, f.actor_for(db, user))


@pytest.fixture
def known_payers(db: Session) -> Callable[..., m.Payer]:
    """Put a payer in the catalog (as the demo or an admin would)."""

    def make(name: str, edi: str) -> m.Payer:
        return f.make_payer(db, name=name, edi_payer_id=edi)

    return make


@pytest.fixture
def installation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        practice = f.make_practice(session)
        f.make_user(session, practice, Role.BILLING, email="desk@example.test")
        session.commit()
    monkeypatch.setenv("REVCYCLE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()
    engine.dispose()
