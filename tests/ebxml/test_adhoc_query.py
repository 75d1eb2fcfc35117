"""ITI-18 AdhocQueryRequest reading (value syntax, parameters, every error with its code and location),
the hand-written FindDocuments request, and AdhocQueryResponse writing checked against query.xsd."""

from __future__ import annotations

import dataclasses
import inspect
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from gateway.ebxml import QUERIES, adhoc_query_request, adhoc_query_response, read_adhoc_query_request
from gateway.ebxml.adhoc_query import (
    MAX_AND_GROUPS,
    MAX_AUTHOR_PATTERNS,
    MAX_CODE_TEXT_LENGTH,
    MAX_VALUE_LENGTH,
    MAX_VALUES,
    Token,
    split_value,
)
from gateway.ebxml.namespaces import QUERY, RIM, RS, ResponseStatus, rim
from gateway.metadata import (
    CX,
    DTM,
    Association,
    AssociationType,
    AvailabilityStatus,
    Code,
    DocumentEntry,
    Folder,
    ObjectType,
    SubmissionSet,
)
from gateway.metadata.query import (
    FindDocuments,
    FindFolders,
    FindSubmissionSets,
    GetDocuments,
    GetFoldersForDocument,
    GetRelatedDocuments,
    ObjectIds,
    QueryId,
    ReturnType,
    TimeRange,
)
from gateway.validation.findings import Severity, error, warning

QUERY_XSD = Path(__file__).resolve().parents[3] / "shared" / "data" / "ebxml" / "ebRS" / "query.xsd"
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "iti18"
NO_SCHEMA = f"the OASIS ebRS 3.0 schema is not at {QUERY_XSD} (it comes with the shared test data)"

PID = "282079912345678^^^&1.2.250.1.213.1.4.10&ISO"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
DOC_UUID = "urn:uuid:0b3c1d4e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
DOC_UUID_2 = "urn:uuid:7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"

REGISTRY_ERROR = "XDSRegistryError"
UNKNOWN_QUERY = "XDSUnknownStoredQuery"
MISSING_PARAM = "XDSStoredQueryMissingParam"
PARAM_NUMBER = "XDSStoredQueryParamNumber"


@cache
def query_schema() -> etree.XMLSchema | None:
    return etree.XMLSchema(etree.parse(str(QUERY_XSD))) if QUERY_XSD.exists() else None


def assert_valid(element: etree._Element) -> None:
    schema = query_schema()
    if schema is None:
        pytest.skip(f"{NO_SCHEMA}: the message is not checked against query.xsd")
    ok = schema.validate(etree.fromstring(etree.tostring(element)))
    assert ok, [f"line {e.line}: {e.message}" for e in schema.error_log]


def request(query_id: str, *slots: tuple[str, str | list[str]], return_type: str | None = "LeafClass",
            home: str | None = None) -> etree._Element:
    """An AdhocQueryRequest; each slot is (name, value) or (name, [values]) — one <rim:Value> per value."""
    root = etree.Element(f"{{{QUERY}}}AdhocQueryRequest", nsmap={"query": QUERY, "rim": RIM})
    option = etree.SubElement(root, f"{{{QUERY}}}ResponseOption", returnComposedObjects="true")
    if return_type is not None:
        option.set("returnType", return_type)
    adhoc = etree.SubElement(root, rim("AdhocQuery"), id=query_id)
    if home is not None:
        adhoc.set("home", home)
    for name, values in slots:
        slot = etree.SubElement(adhoc, rim("Slot"), name=name)
        value_list = etree.SubElement(slot, rim("ValueList"))
        for value in [values] if isinstance(values, str) else values:
            etree.SubElement(value_list, rim("Value")).text = value
    return root


FIND_DOCUMENTS_BASE = (
    ("$XDSDocumentEntryPatientId", f"'{PID}'"),
    ("$XDSDocumentEntryStatus", f"('{APPROVED}')"),
)


def find_documents(*slots: tuple[str, str | list[str]], **kw) -> etree._Element:
    return request(QueryId.FIND_DOCUMENTS.value, *FIND_DOCUMENTS_BASE, *slots, **kw)


def read_ok(root: etree._Element):
    result = read_adhoc_query_request(root)
    assert result.findings == []
    return result.query


def where(root: etree._Element) -> list[tuple[str, str | None]]:
    result = read_adhoc_query_request(root)
    if result.findings:
        assert result.query is None
    return [(f.code, f.location) for f in result.findings]


# -- value syntax (ITI TF-2 §3.18.4.1.2.3.5) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("'a'", [("a", True)]),
        ("('a','b')", [("a", True), ("b", True)]),
        ("('a', 'b')", [("a", True), ("b", True)]),
        ("  ( 'a' ,\n 'b' )  ", [("a", True), ("b", True)]),
        ("'it''s'", [("it's", True)]),
        ("('D''ARTAGNAN', '''')", [("D'ARTAGNAN", True), ("'", True)]),
        ("'a, (b)'", [("a, (b)", True)]),
        ("20041225", [("20041225", False)]),
        ("(2004, '2005')", [("2004", False), ("2005", True)]),
        ("''", [("", True)]),
    ],
)
def test_value_syntax(text, tokens):
    assert split_value(text) == [Token(t, q) for t, q in tokens]


@pytest.mark.parametrize("text", ["", "   ", "'a", "('a'", "('a' 'b')", "()", "('a',)", "'a' 'b'", "'a')", "a'b"])
def test_malformed_value_syntax(text):
    with pytest.raises(ValueError):
        split_value(text)


# -- parameters -------------------------------------------------------------------------------------------------


