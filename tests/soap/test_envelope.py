"""Tests for gateway.soap.envelope: request checks, responses and faults."""

import base64

import pytest
from lxml import etree

from gateway.soap.envelope import SoapFault, build_soap_fault, build_soap_response, parse_soap_request
from gateway.soap.namespaces import GATEWAY, SOAP11, SOAP12, WSA, WSA_ANONYMOUS, WSA_NONE, WSSE, XOP

from .messages import ECHO_ACTION, MESSAGE_ID, SOAP_CT, envelope, mtom_request

MAX = 1 << 20
NS = {"env": SOAP12, "wsa": WSA}


def _fault_of(content_type: str, body: bytes) -> SoapFault:
    with pytest.raises(SoapFault) as caught:
        parse_soap_request(content_type, body, max_bytes=MAX)
    return caught.value


def _qname(element: etree._Element) -> tuple[str, str]:
    """Resolve a QName-valued element's text against its in-scope prefixes."""
    prefix, _, local = element.text.strip().partition(":")
    return element.nsmap[prefix], local


# ------------------------------------------------------------------ parse --

def test_plain_request_parsed():
    request = parse_soap_request(SOAP_CT, envelope(), max_bytes=MAX)
    assert request.action == ECHO_ACTION
    assert request.message_id == MESSAGE_ID
    assert request.to == "http://localhost/xds/test"
    assert request.reply_to is None
    assert request.body.tag == "{urn:test}Echo"
    assert request.body.text == "hello"
    assert request.header.tag == f"{{{SOAP12}}}Header"
    assert request.envelope.tag == f"{{{SOAP12}}}Envelope"
    assert request.attachments == {}
    assert request.mtom is False


def test_reply_to_address():
    extra = "<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>"
    request = parse_soap_request(SOAP_CT, envelope(extra_headers=extra), max_bytes=MAX)
    assert request.reply_to == "http://www.w3.org/2005/08/addressing/anonymous"


def test_reply_to_without_address():
    fault = _fault_of(SOAP_CT, envelope(extra_headers="<wsa:ReplyTo/>"))
    assert (fault.code, fault.subcode, fault.detail) == ("Sender", (WSA, "InvalidAddressingHeader"), "wsa:ReplyTo")
    assert fault.subsubcode == (WSA, "MissingAddressInEPR")


def _epr(name: str, address: str) -> str:
    return f"<wsa:{name}><wsa:Address>{address}</wsa:Address></wsa:{name}>"


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("ReplyTo", "http://client.example.org/replies"),
        ("ReplyTo", WSA_NONE),
        ("FaultTo", "http://client.example.org/faults"),
        ("FaultTo", " urn:not:anonymous "),
    ],
)
def test_only_anonymous_response_endpoints(name, address):
    """WS-Addressing 1.0 SOAP Binding §6.4.1.7: the transactions are synchronous."""
    fault = _fault_of(SOAP_CT, envelope(extra_headers=_epr(name, address)))
    assert (fault.code, fault.subcode, fault.subsubcode, fault.detail, fault.http_status) == (
        "Sender", (WSA, "InvalidAddressingHeader"), (WSA, "OnlyAnonymousAddressSupported"), f"wsa:{name}", 400,
    )
    assert fault.relates_to == MESSAGE_ID


@pytest.mark.parametrize(
    "extra",
    [
        "",
        _epr("ReplyTo", f" {WSA_ANONYMOUS} "),
        _epr("FaultTo", WSA_ANONYMOUS),
        _epr("FaultTo", WSA_NONE),
    ],
)
def test_anonymous_response_endpoints_accepted(extra):
    request = parse_soap_request(SOAP_CT, envelope(extra_headers=extra), max_bytes=MAX)
    assert request.reply_to == (WSA_ANONYMOUS if "ReplyTo" in extra else None)


def test_fault_to_without_address():
    fault = _fault_of(SOAP_CT, envelope(extra_headers="<wsa:FaultTo><wsa:Address/></wsa:FaultTo>"))
    assert (fault.subcode, fault.subsubcode, fault.detail) == (
        (WSA, "InvalidAddressingHeader"), (WSA, "MissingAddressInEPR"), "wsa:FaultTo",
    )


