"""ITI-41 ProvideAndRegisterDocumentSetRequest: writing then reading gives back the request, with MTOM and
inline; the reader keeps the very buffer ``content`` gives; every structural finding with its code and
message; what is written is valid against the XDS.b message structure (ITI TF-2 §3.41.4.1.2) and lcm.xsd.

The XDS.b schema (XDS.b_DocumentRepository.xsd) is not shipped; :data:`XDSB_XSD` below restates the
structure ITI TF-2 gives for the ITI-41 and ITI-43 messages, on top of the OASIS ebRS 3.0 schemas of the
shared test data. ``test_retrieve`` uses it too.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest
from lxml import etree

from gateway.ebxml import provide_and_register_request, read_provide_and_register_request, submit_objects_request
from gateway.ebxml.namespaces import LCM, RIM, RS, XDSB, XOP, rim, xdsb, xop
from gateway.ebxml.provide_and_register import content_id, xop_include
from gateway.metadata.repository import Buffer, Document, ProvideAndRegisterDocumentSet
from gateway.validation.findings import ErrorCode

from ..factories import DOC1_ID, DOC2_ID, valid_submission

EBRS = Path(__file__).resolve().parents[3] / "shared" / "data" / "ebxml" / "ebRS"
NO_SCHEMA = f"the OASIS ebRS 3.0 schemas are not in {EBRS} (they come with the shared test data)"
REPOSITORY_ERROR = ErrorCode.REPOSITORY_ERROR

#: The ITI-41 and ITI-43 messages as ITI TF-2 §3.41.4.1.2, §3.43.4.1.2 and §3.43.4.2.2 give them (the order
#: and types of XDS.b_DocumentRepository.xsd), over lcm.xsd and rs.xsd. Documents are base64Binary: a
#: message is checked in its XOP-reconstituted form (XOP 1.0 §3.2), see :func:`reconstituted`.
XDSB_XSD = f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{XDSB}" xmlns:lcm="{LCM}"
    xmlns:rs="{RS}" xmlns:rim="{RIM}" elementFormDefault="qualified">
  <xs:import namespace="{LCM}" schemaLocation="{(EBRS / 'lcm.xsd').as_uri()}"/>
  <xs:import namespace="{RS}" schemaLocation="{(EBRS / 'rs.xsd').as_uri()}"/>
  <xs:import namespace="{RIM}" schemaLocation="{(EBRS / 'rim.xsd').as_uri()}"/>
  <xs:element name="ProvideAndRegisterDocumentSetRequest">
    <xs:complexType><xs:sequence>
      <xs:element ref="lcm:SubmitObjectsRequest"/>
      <xs:element name="Document" minOccurs="0" maxOccurs="unbounded">
        <xs:complexType><xs:simpleContent><xs:extension base="xs:base64Binary">
          <xs:attribute name="id" type="xs:anyURI" use="required"/>
        </xs:extension></xs:simpleContent></xs:complexType>
      </xs:element>
    </xs:sequence></xs:complexType>
  </xs:element>
  <xs:element name="RetrieveDocumentSetRequest">
    <xs:complexType><xs:sequence>
      <xs:element name="DocumentRequest" maxOccurs="unbounded">
        <xs:complexType><xs:sequence>
          <xs:element name="HomeCommunityId" type="rim:LongName" minOccurs="0"/>
          <xs:element name="RepositoryUniqueId" type="rim:LongName"/>
          <xs:element name="DocumentUniqueId" type="rim:LongName"/>
        </xs:sequence></xs:complexType>
      </xs:element>
    </xs:sequence></xs:complexType>
  </xs:element>
  <xs:element name="RetrieveDocumentSetResponse">
    <xs:complexType><xs:sequence>
      <xs:element ref="rs:RegistryResponse"/>
      <xs:element name="DocumentResponse" minOccurs="0" maxOccurs="unbounded">
        <xs:complexType><xs:sequence>
          <xs:element name="HomeCommunityId" type="rim:LongName" minOccurs="0"/>
          <xs:element name="RepositoryUniqueId" type="rim:LongName"/>
          <xs:element name="DocumentUniqueId" type="rim:LongName"/>
          <xs:element name="NewRepositoryUniqueId" type="rim:LongName" minOccurs="0"/>
          <xs:element name="NewDocumentUniqueId" type="rim:LongName" minOccurs="0"/>
          <xs:element name="mimeType" type="rim:LongName"/>
          <xs:element name="Document" type="xs:base64Binary"/>
        </xs:sequence></xs:complexType>
      </xs:element>
    </xs:sequence></xs:complexType>
  </xs:element>
</xs:schema>
"""


