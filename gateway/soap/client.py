"""The client side of the SOAP 1.2 binding: request envelopes as an IHE initiating actor sends them.

Used by the tests, the benchmarks and the conformance suite, which talk to
this gateway (or any XDS.b endpoint) the way a Document Source or Consumer
would (ITI TF-2 Appendix V: WS-Addressing Action, MessageID, ReplyTo, To).
"""

from __future__ import annotations

import uuid

from lxml import etree

from .namespaces import SOAP12, WSA

ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"


_SECURITY_MARK = "xdsgw-security-header"


def request_envelope(action: str, body: etree._Element | None, *, to: str,
                     message_id: str | None = None,
                     security: etree._Element | bytes | None = None) -> tuple[bytes, str]:
    """A serialised SOAP 1.2 request envelope and its MessageID.

    ``security`` is a ``wsse:Security`` header block (the VIHF's), put in
    the header as it is: given as bytes, it is copied byte for byte, so
    that a signature over the assertion it holds still verifies (moving
    elements between trees may rename namespace prefixes, which changes
    the canonical form a signature covers).
    """
    message_id = message_id or f"urn:uuid:{uuid.uuid4()}"
    envelope = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"s": SOAP12, "a": WSA})
    header = etree.SubElement(envelope, f"{{{SOAP12}}}Header")
    action_el = etree.SubElement(header, f"{{{WSA}}}Action")
    action_el.text = action
    action_el.set(f"{{{SOAP12}}}mustUnderstand", "1")
    etree.SubElement(header, f"{{{WSA}}}MessageID").text = message_id
    reply_to = etree.SubElement(header, f"{{{WSA}}}ReplyTo")
    etree.SubElement(reply_to, f"{{{WSA}}}Address").text = ANONYMOUS
    etree.SubElement(header, f"{{{WSA}}}To").text = to
    if security is not None:
        header.append(etree.Comment(_SECURITY_MARK))
    body_el = etree.SubElement(envelope, f"{{{SOAP12}}}Body")
    if body is not None:
        body_el.append(body)
    xml = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    if security is not None:
        block = security if isinstance(security, bytes) else etree.tostring(security)
        if block.startswith(b"<?xml"):
            block = block.split(b"?>", 1)[1].lstrip()
        xml = xml.replace(f"<!--{_SECURITY_MARK}-->".encode(), block, 1)
    return xml, message_id
