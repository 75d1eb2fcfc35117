"""Every XDS.b request carries a VIHF, checked before anything else (issue 6), over real HTTP.

Each refusal is a SOAP 1.2 ``env:Sender`` fault with the WS-Security 1.1 §12
subcode, HTTP 400, and exactly one new access trace: outcome ``refused``, the
fault code as error code, the transaction of the wsa:Action, an ``unknown``
actor (nothing a refused assertion says is believed) and no patient.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from gateway.access.vihf import LPS_NOM, SAML2
from gateway.audit.model import AccessTrace, Outcome
from gateway.config import load_settings
from gateway.ebxml.namespaces import QUERY
from gateway.soap.namespaces import WSSE
from gateway.store.trace_store import TraceStore

from ..support.server import empty, start_server
from ..support.soap_client import SoapResponse, demo_security, post
from ..support.vihf import DemoIdentity
from .xds import ITI42, corpus_request

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ITI18_RESPONSE = "urn:ihe:iti:2007:RegistryStoredQueryResponse"
ITI41 = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
ITI43 = "urn:ihe:iti:2007:RetrieveDocumentSet"


@pytest.fixture(scope="module")
def untrusted(tmp_path_factory) -> DemoIdentity:
    """Another demo PKI: its CA is not in the test gateways' trust store."""
    return DemoIdentity.create(tmp_path_factory.mktemp("other-pki"))


def find_documents() -> etree._Element:
    request = etree.Element(f"{{{QUERY}}}AdhocQueryRequest")
    etree.SubElement(request, f"{{{QUERY}}}ResponseOption", returnType="ObjectRef", returnComposedObjects="true")
    return request


def last_sequence(gw) -> int:
    with gw.db.session(read_only=True) as session:
        head = TraceStore(session).head()
        return head.sequence if head is not None else 0


def new_traces(gw, since: int) -> list[AccessTrace]:
    with gw.db.session(read_only=True) as session:
        store = TraceStore(session)
        head = store.head()
        return [store.get(n) for n in range(since + 1, (head.sequence if head else 0) + 1)]


def altered(assertion: bytes) -> bytes:
    """The signed assertion with LPS_Nom's value changed after signing."""
    changed, count = re.subn(
        rb'(Name="%s"[^>]*>\s*<saml2:AttributeValue[^>]*>)([^<]*)' % LPS_NOM.encode(),
        lambda m: m.group(1) + b"Forged " + m.group(2), assertion,
    )
    assert count == 1
    return changed


def refusals(identity: DemoIdentity, untrusted: DemoIdentity) -> dict[str, tuple[bytes | None, str]]:
    now = datetime.now(timezone.utc)
    return {
        "no security header": (None, "InvalidSecurity"),
        "security without assertion": (b'<wsse:Security xmlns:wsse="%s"/>' % WSSE.encode(), "InvalidSecurity"),
        "unsigned": (demo_security(etree.tostring(identity.unsigned())), "InvalidSecurity"),
        "bad signature": (demo_security(altered(identity.assertion())), "FailedAuthentication"),
        "expired": (demo_security(identity.assertion(now=now - timedelta(hours=2))), "FailedAuthentication"),
        "untrusted CA": (demo_security(untrusted.assertion()), "FailedAuthentication"),
        "missing mandatory attribute": (demo_security(identity.assertion(omit=(LPS_NOM,))), "InvalidSecurity"),
    }


CASES = ["no security header", "security without assertion", "unsigned", "bad signature", "expired",
         "untrusted CA", "missing mandatory attribute"]


def assert_refused(response: SoapResponse, subcode: str) -> None:
    assert response.http_status == 400
    assert response.fault_code == "env:Sender"
    value = response.envelope.find(".//{*}Fault/{*}Code/{*}Subcode/{*}Value")
    prefix, local = value.text.split(":")
    assert (value.nsmap[prefix], local) == (WSSE, subcode)


@pytest.mark.parametrize("case", CASES)
def test_a_refused_vihf_is_a_wsse_fault_and_one_refused_trace(gateway, untrusted, case):
    security, subcode = refusals(DemoIdentity.shared(), untrusted)[case]
    before = last_sequence(gateway)

    response = post(gateway.registry_url, ITI18, find_documents(), security=security)

    assert_refused(response, subcode)
    [trace] = new_traces(gateway, before)
    assert (trace.outcome, trace.error_code, trace.transaction) == (Outcome.REFUSED, f"wsse:{subcode}", "ITI-18")
    assert (trace.actor_id, trace.patient_key) == ("unknown", None)


@pytest.mark.parametrize("action, transaction", [(ITI41, "ITI-41"), (ITI43, "ITI-43")])
def test_the_repository_port_refuses_a_request_without_vihf_too(gateway, action, transaction):
    before = last_sequence(gateway)

    response = post(gateway.repository_url, action, find_documents(), security=None)

    assert_refused(response, "InvalidSecurity")
    [trace] = new_traces(gateway, before)
    assert (trace.outcome, trace.transaction, trace.error_code) == (
        Outcome.REFUSED, transaction, "wsse:InvalidSecurity")


def test_two_assertions_are_refused(gateway):
    identity = DemoIdentity.shared()
    security = demo_security(identity.assertion() + identity.assertion())

    assert_refused(post(gateway.registry_url, ITI18, find_documents(), security=security), "InvalidSecurity")


def test_a_refused_registration_stores_nothing(gateway):
    response = post(gateway.registry_url, ITI42, corpus_request(), security=None)

    assert_refused(response, "InvalidSecurity")
    assert gateway.stored_total() == 0


def test_a_valid_vihf_reaches_the_transaction_untraced_as_refused(gateway):
    before = last_sequence(gateway)

    response = post(gateway.registry_url, ITI18, find_documents())

    assert (response.http_status, response.action) == (200, ITI18_RESPONSE)
    assert all(t.outcome is not Outcome.REFUSED for t in new_traces(gateway, before))


def test_a_gateway_with_an_empty_trust_store_refuses_everything(database, tmp_path):
    (tmp_path / "trust").mkdir()
    settings = load_settings({"XDSGW_DATA_DIR": str(tmp_path), "XDSGW_PROFILE": "ihe",
                              "XDSGW_TRUST_DIR": str(tmp_path / "trust")})
    empty(database)
    server = start_server(settings, database)
    try:
        response = post(f"{server.base_url}/xds/registry", ITI18, find_documents())
    finally:
        server.stop()

    assert_refused(response, "FailedAuthentication")


def test_with_authentication_off_a_request_needs_no_vihf(database, tmp_path):
    settings = load_settings({"XDSGW_DATA_DIR": str(tmp_path), "XDSGW_AUTH": "none", "XDSGW_PROFILE": "ihe"})
    empty(database)
    server = start_server(settings, database)
    try:
        response = post(f"{server.base_url}/xds/registry", ITI18, find_documents(), security=None)
    finally:
        server.stop()

    assert (response.http_status, response.action) == (200, ITI18_RESPONSE)


def test_the_assertion_is_an_element_of_the_security_header():
    # The helpers' own check: what the clients send is what the gateway expects.
    header = etree.fromstring(demo_security())
    assert [child.tag for child in header] == [f"{{{SAML2}}}Assertion"]
