"""Removing orphan blobs: bytes no document row points at (``xds-gateway blobs sweep``).

ITI-41 writes blobs before it commits the rows that name them, so a crash
or a lost database connection in between leaves blobs behind; nothing ever
leaves a row without its blob. The sweep lists every blob, asks the
database which are referenced, and removes the others — but only those
older than a grace period: a blob written a moment ago may belong to a
registration that has not committed yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ..blobs import BlobEntry, BlobStore
from ..store.batches import CHUNK_SIZE
from ..store.database import Database
from ..store.repository_store import RepositoryStore

log = logging.getLogger(__name__)

#: Default grace period: far longer than any upload takes to register.
DEFAULT_GRACE = timedelta(hours=1)


@dataclass
class SweepReport:
    examined: int = 0
    referenced: int = 0
    #: Orphans younger than the grace period, left alone this time.
    recent_orphans: int = 0
    removed: list[str] = field(default_factory=list)
    #: Leftovers of interrupted writes (temporary files, unfinished multipart uploads).
    incomplete_removed: int = 0


def sweep_orphan_blobs(
    db: Database, blobs: BlobStore, *, grace: timedelta = DEFAULT_GRACE, dry_run: bool = False,
    now: datetime | None = None,
) -> SweepReport:
    """Remove the blobs no repository row references, older than ``grace``; with ``dry_run`` only report them."""
    cutoff = (now or datetime.now(timezone.utc)) - grace
    report = SweepReport()
    batch: list[BlobEntry] = []

    def settle() -> None:
        with db.session(read_only=True) as session:
            referenced = RepositoryStore(session).referenced_keys(entry.key for entry in batch)
        report.examined += len(batch)
        report.referenced += len(referenced)
        for entry in batch:
            if entry.key in referenced:
                continue
            if entry.modified > cutoff:
                report.recent_orphans += 1
                continue
            if not dry_run:
                blobs.delete(entry.key)
                log.info("removed orphan blob %s (written %s)", entry.key, entry.modified.isoformat())
            report.removed.append(entry.key)
        batch.clear()

    for entry in blobs.list_blobs():
        batch.append(entry)
        if len(batch) >= CHUNK_SIZE:
            settle()
    if batch:
        settle()
    if not dry_run:
        report.incomplete_removed = blobs.remove_incomplete(cutoff)
    return report
