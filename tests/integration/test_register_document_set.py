"""ITI-42 Register Document Set-b over real HTTP, on SQLite and PostgreSQL (ITI TF-2 §3.42)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.config import Profile, Settings
from gateway.ebxml import submit_objects_request
from gateway.metadata import (
    CX,
    DTM,
    HD,
    XCN,
    XON,
    XTN,
    AssociationType,
    AvailabilityStatus,
    DocumentEntry,
    Folder,
    Submission,
    SubmissionSetStatus,
)
from gateway.store.dossier_store import DossierStore
from gateway.store.registry_store import RegistryStore
from gateway.validation import PatientPolicy

from .. import factories as f
from ..support.server import RunningGateway, empty, start_server
from ..support.soap_client import post
from .xds import ITI42, ITI42_RESPONSE, associations_of, by_unique_id, by_uuid, register

DOC1_UID = "1.2.250.1.999.1.1"
DOC2_UID = "1.2.250.1.999.1.2"
FOLDER_UID = "1.2.250.1.999.5.1"


def test_a_valid_submission_is_registered_whole(gateway):
    response = register(gateway, f.valid_submission())

    assert response.http_status == 200
    assert response.action == ITI42_RESPONSE
    assert response.status == "Success"
    assert response.errors == []
    assert (gateway.count("submission_sets"), gateway.count("document_entries"), gateway.count("folders"),
            gateway.count("associations"), gateway.count("patients")) == (1, 2, 1, 5, 1)

    [doc1] = by_unique_id(gateway, DOC1_UID)
    assert isinstance(doc1, DocumentEntry)
    assert doc1.entry_uuid.startswith("urn:uuid:")
    assert doc1.logical_id == doc1.entry_uuid and doc1.version == "1"
    assert doc1.availability_status is AvailabilityStatus.APPROVED
    expected = f.document_entry(f.DOC1_ID, 1)
    assert doc1.hash == expected.hash and doc1.size == "1024"
    assert doc1.patient_id == f.PATIENT
    assert doc1.authors == expected.authors
    assert doc1.event_codes == expected.event_codes
    assert doc1.creation_time == DTM("20240215093000")

    [folder] = by_unique_id(gateway, FOLDER_UID)
    assert isinstance(folder, Folder) and folder.last_update_time is not None
    members = associations_of(gateway, folder.entry_uuid, as_target=False)
    assert [(a.type, a.target) for a in members] == [(AssociationType.HAS_MEMBER.value, doc1.entry_uuid)]


def test_the_response_relates_to_the_request_message_id(gateway):
    response = post(gateway.registry_url, ITI42, submit_objects_request(f.valid_submission()),
                    message_id="urn:uuid:11111111-2222-4333-8444-555555555555")

    assert response.relates_to == "urn:uuid:11111111-2222-4333-8444-555555555555"
    assert response.content_type.startswith("application/soap+xml")


def test_an_mtom_request_is_accepted_and_answered_in_mtom(gateway):
    response = register(gateway, f.valid_submission(), mtom=True)

    assert response.status == "Success"
    assert response.content_type.startswith("multipart/related")
    assert gateway.count("document_entries") == 2


def test_the_response_validates_against_the_ebrs_schema(gateway, ebrs_schema):
    ok = register(gateway, f.valid_submission())
    failed = register(gateway, f.valid_submission())

    assert failed.status == "Failure"
    for response in (ok, failed):
        assert ebrs_schema.validate(response.payload), ebrs_schema.error_log


# -- each rule, violated: the exact error code and nothing stored --------------------------------

def _without_doc1_patient():
    sub = f.valid_submission()
    sub.documents[0].patient_id = None
    return sub


def _without_submission_set():
    sub = f.valid_submission()
    sub.submission_sets = []
    sub.associations = [a for a in sub.associations if a.source != f.SS_ID]
    return sub


def _doc2_not_member():
    sub = f.valid_submission()
    sub.associations = [a for a in sub.associations if a.entry_uuid != f.SS_DOC2]
    return sub


def _folder_not_member():
    sub = f.valid_submission()
    sub.associations = [a for a in sub.associations if a.entry_uuid != f.SS_FOLDER]
    return sub


def _dangling_association():
    sub = f.valid_submission()
    sub.associations.append(f.association("Dangling", f.DOC1_ID, "urn:uuid:00000000-0000-4000-8000-00000000dead",
                                          AssociationType.APPEND))
    return sub


RULES = {
    "required attribute missing": (_without_doc1_patient, "XDSRegistryMetadataError", f.DOC1_ID),
    "DTM with a bad precision": (lambda: f.valid_submission(doc1={"creation_time": DTM("2024021")}),
                                 "XDSRegistryMetadataError", f.DOC1_ID),
    "DTM with an impossible date": (lambda: f.valid_submission(doc1={"creation_time": DTM("20240230")}),
                                    "XDSRegistryMetadataError", f.DOC1_ID),
    "sourcePatientId CX without ISO authority": (
        lambda: f.valid_submission(doc1={"source_patient_id": CX("L-77", HD("NS", "", ""))}),
        "XDSRegistryMetadataError", f.DOC1_ID),
    "author XCN with neither id nor name": (
        lambda: f.valid_submission(doc1={"authors": [f.author(person=XCN(given_name="Jean"))]}),
        "XDSRegistryMetadataError", f.DOC1_ID),
    "author institution XON without a name": (
        lambda: f.valid_submission(doc1={"authors": [f.author(institutions=[XON(organization_identifier="1.2.3")])]}),
        "XDSRegistryMetadataError", f.DOC1_ID),
    "author telecom Internet without an address": (
        lambda: f.valid_submission(ss={"authors": [f.author(telecoms=[XTN(equipment_type="Internet")])]}),
        "XDSRegistryMetadataError", f.SS_ID),
    "hash not 40 hex digits": (lambda: f.valid_submission(doc1={"hash": "abc"}), "XDSRegistryMetadataError", f.DOC1_ID),
    "size not an integer": (lambda: f.valid_submission(doc2={"size": "12kB"}), "XDSRegistryMetadataError", f.DOC2_ID),
    "uniqueId OID longer than 64": (
        lambda: f.valid_submission(doc1={"unique_id": "1.2." + "3" * 70}), "XDSRegistryMetadataError", f.DOC1_ID),
    "uniqueId not an OID": (lambda: f.valid_submission(ss={"unique_id": "not-an-oid"}), "XDSRegistryMetadataError", f.SS_ID),
    "no SubmissionSet": (_without_submission_set, "XDSRegistryMetadataError", None),
    "DocumentEntry not a member of the SubmissionSet": (_doc2_not_member, "XDSRegistryMetadataError", f.DOC2_ID),
    "Folder not a member of the SubmissionSet": (_folder_not_member, "XDSRegistryMetadataError", f.FOLDER_ID),
    "one uniqueId twice in the submission": (
        lambda: f.valid_submission(doc2={"unique_id": DOC1_UID}), "XDSRegistryDuplicateUniqueIdInMessage", f.DOC2_ID),
    "two patients in one submission": (
        lambda: f.valid_submission(doc2={"patient_id": f.OTHER_PATIENT}), "XDSPatientIdDoesNotMatch", f.DOC2_ID),
    "association to nothing": (_dangling_association, "UnresolvedReferenceException", "Dangling"),
}


@pytest.mark.parametrize("build, code, location", RULES.values(), ids=RULES.keys())
def test_a_violating_submission_gets_its_error_code_and_nothing_is_stored(gateway, build, code, location):
    response = register(gateway, build())

    assert response.http_status == 200
    assert response.status == "Failure"
    assert {(e["errorCode"], e.get("location")) for e in response.errors} == {(code, location)}
    assert all(e["severity"].endswith(":Error") for e in response.errors)
    assert gateway.stored_total() == 0
    assert gateway.count("patients") == 0


def test_every_finding_is_reported_not_only_the_first(gateway):
    sub = f.valid_submission(doc1={"hash": "abc"}, doc2={"size": "x", "patient_id": f.OTHER_PATIENT})

    response = register(gateway, sub)

    assert response.status == "Failure"
    located = {(e["errorCode"], e.get("location")) for e in response.errors}
    assert ("XDSRegistryMetadataError", f.DOC1_ID) in located
    assert ("XDSRegistryMetadataError", f.DOC2_ID) in located
    assert ("XDSPatientIdDoesNotMatch", f.DOC2_ID) in located


# -- rules that need the registry's content ------------------------------------------------------

def test_a_second_submission_of_the_same_unique_id_and_hash_is_a_duplicate(gateway):
    assert register(gateway, f.valid_submission()).status == "Success"
    before = gateway.stored_total()

    again = f.valid_submission(ss={"unique_id": "1.2.250.1.999.3.2"}, folder_={"unique_id": "1.2.250.1.999.5.2"})
    response = register(gateway, again)

    assert response.status == "Failure"
    assert {(e["errorCode"], e["location"]) for e in response.errors} == {
        ("XDSDuplicateUniqueIdInRegistry", f.DOC1_ID),
        ("XDSDuplicateUniqueIdInRegistry", f.DOC2_ID),
    }
    assert gateway.stored_total() == before


def test_the_same_unique_id_with_another_hash_is_refused(gateway):
    assert register(gateway, f.valid_submission()).status == "Success"
    before = gateway.stored_total()

    again = f.valid_submission(
        ss={"unique_id": "1.2.250.1.999.3.2"}, folder_={"unique_id": "1.2.250.1.999.5.2"},
        doc1={"hash": "0" * 40}, doc2={"unique_id": "1.2.250.1.999.1.3"},
    )
    response = register(gateway, again)

    assert response.status == "Failure"
    assert [(e["errorCode"], e["location"]) for e in response.errors] == [("XDSNonIdenticalHash", f.DOC1_ID)]
    assert gateway.stored_total() == before


def _replacement(original_uuid: str, *, patient=None, unique_id="1.2.250.1.999.1.10", type_=AssociationType.REPLACE):
    doc = f.document_entry("Replacement", 10, unique_id=unique_id, patient_id=patient or f.PATIENT)
    ss = f.submission_set(unique_id=f"1.2.250.1.999.3.{unique_id.rsplit('.', 1)[1]}", patient_id=patient or f.PATIENT)
    return Submission(
        submission_sets=[ss],
        documents=[doc],
        associations=[
            f.has_member("SS-Replacement", f.SS_ID, "Replacement", SubmissionSetStatus.ORIGINAL),
            f.association("RPLC-1", "Replacement", original_uuid, type_),
        ],
    )


def test_a_replacement_deprecates_the_original_and_joins_its_folders(gateway):
    assert register(gateway, f.valid_submission()).status == "Success"
    [original] = by_unique_id(gateway, DOC1_UID)
    [folder] = by_unique_id(gateway, FOLDER_UID)
    with gateway.db.session() as session:  # an old time, so that the update shows whatever the clock
        RegistryStore(session).set_folder_last_update_time([folder.entry_uuid], DTM("20000101000000"))

    response = register(gateway, _replacement(original.entry_uuid))

    assert response.status == "Success", response.errors
    assert by_uuid(gateway, original.entry_uuid).availability_status is AvailabilityStatus.DEPRECATED
    [replacement] = by_unique_id(gateway, "1.2.250.1.999.1.10")
    assert replacement.availability_status is AvailabilityStatus.APPROVED
    [rplc] = associations_of(gateway, replacement.entry_uuid, as_target=False,
                             types=[AssociationType.REPLACE.value])
    assert rplc.target == original.entry_uuid
    folder_members = {a.target for a in associations_of(gateway, folder.entry_uuid, as_target=False)}
    assert folder_members == {original.entry_uuid, replacement.entry_uuid}
    assert by_uuid(gateway, folder.entry_uuid).last_update_time > DTM("20000101000000")


def test_replacing_a_deprecated_document_fails(gateway):
    assert register(gateway, f.valid_submission()).status == "Success"
    [original] = by_unique_id(gateway, DOC1_UID)
    assert register(gateway, _replacement(original.entry_uuid)).status == "Success"
    before = gateway.stored_total()

    response = register(gateway, _replacement(original.entry_uuid, unique_id="1.2.250.1.999.1.11"))

    assert response.status == "Failure"
    assert response.error_codes == ["XDSRegistryDeprecatedDocumentError"]
    assert gateway.stored_total() == before


def test_replacing_another_patients_document_fails_as_replacing_an_unknown_one(gateway):
    """The VIHF opens the replacement's patient's dossier only: the other patient's document is not found
    (the rule's own code, XDSPatientIdDoesNotMatch, is tested without a caller in tests/validation)."""
    assert register(gateway, f.valid_submission()).status == "Success"
    [original] = by_unique_id(gateway, DOC1_UID)
    before = gateway.stored_total()

    response = register(gateway, _replacement(original.entry_uuid, patient=f.OTHER_PATIENT))

    assert response.status == "Failure"
    assert response.error_codes == ["UnresolvedReferenceException"]
    assert by_uuid(gateway, original.entry_uuid).availability_status is AvailabilityStatus.APPROVED
    assert gateway.stored_total() == before


def test_replacing_an_unknown_document_is_an_unresolved_reference(gateway):
    response = register(gateway, _replacement("urn:uuid:00000000-0000-4000-8000-000000000bad"))

    assert response.status == "Failure"
    assert response.error_codes == ["UnresolvedReferenceException"]
    assert gateway.stored_total() == 0


def test_adding_a_document_to_a_registered_folder_updates_its_last_update_time(gateway):
    assert register(gateway, f.valid_submission()).status == "Success"
    [folder] = by_unique_id(gateway, FOLDER_UID)
    # Make the stored time old so that the update is visible whatever the clock.
    with gateway.db.session() as session:
        RegistryStore(session).set_folder_last_update_time([folder.entry_uuid], DTM("20000101000000"))

    doc = f.document_entry("Doc3", 3, unique_id="1.2.250.1.999.1.3")
    sub = Submission(
        submission_sets=[f.submission_set(unique_id="1.2.250.1.999.3.3")],
        documents=[doc],
        associations=[
            f.has_member("a1", f.SS_ID, "Doc3", SubmissionSetStatus.ORIGINAL),
            f.has_member("a2", folder.entry_uuid, "Doc3"),
            f.has_member("a3", f.SS_ID, "a2"),
        ],
    )
    response = register(gateway, sub)

    assert response.status == "Success", response.errors
    assert by_uuid(gateway, folder.entry_uuid).last_update_time > DTM("20000101000000")


def test_concurrent_submissions_of_one_unique_id_register_it_once(gateway):
    subs = [
        f.valid_submission(ss={"unique_id": f"1.2.250.1.999.3.{i}"}, folder_={"unique_id": f"1.2.250.1.999.5.{i}"})
        for i in range(10, 16)
    ]
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda s: register(gateway, s), subs))

    assert sorted(r.status for r in responses) == ["Failure"] * 5 + ["Success"]
    for r in responses:
        if r.status == "Failure":
            assert set(r.error_codes) == {"XDSDuplicateUniqueIdInRegistry"}
    assert gateway.count("document_entries") == 2


