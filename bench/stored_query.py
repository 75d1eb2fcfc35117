"""Benchmark: ITI-18 Registry Stored Query latency on a large synthetic registry, on SQLite and PostgreSQL.

A synthetic registry (``bench/synthetic.py``: by default 1 000 000 DocumentEntries of
100 000 patients, with their SubmissionSets, Folders, HasMember and RPLC associations
and French code distributions) is loaded once per database and kept: a SQLite file
under ``--data-dir`` (default ``/tmp/xdsgw-bench``) and the PostgreSQL schema
``bench_iti18`` (suffixed with the size for other sizes). A later run with the same
parameters (and the same migration head) reuses them; ``--reload`` forces a reload.

The load writes the rows the store itself would write (built by
``gateway.store.rows`` from model objects) straight into the migrated tables: the
secondary indexes (and, on PostgreSQL, the foreign keys) are dropped after
``Database.upgrade()`` and re-created after the load from the DDL the migration
created, so the final schema is exactly the migrated one. SQLite is loaded with
``executemany`` (journal off, synchronous off), PostgreSQL with ``COPY``; one
generation pass feeds both databases.

Then, for each database, ``--queries`` queries of each kind with randomly chosen
existing patients, documents and SubmissionSets, measured twice:

- in process: ``StoredQueryService.run`` (session, SQL, payload decoding);
- over HTTP: the real application served by waitress (``BackgroundServer``), one
  keep-alive client sending SOAP 1.2 AdhocQueryRequests built by
  ``adhoc_query_request`` before the clock starts, answer read inside the timing.

Usage::

    .venv/bin/python bench/stored_query.py [--database sqlite|postgresql|both]
        [--documents 1000000 --patients 100000] [--queries 1000] [--reload] [--load-only]

Nothing here asserts on time; it measures and reports.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import logging
import os
import pstats
import queue
import random
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from lxml import etree
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

import synthetic
from common import machine_info, no_auth_settings, percentile
from gateway.metadata import AvailabilityStatus, Code
from gateway.soap.client import request_envelope
from gateway.soap.namespaces import SOAP12
from gateway.store.database import Database
from gateway.store.schema import DocumentEntryCodeRow, DocumentEntryRow, SubmissionSetRow

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUTPUT = BENCH_DIR / "results" / "stored_query.json"
DEFAULT_DATA_DIR = Path("/tmp/xdsgw-bench")
POSTGRES_ENV = "XDSGW_TEST_DATABASE_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_iti18"

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
CONTENT_TYPE = f'application/soap+xml; charset=UTF-8; action="{ITI18}"'
QUERY_NS = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
RIM_NS = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
REQUEST_TIMEOUT_S = 120
#: Patients with at least this many documents make the "heavy patient" kind.
HEAVY = 50


# ======================================================================================
# Loading
# ======================================================================================


class Unavailable(Exception):
    """The database cannot be used for this run; the message says why."""


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


class Sink:
    """One database being loaded: the constructor migrates and drops the secondary indexes, ``write`` takes
    chunks of rows (in a thread of its own, fed by a queue), ``finish`` re-creates the indexes."""

    name = ""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.queue: queue.Queue = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def run_writer(self) -> None:
        """Thread body: write every chunk taken from the queue until None."""
        t0 = time.perf_counter()
        busy = 0.0
        while True:
            chunk = self.queue.get()
            if chunk is None:
                break
            if self.error is not None:
                continue  # drain, so that the producer never blocks
            try:
                t = time.perf_counter()
                self.write(chunk)
                busy += time.perf_counter() - t
            except BaseException as exc:  # reported by the main thread
                self.error = exc
        self.timings["rows_wall_s"] = time.perf_counter() - t0
        self.timings["rows_busy_s"] = busy

    def write(self, chunk: dict[str, list[tuple]]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError


class SqliteSink(Sink):
    name = "sqlite"

    def __init__(self, path: Path, analyze: bool) -> None:
        super().__init__()
        self.path = path
        self.analyze = analyze
        for suffix in ("", "-wal", "-shm", ".json"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        db = Database(f"sqlite:///{path}")
        db.upgrade()
        db.dispose()
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF", "cache_size=-1000000",
                       "temp_store=MEMORY"):
            self.conn.execute(f"PRAGMA {pragma}")
        # Every index the migration made that is not a primary key, to be re-created as is.
        self.indexes = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
        ).fetchall()
        for name, _ in self.indexes:
            self.conn.execute(f'DROP INDEX "{name}"')
        self.inserts = {
            table: f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            for table, columns in synthetic.COLUMNS.items()
        }
        self.timings["migrate_s"] = time.perf_counter() - t0

    def write(self, chunk: dict[str, list[tuple]]) -> None:
        conn = self.conn
        conn.execute("BEGIN")
        for table in synthetic.TABLE_ORDER:
            rows = chunk[table]
            if table in ("patients", "dossiers"):
                # As SQLAlchemy's SQLite DateTime stores it.
                rows = [tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v for v in r)
                        for r in rows]
            if rows:
                conn.executemany(self.inserts[table], rows)
        conn.execute("COMMIT")

    def finish(self) -> None:
        t0 = time.perf_counter()
        for _, sql in self.indexes:
            self.conn.execute(sql)
        self.timings["indexes_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if self.analyze:
            self.conn.execute("ANALYZE")
        self.timings["analyze_s"] = time.perf_counter() - t0
        # Back to what the gateway runs with (WAL is persistent in the file).
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.close()


class PostgresSink(Sink):
    name = "postgresql"

    def __init__(self, url: str, schema: str) -> None:
        super().__init__()
        import psycopg

        self.schema = schema
        t0 = time.perf_counter()
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()
        db = Database(url, schema=schema)
        db.upgrade()
        db.dispose()
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = psycopg.connect(conninfo, options=f"-csearch_path={schema}")
        cur = self.conn.cursor()
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '1GB'")
        # Non-constraint indexes and foreign keys, to re-create exactly as the migration made them.
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE connamespace = %s::regnamespace) ORDER BY indexname",
            (schema, schema),
        )
        self.indexes = cur.fetchall()
        cur.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND connamespace = %s::regnamespace ORDER BY conname",
            (schema,),
        )
        self.foreign_keys = cur.fetchall()
        for table, name, _ in self.foreign_keys:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in self.indexes:
            cur.execute(f'DROP INDEX "{name}"')
        self.conn.commit()
        self.copies = {
            table: f"COPY {table} ({', '.join(columns)}) FROM STDIN" for table, columns in synthetic.COLUMNS.items()
        }
        self.timings["migrate_s"] = time.perf_counter() - t0

    def write(self, chunk: dict[str, list[tuple]]) -> None:
        with self.conn.cursor() as cur:
            for table in synthetic.TABLE_ORDER:
                rows = chunk[table]
                if not rows:
                    continue
                with cur.copy(self.copies[table]) as copy:
                    for row in rows:
                        copy.write_row(row)
        self.conn.commit()

    def finish(self) -> None:
        cur = self.conn.cursor()
        t0 = time.perf_counter()
        for _, ddl in self.indexes:
            cur.execute(ddl)
        self.conn.commit()
        self.timings["indexes_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for table, name, definition in self.foreign_keys:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        self.conn.commit()
        self.timings["foreign_keys_s"] = time.perf_counter() - t0
        # The keys were given explicitly: move the sequences of the loaded tables past them (the others,
        # access_traces keyed by its chain sequence among them, are empty and may have no "id").
        for table in synthetic.TABLE_ORDER:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(max(id), 0) + 1, false) FROM {table}"
            )
        self.conn.commit()
        t0 = time.perf_counter()
        self.conn.autocommit = True
        # What autovacuum would have done by now: visibility map (index-only scans) and statistics.
        # This schema's tables only (search_path): other schemas of the database are not ours.
        cur.execute(f"VACUUM (ANALYZE) {', '.join(synthetic.COLUMNS)}")
        self.timings["vacuum_analyze_s"] = time.perf_counter() - t0
        self.conn.close()


def load(sinks: list[Sink], plan: synthetic.Plan) -> dict:
    """One generation pass feeding every sink; returns the generation figures."""
    maker = synthetic.RowMaker(plan)
    for sink in sinks:
        sink.thread = threading.Thread(target=sink.run_writer, name=f"load-{sink.name}", daemon=True)
        sink.thread.start()
    t0 = time.perf_counter()
    generate = 0.0
    done = 0
    last_report = t0
    chunks = maker.chunks()
    while True:
        t = time.perf_counter()
        chunk = next(chunks, None)
        generate += time.perf_counter() - t
        if chunk is None:
            break
        for sink in sinks:
            sink.queue.put(chunk)
        done += len(chunk["document_entries"])
        if time.perf_counter() - last_report > 15:
            last_report = time.perf_counter()
            rate = done / (last_report - t0)
            print(f"  … {done:,} documents written ({rate:,.0f}/s)", flush=True)
    for sink in sinks:
        sink.queue.put(None)
    for sink in sinks:
        sink.thread.join()
        if sink.error is not None:
            raise RuntimeError(f"loading {sink.name} failed: {sink.error!r}") from sink.error
    rows_wall = time.perf_counter() - t0
    # Index builds of the two databases overlap (SQLite in a thread here, PostgreSQL in its server).
    finishers = [threading.Thread(target=_finish, args=(sink,), name=f"finish-{sink.name}") for sink in sinks]
    for thread in finishers:
        thread.start()
    for thread in finishers:
        thread.join()
    for sink in sinks:
        if sink.error is not None:
            raise RuntimeError(f"indexing {sink.name} failed: {sink.error!r}") from sink.error
    return {"generation_s": generate, "rows_wall_s": rows_wall, "row_counts": dict(maker.counts)}


def _finish(sink: Sink) -> None:
    t0 = time.perf_counter()
    try:
        sink.finish()
    except BaseException as exc:
        sink.error = exc
    sink.timings["finish_s"] = time.perf_counter() - t0


# -- cached databases ----------------------------------------------------------------------


@dataclass
class Target:
    name: str
    db: Database
    server_version: str
    meta: dict = field(default_factory=dict)
    reused: bool = False


def sqlite_path(data_dir: Path, params: synthetic.Params) -> Path:
    return data_dir / f"iti18-{params.documents}-{params.patients}-s{params.seed}.sqlite3"


def cache_key(params: synthetic.Params, extra: dict | None = None) -> dict:
    # "dossiers": loads made before issue 6 wired the access decision lack them.
    return {"params": params.as_dict(), "migration_head": Database.head_revision(), "dossiers": True, **(extra or {})}


def sqlite_cached(path: Path, key: dict) -> dict | None:
    meta_path = Path(f"{path}.json")
    if not (path.exists() and meta_path.exists()):
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return meta if meta.get("key") == key else None


def postgres_server_version(url: str) -> str:
    shown = make_url(url).render_as_string(hide_password=True)
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SHOW server_version").scalar_one()
    except Exception as exc:  # whatever stops us connecting means: not usable
        raise Unavailable(f"PostgreSQL not reachable at {shown}: {str(exc).strip().splitlines()[0]}") from None
    finally:
        engine.dispose()


def postgres_cached(url: str, schema: str, key: dict) -> dict | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            comment = connection.execute(
                text("SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = :s"),
                {"s": schema},
            ).scalar()
    finally:
        engine.dispose()
    if not comment:
        return None
    try:
        meta = json.loads(comment)
    except ValueError:
        return None
    return meta if meta.get("key") == key else None


def postgres_write_meta(url: str, schema: str, meta: dict) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        literal = json.dumps(meta).replace("'", "''")
        connection.exec_driver_sql(f"COMMENT ON SCHEMA \"{schema}\" IS '{literal}'")
    engine.dispose()


def sqlite_set_statistics(path: Path, analyze: bool) -> None:
    """ANALYZE a reused SQLite file, or drop its statistics, as asked (cheap beside a reload)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        has = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone() is not None
        if analyze and not has:
            print("  ANALYZE …", flush=True)
            conn.execute("ANALYZE")
        elif not analyze and has:
            conn.execute("DROP TABLE sqlite_stat1")
            conn.execute("DROP TABLE IF EXISTS sqlite_stat4")
    finally:
        conn.close()


