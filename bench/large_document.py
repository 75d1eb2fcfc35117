"""Benchmark: the gateway process's peak memory for one large document, through ITI-41 and ITI-43.

The real server (``xds-gateway serve``) runs as a child process with a
temporary data directory (folder blob store) and SQLite, or PostgreSQL in a
schema of its own. After a small warm-up (ITI-41 and ITI-43 of a 1 KiB
document), each case resets the process's peak RSS (``5 >
/proc/PID/clear_refs`` resets VmHWM; where that is refused, VmRSS is
sampled every 5 ms instead), records VmRSS, runs one transaction and reads
VmHWM: growth = peak - RSS before, ratio = growth / document size.

Cases, in this order, all with the same random document (``os.urandom``,
mimeType application/pdf under ``--profile ihe``; under ``--profile ci-sis``,
the default as it is the gateway's, the same bytes as the base64 body of a
level-1 CDA R2, mimeType text/xml, formatCode urn:ihe:iti:xds-sd:pdf:2008:
the CI-SIS has no formatCode for a bare PDF, so that is how a French source
sends one, and the gateway then reads the whole CDA):

- ``iti41_mtom``: ITI-41, the document as an MTOM attachment. Target: ratio < 3.
- ``iti43``: ITI-43 of that document, the answer streamed by the client
  (``stream=True``, multipart read on the fly, hashed and counted, never
  held). Target: ratio < 2.
- ``iti41_inline``: ITI-41, the document as inline base64 text. No target.

The retrieved bytes are checked (SHA-1, size), and so are the hash, size,
repositoryUniqueId and mimeType the registry holds for both submissions
(ITI-18 GetDocuments). Ratios are to the document sent (the CDA under
ci-sis). Exit status 1 when a target is missed or a check fails.

Usage::

    .venv/bin/python bench/large_document.py [--size-mb 100] [--database sqlite|postgresql] [--profile ci-sis|ihe]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

from common import (
    AFFINITY_DOMAIN,
    CI_SIS,
    DEFAULT_POSTGRES_URL,
    SCANNED_REPORT,
    MIB,
    POSTGRES_ENV,
    GatewayProcess,
    PeakMeter,
    Unavailable,
    add_profile_argument,
    ci_sis_cda,
    drop_postgres_schema,
    french_patient,
    machine_info,
    mtom_root,
    open_database,
    provide_and_register_message,
    registry_entries,
    registry_response_problem,
    repository_submission,
    retrieve_message,
    retrieve_streamed,
)
from gateway.config import Settings
from gateway.metadata import CX, Code
from gateway.metadata.repository import Document, DocumentReference, ProvideAndRegisterDocumentSet

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUTPUT = BENCH_DIR / "results" / "large_document.json"
PG_SCHEMA = "bench_iti41_large"
OID_ROOT = "1.2.250.1.999.78"
PDF_MIME_TYPE = "application/pdf"
CDA_MIME_TYPE = "text/xml"
PDF_FORMAT = Code("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3", "Scanned Documents PDF")
REQUEST_TIMEOUT_S = 900
CASES = {
    # name: (what, target ratio or None)
    "iti41_mtom": ("ITI-41, MTOM attachment", 3.0),
    "iti43": ("ITI-43, streamed MTOM answer", 2.0),
    "iti41_inline": ("ITI-41, inline base64", None),
}


def mime_type(profile: str) -> str:
    return CDA_MIME_TYPE if profile == CI_SIS else PDF_MIME_TYPE


def submission_request(profile: str, run: int, n: int, pdf: bytes, pdf_base64: str | None = None
                       ) -> ProvideAndRegisterDocumentSet:
    """ITI-41 of ``pdf``: as it is (ihe), or as the base64 body of a level-1 CDA (ci-sis; ``pdf_base64``, when
    given, is its base64, computed once for the two large requests)."""
    if profile != CI_SIS:
        submission = repository_submission(profile, run, n, oid_root=OID_ROOT,
                                           patient=CX.of("LARGE-0001", AFFINITY_DOMAIN), mime_type=PDF_MIME_TYPE,
                                           format_code=PDF_FORMAT)
        return ProvideAndRegisterDocumentSet(submission, [Document(submission.documents[0].entry_uuid, pdf)])
    patient = french_patient(1)
    submission = repository_submission(profile, run, n, oid_root=OID_ROOT, patient=patient,
                                       mime_type=CDA_MIME_TYPE, kind=SCANNED_REPORT)
    entry = submission.documents[0]
    body = pdf_base64 if pdf_base64 is not None else base64.b64encode(pdf).decode("ascii")
    return ProvideAndRegisterDocumentSet(
        submission, [Document(entry.entry_uuid, ci_sis_cda(patient, SCANNED_REPORT, entry.unique_id, body))])


def document_of(request: ProvideAndRegisterDocumentSet) -> bytes:
    return request.documents[0].data


def unique_id(request: ProvideAndRegisterDocumentSet) -> str:
    return request.submission.documents[0].unique_id


def provide(session: requests.Session, url: str, content_type: str, body: bytes) -> str | None:
    """Send one ITI-41; None when it succeeded, else what came back."""
    response = session.post(url, data=body, headers={"Content-Type": content_type}, timeout=REQUEST_TIMEOUT_S)
    return registry_response_problem(response.status_code, mtom_root(response.headers.get("Content-Type", ""),
                                                                      response.content))


def timeline(meter: PeakMeter, points: int = 200) -> list[tuple[float, float]]:
    """The sampled RSS, thinned to about ``points`` (seconds, MiB) pairs, the peak sample always kept."""
    samples = meter.samples
    step = max(1, len(samples) // points)
    kept = samples[::step]
    peak = meter.sampled_peak
    if samples and peak not in kept:
        kept = sorted(kept + [peak])
    return [(round(t, 3), round(rss / MIB, 1)) for t, rss in kept]


def measure(name: str, gateway: GatewayProcess, size: int, run) -> dict:
    """Run ``run()`` (returns a problem or None) under a PeakMeter; the case's figures."""
    what, target = CASES[name]
    cpu0 = gateway.cpu_seconds()
    with PeakMeter(gateway) as meter:
        problem = run()
    cpu = gateway.cpu_seconds() - cpu0
    ratio = meter.growth / size
    peak_at, sampled_peak = meter.sampled_peak
    return {
        "case": name,
        "what": what,
        "rss_before": meter.rss_before,
        "peak": meter.peak,
        "growth": meter.growth,
        "ratio": round(ratio, 3),
        "target": target,
        "met": (ratio < target) if target is not None else None,
        "seconds": round(meter.seconds, 3),
        "mib_per_second": round(size / MIB / meter.seconds, 1) if meter.seconds else None,
        "rss_after": meter.rss_after,
        "peak_method": "VmHWM after clear_refs" if meter.hwm_reset else f"VmRSS sampled every {meter.interval * 1000:g} ms",
        "sampled_peak": sampled_peak,
        "sampled_peak_at_seconds": round(peak_at, 3),
        "server_cpu_seconds": round(cpu, 2),
        "problem": problem,
        "rss_timeline_mib": timeline(meter),
    }


