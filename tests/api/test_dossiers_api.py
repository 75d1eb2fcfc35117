"""``/api/dossiers``: create, read, close, reopen, choices, professionals; RFC 9457 errors; every change traced."""

from __future__ import annotations

import pytest

from gateway.store.dossier_store import DossierStore
from gateway.store.trace_store import TraceStore

INS = "279035121518989"
NIR = "1.2.250.1.213.1.4.8"
TEST_NIR = "1.2.250.1.213.1.4.10"
KEY = f"{INS}^^^&{NIR}&ISO"
DOCTOR = "810001234567"


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.get_json(force=True)
    assert body["type"] == "about:blank" and body["status"] == status and body["code"] == code
    assert body["title"] and body["detail"]
    return body


def _transactions(db, key: str = KEY) -> list[tuple[str, str, str | None]]:
    with db.session(read_only=True) as session:
        return [(t.transaction, t.outcome.value, t.error_code) for t in reversed(TraceStore(session).query(key))]


@pytest.fixture
def created(client):
    response = client.post("/api/dossiers", json={"ins": INS})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response


def test_create_answers_the_open_dossier_and_where_it_is(created, client):
    body = created.get_json()
    assert body == {
        "ins": INS, "oid": NIR, "patient_id": KEY, "status": "open",
        "choices": {"allow_break_the_glass": True, "allow_emergency_centre": True},
        "professionals": [], "created_at": body["created_at"], "updated_at": body["updated_at"],
    }
    assert body["created_at"].endswith("Z")
    assert created.headers["Location"] == f"/api/dossiers/{INS}?oid={NIR}"
    assert client.get(created.headers["Location"]).get_json() == body


def test_create_with_choices_and_another_oid(client, db):
    response = client.post("/api/dossiers", json={"ins": INS, "oid": TEST_NIR, "allow_break_the_glass": False})
    assert response.status_code == 201
    assert response.get_json()["choices"] == {"allow_break_the_glass": False, "allow_emergency_centre": True}
    # The OID is part of the patient: without it, the default INS-NIR names someone else.
    assert client.get(f"/api/dossiers/{INS}?oid={TEST_NIR}").status_code == 200
    _problem(client.get(f"/api/dossiers/{INS}"), 404, "no-dossier")
    with db.session(read_only=True) as session:
        assert DossierStore(session).get(f"{INS}^^^&{TEST_NIR}&ISO^NH").allow_break_the_glass is False


def test_a_second_dossier_is_a_conflict(created, client, db):
    body = _problem(client.post("/api/dossiers", json={"ins": INS}), 409, "dossier-exists")
    assert INS in body["detail"]
    assert _transactions(db) == [("DOSSIER:create", "success", None),
                                 ("DOSSIER:create", "failure", "dossier-exists")]


def test_a_creation_that_loses_a_race_is_the_same_conflict(client, db, monkeypatch):
    # The race, made deterministic: another creation commits first, and the view's read still sees no
    # dossier (as it would have just before that commit); its insert then finds one.
    with db.session() as session:
        DossierStore(session).create(KEY, allow_break_the_glass=False)
    reads = []
    real = DossierStore.get_record

    def stale_first_read(self, patient_id):
        reads.append(patient_id)
        return None if len(reads) == 1 else real(self, patient_id)

    monkeypatch.setattr(DossierStore, "get_record", stale_first_read)
    body = _problem(client.post("/api/dossiers", json={"ins": INS}), 409, "dossier-exists")
    assert body["detail"] == f"the INS {INS} already has a dossier: one dossier per patient"
    assert reads == [KEY]
    # Traced as the other conflict, committed; the winner's dossier is untouched.
    assert _transactions(db) == [("DOSSIER:create", "failure", "dossier-exists")]
    monkeypatch.undo()
    assert client.get(f"/api/dossiers/{INS}").get_json()["choices"]["allow_break_the_glass"] is False


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"ins": "27903512151898"}, "invalid-ins", "14 characters long"),
        ({"ins": "27903512151898X"}, "invalid-ins", "not an INS matricule"),
        ({"ins": INS, "oid": "1.2.3"}, "invalid-oid", "not an INS assigning authority"),
        ({}, "invalid-body", "'ins'"),
        ({"ins": INS, "colour": "blue"}, "invalid-body", "unknown member(s) colour"),
        ({"ins": INS, "allow_break_the_glass": "no"}, "invalid-body", "must be true or false"),
    ],
)
def test_create_refuses_what_names_no_patient(client, body, code, words):
    assert words in _problem(client.post("/api/dossiers", json=body), 400, code)["detail"]


def test_a_body_that_is_not_json_is_refused(client):
    _problem(client.post("/api/dossiers", data="ins=1", content_type="application/x-www-form-urlencoded"),
             400, "invalid-body")


