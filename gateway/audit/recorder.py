"""How the services write their access traces (issue 6, "Access traces").

Two ways, one rule: a trace commits exactly when what it describes does.

- :meth:`TraceRecorder.append` puts the trace in the action's own
  transaction, as its last statement (appending locks the chain head until
  the commit, :mod:`gateway.store.trace_store`): a deposit and its trace
  commit or roll back together.
- :meth:`TraceRecorder.record` writes a trace in a transaction of its own:
  for a refusal or a failure (the action's transaction rolled back, nothing
  else is left to commit with), and for reads, which run in read-only
  snapshots where appending is not possible. A read is traced right after it,
  before its answer leaves: a read whose trace cannot be written is not
  answered (:class:`TraceFailed`).

Once committed, a trace is handed to the :class:`~gateway.audit.sink.TraceSink`
(ATNA syslog when configured); a trace that rolled back is never sent.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..store.database import Database
from ..store.trace_store import TraceStore
from .model import AccessTrace
from .sink import NoSink, TraceSink

log = logging.getLogger(__name__)

__all__ = ["TraceFailed", "TraceRecorder"]


class TraceFailed(Exception):
    """A trace could not be written: the access it describes must not be served."""


class TraceRecorder:
    """Appends traces to the chain and forwards them, once committed, to the sink."""

    def __init__(self, db: Database, sink: TraceSink | None = None) -> None:
        self.db = db
        self.sink: TraceSink = sink if sink is not None else NoSink()

    def append(self, session: Session, trace: AccessTrace) -> AccessTrace:
        """Chain ``trace`` into ``session``'s transaction; it is forwarded if and when that commits."""
        linked = TraceStore(session).append(trace)
        event.listen(session, "after_commit", lambda _session: self._forward(linked), once=True)
        return linked

    def record(self, trace: AccessTrace) -> AccessTrace:
        """Write ``trace`` in a transaction of its own; :class:`TraceFailed` when it cannot be."""
        try:
            with self.db.session() as session:
                linked = TraceStore(session).append(trace)
        except Exception as exc:
            log.exception("an access trace (%s, %s) could not be written", trace.transaction, trace.outcome.value)
            raise TraceFailed(f"the access trace of {trace.transaction} could not be written") from exc
        self._forward(linked)
        return linked

    def record_failure(self, trace: AccessTrace) -> None:
        """:meth:`record` for a refusal or a failure: it is answered as such whether or not its trace
        could be written (:meth:`record` logs why it could not)."""
        try:
            self.record(trace)
        except TraceFailed:
            pass

    def _forward(self, trace: AccessTrace) -> None:
        try:
            self.sink.send(trace)
        except Exception:  # a sink must not raise; if one does, the committed action stands
            log.exception("forwarding access trace %s failed", trace.sequence)
