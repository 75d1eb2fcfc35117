"""The admin API on SQLite and PostgreSQL: the whole application (blueprint as ``create_app`` registers it)."""

from __future__ import annotations

from collections.abc import Iterator

import flask
import pytest

from gateway.app import create_app
from gateway.config import Profile, Settings
from gateway.store.database import Database

from ..support.databases import fresh_postgres_schema

PG_SCHEMA = "api_tests"


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
    return Settings(data_dir=tmp_path / "var", profile=Profile.IHE)


@pytest.fixture
def app(settings, db) -> flask.Flask:
    return create_app(settings, db=db)


@pytest.fixture
def client(app) -> flask.testing.FlaskClient:
    return app.test_client()