def test_a_minimal_find_documents():
    query = read_ok(find_documents())

    assert query == FindDocuments(patient_id=PID, statuses=[AvailabilityStatus.APPROVED])
    assert query.object_types == [ObjectType.STABLE_DOCUMENT_ENTRY]  # absent: stable entries only
    assert query.return_type is ReturnType.LEAF_CLASS


def test_the_values_of_several_value_elements_in_one_slot_are_one_list():
    query = read_ok(find_documents(
        ("$XDSDocumentEntryClassCode", ["'a^^s1'", "('b^^s2', 'c^^s3')", "('d^^s4')"]),
    ))

    assert query.class_codes == [Code("a", "s1"), Code("b", "s2"), Code("c", "s3"), Code("d", "s4")]


def test_event_codes_in_several_slots_are_and_groups():
    query = read_ok(find_documents(
        ("$XDSDocumentEntryEventCodeList", "('e1^^s', 'e2^^s')"),
        ("$XDSDocumentEntryEventCodeList", ["('e3^^s')", "'e4^^s'"]),
        ("$XDSDocumentEntryConfidentialityCode", "('N^^2.16.840.1.113883.5.25')"),
    ))

    assert query.event_codes == [[Code("e1", "s"), Code("e2", "s")], [Code("e3", "s"), Code("e4", "s")]]
    assert query.confidentiality_codes == [[Code("N", "2.16.840.1.113883.5.25")]]


def test_folder_codes_are_and_or():
    query = read_ok(request(
        QueryId.FIND_FOLDERS.value,
        ("$XDSFolderPatientId", f"'{PID}'"),
        ("$XDSFolderStatus", f"('{APPROVED}')"),
        ("$XDSFolderCodeList", "('f1^^s')"),
        ("$XDSFolderCodeList", "('f2^^s','f3^^s')"),
        ("$XDSFolderLastUpdateTimeFrom", "2024"),
    ))

    assert query == FindFolders(
        patient_id=PID, statuses=[AvailabilityStatus.APPROVED],
        codes=[[Code("f1", "s")], [Code("f2", "s"), Code("f3", "s")]], last_update_time=TimeRange(DTM("2024")),
    )


def test_times_are_unquoted_and_quotes_are_tolerated():
    query = read_ok(find_documents(
        ("$XDSDocumentEntryCreationTimeFrom", "20041225"),
        ("$XDSDocumentEntryCreationTimeTo", "'20050101120000'"),
        ("$XDSDocumentEntryServiceStopTimeTo", "('2006')"),
    ))

    assert query.creation_time == TimeRange(DTM("20041225"), DTM("20050101120000"))
    assert query.service_stop_time == TimeRange(None, DTM("2006"))
    assert not query.service_start_time


def test_code_display_component_is_ignored():
    query = read_ok(find_documents(("$XDSDocumentEntryFormatCode", "('urn:x:f^PDF^1.3.6')",)))

    assert query.format_codes == [Code("urn:x:f", "1.3.6")]


def test_object_types_and_uuids_are_case_insensitive():
    query = read_ok(find_documents(("$XDSDocumentEntryType", f"('{ObjectType.ON_DEMAND_DOCUMENT_ENTRY.upper()}')")))
    docs = read_ok(request(QueryId.GET_DOCUMENTS.value.upper(),
                           ("$XDSDocumentEntryEntryUUID", f"('{DOC_UUID.upper()}')")))

    assert query.object_types == [ObjectType.ON_DEMAND_DOCUMENT_ENTRY]
    assert docs == GetDocuments(documents=ObjectIds(uuids=(DOC_UUID,)))


def test_get_documents_by_unique_id_with_object_refs():
    query = read_ok(request(QueryId.GET_DOCUMENTS.value, ("$XDSDocumentEntryUniqueId", "('1.2.3.1', '1.2.3.2')"),
                            return_type="ObjectRef"))

    assert query == GetDocuments(documents=ObjectIds(unique_ids=("1.2.3.1", "1.2.3.2")),
                                 return_type=ReturnType.OBJECT_REF)


def test_get_related_documents():
    query = read_ok(request(
        QueryId.GET_RELATED_DOCUMENTS.value,
        ("$XDSDocumentEntryUniqueId", "'1.2.3.1'"),
        ("$AssociationTypes", f"('{AssociationType.REPLACE.value}', '{AssociationType.APPEND.value}')"),
    ))

    assert query == GetRelatedDocuments(
        document=ObjectIds(unique_ids=("1.2.3.1",)),
        association_types=[AssociationType.REPLACE, AssociationType.APPEND],
    )


def test_get_all_and_find_submission_sets():
    get_all = read_ok(request(
        QueryId.GET_ALL.value,
        ("$patientId", f"'{PID}'"),
        ("$XDSDocumentEntryStatus", f"('{APPROVED}','{DEPRECATED}')"),
        ("$XDSSubmissionSetStatus", f"('{APPROVED}')"),
        ("$XDSFolderStatus", f"('{APPROVED}')"),
    ))
    find_ss = read_ok(request(
        QueryId.FIND_SUBMISSION_SETS.value,
        ("$XDSSubmissionSetPatientId", f"'{PID}'"),
        ("$XDSSubmissionSetStatus", f"('{APPROVED}')"),
        ("$XDSSubmissionSetSourceId", "('1.2.250.1.999.3', '1.2.250.1.999.4')"),
        ("$XDSSubmissionSetAuthorPerson", "'%LEGRAND%'"),
        ("$XDSSubmissionSetSubmissionTimeTo", "20250401"),
    ))

    assert get_all.document_statuses == [AvailabilityStatus.APPROVED, AvailabilityStatus.DEPRECATED]
    assert get_all.submission_set_statuses == get_all.folder_statuses == [AvailabilityStatus.APPROVED]
    assert find_ss == FindSubmissionSets(
        patient_id=PID, statuses=[AvailabilityStatus.APPROVED], source_ids=["1.2.250.1.999.3", "1.2.250.1.999.4"],
        author_person="%LEGRAND%", submission_time=TimeRange(None, DTM("20250401")),
    )


