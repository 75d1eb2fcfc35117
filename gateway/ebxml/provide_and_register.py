"""ITI-41 Provide and Register Document Set-b: ``xdsb:ProvideAndRegisterDocumentSetRequest`` ⇄ model.

The request (ITI TF-2 §3.41.4.1.2, schema XDS.b_DocumentRepository.xsd) is
one ``lcm:SubmitObjectsRequest``, the metadata, followed by zero or more
``xdsb:Document`` elements, each the content of the DocumentEntry its ``id``
attribute names.

This module reads and writes the XML only. How a Document's bytes travel
(an MTOM attachment referenced by ``xop:Include``, or base64 text) is the
SOAP layer's business: the reader is given a ``content`` function that turns
a Document element into its bytes, and keeps whatever that function returns
as it is, so that a 100 MB document arrives in the blob store as the
``memoryview`` over the request body it started as, never copied.

Whether the Documents and the DocumentEntries pair up, and whether sizes and
hashes agree, is the repository service's question (ITI TF-2 §3.41.4.1.3:
XDSMissingDocument, XDSMissingDocumentMetadata, XDSNonIdenticalHash…), not
this module's. Problems of the message's own structure are reported here, as
``XDSRepositoryError`` findings (the code ITI TF-3 Table 4.2.4.1-2 gives to
errors of the repository that no other code describes), never as exceptions.

Choices where the framework is silent:

- **No SubmitObjectsRequest** is an error, and the request is still given,
  with an empty submission, so that the findings about the Documents are
  reported alongside; only a body that is not a
  ProvideAndRegisterDocumentSetRequest at all gives no request.
- **Several SubmitObjectsRequests**: the first is read, the presence of the
  others is one error.
- **Element order** (SubmitObjectsRequest before the Documents, as the
  schema has it) is not checked: the meaning is the same either way.
- A **Document without id** is reported and left out, its ``content`` never
  asked for: there is nothing it could be stored as.
- A Document's **id** is read as ids are read in the metadata (whitespace
  around it removed, as XML Schema does for an anyURI; a ``urn:uuid:``
  lower-cased), so that it compares equal with its DocumentEntry's id.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from lxml import etree

from ..metadata.ids import normalize_id
from ..metadata.model import Submission
from ..metadata.repository import Buffer, Document, ProvideAndRegisterDocumentSet
from ..validation.findings import ErrorCode, Finding, error
from .namespaces import LCM, NSMAP, XDSB, XOP, lcm, xdsb, xop
from .rim_reader import read_submit_objects_request
from .rim_writer import submit_objects_request

__all__ = [
    "ProvideAndRegisterRead", "content_id", "element_name", "provide_and_register_request",
    "read_provide_and_register_request", "xop_include",
]

SECTION = "ITI TF-2 §3.41.4.1.2"
_REQUEST = xdsb("ProvideAndRegisterDocumentSetRequest")
_SUBMIT = lcm("SubmitObjectsRequest")
_DOCUMENT = xdsb("Document")
_XML_SPACE = " \t\r\n"


@dataclass
class ProvideAndRegisterRead:
    """What was read of an ITI-41 request: the request (None only when the body is no such request) and the findings."""

    request: ProvideAndRegisterDocumentSet | None
    findings: list[Finding] = field(default_factory=list)


def element_name(el: etree._Element) -> str:
    """An element's name for a message: ``{namespace}local`` (Clark notation), unambiguous whatever the prefixes."""
    if not isinstance(el.tag, str):
        return "a comment or processing instruction"
    name = etree.QName(el)
    return f"{{{name.namespace}}}{name.localname}" if name.namespace else name.localname


def _problem(message: str, location: str | None = None) -> Finding:
    return error(ErrorCode.REPOSITORY_ERROR, message, location)


