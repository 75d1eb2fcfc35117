"""QueryStore on SQLite and PostgreSQL: the stored query filters (ITI TF-2 §3.18.4.1.2.3.7) in SQL.

The FindDocuments matrix runs on one registry per database, filled once for
the module (the queries only read): seven DocumentEntries whose attributes
differ just enough for each parameter to select a known set. Every case
asserts the exact set of entries found.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import event

from gateway.metadata.hl7v2 import CX, DTM, XCN
from gateway.metadata.model import Author, Code, Folder, SubmissionSet
from gateway.metadata.query import (
    FindDocuments,
    FindDocumentsByReferenceId,
    FindFolders,
    FindSubmissionSets,
    ObjectIds,
    ReturnType,
    TimeRange,
)
from gateway.metadata.vocabulary import AssociationType, AvailabilityStatus, ObjectType
from gateway.store.database import Database
from gateway.store.query_store import QueryStore
from gateway.store.registry_store import RegistryStore

from ..support.databases import fresh_postgres_schema
from . import factories

PATIENT = factories.PATIENT
OTHER_PATIENT = "999^^^&1.2.250.1.213.1.4.8&ISO"
APPROVED = AvailabilityStatus.APPROVED
DEPRECATED = AvailabilityStatus.DEPRECATED
SUBMITTED = AvailabilityStatus.SUBMITTED
BOTH = [APPROVED, DEPRECATED]
STABLE = ObjectType.STABLE_DOCUMENT_ENTRY
ON_DEMAND = ObjectType.ON_DEMAND_DOCUMENT_ENTRY
PG_SCHEMA = "query_store_tests"

CLASS, EVENT, CONF, OTHER = "1.2.3.1", "1.2.3.2", "2.16.840.1.113883.5.25", "9.9.9"
A, A_OTHER, B, C = Code("A", CLASS), Code("A", OTHER), Code("B", CLASS), Code("C", CLASS)
E1, E2, E3 = Code("E1", EVENT), Code("E2", EVENT), Code("E3", EVENT)
N, R, V = Code("N", CONF), Code("R", CONF), Code("V", CONF)
T1, P1, H1, F1 = Code("T1", "1.2.3.3"), Code("P1", "1.2.3.4"), Code("H1", "1.2.3.5"), Code("F1", "1.2.3.6")
REF1 = "REF-1^^^&1.2.250.1.999.5&ISO^urn:ihe:iti:xds:2013:accession"
REF2 = "REF-2^^^&1.2.250.1.999.5&ISO^urn:ihe:iti:xds:2013:accession"


def uuid_of(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


NAMES: dict[str, str] = {}


def named(name: str) -> str:
    NAMES[uuid_of(name)] = name
    return uuid_of(name)


def person(text: str) -> Author:
    return Author(person=XCN.parse(text))


def dupont(family: str = "DUPONT", given: str = "JEAN") -> Author:
    return person(f"801^{family}^{given}^^^^^^&1.2.250.1.71.4.2.1&ISO")


def doc(name: str, *, patient: str = PATIENT, creation: str | None = None, start: str | None = None,
        stop: str | None = None, status: AvailabilityStatus = APPROVED, **overrides):
    """A stable, Approved DocumentEntry whose query attributes are the overrides (none by default)."""
    uuid_ = named(name)
    values = dict(
        entry_uuid=uuid_, logical_id=uuid_, object_type=STABLE, availability_status=status,
        class_code=None, type_code=None, format_code=None, practice_setting_code=None,
        healthcare_facility_type_code=None, confidentiality_codes=[], event_codes=[], authors=[], reference_ids=[],
        creation_time=DTM(creation) if creation else None,
        service_start_time=DTM(start) if start else None,
        service_stop_time=DTM(stop) if stop else None,
    )
    return factories.document(patient, **(values | overrides))


def matrix_documents():
    return [
        doc("d1", class_code=A, event_codes=[E1, E2], confidentiality_codes=[N], creation="2024",
            start="20240310", stop="20240320", authors=[dupont()], reference_ids=[REF1],
            type_code=T1, practice_setting_code=P1, healthcare_facility_type_code=H1, format_code=F1),
        doc("d2", class_code=B, event_codes=[E1], confidentiality_codes=[R], creation="202403",
            start="20240301", stop="20240305", authors=[dupont("Dupont", "Jean")], reference_ids=[REF2]),
        doc("d3", class_code=C, event_codes=[E2, E3], confidentiality_codes=[N, R], creation="20240315",
            authors=[dupont("DUPOND")], reference_ids=[REF1, REF2], status=DEPRECATED),
        doc("d4", class_code=A_OTHER, event_codes=[E3], confidentiality_codes=[N], creation="20240315101530",
            authors=[person("802^MARTIN^PAUL"), dupont()]),
        doc("d5", confidentiality_codes=[V], authors=[person("803^O\\T\\BRIEN^ANN")]),
        doc("od", class_code=A, event_codes=[E1], confidentiality_codes=[N], creation="20240315101530",
            authors=[dupont()], reference_ids=[REF1], object_type=ON_DEMAND),
        doc("other", patient=OTHER_PATIENT, class_code=A, event_codes=[E1, E2], confidentiality_codes=[N],
            creation="20240315101530", authors=[dupont()], reference_ids=[REF1]),
    ]


MATRIX_DOCUMENTS = matrix_documents()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def matrix_db(request, tmp_path_factory):
    """A registry holding the matrix documents, shared by the module's read-only tests."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path_factory.mktemp('query') / 'registry.db'}")
    else:
        database = Database(fresh_postgres_schema(PG_SCHEMA), schema=PG_SCHEMA)
    database.upgrade()
    with database.session() as session:
        RegistryStore(session).add(MATRIX_DOCUMENTS)
    yield database
    database.dispose()


