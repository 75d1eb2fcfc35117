"""The repository service tests run on the store tests' databases: SQLite, and PostgreSQL when configured."""

from ..store.conftest import db, empty_db  # noqa: F401 (fixtures)
