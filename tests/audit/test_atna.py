"""Traces as DICOM audit messages (IHE ATNA): the event, the participants and the objects of each transaction."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.access.model import AccessMode, Actor, ActorKind
from gateway.audit import Outcome
from gateway.audit.atna import audit_message
from gateway.safexml import parse_xml

from .factories import DOCTOR, EMERGENCY_DOCTOR, PATIENT_KEY, at, trace

FIND_DOCUMENTS_ID = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"


def _message(t, **kwargs):
    root = parse_xml(audit_message(t, source_id="xds-gateway@test", **kwargs))
    assert root.tag == "AuditMessage"
    # The DICOM schema's order: event, participants, audit source, objects.
    order = ["EventIdentification", "ActiveParticipant", "AuditSourceIdentification",
             "ParticipantObjectIdentification"]
    tags = [child.tag for child in root]
    assert tags == sorted(tags, key=order.index) and tags.count("EventIdentification") == 1
    for coded in root.iter("EventID", "EventTypeCode", "RoleIDCode", "PurposeOfUse", "AuditSourceTypeCode",
                           "ParticipantObjectIDTypeCode"):
        assert coded.get("csd-code") and coded.get("codeSystemName") and coded.get("originalText"), coded.tag
    return root


def _code(element) -> tuple[str, str, str]:
    return element.get("csd-code"), element.get("codeSystemName"), element.get("originalText")


def _participants(root) -> dict[str, object]:
    """ActiveParticipants by their first role code."""
    return {p.find("RoleIDCode").get("csd-code"): p for p in root.findall("ActiveParticipant")}


def _objects(root) -> list[tuple[str, str, str, tuple[str, str, str]]]:
    return [(o.get("ParticipantObjectID"), o.get("ParticipantObjectTypeCode"), o.get("ParticipantObjectTypeCodeRole"),
             _code(o.find("ParticipantObjectIDTypeCode"))) for o in root.findall("ParticipantObjectIdentification")]


def test_a_stored_query_names_the_query_by_its_id():
    root = _message(trace("ITI-18:FindDocuments", object_ids=(), at=at(3)))
    event = root.find("EventIdentification")
    assert (event.get("EventActionCode"), event.get("EventDateTime"), event.get("EventOutcomeIndicator")) == \
        ("E", "2025-03-03T12:00:00.123456Z", "0")
    assert _code(event.find("EventID")) == ("110112", "DCM", "Query")
    assert _code(event.find("EventTypeCode")) == ("ITI-18", "IHE Transactions", "Registry Stored Query")
    assert event.find("EventOutcomeDescription") is None and event.find("PurposeOfUse") is None
    assert _objects(root) == [
        (PATIENT_KEY, "1", "1", ("2", "RFC-3881", "Patient Number")),
        (FIND_DOCUMENTS_ID, "2", "24", ("ITI-18", "IHE Transactions", "Registry Stored Query")),
    ]
    query = root.findall("ParticipantObjectIdentification")[1]
    assert query.findtext("ParticipantObjectName") == "FindDocuments"
    # The consumer sends the query: the client is the Source, the gateway the Destination.
    participants = _participants(root)
    assert participants["110153"].get("UserID") == "HOMOL-1234"
    assert participants["110152"].get("UserID") == "xds-gateway@test"


def test_an_unknown_stored_query_id_is_kept_as_sent():
    root = _message(trace("ITI-18:urn:uuid:00000000-0000-0000-0000-000000000000", object_ids=()))
    assert _objects(root)[1][:3] == ("urn:uuid:00000000-0000-0000-0000-000000000000", "2", "24")


def test_the_user_and_the_software_of_a_submission_and_its_documents():
    root = _message(trace("ITI-41", object_ids=("1.2.250.1.999.1", "1.2.250.1.999.2"), at=at(4)))
    event = root.find("EventIdentification")
    assert event.get("EventActionCode") == "C"
    assert _code(event.find("EventID")) == ("110107", "DCM", "Import")
    assert _code(event.find("EventTypeCode")) == ("ITI-41", "IHE Transactions", "Provide and Register Document Set-b")

    user, structure, software, gateway = root.findall("ActiveParticipant")
    assert (user.get("UserID"), user.get("UserName"), user.get("UserIsRequestor")) == \
        ("810001234567", "DOCTEUR Jean", "true")
    assert [_code(r) for r in user.findall("RoleIDCode")] == [
        ("10", "1.2.250.1.213.1.1.5.5", "Médecin"),
        ("SM26", "1.2.250.1.71.4.2.5", "Qualifié en médecine générale"),
    ]
    assert (structure.get("UserID"), structure.get("UserIsRequestor")) == ("11234567890001", "false")
    assert _code(structure.find("RoleIDCode"))[0] == "PROV"
    assert (software.get("UserID"), software.get("UserName"), software.get("UserIsRequestor")) == \
        ("HOMOL-1234", "LPS Demo 2.1", "false")
    assert _code(software.find("RoleIDCode")) == ("110153", "DCM", "Source Role ID")
    assert (gateway.get("UserID"), gateway.get("UserIsRequestor")) == ("xds-gateway@test", "false")
    assert _code(gateway.find("RoleIDCode")) == ("110152", "DCM", "Destination Role ID")

    source = root.find("AuditSourceIdentification")
    assert source.get("AuditSourceID") == "xds-gateway@test"
    assert _code(source.find("AuditSourceTypeCode"))[:2] == ("4", "DCM")
    report = ("9", "RFC-3881", "Report Number")
    assert _objects(root) == [
        (PATIENT_KEY, "1", "1", ("2", "RFC-3881", "Patient Number")),
        ("1.2.250.1.999.1", "2", "3", report),
        ("1.2.250.1.999.2", "2", "3", report),
    ]


def test_a_retrieve_is_an_export_from_the_gateway():
    root = _message(trace("ITI-43", object_ids=("1.2.250.1.999.1",)), destination="https://gw.example/repository")
    event = root.find("EventIdentification")
    assert event.get("EventActionCode") == "R"
    assert _code(event.find("EventID")) == ("110106", "DCM", "Export")
    assert _code(event.find("EventTypeCode"))[0] == "ITI-43"
    # ITI TF-2 §3.43.5.1.2: the repository is the Source of the documents, the consumer their Destination.
    participants = _participants(root)
    assert participants["110153"].get("UserID") == "https://gw.example/repository"
    assert participants["110153"].get("UserName") == "xds-gateway@test"
    assert participants["110152"].get("UserID") == "HOMOL-1234"
    assert _objects(root)[1] == ("1.2.250.1.999.1", "2", "3", ("9", "RFC-3881", "Report Number"))


@pytest.mark.parametrize(("outcome", "indicator"), [(Outcome.REFUSED, "4"), (Outcome.FAILURE, "8")])
def test_a_refusal_or_failure_carries_its_error_code(outcome, indicator):
    root = _message(trace("ITI-43", outcome=outcome, error_code="DMP_ACCESS_DENIED"))
    event = root.find("EventIdentification")
    assert event.get("EventOutcomeIndicator") == indicator
    assert event.findtext("EventOutcomeDescription") == "DMP_ACCESS_DENIED"
    # EventOutcomeDescription sits between EventTypeCode and PurposeOfUse in the DICOM schema.
    assert [child.tag for child in event] == ["EventID", "EventTypeCode", "EventOutcomeDescription"]


def test_break_the_glass_and_the_emergency_centre_are_purposes_of_use():
    root = _message(trace("ITI-43", actor=EMERGENCY_DOCTOR, outcome=Outcome.REFUSED, error_code="X"))
    event = root.find("EventIdentification")
    assert [child.tag for child in event][-3:] == ["EventOutcomeDescription", "PurposeOfUse", "PurposeOfUse"]
    assert [_code(p) for p in event.findall("PurposeOfUse")] == [
        ("BTG", "2.16.840.1.113883.5.8", "break the glass"),
        ("bris_de_glace", "1.2.250.1.213.1.1.4.248", "bris de glace"),
    ]
    centre = _message(trace("ITI-18:FindDocuments", actor=replace(DOCTOR, access_mode=AccessMode.EMERGENCY_CENTRE)))
    assert [p.get("csd-code") for p in centre.iter("PurposeOfUse")] == ["ETREAT", "centre_15"]


def test_an_administration_without_software_and_text_xml_cannot_carry():
    admin = Actor(id="admin-api", name="admin\x01", kind=ActorKind.SYSTEM)
    root = _message(trace("DOSSIER:authorize", actor=admin, patient_id=PATIENT_KEY, object_ids=("810009999999",)))
    event = root.find("EventIdentification")
    assert event.get("EventActionCode") == "U"
    assert _code(event.find("EventID")) == ("110110", "DCM", "Patient Record")
    assert _code(event.find("EventTypeCode")) == (
        "DOSSIER:authorize", "urn:xds-gateway:transaction", "DOSSIER:authorize")
    user, gateway = root.findall("ActiveParticipant")  # no structure, no client software
    assert user.get("UserName") == "admin\\x01" and user.find("RoleIDCode") is None
    assert _code(gateway.find("RoleIDCode"))[0] == "110152"
    assert _objects(root)[1] == ("810009999999", "2", "11", ("11", "RFC-3881", "User Identifier"))
