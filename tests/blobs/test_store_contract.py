"""What every blob store promises, checked on each of them: a folder and S3 (SeaweedFS).

The few checks that need to look behind the interface (temporary files of a
folder, pending multipart uploads of S3) go through ``pending_writes`` and
``abandon_a_write``, the only places that know the two apart.
"""

import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gateway.blobs import FileSystemBlobStore, S3BlobStore, new_key

MiB = 1024 * 1024


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path):
    if request.param == "folder":
        return FileSystemBlobStore(tmp_path / "documents")
    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("blob_bucket")
    # 5 MiB, S3's smallest part, so that a 12 MiB blob takes the multipart path.
    return S3BlobStore(bucket, prefix=f"t-{uuid.uuid4().hex[:12]}", client=server.client(), part_size=5 * MiB)


def pending_writes(store) -> int:
    """How many interrupted writes the store still holds (temporary files, multipart uploads)."""
    if isinstance(store, FileSystemBlobStore):
        return sum(1 for _ in store.root.glob("??/??/.incoming-*"))
    uploads = store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix)
    return len(uploads.get("Uploads", []))


def abandon_a_write(store) -> None:
    """Leave what a process killed in the middle of ``put`` leaves."""
    key = new_key()
    if isinstance(store, FileSystemBlobStore):
        folder = store.root / key[:2] / key[2:4]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".incoming-k1ll3d").write_bytes(b"half a document")
    else:
        name = store.prefix + key
        upload = store.client.create_multipart_upload(Bucket=store.bucket, Key=name)
        store.client.upload_part(
            Bucket=store.bucket, Key=name, UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * (5 * MiB)
        )


def pieces(data: bytes, size: int = 64 * 1024):
    return (data[i:i + size] for i in range(0, len(data), size))


def test_put_streams_hashes_and_counts_and_read_gives_the_same_bytes(store):
    data = bytes(range(256)) * 5000 + b"\r\n--boundary\x00"
    key = new_key()

    info = store.put(key, pieces(data, 7000))

    assert (info.key, info.size, info.sha1) == (key, len(data), hashlib.sha1(data).hexdigest())
    assert b"".join(store.read(key)) == data
    assert store.exists(key)


def test_an_empty_document_is_a_blob_of_size_zero(store):
    key = new_key()

    info = store.put(key, [])

    assert (info.size, info.sha1) == (0, hashlib.sha1(b"").hexdigest())
    assert store.exists(key) and b"".join(store.read(key)) == b""


def test_a_blob_larger_than_a_part_round_trips(store):
    data = os.urandom(12 * MiB)
    key = new_key()

    info = store.put(key, pieces(data))

    assert (info.size, info.sha1) == (len(data), hashlib.sha1(data).hexdigest())
    assert hashlib.sha1(b"".join(store.read(key))).hexdigest() == info.sha1


def test_a_key_is_written_once(store):
    key = new_key()
    store.put(key, [b"one"])

    with pytest.raises(FileExistsError):
        store.put(key, [b"two"])

    assert b"".join(store.read(key)) == b"one"


def test_reading_a_missing_blob_fails_at_the_call_not_later(store):
    with pytest.raises(KeyError):
        store.read(new_key())  # not iterated: the error must come from the call itself


def test_delete_is_idempotent(store):
    key = new_key()
    store.put(key, [b"x"])

    store.delete(key)
    store.delete(key)

    assert not store.exists(key)
    with pytest.raises(KeyError):
        store.read(key)


def test_list_blobs_gives_exactly_the_blobs_written_with_their_time(store):
    keys = {new_key() for _ in range(3)}
    for key in keys:
        store.put(key, [b"document " + key.encode()])
    removed = new_key()
    store.put(removed, [b"gone"])
    store.delete(removed)
    now = datetime.now(UTC)

    entries = list(store.list_blobs())

    assert {e.key for e in entries} == keys and len(entries) == len(keys)
    for entry in entries:
        assert entry.modified.utcoffset() == timedelta(0)
        assert abs(entry.modified - now) < timedelta(minutes=1)


@pytest.mark.parametrize("fail_after", [10, 6 * MiB], ids=["before-a-part", "after-a-part"])
def test_a_failed_write_leaves_nothing_behind(store, fail_after):
    key = new_key()

    def broken():
        yield from pieces(os.urandom(fail_after))
        raise OSError("client went away")

    with pytest.raises(OSError, match="client went away"):
        store.put(key, broken())

    assert not store.exists(key)
    assert list(store.list_blobs()) == []
    assert pending_writes(store) == 0


def test_remove_incomplete_takes_only_writes_older_than_asked(store):
    kept = new_key()
    store.put(kept, [b"a complete blob"])
    abandon_a_write(store)
    now = datetime.now(UTC)

    assert store.remove_incomplete(older_than=now - timedelta(hours=1)) == 0
    assert pending_writes(store) == 1

    assert store.remove_incomplete(older_than=now + timedelta(minutes=1)) == 1
    assert pending_writes(store) == 0
    assert [e.key for e in store.list_blobs()] == [kept]


@pytest.mark.parametrize("key", ["../../etc/passwd", "ABCDEF", "", "0" * 31, "0" * 32 + "/x"])
def test_only_generated_keys_are_accepted(store, key):
    for attempt in (lambda: store.put(key, [b"x"]), lambda: store.read(key), lambda: store.delete(key),
                    lambda: store.exists(key)):
        with pytest.raises(ValueError, match="not a blob key"):
            attempt()


def test_describe_says_where_the_blobs_are(store):
    where = store.describe()

    if isinstance(store, FileSystemBlobStore):
        assert where == f"folder {store.root}"
    else:
        assert where == f"s3://{store.bucket}/{store.prefix} at {store.client.meta.endpoint_url}"
