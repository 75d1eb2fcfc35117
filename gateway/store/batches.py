"""IN lists in bounded batches, shared by every lookup of the store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

#: Values per IN list (SQLite allows 32766 parameters, PostgreSQL 65535).
CHUNK_SIZE = 500


def in_chunks(values: Iterable[str]) -> Iterator[list[str]]:
    """The distinct values, in first-seen order, CHUNK_SIZE at a time."""
    wanted = list(dict.fromkeys(values))
    for start in range(0, len(wanted), CHUNK_SIZE):
        yield wanted[start : start + CHUNK_SIZE]
