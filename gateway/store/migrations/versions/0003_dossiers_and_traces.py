"""Dossiers (one per patient INS) and the hash-chained access traces (issue 6).

Types are spelled out rather than imported, as in 0001.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PAYLOAD = sa.JSON().with_variant(JSONB(), "postgresql")
SHORT = sa.String(16)
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("id", KEY, primary_key=True, autoincrement=True, nullable=False),
        sa.Column("patient_key", sa.String(), nullable=False),
        sa.Column("status", SHORT, nullable=False),
        sa.Column("allow_break_the_glass", sa.Boolean(), nullable=False),
        sa.Column("allow_emergency_centre", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dossiers"),
    )
    op.create_index("ux_dossiers_patient_key", "dossiers", ["patient_key"], unique=True)

    op.create_table(
        "dossier_professionals",
        sa.Column("id", KEY, primary_key=True, autoincrement=True, nullable=False),
        sa.Column("dossier_id", KEY, nullable=False),
        sa.Column("professional_id", sa.String(64), nullable=False),
        sa.Column("authorization", SHORT, nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("attending", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name="fk_dossier_professionals_dossier_id_dossiers", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dossier_professionals"),
    )
    op.create_index(
        "ux_dossier_professionals_dossier_professional",
        "dossier_professionals",
        ["dossier_id", "professional_id"],
        unique=True,
    )

    op.create_table(
        "access_traces",
        # Assigned by the store under the chain head's lock: no auto-increment.
        sa.Column("sequence", KEY, primary_key=True, autoincrement=False, nullable=False),
        sa.Column("recorded_at", TIME, nullable=False),
        sa.Column("transaction", sa.String(64), nullable=False),
        sa.Column("actor_id", sa.String(), nullable=False),
        sa.Column("actor_name", sa.String(), nullable=False),
        sa.Column("actor_kind", sa.String(32), nullable=False),
        sa.Column("actor_roles", PAYLOAD, nullable=False),
        sa.Column("structure_id", sa.String(), nullable=False),
        sa.Column("software_name", sa.String(), nullable=False),
        sa.Column("software_version", sa.String(), nullable=False),
        sa.Column("software_approval", sa.String(), nullable=False),
        sa.Column("access_mode", sa.String(32), nullable=False),
        sa.Column("break_the_glass", sa.Boolean(), nullable=False),
        sa.Column("patient_key", sa.String(), nullable=True),
        sa.Column("object_ids", PAYLOAD, nullable=False),
        sa.Column("outcome", SHORT, nullable=False),
        sa.Column("error_code", sa.String(), nullable=True),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name="pk_access_traces"),
    )
    op.create_index("ix_access_traces_patient_recorded", "access_traces", ["patient_key", "recorded_at"])

    op.create_table(
        "access_trace_chain",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False, nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_trace_chain"),
    )


def downgrade() -> None:
    for table in ("access_trace_chain", "access_traces", "dossier_professionals", "dossiers"):
        op.drop_table(table)