def read_provide_and_register_request(
    body: etree._Element, content: Callable[[etree._Element], Buffer]
) -> ProvideAndRegisterRead:
    """Read an ITI-41 request body (ITI TF-2 §3.41.4.1.2) into a :class:`ProvideAndRegisterDocumentSet`.

    ``content(document_element)`` gives the bytes of one ``xdsb:Document``;
    it is called once per Document that has an id, and raises
    :class:`ValueError` with the reason when it cannot. What it returns is
    kept as is (identity, not a copy). The findings of the
    SubmitObjectsRequest reader are carried over.
    """
    if body.tag != _REQUEST:
        return ProvideAndRegisterRead(None, [_problem(
            f"expected {{{XDSB}}}ProvideAndRegisterDocumentSetRequest, got {element_name(body)} ({SECTION})"
        )])
    findings: list[Finding] = []
    submits: list[etree._Element] = []
    documents: list[Document] = []
    position = 0  # of the Document among the Documents, for messages about one without id
    for child in body:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions carry nothing
        if child.tag == _SUBMIT:
            submits.append(child)
        elif child.tag == _DOCUMENT:
            position += 1
            document = _document(child, position, content, findings)
            if document is not None:
                documents.append(document)
        else:
            findings.append(_problem(
                f"unexpected element {element_name(child)} in the ProvideAndRegisterDocumentSetRequest: "
                f"it holds one lcm:SubmitObjectsRequest and xdsb:Document elements ({SECTION})"
            ))

    # The metadata's findings come first: a missing or repeated SubmitObjectsRequest, then what the metadata
    # reader found, then the Documents' and the stray elements' findings, in the order they stand.
    head: list[Finding] = []
    submission = Submission()
    if not submits:
        head.append(_problem(
            f"the ProvideAndRegisterDocumentSetRequest has no {{{LCM}}}SubmitObjectsRequest: "
            f"ITI-41 carries the metadata in exactly one ({SECTION})"
        ))
    else:
        if len(submits) > 1:
            head.append(_problem(
                f"the ProvideAndRegisterDocumentSetRequest has {len(submits)} SubmitObjectsRequests; "
                f"ITI-41 carries exactly one, the first is read ({SECTION})"
            ))
        read = read_submit_objects_request(submits[0])
        submission = read.submission
        head.extend(read.findings)
    findings[:0] = head
    return ProvideAndRegisterRead(ProvideAndRegisterDocumentSet(submission, documents), findings)


def _document(
    el: etree._Element, position: int, content: Callable[[etree._Element], Buffer], findings: list[Finding]
) -> Document | None:
    entry_id = normalize_id((el.get("id") or "").strip(_XML_SPACE))
    if not entry_id:
        findings.append(_problem(
            f"Document {position} has no id: the id attribute names the DocumentEntry whose content it is "
            f"({SECTION})"
        ))
        return None
    try:
        data = content(el)
    except ValueError as exc:
        findings.append(_problem(f"Document {entry_id}: its content cannot be read: {exc}", entry_id))
        return None
    return Document(entry_id, data)


# -- writing ------------------------------------------------------------------------------------------------------


def content_id(number: int) -> str:
    """A fresh MIME Content-ID (RFC 2392 addr-spec form) for the ``number``-th document of a message.

    Random, so that two messages never share one (a relay or a log may
    hold several); the number only helps a person reading a dump.
    """
    return f"doc{number}.{uuid.uuid4().hex}@xds-gateway"


def xop_include(parent: etree._Element, cid: str) -> etree._Element:
    """An ``xop:Include`` (XOP 1.0 §3.1) in ``parent`` referring to the MIME part ``cid``.

    The href is a ``cid:`` URL: the Content-ID with the characters a URL
    may not hold %-encoded (RFC 2392 §2); "@" is left as it is.
    """
    return etree.SubElement(parent, xop("Include"), href="cid:" + quote(cid, safe="@"))


def provide_and_register_request(
    request: ProvideAndRegisterDocumentSet, *, mtom: bool = True
) -> tuple[etree._Element, list[tuple[str, Buffer]]]:
    """An ITI-41 request body (ITI TF-2 §3.41.4.1.2), for clients, tests and benchmarks.

    With ``mtom``, each Document holds an ``xop:Include`` and the list gives
    (Content-ID, data) of the attachments to send, data as given (not
    copied); without, each Document holds its content as base64 text and the
    list is empty.
    """
    nsmap = {"xdsb": XDSB, "lcm": NSMAP["lcm"], "rim": NSMAP["rim"]}
    if mtom:
        nsmap["xop"] = XOP
    root = etree.Element(_REQUEST, nsmap=nsmap)
    root.append(submit_objects_request(request.submission))
    attachments: list[tuple[str, Buffer]] = []
    for number, document in enumerate(request.documents, 1):
        el = etree.SubElement(root, _DOCUMENT, id=document.entry_id)
        if mtom:
            cid = content_id(number)
            xop_include(el, cid)
            attachments.append((cid, document.data))
        else:
            el.text = base64.b64encode(document.data).decode("ascii")
    return root, attachments
