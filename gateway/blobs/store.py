"""The blob store interface and its folder-on-disk implementation.

Blobs are written as a stream of chunks, hashed (SHA-1, the XDS ``hash``,
ITI TF-3 §4.2.3.2.10) and counted (the XDS ``size``) on the way, so that a
100 MB document never has to be held whole in memory. Keys are opaque names
chosen by the caller with :func:`new_key`; nothing of the document's
metadata (patient, uniqueId) appears in a file name.

Sweeping orphans (blobs whose registration never committed) needs two more
things of every store: each blob's last-modified time, so that a blob younger
than a grace period (a registration still in progress) is never taken, and a
way to clear the leftovers of writes that were killed half way, which never
became blobs and so are not listed.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"[0-9a-f]{32}")
_INCOMING = ".incoming-"
CHUNK_SIZE = 1024 * 1024


def new_key() -> str:
    """A fresh, unguessable blob key (128 random bits, hex)."""
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """What was written: the key, the size in octets and the SHA-1 as 40 lower-case hex digits."""

    key: str
    size: int
    sha1: str


@dataclass(frozen=True, slots=True)
class BlobEntry:
    """A stored blob as listed for sweeping: its key and when it was last written (aware, UTC)."""

    key: str
    modified: datetime


class BlobStore(Protocol):
    """Where document bytes live."""

    def put(self, key: str, chunks: Iterable[bytes]) -> BlobInfo:
        """Write a new blob from ``chunks``; visible only once complete (never half-written)."""
        ...

    def read(self, key: str) -> Iterator[bytes]:
        """The blob's bytes, in chunks; ``KeyError`` when there is no such blob."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; removing a missing one is not an error."""
        ...

    def exists(self, key: str) -> bool:
        ...

    def list_blobs(self) -> Iterator[BlobEntry]:
        """Every complete blob, in no particular order (for sweeping orphans)."""
        ...

    def remove_incomplete(self, older_than: datetime) -> int:
        """Remove leftovers of interrupted writes older than ``older_than``; how many went.

        "Older" is by the store's own clock of a write: S3 knows when an upload
        started, a folder when its file was last written. Either way a write
        still running when its leftovers are removed fails cleanly rather than
        storing a partial blob, but ``older_than`` should leave more time than
        the longest upload takes.
        """
        ...

    def describe(self) -> str:
        """Where the blobs are, in words, for logs and command output."""
        ...


def is_key(name: str) -> bool:
    """Whether ``name`` has the shape of a :func:`new_key` output."""
    return _KEY.fullmatch(name) is not None


def check_key(key: str) -> str:
    """``key`` itself, or ``ValueError`` when it is not shaped like a :func:`new_key` output."""
    # Keys become file and object names: anything else could walk the tree.
    if not is_key(key):
        raise ValueError(f"not a blob key: {key!r}")
    return key


class FileSystemBlobStore:
    """Blobs as files under ``root``, fanned out by the key's first two bytes (``ab/cd/abcd…``).

    A blob is written to a temporary file in its final folder, flushed to
    disk (``fsync``), then renamed into place, and the folder itself is
    synced: after ``put`` returns, the blob survives a crash; before, no
    partial file ever carries its key. A process killed mid-write leaves its
    ``.incoming-*`` file behind; :meth:`remove_incomplete` clears those.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, key: str, chunks: Iterable[bytes]) -> BlobInfo:
        path = self._path(key)
        if path.exists():
            raise FileExistsError(f"blob {key} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha1(), 0
        fd, tmp = tempfile.mkstemp(prefix=_INCOMING, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        return BlobInfo(key, size, digest.hexdigest())

    def read(self, key: str) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError:
            raise KeyError(key) from None
        return _chunks_of(handle)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list_blobs(self) -> Iterator[BlobEntry]:
        for path in self.root.glob("??/??/*"):
            if is_key(path.name) and (modified := _mtime(path)) is not None:
                yield BlobEntry(path.name, modified)

    def remove_incomplete(self, older_than: datetime) -> int:
        removed = 0
        for path in self.root.glob(f"??/??/{_INCOMING}*"):
            # A live write touches its file with every chunk. Should a stalled one lose
            # its file here, its final rename fails: the put errors, nothing partial stays.
            modified = _mtime(path)
            if modified is not None and modified < older_than:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def describe(self) -> str:
        return f"folder {self.root}"


def _chunks_of(handle) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


def _mtime(path: Path) -> datetime | None:
    # None when the file went away since it was listed (deleted or renamed meanwhile).
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return None


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk too.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
