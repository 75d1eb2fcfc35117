"""The WSGI application: wires configuration, storage, services and transports together."""

from __future__ import annotations

import logging
from pathlib import Path

import flask

from .api import api_blueprint
from .api.auth import ApiAuth
from .api.tracing import EXTENSION as TRACES_EXTENSION
from .audit.recorder import TraceRecorder
from .audit.syslog import open_trace_sink
from .blobs import BlobStore, FileSystemBlobStore
from .access.pki import TrustStore, TrustStoreError, load_trust_store
from .config import Auth, BlobStoreKind, ConfigError, Profile, Settings
from .endpoints.authentication import no_authentication, vihf_authenticator
from .endpoints.registry_port import registry_operations
from .endpoints.repository_port import repository_operations
from .registry import DocumentRegistry
from .repository import DocumentRepository
from .repository.provide_and_register import DocumentCheck
from .validation.profile import IHE, MetadataProfile
from .registry.stored_queries import StoredQueryService
from .soap.endpoint import Authenticator, soap_blueprint
from .store.database import Database

log = logging.getLogger(__name__)

#: WSDLs ship beside the package (``wsdl/`` at the project root).
WSDL_DIR = Path(__file__).resolve().parent.parent / "wsdl"


def open_blob_store(settings: Settings) -> BlobStore:
    """The blob store the settings name: a folder (default) or an S3 bucket."""
    if settings.blob_store is BlobStoreKind.S3:
        from .blobs.s3 import S3BlobStore  # boto3 is loaded only when used

        return S3BlobStore(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region or None,
        )
    return FileSystemBlobStore(settings.documents_dir)


def _profile(settings: Settings, database: Database) -> tuple[MetadataProfile, DocumentCheck | None]:
    """The metadata rules and the per-document check of ``XDSGW_PROFILE``."""
    if settings.profile is Profile.IHE:
        return IHE, None
    from . import ci_sis

    return ci_sis.metadata_profile(), ci_sis.document_check(schema_path=settings.cda_schema or None)


def open_trust_store(settings: Settings) -> TrustStore | None:
    """The CA certificates VIHF signers must chain to; None (logged as an error) when there are none.

    A missing or empty folder lets the gateway start, refusing every
    request; a folder holding something else than CA certificates is a
    configuration error.
    """
    folder = settings.effective_trust_dir
    if not folder.is_dir() or not any(folder.glob("*.pem")):
        log.error(
            "the VIHF trust store %s holds no CA certificate (*.pem): every XDS.b request will be refused. "
            "Point XDSGW_TRUST_DIR at the CA certificates of the structures to trust, or, for a trial, "
            "make a demo PKI with `xds-gateway pki demo var/pki` and set XDSGW_TRUST_DIR=var/pki/trust",
            folder,
        )
        return None
    try:
        trust = load_trust_store(folder)
    except TrustStoreError as problem:
        raise ConfigError(f"XDSGW_TRUST_DIR: {problem}") from None
    log.info("VIHF trust store %s: %d CA certificate(s)", folder, len(trust.certificates))
    return trust


def authenticator(settings: Settings, recorder: TraceRecorder, trust: TrustStore | None) -> Authenticator:
    """The SOAP ports' ``authenticate`` hook for ``XDSGW_AUTH``; ``trust`` from :func:`open_trust_store`."""
    if settings.auth is Auth.NONE:
        log.warning("authentication is off (XDSGW_AUTH=none): for local trials only; "
                    "every XDS.b request is served without a VIHF")
        return no_authentication
    return vihf_authenticator(trust, recorder)


def create_app(
    settings: Settings, *, db: Database | None = None, blobs: BlobStore | None = None
) -> flask.Flask:
    """Build the application. The database must already be migrated (``xds-gateway db upgrade``)."""
    app = flask.Flask("gateway")
    app.config["SETTINGS"] = settings
    # The SOAP endpoint reads and bounds bodies itself; Flask must not buffer more.
    app.config["MAX_CONTENT_LENGTH"] = None
    database = db or Database(settings.effective_database_url, query_timeout_ms=settings.query_timeout_ms)
    app.extensions["xdsgw.db"] = database

    profile, document_check = _profile(settings, database)
    # Traces are written by the services; a copy of each committed one goes to the ATNA collector, if any.
    recorder = TraceRecorder(database, open_trace_sink(settings, destination=f"http://{settings.host}:{settings.port}"))
    app.extensions[TRACES_EXTENSION] = recorder
    registry = DocumentRegistry(database, patient_policy=settings.patient_policy, profile=profile, recorder=recorder)
    queries = StoredQueryService(database, max_results=settings.max_results, recorder=recorder)
    repository = DocumentRepository(
        registry, blobs or open_blob_store(settings), repository_unique_id=settings.repository_unique_id,
        document_check=document_check,
    )
    trust = open_trust_store(settings) if settings.auth is Auth.VIHF else None
    authenticate = authenticator(settings, recorder, trust)
    app.register_blueprint(
        soap_blueprint(
            "registry",
            "/xds/registry",
            registry_operations(registry, queries),
            WSDL_DIR / "XDS.b_DocumentRegistry.wsdl",
            max_bytes_getter=lambda: settings.max_request_bytes,
            authenticate=authenticate,
        )
    )
    app.register_blueprint(
        soap_blueprint(
            "repository",
            "/xds/repository",
            repository_operations(repository),
            WSDL_DIR / "XDS.b_DocumentRepository.wsdl",
            max_bytes_getter=lambda: settings.max_repository_request_bytes,
            large_documents=True,
            authenticate=authenticate,
        )
    )

    app.register_blueprint(api_blueprint(database, auth=ApiAuth.from_settings(settings, trust)))

    @app.get("/health")
    def health() -> flask.Response:
        return flask.jsonify(status="ok", database=database.current_revision())

    return app