def test_home_community_id_from_the_home_attribute_or_the_parameter():
    by_attribute = read_ok(request(QueryId.GET_DOCUMENTS.value, ("$XDSDocumentEntryEntryUUID", f"'{DOC_UUID}'"),
                                   home="urn:oid:1.2.3"))
    by_param = read_ok(request(QueryId.GET_DOCUMENTS.value, ("$XDSDocumentEntryEntryUUID", f"'{DOC_UUID}'"),
                               ("$homeCommunityId", "'urn:oid:1.2.3'")))
    both = read_ok(request(QueryId.GET_DOCUMENTS.value, ("$XDSDocumentEntryEntryUUID", f"'{DOC_UUID}'"),
                           ("$homeCommunityId", "'urn:oid:1.2.3'"), home="urn:oid:1.2.3"))

    assert by_attribute.home_community_id == by_param.home_community_id == both.home_community_id == "urn:oid:1.2.3"


def test_metadata_level_1_is_accepted_and_ignored():
    assert read_ok(find_documents(("$MetadataLevel", "1"))) == read_ok(find_documents())
    assert read_ok(find_documents(("$MetadataLevel", "'1'"))) == read_ok(find_documents())


def test_an_absent_return_type_reads_as_leaf_class():
    assert read_ok(find_documents(return_type=None)).return_type is ReturnType.LEAF_CLASS


def test_every_model_field_has_a_parameter():
    for spec in QUERIES.values():
        fields = {f.name for f in dataclasses.fields(spec.model)} - {"return_type"}
        covered = {p.field.partition(".")[0] for p in spec.params if p.field is not None}
        assert covered == fields, spec.name
    assert set(QUERIES) == set(QueryId)


# -- errors: one per case, exact code and location ------------------------------------------------------------


def test_unknown_query_id():
    unknown = "urn:uuid:00000000-0000-4000-8000-000000000000"
    result = read_adhoc_query_request(request(unknown))

    assert result.query is None
    assert [(f.code, f.location) for f in result.findings] == [(UNKNOWN_QUERY, unknown)]
    assert unknown in result.findings[0].message


def test_missing_required_parameter():
    root = request(QueryId.FIND_DOCUMENTS.value, ("$XDSDocumentEntryPatientId", f"'{PID}'"))

    assert where(root) == [(MISSING_PARAM, "$XDSDocumentEntryStatus")]


def test_missing_patient_id_and_reference_ids():
    root = request(QueryId.FIND_DOCUMENTS_BY_REFERENCE_ID.value, ("$XDSDocumentEntryStatus", f"('{APPROVED}')"))

    assert where(root) == [(MISSING_PARAM, "$XDSDocumentEntryPatientId"),
                           (MISSING_PARAM, "$XDSDocumentEntryReferenceIdList")]


def test_neither_of_an_exactly_one_pair():
    result = read_adhoc_query_request(request(QueryId.GET_DOCUMENTS.value))

    assert [(f.code, f.location) for f in result.findings] == [(MISSING_PARAM, "$XDSDocumentEntryEntryUUID")]
    assert "$XDSDocumentEntryUniqueId" in result.findings[0].message


def test_both_of_an_exactly_one_pair():
    root = request(QueryId.GET_FOLDERS.value, ("$XDSFolderEntryUUID", f"'{DOC_UUID}'"),
                   ("$XDSFolderUniqueId", "'1.2.3'"))

    assert where(root) == [(PARAM_NUMBER, "$XDSFolderEntryUUID")]


def test_a_parameter_in_two_slots_when_not_and_or():
    root = find_documents(("$XDSDocumentEntryClassCode", "('a^^s')"), ("$XDSDocumentEntryClassCode", "('b^^s')"))

    assert where(root) == [(PARAM_NUMBER, "$XDSDocumentEntryClassCode")]


def test_a_single_valued_parameter_given_a_list():
    root = request(QueryId.FIND_DOCUMENTS.value, ("$XDSDocumentEntryPatientId", f"('{PID}', '{PID}')"),
                   ("$XDSDocumentEntryStatus", f"('{APPROVED}')"))

    assert where(root) == [(PARAM_NUMBER, "$XDSDocumentEntryPatientId")]


def test_a_single_valued_parameter_given_two_value_elements():
    root = find_documents(("$XDSDocumentEntryCreationTimeFrom", ["2004", "2005"]))

    assert where(root) == [(PARAM_NUMBER, "$XDSDocumentEntryCreationTimeFrom")]


def test_a_single_document_query_given_several_uuids():
    root = request(QueryId.GET_FOLDERS_FOR_DOCUMENT.value,
                   ("$XDSDocumentEntryEntryUUID", f"('{DOC_UUID}', '{DOC_UUID_2}')"))

    assert where(root) == [(PARAM_NUMBER, "$XDSDocumentEntryEntryUUID")]
    assert read_ok(request(QueryId.GET_FOLDERS_FOR_DOCUMENT.value, ("$XDSDocumentEntryEntryUUID", f"('{DOC_UUID}')"))) \
        == GetFoldersForDocument(document=ObjectIds(uuids=(DOC_UUID,)))


