"""The SQL of the Registry Stored Queries (ITI-18, ITI TF-2 §3.18.4.1.2.3.7), inside the caller's transaction.

Every lookup is one statement (or one per chunk of an ``IN`` list) on the
indexed columns and child tables of ``schema``; none is issued per returned
object, and none scans the registry: the Find queries always start from the
patient (the ``patient_id``-leading indexes), the Get queries from entryUUIDs
or uniqueIds, and associations from their source or target.

Parameter semantics (ITI TF-2 §3.18.4.1.2.3.5 and .6), as in the query model
(``gateway.metadata.query``):

- the values of one parameter are ORed; the Slots of a repeated code
  parameter (``AndOr``) are ANDed, each becoming one ``EXISTS`` on the code
  table;
- a code matches on ``(code, scheme)``;
- time columns hold ``DTM.lower()``: ``…From`` keeps ``col >= lower(From)``,
  ``…To`` keeps ``col < lower(To)``, and an object without the attribute
  never matches a bound on it (``NULL`` compares false);
- author parameters are SQL ``LIKE`` patterns (``%`` and ``_``), matched
  case-sensitively on both databases (SQLite connections run with
  ``PRAGMA case_sensitive_like=ON``, see ``database``); a backslash in a value
  is an ordinary character everywhere (it is escaped, ``ESCAPE '\\'``);
- an empty list means the parameter was not given: no restriction, except
  the object types, whose absence means stable DocumentEntries only.

Objects come back decoded from ``payload``, in registration order (row id),
except the ObjectRef answers of the Find queries and :meth:`QueryStore.visibility_stubs`:
stubs built from columns, carrying what an ObjectRef and the visibility rules
(``gateway.access.decision.visible``) need and nothing else. The store never writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    bindparam,
    exists,
    literal_column,
    null,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import InstrumentedAttribute, Session

from gateway.metadata.hl7v2 import CX, XCN
from gateway.metadata.model import Association, Author, Code, DocumentEntry, Folder, SubmissionSet
from gateway.metadata.query import (
    AndOr,
    DocumentFilters,
    FindDocuments,
    FindDocumentsByReferenceId,
    FindFolders,
    FindSubmissionSets,
    ObjectIds,
    ReturnType,
    TimeRange,
)
from gateway.metadata.vocabulary import AssociationType, AvailabilityStatus, ObjectType

from .rows import plain
from .schema import (
    AssociationRow,
    DocumentEntryAuthorRow,
    DocumentEntryCodeRow,
    DocumentEntryReferenceIdRow,
    DocumentEntryRow,
    FolderCodeRow,
    FolderRow,
    SubmissionSetAuthorRow,
    SubmissionSetRow,
)
from .batches import in_chunks
from .serialize import from_dict

#: The escape character of every LIKE: PostgreSQL's default, declared so that SQLite (no default) agrees.
LIKE_ESCAPE = "\\"

HAS_MEMBER = AssociationType.HAS_MEMBER.value

_D = DocumentEntryRow
_S = SubmissionSetRow
_F = FolderRow
_A = AssociationRow

Container = TypeVar("Container", SubmissionSet, Folder)
_CONTAINER_ROWS: dict[type, Any] = {SubmissionSet: SubmissionSetRow, Folder: FolderRow}

#: The status columns hold ``AvailabilityStatus.short_name``.
_STATUSES = {status.short_name: status for status in AvailabilityStatus}
#: The ``document_entry_codes.attribute`` of confidentiality codes (``rows.document_codes``).
CONFIDENTIALITY = "confidentialityCode"
#: What a DocumentEntry stub is made of (:meth:`QueryStore._document_stubs`). Statements on the
#: tables' columns, built once where they can be: a stub costs a few rows, and building a statement
#: (coercing an IN list, computing its cache key) would cost more than running it.
_entries, _codes, _authors = _D.__table__.c, DocumentEntryCodeRow.__table__.c, DocumentEntryAuthorRow.__table__.c
_DOCUMENT_STUB_COLUMNS = (
    _entries.id, _entries.entry_uuid, _entries.unique_id, _entries.patient_id, _entries.availability_status,
    _entries.object_type, _entries.home_community_id,
)
#: The kinds of rows of the stub statements (``_stub_children``, ``_stubs_by_uuid``).
_ENTRY, _CODE, _AUTHOR = 0, 1, 2


class QueryStore:
    """Read-only lookups for the stored queries, through one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- Find queries (patient-wide, LIMITed) -----------------------------

    def find_document_entries(self, q: FindDocuments | FindDocumentsByReferenceId, limit: int) -> list[DocumentEntry]:
        """FindDocuments / FindDocumentsByReferenceId (§3.18.4.1.2.3.7.1, .14): at most ``limit`` entries.

        Also serves GetAll's DocumentEntries (a FindDocuments with the patient,
        the statuses and the :class:`DocumentFilters` only).
        """
        if q.return_type is ReturnType.OBJECT_REF:
            return self._references(DocumentEntry, _D, document_conditions(q), limit)
        return self._payloads(select(_D.payload).where(*document_conditions(q)).order_by(_D.id).limit(limit))

    def find_submission_sets(self, q: FindSubmissionSets, limit: int) -> list[SubmissionSet]:
        """FindSubmissionSets (§3.18.4.1.2.3.7.2): at most ``limit`` submission sets."""
        conditions = [_S.patient_id == _patient(q.patient_id), *_statuses(_S.availability_status, q.statuses)]
        if q.source_ids:
            conditions.append(_S.source_id.in_(_unique(q.source_ids)))
        conditions += _time_range(_S.submission_time, q.submission_time)
        if q.author_person:
            conditions.append(
                exists().where(
                    SubmissionSetAuthorRow.submission_set_id == _S.id,
                    _like_any(unindexed(SubmissionSetAuthorRow.person), [q.author_person]),
                )
            )
        if q.content_type_codes:
            conditions.append(_code_in(_S.content_type_code, _S.content_type_scheme, q.content_type_codes))
        if q.return_type is ReturnType.OBJECT_REF:
            return self._references(SubmissionSet, _S, conditions, limit)
        return self._payloads(select(_S.payload).where(*conditions).order_by(_S.id).limit(limit))

    def find_folders(self, q: FindFolders, limit: int) -> list[Folder]:
        """FindFolders (§3.18.4.1.2.3.7.3): at most ``limit`` folders."""
        conditions = [_F.patient_id == _patient(q.patient_id), *_statuses(_F.availability_status, q.statuses)]
        conditions += _time_range(_F.last_update_time, q.last_update_time)
        conditions += [
            exists().where(
                FolderCodeRow.folder_id == _F.id,
                _code_in(unindexed(FolderCodeRow.code), FolderCodeRow.scheme, group),
            )
            for group in _groups(q.codes)
        ]
        if q.return_type is ReturnType.OBJECT_REF:
            return self._references(Folder, _F, conditions, limit)
        return self._payloads(select(_F.payload).where(*conditions).order_by(_F.id).limit(limit))

    # -- objects by id ----------------------------------------------------

    def documents_by_ids(self, ids: ObjectIds, filters: DocumentFilters | None = None) -> list[DocumentEntry]:
        """DocumentEntries by entryUUID or uniqueId (every version of a uniqueId), any status.

        With ``filters``, only the entries passing them (the *AndContents queries).
        """
        extra = document_filter_conditions(filters) if filters is not None else []
        return self._by_ids(_D, ids, extra)

    def documents_by_uuids(self, uuids: Iterable[str], filters: DocumentFilters | None = None) -> list[DocumentEntry]:
        return self.documents_by_ids(ObjectIds(uuids=tuple(uuids)), filters)

    def visibility_stubs(self, uuids: Iterable[str]) -> list[DocumentEntry]:
        """DocumentEntries by entryUUID, any status, as stubs: what visibility is judged on, nothing more.

        The same stubs as an ObjectRef FindDocuments (see :meth:`_document_stubs`),
        in registration order; for ITI-43, which reads entries only to judge them.
        One statement per chunk of entryUUIDs reads the entries with their codes and authors.
        """
        stubs: dict[int, DocumentEntry] = {}
        for chunk in in_chunks(uuids):
            for kind, key, _, *values in self.session.execute(_STUBS_BY_UUID, {"uuids": chunk}):
                if kind == _ENTRY:
                    stubs[key] = _stub(*values)
                else:
                    _add_to_stub(stubs[key], kind, *values[:2])
        return [stubs[key] for key in sorted(stubs)]

    def folders_by_ids(self, ids: ObjectIds) -> list[Folder]:
        """Folders by entryUUID or uniqueId (every version of a uniqueId), any status."""
        return self._by_ids(_F, ids)

    def folders_by_uuids(self, uuids: Iterable[str]) -> list[Folder]:
        return self.folders_by_ids(ObjectIds(uuids=tuple(uuids)))

    def submission_sets_by_ids(self, ids: ObjectIds) -> list[SubmissionSet]:
        """SubmissionSets by entryUUID or uniqueId, any status."""
        return self._by_ids(_S, ids)

    def associations_by_uuids(self, uuids: Iterable[str]) -> list[Association]:
        return self._by_ids(_A, ObjectIds(uuids=tuple(uuids)))

    # -- associations -----------------------------------------------------

    def associations_touching(
        self, uuids: Iterable[str], types: Iterable[str] | None = None, *, limit: int | None = None
    ) -> list[Association]:
        """Associations with one of ``uuids`` as source or target, of ``types`` (None: any), any status.

        With ``limit``, at most that many are read and decoded: a caller that
        returns them all passes its remaining result budget plus one, so that
        an object with a million associations costs one bounded read.
        """
        ends = lambda chunk: or_(_A.source_uuid.in_(chunk), _A.target_uuid.in_(chunk))  # noqa: E731
        return self._associations(uuids, types, ends, limit=limit)

    def associations_from(self, sources: Iterable[str], types: Iterable[str] | None = None) -> list[Association]:
        """Associations whose source is one of ``sources``."""
        return self._associations(sources, types, lambda chunk: _A.source_uuid.in_(chunk))

    def associations_to(self, targets: Iterable[str], types: Iterable[str] | None = None) -> list[Association]:
        """Associations whose target is one of ``targets``."""
        return self._associations(targets, types, lambda chunk: _A.target_uuid.in_(chunk))

    def members_of(self, container_uuids: Iterable[str]) -> list[Association]:
        """The HasMember associations of these submission sets or folders (they are the sources)."""
        return self.associations_from(container_uuids, [HAS_MEMBER])

    def containers_of(
        self, member_uuids: Iterable[str], kind: type[Container]
    ) -> tuple[list[Container], list[Association]]:
        """The SubmissionSets or Folders (``kind``) holding one of these objects, and those HasMembers.

        One join per chunk: HasMember associations targeting ``member_uuids``
        whose source is an object of ``kind``.
        """
        container = _CONTAINER_ROWS[kind]
        containers: dict[int, dict[str, Any]] = {}
        associations: dict[int, dict[str, Any]] = {}
        for chunk in in_chunks(member_uuids):
            query = (
                select(_A.id, _A.payload, container.id, container.payload)
                .join(container, container.entry_uuid == _A.source_uuid)
                .where(_A.target_uuid.in_(chunk), _A.type == HAS_MEMBER)
            )
            for assoc_key, assoc, container_key, payload in self.session.execute(query):
                associations[assoc_key] = assoc
                containers[container_key] = payload
        return _decoded(containers), _decoded(associations)

    # -- helpers ----------------------------------------------------------

    def _references(self, kind: type, row: Any, conditions: Sequence[ColumnElement[bool]], limit: int) -> list[Any]:
        """Stubs built from columns: enough for an ObjectRef answer and for judging visibility.

        An ObjectRef answer needs no metadata, so the payloads are neither read
        nor decoded (about half of a typical FindDocuments' cost on SQLite).
        SubmissionSets and Folders carry their entryUUID, uniqueId, patient and
        status; DocumentEntries more, see :meth:`_document_stubs`.
        """
        if kind is DocumentEntry:
            query = select(*_DOCUMENT_STUB_COLUMNS).where(*conditions).order_by(_D.id).limit(limit)
            return self._document_stubs(self.session.execute(query).all())
        query = (
            select(row.entry_uuid, row.unique_id, row.patient_id, row.availability_status)
            .where(*conditions).order_by(row.id).limit(limit)
        )
        return [
            kind(entry_uuid=uuid, unique_id=unique_id, patient_id=_cx(patient), availability_status=_STATUSES[status])
            for uuid, unique_id, patient, status in self.session.execute(query)
        ]

    def _document_stubs(self, rows: Sequence[Any]) -> list[DocumentEntry]:
        """DocumentEntries of ``rows`` (:data:`_DOCUMENT_STUB_COLUMNS`, in the order wanted), as stubs.

        A stub carries what ``gateway.access.decision.visible`` judges (entryUUID,
        patient, status, the confidentiality codes as code and scheme, the
        authors' person as XCN, no other author attribute), what an ObjectRef
        writes (entryUUID, homeCommunityId) and what an access trace names
        (uniqueId); codes and persons in their registration order, an author
        without authorPerson left out. One statement per chunk of ids reads the
        child rows (``document_entry_codes``, ``document_entry_authors``) by
        their parent key, whatever the number of documents.
        """
        stubs: dict[int, DocumentEntry] = {key: _stub(*values) for key, *values in rows}
        for chunk in in_chunks(stubs):
            for kind, key, _, value, scheme in self.session.execute(_STUB_CHILDREN, {"ids": chunk}):
                _add_to_stub(stubs[key], kind, value, scheme)
        return list(stubs.values())

    def _payloads(self, query: Select) -> list[Any]:
        return [from_dict(payload) for payload in self.session.scalars(query)]

    def _by_ids(self, row: Any, ids: ObjectIds, extra: Sequence[ColumnElement[bool]] = ()) -> list[Any]:
        found: dict[int, dict[str, Any]] = {}
        for column, values in ((row.entry_uuid, ids.uuids), (getattr(row, "unique_id", None), ids.unique_ids)):
            if column is None or not values:
                continue
            for chunk in in_chunks(values):
                query = select(row.id, row.payload).where(column.in_(chunk), *extra)
                found.update((key, payload) for key, payload in self.session.execute(query))
        return _decoded(found)

    def _associations(
        self, uuids: Iterable[str], types: Iterable[str] | None, ends, *, limit: int | None = None
    ) -> list[Association]:
        type_values = None if types is None else _unique(plain(t) for t in types)
        if type_values == []:
            return []
        found: dict[int, dict[str, Any]] = {}
        for chunk in in_chunks(uuids):
            query = select(_A.id, _A.payload).where(ends(chunk))
            if type_values is not None:
                query = query.where(_A.type.in_(type_values))
            if limit is not None:
                query = query.order_by(_A.id).limit(limit)
            found.update((key, payload) for key, payload in self.session.execute(query))
            if limit is not None and len(found) >= limit:
                break
        return _decoded(found)


