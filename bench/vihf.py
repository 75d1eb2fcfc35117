"""Benchmark: what verifying a VIHF costs, in process and over HTTP (ITI-18 with XDSGW_AUTH=vihf against none).

In process: a demo PKI (``gateway.access.pki.create_demo_pki``, RSA 2048, in a
temporary folder) signs a VIHF of the demo professional
(``gateway.access.vihf.build_vihf`` / ``sign_vihf`` / ``demo_actor``, as
``xds-gateway vihf sign`` does), once with RSA-SHA256 and once with RSA-SHA1;
each is put in a ``wsse:Security`` block as a request carries it, parsed by
``gateway.safexml.parse_xml`` (not timed), and verified ``--iterations`` times
by ``gateway.access.vihf.verify_vihf`` against the PKI's trust store: latency
p50/p95/p99/mean and verifications per second of one thread. Signing (what a
client does) is timed too, for scale.

Over HTTP: two gateways served in-process by waitress (``BackgroundServer``) on
one database, one with ``XDSGW_AUTH=vihf`` (trust folder = the demo PKI's) and
one with ``none``. One patient's documents are deposited first by ITI-42
through the VIHF gateway, signed by the demo professional (the dossier opens
with that professional authorised, ``patient_policy = auto``); then ITI-18
FindDocuments (patient, Approved, LeafClass) are sent by one keep-alive client
in rounds of ``--round`` queries, alternating between: no VIHF to the ``none``
gateway, a VIHF signed RSA-SHA256 and one signed RSA-SHA1 to the ``vihf``
gateway. Each client reuses its VIHF (one assertion per session, valid for the
run), as DMP software does; envelopes are built before the clock. Every answer
must be HTTP 200, Success, with all the patient's documents. Besides the VIHF
the two gateways do the same work except that the decision and the trace are
a professional's instead of the local stand-in's.

Usage::

    .venv/bin/python bench/vihf.py                               # SQLite, about 30 s
    .venv/bin/python bench/vihf.py --database postgresql --iterations 2000 --queries 600
    .venv/bin/python bench/vihf.py --profile                     # + cProfile of verify_vihf (RSA-SHA256)

Nothing here asserts on time; it measures and reports.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from lxml import etree

from stored_query import read_answer  # the same AdhocQueryResponse check as the ITI-18 benchmark
from common import (
    CI_SIS, Unavailable, build_submission, french_patient, machine_info, percentile, postgres_database, registry_response_check,
    sqlite_database,
)
from gateway.access.pki import create_demo_pki, load_trust_store
from gateway.access.vihf import build_vihf, demo_actor, sign_vihf, verify_vihf
from gateway.config import Auth, Profile, Settings
from gateway.ebxml import adhoc_query_request, submit_objects_request
from gateway.metadata import AvailabilityStatus
from gateway.metadata.query import FindDocuments
from gateway.safexml import parse_xml
from gateway.serving import BackgroundServer
from gateway.soap.client import request_envelope
from gateway.soap.namespaces import WSSE
from gateway.store.database import Database

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUTPUT = BENCH_DIR / "results" / "vihf.json"
POSTGRES_ENV = "XDSGW_TEST_DATABASE_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_vihf"

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ITI42 = "urn:ihe:iti:2007:RegisterDocumentSet-b"
ALGORITHMS = ("rsa-sha256", "rsa-sha1")
OID_ROOT = "1.2.250.1.999.81"
REQUEST_TIMEOUT_S = 60
#: The variants measured over HTTP: (name, gateway, algorithm of the VIHF sent or None).
VARIANTS = (("none", "none", None), ("vihf-rsa-sha256", "vihf", "rsa-sha256"), ("vihf-rsa-sha1", "vihf", "rsa-sha1"))


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def latency_summary(values: list[float]) -> dict:
    values = sorted(values)
    return {"count": len(values), **{f"p{p}": _ms(percentile(values, p)) for p in (50, 95, 99)},
            "mean": _ms(sum(values) / len(values)), "max": _ms(values[-1])}


# -- the VIHF --------------------------------------------------------------------------------------------------------


class Signer:
    """The demo PKI's structure, signing VIHFs of the demo professional for one patient."""

    def __init__(self, directory: Path, patient_id: str) -> None:
        self.pki = create_demo_pki(directory)
        self.trust = load_trust_store(self.pki.trust_dir)
        self.key_pem = self.pki.structure_key.read_bytes()
        self.cert_pem = self.pki.structure_certificate.read_bytes()
        self.actor = demo_actor(structure_id=self.pki.structure_id, patient_id=patient_id)

    def assertion(self, algorithm: str, *, valid_for: timedelta = timedelta(hours=2)) -> bytes:
        """A signed VIHF (bytes), valid from now for ``valid_for``."""
        now = datetime.now(timezone.utc)
        unsigned = build_vihf(self.actor, issuer=self.pki.structure_subject, issue_instant=now, not_before=now,
                              not_on_or_after=now + valid_for)
        return etree.tostring(sign_vihf(unsigned, self.key_pem, self.cert_pem, algorithm=algorithm))


