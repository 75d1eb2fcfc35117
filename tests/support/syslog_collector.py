"""A real syslog collector for the tests: octet-counted RFC 5424 over TCP or TLS, and a throw-away PKI.

:class:`SyslogCollector` listens on a local port, reads each connection's
``LEN SP MSG`` frames (RFC 6587 §3.4.1, RFC 5425 §4.3) strictly, and keeps
the messages; anything that is not a frame is recorded in ``errors``.
:func:`parse_rfc5424` splits a message into its header fields.
:func:`make_pki` writes CA, server and client certificates for TLS tests.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: Longest frame accepted (a DICOM audit message of a trace is a few kB).
MAX_FRAME = 1024 * 1024


class SyslogCollector:
    """A threaded TCP (or TLS, with ``context``) syslog receiver on 127.0.0.1; a context manager."""

    def __init__(self, port: int = 0, context: ssl.SSLContext | None = None) -> None:
        self._context = context
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._changed = threading.Condition()
        self._connections: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._stopped = False
        #: Messages received (the MSG of each frame), in order.
        self.messages: list[bytes] = []
        #: Framing and TLS handshake problems, as text.
        self.errors: list[str] = []
        self.handshake_failures = 0
        self.connections = 0
        self._acceptor = threading.Thread(target=self._accept, name="syslog-collector", daemon=True)
        self._acceptor.start()

    def __enter__(self) -> SyslogCollector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"{'tls' if self._context else 'tcp'}://127.0.0.1:{self.port}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[bytes]:
        """The messages once at least ``count`` arrived; AssertionError after ``timeout`` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} syslog message(s) arrived, expected {count}; "
                                     f"errors: {self.errors}")
            return list(self.messages)

    def wait_until(self, condition, timeout: float = 10.0) -> None:
        """Wait until ``condition(collector)`` holds (checked whenever something happens)."""
        with self._changed:
            if not self._changed.wait_for(lambda: condition(self), timeout):
                raise AssertionError(f"the collector never reached the expected state (errors: {self.errors})")

    def stop(self) -> None:
        """Stop listening and close every connection (the client sees the collector go away)."""
        with self._changed:
            self._stopped = True
            connections = list(self._connections)
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._acceptor.join(5)
        for thread in list(self._threads):
            thread.join(5)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._changed:
                if self._stopped:
                    conn.close()
                    return
                self.connections += 1
                self._connections.append(conn)
                thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
                self._threads.append(thread)
                self._changed.notify_all()
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        stream: socket.socket = conn
        try:
            if self._context is not None:
                conn.settimeout(10)
                try:
                    stream = self._context.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError) as exc:
                    with self._changed:
                        self.handshake_failures += 1
                        self.errors.append(f"TLS handshake: {exc}")
                        self._changed.notify_all()
                    return
                stream.settimeout(None)
                with self._changed:  # wrap_socket took over the descriptor: stop() must shut this one down
                    self._connections.append(stream)
                    if self._stopped:
                        return
            self._read_frames(stream)
        finally:
            stream.close()
            conn.close()

    def _read_frames(self, stream: socket.socket) -> None:
        buffer = b""
        while True:
            try:
                chunk = stream.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                if buffer:
                    self._error(f"connection closed inside a frame ({len(buffer)} bytes left)")
                return
            buffer += chunk
            while buffer:
                length_text, space, rest = buffer.partition(b" ")
                if not space:
                    if not re.fullmatch(rb"[1-9][0-9]{0,6}", length_text):
                        return self._error(f"bad frame length {length_text[:20]!r}")
                    break  # the length is still arriving
                if not re.fullmatch(rb"[1-9][0-9]{0,6}", length_text) or int(length_text) > MAX_FRAME:
                    return self._error(f"bad frame length {length_text[:20]!r}")
                length = int(length_text)
                if len(rest) < length:
                    break
                with self._changed:
                    self.messages.append(rest[:length])
                    self._changed.notify_all()
                buffer = rest[length:]

    def _error(self, message: str) -> None:
        with self._changed:
            self.errors.append(message)
            self._changed.notify_all()


def free_port() -> int:
    """A local TCP port nobody listens on (for a collector started later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# RFC 5424 §6: HEADER SP STRUCTURED-DATA [SP MSG]; here the gateway's messages have no structured data.
_RFC5424 = re.compile(
    rb"<(?P<pri>[0-9]{1,3})>(?P<version>[1-9][0-9]{0,2}) "
    rb"(?P<timestamp>-|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})) "
    rb"(?P<hostname>[!-~]{1,255}) (?P<app_name>[!-~]{1,48}) (?P<procid>[!-~]{1,128}) (?P<msgid>[!-~]{1,32}) "
    rb"(?P<structured_data>-|\[.*?\])(?: (?P<msg>.*))?",
    re.DOTALL,
)


@dataclass(frozen=True)
class SyslogMessage:
    pri: int
    version: int
    timestamp: str
    hostname: str
    app_name: str
    procid: str
    msgid: str
    structured_data: str
    msg: bytes

    @property
    def facility(self) -> int:
        return self.pri // 8

    @property
    def severity(self) -> int:
        return self.pri % 8


def parse_rfc5424(message: bytes) -> SyslogMessage:
    """The fields of an RFC 5424 message; AssertionError when it is not one."""
    match = _RFC5424.fullmatch(message)
    assert match is not None, f"not an RFC 5424 message: {message[:120]!r}"
    fields = {k: v.decode("ascii") for k, v in match.groupdict().items() if k not in {"msg", "pri", "version"}}
    return SyslogMessage(pri=int(match["pri"]), version=int(match["version"]), msg=match["msg"] or b"", **fields)


# --------------------------------------------------------------------------
# A throw-away PKI for the TLS collector
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class SyslogPki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def server_context(self, *, require_client_cert: bool = False) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server_cert, self.server_key)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(self.ca)
        return context


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def make_pki(directory: Path, name: str = "test") -> SyslogPki:
    """A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    start = datetime.now(timezone.utc) - timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} syslog CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(start + timedelta(days=3))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def issue(common_name: str, usage: x509.ObjectIdentifier, san: list[x509.GeneralName]) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=3))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), key

    pki = SyslogPki(
        ca=directory / "ca.pem",
        server_cert=directory / "server.pem", server_key=directory / "server.key",
        client_cert=directory / "client.pem", client_key=directory / "client.key",
    )
    pki.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    server_pem, server_key = issue("localhost", ExtendedKeyUsageOID.SERVER_AUTH, [
        x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ])
    pki.server_cert.write_bytes(server_pem)
    _write_key(pki.server_key, server_key)
    client_pem, client_key = issue("xds-gateway test client", ExtendedKeyUsageOID.CLIENT_AUTH, [])
    pki.client_cert.write_bytes(client_pem)
    _write_key(pki.client_key, client_key)
    return pki


def poll(condition, timeout: float = 10.0, interval: float = 0.01) -> None:
    """Wait until ``condition()`` is true; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(interval)
