"""Reading the access traces: ``GET /api/dossiers/{ins}/traces`` and FHIR ``/fhir/AuditEvent`` (issue 6).

The patient (or an auditor) reads who accessed their dossier, newest first,
filtered by period, actor and transaction, a page at a time; break-the-glass
accesses carry ``"break_the_glass": true`` and can be asked for alone.

``/fhir/AuditEvent`` serves the same traces as FHIR R4 AuditEvent resources
the way IHE ITI-81 "Retrieve ATNA Audit Event" (RESTful ATNA, ITI TF-2
§3.81.4.1.2) searches them: a ``searchset`` Bundle, the patient required,
``date`` with the ``ge``/``gt``/``le``/``lt`` prefixes (FHIR R4 §3.1.1.5.6
"date" search), ``subtype`` as a token, ``_count`` and ``_offset`` for
paging; and ``/fhir/AuditEvent/{id}`` reads one.

Reading traces is itself traced, right after the read and before the
answer leaves (the answer shows the accesses before it): ``DOSSIER:traces`` for the JSON list,
``DOSSIER:audit-events`` for the FHIR search and read, in the patient's
dossier, with the caller who signed in as actor.

What a patient or a legal representative reads leaves out every trace that
names a document hidden from them (:func:`hidden_documents`): the trace
whole, not only the id, since its time and its professional would betray
the document. *Choice*: the DMP keeps from the patient what concerns a
document hidden from them until it is made visible. The traces are left out
in SQL, so that totals and pages agree; a hidden trace read by its id is
answered as an id that does not exist. The administrator reads everything.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.access.decision import VISIBILITY_SYSTEM, visible
from gateway.audit import AccessTrace, patient_key, to_fhir_audit_event
from gateway.audit.chain import roles_json
from gateway.audit.fhir import IHE_EVENT_TYPE, LOCAL_EVENT_TYPE
from gateway.metadata.model import DocumentEntry
from gateway.metadata.vocabulary import AvailabilityStatus
from gateway.store.database import Database
from gateway.store.dossier_store import DossierStore
from gateway.store.schema import DocumentEntryCodeRow, DocumentEntryRow
from gateway.store.serialize import from_dict
from gateway.store.trace_store import TraceStore
from gateway.validation.ins import is_ins_oid

from .auth import Caller, current_caller
from .dossiers import iso, patient_key_of, trace_read
from .problems import ApiProblem, FhirProblem, fhir_response, operation_outcome

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
_MICROSECOND = timedelta(microseconds=1)
_DAY = timedelta(days=1)
#: Reading the traces: the JSON list (``GET /api/dossiers/{ins}/traces``) and the FHIR AuditEvents.
TRACES, AUDIT_EVENTS = "DOSSIER:traces", "DOSSIER:audit-events"


def trace_json(trace: AccessTrace) -> dict[str, Any]:
    return {
        "sequence": trace.sequence,
        "recorded_at": iso(trace.recorded_at),
        "transaction": trace.transaction,
        "actor": {"id": trace.actor_id, "name": trace.actor_name, "kind": trace.actor_kind,
                  "roles": roles_json(trace)},
        "structure_id": trace.structure_id,
        "software": {"name": trace.software_name, "version": trace.software_version,
                     "approval": trace.software_approval},
        "access_mode": trace.access_mode,
        "break_the_glass": trace.break_the_glass,
        "object_ids": list(trace.object_ids),
        "outcome": trace.outcome.value,
        "error_code": trace.error_code,
        "hash": trace.hash,
    }


def parse_time(value: str, name: str) -> tuple[datetime, bool]:
    """A date (``2025-03-12``) or date-time (``2025-03-12T13:30:00Z``, naive = UTC); whether it was a date."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=timezone.utc), True
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{name}' {value!r} is not a date (2025-03-12) nor a date-time "
                         "(2025-03-12T13:30:00Z)") from None
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return moment, False


def _integer(raw: str | None, name: str, default: int, low: int, high: int | None = None) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise ValueError(f"'{name}' must be an integer {bounds}, not {raw!r}")
    return value


