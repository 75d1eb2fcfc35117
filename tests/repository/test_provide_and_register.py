"""ITI-41 at the service: pairing, hash and size, repositoryUniqueId, atomicity with the blob store."""

from __future__ import annotations

import hashlib

import pytest

from gateway.blobs import FileSystemBlobStore
from gateway.metadata import DocumentEntry
from gateway.metadata.repository import Document, ProvideAndRegisterDocumentSet
from gateway.registry import DocumentRegistry
from gateway.repository import DocumentRepository
from gateway.store.registry_store import RegistryStore
from gateway.store.repository_store import RepositoryStore
from gateway.validation import PatientPolicy
from gateway.validation.findings import ErrorCode, Severity

from ..factories import DOC1_ID, DOC2_ID, valid_submission

REPOSITORY = "1.2.250.1.999.7.7"
CONTENT_1 = b"<ClinicalDocument>\xc3\xa9t\xc3\xa9</ClinicalDocument>"
CONTENT_2 = bytes(range(256)) * 40  # binary, not UTF-8


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def provide(doc1: dict | None = None, doc2: dict | None = None, documents=None) -> ProvideAndRegisterDocumentSet:
    """Two entries without hash, size or repositoryUniqueId (as a Document Source sends them), with their content."""
    blank = {"hash": None, "size": None, "repository_unique_id": None}
    submission = valid_submission(doc1={**blank, **(doc1 or {})}, doc2={**blank, **(doc2 or {})})
    if documents is None:
        documents = [Document(DOC1_ID, CONTENT_1), Document(DOC2_ID, CONTENT_2)]
    return ProvideAndRegisterDocumentSet(submission, documents)


class FailingStore(FileSystemBlobStore):
    """A folder store whose n-th put fails half way, and whose deletes may fail too (a crash)."""

    def __init__(self, root, *, fail_on_put: int | None = None, deletes_fail: bool = False):
        super().__init__(root)
        self.fail_on_put, self.deletes_fail, self.puts = fail_on_put, deletes_fail, 0

    def put(self, key, chunks):
        self.puts += 1
        if self.puts == self.fail_on_put:
            def half_then_fail():
                yield next(iter(chunks))
                raise OSError("disk went away")
            return super().put(key, half_then_fail())
        return super().put(key, chunks)

    def delete(self, key):
        if self.deletes_fail:
            raise OSError("process died before cleaning up")
        super().delete(key)


@pytest.fixture
def blobs(tmp_path):
    return FileSystemBlobStore(tmp_path / "blobs")


@pytest.fixture
def repository(db, blobs):
    return DocumentRepository(
        DocumentRegistry(db, patient_policy=PatientPolicy.AUTO), blobs, repository_unique_id=REPOSITORY
    )


def stored_documents(db) -> dict[str, DocumentEntry]:
    with db.session(read_only=True) as session:
        found = RegistryStore(session).find_by_unique_ids(["1.2.250.1.999.1.1", "1.2.250.1.999.1.2"])
    return {uid: objs[0] for uid, objs in found.items()}


def nothing_stored(db, blobs) -> bool:
    with db.session(read_only=True) as session:
        rows = RepositoryStore(session).count()
        entries = RegistryStore(session).count("document_entries")
    return rows == 0 and entries == 0 and list(blobs.list_blobs()) == []


def codes(findings) -> list[str]:
    return [f.code for f in findings if f.severity is Severity.ERROR]


def test_documents_are_stored_and_their_entries_completed(db, blobs, repository):
    outcome = repository.provide_and_register(provide())

    assert outcome.findings == []
    entries = stored_documents(db)
    first, second = entries["1.2.250.1.999.1.1"], entries["1.2.250.1.999.1.2"]
    assert (first.hash, first.size, first.repository_unique_id) == (sha1(CONTENT_1), str(len(CONTENT_1)), REPOSITORY)
    assert (second.hash, second.size) == (sha1(CONTENT_2), str(len(CONTENT_2)))
    with db.session(read_only=True) as session:
        rows = RepositoryStore(session).find(REPOSITORY, ["1.2.250.1.999.1.1", "1.2.250.1.999.1.2"])
    assert rows["1.2.250.1.999.1.1"].entry_uuid == first.entry_uuid
    assert rows["1.2.250.1.999.1.2"].mime_type == "text/xml"
    assert b"".join(blobs.read(rows["1.2.250.1.999.1.1"].blob_key)) == CONTENT_1
    assert b"".join(blobs.read(rows["1.2.250.1.999.1.2"].blob_key)) == CONTENT_2


