"""Initial registry schema: XDS objects, their query columns, and patients.

Creates the tables of ``gateway.store.schema`` as they stand at this
revision. Types are spelled out here rather than imported so that later
changes to the ORM module cannot rewrite history.

Revision ID: 0001
Revises:
Create Date: 2024-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# BIGINT keys, but INTEGER on SQLite where only "INTEGER PRIMARY KEY" auto-increments.
KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PAYLOAD = sa.JSON().with_variant(JSONB(), "postgresql")
SHORT = sa.String(16)
TIME = sa.String(14)


def _key() -> sa.Column:
    return sa.Column("id", KEY, primary_key=True, autoincrement=True, nullable=False)


def _child(table: str, parent_column: str, parent_table: str, *columns: sa.Column) -> None:
    """A table of values of a multi-valued attribute, deleted with the object row that owns them."""
    op.create_table(
        table,
        _key(),
        sa.Column(parent_column, KEY, nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            [parent_column],
            [f"{parent_table}.id"],
            name=f"fk_{table}_{parent_column}_{parent_table}",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    )


def _string(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "document_entries",
        _key(),
        _string("entry_uuid", nullable=False),
        _string("logical_id", nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _string("unique_id"),
        _string("patient_id"),
        sa.Column("availability_status", SHORT, nullable=False),
        _string("object_type", nullable=False),
        _string("class_code"),
        _string("class_scheme"),
        _string("type_code"),
        _string("type_scheme"),
        _string("format_code"),
        _string("format_scheme"),
        _string("practice_setting_code"),
        _string("practice_setting_scheme"),
        _string("healthcare_facility_type_code"),
        _string("healthcare_facility_type_scheme"),
        sa.Column("creation_time", TIME, nullable=True),
        sa.Column("service_start_time", TIME, nullable=True),
        sa.Column("service_stop_time", TIME, nullable=True),
        _string("repository_unique_id"),
        _string("hash"),
        sa.Column("size", sa.BigInteger(), nullable=True),
        _string("home_community_id"),
        sa.Column("payload", PAYLOAD, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_document_entries"),
    )
    op.create_index("ux_document_entries_entry_uuid", "document_entries", ["entry_uuid"], unique=True)
    op.create_index("ux_document_entries_unique_id_version", "document_entries", ["unique_id", "version"], unique=True)
    op.create_index("ix_document_entries_unique_id", "document_entries", ["unique_id"])
    op.create_index("ix_document_entries_logical_id", "document_entries", ["logical_id"])
    op.create_index(
        "ix_document_entries_patient_status_creation",
        "document_entries",
        ["patient_id", "availability_status", "creation_time"],
    )
    op.create_index(
        "ix_document_entries_patient_status_start",
        "document_entries",
        ["patient_id", "availability_status", "service_start_time"],
    )
    op.create_index(
        "ix_document_entries_patient_status_stop",
        "document_entries",
        ["patient_id", "availability_status", "service_stop_time"],
    )
    op.create_index("ix_document_entries_patient_class", "document_entries", ["patient_id", "class_code"])
    op.create_index("ix_document_entries_patient_type", "document_entries", ["patient_id", "type_code"])
    op.create_index("ix_document_entries_patient_format", "document_entries", ["patient_id", "format_code"])
    op.create_index("ix_document_entries_repository", "document_entries", ["repository_unique_id"])

    _child(
        "document_entry_codes",
        "document_id",
        "document_entries",
        sa.Column("attribute", sa.String(32), nullable=False),
        _string("code", nullable=False),
        _string("scheme", nullable=False),
    )
    op.create_index(
        "ix_document_entry_codes_attribute_code_scheme", "document_entry_codes", ["attribute", "code", "scheme"]
    )
    op.create_index("ix_document_entry_codes_document_id", "document_entry_codes", ["document_id"])

    _child("document_entry_authors", "document_id", "document_entries", _string("person", nullable=False))
    op.create_index("ix_document_entry_authors_person", "document_entry_authors", ["person"])
    op.create_index("ix_document_entry_authors_document_id", "document_entry_authors", ["document_id"])

    _child(
        "document_entry_reference_ids",
        "document_id",
        "document_entries",
        _string("reference_id", nullable=False),
    )
    op.create_index(
        "ix_document_entry_reference_ids_reference_id", "document_entry_reference_ids", ["reference_id"]
    )
    op.create_index("ix_document_entry_reference_ids_document_id", "document_entry_reference_ids", ["document_id"])

    op.create_table(
        "submission_sets",
        _key(),
        _string("entry_uuid", nullable=False),
        _string("unique_id"),
        _string("patient_id"),
        sa.Column("availability_status", SHORT, nullable=False),
        _string("source_id"),
        sa.Column("submission_time", TIME, nullable=True),
        _string("content_type_code"),
        _string("content_type_scheme"),
        sa.Column("payload", PAYLOAD, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_submission_sets"),
    )
    op.create_index("ux_submission_sets_entry_uuid", "submission_sets", ["entry_uuid"], unique=True)
    op.create_index("ux_submission_sets_unique_id", "submission_sets", ["unique_id"], unique=True)
    op.create_index(
        "ix_submission_sets_patient_submission_time", "submission_sets", ["patient_id", "submission_time"]
    )
    op.create_index("ix_submission_sets_source_id", "submission_sets", ["source_id"])

    _child("submission_set_authors", "submission_set_id", "submission_sets", _string("person", nullable=False))
    op.create_index("ix_submission_set_authors_person", "submission_set_authors", ["person"])
    op.create_index(
        "ix_submission_set_authors_submission_set_id", "submission_set_authors", ["submission_set_id"]
    )

    op.create_table(
        "folders",
        _key(),
        _string("entry_uuid", nullable=False),
        _string("logical_id", nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _string("unique_id"),
        _string("patient_id"),
        sa.Column("availability_status", SHORT, nullable=False),
        sa.Column("last_update_time", TIME, nullable=True),
        sa.Column("payload", PAYLOAD, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_folders"),
    )
    op.create_index("ux_folders_entry_uuid", "folders", ["entry_uuid"], unique=True)
    op.create_index("ux_folders_unique_id_version", "folders", ["unique_id", "version"], unique=True)
    op.create_index("ix_folders_logical_id", "folders", ["logical_id"])
    op.create_index(
        "ix_folders_patient_status_last_update", "folders", ["patient_id", "availability_status", "last_update_time"]
    )

    _child(
        "folder_codes",
        "folder_id",
        "folders",
        _string("code", nullable=False),
        _string("scheme", nullable=False),
    )
    op.create_index("ix_folder_codes_code_scheme", "folder_codes", ["code", "scheme"])
    op.create_index("ix_folder_codes_folder_id", "folder_codes", ["folder_id"])

    op.create_table(
        "associations",
        _key(),
        _string("entry_uuid", nullable=False),
        _string("type", nullable=False),
        _string("source_uuid", nullable=False),
        _string("target_uuid", nullable=False),
        sa.Column("availability_status", SHORT, nullable=False),
        sa.Column("submission_set_status", SHORT, nullable=True),
        sa.Column("payload", PAYLOAD, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_associations"),
    )
    op.create_index("ux_associations_entry_uuid", "associations", ["entry_uuid"], unique=True)
    op.create_index("ix_associations_source_type", "associations", ["source_uuid", "type"])
    op.create_index("ix_associations_target_type", "associations", ["target_uuid", "type"])

    op.create_table(
        "patients",
        _key(),
        _string("patient_id", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", SHORT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
    )
    op.create_index("ux_patients_patient_id", "patients", ["patient_id"], unique=True)


def downgrade() -> None:
    # Children first; dropping a table drops its indexes.
    for table in (
        "patients",
        "associations",
        "folder_codes",
        "folders",
        "submission_set_authors",
        "submission_sets",
        "document_entry_reference_ids",
        "document_entry_authors",
        "document_entry_codes",
        "document_entries",
    ):
        op.drop_table(table)
