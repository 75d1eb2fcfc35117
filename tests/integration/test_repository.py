"""The Document Repository over real HTTP: ITI-41 with MTOM or inline base64, then ITI-43 and ITI-18.

Every test runs on SQLite and PostgreSQL, with the folder blob store and
with the S3 blob store against a real SeaweedFS server.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest
import requests
from lxml import etree

from gateway.ebxml.adhoc_query import adhoc_query_request
from gateway.ebxml.provide_and_register import provide_and_register_request
from gateway.metadata import CX, AvailabilityStatus
from gateway.metadata.query import FindDocuments, ReturnType
from gateway.metadata.repository import Document, DocumentReference, ProvideAndRegisterDocumentSet
from gateway.soap.namespaces import XOP

from ..factories import AFFINITY_DOMAIN, DOC1_ID, DOC2_ID, valid_submission
from ..support.soap_client import acting_for, envelope, post, post_raw
from .repository_client import ITI41, mtom_package, provide_and_register, retrieve
from .xds import CORPUS, by_unique_id, corpus_request

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
UID_1, UID_2 = "1.2.250.1.999.1.1", "1.2.250.1.999.1.2"
CDA = "<?xml version='1.0' encoding='UTF-8'?><ClinicalDocument xmlns='urn:hl7-org:v3'><title>Compte rendu é</title></ClinicalDocument>".encode()
# Every byte value, CR LF and "--" included: a PDF-like binary that is not UTF-8.
BINARY = b"%PDF-1.7\r\n" + bytes(range(256)) * 64 + b"\r\n--\r\n\xff\xfe\x00"


def provided(doc1: dict | None = None, doc2: dict | None = None, documents=None) -> ProvideAndRegisterDocumentSet:
    blank = {"hash": None, "size": None, "repository_unique_id": None}
    submission = valid_submission(
        doc1={**blank, **(doc1 or {})}, doc2={**blank, "mime_type": "application/pdf", **(doc2 or {})}
    )
    return ProvideAndRegisterDocumentSet(
        submission, documents if documents is not None else [Document(DOC1_ID, CDA), Document(DOC2_ID, BINARY)]
    )


def ref(gw, unique_id: str, home: str | None = None) -> DocumentReference:
    return DocumentReference(gw.settings.repository_unique_id, unique_id, home)


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


@pytest.mark.parametrize("mtom", [True, False], ids=["mtom", "inline-base64"])
def test_provided_documents_come_back_identical_and_the_registry_shows_hash_size_and_repository(
    repository_gateway, mtom
):
    gw = repository_gateway
    response = provide_and_register(gw.repository_url, provided(), mtom=mtom)

    assert (response.http_status, response.status, response.errors) == (200, "Success", [])
    assert response.action == "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"

    answer = retrieve(gw.repository_url, [ref(gw, UID_1), ref(gw, UID_2)])
    assert (answer.http_status, answer.status, answer.error_codes) == (200, "Success", [])
    assert answer.documents == [
        (ref(gw, UID_1), "text/xml", CDA),
        (ref(gw, UID_2), "application/pdf", BINARY),
    ]
    assert sorted(answer.part_types.values()) == ["application/pdf", "text/xml"]

    query = FindDocuments(
        patient_id=CX.of("PID-0001", AFFINITY_DOMAIN).format(),
        statuses=[AvailabilityStatus.APPROVED],
        return_type=ReturnType.LEAF_CLASS,
    )
    found = post(gw.registry_url, ITI18, adhoc_query_request(query))
    slots = {
        (eo.findtext("{*}Slot[@name='repositoryUniqueId']/{*}ValueList/{*}Value"),
         eo.findtext("{*}Slot[@name='hash']/{*}ValueList/{*}Value"),
         eo.findtext("{*}Slot[@name='size']/{*}ValueList/{*}Value"))
        for eo in found.payload.iter("{*}ExtrinsicObject")
    }
    repository_id = gw.settings.repository_unique_id
    assert slots == {
        (repository_id, sha1(CDA), str(len(CDA))),
        (repository_id, sha1(BINARY), str(len(BINARY))),
    }


def test_retrieve_echoes_the_home_community_id_when_sent(repository_gateway):
    gw = repository_gateway
    assert provide_and_register(gw.repository_url, provided()).status == "Success"

    answer = retrieve(gw.repository_url, [ref(gw, UID_1, home="urn:oid:1.2.250.1.999.9")])

    assert answer.documents[0][0].home_community_id == "urn:oid:1.2.250.1.999.9"
    assert answer.envelope.findtext(".//{*}DocumentResponse/{*}HomeCommunityId") == "urn:oid:1.2.250.1.999.9"
    plain = retrieve(gw.repository_url, [ref(gw, UID_1)])
    assert plain.envelope.find(".//{*}DocumentResponse/{*}HomeCommunityId") is None


@pytest.mark.parametrize(
    ("doc1", "documents", "code", "location"),
    [
        ({"hash": "0" * 40}, None, "XDSNonIdenticalHash", DOC1_ID),
        ({"size": "12"}, None, "XDSNonIdenticalSize", DOC1_ID),
        (None, [Document(DOC1_ID, CDA)], "XDSMissingDocument", DOC2_ID),
        (None, [Document(DOC1_ID, CDA), Document(DOC2_ID, BINARY), Document("Stray", b"x")],
         "XDSMissingDocumentMetadata", "Stray"),
        ({"mime_type": None}, None, "XDSRepositoryMetadataError", DOC1_ID),
    ],
    ids=["wrong-hash", "wrong-size", "missing-document", "orphan-document", "no-mimeType"],
)
def test_a_refused_submission_gets_its_code_and_stores_nothing(repository_gateway, doc1, documents, code, location):
    gw = repository_gateway
    blobs_before = gw.blob_count()

    response = provide_and_register(gw.repository_url, provided(doc1=doc1, documents=documents))

    assert (response.http_status, response.status) == (200, "Failure")
    assert [(e["errorCode"], e.get("location")) for e in response.errors] == [(code, location)]
    assert gw.stored_total() == 0
    assert gw.repository_rows() == 0
    assert gw.blob_count() == blobs_before


def test_a_registry_refusal_after_the_repository_checks_stores_nothing(repository_gateway):
    gw = repository_gateway
    assert provide_and_register(gw.repository_url, provided()).status == "Success"
    blobs_before, stored_before = gw.blob_count(), gw.stored_total()

    again = provide_and_register(gw.repository_url, provided())

    assert again.status == "Failure"
    assert set(again.error_codes) == {"XDSDuplicateUniqueIdInRegistry"}
    assert (gw.blob_count(), gw.stored_total(), gw.repository_rows()) == (blobs_before, stored_before, 2)


def test_unknown_document_and_foreign_repository_give_partial_success(repository_gateway):
    gw = repository_gateway
    assert provide_and_register(gw.repository_url, provided()).status == "Success"

    answer = retrieve(gw.repository_url, [
        ref(gw, UID_2),
        ref(gw, "1.2.250.1.999.1.404"),
        DocumentReference("1.2.3.4.5", UID_1),
    ])

    assert (answer.http_status, answer.status) == (200, "PartialSuccess")
    assert answer.error_codes == ["XDSDocumentUniqueIdError", "XDSUnknownRepositoryId"]
    assert [(e.location) for e in answer.errors] == ["1.2.250.1.999.1.404", "1.2.3.4.5"]
    assert answer.documents == [(ref(gw, UID_2), "application/pdf", BINARY)]


def test_nothing_found_is_a_failure_still_answered_in_mtom(repository_gateway):
    gw = repository_gateway
    assert provide_and_register(gw.repository_url, provided()).status == "Success"  # opens the patient's DMP

    answer = retrieve(gw.repository_url, [ref(gw, "1.2.250.1.999.1.404")])

    assert (answer.http_status, answer.status, answer.error_codes) == (200, "Failure", ["XDSDocumentUniqueIdError"])
    assert answer.documents == []


def test_a_retrieve_for_a_patient_without_a_dmp_is_refused_as_an_unknown_patient(repository_gateway):
    gw = repository_gateway

    answer = retrieve(gw.repository_url, [ref(gw, "1.2.250.1.999.1.404")])

    assert (answer.http_status, answer.status, answer.error_codes) == (200, "Failure", ["XDSUnknownPatientId"])
    assert answer.documents == []


def test_content_ids_are_matched_through_cid_url_escaping_and_without_angle_brackets(repository_gateway):
    gw = repository_gateway
    request = provided()
    soap_body = etree.fromstring(etree.tostring(_body_with_includes(request, {
        DOC1_ID: "doc 1/é@example.org", DOC2_ID: "doc%2@example.org",
    })))
    soap, _ = envelope(ITI41, soap_body, to=gw.repository_url)
    content_type, data = mtom_package(
        soap,
        [("doc 1/é@example.org", "text/xml", CDA), ("doc%2@example.org", "application/pdf", BINARY)],
        ITI41,
        angle_brackets=False,
    )

    response = post_raw(gw.repository_url, content_type, data)

    assert (response.status, response.errors) == ("Success", [])
    assert [doc for _, _, doc in retrieve(gw.repository_url, [ref(gw, UID_1), ref(gw, UID_2)]).documents] == [
        CDA, BINARY,
    ]


def _body_with_includes(request, content_ids: dict[str, str]) -> etree._Element:
    """The ITI-41 body with xop:Include hrefs naming the given Content-IDs, %-escaped as RFC 2392 asks."""
    body, _ = provide_and_register_request(request, mtom=True)
    for document in body.iter("{urn:ihe:iti:xds-b:2007}Document"):
        include = document.find(f"{{{XOP}}}Include")
        include.set("href", "cid:" + quote(content_ids[document.get("id")], safe="@"))
    return body


def test_a_reference_to_a_missing_part_is_a_sender_fault_and_stores_nothing(repository_gateway):
    gw = repository_gateway
    body = _body_with_includes(provided(), {DOC1_ID: "one@x", DOC2_ID: "two@x"})
    soap, _ = envelope(ITI41, body, to=gw.repository_url)
    content_type, data = mtom_package(soap, [("one@x", "text/xml", CDA)], ITI41)

    response = post_raw(gw.repository_url, content_type, data)

    assert (response.http_status, response.fault_code) == (400, "env:Sender")
    assert "two@x" in response.envelope.findtext(".//{*}Reason/{*}Text")
    assert gw.stored_total() == 0


def test_invalid_inline_base64_is_a_repository_error(repository_gateway):
    gw = repository_gateway
    body, _ = provide_and_register_request(provided(), mtom=False)
    body.find("{urn:ihe:iti:xds-b:2007}Document").text = "not base64 !!"
    soap, _ = envelope(ITI41, body, to=gw.repository_url)

    response = post_raw(gw.repository_url, f'application/soap+xml; charset=UTF-8; action="{ITI41}"', soap)

    assert response.status == "Failure"
    assert response.error_codes == ["XDSRepositoryError"]
    assert DOC1_ID in response.errors[0]["codeContext"]
    assert gw.stored_total() == 0


def test_a_request_over_the_size_limit_is_refused_and_stores_nothing(repository_gateway):
    gw = repository_gateway
    big = b"\x00" * (gw.settings.max_repository_request_bytes + 1)
    request = provided(documents=[Document(DOC1_ID, CDA), Document(DOC2_ID, big)])
    blobs_before = gw.blob_count()

    response = provide_and_register(gw.repository_url, request)

    assert (response.http_status, response.fault_code) == (413, "env:Sender")
    assert f"larger than {gw.settings.max_repository_request_bytes} bytes" in response.envelope.findtext(
        ".//{*}Reason/{*}Text"
    )
    assert (gw.stored_total(), gw.blob_count()) == (0, blobs_before)


def test_the_repository_wsdl_is_served_with_our_address(repository_gateway):
    gw = repository_gateway

    response = requests.get(f"{gw.repository_url}?wsdl", timeout=10)

    assert response.status_code == 200
    wsdl = etree.fromstring(response.content)
    locations = {a.get("location") for a in wsdl.iter("{http://schemas.xmlsoap.org/wsdl/soap12/}address")}
    assert locations == {gw.repository_url}
    operations = {op.get("name") for op in wsdl.iter("{http://schemas.xmlsoap.org/wsdl/}operation")}
    assert {"DocumentRepository_ProvideAndRegisterDocumentSet-b", "DocumentRepository_RetrieveDocumentSet"} <= operations


def test_the_hand_written_corpus_request_is_provided_and_retrieved(ci_sis_gateway):
    """The README's tour on the default (French) profile: a hand-written ITI-41 with its CDA as an
    MTOM part, checked against its metadata, then ITI-43."""
    gw = ci_sis_gateway
    cda = (CORPUS / "iti41" / "cr-consultation.cda.xml").read_bytes()
    soap, _ = envelope(ITI41, corpus_request("iti41/provide-cr-consultation.xml"), to=gw.repository_url)
    content_type, data = mtom_package(soap, [("cr-consultation@tour", "text/xml", cda)], ITI41)

    response = post_raw(gw.repository_url, content_type, data)

    assert (response.status, response.errors) == ("Success", [])
    [entry] = by_unique_id(gw, "1.2.250.1.999.1.2025.3.12.41")
    assert (entry.hash, entry.size, entry.repository_unique_id) == (
        sha1(cda), str(len(cda)), gw.settings.repository_unique_id
    )
    with acting_for(entry.patient_id):  # the corpus patient
        answer = retrieve(gw.repository_url, [ref(gw, "1.2.250.1.999.1.2025.3.12.41")])
    assert answer.documents == [(ref(gw, "1.2.250.1.999.1.2025.3.12.41"), "text/xml", cda)]
