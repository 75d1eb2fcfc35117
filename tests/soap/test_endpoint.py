"""Tests for gateway.soap.endpoint through Flask's test client."""

import base64
import io
import logging
import pathlib

import flask
import pytest
from lxml import etree

from gateway.soap import endpoint as endpoint_module
from gateway.soap import envelope as envelope_module
from gateway.soap.endpoint import Operation, soap_blueprint
from gateway.soap.mtom import Attachment, AttachmentSizeError, parse_content_type, parse_multipart_related
from gateway.soap.namespaces import SOAP11, SOAP12, WSA, WSDL_SOAP12

from .messages import ECHO_ACTION, ECHO_RESPONSE_ACTION, MESSAGE_ID, SOAP_CT, envelope, mtom_request

NS = {"env": SOAP12, "wsa": WSA}
PATH = "/xds/test"
REGISTRY_WSDL = pathlib.Path(__file__).resolve().parents[2] / "wsdl" / "XDS.b_DocumentRegistry.wsdl"
SECRET = "SECRET-INTERNAL-DETAIL-42"


def echo(request):
    """Echo the request element; if it holds a Document, send it back as MTOM."""
    response = etree.Element("{urn:test}EchoResponse", nsmap={"t": "urn:test"})
    response.text = request.body.text
    document = request.body.find("{urn:test}Document")
    if document is None:
        return response, None
    holder = etree.SubElement(response, "{urn:test}Document")
    etree.SubElement(holder, "{http://www.w3.org/2004/08/xop/include}Include", href="cid:back%40gateway")
    return response, [Attachment("back@gateway", "application/octet-stream", data=request.binary_content(document))]


STREAMED = bytes(range(256)) * 1000
opened = []


def stream(request):
    """Answer with an attachment streamed in pieces, recording when it is opened."""
    response = etree.Element("{urn:test}StreamResponse")
    holder = etree.SubElement(response, "{urn:test}Document")
    etree.SubElement(holder, "{http://www.w3.org/2004/08/xop/include}Include", href="cid:s@gateway")
    size = {"exact": len(STREAMED), "unknown": None, "wrong": len(STREAMED) + 1}[request.body.text]

    def chunks():
        opened.append(request.body.text)
        return (STREAMED[offset:offset + 4096] for offset in range(0, len(STREAMED), 4096))

    return response, [Attachment("s@gateway", "application/octet-stream", chunks=chunks, size=size)]


def empty(request):
    return etree.Element("{urn:test}EmptyResponse"), None


def explode(request):
    raise RuntimeError(SECRET)


@pytest.fixture
def max_bytes():
    return {"value": 1 << 20}


@pytest.fixture
def client(max_bytes, large_documents):
    app = flask.Flask(__name__)
    app.register_blueprint(
        soap_blueprint(
            "test_soap",
            PATH,
            [
                Operation(ECHO_ACTION, ECHO_RESPONSE_ACTION, echo),
                Operation("urn:test:Explode", "urn:test:ExplodeResponse", explode),
                Operation("urn:test:Stream", "urn:test:StreamResponse", stream),
                Operation("urn:test:Empty", "urn:test:EmptyResponse", empty, mtom_response=True),
            ],
            REGISTRY_WSDL,
            max_bytes_getter=lambda: max_bytes["value"],
            large_documents=large_documents,
        )
    )
    return app.test_client()


@pytest.fixture
def large_documents():
    return False


def _fault(response) -> tuple[tuple[str, str], tuple[str, str] | None, str]:
    """(Code/Value, Subcode/Value or None, Reason/Text) with resolved QNames."""
    assert response.mimetype == "application/soap+xml"
    root = etree.fromstring(response.data)

    def resolve(element):
        prefix, _, local = element.text.strip().partition(":")
        return element.nsmap[prefix], local

    code = root.find("env:Body/env:Fault/env:Code/env:Value", NS)
    subcode = root.find("env:Body/env:Fault/env:Code/env:Subcode/env:Value", NS)
    reason = root.find("env:Body/env:Fault/env:Reason/env:Text", NS)
    return resolve(code), (resolve(subcode) if subcode is not None else None), reason.text


