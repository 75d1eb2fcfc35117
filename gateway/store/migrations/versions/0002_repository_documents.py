"""The Document Repository's table: which blob holds each provided document.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "repository_documents",
        sa.Column("id", KEY, primary_key=True, autoincrement=True, nullable=False),
        sa.Column("repository_unique_id", sa.String(64), nullable=False),
        sa.Column("document_unique_id", sa.String(), nullable=False),
        sa.Column("entry_uuid", sa.String(), nullable=False),
        sa.Column("blob_key", sa.String(32), nullable=False),
        sa.Column("mime_type", sa.String(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(40), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_repository_documents"),
    )
    op.create_index(
        "ux_repository_documents_repository_document",
        "repository_documents",
        ["repository_unique_id", "document_unique_id"],
        unique=True,
    )
    op.create_index("ux_repository_documents_blob_key", "repository_documents", ["blob_key"], unique=True)


def downgrade() -> None:
    op.drop_table("repository_documents")
