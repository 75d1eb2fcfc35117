"""Traces naming a document hidden from the patient (INVISIBLE_PATIENT) or from the legal representatives
(INVISIBLE_REPRESENTANTS_LEGAUX) are left out of what they read: the JSON list, the FHIR search and read;
totals and pages agree; the administrator reads everything."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.access.decision import VISIBILITY_SYSTEM
from gateway.audit import AccessTrace, Outcome
from gateway.metadata import CX, AvailabilityStatus, Code
from gateway.store.registry_store import RegistryStore
from gateway.store.trace_store import TraceStore

from ..audit.factories import DOCTOR, at
from ..factories import document_entry, registered
from .conftest import ADMIN
from .test_auth_api import INS, KEY, NIR, patient, representative

FHIR_JSON = "application/fhir+json; fhirVersion=4.0"
PATIENT_TOKEN = f"urn:oid:{NIR}|{INS}"
#: Before the traces' reads (and the dossier's creation), which are traced now.
MARCH = "until=2025-03-31"

VISIBLE = "1.2.250.1.999.1.1"
HIDDEN = "1.2.250.1.999.1.2"  # INVISIBLE_PATIENT: hidden from the patient and the representatives
HIDDEN_FROM_REPRESENTATIVES = "1.2.250.1.999.1.3"  # INVISIBLE_REPRESENTANTS_LEGAUX
MADE_VISIBLE = "1.2.250.1.999.1.4"  # INVISIBLE_PATIENT in version 1, not in version 2
DELETED_MASKED = "1.2.250.1.999.1.5"  # MASQUE_PS (the patient sees it), then deleted
DELETED_HIDDEN = "1.2.250.1.999.1.6"  # INVISIBLE_PATIENT, then deleted


def _visibility(code: str) -> Code:
    return Code(code, VISIBILITY_SYSTEM, code)


NORMAL = Code("N", "2.16.840.1.113883.5.25", "Normal")


def _entry(number: int, unique_id: str, *codes: Code, status=AvailabilityStatus.APPROVED, version: int = 1,
           logical: int | None = None):
    uuid = f"urn:uuid:0e0e0e0e-0000-4000-8000-{number:012d}"
    return registered(document_entry(
        uuid, number, unique_id=unique_id, patient_id=CX.of(INS, NIR),
        confidentiality_codes=[NORMAL, *codes], version=str(version),
        logical_id=f"urn:uuid:0e0e0e0e-0000-4000-8000-{logical or number:012d}",
    ), status)


def _deposit(unique_id: str, day: int) -> AccessTrace:
    return AccessTrace.of(DOCTOR, "ITI-41", patient_id=KEY, object_ids=(f"1.2.250.1.999.3.{day}", unique_id),
                          recorded_at=at(day))


@pytest.fixture
def dossier(client, db):
    """The patient's dossier (trace 1, now), six documents, and traces 2 to 10 (March 2025).

    2 deposit VISIBLE, 3 deposit HIDDEN, 4 deposit HIDDEN_FROM_REPRESENTATIVES, 5 a FindDocuments naming
    all three, 6 a retrieve of VISIBLE, 7 a query that found nothing, 8 deposit MADE_VISIBLE,
    9 deposit DELETED_MASKED, 10 a refused retrieve of DELETED_HIDDEN.
    """
    assert client.post("/api/dossiers", json={"ins": INS}).status_code == 201
    with db.session() as session:
        RegistryStore(session).add([
            _entry(1, VISIBLE),
            _entry(2, HIDDEN, _visibility("INVISIBLE_PATIENT")),
            _entry(3, HIDDEN_FROM_REPRESENTATIVES, _visibility("INVISIBLE_REPRESENTANTS_LEGAUX")),
            _entry(4, MADE_VISIBLE, _visibility("INVISIBLE_PATIENT"), status=AvailabilityStatus.DEPRECATED),
            _entry(40, MADE_VISIBLE, version=2, logical=4),
            _entry(5, DELETED_MASKED, _visibility("MASQUE_PS"), status=AvailabilityStatus.DELETED),
            _entry(6, DELETED_HIDDEN, _visibility("INVISIBLE_PATIENT"), status=AvailabilityStatus.DELETED),
        ])
        store = TraceStore(session)
        for t in (
            _deposit(VISIBLE, 1),
            _deposit(HIDDEN, 2),
            _deposit(HIDDEN_FROM_REPRESENTATIVES, 3),
            AccessTrace.of(DOCTOR, "ITI-18:FindDocuments", patient_id=KEY,
                           object_ids=(VISIBLE, HIDDEN, HIDDEN_FROM_REPRESENTATIVES), recorded_at=at(4)),
            AccessTrace.of(DOCTOR, "ITI-43", patient_id=KEY, object_ids=(VISIBLE,), recorded_at=at(5)),
            AccessTrace.of(DOCTOR, "ITI-18:FindDocuments", patient_id=KEY, recorded_at=at(6)),
            _deposit(MADE_VISIBLE, 7),
            _deposit(DELETED_MASKED, 8),
            AccessTrace.of(DOCTOR, "ITI-43", patient_id=KEY, object_ids=(DELETED_HIDDEN,), recorded_at=at(9),
                           outcome=Outcome.FAILURE, error_code="XDSDocumentUniqueIdError"),
        ):
            store.append(t)
    return db


#: What each reader is shown of traces 2 to 10, newest first.
ADMINISTRATOR_SEES = [10, 9, 8, 7, 6, 5, 4, 3, 2]
PATIENT_SEES = [9, 8, 7, 6, 4, 2]
REPRESENTATIVE_SEES = [9, 8, 7, 6, 2]


def _page(client, headers, query: str = "") -> tuple[int, list[int]]:
    response = client.get(f"/api/dossiers/{INS}/traces?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    return body["total"], [item["sequence"] for item in body["items"]]


def _reads(db, transaction: str) -> list[tuple[str, str]]:
    with db.session(read_only=True) as session:
        return [(t.actor_id, t.outcome.value) for t in reversed(TraceStore(session).query(KEY, transaction=transaction))]


# -- GET /api/dossiers/{ins}/traces ----------------------------------------------------


def test_the_patient_does_not_see_the_traces_of_a_hidden_document(dossier, anonymous):
    headers = patient()
    # Everything, the dossier's creation (1, now) first.
    assert _page(anonymous, headers) == (7, [1, *PATIENT_SEES])
    assert _page(anonymous, headers, MARCH) == (6, PATIENT_SEES)
    # Pages and totals agree: the hidden traces take no place.
    assert _page(anonymous, headers, f"{MARCH}&size=4") == (6, [9, 8, 7, 6])
    assert _page(anonymous, headers, f"{MARCH}&size=4&page=2") == (6, [4, 2])
    assert _page(anonymous, headers, f"{MARCH}&size=4&page=3") == (6, [])
    # Nor through the filters.
    assert _page(anonymous, headers, f"{MARCH}&transaction=ITI-41") == (4, [9, 8, 4, 2])
    assert _page(anonymous, headers, f"{MARCH}&actor={DOCTOR.id}&transaction=ITI-43") == (1, [6])
    # Each read is traced, in the patient's dossier, with the patient as actor.
    assert _reads(dossier, "DOSSIER:traces") == [(INS, "success")] * 7


def test_the_hidden_traces_leave_nothing_in_the_items(dossier, anonymous):
    items = anonymous.get(f"/api/dossiers/{INS}/traces?{MARCH}", headers=patient()).get_json()["items"]
    shown = {object_id for item in items for object_id in item["object_ids"]}
    assert shown == {VISIBLE, HIDDEN_FROM_REPRESENTATIVES, MADE_VISIBLE, DELETED_MASKED, "1.2.250.1.999.3.1",
                     "1.2.250.1.999.3.3", "1.2.250.1.999.3.7", "1.2.250.1.999.3.8"}
    assert {item["recorded_at"] for item in items} == {
        f"2025-03-0{day}T12:00:00.123456Z" for day in (1, 3, 5, 6, 7, 8)}


def test_a_legal_representative_sees_neither_kind_of_hidden_document(dossier, anonymous):
    headers = representative()
    assert _page(anonymous, headers, MARCH) == (5, REPRESENTATIVE_SEES)
    assert _page(anonymous, headers, f"{MARCH}&size=3&page=2") == (5, [6, 2])
    assert _reads(dossier, "DOSSIER:traces") == [("REP-0001", "success")] * 2


def test_the_administrator_sees_every_trace(dossier, client):
    assert _page(client, ADMIN, MARCH) == (9, ADMINISTRATOR_SEES)
    assert _page(client, ADMIN, f"{MARCH}&size=4&page=2") == (9, [6, 5, 4, 3])


def test_a_document_made_hidden_hides_its_past_traces(dossier, anonymous):
    # The visibility of a document is its newest version's: an update adding INVISIBLE_PATIENT hides the past.
    with dossier.session() as session:
        RegistryStore(session).set_status(["urn:uuid:0e0e0e0e-0000-4000-8000-000000000001"],
                                          AvailabilityStatus.DEPRECATED)
        RegistryStore(session).add([_entry(10, VISIBLE, _visibility("INVISIBLE_PATIENT"), version=2, logical=1)])
    assert _page(anonymous, patient(), MARCH) == (4, [9, 8, 7, 4])


# -- FHIR ----------------------------------------------------------------------------------


def _bundle(client, headers, query: str) -> dict:
    response = client.get(f"/fhir/AuditEvent?patient={PATIENT_TOKEN}&{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type == FHIR_JSON
    return response.get_json(force=True)


def _ids(bundle: dict) -> list[int]:
    return [int(entry["resource"]["id"]) for entry in bundle["entry"]]


def test_the_fhir_search_leaves_the_hidden_traces_out(dossier, anonymous, client):
    before = "date=lt2025-04-01"
    first = _bundle(anonymous, patient(), f"{before}&_count=4")
    assert (first["total"], _ids(first)) == (6, [9, 8, 7, 6])
    following = urlsplit({link["relation"]: link["url"] for link in first["link"]}["next"])
    assert parse_qs(following.query)["_offset"] == ["4"]
    second = anonymous.get(f"/fhir/AuditEvent?{following.query}", headers=patient()).get_json(force=True)
    assert (second["total"], _ids(second)) == (6, [4, 2])
    assert {link["relation"] for link in second["link"]} == {"self", "previous"}
    # The ITI-41 subtype: the hidden deposit is not counted either.
    deposits = _bundle(anonymous, patient(), f"{before}&subtype=ITI-41")
    assert (deposits["total"], _ids(deposits)) == (4, [9, 8, 4, 2])

    shown = _bundle(anonymous, representative(), before)
    assert (shown["total"], _ids(shown)) == (5, REPRESENTATIVE_SEES)
    everything = _bundle(client, ADMIN, before)
    assert (everything["total"], _ids(everything)) == (9, ADMINISTRATOR_SEES)
    assert _reads(dossier, "DOSSIER:audit-events") == [(INS, "success")] * 3 + [("REP-0001", "success"),
                                                                                 ("admin", "success")]


def _not_found(ident: str) -> dict:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "not-found", "diagnostics": f"no AuditEvent with id {ident!r}"}]}


def test_a_hidden_audit_event_read_by_id_is_answered_as_one_that_does_not_exist(dossier, anonymous, client):
    for headers, hidden, shown in ((patient(), (3, 5, 10), (2, 4, 6, 7, 8, 9)),
                                   (representative(), (3, 4, 5, 10), (2, 6, 7, 8, 9))):
        for sequence in hidden:
            response = anonymous.get(f"/fhir/AuditEvent/{sequence}", headers=headers)
            assert (response.status_code, response.content_type) == (404, FHIR_JSON)
            assert response.get_json(force=True) == _not_found(str(sequence))
        for sequence in shown:
            response = anonymous.get(f"/fhir/AuditEvent/{sequence}", headers=headers)
            assert response.status_code == 200 and response.get_json(force=True)["id"] == str(sequence)
    # Exactly as an id that does not exist: the same answer, and no trace either.
    missing = anonymous.get("/fhir/AuditEvent/999", headers=patient())
    assert (missing.status_code, missing.content_type) == (404, FHIR_JSON)
    assert missing.get_json(force=True) == _not_found("999")
    assert _reads(dossier, "DOSSIER:audit-events") == [(INS, "success")] * 6 + [("REP-0001", "success")] * 5

    # The administrator reads them.
    for sequence in (3, 4, 5, 10):
        assert client.get(f"/fhir/AuditEvent/{sequence}").status_code == 200
