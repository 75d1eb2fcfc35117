"""Where the tests find PostgreSQL, and how they get a clean schema of their own.

PostgreSQL tests read ``XDSGW_TEST_DATABASE_URL``. Without it, or when the
server does not answer, they skip with the reason; with
``XDSGW_TEST_REQUIRE_POSTGRES=1`` (CI) they fail instead, so that a green CI
run always means both databases were tested.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

POSTGRES_ENV = "XDSGW_TEST_DATABASE_URL"
REQUIRE_ENV = "XDSGW_TEST_REQUIRE_POSTGRES"


def _unavailable(message: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{message} (and {REQUIRE_ENV}=1)")
    pytest.skip(message)


def fresh_postgres_schema(schema: str) -> str:
    """Drop and recreate ``schema`` on the test server; return the server URL (or skip)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        _unavailable(f"PostgreSQL tests need {POSTGRES_ENV}, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test")
    shown = make_url(url).render_as_string(hide_password=True)
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:  # any failure to connect means: not reachable
        _unavailable(f"PostgreSQL not reachable at {shown}: {str(exc).strip().splitlines()[0]}")
    finally:
        engine.dispose()
    return url
