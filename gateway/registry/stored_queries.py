"""Registry Stored Query (ITI-18): the Document Registry's side (ITI TF-2 §3.18.4.1.2.3.7).

The service receives a parsed stored query (``gateway.metadata.query``),
runs it in one read-only transaction with :class:`QueryStore`, and answers
the objects it matches, or findings. One small function per query says what
the framework returns for it; the SQL is in ``gateway.store.query_store``.

- Unknown ids in the Get* queries are not errors: they match nothing.
- A query matching more than ``max_results`` objects answers no object and
  an ``XDSTooManyResults`` error (ITI TF-3 Table 4.2.4.1-2); the Find queries
  ask the database for at most ``max_results + 1`` rows, never for everything.
- ``return_type`` does not change which objects are found: the codec writes
  ObjectRefs or LeafClass from them (an ObjectRef Find query reads stubs
  from columns, which also carry what visibility is judged on). But full
  metadata (LeafClass) of more than one patient is never answered:
  ``XDSResultNotSinglePatient`` instead (ITI TF-2 §3.18.4.1.3); references
  alone (ObjectRef) disclose no personal data.
- On PostgreSQL the query runs in one REPEATABLE READ snapshot with a
  statement timeout (``XDSGW_QUERY_TIMEOUT_MS``); a query that runs out of
  time gets ``XDSRegistryError``, a database that cannot be reached
  ``XDSRegistryBusy``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import OperationalError

from ..access.control import Access, AccessControl, Transaction
from ..access.model import Actor
from ..audit.model import ITI_18, AccessTrace, Outcome
from ..audit.recorder import TraceFailed, TraceRecorder
from ..metadata.model import Association, DocumentEntry, Folder, SubmissionSet, XdsObject
from ..metadata.query import (
    AnyStoredQuery,
    DocumentFilters,
    FindDocuments,
    FindDocumentsByReferenceId,
    FindFolders,
    FindSubmissionSets,
    GetAll,
    GetAssociations,
    GetDocuments,
    GetDocumentsAndAssociations,
    GetFolderAndContents,
    GetFolders,
    GetFoldersForDocument,
    GetRelatedDocuments,
    GetSubmissionSetAndContents,
    GetSubmissionSets,
    ObjectIds,
    ReturnType,
)
from ..metadata.vocabulary import AssociationType
from ..store.database import Database
from ..store.query_store import QueryStore
from ..validation.findings import ErrorCode, Finding, error, first_error_code, has_errors
from .visibility import visible_arguments, visible_objects

log = logging.getLogger(__name__)

HAS_MEMBER = AssociationType.HAS_MEMBER.value
DEFAULT_MAX_RESULTS = 10_000


@dataclass
class QueryOutcome:
    """What ITI-18 answers: the matching objects, or none and the findings."""

    objects: list[XdsObject] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


class _TooManyResults(Exception):
    pass


class _Refused(Exception):
    def __init__(self, finding: Finding) -> None:
        self.finding = finding


class _Budget:
    """Counts the objects of one answer against ``max_results``."""

    def __init__(self, max_results: int) -> None:
        self.max_results = max_results
        self.used = 0

    @property
    def limit(self) -> int:
        """The LIMIT of the next lookup: one row more than what may still be returned."""
        return self.max_results - self.used + 1

    def take(self, objects: list[Any]) -> list[Any]:
        self.used += len(objects)
        if self.used > self.max_results:
            raise _TooManyResults
        return objects


Handler = Callable[[QueryStore, Any, _Budget], list[XdsObject]]


class StoredQueryService:
    """The Document Registry actor's stored query service (ITI-18)."""

    def __init__(
        self, db: Database, *, max_results: int = DEFAULT_MAX_RESULTS, recorder: TraceRecorder | None = None,
    ) -> None:
        if max_results < 1:
            raise ValueError(f"max_results must be at least 1, not {max_results}")
        self.db = db
        self.max_results = max_results
        self.access = AccessControl()
        self.recorder = recorder if recorder is not None else TraceRecorder(db)

    def run(
        self, query: AnyStoredQuery | None, *, actor: Actor | None = None, findings: list[Finding] | None = None,
    ) -> QueryOutcome:
        """Run ``query`` for ``actor``; ``findings`` are the reader's (an error among them: nothing is run).

        With an ``actor`` (issue 6), the access decision is taken on the
        query's patient (or, for the Get* queries, the VIHF's), what the
        caller may not see is removed from the answer as if it did not exist
        (:mod:`.visibility`), and the query is traced ``ITI-18:<query>`` right
        after its read-only snapshot, before anything is answered: a query
        that cannot be traced is answered XDSRegistryError, without objects.
        None is an in-process caller (tests, tools): neither checked nor traced.
        """
        earlier = list(findings or [])
        transaction = f"{ITI_18}:{type(query).__name__}" if query is not None else ITI_18
        if query is None or has_errors(earlier):
            return self._failed(actor, transaction, None, earlier)
        handler = _HANDLERS.get(type(query))
        if handler is None:
            return self._failed(actor, transaction, None, earlier + [error(
                ErrorCode.UNKNOWN_STORED_QUERY, f"no stored query {type(query).__name__} in this registry",
            )])
        budget = _Budget(self.max_results)
        patient = getattr(query, "patient_id", None)
        access: Access | None = None
        try:
            with self.db.session(read_only=True) as session:
                store = QueryStore(session)
                if actor is None:
                    objects = handler(store, query, budget)
                else:
                    access = self.access.check(session, actor, Transaction.QUERY, patient)
                    if not access.allowed:
                        raise _Refused(error(access.decision.code or ErrorCode.REGISTRY_ERROR,
                                             f"access refused: {access.decision.reason}"))
                    # An ObjectRef Find query answers stubs read from columns: they carry what visibility
                    # is judged on (QueryStore._references), so no payload is decoded for it.
                    allowed = visible_arguments(store, actor, access, query)
                    objects = visible_objects(store, actor, access, handler(store, allowed, budget))
                    if isinstance(query, GetRelatedDocuments) and not any(isinstance(o, Association) for o in objects):
                        objects = []  # no visible relationship left: the query's own rule (§3.18.4.1.2.3.7.13)
        except _Refused as refused:
            return self._failed(actor, transaction, patient, earlier + [refused.finding], refused=True)
        except _TooManyResults:
            return self._failed(actor, transaction, patient, earlier + [error(
                ErrorCode.TOO_MANY_RESULTS, f"the query matches more than {self.max_results} objects; narrow it",
            )], access=access)
        except OperationalError as exc:
            return self._failed(actor, transaction, patient, earlier + [_database_failure(exc, self.db)],
                                access=access)
        if query.return_type is ReturnType.LEAF_CLASS:
            patients = {p.key() for o in objects if (p := getattr(o, "patient_id", None)) is not None}
            if len(patients) > 1:
                return self._failed(actor, transaction, patient, earlier + [error(
                    ErrorCode.RESULT_NOT_SINGLE_PATIENT,
                    f"the query matches objects of {len(patients)} patients; full metadata (LeafClass) is "
                    "answered for one patient at a time; ask for ObjectRef or narrow the query",
                )], access=access)
        if actor is not None:
            try:
                self.recorder.record(AccessTrace.of(
                    actor, transaction, patient_id=patient,
                    object_ids=[o.unique_id for o in objects if isinstance(o, DocumentEntry) and o.unique_id],
                    break_the_glass=access is not None and access.break_the_glass,
                ))
            except TraceFailed:
                return QueryOutcome(findings=earlier + [error(
                    ErrorCode.REGISTRY_ERROR, "the registry could not record this access; nothing is answered",
                )])
        return QueryOutcome(objects=objects, findings=earlier)

    def _failed(
        self, actor: Actor | None, transaction: str, patient: str | None, findings: list[Finding],
        *, refused: bool = False, access: Access | None = None,
    ) -> QueryOutcome:
        """A query answered with findings only, traced (``refused`` or ``failure``) when it has an actor.

        ``access``: the decision taken before the query failed, if it was
        taken and allowed; its break-the-glass flag goes in the trace.
        """
        if actor is not None:
            self.recorder.record_failure(AccessTrace.of(
                actor, transaction, patient_id=patient, outcome=Outcome.REFUSED if refused else Outcome.FAILURE,
                error_code=first_error_code(findings), break_the_glass=access is not None and access.break_the_glass,
            ))
        return QueryOutcome(findings=findings)


