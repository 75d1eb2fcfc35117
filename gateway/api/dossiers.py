"""The dossier administration API: ``/api/dossiers`` (issue 6, "Dossiers"), described in ``openapi.json``.

A dossier is named in URLs by the patient's INS matricule (15 characters,
URL-safe as it is); its assigning authority, one of the four INS OIDs,
comes from the ``oid`` query parameter and defaults to the blueprint's
(INS-NIR, 1.2.250.1.213.1.4.8, unless configured otherwise). A creation
takes both in its body.

Every change is traced (``gateway.audit``) in the transaction that makes
it, and so is every change refused for a missing dossier or a conflicting
state; every read of a dossier is traced right after it (:func:`trace_read`).
The traces name the caller who signed in (:mod:`.auth`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import flask

from gateway.access.dossier import Authorization, DossierStatus
from gateway.audit import AccessTrace, Outcome, ins_key, split_key
from gateway.store.database import Database
from gateway.store.dossier_store import DossierExists, DossierRecord, DossierStore
from gateway.validation.ins import INS_OIDS, is_ins_oid, nir_format_problems

from .tracing import recorder
from .auth import current_actor, current_caller
from .problems import ApiProblem, problem_response

#: Transactions of the administration API, as traces name them.
CREATE, CLOSE, REOPEN, CHOICES, PROFESSIONAL = (
    "DOSSIER:create", "DOSSIER:close", "DOSSIER:reopen", "DOSSIER:choices", "DOSSIER:professional"
)
#: Reading a dossier (``GET /api/dossiers/{ins}``).
READ = "DOSSIER:read"
#: A professional id in a URL: the national id (``8`` + RPPS, ``0`` + ADELI, …) or a local one.
_PROFESSIONAL_ID_LENGTH = 64


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def patient_key_of(ins: str, oid: str | None, default_oid: str) -> str:
    """The dossier key of an INS matricule and OID as a request gives them; ApiProblem when invalid."""
    oid = oid or default_oid
    if not is_ins_oid(oid):
        known = ", ".join(f"{o} ({name})" for o, name in INS_OIDS.items())
        raise ApiProblem(400, "invalid-oid", f"oid '{oid}' is not an INS assigning authority; use one of {known}")
    problems = nir_format_problems(ins)
    if problems:
        raise ApiProblem(400, "invalid-ins", f"the INS '{ins}' {problems[0]}")
    return ins_key(ins, oid)


def trace_read(database: Database, key: str, transaction: str, *, object_ids: tuple[str, ...] = (),
               outcome: Outcome = Outcome.SUCCESS, error_code: str | None = None) -> None:
    """Trace a read of ``key``'s dossier or traces, right after it, in a transaction of its own.

    The read itself runs in a read-only session (snapshot, statement timeout);
    a read whose trace cannot be written raises here, and is not answered.
    """
    recorder().record(AccessTrace.of(current_actor(), transaction, patient_id=key,
                                     object_ids=object_ids, outcome=outcome, error_code=error_code))


def dossier_json(record: DossierRecord) -> dict[str, Any]:
    dossier = record.dossier
    matricule, oid = split_key(dossier.patient_id)
    ids = sorted({*dossier.authorizations, *dossier.blocked, *dossier.attending_doctors})
    return {
        "ins": matricule,
        "oid": oid,
        "patient_id": dossier.patient_id,
        "status": dossier.status.value,
        "choices": {
            "allow_break_the_glass": dossier.allow_break_the_glass,
            "allow_emergency_centre": dossier.allow_emergency_centre,
        },
        "professionals": [professional_json(record, i) for i in ids],
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }


def professional_json(record: DossierRecord, professional_id: str) -> dict[str, Any]:
    dossier = record.dossier
    return {
        "id": professional_id,
        "authorization": dossier.authorization_of(professional_id).value,
        "blocked": professional_id in dossier.blocked,
        "attending": professional_id in dossier.attending_doctors,
    }


def json_object(allowed: set[str]) -> dict[str, Any]:
    """The request's JSON object, with no member outside ``allowed``."""
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiProblem(400, "invalid-body", "the request body must be a JSON object (Content-Type: application/json)")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiProblem(400, "invalid-body", f"unknown member(s) {', '.join(unknown)}; "
                                              f"expected {', '.join(sorted(allowed))}")
    return body


def boolean(body: dict[str, Any], name: str, default: bool | None = None) -> bool | None:
    value = body.get(name, default)
    if value is not None and not isinstance(value, bool):
        raise ApiProblem(400, "invalid-body", f"'{name}' must be true or false, not {value!r}")
    return value


