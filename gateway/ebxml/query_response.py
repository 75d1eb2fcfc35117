"""Registry Stored Query responses (ITI-18, ITI TF-2 §3.18.4.1.3): model objects → AdhocQueryResponse.

Element order follows query.xsd: AdhocQueryResponse extends
rs:RegistryResponseType, whose RegistryErrorList comes before the extension's
RegistryObjectList; the RegistryObjectList is always written, empty when
nothing matched.

Status (ITI TF-2 §3.18.4.1.3, ITI TF-3 §4.2.4.2): Success when no finding is
an error (warnings may still be listed); Failure when there are errors and no
objects; PartialSuccess when there are errors and objects.

``home`` attributes (XCA, ITI TF-2 §3.18.4.1.2.3.8): a LeafClass object or
an ObjectRef carries one only when the object has its own
``home_community_id``. The homeCommunityId a consumer sends in its query is
not copied onto the objects returned: it is a value the client chose, and a
registry must not label its objects with an unverified value. When the
gateway has a configured home community id of its own, that one (and only
that one) may be written on objects that lack one; until then there is no
such argument.
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
) -> etree._Element:
    """A ``query:AdhocQueryResponse`` with the objects in the order given: full (LeafClass) or as ObjectRefs.

    An object's ``home`` is its own ``home_community_id``, if any; nothing else is written there.
    """
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
            if obj.home_community_id is not None:
                ref.set("home", obj.home_community_id)
        else:
            write_object(object_list, obj)  # writes the object's own home, if it has one
    return response
