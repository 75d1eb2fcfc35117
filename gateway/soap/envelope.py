"""SOAP 1.2 envelopes with WS-Addressing 1.0 headers, as ITI transactions use.

ITI TF-2 §V.3 ("Web Services for IHE Transactions") requires SOAP 1.2 and
WS-Addressing 1.0: a request carries ``wsa:Action`` (which selects the
transaction) and ``wsa:MessageID``; the response carries the response
action and ``wsa:RelatesTo`` pointing back at the request's MessageID.

This module turns request bytes into a :class:`SoapRequest` (or raises a
:class:`SoapFault`), and serializes responses and faults.  References:

* SOAP 1.2 Part 1 §5 (envelope structure), §5.2.3 (mustUnderstand),
  §5.4 (Fault), §5.4.7 (VersionMismatch + Upgrade), §5.4.8 (MustUnderstand
  + NotUnderstood);
* SOAP 1.2 Part 2 §7.5.1.2 (HTTP status of faults, Table 20);
* WS-Addressing 1.0 SOAP Binding §6 (addressing faults and their details).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree

from ..safexml import XmlRejected, parse_xml
from .mtom import (
    SOAP12_MEDIA_TYPE,
    XOP_MEDIA_TYPE,
    MimePart,
    MtomError,
    parse_content_type,
    parse_multipart_related,
    resolve_xop_includes,
)
from .namespaces import (
    GATEWAY,
    ROLE_NEXT,
    ROLE_ULTIMATE_RECEIVER,
    SOAP11,
    SOAP12,
    WSA,
    WSA_FAULT_ACTION,
    WSA_SOAP_FAULT_ACTION,
    WSSE,
)

__all__ = [
    "SoapRequest",
    "SoapFault",
    "parse_soap_request",
    "build_soap_response",
    "build_soap_fault",
    "new_message_id",
]

FAULT_CODES = frozenset({"VersionMismatch", "MustUnderstand", "DataEncodingUnknown", "Sender", "Receiver"})

_NSMAP = {"env": SOAP12, "wsa": WSA}
_MUST_UNDERSTAND = f"{{{SOAP12}}}mustUnderstand"
_ROLE = f"{{{SOAP12}}}role"
# Header blocks this node processes (SOAP 1.2 Part 1 §2.4 "understood"):
# all of WS-Addressing, and the WS-Security header, whose content is left in
# SoapRequest.header for the security layer (XUA) to examine.
_UNDERSTOOD_NAMESPACES = frozenset({WSA})
_UNDERSTOOD_ELEMENTS = frozenset({f"{{{WSSE}}}Security"})
# WS-Addressing 1.0 Core §3.2: properties that occur at most once.
_SINGLE_WSA_HEADERS = ("Action", "MessageID", "To", "ReplyTo", "FaultTo", "From")


@dataclass
class SoapRequest:
    """A parsed and checked SOAP 1.2 request.

    ``body`` is the single child element of ``env:Body`` (the ITI request
    element); for MTOM requests its ``xop:Include`` elements have already
    been replaced by base64 text and ``attachments`` holds the MIME parts.
    """

    action: str
    message_id: str | None
    to: str | None
    reply_to: str | None
    header: etree._Element | None
    body: etree._Element
    attachments: dict[str, MimePart]
    envelope: etree._Element
    mtom: bool = False  # the request was an MTOM/XOP package


class SoapFault(Exception):
    """A SOAP 1.2 fault (SOAP 1.2 Part 1 §5.4) to send back to the client.

    ``code`` is the local name of the env: fault code; ``subcode`` an
    optional (namespace, local name) pair.  ``detail`` is a short text whose
    rendering depends on the subcode, following WS-Addressing 1.0 SOAP
    Binding §6.4: for ``wsa:ActionNotSupported`` it is the offending action
    (rendered as ``wsa:ProblemAction/wsa:Action``), for
    ``wsa:MessageAddressingHeaderRequired`` and ``wsa:InvalidAddressingHeader``
    the QName of the header (``wsa:ProblemHeaderQName``); otherwise it is
    wrapped in a gateway element.

    Keyword-only extras: ``http_status`` overrides the status derived from
    the code (415 for an unsupported media type, 413 for an oversized
    request); ``not_understood`` lists (namespace, local name) of header
    blocks for the ``env:NotUnderstood`` headers of a MustUnderstand fault.
    """

    def __init__(
        self,
        code: str,
        reason: str,
        subcode: tuple[str, str] | None = None,
        detail: str | None = None,
        *,
        http_status: int | None = None,
        not_understood: list[tuple[str, str]] | None = None,
    ) -> None:
        if code not in FAULT_CODES:
            raise ValueError(f"not a SOAP 1.2 fault code: {code!r}")
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.subcode = subcode
        self.detail = detail
        self.not_understood = list(not_understood or [])
        self._http_status = http_status

    @property
    def http_status(self) -> int:
        """HTTP status per SOAP 1.2 Part 2 §7.5.1.2, Table 20.

        env:Sender maps to 400 Bad Request and every other fault code to
        500 Internal Server Error, unless an explicit status was given.
        """
        if self._http_status is not None:
            return self._http_status
        return 400 if self.code == "Sender" else 500

    def __repr__(self) -> str:
        return f"SoapFault({self.code!r}, {self.reason!r}, subcode={self.subcode!r})"


def new_message_id() -> str:
    """A fresh WS-Addressing MessageID (an absolute IRI, as Core §3.2 asks)."""
    return f"urn:uuid:{uuid.uuid4()}"


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------

def _sender(reason: str, subcode: tuple[str, str] | None = None, detail: str | None = None, **extra) -> SoapFault:
    return SoapFault("Sender", reason, subcode, detail, **extra)


def _unsupported_media(description: str) -> SoapFault:
    # SOAP 1.2 Part 2 §7.5.1.2 answers an unsupported media type with 415.
    return _sender(
        f"unsupported media type {description}: send application/soap+xml, "
        f'or multipart/related; type="application/xop+xml" (MTOM)',
        http_status=415,
    )


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str)]


def _check_envelope_structure(envelope: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    """Return (Header or None, Body), enforcing SOAP 1.2 Part 1 §5.1."""
    if envelope.tag == f"{{{SOAP11}}}Envelope":
        raise SoapFault(
            "VersionMismatch",
            "SOAP 1.1 envelopes are not supported; this endpoint speaks SOAP 1.2 "
            f"({SOAP12})",
        )
    if envelope.tag != f"{{{SOAP12}}}Envelope":
        raise _sender(f"the document element is {envelope.tag}, not a SOAP 1.2 Envelope")
    # §5 "SOAP messages ... MUST NOT contain processing instruction
    # information items"; receivers SHOULD answer with a Sender fault.
    if next(envelope.iter(etree.PI), None) is not None or any(
        isinstance(sibling, etree._ProcessingInstruction) for sibling in envelope.itersiblings(preceding=True)
    ):
        raise _sender("processing instructions are not allowed in a SOAP message")
    children = _elements(envelope)
    header = None
    if children and children[0].tag == f"{{{SOAP12}}}Header":
        header = children.pop(0)
    if len(children) != 1 or children[0].tag != f"{{{SOAP12}}}Body":
        raise _sender("the SOAP Envelope must contain an optional Header followed by a Body and nothing else")
    return header, children[0]


def _check_must_understand(header: etree._Element | None) -> None:
    """SOAP 1.2 Part 1 §5.2.3 / §2.6: refuse mandatory blocks we do not know.

    Only blocks targeted at this node count: no role, ``next`` or
    ``ultimateReceiver`` (§5.2.2); blocks for ``none`` or other roles are
    not ours to process.
    """
    if header is None:
        return
    not_understood: list[tuple[str, str]] = []
    for block in _elements(header):
        flag = block.get(_MUST_UNDERSTAND)
        if flag is None:
            continue
        flag = flag.strip()
        if flag not in ("true", "1", "false", "0"):
            raise _sender(f"invalid env:mustUnderstand value {flag!r} (expected true, false, 1 or 0)")
        if flag in ("false", "0"):
            continue
        role = (block.get(_ROLE) or "").strip()
        if role not in ("", ROLE_NEXT, ROLE_ULTIMATE_RECEIVER):
            continue
        qname = etree.QName(block)
        if qname.namespace in _UNDERSTOOD_NAMESPACES or block.tag in _UNDERSTOOD_ELEMENTS:
            continue
        not_understood.append((qname.namespace or "", qname.localname))
    if not_understood:
        names = ", ".join(f"{{{ns}}}{local}" for ns, local in not_understood)
        raise SoapFault(
            "MustUnderstand",
            f"header block(s) marked mustUnderstand were not understood: {names}",
            not_understood=not_understood,
        )


def _addressing_headers(header: etree._Element | None) -> dict[str, etree._Element]:
    """Collect the wsa: header blocks by local name, refusing duplicates."""
    found: dict[str, etree._Element] = {}
    if header is None:
        return found
    for block in _elements(header):
        qname = etree.QName(block)
        if qname.namespace != WSA:
            continue
        if qname.localname in found and qname.localname in _SINGLE_WSA_HEADERS:
            raise _sender(
                f"the header wsa:{qname.localname} occurs more than once",
                (WSA, "InvalidAddressingHeader"),
                f"wsa:{qname.localname}",
            )
        found.setdefault(qname.localname, block)
    return found


def _required_text(headers: dict[str, etree._Element], name: str, why: str) -> str:
    block = headers.get(name)
    if block is None:
        # WS-Addressing 1.0 SOAP Binding §6.4.1.
        raise _sender(
            f"A required header representing a Message Addressing Property is not present: wsa:{name} ({why})",
            (WSA, "MessageAddressingHeaderRequired"),
            f"wsa:{name}",
        )
    value = (block.text or "").strip()
    if not value or len(block):
        raise _sender(
            f"the header wsa:{name} must contain a non-empty IRI",
            (WSA, "InvalidAddressingHeader"),
            f"wsa:{name}",
        )
    return value


def _optional_text(headers: dict[str, etree._Element], name: str) -> str | None:
    block = headers.get(name)
    if block is None:
        return None
    return (block.text or "").strip() or None


def _reply_to(headers: dict[str, etree._Element]) -> str | None:
    block = headers.get("ReplyTo")
    if block is None:
        return None
    address = block.find(f"{{{WSA}}}Address")
    value = (address.text or "").strip() if address is not None else ""
    if not value:
        raise _sender(
            "wsa:ReplyTo must contain a wsa:Address",
            (WSA, "InvalidAddressingHeader"),
            "wsa:ReplyTo",
        )
    return value


def _split_transport(content_type: str, body: bytes) -> tuple[bytes, dict[str, MimePart], bool, bool]:
    """Return (envelope bytes, attachments, is_mtom, is_soap11_media)."""
    media_type, params = parse_content_type(content_type)
    if media_type == SOAP12_MEDIA_TYPE:
        return body, {}, False, False
    if media_type == "text/xml":
        # SOAP 1.1's media type: parsed only to tell SOAP 1.1 clients, with a
        # VersionMismatch fault, what they did wrong.
        return body, {}, False, True
    if media_type == "multipart/related":
        if params.get("type", "").lower() != XOP_MEDIA_TYPE:
            raise _unsupported_media(f'multipart/related; type="{params.get("type", "")}"')
        try:
            root, attachments = parse_multipart_related(content_type, body)
        except MtomError as error:
            raise _sender(f"malformed MTOM message: {error.reason}") from None
        root_type, _ = parse_content_type(root.content_type)
        if root_type != XOP_MEDIA_TYPE:
            raise _unsupported_media(f"{root_type or 'none'} for the MTOM root part (XOP 1.0 wants {XOP_MEDIA_TYPE})")
        return root.data, attachments, True, False
    raise _unsupported_media(media_type or "(no Content-Type)")


def parse_soap_request(content_type: str, body: bytes, *, max_bytes: int) -> SoapRequest:
    """Parse and check a SOAP 1.2 request, plain or MTOM.

    Checks, in SOAP processing order: size, media type, well-formed XML
    without DTD, envelope version and structure, mustUnderstand headers,
    then the WS-Addressing headers ITI TF-2 §V.3.2 requires (wsa:Action
    and, the transactions being request-response, wsa:MessageID).  Raises
    :class:`SoapFault` on the first problem found.
    """
    if len(body) > max_bytes:
        raise _sender(f"request larger than {max_bytes} bytes", http_status=413)
    xml, attachments, mtom, soap11_media = _split_transport(content_type or "", body)
    try:
        envelope = parse_xml(xml, max_bytes=max_bytes)
    except XmlRejected as error:
        raise _sender(error.reason) from None
    if soap11_media and envelope.tag != f"{{{SOAP11}}}Envelope":
        raise _unsupported_media("text/xml (the SOAP 1.2 media type is application/soap+xml)")

    header, body_element = _check_envelope_structure(envelope)
    _check_must_understand(header)

    wsa_headers = _addressing_headers(header)
    action = _required_text(wsa_headers, "Action", "it selects the IHE transaction")
    message_id = _required_text(wsa_headers, "MessageID", "ITI request-response messages must carry one")
    to = _optional_text(wsa_headers, "To")
    reply_to = _reply_to(wsa_headers)

    payload = _elements(body_element)
    if not payload:
        raise _sender("the SOAP Body is empty")
    if len(payload) > 1:
        # Document/literal: the Body holds exactly one message element
        # (WS-I Basic Profile R2201, which ITI TF-2 §V.3 builds on).
        raise _sender(f"the SOAP Body must contain exactly one element, found {len(payload)}")

    if mtom:
        try:
            resolve_xop_includes(envelope, attachments)
        except MtomError as error:
            raise _sender(f"malformed MTOM message: {error.reason}") from None

    return SoapRequest(
        action=action,
        message_id=message_id,
        to=to,
        reply_to=reply_to,
        header=header,
        body=payload[0],
        attachments=attachments,
        envelope=envelope,
        mtom=mtom,
    )


# --------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------

def _sub(parent: etree._Element, namespace: str, local: str, text: str | None = None, **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{namespace}}}{local}", attrib)
    if text is not None:
        element.text = text
    return element


def _new_envelope(action: str, relates_to: str | None) -> tuple[etree._Element, etree._Element, etree._Element]:
    envelope = etree.Element(f"{{{SOAP12}}}Envelope", nsmap=_NSMAP)
    header = _sub(envelope, SOAP12, "Header")
    _sub(header, WSA, "Action", action, **{_MUST_UNDERSTAND: "1"})
    _sub(header, WSA, "MessageID", new_message_id())
    if relates_to:
        _sub(header, WSA, "RelatesTo", relates_to)
    body = _sub(envelope, SOAP12, "Body")
    return envelope, header, body


def _serialize(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def build_soap_response(action: str, relates_to: str | None, payload: etree._Element) -> bytes:
    """Serialize a SOAP 1.2 response envelope around ``payload``.

    Headers per WS-Addressing 1.0 SOAP Binding §2 and ITI TF-2 §V.3.2:
    ``wsa:Action`` (mustUnderstand), a new ``wsa:MessageID`` and, when
    given, ``wsa:RelatesTo``.  ``payload`` is moved (not copied) into the
    Body: copying a large retrieve response would double its memory.
    """
    envelope, _, body = _new_envelope(action, relates_to)
    payload.tail = None
    body.append(payload)
    return _serialize(envelope)


def _qname_text(element: etree._Element, namespace: str, local: str) -> str:
    """Write a QName value using a prefix already declared for ``namespace``."""
    for prefix, uri in (element.nsmap or {}).items():
        if uri == namespace and prefix:
            return f"{prefix}:{local}"
    raise ValueError(f"no prefix in scope for {namespace}")


def _fault_detail(fault: SoapFault, fault_element: etree._Element) -> None:
    if fault.detail is None:
        return
    detail = _sub(fault_element, SOAP12, "Detail")
    subcode = fault.subcode or ("", "")
    if subcode == (WSA, "ActionNotSupported"):
        problem = _sub(detail, WSA, "ProblemAction")
        _sub(problem, WSA, "Action", fault.detail)
    elif subcode in ((WSA, "MessageAddressingHeaderRequired"), (WSA, "InvalidAddressingHeader")):
        _sub(detail, WSA, "ProblemHeaderQName", fault.detail)
    else:
        etree.SubElement(detail, f"{{{GATEWAY}}}Message", nsmap={"gw": GATEWAY}).text = fault.detail


def build_soap_fault(fault: SoapFault, relates_to: str | None = None) -> bytes:
    """Serialize ``fault`` as a SOAP 1.2 Fault envelope (Part 1 §5.4).

    The ``wsa:Action`` is ``.../addressing/fault`` for the faults that the
    WS-Addressing SOAP Binding defines (§6, recognised by a wsa: subcode)
    and ``.../addressing/soap/fault`` for every other SOAP fault.
    VersionMismatch faults carry an ``env:Upgrade`` header (§5.4.7) and
    MustUnderstand faults one ``env:NotUnderstood`` header per block
    (§5.4.8).
    """
    is_wsa_fault = fault.subcode is not None and fault.subcode[0] == WSA
    action = WSA_FAULT_ACTION if is_wsa_fault else WSA_SOAP_FAULT_ACTION
    envelope, header, body = _new_envelope(action, relates_to)

    if fault.code == "VersionMismatch":
        upgrade = _sub(header, SOAP12, "Upgrade")
        _sub(upgrade, SOAP12, "SupportedEnvelope", qname="env:Envelope")
    for namespace, local in fault.not_understood:
        block = etree.SubElement(header, f"{{{SOAP12}}}NotUnderstood", nsmap={"nu": namespace} if namespace else None)
        block.set("qname", f"nu:{local}" if namespace else local)

    fault_element = _sub(body, SOAP12, "Fault")
    code = _sub(fault_element, SOAP12, "Code")
    _sub(code, SOAP12, "Value", f"env:{fault.code}")
    if fault.subcode is not None:
        namespace, local = fault.subcode
        subcode = _sub(code, SOAP12, "Subcode")
        if namespace in (SOAP12, WSA):
            value = _sub(subcode, SOAP12, "Value")
        else:
            # A QName value needs its prefix declared in scope (§5.4.1.3).
            value = etree.SubElement(subcode, f"{{{SOAP12}}}Value", nsmap={"sc": namespace})
        value.text = _qname_text(value, namespace, local)
    reason = _sub(fault_element, SOAP12, "Reason")
    _sub(reason, SOAP12, "Text", fault.reason, **{"{http://www.w3.org/XML/1998/namespace}lang": "en"})
    _fault_detail(fault, fault_element)
    return _serialize(envelope)