def test_close_and_reopen(created, client, db):
    closed = client.post(f"/api/dossiers/{INS}/close")
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    _problem(client.post(f"/api/dossiers/{INS}/close"), 409, "already-closed")
    reopened = client.post(f"/api/dossiers/{INS}/reopen")
    assert reopened.status_code == 200 and reopened.get_json()["status"] == "open"
    _problem(client.post(f"/api/dossiers/{INS}/reopen"), 409, "already-open")
    assert _transactions(db) == [
        ("DOSSIER:create", "success", None),
        ("DOSSIER:close", "success", None),
        ("DOSSIER:close", "failure", "already-closed"),
        ("DOSSIER:reopen", "success", None),
        ("DOSSIER:reopen", "failure", "already-open"),
    ]


def test_changes_and_reads_of_a_missing_dossier_are_not_found_and_traced(client, db):
    body = _problem(client.post(f"/api/dossiers/{INS}/close"), 404, "no-dossier")
    assert body["detail"] == f"no dossier for the INS {INS} (oid {NIR}); create it with POST /api/dossiers"
    _problem(client.put(f"/api/dossiers/{INS}/professionals/{DOCTOR}", json={}), 404, "no-dossier")
    body = _problem(client.get(f"/api/dossiers/{INS}"), 404, "no-dossier")
    assert body["detail"] == f"no dossier for the INS {INS} (oid {NIR}); create it with POST /api/dossiers"
    assert _transactions(db) == [("DOSSIER:close", "failure", "no-dossier"),
                                 ("DOSSIER:professional", "failure", "no-dossier"),
                                 ("DOSSIER:read", "failure", "no-dossier")]


def test_reading_a_dossier_is_traced_with_the_administrator_as_actor(created, client, db):
    assert client.get(f"/api/dossiers/{INS}").status_code == 200
    assert _transactions(db) == [("DOSSIER:create", "success", None), ("DOSSIER:read", "success", None)]
    with db.session(read_only=True) as session:
        read = TraceStore(session).query(KEY, transaction="DOSSIER:read")[0]
    assert (read.actor_id, read.actor_name, read.actor_kind) == ("admin", "administrator (XDSGW_ADMIN_TOKEN)",
                                                                "system")


def test_choices_are_replaced_together(created, client):
    response = client.put(f"/api/dossiers/{INS}/choices",
                          json={"allow_break_the_glass": False, "allow_emergency_centre": False})
    assert response.status_code == 200
    assert response.get_json()["choices"] == {"allow_break_the_glass": False, "allow_emergency_centre": False}
    body = _problem(client.put(f"/api/dossiers/{INS}/choices", json={"allow_break_the_glass": True}),
                    400, "invalid-body")
    assert "missing allow_emergency_centre" in body["detail"]
    _problem(client.put(f"/api/dossiers/{INS}/choices",
                        json={"allow_break_the_glass": 1, "allow_emergency_centre": True}), 400, "invalid-body")


def test_professionals(created, client, db):
    response = client.put(f"/api/dossiers/{INS}/professionals/{DOCTOR}",
                          json={"authorization": "VALIDE", "attending": True})
    assert response.status_code == 200
    assert response.get_json() == {"id": DOCTOR, "authorization": "VALIDE", "blocked": False, "attending": True}
    client.put(f"/api/dossiers/{INS}/professionals/810009999999", json={"authorization": "INTERDIT", "blocked": True})

    professionals = client.get(f"/api/dossiers/{INS}").get_json()["professionals"]
    assert professionals == [
        {"id": DOCTOR, "authorization": "VALIDE", "blocked": False, "attending": True},
        {"id": "810009999999", "authorization": "INTERDIT", "blocked": True, "attending": False},
    ]
    with db.session(read_only=True) as session:
        dossier = DossierStore(session).get(KEY)
    assert dossier.attending_doctors == {DOCTOR} and dossier.blocked == {"810009999999"}

    body = _problem(client.put(f"/api/dossiers/{INS}/professionals/{DOCTOR}", json={"authorization": "OK"}),
                    400, "invalid-body")
    assert "VALIDE, INTERDIT, EXPIRE, NON_EXISTE" in body["detail"]
    with db.session(read_only=True) as session:
        traced = TraceStore(session).query(KEY, transaction="DOSSIER:professional")
    assert [t.object_ids for t in traced] == [("810009999999",), (DOCTOR,)]
    assert {t.actor_id for t in traced} == {"admin"}


def test_a_change_and_its_trace_commit_together(created, client, db, monkeypatch):
    """The trace is written in the change's transaction: when it cannot be written, the change is undone."""

    def broken_append(self, trace):
        raise RuntimeError("trace store unavailable")

    monkeypatch.setattr(TraceStore, "append", broken_append)
    client.application.testing = False  # an error becomes a 500, as in production
    assert client.post(f"/api/dossiers/{INS}/close").status_code == 500
    monkeypatch.undo()
    assert client.get(f"/api/dossiers/{INS}").get_json()["status"] == "open"


def test_every_change_is_chained(created, client, db):
    client.post(f"/api/dossiers/{INS}/close")
    client.post(f"/api/dossiers/{INS}/reopen")
    with db.session(read_only=True) as session:
        assert TraceStore(session).verify() == []
