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


def cmd_pki_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Write a demonstration PKI (test CA, structure certificate and key, trust store) for VIHF signatures."""
    from .access.pki import create_demo_pki

    try:
        pki = create_demo_pki(args.directory)
    except (FileExistsError, OSError) as exc:
        print(f"xds-gateway: {exc}", file=sys.stderr)
        return 1
    print(f"demo CA:               {pki.ca_certificate}")
    print(f"structure certificate: {pki.structure_certificate} ({pki.structure_subject})")
    print(f"structure key:         {pki.structure_key}")
    print(f"trust store:           {pki.trust_dir}  (XDSGW_TRUST_DIR={pki.trust_dir})")
    return 0


def _role(text: str):
    from .metadata import Code

    parts = text.split("^")
    if len(parts) != 3 or not parts[0] or not parts[2]:
        raise argparse.ArgumentTypeError(f"{text!r} is not CODE^DISPLAY^SYSTEM (e.g. 10^Médecin^1.2.250.1.71.1.2.7)")
    return Code(parts[0], parts[2], parts[1] or None)


def cmd_vihf_sign(settings: Settings, args: argparse.Namespace) -> int:
    """Print a signed VIHF (SAML 2.0 assertion) for the professional, structure, mode and patient given."""
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from lxml import etree

    from .access.model import AccessMode
    from .access.pki import subject_dn
    from .access.vihf import build_vihf, demo_actor, sign_vihf

    try:
        cert_pem, key_pem = Path(args.cert).read_bytes(), Path(args.key).read_bytes()
        issuer = subject_dn(x509.load_pem_x509_certificate(cert_pem))
    except OSError as exc:
        print(f"xds-gateway: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    except ValueError:
        print(f"xds-gateway: {args.cert} is not a PEM certificate", file=sys.stderr)
        return 2
    if args.valid_minutes < 1:
        print("xds-gateway: --valid-minutes must be at least 1", file=sys.stderr)
        return 2
    given = {
        "id": args.professional_id, "name": args.name, "roles": tuple(args.role) if args.role else None,
        "structure_id": args.structure_id, "activity_sector": args.sector,
        "access_mode": AccessMode(args.mode) if args.mode else None, "patient_id": args.patient,
        "software_name": args.software, "software_version": args.version, "software_approval": args.approval,
    }
    actor = demo_actor(**{name: value for name, value in given.items() if value is not None})
    now = datetime.now(timezone.utc)
    assertion = build_vihf(actor, issuer=issuer, issue_instant=now, not_before=now,
                           not_on_or_after=now + timedelta(minutes=args.valid_minutes), version=args.version_vihf)
    etree.indent(assertion)  # before signing: indenting a signed assertion would break its digest
    try:
        signed = sign_vihf(assertion, key_pem, cert_pem, algorithm=args.algorithm)
    except ValueError as exc:  # a key that is not PEM, or does not match
        print(f"xds-gateway: cannot sign with {args.key}: {exc}", file=sys.stderr)
        return 2
    print(etree.tostring(signed, encoding="unicode"))
    return 0


def _add_access_commands(sub) -> None:
    pki = sub.add_parser("pki", help="certificates for VIHF signatures")
    pki_sub = pki.add_subparsers(dest="pki_command", required=True)
    demo = pki_sub.add_parser("demo", help="write a test CA, a structure certificate and key, and a trust store "
                                           "(for tests and demos only)")
    demo.add_argument("directory", type=Path, help="folder to write ca.pem, structure.pem, structure.key, trust/")
    demo.set_defaults(func=cmd_pki_demo)
    vihf = sub.add_parser("vihf", help="VIHF (the DMP's SAML 2.0 identity assertion) tools")
    vihf_sub = vihf.add_subparsers(dest="vihf_command", required=True)
    sign = vihf_sub.add_parser("sign", help="print a signed VIHF; every attribute has a demo default")
    sign.add_argument("--cert", required=True, help="the structure certificate (PEM)")
    sign.add_argument("--key", required=True, help="its private key (PEM, unencrypted)")
    sign.add_argument("--professional-id", help="Subject NameID: the professional's national id (8 + RPPS)")
    sign.add_argument("--name", help="subject-id: the user's name")
    sign.add_argument("--role", action="append", type=_role, metavar="CODE^DISPLAY^SYSTEM",
                      help="a role, profession first then specialty (repeatable; default: general practitioner)")
    sign.add_argument("--structure-id", help="Identifiant_Structure")
    sign.add_argument("--sector", help="Secteur_Activite, as code^OID (e.g. SA07^1.2.250.1.71.4.2.4)")
    sign.add_argument("--mode", choices=["normal", "bris_de_glace", "centre_15"], help="access mode (purposeofuse)")
    sign.add_argument("--patient", help="resource-id: the patient's INS as CX (NIR^^^&OID&ISO^NH)")
    sign.add_argument("--software", help="LPS_Nom")
    sign.add_argument("--version", help="LPS_Version")
    sign.add_argument("--approval", help="LPS_ID_HOMOLOGATION_DMP")
    sign.add_argument("--valid-minutes", type=int, default=60, help="validity (NotOnOrAfter), default 60")
    sign.add_argument("--version-vihf", choices=["3.0", "4.0"], default="3.0", help="VIHF_Version (default 3.0)")
    sign.add_argument("--algorithm", choices=["rsa-sha256", "rsa-sha1"], default="rsa-sha256")
    sign.set_defaults(func=cmd_vihf_sign)


def cmd_traces_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Recompute the access traces' hash chain (issue 6); exit 1 naming each trace where it breaks."""
    from .store.trace_store import TraceStore

    db = _database(settings)
    if db.current_revision() != db.head_revision():
        print(f"xds-gateway: the database is at revision {db.current_revision() or '(empty)'}, this gateway "
              f"expects {db.head_revision()}: run `xds-gateway db upgrade`", file=sys.stderr)
        return 1
    # One snapshot: traces appended meanwhile are neither half-read nor taken for tampering.
    with db.session(read_only=True) as session:
        report = TraceStore(session).check()
    if report.problems:
        for problem in report.problems:
            print(problem)
        print(f"xds-gateway: the access traces were tampered with: {len(report.problems)} problem(s) "
              f"among {report.count} traces", file=sys.stderr)
        return 1
    print(f"access traces intact: {report.count} traces, hash chain verified")
    return 0


def _add_traces_commands(sub) -> None:
    traces = sub.add_parser("traces", help="access traces (who accessed which dossier)")
    traces_sub = traces.add_subparsers(dest="traces_command", required=True)
    traces_sub.add_parser(
        "verify", help="recompute the traces' hash chain: exit 1 naming each edited, deleted or moved trace"
    ).set_defaults(func=cmd_traces_verify)


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
    _add_access_commands(sub)
    _add_traces_commands(sub)
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
    except ConfigError as exc:
        print(f"xds-gateway: configuration error: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        first_line = str(exc.orig or exc).strip().splitlines()[0]
        print(f"xds-gateway: cannot use the database {_redacted(settings.effective_database_url)}: {first_line}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
