"""ITI-18 Registry Stored Query over real HTTP, on SQLite and PostgreSQL (ITI TF-2 §3.18).

The registry is filled through ITI-42 itself, with metadata chosen so that
every query has something to find and something to leave out:

patient P1
  submission A: Doc1 (REPORTS, events E1+E2, N, 2024-02-15 09:30, DUPONT), Doc2 (IMAGES,
                event E1, N+R, 2024-02), Folder F1 ∋ Doc1
  submission B: Doc3 replaces Doc1 (Doc1 becomes Deprecated; Doc3 joins F1)
patient P2
  submission C: Doc4
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from lxml import etree

from gateway.ebxml import read_registry_object_list
from gateway.ebxml.adhoc_query import adhoc_query_request
from gateway.config import Profile, Settings
from gateway.metadata import DTM, XCN, AssociationType, AvailabilityStatus, Code, Submission, SubmissionSetStatus
from gateway.metadata.query import (
    FindDocuments,
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
from gateway.validation import PatientPolicy

from .. import factories as f
from ..support.server import RunningGateway, empty, start_server
from ..support.soap_client import acting_for, post
from .xds import by_unique_id, register

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ITI18_RESPONSE = "urn:ihe:iti:2007:RegistryStoredQueryResponse"
QUERY_NS = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
RIM_NS = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
APPROVED = [AvailabilityStatus.APPROVED]
BOTH = [AvailabilityStatus.APPROVED, AvailabilityStatus.DEPRECATED]

P1, P2 = f.PATIENT, f.OTHER_PATIENT
REPORTS = Code("REPORTS", "1.3.6.1.4.1.19376.1.2.6.1")
IMAGES = Code("IMAGES", "1.3.6.1.4.1.19376.1.2.6.1")
E1, E2 = Code("E1", "1.2.250.1.999.8"), Code("E2", "1.2.250.1.999.8")
N, R = Code("N", "2.16.840.1.113883.5.25"), Code("R", "2.16.840.1.113883.5.25")


@dataclass
class Registry:
    """What the fixture registered: entryUUIDs by the names used in the module docstring."""

    ids: dict[str, str]

    def __getitem__(self, name: str) -> str:
        return self.ids[name]


def _uuid(gateway, unique_id: str) -> str:
    [obj] = by_unique_id(gateway, unique_id)
    return obj.entry_uuid


@pytest.fixture
def registry(gateway) -> Registry:
    a = f.valid_submission(
        doc1={"class_code": REPORTS, "event_codes": [E1, E2], "confidentiality_codes": [N],
              "creation_time": DTM("20240215093000")},
        doc2={"class_code": IMAGES, "event_codes": [E1], "confidentiality_codes": [N, R],
              "creation_time": DTM("202402"),
              "authors": [f.author(person=XCN(id="899", family_name="MARTIN", given_name="Ana"))]},
    )
    assert register(gateway, a).status == "Success"
    doc1 = _uuid(gateway, "1.2.250.1.999.1.1")
    b = Submission(
        submission_sets=[f.submission_set(unique_id="1.2.250.1.999.3.2")],
        documents=[f.document_entry("Doc3", 3, unique_id="1.2.250.1.999.1.3", class_code=REPORTS,
                                    event_codes=[E2], creation_time=DTM("20250101"))],
        associations=[
            f.has_member("b1", f.SS_ID, "Doc3", SubmissionSetStatus.ORIGINAL),
            f.association("b2", "Doc3", doc1, AssociationType.REPLACE),
        ],
    )
    assert register(gateway, b).status == "Success"
    c = Submission(
        submission_sets=[f.submission_set(unique_id="1.2.250.1.999.3.3", patient_id=P2)],
        documents=[f.document_entry("Doc4", 4, unique_id="1.2.250.1.999.1.4", patient_id=P2)],
        associations=[f.has_member("c1", f.SS_ID, "Doc4", SubmissionSetStatus.ORIGINAL)],
    )
    assert register(gateway, c).status == "Success"
    names = {"Doc1": "1.2.250.1.999.1.1", "Doc2": "1.2.250.1.999.1.2", "Doc3": "1.2.250.1.999.1.3",
             "Doc4": "1.2.250.1.999.1.4", "SSA": "1.2.250.1.999.3.1", "SSB": "1.2.250.1.999.3.2",
             "SSC": "1.2.250.1.999.3.3", "F1": "1.2.250.1.999.5.1"}
    return Registry({name: _uuid(gateway, uid) for name, uid in names.items()})


def query(gateway, q):
    response = post(gateway.registry_url, ITI18, adhoc_query_request(q))
    assert response.http_status == 200
    assert response.action == ITI18_RESPONSE
    return response


def ids(response) -> set[str]:
    object_list = response.payload.find(f"{{{RIM_NS}}}RegistryObjectList")
    return {el.get("id") for el in object_list} if object_list is not None else set()


def objects(response):
    result = read_registry_object_list(response.payload.find(f"{{{RIM_NS}}}RegistryObjectList"))
    assert result.findings == []
    return result.submission


def named(registry: Registry, *names: str) -> set[str]:
    return {registry[n] for n in names}


# -- Find queries ----------------------------------------------------------------------------

def test_find_documents_by_patient_and_status(gateway, registry):
    approved = query(gateway, FindDocuments(patient_id=P1.format(), statuses=APPROVED))
    both = query(gateway, FindDocuments(patient_id=P1.format(), statuses=BOTH))

    assert approved.status == "Success"
    assert ids(approved) == named(registry, "Doc2", "Doc3")
    assert ids(both) == named(registry, "Doc1", "Doc2", "Doc3")


def test_leaf_class_gives_back_every_registered_attribute(gateway, registry):
    response = query(gateway, FindDocuments(patient_id=P1.format(), statuses=APPROVED))

    [doc2] = [d for d in objects(response).documents if d.entry_uuid == registry["Doc2"]]
    sent = f.document_entry(f.DOC2_ID, 2)
    assert doc2.unique_id == "1.2.250.1.999.1.2"
    assert (doc2.class_code, doc2.event_codes, doc2.confidentiality_codes) == (IMAGES, [E1], [N, R])
    assert doc2.creation_time == DTM("202402")
    assert doc2.source_patient_info == sent.source_patient_info
    assert doc2.legal_authenticator == sent.legal_authenticator
    assert doc2.hash == sent.hash and doc2.size == sent.size
    assert doc2.availability_status is AvailabilityStatus.APPROVED
    assert doc2.logical_id == registry["Doc2"] and doc2.version == "1"


def test_object_ref_lists_ids_only(gateway, registry):
    response = query(gateway, FindDocuments(patient_id=P1.format(), statuses=APPROVED,
                                            return_type=ReturnType.OBJECT_REF))

    object_list = response.payload.find(f"{{{RIM_NS}}}RegistryObjectList")
    assert {etree.QName(el).localname for el in object_list} == {"ObjectRef"}
    assert ids(response) == named(registry, "Doc2", "Doc3")


@pytest.mark.parametrize("filters, expected", [
    ({"class_codes": [REPORTS]}, {"Doc3"}),
    ({"class_codes": [REPORTS, IMAGES]}, {"Doc2", "Doc3"}),
    ({"event_codes": [[E1, E2]]}, {"Doc2", "Doc3"}),          # one Slot: E1 OR E2
    ({"event_codes": [[E1], [E2]]}, set()),                    # two Slots: E1 AND E2 (only Doc1, deprecated)
    ({"confidentiality_codes": [[N], [R]]}, {"Doc2"}),
    ({"creation_time": TimeRange(DTM("2024"), DTM("2025"))}, {"Doc2"}),
    ({"creation_time": TimeRange(DTM("20250101"), None)}, {"Doc3"}),   # From is inclusive
    ({"creation_time": TimeRange(None, DTM("20250101"))}, {"Doc2"}),   # To is exclusive
    ({"author_persons": ["%^MARTIN^%"]}, {"Doc2"}),
    ({"author_persons": ["%^martin^%"]}, set()),               # LIKE is case-sensitive
], ids=["class", "class OR", "events OR", "events AND", "confidentiality AND", "created in 2024",
        "From inclusive", "To exclusive", "author wildcard", "author case"])
def test_find_documents_filters(gateway, registry, filters, expected):
    response = query(gateway, FindDocuments(patient_id=P1.format(), statuses=APPROVED, **filters))

    assert response.status == "Success"
    assert ids(response) == named(registry, *expected)


def test_find_documents_with_deprecated_matches_the_and_of_events(gateway, registry):
    response = query(gateway, FindDocuments(patient_id=P1.format(), statuses=BOTH, event_codes=[[E1], [E2]]))

    assert ids(response) == named(registry, "Doc1")


def test_find_submission_sets_and_folders(gateway, registry):
    sets = query(gateway, FindSubmissionSets(patient_id=P1.format(), statuses=APPROVED))
    folders = query(gateway, FindFolders(patient_id=P1.format(), statuses=APPROVED))
    other = query(gateway, FindSubmissionSets(patient_id=P2.format(), statuses=APPROVED))

    assert ids(sets) == named(registry, "SSA", "SSB")
    assert ids(folders) == named(registry, "F1")
    assert ids(other) == named(registry, "SSC")


def test_get_all_returns_the_patients_objects_and_their_associations(gateway, registry):
    response = query(gateway, GetAll(patient_id=P1.format(), document_statuses=BOTH,
                                     submission_set_statuses=APPROVED, folder_statuses=APPROVED))

    found = objects(response)
    assert {d.entry_uuid for d in found.documents} == named(registry, "Doc1", "Doc2", "Doc3")
    assert {s.entry_uuid for s in found.submission_sets} == named(registry, "SSA", "SSB")
    assert {x.entry_uuid for x in found.folders} == named(registry, "F1")
    returned = {o.entry_uuid for o in found.objects()}
    # Every association with a returned object at either end (the NIST toolkit's reading).
    assert all(a.source in returned or a.target in returned for a in found.associations)
    assert len(found.associations) == 9  # 5 of submission A, 4 of B (with Doc3's RPLC)
    [rplc] = [a for a in found.associations if a.type == AssociationType.REPLACE.value]
    assert (rplc.source, rplc.target) == (registry["Doc3"], registry["Doc1"])


# -- Get queries -----------------------------------------------------------------------------

def test_get_documents_by_uuid_or_unique_id_any_status(gateway, registry):
    by_uuid = query(gateway, GetDocuments(documents=ObjectIds(uuids=(registry["Doc1"], registry["Doc3"]))))
    by_uid = query(gateway, GetDocuments(documents=ObjectIds(unique_ids=("1.2.250.1.999.1.1",))))
    unknown = query(gateway, GetDocuments(documents=ObjectIds(uuids=("urn:uuid:00000000-0000-4000-8000-000000000000",))))

    assert ids(by_uuid) == named(registry, "Doc1", "Doc3")
    assert ids(by_uid) == named(registry, "Doc1")
    assert unknown.status == "Success" and ids(unknown) == set()


def test_a_get_query_answers_only_the_objects_of_the_vihf_patient(gateway, registry):
    """A VIHF opens one patient's dossier: naming another patient's objects by id finds nothing of them,
    in full metadata or as references (the not-single-patient refusal is for callers without a VIHF,
    tests/registry/test_stored_queries.py)."""
    both = ObjectIds(uuids=(registry["Doc1"], registry["Doc4"]))

    leaf = query(gateway, GetDocuments(documents=both))
    refs = query(gateway, GetDocuments(documents=both, return_type=ReturnType.OBJECT_REF))
    with acting_for(f.OTHER_PATIENT):
        other = query(gateway, GetDocuments(documents=both))

    assert (leaf.status, ids(leaf)) == ("Success", named(registry, "Doc1"))
    assert (refs.status, ids(refs)) == ("Success", named(registry, "Doc1"))
    assert (other.status, ids(other)) == ("Success", named(registry, "Doc4"))


def test_get_folders_and_folders_for_document(gateway, registry):
    folders = query(gateway, GetFolders(folders=ObjectIds(unique_ids=("1.2.250.1.999.5.1",))))
    for_doc3 = query(gateway, GetFoldersForDocument(document=ObjectIds(uuids=(registry["Doc3"],))))
    for_doc2 = query(gateway, GetFoldersForDocument(document=ObjectIds(uuids=(registry["Doc2"],))))

    assert ids(folders) == named(registry, "F1")
    assert ids(for_doc3) == named(registry, "F1")
    assert ids(for_doc2) == set()


def test_get_associations_and_documents_and_associations(gateway, registry):
    assocs = objects(query(gateway, GetAssociations(uuids=[registry["Doc3"]]))).associations
    both = objects(query(gateway, GetDocumentsAndAssociations(documents=ObjectIds(uuids=(registry["Doc3"],)))))

    ends = {(a.type.rsplit(":", 1)[1], a.source, a.target) for a in assocs}
    assert ("RPLC", registry["Doc3"], registry["Doc1"]) in ends
    assert ("HasMember", registry["SSB"], registry["Doc3"]) in ends
    assert ("HasMember", registry["F1"], registry["Doc3"]) in ends
    assert all(registry["Doc3"] in (a.source, a.target) for a in assocs)
    assert [d.entry_uuid for d in both.documents] == [registry["Doc3"]]
    assert {a.entry_uuid for a in both.associations} == {a.entry_uuid for a in assocs}


def test_get_submission_sets_of_a_document(gateway, registry):
    found = objects(query(gateway, GetSubmissionSets(uuids=[registry["Doc2"]])))

    assert [s.entry_uuid for s in found.submission_sets] == [registry["SSA"]]
    assert [(a.source, a.target) for a in found.associations] == [(registry["SSA"], registry["Doc2"])]


def test_get_submission_set_and_contents_with_a_filter(gateway, registry):
    whole = objects(query(gateway, GetSubmissionSetAndContents(submission_set=ObjectIds(uuids=(registry["SSA"],)))))
    only_r = objects(query(gateway, GetSubmissionSetAndContents(
        submission_set=ObjectIds(unique_ids=("1.2.250.1.999.3.1",)), confidentiality_codes=[[R]])))

    assert {d.entry_uuid for d in whole.documents} == named(registry, "Doc1", "Doc2")
    assert {x.entry_uuid for x in whole.folders} == named(registry, "F1")
    assert [s.entry_uuid for s in whole.submission_sets] == [registry["SSA"]]
    assert {d.entry_uuid for d in only_r.documents} == named(registry, "Doc2")
    assert all(a.target != registry["Doc1"] for a in only_r.associations)


def test_get_folder_and_contents(gateway, registry):
    found = objects(query(gateway, GetFolderAndContents(folder=ObjectIds(uuids=(registry["F1"],)))))

    assert {d.entry_uuid for d in found.documents} == named(registry, "Doc1", "Doc3")
    assert {(a.source, a.target) for a in found.associations} == {
        (registry["F1"], registry["Doc1"]), (registry["F1"], registry["Doc3"])}


def test_get_related_documents(gateway, registry):
    related = objects(query(gateway, GetRelatedDocuments(document=ObjectIds(uuids=(registry["Doc1"],)),
                                                         association_types=[AssociationType.REPLACE])))
    unrelated = query(gateway, GetRelatedDocuments(document=ObjectIds(uuids=(registry["Doc2"],)),
                                                   association_types=[AssociationType.REPLACE]))

    assert {d.entry_uuid for d in related.documents} == named(registry, "Doc1", "Doc3")
    assert [(a.source, a.target) for a in related.associations] == [(registry["Doc3"], registry["Doc1"])]
    assert ids(unrelated) == set()


def test_every_response_validates_against_the_ebrs_query_schema(gateway, registry, ebrs_query_schema):
    for q in (FindDocuments(patient_id=P1.format(), statuses=BOTH),
              FindDocuments(patient_id=P1.format(), statuses=BOTH, return_type=ReturnType.OBJECT_REF),
              GetAll(patient_id=P1.format(), document_statuses=BOTH, submission_set_statuses=APPROVED,
                     folder_statuses=APPROVED)):
        payload = query(gateway, q).payload
        assert ebrs_query_schema.validate(payload), ebrs_query_schema.error_log


# -- errors ---------------------------------------------------------------------------------

def raw_query(query_id: str, slots: dict[str, list[str]], return_type: str = "LeafClass") -> etree._Element:
    request = etree.Element(f"{{{QUERY_NS}}}AdhocQueryRequest", nsmap={"query": QUERY_NS, "rim": RIM_NS})
    etree.SubElement(request, f"{{{QUERY_NS}}}ResponseOption", returnType=return_type, returnComposedObjects="true")
    adhoc = etree.SubElement(request, f"{{{RIM_NS}}}AdhocQuery", id=query_id)
    for name, values in slots.items():
        for value in values:  # one Slot per value: lets a test repeat a parameter
            slot = etree.SubElement(adhoc, f"{{{RIM_NS}}}Slot", name=name)
            etree.SubElement(etree.SubElement(slot, f"{{{RIM_NS}}}ValueList"), f"{{{RIM_NS}}}Value").text = value
    return request


FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
PATIENT_PARAM = {"$XDSDocumentEntryPatientId": [f"'{P1.format()}'"]}
STATUS_PARAM = {"$XDSDocumentEntryStatus": ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"]}

ERRORS = {
    "unknown query": ("urn:uuid:00000000-0000-4000-8000-000000000000", {}, "XDSUnknownStoredQuery"),
    "missing patient": (FIND_DOCUMENTS, STATUS_PARAM, "XDSStoredQueryMissingParam"),
    "patient twice": (FIND_DOCUMENTS, {"$XDSDocumentEntryPatientId": [f"'{P1.format()}'"] * 2, **STATUS_PARAM},
                      "XDSStoredQueryParamNumber"),
    "both ids of GetDocuments": ("urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4",
                                 {"$XDSDocumentEntryEntryUUID": ["('urn:uuid:00000000-0000-4000-8000-000000000001')"],
                                  "$XDSDocumentEntryUniqueId": ["('1.2.3')"]}, "XDSStoredQueryParamNumber"),
    "bad time": (FIND_DOCUMENTS, {**PATIENT_PARAM, **STATUS_PARAM, "$XDSDocumentEntryCreationTimeFrom": ["2024-02-15"]},
                 "XDSRegistryError"),
    "bad status": (FIND_DOCUMENTS, {**PATIENT_PARAM, "$XDSDocumentEntryStatus": ["('Approved')"]},
                   "XDSRegistryError"),
}


@pytest.mark.parametrize("query_id, slots, code", ERRORS.values(), ids=ERRORS.keys())
def test_a_bad_query_gets_its_error_code(gateway, registry, query_id, slots, code):
    response = post(gateway.registry_url, ITI18, raw_query(query_id, slots))

    assert response.status == "Failure"
    assert code in response.error_codes
    assert ids(response) == set()


def test_a_bad_parameter_is_named_in_the_error(gateway, registry):
    slots = {**PATIENT_PARAM, **STATUS_PARAM, "$XDSDocumentEntryCreationTimeFrom": ["2024-02-15"]}

    response = post(gateway.registry_url, ITI18, raw_query(FIND_DOCUMENTS, slots))

    [error] = response.errors
    assert error["errorCode"] == "XDSRegistryError"
    assert "$XDSDocumentEntryCreationTimeFrom" in error["codeContext"]


@pytest.fixture
def small_limit(database, tmp_path):
    empty(database)
    settings = Settings(data_dir=tmp_path, patient_policy=PatientPolicy.AUTO, max_results=2, profile=Profile.IHE)
    server = start_server(settings, database)
    yield RunningGateway(server.base_url, database, settings)
    server.stop()


def test_more_results_than_the_limit_is_too_many_results(small_limit):
    assert register(small_limit, f.valid_submission()).status == "Success"

    few = query(small_limit, FindFolders(patient_id=P1.format(), statuses=APPROVED))
    many = query(small_limit, GetAll(patient_id=P1.format(), document_statuses=APPROVED,
                                     submission_set_statuses=APPROVED, folder_statuses=APPROVED))

    assert few.status == "Success" and len(ids(few)) == 1
    assert many.status == "Failure"
    assert many.error_codes == ["XDSTooManyResults"]
    assert ids(many) == set()


def test_a_query_sent_with_the_registration_action_is_not_a_registration(gateway):
    soap_request = raw_query(FIND_DOCUMENTS, {**PATIENT_PARAM, **STATUS_PARAM})

    response = post(gateway.registry_url, "urn:ihe:iti:2007:RegisterDocumentSet-b", soap_request)

    assert response.status == "Failure"
    assert gateway.stored_total() == 0