def add_dossier_routes(bp: flask.Blueprint, database: Database, default_oid: str) -> None:
    """The ``/api/dossiers`` endpoints, on ``bp``."""

    def key_from_path(ins: str) -> str:
        return patient_key_of(ins, flask.request.args.get("oid"), default_oid)

    def refuse(session, key: str, transaction: str, status: int, code: str, detail: str,
               object_ids: tuple[str, ...] = ()) -> flask.Response:
        # A refused request is traced like a done one, and committed: the
        # patient sees what was attempted on their dossier.
        recorder().append(session, AccessTrace.of(
            current_actor(), transaction, patient_id=key, object_ids=object_ids, outcome=Outcome.FAILURE,
            error_code=code,
        ))
        return problem_response(status, code, detail)

    def done(session, key: str, transaction: str, object_ids: tuple[str, ...] = ()) -> None:
        recorder().append(session, AccessTrace.of(current_actor(), transaction, patient_id=key,
                                                  object_ids=object_ids))

    def no_dossier(key: str) -> str:
        matricule, oid = split_key(key)
        if not current_caller().administrator:
            # A patient or their representative: opening a dossier is not theirs to do here.
            return f"no dossier for the INS {matricule} (oid {oid})"
        return f"no dossier for the INS {matricule} (oid {oid}); create it with POST /api/dossiers"

    @bp.post("/api/dossiers")
    def create_dossier():
        body = json_object({"ins", "oid", "allow_break_the_glass", "allow_emergency_centre"})
        ins = body.get("ins")
        if not isinstance(ins, str):
            raise ApiProblem(400, "invalid-body", "'ins' (the patient's 15-character INS matricule) is required")
        oid = body.get("oid")
        if oid is not None and not isinstance(oid, str):
            raise ApiProblem(400, "invalid-body", f"'oid' must be a string, not {oid!r}")
        key = patient_key_of(ins, oid, default_oid)
        choices = {name: boolean(body, name, True) for name in ("allow_break_the_glass", "allow_emergency_centre")}
        exists = f"the INS {ins} already has a dossier: one dossier per patient"
        with database.session() as session:
            store = DossierStore(session)
            if store.get_record(key) is not None:
                return refuse(session, key, CREATE, 409, "dossier-exists", exists)
            try:
                store.create(key, **choices)
            except DossierExists:
                # A concurrent creation won between the read above and the insert.
                return refuse(session, key, CREATE, 409, "dossier-exists", exists)
            record = store.get_record(key)
            done(session, key, CREATE)
        response = flask.jsonify(dossier_json(record))
        response.status_code = 201
        response.headers["Location"] = flask.url_for(".get_dossier", ins=ins, oid=split_key(key)[1])
        return response

    @bp.get("/api/dossiers/<ins>")
    def get_dossier(ins: str):
        key = key_from_path(ins)
        with database.session(read_only=True) as session:
            record = DossierStore(session).get_record(key)
        if record is None:
            trace_read(database, key, READ, outcome=Outcome.FAILURE, error_code="no-dossier")
            raise ApiProblem(404, "no-dossier", no_dossier(key))
        trace_read(database, key, READ)
        return flask.jsonify(dossier_json(record))

    def change_status(ins: str, transaction: str, wanted: DossierStatus):
        key = key_from_path(ins)
        with database.session() as session:
            store = DossierStore(session)
            record = store.get_record(key)
            if record is None:
                return refuse(session, key, transaction, 404, "no-dossier", no_dossier(key))
            if record.dossier.status is wanted:
                return refuse(session, key, transaction, 409, f"already-{wanted.value}",
                              f"the dossier of the INS {ins} is already {wanted.value}")
            store.set_status(key, wanted)
            record = store.get_record(key)
            done(session, key, transaction)
        return flask.jsonify(dossier_json(record))

    @bp.post("/api/dossiers/<ins>/close")
    def close_dossier(ins: str):
        return change_status(ins, CLOSE, DossierStatus.CLOSED)

    @bp.post("/api/dossiers/<ins>/reopen")
    def reopen_dossier(ins: str):
        return change_status(ins, REOPEN, DossierStatus.OPEN)

    def change(ins: str, transaction: str, apply: Callable[[DossierStore, str], None],
               answer: Callable[[DossierRecord], dict[str, Any]], object_ids: tuple[str, ...] = ()):
        key = key_from_path(ins)
        with database.session() as session:
            store = DossierStore(session)
            if store.get_record(key) is None:
                return refuse(session, key, transaction, 404, "no-dossier", no_dossier(key), object_ids)
            apply(store, key)
            record = store.get_record(key)
            done(session, key, transaction, object_ids)
        return flask.jsonify(answer(record))

    @bp.put("/api/dossiers/<ins>/choices")
    def set_choices(ins: str):
        names = ("allow_break_the_glass", "allow_emergency_centre")
        body = json_object(set(names))
        missing = [name for name in names if name not in body]
        if missing:
            raise ApiProblem(400, "invalid-body", f"missing {', '.join(missing)}: PUT replaces both choices")
        choices = {name: boolean(body, name) for name in names}
        return change(ins, CHOICES, lambda store, key: store.set_choices(key, **choices), dossier_json)

    @bp.put("/api/dossiers/<ins>/professionals/<professional_id>")
    def set_professional(ins: str, professional_id: str):
        if not professional_id.strip() or len(professional_id) > _PROFESSIONAL_ID_LENGTH:
            raise ApiProblem(400, "invalid-professional-id",
                             f"a professional id is 1 to {_PROFESSIONAL_ID_LENGTH} characters")
        body = json_object({"authorization", "blocked", "attending"})
        raw = body.get("authorization", Authorization.NON_EXISTE.value)
        try:
            authorization = Authorization(raw)
        except ValueError:
            allowed = ", ".join(a.value for a in Authorization)
            raise ApiProblem(400, "invalid-body", f"'authorization' {raw!r} is not one of {allowed}") from None
        blocked = boolean(body, "blocked", False)
        attending = boolean(body, "attending", False)

        def apply(store: DossierStore, key: str) -> None:
            store.set_professional(key, professional_id, authorization=authorization, blocked=blocked,
                                   attending=attending)

        return change(ins, PROFESSIONAL, apply, lambda record: professional_json(record, professional_id),
                      (professional_id,))
