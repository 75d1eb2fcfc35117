"""Benchmark: ITI-42 Register Document Set-b over real HTTP, on SQLite and PostgreSQL.

The real application (``gateway.app.create_app``) is served in-process by
waitress, the WSGI server ``xds-gateway serve`` runs, on 127.0.0.1 and a free
port. Client threads, each with its own keep-alive ``requests.Session``, send
pre-built SubmitObjectsRequest envelopes (one SubmissionSet, N
DocumentEntries and the N SubmissionSet→DocumentEntry HasMember
associations per submission, every uniqueId unique) and check that every
answer is ``ResponseStatusType:Success``. The server runs under
``--profile`` (``Settings.profile``): ``ci-sis`` (default, as the gateway)
with CI-SIS-conformant metadata, or ``ihe`` with generic IHE metadata
(``bench/common.py``, ``build_submission``).

Only the HTTP round trips are timed: every request body is serialised before
the clock starts. Clients and server share one Python process (and its GIL),
so the figures are a lower bound of what a separate server would do on the
same machine.

Usage::

    .venv/bin/python bench/register_document_set.py [--database sqlite|postgresql|both]
        [--profile ci-sis|ihe] [--clients 4] [--submissions 400] [--documents-per-submission 2] [--quick]

Nothing here asserts on time; it measures and reports.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import requests
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from common import (
    add_profile_argument,
    build_submission,
    machine_info,
    no_auth_settings,
    percentile,
    registry_response_check,
)
from gateway.config import Profile, Settings
from gateway.serving import BackgroundServer
from gateway.soap.client import request_envelope
from gateway.ebxml import submit_objects_request
from gateway.store.database import Database
from gateway.store.registry_store import RegistryStore

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUTPUT = BENCH_DIR / "results" / "register_document_set.json"
POSTGRES_ENV = "XDSGW_TEST_DATABASE_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_iti42"

ITI42 = "urn:ihe:iti:2007:RegisterDocumentSet-b"
CONTENT_TYPE = f'application/soap+xml; charset=UTF-8; action="{ITI42}"'

#: OID roots of the generated identifiers: <root>.<run>.<kind>.<submission>[.<document>].
OID_ROOT = "1.2.250.1.999.77"
PATIENTS = 50
REQUEST_TIMEOUT_S = 60
WARMUP = 10
QUICK_SUBMISSIONS = 20


# -- request bodies -------------------------------------------------------------------


def build_bodies(profile: str, run: int, first: int, count: int, documents: int) -> list[bytes]:
    """SOAP envelopes of submissions ``first`` … ``first + count - 1`` (``common.build_submission``)."""
    return [request_envelope(ITI42, submit_objects_request(build_submission(
        profile, run, n, documents, oid_root=OID_ROOT, patients=PATIENTS)), to="http://localhost/xds/registry")[0]
            for n in range(first, first + count)]


# -- response checking ----------------------------------------------------------------


def check_response(response: requests.Response) -> tuple[str | None, list[str]]:
    """(None, warnings) when the answer is a Success RegistryResponse, else (a short description, [])."""
    return registry_response_check(response.status_code, response.content)


# -- databases -------------------------------------------------------------------------


class Unavailable(Exception):
    """The database cannot be used for this run; the message says why."""


@dataclass
class Target:
    name: str
    db: Database
    server_version: str


def sqlite_target(tmp: Path) -> Target:
    db = Database(f"sqlite:///{tmp / 'registry.sqlite3'}")
    db.upgrade()
    return Target("sqlite", db, sqlite3.sqlite_version)


def postgres_target(url: str) -> Target:
    shown = make_url(url).render_as_string(hide_password=True)
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as connection:
            server_version = connection.exec_driver_sql("SHOW server_version").scalar_one()
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE')
            connection.exec_driver_sql(f'CREATE SCHEMA "{PG_SCHEMA}"')
    except Exception as exc:  # whatever stops us connecting means: not usable
        raise Unavailable(f"PostgreSQL not reachable at {shown}: {str(exc).strip().splitlines()[0]}") from None
    finally:
        engine.dispose()
    db = Database(url, schema=PG_SCHEMA)
    db.upgrade()
    return Target("postgresql", db, server_version)


# -- the run ---------------------------------------------------------------------------



def send_all(url: str, bodies: list[bytes], clients: int, deadline: float) -> dict:
    """Send every body once, from ``clients`` threads; stop taking new work at ``deadline``."""
    work: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    for body in bodies:
        work.put(body)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: list[list[str]] = [[] for _ in range(clients)]
    warned: list[list[str]] = [[] for _ in range(clients)]
    client_cpu = [0.0] * clients
    timed_out = threading.Event()
    start = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        with requests.Session() as session:
            start.wait()
            cpu0 = time.thread_time()
            try:
                send(i, session)
            finally:
                client_cpu[i] = time.thread_time() - cpu0

    def send(i: int, session: requests.Session) -> None:
        while True:
            if time.perf_counter() >= deadline:
                if not work.empty():
                    timed_out.set()
                return
            try:
                body = work.get_nowait()
            except queue.Empty:
                return
            t0 = time.perf_counter()
            try:
                response = session.post(url, data=body, headers={"Content-Type": CONTENT_TYPE},
                                        timeout=REQUEST_TIMEOUT_S)
                response.content  # read the whole answer inside the timing
                elapsed = time.perf_counter() - t0
                problem, warnings = check_response(response)
            except requests.RequestException as exc:
                elapsed = time.perf_counter() - t0
                problem, warnings = f"{type(exc).__name__}: {exc}", []
            latencies[i].append(elapsed)
            if problem is not None:
                failures[i].append(problem)
            if warnings:
                warned[i].append("; ".join(warnings))

    threads = [threading.Thread(target=client, args=(i,), name=f"client-{i}") for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "wall": wall,
        "process_cpu": time.process_time() - cpu0,
        "client_cpu": sum(client_cpu),
        "latencies": sorted(x for per in latencies for x in per),
        "failures": [x for per in failures for x in per],
        "warnings": [x for per in warned for x in per],
        "timed_out": timed_out.is_set(),
    }


def run_database(target: Target, data_dir: Path, bodies: list[bytes], warmup: list[bytes], args,
                 deadline: float) -> dict:
    settings = Settings(data_dir=data_dir, database_url=target.db.url.render_as_string(hide_password=False),
                        threads=args.server_threads, profile=Profile(args.profile), **no_auth_settings())
    server = BackgroundServer(settings, target.db)
    url = f"{server.base_url}/xds/registry"
    try:
        if warmup:
            warm = send_all(url, warmup, min(args.clients, len(warmup)), deadline)
            if warm["failures"]:
                print(f"  warm-up failure: {warm['failures'][0][:2000]}")
        outcome = send_all(url, bodies, args.clients, deadline)
    finally:
        server.stop()
    with target.db.session(read_only=True) as session:
        store = RegistryStore(session)
        stored = {kind: store.count(kind) for kind in ("submission_sets", "document_entries", "associations",
                                                       "patients")}
    target.db.dispose()

    lat = outcome["latencies"]
    sent = len(lat)
    failed = len(outcome["failures"])
    ok = sent - failed
    wall = outcome["wall"]
    ms = {f"p{p}": round(percentile(lat, p) * 1000, 2) if lat else None for p in (50, 95, 99)}
    return {
        "database": target.name,
        "server_version": target.server_version,
        "profile": args.profile,
        "clients": args.clients,
        "submissions_sent": sent,
        "submissions_ok": ok,
        "failures": failed,
        "first_failure": outcome["failures"][0] if failed else None,
        "answers_with_warnings": len(outcome["warnings"]),
        "first_warning": outcome["warnings"][0] if outcome["warnings"] else None,
        "timed_out": outcome["timed_out"],
        "wall_seconds": round(wall, 3),
        "submissions_per_second": round(ok / wall, 2) if wall else None,
        "documents_per_second": round(ok * args.documents_per_submission / wall, 2) if wall else None,
        "client_cpu_ms_per_request": round(outcome["client_cpu"] / sent * 1000, 2) if sent else None,
        # server and clients together (one process): the most stable figure from run to run
        "process_cpu_ms_per_request": round(outcome["process_cpu"] / sent * 1000, 2) if sent else None,
        "latency_ms": {**ms, "mean": round(sum(lat) / sent * 1000, 2) if sent else None,
                       "max": round(max(lat) * 1000, 2) if lat else None},
        "stored_after_run": stored,
    }


def report(r: dict) -> None:
    lat = r["latency_ms"]
    print(f"  {r['submissions_ok']}/{r['submissions_sent']} submissions in {r['wall_seconds']:.2f} s"
          f"{'  (TIMED OUT)' if r['timed_out'] else ''}")
    if r["submissions_sent"]:
        print(f"  {r['submissions_per_second']:.1f} submissions/s, {r['documents_per_second']:.1f} documents/s")
        print(f"  latency ms: p50 {lat['p50']:.1f}  p95 {lat['p95']:.1f}  p99 {lat['p99']:.1f}  max {lat['max']:.1f}")
        print(f"  CPU per request: {r['process_cpu_ms_per_request']:.2f} ms for the process (server and clients), "
              f"{r['client_cpu_ms_per_request']:.2f} ms of it in the client threads")
    print(f"  failures: {r['failures']}; answers with warnings: {r['answers_with_warnings']}")
    if r["first_failure"]:
        print(f"  first failure: {r['first_failure'][:2000]}")
    if r["first_warning"]:
        print(f"  first warning: {r['first_warning'][:2000]}")




def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES_URL),
                        help=f"SQLAlchemy URL (default: ${POSTGRES_ENV} or {DEFAULT_POSTGRES_URL}); "
                             f"the benchmark drops and recreates the schema {PG_SCHEMA} there")
    add_profile_argument(parser)
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads (default 4)")
    parser.add_argument("--submissions", type=int, default=400, help="timed submissions per database (default 400)")
    parser.add_argument("--documents-per-submission", type=int, default=2, help="DocumentEntries per submission")
    parser.add_argument("--server-threads", type=int, default=Settings().threads,
                        help=f"waitress worker threads (default {Settings().threads}, as `xds-gateway serve`)")
    parser.add_argument("--warmup", type=int, default=WARMUP,
                        help=f"untimed submissions sent first to each database (default {WARMUP})")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="global time limit in seconds; the run stops taking new work after it (default 600)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_SUBMISSIONS} submissions, 2 warm-up")
    args = parser.parse_args(argv)
    if args.quick:
        args.submissions = QUICK_SUBMISSIONS
        args.warmup = min(args.warmup, 2)
    for name in ("clients", "submissions", "documents_per_submission", "server_threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # waitress warns at every queued request when clients outnumber its threads.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    began = time.perf_counter()
    deadline = began + args.timeout
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    run = int(time.time())  # keeps uniqueIds distinct between runs, should a schema be reused

    print(f"ITI-42 Register Document Set-b, profile {args.profile}: {args.submissions} submissions x "
          f"{args.documents_per_submission} documents, {args.clients} client(s), {args.server_threads} server "
          f"threads, {os.cpu_count()} CPUs")
    t0 = time.perf_counter()
    warmup = build_bodies(args.profile, run, 0, args.warmup, args.documents_per_submission)
    bodies = build_bodies(args.profile, run, args.warmup, args.submissions, args.documents_per_submission)
    size = sum(map(len, bodies)) / len(bodies)
    print(f"built {len(warmup) + len(bodies)} request bodies (mean {size / 1024:.1f} KiB) "
          f"in {time.perf_counter() - t0:.1f} s (not timed)")

    results = []
    skipped = {}
    timed_out = False
    for name in databases:
        if time.perf_counter() >= deadline:
            skipped[name] = "global timeout reached before it started"
            timed_out = True
            print(f"\n[{name}] skipped: {skipped[name]}")
            continue
        with tempfile.TemporaryDirectory(prefix="xdsgw-bench-") as tmp:
            try:
                target = sqlite_target(Path(tmp)) if name == "sqlite" else postgres_target(args.postgres_url)
            except Unavailable as exc:
                skipped[name] = str(exc)
                print(f"\n[{name}] skipped: {exc}")
                continue
            print(f"\n[{name} {target.server_version}]")
            result = run_database(target, Path(tmp), bodies, warmup, args, deadline)
        report(result)
        results.append(result)

    document = {
        "benchmark": "ITI-42 Register Document Set-b over HTTP",
        "timestamp_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "parameters": {
            "databases": databases,
            "profile": args.profile,
            "clients": args.clients,
            "submissions": args.submissions,
            "documents_per_submission": args.documents_per_submission,
            "associations_per_submission": args.documents_per_submission,
            "warmup_submissions": args.warmup,
            "server_threads": args.server_threads,
            "timeout_seconds": args.timeout,
            "mean_request_bytes": round(size),
            "quick": args.quick,
            "postgres_schema": PG_SCHEMA if "postgresql" in databases else None,
        },
        "results": results,
        "skipped": skipped,
        "total_seconds": round(time.perf_counter() - began, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.output}")
    if any(r["failures"] for r in results):
        return 1
    return 2 if timed_out or any(r["timed_out"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
