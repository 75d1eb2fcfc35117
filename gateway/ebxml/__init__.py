"""ebRIM 3.0 / ebRS 3.0 codec: SubmitObjectsRequest ⇄ model, model → RegistryObjectList, RegistryResponse."""

from .adhoc_query import QUERIES, Param, QueryReadResult, QuerySpec, adhoc_query_request, read_adhoc_query_request
from .namespaces import LCM, QUERY, RIM, RS, ResponseStatus
from .provide_and_register import (
    ProvideAndRegisterRead,
    provide_and_register_request,
    read_provide_and_register_request,
)
from .query_response import adhoc_query_response
from .retrieve import (
    RetrieveResponseRead,
    read_retrieve_document_set_request,
    read_retrieve_document_set_response,
    retrieve_document_set_request,
    retrieve_document_set_response,
)
from .rim_reader import ReadResult, read_registry_object_list, read_submit_objects_request
from .rim_writer import (
    registry_error_list,
    registry_object_list,
    registry_response,
    submit_objects_request,
    write_object,
)

__all__ = [
    "LCM", "QUERY", "RIM", "RS", "ResponseStatus",
    "ReadResult", "read_registry_object_list", "read_submit_objects_request",
    "registry_error_list", "registry_object_list", "registry_response", "submit_objects_request", "write_object",
    "QUERIES", "Param", "QueryReadResult", "QuerySpec", "adhoc_query_request", "adhoc_query_response",
    "read_adhoc_query_request",
    "ProvideAndRegisterRead", "provide_and_register_request", "read_provide_and_register_request",
    "RetrieveResponseRead", "read_retrieve_document_set_request", "read_retrieve_document_set_response",
    "retrieve_document_set_request", "retrieve_document_set_response",
]