# -- conditions -------------------------------------------------------------


def document_conditions(q: FindDocuments | FindDocumentsByReferenceId) -> list[ColumnElement[bool]]:
    """The WHERE of FindDocuments on ``document_entries`` (ITI TF-2 §3.18.4.1.2.3.7.1)."""
    conditions = [_D.patient_id == _patient(q.patient_id), *_statuses(_D.availability_status, q.statuses)]
    conditions += document_filter_conditions(q)
    for codes, code_column, scheme_column in (
        (q.class_codes, _D.class_code, _D.class_scheme),
        (q.type_codes, _D.type_code, _D.type_scheme),
        (q.practice_setting_codes, _D.practice_setting_code, _D.practice_setting_scheme),
        (q.healthcare_facility_type_codes, _D.healthcare_facility_type_code, _D.healthcare_facility_type_scheme),
    ):
        if codes:
            conditions.append(_code_in(code_column, scheme_column, codes))
    conditions += _code_groups("eventCodeList", q.event_codes)
    conditions += _time_range(_D.creation_time, q.creation_time)
    conditions += _time_range(_D.service_start_time, q.service_start_time)
    conditions += _time_range(_D.service_stop_time, q.service_stop_time)
    if q.author_persons:
        conditions.append(
            exists().where(
                DocumentEntryAuthorRow.document_id == _D.id,
                _like_any(unindexed(DocumentEntryAuthorRow.person), q.author_persons),
            )
        )
    if isinstance(q, FindDocumentsByReferenceId):
        # The defining parameter of this query: no value matches no document.
        conditions.append(
            exists().where(
                DocumentEntryReferenceIdRow.document_id == _D.id,
                unindexed(DocumentEntryReferenceIdRow.reference_id).in_(_unique(q.reference_ids)),
            )
        )
    return conditions


