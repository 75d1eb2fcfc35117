"""Databases for the store tests: a SQLite file, and PostgreSQL when configured.

PostgreSQL comes from ``XDSGW_TEST_DATABASE_URL``; its tests run in a
dedicated schema, dropped and recreated for each test, so that they neither
see each other's rows nor touch what others keep in ``public``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.store.database import Database

from ..support.databases import fresh_postgres_schema

PG_SCHEMA = "store_tests"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path) -> Iterator[Database]:
    """A database that no migration ran on yet."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'var' / 'registry.db'}")
    else:
        db = Database(fresh_postgres_schema(PG_SCHEMA), schema=PG_SCHEMA)
    yield db
    db.dispose()


@pytest.fixture
def db(empty_db: Database) -> Database:
    """A database migrated to the latest revision."""
    empty_db.upgrade()
    return empty_db