def hidden_documents(session: Session, caller: Caller, key: str) -> frozenset[str]:
    """The uniqueIds of the documents of the patient ``key`` that ``caller`` may not see.

    None for the administrator. For anyone else (a patient, a legal
    representative: the only others served here), each document of the
    patient in the registry is judged by
    :func:`gateway.access.decision.visible`, on its newest version (a
    document made visible by an update is visible, with its past). Only
    documents carrying a DMP visibility code (TRE_A07, the codes
    ``visible`` reads for patients) are read: few per patient. A deleted
    document is judged on its codes, as if it were not deleted (*choice*:
    the traces of accesses to a document the patient saw stay theirs to read
    after its deletion, and a deletion does not reveal a hidden one).
    """
    if caller.administrator:
        return frozenset()
    marked = (
        select(DocumentEntryRow.unique_id)
        .join(DocumentEntryCodeRow, DocumentEntryCodeRow.document_id == DocumentEntryRow.id)
        .where(DocumentEntryRow.patient_id == key, DocumentEntryCodeRow.attribute == "confidentialityCode",
               DocumentEntryCodeRow.scheme == VISIBILITY_SYSTEM)
    )
    versions = session.execute(
        select(DocumentEntryRow.unique_id, DocumentEntryRow.payload)
        .where(DocumentEntryRow.patient_id == key, DocumentEntryRow.unique_id.in_(marked))
        .order_by(DocumentEntryRow.unique_id, DocumentEntryRow.version)
    )
    newest = {unique_id: payload for unique_id, payload in versions}  # versions ascending: the last wins
    if not newest:
        return frozenset()
    dossier = DossierStore(session).get(key)
    hidden = set()
    for unique_id, payload in newest.items():
        entry = from_dict(payload)
        if not isinstance(entry, DocumentEntry):
            continue
        if entry.availability_status is AvailabilityStatus.DELETED:
            entry = replace(entry, availability_status=AvailabilityStatus.APPROVED)
        if not visible(caller.actor, entry, dossier=dossier):
            hidden.add(unique_id)
    return frozenset(hidden)


def add_trace_routes(bp: flask.Blueprint, database: Database, default_oid: str, source_name: str) -> None:
    """``GET /api/dossiers/{ins}/traces`` and the FHIR AuditEvent search and read, on ``bp``."""

    @bp.get("/api/dossiers/<ins>/traces")
    def list_traces(ins: str):
        args = flask.request.args
        key = patient_key_of(ins, args.get("oid"), default_oid)
        try:
            since = parse_time(args["since"], "since")[0] if "since" in args else None
            until, until_is_date = parse_time(args["until"], "until") if "until" in args else (None, False)
            page = _integer(args.get("page"), "page", 1, 1)
            size = _integer(args.get("size"), "size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        except ValueError as exc:
            raise ApiProblem(400, "invalid-parameter", str(exc)) from None
        if until is not None and until_is_date:
            # A date as the end means "up to the end of that day".
            until += _DAY
        break_the_glass = args.get("break_the_glass")
        if break_the_glass not in (None, "true", "false"):
            raise ApiProblem(400, "invalid-parameter",
                             f"'break_the_glass' must be true or false, not {break_the_glass!r}")
        filters = {
            "since": since,
            "until": until,
            "actor_id": args.get("actor") or None,
            "transaction": args.get("transaction") or None,
            "break_the_glass": None if break_the_glass is None else break_the_glass == "true",
        }
        with database.session(read_only=True) as session:
            store = TraceStore(session)
            filters["exclude_object_ids"] = hidden_documents(session, current_caller(), key)
            total = store.count(key, **filters)
            traces = store.query(key, **filters, limit=size, offset=(page - 1) * size)
        trace_read(database, key, TRACES)
        return flask.jsonify({
            "patient_id": key,
            "page": page,
            "size": size,
            "total": total,
            "items": [trace_json(t) for t in traces],
        })

    @bp.get("/fhir/AuditEvent")
    def search_audit_events():
        try:
            return _search(database, source_name)
        except FhirProblem as problem:
            return operation_outcome(problem.status, problem.code, problem.diagnostics)

    @bp.get("/fhir/AuditEvent/<id>")
    def read_audit_event(id: str):  # noqa: A002 (the FHIR name, as the OpenAPI document spells it)
        with database.session(read_only=True) as session:
            trace = _stored(TraceStore(session), id)
            if (trace is not None and trace.patient_key is not None and trace.object_ids
                    and not hidden_documents(session, current_caller(), trace.patient_key).isdisjoint(
                        trace.object_ids)):
                trace = None  # hidden from this caller: answered as an id that does not exist, untraced alike
        if trace is None:
            return operation_outcome(404, "not-found", f"no AuditEvent with id {id!r}")
        if trace.patient_key is not None:
            trace_read(database, trace.patient_key, AUDIT_EVENTS, object_ids=(id,))
        return fhir_response(to_fhir_audit_event(trace, source_name=source_name))


def _stored(store: TraceStore, id: str) -> AccessTrace | None:  # noqa: A002
    return store.get(int(id)) if id.isdigit() and len(id) <= 18 else None


def audit_event_patient(database: Database, id: str) -> str | None:  # noqa: A002
    """The patient key of the AuditEvent ``id`` (None: the trace names no patient); FhirProblem 404 if none."""
    with database.session(read_only=True) as session:
        trace = _stored(TraceStore(session), id)
    if trace is None:
        raise FhirProblem(404, "not-found", f"no AuditEvent with id {id!r}")
    return trace.patient_key


def search_patient() -> str | None:
    """The patient key of the AuditEvent search being served; None unless it names exactly one patient.

    FhirProblem (400) when the one patient it names is malformed.
    """
    args = flask.request.args
    patients = args.getlist("patient") + args.getlist("patient.identifier")
    return _patient_key(patients[0]) if len(patients) == 1 else None


_SEARCH_PARAMETERS = {"patient", "patient.identifier", "date", "subtype", "_count", "_offset", "_format"}


def _search(database: Database, source_name: str) -> flask.Response:
    args = flask.request.args
    unknown = sorted(set(args) - _SEARCH_PARAMETERS)
    if unknown:
        raise FhirProblem(400, "not-supported", f"search parameter(s) not supported: {', '.join(unknown)}; "
                                                f"supported: {', '.join(sorted(_SEARCH_PARAMETERS))}")
    patients = args.getlist("patient") + args.getlist("patient.identifier")
    if len(patients) != 1:
        raise FhirProblem(400, "required", "give exactly one patient: patient=urn:oid:<INS OID>|<matricule> "
                                           "(or patient.identifier=…, or the CX matricule^^^&OID&ISO)")
    key = _patient_key(patients[0])
    since, until = _date_range(args.getlist("date"))
    transaction = _subtype(args.getlist("subtype"))
    try:
        count = _integer(args.get("_count"), "_count", DEFAULT_PAGE_SIZE, 0, MAX_PAGE_SIZE)
        offset = _integer(args.get("_offset"), "_offset", 0, 0)
    except ValueError as exc:
        raise FhirProblem(400, "invalid", str(exc)) from None
    filters: dict[str, Any] = {"since": since, "until": until, "transaction": transaction}
    with database.session(read_only=True) as session:
        store = TraceStore(session)
        filters["exclude_object_ids"] = hidden_documents(session, current_caller(), key)
        total = store.count(key, **filters)
        traces = store.query(key, **filters, limit=count, offset=offset) if count else []
    trace_read(database, key, AUDIT_EVENTS)
    base = flask.request.host_url.rstrip("/") + flask.url_for(".search_audit_events")
    params = [(k, v) for k, v in args.items(multi=True) if k not in ("_count", "_offset")]

    def page_url(at: int) -> str:
        return f"{base}?{urlencode([*params, ('_count', count), ('_offset', at)])}"

    links = [{"relation": "self", "url": page_url(offset)}]
    if count and offset + count < total:
        links.append({"relation": "next", "url": page_url(offset + count)})
    if count and offset > 0:
        links.append({"relation": "previous", "url": page_url(max(0, offset - count))})
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{t.sequence}",
                "resource": to_fhir_audit_event(t, source_name=source_name),
                "search": {"mode": "match"},
            }
            for t in traces
        ],
    }
    return fhir_response(bundle)