@cache
def xdsb_schema() -> etree.XMLSchema | None:
    if not (EBRS / "lcm.xsd").exists():
        return None
    return etree.XMLSchema(etree.fromstring(XDSB_XSD.encode()))


def reconstituted(element: etree._Element, parts: dict[str, bytes | Buffer]) -> etree._Element:
    """A copy of the message with each xop:Include replaced by the base64 of its part (XOP 1.0 §3.2)."""
    copy = etree.fromstring(etree.tostring(element))
    for include in list(copy.iter(xop("Include"))):
        holder = include.getparent()
        holder.remove(include)
        holder.text = base64.b64encode(parts[unquote(include.get("href")[4:])]).decode()
    return copy


def assert_valid(element: etree._Element, parts: dict[str, bytes | Buffer] | None = None) -> None:
    schema = xdsb_schema()
    if schema is None:
        pytest.skip(f"{NO_SCHEMA}: the message is not checked against the XDS.b structure")
    ok = schema.validate(reconstituted(element, parts or {}))
    assert ok, [f"line {e.line}: {e.message}" for e in schema.error_log]


def resolver(attachments: list[tuple[str, Buffer]], calls: list[etree._Element] | None = None
             ) -> Callable[[etree._Element], Buffer]:
    """A ``content`` function as the SOAP layer gives one: the part an xop:Include names, else the base64 text."""
    parts = dict(attachments)

    def content(el: etree._Element) -> Buffer:
        if calls is not None:
            calls.append(el)
        include = el.find(xop("Include"))
        if include is not None:
            return parts[unquote(include.get("href")[4:])]
        return base64.b64decode(el.text or "", validate=True)  # binascii.Error is a ValueError

    return content


def wire(element: etree._Element) -> etree._Element:
    """The element as the other side parses it."""
    return etree.fromstring(etree.tostring(element))


DATA_1 = b"<ClinicalDocument>first</ClinicalDocument>"
DATA_2 = bytes(range(256)) * 3  # binary, every byte value


def a_request() -> ProvideAndRegisterDocumentSet:
    # One memoryview (as the SOAP layer gives a part of the request body), one bytes.
    return ProvideAndRegisterDocumentSet(
        valid_submission(), [Document(DOC1_ID, memoryview(DATA_1)), Document(DOC2_ID, DATA_2)],
    )


def body(*children: etree._Element | str) -> etree._Element:
    """A ProvideAndRegisterDocumentSetRequest holding the given elements (a str is a Document id, content 'QQ==')."""
    root = etree.Element(xdsb("ProvideAndRegisterDocumentSetRequest"), nsmap={"xdsb": XDSB})
    for child in children:
        if isinstance(child, str):
            etree.SubElement(root, xdsb("Document"), id=child).text = "QQ=="
        else:
            root.append(child)
    return root


def metadata() -> etree._Element:
    return submit_objects_request(valid_submission())


def inline() -> Callable[[etree._Element], Buffer]:
    """Base64 text only, as in a request sent without MTOM."""
    return resolver([])


# -- round trips ------------------------------------------------------------------------------------------------


def test_mtom_round_trip_gives_back_the_request_and_the_very_buffers():
    request = a_request()
    element, attachments = provide_and_register_request(request)

    read = read_provide_and_register_request(wire(element), resolver(attachments))

    assert read.findings == []
    assert read.request == request
    # Nothing copied: the writer hands the data out as given, the reader keeps what content() returned.
    assert [data for _, data in attachments] == [d.data for d in request.documents]
    assert attachments[0][1] is request.documents[0].data
    assert read.request.documents[0].data is request.documents[0].data
    assert read.request.documents[1].data is request.documents[1].data
    assert_valid(element, dict(attachments))