def test_a_memoryview_is_stored_without_being_copied_first(db, blobs, repository):
    body = bytearray(b"--headers--" + CONTENT_2 + b"--trailer--")
    view = memoryview(body)[11 : 11 + len(CONTENT_2)]
    request = provide(documents=[Document(DOC1_ID, CONTENT_1), Document(DOC2_ID, view)])

    assert repository.provide_and_register(request).findings == []
    assert stored_documents(db)["1.2.250.1.999.1.2"].hash == sha1(CONTENT_2)


def test_matching_hash_and_size_given_by_the_submitter_are_accepted_in_any_case(db, repository):
    request = provide(doc1={"hash": sha1(CONTENT_1).upper(), "size": str(len(CONTENT_1))})

    assert repository.provide_and_register(request).findings == []
    assert stored_documents(db)["1.2.250.1.999.1.1"].hash == sha1(CONTENT_1)


@pytest.mark.parametrize(
    ("doc1", "expected"),
    [
        ({"hash": "0" * 40}, [ErrorCode.NON_IDENTICAL_HASH]),
        ({"size": "7"}, [ErrorCode.NON_IDENTICAL_SIZE]),
        ({"hash": "0" * 40, "size": "7"}, [ErrorCode.NON_IDENTICAL_HASH, ErrorCode.NON_IDENTICAL_SIZE]),
        ({"mime_type": None}, [ErrorCode.REPOSITORY_METADATA_ERROR]),
    ],
    ids=["hash", "size", "both", "no-mimeType"],
)
def test_wrong_metadata_stores_nothing(db, blobs, repository, doc1, expected):
    outcome = repository.provide_and_register(provide(doc1=doc1))

    assert codes(outcome.findings) == expected
    assert all(f.location == DOC1_ID for f in outcome.findings)
    assert nothing_stored(db, blobs)


def test_the_hash_message_gives_both_values(repository):
    outcome = repository.provide_and_register(provide(doc1={"hash": "0" * 40}))

    assert outcome.findings[0].message == (
        f"DocumentEntry {DOC1_ID}: hash '{'0' * 40}' does not match the document provided "
        f"(its SHA-1 is {sha1(CONTENT_1)})"
    )


def test_an_entry_without_document_and_a_document_without_entry(db, blobs, repository):
    request = provide(documents=[Document(DOC1_ID, CONTENT_1), Document("Document99", b"stray")])

    outcome = repository.provide_and_register(request)

    assert sorted((f.code, f.location) for f in outcome.findings) == [
        (ErrorCode.MISSING_DOCUMENT, DOC2_ID),
        (ErrorCode.MISSING_DOCUMENT_METADATA, "Document99"),
    ]
    assert nothing_stored(db, blobs)


def test_two_documents_for_one_entry(db, blobs, repository):
    request = provide(documents=[Document(DOC1_ID, CONTENT_1), Document(DOC2_ID, CONTENT_2), Document(DOC1_ID, b"x")])

    outcome = repository.provide_and_register(request)

    assert [(f.code, f.location) for f in outcome.findings] == [(ErrorCode.REPOSITORY_METADATA_ERROR, DOC1_ID)]
    assert nothing_stored(db, blobs)


def test_a_foreign_repository_id_is_replaced_with_a_warning(db, repository):
    outcome = repository.provide_and_register(provide(doc1={"repository_unique_id": "1.2.3.4"}))

    assert [(f.code, f.severity) for f in outcome.findings] == [
        (ErrorCode.REPOSITORY_METADATA_ERROR, Severity.WARNING)
    ]
    assert stored_documents(db)["1.2.250.1.999.1.1"].repository_unique_id == REPOSITORY


def test_registry_rejection_removes_the_blobs_already_written(db, blobs, repository):
    assert repository.provide_and_register(provide()).findings == []
    again = provide()  # same uniqueIds: the registry refuses them

    outcome = repository.provide_and_register(again)

    assert set(codes(outcome.findings)) == {ErrorCode.DUPLICATE_UNIQUE_ID_IN_REGISTRY}
    with db.session(read_only=True) as session:
        assert RepositoryStore(session).count() == 2
    assert len(list(blobs.list_blobs())) == 2  # the first submission's, and no more


