"""The folder blob store: streamed writes hashed on the way, atomic, safe keys."""

import hashlib

import pytest

from gateway.blobs import FileSystemBlobStore, new_key


@pytest.fixture
def store(tmp_path):
    return FileSystemBlobStore(tmp_path / "documents")


def test_put_streams_hashes_and_counts_and_read_gives_the_same_bytes(store):
    data = bytes(range(256)) * 5000 + b"\r\n--boundary\x00"
    key = new_key()

    info = store.put(key, (data[i:i + 7000] for i in range(0, len(data), 7000)))

    assert (info.key, info.size, info.sha1) == (key, len(data), hashlib.sha1(data).hexdigest())
    assert b"".join(store.read(key)) == data
    assert store.exists(key) and list(store.keys()) == [key]


def test_a_failed_write_leaves_no_blob_and_no_temporary_file(store, tmp_path):
    key = new_key()

    def broken():
        yield b"first part"
        raise OSError("client went away")

    with pytest.raises(OSError, match="client went away"):
        store.put(key, broken())

    assert not store.exists(key)
    assert [p for p in (tmp_path / "documents").rglob("*") if p.is_file()] == []


def test_a_key_is_written_once(store):
    key = new_key()
    store.put(key, [b"one"])

    with pytest.raises(FileExistsError):
        store.put(key, [b"two"])

    assert b"".join(store.read(key)) == b"one"


@pytest.mark.parametrize("key", ["../../etc/passwd", "ABCDEF", "", "0" * 31, "0" * 32 + "/x"])
def test_only_generated_keys_are_accepted(store, key):
    with pytest.raises(ValueError, match="not a blob key"):
        store.put(key, [b"x"])


def test_delete_is_idempotent_and_a_missing_blob_is_a_key_error(store):
    key = new_key()
    store.put(key, [b"x"])

    store.delete(key)
    store.delete(key)

    assert not store.exists(key)
    with pytest.raises(KeyError):
        store.read(key)


def test_an_empty_document_is_a_blob_of_size_zero(store):
    info = store.put(new_key(), [])

    assert (info.size, info.sha1) == (0, hashlib.sha1(b"").hexdigest())
