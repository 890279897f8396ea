"""imports: mappings, staged AR rows, name keys, source snapshots

Revision ID: 0004
Revises: 0003

Imports: saved column mappings, typed staging rows for AR portfolios, matching keys for
people, the source system's last figures per charge, and what each batch covers.
Create Date: 2026-11-25 17:53:00.547062
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from revcycle.domain.names import person_key_of

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "column_mappings",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("target_format", sa.String(length=40), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["users.id"], name=op.f("fk_column_mappings_created_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practices.id"], name=op.f("fk_column_mappings_practice_id_practices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_column_mappings")),
        sa.UniqueConstraint("practice_id", "name", name=op.f("uq_column_mappings_practice_id_name")),
    )
    op.create_table(
        "staged_ar_rows",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("claim_ref", sa.String(length=50), nullable=False),
        sa.Column("patient_name", sa.String(length=200), nullable=False),
        sa.Column("patient_key", sa.String(length=200), nullable=False),
        sa.Column("payer_name", sa.String(length=250), nullable=False),
        sa.Column("payer_edi_id", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.Column("provider_name", sa.String(length=200), nullable=False),
        sa.Column("procedure_code", sa.String(length=10), nullable=False),
        sa.Column("service_on", sa.Date(), nullable=False),
        sa.Column("aging_days", sa.Integer(), nullable=True),
        sa.Column("billed_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("balance_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_name", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batches.id"], name=op.f("fk_staged_ar_rows_batch_id_import_batches")
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practices.id"], name=op.f("fk_staged_ar_rows_practice_id_practices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staged_ar_rows")),
    )
    with op.batch_alter_table("staged_ar_rows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staged_ar_rows_batch_id_row_number"), ["batch_id", "row_number"], unique=False
        )

    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source_snapshot", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=200), nullable=False, server_default=""))
        batch_op.create_index(
            batch_op.f("ix_clients_practice_id_name_key"), ["practice_id", "name_key"], unique=False
        )

    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("filename", sa.String(length=255), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("mapping_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(sa.Column("covers_from_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("covers_to_on", sa.Date(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_import_batches_mapping_id_column_mappings"),
            "column_mappings",
            ["mapping_id"],
            ["id"],
        )

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=200), nullable=False, server_default=""))
        batch_op.create_index(
            batch_op.f("ix_providers_practice_id_name_key"), ["practice_id", "name_key"], unique=False
        )

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "last_seen_batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_sessions_last_seen_batch_id_import_batches"),
            "import_batches",
            ["last_seen_batch_id"],
            ["id"],
        )
    _backfill_name_keys("clients")
    _backfill_name_keys("providers")


def _backfill_name_keys(table: str) -> None:
    """Existing people get the matching key the models keep from now on."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, first_name, last_name FROM {table}")).all()
    for row in rows:
        bind.execute(
            sa.text(f"UPDATE {table} SET name_key = :key WHERE id = :id"),
            {"key": person_key_of(row.first_name, row.last_name), "id": row.id},
        )


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_sessions_last_seen_batch_id_import_batches"), type_="foreignkey"
        )
        batch_op.drop_column("last_seen_batch_id")

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_providers_practice_id_name_key"))
        batch_op.drop_column("name_key")

    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_import_batches_mapping_id_column_mappings"), type_="foreignkey"
        )
        batch_op.drop_column("covers_to_on")
        batch_op.drop_column("covers_from_on")
        batch_op.drop_column("mapping_id")
        batch_op.drop_column("filename")

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clients_practice_id_name_key"))
        batch_op.drop_column("name_key")

    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.drop_column("source_snapshot")

    with op.batch_alter_table("staged_ar_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staged_ar_rows_batch_id_row_number"))

    op.drop_table("staged_ar_rows")
    op.drop_table("column_mappings")