def test_mtom_request_keeps_xop_include_and_part_is_a_view_of_the_body():
    data = b"%PDF-1.4\r\n\x00\xff--MIME_b0undary-not\r\n"
    body = '<t:Echo xmlns:t="urn:test"><t:Document><xop:Include href="cid:doc1%40client"/></t:Document></t:Echo>'
    content_type, raw = mtom_request(envelope(body=body), [("doc1@client", data)])
    raw = bytearray(raw)  # what the endpoint passes
    request = parse_soap_request(content_type, raw, max_bytes=MAX)
    assert request.mtom is True
    assert list(request.attachments) == ["doc1@client"]
    part = request.attachments["doc1@client"].data
    assert isinstance(part, memoryview) and part.obj is raw  # zero-copy
    assert part == data
    document = request.body[0]
    [include] = document
    assert include.tag == f"{{{XOP}}}Include"
    assert include.get("href") == "cid:doc1%40client"
    content = request.binary_content(document)
    assert isinstance(content, memoryview) and content.obj is raw
    assert content == data


def test_binary_content_of_a_plain_request_decodes_base64():
    body = '<t:Echo xmlns:t="urn:test"><t:Document>JVBE\n  Rg==\n</t:Document></t:Echo>'
    request = parse_soap_request(SOAP_CT, envelope(body=body), max_bytes=MAX)
    assert request.binary_content(request.body[0]) == b"%PDF"


@pytest.mark.parametrize(
    ("document", "parts", "reason"),
    [
        ('<xop:Include href="http://example.org/doc"/>', [("doc@client", b"x")],
         "xop:Include href must be a cid: URL, got 'http://example.org/doc'"),
        ('text<xop:Include href="cid:doc@client"/>', [("doc@client", b"x")],
         "an element holding xop:Include must have no other content"),
        ('<xop:Include href="cid:doc@client"/><t:Extra/>', [("doc@client", b"x")],
         "an element holding xop:Include must have no other content"),
    ],
    ids=["not-cid", "text-beside", "element-beside"],
)
def test_mtom_request_with_bad_xop_include(document, parts, reason):
    body = f'<t:Echo xmlns:t="urn:test"><t:Document>{document}</t:Document></t:Echo>'
    content_type, raw = mtom_request(envelope(body=body), parts)
    fault = _fault_of(content_type, raw)
    assert (fault.code, fault.subcode) == ("Sender", None)
    assert fault.reason == f"malformed MTOM message: {reason}"


def test_mtom_request_referencing_a_part_twice():
    body = (
        '<t:Echo xmlns:t="urn:test"><t:Document><xop:Include href="cid:doc@client"/></t:Document>'
        '<t:Document><xop:Include href="cid:doc%40client"/></t:Document></t:Echo>'
    )
    content_type, raw = mtom_request(envelope(body=body), [("doc@client", b"x")])
    fault = _fault_of(content_type, raw)
    assert fault.code == "Sender"
    assert fault.reason == "malformed MTOM message: MIME part <doc@client> is referenced by more than one xop:Include"


