"""``xds-gateway``: serve the gateway, manage its database."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sqlalchemy.exc import OperationalError

from .config import ConfigError, Settings, load_settings

log = logging.getLogger("gateway")

#: A shorter grace period could sweep a submission's blobs before its metadata commits.
SAFE_GRACE_SECONDS = 300


def _database(settings: Settings):
    from .store.database import Database

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database(settings.effective_database_url, query_timeout_ms=settings.query_timeout_ms)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from .serving import serve_forever

    db = _database(settings)
    if db.is_empty():
        log.info("empty database at %s: applying migrations", _redacted(settings.effective_database_url))
        db.upgrade()
    elif db.current_revision() != db.head_revision():
        log.error(
            "the database is at revision %s, this gateway expects %s: run `xds-gateway db upgrade`",
            db.current_revision(), db.head_revision(),
        )
        return 1
    host = args.host or settings.host
    port = args.port or settings.port
    log.info("XDS.b registry at http://%s:%d/xds/registry (database %s, profile %s)",
             host, port, _redacted(settings.effective_database_url), settings.profile.value)
    log.info("XDS.b repository %s at http://%s:%d/xds/repository (documents in %s)",
             settings.repository_unique_id, host, port, _blob_store(settings).describe())
    serve_forever(settings, db, host=host, port=port)
    return 0


def _blob_store(settings: Settings):
    from .app import open_blob_store

    return open_blob_store(settings)


def cmd_blobs_sweep(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from .repository import sweep_orphan_blobs

    if args.older_than < 0:
        print("xds-gateway: --older-than must be zero or more seconds", file=sys.stderr)
        return 2
    if args.older_than < SAFE_GRACE_SECONDS and not args.force:
        print(f"xds-gateway: --older-than {args.older_than} could remove the blobs of a submission being "
              f"registered right now; use at least {SAFE_GRACE_SECONDS}, or add --force when no gateway "
              "is running on this store", file=sys.stderr)
        return 2
    blobs = _blob_store(settings)
    report = sweep_orphan_blobs(
        _database(settings), blobs, grace=timedelta(seconds=args.older_than), dry_run=args.dry_run
    )
    verb = "would remove" if args.dry_run else "removed"
    print(f"{blobs.describe()}: {report.examined} blobs, {report.referenced} referenced, "
          f"{verb} {len(report.removed)} orphans, {report.recent_orphans} recent orphans kept "
          f"(younger than {args.older_than} s), {report.incomplete_removed} interrupted writes removed")
    for key in report.removed:
        print(f"  {verb} {key}")
    return 0


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    db = _database(settings)
    db.upgrade()
    print(f"database {_redacted(settings.effective_database_url)} at revision {db.current_revision()}")
    return 0


def cmd_db_current(settings: Settings, args: argparse.Namespace) -> int:
    db = _database(settings)
    print(db.current_revision() or "(empty)")
    return 0


def cmd_valuesets(settings: Settings, args: argparse.Namespace) -> int:
    from .valuesets import commands

    if args.valuesets_command == "import":
        return commands.import_files(args.files, args.into)
    return commands.list_sets(args.folder)


def cmd_metadata_from_cda(settings: Settings, args: argparse.Namespace) -> int:
    """Print the DocumentEntry a CDA header implies, as ebRIM XML or JSON (CI-SIS mapping)."""
    import json

    from lxml import etree

    from .ci_sis import document_entry_from
    from .ebxml.rim_writer import registry_object_list
    from .store.serialize import to_dict
    from .validation.findings import has_errors

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"xds-gateway: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    schema = None
    if settings.cda_schema:
        from .cda import load_cda_schema

        schema = load_cda_schema(settings.cda_schema)
    entry, findings = document_entry_from(data, entry_id=args.id, schema=schema)
    for finding in findings:
        print(f"{finding.severity.name.lower()}: {finding.message}", file=sys.stderr)
    if entry is None or has_errors(findings):
        return 1
    if args.json:
        print(json.dumps(to_dict(entry), ensure_ascii=False, indent=2))
    else:
        print(etree.tostring(registry_object_list([entry]), pretty_print=True, encoding="unicode"), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xds-gateway", description="IHE XDS.b / MHD document gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the gateway (migrates an empty database first)")
    serve.add_argument("--host", help="listen address (default: XDSGW_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: XDSGW_PORT or 8080)")
    serve.set_defaults(func=cmd_serve)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations up to the latest").set_defaults(func=cmd_db_upgrade)
    db_sub.add_parser("current", help="print the database's migration revision").set_defaults(func=cmd_db_current)
    blobs = sub.add_parser("blobs", help="document storage maintenance")
    blobs_sub = blobs.add_subparsers(dest="blobs_command", required=True)
    sweep = blobs_sub.add_parser(
        "sweep", help="remove document blobs no registered document points at (left by interrupted submissions)"
    )
    sweep.add_argument("--older-than", type=int, default=3600, metavar="SECONDS",
                       help="only blobs written at least this long ago (default 3600: a submission in "
                            "progress has written its blobs but not yet committed its metadata)")
    sweep.add_argument("--dry-run", action="store_true", help="list the orphans, remove nothing")
    sweep.add_argument("--force", action="store_true",
                       help=f"allow --older-than below {SAFE_GRACE_SECONDS} (only when no gateway is running)")
    sweep.set_defaults(func=cmd_blobs_sweep)
    valuesets = sub.add_parser("valuesets", help="CI-SIS value sets and correspondence tables")
    vs_sub = valuesets.add_subparsers(dest="valuesets_command", required=True)
    vs_import = vs_sub.add_parser("import", help="refresh value sets from ANS SVS XML files")
    vs_import.add_argument("files", nargs="+", type=Path, metavar="FILE", help="SVS XML file (ITI-48 response)")
    vs_import.add_argument("--into", type=Path, metavar="DIR",
                           help="folder of compact files to update (default: the shipped profiles/ci-sis/valuesets)")
    vs_import.set_defaults(func=cmd_valuesets)
    vs_list = vs_sub.add_parser("list", help="list the value sets: name, OID, version, size")
    vs_list.add_argument("--from", dest="folder", type=Path, metavar="DIR",
                         help="folder to list (default: the shipped profiles/ci-sis/valuesets)")
    vs_list.set_defaults(func=cmd_valuesets)
    metadata = sub.add_parser("metadata", help="XDS metadata tools")
    metadata_sub = metadata.add_subparsers(dest="metadata_command", required=True)
    from_cda = metadata_sub.add_parser(
        "from-cda", help="print the DocumentEntry a CDA R2 document implies (CI-SIS header ⇄ metadata mapping)"
    )
    from_cda.add_argument("file", help="a CDA R2 document (plain, auto-présentable, or with a nonXMLBody)")
    from_cda.add_argument("--json", action="store_true", help="JSON instead of an ebRIM RegistryObjectList")
    from_cda.add_argument("--id", default="Document01", help="the DocumentEntry's symbolic id (default Document01)")
    from_cda.set_defaults(func=cmd_metadata_from_cda)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"xds-gateway: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic lists its plugins at INFO on every start; nobody needs that line.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        return args.func(settings, args)
    except OperationalError as exc:
        first_line = str(exc.orig or exc).strip().splitlines()[0]
        print(f"xds-gateway: cannot use the database {_redacted(settings.effective_database_url)}: {first_line}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
