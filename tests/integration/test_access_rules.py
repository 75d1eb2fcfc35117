"""Every access rule of ITI-18 and ITI-43 (gateway/access/decision.py), as a decision table over real HTTP.

Each test builds the same two dossiers through the running gateway (profile
IHE, VIHFs checked), then sets the row's dossier state in the database and
sends signed VIHFs:

patient P (PID-0001), dossier opened by DEMO's first deposit (``auto``: DEMO VALIDE)
  deposited by DEMO, authored by DEMO:  plain, invisible-patient (INVISIBLE_PATIENT),
                                        invisible-representatives (INVISIBLE_REPRESENTANTS_LEGAUX),
                                        deleted (then set Deleted in the database)
  deposited by AUTHOR, authored by AUTHOR: masked (MASQUE_PS)
  professionals: AUTHOR VALIDE, VALIDE_PS VALIDE, INTERDIT_PS INTERDIT, EXPIRE_PS EXPIRE,
                 STRANGER (never asked: NON_EXISTE), BLOCKED_PS VALIDE and blocked,
                 ATTENDING attending doctor (no authorization), BLOCKED_ATTENDING attending and blocked
patient Q (PID-0002), dossier opened by DEMO's deposit: other-patient
patient NOBODY (PID-0003): no dossier

Per row of :data:`CASES`: ITI-18 FindDocuments (Approved and Deleted asked
for, so that only the visibility rule can hide the deleted document),
GetDocuments by entryUUID, and ITI-43 of every document plus a uniqueId
never stored; each answer is checked exactly, with the one trace it left.
:data:`DEPOSITS` does the same for ITI-41.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace

import pytest
from lxml import etree

from gateway.access.model import AccessMode
from gateway.access.vihf import demo_actor
from gateway.audit.model import AccessTrace, Outcome
from gateway.audit.patient import patient_key
from gateway.ebxml import read_registry_object_list, submit_objects_request
from gateway.ebxml.adhoc_query import adhoc_query_request
from gateway.ebxml.provide_and_register import provide_and_register_request
from gateway.metadata import CX, HD, XCN, AssociationType, AvailabilityStatus, Code, Submission, SubmissionSetStatus
from gateway.metadata.query import (
    FindDocuments, GetDocuments, GetFoldersForDocument, GetRelatedDocuments, GetSubmissionSets, ObjectIds,
)
from gateway.metadata.repository import Document, DocumentReference, ProvideAndRegisterDocumentSet
from gateway.store.dossier_store import Authorization, DossierStatus, DossierStore
from gateway.store.registry_store import RegistryStore
from gateway.store.trace_store import TraceStore

from .. import factories as f
from ..support.soap_client import SoapResponse, demo_security, envelope, post, post_raw
from ..support.vihf import DemoIdentity
from .repository_client import ITI41, mtom_package, retrieve
from .xds import ITI42

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"

P, Q = f.PATIENT, f.OTHER_PATIENT
NOBODY = CX.of("PID-0003", f.AFFINITY_DOMAIN)

REGISTRY_ERROR = "XDSRegistryError"
MISMATCH = "XDSPatientIdDoesNotMatch"
NO_DOSSIER = "XDSUnknownPatientId"
UNKNOWN_DOCUMENT = "XDSDocumentUniqueIdError"

# -- who ------------------------------------------------------------------------------------

DEMO = demo_actor().id  # 899900000001
AUTHOR, VALIDE_PS, INTERDIT_PS, EXPIRE_PS = "899900000002", "899900000004", "899900000005", "899900000006"
STRANGER, BLOCKED_PS, ATTENDING, BLOCKED_ATTENDING = "899900000007", "899900000008", "899900000003", "899900000009"
REPRESENTATIVE = "REP-0001"

DOCTOR = demo_actor().roles
NON_PS = "1.2.250.1.213.1.1.4.6"  # TRE_A00-ProducteurDocNonPS
PATIENT_ROLE = (Code("PATIENT", NON_PS, "Patient"),)
REPRESENTATIVE_ROLE = (Code("REPRESENTANT_LEGAL", NON_PS, "Représentant légal"),)
AUTOMATE_ROLE = (Code("AUTOMATE", NON_PS, "Automate"),)

NORMAL, BRIS_DE_GLACE, CENTRE_15 = AccessMode.NORMAL, AccessMode.BREAK_THE_GLASS, AccessMode.EMERGENCY_CENTRE


@dataclass(frozen=True)
class Caller:
    """Who a VIHF names: NameID, roles (the first decides the kind), access mode, resource-id."""

    id: str
    roles: tuple[Code, ...] = DOCTOR
    mode: AccessMode = NORMAL
    patient: CX = P

    @property
    def kind(self) -> str:
        """The ActorKind the gateway derives from the first role (gateway/access/vihf.py ``_kind``)."""
        return {"PATIENT": "patient", "REPRESENTANT_LEGAL": "legal_representative",
                "AUTOMATE": "software"}.get(self.roles[0].code, "professional")

    def security(self) -> bytes:
        vihf = DemoIdentity.shared().assertion(
            id=self.id, roles=self.roles, access_mode=self.mode, patient_id=self.patient.format()
        )
        return demo_security(vihf)


def ps(professional: str, mode: AccessMode = NORMAL, *, patient: CX = P) -> Caller:
    return Caller(professional, DOCTOR, mode, patient)


PATIENT = Caller(P.id, PATIENT_ROLE)
LEGAL_REPRESENTATIVE = Caller(REPRESENTATIVE, REPRESENTATIVE_ROLE)

# -- what -----------------------------------------------------------------------------------

VISIBILITY = "1.2.250.1.213.1.1.4.13"
NORMAL_CONFIDENTIALITY = Code("N", "2.16.840.1.113883.5.25", "Normal")


@dataclass(frozen=True)
class Doc:
    name: str
    number: int
    patient: CX
    author: str
    visibility: tuple[str, ...] = ()

    @property
    def uid(self) -> str:
        return f"1.2.250.1.999.77.{self.number}"

    @property
    def content(self) -> bytes:
        return f"<document>{self.name}</document>".encode()

    def __repr__(self) -> str:
        return self.name


PLAIN = Doc("plain", 1, P, DEMO)
INVISIBLE_PATIENT = Doc("invisible-patient", 2, P, DEMO, ("INVISIBLE_PATIENT",))
INVISIBLE_REPRESENTATIVES = Doc("invisible-representatives", 3, P, DEMO, ("INVISIBLE_REPRESENTANTS_LEGAUX",))
DELETED = Doc("deleted", 4, P, DEMO)
MASKED = Doc("masked", 5, P, AUTHOR, ("MASQUE_PS",))
OF_OTHER_PATIENT = Doc("other-patient", 6, Q, DEMO)
NEVER_STORED = "1.2.250.1.999.77.99"

#: The deposits that build the dossiers, one ITI-41 each, by the documents' author.
DEPOSITED = [(PLAIN, INVISIBLE_PATIENT, INVISIBLE_REPRESENTATIVES, DELETED), (MASKED,), (OF_OTHER_PATIENT,)]
#: Every document, in the order ITI-43 and GetDocuments ask for them.
DOCUMENTS = [d for group in DEPOSITED for d in group]

#: What P's dossier says of each professional besides DEMO (VALIDE since the first deposit).
AUTHORIZATIONS = {AUTHOR: Authorization.VALIDE, VALIDE_PS: Authorization.VALIDE, INTERDIT_PS: Authorization.INTERDIT,
                  EXPIRE_PS: Authorization.EXPIRE, BLOCKED_PS: Authorization.VALIDE}
BLOCKED = (BLOCKED_PS, BLOCKED_ATTENDING)
ATTENDING_DOCTORS = (ATTENDING, BLOCKED_ATTENDING)

# What each kind of caller sees of P's documents once let in (Deleted: nobody).
PS_SEES = frozenset({PLAIN, INVISIBLE_PATIENT, INVISIBLE_REPRESENTATIVES})  # not MASQUE_PS
ALL_BUT_DELETED = PS_SEES | {MASKED}  # the attending doctor, MASKED's author
PATIENT_SEES = frozenset({PLAIN, MASKED, INVISIBLE_REPRESENTATIVES})
REPRESENTATIVE_SEES = frozenset({PLAIN, MASKED})


@dataclass(frozen=True)
class DossierState:
    """P's dossier as the row sets it (authorizations, blocks and attending doctors are always as above)."""

    closed: bool = False
    allow_break_the_glass: bool = True
    allow_emergency_centre: bool = True


