"""TraceStore on SQLite and PostgreSQL: a gap-free hash chain, written in the caller's transaction,
that ``verify`` finds broken after an edit, a deletion or a move, whoever appends concurrently."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from gateway.audit import GENESIS_HASH, AccessTrace, Outcome, chain_hash
from gateway.store.trace_store import TraceStore

from ..audit.factories import DOCTOR, EMERGENCY_DOCTOR, OTHER_KEY, PATIENT_KEY, at, trace


def _append(db, *traces: AccessTrace) -> list[AccessTrace]:
    with db.session() as session:
        store = TraceStore(session)
        return [store.append(t) for t in traces]


def _problems(db) -> list[tuple[int, str]]:
    with db.session(read_only=True) as session:
        return [(p.sequence, p.message) for p in TraceStore(session).verify()]


def _sql(db, *statements: str) -> None:
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


@pytest.fixture
def three(db):
    """Three traces, appended in three transactions."""
    for day in (1, 2, 3):
        _append(db, trace(at=at(day)))
    return db


def test_appends_are_numbered_from_one_and_chained(db):
    first, second = _append(db, trace(at=at(1)), trace("ITI-43", at=at(2)))

    assert (first.sequence, second.sequence) == (1, 2)
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.hash == chain_hash(GENESIS_HASH, first)
    assert second.hash == chain_hash(first.hash, second)
    assert _problems(db) == []


def test_a_trace_comes_back_equal(db):
    (stored,) = _append(db, trace(at=at(4), object_ids=("1.2.3.4", "1.2.3.5"), outcome=Outcome.REFUSED,
                                  error_code="XDSRegistryError"))
    with db.session(read_only=True) as session:
        store = TraceStore(session)
        assert store.get(1) == stored
        assert store.query(PATIENT_KEY) == [stored]
    assert stored.actor_roles == DOCTOR.roles
    assert stored.recorded_at == at(4)


def test_a_trace_rolled_back_with_its_action_leaves_no_gap(db):
    _append(db, trace(at=at(1)))
    with pytest.raises(RuntimeError):
        with db.session() as session:
            TraceStore(session).append(trace(at=at(2)))
            raise RuntimeError("the action failed after its trace was appended")
    (third,) = _append(db, trace(at=at(3)))

    assert third.sequence == 2
    assert _problems(db) == []


def test_an_edited_trace_is_named(three):
    _sql(three, "UPDATE access_traces SET outcome = 'failure' WHERE sequence = 2")

    assert _problems(three) == [(2, "its content does not match its hash (edited)")]


def test_an_edit_that_recomputes_the_hash_still_breaks_the_next_link(three):
    with three.session(read_only=True) as session:
        second = TraceStore(session).get(2)
    forged = chain_hash(second.previous_hash, AccessTrace(**{**second.__dict__, "outcome": Outcome.FAILURE}))
    _sql(three, f"UPDATE access_traces SET outcome = 'failure', hash = '{forged}' WHERE sequence = 2")

    assert [sequence for sequence, _ in _problems(three)] == [3]


def test_an_edit_that_leaves_the_row_unreadable_is_reported_not_raised(three):
    _sql(three, "UPDATE access_traces SET outcome = 'ok' WHERE sequence = 1")

    assert _problems(three) == [(1, "its content does not match its hash (edited)")]


def test_a_deleted_trace_is_named(three):
    _sql(three, "DELETE FROM access_traces WHERE sequence = 2")

    problems = _problems(three)
    assert [sequence for sequence, _ in problems] == [3, 3]
    assert "trace 2 is missing (deleted?)" in problems[0][1]


def test_deleting_the_newest_trace_shows_against_the_chain_head(three):
    _sql(three, "DELETE FROM access_traces WHERE sequence = 3")

    problems = _problems(three)
    assert [sequence for sequence, _ in problems] == [3]
    assert "the chain head records sequence 3 but the last trace is 2" in problems[0][1]


def test_swapped_traces_are_named(three):
    _sql(
        three,
        "UPDATE access_traces SET sequence = 99 WHERE sequence = 2",
        "UPDATE access_traces SET sequence = 2 WHERE sequence = 3",
        "UPDATE access_traces SET sequence = 3 WHERE sequence = 99",
    )

    assert {sequence for sequence, _ in _problems(three)} == {2, 3}


def test_the_chain_head_is_rebuilt_when_emptied_with_the_tables(three):
    """``tests/support/server.empty`` deletes every row, the head's included: the chain starts over."""
    _sql(three, "DELETE FROM access_trace_chain", "DELETE FROM access_traces")
    (first,) = _append(three, trace())
    assert (first.sequence, first.previous_hash) == (1, GENESIS_HASH)


def test_a_lost_head_is_rebuilt_from_the_last_trace(three):
    _sql(three, "DELETE FROM access_trace_chain")
    (fourth,) = _append(three, trace())
    assert fourth.sequence == 4
    assert _problems(three) == []


def test_query_filters_and_pages_newest_first(db):
    _append(
        db,
        trace("ITI-18:FindDocuments", at=at(1)),
        trace("ITI-43", at=at(2)),
        trace("ITI-18:GetDocuments", actor=EMERGENCY_DOCTOR, at=at(3)),
        trace("ITI-41", at=at(4)),
        trace("ITI-43", patient_id=OTHER_KEY, at=at(5)),
    )
    with db.session(read_only=True) as session:
        store = TraceStore(session)

        def sequences(**filters) -> list[int]:
            return [t.sequence for t in store.query(PATIENT_KEY, **filters)]

        assert sequences() == [4, 3, 2, 1]
        assert sequences(limit=2, offset=1) == [3, 2]
        assert sequences(since=at(2), until=at(4)) == [3, 2]
        # Naive bounds are UTC.
        assert sequences(since=datetime(2025, 3, 3, 12, 0, 0, 123456)) == [4, 3]
        assert sequences(transaction="ITI-18") == [3, 1]
        assert sequences(transaction="ITI-18:GetDocuments") == [3]
        assert sequences(transaction="ITI-1") == []
        assert sequences(actor_id=EMERGENCY_DOCTOR.id) == [3]
        assert sequences(break_the_glass=True) == [3]
        assert store.count(PATIENT_KEY) == 4
        assert store.count(PATIENT_KEY, transaction="ITI-43") == 1
        assert [t.sequence for t in store.query(OTHER_KEY)] == [5]


def test_transaction_filters_are_not_patterns(db):
    _append(db, trace("ITI-18:FindDocuments"))
    with db.session(read_only=True) as session:
        assert TraceStore(session).query(PATIENT_KEY, transaction="ITI-1%") == []


def test_verify_reads_the_chain_in_batches(db, monkeypatch):
    from gateway.store import trace_store

    monkeypatch.setattr(trace_store, "VERIFY_BATCH", 3)
    _append(db, *(trace() for _ in range(7)))
    with db.session(read_only=True) as session:
        report = TraceStore(session).check()
    assert (report.count, report.head.sequence, report.problems) == (7, 7, [])


def test_concurrent_appends_make_one_gap_free_valid_chain(db):
    """4 threads, each appending in its own transactions: on PostgreSQL the head's row lock
    makes them take turns; on SQLite the writer lock does."""
    threads, per_thread = 4, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                with db.session() as session:
                    TraceStore(session).append(trace(at=datetime.now(timezone.utc)))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert errors == []
    with db.session(read_only=True) as session:
        store = TraceStore(session)
        report = store.check()
        sequences = sorted(t.sequence for t in store.query(PATIENT_KEY, limit=1000))
    assert sequences == list(range(1, threads * per_thread + 1))
    assert report.problems == [] and report.count == threads * per_thread