def find(db: Database, limit: int = 100, cls=FindDocuments, **params) -> list[str]:
    params.setdefault("patient_id", PATIENT)
    params.setdefault("statuses", BOTH)
    with db.session(read_only=True) as session:
        found = QueryStore(session).find_document_entries(cls(**params), limit)
    return [NAMES[d.entry_uuid] for d in found]


def tr(start: str | None = None, end: str | None = None) -> TimeRange:
    return TimeRange(DTM(start) if start else None, DTM(end) if end else None)


ALL = {"d1", "d2", "d3", "d4", "d5"}

MATRIX = {
    # patient, status, object type
    "base": ({}, ALL),
    "approved only": ({"statuses": [APPROVED]}, ALL - {"d3"}),
    "deprecated only": ({"statuses": [DEPRECATED]}, {"d3"}),
    "submitted only": ({"statuses": [SUBMITTED]}, set()),
    "other patient": ({"patient_id": OTHER_PATIENT}, {"other"}),
    "unknown patient": ({"patient_id": "404^^^&1.2.3&ISO"}, set()),
    "patient with trailing empty components": ({"patient_id": PATIENT + "^^"}, ALL),
    "on-demand only": ({"object_types": [ON_DEMAND]}, {"od"}),
    "stable and on-demand": ({"object_types": [STABLE, ON_DEMAND]}, ALL | {"od"}),
    "empty object types mean stable": ({"object_types": []}, ALL),
    # single codes: values ORed, code and scheme compared
    "class A": ({"class_codes": [A]}, {"d1"}),
    "class A other scheme": ({"class_codes": [A_OTHER]}, {"d4"}),
    "class A or B": ({"class_codes": [A, B]}, {"d1", "d2"}),
    "class A or C, approved": ({"class_codes": [A, C], "statuses": [APPROVED]}, {"d1"}),
    "class A on-demand": ({"class_codes": [A], "object_types": [ON_DEMAND]}, {"od"}),
    "type code": ({"type_codes": [T1]}, {"d1"}),
    "practice setting": ({"practice_setting_codes": [P1, Code("P1", OTHER)]}, {"d1"}),
    "facility type": ({"healthcare_facility_type_codes": [H1]}, {"d1"}),
    "format code": ({"format_codes": [F1]}, {"d1"}),
    "format code other scheme": ({"format_codes": [Code("F1", OTHER)]}, set()),
    # event codes: AND of OR-groups
    "event E1": ({"event_codes": [[E1]]}, {"d1", "d2"}),
    "event E1 or E3": ({"event_codes": [[E1, E3]]}, {"d1", "d2", "d3", "d4"}),
    "event E1 and E2": ({"event_codes": [[E1], [E2]]}, {"d1"}),
    "event E2 and E3": ({"event_codes": [[E2], [E3]]}, {"d3"}),
    "event (E1 or E3) and E2": ({"event_codes": [[E1, E3], [E2]]}, {"d1", "d3"}),
    "event E1 and E3": ({"event_codes": [[E1], [E3]]}, set()),
    "event wrong scheme": ({"event_codes": [[Code("E1", OTHER)]]}, set()),
    "event empty group ignored": ({"event_codes": [[E1], []]}, {"d1", "d2"}),
    # confidentiality: AND of OR-groups
    "conf N": ({"confidentiality_codes": [[N]]}, {"d1", "d3", "d4"}),
    "conf N and R": ({"confidentiality_codes": [[N], [R]]}, {"d3"}),
    "conf N or R": ({"confidentiality_codes": [[N, R]]}, {"d1", "d2", "d3", "d4"}),
    "conf V": ({"confidentiality_codes": [[V]]}, {"d5"}),
    "conf (N or V) and R": ({"confidentiality_codes": [[N, V], [R]]}, {"d3"}),
    # codes of different parameters are ANDed
    "class and event": ({"class_codes": [A, B, C], "event_codes": [[E2]]}, {"d1", "d3"}),
    "class and conf": ({"class_codes": [A, B], "confidentiality_codes": [[R]]}, {"d2"}),
    # creationTime: d1 "2024", d2 "202403", d3 "20240315", d4 "20240315101530", d5 none
    "creation from YYYY": ({"creation_time": tr("2024")}, {"d1", "d2", "d3", "d4"}),
    "creation from YYYYMM": ({"creation_time": tr("202403")}, {"d2", "d3", "d4"}),
    "creation from YYYYMMDD": ({"creation_time": tr("20240315")}, {"d3", "d4"}),
    "creation from full, inclusive": ({"creation_time": tr("20240315101530")}, {"d4"}),
    "creation from full + 1s": ({"creation_time": tr("20240315101531")}, set()),
    "creation from YYYYMMDDhh": ({"creation_time": tr("2024031510")}, {"d4"}),
    "creation to YYYY, exclusive": ({"creation_time": tr(None, "2024")}, set()),
    "creation to YYYYMM": ({"creation_time": tr(None, "202403")}, {"d1"}),
    "creation to YYYYMMDD": ({"creation_time": tr(None, "20240315")}, {"d1", "d2"}),
    "creation to full, exclusive": ({"creation_time": tr(None, "20240315101530")}, {"d1", "d2", "d3"}),
    "creation to next year": ({"creation_time": tr(None, "2025")}, {"d1", "d2", "d3", "d4"}),
    "creation from month to day": ({"creation_time": tr("202403", "20240315")}, {"d2"}),
    "creation one day": ({"creation_time": tr("20240315", "20240316")}, {"d3", "d4"}),
    # service times: d1 0310..0320, d2 0301..0305, others none
    "service start from": ({"service_start_time": tr("20240305")}, {"d1"}),
    "service start to": ({"service_start_time": tr(None, "20240310")}, {"d2"}),
    "service stop from, inclusive": ({"service_stop_time": tr("20240305")}, {"d1", "d2"}),
    "service stop to, exclusive": ({"service_stop_time": tr(None, "20240305")}, set()),
    "service start and stop": ({"service_start_time": tr("2024"), "service_stop_time": tr("20240306")}, {"d1"}),
    # authorPerson: LIKE patterns, case-sensitive, values ORed
    "author exact": ({"author_persons": ["801^DUPONT^JEAN^^^^^^&1.2.250.1.71.4.2.1&ISO"]}, {"d1", "d4"}),
    "author %": ({"author_persons": ["%^DUPONT^JEAN%"]}, {"d1", "d4"}),
    "author prefix": ({"author_persons": ["801^DUPONT%"]}, {"d1", "d4"}),
    "author not a prefix": ({"author_persons": ["DUPONT%"]}, set()),
    "author _": ({"author_persons": ["%^DUPON_^%"]}, {"d1", "d3", "d4"}),
    "author case": ({"author_persons": ["%^Dupont^%"]}, {"d2"}),
    "author case lower": ({"author_persons": ["%^dupont^jean%"]}, set()),
    "author any of two": ({"author_persons": ["802^MARTIN%", "%^Dupont^%"]}, {"d2", "d4"}),
    "author backslash literal": ({"author_persons": ["%^O\\T\\BRIEN^%"]}, {"d5"}),
    "author backslash not an escape": ({"author_persons": ["%^OT\\BRIEN^%"]}, set()),
    # everything at once
    "combined": (
        {
            "class_codes": [A, B], "confidentiality_codes": [[N]], "event_codes": [[E1], [E2]],
            "creation_time": tr("2024", "2025"), "author_persons": ["%DUPONT%"], "statuses": [APPROVED],
        },
        {"d1"},
    ),
}


