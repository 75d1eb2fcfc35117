"""The Document Registry SOAP port (``/xds/registry``): ITI-42 for now (ITI TF-2 §3.42)."""

from __future__ import annotations

from lxml import etree

from ..ebxml import read_submit_objects_request, registry_response
from ..ebxml.namespaces import lcm
from ..registry import DocumentRegistry
from ..soap.endpoint import Operation
from ..soap.envelope import SoapRequest

REGISTER_DOCUMENT_SET_B = "urn:ihe:iti:2007:RegisterDocumentSet-b"
REGISTER_DOCUMENT_SET_B_RESPONSE = "urn:ihe:iti:2007:RegisterDocumentSet-bResponse"


def register_document_set_b(registry: DocumentRegistry):
    """ITI-42: SubmitObjectsRequest in, RegistryResponse out (ITI TF-2 §3.42.4.1 and §3.42.4.2)."""

    def handle(request: SoapRequest) -> tuple[etree._Element, None]:
        read = read_submit_objects_request(request.body)
        if request.body.tag != lcm("SubmitObjectsRequest"):
            return registry_response(read.findings), None
        # The reader's findings go in with the submission: the answer lists
        # those and validation's together (ITI TF-3 §4.2.4), and any error
        # among them keeps the whole submission out.
        outcome = registry.register(read.submission, findings=read.findings)
        return registry_response(outcome.findings), None

    return handle


def registry_operations(registry: DocumentRegistry) -> list[Operation]:
    return [
        Operation(REGISTER_DOCUMENT_SET_B, REGISTER_DOCUMENT_SET_B_RESPONSE, register_document_set_b(registry)),
    ]
