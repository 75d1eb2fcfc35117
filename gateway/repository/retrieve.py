"""Retrieve Document Set (ITI-43): the Document Repository's side (ITI TF-2 §3.43.4.1.3).

Each DocumentRequest is answered on its own: a document of another
repository is XDSUnknownRepositoryId, an unknown uniqueId is
XDSDocumentUniqueIdError, and the documents found are returned with them
(the answer is then PartialSuccess). Bytes are not read here: each found
document's blob is checked to exist (so that a missing blob is reported
before the answer starts) and opened only when the answer reaches it, one at
a time, so that a request naming a thousand documents holds one file or
connection open, not a thousand.

A DocumentRequest repeated in one request is answered once: otherwise a
100-byte request element could make the repository stream one large
document a thousand times.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial

from ..blobs import BlobStore
from ..metadata.repository import DocumentReference, RetrievedDocument
from ..store.database import Database
from ..store.repository_store import RepositoryStore, StoredDocument
from ..validation.findings import ErrorCode, Finding, error

log = logging.getLogger(__name__)


@dataclass
class RetrieveOutcome:
    """The documents found, in request order, and a finding for each request that found none."""

    documents: list[RetrievedDocument] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


class DocumentRetrieval:
    """ITI-43 over the repository's table and blob store."""

    def __init__(self, db: Database, blobs: BlobStore, *, repository_unique_id: str) -> None:
        self.db = db
        self.blobs = blobs
        self.repository_unique_id = repository_unique_id

    def retrieve(self, references: list[DocumentReference]) -> RetrieveOutcome:
        ours = [r for r in references if r.repository_unique_id == self.repository_unique_id]
        stored: dict[str, StoredDocument] = {}
        if ours:
            with self.db.session(read_only=True) as session:
                stored = RepositoryStore(session).find(self.repository_unique_id, (r.document_unique_id for r in ours))
        outcome = RetrieveOutcome()
        for reference in dict.fromkeys(references):
            if reference.repository_unique_id != self.repository_unique_id:
                outcome.findings.append(error(
                    ErrorCode.UNKNOWN_REPOSITORY_ID,
                    f"document '{reference.document_unique_id}': repository '{reference.repository_unique_id}' "
                    f"is not this repository ({self.repository_unique_id})",
                    reference.repository_unique_id,
                ))
                continue
            document = stored.get(reference.document_unique_id)
            if document is None:
                outcome.findings.append(error(
                    ErrorCode.DOCUMENT_UNIQUE_ID_ERROR,
                    f"no document with uniqueId '{reference.document_unique_id}' in repository "
                    f"'{self.repository_unique_id}'",
                    reference.document_unique_id,
                ))
                continue
            try:
                present = self.blobs.exists(document.blob_key)
            except Exception:
                log.exception("ITI-43: the blob store failed on blob %s of document %s",
                              document.blob_key, document.document_unique_id)
                present = False
            else:
                if not present:
                    # Should never happen (rows are written after their blob):
                    # someone removed the file or object by hand.
                    log.error("ITI-43: blob %s of document %s is missing from the blob store",
                              document.blob_key, document.document_unique_id)
            if not present:
                outcome.findings.append(error(
                    ErrorCode.REPOSITORY_ERROR,
                    f"the content of document '{reference.document_unique_id}' cannot be read; "
                    "the repository's operator has been told",
                    reference.document_unique_id,
                ))
                continue
            outcome.documents.append(RetrievedDocument(
                reference=reference,
                mime_type=document.mime_type,
                size=document.size,
                content=partial(self.blobs.read, document.blob_key),
            ))
        return outcome
