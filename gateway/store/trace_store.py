"""Access traces, hash-chained, inside the caller's transaction (issue 6, "Access traces").

:meth:`TraceStore.append` writes a trace in the transaction of the action it
describes, so that the action and its trace commit or roll back together.
It numbers the trace and links it to the previous one (``gateway.audit.chain``)
under the lock of a one-row chain head (``access_trace_chain``):

- on PostgreSQL, ``SELECT … FOR UPDATE`` on the head makes concurrent
  appends wait for each other until the appending transaction ends; under
  READ COMMITTED the waiter then reads the head as the winner left it, so
  sequence numbers follow on without gaps (a rolled-back action takes its
  number back with it). An append in a REPEATABLE READ transaction would
  fail with a serialization error instead: append in the ordinary
  ``Database.session()``, never in a ``read_only`` one;
- on SQLite, the writer lock every writing session takes up front
  (``BEGIN IMMEDIATE``, see ``gateway.store.database``) serialises already.

Holding the head's lock serialises every traced transaction from its append
to its commit: callers append last, just before the commit.

The store never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, bindparam, exists, func, literal, or_, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from gateway.audit.chain import GENESIS_HASH, ChainHead, ChainProblem, canonical_fields, chain_hash, verify_chain
from gateway.audit.model import AccessTrace, Outcome
from gateway.metadata import Code

from .batches import in_chunks
from .schema import AccessTraceChainRow, AccessTraceRow

#: The chain head's only row.
HEAD_ID = 1
#: Traces read per query while verifying: bounded memory whatever the table's size.
VERIFY_BATCH = 1000


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What :meth:`TraceStore.check` found: how many traces, the head, the problems."""

    count: int
    head: ChainHead | None
    problems: list[ChainProblem]


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes: they were written in UTC.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


_LOCKED_HEAD = select(AccessTraceChainRow.last_sequence, AccessTraceChainRow.last_hash).where(
    AccessTraceChainRow.id == HEAD_ID
).with_for_update()
_INSERT_TRACE = AccessTraceRow.__table__.insert()
_MOVE_HEAD = (
    update(AccessTraceChainRow.__table__)
    .where(AccessTraceChainRow.__table__.c.id == HEAD_ID)
    .values(last_sequence=bindparam("new_sequence"), last_hash=bindparam("new_hash"))
)


@dataclass(frozen=True)
class TraceFilter:
    """Which of a patient's traces :meth:`TraceStore.query` and :meth:`TraceStore.count` read.

    ``since`` is inclusive, ``until`` exclusive (naive times are UTC).
    ``transaction`` matches exactly or as the IHE part: ``ITI-18`` matches
    ``ITI-18:FindDocuments``. A trace naming any of ``exclude_object_ids``
    among its object ids is left out, in SQL, so that pages and counts agree.
    """

    since: datetime | None = None
    until: datetime | None = None
    actor_id: str | None = None
    transaction: str | None = None
    break_the_glass: bool | None = None
    exclude_object_ids: Iterable[str] = ()