def _database_failure(exc: OperationalError, db: Database) -> Finding:
    """The finding for a database error: busy (retry later) or a query the database would not finish."""
    text = str(exc.orig or exc).lower()
    if "statement timeout" in text or "canceling statement" in text:
        log.warning("ITI-18: a stored query ran out of its %d ms", db.query_timeout_ms)
        return error(ErrorCode.REGISTRY_ERROR,
                     f"the query took longer than {db.query_timeout_ms} ms and was stopped; narrow it")
    if "locked" in text or "connect" in text or "connection" in text or "timeout" in text:
        log.warning("ITI-18: the registry database is busy or unreachable: %s", text.splitlines()[0])
        return error(ErrorCode.REGISTRY_BUSY, "the registry database is busy or unreachable; the query may be retried")
    log.error("ITI-18: the database refused a stored query: %s", text.splitlines()[0])
    return error(ErrorCode.REGISTRY_ERROR, "the registry could not run this query")


# -- one function per query (ITI TF-2 §3.18.4.1.2.3.7.x) ---------------------


def find_documents(store: QueryStore, q: FindDocuments | FindDocumentsByReferenceId, budget: _Budget):
    """FindDocuments (.1) and FindDocumentsByReferenceId (.14): the matching DocumentEntries."""
    return budget.take(store.find_document_entries(q, budget.limit))


