"""The schema comes from the migrations, matches the models, and keeps history append-only."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from revcycle.db.models import Base
from revcycle.db.protection import APPEND_ONLY_TABLES, expected_triggers, installed_triggers
from tests import factories as f


def test_models_do_not_drift_from_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"models differ from migrations: {differences}"


def test_every_protective_trigger_exists_after_last_migration(engine: Engine) -> None:
    with engine.connect() as connection:
        installed = installed_triggers(connection)
    missing = expected_triggers(engine.dialect.name) - installed
    assert not missing, f"triggers missing after migrations: {sorted(missing)}"
    assert len(expected_triggers(engine.dialect.name)) >= 2 * len(APPEND_ONLY_TABLES)


@pytest.mark.parametrize("statement", ["UPDATE claim_events SET detail = 'x'", "DELETE FROM claim_events"])
def test_claim_events_refuse_update_and_delete(db: Session, statement: str) -> None:
    practice = f.make_practice(db)
    payer = f.make_payer(db)
    client = f.make_client(db, practice)
    coverage = f.make_coverage(db, client, payer)
    session = f.make_session(db, practice, client, f.make_provider(db, practice))
    claim = f.make_claim(db, session, coverage)
    db.execute(
        text(
            "INSERT INTO claim_events (practice_id, claim_id, to_status, source, detail, created_at) "
            "VALUES (:p, :c, 'draft', 'user', '', CURRENT_TIMESTAMP)"
        ),
        {"p": practice.id, "c": claim.id},
    )
    with pytest.raises(DatabaseError, match="append-only"), db.begin_nested():
        db.execute(text(statement))