OPEN = DossierState()
CLOSED = DossierState(closed=True)
NO_EMERGENCY = DossierState(allow_break_the_glass=False, allow_emergency_centre=False)
NO_BRIS_DE_GLACE = DossierState(allow_break_the_glass=False)
NO_CENTRE_15 = DossierState(allow_emergency_centre=False)

# -- the table ------------------------------------------------------------------------------

Expected = frozenset | str  # the documents answered, or the refusal's error code


@dataclass(frozen=True)
class Case:
    id: str
    caller: Caller
    query: Expected
    #: ITI-43's answer when it differs from ITI-18's (ITI-43 names no patient: the VIHF's is the one).
    retrieve: Expected | None = None
    dossier: DossierState = OPEN
    #: The trace's break_the_glass: access granted only by an emergency mode.
    break_the_glass: bool = False
    #: The query's $XDSDocumentEntryPatientId (default: the VIHF's).
    query_patient: CX | None = None
    marks: tuple = ()

    @property
    def expected_retrieve(self) -> Expected:
        return self.query if self.retrieve is None else self.retrieve

    @property
    def patient(self) -> CX:
        return self.query_patient or self.caller.patient

    def param(self):
        return pytest.param(self, id=self.id, marks=self.marks)


CASES = [
    # Authorizations, normal mode.
    Case("VALIDE, depositor and author of all but masked", ps(DEMO), PS_SEES),
    Case("VALIDE, other professional: no MASQUE_PS", ps(VALIDE_PS), PS_SEES),
    Case("VALIDE, author of the masked document sees it", ps(AUTHOR), ALL_BUT_DELETED),
    Case("INTERDIT refused", ps(INTERDIT_PS), REGISTRY_ERROR),
    Case("EXPIRE refused", ps(EXPIRE_PS), REGISTRY_ERROR),
    Case("NON_EXISTE refused", ps(STRANGER), REGISTRY_ERROR),
    Case("attending doctor, no authorization, sees MASQUE_PS", ps(ATTENDING), ALL_BUT_DELETED),
    # Blocked: never, whatever the authorization, mode or attending flag.
    Case("blocked, VALIDE, refused", ps(BLOCKED_PS), REGISTRY_ERROR),
    Case("blocked, VALIDE, bris de glace refused", ps(BLOCKED_PS, BRIS_DE_GLACE), REGISTRY_ERROR),
    Case("blocked, VALIDE, centre 15 refused", ps(BLOCKED_PS, CENTRE_15), REGISTRY_ERROR),
    Case("blocked attending doctor refused", ps(BLOCKED_ATTENDING), REGISTRY_ERROR),
    Case("INTERDIT, bris de glace refused", ps(INTERDIT_PS, BRIS_DE_GLACE), REGISTRY_ERROR),
    # Emergency modes: two separate choices of the patient.
    Case("NON_EXISTE, bris de glace allowed", ps(STRANGER, BRIS_DE_GLACE), PS_SEES, break_the_glass=True),
    Case("EXPIRE, bris de glace allowed", ps(EXPIRE_PS, BRIS_DE_GLACE), PS_SEES, break_the_glass=True),
    Case("NON_EXISTE, centre 15 allowed", ps(STRANGER, CENTRE_15), PS_SEES, break_the_glass=True),
    Case("bris de glace, patient objects to both", ps(STRANGER, BRIS_DE_GLACE), REGISTRY_ERROR,
         dossier=NO_EMERGENCY),
    Case("centre 15, patient objects to both", ps(STRANGER, CENTRE_15), REGISTRY_ERROR, dossier=NO_EMERGENCY),
    Case("bris de glace, patient objects to it only", ps(STRANGER, BRIS_DE_GLACE), REGISTRY_ERROR,
         dossier=NO_BRIS_DE_GLACE),
    Case("centre 15 allowed, patient objects to bris de glace only", ps(STRANGER, CENTRE_15), PS_SEES,
         dossier=NO_BRIS_DE_GLACE, break_the_glass=True),
    Case("centre 15, patient objects to it only", ps(STRANGER, CENTRE_15), REGISTRY_ERROR, dossier=NO_CENTRE_15),
    Case("bris de glace allowed, patient objects to centre 15 only", ps(STRANGER, BRIS_DE_GLACE), PS_SEES,
         dossier=NO_CENTRE_15, break_the_glass=True),
    # An emergency mode is not flagged when the access needed none, nor lifts MASQUE_PS.
    Case("VALIDE in bris de glace: not flagged", ps(VALIDE_PS, BRIS_DE_GLACE), PS_SEES),
    Case("attending doctor in centre 15: not flagged", ps(ATTENDING, CENTRE_15), ALL_BUT_DELETED),
    # Patient and legal representative: no authorization, their own visibility codes.
    Case("patient: no INVISIBLE_PATIENT, sees MASQUE_PS", PATIENT, PATIENT_SEES),
    Case("legal representative: neither INVISIBLE code", LEGAL_REPRESENTATIVE, REPRESENTATIVE_SEES),
    Case("patient in the VIHF of another patient", Caller(Q.id, PATIENT_ROLE), MISMATCH),
    # Closed dossier: nobody.
    Case("closed: VALIDE refused", ps(DEMO), REGISTRY_ERROR, dossier=CLOSED),
    Case("closed: attending doctor refused", ps(ATTENDING), REGISTRY_ERROR, dossier=CLOSED),
    Case("closed: bris de glace refused", ps(STRANGER, BRIS_DE_GLACE), REGISTRY_ERROR, dossier=CLOSED),
    Case("closed: patient refused", PATIENT, REGISTRY_ERROR, dossier=CLOSED),
    Case("closed: legal representative refused", LEGAL_REPRESENTATIVE, REGISTRY_ERROR, dossier=CLOSED),
    # Which patient.
    Case("no dossier", ps(DEMO, patient=NOBODY), NO_DOSSIER),
    Case("query for P with a VIHF naming Q; ITI-43 of P's documents as Q's: unknown", ps(DEMO, patient=Q),
         MISMATCH, query_patient=P, retrieve=frozenset({OF_OTHER_PATIENT})),
    # A signed VIHF of an automated process (first role AUTOMATE): the professionals' rules under its own id.
    Case("automated process without authorization", Caller("AUTOMATE-EAI-0001", AUTOMATE_ROLE), REGISTRY_ERROR),
    Case("automated process with the id of a VALIDE professional", Caller(DEMO, AUTOMATE_ROLE), PS_SEES),
]

