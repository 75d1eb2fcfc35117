"""A journal of the XDS.b requests a test sends, and the check that each left exactly its access trace (issue 6).

Every request the test clients post (:func:`tests.support.soap_client.send`,
which ``post``, ``post_raw`` and the repository client's ``retrieve`` go
through) is written to the running test's journal: the action, the VIHF it
carried (NameID and resource-id, read back from the envelope bytes), the
patient the request names, and how the gateway answered (HTTP status, SOAP
fault subcode, RegistryResponse status, first error). The integration
conftest starts a journal per test and, after the test body, compares it
with the access traces the gateway appended meanwhile
(:func:`check_traces`):

- a request answered with a ``wsse:`` fault (VIHF refused) leaves one
  ``refused`` trace of actor ``unknown``, no patient, the fault code as
  error code;
- a request answered with any other SOAP fault (not a SOAP envelope, too
  large, DTD, unknown action, …: refused before it became a transaction)
  or not answered at all (the gateway died) leaves none;
- every other answer leaves one trace: ``ITI-41``/``ITI-42``/``ITI-43``, or
  ``ITI-18:<query>`` (``ITI-18`` when the query could not be read), of the
  VIHF's NameID (``local`` when authentication is off), for the request's
  patient (:func:`expected_patient`), outcome ``success`` for Success and
  PartialSuccess, ``failure`` or ``refused`` for Failure, and the code of the
  response's first error (None on success).

Traces of the admin API (transactions not starting with ``ITI-``) are not
the journal's business and are ignored.

Requests that do not overlap in time are matched to the traces in sequence
order; requests sent concurrently (overlapping round trips) are matched to
the traces of their group as a multiset.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from lxml import etree

from gateway.audit.model import QUERY_IDS_BY_NAME, AccessTrace
from gateway.audit.patient import patient_key
from gateway.ebxml.namespaces import LCM, QUERY, RIM, RS, XDSB
from gateway.metadata.vocabulary import DocumentEntryScheme, SubmissionSetScheme
from gateway.soap.namespaces import SOAP12, WSA, WSSE

SAML2 = "urn:oasis:names:tc:SAML:2.0:assertion"
RESOURCE_ID = "urn:oasis:names:tc:xacml:2.0:resource:resource-id"

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ITI41 = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
ITI42 = "urn:ihe:iti:2007:RegisterDocumentSet-b"
ITI43 = "urn:ihe:iti:2007:RetrieveDocumentSet"
#: The transaction each request action is traced as (gateway/endpoints/authentication.py says the same).
TRANSACTIONS = {ITI18: "ITI-18", ITI41: "ITI-41", ITI42: "ITI-42", ITI43: "ITI-43"}
#: The body each request action expects.
_BODIES = {ITI18: "AdhocQueryRequest", ITI41: "ProvideAndRegisterDocumentSetRequest", ITI42: "SubmitObjectsRequest",
           ITI43: "RetrieveDocumentSetRequest"}
#: Stored query names by query id, lower case (the gateway compares ids case-insensitively).
QUERY_NAMES = {str(query_id).lower(): name for name, query_id in QUERY_IDS_BY_NAME.items()}
#: Stored query parameters naming the patient (ITI TF-2 §3.18.4.1.2.3.7).
PATIENT_PARAMETERS = ("$XDSDocumentEntryPatientId", "$XDSSubmissionSetPatientId", "$XDSFolderPatientId", "$patientId")
#: How far a trace's recorded_at may lie outside its request's round trip (clock reads, rounding to the µs).
TIME_SLACK = timedelta(milliseconds=50)

_TESTS_DIR = Path(__file__).resolve().parents[1]
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, load_dtd=False)


# -- the journal ------------------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One request as sent and answered."""

    number: int
    #: Where the test sent it from (file:line of the innermost test module frame).
    sent_from: str
    url: str
    started: float = 0.0  # time.monotonic()
    finished: float = 0.0
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    finished_at: datetime | None = None
    # -- the request
    action: str | None = None
    body_tag: str | None = None
    #: Why the envelope could not be read here (the gateway will have refused it too).
    unreadable: str | None = None
    query_id: str | None = None
    #: The gateway's own reader read the query (else the trace is named ``ITI-18`` alone).
    query_readable: bool | None = None
    return_type: str | None = None
    #: The patient the body names: the SubmissionSet's (ITI-41/42), the query's patient parameter (ITI-18).
    body_patient: str | None = None
    vihf_assertions: int = 0
    vihf_actor: str | None = None
    vihf_patient: str | None = None
    #: SubmissionSet uniqueId then DocumentEntry uniqueIds, as sent (ITI-41/42).
    deposited: tuple[str, ...] = ()
    # -- the answer
    transport_error: str | None = None
    http_status: int | None = None
    fault_code: str | None = None
    #: The fault subcode as (namespace, local name).
    fault_subcode: tuple[str | None, str] | None = None
    status: str | None = None
    #: (code, severity) of each RegistryError, in order.
    errors: list[tuple[str, str]] = field(default_factory=list)
    #: uniqueIds of the DocumentEntries (ITI-18 LeafClass) or documents (ITI-43) answered.
    answered_ids: tuple[str, ...] | None = None
    answer_problem: str | None = None

    def describe(self) -> str:
        what = TRANSACTIONS.get(self.action or "", self.action or "no action")
        if self.action == ITI18 and self.query_id:
            what += f" {QUERY_NAMES.get(self.query_id.lower(), self.query_id)}"
        elif self.body_tag and self.body_tag != _BODIES.get(self.action or "", self.body_tag):
            what += f" with body {self.body_tag}"
        if self.unreadable:
            what += " (not XML as sent)"
        if self.transport_error:
            answer = f"no answer ({self.transport_error})"
        elif self.fault_subcode:
            answer = f"HTTP {self.http_status} fault {self.fault_code} {self.fault_subcode[1]}"
        elif self.fault_code:
            answer = f"HTTP {self.http_status} fault {self.fault_code}"
        else:
            answer = f"HTTP {self.http_status} {self.status}"
            if self.errors:
                answer += " " + ",".join(code for code, _ in self.errors[:3])
        return f"request #{self.number} ({self.sent_from}: {what} to {self.url} → {answer})"


