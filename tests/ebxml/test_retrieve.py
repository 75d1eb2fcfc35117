"""ITI-43 RetrieveDocumentSet: request writing and reading (every finding, the bounds), response writing
(statuses, element order, HomeCommunityId echoed only when given, content never read) checked against rs.xsd
and the XDS.b message structure, and read back."""

from __future__ import annotations

from functools import cache

import pytest
from lxml import etree

from gateway.ebxml import (
    read_retrieve_document_set_request,
    read_retrieve_document_set_response,
    retrieve_document_set_request,
    retrieve_document_set_response,
)
from gateway.ebxml.namespaces import RS, XDSB, ResponseStatus, rs, xdsb, xop
from gateway.ebxml.retrieve import MAX_DOCUMENT_REQUESTS, MAX_VALUE_LENGTH
from gateway.metadata.repository import DocumentReference, RetrievedDocument
from gateway.validation.findings import ErrorCode, Severity, error, warning

from .test_provide_and_register import EBRS, NO_SCHEMA, assert_valid, resolver

REPOSITORY_ERROR = ErrorCode.REPOSITORY_ERROR
REPOSITORY = "1.2.250.1.999.2"
HOME = "urn:oid:1.2.250.1.999.3"
REF_1 = DocumentReference(REPOSITORY, "1.2.250.1.999.1.1")
REF_2 = DocumentReference(REPOSITORY, "1.2.250.1.999.1.2", HOME)


@cache
def rs_schema() -> etree.XMLSchema | None:
    path = EBRS / "rs.xsd"
    return etree.XMLSchema(etree.parse(str(path))) if path.exists() else None


def assert_valid_registry_response(response: etree._Element) -> None:
    schema = rs_schema()
    if schema is None:
        pytest.skip(f"{NO_SCHEMA}: the RegistryResponse is not checked against rs.xsd")
    ok = schema.validate(etree.fromstring(etree.tostring(response)))
    assert ok, [f"line {e.line}: {e.message}" for e in schema.error_log]


def request(*document_requests: list[tuple[str, str]]) -> etree._Element:
    """A RetrieveDocumentSetRequest; each DocumentRequest a list of (field, text)."""
    root = etree.Element(xdsb("RetrieveDocumentSetRequest"), nsmap={"xdsb": XDSB})
    for fields in document_requests:
        holder = etree.SubElement(root, xdsb("DocumentRequest"))
        for name, text in fields:
            etree.SubElement(holder, xdsb(name)).text = text
    return root


def fields(unique_id: str = "1.2.3", repository: str = REPOSITORY) -> list[tuple[str, str]]:
    return [("RepositoryUniqueId", repository), ("DocumentUniqueId", unique_id)]


def never_read():
    raise AssertionError("the codec read document content")


def retrieved(reference: DocumentReference, mime_type: str = "text/xml", data: bytes = b"<doc/>") -> RetrievedDocument:
    return RetrievedDocument(reference, mime_type, len(data), lambda: iter([data]))


# -- the request --------------------------------------------------------------------------------------------------


def test_request_round_trip_with_and_without_home_community_id():
    element = retrieve_document_set_request([REF_1, REF_2])

    references, findings = read_retrieve_document_set_request(etree.fromstring(etree.tostring(element)))

    assert (references, findings) == ([REF_1, REF_2], [])
    first, second = element.findall(xdsb("DocumentRequest"))
    assert [c.tag for c in first] == [xdsb("RepositoryUniqueId"), xdsb("DocumentUniqueId")]
    assert [c.tag for c in second] == [xdsb("HomeCommunityId"), xdsb("RepositoryUniqueId"), xdsb("DocumentUniqueId")]
    assert_valid(element)


def test_values_are_trimmed_and_an_empty_home_community_id_is_none():
    references, findings = read_retrieve_document_set_request(request(
        [("HomeCommunityId", "  "), ("RepositoryUniqueId", "\n  1.2.3 \t"), ("DocumentUniqueId", " 4.5.6\n")],
    ))

    assert (references, findings) == ([DocumentReference("1.2.3", "4.5.6")], [])


def test_comments_are_ignored():
    root = request(fields())
    root.insert(0, etree.Comment("c"))
    root[1].insert(1, etree.Comment("c"))

    assert read_retrieve_document_set_request(root) == ([DocumentReference(REPOSITORY, "1.2.3")], [])