# -- building the dossiers ------------------------------------------------------------------


def author(professional: str) -> f.Author:
    return f.author(person=XCN(id=professional, family_name=f"PS{professional[-2:]}", given_name="Test",
                               assigning_authority=HD("", "1.2.250.1.71.4.2.1", "ISO")))


def provided(documents: tuple[Doc, ...], set_number: int, *, depositor: str | None = None
             ) -> ProvideAndRegisterDocumentSet:
    """One SubmissionSet holding ``documents`` (all of one patient), authored by their author."""
    patient, by = documents[0].patient, author(depositor or documents[0].author)
    entries = [
        f.document_entry(
            f"Doc{d.number}", d.number, unique_id=d.uid, patient_id=d.patient, authors=[author(d.author)],
            confidentiality_codes=[NORMAL_CONFIDENTIALITY, *(Code(v, VISIBILITY, v) for v in d.visibility)],
            hash=None, size=None, repository_unique_id=None,
        )
        for d in documents
    ]
    submission = Submission(
        submission_sets=[f.submission_set(unique_id=f"1.2.250.1.999.78.{set_number}", patient_id=patient,
                                          authors=[by])],
        documents=entries,
        associations=[f.has_member(f"HasMember{d.number}", f.SS_ID, f"Doc{d.number}", SubmissionSetStatus.ORIGINAL)
                      for d in documents],
    )
    return ProvideAndRegisterDocumentSet(submission, [Document(f"Doc{d.number}", d.content) for d in documents])


