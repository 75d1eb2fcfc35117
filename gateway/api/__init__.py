"""The admin JSON API and the FHIR AuditEvent endpoint (issue 6), as one Flask blueprint.

- ``/api/dossiers…``: create, read, close and reopen dossiers, set the
  patient's choices and what the dossier says of a professional
  (:mod:`.dossiers`), and read the dossier's access traces (:mod:`.traces`);
- ``/fhir/AuditEvent``: the traces as FHIR R4 AuditEvents, IHE ITI-81 style;
- ``/api/openapi.json``: the OpenAPI 3.1 description of all of these (open
  to anyone: it describes, it gives nothing away).

Every other request signs in first (:mod:`.auth`): the administrator with
the bearer token ``XDSGW_ADMIN_TOKEN``, a patient or their legal
representative with their VIHF, to read their own dossier and traces. The
sign-in runs before any view; a refusal of a request whose URL names a
dossier is traced, committed whatever follows: a 403 (a caller known) in
that dossier, a 401 (nobody authenticated) without a patient, in the chain
for the auditors only, so that nobody can write into a patient's traces
without signing in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import flask

from gateway.audit import AccessTrace, Outcome
from gateway.endpoints.authentication import UNKNOWN_ACTOR
from gateway.store.database import Database
from .tracing import recorder
from gateway.validation.ins import INS_NIR

from .auth import WWW_AUTHENTICATE, ApiAuth, Caller, Forbidden, Unauthenticated
from .dossiers import CHOICES, CLOSE, CREATE, PROFESSIONAL, READ, REOPEN, add_dossier_routes, patient_key_of
from .problems import ApiProblem, FhirProblem, operation_outcome, problem_response
from .traces import AUDIT_EVENTS, TRACES, add_trace_routes, audit_event_patient, search_patient

OPENAPI = Path(__file__).resolve().parent / "openapi.json"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Access:
    """What sign-in needs to know of an endpoint."""

    #: The transaction its refusals are traced as.
    transaction: str
    #: The key of the dossier the request is about (may raise the request's 400/404); None: it names none.
    dossier: Callable[[], str | None] | None = None
    #: Whether the dossier is named by the URL (path or query): refusals are then traced in it.
    in_url: bool = True
    #: A patient may make this request about their own dossier.
    patient_may_read: bool = False
    #: Errors as FHIR OperationOutcomes rather than problem details.
    fhir: bool = False


def api_blueprint(
    database: Database,
    *,
    auth: ApiAuth | None = None,
    default_ins_oid: str = INS_NIR,
    source_name: str = "xds-gateway",
) -> flask.Blueprint:
    """The blueprint; ``default_ins_oid`` is the INS OID of URLs that give none (``?oid=``).

    ``auth`` signs callers in; None is a gateway without administrator nor
    trust store, where every request is refused (401).
    """
    auth = auth or ApiAuth()
    bp = flask.Blueprint("admin_api", __name__)
    add_dossier_routes(bp, database, default_ins_oid)
    add_trace_routes(bp, database, default_ins_oid, source_name)

    def path_dossier() -> str:
        return patient_key_of(flask.request.view_args["ins"], flask.request.args.get("oid"), default_ins_oid)

    def read_audit_event_dossier() -> str | None:
        return audit_event_patient(database, flask.request.view_args["id"])

    access = {
        "create_dossier": _Access(CREATE, in_url=False),
        "get_dossier": _Access(READ, path_dossier, patient_may_read=True),
        "close_dossier": _Access(CLOSE, path_dossier),
        "reopen_dossier": _Access(REOPEN, path_dossier),
        "set_choices": _Access(CHOICES, path_dossier),
        "set_professional": _Access(PROFESSIONAL, path_dossier),
        "list_traces": _Access(TRACES, path_dossier, patient_may_read=True),
        "search_audit_events": _Access(AUDIT_EVENTS, search_patient, patient_may_read=True, fhir=True),
        "read_audit_event": _Access(AUDIT_EVENTS, read_audit_event_dossier, in_url=False, patient_may_read=True,
                                    fhir=True),
    }

    def trace_refusal(actor, transaction: str, key: str | None, code: str) -> None:
        # In a session of its own, committed now: the answer is a refusal
        # whatever follows, and the patient (key) sees what was attempted.
        recorder().record(AccessTrace.of(actor, transaction, patient_id=key,
                                         outcome=Outcome.REFUSED, error_code=code))

    def lenient(dossier: Callable[[], str | None] | None) -> str | None:
        if dossier is None:
            return None
        try:
            return dossier()
        except (ApiProblem, FhirProblem):
            return None  # a malformed patient names no dossier

    def refusal(rule: _Access, status: int, code: str, detail: str) -> flask.Response:
        if rule.fhir:
            response = operation_outcome(status, "login" if status == 401 else "forbidden", detail)
        else:
            response = problem_response(status, code, detail)
        if status == 401:
            response.headers["WWW-Authenticate"] = WWW_AUTHENTICATE
        return response

    @bp.before_request
    def sign_in():
        endpoint = (flask.request.endpoint or "").partition(".")[2]
        if endpoint in ("", "openapi"):
            return None
        # An endpoint this table does not know is the administrator's alone.
        rule = access.get(endpoint) or _Access(f"API:{endpoint}", in_url=False,
                                               fhir=flask.request.path.startswith("/fhir/"))
        try:
            caller = auth.caller(flask.request)
        except Unauthenticated as refused:
            key = lenient(rule.dossier) if rule.in_url else None
            log.info("%s %s refused (401 %s): %s", flask.request.method, flask.request.path, refused.code,
                     refused.detail)
            if key is not None:
                # Filed under no patient: an unauthenticated request must not
                # write into a patient's traces (anyone could, at will). The
                # chain keeps it for the auditors.
                trace_refusal(UNKNOWN_ACTOR, rule.transaction, None, refused.code)
            return refusal(rule, 401, refused.code, refused.detail)

        named: list[str | None] = []

        def dossier() -> str | None:
            named.append(rule.dossier() if rule.dossier is not None else None)
            return named[-1]

        try:
            auth.authorize(caller, patient_may_read=rule.patient_may_read, dossier=dossier)
        except Forbidden as refused:
            key = named[-1] if named else (lenient(rule.dossier) if rule.in_url else None)
            log.info("%s %s refused to %s (403): %s", flask.request.method, flask.request.path, caller.actor.id,
                     refused.detail)
            if key is not None:
                trace_refusal(caller.actor, rule.transaction, key, refused.code)
            return refusal(rule, 403, refused.code, refused.detail)
        except ApiProblem as problem:
            return problem_response(problem.status, problem.code, problem.detail)
        except FhirProblem as problem:
            return operation_outcome(problem.status, problem.code, problem.diagnostics)
        flask.g.api_caller = caller
        return None

    @bp.get("/api/openapi.json")
    def openapi() -> flask.Response:
        return flask.Response(OPENAPI.read_bytes(), mimetype="application/json")

    @bp.errorhandler(ApiProblem)
    def on_problem(problem: ApiProblem) -> flask.Response:
        return problem_response(problem.status, problem.code, problem.detail)

    return bp


__all__ = ["ApiAuth", "Caller", "api_blueprint"]