@pytest.mark.parametrize(("given", "field_name"), [
    ([("DocumentUniqueId", "1.2.3")], "RepositoryUniqueId"),
    ([("RepositoryUniqueId", " "), ("DocumentUniqueId", "1.2.3")], "RepositoryUniqueId"),
    ([("RepositoryUniqueId", REPOSITORY)], "DocumentUniqueId"),
    ([("RepositoryUniqueId", REPOSITORY), ("DocumentUniqueId", "")], "DocumentUniqueId"),
])
def test_a_missing_or_empty_field_skips_its_document_request_only(given, field_name):
    references, findings = read_retrieve_document_set_request(request(fields("a"), given, fields("c")))

    assert references == [DocumentReference(REPOSITORY, "a"), DocumentReference(REPOSITORY, "c")]
    assert len(findings) == 1
    assert findings[0].code == REPOSITORY_ERROR and findings[0].is_error
    assert findings[0].message.startswith(f"DocumentRequest 2: {field_name} is missing or empty")


def test_findings_are_located_at_the_document_unique_id_when_there_is_one():
    _, findings = read_retrieve_document_set_request(request(
        [("DocumentUniqueId", "1.2.3")], [("RepositoryUniqueId", REPOSITORY)],
    ))

    assert [f.location for f in findings] == ["1.2.3", None]


def test_a_document_request_without_any_field_gives_both_findings():
    _, findings = read_retrieve_document_set_request(request([]))

    assert [f.message.split(" is")[0] for f in findings] == [
        "DocumentRequest 1: RepositoryUniqueId", "DocumentRequest 1: DocumentUniqueId",
    ]


def test_no_document_request_is_an_error():
    references, findings = read_retrieve_document_set_request(request())

    assert references == []
    assert [f.code for f in findings] == [REPOSITORY_ERROR]
    assert "has no DocumentRequest" in findings[0].message


def test_a_body_of_another_kind_is_an_error():
    references, findings = read_retrieve_document_set_request(etree.Element(f"{{{RS}}}RegistryResponse"))

    assert references == []
    assert [f.code for f in findings] == [REPOSITORY_ERROR]
    assert f"expected {{{XDSB}}}RetrieveDocumentSetRequest, got {{{RS}}}RegistryResponse" in findings[0].message


def test_unexpected_elements_and_repeated_fields_are_errors():
    root = request(fields("a"), [*fields("b"), ("DocumentUniqueId", "b2")], [*fields("c"), ("mimeType", "x")])
    etree.SubElement(root, "{urn:example}Extra")

    references, findings = read_retrieve_document_set_request(root)

    assert references == [DocumentReference(REPOSITORY, "a")]
    assert [f.code for f in findings] == [REPOSITORY_ERROR] * 3
    assert findings[0].message.startswith("DocumentRequest 2: DocumentUniqueId is given more than once")
    assert findings[1].message.startswith(f"DocumentRequest 3: unexpected element {{{XDSB}}}mimeType")
    assert findings[2].message.startswith("unexpected element {urn:example}Extra in the RetrieveDocumentSetRequest")


def test_at_most_max_document_requests_are_read():
    at_bound = request(*[fields(f"1.{n}") for n in range(MAX_DOCUMENT_REQUESTS)])
    references, findings = read_retrieve_document_set_request(at_bound)
    assert (len(references), findings) == (MAX_DOCUMENT_REQUESTS, [])

    # Over the bound: one error, nothing read, not even the faulty DocumentRequest.
    over = request(*[fields(f"1.{n}") for n in range(MAX_DOCUMENT_REQUESTS)], [])
    references, findings = read_retrieve_document_set_request(over)
    assert references == []
    assert len(findings) == 1 and findings[0].code == REPOSITORY_ERROR
    assert f"has {MAX_DOCUMENT_REQUESTS + 1} DocumentRequests" in findings[0].message
    assert f"at most {MAX_DOCUMENT_REQUESTS}" in findings[0].message


@pytest.mark.parametrize("field_name", ["HomeCommunityId", "RepositoryUniqueId", "DocumentUniqueId"])
def test_values_are_at_most_256_characters(field_name):
    def one(length: int) -> list[tuple[str, str]]:
        values = {"HomeCommunityId": HOME, "RepositoryUniqueId": REPOSITORY, "DocumentUniqueId": "1.2.3",
                  field_name: "9" * length}
        return list(values.items())

    references, findings = read_retrieve_document_set_request(request(one(MAX_VALUE_LENGTH), one(MAX_VALUE_LENGTH + 1)))

    assert len(references) == 1 and findings[0].code == REPOSITORY_ERROR and len(findings) == 1
    assert findings[0].message.startswith(
        f"DocumentRequest 2: {field_name} has {MAX_VALUE_LENGTH + 1} characters; at most {MAX_VALUE_LENGTH}"
    )
    # The over-long value itself is neither echoed nor used as location.
    assert "9" * 50 not in findings[0].message
    assert findings[0].location == (None if field_name == "DocumentUniqueId" else "1.2.3")


# -- the response -------------------------------------------------------------------------------------------------


def status_of(documents, findings) -> str:
    element, _ = retrieve_document_set_response(documents, findings)
    response = element.find(rs("RegistryResponse"))
    assert_valid_registry_response(response)
    return response.get("status")


