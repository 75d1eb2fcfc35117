"""StoredQueryService on SQLite and PostgreSQL: what each ITI-18 stored query returns (ITI TF-2 §3.18.4.1.2.3.7).

The registry holds two submissions for patient P and one for patient Q, as
ITI-42 would have stored them:

- SS1: documents A and B, folder F1; HasMembers SS1>A, SS1>B, SS1>F1, F1>A, SS1>(F1>A);
- SS2: C replaces A (A is Deprecated), D is on-demand, E is an addendum of B
  (confidentiality R, the others N); B is added to F1: SS2>C, SS2>D, SS2>E,
  F1>B, SS2>(F1>B), and the relationships C-rplc-A, E-apnd-B;
- SS3 (patient Q): document Q, SS3>Q.

Every test asserts the exact set of objects returned, by these names.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from gateway.metadata.model import Code
from gateway.metadata.query import (
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
    StoredQuery,
)
from gateway.metadata.vocabulary import AssociationType, AvailabilityStatus, ObjectType, SubmissionSetStatus
from gateway.registry.stored_queries import QueryOutcome, StoredQueryService
from gateway.store.query_store import QueryStore
from gateway.store.registry_store import RegistryStore
from gateway.validation.findings import ErrorCode

from ..store import factories

P = factories.PATIENT
Q = "999^^^&1.2.250.1.213.1.4.8&ISO"
APPROVED = AvailabilityStatus.APPROVED
DEPRECATED = AvailabilityStatus.DEPRECATED
STABLE = ObjectType.STABLE_DOCUMENT_ENTRY
ON_DEMAND = ObjectType.ON_DEMAND_DOCUMENT_ENTRY
HAS_MEMBER = AssociationType.HAS_MEMBER
RPLC = AssociationType.REPLACE
APND = AssociationType.APPEND
N, R = Code("N", "2.16.840.1.113883.5.25"), Code("R", "2.16.840.1.113883.5.25")
PDF, CDA = Code("PDF", "1.3.6.1.4.1.19376.1.2.3"), Code("CDA", "1.3.6.1.4.1.19376.1.2.3")
REF1 = "ORDER-1^^^&1.2.250.1.999.5&ISO^urn:ihe:iti:xds:2013:order"

UUIDS: dict[str, str] = {}
NAMES: dict[str, str] = {}


def u(name: str) -> str:
    """The entryUUID of a named object of the registry."""
    if name not in UUIDS:
        UUIDS[name] = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'registry/' + name)}"
        NAMES[UUIDS[name]] = name
    return UUIDS[name]


def uid(name: str) -> str:
    """The uniqueId of a named object."""
    return f"1.2.250.1.999.77.{int(uuid.UUID(u(name)[9:])) % 10**12}"


def _doc(name: str, patient: str = P, **overrides):
    values = dict(entry_uuid=u(name), logical_id=u(name), unique_id=uid(name), object_type=STABLE,
                  confidentiality_codes=[N], format_code=PDF, reference_ids=[])
    return factories.document(patient, **(values | overrides))


def _ss(name: str, patient: str = P):
    return factories.submission_set(patient, entry_uuid=u(name), logical_id=u(name), unique_id=uid(name))


def _folder(name: str):
    return factories.folder(P, entry_uuid=u(name), logical_id=u(name), unique_id=uid(name))


def _link(name: str, source: str, target: str, type_=HAS_MEMBER, original: bool = False):
    status = SubmissionSetStatus.ORIGINAL if original else None
    return factories.association(u(source), u(target), type_.value, entry_uuid=u(name), logical_id=u(name),
                                 submission_set_status=status)


def registry_content() -> list:
    return [
        _ss("SS1"),
        _doc("A", availability_status=DEPRECATED),
        _doc("B", format_code=CDA),
        _folder("F1"),
        _link("SS1>A", "SS1", "A", original=True),
        _link("SS1>B", "SS1", "B", original=True),
        _link("SS1>F1", "SS1", "F1"),
        _link("F1>A", "F1", "A"),
        _link("SS1>(F1>A)", "SS1", "F1>A"),
        _ss("SS2"),
        _doc("C", reference_ids=[REF1]),
        _doc("D", object_type=ON_DEMAND),
        _doc("E", confidentiality_codes=[R]),
        _link("SS2>C", "SS2", "C", original=True),
        _link("SS2>D", "SS2", "D", original=True),
        _link("SS2>E", "SS2", "E", original=True),
        _link("F1>B", "F1", "B"),
        _link("SS2>(F1>B)", "SS2", "F1>B"),
        _link("C-rplc-A", "C", "A", RPLC),
        _link("E-apnd-B", "E", "B", APND),
        _ss("SS3", Q),
        _doc("Q", Q),
        _link("SS3>Q", "SS3", "Q", original=True),
    ]


P_OBJECTS = {"SS1", "A", "B", "F1", "SS1>A", "SS1>B", "SS1>F1", "F1>A", "SS1>(F1>A)", "SS2", "C", "D", "E",
             "SS2>C", "SS2>D", "SS2>E", "F1>B", "SS2>(F1>B)", "C-rplc-A", "E-apnd-B"}


@pytest.fixture
def registry(db) -> StoredQueryService:
    with db.session() as session:
        RegistryStore(session).add(registry_content())
    return StoredQueryService(db)


def names(outcome: QueryOutcome) -> set[str]:
    assert outcome.findings == []
    found = [NAMES[o.entry_uuid] for o in outcome.objects]
    assert len(found) == len(set(found)), f"an object came twice: {found}"
    return set(found)


def ids(*object_names: str) -> ObjectIds:
    return ObjectIds(uuids=tuple(u(n) for n in object_names))


def unique_ids(*object_names: str) -> ObjectIds:
    return ObjectIds(unique_ids=tuple(uid(n) for n in object_names))


# -- Find queries ---------------------------------------------------------------


def test_find_documents(registry):
    assert names(registry.run(FindDocuments(patient_id=P, statuses=[APPROVED]))) == {"B", "C", "E"}
    assert names(registry.run(FindDocuments(
        patient_id=P, statuses=[APPROVED, DEPRECATED], object_types=[STABLE, ON_DEMAND],
    ))) == {"A", "B", "C", "D", "E"}
    assert names(registry.run(FindDocuments(patient_id=P, statuses=[APPROVED], confidentiality_codes=[[R]]))) == {"E"}
    assert names(registry.run(FindDocuments(patient_id=Q, statuses=[APPROVED]))) == {"Q"}
    assert names(registry.run(FindDocuments(patient_id="404^^^&1.2.3&ISO", statuses=[APPROVED]))) == set()


def test_find_documents_by_reference_id(registry):
    query = FindDocumentsByReferenceId(patient_id=P, statuses=[APPROVED], reference_ids=[REF1, "X^^^&1.2&ISO"])
    assert names(registry.run(query)) == {"C"}


def test_find_submission_sets(registry):
    assert names(registry.run(FindSubmissionSets(patient_id=P, statuses=[APPROVED]))) == {"SS1", "SS2"}


def test_find_folders(registry):
    assert names(registry.run(FindFolders(patient_id=P, statuses=[APPROVED]))) == {"F1"}
    assert names(registry.run(FindFolders(patient_id=P, statuses=[DEPRECATED]))) == set()


# -- GetAll ---------------------------------------------------------------------


def get_all(patient: str = P, documents=(APPROVED,), **filters) -> GetAll:
    return GetAll(patient_id=patient, document_statuses=list(documents), submission_set_statuses=[APPROVED],
                  folder_statuses=[APPROVED], **filters)


P_ASSOCIATIONS = {n for n in P_OBJECTS if ">" in n or "-" in n}


def test_get_all_approved(registry):
    # A is deprecated and D on-demand, so not returned; but every association with a
    # returned object at either end is, as the NIST toolkit answers (C-rplc-A, SS2>D…).
    assert names(registry.run(get_all())) == {"SS1", "SS2", "B", "C", "E", "F1"} | P_ASSOCIATIONS


def test_get_all_every_status_and_type(registry):
    query = get_all(documents=(APPROVED, DEPRECATED), object_types=[STABLE, ON_DEMAND])
    assert names(registry.run(query)) == P_OBJECTS


def test_get_all_with_document_filters(registry):
    # The filters select documents; the SubmissionSets and the Folder come whole, with their
    # associations; C-rplc-A touches neither C nor A, which the filters left out.
    touching = P_ASSOCIATIONS - {"C-rplc-A"}
    assert names(registry.run(get_all(confidentiality_codes=[[R]]))) == {"SS1", "SS2", "E", "F1"} | touching
    assert names(registry.run(get_all(format_codes=[CDA]))) == {"SS1", "SS2", "B", "F1"} | touching


def test_get_all_other_patient(registry):
    assert names(registry.run(get_all(Q))) == {"SS3", "Q", "SS3>Q"}
    assert names(registry.run(get_all("404^^^&1.2.3&ISO"))) == set()


def test_get_all_objects_come_in_kind_order(registry):
    outcome = registry.run(get_all(Q))
    assert [type(o).__name__ for o in outcome.objects] == ["SubmissionSet", "DocumentEntry", "Association"]


# -- Get* by id -----------------------------------------------------------------


def test_get_documents(registry):
    unknown = "urn:uuid:00000000-0000-4000-8000-000000000404"
    assert names(registry.run(GetDocuments(documents=ObjectIds(uuids=(u("A"), u("D"), unknown))))) == {"A", "D"}
    # Two patients: references only (full metadata of several patients is refused, see below).
    assert names(registry.run(GetDocuments(documents=unique_ids("A", "Q"), return_type=ReturnType.OBJECT_REF))) == {
        "A", "Q"}
    assert names(registry.run(GetDocuments(documents=ObjectIds(uuids=(unknown,))))) == set()
    assert names(registry.run(GetDocuments(documents=ObjectIds(unique_ids=("1.2.3.404",))))) == set()
    # Only DocumentEntries: a folder's id finds nothing.
    assert names(registry.run(GetDocuments(documents=ObjectIds(uuids=(u("F1"),))))) == set()


def test_get_folders(registry):
    assert names(registry.run(GetFolders(folders=ObjectIds(uuids=(u("F1"), u("A")))))) == {"F1"}
    assert names(registry.run(GetFolders(folders=unique_ids("F1")))) == {"F1"}


def test_get_associations(registry):
    assert names(registry.run(GetAssociations(uuids=[u("B")]))) == {"SS1>B", "F1>B", "E-apnd-B"}
    assert names(registry.run(GetAssociations(uuids=[u("F1>B")]))) == {"SS2>(F1>B)"}
    assert names(registry.run(GetAssociations(uuids=[u("A"), u("SS3")]))) == {
        "SS1>A", "F1>A", "C-rplc-A", "SS3>Q",
    }
    assert names(registry.run(GetAssociations(uuids=["urn:uuid:00000000-0000-4000-8000-000000000404"]))) == set()


@pytest.mark.parametrize("limit, expected", [(3, {"SS1>B", "F1>B", "E-apnd-B"}), (2, None)])
def test_get_associations_reads_no_more_than_the_limit_allows(registry, limit, expected):
    bounded = StoredQueryService(registry.db, max_results=limit)

    outcome = bounded.run(GetAssociations(uuids=[u("B")]))

    if expected is None:
        assert [f.code for f in outcome.findings] == [ErrorCode.TOO_MANY_RESULTS]
        assert outcome.objects == []
    else:
        assert names(outcome) == expected


def test_get_documents_and_associations(registry):
    query = GetDocumentsAndAssociations(documents=ObjectIds(uuids=(u("B"), u("E"))))
    assert names(registry.run(query)) == {"B", "E", "SS1>B", "F1>B", "E-apnd-B", "SS2>E"}
    assert names(registry.run(GetDocumentsAndAssociations(documents=unique_ids("Q")))) == {"Q", "SS3>Q"}


def test_get_submission_sets(registry):
    assert names(registry.run(GetSubmissionSets(uuids=[u("B"), u("C")]))) == {"SS1", "SS2", "SS1>B", "SS2>C"}
    assert names(registry.run(GetSubmissionSets(uuids=[u("F1>B")]))) == {"SS2", "SS2>(F1>B)"}
    assert names(registry.run(GetSubmissionSets(uuids=[u("F1")]))) == {"SS1", "SS1>F1"}
    # A folder holds A too, but GetSubmissionSets returns submission sets only.
    assert names(registry.run(GetSubmissionSets(uuids=[u("A")]))) == {"SS1", "SS1>A"}
    assert names(registry.run(GetSubmissionSets(uuids=[u("SS1")]))) == set()


# -- *AndContents -----------------------------------------------------------------


def test_get_submission_set_and_contents(registry):
    everything = {"SS1", "A", "B", "F1", "SS1>A", "SS1>B", "SS1>F1", "F1>A", "SS1>(F1>A)"}
    assert names(registry.run(GetSubmissionSetAndContents(submission_set=ids("SS1")))) == everything
    assert names(registry.run(GetSubmissionSetAndContents(submission_set=unique_ids("SS1")))) == everything


def test_get_submission_set_and_contents_drops_what_points_at_filtered_documents(registry):
    # A is filtered out by its format: SS1>A, F1>A and SS1>(F1>A) go with it.
    query = GetSubmissionSetAndContents(submission_set=ids("SS1"), format_codes=[CDA])
    assert names(registry.run(query)) == {"SS1", "B", "F1", "SS1>B", "SS1>F1"}


def test_get_submission_set_and_contents_with_association_members(registry):
    # SS2 holds F1>B (B added to the older folder F1) but neither F1 nor B; D is on-demand.
    query = GetSubmissionSetAndContents(submission_set=ids("SS2"))
    assert names(registry.run(query)) == {"SS2", "C", "E", "SS2>C", "SS2>E", "F1>B", "SS2>(F1>B)"}
    query = GetSubmissionSetAndContents(submission_set=ids("SS2"), object_types=[STABLE, ON_DEMAND])
    assert names(registry.run(query)) == {"SS2", "C", "D", "E", "SS2>C", "SS2>D", "SS2>E", "F1>B", "SS2>(F1>B)"}
    query = GetSubmissionSetAndContents(submission_set=ids("SS2"), confidentiality_codes=[[R]])
    assert names(registry.run(query)) == {"SS2", "E", "SS2>E"}
    query = GetSubmissionSetAndContents(submission_set=ids("SS2"), object_types=[ON_DEMAND])
    assert names(registry.run(query)) == {"SS2", "D", "SS2>D"}


def test_get_submission_set_and_contents_unknown(registry):
    assert names(registry.run(GetSubmissionSetAndContents(submission_set=unique_ids("nope")))) == set()
    assert names(registry.run(GetSubmissionSetAndContents(submission_set=ids("F1")))) == set()


def test_get_folder_and_contents(registry):
    assert names(registry.run(GetFolderAndContents(folder=ids("F1")))) == {"F1", "A", "B", "F1>A", "F1>B"}
    assert names(registry.run(GetFolderAndContents(folder=unique_ids("F1")))) == {"F1", "A", "B", "F1>A", "F1>B"}
    assert names(registry.run(GetFolderAndContents(folder=ids("F1"), format_codes=[CDA]))) == {"F1", "B", "F1>B"}
    assert names(registry.run(GetFolderAndContents(folder=ids("F1"), confidentiality_codes=[[R]]))) == {"F1"}
    assert names(registry.run(GetFolderAndContents(folder=ids("SS1")))) == set()


# -- document relations ------------------------------------------------------------


def test_get_folders_for_document(registry):
    assert names(registry.run(GetFoldersForDocument(document=ids("A")))) == {"F1"}
    assert names(registry.run(GetFoldersForDocument(document=unique_ids("B")))) == {"F1"}
    assert names(registry.run(GetFoldersForDocument(document=ids("C")))) == set()
    assert names(registry.run(GetFoldersForDocument(document=unique_ids("nope")))) == set()


def test_get_related_documents(registry):
    def related(ids_: ObjectIds, *types, object_types=(STABLE,)):
        return names(registry.run(GetRelatedDocuments(document=ids_, association_types=list(types),
                                                      object_types=list(object_types))))

    assert related(ids("A"), RPLC) == {"A", "C", "C-rplc-A"}
    assert related(ids("C"), RPLC, APND) == {"C", "A", "C-rplc-A"}
    assert related(unique_ids("B"), APND) == {"B", "E", "E-apnd-B"}
    # No association of these types, or none to a document of these types: nothing at all.
    assert related(ids("B"), RPLC) == set()
    assert related(ids("B"), APND, object_types=(ON_DEMAND,)) == set()
    assert related(ids("B"), HAS_MEMBER) == set()
    assert related(unique_ids("nope"), RPLC) == set()


# -- limits and failures -------------------------------------------------------------


def test_too_many_results(db, registry):
    small = StoredQueryService(db, max_results=3)
    assert names(small.run(FindDocuments(patient_id=P, statuses=[APPROVED]))) == {"B", "C", "E"}
    assert names(small.run(GetDocuments(documents=ids("A", "B", "C")))) == {"A", "B", "C"}

    smaller = StoredQueryService(db, max_results=2)
    for query in (
        FindDocuments(patient_id=P, statuses=[APPROVED]),
        get_all(),
        get_all(Q),  # 3 objects: SS3, Q and SS3>Q
        GetDocuments(documents=ids("A", "B", "C")),
        GetSubmissionSetAndContents(submission_set=ids("SS1")),
        GetAssociations(uuids=[u("B")]),
    ):
        outcome = smaller.run(query)
        assert outcome.objects == []
        assert [(f.code, f.message) for f in outcome.findings] == [
            (ErrorCode.TOO_MANY_RESULTS, "the query matches more than 2 objects; narrow it")
        ], type(query).__name__


def _selects(db, run) -> list[tuple[str, object]]:
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return statements


def test_find_queries_ask_for_one_row_more_than_the_maximum(db, registry):
    service = StoredQueryService(db, max_results=7)
    (statement, parameters), = _selects(db, lambda: service.run(FindDocuments(patient_id=P, statuses=[APPROVED])))
    assert "LIMIT" in statement.upper()
    values = parameters.values() if isinstance(parameters, dict) else parameters
    assert 8 in values


def test_statements_do_not_grow_with_the_answer(db, registry):
    def count(query: StoredQuery) -> int:
        return len(_selects(db, lambda: registry.run(query)))

    small_all = count(get_all(Q))
    small_contents = count(GetSubmissionSetAndContents(submission_set=ids("SS3")))
    # Add 30 documents to SS3 (and 30 HasMembers): the same statements answer.
    more = [_doc(f"Q{i}", Q) for i in range(30)]
    with db.session() as session:
        RegistryStore(session).add([*more, *(_link(f"SS3>Q{i}", "SS3", f"Q{i}") for i in range(30))])
    assert count(get_all(Q)) == small_all <= 4
    assert count(GetSubmissionSetAndContents(submission_set=ids("SS3"))) == small_contents <= 5
    assert len(names(registry.run(get_all(Q)))) == 63


def test_a_failing_database_answers_registry_busy(registry, monkeypatch):
    def fail(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("connection lost"))

    monkeypatch.setattr(QueryStore, "find_document_entries", fail)
    outcome = registry.run(FindDocuments(patient_id=P, statuses=[APPROVED]))
    assert outcome.objects == []
    assert [f.code for f in outcome.findings] == [ErrorCode.REGISTRY_BUSY]


def test_a_query_stopped_by_the_statement_timeout_is_a_registry_error(registry, monkeypatch):
    def cancelled(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("canceling statement due to statement timeout"))

    monkeypatch.setattr(QueryStore, "find_document_entries", cancelled)
    outcome = registry.run(FindDocuments(patient_id=P, statuses=[APPROVED]))
    assert [f.code for f in outcome.findings] == [ErrorCode.REGISTRY_ERROR]
    assert "longer than 30000 ms" in outcome.findings[0].message


def test_an_unknown_query_class_is_reported(registry):
    outcome = registry.run(StoredQuery())
    assert outcome.objects == []
    assert [f.code for f in outcome.findings] == [ErrorCode.UNKNOWN_STORED_QUERY]


def test_queries_run_in_one_read_only_transaction(db, registry):
    begins = []
    event.listen(db.engine, "begin", lambda connection: begins.append(connection.get_execution_options()))
    registry.run(get_all())
    registry.run(GetSubmissionSetAndContents(submission_set=ids("SS2")))
    assert len(begins) == 2
    assert all(options.get("xdsgw_read_only") for options in begins)


def test_full_metadata_of_two_patients_is_refused(registry):
    outcome = registry.run(GetDocuments(documents=unique_ids("A", "Q")))

    assert outcome.objects == []
    assert [(f.code, f.severity.name) for f in outcome.findings] == [("XDSResultNotSinglePatient", "ERROR")]


@pytest.mark.parametrize("make", [
    lambda rt: FindDocuments(patient_id=P, statuses=[APPROVED, DEPRECATED], return_type=rt),
    lambda rt: FindSubmissionSets(patient_id=P, statuses=[APPROVED], return_type=rt),
    lambda rt: FindFolders(patient_id=P, statuses=[APPROVED], return_type=rt),
], ids=["documents", "submission sets", "folders"])
def test_object_ref_finds_the_same_objects_without_reading_their_metadata(registry, make):
    full = registry.run(make(ReturnType.LEAF_CLASS))
    refs = registry.run(make(ReturnType.OBJECT_REF))

    assert names(refs) == names(full) != set()
    assert [o.entry_uuid for o in refs.objects] == [o.entry_uuid for o in full.objects]
    # Stubs: no metadata but what ObjectRefs, visibility and traces need (uniqueId, patient, status...).
    assert all(o.title is None for o in refs.objects)
    assert [(o.unique_id, o.patient_id, o.availability_status) for o in refs.objects] == [
        (o.unique_id, o.patient_id, o.availability_status) for o in full.objects]
