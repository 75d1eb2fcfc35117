"""The blob store tests run on a folder and on a real S3 server (SeaweedFS)."""

import pytest

BUCKET = "xdsgw-blobs"


@pytest.fixture(scope="session")
def blob_bucket(s3_server) -> str:
    """One bucket for the session; each test keeps to a fresh prefix in it."""
    return s3_server.create_bucket(BUCKET)
