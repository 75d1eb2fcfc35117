"""``xds-gateway traces verify`` as an operator runs it: a real process on the gateway's SQLite database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.store.database import Database
from gateway.store.trace_store import TraceStore

from .factories import at, trace

SCRIPT = Path(sys.executable).with_name("xds-gateway")


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDSGW_")}
    env["XDSGW_DATA_DIR"] = str(tmp_path / "var")
    return env


@pytest.fixture
def traced(env, tmp_path) -> Path:
    """The gateway's database, migrated by the CLI, with three traces."""
    assert run("db", "upgrade", env=env).returncode == 0
    path = tmp_path / "var" / "registry.sqlite3"
    db = Database(f"sqlite:///{path}")
    try:
        for day in (1, 2, 3):
            with db.session() as session:
                TraceStore(session).append(trace(at=at(day)))
    finally:
        db.dispose()
    return path


def _sql(path: Path, statement: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(statement)


def test_an_intact_chain_exits_0_with_the_count(env, traced):
    result = run("traces", "verify", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "access traces intact: 3 traces, hash chain verified"


def test_an_edited_trace_is_named_and_exits_1(env, traced):
    _sql(traced, "UPDATE access_traces SET outcome = 'refused' WHERE sequence = 2")

    result = run("traces", "verify", env=env)

    assert result.returncode == 1
    assert result.stdout.splitlines() == ["trace 2: its content does not match its hash (edited)"]
    assert "tampered with: 1 problem(s) among 3 traces" in result.stderr


def test_a_deleted_trace_is_named_and_exits_1(env, traced):
    _sql(traced, "DELETE FROM access_traces WHERE sequence = 2")

    result = run("traces", "verify", env=env)

    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == "trace 3: trace 2 is missing (deleted?)"


def test_an_unmigrated_database_is_reported(env):
    result = run("traces", "verify", env=env)
    assert result.returncode == 1
    assert "run `xds-gateway db upgrade`" in result.stderr
