"""The admin JSON API and the FHIR AuditEvent endpoint (issue 6), as one Flask blueprint.

- ``/api/dossiers…``: create, read, close and reopen dossiers, set the
  patient's choices and what the dossier says of a professional
  (:mod:`.dossiers`), and read the dossier's access traces (:mod:`.traces`);
- ``/fhir/AuditEvent``: the traces as FHIR R4 AuditEvents, IHE ITI-81 style;
- ``/api/openapi.json``: the OpenAPI 3.1 description of all of these.

No authentication yet: the VIHF part of issue 6 adds it. Until then, serve
the gateway where only administrators reach ``/api`` and ``/fhir``.
"""

from __future__ import annotations

from pathlib import Path

import flask

from gateway.store.database import Database
from gateway.validation.ins import INS_NIR

from .dossiers import add_dossier_routes
from .problems import ApiProblem, problem_response
from .traces import add_trace_routes

OPENAPI = Path(__file__).resolve().parent / "openapi.json"


def api_blueprint(
    database: Database, *, default_ins_oid: str = INS_NIR, source_name: str = "xds-gateway"
) -> flask.Blueprint:
    """The blueprint; ``default_ins_oid`` is the INS OID of URLs that give none (``?oid=``)."""
    bp = flask.Blueprint("admin_api", __name__)
    add_dossier_routes(bp, database, default_ins_oid)
    add_trace_routes(bp, database, default_ins_oid, source_name)

    @bp.get("/api/openapi.json")
    def openapi() -> flask.Response:
        return flask.Response(OPENAPI.read_bytes(), mimetype="application/json")

    @bp.errorhandler(ApiProblem)
    def on_problem(problem: ApiProblem) -> flask.Response:
        return problem_response(problem.status, problem.code, problem.detail)

    return bp


__all__ = ["api_blueprint"]