@pytest.mark.parametrize(
    "name, value",
    [
        ("$XDSDocumentEntryClassCode", "('a^^s'"),  # list not closed
        ("$XDSDocumentEntryClassCode", "('a^^s)"),  # quote not closed
        ("$XDSDocumentEntryClassCode", "(a^^s)"),  # not quoted
        ("$XDSDocumentEntryClassCode", "()"),  # empty list
        ("$XDSDocumentEntryClassCode", "('a^^s') x"),  # trailing text
        ("$XDSDocumentEntryClassCode", ""),  # empty Value
        ("$XDSDocumentEntryClassCode", "('a')"),  # code without scheme
        ("$XDSDocumentEntryClassCode", "('a^^')"),  # empty scheme
        ("$XDSDocumentEntryClassCode", "('^^s')"),  # empty code
        ("$XDSDocumentEntryClassCode", "('a^^^s')"),  # a CX-like fourth component
        ("$XDSDocumentEntryCreationTimeFrom", "20041325"),  # month 13
        ("$XDSDocumentEntryCreationTimeFrom", "2004122"),  # odd length
        ("$XDSDocumentEntryCreationTimeFrom", "2004-12-25"),
        ("$XDSDocumentEntryCreationTimeTo", "'20041225+0100'"),
        ("$XDSDocumentEntryType", "('urn:uuid:7edca82f-054d-47f2-a032-000000000000')"),
        ("$XDSDocumentEntryAuthorPerson", "('')"),
        ("$MetadataLevel", "2"),
        ("$homeCommunityId", "'1.2.3'"),  # not a urn:oid:
    ],
)
def test_malformed_value(name, value):
    result = read_adhoc_query_request(find_documents((name, value)))

    assert [(f.code, f.location) for f in result.findings] == [(REGISTRY_ERROR, name)]
    assert name in result.findings[0].message and repr(value) in result.findings[0].message
    assert result.query is None


@pytest.mark.parametrize(
    "query_id, name, value",
    [
        (QueryId.FIND_DOCUMENTS, "$XDSDocumentEntryStatus", "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approve')"),
        (QueryId.FIND_DOCUMENTS, "$XDSDocumentEntryStatus", "('Approved')"),
        (QueryId.FIND_DOCUMENTS, "$XDSDocumentEntryPatientId", "'282079912345678'"),  # no assigning authority
        (QueryId.FIND_DOCUMENTS, "$XDSDocumentEntryPatientId", f"{PID}"),  # unquoted
        (QueryId.GET_DOCUMENTS, "$XDSDocumentEntryEntryUUID", "('DocCR')"),
        (QueryId.GET_RELATED_DOCUMENTS, "$AssociationTypes", "('urn:ihe:iti:2007:AssociationType:RPLCX')"),
    ],
)
def test_malformed_value_of_a_required_parameter(query_id, name, value):
    """The malformed value is reported, and the parameter is not also reported as missing."""
    others = {
        QueryId.FIND_DOCUMENTS: dict(FIND_DOCUMENTS_BASE),
        QueryId.GET_DOCUMENTS: {},
        QueryId.GET_RELATED_DOCUMENTS: {"$XDSDocumentEntryEntryUUID": f"'{DOC_UUID}'"},
    }[query_id]
    slots = {**others, name: value}

    assert where(request(query_id.value, *slots.items())) == [(REGISTRY_ERROR, name)]


def test_unknown_parameter():
    result = read_adhoc_query_request(find_documents(("$XDSDocumentEntryClassCodeScheme", "('1.2.3')")))

    assert [(f.code, f.location) for f in result.findings] == [(REGISTRY_ERROR, "$XDSDocumentEntryClassCodeScheme")]
    assert result.findings[0].message.startswith("unknown parameter $XDSDocumentEntryClassCodeScheme for FindDocuments")


def test_a_parameter_of_another_query_is_unknown():
    root = request(QueryId.GET_DOCUMENTS.value, ("$XDSDocumentEntryEntryUUID", f"'{DOC_UUID}'"),
                   ("$XDSDocumentEntryStatus", f"('{APPROVED}')"))

    assert where(root) == [(REGISTRY_ERROR, "$XDSDocumentEntryStatus")]


@pytest.mark.parametrize("return_type", ["RegistryObject", "LeafClassWithRepositoryItem", "leafclass"])
def test_unsupported_return_type(return_type):
    assert where(find_documents(return_type=return_type)) == [(REGISTRY_ERROR, "returnType")]


def test_not_an_adhoc_query_request():
    root = etree.fromstring(f'<rs:RegistryResponse xmlns:rs="{RS}" status="{ResponseStatus.SUCCESS}"/>')

    assert where(root) == [(REGISTRY_ERROR, "RegistryResponse")]


def test_no_adhoc_query_element():
    root = find_documents()
    root.remove(root.find(rim("AdhocQuery")))

    assert where(root) == [(REGISTRY_ERROR, "AdhocQuery")]


def test_home_attribute_and_parameter_disagree():
    root = request(QueryId.GET_DOCUMENTS.value, ("$XDSDocumentEntryEntryUUID", f"'{DOC_UUID}'"),
                   ("$homeCommunityId", "'urn:oid:1.2.4'"), home="urn:oid:1.2.3")

    assert where(root) == [(REGISTRY_ERROR, "$homeCommunityId")]


def test_home_attribute_not_a_urn_oid():
    root = request(QueryId.GET_DOCUMENTS.value, ("$XDSDocumentEntryEntryUUID", f"'{DOC_UUID}'"), home="1.2.3")

    assert where(root) == [(REGISTRY_ERROR, "home")]


