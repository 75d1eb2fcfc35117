"""Access traces as FHIR R4 AuditEvent resources, for IHE ITI-81 (Retrieve ATNA Audit Event).

The mapping follows how IHE records the XDS transactions (ITI TF-2, the
"Security Considerations" of each transaction: §3.18.5.1 ITI-18, §3.41.5.1
ITI-41, §3.42.5.1 ITI-42, §3.43.5.1 ITI-43, §3.57.4.1.4 ITI-57, §3.62.5
ITI-62), written the FHIR way of the RESTful ATNA profile and the IHE Basic
Audit Log Patterns (BALP, https://profiles.ihe.net/ITI/BALP), as recorded by
the Document Registry / Repository — the gateway — for its client:

- ``type``: the DICOM event id (DICOM PS3.16 CID 400, system
  ``http://dicom.nema.org/resources/ontology/DCM``): 110112 Query for ITI-18,
  110107 Import for ITI-41/42, 110106 Export for ITI-43, 110110 Patient
  Record for ITI-57/62 and the dossier administration; ``subtype`` the IHE
  transaction (``urn:ihe:event-type-code``); ``action`` E, C, R, U or D
  (FHIR R4 AuditEventAction) as those sections say;
- ``outcome``: FHIR R4 AuditEventOutcome — 0 success, 4 minor failure for a
  refusal (the caller's side, "often equivalent to an HTTP 400"), 8 serious
  failure for a failed transaction; ``outcomeDesc`` the error code;
- ``agent``: the user (``requestor`` true; type from BALP's
  UserAgentTypesVS: v3-ParticipationType IRCP for a query or retrieve,
  v3-RoleClass AGNT for a push, PAT when the user is the patient; roles as
  the VIHF gives them; id under the national professional id OID
  1.2.250.1.71.4.2.1), their structure (1.2.250.1.71.4.2.2, v3-RoleClass
  PROV), the client software (DCM 110153 Source Role ID, the DMP approval
  number as identifier) and the gateway (DCM 110152 Destination Role ID);
- ``source``: the gateway, security-source-type 4 "Application Server";
- ``entity``: the patient (audit-entity-type 1 Person, object-role 1
  Patient, the INS as identifier), the stored query for ITI-18 (2 System
  Object, 24 Query, the stored query id), and each object id (2 System
  Object, 3 Report: documents; 11 Security User Entity for the professionals
  whose rights an administration changed);
- ``purposeOfEvent``: v3-ActReason BTG "break the glass" for a
  break-the-glass access, ETREAT "Emergency Treatment" for the emergency
  regulation centre (both in the v3 PurposeOfUse value set that R4 binds
  here), with the DMP's own code (purposeofuse, 1.2.250.1.213.1.1.4.248)
  beside it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from gateway.access.model import AccessMode, ActorKind

from .model import QUERY_IDS_BY_NAME, AccessTrace, Outcome
from .patient import split_key

DCM = "http://dicom.nema.org/resources/ontology/DCM"
IHE_EVENT_TYPE = "urn:ihe:event-type-code"
#: Transactions of the gateway that IHE does not name (dossier administration).
LOCAL_EVENT_TYPE = "urn:xds-gateway:transaction"
AUDIT_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
OUTCOME_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-event-outcome"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
#: DMP access modes: ``urn:oasis:names:tc:xspa:1.0:subject:purposeofuse`` values.
DMP_PURPOSE_OF_USE = "urn:oid:1.2.250.1.213.1.1.4.248"
#: National ids of health professionals (IdNat_PS) and of structures (IdNat_Struct).
PROFESSIONAL_ID_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
STRUCTURE_ID_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"

_QUERY = (DCM, "110112", "Query")
_IMPORT = (DCM, "110107", "Import")
_EXPORT = (DCM, "110106", "Export")
_PATIENT_RECORD = (DCM, "110110", "Patient Record")

#: IHE transaction → (event type, action, subtype display); shared with the ATNA messages (:mod:`.atna`).
IHE_EVENTS: dict[str, tuple[tuple[str, str, str], str, str]] = {
    "ITI-18": (_QUERY, "E", "Registry Stored Query"),
    "ITI-41": (_IMPORT, "C", "Provide and Register Document Set-b"),
    "ITI-42": (_IMPORT, "C", "Register Document Set-b"),
    "ITI-43": (_EXPORT, "R", "Retrieve Document Set"),
    "ITI-57": (_PATIENT_RECORD, "U", "Update Document Set"),
    "ITI-62": (_PATIENT_RECORD, "D", "Delete Document Set"),
}
#: Reading transactions: their user is an information recipient (BALP UserAgentTypesVS).
_READS = {"ITI-18", "ITI-43"}

#: Trace outcome → (AuditEventOutcome / DICOM EventOutcomeIndicator, display).
OUTCOMES = {
    Outcome.SUCCESS: ("0", "Success"),
    Outcome.REFUSED: ("4", "Minor failure"),
    Outcome.FAILURE: ("8", "Serious failure"),
}

#: Emergency access mode → the v3-ActReason purpose of use (system, code, display).
PURPOSES = {
    AccessMode.BREAK_THE_GLASS.value: (ACT_REASON, "BTG", "break the glass"),
    AccessMode.EMERGENCY_CENTRE.value: (ACT_REASON, "ETREAT", "Emergency Treatment"),
}


class EventCodes(NamedTuple):
    """What kind of event a trace records, as both the FHIR and the ATNA forms code it."""

    #: The DICOM event id (system, code, display): DCM 110112 Query, …
    type: tuple[str, str, str]
    #: E, C, R, U or D.
    action: str
    #: The transaction (system, code, display): ``urn:ihe:event-type-code`` ITI-18, or a local one.
    subtype: tuple[str, str, str]


#: The dossier administration's operations (``DOSSIER:<operation>``) that are not updates.
_LOCAL_ACTIONS = {"create": "C", "read": "R", "traces": "R", "audit-events": "R"}


def event_codes(trace: AccessTrace) -> EventCodes:
    """The event id, action and transaction code of ``trace`` (see the module doc)."""
    transaction = trace.iti_transaction
    if transaction in IHE_EVENTS:
        event_type, action, display = IHE_EVENTS[transaction]
        return EventCodes(event_type, action, (IHE_EVENT_TYPE, transaction, display))
    operation = trace.transaction.rsplit(":", 1)[-1]
    return EventCodes(_PATIENT_RECORD, _LOCAL_ACTIONS.get(operation, "U"), (LOCAL_EVENT_TYPE, trace.transaction, ""))


def stored_query(trace: AccessTrace) -> tuple[str, str | None]:
    """The stored query of an ITI-18 trace: its name (``FindDocuments``) and its id, None when the name is
    not a known query's (:func:`~.model.stored_query_transaction` then kept the id as sent, as the name)."""
    name = trace.transaction.partition(":")[2]
    return name, QUERY_IDS_BY_NAME.get(name)


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _system(scheme: str) -> str:
    # VIHF and XDS codes name their scheme by a bare OID; FHIR wants a URI.
    return f"urn:oid:{scheme}" if scheme and scheme[0].isdigit() else scheme