def deposit(gw, request: ProvideAndRegisterDocumentSet, caller: Caller) -> SoapResponse:
    """ITI-41 (MTOM) with ``caller``'s VIHF."""
    body, attachments = provide_and_register_request(request, mtom=True)
    soap, _ = envelope(ITI41, body, to=gw.repository_url, security=caller.security())
    parts = [(content_id, "text/xml", bytes(data)) for content_id, data in attachments]
    return post_raw(gw.repository_url, *mtom_package(soap, parts, ITI41))


def set_up(gw, state: DossierState) -> dict[Doc, str]:
    """Both dossiers with their documents, P's in ``state``; the documents' entryUUIDs."""
    for number, documents in enumerate(DEPOSITED, 1):
        depositor = ps(documents[0].author, patient=documents[0].patient)
        response = deposit(gw, provided(documents, number), depositor)
        assert (response.status, response.errors) == ("Success", []), documents
    with gw.db.session() as session:
        registry = RegistryStore(session)
        found = registry.find_by_unique_ids(d.uid for d in DOCUMENTS)
        uuids = {d: found[d.uid][0].entry_uuid for d in DOCUMENTS}
        registry.set_status([uuids[DELETED]], AvailabilityStatus.DELETED)
        dossiers = DossierStore(session)
        p = P.format()
        for professional, authorization in AUTHORIZATIONS.items():
            dossiers.set_authorization(p, professional, authorization)
        for professional in BLOCKED:
            dossiers.block(p, professional)
        for professional in ATTENDING_DOCTORS:
            dossiers.set_attending(p, professional)
        dossiers.set_choices(p, allow_break_the_glass=state.allow_break_the_glass,
                             allow_emergency_centre=state.allow_emergency_centre)
        if state.closed:
            dossiers.set_status(p, DossierStatus.CLOSED)
    return uuids


# -- asking and reading ---------------------------------------------------------------------


def last_sequence(gw) -> int:
    with gw.db.session(read_only=True) as session:
        head = TraceStore(session).head()
    return head.sequence if head else 0


def only_new_trace(gw, before: int) -> AccessTrace:
    """The one trace the request left."""
    with gw.db.session(read_only=True) as session:
        store = TraceStore(session)
        assert store.head().sequence == before + 1, "exactly one trace per request"
        return store.get(before + 1)


def check_trace(trace: AccessTrace, *, transaction: str, caller: Caller, patient: CX, outcome: Outcome,
                error_code: str | None, object_ids: list[str], break_the_glass: bool) -> None:
    assert (trace.transaction, trace.actor_id, trace.actor_kind, trace.patient_key, trace.access_mode) == (
        transaction, caller.id, caller.kind, patient_key(patient.format()), caller.mode.value)
    assert (trace.outcome, trace.error_code, list(trace.object_ids)) == (outcome, error_code, object_ids)
    assert trace.break_the_glass is break_the_glass


def stored_query(gw, query, caller: Caller) -> SoapResponse:
    response = post(gw.registry_url, ITI18, adhoc_query_request(query), security=caller.security())
    assert response.http_status == 200
    return response


def found(response: SoapResponse) -> list[str]:
    """The uniqueIds of the DocumentEntries a stored query answered, in order."""
    read = read_registry_object_list(response.payload.find(f"{{{RIM}}}RegistryObjectList"))
    assert read.findings == []
    return [d.unique_id for d in read.submission.documents]


def in_order(documents: frozenset[Doc]) -> list[str]:
    return [d.uid for d in DOCUMENTS if d in documents]


def check_query_answer(response: SoapResponse, expected: Expected) -> list[str]:
    """The answer is ``expected``; the uniqueIds it returned (what its trace must name)."""
    if isinstance(expected, str):
        assert response.status == "Failure"
        assert response.error_codes == [expected]
        assert found(response) == []
        return []
    assert (response.status, response.errors) == ("Success", [])
    uids = found(response)
    assert sorted(uids) == sorted(in_order(expected))
    return uids


