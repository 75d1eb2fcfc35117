"""Tests for gateway.soap.endpoint through Flask's test client."""

import base64
import io
import logging
import pathlib

import flask
import pytest
from lxml import etree

from gateway.soap.endpoint import Operation, soap_blueprint
from gateway.soap.mtom import parse_content_type, parse_multipart_related
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
    return response, [("back@gateway", "application/octet-stream", base64.b64decode(document.text))]


def explode(request):
    raise RuntimeError(SECRET)


@pytest.fixture
def max_bytes():
    return {"value": 1 << 20}


@pytest.fixture
def client(max_bytes):
    app = flask.Flask(__name__)
    app.register_blueprint(
        soap_blueprint(
            "test_soap",
            PATH,
            [
                Operation(ECHO_ACTION, ECHO_RESPONSE_ACTION, echo),
                Operation("urn:test:Explode", "urn:test:ExplodeResponse", explode),
            ],
            REGISTRY_WSDL,
            max_bytes_getter=lambda: max_bytes["value"],
        )
    )
    return app.test_client()


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


def test_unknown_action(client):
    response = client.post(PATH, data=envelope(action="urn:test:Nope"), content_type=SOAP_CT)
    assert response.status_code == 400
    code, subcode, reason = _fault(response)
    assert code == (SOAP12, "Sender")
    assert subcode == (WSA, "ActionNotSupported")
    assert reason == (
        "The action urn:test:Nope is not supported at this endpoint; "
        "supported actions: urn:test:Echo, urn:test:Explode"
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


def test_soap11_envelope(client):
    response = client.post(PATH, data=envelope(soap_ns=SOAP11), content_type="text/xml; charset=UTF-8")
    assert response.status_code == 500
    code, subcode, _ = _fault(response)
    assert (code, subcode) == ((SOAP12, "VersionMismatch"), None)


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