def document_filter_conditions(f: DocumentFilters) -> list[ColumnElement[bool]]:
    """The DocumentEntry filters shared by FindDocuments, GetAll and the *AndContents queries."""
    object_types = _unique(plain(t) for t in f.object_types) or [ObjectType.STABLE_DOCUMENT_ENTRY]
    conditions = [_D.object_type.in_(object_types)]
    if f.format_codes:
        conditions.append(_code_in(_D.format_code, _D.format_scheme, f.format_codes))
    conditions += _code_groups("confidentialityCode", f.confidentiality_codes)
    return conditions


def _patient(value: str) -> str:
    """The patient column holds ``CX.key()``: id and assigning authority only."""
    return CX.parse(value).key()


def _statuses(column: InstrumentedAttribute, statuses: Iterable[AvailabilityStatus]) -> list[ColumnElement[bool]]:
    names = _unique(AvailabilityStatus(s).short_name for s in statuses)
    return [column.in_(names)] if names else []


def _code_in(code_column, scheme_column, codes: Iterable[Code]) -> ColumnElement[bool]:
    """One of the codes, compared on code and scheme: ``(code, scheme) IN (…)``.

    A row-value IN rather than a chain of ORs: SQLite refuses an expression
    deeper than 1 000 terms, which a chain of ~500 codes already is.
    """
    return tuple_(code_column, scheme_column).in_(_unique(c.key for c in codes))


