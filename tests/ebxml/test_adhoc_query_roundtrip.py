"""Writing a stored query as an AdhocQueryRequest then reading it gives back an equal query,
and the request written is valid against query.xsd."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.ebxml import adhoc_query_request, read_adhoc_query_request
from gateway.metadata import AssociationType, AvailabilityStatus, Code, ObjectType
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
    TimeRange,
)

from ..strategies import cx, dtm, oid, uuid_urn, xml_char

QUERY_XSD = Path(__file__).resolve().parents[3] / "shared" / "data" / "ebxml" / "ebRS" / "query.xsd"


@cache
def query_schema() -> etree.XMLSchema | None:
    return etree.XMLSchema(etree.parse(str(QUERY_XSD))) if QUERY_XSD.exists() else None


def schema_errors(element: etree._Element) -> list[str]:
    """query.xsd errors; none when the schema is absent (test_adhoc_query says so by skipping)."""
    schema = query_schema()
    if schema is None or schema.validate(element):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


# Any XML text, quotes, commas, parentheses and spaces included: the quoting must carry them all.
nonempty_text = st.text(xml_char | st.sampled_from("'(),^% "), min_size=1, max_size=16)
# A code or scheme: anything but the ^ that separates them.
code_part = st.text(xml_char.filter(lambda c: c != "^") | st.sampled_from("'(), "), min_size=1, max_size=12)
code = st.builds(Code, code_part, code_part | oid)
codes = st.lists(code, max_size=3)
and_or = st.lists(st.lists(code, min_size=1, max_size=3), max_size=3)
statuses = st.lists(st.sampled_from(list(AvailabilityStatus)), min_size=1, max_size=3)
object_types = st.lists(
    st.sampled_from([ObjectType.STABLE_DOCUMENT_ENTRY, ObjectType.ON_DEMAND_DOCUMENT_ENTRY]), min_size=1, max_size=2
)
time_range = st.builds(TimeRange, st.none() | dtm, st.none() | dtm)
# A patient id the reader accepts: id^^^&OID&ISO with a non-blank id (cx_problems refuses a blank one).
patient_id = cx.filter(lambda c: c.id.strip()).map(str)
common = dict(
    return_type=st.sampled_from(list(ReturnType)),
    home_community_id=st.none() | oid.map(lambda o: "urn:oid:" + o),
)
document_filters = dict(format_codes=codes, confidentiality_codes=and_or, object_types=object_types)


def object_ids(*, single: bool) -> st.SearchStrategy[ObjectIds]:
    size = dict(min_size=1, max_size=1 if single else 3)
    return st.one_of(
        st.lists(uuid_urn, **size).map(lambda u: ObjectIds(uuids=tuple(u))),
        st.lists(nonempty_text, **size).map(lambda u: ObjectIds(unique_ids=tuple(u))),
    )


find_documents_fields = dict(
    patient_id=patient_id,
    statuses=statuses,
    class_codes=codes,
    type_codes=codes,
    practice_setting_codes=codes,
    healthcare_facility_type_codes=codes,
    event_codes=and_or,
    creation_time=time_range,
    service_start_time=time_range,
    service_stop_time=time_range,
    author_persons=st.lists(nonempty_text, max_size=3),
    **document_filters,
    **common,
)

queries = st.one_of(
    st.builds(FindDocuments, **find_documents_fields),
    st.builds(FindDocumentsByReferenceId, reference_ids=st.lists(nonempty_text, min_size=1, max_size=3),
              **find_documents_fields),
    st.builds(
        FindSubmissionSets, patient_id=patient_id, statuses=statuses, source_ids=st.lists(oid, max_size=3),
        submission_time=time_range, author_person=st.none() | nonempty_text, content_type_codes=codes, **common,
    ),
    st.builds(FindFolders, patient_id=patient_id, statuses=statuses, last_update_time=time_range, codes=and_or,
              **common),
    st.builds(GetAll, patient_id=patient_id, document_statuses=statuses, submission_set_statuses=statuses,
              folder_statuses=statuses, **document_filters, **common),
    st.builds(GetDocuments, documents=object_ids(single=False), **common),
    st.builds(GetFolders, folders=object_ids(single=False), **common),
    st.builds(GetAssociations, uuids=st.lists(uuid_urn, min_size=1, max_size=3), **common),
    st.builds(GetDocumentsAndAssociations, documents=object_ids(single=False), **common),
    st.builds(GetSubmissionSets, uuids=st.lists(uuid_urn, min_size=1, max_size=3), **common),
    st.builds(GetSubmissionSetAndContents, submission_set=object_ids(single=True), **document_filters, **common),
    st.builds(GetFolderAndContents, folder=object_ids(single=True), **document_filters, **common),
    st.builds(GetFoldersForDocument, document=object_ids(single=True), **common),
    st.builds(
        GetRelatedDocuments, document=object_ids(single=True), object_types=object_types,
        association_types=st.lists(st.sampled_from(list(AssociationType)), min_size=1, max_size=3), **common,
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries)
def test_write_then_read_gives_back_the_same_query(query):
    request = adhoc_query_request(query)
    result = read_adhoc_query_request(etree.fromstring(etree.tostring(request)))

    assert result.findings == []
    assert result.query == query
    assert type(result.query) is type(query)
    assert schema_errors(request) == []


@settings(max_examples=50, deadline=None)
@given(queries)
def test_write_read_write_is_a_fixed_point(query):
    first = etree.tostring(adhoc_query_request(query))
    again = etree.tostring(adhoc_query_request(read_adhoc_query_request(etree.fromstring(first)).query))

    assert again == first