@dataclass
class Journal:
    test: str
    entries: list[Entry] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, entry_url: str) -> Entry:
        with self.lock:
            entry = Entry(len(self.entries) + 1, _sent_from(), entry_url)
            self.entries.append(entry)
            return entry


#: The running test's journal (a plain global, not a contextvar: requests sent from worker threads count too).
_current: Journal | None = None


def start(test: str) -> Journal:
    global _current
    _current = Journal(test)
    return _current


def stop() -> Journal | None:
    global _current
    journal, _current = _current, None
    return journal


def current() -> Journal | None:
    return _current


@contextmanager
def journaled(url: str, content_type: str, data: bytes) -> Iterator[Any]:
    """Journal the request ``data`` posted to ``url``; call the yielded function with the ``requests`` response."""
    journal = _current
    if journal is None:
        yield lambda response: None
        return
    entry = journal.add(url)
    _read_request(entry, content_type, data)
    entry.started = time.monotonic()
    entry.started_at = datetime.now(timezone.utc)
    try:
        yield lambda response: _read_answer(entry, response.status_code, response.headers.get("Content-Type", ""),
                                            response.content)
    except Exception as exc:
        entry.transport_error = type(exc).__name__
        raise
    finally:
        entry.finished = time.monotonic()
        entry.finished_at = datetime.now(timezone.utc)


def _sent_from() -> str:
    frame = sys._getframe(1)
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.name.startswith("test_") and _TESTS_DIR in path.parents:
            return f"{path.relative_to(_TESTS_DIR.parent)}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


# -- reading requests and answers ---------------------------------------------------------------------------------


def _params(content_type: str) -> dict[str, str]:
    params = {}
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        params[name.strip().lower()] = value.strip().strip('"')
    return params


def root_part(content_type: str, body: bytes) -> bytes:
    """The SOAP envelope of a plain or multipart/related (MTOM) message: the part named by ``start``, else the first."""
    if not content_type.lower().startswith("multipart/related"):
        return body
    params = _params(content_type)
    boundary = b"--" + params["boundary"].encode()
    start = params.get("start", "").strip("<>")
    parts = body.split(boundary)[1:]
    first = None
    for part in parts:
        if part.startswith(b"--"):
            break
        head, _, content = part.partition(b"\r\n\r\n")
        content = content[:-2] if content.endswith(b"\r\n") else content
        first = content if first is None else first
        for line in head.split(b"\r\n"):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-id" and value.strip().strip("<>") == start:
                return content
    if first is None:
        raise ValueError("no MIME part")
    return first


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _identifier(root: etree._Element, scheme: str) -> list[str]:
    return [el.get("value", "").strip() for el in root.iter(f"{{{RIM}}}ExternalIdentifier")
            if el.get("identificationScheme") == scheme]