def _groups(groups: AndOr) -> list[list[Code]]:
    return [group for group in groups if group]


def _code_groups(attribute: str, groups: AndOr) -> list[ColumnElement[bool]]:
    """One EXISTS on ``document_entry_codes`` per OR-group; the groups are ANDed."""
    c = DocumentEntryCodeRow
    return [
        exists().where(c.document_id == _D.id, unindexed(c.attribute) == attribute, _code_in(c.code, c.scheme, group))
        for group in _groups(groups)
    ]


def _time_range(column: InstrumentedAttribute, bounds: TimeRange) -> list[ColumnElement[bool]]:
    """``From`` inclusive, ``To`` exclusive, on 14-digit ``DTM.lower()`` strings."""
    conditions = []
    if bounds.start is not None:
        conditions.append(column >= bounds.start.lower())
    if bounds.end is not None:
        conditions.append(column < bounds.end.lower())
    return conditions


def _like_any(column: InstrumentedAttribute, patterns: Iterable[str]) -> ColumnElement[bool]:
    """Any of the IHE patterns (``%``, ``_``); a backslash stays an ordinary character."""
    likes = [
        column.like(pattern.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2), escape=LIKE_ESCAPE)
        for pattern in _unique(patterns)
    ]
    return or_(*likes) if likes else true()


