"""Fault injection: the gateway process dies while storing a Provide and Register.

The real ``xds-gateway serve`` runs in a child process that ends with
``os._exit`` at a chosen point (see ``tests/support/crashing_gateway.py``):
half way through the second document's blob, or after every blob is
written and the repository rows are inserted but before the commit. After
each crash, whatever the blob store and the database hold must satisfy the
repository's invariant: **no metadata points at a missing document**. Orphan
blobs may remain; ``xds-gateway blobs sweep`` removes them, and a restarted
gateway works normally.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from gateway.blobs import FileSystemBlobStore, S3BlobStore
from gateway.metadata.repository import Document, DocumentReference
from gateway.store.database import Database
from gateway.store.registry_store import RegistryStore
from gateway.store.repository_store import RepositoryStore

from ..factories import DOC1_ID, DOC2_ID, PATIENT
from ..support.databases import POSTGRES_ENV, fresh_postgres_schema
from ..support.seaweed import CREDENTIALS
from ..support.soap_client import acting_for
from ..support.vihf import DemoIdentity
from ..test_cli import free_port
from .repository_client import provide_and_register, retrieve
from .test_repository import CDA, provided

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("xds-gateway")
REPOSITORY = "1.2.250.1.999.8.8"
# Eleven of the repository's 1 MiB writes: the crash comes after nine, once the S3
# store has sent its first 8 MiB part of a multipart upload.
LARGE = os.urandom(10 * 1024 * 1024 + 17)
BUCKET = "xdsgw-crash"
PG_SCHEMA = "gateway_crash"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    fresh_postgres_schema(PG_SCHEMA)
    # The schema rides in the URL: the child process reads only XDSGW_DATABASE_URL.
    return f"{os.environ[POSTGRES_ENV]}?options=-csearch_path%3D{PG_SCHEMA}"


@pytest.fixture(params=["folder", "s3"])
def environment(request, tmp_path, database_url) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDSGW_", "AWS_"))}
    env.update(
        XDSGW_DATA_DIR=str(tmp_path / "var"),
        XDSGW_DATABASE_URL=database_url,
        XDSGW_REPOSITORY_UNIQUE_ID=REPOSITORY,
        XDSGW_LOG_LEVEL="WARNING",
        # Generic IHE metadata (tests/factories.py): the IHE profile.
        XDSGW_PROFILE="ihe",
        # What the test clients sign their VIHFs with.
        XDSGW_TRUST_DIR=str(DemoIdentity.shared().trust_dir),
        PYTHONPATH=str(PROJECT),
    )
    if request.param == "s3":
        s3 = request.getfixturevalue("s3_server")
        s3.create_bucket(BUCKET)
        env.update(
            XDSGW_BLOB_STORE="s3",
            XDSGW_S3_BUCKET=BUCKET,
            XDSGW_S3_PREFIX=f"crash-{uuid.uuid4().hex[:8]}",
            XDSGW_S3_ENDPOINT_URL=s3.endpoint_url,
            XDSGW_S3_REGION=CREDENTIALS["region_name"],
            AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
            AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"],
        )
    return env


def blob_store(env: dict[str, str]):
    if env.get("XDSGW_BLOB_STORE") == "s3":
        import boto3
        from botocore.config import Config

        client = boto3.client("s3", endpoint_url=env["XDSGW_S3_ENDPOINT_URL"],
                              config=Config(s3={"addressing_style": "path"}), **CREDENTIALS)
        return S3BlobStore(BUCKET, prefix=env["XDSGW_S3_PREFIX"], client=client)
    return FileSystemBlobStore(Path(env["XDSGW_DATA_DIR"]) / "documents")


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        command + ["--port", str(port)], env={**env, "XDSGW_PORT": str(port)}, cwd=PROJECT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the gateway exited at start:\n{process.stdout.read()}")
        try:
            requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the gateway did not start within 60 s")


def dangling(env: dict[str, str]) -> list[str]:
    """Everything that points at a document the blob store does not have: must stay empty."""
    db = Database(env["XDSGW_DATABASE_URL"])
    blobs = blob_store(env)
    problems = []
    try:
        with db.session(read_only=True) as session:
            store = RegistryStore(session)
            entries = store.count("document_entries")
            rows = RepositoryStore(session).find(REPOSITORY, ["1.2.250.1.999.1.1", "1.2.250.1.999.1.2"])
        for row in rows.values():
            if not blobs.exists(row.blob_key):
                problems.append(f"repository row {row.document_unique_id} → missing blob {row.blob_key}")
        if entries != len(rows):
            problems.append(f"{entries} DocumentEntries but {len(rows)} repository rows")
    finally:
        db.dispose()
    return problems


@pytest.mark.parametrize("point", ["mid-blob", "before-commit"])
def test_a_crash_while_storing_leaves_no_metadata_pointing_at_a_missing_document(environment, point):
    env = environment
    port = free_port()
    assert subprocess.run([str(SCRIPT), "db", "upgrade"], env=env, capture_output=True).returncode == 0
    crashing = start([sys.executable, "-m", "tests.support.crashing_gateway", point], env, port)
    url = f"http://127.0.0.1:{port}/xds/repository"
    request = provided(documents=[Document(DOC1_ID, CDA), Document(DOC2_ID, LARGE)])

    with pytest.raises(requests.ConnectionError):
        provide_and_register(url, request)
    assert crashing.wait(timeout=30) == 137

    assert dangling(env) == []
    with Database(env["XDSGW_DATABASE_URL"]).session(read_only=True) as session:
        assert RegistryStore(session).count("document_entries") == 0
    orphans = [entry.key for entry in blob_store(env).list_blobs()]
    expected_orphans = 1 if point == "mid-blob" else 2
    assert len(orphans) == expected_orphans

    swept = subprocess.run([str(SCRIPT), "blobs", "sweep", "--older-than", "0", "--force"], env=env,
                           capture_output=True, text=True)
    assert swept.returncode == 0, swept.stderr
    assert f"removed {expected_orphans} orphans" in swept.stdout
    # The half-written blob: a temporary file, or an S3 multipart upload never completed.
    interrupted = 1 if point == "mid-blob" else 0
    assert f"{interrupted} interrupted writes removed" in swept.stdout
    assert list(blob_store(env).list_blobs()) == []

    # The restarted gateway takes the same submission and serves it.
    gateway = start([str(SCRIPT), "serve"], env, port)
    try:
        response = provide_and_register(url, provided(documents=[Document(DOC1_ID, CDA), Document(DOC2_ID, LARGE)]))
        assert (response.status, response.errors) == ("Success", [])
        with acting_for(PATIENT):
            answer = retrieve(url, [DocumentReference(REPOSITORY, "1.2.250.1.999.1.2")])
        assert answer.documents[0][2] == LARGE
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
    assert dangling(env) == []


def test_a_short_grace_period_needs_force(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDSGW_")}
    env["XDSGW_DATA_DIR"] = str(tmp_path / "var")
    assert subprocess.run([str(SCRIPT), "db", "upgrade"], env=env, capture_output=True).returncode == 0

    refused = subprocess.run([str(SCRIPT), "blobs", "sweep", "--older-than", "60"], env=env,
                             capture_output=True, text=True)

    assert refused.returncode == 2
    assert "could remove the blobs of a submission being registered" in refused.stderr
    allowed = subprocess.run([str(SCRIPT), "blobs", "sweep", "--older-than", "60", "--force"], env=env,
                             capture_output=True, text=True)
    assert allowed.returncode == 0, allowed.stderr
    assert "0 blobs, 0 referenced, removed 0 orphans" in allowed.stdout
