"""Access traces as IHE ATNA audit messages: the DICOM audit message XML (issue 6).

The message follows the DICOM audit message schema (DICOM PS3.15 Annex A.5.1,
the successor of RFC 3881) as IHE ATNA (ITI TF-2 §3.20.7) and the "Security
Considerations" of each transaction record it on the Document Registry /
Repository side — the gateway: ITI-18 §3.18.5.1, ITI-41 §3.41.5.1, ITI-42
§3.42.5.1, ITI-43 §3.43.5.1. It carries the same choices as the FHIR
AuditEvent form (:mod:`.fhir`, whose tables it shares):

- ``EventIdentification``: ``EventActionCode`` E/C/R/U/D, ``EventDateTime``
  (the trace's time, UTC), ``EventOutcomeIndicator`` 0 success, 4 refusal, 8
  failure; ``EventID`` the DICOM event (DCM 110112 Query, 110107 Import,
  110106 Export, 110110 Patient Record), ``EventTypeCode`` the transaction
  (codeSystemName "IHE Transactions"), ``EventOutcomeDescription`` (DICOM
  2019+) the error code, ``PurposeOfUse`` for the emergency access modes
  (v3-ActReason BTG / ETREAT, 2.16.840.1.113883.5.8, and the DMP's own
  code, 1.2.250.1.213.1.1.4.248);
- ``ActiveParticipant``: the user (``UserIsRequestor`` true, their roles as
  ``RoleIDCode``), their structure (v3-RoleClass PROV), the client software
  and the gateway: DCM 110153 Source Role ID for the side the data leaves,
  110152 Destination Role ID for the side it reaches, so the gateway is the
  Destination of a query or a submission and the Source of a retrieve (ITI-43
  §3.43.5.1.2, EventID Export);
- ``AuditSourceIdentification``: the gateway (``source_id``), type 4
  "Application Server";
- ``ParticipantObjectIdentification``: the patient (type 1, role 1 Patient,
  ID type RFC 3881 2 "Patient Number", the patient key ``id^^^&OID&ISO``);
  for ITI-18 the stored query (type 2, role 24 Query, ID type ITI-18 of "IHE
  Transactions", the stored query id); each object id (type 2, role 3 Report,
  ID type RFC 3881 9 "Report Number" for a document; role 11 Security User
  Entity, ID type 11 "User Identifier" for a professional whose rights a
  dossier administration changed).

What a trace does not hold is left out: the query's AdhocQueryRequest
(``ParticipantObjectQuery``), the repository and community ids of a
document (``ParticipantObjectDetail``), the network addresses and the
client's ``wsa:ReplyTo``. Coded values carry ``originalText``, required by the
schema.
"""

from __future__ import annotations

from lxml import etree

from gateway.safexml import xml_safe_text

from .fhir import (
    ACT_REASON, DCM, DMP_PURPOSE_OF_USE, IHE_EVENT_TYPE, IHE_EVENTS, OUTCOMES, PURPOSES, event_codes, stored_query,
)
from .model import ITI_18, AccessTrace

__all__ = ["audit_message"]

#: FHIR code systems → the ``codeSystemName`` of DICOM coded values; other ``urn:oid:`` systems lose the prefix.
_CODE_SYSTEM_NAMES = {
    DCM: "DCM",
    IHE_EVENT_TYPE: "IHE Transactions",
    ACT_REASON: "2.16.840.1.113883.5.8",
}
_SOURCE_ROLE = ("110153", "Source Role ID")
_DESTINATION_ROLE = ("110152", "Destination Role ID")
_EXPORT = "110106"
#: v3-RoleClass, for the user's structure.
_ROLE_CLASS = "2.16.840.1.113883.5.110"


def _code_system_name(system: str) -> str:
    return _CODE_SYSTEM_NAMES.get(system) or system.removeprefix("urn:oid:")


def _sub(parent: etree._Element, tag: str, attributes: dict[str, str] | None = None,
         text: str | None = None) -> etree._Element:
    """``etree.SubElement``, with what XML 1.0 cannot carry (control characters a client sent) escaped."""
    element = etree.SubElement(parent, tag, {k: xml_safe_text(v) for k, v in (attributes or {}).items()})
    if text is not None:
        element.text = xml_safe_text(text)
    return element


