"""AccessTrace built from an Actor, its canonical form, and the chain check on plain values."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from gateway.access.model import AccessMode, Actor, ActorKind
from gateway.audit import (
    GENESIS_HASH,
    AccessTrace,
    ChainHead,
    Outcome,
    canonical_json,
    chain_hash,
    stored_query_transaction,
    verify_chain,
)
from gateway.metadata.query import QueryId

from .factories import DOCTOR, EMERGENCY_DOCTOR, PATIENT_KEY, at, trace

#: The canonical form of ``trace(at=at(1))`` numbered 1: pinned, since a change would break every stored chain.
CANONICAL = (
    '{"access_mode":"normal","actor_id":"810001234567","actor_kind":"professional","actor_name":"DOCTEUR Jean",'
    '"actor_roles":[{"code":"10","display":"Médecin","system":"1.2.250.1.213.1.1.5.5"},'
    '{"code":"SM26","display":"Qualifié en médecine générale","system":"1.2.250.1.71.4.2.5"}],'
    '"break_the_glass":false,"error_code":null,"object_ids":["urn:uuid:0b5c6e8e-1d0e-4b2e-9a57-3f1c1e1a0001"],'
    '"outcome":"success","patient_key":"279035121518989^^^&1.2.250.1.213.1.4.10&ISO",'
    '"recorded_at":"2025-03-01T12:00:00.123456Z","sequence":1,"software_approval":"HOMOL-1234",'
    '"software_name":"LPS Demo","software_version":"2.1","structure_id":"11234567890001",'
    '"transaction":"ITI-18:FindDocuments"}'
)


def test_a_trace_takes_what_the_vihf_says_of_the_actor():
    t = AccessTrace.of(DOCTOR, "ITI-43", object_ids=["1.2.3"], outcome=Outcome.REFUSED, error_code="XDSRegistryError")
    assert (t.actor_id, t.actor_name, t.actor_kind, t.actor_roles) == (
        "810001234567", "DOCTEUR Jean", "professional", DOCTOR.roles)
    assert (t.structure_id, t.software_name, t.software_version, t.software_approval) == (
        "11234567890001", "LPS Demo", "2.1", "HOMOL-1234")
    assert (t.access_mode, t.break_the_glass) == ("normal", False)
    # The VIHF's CI-SIS spelling (…^NH) is filed under the key.
    assert t.patient_key == PATIENT_KEY
    assert (t.object_ids, t.outcome, t.error_code) == (("1.2.3",), Outcome.REFUSED, "XDSRegistryError")
    assert t.recorded_at.tzinfo is timezone.utc and t.sequence is None and t.hash is None


def test_break_the_glass_is_flagged():
    t = AccessTrace.of(EMERGENCY_DOCTOR, "ITI-43")
    assert (t.access_mode, t.break_the_glass) == ("bris_de_glace", True)
    centre = AccessTrace.of(replace(DOCTOR, access_mode=AccessMode.EMERGENCY_CENTRE), "ITI-43")
    assert (centre.access_mode, centre.break_the_glass) == ("centre_15", False)


def test_the_patient_given_wins_over_the_vihf_and_an_unusable_one_is_left_out():
    assert AccessTrace.of(DOCTOR, "ITI-18", patient_id="1^^^&1.2.3&ISO").patient_key == "1^^^&1.2.3&ISO"
    anonymous = Actor(id="x", kind=ActorKind.SYSTEM)
    assert AccessTrace.of(anonymous, "ITI-18").patient_key is None
    assert AccessTrace.of(anonymous, "ITI-18", patient_id="no authority").patient_key is None


def test_times_are_utc():
    paris = timezone(timedelta(hours=1))
    assert AccessTrace.of(DOCTOR, "ITI-18", recorded_at=datetime(2025, 3, 1, 13, tzinfo=paris)).recorded_at == \
        datetime(2025, 3, 1, 12, tzinfo=timezone.utc)
    assert AccessTrace.of(DOCTOR, "ITI-18", recorded_at=datetime(2025, 3, 1, 12)).recorded_at == \
        datetime(2025, 3, 1, 12, tzinfo=timezone.utc)


def test_stored_queries_are_named():
    assert stored_query_transaction(QueryId.FIND_DOCUMENTS.value) == "ITI-18:FindDocuments"
    assert stored_query_transaction(QueryId.GET_SUBMISSION_SET_AND_CONTENTS.value) == \
        "ITI-18:GetSubmissionSetAndContents"
    assert stored_query_transaction("urn:uuid:unknown") == "ITI-18:urn:uuid:unknown"


def test_the_canonical_form_is_sorted_compact_utf8_json():
    first = replace(trace(at=at(1)), sequence=1)
    assert canonical_json(first) == CANONICAL.encode("utf-8")
    expected = hashlib.sha256((GENESIS_HASH + CANONICAL).encode("utf-8")).hexdigest()
    assert chain_hash(GENESIS_HASH, first) == expected == \
        "d4abc1a0733bab1d5b425d77c7544190dddf1bf3cf50fd42828b892ba88620c6"


def test_the_hash_covers_every_field():
    first = replace(trace(at=at(1)), sequence=1)
    for change in ({"sequence": 2}, {"outcome": Outcome.FAILURE}, {"object_ids": ()}, {"break_the_glass": True},
                   {"recorded_at": at(2)}, {"actor_roles": ()}, {"error_code": "X"}, {"patient_key": None}):
        assert chain_hash(GENESIS_HASH, replace(first, **change)) != chain_hash(GENESIS_HASH, first), change


def _chain(count: int) -> list[AccessTrace]:
    traces, previous = [], GENESIS_HASH
    for sequence in range(1, count + 1):
        t = replace(trace(at=at(sequence)), sequence=sequence, previous_hash=previous)
        t = replace(t, hash=chain_hash(previous, t))
        traces.append(t)
        previous = t.hash
    return traces


def _named(traces, head=None) -> list[int]:
    return [p.sequence for p in verify_chain(traces, head)[1]]


def test_verify_an_intact_chain():
    chain = _chain(4)
    assert verify_chain(chain, ChainHead(4, chain[-1].hash)) == (4, [])
    assert verify_chain([], None) == (0, [])


def test_verify_names_edits_deletions_moves_and_truncations():
    chain = _chain(4)
    head = ChainHead(4, chain[-1].hash)
    assert _named([chain[0], replace(chain[1], actor_name="X"), *chain[2:]], head) == [2]
    assert _named([chain[0], *chain[2:]], head) == [3, 3]
    assert _named([chain[0], replace(chain[2], sequence=2), replace(chain[1], sequence=3), chain[3]], head) == \
        [2, 2, 3, 3, 4]
    assert _named(chain[:3], head) == [4]
    forged = replace(chain[3], outcome=Outcome.FAILURE)
    forged = replace(forged, hash=chain_hash(forged.previous_hash, forged))
    assert _named([*chain[:3], forged], head) == [4]


def test_verify_messages_say_what_happened():
    chain = _chain(5)
    problems = verify_chain([chain[0], *chain[3:]], ChainHead(5, chain[-1].hash))[1]
    assert str(problems[0]) == "trace 4: traces 2 to 3 are missing (deleted?)"
    assert "previous_hash does not match" in str(problems[1])
