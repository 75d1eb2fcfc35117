"""ITI-43 Retrieve Document Set: ``xdsb:RetrieveDocumentSetRequest`` → references, documents → response.

Request (ITI TF-2 §3.43.4.1.2, schema XDS.b_DocumentRepository.xsd): one or
more ``xdsb:DocumentRequest``, each an optional ``HomeCommunityId``, a
``RepositoryUniqueId`` and a ``DocumentUniqueId``, in that order.

Response (ITI TF-2 §3.43.4.2.2): an ``rs:RegistryResponse`` (status and
errors), then one ``xdsb:DocumentResponse`` per document returned:
``HomeCommunityId`` (optional), ``RepositoryUniqueId``, ``DocumentUniqueId``,
``mimeType``, ``Document``. The schema allows ``NewRepositoryUniqueId`` and
``NewDocumentUniqueId`` between the ids and ``mimeType``; they belong to
On-Demand Documents, which this repository does not serve, and are not
written. The status is Success when there is no error, PartialSuccess when
there are errors and documents, Failure when there are errors and no
document (ITI TF-2 §3.43.4.2.2, ITI TF-3 §4.2.4.2); warnings leave it at
Success.

The codec never touches document content: the response holds an
``xop:Include`` per document and hands back, with each fresh Content-ID,
the :class:`RetrievedDocument` whose bytes the SOAP layer attaches when it
writes the message (ITI-43 responses are MTOM, ITI TF-2 §3.43.5).

Reading errors are ``XDSRepositoryError`` findings (ITI TF-3 Table
4.2.4.1-2), each naming the DocumentRequest by its 1-based position and the
field. A DocumentRequest in error is left out; the others are read, so that
the repository answers what it can (PartialSuccess).

Input bounds. The framework bounds neither: each DocumentRequest becomes a
look-up and each document a MIME part of the answer, so

- at most :data:`MAX_DOCUMENT_REQUESTS` (1 000) DocumentRequests: more is one
  error and nothing is read;
- at most :data:`MAX_VALUE_LENGTH` (256) characters in one value: the schema
  types every field as ``rim:LongName``, and no stored id is longer.

Choices where the framework is silent: an empty ``HomeCommunityId`` reads as
absent (it is optional); a field given twice, or an element the schema does
not have, is an error of its DocumentRequest (or of the request, outside any
DocumentRequest) rather than ignored; the order of the fields within a
DocumentRequest is not checked, each being named. The findings of a
DocumentRequest are located at its DocumentUniqueId when it has a usable one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from ..metadata.repository import Buffer, DocumentReference, RetrievedDocument
from ..validation.findings import ErrorCode, Finding, Severity, error
from ..validation.lengths import LONG_NAME
from .namespaces import RS, XDSB, XOP, rs, xdsb
from .provide_and_register import content_id, element_name, xop_include
from .rim_writer import registry_error_list, response_status

__all__ = [
    "MAX_DOCUMENT_REQUESTS", "MAX_VALUE_LENGTH", "RetrieveResponseRead", "read_retrieve_document_set_request",
    "read_retrieve_document_set_response", "retrieve_document_set_request", "retrieve_document_set_response",
]

REQUEST_SECTION = "ITI TF-2 §3.43.4.1.2"
RESPONSE_SECTION = "ITI TF-2 §3.43.4.2.2"

#: DocumentRequests in one request: each is a registry-side look-up and, when found, one MIME part of the answer.
MAX_DOCUMENT_REQUESTS = 1000
#: Characters of one value: rim:LongName, the schema type of every DocumentRequest field.
MAX_VALUE_LENGTH = LONG_NAME

_REQUEST = xdsb("RetrieveDocumentSetRequest")
_DOCUMENT_REQUEST = xdsb("DocumentRequest")
_RESPONSE = xdsb("RetrieveDocumentSetResponse")
_DOCUMENT_RESPONSE = xdsb("DocumentResponse")
_HOME, _REPOSITORY, _DOCUMENT_ID = "HomeCommunityId", "RepositoryUniqueId", "DocumentUniqueId"
#: The fields of a DocumentRequest, in schema order.
_REQUEST_FIELDS = {xdsb(name): name for name in (_HOME, _REPOSITORY, _DOCUMENT_ID)}
_XML_SPACE = " \t\r\n"


def _problem(message: str, location: str | None = None) -> Finding:
    return error(ErrorCode.REPOSITORY_ERROR, message, location)


def _text(el: etree._Element) -> str:
    return (el.text or "").strip(_XML_SPACE)


# -- the request ----------------------------------------------------------------------------------------------------


def read_retrieve_document_set_request(body: etree._Element) -> tuple[list[DocumentReference], list[Finding]]:
    """The documents an ITI-43 request asks for (ITI TF-2 §3.43.4.1.2), in request order, and the findings.

    A DocumentRequest with a problem is reported and left out, the others
    are read.
    """
    if body.tag != _REQUEST:
        return [], [_problem(f"expected {{{XDSB}}}RetrieveDocumentSetRequest, got {element_name(body)} "
                             f"({REQUEST_SECTION})")]
    # Counted before anything is read: past the bound, reading them would be the work the bound avoids.
    count = sum(1 for _ in body.iterchildren(_DOCUMENT_REQUEST))
    if count > MAX_DOCUMENT_REQUESTS:
        return [], [_problem(f"the request has {count} DocumentRequests; this repository answers at most "
                             f"{MAX_DOCUMENT_REQUESTS} in one request")]
    if count == 0:
        return [], [_problem(f"the RetrieveDocumentSetRequest has no DocumentRequest: it asks for 1 or more "
                             f"documents ({REQUEST_SECTION})")]
    references: list[DocumentReference] = []
    findings: list[Finding] = []
    position = 0
    for child in body:
        if not isinstance(child.tag, str):
            continue
        if child.tag != _DOCUMENT_REQUEST:
            findings.append(_problem(f"unexpected element {element_name(child)} in the RetrieveDocumentSetRequest: "
                                     f"it holds DocumentRequests only ({REQUEST_SECTION})"))
            continue
        position += 1
        reference = _document_request(child, position, findings)
        if reference is not None:
            references.append(reference)
    return references, findings


def _document_request(el: etree._Element, position: int, findings: list[Finding]) -> DocumentReference | None:
    """One DocumentRequest, or None after reporting what is wrong with it."""
    where = f"DocumentRequest {position}"
    values: dict[str, str] = {}
    problems: list[str] = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = _REQUEST_FIELDS.get(child.tag)
        if name is None:
            problems.append(f"{where}: unexpected element {element_name(child)}; a DocumentRequest holds "
                            f"HomeCommunityId, RepositoryUniqueId and DocumentUniqueId ({REQUEST_SECTION})")
        elif name in values:
            problems.append(f"{where}: {name} is given more than once ({REQUEST_SECTION})")
        else:
            values[name] = _text(child)
    for name in (_REPOSITORY, _DOCUMENT_ID):
        if not values.get(name):
            problems.append(f"{where}: {name} is missing or empty ({REQUEST_SECTION})")
    for name in (_HOME, _REPOSITORY, _DOCUMENT_ID):
        if len(values.get(name, "")) > MAX_VALUE_LENGTH:
            problems.append(f"{where}: {name} has {len(values[name])} characters; at most {MAX_VALUE_LENGTH} "
                            "(rim:LongName, its type in the XDS.b schema)")
    if problems:
        # Located at the DocumentUniqueId when there is a usable one: it is what the requester knows the document by.
        document_id = values.get(_DOCUMENT_ID, "")
        location = document_id if 0 < len(document_id) <= MAX_VALUE_LENGTH else None
        findings.extend(_problem(message, location) for message in problems)
        return None
    return DocumentReference(values[_REPOSITORY], values[_DOCUMENT_ID], values.get(_HOME) or None)


def _reference(parent: etree._Element, reference: DocumentReference) -> None:
    """The identifying fields of a DocumentRequest or DocumentResponse, in schema order."""
    if reference.home_community_id is not None:
        etree.SubElement(parent, xdsb(_HOME)).text = reference.home_community_id
    etree.SubElement(parent, xdsb(_REPOSITORY)).text = reference.repository_unique_id
    etree.SubElement(parent, xdsb(_DOCUMENT_ID)).text = reference.document_unique_id


def retrieve_document_set_request(references: list[DocumentReference]) -> etree._Element:
    """An ITI-43 request body (ITI TF-2 §3.43.4.1.2), for clients and tests."""
    root = etree.Element(_REQUEST, nsmap={"xdsb": XDSB})
    for reference in references:
        _reference(etree.SubElement(root, _DOCUMENT_REQUEST), reference)
    return root


# -- the response ---------------------------------------------------------------------------------------------------


def retrieve_document_set_response(
    documents: list[RetrievedDocument], findings: list[Finding]
) -> tuple[etree._Element, list[tuple[str, RetrievedDocument]]]:
    """An ITI-43 response body (ITI TF-2 §3.43.4.2.2) and the attachments it refers to.

    Each DocumentResponse echoes the reference it answers (its
    HomeCommunityId only when the request gave one) and holds an
    ``xop:Include``; the list pairs each fresh Content-ID with the document
    whose bytes the caller attaches under it. No content is read here.
    """
    root = etree.Element(_RESPONSE, nsmap={"xdsb": XDSB, "rs": RS, "xop": XOP})
    response = etree.SubElement(root, rs("RegistryResponse"), status=response_status(findings, partial=bool(documents)))
    registry_error_list(response, findings)
    attachments: list[tuple[str, RetrievedDocument]] = []
    for number, document in enumerate(documents, 1):
        el = etree.SubElement(root, _DOCUMENT_RESPONSE)
        _reference(el, document.reference)
        etree.SubElement(el, xdsb("mimeType")).text = document.mime_type
        cid = content_id(number)
        xop_include(etree.SubElement(el, xdsb("Document")), cid)
        attachments.append((cid, document))
    return root, attachments


@dataclass
class RetrieveResponseRead:
    """An ITI-43 response as read back: status (Success, PartialSuccess or Failure), errors and documents."""

    status: str
    errors: list[Finding] = field(default_factory=list)
    #: (reference, mimeType, content) of each DocumentResponse, in order.
    documents: list[tuple[DocumentReference, str, Buffer]] = field(default_factory=list)


def read_retrieve_document_set_response(
    body: etree._Element, content: Callable[[etree._Element], Buffer]
) -> RetrieveResponseRead:
    """Read an ITI-43 response (ITI TF-2 §3.43.4.2.2), for clients and tests.

    ``content(document_element)`` gives the bytes of a ``Document``; what it
    returns is kept as is. A response that is not one raises
    :class:`ValueError`: it is the other side's fault, and a client has no
    one to report it to but its caller.
    """
    if body.tag != _RESPONSE:
        raise ValueError(f"expected {{{XDSB}}}RetrieveDocumentSetResponse, got {element_name(body)}")
    response = body.find(rs("RegistryResponse"))
    if response is None:
        raise ValueError(f"the RetrieveDocumentSetResponse has no rs:RegistryResponse ({RESPONSE_SECTION})")
    status = (response.get("status") or "").rsplit(":", 1)[-1]
    errors = [
        Finding(
            e.get("errorCode", ""),
            e.get("codeContext", ""),
            e.get("location"),
            Severity(e.get("severity", Severity.ERROR.value)),
        )
        for e in response.iterfind(f"{rs('RegistryErrorList')}/{rs('RegistryError')}")
    ]
    documents = [_document_response(el, position, content)
                 for position, el in enumerate(body.iterfind(_DOCUMENT_RESPONSE), 1)]
    return RetrieveResponseRead(status, errors, documents)


def _document_response(
    el: etree._Element, position: int, content: Callable[[etree._Element], Buffer]
) -> tuple[DocumentReference, str, Buffer]:
    def required(name: str) -> etree._Element:
        found = el.find(xdsb(name))
        if found is None:
            raise ValueError(f"DocumentResponse {position} has no {name} ({RESPONSE_SECTION})")
        return found

    home = el.find(xdsb(_HOME))
    home_community_id = (_text(home) or None) if home is not None else None
    reference = DocumentReference(_text(required(_REPOSITORY)), _text(required(_DOCUMENT_ID)), home_community_id)
    return reference, _text(required("mimeType")), content(required("Document"))
