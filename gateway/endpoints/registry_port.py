"""The Document Registry SOAP port (``/xds/registry``): ITI-42 and ITI-18.

Each handler reads the body with the ebXML codec, calls a service, and
writes the service's answer; the rules live in the services.
"""

from __future__ import annotations

from lxml import etree

from ..ebxml import read_submit_objects_request, registry_response
from ..ebxml.adhoc_query import adhoc_query_response, read_adhoc_query_request
from ..audit.model import ITI_18, ITI_42
from ..ebxml.namespaces import lcm
from ..metadata.query import ReturnType
from ..registry import DocumentRegistry
from ..registry.stored_queries import StoredQueryService
from ..soap.endpoint import Operation
from ..soap.envelope import SoapRequest
from .caller import caller, netted

REGISTER_DOCUMENT_SET_B = "urn:ihe:iti:2007:RegisterDocumentSet-b"
REGISTER_DOCUMENT_SET_B_RESPONSE = "urn:ihe:iti:2007:RegisterDocumentSet-bResponse"
REGISTRY_STORED_QUERY = "urn:ihe:iti:2007:RegistryStoredQuery"
REGISTRY_STORED_QUERY_RESPONSE = "urn:ihe:iti:2007:RegistryStoredQueryResponse"


def register_document_set_b(registry: DocumentRegistry):
    """ITI-42: SubmitObjectsRequest in, RegistryResponse out (ITI TF-2 §3.42.4.1 and §3.42.4.2)."""

    def handle(request: SoapRequest) -> tuple[etree._Element, None]:
        actor = caller(request)
        read = read_submit_objects_request(request.body)
        if request.body.tag != lcm("SubmitObjectsRequest"):
            registry.trace_failure(actor, ITI_42, None, read.findings)
            return registry_response(read.findings), None
        # The reader's findings go in with the submission: the answer lists
        # those and validation's together (ITI TF-3 §4.2.4), and any error
        # among them keeps the whole submission out.
        outcome = registry.register(read.submission, actor=actor, findings=read.findings)
        return registry_response(outcome.findings), None

    return handle


def registry_stored_query(queries: StoredQueryService):
    """ITI-18: AdhocQueryRequest in, AdhocQueryResponse out (ITI TF-2 §3.18.4.1 and §3.18.4.2)."""

    def handle(request: SoapRequest) -> tuple[etree._Element, None]:
        read = read_adhoc_query_request(request.body)
        outcome = queries.run(read.query, actor=caller(request), findings=read.findings)
        return_type = read.query.return_type if read.query is not None else ReturnType.LEAF_CLASS
        return adhoc_query_response(outcome.objects, return_type, outcome.findings), None

    return handle


def registry_operations(registry: DocumentRegistry, queries: StoredQueryService) -> list[Operation]:
    return [
        Operation(REGISTER_DOCUMENT_SET_B, REGISTER_DOCUMENT_SET_B_RESPONSE,
                  netted(registry.recorder, ITI_42, register_document_set_b(registry))),
        Operation(REGISTRY_STORED_QUERY, REGISTRY_STORED_QUERY_RESPONSE,
                  netted(queries.recorder, ITI_18, registry_stored_query(queries))),
    ]
