"""Database triggers that keep history append-only, on SQLite and PostgreSQL.

Postings, ledger transactions, claim events and the audit log are never updated or deleted;
the database itself refuses it, so no code path (nor a hand-typed SQL statement) can edit
history. SQLite batch migrations recreate tables and silently drop their triggers, so a test
checks that every trigger named here exists after the last migration.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

APPEND_ONLY_TABLES = ("postings", "ledger_transactions", "claim_events", "audit_log")
# Versioned settings: a change is a new version row, so old versions are never edited
# (migration 0011; followup_rules predates it and gets its triggers there too).
VERSIONED_TABLES = ("followup_rules", "assignment_rules", "appeal_letter_templates", "payer_strategies")
PROTECTED_TABLES = APPEND_ONLY_TABLES + VERSIONED_TABLES
PG_FUNCTION = "revcycle_refuse_change"


def expected_triggers(dialect: str) -> set[tuple[str, str]]:
    """(table, trigger name) pairs that must exist on this dialect."""
    if dialect == "sqlite":
        return {(t, f"{t}_no_{op}") for t in PROTECTED_TABLES for op in ("update", "delete")}
    return {(t, f"{t}_append_only") for t in PROTECTED_TABLES} | {
        (t, f"{t}_no_truncate") for t in PROTECTED_TABLES
    }


def installed_triggers(connection: Connection) -> set[tuple[str, str]]:
    if connection.dialect.name == "sqlite":
        rows = connection.execute(
            text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        )
    else:
        rows = connection.execute(
            text(
                "SELECT c.relname, t.tgname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
            )
        )
    return {(row[0], row[1]) for row in rows}


def create_append_only_triggers(connection: Connection, tables: tuple[str, ...]) -> None:
    if connection.dialect.name == "sqlite":
        for table in tables:
            for op in ("update", "delete"):
                connection.execute(
                    text(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op} BEFORE {op.upper()} "
                        f"ON {table} BEGIN SELECT RAISE(ABORT, "
                        f"'{table} is append-only: {op.upper()} refused'); END"
                    )
                )
        return
    connection.execute(
        text(
            f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
            "USING ERRCODE = 'insufficient_privilege'; END; $$ LANGUAGE plpgsql"
        )
    )
    for table in tables:
        connection.execute(
            text(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
            )
        )
        connection.execute(
            text(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
            )
        )


def drop_append_only_triggers(connection: Connection, tables: tuple[str, ...]) -> None:
    for table in tables:
        if connection.dialect.name == "sqlite":
            for op in ("update", "delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{op}"))
        else:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}"))
