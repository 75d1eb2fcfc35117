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

With a caller (issue 6), the access decision is taken on the VIHF's patient
first; a refusal answers every request with its code. A document the caller
may not see (another patient's, masked, invisible to them, deleted) is
answered exactly as a uniqueId the repository does not hold. The retrieval is
traced ``ITI-43`` with the uniqueIds delivered, before the answer starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.exc import OperationalError

from ..access.control import Access, AccessControl, Transaction
from ..access.decision import visible
from ..access.model import Actor
from ..audit.model import ITI_43, AccessTrace, Outcome
from ..audit.recorder import TraceFailed, TraceRecorder
from ..blobs import BlobStore
from ..metadata.model import DocumentEntry
from ..metadata.repository import DocumentReference, RetrievedDocument
from ..store.database import Database
from ..store.query_store import QueryStore
from ..store.repository_store import RepositoryStore, StoredDocument
from ..validation.findings import ErrorCode, Finding, error, first_error_code

log = logging.getLogger(__name__)


@dataclass
class RetrieveOutcome:
    """The documents found, in request order, and a finding for each request that found none."""

    documents: list[RetrievedDocument] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


class DocumentRetrieval:
    """ITI-43 over the repository's table and blob store."""

    def __init__(
        self, db: Database, blobs: BlobStore, *, repository_unique_id: str, recorder: TraceRecorder | None = None,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.repository_unique_id = repository_unique_id
        self.access = AccessControl()
        self.recorder = recorder if recorder is not None else TraceRecorder(db)

    def retrieve(
        self, references: list[DocumentReference], *, actor: Actor | None = None, findings: list[Finding] | None = None,
    ) -> RetrieveOutcome:
        """Answer each reference; ``actor`` as the module says (None: an in-process caller, neither checked nor
        traced); ``findings`` are the reader's, answered with the rest."""
        earlier = list(findings or [])
        ours = [r for r in references if r.repository_unique_id == self.repository_unique_id]
        stored: dict[str, StoredDocument] = {}
        access: Access | None = None
        try:
            with self.db.session(read_only=True) as session:
                if actor is not None:
                    access = self.access.check(session, actor, Transaction.RETRIEVE, None)
                if ours and (access is None or access.allowed):
                    stored = RepositoryStore(session).find(
                        self.repository_unique_id, (r.document_unique_id for r in ours)
                    )
                    if actor is not None and access is not None:
                        stored = _visible(QueryStore(session), actor, access, stored)
        except OperationalError:
            log.exception("ITI-43: the repository database failed")
            busy = RetrieveOutcome(findings=earlier + [error(
                ErrorCode.REPOSITORY_ERROR, "the repository database is busy or unreachable; the request may be retried",
            )])
            return busy if actor is None else self._traced(actor, access, busy)
        if access is not None and not access.allowed:
            refusal = error(access.decision.code or ErrorCode.REGISTRY_ERROR, f"access refused: {access.decision.reason}")
            return self._traced(actor, access, RetrieveOutcome(findings=earlier + [refusal]), refused=True)
        outcome = self._answer(references, stored)
        outcome.findings[:0] = earlier
        if actor is None:
            return outcome
        return self._traced(actor, access, outcome)

    def _traced(
        self, actor: Actor, access: Access | None, outcome: RetrieveOutcome, *, refused: bool = False
    ) -> RetrieveOutcome:
        """Trace the retrieval before it is answered; one that cannot be traced delivers nothing."""
        delivered = [d.reference.document_unique_id for d in outcome.documents]
        result = Outcome.REFUSED if refused else Outcome.SUCCESS if delivered else Outcome.FAILURE
        try:
            self.recorder.record(AccessTrace.of(
                actor, ITI_43, patient_id=access.patient_key if access else None, object_ids=delivered,
                outcome=result, error_code=None if result is Outcome.SUCCESS else first_error_code(outcome.findings),
                break_the_glass=access is not None and access.break_the_glass,
            ))
        except TraceFailed:
            return RetrieveOutcome(findings=[error(
                ErrorCode.REPOSITORY_ERROR, "the repository could not record this access; nothing is answered",
            )])
        return outcome

    def _answer(self, references: list[DocumentReference], stored: dict[str, StoredDocument]) -> RetrieveOutcome:
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


def _visible(
    store: QueryStore, actor: Actor, access: Access, stored: dict[str, StoredDocument]
) -> dict[str, StoredDocument]:
    """The stored documents whose DocumentEntry ``actor`` may see, of the patient the access was decided on.

    Judged on stubs read from columns (``QueryStore.visibility_stubs``): no payload is decoded.
    """
    entries = {e.entry_uuid: e for e in store.visibility_stubs(d.entry_uuid for d in stored.values())}

    def may_see(entry: DocumentEntry | None) -> bool:
        if entry is None:
            return False  # a repository row without its entry: nothing to decide on
        if access.patient_key is not None and (entry.patient_id is None or entry.patient_id.key() != access.patient_key):
            return False
        return visible(actor, entry, dossier=access.dossier)

    return {uid: d for uid, d in stored.items() if may_see(entries.get(d.entry_uuid))}