def test_unknown_patient_under_the_registered_policy_removes_the_blobs(db, blobs):
    repository = DocumentRepository(
        DocumentRegistry(db, patient_policy=PatientPolicy.REGISTERED), blobs, repository_unique_id=REPOSITORY
    )

    outcome = repository.provide_and_register(provide())

    assert ErrorCode.UNKNOWN_PATIENT_ID in codes(outcome.findings)
    assert nothing_stored(db, blobs)


def test_a_blob_store_failing_half_way_stores_nothing(db, tmp_path):
    blobs = FailingStore(tmp_path / "blobs", fail_on_put=2)
    repository = DocumentRepository(
        DocumentRegistry(db, patient_policy=PatientPolicy.AUTO), blobs, repository_unique_id=REPOSITORY
    )

    outcome = repository.provide_and_register(provide())

    assert codes(outcome.findings) == [ErrorCode.REPOSITORY_ERROR]
    assert "nothing was stored" in outcome.findings[0].message
    assert nothing_stored(db, blobs)
    assert not any(p.name.startswith(".incoming") for p in (tmp_path / "blobs").rglob("*"))


def test_a_failure_inside_the_transaction_leaves_no_metadata_and_removes_the_blobs(db, blobs, repository,
                                                                                  monkeypatch):
    def broken_add(self, documents):
        list(documents)
        raise RuntimeError("database connection lost")

    monkeypatch.setattr(RepositoryStore, "add", broken_add)

    with pytest.raises(RuntimeError):
        repository.provide_and_register(provide())

    assert nothing_stored(db, blobs)


def test_when_cleanup_is_impossible_only_orphan_blobs_remain(db, tmp_path, monkeypatch):
    """A crash after the blobs and before the commit: no metadata, blobs nothing points at."""
    blobs = FailingStore(tmp_path / "blobs", deletes_fail=True)
    repository = DocumentRepository(
        DocumentRegistry(db, patient_policy=PatientPolicy.REGISTERED), blobs, repository_unique_id=REPOSITORY
    )

    outcome = repository.provide_and_register(provide())

    assert ErrorCode.UNKNOWN_PATIENT_ID in codes(outcome.findings)
    keys = [entry.key for entry in blobs.list_blobs()]
    assert len(keys) == 2
    with db.session(read_only=True) as session:
        assert RepositoryStore(session).count() == 0
        assert RepositoryStore(session).referenced_keys(keys) == set()


def test_a_lost_commit_acknowledgement_keeps_the_blobs_the_committed_rows_name(db, blobs, repository, monkeypatch):
    """The COMMIT reaches the database, then the connection drops: the rows exist, so must their blobs."""
    from sqlalchemy.engine import Connection
    from sqlalchemy.exc import OperationalError

    original = Connection._commit_impl
    lost = []

    def commit_then_lose_the_answer(self):
        original(self)
        if not lost and not self.get_execution_options().get("xdsgw_read_only"):
            lost.append(True)
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(Connection, "_commit_impl", commit_then_lose_the_answer)

    outcome = repository.provide_and_register(provide())

    assert lost == [True]
    assert codes(outcome.findings) == []
    with db.session(read_only=True) as session:
        rows = RepositoryStore(session).find(REPOSITORY, ["1.2.250.1.999.1.1", "1.2.250.1.999.1.2"])
    assert len(rows) == 2
    assert all(blobs.exists(row.blob_key) for row in rows.values())


def test_when_the_database_cannot_say_whether_it_committed_the_blobs_are_left_for_the_sweep(db, blobs, repository,
                                                                                           monkeypatch):
    from gateway.registry import register as register_module

    def unreachable(self, submission, *, findings=None, alongside=None, **_caller):
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(register_module.DocumentRegistry, "register", unreachable)
    monkeypatch.setattr(RepositoryStore, "referenced_keys", lambda self, keys: (_ for _ in ()).throw(OSError("down")))

    with pytest.raises(ConnectionError):
        repository.provide_and_register(provide())

    assert len(list(blobs.list_blobs())) == 2
