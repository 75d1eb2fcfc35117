"""The registry's SOAP port over real HTTP: the envelope rules, faults, limits and the WSDL."""

from __future__ import annotations

import pytest
import requests
from lxml import etree

from ..support.soap_client import SOAP12, WSA, envelope, post_raw
from .xds import ITI42, ITI42_RESPONSE, SOAP_XML, by_unique_id, corpus_request


def qname_of_subcode(response) -> tuple[str | None, str]:
    """The fault subcode as (namespace, local name): its prefix resolved where it is declared."""
    el = response.envelope.find(f".//{{{SOAP12}}}Subcode/{{{SOAP12}}}Value")
    prefix, _, local = el.text.partition(":")
    return el.nsmap.get(prefix), local


@pytest.fixture
def gateway(ci_sis_gateway):
    """The corpus requests are French metadata: this module runs on the default (ci-sis) gateway."""
    return ci_sis_gateway


def test_a_hand_written_request_is_registered(gateway):
    soap, message_id = envelope(ITI42, corpus_request(), to=gateway.registry_url)

    response = post_raw(gateway.registry_url, SOAP_XML, soap)

    assert response.http_status == 200
    assert (response.action, response.relates_to, response.status) == (ITI42_RESPONSE, message_id, "Success")
    [doc] = by_unique_id(gateway, "1.2.250.1.999.1.2025.3.12.1")
    assert doc.hash == "4cbe0d1d1f1f9a0c4f3c7e2b8a6d5e4f3a2b1c0d"
    assert doc.extra_slots == {"urn:example:fr:modeDeSaisie": ["logiciel"]}


def test_an_unknown_action_is_a_sender_fault_action_not_supported(gateway):
    soap, _ = envelope("urn:ihe:iti:2007:NoSuchTransaction", corpus_request(), to=gateway.registry_url)

    response = post_raw(gateway.registry_url, SOAP_XML, soap)

    assert response.http_status == 400
    assert response.fault_code == "env:Sender"
    assert qname_of_subcode(response) == (WSA, "ActionNotSupported")
    assert gateway.stored_total() == 0


def test_a_missing_action_header_is_a_sender_fault(gateway):
    soap, _ = envelope(ITI42, corpus_request(), to=gateway.registry_url)
    tree = etree.fromstring(soap)
    action = tree.find(f".//{{{WSA}}}Action")
    action.getparent().remove(action)

    response = post_raw(gateway.registry_url, SOAP_XML, etree.tostring(tree))

    assert response.http_status == 400
    assert response.fault_code == "env:Sender"
    assert qname_of_subcode(response) == (WSA, "MessageAddressingHeaderRequired")
    assert gateway.stored_total() == 0


def test_malformed_xml_is_a_sender_fault_naming_the_line(gateway):
    response = post_raw(gateway.registry_url, SOAP_XML, b"<s:Envelope xmlns:s='%s'>\n<s:Body>" % SOAP12.encode())

    assert response.http_status == 400
    assert response.fault_code == "env:Sender"
    reason = response.envelope.findtext(f".//{{{SOAP12}}}Reason/{{{SOAP12}}}Text")
    assert "line" in reason


def test_an_entity_declaration_is_refused_and_nothing_is_read_or_stored(gateway):
    soap, _ = envelope(ITI42, corpus_request(), to=gateway.registry_url)
    evil = (b'<?xml version="1.0"?>\n<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
            + soap.split(b"?>", 1)[1])

    response = post_raw(gateway.registry_url, SOAP_XML, evil)

    assert response.http_status == 400
    assert response.fault_code == "env:Sender"
    assert b"root:" not in etree.tostring(response.envelope)
    assert gateway.stored_total() == 0


def test_a_request_over_the_size_limit_is_refused_with_413(gateway):
    limit = gateway.settings.max_request_bytes
    soap, _ = envelope(ITI42, corpus_request(), to=gateway.registry_url)
    padded = soap.replace(b"<s:Body>", b"<s:Body>" + b" " * (limit + 1))

    response = post_raw(gateway.registry_url, SOAP_XML, padded)

    assert response.http_status == 413
    assert response.fault_code == "env:Sender"
    assert gateway.stored_total() == 0


def test_a_query_body_sent_as_a_registration_is_a_registry_error(gateway):
    body = etree.Element("{urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0}AdhocQueryRequest")
    soap, _ = envelope(ITI42, body, to=gateway.registry_url)

    response = post_raw(gateway.registry_url, SOAP_XML, soap)

    assert response.status == "Failure"
    assert response.error_codes == ["XDSRegistryMetadataError"]
    assert "SubmitObjectsRequest" in response.errors[0]["codeContext"]


def test_the_wsdl_is_served_with_this_server_address(gateway):
    reply = requests.get(gateway.registry_url + "?wsdl", timeout=10)

    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/xml")
    wsdl = etree.fromstring(reply.content)
    [address] = wsdl.iterfind(".//{http://schemas.xmlsoap.org/wsdl/soap12/}address")
    assert address.get("location") == gateway.registry_url
    actions = {el.get("{http://www.w3.org/2007/05/addressing/metadata}Action") for el in wsdl.iter()}
    assert {ITI42, ITI42_RESPONSE} <= actions
