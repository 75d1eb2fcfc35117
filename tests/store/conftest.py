"""Databases for the store tests: a SQLite file, and PostgreSQL when configured.

PostgreSQL comes from ``XDSGW_TEST_DATABASE_URL``; its tests run in a
dedicated schema, dropped and recreated for each test, so that they neither
see each other's rows nor touch what others keep in ``public``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from gateway.store.database import Database

PG_ENV = "XDSGW_TEST_DATABASE_URL"
PG_SCHEMA = "store_tests"


def _reset_postgres_schema(url: str) -> None:
    """Drop and recreate the test schema, or skip the test when PostgreSQL is not there."""
    shown = make_url(url).render_as_string(hide_password=True)
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {PG_SCHEMA}")
    except Exception as error:  # any failure to connect means: not reachable
        pytest.skip(f"PostgreSQL not reachable at {shown}: {str(error).strip().splitlines()[0]}")
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path) -> Iterator[Database]:
    """A database that no migration ran on yet."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'var' / 'registry.db'}")
    else:
        url = os.environ.get(PG_ENV)
        if not url:
            pytest.skip(f"PostgreSQL tests need {PG_ENV}")
        _reset_postgres_schema(url)
        db = Database(url, schema=PG_SCHEMA)
    yield db
    db.dispose()


@pytest.fixture
def db(empty_db: Database) -> Database:
    """A database migrated to the latest revision."""
    empty_db.upgrade()
    return empty_db
