"""The folder blob store, beyond the contract: what it leaves on disk, and how it ages leftovers."""

import os
from datetime import UTC, datetime, timedelta

import pytest

from gateway.blobs import FileSystemBlobStore, new_key


@pytest.fixture
def store(tmp_path):
    return FileSystemBlobStore(tmp_path / "documents")


def files_under(store):
    return sorted(p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file())


def leftover(store, age: timedelta):
    """A temporary file of an interrupted write, last touched ``age`` ago."""
    key = new_key()
    path = store.root / key[:2] / key[2:4] / f".incoming-{key[:8]}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half a document")
    then = (datetime.now(UTC) - age).timestamp()
    os.utime(path, (then, then))
    return path


def test_a_blob_is_one_file_fanned_out_by_its_key(store):
    key = new_key()

    store.put(key, [b"x"])

    assert files_under(store) == [f"{key[:2]}/{key[2:4]}/{key}"]


def test_a_failed_write_leaves_no_file_at_all(store):
    def broken():
        yield b"first part"
        raise OSError("client went away")

    with pytest.raises(OSError):
        store.put(new_key(), broken())

    assert files_under(store) == []


def test_remove_incomplete_goes_by_the_age_of_the_temporary_file(store):
    old = leftover(store, timedelta(hours=2))
    fresh = leftover(store, timedelta(seconds=0))

    removed = store.remove_incomplete(older_than=datetime.now(UTC) - timedelta(hours=1))

    assert removed == 1
    assert not old.exists() and fresh.exists()


def test_list_blobs_skips_what_is_not_a_blob_and_gives_the_file_time(store):
    key = new_key()
    store.put(key, [b"x"])
    leftover(store, timedelta(hours=2))
    (store.root / key[:2] / key[2:4] / "notes.txt").write_text("not a blob")
    path = store.root / key[:2] / key[2:4] / key
    os.utime(path, (1_700_000_000, 1_700_000_000))

    entries = list(store.list_blobs())

    assert [(e.key, e.modified) for e in entries] == [(key, datetime.fromtimestamp(1_700_000_000, UTC))]
