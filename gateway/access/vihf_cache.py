"""Verified VIHFs, kept for a client's session (issue 6; docs/performance.md, "VIHF verification").

A DMP client signs one VIHF per session and sends it with every request;
verifying it again each time costs about 0.9 ms (signxml's XML work, the
certificate chain). :class:`VihfCache` remembers the :class:`Actor` a
verified VIHF gave, keyed by the SHA-256 of its whole ``wsse:Security``
block as received: any change to it, however small, is another key, and is
verified from scratch.

An entry lasts until the assertion's ``NotOnOrAfter`` (without the clock
skew the verifier tolerates: the cache never accepts one longer than the
verifier would) and at most :data:`MAX_AGE`, so that a certificate expiring
meanwhile is noticed within that delay. Refusals are never kept. The trust
store is read once at start, so entries cannot outlive a change of it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from lxml import etree

from .model import Actor

#: Longest an entry is used without verifying its VIHF again.
MAX_AGE = timedelta(minutes=5)
#: Most entries kept (least recently used first out): about 1 kB each.
MAX_ENTRIES = 10_000


def security_digest(security_header: etree._Element) -> bytes:
    """The cache key of a ``wsse:Security`` block: the SHA-256 of its serialisation, in-scope namespaces included."""
    return hashlib.sha256(etree.tostring(security_header)).digest()


class VihfCache:
    """Actors of verified VIHFs by :func:`security_digest`, until their entry expires; thread-safe."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES, max_age: timedelta = MAX_AGE) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self._entries: OrderedDict[bytes, tuple[Actor, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes, now: datetime) -> Actor | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            actor, until = found
            if now >= until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return actor

    def put(self, key: bytes, actor: Actor, *, now: datetime, not_on_or_after: datetime | None) -> None:
        until = now + self.max_age
        if not_on_or_after is not None:
            until = min(until, not_on_or_after)
        if until <= now:
            return
        with self._lock:
            self._entries[key] = (actor, until)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