def run_benchmark(args, database_name: str, tmp: Path) -> dict:
    pdf_size = int(args.size_mb * MIB)
    run = int(time.time())
    mime = mime_type(args.profile)
    pdf = os.urandom(pdf_size)
    pdf_base64 = base64.b64encode(pdf).decode("ascii") if args.profile == CI_SIS else None
    mtom_request = submission_request(args.profile, run, 10, pdf, pdf_base64)
    inline_request = submission_request(args.profile, run, 11, pdf, pdf_base64)
    del pdf_base64
    # Under ci-sis the two documents differ by their uniqueId (in the CDA header), not by their size.
    sha1_of = {unique_id(r): hashlib.sha1(document_of(r)).hexdigest() for r in (mtom_request, inline_request)}
    size = len(document_of(mtom_request))
    sha1 = sha1_of[unique_id(mtom_request)]
    if args.profile == CI_SIS:
        print(f"document: {pdf_size / MIB:g} MiB of os.urandom as the base64 body of a level-1 CDA "
              f"(nonXMLBody mediaType application/pdf): {size / MIB:.1f} MiB, {mime}")
    else:
        print(f"document: {size / MIB:g} MiB of os.urandom, {mime}")

    target = open_database(database_name, tmp, args.postgres_url, args.pg_schema)
    # Inline base64 makes the request 4/3 of the document: raise the limit only when the default is too small.
    needed = size * 4 // 3 + 4 * MIB
    env = {}
    if needed > Settings().max_repository_request_bytes:
        env["XDSGW_MAX_REPOSITORY_REQUEST_BYTES"] = str(needed)
    print(f"database: {target.name} {target.server_version}" + (f" (schema {target.schema})" if target.schema else ""))

    checks: list[str] = []
    cases: list[dict] = []
    with GatewayProcess(tmp / "data", target, threads=args.server_threads, profile=args.profile, env=env) as gateway, \
            requests.Session() as session:
        url = gateway.repository_url
        print(f"gateway: pid {gateway.pid}, profile {args.profile}, {url}, RSS at start {gateway.rss() / MIB:.1f} MiB")

        # Warm-up: the first request of each kind pays for imports, connections, caches.
        small = os.urandom(1024)
        for n, mtom in ((0, True), (1, False)):
            request = submission_request(args.profile, run, n, small)
            problem = provide(session, url, *provide_and_register_message(request, url, mtom=mtom,
                                                                          content_type=mime))
            if problem:
                raise RuntimeError(f"warm-up ITI-41 failed: {problem}")
        warm = retrieve_streamed(session, url, retrieve_message(
            [DocumentReference(target_repository(), unique_id(request))], url)[1])
        if warm.problem or warm.documents[0][2].sha1 != hashlib.sha1(document_of(request)).hexdigest():
            raise RuntimeError(f"warm-up ITI-43 failed: {warm.problem or 'wrong bytes'}")
        time.sleep(0.5)
        baseline = gateway.rss()
        hwm_works = gateway.reset_peak()
        print(f"after warm-up: RSS {baseline / MIB:.1f} MiB; peak reset by clear_refs: "
              f"{'yes' if hwm_works else 'no, sampling VmRSS every 5 ms'}")

        wanted = [c.strip() for c in args.cases.split(",")]

        if "iti41_mtom" in wanted or "iti43" in wanted:
            content_type, body = provide_and_register_message(mtom_request, url, content_type=mime)
            print(f"\nITI-41 MTOM: request {len(body) / MIB:.1f} MiB")
            case = measure("iti41_mtom", gateway, size, lambda: provide(session, url, content_type, body))
            del body
            cases.append(case)
            report(case)
            time.sleep(0.5)

        if "iti43" in wanted:
            _, request_body = retrieve_message([DocumentReference(target_repository(), unique_id(mtom_request))], url)
            answers: list = []

            def retrieve() -> str | None:
                answers.append(retrieve_streamed(session, url, request_body, timeout=REQUEST_TIMEOUT_S))
                return answers[0].problem

            print("\nITI-43 (streamed)")
            case = measure("iti43", gateway, size, retrieve)
            answer = answers[0]
            if not answer.problem:
                (got_id, got_mime, digest), = answer.documents
                if (digest.sha1, digest.size) != (sha1, size):
                    checks.append(f"ITI-43 returned {digest.size} bytes with SHA-1 {digest.sha1}, "
                                  f"expected {size} and {sha1}")
                if got_mime != mime:
                    checks.append(f"ITI-43 returned mimeType {got_mime}, expected {mime}")
                case["retrieved_sha1_ok"] = digest.sha1 == sha1
                case["client_max_buffered_bytes"] = answer.max_buffered
                case["answer_bytes"] = answer.received_bytes
            cases.append(case)
            report(case)
            print(f"  bytes retrieved: SHA-1 {'identical' if case.get('retrieved_sha1_ok') else 'DIFFERENT'}; "
                  f"client buffered at most {answer.max_buffered / MIB:.2f} MiB of the answer")
            time.sleep(0.5)

        if "iti41_inline" in wanted:
            content_type, body = provide_and_register_message(inline_request, url, mtom=False)
            print(f"\nITI-41 inline base64: request {len(body) / MIB:.1f} MiB")
            case = measure("iti41_inline", gateway, size, lambda: provide(session, url, content_type, body))
            del body
            cases.append(case)
            report(case)

        stored = [r for r, name in ((mtom_request, "iti41_mtom"), (inline_request, "iti41_inline"))
                  if any(c["case"] == name and not c["problem"] for c in cases)]
        entries = registry_entries(session, gateway.registry_url, [unique_id(r) for r in stored])
        registry = {}
        for request in stored:
            entry = entries.get(unique_id(request))
            if entry is None:
                checks.append(f"the registry does not know {unique_id(request)}")
                continue
            registry[unique_id(request)] = {"hash": entry.hash, "size": entry.size, "mimeType": entry.mime_type,
                                            "repositoryUniqueId": entry.repository_unique_id}
            for label, got, expected in (("hash", entry.hash, sha1_of[unique_id(request)]),
                                         ("size", entry.size, str(size)),
                                         ("mimeType", entry.mime_type, mime),
                                         ("repositoryUniqueId", entry.repository_unique_id, target_repository())):
                if got != expected:
                    checks.append(f"registry {label} of {unique_id(request)} is {got!r}, expected {expected!r}")
        print(f"\nregistry (ITI-18 GetDocuments): {len(registry)} entries, hash/size/mimeType/repositoryUniqueId "
              + ("as expected" if not checks else "MISMATCH"))
        server_status = gateway.stop()

    return {
        "profile": args.profile,
        "document_bytes": size,
        "document_sha1": sha1,
        "pdf_bytes": pdf_size,
        "document_form": "level-1 CDA, base64 PDF body" if args.profile == CI_SIS else "bare PDF",
        "mime_type": mime,
        "database": target.name,
        "database_version": target.server_version,
        "postgres_schema": target.schema,
        "server_env": env,
        "server_threads": args.server_threads,
        "rss_after_warmup": baseline,
        "clear_refs_works": hwm_works,
        "cases": cases,
        "registry": registry,
        "checks_failed": checks,
        "server_exit_status": server_status,
    }


