"""Append-only triggers on postings, ledger transactions, claim events and the audit log.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

from revcycle.db.protection import (
    APPEND_ONLY_TABLES,
    create_append_only_triggers,
    drop_append_only_triggers,
)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_append_only_triggers(op.get_bind(), APPEND_ONLY_TABLES)


def downgrade() -> None:
    drop_append_only_triggers(op.get_bind(), APPEND_ONLY_TABLES)
