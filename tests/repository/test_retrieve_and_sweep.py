"""ITI-43 at the service, and the orphan blob sweep."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

from gateway.blobs import FileSystemBlobStore, new_key
from gateway.metadata.repository import DocumentReference
from gateway.registry import DocumentRegistry
from gateway.repository import DocumentRepository, sweep_orphan_blobs
from gateway.store.repository_store import RepositoryStore
from gateway.validation import PatientPolicy
from gateway.validation.findings import ErrorCode

from .test_provide_and_register import CONTENT_1, CONTENT_2, REPOSITORY, provide

UID_1, UID_2 = "1.2.250.1.999.1.1", "1.2.250.1.999.1.2"


@pytest.fixture
def blobs(tmp_path):
    return FileSystemBlobStore(tmp_path / "blobs")


@pytest.fixture
def repository(db, blobs):
    repository = DocumentRepository(
        DocumentRegistry(db, patient_policy=PatientPolicy.AUTO), blobs, repository_unique_id=REPOSITORY
    )
    assert repository.provide_and_register(provide()).findings == []
    return repository


def ref(unique_id: str, repository: str = REPOSITORY, home: str | None = None) -> DocumentReference:
    return DocumentReference(repository, unique_id, home)


def read(document) -> bytes:
    return b"".join(document.content())


def test_documents_come_back_byte_for_byte_in_request_order(repository):
    outcome = repository.retrieve([ref(UID_2), ref(UID_1, home="urn:oid:1.2.3")])

    assert outcome.findings == []
    assert [(d.reference, d.mime_type, d.size) for d in outcome.documents] == [
        (ref(UID_2), "text/xml", len(CONTENT_2)),
        (ref(UID_1, home="urn:oid:1.2.3"), "text/xml", len(CONTENT_1)),
    ]
    assert [read(d) for d in outcome.documents] == [CONTENT_2, CONTENT_1]


def test_unknown_document_and_foreign_repository_each_get_their_code(repository):
    outcome = repository.retrieve([ref(UID_1), ref("1.2.3.999"), ref(UID_2, repository="1.2.3.4")])

    assert [d.reference.document_unique_id for d in outcome.documents] == [UID_1]
    assert [(f.code, f.location) for f in outcome.findings] == [
        (ErrorCode.DOCUMENT_UNIQUE_ID_ERROR, "1.2.3.999"),
        (ErrorCode.UNKNOWN_REPOSITORY_ID, "1.2.3.4"),
    ]
    assert outcome.findings[1].message == (
        f"document '{UID_2}': repository '1.2.3.4' is not this repository ({REPOSITORY})"
    )


def test_a_blob_removed_behind_the_repository_s_back_is_a_repository_error(db, blobs, repository):
    with db.session(read_only=True) as session:
        key = RepositoryStore(session).find(REPOSITORY, [UID_1])[UID_1].blob_key
    blobs.delete(key)

    outcome = repository.retrieve([ref(UID_1), ref(UID_2)])

    assert [f.code for f in outcome.findings] == [ErrorCode.REPOSITORY_ERROR]
    assert [read(d) for d in outcome.documents] == [CONTENT_2]


def _orphan(blobs, age: timedelta) -> str:
    key = new_key()
    blobs.put(key, [b"orphan"])
    when = (datetime.now(timezone.utc) - age).timestamp()
    os.utime(blobs._path(key), (when, when))
    return key


def test_sweep_removes_old_orphans_only(db, blobs, repository):
    old, recent = _orphan(blobs, timedelta(hours=2)), _orphan(blobs, timedelta(minutes=5))

    report = sweep_orphan_blobs(db, blobs, grace=timedelta(hours=1))

    assert (report.examined, report.referenced, report.recent_orphans, report.removed) == (4, 2, 1, [old])
    assert not blobs.exists(old) and blobs.exists(recent)
    assert [read(d) for d in repository.retrieve([ref(UID_1), ref(UID_2)]).documents] == [CONTENT_1, CONTENT_2]


def test_sweep_dry_run_removes_nothing(db, blobs, repository):
    old = _orphan(blobs, timedelta(hours=2))

    report = sweep_orphan_blobs(db, blobs, grace=timedelta(hours=1), dry_run=True)

    assert report.removed == [old]
    assert blobs.exists(old)


def test_a_repeated_request_is_answered_once(repository):
    outcome = repository.retrieve([ref(UID_1)] * 1000 + [ref(UID_2), ref(UID_1)])

    assert [d.reference.document_unique_id for d in outcome.documents] == [UID_1, UID_2]
    assert outcome.findings == []


def test_blobs_are_opened_only_when_the_answer_reads_them(db, blobs, repository, monkeypatch):
    opened = []
    original = FileSystemBlobStore.read
    monkeypatch.setattr(FileSystemBlobStore, "read", lambda self, key: opened.append(key) or original(self, key))

    outcome = repository.retrieve([ref(UID_1), ref(UID_2)])

    assert opened == []
    assert read(outcome.documents[0]) == CONTENT_1 and len(opened) == 1


def test_a_blob_store_error_fails_that_document_only(db, blobs, repository, monkeypatch):
    with db.session(read_only=True) as session:
        broken = RepositoryStore(session).find(REPOSITORY, [UID_1])[UID_1].blob_key
    original = FileSystemBlobStore.exists

    def exists(self, key):
        if key == broken:
            raise PermissionError("EACCES")
        return original(self, key)

    monkeypatch.setattr(FileSystemBlobStore, "exists", exists)

    outcome = repository.retrieve([ref(UID_1), ref(UID_2)])

    assert [(f.code, f.location) for f in outcome.findings] == [(ErrorCode.REPOSITORY_ERROR, UID_1)]
    assert [read(d) for d in outcome.documents] == [CONTENT_2]