def test_every_problem_is_reported():
    root = request(
        QueryId.FIND_DOCUMENTS.value,
        ("$XDSDocumentEntryPatientId", f"'{PID}'"),
        ("$XDSDocumentEntryCreationTimeFrom", "yesterday"),
        ("$XDSDocumentEntryBogus", "'x'"),
        ("$XDSDocumentEntryClassCode", "('a')"),
    )

    assert where(root) == [
        (REGISTRY_ERROR, "$XDSDocumentEntryCreationTimeFrom"),
        (REGISTRY_ERROR, "$XDSDocumentEntryBogus"),
        (REGISTRY_ERROR, "$XDSDocumentEntryClassCode"),
        (MISSING_PARAM, "$XDSDocumentEntryStatus"),
    ]


# -- patient ids and query ids ---------------------------------------------------------------------------------

PATIENT_ID_PARAMS = [
    (QueryId.FIND_DOCUMENTS, "$XDSDocumentEntryPatientId", "$XDSDocumentEntryStatus"),
    (QueryId.FIND_SUBMISSION_SETS, "$XDSSubmissionSetPatientId", "$XDSSubmissionSetStatus"),
    (QueryId.FIND_FOLDERS, "$XDSFolderPatientId", "$XDSFolderStatus"),
]


@pytest.mark.parametrize("query_id, name, status", PATIENT_ID_PARAMS)
@pytest.mark.parametrize(
    "patient_id",
    [
        "PID^^^&1.2.3&ISO^XX",  # identifier type code (component 5) other than NH / PI
        "PID^^^&1.2.3&ISO^^^x",  # components after the 6th
        "PID^^^&1.2.3",  # no universal id type
        "PID^^^NS",  # a namespace, no OID
        "PID^^^&1.2.3&iso",  # the type is ISO, upper case
        "PID^1^^&1.2.3&ISO",  # check digit (component 2)
        "PID^^^NS&1.2.3&ISO",  # namespace id (component 4.1)
        "PID^^^&not.an.oid&ISO",
        " ^^^&1.2.3&ISO",  # a blank id
    ],
)
def test_a_patient_id_that_is_not_id_oid_iso(query_id, name, status, patient_id):
    """ITI TF-3 §4.2.3.2.18: components 1 and 4 only, the authority &OID&ISO; anything else is refused."""
    result = read_adhoc_query_request(request(query_id.value, (name, f"'{patient_id}'"), (status, f"('{APPROVED}')")))

    assert [(f.code, f.location) for f in result.findings] == [(REGISTRY_ERROR, name)]
    assert "is not a patient id of the form id^^^&OID&ISO" in result.findings[0].message
    assert result.query is None


def test_get_all_patient_id_is_checked_too():
    root = request(QueryId.GET_ALL.value, ("$patientId", "'PID^^^&1.2.3&ISO^XX'"),
                   *((f"${kind}Status", f"('{APPROVED}')") for kind in ("XDSDocumentEntry", "XDSSubmissionSet",
                                                                          "XDSFolder")))

    assert where(root) == [(REGISTRY_ERROR, "$patientId")]


@pytest.mark.parametrize("padded", ["  {}  ", "\n\t{} ", " {}"])
def test_a_query_id_with_surrounding_whitespace(padded):
    root = request(padded.format(QueryId.FIND_DOCUMENTS.value), *FIND_DOCUMENTS_BASE)

    assert read_ok(root) == FindDocuments(patient_id=PID, statuses=[AvailabilityStatus.APPROVED])


def test_a_blank_query_id():
    assert where(request("   ", *FIND_DOCUMENTS_BASE)) == [(REGISTRY_ERROR, "AdhocQuery")]


# -- input bounds ---------------------------------------------------------------------------------------------------


def codes_value(n: int, prefix: str = "c") -> str:
    return "(" + ",".join(f"'{prefix}{i}^^1.2.3'" for i in range(n)) + ")"


def bound_finding(root: etree._Element, name: str) -> str:
    """The message of the one finding ``root`` gives, which must be an XDSRegistryError at ``name``."""
    result = read_adhoc_query_request(root)
    assert [(f.code, f.location) for f in result.findings] == [(REGISTRY_ERROR, name)]
    assert result.query is None
    return result.findings[0].message


def test_the_bounds_and_why():
    assert (MAX_AND_GROUPS, MAX_VALUES, MAX_AUTHOR_PATTERNS, MAX_VALUE_LENGTH) == (10, 1000, 100, 256)
    spec = QUERIES[QueryId.FIND_DOCUMENTS]
    assert spec.param("$XDSDocumentEntryAuthorPerson").max_values == MAX_AUTHOR_PATTERNS
    assert {p.max_groups for p in spec.params} == {MAX_AND_GROUPS}
    assert all(p.max_values == MAX_VALUES for p in spec.params if p.name != "$XDSDocumentEntryAuthorPerson")


AND_OR_PARAMS = [
    (QueryId.FIND_DOCUMENTS, "$XDSDocumentEntryEventCodeList"),
    (QueryId.FIND_DOCUMENTS, "$XDSDocumentEntryConfidentialityCode"),
    (QueryId.FIND_FOLDERS, "$XDSFolderCodeList"),
    (QueryId.GET_ALL, "$XDSDocumentEntryConfidentialityCode"),
]
REQUIRED = {
    QueryId.FIND_DOCUMENTS: FIND_DOCUMENTS_BASE,
    QueryId.FIND_FOLDERS: (("$XDSFolderPatientId", f"'{PID}'"), ("$XDSFolderStatus", f"('{APPROVED}')")),
    QueryId.GET_ALL: (("$patientId", f"'{PID}'"),
                      *((f"${kind}Status", f"('{APPROVED}')") for kind in ("XDSDocumentEntry", "XDSSubmissionSet",
                                                                           "XDSFolder"))),
}


