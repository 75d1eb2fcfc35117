"""The admin API on SQLite and PostgreSQL: the whole application (blueprint as ``create_app`` registers it).

The application has an administrator token and trusts the session's demo
VIHF identity; ``client`` signs in as the administrator on every request
(``anonymous`` sends no credentials).
"""

from __future__ import annotations

from collections.abc import Iterator

import flask
import pytest

from gateway.app import create_app
from gateway.config import Profile, Settings
from gateway.store.database import Database

from ..support.databases import fresh_postgres_schema
from ..support.vihf import DemoIdentity

PG_SCHEMA = "api_tests"
#: The administrator token of the test application (XDSGW_ADMIN_TOKEN): at least 32 characters.
ADMIN_TOKEN = "test-admin-token-0123456789abcdefghijklmnop"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'var' / 'registry.db'}")
    else:
        database = Database(fresh_postgres_schema(PG_SCHEMA), schema=PG_SCHEMA)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "var", profile=Profile.IHE, admin_token=ADMIN_TOKEN,
                    trust_dir=str(DemoIdentity.shared().trust_dir))


@pytest.fixture
def app(settings, db) -> flask.Flask:
    return create_app(settings, db=db)


@pytest.fixture
def client(app) -> flask.testing.FlaskClient:
    """Signed in as the administrator (a request's own ``headers=`` override it)."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = ADMIN["Authorization"]
    return client


@pytest.fixture
def anonymous(app) -> flask.testing.FlaskClient:
    """No credentials unless a request gives some."""
    return app.test_client()