def request_patient(body: etree._Element | None) -> str | None:
    """The patient an XDS.b request body names: its SubmissionSet's, or its stored query's patient parameter."""
    if body is None:
        return None
    for identifier in body.iter(f"{{{RIM}}}ExternalIdentifier"):
        if identifier.get("identificationScheme") == SubmissionSetScheme.PATIENT_ID:
            return (identifier.get("value") or "").strip() or None
    for slot in body.iter(f"{{{RIM}}}Slot"):
        if slot.get("name") in PATIENT_PARAMETERS:
            value = slot.findtext(f"{{{RIM}}}ValueList/{{{RIM}}}Value") or ""
            return value.strip().strip("'") or None
    return None


def _read_request(entry: Entry, content_type: str, data: bytes) -> None:
    try:
        envelope = etree.fromstring(root_part(content_type, bytes(data)), _PARSER)
    except Exception as exc:  # noqa: BLE001 - whatever it is, the gateway could not read it either
        entry.unreadable = f"{type(exc).__name__}: {exc}"
        entry.action = _params(content_type).get("action")
        return
    header = envelope.find(f"{{{SOAP12}}}Header")
    entry.action = _text(header.find(f"{{{WSA}}}Action")) if header is not None else None
    if header is not None:
        assertions = [a for s in header.iterfind(f"{{{WSSE}}}Security") for a in s.iterfind(f"{{{SAML2}}}Assertion")]
        entry.vihf_assertions = len(assertions)
        if assertions:
            entry.vihf_actor = _text(assertions[0].find(f"{{{SAML2}}}Subject/{{{SAML2}}}NameID"))
            for attribute in assertions[0].iter(f"{{{SAML2}}}Attribute"):
                if attribute.get("Name") == RESOURCE_ID:
                    entry.vihf_patient = _text(attribute.find(f"{{{SAML2}}}AttributeValue"))
    body = envelope.find(f"{{{SOAP12}}}Body")
    payload = body[0] if body is not None and len(body) else None
    if payload is None or not isinstance(payload.tag, str):
        return
    entry.body_tag = etree.QName(payload).localname
    if payload.tag in (f"{{{LCM}}}SubmitObjectsRequest", f"{{{XDSB}}}ProvideAndRegisterDocumentSetRequest"):
        entry.body_patient = request_patient(payload)
        entry.deposited = tuple(_identifier(payload, SubmissionSetScheme.UNIQUE_ID)[:1]) + tuple(
            value for extrinsic in payload.iter(f"{{{RIM}}}ExtrinsicObject")
            for value in _identifier(extrinsic, DocumentEntryScheme.UNIQUE_ID)
        )
    elif payload.tag == f"{{{QUERY}}}AdhocQueryRequest":
        option = payload.find(f"{{{QUERY}}}ResponseOption")
        entry.return_type = option.get("returnType") if option is not None else None
        adhoc = payload.find(f"{{{RIM}}}AdhocQuery")
        entry.query_id = (adhoc.get("id") or "").strip() or None if adhoc is not None else None
        if entry.action == ITI18:
            # Whether the gateway could read the query decides the trace's name (ITI-18 alone if not):
            # asked of the gateway's own reader. The name itself is derived from the id, above.
            from gateway.ebxml.adhoc_query import read_adhoc_query_request

            entry.query_readable = read_adhoc_query_request(payload).query is not None
        entry.body_patient = request_patient(payload)