@pytest.mark.parametrize("query_id, name", AND_OR_PARAMS)
def test_at_most_10_and_groups(query_id, name):
    groups = lambda n: [(name, codes_value(1, f"g{i}-")) for i in range(n)]  # noqa: E731

    assert read_ok(request(query_id.value, *REQUIRED[query_id], *groups(MAX_AND_GROUPS)))
    message = bound_finding(request(query_id.value, *REQUIRED[query_id], *groups(MAX_AND_GROUPS + 1)), name)
    assert "11 Slots" in message and "at most 10 Slots (AND groups)" in message


def test_300_event_code_slots_give_one_finding_and_are_not_read():
    """The 15 KB request that kept PostgreSQL planning for 90 s; its values (malformed here) are not even read."""
    name = "$XDSDocumentEntryEventCodeList"
    message = bound_finding(find_documents(*[(name, "('no scheme')")] * 300), name)

    assert "300 Slots" in message and "at most 10" in message


@pytest.mark.parametrize(
    "query_id, name, value",
    [
        (QueryId.FIND_DOCUMENTS, "$XDSDocumentEntryClassCode", lambda i: f"'c{i}^^1.2.3'"),
        (QueryId.FIND_DOCUMENTS, "$XDSDocumentEntryFormatCode", lambda i: f"'f{i}^^1.2.3'"),
        (QueryId.FIND_DOCUMENTS_BY_REFERENCE_ID, "$XDSDocumentEntryReferenceIdList", lambda i: f"'r{i}^^^&1.2&ISO'"),
        (QueryId.FIND_SUBMISSION_SETS, "$XDSSubmissionSetSourceId", lambda i: f"'1.2.{i}'"),
        (QueryId.GET_DOCUMENTS, "$XDSDocumentEntryEntryUUID", lambda i: f"'urn:uuid:00000000-0000-4000-8000-{i:012d}'"),
        (QueryId.GET_DOCUMENTS, "$XDSDocumentEntryUniqueId", lambda i: f"'1.2.250.{i}'"),
        (QueryId.GET_FOLDERS, "$XDSFolderUniqueId", lambda i: f"'1.2.250.{i}'"),
        (QueryId.GET_ASSOCIATIONS, "$uuid", lambda i: f"'urn:uuid:00000000-0000-4000-8000-{i:012d}'"),
        (QueryId.GET_SUBMISSION_SETS, "$uuid", lambda i: f"'urn:uuid:00000000-0000-4000-8000-{i:012d}'"),
    ],
)
def test_at_most_1000_values_in_one_parameter(query_id, name, value):
    required = {
        QueryId.FIND_DOCUMENTS: FIND_DOCUMENTS_BASE,
        QueryId.FIND_DOCUMENTS_BY_REFERENCE_ID: FIND_DOCUMENTS_BASE,
        QueryId.FIND_SUBMISSION_SETS: (("$XDSSubmissionSetPatientId", f"'{PID}'"),
                                       ("$XDSSubmissionSetStatus", f"('{APPROVED}')")),
    }.get(query_id, ())
    values = lambda n: "(" + ",".join(value(i) for i in range(n)) + ")"  # noqa: E731

    assert read_ok(request(query_id.value, *required, (name, values(MAX_VALUES))))
    message = bound_finding(request(query_id.value, *required, (name, values(MAX_VALUES + 1))), name)
    assert "more than 1000 values" in message