class unindexed(FunctionElement):  # noqa: N801 (an SQL construct, named like one)
    """A string column that SQLite must not look up by its own index (``+column``); the column elsewhere.

    In the correlated ``EXISTS`` on a child table, SQLite without statistics
    prefers the index with the most equality terms (``attribute, code,
    scheme``, or ``person`` for a prefix LIKE) over ``document_id``: that reads,
    for each candidate document, every row of the registry carrying that code.
    SQLite's documented way to disqualify a term from index use is the no-op
    unary ``+``; the child row is then found through its parent key, a few
    rows per candidate. PostgreSQL plans with statistics and gets the plain column.
    """

    name = "unindexed"
    type = String()
    inherit_cache = True


@compiles(unindexed)
def _unindexed(element: unindexed, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler, **kw) -> str:
    return "+" + compiler.process(element.clauses, **kw)


def _stub_children() -> CompoundSelect:
    """The confidentiality codes and the authorPersons of the documents ``ids``, in one statement, by row id.

    Rows ``(kind, document_id, row id, code or person, scheme or NULL)``; each
    branch reaches its rows by the parent key (``unindexed``: on SQLite the
    attribute's index would read every confidentiality code of the registry).
    """
    ids = bindparam("ids", expanding=True)
    both = union_all(
        select(literal_column(str(_CODE)).label("kind"), _codes.document_id, _codes.id, _codes.code, _codes.scheme)
        .where(_codes.document_id.in_(ids), unindexed(_codes.attribute) == CONFIDENTIALITY),
        select(literal_column(str(_AUTHOR)), _authors.document_id, _authors.id, _authors.person, null())
        .where(_authors.document_id.in_(ids)),
    )
    return both.order_by(both.selected_columns.id)