def security_block(assertion: bytes) -> bytes:
    """The ``wsse:Security`` header block holding ``assertion``, as a request carries it."""
    return b'<wsse:Security xmlns:wsse="%s">%s</wsse:Security>' % (WSSE.encode(), assertion)


def measure_in_process(signer: Signer, iterations: int, warmup: int, profile: bool) -> dict:
    results = {}
    for algorithm in ALGORITHMS:
        signing = []
        for _ in range(max(20, iterations // 20)):
            t0 = time.perf_counter()
            assertion = signer.assertion(algorithm)
            signing.append(time.perf_counter() - t0)
        block = security_block(assertion)
        parsing, verifying = [], []
        for i in range(warmup + iterations):
            t0 = time.perf_counter()
            header = parse_xml(block)
            t1 = time.perf_counter()
            actor = verify_vihf(header, signer.trust, now=datetime.now(timezone.utc))
            t2 = time.perf_counter()
            if i >= warmup:
                parsing.append(t1 - t0)
                verifying.append(t2 - t1)
        if actor.id != signer.actor.id:
            raise RuntimeError(f"verify_vihf read {actor.id!r}, signed {signer.actor.id!r}")
        total = sum(verifying)
        results[algorithm] = {
            "assertion_bytes": len(assertion),
            "verify_ms": latency_summary(verifying),
            "verifications_per_second": round(len(verifying) / total, 1),
            "parse_ms": latency_summary(parsing),
            "sign_ms": latency_summary(signing),
        }
        v = results[algorithm]["verify_ms"]
        print(f"  {algorithm}: verify_vihf p50 {v['p50']:.3f} ms, p95 {v['p95']:.3f} ms, p99 {v['p99']:.3f} ms "
              f"-> {results[algorithm]['verifications_per_second']:.0f}/s on one thread; "
              f"parse {results[algorithm]['parse_ms']['p50']:.3f} ms, sign {results[algorithm]['sign_ms']['p50']:.2f}"
              f" ms (p50); assertion {len(assertion)} bytes")
    if profile:
        block = security_block(signer.assertion("rsa-sha256"))
        headers = [parse_xml(block) for _ in range(iterations)]
        profiler = cProfile.Profile()
        profiler.enable()
        for header in headers:
            verify_vihf(header, signer.trust, now=datetime.now(timezone.utc))
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        results["profile_rsa_sha256"] = out.getvalue()
        print(out.getvalue())
    return results


# -- over HTTP -------------------------------------------------------------------------------------------------------




def open_database(name: str, tmp: Path, url: str) -> tuple[Database, str]:
    if name == "sqlite":
        target = sqlite_database(tmp)
        db = Database(target.url)
    else:
        target = postgres_database(url, PG_SCHEMA)  # the schema dropped and recreated
        db = Database(url, schema=PG_SCHEMA)
    db.upgrade()
    return db, target.server_version


def measure_http(database: str, signer: Signer, patient, args) -> dict:
    with tempfile.TemporaryDirectory(prefix="xdsgw-bench-vihf-") as tmp:
        db, server_version = open_database(database, Path(tmp), args.postgres_url)
        url = db.url.render_as_string(hide_password=False)
        common = {"data_dir": Path(tmp), "database_url": url, "threads": args.server_threads,
                  "profile": Profile(CI_SIS)}
        servers = {
            "vihf": BackgroundServer(Settings(auth=Auth.VIHF, trust_dir=str(signer.pki.trust_dir), **common), db),
            "none": BackgroundServer(Settings(auth=Auth.NONE, **common), db),
        }
        try:
            return _measure_http(database, server_version, servers, signer, patient, args)
        finally:
            for server in servers.values():
                server.stop()
            db.dispose()


def _measure_http(database: str, server_version: str, servers: dict, signer: Signer, patient, args) -> dict:
    registry = {name: f"{server.base_url}/xds/registry" for name, server in servers.items()}
    assertions = {algorithm: signer.assertion(algorithm) for algorithm in ALGORITHMS}
    run = int(time.time())
    with requests.Session() as session:
        # The patient's documents, deposited by the professional of the VIHF: the dossier opens with them authorised.
        deposit = security_block(assertions["rsa-sha256"])
        documents = 0
        for n in range(args.submissions):
            submission = build_submission(CI_SIS, run, n, args.documents_per_submission, oid_root=OID_ROOT, patients=1)
            body, _ = request_envelope(ITI42, submit_objects_request(submission), to=registry["vihf"],
                                       security=deposit)
            response = session.post(registry["vihf"], data=body, timeout=REQUEST_TIMEOUT_S,
                                    headers={"Content-Type": f'application/soap+xml; charset=UTF-8; action="{ITI42}"'})
            problem, _ = registry_response_check(response.status_code, response.content)
            if problem:
                raise RuntimeError(f"seeding ITI-42 failed: {problem[:2000]}")
            documents += args.documents_per_submission
        print(f"  seeded {documents} documents of {patient.patient_id.format()} by ITI-42 through the VIHF gateway")

        query = etree.tostring(adhoc_query_request(FindDocuments(patient_id=patient.patient_id.format(),
                                                                 statuses=[AvailabilityStatus.APPROVED])))
        content_type = f'application/soap+xml; charset=UTF-8; action="{ITI18}"'

        def body(variant: tuple[str, str, str | None]) -> bytes:
            _, gateway, algorithm = variant
            security = security_block(assertions[algorithm]) if algorithm else None
            return request_envelope(ITI18, etree.fromstring(query), to=registry[gateway], security=security)[0]

        latencies: dict[str, list[float]] = {name: [] for name, _, _ in VARIANTS}
        failures: dict[str, list[str]] = {name: [] for name, _, _ in VARIANTS}
        sizes = {}
        rounds = -(-args.queries // args.round)
        for r in range(-1, rounds):  # round -1: warm-up, not kept
            for variant in VARIANTS:
                name, gateway, _ = variant
                bodies = [body(variant) for _ in range(args.round if r >= 0 else args.warmup)]
                sizes[name] = len(bodies[0])
                for payload in bodies:
                    t0 = time.perf_counter()
                    response = session.post(registry[gateway], data=payload, timeout=REQUEST_TIMEOUT_S,
                                            headers={"Content-Type": content_type})
                    content = response.content
                    elapsed = time.perf_counter() - t0
                    count, problem = read_answer(response.status_code, content)
                    if problem is None and count != documents:
                        problem = f"{count} DocumentEntries answered, {documents} deposited"
                    if r >= 0:
                        latencies[name].append(elapsed)
                        if problem:
                            failures[name].append(problem)
    result = {"database": database, "server_version": server_version, "documents_of_the_patient": documents,
              "variants": {}}
    for name, _, _ in VARIANTS:
        lat = latencies[name]
        result["variants"][name] = {
            "latency_ms": latency_summary(lat),
            "queries_per_second": round(len(lat) / sum(lat), 1),
            "failures": len(failures[name]),
            "first_failure": failures[name][0][:2000] if failures[name] else None,
            "request_bytes": sizes[name],
        }
    base = result["variants"]["none"]["latency_ms"]
    for name, figures in result["variants"].items():
        lat = figures["latency_ms"]
        figures["minus_none_ms"] = {k: round(lat[k] - base[k], 3) for k in ("p50", "p95", "mean")}
        delta = figures["minus_none_ms"]["p50"]
        print(f"  {name:16s} p50 {lat['p50']:6.2f}  p95 {lat['p95']:6.2f}  p99 {lat['p99']:6.2f}  mean "
              f"{lat['mean']:6.2f} ms  ({figures['queries_per_second']:.0f}/s; p50 {delta:+.2f} ms against none; "
              f"{figures['request_bytes']} bytes; failures {figures['failures']})")
        if figures["first_failure"]:
            print(f"    first failure: {figures['first_failure']}")
    return result


# -- main ------------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=1000,
                        help="in process: timed verify_vihf calls per algorithm (default 1000)")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both", "none"), default="sqlite",
                        help="over HTTP, on which database(s); none: in process only (default sqlite)")
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES_URL),
                        help=f"SQLAlchemy URL (default: ${POSTGRES_ENV} or {DEFAULT_POSTGRES_URL}); "
                             f"the benchmark drops and recreates the schema {PG_SCHEMA} there")
    parser.add_argument("--queries", type=int, default=400, help="over HTTP: timed ITI-18 per variant (default 400)")
    parser.add_argument("--round", type=int, default=20,
                        help="over HTTP: queries per variant in a row before switching (default 20)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls/queries first (default 20)")
    parser.add_argument("--submissions", type=int, default=5,
                        help="ITI-42 deposits for the patient before querying (default 5)")
    parser.add_argument("--documents-per-submission", type=int, default=2, help="DocumentEntries per deposit")
    parser.add_argument("--server-threads", type=int, default=Settings().threads, help="waitress worker threads")
    parser.add_argument("--profile", action="store_true", help="cProfile verify_vihf (RSA-SHA256) and print it")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    args = parser.parse_args(argv)
    for name in ("iterations", "queries", "round", "submissions", "documents_per_submission", "server_threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    for name in ("gateway.app", "gateway.api.auth"):  # "authentication is off" at every start of the none gateway
        logging.getLogger(name).setLevel(logging.ERROR)
    began = time.perf_counter()
    patient = french_patient(0)  # build_submission(..., patients=1) deposits for patient 0
    with tempfile.TemporaryDirectory(prefix="xdsgw-bench-pki-") as pki_dir:
        signer = Signer(Path(pki_dir), patient.patient_id.format())
        print(f"VIHF verification, demo PKI (RSA 2048), {os.cpu_count()} CPUs\n\n[in process: verify_vihf]")
        in_process = measure_in_process(signer, args.iterations, args.warmup, args.profile)
        databases = {"both": ["sqlite", "postgresql"], "none": []}.get(args.database, [args.database])
        http, skipped = [], {}
        for name in databases:
            print(f"\n[over HTTP, {name}: ITI-18 FindDocuments, XDSGW_AUTH=none against vihf]")
            try:
                http.append(measure_http(name, signer, patient, args))
            except Unavailable as exc:
                skipped[name] = str(exc)
                print(f"  skipped: {exc}")

    document = {
        "benchmark": "VIHF verification (verify_vihf in process; ITI-18 over HTTP, XDSGW_AUTH=vihf against none)",
        "timestamp_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                       if k not in ("postgres_url",)},
        "in_process": in_process,
        "http": http,
        "skipped": skipped,
        "total_seconds": round(time.perf_counter() - began, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.output}")
    failed = any(v["failures"] for r in http for v in r["variants"].values())
    return 1 if failed or skipped else 0


if __name__ == "__main__":
    sys.exit(main())
