"""Shared fixtures: the databases every integration test runs on, and the real gateway over HTTP.

The integration tests run once per database: SQLite always, PostgreSQL when
``XDSGW_TEST_DATABASE_URL`` names a reachable server (CI sets it, and sets
``XDSGW_TEST_REQUIRE_POSTGRES=1`` so that an unreachable server fails rather
than skips).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import Profile, Settings
from gateway.store.database import Database

from .support.databases import fresh_postgres_schema
from .support.seaweed import s3_server  # noqa: F401  (one SeaweedFS server for the whole session)
from .support.server import RunningGateway, empty, start_server
from .support.soap_client import acting_for

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


@pytest.fixture(scope="session")
def gateway_server(database, tmp_path_factory):
    # The IHE engine on generic IHE metadata (tests/factories.py); the French
    # profile has its own servers (tests/integration/test_ci_sis_profile.py).
    settings = Settings(data_dir=tmp_path_factory.mktemp("var"), max_request_bytes=2 * 1024 * 1024,
                        profile=Profile.IHE)
    server = start_server(settings, database)
    yield RunningGateway(server.base_url, database, settings)
    server.stop()


@pytest.fixture
def gateway(gateway_server) -> Iterator[RunningGateway]:
    """The running gateway with an empty registry; demo VIHFs name the factories' patient by default."""
    from .factories import PATIENT

    empty(gateway_server.db)
    with acting_for(PATIENT):
        yield gateway_server


@pytest.fixture(scope="session")
def ci_sis_gateway_server(database, tmp_path_factory):
    """The gateway as it runs by default: the French profile (CI-SIS rules, CDA checks)."""
    from gateway.blobs import FileSystemBlobStore

    schema = SHARED_DATA / "cda" / "schema" / "CDA_extended.xsd"
    settings = Settings(data_dir=tmp_path_factory.mktemp("var"), max_request_bytes=2 * 1024 * 1024,
                        max_repository_request_bytes=32 * 1024 * 1024, profile=Profile.CI_SIS,
                        # Without the shared test data, CDA documents are checked without the schema.
                        cda_schema=str(schema) if schema.is_file() else "")
    blobs = FileSystemBlobStore(settings.documents_dir)
    server = start_server(settings, database, blobs)
    yield RunningGateway(server.base_url, database, settings, blobs)
    server.stop()


@pytest.fixture
def ci_sis_gateway(ci_sis_gateway_server) -> Iterator[RunningGateway]:
    """The French-profile gateway with an empty registry (the hand-written corpus is French metadata);
    demo VIHFs name the corpus patient by default."""
    from .ci_sis_factories import PATIENT_INS as PATIENT

    empty(ci_sis_gateway_server.db)
    with acting_for(PATIENT):
        yield ci_sis_gateway_server


def _ebrs(name: str):
    """An OASIS ebRS 3.0 schema, read from ../shared/data; the project does not ship them."""
    from lxml import etree

    path = SHARED_DATA / "ebxml" / "ebRS" / name
    if not path.exists():
        pytest.skip(f"the OASIS ebRS schemas are not at {path.parent} (they come with the shared test data)")
    return etree.XMLSchema(etree.parse(str(path)))


@pytest.fixture(scope="session")
def ebrs_schema():
    """rs.xsd: RegistryResponse."""
    return _ebrs("rs.xsd")


@pytest.fixture(scope="session")
def ebrs_query_schema():
    """query.xsd: AdhocQueryRequest and AdhocQueryResponse."""
    return _ebrs("query.xsd")
