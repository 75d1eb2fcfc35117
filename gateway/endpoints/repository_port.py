"""The Document Repository SOAP port (``/xds/repository``): ITI-41 and ITI-43.

Document bytes never pass through the XML tree: an ITI-41 ``xdsb:Document``
is resolved to its MTOM part (a view of the request body, no copy) or
decoded from inline base64, and an ITI-43 answer streams each document from
the blob store as an MTOM attachment.
"""

from __future__ import annotations

from lxml import etree

from ..audit.model import ITI_41, ITI_43
from ..ebxml import registry_response
from ..registry.register import submission_patient
from ..ebxml.provide_and_register import read_provide_and_register_request
from ..ebxml.retrieve import read_retrieve_document_set_request, retrieve_document_set_response
from ..metadata.repository import Buffer
from ..repository import DocumentRepository
from ..soap.endpoint import Operation
from ..soap.envelope import SoapRequest
from ..soap.mtom import Attachment, MtomError
from ..validation.findings import has_errors
from .caller import caller, netted

PROVIDE_AND_REGISTER_DOCUMENT_SET_B = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
PROVIDE_AND_REGISTER_DOCUMENT_SET_B_RESPONSE = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"
RETRIEVE_DOCUMENT_SET = "urn:ihe:iti:2007:RetrieveDocumentSet"
RETRIEVE_DOCUMENT_SET_RESPONSE = "urn:ihe:iti:2007:RetrieveDocumentSetResponse"


def provide_and_register_document_set_b(repository: DocumentRepository):
    """ITI-41: ProvideAndRegisterDocumentSetRequest in, RegistryResponse out (ITI TF-2 §3.41.4.1, §3.41.4.2)."""

    def handle(request: SoapRequest) -> tuple[etree._Element, None]:
        def content(element: etree._Element) -> Buffer:
            try:
                # Each Document is read once: its base64 text can leave the tree.
                return request.binary_content(element, release=True)
            except MtomError as problem:
                raise ValueError(problem.reason) from None

        actor = caller(request)
        read = read_provide_and_register_request(request.body, content)
        if read.request is None or has_errors(read.findings):
            patient = submission_patient(read.request.submission) if read.request is not None else None
            repository.registry.trace_failure(actor, ITI_41, patient, read.findings)
            return registry_response(read.findings), None
        outcome = repository.provide_and_register(read.request, actor=actor, findings=read.findings)
        return registry_response(outcome.findings), None

    return handle


def retrieve_document_set(repository: DocumentRepository):
    """ITI-43: RetrieveDocumentSetRequest in, RetrieveDocumentSetResponse out, always MTOM (ITI TF-2 §3.43.4)."""

    def handle(request: SoapRequest) -> tuple[etree._Element, list[Attachment]]:
        references, findings = read_retrieve_document_set_request(request.body)
        outcome = repository.retrieve(references, actor=caller(request), findings=findings)
        payload, parts = retrieve_document_set_response(outcome.documents, outcome.findings)
        attachments = [
            Attachment(content_id, document.mime_type, chunks=document.content, size=document.size)
            for content_id, document in parts
        ]
        return payload, attachments

    return handle


def repository_operations(repository: DocumentRepository) -> list[Operation]:
    return [
        Operation(
            PROVIDE_AND_REGISTER_DOCUMENT_SET_B,
            PROVIDE_AND_REGISTER_DOCUMENT_SET_B_RESPONSE,
            netted(repository.registry.recorder, ITI_41, provide_and_register_document_set_b(repository)),
        ),
        Operation(
            RETRIEVE_DOCUMENT_SET,
            RETRIEVE_DOCUMENT_SET_RESPONSE,
            netted(repository.registry.recorder, ITI_43, retrieve_document_set(repository)),
            mtom_response=True,
        ),
    ]