def find_submission_sets(store: QueryStore, q: FindSubmissionSets, budget: _Budget):
    """FindSubmissionSets (.2): the matching SubmissionSets."""
    return budget.take(store.find_submission_sets(q, budget.limit))


def find_folders(store: QueryStore, q: FindFolders, budget: _Budget):
    """FindFolders (.3): the matching Folders."""
    return budget.take(store.find_folders(q, budget.limit))


def get_all(store: QueryStore, q: GetAll, budget: _Budget):
    """GetAll (.4): the patient's DocumentEntries, SubmissionSets and Folders, and the Associations touching them."""
    documents = budget.take(store.find_document_entries(
        FindDocuments(
            patient_id=q.patient_id,
            statuses=q.document_statuses,
            format_codes=q.format_codes,
            confidentiality_codes=q.confidentiality_codes,
            object_types=q.object_types,
        ),
        budget.limit,
    ))
    sets = budget.take(store.find_submission_sets(
        FindSubmissionSets(patient_id=q.patient_id, statuses=q.submission_set_statuses), budget.limit
    ))
    folders = budget.take(store.find_folders(FindFolders(patient_id=q.patient_id, statuses=q.folder_statuses), budget.limit))
    # Every association with a returned object at either end, as the NIST
    # toolkit answers GetAll: a replacement's RPLC shows even when the
    # replaced (Deprecated) document was not asked for.
    associations = budget.take(store.associations_touching(_uuids(sets, documents, folders), limit=budget.limit))
    return [*sets, *documents, *folders, *associations]


def get_documents(store: QueryStore, q: GetDocuments, budget: _Budget):
    """GetDocuments (.5): the DocumentEntries, any status (every version of a uniqueId)."""
    return budget.take(store.documents_by_ids(q.documents))


def get_folders(store: QueryStore, q: GetFolders, budget: _Budget):
    """GetFolders (.6): the Folders, any status (every version of a uniqueId)."""
    return budget.take(store.folders_by_ids(q.folders))


def get_associations(store: QueryStore, q: GetAssociations, budget: _Budget):
    """GetAssociations (.7): the Associations with one of the objects as source or target."""
    return budget.take(store.associations_touching(q.uuids, limit=budget.limit))


def get_documents_and_associations(store: QueryStore, q: GetDocumentsAndAssociations, budget: _Budget):
    """GetDocumentsAndAssociations (.8): the DocumentEntries and the Associations touching them."""
    documents = budget.take(store.documents_by_ids(q.documents))
    return [*documents, *budget.take(store.associations_touching(_uuids(documents), limit=budget.limit))]


def get_submission_sets(store: QueryStore, q: GetSubmissionSets, budget: _Budget):
    """GetSubmissionSets (.9): the SubmissionSets holding one of the objects, and those HasMembers."""
    sets, associations = store.containers_of(q.uuids, SubmissionSet)
    return [*budget.take(sets), *budget.take(associations)]


