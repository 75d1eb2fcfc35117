"""Committed access traces streamed to an ATNA audit record repository over syslog (issue 6).

Each trace becomes one RFC 5424 message, as IHE ATNA asks (ITI TF-2
§3.20.4.2, "Record Audit Event")::

    <PRI>1 TIMESTAMP HOSTNAME xds-gateway PROCID IHE+RFC-3881 - BOM<?xml …?><AuditMessage>…

PRI is facility 10 (authpriv) with severity 5 (notice) for a success, 4
(warning) for a refusal or a failure; TIMESTAMP is the trace's time; MSG is
the UTF-8 byte order mark then the DICOM audit message of :mod:`.atna`.
Messages are framed by octet counting, ``LEN SP MSG`` (RFC 6587 §3.4.1, the
framing RFC 5425 §4.3 mandates over TLS), over TCP or TLS (RFC 5425: the
collector's certificate is verified against ``ca_file`` or the system's CAs
and its name, TLS 1.2 or later, and a client certificate is presented when
``cert_file``/``key_file`` are given).

Delivery is best effort; the hash-chained database copy is the record
(:mod:`.sink`). :meth:`SyslogSink.send` only puts the trace on a bounded
queue and returns at once: when the queue is full the trace is dropped,
counted, and the drops logged at most once a minute. One daemon thread
formats and writes the messages, in order. When the collector cannot be
reached, the messages wait in the queue while the thread retries with a
backoff (0.5 s doubling to 30 s). A message whose write failed is written
again on the next connection, so a collector may receive it twice; and as
syslog over TCP has no acknowledgement, a message written just before the
collector goes away may be lost (the thread checks that the collector has
not closed the connection before each write, which covers a collector that
restarted in between).
"""

from __future__ import annotations

import logging
import os
import queue
import re
import select
import socket
import ssl
import threading
import time
from typing import TYPE_CHECKING, Any

from .atna import audit_message
from .model import AccessTrace, Outcome
from .sink import NoSink, TraceSink

if TYPE_CHECKING:
    from gateway.config import Settings

__all__ = ["SyslogSink", "open_trace_sink", "syslog_frame"]

log = logging.getLogger(__name__)

APP_NAME = "xds-gateway"
#: ITI TF-2 §3.20.4.2: the MSGID of an audit message in the DICOM / RFC 3881 format.
MSG_ID = "IHE+RFC-3881"
FACILITY_AUTHPRIV = 10
SEVERITY_WARNING = 4
SEVERITY_NOTICE = 5
BOM = b"\xef\xbb\xbf"
#: Drops and connection failures are logged at most this often.
LOG_EVERY_SECONDS = 60.0

_URL = re.compile(r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})")
_STOP = object()


def _header_field(value: str, limit: int) -> str:
    """An RFC 5424 header field: printable US-ASCII without spaces, at most ``limit`` characters, ``-`` if empty."""
    cleaned = "".join(c if "!" <= c <= "~" else "_" for c in value)[:limit]
    return cleaned or "-"


def syslog_frame(trace: AccessTrace, *, source_id: str, destination: str = "", hostname: str = "",
                 procid: str = "") -> bytes:
    """The octet-counted RFC 5424 message of ``trace``: ``LEN SP <PRI>1 … MSG``."""
    severity = SEVERITY_NOTICE if trace.outcome is Outcome.SUCCESS else SEVERITY_WARNING
    header = " ".join((
        f"<{FACILITY_AUTHPRIV * 8 + severity}>1",
        trace.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        _header_field(hostname, 255),
        APP_NAME,
        _header_field(procid, 128),
        MSG_ID,
        "-",  # no STRUCTURED-DATA
    ))
    message = header.encode("ascii") + b" " + BOM + audit_message(trace, source_id=source_id, destination=destination)
    return b"%d %s" % (len(message), message)