@pytest.mark.parametrize("params, expected", MATRIX.values(), ids=MATRIX.keys())
def test_find_documents_matrix(matrix_db, params, expected):
    assert set(find(matrix_db, **params)) == expected


@pytest.mark.parametrize(
    "references, params, expected",
    [
        ([REF1], {}, {"d1", "d3"}),
        ([REF1, REF2], {}, {"d1", "d2", "d3"}),
        ([REF1, REF2], {"class_codes": [B]}, {"d2"}),
        ([REF1], {"object_types": [ON_DEMAND]}, {"od"}),
        (["REF-3^^^&1.2.3&ISO"], {}, set()),
        ([], {}, set()),
    ],
)
def test_find_documents_by_reference_id(matrix_db, references, params, expected):
    assert set(find(matrix_db, cls=FindDocumentsByReferenceId, reference_ids=references, **params)) == expected


def test_find_documents_in_registration_order_up_to_the_limit(matrix_db):
    assert find(matrix_db) == ["d1", "d2", "d3", "d4", "d5"]
    assert find(matrix_db, limit=2) == ["d1", "d2"]


def test_found_documents_are_the_registered_objects(matrix_db):
    registered = {d.entry_uuid: d for d in MATRIX_DOCUMENTS}
    with matrix_db.session(read_only=True) as session:
        found = QueryStore(session).find_document_entries(FindDocuments(patient_id=PATIENT, statuses=BOTH), 10)
    # Entry uuids are fixed by name: the objects must come back equal, attribute by attribute.
    assert found == [registered[d.entry_uuid] for d in found]