# -- ITI-18 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_find_documents(gateway, case: Case):
    set_up(gateway, case.dossier)
    before = last_sequence(gateway)

    response = stored_query(gateway, FindDocuments(
        patient_id=case.patient.format(), statuses=[AvailabilityStatus.APPROVED, AvailabilityStatus.DELETED],
    ), case.caller)

    returned = check_query_answer(response, case.query)
    refused = isinstance(case.query, str)
    check_trace(only_new_trace(gateway, before), transaction="ITI-18:FindDocuments", caller=case.caller,
                patient=case.patient, outcome=Outcome.REFUSED if refused else Outcome.SUCCESS,
                error_code=case.query if refused else None, object_ids=returned,
                break_the_glass=case.break_the_glass)


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_get_documents_by_uuid(gateway, case: Case):
    """GetDocuments names no patient: the VIHF's is the one (as for ITI-43); another patient's document is hidden."""
    uuids = set_up(gateway, case.dossier)
    before = last_sequence(gateway)

    response = stored_query(gateway, GetDocuments(documents=ObjectIds(uuids=tuple(uuids.values()))), case.caller)

    expected = case.expected_retrieve
    returned = check_query_answer(response, expected)
    refused = isinstance(expected, str)
    check_trace(only_new_trace(gateway, before), transaction="ITI-18:GetDocuments", caller=case.caller,
                patient=case.caller.patient, outcome=Outcome.REFUSED if refused else Outcome.SUCCESS,
                error_code=expected if refused else None, object_ids=returned,
                break_the_glass=case.break_the_glass)


@pytest.mark.parametrize("case", [c.param() for c in CASES if not isinstance(c.expected_retrieve, str)])
def test_get_documents_answers_a_hidden_document_as_an_unknown_one(gateway, case: Case):
    uuids = set_up(gateway, case.dossier)
    unknown = stored_query(gateway, GetDocuments(documents=ObjectIds(uuids=(f"urn:uuid:{uuid.uuid4()}",))),
                           case.caller)
    assert (unknown.status, unknown.errors, found(unknown)) == ("Success", [], [])
    canonical = etree.tostring(unknown.payload, method="c14n")
    hidden = [d for d in DOCUMENTS if d not in case.expected_retrieve]
    assert DELETED in hidden

    for document in hidden:
        response = stored_query(gateway, GetDocuments(documents=ObjectIds(uuids=(uuids[document],))), case.caller)
        assert etree.tostring(response.payload, method="c14n") == canonical, document


# -- ITI-43 ---------------------------------------------------------------------------------


def reference(gw, unique_id: str) -> DocumentReference:
    return DocumentReference(gw.settings.repository_unique_id, unique_id)


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_retrieve(gateway, case: Case):
    set_up(gateway, case.dossier)
    before = last_sequence(gateway)
    asked = [*(d.uid for d in DOCUMENTS), NEVER_STORED]

    answer = retrieve(gateway.repository_url, [reference(gateway, uid) for uid in asked],
                      security=case.caller.security())

    expected = case.expected_retrieve
    assert answer.http_status == 200
    if isinstance(expected, str):
        assert (answer.status, answer.error_codes, answer.documents) == ("Failure", [expected], [])
        check_trace(only_new_trace(gateway, before), transaction="ITI-43", caller=case.caller,
                    patient=case.caller.patient, outcome=Outcome.REFUSED, error_code=expected, object_ids=[],
                    break_the_glass=False)
        return
    delivered = in_order(expected)
    by_uid = {d.uid: d for d in DOCUMENTS}
    assert answer.documents == [(reference(gateway, uid), "text/xml", by_uid[uid].content) for uid in delivered]
    assert answer.status == ("PartialSuccess" if delivered else "Failure")
    # Every uniqueId not delivered, hidden or never stored, gets the same error as the one never stored.
    errors = {e.location: e for e in answer.errors}
    assert [e.location for e in answer.errors] == [uid for uid in asked if uid not in delivered]
    never = errors[NEVER_STORED]
    assert never.code == UNKNOWN_DOCUMENT and f"'{NEVER_STORED}'" in never.message
    for uid in errors:
        assert errors[uid] == replace(never, message=never.message.replace(NEVER_STORED, uid), location=uid)
    check_trace(only_new_trace(gateway, before), transaction="ITI-43", caller=case.caller,
                patient=case.caller.patient, outcome=Outcome.SUCCESS if delivered else Outcome.FAILURE,
                error_code=None if delivered else UNKNOWN_DOCUMENT, object_ids=delivered,
                break_the_glass=case.break_the_glass)


# -- ITI-41 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deposit:
    id: str
    caller: Caller
    #: None: stored; else the refusal's code.
    refusal: str | None = None
    dossier: DossierState = OPEN
    marks: tuple = field(default=())

    def param(self):
        return pytest.param(self, id=self.id, marks=self.marks)


DEPOSITS = [
    Deposit("VALIDE", ps(VALIDE_PS)),
    Deposit("NON_EXISTE", ps(STRANGER)),
    Deposit("EXPIRE", ps(EXPIRE_PS)),
    Deposit("INTERDIT", ps(INTERDIT_PS)),
    Deposit("blocked", ps(BLOCKED_PS)),
    Deposit("bris de glace, patient objects: mode irrelevant", ps(STRANGER, BRIS_DE_GLACE), dossier=NO_EMERGENCY),
    Deposit("patient", PATIENT),
    Deposit("legal representative", LEGAL_REPRESENTATIVE),
    Deposit("closed: VALIDE refused", ps(DEMO), REGISTRY_ERROR, dossier=CLOSED),
    Deposit("closed: patient refused", PATIENT, REGISTRY_ERROR, dossier=CLOSED),
    Deposit("closed: bris de glace refused", ps(STRANGER, BRIS_DE_GLACE), REGISTRY_ERROR, dossier=CLOSED),
    Deposit("VIHF naming another patient", ps(DEMO, patient=Q), MISMATCH),
]

