"""Rules against the registry's content: ids and uniqueIds already registered (ITI TF-2 §3.42.4.1.3)."""

from __future__ import annotations

import pytest

from gateway.metadata import AvailabilityStatus, SubmissionSetStatus
from gateway.validation import ErrorCode, PatientPolicy, validate_metadata_only, validate_register

from ..factories import (
    DOC1_ID,
    FOLDER_ID,
    HASH_1,
    HASH_2,
    SS_ID,
    FakeRegistry,
    document_entry,
    folder,
    has_member,
    registered,
    submission_set,
    valid_submission,
)

NEW_DOC = "urn:uuid:1f6c0f6e-0000-4000-8000-000000000001"


def summary(findings):
    return [(f.code, f.location) for f in findings]


def validate(submission, *registry_objects):
    return validate_register(submission, FakeRegistry(list(registry_objects)), patient_policy=PatientPolicy.REGISTERED)


def test_the_valid_submission_is_accepted_by_an_empty_registry():
    assert validate(valid_submission()) == []


def test_a_urn_uuid_entry_uuid_that_is_already_registered_is_reported():
    submission = valid_submission(
        extra_documents=[document_entry(NEW_DOC, 3)],
        extra_associations=[has_member("HM-3", SS_ID, NEW_DOC, SubmissionSetStatus.ORIGINAL)],
    )
    assert validate(submission) == []

    findings = validate(submission, registered(document_entry(NEW_DOC, 4)))

    assert summary(findings) == [(ErrorCode.REGISTRY_METADATA_ERROR, NEW_DOC)]
    assert f"id '{NEW_DOC}' already exists in the registry" in findings[0].message


def test_resubmitting_a_document_unique_id_with_the_same_hash_is_a_duplicate():
    earlier = registered(document_entry("urn:uuid:1f6c0f6e-0000-4000-8000-0000000000aa", 1))

    findings = validate(valid_submission(), earlier)

    assert summary(findings) == [(ErrorCode.DUPLICATE_UNIQUE_ID_IN_REGISTRY, DOC1_ID)]
    assert "uniqueId '1.2.250.1.999.1.1' is already registered (DocumentEntry urn:uuid:" in findings[0].message


def test_the_same_hash_in_another_case_is_still_the_same_document():
    earlier = registered(document_entry("urn:uuid:1f6c0f6e-0000-4000-8000-0000000000aa", 1, hash=HASH_1.upper()))

    assert summary(validate(valid_submission(), earlier)) == [(ErrorCode.DUPLICATE_UNIQUE_ID_IN_REGISTRY, DOC1_ID)]


def test_a_document_unique_id_registered_with_another_hash_is_a_non_identical_hash():
    earlier = registered(document_entry("urn:uuid:1f6c0f6e-0000-4000-8000-0000000000aa", 1, hash=HASH_2))

    findings = validate(valid_submission(), earlier)

    assert summary(findings) == [(ErrorCode.NON_IDENTICAL_HASH, DOC1_ID)]
    assert f"with hash '{HASH_2}', but this submission gives hash '{HASH_1}'" in findings[0].message


def test_a_deprecated_version_still_holds_its_unique_id():
    earlier = registered(
        document_entry("urn:uuid:1f6c0f6e-0000-4000-8000-0000000000aa", 1), AvailabilityStatus.DEPRECATED
    )

    assert summary(validate(valid_submission(), earlier)) == [(ErrorCode.DUPLICATE_UNIQUE_ID_IN_REGISTRY, DOC1_ID)]


def test_a_submission_set_unique_id_already_registered_is_a_duplicate():
    earlier = registered(submission_set("urn:uuid:1f6c0f6e-0000-4000-8000-0000000000bb"))

    assert summary(validate(valid_submission(), earlier)) == [(ErrorCode.DUPLICATE_UNIQUE_ID_IN_REGISTRY, SS_ID)]


def test_a_folder_unique_id_already_registered_is_a_duplicate():
    earlier = registered(folder("urn:uuid:1f6c0f6e-0000-4000-8000-0000000000cc"))

    assert summary(validate(valid_submission(), earlier)) == [(ErrorCode.DUPLICATE_UNIQUE_ID_IN_REGISTRY, FOLDER_ID)]