# -- the XDSGW_PATIENT_POLICY=registered gateway ------------------------------------------------

@pytest.fixture
def registered_only(database, tmp_path):
    empty(database)
    settings = Settings(data_dir=tmp_path, patient_policy=PatientPolicy.REGISTERED, profile=Profile.IHE)
    server = start_server(settings, database)
    yield RunningGateway(server.base_url, database, settings)
    server.stop()


def test_an_unknown_patient_is_refused_under_the_registered_policy(registered_only):
    response = register(registered_only, f.valid_submission())

    assert response.status == "Failure"
    assert response.error_codes == ["XDSUnknownPatientId"]
    assert registered_only.stored_total() == 0


def test_a_patient_with_an_open_dossier_is_accepted_under_the_registered_policy(registered_only):
    # Opening the DMP is what makes the patient known (there is no Patient Identity Feed).
    with registered_only.db.session() as session:
        DossierStore(session).create(f.PATIENT.format())

    response = register(registered_only, f.valid_submission())

    assert response.status == "Success"
    assert registered_only.count("document_entries") == 2


# -- consequences of a replacement and races -------------------------------------------------------

def test_a_replacement_also_deprecates_the_transformations_and_addenda_of_the_original(gateway):
    assert register(gateway, f.valid_submission()).status == "Success"
    [original] = by_unique_id(gateway, DOC1_UID)
    addendum = _replacement(original.entry_uuid, unique_id="1.2.250.1.999.1.20", type_=AssociationType.APPEND)
    transform = _replacement(original.entry_uuid, unique_id="1.2.250.1.999.1.21", type_=AssociationType.TRANSFORM)
    assert register(gateway, addendum).status == "Success"
    assert register(gateway, transform).status == "Success"

    response = register(gateway, _replacement(original.entry_uuid, unique_id="1.2.250.1.999.1.22"))

    assert response.status == "Success", response.errors
    status = {uid: by_unique_id(gateway, uid)[0].availability_status.short_name
              for uid in (DOC1_UID, "1.2.250.1.999.1.20", "1.2.250.1.999.1.21", "1.2.250.1.999.1.22", DOC2_UID)}
    assert status == {DOC1_UID: "Deprecated", "1.2.250.1.999.1.20": "Deprecated",
                      "1.2.250.1.999.1.21": "Deprecated", "1.2.250.1.999.1.22": "Approved", DOC2_UID: "Approved"}