NEW = Doc("new", 10, P, DEMO)


@pytest.mark.parametrize("deposit_case", [d.param() for d in DEPOSITS])
def test_deposit(gateway, deposit_case: Deposit):
    case = deposit_case
    set_up(gateway, case.dossier)
    before = last_sequence(gateway)

    response = deposit(gateway, provided((NEW,), 10, depositor=case.caller.id), case.caller)

    with gateway.db.session(read_only=True) as session:
        stored = RegistryStore(session).find_by_unique_ids([NEW.uid])
    if case.refusal is None:
        assert (response.status, response.errors) == ("Success", [])
        assert NEW.uid in stored
    else:
        assert (response.status, response.error_codes) == ("Failure", [case.refusal])
        assert stored == {}
    check_trace(only_new_trace(gateway, before), transaction="ITI-41", caller=case.caller, patient=P,
                outcome=Outcome.SUCCESS if case.refusal is None else Outcome.REFUSED, error_code=case.refusal,
                object_ids=["1.2.250.1.999.78.10", NEW.uid], break_the_glass=False)


# -- a deposit cannot reach what its submitter may not see ------------------------------------------


def replacing(target_uuid: str, set_number: int, *, depositor: str = VALIDE_PS) -> ProvideAndRegisterDocumentSet:
    """A new document of ``depositor`` (uniqueId by ``set_number``) replacing (RPLC) ``target_uuid``."""
    request = provided((Doc("new", set_number, P, depositor),), set_number, depositor=depositor)
    request.submission.associations.append(
        f.association("Rplc", f"Doc{set_number}", target_uuid, AssociationType.REPLACE))
    return request


def test_replacing_a_document_hidden_from_the_depositor_is_answered_as_replacing_an_unknown_one(gateway):
    uuids = set_up(gateway, DossierState())
    caller = ps(VALIDE_PS)  # VALIDE, may not see MASQUE_PS documents of others

    hidden = deposit(gateway, replacing(uuids[MASKED], 11), caller)
    unknown = deposit(gateway, replacing(f"urn:uuid:{uuid.uuid4()}", 12), caller)
    visible_ = deposit(gateway, replacing(uuids[PLAIN], 13), caller)

    assert hidden.status == unknown.status == "Failure"
    assert _errors_without_ids(hidden) == _errors_without_ids(unknown) != []
    assert (visible_.status, visible_.errors) == ("Success", [])
    with gateway.db.session(read_only=True) as session:
        statuses = {uid: objects[0].availability_status.short_name
                    for uid, objects in RegistryStore(session).find_by_unique_ids([MASKED.uid, PLAIN.uid]).items()}
    assert statuses == {MASKED.uid: "Approved", PLAIN.uid: "Deprecated"}


def _errors_without_ids(response: SoapResponse) -> list[tuple[str, str]]:
    return [(e["errorCode"], re.sub(r"urn:uuid:[0-9a-f-]+|1\.2\.250\.1\.999\.7[78]\.\d+|Doc\d+", "…", e["codeContext"]))
            for e in response.errors]


def test_a_submission_naming_no_patient_cannot_probe_another_patients_document(gateway):
    """Without a SubmissionSet patientId, the deposit is decided on the VIHF's patient (Q): P's document is
    not found, and the answer does not name P."""
    uuids = set_up(gateway, DossierState())
    caller = ps(DEMO, patient=Q)

    def anonymous(target: str, number: int) -> ProvideAndRegisterDocumentSet:
        request = replacing(target, number)
        request.submission.submission_sets[0].patient_id = None
        request.submission.documents[0].patient_id = Q  # the caller's patient: P's target would then mismatch
        return request

    def register(request: ProvideAndRegisterDocumentSet) -> SoapResponse:  # ITI-42: validated by the registry
        return post(gateway.registry_url, ITI42, submit_objects_request(request.submission),
                    security=caller.security())

    probing = register(anonymous(uuids[PLAIN], 14))
    unknown = register(anonymous(f"urn:uuid:{uuid.uuid4()}", 15))

    assert probing.status == unknown.status == "Failure"
    assert _errors_without_ids(probing) == _errors_without_ids(unknown)
    assert "XDSPatientIdDoesNotMatch" not in probing.error_codes
    assert P.id not in str(probing.errors)


