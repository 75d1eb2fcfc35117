"""The access trace of each XDS.b transaction, field by field, over real HTTP (issue 6).

Every integration test is checked for one trace per request (the journal of
tests/support/trace_journal.py, run by tests/integration/conftest.py): that
check compares the fields a request determines. Here each transaction kind is
traced once and every field of its trace is asserted: the actor as the VIHF
describes it (roles, structure, software), the access mode, the patient, the
objects, the outcome, the time; then failures, the hash chain as
``xds-gateway traces verify`` sees it, and the journal check itself.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from lxml import etree
from sqlalchemy import select, text

from gateway.audit.chain import GENESIS_HASH
from gateway.audit.model import AccessTrace, Outcome
from gateway.audit.patient import patient_key
from gateway.ebxml import read_registry_object_list
from gateway.ebxml.adhoc_query import adhoc_query_request
from gateway.ebxml.namespaces import QUERY, RIM
from gateway.ebxml.retrieve import retrieve_document_set_request
from gateway.metadata import AvailabilityStatus
from gateway.metadata.query import FindDocuments
from gateway.metadata.repository import DocumentReference
from gateway.store.database import Database
from gateway.store.schema import AccessTraceRow
from gateway.store.trace_store import TraceStore

from .. import factories as f
from ..support import trace_journal
from ..support.soap_client import post
from ..support.vihf import DemoIdentity
from .repository_client import ITI43, provide_and_register, retrieve
from .test_repository import UID_1, UID_2, provided
from .xds import ITI42, register

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
SCRIPT = f"{os.path.dirname(sys.executable)}/xds-gateway"
SS_UID = "1.2.250.1.999.3.1"
#: The patient of the factories' submissions, as traces file it.
PATIENT_KEY = patient_key(f.PATIENT.format())


def now() -> datetime:
    return datetime.now(timezone.utc)


def traces_since(gw, since: datetime) -> list[AccessTrace]:
    """The XDS.b traces recorded since ``since``, in sequence order."""
    with gw.db.session(read_only=True) as session:
        store = TraceStore(session)
        sequences = session.scalars(select(AccessTraceRow.sequence).where(AccessTraceRow.recorded_at >= since)
                                    .order_by(AccessTraceRow.sequence)).all()
        return [t for n in sequences if (t := store.get(n)).transaction.startswith("ITI-")]


def only_trace(gw, since: datetime) -> AccessTrace:
    traces = traces_since(gw, since)
    assert len(traces) == 1, f"one trace expected, got {[(t.sequence, t.transaction) for t in traces]}"
    return traces[0]


def assert_demo_professional(trace: AccessTrace) -> None:
    """Who, with what, in which mode: everything the demo VIHF says, as the trace keeps it."""
    identity = DemoIdentity.shared()
    demo = identity.actor()
    assert (trace.actor_id, trace.actor_name, trace.actor_kind) == ("899900000001", demo.name, "professional")
    assert trace.actor_roles == demo.roles
    assert [(r.code, r.scheme) for r in trace.actor_roles] == [("10", "1.2.250.1.71.1.2.7"),
                                                                ("SM26", "1.2.250.1.71.4.2.5")]
    assert trace.structure_id == identity.pki.structure_id and trace.structure_id
    assert (trace.software_name, trace.software_version, trace.software_approval) == (
        "XDS-GATEWAY-DEMO", "0.1.0", "DEMO-0000")
    assert (trace.access_mode, trace.break_the_glass) == ("normal", False)


def assert_stored_and_chained(trace: AccessTrace, started: datetime, ended: datetime) -> None:
    assert started <= trace.recorded_at <= ended, (started, trace.recorded_at, ended)
    assert trace.sequence is not None and trace.sequence >= 1
    assert trace.hash and len(trace.hash) == len(GENESIS_HASH)
    assert trace.previous_hash and trace.previous_hash != trace.hash


def returned_unique_ids(response) -> list[str]:
    read = read_registry_object_list(response.payload.find(f"{{{RIM}}}RegistryObjectList"))
    assert read.findings == []
    return [d.unique_id for d in read.submission.documents]


def find_documents() -> FindDocuments:
    return FindDocuments(patient_id=f.PATIENT.format(), statuses=[AvailabilityStatus.APPROVED])


# -- one per transaction kind ------------------------------------------------------------------------------------


def test_a_registration_is_traced_iti42_with_the_submission_set_then_its_documents(gateway):
    started = now()
    response = register(gateway, f.valid_submission())
    ended = now()

    assert response.status == "Success", response.errors
    trace = only_trace(gateway, started)
    assert (trace.transaction, trace.patient_key, trace.outcome, trace.error_code) == (
        "ITI-42", PATIENT_KEY, Outcome.SUCCESS, None)
    assert trace.object_ids == (SS_UID, "1.2.250.1.999.1.1", "1.2.250.1.999.1.2")
    assert_demo_professional(trace)
    assert_stored_and_chained(trace, started, ended)


def test_a_provide_and_register_is_traced_iti41_with_the_submission_set_then_its_documents(gateway):
    started = now()
    response = provide_and_register(gateway.repository_url, provided())
    ended = now()

    assert (response.status, response.errors) == ("Success", [])
    trace = only_trace(gateway, started)
    assert (trace.transaction, trace.patient_key, trace.outcome, trace.error_code) == (
        "ITI-41", PATIENT_KEY, Outcome.SUCCESS, None)
    assert trace.object_ids == (SS_UID, UID_1, UID_2)
    assert_demo_professional(trace)
    assert_stored_and_chained(trace, started, ended)


def test_a_stored_query_is_traced_with_its_name_and_the_entries_it_returned(gateway):
    assert register(gateway, f.valid_submission()).status == "Success"
    started = now()
    response = post(gateway.registry_url, ITI18, adhoc_query_request(find_documents()))
    ended = now()

    assert response.status == "Success", response.errors
    returned = returned_unique_ids(response)
    assert sorted(returned) == ["1.2.250.1.999.1.1", "1.2.250.1.999.1.2"]
    trace = only_trace(gateway, started)
    assert (trace.transaction, trace.patient_key, trace.outcome, trace.error_code) == (
        "ITI-18:FindDocuments", PATIENT_KEY, Outcome.SUCCESS, None)
    assert list(trace.object_ids) == returned
    assert_demo_professional(trace)
    assert_stored_and_chained(trace, started, ended)


def test_a_retrieve_is_traced_iti43_with_the_documents_delivered_for_the_vihf_patient(gateway):
    assert provide_and_register(gateway.repository_url, provided()).status == "Success"
    repository = gateway.settings.repository_unique_id
    started = now()
    # The fixture's VIHFs name the factories' patient: an ITI-43 request names none of its own.
    answer = retrieve(gateway.repository_url,
                      [DocumentReference(repository, UID_2), DocumentReference(repository, UID_1)])
    ended = now()

    assert answer.status == "Success", answer.error_codes
    trace = only_trace(gateway, started)
    assert (trace.transaction, trace.patient_key, trace.outcome, trace.error_code) == (
        "ITI-43", PATIENT_KEY, Outcome.SUCCESS, None)
    assert trace.object_ids == (UID_2, UID_1)
    assert_demo_professional(trace)
    assert_stored_and_chained(trace, started, ended)


# -- failures ------------------------------------------------------------------------------------------------------


def test_a_registration_failing_validation_is_a_failure_trace_with_its_code_and_stores_nothing(gateway):
    started = now()
    response = register(gateway, f.valid_submission(doc2={"patient_id": None}))
    ended = now()

    assert response.status == "Failure"
    assert response.error_codes[0] == "XDSRegistryMetadataError"
    assert gateway.stored_total() == 0
    trace = only_trace(gateway, started)
    assert (trace.transaction, trace.patient_key, trace.outcome, trace.error_code) == (
        "ITI-42", PATIENT_KEY, Outcome.FAILURE, "XDSRegistryMetadataError")
    # What the deposit would have stored: named all the same.
    assert trace.object_ids == (SS_UID, "1.2.250.1.999.1.1", "1.2.250.1.999.1.2")
    assert_demo_professional(trace)
    assert_stored_and_chained(trace, started, ended)


def test_a_retrieve_of_an_unknown_document_is_a_failure_trace_naming_no_document(gateway):
    assert provide_and_register(gateway.repository_url, provided()).status == "Success"  # opens the patient's DMP
    started = now()
    answer = retrieve(gateway.repository_url,
                      [DocumentReference(gateway.settings.repository_unique_id, "1.2.250.1.999.1.404")])
    ended = now()

    assert (answer.status, answer.error_codes, answer.documents) == ("Failure", ["XDSDocumentUniqueIdError"], [])
    trace = only_trace(gateway, started)
    assert (trace.transaction, trace.patient_key, trace.outcome, trace.error_code, trace.object_ids) == (
        "ITI-43", PATIENT_KEY, Outcome.FAILURE, "XDSDocumentUniqueIdError", ())
    assert_demo_professional(trace)
    assert_stored_and_chained(trace, started, ended)


def test_an_adhoc_query_that_cannot_be_read_is_traced_iti18_alone(gateway):
    no_query = etree.Element(f"{{{QUERY}}}AdhocQueryRequest")
    etree.SubElement(no_query, f"{{{QUERY}}}ResponseOption", returnType="LeafClass", returnComposedObjects="true")
    unknown = adhoc_query_request(find_documents())
    unknown.find(f"{{{RIM}}}AdhocQuery").set("id", "urn:uuid:00000000-0000-4000-8000-000000000000")

    started = now()
    missing = post(gateway.registry_url, ITI18, no_query)
    not_ours = post(gateway.registry_url, ITI18, unknown)
    ended = now()

    assert (missing.status, missing.error_codes) == ("Failure", ["XDSRegistryError"])
    assert (not_ours.status, not_ours.error_codes) == ("Failure", ["XDSUnknownStoredQuery"])
    first, second = traces_since(gateway, started)
    # Nothing of an unreadable query is believed: the patient is the VIHF's (the fixture's patient).
    assert (first.transaction, first.patient_key, first.outcome, first.error_code, first.object_ids) == (
        "ITI-18", PATIENT_KEY, Outcome.FAILURE, "XDSRegistryError", ())
    assert (second.transaction, second.outcome, second.error_code) == (
        "ITI-18", Outcome.FAILURE, "XDSUnknownStoredQuery")
    for trace in (first, second):
        assert_demo_professional(trace)
        assert_stored_and_chained(trace, started, ended)
    assert second.previous_hash == first.hash


def test_a_refused_vihf_is_traced_refused_with_nothing_it_claims(gateway):
    started = now()
    request = retrieve_document_set_request([DocumentReference(gateway.settings.repository_unique_id, UID_1)])
    response = post(gateway.repository_url, ITI43, request, security=None)
    ended = now()

    assert (response.http_status, response.fault_code) == (400, "env:Sender")
    assert response.fault_subcode.endswith(":InvalidSecurity")  # in the WS-Security namespace, whatever its prefix
    trace = only_trace(gateway, started)
    assert (trace.transaction, trace.outcome, trace.error_code) == ("ITI-43", Outcome.REFUSED, "wsse:InvalidSecurity")
    assert (trace.actor_id, trace.actor_name, trace.actor_roles, trace.structure_id) == ("unknown", "unknown", (), "")
    assert (trace.software_name, trace.software_version, trace.software_approval) == ("", "", "")
    assert (trace.access_mode, trace.break_the_glass, trace.patient_key, trace.object_ids) == (
        "normal", False, None, ())
    assert_stored_and_chained(trace, started, ended)


# -- the chain, as an operator verifies it ---------------------------------------------------------------------


def cli_database_url(db: Database) -> str:
    """XDSGW_DATABASE_URL for the CLI: the test database, its PostgreSQL schema riding in the URL."""
    url = db.url
    if db.schema:
        url = url.update_query_dict({"options": f"-csearch_path={db.schema}"})
    return url.render_as_string(hide_password=False)


def traces_verify(db: Database, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDSGW_")}
    env.update(XDSGW_DATA_DIR=str(tmp_path / "cli"), XDSGW_DATABASE_URL=cli_database_url(db))
    return subprocess.run([SCRIPT, "traces", "verify"], env=env, capture_output=True, text=True, timeout=60)


def set_actor_name(db: Database, sequence: int, name: str) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE access_traces SET actor_name = :name WHERE sequence = :sequence"),
                           {"name": name, "sequence": sequence})


def test_traces_verify_passes_after_each_transaction_and_names_an_edited_trace(gateway, tmp_path):
    started = now()
    assert provide_and_register(gateway.repository_url, provided()).status == "Success"
    assert register(gateway, f.valid_submission(doc2={"patient_id": None})).status == "Failure"
    assert post(gateway.registry_url, ITI18, adhoc_query_request(find_documents())).status == "Success"
    assert retrieve(gateway.repository_url, [DocumentReference(gateway.settings.repository_unique_id, UID_1)]
                    ).status == "Success"
    traced = traces_since(gateway, started)
    assert [t.transaction for t in traced] == ["ITI-41", "ITI-42", "ITI-18:FindDocuments", "ITI-43"]

    intact = traces_verify(gateway.db, tmp_path)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    with gateway.db.session(read_only=True) as session:
        count = TraceStore(session).check().count
    assert intact.stdout.strip() == f"access traces intact: {count} traces, hash chain verified"

    edited = traced[2]
    set_actor_name(gateway.db, edited.sequence, "Forged Name")
    try:
        tampered = traces_verify(gateway.db, tmp_path)
    finally:
        set_actor_name(gateway.db, edited.sequence, edited.actor_name)

    assert tampered.returncode == 1
    assert tampered.stdout.splitlines() == [f"trace {edited.sequence}: its content does not match its hash (edited)"]
    assert f"1 problem(s) among {count} traces" in tampered.stderr
    assert traces_verify(gateway.db, tmp_path).returncode == 0  # restored: intact again


# -- the journal check names what differs --------------------------------------------------------------------------


def test_the_journal_check_names_the_request_whose_trace_is_missing_or_wrong(gateway, journaled_requests):
    started = now()
    assert register(gateway, f.valid_submission()).status == "Success"
    assert post(gateway.registry_url, ITI42, adhoc_query_request(find_documents())).status == "Failure"
    first, second = traces_since(gateway, started)
    journal = journaled_requests

    assert trace_journal.check_traces(journal, [first, second]) == []

    missing = trace_journal.check_traces(journal, [first])
    assert missing[0] == "2 request(s) should have left one access trace each, 1 trace(s) were written"
    assert len(missing) == 2 and missing[1].startswith("no trace matches request #2 (tests/integration/"
                                                        "test_access_traces.py:")
    assert "ITI-42 with body AdhocQueryRequest to " in missing[1]
    assert missing[1].endswith("→ HTTP 200 Failure XDSRegistryMetadataError)")

    wrong = trace_journal.check_traces(journal, [first, dataclasses.replace(second, actor_id="810000000000",
                                                                            outcome=Outcome.SUCCESS)])
    assert len(wrong) == 2
    assert all(w.startswith("request #2 (tests/integration/test_access_traces.py:") for w in wrong)
    assert wrong[0].endswith("actor_id is '810000000000', expected '899900000001'")
    assert wrong[1].endswith("outcome is 'success', expected failure or refused")

    extra = trace_journal.check_traces(journal, [first, second, dataclasses.replace(second, sequence=99)])
    assert "trace 99 (ITI-42" in extra[-1] and extra[-1].endswith("matches no request of the test")


@pytest.mark.untraced("a crashing service answers a Receiver fault, which the journal takes for a request "
                      "refused before authentication; the trace is asserted here instead")
def test_a_transaction_that_crashes_is_still_traced_as_a_failure(gateway, monkeypatch):
    from gateway.registry.stored_queries import StoredQueryService

    def crash(self, query, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(StoredQueryService, "run", crash)  # the server runs in this process
    started = datetime.now(timezone.utc)

    response = post(gateway.registry_url, "urn:ihe:iti:2007:RegistryStoredQuery", adhoc_query_request(
        FindDocuments(patient_id=f.PATIENT.format(), statuses=[AvailabilityStatus.APPROVED])))

    assert (response.http_status, response.fault_code) == (500, "env:Receiver")
    with gateway.db.session(read_only=True) as session:
        traces = [t for t in TraceStore(session).query(patient_key(f.PATIENT.format())) if t.recorded_at >= started]
    assert [(t.transaction, t.outcome, t.error_code, t.actor_id) for t in traces] == [
        ("ITI-18", Outcome.FAILURE, "XDSRegistryError", DemoIdentity.shared().actor().id)
    ]
