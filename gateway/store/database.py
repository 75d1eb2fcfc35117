"""The registry database: engine, Alembic migrations, transactional sessions.

A Register Document Set-b is registered whole or not at all (ITI TF-2
§3.42.4.1.3), so the registry service runs each submission in one
:meth:`Database.session`, which commits on success and rolls back on error.

SQLite (development, small sites) and PostgreSQL are supported. On SQLite the
driver's own transaction handling is switched off so that a transaction
starts at the first statement, reads included, and a writing session takes
the write lock up front (``BEGIN IMMEDIATE``): two concurrent submissions then
queue on the busy timeout instead of failing when the second one tries to
write after having read a now stale snapshot.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
#: How long a SQLite connection waits for another one's write lock.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Execution option marking a session that only reads (no write lock up front on SQLite).
_READ_ONLY = "xdsgw_read_only"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic Config for the registry migrations, built in code (there is no alembic.ini)."""
    config = Config()
    # ConfigParser interpolates '%': escape it in the path.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    if url is not None:
        config.attributes["url"] = url
    return config


class Database:
    """One registry database, addressed by a SQLAlchemy URL.

    ``schema`` (PostgreSQL only) puts every table, the Alembic version table
    included, in that schema by making it the connections' ``search_path``.
    """

    def __init__(self, url: str, schema: str | None = None, *, query_timeout_ms: int = 30_000) -> None:
        self.url = make_url(url)
        self.schema = schema
        self.query_timeout_ms = query_timeout_ms
        if self.url.get_backend_name() == "sqlite":
            if schema is not None:
                raise ValueError("a schema is only supported on PostgreSQL")
            self.engine = _sqlite_engine(url)
            # SQLite has one writer at a time. Left to itself, a waiting writer
            # sleeps and retries with growing delays, so latecomers overtake it
            # (p99 in the hundreds of ms under 4 clients, see docs/performance.md);
            # a lock in the process makes this process's writers queue instead.
            self._sqlite_writer: threading.Lock | None = threading.Lock()
        else:
            if schema is not None and not _IDENTIFIER.match(schema):
                raise ValueError(f"not a plain SQL identifier: {schema!r}")
            connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
            # pre-ping: a registry runs for months; connections die under it.
            # hide_parameters: a failing statement is logged without its values
            # (patient ids, names), which must not end up in server logs.
            self.engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, hide_parameters=True)
            self._sqlite_writer = None
        self._reader = self.engine.execution_options(**{_READ_ONLY: True})
        if self.is_postgresql:
            # A stored query answering several objects reads them in one
            # snapshot, never half before and half after a concurrent submission.
            self._reader = self._reader.execution_options(isolation_level="REPEATABLE READ")

    @property
    def is_postgresql(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    def upgrade(self) -> None:
        """Apply the migrations up to the latest revision (creating the schema if needed)."""
        with self.engine.begin() as connection:
            if self.schema and not _schema_exists(connection, self.schema):
                connection.exec_driver_sql(f'CREATE SCHEMA "{self.schema}"')
            command.upgrade(alembic_config(connection), "head")

    def current_revision(self) -> str | None:
        """The revision the database is at, None when it was never migrated."""
        with self._reader.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @staticmethod
    def head_revision() -> str | None:
        """The latest revision this code's migrations lead to."""
        return ScriptDirectory.from_config(alembic_config()).get_current_head()

    def is_empty(self) -> bool:
        """True when no migration ever ran here (there is no Alembic version table)."""
        with self._reader.connect() as connection:
            return not inspect(connection).has_table(VERSION_TABLE)

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error.

        ``read_only`` only spares SQLite the up-front write lock; use it for
        stored queries, never for a session that writes.
        """
        lock = self._sqlite_writer if not read_only else None
        with lock if lock is not None else nullcontext():
            with Session(self._reader if read_only else self.engine, expire_on_commit=False) as session:
                with session.begin():
                    if read_only and self.is_postgresql:
                        # Bounds what one query may cost the server, whatever it asks.
                        session.execute(text(f"SET LOCAL statement_timeout = {int(self.query_timeout_ms)}"))
                    yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _schema_exists(connection: Connection, schema: str) -> bool:
    # Checked first: CREATE SCHEMA IF NOT EXISTS still needs the CREATE right.
    query = text("SELECT 1 FROM pg_namespace WHERE nspname = :name")
    return connection.execute(query, {"name": schema}).first() is not None


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # SQLAlchemy, not pysqlite, decides when transactions begin (see module doc).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL: readers do not block the writer nor the writer readers.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # LIKE case-sensitive as on PostgreSQL (stored query author patterns,
        # ITI TF-2 §3.18.4.1.2.3.7); it also lets a prefix LIKE use the BINARY indexes.
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