class SyslogSink:
    """A :class:`~gateway.audit.sink.TraceSink` that streams traces to a syslog collector; see the module doc.

    ``url`` is ``tcp://host:port`` or ``tls://host:port``. The TLS context
    (and so a missing or bad certificate file) is checked here, at start.
    """

    def __init__(
        self,
        url: str,
        *,
        source_id: str,
        destination: str = "",
        ca_file: str = "",
        cert_file: str = "",
        key_file: str = "",
        queue_size: int = 10_000,
        hostname: str | None = None,
        connect_timeout: float = 5.0,
        write_timeout: float = 10.0,
        retry_delays: tuple[float, float] = (0.5, 30.0),
    ) -> None:
        match = _URL.fullmatch(url)
        if match is None:
            raise ValueError(f"{url!r} is not tcp://host:port or tls://host:port")
        scheme, host, port = match.groups()
        self.url = url
        self._address = (host.strip("[]"), int(port))
        self._context: ssl.SSLContext | None = None
        if scheme == "tls":
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file or None)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            if cert_file:
                context.load_cert_chain(cert_file, key_file or None)
            self._context = context
        self._source_id = source_id
        self._destination = destination
        self._hostname = socket.gethostname() if hostname is None else hostname
        self._procid = str(os.getpid())
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._first_delay, self._max_delay = retry_delays
        #: Failed attempts (connections or writes) since the last message written: sets the backoff.
        self._streak = 0

        self._queue: queue.Queue[Any] = queue.Queue(queue_size)
        self._sock: socket.socket | None = None
        #: The message being written (the sending thread's), kept until a write of it succeeds.
        self._pending: bytes | None = None
        self._closing = threading.Event()
        self._abort = threading.Event()
        self._lock = threading.Lock()
        self._last_drop_log = float("-inf")
        self._last_failure_log = float("-inf")
        #: Counters, for tests and monitoring: messages written, traces dropped (queue full or closed),
        #: connection attempts and writes that failed.
        self.sent = 0
        self.dropped = 0
        self.connect_failures = 0
        self.write_failures = 0
        self._thread = threading.Thread(target=self._run, name="atna-syslog", daemon=True)
        self._thread.start()

    # -- the caller's side -------------------------------------------------

    def send(self, trace: AccessTrace) -> None:
        """Queue ``trace`` for the collector; never blocks: when the queue is full the trace is dropped."""
        if not self._closing.is_set():
            try:
                self._queue.put_nowait(trace)
                return
            except queue.Full:
                pass
        with self._lock:
            self.dropped += 1
            now = time.monotonic()
            if now - self._last_drop_log < LOG_EVERY_SECONDS:
                return
            self._last_drop_log = now
            dropped = self.dropped
        log.warning("ATNA syslog to %s: queue full or sink closed, %d access trace(s) dropped so far "
                    "(they stay in the database)", self.url, dropped)

    def close(self, timeout: float = 5.0) -> None:
        """Write what can be written within ``timeout`` seconds, then stop the thread and disconnect."""
        deadline = time.monotonic() + timeout
        self._closing.set()
        if not self._thread.is_alive():
            return
        try:
            # Waits for room when the queue is full and draining; the thread stops when it takes this.
            self._queue.put(_STOP, timeout=max(0.0, deadline - time.monotonic()))
        except queue.Full:
            pass
        self._thread.join(max(0.0, deadline - time.monotonic()))
        self._abort.set()  # stops the retries; a write under way ends within write_timeout
        self._thread.join(0.5)
        left = sum(1 for item in list(self._queue.queue) if item is not _STOP) + (self._pending is not None)
        if left:
            log.warning("ATNA syslog to %s: %d access trace(s) not sent at shutdown (they stay in the database)",
                        self.url, left)

    @property
    def queued(self) -> int:
        """Traces waiting in the queue (not counting the one being written)."""
        return self._queue.qsize()

    # -- the sending thread ------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._abort.is_set():
                if self._pending is None:
                    item = self._queue.get()
                    if item is _STOP:
                        break
                    try:
                        self._pending = syslog_frame(item, source_id=self._source_id,
                                                     destination=self._destination,
                                                     hostname=self._hostname, procid=self._procid)
                    except Exception:
                        log.exception("ATNA syslog: access trace %s could not be formatted", item.sequence)
                        continue
                try:
                    self._write()
                except Exception:  # a bug, not the network: drop the message rather than retry it forever
                    log.exception("ATNA syslog: an audit message could not be written, dropped")
                    self._pending = None
                    self._streak += 1
                    self._disconnect()
        finally:
            self._disconnect()

    def _write(self) -> None:
        """Write the pending message, connecting first if need be; on failure it stays pending."""
        if self._sock is None and not self._connect():
            return
        try:
            if self._peer_closed():
                raise ConnectionResetError("the collector closed the connection")
            self._sock.sendall(self._pending)  # type: ignore[union-attr]
        except OSError as exc:
            self.write_failures += 1
            self._streak += 1
            self._disconnect()
            self._log_failure("write to", exc)
            return  # the same message again, once connected
        self._pending = None
        self.sent += 1
        self._streak = 0

    def _connect(self) -> bool:
        """Connect, after the backoff delay when the last attempt failed; False when it failed (or close() ended it)."""
        if self._streak:
            delay = min(self._first_delay * 2 ** min(self._streak - 1, 32), self._max_delay)
            if self._abort.wait(delay):
                return False
        sock: socket.socket | None = None
        try:
            sock = socket.create_connection(self._address, timeout=self._connect_timeout)
            if self._context is not None:
                sock = self._context.wrap_socket(sock, server_hostname=self._address[0])
            sock.settimeout(self._write_timeout)
        except OSError as exc:  # ssl.SSLError and certificate errors included
            if sock is not None:
                sock.close()
            self.connect_failures += 1
            self._streak += 1
            self._log_failure("connect to", exc)
            return False
        if self._streak:
            log.info("ATNA syslog: connected to %s again", self.url)
        self._sock = sock
        return True

    def _disconnect(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None

    def _peer_closed(self) -> bool:
        """Whether the collector closed the connection: a syslog collector sends nothing, so anything
        readable is the end of the stream (or, over TLS 1.3, a session ticket, read and ignored)."""
        sock = self._sock
        assert sock is not None
        if hasattr(select, "poll"):  # no FD_SETSIZE limit, unlike select()
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            readable = bool(poller.poll(0))
        else:
            readable = bool(select.select([sock], [], [], 0)[0])
        if not readable:
            return False
        sock.setblocking(False)
        try:
            return sock.recv(4096) == b""
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        finally:
            sock.settimeout(self._write_timeout)

    def _log_failure(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_failure_log < LOG_EVERY_SECONDS:
            return
        self._last_failure_log = now
        log.warning("ATNA syslog: cannot %s %s (%s); retrying, %d trace(s) waiting",
                    what, self.url, exc, self._queue.qsize() + 1)


def open_trace_sink(settings: Settings, *, source_id: str | None = None, destination: str = "") -> TraceSink:
    """The sink ``settings`` ask for: a :class:`SyslogSink` when ``atna_syslog`` is set, else :class:`NoSink`.

    ``source_id`` names the gateway in the messages (``xds-gateway@<hostname>`` by default);
    ``destination`` is its endpoint URI (see :func:`gateway.audit.atna.audit_message`).
    """
    if not settings.atna_syslog:
        return NoSink()
    return SyslogSink(
        settings.atna_syslog,
        source_id=source_id or f"{APP_NAME}@{socket.gethostname()}",
        destination=destination,
        ca_file=settings.atna_ca_file,
        cert_file=settings.atna_cert_file,
        key_file=settings.atna_key_file,
    )