def test_all_registry_findings_come_together():
    registry_objects = [
        registered(document_entry("urn:uuid:1f6c0f6e-0000-4000-8000-0000000000aa", 1, hash=HASH_2)),
        registered(folder("urn:uuid:1f6c0f6e-0000-4000-8000-0000000000cc")),
    ]
    registry = FakeRegistry(registry_objects, patients=set())

    findings = validate_register(valid_submission(doc2=dict(mime_type="pdf")), registry,
                                 patient_policy=PatientPolicy.REGISTERED)

    assert sorted(summary(findings)) == sorted([
        (ErrorCode.REGISTRY_METADATA_ERROR, "Document02"),
        (ErrorCode.NON_IDENTICAL_HASH, DOC1_ID),
        (ErrorCode.DUPLICATE_UNIQUE_ID_IN_REGISTRY, FOLDER_ID),
        (ErrorCode.UNKNOWN_PATIENT_ID, SS_ID),
    ])


# --- First versions only (ITI TF-3 §4.2.3.2.31 logicalID, §4.2.3.2.32 version) ----------------------

OTHER_LID = "urn:uuid:1f6c0f6e-0000-4000-8000-0000000000dd"


def validate_both_ways(submission):
    """validate_register and validate_metadata_only (a repository registers through ITI-42 too)."""
    return validate(submission), validate_metadata_only(submission, code=ErrorCode.REPOSITORY_METADATA_ERROR)


def test_a_document_entry_with_another_logical_id_is_refused():
    registry_findings, repository_findings = validate_both_ways(valid_submission(doc1=dict(logical_id=OTHER_LID)))

    assert summary(registry_findings) == [(ErrorCode.REGISTRY_METADATA_ERROR, DOC1_ID)]
    assert summary(repository_findings) == [(ErrorCode.REPOSITORY_METADATA_ERROR, DOC1_ID)]
    assert registry_findings[0].message == (
        f"DocumentEntry Document01: logicalID '{OTHER_LID}' differs from the entryUUID 'Document01'; in Register "
        "Document Set-b the logicalID is absent or equal to the entryUUID (ITI TF-3 §4.2.3.2.31), "
        "a new version is submitted with Update Document Set (ITI-57)"
    )


def test_a_folder_with_another_logical_id_is_refused():
    registry_findings, repository_findings = validate_both_ways(valid_submission(folder_=dict(logical_id="Folder02")))

    assert summary(registry_findings) == [(ErrorCode.REGISTRY_METADATA_ERROR, FOLDER_ID)]
    assert summary(repository_findings) == [(ErrorCode.REPOSITORY_METADATA_ERROR, FOLDER_ID)]
    assert "logicalID 'Folder02' differs from the entryUUID 'Folder01'" in registry_findings[0].message


def test_a_logical_id_equal_to_the_entry_uuid_is_accepted():
    new_doc = document_entry(NEW_DOC, 3, logical_id=NEW_DOC.upper().replace("URN:UUID:", "urn:uuid:"), version="1")
    submission = valid_submission(
        doc1=dict(logical_id=DOC1_ID, version="1"),
        folder_=dict(logical_id=FOLDER_ID),
        extra_documents=[new_doc],
        extra_associations=[has_member("HM-3", SS_ID, NEW_DOC, SubmissionSetStatus.ORIGINAL)],
    )

    assert validate_both_ways(submission) == ([], [])


@pytest.mark.parametrize("version", ["2", "1.1", ""])
def test_a_version_other_than_1_is_refused(version):
    registry_findings, repository_findings = validate_both_ways(valid_submission(doc2=dict(version=version)))

    assert summary(registry_findings) == [(ErrorCode.REGISTRY_METADATA_ERROR, "Document02")]
    assert summary(repository_findings) == [(ErrorCode.REPOSITORY_METADATA_ERROR, "Document02")]
    assert registry_findings[0].message == (
        f"DocumentEntry Document02: version '{version}' is not 1; Register Document Set-b submits first versions "
        "only (ITI TF-3 §4.2.3.2.32), a new version is submitted with Update Document Set (ITI-57)"
    )


def test_a_folder_version_other_than_1_is_refused():
    findings = validate(valid_submission(folder_=dict(version="3")))

    assert summary(findings) == [(ErrorCode.REGISTRY_METADATA_ERROR, FOLDER_ID)]
