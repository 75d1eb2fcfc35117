"""StoredQueryService with a caller (issue 6) on SQLite and PostgreSQL: ObjectRef answers judged on stubs.

An ObjectRef Find query reads stubs from columns (``QueryStore._references``),
never payloads; they carry what visibility is judged on, so a caller gets by
ObjectRef exactly the objects a LeafClass query shows them, in the same order,
and the trace names the same uniqueIds. Patient P's dossier is open; AUTHOR is
authorized and wrote every document but ``theirs``, written by READER:

- SS1 holds ``plain`` (N) and ``masked`` (MASQUE_PS); folder F1 holds ``masked`` only;
- SS2 holds ``deleted`` (Deleted) only; SS3 holds ``secret`` (INVISIBLE_PATIENT) and
  ``theirs`` (MASQUE_PS, by READER);
- SS4 (patient Q): ``other``.
"""

from __future__ import annotations


import pytest

from gateway.access.dossier import Authorization
from gateway.access.model import Actor, ActorKind
from gateway.audit.recorder import TraceRecorder
from gateway.metadata.hl7v2 import XCN
from gateway.metadata.model import Author, Code, DocumentEntry
from gateway.metadata.query import (
    FindDocuments, FindFolders, FindSubmissionSets, GetAll, GetFoldersForDocument, ObjectIds, ReturnType,
)
from gateway.metadata.vocabulary import AssociationType, AvailabilityStatus, ObjectType, SubmissionSetStatus
from gateway.registry.stored_queries import StoredQueryService
from gateway.store import query_store
from gateway.store.dossier_store import DossierStore
from gateway.store.registry_store import RegistryStore

from ..store import factories
from .test_stored_queries import NAMES, u, uid  # the named objects' ids, as the stored query tests make them

P = factories.PATIENT
Q = "999^^^&1.2.250.1.213.1.4.8&ISO"
EVERY_STATUS = list(AvailabilityStatus)
VISIBILITY = "1.2.250.1.213.1.1.4.13"
N = Code("N", "2.16.840.1.113883.5.25")
MASQUE_PS, INVISIBLE_PATIENT = Code("MASQUE_PS", VISIBILITY), Code("INVISIBLE_PATIENT", VISIBILITY)

AUTHOR_ID, READER_ID, DOCTOR_ID = "8100000000001", "8100000000002", "8100000000003"
AUTHOR = Actor(id=AUTHOR_ID, patient_id=P)
READER = Actor(id=READER_ID, patient_id=P)
DOCTOR = Actor(id=DOCTOR_ID, patient_id=P)  # médecin traitant DMP
PATIENT = Actor(id=P.split("^")[0], kind=ActorKind.PATIENT, patient_id=P)
SYSTEM = Actor(id="", kind=ActorKind.SYSTEM)

def written_by(professional: str) -> Author:
    return Author(person=XCN.parse(f"{professional}^DUPONT^JEAN^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"))


def _doc(name: str, codes: list[Code], patient: str = P, by: str = AUTHOR_ID, **overrides) -> DocumentEntry:
    values = dict(entry_uuid=u(name), logical_id=u(name), unique_id=uid(name),
                  object_type=ObjectType.STABLE_DOCUMENT_ENTRY, confidentiality_codes=codes,
                  authors=[factories.author(7), written_by(by)], reference_ids=[])
    return factories.document(patient, **(values | overrides))


def _ss(name: str, patient: str = P):
    return factories.submission_set(patient, entry_uuid=u(name), logical_id=u(name), unique_id=uid(name))


def _link(source: str, target: str, original: bool = True):
    name = f"{source}>{target}"
    status = SubmissionSetStatus.ORIGINAL if original else None
    return factories.association(u(source), u(target), AssociationType.HAS_MEMBER.value, entry_uuid=u(name),
                                 logical_id=u(name), submission_set_status=status)


def registry_content() -> list:
    return [
        _ss("SS1"), _doc("plain", [N]), _doc("masked", [N, MASQUE_PS]),
        factories.folder(P, entry_uuid=u("F1"), logical_id=u("F1"), unique_id=uid("F1")),
        _link("SS1", "plain"), _link("SS1", "masked"), _link("SS1", "F1", False), _link("F1", "masked", False),
        _ss("SS2"), _doc("deleted", [N], availability_status=AvailabilityStatus.DELETED), _link("SS2", "deleted"),
        _ss("SS3"), _doc("secret", [INVISIBLE_PATIENT, N]), _doc("theirs", [MASQUE_PS], by=READER_ID),
        _link("SS3", "secret"), _link("SS3", "theirs"),
        _ss("SS4", Q), _doc("other", [N], Q), _link("SS4", "other"),
    ]


