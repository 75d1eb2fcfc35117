"""The repository tests' gateway: each database with each blob store (a folder, and S3 on SeaweedFS)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from gateway.blobs import FileSystemBlobStore, S3BlobStore
from gateway.config import Profile, Settings

from ..factories import PATIENT
from ..support.server import RunningGateway, empty, start_server
from ..support.soap_client import acting_for

#: Small on purpose: the limit test sends a request just over it.
REPOSITORY_REQUEST_LIMIT = 4 * 1024 * 1024
BUCKET = "xdsgw-integration"


@pytest.fixture(scope="session", params=["folder", "s3"])
def repository_gateway_server(request, database, tmp_path_factory):
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("var"),
        max_request_bytes=2 * 1024 * 1024,
        max_repository_request_bytes=REPOSITORY_REQUEST_LIMIT,
        profile=Profile.IHE,
    )
    if request.param == "folder":
        blobs = FileSystemBlobStore(settings.documents_dir)
    else:
        s3 = request.getfixturevalue("s3_server")
        s3.create_bucket(BUCKET)
        # A prefix per server: the SQLite and PostgreSQL runs share the bucket.
        blobs = S3BlobStore(BUCKET, prefix=f"run-{uuid.uuid4().hex[:8]}", client=s3.client())
    server = start_server(settings, database, blobs)
    yield RunningGateway(server.base_url, database, settings, blobs)
    server.stop()


@pytest.fixture
def repository_gateway(repository_gateway_server) -> Iterator[RunningGateway]:
    """The running gateway with an empty registry and repository (blobs of earlier tests may remain);
    demo VIHFs name the factories' patient by default."""
    empty(repository_gateway_server.db)
    with acting_for(PATIENT):
        yield repository_gateway_server
