"""Traces as FHIR R4 AuditEvents: the required elements, and the IHE / BALP codes for each transaction."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from gateway.access.model import AccessMode, Actor, ActorKind
from gateway.audit import AccessTrace, Outcome, to_fhir_audit_event

from .factories import DOCTOR, EMERGENCY_DOCTOR, INS, INS_OID, at, trace

DCM = "http://dicom.nema.org/resources/ontology/DCM"
#: FHIR R4 instant (http://hl7.org/fhir/R4/datatypes.html#instant).
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _event(t: AccessTrace, **kwargs) -> dict:
    event = to_fhir_audit_event(replace(t, sequence=7), **kwargs)
    json.dumps(event)  # plain JSON, nothing else
    return event


def _assert_r4_shape(event: dict) -> None:
    """The AuditEvent's cardinalities in FHIR R4 (type 1..1, recorded 1..1, agent 1..*, requestor 1..1,
    source 1..1 with observer 1..1, entity.what/type/role 0..1) and value types."""
    assert event["resourceType"] == "AuditEvent"
    assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", event["id"])
    assert set(event["type"]) >= {"system", "code"}
    assert all(set(c) >= {"system", "code"} for c in event["subtype"])
    assert event["action"] in {"C", "R", "U", "D", "E"}
    assert INSTANT.match(event["recorded"])
    assert event["outcome"] in {"0", "4", "8", "12"}
    assert event["agent"]
    for agent in event["agent"]:
        assert isinstance(agent["requestor"], bool)
        assert agent["type"]["coding"]
        assert agent["who"]
    assert sum(agent["requestor"] for agent in event["agent"]) == 1
    assert event["source"]["observer"]
    for entity in event.get("entity", []):
        assert set(entity["type"]) >= {"system", "code"} and set(entity["role"]) >= {"system", "code"}
    allowed = {"resourceType", "id", "type", "subtype", "action", "recorded", "outcome", "outcomeDesc",
               "purposeOfEvent", "agent", "source", "entity"}
    assert set(event) <= allowed


@pytest.mark.parametrize(
    ("transaction", "type_code", "action"),
    [
        ("ITI-18:FindDocuments", "110112", "E"),
        ("ITI-41", "110107", "C"),
        ("ITI-42", "110107", "C"),
        ("ITI-43", "110106", "R"),
        ("ITI-57", "110110", "U"),
        ("ITI-62", "110110", "D"),
    ],
)
def test_ihe_transactions(transaction, type_code, action):
    event = _event(trace(transaction, at=at(1)))
    _assert_r4_shape(event)
    assert event["type"]["system"] == DCM and event["type"]["code"] == type_code
    assert event["subtype"][0]["system"] == "urn:ihe:event-type-code"
    assert event["subtype"][0]["code"] == transaction.split(":")[0]
    assert event["action"] == action


def test_the_event_says_who_from_where_on_whom():
    event = _event(trace("ITI-43", object_ids=("1.2.3.4",), at=at(1)), source_name="gw", site="gw.example")
    assert (event["id"], event["recorded"], event["outcome"]) == ("7", "2025-03-01T12:00:00.123456Z", "0")
    user, structure, software, server = event["agent"]
    assert user["requestor"] is True
    assert user["who"] == {"identifier": {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810001234567"},
                           "display": "DOCTEUR Jean"}
    assert user["type"]["coding"][0]["code"] == "IRCP"
    assert user["role"][0]["coding"][0] == {"system": "urn:oid:1.2.250.1.213.1.1.5.5", "code": "10",
                                            "display": "Médecin"}
    assert structure["who"]["identifier"] == {"system": "urn:oid:1.2.250.1.71.4.2.2", "value": "11234567890001"}
    assert software["type"]["coding"][0]["code"] == "110153"
    assert software["who"] == {"display": "LPS Demo 2.1", "identifier": {"value": "HOMOL-1234"}}
    assert server["type"]["coding"][0]["code"] == "110152" and server["who"]["display"] == "gw"
    assert event["source"]["site"] == "gw.example" and event["source"]["observer"] == {"display": "gw"}
    patient, document = event["entity"]
    assert patient["what"]["identifier"] == {"system": f"urn:oid:{INS_OID}", "value": INS}
    assert (patient["type"]["code"], patient["role"]["code"]) == ("1", "1")
    assert document["what"]["identifier"] == {"value": "1.2.3.4"}
    assert (document["type"]["code"], document["role"]["code"]) == ("2", "3")
    assert "purposeOfEvent" not in event


def test_a_stored_query_is_an_entity_with_its_id():
    event = _event(trace("ITI-18:FindDocuments", object_ids=(), at=at(1)))
    query = event["entity"][1]
    assert query["what"]["identifier"]["value"] == "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
    assert (query["role"]["code"], query["name"]) == ("24", "FindDocuments")


def test_break_the_glass_is_the_purpose_of_event():
    event = _event(trace("ITI-43", actor=EMERGENCY_DOCTOR, at=at(1)))
    (purpose,) = event["purposeOfEvent"]
    assert purpose["coding"] == [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "BTG", "display": "break the glass"},
        {"system": "urn:oid:1.2.250.1.213.1.1.4.248", "code": "bris_de_glace"},
    ]
    centre = _event(trace("ITI-43", actor=replace(DOCTOR, access_mode=AccessMode.EMERGENCY_CENTRE), at=at(1)))
    assert centre["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT"


@pytest.mark.parametrize(("outcome", "code"), [(Outcome.SUCCESS, "0"), (Outcome.REFUSED, "4"), (Outcome.FAILURE, "8")])
def test_outcomes(outcome, code):
    error_code = None if outcome is Outcome.SUCCESS else "XDSRegistryError"
    event = _event(trace("ITI-43", outcome=outcome, error_code=error_code, at=at(1)))
    assert event["outcome"] == code
    assert event.get("outcomeDesc") == (None if outcome is Outcome.SUCCESS else "XDSRegistryError")


def test_a_patient_a_system_and_an_administration():
    patient = Actor(id=INS, name="DUPONT Marie", kind=ActorKind.PATIENT)
    event = _event(trace("ITI-18:FindDocuments", actor=patient, patient_id=f"{INS}^^^&{INS_OID}&ISO", at=at(1)))
    _assert_r4_shape(event)
    assert event["agent"][0]["type"]["coding"][0]["code"] == "PAT"
    assert "system" not in event["agent"][0]["who"]["identifier"]

    admin = Actor(id="admin-api", kind=ActorKind.SYSTEM)
    event = _event(trace("DOSSIER:create", actor=admin, patient_id=f"{INS}^^^&{INS_OID}&ISO", object_ids=(),
                         at=at(1)))
    _assert_r4_shape(event)
    assert (event["type"]["code"], event["action"]) == ("110110", "C")
    assert event["subtype"] == [{"system": "urn:xds-gateway:transaction", "code": "DOSSIER:create"}]
    assert event["agent"][0]["type"]["coding"][0]["code"] == "110150"
    professional = _event(trace("DOSSIER:professional", actor=admin, object_ids=("810001234567",), at=at(1)))
    assert professional["action"] == "U" and professional["entity"][-1]["role"]["code"] == "11"
    reads = [_event(trace(f"DOSSIER:{read}", actor=admin, object_ids=(), at=at(1)))["action"]
             for read in ("read", "traces", "audit-events")]
    assert reads == ["R", "R", "R"]  # reading the dossier or its traces changes nothing


def test_a_trace_without_patient_has_no_patient_entity():
    event = _event(trace("ITI-43", actor=replace(DOCTOR, patient_id=None), object_ids=(), at=at(1)))
    _assert_r4_shape(event)
    assert "entity" not in event
