"""The Document Repository's table, inside the caller's transaction.

One row per provided document: its (repositoryUniqueId, uniqueId), the key
of the blob holding its bytes, and the size, hash and mimeType the
repository computed or was given. The store never commits: ITI-41 writes
these rows in the registration's own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from .batches import in_chunks
from .schema import RepositoryDocumentRow


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """What the repository knows of one document it holds."""

    repository_unique_id: str
    document_unique_id: str
    entry_uuid: str
    blob_key: str
    mime_type: str
    size: int
    hash: str


class RepositoryStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, documents: Iterable[StoredDocument]) -> None:
        now = datetime.now(timezone.utc)
        rows = [
            {
                "repository_unique_id": d.repository_unique_id,
                "document_unique_id": d.document_unique_id,
                "entry_uuid": d.entry_uuid,
                "blob_key": d.blob_key,
                "mime_type": d.mime_type,
                "size": d.size,
                "hash": d.hash,
                "stored_at": now,
            }
            for d in documents
        ]
        if rows:
            self.session.execute(insert(RepositoryDocumentRow), rows)

    def find(self, repository_unique_id: str, document_unique_ids: Iterable[str]) -> dict[str, StoredDocument]:
        """The documents of this repository among ``document_unique_ids``, by uniqueId."""
        found: dict[str, StoredDocument] = {}
        for chunk in in_chunks(document_unique_ids):
            rows = self.session.scalars(
                select(RepositoryDocumentRow).where(
                    RepositoryDocumentRow.repository_unique_id == repository_unique_id,
                    RepositoryDocumentRow.document_unique_id.in_(chunk),
                )
            )
            for row in rows:
                found[row.document_unique_id] = _stored(row)
        return found

    def referenced_keys(self, blob_keys: Iterable[str]) -> set[str]:
        """Those of ``blob_keys`` that a document row points at (the others are orphans)."""
        referenced: set[str] = set()
        for chunk in in_chunks(blob_keys):
            referenced.update(
                self.session.scalars(
                    select(RepositoryDocumentRow.blob_key).where(RepositoryDocumentRow.blob_key.in_(chunk))
                )
            )
        return referenced

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(RepositoryDocumentRow)) or 0


def _stored(row: RepositoryDocumentRow) -> StoredDocument:
    return StoredDocument(
        repository_unique_id=row.repository_unique_id,
        document_unique_id=row.document_unique_id,
        entry_uuid=row.entry_uuid,
        blob_key=row.blob_key,
        mime_type=row.mime_type,
        size=row.size,
        hash=row.hash,
    )
