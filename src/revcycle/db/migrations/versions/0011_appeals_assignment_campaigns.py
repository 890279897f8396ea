"""Appeals, assignment rules, payer strategies and campaigns, official CARC/RARC lists

Revision ID: 0011
Revises: 0010

Appeals gain their amount, deadline, letter template, enclosures and outcome; denials what was
done about them; versioned tables (follow-up rules, assignment rules, appeal letter
templates, payer strategies) become append-only, as the ledger is.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from revcycle.db.protection import VERSIONED_TABLES, create_append_only_triggers, drop_append_only_triggers

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assignment_rules",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("team_name", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["users.id"], name=op.f("fk_assignment_rules_created_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_assignment_rules_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_assignment_rules_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rules")),
        sa.UniqueConstraint(
            "organization_id",
            "version",
            "position",
            name=op.f("uq_assignment_rules_organization_id_version_position"),
        ),
    )
    op.create_table(
        "appeal_letter_templates",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_appeal_letter_templates_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practices.id"], name=op.f("fk_appeal_letter_templates_practice_id_practices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_letter_templates")),
        sa.UniqueConstraint(
            "practice_id", "name", "version", name=op.f("uq_appeal_letter_templates_practice_id_name_version")
        ),
    )
    op.create_table(
        "campaigns",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("workflow", sa.String(length=20), nullable=False),
        sa.Column("payer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_by_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["users.id"], name=op.f("fk_campaigns_created_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(["payer_id"], ["payers.id"], name=op.f("fk_campaigns_payer_id_payers")),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practices.id"], name=op.f("fk_campaigns_practice_id_practices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("practice_id", "name", name=op.f("uq_campaigns_practice_id_name")),
    )
    op.create_table(
        "payer_strategies",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("practice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("workflow", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("chosen_by_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chosen_by_user_id"], ["users.id"], name=op.f("fk_payer_strategies_chosen_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payers.id"], name=op.f("fk_payer_strategies_payer_id_payers")
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"], ["practices.id"], name=op.f("fk_payer_strategies_practice_id_practices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payer_strategies")),
    )
    with op.batch_alter_table("payer_strategies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payer_strategies_practice_id_payer_id"), ["practice_id", "payer_id"], unique=False
        )

    op.create_table(
        "adjustment_codes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("release_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code_list", sa.String(length=4), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["code_set_releases.id"],
            name=op.f("fk_adjustment_codes_release_id_code_set_releases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustment_codes")),
        sa.UniqueConstraint("release_id", "code", name=op.f("uq_adjustment_codes_release_id_code")),
    )
    with op.batch_alter_table("adjustment_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adjustment_codes_code_list_code"), ["code_list", "code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_adjustment_codes_release_id"), ["release_id"], unique=False)

    op.create_table(
        "campaign_items",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("work_item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("added_on", sa.Date(), nullable=False),
        sa.Column(
            "balance_at_start_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_items_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], name=op.f("fk_campaign_items_claim_id_claims")),
        sa.ForeignKeyConstraint(
            ["work_item_id"], ["work_items.id"], name=op.f("fk_campaign_items_work_item_id_work_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_items")),
        sa.UniqueConstraint("campaign_id", "claim_id", name=op.f("uq_campaign_items_campaign_id_claim_id")),
    )
    with op.batch_alter_table("campaign_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_items_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_items_claim_id"), ["claim_id"], unique=False)

    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "appealed_cents",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=False,
                server_default=sa.text("'0'"),
            )
        )
        batch_op.add_column(sa.Column("deadline_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("template_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(
            sa.Column("enclosures", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("payer_reference", sa.String(length=60), nullable=False, server_default=sa.text("''"))
        )
        batch_op.add_column(
            sa.Column("outcome_note", sa.Text(), nullable=False, server_default=sa.text("''"))
        )
        batch_op.add_column(
            sa.Column(
                "previous_appeal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "created_by_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_appeals_template_id_appeal_letter_templates"),
            "appeal_letter_templates",
            ["template_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_appeals_created_by_user_id_users"), "users", ["created_by_user_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_appeals_previous_appeal_id_appeals"), "appeals", ["previous_appeal_id"], ["id"]
        )

    with op.batch_alter_table("denials", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("resolution", sa.String(length=20), nullable=False, server_default=sa.text("'open'"))
        )
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))

    create_append_only_triggers(op.get_bind(), VERSIONED_TABLES)


def downgrade() -> None:
    drop_append_only_triggers(op.get_bind(), VERSIONED_TABLES)
    with op.batch_alter_table("denials", schema=None) as batch_op:
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("resolution")

    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_appeals_previous_appeal_id_appeals"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_appeals_created_by_user_id_users"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_appeals_template_id_appeal_letter_templates"), type_="foreignkey"
        )
        batch_op.drop_column("created_by_user_id")
        batch_op.drop_column("previous_appeal_id")
        batch_op.drop_column("outcome_note")
        batch_op.drop_column("payer_reference")
        batch_op.drop_column("enclosures")
        batch_op.drop_column("template_id")
        batch_op.drop_column("deadline_on")
        batch_op.drop_column("appealed_cents")

    with op.batch_alter_table("campaign_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_items_claim_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_items_campaign_id"))

    op.drop_table("campaign_items")
    with op.batch_alter_table("adjustment_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adjustment_codes_release_id"))
        batch_op.drop_index(batch_op.f("ix_adjustment_codes_code_list_code"))

    op.drop_table("adjustment_codes")
    with op.batch_alter_table("payer_strategies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payer_strategies_practice_id_payer_id"))

    op.drop_table("payer_strategies")
    op.drop_table("campaigns")
    op.drop_table("appeal_letter_templates")
    op.drop_table("assignment_rules")
