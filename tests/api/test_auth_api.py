"""Signing in to ``/api`` and ``/fhir``: the administrator's bearer token, a patient's VIHF; 401, 403, traces."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from gateway.access.model import Actor
from gateway.access.vihf import verify_vihf
from gateway.api.auth import MAX_AUTHORIZATION_BYTES
from gateway.app import create_app
from gateway.audit import AccessTrace
from gateway.config import Auth
from gateway.metadata import Code
from gateway.store.trace_store import TraceStore

from ..support.vihf import DemoIdentity
from .conftest import ADMIN, ADMIN_TOKEN

INS = "279035121518989"
OTHER_INS = "184057512345678"
NIR = "1.2.250.1.213.1.4.8"
KEY = f"{INS}^^^&{NIR}&ISO"
OTHER_KEY = f"{OTHER_INS}^^^&{NIR}&ISO"
FHIR_JSON = "application/fhir+json; fhirVersion=4.0"
CHALLENGE = 'Bearer realm="xds-gateway"'
#: TRE_A00 (producteur de documents non PS): the gateway's convention for patients and their representatives.
PATIENT_ROLE = Code("PATIENT", "1.2.250.1.213.1.1.4.6", "Patient")
REPRESENTATIVE_ROLE = Code("REPRESENTANT_LEGAL", "1.2.250.1.213.1.1.4.6", "Représentant légal")


def saml(assertion: bytes) -> dict[str, str]:
    return {"Authorization": "SAML " + base64.b64encode(assertion).decode("ascii")}


def patient(ins: str = INS, *, identity: DemoIdentity | None = None, **options) -> dict[str, str]:
    """The Authorization header of the patient ``ins`` (NameID their INS, resource-id their CX)."""
    identity = identity or DemoIdentity.shared()
    return saml(identity.assertion(**{"id": ins, "name": "DUPONT Marie", "roles": (PATIENT_ROLE,),
                                      "patient_id": f"{ins}^^^&{NIR}&ISO^NH", **options}))


def representative(of: str = INS) -> dict[str, str]:
    return saml(DemoIdentity.shared().assertion(id="REP-0001", name="DUPONT Paul", roles=(REPRESENTATIVE_ROLE,),
                                                patient_id=f"{of}^^^&{NIR}&ISO^NH"))


def professional() -> dict[str, str]:
    """The demo general practitioner, whose VIHF names the patient INS."""
    return saml(DemoIdentity.shared().assertion(patient_id=f"{INS}^^^&{NIR}&ISO^NH"))


def _problem(response, status: int, code: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.get_json(force=True)
    assert (body["status"], body["code"]) == (status, code)
    if status == 401:
        assert response.headers["WWW-Authenticate"] == CHALLENGE
    else:
        assert "WWW-Authenticate" not in response.headers
    return body["detail"]


def _outcome(response, status: int, code: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == FHIR_JSON
    body = response.get_json(force=True)
    assert body["resourceType"] == "OperationOutcome"
    (issue,) = body["issue"]
    assert (issue["severity"], issue["code"]) == ("error", code)
    if status == 401:
        assert response.headers["WWW-Authenticate"] == CHALLENGE
    return issue["diagnostics"]


def _traces(db, key: str = KEY, transaction: str | None = None) -> list[AccessTrace]:
    """The traces of ``key``, oldest first, read in a transaction of their own (so: committed)."""
    with db.session(read_only=True) as session:
        return list(reversed(TraceStore(session).query(key, transaction=transaction)))


def _unfiled(db) -> list[AccessTrace]:
    """The traces filed under no patient, oldest first, read from the store one sequence number at a time."""
    with db.session(read_only=True) as session:
        store = TraceStore(session)
        head = store.head()
        every = [store.get(sequence) for sequence in range(1, (head.sequence if head else 0) + 1)]
    return [t for t in every if t is not None and t.patient_key is None]


def _summary(traces: list[AccessTrace]) -> list[tuple[str, str, str, str | None]]:
    return [(t.transaction, t.actor_id, t.outcome.value, t.error_code) for t in traces]


@pytest.fixture
def dossiers(client):
    """The dossiers of INS and OTHER_INS, created by the administrator."""
    for ins in (INS, OTHER_INS):
        assert client.post("/api/dossiers", json={"ins": ins}).status_code == 201


# -- 401 ----------------------------------------------------------------------


def test_no_credentials_is_401_and_traced_as_unknown_under_no_patient(anonymous, db):
    detail = _problem(anonymous.get(f"/api/dossiers/{INS}"), 401, "unauthenticated")
    assert "Authorization: Bearer" in detail and "Authorization: SAML" in detail
    _problem(anonymous.post(f"/api/dossiers/{INS}/close"), 401, "unauthenticated")
    _problem(anonymous.get(f"/api/dossiers/{INS}/traces"), 401, "unauthenticated")
    _outcome(anonymous.get(f"/fhir/AuditEvent?patient=urn:oid:{NIR}|{INS}"), 401, "login")
    # Nobody writes into a patient's traces without signing in: the refusals are in the chain, under no patient.
    assert _traces(db) == []
    unfiled = _unfiled(db)
    assert _summary(unfiled) == [
        ("DOSSIER:read", "unknown", "refused", "unauthenticated"),
        ("DOSSIER:close", "unknown", "refused", "unauthenticated"),
        ("DOSSIER:traces", "unknown", "refused", "unauthenticated"),
        ("DOSSIER:audit-events", "unknown", "refused", "unauthenticated"),
    ]
    assert [(t.sequence, t.patient_key, t.object_ids) for t in unfiled] == [
        (1, None, ()), (2, None, ()), (3, None, ()), (4, None, ())]
    # Nothing of an anonymous caller is believed, nor kept.
    assert {(t.actor_name, t.actor_kind, t.structure_id) for t in unfiled} == {("unknown", "professional", "")}
    with db.session(read_only=True) as session:
        assert TraceStore(session).verify() == []


def test_a_401_on_the_traces_of_an_existing_dossier_is_not_filed_there(anonymous, client, db):
    assert client.post("/api/dossiers", json={"ins": INS}).status_code == 201
    _problem(anonymous.get(f"/api/dossiers/{INS}/traces", headers={"Authorization": "Bearer wrong"}), 401,
             "invalid-token")
    assert _summary(_traces(db)) == [("DOSSIER:create", "admin", "success", None)]
    assert _summary(_unfiled(db)) == [("DOSSIER:traces", "unknown", "refused", "invalid-token")]
    assert _unfiled(db)[0].sequence == 2
    # The patient's traces list shows the creation alone (and, after it, this read).
    items = client.get(f"/api/dossiers/{INS}/traces").get_json()["items"]
    assert [(i["sequence"], i["transaction"]) for i in items] == [(1, "DOSSIER:create")]


def test_every_route_but_the_openapi_document_needs_credentials(anonymous, db):
    _problem(anonymous.post("/api/dossiers", json={"ins": INS}), 401, "unauthenticated")
    _problem(anonymous.put(f"/api/dossiers/{INS}/choices", json={}), 401, "unauthenticated")
    _problem(anonymous.put(f"/api/dossiers/{INS}/professionals/810001234567", json={}), 401, "unauthenticated")
    _problem(anonymous.post(f"/api/dossiers/{INS}/reopen"), 401, "unauthenticated")
    _outcome(anonymous.get("/fhir/AuditEvent/1"), 401, "login")
    assert anonymous.get("/api/openapi.json").status_code == 200
    # A URL naming no dossier leaves no trace; a malformed INS names none either.
    _problem(anonymous.get("/api/dossiers/not-an-ins"), 401, "unauthenticated")
    assert _traces(db) == []
    assert _summary(_unfiled(db)) == [
        ("DOSSIER:choices", "unknown", "refused", "unauthenticated"),
        ("DOSSIER:professional", "unknown", "refused", "unauthenticated"),
        ("DOSSIER:reopen", "unknown", "refused", "unauthenticated"),
    ]


@pytest.mark.parametrize(
    ("header", "code", "words"),
    [
        (f"Bearer {ADMIN_TOKEN}x", "invalid-token", "not the administrator token"),
        (f"Bearer {ADMIN_TOKEN[:-1]}", "invalid-token", "not the administrator token"),
        ("Bearer", "invalid-token", "not the administrator token"),
        (f"bearer {ADMIN_TOKEN.upper()}", "invalid-token", "not the administrator token"),
        (f"Basic {base64.b64encode(b'admin:' + ADMIN_TOKEN.encode()).decode()}", "invalid-credentials",
         "'Basic' is not accepted"),
        ("SAML", "invalid-vihf", "not an XML document"),
        ("SAML not*base64", "invalid-vihf", "not base64"),
        ("SAML " + base64.b64encode(b"<a/>").decode(), "invalid-vihf", "one SAML 2.0 assertion"),
        ("SAML " + base64.b64encode(b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>").decode(), "invalid-vihf",
         "DTD"),
        ("SAML " + "A" * MAX_AUTHORIZATION_BYTES, "invalid-credentials", "larger than 64 KiB"),
    ],
)
def test_unreadable_or_wrong_credentials_are_401(anonymous, db, header, code, words):
    assert words in _problem(anonymous.get(f"/api/dossiers/{INS}", headers={"Authorization": header}), 401, code)
    assert _traces(db) == []
    assert _summary(_unfiled(db)) == [("DOSSIER:read", "unknown", "refused", code)]


def test_the_token_scheme_is_case_insensitive(anonymous, dossiers):
    assert anonymous.get(f"/api/dossiers/{INS}", headers={"Authorization": f"bearer {ADMIN_TOKEN}"}).status_code == 200


def test_without_an_administrator_token_nobody_signs_in_as_administrator(settings, db):
    anonymous = create_app(replace(settings, admin_token=""), db=db).test_client()
    detail = _problem(anonymous.get(f"/api/dossiers/{INS}", headers=ADMIN), 401, "no-admin-token")
    assert detail == ("no administrator token is configured on this gateway (XDSGW_ADMIN_TOKEN): "
                      "nobody can sign in as administrator")
    _problem(anonymous.get(f"/api/dossiers/{INS}", headers={"Authorization": "Bearer "}), 401, "no-admin-token")
    # Patients still read their own dossier.
    _problem(anonymous.get(f"/api/dossiers/{INS}", headers=patient()), 404, "no-dossier")


def test_an_expired_vihf_is_401_with_its_reason(anonymous, dossiers, db):
    expired = patient(now=datetime.now(timezone.utc) - timedelta(hours=2), valid_for=timedelta(minutes=30))
    detail = _problem(anonymous.get(f"/api/dossiers/{INS}", headers=expired), 401, "invalid-vihf")
    assert detail.startswith("the VIHF was refused: ") and "expired" in detail
    assert _traces(db, transaction="DOSSIER:read") == []
    assert _summary(_unfiled(db)) == [("DOSSIER:read", "unknown", "refused", "invalid-vihf")]


@pytest.fixture(scope="module")
def stranger(tmp_path_factory) -> DemoIdentity:
    """A structure of another certificate authority, which the gateway does not trust."""
    return DemoIdentity.create(tmp_path_factory.mktemp("untrusted-pki"))


def test_a_vihf_of_an_untrusted_authority_is_401(anonymous, dossiers, stranger):
    detail = _problem(anonymous.get(f"/api/dossiers/{INS}", headers=patient(identity=stranger)), 401,
                      "invalid-vihf")
    assert detail.startswith("the VIHF was refused: the VIHF signature is not trusted")


def test_a_tampered_vihf_is_401(anonymous, dossiers):
    signed = DemoIdentity.shared().assertion(id=OTHER_INS, name="DUPONT Marie", roles=(PATIENT_ROLE,),
                                             patient_id=f"{OTHER_INS}^^^&{NIR}&ISO^NH")
    forged = signed.replace(OTHER_INS.encode(), INS.encode())
    _problem(anonymous.get(f"/api/dossiers/{INS}", headers=saml(forged)), 401, "invalid-vihf")


def test_without_a_trust_store_no_vihf_is_accepted(settings, db, tmp_path):
    app = create_app(replace(settings, trust_dir=str(tmp_path / "empty")), db=db)
    detail = _problem(app.test_client().get(f"/api/dossiers/{INS}", headers=patient()), 401, "invalid-vihf")
    assert "trusts no certificate authority" in detail


# -- the administrator ----------------------------------------------------------


def test_the_administrator_may_do_everything(client, dossiers, db):
    assert client.post(f"/api/dossiers/{INS}/close").status_code == 200
    assert client.get(f"/api/dossiers/{OTHER_INS}").status_code == 200
    assert client.get(f"/api/dossiers/{INS}/traces").status_code == 200
    assert client.get(f"/fhir/AuditEvent?patient=urn:oid:{NIR}|{OTHER_INS}").status_code == 200
    assert client.get("/fhir/AuditEvent/1").status_code == 200
    assert {t.actor_id for t in _traces(db)} == {"admin"}


# -- patients -------------------------------------------------------------------


def test_a_patient_reads_their_dossier_traces_and_audit_events_and_each_read_is_traced(anonymous, dossiers, db):
    headers = patient()
    dossier = anonymous.get(f"/api/dossiers/{INS}", headers=headers)
    assert dossier.status_code == 200 and dossier.get_json()["patient_id"] == KEY
    traces = anonymous.get(f"/api/dossiers/{INS}/traces", headers=headers)
    assert traces.status_code == 200
    # The read of the dossier is there: the patient sees who read what, themselves included.
    assert [(i["transaction"], i["actor"]["id"], i["actor"]["kind"]) for i in traces.get_json()["items"]] == [
        ("DOSSIER:read", INS, "patient"), ("DOSSIER:create", "admin", "system"),
    ]
    bundle = anonymous.get(f"/fhir/AuditEvent?patient=urn:oid:{NIR}|{INS}", headers=headers)
    assert bundle.status_code == 200 and bundle.get_json()["total"] == 3
    first = bundle.get_json()["entry"][0]["resource"]["id"]
    assert anonymous.get(f"/fhir/AuditEvent/{first}", headers=headers).status_code == 200

    reads = [t for t in _traces(db) if t.transaction != "DOSSIER:create"]
    assert _summary(reads) == [
        ("DOSSIER:read", INS, "success", None), ("DOSSIER:traces", INS, "success", None),
        ("DOSSIER:audit-events", INS, "success", None), ("DOSSIER:audit-events", INS, "success", None),
    ]
    assert {(t.actor_name, t.actor_kind) for t in reads} == {("DUPONT Marie", "patient")}
    assert reads[-1].object_ids == (first,)
    assert _traces(db, OTHER_KEY, "DOSSIER:read") == []


def test_a_patient_named_as_cx_reads_their_dossier(anonymous, dossiers):
    headers = patient(id=f"{INS}^^^&{NIR}&ISO")
    assert anonymous.get(f"/api/dossiers/{INS}?oid={NIR}", headers=headers).status_code == 200


def test_a_patient_may_not_read_anothers_dossier_and_the_attempt_is_traced_there(anonymous, dossiers, db):
    headers = patient()
    detail = _problem(anonymous.get(f"/api/dossiers/{OTHER_INS}", headers=headers), 403, "forbidden")
    assert detail == f"a patient may only read their own dossier and traces: those of the INS {INS} (oid {NIR})"
    _problem(anonymous.get(f"/api/dossiers/{OTHER_INS}/traces", headers=headers), 403, "forbidden")
    # The same matricule under another INS OID is another patient.
    _problem(anonymous.get(f"/api/dossiers/{INS}?oid=1.2.250.1.213.1.4.10", headers=headers), 403, "forbidden")
    assert _summary(_traces(db, OTHER_KEY))[1:] == [
        ("DOSSIER:read", INS, "refused", "forbidden"), ("DOSSIER:traces", INS, "refused", "forbidden"),
    ]
    assert _summary(_traces(db, KEY)) == [("DOSSIER:create", "admin", "success", None)]


def test_a_patient_searches_only_their_own_audit_events(anonymous, dossiers, db):
    headers = patient()
    detail = _outcome(anonymous.get(f"/fhir/AuditEvent?patient=urn:oid:{NIR}|{OTHER_INS}", headers=headers), 403,
                      "forbidden")
    assert f"the INS {INS}" in detail
    _outcome(anonymous.get("/fhir/AuditEvent", headers=headers), 403, "forbidden")
    _outcome(anonymous.get(f"/fhir/AuditEvent?patient=urn:oid:{NIR}|{INS}&patient=urn:oid:{NIR}|{OTHER_INS}",
                           headers=headers), 403, "forbidden")
    _outcome(anonymous.get("/fhir/AuditEvent?patient=nobody", headers=headers), 400, "invalid")
    assert _summary(_traces(db, OTHER_KEY))[1:] == [("DOSSIER:audit-events", INS, "refused", "forbidden")]

    # Nor read, one by one, another patient's AuditEvents (the first trace is the other dossier's creation).
    others = [t.sequence for t in _traces(db, OTHER_KEY, "DOSSIER:create")]
    _outcome(anonymous.get(f"/fhir/AuditEvent/{others[0]}", headers=headers), 403, "forbidden")
    _outcome(anonymous.get("/fhir/AuditEvent/999999", headers=headers), 404, "not-found")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", f"/api/dossiers/{INS}/close", None),
        ("post", f"/api/dossiers/{INS}/reopen", None),
        ("put", f"/api/dossiers/{INS}/choices", {"allow_break_the_glass": False, "allow_emergency_centre": False}),
        ("put", f"/api/dossiers/{INS}/professionals/810001234567", {"authorization": "VALIDE"}),
    ],
)
def test_a_patient_may_not_change_their_dossier(anonymous, dossiers, db, method, path, body):
    response = getattr(anonymous, method)(path, json=body, headers=patient())
    assert "not change anything" in _problem(response, 403, "forbidden")
    refused = _traces(db)[-1]
    assert (refused.actor_id, refused.outcome.value, refused.error_code) == (INS, "refused", "forbidden")
    assert anonymous.get(f"/api/dossiers/{INS}", headers=ADMIN).get_json()["status"] == "open"


def test_a_patient_may_not_create_a_dossier(anonymous, db):
    _problem(anonymous.post("/api/dossiers", json={"ins": INS}, headers=patient()), 403, "forbidden")
    _problem(anonymous.get(f"/api/dossiers/{INS}", headers=ADMIN), 404, "no-dossier")


def test_a_patient_without_a_dossier_is_told_so_without_the_administrators_advice(anonymous, db):
    for headers in (patient(), representative()):
        detail = _problem(anonymous.get(f"/api/dossiers/{INS}", headers=headers), 404, "no-dossier")
        assert detail == f"no dossier for the INS {INS} (oid {NIR})"
    assert _summary(_traces(db)) == [("DOSSIER:read", INS, "failure", "no-dossier"),
                                     ("DOSSIER:read", "REP-0001", "failure", "no-dossier")]


def test_a_vihf_naming_two_patients_gives_no_right(anonymous, dossiers):
    headers = patient(id=OTHER_INS)  # NameID the other patient, resource-id INS
    assert "different patient" in _problem(anonymous.get(f"/api/dossiers/{INS}", headers=headers), 403, "forbidden")
    _problem(anonymous.get(f"/api/dossiers/{OTHER_INS}", headers=headers), 403, "forbidden")


# -- legal representatives, professionals -----------------------------------------


def test_a_legal_representative_reads_their_patients_dossier_only(anonymous, dossiers, db):
    headers = representative(of=INS)
    assert anonymous.get(f"/api/dossiers/{INS}", headers=headers).status_code == 200
    assert anonymous.get(f"/api/dossiers/{INS}/traces", headers=headers).status_code == 200
    assert anonymous.get(f"/fhir/AuditEvent?patient=urn:oid:{NIR}|{INS}", headers=headers).status_code == 200
    detail = _problem(anonymous.get(f"/api/dossiers/{OTHER_INS}", headers=headers), 403, "forbidden")
    assert detail.startswith("a legal representative may only read their patient's")
    _problem(anonymous.post(f"/api/dossiers/{INS}/close", headers=headers), 403, "forbidden")
    assert {(t.actor_id, t.actor_kind) for t in _traces(db) if t.transaction != "DOSSIER:create"} == {
        ("REP-0001", "legal_representative")}
    assert _summary(_traces(db, OTHER_KEY))[1:] == [("DOSSIER:read", "REP-0001", "refused", "forbidden")]


def test_a_professional_is_refused_everything(anonymous, dossiers, db):
    headers = professional()
    detail = _problem(anonymous.get(f"/api/dossiers/{INS}", headers=headers), 403, "forbidden")
    assert "not for health professionals" in detail
    _problem(anonymous.get(f"/api/dossiers/{INS}/traces", headers=headers), 403, "forbidden")
    _problem(anonymous.post(f"/api/dossiers/{INS}/close", headers=headers), 403, "forbidden")
    _problem(anonymous.post("/api/dossiers", json={"ins": "299122A00100127"}, headers=headers), 403, "forbidden")
    _outcome(anonymous.get(f"/fhir/AuditEvent?patient=urn:oid:{NIR}|{INS}", headers=headers), 403, "forbidden")
    _outcome(anonymous.get("/fhir/AuditEvent/1", headers=headers), 403, "forbidden")
    refused = _traces(db)[1:]
    assert _summary(refused) == [
        ("DOSSIER:read", "899900000001", "refused", "forbidden"),
        ("DOSSIER:traces", "899900000001", "refused", "forbidden"),
        ("DOSSIER:close", "899900000001", "refused", "forbidden"),
        ("DOSSIER:audit-events", "899900000001", "refused", "forbidden"),
    ]
    # The actor as the verified VIHF says it: roles, structure, software.
    assert refused[0].actor_roles[0].code == "10" and refused[0].structure_id == DemoIdentity.shared().pki.structure_id


# -- XDSGW_AUTH=none ---------------------------------------------------------------


def test_without_authentication_the_api_is_open(settings, db):
    app = create_app(replace(settings, auth=Auth.NONE, admin_token=""), db=db)
    anonymous = app.test_client()
    assert anonymous.post("/api/dossiers", json={"ins": INS}).status_code == 201
    assert anonymous.get(f"/api/dossiers/{INS}/traces").status_code == 200
    assert anonymous.get(f"/fhir/AuditEvent?patient=urn:oid:{NIR}|{INS}").status_code == 200
    # Credentials are not looked at: even wrong ones are served.
    assert anonymous.get(f"/api/dossiers/{INS}", headers={"Authorization": "Bearer wrong"}).status_code == 200
    assert {(t.actor_id, t.actor_kind) for t in _traces(db)} == {("admin-api", "system")}


def test_the_actor_of_a_patient_is_what_their_vihf_says():
    # The helpers build the kinds the verifier derives from the first role.
    identity = DemoIdentity.shared()
    for role, kind in ((PATIENT_ROLE, "patient"), (REPRESENTATIVE_ROLE, "legal_representative")):
        signed = identity.assertion(id=INS, roles=(role,), patient_id=f"{INS}^^^&{NIR}&ISO^NH")
        actor: Actor = verify_vihf(identity.security_header(signed), identity.trust, now=datetime.now(timezone.utc))
        assert actor.kind.value == kind
