"""ebRIM 3.0 / ebRS 3.0 codec: SubmitObjectsRequest ⇄ model, model → RegistryObjectList, RegistryResponse."""

from .adhoc_query import QUERIES, Param, QueryReadResult, QuerySpec, adhoc_query_request, read_adhoc_query_request
from .namespaces import LCM, QUERY, RIM, RS, ResponseStatus
from .query_response import adhoc_query_response
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
]
