"""SOAP 1.2 envelopes with WS-Addressing 1.0 headers, as ITI transactions use.

ITI TF-2 §V.3 ("Web Services for IHE Transactions") requires SOAP 1.2 and
WS-Addressing 1.0: a request carries ``wsa:Action`` (which selects the
transaction) and ``wsa:MessageID``; the response carries the response
action and ``wsa:RelatesTo`` pointing back at the request's MessageID.

This module turns request bytes into a :class:`SoapRequest` (or raises a
:class:`SoapFault`), and serializes responses and faults.  References:

* SOAP 1.2 Part 1 §5 (envelope structure), §5.2.3 (mustUnderstand),
  §5.4 (Fault), §5.4.7 (VersionMismatch + Upgrade), §5.4.8 (MustUnderstand
  + NotUnderstood), Appendix A (a SOAP 1.1 request gets a SOAP 1.1
  VersionMismatch fault);
* SOAP 1.2 Part 2 §7.5.1.2 (HTTP status of faults, Table 20);
* WS-Addressing 1.0 SOAP Binding §6 (addressing faults and their details).

Every transaction here is synchronous: the reply (and any fault) goes back
on the HTTP response, so ``wsa:ReplyTo`` and ``wsa:FaultTo`` may only be
the anonymous address (``wsa:FaultTo`` may also be ``none``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from ..access.model import Actor
from ..safexml import XmlRejected, parse_xml, xml_safe_text
from .mtom import (
    SOAP12_MEDIA_TYPE,
    XOP_MEDIA_TYPE,
    MimePart,
    MtomError,
    binary_content,
    check_xop_includes,
    parse_content_type,
    parse_multipart_related,
)
from .namespaces import (
    GATEWAY,
    ROLE_NEXT,
    ROLE_ULTIMATE_RECEIVER,
    SOAP11,
    SOAP12,
    WSA,
    WSA_ANONYMOUS,
    WSA_FAULT_ACTION,
    WSA_NONE,
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

# Media types of fault responses: the SOAP 1.2 HTTP binding's, and that of
# the SOAP 1.1 HTTP binding (SOAP 1.1 §6, status 500 per §6.2) for the SOAP
# 1.1 VersionMismatch.
SOAP12_CONTENT_TYPE = "application/soap+xml; charset=UTF-8"
SOAP11_CONTENT_TYPE = "text/xml; charset=UTF-8"

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
    element).  For MTOM requests ``attachments`` holds the MIME parts, and
    the ``xop:Include`` elements stay in the tree, checked but not replaced
    by base64 text (which would add 4/3 of each document to the tree, and
    as much again each time the text is read): read a document with
    :meth:`binary_content`.
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
    #: The authenticated caller, set by the endpoint before dispatch (None without authentication).
    actor: Actor | None = None

    def binary_content(self, element: etree._Element, *, release: bool = False) -> bytes | memoryview:
        """The octets of a base64Binary element such as ``xdsb:Document``.

        The referenced attachment (not a copy) when the element holds an
        ``xop:Include``, else its base64 text decoded; see
        :func:`.mtom.binary_content`.  Raises :class:`MtomError` on text
        that is not base64.
        """
        return binary_content(element, self.attachments, release=release)


class SoapFault(Exception):
    """A SOAP 1.2 fault (SOAP 1.2 Part 1 §5.4) to send back to the client.

    ``code`` is the local name of the env: fault code; ``subcode`` an
    optional (namespace, local name) pair.  ``detail`` is a short text whose
    rendering depends on the subcode, following WS-Addressing 1.0 SOAP
    Binding §6.4: for ``wsa:ActionNotSupported`` it is the offending action
    (rendered as ``wsa:ProblemAction/wsa:Action``), for
    ``wsa:MessageAddressingHeaderRequired`` and ``wsa:InvalidAddressingHeader``
    the QName of the header (``wsa:ProblemHeaderQName``); otherwise it is
    wrapped in a gateway element.  ``reason`` and ``detail`` may quote
    client input: the builder escapes what XML cannot carry.

    Keyword-only extras: ``subsubcode`` refines the subcode (WS-Addressing
    SOAP Binding §6.4.1.x, e.g. ``wsa:OnlyAnonymousAddressSupported`` under
    ``wsa:InvalidAddressingHeader``); ``http_status`` overrides the status
    derived from the code (415 for an unsupported media type, 413 for an
    oversized request); ``not_understood`` lists (namespace, local name) of
    header blocks for the ``env:NotUnderstood`` headers of a MustUnderstand
    fault; ``soap11`` asks for a SOAP 1.1 fault envelope (only for the
    VersionMismatch answering a SOAP 1.1 request, SOAP 1.2 Part 1 App. A);
    ``relates_to`` is the MessageID of the request, when known, for the
    fault's ``wsa:RelatesTo`` (:func:`parse_soap_request` sets it on the
    faults it raises once it has found the MessageID).
    """

    def __init__(
        self,
        code: str,
        reason: str,
        subcode: tuple[str, str] | None = None,
        detail: str | None = None,
        *,
        subsubcode: tuple[str, str] | None = None,
        http_status: int | None = None,
        not_understood: list[tuple[str, str]] | None = None,
        soap11: bool = False,
        relates_to: str | None = None,
    ) -> None:
        if code not in FAULT_CODES:
            raise ValueError(f"not a SOAP 1.2 fault code: {code!r}")
        if subsubcode is not None and subcode is None:
            raise ValueError("a fault subsubcode needs a subcode")
        if soap11 and code != "VersionMismatch":
            raise ValueError("only the VersionMismatch fault is sent as a SOAP 1.1 envelope")
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.subcode = subcode
        self.subsubcode = subsubcode
        self.detail = detail
        self.not_understood = list(not_understood or [])
        self.soap11 = soap11
        self.relates_to = relates_to
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

    @property
    def content_type(self) -> str:
        """Content-Type of the fault response: SOAP 1.2's, or SOAP 1.1's."""
        return SOAP11_CONTENT_TYPE if self.soap11 else SOAP12_CONTENT_TYPE

    def __repr__(self) -> str:
        return (
            f"SoapFault({self.code!r}, {self.reason!r}, subcode={self.subcode!r}, "
            f"subsubcode={self.subsubcode!r})"
        )


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
        # SOAP 1.2 Part 1 Appendix A: answered with a SOAP 1.1 fault, which a
        # SOAP 1.1 client understands, carrying the env:Upgrade header.
        raise SoapFault(
            "VersionMismatch",
            "SOAP 1.1 envelopes are not supported; this endpoint speaks SOAP 1.2 "
            f"({SOAP12})",
            soap11=True,
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
                subsubcode=(WSA, "InvalidCardinality"),  # §6.4.1.3
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


def _message_id_of(header: etree._Element | None) -> str | None:
    """The request's wsa:MessageID, if it has exactly one that is usable.

    Looked up before the other checks so that the faults they raise can
    carry ``wsa:RelatesTo``; a missing, empty, structured or repeated
    MessageID gives None (repeated: there is no telling which one to use).
    """
    if header is None:
        return None
    found = [block for block in _elements(header) if block.tag == f"{{{WSA}}}MessageID"]
    if len(found) != 1 or len(found[0]):
        return None
    return (found[0].text or "").strip() or None


def _response_endpoint(headers: dict[str, etree._Element], name: str, *, none_allowed: bool) -> str | None:
    """Check the address of wsa:ReplyTo or wsa:FaultTo; return it (None if absent).

    The transactions are synchronous: the answer goes back on the HTTP
    response, i.e. to the anonymous address (WS-Addressing 1.0 SOAP Binding
    §5); an absent header means anonymous (Core §3.2).  Any other
    address gets the fault of SOAP Binding §6.4.1.7.
    """
    block = headers.get(name)
    if block is None:
        return None
    address = block.find(f"{{{WSA}}}Address")
    value = (address.text or "").strip() if address is not None else ""
    if not value:
        raise _sender(
            f"wsa:{name} must contain a wsa:Address",
            (WSA, "InvalidAddressingHeader"),
            f"wsa:{name}",
            subsubcode=(WSA, "MissingAddressInEPR"),  # §6.4.1.4
        )
    if value == WSA_ANONYMOUS or (none_allowed and value == WSA_NONE):
        return value
    raise _sender(
        f"Only anonymous address supported: this endpoint answers synchronously, on the HTTP "
        f"response, so wsa:{name} must be absent or {WSA_ANONYMOUS}, not {value}",
        (WSA, "InvalidAddressingHeader"),
        f"wsa:{name}",
        subsubcode=(WSA, "OnlyAnonymousAddressSupported"),
    )


def _split_transport(
    content_type: str, body: bytes | bytearray
) -> tuple[bytes | bytearray | memoryview, dict[str, MimePart], bool, bool]:
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
            # The request's own media type is supported: this is a malformed
            # XOP package (XOP 1.0 §4.1: the root part is application/xop+xml).
            raise _sender(
                f"malformed MTOM message: the root part is {root_type or 'untyped'}, "
                f"XOP 1.0 wants {XOP_MEDIA_TYPE}"
            )
        return root.data, attachments, True, False
    raise _unsupported_media(media_type or "(no Content-Type)")


def parse_soap_request(
    content_type: str, body: bytes | bytearray, *, max_bytes: int, huge_tree: bool = False
) -> SoapRequest:
    """Parse and check a SOAP 1.2 request, plain or MTOM.

    Checks, in SOAP processing order: size, media type, well-formed XML
    without DTD, envelope version and structure, mustUnderstand headers,
    then the WS-Addressing headers ITI TF-2 §V.3.2 requires (wsa:Action
    and, the transactions being request-response, wsa:MessageID) and the
    response endpoints (anonymous only).  Raises :class:`SoapFault` on the
    first problem found; once the envelope structure is known good, the
    fault's ``relates_to`` is the request's MessageID (when it has one).

    ``body`` is not copied: MTOM attachments are views of it.  ``huge_tree``
    lets the envelope hold text nodes over 10 MB, i.e. documents sent as
    inline base64 (see :func:`gateway.safexml.parse_xml`).
    """
    if len(body) > max_bytes:
        raise _sender(f"request larger than {max_bytes} bytes", http_status=413)
    xml, attachments, mtom, soap11_media = _split_transport(content_type or "", body)
    try:
        envelope = parse_xml(xml, max_bytes=max_bytes, huge_tree=huge_tree)
    except XmlRejected as error:
        raise _sender(error.reason) from None
    if soap11_media and envelope.tag != f"{{{SOAP11}}}Envelope":
        raise _unsupported_media("text/xml (the SOAP 1.2 media type is application/soap+xml)")

    header, body_element = _check_envelope_structure(envelope)
    # From here on the MessageID is known (if the request has a usable one):
    # every fault raised below answers it with wsa:RelatesTo.
    message_id = _message_id_of(header)
    try:
        return _check_request(envelope, header, body_element, attachments, mtom)
    except SoapFault as fault:
        if fault.relates_to is None:
            fault.relates_to = message_id
        raise


def _check_request(
    envelope: etree._Element,
    header: etree._Element | None,
    body_element: etree._Element,
    attachments: dict[str, MimePart],
    mtom: bool,
) -> SoapRequest:
    """The checks of :func:`parse_soap_request` after the envelope structure."""
    _check_must_understand(header)

    wsa_headers = _addressing_headers(header)
    action = _required_text(wsa_headers, "Action", "it selects the IHE transaction")
    message_id = _required_text(wsa_headers, "MessageID", "ITI request-response messages must carry one")
    to = _optional_text(wsa_headers, "To")
    reply_to = _response_endpoint(wsa_headers, "ReplyTo", none_allowed=False)
    _response_endpoint(wsa_headers, "FaultTo", none_allowed=True)

    payload = _elements(body_element)
    if not payload:
        raise _sender("the SOAP Body is empty")
    if len(payload) > 1:
        # Document/literal: the Body holds exactly one message element
        # (WS-I Basic Profile R2201, which ITI TF-2 §V.3 builds on).
        raise _sender(f"the SOAP Body must contain exactly one element, found {len(payload)}")

    if mtom:
        try:
            check_xop_includes(envelope, attachments)
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
    text = xml_safe_text(fault.detail)
    detail = _sub(fault_element, SOAP12, "Detail")
    subcode = fault.subcode or ("", "")
    if subcode == (WSA, "ActionNotSupported"):
        problem = _sub(detail, WSA, "ProblemAction")
        _sub(problem, WSA, "Action", text)
    elif subcode in ((WSA, "MessageAddressingHeaderRequired"), (WSA, "InvalidAddressingHeader")):
        _sub(detail, WSA, "ProblemHeaderQName", text)
    else:
        etree.SubElement(detail, f"{{{GATEWAY}}}Message", nsmap={"gw": GATEWAY}).text = text


def _fault_subcodes(fault: SoapFault, code: etree._Element) -> None:
    """env:Subcode, nested once more for a subsubcode (SOAP 1.2 Part 1 §5.4.1.3)."""
    parent = code
    for pair in (fault.subcode, fault.subsubcode):
        if pair is None:
            break
        namespace, local = pair
        subcode = _sub(parent, SOAP12, "Subcode")
        if namespace in (SOAP12, WSA):
            value = _sub(subcode, SOAP12, "Value")
        else:
            # A QName value needs its prefix declared in scope (§5.4.1.3).
            value = etree.SubElement(subcode, f"{{{SOAP12}}}Value", nsmap={"sc": namespace})
        value.text = _qname_text(value, namespace, local)
        parent = subcode


def _build_soap11_version_mismatch(fault: SoapFault) -> bytes:
    """The SOAP 1.1 fault of SOAP 1.2 Part 1 Appendix A.

    A SOAP 1.1 envelope whose faultcode is ``VersionMismatch`` (SOAP 1.1
    §4.4.1), with the SOAP 1.2 ``Upgrade`` header block naming the
    envelope this node supports (§5.4.7).  No WS-Addressing headers: the
    request was not parsed as a SOAP 1.2 message.
    """
    envelope = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soapenv": SOAP11})
    header = _sub(envelope, SOAP11, "Header")
    upgrade = etree.SubElement(header, f"{{{SOAP12}}}Upgrade", nsmap={"env": SOAP12})
    _sub(upgrade, SOAP12, "SupportedEnvelope", qname="env:Envelope")
    body = _sub(envelope, SOAP11, "Body")
    fault_element = _sub(body, SOAP11, "Fault")
    # SOAP 1.1 §4.4: faultcode and faultstring are unqualified elements.
    etree.SubElement(fault_element, "faultcode").text = "soapenv:VersionMismatch"
    etree.SubElement(fault_element, "faultstring").text = xml_safe_text(fault.reason)
    return _serialize(envelope)


def build_soap_fault(fault: SoapFault, relates_to: str | None = None) -> bytes:
    """Serialize ``fault`` as a SOAP 1.2 Fault envelope (Part 1 §5.4).

    The ``wsa:Action`` is ``.../addressing/fault`` for the faults that the
    WS-Addressing SOAP Binding defines (§6, recognised by a wsa: subcode)
    and ``.../addressing/soap/fault`` for every other SOAP fault.
    ``wsa:RelatesTo`` is ``relates_to``, or else ``fault.relates_to``.
    VersionMismatch faults carry an ``env:Upgrade`` header (§5.4.7) and
    MustUnderstand faults one ``env:NotUnderstood`` header per block
    (§5.4.8).  A fault with ``soap11`` set is a SOAP 1.1 envelope instead
    (Appendix A); send it with ``fault.content_type``.

    Reason and detail texts go through :func:`xml_safe_text`: they may
    quote client input, and a character XML cannot carry must not turn a
    fault into a crash.
    """
    if fault.soap11:
        return _build_soap11_version_mismatch(fault)
    relates_to = relates_to if relates_to is not None else fault.relates_to
    is_wsa_fault = fault.subcode is not None and fault.subcode[0] == WSA
    action = WSA_FAULT_ACTION if is_wsa_fault else WSA_SOAP_FAULT_ACTION
    envelope, header, body = _new_envelope(action, xml_safe_text(relates_to) if relates_to else None)

    if fault.code == "VersionMismatch":
        upgrade = _sub(header, SOAP12, "Upgrade")
        _sub(upgrade, SOAP12, "SupportedEnvelope", qname="env:Envelope")
    for namespace, local in fault.not_understood:
        block = etree.SubElement(header, f"{{{SOAP12}}}NotUnderstood", nsmap={"nu": namespace} if namespace else None)
        block.set("qname", f"nu:{local}" if namespace else local)

    fault_element = _sub(body, SOAP12, "Fault")
    code = _sub(fault_element, SOAP12, "Code")
    _sub(code, SOAP12, "Value", f"env:{fault.code}")
    _fault_subcodes(fault, code)
    reason = _sub(fault_element, SOAP12, "Reason")
    _sub(reason, SOAP12, "Text", xml_safe_text(fault.reason), **{"{http://www.w3.org/XML/1998/namespace}lang": "en"})
    _fault_detail(fault, fault_element)
    return _serialize(envelope)