def _patient_key(value: str) -> str:
    """The patient of ``patient=``: a token ``system|value`` (system ``urn:oid:<INS OID>``) or a CX."""
    if "|" in value:
        system, _, matricule = value.partition("|")
        oid = system.removeprefix("urn:oid:")
        if not is_ins_oid(oid) or not matricule:
            raise FhirProblem(400, "invalid", f"patient {value!r}: expected urn:oid:<INS OID>|<matricule>, "
                                              "the INS OID being 1.2.250.1.213.1.4.8, .9, .10 or .11")
        value = f"{matricule}^^^&{oid}&ISO"
    try:
        return patient_key(value)
    except ValueError:
        raise FhirProblem(400, "invalid", f"patient {value!r}: expected urn:oid:<INS OID>|<matricule> "
                                          "or the CX matricule^^^&OID&ISO") from None


def _date_range(values: list[str]) -> tuple[datetime | None, datetime | None]:
    """``date`` parameters as [since, until): ge/gt/le/lt/eq prefixes, dates covering their whole day."""
    since: datetime | None = None
    until: datetime | None = None
    for raw in values:
        prefix, value = (raw[:2], raw[2:]) if raw[:2] in ("ge", "gt", "le", "lt", "eq") else ("eq", raw)
        try:
            moment, is_date = parse_time(value, "date")
        except ValueError as exc:
            raise FhirProblem(400, "invalid", str(exc)) from None
        # The instant just after the value's precision (a day, or a microsecond).
        after = moment + (_DAY if is_date else _MICROSECOND)
        low = {"ge": moment, "gt": after, "eq": moment}.get(prefix)
        high = {"le": after, "lt": moment, "eq": after}.get(prefix)
        if low is not None:
            since = low if since is None else max(since, low)
        if high is not None:
            until = high if until is None else min(until, high)
    return since, until


def _subtype(values: list[str]) -> str | None:
    """``subtype=urn:ihe:event-type-code|ITI-18`` (or ``ITI-18``): the transaction filter."""
    if not values:
        return None
    if len(values) > 1 or "," in values[0]:
        raise FhirProblem(400, "not-supported", "one subtype value at most")
    system, _, code = values[0].rpartition("|")
    if system not in ("", IHE_EVENT_TYPE, LOCAL_EVENT_TYPE) or not code:
        raise FhirProblem(400, "invalid", f"subtype {values[0]!r}: expected {IHE_EVENT_TYPE}|ITI-nn")
    return code