def test_status_success_without_errors_warnings_included():
    assert status_of([retrieved(REF_1)], []) == ResponseStatus.SUCCESS
    assert status_of([], []) == ResponseStatus.SUCCESS
    assert status_of([retrieved(REF_1)], [warning(REPOSITORY_ERROR, "just so you know")]) == ResponseStatus.SUCCESS


def test_status_partial_success_with_errors_and_documents():
    status = status_of([retrieved(REF_1)], [error(ErrorCode.MISSING_DOCUMENT, "no such document", "9.9")])
    assert status == ResponseStatus.PARTIAL_SUCCESS == "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"


def test_status_failure_with_errors_and_no_document():
    assert status_of([], [error(ErrorCode.MISSING_DOCUMENT, "no such document")]) == ResponseStatus.FAILURE


def test_response_layout_and_attachments():
    documents = [
        RetrievedDocument(REF_1, "application/pdf", 10, never_read),
        RetrievedDocument(REF_2, "text/xml", 20, never_read),
    ]
    findings = [error(ErrorCode.MISSING_DOCUMENT, "1.2.250.1.999.1.3 is not in this repository", "1.2.250.1.999.1.3")]

    element, attachments = retrieve_document_set_response(documents, findings)

    assert [c.tag for c in element] == [rs("RegistryResponse"), xdsb("DocumentResponse"), xdsb("DocumentResponse")]
    first, second = element.findall(xdsb("DocumentResponse"))
    in_order = ("RepositoryUniqueId", "DocumentUniqueId", "mimeType", "Document")
    assert [c.tag for c in first] == [xdsb(n) for n in in_order]
    assert [c.tag for c in second] == [xdsb(n) for n in ("HomeCommunityId", *in_order)]
    assert [c.text for c in second][:4] == [HOME, REPOSITORY, "1.2.250.1.999.1.2", "text/xml"]
    # One fresh content id per document, paired with the very RetrievedDocument; content never read.
    assert [doc for _, doc in attachments] == documents
    assert all(pair[1] is doc for pair, doc in zip(attachments, documents))
    assert len({cid for cid, _ in attachments}) == 2
    hrefs = [d.find(f"{xdsb('Document')}/{xop('Include')}").get("href") for d in (first, second)]
    assert hrefs == [f"cid:{cid}" for cid, _ in attachments]
    errors = element.find(rs("RegistryResponse")).find(rs("RegistryErrorList"))
    assert errors[0].get("errorCode") == ErrorCode.MISSING_DOCUMENT
    assert_valid(element, {cid: b"content" for cid, _ in attachments})


def test_response_without_findings_has_no_error_list():
    element, _ = retrieve_document_set_response([retrieved(REF_1)], [])

    assert element.find(rs("RegistryResponse")).find(rs("RegistryErrorList")) is None


def test_response_round_trip():
    documents = [retrieved(REF_1, "application/pdf", b"%PDF-1.7 \x00\xff"), retrieved(REF_2, "text/xml", b"<a/>")]
    findings = [
        error(ErrorCode.MISSING_DOCUMENT, "1.9 is not in this repository", "1.9"),
        warning(REPOSITORY_ERROR, "no location"),
    ]
    element, attachments = retrieve_document_set_response(documents, findings)
    parts = [(cid, b"".join(doc.content())) for cid, doc in attachments]

    read = read_retrieve_document_set_response(etree.fromstring(etree.tostring(element)), resolver(parts))

    assert read.status == "PartialSuccess"
    assert read.errors == findings
    assert read.errors[1].severity is Severity.WARNING and read.errors[1].location is None
    assert read.documents == [
        (REF_1, "application/pdf", b"%PDF-1.7 \x00\xff"),
        (REF_2, "text/xml", b"<a/>"),
    ]
    assert read.documents[0][2] is parts[0][1]  # kept as content() returned it


@pytest.mark.parametrize(("documents", "findings", "status"), [
    ([], [], "Success"),
    ([], [error(ErrorCode.MISSING_DOCUMENT, "gone")], "Failure"),
])
def test_response_statuses_read_back_short(documents, findings, status):
    element, _ = retrieve_document_set_response(documents, findings)

    read = read_retrieve_document_set_response(element, resolver([]))

    assert (read.status, read.errors, read.documents) == (status, findings, [])


def test_reading_something_else_than_a_response_raises():
    with pytest.raises(ValueError, match="RetrieveDocumentSetResponse"):
        read_retrieve_document_set_response(retrieve_document_set_request([REF_1]), resolver([]))

    element, _ = retrieve_document_set_response([retrieved(REF_1)], [])
    element.find(xdsb("DocumentResponse")).remove(element.find(f"{xdsb('DocumentResponse')}/{xdsb('mimeType')}"))
    with pytest.raises(ValueError, match="DocumentResponse 1 has no mimeType"):
        read_retrieve_document_set_response(element, resolver([]))