class TraceStore:
    """The access traces, seen through one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- writing -----------------------------------------------------------

    def append(self, trace: AccessTrace) -> AccessTrace:
        """Number, chain and insert ``trace``; return it with ``sequence``, ``previous_hash`` and ``hash``."""
        head = self._locked_head()
        linked = replace(trace, sequence=head.sequence + 1, previous_hash=head.hash, hash=None)
        linked = replace(linked, hash=chain_hash(head.hash, linked))
        # Core statements built once, on the session's connection: every transaction appends,
        # and building and keying ORM statements anew was a third of an append (docs/performance.md).
        connection = self.session.connection()
        connection.execute(_INSERT_TRACE, _row(linked))
        connection.execute(_MOVE_HEAD, {"new_sequence": linked.sequence, "new_hash": linked.hash})
        return linked

    def _locked_head(self) -> ChainHead:
        locked = _LOCKED_HEAD
        row = self.session.connection().execute(locked).first()
        if row is None:
            # First append ever, or the head row was emptied with the tables
            # (tests): start from the last trace there is. ON CONFLICT: two
            # first appends racing create one head, and the loser then waits
            # on its lock like any other append.
            last = self.session.execute(
                select(AccessTraceRow.sequence, AccessTraceRow.hash).order_by(AccessTraceRow.sequence.desc()).limit(1)
            ).first()
            sequence, last_hash = (last[0], last[1]) if last else (0, GENESIS_HASH)
            dml = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
            self.session.execute(
                dml.insert(AccessTraceChainRow)
                .values(id=HEAD_ID, last_sequence=sequence, last_hash=last_hash)
                .on_conflict_do_nothing(index_elements=["id"])
            )
            row = self.session.connection().execute(locked).one()
        return ChainHead(row[0], row[1])

    # -- reading -----------------------------------------------------------

    def get(self, sequence: int) -> AccessTrace | None:
        row = self.session.get(AccessTraceRow, sequence)
        return _trace(row) if row is not None else None

    def query(self, patient_key: str, *, limit: int = 50, offset: int = 0, **filters: Any) -> list[AccessTrace]:
        """The patient's traces, newest first, matching every filter given (:class:`TraceFilter`'s fields)."""
        statement = self._filtered(select(AccessTraceRow), patient_key, TraceFilter(**filters))
        statement = statement.order_by(AccessTraceRow.recorded_at.desc(), AccessTraceRow.sequence.desc())
        return [_trace(row) for row in self.session.scalars(statement.limit(limit).offset(offset))]

    def count(self, patient_key: str, **filters: Any) -> int:
        """How many traces :meth:`query` would page through with the same filters."""
        counted = select(func.count()).select_from(AccessTraceRow)
        statement = self._filtered(counted, patient_key, TraceFilter(**filters))
        return self.session.execute(statement).scalar_one()

    def _filtered(self, statement: Select, patient_key: str, filters: TraceFilter) -> Select:
        statement = statement.where(AccessTraceRow.patient_key == patient_key)
        if filters.since is not None:
            statement = statement.where(AccessTraceRow.recorded_at >= _utc(filters.since))
        if filters.until is not None:
            statement = statement.where(AccessTraceRow.recorded_at < _utc(filters.until))
        if filters.actor_id is not None:
            statement = statement.where(AccessTraceRow.actor_id == filters.actor_id)
        if filters.transaction is not None:
            statement = statement.where(
                (AccessTraceRow.transaction == filters.transaction)
                | AccessTraceRow.transaction.startswith(f"{filters.transaction}:", autoescape=True)
            )
        if filters.break_the_glass is not None:
            statement = statement.where(AccessTraceRow.break_the_glass == filters.break_the_glass)
        excluded = list(dict.fromkeys(filters.exclude_object_ids))
        if excluded:
            statement = statement.where(~self._names_any(excluded))
        return statement

    def _names_any(self, object_ids: list[str]) -> ColumnElement[bool]:
        """Whether a trace's ``object_ids`` (a JSON array of strings) holds any of ``object_ids``."""
        if self.session.get_bind().dialect.name == "postgresql":
            # jsonb ?| text[]: one array parameter, whatever its length.
            wanted = bindparam("excluded_object_ids", object_ids, type_=postgresql.ARRAY(Text))
            return type_coerce(AccessTraceRow.object_ids, JSONB).has_any(wanted)
        # SQLite (JSON text): look through the array's elements, a bounded IN list at a time.
        tests = []
        for chunk in in_chunks(object_ids):
            element = func.json_each(AccessTraceRow.object_ids).table_valued("value")
            tests.append(exists(select(literal(1)).select_from(element).where(element.c.value.in_(chunk))))
        return tests[0] if len(tests) == 1 else or_(*tests)

    def head(self) -> ChainHead | None:
        """The chain head as last recorded, None before the first append."""
        row = self.session.execute(
            select(AccessTraceChainRow.last_sequence, AccessTraceChainRow.last_hash).where(
                AccessTraceChainRow.id == HEAD_ID
            )
        ).first()
        return ChainHead(row[0], row[1]) if row else None

    # -- verifying ---------------------------------------------------------

    def verify(self) -> list[ChainProblem]:
        """Recompute the whole chain; the problems found, each named by a sequence number (none: intact)."""
        return self.check().problems

    def check(self) -> ChainReport:
        """:meth:`verify`, with the number of traces read and the head.

        Run it in a ``read_only`` session: the traces and the head are then
        read from one snapshot, whatever is appended meanwhile.
        """
        head = self.head()
        count, problems = verify_chain(self._all(), head)
        return ChainReport(count, head, problems)

    def _all(self) -> Iterator[AccessTrace]:
        # Keyset pages: memory stays bounded and no server-side cursor is needed.
        after = None
        while True:
            statement = select(AccessTraceRow).order_by(AccessTraceRow.sequence).limit(VERIFY_BATCH)
            if after is not None:
                statement = statement.where(AccessTraceRow.sequence > after)
            rows = self.session.scalars(statement).all()
            for row in rows:
                yield _checked_trace(row)
            if len(rows) < VERIFY_BATCH:
                return
            after = rows[-1].sequence
            # What was read is not needed again: keep the identity map small.
            self.session.expunge_all()


def _row(trace: AccessTrace) -> dict[str, Any]:
    # The columns are the hashed fields (one list, so that nothing stored escapes the hash),
    # with the time as a datetime rather than its canonical text, and the chain links.
    return {
        **canonical_fields(trace),
        "recorded_at": trace.recorded_at,
        "previous_hash": trace.previous_hash,
        "hash": trace.hash,
    }


def _checked_trace(row: AccessTraceRow) -> AccessTrace:
    """The row as a trace, or, when an edit left it unreadable (an unknown outcome, roles that are
    not a list of codes), a stand-in that keeps its links but cannot match its hash: reported as edited."""
    try:
        return _trace(row)
    except (KeyError, TypeError, ValueError, AttributeError):
        return AccessTrace(transaction="(unreadable)", actor_id="", sequence=row.sequence,
                           previous_hash=row.previous_hash, hash=row.hash)


def _trace(row: AccessTraceRow) -> AccessTrace:
    return AccessTrace(
        sequence=row.sequence,
        recorded_at=_utc(row.recorded_at),
        transaction=row.transaction,
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        actor_kind=row.actor_kind,
        actor_roles=tuple(Code(r["code"], r["system"], r.get("display")) for r in row.actor_roles),
        structure_id=row.structure_id,
        software_name=row.software_name,
        software_version=row.software_version,
        software_approval=row.software_approval,
        access_mode=row.access_mode,
        break_the_glass=row.break_the_glass,
        patient_key=row.patient_key,
        object_ids=tuple(row.object_ids),
        outcome=Outcome(row.outcome),
        error_code=row.error_code,
        previous_hash=row.previous_hash,
        hash=row.hash,
    )