def _stubs_by_uuid() -> CompoundSelect:
    """The documents ``uuids`` (:data:`_DOCUMENT_STUB_COLUMNS`), their confidentiality codes and authorPersons,
    in one statement: ITI-43 judges a few documents per request, and a second round trip would cost more than
    the payloads it saves decoding.

    Rows ``(kind, document_id, row id, *values)``: the entries first, then the
    child rows as in :func:`_stub_children` (padded with NULLs), each kind by row id.
    """
    entry_table, code_table = _D.__table__, DocumentEntryCodeRow.__table__
    author_table = DocumentEntryAuthorRow.__table__
    named = _entries.entry_uuid.in_(bindparam("uuids", expanding=True))
    pad = [null()] * (len(_DOCUMENT_STUB_COLUMNS) - 3)
    every = union_all(
        select(literal_column(str(_ENTRY)).label("kind"), _entries.id.label("document_id"), _entries.id.label("row_id"),
               *_DOCUMENT_STUB_COLUMNS[1:]).where(named),
        select(literal_column(str(_CODE)), _codes.document_id, _codes.id, _codes.code, _codes.scheme, *pad)
        .select_from(code_table.join(entry_table, _entries.id == _codes.document_id))
        .where(named, unindexed(_codes.attribute) == CONFIDENTIALITY),
        select(literal_column(str(_AUTHOR)), _authors.document_id, _authors.id, _authors.person, null(), *pad)
        .select_from(author_table.join(entry_table, _entries.id == _authors.document_id))
        .where(named),
    )
    return every.order_by(every.selected_columns.kind, every.selected_columns.row_id)


_STUB_CHILDREN = _stub_children()
_STUBS_BY_UUID = _stubs_by_uuid()


def _stub(uuid: str, unique_id: str | None, patient: str | None, status: str, object_type: str,
          home: str | None) -> DocumentEntry:
    """A DocumentEntry stub of the :data:`_DOCUMENT_STUB_COLUMNS` after the row id, codes and authors to come."""
    return DocumentEntry(
        entry_uuid=uuid, unique_id=unique_id, patient_id=_cx(patient), availability_status=_STATUSES[status],
        object_type=object_type, home_community_id=home,
    )


def _add_to_stub(stub: DocumentEntry, kind: int, value: str, scheme: str | None) -> None:
    """A child row of a stub: a confidentiality code (code, scheme) or an authorPerson (XCN, formatted)."""
    if kind == _CODE:
        stub.confidentiality_codes.append(Code(value, scheme or ""))
    else:
        stub.authors.append(Author(person=XCN.parse(value)))


# -- plumbing -----------------------------------------------------------------

T = TypeVar("T")


def _unique(values: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(values))


def _cx(value: str | None) -> CX | None:
    return CX.parse(value) if value is not None else None




def _decoded(payloads: dict[int, dict[str, Any]]) -> list[Any]:
    """Objects in row-id order (registration order)."""
    return [from_dict(payloads[key]) for key in sorted(payloads)]


__all__ = ["QueryStore", "document_conditions", "document_filter_conditions"]
