"""Shared fixtures: the databases every integration test runs on, and the real gateway over HTTP.

The integration tests run once per database: SQLite always, PostgreSQL when
``XDSGW_TEST_DATABASE_URL`` names a reachable server (CI sets it, and sets
``XDSGW_TEST_REQUIRE_POSTGRES=1`` so that an unreachable server fails rather
than skips).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import waitress
from waitress.server import BaseWSGIServer

from gateway.app import create_app
from gateway.config import Settings
from gateway.store.database import Database
from gateway.store.schema import Base

from .support.databases import fresh_postgres_schema

PG_SCHEMA = "gateway_it"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory) -> Database:
    """A migrated, empty database of each kind, shared by the session and emptied per test."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path_factory.mktemp('db') / 'registry.sqlite3'}")
    else:
        db = Database(fresh_postgres_schema(PG_SCHEMA), schema=PG_SCHEMA)
    db.upgrade()
    yield db
    db.dispose()


def empty(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@dataclass
class RunningGateway:
    base_url: str
    db: Database
    settings: Settings

    @property
    def registry_url(self) -> str:
        return f"{self.base_url}/xds/registry"

    def count(self, kind: str) -> int:
        from gateway.store.registry_store import RegistryStore

        with self.db.session(read_only=True) as session:
            return RegistryStore(session).count(kind)

    def stored_total(self) -> int:
        return sum(self.count(k) for k in ("document_entries", "submission_sets", "folders", "associations"))


def start_server(settings: Settings, db: Database) -> tuple[BaseWSGIServer, threading.Thread]:
    """The same WSGI server `xds-gateway serve` runs, on a free port, in a thread."""
    server = waitress.create_server(create_app(settings, db=db), host="127.0.0.1", port=0, threads=4,
                                    max_request_body_size=settings.server_body_limit)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="session")
def gateway_server(database, tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("var"), max_request_bytes=2 * 1024 * 1024)
    server, thread = start_server(settings, database)
    yield RunningGateway(f"http://127.0.0.1:{server.effective_port}", database, settings)
    server.close()
    thread.join(timeout=5)


@pytest.fixture
def gateway(gateway_server) -> RunningGateway:
    """The running gateway with an empty registry."""
    empty(gateway_server.db)
    return gateway_server


@pytest.fixture(scope="session")
def ebrs_schema():
    """The OASIS ebRS 3.0 schema (rs.xsd), read from ../shared/data; the project does not ship it."""
    from lxml import etree

    path = SHARED_DATA / "ebxml" / "ebRS" / "rs.xsd"
    if not path.exists():
        pytest.skip(f"the OASIS ebRS schemas are not at {path.parent} (they come with the shared test data)")
    return etree.XMLSchema(etree.parse(str(path)))