def to_fhir_audit_event(
    trace: AccessTrace, *, source_name: str = "xds-gateway", site: str | None = None
) -> dict[str, Any]:
    """The FHIR R4 AuditEvent (JSON) of a stored trace; see the module doc for the mapping."""
    transaction = trace.iti_transaction
    event_type, action, subtype = event_codes(trace)
    outcome, _ = OUTCOMES[trace.outcome]
    event: dict[str, Any] = {"resourceType": "AuditEvent"}
    if trace.sequence is not None:
        event["id"] = str(trace.sequence)
    event.update(
        type=_coding(*event_type),
        subtype=[_coding(*subtype)],
        action=action,
        recorded=trace.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        outcome=outcome,
    )
    if trace.error_code:
        event["outcomeDesc"] = trace.error_code
    purpose = PURPOSES.get(trace.access_mode)
    if purpose is not None:
        event["purposeOfEvent"] = [{
            "coding": [_coding(*purpose), _coding(DMP_PURPOSE_OF_USE, trace.access_mode)],
            "text": "break-the-glass access" if trace.break_the_glass else "emergency regulation centre access",
        }]
    event["agent"] = _agents(trace, transaction, source_name)
    source: dict[str, Any] = {
        "observer": {"display": source_name},
        "type": [_coding(SOURCE_TYPE, "4", "Application Server")],
    }
    if site:
        source = {"site": site, **source}
    event["source"] = source
    entities = _entities(trace, transaction)
    if entities:
        event["entity"] = entities
    return event