def _inline_document_request(size: int) -> bytes:
    text = base64.b64encode(bytes(range(256)) * (size // 256)).decode()
    return envelope(body=f'<t:Echo xmlns:t="urn:test"><t:Document>{text}</t:Document></t:Echo>')


def _fault_of_limit(raw: bytes, *, huge_tree: bool) -> SoapFault:
    with pytest.raises(SoapFault) as caught:
        parse_soap_request(SOAP_CT, raw, max_bytes=len(raw), huge_tree=huge_tree)
    return caught.value


def test_huge_tree_accepts_a_large_inline_document():
    raw = _inline_document_request(9 << 20)  # 12 MB of base64 text in one node
    request = parse_soap_request(SOAP_CT, raw, max_bytes=len(raw), huge_tree=True)
    assert request.binary_content(request.body[0]) == bytes(range(256)) * ((9 << 20) // 256)
    fault = _fault_of_limit(raw, huge_tree=False)
    assert fault.code == "Sender"
    assert fault.reason.startswith("the XML is not well-formed: ")
    assert "huge" in fault.reason.lower()  # libxml2: "... try XML_PARSE_HUGE" / "huge text node"


def test_huge_tree_still_refuses_a_dtd():
    raw = envelope().replace(b'<?xml version="1.0" encoding="UTF-8"?>', b"<!DOCTYPE env:Envelope>")
    fault = _fault_of_limit(raw, huge_tree=True)
    assert (fault.code, fault.reason) == ("Sender", "DTDs are not accepted")


def test_mtom_request_with_missing_part():
    body = '<t:Echo xmlns:t="urn:test"><t:Document><xop:Include href="cid:gone"/></t:Document></t:Echo>'
    content_type, raw = mtom_request(envelope(body=body), [])
    fault = _fault_of(content_type, raw)
    assert (fault.code, fault.http_status) == ("Sender", 400)
    assert fault.reason == "malformed MTOM message: xop:Include refers to a missing MIME part: cid:gone"


def test_malformed_mtom_package():
    fault = _fault_of('multipart/related; type="application/xop+xml"; boundary=x', b"--x\r\n\r\n<a/>")
    assert (fault.code, fault.http_status) == ("Sender", 400)
    assert fault.reason == "malformed MTOM message: the multipart body has no closing delimiter"


def test_multipart_that_is_not_xop_is_unsupported():
    fault = _fault_of('multipart/related; type="text/xml"; boundary=x', b"")
    assert (fault.code, fault.http_status) == ("Sender", 415)


@pytest.mark.parametrize("content_type", ["application/json", "", "text/plain; charset=UTF-8"])
def test_unsupported_media_type(content_type):
    fault = _fault_of(content_type, envelope())
    assert (fault.code, fault.subcode, fault.http_status) == ("Sender", None, 415)
    assert fault.reason.startswith("unsupported media type ")


def test_text_xml_soap12_envelope_is_unsupported_media():
    fault = _fault_of("text/xml; charset=UTF-8", envelope())
    assert (fault.code, fault.http_status) == ("Sender", 415)


@pytest.mark.parametrize("content_type", ["text/xml; charset=UTF-8", SOAP_CT])
def test_soap11_envelope_is_version_mismatch(content_type):
    fault = _fault_of(content_type, envelope(soap_ns=SOAP11))
    assert (fault.code, fault.subcode, fault.http_status) == ("VersionMismatch", None, 500)
    assert fault.soap11 is True
    assert fault.content_type == "text/xml; charset=UTF-8"


def test_mtom_root_part_of_another_type_is_malformed():
    content_type, raw = mtom_request(envelope(), [])
    raw = raw.replace(b"application/xop+xml; charset=UTF-8", b"text/\x01plain; charset=UTF-8", 1)
    fault = _fault_of(content_type, raw)
    assert (fault.code, fault.http_status) == ("Sender", 400)
    assert fault.reason == "malformed MTOM message: the root part is text/\x01plain, XOP 1.0 wants application/xop+xml"


def test_not_an_envelope():
    fault = _fault_of(SOAP_CT, b"<hello/>")
    assert (fault.code, fault.reason) == ("Sender", "the document element is hello, not a SOAP 1.2 Envelope")


def test_dtd_is_sender_fault():
    raw = envelope().replace(
        b'<?xml version="1.0" encoding="UTF-8"?>', b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    )
    fault = _fault_of(SOAP_CT, raw)
    assert (fault.code, fault.reason, fault.http_status) == ("Sender", "DTDs are not accepted", 400)


def test_malformed_xml_is_sender_fault():
    fault = _fault_of(SOAP_CT, envelope()[:-5])
    assert fault.code == "Sender"
    assert fault.reason.startswith("the XML is not well-formed: ")


def test_oversize_is_413():
    with pytest.raises(SoapFault) as caught:
        parse_soap_request(SOAP_CT, envelope(), max_bytes=100)
    assert (caught.value.code, caught.value.http_status) == ("Sender", 413)
    assert caught.value.reason == "request larger than 100 bytes"


def test_processing_instruction_refused():
    raw = envelope().replace(b"<env:Body>", b"<env:Body><?php evil?>")
    fault = _fault_of(SOAP_CT, raw)
    assert (fault.code, fault.reason) == ("Sender", "processing instructions are not allowed in a SOAP message")


def test_missing_body():
    raw = envelope().replace(b"<env:Body>", b"<env:Other>").replace(b"</env:Body>", b"</env:Other>")
    fault = _fault_of(SOAP_CT, raw)
    assert fault.code == "Sender"
    assert fault.reason == "the SOAP Envelope must contain an optional Header followed by a Body and nothing else"


def test_empty_body():
    fault = _fault_of(SOAP_CT, envelope(body="<!-- nothing -->"))
    assert (fault.code, fault.reason) == ("Sender", "the SOAP Body is empty")


def test_two_body_elements():
    fault = _fault_of(SOAP_CT, envelope(body="<a/><b/>"))
    assert (fault.code, fault.reason) == ("Sender", "the SOAP Body must contain exactly one element, found 2")


def test_missing_action():
    fault = _fault_of(SOAP_CT, envelope(action=None))
    assert (fault.code, fault.subcode, fault.detail) == ("Sender", (WSA, "MessageAddressingHeaderRequired"), "wsa:Action")
    assert "wsa:Action" in fault.reason


def test_missing_message_id():
    fault = _fault_of(SOAP_CT, envelope(message_id=None))
    assert (fault.code, fault.subcode, fault.detail) == (
        "Sender", (WSA, "MessageAddressingHeaderRequired"), "wsa:MessageID",
    )


def test_empty_action():
    fault = _fault_of(SOAP_CT, envelope(action="  "))
    assert (fault.code, fault.subcode, fault.detail) == ("Sender", (WSA, "InvalidAddressingHeader"), "wsa:Action")


def test_duplicate_message_id():
    fault = _fault_of(SOAP_CT, envelope(extra_headers="<wsa:MessageID>urn:uuid:2</wsa:MessageID>"))
    assert (fault.code, fault.subcode, fault.detail) == ("Sender", (WSA, "InvalidAddressingHeader"), "wsa:MessageID")
    assert fault.subsubcode == (WSA, "InvalidCardinality")
    assert fault.relates_to is None  # two MessageIDs: neither is the one


# ------------------------------------------------------------ relates_to --

@pytest.mark.parametrize(
    "raw",
    [
        envelope(action=None),
        envelope(action=""),
        envelope(extra_headers='<x:Custom xmlns:x="urn:x" env:mustUnderstand="1"/>'),
        envelope(extra_headers='<x:A xmlns:x="urn:x" env:mustUnderstand="yes"/>'),
        envelope(extra_headers="<wsa:Action>urn:twice</wsa:Action>"),
        envelope(body=""),
        envelope(body="<a/><b/>"),
    ],
    ids=["missing-action", "empty-action", "must-understand", "bad-must-understand", "two-actions",
         "empty-body", "two-body-elements"],
)
def test_faults_after_the_header_relate_to_the_message_id(raw):
    assert _fault_of(SOAP_CT, raw).relates_to == MESSAGE_ID


def test_mtom_fault_relates_to_the_message_id():
    body = '<t:Echo xmlns:t="urn:test"><t:Document><xop:Include href="cid:gone"/></t:Document></t:Echo>'
    content_type, raw = mtom_request(envelope(body=body), [])
    assert _fault_of(content_type, raw).relates_to == MESSAGE_ID


@pytest.mark.parametrize(
    "raw",
    [
        envelope()[:-5],  # not well-formed: nothing is known
        envelope(soap_ns=SOAP11),
        envelope(message_id=None, action=None),
        envelope(message_id="<x/>"),
        envelope(message_id="  "),
    ],
    ids=["malformed", "soap11", "no-message-id", "structured-message-id", "empty-message-id"],
)
def test_faults_without_a_usable_message_id_relate_to_nothing(raw):
    assert _fault_of(SOAP_CT, raw).relates_to is None


def test_must_understand_unknown_header():
    extra = '<x:Custom xmlns:x="urn:x" env:mustUnderstand="1"/><y:Other xmlns:y="urn:y" env:mustUnderstand="false"/>'
    fault = _fault_of(SOAP_CT, envelope(extra_headers=extra))
    assert (fault.code, fault.http_status) == ("MustUnderstand", 500)
    assert fault.not_understood == [("urn:x", "Custom")]
    assert fault.reason == "header block(s) marked mustUnderstand were not understood: {urn:x}Custom"


def test_must_understand_for_other_roles_is_ignored():
    extra = (
        f'<x:A xmlns:x="urn:x" env:mustUnderstand="true" env:role="{SOAP12}/role/none"/>'
        '<x:B xmlns:x="urn:x" env:mustUnderstand="true" env:role="urn:some:other:role"/>'
    )
    assert parse_soap_request(SOAP_CT, envelope(extra_headers=extra), max_bytes=MAX).action == ECHO_ACTION


def test_must_understand_next_role_is_ours():
    extra = f'<x:A xmlns:x="urn:x" env:mustUnderstand="true" env:role="{SOAP12}/role/next"/>'
    assert _fault_of(SOAP_CT, envelope(extra_headers=extra)).code == "MustUnderstand"


def test_wsse_security_is_understood():
    extra = f'<wsse:Security xmlns:wsse="{WSSE}" env:mustUnderstand="true"/>'
    request = parse_soap_request(SOAP_CT, envelope(extra_headers=extra), max_bytes=MAX)
    assert request.header.find(f"{{{WSSE}}}Security") is not None


def test_invalid_must_understand_value():
    fault = _fault_of(SOAP_CT, envelope(extra_headers='<x:A xmlns:x="urn:x" env:mustUnderstand="yes"/>'))
    assert (fault.code, fault.reason) == ("Sender", "invalid env:mustUnderstand value 'yes' (expected true, false, 1 or 0)")


# ------------------------------------------------------------------ build --

def test_build_soap_response():
    payload = etree.fromstring(b'<r:Resp xmlns:r="urn:r">ok</r:Resp>')
    raw = build_soap_response("urn:test:EchoResponse", MESSAGE_ID, payload)
    assert raw.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n")
    root = etree.fromstring(raw)
    assert root.tag == f"{{{SOAP12}}}Envelope"
    action = root.find("env:Header/wsa:Action", NS)
    assert action.text == "urn:test:EchoResponse"
    assert action.get(f"{{{SOAP12}}}mustUnderstand") == "1"
    assert root.find("env:Header/wsa:RelatesTo", NS).text == MESSAGE_ID
    assert root.find("env:Header/wsa:MessageID", NS).text.startswith("urn:uuid:")
    assert len(root.find("env:Header/wsa:MessageID", NS).text) == len("urn:uuid:") + 36
    body = root.find("env:Body", NS)
    assert [child.tag for child in body] == ["{urn:r}Resp"]
    assert body[0].text == "ok"


def test_build_soap_response_without_relates_to():
    root = etree.fromstring(build_soap_response("urn:a", None, etree.Element("x")))
    assert root.find("env:Header/wsa:RelatesTo", NS) is None


def test_fault_with_wsa_subcode():
    fault = SoapFault("Sender", "nope", (WSA, "ActionNotSupported"), "urn:bad")
    root = etree.fromstring(build_soap_fault(fault, relates_to=MESSAGE_ID))
    assert root.find("env:Header/wsa:Action", NS).text == "http://www.w3.org/2005/08/addressing/fault"
    assert root.find("env:Header/wsa:RelatesTo", NS).text == MESSAGE_ID
    assert _qname(root.find("env:Body/env:Fault/env:Code/env:Value", NS)) == (SOAP12, "Sender")
    assert _qname(root.find("env:Body/env:Fault/env:Code/env:Subcode/env:Value", NS)) == (WSA, "ActionNotSupported")
    text = root.find("env:Body/env:Fault/env:Reason/env:Text", NS)
    assert text.text == "nope"
    assert text.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert root.find("env:Body/env:Fault/env:Detail/wsa:ProblemAction/wsa:Action", NS).text == "urn:bad"


def test_fault_problem_header_detail():
    fault = SoapFault("Sender", "missing", (WSA, "MessageAddressingHeaderRequired"), "wsa:Action")
    root = etree.fromstring(build_soap_fault(fault))
    problem = root.find("env:Body/env:Fault/env:Detail/wsa:ProblemHeaderQName", NS)
    assert _qname(problem) == (WSA, "Action")
    assert root.find("env:Header/wsa:RelatesTo", NS) is None


def test_fault_with_foreign_subcode_declares_prefix():
    fault = SoapFault("Receiver", "db down", ("urn:gw:errors", "Unavailable"), "try later")
    root = etree.fromstring(build_soap_fault(fault))
    assert root.find("env:Header/wsa:Action", NS).text == "http://www.w3.org/2005/08/addressing/soap/fault"
    assert _qname(root.find("env:Body/env:Fault/env:Code/env:Value", NS)) == (SOAP12, "Receiver")
    assert _qname(root.find("env:Body/env:Fault/env:Code/env:Subcode/env:Value", NS)) == ("urn:gw:errors", "Unavailable")
    assert root.find(f"env:Body/env:Fault/env:Detail/{{{GATEWAY}}}Message", NS).text == "try later"
    assert fault.http_status == 500


def test_fault_without_subcode_or_detail():
    root = etree.fromstring(build_soap_fault(SoapFault("Sender", "bad")))
    code = root.find("env:Body/env:Fault/env:Code", NS)
    assert [child.tag for child in code] == [f"{{{SOAP12}}}Value"]
    assert root.find("env:Body/env:Fault/env:Detail", NS) is None


def test_version_mismatch_fault_has_upgrade_header():
    root = etree.fromstring(build_soap_fault(SoapFault("VersionMismatch", "SOAP 1.1")))
    supported = root.find("env:Header/env:Upgrade/env:SupportedEnvelope", NS)
    prefix, _, local = supported.get("qname").partition(":")
    assert (supported.nsmap[prefix], local) == (SOAP12, "Envelope")


def test_must_understand_fault_has_not_understood_headers():
    fault = SoapFault("MustUnderstand", "no", not_understood=[("urn:x", "Custom")])
    root = etree.fromstring(build_soap_fault(fault))
    block = root.find("env:Header/env:NotUnderstood", NS)
    prefix, _, local = block.get("qname").partition(":")
    assert (block.nsmap[prefix], local) == ("urn:x", "Custom")


@pytest.mark.parametrize(
    ("code", "status"),
    [("Sender", 400), ("Receiver", 500), ("VersionMismatch", 500), ("MustUnderstand", 500), ("DataEncodingUnknown", 500)],
)
def test_fault_http_status(code, status):
    assert SoapFault(code, "x").http_status == status
    assert SoapFault(code, "x", http_status=415).http_status == 415


def test_unknown_fault_code_refused():
    with pytest.raises(ValueError):
        SoapFault("Client", "SOAP 1.1 code")


def test_fault_texts_with_characters_xml_cannot_carry():
    fault = SoapFault(
        "Sender", "unsupported media type text/\x01plain\x00 \ud800", ("urn:gw", "X"), "detail \x02\ufffe",
        relates_to="urn:uuid:\x03",
    )
    root = etree.fromstring(build_soap_fault(fault))  # used to raise ValueError
    assert root.findtext("env:Body/env:Fault/env:Reason/env:Text", namespaces=NS) == (
        "unsupported media type text/\\x01plain\\x00 \\ud800"
    )
    assert root.findtext(f"env:Body/env:Fault/env:Detail/{{{GATEWAY}}}Message", namespaces=NS) == "detail \\x02\\ufffe"
    assert root.findtext("env:Header/wsa:RelatesTo", namespaces=NS) == "urn:uuid:\\x03"


@pytest.mark.parametrize(
    ("subcode", "detail", "path"),
    [
        ((WSA, "ActionNotSupported"), "urn:\x01", "env:Body/env:Fault/env:Detail/wsa:ProblemAction/wsa:Action"),
        ((WSA, "InvalidAddressingHeader"), "wsa:\x01", "env:Body/env:Fault/env:Detail/wsa:ProblemHeaderQName"),
    ],
)
def test_wsa_fault_details_are_made_xml_safe(subcode, detail, path):
    root = etree.fromstring(build_soap_fault(SoapFault("Sender", "r", subcode, detail)))
    assert root.findtext(path, namespaces=NS) == detail.replace("\x01", "\\x01")


def test_fault_with_subsubcode():
    fault = SoapFault(
        "Sender", "only anonymous", (WSA, "InvalidAddressingHeader"), "wsa:ReplyTo",
        subsubcode=(WSA, "OnlyAnonymousAddressSupported"),
    )
    root = etree.fromstring(build_soap_fault(fault, relates_to=MESSAGE_ID))
    code = root.find("env:Body/env:Fault/env:Code", NS)
    assert _qname(code.find("env:Value", NS)) == (SOAP12, "Sender")
    subcode = code.find("env:Subcode", NS)
    assert [child.tag for child in subcode] == [f"{{{SOAP12}}}Value", f"{{{SOAP12}}}Subcode"]
    assert _qname(subcode.find("env:Value", NS)) == (WSA, "InvalidAddressingHeader")
    subsubcode = subcode.find("env:Subcode", NS)
    assert [child.tag for child in subsubcode] == [f"{{{SOAP12}}}Value"]
    assert _qname(subsubcode.find("env:Value", NS)) == (WSA, "OnlyAnonymousAddressSupported")
    assert _qname(root.find("env:Body/env:Fault/env:Detail/wsa:ProblemHeaderQName", NS)) == (WSA, "ReplyTo")
    assert root.findtext("env:Header/wsa:Action", namespaces=NS) == "http://www.w3.org/2005/08/addressing/fault"


def test_subsubcode_needs_subcode():
    with pytest.raises(ValueError):
        SoapFault("Sender", "x", subsubcode=(WSA, "OnlyAnonymousAddressSupported"))


def test_fault_relates_to_defaults_to_the_faults():
    fault = SoapFault("Sender", "x", relates_to=MESSAGE_ID)
    root = etree.fromstring(build_soap_fault(fault))
    assert root.findtext("env:Header/wsa:RelatesTo", namespaces=NS) == MESSAGE_ID
    root = etree.fromstring(build_soap_fault(fault, relates_to="urn:uuid:other"))
    assert root.findtext("env:Header/wsa:RelatesTo", namespaces=NS) == "urn:uuid:other"


def test_soap11_version_mismatch_fault():
    """SOAP 1.2 Part 1 Appendix A: SOAP 1.1 envelope, faultcode, Upgrade block."""
    fault = SoapFault("VersionMismatch", "SOAP 1.1 \x01", soap11=True)
    assert (fault.http_status, fault.content_type) == (500, "text/xml; charset=UTF-8")
    root = etree.fromstring(build_soap_fault(fault, relates_to=MESSAGE_ID))
    ns = {"soapenv": SOAP11, "env": SOAP12}
    assert root.tag == f"{{{SOAP11}}}Envelope"
    assert [child.tag for child in root] == [f"{{{SOAP11}}}Header", f"{{{SOAP11}}}Body"]
    [block] = root.find("soapenv:Header", ns)
    assert block.tag == f"{{{SOAP12}}}Upgrade"
    [supported] = block
    assert supported.tag == f"{{{SOAP12}}}SupportedEnvelope"
    prefix, _, local = supported.get("qname").partition(":")
    assert (supported.nsmap[prefix], local) == (SOAP12, "Envelope")
    [fault_element] = root.find("soapenv:Body", ns)
    assert fault_element.tag == f"{{{SOAP11}}}Fault"
    assert fault_element.findtext("faultcode") == "soapenv:VersionMismatch"
    assert fault_element.nsmap["soapenv"] == SOAP11
    assert fault_element.findtext("faultstring") == "SOAP 1.1 \\x01"


def test_soap11_only_for_version_mismatch():
    with pytest.raises(ValueError):
        SoapFault("Sender", "x", soap11=True)