def test_inline_round_trip_carries_base64_text_and_no_attachment():
    request = a_request()
    element, attachments = provide_and_register_request(request, mtom=False)

    assert attachments == []
    assert not list(element.iter(xop("Include")))
    assert element.find(xdsb("Document")).text == base64.b64encode(DATA_1).decode()
    read = read_provide_and_register_request(wire(element), resolver([]))
    assert read.findings == []
    assert read.request == request
    assert_valid(element)


def test_the_reader_keeps_the_object_content_returns():
    given = memoryview(bytearray(b"x" * 1000))[10:900]
    read = read_provide_and_register_request(body(metadata(), DOC1_ID), lambda el: given)

    assert read.request.documents[0].data is given


def test_content_is_asked_once_per_document_in_order():
    calls: list[etree._Element] = []
    element, attachments = provide_and_register_request(a_request())
    element = wire(element)

    read_provide_and_register_request(element, resolver(attachments, calls))

    assert calls == element.findall(xdsb("Document"))


def test_a_request_without_documents_is_read():
    request = ProvideAndRegisterDocumentSet(valid_submission())
    element, attachments = provide_and_register_request(request)

    read = read_provide_and_register_request(wire(element), resolver(attachments))

    assert (read.request, read.findings, attachments) == (request, [], [])
    assert_valid(element)


def test_the_writer_puts_the_metadata_first_then_one_document_per_entry():
    element, attachments = provide_and_register_request(a_request())

    assert [child.tag for child in element] == [f"{{{LCM}}}SubmitObjectsRequest", xdsb("Document"), xdsb("Document")]
    assert [d.get("id") for d in element.iter(xdsb("Document"))] == [DOC1_ID, DOC2_ID]
    hrefs = [d.find(xop("Include")).get("href") for d in element.iter(xdsb("Document"))]
    assert hrefs == [f"cid:{cid}" for cid, _ in attachments]


def test_content_ids_are_fresh_for_every_document_and_message():
    _, first = provide_and_register_request(a_request())
    _, second = provide_and_register_request(a_request())
    ids = [cid for cid, _ in first + second]

    assert len(set(ids)) == 4
    assert re.fullmatch(r"doc1\.[0-9a-f]{32}@xds-gateway", ids[0])
    assert re.fullmatch(r"doc2\.[0-9a-f]{32}@xds-gateway", ids[1])
    assert re.fullmatch(r"doc\d+\.[0-9a-f]{32}@xds-gateway", content_id(7)) and content_id(7).startswith("doc7.")


def test_the_cid_url_percent_encodes_what_a_url_cannot_hold():
    holder = etree.Element("holder")
    include = xop_include(holder, "part 1/é%<x>@example.org")

    assert include.tag == f"{{{XOP}}}Include"
    assert include.get("href") == "cid:part%201%2F%C3%A9%25%3Cx%3E@example.org"
    assert unquote(include.get("href")[4:]) == "part 1/é%<x>@example.org"


def test_document_ids_are_read_as_metadata_ids_are():
    upper = "urn:uuid:0B3C1D4E-6F7A-4B8C-9D0E-1F2A3B4C5D6E"
    read = read_provide_and_register_request(body(metadata(), f"  {upper}\n", " Document01 "), inline())

    assert [d.entry_id for d in read.request.documents] == [upper.lower(), "Document01"]


def test_comments_and_processing_instructions_are_ignored():
    root = body(metadata(), DOC1_ID)
    root.insert(0, etree.Comment("a comment"))
    root.append(etree.ProcessingInstruction("pi", "x"))

    read = read_provide_and_register_request(root, inline())

    assert read.findings == []
    assert [d.entry_id for d in read.request.documents] == [DOC1_ID]


def test_documents_are_not_paired_with_entries_here():
    """Pairing is the repository service's check (XDSMissingDocument…), not the reader's."""
    read = read_provide_and_register_request(body(metadata(), "NoSuchEntry"), inline())

    assert read.findings == []
    assert [d.entry_id for d in read.request.documents] == ["NoSuchEntry"]


# -- findings -----------------------------------------------------------------------------------------------------


def only(findings, fragment: str, code: str = REPOSITORY_ERROR):
    assert len(findings) == 1, findings
    finding = findings[0]
    assert finding.code == code and finding.is_error
    assert fragment in finding.message, finding.message
    return finding