def test_plain_request(client):
    response = client.post(PATH, data=envelope(), content_type=SOAP_CT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f'application/soap+xml; charset=UTF-8; action="{ECHO_RESPONSE_ACTION}"'
    root = etree.fromstring(response.data)
    assert root.find("env:Header/wsa:Action", NS).text == ECHO_RESPONSE_ACTION
    assert root.find("env:Header/wsa:RelatesTo", NS).text == MESSAGE_ID
    assert root.find("env:Header/wsa:MessageID", NS).text != MESSAGE_ID
    payload = root.find("env:Body/{urn:test}EchoResponse", NS)
    assert payload.text == "hello"


def test_mtom_request_gets_mtom_response(client):
    # Looks like the request's boundary (MIME_b0undary) but is not one.
    data = b"\x00\r\n--MIME_b0undar\r\n--MIME_b0undaryX\r\nbinary\xff"
    body = '<t:Echo xmlns:t="urn:test">x<t:Document><xop:Include href="cid:doc1@client"/></t:Document></t:Echo>'
    content_type, raw = mtom_request(envelope(body=body), [("doc1@client", data)])
    response = client.post(PATH, data=raw, content_type=content_type)
    assert response.status_code == 200
    media, params = parse_content_type(response.headers["Content-Type"])
    assert media == "multipart/related"
    assert params["type"] == "application/xop+xml"
    assert params["start-info"] == f'application/soap+xml; action="{ECHO_RESPONSE_ACTION}"'
    assert response.headers["Content-Length"] == str(len(response.data))
    root_part, attachments = parse_multipart_related(response.headers["Content-Type"], response.data)
    assert attachments["back@gateway"].data == data
    root = etree.fromstring(root_part.data)
    assert root.find("env:Header/wsa:RelatesTo", NS).text == MESSAGE_ID
    include = root.find("env:Body/{urn:test}EchoResponse/{urn:test}Document/{http://www.w3.org/2004/08/xop/include}Include", NS)
    assert include.get("href") == "cid:back%40gateway"


def test_mtom_request_without_attachments_gets_mtom_response(client):
    content_type, raw = mtom_request(envelope(), [])
    response = client.post(PATH, data=raw, content_type=content_type)
    assert response.status_code == 200
    assert response.mimetype == "multipart/related"
    root_part, attachments = parse_multipart_related(response.headers["Content-Type"], response.data)
    assert attachments == {}
    assert etree.fromstring(root_part.data).find("env:Body/{urn:test}EchoResponse", NS).text == "hello"


def test_request_body_is_read_into_one_buffer_that_parts_are_views_of(client, monkeypatch):
    seen = []
    real = endpoint_module.parse_soap_request

    def spy(content_type, body, **kwargs):
        request = real(content_type, body, **kwargs)
        seen.append((body, request.attachments["doc1@client"].data))
        return request

    monkeypatch.setattr(endpoint_module, "parse_soap_request", spy)
    body = '<t:Echo xmlns:t="urn:test"><t:Document><xop:Include href="cid:doc1@client"/></t:Document></t:Echo>'
    content_type, raw = mtom_request(envelope(body=body), [("doc1@client", b"%PDF-1.4")])
    assert client.post(PATH, data=raw, content_type=content_type).status_code == 200
    [(buffer, part)] = seen
    assert isinstance(buffer, bytearray) and buffer == raw
    assert part.obj is buffer


def test_plain_request_with_inline_document_gets_mtom_response(client):
    data = bytes(range(256))
    body = f'<t:Echo xmlns:t="urn:test"><t:Document>{base64.encodebytes(data).decode()}</t:Document></t:Echo>'
    response = client.post(PATH, data=envelope(body=body), content_type=SOAP_CT)
    assert response.status_code == 200
    _, attachments = parse_multipart_related(response.headers["Content-Type"], response.data)
    assert attachments["back@gateway"].data == data


def test_mtom_response_operation_answers_a_plain_request_in_mtom(client):
    response = client.post(PATH, data=envelope(action="urn:test:Empty"), content_type=SOAP_CT)
    assert response.status_code == 200
    root_part, attachments = parse_multipart_related(response.headers["Content-Type"], response.data)
    assert attachments == {}
    assert etree.fromstring(root_part.data).find("env:Body/{urn:test}EmptyResponse", NS) is not None


@pytest.mark.parametrize("size", ["exact", "unknown"])
def test_streamed_attachment_response(client, size):
    raw = envelope(action="urn:test:Stream", body=f'<t:Stream xmlns:t="urn:test">{size}</t:Stream>')
    response = client.post(PATH, data=raw, content_type=SOAP_CT)
    assert response.status_code == 200
    assert response.is_streamed
    if size == "exact":
        assert response.headers["Content-Length"] == str(len(response.data))
    else:
        assert "Content-Length" not in response.headers
    _, attachments = parse_multipart_related(response.headers["Content-Type"], response.data)
    assert attachments["s@gateway"].data == STREAMED


def test_streamed_attachment_of_the_wrong_size_aborts_the_body(client):
    raw = envelope(action="urn:test:Stream", body='<t:Stream xmlns:t="urn:test">wrong</t:Stream>')
    response = client.post(PATH, data=raw, content_type=SOAP_CT)
    assert response.status_code == 200  # already sent when the mismatch shows
    with pytest.raises(AttachmentSizeError):
        response.get_data()


class _ReadOnlyStream:
    """A WSGI input stream with nothing but read() (PEP 3333 asks no more)."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def read(self, size=-1):
        return self._data.read(size)


@pytest.mark.parametrize("stream_type", [io.BytesIO, _ReadOnlyStream])
def test_body_shorter_than_content_length_is_read_as_far_as_it_goes(client, stream_type):
    raw = envelope()
    response = client.post(
        PATH,
        content_type=SOAP_CT,
        environ_overrides={
            "wsgi.input": stream_type(raw),
            "CONTENT_LENGTH": str(len(raw) + 100),
            # The server terminates the stream: werkzeug hands it over as is.
            "wsgi.input_terminated": True,
        },
    )
    assert response.status_code == 200


def _inline_document_request(size: int) -> bytes:
    text = base64.b64encode(bytes(size)).decode()  # one text node of 4/3 size
    return envelope(body=f'<t:Echo xmlns:t="urn:test"><t:Document>{text}</t:Document></t:Echo>')


@pytest.mark.parametrize("large_documents", [True])
def test_large_documents_endpoint_accepts_large_inline_document(client, max_bytes, large_documents):
    raw = _inline_document_request(9 << 20)
    max_bytes["value"] = len(raw)
    response = client.post(PATH, data=raw, content_type=SOAP_CT)
    assert response.status_code == 200
    _, attachments = parse_multipart_related(response.headers["Content-Type"], response.data)
    assert attachments["back@gateway"].data == bytes(9 << 20)


def test_default_endpoint_refuses_large_text_nodes(client, max_bytes):
    raw = _inline_document_request(9 << 20)
    max_bytes["value"] = len(raw)
    response = client.post(PATH, data=raw, content_type=SOAP_CT)
    assert response.status_code == 400
    code, _, reason = _fault(response)
    assert code == (SOAP12, "Sender")
    assert reason.startswith("the XML is not well-formed: ")


def test_unknown_action(client):
    response = client.post(PATH, data=envelope(action="urn:test:Nope"), content_type=SOAP_CT)
    assert response.status_code == 400
    code, subcode, reason = _fault(response)
    assert code == (SOAP12, "Sender")
    assert subcode == (WSA, "ActionNotSupported")
    assert reason == (
        "The action urn:test:Nope is not supported at this endpoint; "
        "supported actions: urn:test:Echo, urn:test:Empty, urn:test:Explode, urn:test:Stream"
    )
    root = etree.fromstring(response.data)
    assert root.find("env:Header/wsa:RelatesTo", NS).text == MESSAGE_ID
    assert root.find("env:Body/env:Fault/env:Detail/wsa:ProblemAction/wsa:Action", NS).text == "urn:test:Nope"


def test_missing_action(client):
    response = client.post(PATH, data=envelope(action=None), content_type=SOAP_CT)
    assert response.status_code == 400
    code, subcode, reason = _fault(response)
    assert (code, subcode) == ((SOAP12, "Sender"), (WSA, "MessageAddressingHeaderRequired"))
    assert "wsa:Action" in reason


def _relates_to(response) -> str | None:
    return etree.fromstring(response.data).findtext("env:Header/wsa:RelatesTo", namespaces=NS)


def _subsubcode(response) -> tuple[str, str]:
    value = etree.fromstring(response.data).find(
        "env:Body/env:Fault/env:Code/env:Subcode/env:Subcode/env:Value", NS
    )
    prefix, _, local = value.text.strip().partition(":")
    return value.nsmap[prefix], local


@pytest.mark.parametrize("content_type", ["text/xml; charset=UTF-8", SOAP_CT])
def test_soap11_envelope_gets_soap11_version_mismatch(client, content_type):
    """SOAP 1.2 Part 1 §5.4.7 and Appendix A: a SOAP 1.1 fault with the Upgrade header."""
    response = client.post(PATH, data=envelope(soap_ns=SOAP11), content_type=content_type)
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "text/xml; charset=UTF-8"
    root = etree.fromstring(response.data)
    assert root.tag == f"{{{SOAP11}}}Envelope"
    ns = {"soapenv": SOAP11, "env": SOAP12}
    [supported] = root.findall("soapenv:Header/env:Upgrade/env:SupportedEnvelope", ns)
    prefix, _, local = supported.get("qname").partition(":")
    assert (supported.nsmap[prefix], local) == (SOAP12, "Envelope")
    fault = root.find("soapenv:Body/soapenv:Fault", ns)
    assert [child.tag for child in fault] == ["faultcode", "faultstring"]
    prefix, _, local = fault.findtext("faultcode").partition(":")
    assert (fault.nsmap[prefix], local) == (SOAP11, "VersionMismatch")
    assert fault.findtext("faultstring").startswith("SOAP 1.1 envelopes are not supported")
    # Nothing of SOAP 1.2 in the answer but the Upgrade block.
    assert root.find(f".//{{{SOAP12}}}Fault") is None
    assert root.find(f".//{{{WSA}}}Action") is None


# ------------------------------------------------- robustness (review #1) --

def _mtom_with_root_type(root_type: bytes) -> tuple[str, bytes]:
    content_type, raw = mtom_request(envelope(), [])
    return content_type, raw.replace(
        b'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"',
        b"Content-Type: " + root_type,
    )


def test_mtom_root_part_type_with_control_character(client):
    content_type, raw = _mtom_with_root_type(b"text/\x01plain")
    response = client.post(PATH, data=raw, content_type=content_type)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/soap+xml; charset=UTF-8"
    assert _fault(response) == (
        (SOAP12, "Sender"),
        None,
        "malformed MTOM message: the root part is text/\\x01plain, XOP 1.0 wants application/xop+xml",
    )


def test_mtom_root_part_of_wrong_type_is_malformed_package(client):
    # The request's media type (multipart/related, type application/xop+xml)
    # is supported: a root part of another type is a bad package, not a 415.
    content_type, raw = _mtom_with_root_type(b"text/plain")
    response = client.post(PATH, data=raw, content_type=content_type)
    assert response.status_code == 400
    assert _fault(response)[:2] == ((SOAP12, "Sender"), None)


def test_mtom_duplicate_content_id_with_control_character(client):
    content_type, raw = mtom_request(envelope(), [("a\x00\x01b@client", b"1"), ("a\x00\x01b@client", b"2")])
    response = client.post(PATH, data=raw, content_type=content_type)
    assert response.status_code == 400
    assert _fault(response) == (
        (SOAP12, "Sender"),
        None,
        "malformed MTOM message: duplicate Content-ID <a\\x00\\x01b@client>",
    )


def _broken(*args, **kwargs):
    raise RuntimeError(SECRET)


@pytest.mark.parametrize(
    ("module", "name", "relates_to"),
    [
        (endpoint_module, "_read_body", None),
        (endpoint_module, "parse_soap_request", None),
        (endpoint_module, "build_soap_response", MESSAGE_ID),
        (endpoint_module, "build_multipart_related", MESSAGE_ID),
    ],
)
def test_any_exception_is_generic_receiver_fault(client, caplog, monkeypatch, module, name, relates_to):
    monkeypatch.setattr(module, name, _broken)
    content_type, raw = mtom_request(envelope(), [])
    with caplog.at_level(logging.ERROR, logger="gateway.soap.endpoint"):
        response = client.post(PATH, data=raw, content_type=content_type)
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/soap+xml; charset=UTF-8"
    assert _fault(response) == ((SOAP12, "Receiver"), None, "internal error, see server log")
    assert SECRET.encode() not in response.data
    assert _relates_to(response) == relates_to
    assert any(record.exc_info and SECRET in str(record.exc_info[1]) for record in caplog.records)


def test_exception_while_building_a_fault_is_generic_receiver_fault(client, caplog, monkeypatch):
    real = envelope_module.build_soap_fault

    def fails_for_sender(fault, relates_to=None):
        if fault.code == "Sender":
            raise RuntimeError(SECRET)
        return real(fault, relates_to)

    monkeypatch.setattr(endpoint_module, "build_soap_fault", fails_for_sender)
    with caplog.at_level(logging.ERROR, logger="gateway.soap.endpoint"):
        response = client.post(PATH, data=envelope(action=None), content_type=SOAP_CT)
    assert response.status_code == 500
    assert _fault(response) == ((SOAP12, "Receiver"), None, "internal error, see server log")
    assert _relates_to(response) == MESSAGE_ID
    assert any(record.exc_info and SECRET in str(record.exc_info[1]) for record in caplog.records)


# ------------------------------------------- WS-Addressing (review #3, #4) --

def _epr(name: str, address: str) -> str:
    return f"<wsa:{name}><wsa:Address>{address}</wsa:Address></wsa:{name}>"


@pytest.mark.parametrize(
    "address", ["http://client.example.org/replies", "http://www.w3.org/2005/08/addressing/none"]
)
def test_non_anonymous_reply_to(client, address):
    response = client.post(PATH, data=envelope(extra_headers=_epr("ReplyTo", address)), content_type=SOAP_CT)
    assert response.status_code == 400
    code, subcode, reason = _fault(response)
    assert (code, subcode) == ((SOAP12, "Sender"), (WSA, "InvalidAddressingHeader"))
    assert _subsubcode(response) == (WSA, "OnlyAnonymousAddressSupported")
    assert reason.startswith("Only anonymous address supported")
    root = etree.fromstring(response.data)
    assert root.findtext("env:Header/wsa:Action", namespaces=NS) == "http://www.w3.org/2005/08/addressing/fault"
    problem = root.find("env:Body/env:Fault/env:Detail/wsa:ProblemHeaderQName", NS)
    prefix, _, local = problem.text.partition(":")
    assert (problem.nsmap[prefix], local) == (WSA, "ReplyTo")
    assert _relates_to(response) == MESSAGE_ID


def test_non_anonymous_fault_to(client):
    extra = _epr("FaultTo", "http://client.example.org/faults")
    response = client.post(PATH, data=envelope(extra_headers=extra), content_type=SOAP_CT)
    assert response.status_code == 400
    assert _fault(response)[:2] == ((SOAP12, "Sender"), (WSA, "InvalidAddressingHeader"))
    assert _subsubcode(response) == (WSA, "OnlyAnonymousAddressSupported")
    root = etree.fromstring(response.data)
    assert root.findtext("env:Body/env:Fault/env:Detail/wsa:ProblemHeaderQName", namespaces=NS) == "wsa:FaultTo"


@pytest.mark.parametrize(
    "extra",
    [
        "",
        _epr("ReplyTo", "http://www.w3.org/2005/08/addressing/anonymous"),
        _epr("FaultTo", "http://www.w3.org/2005/08/addressing/anonymous"),
        _epr("FaultTo", "http://www.w3.org/2005/08/addressing/none"),
        _epr("ReplyTo", "http://www.w3.org/2005/08/addressing/anonymous")
        + _epr("FaultTo", "http://www.w3.org/2005/08/addressing/none"),
    ],
)
def test_anonymous_response_endpoints_accepted(client, extra):
    response = client.post(PATH, data=envelope(extra_headers=extra), content_type=SOAP_CT)
    assert response.status_code == 200


def test_missing_action_fault_relates_to_message_id(client):
    response = client.post(PATH, data=envelope(action=None), content_type=SOAP_CT)
    assert response.status_code == 400
    assert _fault(response)[:2] == ((SOAP12, "Sender"), (WSA, "MessageAddressingHeaderRequired"))
    assert _relates_to(response) == MESSAGE_ID


def test_must_understand_fault_relates_to_message_id(client):
    extra = '<x:Custom xmlns:x="urn:x" env:mustUnderstand="true"/>'
    response = client.post(PATH, data=envelope(extra_headers=extra), content_type=SOAP_CT)
    assert response.status_code == 500
    assert _fault(response)[:2] == ((SOAP12, "MustUnderstand"), None)
    assert _relates_to(response) == MESSAGE_ID


def test_empty_action_fault_relates_to_message_id(client):
    response = client.post(PATH, data=envelope(action=" "), content_type=SOAP_CT)
    assert response.status_code == 400
    assert _fault(response)[:2] == ((SOAP12, "Sender"), (WSA, "InvalidAddressingHeader"))
    assert _relates_to(response) == MESSAGE_ID


def test_fault_without_message_id_has_no_relates_to(client):
    response = client.post(PATH, data=envelope(message_id=None), content_type=SOAP_CT)
    assert response.status_code == 400
    assert _fault(response)[:2] == ((SOAP12, "Sender"), (WSA, "MessageAddressingHeaderRequired"))
    assert _relates_to(response) is None


def test_dtd_refused(client):
    raw = envelope().replace(b'<?xml version="1.0" encoding="UTF-8"?>', b"<!DOCTYPE env:Envelope>")
    response = client.post(PATH, data=raw, content_type=SOAP_CT)
    assert response.status_code == 400
    assert _fault(response) == ((SOAP12, "Sender"), None, "DTDs are not accepted")


def test_unsupported_media_type(client):
    response = client.post(PATH, data=b"{}", content_type="application/json")
    assert response.status_code == 415
    code, _, _ = _fault(response)
    assert code == (SOAP12, "Sender")


def test_oversize_by_content_length(client, max_bytes):
    raw = envelope()
    max_bytes["value"] = len(raw) - 1
    response = client.post(PATH, data=raw, content_type=SOAP_CT)
    assert response.status_code == 413
    assert _fault(response) == ((SOAP12, "Sender"), None, f"request larger than {len(raw) - 1} bytes")


def test_exact_limit_accepted(client, max_bytes):
    raw = envelope()
    max_bytes["value"] = len(raw)
    assert client.post(PATH, data=raw, content_type=SOAP_CT).status_code == 200


class _CountingStream(io.BytesIO):
    """An input stream that records how many bytes were read from it."""

    def read(self, size=-1):
        chunk = super().read(size)
        self.consumed = getattr(self, "consumed", 0) + len(chunk)
        return chunk


def test_oversize_without_content_length_reads_bounded(client, max_bytes):
    max_bytes["value"] = 1000
    stream = _CountingStream(envelope(body="<t:Echo xmlns:t='urn:test'>" + "x" * 100_000 + "</t:Echo>"))
    response = client.post(
        PATH,
        input_stream=stream,
        content_type=SOAP_CT,
        # Chunked transfer coding: request.content_length is None, and the
        # server (here, the test client) terminates the input stream.
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert _fault(response)[2] == "request larger than 1000 bytes"
    assert stream.consumed == 1001


def test_small_request_without_content_length(client):
    response = client.post(
        PATH,
        input_stream=io.BytesIO(envelope()),
        content_type=SOAP_CT,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200


def test_handler_exception_is_receiver_fault_without_details(client, caplog):
    with caplog.at_level(logging.ERROR, logger="gateway.soap.endpoint"):
        response = client.post(PATH, data=envelope(action="urn:test:Explode"), content_type=SOAP_CT)
    assert response.status_code == 500
    assert _fault(response) == ((SOAP12, "Receiver"), None, "internal error, see server log")
    assert SECRET.encode() not in response.data
    assert b"Traceback" not in response.data
    assert b"RuntimeError" not in response.data
    assert etree.fromstring(response.data).find("env:Header/wsa:RelatesTo", NS).text == MESSAGE_ID
    # ... but the server log has the stack trace.
    assert any(record.exc_info and SECRET in str(record.exc_info[1]) for record in caplog.records)


def test_wsdl_served_with_rewritten_address(client):
    response = client.get(PATH + "?wsdl", base_url="https://xds.example.org:8443")
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = etree.fromstring(response.data)
    addresses = [element.get("location") for element in root.iter(f"{{{WSDL_SOAP12}}}address")]
    assert addresses == ["https://xds.example.org:8443/xds/test"]
    assert root.get("name") == "XDS.b_DocumentRegistry"


def test_wsdl_query_is_case_insensitive(client):
    response = client.get(PATH + "?WSDL")
    assert response.status_code == 200
    assert response.mimetype == "text/xml"


def test_get_without_wsdl(client):
    response = client.get(PATH)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.data == b"This is a SOAP 1.2 endpoint: send POST requests. Its WSDL is at http://localhost/xds/test?wsdl\n"


def test_other_methods_not_allowed(client):
    assert client.put(PATH, data=b"x").status_code == 405


def test_the_authenticate_hook_runs_before_dispatch_and_gives_the_handler_its_actor():
    from gateway.access.model import Actor
    from gateway.soap.envelope import SoapFault

    seen = []

    def whoami(request):
        response = etree.Element("{urn:test}EchoResponse")
        response.text = request.actor.id
        return response, None

    def authenticate(request):
        if request.body.text == "intruder":
            raise SoapFault("Sender", "who are you?", ("urn:test", "NoIdea"))
        return Actor(id=f"caller-{request.body.text}")

    def handler(request):
        seen.append(request.body.text)
        return whoami(request)

    app = flask.Flask(__name__)
    app.register_blueprint(soap_blueprint(
        "auth_soap", PATH, [Operation(ECHO_ACTION, ECHO_RESPONSE_ACTION, handler)], REGISTRY_WSDL,
        max_bytes_getter=lambda: 1 << 20, authenticate=authenticate,
    ))
    client = app.test_client()

    accepted = client.post(PATH, data=envelope(), content_type=SOAP_CT)
    refused = client.post(PATH, data=envelope(body='<t:Echo xmlns:t="urn:test">intruder</t:Echo>'),
                          content_type=SOAP_CT)

    assert etree.fromstring(accepted.data).find("env:Body/{urn:test}EchoResponse", NS).text == "caller-hello"
    assert refused.status_code == 400
    assert _fault(refused) == ((SOAP12, "Sender"), ("urn:test", "NoIdea"), "who are you?")
    assert etree.fromstring(refused.data).find("env:Header/wsa:RelatesTo", NS).text == MESSAGE_ID
    assert seen == ["hello"]