def _agents(trace: AccessTrace, transaction: str, source_name: str) -> list[dict[str, Any]]:
    if trace.actor_kind == ActorKind.PATIENT.value:
        user_type = _coding(ROLE_CLASS, "PAT", "patient")
    elif trace.actor_kind in (ActorKind.SYSTEM.value, ActorKind.SOFTWARE.value):
        user_type = _coding(DCM, "110150", "Application")
    elif transaction in _READS:
        user_type = _coding(PARTICIPATION_TYPE, "IRCP", "information recipient")
    else:
        user_type = _coding(ROLE_CLASS, "AGNT", "agent")
    who: dict[str, Any] = {"identifier": {"value": trace.actor_id}}
    if trace.actor_kind == ActorKind.PROFESSIONAL.value:
        who["identifier"] = {"system": PROFESSIONAL_ID_SYSTEM, "value": trace.actor_id}
    if trace.actor_name:
        who["display"] = trace.actor_name
    user: dict[str, Any] = {"type": {"coding": [user_type]}}
    if trace.actor_roles:
        user["role"] = [
            {"coding": [_coding(_system(r.scheme), r.code, r.display_name)]} for r in trace.actor_roles
        ]
    user["who"] = who
    if trace.actor_name:
        user["name"] = trace.actor_name
    user["requestor"] = True
    agents = [user]
    if trace.structure_id:
        agents.append({
            "type": {"coding": [_coding(ROLE_CLASS, "PROV", "healthcare provider")]},
            "who": {"identifier": {"system": STRUCTURE_ID_SYSTEM, "value": trace.structure_id},
                    "type": "Organization"},
            "requestor": False,
        })
    if trace.software_name or trace.software_approval:
        software: dict[str, Any] = {"display": " ".join(p for p in (trace.software_name, trace.software_version) if p)}
        if trace.software_approval:
            software["identifier"] = {"value": trace.software_approval}
        agents.append({
            "type": {"coding": [_coding(DCM, "110153", "Source Role ID")]},
            "who": software,
            "requestor": False,
        })
    agents.append({
        "type": {"coding": [_coding(DCM, "110152", "Destination Role ID")]},
        "who": {"display": source_name},
        "requestor": False,
    })
    return agents


def _entities(trace: AccessTrace, transaction: str) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    if trace.patient_key:
        matricule, oid = split_key(trace.patient_key)
        entities.append({
            "what": {"identifier": {"system": f"urn:oid:{oid}", "value": matricule}, "type": "Patient"},
            "type": _coding(AUDIT_ENTITY_TYPE, "1", "Person"),
            "role": _coding(OBJECT_ROLE, "1", "Patient"),
        })
    if transaction == "ITI-18":
        name, query_id = stored_query(trace)
        query: dict[str, Any] = {
            "type": _coding(AUDIT_ENTITY_TYPE, "2", "System Object"),
            "role": _coding(OBJECT_ROLE, "24", "Query"),
        }
        if query_id:
            query = {"what": {"identifier": {"value": query_id}}, **query}
        if name:
            query["name"] = name
        entities.append(query)
    role = _coding(OBJECT_ROLE, "3", "Report") if transaction in IHE_EVENTS else \
        _coding(OBJECT_ROLE, "11", "Security User Entity")
    for object_id in trace.object_ids:
        entities.append({
            "what": {"identifier": {"value": object_id}},
            "type": _coding(AUDIT_ENTITY_TYPE, "2", "System Object"),
            "role": role,
        })
    return entities