def prepare_targets(args, params: synthetic.Params) -> tuple[list[Target], dict[str, str], synthetic.Plan]:
    """The databases of this run, loaded if they are not already (one generation pass for all)."""
    skipped: dict[str, str] = {}
    wanted = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    key = cache_key(params)
    plan_t0 = time.perf_counter()
    plan = synthetic.make_plan(params)
    plan_s = time.perf_counter() - plan_t0
    sinks: list[Sink] = []
    metas: dict[str, dict | None] = {}
    versions: dict[str, str] = {}
    path = sqlite_path(args.data_dir, params)

    if "sqlite" in wanted:
        versions["sqlite"] = sqlite3.sqlite_version
        metas["sqlite"] = None if args.reload else sqlite_cached(path, key)
        if metas["sqlite"] is None:
            print(f"[sqlite] loading into {path}", flush=True)
            sinks.append(SqliteSink(path, analyze=args.sqlite_analyze))
        else:
            print(f"[sqlite] reusing {path} (loaded {metas['sqlite']['loaded_at']})", flush=True)
            sqlite_set_statistics(path, args.sqlite_analyze)
    if "postgresql" in wanted:
        try:
            versions["postgresql"] = postgres_server_version(args.postgres_url)
        except Unavailable as exc:
            skipped["postgresql"] = str(exc)
            print(f"[postgresql] skipped: {exc}", flush=True)
        else:
            metas["postgresql"] = None if args.reload else postgres_cached(args.postgres_url, args.pg_schema, key)
            if metas["postgresql"] is None:
                print(f"[postgresql] loading into schema {args.pg_schema}", flush=True)
                sinks.append(PostgresSink(args.postgres_url, args.pg_schema))
            else:
                print(f"[postgresql] reusing schema {args.pg_schema} (loaded {metas['postgresql']['loaded_at']})",
                      flush=True)

    if sinks:
        print(f"generating {params.documents:,} documents of {params.patients:,} patients "
              f"(plan {plan_s:.1f} s): {json.dumps(synthetic.describe(plan))}", flush=True)
        t0 = time.perf_counter()
        figures = load(sinks, plan)
        wall = time.perf_counter() - t0
        for sink in sinks:
            migrate = sink.timings.get("migrate_s", 0.0)
            total = migrate + plan_s + figures["rows_wall_s"] + sink.timings.get("finish_s", 0.0)
            meta = {
                "key": key,
                "loaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "load": {
                    "loaded_together_with": [s.name for s in sinks],
                    "plan_s": round(plan_s, 1),
                    "generation_s": round(figures["generation_s"], 1),
                    **{k: round(v, 1) for k, v in sink.timings.items()},
                    "rows_phase_wall_s": round(figures["rows_wall_s"], 1),
                    "total_s": round(total, 1),
                    "documents_per_s_rows_phase": round(params.documents / figures["rows_wall_s"]),
                    "documents_per_s_overall": round(params.documents / total),
                    "row_counts": figures["row_counts"],
                    "rows_total": sum(figures["row_counts"].values()),
                },
                "dataset": synthetic.describe(plan),
            }
            if isinstance(sink, SqliteSink):
                meta["sqlite_analyze"] = sink.analyze
                Path(f"{path}.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
            else:
                postgres_write_meta(args.postgres_url, args.pg_schema, meta)
            metas[sink.name] = meta
            print(f"[{sink.name}] loaded in {total:.0f} s: {json.dumps(meta['load'])}", flush=True)
        print(f"load wall time (all databases): {wall:.0f} s", flush=True)

    targets = []
    loaded = {sink.name for sink in sinks}
    for name in wanted:
        if name in skipped:
            continue
        if name == "sqlite":
            db = Database(f"sqlite:///{path}")
        else:
            db = Database(args.postgres_url, schema=args.pg_schema)
        targets.append(Target(name, db, versions[name], metas[name] or {}, reused=name not in loaded))
    return targets, skipped, plan


def database_size(target: Target) -> int:
    if target.name == "sqlite":
        database = target.db.url.database
        return sum(Path(f"{database}{s}").stat().st_size for s in ("", "-wal") if Path(f"{database}{s}").exists())
    with target.db.engine.connect() as connection:
        return int(connection.execute(text(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :s AND c.relkind = 'r'"), {"s": target.db.schema}).scalar_one())


def prewarm(target: Target) -> dict:
    """Read the database's files once, so that the OS page cache holds them (as on a warmed-up server).

    SQLite: the file. PostgreSQL: the files of every table, TOAST table and index of the
    schema, read from the data directory when this process can (local server, readable
    files); otherwise nothing is read and the answer says so.
    """
    t0 = time.perf_counter()
    paths: list[Path] = []
    if target.name == "sqlite":
        paths = [Path(target.db.url.database)]
    else:
        try:
            with target.db.engine.connect() as connection:
                data_dir = Path(connection.exec_driver_sql("SHOW data_directory").scalar_one())
                relations = connection.execute(text(
                    "WITH own AS (SELECT oid, reltoastrelid FROM pg_class WHERE relnamespace = CAST(:s AS regnamespace)),"
                    " toast AS (SELECT reltoastrelid AS oid FROM own WHERE reltoastrelid <> 0),"
                    " toast_index AS (SELECT indexrelid AS oid FROM pg_index WHERE indrelid IN (SELECT oid FROM toast))"
                    " SELECT pg_relation_filepath(oid) FROM (SELECT oid FROM own UNION SELECT oid FROM toast"
                    " UNION SELECT oid FROM toast_index) r"), {"s": target.db.schema}).scalars().all()
        except Exception as exc:  # not a superuser, or whatever: prewarming is optional
            return {"prewarmed": False, "why": str(exc).splitlines()[0]}
        for relation in relations:
            base = data_dir / relation
            if not base.exists():
                return {"prewarmed": False, "why": f"cannot see {base} (remote server?)"}
            paths.append(base)
            segment = 1  # files of 1 GiB: base, base.1, base.2, …
            while Path(f"{base}.{segment}").exists():
                paths.append(Path(f"{base}.{segment}"))
                segment += 1
    read = 0
    try:
        for path in paths:
            with open(path, "rb", buffering=0) as f:
                while chunk := f.read(16 * 2**20):
                    read += len(chunk)
    except OSError as exc:
        return {"prewarmed": False, "why": str(exc)}
    return {"prewarmed": True, "bytes": read, "seconds": round(time.perf_counter() - t0, 1)}


# ======================================================================================
# Queries
# ======================================================================================


@dataclass
class Kind:
    """One kind of query: its requests, each a serialised ``query:AdhocQueryRequest``.

    Kept as bytes (which the garbage collector does not scan) and turned into model
    objects one at a time, outside the timing: thousands of live query objects would
    make every full collection of the measured process slower than a server's.
    """

    name: str
    label: str
    requests: list[bytes] = field(default_factory=list)

    def add(self, query) -> None:
        from gateway.ebxml import adhoc_query_request

        self.requests.append(etree.tostring(adhoc_query_request(query)))

    def queries(self, requests: list[bytes] | None = None):
        """The stored queries, read back by the gateway's own reader, one at a time."""
        from gateway.ebxml import read_adhoc_query_request

        for request in self.requests if requests is None else requests:
            read = read_adhoc_query_request(etree.fromstring(request))
            if read.query is None:
                raise ValueError(f"{self.name}: the gateway does not read back its own request: {read.findings}")
            yield read.query


def _code(code: str, scheme: str) -> Code:
    return Code(code, scheme)


def build_queries(target: Target, doc_counts: list[int], submission_sets: int, count: int, seed: int) -> list[Kind]:
    """``count`` queries of each kind, on random existing patients, documents and SubmissionSets.

    Patients are drawn uniformly, except for ``find_heavy`` (patients with at least
    ``HEAVY`` documents) and ``get_documents_10`` (patients with at least 10, ten of
    their documents: LeafClass answers are for one patient only). The same seed gives
    the same queries on every database, whose content is identical.
    """
    from gateway.metadata.query import (
        FindDocuments,
        GetDocuments,
        GetSubmissionSetAndContents,
        ObjectIds,
        ReturnType,
        TimeRange,
    )

    rng = random.Random(seed)
    approved = [AvailabilityStatus.APPROVED]
    n_patients, n_documents = len(doc_counts), sum(doc_counts)
    cx = [synthetic.patient_cx(rng.randrange(n_patients)).format() for _ in range(count)]
    heavy_pool = [p for p, n in enumerate(doc_counts) if n >= HEAVY]
    heavy = [synthetic.patient_cx(rng.choice(heavy_pool)).format() for _ in range(count)] if heavy_pool else []
    ten_pool = [p for p, n in enumerate(doc_counts) if n >= 10]
    tens = [synthetic.patient_cx(rng.choice(ten_pool)).format() for _ in range(count)] if ten_pool else []

    D, C = DocumentEntryRow, DocumentEntryCodeRow

    def by_patient(session, patients, *columns, approved_only: bool) -> dict[str, list[tuple]]:
        found: dict[str, list[tuple]] = {}
        wanted = sorted(set(patients))
        for start in range(0, len(wanted), 500):
            query = select(D.patient_id, *columns).where(D.patient_id.in_(wanted[start:start + 500])).order_by(D.id)
            if approved_only:
                query = query.where(D.availability_status == "Approved")
            for row in session.execute(query):
                found.setdefault(row[0], []).append(tuple(row[1:]))
        return found

    with target.db.session(read_only=True) as session:
        # For each sampled patient, one Approved document's class, type and event codes.
        docs = by_patient(session, cx, D.id, D.class_code, D.class_scheme, D.type_code, D.type_scheme,
                          approved_only=True)
        chosen = {p: rng.choice(docs[p]) for p in sorted(docs)}
        events: dict[int, list[tuple[str, str]]] = {}
        ids = sorted(row[0] for row in chosen.values())
        for start in range(0, len(ids), 500):
            query = select(C.document_id, C.code, C.scheme).where(
                C.document_id.in_(ids[start:start + 500]), C.attribute == "eventCodeList").order_by(C.id)
            for document_id, code, scheme in session.execute(query):
                events.setdefault(document_id, []).append((code, scheme))
        ten_docs = by_patient(session, tens, D.entry_uuid, approved_only=False)
        # Random documents and SubmissionSets by key (keys are dense, 1..n).
        doc_keys = [rng.randrange(1, n_documents + 1) for _ in range(count)]
        ss_keys = [rng.randrange(1, submission_sets + 1) for _ in range(count)]
        uuid_of = dict(session.execute(select(D.id, D.entry_uuid).where(D.id.in_(sorted(set(doc_keys))))).all())
        ss_uuid = dict(session.execute(
            select(SubmissionSetRow.id, SubmissionSetRow.entry_uuid).where(SubmissionSetRow.id.in_(sorted(set(ss_keys))))
        ).all())

    popular = synthetic.EVENTS[:20]
    kinds = [
        Kind("find", "FindDocuments patient + Approved"),
        Kind("find_objectref", "FindDocuments patient + Approved, ObjectRef"),
        Kind("find_heavy", f"FindDocuments patient with ≥{HEAVY} documents + Approved"),
        Kind("find_class_type", "FindDocuments + classCode + typeCode"),
        Kind("find_creation_time", "FindDocuments + creationTime range (2 years)"),
        Kind("find_event_codes", "FindDocuments + eventCodeList (A or B) and C"),
        Kind("get_documents_1", "GetDocuments, 1 entryUUID"),
        Kind("get_documents_10", "GetDocuments, 10 entryUUIDs of one patient"),
        Kind("get_ss_and_contents", "GetSubmissionSetAndContents"),
    ]
    by = {k.name: k for k in kinds}
    span = synthetic.EPOCH_END - synthetic.EPOCH_START
    two_years = 2 * 365 * synthetic.DAY
    for i, patient in enumerate(cx):
        by["find"].add(FindDocuments(patient_id=patient, statuses=approved))
        by["find_objectref"].add(FindDocuments(patient_id=patient, statuses=approved, return_type=ReturnType.OBJECT_REF))
        if heavy:
            by["find_heavy"].add(FindDocuments(patient_id=heavy[i], statuses=approved))
        row = chosen.get(patient)
        if row is not None:
            _, class_code, class_scheme, type_code, type_scheme = row
            by["find_class_type"].add(FindDocuments(
                patient_id=patient, statuses=approved,
                class_codes=[_code(class_code, class_scheme)], type_codes=[_code(type_code, type_scheme)]))
        start = synthetic.EPOCH_START + rng.randrange(span - two_years)
        by["find_creation_time"].add(FindDocuments(
            patient_id=patient, statuses=approved,
            creation_time=TimeRange(synthetic.dtm(start), synthetic.dtm(start + two_years, 8))))
        own = events.get(row[0], []) if row is not None else []
        first = _code(*own[0]) if own else rng.choice(popular)
        other = rng.choice(synthetic.EVENTS)
        groups = [[first, Code(other.code, other.scheme)]]
        if len(own) >= 2:
            groups.append([_code(*own[1])])
        by["find_event_codes"].add(FindDocuments(patient_id=patient, statuses=approved, event_codes=groups))
        by["get_documents_1"].add(GetDocuments(documents=ObjectIds(uuids=(uuid_of[doc_keys[i]],))))
        if tens:
            ten = tuple(u for (u,) in rng.sample(ten_docs[tens[i]], 10))
            by["get_documents_10"].add(GetDocuments(documents=ObjectIds(uuids=ten)))
        by["get_ss_and_contents"].add(
            GetSubmissionSetAndContents(submission_set=ObjectIds(uuids=(ss_uuid[ss_keys[i]],))))
    return [k for k in kinds if k.requests]


# ======================================================================================
# Measuring
# ======================================================================================



def summary(latencies: list[float], counts: list[int], failures: list[str], timed_out: bool, label: str) -> dict:
    lat = sorted(latencies)
    n = len(lat)
    return {
        "label": label,
        "queries": n,
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "timed_out": timed_out,
        "latency_ms": {
            "p50": _ms(percentile(lat, 50)) if n else None,
            "p95": _ms(percentile(lat, 95)) if n else None,
            "p99": _ms(percentile(lat, 99)) if n else None,
            "mean": _ms(sum(lat) / n) if n else None,
            "max": _ms(lat[-1]) if n else None,
        },
        "results": {
            "mean": round(sum(counts) / len(counts), 2) if counts else None,
            "p50": round(percentile(sorted(counts), 50), 1) if counts else None,
            "p95": round(percentile(sorted(counts), 95), 1) if counts else None,
            "max": max(counts) if counts else None,
            "empty": sum(1 for c in counts if c == 0),
        },
    }


class GcWatch:
    """Counts the garbage collector's full (generation 2) collections and their pauses while active."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._t0 = 0.0

    def _callback(self, phase: str, info: dict) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._t0)

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self._callback)

    def report(self) -> dict:
        return {"full_collections": len(self.pauses), "total_ms": _ms(sum(self.pauses)),
                "max_ms": _ms(max(self.pauses)) if self.pauses else 0.0}


def gc_heap(freeze: bool) -> dict:
    """The objects a full collection scans now, and how long one takes; with ``freeze``, ``gc.freeze()`` first.

    ``--gc-freeze`` stands for a server that freezes its start-up heap: full
    collections then scan only what requests left behind.
    """
    gc.collect()
    if freeze:
        gc.freeze()
    t0 = time.perf_counter()
    gc.collect()
    return {"tracked_objects": len(gc.get_objects()), "frozen_objects": gc.get_freeze_count(),
            "full_collection_ms": _ms(time.perf_counter() - t0)}


def measure_in_process(service, kinds: list[Kind], warmup: int, deadline: float) -> dict:
    results = {}
    for kind in kinds:
        for query in kind.queries(kind.requests[-warmup:] if warmup else []):
            service.run(query)
        latencies, counts, failures = [], [], []
        timed_out = False
        with GcWatch() as watch:
            for query in kind.queries():
                if time.perf_counter() >= deadline:
                    timed_out = True
                    break
                t0 = time.perf_counter()
                outcome = service.run(query)
                latencies.append(time.perf_counter() - t0)
                counts.append(len(outcome.objects))
                if outcome.findings:
                    failures.append("; ".join(f"{f.code}: {f.message}" for f in outcome.findings))
                del outcome
        results[kind.name] = summary(latencies, counts, failures, timed_out, kind.label)
        results[kind.name]["gc"] = watch.report()
    return results


def envelope(body: etree._Element | bytes, to: str = "http://localhost/xds/registry") -> bytes:
    """The SOAP 1.2 request envelope a Document Consumer sends (``gateway.soap.client``)."""
    return request_envelope(ITI18, etree.fromstring(body) if isinstance(body, bytes) else body, to=to)[0]


def read_answer(status_code: int, content: bytes) -> tuple[int, str | None]:
    """(objects in the RegistryObjectList, problem or None) of an AdhocQueryResponse."""
    try:
        root = etree.fromstring(content)
    except etree.XMLSyntaxError as exc:
        return 0, f"HTTP {status_code}, not XML ({exc}): {content[:200]!r}"
    found = root.find(f".//{{{QUERY_NS}}}AdhocQueryResponse")
    if found is None:
        reason = root.findtext(f".//{{{SOAP12}}}Reason/{{{SOAP12}}}Text") or "no AdhocQueryResponse"
        return 0, f"HTTP {status_code}: {reason}"
    object_list = found.find(f"{{{RIM_NS}}}RegistryObjectList")
    count = len(object_list) if object_list is not None else 0
    if status_code != 200 or found.get("status") != SUCCESS:
        errors = [f"{e.get('errorCode')}: {e.get('codeContext')}" for e in found.iter("{*}RegistryError")]
        return count, f"HTTP {status_code}, status {found.get('status')}: " + "; ".join(errors)
    return count, None


def measure_http(target: Target, kinds: list[Kind], args, deadline: float, data_dir: Path) -> tuple[dict, dict]:
    import requests

    from gateway.config import Settings
    from gateway.serving import BackgroundServer

    bodies = {kind.name: [envelope(request) for request in kind.requests] for kind in kinds}
    settings = Settings(data_dir=data_dir, database_url=target.db.url.render_as_string(hide_password=False),
                        threads=args.server_threads, **no_auth_settings())
    server = BackgroundServer(settings, target.db)
    url = f"{server.base_url}/xds/registry"
    headers = {"Content-Type": CONTENT_TYPE}
    heap = gc_heap(args.gc_freeze)
    results = {}
    try:
        with requests.Session() as session:
            for kind in kinds:
                for body in bodies[kind.name][-args.warmup:] if args.warmup else []:
                    session.post(url, data=body, headers=headers, timeout=REQUEST_TIMEOUT_S).content
                latencies, counts, failures, answers = [], [], [], []
                timed_out = False
                with GcWatch() as watch:
                    for body in bodies[kind.name]:
                        if time.perf_counter() >= deadline:
                            timed_out = True
                            break
                        t0 = time.perf_counter()
                        try:
                            response = session.post(url, data=body, headers=headers, timeout=REQUEST_TIMEOUT_S)
                            content = response.content  # the whole answer, inside the timing
                            latencies.append(time.perf_counter() - t0)
                            answers.append((response.status_code, content))
                        except requests.RequestException as exc:
                            latencies.append(time.perf_counter() - t0)
                            failures.append(f"{type(exc).__name__}: {exc}")
                sizes = []
                for status_code, content in answers:  # checked after the clock
                    count, problem = read_answer(status_code, content)
                    counts.append(count)
                    sizes.append(len(content))
                    if problem:
                        failures.append(problem)
                answers.clear()
                result = summary(latencies, counts, failures, timed_out, kind.label)
                result["gc"] = watch.report()
                result["mean_response_bytes"] = round(sum(sizes) / len(sizes)) if sizes else None
                result["mean_request_bytes"] = round(sum(map(len, bodies[kind.name])) / len(bodies[kind.name]))
                results[kind.name] = result
    finally:
        server.stop()
    return results, heap


def profile_server(target: Target, kinds: list[Kind], names: list[str], data_dir: Path,
                   limit: int = 30) -> dict[str, str]:
    """cProfile of the server side of the named kinds: the real app through Flask's test client (no socket).

    Top functions by cumulative and by own time.
    """
    from gateway.app import create_app
    from gateway.config import Settings

    settings = Settings(data_dir=data_dir, database_url=target.db.url.render_as_string(hide_password=False),
                        **no_auth_settings())
    client = create_app(settings, db=target.db).test_client()
    headers = {"Content-Type": CONTENT_TYPE}
    out = {}
    for kind in kinds:
        if kind.name not in names:
            continue
        bodies = [envelope(request) for request in kind.requests]
        profiler = cProfile.Profile()
        profiler.enable()
        for body in bodies:
            client.post("/xds/registry", data=body, headers=headers).get_data()
        profiler.disable()
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer)
        stats.sort_stats("cumulative").print_stats(limit)
        stats.sort_stats("tottime").print_stats(limit)
        out[kind.name] = buffer.getvalue()
    return out


def breakdown(target: Target, kinds: list[Kind], max_results: int) -> dict:
    """Where the server's time goes for each Find kind, phase by phase, with the gateway's own functions.

    Per query: SOAP parsing and reading of the AdhocQueryRequest; the FindDocuments SELECT
    with the payload fetched as text (the database and driver); JSON parsing of the
    payloads; ``from_dict`` (the model objects); ``adhoc_query_response`` (the ebRIM
    tree); ``build_soap_response`` (the envelope, serialised). The SELECT is the one
    ``QueryStore.find_document_entries`` issues (``document_conditions``), the payload
    cast to text so that decoding can be timed apart.
    """
    from sqlalchemy import String, Text, cast, type_coerce

    from gateway.ebxml import adhoc_query_response, read_adhoc_query_request
    from gateway.soap.envelope import build_soap_response, parse_soap_request
    from gateway.store.query_store import document_conditions
    from gateway.store.serialize import from_dict

    D = DocumentEntryRow
    as_text = type_coerce(D.payload, String) if target.name == "sqlite" else cast(D.payload, Text)
    out = {}
    for kind in kinds:
        if not kind.name.startswith("find"):
            continue
        phases: dict[str, list[float]] = {k: [] for k in ("soap_and_query_read", "sql", "json_parse", "from_dict",
                                                         "ebrim_response", "soap_serialise", "total")}
        objects_total = 0
        for request in kind.requests:
            body = envelope(request)
            t0 = time.perf_counter()
            request = parse_soap_request(CONTENT_TYPE, body, max_bytes=64 * 2**20)
            read = read_adhoc_query_request(request.body)
            t1 = time.perf_counter()
            statement = (select(as_text).where(*document_conditions(read.query)).order_by(D.id)
                         .limit(max_results + 1))
            with target.db.session(read_only=True) as session:
                texts = session.scalars(statement).all()
            t2 = time.perf_counter()
            payloads = [json.loads(t) for t in texts]
            t3 = time.perf_counter()
            objects = [from_dict(p) for p in payloads]
            t4 = time.perf_counter()
            response = adhoc_query_response(objects, read.query.return_type, [])
            t5 = time.perf_counter()
            build_soap_response("urn:ihe:iti:2007:RegistryStoredQueryResponse", None, response)
            t6 = time.perf_counter()
            objects_total += len(objects)
            for name, value in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t6 - t0)):
                phases[name].append(value)
        n = len(kind.requests)
        out[kind.name] = {
            "queries": n,
            "mean_objects": round(objects_total / n, 2),
            "mean_ms": {name: _ms(sum(v) / n) for name, v in phases.items()},
            "p95_ms": {name: _ms(percentile(sorted(v), 95)) for name, v in phases.items()},
            "per_object_us": {name: round(sum(v) / max(objects_total, 1) * 1e6, 1) for name, v in phases.items()
                              if name in ("json_parse", "from_dict", "ebrim_response", "soap_serialise")},
        }
    return out


def print_breakdown(results: dict) -> None:
    print("  server-side phases, mean ms per query (per returned object, µs)")
    names = ("soap_and_query_read", "sql", "json_parse", "from_dict", "ebrim_response", "soap_serialise", "total")
    print(f"    {'kind':<20} {'objects':>7} " + " ".join(f"{n[:14]:>14}" for n in names))
    for kind, r in results.items():
        cells = []
        for name in names:
            per = r["per_object_us"].get(name)
            cells.append(f"{r['mean_ms'][name]:>6.2f}" + (f" ({per:>5.0f})" if per is not None else " " * 8))
        print(f"    {kind:<20} {r['mean_objects']:>7.1f} " + " ".join(cells))


def explain(target: Target, kinds: list[Kind], max_results: int) -> dict[str, str]:
    """The plan of the first FindDocuments of each Find kind, as the database chooses it."""
    from gateway.store.query_store import document_conditions

    D = DocumentEntryRow
    plans = {}
    with target.db.engine.connect() as connection:
        for kind in kinds:
            if not kind.name.startswith("find"):
                continue
            query = next(kind.queries())
            statement = select(D.payload).where(*document_conditions(query)).order_by(D.id).limit(max_results + 1)
            sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
            if target.name == "sqlite":
                rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
                plans[kind.name] = sql + "\n" + "\n".join(f"  {r[-1]}" for r in rows)
            else:
                rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").all()
                plans[kind.name] = sql + "\n" + "\n".join(r[0] for r in rows)
    return plans


# ======================================================================================
# Reporting and main
# ======================================================================================





def print_table(title: str, results: dict) -> None:
    print(f"  {title}")
    print(f"    {'kind':<22} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}   results mean/max  failures")
    for name, r in results.items():
        lat = r["latency_ms"]
        if not r["queries"]:
            print(f"    {name:<22} {0:>5}")
            continue
        print(f"    {name:<22} {r['queries']:>5} {lat['p50']:>8.2f} {lat['p95']:>8.2f} {lat['p99']:>8.2f} "
              f"{lat['max']:>8.1f}   {r['results']['mean']:>7.1f}/{r['results']['max']:<6} {r['failures']}"
              f"{'  TIMED OUT' if r['timed_out'] else ''}")
        if r["first_failure"]:
            print(f"      first failure: {r['first_failure'][:300]}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES_URL),
                        help=f"SQLAlchemy URL (default: ${POSTGRES_ENV} or {DEFAULT_POSTGRES_URL})")
    parser.add_argument("--pg-schema", default=None,
                        help=f"PostgreSQL schema holding the loaded registry, dropped and recreated when (re)loaded "
                             f"(default {PG_SCHEMA} for the default size, else {PG_SCHEMA}_<documents>_<patients>_s<seed>)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"where the SQLite registry files are kept between runs (default {DEFAULT_DATA_DIR})")
    parser.add_argument("--documents", type=int, default=1_000_000, help="DocumentEntries (default 1 000 000)")
    parser.add_argument("--patients", type=int, default=100_000, help="patients (default 100 000)")
    parser.add_argument("--seed", type=int, default=18, help="seed of the synthetic registry (default 18)")
    parser.add_argument("--reload", action="store_true", help="reload even when a loaded database matches")
    parser.add_argument("--load-only", action="store_true", help="load (or check) the databases, measure nothing")
    parser.add_argument("--sqlite-analyze", action="store_true",
                        help="run ANALYZE on the SQLite file (the gateway itself never does; default: no statistics)")
    parser.add_argument("--queries", type=int, default=1000, help="timed queries per kind and mode (default 1000)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed queries per kind first (default 20)")
    parser.add_argument("--query-seed", type=int, default=1, help="seed of the query sample (default 1)")
    parser.add_argument("--no-prewarm", action="store_true",
                        help="do not read the database files into the OS page cache before measuring")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.freeze() before measuring (what a server freezing its start-up heap would see)")
    parser.add_argument("--kinds", default="", help="comma-separated kinds to run (default: all)")
    parser.add_argument("--mode", choices=("in-process", "http", "both"), default="both")
    parser.add_argument("--max-results", type=int, default=None,
                        help="StoredQueryService max_results (default: the gateway's Settings default)")
    parser.add_argument("--server-threads", type=int, default=8, help="waitress worker threads (default 8)")
    parser.add_argument("--profile", default="",
                        help="comma-separated kinds whose server side (app via Flask's test client) is cProfiled")
    parser.add_argument("--explain", action="store_true", help="print the database's plan of each Find kind")
    parser.add_argument("--breakdown", action="store_true",
                        help="time the server-side phases of each Find kind (SQL, JSON, from_dict, ebRIM, SOAP)")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="time limit in seconds for the measurements (loading excluded; default 3600)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    args = parser.parse_args(argv)
    if args.documents < 1 or args.patients < 1 or args.documents < args.patients:
        parser.error("need --documents >= --patients >= 1")
    if args.queries < 1:
        parser.error("--queries must be at least 1")
    if args.pg_schema is None:
        default_size = (args.documents, args.patients, args.seed) == (1_000_000, 100_000, 18)
        args.pg_schema = PG_SCHEMA if default_size else f"{PG_SCHEMA}_{args.documents}_{args.patients}_s{args.seed}"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    began = time.perf_counter()
    params = synthetic.Params(documents=args.documents, patients=args.patients, seed=args.seed)
    targets, skipped, plan = prepare_targets(args, params)
    # Only this much of the plan is needed from here on; the rest would weigh on every full
    # garbage collection of the measured process (the server's own).
    dataset, doc_counts, submission_sets = synthetic.describe(plan), plan.doc_counts, plan.submission_sets
    del plan
    gc.collect()

    results = []
    timed_out = False
    failures = 0
    if not args.load_only:
        from gateway.config import Settings
        from gateway.registry.stored_queries import StoredQueryService

        max_results = args.max_results or Settings().max_results
        deadline = time.perf_counter() + args.timeout
        selected = {k for k in args.kinds.split(",") if k}
        kinds: list[Kind] = []
        for target in targets:
            print(f"\n[{target.name} {target.server_version}] "
                  f"{'reused' if target.reused else 'freshly loaded'}, {database_size(target) / 2**30:.2f} GiB",
                  flush=True)
            if not kinds:  # the databases hold the same registry: one sample serves them all
                t0 = time.perf_counter()
                kinds = build_queries(target, doc_counts, submission_sets, args.queries, args.query_seed)
                if selected:
                    kinds = [k for k in kinds if k.name in selected]
                print(f"  {sum(len(k.requests) for k in kinds)} queries sampled in {time.perf_counter() - t0:.1f} s")
                gc.collect()
            if not args.no_prewarm:
                warmed = prewarm(target)
                print(f"  prewarm: {warmed}", flush=True)
            else:
                warmed = {"prewarmed": False, "why": "--no-prewarm"}
            service = StoredQueryService(target.db, max_results=max_results)
            result = {"database": target.name, "server_version": target.server_version, "reused": target.reused,
                      "load": target.meta.get("load"), "size_bytes": database_size(target), "prewarm": warmed}
            if target.name == "sqlite":
                result["sqlite_analyze"] = args.sqlite_analyze
            if args.explain:
                result["explain"] = explain(target, kinds, max_results)
                for name, plan_text in result["explain"].items():
                    print(f"  -- plan of {name}:\n{plan_text}\n")
            if args.breakdown:
                result["breakdown"] = breakdown(target, kinds, max_results)
                print_breakdown(result["breakdown"])
            if args.mode in ("in-process", "both"):
                result["gc_heap_in_process"] = gc_heap(args.gc_freeze)
                result["in_process"] = measure_in_process(service, kinds, args.warmup, deadline)
                print_table("in process (StoredQueryService.run), ms", result["in_process"])
            if args.mode in ("http", "both"):
                result["http"], result["gc_heap_http"] = measure_http(target, kinds, args, deadline,
                                                                      args.data_dir / "http")
                print_table("over HTTP (SOAP 1.2, one client), ms", result["http"])
            if args.profile:
                profiles = profile_server(target, kinds, args.profile.split(","), args.data_dir / "http")
                for name, text_ in profiles.items():
                    print(f"  -- cProfile of the server side of {name}:\n{text_}")
            target.db.dispose()
            for mode in ("in_process", "http"):
                for r in result.get(mode, {}).values():
                    failures += r["failures"]
                    timed_out |= r["timed_out"]
            results.append(result)

    document = {
        "benchmark": "ITI-18 Registry Stored Query latency on a synthetic registry",
        "timestamp_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "parameters": {
            "synthetic": params.as_dict(),
            "databases": [t.name for t in targets],
            "queries_per_kind": args.queries,
            "warmup_per_kind": args.warmup,
            "query_seed": args.query_seed,
            "server_threads": args.server_threads,
            "timeout_seconds": args.timeout,
            "data_dir": str(args.data_dir),
            "postgres_schema": args.pg_schema,
            "sqlite_analyze": args.sqlite_analyze,
            "gc_freeze": args.gc_freeze,
        },
        "dataset": dataset,
        "results": results,
        "skipped": skipped,
        "total_seconds": round(time.perf_counter() - began, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.output}")
    if failures:
        return 1
    return 2 if timed_out else 0


if __name__ == "__main__":
    sys.exit(main())