def _coded(parent: etree._Element, tag: str, code: str, system_name: str, text: str | None) -> etree._Element:
    """A DICOM coded value: ``csd-code``, ``codeSystemName`` and ``originalText`` (all three required)."""
    return _sub(parent, tag, {
        "csd-code": code, "codeSystemName": system_name, "originalText": text or code,
    })


def _participant(root: etree._Element, user_id: str, *, name: str = "", requestor: bool = False,
                 roles: tuple[tuple[str, str, str | None], ...] = ()) -> None:
    attributes = {"UserID": user_id}
    if name:
        attributes["UserName"] = name
    attributes["UserIsRequestor"] = "true" if requestor else "false"
    participant = _sub(root, "ActiveParticipant", attributes)
    for code, system_name, text in roles:
        _coded(participant, "RoleIDCode", code, system_name, text)


def _object(root: etree._Element, object_id: str, type_code: str, role: str,
            id_type: tuple[str, str, str], name: str = "") -> None:
    element = _sub(root, "ParticipantObjectIdentification", {
        "ParticipantObjectID": object_id,
        "ParticipantObjectTypeCode": type_code,
        "ParticipantObjectTypeCodeRole": role,
    })
    _coded(element, "ParticipantObjectIDTypeCode", *id_type)
    if name:
        _sub(element, "ParticipantObjectName", text=name)


def audit_message(trace: AccessTrace, *, source_id: str, destination: str = "") -> bytes:
    """The DICOM audit message (UTF-8 XML with its declaration) of ``trace``; see the module doc.

    ``source_id`` names the gateway as the audit source (``xds-gateway@host``);
    ``destination`` is the gateway's endpoint URI as its ActiveParticipant's
    ``UserID`` (IHE asks for the SOAP endpoint URI), ``source_id`` when empty.
    """
    codes = event_codes(trace)
    event_system, event_code, event_display = codes.type
    root = etree.Element("AuditMessage")

    event = _sub(root, "EventIdentification", {
        "EventActionCode": codes.action,
        "EventDateTime": trace.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "EventOutcomeIndicator": OUTCOMES[trace.outcome][0],
    })
    _coded(event, "EventID", event_code, _code_system_name(event_system), event_display)
    type_system, type_code, type_display = codes.subtype
    _coded(event, "EventTypeCode", type_code, _code_system_name(type_system), type_display)
    if trace.error_code:
        _sub(event, "EventOutcomeDescription", text=trace.error_code)
    purpose = PURPOSES.get(trace.access_mode)
    if purpose is not None:
        system, code, display = purpose
        _coded(event, "PurposeOfUse", code, _code_system_name(system), display)
        _coded(event, "PurposeOfUse", trace.access_mode, _code_system_name(DMP_PURPOSE_OF_USE),
               trace.access_mode.replace("_", " "))

    _participant(root, trace.actor_id, name=trace.actor_name, requestor=True,
                 roles=tuple((r.code, r.scheme, r.display_name) for r in trace.actor_roles))
    if trace.structure_id:
        _participant(root, trace.structure_id, roles=(("PROV", _ROLE_CLASS, "healthcare provider"),))
    exported = event_code == _EXPORT
    client_role = _DESTINATION_ROLE if exported else _SOURCE_ROLE
    gateway_role = _SOURCE_ROLE if exported else _DESTINATION_ROLE
    if trace.software_name or trace.software_approval:
        software = " ".join(p for p in (trace.software_name, trace.software_version) if p)
        _participant(root, trace.software_approval or software, name=software,
                     roles=((client_role[0], "DCM", client_role[1]),))
    _participant(root, destination or source_id, name=source_id if destination else "",
                 roles=((gateway_role[0], "DCM", gateway_role[1]),))

    audit_source = _sub(root, "AuditSourceIdentification", {"AuditSourceID": source_id})
    _coded(audit_source, "AuditSourceTypeCode", "4", "DCM", "Application Server Process or Thread")

    if trace.patient_key:
        _object(root, trace.patient_key, "1", "1", ("2", "RFC-3881", "Patient Number"))
    if trace.iti_transaction == ITI_18:
        name, query_id = stored_query(trace)
        if query_id or name:
            _object(root, query_id or name, "2", "24", (ITI_18, "IHE Transactions", type_display),
                    name if query_id else "")
    if trace.iti_transaction in IHE_EVENTS:
        role, id_type = "3", ("9", "RFC-3881", "Report Number")
    else:
        role, id_type = "11", ("11", "RFC-3881", "User Identifier")
    for object_id in trace.object_ids:
        _object(root, object_id, "2", role, id_type)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)
