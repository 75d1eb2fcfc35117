"""RegistryStore on SQLite and PostgreSQL: what is stored comes back equal, whole or not at all."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from gateway.metadata.hl7v2 import DTM
from gateway.metadata.vocabulary import AssociationType, AvailabilityStatus
from gateway.store import batches
from gateway.store.registry_store import RegistryStore
from gateway.store.schema import (
    DocumentEntryAuthorRow,
    DocumentEntryCodeRow,
    DocumentEntryReferenceIdRow,
    DocumentEntryRow,
    FolderCodeRow,
    FolderRow,
    SubmissionSetAuthorRow,
    SubmissionSetRow,
)

from . import factories

KINDS = ("document_entries", "submission_sets", "folders", "associations", "patients")


@pytest.fixture
def stored(db):
    """A submission (SS + 2 documents + folder + 4 associations) committed in one transaction."""
    submission = factories.submission()
    with db.session() as session:
        RegistryStore(session).add(submission.objects())
    return submission


def _counts(db) -> dict[str, int]:
    with db.session(read_only=True) as session:
        store = RegistryStore(session)
        return {kind: store.count(kind) for kind in KINDS}


def test_objects_come_back_equal_by_uuid(db, stored):
    expected = stored.by_id()
    with db.session(read_only=True) as session:
        found = RegistryStore(session).get_by_uuids([*expected, "urn:uuid:not-there"])
    assert found == expected
    assert _counts(db) == {
        "document_entries": 2, "submission_sets": 1, "folders": 1, "associations": 4, "patients": 0,
    }


def test_objects_come_back_equal_by_unique_id(db, stored):
    with_unique_ids = [*stored.submission_sets, *stored.documents, *stored.folders]
    with db.session(read_only=True) as session:
        found = RegistryStore(session).find_by_unique_ids([o.unique_id for o in with_unique_ids] + ["1.2.3.404"])
    assert found == {o.unique_id: [o] for o in with_unique_ids}


def test_query_columns_and_child_rows(db, stored):
    doc = stored.documents[0]
    with db.session(read_only=True) as session:
        row = session.scalars(select(DocumentEntryRow).where(DocumentEntryRow.entry_uuid == doc.entry_uuid)).one()
        codes = session.execute(
            select(DocumentEntryCodeRow.attribute, DocumentEntryCodeRow.code, DocumentEntryCodeRow.scheme)
            .where(DocumentEntryCodeRow.document_id == row.id)
        ).all()
        persons = session.scalars(select(DocumentEntryAuthorRow.person).where(DocumentEntryAuthorRow.document_id == row.id)).all()
        references = session.scalars(select(DocumentEntryReferenceIdRow.reference_id).where(DocumentEntryReferenceIdRow.document_id == row.id)).all()
        ss_persons = session.scalars(select(SubmissionSetAuthorRow.person)).all()
        folder_codes = session.execute(select(FolderCodeRow.code, FolderCodeRow.scheme)).all()
        ss_row = session.scalars(select(SubmissionSetRow)).one()

    assert (row.patient_id, row.availability_status, row.version, row.logical_id) == (
        factories.PATIENT, "Approved", 1, doc.entry_uuid,
    )
    assert (row.class_code, row.class_scheme) == doc.class_code.key
    assert (row.healthcare_facility_type_code, row.healthcare_facility_type_scheme) == doc.healthcare_facility_type_code.key
    # DTM.lower(): 14 digits whatever the submitted precision.
    assert (row.creation_time, row.service_start_time, row.service_stop_time) == (
        "20240315101530", "20240315080000", "20240315120000",
    )
    assert row.size == 1234567
    assert sorted(codes) == sorted(
        [("classCode", *doc.class_code.key), ("typeCode", *doc.type_code.key), ("formatCode", *doc.format_code.key),
         ("practiceSettingCode", *doc.practice_setting_code.key),
         ("healthcareFacilityTypeCode", *doc.healthcare_facility_type_code.key)]
        + [("confidentialityCode", *c.key) for c in doc.confidentiality_codes]
        + [("eventCodeList", *c.key) for c in doc.event_codes]
    )
    assert sorted(persons) == sorted(a.person.format() for a in doc.authors)
    assert sorted(references) == sorted(doc.reference_ids)
    assert ss_persons == [stored.submission_set.authors[0].person.format()]
    assert sorted(folder_codes) == sorted(c.key for c in stored.folders[0].codes)
    assert (ss_row.submission_time, ss_row.source_id, ss_row.content_type_code) == (
        "20240315103000", "1.2.250.1.999.6", "04",
    )


def test_set_status_changes_column_and_payload(db, stored):
    doc, association = stored.documents[0], stored.associations[0]
    with db.session() as session:
        RegistryStore(session).set_status([doc.entry_uuid, association.entry_uuid], AvailabilityStatus.DEPRECATED)

    with db.session(read_only=True) as session:
        found = RegistryStore(session).get_by_uuids(stored.by_id())
        statuses = {u: s for u, s in session.execute(select(DocumentEntryRow.entry_uuid, DocumentEntryRow.availability_status))}
    assert found[doc.entry_uuid].availability_status is AvailabilityStatus.DEPRECATED
    assert found[association.entry_uuid].availability_status is AvailabilityStatus.DEPRECATED
    assert found[stored.documents[1].entry_uuid].availability_status is AvailabilityStatus.APPROVED
    assert statuses == {doc.entry_uuid: "Deprecated", stored.documents[1].entry_uuid: "Approved"}


def test_folder_last_update_time_changes_column_and_payload(db, stored):
    folder = stored.folders[0]
    with db.session() as session:
        RegistryStore(session).set_folder_last_update_time([folder.entry_uuid], DTM("202501021530"))

    with db.session(read_only=True) as session:
        found = RegistryStore(session).get_by_uuids([folder.entry_uuid])[folder.entry_uuid]
        column = session.scalars(select(FolderRow.last_update_time)).one()
    assert found.last_update_time == DTM("202501021530")
    assert column == "20250102153000"
    assert found.codes == folder.codes  # the rest of the payload is untouched


def test_a_failing_transaction_stores_nothing(db):
    with pytest.raises(RuntimeError, match="validation failed late"):
        with db.session() as session:
            store = RegistryStore(session)
            store.add_patient(factories.PATIENT)
            store.add(factories.submission().objects())
            assert store.count("document_entries") == 2  # visible inside the transaction
            raise RuntimeError("validation failed late")
    assert _counts(db) == dict.fromkeys(KINDS, 0)


def test_duplicate_unique_id_and_version_is_refused(db, stored):
    original = stored.documents[0]
    copy = factories.document(unique_id=original.unique_id)
    with pytest.raises(IntegrityError):
        with db.session() as session:
            RegistryStore(session).add([factories.document(), copy])
    assert _counts(db)["document_entries"] == 2  # the whole second batch was rolled back


def test_duplicate_folder_unique_id_and_version_is_refused(db, stored):
    with pytest.raises(IntegrityError):
        with db.session() as session:
            RegistryStore(session).add([factories.folder(unique_id=stored.folders[0].unique_id)])


def test_duplicate_entry_uuid_is_refused(db, stored):
    association = stored.associations[0]
    clash = factories.association(association.source, association.target, entry_uuid=association.entry_uuid)
    with pytest.raises(IntegrityError):
        with db.session() as session:
            RegistryStore(session).add([clash])


def test_versions_share_the_unique_id(db, stored):
    """ITI-57: a new version keeps uniqueId and logicalID, with its own entryUUID."""
    first = stored.documents[0]
    second = factories.document(unique_id=first.unique_id, logical_id=first.entry_uuid, version="2")
    with db.session() as session:
        store = RegistryStore(session)
        store.add([second])
        store.set_status([first.entry_uuid], AvailabilityStatus.DEPRECATED)
    with db.session(read_only=True) as session:
        versions = RegistryStore(session).find_by_unique_ids([first.unique_id])[first.unique_id]
    assert [(v.entry_uuid, v.version, v.availability_status.short_name) for v in versions] == [
        (first.entry_uuid, "1", "Deprecated"),
        (second.entry_uuid, "2", "Approved"),
    ]


def test_associations_of_filters_by_end_and_type(db, stored):
    ss, (doc1, doc2), folder = stored.submission_set, stored.documents, stored.folders[0]
    ss_doc1, ss_doc2, ss_folder, folder_doc1 = stored.associations
    replacement = factories.document()
    rplc = factories.association(replacement.entry_uuid, doc2.entry_uuid, AssociationType.REPLACE, submission_set_status=None)
    with db.session() as session:
        RegistryStore(session).add([replacement, rplc])

    with db.session(read_only=True) as session:
        store = RegistryStore(session)
        assert store.associations_of([ss.entry_uuid]) == [ss_doc1, ss_doc2, ss_folder]
        assert store.associations_of([doc1.entry_uuid]) == [ss_doc1, folder_doc1]
        assert store.associations_of([doc1.entry_uuid], as_target=False) == []
        assert store.associations_of([folder.entry_uuid], as_source=False) == [ss_folder]
        assert store.associations_of([folder.entry_uuid], as_target=False) == [folder_doc1]
        assert store.associations_of([doc2.entry_uuid], types=[AssociationType.REPLACE]) == [rplc]
        assert store.associations_of([doc2.entry_uuid], types=[AssociationType.HAS_MEMBER.value]) == [ss_doc2]
        assert store.associations_of([doc2.entry_uuid], types=[]) == []
        assert store.associations_of([doc2.entry_uuid], as_source=False, as_target=False) == []
        assert store.associations_of([ss.entry_uuid, folder.entry_uuid, doc1.entry_uuid]) == stored.associations


def test_patients(db):
    with db.session() as session:
        store = RegistryStore(session)
        assert not store.patient_exists(factories.PATIENT)
        store.add_patient(factories.PATIENT)
        store.add_patient(factories.PATIENT)  # idempotent
        assert store.patient_exists(factories.PATIENT)
    with db.session() as session:
        RegistryStore(session).add_patient(factories.PATIENT)  # idempotent across transactions too
    assert _counts(db)["patients"] == 1


def test_lookups_work_across_chunks(db, monkeypatch):
    monkeypatch.setattr(batches, "CHUNK_SIZE", 3)
    submission = factories.submission()
    extra = [factories.document() for _ in range(5)]
    with db.session() as session:
        store = RegistryStore(session)
        store.add([*submission.objects(), *extra])
        store.set_status([d.entry_uuid for d in extra], AvailabilityStatus.DEPRECATED)
    everything = {**submission.by_id(), **{d.entry_uuid: d for d in extra}}
    with db.session(read_only=True) as session:
        store = RegistryStore(session)
        found = store.get_by_uuids(everything)
        by_unique_id = store.find_by_unique_ids(d.unique_id for d in extra)
        associations = store.associations_of([*submission.by_id()])
    assert set(found) == set(everything)
    assert {d.availability_status for d in by_unique_id_values(by_unique_id)} == {AvailabilityStatus.DEPRECATED}
    assert associations == submission.associations


def by_unique_id_values(found):
    return [o for objects in found.values() for o in objects]


def test_add_issues_the_same_statements_for_5_or_50_documents(db):
    """Bulk inserts: the number of statements does not grow with the submission."""

    def statements_for(n: int) -> int:
        executed = []
        listener = lambda *args: executed.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            with db.session() as session:
                RegistryStore(session).add([factories.submission_set(), *(factories.document() for _ in range(n))])
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(executed)

    assert statements_for(5) == statements_for(50)


def test_objects_without_status_are_refused(db):
    with pytest.raises(ValueError, match="availabilityStatus"):
        with db.session() as session:
            RegistryStore(session).add([factories.document(availability_status=None)])


def test_count_of_an_unknown_kind(db):
    with db.session(read_only=True) as session:
        with pytest.raises(ValueError, match="unknown kind"):
            RegistryStore(session).count("documents")
