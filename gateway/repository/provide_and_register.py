"""Provide and Register Document Set-b (ITI-41): the Document Repository's side (ITI TF-2 §3.41.4.1.3).

The repository pairs each DocumentEntry with its Document, computes the
hash and size of every document (checking them against those the submitter
gave), sets its own repositoryUniqueId, validates the metadata, writes the
bytes to the blob store, and registers the submission with the registry
(the same service as ITI-42) in a transaction that also records where each
document's bytes are.

Atomicity, in the order things happen:

1. Blobs are written first, each under a fresh random key; a write that
   fails removes what was written before it.
2. The registration's transaction then stores the metadata *and* the
   repository rows that point at the blobs. It commits whole or not at all.
3. If it reports a failure, the database is asked (in a new transaction)
   whether the rows exist: a lost COMMIT acknowledgement may hide a commit.
   Blobs are removed only when the rows are known absent.

A crash after 1 and before the end of 2 leaves blobs nothing points at;
``xds-gateway blobs sweep`` removes them. Metadata pointing at a missing
blob cannot happen: no row names a blob before the blob is complete.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.orm import Session

from ..access.control import Access, Transaction
from ..access.model import Actor
from ..audit.model import ITI_41
from ..blobs import BlobStore, new_key
from ..metadata import DocumentEntry, Submission, XdsObject
from ..metadata.repository import Buffer, Document, DocumentReference, ProvideAndRegisterDocumentSet
from ..registry import DocumentRegistry
from ..registry.register import RegisterOutcome, deposited_ids, submission_patient
from ..registry.visibility import VisibleRegistry
from ..store.registry_store import RegistryStore
from ..store.repository_store import RepositoryStore, StoredDocument
from ..validation import validate_metadata_only
from .retrieve import DocumentRetrieval, RetrieveOutcome
from ..validation.attributes import label, location
from ..validation.findings import ErrorCode, Finding, error, has_errors, warning

log = logging.getLogger(__name__)

#: Chunks handed to the blob store: slices of the request buffer, not copies.
WRITE_CHUNK = 1024 * 1024


class _Settled(Enum):
    COMMITTED = "committed"
    ROLLED_BACK = "rolled back"
    UNKNOWN = "unknown"


@dataclass
class _Paired:
    entry: DocumentEntry
    data: Buffer
    size: int
    sha1: str
    blob_key: str | None = None


#: Registered objects by entryUUID, as the depositor may see them (the others are not found).
RegisteredObjects = Callable[[Iterable[str]], Mapping[str, XdsObject]]
#: A profile's check of one document against its own metadata (the CI-SIS compares a CDA
#: header with its DocumentEntry, and a replacement's parent with the document it replaces):
#: (entry, bytes, submission, registered objects) → findings.
DocumentCheck = Callable[[DocumentEntry, Buffer, Submission, RegisteredObjects], list[Finding]]


class DocumentRepository:
    """The Document Repository actor: ITI-41 here, ITI-43 through :class:`DocumentRetrieval`."""

    def __init__(
        self, registry: DocumentRegistry, blobs: BlobStore, *, repository_unique_id: str,
        document_check: DocumentCheck | None = None,
    ) -> None:
        self.registry = registry
        self.blobs = blobs
        self.repository_unique_id = repository_unique_id
        self.document_check = document_check
        self._retrieval = DocumentRetrieval(
            registry.db, blobs, repository_unique_id=repository_unique_id, recorder=registry.recorder,
        )

    def retrieve(
        self, references: list[DocumentReference], *, actor: Actor | None = None, findings: list[Finding] | None = None,
    ) -> RetrieveOutcome:
        """ITI-43: see :class:`DocumentRetrieval`."""
        return self._retrieval.retrieve(references, actor=actor, findings=findings)

    def provide_and_register(
        self, request: ProvideAndRegisterDocumentSet, *, actor: Actor | None = None,
        findings: list[Finding] | None = None,
    ) -> RegisterOutcome:
        """Store the documents and register their metadata, or store nothing; every finding is returned.

        ``actor``: the caller, whose right to feed the patient's dossier is
        checked before any document is looked at (and again, authoritatively,
        in the registration's transaction), and whose deposit is traced
        ``ITI-41``; None for an in-process caller (neither checked nor traced).
        """
        earlier = list(findings or [])
        submission = request.submission
        access = None
        if actor is not None:
            access = self._access(actor, submission)
            if not access.allowed:
                refusal = error(access.decision.code or ErrorCode.REGISTRY_ERROR,
                                f"access refused: {access.decision.reason}")
                return self._failed(actor, submission, earlier + [refusal], refused=True)
        return self._provide_and_register(request, actor, access, earlier)

    def _access(self, actor: Actor, submission: Submission) -> Access:
        """The access decision on this deposit, asked before any document is looked at (read-only: it
        opens no dossier; the registration decides again, authoritatively, in its transaction)."""
        with self.registry.db.session(read_only=True) as session:
            return self.registry.access.check(
                session, actor, Transaction.DEPOSIT, submission_patient(submission), open_missing=False,
            )

    def _registered(self, actor: Actor | None, access: Access | None) -> RegisteredObjects:
        """Registered objects as the depositor sees them, for the document check."""

        def registered(uuids: Iterable[str]) -> Mapping[str, XdsObject]:
            with self.registry.db.session(read_only=True) as session:
                store = RegistryStore(session)
                view = VisibleRegistry(store, actor, access) if actor is not None and access is not None else store
                return view.get_by_uuids(uuids)

        return registered

    def _failed(
        self, actor: Actor | None, submission: Submission, findings: list[Finding], *, refused: bool = False
    ) -> RegisterOutcome:
        """A submission refused before registration: traced, nothing stored."""
        if actor is not None:
            self.registry.trace_failure(actor, ITI_41, submission_patient(submission), findings,
                                        object_ids=deposited_ids(submission), refused=refused)
        return RegisterOutcome(findings)

    def _provide_and_register(
        self, request: ProvideAndRegisterDocumentSet, actor: Actor | None, access: Access | None,
        earlier: list[Finding],
    ) -> RegisterOutcome:
        submission = request.submission
        paired, found = pair_documents(submission.documents, request.documents)
        found += [f for p in paired for f in self._complete_entry(p)]
        if self.document_check is not None:
            registered = self._registered(actor, access)
            found += [f for p in paired for f in self.document_check(p.entry, p.data, submission, registered)]
        # hash, size and repositoryUniqueId are the repository's to set (done
        # above for every entry that has its Document); not required of the source.
        metadata = validate_metadata_only(
            submission, code=ErrorCode.REPOSITORY_METADATA_ERROR, require_repository_attributes=False,
            profile=self.registry.profile,
        )
        if has_errors(found + metadata):
            return self._failed(actor, submission, earlier + found + metadata)
        # The registry's validation reports the same warnings again, under its own code: keep one copy.
        found = earlier + found

        try:
            self._write_blobs(paired)
        except Exception:
            log.exception("ITI-41: writing documents to %s failed", self.blobs.describe())
            return self._failed(actor, submission, found + [error(
                ErrorCode.REPOSITORY_ERROR,
                "the repository could not store the documents; nothing was stored, the submission may be retried",
            )])

        def record(session: Session) -> None:
            RepositoryStore(session).add(
                StoredDocument(
                    repository_unique_id=self.repository_unique_id,
                    document_unique_id=p.entry.unique_id or "",
                    entry_uuid=p.entry.entry_uuid,
                    blob_key=p.blob_key or "",
                    mime_type=p.entry.mime_type or "",
                    size=p.size,
                    hash=p.sha1,
                )
                for p in paired
            )

        try:
            outcome = self.registry.register(
                submission, actor=actor, transaction=ITI_41, findings=found, alongside=record,
            )
        except BaseException:
            self._settle(paired)
            raise
        if not has_errors(outcome.findings):
            return outcome
        if self._settle(paired) is _Settled.COMMITTED:
            # The commit reached the database but its acknowledgement was lost
            # (the connection dropped): the submission is stored, whole.
            log.warning("ITI-41: the registration reported %s but its rows are committed: answering Success",
                        [f.code for f in outcome.findings if f.is_error])
            return RegisterOutcome([f for f in outcome.findings if not f.is_error], outcome.ids)
        return outcome

    def _complete_entry(self, paired: _Paired) -> list[Finding]:
        """Check the submitter's hash and size against the document, then set what the repository owns.

        ITI TF-2 §3.41.4.1.3: the repository computes hash and size and adds
        them with its repositoryUniqueId. Values given by the submitter must
        agree with the document; a repositoryUniqueId naming another
        repository is replaced (with a warning): this repository is the one
        that holds the document now.
        """
        entry, findings = paired.entry, []
        where = location(entry)
        if entry.hash is not None and entry.hash.strip().lower() != paired.sha1:
            findings.append(error(
                ErrorCode.NON_IDENTICAL_HASH,
                f"{label(entry)}: hash '{entry.hash}' does not match the document provided "
                f"(its SHA-1 is {paired.sha1})",
                where,
            ))
        else:
            entry.hash = paired.sha1
        if entry.size is not None and _as_int(entry.size) != paired.size:
            findings.append(error(
                ErrorCode.NON_IDENTICAL_SIZE,
                f"{label(entry)}: size '{entry.size}' does not match the document provided "
                f"({paired.size} octets)",
                where,
            ))
        else:
            entry.size = str(paired.size)
        if entry.repository_unique_id not in (None, self.repository_unique_id):
            findings.append(warning(
                ErrorCode.REPOSITORY_METADATA_ERROR,
                f"{label(entry)}: repositoryUniqueId '{entry.repository_unique_id}' replaced by "
                f"'{self.repository_unique_id}', the repository that stores the document",
                where,
            ))
        entry.repository_unique_id = self.repository_unique_id
        return findings

    def _write_blobs(self, paired: list[_Paired]) -> None:
        try:
            for p in paired:
                p.blob_key = new_key()
                info = self.blobs.put(p.blob_key, _chunks(p.data))
                if (info.size, info.sha1) != (p.size, p.sha1):
                    # The store did not keep what it was given: never register that.
                    raise OSError(
                        f"blob {p.blob_key} was stored as {info.size} octets with SHA-1 {info.sha1}, "
                        f"expected {p.size} and {p.sha1}"
                    )
        except BaseException:
            self._remove_blobs(paired)
            raise

    def _settle(self, paired: list[_Paired]) -> _Settled:
        """After a registration that did not report success: remove its blobs, unless they are in use.

        A failure does not prove the transaction rolled back: a connection
        lost during COMMIT leaves the outcome unknown to us, though the
        database may have committed. So the database is asked, in a new
        transaction, whether the rows naming these blobs exist. Blobs are
        removed only when it says no; when it cannot be asked, they are left
        for ``xds-gateway blobs sweep``, which removes them only if they are
        still unreferenced.
        """
        keys = [p.blob_key for p in paired if p.blob_key is not None]
        if not keys:
            return _Settled.ROLLED_BACK
        try:
            with self.registry.db.session(read_only=True) as session:
                referenced = RepositoryStore(session).referenced_keys(keys)
        except Exception:
            log.exception("ITI-41: cannot tell whether blobs %s were registered; left for the sweep", keys)
            return _Settled.UNKNOWN
        if referenced:
            return _Settled.COMMITTED
        self._remove_blobs(paired)
        return _Settled.ROLLED_BACK

    def _remove_blobs(self, paired: list[_Paired]) -> None:
        for p in paired:
            if p.blob_key is None:
                continue
            try:
                self.blobs.delete(p.blob_key)
            except Exception:
                # Left for `xds-gateway blobs sweep`: no metadata points at it.
                log.exception("ITI-41: could not remove blob %s of a failed submission", p.blob_key)
            p.blob_key = None


def pair_documents(
    entries: list[DocumentEntry], documents: list[Document]
) -> tuple[list[_Paired], list[Finding]]:
    """Match each DocumentEntry with exactly one Document by id (ITI TF-2 §3.41.4.1.3).

    XDSMissingDocument for an entry without a Document, XDSMissingDocumentMetadata
    for a Document without an entry; a Document given twice for one entry is
    an XDSRepositoryMetadataError (which of the two is the document?). Hash
    and size are computed here for each pair, without copying the bytes.
    """
    findings: list[Finding] = []
    by_id: dict[str, Document] = {}
    for document in documents:
        if document.entry_id in by_id:
            findings.append(error(
                ErrorCode.REPOSITORY_METADATA_ERROR,
                f"two Document elements have the id '{document.entry_id}'; "
                "each DocumentEntry has exactly one Document",
                document.entry_id,
            ))
        else:
            by_id[document.entry_id] = document
    entry_ids = {e.entry_uuid for e in entries}
    for document in by_id.values():
        if document.entry_id not in entry_ids:
            findings.append(error(
                ErrorCode.MISSING_DOCUMENT_METADATA,
                f"Document '{document.entry_id}' has no DocumentEntry with that id in the submission",
                document.entry_id,
            ))
    paired = []
    for entry in entries:
        document = by_id.get(entry.entry_uuid)
        if document is None:
            findings.append(error(
                ErrorCode.MISSING_DOCUMENT,
                f"{label(entry)} has no Document: Provide and Register carries the content of every "
                "DocumentEntry as an xdsb:Document with the entry's id",
                location(entry),
            ))
            continue
        view = memoryview(document.data)
        paired.append(_Paired(entry, document.data, view.nbytes, hashlib.sha1(view).hexdigest()))
    return paired, findings


def _chunks(data: Buffer) -> Iterator[memoryview]:
    view = memoryview(data).cast("B")
    for start in range(0, len(view), WRITE_CHUNK):
        yield view[start : start + WRITE_CHUNK]


def _as_int(value: str) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        return None
