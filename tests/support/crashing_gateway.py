"""``xds-gateway serve``, made to die at a chosen point of Provide and Register: fault injection.

Run as ``python -m tests.support.crashing_gateway POINT [serve options]``
with the usual ``XDSGW_*`` environment. The process ends with ``os._exit``, as under
SIGKILL or a power cut: no ``finally`` block, no clean-up, no rollback by
the gateway; what is left on disk and in the database is what a real crash
would leave.

POINT is one of:

``mid-blob``
    the second document's blob dies after 9 of its 1 MiB chunks (the first
    document's blob is complete; the second is a half-written temporary
    file, or an S3 multipart upload with one 8 MiB part and no end);
``before-commit``
    every blob is written and the repository rows are inserted (flushed) in
    the registration's transaction, which is never committed.
"""

from __future__ import annotations

import os
import sys

from gateway import cli
from gateway.blobs import FileSystemBlobStore
from gateway.blobs.s3 import S3BlobStore
from gateway.store.repository_store import RepositoryStore


def die() -> None:
    sys.stdout.flush()
    os._exit(137)


def crash_in_second_blob() -> None:
    puts = []
    for store_class in (FileSystemBlobStore, S3BlobStore):
        original = store_class.put

        def put(self, key, chunks, _original=original):
            puts.append(key)
            if len(puts) < 2:
                return _original(self, key, chunks)

            def nine_chunks_then_die():
                for number, chunk in enumerate(chunks):
                    if number == 9:
                        die()
                    yield chunk

            return _original(self, key, nine_chunks_then_die())

        store_class.put = put


def crash_before_commit() -> None:
    original = RepositoryStore.add

    def add(self, documents):
        original(self, documents)
        self.session.flush()
        die()

    RepositoryStore.add = add


POINTS = {"mid-blob": crash_in_second_blob, "before-commit": crash_before_commit}

if __name__ == "__main__":
    POINTS[sys.argv[1]]()
    sys.exit(cli.main(["serve", *sys.argv[2:]]))
