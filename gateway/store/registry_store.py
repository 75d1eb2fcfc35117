"""Reading and writing XDS objects in the registry tables, inside the caller's transaction.

The registry service opens one session per request and does the whole
Register Document Set-b with one :class:`RegistryStore` on it, so that the
submission is stored whole or not at all (ITI TF-2 §3.42.4.1.3). The store
never commits.

Objects arrive fully resolved (``urn:uuid:`` ids, availabilityStatus set);
the store copies the stored-query filters (ITI TF-2 §3.18.4.1.2.3.7) into
indexed columns and child rows, and keeps the whole object in ``payload``.
Everything is done with set-based statements: bulk inserts and ``IN``
lookups, chunked to stay under the drivers' bind-parameter limits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.metadata.hl7v2 import DTM
from gateway.metadata.model import Association, DocumentEntry, Folder, SubmissionSet, XdsObject
from gateway.metadata.vocabulary import AvailabilityStatus

from .rows import association_row, document_codes, document_row, folder_row, persons, plain, submission_set_row
from .schema import (
    AssociationRow,
    DocumentEntryAuthorRow,
    DocumentEntryCodeRow,
    DocumentEntryReferenceIdRow,
    DocumentEntryRow,
    FolderCodeRow,
    FolderRow,
    PatientRow,
    SubmissionSetAuthorRow,
    SubmissionSetRow,
)
from .batches import in_chunks
from .serialize import from_dict


_OBJECT_ROWS = (DocumentEntryRow, SubmissionSetRow, FolderRow, AssociationRow)
_UNIQUE_ID_ROWS = (DocumentEntryRow, SubmissionSetRow, FolderRow)
_COUNTABLE = {
    "document_entries": DocumentEntryRow,
    "submission_sets": SubmissionSetRow,
    "folders": FolderRow,
    "associations": AssociationRow,
    "patients": PatientRow,
}


class RegistryStore:
    """The registry's objects and patients, seen through one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- reading -----------------------------------------------------------

    def find_by_unique_ids(self, unique_ids: Iterable[str]) -> dict[str, list[XdsObject]]:
        """Documents, submission sets and folders with these uniqueIds: any status, every version.

        Serves the XDSDuplicateUniqueIdInRegistry check (ITI TF-2 §3.42.4.1.3)
        and metadata update (ITI-57). uniqueIds not found are absent from the
        result; a document's versions come in version order.
        """
        wanted = list(dict.fromkeys(unique_ids))
        found: dict[str, list[XdsObject]] = {}
        for row in _UNIQUE_ID_ROWS:
            order = [row.unique_id, row.version] if hasattr(row, "version") else [row.unique_id]
            for chunk in in_chunks(wanted):
                query = select(row.unique_id, row.payload).where(row.unique_id.in_(chunk)).order_by(*order)
                for unique_id, payload in self.session.execute(query):
                    found.setdefault(unique_id, []).append(from_dict(payload))
        return found

    def get_by_uuids(self, uuids: Iterable[str]) -> dict[str, XdsObject]:
        """Objects of any kind by entryUUID; uuids not found are absent from the result."""
        remaining = list(dict.fromkeys(uuids))
        found: dict[str, XdsObject] = {}
        for row in _OBJECT_ROWS:
            for chunk in in_chunks(remaining):
                query = select(row.entry_uuid, row.payload).where(row.entry_uuid.in_(chunk))
                found.update((uuid, from_dict(payload)) for uuid, payload in self.session.execute(query))
            # An entryUUID names one object: stop looking once all are found.
            remaining = [u for u in remaining if u not in found]
            if not remaining:
                break
        return found

    def associations_of(
        self,
        uuids: Iterable[str],
        *,
        as_source: bool = True,
        as_target: bool = True,
        types: Iterable[str] | None = None,
    ) -> list[Association]:
        """Associations having one of ``uuids`` as source and/or target, of the given types.

        ``types`` are association type URNs (ITI TF-3 §4.2.2); None means any
        type. Any status. Results come in registration order.
        """
        wanted = list(dict.fromkeys(uuids))
        type_values = None if types is None else [plain(t) for t in types]
        if not wanted or not (as_source or as_target) or type_values == []:
            return []
        found: dict[int, dict[str, Any]] = {}
        for chunk in in_chunks(wanted):
            ends = []
            if as_source:
                ends.append(AssociationRow.source_uuid.in_(chunk))
            if as_target:
                ends.append(AssociationRow.target_uuid.in_(chunk))
            query = select(AssociationRow.id, AssociationRow.payload).where(or_(*ends))
            if type_values is not None:
                query = query.where(AssociationRow.type.in_(type_values))
            found.update((key, payload) for key, payload in self.session.execute(query))
        return [from_dict(found[key]) for key in sorted(found)]  # type: ignore[misc]

    def patient_exists(self, patient_id: str) -> bool:
        """Whether the patient was fed to the registry (else XDSUnknownPatientId)."""
        query = select(PatientRow.id).where(PatientRow.patient_id == patient_id).limit(1)
        return self.session.execute(query).first() is not None

    def count(self, kind: str) -> int:
        """Rows of one table: document_entries, submission_sets, folders, associations or patients."""
        try:
            row = _COUNTABLE[kind]
        except KeyError:
            raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(_COUNTABLE)}") from None
        return self.session.execute(select(func.count()).select_from(row)).scalar_one()

    # -- writing -----------------------------------------------------------

    def add_patient(self, patient_id: str) -> None:
        """Register a patient id (CX ``id^^^&oid&ISO``); adding a known one does nothing."""
        values = {"patient_id": patient_id, "created_at": datetime.now(timezone.utc), "status": "active"}
        dialect = self.session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            # ON CONFLICT: idempotent even when two feeds race on the same patient.
            dml = postgresql if dialect == "postgresql" else sqlite
            statement = dml.insert(PatientRow).values(values).on_conflict_do_nothing(index_elements=["patient_id"])
            self.session.execute(statement)
        elif not self.patient_exists(patient_id):
            self.session.execute(insert(PatientRow).values(values))

    def add(self, objects: Iterable[XdsObject]) -> None:
        """Insert resolved objects, with their query columns and child rows.

        A duplicate entryUUID, or a duplicate (uniqueId, version) of a document
        or folder, raises ``sqlalchemy.exc.IntegrityError``; the caller's
        transaction is then to be rolled back.
        """
        documents: list[DocumentEntry] = []
        submission_sets: list[SubmissionSet] = []
        folders: list[Folder] = []
        associations: list[Association] = []
        for obj in objects:
            match obj:
                case DocumentEntry():
                    documents.append(obj)
                case SubmissionSet():
                    submission_sets.append(obj)
                case Folder():
                    folders.append(obj)
                case Association():
                    associations.append(obj)
                case _:
                    raise TypeError(f"not an XDS object: {type(obj).__name__}")
        self._add_documents(documents)
        self._add_submission_sets(submission_sets)
        self._add_folders(folders)
        self._insert(AssociationRow, [association_row(a) for a in associations])

    def set_status(self, uuids: Iterable[str], status: AvailabilityStatus) -> None:
        """Change the availabilityStatus of objects of any kind (ITI TF-3 §4.2.2.2.2 RPLC, ITI-57)."""
        status = AvailabilityStatus(status)
        remaining = list(dict.fromkeys(uuids))
        for row in _OBJECT_ROWS:
            if not remaining:
                break
            done = self._update(
                row, remaining, {"availability_status": status.short_name}, {"availability_status": status.value}
            )
            remaining = [u for u in remaining if u not in done]

    def lock_approved(self, uuids: Iterable[str]) -> set[str]:
        """Lock the rows of these documents and folders that are Approved; return their entryUUIDs.

        A submission that deprecates a document, or relates to it or adds to a
        folder, locks it first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
        writers are serialised anyway). A concurrent submission that changed
        the status since validation read it is then seen, and an object
        missing from the answer was deprecated meanwhile.
        """
        wanted = list(dict.fromkeys(uuids))
        found: set[str] = set()
        for row in (DocumentEntryRow, FolderRow):
            for chunk in in_chunks(wanted):
                query = (
                    select(row.entry_uuid)
                    .where(row.entry_uuid.in_(chunk), row.availability_status == AvailabilityStatus.APPROVED.short_name)
                    .order_by(row.id)  # one lock order for everyone: no deadlock between two submissions
                    .with_for_update()
                )
                found.update(self.session.scalars(query))
        return found

    def set_folder_last_update_time(self, uuids: Iterable[str], when: DTM) -> None:
        """Set lastUpdateTime of folders whose content changed (ITI TF-3 §4.2.3.4)."""
        wanted = list(dict.fromkeys(uuids))
        self._update(FolderRow, wanted, {"last_update_time": when.lower()}, {"last_update_time": when.value})

    # -- helpers -----------------------------------------------------------

    def _add_documents(self, documents: list[DocumentEntry]) -> None:
        ids = self._insert(DocumentEntryRow, [document_row(d) for d in documents], returning=True)
        codes, authors, references = [], [], []
        for doc in documents:
            key = ids[doc.entry_uuid]
            codes += [
                {"document_id": key, "attribute": attribute, "code": c.code, "scheme": c.scheme}
                for attribute, c in document_codes(doc)
            ]
            authors += [{"document_id": key, "person": person} for person in persons(doc.authors)]
            references += [{"document_id": key, "reference_id": ref} for ref in doc.reference_ids]
        self._insert(DocumentEntryCodeRow, codes)
        self._insert(DocumentEntryAuthorRow, authors)
        self._insert(DocumentEntryReferenceIdRow, references)

    def _add_submission_sets(self, submission_sets: list[SubmissionSet]) -> None:
        ids = self._insert(SubmissionSetRow, [submission_set_row(s) for s in submission_sets], returning=True)
        self._insert(
            SubmissionSetAuthorRow,
            [
                {"submission_set_id": ids[ss.entry_uuid], "person": person}
                for ss in submission_sets
                for person in persons(ss.authors)
            ],
        )

    def _add_folders(self, folders: list[Folder]) -> None:
        ids = self._insert(FolderRow, [folder_row(f) for f in folders], returning=True)
        self._insert(
            FolderCodeRow,
            [{"folder_id": ids[f.entry_uuid], "code": c.code, "scheme": c.scheme} for f in folders for c in f.codes],
        )

    def _insert(self, row: type, values: list[dict[str, Any]], *, returning: bool = False) -> dict[str, int]:
        """Bulk insert; with ``returning``, the new keys by entryUUID (for the child rows)."""
        if not values:
            return {}
        if not returning:
            # A Core insert on the Table: the ORM bulk path costs more than the
            # database itself for these child rows (docs/performance.md).
            self.session.execute(insert(row.__table__), values)
            return {}
        # The ORM path batches INSERT … RETURNING on every backend (Core would
        # fall back to a statement per row on SQLite to keep the key order).
        result = self.session.execute(insert(row).returning(row.entry_uuid, row.id), values)
        return {uuid: key for uuid, key in result}

    def _update(self, row: type, uuids: list[str], columns: dict[str, Any], payload: dict[str, Any]) -> set[str]:
        """Set columns and the same attributes in the payload; returns the entryUUIDs updated.

        One read and one bulk update by primary key per chunk. The payload is
        rewritten in Python rather than with JSON functions, which differ
        between SQLite and PostgreSQL.
        """
        updated: set[str] = set()
        for chunk in in_chunks(uuids):
            query = select(row.id, row.entry_uuid, row.payload).where(row.entry_uuid.in_(chunk))
            rows = self.session.execute(query).all()
            if rows:
                self.session.execute(
                    update(row),
                    [{"id": key, **columns, "payload": {**old, **payload}} for key, _, old in rows],
                )
                updated.update(uuid for _, uuid, _ in rows)
        return updated


