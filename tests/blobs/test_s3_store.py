"""The S3 blob store, beyond the contract: how it talks to S3, on a real server (SeaweedFS)."""

import hashlib
import os
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from gateway.blobs import S3BlobStore, new_key

MiB = 1024 * 1024


class Recorder:
    """The client, with the names of the operations called on it written down."""

    def __init__(self, client):
        self._client = client
        self.calls = []

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if not callable(attribute) or name in ("get_paginator", "exceptions"):
            return attribute

        def call(*args, **kwargs):
            self.calls.append(name)
            return attribute(*args, **kwargs)

        return call


@pytest.fixture
def prefix():
    return f"t-{uuid.uuid4().hex[:12]}/"


@pytest.fixture
def client(s3_server):
    return Recorder(s3_server.client())


@pytest.fixture
def store(blob_bucket, prefix, client):
    return S3BlobStore(blob_bucket, prefix=prefix, client=client, part_size=5 * MiB)


def pieces(data: bytes, size: int = 64 * 1024):
    return (data[i:i + size] for i in range(0, len(data), size))


def test_a_blob_smaller_than_a_part_is_one_put_object(store, client, blob_bucket, prefix):
    key = new_key()

    store.put(key, [b"small ", b"document"])

    assert client.calls == ["head_object", "put_object"]
    body = client._client.get_object(Bucket=blob_bucket, Key=prefix + key)["Body"].read()
    assert body == b"small document"


def test_a_larger_blob_goes_up_in_parts(store, client):
    data = os.urandom(12 * MiB)

    store.put(new_key(), pieces(data))

    assert client.calls == [
        "head_object", "create_multipart_upload", "upload_part", "upload_part", "upload_part",
        "complete_multipart_upload",
    ]


def test_a_failed_multipart_upload_is_aborted(store, client):
    def broken():
        yield os.urandom(6 * MiB)
        raise OSError("client went away")

    with pytest.raises(OSError):
        store.put(new_key(), broken())

    assert client.calls[-1] == "abort_multipart_upload"


def test_built_from_an_endpoint_with_credentials_from_the_environment(s3_server, blob_bucket, monkeypatch, tmp_path):
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-the-environment")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    store = S3BlobStore(blob_bucket, prefix="documents", endpoint_url=s3_server.endpoint_url, region="us-east-1")
    key = new_key()

    info = store.put(key, [b"hello"])

    assert store.prefix == "documents/"
    assert store.client.meta.config.s3["addressing_style"] == "path"
    assert info.sha1 == hashlib.sha1(b"hello").hexdigest() and b"".join(store.read(key)) == b"hello"
    assert store.describe() == f"s3://{blob_bucket}/documents/ at {s3_server.endpoint_url}"
    store.delete(key)


def test_only_blob_shaped_objects_under_the_prefix_are_listed(store, blob_bucket, prefix, s3_server):
    raw = s3_server.client()
    key = new_key()
    store.put(key, [b"x"])
    raw.put_object(Bucket=blob_bucket, Key=prefix + "README", Body=b"not a blob")
    raw.put_object(Bucket=blob_bucket, Key=prefix + "sub/" + new_key(), Body=b"not ours")
    raw.put_object(Bucket=blob_bucket, Key="elsewhere/" + new_key(), Body=b"not ours")

    assert [e.key for e in store.list_blobs()] == [key]


def test_remove_incomplete_leaves_other_prefixes_alone(store, blob_bucket, s3_server):
    raw = s3_server.client()
    other = f"other-{uuid.uuid4().hex[:12]}/{new_key()}"
    upload = raw.create_multipart_upload(Bucket=blob_bucket, Key=other)

    try:
        assert store.remove_incomplete(older_than=datetime.now(UTC) + timedelta(minutes=1)) == 0
        pending = raw.list_multipart_uploads(Bucket=blob_bucket, Prefix=other).get("Uploads", [])
        assert [u["UploadId"] for u in pending] == [upload["UploadId"]]
    finally:
        raw.abort_multipart_upload(Bucket=blob_bucket, Key=other, UploadId=upload["UploadId"])


def test_errors_other_than_not_found_are_not_hidden(s3_server):
    store = S3BlobStore("no-such-bucket", client=s3_server.client())

    with pytest.raises(ClientError, match="NoSuchBucket"):
        store.read(new_key())
    with pytest.raises(ClientError):  # SeaweedFS says AccessDenied, AWS NoSuchBucket
        store.put(new_key(), [b"x"])


def test_parts_smaller_than_the_s3_minimum_are_refused():
    with pytest.raises(ValueError, match="part_size"):
        S3BlobStore("bucket", client=object(), part_size=1024)


def test_a_long_stream_is_never_held_whole(store):
    # 30 MiB in, 5 MiB parts: at most about one part is buffered (plus whatever
    # botocore copies while sending it), far below the 30 MiB of the stream.
    def stream():
        for _ in range(30 * 16):
            yield os.urandom(64 * 1024)

    tracemalloc.start()
    try:
        store.put(new_key(), stream())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 2 * 5 * MiB, f"peak {peak / MiB:.1f} MiB"
