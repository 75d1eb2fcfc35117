"""The WSGI application: wires configuration, storage, services and transports together."""

from __future__ import annotations

import logging
from pathlib import Path

import flask

from .config import Settings
from .endpoints.registry_port import registry_operations
from .registry import DocumentRegistry
from .registry.stored_queries import StoredQueryService
from .soap.endpoint import soap_blueprint
from .store.database import Database

log = logging.getLogger(__name__)

#: WSDLs ship beside the package (``wsdl/`` at the project root).
WSDL_DIR = Path(__file__).resolve().parent.parent / "wsdl"


def create_app(settings: Settings, *, db: Database | None = None) -> flask.Flask:
    """Build the application. The database must already be migrated (``xds-gateway db upgrade``)."""
    app = flask.Flask("gateway")
    app.config["SETTINGS"] = settings
    # The SOAP endpoint reads and bounds bodies itself; Flask must not buffer more.
    app.config["MAX_CONTENT_LENGTH"] = None
    database = db or Database(settings.effective_database_url, query_timeout_ms=settings.query_timeout_ms)
    app.extensions["xdsgw.db"] = database

    registry = DocumentRegistry(database, patient_policy=settings.patient_policy)
    queries = StoredQueryService(database, max_results=settings.max_results)
    app.register_blueprint(
        soap_blueprint(
            "registry",
            "/xds/registry",
            registry_operations(registry, queries),
            WSDL_DIR / "XDS.b_DocumentRegistry.wsdl",
            max_bytes_getter=lambda: settings.max_request_bytes,
        )
    )

    @app.get("/health")
    def health() -> flask.Response:
        return flask.jsonify(status="ok", database=database.current_revision())

    return app
