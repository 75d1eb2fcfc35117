"""The Document Registry SOAP port (``/xds/registry``): ITI-42 for now (ITI TF-2 §3.42)."""

from __future__ import annotations

from lxml import etree

from ..ebxml import read_submit_objects_request, registry_response
from ..registry import DocumentRegistry
from ..soap.endpoint import Operation
from ..soap.envelope import SoapRequest
from ..validation.findings import has_errors

REGISTER_DOCUMENT_SET_B = "urn:ihe:iti:2007:RegisterDocumentSet-b"
REGISTER_DOCUMENT_SET_B_RESPONSE = "urn:ihe:iti:2007:RegisterDocumentSet-bResponse"


def register_document_set_b(registry: DocumentRegistry):
    """ITI-42: SubmitObjectsRequest in, RegistryResponse out (ITI TF-2 §3.42.4.1 and §3.42.4.2)."""

    def handle(request: SoapRequest) -> tuple[etree._Element, None]:
        read = read_submit_objects_request(request.body)
        if has_errors(read.findings):
            return registry_response(read.findings), None
        outcome = registry.register(read.submission)
        return registry_response(read.findings + outcome.findings), None

    return handle


def registry_operations(registry: DocumentRegistry) -> list[Operation]:
    return [
        Operation(REGISTER_DOCUMENT_SET_B, REGISTER_DOCUMENT_SET_B_RESPONSE, register_document_set_b(registry)),
    ]