def test_two_concurrent_replacements_of_one_document_cannot_both_succeed(gateway):
    assert register(gateway, f.valid_submission()).status == "Success"
    [original] = by_unique_id(gateway, DOC1_UID)
    subs = [_replacement(original.entry_uuid, unique_id=f"1.2.250.1.999.1.{30 + i}") for i in range(4)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda s: register(gateway, s), subs))

    assert sorted(r.status for r in responses) == ["Failure"] * 3 + ["Success"]
    for r in responses:
        if r.status == "Failure":
            assert r.error_codes == ["XDSRegistryDeprecatedDocumentError"]
    rplc = associations_of(gateway, original.entry_uuid, as_source=False, types=[AssociationType.REPLACE.value])
    assert len(rplc) == 1
    approved = [uid for i in range(4) for d in by_unique_id(gateway, f"1.2.250.1.999.1.{30 + i}")
                if (uid := d.unique_id) and d.availability_status is AvailabilityStatus.APPROVED]
    assert len(approved) == 1


def test_reader_and_validation_findings_are_reported_together(gateway):
    from lxml import etree

    request = submit_objects_request(f.valid_submission(doc2={"patient_id": None}))
    doc1 = request.find(".//{*}ExtrinsicObject[@id='Document01']")
    bogus = etree.SubElement(doc1, "{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}Classification",
                             classificationScheme="urn:uuid:00000000-0000-4000-8000-000000000001",
                             classifiedObject="Document01", nodeRepresentation="x", id="cl-bogus")
    doc1.insert(doc1.index(doc1.find("{*}ExternalIdentifier")), bogus)

    response = post(gateway.registry_url, ITI42, request)

    assert response.status == "Failure"
    located = {(e["errorCode"], e.get("location")) for e in response.errors}
    assert ("XDSRegistryMetadataError", f.DOC1_ID) in located  # the reader's: unknown classification
    assert ("XDSRegistryMetadataError", f.DOC2_ID) in located  # validation's: patientId missing
    assert gateway.stored_total() == 0