class RecordingRecorder(TraceRecorder):
    def __init__(self, db) -> None:
        super().__init__(db)
        self.traces = []

    def record(self, trace):
        self.traces.append(trace)
        return super().record(trace)


@pytest.fixture
def service(db) -> StoredQueryService:
    with db.session() as session:
        RegistryStore(session).add(registry_content())
        dossiers = DossierStore(session)
        dossiers.create(P)
        dossiers.create(Q)
        for professional in (AUTHOR_ID, READER_ID):
            dossiers.set_authorization(P, professional, Authorization.VALIDE)
        dossiers.set_attending(P, DOCTOR_ID)
    return StoredQueryService(db, recorder=RecordingRecorder(db))


def run(service: StoredQueryService, actor: Actor, query) -> list[str]:
    outcome = service.run(query, actor=actor)
    assert outcome.findings == []
    return [NAMES[o.entry_uuid] for o in outcome.objects]


DOCUMENTS = {
    "the author": (AUTHOR, ["plain", "masked", "secret"]),
    "another professional": (READER, ["plain", "secret", "theirs"]),
    "the attending doctor": (DOCTOR, ["plain", "masked", "secret", "theirs"]),
    "the patient": (PATIENT, ["plain", "masked", "theirs"]),
    "system": (SYSTEM, ["plain", "masked", "secret", "theirs"]),
}


@pytest.mark.parametrize("actor, expected", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_object_ref_find_documents_returns_exactly_the_visible_entries(service, monkeypatch, actor, expected):
    leaf = run(service, actor, FindDocuments(patient_id=P, statuses=EVERY_STATUS))
    decoded = []
    monkeypatch.setattr(query_store, "from_dict", lambda payload: decoded.append(payload) or pytest.fail("decoded"))
    refs = run(service, actor, FindDocuments(patient_id=P, statuses=EVERY_STATUS, return_type=ReturnType.OBJECT_REF))

    assert refs == leaf == expected  # the Deleted entry hidden from everyone, the masked one from others
    assert decoded == []  # judged on the stubs: no payload read
    # The trace of either names the same uniqueIds.
    first, second = service.recorder.traces[-2:]
    assert first.object_ids == second.object_ids == tuple(uid(n) for n in expected)


CONTAINERS = {
    # SS2 holds only a Deleted entry; F1 only the masked one; SS3 only what a patient may not see.
    "the author": (AUTHOR, ["SS1", "SS3"], ["F1"]),
    "another professional": (READER, ["SS1", "SS3"], []),
    "the patient": (PATIENT, ["SS1", "SS3"], ["F1"]),
}


@pytest.mark.parametrize("actor, sets, folders", CONTAINERS.values(), ids=CONTAINERS.keys())
def test_object_ref_sets_and_folders_are_those_a_leaf_class_query_shows(service, actor, sets, folders):
    for return_type in (ReturnType.LEAF_CLASS, ReturnType.OBJECT_REF):
        find_sets = FindSubmissionSets(patient_id=P, statuses=EVERY_STATUS, return_type=return_type)
        assert run(service, actor, find_sets) == sets
        assert run(service, actor, FindFolders(patient_id=P, statuses=EVERY_STATUS, return_type=return_type)) == folders
        everything = run(service, actor, GetAll(patient_id=P, document_statuses=EVERY_STATUS,
                                                 submission_set_statuses=EVERY_STATUS, folder_statuses=EVERY_STATUS,
                                                 return_type=return_type))
        assert [n for n in everything if n in {"SS1", "SS2", "SS3", "F1"}] == sets + folders


def test_object_ref_find_submission_sets_hides_a_set_of_deleted_entries(service):
    # A set holding only a Deleted entry: hidden from everyone, by ObjectRef too.
    query = FindSubmissionSets(patient_id=P, statuses=EVERY_STATUS, return_type=ReturnType.OBJECT_REF)
    found = run(service, SYSTEM, query)
    assert found == ["SS1", "SS3"]


@pytest.mark.parametrize("return_type", [ReturnType.LEAF_CLASS, ReturnType.OBJECT_REF])
def test_object_ref_get_queries_naming_a_hidden_entry_find_nothing(service, return_type):
    masked = GetFoldersForDocument(document=ObjectIds(uuids=(u("masked"),)), return_type=return_type)
    assert run(service, READER, masked) == []
    assert run(service, AUTHOR, masked) == ["F1"]
