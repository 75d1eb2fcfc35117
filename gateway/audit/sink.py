"""Where committed access traces go besides the database: the ATNA audit repository (issue 6).

The database keeps every trace, hash-chained, in the transaction of the action
it describes (:mod:`gateway.store.trace_store`). A :class:`TraceSink` gets a
copy of each trace once that transaction has committed, to forward it (IHE
ATNA: an audit message over syslog, :mod:`gateway.audit.syslog`). Forwarding
is best effort by design: the database copy is the record, a collector that
is down must not stop the gateway, and a trace is never forwarded for an
action that rolled back.
"""

from __future__ import annotations

from typing import Protocol

from .model import AccessTrace


class TraceSink(Protocol):
    def send(self, trace: AccessTrace) -> None:
        """Forward ``trace`` (already committed). Must neither block the caller for long nor raise."""

    def close(self) -> None:
        """Flush what can be flushed within a short delay, then release connections and threads."""


class NoSink:
    """No forwarding (``XDSGW_ATNA_SYSLOG`` empty)."""

    def send(self, trace: AccessTrace) -> None:
        pass

    def close(self) -> None:
        pass