def test_a_body_of_another_kind_gives_no_request():
    read = read_provide_and_register_request(metadata(), inline())

    assert read.request is None
    only(read.findings, f"expected {{{XDSB}}}ProvideAndRegisterDocumentSetRequest, got {{{LCM}}}SubmitObjectsRequest")


def test_a_request_without_metadata_is_an_error_and_its_documents_are_still_read():
    read = read_provide_and_register_request(body(DOC1_ID), inline())

    only(read.findings, "has no {urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0}SubmitObjectsRequest")
    assert not list(read.request.submission.objects())
    assert [d.entry_id for d in read.request.documents] == [DOC1_ID]


def test_several_submit_objects_requests_are_one_error_and_the_first_is_read():
    second = metadata()
    second.find(rim("RegistryObjectList")).clear()
    read = read_provide_and_register_request(body(metadata(), second, DOC1_ID), inline())

    only(read.findings, "has 2 SubmitObjectsRequests; ITI-41 carries exactly one")
    assert read.request.submission == valid_submission()


def test_a_document_without_id_is_reported_and_its_content_not_asked_for():
    calls: list[etree._Element] = []
    root = body(metadata(), DOC1_ID)
    etree.SubElement(root, xdsb("Document")).text = "QQ=="
    etree.SubElement(root, xdsb("Document"), id=" ").text = "QQ=="

    read = read_provide_and_register_request(root, resolver([], calls))

    assert [f.message.split(" has")[0] for f in read.findings] == ["Document 2", "Document 3"]
    assert all(f.code == REPOSITORY_ERROR and "has no id" in f.message for f in read.findings)
    assert [d.entry_id for d in read.request.documents] == [DOC1_ID]
    assert len(calls) == 1


def test_content_that_cannot_be_read_is_an_error_naming_the_document_and_why():
    root = body(metadata(), DOC1_ID)
    etree.SubElement(root, xdsb("Document"), id=DOC2_ID).text = "not base64 !"

    read = read_provide_and_register_request(root, inline())

    finding = only(read.findings, f"Document {DOC2_ID}: its content cannot be read: ")
    assert finding.message.endswith("Only base64 data is allowed")  # the reason content() gave
    assert finding.location == DOC2_ID
    assert [d.entry_id for d in read.request.documents] == [DOC1_ID]


def test_a_value_error_subclass_from_content_is_a_finding_with_its_message():
    class Unresolvable(ValueError):
        pass

    def content(el):
        raise Unresolvable("xop:Include refers to a missing MIME part: cid:gone@x")

    read = read_provide_and_register_request(body(metadata(), DOC1_ID), content)

    only(read.findings, "Document Document01: its content cannot be read: xop:Include refers to a missing MIME part")
    assert read.request.documents == []


def test_other_exceptions_from_content_are_not_findings():
    def content(el):
        raise RuntimeError("a bug, not a bad request")

    with pytest.raises(RuntimeError):
        read_provide_and_register_request(body(metadata(), DOC1_ID), content)


def test_an_unexpected_element_is_an_error_naming_it():
    read = read_provide_and_register_request(
        body(metadata(), etree.Element("{urn:example}Attachment"), etree.Element(xdsb("Documents")), DOC1_ID),
        inline(),
    )

    assert [f.code for f in read.findings] == [REPOSITORY_ERROR, REPOSITORY_ERROR]
    assert "unexpected element {urn:example}Attachment" in read.findings[0].message
    assert f"unexpected element {{{XDSB}}}Documents" in read.findings[1].message
    assert [d.entry_id for d in read.request.documents] == [DOC1_ID]


def test_the_metadata_findings_are_carried_over_first():
    sor = metadata()
    etree.SubElement(sor.find(rim("RegistryObjectList")), rim("RegistryPackage"), id="Stray")
    root = body(sor, DOC1_ID, etree.Element("Extra"))

    read = read_provide_and_register_request(root, inline())

    assert [f.code for f in read.findings] == [ErrorCode.REGISTRY_METADATA_ERROR, REPOSITORY_ERROR]
    assert "RegistryPackage Stray is classified neither" in read.findings[0].message
    assert "unexpected element Extra" in read.findings[1].message