@pytest.mark.parametrize("target, detailed", [(PLAIN, True), (MASKED, False)], ids=["visible", "hidden"])
def test_a_duplicate_uniqueid_tells_nothing_of_a_document_hidden_from_the_depositor(gateway, target, detailed):
    """Refused either way (uniqueIds are unique in the registry); of a hidden document neither its entryUUID
    nor its hash is told, and a different content is not told apart (no XDSNonIdenticalHash)."""
    uuids = set_up(gateway, DossierState())
    same_uid = Doc("dup", 16, P, VALIDE_PS)
    request = provided((same_uid,), 16, depositor=VALIDE_PS)
    request.submission.documents[0].unique_id = target.uid

    response = deposit(gateway, request, ps(VALIDE_PS))

    assert response.status == "Failure"
    if detailed:
        assert response.error_codes == ["XDSNonIdenticalHash"]
        assert uuids[target] in response.errors[0]["codeContext"]
    else:
        assert response.error_codes == ["XDSDuplicateUniqueIdInRegistry"]
        assert uuids[target] not in str(response.errors)
        assert "hash" not in response.errors[0]["codeContext"]


def test_a_professional_who_may_only_feed_can_replace_only_their_own_documents(gateway):
    """Blocked: deposits are still taken, but a replacement changes what readers see; the blocked
    professional's RPLC of a visible document is answered as of an unknown one."""
    uuids = set_up(gateway, DossierState())
    blocked = ps(BLOCKED_PS)

    own_document = Doc("own", 17, P, BLOCKED_PS)
    assert deposit(gateway, provided((own_document,), 17, depositor=BLOCKED_PS), blocked).status == "Success"
    with gateway.db.session(read_only=True) as session:
        [own] = RegistryStore(session).find_by_unique_ids([own_document.uid])[own_document.uid]
    others = deposit(gateway, replacing(uuids[PLAIN], 18, depositor=BLOCKED_PS), blocked)
    unknown = deposit(gateway, replacing(f"urn:uuid:{uuid.uuid4()}", 19, depositor=BLOCKED_PS), blocked)
    correction = deposit(gateway, replacing(own.entry_uuid, 20, depositor=BLOCKED_PS), blocked)

    assert others.status == unknown.status == "Failure"
    assert _errors_without_ids(others) == _errors_without_ids(unknown)
    assert (correction.status, correction.errors) == ("Success", [])


# -- queries about a named object: a hidden one is an unknown one -----------------------------------


def test_queries_about_a_hidden_document_answer_as_about_an_unknown_one(gateway):
    """GetFoldersForDocument, GetSubmissionSets and GetRelatedDocuments answer *about* the objects they name:
    a folder or submission set also holding a visible document, or a visible relative, must not betray the
    hidden one (nor a visible document its hidden relative)."""
    set_up(gateway, DossierState())
    shown, masked = Doc("shown", 21, P, AUTHOR), Doc("masked2", 22, P, AUTHOR, ("MASQUE_PS",))
    request = provided((shown, masked), 21, depositor=AUTHOR)
    folder = f.folder("Folder21", unique_id="1.2.250.1.999.79.21", patient_id=P)
    request.submission.folders.append(folder)
    request.submission.associations += [
        f.has_member("SsFolder", f.SS_ID, "Folder21"),
        f.has_member("FolderShown", "Folder21", "Doc21"), f.has_member("SsFolderShown", f.SS_ID, "FolderShown"),
        f.has_member("FolderMasked", "Folder21", "Doc22"), f.has_member("SsFolderMasked", f.SS_ID, "FolderMasked"),
    ]
    assert deposit(gateway, request, ps(AUTHOR)).status == "Success"
    addendum = replacing("", 23, depositor=AUTHOR)
    with gateway.db.session(read_only=True) as session:
        uuids = {uid: objects[0].entry_uuid for uid, objects in
                 RegistryStore(session).find_by_unique_ids([shown.uid, masked.uid, folder.unique_id]).items()}
    addendum.submission.associations[-1] = f.association("Apnd", "Doc23", uuids[masked.uid], AssociationType.APPEND)
    assert deposit(gateway, addendum, ps(AUTHOR)).status == "Success"
    with gateway.db.session(read_only=True) as session:
        uuids["addendum"] = RegistryStore(session).find_by_unique_ids([Doc("new", 23, P, AUTHOR).uid])[
            Doc("new", 23, P, AUTHOR).uid][0].entry_uuid
    unknown = f"urn:uuid:{uuid.uuid4()}"
    reader = ps(VALIDE_PS)  # VALIDE, neither author nor attending doctor: MASQUE_PS is hidden from them

    def answered(query) -> set[str]:
        response = stored_query(gateway, query, reader)
        assert (response.status, response.errors) == ("Success", [])
        read = read_registry_object_list(response.payload.find(f"{{{RIM}}}RegistryObjectList"))
        return {o.entry_uuid for o in read.submission.objects()}

    def folders_for(document: str):
        return GetFoldersForDocument(document=ObjectIds(uuids=(document,)))

    def sets_for(document: str):
        return GetSubmissionSets(uuids=[document])

    def related(document: str):
        return GetRelatedDocuments(document=ObjectIds(uuids=(document,)), association_types=[AssociationType.APPEND])

    assert answered(folders_for(uuids[masked.uid])) == answered(folders_for(unknown)) == set()
    assert answered(folders_for(uuids[shown.uid])) == {uuids[folder.unique_id]}
    assert answered(sets_for(uuids[masked.uid])) == answered(sets_for(unknown)) == set()
    assert answered(related(uuids[masked.uid])) == answered(related(unknown)) == set()
    # The addendum is visible, but its only relative is hidden: as a document without relatives.
    assert answered(related(uuids["addendum"])) == set()
    # The author sees it all.
    reader = ps(AUTHOR)
    assert uuids[masked.uid] in answered(related(uuids["addendum"]))
    assert answered(folders_for(uuids[masked.uid])) == {uuids[folder.unique_id]}