def test_a_thousand_codes_in_one_parameter_and_one_group(matrix_db):
    """The codec allows 1 000 values; SQLite refuses ORs deeper than 1 000 terms, so codes go in a row-value IN."""
    many = [Code(f"X{i}", "1.2.3.999") for i in range(999)]
    assert set(find(matrix_db, class_codes=[*many, A])) == set(find(matrix_db, class_codes=[A]))
    assert set(find(matrix_db, event_codes=[[*many, E1]])) == set(find(matrix_db, event_codes=[[E1]]))


def test_sqlite_like_is_case_sensitive(matrix_db):
    with matrix_db.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT 'ABC' LIKE 'abc', 'abc' LIKE 'a_c'").one() == (False, True)


def _sqlite_plan(db: Database, statement) -> list[str]:
    sql = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.engine.connect() as connection:
        return [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


def test_find_queries_use_the_patient_index_on_sqlite(matrix_db):
    """Plans start from a patient_id-leading index and reach child rows by their parent key: no scan."""
    if matrix_db.url.get_backend_name() != "sqlite":
        pytest.skip("plans of a tiny PostgreSQL table are meaningless (sequential scans are cheaper)")
    from sqlalchemy import select

    from gateway.store.query_store import document_conditions
    from gateway.store.schema import DocumentEntryRow

    every_filter = dict(
        class_codes=[A, B], type_codes=[T1], format_codes=[F1], event_codes=[[E1], [E2, E3]],
        confidentiality_codes=[[N]], creation_time=tr("2024", "2025"), service_stop_time=tr("2024"),
        author_persons=["801^DUPONT%", "%DUPOND%"],
    )
    queries = [
        FindDocuments(patient_id=PATIENT, statuses=[APPROVED]),
        FindDocuments(patient_id=PATIENT, statuses=[APPROVED], **every_filter),
        FindDocumentsByReferenceId(patient_id=PATIENT, statuses=[APPROVED], reference_ids=[REF1, REF2]),
    ]
    for q in queries:
        statement = select(DocumentEntryRow.payload).where(*document_conditions(q)).order_by(DocumentEntryRow.id)
        plan = _sqlite_plan(matrix_db, statement.limit(10_001))
        assert plan[0].startswith("SEARCH document_entries USING INDEX ix_document_entries_patient"), plan
        children = [line for line in plan if line.startswith("SEARCH document_entry_")]
        assert all("_document_id (document_id=?)" in line for line in children), plan
        # "SCAN … CONSTANT ROW(S)" reads the VALUES list of a row-value IN, not a table.
        assert not any(line.startswith("SCAN") and "CONSTANT ROW" not in line for line in plan), plan


# -- submission sets and folders ------------------------------------------------


def test_find_submission_sets(db):
    sets = {
        "s1": factories.submission_set(source_id="1.1", submission_time=DTM("20240315"), authors=[dupont()],
                                       content_type_code=Code("04", "1.2.3")),
        "s2": factories.submission_set(source_id="1.2", submission_time=DTM("2024031610"),
                                       authors=[dupont("Dupont")], content_type_code=Code("05", "1.2.3")),
        "s3": factories.submission_set(source_id="1.1", submission_time=None, authors=[],
                                       content_type_code=None, availability_status=DEPRECATED),
        "s4": factories.submission_set(OTHER_PATIENT, source_id="1.1"),
    }
    with db.session() as session:
        RegistryStore(session).add(sets.values())
    names = {s.entry_uuid: name for name, s in sets.items()}

    def find_sets(**params):
        params.setdefault("patient_id", PATIENT)
        params.setdefault("statuses", BOTH)
        with db.session(read_only=True) as session:
            return {names[s.entry_uuid] for s in QueryStore(session).find_submission_sets(FindSubmissionSets(**params), 10)}

    assert find_sets() == {"s1", "s2", "s3"}
    assert find_sets(statuses=[APPROVED]) == {"s1", "s2"}
    assert find_sets(patient_id=OTHER_PATIENT) == {"s4"}
    assert find_sets(source_ids=["1.1"]) == {"s1", "s3"}
    assert find_sets(source_ids=["1.1", "1.2"]) == {"s1", "s2", "s3"}
    assert find_sets(submission_time=tr("20240315", "20240316")) == {"s1"}
    assert find_sets(submission_time=tr("20240316")) == {"s2"}
    assert find_sets(submission_time=tr(None, "2024031610")) == {"s1"}
    assert find_sets(author_person="%^DUPONT^%") == {"s1"}
    assert find_sets(author_person="%^Dupon_^%") == {"s2"}
    assert find_sets(content_type_codes=[Code("05", "1.2.3"), Code("04", "9.9")]) == {"s2"}
    assert find_sets(content_type_codes=[Code("04", "1.2.3"), Code("05", "1.2.3")], source_ids=["1.2"]) == {"s2"}


def test_find_folders(db):
    cardio, diab, other = Code("CARDIO", "1.2.7"), Code("DIAB", "1.2.7"), Code("CARDIO", "9.9")
    folders = {
        "f1": factories.folder(codes=[cardio, diab], last_update_time=DTM("20240315103000")),
        "f2": factories.folder(codes=[cardio], last_update_time=DTM("20240401")),
        "f3": factories.folder(codes=[other], last_update_time=None, availability_status=DEPRECATED),
        "f4": factories.folder(OTHER_PATIENT, codes=[cardio]),
    }
    with db.session() as session:
        RegistryStore(session).add(folders.values())
    names = {f.entry_uuid: name for name, f in folders.items()}

    def find_folders(**params):
        params.setdefault("patient_id", PATIENT)
        params.setdefault("statuses", BOTH)
        with db.session(read_only=True) as session:
            return {names[f.entry_uuid] for f in QueryStore(session).find_folders(FindFolders(**params), 10)}

    assert find_folders() == {"f1", "f2", "f3"}
    assert find_folders(statuses=[APPROVED]) == {"f1", "f2"}
    assert find_folders(statuses=[DEPRECATED]) == {"f3"}
    assert find_folders(codes=[[cardio]]) == {"f1", "f2"}
    assert find_folders(codes=[[cardio], [diab]]) == {"f1"}
    assert find_folders(codes=[[diab, other]]) == {"f1", "f3"}
    assert find_folders(codes=[[other]], statuses=[APPROVED]) == set()
    assert find_folders(last_update_time=tr("20240315103000")) == {"f1", "f2"}
    assert find_folders(last_update_time=tr("2024031510", "20240401")) == {"f1"}
    assert find_folders(last_update_time=tr(None, "2025")) == {"f1", "f2"}


# -- lookups by id and associations -------------------------------------------


@pytest.fixture
def versions(db):
    """Two versions of one document (ITI-57): same uniqueId and logicalId, the first deprecated."""
    v1 = factories.document(availability_status=DEPRECATED)
    v2 = factories.document(unique_id=v1.unique_id, logical_id=v1.entry_uuid, version="2")
    third = factories.document()
    fol = factories.folder()
    ss = factories.submission_set()
    links = [
        factories.association(ss.entry_uuid, v1.entry_uuid),
        factories.association(ss.entry_uuid, fol.entry_uuid),
        factories.association(fol.entry_uuid, v1.entry_uuid),
        factories.association(v2.entry_uuid, v1.entry_uuid, AssociationType.REPLACE),
        factories.association(ss.entry_uuid, third.entry_uuid),
    ]
    with db.session() as session:
        RegistryStore(session).add([v1, v2, third, fol, ss, *links])
    return v1, v2, third, fol, ss, links


def test_documents_by_uuid_and_by_unique_id_all_versions(db, versions):
    v1, v2, third, fol, ss, _ = versions
    with db.session(read_only=True) as session:
        store = QueryStore(session)
        assert store.documents_by_ids(ObjectIds(uuids=(v2.entry_uuid, third.entry_uuid, "urn:uuid:nope"))) == [v2, third]
        assert store.documents_by_ids(ObjectIds(unique_ids=(v1.unique_id,))) == [v1, v2]
        assert store.documents_by_ids(ObjectIds(unique_ids=("1.2.3.404",))) == []
        assert store.documents_by_ids(ObjectIds()) == []
        # DocumentFilters: these factory documents are on-demand.
        from gateway.metadata.query import DocumentFilters

        assert store.documents_by_ids(ObjectIds(uuids=(v1.entry_uuid,)), DocumentFilters()) == []
        assert store.documents_by_ids(ObjectIds(uuids=(v1.entry_uuid,)), DocumentFilters(object_types=[ON_DEMAND])) == [v1]
        assert store.folders_by_ids(ObjectIds(unique_ids=(fol.unique_id,))) == [fol]
        assert store.folders_by_ids(ObjectIds(uuids=(fol.entry_uuid,))) == [fol]
        assert store.submission_sets_by_ids(ObjectIds(unique_ids=(ss.unique_id,))) == [ss]
        assert store.submission_sets_by_ids(ObjectIds(uuids=(v1.entry_uuid,))) == []


def test_associations(db, versions):
    v1, v2, third, fol, ss, (ss_v1, ss_fol, fol_v1, rplc, ss_third) = versions
    with db.session(read_only=True) as session:
        store = QueryStore(session)
        assert store.associations_touching([v1.entry_uuid]) == [ss_v1, fol_v1, rplc]
        assert store.associations_touching([v1.entry_uuid], [AssociationType.REPLACE]) == [rplc]
        assert store.associations_touching([v1.entry_uuid], []) == []
        assert store.associations_from([ss.entry_uuid]) == [ss_v1, ss_fol, ss_third]
        assert store.associations_to([v1.entry_uuid], [AssociationType.HAS_MEMBER.value]) == [ss_v1, fol_v1]
        assert store.members_of([fol.entry_uuid, ss.entry_uuid]) == [ss_v1, ss_fol, fol_v1, ss_third]
        assert store.associations_by_uuids([rplc.entry_uuid]) == [rplc]
        assert store.containers_of([v1.entry_uuid, third.entry_uuid], SubmissionSet) == ([ss], [ss_v1, ss_third])
        assert store.containers_of([v1.entry_uuid, third.entry_uuid], Folder) == ([fol], [fol_v1])
        assert store.containers_of([v2.entry_uuid], Folder) == ([], [])


def test_long_id_lists_are_chunked(db, versions, monkeypatch):
    from gateway.store import batches

    monkeypatch.setattr(batches, "CHUNK_SIZE", 2)
    v1, v2, third, fol, ss, links = versions
    uuids = [v1.entry_uuid, v2.entry_uuid, "urn:uuid:x", third.entry_uuid, v1.entry_uuid]
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with db.session(read_only=True) as session:
        store = QueryStore(session)
        assert store.documents_by_uuids(uuids) == [v1, v2, third]
        assert store.associations_touching(uuids) == [links[0], links[2], links[3], links[4]]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 4  # two chunks of two for each lookup (the duplicate counted once)


def test_store_objects_are_plain_model_objects(db, versions):
    v1, *_ = versions
    with db.session(read_only=True) as session:
        (found,) = QueryStore(session).documents_by_uuids([v1.entry_uuid])
    assert dataclasses.asdict(found) == dataclasses.asdict(v1)
    assert isinstance(found.patient_id, CX)


# -- stubs: ObjectRef answers and visibility (issue 6) -------------------------------------


VISIBILITY = "1.2.250.1.213.1.1.4.13"
MASQUE_PS, INVISIBLE_PATIENT = Code("MASQUE_PS", VISIBILITY), Code("INVISIBLE_PATIENT", VISIBILITY)
DELETED, ARCHIVED = AvailabilityStatus.DELETED, AvailabilityStatus.ARCHIVED
EVERY_STATUS = [SUBMITTED, APPROVED, DEPRECATED, ARCHIVED, DELETED]


def _judged(d) -> tuple:
    """What ``gateway.access.decision.visible`` and an ObjectRef answer read of a DocumentEntry, exactly."""
    return (
        d.entry_uuid, d.unique_id, d.patient_id, d.availability_status, d.object_type, d.home_community_id,
        [(c.scheme, c.code) for c in d.confidentiality_codes],
        [a.person.format() for a in d.authors if a.person is not None and a.person.format()],
        [a.person.id for a in d.authors if a.person is not None and a.person.format()],
    )


@pytest.fixture
def judged(db):
    """Entries whose status, visibility codes and authors differ; one of another patient."""
    no_person = dataclasses.replace(factories.author(), person=None)
    entries = [
        factories.document(confidentiality_codes=[N, MASQUE_PS], event_codes=[E1],
                           authors=[factories.author(1), person("802^MARTIN^PAUL"), no_person]),
        factories.document(availability_status=DELETED, confidentiality_codes=[V]),
        factories.document(availability_status=ARCHIVED, confidentiality_codes=[], authors=[]),
        factories.document(availability_status=DEPRECATED, confidentiality_codes=[INVISIBLE_PATIENT, R, MASQUE_PS],
                           authors=[person("803^O\\T\\BRIEN^ANN"), no_person, factories.author(3)],
                           home_community_id=None, object_type=STABLE),
        factories.document(OTHER_PATIENT, confidentiality_codes=[MASQUE_PS], authors=[factories.author(4)]),
    ]
    with db.session() as session:
        RegistryStore(session).add(entries)
    return entries


def test_object_ref_stubs_carry_status_visibility_codes_and_authors(db, judged):
    ours = judged[:4]
    with db.session(read_only=True) as session:
        stubs = QueryStore(session).find_document_entries(
            FindDocuments(patient_id=PATIENT, statuses=EVERY_STATUS, object_types=[STABLE, ON_DEMAND],
                          return_type=ReturnType.OBJECT_REF), 10)
    assert [_judged(s) for s in stubs] == [_judged(d) for d in ours]
    assert all(s.title is None and s.class_code is None and s.event_codes == [] for s in stubs)
    # The codes by code and scheme (no display name is stored), the authors by person only.
    assert all(c.display_name is None for s in stubs for c in s.confidentiality_codes)
    assert all(a.institutions == [] and a.roles == [] for s in stubs for a in s.authors)


def test_visibility_stubs_by_entry_uuid_any_status_in_registration_order(db, judged):
    wanted = [judged[3].entry_uuid, "urn:uuid:unknown", judged[0].entry_uuid, judged[4].entry_uuid,
              judged[1].entry_uuid, judged[0].entry_uuid]
    with db.session(read_only=True) as session:
        store = QueryStore(session)
        stubs = store.visibility_stubs(wanted)
        assert store.visibility_stubs([]) == []
    assert [_judged(s) for s in stubs] == [_judged(d) for d in (judged[0], judged[1], judged[3], judged[4])]


def test_stubs_take_one_statement_per_chunk_by_parent_key(db, judged, monkeypatch):
    """The child rows are read per chunk of documents, never per document; on SQLite by their parent key."""
    from gateway.store import batches

    monkeypatch.setattr(batches, "CHUNK_SIZE", 2)
    statements: list[tuple[str, object]] = []
    listener = lambda conn, cursor, statement, parameters, *rest: statements.append((statement, parameters))  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with db.session(read_only=True) as session:
            store = QueryStore(session)
            find_stubs = store.find_document_entries(
                FindDocuments(patient_id=PATIENT, statuses=EVERY_STATUS, object_types=[STABLE, ON_DEMAND],
                              return_type=ReturnType.OBJECT_REF), 10)
            by_uuid = store.visibility_stubs(d.entry_uuid for d in judged)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert (len(find_stubs), len(by_uuid)) == (4, 5)
    selects = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT")]
    children = [(s, p) for s, p in selects if "document_entry_codes" in s or "document_entry_authors" in s]
    # FindDocuments: 1 + 2 chunks; by entryUUID: 3 chunks, entries and children in one statement each.
    assert (len(selects), len(children)) == (3 + 3, 2 + 3)
    assert all("payload" not in s for s, _ in selects)
    if db.url.get_backend_name() == "sqlite":
        with db.engine.connect() as connection:
            for statement, parameters in children:
                explained = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                plan = [row[-1] for row in explained]
                children_searches = [line for line in plan if line.startswith("SEARCH document_entry_")]
                assert len(children_searches) == 2, plan
                assert all("_document_id (document_id=?)" in line for line in children_searches), plan
                entries = [line for line in plan if line.startswith("SEARCH document_entries")]
                assert all("INDEX ux_document_entries_entry_uuid (entry_uuid=?)" in line for line in entries), plan
                assert not any(line.startswith("SCAN") and "CONSTANT ROW" not in line for line in plan), plan


def test_object_ref_stubs_of_sets_and_folders_carry_their_status(db):
    sets = [factories.submission_set(), factories.submission_set(availability_status=DEPRECATED)]
    folders = [factories.folder(availability_status=DEPRECATED), factories.folder()]
    with db.session() as session:
        RegistryStore(session).add([*sets, *folders])
    with db.session(read_only=True) as session:
        store = QueryStore(session)
        found_sets = store.find_submission_sets(
            FindSubmissionSets(patient_id=PATIENT, statuses=BOTH, return_type=ReturnType.OBJECT_REF), 10)
        found_folders = store.find_folders(
            FindFolders(patient_id=PATIENT, statuses=BOTH, return_type=ReturnType.OBJECT_REF), 10)
    for found, registered in ((found_sets, sets), (found_folders, folders)):
        assert [(o.entry_uuid, o.unique_id, o.patient_id, o.availability_status) for o in found] == [
            (o.entry_uuid, o.unique_id, o.patient_id, o.availability_status) for o in registered]
        assert all(o.title is None and o.authors == [] if isinstance(o, SubmissionSet) else o.codes == []
                   for o in found)
