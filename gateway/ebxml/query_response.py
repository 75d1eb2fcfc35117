"""Registry Stored Query responses (ITI-18, ITI TF-2 §3.18.4.1.3): model objects → AdhocQueryResponse.

Element order follows query.xsd: AdhocQueryResponse extends
rs:RegistryResponseType, whose RegistryErrorList comes before the extension's
RegistryObjectList; the RegistryObjectList is always written, empty when
nothing matched.

Status (ITI TF-2 §3.18.4.1.3, ITI TF-3 §4.2.4.2): Success when no finding is
an error (warnings may still be listed); Failure when there are errors and no
objects; PartialSuccess when there are errors and objects.

``home_community_id`` (XCA, ITI TF-2 §3.18.4.1.2.3.8) is written as the
``home`` attribute of every ObjectRef and every LeafClass object that does
not carry its own (an object's own ``home_community_id`` wins).
"""

from __future__ import annotations

from lxml import etree

from ..metadata import XdsObject
from ..metadata.query import ReturnType
from ..validation.findings import Finding, has_errors
from .namespaces import NSMAP, QUERY, ResponseStatus, rim
from .rim_writer import registry_error_list, write_object


def _status(objects: list[XdsObject], findings: list[Finding]) -> str:
    if not has_errors(findings):
        return ResponseStatus.SUCCESS
    return ResponseStatus.PARTIAL_SUCCESS if objects else ResponseStatus.FAILURE


def adhoc_query_response(
    objects: list[XdsObject],
    return_type: ReturnType,
    findings: list[Finding],
    *,
    home_community_id: str | None = None,
) -> etree._Element:
    """A ``query:AdhocQueryResponse`` with the objects in the order given: full (LeafClass) or as ObjectRefs."""
    response = etree.Element(
        f"{{{QUERY}}}AdhocQueryResponse",
        nsmap={"query": NSMAP["query"], "rs": NSMAP["rs"], "rim": NSMAP["rim"]},
        status=_status(objects, findings),
    )
    registry_error_list(response, findings)
    object_list = etree.SubElement(response, rim("RegistryObjectList"))
    for obj in objects:
        if return_type is ReturnType.OBJECT_REF:
            ref = etree.SubElement(object_list, rim("ObjectRef"), id=obj.entry_uuid)
            home = obj.home_community_id if obj.home_community_id is not None else home_community_id
            if home is not None:
                ref.set("home", home)
        else:
            el = write_object(object_list, obj)
            if home_community_id is not None and el.get("home") is None:
                el.set("home", home_community_id)
    return response