def test_filing_into_a_folder_that_holds_only_hidden_documents_is_as_into_an_unknown_folder(gateway):
    set_up(gateway, DossierState())
    masked = Doc("masked3", 31, P, AUTHOR, ("MASQUE_PS",))
    request = provided((masked,), 31, depositor=AUTHOR)
    request.submission.folders.append(f.folder("Folder31", unique_id="1.2.250.1.999.79.31", patient_id=P))
    request.submission.associations += [
        f.has_member("SsFolder", f.SS_ID, "Folder31"),
        f.has_member("FolderMasked", "Folder31", "Doc31"), f.has_member("SsFolderMasked", f.SS_ID, "FolderMasked"),
    ]
    assert deposit(gateway, request, ps(AUTHOR)).status == "Success"
    with gateway.db.session(read_only=True) as session:
        [folder] = RegistryStore(session).find_by_unique_ids(["1.2.250.1.999.79.31"])["1.2.250.1.999.79.31"]

    def filing(folder_uuid: str, number: int) -> ProvideAndRegisterDocumentSet:
        new = provided((Doc("filed", number, P, VALIDE_PS),), number, depositor=VALIDE_PS)
        new.submission.associations += [
            f.has_member("Filing", folder_uuid, f"Doc{number}"), f.has_member("SsFiling", f.SS_ID, "Filing"),
        ]
        return new

    hidden = deposit(gateway, filing(folder.entry_uuid, 32), ps(VALIDE_PS))
    unknown = deposit(gateway, filing(f"urn:uuid:{uuid.uuid4()}", 33), ps(VALIDE_PS))

    assert hidden.status == unknown.status == "Failure"
    assert _errors_without_ids(hidden) == _errors_without_ids(unknown) != []


def test_reusing_the_entryuuid_of_a_hidden_document_is_answered_as_of_a_visible_one(gateway):
    uuids = set_up(gateway, DossierState())

    def reusing(entry_uuid: str, number: int) -> ProvideAndRegisterDocumentSet:
        request = provided((Doc("reuse", number, P, VALIDE_PS),), number, depositor=VALIDE_PS)
        old = f"Doc{number}"
        request.submission.documents[0].entry_uuid = entry_uuid
        request.submission.associations[0].target = entry_uuid
        request.documents[0] = Document(entry_uuid, request.documents[0].data)
        assert request.submission.associations[0].target != old
        return request

    hidden = deposit(gateway, reusing(uuids[MASKED], 34), ps(VALIDE_PS))
    shown = deposit(gateway, reusing(uuids[PLAIN], 35), ps(VALIDE_PS))

    assert hidden.status == shown.status == "Failure"
    assert _errors_without_ids(hidden) == _errors_without_ids(shown)
    assert hidden.error_codes == ["XDSRegistryMetadataError"]


def test_an_emergency_mode_does_not_let_a_professional_replace_others_documents(gateway):
    """Bris de glace opens reading; replacing what others wrote still needs a reader's right of one's own."""
    uuids = set_up(gateway, DossierState())
    emergency = ps(STRANGER, BRIS_DE_GLACE)

    others = deposit(gateway, replacing(uuids[PLAIN], 36, depositor=STRANGER), emergency)
    unknown = deposit(gateway, replacing(f"urn:uuid:{uuid.uuid4()}", 37, depositor=STRANGER), emergency)

    assert others.status == unknown.status == "Failure"
    assert _errors_without_ids(others) == _errors_without_ids(unknown)


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_find_documents_by_object_ref(gateway, case: Case):
    """An ObjectRef answer is judged as a LeafClass one (on stubs read from columns): same entries, same trace."""
    from gateway.metadata.query import ReturnType

    uuids = set_up(gateway, case.dossier)
    before = last_sequence(gateway)

    response = stored_query(gateway, FindDocuments(
        patient_id=case.patient.format(), statuses=[AvailabilityStatus.APPROVED, AvailabilityStatus.DELETED],
        return_type=ReturnType.OBJECT_REF,
    ), case.caller)

    refs = [ref.get("id") for ref in response.payload.iter(f"{{{RIM}}}ObjectRef")]
    refused = isinstance(case.query, str)
    if refused:
        assert (response.status, response.error_codes, refs) == ("Failure", [case.query], [])
    else:
        assert (response.status, response.errors) == ("Success", [])
        assert sorted(refs) == sorted(uuids[d] for d in case.query)
    unique_ids = {uuids[d]: d.uid for d in DOCUMENTS}
    check_trace(only_new_trace(gateway, before), transaction="ITI-18:FindDocuments", caller=case.caller,
                patient=case.patient, outcome=Outcome.REFUSED if refused else Outcome.SUCCESS,
                error_code=case.query if refused else None, object_ids=[unique_ids[r] for r in refs],
                break_the_glass=case.break_the_glass)
