"""Reading the traces: ``/api/dossiers/{ins}/traces`` (filters, pages, break-the-glass flagged) and
``/fhir/AuditEvent`` (ITI-81 style searchset Bundle, OperationOutcome errors)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.audit import Outcome
from gateway.store.trace_store import TraceStore

from ..audit.factories import EMERGENCY_DOCTOR, INS, INS_OID, OTHER_KEY, at, trace

FHIR_JSON = "application/fhir+json; fhirVersion=4.0"
TRACES = f"/api/dossiers/{INS}/traces?oid={INS_OID}"
PATIENT_TOKEN = f"urn:oid:{INS_OID}|{INS}"


@pytest.fixture
def traced(db):
    """Five traces of the patient over five days (the third a break-the-glass read), one of someone else."""
    with db.session() as session:
        store = TraceStore(session)
        for t in (
            trace("ITI-18:FindDocuments", at=at(1)),
            trace("ITI-43", object_ids=("1.2.250.1.999.1", "1.2.250.1.999.2"), at=at(2)),
            trace("ITI-43", actor=EMERGENCY_DOCTOR, at=at(3)),
            trace("ITI-41", at=at(4)),
            trace("ITI-18:GetDocuments", outcome=Outcome.REFUSED, error_code="XDSRegistryError", at=at(5)),
            trace("ITI-43", patient_id=OTHER_KEY, at=at(6)),
        ):
            store.append(t)
    return db


def _sequences(client, query: str = "") -> list[int]:
    response = client.get(TRACES + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["sequence"] for item in response.get_json()["items"]]


def test_traces_newest_first_with_everything_the_patient_needs(traced, client):
    body = client.get(TRACES).get_json()
    assert (body["total"], body["page"], body["size"]) == (5, 1, 50)
    assert body["patient_id"] == f"{INS}^^^&{INS_OID}&ISO"
    assert [item["sequence"] for item in body["items"]] == [5, 4, 3, 2, 1]
    second = body["items"][3]
    assert second["transaction"] == "ITI-43"
    assert second["actor"]["id"] == "810001234567" and second["actor"]["name"] == "DOCTEUR Jean"
    assert second["actor"]["roles"][0] == {"code": "10", "system": "1.2.250.1.213.1.1.5.5", "display": "Médecin"}
    assert second["structure_id"] == "11234567890001"
    assert second["software"] == {"name": "LPS Demo", "version": "2.1", "approval": "HOMOL-1234"}
    assert second["object_ids"] == ["1.2.250.1.999.1", "1.2.250.1.999.2"]
    assert second["recorded_at"] == "2025-03-02T12:00:00.123456Z"
    assert len(second["hash"]) == 64
    refused = body["items"][0]
    assert (refused["outcome"], refused["error_code"]) == ("refused", "XDSRegistryError")


def test_break_the_glass_accesses_are_flagged_and_can_be_asked_for_alone(traced, client):
    items = client.get(TRACES).get_json()["items"]
    assert [item["sequence"] for item in items if item["break_the_glass"]] == [3]
    assert items[2]["access_mode"] == "bris_de_glace"
    assert _sequences(client, "&break_the_glass=true") == [3]
    # 7 and 8: the two reads of the traces just made, traced themselves.
    assert _sequences(client, "&break_the_glass=false") == [8, 7, 5, 4, 2, 1]


def test_filters_and_pages(traced, client):
    assert _sequences(client, "&since=2025-03-02&until=2025-03-03") == [3, 2]
    # 7: the read of the line above, traced after it.
    assert _sequences(client, "&since=2025-03-02T12:00:00.123457Z") == [7, 5, 4, 3]
    assert _sequences(client, "&transaction=ITI-18") == [5, 1]
    assert _sequences(client, f"&actor={EMERGENCY_DOCTOR.id}") == [3]
    # The reads above are traced now, after March 2025.
    assert _sequences(client, "&until=2025-03-31&size=2&page=2") == [3, 2]
    assert client.get(TRACES + "&until=2025-03-31&size=2&page=3").get_json() | {"items": None} == {
        "patient_id": f"{INS}^^^&{INS_OID}&ISO", "page": 3, "size": 2, "total": 5, "items": None,
    }


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("&since=yesterday", "'since' 'yesterday' is not a date"),
        ("&size=0", "'size' must be an integer from 1 to 500"),
        ("&page=x", "'page' must be an integer"),
        ("&break_the_glass=yes", "'break_the_glass' must be true or false"),
    ],
)
def test_bad_filters_are_refused(client, query, words):
    response = client.get(TRACES + query)
    assert response.status_code == 400 and response.content_type == "application/problem+json"
    assert words in response.get_json(force=True)["detail"]


def test_a_patient_without_traces_has_an_empty_page(client):
    assert client.get(TRACES).get_json()["items"] == []


# -- FHIR ---------------------------------------------------------------------


def _bundle(client, query: str) -> dict:
    response = client.get(f"/fhir/AuditEvent?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type == FHIR_JSON
    bundle = response.get_json(force=True)
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "searchset")
    return bundle


def _ids(bundle: dict) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle["entry"]]


def test_fhir_search_answers_a_searchset_of_audit_events(traced, client):
    bundle = _bundle(client, f"patient={PATIENT_TOKEN}")
    assert bundle["total"] == 5 and _ids(bundle) == ["5", "4", "3", "2", "1"]
    entry = bundle["entry"][0]
    assert entry["search"] == {"mode": "match"}
    assert entry["fullUrl"] == "http://localhost/fhir/AuditEvent/5"
    assert entry["resource"]["resourceType"] == "AuditEvent"
    btg = bundle["entry"][2]["resource"]
    assert btg["purposeOfEvent"][0]["coding"][0]["code"] == "BTG"


@pytest.mark.parametrize(
    "patient",
    [f"patient={PATIENT_TOKEN}", f"patient.identifier={PATIENT_TOKEN}", f"patient={INS_OID}|{INS}",
     f"patient={INS}^^^%26{INS_OID}%26ISO", f"patient={INS}^^^%26{INS_OID}%26ISO^NH"],
)
def test_fhir_patient_spellings(traced, client, patient):
    assert _bundle(client, patient)["total"] == 5


def test_fhir_date_subtype_and_paging(traced, client):
    assert _ids(_bundle(client, f"patient={PATIENT_TOKEN}&date=ge2025-03-02&date=lt2025-03-04")) == ["3", "2"]
    assert _ids(_bundle(client, f"patient={PATIENT_TOKEN}&date=le2025-03-02")) == ["2", "1"]
    assert _ids(_bundle(client, f"patient={PATIENT_TOKEN}&date=2025-03-03")) == ["3"]
    # 9, 8, 7: the three searches above, traced after them.
    assert _ids(_bundle(client, f"patient={PATIENT_TOKEN}&date=gt2025-03-04T12:00:00.123456Z")) == ["9", "8", "7", "5"]
    assert _ids(_bundle(client, f"patient={PATIENT_TOKEN}&subtype=urn:ihe:event-type-code|ITI-43")) == ["3", "2"]
    assert _ids(_bundle(client, f"patient={PATIENT_TOKEN}&subtype=ITI-18")) == ["5", "1"]

    # The searches above are traced now, after March 2025.
    first = _bundle(client, f"patient={PATIENT_TOKEN}&date=lt2025-04-01&_count=2")
    assert _ids(first) == ["5", "4"] and first["total"] == 5
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert set(links) == {"self", "next"}
    following = urlsplit(links["next"])
    assert parse_qs(following.query)["_offset"] == ["2"]
    second = _bundle(client, following.query)
    assert _ids(second) == ["3", "2"]
    assert {link["relation"] for link in second["link"]} == {"self", "next", "previous"}


@pytest.mark.parametrize(
    ("query", "code", "words"),
    [
        ("", "required", "exactly one patient"),
        (f"patient={PATIENT_TOKEN}&patient.identifier={PATIENT_TOKEN}", "required", "exactly one patient"),
        ("patient=urn:oid:1.2.3|123", "invalid", "INS OID"),
        ("patient=nobody", "invalid", "patient 'nobody'"),
        (f"patient={PATIENT_TOKEN}&agent-name=x", "not-supported", "agent-name"),
        (f"patient={PATIENT_TOKEN}&date=ge03/2025", "invalid", "not a date"),
        (f"patient={PATIENT_TOKEN}&subtype=http://x|ITI-18", "invalid", "urn:ihe:event-type-code"),
        (f"patient={PATIENT_TOKEN}&_count=-1", "invalid", "_count"),
    ],
)
def test_fhir_errors_are_operation_outcomes(client, query, code, words):
    response = client.get(f"/fhir/AuditEvent?{query}")
    assert response.status_code == 400 and response.content_type == FHIR_JSON
    outcome = response.get_json(force=True)
    assert outcome["resourceType"] == "OperationOutcome"
    (issue,) = outcome["issue"]
    assert (issue["severity"], issue["code"]) == ("error", code)
    assert words in issue["diagnostics"]


def test_fhir_read(traced, client):
    response = client.get("/fhir/AuditEvent/2")
    assert response.status_code == 200 and response.content_type == FHIR_JSON
    event = response.get_json(force=True)
    assert (event["id"], event["subtype"][0]["code"], event["action"]) == ("2", "ITI-43", "R")
    for missing in ("99", "abc"):
        response = client.get(f"/fhir/AuditEvent/{missing}")
        assert response.status_code == 404
        assert response.get_json(force=True)["issue"][0]["code"] == "not-found"