def _read_answer(entry: Entry, status: int, content_type: str, content: bytes) -> None:
    entry.http_status = status
    try:
        envelope = etree.fromstring(root_part(content_type, content), _PARSER)
        body = envelope.find(f"{{{SOAP12}}}Body")
        payload = body[0]
        if payload.tag == f"{{{SOAP12}}}Fault":
            entry.fault_code = _text(payload.find(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value"))
            value = payload.find(f"{{{SOAP12}}}Code/{{{SOAP12}}}Subcode/{{{SOAP12}}}Value")
            if value is not None and value.text:
                prefix, _, local = value.text.strip().rpartition(":")
                entry.fault_subcode = (value.nsmap.get(prefix or None), local)
            return
        response = payload if payload.get("status") is not None else payload.find(f"{{{RS}}}RegistryResponse")
        entry.status = response.get("status", "").rsplit(":", 1)[-1] if response is not None else None
        entry.errors = [(e.get("errorCode", ""), e.get("severity", "").rsplit(":", 1)[-1])
                        for e in payload.iter(f"{{{RS}}}RegistryError")]
        if payload.tag == f"{{{XDSB}}}RetrieveDocumentSetResponse":
            entry.answered_ids = tuple(_text(d.find(f"{{{XDSB}}}DocumentUniqueId")) or ""
                                       for d in payload.iterfind(f"{{{XDSB}}}DocumentResponse"))
        elif payload.tag == f"{{{QUERY}}}AdhocQueryResponse" and entry.return_type == "LeafClass":
            listed = payload.find(f"{{{RIM}}}RegistryObjectList")
            entry.answered_ids = tuple(
                value for extrinsic in (listed.iterfind(f"{{{RIM}}}ExtrinsicObject") if listed is not None else ())
                for value in _identifier(extrinsic, DocumentEntryScheme.UNIQUE_ID)
            )
    except Exception as exc:  # noqa: BLE001 - an answer that is no SOAP envelope: said in the check
        entry.answer_problem = f"{type(exc).__name__}: {exc}"


# -- what each request must have left ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """The trace a request must have left."""

    entry: Entry
    transaction: str
    actor_id: str
    patient_key: str | None
    outcomes: frozenset[str]
    error_code: str | None
    #: Checked when known: the uniqueIds the trace must name, in order.
    object_ids: tuple[str, ...] | None = None

    def differences(self, trace: AccessTrace) -> list[str]:
        """What of ``trace`` is not what this request must have left (empty: it is its trace)."""
        found = []

        def compare(name: str, actual, expected) -> None:
            if actual != expected:
                found.append(f"{name} is {actual!r}, expected {expected!r}")

        compare("transaction", trace.transaction, self.transaction)
        compare("actor_id", trace.actor_id, self.actor_id)
        compare("patient_key", trace.patient_key, self.patient_key)
        if trace.outcome.value not in self.outcomes:
            found.append(f"outcome is {trace.outcome.value!r}, expected {' or '.join(sorted(self.outcomes))}")
        compare("error_code", trace.error_code, self.error_code)
        if self.object_ids is not None:
            compare("object_ids", tuple(trace.object_ids), self.object_ids)
        entry = self.entry
        if entry.finished_at is not None and not (
            entry.started_at - TIME_SLACK <= trace.recorded_at <= entry.finished_at + TIME_SLACK
        ):
            found.append(f"recorded_at {trace.recorded_at.isoformat()} is outside the request's round trip "
                         f"[{entry.started_at.isoformat()}, {entry.finished_at.isoformat()}]")
        return found


def _key(patient: str | None) -> str | None:
    if not patient:
        return None
    try:
        return patient_key(patient)
    except ValueError:
        return None


def expected_patient(entry: Entry) -> str | None:
    """The patient key a (not refused) request is traced for: the one its body names when the gateway could
    read it (SubmissionSet patient for ITI-41/42, patient parameter of a readable ITI-18 query), else the
    VIHF's resource-id; None when that is no patient id either."""
    body_counts = (
        (entry.action in (ITI41, ITI42) and entry.body_tag in ("SubmitObjectsRequest",
                                                                 "ProvideAndRegisterDocumentSetRequest"))
        or (entry.action == ITI18 and bool(entry.query_readable))
    )
    return _key(entry.body_patient if body_counts and entry.body_patient else entry.vihf_patient)


def expectation(entry: Entry) -> Expected | None:
    """The trace ``entry`` must have left, or None when it must have left none (refused before authentication,
    or not answered at all)."""
    if entry.transport_error or entry.http_status is None:
        return None
    if entry.fault_subcode is not None and entry.fault_subcode[0] == WSSE:
        # The VIHF was refused: nothing it says is believed.
        return Expected(entry, TRANSACTIONS.get(entry.action or "", entry.action or ""), "unknown", None,
                        frozenset({"refused"}), f"wsse:{entry.fault_subcode[1]}")
    if entry.fault_code is not None or entry.answer_problem is not None:
        return None
    transaction = TRANSACTIONS.get(entry.action or "", entry.action or "")
    if entry.action == ITI18 and entry.query_readable:
        transaction += ":" + QUERY_NAMES.get((entry.query_id or "").lower(), entry.query_id or "")
    succeeded = entry.status in ("Success", "PartialSuccess")
    first_error = next((code for code, severity in entry.errors if severity == "Error"), None)
    object_ids = None
    if succeeded and entry.action in (ITI41, ITI42):
        object_ids = entry.deposited
    elif entry.action in (ITI18, ITI43) and entry.answered_ids is not None:
        object_ids = entry.answered_ids
    return Expected(
        entry,
        transaction,
        # No VIHF and yet answered: the gateway runs with XDSGW_AUTH=none.
        entry.vihf_actor if entry.vihf_assertions else "local",
        expected_patient(entry),
        frozenset({"success"}) if succeeded else frozenset({"failure", "refused"}),
        None if succeeded else first_error,
        object_ids,
    )


# -- the check -----------------------------------------------------------------------------------------------------


@dataclass
class CheckReport:
    """What the checks of a session saw."""

    tests: int = 0
    requests: int = 0
    #: Requests matched with their one trace…
    traced: int = 0
    #: …of which VIHF refusals (wsse faults).
    refused_vihf: int = 0
    #: Requests that left no trace by design: SOAP faults before authentication (or an unknown action)…
    faults: int = 0
    #: …and requests never answered (the gateway died).
    unanswered: int = 0


def _describe_trace(trace: AccessTrace) -> str:
    return (f"trace {trace.sequence} ({trace.transaction}, actor {trace.actor_id}, patient {trace.patient_key}, "
            f"{trace.outcome.value}, {trace.error_code}, at {trace.recorded_at.isoformat()})")


def _groups(expected: list[Expected]) -> list[list[Expected]]:
    """The requests in order of sending, grouped where their round trips overlap (sent concurrently)."""
    groups: list[list[Expected]] = []
    end = float("-inf")
    for item in sorted(expected, key=lambda e: e.entry.started):
        if groups and item.entry.started < end:
            groups[-1].append(item)
            end = max(end, item.entry.finished)
        else:
            groups.append([item])
            end = item.entry.finished
    return groups


def _matching(expected: list[Expected], traces: list[AccessTrace]) -> dict[int, int]:
    """A maximum matching of requests to traces they agree with in every field (Kuhn's algorithm): {request: trace}."""
    fits = [[j for j, t in enumerate(traces) if not e.differences(t)] for e in expected]
    owner: dict[int, int] = {}

    def place(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or place(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    for i in range(len(expected)):
        place(i, set())
    return {i: j for j, i in owner.items()}


def check_traces(journal: Journal, traces: list[AccessTrace], report: CheckReport | None = None) -> list[str]:
    """Compare the journal with the ITI traces written during the test; the problems found (empty: all good).

    ``traces`` are every trace appended during the test, in sequence order; admin API ones are ignored.
    """
    actions = {e.action for e in journal.entries if e.action}
    traces = [t for t in traces if t.transaction.startswith("ITI-") or t.transaction in actions]
    expected = [x for e in journal.entries if (x := expectation(e)) is not None]
    if report is not None:
        report.tests += 1
        report.requests += len(journal.entries)
        report.traced += len(expected)
        report.refused_vihf += sum(1 for x in expected if x.error_code and x.error_code.startswith("wsse:"))
        unanswered = sum(1 for e in journal.entries if e.transport_error or e.http_status is None)
        report.unanswered += unanswered
        report.faults += len(journal.entries) - len(expected) - unanswered
    problems: list[str] = []
    if len(traces) != len(expected):
        problems.append(f"{len(expected)} request(s) should have left one access trace each, "
                        f"{len(traces)} trace(s) were written")
        matched = _matching(expected, traces)
        for i, item in enumerate(expected):
            if i not in matched:
                problems.append(f"no trace matches {item.entry.describe()}")
        used = set(matched.values())
        for j, trace in enumerate(traces):
            if j not in used:
                problems.append(f"{_describe_trace(trace)} matches no request of the test")
        if len(problems) == 1:
            problems.append("each request has a matching trace but the counts differ; requests: "
                            + "; ".join(e.describe() for e in journal.entries))
        return problems
    position = 0
    for group in _groups(expected):
        mine = traces[position:position + len(group)]
        position += len(group)
        if len(group) == 1:
            for difference in group[0].differences(mine[0]):
                problems.append(f"{group[0].entry.describe()}: {_describe_trace(mine[0])}: {difference}")
            continue
        matched = _matching(group, mine)
        for i, item in enumerate(group):
            if i not in matched:
                closest = min(mine, key=lambda t: len(item.differences(t)))
                problems.append(f"{item.entry.describe()} (sent concurrently with {len(group) - 1} other(s)): "
                                f"no trace of its group agrees; closest {_describe_trace(closest)}: "
                                + "; ".join(item.differences(closest)))
    return problems
