"""Alembic migrations: they run on both databases and build exactly the ORM tables."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from gateway.store.database import Database, alembic_config
from gateway.store.schema import Base

TABLES = {
    "document_entries",
    "document_entry_codes",
    "document_entry_authors",
    "document_entry_reference_ids",
    "submission_sets",
    "submission_set_authors",
    "folders",
    "folder_codes",
    "associations",
    "patients",
    "repository_documents",
    "dossiers",
    "dossier_professionals",
    "access_traces",
    "access_trace_chain",
}


def _tables(db: Database) -> set[str]:
    with db.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def test_upgrade_creates_the_tables_and_records_the_revision(empty_db):
    assert empty_db.is_empty()
    assert empty_db.current_revision() is None

    empty_db.upgrade()

    assert not empty_db.is_empty()
    assert empty_db.current_revision() == "0003"
    assert _tables(empty_db) == TABLES | {"alembic_version"}


def test_upgrade_twice_is_harmless(db):
    db.upgrade()
    assert db.current_revision() == "0003"


def test_orm_metadata_and_migrated_database_agree(db):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_migrated_indexes_are_the_ones_declared(db):
    declared = {index.name for table in Base.metadata.tables.values() for index in table.indexes}
    with db.engine.connect() as connection:
        inspector = inspect(connection)
        migrated = {ix["name"] for table in TABLES for ix in inspector.get_indexes(table)}
    assert migrated == declared
    assert "ux_document_entries_unique_id_version" in migrated


def test_downgrade_removes_everything(db):
    with db.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert _tables(db) <= {"alembic_version"}
    assert db.current_revision() is None


def test_postgres_tables_live_in_the_dedicated_schema(db):
    if db.url.get_backend_name() != "postgresql":
        return
    with db.engine.connect() as connection:
        assert TABLES | {"alembic_version"} <= set(inspect(connection).get_table_names(schema=db.schema))
        assert not TABLES & set(inspect(connection).get_table_names(schema="public"))


def test_comparison_would_notice_a_drift(db):
    """Guards the agreement test: a missing index must show up as a difference."""
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_folders_logical_id")
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [(d[0], d[1].name) for d in differences] == [("add_index", "ix_folders_logical_id")]