def test_the_1000_values_are_counted_over_every_value_element_and_slot():
    name = "$XDSDocumentEntryEventCodeList"

    def ten_slots(per: int) -> list[tuple[str, list[str]]]:
        """Ten Slots of ``per`` values each, spread over two Value elements."""
        return [(name, [codes_value(per // 2, f"s{i}a"), codes_value(per - per // 2, f"s{i}b")])
                for i in range(MAX_AND_GROUPS)]

    assert sum(map(len, read_ok(find_documents(*ten_slots(100))).event_codes)) == 1000
    assert "more than 1000 values" in bound_finding(find_documents(*ten_slots(101)), name)


def test_70000_reference_ids_give_one_finding():
    """More than psycopg's 65 535 bound parameters; reading stops at the bound."""
    name = "$XDSDocumentEntryReferenceIdList"
    root = request(QueryId.FIND_DOCUMENTS_BY_REFERENCE_ID.value, *FIND_DOCUMENTS_BASE,
                   (name, "(" + ",".join(f"'r{i}'" for i in range(70_000)) + ")"))

    assert "more than 1000 values" in bound_finding(root, name)


def test_1100_class_codes_give_one_finding():
    """The request that broke SQLite's expression depth."""
    name = "$XDSDocumentEntryClassCode"

    assert "more than 1000 values" in bound_finding(find_documents((name, codes_value(1100))), name)


def test_at_most_100_author_patterns():
    name = "$XDSDocumentEntryAuthorPerson"
    patterns = lambda n: "(" + ",".join(f"'%A{i}%'" for i in range(n)) + ")"  # noqa: E731

    assert len(read_ok(find_documents((name, patterns(MAX_AUTHOR_PATTERNS)))).author_persons) == 100
    assert "more than 100 values" in bound_finding(find_documents((name, patterns(MAX_AUTHOR_PATTERNS + 1))), name)


@pytest.mark.parametrize(
    "query_id, name, value",
    [
        (QueryId.FIND_DOCUMENTS, "$XDSDocumentEntryAuthorPerson", lambda n: "%" * n),
        (QueryId.FIND_SUBMISSION_SETS, "$XDSSubmissionSetAuthorPerson", lambda n: "A" * n),
        (QueryId.FIND_SUBMISSION_SETS, "$XDSSubmissionSetSourceId", lambda n: "1" * n),
        (QueryId.FIND_DOCUMENTS_BY_REFERENCE_ID, "$XDSDocumentEntryReferenceIdList", lambda n: "r" * n),
        (QueryId.GET_DOCUMENTS, "$XDSDocumentEntryUniqueId", lambda n: "1.2." + "3" * (n - 4)),
        (QueryId.FIND_DOCUMENTS, "$XDSDocumentEntryPatientId", lambda n: "P" * (n - 13) + "^^^&1.2.3&ISO"),
    ],
)
def test_at_most_256_characters_in_one_value(query_id, name, value):
    others = {
        QueryId.FIND_DOCUMENTS: dict(FIND_DOCUMENTS_BASE),
        QueryId.FIND_DOCUMENTS_BY_REFERENCE_ID: dict(FIND_DOCUMENTS_BASE),
        QueryId.FIND_SUBMISSION_SETS: {"$XDSSubmissionSetPatientId": f"'{PID}'",
                                       "$XDSSubmissionSetStatus": f"('{APPROVED}')"},
        QueryId.GET_DOCUMENTS: {},
    }[query_id]
    given = lambda n: request(query_id.value, *{**others, name: f"('{value(n)}')"}.items())  # noqa: E731

    assert read_ok(given(MAX_VALUE_LENGTH))
    message = bound_finding(given(MAX_VALUE_LENGTH + 1), name)
    assert "a value of 257 characters is longer than the 256" in message


def test_a_60000_character_author_pattern():
    """The pattern that broke SQLite's LIKE; the message shows only its beginning."""
    name = "$XDSDocumentEntryAuthorPerson"
    message = bound_finding(find_documents((name, "'%" + "x" * 59_999 + "'")), name)

    assert "a value of 60000 characters is longer than the 256" in message
    assert len(message) < 600


@pytest.mark.parametrize("code, scheme, ok", [
    ("c" * 256, "s" * 256, True),  # code and scheme are two stored values, each a LongName
    ("c" * 257, "1.2.3", False),
    ("c", "s" * 257, False),
])
def test_code_and_scheme_are_each_at_most_256_characters(code, scheme, ok):
    name = "$XDSDocumentEntryClassCode"
    root = find_documents((name, f"('{code}^^{scheme}')"))

    if ok:
        assert read_ok(root).class_codes == [Code(code, scheme)]
    else:
        message = bound_finding(root, name)
        assert "of 257 characters, more than the 256" in message


def test_a_coded_value_text_is_bounded_too():
    name = "$XDSDocumentEntryClassCode"
    message = bound_finding(find_documents((name, f"('c^{'d' * 60_000}^1.2.3')")), name)

    assert f"longer than the {MAX_CODE_TEXT_LENGTH}" in message


# -- the hand-written request ---------------------------------------------------------------------------------------


def test_the_corpus_find_documents_request_field_by_field():
    root = etree.parse(str(CORPUS / "find-documents.xml")).getroot()
    query = read_ok(root)

    assert type(query) is FindDocuments
    assert query.return_type is ReturnType.LEAF_CLASS and query.home_community_id is None
    assert query.patient_id == "282079912345639^^^&1.2.250.1.213.1.4.10&ISO^NH"
    assert CX.parse(query.patient_id).key() == "282079912345639^^^&1.2.250.1.213.1.4.10&ISO"
    assert query.statuses == [AvailabilityStatus.APPROVED, AvailabilityStatus.DEPRECATED]
    assert query.class_codes == [Code("11", "1.2.250.1.213.1.1.4.1"), Code("10", "1.2.250.1.213.1.1.4.1"),
                                 Code("13", "1.2.250.1.213.1.1.4.1")]
    assert query.type_codes == [Code("11488-4", "2.16.840.1.113883.6.1")]
    assert query.practice_setting_codes == [Code("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9")]
    assert query.healthcare_facility_type_codes == [Code("SA01", "1.2.250.1.71.4.2.4"),
                                                    Code("SA07", "1.2.250.1.71.4.2.4")]
    assert query.creation_time == TimeRange(DTM("20250101"), DTM("202504011200"))
    assert query.service_start_time == TimeRange(DTM("2025"), None)
    assert query.service_stop_time == TimeRange()
    assert query.event_codes == [
        [Code("CARDIO", "1.2.250.1.213.1.1.5.618"), Code("PNEUMO", "1.2.250.1.213.1.1.5.618")],
        [Code("ZBX", "1.2.250.1.213.1.1.5.695")],
    ]
    assert query.confidentiality_codes == [[Code("N", "2.16.840.1.113883.5.25")]]
    assert query.author_persons == ["%^LEGRAND^Claire%", "%^D'ARTAGNAN^%"]
    assert query.format_codes == [Code("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3")]
    assert query.object_types == [ObjectType.STABLE_DOCUMENT_ENTRY, ObjectType.ON_DEMAND_DOCUMENT_ENTRY]


def test_the_corpus_request_is_valid_and_survives_a_rewrite():
    root = etree.parse(str(CORPUS / "find-documents.xml")).getroot()
    query = read_ok(root)
    rewritten = adhoc_query_request(query)

    assert_valid(root)
    assert_valid(rewritten)
    assert read_ok(etree.fromstring(etree.tostring(rewritten))) == query


# -- responses ------------------------------------------------------------------------------------------------------

PATIENT = CX.of("282079912345678", "1.2.250.1.213.1.4.10")
HOME = "urn:oid:1.2.3"


def some_objects() -> list:
    doc = DocumentEntry(
        entry_uuid=DOC_UUID, availability_status=AvailabilityStatus.APPROVED, unique_id="1.2.250.1.999.1.1",
        patient_id=PATIENT, class_code=Code("11", "1.2.250.1.213.1.1.4.1"), creation_time=DTM("20250312143000"),
        mime_type="text/xml", confidentiality_codes=[Code("N", "2.16.840.1.113883.5.25")],
    )
    ss = SubmissionSet(entry_uuid="urn:uuid:1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", unique_id="1.2.250.1.999.1.2",
                       patient_id=PATIENT, submission_time=DTM("20250312150000"), source_id="1.2.250.1.999.3",
                       availability_status=AvailabilityStatus.APPROVED)
    folder = Folder(entry_uuid="urn:uuid:2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a", unique_id="1.2.250.1.999.1.3",
                    patient_id=PATIENT, codes=[Code("f", "1.2.3")], home_community_id="urn:oid:1.2.9")
    assoc = Association(entry_uuid="urn:uuid:3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b",
                        type=AssociationType.HAS_MEMBER.value, source=ss.entry_uuid, target=doc.entry_uuid)
    return [doc, ss, folder, assoc]


def children(element: etree._Element) -> list[str]:
    return [etree.QName(c).localname for c in element]


def test_leaf_class_response():
    objects = some_objects()
    response = adhoc_query_response(objects, ReturnType.LEAF_CLASS, [])

    assert etree.QName(response).text == f"{{{QUERY}}}AdhocQueryResponse"
    assert response.get("status") == ResponseStatus.SUCCESS
    assert children(response) == ["RegistryObjectList"]
    [object_list] = response
    assert children(object_list) == ["ExtrinsicObject", "RegistryPackage", "RegistryPackage", "Association"]
    assert [el.get("id") for el in object_list] == [o.entry_uuid for o in objects]
    assert object_list[0].find(rim("Classification")) is not None  # full objects, not references
    assert_valid(response)


def test_leaf_class_objects_carry_only_their_own_home():
    response = adhoc_query_response(some_objects(), ReturnType.LEAF_CLASS, [])

    assert [el.get("home") for el in response[0]] == [None, None, "urn:oid:1.2.9", None]  # only the folder has one
    assert_valid(response)


def test_object_ref_response():
    objects = some_objects()
    response = adhoc_query_response(objects, ReturnType.OBJECT_REF, [])

    assert children(response[0]) == ["ObjectRef"] * 4
    assert [(el.get("id"), el.get("home")) for el in response[0]] == [
        (o.entry_uuid, o.home_community_id) for o in objects
    ]
    assert [el.get("home") for el in response[0]] == [None, None, "urn:oid:1.2.9", None]
    assert all(len(el) == 0 for el in response[0])
    assert_valid(response)


def test_the_consumer_home_community_id_is_not_copied_onto_the_objects():
    """A registry does not label its objects with the unverified homeCommunityId the client sent."""
    with pytest.raises(TypeError):
        adhoc_query_response(some_objects(), ReturnType.LEAF_CLASS, [], home_community_id=HOME)  # type: ignore
    assert "home_community_id" not in inspect.signature(adhoc_query_response).parameters


def test_failure_response():
    findings = [error("XDSStoredQueryMissingParam", "FindDocuments requires $XDSDocumentEntryStatus",
                      "$XDSDocumentEntryStatus")]
    response = adhoc_query_response([], ReturnType.LEAF_CLASS, findings)

    assert response.get("status") == ResponseStatus.FAILURE
    assert children(response) == ["RegistryErrorList", "RegistryObjectList"]
    [err] = response[0]
    assert (err.get("errorCode"), err.get("location")) == ("XDSStoredQueryMissingParam", "$XDSDocumentEntryStatus")
    assert len(response[1]) == 0
    assert_valid(response)


def test_partial_success_response():
    findings = [error("XDSRegistryError", "community 1.2.4 did not answer", "urn:oid:1.2.4")]
    response = adhoc_query_response(some_objects()[:1], ReturnType.OBJECT_REF, findings)

    assert response.get("status") == "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
    assert children(response) == ["RegistryErrorList", "RegistryObjectList"]
    assert_valid(response)


def test_warnings_only_is_success():
    findings = [warning("XDSTooManyResults", "only the first 100 are returned")]
    response = adhoc_query_response(some_objects(), ReturnType.LEAF_CLASS, findings)

    assert response.get("status") == ResponseStatus.SUCCESS
    assert response[0].get("highestSeverity") == Severity.WARNING.value
    assert_valid(response)


def test_the_schema_is_there_to_check_query_messages():
    """Says, by skipping, when the tests above could not check query.xsd."""
    if query_schema() is None:
        pytest.skip(NO_SCHEMA)
    assert_valid(find_documents())


@pytest.mark.parametrize("patient_id", ["279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH", "IPP-1^^^&1.2.3&ISO^PI"])
def test_an_ins_or_local_id_with_its_identifier_type_code_is_accepted(patient_id):
    """The CI-SIS sends INS as …^NH; patients are matched by id and authority (CX.key)."""
    query = read_ok(request(QueryId.FIND_DOCUMENTS.value, ("$XDSDocumentEntryPatientId", f"'{patient_id}'"),
                            ("$XDSDocumentEntryStatus", f"('{APPROVED}')")))

    assert query.patient_id == patient_id
