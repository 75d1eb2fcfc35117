"""Rules against the registry's content: ids and uniqueIds already registered (ITI TF-2 §3.42.4.1.3)."""

from __future__ import annotations

from gateway.metadata import AvailabilityStatus, SubmissionSetStatus
from gateway.validation import ErrorCode, PatientPolicy, validate_register

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
