"""Benchmark: ITI-41 Provide and Register Document Set-b throughput, then ITI-43, with N concurrent clients.

The real server (``xds-gateway serve``) runs as a child process with a
temporary data directory, on SQLite and on PostgreSQL (a schema of its
own), documents in the folder blob store (or an S3-compatible store with
``--blob-store s3``). For each number of clients, client threads (one
keep-alive ``requests.Session`` each) send ITI-41 requests for a fixed time
(or a fixed number of submissions): one SubmissionSet, one DocumentEntry
and a ~50 KB XML document as an MTOM attachment, every document
different, every uniqueId fresh, spread over a few patients. Under
``--profile ci-sis`` (the default, as the gateway's) the metadata follows the
CI-SIS and the document is a level-1 CDA R2 (plain-text body) whose header
agrees with its DocumentEntry, as the gateway checks; under ``--profile ihe``
the metadata is generic IHE and the document a CDA-like structured XML that
nothing reads. Then the same
number of clients retrieves random stored documents (ITI-43, one per
request) for a shorter time, each answer streamed and checked against the
SHA-1 of what was sent.

Only the HTTP round trips are timed (latency); throughput is over the wall
time of the run. Request bodies are made from per-patient templates (the
metadata serialised once, uniqueIds and MessageID substituted), so the
clients spend little CPU of the two the machine may have.

Usage::

    .venv/bin/python bench/provide_and_register.py [--profile ci-sis|ihe] [--clients 1,4,8]
        [--database sqlite,postgresql] [--seconds 30 | --submissions N] [--retrieve-seconds 10]

Nothing here asserts on time; it measures and reports. Exit status 1 if any
request failed.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import requests

from common import (
    AFFINITY_DOMAIN,
    CI_SIS,
    CONSULTATION_REPORT,
    DEFAULT_POSTGRES_URL,
    ITI41,
    MIB,
    POSTGRES_ENV,
    DatabaseTarget,
    GatewayProcess,
    Unavailable,
    add_profile_argument,
    ci_sis_cda_parts,
    drop_postgres_schema,
    french_patient,
    machine_info,
    mtom_package,
    mtom_root,
    open_database,
    percentile,
    registry_response_check,
    repository_row_count,
    repository_submission,
    retrieve_message,
    retrieve_streamed,
)
from gateway.config import Settings
from gateway.ebxml.provide_and_register import provide_and_register_request
from gateway.metadata import CX
from gateway.metadata.repository import Document, DocumentReference, ProvideAndRegisterDocumentSet
from gateway.soap.client import request_envelope

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUTPUT = BENCH_DIR / "results" / "provide_and_register.json"
PG_SCHEMA = "bench_iti41"
OID_ROOT = "1.2.250.1.999.79"
MIME_TYPE = "text/xml"
REQUEST_TIMEOUT_S = 120
#: Stands for the submission number in a template's uniqueIds; replaced in every request.
SENTINEL = 987654321
SENTINEL_MESSAGE_ID = "urn:uuid:00000000-0000-4000-8000-0000deadbeef"


# -- documents --------------------------------------------------------------------------------------------------------

_WORDS = (
    "patient admitted for chest pain dyspnea on exertion since three days no fever blood pressure heart rate "
    "regular rhythm murmur auscultation bilateral crackles oedema lower limbs ECG sinus tachycardia troponin "
    "negative echocardiography left ventricular ejection fraction preserved mild mitral regurgitation treatment "
    "aspirin bisoprolol furosemide ramipril atorvastatin discharge follow-up cardiologist in six weeks "
    "renal function creatinine potassium haemoglobin stable allergies none known smoker twenty pack-years "
    "advised cessation diet low salt physical activity progressive history hypertension type 2 diabetes "
    "metformin insulin glargine HbA1c controlled ophthalmology review scheduled vaccination up to date"
).split()
_SECTIONS = (
    ("10164-2", "History of present illness"), ("11348-0", "History of past illness"),
    ("10160-0", "History of medication use"), ("48765-2", "Allergies and adverse reactions"),
    ("29545-1", "Physical findings"), ("30954-2", "Relevant diagnostic tests"),
    ("11535-2", "Hospital discharge diagnosis"), ("18776-5", "Plan of care"),
)


def _paragraphs(seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(_WORDS, k=rng.randint(40, 120))).capitalize() + "." for _ in range(400)]


class CdaFactory:
    """CDA-like XML documents of about ``size`` bytes, each different (ids, dates, values and text): the
    ``ihe`` profile's documents, which the gateway does not read.

    Paragraphs are drawn from a pool made once, so that making a document
    costs the clients little.
    """

    def __init__(self, size: int, seed: int = 41) -> None:
        self.size = size
        self.pool = _paragraphs(seed)

    def make(self, rng: random.Random, unique_id: str, patient: str) -> bytes:
        day = f"2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        head = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            '<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>\n'
            f'<id root="{unique_id}"/>\n'
            '<code code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="Consult note"/>\n'
            f"<title>Compte rendu de consultation {uuid.UUID(int=rng.getrandbits(128))}</title>\n"
            f'<effectiveTime value="{day}{rng.randint(8, 18):02d}{rng.randint(0, 59):02d}00+0100"/>\n'
            '<confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>\n'
            f'<recordTarget><patientRole><id extension="{patient}" root="{AFFINITY_DOMAIN}"/>'
            "<patient><name><family>DUPONT</family><given>Marie</given></name>"
            '<administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/>'
            '<birthTime value="19700101"/></patient></patientRole></recordTarget>\n'
            f'<author><time value="{day}"/><assignedAuthor><id extension="801234567897" root="1.2.250.1.71.4.2.1"/>'
            "<assignedPerson><name><family>DUPONT</family><given>Jean</given></name></assignedPerson>"
            "</assignedAuthor></author>\n"
            "<component><structuredBody>\n"
        )
        tail = "</structuredBody></component>\n</ClinicalDocument>\n"
        out = [head]
        length = len(head) + len(tail)
        while length < self.size:
            code, title = _SECTIONS[rng.randrange(len(_SECTIONS))]
            paragraphs = "".join(f"<paragraph>{p}</paragraph>" for p in rng.choices(self.pool, k=6))
            value = f"{rng.uniform(0.5, 250):.1f}"
            section = (
                f'<component><section><code code="{code}" codeSystem="2.16.840.1.113883.6.1"/>'
                f"<title>{title}</title><text>{paragraphs}</text>"
                '<entry><observation classCode="OBS" moodCode="EVN">'
                f'<code code="{rng.randint(1000, 99999)}-{rng.randint(0, 9)}" codeSystem="2.16.840.1.113883.6.1"/>'
                f'<value xsi:type="PQ" value="{value}" unit="mg/dL"/></observation></entry>'
                "</section></component>\n"
            )
            out.append(section)
            length += len(section)
        out.append(tail)
        return "".join(out).encode("utf-8")


class CiSisCdaFactory:
    """Level-1 CDA R2 documents of about ``size`` bytes for the ``ci-sis`` profile, each different.

    The header is :func:`common.ci_sis_cda_parts` for the patient (made once
    per patient, the uniqueId substituted), so that it agrees with the
    DocumentEntry of the patient's template; the body is
    ``nonXMLBody/text`` (mediaType text/plain, formatCode
    urn:ihe:iti:xds-sd:text:2008) padded with paragraphs drawn from the pool
    and a line of values of its own.
    """

    UID = "1.2.250.1.999.79.0.0.0"  # stands for the uniqueId in the per-patient header

    def __init__(self, size: int, patients, seed: int = 41) -> None:
        self.size = size
        self.pool = _paragraphs(seed)
        self.parts = {p.index: ci_sis_cda_parts(p, CONSULTATION_REPORT, self.UID) for p in patients}

    def make(self, rng: random.Random, unique_id: str, patient) -> bytes:
        head, tail = self.parts[patient.index]
        head = head.replace(self.UID, unique_id)
        out = [head, f"Consultation du patient {patient.ipp}, dossier {uuid.UUID(int=rng.getrandbits(128))}. "
                     f"TA {rng.randint(100, 160)}/{rng.randint(60, 95)} mmHg, FC {rng.randint(50, 110)}/min, "
                     f"poids {rng.uniform(45, 110):.1f} kg.\n"]
        length = len(head) + len(out[1]) + len(tail) + 200  # + the header's non-ASCII characters, as UTF-8
        while length < self.size:
            paragraph = "\n".join(rng.choices(self.pool, k=6)) + "\n\n"
            out.append(paragraph)
            length += len(paragraph)
        out.append(tail)
        return "".join(out).encode("utf-8")


# -- request bodies ---------------------------------------------------------------------------------------------------


class Templates:
    """Per patient, the serialised SOAP envelope of an ITI-41 request with placeholders for the uniqueIds."""

    def __init__(self, profile: str, run: int, patients: int, url: str) -> None:
        self.run = run
        #: ihe: patient id strings (BENCH41-0000…); ci-sis: common.FrenchPatient
        self.patients = ([french_patient(p) for p in range(patients)] if profile == CI_SIS
                         else [f"BENCH41-{p:04d}" for p in range(patients)])
        self.ss_sentinel = f"{OID_ROOT}.{run}.1.{SENTINEL}".encode()
        self.doc_sentinel = f"{OID_ROOT}.{run}.2.{SENTINEL}".encode()
        self.soap: list[bytes] = []
        self.content_ids: list[str] = []
        for patient in self.patients:
            submission = repository_submission(
                profile, run, SENTINEL, oid_root=OID_ROOT, mime_type=MIME_TYPE,
                patient=patient if profile == CI_SIS else CX.of(patient, AFFINITY_DOMAIN))
            request = ProvideAndRegisterDocumentSet(submission, [Document(submission.documents[0].entry_uuid, b"")])
            body, attachments = provide_and_register_request(request, mtom=True)
            soap, _ = request_envelope(ITI41, body, to=url, message_id=SENTINEL_MESSAGE_ID)
            for sentinel in (self.ss_sentinel, self.doc_sentinel, SENTINEL_MESSAGE_ID.encode()):
                if soap.count(sentinel) != 1:
                    raise AssertionError(f"template: {sentinel!r} occurs {soap.count(sentinel)} times")
            # The template's Content-ID in every request of the patient: it need only be unique within a message.
            self.content_ids.append(attachments[0][0])
            self.soap.append(soap)

    def unique_id(self, n: int) -> str:
        return f"{OID_ROOT}.{self.run}.2.{n}"

    def request(self, n: int, document: bytes) -> tuple[str, bytes]:
        """(Content-Type, body) of submission ``n``, patient ``n mod patients``."""
        p = n % len(self.soap)
        soap = (self.soap[p]
                .replace(self.ss_sentinel, f"{OID_ROOT}.{self.run}.1.{n}".encode())
                .replace(self.doc_sentinel, self.unique_id(n).encode())
                .replace(SENTINEL_MESSAGE_ID.encode(), f"urn:uuid:{uuid.uuid4()}".encode()))
        return mtom_package(soap, [(self.content_ids[p], MIME_TYPE, document)], ITI41)


# -- machine CPU ------------------------------------------------------------------------------------------------------


def cpu_times() -> tuple[int, int, int]:
    """(busy, iowait, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle, iowait = values[3], values[4]
    total = sum(values[:8])
    return total - idle - iowait, iowait, total


class CpuMeter:
    """Machine, server-process and client-process CPU over a ``with`` block."""

    def __init__(self, gateway: GatewayProcess) -> None:
        self.gateway = gateway

    def __enter__(self) -> CpuMeter:
        self._machine = cpu_times()
        self._server = self.gateway.cpu_seconds()
        self._client = time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        busy, iowait, total = (b - a for a, b in zip(self._machine, cpu_times()))
        self.server = self.gateway.cpu_seconds() - self._server
        self.client = time.process_time() - self._client
        cpus = os.cpu_count() or 1
        self.machine_busy = busy / total if total else 0.0  # fraction of all CPUs
        self.machine_iowait = iowait / total if total else 0.0
        self.cpus = cpus

    def figures(self, requests_done: int, wall: float) -> dict:
        per = (lambda s: round(s / requests_done * 1000, 2)) if requests_done else (lambda s: None)
        return {
            "machine_busy_percent": round(self.machine_busy * 100, 1),
            "machine_iowait_percent": round(self.machine_iowait * 100, 1),
            "server_cpu_percent_of_one_cpu": round(self.server / wall * 100, 1) if wall else None,
            "client_cpu_percent_of_one_cpu": round(self.client / wall * 100, 1) if wall else None,
            "server_cpu_ms_per_request": per(self.server),
            "client_cpu_ms_per_request": per(self.client),
        }


# -- runs -------------------------------------------------------------------------------------------------------------


class Run:
    """What the client threads of one run record."""

    def __init__(self, clients: int) -> None:
        self.latencies: list[list[float]] = [[] for _ in range(clients)]
        self.failures: list[list[str]] = [[] for _ in range(clients)]
        self.warnings: list[list[str]] = [[] for _ in range(clients)]
        self.document_bytes = [0] * clients
        self.wall = 0.0

    def summary(self, kind: str, clients: int, cpu: CpuMeter) -> dict:
        lat = sorted(x for per in self.latencies for x in per)
        failures = [x for per in self.failures for x in per]
        sent, failed = len(lat), len(failures)
        ok = sent - failed
        wall = self.wall
        return {
            "transaction": kind,
            "clients": clients,
            "requests": sent,
            "ok": ok,
            "errors": failed,
            "error_kinds": dict(Counter(_first_line(f) for f in failures).most_common(5)),
            "answers_with_warnings": sum(map(len, self.warnings)),
            "warning_kinds": dict(Counter(_first_line(w) for per in self.warnings for w in per).most_common(3)),
            "wall_seconds": round(wall, 3),
            "documents_per_second": round(ok / wall, 2) if wall else None,
            "document_mib_per_second": round(sum(self.document_bytes) / MIB / wall, 2) if wall else None,
            "latency_ms": {
                **{f"p{p}": round(percentile(lat, p) * 1000, 2) if lat else None for p in (50, 95, 99)},
                "mean": round(sum(lat) / sent * 1000, 2) if sent else None,
                "max": round(max(lat) * 1000, 2) if lat else None,
            },
            **cpu.figures(sent, wall),
        }


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else "(empty)"


def run_clients(clients: int, work) -> Run:
    """``work(i, session, run)`` in ``clients`` threads started together; the run with its wall time."""
    run = Run(clients)
    start = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        with requests.Session() as session:
            start.wait()
            work(i, session, run)

    threads = [threading.Thread(target=client, args=(i,), name=f"client-{i}") for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    run.wall = time.perf_counter() - t0
    return run


class Submitter:
    """Numbers submissions, makes their documents, sends them, remembers what was stored."""

    def __init__(self, gateway: GatewayProcess, templates: Templates, factory: CdaFactory) -> None:
        self.gateway = gateway
        self.templates = templates
        self.factory = factory
        self.numbers = itertools.count(1)
        self.stored: dict[str, tuple[str, int]] = {}  # uniqueId: (SHA-1, size) of what was accepted
        self._lock = threading.Lock()

    def submit(self, session: requests.Session, rng: random.Random) -> tuple[float, str | None, list[str], int]:
        """One ITI-41: (seconds, problem or None, warnings, document bytes). The body is made before the clock
        starts."""
        n = next(self.numbers)
        unique_id = self.templates.unique_id(n)
        patient = self.templates.patients[n % len(self.templates.patients)]
        document = self.factory.make(rng, unique_id, patient)
        content_type, body = self.templates.request(n, document)
        t0 = time.perf_counter()
        try:
            response = session.post(self.gateway.repository_url, data=body, headers={"Content-Type": content_type},
                                    timeout=REQUEST_TIMEOUT_S)
            content = response.content  # the whole answer, inside the timing
            elapsed = time.perf_counter() - t0
            problem, warnings = registry_response_check(
                response.status_code, mtom_root(response.headers.get("Content-Type", ""), content))
        except (requests.RequestException, ValueError) as exc:
            elapsed = time.perf_counter() - t0
            problem, warnings = f"{type(exc).__name__}: {exc}", []
        if problem is None:
            with self._lock:
                self.stored[unique_id] = (hashlib.sha1(document).hexdigest(), len(document))
        return elapsed, problem, warnings, len(document)


def submit_run(submitter: Submitter, clients: int, *, seconds: float | None, submissions: int | None) -> Run:
    deadline = time.perf_counter() + seconds if seconds else None
    quota = itertools.count(1)

    def work(i: int, session: requests.Session, run: Run) -> None:
        rng = random.Random(f"{submitter.templates.run}-{clients}-{i}")
        while True:
            if deadline is not None and time.perf_counter() >= deadline:
                return
            if submissions is not None and next(quota) > submissions:
                return
            elapsed, problem, warnings, size = submitter.submit(session, rng)
            run.latencies[i].append(elapsed)
            run.document_bytes[i] += size
            if problem is not None:
                run.failures[i].append(problem)
            if warnings:
                run.warnings[i].append("; ".join(warnings))

    return run_clients(clients, work)


def retrieve_run(submitter: Submitter, repository_unique_id: str, clients: int, seconds: float) -> Run:
    stored = sorted(submitter.stored.items())
    deadline = time.perf_counter() + seconds
    url = submitter.gateway.repository_url

    def work(i: int, session: requests.Session, run: Run) -> None:
        rng = random.Random(f"retrieve-{clients}-{i}")
        while time.perf_counter() < deadline:
            unique_id, (sha1, size) = stored[rng.randrange(len(stored))]
            _, body = retrieve_message([DocumentReference(repository_unique_id, unique_id)], url)
            t0 = time.perf_counter()
            try:
                answer = retrieve_streamed(session, url, body, timeout=REQUEST_TIMEOUT_S, chunk_size=256 * 1024)
                elapsed = time.perf_counter() - t0
                problem = answer.problem
                if problem is None:
                    digests = [(d.sha1, d.size) for _, _, d in answer.documents]
                    if digests != [(sha1, size)]:
                        problem = f"{unique_id}: retrieved {digests}, expected {[(sha1, size)]}"
            except (requests.RequestException, ValueError) as exc:
                elapsed = time.perf_counter() - t0
                problem = f"{type(exc).__name__}: {exc}"
            run.latencies[i].append(elapsed)
            run.document_bytes[i] += size
            if problem is not None:
                run.failures[i].append(problem)

    return run_clients(clients, work)


# -- per database -----------------------------------------------------------------------------------------------------


def blob_env(args) -> dict[str, str]:
    if args.blob_store == "folder":
        return {}
    return {
        "XDSGW_BLOB_STORE": "s3",
        "XDSGW_S3_ENDPOINT_URL": args.s3_endpoint or "",
        "XDSGW_S3_BUCKET": args.s3_bucket,
        "XDSGW_S3_PREFIX": f"bench-{int(time.time())}/",
        **({"XDSGW_S3_REGION": args.s3_region} if args.s3_region else {}),
    }


def check_s3(args) -> None:
    """The bucket exists (created when missing) at the endpoint, or Unavailable."""
    try:
        import boto3

        client = boto3.client("s3", endpoint_url=args.s3_endpoint or None, region_name=args.s3_region or None)
        try:
            client.head_bucket(Bucket=args.s3_bucket)
        except Exception:
            client.create_bucket(Bucket=args.s3_bucket)
    except Exception as exc:
        raise Unavailable(f"S3 bucket {args.s3_bucket} at {args.s3_endpoint or 'AWS'}: {exc}") from None


def run_database(name: str, args, tmp: Path) -> dict:
    target: DatabaseTarget = open_database(name, tmp, args.postgres_url, args.pg_schema)
    print(f"\n[{target.name} {target.server_version}]" + (f" schema {target.schema}" if target.schema else ""))
    runs: list[dict] = []
    with GatewayProcess(tmp / "data", target, threads=args.server_threads, profile=args.profile,
                        env=blob_env(args)) as gateway:
        repository_unique_id = Settings().repository_unique_id
        run_number = int(time.time() * 1000) % 10**9
        templates = Templates(args.profile, run_number, args.patients, gateway.repository_url)
        factory = (CiSisCdaFactory(args.document_kb * 1000, templates.patients) if args.profile == CI_SIS
                   else CdaFactory(args.document_kb * 1000))
        submitter = Submitter(gateway, templates, factory)
        print(f"  gateway pid {gateway.pid}, profile {args.profile}, {args.server_threads} threads, blob store "
              f"{args.blob_store}; documents ~{args.document_kb} KB, {args.patients} patients")

        if args.warmup:
            warm = submit_run(submitter, 1, seconds=None, submissions=args.warmup)
            problems = [f for per in warm.failures for f in per]
            if problems:
                print(f"  warm-up failure: {problems[0][:2000]}")
            if submitter.stored:
                retrieve_run(submitter, repository_unique_id, 1, 0.5)
        warm_stored = len(submitter.stored)

        for clients in args.client_counts:
            with CpuMeter(gateway) as cpu:
                run = submit_run(submitter, clients, seconds=None if args.submissions else args.seconds,
                                 submissions=args.submissions)
            result = run.summary("ITI-41", clients, cpu)
            runs.append(result)
            report(result)
            if args.retrieve_seconds and submitter.stored:
                with CpuMeter(gateway) as cpu:
                    run = retrieve_run(submitter, repository_unique_id, clients, args.retrieve_seconds)
                result = run.summary("ITI-43", clients, cpu)
                runs.append(result)
                report(result)

        rss = gateway.rss()
        gateway.stop()
        stored_rows = repository_row_count(target)
        data_dir_bytes = sum(f.stat().st_size for f in (tmp / "data").rglob("*") if f.is_file())
    accepted = len(submitter.stored)
    print(f"  stored: {stored_rows} repository rows for {accepted} accepted submissions "
          f"({warm_stored} of them warm-up){'' if stored_rows == accepted else '  MISMATCH'}; "
          f"server RSS at the end {rss / MIB:.0f} MiB")
    return {
        "database": target.name,
        "server_version": target.server_version,
        "postgres_schema": target.schema,
        "runs": runs,
        "accepted_submissions": accepted,
        "warmup_submissions": warm_stored,
        "repository_rows_after": stored_rows,
        "rows_match": stored_rows == accepted,
        "server_rss_at_end": rss,
        "data_dir_bytes": data_dir_bytes,
    }


def report(r: dict) -> None:
    lat = r["latency_ms"]
    if not r["requests"]:
        print(f"  {r['transaction']} x{r['clients']}: no request sent")
        return
    print(f"  {r['transaction']} {r['clients']:>2} client(s): {r['documents_per_second']:7.1f} docs/s  "
          f"p50 {lat['p50']:7.1f}  p95 {lat['p95']:7.1f}  p99 {lat['p99']:7.1f} ms  "
          f"errors {r['errors']}/{r['requests']}{_warned(r)}  "
          f"CPU: machine {r['machine_busy_percent']:.0f}%, server {r['server_cpu_ms_per_request']:.1f} ms/req, "
          f"client {r['client_cpu_ms_per_request']:.1f} ms/req")
    for kind, count in (r["error_kinds"] | r.get("warning_kinds", {})).items():
        print(f"      {count} x {kind}")


def _warned(r: dict) -> str:
    return f" (warnings in {r['answers_with_warnings']})" if r.get("answers_with_warnings") else ""


def table(results: list[dict]) -> None:
    print(f"\n{'database':<11} {'tx':<7} {'clients':>7} {'docs/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'errors':>7} {'machine CPU':>11}")
    for db in results:
        for r in db["runs"]:
            lat = r["latency_ms"]
            fmt = (lambda v: f"{v:8.1f}" if v is not None else f"{'-':>8}")
            print(f"{db['database']:<11} {r['transaction']:<7} {r['clients']:>7} {fmt(r['documents_per_second'])} "
                  f"{fmt(lat['p50'])} {fmt(lat['p95'])} {fmt(lat['p99'])} {r['errors']:>7} "
                  f"{r['machine_busy_percent']:>10.0f}%")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_profile_argument(parser)
    parser.add_argument("--clients", default="1,4,8", help="comma-separated client counts, one run each (default 1,4,8)")
    parser.add_argument("--database", default="sqlite,postgresql", help="sqlite, postgresql or both (default)")
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES_URL),
                        help=f"SQLAlchemy URL (default: ${POSTGRES_ENV} or {DEFAULT_POSTGRES_URL})")
    parser.add_argument("--pg-schema", default=PG_SCHEMA,
                        help=f"PostgreSQL schema, dropped and recreated at start, dropped at the end unless --keep "
                             f"(default {PG_SCHEMA})")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each ITI-41 run (default 30)")
    parser.add_argument("--submissions", type=int, help="submissions per ITI-41 run instead of --seconds")
    parser.add_argument("--retrieve-seconds", type=float, default=10.0,
                        help="length of each ITI-43 run, 0 for none (default 10)")
    parser.add_argument("--document-kb", type=int, default=50, help="size of each document in kB (default 50)")
    parser.add_argument("--patients", type=int, default=5, help="patients the submissions are spread over (default 5)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed submissions first, per database (default 10)")
    parser.add_argument("--server-threads", type=int,
                        help="XDSGW_THREADS (default: the larger of 8 and the most clients)")
    parser.add_argument("--blob-store", choices=("folder", "s3"), default="folder")
    parser.add_argument("--s3-endpoint", help="S3-compatible endpoint URL for --blob-store s3 (credentials: AWS_*)")
    parser.add_argument("--s3-bucket", default="xdsgw-bench", help="bucket, created if missing (default xdsgw-bench)")
    parser.add_argument("--s3-region", help="S3 region")
    parser.add_argument("--keep", action="store_true", help="keep the data directories and the PostgreSQL schema")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    args = parser.parse_args(argv)
    try:
        args.client_counts = [int(c) for c in args.clients.split(",") if c.strip()]
    except ValueError:
        parser.error("--clients takes comma-separated integers")
    if not args.client_counts or min(args.client_counts) < 1:
        parser.error("--clients: at least one count, each at least 1")
    args.databases = ["sqlite", "postgresql"] if args.database == "both" else [
        d.strip() for d in args.database.split(",") if d.strip()]
    if not args.databases or set(args.databases) - {"sqlite", "postgresql"}:
        parser.error("--database: sqlite, postgresql, or both")
    if args.server_threads is None:
        args.server_threads = max(Settings().threads, max(args.client_counts))
    if args.server_threads < max(args.client_counts):
        parser.error("--server-threads must be at least the largest client count")
    if args.submissions is not None and args.submissions < 1:
        parser.error("--submissions must be at least 1")
    if args.seconds <= 0 or args.retrieve_seconds < 0 or args.document_kb < 1 or args.patients < 1 or args.warmup < 0:
        parser.error("--seconds, --document-kb, --patients must be positive; --retrieve-seconds, --warmup not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    length = f"{args.submissions} submissions" if args.submissions else f"{args.seconds:g} s"
    print(f"ITI-41 Provide and Register Document Set-b, profile {args.profile}: clients {args.clients}, "
          f"{length} per run; "
          f"ITI-43 {args.retrieve_seconds:g} s per run; {os.cpu_count()} CPUs")
    results, skipped = [], {}
    if args.blob_store == "s3":
        try:
            check_s3(args)
        except Unavailable as exc:
            print(f"skipped: {exc}")
            return 1
    for name in args.databases:
        tmp = Path(tempfile.mkdtemp(prefix="xdsgw-iti41-"))
        try:
            results.append(run_database(name, args, tmp))
        except Unavailable as exc:
            skipped[name] = str(exc)
            print(f"\n[{name}] skipped: {exc}")
        finally:
            if args.keep:
                print(f"  kept {tmp}")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
                if name == "postgresql" and name not in skipped:
                    drop_postgres_schema(args.postgres_url, args.pg_schema)
    table(results)

    document = {
        "benchmark": "ITI-41 Provide and Register Document Set-b and ITI-43 throughput over HTTP, server as a process",
        "timestamp_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "parameters": {
            "profile": args.profile, "clients": args.client_counts, "databases": args.databases,
            "seconds": args.seconds,
            "submissions": args.submissions, "retrieve_seconds": args.retrieve_seconds,
            "document_kb": args.document_kb, "patients": args.patients, "warmup": args.warmup,
            "server_threads": args.server_threads, "blob_store": args.blob_store,
            "s3_endpoint": args.s3_endpoint if args.blob_store == "s3" else None,
            "mime_type": MIME_TYPE, "documents_per_submission": 1,
        },
        "results": results,
        "skipped": skipped,
        "total_seconds": round(time.perf_counter() - began, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.output}")
    failed = any(r["errors"] for db in results for r in db["runs"]) or any(not db["rows_match"] for db in results)
    return 1 if failed or skipped else 0


if __name__ == "__main__":
    sys.exit(main())