def get_submission_set_and_contents(store: QueryStore, q: GetSubmissionSetAndContents, budget: _Budget):
    """GetSubmissionSetAndContents (.10): the SubmissionSet, its members, and the HasMembers linking them.

    DocumentEntries pass the DocumentFilters; an association pointing at a
    document they filtered out is not returned: neither the SubmissionSet's
    HasMember to it nor a member Folder→Document HasMember (nor the
    SubmissionSet's HasMember to that association).
    """
    sets = budget.take(store.submission_sets_by_ids(q.submission_set))
    if not sets:
        return []
    members = store.members_of(_uuids(sets))
    targets = {m.target for m in members}
    folders = store.folders_by_uuids(targets)
    member_associations = store.associations_by_uuids(targets)
    # One lookup for both: the documents that are members, and those that
    # member associations (Folder→Document) point at.
    passing = store.documents_by_uuids([*targets, *(a.target for a in member_associations)], filters=q)
    passing_ids = _uuids(passing)
    documents = [d for d in passing if d.entry_uuid in targets]
    kept_associations = [a for a in member_associations if a.target in passing_ids]
    returned = _uuids(documents, folders, kept_associations)
    links = [m for m in members if m.target in returned]
    return [*sets, *budget.take(documents), *budget.take(folders), *budget.take(_each_once(links, kept_associations))]


def get_folder_and_contents(store: QueryStore, q: GetFolderAndContents, budget: _Budget):
    """GetFolderAndContents (.11): the Folder, its DocumentEntries (DocumentFilters applied) and their HasMembers."""
    folders = budget.take(store.folders_by_ids(q.folder))
    if not folders:
        return []
    members = store.members_of(_uuids(folders))
    documents = budget.take(store.documents_by_uuids((m.target for m in members), filters=q))
    returned = _uuids(documents)
    return [*folders, *documents, *budget.take([m for m in members if m.target in returned])]


def get_folders_for_document(store: QueryStore, q: GetFoldersForDocument, budget: _Budget):
    """GetFoldersForDocument (.12): the Folders holding the document (every version of a uniqueId)."""
    uuids = list(q.document.uuids)
    if q.document.unique_ids:
        uuids += _uuids(store.documents_by_ids(ObjectIds(unique_ids=q.document.unique_ids)))
    folders, _ = store.containers_of(uuids, Folder)
    return budget.take(folders)


def get_related_documents(store: QueryStore, q: GetRelatedDocuments, budget: _Budget):
    """GetRelatedDocuments (.13): the document, its relationships of the given types, the documents at their other ends.

    The related DocumentEntries are restricted to ``object_types``; an
    association whose other end is not a returned DocumentEntry is not
    returned. Without any such association, the answer is empty.
    """
    documents = store.documents_by_ids(q.document)
    if not documents:
        return []
    own = _uuids(documents)
    associations = store.associations_touching(own, q.association_types or None)
    others = {_other_end(a, own) for a in associations} - own
    related = store.documents_by_uuids(others, filters=DocumentFilters(object_types=q.object_types))
    reachable = own | _uuids(related)
    associations = [a for a in associations if _other_end(a, own) in reachable]
    if not associations:
        return []
    return [*budget.take(documents), *budget.take(related), *budget.take(associations)]


_HANDLERS: dict[type, Handler] = {
    FindDocuments: find_documents,
    FindDocumentsByReferenceId: find_documents,
    FindSubmissionSets: find_submission_sets,
    FindFolders: find_folders,
    GetAll: get_all,
    GetDocuments: get_documents,
    GetFolders: get_folders,
    GetAssociations: get_associations,
    GetDocumentsAndAssociations: get_documents_and_associations,
    GetSubmissionSets: get_submission_sets,
    GetSubmissionSetAndContents: get_submission_set_and_contents,
    GetFolderAndContents: get_folder_and_contents,
    GetFoldersForDocument: get_folders_for_document,
    GetRelatedDocuments: get_related_documents,
}


# -- helpers ------------------------------------------------------------------


def _uuids(*groups: Iterable[XdsObject]) -> set[str]:
    return {obj.entry_uuid for group in groups for obj in group}


def _other_end(association: Association, own: set[str]) -> str:
    return association.target if association.source in own else association.source


def _each_once(*groups: list[Association]) -> list[Association]:
    """Associations of several lookups, each once, first seen first."""
    seen: dict[str, Association] = {}
    for group in groups:
        for association in group:
            seen.setdefault(association.entry_uuid, association)
    return list(seen.values())


__all__ = ["DEFAULT_MAX_RESULTS", "QueryOutcome", "StoredQueryService"]