def target_repository() -> str:
    """The repositoryUniqueId the gateway process uses: the default (GatewayProcess passes no XDSGW_* of ours)."""
    return Settings().repository_unique_id


def report(case: dict) -> None:
    target = f"< {case['target']:g}" if case["target"] is not None else "none"
    met = {True: "met", False: "MISSED", None: "(informational)"}[case["met"]]
    print(f"  RSS before {case['rss_before'] / MIB:.1f} MiB, peak {case['peak'] / MIB:.1f} MiB, "
          f"growth {case['growth'] / MIB:.1f} MiB, ratio {case['ratio']:.2f} (target {target}: {met}), "
          f"{case['seconds']:.2f} s, server CPU {case['server_cpu_seconds']:.2f} s")
    if case["problem"]:
        print(f"  FAILED: {case['problem']}")


def table(result: dict) -> None:
    size = result["document_bytes"]
    print(f"\n{result['database']}, document {size / MIB:g} MiB")
    print(f"{'case':<14} {'RSS before':>11} {'peak':>9} {'growth':>9} {'ratio':>6} {'target':>7} {'met':>5} "
          f"{'seconds':>8}")
    for c in result["cases"]:
        target = f"< {c['target']:g}" if c["target"] is not None else "-"
        met = {True: "yes", False: "NO", None: "-"}[c["met"]]
        print(f"{c['case']:<14} {c['rss_before'] / MIB:>7.1f} MiB {c['peak'] / MIB:>5.1f} MiB "
              f"{c['growth'] / MIB:>5.1f} MiB {c['ratio']:>6.2f} {target:>7} {met:>5} {c['seconds']:>8.2f}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_profile_argument(parser)
    parser.add_argument("--size-mb", type=float, default=100.0,
                        help="size of the PDF in MiB (default 100); under ci-sis the CDA carrying it is 4/3 of that")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES_URL),
                        help=f"SQLAlchemy URL (default: ${POSTGRES_ENV} or {DEFAULT_POSTGRES_URL}); "
                             f"the schema --pg-schema is dropped and recreated there")
    parser.add_argument("--pg-schema", default=PG_SCHEMA, help=f"PostgreSQL schema (default {PG_SCHEMA}), "
                                                              "dropped at the end unless --keep")
    parser.add_argument("--cases", default=",".join(CASES), help=f"among {', '.join(CASES)} (default: all)")
    parser.add_argument("--server-threads", type=int, default=Settings().threads, help="XDSGW_THREADS")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and the PostgreSQL schema")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    args = parser.parse_args(argv)
    if args.size_mb <= 0:
        parser.error("--size-mb must be positive")
    unknown = {c.strip() for c in args.cases.split(",")} - set(CASES)
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    print(f"Large document: gateway process peak RSS, {os.cpu_count()} CPUs")
    tmp = Path(tempfile.mkdtemp(prefix="xdsgw-large-"))
    try:
        result = run_benchmark(args, args.database, tmp)
    except Unavailable as exc:
        print(f"skipped: {exc}")
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
            if args.database == "postgresql":
                try:
                    drop_postgres_schema(args.postgres_url, args.pg_schema)
                except Exception:  # the benchmark's result matters more than the clean-up
                    pass
        else:
            print(f"kept {tmp}")
    table(result)
    missed = [c["case"] for c in result["cases"] if c["met"] is False]
    failed = [c["case"] for c in result["cases"] if c["problem"]]
    for check in result["checks_failed"]:
        print(f"CHECK FAILED: {check}")

    document = {
        "benchmark": "large document: gateway process peak RSS growth per transaction",
        "timestamp_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "parameters": {"profile": args.profile, "size_mb": args.size_mb, "database": args.database, "cases": args.cases,
                       "server_threads": args.server_threads},
        **result,
        "targets_missed": missed,
        "failed": failed,
        "total_seconds": round(time.perf_counter() - began, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.output}")
    if missed:
        print(f"target missed: {', '.join(missed)}")
    return 1 if missed or failed or result["checks_failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
